"""ONNX export: the checker passes and ONNX Runtime computes what tinygraph computes.

Every export here goes through ``onnx.checker.check_model(full_check=True)`` (``build_model`` runs
it) and is run in ONNX Runtime (CPU), whose outputs must match tinygraph's within 1e-5 (float32).
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import tinygraph as tg  # noqa: E402
import tinygraph.functional as F  # noqa: E402
import tinygraph.onnx as tgonnx  # noqa: E402
from tinygraph import nn  # noqa: E402
from tinygraph.registry import REGISTRY  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RNG = np.random.default_rng(0)
TOL = 1e-5


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def run_onnx(model: onnx.ModelProto, *inputs: np.ndarray) -> list[np.ndarray]:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {i.name: x for i, x in zip(session.get_inputs(), inputs)})


def tinygraph_outputs(model, *inputs: np.ndarray) -> list[np.ndarray]:
    with tg.no_grad():
        result = model(*(tg.tensor(x) for x in inputs))
    return [r.data for r in (result if isinstance(result, tuple) else (result,))]


def check_matches(model, make_inputs, batches=(2, 5), **options) -> onnx.ModelProto:
    """Export at the first batch size and compare with ONNX Runtime at every batch size."""
    proto = tgonnx.build_model(model, make_inputs(batches[0]), **options)
    for batch in batches:
        inputs = make_inputs(batch)
        expected = tinygraph_outputs(model, *inputs)
        got = run_onnx(proto, *inputs)
        assert len(got) == len(expected)
        for e, g in zip(expected, got):
            assert g.shape == e.shape and g.dtype == e.dtype
            np.testing.assert_allclose(g, e, rtol=TOL, atol=TOL)
    return proto


def op_types(proto: onnx.ModelProto) -> list[str]:
    return [n.op_type for n in proto.graph.node]


# ----------------------------------------------------------------------------- models
def demo_cnn():
    sys.path.insert(0, str(REPO / "demos"))
    try:
        from train_cnn import build_cnn
    finally:
        sys.path.remove(str(REPO / "demos"))
    tg.manual_seed(0)
    return build_cnn(8, 16)


def test_demo_cnn_exports_as_conv_relu_maxpool_gemm_and_matches_at_two_batch_sizes(tmp_path):
    model = demo_cnn()
    proto = check_matches(model, lambda n: (rand(n, 1, 8, 8),))
    assert op_types(proto) == ["Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Reshape", "Gemm"]
    names = [i.name for i in proto.graph.initializer]
    assert [k for k in names if "." in k] == list(model.state_dict())
    for init in proto.graph.initializer:
        if init.name in model.state_dict():
            np.testing.assert_array_equal(onnx.numpy_helper.to_array(init), model.state_dict()[init.name])
    batch = proto.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch.dim_param == "batch"
    # export writes the same model to a file that loads and checks
    path = tmp_path / "cnn.onnx"
    tgonnx.export(model, rand(3, 1, 8, 8), path)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    x = rand(6, 1, 8, 8)
    np.testing.assert_allclose(tgonnx.run(path, x)[0], tinygraph_outputs(model, x)[0], rtol=TOL, atol=TOL)


def test_export_keeps_the_training_mode_and_traces_in_eval_mode():
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.ReLU(), nn.Linear(8, 3))
    model.train()
    proto = tgonnx.build_model(model, rand(2, 4))
    assert model.training and all(m.training for m in model.modules())
    assert op_types(proto) == ["Gemm", "Relu", "Gemm"]
    model.eval()
    check_matches(model, lambda n: (rand(n, 4),))


def test_mlp_with_softmax_and_named_inputs_outputs():
    mlp = nn.Sequential(
        OrderedDict(
            fc1=nn.Linear(6, 16), act=nn.Tanh(), fc2=nn.Linear(16, 16), relu=nn.ReLU(), out=nn.Linear(16, 4)
        )
    )

    def probabilities(x):
        return F.softmax(mlp(x), axis=-1), F.log_softmax(mlp(x), axis=1)

    proto = check_matches(
        probabilities, lambda n: (rand(n, 6),), input_names=["x"], output_names=["p", "logp"]
    )
    assert [i.name for i in proto.graph.input] == ["x"]
    assert [o.name for o in proto.graph.output] == ["p", "logp"]
    assert {"Softmax", "LogSoftmax", "Gemm", "Tanh"} <= set(op_types(proto))
    assert "ReduceMax" not in op_types(proto)  # softmax maps as one op, not its stable definition


@pytest.mark.parametrize("batch_first", [True, False])
def test_rnn_unrolled_matches(batch_first):
    tg.manual_seed(1)
    rnn = nn.RNN(3, 5, num_layers=2, batch_first=batch_first)
    steps = 4
    if batch_first:
        check_matches(rnn, lambda n: (rand(n, steps, 3),))
    else:  # time-major: the batch is axis 1, so the export fixes it
        check_matches(rnn, lambda n: (rand(steps, 3, 3),), batches=(3,), dynamic_batch=False)


def test_rnn_with_initial_state_and_relu():
    tg.manual_seed(2)
    rnn = nn.RNN(2, 4, nonlinearity="relu", batch_first=True)
    check_matches(
        lambda x, h: rnn(x, h), lambda n: (rand(n, 3, 2), rand(1, n, 4)), batches=(3,), dynamic_batch=False
    )


def test_pooling_variants_and_global_average():
    def net(x):
        a = F.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True)
        b = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
        c = F.avg_pool2d(x, 2)
        d = F.adaptive_avg_pool2d(x, 1)
        e = F.adaptive_avg_pool2d(x, (3, 2))
        f = F.adaptive_max_pool2d(x, 3)
        return a, b, c, d, e, f

    proto = check_matches(net, lambda n: (rand(n, 2, 6, 7),), batches=(2, 3))
    assert {"MaxPool", "AveragePool", "GlobalAveragePool"} <= set(op_types(proto))


def test_float64_models_export_in_float64():
    layer = nn.Linear(3, 2, dtype=np.float64)
    x = np.random.default_rng(1).standard_normal((4, 3))
    proto = tgonnx.build_model(layer, x)
    np.testing.assert_allclose(run_onnx(proto, x)[0], layer(tg.tensor(x)).data, rtol=1e-12)


# ----------------------------------------------------------------------------- the registry
# The composites whose every test sample exports (the registry at the time of writing); a
# composite added later must export too, or fail with an error naming it and the op at fault.
EXPORTING = {
    "softmax", "logsumexp", "log_softmax", "dropout", "maxout", "conv1d", "conv2d", "convolve2d", "linear",
    "mse_loss", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d", "rnn_cell",
}  # fmt: skip
# nll_loss picks log_probs[n, t_n] with an index array (the targets are an argument, not a graph
# value); cross_entropy with weights, ignore_index or label smoothing goes through it.
NOT_EXPORTING = {"nll_loss": "getitem", "cross_entropy": "getitem"}


def composite_cases():
    cases = []
    for name, opdef in REGISTRY.items():
        if opdef.kind != "composite":
            continue
        for i, sample in enumerate(opdef.samples):
            cases.append(pytest.param(name, sample, id=f"{name}-{i}"))
    return cases


def float32_sample(sample, rng):
    """The sample's shape arguments as float32 graph inputs, its other arguments as given."""
    inputs, positions = [], []
    for k, arg in enumerate(sample.args):
        if isinstance(arg, tuple) and all(isinstance(d, int) for d in arg):
            low, high = (-2.0, 2.0) if sample.domain == "nonzero" else sample.domain
            inputs.append(rng.uniform(low, high, size=arg).astype(np.float32))
            positions.append(k)
    return inputs, positions


