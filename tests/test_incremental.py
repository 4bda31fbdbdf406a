"""How the per-resource rules run as functions (rules/engine/incremental.py): a first run in full, then
only what changed (new and newly finished jobs, CloudTrail tag and delete events, expired
records), a weekly reconcile as the safety net, the Lambda deadline with resume, summary
reporting, and what happens when the checkpoint or the event history cannot be read."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import uuid
from collections import Counter
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import boto3
import hypothesis
import pytest
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st

from rules import transcribe_job_output_location, transcribe_job_pii_redaction, transcribe_resource_tagged
from rules.engine.checkpoint import MODES, Checkpoint, CheckpointError, parameter_name
from rules.engine.pacing import RateLimiter, ordered_map
from rules.inventory.transcribe import JOB_KINDS
from tests.helpers import ACCOUNT, REGION, deploy_rule, periodic_event, put_media, run_handler, stored_verdicts
from tests.test_properties import examples  # the project's hypothesis profile (derandomized)
from transcribe_guard.bench.harness import FakeContext  # a Lambda context counting down
from transcribe_guard.simulator import bulk, clock, cloudtrail_events

OUT = "acme-transcripts"
AUDIO = "acme-audio"
LOCATION = "transcribe-job-output-location"
PII = "transcribe-job-pii-redaction"
TAGGED = "transcribe-resource-tagged"
ARN = f"arn:aws:transcribe:{REGION}:{ACCOUNT}:transcription-job"
GET_BOUND = {"AllowedOutputBuckets": OUT}  # output-location reads every completed job then
DAY = dt.timedelta(days=1)


@pytest.fixture
def account(sim: Any) -> Any:
    put_media(sim, AUDIO, ["call.wav"])
    sim.client("s3").create_bucket(Bucket=OUT)
    return sim


def start(sim: Any, name: str, tags: dict[str, str] | None = None, **extra: Any) -> str:
    kwargs: dict[str, Any] = {"TranscriptionJobName": name, "LanguageCode": "en-US", "OutputBucketName": OUT,
                              "Media": {"MediaFileUri": f"s3://{AUDIO}/call.wav"}, **extra}
    if tags:
        kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    transcribe = sim.client("transcribe")
    transcribe.start_transcription_job(**kwargs)
    transcribe.get_transcription_job(TranscriptionJobName=name)  # the simulator finishes it now
    return f"{ARN}/{name}"


@contextmanager
def counted_calls() -> Iterator[Counter[str]]:
    """Calls per "service.Operation" made by clients of boto3's default session in the block."""
    counts: Counter[str] = Counter()
    events = boto3._get_default_session().events
    handler_id = f"count-{uuid.uuid4()}"

    def count(model: Any, **_: Any) -> None:
        counts[f"{model.service_model.endpoint_prefix}.{model.name}"] += 1

    events.register("before-call", count, unique_id=handler_id)
    try:
        yield counts
    finally:
        events.unregister("before-call", unique_id=handler_id)


def run(module: Any, rule: str, parameters: dict[str, str] | None = None, context: Any = None
        ) -> tuple[list[dict[str, Any]], Counter[str]]:
    """One function invocation an hour after the last thing the test did (so that its jobs are
    outside the runs' few minutes of overlap): what it posted and the calls it made."""
    clock.advance(dt.timedelta(hours=1))
    with counted_calls() as calls:
        response, posted = run_handler(module.lambda_handler, periodic_event(rule, parameters), context)
    assert isinstance(response, list), response  # not an error answer
    return posted, calls


@contextmanager
def denied(operation: str) -> Iterator[None]:
    """Every call of ``operation`` (any client) fails with AccessDeniedException in the block."""
    import botocore.client
    original = botocore.client.BaseClient._make_api_call

    def deny(self: Any, name: str, params: Any) -> Any:
        if name == operation:
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "denied"}}, name)
        return original(self, name, params)

    botocore.client.BaseClient._make_api_call = deny  # type: ignore[method-assign]
    try:
        yield
    finally:
        botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]


def checkpoint(sim: Any, rule: str) -> Checkpoint:
    value = sim.client("ssm").get_parameter(Name=parameter_name(ACCOUNT, REGION, rule))["Parameter"]["Value"]
    return Checkpoint.from_json(value)


def ids(posted: list[dict[str, Any]]) -> list[str]:
    return [e["ComplianceResourceId"] for e in posted]


def gets(calls: Counter[str]) -> int:
    return sum(n for op, n in calls.items() if op.startswith("transcribe.Get"))


# --- incremental runs ------------------------------------------------------------------------------

def test_second_run_judges_only_jobs_created_since_the_first(account: Any) -> None:
    deploy_rule(account, LOCATION)
    for index in range(150):
        start(account, f"call-{index:03d}")
    clock.advance(dt.timedelta(hours=1))
    posted, calls = run(transcribe_job_output_location, LOCATION, GET_BOUND)
    assert len(posted) == 150 and gets(calls) == 150
    assert checkpoint(account, LOCATION).watermark is not None

    clock.advance(DAY)
    new = [start(account, f"new-{index}") for index in range(3)]
    clock.advance(dt.timedelta(hours=1))
    posted, calls = run(transcribe_job_output_location, LOCATION, GET_BOUND)
    assert sorted(ids(posted)) == sorted(new)
    assert gets(calls) == 3
    # Newest first: the listing stopped at the first page that reached below the watermark.
    assert calls["transcribe.ListTranscriptionJobs"] == 1
    assert len(stored_verdicts(account, LOCATION)) == 153


