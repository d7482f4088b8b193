"""Fused primitives: a whole composite computed in one op, for speed.

Each is declared with ``fuses=`` naming the composite (in :mod:`tinygraph.functional`) it computes,
takes that composite's arguments, and is what the composite runs unless :func:`tinygraph.decompose`
asks for the definition in primitives. The test suite checks that both agree; renderings that open
the composite's call record the definition instead. ``docs/performance.md`` has the measurements.

- ``affine`` fuses ``linear`` with a bias: ``x Wᵀ + b`` with the bias added in place and its gradient
  summed directly, where the definition records three ops and unbroadcasts the bias gradient.
- ``softmax_cross_entropy`` fuses ``cross_entropy`` with class indices: ``logsumexp(x_n) - x[n, t_n]``
  with the exponentials kept for the backward — four passes over the logits where
  ``nll_loss(log_softmax(logits), target)`` makes about ten.
- ``rnn_affine`` fuses ``rnn_linear``, an Elman step's ``x·W_ihᵀ + h·W_hhᵀ + b``: two matmuls and
  two adds in one node, which an unrolled sequence makes once per step (fusing halves the nodes the
  backward walks through: about 20% faster for a 50-step sequence).
- ``window_max`` fuses ``max_pool2d`` without padding: the max of the kernel's strided views of the
  input, taken pairwise, and a backward that writes each view's share of the gradient straight
  into place, where the definition copies the windows into a stack, reduces it, and folds the
  gradient back from a stack.
- ``conv2d_gemm`` fuses ``conv2d`` with stride 1 and one group: im2col, one matrix product and the
  bias in one node, with its windows laid out over flattened image planes (``tinygraph/_im2col.py``)
  so that every copy and every addition of the fold runs over whole image rows.
"""

from __future__ import annotations

import functools
import operator

import numpy as np

from tinygraph import _blas, _im2col
from tinygraph.ops.window import conv_padding, im2col, window_geometry, window_plan
from tinygraph.registry import GRAPH, Sample, primitive

_LABELS = np.array([1, 0, 3])


def _rows(xp, a, width: int):
    """``a`` as a matrix of rows of length ``width`` (the batch axes flattened).

    The row count is spelled out rather than ``-1``, which numpy cannot infer when ``width`` is 0.
    """
    shape = a.shape
    rows = 1
    for d in shape[:-1]:
        rows *= d
    return xp.reshape(a, (rows, width))


@primitive(
    "affine",
    formula="y = x Wᵀ + b\n∂L/∂x = G W,  ∂L/∂W = Gᵀ x,  ∂L/∂b = Σ_batch G   (batch axes flattened)",
    vjp=(
        lambda xp, g, z, x, w, b: xp.matmul(g, w),
        lambda xp, g, z, x, w, b: xp.matmul(xp.transpose(_rows(xp, g, w.shape[0])), _rows(xp, x, w.shape[1])),
        lambda xp, g, z, x, w, b: xp.sum(_rows(xp, g, w.shape[0]), axis=0),
    ),
    fuses="linear",
    samples=(Sample((3, 4), (2, 4), (2,)), Sample((2, 3, 4), (5, 4), (5,)), Sample((4,), (3, 4), (3,))),
)
def affine(x, w, b):
    """``x @ w.T + b`` in one op (the fused form of :func:`linear` with a bias), the bias added in place."""
    y = np.matmul(x, w.T)
    if y.dtype == np.result_type(y, b):
        y += b
        return y
    return y + b


def _row_sums(a: np.ndarray) -> np.ndarray:
    """``a.sum(axis=1)`` of a 2-D array as one matrix-vector product (BLAS: ~4x faster than numpy's sum)."""
    return a @ np.ones(a.shape[1], a.dtype)


def _softmax_cross_entropy_vjp(xp, g, z, logits, target, reduction, saved):
    n = logits.shape[0]
    rows = np.arange(n)
    if saved is None:  # create_graph: the softmax recorded again with xp ops, to differentiate again
        onehot = np.zeros(logits.shape, logits.dtype)
        onehot[rows, target] = 1
        e = xp.exp(logits - xp.max(logits, axis=1, keepdims=True))
        d = e / xp.sum(e, axis=1, keepdims=True) - onehot
        if reduction == "none":
            return d * xp.reshape(g, (n, 1))
        return d * (g / n) if reduction == "mean" else d * g
    e, s = saved  # exp(x - c) and its row sums, for a per-row shift c (softmax = e / s)
    # G for each row: a scalar for "mean" (G / N) and "sum", one per row for "none"
    per_row = g / max(n, 1) if reduction == "mean" else g  # (n = 0: an empty batch)
    out = e * (per_row / s)[:, None]  # G · softmax, in one pass over the logits
    out[rows, target] -= per_row
    return out


