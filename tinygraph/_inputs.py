"""Checks on what may become a node's value, shared by ``Node`` and the ops' operand wrapping.

A node holds numbers: bools, ints or floats. Strings, objects and complex numbers are refused
(complex arithmetic would need conjugated gradients, which no rule computes). The refusal of a
list or tuple holding Nodes (it would drop their graph) is ``tinygraph.node.refuse_node_sequence``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

NUMERIC_KINDS = "biuf"  # bool, signed and unsigned int, float


def check_numeric(value: np.ndarray, where: str) -> None:
    """Raise TypeError unless ``value`` (an ndarray) holds bools, ints or floats."""
    if value.dtype.kind not in NUMERIC_KINDS:
        what = "complex numbers" if value.dtype.kind == "c" else f"{value.dtype} values"
        raise TypeError(
            f"{where}: cannot hold {what} (dtype {value.dtype}); tinygraph nodes hold real numbers "
            "(bool, int or float)"
        )


FLOAT64 = np.dtype(np.float64)
FLOAT64_SCALAR = np.float64  # bound to module names, for the hot path's identity checks
NDARRAY = np.ndarray
_FLOAT64_SOURCES = (np.ndarray, np.generic)


def float32_unless_float64_input(value: Any, inputs: Any, op: str) -> Any:
    """``value`` (an op's float64 result) as float32 unless an input was float64 itself.

    The rule, as PyTorch's: Python floats are float32, so integer maths that yields floats
    (``int_tensor + 0.5``, ``int / int``, ``exp(int)``, ``0.7 ** int``, ``maximum(int64, float32)``)
    gives float32, where numpy would give float64; float64 comes only from float64 inputs (and from
    an explicit ``astype``).
    """
    if op == "astype":
        return value
    for v in inputs:
        if isinstance(v, _FLOAT64_SOURCES) and v.dtype == FLOAT64:
            return value
    return value.astype(np.float32)


HALF = np.dtype(np.float16)
HALF_SCALAR = np.float16


def float32_not_half(fn: Any, x: Any) -> Any:
    """``fn(x)`` computed in float32, for a forward that numpy computed in float16 from ``x``.

    numpy computes a float function of a bool, int8 or uint8 array (``np.exp(mask)``) in float16;
    PyTorch gives float32, and so does tinygraph (its rule: integer maths that yields floats gives
    float32). A forward checks its result inline (the check is on the hot path) and calls this
    only for a float16 result; a float16 input stays float16::

        z = np.exp(x)
        if z.__class__ is HALF_SCALAR or (z.__class__ is NDARRAY and z.dtype is HALF):
            return float32_not_half(np.exp, x)
        return z
    """
    if np.asarray(x).dtype is HALF:
        return fn(x)
    return fn(np.asarray(x, dtype=np.float32))


def value_array(value: Any) -> np.ndarray:
    """``value`` (not a Node) as an array, Python floats (and lists of them) as float32.

    The rule, as ``tg.tensor``'s and PyTorch's: Python floats are float32; numpy arrays and numpy
    scalars keep their dtype.
    """
    array = np.asarray(value)
    if array.dtype == FLOAT64 and not isinstance(value, _FLOAT64_SOURCES):
        return array.astype(np.float32)
    return array


def int_arg(where: str, name: str, value: Any) -> int:
    """``value`` as an int, or a TypeError naming ``where`` and ``name`` (a float would be truncated).

    Bools, floats (``2.5``), strings and others are refused, as PyTorch refuses ``nn.Embedding(10, 2.5)``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{where}: {name} must be an int, got {type(value).__name__} {value!r:.40}")
    return int(value)


def positive_sizes(where: str, **sizes: Any) -> tuple[int, ...]:
    """The layer sizes ``sizes`` (``in_features=784, out_features=10``) as ints, each at least 1.

    A non-int is a TypeError (:func:`int_arg`); a size below 1 a ValueError naming ``where`` and
    every size, e.g. ``Linear: in_features and out_features must be positive, got 0 and 3``.
    """
    values = tuple(int_arg(where, name, value) for name, value in sizes.items())
    if min(values) < 1:
        names, got = list(sizes), [str(v) for v in values]
        raise ValueError(f"{where}: {_listing(names)} must be positive, got {_listing(got)}")
    return values


def _listing(words: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def real_arg(where: str, name: str, value: Any) -> float:
    """``value`` as a float, or a TypeError naming ``where`` and ``name`` for a non-number (``"a"``)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{where}: {name} must be a real number, got {type(value).__name__} {value!r:.40}")
    return float(value)
