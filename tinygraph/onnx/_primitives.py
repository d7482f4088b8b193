"""Each tinygraph primitive as ONNX operators: one function per op, reading the node it writes.

A mapping receives the builder and the op-made node; it reads ``node.parents`` (the inputs),
``node.attrs`` (the op's arguments) and the traced shapes, and emits the nodes computing it.
A mapping that cannot write its node raises OnnxExportError with the reason; the exporter adds
the op and the composite call it ran inside. Ops missing from ``PRIMITIVES`` have no ONNX form
(``sliding_window``, ``fold``: the composites built on them map as a whole).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygraph.node import Node
from tinygraph.onnx._builder import Builder, OnnxExportError, on_batch, onnx_dtype
from tinygraph.ops.axes import normalize_axes, sum_to_axes
from tinygraph.ops.shape import pad_pairs
from tinygraph.ops.window import conv_padding

Mapping = Callable[[Builder, Node], None]
PRIMITIVES: dict[str, Mapping] = {}

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


def maps(*names: str) -> Callable[[Mapping], Mapping]:
    def decorate(fn: Mapping) -> Mapping:
        for name in names:
            PRIMITIVES[name] = fn
        return fn

    return decorate


def attr(node: Node, key: str, default=None):
    attrs = node.attrs or {}
    return attrs.get(key, default)


def _operand_dtype(node: Node) -> np.dtype:
    """The dtype a comparison compares in: numpy's promotion of its non-constant operands."""
    tensors = [p.dtype for p in node.parents if not p.is_constant]
    return np.result_type(*tensors) if tensors else np.result_type(*(p.dtype for p in node.parents))


_ELEMENTWISE = {
    "add": "Add",
    "sub": "Sub",
    "mul": "Mul",
    "div": "Div",
    "pow": "Pow",
    "maximum": "Max",
    "minimum": "Min",
    "neg": "Neg",
    "exp": "Exp",
    "log": "Log",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "relu": "Relu",
    "abs": "Abs",
    "sqrt": "Sqrt",
    "sign": "Sign",
}


@maps(*_ELEMENTWISE)
def elementwise(b: Builder, node: Node) -> None:
    dtype = node.dtype
    b.emit(_ELEMENTWISE[node.op], node, [b.value(p, dtype) for p in node.parents])


_COMPARISONS = {
    "less": "Less",
    "less_equal": "LessOrEqual",
    "greater": "Greater",
    "greater_equal": "GreaterOrEqual",
    "equal": "Equal",
}


@maps(*_COMPARISONS, "not_equal")
def comparison(b: Builder, node: Node) -> None:
    dtype = _operand_dtype(node)
    operands = [b.value(p, dtype) for p in node.parents]
    if node.op == "not_equal":
        b.emit("Not", node, [b.op("Equal", operands)])
    else:
        b.emit(_COMPARISONS[node.op], node, operands)


@maps("where")
def where(b: Builder, node: Node) -> None:
    cond, x, y = node.parents
    b.emit("Where", node, [b.value(cond, np.bool_), b.value(x, node.dtype), b.value(y, node.dtype)])


@maps("astype")
def astype(b: Builder, node: Node) -> None:
    b.emit("Cast", node, [b.value(node.parents[0])], to=onnx_dtype(node.dtype))


@maps("matmul")
def matmul(b: Builder, node: Node) -> None:
    b.emit("MatMul", node, [b.value(p, node.dtype) for p in node.parents])


_REDUCTIONS = {"sum": "ReduceSum", "mean": "ReduceMean", "max": "ReduceMax", "min": "ReduceMin"}


@maps(*_REDUCTIONS)
def reduction(b: Builder, node: Node) -> None:
    (x,) = node.parents
    axes = normalize_axes(attr(node, "axis"), x.ndim, node.op)
    keep = int(bool(attr(node, "keepdims", False)))
    if not axes:  # a 0-d input: nothing to reduce
        b.emit("Identity", node, [b.value(x, node.dtype)])
        return
    b.axes_op(_REDUCTIONS[node.op], b.value(x, node.dtype), axes, b.name_of(node), keepdims=keep)


