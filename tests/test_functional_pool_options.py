"""Pooling's PyTorch options: ``ceil_mode`` (max and avg) and ``return_indices`` (max).

Values, gradients and indices are compared with PyTorch in float64 on tie-free inputs (distinct
values: tinygraph's tie rule for the gradient differs from PyTorch's on purpose); the output-size
rule, the avg divisor at the ragged edge and the tie rule of the indices are also checked against
hand-worked expectations, so they do not rest on PyTorch alone.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import tinygraph as tg
import tinygraph.functional as F
from tinygraph import nn
from tinygraph.errors import OpError
from tinygraph.testing import gradcheck, gradgradcheck

RNG = np.random.default_rng(2024)


def distinct(*shape):
    """float64 values with no two equal (a shuffled ramp), so no window has a tie."""
    return RNG.permutation(int(np.prod(shape))).reshape(shape).astype(np.float64) / 7.0


MAX_GRID = list(
    itertools.product(
        [2, 3, (3, 2)],  # kernel
        [1, 2, 3, (2, 3)],  # stride
        [0, 1],  # padding
        [1, 2],  # dilation
        [False, True],  # ceil_mode
    )
)
AVG_GRID = list(
    itertools.product(
        [2, 3, (3, 2)],  # kernel
        [1, 2, 3, (2, 3)],  # stride
        [0, 1],  # padding
        [False, True],  # ceil_mode
        [True, False],  # count_include_pad
    )
)


# ------------------------------------------------------------------------------------ PyTorch
@pytest.mark.torch
@pytest.mark.parametrize(("kernel", "stride", "padding", "dilation", "ceil_mode"), MAX_GRID)
def test_max_pool2d_options_match_pytorch(kernel, stride, padding, dilation, ceil_mode):
    torch = pytest.importorskip("torch")
    x = distinct(2, 3, 9, 7)  # odd sizes: floor and ceil disagree for most strides
    xs = tg.tensor(x, requires_grad=True)
    y, indices = F.max_pool2d(xs, kernel, stride, padding, dilation, ceil_mode=ceil_mode, return_indices=True)
    g = RNG.standard_normal(y.shape)
    y.backward(g)
    xt = torch.tensor(x, requires_grad=True)
    yt, it = torch.nn.functional.max_pool2d(
        xt, kernel, stride, padding, dilation, ceil_mode=ceil_mode, return_indices=True
    )
    yt.backward(torch.tensor(g))
    assert y.shape == tuple(yt.shape)
    np.testing.assert_array_equal(y.data, yt.detach().numpy())
    np.testing.assert_allclose(xs.grad, xt.grad.numpy(), atol=1e-12)
    assert isinstance(indices, np.ndarray) and not isinstance(indices, tg.Node)
    assert indices.dtype == np.int64 and indices.shape == y.shape
    np.testing.assert_array_equal(indices, it.numpy())


@pytest.mark.torch
@pytest.mark.parametrize(("kernel", "stride", "padding", "ceil_mode", "count_include_pad"), AVG_GRID)
def test_avg_pool2d_options_match_pytorch(kernel, stride, padding, ceil_mode, count_include_pad):
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((2, 3, 9, 7))
    xs = tg.tensor(x, requires_grad=True)
    y = F.avg_pool2d(xs, kernel, stride, padding, ceil_mode=ceil_mode, count_include_pad=count_include_pad)
    g = RNG.standard_normal(y.shape)
    y.backward(g)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.avg_pool2d(
        xt, kernel, stride, padding, ceil_mode=ceil_mode, count_include_pad=count_include_pad
    )
    yt.backward(torch.tensor(g))
    assert y.shape == tuple(yt.shape)
    np.testing.assert_allclose(y.data, yt.detach().numpy(), atol=1e-13)
    np.testing.assert_allclose(xs.grad, xt.grad.numpy(), atol=1e-13)


def test_the_grids_exercise_windows_past_the_edge():
    """Guard against a grid where ceil_mode never changes anything (the comparisons would then
    test only the floor path)."""
    changed = 0
    for kernel, stride, padding, dilation, _ in MAX_GRID:
        x = tg.zeros((1, 1, 9, 7))
        floor = F.max_pool2d(x, kernel, stride, padding, dilation).shape
        ceil = F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode=True).shape
        changed += floor != ceil
    assert changed >= 20


# ------------------------------------------------------------------------------------ ceil_mode
@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "floor_out", "ceil_out"),
    [
        (7, 2, 2, 0, 3, 4),  # ceil((7-2)/2) + 1 = 4: the last window holds row 6 and one row past it
        (4, 2, 2, 0, 2, 2),  # exact fit: ceil changes nothing
        (6, 3, 2, 1, 3, 4),
        (5, 2, 2, 1, 3, 3),  # ceil gives 4, but window 3 would start at 6 >= H + p = 6: dropped
        (4, 2, 3, 1, 2, 2),  # ceil gives 3, window 2 would start at 6 >= 5: dropped
        (2, 3, 2, 0, None, 1),  # floor: no window fits; ceil: one window running past the input
    ],
)
def test_ceil_mode_output_size(size, kernel, stride, padding, floor_out, ceil_out):
    x = tg.zeros((1, 1, size, size))
    for pool in (F.max_pool2d, F.avg_pool2d):
        assert pool(x, kernel, stride, padding, ceil_mode=True).shape == (1, 1, ceil_out, ceil_out)
        if floor_out is None:
            with pytest.raises(OpError, match="larger than the padded input"):
                pool(x, kernel, stride, padding)
        else:
            assert pool(x, kernel, stride, padding).shape == (1, 1, floor_out, floor_out)


def test_ceil_mode_pads_only_the_far_side_and_only_as_much_as_needed():
    x = tg.tensor(distinct(1, 1, 7, 5), requires_grad=True)
    y = F.max_pool2d(x, 2, ceil_mode=True)  # rows: 4 windows need 8 (one more); columns: 3 need 6
    (padded,) = [n for n in tg.toposort([y]) if n.op == "pad"]
    assert padded.shape == (1, 1, 8, 6)
    np.testing.assert_array_equal(padded.data[0, 0, :7, :5], x.data[0, 0])  # no shift: nothing on the left
    # The last row/column of windows is the max of the real elements they hold.
    np.testing.assert_array_equal(y.data[0, 0, 3, :2], x.data[0, 0, 6, :4].reshape(2, 2).max(axis=1))
    np.testing.assert_array_equal(y.data[0, 0, :3, 2], x.data[0, 0, :6, 4].reshape(3, 2).max(axis=1))
    assert y.data[0, 0, 3, 2] == x.data[0, 0, 6, 4]


def test_max_pool_ceil_mode_never_lets_the_overrun_win():
    x = -10.0 - distinct(1, 2, 5, 5)  # all negative: a zero fill past the edge would win
    y = F.max_pool2d(tg.tensor(x), 2, ceil_mode=True)
    assert y.shape == (1, 2, 3, 3)
    assert (y.data <= -10).all()


def test_avg_pool_ceil_mode_divisors_follow_pytorch():
    """count_include_pad counts the zero padding, never the positions past the padded input."""
    ones = tg.ones((1, 1, 6, 6), dtype=np.float64)
    # rows of windows (in input rows): -1..1 (2 real of 3 counted), 1..3, 3..5, 5..6 (1 real of 2
    # counted: row 6 is padding, row 7 is past the padded input and does not count)
    f = np.array([2 / 3, 1.0, 1.0, 1 / 2])
    y = F.avg_pool2d(ones, 3, stride=2, padding=1, ceil_mode=True)
    np.testing.assert_allclose(y.data[0, 0], np.outer(f, f), atol=1e-15)
    y = F.avg_pool2d(ones, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
    np.testing.assert_allclose(y.data[0, 0], np.ones((4, 4)), atol=1e-15)
    # without padding the overrun is never counted, whatever count_include_pad says
    x = distinct(1, 1, 5, 5)
    for include in (True, False):
        y = F.avg_pool2d(tg.tensor(x), 2, ceil_mode=True, count_include_pad=include)
        assert y.data[0, 0, 2, 2] == x[0, 0, 4, 4]
        np.testing.assert_allclose(y.data[0, 0, 2, :2], x[0, 0, 4, :4].reshape(2, 2).mean(axis=1))


def test_default_is_floor_mode():
    x = tg.tensor(distinct(1, 1, 7, 7))
    assert F.max_pool2d(x, 2).shape == (1, 1, 3, 3)
    assert F.avg_pool2d(x, 2).shape == (1, 1, 3, 3)
    assert not isinstance(F.max_pool2d(x, 2), tuple)


# ------------------------------------------------------------------------------------ indices
def test_indices_point_at_the_maximum_of_each_window():
    x = distinct(2, 3, 7, 6)
    y, indices = F.max_pool2d(tg.tensor(x), 3, stride=2, padding=1, dilation=1, return_indices=True)
    planes = x.reshape(2, 3, -1)
    np.testing.assert_array_equal(
        np.take_along_axis(planes, indices.reshape(2, 3, -1), axis=2), y.data.reshape(2, 3, -1)
    )
    # flat h·W + w into the (n, c) plane: top-left window (rows -1..1, columns -1..1) of plane (0, 0)
    h, w = divmod(int(indices[0, 0, 0, 0]), 6)
    assert x[0, 0, h, w] == x[0, 0, :2, :2].max()


def test_indices_of_unbatched_input_and_float32():
    x = distinct(3, 7, 5).astype(np.float32)
    y, indices = F.max_pool2d(tg.tensor(x), 2, ceil_mode=True, return_indices=True)
    assert y.dtype == np.float32 and indices.dtype == np.int64 and indices.shape == (3, 4, 3)
    assert indices[0, 3, 2] == 6 * 5 + 4  # the bottom-right window holds only x[:, 6, 4]


def test_indices_with_ties_give_the_first_maximum_in_scan_order():
    x = np.array([[[[1.0, 3.0, 3.0], [3.0, 0.0, 2.0], [3.0, 3.0, 1.0]]]])
    xs = tg.tensor(x, requires_grad=True)
    y, indices = F.max_pool2d(xs, 2, stride=1, return_indices=True)
    # windows (0,0): 1 3 / 3 0 -> first 3 at (0,1); (0,1): 3 3 / 0 2 -> (0,1);
    # (1,0): 3 0 / 3 3 -> (1,0); (1,1): 0 2 / 3 1 -> (2,1)
    np.testing.assert_array_equal(indices[0, 0], [[1, 1], [3, 7]])
    # the gradient keeps tinygraph's tie rule (shared evenly), return_indices or not
    y.sum().backward()
    expected = tg.tensor(x, requires_grad=True)
    F.max_pool2d(expected, 2, stride=1).sum().backward()
    np.testing.assert_array_equal(xs.grad, expected.grad)
    np.testing.assert_allclose(xs.grad[0, 0, 0], [0.0, 0.5 + 0.5, 0.5])  # (0,0) and (0,1) each split


def test_indices_never_point_into_padding():
    x = np.full((1, 1, 3, 3), -np.inf)
    _, indices = F.max_pool2d(tg.tensor(x), 2, padding=1, return_indices=True)
    np.testing.assert_array_equal(indices[0, 0], [[0, 1], [3, 4]])  # the first input element of each
    _, indices = F.max_pool2d(tg.tensor(x[..., :2]), 2, ceil_mode=True, return_indices=True)
    np.testing.assert_array_equal(indices[0, 0], [[0], [4]])  # row 3 is past the edge


@pytest.mark.torch
def test_indices_with_ties_and_nan_match_pytorch():
    torch = pytest.importorskip("torch")
    x = RNG.integers(0, 3, size=(2, 2, 7, 6)).astype(np.float64)  # many ties
    x[0, 0, 1, 1] = x[1, 1, 4, 2] = x[1, 1, 4, 3] = np.nan
    for kwargs in (
        dict(kernel_size=2),
        dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
        dict(kernel_size=2, stride=1, dilation=2),
    ):
        _, ours = F.max_pool2d(tg.tensor(x), return_indices=True, **kwargs)
        _, theirs = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **kwargs)
        np.testing.assert_array_equal(ours, theirs.numpy())


# ------------------------------------------------------------------------------------ gradients
@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "dilation"), [(2, None, 0, 1), (3, 2, 1, 1), ((3, 2), (2, 3), (1, 0), 2)]
)
def test_ceil_mode_gradients_by_finite_differences(kernel, stride, padding, dilation):
    x = tg.tensor(RNG.standard_normal((1, 2, 7, 6)), requires_grad=True)
    assert gradcheck(lambda x: F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode=True), x)
    assert gradcheck(
        lambda x: F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode=True, return_indices=True)[0],
        x,
    )
    for include in (True, False):
        assert gradcheck(
            lambda x, include=include: F.avg_pool2d(
                x, kernel, stride, padding, ceil_mode=True, count_include_pad=include
            ),
            x,
        )
    assert gradgradcheck(lambda x: F.avg_pool2d(x, kernel, stride, padding, ceil_mode=True), x)


# ------------------------------------------------------------------------------------ errors
def test_option_errors_name_the_op_and_the_value():
    x = tg.zeros((1, 1, 4, 4))
    with pytest.raises(OpError, match=r"max_pool2d: ceil_mode must be a bool \(True or False\), got 1"):
        F.max_pool2d(x, 2, ceil_mode=1)
    with pytest.raises(OpError, match=r"avg_pool2d: ceil_mode must be a bool \(True or False\), got 'yes'"):
        F.avg_pool2d(x, 2, ceil_mode="yes")
    with pytest.raises(
        OpError, match=r"max_pool2d: return_indices must be a bool \(True or False\), got None"
    ):
        F.max_pool2d(x, 2, return_indices=None)
    with pytest.raises(
        OpError,
        match=r"max_pool2d: kernel of size \(3, 3\) \(spanning \(3, 3\)\) is larger than the padded input "
        r"\(2, 2\) \(input shape \(1, 1, 2, 2\), padding \(0, 0\), stride \(1, 1\), ceil_mode=True: "
        r"output size \(0, 0\)\)",
    ):
        F.max_pool2d(tg.zeros((1, 1, 2, 2)), 3, stride=1, ceil_mode=True)
    # numpy bools are bools
    assert F.max_pool2d(x, 2, ceil_mode=np.True_, return_indices=np.False_).shape == (1, 1, 2, 2)


def test_layer_option_errors_name_the_layer():
    with pytest.raises(OpError, match=r"MaxPool2d: ceil_mode must be a bool \(True or False\), got 0"):
        nn.MaxPool2d(2, ceil_mode=0)
    with pytest.raises(
        OpError, match=r"MaxPool2d: return_indices must be a bool \(True or False\), got 'no'"
    ):
        nn.MaxPool2d(2, return_indices="no")
    with pytest.raises(OpError, match=r"AvgPool2d: ceil_mode must be a bool \(True or False\), got None"):
        nn.AvgPool2d(2, ceil_mode=None)


# ------------------------------------------------------------------------------------ layers
def test_layers_pass_the_options_through():
    x = tg.tensor(distinct(2, 3, 7, 9))
    pool = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True, return_indices=True)
    y, indices = pool(x)
    y_f, indices_f = F.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, return_indices=True)
    np.testing.assert_array_equal(y.data, y_f.data)
    np.testing.assert_array_equal(indices, indices_f)
    assert y.shape == (2, 3, 4, 5)
    assert nn.MaxPool2d(2, ceil_mode=True)(x).shape == (2, 3, 4, 5)
    assert nn.MaxPool2d(2)(x).shape == (2, 3, 3, 4)
    assert nn.AvgPool2d(2, ceil_mode=True)(x).shape == (2, 3, 4, 5)
    avg = nn.AvgPool2d(3, 2, 1, True, False)  # PyTorch's positional order: ceil_mode, count_include_pad
    assert avg.ceil_mode is True and avg.count_include_pad is False
    np.testing.assert_array_equal(
        avg(x).data, F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False).data
    )


def test_layer_reprs_show_the_options_set():
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=(2, 2), stride=(2, 2))"
    assert (
        repr(nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True, return_indices=True))
        == "MaxPool2d(kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), ceil_mode=True, return_indices=True)"
    )
    assert (
        repr(nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False))
        == "AvgPool2d(kernel_size=(2, 2), stride=(2, 2), ceil_mode=True, count_include_pad=False)"
    )


@pytest.mark.torch
def test_layers_with_options_match_pytorch():
    torch = pytest.importorskip("torch")
    x = distinct(2, 3, 9, 7)
    y, indices = nn.MaxPool2d(3, 2, 1, return_indices=True, ceil_mode=True)(tg.tensor(x))
    yt, it = torch.nn.MaxPool2d(3, 2, 1, return_indices=True, ceil_mode=True)(torch.tensor(x))
    np.testing.assert_array_equal(y.data, yt.numpy())
    np.testing.assert_array_equal(indices, it.numpy())
    for include in (True, False):
        y = nn.AvgPool2d(2, 2, 1, ceil_mode=True, count_include_pad=include)(tg.tensor(x))
        yt = torch.nn.AvgPool2d(2, 2, 1, ceil_mode=True, count_include_pad=include)(torch.tensor(x))
        np.testing.assert_allclose(y.data, yt.numpy(), atol=1e-13)
