"""The README's one committed picture must show what the code renders today."""

from __future__ import annotations

import importlib.util
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SVG = "{http://www.w3.org/2000/svg}"


def _texts(svg: bytes) -> list[str]:
    return [t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}text")]


def test_readme_figure_is_up_to_date():
    spec = importlib.util.spec_from_file_location("readme_figure", ROOT / "docs/_build/readme_figure.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fresh = _texts(module.readme_graph().pipe(format="svg"))
    committed = _texts(module.FIGURE.read_bytes())
    assert "w1" in fresh and any("∂" in t for t in fresh)
    assert committed == fresh, "docs/img/three-blocks.svg is stale: run python docs/_build/readme_figure.py"
    assert "docs/img/three-blocks.svg" in (ROOT / "README.md").read_text()


def test_readme_figure_names_the_nodes_as_the_text_and_writes_the_chain_with_numbers():
    texts = _texts((ROOT / "docs/img/three-blocks.svg").read_bytes())
    titles = {t.split(" ")[0] for t in texts}
    assert {"o1", "o2", "o3", "w1", "w2", "x"} <= titles
    assert not any(t.startswith(("mul", "tanh")) for t in texts)  # no mul#2 / tanh#1
    assert "∂o3/∂w1 = ∂o3/∂o2 · ∂o2/∂o1 · ∂o1/∂w1 = (−2) · 0.5966 · 0.5 = −0.5966" in texts
    readme = (ROOT / "README.md").read_text()
    assert 'o1.name, o2.name, o3.name = "o1", "o2", "o3"' in readme
