"""Normalisation layers' functional forms — batch_norm, layer_norm, group_norm — and embedding.

Each normaliser is a composite: subtract a mean, divide by ``√(var + eps)`` (the biased variance,
as PyTorch), then scale and shift per channel. A rendering shows it as one box that opens into
those few primitives, and backward through the mean and variance is ordinary backward.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygraph.errors import OpError
from tinygraph.functional._args import as_node, check_flag
from tinygraph.node import Node
from tinygraph.ops import getitem, mean, reshape, sqrt, where
from tinygraph.registry import Sample, composite, constant

__all__ = ["batch_norm", "embedding", "group_norm", "layer_norm"]


def _standardize(x: Node, axes: tuple[int, ...], eps: float) -> Node:
    """``(x - mean) / √(var + eps)`` over ``axes`` (kept), with the biased variance."""
    d = x - mean(x, axis=axes, keepdims=True)
    var = mean(d * d, axis=axes, keepdims=True)
    return d / sqrt(var + eps)


def _affine(op: str, y: Node, weight: Any, bias: Any, shape: tuple[int, ...], what: str) -> Node:
    """``y · weight + bias``, each of ``shape`` (or None) broadcast along ``what`` of ``y``."""
    target = [1] * y.ndim
    for name, p in (("weight", weight), ("bias", bias)):
        if p is None:
            continue
        p = as_node(p)
        if p.shape != shape:
            raise OpError(f"{op}: {name} of shape {p.shape} does not match {what} {shape} of input {y.shape}")
    if what == "the channels":
        target[1] = shape[0]
    else:
        target[y.ndim - len(shape) :] = shape
    if weight is not None:
        y = y * reshape(as_node(weight), tuple(target))
    if bias is not None:
        y = y + reshape(as_node(bias), tuple(target))
    return y


def _check_eps(op: str, eps: Any) -> float:
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating)) or not eps >= 0:
        raise OpError(f"{op}: eps must be a non-negative number, got {eps!r}")
    return float(eps)


def _stat(op: str, name: str, value: Any, channels: int) -> np.ndarray | None:
    if value is None:
        return None
    arr = value.data if isinstance(value, Node) else value
    if not isinstance(arr, np.ndarray) or arr.shape != (channels,):
        raise OpError(
            f"{op}: {name} must be an array of shape ({channels},), one entry per channel; got "
            f"{getattr(arr, 'shape', type(arr).__name__)}"
        )
    return arr


@composite(
    "batch_norm",
    formula="y = (x - μ) / √(σ² + ε) · γ + β,  μ, σ² over the batch and spatial axes of each channel\n"
    "(evaluation: the running averages; training updates them: r ← (1 - m) r + m · stat, σ² unbiased)",
    samples=(
        Sample((4, 3), None, None, (3,), (3,), training=True),
        Sample((2, 3, 2, 2), None, None, (3,), (3,), training=True, eps=1e-3),
        Sample((3, 2, 4), np.array([0.1, -0.2]), np.array([1.5, 0.5]), (2,), (2,)),
    ),
)
def batch_norm(
    x: Node,
    running_mean: Any,
    running_var: Any,
    weight: Any = None,
    bias: Any = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Node:
    """Batch normalisation of x (N, C, ...) per channel, as ``torch.nn.functional.batch_norm``.

    Parameters
    ----------
    x : Node of shape (N, C) or (N, C, d1, ...)
    running_mean, running_var : arrays of shape (C,), or None
        Used in evaluation. In training they are updated in place,
        ``r ← (1 - momentum) · r + momentum · s`` with ``s`` the batch mean and the *unbiased*
        batch variance (as PyTorch); the normalisation itself uses the biased variance.
    weight, bias : (C,), optional — the learned scale γ and shift β
    training : normalise with the batch's statistics (True) or the running ones (False)
    momentum : float
    eps : float, added to the variance
    """
    op = "batch_norm"
    training = check_flag(op, "training", training)
    eps = _check_eps(op, eps)
    x = as_node(x)
    if x.ndim < 2:
        raise OpError(f"{op}: input must have shape (N, C) or (N, C, d1, ...), got shape {x.shape}")
    c = x.shape[1]
    rm, rv = _stat(op, "running_mean", running_mean, c), _stat(op, "running_var", running_var, c)
    axes = (0, *range(2, x.ndim))
    stat_shape = (1, c) + (1,) * (x.ndim - 2)
    if training:
        count = x.size // c if c else 0
        if count <= 1:
            raise OpError(
                f"{op}: expected more than 1 value per channel when training, got input of shape {x.shape}"
            )
        y = _standardize(x, axes, eps)
        with np.errstate(all="ignore"):
            m = float(momentum)
            if rm is not None:
                rm *= 1.0 - m
                rm += m * x.data.mean(axis=axes)
            if rv is not None:
                rv *= 1.0 - m
                rv += m * x.data.var(axis=axes, ddof=1)
    else:
        if rm is None or rv is None:
            raise OpError(f"{op}: evaluation (training=False) needs running_mean and running_var")
        mu = constant(rm.reshape(stat_shape).astype(x.dtype, copy=False))
        sd = constant(np.sqrt(rv.reshape(stat_shape) + eps).astype(x.dtype, copy=False))
        y = (x - mu) / sd
    return _affine(op, y, weight, bias, (c,), "the channels")


@composite(
    "layer_norm",
    formula="y = (x - μ) / √(σ² + ε) · γ + β,  μ, σ² over the last len(normalized_shape) axes",
    samples=(
        Sample((3, 4), 4, (4,), (4,)),
        Sample((2, 3, 4), [3, 4], (3, 4), None, eps=1e-3),
    ),
)
def layer_norm(
    x: Node, normalized_shape: int | tuple[int, ...], weight: Any = None, bias: Any = None, eps: float = 1e-5
) -> Node:
    """Layer normalisation over the trailing ``normalized_shape`` axes, as PyTorch's ``layer_norm``."""
    op = "layer_norm"
    eps = _check_eps(op, eps)
    x = as_node(x)
    shape = (
        (int(normalized_shape),)
        if isinstance(normalized_shape, (int, np.integer))
        else tuple(normalized_shape)
    )
    if not shape or x.shape[x.ndim - len(shape) :] != shape or len(shape) > x.ndim:
        raise OpError(
            f"{op}: normalized_shape {shape} must be the trailing axes of the input, got shape {x.shape}"
        )
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    return _affine(op, _standardize(x, axes, eps), weight, bias, shape, "normalized_shape")