@primitive(
    "softmax_cross_entropy",
    formula="ℓ_n = logsumexp(x_n) - x[n, t_n],  L = mean_n ℓ_n (or Σ_n ℓ_n, or ℓ)\n"
    "∂ℓ_n/∂x[n, c] = softmax(x_n)_c - [c = t_n]",
    vjp=(_softmax_cross_entropy_vjp,),
    saves=True,
    fuses="cross_entropy",
    samples=(
        Sample((3, 4), target=_LABELS),
        Sample((3, 4), target=_LABELS, reduction="sum"),
        Sample((3, 4), target=_LABELS, reduction="none"),
        Sample((2, 3), target=np.array([2, 2]), domain=(-900.0, 900.0), second_order=False),
        Sample((2, 3), target=np.array([0, 1]), domain=(-1000.0, -800.0), second_order=False),
    ),
)
def softmax_cross_entropy(logits, target, reduction="mean"):
    """Cross-entropy of class indices in one op (the fused form of :func:`cross_entropy`).

    ``ℓ_n = logsumexp(x_n) - x[n, t_n]``. The row sums ``s_n = Σ_c exp(x[n, c])`` are taken
    without the usual shift by the row maximum when they come out finite and well above the
    smallest normal number (then no term that matters overflowed or lost precision); otherwise
    they are recomputed stably as ``exp(m_n) Σ_c exp(x[n, c] - m_n)``. The exponentials and their
    sums are kept for the backward, ``(softmax(x_n) - onehot(t_n)) · G``.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow only sends us to the stable path
        e = np.exp(logits)
        s = _row_sums(e)
    info = np.finfo(logits.dtype)
    # The per-sample arithmetic is in extended precision: logsumexp(x_n) and x[n, t_n] may both be
    # large while ℓ_n is small, and rounding log(s_n) to the logits' precision would cost the loss
    # digits that log_softmax's (x - m) - log Σ exp(x - m) keeps.
    # (ufunc reductions rather than .min()/.max(), whose Python wrappers cost more than a few rows)
    if not s.size or (np.minimum.reduce(s) >= info.tiny / info.eps**2 and np.maximum.reduce(s) < np.inf):
        lse = np.log(s.astype(np.longdouble))
    else:
        m = logits.max(axis=1, keepdims=True)
        e = np.subtract(logits, m, out=e)
        np.exp(e, out=e)
        s = _row_sums(e)
        lse = np.log(s.astype(np.longdouble)) + m.reshape(-1)
    losses = lse - logits[np.arange(logits.shape[0]), target]
    if reduction == "mean" and not losses.size:  # an empty batch: the mean of nothing is nan, as PyTorch
        return np.asarray(np.nan, dtype=logits.dtype), (e, s)
    if reduction == "none":
        value = losses
    else:  # (the sum divided by N: numpy's mean costs more on a few rows)
        total = np.add.reduce(losses)
        value = total / losses.size if reduction == "mean" else total
    return np.asarray(value, dtype=logits.dtype), (e, s)


@primitive(
    "rnn_affine",
    formula=(
        "a = x · W_ihᵀ + h · W_hhᵀ + b   (the weights are passed transposed: Wi = W_ihᵀ, Wh = W_hhᵀ)\n"
        "∂L/∂x = G Wiᵀ,  ∂L/∂h = G Whᵀ,  ∂L/∂Wi = xᵀ G,  ∂L/∂Wh = hᵀ G,  ∂L/∂b = Σ_batch G"
    ),
    vjp=(  # (.T: arrays and Nodes both have it, cheaper than the transpose op's dispatch, every step)
        lambda xp, g, z, x, h, wi, wh, b: xp.matmul(g, wi.T),
        lambda xp, g, z, x, h, wi, wh, b: xp.matmul(g, wh.T),
        lambda xp, g, z, x, h, wi, wh, b: xp.matmul(x.T, g),
        lambda xp, g, z, x, h, wi, wh, b: xp.matmul(h.T, g),
        lambda xp, g, z, x, h, wi, wh, b: xp.sum(g, axis=0) if b.ndim == 1 else g,
    ),
    fuses="rnn_linear",
    samples=(Sample((3, 4), (3, 5), (4, 5), (5, 5), (5,)), Sample((1, 2), (1, 3), (2, 3), (3, 3), (1, 3))),
)
def rnn_affine(x, h, wi, wh, b):
    """The pre-activation of an Elman step, ``x @ wi + h @ wh + b``, for a batch of rows.

    ``x`` (N, input) and ``h`` (N, hidden) are 2-D; ``wi`` (input, hidden) and ``wh`` (hidden,
    hidden) are the transposed weight matrices; ``b`` broadcasts to (N, hidden).
    """
    if getattr(x, "ndim", 0) != 2 or getattr(h, "ndim", 0) != 2:  # (np.ndim dispatches: slower)
        raise ValueError(
            f"rnn_affine: x and h must be 2-D (batch, features), got shapes {np.shape(x)} and {np.shape(h)}"
        )
    return _blas.matmul_rows(x, wi) + _blas.matmul_rows(h, wh) + b


class _ConvSaved:
    """What ``conv2d_gemm`` keeps for its backward: the wide columns, and the wide output gradient
    its first rule made, for the second (both products read it; one copy per pass).

    The input's rule keeps the wide gradient, the weight's rule takes it (and checks it was made
    from the same ``g``). When only the input needs a gradient (frozen weights), it stays here,
    one output-sized array, until the graph is dropped or the next backward replaces it.
    """

    __slots__ = ("columns", "wide")

    def __init__(self, columns: np.ndarray) -> None:
        self.columns = columns
        self.wide: tuple[np.ndarray, np.ndarray] | None = None  # (g, g in the wide layout)

    def wide_gradient(self, g: np.ndarray, geo: _im2col.Geometry, keep: bool) -> np.ndarray:
        """``g`` in the products' wide layout, made once per ``g``; kept for the next rule if ``keep``."""
        memo = self.wide  # (one read: another thread's pass may replace it)
        if memo is not None and memo[0] is g:
            wide = memo[1]
        else:
            wide = _im2col.wide_gradient(g, geo)
        self.wide = (g, wide) if keep else None
        return wide


