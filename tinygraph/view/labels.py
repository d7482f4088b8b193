"""Text for rendered graphs: escaping for graphviz HTML-like labels, and short value summaries.

Everything user-controlled (names, op attributes, values) reaches DOT only through :func:`escape`,
so no name can close a label, start a tag, or trigger one of dot's backslash escapes (``\\N`` is
replaced by the node's id, ``\\\\`` by one backslash, even inside HTML-like labels).
"""

from __future__ import annotations

import html
import re
from typing import Any

import numpy as np

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def escape(text: Any) -> str:
    """Make ``text`` safe inside a graphviz HTML-like label; newlines become line breaks.

    Parameters
    ----------
    text : any
        Converted with ``str``.

    Returns
    -------
    str
        Text with ``& < > " '`` as entities, each backslash doubled (dot turns ``\\\\`` back into
        one), control characters shown as ``\\xNN`` and newlines as ``<BR/>``.
    """
    s = str(text).replace("\r\n", "\n").replace("\t", " ")
    s = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", s)
    s = html.escape(s, quote=True).replace("\\", "\\\\")
    return s.replace("\n", '<BR ALIGN="LEFT"/>')


#: Longest name drawn in a label; longer ones are shortened (the full name goes in the tooltip).
MAX_NAME = 40


def number(x: Any) -> str:
    """A number in 4 significant digits (``0.1235``, ``-3``, ``1.2e+05``), booleans as True/False.

    Zero is always ``0``, never ``-0``.
    """
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (complex, np.complexfloating)):
        z = complex(x)
        return f"{complex(z.real + 0.0, z.imag + 0.0):.4g}"
    text = f"{float(x) + 0.0:.4g}"  # + 0.0 turns -0.0 into 0.0
    return "0" if text == "-0" else text


def noise_floor(value: np.ndarray) -> float:
    """The size below which an entry (or the mean) of ``value`` is rounding noise: ``16 ε · max|value|``.

    Values computed from terms of size ``max|value|`` carry rounding errors of a few ``ε`` times
    that size (``ε`` the dtype's machine epsilon): an entry, or a mean, below this bound is zero up
    to rounding (a softmax gradient's row sum, say) and is shown as 0. Integers have none.
    """
    arr = np.asarray(value)
    if not np.issubdtype(arr.dtype, np.inexact) or arr.size == 0:
        return 0.0
    finite = np.abs(arr[np.isfinite(arr)])
    if finite.size == 0:
        return 0.0
    eps = float(np.finfo(arr.dtype).eps)
    return eps * 16.0 * float(finite.max())


def denoise(value: np.ndarray, floor: float | None = None) -> np.ndarray:
    """``value`` with the entries below its :func:`noise_floor` (or ``floor``) set to exactly 0."""
    arr = np.asarray(value)
    limit = noise_floor(arr) if floor is None else floor
    if limit == 0.0 or np.iscomplexobj(arr):
        return arr
    return np.where(np.abs(arr) < limit, np.zeros_like(arr), arr)


