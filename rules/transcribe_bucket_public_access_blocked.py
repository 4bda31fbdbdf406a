"""transcribe-bucket-public-access-blocked

Identifier: TRANSCRIBE_BUCKET_PUBLIC_ACCESS_BLOCKED
Description: Every S3 bucket that holds Transcribe data has all four Block Public Access settings
    on (each at the bucket or the account level) and a bucket policy that grants nothing to the
    public.
Rationale: One public grant exposes every recording and transcript in a bucket. Block Public
    Access stops public ACLs and policies from taking effect and from being added; a policy that
    grants nothing to anyone outside fixed principals, networks or organizations keeps the bucket
    private even if a setting is later switched off (AWS security practice 1, data protection).
Severity: Critical
Trigger: Periodic (the buckets are found through Transcribe, which AWS Config does not record)
Reports on: each Transcribe data bucket (see rules.inventory.discovery) as AWS::S3::Bucket by bucket name;
    the account (AWS::::Account) when Transcribe resources or buckets could not be read.
Parameters:
    BucketNames, BucketTagKey (optional): more buckets to evaluate (rules.inventory.discovery).

Block Public Access: BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy and
RestrictPublicBuckets must each be true in the bucket's configuration (GetPublicAccessBlock) or
the account's (s3control GetPublicAccessBlock, action s3:GetAccountPublicAccessBlock), since S3
applies the most restrictive combination of the two (GetPublicAccessBlock API reference). The
account's settings are read once per run, and only when a bucket lacks a setting itself.

Bucket policy: judged with rules.policy.evaluation by asking "would an anonymous caller, or a role of an
account the policy does not name, be allowed any S3 action on the bucket or its objects?"
(rules.policy.resource_policy_probe). The caller controls every context key except who it is, the
time, and where the request comes from: aws:SourceIp (a public address), aws:SourceVpc,
aws:SourceVpce, aws:SourceArn, aws:SourceAccount, aws:SourceOwner, aws:SourceOrgID,
aws:PrincipalAccount, aws:PrincipalArn, aws:PrincipalOrgID, aws:userid, s3:DataAccessPointAccount
and s3:x-amz-server-side-encryption-aws-kms-key-id keep an outsider's values. So a grant to
Principal * restricted by a fixed VPC endpoint, organization, account, source ARN or private
address range is not public, while one limited by aws:Referer, a wildcard organization, or a
negated condition is. This follows Amazon S3's own definition of a public policy (Amazon S3 User
Guide, "The meaning of public"). Grants to named principals of other accounts are deliberate
sharing, not public, and are not reported.

ACLs are not read: with IgnorePublicAcls on (required above) S3 ignores every public ACL on the
bucket and its objects, and with BlockPublicAcls no new one can be set; since April 2023 new
buckets also disable ACLs (BucketOwnerEnforced).

Scenarios:
    1. Given no Transcribe data buckets, then no evaluations are returned.
    2. Given a bucket whose four Block Public Access settings are each on at the bucket or account
       level and whose policy (or lack of one) grants nothing to the public, then COMPLIANT.
    3. Given a bucket with a setting off at both levels, then NON_COMPLIANT naming the settings.
    4. Given a bucket policy that allows an anonymous caller or a role of an unrelated account any
       action, for some context it controls, then NON_COMPLIANT naming the action.
    5. Given a grant to everyone limited by a restricting condition (fixed VPC, VPC endpoint,
       organization, account, source ARN or private address range), or overridden by a Deny the
       caller cannot step around, then it is not public.
    6. Given a policy this rule cannot read, then NON_COMPLIANT: it proves nothing.
    7. Given a bucket, its settings, its policy or the account's settings that cannot be read
       (e.g. AccessDenied, also the answer for a bucket of another account), then that bucket is
       NON_COMPLIANT with an annotation starting "Could not evaluate:" naming the error code, and
       the other buckets are evaluated normally.
    8. Given a bucket that does not exist (deleted since a job named it, or a
       misnamed BucketNames entry), then NOT_APPLICABLE.
    9. Given Transcribe jobs or language models that cannot be listed or read, or buckets that
       cannot be listed for BucketTagKey, then the account is NON_COMPLIANT ("Could not
       evaluate:"), the buckets found are evaluated, and earlier results are kept.
   10. Given BucketTagKey and a bucket whose tags cannot be read, then that bucket is
       NON_COMPLIANT ("Could not evaluate:").
   11. Given a malformed parameter, then the rule raises InvalidParametersError naming it.
"""

