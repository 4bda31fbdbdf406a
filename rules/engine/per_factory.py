"""One object per rdklib client factory (a run's inventory, lookups, discovery), living exactly as
long as the factory.

A ``scan`` passes one factory to every rule, so all rules share what was listed and read; each
Lambda invocation builds its own factory, so each gets its own. A ``weakref.WeakKeyDictionary``
keyed by the factory cannot hold them: the dictionary keeps its values alive, the values (the
lookups keep the factory to build clients) keep the key alive, and so every run's inventory, with
every Get response it read, stays in the process for good. The object is kept on the factory
itself instead: when nothing else holds the factory, factory and object are one garbage cycle and
go together.

A factory that takes no attributes (``__slots__``) keeps its object in a one-entry fallback: the
object stays shared while the same factory is used, and at most one such object outlives its run.
"""

from __future__ import annotations

import threading
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class PerFactory(Generic[T]):
    """``registry[factory]`` / ``registry.get(factory)`` / ``registry[factory] = value``."""

    def __init__(self, name: str):
        self._attribute = f"_transcribe_guard_per_factory_{name}"
        self._lock = threading.Lock()
        self._fallback: tuple[Any, T] | None = None  # (factory, value), for a factory without attributes

    def get(self, factory: Any) -> T | None:
        found: T | None = getattr(factory, "__dict__", {}).get(self._attribute)
        if found is not None:
            return found
        fallback = self._fallback
        if fallback is not None and fallback[0] is factory:
            return fallback[1]
        return None

    def __getitem__(self, factory: Any) -> T:
        found = self.get(factory)
        if found is None:
            raise KeyError(factory)
        return found

    def __setitem__(self, factory: Any, value: T) -> None:
        try:
            setattr(factory, self._attribute, value)
        except AttributeError:
            with self._lock:
                self._fallback = (factory, value)

    def __contains__(self, factory: Any) -> bool:
        return self.get(factory) is not None
