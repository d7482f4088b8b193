"""The Elman step: ``h' = tanh(x · W_ihᵀ + h · W_hhᵀ + b)``, for :class:`tinygraph.nn.RNN`.

Unrolling a sequence makes one ``rnn_cell`` call per time step, all sharing the same weights, so
backpropagation through time is ordinary backward on the unrolled graph, and a rendering shows the
chain of steps (each step opens into its two linear maps and its tanh).

The linear part of a step, ``rnn_linear``, runs as one fused primitive (``rnn_affine``, in
:mod:`tinygraph.ops.fused`) rather than two matmuls and two adds; inside
:func:`tinygraph.decompose` (and in renderings that open it) its definition is recorded.
"""

from __future__ import annotations

from tinygraph._state import STATE
from tinygraph.node import Node
from tinygraph.ops import matmul, relu, tanh
from tinygraph.ops.fused import rnn_affine
from tinygraph.registry import Sample, composite

NONLINEARITIES = {"tanh": tanh, "relu": relu}


@composite(
    "rnn_linear",
    formula="a = x · W_ihᵀ + h · W_hhᵀ + b   (the weights passed transposed: Wi = W_ihᵀ, Wh = W_hhᵀ)",
    samples=(Sample((3, 4), (3, 5), (4, 5), (5, 5), (5,)),),
)
def rnn_linear(x: Node, h: Node, w_ih_t: Node, w_hh_t: Node, b: Node | float) -> Node:
    """The pre-activation of an Elman step, ``x · W_ihᵀ + h · W_hhᵀ + b``, for a batch of rows.

    ``x`` (N, input) and ``h`` (N, hidden) are 2-D; the weights come transposed (``w_ih_t`` of shape
    (input, hidden), ``w_hh_t`` (hidden, hidden)); ``b`` broadcasts to (N, hidden). Runs as the
    fused primitive ``rnn_affine`` except inside :func:`tinygraph.decompose`.
    """
    if not STATE.decompose:
        return rnn_affine(x, h, w_ih_t, w_hh_t, b)
    return matmul(x, w_ih_t) + matmul(h, w_hh_t) + b


@composite(
    "rnn_cell",
    formula="h' = tanh(x · W_ihᵀ + h · W_hhᵀ + b)   (b = b_ih + b_hh; relu instead of tanh if asked)",
    samples=(
        Sample((3, 4), (3, 5), (4, 5), (5, 5), (5,)),
        Sample((2, 4), (2, 5), (4, 5), (5, 5), (5,), nonlinearity="relu", domain="nonzero"),
    ),
)
def rnn_cell(
    x: Node, h: Node, w_ih_t: Node, w_hh_t: Node, b: Node | float, nonlinearity: str = "tanh"
) -> Node:
    """One Elman step: ``h' = tanh(x · W_ihᵀ + h · W_hhᵀ + b)``.

    Takes the weights already transposed (``w_ih_t`` of shape (input, hidden), ``w_hh_t`` of shape
    (hidden, hidden)) so an unrolled sequence transposes them once, not once per step; ``b`` is
    ``b_ih + b_hh``, or 0 for a layer without bias.
    """
    return NONLINEARITIES[nonlinearity](rnn_linear(x, h, w_ih_t, w_hh_t, b))
