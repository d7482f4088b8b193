"""Fused primitives: a whole composite computed in one op, for speed.

Each is declared with ``fuses=`` naming the composite (in :mod:`tinygraph.functional`) it computes,
takes that composite's arguments, and is what the composite runs unless :func:`tinygraph.decompose`
asks for the definition in primitives. The test suite checks that both agree; renderings that open
the composite's call record the definition instead. ``docs/performance.md`` has the measurements.

- ``affine`` fuses ``linear`` with a bias: ``x Wᵀ + b`` with the bias added in place and its gradient
  summed directly, where the definition records three ops and unbroadcasts the bias gradient.
- ``softmax_cross_entropy`` fuses ``cross_entropy`` with class indices: ``logsumexp(x_n) - x[n, t_n]``
  with the exponentials kept for the backward — four passes over the logits where
  ``nll_loss(log_softmax(logits), target)`` makes about ten.
- ``rnn_affine`` fuses ``rnn_linear``, an Elman step's ``x·W_ihᵀ + h·W_hhᵀ + b``: two matmuls and
  two adds in one node, which an unrolled sequence makes once per step (fusing halves the nodes the
  backward walks through: about 20% faster for a 50-step sequence).
"""

from __future__ import annotations

import numpy as np

from tinygraph import _blas
from tinygraph.registry import Sample, primitive

_LABELS = np.array([1, 0, 3])


def _rows(xp, a, width: int):
    """``a`` as a matrix of rows of length ``width`` (the batch axes flattened).

    The row count is spelled out rather than ``-1``, which numpy cannot infer when ``width`` is 0.
    """
    shape = a.shape
    rows = 1
    for d in shape[:-1]:
        rows *= d
    return xp.reshape(a, (rows, width))


@primitive(
    "affine",
    formula="y = x Wᵀ + b\n∂L/∂x = G W,  ∂L/∂W = Gᵀ x,  ∂L/∂b = Σ_batch G   (batch axes flattened)",
    vjp=(
        lambda xp, g, z, x, w, b: xp.matmul(g, w),
        lambda xp, g, z, x, w, b: xp.matmul(xp.transpose(_rows(xp, g, w.shape[0])), _rows(xp, x, w.shape[1])),
        lambda xp, g, z, x, w, b: xp.sum(_rows(xp, g, w.shape[0]), axis=0),
    ),
    fuses="linear",
    samples=(Sample((3, 4), (2, 4), (2,)), Sample((2, 3, 4), (5, 4), (5,)), Sample((4,), (3, 4), (3,))),
)
def affine(x, w, b):
    """``x @ w.T + b`` in one op (the fused form of :func:`linear` with a bias), the bias added in place."""
    y = np.matmul(x, w.T)
    if y.dtype == np.result_type(y, b):
        y += b
        return y
    return y + b


def _row_sums(a: np.ndarray) -> np.ndarray:
    """``a.sum(axis=1)`` of a 2-D array as one matrix-vector product (BLAS: ~4x faster than numpy's sum)."""
    return a @ np.ones(a.shape[1], a.dtype)


def _softmax_cross_entropy_vjp(xp, g, z, logits, target, reduction, saved):
    n = logits.shape[0]
    rows = np.arange(n)
    if saved is None:  # create_graph: the softmax recorded again with xp ops, to differentiate again
        onehot = np.zeros(logits.shape, logits.dtype)
        onehot[rows, target] = 1
        e = xp.exp(logits - xp.max(logits, axis=1, keepdims=True))
        d = e / xp.sum(e, axis=1, keepdims=True) - onehot
        if reduction == "none":
            return d * xp.reshape(g, (n, 1))
        return d * (g / n) if reduction == "mean" else d * g
    e, s = saved  # exp(x - c) and its row sums, for a per-row shift c (softmax = e / s)
    # G for each row: a scalar for "mean" (G / N) and "sum", one per row for "none"
    per_row = g / max(n, 1) if reduction == "mean" else g  # (n = 0: an empty batch)
    out = e * (per_row / s)[:, None]  # G · softmax, in one pass over the logits
    out[rows, target] -= per_row
    return out


