"""The siblings of issue 12's defects, found by walking the registry and the public API.

Each test here failed before its fix: odd-but-valid inputs (0-d, empty, bool and 8-bit integer
dtypes, Python and numpy scalars, several axes) must give the documented value and dtype, and
wrong arguments to layers and optimizers a clear error naming them. The registry walks cover every
op, so a new op is checked as soon as it is registered.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygraph as tg
import tinygraph.functional as F
from tinygraph import nn, optim
from tinygraph.errors import OpError
from tinygraph.registry import REGISTRY
from tinygraph.testing import gradcheck


def _call(opdef, inputs, attrs):
    if opdef.variadic_vjp is not None:
        return opdef.graph_fn(list(inputs), **attrs)
    return opdef.graph_fn(*inputs, **attrs)


def _is_shape(arg):
    return isinstance(arg, tuple) and all(isinstance(d, int) for d in arg)


def _sample_cases():
    return [
        pytest.param(name, k, id=f"{name}-{k}")
        for name, opdef in sorted(REGISTRY.items())
        for k, sample in enumerate(opdef.samples)
        if opdef.differentiable and "dtype" not in sample.attrs
    ]


def _one_input_primitives():
    names = []
    for name, opdef in sorted(REGISTRY.items()):
        if opdef.kind != "primitive" or opdef.variadic_vjp is not None:
            continue
        required = [
            p for p in inspect.signature(opdef.array_fn).parameters.values()
            if p.default is p.empty and p.kind == p.POSITIONAL_OR_KEYWORD
        ]  # fmt: skip
        if len(required) == 1:
            names.append(name)
    return names


# ------------------------------------------------------------------ tg.tensor of Nodes


@pytest.mark.parametrize(
    "make",
    [
        lambda x: [x, x * 2],
        lambda x: (x, x),
        lambda x: [[x], [x + 1]],
        lambda x: [1.0, x],
    ],
)
def test_tensor_refuses_a_list_of_nodes_and_points_to_stack(make):
    x = tg.tensor(1.0, requires_grad=True)
    with pytest.raises(TypeError, match=r"tensor: .*holding Nodes.*tg\.stack"):
        tg.tensor(make(x))
    with pytest.raises(TypeError, match=r"tg\.stack"):
        tg.tensor(make(x), dtype=np.float64)


def test_stack_is_the_way_and_keeps_the_graph():
    x = tg.tensor(1.0, requires_grad=True)
    y = tg.stack([x, x * 2])
    y.sum().backward()
    assert y.requires_grad
    assert x.grad == 3.0


def test_tensor_of_one_node_still_copies_its_value_as_a_new_leaf():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = tg.tensor(x)
    assert y.is_leaf and not y.requires_grad
    np.testing.assert_array_equal(y.data, x.data)


@pytest.mark.parametrize(
    ("data", "dtype", "error"),
    [("abc", np.float64, ValueError), ([[1, 2], [3]], np.float32, ValueError), ([1], "nodtype", TypeError)],
)
def test_tensor_with_a_dtype_names_itself_when_the_conversion_fails(data, dtype, error):
    with pytest.raises(error, match=r"^tensor: cannot make an array of"):
        tg.tensor(data, dtype=dtype)


# ------------------------------------------------------------------ dtypes


@pytest.mark.parametrize("dtype", [np.bool_, np.int8, np.uint8])
@pytest.mark.parametrize("name", _one_input_primitives())
def test_float_functions_of_bools_and_8_bit_ints_give_float32_not_float16(name, dtype):
    """numpy computes exp(bool) in float16; PyTorch (and tinygraph's rule) give float32."""
    opdef = REGISTRY[name]
    attrs = dict(opdef.samples[0].attrs)
    value = tg.tensor(np.array([[1, 0, 1], [0, 1, 1]]).astype(dtype))
    try:
        with np.errstate(all="ignore"):  # log(0), arccosh(0): the dtype is what is checked
            out = opdef.graph_fn(value, **attrs)
    except (OpError, TypeError, ValueError) as exc:
        assert str(exc).startswith(name) or f"inside {name}" in str(exc) or name in str(exc)
        return
    assert out.dtype != np.float16, f"{name}({np.dtype(dtype)}) gave float16"


def test_float16_inputs_stay_float16():
    x = tg.tensor(np.array([0.5, 1.0], np.float16))
    assert tg.exp(x).dtype == np.float16
    assert tg.sin(x).dtype == np.float16


def test_round_of_bools_keeps_them():
    out = tg.round(tg.tensor([True, False]))
    assert out.dtype == np.bool_


@pytest.mark.parametrize(("name", "k"), _sample_cases())
def test_float32_inputs_give_float32_values_and_gradients(name, k):
    """Every differentiable op on float32 inputs: a float32 result and float32 gradients."""
    opdef = REGISTRY[name]
    sample = opdef.samples[k]
    rng = np.random.default_rng(7 + k)
    inputs = [
        tg.tensor(x.data.astype(np.float32), requires_grad=True) if _is_shape(a) else x
        for a, x in zip(sample.args, sample.make_inputs(rng), strict=True)
    ]
    out = _call(opdef, inputs, dict(sample.attrs))
    assert out.dtype == np.float32, f"{name}: {out.dtype}"
    out.sum().backward()
    for x in inputs:
        if isinstance(x, tg.Node) and x.requires_grad:
            assert x.grad is not None and x.grad.dtype == np.float32 and x.grad.shape == x.shape


@pytest.mark.parametrize(("name", "k"), _sample_cases())
def test_non_contiguous_inputs_give_the_values_and_gradients_of_contiguous_ones(name, k):
    opdef = REGISTRY[name]
    sample = opdef.samples[k]
    rng = np.random.default_rng(11 + k)
    plain = sample.make_inputs(rng)

    def strided(x):  # the same values, every other element of a wider array, in Fortran order
        wide = np.repeat(np.asfortranarray(x.data), 2, axis=-1) if x.ndim else x.data
        return tg.Node(wide[..., ::2] if x.ndim else wide, requires_grad=True)  # the view itself

    odd = [strided(x) if _is_shape(a) else x for a, x in zip(sample.args, plain, strict=True)]
    assert all(
        not x.data.flags.c_contiguous
        for a, x in zip(sample.args, odd, strict=True)
        if _is_shape(a) and x.size > 1
    )
    attrs = dict(sample.attrs)
    a, b = _call(opdef, plain, attrs), _call(opdef, odd, attrs)
    np.testing.assert_allclose(b.data, a.data, rtol=1e-12, atol=1e-12)
    a.sum().backward()
    b.sum().backward()
    for arg, x, y in zip(sample.args, plain, odd, strict=True):
        if _is_shape(arg):
            np.testing.assert_allclose(y.grad, x.grad, rtol=1e-12, atol=1e-12)


COMPOSITES_OF_ONE = [
    "dropout", "elu", "gelu", "hardtanh", "leaky_relu", "log_softmax", "logsigmoid", "logsumexp",
    "relu6", "silu", "softmax", "std", "var",
]  # fmt: skip


@pytest.mark.parametrize("name", COMPOSITES_OF_ONE)
def test_composites_take_python_floats_as_float32(name):
    fn = REGISTRY[name].graph_fn
    kwargs = {"training": False} if name == "dropout" else {}
    assert fn(0.7, **kwargs).dtype == np.float32
    assert fn([0.5, 1.5], **kwargs).dtype == np.float32
    assert fn(np.array([0.5, 1.5]), **kwargs).dtype == np.float64  # numpy keeps its dtype


@pytest.mark.parametrize("fn", [F.hardtanh, F.relu6])
def test_clipping_integers_gives_float32(fn):
    out = fn(tg.tensor([-3, 0, 2, 9]))
    assert out.dtype == np.float32
    assert fn(tg.tensor([-3.0, 9.0], dtype=np.float64)).dtype == np.float64


# ------------------------------------------------------------------ empty inputs


@pytest.mark.torch
@pytest.mark.parametrize(
    ("shape", "axis"), [((2, 0), -1), ((0, 3), -1), ((0, 3, 4), 0), ((2, 0, 3), 1), ((0,), 0)]
)
def test_softmax_family_of_empty_inputs_as_pytorch(shape, axis):
    torch = pytest.importorskip("torch")
    t = torch.zeros(shape, dtype=torch.float64)
    for ours, theirs in [
        (F.softmax, torch.softmax),
        (F.log_softmax, torch.log_softmax),
        (F.logsumexp, torch.logsumexp),
    ]:
        x = tg.zeros(shape, dtype=np.float64, requires_grad=True)
        with np.errstate(all="ignore"):  # log Σ exp over nothing: log 0
            out = ours(x, axis=axis)
            out.sum().backward()
        np.testing.assert_array_equal(out.data, theirs(t, axis).numpy())
        assert x.grad.shape == shape


def test_attention_with_no_keys_or_no_queries():
    q = tg.zeros((0, 4), requires_grad=True)
    out = F.scaled_dot_product_attention(q, q, tg.zeros((0, 2)), is_causal=True)
    assert out.shape == (0, 2)


# ------------------------------------------------------------------ axes


@pytest.mark.torch
@pytest.mark.parametrize(
    ("shape", "axis"), [((2, 3, 4), (0, -1)), ((2, 3), None), ((2, 3, 4), (1,)), ((3,), None)]
)
@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp_over_several_axes_as_pytorch(shape, axis, keepdims):
    torch = pytest.importorskip("torch")
    v = np.random.default_rng(0).normal(size=shape)
    x = tg.tensor(v, requires_grad=True)
    out = F.logsumexp(x, axis=axis, keepdims=keepdims)
    out.sum().backward()
    t = torch.tensor(v, requires_grad=True)
    dim = tuple(range(len(shape))) if axis is None else axis
    ref = torch.logsumexp(t, dim=dim, keepdim=keepdims)
    ref.sum().backward()
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-12)


