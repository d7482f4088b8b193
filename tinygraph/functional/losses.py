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
from tinygraph.functional.activations import log_softmax
from tinygraph.node import Node, as_array
from tinygraph.ops import getitem, sum
from tinygraph.ops.fused import softmax_cross_entropy
from tinygraph.registry import Sample, composite, constant

_LABELS = np.array([1, 0, 3])


def _class_indices(
    op: str, target: Any, n: int, classes: int, scores_shape: tuple[int, ...], ignore_index: int = -100
) -> tuple[np.ndarray, np.ndarray | None]:
    """``target`` checked as class indices: an int array of shape (n,), entries in [0, classes).

    Entries equal to ``ignore_index`` are allowed anywhere. Returns the indices (ignored entries
    replaced by 0, so they can still index) and the mask of the entries kept, or None when every
    entry is kept. Raises an OpError naming the op and the first entry at fault.
    """
    t = as_array(target)
    if t.dtype.kind not in "iu":  # (bool is kind "b": refused too)
        raise OpError(f"{op}: class-index targets must be integers, got dtype {t.dtype}")
    if t.shape != (n,):
        raise OpError(
            f"{op}: target of shape {t.shape} does not fit input of shape {scores_shape}: class indices "
            f"must have shape ({n},)"
        )
    if n and not 0 <= ignore_index < classes and t.min() >= 0 and t.max() < classes:
        return t, None  # every entry a class, so none is ignore_index: two reductions, no masks
    keep = t != ignore_index
    bad = ((t < 0) | (t >= classes)) & keep
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise OpError(
            f"{op}: target[{i}] = {int(t[i])} is out of range for {classes} classes "
            f"(input shape {scores_shape}; ignore_index={ignore_index})"
        )
    if keep.all():
        return t, None
    return np.where(keep, t, 0), keep


def _class_weights(op: str, weight: Any, classes: int, dtype: np.dtype) -> np.ndarray | None:
    """``weight`` as a float array of shape (classes,) in the scores' dtype, or None."""
    if weight is None:
        return None
    w = as_array(weight)
    if w.shape != (classes,) or not np.issubdtype(w.dtype, np.number) or w.dtype == bool:
        raise OpError(
            f"{op}: weight must be a 1-D array of {classes} numbers, one per class; got shape {w.shape} "
            f"dtype {w.dtype}"
        )
    return w.astype(dtype, copy=False)


def _target_weights(
    w: np.ndarray | None, indices: np.ndarray, keep: np.ndarray | None, dtype: np.dtype
) -> np.ndarray:
    """Each sample's weight ``w[t_n]`` (1 without class weights), 0 where its target is ignored.

    Their sum is what a ``"mean"`` reduction divides by, as in PyTorch.
    """
    weights = np.ones(len(indices), dtype) if w is None else w[indices]
    return weights if keep is None else weights * keep


def _check_ignore_index(op: str, ignore_index: Any) -> int:
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise OpError(f"{op}: ignore_index must be an int, got {ignore_index!r}")
    return int(ignore_index)


def _check_scores(op: str, x: Node, what: str) -> None:
    if x.ndim != 2:
        raise OpError(f"{op}: {what} must have shape (C,), (N, C) or (N, C, d1, ...), got shape {x.shape}")


def _as_rows(op: str, scores: Node, target: Any) -> tuple[Node, Any, tuple[int, ...]]:
    """Scores of shape (C,) or (N, C, d1, ...) as rows (M, C), their targets as (M,) or (M, C).

    Returns the rows, the targets (rearranged alike) and the shape of the per-sample losses
    (``()`` or (N, d1, ...)), which a ``"none"`` reduction reshapes to. Class indices of shape
    () or (N, d1, ...) and probabilities of the scores' shape are accepted, as in PyTorch.
    """
    t = as_array(target)
    c = scores.shape[0] if scores.ndim == 1 else scores.shape[1]
    probabilities = np.issubdtype(t.dtype, np.floating)
    if scores.ndim == 1:
        expected, out_shape = ((c,) if probabilities else ()), ()
    else:
        out_shape = (scores.shape[0], *scores.shape[2:])
        expected = scores.shape if probabilities else out_shape
    if t.shape != expected:
        kind = "probability targets" if probabilities else "class indices"
        raise OpError(
            f"{op}: target of shape {t.shape} does not fit input of shape {scores.shape}: {kind} must "
            f"have shape {expected}"
        )

    def rows(x: Node) -> Node:
        if x.ndim == 1:
            return x.reshape((1, c))
        return x.transpose((0, *range(2, x.ndim), 1)).reshape((-1, c))

    return rows(scores), (rows(as_node(target)) if probabilities else t.reshape(-1)), out_shape


