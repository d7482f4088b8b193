"""Composite ops (``import tinygraph.functional as F``): convolution, pooling, softmax, losses.

Each is a plain Python function of primitive ops, registered with ``registry.composite`` so every
call is recorded under a named scope (a rendering can collapse it to one box or open it up), and
the registry tests gradcheck it. Images are NCHW; convolution weights are (C_out, C_in, KH, KW).

==========================  ====================================================================
linear                      ``x Wᵀ + b`` (W is (out, in), as in PyTorch)
conv1d, conv2d              cross-correlation: pad + sliding_window (im2col) + one matmul
convolve2d                  true convolution ('valid'): conv2d with the kernel flipped
max_pool2d, avg_pool2d      pad + sliding_window + max / mean over each window
adaptive_{avg,max}_pool2d   fixed output size, PyTorch's bin rule
softmax, log_softmax        detached max + exp + sum (+ log): stable for logits of ±1000
logsumexp                   ``m + log Σ exp(x - m)``
cross_entropy, nll_loss     ``-Σ y log softmax(logits)``; class indices or probabilities
mse_loss                    ``(x - y)²``; reductions "mean", "sum", "none"
relu, tanh, sigmoid         the primitives
dropout, maxout             inverted dropout (``tg.get_rng()``), max over channel groups
rnn_cell, rnn_linear        an Elman step ``tanh(x W_ihᵀ + h W_hhᵀ + b)`` and its linear part
==========================  ====================================================================
"""

from tinygraph.functional.activations import (
    dropout,
    log_softmax,
    logsumexp,
    maxout,
    relu,
    sigmoid,
    softmax,
    tanh,
)
from tinygraph.functional.conv import conv1d, conv2d, convolve2d
from tinygraph.functional.linear import linear
from tinygraph.functional.losses import cross_entropy, mse_loss, nll_loss
from tinygraph.functional.pool import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d
from tinygraph.functional.recurrent import rnn_cell, rnn_linear

__all__ = [
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "avg_pool2d",
    "conv1d",
    "conv2d",
    "convolve2d",
    "cross_entropy",
    "dropout",
    "linear",
    "log_softmax",
    "logsumexp",
    "max_pool2d",
    "maxout",
    "mse_loss",
    "nll_loss",
    "relu",
    "rnn_cell",
    "rnn_linear",
    "sigmoid",
    "softmax",
    "tanh",
]
