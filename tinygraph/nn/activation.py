"""Elementwise nonlinearities as layers, and Maxout (a max over groups of channels)."""

from __future__ import annotations

from tinygraph import functional as F
from tinygraph.nn.module import Module
from tinygraph.node import Node


class ReLU(Module):
    """``y = max(x, 0)``, elementwise."""

    def forward(self, x: Node) -> Node:
        return F.relu(x)


class Tanh(Module):
    """``y = tanh(x)``, elementwise."""

    def forward(self, x: Node) -> Node:
        return F.tanh(x)


class Sigmoid(Module):
    """``y = 1 / (1 + exp(-x))``, elementwise."""

    def forward(self, x: Node) -> Node:
        return F.sigmoid(x)


class Maxout(Module):
    """Maxout (Goodfellow et al., 2013): the max over each group of ``pieces`` consecutive channels.

    ``y[:, j] = max_{k < pieces} x[:, j·pieces + k]`` along ``axis`` — pooling over channels rather
    than positions, so the unit learns which of its pieces to respond with. An input with
    ``C`` channels gives ``C / pieces`` (``C`` must be a multiple of ``pieces``).
    """

    def __init__(self, pieces: int, axis: int = 1) -> None:
        super().__init__()
        if int(pieces) < 1:
            raise ValueError(f"Maxout: pieces must be a positive integer, got {pieces}")
        self.pieces = int(pieces)
        self.axis = int(axis)

    def forward(self, x: Node) -> Node:
        return F.maxout(x, self.pieces, axis=self.axis)

    def extra_repr(self) -> str:
        return f"pieces={self.pieces}, axis={self.axis}"
