"""tg.render tells when a picture can mislead, shows numbers honestly and never hangs (real SVG, parsed)."""

from __future__ import annotations

import sys
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.errors import TinygraphWarning
from tinygraph.render.graph import GraphTooLargeError, RenderWarning
from tinygraph.view import labels

SVG = "{http://www.w3.org/2000/svg}"


def svg_texts(rendering) -> dict:
    """Caption lines and each node's text lines (by DOT id) of the SVG dot makes."""
    root = ET.fromstring(rendering.pipe(format="svg"))
    graph = root.find(f"{SVG}g")
    nodes, edges = {}, []
    for g in graph.iter(f"{SVG}g"):
        classes = g.get("class", "").split()
        texts = [t.text or "" for t in g.iter(f"{SVG}text")]
        if "node" in classes:
            nodes[g.findtext(f"{SVG}title")] = texts
        elif "edge" in classes:
            edges.append(texts)
    caption = [t.text or "" for t in graph.findall(f"{SVG}text")]
    return {"caption": caption, "nodes": nodes, "edges": edges}


def quiet_render(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RenderWarning)  # none expected
        return tg.render(*args, **kwargs)


def line_model():
    w = tg.tensor([1.0, -2.0], dtype=np.float64, requires_grad=True, name="w")
    x = tg.tensor([3.0, 0.5], dtype=np.float64, name="x")
    return w, (w * x).sum()


# ---- honest about its state ------------------------------------------------------------------


def test_warning_class_is_a_user_warning():
    assert issubclass(RenderWarning, TinygraphWarning) and issubclass(TinygraphWarning, UserWarning)


def test_backward_view_before_backward_says_grad_is_still_none():
    _w, loss = line_model()
    with pytest.warns(RenderWarning, match=r"drawn before backward\(\): \.grad of w is still None"):
        picture = tg.render(loss, backward=True)
    assert any(line.startswith("⚠ drawn before backward()") for line in svg_texts(picture)["caption"])
    loss.backward()
    assert not any("⚠" in line for line in svg_texts(quiet_render(loss, backward=True))["caption"])


def test_accumulated_grad_is_noted_with_the_number_of_passes():
    w, loss = line_model()
    loss.backward()
    loss2 = (w * tg.tensor([3.0, 0.5], dtype=np.float64)).sum()
    loss2.backward()  # no zero_grad(): w.grad is twice this graph's gradient
    with pytest.warns(RenderWarning, match=r"w\.grad differs .* \(exactly 2 times it: 2 backward passes\)"):
        picture = tg.render(loss2, backward=True)
    caption = svg_texts(picture)["caption"]
    assert any(line.startswith("⚠ w.grad differs") and "zero_grad()" in line for line in caption)
    w.grad = None
    loss2.backward()
    quiet_render(loss2, backward=True)


def test_parameter_with_no_gradient_path_is_noted():
    _w, loss = line_model()
    gate = tg.tensor(0.5, dtype=np.float64, requires_grad=True, name="gate")
    out = loss * (gate > 0.0)  # a comparison: no gradient reaches gate
    out.backward()
    with pytest.warns(RenderWarning, match="gate has no path to the output"):
        picture = tg.render(out, backward=True)
    assert any("⚠ gate has no path" in line for line in svg_texts(picture)["caption"])
    with pytest.warns(RenderWarning, match="gate has no path"):
        tg.render(out)  # the forward view says so too


# ---- numbers ---------------------------------------------------------------------------------


def test_no_minus_zero_and_no_rounding_noise_shown_as_a_value():
    assert labels.number(-0.0) == "0" and labels.number(np.float32(-0.0)) == "0"
    assert labels.full_values(np.array([-0.0, 1.0])) == "[0, 1]"
    assert labels.full_values(np.array([1.0, -2.2e-17])) == "[1, 0]"
    noisy = np.tile(np.array([0.25, -0.25], dtype=np.float32), 500)
    noisy[0] += np.float32(1e-8)  # the mean is 1e-11: zero up to float32 rounding
    assert labels.summary(noisy).endswith("mean 0")
    assert labels.summary(np.array([1e-3, 2e-3])).endswith("mean 0.0015")  # small is not noise


def test_softmax_gradient_mean_is_not_drawn_as_noise():
    logits = tg.tensor(np.random.default_rng(0).normal(size=(8, 10)).astype(np.float32), requires_grad=True)
    loss = tg.functional.cross_entropy(logits, np.arange(8))
    loss.backward()
    texts = svg_texts(quiet_render(loss, backward=True))
    grads = [t for lines in texts["nodes"].values() for t in lines if t.startswith(".grad")]
    assert grads and all(t.endswith("mean 0") for t in grads), grads  # rows of p - onehot sum to 0


def test_length_one_axes_do_not_make_a_column_per_value():
    x = tg.tensor(np.arange(16.0), dtype=np.float64, requires_grad=True, name="x")
    y = x.reshape(16, 1, 1)
    lines = svg_texts(quiet_render(y))["nodes"]
    reshape = next(texts for texts in lines.values() if texts[0] == "reshape")
    assert "(16, 1, 1) float64" in reshape
    values = [t for t in reshape if t.startswith("[") or t[:1].isdigit()]
    assert len(values) <= 3 and values[0].startswith("[0, 1, 2")


