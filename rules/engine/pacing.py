"""Client-side pacing of Transcribe calls: a token bucket per operation at the documented quotas,
and an ordered map with bounded concurrency for the per-resource reads.

Transcribe throttles with LimitExceededException (HTTP 429) above its per-account quotas
(GetTranscriptionJob 30 requests/s, GetMedicalTranscriptionJob, GetCallAnalyticsJob and GetVocabulary
20, every List* 5).
The SDK's standard retry mode (set on the functions, see templates.py) would recover, but a rule
that fires 100,000 Gets as fast as it can spends most of its run in back-off. Pacing below the
quota keeps every call on its first attempt; bounded concurrency hides per-call latency, since a
single thread at 40 ms a call reaches only 25 calls/s.

The rates are the account's applied quotas where AWS Service Quotas reports them
(rules.engine.service_quotas), else the documented defaults. TRANSCRIBE_GUARD_QUOTA_SCALE
(environment) multiplies every rate: for the test suite (which has no quotas to respect), or to
give the pack less than the whole quota.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Iterable, Iterator, Mapping, TypeVar

# Requests per second per account and Region, from the Transcribe quotas page (and CloudTrail's
# for LookupEvents); operations not listed are not paced. Keys are boto3 method names.
# GetMedicalTranscriptionJob and GetMedicalVocabulary: 20 (Transcribe Developer Guide, Amazon
# Transcribe Medical "Guidelines and quotas", throttling table). GetCallAnalyticsCategory: 20 as
# the issue tracker reports from the quotas page; we did not find it in a stored copy, and pacing
# at 20 is safe either way.
DOCUMENTED_QUOTAS: dict[str, float] = {
    "get_transcription_job": 30, "get_medical_transcription_job": 20,
    "get_call_analytics_job": 20, "get_medical_scribe_job": 20, "get_call_analytics_category": 20,
    "get_vocabulary": 20, "get_medical_vocabulary": 20, "get_vocabulary_filter": 20,
    "list_transcription_jobs": 5, "list_medical_transcription_jobs": 5, "list_call_analytics_jobs": 5,
    "list_medical_scribe_jobs": 5, "list_vocabularies": 5, "list_medical_vocabularies": 5,
    "list_vocabulary_filters": 5, "list_language_models": 5, "list_call_analytics_categories": 5,
    "lookup_events": 2,  # CloudTrail LookupEvents: 2 requests/s per account and Region
}
# Aim a little under the quota: the service's bucket and ours do not tick in step.
HEADROOM = 0.95
# Reads in flight at once: enough to reach 30 calls/s at up to ~130 ms a call.
MAX_CONCURRENT_READS = 4

T = TypeVar("T")
R = TypeVar("R")


def quota_scale() -> float:
    raw = os.environ.get("TRANSCRIBE_GUARD_QUOTA_SCALE", "1")
    try:
        scale = float(raw)
    except ValueError:
        raise ValueError(f"TRANSCRIBE_GUARD_QUOTA_SCALE must be a number, not {raw!r}.") from None
    if not scale > 0:
        raise ValueError(f"TRANSCRIBE_GUARD_QUOTA_SCALE must be positive, not {raw!r}.")
    return scale


class RateLimiter:
    """One token bucket per operation, holding at most one second's worth of calls."""

    def __init__(self, rates: dict[str, float] | None = None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.rates = dict(rates if rates is not None else
                          {op: tps * HEADROOM * quota_scale() for op, tps in DOCUMENTED_QUOTAS.items()})
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._tokens: dict[str, float] = {}
        self._updated: dict[str, float] = {}
        self.waited = 0.0  # seconds spent waiting, for the run's log line

    def acquire(self, operation: str) -> None:
        """Take one call's token, waiting for it when the bucket is empty. A caller reserves its
        token before waiting (the bucket may go negative), so concurrent callers queue in order
        and no one spins."""
        rate = self.rates.get(operation)
        if not rate:
            return
        with self._lock:
            now = self._clock()
            tokens = min(rate, self._tokens.get(operation, rate) + (now - self._updated.get(operation, now)) * rate)
            self._updated[operation] = now
            self._tokens[operation] = tokens - 1
            wait = (1 - tokens) / rate if tokens < 1 else 0.0
            self.waited += wait
        if wait > 0:
            self._sleep(wait)  # outside the lock: other operations keep flowing


_SHARED: dict[tuple[str, str, float], RateLimiter] = {}
_SHARED_LOCK = threading.Lock()


def shared_limiter(account_id: str = "", region: str = "",
                   applied: Callable[[], Mapping[str, float]] | None = None) -> RateLimiter:
    """The process's limiter for one account and Region: every rule run in one process (a scan,
    a warm Lambda container) against that account and Region draws on the same quota, so they
    share the buckets. The quotas are per account and Region, so a scan of several accounts and
    Regions at once gives each pair its own limiter: two pairs never share (or slow) one.
    ``applied()``, asked once when the pair's limiter is made, gives the account's applied quotas
    (rules.engine.service_quotas), which replace the documented ones they name."""
    scale = quota_scale()
    key = (account_id, region, scale)
    with _SHARED_LOCK:
        limiter = _SHARED.get(key)
    if limiter is None:
        quotas = {**DOCUMENTED_QUOTAS, **(applied() if applied else {})}  # outside the lock: it may call AWS
        made = RateLimiter({op: tps * HEADROOM * scale for op, tps in quotas.items()})
        with _SHARED_LOCK:
            limiter = _SHARED.setdefault(key, made)
    return limiter


def capped_rates(quotas: Mapping[str, float], cap: float | None = None,
                 capped: Iterable[str] = ()) -> dict[str, float]:
    """Paced rates for ``quotas`` (requests per second by operation): each a little under its quota
    (HEADROOM), the ``capped`` operations at most ``cap`` (a user's own limit needs no headroom),
    all times TRANSCRIBE_GUARD_QUOTA_SCALE. ``scan --max-tps`` caps every Transcribe Get with it."""
    scale = quota_scale()
    names = set(capped) if cap is not None else set()
    rates = {op: tps * HEADROOM for op, tps in quotas.items()}
    for op in names:
        rates[op] = min(rates.get(op, float(cap or 0)), float(cap or 0))
    return {op: rate * scale for op, rate in rates.items()}


def ordered_map(function: Callable[[T], R], items: Iterable[T], workers: int = MAX_CONCURRENT_READS,
                stop: Callable[[], bool] = lambda: False) -> Iterator[tuple[T, R]]:
    """(item, function(item)) for each item, in the items' order, with at most ``workers`` calls
    running and at most 2 x workers results waiting. ``stop()`` is asked before each new item is
    started; once it says yes, the calls already started are finished and yielded, then the map
    ends. Memory stays bounded however many items there are."""
    if workers <= 1:
        for item in items:
            if stop():
                return
            yield item, function(item)
        return
    window: deque[tuple[T, Future[R]]] = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="transcribe-guard-read") as pool:
        for item in items:
            if stop():
                break
            window.append((item, pool.submit(function, item)))
            while len(window) >= 2 * workers:
                done, future = window.popleft()
                yield done, future.result()
        while window:
            done, future = window.popleft()
            yield done, future.result()
