"""transcribe-job-output-encrypted

Identifier: TRANSCRIBE_JOB_OUTPUT_ENCRYPTED
Description: The output of every completed Transcribe job is encrypted at rest with a customer
    managed KMS key, optionally one of an allowed list.
Rationale: Transcripts and clinical documents hold what callers and patients said. With a customer
    managed key you control who can decrypt them, can audit every use in CloudTrail, and can revoke
    access by disabling the key; an AWS managed or S3-managed key gives none of that (AWS security
    practice 1, data protection).
Severity: High
Trigger: Periodic (AWS Config records no Transcribe resource type)
Reports on: each transcription, medical transcription, call analytics and medical scribe job, by
    ARN, as ReportedResourceType (default AWS::::Account)
Parameters:
    EvidenceSource (optional, default bucket): where the evidence comes from.
        bucket: the output bucket must enforce SSE-KMS: default encryption aws:kms or
            aws:kms:dsse with a customer managed key, AND a bucket policy whose Deny refuses
            PutObject requests that ask for other encryption (AWS's "incorrect encryption header"
            statement, with or without its Null condition).
        object: HeadObject on each output object (transcript, redacted transcript, clinical
            document) must show SSE-KMS with a customer managed key. HeadObject needs s3:GetObject
            on the output buckets, which the rule's generated role policy does NOT grant: add it
            to the role yourself (scoped to the output buckets) before choosing this mode.
    KmsKeyArns (optional): comma-separated KMS key ARNs; only these keys count. In bucket mode the
        bucket policy must then also refuse uploads that name any other key.
    ReportedResourceType (optional): ComplianceResourceType to report (default AWS::::Account).

Why evidence and not the job itself: StartTranscriptionJob and its siblings accept
OutputEncryptionKMSKeyId, but no Get or List operation returns it, so the job cannot say how its
output was encrypted. The bucket's enforced settings (or the objects themselves) can.

How a bucket policy is judged: by simulating PutObject requests with rules.policy.evaluation (see
rules.inventory.s3_kms), never by searching the JSON. For every kind of caller (a role of the account, a
role of another account, the Transcribe service, an anonymous caller) some Deny statement must
refuse an upload asking for AES256 while not refusing one asking for the bucket's own KMS key;
with KmsKeyArns, likewise an upload naming an unlisted key; and when the bucket explicitly allows
SSE-C (BlockedEncryptionTypes NONE), an SSE-C upload. Uploads naming no encryption are not probed:
the KMS default encrypts them. Known limit: without KmsKeyArns a policy that pins only the
algorithm passes, so an upload naming aws:kms with another key is not excluded; set KmsKeyArns or
use EvidenceSource=object to close that gap.

Each bucket and key is looked up once per run (rules.inventory.s3_kms), however many jobs use it. Object
keys are customer content: they are used for HeadObject only, never in annotations or logs.

Scenarios:
    1. Given no Transcribe jobs, then no evaluations are returned.
    2. Given a job that FAILED, then NOT_APPLICABLE: it wrote no output.
    3. Given a job that is QUEUED or IN_PROGRESS, then NOT_APPLICABLE until it has output.
    4. Given a completed job whose output is in a service-managed bucket (from the summary for
       transcription and medical transcription jobs, otherwise from the job's details), then
       NON_COMPLIANT: no customer key is possible there.
    5. Given a completed job whose details name no output object, then NON_COMPLIANT (fail closed).
    6. Given EvidenceSource=bucket and an output bucket with SSE-KMS default encryption under a
       customer managed key and a bucket policy refusing other encryption, then COMPLIANT.
    7. Given EvidenceSource=bucket and an output bucket with no default encryption, then
       NON_COMPLIANT.
    8. Given EvidenceSource=bucket and an output bucket whose default is SSE-S3 (AES256) or another
       non-KMS algorithm, then NON_COMPLIANT.
    9. Given EvidenceSource=bucket and a KMS default under an AWS managed key (aws/s3, named or
       implied by a missing KMSMasterKeyID), then NON_COMPLIANT.
   10. Given EvidenceSource=bucket, a customer managed KMS default and no bucket policy, or one
       that does not refuse other encryption for every caller, then NON_COMPLIANT naming the
       missing evidence: default encryption alone is not proof.
   11. Given KmsKeyArns and a key that is not listed (bucket default key, or an object's key), or
       in bucket mode a policy that does not refuse uploads naming unlisted keys, then
       NON_COMPLIANT.
   12. Given EvidenceSource=object, then COMPLIANT when every output object reports SSE-KMS
       (aws:kms or aws:kms:dsse) under a customer managed key, else NON_COMPLIANT (e.g. AES256).
   13. Given an API error on a job, a bucket setting, a key or an object (e.g. AccessDenied), then
       that job is NON_COMPLIANT with an annotation starting "Could not evaluate:" naming the error
       code, and every other job is evaluated normally.
   14. Given a job with several output objects or buckets, then every one must pass; the first
       failure is reported.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from botocore.exceptions import ClientError
from rdklib import ComplianceType, Evaluation

from rules.engine.base import Evaluator, RunContext
from rules.engine.incremental import RESOURCE_RULE_PARAMETERS, ResourceRule
from rules.policy.evaluation import PolicyError
from rules.inventory.s3_kms import (KMS_ALGORITHMS, KMS_KEY_ARNS_PARAMETER, SSE, SSE_KMS_KEY, S3KmsLookups,
                                    kms_enforcement_probes, lookups_for, object_location, unrefused)
from rules.inventory.s3_location import bucket_of, is_service_bucket
from rules.inventory.transcribe import (FAILED, FINISHED_OK, JOB_KINDS, JOB_READ_ACTIONS, Resource, ResourceKind,
                                        error_code, output_uris)

METADATA: dict[str, Any] = {
    "name": "transcribe-job-output-encrypted",
    "order": 4,
    "title": "Transcribe job output is encrypted with a customer managed KMS key",
    "description": "Completed Transcribe job output is encrypted with a customer managed KMS key, shown by its "
                   "bucket's SSE-KMS default plus a deny policy or, with EvidenceSource=object, by each object "
                   "(needs s3:GetObject, granted separately).",
    "rationale": "A customer managed key lets you control and audit every decryption of transcripts and clinical "
                 "documents and revoke access by disabling the key; AWS managed and S3-managed keys do not. No "
                 "Transcribe API returns a job's OutputEncryptionKMSKeyId, so the bucket or objects are the evidence.",
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
            "EvidenceSource": {
                "type": "string",
                "enum": ["bucket", "object"],
                "default": "bucket",
                "description": "bucket: the output bucket enforces SSE-KMS (default encryption and a policy denying "
                               "other encryption). object: HeadObject on each output object; needs s3:GetObject on "
                               "the output buckets, which the generated role policy does not grant.",
            },
            "KmsKeyArns": KMS_KEY_ARNS_PARAMETER,
            **RESOURCE_RULE_PARAMETERS,
        },
    },
    "iam_actions": [*JOB_READ_ACTIONS, "s3:GetEncryptionConfiguration", "s3:GetBucketPolicy", "kms:DescribeKey"],
    "remediation": "Give each output bucket SSE-KMS default encryption with a customer managed key and a bucket "
                   "policy statement denying s3:PutObject when s3:x-amz-server-side-encryption is not aws:kms "
                   "(with KmsKeyArns, also when the key id is not listed); start jobs with OutputEncryptionKMSKeyId. "
                   "EvidenceSource=object calls HeadObject, which needs s3:GetObject on the output buckets: add it "
                   "to the rule's role yourself, since the generated policy leaves it out.",
}

Verdict = tuple[str, str]  # (compliance type, annotation text), for one job


class TranscribeJobOutputEncrypted(ResourceRule):
    METADATA = METADATA

    def kinds(self, params: Mapping[str, Any]) -> Sequence[ResourceKind]:
        return JOB_KINDS

    def judge(self, ctx: RunContext, params: Mapping[str, Any]) -> Callable[[Resource], Evaluation]:
        lookups = lookups_for(ctx.client_factory, ctx.account_id, ctx.region, ctx.partition)
        allowed: list[str] = params["KmsKeyArns"]
        by_object = params["EvidenceSource"] == "object"
        bucket_verdicts: dict[str, Verdict | None] = {}  # one judgment per bucket per run
        return lambda job: self._evaluate_job(ctx, lookups, job, allowed, by_object, bucket_verdicts)

    def _evaluate_job(self, ctx: RunContext, lookups: S3KmsLookups, job: Resource, allowed: list[str],
                      by_object: bool, bucket_verdicts: dict[str, Verdict | None]) -> Evaluation:
        label = job.kind.label.capitalize()
        if job.status == FAILED:  # Scenario 2
            return self.result(ctx, ComplianceType.NOT_APPLICABLE, job.arn, f"{label} failed and stored no output.")
        if job.status != FINISHED_OK:  # Scenario 3
            return self.result(ctx, ComplianceType.NOT_APPLICABLE, job.arn,
                               f"{label} has not completed; it is evaluated once it has output.")
        if job.summary.get("OutputLocationType") == "SERVICE_BUCKET":  # Scenario 4, from the summary alone
            return self._service_bucket(ctx, job)
        try:
            detail = ctx.inventory.detail(job)
        except ClientError as error:  # Scenario 13
            return self.could_not_evaluate(ctx, job.arn, error, job.kind.label)
        uris = output_uris(job.kind, detail)
        buckets = [bucket_of(uri) for uri in uris]
        if not uris or None in buckets:  # Scenario 5
            return self.result(ctx, ComplianceType.NON_COMPLIANT, job.arn,
                               f"{label} details do not show where its output is stored.")
        if any(is_service_bucket(bucket) for bucket in buckets):  # Scenario 4
            return self._service_bucket(ctx, job)

        if by_object:  # Scenarios 12-14
            for uri in uris:
                problem = self._object_problem(lookups, label, uri, allowed)
                if problem:
                    return self.result(ctx, problem[0], job.arn, problem[1])
            return self.result(ctx, ComplianceType.COMPLIANT, job.arn,
                               f"{label} output objects are encrypted with SSE-KMS under a customer managed key.")

        for bucket in sorted({str(b) for b in buckets}):  # Scenarios 6-11, 13-14
            if bucket not in bucket_verdicts:
                bucket_verdicts[bucket] = bucket_problem(ctx, lookups, bucket, allowed)
            problem = bucket_verdicts[bucket]
            if problem:
                return self.result(ctx, problem[0], job.arn, problem[1])
        return self.result(ctx, ComplianceType.COMPLIANT, job.arn,  # Scenario 6
                           f"{label} output bucket {', '.join(sorted(set(map(str, buckets))))} enforces SSE-KMS with a "
                           "customer managed key (default encryption and a policy denying other encryption).")

    def _service_bucket(self, ctx: RunContext, job: Resource) -> Evaluation:
        return self.result(ctx, ComplianceType.NON_COMPLIANT, job.arn,
                           f"{job.kind.label.capitalize()} output is in a service-managed bucket, which cannot use a "
                           "customer managed KMS key.")

    @staticmethod
    def _object_problem(lookups: S3KmsLookups, label: str, uri: str, allowed: list[str]) -> Verdict | None:
        """Scenario 12: what is wrong with one output object's encryption, or None."""
        location = object_location(uri)
        if location is None:  # Scenario 5
            return ComplianceType.NON_COMPLIANT, f"{label} details do not show where its output is stored."
        bucket, key = location
        try:
            found = lookups.object_encryption(bucket, key)
        except ClientError as error:  # Scenario 13 (never name the object key)
            return _could_not(error, f"an output object in bucket {bucket}")
        where = f"{label} output object in bucket {bucket}"
        if found.algorithm not in KMS_ALGORITHMS:
            return ComplianceType.NON_COMPLIANT, (f"{where} is encrypted with {_algorithm_name(found.algorithm)}, "
                                                  "not SSE-KMS with a customer managed key.")
        if not found.kms_key_id:
            return ComplianceType.NON_COMPLIANT, f"{where} is SSE-KMS encrypted but does not report which KMS key."
        return _key_problem(lookups, found.kms_key_id, allowed, where, "is encrypted with",
                            f"the KMS key of an output object in bucket {bucket}")