def test_a_job_that_finishes_after_a_run_is_judged_once_it_has(account: Any) -> None:
    deploy_rule(account, LOCATION)
    account.transcribe.hold_jobs = True
    held = start(account, "long-call")
    run(transcribe_job_output_location, LOCATION)
    assert stored_verdicts(account, LOCATION) == {held: "NOT_APPLICABLE"}

    clock.advance(DAY)  # the job was created before this run's watermark, but finishes after it
    account.transcribe.complete_held_jobs()
    clock.advance(dt.timedelta(hours=1))
    posted, _ = run(transcribe_job_output_location, LOCATION)
    assert ids(posted) == [held]
    assert stored_verdicts(account, LOCATION) == {held: "COMPLIANT"}
    assert checkpoint(account, LOCATION).floor is None  # nothing is unfinished any more


def test_a_tag_change_is_followed_from_the_event_history(account: Any) -> None:
    deploy_rule(account, TAGGED)
    parameters = {"RequiredTags": "CostCenter", "ResourceKinds": "transcription-job"}
    tagged = start(account, "tagged", tags={"CostCenter": "42"})
    untagged = start(account, "untagged")
    run(transcribe_resource_tagged, TAGGED, parameters)
    assert stored_verdicts(account, TAGGED) == {tagged: "COMPLIANT", untagged: "NON_COMPLIANT"}

    clock.advance(DAY)
    account.client("transcribe").tag_resource(ResourceArn=untagged, Tags=[{"Key": "CostCenter", "Value": "7"}])
    clock.advance(dt.timedelta(hours=1))
    posted, calls = run(transcribe_resource_tagged, TAGGED, parameters)
    assert ids(posted) == [untagged] and gets(calls) == 1
    assert calls["cloudtrail.LookupEvents"] >= 1
    assert stored_verdicts(account, TAGGED) == {tagged: "COMPLIANT", untagged: "COMPLIANT"}


def test_a_deleted_job_is_retired_from_its_delete_event_without_reading_jobs(account: Any) -> None:
    deploy_rule(account, PII)
    kept, gone = start(account, "kept"), start(account, "gone")
    run(transcribe_job_pii_redaction, PII)
    clock.advance(DAY)
    account.client("transcribe").delete_transcription_job(TranscriptionJobName="gone")
    clock.advance(dt.timedelta(hours=1))
    posted, calls = run(transcribe_job_pii_redaction, PII)
    assert [(e["ComplianceResourceId"], e["ComplianceType"], e["Annotation"]) for e in posted] == [
        (gone, "NOT_APPLICABLE", "Retired: the transcription job was deleted.")]
    assert gets(calls) == 0  # the rule has no Get permission for standard jobs and needs none
    assert stored_verdicts(account, PII) == {kept: "NON_COMPLIANT", gone: "NOT_APPLICABLE"}


@pytest.mark.parametrize("mode", ["resource", "summary"])
@pytest.mark.parametrize("failure", [
    pytest.param(("AccessDeniedException", "User is not authorized to perform: transcribe:DeleteTranscriptionJob"),
                 id="denied"),
    pytest.param(None, id="error-in-response-elements")])
def test_a_failed_delete_call_in_cloudtrail_does_not_retire_the_result(account: Any, mode: str,
                                                                       failure: tuple[str, str] | None) -> None:
    """Anyone may call DeleteTranscriptionJob and be refused; CloudTrail records the call with its
    error (errorCode, or inside responseElements for some services). A refused delete must not
    retire a NON_COMPLIANT result: that would let a denied caller silence the rule, daily."""
    from transcribe_guard.simulator.cloudtrail_events import history, record_event

    deploy_rule(account, PII)
    parameters = {"ReportingMode": mode}
    job = start(account, "unredacted")
    run(transcribe_job_pii_redaction, PII, parameters)
    clock.advance(DAY)
    event = record_event(ACCOUNT, REGION, "DeleteTranscriptionJob", "unredacted",
                         request_parameters={"transcriptionJobName": "unredacted"}, error=failure,
                         response_elements=None if failure else {"errorCode": "AccessDenied"})
    assert event in history(ACCOUNT, REGION)
    posted, _ = run(transcribe_job_pii_redaction, PII, parameters)
    assert not [e for e in posted if e["ComplianceResourceId"] == job and e["ComplianceType"] == "NOT_APPLICABLE"]
    assert stored_verdicts(account, PII)[job] == "NON_COMPLIANT"


@pytest.mark.parametrize("mode", ["summary", "resource"])
def test_results_older_than_the_record_retention_are_retired_by_the_sweep(account: Any, mode: str) -> None:
    deploy_rule(account, PII)
    parameters = {"ReportingMode": mode}
    live = start(account, "live")
    run(transcribe_job_pii_redaction, PII, parameters)
    # A result posted 100 days ago for a job whose record Transcribe has since dropped.
    expired = f"{ARN}/from-last-quarter"
    old = (clock.now() - dt.timedelta(days=100)).strftime("%Y-%m-%dT%H:%M:%SZ")
    from transcribe_guard.simulator.config import result_token
    account.client("config").put_evaluations(ResultToken=result_token(PII), Evaluations=[{
        "ComplianceResourceType": "AWS::::Account", "ComplianceResourceId": expired,
        "ComplianceType": "NON_COMPLIANT", "Annotation": "old", "OrderingTimestamp": old}])
    retired = (expired, "Retired: the job record expired (Transcribe keeps job records 90 days).")
    clock.advance(DAY)
    posted, _ = run(transcribe_job_pii_redaction, PII, parameters)
    # Summary mode sweeps every run; resource mode on its reconcile runs (every 7 days here).
    swept = [(e["ComplianceResourceId"], e["Annotation"]) for e in posted if e["ComplianceResourceId"] != ACCOUNT]
    assert swept == ([retired] if mode == "summary" else [])
    if mode == "resource":
        clock.advance(7 * DAY)
        posted, _ = run(transcribe_job_pii_redaction, PII, parameters)
        assert [(e["ComplianceResourceId"], e["Annotation"]) for e in posted] == [retired]
    assert stored_verdicts(account, PII)[expired] == "NOT_APPLICABLE"
    assert stored_verdicts(account, PII)[live] == "NON_COMPLIANT"


