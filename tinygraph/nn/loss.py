"""Losses as modules, for code written in PyTorch's ``criterion = nn.CrossEntropyLoss()`` style."""

from __future__ import annotations

from typing import Any

from tinygraph import functional as F
from tinygraph.nn.module import Module
from tinygraph.node import Node

_REDUCTIONS = ("mean", "sum", "none")


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f"{type(self).__name__}: reduction must be one of {_REDUCTIONS}, got {reduction!r}"
            )
        self.reduction = reduction

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits (N, C) against class indices (N,) or probabilities (N, C).

    ``ℓ_n = -Σ_c y_nc log softmax(logits_n)_c``, averaged over the batch (``reduction="mean"``),
    summed (``"sum"``) or returned per sample (``"none"``); see ``F.cross_entropy``.
    """

    def forward(self, logits: Node, target: Any) -> Node:
        return F.cross_entropy(logits, target, reduction=self.reduction)


class MSELoss(_Loss):
    """Squared error ``(input - target)²``, averaged, summed or per element; see ``F.mse_loss``."""

    def forward(self, input: Node, target: Any) -> Node:
        return F.mse_loss(input, target, reduction=self.reduction)
