"""Losses computed element by element, then reduced: L1, smooth L1 and Huber (regression), binary
cross-entropy of probabilities and of logits, and the KL divergence.

``reduction`` is ``"mean"`` (over all elements, as PyTorch), ``"sum"`` or ``"none"`` (the
per-element losses, in the input's shape); ``kl_div`` also takes ``"batchmean"``. A target given
as an array is taken in the input's dtype (float32 stays float32).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygraph.errors import OpError
from tinygraph.functional._args import REDUCTIONS, as_node, check_reduction, reduce_loss
from tinygraph.node import Node, refuse_node_sequence
from tinygraph.ops import abs, exp, log, sum, where
from tinygraph.ops.special import softplus
from tinygraph.registry import Sample, composite, constant

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "smooth_l1_loss",
]


def _same_shape(op: str, input: Any, target: Any) -> tuple[Node, Node]:
    """Input and target as Nodes of one shape; a target array is taken in the input's float dtype."""
    input = as_node(input)
    if not np.issubdtype(input.dtype, np.floating):
        raise OpError(f"{op}: input must be floating point, got dtype {input.dtype}")
    if not isinstance(target, Node):
        refuse_node_sequence(target, f"{op}: target")  # an array of it would drop the Nodes' graph
        target = constant(np.asarray(target, dtype=input.dtype))
    if input.shape != target.shape:
        raise OpError(f"{op}: input of shape {input.shape} and target of shape {target.shape} differ")
    return input, target


def _optional_weight(op: str, weight: Any, like: Node, what: str = "weight") -> Node | None:
    """``weight`` as a Node broadcastable to ``like`` (an array is taken in ``like``'s dtype), or None."""
    if weight is None:
        return None
    refuse_node_sequence(weight, f"{op}: {what}")  # an array of it would drop the Nodes' graph
    w = weight if isinstance(weight, Node) else constant(np.asarray(weight, dtype=like.dtype))
    shape = like.shape
    try:
        np.broadcast_shapes(w.shape, shape)
    except ValueError:
        raise OpError(
            f"{op}: {what} of shape {w.shape} does not broadcast to the input's shape {shape}"
        ) from None
    return w


@composite(
    "l1_loss",
    formula="ℓ = |x - y|,  L = mean ℓ (or Σ ℓ, or ℓ)\n∂L/∂x = sign(x - y) / n (mean)",
    samples=(Sample((3, 4), (3, 4)), Sample((5,), (5,), reduction="sum")),
)
def l1_loss(input: Node, target: Any, reduction: str = "mean") -> Node:
    """Mean absolute error ``|input - target|``, reduced; the shapes must match."""
    check_reduction("l1_loss", reduction)
    input, target = _same_shape("l1_loss", input, target)
    return reduce_loss("l1_loss", abs(input - target), reduction)


def _check_positive(op: str, name: str, value: Any, allow_zero: bool = False) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise OpError(f"{op}: {name} must be a finite number {bound}, got {value!r}")
    return float(value)


@composite(
    "smooth_l1_loss",
    formula="ℓ = ½ d² / β if |d| < β else |d| - ½ β,  d = x - y\n∂ℓ/∂x = d / β if |d| < β else sign(d)",
    samples=(Sample((3, 4), (3, 4), domain="nonzero"), Sample((6,), (6,), beta=0.5, reduction="sum")),
)
def smooth_l1_loss(input: Node, target: Any, reduction: str = "mean", beta: float = 1.0) -> Node:
    """Smooth L1 (Huber divided by β): quadratic for ``|d| < β``, linear beyond, as PyTorch.

    ``beta=0`` is the plain L1 loss.
    """
    check_reduction("smooth_l1_loss", reduction)
    beta = _check_positive("smooth_l1_loss", "beta", beta, allow_zero=True)
    input, target = _same_shape("smooth_l1_loss", input, target)
    d = input - target
    if beta == 0.0:
        return reduce_loss("smooth_l1_loss", abs(d), reduction)
    small = constant(np.abs(d.data) < beta)
    losses = where(small, d * d * (0.5 / beta), abs(d) - 0.5 * beta)
    return reduce_loss("smooth_l1_loss", losses, reduction)


@composite(
    "huber_loss",
    formula="ℓ = ½ d² if |d| ≤ δ else δ (|d| - ½ δ),  d = x - y\n∂ℓ/∂x = d if |d| ≤ δ else δ sign(d)",
    samples=(Sample((3, 4), (3, 4), domain="nonzero"), Sample((6,), (6,), delta=0.5, reduction="sum")),
)
def huber_loss(input: Node, target: Any, reduction: str = "mean", delta: float = 1.0) -> Node:
    """Huber loss: quadratic for ``|d| ≤ δ``, linear (slope δ) beyond, as PyTorch; δ > 0."""
    check_reduction("huber_loss", reduction)
    delta = _check_positive("huber_loss", "delta", delta)
    input, target = _same_shape("huber_loss", input, target)
    d = input - target
    small = constant(np.abs(d.data) <= delta)
    losses = where(small, d * d * 0.5, (abs(d) - 0.5 * delta) * delta)
    return reduce_loss("huber_loss", losses, reduction)


def _clamped_log(p: Node) -> Node:
    """``max(log p, -100)``, PyTorch's clamp, with no nan in the gradient where ``p = 0``."""
    keep = constant(p.data > math.exp(-100.0))
    return where(keep, log(where(keep, p, 1.0)), -100.0)


