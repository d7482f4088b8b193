"""numpy functions called on Nodes (``np.sum(x)``, ``np.mean(x, axis=0)``, ``np.concatenate``).

``Node.__array_function__`` hands numpy's call here; each supported function runs the tinygraph
op of the same meaning, so the result is a Node in the graph. ``out=`` (which numpy's own
reductions pass along) cannot be honoured for a Node and is refused unless it is None; any other
numpy function that would build a result in the graph is refused with a message saying what to
use instead; those whose results are never differentiable (``np.allclose``, ``np.argsort``,
``np.save``...) run on the nodes' values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygraph import ops
from tinygraph.errors import OpError
from tinygraph.node import Node


def _where(cond, x=None, y=None, **kwargs):
    if x is None or y is None:
        raise TypeError(
            "numpy.where with one argument (the indices of true elements) is not supported on Nodes"
        )
    return ops.where(cond, x, y, **kwargs)


def _clip(x, a_min=None, a_max=None, **kwargs):
    lo, hi = kwargs.pop("min", a_min), kwargs.pop("max", a_max)
    return ops.clip(x, lo, hi, **kwargs)


def _pad(x, pad_width, mode="constant", constant_values=0, **kwargs):
    from tinygraph.ops.padding import pad

    return pad(x, pad_width, mode=mode, value=constant_values, **kwargs)


def _einsum(subscripts, *operands, **kwargs):
    kwargs.pop("optimize", None)
    return ops.einsum(subscripts, *operands, **kwargs)


def _repeat(x, repeats, axis=None):
    return ops.repeat_interleave(x, repeats, axis)


def _concatenate(arrays, axis=0, **kwargs):
    return ops.concatenate(list(arrays), axis, **kwargs)


def _stack(arrays, axis=0, **kwargs):
    return ops.stack(list(arrays), axis, **kwargs)


def _reshape(x, *args, **kwargs):
    if "newshape" in kwargs:  # numpy < 2.1's name
        kwargs["shape"] = kwargs.pop("newshape")
    return ops.reshape(x, *args, **kwargs)


NUMPY_FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {
    np.sum: ops.sum,
    np.mean: ops.mean,
    np.max: ops.max,
    np.min: ops.min,
    np.prod: ops.prod,
    np.var: ops.var,
    np.std: ops.std,
    np.cumsum: ops.cumsum,
    np.argmax: ops.argmax,
    np.argmin: ops.argmin,
    np.any: ops.any,
    np.all: ops.all,
    np.reshape: _reshape,
    np.transpose: ops.transpose,
    np.squeeze: ops.squeeze,
    np.expand_dims: ops.expand_dims,
    np.broadcast_to: ops.broadcast_to,
    np.concatenate: _concatenate,
    np.stack: _stack,
    np.where: _where,
    np.clip: _clip,
    np.round: ops.round,
    np.flip: ops.flip,
    np.roll: ops.roll,
    np.tril: ops.tril,
    np.triu: ops.triu,
    np.tile: ops.tile,
    np.repeat: _repeat,
    np.einsum: _einsum,
    np.pad: _pad,
    np.shape: lambda x: x.shape,
    np.ndim: lambda x: x.ndim,
    np.size: lambda x, axis=None: x.numel() if axis is None else x.shape[axis],
}
for _alias, _name in (("amax", "max"), ("amin", "min"), ("around", "round")):  # numpy's older names
    if hasattr(np, _alias):
        NUMPY_FUNCTIONS.setdefault(getattr(np, _alias), NUMPY_FUNCTIONS[getattr(np, _name)])


# numpy functions whose results are never differentiable (tests, indices, counts, printing, files):
# they run on the nodes' values, as they did before Nodes took part in numpy's dispatch.
VALUE_FUNCTIONS = {
    getattr(np, name)
    for name in (
        "allclose", "array_equal", "array_equiv", "isclose", "count_nonzero", "nonzero", "argwhere",
        "flatnonzero", "argsort", "unique", "bincount", "searchsorted", "histogram", "result_type",
        "array2string", "array_repr", "array_str", "save", "savez", "savetxt", "shares_memory",
        "may_share_memory", "iscomplexobj", "isrealobj",
    )
    if hasattr(np, name)
}  # fmt: skip


def _values(arg: Any) -> Any:
    if isinstance(arg, Node):
        return arg.data
    if isinstance(arg, (list, tuple)):
        return type(arg)(_values(a) for a in arg)
    return arg


def call_numpy_function(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Run the tinygraph op standing for the numpy function ``func`` on ``args``."""
    if func in VALUE_FUNCTIONS:
        return func(*_values(args), **{k: _values(v) for k, v in kwargs.items()})
    op = NUMPY_FUNCTIONS.get(func)
    name = getattr(func, "__name__", str(func))
    if op is None:
        raise TypeError(
            f"numpy.{name} is not supported on tinygraph Nodes; use the tinygraph op of the same name "
            "(tg.<op> or a Node method), or node.data for a value outside the graph"
        )
    kwargs = dict(kwargs)
    if kwargs.pop("out", None) is not None:
        raise OpError(f"{name}: out= cannot be filled for a tinygraph Node; use the returned node")
    if kwargs.get("dtype", None) is not None:
        raise OpError(f"{name}: dtype= is not supported on Nodes; convert first with node.astype(dtype)")
    kwargs.pop("dtype", None)
    if kwargs.pop("where", True) is not True:
        raise OpError(f"{name}: where= is not supported on Nodes; mask with tg.where first")
    return op(*args, **kwargs)
