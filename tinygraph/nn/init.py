"""Weight initialisation, in place, with tinygraph's generator (``tg.manual_seed`` makes it repeatable).

The layers use PyTorch's defaults: weights ``kaiming_uniform_(w, a=√5)``, which draws from
U(-1/√fan_in, 1/√fan_in), and biases from the same range.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import DTypeLike

from tinygraph.creation import get_rng
from tinygraph.node import Node

_GAINS = {
    "linear": 1.0, "identity": 1.0, "conv1d": 1.0, "conv2d": 1.0, "conv3d": 1.0, "conv_transpose1d": 1.0,
    "conv_transpose2d": 1.0, "conv_transpose3d": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3.0,
    "relu": math.sqrt(2.0), "selu": 3.0 / 4.0,
}  # fmt: skip


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended scale of the weights for a nonlinearity (PyTorch's table).

    ``linear``/``conv2d``/``sigmoid``: 1; ``tanh``: 5/3; ``relu``: √2;
    ``leaky_relu`` with negative slope a: √(2 / (1 + a²)).
    """
    if nonlinearity == "leaky_relu":
        a = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1.0 + a * a))
    if nonlinearity not in _GAINS:
        raise ValueError(
            f"calculate_gain: unknown nonlinearity {nonlinearity!r}; expected one of "
            f"{sorted([*_GAINS, 'leaky_relu'])}"
        )
    return _GAINS[nonlinearity]


def fan_in_and_fan_out(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of shape ``(out, in, *kernel)``: ``in·Πkernel``, ``out·Πkernel``."""
    if len(shape) < 2:
        raise ValueError(f"fan_in_and_fan_out: needs a weight with at least 2 dimensions, got shape {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def uniform_(node: Node, low: float = 0.0, high: float = 1.0) -> Node:
    """Fill ``node`` in place with samples of U(low, high); returns it."""
    data = node.data
    data[...] = get_rng().uniform(low, high, size=data.shape)
    return node


def normal_(node: Node, mean: float = 0.0, std: float = 1.0) -> Node:
    """Fill ``node`` in place with samples of N(mean, std²); returns it."""
    data = node.data
    data[...] = get_rng().normal(mean, std, size=data.shape)
    return node


def constant_(node: Node, value: float) -> Node:
    """Fill ``node`` in place with ``value``; returns it."""
    node.data[...] = value
    return node


def zeros_(node: Node) -> Node:
    """Fill ``node`` in place with zeros; returns it."""
    return constant_(node, 0.0)


def ones_(node: Node) -> Node:
    """Fill ``node`` in place with ones; returns it."""
    return constant_(node, 1.0)


def _fan(op: str, node: Node, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{op}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fan_in_and_fan_out(node.shape)
    fan = fan_in if mode == "fan_in" else fan_out
    if fan == 0:
        raise ValueError(f"{op}: cannot initialise a weight of shape {node.shape}: it has no {mode}")
    return fan


def kaiming_normal_(
    node: Node, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Node:
    """He initialisation, normal form: N(0, std²) with ``std = gain / √fan``."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan("kaiming_normal_", node, mode))
    return normal_(node, 0.0, std)


def xavier_normal_(node: Node, gain: float = 1.0) -> Node:
    """Glorot initialisation, normal form: N(0, std²) with ``std = gain · √(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = fan_in_and_fan_out(node.shape)
    return normal_(node, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def trunc_normal_(node: Node, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0) -> Node:
    """N(mean, std²) restricted to [a, b] (values outside are redrawn); returns ``node``."""
    if not a < b:
        raise ValueError(f"trunc_normal_: needs a < b, got a={a}, b={b}")
    data = node.data
    values = get_rng().normal(mean, std, size=data.shape)
    outside = (values < a) | (values > b)
    while outside.any():
        values[outside] = get_rng().normal(mean, std, size=int(outside.sum()))
        outside = (values < a) | (values > b)
    data[...] = values
    return node


def eye_(node: Node) -> Node:
    """Fill a 2-D ``node`` with the identity matrix (ones on the diagonal); returns it."""
    if node.ndim != 2:
        raise ValueError(f"eye_: needs a 2-D weight, got shape {node.shape}")
    node.data[...] = np.eye(*node.shape)
    return node


def kaiming_uniform_(
    node: Node, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Node:
    """He initialisation: U(-b, b) with ``b = gain · √(3 / fan)`` (``fan`` = fan_in or fan_out).

    With PyTorch's layer default ``a=√5`` this is ``b = 1/√fan_in``.
    """
    fan = _fan("kaiming_uniform_", node, mode)
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(node, -bound, bound)


def xavier_uniform_(node: Node, gain: float = 1.0) -> Node:
    """Glorot initialisation: U(-b, b) with ``b = gain · √(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = fan_in_and_fan_out(node.shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(node, -bound, bound)


def default_bound(fan_in: int) -> float:
    """PyTorch's default weight and bias range for a layer with ``fan_in`` inputs: ``1/√fan_in``."""
    return 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0


def empty(shape: tuple[int, ...], dtype: DTypeLike = np.float32) -> np.ndarray:
    """An uninitialised array for a new parameter (filled by an init function right after)."""
    return np.empty(shape, dtype=dtype)
