"""The recorded graph as a ``networkx.DiGraph`` (``tg.to_networkx``), and a summary of it.

Built from the same view of the graph renderings use (:mod:`tinygraph.view.model`), so the
export and the picture agree node for node.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from tinygraph.node import Node
from tinygraph.view.model import Box, Expand, build_view, check_roots, kind


def to_networkx(*roots: Node, expand: Expand = True) -> nx.DiGraph:
    """The graph that computed ``roots`` as a ``networkx.DiGraph``.

    Parameters
    ----------
    *roots : Node
        The outputs (a single list or tuple of Nodes is accepted too).
    expand : bool, int or collection of str
        As in :func:`tinygraph.render`: ``True`` (the default) gives one graph node per recorded
        node; otherwise collapsed composite calls become one graph node each. A fused call
        (``cross_entropy`` with class indices) is one recorded node; record the graph inside
        :func:`tinygraph.decompose` to export its definition op by op.

    Returns
    -------
    networkx.DiGraph
        Nodes are the integers ``0..n-1`` in a topological order (inputs before the ops using
        them). Node attributes: ``kind`` ("parameter", "input", "constant", "op" or
        "composite"), ``op`` (op or composite name, None for leaves), ``name``, ``shape``,
        ``dtype`` (str), ``scope`` (e.g. ``"cross_entropy > log_softmax"``), ``requires_grad``,
        ``is_leaf``, ``has_grad`` (a ``.grad`` is stored), ``root`` and ``node`` (the tinygraph
        Node; for a composite, its first output) plus ``inside`` (number of recorded nodes) for
        composites. Edges point from input to op, with ``index`` (argument position, None into a
        composite) and ``indices`` (every position, as in ``x * x``: ``(0, 1)``). The graph's
        ``roots`` attribute lists the root graph nodes.

    Examples
    --------
    >>> import tinygraph as tg
    >>> w = tg.tensor(2.0, requires_grad=True, name="w")
    >>> g = tg.to_networkx(w * w + 1.0)
    >>> [g.nodes[n]["op"] or g.nodes[n]["kind"] for n in g]
    ['constant', 'parameter', 'mul', 'add']
    >>> g.edges[1, 2]["indices"]
    (0, 1)
    """
    nodes = check_roots(roots, "to_networkx")
    view = build_view(nodes, expand, "to_networkx")
    graph = nx.DiGraph(roots=list(view.roots))
    root_set = set(view.roots)
    for i, item in enumerate(view.items):
        graph.add_node(i, **_attributes(item, view.clusters[i], i in root_set))
    for e in view.edges:
        if graph.has_edge(e.src, e.dst):
            data = graph.edges[e.src, e.dst]
            if e.index is not None:
                data["indices"] = data["indices"] + (e.index,)
        else:
            indices = () if e.index is None else (e.index,)
            graph.add_edge(e.src, e.dst, index=e.index, indices=indices)
    return graph


def _attributes(item: Node | Box, clusters: tuple, root: bool) -> dict[str, Any]:
    scope = " > ".join(f.name for f in clusters)
    if isinstance(item, Box):
        out = item.outputs[0] if item.outputs else item.nodes[-1]
        return {
            "kind": "composite",
            "op": item.name,
            "name": None,
            "shape": tuple(np.shape(out._value)),
            "dtype": str(out.dtype),
            "scope": scope,
            "requires_grad": any(n.requires_grad for n in item.outputs),
            "is_leaf": False,
            "has_grad": False,
            "root": root,
            "node": out,
            "inside": len(item.nodes),
        }
    return {
        "kind": kind(item),
        "op": item.op,
        "name": item.name,
        "shape": tuple(item.shape),
        "dtype": str(item.dtype),
        "scope": scope,
        "requires_grad": item.requires_grad,
        "is_leaf": item.is_leaf,
        "has_grad": item._grad is not None,
        "root": root,
        "node": item,
    }


@dataclass(frozen=True)
class GraphSummary:
    """Counts describing a graph exported by :func:`to_networkx`.

    Attributes
    ----------
    nodes, edges : sizes of the graph.
    ops : how many nodes each op (or collapsed composite) made, most frequent first.
    parameters : number of parameter nodes (leaves requiring grad).
    parameter_elements : their total number of scalar values.
    inputs, constants : numbers of input and constant leaves.
    longest_path : number of edges on the longest input-to-output path (the graph's depth).
    """

    nodes: int
    edges: int
    ops: dict[str, int]
    parameters: int
    parameter_elements: int
    inputs: int
    constants: int
    longest_path: int

    def __str__(self) -> str:
        lines = [
            f"{self.nodes} nodes, {self.edges} edges, longest path {self.longest_path} edges",
            f"{_count(self.parameters, 'parameter')} ({_count(self.parameter_elements, 'value')}), "
            f"{_count(self.inputs, 'input')}, {_count(self.constants, 'constant')}",
        ]
        lines += [f"  {op:<16} {n}" for op, n in self.ops.items()]
        return "\n".join(lines)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def summarize(graph: nx.DiGraph) -> GraphSummary:
    """Node counts by op, parameter count and depth of a graph made by :func:`to_networkx`.

    Parameters
    ----------
    graph : networkx.DiGraph
        The result of :func:`to_networkx` (any expand setting).

    Returns
    -------
    GraphSummary
        Printing it gives a short table.

    Examples
    --------
    >>> import tinygraph as tg
    >>> w = tg.tensor([1.0, 2.0], requires_grad=True, name="w")
    >>> s = summarize(tg.to_networkx((w * 3.0).sum()))
    >>> s.ops, s.parameters, s.parameter_elements, s.longest_path
    ({'mul': 1, 'sum': 1}, 1, 2, 2)
    """
    if not isinstance(graph, nx.DiGraph) or any("kind" not in d for _, d in graph.nodes(data=True)):
        raise TypeError("summarize: expects the networkx.DiGraph made by tinygraph.to_networkx")
    kinds = Counter(d["kind"] for _, d in graph.nodes(data=True))
    ops = Counter(d["op"] for _, d in graph.nodes(data=True) if d["op"] is not None)
    params = [d for _, d in graph.nodes(data=True) if d["kind"] == "parameter"]
    return GraphSummary(
        nodes=graph.number_of_nodes(),
        edges=graph.number_of_edges(),
        ops=dict(sorted(ops.items(), key=lambda kv: (-kv[1], kv[0]))),
        parameters=len(params),
        parameter_elements=int(sum(int(np.prod(d["shape"])) for d in params)),
        inputs=kinds["input"],
        constants=kinds["constant"],
        longest_path=int(nx.dag_longest_path_length(graph)) if graph.number_of_nodes() else 0,
    )
