"""The measurements: seeding, call metering, and one function per benchmark section.

Every section runs against the in-process simulator (``Simulator``), seeded straight into the
backend (bulk.py). Calls are counted with botocore hooks on the default boto3 session (every
client rdklib's ClientFactory builds inherits them): ``before-call`` for API calls by service and
operation (one per logical call, retries not included: throttled attempts come from
throughput.stats()), and ``before-parameter-build.config-service.PutEvaluations`` for the
evaluations posted. A posted NOT_APPLICABLE whose resource had a COMPLIANT or NON_COMPLIANT
result stored is counted as a retirement; every other evaluation is a verdict.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import io
import json
import logging
import os
import random
import threading
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable, Iterator, Mapping

import boto3
from botocore.exceptions import ClientError

from transcribe_guard.bench.naive import NAIVE_RULES, handler as naive_handler
from transcribe_guard.events import scheduled_notification

ACCOUNT = "123456789012"
REGION = "us-east-1"
OUTPUT_BUCKET = "transcribe-guard-bench-output"
REQUIRED_TAGS = "DataClassification,team"
GOOD_TAGS = {"DataClassification": "confidential", "team": "contact-center"}
REDACTION = {"RedactionType": "PII", "RedactionOutput": "redacted"}
RETRY_ENVIRONMENT = {"AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": "5"}  # as templates.py sets on the functions
NO_QUOTA_SCALE = "1000"  # client-side pacing out of the way where the simulator enforces no quota
LOGGER_NAME = "transcribe_guard.rules"

# Our rule configurations: (rule module, parameters, answered by List summaries alone).
OURS: dict[str, tuple[str, dict[str, str], bool]] = {
    "output-location": ("rules.transcribe_job_output_location", {}, True),
    "output-location-allowed": ("rules.transcribe_job_output_location", {"AllowedOutputBuckets": OUTPUT_BUCKET}, False),
    "pii-redaction": ("rules.transcribe_job_pii_redaction", {}, True),
    "resource-tagged": ("rules.transcribe_resource_tagged", {"RequiredTags": REQUIRED_TAGS}, False),
    "output-encrypted": ("rules.transcribe_job_output_encrypted", {}, False),
}
# The naive rule each of ours is compared with, and its parameters.
NAIVE_FOR: dict[str, tuple[str, dict[str, str]]] = {
    "output-location": ("output-location", {}),
    "output-location-allowed": ("output-location", {"AllowedOutputBuckets": OUTPUT_BUCKET}),
    "pii-redaction": ("pii-redaction", {}),
    "resource-tagged": ("resource-tagged", {"RequiredTags": REQUIRED_TAGS}),
    "output-encrypted": ("output-encrypted", {}),
}
REGISTRY_NAME = {
    "output-location": "transcribe-job-output-location",
    "pii-redaction": "transcribe-job-pii-redaction",
    "resource-tagged": "transcribe-resource-tagged",
    "output-encrypted": "transcribe-job-output-encrypted",
}
# The steady state runs each job rule once (output location without AllowedOutputBuckets).
STEADY_RULES = ("output-location", "pii-redaction", "resource-tagged", "output-encrypted")


# --- environment -------------------------------------------------------------------------------


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def bench_environment() -> contextlib.AbstractContextManager[None]:
    """Credentials for the simulator only, the functions' SDK retries, the simulator's Region."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    return environment(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=REGION,
                       AWS_REGION=REGION, TRANSCRIBE_GUARD_QUOTA_SCALE=NO_QUOTA_SCALE, **RETRY_ENVIRONMENT)


# --- metering --------------------------------------------------------------------------------------


def _token_rule(token: str) -> str | None:
    try:
        return str(json.loads(base64.b64decode(token))["configRuleName"])
    except (ValueError, KeyError, TypeError):
        return None


