"""Pooling composites: numpy references, PyTorch, gradients, the tie rule, invariance, errors."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import tinygraph as tg
import tinygraph.functional as F
from tinygraph.errors import OpError
from tinygraph.testing import gradcheck, gradgradcheck

RNG = np.random.default_rng(11)


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def reference_pool(x, kernel, stride, padding, reduce, fill, dilation=(1, 1)):
    """Pool by looping over output positions (independent of sliding_window)."""
    kernel, stride, padding, dilation = map(pair, (kernel, stride, padding, dilation))
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple((p, p) for p in padding), constant_values=fill)
    oh = (xp.shape[2] - dilation[0] * (kernel[0] - 1) - 1) // stride[0] + 1
    ow = (xp.shape[3] - dilation[1] * (kernel[1] - 1) - 1) // stride[1] + 1
    out = np.empty(x.shape[:2] + (oh, ow))
    for i, j in np.ndindex(oh, ow):
        r, c = i * stride[0], j * stride[1]
        window = xp[
            :,
            :,
            r : r + dilation[0] * (kernel[0] - 1) + 1 : dilation[0],
            c : c + dilation[1] * (kernel[1] - 1) + 1 : dilation[1],
        ]
        out[:, :, i, j] = reduce(window, axis=(2, 3))
    return out


POOLS = [
    pytest.param(k, s, p, id=f"k{k}-s{s}-p{p}")
    for k, s, p in [
        (2, None, 0),
        (3, 2, 1),
        ((3, 2), (2, 1), (1, 0)),
        (2, 1, 1),
        (3, 3, 0),
        ((2, 3), 2, (1, 1)),
    ]
]


@pytest.mark.parametrize(("kernel", "stride", "padding"), POOLS)
def test_max_pool2d_matches_reference(kernel, stride, padding):
    x = RNG.standard_normal((2, 3, 7, 9))
    y = F.max_pool2d(tg.tensor(x), kernel, stride, padding)
    expected = reference_pool(x, kernel, stride if stride is not None else kernel, padding, np.max, -np.inf)
    np.testing.assert_array_equal(y.data, expected)


@pytest.mark.parametrize(("kernel", "stride", "padding"), POOLS)
def test_avg_pool2d_matches_reference(kernel, stride, padding):
    x = RNG.standard_normal((2, 3, 7, 9))
    stride_ = stride if stride is not None else kernel
    y = F.avg_pool2d(tg.tensor(x), kernel, stride, padding)
    np.testing.assert_allclose(y.data, reference_pool(x, kernel, stride_, padding, np.mean, 0.0), atol=1e-14)
    # count_include_pad=False: the average of the real elements only
    y = F.avg_pool2d(tg.tensor(x), kernel, stride, padding, count_include_pad=False)
    expected = reference_pool(x, kernel, stride_, padding, np.nanmean, np.nan)
    np.testing.assert_allclose(y.data, expected, atol=1e-14)


def test_max_pool2d_with_dilation_matches_reference():
    x = RNG.standard_normal((1, 2, 8, 7))
    y = F.max_pool2d(tg.tensor(x), 2, stride=1, padding=1, dilation=(2, 3))
    np.testing.assert_array_equal(y.data, reference_pool(x, 2, 1, 1, np.max, -np.inf, dilation=(2, 3)))


@pytest.mark.parametrize(("kernel", "stride", "padding"), POOLS[:4])
def test_pool_gradients_by_finite_differences(kernel, stride, padding):
    x = tg.tensor(RNG.standard_normal((1, 2, 5, 6)), requires_grad=True)
    assert gradcheck(lambda x: F.max_pool2d(x, kernel, stride, padding), x)
    assert gradcheck(lambda x: F.avg_pool2d(x, kernel, stride, padding, count_include_pad=False), x)
    assert gradgradcheck(lambda x: F.avg_pool2d(x, kernel, stride, padding), x)


def test_max_pool_ties_share_the_gradient_evenly():
    """The documented rule: tied maxima of a window split its gradient (PyTorch gives it all to the
    first). Overlapping windows add their shares."""
    x = tg.tensor(np.array([[[[1.0, 3.0, 3.0], [0.0, 3.0, 2.0], [1.0, 1.0, 1.0]]]]), requires_grad=True)
    F.max_pool2d(x, 2, stride=1).sum().backward()
    # windows: (0,0) = 1,3,0,3 -> two tied 3s (½ each); (0,1) = 3,3,3,2 -> three tied (⅓ each);
    # (1,0) = 0,3,1,1 and (1,1) = 3,2,1,1 -> the centre alone.
    expected = np.array([[0.0, 0.5 + 1 / 3, 1 / 3], [0.0, 0.5 + 1 / 3 + 1 + 1, 0.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(x.grad[0, 0], expected)
    assert np.isclose(x.grad.sum(), 4.0)  # each of the 4 windows passes on exactly its gradient


def test_max_pool_is_invariant_to_small_shifts():
    """The lecture's claim: after a 1-pixel shift only part of the max-pooled outputs change."""
    x = RNG.standard_normal((1, 1, 16, 16))
    shifted = np.roll(x, 1, axis=3)
    conv = F.max_pool2d(tg.tensor(x), 2).data
    after = F.max_pool2d(tg.tensor(shifted), 2).data
    unchanged = np.isclose(conv, after)
    assert 0 < unchanged.mean() < 1
    # the input itself changed at almost every pixel
    assert np.isclose(x, shifted).mean() < 0.05


