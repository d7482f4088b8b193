"""Per-thread switches: gradient recording, anomaly detection, fused composites and the scope stack.

They live in one immutable :class:`Switches` object held by a :class:`contextvars.ContextVar`, as
numpy's ``errstate`` and Python's ``decimal`` context are: changing a switch sets a new object.
So every thread sees its own switches, starting from the defaults (recording on, anomaly mode off,
no scope) as PyTorch's grad mode does: ``no_grad()`` in one thread, or the recording switch a
``backward()`` turns off while it runs, never changes what another thread records (and an asyncio
task gets its own copy too).

The per-op hot path reads them with one call and plain slot reads
(``sw = switches_now(); sw.grad_enabled``); :data:`STATE` reads one switch as an attribute
(``STATE.grad_enabled``) elsewhere.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import itertools
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import numpy as np


class ScopeFrame:
    """One call of a composite op or of an ``nn.Module``: its name, a number unique to the call, its kind.

    Attributes
    ----------
    name : str
        A composite's registered name (``"conv2d"``); for a module call, the module's dotted path
        in its model and its class, ``"conv1: Conv2d"`` (``"features.0: Conv2d"``), or the class
        alone for the outermost module (``"Net"``).
    call_id : int
        Unique to the call.
    kind : str
        ``"composite"`` or ``"module"``. Module frames nest composite frames (and other module
        frames); :func:`scope_path`, the renderings and the ONNX export skip them unless asked.
    """

    __slots__ = ("call_id", "kind", "name")

    def __init__(self, name: str, call_id: int, kind: str = "composite") -> None:
        self.name = name
        self.call_id = call_id
        self.kind = kind

    def __repr__(self) -> str:
        return f"{self.name}#{self.call_id}"


class Switches:
    """The switches of one thread (immutable: a change makes a new object)."""

    __slots__ = ("anomaly", "decompose", "grad_enabled", "scope")

    def __init__(
        self,
        grad_enabled: bool = True,
        anomaly: bool = False,
        decompose: bool = False,
        scope: tuple[ScopeFrame, ...] | None = None,
    ) -> None:
        object.__setattr__(self, "grad_enabled", grad_enabled)
        object.__setattr__(self, "anomaly", anomaly)
        # True inside `decompose()`: composites with a fused primitive record their definition.
        object.__setattr__(self, "decompose", decompose)
        # Tuple of ScopeFrame, outermost first; None at top level (the common case).
        object.__setattr__(self, "scope", scope)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("tinygraph's switches change only through no_grad(), scope(), ... blocks")

    def replace(self, **changes: Any) -> Switches:
        """A copy with ``changes`` applied (switch name -> value)."""
        unknown = changes.keys() - set(self.__slots__)
        if unknown:
            raise TypeError(f"Switches.replace: no switch named {sorted(unknown)}")
        get = changes.get
        new = _new_switches(Switches)
        _SET_GRAD(new, get("grad_enabled", self.grad_enabled))
        _SET_ANOMALY(new, get("anomaly", self.anomaly))
        _SET_DECOMPOSE(new, get("decompose", self.decompose))
        _SET_SCOPE(new, get("scope", self.scope))
        return new

    def with_scope(self, scope: tuple[ScopeFrame, ...] | None) -> Switches:
        """A copy with ``scope`` set: :meth:`replace` for the scope, without its dict (every call of a
        composite or a module makes one; the slots are written through their descriptors)."""
        new = _new_switches(Switches)
        _SET_GRAD(new, self.grad_enabled)
        _SET_ANOMALY(new, self.anomaly)
        _SET_DECOMPOSE(new, self.decompose)
        _SET_SCOPE(new, scope)
        return new


_new_switches = object.__new__
_SET_GRAD = Switches.grad_enabled.__set__  # type: ignore[attr-defined]
_SET_ANOMALY = Switches.anomaly.__set__  # type: ignore[attr-defined]
_SET_DECOMPOSE = Switches.decompose.__set__  # type: ignore[attr-defined]
_SET_SCOPE = Switches.scope.__set__  # type: ignore[attr-defined]

_SWITCHES: contextvars.ContextVar[Switches] = contextvars.ContextVar("tinygraph_switches", default=Switches())  # noqa: B039 (immutable)

#: The calling thread's :class:`Switches` (a bound method: the hot path's one call).
switches_now: Callable[[], Switches] = _SWITCHES.get


class _State:
    """The calling thread's switches, read as attributes: ``STATE.grad_enabled``, ``STATE.anomaly``,
    ``STATE.decompose``, ``STATE.scope``. Read-only: change them with the context managers below."""

    __slots__ = ()

    def __getattr__(self, switch: str) -> Any:
        return getattr(_SWITCHES.get(), switch)

    def __setattr__(self, switch: str, value: Any) -> None:
        raise AttributeError("tinygraph's switches change only through no_grad(), scope(), ... blocks")


STATE = _State()
_call_ids = itertools.count(1)

F = TypeVar("F", bound=Callable[..., Any])


def is_grad_enabled() -> bool:
    """Return True when ops record the graph for backward in this thread (the default)."""
    return _SWITCHES.get().grad_enabled


def set_switch(switch: str, value: Any) -> contextvars.Token[Switches]:
    """Set the switch ``STATE.<switch>`` to ``value`` in this thread; ``reset_switches(token)``
    restores it. The primitive under the context managers below (and backward's pass)."""
    return _SWITCHES.set(_SWITCHES.get().replace(**{switch: value}))


#: Undo a :func:`set_switch`, or leave a call entered with :func:`_push_scope`.
reset_switches: Callable[[contextvars.Token[Switches]], None] = _SWITCHES.reset


class _Switched(contextlib.ContextDecorator):
    """Set the switch ``STATE.<switch>`` to ``value`` inside the block, and restore it after.

    A class rather than a generator-based context manager: entering and leaving cost about a
    third as much. As with ``contextlib``'s, it also works as a decorator (``@tg.no_grad()``). It
    may be entered again while active, and from several threads at once: each entry keeps its
    own token, per thread.
    """

    __slots__ = ("_switch", "_tokens", "_value")

    def __init__(self, switch: str, value: Any) -> None:
        self._switch, self._value = switch, value
        self._tokens: dict[int, list[contextvars.Token[Switches]]] = {}

    def __enter__(self) -> None:
        self._tokens.setdefault(threading.get_ident(), []).append(set_switch(self._switch, self._value))

    def __exit__(self, *exc: object) -> None:
        key = threading.get_ident()
        tokens = self._tokens[key]
        token = tokens.pop()
        if not tokens:
            del self._tokens[key]
        reset_switches(token)


def set_grad_enabled(enabled: bool) -> contextlib.AbstractContextManager[None]:
    """Context manager that turns graph recording on or off inside its block (this thread only).

    Raises
    ------
    TypeError
        When ``enabled`` is not a bool (``"no"`` would otherwise read as True).
    """
    if not isinstance(enabled, (bool, np.bool_)):
        raise TypeError(f"set_grad_enabled: expects True or False, got {type(enabled).__name__} {enabled!r}")
    return _Switched("grad_enabled", bool(enabled))


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
    return _Switched("anomaly", True)


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
    return _Switched("decompose", True)


def within(frames: tuple[ScopeFrame, ...] | None) -> contextlib.AbstractContextManager[None]:
    """Record the block's nodes as if made inside the composite calls ``frames`` (outermost first)."""
    return _Switched("scope", frames or None)


def _push_scope(name: str, kind: str = "composite") -> tuple[ScopeFrame, contextvars.Token[Switches]]:
    """Enter a new call of composite (or module) ``name``; returns the frame and the token that
    restores the scope."""
    frame = ScopeFrame(name, next(_call_ids), kind)
    switches = _SWITCHES.get()
    previous = switches.scope
    return frame, _SWITCHES.set(switches.with_scope((frame,) if previous is None else previous + (frame,)))


def composite_frames(frames: tuple[ScopeFrame, ...] | None) -> tuple[ScopeFrame, ...] | None:
    """The composite calls among ``frames`` (module calls left out), or None when there are none.

    Returns ``frames`` itself when it holds no module frame (the common case: no copy).
    """
    if not frames:
        return None
    for f in frames:
        if f.kind != "composite":
            kept = tuple(f for f in frames if f.kind == "composite")
            return kept or None
    return frames


@contextlib.contextmanager
def scope(name: str) -> Iterator[ScopeFrame]:
    """Record every node made inside the block as part of one call of the composite ``name``."""
    frame, token = _push_scope(name)
    try:
        yield frame
    finally:
        reset_switches(token)


def scope_path(frames: tuple[ScopeFrame, ...] | None, modules: bool = False) -> str:
    """Human-readable path of a scope, e.g. ``'cross_entropy > log_softmax'``.

    Module calls are left out unless ``modules`` is True: ``'Net > conv1: Conv2d > conv2d'``.
    """
    if not frames:
        return ""
    return " > ".join(f.name for f in frames if modules or f.kind == "composite")


def in_scope(name: str) -> Callable[[F], F]:
    """Decorator form of :func:`scope`: every call of the function is one composite call."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            _, token = _push_scope(name)  # inlined rather than `with scope(...)`: half the cost
            try:
                return fn(*args, **kwargs)
            finally:
                reset_switches(token)

        return wrapper  # type: ignore[return-value]

    return decorate