@dataclass
class Usage:
    """What one stretch of work cost."""

    calls: Counter[str] = field(default_factory=Counter)  # "service:Operation"
    verdicts: int = 0
    retirements: int = 0
    could_not_evaluate: int = 0
    by_compliance: Counter[str] = field(default_factory=Counter)
    posted_ids: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def transcribe(self) -> dict[str, int]:
        return {k.split(":", 1)[1]: v for k, v in sorted(self.calls.items()) if k.startswith("transcribe:")}

    def transcribe_total(self) -> int:
        return sum(self.transcribe().values())

    @property
    def evaluations(self) -> int:
        return self.verdicts + self.retirements

    def add(self, other: "Usage") -> None:
        self.calls.update(other.calls)
        self.verdicts += other.verdicts
        self.retirements += other.retirements
        self.could_not_evaluate += other.could_not_evaluate
        self.by_compliance.update(other.by_compliance)
        self.posted_ids.update(other.posted_ids)
        self.seconds += other.seconds


class Meter:
    """botocore hooks on the default session, counting into the active Usage (if any)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: Usage | None = None
        self.track_ids = False
        self._id = f"transcribe-guard-bench-{id(self)}"

    def start(self) -> "Meter":
        events = boto3._get_default_session().events
        events.register("before-call", self._call, unique_id=self._id + "-call")
        events.register("before-parameter-build.config-service.PutEvaluations", self._put, unique_id=self._id + "-put")
        return self

    def stop(self) -> None:
        events = boto3._get_default_session().events
        events.unregister("before-call", unique_id=self._id + "-call")
        events.unregister("before-parameter-build.config-service.PutEvaluations", unique_id=self._id + "-put")

    def _call(self, model: Any, **_: Any) -> None:
        with self._lock:
            if self._active is not None:
                self._active.calls[f"{model.service_model.service_name}:{model.name}"] += 1

    def _put(self, params: Mapping[str, Any], **_: Any) -> None:
        usage = self._active
        if usage is None or params.get("TestMode"):
            return
        from transcribe_guard.simulator.config import backend, stored_results
        rule = _token_rule(str(params.get("ResultToken")))
        stored = stored_results(backend(ACCOUNT, REGION), rule) if rule else {}
        with self._lock:
            for entry in params.get("Evaluations") or []:
                compliance = entry.get("ComplianceType")
                key = f"{entry.get('ComplianceResourceType')}\x00{entry.get('ComplianceResourceId')}"
                before = (stored.get(key) or {}).get("ComplianceType")
                if compliance == "NOT_APPLICABLE" and before in ("COMPLIANT", "NON_COMPLIANT"):
                    usage.retirements += 1
                else:
                    usage.verdicts += 1
                usage.by_compliance[str(compliance)] += 1
                if str(entry.get("Annotation") or "").startswith("Could not evaluate"):
                    usage.could_not_evaluate += 1
                if self.track_ids:
                    usage.posted_ids[str(entry.get("ComplianceResourceId"))] += 1

    @contextlib.contextmanager
    def measure(self) -> Iterator[Usage]:
        usage = Usage()
        with self._lock:
            self._active = usage
        started = time.perf_counter()
        try:
            yield usage
        finally:
            usage.seconds = time.perf_counter() - started
            with self._lock:
                self._active = None


class RunLog(logging.Handler):
    """The JSON line each of our function runs logs (mode, complete, judged, ...)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = json.loads(record.getMessage())
        except (ValueError, TypeError):
            return
        if isinstance(line, dict) and "complete" in line:
            self.lines.append(line)


