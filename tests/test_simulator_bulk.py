"""Bulk seeding and record expiry (bulk.py), List paging at scale, and the simulated clock
(clock.py) as the simulated Transcribe and Config use it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from transcribe_guard.simulator import Simulator, clock
from transcribe_guard.simulator.bulk import expire_records, seed_jobs
from transcribe_guard.simulator.shapes import output_shape, validate
from transcribe_guard.simulator.transcribe import KINDS

UTC = dt.timezone.utc
MEDIA = "s3://media-bucket/call.wav"
ROLE = "arn:aws:iam::123456789012:role/TranscribeDataAccess"
REDACTION = {"RedactionType": "PII", "RedactionOutput": "redacted", "PiiEntityTypes": ["NAME"]}

# Per kind: a Start* request (without the name) used both through the API and for seeding.
REQUESTS: dict[str, dict[str, Any]] = {
    "transcription-job": {"Media": {"MediaFileUri": MEDIA}, "LanguageCode": "en-US", "OutputBucketName": "out",
                          "ContentRedaction": REDACTION, "Subtitles": {"Formats": ["srt"]}},
    "medical-transcription-job": {"Media": {"MediaFileUri": MEDIA}, "LanguageCode": "en-US",
                                  "OutputBucketName": "out", "Specialty": "PRIMARYCARE", "Type": "DICTATION",
                                  "ContentIdentificationType": "PHI"},
    "analytics": {"Media": {"MediaFileUri": MEDIA}, "OutputLocation": "s3://out/analytics/",
                  "DataAccessRoleArn": ROLE, "Settings": {"ContentRedaction": REDACTION}},
    "medical-scribe-job": {"Media": {"MediaFileUri": MEDIA}, "OutputBucketName": "out", "DataAccessRoleArn": ROLE,
                           "Settings": {"ShowSpeakerLabels": True, "MaxSpeakerLabels": 2}},
}
SERVICE_BUCKET_REQUEST = {"Media": {"MediaFileUri": MEDIA}, "LanguageCode": "en-US"}


def call(client: Any, method: str, **kwargs: Any) -> dict[str, Any]:
    response = getattr(client, method)(**kwargs)
    response.pop("ResponseMetadata", None)
    operation = client.meta.method_to_api_mapping[method]
    assert validate(output_shape("transcribe", operation), response) == []
    return response


def snake(operation: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")


def normalised(value: Any, name: str) -> Any:
    """A response with the job's name and times taken out, and presigned signatures dropped."""
    if isinstance(value, dict):
        return {k: normalised(v, name) for k, v in value.items()
                if k not in ("CreationTime", "StartTime", "CompletionTime")}
    if isinstance(value, list):
        return [normalised(v, name) for v in value]
    if isinstance(value, str):
        value = value.replace(name, "<name>")
        return value.split("?")[0].rsplit("/", 3)[0] if "X-Amz-Signature" in value else value
    return value


@pytest.fixture
def prepared(sim: Simulator) -> Simulator:
    s3 = sim.client("s3")
    for bucket in ("media-bucket", "out"):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket="media-bucket", Key="call.wav", Body=b"RIFF")
    return sim


@pytest.mark.parametrize("kind_key,request_params", [*REQUESTS.items(), ("transcription-job", SERVICE_BUCKET_REQUEST)])
def test_seeded_jobs_look_like_started_ones(prepared: Simulator, kind_key: str,
                                            request_params: dict[str, Any]) -> None:
    kind = KINDS[kind_key]
    client = prepared.client("transcribe")
    tags = [{"Key": "team", "Value": "cc"}]
    call(client, snake(kind.create_op), **{kind.name_field: "api-000000"}, **request_params, Tags=tags)
    [seeded] = seed_jobs(prepared.transcribe, kind_key, 1, request=request_params, tags={"team": "cc"},
                         name_prefix="seeded")
    assert seeded == "seeded-000000"

    got_api = call(client, snake(kind.get_op), **{kind.name_field: "api-000000"})
    got_seeded = call(client, snake(kind.get_op), **{kind.name_field: seeded})
    assert normalised(got_seeded, seeded) == normalised(got_api, "api-000000")
    job = got_seeded[kind.get_field]
    assert job[kind.status_field] == "COMPLETED" and job["CreationTime"] <= job["CompletionTime"]

    summaries = call(client, snake(kind.list_op))[kind.list_field]
    by_name = {s[kind.name_field]: s for s in summaries}
    assert normalised(by_name[seeded], seeded) == normalised(by_name["api-000000"], "api-000000")
    tags_of = call(client, "list_tags_for_resource", ResourceArn=job.get("TranscriptionJobArn") or
                   f"arn:aws:transcribe:us-east-1:123456789012:{kind_key}/{seeded}")
    assert tags_of["Tags"] == tags