# --- reconcile, full runs and the checkpoint -------------------------------------------------------

def test_the_weekly_reconcile_judges_missed_jobs_and_retires_vanished_ones(account: Any) -> None:
    deploy_rule(account, LOCATION)
    first = start(account, "first")
    vanished = start(account, "vanished")
    run(transcribe_job_output_location, LOCATION, GET_BOUND)
    # Changes no incremental run can see: a job older than the watermark appears, and a record
    # disappears without a Delete event.
    missed = bulk.seed_jobs(account.transcribe, "transcription-job", 1, name_prefix="missed",
                            created_at=clock.now() - DAY, request={"OutputBucketName": OUT})
    account.client("transcribe").delete_transcription_job(TranscriptionJobName="vanished")
    history = cloudtrail_events.history(ACCOUNT, REGION)
    history[:] = [e for e in history if e.name != "DeleteTranscriptionJob"]  # as if the event were missed
    clock.advance(DAY)
    posted, _ = run(transcribe_job_output_location, LOCATION, GET_BOUND)
    assert posted == []

    clock.advance(7 * DAY)
    posted, calls = run(transcribe_job_output_location, LOCATION, GET_BOUND)
    assert sorted((e["ComplianceResourceId"], e["ComplianceType"]) for e in posted) == [
        (f"{ARN}/{missed[0]}", "COMPLIANT"), (vanished, "NOT_APPLICABLE")]
    assert gets(calls) == 1  # the known job is not read again
    assert stored_verdicts(account, LOCATION) == {first: "COMPLIANT", vanished: "NOT_APPLICABLE",
                                                  f"{ARN}/{missed[0]}": "COMPLIANT"}
    assert checkpoint(account, LOCATION).reconciled is not None


def test_new_parameters_or_an_unreadable_checkpoint_mean_a_full_run(account: Any) -> None:
    deploy_rule(account, LOCATION)
    jobs = [start(account, f"call-{index}") for index in range(3)]
    run(transcribe_job_output_location, LOCATION)
    clock.advance(DAY)
    posted, _ = run(transcribe_job_output_location, LOCATION, {"AllowedOutputBuckets": "elsewhere"})
    assert sorted(ids(posted)) == sorted(jobs)
    assert {e["ComplianceType"] for e in posted} == {"NON_COMPLIANT"}

    account.client("ssm").put_parameter(Name=parameter_name(ACCOUNT, REGION, LOCATION), Value="{not json",
                                        Type="String", Overwrite=True)
    clock.advance(DAY)
    posted, _ = run(transcribe_job_output_location, LOCATION, {"AllowedOutputBuckets": "elsewhere"})
    assert sorted(ids(posted)) == sorted(jobs)
    assert checkpoint(account, LOCATION).watermark is not None  # a good checkpoint again


def test_without_the_event_history_a_tag_rule_rejudges_everything_next_run(account: Any) -> None:
    deploy_rule(account, TAGGED)
    parameters = {"RequiredTags": "CostCenter", "ResourceKinds": "transcription-job"}
    jobs = [start(account, f"call-{index}") for index in range(2)]
    run(transcribe_resource_tagged, TAGGED, parameters)
    clock.advance(DAY)
    with denied("LookupEvents"):
        posted, _ = run(transcribe_resource_tagged, TAGGED, parameters)
    assert posted == []
    assert checkpoint(account, TAGGED).full_next
    clock.advance(DAY)
    posted, calls = run(transcribe_resource_tagged, TAGGED, parameters)
    assert sorted(ids(posted)) == sorted(jobs) and gets(calls) == 2
    assert not checkpoint(account, TAGGED).full_next


# --- a checkpoint is checked, not trusted ---------------------------------------------------------
# Whoever can write the SSM parameter must not be able to keep a job unjudged or crash the run: a
# stored value that is not a checkpoint this code could have written means a full run, a warning,
# and a problem in the run's log.

YEAR = 365 * DAY
ELSEWHERE = "acme-elsewhere"  # not in GET_BOUND's AllowedOutputBuckets: its jobs are NON_COMPLIANT


def forge(sim: Any, rule: str, change: Callable[[dict[str, Any]], Any]) -> None:
    """Rewrite the rule's stored checkpoint: ``change`` edits the parsed value in place, or
    returns the text to store instead."""
    name = parameter_name(ACCOUNT, REGION, rule)
    ssm = sim.client("ssm")
    data = json.loads(ssm.get_parameter(Name=name)["Parameter"]["Value"])
    returned = change(data)
    text = returned if isinstance(returned, str) else json.dumps(data)  # NaN and Infinity as json writes them
    ssm.put_parameter(Name=name, Value=text, Type="String", Overwrite=True,
                      Tier="Advanced" if len(text) > 4096 else "Standard")


def raw(data: dict[str, Any], key: str, text: str) -> str:
    """``data`` as JSON with ``key`` set to ``text`` verbatim (for what json.dumps never writes)."""
    return json.dumps({**data, key: "@RAW@"}).replace('"@RAW@"', text)


