"""``Module`` (the base of every layer and model) and ``Parameter`` (a trainable leaf).

A module registers the parameters and submodules assigned to its attributes, in assignment order,
so ``model.parameters()`` finds every weight and ``model.state_dict()`` names them with dotted
paths (``features.0.weight``). Each parameter's ``.name`` is kept equal to that dotted path, so
renderings of the graph label weights by where they live in the model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from tinygraph._state import _push_scope, reset_switches
from tinygraph.node import Node, as_array


class Parameter(Node):
    """A leaf node that a module trains: ``requires_grad=True`` and a float dtype.

    When assigned to a module attribute its ``name`` becomes the dotted path under the outermost
    module it has been attached to (``conv1.weight``), shown in renderings and error messages.

    Parameters
    ----------
    data : array_like or Node
        The initial value; the array is used as is (not copied). Must be floating point.
    requires_grad : bool
        Default True; False freezes the parameter (the optimizer then skips it).
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        value = as_array(data)
        if not np.issubdtype(value.dtype, np.floating):
            raise TypeError(f"Parameter: values must be floating point, got dtype {value.dtype}")
        super().__init__(value, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__()[len("Node") :]


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(..., strict=False)`` could not match."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def _count(n: int) -> str:
    return f"{n:,} param" + ("" if n == 1 else "s")


class Module:
    """Base class of layers and models, in PyTorch's shape.

    Subclasses assign parameters and submodules as attributes in ``__init__`` (after calling
    ``super().__init__()``) and define ``forward``; calling the module calls ``forward``::

        class MLP(nn.Module):
            def __init__(self):
                super().__init__()
                self.hidden = nn.Linear(4, 8)
                self.out = nn.Linear(8, 3)

            def forward(self, x):
                return self.out(tg.relu(self.hidden(x)))

    Attributes
    ----------
    training : bool
        True in training mode (the default), False after ``eval()``; layers such as Dropout read it.
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_prefix", "")
        object.__setattr__(self, "_call_name", type(self).__name__)
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning attribute {name!r}"
            )
        params, modules, buffers = self._parameters, self._modules, self._buffers
        params.pop(name, None)
        modules.pop(name, None)
        if isinstance(value, Parameter):
            params[name] = value
            value.name = self._prefix + name
            buffers.pop(name, None)
        elif isinstance(value, Module):
            modules[name] = value
            value._set_prefix(self._prefix + name + ".")
            buffers.pop(name, None)
        elif name in buffers:
            buffers[name] = None if value is None else np.asarray(value)
            value = buffers[name]
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        self._buffers.pop(name, None)
        object.__delattr__(self, name)

    def _set_prefix(self, prefix: str) -> None:
        """Rename this module's subtree to live under ``prefix`` (iterative, no recursion)."""
        stack, seen = [(self, prefix)], set()
        while stack:
            module, pre = stack.pop()
            if id(module) in seen:  # a module reachable twice keeps the first path
                continue
            seen.add(id(module))
            object.__setattr__(module, "_prefix", pre)
            name = type(module).__name__
            object.__setattr__(module, "_call_name", f"{pre[:-1]}: {name}" if pre else name)
            for pname, p in module._parameters.items():
                if p is not None:
                    p.name = pre + pname
            for mname, m in module._modules.items():
                if m is not None:
                    stack.append((m, pre + mname + "."))

    def register_buffer(self, name: str, value: Any) -> None:
        """Register a non-trained array (saved in ``state_dict``, e.g. running statistics)."""
        if not name.isidentifier():
            raise ValueError(f"register_buffer: {name!r} is not a valid attribute name")
        if name in self._parameters or name in self._modules:
            raise KeyError(
                f"register_buffer: {type(self).__name__} already has a parameter or submodule {name!r}"
            )
        if isinstance(value, Node):
            value = value.data
        array = None if value is None else np.asarray(value)
        if array is not None and array.dtype.kind not in "biuf":
            raise TypeError(
                f"register_buffer: {name!r} must be a numeric array (or None), got "
                f"{type(value).__name__} of dtype {array.dtype}"
            )
        self._buffers[name] = array
        object.__setattr__(self, name, self._buffers[name])

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as the submodule ``name`` (same as ``setattr(self, name, module)``)."""
        if not isinstance(name, str):
            raise TypeError(f"add_module: the name must be a str, got {type(name).__name__} {name!r}")
        if not name or "." in name:
            raise ValueError(
                f"add_module: {name!r} is not a valid submodule name (it must be non-empty and hold no "
                "'.', which separates the levels of state_dict keys)"
            )
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module, got {type(module).__name__}")
        setattr(self, name, module)

    # ------------------------------------------------------------------ calling
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation of the module; subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call ``forward``, recording the call as one module scope frame (a box in the explorer).

        The frame is named by the module's dotted path in its model and its class
        (``"conv1: Conv2d"``), or by the class alone for the outermost module (``"Net"``); see
        :class:`tinygraph._state.ScopeFrame`.
        """
        _, token = _push_scope(self._call_name, "module")  # (the name is kept up to date by _set_prefix)
        try:
            return self.forward(*args, **kwargs)
        finally:
            reset_switches(token)

    # ------------------------------------------------------------------ traversal
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """Yield ``(dotted_name, module)`` for this module (name ``prefix``) and every submodule.

        Each module is yielded once, depth-first in registration order.
        """
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [
                (f"{name}.{n}" if name else n, m) for n, m in module._modules.items() if m is not None
            ]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        """Yield this module and every submodule."""
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Yield ``(name, module)`` for the direct submodules."""
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self) -> Iterator[Module]:
        """Yield the direct submodules."""
        for _, m in self.named_children():
            yield m

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Yield ``(dotted_name, parameter)`` for every parameter, each shared one once."""
        seen: set[int] = set()
        for mname, module in self.named_modules(prefix):
            for pname, p in module._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mname}.{pname}" if mname else pname), p

    def parameters(self) -> Iterator[Parameter]:
        """Yield every parameter (what an optimizer is given)."""
        for _, p in self.named_parameters():
            yield p

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        """Yield ``(dotted_name, array)`` for every registered buffer."""
        for mname, module in self.named_modules(prefix):
            for bname, b in module._buffers.items():
                if b is not None:
                    yield (f"{mname}.{bname}" if mname else bname), b

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Total number of parameter elements (only those requiring grad with ``trainable_only``)."""
        return sum(p.size for p in self.parameters() if p.requires_grad or not trainable_only)

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every submodule and then on this module (children first); returns ``self``.

        As in PyTorch, e.g. ``model.apply(init_weights)`` to re-initialise every Linear layer.
        """
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ modes and gradients
    def train(self, mode: bool = True) -> Module:
        """Set training mode on this module and every submodule; returns ``self``."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Set evaluation mode (``train(False)``): Dropout passes inputs through unchanged."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Reset every parameter's gradient to None (as PyTorch's ``set_to_none=True``)."""
        for p in self.parameters():
            p.grad = None

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze (True) every parameter; returns ``self``."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, np.ndarray]:
        """Every parameter's and buffer's value by dotted name, in registration order.

        As in PyTorch, the arrays are the live values, not copies: an optimizer step changes them.
        Copy (``{k: v.copy() for k, v in sd.items()}``) to keep a snapshot; ``tg.save`` writes them.
        """
        state = {name: p.data for name, p in self.named_parameters()}
        state.update(self.named_buffers())
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values from ``state_dict`` into this module's parameters and buffers, in place.

        Parameters
        ----------
        state_dict : mapping of dotted name to array_like (or Node)
        strict : bool
            Require the keys to match exactly (default). Shapes must always match.

        Returns
        -------
        IncompatibleKeys
            ``missing_keys`` and ``unexpected_keys`` (both empty when strict).

        Raises
        ------
        KeyError
            With ``strict``, listing every missing and unexpected key.
        ValueError
            Listing every entry whose shape differs from the module's.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"load_state_dict: expected a mapping of name to array, got {type(state_dict).__name__}"
            )
        own = self.state_dict()  # the live arrays, each shared parameter under one name
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        model = type(self).__name__
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing key(s) {missing}")
            if unexpected:
                parts.append(f"unexpected key(s) {unexpected}")
            raise KeyError(f"load_state_dict: {model}: {' and '.join(parts)}")
        values: dict[str, np.ndarray] = {}
        wrong: list[str] = []
        for key, current in own.items():
            if key not in state_dict:
                continue
            raw = state_dict[key]
            new = as_array(raw)
            if new.dtype.kind not in "biuf":
                raise TypeError(
                    f"load_state_dict: {model}: the value for {key!r} is not a numeric array "
                    f"({type(raw).__name__} of dtype {new.dtype})"
                )
            if new.shape != current.shape:
                wrong.append(f"{key}: checkpoint {new.shape}, model {current.shape}")
            values[key] = new
        if wrong:
            raise ValueError(f"load_state_dict: {model}: shape mismatch for " + "; ".join(wrong))
        for key, new in values.items():
            own[key][...] = new
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """The arguments shown inside the parentheses of this module's repr line."""
        return ""

    def describe(self) -> str:
        """The layer and its arguments on one line, e.g. ``Linear(in_features=4, out_features=3, bias=True)``.

        Error messages start with it, so they name the layer at fault.
        """
        return f"{type(self).__name__}({self.extra_repr()})"

    def __repr__(self) -> str:
        lines = []
        for name, child in self.named_children():
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        total = self.num_parameters()
        if not lines:
            return head + ")" + (f"  # {_count(total)}" if total else "")
        return head + "\n" + "\n".join(lines) + f"\n)  # {_count(total)}"
