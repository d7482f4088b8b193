"""How an array travels to the explorer page: in full when small, as statistics and a heat map beyond.

Every number the page shows is encoded here, in Python; the page's script formats nothing by
arithmetic. An encoded array is a JSON object::

    {"shape": [2, 3], "dtype": "float32", "text": "<short label>", "values": [...]}   # size <= 64
    {"shape": [...], "dtype": ..., "text": ..., "stats": {...}, "heat": {...}}          # larger

A 0-d floating array whose dtype is the one its context gives (the node's own dtype for its
value, the dtype of the node it reaches for a gradient) travels as a bare JSON number (or
``"nan"``, ``"inf"``, ``"-inf"``): a 100,000-op chain of scalars then costs a few bytes per
number, not an object. The page expands it to ``{"shape": [], "dtype": ..., "text": ..., "values": [v]}``
with ``text`` the number written as ``f"{v:.4g}"``; :func:`expand` does the same in Python.

``values`` is the array flattened in C order (non-finite entries as the strings ``"nan"``,
``"inf"``, ``"-inf"``); ``stats`` holds ``min``, ``max``, ``mean``, ``std`` of the finite entries and
``nonfinite`` (their count); ``heat`` is a downsampled picture: ``tiles`` images of ``h`` × ``w``
pixels, ``data`` the pixels as integers in [-999, 999] (value / ``scale`` · 999), tile after tile.
"""

from __future__ import annotations

import math
import struct
from typing import Any

import numpy as np

from tinygraph.view.labels import short

#: Arrays with at most this many elements are sent in full.
FULL_VALUES = 64
#: At most this many tiles (filters, channels) in a heat map, each at most TILE × TILE pixels.
MAX_TILES = 64
TILE = 32
#: A single picture (a matrix) may be larger.
SINGLE = 64


_PACK32 = struct.Struct("<f").pack


def shortest32(v: float) -> float:
    """The float64 with the fewest significant digits that rounds to the same float32 as ``v``.

    Its ``repr`` (what ``json.dumps`` writes) is then the shortest text that reads back as the
    float32, as numpy prints it, without numpy's slow array printing.
    """
    want = _PACK32(v)
    # A normal float32 is 6 to 9 digits (a shorter one comes out of "g" with its zeros dropped);
    # a subnormal one may be fewer.
    for digits in range(6 if abs(v) >= 1.2e-38 else 1, 9):
        shorter = float(f"{v:.{digits}g}")
        if _PACK32(shorter) == want:
            return shorter
    return float(f"{v:.9g}")


def _number(v: float, float32: bool) -> float | str:
    if v != v:
        return "nan"
    if v in (math.inf, -math.inf):
        return "inf" if v > 0 else "-inf"
    return shortest32(v) if float32 else v


def flat_values(arr: np.ndarray) -> list[float | str]:
    """The entries of ``arr`` as JSON numbers (float32 in its shortest round-tripping form)."""
    float32 = arr.dtype == np.float32
    out = arr.astype(np.float64).ravel().tolist() if arr.dtype.kind in "fiub" else arr.ravel().tolist()
    if float32 or not all(math.isfinite(v) for v in out):
        out = [_number(v, float32) for v in out]
    return out


def stats(arr: np.ndarray) -> dict[str, Any]:
    """min, max, mean, std of the finite entries, and how many entries are not finite."""
    a = arr.astype(np.float64, copy=False)
    finite = np.isfinite(a)
    bad = int(a.size - np.count_nonzero(finite))
    if bad:
        a = a[finite]
    if a.size == 0:
        return {"min": None, "max": None, "mean": None, "std": None, "nonfinite": bad}
    return {
        "min": float(a.min()),
        "max": float(a.max()),
        "mean": float(a.mean()),
        "std": float(a.std()),
        "nonfinite": bad,
    }


def _sample(tile: np.ndarray, limit: int) -> np.ndarray:
    """Every k-th row and column, so the tile is at most ``limit`` × ``limit``."""
    h, w = tile.shape[-2:]
    rows = np.linspace(0, h - 1, min(h, limit)).round().astype(int)
    cols = np.linspace(0, w - 1, min(w, limit)).round().astype(int)
    return tile[..., rows[:, None], cols[None, :]]


def heat(arr: np.ndarray) -> dict[str, Any]:
    """A small picture of ``arr``: one image per leading index (filters, channels) of its last two axes.

    A 4-D array (filters ``(O, C, kh, kw)``, feature maps ``(N, C, H, W)``) shows the ``C`` images of
    its first entry, or, with one channel, one image per filter; a matrix is one image; a vector one
    row.
    """
    a = np.asarray(arr, dtype=np.float64)
    if a.ndim == 0:
        a = a.reshape(1, 1, 1)
    elif a.ndim == 1:
        a = a.reshape(1, 1, -1)
    elif a.ndim == 2:
        a = a[None]
    elif a.ndim == 4 and a.shape[1] > 1:
        a = a[0]
    else:
        a = a.reshape(-1, *a.shape[-2:])
    a = a[:MAX_TILES]
    a = _sample(a, SINGLE if a.shape[0] == 1 else TILE)
    a = np.where(np.isfinite(a), a, 0.0)
    scale = float(np.abs(a).max()) if a.size else 0.0
    data = np.zeros(a.shape, dtype=np.int64) if scale == 0 else np.rint(a / scale * 999).astype(np.int64)
    return {"tiles": int(a.shape[0]), "h": int(a.shape[1]), "w": int(a.shape[2]), "scale": scale,
            "data": data.ravel().tolist()}  # fmt: skip


_DTYPE_NAMES: dict[Any, str] = {}


def dtype_name(dtype: np.dtype) -> str:
    """``str(dtype)``, remembered (numpy works it out afresh each time, slowly)."""
    key = (dtype.char, dtype.itemsize)
    name = _DTYPE_NAMES.get(key)
    if name is None:
        name = _DTYPE_NAMES[key] = str(dtype)
    return name


def encode(value: Any, context: str | None = None) -> dict[str, Any] | float | str:
    """The JSON form of one array (see the module docstring).

    Parameters
    ----------
    value : the array.
    context : the dtype the page assumes here (the node's); a 0-d float32 or float64 array of
        that dtype is written as a bare number.
    """
    arr = np.asarray(value)
    dtype = dtype_name(arr.dtype)
    if arr.ndim == 0 and (dtype == "float32" or dtype == "float64"):  # long scalar chains: fast
        v = arr.item()
        if dtype == context:
            return _number(v, dtype == "float32")
        if math.isfinite(v):
            return {"shape": [], "dtype": dtype, "text": f"{v:.4g}",  # labels.number, inlined
                    "values": [_number(v, dtype == "float32")]}  # fmt: skip
    out: dict[str, Any] = {"shape": list(arr.shape), "dtype": dtype, "text": short(arr, 4)}
    if arr.size <= FULL_VALUES:
        out["values"] = flat_values(arr)
    else:
        out["stats"] = stats(arr)
        out["heat"] = heat(arr)
    return out


def expand(enc: dict[str, Any] | float | str, dtype: str) -> dict[str, Any]:
    """The object form of an encoded array: a bare number (a 0-d array of ``dtype``) as the page reads it."""
    if isinstance(enc, dict):
        return enc
    v = float(enc)
    text = f"{v:.4g}" if math.isfinite(v) else str(enc)
    return {"shape": [], "dtype": dtype, "text": text, "values": [enc]}