def missed_job(sim: Any) -> str:
    """A NON_COMPLIANT job created before the last run's watermark: only a full run or a reconcile
    judges it."""
    return f"{ARN}/" + bulk.seed_jobs(sim.transcribe, "transcription-job", 1, name_prefix="missed",
                                      created_at=clock.now() - DAY, request={"OutputBucketName": ELSEWHERE})[0]


def epoch(delta: dt.timedelta = dt.timedelta(0)) -> float:
    return (clock.now() + delta).timestamp()


def position(**change: Any) -> dict[str, Any]:
    """A resumed incremental run listing transcription jobs, started an hour ago."""
    return {"mode": "incremental", "started": epoch(-dt.timedelta(hours=1)), "kind": "transcription-job",
            "before": None, "token": None, "floor": None, "noncompliant": 0, "invocations": 2, **change}


def test_a_reconcile_time_ten_years_ahead_means_a_full_run_that_judges_the_missed_job(account: Any, caplog: Any
                                                                                       ) -> None:
    deploy_rule(account, LOCATION)
    first = start(account, "first")
    run(transcribe_job_output_location, LOCATION, GET_BOUND)
    missed = missed_job(account)
    # Trusted, this would keep every later run incremental: the reconcile would never come.
    forge(account, LOCATION, lambda data: data.update(reconciled=epoch(10 * YEAR)))
    clock.advance(DAY)
    with caplog.at_level(logging.WARNING, logger="rules.engine.checkpoint"):
        posted, _ = run(transcribe_job_output_location, LOCATION, GET_BOUND)
    assert {e["ComplianceResourceId"]: e["ComplianceType"] for e in posted} == {
        first: "COMPLIANT", missed: "NON_COMPLIANT"}
    assert "reconciled is after this run's time" in caplog.text
    saved = checkpoint(account, LOCATION)
    assert saved.reconciled is not None and saved.reconciled <= epoch()


FORGED: dict[str, tuple[Callable[[dict[str, Any]], Any], str]] = {
    "watermark yesterday": (lambda d: d.update(watermark="yesterday"), "watermark is not a number"),
    "watermark NaN": (lambda d: d.update(watermark=float("nan")), "watermark is not a finite number"),
    "watermark Infinity": (lambda d: d.update(watermark=float("inf")), "watermark is not a finite number"),
    "watermark 1e999": (lambda d: raw(d, "watermark", "1e999"), "watermark is not a finite number"),
    "watermark beyond any float": (lambda d: raw(d, "watermark", "9" * 400), "watermark is not a finite number"),
    "watermark before 1970": (lambda d: d.update(watermark=-1e20), "watermark is before 1970"),
    "watermark ahead": (lambda d: d.update(watermark=epoch(YEAR)), "watermark is after this run's time"),
    "watermark true": (lambda d: d.update(watermark=True), "watermark is not a number"),
    "floor text": (lambda d: d.update(floor="x"), "floor is not a number"),
    "floor ahead": (lambda d: d.update(floor=epoch(10 * YEAR)), "floor is after this run's time"),
    "reconciled a list": (lambda d: d.update(reconciled=[1]), "reconciled is not a number"),
    "full_next 0": (lambda d: d.update(full_next=0), "full_next is not true or false"),
    "reconcile_next text": (lambda d: d.update(reconcile_next="no"), "reconcile_next is not true or false"),
    "account_flagged text": (lambda d: d.update(account_flagged="yes"), "account_flagged is not true or false"),
    "version true": (lambda d: d.update(version=True), "version is not 1"),
    "version 1.0": (lambda d: d.update(version=1.0), "version is not 1"),
    "parameters a number": (lambda d: d.update(parameters=5), "parameters is not a string"),
    "an unknown field": (lambda d: d.update(extra=1), "the checkpoint has 1 unknown field"),
    "references not a map": (lambda d: d.update(references={"a": "yesterday"}), "a references entry"),
    "run not an object": (lambda d: d.update(run="x"), "run is not an object"),
    "run bogus mode": (lambda d: d.update(run=position(mode="sideways")), "run.mode is not one of"),
    "run references mode": (lambda d: d.update(run=position(mode="references")), "run.mode is not one of"),
    "run bogus kind": (lambda d: d.update(run=position(kind="bogus")), "run.kind is not a kind this rule lists"),
    "run kind of other rules": (lambda d: d.update(run=position(kind="vocabulary")), "run.kind is not a kind"),
    "run started text": (lambda d: d.update(run=position(started="yesterday")), "run.started is not a number"),
    "run started missing": (lambda d: d.update(run={k: v for k, v in position().items() if k != "started"}),
                            "run.started is missing"),
    "run started ahead": (lambda d: d.update(run=position(started=epoch(YEAR))), "run.started is after"),
    "run before text": (lambda d: d.update(run=position(before="x")), "run.before is not a number"),
    "run before ahead": (lambda d: d.update(run=position(before=epoch(YEAR))), "run.before is after"),
    "run floor ahead": (lambda d: d.update(run=position(floor=epoch(YEAR))), "run.floor is after"),
    "run token too long": (lambda d: d.update(run=position(token="t" * 3000)), "run.token is not a string"),
    "run token a number": (lambda d: d.update(run=position(token=5)), "run.token is not a string"),
    "run invocations 0": (lambda d: d.update(run=position(invocations=0)), "run.invocations is not a whole"),
    "run invocations 1.5": (lambda d: d.update(run=position(invocations=1.5)), "run.invocations is not a whole"),
    "run noncompliant -1": (lambda d: d.update(run=position(noncompliant=-1)), "run.noncompliant is not a whole"),
    "run unknown field": (lambda d: d.update(run=position(extra=1)), "run has 1 unknown field"),
    "nested too deep": (lambda d: "[" * 4000, "the value is not JSON"),
    "longer than a standard parameter": (lambda d: json.dumps(d) + " " * 4100, "at most 4096 bytes"),
}


