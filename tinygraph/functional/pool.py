"""Pooling built from primitives: (pad +) sliding_window + a reduction over each window.

Max pooling keeps the largest value of each window; its gradient goes to that element. When
several elements of a window tie for the maximum, they **share the gradient evenly** (the core's
documented rule for ``max``) — PyTorch's ``max_pool2d`` instead gives all of it to the first
maximum in the window. Values agree either way; gradients differ only at exact ties.

Both poolings take PyTorch's ``ceil_mode`` (the output size rounded up: the last windows may run
past the bottom/right edge, which is padded just enough) and ``max_pool2d`` its ``return_indices``
(each maximum's flat position in its input plane, first maximum on ties, as PyTorch).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygraph._state import STATE
from tinygraph.errors import OpError
from tinygraph.functional._args import as_node, check_flag, check_ndim, ntuple
from tinygraph.node import Node
from tinygraph.ops import (
    ARRAY,
    getitem,
    matmul,
    max,
    mean,
    pad,
    reshape,
    sliding_window,
    stack,
    sum,
    transpose,
    where,
)
from tinygraph.ops.fused import window_max
from tinygraph.registry import Sample, composite, constant

IntOrPair = int | tuple[int, int]
_LAYOUT = "(N, C, H, W) or (C, H, W)"


def pool_output_size(
    size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool
) -> int:
    """PyTorch's pooling output length along one axis (``pooling_output_shape`` in ATen).

    ``out = floor_or_ceil((size + 2·padding - dilation·(kernel-1) - 1) / stride) + 1``; with
    ``ceil_mode`` the last window must still start inside the input or its left padding, so when
    ``(out-1)·stride >= size + padding`` one window is dropped.
    """
    span = dilation * (kernel - 1) + 1
    if not ceil_mode:
        return (size + 2 * padding - span) // stride + 1
    out = -(-(size + 2 * padding - span) // stride) + 1
    return out - 1 if (out - 1) * stride >= size + padding else out


def _pool_args(
    op: str,
    x: Node,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: Any,
):
    """Validated (kernel, stride, padding, dilation) pairs and the pad widths ((top, bottom), (left, right)).

    The widths are ``padding`` on both sides, plus on the bottom/right side the extra needed by
    ``ceil_mode``'s last, partial windows (zero unless ``ceil_mode`` is True).
    """
    check_ndim(op, "input", x, (3, 4), _LAYOUT)
    kernel = ntuple(kernel_size, 2, "kernel_size", op)
    stride = kernel if stride is None else ntuple(stride, 2, "stride", op)
    padding = ntuple(padding, 2, "padding", op, minimum=0)
    dilation = ntuple(dilation, 2, "dilation", op)
    ceil_mode = check_flag(op, "ceil_mode", ceil_mode)
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise OpError(
            f"{op}: padding {padding} must be at most half of the kernel size {kernel}, so every window "
            "holds at least one input element"
        )
    padded = tuple(s + 2 * p for s, p in zip(x.shape[-2:], padding))
    out = tuple(
        pool_output_size(s, k, st, p, d, ceil_mode)
        for s, k, st, p, d in zip(x.shape[-2:], kernel, stride, padding, dilation)
    )
    if any(o < 1 for o in out):
        raise OpError(
            f"{op}: kernel of size {kernel} (spanning {span}) is larger than the padded input {padded} "
            f"(input shape {x.shape}, padding {padding}"
            + (f", stride {stride}, ceil_mode=True: output size {out})" if ceil_mode else ")")
        )
    # How far the last window runs past the padded input (only ceil_mode makes this positive): the
    # far side is padded by just that much more.
    overrun = tuple((o - 1) * st + sp - pd for o, st, sp, pd in zip(out, stride, span, padded))
    widths = tuple((p, p + e) if e > 0 else (p, p) for p, e in zip(padding, overrun))
    return kernel, stride, padding, dilation, widths


def _stacked_windows(
    x: Node, kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int]
) -> Node:
    """The windows of the last two axes stacked along a new first axis: (KH·KW, ..., OH, OW).

    One contiguous copy (the reshape) of the strided window view; reducing over its first axis is
    then an elementwise max/sum of KH·KW arrays, far faster in numpy than reducing the view's two
    small trailing axes.
    """
    windows = sliding_window(x, kernel, stride, dilation)  # (..., OH, OW, KH, KW), a view
    lead = windows.ndim - 2
    stacked = transpose(windows, (lead, lead + 1, *range(lead)))
    return reshape(stacked, (kernel[0] * kernel[1],) + stacked.shape[2:])


def _pad_spatial(x: Node, widths: tuple[tuple[int, int], ...]) -> Node:
    """``x`` padded with zeros on its last two axes by ``widths`` ((top, bottom), (left, right))."""
    return pad(x, ((0, 0),) * (x.ndim - 2) + widths)


_NO_PAD = ((0, 0), (0, 0))


def _argmax_indices(
    windows: np.ndarray,
    real: np.ndarray | None,
    width: int,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    padding: tuple[int, int],
) -> np.ndarray:
    """PyTorch's ``return_indices``: the flat index ``h·W + w`` into its input plane of each window's max.

    ``windows`` are the stacked windows (KH·KW, ..., OH, OW) in scan order (row by row); ``real``
    (KH·KW, 1, ..., OH, OW) marks which window elements are input rather than padding (None: no padding);
    ``width`` is the input's W. As in PyTorch, ties go to the first maximum in scan order, a window
    holding NaN reports its last NaN, and padding is never reported (a window whose input elements
    are all -inf reports the first of them).
    """
    scores = windows if real is None else np.where(real, windows, -np.inf)
    arg = np.argmax(scores, axis=0)
    nan = np.isnan(scores)
    if nan.any():
        last_nan = len(scores) - 1 - np.argmax(nan[::-1], axis=0)
        arg = np.where(nan.any(axis=0), last_nan, arg)
    if real is not None:
        picked_real = np.take_along_axis(np.broadcast_to(real, scores.shape), arg[None], axis=0)[0]
        arg = np.where(picked_real, arg, np.argmax(real, axis=0))
    u, v = np.divmod(arg, kernel[1])
    oh, ow = arg.shape[-2:]
    rows = np.arange(oh)[:, None] * stride[0] + u * dilation[0] - padding[0]
    cols = np.arange(ow) * stride[1] + v * dilation[1] - padding[1]
    return (rows * width + cols).astype(np.int64)


@composite(
    "max_pool2d",
    formula="y[n, c, i, j] = max_{u,v} x_pad[n, c, i·s_h + u·d_h, j·s_w + v·d_w]   (padding never wins)\n"
    "∂L/∂x = G routed to each window's maximum (ties share it evenly), windows' gradients added",
    samples=(
        Sample((2, 2, 4, 4), kernel_size=2),
        Sample((1, 2, 5, 7), kernel_size=(3, 2), stride=(2, 1), padding=1),
        Sample((1, 1, 6, 6), kernel_size=2, stride=1, dilation=2),
        Sample((1, 2, 6, 7), kernel_size=3, stride=2, padding=1, ceil_mode=True),
    ),
)
def max_pool2d(
    x: Node,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Node | tuple[Node, np.ndarray]:
    """Max pooling over (KH, KW) windows of an NCHW (or CHW) input, as ``torch.nn.functional.max_pool2d``.

    Parameters
    ----------
    x : Node of shape (N, C, H, W) or (C, H, W)
    kernel_size : int or (int, int)
    stride : int or (int, int), optional; defaults to ``kernel_size`` (non-overlapping windows)
    padding : int or (int, int); implicit padding that never wins the max (at most half the kernel).
        It holds the dtype's lowest finite value rather than -inf, so ``detect_anomaly`` stays quiet;
        only an input holding -inf itself would see the difference.
    dilation : int or (int, int)
    ceil_mode : bool
        Round the output size up instead of down, so a last, partial window covers the bottom/right
        rows and columns a floor would leave out. As in PyTorch, a window must start inside the input
        or its left/top padding (else it is dropped). The part of a window past the padded input is
        filled like the padding: it never wins the max.
    return_indices : bool
        Also return where each maximum came from, in PyTorch's layout (the one its ``max_unpool2d``
        reads); see Returns.

    Returns
    -------
    Node of shape (..., OH, OW), with
    ``OH = floor((H + 2·pad - dil·(KH-1) - 1) / stride) + 1`` (``ceil`` with ``ceil_mode``, then
    ``OH - 1`` if ``(OH-1)·stride >= H + pad``), and the same rule for OW.
    With ``return_indices=True``, the pair ``(output, indices)``: ``indices`` is a plain int64 numpy
    array (not a Node) of the output's shape holding the flat index ``h·W + w`` of each window's
    maximum in its (n, c) input plane; ties give the first maximum in the window's row-by-row scan
    order, as PyTorch. The gradient is unchanged by it: tied maxima still share it evenly.
    """
    x = as_node(x)
    op = "max_pool2d"
    kernel, stride, padding, dilation, widths = _pool_args(
        op, x, kernel_size, stride, padding, dilation, ceil_mode
    )
    return_indices = check_flag(op, "return_indices", return_indices)
    if widths == _NO_PAD and not return_indices and not STATE.decompose:
        # the fused form: the max of the kernel's strided views, no stack of windows (ops/fused.py)
        return window_max(x, kernel_size=kernel, stride=stride, dilation=dilation)
    width = x.shape[-1]
    inside = None
    if widths != _NO_PAD:
        inside = np.pad(np.ones(x.shape[-2:], dtype=bool), widths)
        # The padding holds the dtype's lowest finite value (not -inf, which detect_anomaly would flag).
        lowest = _lowest(x.dtype)
        x = where(inside, _pad_spatial(x, widths), lowest)
    windows = _stacked_windows(x, kernel, stride, dilation)
    y = max(windows, axis=0)
    if not return_indices:
        return y
    real = None
    if inside is not None:
        real = ARRAY.sliding_window(inside, kernel, stride, dilation)  # (OH, OW, KH, KW)
        real = np.moveaxis(real.reshape(real.shape[:2] + (-1,)), -1, 0)  # (KH·KW, OH, OW)
        real = real.reshape(real.shape[:1] + (1,) * (windows.ndim - 3) + real.shape[1:])  # as windows
    return y, _argmax_indices(windows.data, real, width, kernel, stride, dilation, padding)


def _lowest(dtype: np.dtype) -> np.generic:
    """The lowest finite value of ``dtype`` (float, int or bool): a padding that never wins a max."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return np.bool_(False)
    info = np.finfo(dtype) if np.issubdtype(dtype, np.inexact) else np.iinfo(dtype)
    return dtype.type(info.min)


