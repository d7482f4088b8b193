"""The ONNX graph under construction: value names, initializers and nodes.

Each tinygraph node gets one ONNX value name: graph inputs by ``input_names``, parameters by their
dotted names (``conv1.weight``), constants as initializers, op-made nodes a name made from the op
(``relu_7``) that whichever mapping emits the node produces.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tinygraph.errors import TinygraphError
from tinygraph.node import Node


class OnnxExportError(TinygraphError, ValueError):
    """A traced graph cannot be written as ONNX (an op with no mapping, an unsupported argument)."""


def onnx_dtype(dtype: Any) -> int:
    """The ONNX element type (``TensorProto.FLOAT``...) of a numpy dtype."""
    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


class Builder:
    """Collects the nodes, initializers and value names of one exported graph.

    Parameters
    ----------
    opset : the default-domain opset the nodes are written for.
    names : preset value names by node id (graph inputs and outputs).
    params : dotted names of the parameters by node id (initializers, written when first read).
    buffers : dotted names of the buffers by the id of their array (read through constants).
    """

    def __init__(
        self, opset: int, names: dict[int, str], params: dict[int, str], buffers: dict[int, str]
    ) -> None:
        self.opset = opset
        self._params = params
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: dict[str, TensorProto] = {}
        self._names = dict(names)
        self._buffers = buffers
        self._used = set(names.values()) | set(params.values()) | set(buffers.values())
        self._count = itertools.count()
        self._keep: list[Node] = []  # the named nodes stay alive, so their ids stay unique
        self._made: set[str] = set()  # values computed by nodes rather than stored (batch zeros)
        # With a dynamic batch: (the graph input whose axis 0 is the batch, the traced batch size).
        self.batch: tuple[str, int] | None = None
        self.where = ""  # the composite path of what is being emitted, for node doc strings
        self.module = ""  # the module it was made in ("layers.0"), to name the nodes ("layers.0/Gemm_3")
        # Graph values by the id of their array: an op given a Node as an argument (an index)
        # holds its array, which must stay that value in the graph rather than become a constant.
        self.by_array: dict[int, Node] = {}

    # ------------------------------------------------------------------ names
    def fresh(self, hint: str) -> str:
        """A value or node name not used yet, made from ``hint``."""
        while True:
            name = f"{hint}_{next(self._count)}"
            if name not in self._used:
                self._used.add(name)
                return name

    def name_of(self, node: Node) -> str:
        """The ONNX value name of ``node`` (leaves become initializers the first time they are read)."""
        name = self._names.get(id(node))
        if name is not None:
            return name
        if node.op is None:  # a parameter, a leaf the function made, or a constant an op wrapped
            buffer = self._buffers.get(id(node.data))
            if id(node) in self._params:
                name = self._params[id(node)]
            elif buffer is not None:
                name = buffer
            elif node.name and node.name not in self._used and not node.is_constant:
                name = node.name
            elif self._batch_zeros(np.asarray(node.data)):
                name = self.batch_zeros(np.asarray(node.data))
            else:
                name = self.fresh("const")
            self._used.add(name)
            if name not in self.initializers and name not in self._made:
                self.initializer(name, np.asarray(node.data))
        else:
            name = self.fresh(node.op)
        self._names[id(node)] = name
        self._keep.append(node)
        return name

    def value(self, node: Node, dtype: Any = None) -> str:
        """``node``'s value name, converted to ``dtype`` when given (constants are converted in place).

        A Python number a tinygraph op wrapped follows numpy's weak-scalar rule there, so it is
        written in the dtype of the op's result rather than as int64/float64.
        """
        if dtype is None or np.dtype(node.dtype) == np.dtype(dtype):
            return self.name_of(node)
        if node.is_constant or (
            node.op is None and id(node) not in self._names and id(node) not in self._params
        ):
            array = np.asarray(node.data).astype(dtype)
            return self.batch_zeros(array) if self._batch_zeros(array) else self.const(array, "const")
        return self.op("Cast", [self.name_of(node)], to=onnx_dtype(dtype))

    def _batch_zeros(self, array: np.ndarray) -> bool:
        """Whether ``array`` is zeros sized by the traced batch (an RNN's first state, say)."""
        if self.batch is None or array.ndim == 0 or array.shape[0] != self.batch[1] or self.batch[1] == 1:
            return False
        return array.dtype.kind in "biuf" and not array.any()

    def batch_zeros(self, array: np.ndarray) -> str:
        """Zeros of ``array``'s shape and dtype whose axis 0 is the batch of the graph's input.

        With a dynamic batch, a zeros constant the trace made at the traced batch size (a recurrent
        layer's initial state) must follow the batch size it runs at, not keep the traced one.
        """
        source, _ = self.batch
        batch = self.op("Gather", [self.op("Shape", [source]), self.ints([0], "axis0")], axis=0)
        shape = self.op("Concat", [batch, self.ints(array.shape[1:])], axis=0)
        zero = helper.make_tensor("value", onnx_dtype(array.dtype), [1], [0])
        name = self.op("ConstantOfShape", [shape], value=zero)
        self._made.add(name)
        return name

    def initializer(self, name: str, array: np.ndarray) -> str:
        if array.dtype.kind not in "biuf":
            raise OnnxExportError(f"the constant {name!r} has dtype {array.dtype}, not a number")
        self.initializers[name] = numpy_helper.from_array(np.array(array, order="C"), name)
        return name

    def ordered_initializers(self, first: Iterable[str]) -> list[TensorProto]:
        """The initializers, those named in ``first`` (the parameters, in order) leading."""
        lead = [self.initializers[n] for n in first if n in self.initializers]
        return lead + [t for n, t in self.initializers.items() if t not in lead]

    def const(self, array: Any, hint: str = "const") -> str:
        """A new initializer holding ``array``."""
        return self.initializer(self.fresh(hint), np.asarray(array))

    def ints(self, values: Sequence[int], hint: str = "shape") -> str:
        """A new int64 initializer (shapes, axes, pads)."""
        return self.const(np.asarray(list(values), dtype=np.int64), hint)

    def value_of_array(self, array: object, dtype: Any) -> str | None:
        """The value name of the graph value whose array ``array`` is (as ``dtype``), or None."""
        node = self.by_array.get(id(array))
        return None if node is None else self.value(node, dtype)

    def bind(self, node: Node, name: str) -> None:
        """Record that the value ``name`` already computes ``node``."""
        self._names[id(node)] = name
        self._keep.append(node)

    # ------------------------------------------------------------------ nodes
    def op(
        self,
        op_type: str,
        inputs: Sequence[str],
        output: str | None = None,
        **attrs: Any,
    ) -> str:
        """Append one ONNX node; returns its output's name (a new one unless ``output`` is given)."""
        output = output or self.fresh(op_type.lower())
        name = self.fresh(f"{self.module}/{op_type}" if self.module else op_type)
        node = helper.make_node(op_type, list(inputs), [output], name=name, **attrs)
        if self.where:
            node.doc_string = f"tinygraph: {self.where}"
        self.nodes.append(node)
        return output

    def emit(self, op_type: str, node: Node, inputs: Sequence[str], **attrs: Any) -> str:
        """Append the ONNX node that computes the tinygraph ``node``; returns ``node``'s value name."""
        return self.op(op_type, inputs, self.name_of(node), **attrs)

    def axes_op(
        self, op_type: str, x: str, axes: Sequence[int], output: str | None = None, **attrs: Any
    ) -> str:
        """A reduction (or Squeeze/Unsqueeze) with ``axes``: an input from the opset that made it one.

        ReduceSum, Squeeze and Unsqueeze take their axes as an input from opset 13, the other
        reductions from opset 18; before that they are an attribute.
        """
        as_input = self.opset >= (13 if op_type in ("ReduceSum", "Squeeze", "Unsqueeze") else 18)
        if as_input:
            return self.op(op_type, [x, self.ints(axes, "axes")], output, **attrs)
        return self.op(op_type, [x], output, axes=list(axes), **attrs)

    def sorted_nodes(self, graph_inputs: Sequence[str]) -> list[onnx.NodeProto]:
        """The nodes in an order where each one's inputs are made before it (ONNX requires it)."""
        ready = set(graph_inputs) | set(self.initializers) | {""}
        pending = list(self.nodes)
        order: list[onnx.NodeProto] = []
        while pending:
            rest = []
            for node in pending:
                if all(i in ready for i in node.input):
                    order.append(node)
                    ready.update(node.output)
                else:
                    rest.append(node)
            if len(rest) == len(pending):
                missing = sorted({i for n in rest for i in n.input if i not in ready})
                raise OnnxExportError(
                    f"onnx.export: internal error, values {missing[:5]} are read but never computed"
                )
            pending = rest
        return order


def on_batch(b: Builder, x: Node, out: Node, spatial: int, build: Callable[[str, str], str]) -> None:
    """Emit ``build(input, output)`` (ONNX pooling wants a batch axis) so that it computes ``out``.

    An input without a batch axis, (C, H, W), is given one first and loses it after.
    """
    if x.ndim == spatial + 2:
        build(b.value(x), b.name_of(out))
        return
    result = build(b.axes_op("Unsqueeze", b.value(x), [0]), b.fresh("pooled"))
    b.axes_op("Squeeze", result, [0], b.name_of(out))
