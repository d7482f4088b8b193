"""nn.Module calls recorded as scope frames: boxes in the explorer, skipped by the static pictures."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from test_explore import payload, small_cnn

import tinygraph as tg
import tinygraph.functional as F
from tinygraph import nn
from tinygraph._state import STATE, scope_path


def box_tree(data: dict) -> list:
    """The boxes as nested ``(kind, name, children)`` tuples, in the payload's order."""

    def under(parent):
        return [
            (n["kind"], n["name"], under(n["id"]))
            for n in data["nodes"]
            if n["parent"] == parent and n["kind"] in ("module", "composite", "repeat")
        ]

    return under(None)


def test_the_boxes_of_a_sequential_cnn_are_its_layers_with_their_composites_inside():
    loss, _ = small_cnn()
    assert box_tree(payload(loss)) == [
        (
            "module",
            "Sequential",
            [
                ("module", "conv: Conv2d", [("composite", "conv2d", [])]),
                ("module", "relu: ReLU", []),
                ("module", "pool: MaxPool2d", [("composite", "max_pool2d", [])]),
                ("module", "flatten: Flatten", []),
                ("module", "fc: Linear", [("composite", "linear", [])]),
            ],
        ),
        (
            "composite",
            "cross_entropy",
            [("composite", "log_softmax", [("composite", "logsumexp", [])]), ("composite", "nll_loss", [])],
        ),
    ]
    module = next(n for n in payload(loss)["nodes"] if n["name"] == "conv: Conv2d")
    assert module["op"] == "Conv2d" and module["size"] > 1


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(3, 4), nn.Tanh())
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.layers(x))


def test_frames_name_the_module_by_its_path_and_class_and_scope_path_skips_them():
    tg.manual_seed(0)
    out = Net()(tg.randn(5, 3))
    hidden = next(n for n in tg.toposort([out], only_requires_grad=False) if n.op == "affine")
    frames = [(f.kind, f.name) for f in out.scope]
    assert frames == [("module", "Net"), ("module", "head: Linear"), ("composite", "linear")]
    deeper = [(f.kind, f.name) for f in hidden.scope]
    assert deeper == [
        ("module", "Net"),
        ("module", "layers: Sequential"),
        ("module", "layers.0: Linear"),
        ("composite", "linear"),
    ]
    assert out.scope_path == "linear" and hidden.scope_path == "linear"
    assert scope_path(out.scope, modules=True) == "Net > head: Linear > linear"
    assert STATE.scope is None  # nothing left behind after the call


def test_a_module_moved_into_a_new_model_is_named_by_its_new_path():
    net = Net()
    outer = nn.Sequential()
    outer.add_module("net", net)
    out = outer(tg.randn(2, 3))
    assert [f.name for f in out.scope] == ["Sequential", "net: Net", "net.head: Linear", "linear"]
    assert [f.name for f in net.head(tg.randn(2, 4)).scope] == ["net.head: Linear", "linear"]


def test_a_module_call_that_raises_leaves_no_frame_behind():
    layer = nn.Linear(3, 2)
    try:
        layer(tg.randn(4, 5))
    except ValueError:
        pass
    assert STATE.scope is None


def test_module_frames_are_per_thread():
    seen = {}

    def run():
        seen["other"] = STATE.scope

    class Probe(nn.Module):
        def forward(self, x):
            t = threading.Thread(target=run)
            t.start()
            t.join()
            seen["own"] = [f.name for f in STATE.scope]
            return x * 2.0

    Probe()(tg.randn(2))
    assert seen == {"other": None, "own": ["Probe"]}


def unboxed_cnn(model, x, y):
    """The same computation as ``model(x)`` without a single module call (each layer's forward)."""
    h = x
    for layer in model.children():
        h = layer.forward(h)
    return F.cross_entropy(h, y)


@pytest.mark.filterwarnings("ignore:render. drawn before backward")
def test_renderings_and_the_networkx_export_are_unchanged_by_module_frames():
    loss, model = small_cnn()
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.random((4, 1, 8, 8), dtype=np.float32), name="images")
    plain = unboxed_cnn(model, x, rng.integers(0, 5, 4))
    for kwargs in ({}, {"expand": True}, {"expand": 1}, {"expand": {"conv2d"}}, {"backward": True}):
        assert tg.render(loss, **kwargs).source == tg.render(plain, **kwargs).source, kwargs
    a, b = tg.to_networkx(loss), tg.to_networkx(plain)
    keys = ("kind", "op", "name", "shape", "scope")
    assert [tuple(a.nodes[i][k] for k in keys) for i in a] == [tuple(b.nodes[i][k] for k in keys) for i in b]