@pytest.mark.parametrize("case", sorted(FORGED))
def test_a_forged_checkpoint_means_a_full_run_with_a_warning(case: str, account: Any, caplog: Any) -> None:
    change, problem = FORGED[case]
    deploy_rule(account, LOCATION)
    first = start(account, "first")
    run(transcribe_job_output_location, LOCATION, GET_BOUND)
    missed = missed_job(account)
    forge(account, LOCATION, change)
    clock.advance(DAY)
    with caplog.at_level(logging.INFO):  # the warning, and the run's summary line
        posted, _ = run(transcribe_job_output_location, LOCATION, GET_BOUND)  # no exception, no error answer
    # Nothing lost: the run is full, so the job no incremental run would see is judged too.
    assert {e["ComplianceResourceId"]: e["ComplianceType"] for e in posted} == {
        first: "COMPLIANT", missed: "NON_COMPLIANT"}
    assert f"checkpoint {parameter_name(ACCOUNT, REGION, LOCATION)} rejected" in caplog.text
    assert problem in caplog.text
    # The run's log names the problem, and the saved checkpoint is a good one again.
    summary = next(json.loads(r.getMessage()) for r in caplog.records if r.getMessage().startswith('{"rule"'))
    assert any("stored checkpoint was rejected" in p and problem in p for p in summary["problems"]), summary
    assert Checkpoint.from_json(account.client("ssm").get_parameter(Name=parameter_name(ACCOUNT, REGION, LOCATION))
                                ["Parameter"]["Value"], epoch()).watermark is not None


def test_a_bucket_rule_with_a_forged_checkpoint_reads_every_job_again(account: Any, caplog: Any) -> None:
    from rules import transcribe_bucket_encrypted
    rule = "transcribe-bucket-encrypted"
    deploy_rule(account, rule)
    start(account, "first")
    run(transcribe_bucket_encrypted, rule)
    account.client("s3").create_bucket(Bucket=ELSEWHERE)
    clock.advance(DAY)
    start(account, "second", OutputBucketName=ELSEWHERE)
    changes: list[tuple[Callable[[dict[str, Any]], Any], str]] = [
        # A watermark ahead would make every run read no job, so no new bucket would be judged.
        (lambda d: d.update(watermark=epoch(YEAR)), "watermark is after this run's time"),
        (lambda d: d["references"].update({f"media {AUDIO}": "yesterday"}), "a references entry is not"),
        (lambda d: d["references"].update({f"media {AUDIO}": ["x", []]}), "a references entry's time is not"),
        (lambda d: d["references"].update({f"media {AUDIO}": [epoch(YEAR), ["first"]]}),
         "a references entry's time is after"),
        (lambda d: d["references"].update({str(i): [0, []] for i in range(201)}), "references is not an object of"),
        (lambda d: d["references"].update({f"media {AUDIO}": [0, ["a", "b", "c", "d"]]}), "job names are not a list"),
        (lambda d: d["references"].update({f"media {AUDIO}": [0, ["a" * 201]]}), "job names are not a list"),
        (lambda d: d.update(run=position(mode="full")), "run.mode is not one of references"),
        (lambda d: d.update(run=position(mode="references", kind="")), "run.kind is not a kind"),
    ]
    for change, problem in changes:
        forge(account, rule, change)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="rules.engine.checkpoint"):
            posted, calls = run(transcribe_bucket_encrypted, rule)
        assert problem in caplog.text, problem
        assert gets(calls) == 2, problem  # both jobs read again, as on the first day
        assert {AUDIO, OUT, ELSEWHERE} <= set(ids(posted)), problem


def test_a_checkpoint_round_trips_and_a_bad_one_names_its_field() -> None:
    from rules.engine.checkpoint import Position
    saved = Checkpoint(parameters="p", watermark=10.0, floor=5.0, reconciled=10.0, references={"b": [9.0, ["j"]]},
                       run=Position("reconcile", 11.0, "transcription-job", 8.0, "t", 4.0, 2, 3))
    assert Checkpoint.from_json(saved.to_json(), now=11.0) == saved
    with pytest.raises(CheckpointError, match="run.started is after this run's time"):
        Checkpoint.from_json(saved.to_json(), now=10.5)
    with pytest.raises(CheckpointError, match="run.mode is not one of full, incremental"):
        Checkpoint.from_json(saved.to_json(), now=11.0, modes=("full", "incremental"))
    with pytest.raises(CheckpointError, match="run.kind is not a kind this rule lists"):
        Checkpoint.from_json(saved.to_json(), now=11.0, kinds=("", "vocabulary"))
    # The message names the field, never the stored value.
    with pytest.raises(CheckpointError) as caught:
        Checkpoint.from_json(json.dumps({**json.loads(saved.to_json()), "watermark": "\x1b[2Kforged"}), now=11.0)
    assert str(caught.value) == "watermark is not a number"


# Property tests: any JSON value (or text) stored as the checkpoint. Half of the examples are the
# real checkpoint with one to four fields replaced, mostly by a value of the right shape, else by
# any JSON value (NaN, Infinity, integers beyond any float included); the rest any JSON value or
# text. Examples: 300 parsed, 25 through the rule's handler.
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(10**300, 10**310) | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8)
CHECKPOINT_FIELDS = ("version", "parameters", "watermark", "floor", "reconciled", "full_next", "reconcile_next",
                     "account_flagged", "run", "references", "extra")
JOB_KIND_KEYS = [kind.key for kind in JOB_KINDS]


