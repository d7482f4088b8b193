"""Catching in-place edits of values a pending backward pass will read.

Backward reads the inputs and outputs of every recorded op again (``∂(x·x)/∂x = 2x`` reads ``x``).
An edit between the forward and the backward would make it compute a wrong gradient without a
word. So, as PyTorch's version counters do:

- a leaf that requires grad (a parameter, an input being differentiated) is *locked* when an op
  records it, and unlocked when a backward pass has gone through it. While it is locked its array
  is read-only and ``node.data`` hands out a :class:`RecordedValue` view: an edit through it
  (``x.data[:] = 10``, ``x.data -= u``, ``out=x.data``) or through ``x.data = new`` is carried
  out, and the leaf is marked *modified*; the next backward through a graph that recorded it raises
  :class:`~tinygraph.errors.InPlaceError` naming it. Recording it again (a new forward) clears the
  mark. After ``backward()`` the leaf is unlocked and writes cost nothing (an optimizer's step);
- the value of a recorded intermediate (a node an op made, requiring grad) is handed out
  read-only: writing into it raises :class:`~tinygraph.errors.InPlaceError` at once.

Not caught: writes through another reference to a leaf's memory taken before the op recorded it
(a numpy array the leaf shares, an old ``.data`` handle: numpy refuses them, the array being
read-only), ``np.copyto`` into a locked leaf (numpy's own read-only error), and edits of inputs that
do not require grad.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from tinygraph.errors import InPlaceError

# id(array) -> (weak reference to the array): the leaf arrays this module made read-only.
_LOCKED: dict[int, weakref.ref] = {}
# id(node) -> weak reference to a leaf edited while locked (a graph that recorded it is stale).
MODIFIED: dict[int, weakref.ref] = {}


def _forget(table: dict[int, weakref.ref], key: int) -> Any:
    return lambda _ref: table.pop(key, None)


def lock(value: np.ndarray, node: Any) -> None:
    """Make leaf ``node``'s array ``value`` (read by a recorded op) read-only until :func:`unlock`."""
    if MODIFIED:
        MODIFIED.pop(id(node), None)  # recorded again with its current value
    key = id(value)
    if key in _LOCKED or not value.flags.writeable:
        return
    value.flags.writeable = False
    _LOCKED[key] = weakref.ref(value, _forget(_LOCKED, key))


def unlock(value: Any) -> None:
    """Give ``value`` back its writeability if :func:`lock` took it (a backward pass has read it)."""
    ref = _LOCKED.pop(id(value), None)
    if ref is not None and ref() is value:
        value.flags.writeable = True


def is_locked(value: Any) -> bool:
    ref = _LOCKED.get(id(value))
    return ref is not None and ref() is value


def mark_modified(node: Any) -> None:
    """Leaf ``node`` is being edited while a recorded graph still reads it: unlock it, remember."""
    unlock(node._value)
    key = id(node)
    MODIFIED[key] = weakref.ref(node, _forget(MODIFIED, key))


def check_unmodified(order: Any) -> None:
    """Raise InPlaceError if a leaf among ``order`` (a backward's nodes) was edited since recorded."""
    for node in order:
        ref = MODIFIED.get(id(node))
        if ref is not None and ref() is node and node.opdef is None:
            raise InPlaceError(
                f"backward: {_node_label(node)} was modified in place after an op recorded it, so "
                "this graph's gradient would be wrong; run the forward again after the edit (or edit "
                "it only after backward(), as optimizers do)"
            )


def _node_label(node: Any) -> str:
    kind = "leaf" if node.opdef is None else f"output of {node.op}"
    name = f" {node.name!r}" if node.name else ""
    return f"{kind}{name} (shape {node.shape}, {node.dtype})"


def _intermediate_message(node: Any) -> str:
    return (
        f"in-place edit of the {_node_label(node)}: backward reads it again, so it is read-only; "
        "edit a copy (node.data.copy()) or a new leaf (tg.tensor(node.data))"
    )


def _write(self: RecordedValue, method: str, *args: Any) -> Any:
    """Carry out a write into a locked leaf's value, marking the leaf modified (or refuse it)."""
    node = self._tg_node() if self._tg_node is not None else None
    if node is None:
        raise InPlaceError(RecordedValue._tg_message)
    if node.opdef is not None:
        raise InPlaceError(_intermediate_message(node))
    mark_modified(node)
    plain = self.view(np.ndarray)
    plain.flags.writeable = True
    result = getattr(plain, method)(*args)
    return self if result is plain else result


class RecordedValue(np.ndarray):
    """A read-only view of a value a pending backward reads, handed out by ``Node.data``.

    Reading works as with any ndarray (results of arithmetic, copies and conversions are plain
    arrays). Writing into a leaf's value goes through and marks the leaf modified; writing into an
    intermediate's raises :class:`~tinygraph.errors.InPlaceError` naming the node.
    """

    _tg_message = "in-place edit of a value read by backward"
    _tg_node: Any = None  # a weak reference to the node (its error message is made only on a write)

    def __array_finalize__(self, obj: Any) -> None:
        if obj is not None:
            self._tg_node = getattr(obj, "_tg_node", None)

    def __setitem__(self, index: Any, value: Any) -> None:
        _write(self, "__setitem__", index, value)

    def fill(self, value: Any) -> None:
        _write(self, "fill", value)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        out = kwargs.get("out")
        if out is not None:
            targets = [o for o in out if isinstance(o, RecordedValue)]
            for target in targets:
                _write(target, "view")  # refuses, or marks the leaf modified and unlocks it
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, RecordedValue) else o for o in out)
            for o in kwargs["out"]:
                if not o.flags.writeable:
                    o.flags.writeable = True
        plain = [i.view(np.ndarray) if isinstance(i, RecordedValue) else i for i in inputs]
        return getattr(ufunc, method)(*plain, **kwargs)

    def copy(self, order: str = "C") -> np.ndarray:  # type: ignore[override]
        return self.view(np.ndarray).copy(order)

    def astype(self, *args: Any, **kwargs: Any) -> np.ndarray:  # type: ignore[override]
        return self.view(np.ndarray).astype(*args, **kwargs)

    def __repr__(self) -> str:
        return repr(self.view(np.ndarray))

    def __reduce__(self) -> Any:
        return self.view(np.ndarray).__reduce__()


def _inplace_operator(name: str) -> Any:
    def operator(self: RecordedValue, other: Any) -> Any:
        return _write(self, name, other)

    operator.__name__ = name
    return operator


for _name in (
    "__iadd__", "__isub__", "__imul__", "__itruediv__", "__ifloordiv__", "__imod__", "__ipow__",
    "__imatmul__", "__iand__", "__ior__", "__ixor__", "__ilshift__", "__irshift__",
):  # fmt: skip
    setattr(RecordedValue, _name, _inplace_operator(_name))


def guarded_view(value: np.ndarray, node: Any) -> RecordedValue:
    """``value`` as a read-only :class:`RecordedValue`; writes go through to a leaf (marking it
    modified) and are refused for an intermediate, naming ``node``."""
    view = value.view(RecordedValue)
    view.flags.writeable = False
    view._tg_node = weakref.ref(node)
    return view
