"""python -m transcribe_guard.bench [--jobs N] [--quick] [--output build/bench.json]"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from transcribe_guard.bench import harness

SECTIONS = ("scan", "lambda", "throughput", "deadline", "memory", "steady_state")


@dataclass
class Settings:
    jobs: int = 10_000
    throughput_jobs: int = 600
    latency_ms: float = 40
    deadline_jobs: int = 10_000
    deadline_ms: float = 5000
    memory_jobs: int = 100_000
    memory_rules: list[str] = field(default_factory=lambda: ["pii-redaction", "output-location-allowed"])
    steady: harness.SteadyConfig = field(default_factory=harness.SteadyConfig)
    sections: tuple[str, ...] = SECTIONS


def quick_settings() -> Settings:
    return Settings(jobs=300, throughput_jobs=60, deadline_jobs=600, deadline_ms=1000, memory_jobs=2000,
                    steady=harness.SteadyConfig(jobs_per_day=40, warmup_days=2, measure_days=3,
                                                reconciliation_days=2, tag_changes_per_day=2, deletions_per_day=2))


def run(settings: Settings, progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Every requested section, and the targets each figure is held to."""
    report: dict[str, Any] = {"configuration": _configuration(settings)}
    started = time.perf_counter()
    with harness.bench_environment():
        if "scan" in settings.sections or "lambda" in settings.sections:
            progress(f"scan and lambda: {settings.jobs} jobs")
            scan, lambdas = harness.scan_and_lambda(settings.jobs)
            report["scan"], report["lambda"] = scan, lambdas
        if "throughput" in settings.sections:
            progress(f"throughput: {settings.throughput_jobs} jobs at {settings.latency_ms} ms a call")
            report["throughput"] = harness.throughput(settings.throughput_jobs, settings.latency_ms)
        if "deadline" in settings.sections:
            progress(f"deadline: {settings.deadline_jobs} jobs, {settings.deadline_ms} ms an invocation")
            report["deadline"] = harness.deadline(settings.deadline_jobs, settings.deadline_ms)
        if "memory" in settings.sections:
            progress(f"memory: {settings.memory_jobs} jobs")
            from transcribe_guard.bench import memory
            report["memory"] = memory.run(settings.memory_jobs, settings.memory_rules)
        if "steady_state" in settings.sections:
            progress(f"steady state: {settings.steady.jobs_per_day} jobs a day")
            report["steady_state"] = harness.steady_state(settings.steady, progress)
    report["targets"] = targets(report)
    report["wall_seconds"] = round(time.perf_counter() - started, 1)
    return report


def _configuration(settings: Settings) -> dict[str, Any]:
    return {
        "jobs": settings.jobs, "throughput_jobs": settings.throughput_jobs, "latency_ms": settings.latency_ms,
        "deadline_jobs": settings.deadline_jobs, "deadline_ms": settings.deadline_ms,
        "memory_jobs": settings.memory_jobs, "memory_rules": settings.memory_rules,
        "steady_state": settings.steady.__dict__, "sections": list(settings.sections),
        "population": {"kind": "transcription-job", "mix": {name: share for name, share, _ in harness.MIX},
                       "ok": "COMPLETED, customer output bucket (SSE-KMS + policy), PII redacted, required tags",
                       "bad": "COMPLETED, service bucket, no redaction, a required tag missing",
                       "failed": "FAILED"},
        "required_tags": harness.REQUIRED_TAGS, "output_bucket": harness.OUTPUT_BUCKET,
        "transcribe_guard_quota_scale": {"throughput": "1", "other sections": harness.NO_QUOTA_SCALE + " (the "
                                         "simulator enforces no quota there, so pacing is out of the way)"},
        "sdk_retries": harness.RETRY_ENVIRONMENT, "python": platform.python_version(), "machine": platform.machine(),
        "cpus": os.cpu_count()}