@pytest.mark.parametrize(("name", "sample"), composite_cases())
def test_every_composite_sample_exports_or_names_the_op_without_mapping(name, sample):
    opdef = REGISTRY[name]
    inputs, positions = float32_sample(sample, np.random.default_rng(3))

    def call(*nodes):
        args = list(sample.args)
        for k, node in zip(positions, nodes):
            args[k] = node
        return opdef.graph_fn(*args, **sample.attrs)

    try:
        proto = tgonnx.build_model(call, tuple(inputs), dynamic_batch=False)
    except tgonnx.OnnxExportError as exc:
        message = str(exc)
        assert name not in EXPORTING, f"{name} should export: {message}"
        assert f"(inside {name}" in message and "the op '" in message
        if name in NOT_EXPORTING:
            assert f"the op '{NOT_EXPORTING[name]}'" in message
        return
    expected = tinygraph_outputs(call, *inputs)
    for e, g in zip(expected, run_onnx(proto, *inputs)):
        np.testing.assert_allclose(g, e, rtol=TOL, atol=TOL)


def test_cross_entropy_with_class_indices_exports_as_softmax_cross_entropy_loss():
    target = np.array([1, 0, 3])
    proto = tgonnx.build_model(lambda x: F.cross_entropy(x, target), rand(3, 4), dynamic_batch=False)
    assert op_types(proto) == ["SoftmaxCrossEntropyLoss"]
    x = rand(3, 4)
    np.testing.assert_allclose(run_onnx(proto, x)[0], F.cross_entropy(tg.tensor(x), target).data, rtol=TOL)


