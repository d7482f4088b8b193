"""Smoke tests of the lecture demos (demos/lecture/NN_*.py): each runs into a temporary folder,
writes its pictures there, and what it claims holds — checked here against independent
computations (numpy, hand-derived formulas), not just against the demo's own printout.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

import tinygraph as tg

DEMOS = Path(__file__).resolve().parents[1] / "demos" / "lecture"
DOCS = Path(__file__).resolve().parents[1] / "docs"
EXPECTED_DEMOS = [
    "01_convolution_vs_correlation",
    "02_sparse_interactions",
    "03_parameter_sharing",
    "04_equivariance",
    "05_pooling_invariance",
    "06_any_input_size",
    "07_softmax_cross_entropy",
    "08_modular_backprop",
    "09_maxout",
]


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"lecture_demo_{name}", DEMOS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pictures_in_docs(name: str) -> set[str]:
    """File names of the pictures of demo ``name`` that the docs pages show."""
    pattern = re.compile(rf"img/lecture/{name}/([^)\s]+)\)")
    return {m for page in DOCS.rglob("*.md") for m in pattern.findall(page.read_text(encoding="utf-8"))}


SVG = "{http://www.w3.org/2000/svg}"


def svg_boxes(path: Path) -> dict[str, tuple[float, float, float, float]]:
    """Each drawn box's first text line -> its bounding box (x0, y0, x1, y1) in the SVG."""
    boxes = {}
    for g in ET.parse(path).getroot().iter(f"{SVG}g"):
        if "node" not in g.get("class", "").split():
            continue
        texts = [t.text for t in g.iter(f"{SVG}text")]
        points = [
            tuple(map(float, p.split(",")))
            for poly in g.iter(f"{SVG}polygon")
            for p in poly.get("points").split()
        ]
        if texts and points:
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            boxes[texts[0]] = (min(xs), min(ys), max(xs), max(ys))
    return boxes


def svg_caption(path: Path) -> list[str]:
    return [t.text or "" for t in ET.parse(path).getroot().find(f"{SVG}g").findall(f"{SVG}text")]


def run(name: str, out: Path, *extra: str) -> dict[str, Any]:
    """Run a demo's main() into ``out``; check the pictures it reports and those the docs show."""
    result = load(name).main(["--out", str(out), *extra])
    pictures = result["pictures"] if "pictures" in result else result["chain"]["pictures"]
    assert pictures, f"{name} wrote no pictures"
    for path in pictures:
        assert path.parent == out and path.stat().st_size > 0
        head = path.read_bytes()[:512]
        assert (b"<svg" in head) if path.suffix == ".svg" else head.startswith(b"\x89PNG")
    shown = pictures_in_docs(name)
    assert shown, f"no docs page shows a picture of {name}"
    assert shown <= {p.name for p in pictures}, f"docs show pictures {name} does not write"
    return result


def test_every_concept_has_a_demo():
    found = sorted(p.stem for p in DEMOS.glob("[0-9][0-9]_*.py"))
    assert found == EXPECTED_DEMOS


def test_demos_write_into_the_ignored_output_folder_by_default():
    sys.path.insert(0, str(DEMOS))
    try:
        import _lecture
    finally:
        sys.path.remove(str(DEMOS))
    default = _lecture.default_out(str(DEMOS / "04_equivariance.py"))
    assert default == DEMOS.parents[1] / "output" / "lecture" / "04_equivariance"
    gitignore = (DEMOS.parents[1] / ".gitignore").read_text().splitlines()
    assert "output/" in gitignore


def test_01_convolution_vs_correlation(tmp_path):
    result = run("01_convolution_vs_correlation", tmp_path)
    signal = load("01_convolution_vs_correlation").SIGNAL
    for r in result["1d"].values():
        assert np.allclose(r["correlation"], np.correlate(signal, r["kernel"], "valid"))
        assert np.allclose(r["convolution"], np.convolve(signal, r["kernel"], "valid"))
    symmetric, asymmetric = result["1d"].values()
    assert symmetric["identical"] and np.allclose(symmetric["correlation"], symmetric["convolution"])
    assert not asymmetric["identical"] and not np.allclose(
        asymmetric["correlation"], asymmetric["convolution"]
    )
    two_d = result["2d"]
    assert np.allclose(two_d["convolution"], two_d["flipped_correlation"])
    assert not np.allclose(two_d["convolution"], two_d["correlation"])