@st.composite
def stored_values(draw: st.DrawFn, real: dict[str, Any], latest: float) -> str:
    """What someone able to write the parameter could store (times of the right shape are at or
    before ``latest``)."""
    shape = draw(st.sampled_from(["text", "json", "shaped", "shaped"]))
    if shape == "text":
        return draw(st.text(min_size=1, max_size=30).filter(lambda t: "{{" not in t))  # SSM refuses {{ }}
    if shape == "json":
        return json.dumps(draw(ANY_JSON))
    times = st.floats(0, latest) | st.integers(0, int(latest))

    def either(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        """Mostly ``good``, a quarter of the time any JSON value."""
        return st.integers(0, 3).flatmap(lambda n: ANY_JSON if n == 3 else good)

    run = st.fixed_dictionaries(
        {"mode": either(st.sampled_from(MODES)), "started": either(times),
         "kind": either(st.sampled_from(["", "vocabulary", *JOB_KIND_KEYS]))},
        optional={"before": either(st.none() | times), "floor": either(st.none() | times),
                  "token": either(st.none() | st.text(max_size=10) | st.just("t" * 3000)),
                  "noncompliant": either(st.integers(0, 5)), "invocations": either(st.integers(1, 5))})
    references = st.dictionaries(st.text(min_size=1, max_size=10),
                                 st.tuples(times, st.lists(st.text(min_size=1, max_size=5), max_size=3)).map(list),
                                 max_size=3)
    good: dict[str, st.SearchStrategy[Any]] = {
        "version": st.just(1), "parameters": st.just(real["parameters"]), "watermark": st.none() | times,
        "floor": st.none() | times, "reconciled": st.none() | times, "full_next": st.booleans(),
        "reconcile_next": st.booleans(), "account_flagged": st.booleans(), "run": st.none() | run,
        "references": st.none() | references, "extra": st.nothing()}
    data = dict(real)
    for key in draw(st.lists(st.sampled_from(CHECKPOINT_FIELDS), min_size=1, max_size=4, unique=True)):
        data[key] = draw(either(good[key]))
    return json.dumps(data)


def parsed(text: str, now: float) -> Checkpoint | None:
    """``text`` as a ResourceRule over JOB_KINDS loads it at ``now``, or None when rejected."""
    try:
        return Checkpoint.from_json(text, now, modes=("full", "incremental", "reconcile"), kinds=["", *JOB_KIND_KEYS])
    except CheckpointError as error:
        assert str(error) and "\n" not in str(error)
        return None


REAL = json.loads(Checkpoint(parameters="0123456789abcdef", watermark=1e9, floor=9e8, reconciled=1e9).to_json())


@examples(300)
@given(stored_values(REAL, 1.5e9))
def test_any_stored_value_is_rejected_clearly_or_is_a_checkpoint_within_bounds(text: str) -> None:
    now = 1.6e9
    loaded = parsed(text, now)  # never any other exception
    hypothesis.event("rejected" if loaded is None else "accepted")
    if loaded is None:
        return
    times = [loaded.watermark, loaded.floor, loaded.reconciled]
    if loaded.run is not None:
        times += [loaded.run.started, loaded.run.before, loaded.run.floor]
        assert loaded.run.mode in ("full", "incremental", "reconcile") and loaded.run.kind in ["", *JOB_KIND_KEYS]
        assert loaded.run.token is None or len(loaded.run.token) <= 2048
        assert type(loaded.run.invocations) is int and loaded.run.invocations >= 1
    times += [entry[0] for entry in (loaded.references or {}).values()]
    assert all(t is None or (type(t) is float and 0 <= t <= now) for t in times), times
    assert all(type(flag) is bool for flag in (loaded.full_next, loaded.reconcile_next, loaded.account_flagged))
    assert parsed(loaded.to_json(), now) == loaded  # what is accepted is what would be saved


def test_any_stored_checkpoint_never_crashes_a_run_or_hides_a_new_job(account: Any) -> None:
    deploy_rule(account, LOCATION)
    start(account, "first")
    run(transcribe_job_output_location, LOCATION, GET_BOUND)
    ssm, name = account.client("ssm"), parameter_name(ACCOUNT, REGION, LOCATION)
    real = json.loads(ssm.get_parameter(Name=name)["Parameter"]["Value"])
    latest = epoch()  # every time of the right shape drawn is at or before the first run
    new = itertools.count()

    @examples(25)
    @given(stored_values(real, latest))
    def check(text: str) -> None:
        ssm.put_parameter(Name=name, Value=text, Type="String", Overwrite=True,
                          Tier="Advanced" if len(text) > 4096 else "Standard")
        clock.advance(dt.timedelta(minutes=5))
        job = start(account, f"new-{next(new)}")  # created after every time the stored value holds
        posted, _ = run(transcribe_job_output_location, LOCATION, GET_BOUND)  # answers a list: no crash
        loaded = parsed(text, epoch())  # at or after the run's time: accepts whatever the run accepted
        hypothesis.event("rejected" if loaded is None else "accepted, a run" if loaded.run else "accepted")
        # A stored run position says which jobs an earlier invocation judged, and is believed if
        # well formed (the reconcile is the safety net); otherwise the new job must be judged.
        if loaded is None or loaded.run is None:
            assert job in ids(posted), text
        saved = parsed(ssm.get_parameter(Name=name)["Parameter"]["Value"], epoch())
        assert saved is not None and saved.run is None and saved.watermark is not None

    check()


# --- the deadline ------------------------------------------------------------------------------

def test_runs_cut_short_by_the_deadline_resume_and_cover_every_job(account: Any) -> None:
    deploy_rule(account, LOCATION)
    names = bulk.seed_jobs(account.transcribe, "transcription-job", 1500, request={"OutputBucketName": OUT},
                           created_at=lambda i: clock.now() - dt.timedelta(hours=2) + dt.timedelta(seconds=i))
    judged: Counter[str] = Counter()
    invocations = 0
    while True:
        invocations += 1
        assert invocations < 200, "the run never completes"
        posted, _ = run(transcribe_job_output_location, LOCATION, GET_BOUND, FakeContext(800))
        judged.update(ids(posted))
        clock.advance(dt.timedelta(seconds=30))
        if checkpoint(account, LOCATION).run is None:
            break
    assert invocations > 1
    assert set(judged) == {f"{ARN}/{name}" for name in names}  # loss never
    assert len(stored_verdicts(account, LOCATION)) == 1500
    # The next day's run finds nothing new to judge.
    clock.advance(DAY)
    posted, _ = run(transcribe_job_output_location, LOCATION, GET_BOUND)
    assert posted == []
    # A week on, the reconcile: every job has a result, so it only lists, and a short deadline
    # splits its listing over invocations that each progress.
    clock.advance(7 * DAY)
    reconcile_gets, invocations = 0, 0
    while True:
        invocations += 1
        assert invocations < 200, "the reconcile never completes"
        posted, calls = run(transcribe_job_output_location, LOCATION, GET_BOUND, FakeContext(20))
        reconcile_gets += gets(calls)
        assert posted == []
        if checkpoint(account, LOCATION).run is None:
            break
    assert invocations > 1 and reconcile_gets == 0


# --- summary mode --------------------------------------------------------------------------------

def test_summary_mode_posts_noncompliant_resources_and_one_account_result(account: Any) -> None:
    deploy_rule(account, TAGGED)
    parameters = {"RequiredTags": "CostCenter", "ResourceKinds": "transcription-job", "ReportingMode": "summary"}
    start(account, "ok", tags={"CostCenter": "1"})
    bad = [start(account, f"bad-{index}") for index in range(2)]
    run(transcribe_resource_tagged, TAGGED, parameters)
    assert stored_verdicts(account, TAGGED) == {bad[0]: "NON_COMPLIANT", bad[1]: "NON_COMPLIANT",
                                                ACCOUNT: "NON_COMPLIANT"}

    clock.advance(DAY)
    account.client("transcribe").tag_resource(ResourceArn=bad[0], Tags=[{"Key": "CostCenter", "Value": "2"}])
    start(account, "also-ok", tags={"CostCenter": "3"})
    clock.advance(dt.timedelta(hours=1))
    posted, _ = run(transcribe_resource_tagged, TAGGED, parameters)
    assert [(e["ComplianceResourceId"], e["ComplianceType"]) for e in posted] == [
        (bad[0], "NOT_APPLICABLE"), (ACCOUNT, "NON_COMPLIANT")]
    assert posted[-1]["Annotation"].startswith("1 resource is NON_COMPLIANT")
    assert stored_verdicts(account, TAGGED) == {bad[0]: "NOT_APPLICABLE", bad[1]: "NON_COMPLIANT",
                                                ACCOUNT: "NON_COMPLIANT"}


def test_scan_applies_summary_mode_too() -> None:
    from rules.engine.incremental import summarized
    from rdklib import ComplianceType, Evaluation
    evaluations = [Evaluation(ComplianceType.COMPLIANT, "a", "AWS::::Account", "ok"),
                   Evaluation(ComplianceType.NON_COMPLIANT, "b", "AWS::::Account", "bad")]
    result = summarized(evaluations, ACCOUNT)
    assert [(e.complianceResourceId, e.complianceType) for e in result] == [("b", "NON_COMPLIANT"),
                                                                            (ACCOUNT, "NON_COMPLIANT")]


# --- pacing ------------------------------------------------------------------------------------

def test_the_rate_limiter_paces_each_operation_to_its_rate() -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    limiter = RateLimiter({"get_transcription_job": 10, "list_transcription_jobs": 2}, clock=lambda: now[0],
                          sleep=sleep)
    for _ in range(30):
        limiter.acquire("get_transcription_job")
    # A burst of one second's worth, then one call every 0.1 s.
    assert now[0] == pytest.approx(2.0)
    limiter.acquire("describe_anything")  # not paced
    assert now[0] == pytest.approx(2.0)
    for _ in range(4):
        limiter.acquire("list_transcription_jobs")
    assert now[0] == pytest.approx(3.0)


def test_ordered_map_keeps_order_bounds_the_window_and_stops() -> None:
    import threading
    running, peak, lock = [0], [0], threading.Lock()

    def work(item: int) -> int:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        import time
        time.sleep(0.005)
        with lock:
            running[0] -= 1
        return item * item

    assert list(ordered_map(work, range(40), workers=4)) == [(i, i * i) for i in range(40)]
    assert 1 < peak[0] <= 4
    started: list[int] = []
    results = list(ordered_map(lambda i: started.append(i) or i, range(100), workers=2, stop=lambda: len(started) >= 5))
    assert [item for item, _ in results] == list(range(len(results))) and len(results) <= 10


def test_quota_scale_must_be_a_positive_number(monkeypatch: Any) -> None:
    from rules.engine.pacing import quota_scale
    monkeypatch.setenv("TRANSCRIBE_GUARD_QUOTA_SCALE", "fast")
    with pytest.raises(ValueError, match="TRANSCRIBE_GUARD_QUOTA_SCALE must be a number"):
        quota_scale()
    monkeypatch.setenv("TRANSCRIBE_GUARD_QUOTA_SCALE", "0")
    with pytest.raises(ValueError, match="must be positive"):
        quota_scale()


def test_checkpoint_round_trip_drops_an_oversized_token() -> None:
    from rules.engine.checkpoint import Position
    saved = Checkpoint(parameters="p", watermark=1.0, run=Position("full", 1.0, "transcription-job", 0.5, "t" * 5000))
    loaded = Checkpoint.from_json(saved.to_json())
    assert loaded.run is not None and loaded.run.token is None and loaded.run.before == 0.5
    assert json.loads(saved.to_json())["version"] == 1
    with pytest.raises(ValueError):
        Checkpoint.from_json(json.dumps({"version": 99}))


# --- rules judging what jobs name: buckets, keys, roles (rules/inventory/job_references.py) ----------------

def test_bucket_rules_read_only_new_jobs_and_remember_earlier_buckets(account: Any) -> None:
    from rules import transcribe_bucket_encrypted
    rule = "transcribe-bucket-encrypted"
    deploy_rule(account, rule)
    for index in range(5):
        start(account, f"call-{index}")
    posted, calls = run(transcribe_bucket_encrypted, rule)
    assert gets(calls) == 5 and {AUDIO, OUT} <= set(ids(posted))

    account.client("s3").create_bucket(Bucket="acme-new-output")
    clock.advance(DAY)
    start(account, "call-new", OutputBucketName="acme-new-output")
    posted, calls = run(transcribe_bucket_encrypted, rule)
    assert gets(calls) == 1  # only the new job
    assert {AUDIO, OUT, "acme-new-output"} <= set(ids(posted))  # earlier buckets are remembered

    # 91 days on, the records that named the buckets are gone, and so is the reason to judge them.
    clock.advance(91 * DAY)
    assert bulk.expire_records(account.transcribe) == 6
    posted, calls = run(transcribe_bucket_encrypted, rule)
    assert gets(calls) == 0
    assert {e["ComplianceResourceId"]: e["ComplianceType"] for e in posted if e["ComplianceResourceId"] in
            (AUDIO, OUT, "acme-new-output")} == {AUDIO: "NOT_APPLICABLE", OUT: "NOT_APPLICABLE",
                                                 "acme-new-output": "NOT_APPLICABLE"}


def test_a_failed_job_read_makes_the_next_run_read_the_window_again(account: Any) -> None:
    from rules import transcribe_data_access_role
    rule = "transcribe-data-access-role"
    deploy_rule(account, rule)
    start(account, "first")
    run(transcribe_data_access_role, rule)
    clock.advance(DAY)
    start(account, "second")
    with denied("GetTranscriptionJob"):
        response, posted = run_handler(transcribe_data_access_role.lambda_handler, periodic_event(rule))
    assert [e["ComplianceType"] for e in posted if e["ComplianceResourceId"].endswith("/second")] == ["NON_COMPLIANT"]
    clock.advance(DAY)
    _, calls = run(transcribe_data_access_role, rule)
    assert calls["transcribe.GetTranscriptionJob"] == 1  # "second" again, not "first"


def test_a_bucket_rule_cut_short_by_the_deadline_resumes_and_keeps_earlier_results(account: Any) -> None:
    from rules import transcribe_bucket_encrypted
    rule = "transcribe-bucket-encrypted"
    deploy_rule(account, rule)
    start(account, "first")
    run(transcribe_bucket_encrypted, rule)
    assert {stored_verdicts(account, rule)[b] for b in (AUDIO, OUT)} <= {"COMPLIANT", "NON_COMPLIANT"}

    account.client("s3").create_bucket(Bucket="acme-third")
    clock.advance(DAY)
    bulk.seed_jobs(account.transcribe, "transcription-job", 400, request={"OutputBucketName": "acme-third"},
                   created_at=lambda i: clock.now() - dt.timedelta(minutes=30) + dt.timedelta(seconds=i))
    invocations, read, lists = 0, 0, 0
    while True:
        invocations += 1
        assert invocations < 100, "the run never completes"
        _, calls = run(transcribe_bucket_encrypted, rule, context=FakeContext(700))
        read += gets(calls)
        lists += calls["transcribe.ListTranscriptionJobs"]
        verdicts = stored_verdicts(account, rule)
        assert verdicts[AUDIO] != "NOT_APPLICABLE" and verdicts[OUT] != "NOT_APPLICABLE"  # kept meanwhile
        if checkpoint(account, rule).run is None:
            break
    assert invocations > 1
    assert read < 400 + 10 * invocations  # each job read about once (an invocation may re-read a few)
    assert lists <= 5 + invocations  # resumed at the saved page, not listed again from the newest
    assert stored_verdicts(account, rule)["acme-third"] in ("COMPLIANT", "NON_COMPLIANT")


def test_a_job_tagged_then_deleted_is_retired_as_deleted_without_reading_it(account: Any) -> None:
    deploy_rule(account, TAGGED)
    parameters = {"RequiredTags": "CostCenter", "ResourceKinds": "transcription-job"}
    job = start(account, "short-lived")
    run(transcribe_resource_tagged, TAGGED, parameters)
    clock.advance(DAY)
    transcribe = account.client("transcribe")
    transcribe.tag_resource(ResourceArn=job, Tags=[{"Key": "CostCenter", "Value": "1"}])
    clock.advance(dt.timedelta(minutes=5))
    transcribe.delete_transcription_job(TranscriptionJobName="short-lived")
    posted, calls = run(transcribe_resource_tagged, TAGGED, parameters)
    assert [(e["ComplianceResourceId"], e["Annotation"]) for e in posted] == [
        (job, "Retired: the transcription job was deleted.")]
    assert gets(calls) == 0