def _target(name: str, value: Any, limit: float, at_most: bool = True) -> dict[str, Any]:
    met = value is not None and (value <= limit if at_most else value >= limit)
    return {"name": name, "value": value, "target": f"{'<=' if at_most else '>='} {limit:g}", "met": met}


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for variant, scan in (report.get("scan") or {}).get("variants", {}).items():
        found.append(_target(f"scan, all job rules ({variant}): Transcribe calls per job",
                             scan["transcribe_calls_per_job"], 1.02))
    for key, rule in (report.get("lambda") or {}).get("rules", {}).items():
        found.append(_target(f"lambda full run, {key}: Transcribe calls per job",
                             rule["ours"]["transcribe_calls_per_job"], rule["target_transcribe_calls_per_job"]))
    if "throughput" in report:
        tp = report["throughput"]
        found.append(_target("throughput: jobs per second", tp["jobs_per_second"], 27, at_most=False))
        found.append(_target("throughput: evaluations 'Could not evaluate'", tp["could_not_evaluate"], 0))
    if "deadline" in report:
        found.append(_target("deadline: jobs without a stored result (loss)",
                             report["deadline"]["loss_jobs_without_stored_result"], 0))
        found.append(_target("deadline: a run completed (1 = yes)", int(report["deadline"]["complete"]), 1,
                             at_most=False))
    for key, run_ in (report.get("memory") or {}).get("runs", {}).items():
        peak = run_["after"]["vm_hwm_kb"]
        found.append(_target(f"memory, {key}: peak RSS MB", round(peak / 1024, 1) if peak else None, 200))
    steady = report.get("steady_state")
    if steady:
        for mode, ratios in steady["ratio_ours_average_day_to_naive_day"].items():
            for metric in ("transcribe_calls", "evaluations"):
                found.append(_target(f"steady state, {mode} mode: daily {metric.replace('_', ' ')} ours/naive",
                                     ratios[metric], 1 / 50))
    return found