@composite(
    "binary_cross_entropy",
    formula="ℓ = -w [y log p + (1 - y) log(1 - p)]   (each log clamped at -100, as PyTorch)\n"
    "∂ℓ/∂p = w (p - y) / (p (1 - p))",
    samples=(
        Sample((3, 4), (3, 4), domain=(0.05, 0.95)),
        Sample((5,), (5,), domain=(0.05, 0.95), reduction="sum", weight=np.linspace(0.5, 2.0, 5)),
    ),
)
def binary_cross_entropy(input: Node, target: Any, weight: Any = None, reduction: str = "mean") -> Node:
    """Binary cross-entropy of probabilities ``input`` in [0, 1] against targets in [0, 1].

    Each log is clamped at -100 (so ``p = 0`` gives a finite loss), as PyTorch does. Prefer
    :func:`binary_cross_entropy_with_logits` on the logits: it is stable without any clamp.
    """
    op = "binary_cross_entropy"
    check_reduction(op, reduction)
    input, target = _same_shape(op, input, target)
    p = input.data
    if p.size and (np.nanmin(p) < 0 or np.nanmax(p) > 1 or np.isnan(p).any()):
        raise OpError(f"{op}: input must hold probabilities in [0, 1]; got values in [{p.min()}, {p.max()}]")
    w = _optional_weight(op, weight, input)
    log_p, log_q = _clamped_log(input), _clamped_log(1.0 - input)
    losses = -(target * log_p + (1.0 - target) * log_q)
    if w is not None:
        losses = losses * w
    return reduce_loss(op, losses, reduction)


@composite(
    "binary_cross_entropy_with_logits",
    formula="ℓ = (1 - y) x + (1 + (w₊ - 1) y) softplus(-x),  times w   (w₊ = pos_weight)\n"
    "∂ℓ/∂x = w [(1 + (w₊ - 1) y) σ(x) - w₊ y]   (= w (σ(x) - y) without pos_weight)",
    samples=(
        Sample((3, 4), (3, 4)),
        Sample((2, 3), (2, 3), domain=(0.0, 1.0), reduction="sum", pos_weight=np.array([1.0, 2.0, 0.5])),
        Sample((4,), (4,), domain=(-30.0, 30.0), weight=np.linspace(0.5, 2.0, 4), reduction="none"),
    ),
)
def binary_cross_entropy_with_logits(
    input: Node, target: Any, weight: Any = None, reduction: str = "mean", pos_weight: Any = None
) -> Node:
    """Sigmoid + binary cross-entropy in one stable expression (logits of ±1000 give finite losses).

    ``ℓ = -w [w₊ y log σ(x) + (1 - y) log(1 - σ(x))]``, computed with softplus:
    ``log σ(x) = -softplus(-x)`` and ``log(1 - σ(x)) = -x - softplus(-x)``.

    Parameters
    ----------
    input : logits; target : same shape, values in [0, 1]
    weight : broadcastable to the input, a weight per element (optional)
    reduction : "mean", "sum" or "none"
    pos_weight : broadcastable to the input (typically one per class, the last axis), the weight
        of the positive term (optional)
    """
    op = "binary_cross_entropy_with_logits"
    check_reduction(op, reduction)
    input, target = _same_shape(op, input, target)
    w = _optional_weight(op, weight, input)
    pw = _optional_weight(op, pos_weight, input, "pos_weight")
    sp = softplus(-input)
    if pw is None:
        losses = (1.0 - target) * input + sp
    else:
        losses = (1.0 - target) * input + (1.0 + (pw - 1.0) * target) * sp
    if w is not None:
        losses = losses * w
    return reduce_loss(op, losses, reduction)


@composite(
    "kl_div",
    formula="ℓ = y (log y - x)   (0 where y = 0);  log_target: ℓ = eʸ (y - x)\n"
    "L = mean ℓ, Σ ℓ, Σ ℓ / N (batchmean) or ℓ;  ∂ℓ/∂x = -y (or -eʸ)",
    samples=(
        Sample((3, 4), (3, 4), domain=(0.1, 1.0), reduction="batchmean"),
        Sample((3, 4), (3, 4), reduction="sum", log_target=True),
        Sample((2, 3), np.array([[0.0, 0.5, 0.5], [0.2, 0.8, 0.0]]), reduction="none"),
    ),
)
def kl_div(input: Node, target: Any, reduction: str = "mean", log_target: bool = False) -> Node:
    """Kullback–Leibler divergence with ``input`` the *log*-probabilities, as PyTorch's ``kl_div``.

    ``ℓ = target · (log target - input)`` (``target = 0`` contributes 0), or with
    ``log_target=True`` (target given as log-probabilities) ``exp(target) · (target - input)``.
    ``reduction="batchmean"`` (``Σ ℓ / N``) is the mathematical KL divergence; ``"mean"`` divides
    by the number of elements, as in PyTorch.
    """
    op = "kl_div"
    if reduction not in (*REDUCTIONS, "batchmean"):
        raise OpError(f"{op}: reduction must be one of {(*REDUCTIONS, 'batchmean')}, got {reduction!r}")
    input, target = _same_shape(op, input, target)
    if log_target:
        losses = exp(target) * (target - input)
    else:
        positive = constant(target.data > 0)
        safe = where(positive, target, 1.0)
        losses = where(positive, target * (log(safe) - input), 0.0)
    if reduction == "batchmean":
        return sum(losses) / float(input.shape[0] if input.ndim else 1)
    return reduce_loss(op, losses, reduction)
