"""Calculators by name: the explicit registry behind `calculator: "Name"` in a graph.pbtxt.

Registration is explicit (`@register_calculator`), keyed by the class name, and happens
when the defining module is imported: the built-ins by `import calculators`, user
calculators by `import_calculator_modules(...)` (see `ovserve.graph.modules`). Registering a
name twice is an error rather than a silent override, so two modules cannot fight over a
name depending on import order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TypeVar, overload

from ovserve.errors import InternalError, NotFound
from ovserve.graph.calculator import Calculator, Subgraph

Registrable = type[Calculator] | type[Subgraph]
C = TypeVar("C", bound=type[Calculator] | type[Subgraph])


class CalculatorRegistry:
    """A name → calculator (or subgraph) class table. Thread-safe; cheap to copy."""

    def __init__(self, entries: dict[str, Registrable] | None = None) -> None:
        self._entries: dict[str, Registrable] = dict(entries or {})
        self._lock = threading.Lock()

    def register(self, cls: C, *, name: str | None = None) -> C:
        """Register `cls` under `name` (default: `cls.__name__`); return `cls` (decorator use).

        Raises:
            InternalError: the name is taken, or `cls` is neither a Calculator nor a Subgraph.
        """
        if not (isinstance(cls, type) and issubclass(cls, Calculator | Subgraph)):
            raise InternalError(f"{cls!r} is neither a Calculator nor a Subgraph subclass")
        key = name or cls.__name__
        with self._lock:
            existing = self._entries.get(key)
            if existing is not None and existing is not cls:
                raise InternalError(
                    f"calculator name {key!r} is already registered by "
                    f"{existing.__module__}.{existing.__qualname__}"
                )
            self._entries[key] = cls
        return cls

    def lookup(self, name: str) -> Registrable:
        """The class registered as `name`.

        Raises:
            NotFound: unknown name; the message lists the known names.
        """
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(self.names()) or "(none)"
            raise NotFound(f"Calculator {name!r} is not registered; known calculators: {known}") from None

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._entries)

    def copy(self) -> CalculatorRegistry:
        """An independent registry with the same entries (e.g. built-ins plus test toys)."""
        return CalculatorRegistry(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)


default_registry = CalculatorRegistry()
"""The process-wide registry that `@register_calculator` fills and the server uses."""


@overload
def register_calculator(cls: C, /) -> C: ...
@overload
def register_calculator(
    *, name: str | None = None, registry: CalculatorRegistry | None = None
) -> Callable[[C], C]: ...
def register_calculator(
    cls: C | None = None, /, *, name: str | None = None, registry: CalculatorRegistry | None = None
) -> C | Callable[[C], C]:
    """Class decorator registering a `Calculator` or `Subgraph` (into `default_registry`).

    Use bare (`@register_calculator`) or with arguments
    (`@register_calculator(name="Other", registry=my_registry)`).
    """
    target = registry if registry is not None else default_registry

    def decorate(c: C) -> C:
        return target.register(c, name=name)

    return decorate(cls) if cls is not None else decorate
