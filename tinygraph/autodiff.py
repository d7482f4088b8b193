"""Reverse-mode autodiff: iterative topological sort and the chain rule applied op by op.

For every node, taken in reverse topological order (each node after everything that uses it),
the gradient that has arrived at it is multiplied by each op's local derivative
(``OpDef.vjp``) and passed to the op's inputs:

    ∂L/∂xᵢ += vjpᵢ(∂L/∂z)      for each input xᵢ of  z = op(x₀, x₁, ...)

The engine, not the rules, sums each gradient back to its input's shape (unbroadcast) and checks
it. Nothing here recurses, so graphs of millions of nodes are fine.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygraph import _inplace, _scratch, ops
from tinygraph._state import reset_switches, set_switch, switches_now
from tinygraph.errors import BackwardError
from tinygraph.node import Node, as_array, bind_engine
from tinygraph.numpy_functions import call_numpy_function
from tinygraph.ops import ARRAY, GRAPH
from tinygraph.ops.axes import sum_to_axes
from tinygraph.registry import OpDef, apply, check_finite, constant


def toposort(roots: Sequence[Node], only_requires_grad: bool = True) -> list[Node]:
    """All nodes reachable from ``roots`` through ``parents``, each after all of its parents.

    Iterative depth-first search (no recursion limit). With ``only_requires_grad`` the walk
    keeps to nodes that gradients flow through.
    """
    # Memory matters at millions of nodes: the nodes themselves go into ``seen`` (identity hash,
    # no int object per node) and the stack is two parallel lists (no tuple per entry).
    order: list[Node] = []
    seen: set[Node] = set()
    stack: list[Node] = [r for r in reversed(roots) if r.requires_grad or not only_requires_grad]
    done: list[bool] = [False] * len(stack)  # done[i]: stack[i]'s parents are all in `order`
    append, pop, push, add = order.append, stack.pop, stack.append, seen.add
    pop_done, push_done = done.pop, done.append
    while stack:
        node = pop()
        if pop_done():
            append(node)
            continue
        if node in seen:
            continue
        add(node)
        push(node)
        push_done(True)
        for p in node.parents:
            if (p.requires_grad or not only_requires_grad) and p not in seen:
                push(p)
                push_done(False)
    return order


class _CollectorPause:
    """Pause Python's cyclic garbage collector while any backward pass runs, thread-safely.

    ``gc.disable()`` is process-wide, so with passes running in several threads each one saving
    and restoring ``gc.isenabled()`` on its own would go wrong: the first to finish re-enables the
    collector under the others, and one that started while another had paused it would restore
    "disabled" for good. Instead a lock guards a count of running passes: the first one in records
    whether the collector was on and pauses it; the last one out restores what the first one found.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._restore = False

    def __enter__(self) -> None:
        with self._lock:
            if self._running == 0:
                self._restore = gc.isenabled()
                gc.disable()
            self._running += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._running -= 1
            if self._running == 0 and self._restore:
                self._restore = False
                gc.enable()


#: The one pause of the collector, for backward and for anything else that builds a large graph of
#: Python objects that are not garbage (the explorer's recording): ``with GC_PAUSE: ...``.
GC_PAUSE = _CollectorPause()


def _seed(root: Node, grad: Any, create_graph: bool, caller: str, position: int = 0) -> Any:
    """The gradient that starts backward at ``root``: ``grad``, or 1 for a one-element root."""
    if not isinstance(root, Node):
        raise TypeError(f"{caller}: output {position} is a {type(root).__name__}, not a tinygraph Node")
    if not root.requires_grad:
        raise BackwardError(
            f"{caller}: output {position} (shape {root.shape}) does not require grad: none of the "
            "nodes it was computed from has requires_grad=True, or it was computed under no_grad()"
        )
    if grad is None:
        if np.size(root._value) != 1:
            raise BackwardError(
                f"{caller}: output {position} has shape {root.shape}; a gradient can be implied only "
                f"for a one-element output (a loss). Pass the gradient of your objective w.r.t. it, "
                f"an array of shape {root.shape} (np.ones({root.shape}) sums the outputs), or "
                "reduce the output first, e.g. out.sum().backward()"
            )
        seed = np.ones(root.shape, dtype=root.dtype)
        return constant(seed) if create_graph else seed  # the shape is right by construction
    elif isinstance(grad, Node):
        if not create_graph:
            seed = grad.data.astype(root.dtype, copy=False)
        else:
            seed = grad if grad.dtype == root.dtype else grad.astype(root.dtype)
    else:
        seed = np.asarray(grad, dtype=root.dtype)
    if tuple(seed.shape) != root.shape:
        raise BackwardError(
            f"{caller}: the gradient for output {position} has shape {tuple(seed.shape)}, but the "
            f"output has shape {root.shape}"
        )
    if create_graph and not isinstance(seed, Node):
        seed = constant(seed)
    return seed


