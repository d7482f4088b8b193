"""The docs' code examples run, so none goes stale; the generated ops reference covers every op.

Every ```python block of each page in docs/ (and of README.md) is executed, in order, in one
namespace per page, from a temporary working directory (so files an example writes land there).
A block is skipped when the line before its fence is ``<!-- skip -->``, or is
``<!-- requires: onnx torch -->`` and one of those modules is not installed (optional extras);
blocks in other languages (```bash, ```text) are never run. A page's examples fail the test if
any block raises.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

import tinygraph as tg

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
SKIP_MARKER = "<!-- skip -->"
REQUIRES = re.compile(r"^<!-- requires: ([\w. ]+) -->$")
FENCE = re.compile(r"^```(\S*)\s*$")


def markdown_pages() -> list[Path]:
    """The pages whose examples are run: docs/**/*.md and README.md (when present)."""
    pages = sorted(DOCS.rglob("*.md"))
    readme = REPO / "README.md"
    return pages + ([readme] if readme.exists() else [])


def python_blocks(text: str) -> list[tuple[int, str]]:
    """The ```python blocks of a Markdown text as (line number, code), skipped ones left out."""
    blocks = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i].strip())
        if not match or not match.group(1):
            i += 1
            continue
        language, start = match.group(1), i
        i += 1
        body = []
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i])
            i += 1
        i += 1
        previous = next((line.strip() for line in reversed(lines[:start]) if line.strip()), "")
        if language == "python" and previous != SKIP_MARKER:
            blocks.append((start + 1, "\n".join(body) + "\n"))
    return blocks


def missing_requirements(text: str, line: int) -> list[str]:
    """The modules a ``<!-- requires: ... -->`` line before the block at ``line`` names that are missing."""
    lines = text.splitlines()[: line - 1]
    previous = next((x.strip() for x in reversed(lines) if x.strip()), "")
    match = REQUIRES.match(previous)
    names = match.group(1).split() if match else []
    return [name for name in names if importlib.util.find_spec(name) is None]


def test_requires_marker_names_only_missing_modules():
    text = "<!-- requires: numpy no_such_module_here -->\n```python\nx = 1\n```\n"
    assert missing_requirements(text, 2) == ["no_such_module_here"]
    assert missing_requirements("```python\nx = 1\n```\n", 1) == []


def test_python_blocks_finds_blocks_and_honours_skip_marker():
    text = "\n".join(
        [
            "```python",
            "a = 1",
            "```",
            "<!-- skip -->",
            "```python",
            "raise SystemExit",
            "```",
            "```text",
            "not code",
            "```",
            "```python",
            "b = a + 1",
            "```",
        ]
    )
    assert python_blocks(text) == [(1, "a = 1\n"), (11, "b = a + 1\n")]


def test_every_docs_page_has_examples_found():
    pages = {p.relative_to(REPO).as_posix() for p in markdown_pages()}
    assert "docs/graph-and-backward.md" in pages
    assert python_blocks((DOCS / "graph-and-backward.md").read_text(encoding="utf-8"))


@pytest.mark.parametrize("page", markdown_pages(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_page_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    text = page.read_text(encoding="utf-8")
    for line, code in python_blocks(text):
        if missing_requirements(text, line):
            continue  # an optional extra is missing; the blocks that build on this one say so too
        try:
            exec(compile(code, f"{page}:{line}", "exec"), namespace)
        except Exception as exc:
            pytest.fail(f"{page.relative_to(REPO)}, the block at line {line} raised {exc!r}")


def test_every_lecture_demo_has_a_page_linking_its_source():
    pages = "\n".join(p.read_text(encoding="utf-8") for p in (DOCS / "lecture").glob("*.md"))
    demos = sorted((REPO / "demos" / "lecture").glob("[0-9][0-9]_*.py"))
    assert len(demos) == 9
    for demo in demos:
        assert f"(../demos/lecture/{demo.name})" in pages, demo.name
        assert f"python demos/lecture/{demo.name}" in pages, demo.name


def load_ops_reference():
    spec = importlib.util.spec_from_file_location("ops_reference", DOCS / "_build" / "ops_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ops_reference_lists_every_registered_op_with_its_formula():
    page = load_ops_reference().ops_reference()
    for name, opdef in tg.REGISTRY.items():
        assert f"### `{name}`" in page, name
        if opdef.formula:
            assert opdef.formula.strip() in page, name
    assert page.count("\n### ") == len(tg.REGISTRY)


def test_ops_reference_shows_how_each_op_is_called():
    module = load_ops_reference()
    add = module.op_entry(tg.REGISTRY["add"])
    assert "`x + y`" in add and "∂z/∂x = 1" in add
    assert "`tg.exp`" in module.op_entry(tg.REGISTRY["exp"])
    assert "*composite* · called as `F.softmax`" in module.op_entry(tg.REGISTRY["softmax"])
    assert module.signature_of(tg.REGISTRY["sum"]) == "sum(x, axis=None, keepdims=False)"
    assert module.signature_of(tg.REGISTRY["concatenate"]).startswith("concatenate(xs: list")
