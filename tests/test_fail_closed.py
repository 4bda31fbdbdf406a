"""Issue 12, items 1-3, each with the input an account holder can really create (plain API calls
to the simulator): a job URI no URL parser takes, a bucket name botocore will not send, a role ARN
longer than Config's resource ids, a PutEvaluations batch Config rejects in part, and invalid rule
parameters. tests/test_hostile_values.py derives such values from the botocore shapes for every
member; these are the cases the issue found, spelled out."""

from __future__ import annotations

from typing import Any

import pytest
from rdklib import ClientFactory, ComplianceType

from rules.engine.base import (RESOURCE_ID_LIMIT, RuleParametersError, config_resource_id, fail_closed)
from rules.inventory.s3_location import bucket_of
from rules.transcribe_bucket_encrypted import TranscribeBucketEncrypted
from rules.transcribe_bucket_encrypted import lambda_handler as bucket_encrypted_handler
from rules.transcribe_data_access_role import TranscribeDataAccessRole
from tests.data_buckets import make_bucket, run, start_job, texts, verdicts
from tests.helpers import ACCOUNT, deploy_rule, periodic_event, posted_evaluations, stored_verdicts
from transcribe_guard.simulator.config import result_token

N = ComplianceType.NON_COMPLIANT


@pytest.mark.parametrize(("uri", "bucket"), [
    ("s3://[x/a.wav", "[x"), ("s3://Bad Bucket!/a.wav", "Bad Bucket!"), ("https://[s3.amazonaws.com/b/k", None),
    ("https://s3.us-east-1.amazonaws.com/b/k", "b"), ("https://b.s3.us-east-1.amazonaws.com:443/k", "b"),
    ("S3://b/k", "b"), ("s3://", None), ("ftp://b/k", None), ("no scheme", None)])
def test_bucket_of_never_raises(uri: str, bucket: str | None) -> None:
    assert bucket_of(uri) == bucket


@pytest.mark.parametrize("uri", ["s3://[x/a.wav", "s3://Bad Bucket!/a.wav"])
def test_one_failed_job_with_an_unparsable_uri_is_one_could_not_evaluate(sim: Any, uri: str) -> None:
    """Before: urlparse's ValueError or botocore's ParamValidationError ended the run with no
    results. Now the bucket the URI names is "Could not evaluate" and every other bucket is judged."""
    make_bucket(sim, "good-audio", "AES256")
    start_job(sim, "good", "good-audio")
    sim.client("transcribe").start_transcription_job(TranscriptionJobName="hostile", LanguageCode="en-US",
                                                    Media={"MediaFileUri": uri})
    results = run(TranscribeBucketEncrypted, {"AllowSseS3": "true"})
    found = verdicts(results)
    assert found["good-audio"] == "COMPLIANT"
    hostile = bucket_of(uri)
    assert hostile is not None and found[hostile] == N
    assert texts(results)[hostile].startswith("Could not evaluate:"), texts(results)[hostile]


def test_a_role_arn_longer_than_config_takes_is_shortened_and_the_rest_posted(sim: Any) -> None:
    """A job's DataAccessRoleArn may be 1,024 characters after role/ (botocore's pattern); Config
    takes resource ids up to 768. Before: the batch was rejected whole and the valid role's
    result lost with it."""
    iam = sim.client("iam")
    iam.create_role(RoleName="valid-role", AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[]}')
    long_arn = f"arn:aws:iam::{ACCOUNT}:role/" + "a/" * 450 + "r"
    assert len(long_arn) > RESOURCE_ID_LIMIT
    make_bucket(sim, "audio", "AES256")
    for name, role in (("ok", f"arn:aws:iam::{ACCOUNT}:role/valid-role"), ("long", long_arn)):
        start_job(sim, name, "audio", kind="standard")
        sim.client("transcribe").start_call_analytics_job(
            CallAnalyticsJobName=f"a-{name}", Media={"MediaFileUri": f"s3://audio/{name}.wav"}, DataAccessRoleArn=role)
    rule = "transcribe-data-access-role"
    deploy_rule(sim, rule)
    from rules.transcribe_data_access_role import lambda_handler
    with posted_evaluations() as posted:
        answer = lambda_handler(periodic_event(rule), None)
    assert isinstance(answer, list), answer
    ids = [e["ComplianceResourceId"] for e in posted if e.get("Annotation")]
    assert all(len(i) <= RESOURCE_ID_LIMIT for i in ids)
    shortened = config_resource_id(long_arn)
    assert shortened in ids and shortened == config_resource_id(long_arn)  # stable across runs
    assert len(shortened) == RESOURCE_ID_LIMIT and shortened.startswith(long_arn[:100])
    note = next(e["Annotation"] for e in posted if e["ComplianceResourceId"] == shortened)
    assert note.startswith(f"[id shortened from {len(long_arn):,} characters]")
    stored = stored_verdicts(sim, rule)
    assert shortened in stored and len(stored) == len(set(ids))  # every result was stored
    assert TranscribeDataAccessRole  # the rule under test


