"""The op registry: every primitive and composite op, declared once, with the inputs it is tested on.

A primitive is declared by decorating its numpy forward function::

    @primitive(
        "tanh",
        formula="z = tanh(x)\\ndz/dx = 1 - z^2",
        vjp=(lambda xp, g, z, x: g * (1 - z * z),),
        samples=(Sample((3, 4)),),
    )
    def tanh(x):
        return np.tanh(x)

``vjp`` holds one local-derivative rule per input, side by side with the forward. A rule receives
``xp`` (the namespace it computes with), the incoming gradient ``g``, the output ``z``, the inputs
and the op's keyword attributes, and returns ``g · ∂z/∂input`` (a vector-Jacobian product). Rules are
written with operators and ``xp.<fn>`` only, so the same rule runs on raw arrays (fast backward) and
on Nodes (``create_graph=True``: the backward pass is itself recorded, for second derivatives and
for rendering). ``None`` marks an input with no gradient (an index, a condition).

A primitive declared with ``saves=True`` returns ``(value, saved)``: ``saved`` holds what its
forward computed on the way that the backward needs again (a softmax, say); it is kept in the
output node's ``saved`` slot (not among its attributes) and reaches the rules as the keyword
``saved``. It is raw arrays, so it reaches the rules on raw arrays only: when the backward
is recorded (``create_graph=True``) the rules get ``saved=None`` and recompute it with ``xp`` ops, so
it can be differentiated again.

A *fused* primitive (``fuses="cross_entropy"``) computes a whole composite in one op, for speed; it
takes the composite's arguments, and the composite calls it except inside
:func:`tinygraph.decompose`. Tests check that both agree, and renderings open a fused call into the
composite's definition.

Gradients are reduced back to each input's shape (unbroadcast) once, in the engine, not in the rules.

Composite ops (softmax, conv2d, ...) are plain Python functions of primitives registered with
:func:`composite`: each call is recorded under a named scope so a rendering can collapse it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

from tinygraph import _inplace
from tinygraph._inputs import (
    FLOAT64,
    FLOAT64_SCALAR,
    NDARRAY,
    float32_unless_float64_input,
)
from tinygraph._state import ScopeFrame, in_scope, scope_path, switches_now
from tinygraph.errors import AnomalyError, OpError, TinygraphError, op_error_class
from tinygraph.node import Node, fill, refuse_node_sequence

Rule = Callable[..., Any]


@dataclass(frozen=True)
class Sample:
    """Inputs an op is checked on by the test suite.

    Each positional entry is either a shape tuple (a random float64 input in ``domain`` that
    requires grad) or any other value (passed as is: an index, a bool mask, a Node constant).

    Parameters
    ----------
    args : shape tuples or values
    attrs : keyword arguments of the op
    domain : (low, high) of the uniform random values, or "nonzero" for values with magnitude in
        [0.2, 2] and random sign (kept away from kinks such as relu's and abs's at 0).
    second_order : whether second derivatives are checked too.
    """

    args: tuple[Any, ...]
    attrs: dict[str, Any] = field(default_factory=dict)
    domain: tuple[float, float] | str = (-2.0, 2.0)
    second_order: bool = True

    def __init__(self, *args: Any, domain: Any = (-2.0, 2.0), second_order: bool = True, **attrs: Any):
        object.__setattr__(self, "args", args)
        object.__setattr__(self, "attrs", attrs)
        object.__setattr__(self, "domain", domain)
        object.__setattr__(self, "second_order", second_order)

    def make_inputs(self, rng: np.random.Generator) -> list[Any]:
        """Build the sample's inputs: float64 leaves requiring grad for shapes, others as given."""
        inputs = []
        for arg in self.args:
            if isinstance(arg, tuple) and all(isinstance(d, int) for d in arg):
                if self.domain == "nonzero":
                    mag = rng.uniform(0.2, 2.0, size=arg)
                    value = mag * rng.choice([-1.0, 1.0], size=arg)
                else:
                    value = rng.uniform(*self.domain, size=arg)
                inputs.append(Node(np.asarray(value, dtype=np.float64), requires_grad=True))
            else:
                inputs.append(arg)
        return inputs


