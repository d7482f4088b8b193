"""Elementwise primitives: arithmetic, activations and comparisons (numpy broadcasting throughout).

Each op: its numpy forward, its formula, and one local-derivative rule per input. ``g`` is the
gradient arriving at the output ``z``; the engine sums each result back to its input's shape.
"""

from __future__ import annotations

import numpy as np

from tinygraph._inputs import HALF, HALF_SCALAR, NDARRAY, float32_not_half
from tinygraph.registry import Sample, primitive

BROADCAST = ((2, 3), (3,))  # a pair of shapes that broadcast, used in the samples below
NONZERO = "nonzero"


@primitive(
    "add",
    formula="z = x + y\n∂z/∂x = 1,  ∂z/∂y = 1",
    vjp=(lambda xp, g, z, x, y: g, lambda xp, g, z, x, y: g),
    samples=(Sample((3, 4), (3, 4)), Sample(*BROADCAST), Sample((4, 1), (1, 5)), Sample((), (2,))),
)
def add(x, y):
    """Elementwise sum, ``z = x + y``."""
    return x + y


@primitive(
    "sub",
    formula="z = x - y\n∂z/∂x = 1,  ∂z/∂y = -1",
    vjp=(lambda xp, g, z, x, y: g, lambda xp, g, z, x, y: -g),
    samples=(Sample((3, 4), (3, 4)), Sample(*BROADCAST), Sample((2, 1, 3), (4, 1))),
)
def sub(x, y):
    """Elementwise difference, ``z = x - y``."""
    return x - y


@primitive(
    "mul",
    formula="z = x · y\n∂z/∂x = y,  ∂z/∂y = x",
    vjp=(lambda xp, g, z, x, y: g * y, lambda xp, g, z, x, y: g * x),
    samples=(Sample((3, 4), (3, 4)), Sample(*BROADCAST), Sample((3, 1), (1, 4)), Sample((), (3,))),
)
def mul(x, y):
    """Elementwise product, ``z = x * y``."""
    return x * y


@primitive(
    "div",
    formula="z = x / y\n∂z/∂x = 1/y,  ∂z/∂y = -x/y² = -z/y",
    vjp=(lambda xp, g, z, x, y: g / y, lambda xp, g, z, x, y: -g * z / y),
    samples=(Sample((3, 4), (3, 4), domain=NONZERO), Sample(*BROADCAST, domain=NONZERO)),
)
def div(x, y):
    """Elementwise true division, ``z = x / y``."""
    return x / y


@primitive(
    "pow",
    formula=(
        "z = x ** y\n∂z/∂x = y · x^(y-1)   (0 where y = 0: x^0 = 1 even at x = 0)\n"
        "∂z/∂y = z · log(x)   (0 where x = 0 and y ≥ 0, as PyTorch)"
    ),
    vjp=(
        # The limits are taken by swapping in a harmless operand (x^1 where y = 0, log 1 where
        # x = 0 and y ≥ 0), so no inf or nan is computed and no warning is raised.
        lambda xp, g, z, x, y: g * y * x ** xp.where(y == 0, 1, y - 1),
        lambda xp, g, z, x, y: g * z * xp.log(xp.where((x == 0) * (y >= 0), 1, x)),
    ),
    samples=(
        Sample((3, 4), (3, 4), domain=(0.5, 2.0)),
        Sample((2, 3), (3,), domain=(0.5, 2.0)),
        Sample((3,), 3),
        Sample((3,), 0.0),
    ),
)
def pow(x, y):
    """Elementwise power, ``z = x ** y``."""
    return x**y


@primitive(
    "neg",
    formula="z = -x\n∂z/∂x = -1",
    vjp=(lambda xp, g, z, x: -g,),
    samples=(Sample((3, 4)),),
)
def neg(x):
    """Elementwise negation, ``z = -x``."""
    return -x


