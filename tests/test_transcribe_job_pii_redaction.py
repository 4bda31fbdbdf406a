"""transcribe-job-pii-redaction against the simulated account: jobs are started through plain
boto3 calls, as a user's pipeline would, and the rule's verdicts are compared exactly."""

from __future__ import annotations

from typing import Any, Mapping

import jsonschema
import pytest
from rdklib import ClientFactory, ComplianceType, Evaluation, InvalidParametersError

from rules.engine.base import RunContext, inventory_for
from rules.catalog.registry import RULES, metadata_schema
from rules.inventory.transcribe import TRANSCRIPTION_JOB, Resource, TranscribeInventory
from rules.transcribe_job_pii_redaction import METADATA, PII_ENTITY_TYPES, TranscribeJobPiiRedaction, lambda_handler
from tests.helpers import rejected_parameters
from tests.helpers import (ACCOUNT, REGION, access_denied, deploy_rule, fail_calls, periodic_event, put_media,
                           stored_verdicts)

RULE = "transcribe-job-pii-redaction"
TYPE = "AWS::::Account"
AUDIO, TRANSCRIPTS = "acme-call-audio", "acme-transcripts"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/TranscribeDataAccess"
REDACT_ALL = {"RedactionType": "PII", "RedactionOutput": "redacted"}
NC, OK, NA = ComplianceType.NON_COMPLIANT, ComplianceType.COMPLIANT, ComplianceType.NOT_APPLICABLE


def arn(kind: str, name: str) -> str:
    return f"arn:aws:transcribe:{REGION}:{ACCOUNT}:{kind}/{name}"


def run(parameters: Mapping[str, str] | None = None, factory: Any = None) -> dict[str, Evaluation]:
    """The rule's evaluations by resource id (each resource is evaluated once)."""
    rule = TranscribeJobPiiRedaction()
    factory = factory or ClientFactory(role_arn=None, region=REGION, assume_role_mode=False)
    evaluations = rule.evaluate_periodic({"accountId": ACCOUNT}, factory, rule.evaluate_parameters(parameters or {}))
    by_id = {e.complianceResourceId: e for e in evaluations}
    assert len(by_id) == len(evaluations)
    return by_id


def expect(compliance: str, resource_id: str, text: str) -> Evaluation:
    return Evaluation(compliance, resource_id, TYPE, text)


# --- seeding, as a pipeline would -------------------------------------------------------------


@pytest.fixture
def media(sim: Any) -> str:
    put_media(sim, AUDIO, ["calls/call-1.wav"])
    sim.client("s3").create_bucket(Bucket=TRANSCRIPTS)
    return f"s3://{AUDIO}/calls/call-1.wav"


def start_transcription(sim: Any, name: str, redaction: dict[str, Any] | None = REDACT_ALL,
                        media: str = f"s3://{AUDIO}/calls/call-1.wav") -> str:
    request: dict[str, Any] = {"TranscriptionJobName": name, "LanguageCode": "en-US", "Media": {"MediaFileUri": media},
                               "OutputBucketName": TRANSCRIPTS}
    if redaction is not None:
        request["ContentRedaction"] = redaction
    sim.client("transcribe").start_transcription_job(**request)
    return arn("transcription-job", name)


def start_analytics(sim: Any, name: str, redaction: dict[str, Any] | None = REDACT_ALL, redacted_audio: bool = False,
                    media: str = f"s3://{AUDIO}/calls/call-1.wav") -> str:
    request: dict[str, Any] = {
        "CallAnalyticsJobName": name, "Media": {"MediaFileUri": media}, "DataAccessRoleArn": ROLE,
        "OutputLocation": f"s3://{TRANSCRIPTS}/analytics/",
        "ChannelDefinitions": [{"ChannelId": 0, "ParticipantRole": "AGENT"},
                               {"ChannelId": 1, "ParticipantRole": "CUSTOMER"}]}
    if redaction is not None:
        request["Settings"] = {"ContentRedaction": redaction}
    if redacted_audio:
        request["Media"]["RedactedMediaFileUri"] = f"s3://{TRANSCRIPTS}/redacted-audio/"
    sim.client("transcribe").start_call_analytics_job(**request)
    return arn("analytics", name)


