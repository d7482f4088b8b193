"""Fully connected layers: ``Linear``, and ``Flatten`` that feeds them from convolutions."""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

from tinygraph import functional as F
from tinygraph._inputs import int_arg, positive_sizes
from tinygraph.nn import init
from tinygraph.nn.module import Module, Parameter
from tinygraph.node import Node


class Linear(Module):
    """Affine map of the last axis: ``y = x Wᵀ + b``.

    Parameters
    ----------
    in_features, out_features : int
        Sizes of the last axis of the input and of the output.
    bias : bool
        Learn an additive bias ``b`` (default True).
    dtype : numpy dtype
        Of the parameters (float32 by default).

    Attributes
    ----------
    weight : Parameter of shape (out_features, in_features), initialised from U(-1/√in, 1/√in)
    bias : Parameter of shape (out_features,) from the same range, or None
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, dtype: DTypeLike = np.float32
    ) -> None:
        super().__init__()
        in_features, out_features = positive_sizes(
            "Linear", in_features=in_features, out_features=out_features
        )
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        bound = init.default_bound(self.in_features)
        self.weight = Parameter(init.empty((self.out_features, self.in_features), dtype))
        init.kaiming_uniform_(self.weight, a=np.sqrt(5.0))
        self.bias = Parameter(init.empty((self.out_features,), dtype)) if bias else None
        if bias:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Node) -> Node:
        shape = x.shape if isinstance(x, Node) else np.shape(x)  # (.data would make a guarded view)
        if not shape or shape[-1] != self.in_features:
            raise ValueError(
                f"{self.describe()}: expected an input whose last axis has size {self.in_features}, "
                f"got shape {shape}"
            )
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
        )


class Flatten(Module):
    """Merge axes ``start_dim`` to ``end_dim`` into one (default: all but the batch axis)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = int_arg("Flatten", "start_dim", start_dim)
        self.end_dim = int_arg("Flatten", "end_dim", end_dim)

    def forward(self, x: Node) -> Node:
        if not isinstance(x, Node):
            x = Node(x)
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
