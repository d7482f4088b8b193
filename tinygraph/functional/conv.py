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

from tinygraph.errors import OpError
from tinygraph.functional._args import as_node, ntuple
from tinygraph.node import Node
from tinygraph.ops import getitem, matmul, pad, reshape, sliding_window, transpose
from tinygraph.registry import Sample, composite

IntOrTuple = int | tuple[int, ...]


def _convolution(
    op: str, x: Any, w: Any, b: Any, stride: IntOrTuple, padding: IntOrTuple, dilation: IntOrTuple, nd: int
) -> Node:
    """The ``nd``-dimensional cross-correlation shared by :func:`conv1d` and :func:`conv2d`."""
    x, w = as_node(x), as_node(w)
    layout = {1: "(N, C, L)", 2: "(N, C, H, W)"}[nd]
    if x.ndim != nd + 2:
        raise OpError(f"{op}: input must have {nd + 2} dimensions {layout}, got shape {x.shape}")
    if w.ndim != nd + 2:
        raise OpError(
            f"{op}: weight must have {nd + 2} dimensions (C_out, C_in, kernel...), got shape {w.shape}"
        )
    if x.shape[1] != w.shape[1]:
        raise OpError(
            f"{op}: input of shape {x.shape} has {x.shape[1]} channels but weight of shape {w.shape} "
            f"expects {w.shape[1]} (weights are (C_out, C_in, kernel...))"
        )
    stride = ntuple(stride, nd, "stride", op)
    padding = ntuple(padding, nd, "padding", op, minimum=0)
    dilation = ntuple(dilation, nd, "dilation", op)
    kernel = tuple(w.shape[2:])
    padded = tuple(s + 2 * p for s, p in zip(x.shape[2:], padding))
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(k > s for k, s in zip(span, padded)):
        raise OpError(
            f"{op}: kernel of size {kernel} (dilation {dilation}, spanning {span}) is larger than the "
            f"padded input {padded} (input shape {x.shape}, padding {padding})"
        )
    c_out = w.shape[0]
    if b is not None:
        b = as_node(b)
        if b.shape != (c_out,):
            raise OpError(
                f"{op}: bias of shape {b.shape} does not match the {c_out} output channels "
                f"of weight {w.shape}"
            )
    if any(padding):
        x = pad(x, ((0, 0), (0, 0)) + tuple((p, p) for p in padding))
    windows = sliding_window(x, kernel, stride, dilation)  # (N, C, *O, *K), a view
    n, out = x.shape[0], windows.shape[2 : 2 + nd]
    # im2col: (C, *K, N, *O) -> (C·∏K, N·∏O); this reshape is the one copy of the forward pass.
    order = (1, *range(2 + nd, 2 + 2 * nd), 0, *range(2, 2 + nd))
    columns = reshape(transpose(windows, order), (-1, n * math.prod(out)))
    y = matmul(reshape(w, (c_out, -1)), columns)  # (C_out, N·∏O)
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
    ),
)
def conv1d(
    x: Node,
    w: Node,
    b: Node | None = None,
    stride: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
) -> Node:
    """1-D cross-correlation (the deep-learning "convolution") of x (N, C_in, L) with w (C_out, C_in, K).

    Zero padding of ``padding`` on both ends; output length ``(L + 2·padding - dilation·(K-1) - 1)
    // stride + 1``.
    """
    return _convolution("conv1d", x, w, b, stride, padding, dilation, 1)


@composite(
    "conv2d",
    formula="y[n, o, i, j] = b[o] + Σ_c Σ_{u,v} W[o, c, u, v] · x_pad[n, c, i·s_h + u·d_h, j·s_w + v·d_w]\n"
    "∂L/∂x = fold(Wᵀ G),  ∂L/∂W = G · im2col(x)ᵀ,  ∂L/∂b = Σ_{n,i,j} G",
    samples=(
        Sample((2, 2, 4, 5), (3, 2, 3, 3), (3,)),
        Sample((1, 2, 6, 5), (2, 2, 2, 3), stride=(2, 1), padding=1, dilation=(1, 2)),
        Sample((1, 1, 5, 5), (2, 1, 2, 2), stride=2, padding=(0, 1)),
    ),
)
def conv2d(
    x: Node,
    w: Node,
    b: Node | None = None,
    stride: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
) -> Node:
    """2-D cross-correlation (the deep-learning "convolution"), NCHW, as ``torch.nn.functional.conv2d``.

    Parameters
    ----------
    x : Node of shape (N, C_in, H, W)
    w : Node of shape (C_out, C_in, KH, KW)
    b : Node of shape (C_out,), optional
    stride, padding, dilation : int or (int, int)
        Zero padding is added on both sides of each spatial axis.

    Returns
    -------
    Node of shape (N, C_out, OH, OW), ``OH = (H + 2·pad_h - dil_h·(KH-1) - 1) // stride_h + 1``.
    """
    return _convolution("conv2d", x, w, b, stride, padding, dilation, 2)


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
