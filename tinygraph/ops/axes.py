"""Axis and shape bookkeeping shared by the reduction and shape ops (pure Python, no arrays)."""

from __future__ import annotations

import math
from typing import Any


def normalize_axes(axis: Any, ndim: int, op: str) -> tuple[int, ...]:
    """Return ``axis`` (None, int or tuple) as a sorted tuple of non-negative axes.

    Raises a ValueError naming ``op`` when an axis is out of range or repeated.
    """
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int,)) or hasattr(axis, "__index__") else tuple(axis)
    out = []
    for a in axes:
        a = int(a)
        if (a not in (0, -1)) if ndim == 0 else not -ndim <= a < ndim:  # 0-d: axis 0 or -1, as PyTorch
            raise ValueError(f"{op}: axis {a} is out of range for an input with {ndim} dimensions")
        if ndim:  # a 0-d input has no axis to reduce: axis 0 or -1 means "all of it" (nothing)
            out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis!r}")
    return tuple(sorted(out))


def kept_shape(shape: tuple[int, ...], axis: Any, op: str = "reduce") -> tuple[int, ...]:
    """The shape of a reduction over ``axis`` with ``keepdims=True`` (reduced axes become 1)."""
    axes = normalize_axes(axis, len(shape), op)
    return tuple(1 if i in axes else d for i, d in enumerate(shape))


def reduced_count(shape: tuple[int, ...], axis: Any, op: str = "reduce") -> int:
    """How many elements each output of a reduction over ``axis`` summarizes."""
    axes = normalize_axes(axis, len(shape), op)
    return math.prod(shape[a] for a in axes)


def matrix_transpose_axes(ndim: int) -> tuple[int, ...]:
    """Axes order that swaps the last two axes (the batched matrix transpose)."""
    return tuple(range(ndim - 2)) + (ndim - 1, ndim - 2)


def sum_to_axes(shape: tuple[int, ...], target: tuple[int, ...]) -> tuple[tuple[int, ...], bool]:
    """Axes to sum so an array of ``shape`` reduces to the broadcast-compatible ``target``.

    Returns ``(axes, ok)``; ``ok`` is False when ``target`` cannot have been broadcast to ``shape``.
    """
    lead = len(shape) - len(target)
    if lead < 0:
        return (), False
    axes = list(range(lead))
    for i, d in enumerate(target):
        s = shape[lead + i]
        if d == s:
            continue
        if d != 1:
            return (), False
        axes.append(lead + i)
    return tuple(axes), True