def start_medical(sim: Any, name: str, phi: bool, media: str = f"s3://{AUDIO}/calls/call-1.wav") -> str:
    request: dict[str, Any] = {"MedicalTranscriptionJobName": name, "LanguageCode": "en-US",
                               "Specialty": "PRIMARYCARE", "Type": "CONVERSATION", "Media": {"MediaFileUri": media},
                               "OutputBucketName": TRANSCRIPTS}
    if phi:
        request["ContentIdentificationType"] = "PHI"
    sim.client("transcribe").start_medical_transcription_job(**request)
    return arn("medical-transcription-job", name)


def start_scribe(sim: Any, name: str) -> str:
    sim.client("transcribe").start_medical_scribe_job(
        MedicalScribeJobName=name, Media={"MediaFileUri": f"s3://{AUDIO}/calls/call-1.wav"},
        OutputBucketName=TRANSCRIPTS, DataAccessRoleArn=ROLE, Settings={"ShowSpeakerLabels": True, "MaxSpeakerLabels": 2})
    return arn("medical-scribe-job", name)


# --- metadata ---------------------------------------------------------------------------------


def test_metadata_validates_and_is_registered() -> None:
    jsonschema.Draft202012Validator(metadata_schema(), format_checker=jsonschema.FormatChecker()).validate(METADATA)
    assert RULES[RULE] is TranscribeJobPiiRedaction
    assert TranscribeJobPiiRedaction.__module__ == "rules." + RULE.replace("-", "_")
    assert METADATA["parameters"]["properties"]["RequiredPiiEntityTypes"]["enum"] == PII_ENTITY_TYPES
    assert {"NAME", "SSN", "CREDIT_DEBIT_NUMBER", "ALL"} <= set(PII_ENTITY_TYPES)


def test_declared_iam_actions_are_exactly_the_calls_made(sim: Any, media: str) -> None:
    start_transcription(sim, "tj")
    start_analytics(sim, "ca", redacted_audio=True)
    start_medical(sim, "mt", phi=True)
    start_scribe(sim, "ms")
    factory = ClientFactory(role_arn=None, region=REGION, assume_role_mode=False)
    run({"RequireRedactedAudio": "true", "RequireMedicalPhiIdentification": "true"}, factory)
    calls = inventory_for(factory, ACCOUNT).calls
    called = {"transcribe:" + "".join(part.capitalize() for part in op.split("_")) for op in calls}
    assert called == set(METADATA["iam_actions"])


# --- scenarios --------------------------------------------------------------------------------


def test_scenario1_no_jobs_no_evaluations(sim: Any) -> None:
    assert run() == {}


def test_scenario2_failed_jobs_are_not_applicable(sim: Any, media: str) -> None:
    missing = f"s3://{AUDIO}/calls/typo.wav"  # the service fails a job whose media is missing
    tj = start_transcription(sim, "tj-failed", redaction=None, media=missing)
    ca = start_analytics(sim, "ca-failed", redaction=None, media=missing)
    mt = start_medical(sim, "mt-failed", phi=False, media=missing)
    factory = ClientFactory(role_arn=None, region=REGION, assume_role_mode=False)
    assert run({"RequireMedicalPhiIdentification": "true"}, factory) == {
        tj: expect(NA, tj, "Transcription job failed and wrote no transcript."),
        ca: expect(NA, ca, "Call analytics job failed and wrote no transcript."),
        mt: expect(NA, mt, "Medical transcription job failed and wrote no transcript."),
    }
    assert "get_call_analytics_job" not in inventory_for(factory, ACCOUNT).calls  # decided from the summary


def test_scenario3_jobs_without_redaction_are_non_compliant(sim: Any, media: str) -> None:
    tj = start_transcription(sim, "tj-plain", redaction=None)
    ca = start_analytics(sim, "ca-plain", redaction=None)
    assert run() == {
        tj: expect(NC, tj, "Transcription job does not redact PII; set ContentRedaction with RedactionType PII."),
        ca: expect(NC, ca, "Call analytics job does not redact PII; set Settings.ContentRedaction with "
                           "RedactionType PII."),
    }


def test_scenario3_in_progress_jobs_are_judged_on_their_request_settings(sim: Any, media: str) -> None:
    sim.transcribe.hold_jobs = True
    good = start_transcription(sim, "tj-running-redacted")
    bad = start_transcription(sim, "tj-running-plain", redaction=None)
    ca = start_analytics(sim, "ca-running-plain", redaction=None)
    statuses = {s["TranscriptionJobStatus"] for s in
                sim.client("transcribe").list_transcription_jobs()["TranscriptionJobSummaries"]}
    assert statuses == {"IN_PROGRESS"}
    assert {k: e.complianceType for k, e in run().items()} == {good: OK, bad: NC, ca: NC}


