"""Containers: ``ModuleList`` (a list of layers), ``ModuleDict`` (layers by name) and ``Sequential``."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from tinygraph.nn.module import Module


class ModuleList(Module):
    """A list of modules, registered as ``"0"``, ``"1"``, ...; it has no ``forward`` of its own.

    Index, slice (a new container of the same kind), iterate, ``len`` and ``append`` as with a list.
    """

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end; returns ``self``."""
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Add each of ``modules`` at the end; returns ``self``."""
        for m in modules:
            self.append(m)
        return self

    def _from_modules(self, modules: list[Module]) -> ModuleList:
        return ModuleList(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def __getitem__(self, index: int | slice) -> Any:
        mods = list(self._modules.values())
        if isinstance(index, slice):
            return self._from_modules(mods[index])
        try:
            return mods[index]
        except IndexError:
            raise IndexError(
                f"{type(self).__name__}: index {index} out of range for {len(mods)} modules"
            ) from None


class Sequential(ModuleList):
    """Apply the given modules one after another: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    The modules are registered as ``"0"``, ``"1"``, ... (their parameters are ``"0.weight"``, ...),
    or under the keys of a single ``OrderedDict`` argument (``model.conv1``, ``"conv1.weight"``).
    """

    def __init__(self, *modules: Module | OrderedDict) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            items: Iterable[tuple[str, Any]] = modules[0].items()
        else:
            items = ((str(i), m) for i, m in enumerate(modules))
        for name, m in items:
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: entry {name!r} is a {type(m).__name__}, not a Module")
            setattr(self, name, m)

    def _from_modules(self, modules: list[Module]) -> Sequential:
        return Sequential(*modules)

    def forward(self, x: Any) -> Any:
        for m in self._modules.values():
            x = m(x)
        return x


class ModuleDict(Module):
    """Modules by name, registered under their keys (``"encoder.weight"``); no ``forward`` of its own.

    Index by key, ``in``, ``len``, iterate over the keys, ``keys``/``values``/``items``, ``update``
    and item assignment, as with a dict; insertion order is kept.
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add (or replace) the given modules."""
        items = modules.items() if isinstance(modules, Mapping) else modules
        for key, module in items:
            self[key] = module

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(key, str) or not key.isidentifier():
            raise KeyError(f"ModuleDict: keys must be valid attribute names, got {key!r}")
        self.add_module(key, module)

    def __getitem__(self, key: str) -> Module:
        try:
            return self._modules[key]
        except KeyError:
            raise KeyError(f"ModuleDict: no module {key!r}; keys are {list(self._modules)}") from None

    def __delitem__(self, key: str) -> None:
        delattr(self, key)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._modules))

    def keys(self) -> list[str]:
        """The keys, in insertion order."""
        return list(self._modules)

    def values(self) -> list[Module]:
        """The modules, in insertion order."""
        return list(self._modules.values())

    def items(self) -> list[tuple[str, Module]]:
        """``(key, module)`` pairs, in insertion order."""
        return list(self._modules.items())