def test_logsumexp_refuses_a_bad_axis_naming_itself():
    with pytest.raises(OpError, match="logsumexp"):
        F.logsumexp(tg.ones((2, 3)), axis=(0, 2))
    with pytest.raises(OpError, match="logsumexp"):
        F.logsumexp(tg.ones((2, 3)), axis=(1, -1))


@pytest.mark.torch
@pytest.mark.parametrize("axis", [0, -1])
def test_cumsum_argmax_argmin_of_a_0d_input_as_pytorch(axis):
    torch = pytest.importorskip("torch")
    x = tg.tensor(np.float64(0.5), requires_grad=True)
    y = tg.cumsum(x, axis=axis)
    assert y.shape == () and y.item() == 0.5
    y.backward()
    assert x.grad == 1.0
    t = torch.tensor(0.5)
    assert torch.cumsum(t, axis).shape == ()
    assert tg.argmax(x, axis=axis).item() == torch.argmax(t, axis).item() == 0
    assert tg.argmin(x, axis=axis, keepdims=True).item() == 0
    with pytest.raises(OpError, match="cumsum: axis 1 is out of range"):
        tg.cumsum(x, axis=1)


REDUCTIONS = ["sum", "mean", "max", "min", "prod", "var", "std"]


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(REDUCTIONS),
    shape=st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple),
    data=st.data(),
    keepdims=st.booleans(),
)
def test_reductions_over_any_axes_match_numpy_with_gradients_of_the_input_shape(name, shape, data, keepdims):
    ndim = len(shape)
    axis = data.draw(
        st.one_of(
            st.none(),
            st.integers(-ndim, ndim - 1) if ndim else st.sampled_from([0, -1]),
            st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim).map(
                lambda axes: tuple(a - ndim if i % 2 else a for i, a in enumerate(axes))
            )
            if ndim
            else st.just(()),
        )
    )
    v = np.random.default_rng(0).uniform(0.5, 1.5, size=shape)
    x = tg.tensor(v, requires_grad=True)
    out = getattr(tg, name)(x, axis=axis, keepdims=keepdims)
    np_axis = None if ndim == 0 else axis
    expected = getattr(np, name)(v, axis=np_axis, keepdims=keepdims)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    out.sum().backward()
    assert x.grad.shape == x.shape and x.grad.dtype == x.dtype
    assert np.isfinite(x.grad).all()