def test_summaries_carry_output_and_redaction_fields(sim: Simulator) -> None:
    seed_jobs(sim.transcribe, "transcription-job", 3, request=REQUESTS["transcription-job"], name_prefix="cust")
    seed_jobs(sim.transcribe, "transcription-job", 2, name_prefix="svc")
    summaries = call(sim.client("transcribe"), "list_transcription_jobs", MaxResults=10)["TranscriptionJobSummaries"]
    customer = [s for s in summaries if s["TranscriptionJobName"].startswith("cust")]
    service = [s for s in summaries if s["TranscriptionJobName"].startswith("svc")]
    assert {s["OutputLocationType"] for s in customer} == {"CUSTOMER_BUCKET"}
    assert all(s["ContentRedaction"] == REDACTION for s in customer)
    assert {s["OutputLocationType"] for s in service} == {"SERVICE_BUCKET"}
    job = call(sim.client("transcribe"), "get_transcription_job",
               TranscriptionJobName="cust-000001")["TranscriptionJob"]
    assert job["Transcript"] == {
        "RedactedTranscriptFileUri": "https://s3.us-east-1.amazonaws.com/out/redacted-cust-000001.json"}
    svc = call(sim.client("transcribe"), "get_transcription_job", TranscriptionJobName="svc-000000")
    uri = svc["TranscriptionJob"]["Transcript"]["TranscriptFileUri"]
    assert uri.startswith("https://s3.us-east-1.amazonaws.com/aws-transcribe-us-east-1-prod/123456789012/svc-000000/")
    assert "X-Amz-Signature=" in uri


def test_statuses(sim: Simulator) -> None:
    client = sim.client("transcribe")
    for status in ("QUEUED", "IN_PROGRESS", "FAILED"):
        seed_jobs(sim.transcribe, "analytics", 2, status=status, name_prefix=status.lower())
    queued = call(client, "get_call_analytics_job", CallAnalyticsJobName="queued-000000")["CallAnalyticsJob"]
    assert queued["CallAnalyticsJobStatus"] == "QUEUED" and "StartTime" not in queued and "Transcript" not in queued
    running = call(client, "get_call_analytics_job", CallAnalyticsJobName="in_progress-000001")["CallAnalyticsJob"]
    assert running["CallAnalyticsJobStatus"] == "IN_PROGRESS" and "CompletionTime" not in running
    failed = call(client, "get_call_analytics_job", CallAnalyticsJobName="failed-000000")["CallAnalyticsJob"]
    assert failed["CallAnalyticsJobStatus"] == "FAILED" and failed["FailureReason"]
    listed = call(client, "list_call_analytics_jobs", Status="FAILED")
    assert [s["CallAnalyticsJobName"] for s in listed["CallAnalyticsJobSummaries"]] == ["failed-000001", "failed-000000"]


def test_bad_seeding_is_refused(sim: Simulator) -> None:
    with pytest.raises(ValueError, match="unknown job kind"):
        seed_jobs(sim.transcribe, "vocabulary", 1)
    with pytest.raises(ValueError, match="OutputBucketName"):  # StartMedicalTranscriptionJob requires one
        seed_jobs(sim.transcribe, "medical-transcription-job", 1, request={"OutputBucketName": None})
    seed_jobs(sim.transcribe, "transcription-job", 2)
    with pytest.raises(ValueError, match="already exists"):
        seed_jobs(sim.transcribe, "transcription-job", 1)


