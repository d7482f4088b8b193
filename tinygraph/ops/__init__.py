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
from tinygraph.ops.fused import affine, rnn_affine, softmax_cross_entropy
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
from tinygraph.ops.window import fold, sliding_window
from tinygraph.registry import ARRAY, GRAPH

__all__ = [
    "ARRAY", "GRAPH",
    "abs", "add", "affine", "astype", "broadcast_to", "concatenate", "div", "equal", "exp",
    "expand_dims", "flatten", "fold", "getitem", "greater", "greater_equal", "less", "less_equal",
    "log", "matmul", "max", "maximum", "mean", "min", "minimum", "mul", "neg", "not_equal", "pad",
    "pow", "relu", "reshape", "rnn_affine", "scatter_add", "sigmoid", "sign", "sliding_window",
    "softmax_cross_entropy", "sqrt", "squeeze", "stack", "sub", "sum", "sum_to", "tanh",
    "transpose", "where",
]  # fmt: skip

# numpy ufunc name -> tinygraph op, for Node.__array_ufunc__ (``np.ones(3) + node``, ``np.exp(node)``).
UFUNC_OPS = {
    "add": add, "subtract": sub, "multiply": mul, "divide": div, "true_divide": div, "power": pow,
    "negative": neg, "exp": exp, "log": log, "tanh": tanh, "sqrt": sqrt, "absolute": abs,
    "maximum": maximum, "minimum": minimum, "matmul": matmul, "less": less, "less_equal": less_equal,
    "greater": greater, "greater_equal": greater_equal, "equal": equal, "not_equal": not_equal,
    "sign": sign,
}  # fmt: skip