@dataclass
class OpDef:
    """One registry entry.

    Attributes
    ----------
    name : the op's name, shown in errors and renderings.
    kind : "primitive" or "composite".
    array_fn : what computes the op. For a primitive, its numpy forward on raw arrays (the entry
        ``ARRAY.<name>`` that rules call in the fast backward); for a composite, its undecorated
        Python function.
    graph_fn : what users call: it takes Nodes (or array-likes) and records the op into the graph
        (for a primitive the entry ``GRAPH.<name>``; for a composite, under a named scope).
    vjp : one local-derivative rule per input (primitives); ``None`` for an input with no gradient.
    variadic_vjp : for ops taking any number of inputs (concatenate, stack), one rule taking the
        input's index first.
    formula : the math, shown in docs and rendered derivative chains.
    samples : inputs the test suite checks the op on.
    differentiable : False for comparisons and other ops whose result never needs grad.
    saves : the forward returns ``(value, saved)``; rules receive ``saved`` as a keyword.
    fuses : for a fused primitive, the name of the composite it computes in one op.
    """

    name: str
    kind: str
    array_fn: Callable[..., Any]
    vjp: tuple[Rule | None, ...] = ()
    variadic_vjp: Rule | None = None
    formula: str = ""
    samples: tuple[Sample, ...] = ()
    differentiable: bool = True
    saves: bool = False
    fuses: str | None = None
    graph_fn: Callable[..., Any] | None = None

    def rule(self, index: int) -> Rule | None:
        """The local-derivative rule for input ``index``."""
        if self.variadic_vjp is not None:
            return functools.partial(self.variadic_vjp, index=index)
        return self.vjp[index] if index < len(self.vjp) else None

    @property
    def doc(self) -> str:
        fn = self.graph_fn or self.array_fn
        return (fn.__doc__ or "").strip()


REGISTRY: dict[str, OpDef] = {}

ARRAY = SimpleNamespace()
"""Every primitive's numpy forward, by name: what rules compute with on raw arrays (the fast backward)."""
GRAPH = SimpleNamespace()
"""Every primitive's recording function, by name: what rules compute with on Nodes (``create_graph``).

A primitive enters both when it is declared, so a rule's ``xp.<name>`` finds every primitive, whichever
module declared it and whenever it was imported.
"""


def _register(opdef: OpDef) -> None:
    if opdef.name in REGISTRY:
        raise ValueError(f"op {opdef.name!r} is registered twice")
    REGISTRY[opdef.name] = opdef


_SHARED_CONSTANTS: dict[Any, Node] = {}
"""The constant node last made for each Python number object; see :func:`constant`."""
_SHARED_LIMIT = 1024


def constant(value: Any) -> Node:
    """Wrap a non-Node operand (Python number, numpy scalar or array) as a constant node.

    Python numbers are kept as they are, so numpy's promotion treats them as "weak" scalars
    (``float32_node * 0.5`` stays float32), exactly as with numpy arrays.

    The same Python ``int`` or ``float`` object used again in the same scope (the same composite
    call, or outside any) gets the same node back: ``y = y * 1.0001`` repeated a million times
    records one constant, not a million (about 130 bytes each). Numbers are immutable, so sharing
    changes no value or gradient; a composite call's constants stay its own, and a constant whose
    value was replaced (``.data`` makes it an array) or that was made to require grad is not
    handed out again.
    """
    cls = value.__class__
    if cls is float or cls is int:
        frames = switches_now().scope
        node = _SHARED_CONSTANTS.get(value)
        if node is not None and node._value is value and node.scope is frames and not node.requires_grad:
            return node
        node = Node.__new__(Node)
        fill(node, value, False, None, (), None, None, None, frames, True)
        if len(_SHARED_CONSTANTS) >= _SHARED_LIMIT:
            _SHARED_CONSTANTS.clear()
        _SHARED_CONSTANTS[value] = node
        return node
    if not isinstance(value, (int, float, bool, complex, np.ndarray, np.generic)):
        refuse_node_sequence(value, "op input")  # np.asarray would drop the Nodes' graph
        value = np.asarray(value)
    node = Node.__new__(Node)
    fill(node, value, False, None, (), None, None, None, switches_now().scope, True)
    return node