def bucket_problem(ctx: RunContext, lookups: S3KmsLookups, bucket: str, allowed: list[str]) -> Verdict | None:
    """Scenarios 6-11: why ``bucket`` does not enforce SSE-KMS with a customer managed (and, with
    ``allowed``, listed) key, or None when it does. The texts name the bucket, not the job, so one
    judgment serves every job writing there."""
    where = f"Output bucket {bucket}"
    try:
        encryption = lookups.default_encryption(bucket)
    except ClientError as error:  # Scenario 13
        return _could_not(error, f"the default encryption of output bucket {bucket}")
    if encryption.algorithm is None:  # Scenario 7
        return ComplianceType.NON_COMPLIANT, (f"{where} has no default encryption; set SSE-KMS with a customer "
                                              "managed key and a policy denying other encryption.")
    if not encryption.is_kms:  # Scenario 8
        algorithm = _algorithm_name(encryption.algorithm)
        return ComplianceType.NON_COMPLIANT, (f"{where} encrypts by default with {algorithm}, not SSE-KMS with a "
                                              "customer managed key.")
    if not encryption.kms_key_id:  # Scenario 9: S3 then uses aws/s3
        return ComplianceType.NON_COMPLIANT, (f"{where} encrypts by default with the AWS managed key aws/s3, not a "
                                              "customer managed key.")
    problem = _key_problem(lookups, encryption.kms_key_id, allowed, where, "encrypts by default with",
                           f"the default KMS key of output bucket {bucket}")
    if problem:  # Scenarios 9, 11, 13
        return problem
    key_arn = lookups.key(encryption.kms_key_id).arn
    try:
        policy = lookups.bucket_policy(bucket)
    except ClientError as error:  # Scenario 13
        return _could_not(error, f"the bucket policy of output bucket {bucket}")
    if policy is None:  # Scenario 10
        return ComplianceType.NON_COMPLIANT, (f"{where} has SSE-KMS by default but no bucket policy denying other "
                                              "encryption; default encryption alone is not proof.")
    probes = kms_enforcement_probes(encryption, allowed, ctx.region, ctx.account_id, ctx.partition)
    accepted = {SSE: str(encryption.algorithm), SSE_KMS_KEY: key_arn}
    try:
        gap = unrefused(policy, bucket, probes, accepted, ctx.account_id, ctx.partition)
    except PolicyError:  # Scenario 10: S3 accepted it, but we cannot read it, so it proves nothing
        return ComplianceType.NON_COMPLIANT, (f"{where} has SSE-KMS by default but a bucket policy this rule cannot "
                                              "read, so enforcement is not shown.")
    if gap:  # Scenarios 10, 11
        return ComplianceType.NON_COMPLIANT, (f"{where} has SSE-KMS by default but its policy does not deny "
                                              f"{gap.what} for every caller.")
    return None


def _key_problem(lookups: S3KmsLookups, key_id: str, allowed: list[str], where: str, verb: str,
                 what: str) -> Verdict | None:
    try:
        key = lookups.key(key_id)
    except ClientError as error:  # Scenario 13
        return _could_not(error, what)
    if not key.customer_managed:  # Scenario 9
        return ComplianceType.NON_COMPLIANT, f"{where} {verb} an AWS managed KMS key, not a customer managed key."
    if allowed and key.arn not in allowed:  # Scenario 11
        return ComplianceType.NON_COMPLIANT, f"{where} {verb} a KMS key that is not in KmsKeyArns."
    return None


def _could_not(error: ClientError, what: str) -> Verdict:
    return ComplianceType.NON_COMPLIANT, f"Could not evaluate: {error_code(error)} when reading {what}."


def _algorithm_name(algorithm: str | None) -> str:
    return {"AES256": "SSE-S3 (AES256)", None: "no reported encryption"}.get(algorithm, str(algorithm))


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return Evaluator(TranscribeJobOutputEncrypted()).handle(event, context)
