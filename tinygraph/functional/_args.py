"""Argument checks shared by the composite ops: int-or-tuple sizes, flags, node inputs, reductions."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygraph._inputs import value_array
from tinygraph.errors import OpError
from tinygraph.node import Node, refuse_node_sequence
from tinygraph.ops import mean, sum
from tinygraph.ops.axes import normalize_axes
from tinygraph.registry import constant

REDUCTIONS = ("mean", "sum", "none")


def as_node(value: Any) -> Node:
    """``value`` itself if it is a Node, else a constant node holding it as an array.

    Python floats (and lists of them) become float32, as in ``tg.tensor``; numpy values keep their dtype.
    A list or tuple holding Nodes is refused (TypeError pointing to ``tg.stack``).
    """
    if isinstance(value, Node):
        return value
    refuse_node_sequence(value, "op input")  # an array of it would drop the Nodes' graph
    return constant(value_array(value))


def check_flag(op: str, name: str, value: Any) -> bool:
    """``value`` as a bool if it is one (Python or numpy), else an OpError naming ``op`` and ``name``."""
    if not isinstance(value, (bool, np.bool_)):
        raise OpError(f"{op}: {name} must be a bool (True or False), got {value!r}")
    return bool(value)


def ntuple(value: Any, n: int, name: str, op: str, minimum: int = 1) -> tuple[int, ...]:
    """An int or a length-``n`` sequence of ints as an ``n``-tuple, each at least ``minimum``.

    The one parser of int-or-tuple arguments (kernel sizes, strides, paddings), for functional ops
    and nn layers alike; ``op`` (an op or layer name) starts the OpError's message.

    >>> ntuple(2, 2, "stride", "conv2d")
    (2, 2)
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        values: tuple[Any, ...] = (int(value),) * n
    elif isinstance(value, (tuple, list)) and len(value) == n:
        values = tuple(value)
    else:
        raise OpError(f"{op}: {name} must be an int or a sequence of {n} ints, got {value!r}")
    for v in values:
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < minimum:
            raise OpError(f"{op}: {name} entries must be integers >= {minimum}, got {values!r}")
    return tuple(int(v) for v in values)


def single_axis(op: str, axis: Any, ndim: int) -> int:
    """``axis`` (an int, possibly negative) as a non-negative axis of an ``ndim``-D input, or an OpError."""
    try:
        (a,) = normalize_axes(axis, ndim, op)
    except (ValueError, TypeError) as exc:
        message = str(exc) if str(exc).startswith(f"{op}:") else f"{op}: invalid axis {axis!r}"
        raise OpError(message) from exc
    return a


def check_ndim(op: str, what: str, node: Node, ndims: tuple[int, ...], layout: str) -> None:
    """Raise an OpError naming ``op`` unless ``node`` has one of the allowed numbers of axes."""
    if node.ndim not in ndims:
        allowed = " or ".join(str(d) for d in ndims)
        raise OpError(f"{op}: {what} must have {allowed} dimensions {layout}, got shape {node.shape}")


def reduce_loss(op: str, losses: Node, reduction: str) -> Node:
    """Apply a loss reduction: ``"mean"`` (average), ``"sum"`` or ``"none"`` (per-element losses)."""
    check_reduction(op, reduction)
    if reduction == "mean":
        return mean(losses)
    if reduction == "sum":
        return sum(losses)
    return losses


def check_reduction(op: str, reduction: str) -> None:
    """Fail early (before any work) on an unknown reduction name."""
    if reduction not in REDUCTIONS:
        raise OpError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