def test_primitives_on_their_own():
    def fn(x, y):
        z = tg.maximum(x, y) * 2 - tg.minimum(x, 0.5) / 3
        z = tg.where(x > y, z, tg.exp(-abs(z))) + tg.sqrt(abs(y) + 1) ** 1.5
        z = tg.concatenate([z, tg.transpose(x[..., ::-1, :], (0, 2, 1)).reshape(z.shape)], axis=1)
        picks = tg.stack([x[:, 0, 1:3], y[:, -1, 1:3]], axis=-1), x[:, 1:, ::2], y[-1:, ..., 2]
        return (tg.sum(z, axis=1), tg.mean(z, axis=(0, 1), keepdims=True), z.max(axis=-1), *picks)

    check_matches(fn, lambda n: (rand(n, 3, 4), rand(n, 3, 4)), batches=(2, 4))


# ----------------------------------------------------------------------------- errors
def test_an_unmapped_op_is_named_with_the_composite_it_ran_inside():
    def fn(x):
        with tg._state.scope("my_block"):
            return tg.ops.sliding_window(x, (2,), (1,), (1,)).sum(axis=-1)

    with pytest.raises(tgonnx.OnnxExportError) as info:
        tgonnx.build_model(fn, rand(2, 5))
    message = str(info.value)
    assert "'sliding_window'" in message and "(inside my_block)" in message and "Conv" not in message


def test_dropout_in_training_mode_is_refused_with_advice():
    with pytest.raises(tgonnx.OnnxExportError, match=r"dropout ran in training mode.*model\.eval\(\)"):
        tgonnx.build_model(lambda x: F.dropout(x, 0.5), rand(2, 3))


def test_bad_arguments_are_clear():
    layer = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="opset must be an int >= 13"):
        tgonnx.build_model(layer, rand(1, 2), opset=11)
    with pytest.raises(ValueError, match="input_names must be 1 distinct"):
        tgonnx.build_model(layer, rand(1, 2), input_names=["a", "b"])
    with pytest.raises(TypeError, match="must return a Node"):
        tgonnx.build_model(lambda x: 3, rand(1, 2))


def test_opset_18_writes_reduction_axes_as_inputs():
    proto = check_matches(
        lambda x: (tg.max(x, axis=1), F.logsumexp(x, axis=0)), lambda n: (rand(n, 4),), opset=18
    )
    assert proto.opset_import[0].version == 18


def test_importing_tinygraph_does_not_import_onnx():
    import subprocess

    code = "import sys, tinygraph; assert 'onnx' not in sys.modules and 'onnxruntime' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, env={"PYTHONPATH": str(REPO)})


def test_without_the_onnx_package_the_error_names_the_extra():
    import subprocess

    code = (
        "import sys; sys.modules['onnx'] = None\n"
        "import tinygraph as tg\n"
        "try:\n    tg.onnx\nexcept ImportError as exc:\n    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
    ).stdout
    assert "tinygraph[onnx]" in out and "'onnx' package" in out


def test_the_main_demo_exports_its_trained_model(tmp_path):
    sys.path.insert(0, str(REPO / "demos"))
    try:
        import train_cnn
    finally:
        sys.path.remove(str(REPO / "demos"))
    result = train_cnn.main(["--out", str(tmp_path), "--epochs", "1", "--max-steps", "3", "--width", "4"])
    assert tmp_path / "model.onnx" in result["files"]
    proto = onnx.load(tmp_path / "model.onnx")
    onnx.checker.check_model(proto, full_check=True)
    assert [i.name for i in proto.graph.input] == ["images"]
    x = tg.data.load_digits().x_test[:9]
    np.testing.assert_allclose(
        tgonnx.run(tmp_path / "model.onnx", x)[0],
        tinygraph_outputs(result["model"].eval(), x)[0],
        rtol=TOL,
        atol=TOL,
    )
    svg = (tmp_path / "model_onnx.svg").read_text(encoding="utf-8")
    ET.fromstring(svg)
    for text in ("Conv", "MaxPool", "Gemm", "conv1.weight", "fc.bias", "batch×10"):
        assert text in svg, text


