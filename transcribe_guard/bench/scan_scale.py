"""Section scan_scale: ``scan`` at any size (issue #14, item 4).

    python -m transcribe_guard.bench.scan_scale host --jobs 100000

The host process serves the simulator over HTTP (SimulatorServer, loopback) and seeds the jobs
straight into its backend (harness.seed_population: the bench's mixed population); a fresh child
process runs the scan as ``transcribe-guard scan --format json`` does (every rule ``scan --demo``
runs, its required parameters; results enriched and streamed by render.stream) and reports its
peak memory, VmHWM from /proc/self/status (see bench/memory.py for why not ru_maxrss). The
simulator's own memory (every job record) stays in the host.

Two runs:
- ``memory``: ``jobs`` jobs, no quotas or latency in the simulator, pacing out of the way
  (TRANSCRIBE_GUARD_QUOTA_SCALE=harness.NO_QUOTA_SCALE): peak memory, target under 300 MB;
- ``throughput``: ``throughput_jobs`` jobs, the simulator at the documented quotas with
  ``latency_ms`` on every call, TRANSCRIBE_GUARD_QUOTA_SCALE=1, the scan's default --max-tps
  (each Get's quota): jobs per second over the whole scan (every rule, start to end), target at
  least 27 at GetTranscriptionJob's 30 TPS; no "Could not evaluate".

Both count Transcribe Gets per job from the simulator's statistics (one read per job for all rules).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import subprocess
import sys
import time
from typing import Any

from transcribe_guard.bench.memory import _usage

MEMORY_TARGET_MB = 300
THROUGHPUT_TARGET = 27  # jobs a second at 30 TPS and 40 ms a call (issue #14)
JOB_GETS = ("GetTranscriptionJob", "GetMedicalTranscriptionJob", "GetCallAnalyticsJob", "GetMedicalScribeJob")


def child(max_tps: float | None) -> dict[str, Any]:
    from transcribe_guard import findings, render, scan
    from transcribe_guard.scan_parameters import scan_selection

    selection = scan_selection(None, None, demo=True)
    baseline = _usage()
    started = time.perf_counter()
    records = (findings.enrich(row) for row in scan.stream_scan(selection.rule_names, selection.parameters,
                                                                 max_tps=max_tps))
    with open(os.devnull, "w", encoding="utf-8") as sink:  # every result written; none shown (--status ERROR)
        summary = render.stream(records, "json", selection.rule_names, ["ERROR"], sink)
    seconds = time.perf_counter() - started
    return {"baseline": baseline, "after": _usage(), "seconds": round(seconds, 2), "rules": len(selection.rule_names),
            "evaluations": summary["evaluations"], "by_status": summary["by_status"]}


def host(jobs: int, latency_ms: float = 0, max_tps: float | None = None) -> dict[str, Any]:
    from transcribe_guard.bench import harness
    from transcribe_guard.simulator import SimulatorServer, clock, transcribe_backend
    from transcribe_guard.simulator import throughput as sim_throughput

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    paced = latency_ms > 0
    server = SimulatorServer(port=0).start()
    try:
        harness.output_bucket(server.client)
        seeded_at = time.perf_counter()
        harness.seed_population(transcribe_backend(), jobs, clock.now() - dt.timedelta(minutes=5),
                                dt.timedelta(days=30), "scale")
        seed_seconds = time.perf_counter() - seeded_at
        env = dict(os.environ, AWS_ENDPOINT_URL=server.url, AWS_ACCESS_KEY_ID="testing",
                   AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=harness.REGION, AWS_REGION=harness.REGION,
                   TRANSCRIBE_GUARD_QUOTA_SCALE="1" if paced else harness.NO_QUOTA_SCALE, **harness.RETRY_ENVIRONMENT)
        sim_throughput.reset()
        if paced:
            sim_throughput.configure(quotas="documented", scale=1.0, latency_ms=latency_ms)
        command = [sys.executable, "-m", "transcribe_guard.bench.scan_scale", "child"]
        if max_tps is not None:
            command += ["--max-tps", str(max_tps)]
        try:
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            stats = sim_throughput.stats()
        finally:
            sim_throughput.reset()
    finally:
        server.stop()
    if done.returncode != 0:
        raise RuntimeError(f"scan_scale child failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    gets = sum(stats.get(op, {}).get("served", 0) + stats.get(op, {}).get("throttled", 0) for op in JOB_GETS)
    peak = result["after"]["vm_hwm_kb"]
    return {"jobs": jobs, "seed_seconds": round(seed_seconds, 2), "latency_ms": latency_ms,
            "quotas": "documented" if paced else "none", "max_tps": max_tps, **result,
            "peak_mb": round(peak / 1024, 1) if peak else None,
            "jobs_per_second": round(jobs / result["seconds"], 2) if result["seconds"] else None,
            "job_gets_per_job": round(gets / jobs, 3) if jobs else None,
            "throttled": sum(s.get("throttled", 0) for s in stats.values()),
            "could_not_evaluate": result["by_status"].get("ERROR", 0),
            "transport": "HTTP to a SimulatorServer in another process (the simulator's memory is not counted)"}


def run(jobs: int, throughput_jobs: int, latency_ms: float) -> dict[str, Any]:
    """The section from the bench: each host in its own process, so the bench's memory is not in it."""
    found: dict[str, Any] = {}
    for name, arguments in (("memory", ["--jobs", str(jobs)]),
                            ("throughput", ["--jobs", str(throughput_jobs), "--latency-ms", str(latency_ms)])):
        done = subprocess.run([sys.executable, "-m", "transcribe_guard.bench.scan_scale", "host", *arguments],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"scan_scale host failed: {done.stderr[-3000:]}")
        found[name] = json.loads(done.stdout.strip().splitlines()[-1])
    found["target_peak_mb"], found["target_jobs_per_second"] = MEMORY_TARGET_MB, THROUGHPUT_TARGET
    return found


