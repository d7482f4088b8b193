"""``export``: trace one forward pass and write it as an ONNX model."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import onnx
from onnx import helper, shape_inference

from tinygraph._atomic import write_atomically
from tinygraph.nn.module import Module
from tinygraph.node import Node
from tinygraph.onnx._builder import Builder, OnnxExportError, onnx_dtype
from tinygraph.onnx._composites import COMPOSITES
from tinygraph.onnx._primitives import PRIMITIVES
from tinygraph.onnx._trace import (
    Call,
    as_input,
    connect,
    consumers,
    module_path,
    split_calls,
    topological,
    trace,
)

MIN_OPSET = 13  # per-axis Softmax, ReduceSum's axes as an input, SoftmaxCrossEntropyLoss


def _default_names(prefix: str, count: int) -> list[str]:
    return [prefix] if count == 1 else [f"{prefix}_{i}" for i in range(count)]


def _check_names(kind: str, names: Sequence[str] | None, count: int, prefix: str) -> list[str]:
    if names is None:
        return _default_names(prefix, count)
    names = list(names)
    if len(names) != count or len(set(names)) != count or not all(isinstance(n, str) and n for n in names):
        raise ValueError(
            f"onnx.export: {kind} must be {count} distinct non-empty strings (one per {kind[:-6]}), "
            f"got {names!r}"
        )
    return names


class _Writer:
    """Walks the traced graph call by call and emits each unit through the mappings."""

    def __init__(self, builder: Builder, outputs: Sequence[Node]) -> None:
        self.b = builder
        self.readers = consumers(topological(outputs))
        self.returned = {id(n) for n in outputs}

    def write(self, nodes: Sequence[Node], depth: int, where: str = "") -> None:
        units, _ = split_calls(nodes, depth)
        for unit in units:
            if isinstance(unit, Call):
                self.write_call(unit)
            else:
                self.write_primitive(unit, where)

    def write_call(self, call: Call) -> None:
        connect(call, self.readers, self.returned)
        mapping = COMPOSITES.get(call.name)
        self.b.where = call.path
        self.b.module = module_path(call.nodes[0])
        if mapping is not None and len(call.outputs) == 1 and mapping(self.b, call):
            return
        self.write(call.nodes, call.depth + 1, call.path)

    def write_primitive(self, node: Node, where: str) -> None:
        mapping = PRIMITIVES.get(node.op)
        self.b.where = where
        self.b.module = module_path(node)
        if mapping is None:
            inside = f" (inside {where})" if where else ""
            raise OnnxExportError(
                f"onnx.export: the op {node.op!r}{inside} has no ONNX mapping; "
                f"ops that export: {', '.join(sorted(PRIMITIVES))}; composites that export as one "
                f"ONNX operator: {', '.join(sorted(COMPOSITES))}"
            )
        try:
            mapping(self.b, node)
        except OnnxExportError as exc:
            inside = f" (inside {where})" if where else ""
            raise OnnxExportError(f"onnx.export: the op {node.op!r}{inside}: {exc}") from exc


def _value_info(name: str, node: Node, dynamic_batch: bool, known: bool) -> onnx.ValueInfoProto:
    """A graph input or output: its element type and shape (axis 0 named 'batch' with ``dynamic_batch``)."""
    shape: list[Any] = list(node.shape)
    if dynamic_batch and shape:
        shape = ["batch"] + shape[1:] if known else [None] * len(shape)
    return helper.make_tensor_value_info(name, onnx_dtype(node.dtype), shape)


def build_model(
    model_or_fn: Module | Callable[..., Any],
    example_inputs: Any,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    dynamic_batch: bool = True,
    opset: int = 17,
) -> onnx.ModelProto:
    """The ONNX model of one traced forward pass (what :func:`export` writes), checked."""
    if not isinstance(opset, int) or opset < MIN_OPSET:
        raise ValueError(f"onnx.export: opset must be an int >= {MIN_OPSET}, got {opset!r}")
    if not callable(model_or_fn):
        raise TypeError(
            f"onnx.export: expected a Module or a function of Nodes, got {type(model_or_fn).__name__}"
        )
    examples = example_inputs if isinstance(example_inputs, (tuple, list)) else (example_inputs,)
    inputs = [as_input(x) for x in examples]
    in_names = _check_names("input_names", input_names, len(inputs), "input")

    params: dict[int, str] = {}
    buffers: dict[int, str] = {}
    modes: list[tuple[Module, bool]] = []
    if isinstance(model_or_fn, Module):
        params = {id(p): name for name, p in model_or_fn.named_parameters()}
        buffers = {id(a): name for name, a in model_or_fn.named_buffers()}
        modes = [(m, m.training) for m in model_or_fn.modules()]
        model_or_fn.eval()  # an inference graph: dropout passes through
    try:
        outputs = trace(model_or_fn, inputs)
    finally:
        for module, training in modes:
            object.__setattr__(module, "training", training)
    out_names = _check_names("output_names", output_names, len(outputs), "output")

    names = {id(node): name for node, name in zip(inputs, in_names)}
    builder = Builder(opset, names, params, buffers)
    batched = [(name, x.shape[0]) for name, x in zip(in_names, inputs) if x.ndim]
    builder.batch = batched[0] if dynamic_batch and batched else None
    identities = []  # outputs that are inputs, parameters or repeated get an Identity of their own
    for node, name in zip(outputs, out_names):
        if node.op is None or id(node) in names or id(node) in params:
            identities.append((node, name))
        else:
            names[id(node)] = name
            builder.bind(node, name)
    order = topological(outputs)
    builder.by_array = {id(n.data): n for n in [*inputs, *order] if not n.is_constant}
    writer = _Writer(builder, outputs)
    writer.write([n for n in order if n.op is not None], 0)
    builder.where = builder.module = ""  # the output renames belong to no call
    for node, name in identities:
        builder.op("Identity", [builder.name_of(node)], name)

    graph = helper.make_graph(
        builder.sorted_nodes(in_names),
        "tinygraph",
        [_value_info(n, x, dynamic_batch, True) for n, x in zip(in_names, inputs)],
        [_value_info(n, y, dynamic_batch, False) for n, y in zip(out_names, outputs)],
        builder.ordered_initializers(params.values()),
    )
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="tinygraph")
    model.ir_version = helper.find_min_ir_version_for(opsets)
    onnx.checker.check_model(model, full_check=True)
    # The outputs were declared with unknown sizes (the traced ones may hold the batch); shape
    # inference knows which are fixed and which follow the batch, for Netron and for readers.
    inferred = shape_inference.infer_shapes(model).graph.output
    for declared, known in zip(model.graph.output, inferred):
        declared.CopyFrom(known)
    return model


def export(
    model_or_fn: Module | Callable[..., Any],
    example_inputs: Any,
    path: str | os.PathLike,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    dynamic_batch: bool = True,
    opset: int = 17,
) -> onnx.ModelProto:
    """Trace one forward pass of a model and write it to ``path`` as an ONNX model.

    Composite calls become the ONNX operator they are (conv2d → Conv, max_pool2d → MaxPool,
    avg_pool2d → AveragePool, adaptive_avg_pool2d → GlobalAveragePool/AveragePool, softmax →
    Softmax, log_softmax → LogSoftmax, logsumexp → ReduceLogSumExp, linear → Gemm or MatMul + Add),
    everything else the ONNX form of each primitive (the RNN unrolled into MatMul, Add and Tanh per
    step). Parameters become initializers under their dotted names (``conv1.weight``), and each
    node's doc string names the composite call it came from.

    Parameters
    ----------
    model_or_fn : Module or callable
        A module (traced in evaluation mode; its training flags are restored after) or a function
        of Nodes returning a Node or a tuple of Nodes.
    example_inputs : array_like, Node, or a tuple of them
        The inputs of the traced pass; their dtypes and shapes (but axis 0, with ``dynamic_batch``)
        are the exported graph's.
    path : str or os.PathLike
        Where the ``.onnx`` file is written (atomically: a temporary file renamed over it).
    input_names, output_names : sequences of str, optional
        The graph's input and output names (default ``input``/``output``, or ``input_0``...).
    dynamic_batch : bool
        Declare axis 0 of every input as a symbolic ``batch``, so the model runs on any batch size
        (default True). The traced pass fixes every other size: an RNN's sequence length, an image
        size behind a flatten.
    opset : int
        The ONNX opset (default 17, at least 13).

    Returns
    -------
    onnx.ModelProto
        The model written (it passed ``onnx.checker.check_model``).

    Raises
    ------
    OnnxExportError
        For an op with no ONNX mapping (the error names it and the composite call it ran inside),
        or dropout traced in training mode.
    """
    model = build_model(model_or_fn, example_inputs, input_names, output_names, dynamic_batch, opset)
    write_atomically(path, lambda file: file.write(model.SerializeToString()))
    return model


def run(path_or_model: Any, *inputs: np.ndarray) -> list[np.ndarray]:
    """Run an ONNX model in ONNX Runtime (CPU) on positional inputs; returns its outputs.

    A convenience for checking an export: ``tg.onnx.run("model.onnx", x)[0]``.
    """
    try:
        import onnxruntime
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("tinygraph.onnx.run needs onnxruntime: pip install 'tinygraph[onnx]'") from exc
    source = (
        path_or_model.SerializeToString()
        if isinstance(path_or_model, onnx.ModelProto)
        else os.fspath(path_or_model)
    )
    session = onnxruntime.InferenceSession(source, providers=["CPUExecutionProvider"])
    feeds = {i.name: np.asarray(x) for i, x in zip(session.get_inputs(), inputs)}
    return session.run(None, feeds)
