"""Elementwise nonlinearities as layers, and Maxout (a max over groups of channels)."""

from __future__ import annotations

from typing import Any

from tinygraph import functional as F
from tinygraph._inputs import real_arg
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


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. for a removed head); ignores any arguments."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Node) -> Node:
        return x


class GELU(Module):
    """``y = x · Φ(x)`` (``approximate="tanh"``: the tanh approximation); see ``F.gelu``."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Node) -> Node:
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self) -> str:
        return "" if self.approximate == "none" else f"approximate={self.approximate!r}"


class SiLU(Module):
    """``y = x · σ(x)`` (swish), elementwise."""

    def forward(self, x: Node) -> Node:
        return F.silu(x)


class LeakyReLU(Module):
    """``y = x`` for x > 0, ``negative_slope · x`` otherwise."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = real_arg("LeakyReLU", "negative_slope", negative_slope)

    def forward(self, x: Node) -> Node:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """``y = x`` for x > 0, ``α (exp(x) - 1)`` otherwise."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = real_arg(type(self).__name__, "alpha", alpha)

    def forward(self, x: Node) -> Node:
        return F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Softplus(Module):
    """``y = (1/β) log(1 + exp(βx))``, linear where ``βx > threshold``."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = real_arg("Softplus", "beta", beta)
        self.threshold = real_arg("Softplus", "threshold", threshold)

    def forward(self, x: Node) -> Node:
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """``y = clip(x, min_val, max_val)``."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0) -> None:
        super().__init__()
        min_val = real_arg(type(self).__name__, "min_val", min_val)
        max_val = real_arg(type(self).__name__, "max_val", max_val)
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
        self.min_val, self.max_val = min_val, max_val

    def forward(self, x: Node) -> Node:
        return F.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class ReLU6(Module):
    """``y = min(max(x, 0), 6)``."""

    def forward(self, x: Node) -> Node:
        return F.relu6(x)


class LogSigmoid(Module):
    """``y = log σ(x) = -softplus(-x)``."""

    def forward(self, x: Node) -> Node:
        return F.logsigmoid(x)


class Softmax(Module):
    """Softmax along ``dim`` (PyTorch's name for the axis)."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = int(dim)

    def forward(self, x: Node) -> Node:
        return F.softmax(x, axis=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """``log softmax`` along ``dim``."""

    def forward(self, x: Node) -> Node:
        return F.log_softmax(x, axis=self.dim)
