"""Gated recurrent layers: ``LSTMCell``/``LSTM`` and ``GRUCell``/``GRU``, in PyTorch's shape.

Parameters have PyTorch's names, shapes and gate order (``weight_ih_l0`` (4H, input) for an LSTM,
rows ``i, f, g, o``; (3H, input) for a GRU, rows ``r, z, n``), so a torch state dict loads as is.
Unrolling makes one ``lstm_cell`` / ``gru_cell`` composite per step; backpropagation through time
is ordinary backward through the unrolled graph.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

from tinygraph import functional as F
from tinygraph import ops
from tinygraph._inputs import positive_sizes
from tinygraph.nn import init
from tinygraph.nn.module import Module, Parameter
from tinygraph.node import Node

__all__ = ["GRU", "LSTM", "GRUCell", "LSTMCell"]

_GATES = {"LSTM": 4, "GRU": 3}


def _shape(x: object) -> tuple[int, ...]:
    return np.shape(x.data if isinstance(x, Node) else x)


def _as_node(x: object) -> Node:
    return x if isinstance(x, Node) else Node(np.asarray(x))


def _make_params(
    module: Module, kind: str, suffix: str, input_size: int, hidden: int, bias: bool, dtype
) -> None:
    g = _GATES[kind] * hidden
    bound = init.default_bound(hidden)
    shapes = {f"weight_ih{suffix}": (g, input_size), f"weight_hh{suffix}": (g, hidden)}
    if bias:
        shapes.update({f"bias_ih{suffix}": (g,), f"bias_hh{suffix}": (g,)})
    for name, shape in shapes.items():
        setattr(module, name, init.uniform_(Parameter(init.empty(shape, dtype)), -bound, bound))
    if not bias:
        setattr(module, f"bias_ih{suffix}", None)
        setattr(module, f"bias_hh{suffix}", None)


class _Cell(Module):
    kind = ""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, dtype: DTypeLike = np.float32
    ) -> None:
        super().__init__()
        name = type(self).__name__
        input_size, hidden_size = positive_sizes(name, input_size=input_size, hidden_size=hidden_size)
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.bias = bool(bias)
        _make_params(self, self.kind, "", self.input_size, self.hidden_size, self.bias, dtype)

    def _prepare(self, x: object, states: tuple[object, ...]) -> tuple[Node, bool, list[Node]]:
        xs = _shape(x)
        if len(xs) not in (1, 2) or xs[-1] != self.input_size:
            raise ValueError(
                f"{self.describe()}: expected an input of shape (N, {self.input_size}) or "
                f"({self.input_size},), got {xs}"
            )
        batched = len(xs) == 2
        x = _as_node(x) if batched else ops.reshape(_as_node(x), (1, self.input_size))
        n = x.shape[0]
        out = []
        for s in states:
            if s is None:
                out.append(Node(np.zeros((n, self.hidden_size), self.weight_hh.dtype)))
                continue
            expected = (n, self.hidden_size) if batched else (self.hidden_size,)
            if _shape(s) != expected:
                raise ValueError(f"{self.describe()}: expected a state of shape {expected}, got {_shape(s)}")
            out.append(_as_node(s) if batched else ops.reshape(_as_node(s), (1, self.hidden_size)))
        return x, batched, out

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class LSTMCell(_Cell):
    """One LSTM step: ``h', c' = cell(x, (h, c))``; see ``F.lstm_cell`` for the gates.

    Attributes
    ----------
    weight_ih (4·hidden, input), weight_hh (4·hidden, hidden), bias_ih, bias_hh (4·hidden,): rows in
    PyTorch's gate order ``i, f, g, o``, from U(-1/√hidden, 1/√hidden).
    """

    kind = "LSTM"

    def forward(self, x: Node, hx: tuple[Node, Node] | None = None) -> tuple[Node, Node]:
        """``x`` (N, input) or (input,); ``hx = (h, c)`` or None (zeros) -> ``(h', c')``."""
        h, c = (None, None) if hx is None else hx
        x, batched, (h, c) = self._prepare(x, (h, c))
        state = F.lstm_cell(x, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        h, c = state[0], state[1]
        if not batched:
            h, c = h[0], c[0]
        return h, c


class GRUCell(_Cell):
    """One GRU step: ``h' = cell(x, h)``; see ``F.gru_cell`` for the gates.

    Attributes
    ----------
    weight_ih (3·hidden, input), weight_hh (3·hidden, hidden), bias_ih, bias_hh (3·hidden,): rows in
    PyTorch's gate order ``r, z, n``, from U(-1/√hidden, 1/√hidden).
    """

    kind = "GRU"

    def forward(self, x: Node, hx: Node | None = None) -> Node:
        """``x`` (N, input) or (input,); ``hx`` (N, hidden) or None (zeros) -> ``h'``."""
        x, batched, (h,) = self._prepare(x, (hx,))
        h = F.gru_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h if batched else h[0]


