"""tg.explore, the Python side: the embedded JSON against its schema, the steps against the engine."""

from __future__ import annotations

import json
import re
from collections import OrderedDict

import numpy as np
import pytest
from test_render import chain_expression

import tinygraph as tg
import tinygraph.functional as F
from tinygraph import nn
from tinygraph._state import scope
from tinygraph.explore.schema import SCHEMA
from tinygraph.view.model import open_fused


def validate(data: dict) -> None:
    """Check ``data`` against the documented schema (skipped without the jsonschema package)."""
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(data, SCHEMA)


PWNED = "</script><script>window.pwned=1</script>"


# ---------------------------------------------------------------- graphs shared with the browser tests
def three_blocks():
    """o3 = w2 · tanh(w1 · x), the lecture's three chained blocks (test_render's); returns (o3, w1, w2)."""
    _x, w1, w2, _o1, _o2, o3 = chain_expression()
    return o3, w1, w2


def small_cnn(batch: int = 4):
    """A conv → relu → pool → linear → cross-entropy step in float32; returns (loss, model)."""
    tg.manual_seed(0)
    model = nn.Sequential(
        OrderedDict(
            conv=nn.Conv2d(1, 3, 3, padding=1),
            relu=nn.ReLU(),
            pool=nn.MaxPool2d(2),
            flatten=nn.Flatten(),
            fc=nn.Linear(3 * 4 * 4, 5),
        )
    )
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.random((batch, 1, 8, 8), dtype=np.float32), name="images")
    loss = F.cross_entropy(model(x), rng.integers(0, 5, batch))
    return loss, model


def fan_out():
    """w used three times: its gradient is a sum of three contributions; a node named like a script."""
    w = tg.tensor(np.array([0.5, -1.0]), dtype=np.float64, requires_grad=True, name=PWNED)
    a = tg.tanh(w)
    b = w * w
    loss = tg.sum(a + b)
    return loss, w


def rnn(steps: int = 6):
    tg.manual_seed(0)
    layer = nn.RNN(1, 3, batch_first=True)
    bits = np.random.default_rng(0).integers(0, 2, size=(2, steps, 1)).astype(np.float32)
    out, _ = layer(tg.tensor(bits, name="bits"))
    return tg.sum(out), layer


def payload(*roots, **kwargs):
    data = tg.explore(*roots, **kwargs).data
    validate(data)
    return data


def embedded(html: str) -> dict:
    """The JSON inside the page's <script type="application/json" id="tinygraph-graph">."""
    m = re.search(r'<script type="application/json" id="tinygraph-graph">(.*?)</script>', html, re.S)
    assert m is not None
    return json.loads(m.group(1))


def values(enc: dict | float | str) -> np.ndarray:
    """An encoded array's values (a bare number is a 0-d array)."""
    if not isinstance(enc, dict):
        return np.array(float(enc))
    return np.array([float(v) for v in enc["values"]]).reshape(enc["shape"])


# ---------------------------------------------------------------- tests
@pytest.mark.parametrize("build", [three_blocks, small_cnn, fan_out, rnn])
def test_payload_matches_the_schema_and_the_page_embeds_it(build):
    roots = build()[0]
    explorer = tg.explore(roots)
    validate(explorer.data)
    assert embedded(explorer.html) == json.loads(json.dumps(explorer.data))


def test_nodes_edges_and_boxes_follow_the_recorded_graph():
    loss, _ = small_cnn()
    data = payload(loss)
    nodes = {n["id"]: n for n in data["nodes"]}
    # a fused call (cross_entropy) is explored as its definition in primitives, so it can be opened
    (opened,), _ = open_fused([loss], True, "test")
    recorded = tg.toposort([opened], only_requires_grad=False)
    assert sum(n["kind"] not in ("module", "composite", "repeat") for n in nodes.values()) == len(recorded)
    assert sum(len(n.parents) for n in recorded) == len(data["edges"])
    boxes = {n["op"] for n in nodes.values() if n["kind"] == "composite"}
    assert {"conv2d", "max_pool2d", "cross_entropy", "linear"} <= boxes
    for n in nodes.values():
        assert n["parent"] is None or nodes[n["parent"]]["kind"] in ("module", "composite", "repeat")
    weight = next(n for n in nodes.values() if n["name"] == "conv.weight")
    assert weight["kind"] == "parameter" and weight["parent"] is None and weight["shape"] == [3, 1, 3, 3]
    # the conv weight has 27 elements: in full; the feature maps are summarised with a picture
    assert len(weight["value"]["values"]) == 27
    conv_out = next(n for n in nodes.values() if n["op"] == "conv2d")["outputs"][0]
    heat = nodes[conv_out]["value"]["heat"]
    assert heat["tiles"] == 3 and (heat["h"], heat["w"]) == (8, 8)
    assert set(data["ops"]) >= {"matmul", "sliding_window", "conv2d"}
    relu = tg.REGISTRY["relu"]
    assert data["ops"]["relu"]["formula"] == relu.formula and data["ops"]["relu"]["derivative"]
    assert data["ops"]["conv2d"]["formula"] == tg.REGISTRY["conv2d"].formula


def test_steps_follow_the_engine_and_end_at_its_gradients():
    loss, model = small_cnn()
    data = payload(loss)
    nodes = {n["id"]: n for n in data["nodes"]}
    (opened,), _ = open_fused([loss], True, "test")
    order = list(reversed(tg.toposort([opened])))  # the engine's order
    assert len(data["steps"]) == len(order)
    assert [nodes[s["id"]]["op"] for s in data["steps"]] == [n.op for n in order]
    loss.backward()
    by_name = {nodes[s["id"]]["name"]: s for s in data["steps"]}
    for name, p in model.named_parameters():
        grad = by_name[name]["grad"]
        if "values" in grad:  # float32: the fused loss and its definition agree to rounding
            np.testing.assert_allclose(values(grad), p.grad, rtol=1e-5, atol=1e-7)
        else:
            assert grad["stats"]["max"] == pytest.approx(float(p.grad.max()), rel=1e-5)