_WEIGHTS = np.array([0.5, 2.0, 1.0, 3.0])


@composite(
    "nll_loss",
    formula="ℓ_n = -w[t_n] logp[n, t_n]   (w = 1 without weights; ℓ_n = 0 where t_n = ignore_index)\n"
    "L = Σ_n ℓ_n / Σ_n w[t_n] (mean over the kept samples), Σ_n ℓ_n (sum), or ℓ (none)\n"
    "∂L/∂logp[n, c] = -w[t_n] [c = t_n] / Σ_m w[t_m] (mean)",
    samples=(
        Sample((3, 4), _LABELS),
        Sample((3, 4), _LABELS, reduction="none"),
        Sample((3, 4), np.array([1, -100, 3]), weight=_WEIGHTS),
        Sample((3, 4), np.array([1, 2, 3]), reduction="sum", weight=_WEIGHTS, ignore_index=2),
    ),
)
def nll_loss(
    log_probs: Node, target: Any, reduction: str = "mean", *, weight: Any = None, ignore_index: int = -100
) -> Node:
    """Negative log-likelihood of class indices: ``-weight[t_n] · log_probs[n, t_n]``, reduced.

    Parameters
    ----------
    log_probs : Node of shape (N, C), log-probabilities (e.g. from :func:`log_softmax`)
    target : int array of shape (N,), class indices in [0, C) or ``ignore_index``
    reduction : "mean", "sum" or "none". With weights, "mean" divides by the summed weights of the
        targets, ``Σ_n weight[t_n]``, as PyTorch does (a weighted average).
    weight : array of shape (C,), optional
        A weight per class (a constant: no gradient flows into it).
    ignore_index : int
        Samples whose target equals it contribute 0 and are left out of the mean (all ignored: nan).
    """
    check_reduction("nll_loss", reduction)
    ignore_index = _check_ignore_index("nll_loss", ignore_index)
    log_probs = as_node(log_probs)
    if log_probs.ndim == 1 or log_probs.ndim > 2:  # (C,) or (N, C, d1, ...): one row per position
        rows, t, shape = _as_rows("nll_loss", log_probs, target)
        out = nll_loss.opdef.array_fn(rows, t, reduction, weight=weight, ignore_index=ignore_index)
        return out.reshape(shape) if reduction == "none" else out
    _check_scores("nll_loss", log_probs, "log-probabilities")
    n, c = log_probs.shape
    t, keep = _class_indices("nll_loss", target, n, c, log_probs.shape, ignore_index)
    w = _class_weights("nll_loss", weight, c, log_probs.dtype)
    picked = -getitem(log_probs, (np.arange(n), t))
    if w is None and keep is None:
        return reduce_loss("nll_loss", picked, reduction)
    scale = _target_weights(w, t, keep, log_probs.dtype)
    losses = picked * constant(scale)
    if reduction == "mean":
        return sum(losses) / constant(scale.sum())
    return reduce_loss("nll_loss", losses, reduction)


