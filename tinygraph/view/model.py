"""What a rendering (or a networkx export) shows of the recorded graph.

The graph is read straight from ``node.parents`` / ``node.op`` / ``node.scope``; this module only
decides, for one call, which recorded nodes are drawn as themselves and which disappear into the
box of a collapsed composite call, and which composite calls are opened as (nested) clusters.

A composite call is identified by its :class:`~tinygraph._state.ScopeFrame`. A node made inside the
calls ``(f0, f1, f2)`` (outermost first) is drawn inside the box of the first call that is not
opened, or as itself inside the clusters of ``f0, f1, f2`` when all of them are opened. Parameters
(leaves that require grad) are always drawn as themselves, since their names are the point.

``nn.Module`` calls are recorded as scope frames too (``frame.kind == "module"``). By default they
are skipped here, so the pictures show composite calls only; with ``modules=True`` a module call
is a box (or, opened, a cluster) like a composite call, named ``conv1: Conv2d``.

Everything here is iterative: graphs of any depth are fine.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tinygraph._state import ScopeFrame, composite_frames, decompose, set_grad_enabled, within
from tinygraph.autodiff import toposort
from tinygraph.node import Node, fill
from tinygraph.registry import REGISTRY
from tinygraph.view.labels import short

Expand = bool | int | Iterable[str]

#: Ops whose result does not depend on the order of their inputs: their edges carry no index.
COMMUTATIVE = frozenset({"add", "mul", "maximum", "minimum", "equal", "not_equal"})


@dataclass(eq=False)
class Box:
    """One collapsed composite call, drawn as a single box.

    Attributes
    ----------
    frame : the call's scope frame.
    depth : how many opened composite calls enclose it.
    nodes : the recorded nodes drawn inside it, in topological order.
    outputs : those of its nodes used outside it (or that are roots), in topological order.
    """

    frame: ScopeFrame
    depth: int
    nodes: list[Node] = field(default_factory=list)
    outputs: list[Node] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.frame.name


Item = Node | Box


@dataclass(eq=False)
class Edge:
    """One drawn edge: ``src`` feeds ``dst``.

    Attributes
    ----------
    src, dst : indices into :attr:`GraphView.items`.
    parent : the recorded node whose value flows along the edge.
    index : the argument position of ``parent`` in the op ``dst`` draws (None when ``dst`` is a box).
    links : the recorded edges it stands for, as ``(child, input_index)``.
    """

    src: int
    dst: int
    parent: Node
    index: int | None
    links: list[tuple[Node, int]] = field(default_factory=list)


@dataclass(eq=False)
class GraphView:
    """The drawable form of the graph behind some roots.

    Attributes
    ----------
    order : every recorded node reachable from the roots, parents before children.
    items : what is drawn, in topological order: Nodes and Boxes.
    item_of : ``id(node)`` -> index in ``items`` of what the node is drawn as.
    clusters : per item, the opened composite calls around it (outermost first).
    edges : the drawn edges.
    roots : indices of the items the roots are drawn as.
    """

    order: list[Node]
    items: list[Item]
    item_of: dict[int, int]
    clusters: list[tuple[ScopeFrame, ...]]
    edges: list[Edge]
    roots: list[int]


def is_parameter(node: Node) -> bool:
    """A leaf the user made that requires grad."""
    return node.op is None and node.requires_grad


def kind(node: Node) -> str:
    """``"parameter"``, ``"input"``, ``"constant"`` or ``"op"``: how a recorded node is drawn.

    Nodes made by an op under ``no_grad()`` (no parents recorded) count as inputs.
    """
    if node.op is not None:
        return "op"
    if node.requires_grad:
        return "parameter"
    return "constant" if node.is_constant else "input"


def check_roots(roots: tuple[Any, ...], caller: str) -> list[Node]:
    """The roots as a list of Nodes (one list or tuple of Nodes is unpacked), or a clear error."""
    if len(roots) == 1 and isinstance(roots[0], (list, tuple)):
        roots = tuple(roots[0])
    if not roots:
        raise TypeError(f"{caller}: needs at least one root Node (e.g. the loss)")
    for i, r in enumerate(roots):
        if not isinstance(r, Node):
            raise TypeError(f"{caller}: root {i} is a {type(r).__name__}, not a tinygraph Node")
    unique: dict[int, Node] = {}
    for r in roots:
        unique.setdefault(id(r), r)
    return list(unique.values())


def opener(expand: Expand, frames: Iterable[ScopeFrame], caller: str) -> Callable[[ScopeFrame, int], bool]:
    """Turn ``expand`` into a test ``is_open(frame, depth)``.

    ``False`` opens nothing, ``True`` everything, an int ``k`` the calls less than ``k`` levels deep,
    and a collection of names the calls of those composites.
    """
    if isinstance(expand, bool):
        return lambda frame, depth: expand
    if isinstance(expand, int):
        if expand < 0:
            raise ValueError(f"{caller}: expand={expand} must be a bool, a level >= 0 or a set of names")
        return lambda frame, depth: depth < expand
    if isinstance(expand, str):
        expand = {expand}
    try:
        names = frozenset(expand)
    except TypeError:
        raise TypeError(
            f"{caller}: expand must be a bool, an int or a set of composite names, "
            f"got {type(expand).__name__}"
        ) from None
    for n in names:
        if not isinstance(n, str):
            raise TypeError(f"{caller}: expand names must be strings, got {n!r}")
    present = {f.name for f in frames}
    unknown = sorted(n for n in names if n not in present and n not in REGISTRY)
    if unknown:
        raise ValueError(
            f"{caller}: expand names {unknown} that are not composites; the composite calls in this "
            f"graph are {sorted(present) or 'none'}"
        )
    return lambda frame, depth: frame.name in names


def drawn_scope(node: Node, modules: bool) -> tuple[ScopeFrame, ...] | None:
    """The calls a node is drawn inside: all its recorded frames, or (``modules=False``) its
    composite calls."""
    return node.scope if modules else composite_frames(node.scope)


def open_fused(
    roots: list[Node], expand: Expand, caller: str, modules: bool = False
) -> tuple[list[Node], dict[int, Node]]:
    """The graph behind ``roots`` with every fused call that ``expand`` opens replaced by its definition.

    A fused primitive (``softmax_cross_entropy`` for ``cross_entropy``) is recorded as one node. When
    its composite call is to be opened, the composite's definition in primitives is recorded again
    on the same inputs (inside :func:`tinygraph.decompose`, in the same enclosing calls), and every
    node downstream of it is copied to use the new result. The recorded graph is not changed.

    ``modules`` says whether module calls count as boxes that ``expand`` opens (as in
    :func:`build_view`). The new nodes are recorded in the same enclosing calls, module calls included.

    Returns the roots to draw, and ``id(old node) -> new node`` for every node replaced or copied.
    """
    order = toposort(roots, only_requires_grad=False)
    fused = [n for n in order if n._opdef is not None and n.scope and n.scope[-1].name == n._opdef.fuses]
    if not fused:
        return roots, {}
    drawn = {id(n): drawn_scope(n, modules) or () for n in order if n.scope}
    is_open = opener(expand, {id(f): f for frames in drawn.values() for f in frames}.values(), caller)
    opening = {id(n) for n in fused if all(is_open(f, depth) for depth, f in enumerate(drawn[id(n)]))}
    if not opening:
        return roots, {}
    new: dict[int, Node] = {}
    for node in order:
        if node._opdef is None:
            continue
        parents = tuple(new.get(id(p), p) for p in node.parents)
        if id(node) in opening:
            attrs = node.attrs or {}
            with decompose(), within(node.scope[:-1]), set_grad_enabled(True):
                out = REGISTRY[node._opdef.fuses].graph_fn(*parents, **attrs)
            out.name = node.name
            new[id(node)] = out
        elif any(p is not q for p, q in zip(parents, node.parents)):
            new[id(node)] = _with_parents(node, parents)
    return [new.get(id(r), r) for r in roots], new


def _with_parents(node: Node, parents: tuple[Node, ...]) -> Node:
    """A copy of the recorded ``node`` whose inputs are ``parents``."""
    copy = Node.__new__(Node)
    n = node
    fill(copy, n._value, n.requires_grad, n._opdef, parents, n.attrs, n.saved, n.name, n.scope, n._constant)
    return copy


def build_view(roots: list[Node], expand: Expand, caller: str, modules: bool = False) -> GraphView:
    """Work out what is drawn for ``roots`` with the given ``expand`` setting (see :func:`opener`).

    With ``modules`` the ``nn.Module`` calls are boxes too (``expand`` opens them as it opens
    composite calls: by depth, or by frame name such as ``"conv1: Conv2d"``); without, they are skipped.
    """
    order = toposort(roots, only_requires_grad=False)
    scopes = [drawn_scope(n, modules) for n in order]
    frames = {id(f): f for sc in scopes if sc for f in sc}
    is_open = opener(expand, frames.values(), caller)

    items: list[Item] = []
    clusters: list[tuple[ScopeFrame, ...]] = []
    item_of: dict[int, int] = {}
    box_of: dict[int, int] = {}
    open_cache: dict[int, bool] = {}
    for node, scope in zip(order, scopes):
        where: tuple[ScopeFrame, ...] = ()
        box_frame = None
        if scope:
            for depth, frame in enumerate(scope):
                key = id(frame)
                opened = open_cache.get(key)
                if opened is None:
                    opened = open_cache[key] = bool(is_open(frame, depth))
                if not opened:
                    box_frame = frame
                    break
            where = scope[:depth] if box_frame is not None else scope
        if box_frame is not None and not is_parameter(node):
            index = box_of.get(id(box_frame))
            if index is None:
                index = box_of[id(box_frame)] = len(items)
                items.append(Box(box_frame, len(where)))
                clusters.append(where)
            items[index].nodes.append(node)  # type: ignore[union-attr]
        else:
            index = len(items)
            items.append(node)
            clusters.append(where)
        item_of[id(node)] = index

    edges: dict[tuple[int, int, int], Edge] = {}
    is_output: set[int] = {id(r) for r in roots}
    for node in order:
        dst = item_of[id(node)]
        dst_is_box = isinstance(items[dst], Box)
        for i, p in enumerate(node.parents):
            src = item_of[id(p)]
            if src == dst:
                continue
            is_output.add(id(p))
            key = (src, dst, id(p) if dst_is_box else -1 - i)
            edge = edges.get(key)
            if edge is None:
                edge = edges[key] = Edge(src, dst, p, None if dst_is_box else i)
            edge.links.append((node, i))
    for item in items:
        if isinstance(item, Box):
            item.outputs = [n for n in item.nodes if id(n) in is_output]

    view = GraphView(order, items, item_of, clusters, list(edges.values()), [])
    _sort_items(view, roots)
    view.roots = list(dict.fromkeys(view.item_of[id(r)] for r in roots))
    return view


def _reading_order(view: GraphView, roots: list[Node]) -> list[int]:
    """Per item, its rank in a walk from the roots that visits each op's inputs in argument order.

    ``toposort`` meets the inputs of an op last one first; laid out in that order, ``a + b + c``
    draws ``c, b, a`` from left to right. Ranking by this walk instead keeps the order a reader
    wrote things in (first argument first, earlier time steps first).
    """
    rank = [len(view.order)] * len(view.items)
    seen: set[int] = set()
    stack = list(reversed(roots))
    counter = 0
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        item = view.item_of[id(node)]
        rank[item] = min(rank[item], counter)
        counter += 1
        stack.extend(reversed(node.parents))
    return rank


def _sort_items(view: GraphView, roots: list[Node]) -> None:
    """Renumber the items in a topological order of the drawn graph (Kahn): what is used at a
    smaller depth first, ties in reading order."""
    n = len(view.items)
    indegree = [0] * n
    children: list[list[int]] = [[] for _ in range(n)]
    for e in view.edges:
        children[e.src].append(e.dst)
        indegree[e.dst] += 1
    # Depth of each item (longest path from an input), in any topological order first.
    level = [0] * n
    remaining = indegree[:]
    stack = [i for i in range(n) if remaining[i] == 0]
    while stack:
        i = stack.pop()
        for c in children[i]:
            level[c] = max(level[c], level[i] + 1)
            remaining[c] -= 1
            if remaining[c] == 0:
                stack.append(c)
    # Then draw what is used earlier first (an RNN's x_1 before x_2), ties in reading order.
    order = _reading_order(view, roots)
    key = [(min((level[c] for c in children[i]), default=level[i] + 1), order[i], i) for i in range(n)]
    ready = [key[i] for i in range(n) if indegree[i] == 0]
    heapq.heapify(ready)
    ranked: list[int] = []
    while ready:
        *_, i = heapq.heappop(ready)
        ranked.append(i)
        for c in children[i]:
            indegree[c] -= 1
            if indegree[c] == 0:
                heapq.heappush(ready, key[c])
    if len(ranked) < n:  # only possible for graphs recorded in a scope they feed back into
        placed = set(ranked)
        ranked += [i for i in range(n) if i not in placed]
    new_index = {old: new for new, old in enumerate(ranked)}
    view.items = [view.items[i] for i in ranked]
    view.clusters = [view.clusters[i] for i in ranked]
    view.item_of = {k: new_index[v] for k, v in view.item_of.items()}
    for e in view.edges:
        e.src, e.dst = new_index[e.src], new_index[e.dst]


def display_names(view: GraphView) -> list[str]:
    """A short reference for each item: its name, else ``op#k`` / ``input#k`` / ``param#k``.

    ``k`` counts items of the same op (or composite) in topological order, so ``mul#2`` is the
    second multiplication drawn. A collapsed call whose one output has a name goes by that name.
    Constants are referred to by their value.
    """
    counts: dict[str, int] = {}
    names = []
    for item in view.items:
        if isinstance(item, Box):
            if len(item.outputs) == 1 and item.outputs[0].name is not None:
                names.append(str(item.outputs[0].name))
                continue
            base = item.name
        elif item.name is not None:
            names.append(str(item.name))
            continue
        else:
            k = kind(item)
            if k == "constant":
                names.append(short(item._value, 4))
                continue
            base = item.op if k == "op" else {"parameter": "param", "input": "input"}[k]
        counts[base] = counts.get(base, 0) + 1
        names.append(f"{base}#{counts[base]}")
    return names