def test_newest_first_across_seeded_and_started_jobs(prepared: Simulator) -> None:
    client = prepared.client("transcribe")
    now = clock.now().replace(microsecond=0)
    # Seeded in a shuffled time order, older than jobs started through the API, and interleaved.
    seed_jobs(prepared.transcribe, "transcription-job", 30, name_prefix="old",
              created_at=lambda i: now - dt.timedelta(days=2, minutes=(i * 7) % 30))
    call(client, "start_transcription_job", TranscriptionJobName="api-new", **SERVICE_BUCKET_REQUEST)
    seed_jobs(prepared.transcribe, "transcription-job", 5, name_prefix="mid", created_at=now - dt.timedelta(days=1))
    names, times, token = [], [], None
    while True:
        page = call(client, "list_transcription_jobs", MaxResults=4, **({"NextToken": token} if token else {}))
        names += [s["TranscriptionJobName"] for s in page["TranscriptionJobSummaries"]]
        times += [s["CreationTime"] for s in page["TranscriptionJobSummaries"]]
        token = page.get("NextToken")
        if not token:
            break
    assert len(names) == len(set(names)) == 36
    assert names[0] == "api-new" and names[1:6] == [f"mid-{i:06d}" for i in range(4, -1, -1)]
    assert times == sorted(times, reverse=True)
    # Filters keep working.
    filtered = call(client, "list_transcription_jobs", JobNameContains="MID", Status="COMPLETED", MaxResults=100)
    assert [s["TranscriptionJobName"] for s in filtered["TranscriptionJobSummaries"]] == \
        [f"mid-{i:06d}" for i in range(4, -1, -1)]
    assert filtered["Status"] == "COMPLETED" and "NextToken" not in filtered


def test_paging_neither_skips_nor_repeats_when_jobs_come_and_go(sim: Simulator) -> None:
    client = sim.client("transcribe")
    start = clock.now().replace(microsecond=0) - dt.timedelta(hours=1)
    seed_jobs(sim.transcribe, "transcription-job", 20, created_at=lambda i: start + dt.timedelta(seconds=i))
    first = call(client, "list_transcription_jobs", MaxResults=5)
    seed_jobs(sim.transcribe, "transcription-job", 3, name_prefix="newer")  # created after the token
    call(client, "delete_transcription_job", TranscriptionJobName="job-000019")  # already listed
    call(client, "delete_transcription_job", TranscriptionJobName="job-000010")  # not yet listed
    names = [s["TranscriptionJobName"] for s in first["TranscriptionJobSummaries"]]
    token = first["NextToken"]
    while token:
        page = call(client, "list_transcription_jobs", MaxResults=5, NextToken=token)
        names += [s["TranscriptionJobName"] for s in page["TranscriptionJobSummaries"]]
        token = page.get("NextToken")
    assert names == [f"job-{i:06d}" for i in range(19, -1, -1) if i != 10]
    with pytest.raises(Exception, match="NextToken is not valid"):
        client.list_transcription_jobs(NextToken="garbage")
    with pytest.raises(Exception, match="NextToken is not valid"):  # another operation's token
        client.list_call_analytics_jobs(NextToken=first["NextToken"])


def test_expire_records(sim: Simulator) -> None:
    now = clock.now().replace(microsecond=0)
    for days in (100, 91, 89, 1):
        seed_jobs(sim.transcribe, "transcription-job", 2, name_prefix=f"d{days}",
                  created_at=now - dt.timedelta(days=days))
    seed_jobs(sim.transcribe, "medical-scribe-job", 1, name_prefix="scribe", created_at=now - dt.timedelta(days=95))
    assert expire_records(sim.transcribe) == 5
    client = sim.client("transcribe")
    left = call(client, "list_transcription_jobs", MaxResults=100)["TranscriptionJobSummaries"]
    assert sorted(s["TranscriptionJobName"] for s in left) == ["d1-000000", "d1-000001", "d89-000000", "d89-000001"]
    assert call(client, "list_medical_scribe_jobs")["MedicalScribeJobSummaries"] == []
    clock.advance(dt.timedelta(days=2))  # a simulated steady state: days pass, old jobs age out
    assert expire_records(sim.transcribe, retention_days=90) == 2
    assert expire_records(sim.transcribe, retention_days=90) == 0


