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
from transcribe_guard.simulator.config import read_verdicts

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
def fast_ledger_queries() -> Iterator[None]:
    """moto's DynamoDB Query sorts every item of the table (every partition, comparing
    DynamoType objects) and walks past the earlier pages on each call: seconds a page at 90,000
    ledger records, hours for a steady state's full and reconcile runs. This answers a query of
    the table itself (no index, projection or filter) on a string sort key, with at most a BETWEEN
    condition on it, from the partition's own items sorted by that key: the same items in the
    same order, the same Limit, 1 MB page limit and LastEvaluatedKey (tests/test_bench.py
    compares it with moto's on every shape the ledger uses). Anything else goes to moto's."""
    import copy

    from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, Table

    original = Table.query

    def query(self: Any, hash_key: Any, range_comparison: str | None, range_objs: list[Any], limit: int,
              exclusive_start_key: dict[str, Any], scan_index_forward: bool, projection_expressions: Any,
              index_name: str | None = None, consistent_read: bool = False, filter_expression: Any = None,
              **others: Any) -> Any:
        range_conditions = others.get("range_key_conditions") or []
        plain = (hash_key is not None and not index_name and not projection_expressions and self.range_key_attr
                 and range_comparison in (None, "BETWEEN") and len(range_conditions) <= 1
                 and all(v.type == "S" for v in range_objs)
                 and not (set(others) - {"hash_key_conditions", "range_key_conditions"}))
        items = list(self.items.get(hash_key, {}).values()) if plain else []
        if not plain or any(item.range_key is None or item.range_key.type != "S" for item in items):
            return original(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                            scan_index_forward, projection_expressions, index_name, consistent_read,
                            filter_expression, **others)
        items.sort(key=lambda item: item.range_key.value, reverse=not scan_index_forward)
        if exclusive_start_key:
            start = exclusive_start_key[self.range_key_attr]["S"]
            items = [i for i in items if (i.range_key.value > start) == scan_index_forward and i.range_key.value != start]
        if range_comparison == "BETWEEN":
            low, high = range_objs[0].value, range_objs[1].value
            items = [i for i in items if low <= i.range_key.value <= high]
        results: list[Any] = []
        size, last = 0, None
        for item in items:
            if len(results) == limit or size + item.size() > RESULT_SIZE_LIMIT:
                last = self._get_last_evaluated_key(results[-1], None)
                break
            results.append(item)
            size += item.size()
        scanned = len(results)
        results = copy.deepcopy(results)
        if filter_expression is not None:
            results = [item for item in results if filter_expression.expr(item)]
        return results, scanned, last

    Table.query = query  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        Table.query = original  # type: ignore[method-assign]


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
                extra: Mapping[str, str] | None = None,
                now: dt.datetime | None = None) -> tuple[Usage, list[dict[str, Any]], Any]:
    module, parameters, _ = OURS[key]
    with run_log() as log, meter.measure() as usage:
        response = _module(module).lambda_handler(event(rule_name, {**parameters, **(extra or {})}, now),
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
    from rules.catalog.registry import RULES
    from transcribe_guard.scan import run_scan
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


SIMULATOR_SHARE_TARGET = 0.5  # the simulator should leave most of a simulated run's CPU to our code
WARM_UP_JOBS = 10


def simulator_overhead(jobs: int) -> dict[str, Any]:
    """Section 7: the share of a simulated ``scan``'s CPU the simulator spends answering.

    Every rule ``scan`` runs by default (required parameters as ``scan --demo`` sets them) over
    ``jobs`` seeded transcription jobs, in process, after one small scan of its own has paid the
    process's first-use costs (imports, models, backends). The scan's CPU is the process's CPU time
    (every thread) around ``run_scan``; the simulator's is what transcribe_guard.simulator.serving
    meters: from botocore handing a request over to the answer it gets back (moto's request
    handling, the simulated services, response serialization). The rest is our rules, rdklib and
    botocore's own client-side work (the same against AWS)."""
    from transcribe_guard.scan import run_scan
    from transcribe_guard.scan_parameters import scan_selection
    from transcribe_guard.simulator import Simulator, clock, serving

    selection = scan_selection(None, None, demo=True)

    def scan(count: int) -> tuple[int, int, float, float]:
        with Simulator() as sim:
            output_bucket(sim.client)
            seed_population(sim.transcribe, count, clock.now() - dt.timedelta(minutes=5), dt.timedelta(days=30), "sim")
            requests, simulator_cpu = serving.requests_served(), serving.cpu_seconds()
            cpu = time.process_time()
            results = run_scan(selection.rule_names, selection.parameters)
            cpu = time.process_time() - cpu
            return (len(results), serving.requests_served() - requests, cpu, serving.cpu_seconds() - simulator_cpu)

    scan(WARM_UP_JOBS)  # first-use costs (imports, models, backends) are paid once a process, not per scan
    results, requests, cpu, simulator_cpu = scan(jobs)
    return {"jobs": jobs, "rules": len(selection.rule_names), "results": results, "requests": requests,
            "scan_cpu_seconds": round(cpu, 3), "simulator_cpu_seconds": round(simulator_cpu, 3),
            "simulator_share": round(simulator_cpu / cpu, 3) if cpu else None,
            "simulator_us_per_request": round(simulator_cpu / requests * 1e6, 1) if requests else None,
            "target_simulator_share": SIMULATOR_SHARE_TARGET}


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
            stored = read_verdicts(sim.client("config"), rule_name)
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
    warmup: str = "fast"  # "fast": seed the retained history at once, one full run; "daily": simulate each day
    warmup_days: int = 91  # the daily warm-up only
    measure_days: int = 7
    reconciliation_days: int = 7
    tag_changes_per_day: int = 5
    deletions_per_day: int = 5
    seed: int = 7
    rules: tuple[str, ...] = STEADY_RULES  # a subset for quick checks
    ledger: bool = True  # also the pack with the ledger (LEDGER_MODES)

    @property
    def modes(self) -> tuple[str, ...]:
        return DEPLOYMENT_MODES + (LEDGER_MODES if self.ledger else ())


DAY = dt.timedelta(days=1)
DEPLOYMENT_MODES = ("resource", "summary")  # each rule reading Transcribe itself (TranscribeLedger disabled)
# The pack with the ledger: the rules read DynamoDB, the collector alone reads Transcribe (its
# hourly sweeps; counted in these deployments' totals as the pseudo-rule COLLECTOR).
LEDGER_PREFIX = "ledger-"
LEDGER_MODES = tuple(LEDGER_PREFIX + mode for mode in DEPLOYMENT_MODES)
COLLECTOR = "collector"
LEDGER_TABLE = "transcribe-guard-ledger"
SWEEPS_PER_DAY = 24  # the functions template's schedule sweeps hourly


def reporting_mode(mode: str) -> str:
    """The rules' ReportingMode of a deployment mode (``ledger-resource`` -> ``resource``)."""
    return mode[len(LEDGER_PREFIX):] if mode.startswith(LEDGER_PREFIX) else mode


@contextlib.contextmanager
def simulated_ledger(retention: dt.timedelta) -> Iterator[None]:
    """The collector and the ledger inventory (whose TTL and retention skips read the time) on the
    simulator's clock, as the simulated Transcribe, Config and CloudTrail are: in-process they
    would otherwise read the real time, months from the simulated one. And the ledger told the
    simulated Transcribe's record ``retention`` (90 days, as AWS's, unless a quick check shortens it)."""
    from rules.engine import collector as collector_module
    from rules.inventory import ledger as ledger_module
    from transcribe_guard.simulator import clock

    def simulated() -> float:
        return clock.now().timestamp()
    plain = {cls: cls.__init__ for cls in (collector_module.Collector, ledger_module.LedgerInventory)}
    kept_retention = ledger_module.JOB_RETENTION

    def patched(cls: Any) -> Any:
        def init(self: Any, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("clock", simulated)
            plain[cls](self, *args, **kwargs)
        return init
    try:
        for cls in plain:
            cls.__init__ = patched(cls)  # type: ignore[method-assign]
        ledger_module.JOB_RETENTION = retention
        yield
    finally:
        ledger_module.JOB_RETENTION = kept_retention
        for cls, init in plain.items():
            cls.__init__ = init  # type: ignore[method-assign]
STEADY_METRICS = ("transcribe_calls", "evaluations", "new_verdicts", "retirements", "config_reads")
RATIO_METRICS = ("transcribe_calls", "evaluations")
STEADY_TARGET = 1 / 50
# Resource mode must post a verdict for every new job and retire every expired job's result, so
# its evaluations cannot fall below (new + expired) a day, per rule: about 1/45 of naive at 90-day
# retention, above 1/50. Its target is that floor, within 5% either way (issue #14): below it, some
# results outlived their records.
FLOOR_TARGET = 1.05
# The day's tag changes and deletions happen this long before its run (their CloudTrail events
# then lie outside the 20-minute overlap with the previous run's window, as most of a real day's do).
CHANGES_BEFORE_RUN = dt.timedelta(hours=12)


def _seed_day(backend: Any, config: SteadyConfig, day_end: dt.datetime, prefix: str) -> None:
    """One day's jobs, created over the 23 h 40 min before ``day_end`` less 10 minutes."""
    seed_population(backend, config.jobs_per_day, day_end - dt.timedelta(minutes=10),
                    dt.timedelta(hours=23, minutes=40), prefix)


def steady_state(config: SteadyConfig, progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Section 6: a simulated daily life at ``jobs_per_day`` with the record retention; ours warm
    up, then are measured for ``measure_days`` consecutive days; then the naive rules for one day.

    Every simulated day: the clock advances to mid-day, a few tags change and a few jobs are
    deleted through the API (CloudTrail records them), the clock advances to the day's run, that
    day's jobs are seeded (spread over the day), records past the retention expire
    (bulk.expire_records) and each rule is invoked once at clock.now(). The clock is advanced,
    never set: time keeps running between the days, so the interval a rule sees between two daily
    runs is always at least a day and a reconcile falls exactly every ReconciliationDays.

    Warm-up ``fast`` (the default) reaches the same steady state in one day's work instead of 90:
    it seeds the whole retained history at once (retention_days batches of jobs_per_day, each
    timed exactly as the daily warm-up times that day's batch, same mix and tags) and applies the
    past's tag changes and deletions through the API at past clock times, then runs each rule
    once: its first, full run, which is also the first-day cost of a deployment (reported
    apart). Why that is equivalent to 90 incremental days:

    - the checkpoint. A run's checkpoint keeps only when it started (watermark), the oldest
      job still unfinished then (floor; none here, seeded jobs are finished) and when it last
      reconciled. After a complete full run it equals the one after the last of 90 daily runs
      (watermark = the run's start, no floor), except that "reconciled" is day 0: the first
      reconcile falls ReconciliationDays after the full run, within the measured days (the
      report names the day). No job results are kept in the checkpoint, so none are missing.
    - the stored results. The full run posts one result per retained job, as the daily runs
      did, each the verdict of the job's final state (the past's tag changes and deletions are
      applied before it). Their OrderingTimestamp is the full run's start, where the daily run
      that judged a job would have stamped the day after its creation; the harness then dates
      each job result back to that day (``_backdate``). The rules read that timestamp only for
      the expiry sweep (a job result older than the 90-day record retention is retired). Without
      the backdating, results posted at day 0 would still be retired when their records expire:
      by the reconcile's comparison with the listing (no longer listed), on the reconcile day,
      where resource mode's sweep retires them too; but summary mode sweeps on every run, so it
      would move the daily expiry retirements of its NON_COMPLIANT results to the reconcile day.
      Backdated, ordinary and reconcile days retire exactly what they would after 90 days.
    - CloudTrail. The incremental runs read events since the watermark (less 20 minutes); the
      past's events (at past clock times) are never read, as after 90 days they would have been.

    Warm-up ``daily`` simulates every day of ``warmup_days`` (hours at 1,000 jobs a day)."""
    from rules.engine import collector as collector_module
    from transcribe_guard.simulator import Simulator, clock
    from transcribe_guard.simulator import ledger as sim_ledger
    from transcribe_guard.simulator.bulk import expire_records

    if config.warmup not in ("fast", "daily"):
        raise ValueError("warmup must be 'fast' or 'daily'")
    rng = random.Random(config.seed)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    deployments = [(key, mode) for mode in config.modes for key in config.rules]
    measured: dict[tuple[str, str], list[dict[str, Any]]] = {d: [] for d in deployments}
    measured |= {(COLLECTOR, mode): [] for mode in config.modes if mode in LEDGER_MODES}
    first_run: dict[tuple[str, str], dict[str, Any]] = {}
    days_log: list[dict[str, Any]] = []
    warmup: dict[str, Any] = {"kind": config.warmup}
    naive_day: dict[str, Any] = {}
    extra = {"ReconciliationDays": str(config.reconciliation_days)}

    def record(key: str, mode: str, figures: dict[str, Any], keep: bool) -> None:
        if (key, mode) not in first_run:
            first_run[(key, mode)] = figures
        elif keep:
            measured[(key, mode)].append(figures)

    def sweep() -> Usage:
        """One scheduled run of the collector, measured."""
        with environment(TRANSCRIBE_GUARD_LEDGER_TABLE=LEDGER_TABLE), meter.measure() as usage:
            collector_module.lambda_handler({"source": "aws.events", "detail-type": "Scheduled Event",
                                             "account": ACCOUNT}, FakeContext(900_000))
        return usage

    def invoke_all(day: int, live: int, keep: bool, collected: Usage | None) -> dt.datetime:
        now = clock.now()  # the day's notification time, for every rule
        for key, mode in deployments:
            table = {"TRANSCRIBE_GUARD_LEDGER_TABLE": LEDGER_TABLE} if mode in LEDGER_MODES else {}
            with environment(**table):
                usage, lines, _ = invoke_ours(meter, key, f"ours-{mode}-{key}",
                                              extra={"ReportingMode": reporting_mode(mode), **extra}, now=now)
            figures = _day_figures(usage, lines[-1] if lines else {}, live) | {"day": day}
            record(key, mode, figures, keep)
            if collected is not None and mode in LEDGER_MODES and key == config.rules[0]:
                # the collector's day, in the group of the rules' run (ordinary or reconcile)
                record(COLLECTOR, mode, _day_figures(collected, {"mode": figures.get("mode"), "complete": True}, live)
                       | {"day": day}, keep)
        return now

    def new_day(day: int, prefix: str) -> tuple[int, Usage | None]:
        """The day hour by hour: each hour's jobs finish (created over it, up to 10 minutes before
        its end) and, with the ledger, the collector's hourly sweep runs at its end, the last one
        just before the rules' run (the worst phase: the jobs it records fall in the next run's
        overlap too); the tag changes and deletions at mid-day, among the jobs of earlier days."""
        collected = Usage() if config.ledger else None
        day_start = clock.now()
        sizes = [config.jobs_per_day // SWEEPS_PER_DAY + (hour < config.jobs_per_day % SWEEPS_PER_DAY)
                 for hour in range(SWEEPS_PER_DAY)]
        changes: dict[str, int] = {}
        for hour, size in enumerate(sizes):
            clock.advance(DAY / SWEEPS_PER_DAY)
            if (hour + 1) * (DAY / SWEEPS_PER_DAY) == DAY - CHANGES_BEFORE_RUN:
                changes = _daily_changes(transcribe, sim.transcribe, rng, config, created_before=day_start)
            if size:
                seed_population(sim.transcribe, size, clock.now() - dt.timedelta(minutes=10),
                                DAY / SWEEPS_PER_DAY - dt.timedelta(minutes=10), f"{prefix}h{hour:02d}")
            if collected is not None:
                collected.add(sweep())
        expired = expire_records(sim.transcribe, retention_days=config.retention_days)
        if config.ledger:
            sim_ledger.expire(sim.client("dynamodb"), LEDGER_TABLE)  # DynamoDB's TTL, which moto lacks
        live = len(job_arns(sim.transcribe))
        days_log.append({"day": day, "live_jobs": live, "expired": expired, **changes})
        return live, collected

    began = time.perf_counter()
    with (Simulator() as sim, fast_config_paging(), fast_ledger_queries(),
          simulated_ledger(dt.timedelta(days=config.retention_days))):
        clock.set(start)
        output_bucket(sim.client)
        if config.ledger:
            sim_ledger.create_table(sim.client("dynamodb"), LEDGER_TABLE)
        for key, mode in deployments:
            deploy_rule(sim.client, f"ours-{mode}-{key}")
        transcribe = sim.client("transcribe")
        meter = Meter().start()
        try:
            day = 0
            if config.warmup == "fast":
                live = _seed_history(sim, transcribe, rng, config, start)
                warmup["seed_seconds"] = round(time.perf_counter() - began, 1)
                days_log.append({"day": 0, "live_jobs": live, "expired": 0, "history_seeded": live})
                progress(f"steady state: history seeded ({live} live jobs); first (full) runs")
                first_sweep = None
                if config.ledger:  # the collector's first sweep records the whole history, an hour before the
                    first_sweep = sweep()  # first full runs (outside their window's overlap: not judged twice)
                    clock.advance(dt.timedelta(hours=1))
                day0 = invoke_all(0, live, keep=False, collected=first_sweep)
                warmup["first_run_seconds"] = round(sum(f["seconds"] for f in first_run.values()), 1)
                warmup["backdated_results"] = sum(_backdate(sim.transcribe, f"ours-{mode}-{key}", day0)
                                                  for key, mode in deployments)
                warmup["seconds"] = round(time.perf_counter() - began, 1)
            else:
                for day in range(1, config.warmup_days + 1):
                    live, collected = new_day(day, f"d{day:03d}")
                    invoke_all(day, live, keep=False, collected=collected)
                    if day % 10 == 0:
                        progress(f"steady state: warm-up day {day}/{config.warmup_days} ({live} live jobs)")
                warmup["seconds"] = round(time.perf_counter() - began, 1)
            first = day + 1
            for day in range(first, first + config.measure_days):
                live, collected = new_day(day, f"d{day:03d}")
                invoke_all(day, live, keep=True, collected=collected)
                progress(f"steady state: measured day {day - first + 1}/{config.measure_days} ({live} live jobs)")
            day = first + config.measure_days
            live, _ = new_day(day, f"d{day:03d}")
            for key in config.rules:
                deploy_rule(sim.client, f"naive-{key}")
                usage, _ = invoke_naive(meter, key, f"naive-{key}")
                naive_day[key] = _day_figures(usage, None, live) | {"day": day}
            progress(f"steady state: naive day done ({live} live jobs)")
        finally:
            meter.stop()
    warmup["first_measured_day"] = first
    return _steady_report(config, measured, first_run, naive_day, days_log, warmup,
                          round(time.perf_counter() - began, 1))


def _seed_history(sim: Any, transcribe: Any, rng: random.Random, config: SteadyConfig, day0: dt.datetime) -> int:
    """The retained history at ``day0``, as the daily warm-up leaves it: one batch per day, each
    timed as that day's batch would be, then the past days' tag changes and deletions through the
    API with the clock at each past day (so their CloudTrail events lie before any window read)."""
    from transcribe_guard.simulator import clock
    from transcribe_guard.simulator.bulk import expire_records

    for back in range(config.retention_days - 1, -1, -1):  # oldest first: appended in creation order
        _seed_day(sim.transcribe, config, day0 - back * DAY, f"h{back:03d}")
    for back in range(config.retention_days - 1, -1, -1):
        clock.set(day0 - back * DAY - CHANGES_BEFORE_RUN)  # as the daily warm-up: before the day's jobs
        _daily_changes(transcribe, sim.transcribe, rng, config, created_before=day0 - (back + 1) * DAY)
    clock.set(day0)
    expire_records(sim.transcribe, retention_days=config.retention_days)
    return len(job_arns(sim.transcribe))


def _backdate(transcribe_backend: Any, rule_name: str, run_time: dt.datetime) -> int:
    """Date each job result the full run posted back to the daily run that would have judged the
    job: the first daily run after its creation (the day's run comes 10 minutes after its last
    job). Returns how many results were dated back."""
    from transcribe_guard.simulator.config import backend as config_backend, stored_results

    with transcribe_backend._lock:
        created = {record.arn: record.fields["CreationTime"].timestamp()
                   for kind in ("transcription-job", "medical-transcription-job", "analytics", "medical-scribe-job")
                   for record in transcribe_backend.records[kind].values()}
    run_at, seconds = run_time.timestamp(), DAY.total_seconds()
    dated = 0
    for result in stored_results(config_backend(ACCOUNT, REGION), rule_name).values():
        when = created.get(result["ResourceId"])
        if when is None:
            continue
        days_back = int((run_at - when) // seconds)  # 0 for the run's own day's jobs
        result["OrderingTimestamp"] = min(result["OrderingTimestamp"], run_at - days_back * seconds)
        dated += days_back > 0
    return dated


def _daily_changes(transcribe: Any, backend: Any, rng: random.Random, config: SteadyConfig,
                   created_before: dt.datetime | None = None) -> dict[str, int]:
    """Tag changes and deletions through the real API (recorded as CloudTrail events), among the
    jobs created before ``created_before`` (default: all)."""
    with backend._lock:
        names = sorted(name for name, record in backend.records["transcription-job"].items()
                       if created_before is None or record.fields["CreationTime"] <= created_before)
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
    for name in rng.sample(names, min(len(names), config.deletions_per_day)):
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


DAY_GROUPS = ("ordinary_day", "reconcile_day", "average_day")


def _groups(days: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    return {"ordinary_day": [d for d in days if d.get("mode") == "incremental"],
            "reconcile_day": [d for d in days if d.get("mode") == "reconcile"], "average_day": days}


def _mean(days: list[dict[str, Any]], metric: str) -> float | None:
    return round(sum(d[metric] for d in days) / len(days), 2) if days else None


def _mean_operations(days: list[dict[str, Any]]) -> dict[str, float] | None:
    if not days:
        return None
    total: Counter[str] = Counter()
    for d in days:
        total.update(d["transcribe_by_operation"])
    return {op: round(n / len(days), 2) for op, n in sorted(total.items())}


def _add(values: list[Any]) -> Any:
    """Sum of figures (numbers, or per-operation dicts); None when any is None."""
    if any(v is None for v in values):
        return None
    if values and isinstance(values[0], dict):
        total: Counter[str] = Counter()
        for v in values:
            total.update(v)
        return {op: round(n, 2) for op, n in sorted(total.items())}
    return round(sum(values), 2)


def _ratios(ours: Mapping[str, Any], naive: Mapping[str, Any]) -> dict[str, Any]:
    """ours/naive per metric and day group, each held to the 1/50 target."""
    out: dict[str, Any] = {}
    for metric in RATIO_METRICS:
        out[metric] = {}
        for group in DAY_GROUPS:
            value = ours[metric][group]
            r = ratio(value, naive[metric]) if value is not None else None
            out[metric][group] = {"value": r, "met": r is not None and r <= STEADY_TARGET}
    return out


def _floor(config: SteadyConfig, measured: dict[tuple[str, str], list[dict[str, Any]]],
           days_log: list[dict[str, Any]], resource: Mapping[str, Any], naive_day: Mapping[str, Any]) -> dict[str, Any]:
    """Resource mode's evaluations against the floor that retiring expired records imposes: per
    rule and measured day, ``new`` verdicts (the day's jobs) + ``expired`` retirements; as the
    issue states it, a ratio to naive: (new + expired) / (retained + expired). The day's deletions
    and tag changes are forced work too, but left out of the floor (so they count against us)."""
    days = sorted({d["day"] for (key, _), ds in measured.items() if key in config.rules for d in ds})
    logged = {d["day"]: d for d in days_log}
    expired = [logged[day]["expired"] for day in days if day in logged]
    retained = [logged[day]["live_jobs"] for day in days if day in logged]
    if not expired:
        return {"value": None, "met": False}
    new, gone = config.jobs_per_day, sum(expired) / len(expired)
    per_rule = new + gone
    rules = list(config.rules)
    ours = resource["total"]["evaluations"]["average_day"]
    value = round(ours / (per_rule * len(rules)), 4) if ours is not None and per_rule else None
    return {"new_per_day": new, "expired_per_day": round(gone, 2), "retained_per_day": round(sum(retained) / len(retained), 2),
            "floor_evaluations_per_rule": round(per_rule, 2),
            "floor_ratio_to_naive": round(per_rule / (sum(retained) / len(retained) + gone), 5),
            "rules": {key: round(resource["rules"][key]["evaluations"]["average_day"] / per_rule, 4)
                      for key in rules if resource["rules"][key]["evaluations"]["average_day"] is not None},
            "naive_evaluations_per_rule": {key: naive_day[key]["evaluations"] for key in rules if key in naive_day},
            "value": value, "met": value is not None and value <= FLOOR_TARGET, "target": FLOOR_TARGET}


def _steady_report(config: SteadyConfig, measured: dict[tuple[str, str], list[dict[str, Any]]],
                   first_run: dict[tuple[str, str], dict[str, Any]], naive_day: dict[str, Any],
                   days_log: list[dict[str, Any]], warmup: dict[str, Any], seconds: float) -> dict[str, Any]:
    ours: dict[str, Any] = {}
    for mode in config.modes:
        rules: dict[str, Any] = {}
        for key in (*config.rules, *((COLLECTOR,) if mode in LEDGER_MODES else ())):
            days = measured[(key, mode)]
            groups = _groups(days)
            summary: dict[str, Any] = {
                "modes": [d.get("mode") for d in days], "reconcile_days": [d["day"] for d in groups["reconcile_day"]],
                "complete": all(d.get("complete") for d in days),
                "could_not_evaluate": sum(d["could_not_evaluate"] for d in days)}
            for metric in STEADY_METRICS:
                summary[metric] = {group: _mean(ds, metric) for group, ds in groups.items()}
            summary["transcribe_by_operation"] = {group: _mean_operations(ds) for group, ds in groups.items()}
            summary["first_run"] = first_run.get((key, mode))
            summary["days"] = days
            rules[key] = summary
        total: dict[str, Any] = {
            metric: {group: _add([rules[k][metric][group] for k in rules]) for group in DAY_GROUPS}
            for metric in (*STEADY_METRICS, "transcribe_by_operation")}
        firsts = [rules[k]["first_run"] for k in rules if rules[k]["first_run"]]
        total["first_run"] = {metric: _add([f[metric] for f in firsts])
                              for metric in (*STEADY_METRICS, "transcribe_by_operation", "seconds")}
        ours[mode] = {"rules": rules, "total": total}
    naive_total = {metric: _add([d[metric] for d in naive_day.values()])
                   for metric in (*STEADY_METRICS, "transcribe_by_operation", "seconds")}
    floors = {mode: _floor(config, measured, days_log, ours[mode], naive_day)
              for mode in config.modes if reporting_mode(mode) == "resource"}
    ratios = {mode: {"total": _ratios(ours[mode]["total"], naive_total),
                     "rules": {key: _ratios(ours[mode]["rules"][key], naive_day[key])
                               for key in config.rules if key in naive_day}}
              for mode in config.modes}
    return {"configuration": config.__dict__, "warmup": warmup, "seconds": seconds, "ours": ours,
            "naive_day": {"rules": naive_day, "total": naive_total,
                          "note": "the naive rules' first run at the steady state: stateless, they read and post "
                                  "every live job each day; on later days they would also retire the expired "
                                  "and deleted jobs' results (see the days' expired and deleted)"},
            "ratios": ratios, "target_ratio": STEADY_TARGET, "resource_floor": floors,
            "days": days_log if config.warmup == "fast" else days_log[-(config.measure_days + 1):]}
