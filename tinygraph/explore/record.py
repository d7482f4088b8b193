"""What the explorer page shows, recorded from the graph: nodes, boxes, edges, backward steps, chains.

The graph is read through the view model (:func:`~tinygraph.view.model.build_view` with every
composite opened: one item per recorded node, one edge per recorded input), the box tree from
:mod:`tinygraph.explore.tree`, and the gradients from the engine's own
:func:`~tinygraph.autodiff.trace_backward`. The steps follow the engine's order (reverse
topological, as :func:`~tinygraph.autodiff.toposort` gives it); the running sums at fan-out nodes
are added here in the engine's order and dtype, so the last one is the engine's gradient exactly.
The page's script does no arithmetic on values. The JSON schema is in ``docs/exploring.md`` and
:data:`tinygraph.explore.schema.SCHEMA`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygraph._state import scope_path
from tinygraph.autodiff import GC_PAUSE, trace_backward
from tinygraph.explore.arrays import dtype_name, encode
from tinygraph.explore.tree import BUDGET, Tree, build_tree
from tinygraph.node import Node
from tinygraph.ops import ARRAY
from tinygraph.registry import REGISTRY
from tinygraph.view.chain import find_chain, local_formula
from tinygraph.view.labels import attr_text, number
from tinygraph.view.model import GraphView, build_view, display_names, is_parameter, kind, open_fused

SCHEMA_VERSION = 2  # 2: a 0-d float array of its node's dtype is a bare number
#: A chain lists at most this many local-derivative factors per path (the rest are counted).
MAX_FACTORS = 40
#: Paths longer than this get no numbers for their factors (a 100,000-op chain would take seconds).
MAX_NUMERIC_PATH = 400
#: Chains are worked out for at most this many parameters.
MAX_CHAINS = 200


def record(
    roots: list[Node], grads: Sequence[Any] | None, title: str, budget: int = BUDGET
) -> dict[str, Any]:
    """The explorer's JSON payload for the graph behind ``roots`` (see ``docs/exploring.md``).

    Parameters
    ----------
    roots : the outputs to explore (usually the loss).
    grads : the gradient of each root, as for :func:`tinygraph.grad` (None: 1 for one-element roots).
    title : shown at the top of the page.
    budget : the most boxes at one level before what repeats is folded into slices.
    """
    # Recording a 100,000-node graph makes ~10⁵ objects, none of them garbage: the collections they
    # would set off walk them all again (a third of the time at that size). Paused as backward is.
    with GC_PAUSE:
        return _record(roots, grads, title, budget)


def _record(roots: list[Node], grads: Sequence[Any] | None, title: str, budget: int) -> dict[str, Any]:
    roots, _ = open_fused(roots, True, "explore")
    view = build_view(roots, True, "explore")
    items: list[Node] = view.items  # type: ignore[assignment]  # every composite is open
    n = len(items)
    names = display_names(view)
    edge_list = [(e.src, e.dst) for e in view.edges]
    tree = build_tree(
        [node.scope for node in items],
        [is_parameter(node) for node in items],
        [node.op for node in items],
        edge_list,
        budget,
    )
    ids = [f"n{i}" for i in range(n)] + [f"b{b}" for b in range(len(tree.boxes))]

    def parent_id(key: int) -> str | None:
        p = tree.parent[key]
        return None if p is None else ids[p]

    trace = _trace(roots, grads)
    nodes: list[dict[str, Any]] = []
    dtypes = [dtype_name(node.dtype) for node in items]
    position, parents = tree.position, tree.parent
    for i, node in enumerate(items):
        p = parents[i]
        dtype = dtypes[i]
        entry: dict[str, Any] = {
            "id": ids[i],
            "op": node.op,
            "name": names[i],
            "kind": kind(node),
            "parent": None if p is None else ids[p],
            "shape": list(node.shape),
            "dtype": dtype,
            "value": encode(node._value, dtype),
        }
        if node.scope:
            entry["scope"] = scope_path(node.scope, modules=True)
        if node.attrs:
            attrs = attr_text(node.attrs, 80)
            if attrs:
                entry["attrs"] = attrs
        k = position.get(i)
        if k is not None:
            entry["position"] = k
        nodes.append(entry)
    nodes += _box_entries(tree, ids, items, edge_list, parent_id, view.roots)

    # Every composite is open: one drawn edge per recorded input (child, index). `grad`: the
    # backward pass sent a gradient along it.
    along = trace["edges"]
    edge_of: dict[tuple[int, int], int] = {}
    edges = []
    for k, e in enumerate(view.edges):
        child, i = e.links[0]
        link = (id(child), i)
        edge_of[link] = k
        src, dst = ids[e.src], ids[e.dst]
        edges.append({"id": f"e{k}", "src": src, "dst": dst, "index": e.index, "grad": link in along})
    steps = _steps(trace, view, ids, edge_of, dtypes)
    chains = _chains(view, items, ids, trace)
    ops = {}
    for node in items:
        if node.op is not None and node.op not in ops:
            ops[node.op] = {"formula": node.opdef.formula, "derivative": local_formula(node)}
    for box in tree.boxes:
        if box.op is not None and box.op not in ops:
            opdef = REGISTRY.get(box.op)
            formula = opdef.formula if opdef is not None else ""
            ops[box.op] = {"formula": formula, "derivative": ""}
    return {
        "version": SCHEMA_VERSION,
        "title": title,
        "roots": [ids[r] for r in view.roots],
        "nodes": nodes,
        "edges": edges,
        "steps": steps,
        "chains": chains,
        "ops": ops,
        "budget": budget,
    }


def _trace(roots: list[Node], grads: Sequence[Any] | None) -> dict[str, dict]:
    """The engine's trace of one backward pass from the roots that require grad (nothing if none do)."""
    if grads is not None:
        grads = list(grads)
        if len(grads) != len(roots):
            raise ValueError(f"explore: {len(roots)} roots but {len(grads)} grads")
    pairs = [(r, None if grads is None else grads[k]) for k, r in enumerate(roots) if r.requires_grad]
    if not pairs:
        return {"nodes": {}, "edges": {}}
    return trace_backward([r for r, _ in pairs], [g for _, g in pairs])