@primitive(
    "exp",
    formula="z = eˣ\n∂z/∂x = eˣ = z",
    vjp=(lambda xp, g, z, x: g * z,),
    samples=(Sample((3, 4)),),
)
def exp(x):
    """Elementwise exponential, ``z = exp(x)``."""
    z = np.exp(x)
    if z.__class__ is HALF_SCALAR or (z.__class__ is NDARRAY and z.dtype is HALF):
        return float32_not_half(np.exp, x)  # of bools or 8-bit ints: float32, as PyTorch
    return z


@primitive(
    "log",
    formula="z = log x\n∂z/∂x = 1/x",
    vjp=(lambda xp, g, z, x: g / x,),
    samples=(Sample((3, 4), domain=(0.2, 3.0)),),
)
def log(x):
    """Elementwise natural logarithm, ``z = log(x)``."""
    z = np.log(x)
    if z.__class__ is HALF_SCALAR or (z.__class__ is NDARRAY and z.dtype is HALF):
        return float32_not_half(np.log, x)  # of bools or 8-bit ints: float32, as PyTorch
    return z


@primitive(
    "tanh",
    formula="z = tanh x\n∂z/∂x = 1 - z²",
    vjp=(lambda xp, g, z, x: g * (1 - z * z),),
    samples=(Sample((3, 4)),),
)
def tanh(x):
    """Elementwise hyperbolic tangent, ``z = tanh(x)``."""
    z = np.tanh(x)
    if z.__class__ is HALF_SCALAR or (z.__class__ is NDARRAY and z.dtype is HALF):
        return float32_not_half(np.tanh, x)  # of bools or 8-bit ints: float32, as PyTorch
    return z


def _sigmoid(x):
    # Stable for large |x|: exp only ever sees non-positive arguments.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))[()]


@primitive(
    "sigmoid",
    formula="z = σ(x) = 1 / (1 + e⁻ˣ)\n∂z/∂x = z · (1 - z)",
    vjp=(lambda xp, g, z, x: g * z * (1 - z),),
    samples=(Sample((3, 4)), Sample((5,), domain=(-30.0, 30.0))),
)
def sigmoid(x):
    """Elementwise logistic sigmoid, ``z = 1 / (1 + exp(-x))``, computed without overflow."""
    if x.dtype.kind != "f":  # integers: -|x| would wrap around (uint16 1 → 65535); float32, the rule
        x = np.asarray(x, dtype=np.float32)
    return _sigmoid(x)


@primitive(
    "relu",
    formula="z = max(x, 0)\n∂z/∂x = 1 if x > 0 else 0",
    vjp=(lambda xp, g, z, x: g * (x > 0),),  # a 0/1 mask: ~14x faster than where on random signs
    samples=(Sample((3, 4), domain=NONZERO),),
)
def relu(x):
    """Rectified linear unit, ``z = max(x, 0)``; its derivative at exactly 0 is taken as 0."""
    return np.maximum(x, 0)


@primitive(
    "abs",
    formula="z = |x|\n∂z/∂x = sign(x)   (0 at x = 0)",
    vjp=(lambda xp, g, z, x: g * xp.sign(x),),
    samples=(Sample((3, 4), domain=NONZERO),),
)
def abs(x):
    """Elementwise absolute value, ``z = |x|``."""
    return np.abs(x)


@primitive(
    "sqrt",
    formula="z = √x\n∂z/∂x = 1 / (2√x) = 1 / (2z)",
    vjp=(lambda xp, g, z, x: g / (2 * z),),
    samples=(Sample((3, 4), domain=(0.2, 3.0)),),
)
def sqrt(x):
    """Elementwise square root, ``z = sqrt(x)``."""
    z = np.sqrt(x)
    if z.__class__ is HALF_SCALAR or (z.__class__ is NDARRAY and z.dtype is HALF):
        return float32_not_half(np.sqrt, x)  # of bools or 8-bit ints: float32, as PyTorch
    return z


def _tie_share(xp, g, wins, tie):
    """Gradient share for maximum/minimum: all of g where this side wins, half of it on a tie.

    Written with 0/1 masks rather than ``where``, which is an order of magnitude slower on
    random masks.
    """
    return g * wins + (g * tie) * 0.5


