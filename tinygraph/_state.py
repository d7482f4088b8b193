"""Process-wide switches: gradient recording, anomaly detection, fused composites and the scope stack.

They live in one small object so the hot path reads them with a single attribute lookup.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
from collections.abc import Callable, Iterator
from typing import Any, TypeVar


class ScopeFrame:
    """One call of a composite op: its registered name and a number unique to the call."""

    __slots__ = ("call_id", "name")

    def __init__(self, name: str, call_id: int) -> None:
        self.name = name
        self.call_id = call_id

    def __repr__(self) -> str:
        return f"{self.name}#{self.call_id}"


class _State:
    __slots__ = ("anomaly", "decompose", "grad_enabled", "scope")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False
        # True inside `decompose()`: composites with a fused primitive record their definition.
        self.decompose = False
        # Tuple of ScopeFrame, outermost first; None at top level (the common case).
        self.scope: tuple[ScopeFrame, ...] | None = None


STATE = _State()
_call_ids = itertools.count(1)

F = TypeVar("F", bound=Callable[..., Any])


def is_grad_enabled() -> bool:
    """Return True when ops record the graph for backward (the default)."""
    return STATE.grad_enabled


@contextlib.contextmanager
def _switched(switch: str, value: Any) -> Iterator[None]:
    """Set the switch ``STATE.<switch>`` to ``value`` inside the block, and restore it after."""
    previous = getattr(STATE, switch)
    setattr(STATE, switch, value)
    try:
        yield
    finally:
        setattr(STATE, switch, previous)


def set_grad_enabled(enabled: bool) -> contextlib.AbstractContextManager[None]:
    """Context manager that turns graph recording on or off inside its block."""
    return _switched("grad_enabled", bool(enabled))


def no_grad() -> contextlib.AbstractContextManager[None]:
    """Context manager under which ops compute values but record no graph.

    Results made inside have ``requires_grad=False`` and no parents, as in PyTorch.
    """
    return set_grad_enabled(False)


def enable_grad() -> contextlib.AbstractContextManager[None]:
    """Context manager that turns graph recording back on (e.g. inside ``no_grad``)."""
    return set_grad_enabled(True)


def detect_anomaly() -> contextlib.AbstractContextManager[None]:
    """Context manager that checks every op's output, forward and backward, for nan and inf.

    The first op that produces a non-finite value raises :class:`~tinygraph.errors.AnomalyError`
    naming the op, the composite it ran inside, and the input shapes.
    """
    return _switched("anomaly", True)


def decompose() -> contextlib.AbstractContextManager[None]:
    """Record composites that have a fused primitive as their definition in primitives.

    Some composites (``cross_entropy`` with class indices) run as one fused primitive with its own
    local derivative, because the chain of numpy passes their primitives need is several times
    slower. Their definition in primitives is what they compute (tests check that both agree), and
    inside this block it is what gets recorded, op by op, e.g. to inspect ``node.scope_path`` or
    export the graph. Renderings open a fused call into its definition by themselves, whenever
    ``expand`` opens the call.

    Examples
    --------
    >>> import numpy as np, tinygraph as tg, tinygraph.functional as F
    >>> x = tg.randn(2, 3, requires_grad=True)
    >>> F.cross_entropy(x, np.array([0, 2])).op
    'softmax_cross_entropy'
    >>> with tg.decompose():
    ...     F.cross_entropy(x, np.array([0, 2])).scope_path
    'cross_entropy > nll_loss'
    """
    return _switched("decompose", True)


def within(frames: tuple[ScopeFrame, ...] | None) -> contextlib.AbstractContextManager[None]:
    """Record the block's nodes as if made inside the composite calls ``frames`` (outermost first)."""
    return _switched("scope", frames or None)


def _push_scope(name: str) -> tuple[ScopeFrame, tuple[ScopeFrame, ...] | None]:
    """Enter a new call of composite ``name``; returns the frame and the scope to restore."""
    frame = ScopeFrame(name, next(_call_ids))
    previous = STATE.scope
    STATE.scope = (frame,) if previous is None else previous + (frame,)
    return frame, previous


@contextlib.contextmanager
def scope(name: str) -> Iterator[ScopeFrame]:
    """Record every node made inside the block as part of one call of the composite ``name``."""
    frame, previous = _push_scope(name)
    try:
        yield frame
    finally:
        STATE.scope = previous


def scope_path(frames: tuple[ScopeFrame, ...] | None) -> str:
    """Human-readable path of a scope, e.g. ``'cross_entropy > log_softmax'``."""
    return " > ".join(f.name for f in frames) if frames else ""


def in_scope(name: str) -> Callable[[F], F]:
    """Decorator form of :func:`scope`: every call of the function is one composite call."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            _, previous = _push_scope(name)  # inlined rather than `with scope(...)`: half the cost
            try:
                return fn(*args, **kwargs)
            finally:
                STATE.scope = previous

        return wrapper  # type: ignore[return-value]

    return decorate
