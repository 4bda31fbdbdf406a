"""Less per-request work in moto's request handling.

In-process, a request moto would route by trying some 180 URL patterns, rebuild as a werkzeug
request and set up field by field (about 200 of the 300 us it takes to answer a Transcribe Get)
can instead be taken by a *lane*: a function registered for a service's host that answers
straight from botocore's prepared request (``add_lane``; the simulated Transcribe registers one).
A lane declines (returns None) whatever it does not serve exactly as moto would, and moto
answers. Over HTTP (``SimulatorServer``) every request takes moto's path.

For every service, moto's ``BaseResponse.call_action`` finds the method answering an action by running
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

import functools
import inspect
import re
import threading
import time
from typing import Any, Callable, Optional

_installed = False
_lock = threading.Lock()
_names: dict[type, tuple[tuple[int, ...], frozenset[str]]] = {}
_served = {"requests": 0, "cpu": 0.0}
Lane = Callable[[Any], Optional[Any]]  # botocore's AWSPreparedRequest -> AWSResponse, or None to decline
_lanes: list[tuple[re.Pattern[str], Lane]] = []


def add_lane(url: str, lane: Lane) -> None:
    """Let ``lane`` answer in-process requests whose URL matches ``url`` (a regular expression)."""
    _lanes.append((re.compile(url), lane))


def answer(stubber: Any, request: Any, event_name: str, **kwargs: Any) -> Any:
    """The in-process answer to ``request``: a lane's when one takes it, otherwise moto's stubber's."""
    def respond() -> Any:
        url = request.url
        for pattern, lane in _lanes:
            if pattern.match(url):
                response = lane(request)
                if response is not None:
                    return response
        return stubber(event_name=event_name, request=request, **kwargs)
    return metered(respond)


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
    # camelcase_to_underscores (a regular expression per character class) names the method of
    # an action: a pure function of the action's name.
    responses.camelcase_to_underscores = functools.lru_cache(maxsize=4096)(  # type: ignore[attr-defined]
        responses.camelcase_to_underscores)  # type: ignore[attr-defined]
    responses.method_names_from_class = method_names  # type: ignore[attr-defined,assignment]  # call_action only tests membership
    _installed = True
