"""max_pool2d's fused form, ``window_max``, against its definition in primitives (float64).

The definition stacks the windows, takes ``max`` over the stack and folds the gradient back; the
fused op takes the max of the kernel's strided views and writes each view's share of the
gradient into place. Ties share the gradient evenly in both.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import tinygraph as tg
import tinygraph.functional as F
from tinygraph.errors import OpError

RNG = np.random.default_rng(11)

GEOMETRIES = [
    # input shape, kernel, stride, dilation
    ((2, 3, 8, 6), 2, None, 1),  # tiling exactly: LeNet's pooling
    ((2, 3, 7, 9), 2, None, 1),  # a row and a column left over
    ((1, 2, 7, 7), 3, 1, 1),  # overlapping windows
    ((2, 2, 9, 8), (3, 2), (2, 1), (2, 3)),  # dilated, uneven
    ((3, 5, 6), 2, None, 1),  # no batch axis
    ((2, 1, 4, 4), 1, 1, 1),  # a 1×1 kernel
    ((1, 1, 5, 5), 5, None, 1),  # one window: global max
]


def pooled(x, kernel, stride, dilation, decomposed):
    with tg.decompose() if decomposed else contextlib.nullcontext():
        return F.max_pool2d(x, kernel, stride, dilation=dilation)


def check_against_definition(values, kernel, stride, dilation):
    x = tg.tensor(values, requires_grad=True)
    y = pooled(x, kernel, stride, dilation, False)
    y_def = pooled(x, kernel, stride, dilation, True)
    assert y.op == "window_max" and y.scope_path == "max_pool2d" and y_def.op != "window_max"
    np.testing.assert_array_equal(y.data, y_def.data)
    seed = RNG.standard_normal(y.shape)
    (g,) = tg.grad(y, [x], seed)
    (g_def,) = tg.grad(y_def, [x], seed)
    assert g.shape == x.shape and g.dtype == g_def.dtype
    np.testing.assert_allclose(g.data, g_def.data, rtol=1e-12, atol=1e-12)
    return g.data


@pytest.mark.parametrize(("shape", "kernel", "stride", "dilation"), GEOMETRIES)
def test_the_fused_form_equals_the_definition(shape, kernel, stride, dilation):
    check_against_definition(RNG.standard_normal(shape), kernel, stride, dilation)


@pytest.mark.parametrize(("shape", "kernel", "stride", "dilation"), GEOMETRIES[:4])
def test_tied_maxima_share_the_gradient_as_in_the_definition(shape, kernel, stride, dilation):
    values = np.maximum(RNG.integers(-2, 2, size=shape).astype(np.float64), 0)  # relu'd: many ties
    check_against_definition(values, kernel, stride, dilation)


def test_a_window_of_four_equal_values_gives_each_a_quarter():
    x = tg.tensor(np.zeros((1, 1, 2, 2)), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad, np.full((1, 1, 2, 2), 0.25))


def test_a_nan_wins_its_window_as_in_max():
    values = RNG.standard_normal((1, 1, 4, 4))
    values[0, 0, 1, 2] = np.nan
    x = tg.tensor(values, requires_grad=True)
    y = F.max_pool2d(x, 2)
    with tg.decompose():
        y_def = F.max_pool2d(x, 2)
    np.testing.assert_array_equal(np.isnan(y.data), np.isnan(y_def.data))
    assert np.isnan(y.data[0, 0, 0, 1]) and np.isfinite(y.data).sum() == 3


def test_float32_and_integer_inputs_keep_their_dtype():
    y32 = F.max_pool2d(tg.tensor(RNG.standard_normal((2, 2, 4, 4)).astype(np.float32)), 2)
    ints = RNG.integers(-50, 50, size=(2, 2, 4, 4))
    y_int = F.max_pool2d(tg.tensor(ints), 2)
    assert y32.dtype == np.float32 and y_int.dtype == ints.dtype
    np.testing.assert_array_equal(y_int.data, ints.reshape(2, 2, 2, 2, 2, 2).max(axis=(3, 5)))


def test_second_derivatives_equal_the_definitions():
    x = tg.tensor(RNG.standard_normal((1, 2, 5, 4)), requires_grad=True)
    seed = tg.tensor(RNG.standard_normal((1, 2, 4, 3)), requires_grad=True)

    def second(decomposed):
        y = pooled(x, 2, 1, 1, decomposed)
        (gx,) = tg.grad(y, [x], seed, create_graph=True)
        return tg.grad((gx * gx * x).sum(), [x, seed])

    for g, g_def in zip(second(False), second(True)):
        np.testing.assert_allclose(g.data, g_def.data, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kwargs", [{"padding": 1}, {"return_indices": True}, {"ceil_mode": True}], ids=str)
def test_padding_indices_and_partial_windows_record_the_definition(kwargs):
    x = tg.randn(1, 2, 5, 5, requires_grad=True)
    out = F.max_pool2d(x, 2, **kwargs)
    y = out[0] if isinstance(out, tuple) else out
    ops = {n.op for n in tg.toposort([y], only_requires_grad=False)}
    assert "window_max" not in ops and {"sliding_window", "max"} <= ops


def test_ceil_mode_without_a_partial_window_is_fused_and_equal():
    x = tg.tensor(RNG.standard_normal((1, 2, 6, 6)), requires_grad=True)
    y = F.max_pool2d(x, 2, ceil_mode=True)  # 6 = 3·2: no window runs past the edge
    assert y.op == "window_max"
    np.testing.assert_array_equal(y.data, F.max_pool2d(x, 2).data)


def test_an_opened_rendering_draws_the_definition():
    x = tg.randn(1, 2, 4, 4, requires_grad=True)
    y = F.max_pool2d(x, 2)
    svg = tg.render(y.sum(), expand=True).pipe(format="svg").decode()
    assert "sliding_window" in svg and "window_max" not in svg
    assert "one fused op: window_max" in tg.render(y.sum()).source


def test_called_directly_bad_inputs_name_the_op():
    with pytest.raises(OpError, match=r"window_max: needs an input with at least 2 axes"):
        tg.ops.window_max(tg.randn(4), kernel_size=(2, 2), stride=(2, 2), dilation=(1, 1))
    with pytest.raises(OpError, match=r"^window_max: the window \(3, 3\).*larger than"):
        tg.ops.window_max(tg.randn(1, 1, 2, 2), kernel_size=(3, 3), stride=(1, 1), dilation=(1, 1))