def describe_inputs(values: Sequence[Any]) -> str:
    """Shapes and dtypes of op inputs for error messages, e.g. ``'(3, 4) float32 and (5, 6) float32'``."""
    parts = []
    for v in values:
        if isinstance(v, (np.ndarray, np.generic)):
            parts.append(f"{tuple(v.shape)} {v.dtype}")
        elif isinstance(v, (int, float, bool)):
            parts.append(f"scalar {v!r}")
        else:
            parts.append(type(v).__name__)
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1] if parts else "no inputs"


def op_error(opdef: OpDef, values: Sequence[Any], exc: Exception) -> OpError:
    """An OpError for a failed forward: the op, the module and composite calls around it, the input shapes."""
    message = str(exc)
    if not message.startswith(f"{opdef.name}:"):
        message = f"{opdef.name}: cannot apply to inputs {describe_inputs(values)}: {message}"
    path = scope_path(switches_now().scope, modules=True)  # 'Net > fc: Linear > linear'
    return op_error_class(exc)(f"{message} (inside {path})" if path else message)


def _where(opdef: OpDef, frames: tuple[ScopeFrame, ...] | None) -> str:
    path = scope_path(frames, modules=True)
    return f"{opdef.name} (inside {path})" if path else opdef.name


def apply(opdef: OpDef, args: tuple[Any, ...], attrs: dict[str, Any] | None) -> Node:
    """Run a primitive on its inputs and record the result in the graph.

    This is the only place where nodes made by ops are created. It is the forward hot path, so
    one- and two-input ops avoid building intermediate lists.
    """
    n = len(args)
    if n == 2:
        x, y = args
        if not isinstance(x, Node):
            x = constant(x)
        if not isinstance(y, Node):
            y = constant(y)
        parents: tuple[Node, ...] = (x, y)
    elif n == 1:
        x = args[0]
        if not isinstance(x, Node):
            x = constant(x)
        parents = (x,)
    else:
        parents = tuple([a if isinstance(a, Node) else constant(a) for a in args])
    fn = opdef.array_fn
    try:  # the forward, called without building an argument list for one or two inputs
        if n == 2:
            value = fn(x._value, y._value, **attrs) if attrs else fn(x._value, y._value)
        elif n == 1:
            value = fn(x._value, **attrs) if attrs else fn(x._value)
        else:
            values = [p._value for p in parents]
            value = fn(*values, **attrs) if attrs else fn(*values)
    except TinygraphError:
        raise
    except (ValueError, TypeError, IndexError, np.exceptions.AxisError) as exc:
        raise op_error(opdef, [p._value for p in parents], exc) from exc
    saved = None
    if opdef.saves:
        value, saved = value
    kind = value.__class__  # (a numpy scalar's .dtype is slow: its class says it; names bound once)
    if kind is FLOAT64_SCALAR or (kind is NDARRAY and value.dtype is FLOAT64):
        # numpy's int → float64 promotion: float32 unless a float64 came in (tinygraph._inputs)
        value = float32_unless_float64_input(value, [p._value for p in parents], opdef.name)

    node = Node.__new__(Node)
    switches = switches_now()  # this thread's (tinygraph._state)
    frames = switches.scope
    if switches.grad_enabled:
        requires = False
        if opdef.differentiable:
            for p in parents:
                if p.requires_grad:
                    requires = True
                    if p._opdef is None and type(p._value) is np.ndarray:
                        # read-only until a backward has read it (already so: nothing to do, unless
                        # it was edited since, when locking it again clears the mark)
                        if p._value.flags.writeable or _inplace.MODIFIED:
                            _inplace.lock(p._value, p)
        fill(node, value, requires, opdef, parents, attrs, saved, None, frames, False)
    else:
        fill(node, value, False, None, (), None, None, None, frames, False)
    if switches.anomaly:
        check_finite(value, opdef, "forward", [p._value for p in parents], frames)
    return node