from __future__ import annotations

from typing import Any, Mapping

from botocore.exceptions import ClientError
from rdklib import ComplianceType, Evaluation

from rules.engine.base import Evaluator, RunContext
from rules.inventory.discovery import BUCKET_RESOURCE_TYPE, Buckets, DataRule, data_rule_metadata, fit
from rules.policy.resource_policy_probe import PolicyError, public_s3_grant
from rules.inventory.s3_kms import S3KmsLookups
from rules.inventory.transcribe import error_code

SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")

METADATA: dict[str, Any] = data_rule_metadata(  # adds the trigger, BucketNames/BucketTagKey, discovery's actions
    name="transcribe-bucket-public-access-blocked",
    order=16,
    title="S3 buckets holding Transcribe data block public access",
    description="Every S3 bucket holding Transcribe data has all four Block Public Access settings on (bucket or "
                "account level) and a bucket policy that grants nothing to anonymous or unrelated callers.",
    rationale="One public grant exposes every recording and transcript in a bucket; Block Public Access and a "
              "policy limited to fixed principals, networks or organizations keep it private.",
    practice=1,
    severity="critical",
    parameters={},
    iam_actions=["s3:GetBucketPublicAccessBlock", "s3:GetAccountPublicAccessBlock", "s3:GetBucketPolicy"],
    remediation="Turn on all four Block Public Access settings for the bucket (SSM runbook "
                "AWSConfigRemediation-ConfigureS3BucketPublicAccessBlock, BucketName) or the account "
                "(AWSConfigRemediation-ConfigureS3PublicAccessBlock, AccountId), and remove Principal * grants "
                "or limit them with aws:SourceVpce, aws:PrincipalOrgID or aws:SourceAccount.",
)


class TranscribeBucketPublicAccessBlocked(DataRule):
    METADATA = METADATA

    def evaluate_bucket(self, ctx: RunContext, lookups: S3KmsLookups, found: Buckets, bucket: str,
                        params: Mapping[str, Any]) -> Evaluation:
        label = found.label(bucket)
        try:
            settings = lookups.public_access_block(bucket) or {}
        except ClientError as error:  # Scenarios 7, 8
            return self.bucket_read_failed(ctx, bucket, label, error, f"the public access block of bucket {bucket}")
        missing = [name for name in SETTINGS if not settings.get(name)]
        if missing:
            try:
                account = lookups.account_public_access_block() or {}
            except ClientError as error:  # Scenario 7
                return self._bucket(ctx, ComplianceType.NON_COMPLIANT, bucket,
                                    f"Could not evaluate: {error_code(error)} when reading the account's public "
                                    f"access block, needed for bucket {bucket}.")
            missing = [name for name in missing if not account.get(name)]
        if missing:  # Scenario 3
            which = "all four settings are" if len(missing) == len(SETTINGS) else \
                f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'}"
            return self._bucket(ctx, ComplianceType.NON_COMPLIANT, bucket,
                                f"{label} does not block public access: {which} off at both bucket and account level.")
        try:
            policy = lookups.bucket_policy(bucket)
        except ClientError as error:  # Scenario 7
            return self.bucket_read_failed(ctx, bucket, label, error, f"the bucket policy of bucket {bucket}")
        if policy is not None:
            try:
                grant = public_s3_grant(policy, bucket, ctx.account_id, ctx.partition)
            except (PolicyError, ValueError):  # Scenario 6
                return self._bucket(ctx, ComplianceType.NON_COMPLIANT, bucket,
                                    f"{label} has a bucket policy this rule cannot read, so it may grant public access.")
            if grant:  # Scenario 4
                text = f"{label}: its policy allows {grant.action} to {grant.caller} without a restricting condition"
                return self._bucket(ctx, ComplianceType.NON_COMPLIANT, bucket, fit(
                    f"{text} (fixed VPC endpoint, organization, account or IP range).", f"{text}."))
        return self._bucket(ctx, ComplianceType.COMPLIANT, bucket,  # Scenarios 2, 5
                            f"{label} blocks public access (all four settings on) and its policy grants nothing to "
                            "the public.")

    def _bucket(self, ctx: RunContext, compliance: str, bucket: str, text: str) -> Evaluation:
        return self.result(ctx, compliance, bucket, text, BUCKET_RESOURCE_TYPE)


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return Evaluator(TranscribeBucketPublicAccessBlocked()).handle(event, context)