def test_attributes_are_written_in_full():
    x = tg.tensor(np.ones((1, 1, 2, 2)), dtype=np.float64, requires_grad=True, name="x")
    y = tg.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))) if hasattr(tg, "pad") else None
    if y is None:
        pytest.skip("no tg.pad")
    texts = [t for lines in svg_texts(quiet_render(y))["nodes"].values() for t in lines]
    assert any("pad_width=((0, 0), (0, 0), (1, 1), (1, 1))" in t for t in texts), texts
    assert not any("…" in t for t in texts)


def test_an_edge_does_not_repeat_the_vector_on_its_box():
    w = tg.tensor(np.arange(6.0), dtype=np.float64, requires_grad=True, name="w")
    loss = (tg.tanh(w) * 2.0).sum()
    loss.backward()
    texts = svg_texts(quiet_render(loss, backward=True))
    tanh_box = next(t for t in texts["nodes"].values() if t[0] == "tanh")
    assert any(t.startswith("grad [") for t in tanh_box)  # the 6 gradients on the box ...
    out_of_w = [e for e in texts["edges"] if e and "its grad" in e[0]]
    assert out_of_w and all(e == ["◀ (6,): its grad, as on the box"] for e in out_of_w)  # ... not again


# ---- highlight with numbers ------------------------------------------------------------------


def test_highlight_writes_each_path_and_the_sum_with_numbers():
    w = tg.tensor(3.0, dtype=np.float64, requires_grad=True, name="w")
    a = w * 2.0
    b = w * w
    a.name, b.name = "a", "b"
    loss = a + b
    loss.name = "L"
    loss.backward()
    caption = svg_texts(quiet_render(loss, backward=True, highlight=w))["caption"]
    assert "∂L/∂w = ∂L/∂a · ∂a/∂w = 1 · 2 = 2" in caption
    assert "∂L/∂w = ∂L/∂b · ∂b/∂w = 1 · 6 = 6" in caption
    assert "∂L/∂w = 2 + 6 = 8" in caption and w.grad.item() == 8.0


# ---- never hangs -----------------------------------------------------------------------------


def test_too_many_boxes_raise_a_clear_error_before_dot_runs():
    w = tg.tensor(0.5, requires_grad=True, name="w")
    y = w
    for _ in range(1500):
        y = tg.tanh(y) * 1.0
    with pytest.raises(GraphTooLargeError) as info:
        tg.render(y)
    message = str(info.value)
    # w, the one shared constant 1.0 (registry.constant) and 3,000 ops
    for part in ("3,002 boxes", "max_nodes=2,000", "expand=False", "tg.explore", "max_nodes=3002"):
        assert part in message
    assert isinstance(info.value, ValueError)
    assert "n3001" in tg.render(y, max_nodes=3002).source


def test_very_long_names_are_shortened_in_labels_and_whole_in_the_tooltip():
    name = "layer." * 5000  # 30,000 characters: beyond dot's 16,384-character limit for a string
    w = tg.tensor(1.0, requires_grad=True, name=name)
    picture = quiet_render(tg.tanh(w))
    assert max(len(line) for line in picture.source.splitlines()) < 16_384
    root = ET.fromstring(picture.pipe(format="svg"))  # dot accepts it
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert labels.short_name(name) in texts and len(labels.short_name(name)) == labels.MAX_NAME
    tips = [a.get("{http://www.w3.org/1999/xlink}title") for a in root.iter(f"{SVG}a")]
    assert any(t and t.startswith("layer.layer.") and len(t) == 1000 for t in tips)


def test_render_with_a_picture_suffix_writes_that_file(tmp_path):
    _, loss = line_model()
    picture = quiet_render(loss)
    written = picture.render(str(tmp_path / "x.png"))
    assert written == str(tmp_path / "x.png")
    assert (tmp_path / "x.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (tmp_path / "x.png.pdf").exists() and not (tmp_path / "x").exists()
    picture.render(tmp_path / "y.svg")
    assert (tmp_path / "y.svg").read_text().lstrip().startswith("<?xml")


def test_the_svg_names_the_font_graphviz_measured_with():
    _, loss = line_model()
    svg = quiet_render(loss).pipe(format="svg").decode()
    families = {f for f in ET.fromstring(svg).iter() for f in [f.get("font-family")] if f}
    assert families == {"DejaVu Sans"}


def test_many_leaves_wrap_into_rows_instead_of_one_wide_row(monkeypatch):
    graph_module = sys.modules[GraphTooLargeError.__module__]  # tg.render is the function

    xs = [tg.tensor(float(k), dtype=np.float64, name=f"x{k}") for k in range(30)]
    w = tg.tensor(1.0, dtype=np.float64, requires_grad=True, name="w")
    total = (tg.stack(xs) * w).sum()  # 30 inputs into one op

    def size(picture):
        root = ET.fromstring(picture.pipe(format="svg"))
        rows = set()
        for g in root.iter(f"{SVG}g"):
            first = g.find(f"{SVG}text")
            if "node" in g.get("class", "").split() and first is not None and first.text.startswith("x"):
                rows.add(round(float(first.get("y"))))
        return float(root.get("width").removesuffix("pt")), len(rows)

    wrapped_width, wrapped_rows = size(quiet_render(total))
    monkeypatch.setattr(graph_module, "LEAVES_PER_ROW", 1000)
    flat_width, flat_rows = size(quiet_render(total))
    assert flat_rows == 1 and wrapped_rows == 4  # 31 leaves: 4 staggered rows
    assert wrapped_width < 0.75 * flat_width
