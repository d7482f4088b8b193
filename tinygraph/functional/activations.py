"""Activations and normalisers: relu/tanh/sigmoid/softplus (primitives), softmax, log_softmax,
logsumexp, dropout and maxout, gelu, silu, leaky_relu, elu, hardtanh/relu6, logsigmoid (composites).

Softmax and logsumexp subtract the row maximum first, taken *detached* (a constant): the result is
mathematically unchanged (softmax(x - c) = softmax(x)) but exp never overflows, so logits of ±1000
give finite values and gradients.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygraph._state import scope
from tinygraph.creation import get_rng
from tinygraph.errors import OpError
from tinygraph.functional._args import as_node, single_axis
from tinygraph.node import Node
from tinygraph.ops import exp, log, max, neg, relu, reshape, sigmoid, sum, tanh, where
from tinygraph.ops.axes import kept_shape, normalize_axes
from tinygraph.ops.special import erf, softplus
from tinygraph.registry import Sample, composite, constant

__all__ = [
    "dropout", "elu", "gelu", "hardtanh", "leaky_relu", "log_softmax", "logsigmoid", "logsumexp", "maxout",
    "relu", "relu6", "sigmoid", "silu", "softmax", "softplus", "tanh",
]  # fmt: skip


def _detached_max(x: Node, axis: int | tuple[int, ...]) -> Node:
    """The maximum along ``axis`` (kept as length-1 axes) as a constant: no gradient flows into it.

    A row whose maximum is ±inf (or nan) is shifted by 0 instead: ``x - m`` would be ``inf - inf``
    = nan, where an all −inf row has logsumexp −inf (and softmax nan, as in PyTorch). An empty
    input is shifted by 0 (an empty row's logsumexp is −inf, as in PyTorch).
    """
    value = x._value
    if value.size == 0:  # an empty row (or batch): no maximum, and nothing to shift
        return constant(np.zeros(kept_shape(value.shape, axis), value.dtype))
    m = np.max(value, axis=axis, keepdims=True)
    if not np.isfinite(m).all():
        m = np.where(np.isfinite(m), m, 0).astype(m.dtype)
    return constant(m)


def _row_of(x: Node, op: str, axis: int) -> tuple[Node, int, bool]:
    """``x`` with its axis checked; a 0-d input becomes a row of one (axis 0 or -1, as PyTorch).

    Returns the node to compute on, the non-negative axis, and whether it was 0-d.
    """
    x = as_node(x)
    if x.ndim == 0:
        single_axis(op, axis, 1)
        return reshape(x, (1,)), 0, True
    return x, single_axis(op, axis, x.ndim), False


@composite(
    "softmax",
    formula="softmax(x)_i = exp(x_i - m) / Σ_j exp(x_j - m),  m = max_j x_j (detached)\n"
    "∂L/∂x = s ⊙ (G - Σ_j G_j s_j)",
    samples=(Sample((3, 4)), Sample((2, 3, 4), axis=1)),
)
def softmax(x: Node, axis: int = -1) -> Node:
    """Softmax along ``axis``: non-negative values summing to 1, ``exp(x_i) / Σ_j exp(x_j)``.

    Computed as ``exp(x - m) / Σ exp(x - m)`` with the detached maximum ``m``, so it never
    overflows.
    """
    x, axis, scalar = _row_of(x, "softmax", axis)
    e = exp(x - _detached_max(x, axis))
    s = e / sum(e, axis=axis, keepdims=True)
    return reshape(s, ()) if scalar else s


def _log_sum_exp_shifted(shifted: Node, axis: int | tuple[int, ...]) -> Node:
    """``log Σ exp(shifted)`` along ``axis`` (kept), for ``shifted`` whose maximum there is 0."""
    return log(sum(exp(shifted), axis=axis, keepdims=True))


@composite(
    "logsumexp",
    formula="lse(x) = m + log Σ_j exp(x_j - m),  m = max_j x_j (detached)\n∂lse/∂x = softmax(x)",
    samples=(
        Sample((3, 4)),
        Sample((2, 3, 4), axis=0, keepdims=True),
        Sample((2, 3, 4), axis=(0, -1)),
        Sample((2, 3), axis=None, keepdims=True),
    ),
)
def logsumexp(x: Node, axis: int = -1, keepdims: bool = False) -> Node:
    """``log Σ exp(x)`` along ``axis`` (an int, a tuple of ints, or None for all axes), computed
    stably as ``m + log Σ exp(x - m)``.

    ``m`` is the detached maximum, so exp never overflows.
    """
    scalar = False
    if axis is None or isinstance(axis, (tuple, list)):  # several axes (None: all), as torch's dim=(0, 1)
        x = as_node(x)
        try:
            axes = normalize_axes(axis, x.ndim, "logsumexp")
        except (TypeError, ValueError) as exc:
            raise OpError(str(exc)) from exc
    else:
        x, single, scalar = _row_of(x, "logsumexp", axis)
        axes = (single,)
    m = _detached_max(x, axes)
    lse = _log_sum_exp_shifted(x - m, axes) + m
    if scalar:
        return reshape(lse, ())
    return lse if keepdims else reshape(lse, tuple(d for i, d in enumerate(x.shape) if i not in axes))


@composite(
    "log_softmax",
    formula="log_softmax(x)_i = (x_i - m) - logsumexp(x - m),  m = max_j x_j (detached)\n"
    "∂L/∂x = G - softmax(x) Σ_j G_j",
    samples=(Sample((3, 4)), Sample((2, 3, 4), axis=1)),
)
def log_softmax(x: Node, axis: int = -1) -> Node:
    """``log(softmax(x))`` along ``axis``, as ``(x - m) - logsumexp(x - m)``: finite for logits of ±1000.

    Subtracting the detached maximum ``m`` first keeps the result as accurate as PyTorch's for
    entries close to the maximum (no cancellation between ``x`` and a large ``logsumexp(x)``).
    """
    x, axis, scalar = _row_of(x, "log_softmax", axis)
    shifted = x - _detached_max(x, axis)
    with scope("logsumexp"):  # of the shifted logits, whose maximum is already 0: no second shift
        lse = _log_sum_exp_shifted(shifted, axis)
    # Adding the negated (small) logsumexp rather than subtracting it spares the backward pass a
    # negation of the full-size gradient.
    out = shifted + neg(lse)
    return reshape(out, ()) if scalar else out


@composite(
    "dropout",
    formula="y = x ⊙ mask / (1 - p),  mask_i ~ Bernoulli(1 - p) (training; p = 1: y = 0),\n"
    "y = x (evaluation)\n"
    "∂L/∂x = G ⊙ mask / (1 - p)",
    samples=(Sample((3, 4), p=0.0), Sample((3, 4), p=0.5, training=False)),
)
def dropout(x: Node, p: float = 0.5, training: bool = True) -> Node:
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)`` (inverted dropout).

    The expected value is unchanged, so evaluation (``training=False``) is the identity. The mask
    is drawn from :func:`tinygraph.get_rng` (seed it with :func:`tinygraph.manual_seed`).
    """
    if isinstance(p, bool) or not (isinstance(p, (int, float, np.floating)) and 0.0 <= p <= 1.0):
        raise OpError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    x = as_node(x)
    if not training or p == 0.0:
        return x
    if p == 1.0:  # every element dropped: zeros, and a zero gradient
        return x * constant(np.zeros(x.shape, x.dtype))
    keep = get_rng().random(x.shape) >= p
    return x * constant((keep / (1.0 - p)).astype(x.dtype))


@composite(
    "maxout",
    formula="y_j = max_{k < pieces} x_{j·pieces + k}   (along axis)\n∂L/∂x = G at the winning piece",
    samples=(Sample((2, 6, 3), pieces=3), Sample((3, 4), pieces=2, axis=-1)),
)
def maxout(x: Node, pieces: int, axis: int = 1) -> Node:
    """Maxout (Goodfellow et al. 2013): the maximum over consecutive groups of ``pieces`` channels.

    An input with C channels along ``axis`` gives C / pieces channels; unit j is the maximum of
    channels ``j·pieces ... (j+1)·pieces - 1``. Ties share the gradient evenly.
    """
    x = as_node(x)
    a = single_axis("maxout", axis, x.ndim)
    if not isinstance(pieces, (int, np.integer)) or pieces < 1 or x.shape[a] % pieces:
        raise OpError(
            f"maxout: the {x.shape[a]} channels along axis {axis} (input shape {x.shape}) cannot be "
            f"split into groups of pieces={pieces!r}"
        )
    grouped = reshape(x, x.shape[:a] + (x.shape[a] // pieces, int(pieces)) + x.shape[a + 1 :])
    return max(grouped, axis=a + 1)


# ----------------------------------------------------------------------------- PyTorch's other activations
_SQRT_HALF = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _number(op: str, name: str, value: Any) -> float:
    """``value`` as a Python float (so float32 inputs stay float32), or an OpError."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise OpError(f"{op}: {name} must be a number, got {value!r}")
    if not math.isfinite(float(value)):
        raise OpError(f"{op}: {name} must be finite, got {value!r}")
    return float(value)


def _positive_mask(x: Node) -> Node:
    """``x > 0`` as a constant boolean mask (which branch of a piecewise activation applies)."""
    return constant(x.data > 0)


@composite(
    "gelu",
    formula="gelu(x) = x · Φ(x) = ½ x (1 + erf(x / √2))\ntanh form: ½ x (1 + tanh(√(2/π) (x + 0.044715 x³)))",
    samples=(Sample((3, 4)), Sample((3, 4), approximate="tanh")),
)
def gelu(x: Node, approximate: str = "none") -> Node:
    """Gaussian error linear unit, ``x · Φ(x)`` with Φ the standard normal CDF (Hendrycks & Gimpel).

    ``approximate="tanh"`` uses ``½ x (1 + tanh(√(2/π) (x + 0.044715 x³)))``, as PyTorch.
    """
    x = as_node(x)
    if approximate == "none":
        return x * (erf(x * _SQRT_HALF) + 1.0) * 0.5
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * _SQRT_2_OVER_PI
        return x * (tanh(inner) + 1.0) * 0.5
    raise OpError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


@composite(
    "silu", formula="silu(x) = x · σ(x)\n∂silu/∂x = σ(x) (1 + x (1 - σ(x)))", samples=(Sample((3, 4)),)
)
def silu(x: Node) -> Node:
    """Sigmoid linear unit (swish), ``x · σ(x)``."""
    x = as_node(x)
    return x * sigmoid(x)


@composite(
    "leaky_relu",
    formula="y = x if x > 0 else a · x\n∂y/∂x = 1 if x > 0 else a",
    samples=(Sample((3, 4), domain="nonzero"), Sample((3, 4), negative_slope=0.2, domain="nonzero")),
)
def leaky_relu(x: Node, negative_slope: float = 0.01) -> Node:
    """Leaky relu: ``x`` for positive x, ``negative_slope · x`` otherwise (the slope at 0 too, as PyTorch)."""
    a = _number("leaky_relu", "negative_slope", negative_slope)
    x = as_node(x)
    return where(_positive_mask(x), x, x * a)


@composite(
    "elu",
    formula="y = x if x > 0 else α (eˣ - 1)\n∂y/∂x = 1 if x > 0 else α eˣ",
    samples=(Sample((3, 4), domain="nonzero"), Sample((3, 4), alpha=0.5, domain="nonzero")),
)
def elu(x: Node, alpha: float = 1.0) -> Node:
    """Exponential linear unit: ``x`` for x > 0, ``α (exp(x) - 1)`` otherwise (Clevert et al.).

    The exponential sees ``min(x, 0)`` only, so large positive inputs never overflow it.
    """
    a = _number("elu", "alpha", alpha)
    x = as_node(x)
    mask = _positive_mask(x)
    negative = (exp(where(mask, 0.0, x)) - 1.0) * a
    return where(mask, x, negative)


@composite(
    "hardtanh",
    formula="y = clip(x, min_val, max_val)\n∂y/∂x = 1 if min_val < x < max_val else 0",
    samples=(Sample((3, 4)), Sample((3, 4), min_val=-0.5, max_val=1.5)),
)
def hardtanh(x: Node, min_val: float = -1.0, max_val: float = 1.0) -> Node:
    """``x`` clipped to ``[min_val, max_val]``; the gradient is 1 strictly inside, 0 outside (as PyTorch)."""
    lo = _number("hardtanh", "min_val", min_val)
    hi = _number("hardtanh", "max_val", max_val)
    if lo > hi:
        raise OpError(f"hardtanh: min_val ({lo}) must not exceed max_val ({hi})")
    x = as_node(x)
    inside = constant((x.data > lo) & (x.data < hi))
    clipped = np.clip(x.data, lo, hi)  # float64 for an integer x (Python float bounds): float32, the rule
    return where(inside, x, constant(clipped.astype(x.dtype if x.dtype.kind == "f" else np.float32)))


@composite(
    "relu6",
    formula="relu6(x) = min(max(x, 0), 6) = hardtanh(x, 0, 6)",
    samples=(Sample((3, 4), domain=(-3.0, 9.0)),),
)
def relu6(x: Node) -> Node:
    """``min(max(x, 0), 6)``: relu capped at 6 (MobileNet's activation)."""
    return hardtanh(x, 0.0, 6.0)


@composite(
    "logsigmoid",
    formula="logsigmoid(x) = log σ(x) = -softplus(-x)\n∂/∂x = 1 - σ(x) = σ(-x)",
    samples=(Sample((3, 4)), Sample((6,), domain=(-40.0, 40.0))),
)
def logsigmoid(x: Node) -> Node:
    """``log(1 / (1 + exp(-x)))``, computed as ``-softplus(-x)``: finite for any input."""
    return -softplus(-as_node(x))