@composite(
    "cross_entropy",
    formula="L = -(1/N) Σ_n Σ_c y_nc log q_nc,  q = softmax(logits)   (y one-hot for class indices)\n"
    "∂L/∂logits = (q - y) / N   (weights, ignore_index, label smoothing: see the docstring)",
    samples=(
        Sample((3, 4), _LABELS),
        Sample((3, 4), (3, 4), domain=(0.0, 1.0), reduction="sum"),
        Sample((3, 4), _LABELS, reduction="none"),
        Sample((3, 4), np.array([1, -100, 3]), weight=_WEIGHTS, label_smoothing=0.2),
        Sample((3, 4), _LABELS, reduction="sum", weight=_WEIGHTS, ignore_index=0, label_smoothing=0.1),
        Sample((3, 4), (3, 4), domain=(0.0, 1.0), weight=_WEIGHTS, label_smoothing=0.3),
    ),
)
def cross_entropy(
    logits: Node,
    target: Any,
    reduction: str = "mean",
    *,
    weight: Any = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
) -> Node:
    """Softmax cross-entropy, ``-Σ_c y_c log softmax(logits)_c`` per sample, reduced.

    Parameters
    ----------
    logits : Node of shape (N, C), unnormalised scores
    target : int array of shape (N,) with class indices in [0, C) (or ``ignore_index``), or a float
        array / Node of shape (N, C) with one-hot rows or class probabilities (it may require grad)
    reduction : "mean" (average over the N samples), "sum" or "none" (shape (N,)). With class
        indices and weights, "mean" divides by ``Σ_n weight[t_n]`` over the kept samples, as PyTorch.
    weight : array of shape (C,), optional
        A weight per class, ``ℓ_n = -Σ_c weight_c y_nc log q_nc`` (a constant: no gradient).
    ignore_index : int
        Class-index targets equal to it contribute 0 and leave the mean (all ignored: nan).
    label_smoothing : float in [0, 1]
        Mix the target with the uniform distribution: ``y ← (1 - ε) y + ε / C``, as PyTorch.

    Notes
    -----
    With class indices and none of the options, the call runs as one fused primitive,
    ``softmax_cross_entropy``; inside :func:`tinygraph.decompose` (and in renderings that open it) it
    is recorded as its definition, ``nll_loss(log_softmax(logits), target)``.
    """
    op = "cross_entropy"
    check_reduction(op, reduction)
    ignore_index = _check_ignore_index(op, ignore_index)
    if isinstance(label_smoothing, bool) or not (
        isinstance(label_smoothing, (int, float, np.floating)) and 0.0 <= label_smoothing <= 1.0
    ):
        raise OpError(f"{op}: label_smoothing must be a number in [0, 1], got {label_smoothing!r}")
    logits = as_node(logits)
    if logits.ndim == 1 or logits.ndim > 2:  # (C,) or (N, C, d1, ...): one row per position
        rows, t, shape = _as_rows(op, logits, target)
        out = cross_entropy.opdef.array_fn(
            rows, t, reduction, weight=weight, ignore_index=ignore_index, label_smoothing=label_smoothing
        )
        return out.reshape(shape) if reduction == "none" else out
    _check_scores(op, logits, "logits")
    if logits.dtype.kind not in "fc":
        raise OpError(f"{op}: logits must be floating point, got dtype {logits.dtype} (as in PyTorch)")
    n, c = logits.shape
    w = _class_weights(op, weight, c, logits.dtype)
    eps = float(label_smoothing)
    t = as_array(target)
    if t.dtype.kind == "f":
        if t.shape != logits.shape:
            raise OpError(
                f"{op}: probability targets of shape {t.shape} must have the logits' shape {logits.shape}"
            )
        if ignore_index != -100:
            raise OpError(f"{op}: ignore_index applies to class-index targets only, not to probabilities")
        y = as_node(target)
        if eps:
            y = y * (1.0 - eps) + eps / c
        terms = y * log_softmax(logits, axis=1)
        if w is not None:
            terms = terms * constant(w)
        return reduce_loss(op, -sum(terms, axis=1), reduction)
    indices, keep = _class_indices(op, t, n, c, logits.shape, ignore_index)
    if not STATE.decompose and w is None and keep is None and not eps:
        return softmax_cross_entropy(logits, indices, reduction)
    logp = log_softmax(logits, axis=1)
    nll = nll_loss(logp, t, reduction, weight=w, ignore_index=ignore_index)
    if not eps:
        return nll
    # PyTorch's label smoothing for class indices: (1 - ε)·nll + (ε / C)·(-Σ_c w_c logp_nc), with
    # the second term reduced like the first (the same denominator for "mean").
    smooth = -sum(logp if w is None else logp * constant(w), axis=1)
    if keep is not None:
        smooth = smooth * constant(keep.astype(logits.dtype))
    if reduction == "mean":
        smooth = sum(smooth) / constant(_target_weights(w, indices, keep, logits.dtype).sum())
    elif reduction == "sum":
        smooth = sum(smooth)
    return nll * (1.0 - eps) + smooth * (eps / c)


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
