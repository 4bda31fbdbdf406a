"""Bench section "event_driven": time from a job's completion to its verdict stored in Config,
with the event triggers, measured in the simulator on its clock; beside it, hourly and daily
periodic runs, and the monthly cost of each (transcribe_guard/cost.py).

The simulated account gets the whole deployment (functions stack with EnableEventTriggers=true,
conformance pack), then Config runs in its asynchronous mode (simulator/conformance.py: an
evaluation starts ``dispatch_seconds`` after the call and refuses a second call while in progress or
within a minute). Jobs finish at the given rate (exponential gaps, a fixed seed) over a window of
simulated time; the loop moves the simulated clock to the next thing due: a job, an EventBridge
delivery (simulator/eventbridge.py), a dispatched evaluation, or the one-minute sweep. The rules
run in real time inside it, so their run time is part of the latency measured. A job's verdict time
is when the last of the rules with a verdict per transcription job has stored its result.

Hourly and daily are not simulated: a job finishing at a uniformly random time waits for the next
run, so its latency is at least U(0, H) (p50 H/2, p99 0.99 H) plus that run's own time, which is
left out (so those figures are lower bounds).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from typing import Any, Callable

from transcribe_guard.bench.harness import ACCOUNT, OUTPUT_BUCKET, REGION, output_bucket

MEDIA_BUCKET = "transcribe-guard-bench-media"
MEDIA_KEY = "calls/call.wav"
TARGET_P99_SECONDS = 300
SWEEP_SECONDS = 60


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(share * len(ordered) + 0.5)) - 1))
    return round(ordered[index], 1)


def measure(jobs_per_day: int, window_seconds: float, dispatch_seconds: float = 30.0, drain_seconds: float = 1800.0,
            seed: int = 19) -> dict[str, Any]:
    """Event-driven latency at ``jobs_per_day`` over ``window_seconds`` of simulated time."""
    import boto3

    from rules.catalog.registry import RULES
    from transcribe_guard import deploy
    from transcribe_guard.simulator import Simulator, clock, conformance, eventbridge
    from transcribe_guard.simulator.config import backend as config_backend, stored_results

    started_wall = time.perf_counter()
    report: dict[str, Any] = {"jobs_per_day": jobs_per_day, "window_seconds": window_seconds,
                              "dispatch_seconds_assumed": dispatch_seconds,
                              "delivery_seconds_assumed": eventbridge.DELIVERY_SECONDS}
    with Simulator(seed="empty") as sim:
        session = boto3.Session(region_name=REGION)
        s3 = sim.client("s3")
        s3.create_bucket(Bucket=MEDIA_BUCKET)
        s3.put_object(Bucket=MEDIA_BUCKET, Key=MEDIA_KEY, Body=b"RIFF bench audio")
        output_bucket(sim.client)
        done = deploy.deploy(session, deploy.demo_pack_parameters(), event_triggers=True)
        deploy.start_evaluation(sim.client("config"), done.pack_name)  # the first (full) runs, synchronously
        eventbridge.outbox(ACCOUNT, REGION).clear()
        # the rules with a verdict per job (ResourceRule: they take ReportingMode)
        reporting = {name for name, cls in RULES.items() if "transcription-job" in cls.METADATA["resource_kinds"]
                     and "ReportingMode" in (cls.METADATA["parameters"].get("properties") or {})}
        measured = [name for name in deploy.pack_rule_names(sim.client("config"), done.pack_name)
                    if deploy.base_rule_name(name) in reporting]
        backend = config_backend(ACCOUNT, REGION)
        saved_mode = dict(conformance.EVALUATION)
        conformance.EVALUATION.update(mode="async", dispatch_seconds=dispatch_seconds)
        transcribe = sim.client("transcribe")
        rng = random.Random(seed)
        t0 = clock.now().timestamp()
        arrivals, moment = [], t0
        while True:
            moment += rng.expovariate(jobs_per_day / 86_400)
            if moment > t0 + window_seconds:
                break
            arrivals.append(moment)
        completed: dict[str, float] = {}
        seen: dict[str, dict[str, float]] = {}  # job ARN -> rule -> first ResultRecordedTime
        next_sweep = t0 + SWEEP_SECONDS
        runs = sweeps = 0
        try:
            while True:
                now = clock.now().timestamp()
                pending = [t for t in (arrivals[0] if arrivals else None, eventbridge.next_due(ACCOUNT, REGION),
                                       conformance.next_dispatch(ACCOUNT, REGION), next_sweep) if t is not None]
                judged = sum(1 for arn in completed if len(seen.get(arn, {})) == len(measured))
                if not arrivals and judged == len(completed):
                    break
                upcoming = min(pending)
                if upcoming > t0 + window_seconds + drain_seconds:
                    break
                if upcoming > now:
                    clock.set(dt.datetime.fromtimestamp(upcoming, dt.timezone.utc))
                now = clock.now().timestamp()
                while arrivals and arrivals[0] <= now:
                    arrivals.pop(0)
                    name = f"ev-{len(completed):06d}"
                    transcribe.start_transcription_job(
                        TranscriptionJobName=name, LanguageCode="en-US",
                        Media={"MediaFileUri": f"s3://{MEDIA_BUCKET}/{MEDIA_KEY}"}, OutputBucketName=OUTPUT_BUCKET)
                    job = transcribe.get_transcription_job(TranscriptionJobName=name)["TranscriptionJob"]
                    completed[f"arn:aws:transcribe:{REGION}:{ACCOUNT}:transcription-job/{name}"] = \
                        job["CompletionTime"].timestamp()
                eventbridge.deliver_due(ACCOUNT, REGION)
                ran = conformance.run_due(ACCOUNT, REGION)
                if ran:
                    runs += 1
                    for rule in measured:
                        for record in stored_results(backend, rule).values():
                            arn = record["ResourceId"]
                            if arn in completed:
                                seen.setdefault(arn, {}).setdefault(rule, record["ResultRecordedTime"])
                if clock.now().timestamp() >= next_sweep:
                    eventbridge.sweep(ACCOUNT, REGION)
                    sweeps += 1
                    while next_sweep <= clock.now().timestamp():
                        next_sweep += SWEEP_SECONDS
        finally:
            conformance.EVALUATION.clear()
            conformance.EVALUATION.update(saved_mode)
        latencies = [max(seen[arn].values()) - finished for arn, finished in completed.items()
                     if len(seen.get(arn, {})) == len(measured)]
        calls = conformance.evaluation_calls(ACCOUNT, REGION)
    report.update({
        "jobs": len(completed), "jobs_with_verdict": len(latencies), "jobs_without_verdict": len(completed) - len(latencies),
        "measured_rules": sorted(deploy.base_rule_name(n) for n in measured),
        "evaluations_started": len(calls) - 1,  # the first, synchronous one left out
        "evaluation_runs": runs, "sweeps": sweeps,
        "p50_seconds": _percentile(latencies, 0.50), "p99_seconds": _percentile(latencies, 0.99),
        "max_seconds": round(max(latencies), 1) if latencies else None,
        "wall_seconds": round(time.perf_counter() - started_wall, 1),
    })
    return report


def periodic_latency(hours: int) -> dict[str, Any]:
    period = hours * 3600
    return {"p50_seconds": period * 0.5, "p99_seconds": period * 0.99, "lower_bound": True}


def monthly_costs(jobs_per_day: int) -> dict[str, float]:
    """$ a month, resource mode, all rules: hourly job rules, daily, and daily plus event triggers."""
    from rules.catalog.registry import RULES
    from transcribe_guard import cost

    metadata = [cls.METADATA for cls in RULES.values()]
    daily_inputs = cost.validate(jobs_per_day)
    daily = cost.estimate(daily_inputs, metadata, ("resource",))
    hourly = cost.estimate(cost.validate(jobs_per_day, frequency_hours=1), metadata, ("resource",))
    events = cost.event_triggers(daily_inputs, metadata, daily)
    return {"hourly": hourly["scenarios"]["resource"]["total"]["total_usd"],
            "daily": daily["scenarios"]["resource"]["total"]["total_usd"],
            "event_driven": events["modes"]["resource"]["total_usd"]}


def run(rates: tuple[tuple[int, float], ...], progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """``rates``: (jobs a day, simulated window seconds) pairs."""
    section: dict[str, Any] = {"target_p99_seconds": TARGET_P99_SECONDS, "rates": {}}
    for jobs_per_day, window in rates:
        progress(f"event_driven: {jobs_per_day:,} jobs a day over {window:g} simulated seconds")
        costs = monthly_costs(jobs_per_day)
        measured = measure(jobs_per_day, window)
        section["rates"][str(jobs_per_day)] = {
            "event_driven": {**measured, "monthly_usd": costs["event_driven"]},
            "hourly": {**periodic_latency(1), "monthly_usd": costs["hourly"]},
            "daily": {**periodic_latency(24), "monthly_usd": costs["daily"]},
        }
    return section


def render(section: dict[str, Any]) -> list[str]:
    out = ["9. event-driven vs hourly vs daily (completion -> verdict stored in Config; $ a month, resource mode, "
           "all rules; hourly/daily latency is the wait for the next run, a lower bound)"]
    out.append("  " + "  ".join(h.ljust(w) for h, w in (("jobs/day", 10), ("mode", 13), ("p50 s", 9), ("p99 s", 9),
                                                        ("$/month", 11), ("notes", 0))).rstrip())
    for rate, modes in section["rates"].items():
        for mode, figures in modes.items():
            notes = (f"{figures['jobs']} jobs measured, {figures['jobs_without_verdict']} without verdict, "
                     f"{figures['evaluations_started']} evaluations started" if mode == "event_driven" else "")
            cells = (f"{int(rate):,}", mode, f"{figures['p50_seconds']}", f"{figures['p99_seconds']}",
                     f"{figures['monthly_usd']:,.2f}", notes)
            out.append("  " + "  ".join(c.ljust(w) for c, w in zip(cells, (10, 13, 9, 9, 11, 0))).rstrip())
    out.append("")
    return out
