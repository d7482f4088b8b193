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
from tinygraph._inputs import check_numeric
from tinygraph._state import ScopeFrame, scope_path, switches_now

if TYPE_CHECKING:
    from tinygraph.registry import OpDef


def _guarded(node: Node, value: np.ndarray) -> np.ndarray:
    """``node.data`` for a value backward will read: a view whose writes name the node."""
    if node._opdef is None and not _inplace.is_locked(value):
        return value  # a user's own read-only array
    return _inplace.guarded_view(value, node)


def as_array(value: Any) -> np.ndarray:
    """``value`` as an ndarray: a Node's ``.data``, an ndarray itself, anything else ``np.asarray``'d.

    The one helper for the "a Node or an array" arguments (numpy scalars and Python numbers become
    0-d arrays; a Node's value is shared, not copied).
    """
    if type(value) is np.ndarray:
        return value
    if isinstance(value, Node):
        return value.data
    refuse_node_sequence(value, "op input")  # np.asarray would drop the Nodes' graph
    return np.asarray(value)


def holds_node(value: Any) -> bool:
    """True when the list or tuple ``value`` (or one nested in it) holds a Node."""
    stack = [value]
    while stack:
        for item in stack.pop():
            if isinstance(item, Node):
                return True
            if type(item) in (list, tuple):
                stack.append(item)
    return False


