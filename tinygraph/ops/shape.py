"""Shape primitives: reshape, transpose, broadcasting, indexing, padding, concatenation.

None of them changes a value, only where it sits, so each derivative moves the gradient back:
reshape ↔ reshape, broadcast_to ↔ sum_to, getitem ↔ scatter_add, pad → getitem, concatenate → getitem.
"""

from __future__ import annotations

import numpy as np

from tinygraph import _scratch
from tinygraph.node import Node, as_array
from tinygraph.ops.axes import normalize_axes, sum_to_axes
from tinygraph.registry import Sample, primitive


@primitive(
    "reshape",
    formula="z = x viewed with a new shape\n∂z/∂x: the gradient reshaped back to x's shape",
    vjp=(lambda xp, g, z, x, shape: xp.reshape(g, x.shape),),
    samples=(Sample((3, 4), shape=(2, 6)), Sample((2, 3, 2), shape=(-1,)), Sample((6,), shape=(3, 1, 2))),
)
def reshape(x, shape):
    """Give ``x`` a new shape with the same number of elements (one entry may be -1).

    A view when the memory layout allows it; otherwise a copy (into reusable memory when large:
    the im2col matrix of a convolution is such a copy).
    """
    try:
        return np.reshape(x, shape, copy=False)
    except ValueError:
        pass  # a copy is needed (or the shape does not fit, which reshaping the copy reports)
    x = np.asarray(x)
    out = _scratch.empty(x.shape, x.dtype)
    np.copyto(out, x)
    return out.reshape(shape)


def _inverse_axes(axes, ndim):
    """The permutation that undoes ``axes`` (negative axes counted from the end, as numpy does)."""
    return None if axes is None else tuple(int(i) for i in np.argsort([int(a) % ndim for a in axes]))


@primitive(
    "transpose",
    formula="z = x with axes permuted\n∂z/∂x: the gradient permuted back (inverse permutation)",
    vjp=(lambda xp, g, z, x, axes: xp.transpose(g, _inverse_axes(axes, np.ndim(x))),),
    samples=(Sample((3, 4)), Sample((2, 3, 4), axes=(1, 2, 0)), Sample((2, 3, 4), axes=(-1, 0, -2))),
)
def transpose(x, axes=None):
    """Permute the axes (None: reverse them), as ``numpy.transpose``."""
    try:
        return x.transpose(axes) if type(x) is np.ndarray else np.transpose(x, axes)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"transpose: axes {axes!r} are not a permutation of the {np.ndim(x)} axes of shape {np.shape(x)}"
        ) from exc


@primitive(
    "broadcast_to",
    formula="z = x repeated along broadcast axes\n∂z/∂x = Σ of the gradient over the repeated axes",
    vjp=(lambda xp, g, z, x, shape: xp.sum_to(g, x.shape),),
    samples=(Sample((3,), shape=(2, 3)), Sample((4, 1), shape=(2, 4, 5))),
)
def broadcast_to(x, shape):
    """Broadcast ``x`` to ``shape`` (numpy rules); a read-only view."""
    return np.broadcast_to(x, shape)


@primitive(
    "sum_to",
    formula="z = x summed over the axes that broadcasting to x's shape added\n∂z/∂x = 1 (broadcast back)",
    vjp=(lambda xp, g, z, x, shape: xp.broadcast_to(g, x.shape),),
    samples=(Sample((2, 3), shape=(3,)), Sample((2, 4, 5), shape=(4, 1))),
)
def sum_to(x, shape):
    """Sum ``x`` down to ``shape``, the inverse of broadcasting (the engine's unbroadcast)."""
    shape = tuple(shape)
    axes, ok = sum_to_axes(np.shape(x), shape)
    if not ok:
        raise ValueError(f"sum_to: shape {np.shape(x)} cannot be summed down to {shape}")
    if not axes:
        return x
    return np.sum(x, axis=axes, keepdims=True).reshape(shape)


def _is_basic_index(index) -> bool:
    """True when ``index`` selects without repeats (ints, slices, None, Ellipsis, bool masks)."""
    parts = index if isinstance(index, tuple) else (index,)
    for p in parts:
        if p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)):
            continue
        if isinstance(p, np.ndarray) and p.dtype == bool:
            continue
        return False
    return True


def normalize_index(index):
    """Turn an index into one numpy accepts unambiguously: Nodes and lists become arrays."""
    if isinstance(index, tuple):
        return tuple(normalize_index(i) for i in index)
    if isinstance(index, Node):
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    return index


@primitive(
    "getitem",
    formula="z = x[index]\n∂z/∂x: the gradient scattered back into x's positions (repeats add up)",
    vjp=(lambda xp, g, z, x, index: xp.scatter_add(g, index, x.shape),),
    samples=(
        Sample((4, 5), index=(slice(1, 3), 2)),
        Sample((4, 5), index=np.array([0, 2, 2, 3])),
        Sample((3, 4), index=(np.array([0, 0, 2]), np.array([1, 1, 3]))),
        Sample((2, 3), index=np.array([[True, False, True], [False, True, True]])),
        Sample((3, 4), index=(Ellipsis, None, slice(None, None, -2))),
    ),
)
def _getitem(x, index):
    """``x[index]`` with numpy's basic and integer-array indexing."""
    return np.asarray(x)[index][()]


def getitem(x, index):
    """``x[index]`` with numpy's basic and advanced indexing (repeated indices add gradients)."""
    return _getitem(x, normalize_index(index))


