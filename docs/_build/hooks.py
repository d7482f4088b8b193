"""MkDocs hook: adds what the docs generate at build time (nothing generated is committed).

- ``ops-reference.md``: written from the op registry by ``ops_reference.py``;
- ``img/lecture/<demo>/...``: the pictures each lecture demo writes, made by running the demos
  (``demos/lecture/NN_*.py``, ``main(["--out", folder])``) into ``output/docs-build/``;
- ``img/<folder>/...`` for the other demos listed in ``PAGE_DEMOS`` (the rendering guide's pictures
  come from ``demos/render_graphs.py``), run the same way;
- ``img/graph/...``: the renderings on "How the graph and backward work" (``figures.py``);
- ``demos/lecture/*.py``: copies of the demo scripts, so each lecture page links its source.

A demo or figure that fails fails the build, so a page never shows a stale or missing picture.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from demo_scripts import load_script
from explorers import add_explorers
from figures import graph_figures
from mkdocs.structure.files import File, Files
from ops_reference import ops_reference

REPO = Path(__file__).resolve().parents[2]
DEMOS = REPO / "demos" / "lecture"
BUILD = REPO / "output" / "docs-build"
PICTURE_SUFFIXES = {".svg", ".png"}

# Pages other engineers own; until they are written the site shows a short placeholder.
PAGES_OWNED_ELSEWHERE = {
    "rendering.md": "# Rendering graphs\n\nThis page is being written.\n",
    "training.md": "# Training and checkpoints\n\nThis page is being written.\n",
}


# Other demos whose pictures pages show: image folder under img/ -> (script, extra arguments).
# Each script has a main(argv) taking --out FOLDER and writes its pictures (SVG/PNG) there; it
# runs only when some page shows a picture from img/<folder>/.
PAGE_DEMOS: dict[str, tuple[Path, list[str]]] = {
    "rendering": (REPO / "demos" / "render_graphs.py", []),
    "training": (REPO / "demos" / "train_cnn.py", ["--epochs", "10"]),
}


def lecture_demos() -> list[Path]:
    """The lecture demo scripts, in lecture order."""
    return sorted(p for p in DEMOS.glob("[0-9][0-9]_*.py"))


def load_demo(path: Path) -> ModuleType:
    """Import a lecture demo script as a module (its name starts with a digit, so not by ``import``)."""
    return load_script(path, f"lecture_demo_{path.stem}")


def run_demo(path: Path, out: Path, extra: list[str] | None = None) -> list[Path]:
    """Run a demo's ``main(["--out", out, *extra])`` and return the pictures it wrote there."""
    shutil.rmtree(out, ignore_errors=True)
    print(f"[docs] running {path.relative_to(REPO)}", file=sys.stderr)
    load_demo(path).main(["--out", str(out), *(extra or [])])
    return [p for p in sorted(out.rglob("*")) if p.suffix in PICTURE_SUFFIXES]


def shown_on_pages(docs_dir: Path, folder: str) -> bool:
    """Whether any page under ``docs_dir`` shows a picture from ``img/<folder>/``."""
    return any(f"img/{folder}/" in page.read_text(encoding="utf-8") for page in docs_dir.rglob("*.md"))


def picture_files(config: Any) -> list[File]:
    """Make all pictures under ``output/docs-build/img`` and return them as site files."""
    img = BUILD / "img"
    shutil.rmtree(img, ignore_errors=True)
    pictures = graph_figures(img / "graph")
    for path in lecture_demos():
        pictures += run_demo(path, img / "lecture" / path.stem)
    for folder, (path, extra) in PAGE_DEMOS.items():
        if shown_on_pages(Path(config["docs_dir"]), folder):
            pictures += run_demo(path, img / folder, extra)
    return [File.generated(config, p.relative_to(BUILD).as_posix(), abs_src_path=str(p)) for p in pictures]


def on_files(files: Files, config: Any) -> Files:
    files.append(File.generated(config, "ops-reference.md", content=ops_reference()))
    for page, placeholder in PAGES_OWNED_ELSEWHERE.items():
        if files.get_file_from_path(page) is None:
            files.append(File.generated(config, page, content=placeholder))
    for path in lecture_demos():
        files.append(File.generated(config, f"demos/lecture/{path.name}", abs_src_path=str(path)))
    for picture in picture_files(config):
        files.append(picture)
    add_explorers(files, config)
    return files
