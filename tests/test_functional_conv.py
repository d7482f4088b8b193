"""Convolution composites: values against an independent numpy reference and PyTorch, gradients
by finite differences, the lecture's claims as properties, and error messages."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import tinygraph as tg
import tinygraph.functional as F
from tinygraph.errors import OpError
from tinygraph.testing import gradcheck, gradgradcheck

RNG = np.random.default_rng(7)


def reference_conv2d(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """Cross-correlation by a loop over kernel offsets and strided slices (no sliding windows)."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    _, _, kh, kw = w.shape
    oh = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    ow = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((x.shape[0], w.shape[0], oh, ow))
    for u in range(kh):
        for v in range(kw):
            patch = xp[
                :, :, u * dh : u * dh + sh * (oh - 1) + 1 : sh, v * dw : v * dw + sw * (ow - 1) + 1 : sw
            ]
            y += np.einsum("nchw,oc->nohw", patch, w[:, :, u, v])
    if b is not None:
        y += b[None, :, None, None]
    return y


def reference_convolve2d(x, k):
    """'valid' true convolution of 2-D arrays straight from the definition (flip, slide, multiply)."""
    kh, kw = k.shape
    out = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1))
    for i, j in np.ndindex(*out.shape):
        for u, v in np.ndindex(kh, kw):
            out[i, j] += x[i + u, j + v] * k[kh - 1 - u, kw - 1 - v]
    return out


def pair(v):
    return (v, v) if isinstance(v, int) else v


GEOMETRIES = [
    pytest.param(stride, padding, dilation, id=f"s{stride}-p{padding}-d{dilation}")
    for stride, padding, dilation in itertools.product([1, 2, (2, 1)], [0, 1, (2, 1)], [1, 2, (1, 2)])
]


@pytest.mark.parametrize(("stride", "padding", "dilation"), GEOMETRIES)
def test_conv2d_matches_numpy_reference(stride, padding, dilation):
    x = RNG.standard_normal((2, 3, 9, 8))
    w = RNG.standard_normal((4, 3, 3, 2))
    b = RNG.standard_normal(4)
    y = F.conv2d(tg.tensor(x), tg.tensor(w), tg.tensor(b), stride=stride, padding=padding, dilation=dilation)
    expected = reference_conv2d(x, w, b, pair(stride), pair(padding), pair(dilation))
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.data, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("stride", "padding", "dilation"), [(1, 0, 1), (2, 1, 1), ((1, 2), (0, 1), (2, 1)), (3, 2, 2)]
)
def test_conv2d_gradients_by_finite_differences(stride, padding, dilation):
    x = tg.tensor(RNG.standard_normal((2, 2, 5, 6)), requires_grad=True)
    w = tg.tensor(RNG.standard_normal((2, 2, 2, 3)), requires_grad=True)
    b = tg.tensor(RNG.standard_normal(2), requires_grad=True)
    fn = lambda x, w, b: F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation)
    assert gradcheck(fn, x, w, b)


def test_conv2d_second_derivatives():
    x = tg.tensor(RNG.standard_normal((1, 2, 4, 4)), requires_grad=True)
    w = tg.tensor(RNG.standard_normal((2, 2, 2, 2)), requires_grad=True)
    assert gradgradcheck(lambda x, w: F.conv2d(x, w, stride=2, padding=1), x, w)


def test_conv1d_matches_conv2d_on_a_row():
    x = RNG.standard_normal((2, 3, 11))
    w = RNG.standard_normal((4, 3, 3))
    b = RNG.standard_normal(4)
    y = F.conv1d(tg.tensor(x), tg.tensor(w), tg.tensor(b), stride=2, padding=2, dilation=2)
    expected = reference_conv2d(x[:, :, None, :], w[:, :, None, :], b, (1, 2), (0, 2), (1, 2))[:, :, 0, :]
    np.testing.assert_allclose(y.data, expected, rtol=1e-12, atol=1e-12)
    xs = tg.tensor(x, requires_grad=True)
    ws = tg.tensor(w, requires_grad=True)
    assert gradcheck(lambda x, w: F.conv1d(x, w, padding=1, stride=(2,)), xs, ws)


def test_convolve2d_is_true_convolution():
    x = RNG.standard_normal((5, 6))
    k = RNG.standard_normal((2, 3))
    np.testing.assert_allclose(
        F.convolve2d(tg.tensor(x), tg.tensor(k)).data, reference_convolve2d(x, k), atol=1e-12
    )


def test_convolve2d_equals_conv2d_with_flipped_kernel_and_differs_otherwise():
    x = RNG.standard_normal((1, 2, 6, 5))
    k = RNG.standard_normal((3, 2, 3, 2))
    conv = F.convolve2d(tg.tensor(x), tg.tensor(k)).data
    corr_flipped = F.conv2d(tg.tensor(x), tg.tensor(k[..., ::-1, ::-1].copy())).data
    np.testing.assert_allclose(conv, corr_flipped, atol=1e-12)
    assert not np.allclose(conv, F.conv2d(tg.tensor(x), tg.tensor(k)).data)