def _unbroadcast_to(gp: Any, parent: Node, opdef: OpDef, index: int, xp: Any) -> Any:
    """Sum a rule's result back to its input's shape (unbroadcast) and dtype, or fail loudly."""
    shape = parent._value.shape  # (the caller has read it: an array or a numpy scalar)
    if type(gp) is np.ndarray and gp.shape[1:] == shape and gp.ndim == len(shape) + 1:
        gp = np.add.reduce(gp, axis=0)  # a bias added to a batch, the usual case, without the axis search
    elif gp.shape != shape:
        axes, ok = sum_to_axes(tuple(gp.shape), shape)
        if not ok:
            raise BackwardError(
                f"{opdef.name}: the gradient for input {index} has shape {tuple(gp.shape)}, which "
                f"cannot be summed to the input's shape {shape}"
            )
        if type(gp) is np.ndarray:  # raw arrays: sum_to's own reduction, without its dispatch
            lead = gp.ndim - len(shape)
            if len(axes) == lead:  # only leading axes (a bias): the result has the shape already
                gp = np.add.reduce(gp, axis=axes)
            else:
                gp = np.add.reduce(gp, axis=axes, keepdims=True).reshape(shape)
        else:
            gp = xp.sum_to(gp, shape)
    dtype = parent._value.dtype
    if gp.dtype != dtype:
        gp = xp.astype(gp, dtype)
    return gp


def _propagate(
    roots: Sequence[Node],
    seeds: Sequence[Any],
    create_graph: bool,
    targets: dict[int, Node] | None = None,
    trace: dict[str, dict] | None = None,
) -> dict[int, Any]:
    """Run the chain rule from ``roots``: ``∂L/∂xᵢ += vjpᵢ(∂L/∂z)`` for every op ``z = op(x₀, x₁, ...)``.

    Where the gradients go (the *sink*): without ``targets``, a gradient reaching a leaf
    accumulates into ``leaf.grad`` (:func:`_give_to_leaf`). With ``targets`` (id -> node), their
    gradients are returned instead and no ``.grad`` is touched (:class:`_Capture`). With ``trace``,
    every node's gradient (``trace["nodes"]``) and every edge's
    (``trace["edges"][(id(child), input_index)]``) is recorded too, for rendering (:class:`_Trace`).
    """
    watch = (
        _Trace(trace, targets) if trace is not None else _Capture(targets) if targets is not None else None
    )
    to_leaves = targets is None
    # The pass makes no reference cycles; pausing the cyclic collector spares it rescanning the
    # whole graph as the pass allocates (about half the time of a 100,000-node backward).
    order: list[Node] = list(roots)
    finished = False
    GC_PAUSE.__enter__()
    try:
        order = toposort(roots)
        if _inplace.MODIFIED:  # a leaf was edited in place since an op recorded it
            _inplace.check_unmodified(order)
        xp = GRAPH if create_graph else ARRAY
        switches = switches_now()
        anomaly = switches.anomaly
        for root, seed in zip(roots, seeds):
            root._grad_in = seed if root._grad_in is None else root._grad_in + seed
        # rules record (create_graph) or not, whatever the caller's mode: set it for the pass
        recording = bool(create_graph)
        mode = None if switches.grad_enabled == recording else set_switch("grad_enabled", recording)
        try:
            for node in reversed(order):  # each node after every node that uses it
                g = node._grad_in  # ∂L/∂node, complete: every use of the node has sent its share
                opdef = node._opdef
                if opdef is None:  # a leaf: every op that reads it is done
                    _inplace.unlock(node._value)  # so edits (an optimizer's) are fine again
                    if g is not None:
                        if watch is not None:
                            watch.node(node, g)
                        g = None  # the leaf step takes the gradient over from node._grad_in
                        if to_leaves:
                            _give_to_leaf(node)
                        else:
                            node._grad_in = None
                    continue
                if g is None:
                    continue
                if watch is not None:
                    watch.node(node, g)
                node._grad_in = None
                parents = node.parents
                attrs = node.attrs
                if opdef.saves:  # raw arrays: when the backward is recorded, rules recompute them
                    attrs = {**(attrs or {}), "saved": None if create_graph else node.saved}
                if create_graph:
                    out, inputs = node, parents
                elif len(parents) == 2:
                    out, inputs = node._value, (parents[0]._value, parents[1]._value)
                elif len(parents) == 1:
                    out, inputs = node._value, (parents[0]._value,)
                else:
                    out, inputs = node._value, [p._value for p in parents]
                variadic = opdef.variadic_vjp
                rules = opdef.vjp
                for i, p in enumerate(parents):
                    if not p.requires_grad:
                        continue
                    rule = rules[i] if variadic is None else opdef.rule(i)  # plain lookup: hot path
                    # the local derivative: gp = ∂L/∂z · ∂z/∂pᵢ
                    gp = rule(xp, g, out, *inputs, **attrs) if attrs else rule(xp, g, out, *inputs)
                    value = p._value
                    if gp.shape != value.shape or gp.dtype != value.dtype:
                        gp = _unbroadcast_to(gp, p, opdef, i, xp)
                    if anomaly:
                        _check_gradient(gp, g, node, create_graph)
                    if watch is not None:
                        watch.edge(node, i, gp)
                    acc = p._grad_in  # ∂L/∂p is summed over p's uses
                    if acc is None:
                        p._grad_in = gp
                    elif type(acc) is np.ndarray and acc.flags.writeable:
                        p._grad_in = None  # so that `acc` is the only holder if nobody else is
                        if _scratch.only_held_by_caller(acc):
                            np.add(acc, gp, out=acc)  # in place: no one else can see the sum
                        else:
                            acc = acc + gp
                        p._grad_in = acc
                    else:
                        p._grad_in = acc + gp
                gp = acc = None  # so that a leaf can tell it is the only holder of its gradient
            finished = True  # every node's gradient was handed on and cleared, every leaf unlocked
        finally:
            if mode is not None:
                reset_switches(mode)
    finally:
        if not finished:  # stopped by an error: drop the partial gradients, unlock every leaf
            for node in order:
                node._grad_in = None
                if node._opdef is None:
                    _inplace.unlock(node._value)
        GC_PAUSE.__exit__()
    return watch.captured if watch is not None else {}