@primitive(
    "scatter_add",
    formula="z = zeros(shape); z[index] += x\n∂z/∂x = the gradient gathered at index",
    vjp=(lambda xp, g, z, x, index, shape: xp.getitem(g, index),),
    samples=(
        Sample((4,), index=np.array([0, 2, 2, 1]), shape=(3,)),
        Sample((3,), index=1, shape=(3, 3)),
        Sample((2, 3), index=np.array([2, 0]), shape=(3, 3)),
    ),
)
def scatter_add(x, index, shape):
    """A zeros array of ``shape`` with ``x`` added at ``index`` (repeated positions add up)."""
    out = np.zeros(shape, dtype=np.result_type(x))
    if _is_basic_index(index):
        out[index] = x
    else:
        np.add.at(out, index, x)
    return out


def pad_pairs(pad_width, ndim: int) -> tuple[tuple[int, int], ...]:
    """numpy's ``pad_width`` forms (int, (before, after), or one pair per axis) as one pair per axis."""
    pairs = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (ndim, 2))
    if (pairs < 0).any():
        raise ValueError(f"pad: pad widths must be non-negative, got {pad_width!r}")
    return tuple((int(b), int(a)) for b, a in pairs)


def _unpad_index(pad_width, shape):
    return tuple(slice(b, b + n) for (b, _), n in zip(pad_pairs(pad_width, len(shape)), shape))


@primitive(
    "pad",
    formula="z = x surrounded by zeros\n∂z/∂x: the gradient with the padding cut away",
    vjp=(lambda xp, g, z, x, pad_width: xp.getitem(g, _unpad_index(pad_width, x.shape)),),
    samples=(Sample((3, 4), pad_width=1), Sample((2, 3, 4), pad_width=((0, 0), (1, 2), (2, 0)))),
)
def pad(x, pad_width):
    """Pad with zeros, numpy's ``pad_width`` convention (int, (before, after), or a pair per axis)."""
    try:
        pairs = pad_pairs(pad_width, np.ndim(x))
    except ValueError as exc:
        if "pad:" in str(exc):
            raise
        raise ValueError(
            f"pad: pad_width {pad_width!r} does not fit an input of shape {np.shape(x)}"
        ) from exc
    x = np.asarray(x)
    out = _scratch.zeros(tuple(n + b + a for n, (b, a) in zip(x.shape, pairs)), x.dtype)
    out[tuple(slice(b, b + n) for n, (b, _) in zip(x.shape, pairs))] = x
    return out


def _concat_slice(g, xs, axis, index):
    axis = normalize_axes(axis, np.ndim(as_array(xs[0])), "concatenate")[0]
    start = 0
    for x in xs[:index]:
        start += x.shape[axis]
    return (slice(None),) * axis + (slice(start, start + xs[index].shape[axis]),)


@primitive(
    "concatenate",
    formula="z = [x₀, x₁, ...] joined along axis\n∂z/∂xᵢ: the slice of the gradient where xᵢ sits",
    variadic_vjp=lambda xp, g, z, *xs, axis, index: xp.getitem(g, _concat_slice(g, xs, axis, index)),
    samples=(Sample((2, 3), (4, 3)), Sample((2, 3), (2, 1), (2, 2), axis=1)),
)
def concatenate(*xs, axis=0):
    """Join nodes along an existing axis, as ``numpy.concatenate``."""
    return np.concatenate(xs, axis=axis)


@primitive(
    "stack",
    formula="z = [x₀, x₁, ...] stacked along a new axis\n∂z/∂xᵢ = the gradient's i-th slice along axis",
    variadic_vjp=lambda xp, g, z, *xs, axis, index: xp.getitem(
        g, (slice(None),) * normalize_axes(axis, z.ndim, "stack")[0] + (index,)
    ),
    samples=(Sample((2, 3), (2, 3)), Sample((3,), (3,), (3,), axis=-1)),
)
def stack(*xs, axis=0):
    """Join same-shaped nodes along a new axis, as ``numpy.stack``."""
    return np.stack(xs, axis=axis)


def flatten(x, start_axis: int = 0, end_axis: int = -1):
    """Merge axes ``start_axis..end_axis`` into one (all of them by default), through ``reshape``."""
    shape = np.shape(as_array(x))
    if len(shape) == 0:
        return reshape(x, (1,))
    start, end = (
        normalize_axes((start_axis,), len(shape), "flatten")[0],
        normalize_axes((end_axis,), len(shape), "flatten")[0],
    )
    if start > end:
        raise ValueError(
            f"flatten: start_axis {start_axis} comes after end_axis {end_axis} for shape {shape}"
        )
    merged = int(np.prod(shape[start : end + 1]))
    return reshape(x, shape[:start] + (merged,) + shape[end + 1 :])


def expand_dims(x, axis: int):
    """Insert a length-1 axis at ``axis``, through ``reshape``."""
    shape = np.shape(as_array(x))
    axis = normalize_axes((axis,), len(shape) + 1, "expand_dims")[0]
    return reshape(x, shape[:axis] + (1,) + shape[axis:])


def squeeze(x, axis=None):
    """Remove length-1 axes (all of them, or those in ``axis``), through ``reshape``."""
    shape = np.shape(as_array(x))
    axes = (
        normalize_axes(axis, len(shape), "squeeze")
        if axis is not None
        else tuple(i for i, d in enumerate(shape) if d == 1)
    )
    if not shape:  # a 0-d input has nothing to remove (axis 0 or -1 allowed, as PyTorch)
        return reshape(x, ())
    bad = [a for a in axes if shape[a] != 1]
    if bad:
        raise ValueError(f"squeeze: axis {bad[0]} has length {shape[bad[0]]}, not 1 (shape {shape})")
    return reshape(x, tuple(d for i, d in enumerate(shape) if i not in axes))
