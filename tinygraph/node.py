"""The `Node`: one value in the computational graph, the op that made it and its parents.

Nodes are the single record of the graph: backward, rendering, networkx export and the tests all
read ``node.parents`` / ``node.op``; nothing keeps a second copy.

Internally a 0-d value may be held as a numpy scalar (numpy arithmetic on scalars is ~10x faster
than on 0-d arrays); the public ``.data`` and ``.grad`` always hand out ``numpy.ndarray``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tinygraph import _inplace
from tinygraph._inputs import check_numeric, refuse_node_sequence
from tinygraph._state import ScopeFrame, scope_path, switches_now

if TYPE_CHECKING:
    from tinygraph.registry import OpDef


def _guarded(node: Node, value: np.ndarray) -> np.ndarray:
    """``node.data`` for a value backward will read: a view whose writes name the node."""
    if node._op is None and not _inplace.is_locked(value):
        return value  # a user's own read-only array
    return _inplace.guarded_view(value, node)


def as_array(value: Any) -> np.ndarray:
    """Return ``value`` as an ndarray (numpy scalars and Python numbers become 0-d arrays)."""
    return value if type(value) is np.ndarray else np.asarray(value)


class Node:
    """A value in the graph.

    Attributes
    ----------
    data : numpy.ndarray
        The value.
    grad : numpy.ndarray or None
        Gradient of the last ``backward()`` root w.r.t. this node (leaves only), same shape and
        dtype as ``data``; accumulates over several ``backward()`` calls until reset to None.
    requires_grad : bool
        Whether gradients flow to this node.
    op : str or None
        Name of the op that made the node; None for leaves (tensors made by the user).
    parents : tuple of Node
        The op's inputs, in argument order (constants included, as nodes that need no grad).
    name : str or None
        Optional label, shown in renderings (parameters get their dotted names).
    scope : tuple of ScopeFrame or None
        The composite calls (outermost first) the node was made inside.
    """

    __slots__ = (
        "__weakref__",
        "_gacc",
        "_grad",
        "_op",
        "_value",
        "attrs",
        "name",
        "parents",
        "requires_grad",
        "scope",
    )

    # numpy defers binary operators (ndarray + Node, np.float32 * Node) to Node's reflected
    # methods, and numpy ufuncs called on Nodes come to __array_ufunc__.
    __array_priority__ = 1000

    def __init__(
        self,
        data: Any,
        requires_grad: bool = False,
        name: str | None = None,
    ) -> None:
        if isinstance(data, Node):
            value = data._value
        else:
            refuse_node_sequence(data, "tensor")
            value = np.asarray(data)
            check_numeric(value, "tensor")
        if requires_grad and not np.issubdtype(value.dtype, np.inexact):
            raise TypeError(
                f"tensor: only floating point tensors can require gradients, got dtype {value.dtype}"
            )
        self._value = value
        self._grad = None
        self.requires_grad = bool(requires_grad)
        self._op = None
        self.parents: tuple[Node, ...] = ()
        self.attrs: dict[str, Any] | None = None
        self.name = name
        self.scope: tuple[ScopeFrame, ...] | None = switches_now().scope
        self._gacc = None

    # ------------------------------------------------------------------ value access
    @property
    def data(self) -> np.ndarray:
        """The value as a numpy array (shared, not copied: in-place edits change the node)."""
        value = self._value
        if type(value) is not np.ndarray:
            value = self._value = np.asarray(value)
        if (self._op is not None and self.requires_grad) or not value.flags.writeable:
            return _guarded(self, value)  # read by a pending backward: a read-only view
        return value

    @data.setter
    def data(self, value: Any) -> None:
        old = self._value
        if isinstance(value, _inplace.RecordedValue) and value.base is old and value.shape == np.shape(old):
            return  # ``x.data -= u``: the in-place operator already wrote into the value
        new = np.asarray(value)
        if _inplace.is_locked(old):
            _inplace.mark_modified(self)  # a recorded graph still reads the old value
        if new.shape != np.shape(old):
            raise ValueError(
                f"data: cannot replace a value of shape {np.shape(old)} with one of shape {new.shape}"
            )
        self._value = new.astype(old.dtype, copy=False) if hasattr(old, "dtype") else new

    @property
    def grad(self) -> np.ndarray | None:
        """Accumulated gradient (ndarray of ``data``'s shape and dtype), or None."""
        g = self._grad
        if g is not None and type(g) is not np.ndarray:
            g = self._grad = np.asarray(g)
        return g

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is None:
            self._grad = None
            return
        g = np.asarray(value)
        if g.shape != self.shape:
            raise ValueError(
                f"grad: gradient of shape {g.shape} does not match the node's shape {self.shape}"
            )
        self._grad = g.astype(self.dtype, copy=False)

    @property
    def op(self) -> str | None:
        """Name of the op that made this node, or None for a leaf made by the user."""
        return None if self._op is None else self._op.name

    @property
    def opdef(self) -> OpDef | None:
        """The registry entry of the op that made this node (None for leaves)."""
        return self._op

    @property
    def is_leaf(self) -> bool:
        """True for nodes the user made, and (as in PyTorch) for every node not requiring grad."""
        return self._op is None or not self.requires_grad

    @property
    def is_constant(self) -> bool:
        """True for operands that ops wrapped themselves (``x * 2``: the 2), as opposed to user inputs."""
        return False

    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self._value)

    @property
    def ndim(self) -> int:
        return np.ndim(self._value)

    @property
    def size(self) -> int:
        return int(np.size(self._value))

    @property
    def dtype(self) -> np.dtype:
        value = self._value  # a constant may hold a plain Python number
        return value.dtype if hasattr(value, "dtype") else np.asarray(value).dtype

    @property
    def scope_path(self) -> str:
        """The composite calls this node was made in, e.g. ``'cross_entropy > log_softmax'``."""
        return scope_path(self.scope)

    def item(self) -> Any:
        """The value of a one-element node as a Python number."""
        if self.size != 1:
            raise ValueError(
                f"item: only one-element nodes convert to a Python number, got shape {self.shape}"
            )
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The value as a numpy array (the same array as ``.data``)."""
        return self.data

    def tolist(self) -> Any:
        return self.data.tolist()

    def detach(self) -> Node:
        """A new leaf sharing this node's value, cut from the graph (``requires_grad=False``)."""
        return Node(self.data, requires_grad=False, name=self.name)

    def requires_grad_(self, requires_grad: bool = True) -> Node:
        """Set ``requires_grad`` on a leaf in place and return it."""
        if not self.is_leaf and not requires_grad:
            raise ValueError("requires_grad_: only leaves can stop requiring grad; use detach()")
        if requires_grad and not np.issubdtype(self.dtype, np.inexact):
            raise TypeError(
                f"requires_grad_: only floating point tensors can require gradients, got {self.dtype}"
            )
        self.requires_grad = bool(requires_grad)
        return self

    def zero_grad(self) -> None:
        """Reset the accumulated gradient to None."""
        self._grad = None

    def backward(self, grad: Any = None, create_graph: bool = False) -> None:
        """Backpropagate from this node, accumulating d(self)/d(leaf) into every leaf's ``.grad``.

        Parameters
        ----------
        grad : array_like, optional
            The gradient of the final objective w.r.t. this node; may be omitted only when the
            node holds a single element (it is then 1).
        create_graph : bool
            Record the backward pass itself as a graph, so it can be differentiated again.
        """
        from tinygraph.autodiff import backward

        backward(self, grad, create_graph=create_graph)

    # ------------------------------------------------------------------ printing
    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", threshold=20, edgeitems=3, precision=4)
        body = body.replace("\n", "\n" + " " * 5)
        extras = [f"dtype={self.dtype}"]
        if self.requires_grad:
            extras.append("requires_grad=True")
        if self._op is not None:
            extras.append(f"op={self._op.name!r}")
        if self.name is not None:
            extras.append(f"name={self.name!r}")
        return f"Node({body}, {', '.join(extras)})"

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d node")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d node")
        return (self[i] for i in range(self.shape[0]))

    def __bool__(self) -> bool:
        if self.size != 1:
            raise ValueError(
                f"the truth value of a node with {self.size} elements is ambiguous; "
                "use .data.any() or .data.all()"
            )
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    __hash__ = object.__hash__

    # ------------------------------------------------------------------ operators
    # Each is one line that hands over to the op registry (tinygraph.ops); the arithmetic ones
    # call ``apply`` directly, skipping the argument binding of the public functions.
    def __add__(self, other):
        return _apply(_OPS_ADD, (self, other), None)

    def __radd__(self, other):
        return _apply(_OPS_ADD, (other, self), None)

    def __sub__(self, other):
        return _apply(_OPS_SUB, (self, other), None)

    def __rsub__(self, other):
        return _apply(_OPS_SUB, (other, self), None)

    def __mul__(self, other):
        return _apply(_OPS_MUL, (self, other), None)

    def __rmul__(self, other):
        return _apply(_OPS_MUL, (other, self), None)

    def __truediv__(self, other):
        return _apply(_OPS_DIV, (self, other), None)

    def __rtruediv__(self, other):
        return _apply(_OPS_DIV, (other, self), None)

    def __pow__(self, other):
        return _ops.pow(self, other)

    def __rpow__(self, other):
        return _ops.pow(other, self)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __neg__(self):
        return _ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    def __getitem__(self, index):
        return _ops.getitem(self, index)

    def __lt__(self, other):
        return _ops.less(self, other)

    def __le__(self, other):
        return _ops.less_equal(self, other)

    def __gt__(self, other):
        return _ops.greater(self, other)

    def __ge__(self, other):
        return _ops.greater_equal(self, other)

    def __eq__(self, other):  # type: ignore[override]
        return _ops.equal(self, other)

    def __ne__(self, other):  # type: ignore[override]
        return _ops.not_equal(self, other)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """Route numpy ufuncs on Nodes (``np.ones(3) + x``, ``np.exp(x)``) to tinygraph ops."""
        op = _ops.UFUNC_OPS.get(ufunc.__name__) if method == "__call__" and not kwargs else None
        if op is None:
            raise TypeError(
                f"numpy.{ufunc.__name__} ({method}) is not supported on tinygraph Nodes; use the "
                "tinygraph op of the same name, or node.data for a value outside the graph"
            )
        return op(*inputs)

    # ------------------------------------------------------------------ methods
    @property
    def T(self) -> Node:
        """The node with its axes reversed (``transpose()``)."""
        return _ops.transpose(self)

    def sum(self, axis=None, keepdims=False):
        return _ops.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return _ops.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return _ops.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return _ops.min(self, axis=axis, keepdims=keepdims)

    def exp(self):
        return _ops.exp(self)

    def log(self):
        return _ops.log(self)

    def tanh(self):
        return _ops.tanh(self)

    def sigmoid(self):
        return _ops.sigmoid(self)

    def relu(self):
        return _ops.relu(self)

    def abs(self):
        return _ops.abs(self)

    def sqrt(self):
        return _ops.sqrt(self)

    def reshape(self, *shape):
        return _ops.reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes):
        return _ops.transpose(self, (axes[0] if len(axes) == 1 else axes) or None)

    def flatten(self, start_axis: int = 0, end_axis: int = -1):
        return _ops.flatten(self, start_axis, end_axis)

    def astype(self, dtype):
        return _ops.astype(self, dtype)


class Constant(Node):
    """A non-Node operand (``x * 2``: the 2) wrapped by an op so the graph records it.

    Its value is kept as given (a Python number stays one, so numpy treats it as a weak scalar).
    """

    __slots__ = ()

    @property
    def is_constant(self) -> bool:
        return True


from tinygraph import ops as _ops  # noqa: E402  (the ops need Node defined first)
from tinygraph.registry import REGISTRY as _REGISTRY  # noqa: E402
from tinygraph.registry import apply as _apply  # noqa: E402

_OPS_ADD, _OPS_SUB, _OPS_MUL, _OPS_DIV = (_REGISTRY[n] for n in ("add", "sub", "mul", "div"))