def test_a_batch_config_rejects_in_part_is_split_and_the_refusal_reported(sim: Any) -> None:
    """One evaluation Config refuses (an annotation past 256 characters, as only a bug could post)
    no longer takes the 99 others with it: they are stored, the refusal is recorded, and the
    handler fails so the error shows."""
    rule = "transcribe-bucket-encrypted"
    deploy_rule(sim, rule)
    factory = fail_closed(ClientFactory(None, assume_role_mode=False))
    evaluations = [{"ComplianceResourceType": "AWS::S3::Bucket", "ComplianceResourceId": f"bucket-{i:03}",
                    "ComplianceType": "COMPLIANT", "Annotation": "ok", "OrderingTimestamp": "2026-11-30T00:00:00Z"}
                   for i in range(100)]
    evaluations[37]["Annotation"] = "x" * 300
    answer = factory.build_client("config").put_evaluations(Evaluations=evaluations, ResultToken=result_token(rule))
    assert answer["FailedEvaluations"] == []
    assert [r["evaluation"]["ComplianceResourceId"] for r in factory.refused_evaluations] == ["bucket-037"]
    assert factory.refused_evaluations[0]["code"] == "ValidationException"
    stored = stored_verdicts(sim, rule)
    assert len(stored) == 99 and "bucket-037" not in stored


def test_invalid_parameters_fail_the_invocation_and_say_so_on_the_account(sim: Any) -> None:
    """Before: the handler returned an error dict normally (a successful invocation for Lambda and
    Config), posted nothing, and the earlier results stood as if all were well."""
    rule = "transcribe-bucket-encrypted"
    deploy_rule(sim, rule)
    make_bucket(sim, "audio", "AES256")
    start_job(sim, "call", "audio")
    assert bucket_encrypted_handler(periodic_event(rule), None) is not None
    assert stored_verdicts(sim, rule) == {"audio": "NON_COMPLIANT"}
    with pytest.raises(RuleParametersError, match="BucketNames"):
        bucket_encrypted_handler(periodic_event(rule, {"BucketNames": "Not A Bucket"}), None)
    stored = stored_verdicts(sim, rule)
    assert stored[ACCOUNT] == "NON_COMPLIANT" and stored["audio"] == "NON_COMPLIANT"
    details = sim.client("config").get_compliance_details_by_config_rule(ConfigRuleName=rule)["EvaluationResults"]
    account = next(d for d in details
                   if d["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"] == ACCOUNT)
    assert account["Annotation"].startswith("Could not evaluate: invalid rule parameters:")
    assert "BucketNames" in account["Annotation"]


@pytest.mark.parametrize("parameters", [{"ReportingMode": "bogus"}, {"NoSuchParameter": "x"},
                                        {"ReconciliationDays": "-1"}])
def test_the_issues_bad_parameters_on_a_resource_rule(sim: Any, parameters: dict[str, str]) -> None:
    from rules.transcribe_job_output_location import lambda_handler
    rule = "transcribe-job-output-location"
    deploy_rule(sim, rule)
    with pytest.raises(RuleParametersError, match=next(iter(parameters))):
        lambda_handler(periodic_event(rule, parameters), None)
    assert stored_verdicts(sim, rule) == {ACCOUNT: "NON_COMPLIANT"}


