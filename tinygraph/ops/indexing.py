"""Indexing and rearranging ops: gather/scatter along an axis, masks, one-hot, flip, roll, tril/triu,
tile, repeat_interleave, split and chunk.

The primitives move values without changing them, so each derivative moves the gradient back:
gather ↔ scatter_add_along, flip ↔ flip, roll ↔ roll the other way, tril ↔ tril, tile → a sum over
the copies; split and chunk return slices (``getitem``) of their input. masked_fill and
repeat_interleave are composites (``where``, ``getitem``) in ``ops/composites.py``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygraph.errors import OpError
from tinygraph.node import Node, refuse_node_sequence
from tinygraph.ops.axes import normalize_axes
from tinygraph.ops.shape import getitem
from tinygraph.registry import Sample, accept_torch_names, constant, primitive


def _raw(v: Any) -> np.ndarray:
    refuse_node_sequence(v, "op input")  # np.asarray would drop the Nodes' graph
    return v.data if isinstance(v, Node) else np.asarray(v)


def _node(v: Any) -> Node:
    refuse_node_sequence(v, "op input")
    return v if isinstance(v, Node) else constant(np.asarray(v))


def _shape(v: Any) -> tuple[int, ...]:
    return v.shape if isinstance(v, Node) else np.shape(v)


def _axis(op: str, axis: Any, ndim: int) -> int:
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{op}: dim must be an int, got {axis!r}")
    return normalize_axes(int(axis), ndim, op)[0]


def along_index(op: str, shape: tuple[int, ...], dim: Any, index: Any) -> tuple[np.ndarray, ...]:
    """The numpy index that picks ``x[..., index[i, j, k], ...]`` along ``dim`` (PyTorch's gather rule).

    For ``dim = 0``: ``out[i][j][k] = x[index[i][j][k]][j][k]``. ``index`` has ``x``'s number of
    axes, holds integers in ``[0, shape[dim])`` and is no longer than ``x`` along the other axes.
    """
    index = _raw(index)
    if not np.issubdtype(index.dtype, np.integer):
        raise TypeError(f"{op}: index must hold integers, got dtype {index.dtype}")
    if index.ndim != len(shape):
        raise ValueError(
            f"{op}: index has {index.ndim} dimensions but the input has {len(shape)} "
            f"(index {index.shape}, input {shape})"
        )
    d = _axis(op, dim, len(shape))
    too_long = [a for a in range(len(shape)) if a != d and index.shape[a] > shape[a]]
    if too_long:
        raise ValueError(
            f"{op}: index {index.shape} is longer than the input {shape} along dimension {too_long[0]}"
        )
    if index.size and (index.min() < 0 or index.max() >= shape[d]):
        bad = index.min() if index.min() < 0 else index.max()
        raise IndexError(f"{op}: index {bad} is out of range for dimension {d} of size {shape[d]}")
    grids = list(np.ogrid[tuple(slice(n) for n in index.shape)]) if index.ndim else []
    grids[d] = index
    return tuple(grids)


_G_INDEX = np.array([[0, 2, 2, 1], [1, 0, 0, 0], [2, 2, 1, 0]])


@primitive(
    "gather",
    formula="z[i][j] = x[index[i][j]][j]  (dim = 0; likewise for other dims)\n"
    "∂L/∂x: the gradient added back at the gathered positions (scatter_add_along)",
    vjp=(lambda xp, g, z, x, dim, index: xp.scatter_add_along(g, dim, index, x.shape),),
    samples=(
        Sample((3, 4), dim=0, index=_G_INDEX),
        Sample((3, 5), dim=1, index=np.array([[4, 0], [1, 1], [3, 2]])),
        Sample((2, 3, 4), dim=-1, index=np.zeros((2, 2, 3), dtype=np.int64)),
    ),
)
def gather(x, dim, index):
    """Pick values along ``dim`` at ``index``, as ``torch.gather`` (numpy's ``take_along_axis``).

    ``index`` has the input's number of axes and is no longer than it along the others; the
    result has ``index``'s shape. Repeated indices add their gradients.
    """
    return np.asarray(x)[along_index("gather", np.shape(x), dim, index)]


def _pad_to(xp, r, shape):
    """``r`` padded with zeros at the end of each axis up to ``shape``."""
    widths = tuple((0, s - n) for s, n in zip(shape, r.shape))
    return r if not any(w for _, w in widths) else xp.pad(r, widths)


def _check_src(op: str, src_shape: tuple[int, ...], index_shape: tuple[int, ...]) -> None:
    if len(src_shape) != len(index_shape) or any(s < i for s, i in zip(src_shape, index_shape)):
        raise OpError(
            f"{op}: src {src_shape} must have index's number of dimensions and be at least as long "
            f"along each (index {index_shape})"
        )


@primitive(
    "scatter_add_along",
    formula="z = zeros(shape); z[index[i][j]][j] += src[i][j]  (dim = 0)\n"
    "∂L/∂src = the gradient gathered at index (zero where src is not used)",
    vjp=(lambda xp, g, z, src, dim, index, shape: _pad_to(xp, xp.gather(g, dim, index), src.shape),),
    samples=(
        Sample((3, 4), dim=0, index=_G_INDEX, shape=(3, 4)),
        Sample((3, 3), dim=1, index=np.array([[0, 0], [2, 1]]), shape=(2, 4)),
    ),
)
def scatter_add_along(src, dim, index, shape):
    """Zeros of ``shape`` with ``src`` added along ``dim`` at ``index`` (the adjoint of gather).

    The part of ``src`` of ``index``'s shape is used, as ``torch.Tensor.scatter_add``.
    """
    src, index_arr = np.asarray(src), _raw(index)
    _check_src("scatter_add_along", src.shape, index_arr.shape)
    out = np.zeros(shape, dtype=src.dtype)
    np.add.at(
        out,
        along_index("scatter_add_along", tuple(shape), dim, index_arr),
        src[tuple(slice(n) for n in index_arr.shape)],
    )
    return out


def scatter_add(x: Any, dim: int, index: Any, src: Any) -> Node:
    """``x`` with ``src`` added along ``dim`` at ``index``, as ``torch.scatter_add``.

    For ``dim = 0``: ``z[index[i][j]][j] += src[i][j]``; repeated indices add up. Gradients reach
    both ``x`` (unchanged) and ``src`` (gathered back at ``index``).
    """
    along_index("scatter_add", _shape(x), dim, index)  # the errors name the function called
    _check_src("scatter_add", _shape(src), np.shape(_raw(index)))
    return x + scatter_add_along(src, dim, index, _shape(x))


@primitive(
    "one_hot",
    formula="z[..., c] = 1 if indices[...] = c else 0 (int64; no gradient)",
    vjp=(None,),
    differentiable=False,
    samples=(Sample(np.array([0, 2, 1, 2])), Sample(np.array([[1, 0], [3, 3]]), num_classes=5)),
)
def one_hot(indices, num_classes=-1):
    """Class indices as one-hot rows (int64), as ``torch.nn.functional.one_hot``.

    ``num_classes=-1`` takes one more than the largest index. Not differentiable.
    """
    indices = np.asarray(indices)
    if not np.issubdtype(indices.dtype, np.integer):
        raise TypeError(f"one_hot: indices must be integers, got dtype {indices.dtype}")
    if num_classes == -1:
        num_classes = int(indices.max()) + 1 if indices.size else 0
    if indices.size and (indices.min() < 0 or indices.max() >= num_classes):
        raise ValueError(
            f"one_hot: indices must lie in [0, {num_classes}), got values from {indices.min()} to "
            f"{indices.max()}"
        )
    return (indices[..., None] == np.arange(num_classes)).astype(np.int64)


def _axes_or_all(op: str, x, axis):
    return None if axis is None else normalize_axes(axis, np.ndim(x), op)


@primitive(
    "flip",
    formula="z = x reversed along axis\n∂z/∂x: the gradient reversed back",
    vjp=(lambda xp, g, z, x, axis: xp.flip(g, axis),),
    samples=(Sample((3, 4), axis=0), Sample((2, 3, 4), axis=(0, 2)), Sample((2, 3))),
)
def flip(x, axis=None):
    """Reverse the order of elements along ``axis`` (None: every axis); PyTorch's ``dims=`` too."""
    return np.flip(x, _axes_or_all("flip", x, axis))


def _negate(shift):
    return tuple(-int(s) for s in shift) if isinstance(shift, (tuple, list)) else -int(shift)


@primitive(
    "roll",
    formula="z = x shifted cyclically by shift along axis\n∂z/∂x: the gradient rolled back by -shift",
    vjp=(lambda xp, g, z, x, shift, axis: xp.roll(g, _negate(shift), axis),),
    samples=(
        Sample((3, 4), shift=1, axis=1),
        Sample((2, 3, 4), shift=(2, -1), axis=(0, 2)),
        Sample((5,), shift=-2),
    ),
)
def roll(x, shift, axis=None):
    """Shift elements cyclically by ``shift`` along ``axis`` (None: over the flattened input).

    As ``numpy.roll``; PyTorch's ``shifts=``/``dims=`` are accepted too.
    """
    if axis is not None:
        normalize_axes(axis, np.ndim(x), "roll")
    return np.roll(x, shift, axis)


def _triangle(name: str, fn, side: str):
    def forward(x, k=0):
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
            raise TypeError(f"{name}: the diagonal k must be an int, got {k!r}")
        if np.ndim(x) < 2:
            raise ValueError(f"{name}: needs at least 2 dimensions, got shape {np.shape(x)}")
        return fn(x, k)

    forward.__name__ = name
    forward.__doc__ = (
        f"Zero the elements {side} the ``k``-th diagonal of the last two axes (PyTorch's ``diagonal=``)."
    )
    return primitive(
        name,
        formula=f"z = x with the elements {side} diagonal k set to 0\n∂z/∂x = 1 kept, 0 zeroed ({name} of g)",
        vjp=(lambda xp, g, z, x, k: getattr(xp, name)(g, k),),
        samples=(Sample((4, 4)), Sample((2, 3, 5), k=1), Sample((4, 3), k=-1)),
    )(forward)


tril = _triangle("tril", np.tril, "above")
triu = _triangle("triu", np.triu, "below")


def _reps(reps) -> tuple[int, ...]:
    reps = tuple(reps) if isinstance(reps, (tuple, list)) else (reps,)
    if not all(isinstance(r, (int, np.integer)) and r >= 0 for r in reps):
        raise ValueError(f"tile: repetitions must be non-negative integers, got {reps!r}")
    return tuple(int(r) for r in reps)


def _tile_vjp(xp, g, z, x, reps):
    reps = _reps(reps)
    nd = max(len(reps), x.ndim)
    reps = (1,) * (nd - len(reps)) + reps
    shape = (1,) * (nd - x.ndim) + tuple(x.shape)
    blocks = tuple(v for r, d in zip(reps, shape) for v in (r, d))
    return xp.reshape(xp.sum(xp.reshape(g, blocks), tuple(range(0, 2 * nd, 2)), False), x.shape)


@primitive(
    "tile",
    formula="z = x repeated reps[i] times along axis i (as blocks)\n∂z/∂x = Σ of the gradient over copies",
    vjp=(_tile_vjp,),
    samples=(Sample((2, 3), reps=(2, 1)), Sample((3,), reps=(2, 2)), Sample((2, 1, 3), reps=3)),
)
def tile(x, reps):
    """Repeat the whole of ``x`` as blocks, as ``numpy.tile`` and ``torch.Tensor.repeat``.

    ``reps`` longer than x's axes adds leading axes.
    """
    return np.tile(x, _reps(reps))


def _pieces(x: Any, sizes: list[int], axis: int) -> tuple[Node, ...]:
    out, start = [], 0
    for s in sizes:
        out.append(getitem(x, (slice(None),) * axis + (slice(start, start + s),)))
        start += s
    return tuple(out)


@accept_torch_names
def split(x: Any, split_size_or_sections: Any, axis: int = 0) -> tuple[Node, ...]:
    """Cut ``x`` into pieces along ``axis``, as ``torch.split``: each ``x[..., a:b, ...]``.

    An int is the length of each piece (the last may be shorter); a list gives every piece's
    length and must add up to the axis' length. Unlike ``numpy.split``, an int is a length, not
    a count (for a count use :func:`chunk`).
    """
    shape = _shape(x)
    a = _axis("split", axis, len(shape))
    n = shape[a]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ValueError(f"split: the piece length must be positive, got {size}")
        sizes = [min(size, n - i) for i in range(0, n, size)] or [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise ValueError(
                f"split: piece lengths {sizes} must be non-negative and add up to {n}, the length of "
                f"axis {a} (shape {shape})"
            )
    return _pieces(x, sizes, a)


@accept_torch_names
def chunk(x: Any, chunks: int, axis: int = 0) -> tuple[Node, ...]:
    """Cut ``x`` into ``chunks`` pieces of length ``ceil(n / chunks)`` along ``axis``, as ``torch.chunk``.

    The last piece may be shorter, and fewer pieces come back when ``n`` is too short for them all.
    """
    if not isinstance(chunks, (int, np.integer)) or chunks <= 0:
        raise ValueError(f"chunk: chunks must be a positive integer, got {chunks!r}")
    shape = _shape(x)
    a = _axis("chunk", axis, len(shape))
    return split(x, max(math.ceil(shape[a] / int(chunks)), 1), a)