@contextlib.contextmanager
def run_log() -> Iterator[RunLog]:
    logger = logging.getLogger(LOGGER_NAME)
    handler, level = RunLog(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@contextlib.contextmanager
def fast_config_paging() -> Iterator[None]:
    """The simulated Config sorts every stored result of a rule on each GetComplianceDetails page
    (73 ms a page at 90,000 results), which would make a 90-day steady state take hours of wall
    time. This serves the pages from a sorted, filtered list kept until the next PutEvaluations,
    through the simulator's own paging and result shape (errors still go to its handler). Same
    pages, same tokens, same answers: wall time only, no figure the bench reports changes."""
    from moto.config.responses import ConfigResponse

    from transcribe_guard.simulator import config as sim_config

    original_put = ConfigResponse.put_evaluations
    original_details = ConfigResponse.get_compliance_details_by_config_rule  # type: ignore[attr-defined]
    version = [0]
    cache: dict[tuple[int, tuple[str, ...]], tuple[int, list[dict[str, Any]]]] = {}

    def put(self: Any) -> str:
        version[0] += 1
        try:
            return str(original_put(self))
        finally:
            version[0] += 1

    def details(self: Any) -> str:
        backend = self.config_backend
        rule_name = self._get_param("ConfigRuleName")
        wanted = tuple(self._get_param("ComplianceTypes") or [])
        limit = int(self._get_param("Limit") or 0)
        if (rule_name not in backend.config_rules or not 0 <= limit <= 100
                or any(w not in sim_config.VALID_COMPLIANCE for w in wanted)):
            return str(original_details(self))  # the simulator's own errors
        results = sim_config.stored_results(backend, rule_name)
        key = (id(results), wanted)
        cached = cache.get(key)
        if cached is None or cached[0] != version[0]:
            items = sorted(results.values(), key=lambda r: (r["ResourceType"], r["ResourceId"]))
            if wanted:
                items = [r for r in items if r["ComplianceType"] in wanted]
            cached = cache[key] = (version[0], items)
        page, next_token = sim_config._page(cached[1], self._get_param("NextToken"),
                                            limit or sim_config.DEFAULT_DETAILS_LIMIT)
        body: dict[str, Any] = {"EvaluationResults": [sim_config._evaluation_result(r) for r in page]}
        if next_token:
            body["NextToken"] = next_token
        return json.dumps(body)

    ConfigResponse.put_evaluations = put  # type: ignore[method-assign]
    ConfigResponse.get_compliance_details_by_config_rule = details  # type: ignore[attr-defined]
    try:
        yield
    finally:
        ConfigResponse.put_evaluations = original_put  # type: ignore[method-assign]
        ConfigResponse.get_compliance_details_by_config_rule = original_details  # type: ignore[attr-defined]


# --- the simulated account ---------------------------------------------------------------------------


LAMBDA_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def deploy_rule(client: Callable[[str], Any], rule_name: str) -> None:
    """A CUSTOM_LAMBDA periodic Config rule (and a stand-in function) named ``rule_name``."""
    iam, lam, config = client("iam"), client("lambda"), client("config")
    try:
        role_arn = iam.get_role(RoleName="transcribe-guard-bench")["Role"]["Arn"]
    except ClientError:
        role_arn = iam.create_role(RoleName="transcribe-guard-bench",
                                   AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))["Role"]["Arn"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def lambda_handler(event, context):\n    return None\n")
    try:
        function_arn = lam.get_function(FunctionName=rule_name)["Configuration"]["FunctionArn"]
    except ClientError:
        function_arn = lam.create_function(FunctionName=rule_name, Runtime="python3.12", Role=role_arn,
                                           Handler="handler.lambda_handler",
                                           Code={"ZipFile": buffer.getvalue()})["FunctionArn"]
    config.put_config_rule(ConfigRule={
        "ConfigRuleName": rule_name, "MaximumExecutionFrequency": "TwentyFour_Hours",
        "Source": {"Owner": "CUSTOM_LAMBDA", "SourceIdentifier": function_arn,
                   "SourceDetails": [{"EventSource": "aws.config", "MessageType": "ScheduledNotification",
                                      "MaximumExecutionFrequency": "TwentyFour_Hours"}]}})


def output_bucket(client: Callable[[str], Any]) -> None:
    """The jobs' output bucket: SSE-KMS by default under a customer managed key, and a policy
    refusing uploads that ask for other encryption (so output-encrypted finds it COMPLIANT)."""
    s3, kms = client("s3"), client("kms")
    key = kms.create_key(Description="bench transcripts")["KeyMetadata"]["Arn"]
    s3.create_bucket(Bucket=OUTPUT_BUCKET)
    s3.put_bucket_encryption(Bucket=OUTPUT_BUCKET, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}]})
    s3.put_bucket_policy(Bucket=OUTPUT_BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyIncorrectEncryptionHeader", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{OUTPUT_BUCKET}/*",
         "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
                       "Null": {"s3:x-amz-server-side-encryption": "false"}}}]}))


