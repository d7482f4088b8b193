"""Elman recurrent layers: ``RNNCell`` (one time step) and ``RNN`` (unrolled over a sequence).

Unrolling makes one ``rnn_cell`` composite (:mod:`tinygraph.functional.recurrent`) per time step,
all sharing the same weights, so backpropagation through time is ordinary backward on the unrolled
graph, and a rendering shows the chain of steps.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

from tinygraph import ops
from tinygraph._inputs import positive_sizes
from tinygraph.functional.recurrent import NONLINEARITIES as _NONLINEARITIES
from tinygraph.functional.recurrent import rnn_cell
from tinygraph.nn import init
from tinygraph.nn.module import Module, Parameter
from tinygraph.node import Node, as_array


def _check_nonlinearity(layer: str, nonlinearity: str) -> str:
    if nonlinearity not in _NONLINEARITIES:
        raise ValueError(f"{layer}: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    return nonlinearity


def _shape(x: object) -> tuple[int, ...]:
    return np.shape(as_array(x))


class RNNCell(Module):
    """One step of an Elman network: ``h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)``.

    Parameters
    ----------
    input_size, hidden_size : int
    bias : bool
    nonlinearity : "tanh" (default) or "relu"
    dtype : numpy dtype of the parameters (float32)

    Attributes
    ----------
    weight_ih : (hidden_size, input_size); weight_hh : (hidden_size, hidden_size);
    bias_ih, bias_hh : (hidden_size,) — all from U(-1/√hidden_size, 1/√hidden_size), as in PyTorch.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        dtype: DTypeLike = np.float32,
    ) -> None:
        super().__init__()
        input_size, hidden_size = positive_sizes("RNNCell", input_size=input_size, hidden_size=hidden_size)
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.nonlinearity = _check_nonlinearity("RNNCell", nonlinearity)
        bound = init.default_bound(self.hidden_size)
        shapes = {"weight_ih": (hidden_size, input_size), "weight_hh": (hidden_size, hidden_size)}
        if bias:
            shapes.update(bias_ih=(hidden_size,), bias_hh=(hidden_size,))
        for name, shape in shapes.items():
            setattr(self, name, init.uniform_(Parameter(init.empty(shape, dtype)), -bound, bound))
        if not bias:
            self.bias_ih = self.bias_hh = None

    def forward(self, x: Node, h: Node | None = None) -> Node:
        """``x`` of shape (N, input_size), ``h`` (N, hidden_size) or None (zeros) -> (N, hidden_size)."""
        xs = _shape(x)
        if len(xs) != 2 or xs[1] != self.input_size:
            raise ValueError(
                f"{self.describe()}: expected an input of shape (N, {self.input_size}), got {xs}"
            )
        if h is not None and _shape(h) != (xs[0], self.hidden_size):
            raise ValueError(
                f"{self.describe()}: expected a hidden state of shape ({xs[0]}, {self.hidden_size}), "
                f"got {_shape(h)}"
            )
        if h is None:
            h = np.zeros((xs[0], self.hidden_size), dtype=self.weight_hh.dtype)
        b = 0.0 if self.bias_ih is None else self.bias_ih + self.bias_hh
        return rnn_cell(x, h, self.weight_ih.T, self.weight_hh.T, b, nonlinearity=self.nonlinearity)

    def extra_repr(self) -> str:
        extra = "" if self.nonlinearity == "tanh" else f", nonlinearity={self.nonlinearity!r}"
        return (
            f"{self.input_size}, {self.hidden_size}"
            + extra
            + ("" if self.bias_ih is not None else ", bias=False")
        )


