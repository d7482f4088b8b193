"""The gated recurrent cells, LSTM and GRU, as composites (one box per time step that opens into its
gates), with PyTorch's weight layout: the gates stacked along the rows of ``w_ih`` (G·H, input) and
``w_hh`` (G·H, H), in PyTorch's order — LSTM ``i, f, g, o``; GRU ``r, z, n``.
"""

from __future__ import annotations

from typing import Any

from tinygraph.errors import OpError
from tinygraph.functional._args import as_node
from tinygraph.functional.linear import linear
from tinygraph.node import Node
from tinygraph.ops import getitem, sigmoid, stack, tanh
from tinygraph.registry import Sample, composite

__all__ = ["gru_cell", "lstm_cell"]


def _check(op: str, x: Node, h: Node, w_ih: Node, w_hh: Node, gates: int) -> int:
    hidden = h.shape[-1] if h.ndim else 0
    if x.ndim != 2 or h.ndim != 2 or h.shape[0] != x.shape[0]:
        raise OpError(f"{op}: x and h must be (N, input) and (N, hidden), got shapes {x.shape} and {h.shape}")
    if w_ih.shape != (gates * hidden, x.shape[1]) or w_hh.shape != (gates * hidden, hidden):
        raise OpError(
            f"{op}: weights of shapes {w_ih.shape} and {w_hh.shape} do not fit input {x.shape} and hidden "
            f"state {h.shape}: expected ({gates * hidden}, {x.shape[1]}) and ({gates * hidden}, {hidden})"
        )
    return hidden


def _gate(a: Node, k: int, hidden: int) -> Node:
    """Gate ``k`` of pre-activations ``a`` (N, G·H): columns ``k·H ... (k+1)·H - 1``."""
    return getitem(a, (slice(None), slice(k * hidden, (k + 1) * hidden)))


@composite(
    "lstm_cell",
    formula="i, f, g, o = σ, σ, tanh, σ of the four gates of x W_ihᵀ + b_ih + h W_hhᵀ + b_hh\n"
    "c' = f ⊙ c + i ⊙ g,  h' = o ⊙ tanh(c')   (returns stack(h', c'))",
    samples=(
        Sample((3, 4), (3, 2), (3, 2), (8, 4), (8, 2), (8,), (8,)),
        Sample((2, 3), (2, 2), (2, 2), (8, 3), (8, 2), None, None),
    ),
)
def lstm_cell(x: Node, h: Node, c: Node, w_ih: Node, w_hh: Node, b_ih: Any = None, b_hh: Any = None) -> Node:
    """One LSTM step (Hochreiter & Schmidhuber), PyTorch's gate order ``i, f, g, o``.

    Parameters
    ----------
    x : (N, input);  h, c : (N, hidden), the hidden and cell states
    w_ih : (4·hidden, input);  w_hh : (4·hidden, hidden);  b_ih, b_hh : (4·hidden,) or None

    Returns
    -------
    Node of shape (2, N, hidden): the new ``h'`` and ``c'`` stacked (``h, c = lstm_cell(...)``).
    """
    x, h, c, w_ih, w_hh = (as_node(v) for v in (x, h, c, w_ih, w_hh))
    hidden = _check("lstm_cell", x, h, w_ih, w_hh, 4)
    if c.shape != h.shape:
        raise OpError(f"lstm_cell: the cell state {c.shape} must have the hidden state's shape {h.shape}")
    a = linear(x, w_ih, b_ih) + linear(h, w_hh, b_hh)
    i, f = sigmoid(_gate(a, 0, hidden)), sigmoid(_gate(a, 1, hidden))
    g, o = tanh(_gate(a, 2, hidden)), sigmoid(_gate(a, 3, hidden))
    c_next = f * c + i * g
    return stack([o * tanh(c_next), c_next])


@composite(
    "gru_cell",
    formula="r, z = σ of two gates of x W_ihᵀ + b_ih + h W_hhᵀ + b_hh\n"
    "n = tanh(x W_inᵀ + b_in + r ⊙ (h W_hnᵀ + b_hn)),  h' = (1 - z) ⊙ n + z ⊙ h",
    samples=(
        Sample((3, 4), (3, 2), (6, 4), (6, 2), (6,), (6,)),
        Sample((2, 3), (2, 2), (6, 3), (6, 2), None, None),
    ),
)
def gru_cell(x: Node, h: Node, w_ih: Node, w_hh: Node, b_ih: Any = None, b_hh: Any = None) -> Node:
    """One GRU step (Cho et al.), PyTorch's gate order ``r, z, n``; returns ``h'`` (N, hidden).

    The reset gate multiplies the hidden part of the candidate *after* its bias, as in PyTorch.
    """
    x, h, w_ih, w_hh = (as_node(v) for v in (x, h, w_ih, w_hh))
    hidden = _check("gru_cell", x, h, w_ih, w_hh, 3)
    ax, ah = linear(x, w_ih, b_ih), linear(h, w_hh, b_hh)
    r = sigmoid(_gate(ax, 0, hidden) + _gate(ah, 0, hidden))
    z = sigmoid(_gate(ax, 1, hidden) + _gate(ah, 1, hidden))
    n = tanh(_gate(ax, 2, hidden) + r * _gate(ah, 2, hidden))
    return n + z * (h - n)
