"""Transcribe TPS quotas and latency in the simulator (throughput.py): the token bucket, the
throttling error as botocore sees it (standard retry mode retries it as throttling), in-process
and over HTTP."""

from __future__ import annotations

import threading
import time
from typing import Any, Iterator

import boto3
import botocore.endpoint
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.retries import standard

from transcribe_guard.simulator import SimulatorServer, throughput
from transcribe_guard.simulator.shapes import service_model
from transcribe_guard.simulator.throughput import DOCUMENTED_QUOTAS

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})  # max_attempts counts retries


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def clean_throughput() -> Iterator[None]:
    throughput.reset()
    yield
    throughput.reset()
    throughput._monotonic = time.monotonic
    throughput._sleep = time.sleep


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(throughput, "_monotonic", fake)
    return fake


def test_off_by_default_counts_but_never_throttles() -> None:
    assert throughput.quotas() == {}
    for _ in range(200):
        assert throughput.admit("111111111111", "us-east-1", "ListTranscriptionJobs")
    assert throughput.stats() == {"ListTranscriptionJobs": {"served": 200, "throttled": 0}}


def test_documented_quotas_and_scale() -> None:
    throughput.configure("documented")
    quotas = throughput.quotas()
    # GetMedicalTranscriptionJob: 20 (Transcribe Medical "Guidelines and quotas"), not 30 as once assumed.
    assert quotas["GetTranscriptionJob"] == 30 and quotas["GetMedicalTranscriptionJob"] == 20
    assert quotas["GetCallAnalyticsJob"] == 20 and quotas["GetMedicalScribeJob"] == 20
    assert quotas["GetVocabulary"] == 20
    list_ops = [op for op in service_model("transcribe").operation_names if op.startswith("List")]
    assert {op: quotas[op] for op in list_ops} == {op: 5 for op in list_ops}  # every List* operation
    assert "StartTranscriptionJob" not in quotas  # unlimited unless given
    throughput.configure("documented", scale=4)
    assert throughput.quotas()["ListTranscriptionJobs"] == 20
    assert set(throughput.quotas()) == set(DOCUMENTED_QUOTAS)


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ValueError):
        throughput.configure("generous")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        throughput.configure({"GetTranscriptionJob": 0})
    with pytest.raises(ValueError):
        throughput.configure("documented", scale=0)


def test_token_bucket_burst_refill_and_scope(fake_time: FakeTime) -> None:
    throughput.configure({"GetTranscriptionJob": 5})
    admitted = [throughput.admit("111111111111", "us-east-1", "GetTranscriptionJob") for _ in range(7)]
    assert admitted == [True] * 5 + [False] * 2  # burst = one second's quota
    # Buckets are per account, region and operation.
    assert throughput.admit("222222222222", "us-east-1", "GetTranscriptionJob")
    assert throughput.admit("111111111111", "eu-west-1", "GetTranscriptionJob")
    assert throughput.admit("111111111111", "us-east-1", "ListTranscriptionJobs")  # no quota given
    fake_time.now += 0.2  # refills at 5 per second: one token
    assert throughput.admit("111111111111", "us-east-1", "GetTranscriptionJob")
    assert not throughput.admit("111111111111", "us-east-1", "GetTranscriptionJob")
    fake_time.now += 60  # never more than the burst
    assert sum(throughput.admit("111111111111", "us-east-1", "GetTranscriptionJob") for _ in range(10)) == 5
    stats = throughput.stats()["GetTranscriptionJob"]
    assert stats == {"served": 13, "throttled": 8}


def test_latency_is_slept_outside_the_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(throughput, "_sleep", slept.append)
    throughput.configure(None, latency_ms={"GetTranscriptionJob": 40, "ListTranscriptionJobs": 10})
    throughput.admit("111111111111", "us-east-1", "GetTranscriptionJob")
    throughput.admit("111111111111", "us-east-1", "ListTranscriptionJobs")
    throughput.admit("111111111111", "us-east-1", "StartTranscriptionJob")
    assert slept == [0.04, 0.01]
    throughput.configure(None, latency_ms=25)
    throughput.admit("111111111111", "us-east-1", "StartTranscriptionJob")
    assert slept[-1] == 0.025


