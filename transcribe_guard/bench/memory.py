"""Section 5, peak memory of one full function run, measured in a process that holds the rule
and nothing else, as a Lambda function's does.

    python -m transcribe_guard.bench.memory host --jobs 100000 --rule pii-redaction ...

The host process serves the simulator over HTTP (SimulatorServer, loopback), seeds the jobs
straight into its backend and deploys the rules; for each rule it starts a fresh child process
that imports the rule module and runs its lambda_handler against the server (AWS_ENDPOINT_URL).
The simulator's own memory (100,000 job records, the stored Config results) stays in the host.

The child reports its baseline (after imports, before the run) and its peak. Peak is the
process's high-water mark, VmHWM from /proc/self/status; resource.getrusage's ru_maxrss is
reported too, but on Linux a child started from a large parent inherits the parent's maxrss
across exec (the old address space is accounted when exec replaces it), so it reads the host's
size, not the child's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import resource
import subprocess
import sys
import time
from typing import Any


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _usage() -> dict[str, int | None]:
    return {"vm_rss_kb": _status_kb("VmRSS"), "vm_hwm_kb": _status_kb("VmHWM"),
            "ru_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def child(module: str, event_json: str) -> dict[str, Any]:
    import importlib

    from transcribe_guard.bench.harness import FakeContext, run_log
    handler = importlib.import_module(module).lambda_handler
    baseline = _usage()
    started = time.perf_counter()
    with run_log() as log:
        handler(json.loads(event_json), FakeContext(24 * 3600 * 1000))  # one whole run: no deadline
    seconds = time.perf_counter() - started
    line = log.lines[-1] if log.lines else {}
    return {"baseline": baseline, "after": _usage(), "seconds": round(seconds, 2), "complete": line.get("complete"),
            "judged": line.get("judged"), "evaluations": line.get("evaluations"),
            "transcribe_calls": line.get("transcribe_calls")}


def host(jobs: int, keys: list[str]) -> dict[str, Any]:
    from transcribe_guard.bench import harness
    from transcribe_guard.simulator import SimulatorServer, clock, transcribe_backend
    from transcribe_guard.simulator.config import result_token
    from transcribe_guard.events import scheduled_notification

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = SimulatorServer(port=0).start()
    try:
        seeded_at = time.perf_counter()
        harness.seed_population(transcribe_backend(), jobs, clock.now() - dt.timedelta(minutes=5),
                                dt.timedelta(days=30), "mem")
        seed_seconds = time.perf_counter() - seeded_at
        env = dict(os.environ, AWS_ENDPOINT_URL=server.url, AWS_ACCESS_KEY_ID="testing",
                   AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=harness.REGION, AWS_REGION=harness.REGION,
                   TRANSCRIBE_GUARD_QUOTA_SCALE=harness.NO_QUOTA_SCALE, **harness.RETRY_ENVIRONMENT)
        runs: dict[str, Any] = {}
        for key in keys:
            module, parameters, by_summary = harness.OURS[key]
            rule_name = f"ours-memory-{key}"
            harness.deploy_rule(server.client, rule_name)
            event = scheduled_notification(rule_name, harness.ACCOUNT, result_token(rule_name), region=harness.REGION,
                                           rule_parameters={"AssumeRoleMode": "false", **parameters}, now=clock.now())
            done = subprocess.run([sys.executable, "-m", "transcribe_guard.bench.memory", "child", "--module", module,
                                   "--event", json.dumps(event)], env=env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"memory child for {key} failed: {done.stderr[-2000:]}")
            result = json.loads(done.stdout.strip().splitlines()[-1])
            result["answered_by_list_summaries"] = by_summary
            result["parameters"] = parameters
            runs[key] = result
    finally:
        server.stop()
    return {"jobs": jobs, "seed_seconds": round(seed_seconds, 2), "runs": runs,
            "transport": "HTTP to a SimulatorServer in another process (the simulator's memory is not counted)"}


def run(jobs: int, keys: list[str]) -> dict[str, Any]:
    """Section 5 from the bench: the host in its own process too, so the bench's memory is not in it."""
    done = subprocess.run([sys.executable, "-m", "transcribe_guard.bench.memory", "host", "--jobs", str(jobs),
                           *[arg for key in keys for arg in ("--rule", key)]],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memory host failed: {done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m transcribe_guard.bench.memory")
    sub = parser.add_subparsers(dest="command", required=True)
    host_parser = sub.add_parser("host")
    host_parser.add_argument("--jobs", type=int, required=True)
    host_parser.add_argument("--rule", action="append", required=True)
    child_parser = sub.add_parser("child")
    child_parser.add_argument("--module", required=True)
    child_parser.add_argument("--event", required=True)
    args = parser.parse_args(argv)
    if args.command == "host":
        print(json.dumps(host(args.jobs, args.rule)))
    else:
        print(json.dumps(child(args.module, args.event)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