@primitive(
    "maximum",
    formula="z = max(x, y) elementwise\n∂z/∂x = 1 where x > y, ½ where x = y (ties split evenly), else 0",
    vjp=(
        lambda xp, g, z, x, y: _tie_share(xp, g, x > y, x == y),
        lambda xp, g, z, x, y: _tie_share(xp, g, y > x, x == y),
    ),
    samples=(Sample((3, 4), (3, 4)), Sample(*BROADCAST)),
)
def maximum(x, y):
    """Elementwise maximum; on a tie the gradient is split evenly between ``x`` and ``y``."""
    return np.maximum(x, y)


@primitive(
    "minimum",
    formula="z = min(x, y) elementwise\n∂z/∂x = 1 where x < y, ½ where x = y (ties split evenly), else 0",
    vjp=(
        lambda xp, g, z, x, y: _tie_share(xp, g, x < y, x == y),
        lambda xp, g, z, x, y: _tie_share(xp, g, y < x, x == y),
    ),
    samples=(Sample((3, 4), (3, 4)), Sample(*BROADCAST)),
)
def minimum(x, y):
    """Elementwise minimum; on a tie the gradient is split evenly between ``x`` and ``y``."""
    return np.minimum(x, y)


_MASK = np.array([[True, False, True], [False, True, False]])


@primitive(
    "where",
    formula="z = x where cond else y\n∂z/∂x = cond,  ∂z/∂y = not cond",
    vjp=(
        None,
        lambda xp, g, z, cond, x, y: xp.where(cond, g, 0),
        lambda xp, g, z, cond, x, y: xp.where(cond, 0, g),
    ),
    samples=(Sample(_MASK, (2, 3), (2, 3)), Sample(_MASK, (3,), (2, 1))),
)
def where(cond, x, y):
    """Pick ``x`` where ``cond`` is true and ``y`` elsewhere (all three broadcast)."""
    return np.where(cond, x, y)[()]


@primitive(
    "astype",
    formula="z = x converted to dtype\n∂z/∂x = 1 (the gradient converted back to x's dtype)",
    vjp=(lambda xp, g, z, x, dtype: xp.astype(g, x.dtype),),
    samples=(Sample((3, 2), dtype=np.float64),),
)
def _astype(x, dtype):
    """Convert to another dtype; the gradient is converted back."""
    return np.asarray(x).astype(dtype, copy=False)[()]


def astype(x, dtype):
    """Convert to another dtype; the gradient is converted back.

    A result that is not floating point (ints, bools) is not differentiable: it does not require
    grad, whatever ``x`` does (as in PyTorch).
    """
    out = _astype(x, dtype)
    if out.requires_grad and not np.issubdtype(out.dtype, np.floating):
        out.requires_grad = False
    return out


astype.opdef = _astype.opdef  # type: ignore[attr-defined]


def _comparison(name: str, symbol: str, fn):
    def forward(x, y):
        return fn(x, y)

    forward.__name__ = name
    forward.__doc__ = f"Elementwise ``x {symbol} y`` as booleans; not differentiable."
    return primitive(
        name,
        formula=f"z = x {symbol} y (boolean; no gradient)",
        vjp=(None, None),
        differentiable=False,
        samples=(Sample((3, 4), (3, 4)),),
    )(forward)


less = _comparison("less", "<", np.less)
less_equal = _comparison("less_equal", "<=", np.less_equal)
greater = _comparison("greater", ">", np.greater)
greater_equal = _comparison("greater_equal", ">=", np.greater_equal)
equal = _comparison("equal", "==", np.equal)
not_equal = _comparison("not_equal", "!=", np.not_equal)


@primitive(
    "sign",
    formula="z = sign(x) ∈ {-1, 0, 1}\n∂z/∂x = 0 (piecewise constant)",
    vjp=(lambda xp, g, z, x: g * 0,),
    samples=(Sample((3, 4), domain=NONZERO),),
)
def sign(x):
    """Elementwise sign (-1, 0 or 1); its derivative is 0 (as PyTorch's): ``sign(x) * x`` backpropagates."""
    return np.sign(x)