def targets(section: dict[str, Any], target: Any) -> list[dict[str, Any]]:
    """The section's figures, each held to its target (``target`` is the bench's _target)."""
    memory, throughput = section["memory"], section["throughput"]
    return [
        target(f"scan_scale, {memory['jobs']:,} jobs, all rules: peak memory MB (VmHWM)", memory["peak_mb"],
               MEMORY_TARGET_MB),
        target(f"scan_scale, {memory['jobs']:,} jobs: Transcribe job Gets per job", memory["job_gets_per_job"], 1.0),
        target(f"scan_scale, {throughput['jobs']:,} jobs at documented quotas, {throughput['latency_ms']:g} ms: "
               "jobs per second", throughput["jobs_per_second"], THROUGHPUT_TARGET, at_most=False),
        target("scan_scale throughput: results 'Could not evaluate'", throughput["could_not_evaluate"], 0),
    ]


def render_lines(section: dict[str, Any]) -> list[str]:
    lines = ["", "Scan at any size (all rules, a child process against a SimulatorServer):"]
    for name in ("memory", "throughput"):
        run_ = section[name]
        lines.append(f"  {name}: {run_['jobs']:,} jobs, {run_['seconds']} s ({run_['jobs_per_second']} jobs/s), "
                     f"peak {run_['peak_mb']} MB, {run_['job_gets_per_job']} job Gets per job, "
                     f"{run_['could_not_evaluate']} could not evaluate, {run_['throttled']} throttled, quotas "
                     f"{run_['quotas']}, latency {run_['latency_ms']:g} ms")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m transcribe_guard.bench.scan_scale")
    sub = parser.add_subparsers(dest="command", required=True)
    host_parser = sub.add_parser("host")
    host_parser.add_argument("--jobs", type=int, required=True)
    host_parser.add_argument("--latency-ms", type=float, default=0)
    host_parser.add_argument("--max-tps", type=float)
    child_parser = sub.add_parser("child")
    child_parser.add_argument("--max-tps", type=float)
    args = parser.parse_args(argv)
    if args.command == "host":
        print(json.dumps(host(args.jobs, args.latency_ms, args.max_tps)))
    else:
        print(json.dumps(child(args.max_tps)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