def test_scenario4_incomplete_or_non_pii_redaction_is_non_compliant() -> None:
    """Pure logic on List summaries: the API only accepts complete PII settings, so a summary
    lacking them is a partial or unexpected response, and never counts as redaction."""
    ctx = RunContext(ACCOUNT, REGION, "aws", None, TYPE, None)  # type: ignore[arg-type]
    params = TranscribeJobPiiRedaction().evaluate_parameters({})

    def judge(redaction: dict[str, Any]) -> Evaluation:
        summary = {"TranscriptionJobName": "tj", "TranscriptionJobStatus": "COMPLETED", "ContentRedaction": redaction}
        job = Resource(TRANSCRIPTION_JOB, "tj", arn("transcription-job", "tj"), summary)
        return TranscribeJobPiiRedaction()._evaluate_job(ctx, job, params)

    tj = arn("transcription-job", "tj")
    assert judge({"RedactionType": "PHI", "RedactionOutput": "redacted"}) == expect(
        NC, tj, "Transcription job ContentRedaction does not set RedactionType PII.")
    assert judge({"RedactionType": "PII"}) == expect(
        NC, tj, "Transcription job ContentRedaction does not say which transcripts it writes (RedactionOutput).")


def test_scenario5_unredacted_copy_is_non_compliant_unless_allowed(sim: Any, media: str) -> None:
    both = start_transcription(sim, "tj-both", redaction={**REDACT_ALL, "RedactionOutput": "redacted_and_unredacted"})
    ca_both = start_analytics(sim, "ca-both", redaction={**REDACT_ALL, "RedactionOutput": "redacted_and_unredacted"})
    text = ("{} also writes an unredacted transcript (RedactionOutput redacted_and_unredacted); set RedactionOutput "
            "to redacted.")
    assert run() == {
        both: expect(NC, both, text.format("Transcription job")),
        ca_both: expect(NC, ca_both, text.format("Call analytics job")),
    }
    assert run({"AllowUnredactedOutput": "true"}) == {
        both: expect(OK, both, "Transcription job redacts all PII entity types from its transcript."),
        ca_both: expect(OK, ca_both, "Call analytics job redacts all PII entity types from its transcript."),
    }


def test_scenario6_redacting_all_types_is_compliant(sim: Any, media: str) -> None:
    absent = start_transcription(sim, "tj-default-types")
    listed_all = start_transcription(sim, "tj-all", redaction={**REDACT_ALL, "PiiEntityTypes": ["ALL"]})
    ca = start_analytics(sim, "ca-all", redaction={**REDACT_ALL, "PiiEntityTypes": ["ALL"]})
    text = "{} redacts all PII entity types from its transcript."
    expected = {
        absent: expect(OK, absent, text.format("Transcription job")),
        listed_all: expect(OK, listed_all, text.format("Transcription job")),
        ca: expect(OK, ca, text.format("Call analytics job")),
    }
    assert run() == expected
    assert run({"RequiredPiiEntityTypes": "NAME,SSN"}) == expected
    assert run({"RequiredPiiEntityTypes": "ALL"}) == expected


def test_scenario7_selected_types_must_include_the_required_ones(sim: Any, media: str) -> None:
    names_only = start_transcription(sim, "tj-names", redaction={**REDACT_ALL, "PiiEntityTypes": ["NAME"]})
    wide = start_transcription(sim, "tj-wide", redaction={**REDACT_ALL, "PiiEntityTypes": ["NAME", "SSN", "EMAIL"]})
    ca_cards = start_analytics(sim, "ca-cards", redaction={**REDACT_ALL, "PiiEntityTypes": ["CREDIT_DEBIT_NUMBER"]})
    # Without RequiredPiiEntityTypes any PII redaction will do.
    assert run() == {
        names_only: expect(OK, names_only, "Transcription job redacts selected PII entity types from its transcript."),
        wide: expect(OK, wide, "Transcription job redacts selected PII entity types from its transcript."),
        ca_cards: expect(OK, ca_cards, "Call analytics job redacts selected PII entity types from its transcript."),
    }
    assert run({"RequiredPiiEntityTypes": "NAME, SSN"}) == {
        names_only: expect(NC, names_only, "Transcription job does not redact required PII entity types: SSN."),
        wide: expect(OK, wide, "Transcription job redacts the required PII entity types from its transcript."),
        ca_cards: expect(NC, ca_cards, "Call analytics job does not redact required PII entity types: NAME, SSN."),
    }
    only_all = ("{} redacts selected PII entity types only; RequiredPiiEntityTypes ALL requires PiiEntityTypes ALL "
                "or no PiiEntityTypes.")
    assert run({"RequiredPiiEntityTypes": "ALL"}) == {
        names_only: expect(NC, names_only, only_all.format("Transcription job")),
        wide: expect(NC, wide, only_all.format("Transcription job")),
        ca_cards: expect(NC, ca_cards, only_all.format("Call analytics job")),
    }


