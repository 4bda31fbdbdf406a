"""Section `pack`: the whole pack against one account's Transcribe quota, with the customer's own
pipeline using part of it (issue 14).

    python -m transcribe_guard.bench.pack host --variant ours --retained 300 --new 150 ...

Every function that reads Transcribe jobs or customizations runs as it does in Lambda: each in a
process of its own (so each has its own pacing, as separate functions do: nothing coordinates
them but the quota), all at once, against a SimulatorServer in the host process that enforces
the documented per-account quotas (simulator/throughput.py, scale 1) with ``latency_ms`` on every
call. The customer's pipeline, in the host, calls every Get operation the population's job kinds
use at ``pipeline_share`` of its quota throughout, in its own session (not counted as ours).

The estate: ``retained`` jobs of mixed kinds (standard, call analytics, medical, medical scribe)
created over the past days, already judged (every rule has had its first, full run; with the
ledger, the collector has swept them); then ``new`` jobs finish and the measured stretch starts
(the new jobs finish over an hour; then two runs of every rule function, an hour apart on the
simulator's clock, as their schedule runs them):

- ``ours``: the pack with the ledger. The collector takes the job state change events
  EventBridge delivers (standard and call analytics jobs: AWS documents no event for the medical
  kinds) and sweeps (which finds the medical ones), while every rule function runs; then every
  rule runs again (what the collector recorded during the first run is judged by the second).
- ``naive_per_rule``: today's pack without the ledger: each function reads Transcribe itself
  (incrementally, paced on its own), the same two runs.
- ``naive_single_pass``: one pass that reads every job once for all the rules (``scan``'s shared
  inventory) and is run again for each batch of new jobs, as a design without a ledger must.

Figures: Transcribe Get calls per new job (all functions together; logical calls, retries
not included), the share of attempts throttled, "Could not evaluate" results, new jobs each rule
judged, DynamoDB calls, and the share of the account's GetTranscriptionJob quota the pack's Gets
would use at 100,000 jobs a day (issue 14's definition: Gets per new job x 100,000 over 30/s x
86,400 s; the by-operation shares at the population's mix are given too).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Mapping

# The rules that read Transcribe jobs or customizations (every reader in rules/inventory/ledger.py
# LEDGER_FIELDS), with the parameters a contact center would set.
OUTPUT_BUCKET = "transcribe-guard-bench-output"  # = harness.OUTPUT_BUCKET and simulator/bulk.py's
MEDIA_BUCKET = "transcribe-guard-bench-media"  # simulator/bulk.py MEDIA_URI's bucket
DATA_ACCESS_ROLE = "TranscribeBenchDataAccess"  # simulator/bulk.py ROLE_ARN
REQUIRED_TAGS = "DataClassification,team"
GOOD_TAGS = {"DataClassification": "confidential", "team": "contact-center"}
RULES: dict[str, dict[str, str]] = {
    "transcribe-job-output-location": {"AllowedOutputBuckets": OUTPUT_BUCKET},
    "transcribe-job-pii-redaction": {},
    "transcribe-job-output-encrypted": {},
    "transcribe-resource-tagged": {"RequiredTags": REQUIRED_TAGS},
    "transcribe-data-access-role": {},
    "transcribe-customization-encrypted": {},
    "transcribe-bucket-encrypted": {},
    "transcribe-bucket-public-access-blocked": {},
    "transcribe-bucket-tls-enforced": {},
    "transcribe-kms-key-protected": {},
}
# Rules with one verdict per job: every new job must get one from each (coverage).
JOB_RULES = ("transcribe-job-output-location", "transcribe-job-pii-redaction", "transcribe-job-output-encrypted",
             "transcribe-resource-tagged")
# The population's job kinds and their shares: a contact center's mix (assumed, stated in the JSON).
KIND_MIX = (("transcription-job", 0.6), ("analytics", 0.25), ("medical-transcription-job", 0.1),
            ("medical-scribe-job", 0.05))
GET_OPERATION = {"transcription-job": "GetTranscriptionJob", "analytics": "GetCallAnalyticsJob",
                 "medical-transcription-job": "GetMedicalTranscriptionJob", "medical-scribe-job": "GetMedicalScribeJob"}
VARIANTS = ("ours", "naive_per_rule", "naive_single_pass")
TABLE = "transcribe-guard-ledger"
CLOCK_OFFSET_ENV = "TRANSCRIBE_GUARD_BENCH_CLOCK_OFFSET"  # seconds the host's simulated clock is ahead
GET_SHARE = "0.2"  # the template's LedgerGetShare default (rules/engine/collector.py DEFAULT_GET_SHARE)
JOBS_PER_DAY_AT_SCALE = 100_000
DAY_SECONDS = 86_400
# Targets (issue 14).
TARGET_GETS_PER_NEW_JOB = 1.02
TARGET_QUOTA_SHARE = 0.05
TARGET_COULD_NOT_EVALUATE = 0


# --- the child: one function run, in its own process ---------------------------------------------------


class _Counter:
    """Every API call (logical; retries not counted) and every posted evaluation of this process."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.evaluations = 0
        self.could_not_evaluate: list[str] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        import boto3
        events = boto3._get_default_session().events
        events.register("before-call", self._call)
        events.register("before-parameter-build.config-service.PutEvaluations", self._put)

    def _call(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls[f"{model.service_model.service_name}:{model.name}"] += 1

    def _put(self, params: Mapping[str, Any], **_: Any) -> None:
        with self._lock:
            for entry in params.get("Evaluations") or []:
                self.evaluations += 1
                annotation = str(entry.get("Annotation") or "")
                if annotation.startswith("Could not evaluate"):
                    self.could_not_evaluate.append(annotation[:200])

    def report(self, **extra: Any) -> dict[str, Any]:
        return {"calls": dict(self.calls), "evaluations": self.evaluations,
                "could_not_evaluate": len(self.could_not_evaluate), "could_not_evaluate_examples":
                sorted(set(self.could_not_evaluate))[:5], **extra}


def child(role: str, argument: str) -> dict[str, Any]:
    """``rule``: a rule function's lambda_handler on the event ``argument`` (JSON, from stdin);
    ``collector``: the collector on each event in the JSON list ``argument`` (a sweep is an event
    too); ``scan``: one single pass of every rule (``argument``: their parameters)."""
    import importlib

    from transcribe_guard import custom_endpoint
    from transcribe_guard.bench.harness import FakeContext, run_log

    custom_endpoint.install_default()  # s3control through AWS_ENDPOINT_URL (the functions' S3 Control reads)
    counter = _Counter()
    counter.start()
    started = time.perf_counter()
    if role == "rule":
        event = json.loads(argument)
        module = "rules." + event["configRuleName"].split("/")[-1].replace("-", "_")
        with run_log() as log:
            importlib.import_module(module).lambda_handler(event, FakeContext(900_000))
        lines = log.lines
        return counter.report(seconds=round(time.perf_counter() - started, 2), log=lines[-1] if lines else None)
    if role == "collector":
        from rules.engine import collector as collector_module
        from rules.engine.collector import lambda_handler
        offset = float(os.environ.get(CLOCK_OFFSET_ENV) or 0)
        if offset:  # the host's simulated clock runs ahead of this process's: the collector's times follow it
            plain_init = collector_module.Collector.__init__

            def shifted_init(self: Any, *args: Any, **kwargs: Any) -> None:
                kwargs.setdefault("clock", lambda: time.time() + offset)
                plain_init(self, *args, **kwargs)
            collector_module.Collector.__init__ = shifted_init  # type: ignore[method-assign]
        answers = [lambda_handler(event, FakeContext(900_000)) for event in json.loads(argument)]
        keys = ("gets", "written", "retired", "throttled", "deferred")
        return counter.report(seconds=round(time.perf_counter() - started, 2),
                              collector={key: sum(int(a[key]) for a in answers) for key in keys},
                              problems=[p for a in answers for p in a["problems"]])
    if role == "scan":
        from rules.catalog.registry import RULES as REGISTRY
        from transcribe_guard.scan import run_scan
        parameters = json.loads(argument)
        parsed = {name: REGISTRY[name]().evaluate_parameters(p) for name, p in parameters.items()}
        results = run_scan(list(parameters), parsed)
        cne = [r["annotation"][:200] for r in results if r["annotation"].startswith("Could not evaluate")]
        return {**counter.report(seconds=round(time.perf_counter() - started, 2)), "evaluations": len(results),
                "could_not_evaluate": len(cne), "could_not_evaluate_examples": sorted(set(cne))[:5],
                "judged_by_rule": {name: sorted({r["resource_id"] for r in results if r["rule"] == name})
                                   for name in JOB_RULES}}
    raise ValueError(f"unknown child role {role!r}")


# --- the host: one variant on one simulated account ---------------------------------------------------


class Pipeline:
    """The customer's own workload: Get calls on the population's jobs at ``share`` of each Get
    operation's documented quota, from its own session (one attempt per call, as a pipeline
    that handles throttling itself), until stopped."""

    def __init__(self, url: str, names: Mapping[str, list[str]], share: float):
        import boto3
        from botocore.config import Config

        from rules.engine.pacing import RateLimiter
        from transcribe_guard.simulator.throughput import DOCUMENTED_QUOTAS

        session = boto3.session.Session(aws_access_key_id="pipeline", aws_secret_access_key="pipeline",
                                        region_name="us-east-1")
        self.client = session.client("transcribe", endpoint_url=url,
                                     config=Config(retries={"mode": "standard", "max_attempts": 1},
                                                   max_pool_connections=16))
        self.names = {kind: list(found) for kind, found in names.items() if found}
        self.limiter = RateLimiter({GET_OPERATION[kind]: DOCUMENTED_QUOTAS[GET_OPERATION[kind]] * share
                                    for kind in self.names})
        self.stop = threading.Event()
        self.served: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()
        self._threads: list[threading.Thread] = []

    def _run(self, kind: str) -> None:
        from botocore.exceptions import ClientError

        from rules.inventory.transcribe import KINDS_BY_KEY
        resource = KINDS_BY_KEY[kind]
        operation, names, index = GET_OPERATION[kind], self.names[kind], 0
        while not self.stop.is_set():
            self.limiter.acquire(operation)
            try:
                getattr(self.client, resource.get_operation)(**{resource.get_name_parameter: names[index % len(names)]})
                self.served[operation] += 1
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") == "LimitExceededException":
                    self.throttled[operation] += 1
            index += 1

    def __enter__(self) -> "Pipeline":
        for kind in self.names:  # a few callers a kind: enough in flight for the rate at the latency
            for _ in range(2):
                thread = threading.Thread(target=self._run, args=(kind,), daemon=True)
                thread.start()
                self._threads.append(thread)
        return self

    def __exit__(self, *_: Any) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join()


def _seed(backend: Any, count: int, newest: dt.datetime, span: dt.timedelta, prefix: str) -> dict[str, list[str]]:
    """``count`` jobs in KIND_MIX shares, created over ``span`` up to ``newest``; in each kind 92%
    compliant-looking (customer bucket, redaction, tags), 5% not (service bucket, a tag missing),
    3% FAILED (harness.MIX)."""
    from transcribe_guard.bench.harness import MIX, REDACTION
    from transcribe_guard.simulator.bulk import seed_jobs

    names: dict[str, list[str]] = {}
    for kind, kind_share in KIND_MIX:
        total = max(1, int(round(count * kind_share)))
        seeded = 0
        names[kind] = []
        for index, (quality, share, status) in enumerate(MIX):
            n = total - seeded if index == len(MIX) - 1 else int(round(total * share))
            if n <= 0:
                continue
            request: dict[str, Any] = {}
            if kind == "transcription-job" and quality != "bad":
                request = {"OutputBucketName": OUTPUT_BUCKET, "ContentRedaction": REDACTION}
            tags = GOOD_TAGS if quality != "bad" else {"team": "contact-center"}
            step = span / n

            def created(i: int, step: dt.timedelta = step, skew: int = index) -> dt.datetime:
                return newest - step * i - dt.timedelta(seconds=skew)
            names[kind] += seed_jobs(backend, kind, n, created_at=created, status=status, request=request, tags=tags,
                                     name_prefix=f"{prefix}-{kind[:4]}-{quality}")
            seeded += n
    return names


def _account(client: Any) -> None:
    """The buckets and role the jobs name, so that the bucket and role rules can read them."""
    from transcribe_guard.bench.harness import output_bucket
    output_bucket(client)
    client("s3").create_bucket(Bucket=MEDIA_BUCKET)
    client("iam").create_role(RoleName=DATA_ACCESS_ROLE, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "transcribe.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))


def _child_env(url: str, measured: bool, ledger: bool) -> dict[str, str]:
    from transcribe_guard.bench.harness import NO_QUOTA_SCALE, RETRY_ENVIRONMENT
    env = {name: value for name, value in os.environ.items()
           if name not in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "TRANSCRIBE_GUARD_LEDGER_TABLE")}
    env.update(AWS_ENDPOINT_URL=url, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1", **RETRY_ENVIRONMENT,
               TRANSCRIBE_GUARD_QUOTA_SCALE="1" if measured else NO_QUOTA_SCALE,
               TRANSCRIBE_GUARD_LEDGER_GET_SHARE=GET_SHARE)
    if ledger:
        env["TRANSCRIBE_GUARD_LEDGER_TABLE"] = TABLE
    from transcribe_guard.simulator import clock
    env[CLOCK_OFFSET_ENV] = str(clock.offset().total_seconds())
    return env


def _spawn(role: str, argument: str, env: Mapping[str, str]) -> dict[str, Any]:
    # The argument on stdin: a collector's events for thousands of jobs are past a command line's limit.
    done = subprocess.run([sys.executable, "-m", "transcribe_guard.bench.pack", "child", "--role", role],
                          input=argument, env=dict(env), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"pack child {role} failed: {done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _rule_event(rule: str) -> str:
    from transcribe_guard.events import scheduled_notification
    from transcribe_guard.simulator import clock
    from transcribe_guard.simulator.config import result_token
    return json.dumps(scheduled_notification(rule, "123456789012", result_token(rule), region="us-east-1",
                                             rule_parameters={"AssumeRoleMode": "false", **RULES[rule]},
                                             now=clock.now()))


def _all_rules(env: Mapping[str, str]) -> list[dict[str, Any]]:
    """Every rule function at once, each in its own process."""
    with ThreadPoolExecutor(max_workers=len(RULES)) as pool:
        return list(pool.map(lambda rule: _spawn("rule", _rule_event(rule), env), RULES))


def _events(names: Mapping[str, list[str]]) -> list[dict[str, Any]]:
    """The state change events EventBridge delivers for the new jobs (AWS lists them for
    transcription and call analytics jobs only), then the sweep's schedule event."""
    events: list[dict[str, Any]] = []
    for name in names.get("transcription-job", []):
        events.append({"source": "aws.transcribe", "detail-type": "Transcribe Job State Change",
                       "account": "123456789012", "detail": {"TranscriptionJobName": name,
                                                             "TranscriptionJobStatus": "COMPLETED"}})
    for name in names.get("analytics", []):
        events.append({"source": "aws.transcribe", "detail-type": "Call Analytics Job State Change",
                       "account": "123456789012", "detail": {"JobName": name, "JobStatus": "COMPLETED"}})
    events.append({"source": "aws.events", "detail-type": "Scheduled Event", "account": "123456789012"})
    return events


def host(variant: str, retained: int, new: int, latency_ms: float, pipeline_share: float) -> dict[str, Any]:
    from transcribe_guard.simulator import SimulatorServer, clock, transcribe_backend
    from transcribe_guard.simulator import ledger as sim_ledger
    from transcribe_guard.simulator import throughput as sim_throughput
    from transcribe_guard.bench.harness import deploy_rule
    from transcribe_guard.simulator.config import read_verdicts

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    ledger = variant == "ours"
    server = SimulatorServer(port=0).start()
    try:
        _account(server.client)
        if ledger:
            sim_ledger.create_table(server.client("dynamodb"), TABLE)
        for rule in RULES:
            deploy_rule(server.client, rule)
        backend = transcribe_backend()
        old = _seed(backend, retained, clock.now() - dt.timedelta(hours=1), dt.timedelta(days=30), "old")
        # Before: the estate judged (no quota, not measured): every rule's first run, after a sweep.
        warm_env = _child_env(server.url, measured=False, ledger=ledger)
        if ledger:
            _spawn("collector", json.dumps(_events({})), warm_env)
        if variant != "naive_single_pass":
            _all_rules(warm_env)
        # An hour later on the simulator's clock: the new jobs finished during it, the functions'
        # schedule runs them (so that only jobs of the hour's last minutes are inside SKEW twice).
        clock.advance(dt.timedelta(hours=1))
        fresh = _seed(backend, new, clock.now() - dt.timedelta(seconds=5), dt.timedelta(minutes=55), "new")
        new_arns = {f"arn:aws:transcribe:us-east-1:123456789012:{kind}/{name}"
                    for kind, found in fresh.items() for name in found}
        env = _child_env(server.url, measured=True, ledger=ledger)
        sim_throughput.reset()
        sim_throughput.configure(quotas="documented", scale=1.0, latency_ms=latency_ms)
        population = {kind: old.get(kind, []) + fresh.get(kind, []) for kind, _ in KIND_MIX}
        started = time.perf_counter()
        runs: list[dict[str, Any]] = []
        with Pipeline(server.url, population, pipeline_share) as pipeline:
            if variant == "naive_single_pass":
                runs.append(_spawn("scan", json.dumps(RULES), env))
            else:
                with ThreadPoolExecutor(max_workers=2) as pool:
                    collector = pool.submit(_spawn, "collector", json.dumps(_events(fresh)), env) if ledger else None
                    runs += _all_rules(env)
                    if collector is not None:
                        runs.append(collector.result())
                # An hour later, as the functions' schedule runs them: the second runs judge what the
                # collector recorded during the first (and, an hour on, nothing is inside SKEW twice).
                clock.advance(dt.timedelta(hours=1))
                runs += _all_rules(_child_env(server.url, measured=True, ledger=ledger))
            seconds = time.perf_counter() - started
        stats = sim_throughput.stats()
        sim_throughput.reset()
        if variant == "naive_single_pass":  # a pass's results are its own, not stored in Config
            stored = {rule: set(runs[0]["judged_by_rule"][rule]) for rule in JOB_RULES}
        else:
            stored = {rule: set(read_verdicts(server.client("config"), rule)) for rule in JOB_RULES}
    finally:
        server.stop()
    seeded_before = sum(len(found) for found in old.values())  # KIND_MIX rounds each kind's share
    return _figures(variant, runs, stats, pipeline, seeded_before, new_arns, stored, seconds)


def _figures(variant: str, runs: list[dict[str, Any]], stats: Mapping[str, Mapping[str, int]], pipeline: Pipeline,
             retained: int, new_arns: set[str], stored: Mapping[str, set[str]],
             seconds: float) -> dict[str, Any]:
    calls: Counter[str] = Counter()
    for run in runs:
        calls.update(run["calls"])
    transcribe = {op.split(":", 1)[1]: n for op, n in sorted(calls.items()) if op.startswith("transcribe:")}
    gets = {op: n for op, n in transcribe.items() if op.startswith(("Get", "Describe"))}
    new_jobs = len(new_arns)
    served = sum(s["served"] for s in stats.values()) - sum(pipeline.served.values())
    throttled = sum(s["throttled"] for s in stats.values()) - sum(pipeline.throttled.values())
    gets_per_new_job = round(sum(gets.values()) / new_jobs, 4) if new_jobs else None
    from transcribe_guard.simulator.throughput import DOCUMENTED_QUOTAS
    by_operation_share = {op: round(n / new_jobs * JOBS_PER_DAY_AT_SCALE / (DOCUMENTED_QUOTAS[op] * DAY_SECONDS), 4)
                          for op, n in gets.items() if op in DOCUMENTED_QUOTAS}
    pipeline_attempts = sum(pipeline.served.values()) + sum(pipeline.throttled.values())
    return {
        "variant": variant, "new_jobs": new_jobs, "retained_jobs": retained, "seconds": round(seconds, 1),
        "gets_per_new_job": gets_per_new_job,
        "transcribe_calls": transcribe, "transcribe_calls_per_new_job": round(sum(transcribe.values()) / new_jobs, 4),
        "dynamodb_calls": {op.split(":", 1)[1]: n for op, n in sorted(calls.items()) if op.startswith("dynamodb:")},
        "throttled_share": round(throttled / (served + throttled), 4) if served + throttled else 0.0,
        "throttled_attempts": throttled, "attempts": served + throttled,
        "could_not_evaluate": sum(run["could_not_evaluate"] for run in runs),
        "could_not_evaluate_examples": sorted({e for run in runs for e in run.get("could_not_evaluate_examples", [])})[:5],
        "quota_share_per_day_at_100k": (round(gets_per_new_job * JOBS_PER_DAY_AT_SCALE
                                              / (DOCUMENTED_QUOTAS["GetTranscriptionJob"] * DAY_SECONDS), 4)
                                        if gets_per_new_job is not None else None),
        "quota_share_per_day_at_100k_by_operation": by_operation_share,
        "new_jobs_without_a_verdict": {rule: len(new_arns - found) for rule, found in stored.items()},
        "pipeline": {"served": sum(pipeline.served.values()), "throttled": sum(pipeline.throttled.values()),
                     "throttled_share": round(sum(pipeline.throttled.values()) / pipeline_attempts, 4)
                     if pipeline_attempts else 0.0,
                     "gets_per_second": round(sum(pipeline.served.values()) / seconds, 2) if seconds else None,
                     "share_of_quota_used": {op: round(n / seconds / DOCUMENTED_QUOTAS[op], 3)
                                             for op, n in sorted(pipeline.served.items())} if seconds else None},
        "collector": next((run["collector"] for run in runs if "collector" in run), None),
        "problems": sorted({p for run in runs for p in run.get("problems", [])})[:10],
    }


# --- the section ----------------------------------------------------------------------------------


def run(retained: int, new: int, latency_ms: float = 40, pipeline_share: float = 0.5,
        variants: tuple[str, ...] = VARIANTS) -> dict[str, Any]:
    """Each variant in a host process of its own (a fresh simulated account)."""
    results: dict[str, Any] = {}
    for variant in variants:
        done = subprocess.run([sys.executable, "-m", "transcribe_guard.bench.pack", "host", "--variant", variant,
                               "--retained", str(retained), "--new", str(new), "--latency-ms", str(latency_ms),
                               "--pipeline-share", str(pipeline_share)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"pack host {variant} failed: {done.stderr[-3000:]}")
        results[variant] = json.loads(done.stdout.strip().splitlines()[-1])
    ours = results.get("ours") or {}
    return {
        "retained_jobs": retained, "new_jobs": new, "latency_ms": latency_ms, "pipeline_share": pipeline_share,
        "quotas": "documented, enforced by the simulator at scale 1 (GetTranscriptionJob 30/s, the other Gets 20/s)",
        "kind_mix": dict(KIND_MIX), "rules": list(RULES), "collector_get_share": float(GET_SHARE),
        "quota_share_definition": "Gets per new job x 100,000 jobs a day / (GetTranscriptionJob's 30/s x 86,400 s)",
        "variants": results,
        # A single pass reads every live job each run: at 90 days' retention and one run a day, 90
        # days of jobs for each day's new ones (derived, not simulated: the measured pass above reads
        # retained + new once, which shows the cost per job read).
        "naive_single_pass_gets_per_new_job_daily_at_90_day_retention": 91.0,
        # The figures, for ours, at the top of the section's JSON.
        "gets_per_new_job": ours.get("gets_per_new_job"), "could_not_evaluate": ours.get("could_not_evaluate"),
        "throttled_share": ours.get("throttled_share"),
        "quota_share_per_day_at_100k": ours.get("quota_share_per_day_at_100k"),
        "targets": {"gets_per_new_job": TARGET_GETS_PER_NEW_JOB, "quota_share_per_day_at_100k": TARGET_QUOTA_SHARE,
                    "could_not_evaluate": TARGET_COULD_NOT_EVALUATE},
    }


def targets(section: Mapping[str, Any]) -> list[tuple[str, Any, float, bool]]:
    """(name, value, limit, at_most) for bench/__main__.targets."""
    ours = section["variants"].get("ours") or {}
    found = [("pack, ledger: Transcribe Get calls per new job, every function together",
              section["gets_per_new_job"], TARGET_GETS_PER_NEW_JOB, True),
             ("pack, ledger: share of the GetTranscriptionJob quota at 100,000 jobs a day",
              section["quota_share_per_day_at_100k"], TARGET_QUOTA_SHARE, True),
             (f"pack, ledger: 'Could not evaluate' with every function at once and the pipeline at "
              f"{section['pipeline_share']:.0%} of the quota", section["could_not_evaluate"], 0, True)]
    missing = sum((ours.get("new_jobs_without_a_verdict") or {}).values()) if ours else None
    found.append(("pack, ledger: new jobs without a stored verdict, job rules", missing, 0, True))
    return found


def render(section: Mapping[str, Any]) -> list[str]:
    out = [f"9. pack ({len(section['rules'])} rules that read jobs, each its own process, all at once; "
           f"{section['retained_jobs']} retained + {section['new_jobs']} new jobs of mixed kinds; documented quotas, "
           f"{section['latency_ms']} ms a call; the customer's pipeline at {section['pipeline_share']:.0%} of each Get quota)"]
    heads = ("variant", "Gets/new job", "throttled", "CNE", "quota@100k", "pipeline throttled", "DynamoDB calls", "s")
    widths = (19, 13, 10, 5, 11, 19, 15, 7)
    out.append("  " + "  ".join(h.ljust(w) for h, w in zip(heads, widths)).rstrip())
    for variant, v in section["variants"].items():
        cells = (variant, v["gets_per_new_job"], v["throttled_share"], v["could_not_evaluate"],
                 v["quota_share_per_day_at_100k"], v["pipeline"]["throttled_share"], sum(v["dynamodb_calls"].values()),
                 v["seconds"])
        out.append("  " + "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip())
    out.append("")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m transcribe_guard.bench.pack")
    sub = parser.add_subparsers(dest="command", required=True)
    host_parser = sub.add_parser("host")
    host_parser.add_argument("--variant", choices=VARIANTS, required=True)
    host_parser.add_argument("--retained", type=int, required=True)
    host_parser.add_argument("--new", type=int, required=True)
    host_parser.add_argument("--latency-ms", type=float, default=40)
    host_parser.add_argument("--pipeline-share", type=float, default=0.5)
    child_parser = sub.add_parser("child")
    child_parser.add_argument("--role", choices=("rule", "collector", "scan"), required=True)
    args = parser.parse_args(argv)
    if args.command == "host":
        print(json.dumps(host(args.variant, args.retained, args.new, args.latency_ms, args.pipeline_share)))
    else:
        print(json.dumps(child(args.role, sys.stdin.read())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