def test_pool_keeps_float32_and_records_its_primitives():
    x = tg.randn(2, 3, 8, 8, requires_grad=True)
    y = F.max_pool2d(x, 2, padding=1)
    assert y.dtype == np.float32 and y.scope_path == "max_pool2d"
    assert {"pad", "where", "sliding_window", "max"} <= {n.op for n in tg.toposort([y])}
    y.sum().backward()
    assert x.grad.dtype == np.float32
    with tg.detect_anomaly():  # the padding is the lowest finite value, not -inf
        F.max_pool2d(x, 3, stride=1, padding=1).sum().backward()


def test_unbatched_chw_input():
    x = RNG.standard_normal((3, 6, 6))
    np.testing.assert_array_equal(
        F.max_pool2d(tg.tensor(x), 2).data, F.max_pool2d(tg.tensor(x[None]), 2).data[0]
    )


# ------------------------------------------------------------------------------------ adaptive
def reference_adaptive(x, out, reduce):
    oh, ow = pair(out)
    h, w = x.shape[-2:]
    y = np.empty(x.shape[:-2] + (oh, ow))
    for i, j in np.ndindex(oh, ow):
        r0, r1 = math.floor(i * h / oh), math.ceil((i + 1) * h / oh)
        c0, c1 = math.floor(j * w / ow), math.ceil((j + 1) * w / ow)
        y[..., i, j] = reduce(x[..., r0:r1, c0:c1], axis=(-2, -1))
    return y


@pytest.mark.parametrize(
    ("size", "out"), [((7, 5), (3, 2)), ((8, 8), 4), ((5, 9), (5, 4)), ((4, 6), 1), ((3, 3), (5, 4))]
)
def test_adaptive_pools_match_the_bin_rule(size, out):
    x = RNG.standard_normal((2, 3) + size)
    np.testing.assert_allclose(
        F.adaptive_avg_pool2d(tg.tensor(x), out).data, reference_adaptive(x, out, np.mean), atol=1e-14
    )
    np.testing.assert_array_equal(
        F.adaptive_max_pool2d(tg.tensor(x), out).data, reference_adaptive(x, out, np.max)
    )


def test_adaptive_pooling_gives_a_fixed_size_for_any_input():
    w = tg.randn(4, 3, 3, 3)
    for h, wd in [(9, 9), (13, 7), (32, 20)]:
        x = tg.randn(2, 3, h, wd)
        for pool in (F.adaptive_avg_pool2d, F.adaptive_max_pool2d):
            assert pool(F.conv2d(x, w, padding=1), (3, 3)).shape == (2, 4, 3, 3)
    assert F.adaptive_avg_pool2d(tg.randn(1, 2, 5, 6), (None, 2)).shape == (1, 2, 5, 2)


def test_adaptive_pool_gradients():
    x = tg.tensor(RNG.standard_normal((1, 2, 5, 7)), requires_grad=True)
    assert gradcheck(lambda x: F.adaptive_max_pool2d(x, (2, 3)), x)
    assert gradgradcheck(lambda x: F.adaptive_avg_pool2d(x, (3, 2)), x)


