"""Making leaf nodes: ``tensor``, the zeros/ones/full/arange/eye/linspace/random constructors, the seed.

Sizes are given as PyTorch and numpy both allow: ``zeros(2, 3)`` or ``zeros((2, 3))`` (or a list).
Floating point results default to float32, as in PyTorch; integer ``arange`` gives int64.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from tinygraph.node import Node, refuse_node_sequence

_rng = np.random.default_rng()

DEFAULT_FLOAT = np.float32


def manual_seed(seed: int) -> None:
    """Seed tinygraph's random generator (``randn``, ``rand``, dropout, layer initialisation)."""
    global _rng
    _rng = np.random.default_rng(seed)


def get_rng() -> np.random.Generator:
    """The generator behind tinygraph's random numbers (reseed with :func:`manual_seed`)."""
    return _rng


def _default_array(data: Any, dtype: Any) -> np.ndarray:
    refuse_node_sequence(data, "tensor")  # np.array would copy the values and drop their graph
    if dtype is not None:
        try:
            return np.array(data.data if isinstance(data, Node) else data, dtype=dtype)
        except (TypeError, ValueError) as exc:  # "abc" as float64, a ragged list, a bad dtype
            message = f"tensor: cannot make an array of {data!r:.60} with dtype {dtype!r}: {exc}"
            raise type(exc)(message) from exc
    if isinstance(data, Node):
        return np.array(data.data)
    if isinstance(data, (np.ndarray, np.generic)):
        return np.array(data)
    try:
        arr = np.array(data)
    except ValueError as exc:
        raise ValueError(f"tensor: cannot make an array of {data!r:.60}: {exc}") from exc
    if arr.dtype == object:
        raise ValueError(f"tensor: cannot make an array of {type(data).__name__} {data!r:.60} (not numeric)")
    # Python floats (and lists mixing ints and floats) become float32, as in PyTorch.
    return arr.astype(np.float32) if arr.dtype == np.float64 else arr


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None) -> Node:
    """Make a leaf node holding a copy of ``data``.

    Python floats and lists of floats become float32; an ndarray or numpy scalar keeps its dtype
    (float64 stays float64); ``dtype`` overrides both. A list or tuple holding Nodes is refused
    with a TypeError (its values would be copied and their graph dropped): combine Nodes with
    ``tg.stack`` (which keeps the graph), or detach them first.

    Parameters
    ----------
    data : array_like
    requires_grad : bool
        Track gradients for this node (floating point dtypes only).
    dtype : numpy dtype, optional
    name : str, optional
        Label shown in renderings.
    """
    return Node(_default_array(data, dtype), requires_grad=requires_grad, name=name)


def _is_int(d: Any) -> bool:
    return isinstance(d, (numbers.Integral, np.integer)) and not isinstance(d, (bool, np.bool_))


def size_of(op: str, shape: tuple[Any, ...]) -> tuple[int, ...]:
    """The size given as ``op(2, 3)``, ``op((2, 3))`` or ``op([2, 3])`` as a tuple of non-negative ints.

    Raises a TypeError naming ``op`` for a size that is not made of integers (``randn(2.5)``), and a
    ValueError for a negative one.
    """
    if len(shape) == 1 and not _is_int(shape[0]):
        inner = shape[0]
        if isinstance(inner, Node):
            inner = inner.data.tolist()
        if isinstance(inner, np.ndarray):
            inner = inner.tolist()
        if not isinstance(inner, (tuple, list)):
            raise TypeError(
                f"{op}: the size must be integers, as {op}(2, 3) or {op}((2, 3)); got {shape[0]!r}"
            )
        shape = tuple(inner)
    bad = [d for d in shape if not _is_int(d)]
    if bad:
        raise TypeError(f"{op}: the size must be integers, as {op}(2, 3) or {op}((2, 3)); got {shape!r}")
    if any(d < 0 for d in shape):
        raise ValueError(f"{op}: sizes must be non-negative, got {tuple(int(d) for d in shape)}")
    return tuple(int(d) for d in shape)


def _leaf(value: np.ndarray, requires_grad: bool, name: str | None) -> Node:
    return Node(value, requires_grad=requires_grad, name=name)


