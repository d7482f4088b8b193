"""More reductions: prod, cumsum, argmax/argmin, any/all (var/std are in ``ops/composites.py``).

Same conventions as :mod:`tinygraph.ops.reductions`: ``axis`` is None (all axes), an int or a
tuple, and ``keepdims`` keeps reduced axes as length 1 (PyTorch's ``dim=``/``keepdim=`` work too).
"""

from __future__ import annotations

import numpy as np

from tinygraph.node import Node
from tinygraph.ops.axes import kept_shape, normalize_axes, reduced_count
from tinygraph.registry import Sample, primitive

_SAMPLES = (
    Sample((3, 4)),
    Sample((3, 4), axis=0),
    Sample((2, 3, 4), axis=(0, 2), keepdims=True),
    Sample((2, 3, 4), axis=-1),
)


def _axes(op: str, x, axis):
    """``axis`` checked against ``x`` (clear error naming ``op``) and as numpy takes it."""
    axes = normalize_axes(axis, np.ndim(x), op)
    return None if axis is None else axes


def _raw(v):
    return v.data if isinstance(v, Node) else np.asarray(v)


def _others_product(xp, x, axis):
    """For each element of ``x``, the product of the *other* elements it is reduced with.

    Exact where ``x`` holds zeros (unlike ``prod / x``): the reduced axes are moved last and
    flattened to length n, each element's row is repeated n times with the element itself replaced
    by 1 (an n × n mask), and the rows multiplied.
    """
    shape = x.shape
    red = normalize_axes(axis, len(shape), "prod")
    keep = tuple(a for a in range(len(shape)) if a not in red)
    perm = keep + red
    n = reduced_count(shape, axis)
    moved = xp.reshape(xp.transpose(x, perm), tuple(shape[a] for a in keep) + (1, n))
    rows = xp.broadcast_to(moved, tuple(shape[a] for a in keep) + (n, n))
    others = xp.prod(xp.where(np.eye(n, dtype=bool), 1, rows), -1, False)
    others = xp.reshape(others, tuple(shape[a] for a in perm))
    return xp.transpose(others, tuple(int(i) for i in np.argsort(perm)))


def _prod_vjp(xp, g, z, x, axis, keepdims):
    kept = kept_shape(x.shape, axis)
    if not (_raw(x) == 0).any():
        return xp.reshape(g * z, kept) / x
    return xp.reshape(g, kept) * _others_product(xp, x, axis)


@primitive(
    "prod",
    formula="z = Π_axis x\n∂z/∂xᵢ = Π_{j≠i} xⱼ  (= z / xᵢ when xᵢ ≠ 0)",
    vjp=(_prod_vjp,),
    samples=_SAMPLES,  # inputs holding zeros: tests/test_tensor_ops.py
)
def prod(x, axis=None, keepdims=False):
    """Product over ``axis`` (None: all axes), ``z = Π x``; exact gradients where x holds zeros."""
    return np.prod(x, axis=_axes("prod", x, axis), keepdims=keepdims)


def _single_axis(op: str, x, axis):
    if axis is None:
        return None
    if not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{op}: axis must be an int or None, got {axis!r}")
    axes = normalize_axes(axis, np.ndim(x), op)  # a 0-d input takes axis 0 or -1, as PyTorch
    return axes[0] if axes else None  # 0-d: its one element is the whole input


def _reverse_cumsum(xp, g, axis):
    """``Σ_{j >= i} g_j`` along ``axis``: the total minus the running sum before i."""
    return xp.sum(g, axis, True) - xp.cumsum(g, axis) + g


@primitive(
    "cumsum",
    formula="zᵢ = Σ_{j <= i} xⱼ along axis\n∂L/∂xᵢ = Σ_{j >= i} gⱼ (the gradient summed from the end)",
    vjp=(
        lambda xp, g, z, x, axis: (
            xp.reshape(_reverse_cumsum(xp, xp.reshape(g, (-1,)), 0), x.shape)
            if axis is None or not x.shape  # flattened, or a 0-d input (its gradient is g)
            else _reverse_cumsum(xp, g, axis)
        ),
    ),
    samples=(Sample((3, 4), axis=1), Sample((2, 3, 2), axis=0), Sample((2, 3))),
)
def cumsum(x, axis=None):
    """Running sum along ``axis``; with ``axis=None``, over the flattened input (as numpy)."""
    a = _single_axis("cumsum", x, axis)
    if axis is not None and np.ndim(x) == 0:
        return np.array(x)  # the running sum of one element, 0-d as the input (PyTorch's)
    return np.cumsum(x, axis=a)


def _index_reduction(name: str, fn, what: str):
    def forward(x, axis=None, keepdims=False):
        if np.size(x) == 0:
            raise ValueError(f"{name}: cannot take the {what} of an empty input (shape {np.shape(x)})")
        return fn(x, axis=_single_axis(name, x, axis), keepdims=keepdims)

    forward.__name__ = name
    forward.__doc__ = (
        f"Index of the {what} along ``axis`` (None: of the flattened input), as int64; the first "
        "one on a tie. Not differentiable."
    )
    return primitive(
        name,
        formula=f"z = index of the {what} along axis (no gradient)",
        vjp=(None,),
        differentiable=False,
        samples=(Sample((3, 4)), Sample((3, 4), axis=1, keepdims=True), Sample((2, 3, 4), axis=-2)),
    )(forward)


argmax = _index_reduction("argmax", np.argmax, "maximum")
argmin = _index_reduction("argmin", np.argmin, "minimum")


def _truth_reduction(name: str, fn, what: str):
    def forward(x, axis=None, keepdims=False):
        return fn(x, axis=_axes(name, x, axis), keepdims=keepdims)

    forward.__name__ = name
    forward.__doc__ = f"Whether {what} element along ``axis`` is true (non-zero); not differentiable."
    return primitive(
        name,
        formula=f"z = ({what} x along axis is true) (no gradient)",
        vjp=(None,),
        differentiable=False,
        samples=(
            Sample(np.array([[True, False, True], [True, True, True]])),
            Sample(np.array([[1, 0, 2], [0, 0, 0]]), axis=1, keepdims=True),
        ),
    )(forward)


any = _truth_reduction("any", np.any, "any")
all = _truth_reduction("all", np.all, "every")
