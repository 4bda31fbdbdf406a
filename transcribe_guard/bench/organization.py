"""Section 7, organization scan: ``scan`` over several accounts x Regions, every pair at once
(``--workers`` = pairs) against one pair at a time (``--workers 1``), at the documented Transcribe
quotas (enforced by the simulator per account and Region, throughput.py) with the same latency on
every call, client-side pacing at the documented rates (TRANSCRIBE_GUARD_QUOTA_SCALE=1).

The quotas are per account and Region, so nine pairs have nine times the quota: the concurrent
scan should approach nine times the speed of one pair at a time (target: at least 6x).

Population: each pair holds ``jobs`` transcription jobs (harness.MIX), seeded straight into its
backend; the accounts are a management account and members made with organizations:CreateAccount,
scanned through an assumed role as ``scan --role-name ... --account ...`` does. The rule is
transcribe-job-output-location with AllowedOutputBuckets (a GetTranscriptionJob per job, the
Get-bound case, as in the throughput section).

Peak memory: the process's high-water mark (VmHWM) during each run, reset before it where Linux
allows (``/proc/self/clear_refs`` 5), so each run's figure is its own; it includes the simulator's
records (in-process) and every pair's inventory.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from transcribe_guard.bench import harness

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2", "eu-central-1")
RULE = "transcribe-job-output-location"
ROLE_NAME = "transcribe-guard-member"
TARGET_RATIO = 6.0


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def run(accounts: int = 3, regions: int = 3, jobs: int = 2000, latency_ms: float = 40) -> dict[str, Any]:
    from transcribe_guard import scan
    from transcribe_guard.bench.memory import _status_kb
    from transcribe_guard.scan_parameters import load_parameters
    from transcribe_guard.simulator import Simulator, clock, transcribe_backend
    from transcribe_guard.simulator import throughput as sim_throughput

    chosen = REGIONS[:regions]
    with Simulator() as sim, harness.environment(TRANSCRIBE_GUARD_QUOTA_SCALE="1"):
        organizations = sim.client("organizations")
        organizations.create_organization(FeatureSet="ALL")
        ids = [str(sim.client("sts").get_caller_identity()["Account"])]
        for index in range(accounts - 1):
            ids.append(str(organizations.create_account(Email=f"bench-{index}@example.com", AccountName=f"bench-{index}")
                           ["CreateAccountStatus"]["AccountId"]))
        for account in ids:
            for region in chosen:
                harness.seed_population(transcribe_backend(account, region), jobs,
                                        clock.now() - dt.timedelta(minutes=5), dt.timedelta(days=1), "org")
        parameters = load_parameters(None, [RULE], {RULE: {"AllowedOutputBuckets": harness.OUTPUT_BUCKET}})
        runs: dict[str, Any] = {}
        rows_by_mode: dict[str, list[tuple[str, ...]]] = {}
        pairs = len(ids) * len(chosen)
        for mode, workers in (("concurrent", pairs), ("one_pair_at_a_time", 1)):
            target = scan.ScanTarget(regions=chosen, role_name=ROLE_NAME, accounts=tuple(ids), workers=workers)
            sim_throughput.reset()
            sim_throughput.configure(quotas="documented", scale=1.0, latency_ms=latency_ms)
            reset = _reset_peak()
            started = time.perf_counter()
            try:
                rows = scan.run_scan([RULE], parameters, target=target)
                stats = sim_throughput.stats()
            finally:
                seconds = time.perf_counter() - started
                sim_throughput.reset()
            peak = _status_kb("VmHWM")
            rows_by_mode[mode] = sorted((r["account"], r["region"], r["resource_id"], r["compliance"]) for r in rows)
            runs[mode] = {
                "workers": workers, "seconds": round(seconds, 2), "evaluations": len(rows),
                "jobs_per_second": round(len(rows) / seconds, 1) if seconds else None,
                "could_not_evaluate": sum(1 for r in rows if r["annotation"].startswith("Could not evaluate")),
                "throttled": sum(s["throttled"] for s in stats.values()),
                "peak_rss_mb": round(peak / 1024, 1) if peak else None, "peak_reset_before_run": reset}
    fast, slow = runs["concurrent"]["seconds"], runs["one_pair_at_a_time"]["seconds"]
    return {"accounts": len(ids), "regions": list(chosen), "pairs": pairs, "jobs_per_pair": jobs,
            "latency_ms": latency_ms, "rule": f"{RULE} (AllowedOutputBuckets: a GetTranscriptionJob per job)",
            "quotas": "documented, per account and Region (GetTranscriptionJob 30 TPS, List* 5 TPS)",
            "transcribe_guard_quota_scale": 1, "runs": runs,
            "same_results": rows_by_mode["concurrent"] == rows_by_mode["one_pair_at_a_time"],
            "speedup": round(slow / fast, 2) if fast else None, "target_speedup": TARGET_RATIO}
