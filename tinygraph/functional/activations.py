"""Activations and normalisers: relu/tanh/sigmoid (primitives), softmax, log_softmax, logsumexp,
dropout and maxout (composites).

Softmax and logsumexp subtract the row maximum first, taken *detached* (a constant): the result is
mathematically unchanged (softmax(x - c) = softmax(x)) but exp never overflows, so logits of ±1000
give finite values and gradients.
"""

from __future__ import annotations

import numpy as np

from tinygraph._state import scope
from tinygraph.creation import get_rng
from tinygraph.errors import OpError
from tinygraph.functional._args import as_node, single_axis
from tinygraph.node import Node
from tinygraph.ops import exp, log, max, neg, relu, reshape, sigmoid, sum, tanh
from tinygraph.registry import Sample, composite, constant

__all__ = ["dropout", "log_softmax", "logsumexp", "maxout", "relu", "sigmoid", "softmax", "tanh"]


def _detached_max(x: Node, axis: int) -> Node:
    """The maximum along ``axis`` (kept as a length-1 axis) as a constant: no gradient flows into it.

    A row whose maximum is ±inf (or nan) is shifted by 0 instead: ``x - m`` would be ``inf - inf``
    = nan, where an all −inf row has logsumexp −inf (and softmax nan, as in PyTorch).
    """
    m = np.max(x._value, axis=axis, keepdims=True)
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


def _log_sum_exp_shifted(shifted: Node, axis: int) -> Node:
    """``log Σ exp(shifted)`` along ``axis`` (kept), for ``shifted`` whose maximum there is 0."""
    return log(sum(exp(shifted), axis=axis, keepdims=True))


@composite(
    "logsumexp",
    formula="lse(x) = m + log Σ_j exp(x_j - m),  m = max_j x_j (detached)\n∂lse/∂x = softmax(x)",
    samples=(Sample((3, 4)), Sample((2, 3, 4), axis=0, keepdims=True)),
)
def logsumexp(x: Node, axis: int = -1, keepdims: bool = False) -> Node:
    """``log Σ exp(x)`` along ``axis``, computed stably as ``m + log Σ exp(x - m)``.

    ``m`` is the detached maximum, so exp never overflows.
    """
    x, axis, scalar = _row_of(x, "logsumexp", axis)
    m = _detached_max(x, axis)
    lse = _log_sum_exp_shifted(x - m, axis) + m
    if scalar:
        return reshape(lse, ())
    return lse if keepdims else reshape(lse, x.shape[:axis] + x.shape[axis + 1 :])


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
