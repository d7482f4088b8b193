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


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities against class indices; see ``F.nll_loss``."""

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", None if weight is None else np.array(getattr(weight, "data", weight)))
        self.ignore_index = ignore_index

    def forward(self, log_probs: Node, target: Any) -> Node:
        return F.nll_loss(
            log_probs, target, reduction=self.reduction, weight=self.weight, ignore_index=self.ignore_index
        )


class L1Loss(_Loss):
    """Absolute error ``|input - target|``; see ``F.l1_loss``."""

    def forward(self, input: Node, target: Any) -> Node:
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Quadratic below ``beta``, linear above; see ``F.smooth_l1_loss``."""

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input: Node, target: Any) -> Node:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Quadratic below ``delta``, linear (slope ``delta``) above; see ``F.huber_loss``."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Node, target: Any) -> Node:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities; see ``F.binary_cross_entropy``."""

    def __init__(self, weight: Any = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", None if weight is None else np.array(getattr(weight, "data", weight)))

    def forward(self, input: Node, target: Any) -> Node:
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid and binary cross-entropy in one stable op; see ``F.binary_cross_entropy_with_logits``."""

    def __init__(self, weight: Any = None, reduction: str = "mean", pos_weight: Any = None) -> None:
        super().__init__(reduction)
        self.register_buffer("weight", None if weight is None else np.array(getattr(weight, "data", weight)))
        self.register_buffer(
            "pos_weight", None if pos_weight is None else np.array(getattr(pos_weight, "data", pos_weight))
        )

    def forward(self, input: Node, target: Any) -> Node:
        return F.binary_cross_entropy_with_logits(
            input, target, weight=self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


class KLDivLoss(_Loss):
    """KL divergence of log-probabilities ``input`` from ``target``; see ``F.kl_div``."""

    def __init__(self, reduction: str = "mean", log_target: bool = False) -> None:
        if reduction == "batchmean":
            super().__init__("mean")
            self.reduction = "batchmean"
        else:
            super().__init__(reduction)
        self.log_target = bool(log_target)

    def forward(self, input: Node, target: Any) -> Node:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