# ------------------------------------------------------------------ finite limits


@pytest.mark.torch
@pytest.mark.parametrize("value", [[0.7], [[1.0, 1.0], [1.0, 2.0]], 0.7])
def test_std_has_gradient_zero_where_the_values_do_not_spread_as_pytorch(value):
    torch = pytest.importorskip("torch")
    v = np.asarray(value, dtype=np.float64)
    axis = -1 if v.ndim == 2 else None
    x = tg.tensor(v, requires_grad=True)
    out = tg.std(x, axis=axis)
    out.sum().backward()
    t = torch.tensor(v, requires_grad=True)
    ref = torch.std(t, dim=axis, correction=0)
    ref.sum().backward()
    np.testing.assert_allclose(out.data, ref.detach().numpy())
    np.testing.assert_allclose(x.grad, t.grad.numpy())


def test_std_still_gradchecks_where_the_values_spread():
    x = tg.tensor(np.array([[0.3, 1.1, -0.4], [2.0, 0.5, 0.7]]), requires_grad=True)
    assert gradcheck(lambda a: tg.std(a, axis=1), x)


# ------------------------------------------------------------------ numpy scalars and Python numbers


@pytest.mark.parametrize(
    ("other", "dtype"),
    [(np.float32(0.5), np.float32), (np.float64(0.5), np.float64), (0.5, np.float32), (2, np.float32)],
)
def test_logaddexp_takes_numpy_scalars_and_python_numbers(other, dtype):
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    out = tg.logaddexp(x, other)
    np.testing.assert_allclose(out.data, np.logaddexp([1.0, 2.0], float(other)), rtol=1e-6)
    assert out.dtype == dtype
    out.sum().backward()
    np.testing.assert_allclose(x.grad, 1 / (1 + np.exp(float(other) - np.array([1.0, 2.0]))), rtol=1e-6)
    assert tg.logaddexp(other, x).dtype == dtype