def test_convolve2d_and_conv2d_coincide_for_a_symmetric_kernel():
    x = RNG.standard_normal((6, 6))
    k = np.array([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 16  # Gaussian blur
    corr = F.conv2d(tg.tensor(x[None, None]), tg.tensor(k[None, None])).data[0, 0]
    np.testing.assert_allclose(F.convolve2d(tg.tensor(x), tg.tensor(k)).data, corr, atol=1e-15)


def test_lecture_4x4_image_2x2_filter():
    """The lecture's example: a 4×4 image and a 2×2 filter give a 3×3 feature map."""
    image = np.arange(16.0).reshape(4, 4)
    kernel = np.array([[1.0, 0.0], [0.0, -1.0]])
    y = F.conv2d(tg.tensor(image[None, None]), tg.tensor(kernel[None, None])).data[0, 0]
    assert y.shape == (3, 3)
    np.testing.assert_array_equal(y, np.full((3, 3), -5.0))  # x[i,j] - x[i+1,j+1] = -5 everywhere


def toeplitz_matrix(w, in_shape, padding):
    """The dense matrix T with conv2d(x, w) = T @ x.ravel(), built entry by entry from the definition."""
    c, h, wd = in_shape
    co, _, kh, kw = w.shape
    oh, ow = h + 2 * padding - kh + 1, wd + 2 * padding - kw + 1
    t = np.zeros((co * oh * ow, c * h * wd))
    for o, i, j in np.ndindex(co, oh, ow):
        row = (o * oh + i) * ow + j
        for ci, u, v in np.ndindex(c, kh, kw):
            r, s = i + u - padding, j + v - padding
            if 0 <= r < h and 0 <= s < wd:
                t[row, (ci * h + r) * wd + s] += w[o, ci, u, v]
    return t


def test_conv2d_is_a_sparse_matmul_with_shared_weights():
    """Sparse interactions and parameter sharing: conv2d is T @ x with a Toeplitz-structured T."""
    w = RNG.standard_normal((2, 2, 3, 3))
    x = RNG.standard_normal((1, 2, 5, 6))
    t = toeplitz_matrix(w, x.shape[1:], padding=1)
    y = F.conv2d(tg.tensor(x), tg.tensor(w), padding=1)
    np.testing.assert_allclose(y.data.ravel(), t @ x.ravel(), atol=1e-12)
    # each output touches at most C·KH·KW inputs, and all of T's entries are copies of w's 36 numbers
    assert (np.count_nonzero(t, axis=1) <= 2 * 3 * 3).all()
    assert set(np.unique(t[t != 0])) <= set(w.ravel())
    # and the gradient with respect to x is Tᵀ g
    xs = tg.tensor(x, requires_grad=True)
    g = RNG.standard_normal(y.shape)
    F.conv2d(xs, tg.tensor(w), padding=1).backward(g)
    np.testing.assert_allclose(xs.grad.ravel(), t.T @ g.ravel(), atol=1e-12)


def test_translation_equivariance():
    x = np.zeros((1, 1, 12, 12))
    x[0, 0, 3:6, 4:6] = RNG.standard_normal((3, 2))
    w = RNG.standard_normal((3, 1, 3, 3))
    shifted = np.roll(x, (2, 3), axis=(2, 3))
    y = F.conv2d(tg.tensor(x), tg.tensor(w), padding=1).data
    y_shifted = F.conv2d(tg.tensor(shifted), tg.tensor(w), padding=1).data
    np.testing.assert_allclose(y_shifted, np.roll(y, (2, 3), axis=(2, 3)), atol=1e-12)


def test_same_weights_apply_to_any_input_size():
    w = tg.tensor(RNG.standard_normal((4, 3, 3, 3)), requires_grad=True)
    for h, wd in [(5, 5), (8, 11), (3, 20)]:
        x = RNG.standard_normal((2, 3, h, wd))
        y = F.conv2d(tg.tensor(x), w, padding=1)
        assert y.shape == (2, 4, h, wd)
        np.testing.assert_allclose(y.data, reference_conv2d(x, w.data, padding=(1, 1)), atol=1e-12)


def test_conv2d_records_one_composite_call_and_keeps_float32():
    x = tg.randn(2, 3, 6, 6)
    w = tg.randn(4, 3, 3, 3, requires_grad=True)
    b = tg.zeros(4, requires_grad=True)
    y = F.conv2d(x, w, b, padding=1)
    assert y.dtype == np.float32 and y.op == "conv2d_gemm"  # the fused form (stride 1, one group)
    assert y.scope_path == "conv2d"
    with tg.decompose():
        y_def = F.conv2d(x, w, b, padding=1)
    assert y_def.dtype == np.float32 and y_def.op == "add" and y_def.scope_path == "conv2d"
    ops = {n.op for n in tg.toposort([y_def], only_requires_grad=False) if n.op}
    assert {"pad", "sliding_window", "matmul"} <= ops
    y.sum().backward()
    assert w.grad.dtype == np.float32 and b.grad.dtype == np.float32
    nested = F.convolve2d(tg.randn(5, 5, requires_grad=True), tg.randn(2, 2))
    assert "convolve2d > conv2d" in {n.scope_path for n in tg.toposort([nested])}


# ------------------------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("x_shape", "w_shape", "kwargs", "message"),
    [
        ((1, 3, 5, 5), (2, 4, 3, 3), {}, r"conv2d: input of shape \(1, 3, 5, 5\) has 3 channels but weight"),
        (
            (1, 3, 4, 4),
            (2, 3, 5, 5),
            {},
            r"conv2d: kernel of size \(5, 5\).*larger than the padded input \(4, 4\)",
        ),
        ((1, 3, 4, 4), (2, 3, 3, 3), {"dilation": 2}, r"conv2d: kernel .*spanning \(5, 5\)"),
        (
            (3, 5, 5),
            (2, 3, 3, 3),
            {},
            r"conv2d: input must have 4 dimensions \(N, C, H, W\), got shape \(3, 5, 5\)",
        ),
        ((1, 3, 5, 5), (2, 3, 3), {}, r"conv2d: weight must have 4 dimensions"),
        ((1, 3, 5, 5), (2, 3, 3, 3), {"stride": 0}, r"conv2d: stride entries must be integers >= 1"),
        (
            (1, 3, 5, 5),
            (2, 3, 3, 3),
            {"padding": (1, 2, 3)},
            r"conv2d: padding must be an int or a sequence of 2",
        ),
        ((1, 3, 5, 5), (2, 3, 3, 3), {"padding": -1}, r"conv2d: padding entries must be integers >= 0"),
    ],
)
def test_conv2d_errors_name_the_op_and_shapes(x_shape, w_shape, kwargs, message):
    with pytest.raises(OpError, match=message):
        F.conv2d(tg.zeros(x_shape), tg.zeros(w_shape), **kwargs)


def test_conv_bias_and_convolve_errors():
    with pytest.raises(OpError, match=r"conv2d: bias of shape \(3,\) does not match the 2 output channels"):
        F.conv2d(tg.zeros((1, 1, 4, 4)), tg.zeros((2, 1, 3, 3)), tg.zeros(3))
    with pytest.raises(OpError, match=r"conv1d: input must have 3 dimensions \(N, C, L\)"):
        F.conv1d(tg.zeros((1, 4)), tg.zeros((2, 1, 3)))
    with pytest.raises(OpError, match=r"convolve2d: kernel of shape \(3, 3\) is larger than the input"):
        F.convolve2d(tg.zeros((2, 5)), tg.zeros((3, 3)))
    with pytest.raises(OpError, match=r"convolve2d: expects an image \(H, W\)"):
        F.convolve2d(tg.zeros((1, 2, 5)), tg.zeros((3, 3)))


# ------------------------------------------------------------------------------------ PyTorch
@pytest.mark.torch
@pytest.mark.parametrize(("stride", "padding", "dilation"), GEOMETRIES)
def test_conv2d_matches_pytorch(stride, padding, dilation):
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((2, 3, 9, 7))
    w = RNG.standard_normal((4, 3, 3, 2))
    b = RNG.standard_normal(4)
    xs, ws, bs = (tg.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv2d(xs, ws, bs, stride=stride, padding=padding, dilation=dilation)
    g = RNG.standard_normal(y.shape)
    y.backward(g)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    yt = torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=padding, dilation=dilation)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    for ours, theirs in ((xs, xt), (ws, wt), (bs, bt)):
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize(("stride", "padding", "dilation"), [(1, 0, 1), (2, 1, 1), (3, 2, 2), (1, 3, 3)])
def test_conv1d_matches_pytorch(stride, padding, dilation):
    torch = pytest.importorskip("torch")
    x, w, b = RNG.standard_normal((2, 3, 13)), RNG.standard_normal((5, 3, 3)), RNG.standard_normal(5)
    xs, ws, bs = (tg.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv1d(xs, ws, bs, stride=stride, padding=padding, dilation=dilation)
    y.backward(np.ones(y.shape))
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    torch.nn.functional.conv1d(xt, wt, bt, stride=stride, padding=padding, dilation=dilation).sum().backward()
    for ours, theirs in ((xs, xt), (ws, wt), (bs, bt)):
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)