def render(report: dict[str, Any]) -> str:
    out: list[str] = []

    def row(*cells: Any, widths: tuple[int, ...] = (34, 16, 16, 12, 12)) -> None:
        out.append("  ".join(str(c if c is not None else "-").ljust(w) for c, w in zip(cells, widths)).rstrip())

    if "scan" in report:
        scan = report["scan"]
        out.append(f"1. scan ({scan['jobs']} jobs): Transcribe calls per job, all job rules together")
        for variant, data in scan["variants"].items():
            row(f"  ours, output-location {variant}", data["transcribe_calls_per_job"], widths=(60, 12))
        row("  naive, four rules", scan["naive"]["transcribe_calls_per_job"], widths=(60, 12))
        out.append("")
    if "lambda" in report:
        out.append(f"2. Lambda full run ({report['lambda']['jobs']} jobs), per rule")
        row("rule", "calls/job ours", "calls/job naive", "evals ours", "evals naive", "s ours", "s naive", "ratio calls",
            widths=(26, 14, 15, 10, 11, 8, 8, 11))
        for key, r in report["lambda"]["rules"].items():
            row(key, r["ours"]["transcribe_calls_per_job"], r["naive"]["transcribe_calls_per_job"],
                r["ours"]["evaluations_posted"], r["naive"]["evaluations_posted"], r["ours"]["seconds"],
                r["naive"]["seconds"], r["ratio_ours_to_naive"]["transcribe_calls"], widths=(26, 14, 15, 10, 11, 8, 8, 11))
        out.append("")
    if "throughput" in report:
        tp = report["throughput"]
        out.append(f"3. throughput ({tp['rule']}, {tp['jobs']} jobs, {tp['latency_ms']} ms a call, documented quotas): "
                   f"{tp['jobs_per_second']} jobs/s in {tp['seconds']} s, {tp['throttled']} throttled, "
                   f"{tp['could_not_evaluate']} 'Could not evaluate'")
        out.append("")
    if "deadline" in report:
        d = report["deadline"]
        out.append(f"4. deadline ({d['jobs']} jobs, {d['budget_ms']} ms an invocation): {d['invocations']} invocations, "
                   f"complete={d['complete']}, judged per invocation {d['jobs_judged_per_invocation']}, "
                   f"overlap {d['overlap_jobs_posted_more_than_once']}, loss {d['loss_jobs_without_stored_result']}")
        out.append("")
    if "memory" in report:
        m = report["memory"]
        out.append(f"5. memory ({m['jobs']} jobs, one full run each, fresh process)")
        for key, r in m["runs"].items():
            out.append(f"   {key}: peak {r['after']['vm_hwm_kb'] / 1024:.1f} MB, baseline {r['baseline']['vm_rss_kb'] / 1024:.1f} "
                       f"MB, {r['seconds']} s, complete={r['complete']}")
        out.append("")
    if "steady_state" in report:
        s = report["steady_state"]
        c = s["configuration"]
        out.append(f"6. steady state ({c['jobs_per_day']} jobs/day, {c['retention_days']}-day retention, "
                   f"{c['warmup_days']} warm-up days, {c['measure_days']} measured): per day")
        row("rule", "mode", "calls ord/rec/avg", "evals ord/rec/avg", "new/retired avg",
            widths=(18, 9, 26, 26, 20))
        for mode in ("resource", "summary"):
            for key, r in s["ours"][mode]["rules"].items():
                row(key, mode, _trio(r["transcribe_calls"]), _trio(r["evaluations"]),
                    f"{r['new_verdicts']['average_day']}/{r['retirements']['average_day']}", widths=(18, 9, 26, 26, 20))
            t = s["ours"][mode]["total"]
            row("total", mode, _trio(t["transcribe_calls"]), _trio(t["evaluations"]),
                f"{t['new_verdicts']['average_day']}/{t['retirements']['average_day']}", widths=(18, 9, 26, 26, 20))
        n = s["naive_day"]["total"]
        row("naive total", "day", n["transcribe_calls"], n["evaluations"], f"{n['new_verdicts']}/{n['retirements']}",
            widths=(18, 9, 26, 26, 20))
        out.append("")
    out.append("targets")
    for t in report.get("targets", []):
        out.append(f"  {'met ' if t['met'] else 'MISS'}  {t['name']}: {t['value']} (target {t['target']})")
    return "\n".join(out) + "\n"


def _trio(metric: dict[str, Any]) -> str:
    return f"{metric['ordinary_day']}/{metric['reconcile_day']}/{metric['average_day']}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m transcribe_guard.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a small configuration (about a minute)")
    parser.add_argument("--jobs", type=int, help="jobs for the scan and Lambda sections")
    parser.add_argument("--output", default="build/bench.json", help="where to write the JSON report")
    parser.add_argument("--sections", help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument("--deadline-jobs", type=int)
    parser.add_argument("--memory-jobs", type=int)
    parser.add_argument("--throughput-jobs", type=int)
    parser.add_argument("--jobs-per-day", type=int)
    parser.add_argument("--warmup-days", type=int)
    parser.add_argument("--measure-days", type=int)
    args = parser.parse_args(argv)
    settings = quick_settings() if args.quick else Settings()
    for name in ("jobs", "deadline_jobs", "memory_jobs", "throughput_jobs"):
        if getattr(args, name) is not None:
            setattr(settings, name, getattr(args, name))
    for name in ("jobs_per_day", "warmup_days", "measure_days"):
        if getattr(args, name) is not None:
            setattr(settings.steady, name, getattr(args, name))
    if args.sections:
        wanted = tuple(s.strip() for s in args.sections.split(",") if s.strip())
        unknown = [s for s in wanted if s not in SECTIONS]
        if unknown:
            parser.error(f"unknown sections: {', '.join(unknown)}")
        settings.sections = wanted
    report = run(settings, progress=lambda text: print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr,
                                                           flush=True))
    if args.output:
        os.makedirs(os.path.dirname(args.output) or ".", exist_ok=True)
        with open(args.output, "w") as handle:
            json.dump(report, handle, indent=2, default=str)
    print(render(report), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