def _conv2d_gemm_vjp(xp, g, z, *inputs, padding, dilation, index, saved):
    x, w = inputs[0], inputs[1]
    if index == 2:  # the bias: ∂L/∂b = Σ_{n,i,j} G
        return xp.sum(g, axis=(0, 2, 3))
    o, kernel = w.shape[0], tuple(w.shape[2:])
    pads = conv_padding(padding, kernel, dilation)
    if saved is None:  # create_graph: the backward of the primitives' definition, recorded
        n, oh, ow = g.shape[0], g.shape[2], g.shape[3]
        g_rows = xp.reshape(xp.transpose(g, (1, 0, 2, 3)), (o, n * oh * ow))
        w_rows = xp.reshape(w, (o, -1))
        if index == 1:  # im2col as conv2d's primitives compute it
            padded_x = xp.pad(x, ((0, 0), (0, 0)) + tuple(pads)) if any(lo or hi for lo, hi in pads) else x
            cols = im2col(xp, xp.sliding_window(padded_x, kernel, (1, 1), dilation))
            return xp.reshape(xp.matmul(g_rows, xp.transpose(cols)), w.shape)
        d_cols = xp.matmul(xp.transpose(w_rows), g_rows)
        c = x.shape[1]
        d_windows = xp.transpose(xp.reshape(d_cols, (c, *kernel, n, oh, ow)), (3, 0, 4, 5, 1, 2))
        padded = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pads))
        dx = xp.fold(d_windows, x.shape[:2] + padded, kernel, (1, 1), dilation)
        crop = tuple(slice(lo, lo + s) for s, (lo, _) in zip(x.shape[2:], pads))
        return xp.getitem(dx, (slice(None), slice(None)) + crop)
    geo = _im2col.geometry(x.shape, kernel, pads, dilation)
    w_rows = w.reshape(o, -1)
    wide = saved.wide_gradient(g, geo, keep=index == 0)
    if index == 0:  # ∂L/∂x = fold(Wᵀ G)
        return _im2col.fold(_blas.matmul(w_rows.T, wide), geo)
    # ∂L/∂W = G · columnsᵀ (the wrap columns of G are zeros)
    return _blas.product(np, wide, saved.columns, like=w_rows, b_t=True).reshape(w.shape)


