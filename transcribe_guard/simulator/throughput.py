"""Opt-in request quotas (TPS) and latency for the simulated Transcribe.

    from transcribe_guard.simulator import throughput

    throughput.configure(quotas="documented", scale=10, latency_ms=20)
    ...                                   # clients are throttled above 10x the documented rates
    throughput.stats()                    # {"GetTranscriptionJob": {"served": 812, "throttled": 37}, ...}
    throughput.reset()                    # off again (the default)

Quotas are enforced server side, in the simulated Transcribe's request handler, so they apply
in-process (``Simulator``) and through the HTTP server (``SimulatorServer``) alike, for every
client and process talking to it. Each (account, region, operation) has a token bucket that
refills at the quota and holds at most one second's quota (the burst). A request finding the
bucket empty is answered as Transcribe answers it: ``LimitExceededException``, HTTP 429, which
botocore's standard and legacy retry modes treat as throttling and retry with backoff.

Latency: the handler sleeps ``latency_ms`` before answering (before taking any backend lock),
so concurrent requests overlap as they do against the real service. Throttled requests get the
latency too (the error still costs a round trip).

Off by default (no quotas, no latency). The configuration is process-wide and survives moto
resets; ``reset()`` clears it together with the buckets and the statistics.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Mapping

# Transcribe's default API rate quotas (transactions per second, per account and Region), from
# the service quotas page of the AWS General Reference as the project uses them. Operations not
# listed are unlimited unless configure() gives a quota.
DOCUMENTED_QUOTAS: dict[str, float] = {
    "GetTranscriptionJob": 30,
    # Transcribe Developer Guide, Amazon Transcribe Medical "Guidelines and quotas": 20.
    "GetMedicalTranscriptionJob": 20,
    "GetCallAnalyticsJob": 20,
    # No documented figure found for GetMedicalScribeJob: assumed equal to GetCallAnalyticsJob.
    "GetMedicalScribeJob": 20,
    "GetVocabulary": 20,
    # "every List* operation": 5 TPS. ListTagsForResource is included by that rule.
    "ListTranscriptionJobs": 5,
    "ListMedicalTranscriptionJobs": 5,
    "ListCallAnalyticsJobs": 5,
    "ListMedicalScribeJobs": 5,
    "ListVocabularies": 5,
    "ListMedicalVocabularies": 5,
    "ListVocabularyFilters": 5,
    "ListLanguageModels": 5,
    "ListCallAnalyticsCategories": 5,
    "ListTagsForResource": 5,
}

THROTTLING_CODE = "LimitExceededException"  # HTTP 429 in botocore's Transcribe model
THROTTLING_MESSAGE = "Your request has exceeded a rate limit. Reduce the request rate and try your request again."


@dataclass
class _Bucket:
    rate: float  # tokens per second (and the burst size)
    tokens: float
    updated: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.rate, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


_lock = threading.Lock()
_quotas: dict[str, float] = {}  # effective (scaled) quotas
_latency: dict[str, float] = {}  # seconds per operation
_in_flight = 0
_peak_in_flight = 0
_default_latency = 0.0
_buckets: dict[tuple[str, str, str], _Bucket] = {}
_scale = 1.0
# Quotas raised in one account and Region (simulator.service_quotas.raise_quota), unscaled; they
# replace the configured quota of that operation there, and only when quotas are on.
_applied: dict[tuple[str, str, str], float] = {}
_stats: dict[str, dict[str, int]] = {}
_monotonic: Callable[[], float] = time.monotonic  # tests may substitute a fake time source
_sleep: Callable[[float], None] = time.sleep


def configure(quotas: str | Mapping[str, float] | None = None, scale: float = 1.0,
              latency_ms: float | Mapping[str, float] = 0) -> None:
    """Set the quotas ("documented", {operation: tps}, or None for none), a factor applied to
    every quota, and the latency (milliseconds, for all operations or per operation). Replaces
    any earlier configuration and empties the buckets' history (statistics are kept)."""
    global _default_latency, _scale
    if quotas == "documented":
        base: Mapping[str, float] = DOCUMENTED_QUOTAS
    elif quotas is None:
        base = {}
    elif isinstance(quotas, Mapping):
        base = quotas
    else:
        raise ValueError(f"quotas must be 'documented', a mapping of operation to TPS, or None; got {quotas!r}")
    if scale <= 0:
        raise ValueError("scale must be positive")
    for operation, tps in base.items():
        if tps <= 0:
            raise ValueError(f"quota for {operation} must be positive")
    with _lock:
        _scale = float(scale)
        _quotas.clear()
        _quotas.update({operation: float(tps) * scale for operation, tps in base.items()})
        _latency.clear()
        if isinstance(latency_ms, Mapping):
            _default_latency = 0.0
            _latency.update({operation: float(ms) / 1000 for operation, ms in latency_ms.items()})
        else:
            _default_latency = float(latency_ms) / 1000
        _buckets.clear()


def reset() -> None:
    """No quotas, no latency, empty statistics."""
    global _default_latency, _peak_in_flight
    with _lock:
        _quotas.clear()
        _latency.clear()
        _default_latency = 0.0
        _buckets.clear()
        _stats.clear()
        _applied.clear()
        _peak_in_flight = 0


def set_applied(account: str, region: str, operation: str, tps: float) -> None:
    """An applied (raised) quota for one operation in one account and Region."""
    with _lock:
        _applied[(account, region, operation)] = float(tps)
        _buckets.pop((account, region, operation), None)


def applied(account: str, region: str) -> dict[str, float]:
    """operation -> applied quota (unscaled) in one account and Region."""
    with _lock:
        return {op: tps for (a, r, op), tps in _applied.items() if (a, r) == (account, region)}


def clear_applied() -> None:
    with _lock:
        _applied.clear()


def quotas() -> dict[str, float]:
    """The effective (scaled) quotas."""
    with _lock:
        return dict(_quotas)


def peak_in_flight() -> int:
    """The most requests that were being answered at once since the last reset."""
    with _lock:
        return _peak_in_flight


def stats() -> dict[str, dict[str, int]]:
    """Per operation: requests ``served`` (admitted) and ``throttled``, since the last reset."""
    with _lock:
        return {operation: dict(counts) for operation, counts in _stats.items()}


def admit(account: str, region: str, operation: str) -> bool:
    """Sleeps the configured latency, then takes a token: True when the request may proceed,
    False when it is over quota. Counts either way."""
    global _in_flight, _peak_in_flight
    with _lock:
        delay = _latency.get(operation, _default_latency)
        _in_flight += 1
        _peak_in_flight = max(_peak_in_flight, _in_flight)
    try:
        if delay > 0:
            _sleep(delay)  # outside every lock: concurrent requests overlap
    finally:
        with _lock:
            _in_flight -= 1
    with _lock:
        counts = _stats.setdefault(operation, {"served": 0, "throttled": 0})
        rate = _quotas.get(operation)
        if rate is None:
            counts["served"] += 1
            return True
        now = _monotonic()
        key = (account, region, operation)
        if key in _applied:
            rate = _applied[key] * _scale
        bucket = _buckets.get(key)
        if bucket is None:
            bucket = _buckets[key] = _Bucket(rate, rate, now)
        if bucket.take(now):
            counts["served"] += 1
            return True
        counts["throttled"] += 1
        return False


def active() -> bool:
    """Whether anything is configured (the request handler skips admit() otherwise)."""
    return bool(_quotas or _latency or _default_latency)
