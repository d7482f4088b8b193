"""Composite tensor ops: var/std, logaddexp, masked_fill, repeat_interleave and non-zero padding.

Each is a Python function of primitives, registered with ``@composite`` so a rendering shows a
call as one box that opens into its primitives, and the registry tests gradcheck it. They live
together, after the primitives, so the generated ops reference lists them with the other
composites.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygraph._inputs import value_array
from tinygraph.errors import OpError
from tinygraph.node import Node, refuse_node_sequence
from tinygraph.ops.axes import reduced_count
from tinygraph.ops.elementwise import exp, log, sqrt, where
from tinygraph.ops.indexing import _axis, _node, _raw
from tinygraph.ops.reductions import mean, sum
from tinygraph.ops.shape import flatten, getitem, pad_pairs
from tinygraph.ops.shape import pad as pad_zeros
from tinygraph.registry import Sample, composite, constant

# ------------------------------------------------------------------ statistics


def _ddof(op: str, ddof, correction) -> float:
    if correction is not None:
        if ddof not in (None, 0):
            raise TypeError(f"{op}: got both ddof= and correction= (PyTorch's name for it); pass one")
        return correction
    return 0 if ddof is None else ddof


@composite(
    "var",
    formula="var(x) = Σ (x - x̄)² / (n - ddof),  x̄ = mean(x) over axis",
    samples=(
        Sample((3, 4)),
        Sample((3, 4), axis=1, ddof=1),
        Sample((2, 3, 4), axis=(0, 2), keepdims=True, correction=1),
    ),
)
def var(x, axis=None, ddof=None, keepdims=False, correction=None):
    """Variance over ``axis``: ``Σ (x - mean)² / (n - ddof)``.

    ``ddof`` (numpy's name) or ``correction`` (PyTorch's) is subtracted from the count n: 0 by
    default, as numpy (PyTorch's default is 1, Bessel's correction; pass ``correction=1`` for it).
    """
    refuse_node_sequence(x, "var")  # an array of it would drop the Nodes' graph
    x = x if isinstance(x, Node) else Node(value_array(x))  # Python floats: float32
    d = _ddof("var", ddof, correction)
    n = reduced_count(x.shape, axis, "var")
    if n - d <= 0:
        raise ValueError(
            f"var: {n} element(s) per result with ddof {d} leave no degrees of freedom (shape {x.shape})"
        )
    centred = x - mean(x, axis=axis, keepdims=True)
    return sum(centred * centred, axis=axis, keepdims=keepdims) / (n - d)


@composite(
    "std",
    formula="std(x) = √var(x) = √(Σ (x - x̄)² / (n - ddof))",
    samples=(Sample((3, 4)), Sample((3, 4), axis=0, correction=1), Sample((2, 3, 4), axis=-1, keepdims=True)),
)
def std(x, axis=None, ddof=None, keepdims=False, correction=None):
    """Standard deviation over ``axis``, ``√var``; ``ddof``/``correction`` as in :func:`var` (default 0).

    Where the values do not spread (var = 0: a constant row, a single element) the gradient is 0,
    as PyTorch's, not ``0 · ∞ = nan``.
    """
    v = var(x, axis=axis, ddof=ddof, keepdims=keepdims, correction=correction)
    zero = v.data == 0
    if not zero.any():
        return sqrt(v)
    zero = constant(zero)  # sqrt only sees positive values there, so no infinite derivative
    return where(zero, 0, sqrt(where(zero, 1, v)))


# ------------------------------------------------------------------ elementwise


@composite(
    "logaddexp",
    formula="logaddexp(x, y) = m + log(e^(x-m) + e^(y-m)),  m = max(x, y) (detached)\n"
    "∂/∂x = e^x / (e^x + e^y),  ∂/∂y = e^y / (e^x + e^y)",
    samples=(Sample((3, 4), (3, 4)), Sample((2, 3), (3,)), Sample((4,), (4,), domain=(-800.0, 800.0))),
)
def logaddexp(x, y):
    """``log(exp(x) + exp(y))`` elementwise, computed stably as ``m + log(e^(x-m) + e^(y-m))``.

    ``m`` is the detached maximum of the two, so exp never overflows (inputs of ±800 are fine).
    """
    # Python numbers stay Python numbers, so numpy promotes them weakly (float32 + 2 is float32)
    refuse_node_sequence(x, "logaddexp")  # an array of either would drop the Nodes' graph
    refuse_node_sequence(y, "logaddexp")
    xv, yv = (v if type(v) in (int, float) else _raw(v) for v in (x, y))
    try:
        m = np.maximum(xv, yv)
    except ValueError as exc:
        raise OpError(f"logaddexp: shapes {np.shape(xv)} and {np.shape(yv)} do not broadcast") from exc
    arrays = [v for v in (xv, yv) if isinstance(v, np.ndarray)]
    dtype = np.result_type(xv, yv)
    if dtype.kind != "f" or (dtype == np.float64 and all(a.dtype != np.float64 for a in arrays)):
        dtype = np.dtype(np.float32)  # the rule: float64 only from a float64 input
    m = constant(np.where(np.isfinite(m), m, 0).astype(dtype, copy=False))
    return m + log(exp(x - m) + exp(y - m))


# ------------------------------------------------------------------ indexing


_MASK = np.array([[True, False, True], [False, False, True]])


@composite(
    "masked_fill",
    formula="z = value where mask else x\n∂z/∂x = 0 where mask, else 1",
    samples=(Sample((2, 3), _MASK, -1.5), Sample((4, 2, 3), _MASK[0], 0.0)),
)
def masked_fill(x: Any, mask: Any, value: Any) -> Node:
    """``x`` with ``value`` where the boolean ``mask`` (broadcast to x's shape) is true, as PyTorch.

    ``value`` is a number (``-inf`` for attention masks), converted to x's dtype.
    """
    x = _node(x)
    m = _raw(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_fill: mask must be boolean, got dtype {m.dtype}")
    try:
        fits = np.broadcast_shapes(m.shape, x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"masked_fill: mask {m.shape} does not broadcast to the input's shape {x.shape}")
    if isinstance(value, Node):
        if value.requires_grad or value.size != 1:
            raise TypeError("masked_fill: value must be a number (or a one-element node without grad)")
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"masked_fill: value must be a number, got {type(value).__name__} {value!r:.40}")
    fill = np.asarray(value).astype(x.dtype) if np.issubdtype(x.dtype, np.inexact) else np.asarray(value)
    return where(m, constant(fill), x)


@composite(
    "repeat_interleave",
    formula="z = each element of x repeated `repeats` times along axis\n"
    "∂L/∂x = the gradient summed over each element's copies",
    samples=(Sample((2, 3), 2, axis=1), Sample((3, 2), np.array([1, 0, 2]), axis=0), Sample((2, 2), 3)),
)
def repeat_interleave(x: Any, repeats: Any, axis: int | None = None) -> Node:
    """Repeat each element ``repeats`` times along ``axis`` (None: of the flattened input).

    As ``numpy.repeat`` and ``torch.repeat_interleave``; ``repeats`` is an int or one count per
    element. (PyTorch's ``Tensor.repeat`` is :func:`tile`.)
    """
    x = _node(x)
    if axis is None:
        x, axis = flatten(x), 0
    a = _axis("repeat_interleave", axis, x.ndim)
    n = x.shape[a]
    counts = np.asarray(_raw(repeats))
    if not np.issubdtype(counts.dtype, np.integer) or (counts < 0).any() or counts.ndim > 1:
        raise ValueError(f"repeat_interleave: repeats must be non-negative integers, got {repeats!r}")
    if counts.ndim == 1 and counts.shape[0] != n:
        raise ValueError(
            f"repeat_interleave: {counts.shape[0]} repeat counts for {n} elements along axis {a} "
            f"(shape {x.shape})"
        )
    return getitem(x, (slice(None),) * a + (np.repeat(np.arange(n), counts),))


# ------------------------------------------------------------------ padding

# numpy's mode names, and PyTorch's for the same ones.
MODES = {
    "constant": "constant",
    "reflect": "reflect",
    "symmetric": "symmetric",
    "edge": "edge",
    "replicate": "edge",
    "wrap": "wrap",
    "circular": "wrap",
}


def _pairs(x: Node, pad_width: Any) -> tuple[tuple[int, int], ...]:
    try:
        return pad_pairs(pad_width, x.ndim)
    except ValueError as exc:
        if "pad:" in str(exc):
            raise
        raise ValueError(f"pad: pad_width {pad_width!r} does not fit an input of shape {x.shape}") from exc


@composite(
    "pad_mode",
    formula="constant: z = x surrounded by value;  reflect/symmetric/edge/wrap: z = x[i₀(p), i₁(q), ...]\n"
    "∂L/∂x: the border's gradient added to the elements it copies",
    samples=(
        Sample((3, 4), 1, "reflect", 0.0),
        Sample((3, 4), ((1, 2), (2, 0)), "edge", 0.0),
        Sample((2, 3), ((0, 0), (3, 2)), "wrap", 0.0),
        Sample((3, 3), 2, "symmetric", 0.0),
        Sample((2, 3), 1, "constant", 1.5),
    ),
)
def pad_mode(x: Any, pad_width: Any, mode: str, value: float) -> Node:
    """Padding other than with zeros: ``mode`` (a numpy or PyTorch name) and the constant ``value``."""
    refuse_node_sequence(x, "pad")  # an array of it would drop the Nodes' graph
    x = x if isinstance(x, Node) else constant(np.asarray(x))
    pairs = _pairs(x, pad_width)
    kind = MODES[mode]
    if kind == "constant":
        border = np.pad(np.zeros(x.shape, dtype=x.dtype), pairs, constant_values=1) * np.asarray(value)
        return pad_zeros(x, pairs) + constant(border.astype(x.dtype, copy=False))
    empty = [a for a, n in enumerate(x.shape) if n == 0 and pairs[a] != (0, 0)]
    if empty:
        raise ValueError(f"pad: cannot pad the empty axis {empty[0]} of shape {x.shape} in mode {mode!r}")
    index = np.ix_(*(np.pad(np.arange(n), pair, mode=kind) for n, pair in zip(x.shape, pairs)))
    return getitem(x, index)
