"""Scaled dot-product attention as a composite: one box that opens into its matmuls and softmax.

``attention(Q, K, V) = softmax(Q Kᵀ / √d + M) V`` (Vaswani et al., 2017): each query row takes a
weighted average of the value rows, weighted by how well it matches each key. ``M`` masks: a
boolean ``attn_mask`` keeps the positions where it is True (PyTorch's convention for this
function), a float one is added to the scores, and ``is_causal`` keeps each query from looking at
later keys.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygraph.errors import OpError
from tinygraph.functional._args import as_node, check_flag
from tinygraph.functional.activations import dropout, softmax
from tinygraph.node import Node
from tinygraph.ops import matmul, transpose, where
from tinygraph.registry import Sample, composite, constant

__all__ = ["attention_weights", "scaled_dot_product_attention"]

_CAUSAL_SAMPLE = np.tril(np.ones((3, 4), bool))


def _swap_last(x: Node) -> Node:
    axes = list(range(x.ndim))
    axes[-2], axes[-1] = axes[-1], axes[-2]
    return transpose(x, tuple(axes))


def _mask_array(op: str, attn_mask: Any, length: int, source: int) -> np.ndarray | Node:
    """``attn_mask`` checked: a bool array, or a float array / Node, broadcastable to (..., L, S)."""
    m = attn_mask if isinstance(attn_mask, Node) else np.asarray(attn_mask)
    shape = m.shape
    try:
        np.broadcast_shapes(shape, (length, source))
    except ValueError:
        raise OpError(
            f"{op}: attn_mask of shape {shape} does not broadcast to the scores' shape "
            f"(..., {length}, {source})"
        ) from None
    dtype = m.dtype
    if not (np.issubdtype(dtype, np.bool_) or np.issubdtype(dtype, np.floating)):
        raise OpError(f"{op}: attn_mask must be boolean (True = attend) or floating point, got dtype {dtype}")
    return m


def attention_weights(
    query: Node, key: Node, attn_mask: Any = None, is_causal: bool = False, scale: float | None = None
) -> Node:
    """The attention weights ``softmax(Q Kᵀ · scale + M)`` (..., L, S) that
    :func:`scaled_dot_product_attention` averages the values with."""
    op = "scaled_dot_product_attention"
    q, k = as_node(query), as_node(key)
    if q.ndim < 2 or k.ndim < 2 or q.shape[-1] != k.shape[-1]:
        raise OpError(
            f"{op}: query (..., L, E) and key (..., S, E) must share their last axis, got shapes {q.shape} "
            f"and {k.shape}"
        )
    is_causal = check_flag(op, "is_causal", is_causal)
    if is_causal and attn_mask is not None:
        raise OpError(f"{op}: give attn_mask or is_causal, not both (as in PyTorch)")
    length, source = q.shape[-2], k.shape[-2]
    s = float(1.0 / math.sqrt(q.shape[-1])) if scale is None else float(scale)
    scores = matmul(q, _swap_last(k)) * s
    if is_causal:
        attn_mask = np.tril(np.ones((length, source), bool))
    if attn_mask is not None:
        m = _mask_array(op, attn_mask, length, source)
        if isinstance(m, Node) or not np.issubdtype(m.dtype, np.bool_):
            scores = scores + (m if isinstance(m, Node) else constant(m.astype(scores.dtype)))
        else:
            scores = where(constant(m), scores, -np.inf)
    return softmax(scores, axis=-1)


@composite(
    "scaled_dot_product_attention",
    formula="A = softmax(Q Kᵀ / √E + M),  y = A V   (M: 0 where attended, -∞ where masked, or added)\n"
    "∂L/∂V = Aᵀ G,  ∂L/∂A = G Vᵀ,  then back through the softmax into Q and K",
    samples=(
        Sample((2, 3, 4), (2, 5, 4), (2, 5, 3)),
        Sample((3, 4), (4, 4), (4, 2), is_causal=True),
        Sample((1, 2, 3, 4), (1, 2, 4, 4), (1, 2, 4, 4), attn_mask=_CAUSAL_SAMPLE, scale=0.3),
        Sample((3, 2), (4, 2), (4, 3), attn_mask=np.linspace(-1.0, 1.0, 12).reshape(3, 4)),
    ),
)
def scaled_dot_product_attention(
    query: Node,
    key: Node,
    value: Node,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
) -> Node:
    """Attention, ``softmax(Q Kᵀ / √E + M) V``, as ``torch.nn.functional.scaled_dot_product_attention``.

    Parameters
    ----------
    query : (..., L, E);  key : (..., S, E);  value : (..., S, Ev) — leading axes broadcast
    attn_mask : bool (True: the query may attend to the key) or float (added to the scores),
        broadcastable to (..., L, S); optional
    dropout_p : float
        Dropout on the attention weights (applied whenever > 0, as in PyTorch's function).
    is_causal : bool
        Query i attends to keys 0..i only (the lower triangle); excludes ``attn_mask``.
    scale : float, optional
        Of the scores (default ``1/√E``).

    Returns
    -------
    Node of shape (..., L, Ev). A query that may attend to no key gets nan, as in PyTorch.
    """
    v = as_node(value)
    weights = attention_weights(query, key, attn_mask, is_causal, scale)
    if v.ndim < 2 or v.shape[-2] != weights.shape[-1]:
        raise OpError(
            f"scaled_dot_product_attention: value of shape {v.shape} must have the keys' length "
            f"{weights.shape[-1]} on its second-to-last axis"
        )
    if dropout_p:
        weights = dropout(weights, dropout_p)
    return matmul(weights, v)