class _Capture:
    """The sink of :func:`grad`: the gradients of the ``targets`` (id -> node), kept by id."""

    def __init__(self, targets: dict[int, Node] | None) -> None:
        self.targets = targets or {}
        self.captured: dict[int, Any] = {}

    def node(self, node: Node, g: Any) -> None:
        if id(node) in self.targets:
            self.captured[id(node)] = g

    def edge(self, node: Node, index: int, g: Any) -> None:
        pass


class _Trace(_Capture):
    """The sink of :func:`trace_backward`: every node's and every edge's gradient, for rendering."""

    def __init__(self, trace: dict[str, dict], targets: dict[int, Node] | None) -> None:
        super().__init__(targets)
        self.nodes, self.edges = trace["nodes"], trace["edges"]

    def node(self, node: Node, g: Any) -> None:
        super().node(node, g)
        self.nodes[id(node)] = g

    def edge(self, node: Node, index: int, g: Any) -> None:
        self.edges[(id(node), index)] = g


def _check_gradient(gp: Any, g: Any, node: Node, create_graph: bool) -> None:
    """detect_anomaly: fail on a non-finite gradient, naming the op that made it."""
    check_finite(gp.data if create_graph else gp, node._opdef, "backward", [as_array(g)], node.scope)


def _give_to_leaf(leaf: Node) -> None:
    """Move the gradient waiting at ``leaf`` (``leaf._grad_in``) into ``leaf.grad``.

    When nothing but this step holds the array (``_scratch.only_held_by_caller``: no node, view
    or caller can see it), the leaf keeps it as it is; otherwise it is copied.
    """
    g = leaf._grad_in
    leaf._grad_in = None
    if leaf._grad is None and type(g) is np.ndarray and _scratch.only_held_by_caller(g):
        leaf._grad = g  # the common case (a fresh gradient nobody else sees), in one step
        return
    _accumulate_leaf(leaf, g)


