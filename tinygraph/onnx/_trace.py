"""One forward pass, traced: the recorded nodes grouped into the composite calls they were made in.

Nothing here needs the ``onnx`` package: it reads only the public record of the graph
(``node.op``, ``node.parents``, ``node.attrs``, ``node.scope``), so the ONNX writer works on
calls and primitives instead of walking nodes itself. ``nn.Module`` calls, recorded as scope frames
of kind ``"module"``, are skipped: a call's depth counts composite calls only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygraph._state import ScopeFrame, composite_frames, enable_grad, scope_path
from tinygraph.node import Node


@dataclass
class Call:
    """One call of a composite: the nodes made inside it and where it meets the rest of the graph.

    Attributes
    ----------
    frame : the call's scope frame (``frame.name`` is the composite's registered name).
    depth : how many composite calls enclose it.
    nodes : the op-made nodes recorded inside the call (nested calls included), in graph order.
    inputs : the nodes from outside the call its nodes read, in order of first use (constants the
        call made itself are left out: they are part of its definition).
    outputs : the call's nodes read outside it, or returned by the traced function.
    """

    frame: ScopeFrame
    depth: int
    nodes: list[Node]
    inputs: list[Node] = field(default_factory=list)
    outputs: list[Node] = field(default_factory=list)
    last: int = -1  # where the call's last node is in the graph order it was split from

    @property
    def name(self) -> str:
        return self.frame.name

    @property
    def path(self) -> str:
        """The composite calls this call sits in, itself included: ``'cross_entropy > nll_loss'``."""
        return scope_path((composite_frames(self.nodes[0].scope) or ())[: self.depth + 1])

    def find(self, op: str) -> list[Node]:
        """The call's nodes made by the primitive ``op``, in graph order."""
        return [n for n in self.nodes if n.op == op]

    def contains(self, node: Node) -> bool:
        frames = composite_frames(node.scope)
        return bool(frames) and len(frames) > self.depth and frames[self.depth] is self.frame

    def tensor_inputs(self) -> list[Node]:
        """The inputs that are not constants (the values the caller passed in)."""
        return [n for n in self.inputs if not n.is_constant]


def module_path(node: Node) -> str:
    """The dotted path of the innermost ``nn.Module`` call ``node`` was made in (``"layers.0"``), or ``""``.

    The outermost model has no path (its frame is named by its class alone).
    """
    for frame in reversed(node.scope or ()):
        if frame.kind == "module":
            path, sep, _ = frame.name.rpartition(": ")
            return path if sep else ""
    return ""


def topological(outputs: Sequence[Node]) -> list[Node]:
    """Every node ``outputs`` depend on, parents before children (iterative: deep graphs are fine)."""
    order: list[Node] = []
    seen: set[int] = set()
    stack: list[tuple[Node, bool]] = [(n, False) for n in reversed(outputs)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((p, False) for p in reversed(node.parents) if id(p) not in seen)
    return order


def consumers(order: Iterable[Node]) -> dict[int, list[Node]]:
    """For each node (by id), the nodes in ``order`` that read it."""
    readers: dict[int, list[Node]] = {}
    for node in order:
        for p in node.parents:
            readers.setdefault(id(p), []).append(node)
    return readers


def split_calls(nodes: Sequence[Node], depth: int) -> tuple[list[Node | Call], dict[int, Call]]:
    """The op-made ``nodes`` at scope ``depth`` as units: bare primitives, and one Call per composite call.

    Returns the units in graph order (a call where its last node is, which is after its inputs'
    producers for a call that reads all its inputs before returning) and the calls by call id.
    """
    units: dict[int, Node | Call] = {}  # by a key that grows with the unit's last node
    calls: dict[int, Call] = {}
    for position, node in enumerate(nodes):
        frames = composite_frames(node.scope)
        if not frames or len(frames) <= depth:
            units[position] = node
            continue
        frame = frames[depth]
        call = calls.get(frame.call_id)
        if call is None:
            call = calls[frame.call_id] = Call(frame, depth, [])
        else:
            del units[call.last]
        call.nodes.append(node)
        call.last = position
        units[position] = call
    return [units[k] for k in sorted(units)], calls


def connect(call: Call, readers: dict[int, list[Node]], returned: set[int]) -> None:
    """Fill in ``call.inputs`` and ``call.outputs`` from the graph around it."""
    members = {id(n) for n in call.nodes}
    seen: set[int] = set()
    for node in call.nodes:
        for p in node.parents:
            if id(p) in members or id(p) in seen or (p.is_constant and call.contains(p)):
                continue
            seen.add(id(p))
            call.inputs.append(p)
        if id(node) in returned or any(id(r) not in members for r in readers.get(id(node), ())):
            call.outputs.append(node)


def flatten_outputs(result: Any) -> list[Node]:
    """The Nodes a traced function returned (one, or a tuple/list of them, nested)."""
    if isinstance(result, Node):
        return [result]
    if isinstance(result, (tuple, list)):
        nodes = []
        for item in result:
            nodes.extend(flatten_outputs(item))
        return nodes
    raise TypeError(
        f"onnx.export: the model must return a Node or a tuple of Nodes, got {type(result).__name__}"
    )


def trace(fn: Callable[..., Any], inputs: Sequence[Node]) -> list[Node]:
    """Run ``fn(*inputs)`` once with graph recording on and return the Nodes it returned."""
    with enable_grad():
        result = fn(*inputs)
    outputs = flatten_outputs(result)
    if not outputs:
        raise ValueError("onnx.export: the model returned no Node to export")
    return outputs


def as_input(value: Any) -> Node:
    """An example input as a new leaf Node of the same value and dtype (cut from any graph it was in)."""
    return Node(value.data if isinstance(value, Node) else np.asarray(value))
