"""Sliding windows: the primitive under convolution and pooling, and its adjoint, ``fold``.

``sliding_window`` views every window of the last ``k`` axes at once (no copy: a strided view,
numpy's ``sliding_window_view`` with stride and dilation). ``fold`` is its adjoint (PyTorch's
``fold``, "col2im"): it adds every window back to where it was taken from. Each is the other's
local derivative, so second derivatives of convolution and pooling come for free::

    sliding_window:  z[..., o, k] = x[..., o·stride + k·dilation]      ∂L/∂x = fold(∂L/∂z)
    fold:            z[..., i]    = Σ_{o·stride + k·dilation = i} x[..., o, k]   ∂L/∂x = sliding_window(∂L/∂z)

``fold`` loops in Python over the kernel offsets only (9 for a 3×3 kernel), each step one strided
array addition over all output positions at once.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from tinygraph import _scratch
from tinygraph.registry import Sample, primitive


def window_geometry(
    op: str,
    spatial: tuple[int, ...],
    window: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
) -> tuple[int, ...]:
    """Number of window positions along each axis, ``(size - dilation·(window-1) - 1) // stride + 1``.

    Raises a ValueError naming ``op`` when a (dilated) window does not fit or a size is not positive.
    """
    if not len(window) == len(stride) == len(dilation) == len(spatial):
        raise ValueError(
            f"{op}: window {window}, stride {stride} and dilation {dilation} must each have one "
            f"entry per windowed axis ({len(spatial)})"
        )
    for name, values in (("window", window), ("stride", stride), ("dilation", dilation)):
        if any(int(v) < 1 for v in values):
            raise ValueError(f"{op}: {name} entries must be positive integers, got {values}")
    out = []
    for size, k, s, d in zip(spatial, window, stride, dilation):
        span = d * (k - 1) + 1
        if span > size:
            raise ValueError(
                f"{op}: the window {tuple(window)} (dilation {tuple(dilation)}, spanning "
                f"{tuple(d_ * (k_ - 1) + 1 for k_, d_ in zip(window, dilation))}) is larger than "
                f"the input's windowed axes {tuple(spatial)}"
            )
        out.append((size - span) // s + 1)
    return tuple(out)


def conv_padding(
    padding: str | tuple[int, ...], kernel: tuple[int, ...], dilation: tuple[int, ...]
) -> tuple[tuple[int, int], ...]:
    """A convolution's zero padding as (before, after) pairs, one per spatial axis.

    ``padding`` is ``"valid"`` (none), ``"same"`` (a total of ``dilation·(kernel - 1)`` per axis,
    the extra one at the end when it is odd, as PyTorch; for stride 1 the output keeps the input's
    size) or one int per axis (that many zeros on both sides). Arguments are already checked.
    """
    if padding == "valid":
        return ((0, 0),) * len(kernel)
    if padding == "same":
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    return tuple((int(p), int(p)) for p in padding)


@primitive(
    "sliding_window",
    formula=(
        "z[..., o, k] = x[..., o·stride + k·dilation]   (every window of the last len(window) axes)\n"
        "∂L/∂x = fold(∂L/∂z): each window's gradient added back where the window was taken"
    ),
    vjp=(lambda xp, g, z, x, window, stride, dilation: xp.fold(g, x.shape, window, stride, dilation),),
    samples=(
        Sample((2, 4, 5), window=(2, 3), stride=(1, 1), dilation=(1, 1)),
        Sample((2, 7, 6), window=(2, 2), stride=(2, 3), dilation=(2, 1)),
        Sample((2, 3, 7), window=(3,), stride=(2,), dilation=(2,)),
    ),
)
def sliding_window(x, window, stride, dilation):
    """All windows of the last ``len(window)`` axes of ``x``, as a read-only strided view.

    Parameters
    ----------
    x : array of shape ``lead + spatial``
    window, stride, dilation : tuples of ints, one entry per windowed axis

    Returns
    -------
    array of shape ``lead + out + window``, where ``out[i] = (spatial[i] - dilation[i]·(window[i]-1) - 1)
    // stride[i] + 1``; ``z[..., o, k] = x[..., o·stride + k·dilation]``.
    """
    x = np.asarray(x)
    k = len(window)
    if x.ndim < k:
        raise ValueError(
            f"sliding_window: a {k}-D window needs an input with at least {k} axes, got {x.shape}"
        )
    out = window_geometry("sliding_window", x.shape[x.ndim - k :], window, stride, dilation)
    lead_strides = x.strides[: x.ndim - k]
    spatial_strides = x.strides[x.ndim - k :]
    strides = (
        lead_strides
        + tuple(st * s for st, s in zip(spatial_strides, stride))
        + tuple(st * d for st, d in zip(spatial_strides, dilation))
    )
    return as_strided(x, x.shape[: x.ndim - k] + out + tuple(window), strides, writeable=False)


def im2col(xp, windows):
    """The im2col matrix of convolution windows: ``(N, C, *O, *K)`` → ``(C·∏K, N·∏O)``.

    ``columns[(c, k), (n, o)] = windows[n, c, o, k]``: one column per output position, so that
    ``W (C_out, C·∏K) @ columns`` is the convolution. ``xp`` is the namespace the caller computes
    with (recorded ops for ``conv2d``'s definition and its recorded backward); the reshape of the
    transposed view is the copy.
    """
    nd = (windows.ndim - 2) // 2
    n, c = windows.shape[:2]
    order = (1, *range(2 + nd, 2 + 2 * nd), 0, *range(2, 2 + nd))
    rows = c * math.prod(windows.shape[2 + nd :])
    return xp.reshape(xp.transpose(windows, order), (rows, n * math.prod(windows.shape[2 : 2 + nd])))


class WindowPlan(NamedTuple):
    """How the windows of :func:`sliding_window` lie on their input (see :func:`window_plan`)."""

    out: tuple[int, ...]  # window positions per windowed axis
    offsets: list[tuple[tuple[int, ...], tuple[slice, ...]]]  # each kernel offset, the slices it reads
    disjoint: bool  # no two windows overlap (stride >= span)
    tiling: bool  # ... and they cover the input exactly (stride = window, no dilation, nothing left)


def window_plan(
    op: str,
    spatial: tuple[int, ...],
    window: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
) -> WindowPlan:
    """The windows' positions, every kernel offset ``k`` (row-major) with the slices of the
    windowed axes it reads, and whether the windows are disjoint or tile the input.

    ``x[..., slices]`` is ``z[..., :, k]`` of :func:`sliding_window`: element ``o`` of it sits at
    ``o·stride + k·dilation``. Disjoint windows take a gradient written window by window with no
    additions; tiling ones need no zeros first either. A window that does not fit raises a
    ValueError naming ``op``.
    """
    out = window_geometry(op, spatial, window, stride, dilation)
    offsets = [
        (k, tuple(slice(o * d, o * d + s * (n - 1) + 1, s) for o, d, s, n in zip(k, dilation, stride, out)))
        for k in np.ndindex(*window)
    ]
    disjoint = all(s >= d * (w - 1) + 1 for w, s, d in zip(window, stride, dilation))
    tiling = disjoint and all(s == w and d == 1 and n * w == size for w, s, d, n, size in zip(
        window, stride, dilation, out, spatial
    ))  # fmt: skip
    return WindowPlan(out, offsets, disjoint, tiling)


def _new_like_layout(x: np.ndarray, shape: tuple[int, ...], n_lead: int, zeroed: bool) -> np.ndarray:
    """A new array of ``shape`` (zeros, or uninitialised) whose leading axes sit in memory in the
    same order as ``x``'s.

    The gradient reaching ``fold`` is often a transposed view (im2col keeps channels outermost);
    adding its slices into an array laid out the same way is about 20% faster.
    """
    new = _scratch.zeros if zeroed else _scratch.empty
    order = sorted(range(n_lead), key=lambda a: -x.strides[a])
    if order == list(range(n_lead)):
        return new(shape, x.dtype)
    permuted = new(tuple(shape[a] for a in order) + shape[n_lead:], x.dtype)
    return permuted.transpose(tuple(int(i) for i in np.argsort(order)) + tuple(range(n_lead, len(shape))))


@primitive(
    "fold",
    formula=(
        "z[..., i] = Σ over (o, k) with o·stride + k·dilation = i of x[..., o, k]   (col2im)\n"
        "∂L/∂x = sliding_window(∂L/∂z)"
    ),
    vjp=(
        lambda xp, g, z, x, shape, window, stride, dilation: xp.sliding_window(g, window, stride, dilation),
    ),
    samples=(
        Sample((2, 3, 3, 2, 3), shape=(2, 4, 5), window=(2, 3), stride=(1, 1), dilation=(1, 1)),
        Sample((2, 3, 2, 2, 2), shape=(2, 7, 6), window=(2, 2), stride=(2, 3), dilation=(2, 1)),
        Sample((2, 2, 3, 2, 2), shape=(2, 4, 6), window=(2, 2), stride=(2, 2), dilation=(1, 1)),
        Sample((2, 2, 2, 2, 1), shape=(2, 5, 6), window=(2, 1), stride=(3, 4), dilation=(1, 1)),
    ),
)
def fold(x, shape, window, stride, dilation):
    """Add every window of ``x`` (shape ``lead + out + window``) back into an array of ``shape``.

    The adjoint of :func:`sliding_window`: overlapping windows add up, positions no window covers
    stay zero. Loops over the kernel offsets, never over output positions.
    """
    x = np.asarray(x)
    shape = tuple(int(d) for d in shape)
    k = len(window)
    spatial = shape[len(shape) - k :]
    plan = window_plan("fold", spatial, window, stride, dilation)
    expected = shape[: len(shape) - k] + plan.out + tuple(window)
    if x.shape != expected:
        raise ValueError(
            f"fold: windows of shape {x.shape} do not come from an input of shape {shape} "
            f"(window {tuple(window)}, stride {tuple(stride)}, dilation {tuple(dilation)} "
            f"give windows of shape {expected})"
        )
    result = _new_like_layout(x, shape, len(shape) - k, zeroed=not plan.tiling)
    lead = (slice(None),) * (len(shape) - k)
    whole = (slice(None),) * k
    for offsets, target in plan.offsets:
        target = lead + target
        if plan.disjoint:
            result[target] = x[lead + whole + offsets]
        else:
            result[target] += x[lead + whole + offsets]
    return result