def test_02_sparse_interactions(tmp_path):
    result = run("02_sparse_interactions", tmp_path)
    names = "abcdefghijklmnop"
    for i in range(3):
        for j in range(3):
            window = sorted(names[r * 4 + c] for r in (i, i + 1) for c in (j, j + 1))
            assert result["inputs_per_output"][f"s{i}{j}"] == window
    assert result["values_ok"]
    assert result["dense_inputs_per_output"] == [16] * 9
    assert (result["sparse_mults"], result["dense_mults"]) == (9 * 4, 16 * 9)
    # The rendered (collapsed) graph: each output unit is one box fed by 4 pixels and 4 weights.
    graph = tg.to_networkx(*result["outputs"], expand=False)
    boxes = [n for n, d in graph.nodes(data=True) if d["kind"] == "composite"]
    assert len(boxes) == 9
    for box in boxes:
        kinds = sorted(graph.nodes[p]["kind"] for p in graph.predecessors(box))
        assert kinds == ["input"] * 4 + ["parameter"] * 4
    # The picture: the 16 pixels as a 4×4 grid (row by row, a b c d / e f g h / ...), each output
    # unit s_ij in the middle of the 2×2 window it reads.
    boxes = svg_boxes(tmp_path / "sparse_interactions.svg")
    centre = {k: ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) for k, b in boxes.items()}
    xs = sorted({round(centre[c][0]) for c in names})
    ys = sorted({round(centre[c][1]) for c in names})
    assert len(xs) == len(ys) == 4
    for k, c in enumerate(names):
        assert (round(centre[c][0]), round(centre[c][1])) == (xs[k % 4], ys[k // 4]), c
    for i in range(3):
        for j in range(3):
            x, y = centre[f"s{i}{j}"]
            assert xs[j] < x < xs[j + 1] and ys[i] < y < ys[i + 1], (i, j)
    counts = result["counts"]
    assert counts["small_linear"] == {n: n * n + n for n in (100, 400, 900)}
    assert counts["fully_connected"] == 40_000 * 40_000 + 40_000
    assert counts["locally_connected_units"] == 201 * 201
    assert counts["locally_connected_weights"] == 201 * 201 * 100
    assert counts["locally_connected"] == 201 * 201 * 101
    assert counts["convolutional"] == 101 and counts["convolutional_100"] == 100 * 101
    assert result["costs"] == {"dense_cost": 40_000 * 40_000, "sparse_cost": 40_000 * 100}


def test_03_parameter_sharing(tmp_path):
    result = run("03_parameter_sharing", tmp_path)
    assert result["uses"] == {"w": 9, "x": 9, "y": 9, "z": 9}
    image = result["image"]
    # ∂(Σ s)/∂kernel[m, n] = Σ_ij image[i+m, j+n], computed here from the definition.
    expected = np.zeros((2, 2))
    for i in range(3):
        for j in range(3):
            expected += image[i : i + 2, j : j + 2]
    assert np.allclose(result["grads"], expected)
    assert (result["local_parameters"], result["conv_parameters"]) == (36, 4)
    svg = (tmp_path / "parameter_sharing.svg").read_text()
    assert all(f"s{i}{j}" in svg for i in range(3) for j in range(3))
    # A loss L = Σ s, so that ∂L/∂w is the sum over the 9 windows: printed and on the picture
    # with its numbers (the pixel under w in each window: a b c / e f g / i j k).
    total = "1 + 2 + 3 + 5 + 6 + 7 + 9 + 10 + 11 = 54"
    assert result["sum_text"].endswith("= a + b + c + e + f + g + i + j + k = " + total)
    for picture in ("parameter_sharing.svg", "parameter_sharing_gradients.svg"):
        caption = svg_caption(tmp_path / picture)
        assert "9 paths: the gradient is the sum of their products" in caption
        assert "∂L/∂w = ∂L/∂s00 · ∂s00/∂w = 1 · 1 = 1" in caption
        assert f"∂L/∂w = {total}" in caption
        assert not any(re.match(r"(∂\S+) = \1$", line) for line in caption)  # no "∂s/∂w = ∂s/∂w"
    root = ET.parse(tmp_path / "parameter_sharing_gradients.svg").getroot()
    drawn = [g.find(f"{SVG}text").text for g in root.iter(f"{SVG}g") if "node" in g.get("class", "").split()]
    assert sorted(drawn) == sorted(
        [*"abcdefghijklmnop", *"wxyz", *(f"s{i}{j}" for i in range(3) for j in range(3)), "L"]
    )


def test_04_equivariance(tmp_path):
    result = run("04_equivariance", tmp_path)
    assert result["conv_error"] < 1e-12
    assert np.abs(result["shifted_conv"]).max() > 1  # not trivially zero
    assert result["local_error"] > 0.1  # unshared weights: not equivariant


def test_05_pooling_invariance(tmp_path):
    result = run("05_pooling_invariance", tmp_path)
    row = result["row"]
    assert row["inputs_changed"] == len(row["row"]) == 8
    # Width-3, stride-1 max pooling of the row, computed by hand.
    by_hand = np.array([row["row"][i : i + 3].max() for i in range(6)])
    by_hand_shifted = np.array([row["shifted"][i : i + 3].max() for i in range(6)])
    assert np.allclose(row["pooled"], by_hand) and np.allclose(row["pooled_shifted"], by_hand_shifted)
    assert row["outputs_changed"] == np.count_nonzero(by_hand != by_hand_shifted) == 2
    grid = result["grid"]
    assert grid["fraction_inputs_changed"] == 1.0
    for stats in grid["pooled"].values():
        assert stats["fraction_changed"] < 0.75
        assert abs(stats["fraction_changed"] - stats["expected_fraction_changed"]) < 0.05


def test_06_any_input_size(tmp_path):
    result = run("06_any_input_size", tmp_path, "--epochs", "1")
    assert "64" in result["fc_error"] and "144" in result["fc_error"]
    for size, r in result["results"].items():
        assert r["pooled_shape"][1:] == (8, 4, 4), size
        assert r["output_shape"] == (359, 10)
        assert np.allclose(r["probabilities"].sum(axis=1), 1)
        assert r["accuracy"] > 0.5, (size, r["accuracy"])  # chance is 0.1
    # The three inputs are drawn at their real sizes: one input pixel takes the same width in each.
    widths = list(result["pixel_width"].values())
    assert max(widths) / min(widths) < 1.05, result["pixel_width"]


def test_07_softmax_cross_entropy(tmp_path):
    result = run("07_softmax_cross_entropy", tmp_path)
    scores = load("07_softmax_cross_entropy").SCORES
    q = np.exp(scores) / np.exp(scores).sum()
    assert np.allclose(result["q"], q) and np.allclose(result["q_shifted"], q)
    assert result["q_sharper"].max() > q.max() > (scores / scores.sum()).max()
    assert np.isclose(result["loss"], -np.log(q[0]))
    assert np.allclose(result["grad"][0], q - np.eye(len(q))[0])
    assert np.allclose(result["batch_grad"], result["batch_expected"])


def test_08_modular_backprop(tmp_path):
    result = run("08_modular_backprop", tmp_path)
    fc, relu, chain = result["fc"], result["relu"], result["chain"]
    X, W = fc["X"], fc["W"]
    for n, k in np.ndindex(2, 2):
        assert np.allclose(fc["dX"][n, k, n], W[:, k])  # ∂o/∂X = W
        assert np.allclose(fc["dW"][n, k, :, k], X[n])  # ∂o/∂W = X
        assert not fc["dX"][n, k, 1 - n].any() and not fc["dW"][n, k, :, 1 - k].any()
    assert fc["ok"]
    assert np.array_equal(relu["diagonal"], (relu["x"] > 0).astype(float)) and relu["ok"]
    # ∂o3/∂w1 for o3 = relu(x w1) w3, derived by hand: x[d] · 1[o1_k > 0] · w3[k].
    o1 = chain["x"] @ chain["w1"]
    by_hand = chain["x"][0][:, None] * ((o1[0] > 0) * chain["w3"][:, 0])[None, :]
    assert np.allclose(chain["product"], by_hand) and np.allclose(chain["w1_grad"], by_hand)
    assert chain["locals_ok"] and chain["ok"]
    highlighted = (tmp_path / "three_blocks_highlight_w1.svg").read_text()
    assert "w1" in highlighted and "o3" in highlighted


def test_09_maxout(tmp_path):
    result = run("09_maxout", tmp_path)
    per_filter = result["per_filter"]
    assert np.array_equal(per_filter.argmax(axis=1), [0, 1, 2])  # each filter fires for its own stroke
    assert (per_filter.max(axis=1) > 2 * np.sort(per_filter, axis=1)[:, -2]).all()
    assert np.allclose(result["per_maxout"], per_filter.max(axis=1))  # maxout fires for all three
    assert np.allclose(result["pooled"][:, 0], result["responses"].max(axis=1))
    assert result["pooled_shape"] == (3, 1, 7, 7)