# ------------------------------------------------------------------------------------ errors
def test_pool_errors_name_the_op_and_shapes():
    with pytest.raises(
        OpError, match=r"max_pool2d: padding \(2, 2\) must be at most half of the kernel size \(3, 3\)"
    ):
        F.max_pool2d(tg.zeros((1, 1, 8, 8)), 3, padding=2)
    with pytest.raises(
        OpError, match=r"avg_pool2d: kernel of size \(5, 5\).*larger than the padded input \(4, 4\)"
    ):
        F.avg_pool2d(tg.zeros((1, 1, 4, 4)), 5)
    with pytest.raises(OpError, match=r"max_pool2d: input must have 3 or 4 dimensions .*got shape \(4, 4\)"):
        F.max_pool2d(tg.zeros((4, 4)), 2)
    with pytest.raises(OpError, match=r"max_pool2d: kernel_size entries must be integers >= 1"):
        F.max_pool2d(tg.zeros((1, 1, 4, 4)), 0)
    with pytest.raises(OpError, match=r"adaptive_avg_pool2d: output_size must be an int or a pair"):
        F.adaptive_avg_pool2d(tg.zeros((1, 1, 4, 4)), (1, 2, 3))
    with pytest.raises(OpError, match=r"adaptive_max_pool2d: output_size entries must be integers >= 1"):
        F.adaptive_max_pool2d(tg.zeros((1, 1, 4, 4)), 0)


# ------------------------------------------------------------------------------------ PyTorch
@pytest.mark.torch
@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "dilation"),
    [
        (k, s, p, d)
        for (k, s, p), d in itertools.product([(2, None, 0), (3, 2, 1), ((3, 2), (1, 2), (1, 1))], [1, 2])
    ],
)
def test_max_pool2d_matches_pytorch(kernel, stride, padding, dilation):
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((2, 3, 9, 8))  # continuous values: no ties, so gradients agree too
    xs = tg.tensor(x, requires_grad=True)
    y = F.max_pool2d(xs, kernel, stride, padding, dilation)
    g = RNG.standard_normal(y.shape)
    y.backward(g)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.max_pool2d(xt, kernel, stride, padding, dilation)
    yt.backward(torch.tensor(g))
    np.testing.assert_array_equal(y.data, yt.detach().numpy())
    np.testing.assert_allclose(xs.grad, xt.grad.numpy(), atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize(
    ("kernel", "stride", "padding"), [(2, None, 0), (3, 2, 1), ((3, 2), (1, 2), (1, 1)), (3, 1, 1)]
)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool2d_matches_pytorch(kernel, stride, padding, count_include_pad):
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((2, 3, 9, 8))
    xs = tg.tensor(x, requires_grad=True)
    y = F.avg_pool2d(xs, kernel, stride, padding, count_include_pad=count_include_pad)
    g = RNG.standard_normal(y.shape)
    y.backward(g)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.avg_pool2d(xt, kernel, stride, padding, count_include_pad=count_include_pad)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(y.data, yt.detach().numpy(), atol=1e-13)
    np.testing.assert_allclose(xs.grad, xt.grad.numpy(), atol=1e-13)


@pytest.mark.torch
@pytest.mark.parametrize(("size", "out"), [((7, 5), (3, 2)), ((8, 8), 4), ((5, 9), (5, 4)), ((3, 3), (5, 4))])
def test_adaptive_pools_match_pytorch(size, out):
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((2, 3) + size)
    for ours, theirs in (
        (F.adaptive_avg_pool2d, torch.nn.functional.adaptive_avg_pool2d),
        (F.adaptive_max_pool2d, torch.nn.functional.adaptive_max_pool2d),
    ):
        xs = tg.tensor(x, requires_grad=True)
        y = ours(xs, out)
        g = RNG.standard_normal(y.shape)
        y.backward(g)
        xt = torch.tensor(x, requires_grad=True)
        yt = theirs(xt, out)
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(y.data, yt.detach().numpy(), atol=1e-13)
        np.testing.assert_allclose(xs.grad, xt.grad.numpy(), atol=1e-13)


@pytest.mark.torch
def test_max_pool_tie_rule_differs_from_pytorch_only_in_the_gradient():
    torch = pytest.importorskip("torch")
    x = np.array([[[[2.0, 2.0], [1.0, 0.0]]]])
    xs = tg.tensor(x, requires_grad=True)
    F.max_pool2d(xs, 2).sum().backward()
    xt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.max_pool2d(xt, 2).sum().backward()
    np.testing.assert_array_equal(xs.grad[0, 0], [[0.5, 0.5], [0.0, 0.0]])  # split evenly
    np.testing.assert_array_equal(xt.grad.numpy()[0, 0], [[1.0, 0.0], [0.0, 0.0]])  # first index