def test_100k_jobs_seed_and_page_newest_first_without_gaps(sim: Simulator) -> None:
    # Speed is the benchmark's business (make bench); a test asserts no wall-clock time.
    start = dt.datetime(2025, 1, 1, tzinfo=UTC)
    seed_jobs(sim.transcribe, "transcription-job", 100_000, created_at=lambda i: start + dt.timedelta(seconds=30 * i),
              request={"OutputBucketName": "out", "ContentRedaction": REDACTION}, tags={"team": "cc"})
    backend, kind = sim.transcribe, KINDS["transcription-job"]
    first = backend.list("ListTranscriptionJobs", kind, {"MaxResults": 100})
    assert first["TranscriptionJobSummaries"][0]["TranscriptionJobName"] == "job-099999"
    token, names = first["NextToken"], [s["TranscriptionJobName"] for s in first["TranscriptionJobSummaries"]]
    while token and len(names) < 50_000:
        page = backend.list("ListTranscriptionJobs", kind, {"MaxResults": 100, "NextToken": token})
        names += [s["TranscriptionJobName"] for s in page["TranscriptionJobSummaries"]]
        token = page.get("NextToken")
    assert names == [f"job-{i:06d}" for i in range(99_999, 49_999, -1)]


# --- the simulated clock ------------------------------------------------------------------------

def test_clock_set_advance_reset() -> None:
    moment = dt.datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
    clock.set(moment)
    assert abs(clock.now() - moment) < dt.timedelta(seconds=1) and clock.now().tzinfo is not None
    clock.advance(dt.timedelta(days=3))
    assert abs(clock.now() - (moment + dt.timedelta(days=3))) < dt.timedelta(seconds=1)
    clock.reset()
    assert abs(clock.now() - dt.datetime.now(UTC)) < dt.timedelta(seconds=1)


def test_simulated_services_use_the_clock(prepared: Simulator) -> None:
    client = prepared.client("transcribe")
    clock.set(dt.datetime(2031, 1, 2, 3, 4, 5, tzinfo=UTC))
    job = call(client, "start_transcription_job", TranscriptionJobName="later",
               **SERVICE_BUCKET_REQUEST)["TranscriptionJob"]
    assert job["CreationTime"].astimezone(UTC).year == 2031
    got = call(client, "get_transcription_job", TranscriptionJobName="later")["TranscriptionJob"]
    assert got["CompletionTime"].astimezone(UTC).date() == dt.date(2031, 1, 2)
    clock.advance(dt.timedelta(days=1))
    call(client, "create_vocabulary", VocabularyName="v", LanguageCode="en-US", Phrases=["a"])
    vocabulary = call(client, "get_vocabulary", VocabularyName="v")  # CreateVocabulary returns no LastModifiedTime
    assert vocabulary["LastModifiedTime"].astimezone(UTC).date() == dt.date(2031, 1, 3)

    from transcribe_guard.simulator.config import put_evaluations  # noqa: F401 - installed by Simulator
    from transcribe_guard.simulator.config import result_token
    config = prepared.client("config")
    config.put_config_rule(ConfigRule={"ConfigRuleName": "r", "Source": {
        "Owner": "AWS", "SourceIdentifier": "S3_BUCKET_VERSIONING_ENABLED"}})
    config.put_evaluations(ResultToken=result_token("r"), Evaluations=[{
        "ComplianceResourceType": "AWS::S3::Bucket", "ComplianceResourceId": "out", "ComplianceType": "COMPLIANT",
        "OrderingTimestamp": clock.now()}])
    result = config.get_compliance_details_by_config_rule(ConfigRuleName="r")["EvaluationResults"][0]
    assert result["ResultRecordedTime"].astimezone(UTC).date() == dt.date(2031, 1, 3)
    assert result["ConfigRuleInvokedTime"].astimezone(UTC).date() == dt.date(2031, 1, 3)


def test_clock_resets_with_the_simulator() -> None:
    with Simulator():
        clock.advance(dt.timedelta(days=30))
    assert abs(clock.now() - dt.datetime.now(UTC)) < dt.timedelta(seconds=1)
    clock.advance(dt.timedelta(days=30))
    with Simulator():  # moto resetting its backends resets the clock too
        assert abs(clock.now() - dt.datetime.now(UTC)) < dt.timedelta(seconds=1)
