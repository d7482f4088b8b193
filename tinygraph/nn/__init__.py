"""Layers and models in PyTorch's shape (``from tinygraph import nn``).

A model is a :class:`Module` whose attributes are layers and :class:`Parameter` s; calling it runs
``forward`` and records the graph, so ``loss.backward()`` fills every parameter's ``.grad``.
"""

from tinygraph.nn import init
from tinygraph.nn.activation import Maxout, ReLU, Sigmoid, Tanh
from tinygraph.nn.container import ModuleList, Sequential
from tinygraph.nn.conv import Conv2d, LocallyConnected2d
from tinygraph.nn.dropout import Dropout
from tinygraph.nn.linear import Flatten, Linear
from tinygraph.nn.loss import CrossEntropyLoss, MSELoss
from tinygraph.nn.module import IncompatibleKeys, Module, Parameter
from tinygraph.nn.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from tinygraph.nn.recurrent import RNN, RNNCell

__all__ = [
    "RNN",
    "AdaptiveAvgPool2d",
    "AvgPool2d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "IncompatibleKeys",
    "Linear",
    "LocallyConnected2d",
    "MSELoss",
    "MaxPool2d",
    "Maxout",
    "Module",
    "ModuleList",
    "Parameter",
    "RNNCell",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "init",
]