class RNN(Module):
    """A (stack of) Elman recurrent layer(s), unrolled through time.

    For each layer ``l`` and time step ``t``:
    ``h_t = tanh(x_t W_ih_lᵀ + b_ih_l + h_{t-1} W_hh_lᵀ + b_hh_l)``, with ``h_{-1} = h0`` (zeros by
    default); layer ``l > 0`` reads the hidden states of layer ``l - 1`` as its ``x_t``.

    Parameters
    ----------
    input_size, hidden_size : int
    num_layers : int
        Stacked layers (default 1).
    nonlinearity : "tanh" (default) or "relu"
    bias : bool
    batch_first : bool
        Inputs and outputs are (N, L, ·) instead of (L, N, ·).
    dtype : numpy dtype of the parameters (float32)

    Attributes
    ----------
    weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}
        PyTorch's names and shapes, from U(-1/√hidden_size, 1/√hidden_size): a state dict of
        ``torch.nn.RNN`` loads as is.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dtype: DTypeLike = np.float32,
    ) -> None:
        super().__init__()
        input_size, hidden_size, num_layers = positive_sizes(
            "RNN", input_size=input_size, hidden_size=hidden_size, num_layers=num_layers
        )
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.num_layers = int(num_layers)
        self.nonlinearity = _check_nonlinearity("RNN", nonlinearity)
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        bound = init.default_bound(self.hidden_size)
        for k in range(self.num_layers):
            in_size = self.input_size if k == 0 else self.hidden_size
            shapes = {
                f"weight_ih_l{k}": (hidden_size, in_size),
                f"weight_hh_l{k}": (hidden_size, hidden_size),
            }
            if bias:
                shapes.update({f"bias_ih_l{k}": (hidden_size,), f"bias_hh_l{k}": (hidden_size,)})
            for name, shape in shapes.items():
                setattr(self, name, init.uniform_(Parameter(init.empty(shape, dtype)), -bound, bound))

    def forward(self, x: Node, h0: Node | None = None) -> tuple[Node, Node]:
        """Run the sequence.

        Parameters
        ----------
        x : (L, N, input_size), or (N, L, input_size) with ``batch_first``
        h0 : (num_layers, N, hidden_size), optional (zeros)

        Returns
        -------
        output : (L, N, hidden_size) (or (N, L, hidden_size)): the last layer's hidden state at
            every step
        h_n : (num_layers, N, hidden_size): each layer's last hidden state
        """
        xs = _shape(x)
        layout = "(N, L, input_size)" if self.batch_first else "(L, N, input_size)"
        if len(xs) != 3 or xs[2] != self.input_size:
            raise ValueError(
                f"{self.describe()}: expected an input of shape {layout} with input_size={self.input_size}, "
                f"got {xs}"
            )
        length, batch = (xs[1], xs[0]) if self.batch_first else (xs[0], xs[1])
        if length < 1:
            raise ValueError(f"{self.describe()}: the input sequence is empty (shape {xs})")
        if h0 is not None and _shape(h0) != (self.num_layers, batch, self.hidden_size):
            raise ValueError(
                f"{self.describe()}: expected h0 of shape ({self.num_layers}, {batch}, {self.hidden_size}), "
                f"got {_shape(h0)}"
            )
        if not isinstance(x, Node):
            x = Node(x)
        steps = [x[:, t] if self.batch_first else x[t] for t in range(length)]
        last = []
        for k in range(self.num_layers):
            w_ih_t = getattr(self, f"weight_ih_l{k}").T
            w_hh_t = getattr(self, f"weight_hh_l{k}").T
            b = getattr(self, f"bias_ih_l{k}") + getattr(self, f"bias_hh_l{k}") if self.bias else 0.0
            h = np.zeros((batch, self.hidden_size), dtype=w_hh_t.dtype) if h0 is None else h0[k]
            outputs = []
            for x_t in steps:
                h = rnn_cell(x_t, h, w_ih_t, w_hh_t, b, nonlinearity=self.nonlinearity)
                outputs.append(h)
            steps = outputs
            last.append(h)
        output = ops.stack(steps, axis=1 if self.batch_first else 0)
        return output, ops.stack(last, axis=0)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.nonlinearity != "tanh":
            text += f", nonlinearity={self.nonlinearity!r}"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        return text
