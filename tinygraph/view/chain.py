"""The chain rule along the paths from one node (a parameter) to the roots.

The lecture's three chained blocks: ``∂o3/∂w1 = ∂o3/∂o2 · ∂o2/∂o1 · ∂o1/∂w1``. When several
paths lead from the parameter to the root the derivative is the sum over paths of such products.
Paths only follow edges gradients flow through (not into a comparison, not into ``where``'s
condition).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinygraph.autodiff import grad
from tinygraph.node import Node
from tinygraph.registry import REGISTRY
from tinygraph.view.labels import number
from tinygraph.view.model import Box, GraphView

FACTORS_PER_LINE = 6
MAX_FACTORS = 16


@dataclass(frozen=True)
class Chain:
    """The derivative chains from ``start`` to the roots, in terms of drawn items.

    Attributes
    ----------
    start : index of the highlighted item.
    on_path : indices of the items on some path.
    edges : indices (into ``view.edges``) of the drawn edges on some path.
    paths : up to ``max_paths`` paths, each a list of item indices from ``start`` to a root.
    total : the number of distinct paths (of drawn items).
    """

    start: int
    on_path: frozenset[int]
    edges: frozenset[int]
    paths: tuple[tuple[int, ...], ...]
    total: int


def carries_gradient(child: Node, index: int) -> bool:
    """True when gradient flows from ``child`` into its input ``index``."""
    opdef = child.opdef
    return opdef is not None and child.requires_grad and opdef.rule(index) is not None


def find_chain(view: GraphView, start: Node, max_paths: int = 4) -> Chain:
    """Paths from ``start`` to the roots through the drawn graph (iterative).

    Parameters
    ----------
    view : the drawn graph.
    start : a recorded node of the graph.
    max_paths : how many paths to list (all are counted).
    """
    reached = {id(start)}
    for node in view.order:
        if id(node) in reached:
            continue
        for i, p in enumerate(node.parents):
            if id(p) in reached and carries_gradient(node, i):
                reached.add(id(node))
                break
    begin = view.item_of[id(start)]
    on_edges = set()
    for k, e in enumerate(view.edges):
        if any(id(child.parents[i]) in reached and carries_gradient(child, i) for child, i in e.links):
            on_edges.add(k)
    # Items from which a root can be reached along path edges, walking back from the roots.
    out: dict[int, list[int]] = {}
    for k in on_edges:
        e = view.edges[k]
        out.setdefault(e.src, []).append(e.dst)
    roots = set(view.roots)
    live = {r for r in roots if r == begin or any(view.edges[k].dst == r for k in on_edges)}
    for i in range(len(view.items) - 1, -1, -1):  # items are topologically ordered
        if i not in live and any(d in live for d in out.get(i, ())):
            live.add(i)
    if begin not in live:
        return Chain(begin, frozenset(), frozenset(), (), 0)
    on_edges = {k for k in on_edges if view.edges[k].src in live and view.edges[k].dst in live}
    succ: dict[int, list[int]] = {}
    for k in sorted(on_edges):
        e = view.edges[k]
        lst = succ.setdefault(e.src, [])
        if e.dst not in lst:
            lst.append(e.dst)
    for lst in succ.values():
        lst.sort()  # items are in reading order: list paths through earlier items first
    # Count paths (dynamic programming in reverse topological order), then list the first few.
    count = {}
    for i in sorted(live, reverse=True):
        count[i] = (1 if i in roots else 0) + sum(count[d] for d in succ.get(i, ()))
    paths: list[tuple[int, ...]] = []
    path: list[int] = []
    stack: list[tuple[int, int]] = [(begin, 0)]  # (item, its depth on the path): no path copies
    while stack and len(paths) < max_paths:
        last, depth = stack.pop()
        del path[depth:]
        path.append(last)
        if last in roots:
            paths.append(tuple(path))
        for d in reversed(succ.get(last, ())):
            stack.append((d, depth + 1))
    return Chain(begin, frozenset(live), frozenset(on_edges), tuple(paths), count[begin])


def local_formula(item: Node | Box) -> str:
    """The derivative part of the op's registered formula (``∂z/∂x = 1 - z²``), one line."""
    opdef = REGISTRY.get(item.name) if isinstance(item, Box) else item.opdef
    if opdef is None or not opdef.formula:
        return ""
    lines = opdef.formula.split("\n")
    return " ".join(line.strip() for line in (lines[1:] or lines))


def _scalar_node(item: Node | Box) -> Node | None:
    """The one-element node an item stands for (a box: its only output), else None."""
    node = item if isinstance(item, Node) else (item.outputs[0] if len(item.outputs) == 1 else None)
    return node if node is not None and node.size == 1 else None


