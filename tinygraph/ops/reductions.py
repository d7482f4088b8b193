"""Reduction primitives: sum, mean, max, min over ``axis`` (None, int or tuple), with ``keepdims``.

The derivative of a reduction spreads the output's gradient back over the reduced axes.
For max and min, ties share the gradient evenly (the documented rule, as ``torch.amax``).
"""

from __future__ import annotations

import numpy as np

from tinygraph.ops.axes import kept_shape, normalize_axes, reduced_count
from tinygraph.registry import Sample, primitive

_SAMPLES = (
    Sample((3, 4)),
    Sample((3, 4), axis=0),
    Sample((2, 3, 4), axis=(0, 2), keepdims=True),
    Sample((2, 3, 4), axis=-1),
)


def _reduce(fn, op: str, x, axis, keepdims):
    """``fn(x, axis, keepdims)``; on failure, the clear error naming ``op`` (built only then).

    Also accepts what numpy refuses but users write: a list of axes.
    """
    try:
        if type(x) is np.ndarray:  # the method skips numpy's Python-level dispatch
            return getattr(x, fn.__name__)(axis=axis, keepdims=keepdims)
        return fn(x, axis=axis, keepdims=keepdims)
    except (TypeError, ValueError):  # numpy's AxisError is a ValueError
        axes = normalize_axes(axis, np.ndim(x), op)  # raises the clear error for a bad axis
        if fn in (np.max, np.min):
            _check_nonempty(x, axes, op)
        return fn(x, axis=axes, keepdims=keepdims)


def _spread(xp, g, x, axis):
    """Broadcast the gradient of a reduction back over the reduced axes of ``x``."""
    return xp.broadcast_to(xp.reshape(g, kept_shape(x.shape, axis)), x.shape)


@primitive(
    "sum",
    formula="z = Σ_axis x\n∂z/∂x = 1 (the gradient is copied to every summed element)",
    vjp=(lambda xp, g, z, x, axis, keepdims: _spread(xp, g, x, axis),),
    samples=_SAMPLES,
)
def sum(x, axis=None, keepdims=False):
    """Sum over ``axis`` (None: all axes), ``z = Σ x``."""
    return _reduce(np.sum, "sum", x, axis, keepdims)


@primitive(
    "mean",
    formula="z = (1/n) Σ_axis x\n∂z/∂x = 1/n, n = number of elements averaged",
    vjp=(lambda xp, g, z, x, axis, keepdims: _spread(xp, g, x, axis) / reduced_count(x.shape, axis),),
    samples=_SAMPLES,
)
def mean(x, axis=None, keepdims=False):
    """Mean over ``axis`` (None: all axes), ``z = (1/n) Σ x``."""
    return _reduce(np.mean, "mean", x, axis, keepdims)


def _extreme_vjp(xp, g, z, x, axis, keepdims):
    kept = kept_shape(x.shape, axis)
    winners = x == xp.reshape(z, kept)
    count = xp.sum(xp.astype(winners, g.dtype), axis, True)
    return winners * (xp.reshape(g, kept) / count)  # a 0/1 mask: much faster than where


def _check_nonempty(x, axis, op):
    axes = normalize_axes(axis, np.ndim(x), op)
    if any(np.shape(x)[a] == 0 for a in axes):
        raise ValueError(f"{op}: cannot reduce over an empty axis (input shape {np.shape(x)})")


@primitive(
    "max",
    formula="z = max_axis x\n∂z/∂x = 1/k where x equals the max (k = number of tied maxima), else 0",
    vjp=(_extreme_vjp,),
    samples=_SAMPLES,
)
def max(x, axis=None, keepdims=False):
    """Maximum over ``axis``; tied maxima share the gradient evenly."""
    return _reduce(np.max, "max", x, axis, keepdims)


@primitive(
    "min",
    formula="z = min_axis x\n∂z/∂x = 1/k where x equals the min (k = number of tied minima), else 0",
    vjp=(_extreme_vjp,),
    samples=_SAMPLES,
)
def min(x, axis=None, keepdims=False):
    """Minimum over ``axis``; tied minima share the gradient evenly."""
    return _reduce(np.min, "min", x, axis, keepdims)