@primitive(
    "conv2d_gemm",
    formula=(
        "y[n, o, i, j] = b[o] + Σ_c Σ_{u,v} W[o, c, u, v] · x_pad[n, c, i + u·d_h, j + v·d_w]   (stride 1)\n"
        "∂L/∂x = fold(Wᵀ G),  ∂L/∂W = G · im2col(x)ᵀ,  ∂L/∂b = Σ_{n,i,j} G"
    ),
    variadic_vjp=_conv2d_gemm_vjp,
    saves=True,
    fuses="conv2d",
    samples=(
        Sample((2, 2, 4, 5), (3, 2, 3, 3), (3,), padding=(1, 1), dilation=(1, 1)),
        Sample((1, 2, 6, 5), (2, 2, 2, 3), padding=(1, 0), dilation=(1, 2)),
        Sample((2, 3, 4, 3), (2, 3, 2, 2), (2,), padding="same", dilation=(1, 1)),
        Sample((1, 1, 3, 4), (2, 1, 3, 4), padding="valid", dilation=(1, 1)),
    ),
)
def conv2d_gemm(*inputs, padding=(0, 0), dilation=(1, 1)):
    """``conv2d`` with stride 1 and one group in one op: x (N, C, H, W), w (O, C, KH, KW), optional b (O,).

    The fused form of :func:`~tinygraph.functional.conv2d` (same arguments): one matrix product of
    the filters with the windows gathered over flattened, zero-padded image planes
    (:mod:`tinygraph._im2col`); the bias is added as the output is copied out of the product.
    ``padding`` is ``"valid"``, ``"same"`` or one int per spatial axis (zeros on both sides).
    """
    if len(inputs) not in (2, 3):
        raise ValueError(
            f"conv2d_gemm: takes an input, a weight and optionally a bias, got {len(inputs)} inputs"
        )
    x, w = np.asarray(inputs[0]), np.asarray(inputs[1])
    if x.ndim != 4 or w.ndim != 4 or x.shape[1] != w.shape[1]:
        raise ValueError(
            f"conv2d_gemm: expects an input (N, C, H, W) and a weight (C_out, C, KH, KW) with the same C, "
            f"got shapes {x.shape} and {w.shape}"
        )
    kernel = (w.shape[2], w.shape[3])
    geo = _im2col.geometry(x.shape, kernel, conv_padding(padding, kernel, dilation), dilation)
    window_geometry("conv2d_gemm", (geo.hp, geo.wp), kernel, (1, 1), dilation)  # (the check)
    cols = _im2col.columns(x, geo)
    b = None
    if len(inputs) == 3:
        b = np.asarray(inputs[2])
        if b.shape != (w.shape[0],):
            raise ValueError(f"conv2d_gemm: bias of shape {b.shape} does not match weight {w.shape}")
    product = _blas.matmul(w.reshape(w.shape[0], -1), cols)  # (O, N·OH·Wp)
    return _im2col.output(product, geo, b), _ConvSaved(cols)


def _window_max_vjp(xp, g, z, x, kernel_size, stride, dilation):
    plan = window_plan("window_max", tuple(x.shape[-2:]), kernel_size, stride, dilation)
    views = [where for _, where in plan.offsets]
    lead = (Ellipsis,)
    if xp is GRAPH:  # create_graph: the same shares, recorded, and folded back
        winners = [xp.astype(xp.equal(xp.getitem(x, lead + v), z), g.dtype) for v in views]
        share = g / functools.reduce(operator.add, winners)
        parts = xp.stack([share * w for w in winners], axis=-1)
        windows = xp.reshape(parts, tuple(g.shape) + tuple(kernel_size))
        return xp.fold(windows, x.shape, kernel_size, stride, dilation)
    winners = [np.equal(x[lead + v], z) for v in views]  # tied maxima share the gradient evenly
    count = winners[0].astype(g.dtype)
    for w in winners[1:]:
        count += w
    share = np.divide(g, count, out=count)
    dx = (np.empty if plan.tiling else np.zeros)(x.shape, share.dtype)
    for v, w in zip(views, winners):
        if plan.disjoint:
            np.multiply(share, w, out=dx[lead + v])
        else:
            dx[lead + v] += share * w
    return dx


@primitive(
    "window_max",
    formula=(
        "z[..., i, j] = max_{u,v} x[..., i·s_h + u·d_h, j·s_w + v·d_w]   (max pooling, no padding)\n"
        "∂z/∂x = 1/k where x is its window's max (k = number of tied maxima), else 0"
    ),
    vjp=(_window_max_vjp,),
    fuses="max_pool2d",
    samples=(
        Sample((2, 3, 4, 6), kernel_size=(2, 2), stride=(2, 2), dilation=(1, 1)),
        Sample((2, 5, 7), kernel_size=(3, 2), stride=(1, 2), dilation=(1, 1)),
        Sample((1, 2, 7, 6), kernel_size=(2, 2), stride=(2, 1), dilation=(2, 2)),
    ),
)
def window_max(x, kernel_size=(2, 2), stride=(2, 2), dilation=(1, 1)):
    """Max pooling without padding in one op (the fused form of :func:`~tinygraph.functional.max_pool2d`).

    ``x`` (..., H, W): the max over the kernel's ``KH·KW`` strided views of the input (each view one
    offset of every window), taken pairwise with ``np.maximum`` (a NaN in a window wins, as in
    ``max``). Its backward gives each window's gradient to its maxima, shared evenly on ties.
    """
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"window_max: needs an input with at least 2 axes (..., H, W), got shape {x.shape}")
    plan = window_plan("window_max", x.shape[-2:], kernel_size, stride, dilation)
    views = [x[(Ellipsis,) + v] for _, v in plan.offsets]
    if len(views) == 1:
        return views[0].copy()
    z = np.maximum(views[0], views[1])
    for v in views[2:]:
        np.maximum(z, v, out=z)
    return z
