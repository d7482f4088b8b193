"""``tg.pad``: numpy's ``pad_width`` with numpy's and PyTorch's padding modes, and a fill value.

Zero padding is the ``pad`` primitive; every other mode is the ``pad_mode`` composite
(:mod:`tinygraph.ops.composites`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygraph.node import Node
from tinygraph.ops.composites import MODES, pad_mode
from tinygraph.ops.shape import pad as pad_zeros


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