def test_throttled_call_gets_transcribes_429_error(sim: Any, fake_time: FakeTime) -> None:
    client = boto3.client("transcribe", region_name=sim.region, config=NO_RETRIES)
    throughput.configure({"ListTranscriptionJobs": 2})
    client.list_transcription_jobs()
    client.list_transcription_jobs()
    with pytest.raises(ClientError) as excinfo:
        client.list_transcription_jobs()
    error = excinfo.value.response
    assert error["Error"]["Code"] == "LimitExceededException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert "exceeded a rate limit" in error["Error"]["Message"]
    assert throughput.stats()["ListTranscriptionJobs"] == {"served": 2, "throttled": 1}


def test_botocore_classifies_the_error_as_throttling() -> None:
    response = AWSResponse("https://transcribe.us-east-1.amazonaws.com/", 429, {}, None)
    operation = service_model("transcribe").operation_model("GetTranscriptionJob")
    context = standard.RetryContext(
        attempt_number=1, operation_model=operation, http_response=response,
        parsed_response={"Error": {"Code": throughput.THROTTLING_CODE, "Message": throughput.THROTTLING_MESSAGE}})
    assert standard.ThrottledRetryableChecker().is_retryable(context)
    assert standard.ThrottlingErrorDetector(None).is_throttling_error_from_context(context)
    assert standard.StandardRetryConditions(max_attempts=3).is_retryable(context)


def test_standard_retry_mode_succeeds_after_throttling(sim: Any, fake_time: FakeTime,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A client with standard retries rides out the quota: its backoff sleeps (made instant
    here, advancing the quota's clock by the same amount) until the bucket has refilled."""
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        fake_time.now += seconds

    monkeypatch.setattr(botocore.endpoint.time, "sleep", sleep)
    client = boto3.client("transcribe", region_name=sim.region,
                          config=Config(retries={"mode": "standard", "max_attempts": 10}))
    throughput.configure({"ListTranscriptionJobs": 1}, scale=2)  # 2 TPS, burst 2
    for _ in range(5):
        assert client.list_transcription_jobs()["TranscriptionJobSummaries"] == []
    stats = throughput.stats()["ListTranscriptionJobs"]
    assert stats["served"] == 5
    # Every throttle was retried after a backoff; how many depends on the random backoff (one long
    # enough refills two tokens), the waiting does not.
    assert stats["throttled"] >= 1 and stats["throttled"] == len(sleeps)
    assert fake_time.now - 1000.0 >= 1.5  # three refills at 2 TPS were waited for


def test_quotas_and_latency_over_http() -> None:
    server = SimulatorServer(port=0).start()
    try:
        client = server.client("transcribe")
        throughput.configure({"GetTranscriptionJob": 3})
        strict = boto3.client("transcribe", region_name="us-east-1", endpoint_url=server.url,
                                            aws_access_key_id="testing", aws_secret_access_key="testing",
                                            config=NO_RETRIES)
        codes = []
        for _ in range(4):
            try:
                strict.get_transcription_job(TranscriptionJobName="missing")
            except ClientError as error:
                codes.append((error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]))
        # Three admitted (and answered: no such job), the fourth throttled.
        assert codes == [("BadRequestException", 400)] * 3 + [("LimitExceededException", 429)]

        throughput.reset()
        throughput.configure(None, latency_ms=300)
        client.list_transcription_jobs()  # warm the connection
        durations: list[float] = []

        def call() -> None:
            began = time.perf_counter()
            server.client("transcribe").list_transcription_jobs()
            durations.append(time.perf_counter() - began)

        threads = [threading.Thread(target=call) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert min(durations) >= 0.3  # every answer waited the latency
        assert throughput.peak_in_flight() == 4  # ... concurrently, not one after another
    finally:
        server.stop()


def test_the_rules_pace_at_or_below_every_quota_the_simulator_enforces() -> None:
    # Both tables come from AWS's quota pages; a pacer above the enforced quota would throttle itself.
    from botocore import xform_name

    from rules.engine.pacing import DOCUMENTED_QUOTAS as PACED
    enforced = {xform_name(operation): rate for operation, rate in DOCUMENTED_QUOTAS.items()}
    shared = set(PACED) & set(enforced)
    assert {"get_transcription_job", "get_medical_transcription_job", "get_call_analytics_job"} <= shared
    assert {name: PACED[name] for name in shared if PACED[name] > enforced[name]} == {}
    assert PACED["get_medical_transcription_job"] == enforced["get_medical_transcription_job"] == 20
