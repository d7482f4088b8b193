"""tg.render: real SVG made by graphviz's dot, parsed and checked."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import graphviz
import numpy as np
import pytest

import tinygraph as tg
import tinygraph.functional as F
from tinygraph._state import scope
from tinygraph.errors import BackwardError
from tinygraph.render import GraphvizNotFoundError, Rendering

SVG = "{http://www.w3.org/2000/svg}"


def parse(rendering: graphviz.Digraph) -> dict:
    """Render with dot to SVG and read back nodes, edges and clusters.

    Returns {"nodes": {title: (classes, text lines)}, "edges": [(src text, dst text, classes, label
    lines)], "clusters": [text lines], "label": graph caption lines}.
    """
    root = ET.fromstring(rendering.pipe(format="svg"))
    nodes, edges, clusters = {}, [], []
    graph = root.find(f"{SVG}g")
    for g in graph.iter(f"{SVG}g"):
        classes = set(g.get("class", "").split())
        title = g.findtext(f"{SVG}title")
        texts = [t.text or "" for t in g.iter(f"{SVG}text")]
        if "node" in classes:
            nodes[title] = (classes, texts)
        elif "edge" in classes:
            edges.append((title, classes, texts))
        elif "cluster" in classes:
            clusters.append(texts)
    caption = [t.text or "" for t in graph.findall(f"{SVG}text")]
    first_line = {title: texts[0] if texts else "" for title, (_, texts) in nodes.items()}
    named_edges = []
    for title, classes, texts in edges:
        src, dst = title.split("->")
        named_edges.append((first_line[src], first_line[dst], classes, texts))
    return {"nodes": nodes, "edges": named_edges, "clusters": clusters, "label": caption}


def by_first_line(parsed: dict) -> dict[str, tuple[set, list[str]]]:
    return {texts[0]: (classes, texts) for classes, texts in parsed["nodes"].values() if texts}


def chain_expression():
    """The lecture's three blocks: o1 = w1·x, o2 = tanh(o1), o3 = w2·o2."""
    x = tg.tensor(0.5, dtype=np.float64, name="x")
    w1 = tg.tensor(1.5, dtype=np.float64, requires_grad=True, name="w1")
    w2 = tg.tensor(-2.0, dtype=np.float64, requires_grad=True, name="w2")
    o1 = w1 * x
    o2 = tg.tanh(o1)
    o3 = w2 * o2
    o1.name, o2.name, o3.name = "o1", "o2", "o3"
    return x, w1, w2, o1, o2, o3


def test_forward_view_shows_kinds_names_values_and_root():
    _x, _w1, _w2, _o1, _o2, o3 = chain_expression()
    out = o3 - 2.0
    parsed = parse(tg.render(out))
    nodes = by_first_line(parsed)
    assert nodes["w1"][0] >= {"node", "parameter"} and "1.5" in nodes["w1"][1]
    assert nodes["x"][0] >= {"node", "input"} and "0.5" in nodes["x"][1]
    assert "constant" in nodes["2"][0]
    # Named op nodes show name = op and their value.
    assert "op" in nodes["o2"][0] and any("tanh" in t for t in nodes["o2"][1])
    assert f"{np.tanh(0.75):.4g}" in nodes["o2"][1]
    roots = [texts for classes, texts in parsed["nodes"].values() if "root" in classes]
    assert len(roots) == 1 and roots[0][0] == "sub"
    assert len(parsed["nodes"]) == 8 and len(parsed["edges"]) == 7
    assert parsed["clusters"] == []


def test_tiny_arrays_in_full_and_large_ones_summarized():
    small = tg.tensor([[1.0, 2.0], [3.0, 4.0]], name="small")
    big = tg.tensor(np.arange(100.0).reshape(10, 10), name="big")
    nodes = by_first_line(parse(tg.render(small.sum() + big.sum())))
    assert "(2, 2) float32" in nodes["small"][1]
    assert nodes["small"][1][2:] == ["[[1, 2],", " [3, 4]]"]
    big_text = " ".join(nodes["big"][1])
    assert "(10, 10) float64" in big_text and "[0, 99] mean 49.5" in big_text
    assert not any("49." in t and "[[" in t for t in nodes["big"][1])


