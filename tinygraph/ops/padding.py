"""``tg.pad``: numpy's ``pad_width`` with numpy's and PyTorch's padding modes, and a fill value.

Zero padding is the ``pad`` primitive. Every other mode is a composite: a constant fill adds the
value on the border, and reflect/symmetric/edge/wrap pick existing elements with an index per
axis (``getitem``), so border elements that copy one input element send it their gradients.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygraph.node import Node
from tinygraph.ops.shape import getitem, pad_pairs
from tinygraph.ops.shape import pad as pad_zeros
from tinygraph.registry import Sample, composite, constant

# numpy's mode names, and PyTorch's for the same ones.
MODES = {
    "constant": "constant",
    "reflect": "reflect",
    "symmetric": "symmetric",
    "edge": "edge",
    "replicate": "edge",
    "wrap": "wrap",
    "circular": "wrap",
}


def _pairs(x: Node, pad_width: Any) -> tuple[tuple[int, int], ...]:
    try:
        return pad_pairs(pad_width, x.ndim)
    except ValueError as exc:
        if "pad:" in str(exc):
            raise
        raise ValueError(f"pad: pad_width {pad_width!r} does not fit an input of shape {x.shape}") from exc


@composite(
    "pad_mode",
    formula="constant: z = x surrounded by value;  reflect/symmetric/edge/wrap: z = x[i₀(p), i₁(q), ...]\n"
    "∂L/∂x: the border's gradient added to the elements it copies",
    samples=(
        Sample((3, 4), 1, "reflect", 0.0),
        Sample((3, 4), ((1, 2), (2, 0)), "edge", 0.0),
        Sample((2, 3), ((0, 0), (3, 2)), "wrap", 0.0),
        Sample((3, 3), 2, "symmetric", 0.0),
        Sample((2, 3), 1, "constant", 1.5),
    ),
)
def pad_mode(x: Any, pad_width: Any, mode: str, value: float) -> Node:
    """Padding other than with zeros: ``mode`` (a numpy or PyTorch name) and the constant ``value``."""
    x = x if isinstance(x, Node) else constant(np.asarray(x))
    pairs = _pairs(x, pad_width)
    kind = MODES[mode]
    if kind == "constant":
        border = np.pad(np.zeros(x.shape, dtype=x.dtype), pairs, constant_values=1) * np.asarray(value)
        return pad_zeros(x, pairs) + constant(border.astype(x.dtype, copy=False))
    empty = [a for a, n in enumerate(x.shape) if n == 0 and pairs[a] != (0, 0)]
    if empty:
        raise ValueError(f"pad: cannot pad the empty axis {empty[0]} of shape {x.shape} in mode {mode!r}")
    index = np.ix_(*(np.pad(np.arange(n), pair, mode=kind) for n, pair in zip(x.shape, pairs)))
    return getitem(x, index)


def pad(x: Any, pad_width: Any, mode: str = "constant", value: float = 0.0) -> Node:
    """Pad ``x``, with numpy's ``pad_width`` (an int, a (before, after) pair, or one pair per axis).

    ``mode`` is ``"constant"`` (filled with ``value``), ``"reflect"`` (mirrored without repeating
    the edge), ``"symmetric"`` (mirrored with it), ``"edge"`` or PyTorch's ``"replicate"`` (the
    edge value repeated), ``"wrap"`` or PyTorch's ``"circular"`` (the other end's values).
    Zero padding is the ``pad`` primitive; the other modes are the ``pad_mode`` composite.
    """
    if mode not in MODES:
        raise ValueError(f"pad: unknown mode {mode!r}; expected one of {', '.join(map(repr, MODES))}")
    if isinstance(value, Node):
        value = value.item()
    if not isinstance(value, (int, float, np.number)) or isinstance(value, bool):
        raise TypeError(f"pad: value must be a number, got {value!r}")
    if mode != "constant" and value != 0:
        raise ValueError(f"pad: value= is only used in mode 'constant', not {mode!r}")
    if mode == "constant" and value == 0:
        return pad_zeros(x, pad_width)
    return pad_mode(x, pad_width, mode, value)