def refuse_node_sequence(value: Any, where: str) -> None:
    """Raise TypeError when ``value`` is a list or tuple holding Nodes (it would lose their graph)."""
    if type(value) in (list, tuple) and holds_node(value):
        raise TypeError(
            f"{where}: got a {type(value).__name__} holding Nodes where an array is expected; making an "
            "array of it would drop their graph (and gradients). Combine them with tg.stack([...]) "
            "(or tg.concatenate) first"
        )


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
    attrs : dict or None
        The op's keyword attributes (axis, shape, ...), as its rules receive them.
    saved : Any
        What the op's forward kept for its backward (``saves=True`` primitives), else None.
    """

    __slots__ = (
        "__weakref__",
        "_constant",
        "_grad",
        "_grad_in",
        "_opdef",
        "_value",
        "attrs",
        "name",
        "parents",
        "requires_grad",
        "saved",
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
        fill(self, value, bool(requires_grad), None, (), None, None, name, switches_now().scope, False)

    # ------------------------------------------------------------------ value access
    @property
    def data(self) -> np.ndarray:
        """The value as a numpy array (shared, not copied: in-place edits change the node)."""
        value = self._value
        if type(value) is not np.ndarray:
            value = self._value = np.asarray(value)
        if (self._opdef is not None and self.requires_grad) or not value.flags.writeable:
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
        return None if self._opdef is None else self._opdef.name

    @property
    def opdef(self) -> OpDef | None:
        """The registry entry of the op that made this node (None for leaves)."""
        return self._opdef

    @property
    def is_leaf(self) -> bool:
        """True for nodes the user made, and (as in PyTorch) for every node not requiring grad."""
        return self._opdef is None or not self.requires_grad

    @property
    def is_constant(self) -> bool:
        """True for operands that ops wrapped themselves (``x * 2``: the 2), as opposed to user inputs.

        Such a constant keeps its value as given (a Python number stays one, so numpy treats it as
        a weak scalar). See :func:`tinygraph.registry.constant`.
        """
        return self._constant

    @property
    def shape(self) -> tuple[int, ...]:
        try:
            return self._value.shape  # an array or numpy scalar (np.shape's dispatch costs more)
        except AttributeError:  # a constant holding a plain Python number
            return np.shape(self._value)

    @property
    def ndim(self) -> int:
        try:
            return self._value.ndim
        except AttributeError:
            return np.ndim(self._value)

    @property
    def size(self) -> Size:
        """The number of elements (numpy's ``x.size``); ``x.size()`` is the shape, as in PyTorch."""
        return Size(int(np.size(self._value)), np.shape(self._value))

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
        _backward(self, grad, create_graph=create_graph)

    # ------------------------------------------------------------------ printing
    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", threshold=20, edgeitems=3, precision=4)
        body = body.replace("\n", "\n" + " " * 5)
        extras = [f"dtype={self.dtype}"]
        if self.requires_grad:
            extras.append("requires_grad=True")
        if self._opdef is not None:
            extras.append(f"op={self._opdef.name!r}")
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
        return _apply(_OPS_MATMUL, (self, other), None)

    def __rmatmul__(self, other):
        return _apply(_OPS_MATMUL, (other, self), None)

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

    def exp(self):
        return _ops.exp(self)

    def log(self):
        return _ops.log(self)

    def tanh(self):
        return _apply(_OPS_TANH, (self,), None)

    def sigmoid(self):
        return _ops.sigmoid(self)

    def relu(self):
        return _apply(_OPS_RELU, (self,), None)

    def abs(self):
        return _ops.abs(self)

    def sqrt(self):
        return _ops.sqrt(self)

    def reshape(self, *shape):
        return _ops.reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes):
        return _ops.transpose(self, (axes[0] if len(axes) == 1 else axes) or None)

    def flatten(self, *args, **kwargs):
        """Merge axes ``start_axis..end_axis`` (PyTorch's ``start_dim``/``end_dim``) into one."""
        return _ops.flatten(self, *args, **kwargs)

    def astype(self, dtype):
        return _ops.astype(self, dtype)

    # ---------------------------------------------------------- tensor ops and PyTorch habits (#14)
    # Reductions take numpy's axis=/keepdims= or PyTorch's dim=/keepdim= (the registry renames them).
    def sum(self, *args, **kwargs):
        """``tg.sum(self, ...)``: ``x.sum(axis=1)`` or ``x.sum(dim=1, keepdim=True)``."""
        return _ops.sum(self, *args, **kwargs)

    def mean(self, *args, **kwargs):
        """``tg.mean(self, ...)``."""
        return _ops.mean(self, *args, **kwargs)

    def max(self, *args, **kwargs):
        """``tg.max(self, ...)``: the values only (use ``argmax`` for the indices)."""
        return _ops.max(self, *args, **kwargs)

    def min(self, *args, **kwargs):
        """``tg.min(self, ...)``: the values only (use ``argmin`` for the indices)."""
        return _ops.min(self, *args, **kwargs)

    def prod(self, *args, **kwargs):
        return _ops.prod(self, *args, **kwargs)

    def var(self, *args, **kwargs):
        """``tg.var(self, ...)``: ddof 0 by default as numpy (``correction=1`` for PyTorch's default)."""
        return _ops.var(self, *args, **kwargs)

    def std(self, *args, **kwargs):
        """``tg.std(self, ...)``: ddof 0 by default as numpy (``correction=1`` for PyTorch's default)."""
        return _ops.std(self, *args, **kwargs)

    def cumsum(self, *args, **kwargs):
        return _ops.cumsum(self, *args, **kwargs)

    def argmax(self, *args, **kwargs):
        """Indices of the maxima: ``x.argmax(dim=1, keepdim=True)``."""
        return _ops.argmax(self, *args, **kwargs)

    def argmin(self, *args, **kwargs):
        return _ops.argmin(self, *args, **kwargs)

    def any(self, *args, **kwargs):
        return _ops.any(self, *args, **kwargs)

    def all(self, *args, **kwargs):
        return _ops.all(self, *args, **kwargs)

    def clip(self, min=None, max=None):
        return _ops.clip(self, min, max)

    clamp = clip

    def floor(self):
        return _ops.floor(self)

    def ceil(self):
        return _ops.ceil(self)

    def round(self, decimals=0):
        return _ops.round(self, decimals)

    def sin(self):
        return _ops.sin(self)

    def cos(self):
        return _ops.cos(self)

    def log1p(self):
        return _ops.log1p(self)

    def expm1(self):
        return _ops.expm1(self)

    def isnan(self):
        return _ops.isnan(self)

    def isinf(self):
        return _ops.isinf(self)

    # comparisons by name
    def eq(self, other):
        return _ops.equal(self, other)

    def ne(self, other):
        return _ops.not_equal(self, other)

    def lt(self, other):
        return _ops.less(self, other)

    def le(self, other):
        return _ops.less_equal(self, other)

    def gt(self, other):
        return _ops.greater(self, other)

    def ge(self, other):
        return _ops.greater_equal(self, other)

    # shapes
    def view(self, *shape):
        """``reshape`` under PyTorch's name: ``x.view(2, -1)`` or ``x.view((2, -1))``."""
        return _ops.reshape(self, shape[0] if len(shape) == 1 else shape)

    def view_as(self, other: Node) -> Node:
        """This node reshaped to ``other``'s shape."""
        return _ops.reshape(self, other.shape)

    def squeeze(self, *args, **kwargs):
        """Drop length-1 axes (all, or those of ``axis``/``dim``)."""
        return _ops.squeeze(self, *args, **kwargs)

    def unsqueeze(self, dim: int) -> Node:
        """Insert a length-1 axis at ``dim`` (``expand_dims``)."""
        return _ops.expand_dims(self, dim)

    def permute(self, *dims):
        """``transpose`` with the new order of all axes: ``x.permute(2, 0, 1)``."""
        return _ops.transpose(self, dims[0] if len(dims) == 1 else dims)

    def expand(self, *sizes):
        """``broadcast_to`` under PyTorch's name; -1 keeps an axis' length."""
        sizes = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: {len(sizes)} sizes for a node with {self.ndim} dimensions")
        shape = tuple(self.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
        return _ops.broadcast_to(self, shape)

    def repeat(self, *sizes):
        """PyTorch's ``Tensor.repeat``: the whole node tiled ``sizes`` times (numpy's ``tile``)."""
        return _ops.tile(self, tuple(sizes[0]) if len(sizes) == 1 and not _is_int(sizes[0]) else sizes)

    def tile(self, reps):
        return _ops.tile(self, reps)

    def repeat_interleave(self, repeats, axis=None, **kwargs):
        return _ops.repeat_interleave(self, repeats, axis, **kwargs)

    def flip(self, *args, **kwargs):
        return _ops.flip(self, *args, **kwargs)

    def roll(self, *args, **kwargs):
        return _ops.roll(self, *args, **kwargs)

    def tril(self, *args, **kwargs):
        return _ops.tril(self, *args, **kwargs)

    def triu(self, *args, **kwargs):
        return _ops.triu(self, *args, **kwargs)

    def split(self, *args, **kwargs):
        """``tg.split``: pieces of a given length (PyTorch's rule)."""
        return _ops.split(self, *args, **kwargs)

    def chunk(self, *args, **kwargs):
        return _ops.chunk(self, *args, **kwargs)

    def gather(self, dim, index):
        return _ops.gather(self, dim, index)

    def scatter_add(self, dim, index, src):
        return _ops.scatter_add_dim(self, dim, index, src)

    def masked_fill(self, mask, value):
        return _ops.masked_fill(self, mask, value)

    # dtypes and sizes
    def float(self) -> Node:
        """This node as float32 (``astype``)."""
        return _ops.astype(self, np.float32)

    def double(self) -> Node:
        """This node as float64."""
        return _ops.astype(self, np.float64)

    def long(self) -> Node:
        """This node as int64."""
        return _ops.astype(self, np.int64)

    def int(self) -> Node:
        """This node as int32."""
        return _ops.astype(self, np.int32)

    def bool(self) -> Node:
        """This node as booleans."""
        return _ops.astype(self, np.bool_)

    def to(self, *args: Any, dtype: Any = None) -> Node:
        """PyTorch's ``x.to(dtype)`` / ``x.to("cpu")``: a dtype converts (``astype``), the CPU is a no-op.

        tinygraph computes with numpy on the CPU, so any other device is an error.
        """
        for arg in args:
            if str(arg) == "cpu" or arg is None:
                continue
            if dtype is not None:
                raise TypeError(f"to: got two dtypes, {dtype!r} and {arg!r}")
            try:
                dtype = np.dtype(arg)
            except TypeError:
                raise TypeError(
                    f"to: tinygraph computes with numpy on the CPU; got {arg!r} (use 'cpu' or a dtype)"
                ) from None
        return self if dtype is None else _ops.astype(self, dtype)

    def cpu(self) -> Node:
        """This node itself (tinygraph computes on the CPU), for PyTorch's ``x.cpu()``."""
        return self

    def numel(self) -> int:
        """The number of elements."""
        return int(np.size(self._value))

    def dim(self) -> int:
        """The number of axes (``ndim``)."""
        return self.ndim

    # operators on booleans and integers, and floor division and remainder
    def __and__(self, other):
        return _ops.bitwise_and(self, other)

    def __rand__(self, other):
        return _ops.bitwise_and(other, self)

    def __or__(self, other):
        return _ops.bitwise_or(self, other)

    def __ror__(self, other):
        return _ops.bitwise_or(other, self)

    def __xor__(self, other):
        return _ops.bitwise_xor(self, other)

    def __rxor__(self, other):
        return _ops.bitwise_xor(other, self)

    def __invert__(self):
        return _ops.bitwise_not(self)

    def __floordiv__(self, other):
        return _ops.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ops.floor_divide(other, self)

    def __mod__(self, other):
        return _ops.remainder(self, other)

    def __rmod__(self, other):
        return _ops.remainder(other, self)

    def __array_function__(self, func, types, args, kwargs):
        """Route numpy functions on Nodes (``np.sum(x)``, ``np.concatenate([x, y])``) to tinygraph ops."""
        return _call_numpy_function(func, args, kwargs)


class Size(int):
    """A node's number of elements (numpy's ``x.size``), also callable as PyTorch's ``x.size()``.

    ``x.size == 6`` and ``x.size * 2`` are plain integer arithmetic; ``x.size()`` is the shape
    tuple and ``x.size(d)`` the length of axis ``d``, as in PyTorch.
    """

    shape: tuple[int, ...]

    def __new__(cls, n: int, shape: tuple[int, ...]) -> Size:
        obj = super().__new__(cls, n)
        obj.shape = tuple(shape)
        return obj

    def __getnewargs__(self) -> tuple[int, tuple[int, ...]]:  # pickling and copying
        return int(self), self.shape

    def __call__(self, dim: int | None = None) -> Any:
        if dim is None:
            return self.shape
        if not -len(self.shape) <= dim < len(self.shape):
            raise IndexError(f"size: dimension {dim} is out of range for shape {self.shape}")
        return self.shape[dim]


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def fill(
    node: Node,
    value: Any,
    requires_grad: bool,
    op: OpDef | None,
    parents: tuple[Node, ...],
    attrs: dict[str, Any] | None,
    saved: Any,
    name: str | None,
    scope: tuple[ScopeFrame, ...] | None,
    constant: bool,
) -> None:
    """Set every slot of ``node``: the one place a Node's slots are filled.

    ``Node(...)`` (a leaf), ``registry.constant`` and ``registry.apply`` (an op's output) and the
    view model's copies all make their nodes with it, so a new slot is added here once. Arguments
    are positional and unchecked: it is on the forward hot path (``apply``). The gradient slots
    (``_grad``, ``_grad_in``) always start empty.

    Every node is of the one class ``Node`` (a constant is marked by ``constant``, not by a
    subclass): CPython specialises each attribute store here for one class, and alternating two
    classes through it made every op about 0.5 µs slower.
    """
    node._value = value
    node._grad = None
    node._grad_in = None
    node.requires_grad = requires_grad
    node._opdef = op
    node.parents = parents
    node.attrs = attrs
    node.saved = saved
    node.name = name
    node.scope = scope
    node._constant = constant


# ------------------------------------------------------------------ the one late binding
# Node's operators (``x + y``, ``x @ w``, ``x.sum()``) and ``backward()`` run the ops and the
# engine, which sit above this module and import it. So that imports only ever look down, node.py
# imports nothing above ``_state``: the engine module, the top of the core, hands the ops and itself
# over once, when it is imported (``tinygraph.autodiff`` calls :func:`bind_engine`; importing any part
# of tinygraph imports it). tests/test_architecture.py checks that this is the only such call.
_ops: Any = None  # the module tinygraph.ops
_apply: Any = None  # tinygraph.registry.apply, the forward hot path the arithmetic operators call
_backward: Any = None  # tinygraph.autodiff.backward
_call_numpy_function: Any = None  # tinygraph.numpy_functions.call_numpy_function (np.sum(node), ...)
_OPS_ADD: Any = None
_OPS_SUB: Any = None
_OPS_MUL: Any = None
_OPS_DIV: Any = None
_OPS_MATMUL: Any = None
_OPS_TANH: Any = None
_OPS_RELU: Any = None


def bind_engine(ops: Any, apply: Any, backward: Any, call_numpy_function: Any) -> None:
    """Give Node's operators and ``backward()`` the ops and the engine (the one late binding).

    Parameters
    ----------
    ops : the module ``tinygraph.ops``; its entries ``add``, ``sub``, ``mul``, ``div``, ``matmul``,
        ``tanh`` and ``relu`` are looked up once, so those operators and methods call ``apply``
        directly (0.3 µs less per op than through the public functions' argument checks).
    apply : ``tinygraph.registry.apply``.
    backward : ``tinygraph.autodiff.backward``.
    call_numpy_function : ``tinygraph.numpy_functions.call_numpy_function``, where
        ``Node.__array_function__`` sends numpy's functions (``np.sum(node)``).
    """
    global _ops, _apply, _backward, _call_numpy_function, _OPS_ADD, _OPS_SUB, _OPS_MUL, _OPS_DIV
    global _OPS_MATMUL, _OPS_TANH, _OPS_RELU
    _ops, _apply, _backward, _call_numpy_function = ops, apply, backward, call_numpy_function
    _OPS_ADD, _OPS_SUB, _OPS_MUL, _OPS_DIV = (ops.add.opdef, ops.sub.opdef, ops.mul.opdef, ops.div.opdef)
    _OPS_MATMUL, _OPS_TANH, _OPS_RELU = ops.matmul.opdef, ops.tanh.opdef, ops.relu.opdef
