"""transcribe-job-pii-redaction

Identifier: TRANSCRIBE_JOB_PII_REDACTION
Description: Every transcription and call analytics job redacts personally identifiable
    information (PII) from its transcript, writes only the redacted transcript, and redacts at
    least the required PII entity types; optionally call analytics jobs also redact their audio
    and medical transcription jobs identify protected health information (PHI).
Rationale: Call recordings carry names, card numbers, addresses and health details. A transcript
    without redaction (or with an unredacted copy beside the redacted one) spreads that data to
    every system and person that reads transcripts (AWS security practice 3, PII redaction).
Severity: High
Trigger: Periodic (AWS Config records no Transcribe resource type)
Reports on: each transcription, call analytics, medical transcription and medical scribe job, by
    ARN, as ReportedResourceType (default AWS::::Account)
Parameters:
    AllowUnredactedOutput (optional, default false): true accepts RedactionOutput
        redacted_and_unredacted.
    RequiredPiiEntityTypes (optional): comma-separated PiiEntityType values (botocore's enum, ALL
        included) a job that redacts selected types only must include; ALL alone means a job must
        redact every type. Empty: any PII redaction will do.
    RequireRedactedAudio (optional, default false): true requires call analytics jobs to produce
        redacted audio (Media.RedactedMediaFileUri).
    RequireMedicalPhiIdentification (optional, default false): true requires medical
        transcription jobs to set ContentIdentificationType PHI.
    ReportedResourceType (optional): ComplianceResourceType to report (default AWS::::Account).

Redaction is a request setting, fixed when a job starts and returned by List (transcription
jobs) or Get (call analytics jobs) from then on. So QUEUED and IN_PROGRESS jobs are evaluated
like completed ones: a job that will write an unredacted transcript is flagged before it does.
A FAILED job wrote no transcript and is NOT_APPLICABLE.

Scenarios:
    1. Given no Transcribe jobs, then no evaluations are returned.
    2. Given a job that FAILED, then NOT_APPLICABLE: it wrote no transcript.
    3. Given a transcription or call analytics job (QUEUED, IN_PROGRESS or COMPLETED) without
       ContentRedaction, then NON_COMPLIANT.
    4. Given a job whose ContentRedaction is not RedactionType PII (or lacks a field the rule
       needs), then NON_COMPLIANT: a missing setting never counts as redaction.
    5. Given a job with RedactionOutput redacted_and_unredacted and AllowUnredactedOutput false
       (the default), then NON_COMPLIANT; with AllowUnredactedOutput true, the job is judged on
       the remaining scenarios.
    6. Given a job that redacts PII with RedactionOutput redacted and no PiiEntityTypes (or
       PiiEntityTypes containing ALL), then COMPLIANT: every PII type is redacted.
    7. Given RequiredPiiEntityTypes and a job whose PiiEntityTypes (without ALL) miss one of
       them, then NON_COMPLIANT naming the missing types; given they are all included, then
       COMPLIANT. RequiredPiiEntityTypes ALL requires every type (scenario 6's jobs only).
    8. Given a call analytics job, then the rule reads it (GetCallAnalyticsJob) and applies
       scenarios 3-7 to Settings.ContentRedaction; with RequireRedactedAudio true a job whose
       Media has no RedactedMediaFileUri is NON_COMPLIANT. Transcription jobs are decided from
       their List summaries alone (they carry ContentRedaction).
    9. Given a medical transcription job and RequireMedicalPhiIdentification false (the
       default), then NOT_APPLICABLE: Transcribe Medical has no PII redaction setting.
   10. Given a medical transcription job and RequireMedicalPhiIdentification true, then
       COMPLIANT when its summary shows ContentIdentificationType PHI, otherwise NON_COMPLIANT.
   11. Given a medical scribe job, then NOT_APPLICABLE: StartMedicalScribeJob has no redaction or
       identification setting.
   12. Given a call analytics job that cannot be read (e.g. AccessDenied), then NON_COMPLIANT
       with an annotation starting "Could not evaluate:", and the other jobs are evaluated
       normally.
   13. Given RequiredPiiEntityTypes with a value outside botocore's PiiEntityType enum, or ALL
       together with other types, or a boolean parameter other than true/false, then the rule
       raises InvalidParametersError naming the parameter.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import botocore.session
from botocore.exceptions import ClientError
from rdklib import ComplianceType, Evaluation

from rules.engine.base import Evaluator, RunContext, require
from rules.engine.incremental import RESOURCE_RULE_PARAMETERS, ResourceRule
from rules.inventory.transcribe import (CALL_ANALYTICS_JOB, FAILED, JOB_KINDS, JOB_LIST_ACTIONS, MEDICAL_SCRIBE_JOB,
                                        MEDICAL_TRANSCRIPTION_JOB, TRANSCRIPTION_JOB, Resource, ResourceKind, get_actions)

ALL_TYPES = "ALL"
REDACTED_ONLY = "redacted"
REDACTED_AND_UNREDACTED = "redacted_and_unredacted"


def _pii_entity_types() -> list[str]:
    """PiiEntityType values as the pinned botocore defines them (ALL included). Reads the bundled
    service model only: no client, no request."""
    shape = botocore.session.get_session().get_service_model("transcribe").shape_for("PiiEntityType")
    return [str(value) for value in getattr(shape, "enum", [])]


PII_ENTITY_TYPES = _pii_entity_types()

METADATA: dict[str, Any] = {
    "name": "transcribe-job-pii-redaction",
    "order": 2,
    "title": "Transcribe jobs redact personally identifiable information",
    "description": "Every transcription and call analytics job redacts PII (the required entity types, redacted "
                   "output only, optionally redacted audio); optionally medical transcription jobs identify PHI.",
    "rationale": "Call recordings carry names, card numbers, addresses and health details; an unredacted transcript "
                 "spreads them to every system and person that reads transcripts.",
    "practice": 3,
    "severity": "high",
    "trigger": {"type": "periodic", "frequency": "TwentyFour_Hours"},
    "resource_kinds": [kind.key for kind in JOB_KINDS],
    "reports": "Each job by ARN, as ReportedResourceType (default AWS::::Account).",
    "not_applicable": "The job failed (it wrote no transcript), is a medical scribe job (no redaction setting), or is "
                      "a medical transcription job while RequireMedicalPhiIdentification is false.",
    "parameters": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "AllowUnredactedOutput": {
                "type": "string",
                "x-type": "boolean",
                "default": "false",
                "description": "true accepts RedactionOutput redacted_and_unredacted (an unredacted transcript is "
                               "written beside the redacted one).",
            },
            "RequiredPiiEntityTypes": {
                "type": "string",
                "x-type": "list",
                "maxLength": 1024,
                "enum": PII_ENTITY_TYPES,
                "description": "Comma-separated PiiEntityType values a job that redacts selected types must include; "
                               "ALL alone requires every type. Empty: any PII redaction.",
            },
            "RequireRedactedAudio": {
                "type": "string",
                "x-type": "boolean",
                "default": "false",
                "description": "true requires call analytics jobs to produce redacted audio (Media.RedactedMediaFileUri).",
            },
            "RequireMedicalPhiIdentification": {
                "type": "string",
                "x-type": "boolean",
                "default": "false",
                "description": "true requires medical transcription jobs to set ContentIdentificationType PHI; false "
                               "reports them NOT_APPLICABLE.",
            },
            **RESOURCE_RULE_PARAMETERS,
        },
    },
    "iam_actions": [*JOB_LIST_ACTIONS, *get_actions(CALL_ANALYTICS_JOB)],  # only call analytics jobs are read
    "remediation": "Start jobs with ContentRedaction {RedactionType: PII, RedactionOutput: redacted} (call analytics: "
                   "Settings.ContentRedaction and Media.RedactedMediaFileUri for audio; medical: "
                   "ContentIdentificationType PHI). Settings cannot be changed after start: re-run the job and delete "
                   "the old one and its unredacted output.",
}


class TranscribeJobPiiRedaction(ResourceRule):
    METADATA = METADATA

    def evaluate_parameters(self, rule_parameters: Any) -> dict[str, Any]:
        params = super().evaluate_parameters(rule_parameters)
        required: list[str] = params["RequiredPiiEntityTypes"]
        require(ALL_TYPES not in required or required == [ALL_TYPES],  # Scenario 13
                "Parameter RequiredPiiEntityTypes lists ALL with other types; ALL already covers them, list it alone.")
        return params

    def kinds(self, params: Mapping[str, Any]) -> Sequence[ResourceKind]:
        return JOB_KINDS

    def judge(self, ctx: RunContext, params: Mapping[str, Any]) -> Callable[[Resource], Evaluation]:
        return lambda job: self._evaluate_job(ctx, job, params)

    def _evaluate_job(self, ctx: RunContext, job: Resource, params: Mapping[str, Any]) -> Evaluation:
        label = job.kind.label.capitalize()
        if job.kind is MEDICAL_SCRIBE_JOB:  # Scenario 11
            return self.result(ctx, ComplianceType.NOT_APPLICABLE, job.arn,
                               f"{label}s have no redaction setting in the Transcribe API.")
        if job.kind is MEDICAL_TRANSCRIPTION_JOB and not params["RequireMedicalPhiIdentification"]:  # Scenario 9
            return self.result(ctx, ComplianceType.NOT_APPLICABLE, job.arn,
                               f"{label}s have no PII redaction setting; set RequireMedicalPhiIdentification to "
                               "true to require PHI identification.")
        if job.status == FAILED:  # Scenario 2
            return self.result(ctx, ComplianceType.NOT_APPLICABLE, job.arn, f"{label} failed and wrote no transcript.")
        if job.kind is MEDICAL_TRANSCRIPTION_JOB:  # Scenario 10, from the summary alone
            if job.summary.get("ContentIdentificationType") == "PHI":
                return self.result(ctx, ComplianceType.COMPLIANT, job.arn,
                                   f"{label} identifies protected health information (ContentIdentificationType PHI).")
            return self.result(ctx, ComplianceType.NON_COMPLIANT, job.arn,
                               f"{label} does not identify protected health information; set "
                               "ContentIdentificationType to PHI.")
        if job.kind is TRANSCRIPTION_JOB:  # Scenario 8: the summary carries ContentRedaction
            return self._judge(ctx, job, job.summary.get("ContentRedaction"), None, params)
        try:  # Scenario 8: call analytics settings are only in the job's details
            detail = ctx.inventory.detail(job)
        except ClientError as error:  # Scenario 12
            return self.could_not_evaluate(ctx, job.arn, error, job.kind.label)
        redaction = (detail.get("Settings") or {}).get("ContentRedaction")
        redacted_audio = bool((detail.get("Media") or {}).get("RedactedMediaFileUri"))
        return self._judge(ctx, job, redaction, redacted_audio, params)

    def _judge(self, ctx: RunContext, job: Resource, redaction: Mapping[str, Any] | None,
               redacted_audio: bool | None, params: Mapping[str, Any]) -> Evaluation:
        """Scenarios 3-8 on one job's ContentRedaction (``redacted_audio`` is None for jobs that
        cannot redact audio)."""
        label = job.kind.label.capitalize()
        setting = "Settings.ContentRedaction" if job.kind is CALL_ANALYTICS_JOB else "ContentRedaction"
        if not redaction:  # Scenario 3
            return self.result(ctx, ComplianceType.NON_COMPLIANT, job.arn,
                               f"{label} does not redact PII; set {setting} with RedactionType PII.")
        if redaction.get("RedactionType") != "PII":  # Scenario 4
            return self.result(ctx, ComplianceType.NON_COMPLIANT, job.arn,
                               f"{label} {setting} does not set RedactionType PII.")
        output = redaction.get("RedactionOutput")
        if output == REDACTED_AND_UNREDACTED and not params["AllowUnredactedOutput"]:  # Scenario 5
            return self.result(ctx, ComplianceType.NON_COMPLIANT, job.arn,
                               f"{label} also writes an unredacted transcript (RedactionOutput "
                               f"{REDACTED_AND_UNREDACTED}); set RedactionOutput to {REDACTED_ONLY}.")
        if output not in (REDACTED_ONLY, REDACTED_AND_UNREDACTED):  # Scenario 4
            return self.result(ctx, ComplianceType.NON_COMPLIANT, job.arn,
                               f"{label} {setting} does not say which transcripts it writes (RedactionOutput).")
        types: list[str] = list(redaction.get("PiiEntityTypes") or [])
        required: list[str] = params["RequiredPiiEntityTypes"]
        if types and ALL_TYPES not in types:  # Scenario 7
            if required == [ALL_TYPES]:
                return self.result(ctx, ComplianceType.NON_COMPLIANT, job.arn,
                                   f"{label} redacts selected PII entity types only; RequiredPiiEntityTypes ALL "
                                   "requires PiiEntityTypes ALL or no PiiEntityTypes.")
            missing = [t for t in required if t not in types]
            if missing:
                shown = ", ".join(missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
                return self.result(ctx, ComplianceType.NON_COMPLIANT, job.arn,
                                   f"{label} does not redact required PII entity types: {shown}.")
        if redacted_audio is False and params["RequireRedactedAudio"]:  # Scenario 8
            return self.result(ctx, ComplianceType.NON_COMPLIANT, job.arn,
                               f"{label} does not produce redacted audio; set Media.RedactedMediaFileUri.")
        if not types or ALL_TYPES in types:
            what = "all PII entity types"
        else:
            what = "the required PII entity types" if required else "selected PII entity types"
        extra = " and its audio" if redacted_audio and params["RequireRedactedAudio"] else ""
        return self.result(ctx, ComplianceType.COMPLIANT, job.arn,  # Scenarios 5-8
                           f"{label} redacts {what} from its transcript{extra}.")


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return Evaluator(TranscribeJobPiiRedaction()).handle(event, context)
