"""Matrix product with numpy's ``matmul`` rules (1-D operands, batched broadcasting)."""

from __future__ import annotations

import numpy as np

from tinygraph import _blas
from tinygraph.ops.axes import matrix_transpose_axes
from tinygraph.registry import Sample, primitive


def _mT(xp, a):
    return xp.transpose(a, matrix_transpose_axes(a.ndim))


def _col(xp, a):
    """Append a length-1 axis: a vector becomes a column."""
    return xp.reshape(a, a.shape + (1,))


# The 2-D gradients are formed by _blas.product, in their operand's memory layout and in whichever
# orientation BLAS forms faster: the same values as the plain product (tests/test_conv_layouts.py).
def _matmul_vjp_x(xp, g, z, x, y):
    if y.ndim == 1:
        return g * y if x.ndim == 1 else _col(xp, g) * y
    if x.ndim == 1:
        return xp.reshape(xp.matmul(y, _col(xp, g)), y.shape[:-1])
    if g.ndim == 2:
        return _blas.product(xp, g, y, b_t=True, like=x)  # G @ Yᵀ
    return xp.matmul(g, _mT(xp, y))


def _matmul_vjp_y(xp, g, z, x, y):
    if x.ndim == 1:
        return g * x if y.ndim == 1 else _col(xp, x) * xp.reshape(g, g.shape[:-1] + (1, g.shape[-1]))
    if y.ndim == 1:
        return xp.reshape(xp.matmul(_mT(xp, x), _col(xp, g)), x.shape[:-2] + (x.shape[-1],))
    if g.ndim == 2:
        return _blas.product(xp, x, g, a_t=True, like=y)  # Xᵀ @ G
    return xp.matmul(_mT(xp, x), g)


@primitive(
    "matmul",
    formula="Z = X @ Y\n∂L/∂X = G @ Yᵀ,  ∂L/∂Y = Xᵀ @ G   (G = ∂L/∂Z; batch axes summed back)",
    vjp=(_matmul_vjp_x, _matmul_vjp_y),
    samples=(
        Sample((3, 4), (4, 2)),
        Sample((4,), (4,)),
        Sample((4,), (4, 3)),
        Sample((3, 4), (4,)),
        Sample((2, 3, 4), (4, 5)),
        Sample((2, 1, 3, 4), (5, 4, 2)),
        Sample((4,), (2, 4, 3)),
        Sample((2, 3, 4), (4,)),
        Sample((3, 4), np.ones((2, 4), np.float32).T),  # a transposed (column-major) constant
    ),
)
def matmul(x, y):
    """Matrix product ``x @ y`` with numpy's rules for 1-D and batched (broadcast) operands."""
    try:
        return _blas.matmul(x, y)  # a large product into reusable memory
    except ValueError as exc:
        raise ValueError(_matmul_mismatch(np.shape(x), np.shape(y)) or str(exc)) from exc


def _matmul_mismatch(xs: tuple[int, ...], ys: tuple[int, ...]) -> str | None:
    """Why ``x @ y`` cannot be taken for these shapes, or None if the core dimensions fit."""
    if not xs or not ys:
        return f"matmul: both inputs need at least 1 dimension, got shapes {xs} and {ys}"
    k_left = xs[-1]
    k_right, which = (ys[-2], "second-to-last") if len(ys) >= 2 else (ys[0], "only")
    if k_left != k_right:
        return (
            f"matmul: shapes {xs} and {ys} are not aligned: the last axis of the first ({k_left}) "
            f"must equal the {which} axis of the second ({k_right})"
        )
    try:
        np.broadcast_shapes(xs[:-2], ys[:-2])
    except ValueError:
        return (
            f"matmul: the batch axes of shapes {xs} and {ys} ({xs[:-2]} and {ys[:-2]}) do not "
            "broadcast together"
        )
    return None
