"""Optimizers (``from tinygraph import optim``)."""