def _accumulate_leaf(leaf: Node, g: Any) -> None:
    """Add ``g`` into ``leaf.grad``, owning a copy of it if it is the first gradient."""
    value = g.data if isinstance(g, Node) else g
    if leaf._grad is None:
        # Own the first gradient: it may be the very array another node or the caller holds.
        # (Into reusable memory: `.grad = None` each step would otherwise free and refault it.)
        if type(value) is np.ndarray:
            if value.nbytes >= _scratch.MIN_BYTES:
                copy = _scratch.empty(value.shape, value.dtype)
                np.copyto(copy, value)
                value = copy
            else:
                value = value.copy()
        leaf._grad = value
    else:
        leaf._grad = leaf._grad + value


def backward(root: Node, grad: Any = None, create_graph: bool = False) -> None:
    """Accumulate ``d(root)/d(leaf)`` into ``leaf.grad`` for every leaf that requires grad.

    Calling it twice adds the second result to the first (as PyTorch does); reset with
    ``leaf.grad = None`` or an optimizer's ``zero_grad()``. Intermediate nodes keep no gradient.
    """
    seed = _seed(root, grad, create_graph, "backward")
    _propagate([root], [seed], create_graph)


def _as_nodes(value: Any, caller: str, what: str) -> tuple[Node, ...]:
    nodes = (value,) if isinstance(value, Node) else tuple(value)
    for i, n in enumerate(nodes):
        if not isinstance(n, Node):
            raise TypeError(f"{caller}: {what} {i} is a {type(n).__name__}, not a tinygraph Node")
    return nodes


def grad(
    outputs: Node | Sequence[Node],
    inputs: Node | Sequence[Node],
    grad_outputs: Any = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Node | None, ...]:
    """Gradients of ``outputs`` w.r.t. ``inputs``, returned (``.grad`` is left untouched).

    Computes ``Σ_k grad_outputs[k] · ∂outputs[k]/∂inputs[i]`` for each input.

    Parameters
    ----------
    outputs : Node or sequence of Node
    inputs : Node or sequence of Node
    grad_outputs : array_like or sequence of them, optional
        Gradient w.r.t. each output; may be omitted for one-element outputs (taken as 1).
    create_graph : bool
        Record the backward pass, so the returned gradients can be differentiated again and
        rendered.
    allow_unused : bool
        Return None for an input the outputs do not depend on, instead of raising.

    Returns
    -------
    tuple of Node (or None for unused inputs with ``allow_unused``)
    """
    outs = _as_nodes(outputs, "grad", "output")
    ins = _as_nodes(inputs, "grad", "input")
    if grad_outputs is None:
        gos: Sequence[Any] = [None] * len(outs)
    elif isinstance(grad_outputs, (Node, np.ndarray)) or np.isscalar(grad_outputs):
        gos = [grad_outputs]
    else:
        gos = list(grad_outputs)
    if len(gos) != len(outs):
        raise ValueError(f"grad: {len(outs)} outputs but {len(gos)} grad_outputs")
    for i, n in enumerate(ins):
        if not n.requires_grad:
            raise BackwardError(f"grad: input {i} (shape {n.shape}) does not require grad")
    seeds = [_seed(o, go, create_graph, "grad", k) for k, (o, go) in enumerate(zip(outs, gos))]
    captured = _propagate(outs, seeds, create_graph, targets={id(n): n for n in ins})
    result: list[Node | None] = []
    for i, n in enumerate(ins):
        g = captured.get(id(n))
        if g is None:
            if not allow_unused:
                raise BackwardError(
                    f"grad: input {i} (shape {n.shape}) is not used to compute the outputs; pass "
                    "allow_unused=True to get None for it"
                )
            result.append(None)
        elif isinstance(g, Node):
            result.append(g)
        else:
            result.append(Node(as_array(g).copy()))
    return tuple(result)


def trace_backward(roots: Sequence[Node], grads: Sequence[Any] | None = None) -> dict[str, dict]:
    """Run backward without touching ``.grad`` and return every gradient it computed.

    Returns ``{"nodes": {id(node): grad}, "edges": {(id(child), input_index): grad}}`` — what a
    backward rendering labels its nodes and edges with.
    """
    grads = [None] * len(roots) if grads is None else list(grads)
    seeds = [_seed(r, g, False, "trace_backward", k) for k, (r, g) in enumerate(zip(roots, grads))]
    trace: dict[str, dict] = {"nodes": {}, "edges": {}}
    _propagate(list(roots), seeds, False, targets={}, trace=trace)
    return trace


bind_engine(
    ops, apply, backward, call_numpy_function
)  # the one late binding: Node's operators and backward() (see node.py)