def test_scenario7_many_missing_types_fit_one_short_annotation(sim: Any, media: str) -> None:
    job = start_transcription(sim, "tj-pin", redaction={**REDACT_ALL, "PiiEntityTypes": ["PIN"]})
    required = [t for t in PII_ENTITY_TYPES if t not in ("ALL", "PIN")]
    evaluation = run({"RequiredPiiEntityTypes": ",".join(required)})[job]
    assert evaluation == expect(NC, job, "Transcription job does not redact required PII entity types: "
                                         f"{', '.join(required[:6])} and {len(required) - 6} more.")
    assert len(evaluation.annotation) < 256


def test_scenario8_call_analytics_redacted_audio(sim: Any, media: str) -> None:
    with_audio = start_analytics(sim, "ca-audio", redacted_audio=True)
    text_only = start_analytics(sim, "ca-text-only")
    factory = ClientFactory(role_arn=None, region=REGION, assume_role_mode=False)
    assert run({"RequireRedactedAudio": "true"}, factory) == {
        with_audio: expect(OK, with_audio, "Call analytics job redacts all PII entity types from its transcript and "
                                           "its audio."),
        text_only: expect(NC, text_only, "Call analytics job does not produce redacted audio; set "
                                         "Media.RedactedMediaFileUri."),
    }
    assert inventory_for(factory, ACCOUNT).calls["get_call_analytics_job"] == 2
    text = "Call analytics job redacts all PII entity types from its transcript."
    assert run() == {with_audio: expect(OK, with_audio, text), text_only: expect(OK, text_only, text)}


def test_scenario8_transcription_jobs_are_decided_from_paged_summaries(sim: Any, media: str) -> None:
    """Pagination past 100: the one unredacted job is the oldest, so it is on the second page."""
    plain = start_transcription(sim, "tj-000-plain", redaction=None)
    redacted = [start_transcription(sim, f"tj-{index:03d}") for index in range(1, 102)]
    factory = ClientFactory(role_arn=None, region=REGION, assume_role_mode=False)
    result = run(factory=factory)
    assert {k: e.complianceType for k, e in result.items()} == {plain: NC, **{job: OK for job in redacted}}
    calls = inventory_for(factory, ACCOUNT).calls
    assert calls["list_transcription_jobs"] == 2
    assert "get_transcription_job" not in calls  # the List summaries carry ContentRedaction


def test_scenario9_medical_jobs_not_applicable_by_default(sim: Any, media: str) -> None:
    with_phi = start_medical(sim, "mt-phi", phi=True)
    without = start_medical(sim, "mt-plain", phi=False)
    text = ("Medical transcription jobs have no PII redaction setting; set RequireMedicalPhiIdentification to true "
            "to require PHI identification.")
    assert run() == {with_phi: expect(NA, with_phi, text), without: expect(NA, without, text)}


def test_scenario10_medical_jobs_must_identify_phi_when_required(sim: Any, media: str) -> None:
    with_phi = start_medical(sim, "mt-phi", phi=True)
    without = start_medical(sim, "mt-plain", phi=False)
    factory = ClientFactory(role_arn=None, region=REGION, assume_role_mode=False)
    assert run({"RequireMedicalPhiIdentification": "true"}, factory) == {
        with_phi: expect(OK, with_phi, "Medical transcription job identifies protected health information "
                                       "(ContentIdentificationType PHI)."),
        without: expect(NC, without, "Medical transcription job does not identify protected health information; set "
                                     "ContentIdentificationType to PHI."),
    }
    assert "get_medical_transcription_job" not in inventory_for(factory, ACCOUNT).calls


def test_scenario11_medical_scribe_jobs_not_applicable(sim: Any, media: str) -> None:
    scribe = start_scribe(sim, "ms-visit")
    expected = {scribe: expect(NA, scribe, "Medical scribe jobs have no redaction setting in the Transcribe API.")}
    assert run() == expected
    assert run({"RequireMedicalPhiIdentification": "true", "RequireRedactedAudio": "true"}) == expected