def _box_entries(
    tree: Tree, ids: list[str], items: list[Node], edge_list, parent_id, roots: list[int]
) -> list[dict[str, Any]]:
    """The JSON entries of the boxes: composite calls and folds, with their outputs and sizes.

    A box's outputs are its nodes used outside it, and the roots inside it.
    """
    n = tree.n
    size = [0] * len(tree.boxes)
    for key in range(n):
        p = tree.parent[key]
        while p is not None:
            size[p - n] += 1
            p = tree.parent[p]
    outputs: list[list[int]] = [[] for _ in tree.boxes]
    chains: dict[int, list[int]] = {}
    parent = tree.parent
    for s, d in edge_list:
        if parent[s] == parent[d]:  # crosses no box boundary
            continue
        cs = chains.get(s) or chains.setdefault(s, tree.chain(s))
        cd = set(chains.get(d) or chains.setdefault(d, tree.chain(d)))
        for box in cs[:-1]:
            if box not in cd and (not outputs[box - n] or outputs[box - n][-1] != s):
                outputs[box - n].append(s)
    for r in roots:
        for box in tree.chain(r)[:-1]:
            outputs[box - n].append(r)
    out = []
    for b, box in enumerate(tree.boxes):
        key = n + b
        outs = sorted(set(outputs[b]))
        first = items[outs[0]] if outs else None
        entry: dict[str, Any] = {
            "id": ids[key],
            "op": box.op,
            "name": box.name,
            "kind": box.kind,
            "parent": parent_id(key),
            "shape": list(first.shape) if first is not None else [],
            "dtype": dtype_name(first.dtype) if first is not None else "",
            "outputs": [ids[o] for o in outs],
            "size": size[b],
        }
        if box.kind == "repeat":
            entry["count"] = box.count
        if key in tree.position:
            entry["position"] = tree.position[key]
        out.append(entry)
    return out


