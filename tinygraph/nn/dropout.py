"""Dropout: random zeroing during training, identity in evaluation mode."""

from __future__ import annotations

from tinygraph import functional as F
from tinygraph._inputs import real_arg
from tinygraph.nn.module import Module
from tinygraph.node import Node


class Dropout(Module):
    """Zero each element with probability ``p`` in training mode and scale the rest by ``1/(1-p)``.

    ``y = x · m / (1 - p)`` with ``m ~ Bernoulli(1 - p)`` drawn from ``tg.get_rng()``; after
    ``model.eval()`` the layer returns its input unchanged.
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        p = real_arg("Dropout", "p", p)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p}")
        self.p = float(p)

    def forward(self, x: Node) -> Node:
        return F.dropout(x, p=self.p, training=self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
