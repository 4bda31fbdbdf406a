"""The simulator's clock: real UTC time plus an offset that benchmarks can move.

    from transcribe_guard.simulator import clock

    clock.advance(dt.timedelta(days=1))   # a simulated day passes
    clock.set(dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))
    clock.now()                           # tz-aware UTC
    clock.reset()                         # back to real time

The simulated Transcribe (job and customization timestamps), the stored Config evaluations
(ResultRecordedTime, ConfigRuleInvokedTime) and the CloudTrail event history read it. Time keeps
running at real speed from wherever it was set. It is process-wide and is reset whenever moto
resets its backends (a ``Simulator`` starting, the server's reset API) and when a ``Simulator``
exits; move it inside the ``with Simulator()`` block.
"""

from __future__ import annotations

import datetime as dt
import threading

_lock = threading.Lock()
_offset = dt.timedelta(0)


def _real_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def now() -> dt.datetime:
    """The simulated current time (UTC, timezone-aware)."""
    return _real_now() + _offset


def offset() -> dt.timedelta:
    return _offset


def advance(delta: dt.timedelta) -> dt.datetime:
    """Move simulated time by ``delta`` (may be negative); returns the new now()."""
    global _offset
    with _lock:
        _offset += delta
    return now()


def set(moment: dt.datetime) -> None:  # noqa: A001 - the brief's name, module-qualified in use
    """Make now() return ``moment`` (naive datetimes are taken as UTC)."""
    global _offset
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    with _lock:
        _offset = moment - _real_now()


def reset() -> None:
    """Back to real time."""
    global _offset
    with _lock:
        _offset = dt.timedelta(0)


_installed = False


def install() -> None:
    """Reset the clock whenever moto resets its backends (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.core.base_backend import BackendDict

    original = BackendDict.reset.__func__  # type: ignore[attr-defined]

    def reset_backends(cls: type) -> None:
        original(cls)
        reset()

    BackendDict.reset = classmethod(reset_backends)  # type: ignore[method-assign,assignment]
    _installed = True