def test_annotations_escape_what_could_forge_a_row() -> None:
    """A metric filter or policy named to overwrite its row (ESC [2K, CR) or to reverse or hide
    text (U+202E, U+200B, a tag character) shows as visible escapes in the annotation Config stores."""
    from rules.engine.base import annotation
    from rules.engine.safe_text import UNSAFE_CHARACTERS

    text = annotation("Metric filter x\x1b[2K\x1b[GCOMPLIANT\r\x07\u202e\u200b\U000e0041 does not match.\n  Fix it.")
    assert text == ("Metric filter x\\x1b[2K\\x1b[GCOMPLIANT\\x0d\\x07\\u202e\\u200b\\U000e0041 does not match. Fix it.")
    assert not UNSAFE_CHARACTERS.search(text)
    assert len(annotation("\x1b" * 300)) == 256


def test_a_client_for_a_region_botocore_refuses_fails_each_call_not_the_run(sim: Any) -> None:
    """A trail's HomeRegion is read from AWS and used to build a client; one botocore refuses
    (InvalidRegionError) makes each call a ClientError the rule reports per trail."""
    from botocore.exceptions import ClientError, InvalidRegionError

    factory = fail_closed(ClientFactory(None, assume_role_mode=False))
    client = factory.build_client("cloudtrail", region="[us-east-1")
    with pytest.raises(ClientError) as raised:
        client.get_trail_status(Name="trail")
    assert raised.value.response["Error"]["Code"] == "InvalidRegionError"
    with pytest.raises(InvalidRegionError):
        client.meta  # noqa: B018 (the client itself is needed: the original error)
    assert factory.build_client("cloudtrail").describe_trails()["trailList"] is not None


@pytest.mark.parametrize(("rule", "module"), [
    ("transcribe-bucket-encrypted", "rules.engine.base"),  # rdklib posts its results
    ("transcribe-job-output-location", "rules.engine.incremental"),  # the rule posts as it goes
])
def test_a_result_config_refuses_fails_the_invocation_after_the_rest_is_posted(
        sim: Any, monkeypatch: pytest.MonkeyPatch, rule: str, module: str) -> None:
    """Both posting paths: Config refuses one result (here an annotation made too long after
    config_safe, as only a bug could), every other result is stored, and the handler raises
    EvaluationsRefusedError so the refusal shows as the rule's last error."""
    import importlib

    from rules.engine import base
    from rules.engine.base import EvaluationsRefusedError
    from tests.fault_support import demo_account, lambda_handler

    real = base.config_safe
    spoiled: list[str] = []

    def spoil(evaluation: Any) -> Any:
        evaluation = real(evaluation)
        if not spoiled and evaluation.complianceResourceId != ACCOUNT:
            spoiled.append(evaluation.complianceResourceId)
            evaluation.annotation = "x" * 300
        return evaluation

    monkeypatch.setattr(importlib.import_module(module), "config_safe", spoil)
    from transcribe_guard.scan_parameters import DEMO_PARAMETERS
    with demo_account() as account:
        deploy_rule(account, rule)
        with posted_evaluations() as posted:
            with pytest.raises(EvaluationsRefusedError, match="refused 1 result"):
                lambda_handler(rule)(periodic_event(rule, DEMO_PARAMETERS.get(rule)), None)
        stored = stored_verdicts(account, rule)
    assert spoiled and spoiled[0] not in stored
    assert len(stored) == len({e["ComplianceResourceId"] for e in posted}) - 1 > 0


def test_a_path_style_uri_of_a_bucket_named_like_a_host_reads_the_right_key() -> None:
    from rules.inventory.s3_kms import object_location
    assert object_location("https://s3.us-east-1.amazonaws.com/s3.us-east-1/x.json") == ("s3.us-east-1", "x.json")
    assert object_location("https://b.s3.us-east-1.amazonaws.com/k/x.json") == ("b", "k/x.json")
