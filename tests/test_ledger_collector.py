"""The ledger's collector (rules/engine/collector.py) on an empty simulated account: one Get per
job, a missed event found by the sweep, deletes and tag changes followed, TTL expiry, and nothing
lost under throttling."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from rules.engine.collector import Collector, Deadline
from rules.inventory.ledger import LedgerInventory, LedgerStore
from rules.inventory.transcribe import TRANSCRIPTION_JOB, ListingError
from tests.helpers import ACCOUNT, REGION, put_media
from transcribe_guard.simulator import Simulator, clock, faults
from transcribe_guard.simulator import ledger as sim_ledger

TABLE = "transcribe-guard-ledger"


def collector(sim: Any, **kwargs: Any) -> Collector:
    # One attempt per call: the collector's own backoff is under test, not the SDK's (whose real sleeps are slow).
    transcribe = boto3.client("transcribe", region_name=REGION,
                              config=Config(retries={"mode": "standard", "max_attempts": 1}))
    kwargs.setdefault("clock", lambda: clock.now().timestamp())  # the simulated account's time, as the rules'
    return Collector(transcribe, LedgerStore(sim.client("dynamodb"), TABLE), ACCOUNT, **kwargs)


# --- the collector ----------------------------------------------------------------------------------


@pytest.fixture
def account() -> Iterator[Any]:
    with Simulator(seed="empty", region=REGION) as simulator:
        sim_ledger.create_table(simulator.client("dynamodb"), TABLE)
        put_media(simulator, "media", ["a.wav"])  # so that jobs complete rather than fail
        yield simulator


def start(sim: Any, name: str, **extra: Any) -> None:
    sim.client("transcribe").start_transcription_job(
        TranscriptionJobName=name, LanguageCode="en-US", Media={"MediaFileUri": "s3://media/a.wav"},
        Tags=[{"Key": "CostCenter", "Value": "cc"}], **extra)


def recorded(sim: Any) -> dict[str, Any]:
    inventory = LedgerInventory(LedgerStore(sim.client("dynamodb"), TABLE), ACCOUNT, REGION,
                                clock=lambda: clock.now().timestamp())
    return {r.name: inventory.detail(r) for r in inventory.resources(TRANSCRIPTION_JOB)}


def state_change(name: str) -> dict[str, Any]:
    return {"source": "aws.transcribe", "detail-type": "Transcribe Job State Change", "account": ACCOUNT,
            "detail": {"TranscriptionJobName": name, "TranscriptionJobStatus": "COMPLETED"}}


def test_events_record_each_job_with_one_get_and_a_missed_event_is_swept(account: Any) -> None:
    collector(account).sweep()  # the watermark
    start(account, "announced")
    start(account, "missed")  # its event never arrives
    first = collector(account)
    first.handle(state_change("announced"))
    first.handle(state_change("announced"))  # delivered twice
    assert first.stats.gets == 1 and set(recorded(account)) == {"announced"}
    sweep = collector(account)
    sweep.handle({"detail-type": "Scheduled Event", "source": "aws.events", "account": ACCOUNT})
    assert set(recorded(account)) == {"announced", "missed"}
    assert sweep.stats.gets == 1  # only the missed job is read
    assert recorded(account)["missed"]["Media"]["MediaFileUri"] == "s3://media/a.wav"
    assert recorded(account)["missed"]["Transcript"]["TranscriptFileUri"]  # it completed, and the ledger says where
    again = collector(account)
    again.sweep()
    assert again.stats.gets == 0


def test_a_deleted_job_is_retired_and_tags_follow_their_events(account: Any) -> None:
    start(account, "kept")
    start(account, "deleted")
    collector(account).sweep()
    transcribe = account.client("transcribe")
    arn = f"arn:aws:transcribe:{REGION}:{ACCOUNT}:transcription-job/kept"
    transcribe.tag_resource(ResourceArn=arn, Tags=[{"Key": "Owner", "Value": "ops"}])
    transcribe.delete_transcription_job(TranscriptionJobName="deleted")
    events = collector(account)
    for name, request in (("TagResource", {"resourceArn": arn}), ("DeleteTranscriptionJob", {"transcriptionJobName": "deleted"})):
        events.handle({"detail-type": "AWS API Call via CloudTrail", "account": ACCOUNT, "detail": {
            "eventSource": "transcribe.amazonaws.com", "eventName": name, "requestParameters": request}})
    # The delete is confirmed by one Get answering "not found" (a failed delete is recorded too).
    assert set(recorded(account)) == {"kept"} and events.stats.gets == 1
    inventory = LedgerInventory(LedgerStore(account.client("dynamodb"), TABLE), ACCOUNT, REGION)
    [kept] = inventory.resources(TRANSCRIPTION_JOB)
    assert inventory.tags(kept) == {"CostCenter": "cc", "Owner": "ops"}


def test_ttl_expiry_retires_the_record(account: Any) -> None:
    start(account, "old")
    collector(account).sweep()
    clock.advance(dt.timedelta(days=96))
    assert sim_ledger.expire(account.client("dynamodb"), TABLE) == 0  # 90 days + the margin not yet over
    clock.advance(dt.timedelta(days=2))
    assert sim_ledger.expire(account.client("dynamodb"), TABLE) == 1
    collector(account).sweep()
    assert recorded(account) == {}


def test_a_job_past_the_record_retention_is_no_longer_offered_though_its_record_stays(account: Any) -> None:
    start(account, "old")
    collector(account).sweep()
    start(account, "newer")
    clock.advance(dt.timedelta(days=45))
    collector(account).sweep()
    inventory = LedgerInventory(LedgerStore(account.client("dynamodb"), TABLE), ACCOUNT, REGION,
                                clock=lambda: clock.now().timestamp())
    assert {r.name for r in inventory.resources(TRANSCRIPTION_JOB)} == {"newer", "old"}
    clock.advance(dt.timedelta(days=45, minutes=1))
    collector(account).sweep()  # the hourly sweeps go on (a ledger unswept for a day is not trusted)
    # Transcribe has deleted both records (90 days after creation): List would show neither, nor does the ledger,
    # whose records stay until their TTL (a week more), so that a reconcile retires the results on time.
    assert [r.name for r in LedgerInventory(LedgerStore(account.client("dynamodb"), TABLE), ACCOUNT, REGION,
                                            clock=lambda: clock.now().timestamp()).resources(TRANSCRIPTION_JOB)] == []
    assert sim_ledger.expire(account.client("dynamodb"), TABLE) == 0


def test_a_job_record_without_a_creation_time_is_still_offered(account: Any) -> None:
    from rules.inventory.ledger import make_record

    collector(account).sweep()
    store = LedgerStore(account.client("dynamodb"), TABLE)
    summary = {"TranscriptionJobName": "undated", "TranscriptionJobStatus": "COMPLETED"}  # no CreationTime
    store.put(make_record(TRANSCRIPTION_JOB, ACCOUNT, REGION, "aws", "undated", summary, {}, {}, clock.now().timestamp()))
    inventory = LedgerInventory(store, ACCOUNT, REGION, clock=lambda: clock.now().timestamp())
    # Its sort key says creation time 0: not taken as past the 90-day retention, so a rule still judges it.
    assert [r.name for r in inventory.resources(TRANSCRIPTION_JOB)] == ["undated"]


def test_the_collector_under_throttling_loses_nothing(account: Any) -> None:
    names = [f"call-{i}" for i in range(6)]
    for name in names:
        start(account, name)
    naps: list[float] = []
    with faults.injected(faults.THROTTLING, "GetTranscriptionJob", resource="call-2", times=3):
        throttled = collector(account, sleep=naps.append)
        throttled.sweep()
    assert throttled.stats.throttled > 0 and naps and set(recorded(account)) == set(names)
    assert throttled.stats.gets == len(names)


def test_throttled_to_the_deadline_the_job_waits_for_the_next_sweep(account: Any) -> None:
    start(account, "stuck")
    moments = iter(range(1_000_000))

    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 2_000

    with faults.injected(faults.THROTTLING, "GetTranscriptionJob"):  # persistent
        late = collector(account, deadline=Deadline(Context(), clock=lambda: float(next(moments))),
                         sleep=lambda _: None)
        late.sweep()
    assert late.stats.deferred >= 1 and not late.stats.swept["transcription-job"]
    store = LedgerStore(account.client("dynamodb"), TABLE)
    assert store.by_arn(f"arn:aws:transcribe:{REGION}:{ACCOUNT}:transcription-job/stuck") is None  # no half record
    with pytest.raises(ListingError, match="LedgerNotSwept"):  # nor is the empty ledger taken as "no jobs"
        recorded(account)
    collector(account).sweep()
    assert set(recorded(account)) == {"stuck"}


def test_an_unfinished_job_is_recorded_without_a_get_and_read_once_it_finishes(account: Any) -> None:
    account.transcribe.hold_jobs = True  # type: ignore[attr-defined]
    start(account, "running")
    sweep = collector(account)
    sweep.sweep()
    assert sweep.stats.gets == 0
    inventory = LedgerInventory(LedgerStore(account.client("dynamodb"), TABLE), ACCOUNT, REGION)
    [running] = inventory.resources(TRANSCRIPTION_JOB)
    assert running.status == "IN_PROGRESS"
    with pytest.raises(ClientError, match="NotInLedger"):
        inventory.detail(running)


def test_the_simulated_transcribe_sends_state_change_events_the_collector_takes(account: Any) -> None:
    events, sqs = account.client("events"), account.client("sqs")
    queue = sqs.create_queue(QueueName="collector")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="ledger", EventPattern=json.dumps({
        "source": ["aws.transcribe"], "detail-type": ["Transcribe Job State Change", "Call Analytics Job State Change"],
        "detail": {"TranscriptionJobStatus": ["COMPLETED", "FAILED"]}}))
    events.put_targets(Rule="ledger", Targets=[{"Id": "queue", "Arn": queue_arn}])
    collector(account).sweep()  # the watermark
    start(account, "delivered")
    [message] = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    event = json.loads(message["Body"])
    assert event["detail-type"] == "Transcribe Job State Change" and event["source"] == "aws.transcribe"
    assert event["detail"] == {"TranscriptionJobName": "delivered", "TranscriptionJobStatus": "COMPLETED"}
    taken = collector(account)
    taken.handle(event)
    assert taken.stats.gets == 1 and set(recorded(account)) == {"delivered"}


def test_a_function_run_reads_the_ledger_and_ttl_expiry_retires_its_result(account: Any, monkeypatch: Any) -> None:
    from rules.transcribe_job_output_location import lambda_handler
    from tests.helpers import deploy_rule, periodic_event, stored_verdicts

    rule = "transcribe-job-output-location"
    arn = f"arn:aws:transcribe:{REGION}:{ACCOUNT}:transcription-job/"
    monkeypatch.setenv("TRANSCRIBE_GUARD_LEDGER_TABLE", TABLE)
    collector(account).sweep()  # the watermark
    start(account, "recorded", OutputBucketName="media")  # a bucket of the account's own: COMPLIANT
    start(account, "unrecorded")
    collector(account).handle(state_change("recorded"))  # the other job's event is still to come
    deploy_rule(account, rule)
    lambda_handler(periodic_event(rule), None)
    # Judged from the ledger: the recorded job by its record, the other not listed at all yet.
    assert stored_verdicts(account, rule) == {arn + "recorded": "COMPLIANT"}
    clock.advance(dt.timedelta(days=98))
    assert sim_ledger.expire(account.client("dynamodb"), TABLE) == 1
    collector(account).sweep()  # the hourly sweeps went on
    lambda_handler(periodic_event(rule), None)
    assert stored_verdicts(account, rule) == {arn + "recorded": "NOT_APPLICABLE"}  # retired with its record


def test_the_collector_handler_sweeps_on_its_schedule_and_refuses_to_run_without_a_table(
        account: Any, monkeypatch: Any) -> None:
    from rules.engine.collector import lambda_handler

    start(account, "scheduled")
    monkeypatch.delenv("TRANSCRIBE_GUARD_LEDGER_TABLE", raising=False)
    with pytest.raises(ValueError, match="TRANSCRIBE_GUARD_LEDGER_TABLE is not set"):
        lambda_handler({"detail-type": "Scheduled Event", "account": ACCOUNT}, None)
    monkeypatch.setenv("TRANSCRIBE_GUARD_LEDGER_TABLE", TABLE)
    monkeypatch.setenv("TRANSCRIBE_GUARD_LEDGER_GET_SHARE", "1.5")
    with pytest.raises(ValueError, match="GET_SHARE must be above 0 and at most 1, not '1.5'"):
        lambda_handler({"detail-type": "Scheduled Event", "account": ACCOUNT}, None)
    monkeypatch.setenv("TRANSCRIBE_GUARD_LEDGER_GET_SHARE", "0.2")
    answer = lambda_handler({"detail-type": "Scheduled Event", "source": "aws.events", "account": ACCOUNT}, None)
    assert answer["written"] == 1 and answer["gets"] == 1 and answer["problems"] == []
    assert set(recorded(account)) == {"scheduled"}


def test_a_job_the_sweep_records_late_is_judged_by_the_next_incremental_run(account: Any, monkeypatch: Any) -> None:
    from rules.transcribe_job_output_location import lambda_handler
    from tests.helpers import deploy_rule, periodic_event, stored_verdicts

    rule = "transcribe-job-output-location"
    monkeypatch.setenv("TRANSCRIBE_GUARD_LEDGER_TABLE", TABLE)
    collector(account).sweep()  # the watermark
    start(account, "late", OutputBucketName="media")  # finished now; its event is lost
    deploy_rule(account, rule)
    clock.advance(dt.timedelta(hours=1))
    lambda_handler(periodic_event(rule), None)  # the first (full) run: the ledger has no record yet
    assert stored_verdicts(account, rule) == {}
    clock.advance(dt.timedelta(hours=1))
    collector(account, clock=lambda: clock.now().timestamp()).sweep()  # an hour after the job finished
    clock.advance(dt.timedelta(hours=1))
    lambda_handler(periodic_event(rule), None)  # incremental: the job finished before its watermark
    assert stored_verdicts(account, rule) == {f"arn:aws:transcribe:{REGION}:{ACCOUNT}:transcription-job/late": "COMPLIANT"}


def test_jobs_recorded_late_beyond_the_first_page_are_all_judged_by_the_next_run(account: Any, monkeypatch: Any) -> None:
    from rules.transcribe_job_output_location import lambda_handler
    from tests.helpers import deploy_rule, periodic_event, stored_verdicts
    from transcribe_guard.simulator.bulk import seed_jobs

    rule = "transcribe-job-output-location"
    monkeypatch.setenv("TRANSCRIBE_GUARD_LEDGER_TABLE", TABLE)
    now = lambda: clock.now().timestamp()  # noqa: E731
    collector(account, clock=now).sweep()  # the collector has swept (an empty account)
    deploy_rule(account, rule)
    lambda_handler(periodic_event(rule), None)  # the first (full) run
    clock.advance(dt.timedelta(hours=1))
    # 150 jobs (more than a page of the ledger) finish over the hour; their events are lost.
    names = seed_jobs(account.transcribe, "transcription-job", 150,
                      created_at=lambda i: clock.now() - dt.timedelta(minutes=10 + i // 3),
                      request={"OutputBucketName": "media"}, name_prefix="late")
    lambda_handler(periodic_event(rule), None)  # incremental: the ledger has none of them yet
    assert stored_verdicts(account, rule) == {}
    collector(account, clock=now).sweep()  # records them all, created long before this run
    clock.advance(dt.timedelta(hours=1))
    lambda_handler(periodic_event(rule), None)  # lists back to where the collector had recorded everything
    arn = f"arn:aws:transcribe:{REGION}:{ACCOUNT}:transcription-job/"
    assert stored_verdicts(account, rule) == {arn + name: "COMPLIANT" for name in names}


def test_resource_mode_retires_an_expired_jobs_result_the_day_its_record_goes(account: Any, monkeypatch: Any) -> None:
    from rules.transcribe_job_output_location import lambda_handler
    from tests.helpers import deploy_rule, periodic_event, stored_verdicts

    rule, arn = "transcribe-job-output-location", f"arn:aws:transcribe:{REGION}:{ACCOUNT}:transcription-job/aging"
    monkeypatch.setenv("TRANSCRIBE_GUARD_LEDGER_TABLE", TABLE)
    start(account, "aging", OutputBucketName="media")
    collector(account, clock=lambda: clock.now().timestamp()).sweep()
    deploy_rule(account, rule)
    parameters = {"ReconciliationDays": "90"}  # no reconcile before the record goes: the daily run retires it
    for advance, verdict in ((dt.timedelta(hours=1), "COMPLIANT"),  # the first (full) run
                             (dt.timedelta(days=89), "COMPLIANT"),  # incremental, the record 89 days old
                             (dt.timedelta(days=1, minutes=-30), "NOT_APPLICABLE")):  # 90 days and 30 minutes
        clock.advance(advance)
        collector(account).sweep()  # the hourly sweeps go on
        lambda_handler(periodic_event(rule, parameters), None)
        assert stored_verdicts(account, rule) == {arn: verdict}
    assert sim_ledger.expire(account.client("dynamodb"), TABLE) == 0  # retired before the record's TTL


def test_the_collector_paces_at_its_share_of_the_applied_quota(account: Any, monkeypatch: Any) -> None:
    from rules.engine import collector as collector_module
    from transcribe_guard.simulator.service_quotas import raise_quota

    monkeypatch.setenv("TRANSCRIBE_GUARD_LEDGER_TABLE", TABLE)
    monkeypatch.setenv("TRANSCRIBE_GUARD_QUOTA_SCALE", "1")
    event = {"detail-type": "Scheduled Event", "account": ACCOUNT}
    assert collector_module.lambda_handler(event, None)["get_transcription_job_tps"] == round(30 * 0.2 * 0.95, 3)
    raise_quota(ACCOUNT, REGION, "GetTranscriptionJob", 100)
    assert collector_module.lambda_handler(event, None)["get_transcription_job_tps"] == round(100 * 0.2 * 0.95, 3)


def test_reconcile_and_summary_runs_read_the_ledger_not_transcribe(account: Any, monkeypatch: Any) -> None:
    from rules.transcribe_job_output_location import lambda_handler
    from tests.helpers import deploy_rule, periodic_event, stored_verdicts
    from transcribe_guard.iam_actions import recording

    rule = "transcribe-job-output-location"
    monkeypatch.setenv("TRANSCRIBE_GUARD_LEDGER_TABLE", TABLE)
    start(account, "kept", OutputBucketName="media")
    start(account, "service")  # output in the service bucket: NON_COMPLIANT
    collector(account).sweep()
    deploy_rule(account, rule)
    for days, mode in ((0, "resource"), (8, "resource"), (16, "summary")):  # full, reconcile, summary reconcile
        clock.advance(dt.timedelta(days=days))
        collector(account).sweep()  # the hourly sweeps go on
        with recording() as recorder:
            lambda_handler(periodic_event(rule, {"ReportingMode": mode}), None)
        assert "dynamodb:Query" in recorder.actions
        assert not {a for a in recorder.actions if a.startswith("transcribe:")}, (days, mode)
    assert stored_verdicts(account, rule)[f"arn:aws:transcribe:{REGION}:{ACCOUNT}:transcription-job/service"] == \
        "NON_COMPLIANT"


def test_the_longest_names_and_widest_tags_go_through_the_collector_whole(account: Any) -> None:
    from tests.hostile_values import SYNTAX, UNSAFE

    name = "n" * 200  # TranscriptionJobName's maximum
    key = "k/" + "é" * 120
    media = "s3://media/" + "a" * 900 + ".wav"
    put_media(account, "media", [media.removeprefix("s3://media/")])
    tags = [{"Key": f"{key}{i:02d}"[:128], "Value": (UNSAFE + SYNTAX) * 8} for i in range(50)]
    account.client("transcribe").start_transcription_job(
        TranscriptionJobName=name, LanguageCode="en-US", Media={"MediaFileUri": media}, Tags=tags)
    collector(account).sweep()
    inventory = LedgerInventory(LedgerStore(account.client("dynamodb"), TABLE), ACCOUNT, REGION)
    [job] = inventory.resources(TRANSCRIPTION_JOB)
    assert job.name == name and inventory.detail(job)["Media"]["MediaFileUri"] == media
    assert inventory.tags(job) == {t["Key"]: t["Value"] for t in tags}


# --- what no listing shows: tag changes and deletions, read back from CloudTrail's history ---------

def _now() -> float:
    return clock.now().timestamp()


def _sweep(sim: Any) -> Collector:
    found = collector(sim, clock=_now)  # the history's times are the simulator's
    found.sweep()
    return found


def test_the_sweep_catches_tag_changes_and_deletions_whose_events_never_arrived(account: Any) -> None:
    start(account, "retagged")
    start(account, "deleted")
    _sweep(account)  # both recorded; the history watermark set
    clock.advance(dt.timedelta(hours=1))
    transcribe = account.client("transcribe")
    arn = f"arn:aws:transcribe:{REGION}:{ACCOUNT}:transcription-job/retagged"
    transcribe.untag_resource(ResourceArn=arn, TagKeys=["CostCenter"])  # EventBridge never delivers these two
    transcribe.delete_transcription_job(TranscriptionJobName="deleted")
    clock.advance(dt.timedelta(hours=1))
    sweep = _sweep(account)
    assert sweep.stats.swept["cloudtrail"] is True and sweep.stats.problems == []
    assert set(recorded(account)) == {"retagged"}
    inventory = LedgerInventory(LedgerStore(account.client("dynamodb"), TABLE), ACCOUNT, REGION)
    [retagged] = inventory.resources(TRANSCRIPTION_JOB)
    assert inventory.tags(retagged) == {}  # the untag is in the ledger: the tag rule sees it
    assert sweep.stats.gets == 1  # the delete confirmed by a Get answering "not found"; no job re-read
    again = _sweep(account)  # the watermark moved: nothing new (the overlap re-reads what it already applied)
    assert set(recorded(account)) == {"retagged"} and again.stats.problems == []


def test_a_failed_delete_in_the_history_retires_nothing(account: Any) -> None:
    """Anyone can call DeleteTranscriptionJob and be refused; CloudTrail records the refusal. Such
    a record must not take the job out of the ledger (its results would be retired: the rule silenced)."""
    from transcribe_guard.simulator.cloudtrail_events import record_event

    start(account, "guarded")
    _sweep(account)
    clock.advance(dt.timedelta(hours=1))
    record_event(ACCOUNT, REGION, "DeleteTranscriptionJob", "guarded", request_parameters={
        "transcriptionJobName": "guarded"}, error=("AccessDeniedException", "User is not authorized"))
    clock.advance(dt.timedelta(hours=1))
    events = collector(account, clock=_now)
    events.handle({"detail-type": "AWS API Call via CloudTrail", "account": ACCOUNT, "detail": {
        "eventSource": "transcribe.amazonaws.com", "eventName": "DeleteTranscriptionJob",
        "requestParameters": {"transcriptionJobName": "guarded"},
        "responseElements": {"message": "denied"}}})  # a service that reports errors in responseElements
    sweep = _sweep(account)
    assert set(recorded(account)) == {"guarded"} and events.stats.gets == sweep.stats.gets == 0


def test_without_the_history_the_watermark_waits_and_the_next_sweep_catches_up(account: Any) -> None:
    start(account, "job")
    _sweep(account)
    clock.advance(dt.timedelta(hours=1))
    account.client("transcribe").delete_transcription_job(TranscriptionJobName="job")
    clock.advance(dt.timedelta(hours=1))
    with faults.injected(faults.ACCESS_DENIED, "LookupEvents"):
        denied = _sweep(account)
    assert denied.stats.swept["cloudtrail"] is False
    assert denied.stats.problems == ["AccessDeniedException reading CloudTrail event history"]
    assert set(recorded(account)) == {"job"}
    clock.advance(dt.timedelta(hours=3))
    _sweep(account)
    assert recorded(account) == {}


def _annotations(sim: Any, rule: str) -> dict[str, str]:
    page = sim.client("config").get_compliance_details_by_config_rule(ConfigRuleName=rule, Limit=100)
    return {r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"]: r.get("Annotation", "")
            for r in page["EvaluationResults"]}


@pytest.mark.parametrize("rule", ["transcribe-job-output-location", "transcribe-customization-encrypted"])
def test_a_ledger_never_swept_or_no_longer_swept_is_could_not_evaluate_not_no_resources(
        rule: str, account: Any, monkeypatch: Any) -> None:
    """An empty partition is "no jobs" only once the collector has swept it, and only while it
    goes on sweeping: a new ledger, an account whose role the collector cannot assume, or a
    collector that stopped would otherwise read as an account with nothing to judge."""
    import importlib

    from tests.helpers import deploy_rule, periodic_event, stored_verdicts

    handler = importlib.import_module(f"rules.{rule.replace('-', '_')}").lambda_handler
    monkeypatch.setenv("TRANSCRIBE_GUARD_LEDGER_TABLE", TABLE)
    start(account, "kept", OutputBucketName="media")
    account.client("transcribe").create_vocabulary(VocabularyName="terms", LanguageCode="en-US", Phrases=["a"])
    deploy_rule(account, rule)
    handler(periodic_event(rule), None)  # the collector has not swept yet
    assert stored_verdicts(account, rule) == {ACCOUNT: "NON_COMPLIANT"}
    assert "Could not evaluate: LedgerNotSwept" in _annotations(account, rule)[ACCOUNT]
    collector(account).sweep()
    clock.advance(dt.timedelta(hours=1))
    handler(periodic_event(rule), None)
    judged = stored_verdicts(account, rule)
    assert ACCOUNT not in judged or judged[ACCOUNT] != "NON_COMPLIANT"
    resources = {k: v for k, v in judged.items() if k != ACCOUNT}
    assert resources and set(resources.values()) <= {"COMPLIANT", "NON_COMPLIANT"}
    clock.advance(dt.timedelta(days=1, hours=1))  # the collector stopped after that sweep
    handler(periodic_event(rule), None)
    assert "Could not evaluate: LedgerSweepStale" in _annotations(account, rule)[ACCOUNT]
    assert {k: v for k, v in stored_verdicts(account, rule).items() if k != ACCOUNT} == resources  # kept