@primitive(
    "softmax_cross_entropy",
    formula="ℓ_n = logsumexp(x_n) - x[n, t_n],  L = mean_n ℓ_n (or Σ_n ℓ_n, or ℓ)\n"
    "∂ℓ_n/∂x[n, c] = softmax(x_n)_c - [c = t_n]",
    vjp=(_softmax_cross_entropy_vjp,),
    saves=True,
    fuses="cross_entropy",
    samples=(
        Sample((3, 4), target=_LABELS),
        Sample((3, 4), target=_LABELS, reduction="sum"),
        Sample((3, 4), target=_LABELS, reduction="none"),
        Sample((2, 3), target=np.array([2, 2]), domain=(-900.0, 900.0), second_order=False),
        Sample((2, 3), target=np.array([0, 1]), domain=(-1000.0, -800.0), second_order=False),
    ),
)
def softmax_cross_entropy(logits, target, reduction="mean"):
    """Cross-entropy of class indices in one op (the fused form of :func:`cross_entropy`).

    ``ℓ_n = logsumexp(x_n) - x[n, t_n]``. The row sums ``s_n = Σ_c exp(x[n, c])`` are taken
    without the usual shift by the row maximum when they come out finite and well above the
    smallest normal number (then no term that matters overflowed or lost precision); otherwise
    they are recomputed stably as ``exp(m_n) Σ_c exp(x[n, c] - m_n)``. The exponentials and their
    sums are kept for the backward, ``(softmax(x_n) - onehot(t_n)) · G``.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow only sends us to the stable path
        e = np.exp(logits)
        s = _row_sums(e)
    info = np.finfo(logits.dtype)
    # The per-sample arithmetic is in extended precision: logsumexp(x_n) and x[n, t_n] may both be
    # large while ℓ_n is small, and rounding log(s_n) to the logits' precision would cost the loss
    # digits that log_softmax's (x - m) - log Σ exp(x - m) keeps.
    # (ufunc reductions rather than .min()/.max(), whose Python wrappers cost more than a few rows)
    if not s.size or (np.minimum.reduce(s) >= info.tiny / info.eps**2 and np.maximum.reduce(s) < np.inf):
        lse = np.log(s.astype(np.longdouble))
    else:
        m = logits.max(axis=1, keepdims=True)
        e = np.subtract(logits, m, out=e)
        np.exp(e, out=e)
        s = _row_sums(e)
        lse = np.log(s.astype(np.longdouble)) + m.reshape(-1)
    losses = lse - logits[np.arange(logits.shape[0]), target]
    if reduction == "mean" and not losses.size:  # an empty batch: the mean of nothing is nan, as PyTorch
        return np.asarray(np.nan, dtype=logits.dtype), (e, s)
    if reduction == "none":
        value = losses
    else:  # (the sum divided by N: numpy's mean costs more on a few rows)
        total = np.add.reduce(losses)
        value = total / losses.size if reduction == "mean" else total
    return np.asarray(value, dtype=logits.dtype), (e, s)


@primitive(
    "rnn_affine",
    formula=(
        "a = x · W_ihᵀ + h · W_hhᵀ + b   (the weights are passed transposed: Wi = W_ihᵀ, Wh = W_hhᵀ)\n"
        "∂L/∂x = G Wiᵀ,  ∂L/∂h = G Whᵀ,  ∂L/∂Wi = xᵀ G,  ∂L/∂Wh = hᵀ G,  ∂L/∂b = Σ_batch G"
    ),
    vjp=(  # (.T: arrays and Nodes both have it, cheaper than the transpose op's dispatch, every step)
        lambda xp, g, z, x, h, wi, wh, b: xp.matmul(g, wi.T),
        lambda xp, g, z, x, h, wi, wh, b: xp.matmul(g, wh.T),
        lambda xp, g, z, x, h, wi, wh, b: xp.matmul(x.T, g),
        lambda xp, g, z, x, h, wi, wh, b: xp.matmul(h.T, g),
        lambda xp, g, z, x, h, wi, wh, b: xp.sum(g, axis=0) if b.ndim == 1 else g,
    ),
    fuses="rnn_linear",
    samples=(Sample((3, 4), (3, 5), (4, 5), (5, 5), (5,)), Sample((1, 2), (1, 3), (2, 3), (3, 3), (1, 3))),
)
def rnn_affine(x, h, wi, wh, b):
    """The pre-activation of an Elman step, ``x @ wi + h @ wh + b``, for a batch of rows.

    ``x`` (N, input) and ``h`` (N, hidden) are 2-D; ``wi`` (input, hidden) and ``wh`` (hidden,
    hidden) are the transposed weight matrices; ``b`` broadcasts to (N, hidden).
    """
    if getattr(x, "ndim", 0) != 2 or getattr(h, "ndim", 0) != 2:  # (np.ndim dispatches: slower)
        raise ValueError(
            f"rnn_affine: x and h must be 2-D (batch, features), got shapes {np.shape(x)} and {np.shape(h)}"
        )
    return _blas.matmul_rows(x, wi) + _blas.matmul_rows(h, wh) + b
