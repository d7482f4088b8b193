"""Making leaf nodes: ``tensor`` and the zeros/ones/random constructors, and the global seed."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygraph.node import Node, as_array

_rng = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed tinygraph's random generator (``randn``, ``rand``, dropout, layer initialisation)."""
    global _rng
    _rng = np.random.default_rng(seed)


def get_rng() -> np.random.Generator:
    """The generator behind tinygraph's random numbers (reseed with :func:`manual_seed`)."""
    return _rng


def _default_array(data: Any, dtype: Any) -> np.ndarray:
    if dtype is not None:
        return np.array(data.data if isinstance(data, Node) else data, dtype=dtype)
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
    (float64 stays float64); ``dtype`` overrides both.

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


def _shape(shape: Any) -> tuple[int, ...]:
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        shape = tuple(shape[0])
    return tuple(int(d) for d in shape)


def zeros(shape: Any, dtype: Any = np.float32, requires_grad: bool = False, name: str | None = None) -> Node:
    """A leaf of zeros; ``shape`` is an int or a tuple, as in ``numpy.zeros``."""
    return Node(np.zeros(shape, dtype=dtype), requires_grad=requires_grad, name=name)


def ones(shape: Any, dtype: Any = np.float32, requires_grad: bool = False, name: str | None = None) -> Node:
    """A leaf of ones; ``shape`` is an int or a tuple, as in ``numpy.ones``."""
    return Node(np.ones(shape, dtype=dtype), requires_grad=requires_grad, name=name)


def zeros_like(x: Node | np.ndarray, requires_grad: bool = False) -> Node:
    """A leaf of zeros with the shape and dtype of ``x``."""
    return Node(np.zeros_like(as_array(x)), requires_grad=requires_grad)


def ones_like(x: Node | np.ndarray, requires_grad: bool = False) -> Node:
    """A leaf of ones with the shape and dtype of ``x``."""
    return Node(np.ones_like(as_array(x)), requires_grad=requires_grad)


def randn(*shape: Any, dtype: Any = np.float32, requires_grad: bool = False, name: str | None = None) -> Node:
    """A leaf of standard normal samples: ``randn(2, 3)`` or ``randn((2, 3))``."""
    return Node(_rng.standard_normal(_shape(shape)).astype(dtype), requires_grad=requires_grad, name=name)


def rand(*shape: Any, dtype: Any = np.float32, requires_grad: bool = False, name: str | None = None) -> Node:
    """A leaf of uniform samples in [0, 1): ``rand(2, 3)`` or ``rand((2, 3))``."""
    return Node(_rng.random(_shape(shape)).astype(dtype), requires_grad=requires_grad, name=name)