def test_argument_index_on_edges_only_where_order_matters():
    a = tg.tensor(1.0, name="a")
    b = tg.tensor(2.0, name="b")
    parsed = parse(tg.render(a - b, a + b, a / b))
    labels = {(s, d): texts for s, d, _, texts in parsed["edges"]}
    assert labels[("a", "sub")] == ["0"] and labels[("b", "sub")] == ["1"]
    assert labels[("a", "div")] == ["0"] and labels[("b", "div")] == ["1"]
    assert labels[("a", "add")] == [] and labels[("b", "add")] == []


def nested_composite_graph():
    """inner composite calls nested in an outer one, plus a parameter used inside."""
    w = tg.tensor([0.5, -1.0, 2.0], requires_grad=True, name="w")
    x = tg.tensor([1.0, 2.0, 3.0], name="x")
    with scope("outer"):
        with scope("inner"):
            h = tg.tanh(x * w)
        with scope("inner"):
            h = tg.exp(h * 0.5)
        y = h.sum()
    return w, (y * 3.0)


def test_collapsed_composite_is_one_box_and_expanded_is_nested_clusters():
    _, loss = nested_composite_graph()
    collapsed = parse(tg.render(loss))
    assert collapsed["clusters"] == []
    boxes = [texts for classes, texts in collapsed["nodes"].values() if "composite" in classes]
    assert len(boxes) == 1 and boxes[0][0] == "outer"
    assert "scalar float32" in boxes[0]
    ops = {texts[0] for classes, texts in collapsed["nodes"].values() if "op" in classes}
    assert ops == {"mul"}

    expanded = parse(tg.render(loss, expand=True))
    assert sorted(c[0] for c in expanded["clusters"]) == ["inner", "inner", "outer"]
    assert not any("composite" in classes for classes, _ in expanded["nodes"].values())
    assert {texts[0] for classes, texts in expanded["nodes"].values() if "op" in classes} == {
        "mul",
        "tanh",
        "exp",
        "sum",
    }
    source = tg.render(loss, expand=True).source
    outer_at = source.index("<B>outer</B>")
    assert source.index("<B>inner</B>") > outer_at  # inner clusters are declared inside outer's

    one_level = parse(tg.render(loss, expand=1))
    assert [c[0] for c in one_level["clusters"]] == ["outer"]
    inner_boxes = [t[0] for c, t in one_level["nodes"].values() if "composite" in c]
    assert inner_boxes == ["inner", "inner"]

    by_name = parse(tg.render(loss, expand={"outer"}))
    assert [c[0] for c in by_name["clusters"]] == ["outer"]


def small_cnn_loss():
    tg.manual_seed(1)
    image = tg.randn(2, 1, 6, 6, name="images")
    kernel = tg.tensor(tg.randn(3, 1, 3, 3).data, requires_grad=True, name="conv.weight")
    fc = tg.tensor(tg.randn(3 * 2 * 2, 4).data * 0.1, requires_grad=True, name="fc.weight")
    h = F.max_pool2d(tg.relu(F.conv2d(image, kernel)), 2)
    logits = h.reshape(2, -1) @ fc
    return kernel, F.cross_entropy(logits, np.array([0, 3]))


