"""Optimizers and learning-rate schedules, as ``torch.optim``: ``from tinygraph import optim``.

:mod:`~tinygraph.optim.optimizers` holds SGD, Adam, AdamW, RMSprop, Adagrad and Adadelta with
PyTorch's update rules; :mod:`~tinygraph.optim.lr_scheduler` the schedules
(``optim.lr_scheduler.StepLR(opt, step_size=10)``).
"""

from __future__ import annotations

from tinygraph.optim import lr_scheduler
from tinygraph.optim.optimizers import SGD, Adadelta, Adagrad, Adam, AdamW, Optimizer, RMSprop

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
