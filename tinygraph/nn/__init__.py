"""Layers and models in PyTorch's shape (``from tinygraph import nn``)."""
