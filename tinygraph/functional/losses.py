"""Losses: cross-entropy (through log_softmax), negative log-likelihood and mean squared error.

``reduction`` is ``"mean"`` (the average over the batch, as PyTorch), ``"sum"``, or ``"none"`` (one
loss per sample).

Cross-entropy with class indices runs as one fused primitive, ``softmax_cross_entropy``: its
definition in primitives, ``nll_loss(log_softmax(logits), target)``, makes about ten passes over the
logits, where ``logsumexp(x_n) - x[n, t_n]`` with the softmax kept for the backward needs four
(max, exp, sum forward; one scaling backward). Inside :func:`tinygraph.decompose` and in renderings
that open the call, the definition is what is recorded.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygraph._state import STATE
from tinygraph.errors import OpError
from tinygraph.functional._args import as_node, check_reduction, reduce_loss
from tinygraph.functional.activations import log_softmax, softmax
from tinygraph.node import Node
from tinygraph.ops import getitem, sum
from tinygraph.registry import Sample, composite, constant, primitive

_LABELS = np.array([1, 0, 3])


def _class_indices(op: str, target: Any, n: int, classes: int, scores_shape: tuple[int, ...]) -> np.ndarray:
    """``target`` as an int array of shape (n,) with every entry in [0, classes), or an OpError."""
    t = np.asarray(target.data if isinstance(target, Node) else target)
    if t.dtype == bool or not np.issubdtype(t.dtype, np.integer):
        raise OpError(f"{op}: class-index targets must be integers, got dtype {t.dtype}")
    if t.shape != (n,):
        raise OpError(
            f"{op}: target of shape {t.shape} does not fit input of shape {scores_shape}: class indices "
            f"must have shape ({n},)"
        )
    bad = (t < 0) | (t >= classes)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise OpError(
            f"{op}: target[{i}] = {int(t[i])} is out of range for {classes} classes "
            f"(input shape {scores_shape})"
        )
    return t


def _check_scores(op: str, x: Node, what: str) -> None:
    if x.ndim != 2:
        raise OpError(f"{op}: {what} must have shape (N, C), got shape {x.shape}")


@composite(
    "nll_loss",
    formula="ℓ_n = -logp[n, t_n]\nL = mean_n ℓ_n (or Σ_n ℓ_n, or ℓ)\n∂L/∂logp[n, c] = -[c = t_n] / N (mean)",
    samples=(Sample((3, 4), _LABELS), Sample((3, 4), _LABELS, reduction="none")),
)
def nll_loss(log_probs: Node, target: Any, reduction: str = "mean") -> Node:
    """Negative log-likelihood of class indices: ``-log_probs[n, target[n]]``, reduced.

    Parameters
    ----------
    log_probs : Node of shape (N, C), log-probabilities (e.g. from :func:`log_softmax`)
    target : int array of shape (N,), class indices in [0, C)
    reduction : "mean", "sum" or "none"
    """
    check_reduction("nll_loss", reduction)
    log_probs = as_node(log_probs)
    _check_scores("nll_loss", log_probs, "log-probabilities")
    n, c = log_probs.shape
    t = _class_indices("nll_loss", target, n, c, log_probs.shape)
    return reduce_loss("nll_loss", -getitem(log_probs, (np.arange(n), t)), reduction)


@composite(
    "cross_entropy",
    formula="L = -(1/N) Σ_n Σ_c y_nc log q_nc,  q = softmax(logits)   (y one-hot for class indices)\n"
    "∂L/∂logits = (q - y) / N",
    samples=(
        Sample((3, 4), _LABELS),
        Sample((3, 4), (3, 4), domain=(0.0, 1.0), reduction="sum"),
        Sample((3, 4), _LABELS, reduction="none"),
    ),
)
def cross_entropy(logits: Node, target: Any, reduction: str = "mean") -> Node:
    """Softmax cross-entropy, ``-Σ_c y_c log softmax(logits)_c`` per sample, reduced.

    Parameters
    ----------
    logits : Node of shape (N, C), unnormalised scores
    target : int array of shape (N,) with class indices in [0, C), or a float array / Node of
        shape (N, C) with one-hot rows or class probabilities (it may require grad)
    reduction : "mean" (average over the N samples), "sum" or "none" (shape (N,))
    """
    check_reduction("cross_entropy", reduction)
    logits = as_node(logits)
    _check_scores("cross_entropy", logits, "logits")
    t = target.data if isinstance(target, Node) else np.asarray(target)
    if np.issubdtype(t.dtype, np.floating):
        if t.shape != logits.shape:
            raise OpError(
                f"cross_entropy: probability targets of shape {t.shape} must have the logits' shape "
                f"{logits.shape}"
            )
        logp = log_softmax(logits, axis=1)
        return reduce_loss("cross_entropy", -sum(as_node(target) * logp, axis=1), reduction)
    n, c = logits.shape
    indices = _class_indices("cross_entropy", t, n, c, logits.shape)
    if not STATE.decompose:
        return _softmax_cross_entropy(logits, indices, reduction)
    return nll_loss(log_softmax(logits, axis=1), indices, reduction)


def _row_sums(a: np.ndarray) -> np.ndarray:
    """``a.sum(axis=1)`` of a 2-D array as one matrix-vector product (BLAS: ~4x faster than numpy's sum)."""
    return a @ np.ones(a.shape[1], a.dtype)


def _softmax_cross_entropy_vjp(xp, g, z, logits, target, reduction, saved):
    n = logits.shape[0]
    rows = np.arange(n)
    if isinstance(logits, Node):  # create_graph: with recorded ops, to differentiate again
        onehot = np.zeros(logits.shape, logits.dtype)
        onehot[rows, target] = 1
        d = softmax(logits, axis=1) - constant(onehot)
        if reduction == "none":
            return d * xp.reshape(g, (n, 1))
        return d * (g / n) if reduction == "mean" else d * g
    e, s = saved  # exp(x - c) and its row sums, for a per-row shift c (softmax = e / s)
    per_row = np.broadcast_to(g / n if reduction == "mean" else g, (n,))
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
def _softmax_cross_entropy(logits, target, reduction="mean"):
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
    if s.min() >= info.tiny / info.eps**2 and s.max() < np.inf:  # nan fails both: shift, nan stays
        lse = np.log(s.astype(np.longdouble))
    else:
        m = logits.max(axis=1, keepdims=True)
        e = np.subtract(logits, m, out=e)
        np.exp(e, out=e)
        s = _row_sums(e)
        lse = np.log(s.astype(np.longdouble)) + m.reshape(-1)
    losses = lse - logits[np.arange(logits.shape[0]), target]
    value = losses if reduction == "none" else losses.mean() if reduction == "mean" else losses.sum()
    return np.asarray(value, dtype=logits.dtype), (e, s)


@composite(
    "mse_loss",
    formula="ℓ = (x - y)²,  L = mean ℓ (or Σ ℓ, or ℓ)\n∂L/∂x = 2 (x - y) / n (mean)",
    samples=(Sample((3, 4), (3, 4)), Sample((5,), (5,), reduction="sum")),
)
def mse_loss(input: Node, target: Any, reduction: str = "mean") -> Node:
    """Mean squared error ``(input - target)²``, reduced; the shapes must match."""
    check_reduction("mse_loss", reduction)
    input, target = as_node(input), as_node(target)
    if input.shape != target.shape:
        raise OpError(f"mse_loss: input of shape {input.shape} and target of shape {target.shape} differ")
    d = input - target
    return reduce_loss("mse_loss", d * d, reduction)
