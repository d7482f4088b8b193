"""More elementwise functions: trigonometric and hyperbolic, log/exp variants, nan/inf tests
(logaddexp is a composite, in ``ops/composites.py``).

Each op: its numpy forward, its formula, and one local-derivative rule per input, written with
``xp.`` ops so that ``create_graph=True`` can differentiate them again. Samples keep to each
function's domain (arcsin inside (-1, 1), arccosh above 1, logs above 0).
"""

from __future__ import annotations

import math

import numpy as np

from tinygraph._inputs import HALF, HALF_SCALAR, NDARRAY, float32_not_half
from tinygraph.registry import Sample, primitive


def _unary(name: str, fn, formula: str, rule, doc: str, domain=(-2.0, 2.0)):
    """Declare an elementwise primitive ``z = fn(x)`` with the local derivative ``rule``."""

    def forward(x):
        z = fn(x)
        if z.__class__ is HALF_SCALAR or (z.__class__ is NDARRAY and z.dtype is HALF):
            return float32_not_half(fn, x)  # of bools or 8-bit ints: float32, as PyTorch
        return z

    forward.__name__ = name
    forward.__doc__ = doc
    return primitive(name, formula=formula, vjp=(rule,), samples=(Sample((3, 4), domain=domain),))(forward)


sin = _unary(
    "sin", np.sin, "z = sin x\n∂z/∂x = cos x", lambda xp, g, z, x: g * xp.cos(x), "Elementwise sine."
)
cos = _unary(
    "cos", np.cos, "z = cos x\n∂z/∂x = -sin x", lambda xp, g, z, x: -g * xp.sin(x), "Elementwise cosine."
)
tan = _unary(
    "tan",
    np.tan,
    "z = tan x\n∂z/∂x = 1 + tan² x = 1 + z²",
    lambda xp, g, z, x: g * (1 + z * z),
    "Elementwise tangent.",
    domain=(-1.2, 1.2),
)
arcsin = _unary(
    "arcsin",
    np.arcsin,
    "z = arcsin x\n∂z/∂x = 1 / √(1 - x²)",
    lambda xp, g, z, x: g / xp.sqrt(1 - x * x),
    "Elementwise inverse sine (``torch.asin``), for x in [-1, 1].",
    domain=(-0.9, 0.9),
)
arccos = _unary(
    "arccos",
    np.arccos,
    "z = arccos x\n∂z/∂x = -1 / √(1 - x²)",
    lambda xp, g, z, x: -g / xp.sqrt(1 - x * x),
    "Elementwise inverse cosine (``torch.acos``), for x in [-1, 1].",
    domain=(-0.9, 0.9),
)
arctan = _unary(
    "arctan",
    np.arctan,
    "z = arctan x\n∂z/∂x = 1 / (1 + x²)",
    lambda xp, g, z, x: g / (1 + x * x),
    "Elementwise inverse tangent (``torch.atan``).",
)
sinh = _unary(
    "sinh",
    np.sinh,
    "z = sinh x\n∂z/∂x = cosh x",
    lambda xp, g, z, x: g * xp.cosh(x),
    "Elementwise hyperbolic sine.",
)
cosh = _unary(
    "cosh",
    np.cosh,
    "z = cosh x\n∂z/∂x = sinh x",
    lambda xp, g, z, x: g * xp.sinh(x),
    "Elementwise hyperbolic cosine.",
)
arcsinh = _unary(
    "arcsinh",
    np.arcsinh,
    "z = arsinh x\n∂z/∂x = 1 / √(x² + 1)",
    lambda xp, g, z, x: g / xp.sqrt(x * x + 1),
    "Elementwise inverse hyperbolic sine (``torch.asinh``).",
)
arccosh = _unary(
    "arccosh",
    np.arccosh,
    "z = arcosh x\n∂z/∂x = 1 / √(x² - 1)",
    lambda xp, g, z, x: g / xp.sqrt(x * x - 1),
    "Elementwise inverse hyperbolic cosine (``torch.acosh``), for x >= 1.",
    domain=(1.2, 3.0),
)
arctanh = _unary(
    "arctanh",
    np.arctanh,
    "z = artanh x\n∂z/∂x = 1 / (1 - x²)",
    lambda xp, g, z, x: g / (1 - x * x),
    "Elementwise inverse hyperbolic tangent (``torch.atanh``), for x in (-1, 1).",
    domain=(-0.9, 0.9),
)
log1p = _unary(
    "log1p",
    np.log1p,
    "z = log(1 + x)\n∂z/∂x = 1 / (1 + x)",
    lambda xp, g, z, x: g / (1 + x),
    "``log(1 + x)``, accurate for tiny x.",
    domain=(-0.5, 2.0),
)
expm1 = _unary(
    "expm1",
    np.expm1,
    "z = eˣ - 1\n∂z/∂x = eˣ = z + 1",
    lambda xp, g, z, x: g * (z + 1),
    "``exp(x) - 1``, accurate for tiny x.",
)
log2 = _unary(
    "log2",
    np.log2,
    "z = log₂ x\n∂z/∂x = 1 / (x · ln 2)",
    lambda xp, g, z, x: g / (x * math.log(2.0)),
    "Elementwise base-2 logarithm.",
    domain=(0.2, 3.0),
)
log10 = _unary(
    "log10",
    np.log10,
    "z = log₁₀ x\n∂z/∂x = 1 / (x · ln 10)",
    lambda xp, g, z, x: g / (x * math.log(10.0)),
    "Elementwise base-10 logarithm.",
    domain=(0.2, 3.0),
)

_SPECIAL = np.array([[1.0, np.nan, np.inf], [-np.inf, 0.0, -2.5]])


def _test(name: str, fn, what: str):
    def forward(x):
        z = fn(x)
        if z.__class__ is HALF_SCALAR or (z.__class__ is NDARRAY and z.dtype is HALF):
            return float32_not_half(fn, x)  # of bools or 8-bit ints: float32, as PyTorch
        return z

    forward.__name__ = name
    forward.__doc__ = f"Elementwise test for {what}, as booleans; not differentiable."
    return primitive(
        name,
        formula=f"z = (x is {what}) (boolean; no gradient)",
        vjp=(None,),
        differentiable=False,
        samples=(Sample(_SPECIAL),),
    )(forward)


isnan = _test("isnan", np.isnan, "nan")
isinf = _test("isinf", np.isinf, "+inf or -inf")
isfinite = _test("isfinite", np.isfinite, "finite (neither nan nor inf)")
