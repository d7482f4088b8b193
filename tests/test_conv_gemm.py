"""conv2d's fused form, ``conv2d_gemm``, against its definition in primitives (float64).

The fused op lays the windows out over flattened image planes (``tinygraph/_im2col.py``): wrap
columns, flat shifts, a wide output gradient kept for the second rule. Each test here compares it
with the same call inside ``tg.decompose()``, which records pad, sliding_window and matmul.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np
import pytest

import tinygraph as tg
import tinygraph.functional as F
from tinygraph.errors import OpError

RNG = np.random.default_rng(7)

GEOMETRIES = [
    # x shape, w shape, padding, dilation
    ((2, 3, 7, 6), (4, 3, 3, 3), 1, 1),
    ((1, 2, 5, 9), (3, 2, 2, 4), (1, 2), 1),  # uneven kernel and padding
    ((3, 1, 6, 6), (2, 1, 2, 2), "same", 1),  # an even kernel: one more zero at the end
    ((2, 2, 8, 7), (2, 2, 3, 2), "same", (2, 3)),  # dilated, "same"
    ((2, 2, 4, 5), (3, 2, 4, 5), 0, 1),  # the kernel covers the whole image: 1×1 output
    ((1, 4, 3, 3), (5, 4, 1, 1), 0, 1),  # 1×1 filters
    ((2, 3, 6, 5), (2, 3, 3, 3), "valid", (2, 1)),
    ((4, 2, 1, 8), (3, 2, 1, 3), (0, 1), 1),  # one image row
]


def leaves(x_shape, w_shape, bias=True, dtype=np.float64):
    x = tg.tensor(RNG.standard_normal(x_shape).astype(dtype), requires_grad=True)
    w = tg.tensor(RNG.standard_normal(w_shape).astype(dtype), requires_grad=True)
    b = tg.tensor(RNG.standard_normal(w_shape[0]).astype(dtype), requires_grad=True) if bias else None
    return x, w, b


def run(x, w, b, padding, dilation, seed, decomposed):
    """The output and the gradients of x, w (and b) for the output gradient ``seed``."""
    for p in (x, w, b):
        if p is not None:
            p.grad = None
    if decomposed:
        with tg.decompose():
            y = F.conv2d(x, w, b, padding=padding, dilation=dilation)
    else:
        y = F.conv2d(x, w, b, padding=padding, dilation=dilation)
    y.backward(seed)
    return y, [None if p is None else p.grad for p in (x, w, b)]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize(("x_shape", "w_shape", "padding", "dilation"), GEOMETRIES)
def test_the_fused_form_equals_the_definition(x_shape, w_shape, padding, dilation, bias):
    x, w, b = leaves(x_shape, w_shape, bias)
    y = F.conv2d(x, w, b, padding=padding, dilation=dilation)
    assert y.op == "conv2d_gemm" and y.scope_path == "conv2d"
    seed = RNG.standard_normal(y.shape)
    y, grads = run(x, w, b, padding, dilation, seed, False)
    y_def, grads_def = run(x, w, b, padding, dilation, seed, True)
    assert y_def.op != "conv2d_gemm"
    assert y.shape == y_def.shape and y.dtype == y_def.dtype == np.float64
    np.testing.assert_allclose(y.data, y_def.data, rtol=1e-12, atol=1e-12)
    for g, g_def in zip(grads, grads_def):
        if g_def is None:
            assert g is None
        else:
            assert g.shape == g_def.shape and g.dtype == g_def.dtype
            np.testing.assert_allclose(g, g_def, rtol=1e-12, atol=1e-12)


def test_float32_stays_float32_and_mixed_inputs_promote_as_the_definition():
    for x_dtype, w_dtype in [(np.float32, np.float32), (np.float64, np.float32), (np.float32, np.float64)]:
        x = tg.tensor(RNG.standard_normal((2, 3, 5, 5)).astype(x_dtype), requires_grad=True)
        w = tg.tensor(RNG.standard_normal((2, 3, 3, 3)).astype(w_dtype), requires_grad=True)
        y = F.conv2d(x, w, padding=1)
        with tg.decompose():
            y_def = F.conv2d(x, w, padding=1)
        assert y.op == "conv2d_gemm" and y.dtype == y_def.dtype
        y.sum().backward()
        assert x.grad.dtype == x_dtype and w.grad.dtype == w_dtype


@pytest.mark.parametrize("which", ["x", "w", "b"])
def test_any_one_input_alone_gets_the_definitions_gradient(which):
    x, w, b = leaves((2, 3, 6, 5), (4, 3, 3, 3))
    for name, p in zip("xwb", (x, w, b)):
        p.requires_grad = name == which
    seed = RNG.standard_normal((2, 4, 6, 5))
    _, grads = run(x, w, b, 1, 1, seed, False)
    _, grads_def = run(x, w, b, 1, 1, seed, True)
    for name, g, g_def in zip("xwb", grads, grads_def):
        if name == which:
            np.testing.assert_allclose(g, g_def, rtol=1e-12, atol=1e-12)
        else:
            assert g is None and g_def is None


def test_a_second_backward_with_another_gradient_does_not_reuse_the_first_ones():
    x, w, b = leaves((2, 2, 5, 5), (3, 2, 3, 3))
    y = F.conv2d(x, w, b, padding=1)
    with tg.decompose():
        y_def = F.conv2d(x, w, b, padding=1)
    for _ in range(3):  # the first rule keeps the wide gradient for the second: it must follow G
        seed = RNG.standard_normal(y.shape)
        got = tg.grad(y, [x, w, b], seed)
        want = tg.grad(y_def, [x, w, b], seed)
        for g, g_def in zip(got, want):
            np.testing.assert_allclose(g.data, g_def.data, rtol=1e-12, atol=1e-12)


def test_second_derivatives_equal_the_definitions():
    x, w, b = leaves((1, 2, 5, 4), (2, 2, 3, 2))
    seed = tg.tensor(RNG.standard_normal((1, 2, 5, 5)), requires_grad=True)

    def second(decomposed):
        with tg.decompose() if decomposed else contextlib.nullcontext():
            y = F.conv2d(x, w, b, padding=1)
        assert (y.op == "conv2d_gemm") != decomposed
        gx, gw = tg.grad(y, [x, w], seed, create_graph=True)
        return tg.grad((gx * gx).sum() + (gw * gw * gw).sum(), [x, w, seed])

    for g, g_def in zip(second(False), second(True)):
        np.testing.assert_allclose(g.data, g_def.data, rtol=1e-11, atol=1e-11)


def test_values_kept_from_one_call_survive_the_next_calls():
    """The output and the input gradient are views of reusable scratch memory (large arrays)."""
    w = tg.tensor(RNG.standard_normal((16, 8, 3, 3)), requires_grad=True)
    xs = [tg.tensor(RNG.standard_normal((8, 8, 24, 24)), requires_grad=True) for _ in range(3)]
    outs = []
    for x in xs:
        y = F.conv2d(x, w, padding=1)
        y.backward(np.ones(y.shape))
        outs.append((y.data.copy(), y, x.grad.copy()))
    for x, (value, y, dx) in zip(xs, outs):
        np.testing.assert_array_equal(y.data, value)
        np.testing.assert_array_equal(x.grad, dx)
        with tg.decompose():
            np.testing.assert_allclose(F.conv2d(x, w, padding=1).data, value, rtol=1e-12, atol=1e-12)


def test_threads_each_get_their_own_results():
    w = tg.tensor(RNG.standard_normal((16, 8, 3, 3)), requires_grad=True)
    images = [RNG.standard_normal((8, 8, 24, 24)) for _ in range(4)]
    want = []
    for image in images:
        x = tg.tensor(image, requires_grad=True)
        with tg.decompose():
            y = F.conv2d(x, w, padding=1)
        (gx,) = tg.grad(y, [x], np.ones(y.shape))
        want.append((y.data, gx.data))
    got: list = [None] * len(images)
    barrier = threading.Barrier(len(images))

    def work(k):
        barrier.wait()
        for _ in range(3):
            x = tg.tensor(images[k], requires_grad=True)
            y = F.conv2d(x, w, padding=1)
            (gx,) = tg.grad(y, [x], np.ones(y.shape))
        got[k] = (y.data, gx.data)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(images))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for (y, gx), (y_def, gx_def) in zip(got, want):
        np.testing.assert_allclose(y, y_def, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(gx, gx_def, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "kwargs", [{"stride": 2}, {"stride": (1, 2)}, {"groups": 2}], ids=["stride2", "stride1x2", "groups2"]
)
def test_other_strides_and_groups_record_the_definition(kwargs):
    x, w, b = leaves((2, 4, 6, 6), (4, 2 if "groups" in kwargs else 4, 3, 3))
    y = F.conv2d(x, w, b, padding=1, **kwargs)
    ops = {n.op for n in tg.toposort([y], only_requires_grad=False)}
    assert "conv2d_gemm" not in ops and {"sliding_window", "matmul"} <= ops


def test_conv1d_keeps_its_definition():
    y = F.conv1d(tg.randn(2, 3, 9), tg.randn(4, 3, 3), padding=1)
    assert "conv2d_gemm" not in {n.op for n in tg.toposort([y], only_requires_grad=False)}


@pytest.mark.parametrize("groups", [1, 2])
def test_a_transposed_convolution_correlates_with_a_conv2d_call(groups):
    x = tg.tensor(RNG.standard_normal((2, 4, 4, 5)), requires_grad=True)
    w = tg.tensor(RNG.standard_normal((4, 3, 3, 2)), requires_grad=True)
    b = tg.tensor(RNG.standard_normal(3 * groups), requires_grad=True)
    kwargs = {"stride": 2, "padding": 1, "output_padding": 1, "groups": groups}
    y = F.conv_transpose2d(x, w, b, **kwargs)
    nodes = tg.toposort([y], only_requires_grad=False)
    assert y.scope_path == "conv_transpose2d > conv2d"
    assert ("conv2d_gemm" in {n.op for n in nodes}) == (groups == 1)
    seed = RNG.standard_normal(y.shape)
    with tg.decompose():
        y_def = F.conv_transpose2d(x, w, b, **kwargs)
    np.testing.assert_allclose(y.data, y_def.data, rtol=1e-12, atol=1e-12)
    for g, g_def in zip(tg.grad(y, [x, w, b], seed), tg.grad(y_def, [x, w, b], seed)):
        np.testing.assert_allclose(g.data, g_def.data, rtol=1e-12, atol=1e-12)


def test_an_opened_rendering_draws_the_definition():
    x, w, b = leaves((1, 2, 5, 5), (3, 2, 3, 3))
    y = F.conv2d(x, w, b, padding=1)
    svg = tg.render(y.sum(), expand=True).pipe(format="svg").decode()
    assert "sliding_window" in svg and "matmul" in svg and "conv2d_gemm" not in svg
    collapsed = tg.render(y.sum()).source
    assert "one fused op: conv2d_gemm" in collapsed


def test_no_grad_keeps_nothing_for_a_backward():
    x, w, b = leaves((2, 2, 5, 5), (3, 2, 3, 3))
    with tg.no_grad():
        y = F.conv2d(x, w, b, padding=1)
    assert y.saved is None and not y.requires_grad and y.op is None


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (((2, 3, 5, 5), (4, 2, 3, 3)), {}, r"conv2d_gemm: expects an input \(N, C, H, W\).*\(2, 3, 5, 5\)"),
        (((2, 3, 5), (4, 3, 3)), {}, r"conv2d_gemm: expects an input"),
        (((1, 1, 2, 2), (1, 1, 3, 3)), {}, r"conv2d_gemm: the window \(3, 3\).*larger"),
        (((1, 1, 4, 4), (2, 1, 3, 3), (3,)), {}, r"conv2d_gemm: bias of shape \(3,\)"),
    ],
)
def test_called_directly_bad_shapes_name_the_op(args, kwargs, message):
    nodes = [tg.randn(*shape) for shape in args]
    with pytest.raises(OpError, match=message):
        tg.ops.conv2d_gemm(nodes, **kwargs)
