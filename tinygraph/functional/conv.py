"""Convolutions built from primitives: pad + sliding_window (im2col) + one matmul.

For an input x (N, C, *S) and weights W (C_out, C, *K) the windows of the padded input are
gathered into one matrix ("im2col") of shape (C·∏K, N·∏O), one column per output position, and
multiplied by W reshaped to (C_out, C·∏K): every output pixel is a dot product of the *same*
weights with a different window (parameter sharing), each touching only ∏K·C inputs (sparse
interactions)::

    y[n, o, p] = b[o] + Σ_c Σ_k W[o, c, k] · x_pad[n, c, p·stride + k·dilation]

Backward is the same three primitives in reverse: the matmul's two products, and ``fold``
(col2im) adding each window's gradient back where it came from.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygraph._state import STATE
from tinygraph.errors import OpError
from tinygraph.functional._args import as_node, ntuple
from tinygraph.node import Node
from tinygraph.ops import GRAPH, getitem, matmul, pad, reshape, sliding_window, transpose
from tinygraph.ops.fused import conv2d_gemm
from tinygraph.ops.window import conv_padding, im2col
from tinygraph.registry import Sample, composite

IntOrTuple = int | tuple[int, ...]


def _padding_pairs(
    op: str,
    padding: Any,
    nd: int,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
) -> tuple[tuple[int, int], ...]:
    """``padding`` (an int, a tuple, ``"valid"`` or ``"same"``) as (before, after) pairs per spatial axis.

    ``"same"`` needs stride 1 (:func:`tinygraph.ops.window.conv_padding` gives the pairs).
    """
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise OpError(
                f"{op}: padding must be an int, a tuple of ints, 'valid' or 'same', got {padding!r}"
            )
        if padding == "same" and any(s != 1 for s in stride):
            raise OpError(f"{op}: padding='same' needs stride 1 (as in PyTorch), got stride {stride}")
        return conv_padding(padding, kernel, dilation)
    return conv_padding(ntuple(padding, nd, "padding", op, minimum=0), kernel, dilation)


def _check_groups(op: str, groups: Any, c_in: int, c_out: int) -> int:
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise OpError(f"{op}: groups must be a positive integer, got {groups!r}")
    if c_in % groups or c_out % groups:
        raise OpError(
            f"{op}: groups={groups} must divide both the {c_in} input channels and the {c_out} output "
            "channels"
        )
    return int(groups)


def _convolution(
    op: str,
    x: Any,
    w: Any,
    b: Any,
    stride: IntOrTuple,
    padding: IntOrTuple | str,
    dilation: IntOrTuple,
    nd: int,
    groups: int = 1,
) -> Node:
    """The ``nd``-dimensional cross-correlation shared by :func:`conv1d` and :func:`conv2d`."""
    x, w = as_node(x), as_node(w)
    layout = {1: "(N, C, L)", 2: "(N, C, H, W)"}[nd]
    if x.ndim != nd + 2:
        raise OpError(f"{op}: input must have {nd + 2} dimensions {layout}, got shape {x.shape}")
    if w.ndim != nd + 2:
        raise OpError(
            f"{op}: weight must have {nd + 2} dimensions (C_out, C_in / groups, kernel...), got shape "
            f"{w.shape}"
        )
    c_out = w.shape[0]
    groups = _check_groups(op, groups, x.shape[1], c_out)
    if x.shape[1] != w.shape[1] * groups:
        raise OpError(
            f"{op}: input of shape {x.shape} has {x.shape[1]} channels but weight of shape {w.shape} "
            f"expects {w.shape[1] * groups} (weights are (C_out, C_in / groups, kernel...), groups={groups})"
        )
    stride = ntuple(stride, nd, "stride", op)
    dilation = ntuple(dilation, nd, "dilation", op)
    kernel = tuple(w.shape[2:])
    if min(kernel, default=1) < 1:
        raise OpError(
            f"{op}: the kernel must have at least one element per axis, got weight of shape {w.shape}"
        )
    pads = _padding_pairs(op, padding, nd, kernel, stride, dilation)
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pads))
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(k > s for k, s in zip(span, padded)):
        raise OpError(
            f"{op}: kernel of size {kernel} (dilation {dilation}, spanning {span}) is larger than the "
            f"padded input {padded} (input shape {x.shape}, padding {padding})"
        )
    if b is not None:
        b = as_node(b)
        if b.shape != (c_out,):
            raise OpError(
                f"{op}: bias of shape {b.shape} does not match the {c_out} output channels "
                f"of weight {w.shape}"
            )
    if op == "conv2d" and groups == 1 and stride == (1, 1) and not STATE.decompose:
        # the fused form: the same windows and product over flattened image planes (ops/fused.py)
        given = padding if isinstance(padding, str) else tuple(lo for lo, _ in pads)
        return conv2d_gemm((x, w) if b is None else (x, w, b), padding=given, dilation=dilation)
    if any(lo or hi for lo, hi in pads):
        x = pad(x, ((0, 0), (0, 0)) + pads)
    windows = sliding_window(x, kernel, stride, dilation)  # (N, C, *O, *K), a view
    n, out = x.shape[0], windows.shape[2 : 2 + nd]
    rows = w.shape[1] * math.prod(kernel)  # C_in / groups · ∏K
    if groups == 1:
        columns = im2col(GRAPH, windows)  # (C·∏K, N·∏O): its reshape is the forward's one copy
        y = matmul(reshape(w, (c_out, rows)), columns)  # (C_out, N·∏O)
    else:
        # One im2col matrix per group, (G, C/G·∏K, N·∏O), and one batched matmul with the
        # group's filters (G, C_out/G, C/G·∏K).
        grouped = reshape(windows, (n, groups, w.shape[1]) + windows.shape[2:])
        order = (1, 2, *range(3 + nd, 3 + 2 * nd), 0, *range(3, 3 + nd))
        columns = reshape(transpose(grouped, order), (groups, rows, n * math.prod(out)))
        y = matmul(reshape(w, (groups, c_out // groups, rows)), columns)  # (G, C_out/G, N·∏O)
    y = transpose(reshape(y, (c_out, n) + out), (1, 0, *range(2, 2 + nd)))
    if b is not None:
        y = y + reshape(b, (1, c_out) + (1,) * nd)
    return y


@composite(
    "conv1d",
    formula="y[n, o, t] = b[o] + Σ_c Σ_k W[o, c, k] · x_pad[n, c, t·stride + k·dilation]",
    samples=(
        Sample((2, 2, 7), (3, 2, 3), (3,)),
        Sample((1, 2, 8), (2, 2, 2), stride=2, padding=1, dilation=2),
        Sample((2, 4, 6), (6, 2, 3), (6,), padding="same", groups=2),
    ),
)
def conv1d(
    x: Node,
    w: Node,
    b: Node | None = None,
    stride: IntOrTuple = 1,
    padding: IntOrTuple | str = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
) -> Node:
    """1-D cross-correlation (the deep-learning "convolution"): x (N, C_in, L), w (C_out, C_in/groups, K).

    Zero padding of ``padding`` on both ends (or ``"valid"``: none; ``"same"``: the output keeps
    the length, stride 1); output length ``(L + 2·padding - dilation·(K-1) - 1) // stride + 1``.
    ``groups`` as in :func:`conv2d`.
    """
    return _convolution("conv1d", x, w, b, stride, padding, dilation, 1, groups)


@composite(
    "conv2d",
    formula="y[n, o, i, j] = b[o] + Σ_c Σ_{u,v} W[o, c, u, v] · x_pad[n, c, i·s_h + u·d_h, j·s_w + v·d_w]\n"
    "∂L/∂x = fold(Wᵀ G),  ∂L/∂W = G · im2col(x)ᵀ,  ∂L/∂b = Σ_{n,i,j} G",
    samples=(
        Sample((2, 2, 4, 5), (3, 2, 3, 3), (3,)),
        Sample((1, 2, 6, 5), (2, 2, 2, 3), stride=(2, 1), padding=1, dilation=(1, 2)),
        Sample((1, 1, 5, 5), (2, 1, 2, 2), stride=2, padding=(0, 1)),
        Sample((2, 4, 4, 3), (6, 2, 2, 3), (6,), groups=2, padding="same"),
        Sample((1, 3, 5, 4), (3, 1, 3, 3), stride=2, padding=1, groups=3),
    ),
)
def conv2d(
    x: Node,
    w: Node,
    b: Node | None = None,
    stride: IntOrTuple = 1,
    padding: IntOrTuple | str = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
) -> Node:
    """2-D cross-correlation (the deep-learning "convolution"), NCHW, as ``torch.nn.functional.conv2d``.

    Parameters
    ----------
    x : Node of shape (N, C_in, H, W)
    w : Node of shape (C_out, C_in / groups, KH, KW)
    b : Node of shape (C_out,), optional
    stride, padding, dilation : int or (int, int)
        Zero padding is added on both sides of each spatial axis. ``padding`` may also be
        ``"valid"`` (none) or ``"same"`` (the output keeps the input's size; stride 1; an odd total
        puts the extra zero at the end, as PyTorch).
    groups : int
        Split the input channels into ``groups`` groups, each convolved with its own
        ``C_out / groups`` filters (``groups = C_in``: a depthwise convolution).

    Returns
    -------
    Node of shape (N, C_out, OH, OW), ``OH = (H + 2·pad_h - dil_h·(KH-1) - 1) // stride_h + 1``.
    """
    return _convolution("conv2d", x, w, b, stride, padding, dilation, 2, groups)


@composite(
    "convolve2d",
    formula="y[i, j] = Σ_{u,v} x[i + u, j + v] · k[KH-1-u, KW-1-v]   (the kernel flipped: true convolution)",
    samples=(Sample((4, 5), (2, 3)), Sample((1, 2, 4, 4), (3, 2, 2, 2))),
)
def convolve2d(x: Node, k: Node) -> Node:
    """True 2-D convolution, 'valid' mode: cross-correlation with the kernel flipped in both axes.

    ``x`` (H, W) with ``k`` (KH, KW) gives (H-KH+1, W-KW+1), as ``scipy.signal.convolve2d(x, k,
    'valid')``; ``x`` (N, C, H, W) with ``k`` (C_out, C, KH, KW) flips each kernel and returns
    (N, C_out, OH, OW). For a kernel symmetric under the 180° rotation it equals :func:`conv2d`.
    """
    x, k = as_node(x), as_node(k)
    batched = x.ndim == 4 and k.ndim == 4
    if not (batched or (x.ndim == 2 and k.ndim == 2)):
        raise OpError(
            f"convolve2d: expects an image (H, W) with a kernel (KH, KW), or a batch (N, C, H, W) with "
            f"kernels (C_out, C, KH, KW); got shapes {x.shape} and {k.shape}"
        )
    if k.shape[-2] > x.shape[-2] or k.shape[-1] > x.shape[-1]:
        raise OpError(f"convolve2d: kernel of shape {k.shape} is larger than the input of shape {x.shape}")
    flipped = getitem(k, (Ellipsis, slice(None, None, -1), slice(None, None, -1)))
    if batched:
        return conv2d(x, flipped)
    y = conv2d(reshape(x, (1, 1) + x.shape), reshape(flipped, (1, 1) + k.shape))
    return reshape(y, y.shape[2:])


def _dilate(x: Node, stride: tuple[int, int]) -> Node:
    """Insert ``stride - 1`` zeros between neighbouring pixels: (N, C, H, W) -> (N, C, (H-1)s+1, (W-1)s+1)."""
    sh, sw = stride
    if sh == sw == 1:
        return x
    n, c, h, w = x.shape
    spread = pad(reshape(x, (n, c, h, 1, w, 1)), ((0, 0), (0, 0), (0, 0), (0, sh - 1), (0, 0), (0, sw - 1)))
    grid = reshape(spread, (n, c, h * sh, w * sw))
    return getitem(grid, (Ellipsis, slice(0, (h - 1) * sh + 1), slice(0, (w - 1) * sw + 1)))


@composite(
    "conv_transpose2d",
    formula="y = conv2d(dilate(x, stride), flip(Wᵀ), padding = dilation·(K - 1) - padding)\n"
    "(the gradient of conv2d with respect to its input: each input pixel spreads W over the output)",
    samples=(
        Sample((2, 3, 3, 4), (3, 2, 2, 3), (2,)),
        Sample((1, 2, 3, 3), (2, 3, 3, 3), stride=2, padding=1, output_padding=1),
        Sample((1, 4, 2, 3), (4, 1, 2, 2), stride=(1, 2), groups=2, dilation=2),
    ),
)
def conv_transpose2d(
    x: Node,
    w: Node,
    b: Node | None = None,
    stride: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    output_padding: IntOrTuple = 0,
    groups: int = 1,
    dilation: IntOrTuple = 1,
) -> Node:
    """Transposed 2-D convolution ("deconvolution"), as ``torch.nn.functional.conv_transpose2d``.

    The adjoint of :func:`conv2d`: where conv2d gathers a window of the input into each output
    pixel, this spreads each input pixel, weighted by the filter, over a window of the output.

    Parameters
    ----------
    x : Node of shape (N, C_in, H, W)
    w : Node of shape (C_in, C_out / groups, KH, KW) (PyTorch's layout for transposed convolutions)
    b : Node of shape (C_out,), optional
    stride, padding, output_padding, dilation : int or (int, int)
        ``padding`` crops that many rows/columns from each side of the full output;
        ``output_padding`` (smaller than the stride or the dilation) adds them back at the end, to
        pick one of the input sizes a strided conv2d maps to the same output size.
    groups : int

    Returns
    -------
    Node of shape (N, C_out, OH, OW), ``OH = (H - 1)·stride - 2·padding + dilation·(KH - 1) +
    output_padding + 1``.
    """
    op = "conv_transpose2d"
    x, w = as_node(x), as_node(w)
    if x.ndim != 4 or w.ndim != 4:
        raise OpError(
            f"{op}: expects an input (N, C_in, H, W) and a weight (C_in, C_out / groups, KH, KW), got shapes "
            f"{x.shape} and {w.shape}"
        )
    stride = ntuple(stride, 2, "stride", op)
    dilation = ntuple(dilation, 2, "dilation", op)
    padding = ntuple(padding, 2, "padding", op, minimum=0)
    output_padding = ntuple(output_padding, 2, "output_padding", op, minimum=0)
    c_in = w.shape[0]
    groups = _check_groups(op, groups, c_in, w.shape[1] * (groups if isinstance(groups, int) else 1))
    if x.shape[1] != c_in:
        raise OpError(
            f"{op}: input of shape {x.shape} has {x.shape[1]} channels but weight of shape {w.shape} expects "
            f"{c_in} (weights are (C_in, C_out / groups, KH, KW))"
        )
    if any(op_ >= max(s, d) for op_, s, d in zip(output_padding, stride, dilation)):
        raise OpError(
            f"{op}: output_padding {output_padding} must be smaller than the stride {stride} or the dilation "
            f"{dilation}"
        )
    kernel = tuple(w.shape[2:])
    if min(kernel) < 1:
        raise OpError(
            f"{op}: the kernel must have at least one element per axis, got weight of shape {w.shape}"
        )
    c_out = w.shape[1] * groups
    # (C_in, C_out/G, K) -> (G, C_in/G, C_out/G, K) -> (G, C_out/G, C_in/G, K) -> (C_out, C_in/G, K), flipped
    wg = reshape(w, (groups, c_in // groups, w.shape[1]) + kernel)
    wt = reshape(transpose(wg, (0, 2, 1, 3, 4)), (c_out, c_in // groups) + kernel)
    wt = getitem(wt, (Ellipsis, slice(None, None, -1), slice(None, None, -1)))
    spread = _dilate(x, stride)
    full = [d * (k - 1) for k, d in zip(kernel, dilation)]
    extra = [f - p for f, p in zip(full, padding)]  # zeros to add (or, if negative, rows to crop)
    pads = tuple((max(e, 0), max(e, 0) + o) for e, o in zip(extra, output_padding))
    if any(lo or hi for lo, hi in pads):
        spread = pad(spread, ((0, 0), (0, 0)) + pads)
    crop = [max(-e, 0) for e in extra]
    if any(crop):
        spread = getitem(
            spread,
            (Ellipsis, *(slice(c, s - c) for c, s in zip(crop, spread.shape[2:]))),
        )
    if b is not None:
        b = as_node(b)
        if b.shape != (c_out,):
            raise OpError(f"{op}: bias of shape {b.shape} does not match the {c_out} output channels")
    # the correlation itself is a conv2d call (stride 1: its fused form when there is one group)
    return conv2d(spread, wt, b, dilation=dilation, groups=groups)
