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
