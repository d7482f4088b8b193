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