def test_real_composites_collapse_and_open_by_name():
    _kernel, loss = small_cnn_loss()
    collapsed = parse(tg.render(loss))
    boxes = sorted(t[0] for c, t in collapsed["nodes"].values() if "composite" in c)
    assert boxes == ["conv2d", "cross_entropy", "max_pool2d"]
    assert collapsed["clusters"] == []
    conv_box = next(t for c, t in collapsed["nodes"].values() if t[0] == "conv2d")
    assert "(2, 3, 4, 4) float32" in conv_box

    only_conv = parse(tg.render(loss, expand={"conv2d"}))
    assert [c[0] for c in only_conv["clusters"]] == ["conv2d"]
    assert sorted(t[0] for c, t in only_conv["nodes"].values() if "composite" in c) == [
        "cross_entropy",
        "max_pool2d",
    ]
    everything = parse(tg.render(loss, expand=True))
    names = sorted(c[0] for c in everything["clusters"])
    assert "conv2d" in names and "cross_entropy" in names and "max_pool2d" in names


def test_an_opened_fused_call_is_drawn_as_its_definition_without_changing_the_graph():
    kernel, loss = small_cnn_loss()
    recorded = [(n.op, n.scope_path) for n in tg.toposort([loss], only_requires_grad=False)]
    assert ("softmax_cross_entropy", "cross_entropy") in recorded
    loss.backward()

    collapsed = parse(tg.render(loss))
    ce_box = next(t for c, t in collapsed["nodes"].values() if t[0] == "cross_entropy")
    # The one fused node is named with its definition, not as "1 node inside".
    assert "one fused op: softmax_cross_entropy" in ce_box and "scalar float32" in ce_box
    assert "ℓ_n = logsumexp(x_n) - x[n, t_n]" in ce_box
    assert not any("inside" in line for line in ce_box)

    opened = parse(tg.render(loss, expand={"cross_entropy"}, backward=True, highlight=kernel))
    assert sorted(c[0] for c in opened["clusters"]) == ["cross_entropy"]
    inner = sorted(t[0] for c, t in opened["nodes"].values() if "composite" in c)
    assert inner == ["conv2d", "log_softmax", "max_pool2d", "nll_loss"]
    text = " ".join(" ".join(t) for _, t in opened["nodes"].values())
    assert "softmax_cross_entropy" not in text

    everything = parse(tg.render(loss, expand=True))
    assert {"cross_entropy", "log_softmax", "logsumexp", "nll_loss"} <= {c[0] for c in everything["clusters"]}
    assert [(n.op, n.scope_path) for n in tg.toposort([loss], only_requires_grad=False)] == recorded


def test_an_opened_linear_layer_shows_its_matmul_transpose_and_add():
    from tinygraph import nn

    layer = nn.Linear(3, 2)
    loss = layer(tg.randn(4, 3)).sum()
    collapsed = parse(tg.render(loss))
    assert [t[0] for c, t in collapsed["nodes"].values() if "composite" in c] == ["linear"]
    opened = parse(tg.render(loss, expand=True))
    assert [c[0] for c in opened["clusters"]] == ["linear"]
    ops = {t[0] for c, t in opened["nodes"].values() if "op" in c}
    assert {"transpose", "matmul", "add"} <= ops and "affine" not in ops
    names = {t[0] for c, t in opened["nodes"].values() if "parameter" in c}
    assert names == {"weight", "bias"}


def test_opened_fused_call_carries_the_same_values_and_gradients():
    from tinygraph.view.model import open_fused

    kernel, loss = small_cnn_loss()
    loss.backward()
    (opened,), replaced = open_fused([loss], True, "test")
    assert opened is not loss and replaced[id(loss)] is opened
    assert opened.scope_path == "cross_entropy > nll_loss"
    np.testing.assert_allclose(opened.data, loss.data, rtol=1e-6)
    trace = tg.trace_backward([opened])
    np.testing.assert_allclose(trace["nodes"][id(kernel)], kernel.grad, rtol=1e-5, atol=1e-7)
    (conv_opened,), _ = open_fused([loss], {"conv2d"}, "test")  # only the conv2d call opens
    ops = {n.op for n in tg.toposort([conv_opened], only_requires_grad=False)}
    assert conv_opened.op == "softmax_cross_entropy" and "conv2d_gemm" not in ops
    assert {"sliding_window", "matmul"} <= ops
    assert open_fused([loss], {"linear"}, "test") == ([loss], {})  # no linear call: nothing opens