def reshape_spec(old: tuple[int, ...], new: tuple[int, ...]) -> list[int]:
    """An ONNX Reshape target for ``old -> new`` that follows a changing batch size.

    Leading axes that keep their size are written 0 ("copy the input's"); the first of the others,
    if any, is -1 (inferred), which is where a batch axis merged into another ends up.
    """
    kept = 0
    while kept < min(len(old), len(new)) and old[kept] == new[kept]:
        kept += 1
    spec = [0] * kept + list(new[kept:])
    if kept < len(new) and 0 not in new:
        spec[kept] = -1
    return spec


@maps("reshape")
def reshape(b: Builder, node: Node) -> None:
    (x,) = node.parents
    spec = reshape_spec(x.shape, node.shape)
    b.emit("Reshape", node, [b.value(x), b.ints(spec)])


@maps("transpose")
def transpose(b: Builder, node: Node) -> None:
    (x,) = node.parents
    axes = attr(node, "axes")
    perm = list(reversed(range(x.ndim))) if axes is None else [int(a) % x.ndim for a in axes]
    b.emit("Transpose", node, [b.value(x)], perm=perm)


@maps("broadcast_to")
def broadcast_to(b: Builder, node: Node) -> None:
    b.emit("Expand", node, [b.value(node.parents[0]), b.ints(node.shape)])


@maps("sum_to")
def sum_to(b: Builder, node: Node) -> None:
    (x,) = node.parents
    axes, _ = sum_to_axes(x.shape, node.shape)
    if not axes:
        b.emit("Identity", node, [b.value(x)])
        return
    summed = b.axes_op("ReduceSum", b.value(x), axes, keepdims=1)
    b.emit("Reshape", node, [summed, b.ints(reshape_spec(x.shape, node.shape))])


def _index_parts(node: Node) -> tuple:
    """The getitem index with ``...`` expanded: one entry per input axis, plus the Nones.

    Ints, slices, None and one integer array export; a boolean mask (its result's size depends on
    the values) and several arrays (numpy's rules move their axes) do not, and say so.
    """
    index = attr(node, "index")
    parts = index if isinstance(index, tuple) else (index,)
    arrays = [p for p in parts if isinstance(p, np.ndarray) and p.ndim > 0]
    if any(p.dtype == bool for p in arrays):
        raise OnnxExportError(
            "a boolean mask index has no ONNX mapping (its result's size depends on the values)"
        )
    scalars = [
        p for p in parts if isinstance(p, (int, np.integer)) or (isinstance(p, np.ndarray) and p.ndim == 0)
    ]
    if len(arrays) > 1 or (arrays and scalars):
        raise OnnxExportError(
            f"an index mixing several arrays, or arrays and ints, has no ONNX mapping (index {index!r}); "
            "ints, slices, None, ... and a single integer array export"
        )
    dots = [i for i, p in enumerate(parts) if p is Ellipsis]
    if len(dots) > 1:
        raise OnnxExportError(f"the index {index!r} has more than one ...")
    consuming = sum(p is not None and p is not Ellipsis for p in parts)
    fill = (slice(None),) * (node.parents[0].ndim - consuming)
    if dots:
        return parts[: dots[0]] + fill + parts[dots[0] + 1 :]
    return parts + fill


@maps("getitem")
def getitem(b: Builder, node: Node) -> None:
    """Slice for the slices, then, axis by axis, Gather for ints and an array, Unsqueeze for None."""
    (x,) = node.parents
    parts = _index_parts(node)
    value = b.value(x)
    starts, ends, axes, steps = [], [], [], []
    for axis, p in enumerate(p for p in parts if p is not None):
        if isinstance(p, slice) and p != slice(None):
            step = 1 if p.step is None else int(p.step)
            low, high = (INT64_MIN, INT64_MAX) if step > 0 else (INT64_MAX, INT64_MIN)
            starts.append(low if p.start is None else int(p.start))
            ends.append(high if p.stop is None else int(p.stop))
            axes.append(axis)
            steps.append(step)
    steps_after: list[tuple[str, int, Any]] = []  # (ONNX op, output axis, indices)
    out_axis = 0
    for p in parts:
        if p is None:
            steps_after.append(("Unsqueeze", out_axis, None))
            out_axis += 1
        elif isinstance(p, slice):
            out_axis += 1
        else:
            steps_after.append(("Gather", out_axis, p))
            out_axis += np.ndim(p)
    if axes:
        output = b.name_of(node) if not steps_after else None
        value = b.op("Slice", [value, b.ints(starts), b.ints(ends), b.ints(axes), b.ints(steps)], output)
    for k, (op, axis, indices) in enumerate(steps_after):
        output = b.name_of(node) if k == len(steps_after) - 1 else None
        if op == "Unsqueeze":
            value = b.axes_op("Unsqueeze", value, [axis], output)
        else:
            source = b.value_of_array(indices, np.int64)  # an input's values index: they stay an input
            where = source if source is not None else b.const(np.asarray(indices, dtype=np.int64), "index")
            value = b.op("Gather", [value, where], output, axis=axis)
    if not axes and not steps_after:
        b.emit("Identity", node, [value])


