"""transcribe-bucket-tls-enforced

Identifier: TRANSCRIBE_BUCKET_TLS_ENFORCED
Description: The policy of every S3 bucket that holds Transcribe data refuses plain-HTTP requests,
    and, when MinimumTlsVersion is given, requests over older TLS, for every caller, on the bucket
    and its objects.
Rationale: Call audio and transcripts must not cross a network in clear text. S3 accepts plain
    HTTP unless the bucket policy refuses it (aws:SecureTransport); only an explicit Deny holds for
    every caller, since an identity policy of the caller can allow what the bucket policy does not
    (AWS security practice 1, data protection in transit). TLS 1.0 and 1.1 need no statement: every
    AWS API endpoint, S3 included, refuses them (AWS Security Blog, "TLS 1.2 to become the minimum
    TLS protocol level for all AWS API endpoints"), so AWS's own AllowSSLRequestsOnly policy, the one
    its managed rule s3-bucket-ssl-requests-only asks for, is enough by default.
Severity: High
Trigger: Periodic (the buckets are found through Transcribe, which AWS Config does not record)
Reports on: each Transcribe data bucket (see rules.inventory.discovery) as AWS::S3::Bucket by bucket name;
    the account (AWS::::Account) when Transcribe resources or buckets could not be read.
Parameters:
    MinimumTlsVersion (optional, no default; 1.2 or 1.3): the oldest TLS version the policy must
        accept and below which it must refuse (s3:TlsVersion). 1.3 for those who require it; 1.2
        adds only the check that the policy does not refuse TLS 1.2 (AWS already refuses older).
    BucketNames, BucketTagKey (optional): more buckets to evaluate (rules.inventory.discovery).

How the policy is judged: with rules.policy.evaluation, by the requests AWS would evaluate, never by
searching the JSON (rules.policy.resource_policy_probe). Probes: s3:GetObject, s3:PutObject,
s3:DeleteObject and s3:GetObjectVersion on an object, s3:ListBucket, s3:PutBucketPolicy and
s3:GetBucketPolicy on the bucket, each from a role of this account, a role of another account,
the Transcribe service and an anonymous caller. For each:

- plain HTTP (aws:SecureTransport false) must be explicitly denied;
- with MinimumTlsVersion, TLS below it that AWS accepts (aws:SecureTransport true, s3:TlsVersion
  1.2 for a minimum of 1.3) must be explicitly denied by a statement that lets the minimum
  through: a policy whose TLS statement also refuses the minimum (NumericLessThan 1.3 with
  MinimumTlsVersion 1.2) would lock out clients that meet the requirement, and fails with a hint
  to raise MinimumTlsVersion. A caller that the policy refuses whatever its TLS version needs no
  TLS statement.

A Deny that the caller can step around with other context keys (e.g. it also requires an
aws:Referer, or exempts a VPC endpoint or address range) does not count: a plain-HTTP request
from there is still plain HTTP. Wildcards in actions and resources, NotPrincipal, NotAction,
Bool and NumericLessThan in string, number and list forms follow from the evaluator.

Scenarios:
    1. Given no Transcribe data buckets, then no evaluations are returned.
    2. Given a bucket whose policy explicitly denies plain HTTP (and, with MinimumTlsVersion, TLS
       below it) for every probed caller and action, and lets MinimumTlsVersion through, then
       COMPLIANT; AWS's AllowSSLRequestsOnly statement alone is COMPLIANT by default.
    3. Given a bucket without a policy, then NON_COMPLIANT: S3 accepts plain HTTP by default.
    4. Given a policy that does not deny some plain-HTTP request (an action, a resource, a caller
       or a context it leaves out), then NON_COMPLIANT naming the action and caller.
    5. Given MinimumTlsVersion 1.3 and a policy that denies plain HTTP but not some TLS 1.2
       request, then NON_COMPLIANT naming the version, action and caller.
    6. Given a policy whose TLS statement also refuses MinimumTlsVersion, then NON_COMPLIANT with
       a hint to set MinimumTlsVersion to the version it requires.
    7. Given a policy this rule cannot read (invalid JSON, unknown condition operator), then
       NON_COMPLIANT: it proves nothing.
    8. Given a bucket or policy that cannot be read (e.g. AccessDenied, also the answer for a
       bucket of another account), then that bucket is NON_COMPLIANT with an annotation starting
       "Could not evaluate:" naming the error code, and the other buckets are evaluated normally.
    9. Given a bucket that does not exist (deleted since a job named it, or a
       misnamed BucketNames entry), then NOT_APPLICABLE.
   10. Given Transcribe jobs or language models that cannot be listed or read, or buckets that
       cannot be listed for BucketTagKey, then the account is NON_COMPLIANT ("Could not
       evaluate:"), the buckets found are evaluated, and earlier results are kept.
   11. Given BucketTagKey and a bucket whose tags cannot be read, then that bucket is
       NON_COMPLIANT ("Could not evaluate:").
   12. Given a malformed parameter, then the rule raises InvalidParametersError naming it.
"""

