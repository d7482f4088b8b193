"""The fully connected layer, ``y = x Wᵀ + b`` (PyTorch's weight layout: W is (out, in))."""

from __future__ import annotations

from tinygraph.errors import OpError
from tinygraph.functional._args import as_node
from tinygraph.node import Node
from tinygraph.ops import matmul, transpose
from tinygraph.registry import Sample, composite


@composite(
    "linear",
    formula="y = x Wᵀ + b\n∂L/∂x = G W,  ∂L/∂W = Gᵀ x,  ∂L/∂b = Σ_batch G",
    samples=(Sample((3, 4), (2, 4), (2,)), Sample((2, 3, 4), (5, 4)), Sample((4,), (3, 4), (3,))),
)
def linear(x: Node, w: Node, b: Node | None = None) -> Node:
    """Affine map of the last axis: ``y = x @ w.T + b``.

    Parameters
    ----------
    x : Node of shape (..., in)
    w : Node of shape (out, in)
    b : Node of shape (out,), optional

    Returns
    -------
    Node of shape (..., out)
    """
    x, w = as_node(x), as_node(w)
    if w.ndim != 2 or x.ndim < 1 or x.shape[-1] != w.shape[1]:
        raise OpError(
            f"linear: input of shape {x.shape} does not fit weight of shape {w.shape}: the weight must "
            f"be (out, in) with in = the input's last axis"
        )
    y = matmul(x, transpose(w))
    if b is not None:
        b = as_node(b)
        if b.shape != (w.shape[0],):
            raise OpError(
                f"linear: bias of shape {b.shape} does not match the {w.shape[0]} outputs of weight {w.shape}"
            )
        y = y + b
    return y
