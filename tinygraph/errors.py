"""Exception types raised by tinygraph.

Every error raised on bad input names the op (and the composite scope it ran inside) and the
shapes or values at fault, so a user never has to read a numpy traceback from deep inside.
"""

from __future__ import annotations


class TinygraphError(Exception):
    """Base class of every error tinygraph raises on purpose."""


class OpError(TinygraphError, ValueError):
    """An op was called with inputs it cannot work on (wrong shapes, dtypes or arguments)."""


class BackwardError(TinygraphError, RuntimeError):
    """The backward pass was asked for something it cannot do, or a rule broke its contract."""


class AnomalyError(TinygraphError, FloatingPointError):
    """`detect_anomaly()` found a nan or inf produced by an op."""


class GradcheckError(TinygraphError, AssertionError):
    """`gradcheck` found an analytic gradient that disagrees with the numeric one."""


class TinygraphWarning(UserWarning):
    """Base class of every warning tinygraph gives (e.g. a rendering that could mislead)."""


class InPlaceError(TinygraphError, RuntimeError):
    """A value a pending backward pass reads was about to be edited in place (``x.data[:] = 0``)."""


class OpIndexError(OpError, IndexError):
    """An op was given an index out of range (also an ``IndexError``, as numpy and PyTorch raise)."""


class OpTypeError(OpError, TypeError):
    """An op was given an input of a type it cannot work on (also a ``TypeError``)."""


def op_error_class(exc: BaseException) -> type[OpError]:
    """The OpError to raise for the numpy error ``exc``: one that is also an IndexError or a
    TypeError when ``exc`` is one, so code written for numpy or PyTorch still catches it."""
    if isinstance(exc, IndexError):
        return OpIndexError
    if isinstance(exc, TypeError):
        return OpTypeError
    return OpError
