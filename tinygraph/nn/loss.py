"""Losses as modules, for code written in PyTorch's ``criterion = nn.CrossEntropyLoss()`` style."""

from __future__ import annotations

from typing import Any

import numpy as np

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

    ``ℓ_n = -Σ_c w_c y_nc log softmax(logits_n)_c``, averaged over the batch (``reduction="mean"``),
    summed (``"sum"``) or returned per sample (``"none"``), with an optional ``weight`` per class,
    an ``ignore_index`` for class-index targets and ``label_smoothing``; see ``F.cross_entropy``.
    """

    def __init__(
        self,
        weight: Any = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(reduction)
        # A buffer, as in PyTorch: saved in the state_dict when given.
        self.register_buffer("weight", None if weight is None else np.array(getattr(weight, "data", weight)))
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, logits: Node, target: Any) -> Node:
        return F.cross_entropy(
            logits,
            target,
            reduction=self.reduction,
            weight=self.weight,
            ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing,
        )

    def extra_repr(self) -> str:
        parts = [super().extra_repr()]
        if self.weight is not None:
            parts.append(f"weight=array of {self.weight.shape[0]}")
        if self.ignore_index != -100:
            parts.append(f"ignore_index={self.ignore_index}")
        if self.label_smoothing:
            parts.append(f"label_smoothing={self.label_smoothing}")
        return ", ".join(p for p in parts if p)


class MSELoss(_Loss):
    """Squared error ``(input - target)²``, averaged, summed or per element; see ``F.mse_loss``."""

    def forward(self, input: Node, target: Any) -> Node:
        return F.mse_loss(input, target, reduction=self.reduction)
