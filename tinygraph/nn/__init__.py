"""Layers and models in PyTorch's shape (``from tinygraph import nn``).

A model is a :class:`Module` whose attributes are layers and :class:`Parameter` s; calling it runs
``forward`` and records the graph, so ``loss.backward()`` fills every parameter's ``.grad``.
"""

from tinygraph.nn import init, utils
from tinygraph.nn.activation import (
    ELU,
    GELU,
    Hardtanh,
    Identity,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Maxout,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from tinygraph.nn.attention import MultiheadAttention
from tinygraph.nn.container import ModuleDict, ModuleList, Sequential
from tinygraph.nn.conv import Conv1d, Conv2d, ConvTranspose2d, LocallyConnected2d
from tinygraph.nn.dropout import Dropout
from tinygraph.nn.gated_recurrent import GRU, LSTM, GRUCell, LSTMCell
from tinygraph.nn.linear import Flatten, Linear
from tinygraph.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from tinygraph.nn.module import IncompatibleKeys, Module, Parameter
from tinygraph.nn.normalization import BatchNorm1d, BatchNorm2d, Embedding, GroupNorm, LayerNorm
from tinygraph.nn.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from tinygraph.nn.recurrent import RNN, RNNCell

__all__ = [
    "ELU",
    "GELU",
    "GRU",
    "LSTM",
    "RNN",
    "AdaptiveAvgPool2d",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv1d",
    "Conv2d",
    "ConvTranspose2d",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "Flatten",
    "GRUCell",
    "GroupNorm",
    "Hardtanh",
    "HuberLoss",
    "Identity",
    "IncompatibleKeys",
    "KLDivLoss",
    "L1Loss",
    "LSTMCell",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LocallyConnected2d",
    "LogSigmoid",
    "LogSoftmax",
    "MSELoss",
    "MaxPool2d",
    "Maxout",
    "Module",
    "ModuleDict",
    "ModuleList",
    "MultiheadAttention",
    "NLLLoss",
    "Parameter",
    "RNNCell",
    "ReLU",
    "ReLU6",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "SmoothL1Loss",
    "Softmax",
    "Softplus",
    "Tanh",
    "init",
    "utils",
]
