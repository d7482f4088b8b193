"""The fully connected layer, ``y = x Wᵀ + b`` (PyTorch's weight layout: W is (out, in)).

With a bias, the layer runs as one fused primitive, ``affine``: its definition in primitives,
``matmul(x, transpose(W)) + b``, records three ops and makes the bias gradient go through the
engine's unbroadcasting, where ``affine`` adds the bias in place and reduces its gradient directly.
Inside :func:`tinygraph.decompose` (and in renderings that open the call) the definition is recorded.
"""

from __future__ import annotations

from tinygraph._state import STATE
from tinygraph.errors import OpError
from tinygraph.functional._args import as_node
from tinygraph.node import Node
from tinygraph.ops import matmul, transpose
from tinygraph.ops.fused import affine
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

    Notes
    -----
    With a bias the call runs as one fused primitive, ``affine``; inside
    :func:`tinygraph.decompose` (and in renderings that open it) it is recorded as its definition,
    ``matmul(x, transpose(w)) + b``.
    """
    x, w = as_node(x), as_node(w)
    if w.ndim != 2 or x.ndim < 1 or x.shape[-1] != w.shape[1]:
        raise OpError(
            f"linear: input of shape {x.shape} does not fit weight of shape {w.shape}: the weight must "
            f"be (out, in) with in = the input's last axis"
        )
    if b is not None:
        b = as_node(b)
        if b.shape != (w.shape[0],):
            raise OpError(
                f"linear: bias of shape {b.shape} does not match the {w.shape[0]} outputs of weight {w.shape}"
            )
        if not STATE.decompose:
            return affine(x, w, b)
    y = matmul(x, transpose(w))
    return y if b is None else y + b
