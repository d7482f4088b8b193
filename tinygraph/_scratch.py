"""Reusable memory for large temporary arrays (the idea behind PyTorch's caching allocator).

Freeing a large array hands its pages back to the operating system, and allocating the next one
faults them back in, 4 KiB at a time: about 2,300 page faults (≈ 5 ms) in every conv2d training
step on a small machine. :func:`empty` hands a pooled array out again once nothing but the pool
refers to it. Everything made from an array — a view, a reshape, a node holding it, a gradient
in flight — keeps a reference to it (numpy views refer to their base), so the reference count
says exactly when no one can observe the reuse.

Only arrays of at least ``MIN_BYTES`` are pooled; at most ``MAX_PER_KEY`` per shape and dtype and
``MAX_BYTES`` in all are kept. :func:`clear` releases them.

Thread-safe: one lock makes "find an idle array and hand it out" a single step, so two threads can
never be handed the same idle array (once handed out, the caller's reference makes it look busy to
everyone else). The lock is taken only for pooled (large) arrays.
"""

from __future__ import annotations

import math
import sys
import threading

import numpy as np

MIN_BYTES = 1 << 20
MAX_PER_KEY = 4
MAX_BYTES = 1 << 29

_arrays: dict[tuple[tuple[int, ...], np.dtype], list[np.ndarray]] = {}
_kept_bytes = 0
_lock = threading.Lock()


def _idle(arrays: list[np.ndarray]) -> np.ndarray | None:
    """The first array of ``arrays`` that nothing outside the pool refers to, or None."""
    for array in arrays:
        if sys.getrefcount(array) <= _IDLE_REFCOUNT:
            return array
    return None


def _calibrate() -> int:
    """The reference count :func:`_idle` sees for an array that only the pool holds.

    Found by running :func:`_idle` itself, not assumed, so an interpreter that counts loop
    variables differently cannot make an array in use look idle: if one more holder does not
    make the array look busy, reuse is turned off (-1).
    """
    global _IDLE_REFCOUNT
    probe = [np.empty(1)]
    idle = -1
    for candidate in range(1, 16):
        _IDLE_REFCOUNT = candidate
        if _idle(probe) is not None:
            idle = candidate
            break
    held = probe[0]
    _IDLE_REFCOUNT = idle
    if idle < 0 or _idle(probe) is not None:
        return -1
    del held
    return idle


_IDLE_REFCOUNT = _calibrate()


def only_held_by_caller(array: np.ndarray) -> bool:
    """True when only one variable of the caller can reach ``array``'s memory.

    That is: nothing else refers to ``array``, and it owns its memory or is a C-contiguous view
    (a reshape, a transpose of a transpose) of all of an array that nothing but this view refers to. No
    other view, node, container or variable can then observe what the caller does with it (keep
    it, hand it on, write into it). The reference counts to expect are found by calibration, as
    for the pool; if they cannot be found, this is always False.
    """
    if sys.getrefcount(array) > _SOLE_REFCOUNT:
        return False
    base = array.base
    if base is None:
        return True
    return (
        type(base) is np.ndarray
        and base.base is None
        and array.flags.c_contiguous
        and array.nbytes == base.nbytes  # all of it: keeping a slice would keep the rest alive
        and sys.getrefcount(base) <= _BASE_REFCOUNT
    )


def _calibrate_sole() -> tuple[int, int]:
    """The counts :func:`only_held_by_caller` sees for an array held by one local variable, and for
    the base of such an array that is a view; (-1, -1) if they cannot be found."""
    global _SOLE_REFCOUNT, _BASE_REFCOUNT
    _BASE_REFCOUNT = -1
    for sole in range(1, 16):
        _SOLE_REFCOUNT = sole
        probe = np.empty(1)
        if only_held_by_caller(probe):
            break
    else:
        return -1, -1
    held = probe  # a second holder must be seen
    if only_held_by_caller(probe):
        return -1, -1
    del held, probe
    for base_count in range(1, 16):
        _BASE_REFCOUNT = base_count
        view = np.empty(4).reshape(2, 2)
        if only_held_by_caller(view):
            break
    else:
        return sole, -1
    base = view.base  # a second holder of the base must be seen
    if only_held_by_caller(view):
        return sole, -1
    del base
    return sole, base_count


_SOLE_REFCOUNT, _BASE_REFCOUNT = _calibrate_sole()


def empty(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """An uninitialised C-contiguous array, reused from the pool when a large idle one fits."""
    dtype = np.dtype(dtype)
    shape = tuple(int(d) for d in shape)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < MIN_BYTES:
        return np.empty(shape, dtype)
    global _kept_bytes
    key = (shape, dtype)
    with _lock:
        arrays = _arrays.setdefault(key, [])
        array = _idle(arrays)
        if array is not None:
            if not array.flags.writeable:  # made read-only while a leaf held it (tinygraph._inplace)
                array.flags.writeable = True
            return array
        array = np.empty(shape, dtype)
        if len(arrays) < MAX_PER_KEY and _kept_bytes + nbytes <= MAX_BYTES:
            arrays.append(array)
            _kept_bytes += nbytes
        return array


def zeros(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A C-contiguous array of zeros, reusing pooled memory when a large idle array fits."""
    array = empty(shape, dtype)
    array.fill(0)
    return array


def clear() -> None:
    """Release every pooled array (arrays still in use stay valid: they are only forgotten)."""
    global _kept_bytes
    with _lock:
        _arrays.clear()
        _kept_bytes = 0
