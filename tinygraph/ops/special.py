"""Special functions the layers need as primitives: the error function and a stable softplus.

``erf`` is what the exact GELU is made of; ``softplus`` (``log(1 + eˣ)``, PyTorch's ``beta`` and
``threshold``) is the stable building block of ``logsigmoid`` and of the binary cross-entropy of
logits: computed as ``logaddexp(0, x)`` it neither overflows for large x nor rounds to 0 for very
negative x.
"""

from __future__ import annotations

import math

import numpy as np

from tinygraph.registry import Sample, primitive

try:  # scipy's erf is vectorised C; it ships with scikit-learn, but is not required
    from scipy.special import erf as _scipy_erf
except ImportError:  # pragma: no cover - exercised only without scipy
    _scipy_erf = None

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_math_erf = np.vectorize(math.erf, otypes=[np.float64])


@primitive(
    "erf",
    formula="z = erf(x) = (2/√π) ∫₀ˣ e^(-t²) dt\n∂z/∂x = (2/√π) e^(-x²)",
    vjp=(lambda xp, g, z, x: g * (_TWO_OVER_SQRT_PI * xp.exp(-(x * x))),),
    samples=(Sample((3, 4)), Sample((5,), domain=(-6.0, 6.0))),
)
def erf(x):
    """The Gauss error function, elementwise (values in (-1, 1)), in the input's float dtype."""
    x = np.asarray(x)
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
    value = _scipy_erf(x) if _scipy_erf is not None else _math_erf(x)
    return np.asarray(value, dtype=dtype)[()]


def _softplus_vjp(xp, g, z, x, beta, threshold):
    s = xp.sigmoid(x * beta)
    return xp.where(x * beta > threshold, g, g * s)


@primitive(
    "softplus",
    formula="z = (1/β) log(1 + e^(βx))   (z = x where βx > threshold)\n"
    "∂z/∂x = σ(βx)   (1 where βx > threshold)",
    vjp=(_softplus_vjp,),
    samples=(
        Sample((3, 4)),
        Sample((3, 4), beta=2.0, threshold=1.5, domain="nonzero"),
        Sample((6,), domain=(-40.0, 40.0)),
    ),
)
def softplus(x, beta=1.0, threshold=20.0):
    """Softplus, ``(1/β) log(1 + exp(βx))``, a smooth relu; linear above ``βx > threshold`` as PyTorch.

    Computed as ``logaddexp(0, βx) / β``: no overflow for large x, full precision for very
    negative x (where the value is about ``e^(βx)/β``).
    """
    bx = x * beta
    return np.where(bx > threshold, x, np.logaddexp(0, bx) / beta)[()]