def test_backward_view_labels_edges_with_traced_gradients_and_leaves_with_grad():
    _x, w1, w2, _o1, _o2, o3 = chain_expression()
    o3.backward()
    before = (w1.grad.copy(), w2.grad.copy())
    parsed = parse(tg.render(o3, backward=True))
    assert (w1.grad, w2.grad) == before  # the backward view does not touch .grad
    edges = {(s, d): texts for s, d, _, texts in parsed["edges"]}
    assert edges[("w1", "o1")] == [f"◀ {w1.grad.item():.4g}"]
    assert edges[("o2", "o3")] == [f"◀ {w2.item():.4g}"]
    assert edges[("x", "o1")] == []  # no gradient flows to an input
    classes = {s: c for s, d, c, _ in parsed["edges"]}
    assert "gradient" in classes["w1"] and "gradient" not in classes["x"]
    nodes = by_first_line(parsed)
    assert f".grad {w1.grad.item():.4g}" in nodes["w1"][1]
    assert f"grad {w2.item():.4g}" in nodes["o2"][1]  # ∂o3/∂o2 = w2


def test_backward_view_sums_gradients_into_a_collapsed_box():
    w, loss = nested_composite_graph()
    loss.backward()
    parsed = parse(tg.render(loss, backward=True))
    nodes = by_first_line(parsed)
    box = next(texts for first, (_, texts) in nodes.items() if first == "w")
    shown = np.array([float(v) for v in box[-1].split(".grad ")[1].strip("[]").split(",")])
    np.testing.assert_allclose(shown, w.grad, rtol=1e-3, atol=1e-4)
    # The edge carries all of w's gradient, already written on w's box: not repeated in full.
    edge = next(texts for s, d, _, texts in parsed["edges"] if s == "w")
    assert edge == ["◀ (3,): its grad, as on the box"]


def test_highlight_marks_exactly_the_paths_edges_and_lists_the_chain():
    _x, w1, _w2, _o1, _o2, o3 = chain_expression()
    parsed = parse(tg.render(o3, highlight=w1))
    marked = {(s, d) for s, d, classes, _ in parsed["edges"] if "highlight" in classes}
    assert marked == {("w1", "o1"), ("o1", "o2"), ("o2", "o3")}
    lit = {t[0] for c, t in parsed["nodes"].values() if "highlight" in c}
    assert lit == {"w1", "o1", "o2", "o3"}
    assert "∂o3/∂w1 = ∂o3/∂o2 · ∂o2/∂o1 · ∂o1/∂w1 = (−2) · 0.5966 · 0.5 = −0.5966" in parsed["label"]
    assert any(line.strip().startswith("∂o2/∂o1: tanh, input 0") for line in parsed["label"])


def test_highlight_follows_every_path_and_only_gradient_carrying_edges():
    w = tg.tensor(2.0, requires_grad=True, name="w")
    v = tg.tensor(3.0, requires_grad=True, name="v")
    a = tg.tanh(w)
    b = tg.exp(w)
    mask = w > 0.0
    c = tg.where(mask, a, v)
    loss = c * b
    a.name, b.name, c.name, loss.name, mask.name = "a", "b", "c", "loss", "mask"
    parsed = parse(tg.render(loss, highlight=w))
    marked = {(s, d) for s, d, classes, _ in parsed["edges"] if "highlight" in classes}
    assert marked == {("w", "a"), ("w", "b"), ("a", "c"), ("c", "loss"), ("b", "loss")}
    assert "2 paths: the gradient is the sum of their products" in parsed["label"]