@composite(
    "group_norm",
    formula="y = (x - μ_g) / √(σ_g² + ε) · γ + β,  μ_g, σ_g² over each group of C/G channels (and space)",
    samples=(Sample((2, 4, 3), 2, (4,), (4,)), Sample((2, 6, 2, 2), 3, None, None, eps=1e-3)),
)
def group_norm(x: Node, num_groups: int, weight: Any = None, bias: Any = None, eps: float = 1e-5) -> Node:
    """Group normalisation (Wu & He), as ``torch.nn.functional.group_norm``: x (N, C, ...)."""
    op = "group_norm"
    eps = _check_eps(op, eps)
    x = as_node(x)
    if x.ndim < 2:
        raise OpError(f"{op}: input must have shape (N, C, ...), got shape {x.shape}")
    n, c = x.shape[:2]
    if not isinstance(num_groups, (int, np.integer)) or num_groups < 1 or c % num_groups:
        raise OpError(f"{op}: the {c} channels of input {x.shape} cannot be split into {num_groups!r} groups")
    grouped = reshape(x, (n, int(num_groups), -1))
    y = reshape(_standardize(grouped, (2,), eps), x.shape)
    return _affine(op, y, weight, bias, (c,), "the channels")


@composite(
    "embedding",
    formula="y[..., :] = W[i, :]   (a row lookup)\n∂L/∂W[k] = Σ of the gradients of the rows that read k",
    samples=(Sample(np.array([[0, 2], [2, 3]]), (4, 3)), Sample(np.array([1, 0, 1]), (3, 2))),
)
def embedding(input: Any, weight: Node, padding_idx: int | None = None) -> Node:
    """Rows of ``weight`` (num_embeddings, dim) picked by the integer indices ``input``.

    The output has shape ``input.shape + (dim,)``. With ``padding_idx`` the row at that index gets
    no gradient (as PyTorch).
    """
    op = "embedding"
    idx = np.asarray(input.data if isinstance(input, Node) else input)
    weight = as_node(weight)
    if weight.ndim != 2:
        raise OpError(f"{op}: weight must have shape (num_embeddings, embedding_dim), got {weight.shape}")
    if idx.dtype == bool or not np.issubdtype(idx.dtype, np.integer):
        raise OpError(f"{op}: indices must be integers, got dtype {idx.dtype}")
    rows = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= rows):
        bad = idx[(idx < 0) | (idx >= rows)].flat[0]
        raise OpError(f"{op}: index {int(bad)} is out of range for {rows} embeddings (weight {weight.shape})")
    if padding_idx is not None:
        p = int(padding_idx) + (rows if padding_idx < 0 else 0)
        if not 0 <= p < rows:
            raise OpError(f"{op}: padding_idx {padding_idx} is out of range for {rows} embeddings")
        frozen = np.zeros((rows, 1), bool)
        frozen[p] = True
        weight = where(constant(frozen), constant(weight.data), weight)
    return getitem(weight, idx)