def test_fan_out_running_sums_end_at_the_gradient():
    loss, w = fan_out()
    data = payload(loss)
    contributions = [c for s in data["steps"] for c in s["contributions"]]
    wid = next(n["id"] for n in data["nodes"] if n["name"] == PWNED)
    to_w = [c for c in contributions if c["to"] == wid]
    assert [c["k"] for c in to_w] == [1, 2, 3] and {c["n"] for c in to_w} == {3}
    assert to_w[0]["sum"] is None
    loss.backward()
    np.testing.assert_array_equal(values(to_w[-1]["sum"]), w.grad)
    step = next(s for s in data["steps"] if s["id"] == wid)
    np.testing.assert_array_equal(values(step["grad"]), w.grad)
    assert w.grad is not None


def test_explore_leaves_grad_alone():
    o3, w1, w2 = three_blocks()
    tg.explore(o3)
    assert w1.grad is None and w2.grad is None


def test_chain_of_the_three_blocks_has_its_numbers():
    o3, w1, _ = three_blocks()
    data = payload(o3)
    names = {n["id"]: n["name"] for n in data["nodes"]}
    wid = next(i for i, n in names.items() if n == "w1")
    chain = data["chains"][wid]
    (path,) = chain["paths"]
    factors = [(names[f["of"]], names[f["wrt"]], f["value"]) for f in path["factors"]]
    tanh_slope = 1 - np.tanh(0.75) ** 2
    assert factors == [("o3", "o2", "-2"), ("o2", "o1", f"{tanh_slope:.4g}"), ("o1", "w1", "0.5")]
    o3.backward()
    assert path["product"] == f"{w1.grad.item():.4g}" == chain["grad"]
    edges = {e["id"]: (names[e["src"]], names[e["dst"]]) for e in data["edges"]}
    assert sorted(edges[e] for e in chain["edges"]) == [("o1", "o2"), ("o2", "o3"), ("w1", "o1")]


def test_rnn_time_steps_fold_in_order():
    loss, _ = rnn(6)
    data = payload(loss)
    nodes = {n["id"]: n for n in data["nodes"]}
    fold = next(n for n in nodes.values() if n["kind"] == "repeat")
    assert fold["name"] == "rnn_cell ×6" and fold["count"] == 6
    layer = nodes[fold["parent"]]  # the steps fold inside the call of the RNN layer
    assert (layer["kind"], layer["name"], layer["op"], layer["parent"]) == ("module", "RNN", "RNN", None)
    cells = [n for n in nodes.values() if n["op"] == "rnn_cell"]
    assert [c["position"] for c in cells] == [1, 2, 3, 4, 5, 6]
    assert {c["parent"] for c in cells} == {fold["id"]}


def test_a_long_chain_is_folded_within_the_budget():
    w = tg.tensor(0.3, dtype=np.float64, requires_grad=True, name="w")
    x = w
    for _ in range(2000):
        x = tg.tanh(x)
    data = payload(x, budget=20)
    children: dict = {}
    for n in data["nodes"]:
        children.setdefault(n["parent"], []).append(n)
    assert all(len(c) <= 20 for c in children.values())
    top = children[None]
    assert sorted(n["kind"] for n in top) == ["parameter", "repeat"]


def test_names_are_escaped_in_the_page():
    loss, _ = fan_out()
    html = tg.explore(loss, title=PWNED).html
    assert PWNED not in html
    assert html.count("</script>") == 2  # the JSON's and the script's own
    assert "\\u003c/script\\u003e" in html
    assert embedded(html)["title"] == PWNED


def test_saved_file_is_self_contained(tmp_path):
    o3, _, _ = three_blocks()
    path = tg.explore(o3).save(tmp_path / "three")
    assert path.suffix == ".html"
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)
    assert "default-src 'none'" in text


def test_repr_html_is_a_sandboxed_srcdoc_iframe():
    o3, _, _ = three_blocks()
    out = tg.explore(o3)._repr_html_()
    assert out.startswith("<iframe") and 'sandbox="allow-scripts"' in out and "srcdoc=" in out
    assert "<script" not in out  # all of the page is inside the (escaped) attribute


def test_bad_arguments_are_named():
    o3, _, _ = three_blocks()
    with pytest.raises(TypeError, match="explore: root 0 is a int"):
        tg.explore(3)
    with pytest.raises(ValueError, match="explore: 1 roots but 2 grads"):
        tg.explore(o3, grads=[1.0, 2.0])
    with pytest.raises(ValueError, match="budget"):
        tg.explore(o3, budget=1)


def test_forward_only_graph_has_no_steps():
    x = tg.tensor(np.ones(3), name="x")
    with scope("double"):
        y = x * 2
    data = payload(tg.sum(y))
    assert data["steps"] == [] and data["chains"] == {}


def test_grads_seed_a_vector_root():
    w = tg.tensor(np.array([1.0, 2.0]), requires_grad=True, name="w")
    y = w * 3
    data = payload(y, grads=[np.array([1.0, -1.0])])
    wid = next(n["id"] for n in data["nodes"] if n["name"] == "w")
    step = next(s for s in data["steps"] if s["id"] == wid)
    assert values(step["grad"]).tolist() == [3.0, -3.0]