@maps("pad")
def pad(b: Builder, node: Node) -> None:
    (x,) = node.parents
    pairs = pad_pairs(attr(node, "pad_width"), x.ndim)
    pads = [p[0] for p in pairs] + [p[1] for p in pairs]
    b.emit("Pad", node, [b.value(x), b.ints(pads, "pads")])


@maps("concatenate")
def concatenate(b: Builder, node: Node) -> None:
    axis = normalize_axes(attr(node, "axis", 0), node.ndim, "concatenate")[0]
    b.emit("Concat", node, [b.value(p, node.dtype) for p in node.parents], axis=axis)


@maps("stack")
def stack(b: Builder, node: Node) -> None:
    axis = normalize_axes(attr(node, "axis", 0), node.ndim, "stack")[0]
    parts = [b.axes_op("Unsqueeze", b.value(p, node.dtype), [axis]) for p in node.parents]
    b.emit("Concat", node, parts, axis=axis)


# ---------------------------------------------------------------------- fused primitives
@maps("affine")
def affine(b: Builder, node: Node) -> None:
    """``x Wᵀ + b``: one Gemm for a batch of rows, MatMul + Add otherwise."""
    x, w, bias = node.parents
    names = [b.value(x, node.dtype), b.value(w, node.dtype), b.value(bias, node.dtype)]
    if x.ndim == 2:
        b.emit("Gemm", node, names, transB=1)
        return
    product = b.op("MatMul", [names[0], b.op("Transpose", [names[1]], perm=[1, 0])])
    b.emit("Add", node, [product, names[2]])


def is_zero_constant(node: Node) -> bool:
    return node.is_constant and not np.any(node.data)


@maps("rnn_affine")
def rnn_affine(b: Builder, node: Node) -> None:
    """``x W_ihᵀ + h W_hhᵀ + b``; the first step's zero state contributes nothing and is left out.

    Leaving it out also keeps the graph free of a zeros constant sized by the traced batch.
    """
    x, h, wi, wh, bias = node.parents
    dtype = node.dtype
    total = b.op("MatMul", [b.value(x, dtype), b.value(wi, dtype)])
    if not is_zero_constant(h):
        total = b.op("Add", [total, b.op("MatMul", [b.value(h, dtype), b.value(wh, dtype)])])
    if is_zero_constant(bias):
        b.emit("Identity", node, [total])
    else:
        b.emit("Add", node, [total, b.value(bias, dtype)])


@maps("conv2d_gemm")
def conv2d_gemm(b: Builder, node: Node) -> None:
    """Conv (stride 1, one group), the padding as explicit (possibly uneven, for "same") pads."""
    w = node.parents[1]
    dilation = list(attr(node, "dilation", (1, 1)))
    pairs = conv_padding(attr(node, "padding", (0, 0)), tuple(w.shape[2:]), tuple(dilation))
    inputs = [b.value(p, node.dtype) for p in node.parents]
    pads = [lo for lo, _ in pairs] + [hi for _, hi in pairs]
    b.emit("Conv", node, inputs, kernel_shape=list(w.shape[2:]), dilations=dilation, pads=pads)


@maps("window_max")
def window_max(b: Builder, node: Node) -> None:
    """MaxPool (no padding); an input without a batch axis is given one for it."""
    (x,) = node.parents
    options = {
        "kernel_shape": list(attr(node, "kernel_size")),
        "strides": list(attr(node, "stride")),
        "dilations": list(attr(node, "dilation")),
    }
    on_batch(b, x, node, 2, lambda value, output: b.op("MaxPool", [value], output, **options))


