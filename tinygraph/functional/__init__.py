"""Composite ops (``import tinygraph.functional as F``): convolution, pooling, activations,
normalisation, recurrent cells, attention, losses.

Each is a plain Python function of primitive ops, registered with ``registry.composite`` so every
call is recorded under a named scope (a rendering can collapse it to one box or open it up), and
the registry tests gradcheck it. Images are NCHW; convolution weights are (C_out, C_in, KH, KW).

==========================  ====================================================================
linear                      ``x Wᵀ + b`` (W is (out, in), as in PyTorch)
conv1d, conv2d              cross-correlation: pad + sliding_window (im2col) + one matmul
conv_transpose2d            conv2d's adjoint: dilate by the stride, pad, conv2d with the flipped Wᵀ
convolve2d                  true convolution ('valid'): conv2d with the kernel flipped
max_pool2d, avg_pool2d      pad + sliding_window + max / mean over each window
adaptive_{avg,max}_pool2d   fixed output size, PyTorch's bin rule
softmax, log_softmax        detached max + exp + sum (+ log): stable for logits of ±1000
logsumexp                   ``m + log Σ exp(x - m)``
cross_entropy, nll_loss     ``-Σ y log softmax(logits)``; class indices or probabilities
mse_loss                    ``(x - y)²``; reductions "mean", "sum", "none"
relu, tanh, sigmoid         the primitives
gelu, silu, elu, ...        gelu (erf or tanh), silu, leaky_relu, elu, softplus, hardtanh, relu6, ...
l1, smooth_l1, huber        ``|x - y|`` and its quadratic-near-zero forms
binary_cross_entropy        of probabilities; ``_with_logits``: through softplus, stable
kl_div                      ``y (log y - x)`` with x the log-probabilities
batch/layer/group_norm      ``(x - μ) / √(σ² + ε) · γ + β`` over the batch, the features, the groups
embedding                   a row lookup ``W[i]``
lstm_cell, gru_cell         one gated recurrent step, PyTorch's gate order and weight layout
attention                   scaled_dot_product_attention, ``softmax(Q Kᵀ / √E + M) V``; masks, causal
dropout, maxout             inverted dropout (``tg.get_rng()``), max over channel groups
rnn_cell, rnn_linear        an Elman step ``tanh(x W_ihᵀ + h W_hhᵀ + b)`` and its linear part
==========================  ====================================================================
"""

from tinygraph.functional.activations import (
    dropout,
    elu,
    gelu,
    hardtanh,
    leaky_relu,
    log_softmax,
    logsigmoid,
    logsumexp,
    maxout,
    relu,
    relu6,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
)
from tinygraph.functional.attention import scaled_dot_product_attention
from tinygraph.functional.conv import conv1d, conv2d, conv_transpose2d, convolve2d
from tinygraph.functional.gated_recurrent import gru_cell, lstm_cell
from tinygraph.functional.linear import linear
from tinygraph.functional.losses import cross_entropy, mse_loss, nll_loss
from tinygraph.functional.normalization import batch_norm, embedding, group_norm, layer_norm
from tinygraph.functional.pointwise_losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    huber_loss,
    kl_div,
    l1_loss,
    smooth_l1_loss,
)
from tinygraph.functional.pool import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d
from tinygraph.functional.recurrent import rnn_cell, rnn_linear

__all__ = [
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv1d",
    "conv2d",
    "conv_transpose2d",
    "convolve2d",
    "cross_entropy",
    "dropout",
    "elu",
    "embedding",
    "gelu",
    "group_norm",
    "gru_cell",
    "hardtanh",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logsigmoid",
    "logsumexp",
    "lstm_cell",
    "max_pool2d",
    "maxout",
    "mse_loss",
    "nll_loss",
    "relu",
    "relu6",
    "rnn_cell",
    "rnn_linear",
    "scaled_dot_product_attention",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softplus",
    "tanh",
]
