"""tinygraph: a computational-graph autodiff mini-framework you can see.

Build a model with ordinary Python operators, backpropagate, and render the graph the gradients
flow through. ``import tinygraph as tg``.
"""

from __future__ import annotations

from tinygraph import (
    _malloc,  # noqa: F401  first: glibc keeps freed arrays for reuse (see _malloc)
    autodiff,  # noqa: F401  next: it completes Node (its operators and backward; see node.bind_engine)
    data,
    functional,
    nn,
    optim,
)
from tinygraph._state import (
    decompose,
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from tinygraph.autodiff import backward, grad, toposort, trace_backward
from tinygraph.creation import (
    arange,
    eye,
    full,
    full_like,
    get_rng,
    linspace,
    manual_seed,
    ones,
    ones_like,
    rand,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from tinygraph.errors import (
    AnomalyError,
    BackwardError,
    GradcheckError,
    OpError,
    TinygraphError,
    TinygraphWarning,
)
from tinygraph.explore import Explorer, explore
from tinygraph.export import summarize, to_networkx
from tinygraph.io import load, save
from tinygraph.node import Node
from tinygraph.ops import (
    abs,
    astype,
    broadcast_to,
    concatenate,
    exp,
    expand_dims,
    flatten,
    log,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    relu,
    reshape,
    sigmoid,
    sqrt,
    squeeze,
    stack,
    sum,
    tanh,
    transpose,
    where,
)
from tinygraph.registry import REGISTRY
from tinygraph.render import render

__version__ = "0.1.0"

__all__ = [
    "REGISTRY",
    "AnomalyError",
    "BackwardError",
    "Explorer",
    "GradcheckError",
    "Node",
    "OpError",
    "TinygraphError",
    "TinygraphWarning",
    "abs",
    "astype",
    "backward",
    "broadcast_to",
    "concatenate",
    "data",
    "decompose",
    "detect_anomaly",
    "enable_grad",
    "exp",
    "expand_dims",
    "explore",
    "flatten",
    "functional",
    "get_rng",
    "grad",
    "is_grad_enabled",
    "load",
    "log",
    "manual_seed",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "nn",
    "no_grad",
    "ones",
    "ones_like",
    "optim",
    "pad",
    "rand",
    "randn",
    "relu",
    "render",
    "reshape",
    "save",
    "set_grad_enabled",
    "sigmoid",
    "sqrt",
    "squeeze",
    "stack",
    "sum",
    "summarize",
    "tanh",
    "tensor",
    "to_networkx",
    "toposort",
    "trace_backward",
    "transpose",
    "where",
    "zeros",
    "zeros_like",
]  # fmt: skip

# Tensor ops and creation functions of the PyTorch-habits issue (#14).
from tinygraph.ops import (
    all,
    any,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctanh,
    argmax,
    argmin,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    ceil,
    chunk,
    clip,
    cos,
    cosh,
    cumsum,
    einsum,
    erf,
    expm1,
    flip,
    floor,
    floor_divide,
    gather,
    isfinite,
    isinf,
    isnan,
    log1p,
    log2,
    log10,
    logaddexp,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    masked_fill,
    one_hot,
    prod,
    remainder,
    repeat_interleave,
    roll,
    round,
    sin,
    sinh,
    split,
    std,
    tan,
    tile,
    tril,
    triu,
    trunc,
    var,
)  # fmt: skip
from tinygraph.ops.indexing import scatter_add
from tinygraph.ops.padding import pad

# PyTorch's (and numpy 2's) other names for the same functions.
clamp = clip
asin, acos, atan, asinh, acosh, atanh = arcsin, arccos, arctan, arcsinh, arccosh, arctanh

__all__ += [
    "acos", "acosh", "all", "any", "arange", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctanh",
    "argmax", "argmin", "asin", "asinh", "atan", "atanh", "bitwise_and", "bitwise_not", "bitwise_or",
    "bitwise_xor", "ceil", "chunk", "clamp", "clip", "cos", "cosh", "cumsum", "einsum", "erf", "expm1", "eye",
    "flip", "floor", "floor_divide", "full", "full_like", "gather", "isfinite", "isinf", "isnan",
    "linspace", "log1p", "log2", "log10", "logaddexp", "logical_and", "logical_not", "logical_or",
    "logical_xor", "masked_fill", "one_hot", "prod", "remainder", "repeat_interleave", "roll", "round",
    "scatter_add", "sin", "sinh", "split", "std", "tan", "tile", "tril", "triu", "trunc", "var",
]  # fmt: skip


def __getattr__(name: str):
    """``tg.onnx``, imported on first use: the exporter needs the optional ``onnx`` package, tinygraph not."""
    if name == "onnx":
        import importlib

        return importlib.import_module("tinygraph.onnx")
    raise AttributeError(f"module 'tinygraph' has no attribute {name!r}")
