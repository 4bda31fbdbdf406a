"""transcribe-job-output-location

Identifier: TRANSCRIBE_JOB_OUTPUT_LOCATION
Description: Every Transcribe job stores its output in a customer-owned S3 bucket, optionally one
    of an allowed list, not in a service-managed bucket.
Rationale: Output in Transcribe's service-managed bucket cannot be encrypted with your own KMS
    key, has no bucket policy or access logging of yours, and is reachable by anyone holding the
    presigned URL until it expires (AWS security practice 1, data protection).
Severity: High
Trigger: Periodic (AWS Config records no Transcribe resource type)
Reports on: each transcription, medical transcription, call analytics and medical scribe job, by
    ARN, as ReportedResourceType (default AWS::::Account)
Parameters:
    AllowedOutputBuckets (optional): comma-separated bucket names; output must be in one of them.
    ReportedResourceType (optional): ComplianceResourceType to report (default AWS::::Account).

Scenarios:
    1. Given no Transcribe jobs, then no evaluations are returned.
    2. Given a job that FAILED, then NOT_APPLICABLE: it wrote no output.
    3. Given a job that is QUEUED or IN_PROGRESS, then NOT_APPLICABLE until it completes.
    4. Given a completed job whose output is in a service-managed bucket, then NON_COMPLIANT.
    5. Given a completed job whose output is in a customer bucket and no AllowedOutputBuckets,
       then COMPLIANT.
    6. Given AllowedOutputBuckets and a completed job whose output bucket is not listed, then
       NON_COMPLIANT naming the bucket.
    7. Given AllowedOutputBuckets and a completed job whose output bucket is listed, then COMPLIANT.
    8. Given a call analytics job (its List summary carries no output location), then the rule
       reads the job and decides from its transcript URI as in scenarios 4-7.
    9. Given a medical scribe job: StartMedicalScribeJob requires OutputBucketName, so without
       AllowedOutputBuckets it is COMPLIANT from its summary; with it the job is read (6-7).
   10. Given a job whose summary or details do not say where its output is, then NON_COMPLIANT:
       a missing field never counts as compliant. Every output object counts (transcript,
       redacted transcript, clinical document): all must be in allowed customer buckets.
   11. Given a job that cannot be read (e.g. AccessDenied), then NON_COMPLIANT with an annotation
       starting "Could not evaluate:", and the other jobs are evaluated normally.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from botocore.exceptions import ClientError
from rdklib import ComplianceType, Evaluation

from rules.engine.base import Evaluator, RunContext
from rules.engine.incremental import RESOURCE_RULE_PARAMETERS, ResourceRule
from rules.inventory.s3_location import bucket_of, is_service_bucket
from rules.inventory.transcribe import (CALL_ANALYTICS_JOB, FAILED, FINISHED_OK, JOB_KINDS, JOB_READ_ACTIONS,
                                        MEDICAL_SCRIBE_JOB, Resource, ResourceKind, output_uris)

METADATA: dict[str, Any] = {
    "name": "transcribe-job-output-location",
    "order": 1,
    "title": "Transcribe job output is stored in a customer-owned bucket",
    "description": "Every transcription, medical transcription, call analytics and medical scribe job stores "
                   "its output in a customer-owned S3 bucket (optionally one of AllowedOutputBuckets), not in "
                   "a service-managed bucket.",
    "rationale": "Output in Transcribe's service-managed bucket cannot be encrypted with a customer KMS key, "
                 "has no customer bucket policy or logging, and is reachable by anyone holding its presigned URL.",
    "practice": 1,
    "severity": "high",
    "trigger": {"type": "periodic", "frequency": "TwentyFour_Hours"},
    "resource_kinds": [kind.key for kind in JOB_KINDS],
    "reports": "Each job by ARN, as ReportedResourceType (default AWS::::Account).",
    "not_applicable": "The job failed (it wrote no output) or has not completed yet.",
    "parameters": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "AllowedOutputBuckets": {
                "type": "string",
                "x-type": "list",
                "maxLength": 1024,
                "pattern": r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]",
                "x-pattern-hint": "each entry must be an S3 bucket name",
                "description": "Comma-separated bucket names; job output must be in one of them. Empty: any "
                               "customer-owned bucket.",
            },
            **RESOURCE_RULE_PARAMETERS,
        },
    },
    "iam_actions": list(JOB_READ_ACTIONS),
    "remediation": "Start jobs with OutputBucketName (call analytics: OutputLocation) set to a bucket you own and "
                   "encrypt with your KMS key; add that bucket to AllowedOutputBuckets. Completed jobs cannot be "
                   "changed: delete them with Delete*Job once their output has been moved.",
}

class TranscribeJobOutputLocation(ResourceRule):
    METADATA = METADATA

    def kinds(self, params: Mapping[str, Any]) -> Sequence[ResourceKind]:
        return JOB_KINDS

    def judge(self, ctx: RunContext, params: Mapping[str, Any]) -> Callable[[Resource], Evaluation]:
        allowed: list[str] = params["AllowedOutputBuckets"]
        return lambda job: self._evaluate_job(ctx, job, allowed)

    def _evaluate_job(self, ctx: RunContext, job: Resource, allowed: list[str]) -> Evaluation:
        label = job.kind.label.capitalize()
        if job.status == FAILED:  # Scenario 2
            return self.result(ctx, ComplianceType.NOT_APPLICABLE, job.arn, f"{label} failed and stored no output.")
        if job.status != FINISHED_OK:  # Scenario 3
            return self.result(ctx, ComplianceType.NOT_APPLICABLE, job.arn,
                               f"{label} has not completed; it is evaluated once it has output.")
        location_type = job.summary.get("OutputLocationType")
        if location_type == "SERVICE_BUCKET":  # Scenario 4, from the summary alone
            return self._service_bucket(ctx, job)
        if job.kind is MEDICAL_SCRIBE_JOB and not allowed:  # Scenario 9
            return self.result(ctx, ComplianceType.COMPLIANT, job.arn,
                               f"{label} output is in a customer bucket (OutputBucketName is required).")
        if location_type == "CUSTOMER_BUCKET" and not allowed:  # Scenario 5, from the summary alone
            return self.result(ctx, ComplianceType.COMPLIANT, job.arn, f"{label} output is in a customer-owned bucket.")

        try:  # Scenarios 6-8, 10: the bucket is only in the job's details
            detail = ctx.inventory.detail(job)
        except ClientError as error:  # Scenario 11
            return self.could_not_evaluate(ctx, job.arn, error, job.kind.label)
        buckets = [bucket_of(uri) for uri in output_uris(job.kind, detail)]
        if not buckets or None in buckets:  # Scenario 10
            return self.result(ctx, ComplianceType.NON_COMPLIANT, job.arn,
                               f"{label} details do not show where its output is stored.")
        if any(is_service_bucket(bucket) for bucket in buckets):  # Scenarios 4, 8
            return self._service_bucket(ctx, job)
        outside = sorted({str(b) for b in buckets if allowed and b not in allowed})
        if outside:  # Scenario 6
            return self.result(ctx, ComplianceType.NON_COMPLIANT, job.arn,
                               f"{label} output is in bucket {', '.join(outside)}, which is not in AllowedOutputBuckets.")
        return self.result(ctx, ComplianceType.COMPLIANT, job.arn,  # Scenarios 5, 7, 8
                           f"{label} output is in customer bucket {', '.join(sorted(set(map(str, buckets))))}.")

    def _service_bucket(self, ctx: RunContext, job: Resource) -> Evaluation:
        setting = "OutputLocation" if job.kind is CALL_ANALYTICS_JOB else "OutputBucketName"
        return self.result(ctx, ComplianceType.NON_COMPLIANT, job.arn,
                           f"{job.kind.label.capitalize()} output is in a service-managed bucket; "
                           f"set {setting} to a bucket you own.")


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return Evaluator(TranscribeJobOutputLocation()).handle(event, context)
