"""transcribe-bucket-encrypted

Identifier: TRANSCRIBE_BUCKET_ENCRYPTED
Description: Every S3 bucket that holds Transcribe data encrypts new objects by default with
    SSE-KMS or DSSE-KMS under a customer managed KMS key, optionally one of an allowed list.
Rationale: Media, transcripts, clinical documents and training data sit in these buckets. With a
    customer managed key you decide who may decrypt them, every use is logged in CloudTrail, and
    disabling the key revokes access; the SSE-S3 baseline that S3 applies to every bucket since
    January 2023 gives none of that (AWS security practice 1, data protection).
Severity: High
Trigger: Periodic (the buckets are found through Transcribe, which AWS Config does not record)
Reports on: each Transcribe data bucket (see rules.inventory.discovery) as AWS::S3::Bucket by bucket name;
    the account (AWS::::Account) when Transcribe resources or buckets could not be read.
Parameters:
    AllowSseS3 (optional, default false): true accepts encryption under keys AWS manages for S3:
        SSE-S3 (AES256) and, unless KmsKeyArns is set, the AWS managed key aws/s3.
    KmsKeyArns (optional): comma-separated KMS key ARNs; only these keys count (shared with
        transcribe-job-output-encrypted and transcribe-customization-encrypted).
    BucketNames, BucketTagKey (optional): more buckets to evaluate (rules.inventory.discovery).

Evidence: GetBucketEncryption (the first rule's SSEAlgorithm and KMSMasterKeyID), then DescribeKey
for the key's manager. Since January 2023 S3 answers every bucket with at least the SSE-S3 rule;
the legacy "no configuration" answer is treated the same way, since S3 encrypts with SSE-S3
anyway. Default encryption applies to uploads that name no encryption; to refuse uploads that ask
for another, see transcribe-job-output-encrypted (bucket evidence), which also checks the policy.
The key's state, rotation and policy are transcribe-kms-key-protected's concern. Every bucket
read carries ExpectedBucketOwner (rules.inventory.s3_kms): a bucket of another account answers
AccessDenied and is reported as not evaluated, since this account cannot vouch for it.

Scenarios:
    1. Given no Transcribe data buckets, then no evaluations are returned.
    2. Given a bucket whose default encryption is SSE-KMS (aws:kms) or DSSE-KMS (aws:kms:dsse)
       under a customer managed key (in KmsKeyArns when given), then COMPLIANT.
    3. Given a bucket with the SSE-S3 (AES256) default (every bucket without a configuration of
       its own has it), then NON_COMPLIANT, or COMPLIANT with AllowSseS3=true.
    4. Given a KMS default under the AWS managed key aws/s3 (named, or implied by a missing
       KMSMasterKeyID), then NON_COMPLIANT, or COMPLIANT with AllowSseS3=true and no KmsKeyArns.
    5. Given another default algorithm (e.g. aws:fsx), then NON_COMPLIANT.
    6. Given KmsKeyArns and a default key that is not listed, then NON_COMPLIANT.
    7. Given a bucket or key that cannot be read (e.g. AccessDenied, also the answer for a bucket
       of another account, or a DescribeKey response without KeyManager), then that bucket is
       NON_COMPLIANT with an annotation starting "Could not evaluate:" naming the error code, and
       the other buckets are evaluated normally.
    8. Given a bucket that does not exist (deleted since a job named it, or a
       misnamed BucketNames entry), then NOT_APPLICABLE.
    9. Given Transcribe jobs or language models that cannot be listed or read, or buckets that
       cannot be listed for BucketTagKey, then the account is NON_COMPLIANT ("Could not
       evaluate:"), the buckets found are evaluated, and earlier results are kept.
   10. Given BucketTagKey and a bucket whose tags cannot be read, then that bucket is
       NON_COMPLIANT ("Could not evaluate:").
   11. Given a malformed parameter, then the rule raises InvalidParametersError naming it (Config
       receives InvalidParameterValueException).
"""

from __future__ import annotations

from typing import Any, Mapping

from botocore.exceptions import ClientError
from rdklib import ComplianceType, Evaluation

from rules.engine.base import Evaluator, RunContext
from rules.inventory.discovery import BUCKET_RESOURCE_TYPE, Buckets, DataRule, data_rule_metadata
from rules.inventory.s3_kms import KMS_KEY_ARNS_PARAMETER, S3KmsLookups
from rules.inventory.transcribe import error_code

