"""Memory-layout choices for matrix products: how fast a product is formed, never its value.

The ops declare what a product *is* (``∂L/∂X = G Yᵀ``); this module decides how BLAS forms it:

- :func:`matmul`, the numpy forward of the ``matmul`` op: a large 2-D product goes into reusable
  scratch memory, its rows padded apart when their length would alias in the cache
  (:func:`product_memory`).
- :func:`product`, for matmul's rules: a 2-D gradient formed in its operand's memory layout (for a
  transposed weight, ``(Bᵀ Aᵀ)ᵀ``), and a small, wide one the other way round when that is faster
  (:func:`long_product`). It works on arrays and on Nodes alike (the choices read only shapes and
  layouts), so the rules stay one formula for both.
- :func:`matmul_rows`: a few rows times a transposed weight view (the RNN step), formed as
  ``(wᵀ aᵀ)ᵀ``.

Tests (``tests/test_conv_layouts.py``, ``tests/test_blas.py``) check every choice against the plain
product in float64; ``docs/performance.md`` gives the measurements behind them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygraph import _scratch
from tinygraph.node import as_array

# A large product whose rows are a multiple of this many bytes long gets its rows padded apart by
# one cache line (see product_memory).
ALIASING_ROW_BYTES = 2048
ROW_PAD_BYTES = 64


def is_transposed_matrix(a: Any) -> bool:
    """True for a 2-D operand stored column-major (typically ``w.T`` of a row-major ``w``).

    A layout check only (no value is read), so rules may branch on it on arrays and Nodes alike.
    """
    value = as_array(a)
    if value.ndim != 2:
        return False
    flags = value.flags  # (each .flags read makes a new object)
    return flags.f_contiguous and not flags.c_contiguous


def long_product(a: Any, b: Any) -> bool:
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
    return n > m and n > k and m < k and is_transposed_matrix(b)


def _oriented(xp: Any, a: Any, b: Any) -> Any:
    """``a @ b`` for 2-D operands, formed as ``(bᵀ aᵀ)ᵀ`` when :func:`long_product` says so."""
    if long_product(a, b):
        return xp.matmul(b.T, a.T).T
    return xp.matmul(a, b)


def product(xp: Any, a: Any, b: Any, *, like: Any, a_t: bool = False, b_t: bool = False) -> Any:
    """The 2-D product ``A @ B`` (``A = aᵀ`` if ``a_t``, ``B = bᵀ`` if ``b_t``) in ``like``'s layout.

    Each gradient is computed in its operand's memory layout (PyTorch's "gradient layout
    contract"): for a transposed ``like`` (``x @ w.T``, as in linear layers) the product is formed
    as ``(Bᵀ Aᵀ)ᵀ``, a view of a row-major array, so the leaf copy that owns it is a plain copy and
    not a strided transpose. Either way a small, wide product is formed in whichever orientation is
    faster (:func:`long_product`). ``xp`` is the namespace the rule computes with (its matmul puts
    large products into reusable memory); transposes are ``.T``, which arrays and Nodes both have.
    """
    if is_transposed_matrix(like):
        return _oriented(xp, b if b_t else b.T, a if a_t else a.T).T
    return _oriented(xp, a.T if a_t else a, b.T if b_t else b)


def product_memory(m: int, n: int, dtype: Any) -> np.ndarray:
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
    if (n * dtype.itemsize) % ALIASING_ROW_BYTES:
        return _scratch.empty((m, n), dtype)
    pad = max(1, ROW_PAD_BYTES // dtype.itemsize)
    return _scratch.empty((m, n + pad), dtype)[:, :n]


def matmul(x: Any, y: Any) -> Any:
    """``np.matmul(x, y)``; a large product of two matrices (conv's im2col) into reusable memory.

    Large means a result of at least ``_scratch.MIN_BYTES``; its memory comes from
    :func:`product_memory`. Raises numpy's ValueError for shapes that do not fit.
    """
    if (
        type(x) is np.ndarray
        and type(y) is np.ndarray
        and x.ndim == 2
        and y.ndim == 2
        and x.shape[0] * y.shape[1] * x.itemsize >= _scratch.MIN_BYTES
    ):
        return np.matmul(x, y, out=product_memory(x.shape[0], y.shape[1], np.result_type(x, y)))
    return np.matmul(x, y)


def matmul_rows(a: Any, w: Any) -> np.ndarray:
    """``a @ w``; computed as ``(wᵀ @ aᵀ)ᵀ`` when ``w`` is a transposed view (``W.T`` of a weight).

    For a few rows of ``a``, OpenBLAS's sgemm is about 1.7× slower on a transposed right operand
    than on a plain one (14 µs against 8 µs for (16, 128) @ (128, 128)ᵀ); the unrolled RNN does
    this product at every step. Same values, up to the order of the sums.
    """
    a, w = np.asarray(a), np.asarray(w)
    if w.ndim == 2 and a.ndim == 2 and not w.flags.c_contiguous and w.T.flags.c_contiguous:
        return np.matmul(w.T, a.T).T
    return np.matmul(a, w)