@composite(
    "avg_pool2d",
    formula="y[n, c, i, j] = (1/|window|) Σ_{u,v} x_pad[n, c, i·s_h + u, j·s_w + v]\n"
    "∂L/∂x = G / |window| spread over each window, windows' gradients added",
    samples=(
        Sample((2, 2, 4, 4), kernel_size=2),
        Sample((1, 2, 5, 7), kernel_size=(3, 2), stride=(2, 1), padding=1),
        Sample((1, 2, 5, 6), kernel_size=3, stride=2, padding=1, count_include_pad=False),
        Sample((1, 2, 6, 7), kernel_size=3, stride=2, padding=1, ceil_mode=True),
        Sample((1, 2, 6, 5), kernel_size=(3, 2), stride=2, ceil_mode=True, count_include_pad=False),
    ),
)
def avg_pool2d(
    x: Node,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Node:
    """Average pooling over (KH, KW) windows, as ``torch.nn.functional.avg_pool2d``.

    Parameters
    ----------
    x : Node of shape (N, C, H, W) or (C, H, W)
    kernel_size : int or (int, int)
    stride : int or (int, int), optional; defaults to ``kernel_size`` (non-overlapping windows)
    padding : int or (int, int); implicit zero padding (at most half the kernel).
    ceil_mode : bool
        Round the output size up instead of down, as in :func:`max_pool2d`: a last, partial window
        covers the bottom/right rows and columns a floor would leave out.
    count_include_pad : bool
        Whether the zero padding counts in each window's divisor (PyTorch's default, True); with
        False each window is divided by the number of real input elements in it. As in PyTorch,
        the part of a ``ceil_mode`` window past the padded input never counts.

    Returns
    -------
    Node of shape (..., OH, OW), with
    ``OH = floor((H + 2·pad - (KH-1) - 1) / stride) + 1`` (``ceil`` with ``ceil_mode``, then
    ``OH - 1`` if ``(OH-1)·stride >= H + pad``), and the same rule for OW.
    """
    x = as_node(x)
    kernel, stride, padding, _, widths = _pool_args(
        "avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode
    )
    size = x.shape[-2:]
    if widths != _NO_PAD:
        x = _pad_spatial(x, widths)
    windows = _stacked_windows(x, kernel, stride, (1, 1))
    past_edge = tuple((0, after - before) for before, after in widths)  # ceil_mode's extra, far side
    if past_edge == _NO_PAD and (count_include_pad or not any(padding)):
        return mean(windows, axis=0)
    # Each window's divisor: the positions it covers in the input (and in the zero padding, with
    # count_include_pad), never those past the padded input.
    if count_include_pad:
        counted = np.pad(np.ones(tuple(s + 2 * p for s, p in zip(size, padding)), x.dtype), past_edge)
    else:
        counted = np.pad(np.ones(size, x.dtype), widths)
    counts = ARRAY.sliding_window(counted, kernel, stride, (1, 1)).sum(axis=(-2, -1))
    return sum(windows, axis=0) / constant(counts)


def adaptive_bins(size: int, out: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive-pooling bins: bin i spans ``floor(i·size/out)`` to ``ceil((i+1)·size/out)``."""
    return [((i * size) // out, -((-(i + 1) * size) // out)) for i in range(out)]


def _output_size(op: str, x: Node, output_size: Any) -> tuple[int, int]:
    check_ndim(op, "input", x, (3, 4), _LAYOUT)
    sizes = (output_size, output_size) if output_size is None or isinstance(output_size, int) else output_size
    if not isinstance(sizes, (tuple, list)) or len(sizes) != 2:
        raise OpError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
    sizes = tuple(s if s is not None else d for s, d in zip(sizes, x.shape[-2:]))
    return ntuple(sizes, 2, "output_size", op)


def _averaging_matrix(size: int, out: int, dtype) -> np.ndarray:
    """(out, size) matrix whose row i averages bin i of :func:`adaptive_bins`."""
    a = np.zeros((out, size), dtype=dtype)
    for i, (lo, hi) in enumerate(adaptive_bins(size, out)):
        a[i, lo:hi] = 1.0 / (hi - lo)
    return a


@composite(
    "adaptive_avg_pool2d",
    formula="y[..., i, j] = mean of x over rows floor(i·H/OH) … ceil((i+1)·H/OH) - 1 and the same "
    "rule for columns\n= A_H x A_Wᵀ with averaging matrices A (the bins are rectangles, so it separates)",
    samples=(Sample((2, 2, 5, 7), output_size=(3, 2)), Sample((1, 3, 4, 4), output_size=2)),
)
def adaptive_avg_pool2d(x: Node, output_size: IntOrPair) -> Node:
    """Average pooling to a fixed (OH, OW) whatever the input size, with PyTorch's bin rule.

    Bin i along an axis of length H spans ``floor(i·H/OH)`` to ``ceil((i+1)·H/OH)`` (bins may
    overlap by one when OH does not divide H). Computed as ``A_H @ x @ A_Wᵀ``.
    """
    x = as_node(x)
    oh, ow = _output_size("adaptive_avg_pool2d", x, output_size)
    h, w = x.shape[-2:]
    rows = constant(_averaging_matrix(h, oh, x.dtype))
    cols = constant(_averaging_matrix(w, ow, x.dtype).T)
    return matmul(matmul(rows, x), cols)


@composite(
    "adaptive_max_pool2d",
    formula="y[..., i, j] = max of x over rows floor(i·H/OH) … ceil((i+1)·H/OH) - 1 and the same rule "
    "for columns\n∂L/∂x = G routed to each bin's maximum (ties share it evenly)",
    samples=(Sample((2, 2, 5, 7), output_size=(3, 2)), Sample((1, 3, 4, 6), output_size=2)),
)
def adaptive_max_pool2d(x: Node, output_size: IntOrPair) -> Node:
    """Max pooling to a fixed (OH, OW) whatever the input size, with PyTorch's bin rule.

    When OH divides H and OW divides W this is :func:`max_pool2d` with kernel = stride = H/OH;
    otherwise each bin is sliced and reduced on its own.
    """
    x = as_node(x)
    oh, ow = _output_size("adaptive_max_pool2d", x, output_size)
    h, w = x.shape[-2:]
    if h % oh == 0 and w % ow == 0:
        return max_pool2d(x, (h // oh, w // ow))
    lead = (slice(None),) * (x.ndim - 2)
    bins = [
        max(getitem(x, lead + (slice(r0, r1), slice(c0, c1))), axis=(-2, -1))
        for r0, r1 in adaptive_bins(h, oh)
        for c0, c1 in adaptive_bins(w, ow)
    ]
    return reshape(stack(bins, axis=-1), x.shape[:-2] + (oh, ow))