METADATA: dict[str, Any] = data_rule_metadata(  # adds the trigger, BucketNames/BucketTagKey, discovery's actions
    name="transcribe-bucket-encrypted",
    order=14,
    title="S3 buckets holding Transcribe data encrypt by default with a customer managed KMS key",
    description="Every S3 bucket holding Transcribe media, output or training data (or named by BucketNames or "
                "BucketTagKey) has SSE-KMS or DSSE-KMS default encryption with a customer managed key.",
    rationale="A customer managed key lets you control, audit and revoke every decryption of call audio, "
              "transcripts and clinical documents; the SSE-S3 baseline S3 applies to every bucket does not.",
    practice=1,
    severity="high",
    parameters={
        "AllowSseS3": {
            "type": "string",
            "x-type": "boolean",
            "default": "false",
            "description": "true accepts SSE-S3 (AES256) and, without KmsKeyArns, the AWS managed key aws/s3.",
        },
        "KmsKeyArns": KMS_KEY_ARNS_PARAMETER,
    },
    iam_actions=["s3:GetEncryptionConfiguration", "kms:DescribeKey"],
    remediation="Set default encryption to SSE-KMS with a customer managed key (PutBucketEncryption, "
                "SSEAlgorithm aws:kms, KMSMasterKeyID the key ARN, BucketKeyEnabled true), e.g. with the SSM "
                "Automation runbook AWS-EnableS3BucketKeys (BucketName, KMSKeyId); re-encrypt existing objects "
                "with S3 Batch Operations copy.",
)

_NAMES = {"AES256": "SSE-S3 (AES256)", "aws:kms": "SSE-KMS", "aws:kms:dsse": "DSSE-KMS"}


class TranscribeBucketEncrypted(DataRule):
    METADATA = METADATA

    def evaluate_bucket(self, ctx: RunContext, lookups: S3KmsLookups, found: Buckets, bucket: str,
                        params: Mapping[str, Any]) -> Evaluation:
        label = found.label(bucket)
        allow_sse_s3: bool = params["AllowSseS3"]
        allowed: list[str] = params["KmsKeyArns"]
        try:
            encryption = lookups.default_encryption(bucket)
        except ClientError as error:  # Scenarios 7, 8
            return self.bucket_read_failed(ctx, bucket, label, error, f"the default encryption of bucket {bucket}")
        algorithm = encryption.algorithm or "AES256"  # the legacy "no configuration" answer: S3 still uses SSE-S3
        if algorithm == "AES256":  # Scenario 3
            if allow_sse_s3:
                return self._bucket(ctx, ComplianceType.COMPLIANT, bucket,
                                    f"{label} encrypts by default with SSE-S3 (AES256), which AllowSseS3 accepts.")
            return self._bucket(ctx, ComplianceType.NON_COMPLIANT, bucket,
                                f"{label} encrypts by default with SSE-S3 (AES256), not SSE-KMS with a customer "
                                "managed key.")
        if not encryption.is_kms:  # Scenario 5
            return self._bucket(ctx, ComplianceType.NON_COMPLIANT, bucket,
                                f"{label} encrypts by default with {algorithm}, not SSE-KMS with a customer managed key.")
        name = _NAMES[algorithm]
        if not encryption.kms_key_id:  # Scenario 4: S3 then uses aws/s3; never described (that may create it)
            return self._aws_managed(ctx, bucket, label, name, allow_sse_s3 and not allowed)
        try:
            key = lookups.key(encryption.kms_key_id)
        except ClientError as error:  # Scenario 7
            return self._bucket(ctx, ComplianceType.NON_COMPLIANT, bucket,
                                f"Could not evaluate: {error_code(error)} when describing the default KMS key of "
                                f"bucket {bucket}.")
        if allowed and key.arn not in allowed:  # Scenario 6
            return self._bucket(ctx, ComplianceType.NON_COMPLIANT, bucket,
                                f"{label} encrypts by default with a KMS key that is not in KmsKeyArns.")
        if key.aws_managed:  # Scenario 4
            return self._aws_managed(ctx, bucket, label, name, allow_sse_s3 and not allowed)
        if not key.customer_managed:  # Scenario 7: DescribeKey did not say who manages it
            return self._bucket(ctx, ComplianceType.NON_COMPLIANT, bucket,
                                f"Could not evaluate: DescribeKey did not report the KeyManager of the default KMS key "
                                f"of bucket {bucket}.")
        return self._bucket(ctx, ComplianceType.COMPLIANT, bucket,  # Scenario 2
                            f"{label} encrypts by default with {name} under a customer managed KMS key.")

    def _aws_managed(self, ctx: RunContext, bucket: str, label: str, name: str, accepted: bool) -> Evaluation:
        if accepted:
            return self._bucket(ctx, ComplianceType.COMPLIANT, bucket,
                                f"{label} encrypts by default with {name} under the AWS managed key aws/s3, which "
                                "AllowSseS3 accepts.")
        return self._bucket(ctx, ComplianceType.NON_COMPLIANT, bucket,
                            f"{label} encrypts by default with {name} under the AWS managed key aws/s3, not a "
                            "customer managed key.")

    def _bucket(self, ctx: RunContext, compliance: str, bucket: str, text: str) -> Evaluation:
        return self.result(ctx, compliance, bucket, text, BUCKET_RESOURCE_TYPE)


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return Evaluator(TranscribeBucketEncrypted()).handle(event, context)
