"""Gradient clipping, as ``torch.nn.utils``: ``clip_grad_norm_`` and ``clip_grad_value_``.

Call between ``loss.backward()`` and ``optimizer.step()``; the gradients are changed in place.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from tinygraph.node import Node

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _with_grads(op: str, parameters: Node | Iterable[Node]) -> list[Node]:
    params = [parameters] if isinstance(parameters, Node) else list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Node):
            raise TypeError(f"{op}: parameter {i} is a {type(p).__name__}, not a tinygraph Node")
    return [p for p in params if p.grad is not None]


def clip_grad_norm_(
    parameters: Node | Iterable[Node],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Node:
    """Scale the gradients so that their joint norm is at most ``max_norm``; returns the norm before.

    The norm is that of all gradients concatenated, ``‖g‖_p = (Σ |g_i|^p)^(1/p)`` (``p = inf``:
    the largest ``|g_i|``). When it exceeds ``max_norm`` every gradient is multiplied by
    ``max_norm / (‖g‖ + 1e-6)``, as PyTorch.

    Returns
    -------
    Node (0-d, float64) holding the total norm (``.item()`` for the number).
    """
    op = "clip_grad_norm_"
    params = _with_grads(op, parameters)
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not max_norm >= 0:
        raise ValueError(f"{op}: max_norm must be non-negative, got {max_norm}")
    if not params:
        return Node(np.float64(0.0))
    grads = [p.grad for p in params]
    if norm_type == math.inf:
        total = max(float(np.abs(g).max()) if g.size else 0.0 for g in grads)
    else:
        total = sum(float(np.sum(np.abs(g.astype(np.float64)) ** norm_type)) for g in grads) ** (
            1.0 / norm_type
        )
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"{op}: the total norm of order {norm_type} of the gradients is {total}, so they cannot be "
            "clipped; pass error_if_nonfinite=False to clip anyway"
        )
    coef = min(max_norm / (total + 1e-6), 1.0)
    if coef < 1.0:
        for p in params:
            p.grad = p.grad * coef
    return Node(np.float64(total))


def clip_grad_value_(parameters: Node | Iterable[Node], clip_value: float) -> None:
    """Clip every gradient entry into ``[-clip_value, clip_value]``, in place."""
    op = "clip_grad_value_"
    clip_value = float(clip_value)
    if not clip_value >= 0:
        raise ValueError(f"{op}: clip_value must be non-negative, got {clip_value}")
    for p in _with_grads(op, parameters):
        p.grad = np.clip(p.grad, -clip_value, clip_value)