def short_name(name: str, limit: int = MAX_NAME) -> str:
    """``name`` cut to ``limit`` characters with an ellipsis in the middle (start and end both show)."""
    if len(name) <= limit:
        return name
    keep = limit - 1
    return name[: keep - keep // 3] + "…" + name[len(name) - keep // 3 :]


def shape_text(shape: tuple[int, ...]) -> str:
    """``(2, 3)``, or ``scalar`` for a 0-d shape."""
    return "scalar" if shape == () else str(tuple(int(d) for d in shape))


def full_values(value: np.ndarray) -> str:
    """All the values of a small array, one row per line (``[[1, 2], [3, 4]]``).

    Axes of length 1 are dropped (the shape is shown beside the values), so a ``(16, 1, 1)``
    array is written as 16 values on a few lines rather than as a column of 16 lines; rounding
    noise (see :func:`noise_floor`) is written as 0.
    """
    value = denoise(value)
    if value.ndim > 1 and 1 in value.shape:
        value = value.reshape([d for d in value.shape if d != 1] or [1])
    if value.size == 1 and value.ndim <= 1:
        return number(value.reshape(()).item())
    text = np.array2string(
        value,
        separator=", ",
        threshold=10**6,
        max_line_width=64,
        formatter={"float_kind": number, "complex_kind": number},
    )
    # numpy separates blocks of 3-d and higher arrays with blank lines; in a box they only add height.
    return "\n".join(line for line in text.split("\n") if line.strip())


def summary(value: np.ndarray) -> str:
    """A one-line description of a large array's values: range and mean, or counts for booleans."""
    if value.size == 0:
        return "empty"
    if value.dtype == np.bool_:
        return f"{int(np.count_nonzero(value))} of {value.size} true"
    if not np.issubdtype(value.dtype, np.number):
        return f"{value.size} values"
    if np.issubdtype(value.dtype, np.complexfloating):
        return f"mean {number(value.mean())}"
    finite = np.isfinite(value) if np.issubdtype(value.dtype, np.inexact) else None
    note = ""
    if finite is not None and not finite.all():
        bad = value.size - int(np.count_nonzero(finite))
        kinds = ("nan " if np.isnan(value).any() else "") + ("inf" if np.isinf(value).any() else "")
        note = f" ({bad} {kinds.strip().replace(' ', '/')}!)"
        value = value[finite]
        if value.size == 0:
            return f"no finite values{note}"
    lo, hi, mean = value.min(), value.max(), value.mean(dtype=np.float64)
    if np.issubdtype(value.dtype, np.inexact):
        floor = noise_floor(value)
        mean = 0.0 if abs(mean) < floor else mean
    return f"[{number(lo)}, {number(hi)}] mean {number(mean)}{note}"


def describe(value: Any, max_values: int) -> tuple[str, str]:
    """Two lines for a value: ``shape dtype`` and either the values (when tiny) or a summary.

    Parameters
    ----------
    value : array_like
        The node's value (or a gradient).
    max_values : int
        Arrays with at most this many elements are shown in full.
    """
    arr = np.asarray(value)
    head = f"{shape_text(arr.shape)} {arr.dtype}"
    return head, (full_values(arr) if arr.size <= max_values else summary(arr))


def short(value: Any, max_values: int) -> str:
    """A compact one- or few-line text for an edge label: the values when tiny, else shape + summary."""
    arr = np.asarray(value)
    if arr.size <= max_values:
        return full_values(arr)
    return f"{shape_text(arr.shape)} {summary(arr)}"


def attr_text(attrs: dict[str, Any] | None, width: int = 48, limit: int = 400) -> str:
    """An op's keyword attributes as ``axis=1, keepdims=True`` (None and False omitted).

    Each attribute is written in full (an attribute longer than ``limit`` characters, such as a
    large array, is cut with ``…``); attributes are joined with ``, `` and the text is broken
    into lines between attributes so that no line is much longer than ``width``.
    """
    if not attrs:
        return ""
    parts = [f"{k}={_attr_value(v)}" for k, v in attrs.items() if v is not None and v is not False]
    parts = [p if len(p) <= limit else p[: limit - 1] + "…" for p in parts]
    lines: list[str] = []
    for p in parts:
        if lines and len(lines[-1]) + 2 + len(p) <= width:
            lines[-1] += ", " + p
        else:
            lines.append(p)
    return ",\n".join(lines)


def _attr_value(v: Any) -> str:
    if isinstance(v, slice):
        parts = ["" if p is None else str(p) for p in (v.start, v.stop, v.step)]
        return ":".join(parts[:2]) + (f":{parts[2]}" if v.step is not None else "")
    if isinstance(v, tuple):
        inner = ", ".join(_attr_value(x) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    if isinstance(v, np.ndarray):
        return f"array{shape_text(v.shape)}" if v.size > 6 else full_values(v)
    if v is Ellipsis:
        return "..."
    if isinstance(v, np.dtype) or isinstance(v, type):
        return np.dtype(v).name
    return repr(v) if isinstance(v, str) else str(v)
