"""transcribe-job-output-location: pure scenarios against the simulator, parameters, API errors,
pagination, and the Lambda handler with a real ScheduledNotification event."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from rdklib import ClientFactory, ComplianceType, Evaluation, InvalidParametersError

import rules.inventory.transcribe
from rules.transcribe_job_output_location import TranscribeJobOutputLocation, lambda_handler
from tests.helpers import rejected_parameters
from tests.helpers import (ACCOUNT, access_denied, deploy_rule, fail_calls, periodic_event, put_media,
                           stored_verdicts)

RULE = "transcribe-job-output-location"
ARN = f"arn:aws:transcribe:us-east-1:{ACCOUNT}"
MEDIA = "media-bucket"
OUT = "acme-output"


def evaluate(parameters: dict[str, str] | None = None) -> list[Evaluation]:
    rule = TranscribeJobOutputLocation()
    return rule.evaluate_periodic({"accountId": ACCOUNT}, ClientFactory(None, assume_role_mode=False),
                                  rule.evaluate_parameters(parameters or {}))


def verdicts(evaluations: list[Evaluation]) -> dict[str, str]:
    return {e.complianceResourceId: e.complianceType for e in evaluations}


@pytest.fixture
def account(sim: Any) -> Any:
    put_media(sim, MEDIA, ["a.wav"])
    put_media(sim, OUT, [])
    put_media(sim, "other-output", [])
    return sim


def start_job(sim: Any, name: str, **extra: Any) -> None:
    extra = {key: value for key, value in extra.items() if value is not None}
    sim.client("transcribe").start_transcription_job(
        TranscriptionJobName=name, LanguageCode="en-US", Media={"MediaFileUri": f"s3://{MEDIA}/a.wav"}, **extra)


def test_scenario1_no_jobs_no_evaluations(sim: Any) -> None:
    assert evaluate() == []


def test_scenario2_failed_job_is_not_applicable(account: Any) -> None:
    account.client("transcribe").start_transcription_job(
        TranscriptionJobName="broken", LanguageCode="en-US", Media={"MediaFileUri": f"s3://{MEDIA}/missing.wav"},
        OutputBucketName=OUT)
    assert evaluate() == [Evaluation(ComplianceType.NOT_APPLICABLE, f"{ARN}:transcription-job/broken",
                                     "AWS::::Account", "Transcription job failed and stored no output.")]


def test_scenario3_unfinished_job_is_not_applicable_until_it_completes(account: Any) -> None:
    account.transcribe.hold_jobs = True
    start_job(account, "running")
    assert verdicts(evaluate()) == {f"{ARN}:transcription-job/running": ComplianceType.NOT_APPLICABLE}
    account.transcribe.complete_held_jobs()
    assert verdicts(evaluate()) == {f"{ARN}:transcription-job/running": ComplianceType.NON_COMPLIANT}


def test_scenario4_service_bucket_is_non_compliant(account: Any) -> None:
    start_job(account, "meeting")
    assert evaluate() == [Evaluation(
        ComplianceType.NON_COMPLIANT, f"{ARN}:transcription-job/meeting", "AWS::::Account",
        "Transcription job output is in a service-managed bucket; set OutputBucketName to a bucket you own.")]


def test_scenario5_customer_bucket_is_compliant_from_the_summary_alone(account: Any) -> None:
    start_job(account, "call-1", OutputBucketName=OUT)
    rule = TranscribeJobOutputLocation()
    factory = ClientFactory(None, assume_role_mode=False)
    result = rule.evaluate_periodic({"accountId": ACCOUNT}, factory, rule.evaluate_parameters({}))
    assert result == [Evaluation(ComplianceType.COMPLIANT, f"{ARN}:transcription-job/call-1", "AWS::::Account",
                                 "Transcription job output is in a customer-owned bucket.")]
    from rules.engine.base import _INVENTORIES
    assert "get_transcription_job" not in _INVENTORIES[factory].calls  # no per-job Get


def test_scenario6_and_7_allowed_output_buckets(account: Any) -> None:
    start_job(account, "in-allowed", OutputBucketName=OUT)
    start_job(account, "elsewhere", OutputBucketName="other-output", OutputKey="x/")
    result = evaluate({"AllowedOutputBuckets": f"{OUT}, audit-bucket"})
    assert result == [
        Evaluation(ComplianceType.NON_COMPLIANT, f"{ARN}:transcription-job/elsewhere", "AWS::::Account",
                   "Transcription job output is in bucket other-output, which is not in AllowedOutputBuckets."),
        Evaluation(ComplianceType.COMPLIANT, f"{ARN}:transcription-job/in-allowed", "AWS::::Account",
                   f"Transcription job output is in customer bucket {OUT}."),
    ]


def test_scenario6_every_output_object_counts(account: Any) -> None:
    # Call analytics: the redacted transcript is in the allowed bucket, the redacted audio is not
    # a transcript; the transcript URIs decide.
    account.client("transcribe").start_call_analytics_job(
        CallAnalyticsJobName="ca", Media={"MediaFileUri": f"s3://{MEDIA}/a.wav"}, OutputLocation=f"s3://{OUT}/ca/",
        Settings={"ContentRedaction": {"RedactionType": "PII", "RedactionOutput": "redacted_and_unredacted"}})
    assert verdicts(evaluate({"AllowedOutputBuckets": OUT})) == {f"{ARN}:analytics/ca": ComplianceType.COMPLIANT}
    assert verdicts(evaluate({"AllowedOutputBuckets": "other-output"})) == {
        f"{ARN}:analytics/ca": ComplianceType.NON_COMPLIANT}


def test_scenario8_call_analytics_jobs_are_read(account: Any) -> None:
    transcribe = account.client("transcribe")
    transcribe.start_call_analytics_job(CallAnalyticsJobName="ca-customer", Media={"MediaFileUri": f"s3://{MEDIA}/a.wav"},
                                        OutputLocation=f"s3://{OUT}/analytics/")
    transcribe.start_call_analytics_job(CallAnalyticsJobName="ca-service", Media={"MediaFileUri": f"s3://{MEDIA}/a.wav"})
    assert evaluate() == [
        Evaluation(ComplianceType.NON_COMPLIANT, f"{ARN}:analytics/ca-service", "AWS::::Account",
                   "Call analytics job output is in a service-managed bucket; set OutputLocation to a bucket you own."),
        Evaluation(ComplianceType.COMPLIANT, f"{ARN}:analytics/ca-customer", "AWS::::Account",
                   f"Call analytics job output is in customer bucket {OUT}."),
    ]


def test_scenario9_medical_scribe_and_medical_jobs(account: Any) -> None:
    transcribe = account.client("transcribe")
    transcribe.start_medical_scribe_job(
        MedicalScribeJobName="scribe", Media={"MediaFileUri": f"s3://{MEDIA}/a.wav"}, OutputBucketName=OUT,
        DataAccessRoleArn=f"arn:aws:iam::{ACCOUNT}:role/scribe", Settings={"ShowSpeakerLabels": True, "MaxSpeakerLabels": 2})
    transcribe.start_medical_transcription_job(
        MedicalTranscriptionJobName="dictation", LanguageCode="en-US", Specialty="PRIMARYCARE", Type="DICTATION",
        Media={"MediaFileUri": f"s3://{MEDIA}/a.wav"}, OutputBucketName="other-output")
    assert verdicts(evaluate()) == {f"{ARN}:medical-scribe-job/scribe": ComplianceType.COMPLIANT,
                                    f"{ARN}:medical-transcription-job/dictation": ComplianceType.COMPLIANT}
    assert verdicts(evaluate({"AllowedOutputBuckets": OUT})) == {
        f"{ARN}:medical-scribe-job/scribe": ComplianceType.COMPLIANT,
        f"{ARN}:medical-transcription-job/dictation": ComplianceType.NON_COMPLIANT}


def test_scenario10_missing_location_fields_fail_closed(account: Any, monkeypatch: Any) -> None:
    start_job(account, "odd", OutputBucketName=OUT)
    original = rules.inventory.transcribe.TranscribeInventory._call

    def without_location(self: Any, operation: str, **kwargs: Any) -> Any:
        response = original(self, operation, **kwargs)
        for summary in response.get("TranscriptionJobSummaries", []):
            summary.pop("OutputLocationType", None)
        if operation == "get_transcription_job":
            response["TranscriptionJob"].pop("Transcript", None)
        return response

    monkeypatch.setattr(rules.inventory.transcribe.TranscribeInventory, "_call", without_location)
    assert evaluate() == [Evaluation(ComplianceType.NON_COMPLIANT, f"{ARN}:transcription-job/odd", "AWS::::Account",
                                     "Transcription job details do not show where its output is stored.")]


def test_scenario11_access_denied_on_one_job_only(account: Any, monkeypatch: Any) -> None:
    transcribe = account.client("transcribe")
    for name in ("ca-ok", "ca-denied"):
        transcribe.start_call_analytics_job(CallAnalyticsJobName=name, Media={"MediaFileUri": f"s3://{MEDIA}/a.wav"},
                                            OutputLocation=f"s3://{OUT}/")
    fail_calls(monkeypatch, rules.inventory.transcribe.TranscribeInventory, "_call",
               lambda self, op, **kw: kw.get("CallAnalyticsJobName") == "ca-denied",
               lambda: access_denied("GetCallAnalyticsJob"))
    result = evaluate()
    assert result == [
        Evaluation(ComplianceType.NON_COMPLIANT, f"{ARN}:analytics/ca-denied", "AWS::::Account",
                   "Could not evaluate: AccessDeniedException when reading call analytics job."),
        Evaluation(ComplianceType.COMPLIANT, f"{ARN}:analytics/ca-ok", "AWS::::Account",
                   f"Call analytics job output is in customer bucket {OUT}."),
    ]


def test_listing_failure_reports_the_account_and_keeps_earlier_results(account: Any, monkeypatch: Any) -> None:
    start_job(account, "call-1", OutputBucketName=OUT)
    fail_calls(monkeypatch, rules.inventory.transcribe.TranscribeInventory, "_call",
               lambda self, op, **kw: op == "list_medical_scribe_jobs", lambda: access_denied("ListMedicalScribeJobs"))
    rule = TranscribeJobOutputLocation()
    result = rule.evaluate_periodic({"accountId": ACCOUNT}, ClientFactory(None, assume_role_mode=False),
                                    rule.evaluate_parameters({}))
    assert result[-1] == Evaluation(
        ComplianceType.NON_COMPLIANT, ACCOUNT, "AWS::::Account",
        "Could not evaluate: AccessDeniedException when listing medical scribe jobs; earlier results are kept until a "
        "run can list them.")
    assert rule.delete_old_evaluations_on_scheduled_notification is False


def test_every_job_kind_is_reported_by_arn_under_the_reported_type(account: Any) -> None:
    transcribe = account.client("transcribe")
    start_job(account, "std", OutputBucketName=OUT)
    transcribe.start_medical_transcription_job(
        MedicalTranscriptionJobName="med", LanguageCode="en-US", Specialty="PRIMARYCARE", Type="DICTATION",
        Media={"MediaFileUri": f"s3://{MEDIA}/a.wav"}, OutputBucketName=OUT)
    transcribe.start_call_analytics_job(CallAnalyticsJobName="ca", Media={"MediaFileUri": f"s3://{MEDIA}/a.wav"},
                                        OutputLocation=f"s3://{OUT}/")
    transcribe.start_medical_scribe_job(
        MedicalScribeJobName="scribe", Media={"MediaFileUri": f"s3://{MEDIA}/a.wav"}, OutputBucketName=OUT,
        DataAccessRoleArn=f"arn:aws:iam::{ACCOUNT}:role/r", Settings={"ShowSpeakerLabels": False})
    result = evaluate({"ReportedResourceType": "Acme::Transcribe::Resource"})
    assert {(e.complianceResourceId, e.complianceResourceType) for e in result} == {
        (f"{ARN}:transcription-job/std", "Acme::Transcribe::Resource"),
        (f"{ARN}:medical-transcription-job/med", "Acme::Transcribe::Resource"),
        (f"{ARN}:analytics/ca", "Acme::Transcribe::Resource"),
        (f"{ARN}:medical-scribe-job/scribe", "Acme::Transcribe::Resource"),
    }


def test_pagination_past_100_jobs(account: Any) -> None:
    for index in range(105):
        start_job(account, f"job-{index:03d}", OutputBucketName=OUT if index % 2 else None)
    result = verdicts(evaluate())
    assert len(result) == 105
    assert result[f"{ARN}:transcription-job/job-000"] == ComplianceType.NON_COMPLIANT
    assert result[f"{ARN}:transcription-job/job-104"] == ComplianceType.NON_COMPLIANT
    assert result[f"{ARN}:transcription-job/job-103"] == ComplianceType.COMPLIANT


@pytest.mark.parametrize("parameters, message", [
    ({"AllowedOutputBuckets": "Not_A_Bucket"}, "Parameter AllowedOutputBuckets has an invalid value"),
    ({"ReportedResourceType": "AWS::Transcribe::Job::Extra"}, "Parameter ReportedResourceType has an invalid value"),
    ({"AllowedBuckets": "x"}, "Unknown parameter AllowedBuckets"),
    ({"AllowedOutputBuckets": 7}, "Parameter AllowedOutputBuckets must be a string"),
    ({"AllowedOutputBuckets": "a" * 1025}, "Parameter AllowedOutputBuckets is 1025 characters long"),
])
def test_bad_parameters_name_the_parameter(parameters: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParametersError, match=message):
        TranscribeJobOutputLocation().evaluate_parameters(parameters)


def test_lambda_handler_rejects_bad_parameters_with_invalid_parameter_value(sim: Any) -> None:
    deploy_rule(sim, RULE)
    response = rejected_parameters(lambda_handler, periodic_event(RULE, {"AllowedOutputBuckets": "BAD!"}))
    assert response["customerErrorCode"] == "InvalidParameterValueException"
    assert "AllowedOutputBuckets" in response["customerErrorMessage"]


def test_lambda_handler_posts_batches_and_cleans_up_deleted_jobs(account: Any) -> None:
    deploy_rule(account, RULE)
    for index in range(130):
        start_job(account, f"call-{index:03d}", OutputBucketName=OUT if index else None)
    batches: list[int] = []
    events = boto3._get_default_session().events
    handler_id = "count-put-evaluations"

    def count(params: dict[str, Any], **_: Any) -> None:
        batches.append(len(params["Evaluations"]))

    events.register("before-parameter-build.config-service.PutEvaluations", count, unique_id=handler_id)
    try:
        lambda_handler(periodic_event(RULE), None)
        first_batches = list(batches)
        stored = stored_verdicts(account, RULE)
        assert len(stored) == 130
        assert stored[f"{ARN}:transcription-job/call-000"] == ComplianceType.NON_COMPLIANT
        assert stored[f"{ARN}:transcription-job/call-129"] == ComplianceType.COMPLIANT
        assert first_batches == [100, 30]

        account.client("transcribe").delete_transcription_job(TranscriptionJobName="call-007")
        batches.clear()
        lambda_handler(periodic_event(RULE), None)
    finally:
        events.unregister("before-parameter-build.config-service.PutEvaluations", unique_id=handler_id)
    stored = stored_verdicts(account, RULE)
    assert stored[f"{ARN}:transcription-job/call-007"] == ComplianceType.NOT_APPLICABLE
    assert sum(1 for v in stored.values() if v != ComplianceType.NOT_APPLICABLE) == 129
    assert batches == [100, 30]  # 129 current results plus the deleted job's NOT_APPLICABLE
