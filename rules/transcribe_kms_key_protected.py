"""transcribe-kms-key-protected

Identifier: TRANSCRIBE_KMS_KEY_PROTECTED
Description: Every customer managed KMS key that protects Transcribe data is enabled, rotates
    automatically where KMS supports it, and has a key policy that grants nothing to other
    accounts without a restricting condition.
Rationale: Whoever can use or administer these keys can read every transcript encrypted under
    them; a disabled or deleted key makes the data unreadable, and a key that never rotates keeps
    one set of material in use for years (AWS security practice 1, data protection).
Severity: High
Trigger: Periodic (the keys are found through Transcribe, which AWS Config does not record)
Reports on: each key as AWS::KMS::Key by key id (the id AWS Config records, not the ARN); a
    bucket as AWS::S3::Bucket when its default encryption could not be read; the account
    (AWS::::Account) when Transcribe resources or buckets could not be read.
Parameters:
    BucketNames, BucketTagKey (optional): more buckets whose keys to evaluate (rules.inventory.discovery).

The keys (rules.inventory.discovery): those named by the default encryption of the Transcribe data buckets
and by the EncryptionConfiguration of custom vocabularies, vocabulary filters and language
models. Each identifier (key id, key ARN, alias) is described once per run and each key evaluated
once, however many buckets and customizations use it.

- AWS managed keys (aws/s3 and the like) are NOT_APPLICABLE: AWS writes their policy (use only
  through the service, by this account), rotates them every year and never disables them, so a
  customer cannot "protect" them further; transcribe-bucket-encrypted reports the bucket that
  relies on one. A bucket that implies aws/s3 (aws:kms without KMSMasterKeyID) and keys named by
  an ``alias/aws/...`` alias are not described at all: describing a predefined AWS alias makes
  KMS create the key if it does not exist yet (DescribeKey API reference).
- Keys of another account (named by ARN) are NOT_APPLICABLE: GetKeyPolicy works only in the
  key's own account, where this pack should evaluate it.
- State: Enabled is required; Disabled, PendingDeletion, PendingImport, Unavailable and the
  other states are NON_COMPLIANT.
- Rotation (GetKeyRotationStatus) is required only where KMS offers automatic rotation:
  symmetric encryption keys (KeySpec SYMMETRIC_DEFAULT) with AWS-generated material (Origin
  AWS_KMS). Asymmetric and HMAC keys, imported key material and keys in custom key stores are
  not checked for rotation (AWS KMS Developer Guide, "Rotate AWS KMS keys").
- Key policy (GetKeyPolicy, policy name ``default``): judged with rules.policy.evaluation by asking whether
  a role of an account the policy does not name would be allowed any KMS action (kms:Decrypt,
  kms:ReEncrypt*, kms:CreateGrant, kms:PutKeyPolicy, ...; rules.policy.resource_policy_probe). The
  caller controls every context key except its identity, the time and its network and source:
  kms:CallerAccount, aws:PrincipalAccount, aws:PrincipalArn, aws:PrincipalOrgID, aws:SourceAccount,
  aws:SourceArn, aws:SourceVpce, aws:SourceIp and the like keep an outsider's values. kms:ViaService
  alone restricts nothing: anyone can call through S3 with a bucket of their own. This matches AWS
  Config's kms-key-policy-no-public-access ("grant access only to fixed values").

Scenarios:
    1. Given no Transcribe data buckets and customizations with customer managed keys, then no
       evaluations are returned.
    2. Given a customer managed key that is Enabled, rotates (or cannot rotate: asymmetric, HMAC,
       imported or custom key store) and whose policy grants nothing to other accounts, then
       COMPLIANT.
    3. Given an AWS managed key named by a bucket or customization, then NOT_APPLICABLE.
    4. Given a key in another account, then NOT_APPLICABLE.
    5. Given a key that is not Enabled (Disabled, PendingDeletion, PendingImport, ...), then
       NON_COMPLIANT naming the state.
    6. Given a symmetric AWS_KMS key without automatic rotation, then NON_COMPLIANT.
    7. Given a key policy that allows a role of an unrelated account any KMS action, for some
       context it controls, then NON_COMPLIANT naming the action; a grant restricted by a fixed
       kms:CallerAccount, aws:PrincipalOrgID, aws:SourceAccount or similar is not.
    8. Given a key policy this rule cannot read, then NON_COMPLIANT.
    9. Given a key that cannot be described, or whose rotation or policy cannot be read (e.g.
       AccessDeniedException, or a response without KeyManager or Policy), then NON_COMPLIANT
       with an annotation starting "Could not evaluate:" and the other keys are evaluated
       normally; a bucket whose default encryption cannot be read is reported the same way as
       AWS::S3::Bucket.
   10. Given Transcribe resources that cannot be listed or read, or buckets that cannot be listed
       for BucketTagKey, then the account is NON_COMPLIANT ("Could not evaluate:"), the keys
       found are evaluated, and earlier results are kept.
   11. Given a malformed parameter, then the rule raises InvalidParametersError naming it.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, Sequence

from botocore.exceptions import ClientError
from rdklib import ComplianceType, Evaluation

from rules.engine.base import Evaluator, RunContext
from rules.inventory.discovery import (BUCKET_RESOURCE_TYPE, KEY_DISCOVERY_ACTIONS, KEY_RESOURCE_TYPE, DataRule, Gap, KeyRef,
                                       data_rule_metadata, fit)
from rules.policy.resource_policy_probe import PolicyError, public_kms_grant
from rules.inventory.s3_kms import KeyMetadata, S3KmsLookups
from rules.inventory.transcribe import CUSTOMIZATION_KINDS, ResourceKind, error_code

METADATA: dict[str, Any] = data_rule_metadata(  # adds the trigger, BucketNames/BucketTagKey, discovery's actions
    name="transcribe-kms-key-protected",
    order=17,
    title="KMS keys protecting Transcribe data are enabled, rotated and not shared",
    description="Every customer managed KMS key named by a Transcribe data bucket or customization is Enabled, "
                "rotates automatically where supported, and its key policy grants nothing to other accounts.",
    rationale="Whoever can use a key can read every transcript under it; a disabled or deleted key makes the data "
              "unreadable, and unrotated material stays in use for years.",
    practice=1,
    severity="high",
    resource_kinds=[KEY_RESOURCE_TYPE, BUCKET_RESOURCE_TYPE],
    reports="Each key as AWS::KMS::Key by key id; a bucket whose default encryption cannot be read as "
            "AWS::S3::Bucket; the account when Transcribe resources or buckets could not be read.",
    not_applicable="AWS managed keys (AWS sets their policy and rotation) and keys of another account.",
    parameters={},
    discovery_actions=KEY_DISCOVERY_ACTIONS,
    iam_actions=["s3:GetEncryptionConfiguration", "kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus"],
    remediation="Enable the key (EnableKey) or cancel its deletion (CancelKeyDeletion), turn on automatic rotation "
                "(EnableKeyRotation), and limit key policy statements for Principal * or other accounts with "
                "kms:CallerAccount, aws:PrincipalOrgID or aws:SourceAccount (PutKeyPolicy).",
)

UNKNOWN_KEYS = "the KMS keys they name"
_KEY_ARN = re.compile(r"^arn:[^:]+:kms:[^:]*:(\d{12}):key/(.+)$")
_KEY_ID = re.compile(r"^(?:[0-9a-fA-F-]{36}|mrk-[0-9a-fA-F]{32})$")
_STATES = {"PendingDeletion": "pending deletion", "PendingReplicaDeletion": "pending replica deletion",
           "PendingImport": "waiting for imported key material"}


class TranscribeKmsKeyProtected(DataRule):
    METADATA = METADATA
    UNKNOWN = UNKNOWN_KEYS

    def reads_every(self, params: Mapping[str, Any]) -> Sequence[tuple[ResourceKind, str]]:
        # the buckets' discovery, and customization_keys: every customization's encryption key
        return [*super().reads_every(params), *((kind, "detail") for kind in CUSTOMIZATION_KINDS)]

    def evaluate(self, ctx: RunContext, params: Mapping[str, Any]) -> Iterable[Evaluation]:
        discovery, found = self.discover(ctx, params)
        customization_refs, customization_gaps = discovery.customization_keys()
        lookups = self.lookups(ctx)
        evaluations: list[Evaluation] = list(self.unreadable_tags(ctx, found))
        refs: list[KeyRef] = []
        for bucket in found.names:
            try:
                encryption = lookups.default_encryption(bucket)
            except ClientError as error:  # Scenario 9
                if error_code(error) != "NoSuchBucket":
                    evaluations.append(self.bucket_read_failed(
                        ctx, bucket, found.label(bucket), error,
                        f"the default encryption of bucket {bucket}, so its KMS key is unknown"))
                continue
            if encryption.is_kms and encryption.kms_key_id:  # implied aws/s3 is never described (Scenario 3)
                refs.append(KeyRef(encryption.kms_key_id, f"bucket {bucket}", bucket))
        gaps = found.gaps + customization_gaps
        evaluations += self._evaluate_keys(ctx, lookups, refs + customization_refs, gaps)
        if gaps:  # Scenario 10
            yield self.gap_evaluation(ctx, gaps)
        yield from evaluations  # Scenario 1: no buckets or keys, nothing yielded

    def _evaluate_keys(self, ctx: RunContext, lookups: S3KmsLookups, refs: list[KeyRef],
                       gaps: list[Gap]) -> Iterable[Evaluation]:
        """One evaluation per key (or per bucket naming an alias that cannot be described);
        adds to ``gaps`` what can be attributed to neither."""
        keys: dict[str, tuple[KeyMetadata, list[KeyRef]]] = {}  # key ARN -> metadata, who names it
        reported: set[str] = set()
        for ref in refs:
            identifier = ref.identifier
            if identifier.startswith("alias/aws/") or ":alias/aws/" in identifier:  # Scenario 3, not described
                continue
            arn = _KEY_ARN.match(identifier)
            if arn and arn.group(1) != ctx.account_id:  # Scenario 4
                if arn.group(2) not in reported:
                    reported.add(arn.group(2))
                    yield self._key(ctx, ComplianceType.NOT_APPLICABLE, arn.group(2),
                                    f"KMS key of {ref.source} belongs to account {arn.group(1)}; its policy can be "
                                    "read only there, where this rule should evaluate it.")
                continue
            try:
                metadata = lookups.key(identifier)
            except ClientError as error:  # Scenario 9
                failed = self._describe_failed(ctx, ref, error)
                if failed is None:
                    gaps.append(Gap(error_code(error), f"describing the KMS key of {ref.source}"))
                elif failed.complianceResourceId not in reported:
                    reported.add(failed.complianceResourceId)
                    yield failed
                continue
            keys.setdefault(metadata.arn, (metadata, []))[1].append(ref)
        for metadata, named_by in sorted(keys.values(), key=lambda item: item[0].key_id):
            if metadata.key_id not in reported:
                reported.add(metadata.key_id)
                yield self._evaluate_key(ctx, lookups, metadata, named_by)

    def _describe_failed(self, ctx: RunContext, ref: KeyRef, error: ClientError) -> Evaluation | None:
        text = f"Could not evaluate: {error_code(error)} when describing the KMS key of {ref.source}."
        arn = _KEY_ARN.match(ref.identifier)
        key_id = arn.group(2) if arn else ref.identifier if _KEY_ID.match(ref.identifier) else None
        if key_id:
            return self._key(ctx, ComplianceType.NON_COMPLIANT, key_id, text)
        if ref.bucket:  # an alias: the bucket that names it is what could not be evaluated
            return self.result(ctx, ComplianceType.NON_COMPLIANT, ref.bucket, text, BUCKET_RESOURCE_TYPE)
        return None  # an alias named by a customization: reported with the account

    def _evaluate_key(self, ctx: RunContext, lookups: S3KmsLookups, key: KeyMetadata,
                      named_by: list[KeyRef]) -> Evaluation:
        sources = sorted({ref.source for ref in named_by})
        first = sources[0] if len(sources[0]) <= 90 else sources[0][:89] + "…"  # customization names run to 200
        label = f"KMS key of {first}" + (f" (and {len(sources) - 1} more)" if len(sources) > 1 else "")
        if key.aws_managed:  # Scenario 3
            return self._key(ctx, ComplianceType.NOT_APPLICABLE, key.key_id,
                             f"{label} is AWS managed: AWS sets its policy and rotation, so it cannot be protected by "
                             "a customer policy.")
        if not key.customer_managed:  # Scenario 9: DescribeKey did not say who manages it
            return self._key(ctx, ComplianceType.NON_COMPLIANT, key.key_id,
                             f"Could not evaluate: DescribeKey did not report the KeyManager of the {label}.")
        if key.state != "Enabled":  # Scenario 5
            return self._key(ctx, ComplianceType.NON_COMPLIANT, key.key_id,
                             f"{label} is {_STATES.get(key.state, key.state)}, not Enabled.")
        rotation = "rotates automatically"
        if key.rotation_supported:
            try:
                rotating = lookups.key_rotation_enabled(key.arn)
            except ClientError as error:  # Scenario 9
                return self._key(ctx, ComplianceType.NON_COMPLIANT, key.key_id,
                                 f"Could not evaluate: {error_code(error)} when reading the rotation status of the "
                                 f"{label}.")
            if not rotating:  # Scenario 6
                return self._key(ctx, ComplianceType.NON_COMPLIANT, key.key_id,
                                 f"{label} does not rotate automatically; turn on key rotation.")
        else:
            rotation = "cannot rotate automatically (asymmetric, HMAC, imported or custom key store)"
        try:
            policy = lookups.key_policy(key.arn)
            if policy is None:  # Scenario 9
                return self._key(ctx, ComplianceType.NON_COMPLIANT, key.key_id,
                                 f"Could not evaluate: GetKeyPolicy returned no policy for the {label}.")
            grant = public_kms_grant(policy, key.arn, ctx.account_id, ctx.partition)
        except ClientError as error:  # Scenario 9
            return self._key(ctx, ComplianceType.NON_COMPLIANT, key.key_id,
                             f"Could not evaluate: {error_code(error)} when reading the key policy of the {label}.")
        except (PolicyError, ValueError):  # Scenario 8
            return self._key(ctx, ComplianceType.NON_COMPLIANT, key.key_id,
                             f"{label} has a key policy this rule cannot read, so it may be shared.")
        if grant:  # Scenario 7
            text = f"{label}: its key policy allows {grant.action} to another account without a restricting condition"
            return self._key(ctx, ComplianceType.NON_COMPLIANT, key.key_id, fit(
                f"{text} (kms:CallerAccount, aws:PrincipalOrgID, aws:SourceAccount).", f"{text}."))
        return self._key(ctx, ComplianceType.COMPLIANT, key.key_id, fit(  # Scenario 2
            f"{label} is customer managed, Enabled, {rotation}, and its policy grants nothing to other accounts.",
            f"{label} is customer managed, Enabled, {rotation.split(' (')[0]}, and grants nothing to other accounts."))

    def _key(self, ctx: RunContext, compliance: str, key_id: str, text: str) -> Evaluation:
        return self.result(ctx, compliance, key_id, text, KEY_RESOURCE_TYPE)


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return Evaluator(TranscribeKmsKeyProtected()).handle(event, context)