def test_scenario12_unreadable_job_fails_closed_and_others_are_evaluated(sim: Any, media: str,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    denied = start_analytics(sim, "ca-denied")
    readable = start_analytics(sim, "ca-readable")
    tj = start_transcription(sim, "tj-redacted")
    fail_calls(monkeypatch, TranscribeInventory, "_call",
               lambda self, operation, **kwargs: kwargs.get("CallAnalyticsJobName") == "ca-denied",
               lambda: access_denied("GetCallAnalyticsJob"))
    assert run() == {
        denied: expect(NC, denied, "Could not evaluate: AccessDeniedException when reading call analytics job."),
        readable: expect(OK, readable, "Call analytics job redacts all PII entity types from its transcript."),
        tj: expect(OK, tj, "Transcription job redacts all PII entity types from its transcript."),
    }


BAD_PARAMETERS = [
    ({"RequiredPiiEntityTypes": "NAME,FULL_NAME"}, "RequiredPiiEntityTypes"),
    ({"RequiredPiiEntityTypes": "name"}, "RequiredPiiEntityTypes"),
    ({"RequiredPiiEntityTypes": "ALL,SSN"}, "RequiredPiiEntityTypes"),
    ({"AllowUnredactedOutput": "yes"}, "AllowUnredactedOutput"),
    ({"RequireRedactedAudio": "1"}, "RequireRedactedAudio"),
    ({"RequireMedicalPhiIdentification": "enabled"}, "RequireMedicalPhiIdentification"),
    ({"ReportedResourceType": "Transcribe job"}, "ReportedResourceType"),
    ({"RequiredPiiEntityType": "SSN"}, "RequiredPiiEntityType"),  # misspelt name
]


@pytest.mark.parametrize(("parameters", "named"), BAD_PARAMETERS)
def test_scenario13_bad_parameters_raise_naming_the_parameter(parameters: dict[str, str], named: str) -> None:
    with pytest.raises(InvalidParametersError, match=named):
        TranscribeJobPiiRedaction().evaluate_parameters(parameters)


@pytest.mark.parametrize(("parameters", "named"), BAD_PARAMETERS[:4])
def test_scenario13_bad_parameters_through_the_lambda_handler(sim: Any, parameters: dict[str, str],
                                                              named: str) -> None:
    deploy_rule(sim, RULE)
    response = rejected_parameters(lambda_handler, periodic_event(RULE, parameters))
    assert response["customerErrorCode"] == "InvalidParameterValueException"
    assert named in response["customerErrorMessage"]
    # Issue 12: no longer silent; the account says why nothing else was judged.
    assert stored_verdicts(sim, RULE) == {ACCOUNT: "NON_COMPLIANT"}


def test_lambda_handler_puts_evaluations_into_config(sim: Any, media: str) -> None:
    deploy_rule(sim, RULE)
    good = start_transcription(sim, "tj-good")
    unredacted = start_transcription(sim, "tj-both", redaction={**REDACT_ALL, "RedactionOutput": "redacted_and_unredacted"})
    ca_no_audio = start_analytics(sim, "ca-no-audio")
    ca_audio = start_analytics(sim, "ca-audio", redacted_audio=True)
    failed = start_transcription(sim, "tj-failed", media=f"s3://{AUDIO}/calls/typo.wav")
    scribe = start_scribe(sim, "ms-visit")
    medical = start_medical(sim, "mt-plain", phi=False)
    lambda_handler(periodic_event(RULE, {"RequireRedactedAudio": "true", "RequireMedicalPhiIdentification": "true",
                                         "RequiredPiiEntityTypes": "NAME,SSN"}), None)
    assert stored_verdicts(sim, RULE) == {good: OK, unredacted: NC, ca_no_audio: NC, ca_audio: OK, failed: NA,
                                          scribe: NA, medical: NC}
    # The next run after the unredacted job is deleted reports it NOT_APPLICABLE (rdklib's clean-up).
    sim.client("transcribe").delete_transcription_job(TranscriptionJobName="tj-both")
    lambda_handler(periodic_event(RULE, {"RequireRedactedAudio": "true"}), None)
    assert stored_verdicts(sim, RULE) == {good: OK, unredacted: NA, ca_no_audio: NC, ca_audio: OK, failed: NA,
                                          scribe: NA, medical: NA}