def _steps(trace: dict[str, dict], view: GraphView, ids: list[str], edge_of, dtypes: list[str]) -> list[dict]:
    """One step per node the engine visits, in its order: what arrived, what each input received.

    The engine fills ``trace["nodes"]`` as it goes, so the dict's order is its reverse topological
    order. A gradient is encoded in the context of the node it reaches (``dtypes``: per item).
    """
    arrived, along = trace["nodes"], trace["edges"]
    if not arrived:
        return []
    items, item_of = view.items, view.item_of
    consumers: dict[int, int] = {}
    for child_id, i in along:
        key = id(items[item_of[child_id]].parents[i])
        consumers[key] = consumers.get(key, 0) + 1
    running: dict[int, Any] = {}
    received: dict[int, int] = {}
    steps = []
    # (id(array), context) -> its JSON: a gradient passed on unchanged is one array (all of them
    # stay alive in `trace`).
    encoded: dict[tuple[int, str], Any] = {}

    def enc(array: Any, context: str) -> Any:
        key = (id(array), context)
        out = encoded.get(key)
        if out is None:
            out = encoded[key] = encode(array, context)
        return out

    for node_id, g in arrived.items():
        index = item_of[node_id]
        node = items[index]
        contributions: list[dict[str, Any]] = []
        steps.append({"id": ids[index], "grad": enc(g, dtypes[index]), "contributions": contributions})
        for i, p in enumerate(node.parents):
            gp = along.get((node_id, i))
            if gp is None:
                continue
            key = id(p)
            k = received[key] = received.get(key, 0) + 1
            total = consumers[key]
            # The same addition, in the same order and dtype, as the engine's accumulation.
            running[key] = gp if k == 1 else running[key] + gp
            to = item_of[key]
            c = {"edge": f"e{edge_of[(node_id, i)]}", "to": ids[to], "grad": enc(gp, dtypes[to])}
            if total > 1:  # an input used once: its one contribution is its gradient (k = n = 1)
                c["sum"] = encode(running[key], dtypes[to]) if k > 1 else None
                c["k"] = k
                c["n"] = total
            contributions.append(c)
            if k == total:
                del running[key]
    return steps


def _local_number(top: Node, bottom: Node) -> float | None:
    """``∂top/∂bottom`` as a number when both are one-element (summed over the positions it is used at)."""
    if top.size != 1 or bottom.size != 1 or top.opdef is None:
        return None
    opdef, out = top.opdef, top._value
    inputs = [p._value for p in top.parents]
    total = 0.0
    found = False
    for i, p in enumerate(top.parents):
        rule = opdef.rule(i)
        if p is not bottom or rule is None:
            continue
        one = np.ones(np.shape(out), dtype=np.result_type(out))
        value = rule(ARRAY, one, out, *inputs, **(top.attrs or {}))
        total += float(np.asarray(value).sum())
        found = True
    return total if found else None


def _chains(view: GraphView, items: list[Node], ids: list[str], trace: dict[str, dict]) -> dict[str, Any]:
    """Per parameter: the edges on its paths to the roots and the chain of local derivatives, with numbers."""
    chains: dict[str, Any] = {}
    params = [i for i, node in enumerate(items) if is_parameter(node)][:MAX_CHAINS]
    for i in params:
        node = items[i]
        chain = find_chain(view, node)
        paths = []
        numbers_total: float | None = 0.0 if chain.total == len(chain.paths) else None
        for path in chain.paths:
            factors = []
            product: float | None = 1.0 if len(path) <= MAX_NUMERIC_PATH else None
            for k in reversed(range(len(path) - 1)):
                top, bottom = items[path[k + 1]], items[path[k]]
                value = _local_number(top, bottom) if product is not None else None
                if value is None:
                    product = None
                else:
                    product = product * value if product is not None else None
                if len(factors) < MAX_FACTORS:
                    factors.append(
                        {
                            "of": ids[path[k + 1]],
                            "wrt": ids[path[k]],
                            "op": top.op,
                            "value": None if value is None else number(value),
                        }
                    )
            paths.append(
                {
                    "nodes": [ids[j] for j in path] if len(path) <= MAX_NUMERIC_PATH else [],
                    "length": len(path) - 1,
                    "factors": factors,
                    "product": None if product is None else number(product),
                }
            )
            if numbers_total is not None:
                numbers_total = None if product is None else numbers_total + product
        g = trace["nodes"].get(id(node))
        chains[ids[i]] = {
            "edges": [f"e{k}" for k in sorted(chain.edges)],
            "nodes": [ids[k] for k in sorted(chain.on_path)],
            "total": chain.total,
            "paths": paths,
            "sum": None if numbers_total is None or not paths else number(numbers_total),
            "grad": None if g is None else encode(g)["text"],
        }
    return chains
