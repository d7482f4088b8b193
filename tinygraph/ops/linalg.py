"""Matrix product with numpy's ``matmul`` rules (1-D operands, batched broadcasting)."""

from __future__ import annotations

import numpy as np

from tinygraph import _scratch
from tinygraph.node import Node
from tinygraph.ops.axes import matrix_transpose_axes
from tinygraph.registry import Sample, primitive


def _mT(xp, a):
    return xp.transpose(a, matrix_transpose_axes(a.ndim))


def _col(xp, a):
    """Append a length-1 axis: a vector becomes a column."""
    return xp.reshape(a, a.shape + (1,))


def _is_transposed_matrix(a) -> bool:
    """True for a 2-D operand stored column-major (typically ``w.T`` of a row-major ``w``).

    A layout check only (no value is read), so rules may branch on it on arrays and Nodes alike.
    """
    value = a.data if isinstance(a, Node) else a
    flags = getattr(value, "flags", None)
    return value.ndim == 2 and flags is not None and flags.f_contiguous and not flags.c_contiguous


def _long_product(a, b) -> bool:
    """True when the 2-D product ``a @ b`` is faster formed the other way round, as ``(bᵀ aᵀ)ᵀ``.

    A shape and layout check only (no value is read), so rules may branch on it for arrays and
    Nodes alike. It holds for a *small, wide* result (m, k) of a *long* contraction n — n > m,
    n > k and m < k, as for a weight gradient summed over every position of a batch — when ``b``
    is stored transposed (``yᵀ`` of a row-major ``y``, the usual case in ``G @ Yᵀ``). OpenBLAS then
    forms the tall (k, m) product ``bᵀ aᵀ`` up to 3.8× faster (float32, 2 threads; results from
    8×9 to 100×128, contractions 1K–25K: never more than 5% slower, a tie for the tiniest). The
    result comes back as a column-major view; being small, it costs at most a small copy later.
    Other operand layouts showed no consistent winner, and large results keep the orientation the
    next op expects, so neither is touched.
    """
    (m, n), k = a.shape, b.shape[-1]
    return n > m and n > k and m < k and _is_transposed_matrix(b)


def _product(xp, a, b):
    """``a @ b`` for 2-D operands, formed as ``(bᵀ aᵀ)ᵀ`` when :func:`_long_product` says so."""
    if _long_product(a, b):
        return _mT(xp, xp.matmul(_mT(xp, b), _mT(xp, a)))
    return xp.matmul(a, b)


# Each gradient is computed in its operand's memory layout (PyTorch's "gradient layout contract"):
# for a transposed weight (x @ w.T, as in linear layers) the gradient (Gᵀ X)ᵀ is then a view of a
# row-major array, and the leaf copy that owns it is a plain copy, not a strided transpose. A small
# 2-D gradient is formed in whichever orientation is faster (:func:`_product`).
def _matmul_vjp_x(xp, g, z, x, y):
    if y.ndim == 1:
        return g * y if x.ndim == 1 else _col(xp, g) * y
    if x.ndim == 1:
        return xp.reshape(xp.matmul(y, _col(xp, g)), y.shape[:-1])
    if g.ndim == 2:
        if _is_transposed_matrix(x):
            return _mT(xp, _product(xp, y, _mT(xp, g)))
        return _product(xp, g, _mT(xp, y))
    return xp.matmul(g, _mT(xp, y))


def _matmul_vjp_y(xp, g, z, x, y):
    if x.ndim == 1:
        return g * x if y.ndim == 1 else _col(xp, x) * xp.reshape(g, g.shape[:-1] + (1, g.shape[-1]))
    if y.ndim == 1:
        return xp.reshape(xp.matmul(_mT(xp, x), _col(xp, g)), x.shape[:-2] + (x.shape[-1],))
    if g.ndim == 2:
        if _is_transposed_matrix(y):
            return _mT(xp, _product(xp, _mT(xp, g), x))
        return _product(xp, _mT(xp, x), g)
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
        if (  # a large product of two matrices (conv's im2col): into reusable memory
            type(x) is np.ndarray
            and type(y) is np.ndarray
            and x.ndim == 2
            and y.ndim == 2
            and x.shape[0] * y.shape[1] * x.itemsize >= _scratch.MIN_BYTES
        ):
            return np.matmul(x, y, out=_product_memory(x.shape[0], y.shape[1], np.result_type(x, y)))
        return np.matmul(x, y)
    except ValueError as exc:
        raise ValueError(_matmul_mismatch(np.shape(x), np.shape(y)) or str(exc)) from exc


# A large product whose rows are a multiple of this many bytes long gets its rows padded apart by
# one cache line (see _product_memory).
_ALIASING_ROW_BYTES = 2048
_ROW_PAD_BYTES = 64


def _product_memory(m: int, n: int, dtype: np.dtype) -> np.ndarray:
    """Reusable memory for a large (m, n) product, its rows padded apart when their length aliases.

    BLAS writes its result a few rows at a time. When a row is a multiple of 2 KiB long (n a
    multiple of a power of two, as N·OH·OW = 16·32·32 in conv2d's im2col product), those rows map
    to the same few cache sets and evict each other: one cache line of padding per row makes such
    products up to 1.9× faster (OpenBLAS sgemm, (m, k) @ (k, n) for six m×k from 16×72 to 64×576, n
    from 1K to 32K), and other row lengths gain nothing from it, so they are left alone. The result
    is then a view with a row stride of ``n + pad`` elements instead of a C-contiguous array: equal
    values (the same BLAS kernel computes each element), read by every op as any strided view.
    """
    dtype = np.dtype(dtype)
    if (n * dtype.itemsize) % _ALIASING_ROW_BYTES:
        return _scratch.empty((m, n), dtype)
    pad = max(1, _ROW_PAD_BYTES // dtype.itemsize)
    return _scratch.empty((m, n + pad), dtype)[:, :n]


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
