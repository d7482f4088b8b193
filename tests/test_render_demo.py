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
    # The expanded view shows the gradients too, as the collapsed one does.
    for picture in ("cnn_expanded.svg", "cnn_collapsed.svg"):
        texts = [t.text or "" for t in ET.parse(tmp_path / picture).getroot().iter(f"{SVG}text")]
        assert any(t.startswith(".grad") for t in texts) and any(t.startswith("◀") for t in texts)


SVG = "{http://www.w3.org/2000/svg}"


def node_groups(path: Path) -> list[tuple[list[str], float]]:
    """Each drawn node's text lines and the y of its first line (down is larger)."""
    out = []
    for g in ET.parse(path).getroot().iter(f"{SVG}g"):
        if "node" in g.get("class", "").split():
            texts = list(g.iter(f"{SVG}text"))
            if texts:
                out.append(([t.text or "" for t in texts], float(texts[0].get("y"))))
    return out


def test_train_rnn_pictures_show_gradients_and_numbered_steps_in_order(tmp_path):
    import sys

    import tinygraph as tg

    sys.path.insert(0, str(DEMO.parent))
    import train_rnn

    tg.manual_seed(0)
    model = train_rnn.BitCounter(32, 5)
    collapsed, expanded = train_rnn.render_unrolled(model, tmp_path, 4)
    groups = node_groups(collapsed)
    params = [texts for texts, _ in groups if any(t.startswith(".grad") for t in texts)]
    assert len(params) == 6  # the RNN's 4 parameters and the head's 2 ...
    assert not any(".grad None" in t for texts in params for t in texts)  # ... after backward()
    steps = sorted((y, texts) for texts, y in groups if texts[0] == "rnn_cell")
    assert [texts[2] for _, texts in steps] == ["#1", "#2", "#3", "#4"]  # top to bottom, numbered
    # The inputs of the steps, x_t = bits[:, t], are numbered in time order too.
    inputs = {t[3]: t[2] for t, _ in groups if t[0] == "getitem" and t[3].startswith("index=(:, ")}
    assert inputs == {f"index=(:, {t})": f"#{t + 1}" for t in range(4)}
    root = ET.parse(expanded).getroot()
    clusters = []
    for g in root.iter(f"{SVG}g"):
        if "cluster" in g.get("class", "").split():
            texts = [t.text or "" for t in g.iter(f"{SVG}text")]
            clusters.append(
                (float(next(g.iter(f"{SVG}text")).get("y")), " ".join("".join(texts[:3]).split()))
            )
    assert [label for _, label in sorted(clusters)] == [f"rnn_cell #{k}" for k in range(1, 5)]
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert any(t.startswith(".grad") for t in texts) and any(t.startswith("◀") for t in texts)