def zeros(
    *size: Any, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False, name: str | None = None
) -> Node:
    """A leaf of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _leaf(np.zeros(size_of("zeros", size), dtype=dtype), requires_grad, name)


def ones(
    *size: Any, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False, name: str | None = None
) -> Node:
    """A leaf of ones: ``ones(2, 3)`` or ``ones((2, 3))``."""
    return _leaf(np.ones(size_of("ones", size), dtype=dtype), requires_grad, name)


def _fill_dtype(op: str, fill_value: Any, dtype: Any) -> Any:
    if dtype is not None:
        return dtype
    if isinstance(fill_value, (bool, np.bool_)):
        return np.bool_
    if _is_int(fill_value):
        return np.int64
    if isinstance(fill_value, numbers.Real):
        return np.asarray(fill_value).dtype if isinstance(fill_value, np.generic) else DEFAULT_FLOAT
    raise TypeError(f"{op}: fill_value must be a number, got {type(fill_value).__name__} {fill_value!r:.40}")


def full(
    size: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False, name: str | None = None
) -> Node:
    """A leaf of ``size`` (an int or a tuple) filled with ``fill_value``, as ``torch.full``.

    The dtype follows the value when not given: bool, int64 for an int, float32 for a Python float.
    """
    shape = size_of("full", (size,))
    dtype = _fill_dtype("full", fill_value, dtype)
    return _leaf(np.full(shape, fill_value, dtype=dtype), requires_grad, name)


def _like_value(op: str, x: Any) -> np.ndarray:
    if isinstance(x, Node):
        return x.data
    if isinstance(x, (np.ndarray, np.generic)):
        return np.asarray(x)
    raise TypeError(f"{op}: expects a Node or a numpy array, got {type(x).__name__}")


def zeros_like(x: Node | np.ndarray, dtype: Any = None, requires_grad: bool = False) -> Node:
    """A leaf of zeros with the shape (and, unless ``dtype`` is given, the dtype) of ``x``."""
    return Node(np.zeros_like(_like_value("zeros_like", x), dtype=dtype), requires_grad=requires_grad)


def ones_like(x: Node | np.ndarray, dtype: Any = None, requires_grad: bool = False) -> Node:
    """A leaf of ones with the shape (and, unless ``dtype`` is given, the dtype) of ``x``."""
    return Node(np.ones_like(_like_value("ones_like", x), dtype=dtype), requires_grad=requires_grad)


def full_like(x: Node | np.ndarray, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Node:
    """A leaf of ``fill_value`` with the shape (and, unless ``dtype`` is given, the dtype) of ``x``."""
    value = _like_value("full_like", x)
    _fill_dtype("full_like", fill_value, None)  # the clear error for a non-number
    return Node(np.full_like(value, fill_value, dtype=dtype), requires_grad=requires_grad)


def _number(op: str, what: str, v: Any) -> Any:
    if isinstance(v, Node) and v.size == 1:
        v = v.item()
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (numbers.Real, np.number)):
        raise TypeError(f"{op}: {what} must be a real number, got {type(v).__name__} {v!r:.40}")
    return v


def arange(
    start: Any,
    end: Any = None,
    step: Any = 1,
    dtype: Any = None,
    requires_grad: bool = False,
    name: str | None = None,
) -> Node:
    """Evenly spaced values ``start, start + step, ...`` below ``end``: ``arange(5)``, ``arange(1, 10, 2)``.

    As ``torch.arange``: int64 when every argument is an integer, float32 otherwise (``dtype``
    overrides). ``arange(n)`` counts from 0.
    """
    if end is None:
        start, end = 0, start
    start, end, step = (_number("arange", w, v) for w, v in (("start", start), ("end", end), ("step", step)))
    if step == 0:
        raise ValueError("arange: step must not be zero")
    if (end - start) * step < 0:
        raise ValueError(f"arange: step {step} goes away from end {end} (start {start})")
    if dtype is None:
        dtype = np.int64 if all(_is_int(v) for v in (start, end, step)) else DEFAULT_FLOAT
    # Computed in float64 (or int64) and then converted, so float32 results do not drift.
    exact = np.arange(start, end, step, dtype=np.int64 if np.issubdtype(dtype, np.integer) else np.float64)
    return _leaf(exact.astype(dtype), requires_grad, name)


def linspace(
    start: Any,
    end: Any,
    steps: int,
    dtype: Any = DEFAULT_FLOAT,
    requires_grad: bool = False,
    name: str | None = None,
) -> Node:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included, as ``torch.linspace``."""
    start, end = _number("linspace", "start", start), _number("linspace", "end", end)
    if not _is_int(steps) or steps < 0:
        raise TypeError(f"linspace: steps must be a non-negative integer, got {steps!r}")
    return _leaf(np.linspace(start, end, int(steps), dtype=np.float64).astype(dtype), requires_grad, name)


def eye(
    n: int,
    m: int | None = None,
    dtype: Any = DEFAULT_FLOAT,
    requires_grad: bool = False,
    name: str | None = None,
) -> Node:
    """The ``n × m`` identity matrix (``m = n`` by default): ones on the diagonal, zeros elsewhere."""
    rows, cols = size_of("eye", (n, n if m is None else m))
    return _leaf(np.eye(rows, cols, dtype=dtype), requires_grad, name)


def randn(
    *size: Any, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False, name: str | None = None
) -> Node:
    """A leaf of standard normal samples: ``randn(2, 3)`` or ``randn((2, 3))``."""
    return _leaf(_rng.standard_normal(size_of("randn", size)).astype(dtype), requires_grad, name)


def rand(
    *size: Any, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False, name: str | None = None
) -> Node:
    """A leaf of uniform samples in [0, 1): ``rand(2, 3)`` or ``rand((2, 3))``."""
    return _leaf(_rng.random(size_of("rand", size)).astype(dtype), requires_grad, name)
