"""Losses: cross-entropy (through log_softmax), negative log-likelihood and mean squared error.

``reduction`` is ``"mean"`` (the average over the batch, as PyTorch), ``"sum"``, or ``"none"`` (one
loss per sample).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygraph.errors import OpError
from tinygraph.functional._args import as_node, check_reduction, reduce_loss
from tinygraph.functional.activations import log_softmax
from tinygraph.node import Node
from tinygraph.ops import getitem, sum
from tinygraph.registry import Sample, composite

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
    return nll_loss(log_softmax(logits, axis=1), indices, reduction)


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