def test_highlight_of_a_node_off_the_gradient_path_says_so():
    w = tg.tensor(2.0, requires_grad=True, name="w")
    u = tg.tensor(1.0, requires_grad=True, name="u")
    loss = tg.where(w > 0.0, u, u * 2.0)
    parsed = parse(tg.render(loss, highlight=w))
    assert not any("highlight" in c for _, _, c, _ in parsed["edges"])
    assert any("does not affect the output" in line for line in parsed["label"])


def test_graph_recorded_by_create_graph_renders():
    x = tg.tensor([0.5, -1.0], dtype=np.float64, requires_grad=True, name="x")
    y = (tg.tanh(x) * x).sum()
    (g,) = tg.grad(y, x, create_graph=True)
    g.name = "dy/dx"
    parsed = parse(tg.render(g))
    nodes = by_first_line(parsed)
    assert "root" in nodes["dy/dx"][0] and "x" in nodes
    assert len(parsed["nodes"]) == len(tg.toposort([g], only_requires_grad=False))
    parse(tg.render(g.sum(), backward=True, highlight=x))  # the backward of the backward


def test_hostile_names_render_verbatim_and_cannot_inject():
    nasty = 'a"b<c>d&e{f}g|h\\i\\N\\\\ \'j\' ]; evil [label="x"]; //'
    node = tg.tensor([1.0, 2.0], requires_grad=True, name=nasty)
    other = tg.tensor(1.0, name="line one\nline two\x07")
    out = (node * 2.0).sum() + other
    out.name = "</TD></TR></TABLE>>]; injected [shape=box"
    out.backward()
    rendering = tg.render(out, backward=True, highlight=node, legend=True, title="t<i>tle & {x}")
    parsed = parse(rendering)  # parses as XML: nothing broke the SVG
    nodes = by_first_line(parsed)
    # Names longer than 40 characters are shortened in the middle; the tooltip has them whole.
    assert nasty[:26] + "…" + nasty[-13:] in nodes
    assert out.name[:26] + "…" + out.name[-13:] in nodes
    svg = ET.fromstring(rendering.pipe(format="svg"))
    tooltips = {a.get("{http://www.w3.org/1999/xlink}title") for a in svg.iter(f"{SVG}a")}
    assert nasty.replace("\\", "⧵") in tooltips and out.name in tooltips  # dot expands backslashes
    assert nodes["line one"][1][1] == "line two\\x07"
    assert "t<i>tle & {x}" in parsed["label"]
    assert len(parsed["nodes"]) == 7  # 6 graph nodes + the legend: no injected nodes
    assert "evil" not in parsed["nodes"] and "injected" not in parsed["nodes"]


def test_legend_lists_the_kinds_drawn():
    _, loss = small_cnn_loss()
    parsed = parse(tg.render(loss, legend=True))
    legend = next(texts for classes, texts in parsed["nodes"].values() if "legend" in classes)
    text = " ".join(legend)
    for phrase in ("parameter", "input", "composite call", "output (root)"):
        assert phrase in text
    assert "gradient" not in text and "highlighted" not in text
    assert "legend" not in tg.render(loss).source


def test_without_dot_render_returns_the_graph_and_writing_explains_the_install(tmp_path, monkeypatch):
    _, loss = small_cnn_loss()
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot anywhere
    rendering = tg.render(loss, expand=True)
    assert isinstance(rendering, Rendering) and isinstance(rendering, graphviz.Digraph)
    assert rendering.source.startswith("digraph")
    with pytest.raises(GraphvizNotFoundError) as info:
        rendering.render(str(tmp_path / "graph"), format="svg")
    message = str(info.value)
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    assert isinstance(info.value, graphviz.ExecutableNotFound)
    with pytest.raises(GraphvizNotFoundError):
        rendering.pipe(format="svg")
    assert not (tmp_path / "graph.svg").exists()