def test_logaddexp_of_integers_gives_float32():
    assert tg.logaddexp(tg.tensor([1, 2]), tg.tensor([0.5, 1.0])).dtype == np.float32
    assert tg.logaddexp(tg.tensor([1, 2]), 0.5).dtype == np.float32


# ------------------------------------------------------------------ layers and optimizers


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: nn.Embedding(10, 2.5), TypeError, "Embedding: embedding_dim must be an int"),
        (lambda: nn.Embedding("10", 2), TypeError, "Embedding: num_embeddings must be an int"),
        (lambda: nn.LSTM(2.5, 3), TypeError, "LSTM: input_size must be an int"),
        (lambda: nn.GRU(2, 3, num_layers=1.5), TypeError, "GRU: num_layers must be an int"),
        (lambda: nn.GRUCell(2, 3.5), TypeError, "GRUCell: hidden_size must be an int"),
        (lambda: nn.RNN(2, 3, num_layers=1.5), TypeError, "RNN: num_layers must be an int"),
        (lambda: nn.RNNCell(2.5, 3), TypeError, "RNNCell: input_size must be an int"),
        (lambda: nn.BatchNorm1d(2.5), TypeError, "BatchNorm1d: num_features must be an int"),
        (lambda: nn.BatchNorm2d(3, eps="a"), TypeError, "BatchNorm2d: eps must be a real number"),
        (lambda: nn.BatchNorm2d(3, momentum="a"), TypeError, "BatchNorm2d: momentum must be a real number"),
        (lambda: nn.LayerNorm("a"), TypeError, "LayerNorm: normalized_shape must be an int or a tuple"),
        (lambda: nn.LayerNorm((2, 2.5)), TypeError, "LayerNorm: normalized_shape must be an int"),
        (lambda: nn.GroupNorm(2.5, 4), TypeError, "GroupNorm: num_groups must be an int"),
        (lambda: nn.GroupNorm(2, 4.5), TypeError, "GroupNorm: num_channels must be an int"),
        (lambda: nn.MultiheadAttention(4, 2.0), TypeError, "MultiheadAttention: num_heads must be an int"),
        (lambda: nn.Flatten(1.5), TypeError, "Flatten: start_dim must be an int"),
        (lambda: nn.Dropout("a"), TypeError, "Dropout: p must be a real number"),
        (lambda: nn.LeakyReLU("a"), TypeError, "LeakyReLU: negative_slope must be a real number"),
        (lambda: nn.ELU("a"), TypeError, "ELU: alpha must be a real number"),
        (lambda: nn.Softplus(beta="a"), TypeError, "Softplus: beta must be a real number"),
        (lambda: nn.Hardtanh("a"), TypeError, "Hardtanh: min_val must be a real number"),
        (lambda: nn.Hardtanh(1.0, -1.0), ValueError, "Hardtanh: min_val"),
    ],
)
def test_layers_refuse_arguments_of_the_wrong_type_naming_layer_and_argument(make, error, message):
    with pytest.raises(error, match=f"^{message}"):
        make()