def factor_values(view: GraphView, chain: Chain) -> dict[tuple[int, int], float]:
    """The value of each local derivative ``∂top/∂bottom`` on the listed paths between one-element items.

    Each is computed with :func:`tinygraph.grad` from ``top`` back to ``bottom`` (``.grad`` is
    untouched). Factors between larger arrays are Jacobians, not numbers, and are left out, and so
    are paths of more than ``MAX_FACTORS`` steps (each factor costs a backward pass).
    """
    values: dict[tuple[int, int], float] = {}
    for path in chain.paths:
        if len(path) - 1 > MAX_FACTORS:
            continue
        for k in range(len(path) - 1):
            key = (path[k + 1], path[k])
            if key in values:
                continue
            top, bottom = _scalar_node(view.items[key[0]]), _scalar_node(view.items[key[1]])
            if top is None or bottom is None or not bottom.requires_grad or not top.requires_grad:
                continue
            (g,) = grad(top, bottom, allow_unused=True)
            values[key] = 0.0 if g is None else float(np.real(np.asarray(g.data)).reshape(()))
    return values


def signed(x: float) -> str:
    """A factor in a product: ``0.5``, or ``(−2)`` for a negative one (with a real minus sign)."""
    text = number(x)
    return f"(−{text[1:]})" if text.startswith("-") else text


def plain(x: float) -> str:
    """A result: ``−0.5966`` (with a real minus sign)."""
    text = number(x)
    return "−" + text[1:] if text.startswith("-") else text


def chain_text(view: GraphView, chain: Chain, names: list[str]) -> list[str]:
    """Lines listing the chain rule along the paths, with its numbers where they are scalars.

    ``∂o3/∂w1 = ∂o3/∂o2 · ∂o2/∂o1 · ∂o1/∂w1 = (−2) · 0.5966 · 0.5 = −0.5966``; with several paths,
    each path's product and then their sum. Each local derivative factor is then listed with the op
    it belongs to and its formula.
    """
    if not chain.paths:
        return [f"{names[chain.start]} does not affect the output: no path, its gradient is 0"]

    def d(top: int, bottom: int) -> str:
        return f"∂{names[top]}/∂{names[bottom]}"

    values = factor_values(view, chain)
    lines: list[str] = []
    factors: dict[tuple[int, int], None] = {}
    products: list[float] = []
    for path in chain.paths:
        keys = [(path[k + 1], path[k]) for k in reversed(range(len(path) - 1))]
        steps = [d(*key) for key in keys]
        for key in reversed(keys):
            factors[key] = None
        total = d(path[-1], path[0])
        numeric = all(key in values for key in keys)
        product = float(np.prod([values[key] for key in keys])) if numeric else None
        if product is not None:
            products.append(product)
        if not steps:
            lines.append(f"{total} = 1")
            products.append(1.0)
            continue
        tail = ""
        if product is not None:
            tail = " = " + " · ".join(signed(values[key]) for key in keys) if len(keys) > 1 else ""
            tail += f" = {plain(product)}"
        for k in range(0, len(steps), FACTORS_PER_LINE):
            lead = f"{total} = " if k == 0 else "      · "
            if len(steps) == 1:
                lines.append(f"{total}{tail}")
                break
            last = k + FACTORS_PER_LINE >= len(steps)
            lines.append(lead + " · ".join(steps[k : k + FACTORS_PER_LINE]) + (tail if last else ""))
    if chain.total > 1:
        head = f"{chain.total} paths: the gradient is the sum of their products"
        if chain.total > len(chain.paths):
            head += f" (first {len(chain.paths)} shown)"
        lines.insert(0, head)
        if len(products) == chain.total and len({path[-1] for path in chain.paths}) == 1:
            total = d(chain.paths[0][-1], chain.start)
            terms = " + ".join(signed(p) for p in products)
            lines.append(f"{total} = {terms} = {plain(sum(products))}")
    # Each factor with the op's formula (a collapsed call of an unregistered scope has none: its
    # factors are left out, and the heading too when no factor is left).
    with_formula = [key for key in factors if local_formula(view.items[key[0]])]
    if not with_formula:
        return lines
    lines.append("local derivatives:")
    factors = dict.fromkeys(with_formula)
    listed = with_formula[:MAX_FACTORS]
    for top, bottom in listed:
        item = view.items[top]
        op = item.name if isinstance(item, Box) else item.op
        formula = local_formula(item)
        positions = [e.index for e in view.edges if e.src == bottom and e.dst == top and e.index is not None]
        where = f", input {positions[0]}" if len(positions) == 1 else ""
        lines.append(f"  {d(top, bottom)}: {op}{where}" + (f"   {formula}" if formula else ""))
    if len(factors) > len(listed):
        lines.append(f"  ... and {len(factors) - len(listed)} more")
    return lines