def test_bad_arguments_get_clear_errors():
    x, _w1, _w2, _o1, _o2, o3 = chain_expression()
    with pytest.raises(TypeError, match="render: needs at least one root"):
        tg.render()
    with pytest.raises(TypeError, match="render: root 1 is a float"):
        tg.render(o3, 1.0)
    with pytest.raises(ValueError, match=r"expand names \['conv3d'\].*calls in this graph are none"):
        tg.render(o3, expand={"conv3d"})
    with pytest.raises(ValueError, match="expand=-1"):
        tg.render(o3, expand=-1)
    with pytest.raises(TypeError, match="expand must be"):
        tg.render(o3, expand=1.5)
    with pytest.raises(ValueError, match="rankdir"):
        tg.render(o3, rankdir="up")
    with pytest.raises(ValueError, match="max_values"):
        tg.render(o3, max_values=-1)
    stranger = tg.tensor(1.0, requires_grad=True, name="stranger")
    with pytest.raises(ValueError, match=r"highlight node .*'stranger'.* is not part of the graph"):
        tg.render(o3, highlight=stranger)
    with pytest.raises(TypeError, match="highlight must be a Node"):
        tg.render(o3, highlight="w1")
    with pytest.raises(BackwardError, match=r"root 0 has shape \(2,\)"):
        tg.render(tg.tensor([1.0, 2.0], requires_grad=True) * 2.0, backward=True)
    with pytest.raises(BackwardError, match="does not require grad"):
        tg.render(x * 2.0, backward=True)


def test_ten_thousand_node_graph_builds_without_recursion():
    w = tg.tensor(0.5, requires_grad=True, name="w")
    y = w
    for _ in range(5000):
        y = tg.tanh(y) * 1.0
    rendering = tg.render(y, backward=True, highlight=w, max_nodes=15_001)
    assert len(re.findall(r'class="?op', rendering.source)) == 10000
    with scope("deep"):
        z = y
        for _ in range(100):
            z = z + 1.0
    assert len(re.findall(r'class="?composite', tg.render(z, max_nodes=15_002).source)) == 1


def test_many_paths_are_counted_and_the_first_few_listed():
    w = tg.tensor(0.3, dtype=np.float64, requires_grad=True, name="w")
    y = w
    for _ in range(5):
        y = tg.tanh(y) + tg.sigmoid(y)  # each level doubles the number of paths
    label = parse(tg.render(y, highlight=w))["label"]
    assert "32 paths: the gradient is the sum of their products (first 4 shown)" in label
    assert sum(line.startswith("∂add#5/∂w = ") for line in label) == 4


def test_large_values_summary_flags_nan_and_inf():
    values = np.arange(30.0)
    values[3], values[7] = np.nan, np.inf
    bad = tg.tensor(values, name="bad")
    nodes = by_first_line(parse(tg.render(bad.sum())))
    assert "[0, 29] mean 15.18 (2 nan/inf!)" in nodes["bad"][1]  # stats of the finite values


def test_write_saves_the_picture_or_falls_back_to_dot_source(tmp_path, monkeypatch, capsys):
    x = tg.tensor(2.0, requires_grad=True, name="x")
    picture = tg.render(x * 3)
    written = picture.write(tmp_path / "graph")
    assert written == tmp_path / "graph.svg" and written.read_text().lstrip().startswith("<?xml")
    assert picture.write(tmp_path / "named.svg") == tmp_path / "named.svg"  # the suffix is not doubled
    png = picture.write(tmp_path / "picture.png", format="png")
    assert png == tmp_path / "picture.png" and png.read_bytes().startswith(b"\x89PNG")
    inferred = picture.write(tmp_path / "inferred.png")  # the suffix sets the format
    assert inferred == tmp_path / "inferred.png" and inferred.read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "graph.svg",
        "inferred.png",
        "named.svg",
        "picture.png",
    ]
    monkeypatch.setenv("PATH", str(tmp_path / "no-such-bin"))
    fallback = picture.write(tmp_path / "again")
    assert fallback == tmp_path / "again.gv" and fallback.read_text() == picture.source
    assert "apt-get install graphviz" in capsys.readouterr().out
