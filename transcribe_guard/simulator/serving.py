"""Less per-request work in moto's request handling, for every simulated service.

moto's ``BaseResponse.call_action`` finds the method answering an action by running
``inspect.getmembers`` over the response class on every request (about 30-50 us, a tenth of
serving a call). The members of a class only change when the class or a base gains or loses an
attribute, so the names are cached per class and looked up again when the size of any class
dictionary in its MRO changes (a test adding a method to a response class is seen; replacing
one keeps the name, which is all call_action uses).

It also meters the simulator: ``cpu_seconds()`` is the CPU time (of the calling threads) spent
answering in-process requests, from botocore handing the request over to the response it gets
back, so a benchmark can tell the simulator's share of a simulated run from the rest.
"""

from __future__ import annotations

import inspect
import threading
import time
from typing import Any, Callable

_installed = False
_lock = threading.Lock()
_names: dict[type, tuple[tuple[int, ...], frozenset[str]]] = {}
_served = {"requests": 0, "cpu": 0.0}


def metered(answer: Callable[[], Any]) -> Any:
    """``answer()``, its thread's CPU time counted as the simulator's."""
    started = time.thread_time()
    try:
        return answer()
    finally:
        spent = time.thread_time() - started
        with _lock:
            _served["requests"] += 1
            _served["cpu"] += spent


def cpu_seconds() -> float:
    """CPU seconds spent answering in-process requests since the process started."""
    with _lock:
        return float(_served["cpu"])


def requests_served() -> int:
    with _lock:
        return int(_served["requests"])


def method_names(cls: Any) -> frozenset[str]:
    """The names of the functions ``cls`` has, own or inherited (what moto's
    ``method_names_from_class`` lists)."""
    if not isinstance(cls, type):
        return frozenset(name for name, _ in inspect.getmembers(cls, predicate=inspect.isfunction))
    version = tuple(len(klass.__dict__) for klass in cls.__mro__)
    found = _names.get(cls)
    if found is not None and found[0] == version:
        return found[1]
    names = frozenset(name for name, _ in inspect.getmembers(cls, predicate=inspect.isfunction))
    with _lock:
        _names[cls] = (version, names)
    return names


def install() -> None:
    """Idempotent; before the first request."""
    global _installed
    if _installed:
        return
    import moto.core.responses as responses
    responses.method_names_from_class = method_names  # type: ignore[attr-defined]  # only call_action uses it
    _installed = True
