"""Rounding, clipping, floor division and remainder: piecewise-constant and piecewise-linear ops.

floor, ceil, round, trunc and ``//`` are flat between the integers they jump at, so their
gradient is zero (as in PyTorch); clip passes the gradient where the input is inside the bounds;
``x % y = x - floor(x / y) · y``. Samples avoid the jumps (finite differences across a jump mean
nothing).
"""

from __future__ import annotations

import numpy as np

from tinygraph.node import Node
from tinygraph.registry import Sample, primitive


def _zero(xp, g, z, *args, **attrs):
    """A zero gradient of g's shape and dtype (written with ops so it records under create_graph)."""
    return g * 0


def _flat(name: str, fn, doc: str):
    def forward(x):
        return fn(x)

    forward.__name__ = name
    forward.__doc__ = doc + " Its gradient is zero (it is flat between jumps), as in PyTorch."
    return primitive(
        name,
        formula=f"z = {name}(x)\n∂z/∂x = 0 (piecewise constant)",
        vjp=(_zero,),
        samples=(Sample((3, 4), domain=(0.1, 0.9)), Sample((2, 3), domain=(-2.9, -2.1))),
    )(forward)


floor = _flat("floor", np.floor, "The largest integer ``<= x``, elementwise.")
ceil = _flat("ceil", np.ceil, "The smallest integer ``>= x``, elementwise.")
trunc = _flat("trunc", np.trunc, "``x`` rounded towards zero, elementwise.")


@primitive(
    "round",
    formula="z = x rounded to `decimals` decimals (halves to even)\n∂z/∂x = 0 (piecewise constant)",
    vjp=(_zero,),
    samples=(Sample((3, 4), domain=(0.1, 0.4)), Sample((3,), domain=(1.01, 1.04), decimals=1)),
)
def round(x, decimals=0):
    """Round to ``decimals`` decimals, halves to the nearest even value (as numpy and PyTorch).

    Its gradient is zero (it is flat between jumps), as in PyTorch.
    """
    if np.asarray(x).dtype.kind == "b":
        return np.array(x)  # numpy would round bools into float16; they are whole numbers already
    return np.round(x, decimals)


def _bound(op: str, name: str, value):
    if isinstance(value, Node):
        if value.requires_grad:
            raise TypeError(
                f"{op}: a bound that requires grad is not supported (no gradient would reach it); "
                "use tg.maximum / tg.minimum"
            )
        return value.data
    return value


def _inside(x, lo, hi):
    mask = None
    if lo is not None:
        mask = x >= lo
    if hi is not None:
        mask = (x <= hi) if mask is None else mask * (x <= hi)
    return mask


@primitive(
    "clip",
    formula="z = min(max(x, min), max)\n∂z/∂x = 1 where min <= x <= max, else 0",
    vjp=(lambda xp, g, z, x, min, max: g * _inside(x, min, max),),
    samples=(
        Sample((3, 4), min=-1.0, max=1.0),
        Sample((3, 4), min=-0.5, max=None),
        Sample((2, 3), min=None, max=np.array([0.0, 0.5, -0.5])),
    ),
)
def clip(x, min=None, max=None):
    """Limit ``x`` to ``[min, max]`` (either may be None), as ``numpy.clip`` and ``torch.clamp``.

    The gradient passes where ``min <= x <= max`` (the bounds included, as PyTorch) and is zero
    elsewhere. The bounds are constants (numbers or arrays broadcasting with ``x``); a floating
    point ``x`` keeps its dtype.
    """
    lo, hi = _bound("clip", "min", min), _bound("clip", "max", max)
    if lo is None and hi is None:
        raise ValueError("clip: at least one of min and max must be given")
    out = np.clip(x, lo, hi)
    dtype = np.result_type(x)
    # Array bounds do not widen a float input (a float32 x stays float32, as with Python numbers).
    return out.astype(dtype, copy=False) if np.issubdtype(dtype, np.floating) else out


def _check_divisor(op: str, x, y):
    if np.issubdtype(np.result_type(x, y), np.integer) and np.any(np.asarray(y) == 0):
        raise ZeroDivisionError(f"{op}: integer division by zero (inputs {np.shape(x)} and {np.shape(y)})")


_DIVIDE = (Sample((3, 4), (3, 4), domain="nonzero"), Sample((2, 3), 0.7))


@primitive(
    "floor_divide",
    formula="z = floor(x / y)\n∂z/∂x = 0,  ∂z/∂y = 0 (piecewise constant)",
    vjp=(_zero, _zero),
    samples=_DIVIDE,
)
def floor_divide(x, y):
    """``x // y``: the floor of the quotient, as Python, numpy and ``torch.floor_divide``.

    Its gradient is zero (it is flat between jumps). Integer division by zero is an error.
    """
    _check_divisor("floor_divide", x, y)
    return np.floor_divide(x, y)


@primitive(
    "remainder",
    formula="z = x mod y = x - floor(x / y) · y   (the sign of y, as Python's %)\n"
    "∂z/∂x = 1,  ∂z/∂y = -floor(x / y)",
    vjp=(lambda xp, g, z, x, y: g, lambda xp, g, z, x, y: -g * xp.floor_divide(x, y)),
    samples=_DIVIDE,
)
def remainder(x, y):
    """``x % y`` with the sign of the divisor, as Python, numpy and ``torch.remainder``.

    Integer division by zero is an error.
    """
    _check_divisor("remainder", x, y)
    return np.remainder(x, y)