@maps("softmax_cross_entropy")
def softmax_cross_entropy(b: Builder, node: Node) -> None:
    """ONNX's SoftmaxCrossEntropyLoss; the class indices are a constant of the graph (traced ones)."""
    (logits,) = node.parents
    target = np.asarray(attr(node, "target")).astype(np.int64)
    reduction = attr(node, "reduction", "mean")
    b.emit(
        "SoftmaxCrossEntropyLoss",
        node,
        [b.value(logits), b.const(target, "target")],
        reduction=reduction,
    )


# ---------------------------------------------------------------------- further elementwise ops
# (written by name: the ops that are not registered in this version are never looked up)
_UNARY = {
    "sin": "Sin",
    "cos": "Cos",
    "tan": "Tan",
    "arcsin": "Asin",
    "arccos": "Acos",
    "arctan": "Atan",
    "sinh": "Sinh",
    "cosh": "Cosh",
    "arcsinh": "Asinh",
    "arccosh": "Acosh",
    "arctanh": "Atanh",
    "floor": "Floor",
    "ceil": "Ceil",
    "erf": "Erf",
}


@maps(*_UNARY)
def unary(b: Builder, node: Node) -> None:
    b.emit(_UNARY[node.op], node, [b.value(node.parents[0], node.dtype)])


@maps("log1p", "expm1", "log2", "log10")
def log_exp_variants(b: Builder, node: Node) -> None:
    """``log(1 + x)``, ``exp(x) - 1``, and logarithms in base 2 and 10, from Log and Exp."""
    x = b.value(node.parents[0], node.dtype)
    one = b.const(np.ones((), node.dtype), "one")
    if node.op == "log1p":
        b.emit("Log", node, [b.op("Add", [x, one])])
    elif node.op == "expm1":
        b.emit("Sub", node, [b.op("Exp", [x]), one])
    else:
        scale = b.const(np.asarray(1 / np.log(2.0 if node.op == "log2" else 10.0), node.dtype), "inverse_log")
        b.emit("Mul", node, [b.op("Log", [x]), scale])


@maps("softplus")
def softplus(b: Builder, node: Node) -> None:
    """``(1/β) log(1 + e^(βx))``, and ``x`` itself where ``βx > threshold`` (PyTorch's rule)."""
    x = b.value(node.parents[0], node.dtype)
    beta, threshold = float(attr(node, "beta", 1.0)), float(attr(node, "threshold", 20.0))
    scaled = x if beta == 1.0 else b.op("Mul", [x, b.const(np.asarray(beta, node.dtype), "beta")])
    soft = b.op("Softplus", [scaled])
    if beta != 1.0:
        soft = b.op("Div", [soft, b.const(np.asarray(beta, node.dtype), "beta")])
    linear = b.op("Greater", [scaled, b.const(np.asarray(threshold, node.dtype), "threshold")])
    b.emit("Where", node, [linear, x, soft])


@maps("clip")
def clip(b: Builder, node: Node) -> None:
    """Clip for scalar bounds; Max then Min for bounds that are arrays (Clip takes scalars only)."""
    bounds = [attr(node, "min"), attr(node, "max")]
    x = b.value(node.parents[0], node.dtype)
    if all(v is None or np.ndim(v) == 0 for v in bounds):
        names = ["" if v is None else b.const(np.asarray(v, node.dtype), "bound") for v in bounds]
        b.emit("Clip", node, [x, *names])
        return
    steps = [(op, v) for op, v in zip(("Max", "Min"), bounds) if v is not None]
    for k, (op, v) in enumerate(steps):
        output = b.name_of(node) if k == len(steps) - 1 else None
        x = b.op(op, [x, b.const(np.asarray(v, node.dtype), "bound")], output)


@maps("flip")
def flip(b: Builder, node: Node) -> None:
    (x,) = node.parents
    axes = normalize_axes(attr(node, "axis"), x.ndim, "flip")
    n = len(axes)
    inputs = [b.value(x), b.ints([-1] * n), b.ints([INT64_MIN] * n), b.ints(axes), b.ints([-1] * n)]
    b.emit("Slice", node, inputs)