from __future__ import annotations

from typing import Any, Mapping

from botocore.exceptions import ClientError
from rdklib import ComplianceType, Evaluation

from rules.engine.base import Evaluator, RunContext
from rules.inventory.discovery import BUCKET_RESOURCE_TYPE, Buckets, DataRule, data_rule_metadata, fit
from rules.policy.resource_policy_probe import PolicyError, tls_gap
from rules.inventory.s3_kms import S3KmsLookups

METADATA: dict[str, Any] = data_rule_metadata(  # adds the trigger, BucketNames/BucketTagKey, discovery's actions
    name="transcribe-bucket-tls-enforced",
    order=15,
    title="S3 buckets holding Transcribe data refuse plain HTTP and old TLS",
    description="The policy of every S3 bucket holding Transcribe data explicitly denies, for every caller, "
                "requests without TLS (aws:SecureTransport false) and, when MinimumTlsVersion is given, with "
                "older TLS.",
    rationale="Call audio and transcripts must not travel in clear text; S3 accepts plain HTTP unless the bucket "
              "policy explicitly denies it for every caller. AWS endpoints refuse TLS below 1.2 themselves.",
    practice=1,
    severity="high",
    parameters={
        "MinimumTlsVersion": {
            "type": "string",
            "enum": ["1.2", "1.3"],
            "description": "Optional. Oldest TLS version the bucket policy must let through, older ones denied (e.g. "
                           "1.3 where required). Unset: only plain HTTP must be denied, since every AWS endpoint "
                           "refuses TLS below 1.2.",
        },
    },
    iam_actions=["s3:GetBucketPolicy"],
    remediation="Add a bucket policy statement with Effect Deny, Principal *, Action s3:*, Resource the bucket "
                "and bucket/*, Condition Bool aws:SecureTransport false (the SSM runbook AWSConfigRemediation-"
                "RestrictBucketSSLRequestsOnly adds it); with MinimumTlsVersion, a second one with NumericLessThan "
                "s3:TlsVersion set to it.",
)


class TranscribeBucketTlsEnforced(DataRule):
    METADATA = METADATA

    def evaluate_bucket(self, ctx: RunContext, lookups: S3KmsLookups, found: Buckets, bucket: str,
                        params: Mapping[str, Any]) -> Evaluation:
        minimum: str | None = params.get("MinimumTlsVersion")
        label = found.label(bucket)
        try:
            policy = lookups.bucket_policy(bucket)
        except ClientError as error:  # Scenarios 8, 9
            return self.bucket_read_failed(ctx, bucket, label, error, f"the bucket policy of bucket {bucket}")
        if policy is None:  # Scenario 3
            return self._bucket(ctx, ComplianceType.NON_COMPLIANT, bucket,
                                f"{label} has no bucket policy, so S3 accepts plain-HTTP requests.")
        try:
            gap = tls_gap(policy, bucket, minimum, ctx.account_id, ctx.partition)
        except (PolicyError, ValueError):  # Scenario 7
            return self._bucket(ctx, ComplianceType.NON_COMPLIANT, bucket,
                                f"{label} has a bucket policy this rule cannot read, so TLS enforcement is not shown.")
        if gap is None:  # Scenario 2
            return self._bucket(ctx, ComplianceType.COMPLIANT, bucket,
                                f"{label}: its policy denies plain HTTP and TLS below {minimum} for every caller."
                                if minimum else f"{label}: its policy denies plain HTTP for every caller.")
        if gap.kind == "too_strict":  # Scenario 6
            return self._bucket(ctx, ComplianceType.NON_COMPLIANT, bucket, fit(
                f"{label}: its policy also denies TLS {minimum} ({gap.action} from {gap.caller}); set "
                "MinimumTlsVersion to the version it requires.",
                f"{label}: its policy also denies TLS {minimum}; set MinimumTlsVersion to the version it requires."))
        if gap.version is None:  # Scenario 4
            return self._bucket(ctx, ComplianceType.NON_COMPLIANT, bucket,
                                f"{label}: its policy does not deny plain-HTTP (aws:SecureTransport false) {gap.action} "
                                f"requests from {gap.caller}.")
        return self._bucket(ctx, ComplianceType.NON_COMPLIANT, bucket,  # Scenario 5
                            f"{label}: its policy does not deny TLS {gap.version} {gap.action} requests from {gap.caller} "
                            f"(s3:TlsVersion below {minimum}).")

    def _bucket(self, ctx: RunContext, compliance: str, bucket: str, text: str) -> Evaluation:
        return self.result(ctx, compliance, bucket, text, BUCKET_RESOURCE_TYPE)


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return Evaluator(TranscribeBucketTlsEnforced()).handle(event, context)