class _Recurrent(Module):
    kind = ""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype: DTypeLike = np.float32,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        input_size, hidden_size, num_layers = positive_sizes(
            name, input_size=input_size, hidden_size=hidden_size, num_layers=num_layers
        )
        if bidirectional:
            raise NotImplementedError(
                f"{name}: bidirectional layers are not implemented; run two and concatenate"
            )
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"{name}: dropout must be in [0, 1), got {dropout}")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.num_layers, self.bias, self.batch_first = int(num_layers), bool(bias), bool(batch_first)
        self.dropout = float(dropout)
        for k in range(self.num_layers):
            size = self.input_size if k == 0 else self.hidden_size
            _make_params(self, self.kind, f"_l{k}", size, self.hidden_size, self.bias, dtype)

    def _layer(self, k: int) -> tuple[Node, Node, Node | None, Node | None]:
        return tuple(getattr(self, f"{w}_l{k}") for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def _steps(self, x: object) -> tuple[list[Node], int, bool]:
        xs = _shape(x)
        layout = "(N, L, input_size)" if self.batch_first else "(L, N, input_size)"
        if len(xs) not in (2, 3) or xs[-1] != self.input_size:
            raise ValueError(
                f"{self.describe()}: expected an input of shape {layout} (or (L, input_size) unbatched) with "
                f"input_size={self.input_size}, got {xs}"
            )
        batched = len(xs) == 3
        x = _as_node(x)
        if not batched:
            x = ops.expand_dims(x, 0 if self.batch_first else 1)
        length, n = (x.shape[1], x.shape[0]) if self.batch_first else (x.shape[0], x.shape[1])
        if length < 1:
            raise ValueError(f"{self.describe()}: the input sequence is empty (shape {xs})")
        return [x[:, t] if self.batch_first else x[t] for t in range(length)], n, batched

    def _initial(self, state: object, n: int, batched: bool, what: str) -> list[Node]:
        shape = (self.num_layers, n, self.hidden_size)
        if state is None:
            zeros = np.zeros((n, self.hidden_size), self.weight_hh_l0.dtype)
            return [Node(zeros) for _ in range(self.num_layers)]
        expected = shape if batched else (self.num_layers, self.hidden_size)
        if _shape(state) != expected:
            raise ValueError(f"{self.describe()}: expected {what} of shape {expected}, got {_shape(state)}")
        state = _as_node(state)
        return [state[k] if batched else ops.expand_dims(state[k], 0) for k in range(self.num_layers)]

    def _between_layers(self, h: Node, k: int) -> Node:
        if self.dropout and self.training and k < self.num_layers - 1:
            return F.dropout(h, self.dropout)
        return h

    def _output(self, steps: list[Node], batched: bool) -> Node:
        out = ops.stack(steps, axis=1 if self.batch_first else 0)
        return out if batched else ops.squeeze(out, 0 if self.batch_first else 1)

    def _final(self, last: list[Node], batched: bool) -> Node:
        out = ops.stack(last, axis=0)
        return out if batched else ops.squeeze(out, 1)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        return text


class LSTM(_Recurrent):
    """A (stack of) LSTM layer(s), unrolled through time, as ``torch.nn.LSTM``.

    ``output, (h_n, c_n) = lstm(x, (h0, c0))``: ``output`` (L, N, hidden) — or (N, L, hidden) with
    ``batch_first`` — holds the last layer's ``h_t`` at every step; ``h_n`` and ``c_n``
    (num_layers, N, hidden) each layer's last states. ``dropout`` applies between layers in
    training. Parameters ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}``
    as PyTorch (gate order ``i, f, g, o``).
    """

    kind = "LSTM"

    def forward(self, x: Node, hx: tuple[Node, Node] | None = None) -> tuple[Node, tuple[Node, Node]]:
        steps, n, batched = self._steps(x)
        h0, c0 = (None, None) if hx is None else hx
        hs, cs = self._initial(h0, n, batched, "h0"), self._initial(c0, n, batched, "c0")
        last_h, last_c = [], []
        for k in range(self.num_layers):
            w_ih, w_hh, b_ih, b_hh = self._layer(k)
            h, c = hs[k], cs[k]
            outputs = []
            for x_t in steps:
                state = F.lstm_cell(x_t, h, c, w_ih, w_hh, b_ih, b_hh)
                h, c = state[0], state[1]
                outputs.append(h)
            last_h.append(h)
            last_c.append(c)
            steps = [self._between_layers(o, k) for o in outputs]
        return self._output(outputs, batched), (self._final(last_h, batched), self._final(last_c, batched))


class GRU(_Recurrent):
    """A (stack of) GRU layer(s), unrolled through time, as ``torch.nn.GRU``.

    ``output, h_n = gru(x, h0)`` with the shapes of :class:`LSTM`; gate order ``r, z, n``.
    """

    kind = "GRU"

    def forward(self, x: Node, hx: Node | None = None) -> tuple[Node, Node]:
        steps, n, batched = self._steps(x)
        hs = self._initial(hx, n, batched, "h0")
        last = []
        for k in range(self.num_layers):
            w_ih, w_hh, b_ih, b_hh = self._layer(k)
            h = hs[k]
            outputs = []
            for x_t in steps:
                h = F.gru_cell(x_t, h, w_ih, w_hh, b_ih, b_hh)
                outputs.append(h)
            last.append(h)
            steps = [self._between_layers(o, k) for o in outputs]
        return self._output(outputs, batched), self._final(last, batched)