def test_to_graphviz_draws_every_node_with_its_weights():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    dot = tgonnx.to_graphviz(tgonnx.build_model(model, rand(2, 3)), title="mlp").source
    assert dot.count("Gemm") == 2 and "Relu" in dot and "0.weight  4×3" in dot and "batch×2" in dot
    assert "shape_" not in dot  # int64 constants (shapes, axes) are not drawn as weights


def test_outputs_that_are_inputs_parameters_or_repeats_get_their_own_names():
    layer = nn.Linear(2, 3)

    def fn(x):
        y = layer(x) * 2
        return y, y, x, layer.weight

    proto = tgonnx.build_model(fn, rand(4, 2), dynamic_batch=False)
    assert [o.name for o in proto.graph.output] == ["output_0", "output_1", "output_2", "output_3"]
    x = rand(4, 2)
    got = run_onnx(proto, x)
    np.testing.assert_allclose(got[0], got[1])
    np.testing.assert_array_equal(got[2], x)
    np.testing.assert_array_equal(got[3], layer.weight.data)


def primitive_cases():
    from tinygraph.onnx._primitives import PRIMITIVES

    return [
        pytest.param(name, sample, id=f"{name}-{i}")
        for name, opdef in REGISTRY.items()
        if opdef.kind == "primitive" and name in PRIMITIVES
        for i, sample in enumerate(opdef.samples)
    ]


@pytest.mark.parametrize(("name", "sample"), primitive_cases())
def test_every_mapped_primitive_sample_matches(name, sample):
    opdef = REGISTRY[name]
    inputs, positions = float32_sample(sample, np.random.default_rng(4))

    def call(*nodes):
        args = list(sample.args)
        for k, node in zip(positions, nodes):
            args[k] = node
        if opdef.variadic_vjp is not None:
            return opdef.graph_fn(args, **sample.attrs)
        return opdef.graph_fn(*args, **sample.attrs)

    try:
        proto = tgonnx.build_model(call, tuple(inputs), dynamic_batch=False)
    except tgonnx.OnnxExportError as exc:  # a form of the op ONNX has no mapping for, named
        assert f"the op '{name}'" in str(exc)
        return
    for e, g in zip(tinygraph_outputs(call, *inputs), run_onnx(proto, *inputs)):
        assert g.shape == e.shape and g.dtype == e.dtype
        np.testing.assert_allclose(g, e, rtol=TOL, atol=TOL)


def test_an_index_given_as_an_input_stays_an_input():
    table = tg.tensor(rand(10, 3))

    def lookup(x, ids):  # an embedding: rows of a table picked by an integer input
        return table[ids] * x

    make = lambda n: (rand(n, 1), np.random.default_rng(n).integers(0, 10, size=n))
    proto = check_matches(lookup, make, batches=(3, 6))
    assert "Gather" in op_types(proto)


def test_zeros_made_at_the_traced_batch_size_follow_the_batch():
    """A recurrent layer's initial state is np.zeros((batch, hidden)) at trace time."""
    w = tg.tensor(rand(4, 4))

    def step(x):
        h = np.zeros((x.shape[0], 4), dtype=np.float32)  # a constant of the traced batch size
        return tg.tanh(x @ w + tg.tanh(h @ w + 1.0))

    proto = check_matches(step, lambda n: (rand(n, 4),), batches=(3, 7))
    assert "ConstantOfShape" in op_types(proto)
    # a batch of 1 is left alone: zeros of one row broadcast to any batch
    assert "ConstantOfShape" not in op_types(tgonnx.build_model(step, rand(1, 4)))


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_gated_recurrent_layers_export_once_they_exist(name):
    if not hasattr(nn, name):
        pytest.skip(f"tinygraph.nn.{name} does not exist in this version")
    tg.manual_seed(3)
    layer = getattr(nn, name)(3, 4, num_layers=2, batch_first=True)
    check_matches(lambda x: layer(x)[0], lambda n: (rand(n, 5, 3),), batches=(2, 6))