# Share of each day's (or population's) jobs: compliant, non-compliant (service bucket, no
# redaction, a missing tag), failed.
MIX = (("ok", 0.92, "COMPLETED"), ("bad", 0.05, "COMPLETED"), ("failed", 0.03, "FAILED"))


def seed_population(backend: Any, count: int, newest: dt.datetime, span: dt.timedelta, prefix: str) -> int:
    """``count`` transcription jobs created over ``span`` up to ``newest``, in the MIX shares."""
    from transcribe_guard.simulator.bulk import seed_jobs
    seeded = 0
    for index, (name, share, status) in enumerate(MIX):
        n = count - seeded if index == len(MIX) - 1 else int(round(count * share))
        if n <= 0:
            continue
        request: dict[str, Any] = ({"OutputBucketName": OUTPUT_BUCKET, "ContentRedaction": REDACTION}
                                   if name != "bad" else {})
        tags = GOOD_TAGS if name != "bad" else {"team": "contact-center"}
        step = span / n

        def created(i: int, step: dt.timedelta = step, skew: int = index) -> dt.datetime:
            return newest - step * i - dt.timedelta(seconds=skew)
        seed_jobs(backend, "transcription-job", n, created_at=created, status=status, request=request, tags=tags,
                  name_prefix=f"{prefix}-{name}")
        seeded += n
    return seeded


def job_arns(backend: Any) -> set[str]:
    with backend._lock:
        return {record.arn for kind in ("transcription-job", "medical-transcription-job", "analytics",
                                        "medical-scribe-job") for record in backend.records[kind].values()}


def stored_verdicts(client: Callable[[str], Any], rule_name: str) -> dict[str, str]:
    config = client("config")
    verdicts: dict[str, str] = {}
    kwargs: dict[str, Any] = {"ConfigRuleName": rule_name,
                              "ComplianceTypes": ["COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"], "Limit": 100}
    while True:
        page = config.get_compliance_details_by_config_rule(**kwargs)
        for result in page["EvaluationResults"]:
            qualifier = result["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
            verdicts[qualifier["ResourceId"]] = result["ComplianceType"]
        if not page.get("NextToken"):
            return verdicts
        kwargs["NextToken"] = page["NextToken"]


class FakeContext:
    """A Lambda context whose remaining time counts down in real time from ``millis``."""

    def __init__(self, millis: float):
        self._end = time.monotonic() + millis / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._end - time.monotonic()) * 1000))


def _module(path: str) -> ModuleType:
    import importlib
    return importlib.import_module(path)


def event(rule_name: str, parameters: Mapping[str, str], now: dt.datetime | None = None) -> dict[str, Any]:
    from transcribe_guard.simulator import clock
    from transcribe_guard.simulator.config import result_token
    return scheduled_notification(rule_name, ACCOUNT, result_token(rule_name), region=REGION,
                                  rule_parameters={"AssumeRoleMode": "false", **parameters},
                                  now=now or clock.now())


def invoke_ours(meter: Meter, key: str, rule_name: str, context_ms: float = 900_000,
                extra: Mapping[str, str] | None = None) -> tuple[Usage, list[dict[str, Any]], Any]:
    module, parameters, _ = OURS[key]
    with run_log() as log, meter.measure() as usage:
        response = _module(module).lambda_handler(event(rule_name, {**parameters, **(extra or {})}),
                                                  FakeContext(context_ms))
    return usage, log.lines, response


