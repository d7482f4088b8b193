"""tg.to_networkx and summarize: the export agrees with the recorded graph."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

import tinygraph as tg
import tinygraph.functional as F
from tinygraph._state import scope
from tinygraph.export import GraphSummary, summarize


def mlp_loss():
    tg.manual_seed(3)
    x = tg.randn(5, 3, name="x")
    w1 = tg.tensor(tg.randn(3, 4).data, requires_grad=True, name="fc1.weight")
    b1 = tg.zeros(4, requires_grad=True, name="fc1.bias")
    w2 = tg.tensor(tg.randn(4, 2).data, requires_grad=True, name="fc2.weight")
    h = tg.relu(x @ w1 + b1)
    loss = F.cross_entropy(h @ w2, np.array([0, 1, 1, 0, 1]))
    return (w1, b1, w2), loss


def test_one_graph_node_per_recorded_node_in_topological_order():
    _params, loss = mlp_loss()
    recorded = tg.toposort([loss], only_requires_grad=False)
    graph = tg.to_networkx(loss)
    assert graph.number_of_nodes() == len(recorded)
    assert {id(d["node"]) for _, d in graph.nodes(data=True)} == {id(n) for n in recorded}
    position = {id(d["node"]): k for k, d in graph.nodes(data=True)}
    assert list(graph.nodes) == list(range(len(recorded)))
    edges = 0
    for node in recorded:
        for i, parent in enumerate(node.parents):
            u, v = position[id(parent)], position[id(node)]
            assert u < v  # the integer labels are a topological order
            assert i in graph.edges[u, v]["indices"]
            edges += 1
    assert sum(len(d["indices"]) for _, _, d in graph.edges(data=True)) == edges
    assert nx.is_directed_acyclic_graph(graph)
    assert graph.graph["roots"] == [position[id(loss)]]
    assert graph.nodes[position[id(loss)]]["root"]


def test_node_attributes():
    (_w1, _b1, _w2), loss = mlp_loss()
    loss.backward()
    graph = tg.to_networkx(loss)
    attrs = {d["name"]: d for _, d in graph.nodes(data=True) if d["name"]}
    w = attrs["fc1.weight"]
    assert w["kind"] == "parameter" and w["op"] is None and w["shape"] == (3, 4)
    assert w["dtype"] == "float32" and w["requires_grad"] and w["is_leaf"] and w["has_grad"]
    assert w["scope"] == ""
    x = attrs["x"]
    assert x["kind"] == "input" and not x["requires_grad"] and not x["has_grad"]
    inside = [d for _, d in graph.nodes(data=True) if d["scope"]]
    assert inside and all(d["scope"].startswith("cross_entropy") for d in inside)
    assert [d["op"] for d in inside] == ["softmax_cross_entropy"]  # the fused call, as recorded
    with tg.decompose():
        _params, loss = mlp_loss()
    inside = [d for _, d in tg.to_networkx(loss).nodes(data=True) if d["scope"]]
    assert {"exp", "log", "getitem"} <= {d["op"] for d in inside}
    assert {d["scope"] for d in inside} >= {"cross_entropy > log_softmax", "cross_entropy > nll_loss"}
    matmuls = [d for _, d in graph.nodes(data=True) if d["op"] == "matmul"]
    assert len(matmuls) == 2 and all(d["kind"] == "op" and not d["is_leaf"] for d in matmuls)
    assert {d["shape"] for d in matmuls} == {(5, 4), (5, 2)}


def test_edges_carry_argument_positions():
    a = tg.tensor(2.0, requires_grad=True, name="a")
    b = tg.tensor(3.0, name="b")
    graph = tg.to_networkx(a * a - b)
    ids = {d["name"] or d["op"] or d["kind"]: k for k, d in graph.nodes(data=True)}
    assert graph.edges[ids["a"], ids["mul"]]["indices"] == (0, 1)
    assert graph.edges[ids["mul"], ids["sub"]]["index"] == 0
    assert graph.edges[ids["b"], ids["sub"]]["index"] == 1


def test_collapsed_export_has_one_node_per_composite_call():
    _, loss = mlp_loss()
    graph = tg.to_networkx(loss, expand=False)
    composites = [d for _, d in graph.nodes(data=True) if d["kind"] == "composite"]
    assert len(composites) == 1
    box = composites[0]
    assert box["op"] == "cross_entropy" and box["shape"] == () and box["root"]
    full = tg.to_networkx(loss)
    inside = sum(1 for _, d in full.nodes(data=True) if d["scope"])
    assert box["inside"] == inside
    assert graph.number_of_nodes() == full.number_of_nodes() - inside + 1
    into = [
        d for u, v, d in graph.in_edges(next(k for k, d in graph.nodes(data=True) if d is box), data=True)
    ]
    assert into and all(d["index"] is None for d in into)


def test_nested_levels_and_names():
    w = tg.tensor([1.0, 2.0], requires_grad=True, name="w")
    with scope("outer"):
        with scope("inner"):
            h = tg.exp(w)
        y = h.sum()
    levels = {k: tg.to_networkx(y, expand=k) for k in (0, 1, 2)}
    ops = [sorted(str(d["op"]) for _, d in g.nodes(data=True)) for g in levels.values()]
    assert ops == [["None", "outer"], ["None", "inner", "sum"], ["None", "exp", "sum"]]
    inner = next(d for _, d in levels[1].nodes(data=True) if d["op"] == "inner")
    assert inner["scope"] == "outer" and inner["kind"] == "composite"
    exp = next(d for _, d in levels[2].nodes(data=True) if d["op"] == "exp")
    assert exp["scope"] == "outer > inner"
    assert tg.to_networkx(y, expand={"outer"}).number_of_nodes() == 3


def test_summary_counts_ops_parameters_and_depth():
    w = tg.tensor([1.0, 2.0, 3.0], requires_grad=True, name="w")
    b = tg.tensor(0.5, requires_grad=True, name="b")
    x = tg.tensor([1.0, 1.0, 2.0], name="x")
    loss = tg.tanh((w * x).sum() + b) * 2.0
    s = summarize(tg.to_networkx(loss))
    assert isinstance(s, GraphSummary)
    assert s.ops == {"add": 1, "mul": 2, "sum": 1, "tanh": 1}
    assert (s.parameters, s.parameter_elements, s.inputs, s.constants) == (2, 4, 1, 1)
    assert s.nodes == 9 and s.edges == 8
    assert s.longest_path == 5  # w -> mul -> sum -> add -> tanh -> mul
    text = str(s)
    assert "2 parameters (4 values)" in text and "longest path 5" in text


def test_summary_rejects_other_graphs():
    with pytest.raises(TypeError, match=r"summarize: expects the networkx\.DiGraph made by"):
        summarize(nx.path_graph(3, create_using=nx.DiGraph))
    with pytest.raises(TypeError, match="to_networkx: root 0 is a ndarray"):
        tg.to_networkx(np.ones(3))


def test_ten_thousand_nodes_export_without_recursion():
    w = tg.tensor(0.5, requires_grad=True, name="w")
    y = w
    for _ in range(5000):
        y = tg.tanh(y) * 1.0
    graph = tg.to_networkx(y)
    assert graph.number_of_nodes() == 10002  # w, the one shared constant 1.0, 10000 ops
    assert summarize(graph).longest_path == 10000
