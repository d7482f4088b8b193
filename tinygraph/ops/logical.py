"""Logical and bitwise ops: ``&``, ``|``, ``^``, ``~`` and their ``logical_*`` forms (no gradients).

``x & y`` on booleans is "and", on integers bitwise and, as in numpy and PyTorch; on floats it
is an error naming the op. The ``logical_*`` ops take any dtype and test truth (non-zero).
"""

from __future__ import annotations

import numpy as np

from tinygraph.registry import Sample, primitive

_A = np.array([[True, False, True], [False, True, False]])
_B = np.array([[True, True, False], [False, False, True]])
_I = np.array([[5, 3, 0], [-2, 7, 12]])
_J = np.array([[3, 6, 1], [1, 7, 10]])


def _check_integral(op: str, *values):
    for v in values:
        dtype = np.result_type(v)
        if not (np.issubdtype(dtype, np.integer) or dtype == np.bool_):
            shapes = " and ".join(f"{np.shape(u)} {np.result_type(u)}" for u in values)
            raise TypeError(
                f"{op}: needs booleans or integers, got {shapes} "
                f"(for a truth test of floats use tg.logical_{op.removeprefix('bitwise_')})"
            )


def _bitwise(name: str, symbol: str, fn):
    def forward(x, y):
        _check_integral(name, x, y)
        return fn(x, y)

    forward.__name__ = name
    forward.__doc__ = (
        f"``x {symbol} y``: elementwise logical on booleans, bitwise on integers; not differentiable."
    )
    return primitive(
        name,
        formula=f"z = x {symbol} y (booleans or integers; no gradient)",
        vjp=(None, None),
        differentiable=False,
        samples=(Sample(_A, _B), Sample(_I, _J)),
    )(forward)


bitwise_and = _bitwise("bitwise_and", "&", np.bitwise_and)
bitwise_or = _bitwise("bitwise_or", "|", np.bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", "^", np.bitwise_xor)


@primitive(
    "bitwise_not",
    formula="z = ~x (not on booleans, bitwise complement on integers; no gradient)",
    vjp=(None,),
    differentiable=False,
    samples=(Sample(_A), Sample(_I)),
)
def bitwise_not(x):
    """``~x``: elementwise not on booleans, bitwise complement on integers; not differentiable."""
    _check_integral("bitwise_not", x)
    return np.invert(x)


def _logical(name: str, word: str, fn):
    def forward(x, y):
        return fn(x, y)

    forward.__name__ = name
    forward.__doc__ = f"Elementwise truth of ``x {word} y`` (non-zero is true); not differentiable."
    return primitive(
        name,
        formula=f"z = x {word} y on truth values (no gradient)",
        vjp=(None, None),
        differentiable=False,
        samples=(Sample(_A, _B), Sample((2, 3), _J)),
    )(forward)


logical_and = _logical("logical_and", "and", np.logical_and)
logical_or = _logical("logical_or", "or", np.logical_or)
logical_xor = _logical("logical_xor", "xor", np.logical_xor)


@primitive(
    "logical_not",
    formula="z = not x on truth values (no gradient)",
    vjp=(None,),
    differentiable=False,
    samples=(Sample(_A), Sample((2, 3))),
)
def logical_not(x):
    """Elementwise ``not x`` (zero is false), as booleans; not differentiable."""
    return np.logical_not(x)