def test_render_with_modules_draws_each_module_call_as_a_box():
    loss, _ = small_cnn()
    collapsed = tg.render(loss, modules=True).source
    assert "Sequential" in collapsed and "conv: Conv2d" not in collapsed  # the model is one box
    one_level = tg.render(loss, modules=True, expand=1).source
    for name in ("conv: Conv2d", "pool: MaxPool2d", "fc: Linear"):
        assert name in one_level
    opened = tg.render(loss, modules=True, expand={"Sequential", "conv: Conv2d"}).source
    assert "conv: Conv2d" in opened and "<B>conv2d</B>" in opened
    assert "Sequential" not in tg.render(loss).source


class Unrolled(nn.Module):
    """One RNNCell called ``steps`` times, then a linear read-out."""

    def __init__(self, steps: int) -> None:
        super().__init__()
        self.steps = steps
        self.cell = nn.RNNCell(2, 3)
        self.out = nn.Linear(3, 1)

    def forward(self, x):
        h = None
        for t in range(self.steps):
            h = self.cell(x[:, t], h)
        return self.out(h)


def test_a_module_called_at_every_time_step_folds_with_a_count_in_order():
    tg.manual_seed(0)
    model = Unrolled(6)
    loss = tg.sum(model(tg.randn(2, 6, 2)))
    data = payload(loss)
    nodes = {n["id"]: n for n in data["nodes"]}
    fold = next(n for n in data["nodes"] if n["kind"] == "repeat")
    assert fold["name"] == "cell: RNNCell ×6" and fold["count"] == 6
    assert nodes[fold["parent"]]["name"] == "Unrolled"
    cells = {n["id"]: n for n in data["nodes"] if n["name"] == "cell: RNNCell"}
    assert sorted(c["position"] for c in cells.values()) == [1, 2, 3, 4, 5, 6]
    assert {c["parent"] for c in cells.values()} == {fold["id"]}
    assert all(c["kind"] == "module" and c["op"] == "RNNCell" for c in cells.values())

    def cell_of(key):
        while key is not None and key not in cells:
            key = nodes[key]["parent"]
        return key

    # numbered in time order: step k's state feeds step k + 1
    links = {(cell_of(e["src"]), cell_of(e["dst"])) for e in data["edges"]}
    steps = {(cells[a]["position"], cells[b]["position"]) for a, b in links if a and b and a != b}
    assert steps == {(k, k + 1) for k in range(1, 6)}


def test_the_onnx_export_of_a_model_reads_composite_calls_only(tmp_path):
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    tg.manual_seed(0)
    model = Net()
    x = tg.randn(5, 3)
    path = tmp_path / "net.onnx"
    tg.onnx.export(model, x, path)
    graph = onnx.load(str(path)).graph
    assert [n.op_type for n in graph.node] == ["Gemm", "Tanh", "Gemm"]  # each linear call is one Gemm
    # the nodes are named by the layer they come from
    assert [n.name.split("_")[0] for n in graph.node] == ["layers.0/Gemm", "layers.1/Tanh", "head/Gemm"]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {session.get_inputs()[0].name: x.data})
    np.testing.assert_allclose(got, model(x).data, rtol=1e-5, atol=1e-6)


class Mismatch(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        return self.fc(x) @ tg.ones(5, 5)


def test_errors_name_the_module_calls_around_the_failing_op():
    with pytest.raises(tg.OpError, match=r"^matmul: shapes \(4, 2\) and \(5, 5\) .* \(inside Mismatch\)$"):
        Mismatch()(tg.randn(4, 3))

    class Blowup(nn.Module):
        def forward(self, x):
            return F.softmax(tg.log(x - x), axis=-1)

    with tg.detect_anomaly(), np.errstate(divide="ignore"):
        with pytest.raises(tg.AnomalyError, match=r"log \(inside Blowup\) produced inf"):
            Blowup()(tg.randn(2))
    # composites keep their names after the module calls: "inside Net > head: Linear > linear"
    from tinygraph.registry import _where

    frames = Net()(tg.randn(1, 3)).scope
    assert _where(tg.REGISTRY["affine"], frames) == "affine (inside Net > head: Linear > linear)"
