"""Pooling built from primitives: (pad +) sliding_window + a reduction over each window.

Max pooling keeps the largest value of each window; its gradient goes to that element. When
several elements of a window tie for the maximum, they **share the gradient evenly** (the core's
documented rule for ``max``) — PyTorch's ``max_pool2d`` instead gives all of it to the first
maximum in the window. Values agree either way; gradients differ only at exact ties.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygraph.errors import OpError
from tinygraph.functional._args import as_node, check_ndim, ntuple
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
from tinygraph.registry import Sample, composite, constant

IntOrPair = int | tuple[int, int]
_LAYOUT = "(N, C, H, W) or (C, H, W)"


def _pool_args(op: str, x: Node, kernel_size: Any, stride: Any, padding: Any, dilation: Any):
    """Validated (kernel, stride, padding, dilation) pairs; padding at most half the kernel."""
    check_ndim(op, "input", x, (3, 4), _LAYOUT)
    kernel = ntuple(kernel_size, 2, "kernel_size", op)
    stride = kernel if stride is None else ntuple(stride, 2, "stride", op)
    padding = ntuple(padding, 2, "padding", op, minimum=0)
    dilation = ntuple(dilation, 2, "dilation", op)
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise OpError(
            f"{op}: padding {padding} must be at most half of the kernel size {kernel}, so every window "
            "holds at least one input element"
        )
    padded = tuple(s + 2 * p for s, p in zip(x.shape[-2:], padding))
    if any(k > s for k, s in zip(span, padded)):
        raise OpError(
            f"{op}: kernel of size {kernel} (spanning {span}) is larger than the padded input {padded} "
            f"(input shape {x.shape}, padding {padding})"
        )
    return kernel, stride, padding, dilation


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


def _pairs(padding: tuple[int, int]) -> tuple[tuple[int, int], ...]:
    return tuple((p, p) for p in padding)


def _pad_spatial(x: Node, padding: tuple[int, int]) -> Node:
    return pad(x, ((0, 0),) * (x.ndim - 2) + _pairs(padding))


@composite(
    "max_pool2d",
    formula="y[n, c, i, j] = max_{u,v} x_pad[n, c, i·s_h + u·d_h, j·s_w + v·d_w]   (padding never wins)\n"
    "∂L/∂x = G routed to each window's maximum (ties share it evenly), windows' gradients added",
    samples=(
        Sample((2, 2, 4, 4), kernel_size=2),
        Sample((1, 2, 5, 7), kernel_size=(3, 2), stride=(2, 1), padding=1),
        Sample((1, 1, 6, 6), kernel_size=2, stride=1, dilation=2),
    ),
)
def max_pool2d(
    x: Node,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> Node:
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

    Returns
    -------
    Node of shape (..., OH, OW), ``OH = (H + 2·pad - dil·(KH-1) - 1) // stride + 1``.
    """
    x = as_node(x)
    kernel, stride, padding, dilation = _pool_args("max_pool2d", x, kernel_size, stride, padding, dilation)
    if any(padding):
        inside = np.pad(np.ones(x.shape[-2:], dtype=bool), _pairs(padding))
        # The padding holds the dtype's lowest finite value (not -inf, which detect_anomaly would flag).
        x = where(inside, _pad_spatial(x, padding), np.finfo(x.dtype).min.item())
    return max(_stacked_windows(x, kernel, stride, dilation), axis=0)


@composite(
    "avg_pool2d",
    formula="y[n, c, i, j] = (1/|window|) Σ_{u,v} x_pad[n, c, i·s_h + u, j·s_w + v]\n"
    "∂L/∂x = G / |window| spread over each window, windows' gradients added",
    samples=(
        Sample((2, 2, 4, 4), kernel_size=2),
        Sample((1, 2, 5, 7), kernel_size=(3, 2), stride=(2, 1), padding=1),
        Sample((1, 2, 5, 6), kernel_size=3, stride=2, padding=1, count_include_pad=False),
    ),
)
def avg_pool2d(
    x: Node,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    count_include_pad: bool = True,
) -> Node:
    """Average pooling over (KH, KW) windows, as ``torch.nn.functional.avg_pool2d``.

    Zero padding counts in the average (``count_include_pad=True``, PyTorch's default); with
    ``count_include_pad=False`` each window is divided by the number of real input elements in it.
    """
    x = as_node(x)
    kernel, stride, padding, _ = _pool_args("avg_pool2d", x, kernel_size, stride, padding, 1)
    if any(padding):
        x = _pad_spatial(x, padding)
    windows = _stacked_windows(x, kernel, stride, (1, 1))
    if count_include_pad or not any(padding):
        return mean(windows, axis=0)
    # How many real (unpadded) elements each window holds.
    inside = np.pad(
        np.ones(tuple(s - 2 * p for s, p in zip(x.shape[-2:], padding)), x.dtype), _pairs(padding)
    )
    counts = ARRAY.sliding_window(inside, kernel, stride, (1, 1)).sum(axis=(-2, -1))
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
