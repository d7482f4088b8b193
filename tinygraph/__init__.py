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
from tinygraph.creation import get_rng, manual_seed, ones, ones_like, rand, randn, tensor, zeros, zeros_like
from tinygraph.errors import AnomalyError, BackwardError, GradcheckError, OpError, TinygraphError
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
    pad,
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
    "GradcheckError",
    "Node",
    "OpError",
    "TinygraphError",
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
