"""Composite calls as the native ONNX operator they are: conv2d → Conv, softmax → Softmax, ...

A mapping receives the builder and one :class:`~tinygraph.onnx._trace.Call` (the call's nodes, its
inputs and outputs). The composite's arguments are not recorded, so each mapping reads them back
from the primitives its definition recorded (the strides from ``sliding_window``, the padding from
``pad``, the axis from ``sum``). A mapping returns False when the call is not in the form it knows
(another variant, or a definition that changed): the exporter then writes the call's primitives
one by one instead, and names the first one without a mapping if that fails too.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tinygraph.node import Node
from tinygraph.onnx._builder import Builder, OnnxExportError, on_batch
from tinygraph.onnx._trace import Call
from tinygraph.ops.axes import normalize_axes
from tinygraph.ops.shape import pad_pairs

Mapping = Callable[[Builder, Call], bool]
COMPOSITES: dict[str, Mapping] = {}


def maps(*names: str) -> Callable[[Mapping], Mapping]:
    def decorate(fn: Mapping) -> Mapping:
        for name in names:
            COMPOSITES[name] = fn
        return fn

    return decorate


def _single_input(call: Call) -> Node | None:
    inputs = call.tensor_inputs()
    return inputs[0] if len(inputs) == 1 else None


def _spatial_pads(call: Call, window: Node, nd: int) -> tuple[Node, list[int]]:
    """The call's input before its ``pad`` (if any) and ONNX pads [begin..., end...] of the last ``nd`` axes.

    ``window`` is the ``sliding_window`` node; between it and the pad there may be a ``where``
    (max pooling keeps the padding from winning).
    """
    source = window.parents[0]
    if source.op == "where" and call.contains(source):
        source = source.parents[1]
    if source.op == "pad" and call.contains(source):
        pairs = pad_pairs(source.attrs["pad_width"], source.parents[0].ndim)[-nd:]
        return source.parents[0], [p[0] for p in pairs] + [p[1] for p in pairs]
    return source, [0] * (2 * nd)


@maps("conv1d", "conv2d")
def convolution(b: Builder, call: Call) -> bool:
    """Conv: the strides and dilations from ``sliding_window``, pads from ``pad``, W and b by role.

    The groups are what the shapes say: ``C_in / W.shape[1]`` (the filters of a grouped
    convolution see ``C_in / groups`` channels each).
    """
    windows = call.find("sliding_window")
    products = call.find("matmul")
    if len(windows) != 1 or len(products) != 1:
        return False
    window, product = windows[0], products[0]
    nd = len(window.attrs["window"])
    x, pads = _spatial_pads(call, window, nd)
    w_view = product.parents[0]
    if w_view.op != "reshape" or call.contains(w_view.parents[0]):
        return False
    w = w_view.parents[0]
    (out,) = call.outputs
    inputs = [b.value(x), b.value(w, x.dtype)]
    if out.op == "add" and out.parents[1].op == "reshape":
        inputs.append(b.value(out.parents[1].parents[0], x.dtype))
    groups = {"group": x.shape[1] // w.shape[1]} if x.shape[1] != w.shape[1] else {}
    b.emit(
        "Conv",
        out,
        inputs,
        kernel_shape=list(w.shape[2:]),
        strides=list(window.attrs["stride"]),
        dilations=list(window.attrs["dilation"]),
        pads=pads,
        **groups,
    )
    return True


@maps("max_pool2d")
def max_pool2d(b: Builder, call: Call) -> bool:
    """MaxPool with the padding as explicit (possibly uneven, for ceil_mode) pads, which never win."""
    windows = call.find("sliding_window")
    if len(windows) != 1 or call.outputs[0].op != "max":
        return False
    window = windows[0]
    x, pads = _spatial_pads(call, window, 2)
    options = {
        "kernel_shape": list(window.attrs["window"]),
        "strides": list(window.attrs["stride"]),
        "dilations": list(window.attrs["dilation"]),
        "pads": pads,
    }
    on_batch(b, x, call.outputs[0], 2, lambda value, output: b.op("MaxPool", [value], output, **options))
    return True


@maps("avg_pool2d")
def avg_pool2d(b: Builder, call: Call) -> bool:
    """AveragePool; the divisors PyTorch's options give (count_include_pad, ceil_mode) as a constant.

    A call that averaged every window over its full size is one AveragePool over the zero-padded
    input. Otherwise the windows were summed and divided by a per-position count: the export pads,
    averages over the full window, and rescales by ``window size / count``.
    """
    windows = call.find("sliding_window")
    (out,) = call.outputs
    if len(windows) != 1:
        return False
    window = windows[0]
    x, pads = _spatial_pads(call, window, 2)
    kernel = list(window.attrs["window"])
    options = {"kernel_shape": kernel, "strides": list(window.attrs["stride"])}
    if out.op == "mean":

        def build(value: str, output: str) -> str:
            return b.op("AveragePool", [value], output, pads=pads, count_include_pad=1, **options)

    elif out.op == "div" and out.parents[1].is_constant:
        scale = np.prod(kernel) / np.asarray(out.parents[1].data, dtype=out.dtype)

        def build(value: str, output: str) -> str:
            if any(pads):
                value = b.op("Pad", [value, b.ints([0, 0, *pads[:2], 0, 0, *pads[2:]], "pads")])
            pooled = b.op("AveragePool", [value], **options)
            return b.op("Mul", [pooled, b.const(scale.astype(out.dtype), "window_over_count")], output)

    else:
        return False
    on_batch(b, x, out, 2, build)
    return True


@maps("adaptive_avg_pool2d")
def adaptive_avg_pool2d(b: Builder, call: Call) -> bool:
    """GlobalAveragePool for a 1×1 output, AveragePool when the bins tile the input evenly.

    Other output sizes have bins of unequal sizes; those calls are written as their definition
    (two MatMuls with the averaging matrices), which ONNX runs as well.
    """
    x = _single_input(call)
    (out,) = call.outputs
    if x is None:
        return False
    (h, w), (oh, ow) = x.shape[-2:], out.shape[-2:]
    if h % oh or w % ow:
        return False
    kernel = [h // oh, w // ow]

    def build(value: str, output: str) -> str:
        if (oh, ow) == (1, 1):
            return b.op("GlobalAveragePool", [value], output)
        return b.op("AveragePool", [value], output, kernel_shape=kernel, strides=kernel)

    on_batch(b, x, out, 2, build)
    return True


def _reduced_axis(call: Call) -> int | None:
    """The axis of the call's (single) ``sum``: softmax's, log_softmax's and logsumexp's axis."""
    sums = call.find("sum")
    if len(sums) != 1:
        return None
    s = sums[0]
    axes = normalize_axes(s.attrs["axis"], s.parents[0].ndim, "sum")
    return axes[0] if len(axes) == 1 else None


@maps("softmax", "log_softmax")
def softmax(b: Builder, call: Call) -> bool:
    """Softmax / LogSoftmax along the recorded axis (ONNX subtracts the maximum itself)."""
    x, axis = _single_input(call), _reduced_axis(call)
    if x is None or axis is None:
        return False
    b.emit("Softmax" if call.name == "softmax" else "LogSoftmax", call.outputs[0], [b.value(x)], axis=axis)
    return True


@maps("logsumexp")
def logsumexp(b: Builder, call: Call) -> bool:
    x, axis = _single_input(call), _reduced_axis(call)
    if x is None or axis is None:
        return False
    (out,) = call.outputs
    keep = int(out.ndim == x.ndim)
    b.axes_op("ReduceLogSumExp", b.value(x), [axis], b.name_of(out), keepdims=keep)
    return True


@maps("dropout")
def dropout(b: Builder, call: Call) -> bool:
    """Dropout in training mode multiplies by a random mask, which an inference graph must not bake."""
    raise OnnxExportError(
        f"onnx.export: {call.path} ran in training mode (a random mask multiplies the input); "
        "call model.eval() (or pass training=False) before exporting"
    )