def invoke_naive(meter: Meter, key: str, rule_name: str) -> tuple[Usage, Any]:
    naive, parameters = NAIVE_FOR[key]
    with meter.measure() as usage:
        response = naive_handler(NAIVE_RULES[naive])(event(rule_name, parameters), FakeContext(900_000))
    return usage, response


def per_job(counts: Mapping[str, int], jobs: int) -> dict[str, float]:
    return {op: round(n / jobs, 5) for op, n in counts.items()} if jobs else {}


def ratio(ours: float, naive: float) -> float | None:
    return round(ours / naive, 5) if naive else None


# --- sections --------------------------------------------------------------------------------------------


def scan_and_lambda(jobs: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Sections 1 and 2 on one seeded population of ``jobs`` transcription jobs."""
    from rules.registry import RULES
    from transcribe_guard.cli import run_scan
    from transcribe_guard.simulator import Simulator, clock

    with Simulator() as sim:
        output_bucket(sim.client)
        seed_population(sim.transcribe, jobs, clock.now() - dt.timedelta(minutes=5), dt.timedelta(days=30), "pop")
        meter = Meter().start()
        try:
            naive: dict[str, Usage] = {}
            for key in NAIVE_RULES:
                deploy_rule(sim.client, f"naive-{key}")
                naive[key], _ = invoke_naive(meter, key, f"naive-{key}")
            naive_total = Usage()
            for usage in naive.values():
                naive_total.add(usage)

            scans: dict[str, Any] = {}
            for variant, allowed in (("without AllowedOutputBuckets", {}),
                                     ("with AllowedOutputBuckets", {"AllowedOutputBuckets": OUTPUT_BUCKET})):
                parameters = {
                    REGISTRY_NAME["output-location"]: allowed, REGISTRY_NAME["pii-redaction"]: {},
                    REGISTRY_NAME["resource-tagged"]: {"RequiredTags": REQUIRED_TAGS},
                    REGISTRY_NAME["output-encrypted"]: {}}
                parsed = {name: RULES[name]().evaluate_parameters(p) for name, p in parameters.items()}
                with meter.measure() as usage:
                    results = run_scan(list(parameters), parsed)
                scans[variant] = {
                    "rules": list(parameters), "results": len(results),
                    "could_not_evaluate": sum(1 for r in results if r["annotation"].startswith("Could not evaluate")),
                    "transcribe_calls": usage.transcribe(), "transcribe_calls_per_job": round(usage.transcribe_total() / jobs, 5),
                    "by_operation_per_job": per_job(usage.transcribe(), jobs), "seconds": round(usage.seconds, 3)}
            scan = {"jobs": jobs, "variants": scans, "naive": {
                "rules": list(NAIVE_RULES), "transcribe_calls": naive_total.transcribe(),
                "transcribe_calls_per_job": round(naive_total.transcribe_total() / jobs, 5),
                "by_operation_per_job": per_job(naive_total.transcribe(), jobs)}}

            lambdas: dict[str, Any] = {}
            for key, (_, parameters, by_summary) in OURS.items():
                deploy_rule(sim.client, f"ours-{key}")
                ours, lines, _ = invoke_ours(meter, key, f"ours-{key}")
                base = naive[NAIVE_FOR[key][0]]
                lambdas[key] = {
                    "parameters": parameters, "answered_by_list_summaries": by_summary,
                    "target_transcribe_calls_per_job": 0.011 if by_summary else 1.011,
                    "complete": bool(lines and lines[-1].get("complete")),
                    "ours": _figures(ours, jobs), "naive": _figures(base, jobs),
                    "ratio_ours_to_naive": {
                        "transcribe_calls": ratio(ours.transcribe_total(), base.transcribe_total()),
                        "evaluations": ratio(ours.evaluations, base.evaluations),
                        "seconds": ratio(ours.seconds, base.seconds)}}
        finally:
            meter.stop()
    return scan, {"jobs": jobs, "rules": lambdas}


def _figures(usage: Usage, jobs: int) -> dict[str, Any]:
    return {"transcribe_calls": usage.transcribe(), "transcribe_calls_per_job": round(usage.transcribe_total() / jobs, 5),
            "by_operation_per_job": per_job(usage.transcribe(), jobs), "evaluations_posted": usage.evaluations,
            "by_compliance": dict(usage.by_compliance), "could_not_evaluate": usage.could_not_evaluate,
            "seconds": round(usage.seconds, 3)}


def throughput(jobs: int, latency_ms: float = 40) -> dict[str, Any]:
    """Section 3: a Get-bound rule at the documented quotas with ``latency_ms`` on every call."""
    from transcribe_guard.simulator import Simulator, clock
    from transcribe_guard.simulator import throughput as sim_throughput

    key = "output-location-allowed"
    with Simulator() as sim, environment(TRANSCRIBE_GUARD_QUOTA_SCALE="1"):
        seed_population(sim.transcribe, jobs, clock.now() - dt.timedelta(minutes=5), dt.timedelta(days=1), "tp")
        deploy_rule(sim.client, "ours-throughput")
        meter = Meter().start()
        sim_throughput.reset()
        sim_throughput.configure(quotas="documented", scale=1.0, latency_ms=latency_ms)
        try:
            usage, lines, _ = invoke_ours(meter, key, "ours-throughput")
            stats = sim_throughput.stats()
        finally:
            sim_throughput.reset()
            meter.stop()
    judged = lines[-1]["judged"] if lines else 0
    return {"rule": key, "jobs": jobs, "latency_ms": latency_ms, "quotas": "documented (GetTranscriptionJob 30 TPS)",
            "transcribe_guard_quota_scale": 1, "retries": RETRY_ENVIRONMENT, "judged": judged,
            "complete": bool(lines and lines[-1].get("complete")), "seconds": round(usage.seconds, 3),
            "jobs_per_second": round(judged / usage.seconds, 2) if usage.seconds else None,
            "throttled": sum(s["throttled"] for s in stats.values()),
            "throttled_by_operation": {op: s["throttled"] for op, s in stats.items() if s["throttled"]},
            "paced_seconds": lines[-1].get("paced_seconds") if lines else None,
            "could_not_evaluate": usage.could_not_evaluate, "transcribe_calls": usage.transcribe()}


def deadline(jobs: int, budget_ms: float = 5000, max_invocations: int = 200) -> dict[str, Any]:
    """Section 4: invoke a Get-bound rule with a short Lambda budget until a run completes."""
    from transcribe_guard.simulator import Simulator, clock

    key, rule_name = "output-location-allowed", "ours-deadline"
    with Simulator() as sim:
        seed_population(sim.transcribe, jobs, clock.now() - dt.timedelta(minutes=5), dt.timedelta(days=30), "dl")
        deploy_rule(sim.client, rule_name)
        meter = Meter().start()
        meter.track_ids = True
        total, invocations = Usage(), []
        try:
            for _ in range(max_invocations):
                usage, lines, _ = invoke_ours(meter, key, rule_name, context_ms=budget_ms)
                total.add(usage)
                line = lines[-1] if lines else {}
                invocations.append({"judged": line.get("judged"), "evaluations": usage.evaluations,
                                    "mode": line.get("mode"), "complete": line.get("complete"),
                                    "deadline_reached": line.get("deadline_reached"), "seconds": round(usage.seconds, 3)})
                if line.get("complete"):
                    break
                time.sleep(0.01)  # the next notification is a little later
            expected = job_arns(sim.transcribe)
            stored = stored_verdicts(sim.client, rule_name)
        finally:
            meter.stop()
    judged = [i["judged"] or 0 for i in invocations]
    posted = {arn: n for arn, n in total.posted_ids.items() if arn in expected}
    return {"rule": key, "jobs": jobs, "budget_ms": budget_ms, "invocations": len(invocations),
            "complete": bool(invocations and invocations[-1]["complete"]),
            "jobs_judged_per_invocation": judged, "mean_judged_per_invocation": round(sum(judged) / len(judged), 1) if judged else 0,
            "overlap_jobs_posted_more_than_once": sum(1 for n in posted.values() if n > 1),
            "extra_postings": sum(n - 1 for n in posted.values() if n > 1),
            "loss_jobs_without_stored_result": len(expected - set(stored)),
            "transcribe_calls": total.transcribe(), "transcribe_calls_per_job": round(total.transcribe_total() / jobs, 5),
            "detail": invocations}


@dataclass
class SteadyConfig:
    jobs_per_day: int = 1000
    retention_days: int = 90
    warmup_days: int = 91
    measure_days: int = 7
    reconciliation_days: int = 7
    tag_changes_per_day: int = 5
    deletions_per_day: int = 5
    seed: int = 7


def steady_state(config: SteadyConfig, progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Section 6: a simulated daily life; ours warm up, then ours and naive are measured."""
    from transcribe_guard.simulator import Simulator, clock
    from transcribe_guard.simulator.bulk import expire_records

    rng = random.Random(config.seed)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    deployments = [(key, mode) for mode in ("resource", "summary") for key in STEADY_RULES]
    measured: dict[tuple[str, str], list[dict[str, Any]]] = {d: [] for d in deployments}
    days_log: list[dict[str, Any]] = []
    with Simulator() as sim, fast_config_paging():
        clock.set(start)
        output_bucket(sim.client)
        for key, mode in deployments:
            deploy_rule(sim.client, f"ours-{mode}-{key}")
        transcribe = sim.client("transcribe")
        meter = Meter().start()
        naive_day: dict[str, Any] = {}
        try:
            total_days = config.warmup_days + config.measure_days + 1
            for day in range(1, total_days + 1):
                clock.set(start + dt.timedelta(days=day))
                now = clock.now()
                seed_population(sim.transcribe, config.jobs_per_day, now - dt.timedelta(minutes=10),
                                dt.timedelta(hours=23, minutes=40), f"d{day:03d}")
                changes = _daily_changes(transcribe, sim.transcribe, rng, config)
                expired = expire_records(sim.transcribe, retention_days=config.retention_days)
                live = len(job_arns(sim.transcribe))
                days_log.append({"day": day, "live_jobs": live, "expired": expired, **changes})
                is_naive_day = day == total_days
                measuring = day > config.warmup_days and not is_naive_day
                if is_naive_day:
                    for key in STEADY_RULES:
                        deploy_rule(sim.client, f"naive-{key}")
                        usage, _ = invoke_naive(meter, key, f"naive-{key}")
                        naive_day[key] = _day_figures(usage, None, live) | {
                            "note": "first run of the stateless naive rule: its retirements on a later day would be "
                                    "the expired and deleted jobs' results (see expired + deleted)"}
                    progress(f"steady state: naive day {day} done ({live} live jobs)")
                    break
                for key, mode in deployments:
                    usage, lines, _ = invoke_ours(meter, key, f"ours-{mode}-{key}",
                                                  extra={"ReportingMode": mode,
                                                         "ReconciliationDays": str(config.reconciliation_days)})
                    if measuring:
                        measured[(key, mode)].append(_day_figures(usage, lines[-1] if lines else {}, live) | {"day": day})
                if day % 10 == 0 or measuring:
                    progress(f"steady state: day {day}/{total_days} ({live} live jobs)")
        finally:
            meter.stop()
    return _steady_report(config, measured, naive_day, days_log)


def _daily_changes(transcribe: Any, backend: Any, rng: random.Random, config: SteadyConfig) -> dict[str, int]:
    """Tag changes and deletions through the real API (recorded as CloudTrail events)."""
    with backend._lock:
        names = sorted(backend.records["transcription-job"])
    tagged = deleted = 0
    if not names:
        return {"tag_changes": 0, "deleted": 0}
    for name in rng.sample(names, min(len(names), config.tag_changes_per_day)):
        arn = f"arn:aws:transcribe:{REGION}:{ACCOUNT}:transcription-job/{name}"
        if rng.random() < 0.5:
            transcribe.untag_resource(ResourceArn=arn, TagKeys=["DataClassification"])
        else:
            transcribe.tag_resource(ResourceArn=arn, Tags=[{"Key": "DataClassification", "Value": "restricted"}])
        tagged += 1
    candidates = [n for n in names if n not in ()]
    for name in rng.sample(candidates, min(len(candidates), config.deletions_per_day)):
        with contextlib.suppress(ClientError):
            transcribe.delete_transcription_job(TranscriptionJobName=name)
            deleted += 1
    return {"tag_changes": tagged, "deleted": deleted}


def _day_figures(usage: Usage, line: dict[str, Any] | None, live: int) -> dict[str, Any]:
    figures = {"transcribe_calls": usage.transcribe_total(), "transcribe_by_operation": usage.transcribe(),
               "evaluations": usage.evaluations, "new_verdicts": usage.verdicts, "retirements": usage.retirements,
               "config_reads": usage.calls.get("config:GetComplianceDetailsByConfigRule", 0),
               "cloudtrail_lookups": usage.calls.get("cloudtrail:LookupEvents", 0),
               "could_not_evaluate": usage.could_not_evaluate, "live_jobs": live, "seconds": round(usage.seconds, 3)}
    if line is not None:
        figures |= {"mode": line.get("mode"), "complete": line.get("complete")}
    return figures


def _steady_report(config: SteadyConfig, measured: dict[tuple[str, str], list[dict[str, Any]]],
                   naive_day: dict[str, Any], days_log: list[dict[str, Any]]) -> dict[str, Any]:
    metrics = ("transcribe_calls", "evaluations", "new_verdicts", "retirements", "config_reads")
    ours: dict[str, Any] = {}
    for mode in ("resource", "summary"):
        rules: dict[str, Any] = {}
        totals = {m: {"ordinary_day": 0.0, "reconcile_day": 0.0, "average_day": 0.0} for m in metrics}
        for key in STEADY_RULES:
            days = measured[(key, mode)]
            ordinary = [d for d in days if d.get("mode") == "incremental"]
            reconcile = [d for d in days if d.get("mode") != "incremental"]
            summary: dict[str, Any] = {"days": days, "modes": [d.get("mode") for d in days]}
            for m in metrics:
                summary[m] = {
                    "ordinary_day": _mean(ordinary, m), "reconcile_day": _mean(reconcile, m), "average_day": _mean(days, m)}
                for which in totals[m]:
                    totals[m][which] += summary[m][which] or 0.0
            rules[key] = summary
        ours[mode] = {"rules": rules, "total": totals}
    naive_total = {m: sum(d[m] for d in naive_day.values()) for m in metrics}
    ratios: dict[str, Any] = {}
    for mode in ("resource", "summary"):
        ratios[mode] = {
            "transcribe_calls": ratio(ours[mode]["total"]["transcribe_calls"]["average_day"], naive_total["transcribe_calls"]),
            "evaluations": ratio(ours[mode]["total"]["evaluations"]["average_day"], naive_total["evaluations"]),
            "per_rule": {key: {m: ratio(ours[mode]["rules"][key][m]["average_day"] or 0.0, naive_day[key][m])
                               for m in ("transcribe_calls", "evaluations")} for key in STEADY_RULES if key in naive_day}}
    return {"configuration": config.__dict__, "ours": ours, "naive_day": {"rules": naive_day, "total": naive_total},
            "ratio_ours_average_day_to_naive_day": ratios, "target_ratio": 1 / 50,
            "days": days_log[-(config.measure_days + 1):]}


def _mean(days: list[dict[str, Any]], metric: str) -> float | None:
    return round(sum(d[metric] for d in days) / len(days), 2) if days else None
