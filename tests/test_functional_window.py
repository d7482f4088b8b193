"""The sliding_window primitive and its adjoint fold (col2im), under convolution and pooling."""

from __future__ import annotations

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.errors import OpError
from tinygraph.ops import fold, sliding_window

RNG = np.random.default_rng(3)

CASES = [
    ((2, 7, 8), (3, 2), (1, 1), (1, 1)),
    ((2, 7, 8), (2, 3), (2, 3), (1, 1)),
    ((3, 9, 6), (2, 2), (1, 2), (3, 2)),
    ((2, 10), (3,), (2,), (2,)),
    ((2, 6, 8), (3, 2), (3, 2), (1, 1)),  # windows tile the input exactly (pooling)
    ((2, 7, 9), (2, 2), (3, 4), (1, 1)),  # disjoint windows with gaps between them
]


@pytest.mark.parametrize(("shape", "window", "stride", "dilation"), CASES)
def test_sliding_window_lists_every_window(shape, window, stride, dilation):
    x = RNG.standard_normal(shape)
    z = sliding_window(tg.tensor(x), window, stride, dilation).data
    k = len(window)
    out = z.shape[len(shape) - k : len(shape)]
    assert z.shape == shape[: len(shape) - k] + out + window
    for o in np.ndindex(*out):
        for w in np.ndindex(*window):
            src = tuple(oi * s + wi * d for oi, wi, s, d in zip(o, w, stride, dilation))
            np.testing.assert_array_equal(z[(Ellipsis, *o, *w)], x[(Ellipsis, *src)])


@pytest.mark.parametrize(("shape", "window", "stride", "dilation"), CASES)
def test_fold_is_the_adjoint_of_sliding_window(shape, window, stride, dilation):
    """<sliding_window(x), y> = <x, fold(y)> for all x, y: fold is exactly the transpose."""
    x = RNG.standard_normal(shape)
    windows = sliding_window(tg.tensor(x), window, stride, dilation)
    y = RNG.standard_normal(windows.shape)
    folded = fold(tg.tensor(y), shape, window, stride, dilation)
    assert folded.shape == shape
    np.testing.assert_allclose(np.sum(windows.data * y), np.sum(x * folded.data), rtol=1e-12)


def test_fold_counts_how_often_each_element_is_covered():
    ones = np.ones((4, 4, 2, 2))  # the 4×4 windows of a 5×5 input, stride 1
    counts = fold(tg.tensor(ones), (5, 5), (2, 2), (1, 1), (1, 1)).data
    expected = np.array([[1, 2, 2, 2, 1]] * 1 + [[2, 4, 4, 4, 2]] * 3 + [[1, 2, 2, 2, 1]])
    np.testing.assert_array_equal(counts, expected)
    # stride larger than the window: uncovered positions stay zero
    gaps = fold(tg.tensor(np.ones((2, 2, 1, 1))), (4, 4), (1, 1), (3, 3), (1, 1)).data
    np.testing.assert_array_equal(gaps, [[1, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0], [1, 0, 0, 1]])


def test_the_two_primitives_differentiate_into_each_other():
    x = tg.tensor(RNG.standard_normal((2, 5, 5)), requires_grad=True)
    z = sliding_window(x, (2, 2), (1, 1), (1, 1))
    (gx,) = tg.grad(z, x, grad_outputs=np.ones(z.shape), create_graph=True)
    assert gx.op == "fold"
    y = tg.tensor(RNG.standard_normal((2, 4, 4, 2, 2)), requires_grad=True)
    f = fold(y, (2, 5, 5), (2, 2), (1, 1), (1, 1))
    (gy,) = tg.grad(f, y, grad_outputs=np.ones(f.shape), create_graph=True)
    assert gy.op == "sliding_window"


def test_sliding_window_is_a_view_and_keeps_float32():
    x = tg.randn(3, 8, 8)
    z = sliding_window(x, (3, 3), (1, 1), (1, 1))
    assert z.dtype == np.float32
    assert np.shares_memory(z.data, x.data) and not z.data.flags.writeable


def test_window_errors_name_the_op_and_shapes():
    with pytest.raises(
        OpError, match=r"sliding_window: the window \(4, 2\).*larger than the input's windowed axes \(3, 5\)"
    ):
        sliding_window(tg.zeros((2, 3, 5)), (4, 2), (1, 1), (1, 1))
    with pytest.raises(OpError, match=r"sliding_window: stride entries must be positive"):
        sliding_window(tg.zeros((2, 3, 5)), (2, 2), (0, 1), (1, 1))
    with pytest.raises(
        OpError, match=r"fold: windows of shape \(2, 2, 2, 2\) do not come from an input of shape \(4, 4\)"
    ):
        fold(tg.zeros((2, 2, 2, 2)), (4, 4), (2, 2), (1, 1), (1, 1))