@pytest.mark.parametrize("cls", [optim.Adam, optim.AdamW])
def test_adam_refuses_betas_that_are_not_a_pair(cls):
    params = [tg.tensor(np.ones(2), requires_grad=True)]
    with pytest.raises(TypeError, match=f"^{cls.__name__}: betas must be a pair"):
        cls(params, betas=0.9)


def test_layers_still_take_numpy_integers_and_floats():
    assert nn.Embedding(np.int64(10), np.int32(3)).weight.shape == (10, 3)
    assert nn.Dropout(np.float32(0.25)).p == 0.25
    assert nn.LayerNorm([4]).normalized_shape == (4,)


# ------------------------------------------------------------------ lists of Nodes, everywhere


def _nested_nodes(value):
    """``value`` (an array) as nested lists of 0-d Nodes that require grad."""
    if value.ndim == 0:
        return tg.Node(value.copy(), requires_grad=True)
    return [_nested_nodes(v) for v in value]


LIST_CASES = [
    pytest.param(name, k, i, id=f"{name}-{k}-arg{i}")
    for name, opdef in sorted(REGISTRY.items())
    if opdef.variadic_vjp is None
    for k, sample in enumerate(opdef.samples)
    for i, arg in enumerate(sample.args)
    if _is_shape(arg) and len(arg) >= 1
]


@pytest.mark.parametrize(("name", "k", "i"), LIST_CASES)
def test_every_op_refuses_a_list_of_nodes_for_an_array_input(name, k, i):
    """A nested list of Nodes where an array goes would drop their graph: refused, pointing to tg.stack."""
    opdef = REGISTRY[name]
    sample = opdef.samples[k]
    inputs = sample.make_inputs(np.random.default_rng(k))
    inputs[i] = _nested_nodes(inputs[i].data)
    with pytest.raises(TypeError, match=r"tg\.stack"):
        _call(opdef, inputs, dict(sample.attrs))


def test_a_list_of_nodes_as_a_loss_target_or_weight_is_refused():
    x = tg.tensor([0.5, 0.5], requires_grad=True)
    y = tg.tensor(1.0, requires_grad=True)
    with pytest.raises(TypeError, match=r"tg\.stack"):
        F.mse_loss(x, [y, y])
    with pytest.raises(TypeError, match=r"binary_cross_entropy: weight: .*tg\.stack"):
        F.binary_cross_entropy(x, tg.tensor([1.0, 0.0]), weight=[y, y])
    with pytest.raises(TypeError, match=r"tg\.stack"):
        F.cross_entropy(tg.ones((2, 3)), [y, y])


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32, np.int8, np.int16, np.int64])
def test_sigmoid_of_integers_is_the_sigmoid_of_their_values(dtype):
    """-|x| wrapped around in unsigned integers: sigmoid(uint16 1) was 0, not 0.731."""
    values = np.array([0, 1, 3, 100]).astype(dtype)
    out = tg.sigmoid(tg.tensor(values))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, 1 / (1 + np.exp(-values.astype(np.float64))), rtol=1e-6)


def test_linear_with_no_output_features_backpropagates_zero_gradients():
    # F.linear's fused form once reshaped the (3, 0) gradient with -1, which numpy cannot infer.
    x = tg.tensor(np.ones((3, 4)), dtype=np.float64, requires_grad=True)
    w = tg.zeros((0, 4), dtype=np.float64, requires_grad=True)
    b = tg.zeros((0,), dtype=np.float64, requires_grad=True)
    y = F.linear(x, w, b)
    assert y.shape == (3, 0)
    y.sum().backward()
    assert x.grad.shape == (3, 4) and not x.grad.any()
    assert w.grad.shape == (0, 4) and b.grad.shape == (0,)


@pytest.mark.parametrize("layer", [nn.Conv2d, nn.Conv1d, nn.ConvTranspose2d])
def test_conv_layers_refuse_a_float_channel_count(layer):
    # Conv layers once truncated in_channels=2.5 to 2 silently, as nn.Linear(2.5, 3) did.
    with pytest.raises(TypeError, match=rf"{layer.__name__}: in_channels must be an int, got float 2.5"):
        layer(2.5, 4, 3)
