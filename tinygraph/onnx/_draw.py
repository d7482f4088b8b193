"""A picture of an exported ONNX graph (graphviz): what Netron shows, without leaving the docs.

One box per ONNX node (its operator and main attributes, the weights it reads with their
shapes), one oval per graph input and output, and an edge per value passed between them labelled
with its shape when ONNX shape inference knows it.
"""

from __future__ import annotations

import os

import graphviz
import onnx
from onnx import helper, shape_inference

_DEFAULTS = {"dilations": 1, "pads": 0}
_SHOWN_ATTRIBUTES = ("kernel_shape", "strides", "pads", "dilations", "axis", "perm", "transB")


def _dims(value_info: onnx.ValueInfoProto) -> str:
    dims = value_info.type.tensor_type.shape.dim
    return "×".join(d.dim_param or (str(d.dim_value) if d.HasField("dim_value") else "?") for d in dims)


def _attributes(node: onnx.NodeProto) -> list[str]:
    """The attributes worth reading in a box; dilations of 1 and pads of 0 (the defaults) left out."""
    shown = []
    for a in node.attribute:
        value = helper.get_attribute_value(a)
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        if a.name not in _SHOWN_ATTRIBUTES or (a.name in _DEFAULTS and set(values) == {_DEFAULTS[a.name]}):
            continue
        shown.append(f"{a.name}={values if len(values) > 1 else values[0]}")
    return shown


def to_graphviz(model: onnx.ModelProto | str | os.PathLike, title: str | None = None) -> graphviz.Digraph:
    """Draw an ONNX model's graph as a graphviz ``Digraph`` (``.pipe(format="svg")`` for an SVG).

    Parameters
    ----------
    model : onnx.ModelProto, or the path of a ``.onnx`` file
    title : str, optional
        A caption above the graph.
    """
    if not isinstance(model, onnx.ModelProto):
        model = onnx.load(os.fspath(model))
    inferred = shape_inference.infer_shapes(model)
    graph = inferred.graph
    shapes = {v.name: _dims(v) for v in [*graph.value_info, *graph.input, *graph.output]}
    # The weights (float initializers) are named in their boxes; int64 ones are shapes and axes.
    initializers = {
        t.name: "×".join(map(str, t.dims)) or "scalar"
        for t in graph.initializer
        if t.data_type != onnx.TensorProto.INT64
    }
    dot = graphviz.Digraph("onnx", graph_attr={"rankdir": "TB", "fontname": "Helvetica"})
    dot.attr("node", fontname="Helvetica", fontsize="11")
    dot.attr("edge", fontname="Helvetica", fontsize="9", color="#555555")
    if title:
        dot.attr(label=title, labelloc="t", fontsize="13")
    producer: dict[str, str] = {}
    for v in graph.input:
        producer[v.name] = f"input {v.name}"
        dot.node(
            producer[v.name], f"{v.name}\n{shapes[v.name]}", shape="oval", style="filled", fillcolor="#dbe9f6"
        )
    for i, node in enumerate(graph.node):
        key = f"n{i}"
        weights = [f"{name}  {initializers[name]}" for name in node.input if name in initializers]
        label = "\n".join([node.op_type, *_attributes(node), *weights])
        dot.node(key, label, shape="box", style="rounded,filled", fillcolor="#f3f3f3")
        for name in node.input:
            if name in producer:
                dot.edge(producer[name], key, label=shapes.get(name, ""))
        for name in node.output:
            producer[name] = key
    for v in graph.output:
        key = f"output {v.name}"
        dot.node(
            key, f"{v.name}\n{shapes.get(v.name, '')}", shape="oval", style="filled", fillcolor="#e3f1dc"
        )
        if v.name in producer:
            dot.edge(producer[v.name], key)
    return dot
