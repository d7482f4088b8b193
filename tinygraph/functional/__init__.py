"""Composite ops (``import tinygraph.functional as F``): convolution, pooling, softmax, losses.

Each is a plain Python function of primitive ops, registered with ``registry.composite`` so every
call is recorded under a named scope (a rendering can collapse it to one box or open it up).
"""
