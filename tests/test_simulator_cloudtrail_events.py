"""CloudTrail event history in the simulator (cloudtrail_events.py): Transcribe write calls are
recorded, and LookupEvents reads them back as the service does (one lookup attribute, time
window, newest first, paging, the service's errors), every response checked against botocore's
model."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from transcribe_guard.simulator import Simulator, clock
from transcribe_guard.simulator.cloudtrail_events import EVENT_SOURCE, history, record_event
from transcribe_guard.simulator.shapes import output_shape, validate

ACCOUNT, REGION = "123456789012", "us-east-1"
MEDIA = "s3://media-bucket/call.wav"


def lookup(client: Any, **kwargs: Any) -> dict[str, Any]:
    response = client.lookup_events(**kwargs)
    response.pop("ResponseMetadata", None)
    problems = validate(output_shape("cloudtrail", "LookupEvents"), response)
    assert problems == [], problems
    return response


def lookup_all(client: Any, **kwargs: Any) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    token = None
    while True:
        page = lookup(client, **kwargs, **({"NextToken": token} if token else {}))
        events += page["Events"]
        token = page.get("NextToken")
        if not token:
            return events


def by_name(name: str) -> list[dict[str, str]]:
    return [{"AttributeKey": "EventName", "AttributeValue": name}]


def test_transcribe_write_calls_are_recorded(sim: Simulator) -> None:
    sim.client("s3").create_bucket(Bucket="media-bucket")
    transcribe, cloudtrail = sim.client("transcribe"), sim.client("cloudtrail")
    job = transcribe.start_transcription_job(
        TranscriptionJobName="call-1", Media={"MediaFileUri": MEDIA}, LanguageCode="en-US",
        Tags=[{"Key": "team", "Value": "cc"}])["TranscriptionJob"]
    arn = f"arn:aws:transcribe:{REGION}:{ACCOUNT}:transcription-job/call-1"
    transcribe.get_transcription_job(TranscriptionJobName="call-1")
    transcribe.list_transcription_jobs()
    transcribe.tag_resource(ResourceArn=arn, Tags=[{"Key": "owner", "Value": "Jane Doe"}])
    transcribe.untag_resource(ResourceArn=arn, TagKeys=["team"])
    transcribe.create_vocabulary(VocabularyName="terms", LanguageCode="en-US", Phrases=["kubernetes"])
    transcribe.delete_transcription_job(TranscriptionJobName="call-1")
    with pytest.raises(ClientError) as refused:  # a failed call is recorded with its error, as CloudTrail does
        transcribe.delete_transcription_job(TranscriptionJobName="call-1")

    events = lookup(cloudtrail, LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": EVENT_SOURCE}])
    names = [e["EventName"] for e in events["Events"]]
    assert names == ["DeleteTranscriptionJob", "DeleteTranscriptionJob", "CreateVocabulary", "UntagResource",
                     "TagResource", "StartTranscriptionJob"]  # newest first; no Get/List
    failed, deleted = (json.loads(e["CloudTrailEvent"]) for e in events["Events"][:2])
    assert (failed["errorCode"], failed["errorMessage"]) == (refused.value.response["Error"]["Code"],
                                                             refused.value.response["Error"]["Message"])
    assert "errorCode" not in deleted and deleted["responseElements"] is None
    events["Events"] = events["Events"][1:]
    start = events["Events"][-1]
    assert start["EventSource"] == EVENT_SOURCE and start["ReadOnly"] == "false"
    assert start["Username"] == "root" and start["AccessKeyId"]
    assert start["Resources"] == [{"ResourceName": "call-1"}]
    assert abs(start["EventTime"] - job["CreationTime"]) <= dt.timedelta(seconds=2)
    record = json.loads(start["CloudTrailEvent"])
    assert record["eventName"] == "StartTranscriptionJob" and record["eventSource"] == EVENT_SOURCE
    assert record["awsRegion"] == REGION and record["recipientAccountId"] == ACCOUNT
    assert record["eventID"] == start["EventId"] and record["eventType"] == "AwsApiCall"
    assert record["readOnly"] is False and record["managementEvent"] is True
    assert record["responseElements"] is None and record["eventVersion"]
    assert record["requestParameters"] == {"transcriptionJobName": "call-1"}
    assert dt.datetime.fromisoformat(record["eventTime"].replace("Z", "+00:00")) == start["EventTime"]

    tag = next(e for e in events["Events"] if e["EventName"] == "TagResource")
    assert tag["Resources"] == [{"ResourceName": arn}]
    tag_record = json.loads(tag["CloudTrailEvent"])
    assert tag_record["requestParameters"] == {"resourceArn": arn, "tags": [{"key": "owner"}]}
    assert "Jane Doe" not in tag["CloudTrailEvent"]  # tag values stay out
    untag = json.loads(next(e for e in events["Events"] if e["EventName"] == "UntagResource")["CloudTrailEvent"])
    assert untag["requestParameters"] == {"resourceArn": arn, "tagKeys": ["team"]}


def test_lookup_attributes_filter(sim: Simulator) -> None:
    cloudtrail = sim.client("cloudtrail")
    first = record_event(ACCOUNT, REGION, "TagResource", "arn:one", None, {"resourceArn": "arn:one"})
    record_event(ACCOUNT, REGION, "UntagResource", "arn:one", None, {"resourceArn": "arn:one"})
    record_event(ACCOUNT, REGION, "TagResource", "arn:two", None, {"resourceArn": "arn:two"}, username="auditor",
                 access_key_id="AKIAAUDITOR")
    record_event(ACCOUNT, REGION, "RunInstances", "i-1", None, None, event_source="ec2.amazonaws.com")

    def names(key: str, value: str) -> list[str | None]:
        found = lookup(cloudtrail, LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}])["Events"]
        return [e["Resources"][0]["ResourceName"] for e in found]

    assert names("EventName", "TagResource") == ["arn:two", "arn:one"]
    assert names("ResourceName", "arn:one") == ["arn:one", "arn:one"]
    assert names("Username", "auditor") == ["arn:two"]
    assert names("AccessKeyId", "AKIAAUDITOR") == ["arn:two"]
    assert names("EventSource", "ec2.amazonaws.com") == ["i-1"]
    assert names("EventId", first.event_id) == ["arn:one"]
    assert names("ReadOnly", "true") == []
    assert len(names("ReadOnly", "false")) == 4
    assert names("ResourceType", "AWS::Transcribe::TranscriptionJob") == []  # events carry no type
    assert len(lookup(cloudtrail)["Events"]) == 4


def test_paging_newest_first_and_time_window(sim: Simulator) -> None:
    cloudtrail = sim.client("cloudtrail")
    base = clock.now().replace(microsecond=0) - dt.timedelta(days=10)
    for minute in range(120):
        record_event(ACCOUNT, REGION, "TagResource", f"job-{minute:03d}", base + dt.timedelta(minutes=minute), {})

    pages = []
    token = None
    while True:
        page = lookup(cloudtrail, MaxResults=50, **({"NextToken": token} if token else {}))
        pages.append(len(page["Events"]))
        token = page.get("NextToken")
        if not token:
            break
    assert pages == [50, 50, 20]
    everything = lookup_all(cloudtrail, MaxResults=7)
    assert [e["Resources"][0]["ResourceName"] for e in everything] == [f"job-{m:03d}" for m in range(119, -1, -1)]
    times = [e["EventTime"] for e in everything]
    assert times == sorted(times, reverse=True)

    window = lookup_all(cloudtrail, StartTime=base + dt.timedelta(minutes=10), EndTime=base + dt.timedelta(minutes=19),
                        MaxResults=3, LookupAttributes=by_name("TagResource"))
    assert [e["Resources"][0]["ResourceName"] for e in window] == [f"job-{m:03d}" for m in range(19, 9, -1)]
    assert len(lookup(cloudtrail)["Events"]) == 50  # default MaxResults


def test_token_survives_new_events(sim: Simulator) -> None:
    cloudtrail = sim.client("cloudtrail")
    for n in range(6):
        record_event(ACCOUNT, REGION, "DeleteTranscriptionJob", f"old-{n}", None, {})
    first = lookup(cloudtrail, MaxResults=3)
    record_event(ACCOUNT, REGION, "DeleteTranscriptionJob", "new", None, {})
    rest = lookup(cloudtrail, MaxResults=3, NextToken=first["NextToken"])
    seen = [e["Resources"][0]["ResourceName"] for e in first["Events"] + rest["Events"]]
    assert sorted(seen) == [f"old-{n}" for n in range(6)]  # none skipped, none repeated


def test_lookup_errors(sim: Simulator) -> None:
    cloudtrail = sim.client("cloudtrail")

    def code(**kwargs: Any) -> str:
        with pytest.raises(ClientError) as excinfo:
            cloudtrail.lookup_events(**kwargs)
        return str(excinfo.value.response["Error"]["Code"])

    two = by_name("TagResource") + [{"AttributeKey": "Username", "AttributeValue": "root"}]
    assert code(LookupAttributes=two) == "InvalidLookupAttributesException"
    assert code(NextToken="not-a-token") == "InvalidNextTokenException"
    assert code(MaxResults=51) == "InvalidMaxResultsException"
    now = clock.now()
    assert code(StartTime=now, EndTime=now - dt.timedelta(hours=1)) == "InvalidTimeRangeException"
    assert code(EventCategory="management") == "InvalidEventCategoryException"
    assert lookup(cloudtrail, EventCategory="insight")["Events"] == []


def test_history_is_per_region_keeps_90_days_and_clears_on_reset() -> None:
    with Simulator() as sim:
        cloudtrail = sim.client("cloudtrail")
        record_event(ACCOUNT, REGION, "TagResource", "east", None, {})
        record_event(ACCOUNT, "eu-west-1", "TagResource", "west", None, {})
        assert [e["Resources"][0]["ResourceName"] for e in lookup(cloudtrail)["Events"]] == ["east"]
        assert [e["Resources"][0]["ResourceName"]
                for e in lookup(sim.client("cloudtrail", region="eu-west-1"))["Events"]] == ["west"]
        clock.advance(dt.timedelta(days=89))
        assert len(lookup(cloudtrail)["Events"]) == 1
        clock.advance(dt.timedelta(days=2))
        assert lookup(cloudtrail)["Events"] == []  # older than the 90 days of event history
        record_event(ACCOUNT, REGION, "TagResource", "later", None, {})
        assert [e.resource_name for e in history(ACCOUNT, REGION)] == ["later"]  # expired ones dropped
    with Simulator() as sim:
        assert lookup(sim.client("cloudtrail"))["Events"] == []


def test_username_of_an_iam_users_key(sim: Simulator) -> None:
    iam = sim.client("iam")
    iam.create_user(UserName="transcriber")
    key = iam.create_access_key(UserName="transcriber")["AccessKey"]
    import boto3
    transcribe = boto3.client("transcribe", region_name=REGION, aws_access_key_id=key["AccessKeyId"],
                              aws_secret_access_key=key["SecretAccessKey"])
    transcribe.create_vocabulary(VocabularyName="terms", LanguageCode="en-US", Phrases=["kubernetes"])
    event = lookup(sim.client("cloudtrail"), LookupAttributes=by_name("CreateVocabulary"))["Events"][0]
    assert event["Username"] == "transcriber" and event["AccessKeyId"] == key["AccessKeyId"]
    record = json.loads(event["CloudTrailEvent"])
    assert record["userIdentity"]["userName"] == "transcriber"