def check_finite(
    value: Any,
    opdef: OpDef,
    phase: str,
    inputs: Sequence[Any],
    frames: tuple[ScopeFrame, ...] | None,
) -> None:
    """Raise AnomalyError if ``value`` (an op's output) holds a nan or inf.

    The error names the op and ``frames``, the module and composite calls the op's node was made
    inside (``inside Net > conv1: Conv2d > conv2d``).
    """
    arr = np.asarray(value)
    if not np.issubdtype(arr.dtype, np.inexact) or np.isfinite(arr).all():
        return
    kind = "nan" if np.isnan(arr).any() else "inf"
    already = [
        i
        for i, v in enumerate(inputs)
        if np.issubdtype(np.asarray(v).dtype, np.inexact) and not np.isfinite(np.asarray(v)).all()
    ]
    note = f"; input {already[0]} already held a non-finite value" if already else ""
    raise AnomalyError(
        f"detect_anomaly: {_where(opdef, frames)} produced {kind} in the {phase} pass "
        f"(inputs {describe_inputs(inputs)}){note}"
    )


def primitive(
    name: str,
    *,
    formula: str,
    vjp: Sequence[Rule | None] = (),
    variadic_vjp: Rule | None = None,
    samples: Sequence[Sample] = (),
    differentiable: bool = True,
    saves: bool = False,
    fuses: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Node]]:
    """Register a primitive op; the decorated numpy function is its forward.

    The forward's first ``len(vjp)`` parameters are the op's array inputs (for a variadic op, its
    ``*inputs``); the parameters after them are attributes (axis, shape, index...). Returns the
    user-facing function: it takes Nodes or anything array-like, binds attributes given
    positionally or by keyword (defaults filled in, so rules see every attribute), and returns a
    Node.
    """

    def decorate(forward: Callable[..., Any]) -> Callable[..., Node]:
        opdef = OpDef(
            name=name,
            kind="primitive",
            array_fn=forward,
            vjp=tuple(vjp),
            variadic_vjp=variadic_vjp,
            formula=formula,
            samples=tuple(samples),
            differentiable=differentiable,
            saves=saves,
            fuses=fuses,
        )
        _register(opdef)
        params = list(inspect.signature(forward).parameters.values())
        n_inputs = None if variadic_vjp is not None else len(opdef.vjp)
        attr_params = [
            p
            for p in (params[n_inputs:] if n_inputs is not None else params)
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        attr_names = [p.name for p in attr_params]
        defaults = {p.name: p.default for p in attr_params if p.default is not p.empty}

        known = frozenset(attr_names)

        def bind(extra: tuple[Any, ...], attrs: dict[str, Any]) -> dict[str, Any]:
            if attrs and not _TORCH_KEYS.isdisjoint(attrs):
                attrs = torch_names(name, attrs, attr_names)
            if not known.issuperset(attrs):
                raise TypeError(f"{name}: unexpected keyword argument(s) {sorted(set(attrs) - known)}")
            if extra:
                if len(extra) > len(attr_names):
                    raise TypeError(
                        f"{name}: takes at most {len(attr_names)} attribute arguments, got {len(extra)}"
                    )
                bound = {**defaults, **dict(zip(attr_names, extra)), **attrs}
            else:
                bound = {**defaults, **attrs}
            if len(bound) != len(attr_names):
                raise TypeError(f"{name}: missing argument(s) {[n for n in attr_names if n not in bound]}")
            return bound

        if n_inputs is None:

            @functools.wraps(forward)
            def op(inputs: Sequence[Any], *extra: Any, **attrs: Any) -> Node:
                if isinstance(inputs, Node) or not isinstance(inputs, (list, tuple)):
                    raise TypeError(f"{name}: expects a list or tuple of nodes, got {type(inputs).__name__}")
                if not inputs:
                    raise OpError(f"{name}: needs at least one input")
                return apply(opdef, tuple(inputs), bind(extra, attrs))

        elif not attr_names:

            @functools.wraps(forward)
            def op(*args: Any) -> Node:
                if len(args) != n_inputs:
                    raise TypeError(f"{name}: takes {n_inputs} inputs, got {len(args)}")
                return apply(opdef, args, None)

        else:

            @functools.wraps(forward)
            def op(*args: Any, **attrs: Any) -> Node:
                if len(args) < n_inputs:
                    raise TypeError(f"{name}: takes {n_inputs} inputs, got {len(args)}")
                return apply(opdef, args[:n_inputs], bind(args[n_inputs:], attrs))

        op.opdef = opdef  # type: ignore[attr-defined]
        opdef.graph_fn = op
        setattr(ARRAY, name, forward)
        setattr(GRAPH, name, op)
        return op

    return decorate


def composite(
    name: str, *, formula: str = "", samples: Sequence[Sample] = ()
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a composite op: a Python function of primitives, recorded under a named scope.

    Every node the function makes carries a :class:`~tinygraph._state.ScopeFrame` for this call,
    so renderings can show the call as one box or open it into its primitives.
    """

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        wrapped = in_scope(name)(accept_torch_names(fn, name))
        opdef = OpDef(name=name, kind="composite", array_fn=fn, formula=formula, samples=tuple(samples))
        opdef.graph_fn = wrapped
        _register(opdef)
        wrapped.opdef = opdef  # type: ignore[attr-defined]
        return wrapped

    return decorate


# PyTorch's names for numpy's arguments: ``sum(x, dim=1, keepdim=True)`` is ``sum(x, axis=1, keepdims=True)``.
TORCH_NAMES = {
    "dim": "axis",
    "dims": "axis",
    "keepdim": "keepdims",
    "start_dim": "start_axis",
    "end_dim": "end_axis",
    "shifts": "shift",
    "diagonal": "k",
}
_TORCH_KEYS = TORCH_NAMES.keys()


def torch_names(op: str, kwargs: dict[str, Any], params: Sequence[str]) -> dict[str, Any]:
    """``kwargs`` with PyTorch's argument names (``dim``, ``keepdim``, ...) renamed to numpy's.

    Only names the op does not itself take are renamed, and only to names it does take. Giving
    both spellings of one argument is an error naming ``op``.
    """
    if not kwargs or TORCH_NAMES.keys().isdisjoint(kwargs):
        return kwargs
    out = dict(kwargs)
    for torch_name, numpy_name in TORCH_NAMES.items():
        if torch_name in out and torch_name not in params and numpy_name in params:
            if numpy_name in out:
                raise TypeError(
                    f"{op}: got both {numpy_name}= and {torch_name}= (PyTorch's name for it); pass one"
                )
            out[numpy_name] = out.pop(torch_name)
    return out


def accept_torch_names(fn: Callable[..., Any], op: str | None = None) -> Callable[..., Any]:
    """``fn`` also accepting PyTorch's argument names (see :data:`TORCH_NAMES`) for its numpy ones."""
    params = list(inspect.signature(fn).parameters)
    if not any(v in params and k not in params for k, v in TORCH_NAMES.items()):
        return fn
    label = op or fn.__name__

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **torch_names(label, kwargs, params))

    return wrapper
