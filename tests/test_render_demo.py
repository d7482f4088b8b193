"""Smoke test: demos/render_graphs.py writes every rendering it promises, as valid SVG."""

from __future__ import annotations

import importlib.util
import xml.etree.ElementTree as ET
from pathlib import Path

DEMO = Path(__file__).resolve().parents[1] / "demos" / "render_graphs.py"


def test_render_graphs_demo_writes_its_pictures(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("render_graphs_demo", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.main(["--out", str(tmp_path)])
    names = sorted(p.name for p in written)
    expected = ["blocks_chain", "mlp_forward", "mlp_backward", "mlp_highlight"]
    expected += ["cnn_collapsed", "cnn_expanded"]
    assert names == sorted(f"{n}.svg" for n in expected)
    printed = capsys.readouterr().out
    for path in written:
        assert path.parent == tmp_path and str(path) in printed
        root = ET.parse(path).getroot()
        assert root.tag.endswith("svg")
    expanded = (tmp_path / "cnn_expanded.svg").read_text(encoding="utf-8")
    collapsed = (tmp_path / "cnn_collapsed.svg").read_text(encoding="utf-8")
    assert 'class="cluster' in expanded and 'class="cluster' not in collapsed
    chain = (tmp_path / "blocks_chain.svg").read_text(encoding="utf-8")
    assert "∂o3/∂w1 = ∂o3/∂o2 · ∂o2/∂o1 · ∂o1/∂w1" in chain
