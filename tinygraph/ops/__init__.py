"""All primitive ops, and the two namespaces their local-derivative rules compute with.

``ARRAY`` holds each primitive's numpy forward (raw arrays: the fast backward pass) and ``GRAPH``
each primitive's recording function (Nodes: ``create_graph=True``). The registry fills both as each
primitive is declared, so a rule written as ``xp.sum_to(g, shape)`` means the same op either way.
"""

from __future__ import annotations

from tinygraph.ops.elementwise import (
    abs,
    add,
    astype,
    div,
    equal,
    exp,
    greater,
    greater_equal,
    less,
    less_equal,
    log,
    maximum,
    minimum,
    mul,
    neg,
    not_equal,
    pow,
    relu,
    sigmoid,
    sign,
    sqrt,
    sub,
    tanh,
    where,
)
from tinygraph.ops.fused import affine, conv2d_gemm, rnn_affine, softmax_cross_entropy, window_max
from tinygraph.ops.linalg import matmul
from tinygraph.ops.reductions import max, mean, min, sum
from tinygraph.ops.shape import (
    broadcast_to,
    concatenate,
    expand_dims,
    flatten,
    getitem,
    pad,
    reshape,
    scatter_add,
    squeeze,
    stack,
    sum_to,
    transpose,
)
from tinygraph.ops.special import erf as erf  # layers: special functions
from tinygraph.ops.special import softplus as softplus
from tinygraph.ops.window import fold, sliding_window

# Tensor ops of issue #14, declared after the core ops above: the generated ops reference lists
# ops in the order they are declared, so their sections follow the core's, composites last.
# isort: off
from tinygraph.ops.einsum import einsum
from tinygraph.ops.indexing import (
    chunk,
    flip,
    gather,
    one_hot,
    roll,
    scatter_add_along,
    split,
    tile,
    tril,
    triu,
)
from tinygraph.ops.logical import (
    bitwise_and, bitwise_not, bitwise_or, bitwise_xor, logical_and, logical_not, logical_or, logical_xor,
)  # fmt: skip
from tinygraph.ops.rounding import ceil, clip, floor, floor_divide, remainder, round, trunc
from tinygraph.ops.statistics import all, any, argmax, argmin, cumsum, prod
from tinygraph.ops.unary import (
    arccos, arccosh, arcsin, arcsinh, arctan, arctanh, cos, cosh, expm1, isfinite, isinf, isnan, log1p,
    log2, log10, sin, sinh, tan,
)  # fmt: skip
from tinygraph.ops.composites import logaddexp, masked_fill, pad_mode, repeat_interleave, std, var

# PyTorch's scatter_add(x, dim, index, src), for Node.scatter_add (``ops.scatter_add`` is the
# index-array primitive that getitem's gradient uses).
from tinygraph.ops.indexing import scatter_add as scatter_add_dim

# isort: on
from tinygraph.registry import ARRAY, GRAPH, accept_torch_names

__all__ = [
    "ARRAY", "GRAPH",
    "abs", "add", "affine", "astype", "broadcast_to", "concatenate", "conv2d_gemm", "div", "equal", "exp",
    "expand_dims", "flatten", "fold", "getitem", "greater", "greater_equal", "less", "less_equal",
    "log", "matmul", "max", "maximum", "mean", "min", "minimum", "mul", "neg", "not_equal", "pad",
    "pow", "relu", "reshape", "rnn_affine", "scatter_add", "sigmoid", "sign", "sliding_window",
    "softmax_cross_entropy", "sqrt", "squeeze", "stack", "sub", "sum", "sum_to", "tanh",
    "transpose", "where", "window_max",
]  # fmt: skip

# numpy ufunc name -> tinygraph op, for Node.__array_ufunc__ (``np.ones(3) + node``, ``np.exp(node)``).
UFUNC_OPS = {
    "add": add, "subtract": sub, "multiply": mul, "divide": div, "true_divide": div, "power": pow,
    "negative": neg, "exp": exp, "log": log, "tanh": tanh, "sqrt": sqrt, "absolute": abs,
    "maximum": maximum, "minimum": minimum, "matmul": matmul, "less": less, "less_equal": less_equal,
    "greater": greater, "greater_equal": greater_equal, "equal": equal, "not_equal": not_equal,
    "sign": sign,
}  # fmt: skip


# Tensor ops of issue #14.
__all__ += [
    "all",
    "any",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctanh",
    "argmax",
    "argmin",
    "bitwise_and",
    "bitwise_not",
    "bitwise_or",
    "bitwise_xor",
    "ceil",
    "chunk",
    "clip",
    "cos",
    "cosh",
    "cumsum",
    "einsum",
    "expm1",
    "flip",
    "floor",
    "floor_divide",
    "gather",
    "isfinite",
    "isinf",
    "isnan",
    "log1p",
    "log2",
    "log10",
    "logaddexp",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "masked_fill",
    "one_hot",
    "pad_mode",
    "prod",
    "remainder",
    "repeat_interleave",
    "roll",
    "round",
    "scatter_add_along",
    "scatter_add_dim",
    "sin",
    "sinh",
    "split",
    "std",
    "tan",
    "tile",
    "tril",
    "triu",
    "trunc",
    "var",
]  # fmt: skip
UFUNC_OPS.update({
    "sin": sin, "cos": cos, "tan": tan, "arcsin": arcsin, "arccos": arccos, "arctan": arctan,
    "sinh": sinh, "cosh": cosh, "arcsinh": arcsinh, "arccosh": arccosh, "arctanh": arctanh,
    "log1p": log1p, "expm1": expm1, "log2": log2, "log10": log10, "isnan": isnan, "isinf": isinf,
    "isfinite": isfinite, "floor": floor, "ceil": ceil, "trunc": trunc, "floor_divide": floor_divide,
    "remainder": remainder, "bitwise_and": bitwise_and, "bitwise_or": bitwise_or,
    "bitwise_xor": bitwise_xor, "invert": bitwise_not, "logical_and": logical_and,
    "logical_or": logical_or, "logical_xor": logical_xor, "logical_not": logical_not,
    "logaddexp": logaddexp,
})  # fmt: skip

# PyTorch's dim=/start_dim=/end_dim= also for the shape helpers that are plain functions.
flatten, expand_dims, squeeze = (accept_torch_names(f) for f in (flatten, expand_dims, squeeze))
