"""Ask bucket and key policies what AWS would decide, with rules/policy/evaluation.py: is plain HTTP (and old
TLS) refused for every caller, and is anything granted to the public?

Policies are never searched as JSON. Each question becomes concrete requests (an action, a
resource, a caller and the request context AWS would supply), and the evaluator decides them:
an explicit Deny wins, then an Allow. Wildcards in Action/NotAction and Resource/NotResource,
Principal/NotPrincipal, Bool and NumericLessThan in string or list form all follow from it.

**Who controls which context keys.** A caller picks most of a request's context: headers such as
aws:Referer, the prefix it lists, the encryption it asks for, the service it routes through. It
cannot pick who it is, where its request comes from, or when. So:

- The *identity* keys (aws:PrincipalAccount, aws:PrincipalArn, aws:PrincipalOrgID, aws:userid,
  kms:CallerAccount, ...) and the time (aws:CurrentTime, aws:EpochTime) always hold the caller's
  real values.
- For the *public* question the network and source keys are fixed too (aws:SourceIp is a public
  address, aws:SourceVpc/aws:SourceVpce are absent, aws:SourceAccount/aws:SourceArn/
  aws:SourceOwner/aws:SourceOrgID name nothing of ours, s3:DataAccessPointAccount and
  s3:x-amz-server-side-encryption-aws-kms-key-id are absent): ``RESTRICTING_S3``/``RESTRICTING_KMS``.
  This follows Amazon S3's definition of a public policy (Amazon S3 User Guide, "The meaning of
  public": a policy is not public only if it grants to fixed principals, a fixed aws:SourceArn,
  aws:SourceVpc, aws:SourceVpce, aws:SourceOwner, aws:SourceAccount, KMS key id or aws:userid, or
  to a limited set of CIDRs with aws:SourceIp) and AWS Config's kms-key-policy-no-public-access
  ("a KMS key policy must grant access only to fixed values"). kms:ViaService is not restricting
  on its own: anyone can call through S3 or another service with their own resources.
  A restricting key compared with a wildcard pattern that an outsider can match (``o-*``,
  ``arn:aws:iam::*:role/reader``) restricts nothing; one whose filled-in value names this
  account (``arn:aws:sns:*:111122223333:*``) does.
- Every other key is the caller's choice: for an Allow statement the probe takes values that meet
  its conditions (``rules.policy.evaluation.satisfying_context``), and then steps around each Deny whose
  conditions it can falsify with keys it controls (``evade``), as a determined caller would.

For the TLS question, every key except the caller's identity, the time and the transport itself
(aws:SecureTransport, s3:TlsVersion) is the caller's choice, network keys included: a plain-HTTP
request from inside a VPC or an allowed address range is still plain HTTP.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping, Sequence

from rules.policy.iam_probe import evading_context
from rules.policy.evaluation import (Decision, PolicyError, Request, evaluate, satisfying_context, statement_applies, statements,
                                     wildcard_match, witness)

__all__ = ["PolicyError", "Caller", "Grant", "TlsGap", "tls_gap", "public_s3_grant", "public_kms_grant"]

PROBE_NAME = "transcribe-guard-probe"
PUBLIC_IP = "198.51.100.7"  # TEST-NET-2 (RFC 5737): a public address in no private range
_OUTSIDERS = ("210987654321", "109876543210", "999988887777", "888877776666")
TLS_VERSIONS = ("1.0", "1.1", "1.2", "1.3")
# Every AWS API endpoint, S3 included, refuses TLS 1.0 and 1.1 (AWS Security Blog, "TLS 1.2 to become
# the minimum TLS protocol level for all AWS API endpoints",
# https://aws.amazon.com/blogs/security/tls-1-2-required-for-aws-endpoints/): a bucket policy need not.
AWS_MINIMUM_TLS = "1.2"
_ABOVE_ANY_TLS = "99"  # a version no TLS statement is written for: a Deny that still applies ignores TLS

IDENTITY_KEYS = frozenset(k.lower() for k in (
    "aws:PrincipalAccount", "aws:PrincipalArn", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:PrincipalType",
    "aws:PrincipalServiceName", "aws:PrincipalServiceNamesList", "aws:PrincipalIsAWSService", "aws:userid",
    "aws:username", "kms:CallerAccount", "aws:CurrentTime", "aws:EpochTime", "aws:ResourceAccount",
    "aws:ResourceOrgID", "aws:ResourceOrgPaths"))
_NETWORK_AND_SOURCE = frozenset(k.lower() for k in (
    "aws:SourceIp", "aws:VpcSourceIp", "aws:SourceVpc", "aws:SourceVpce", "aws:SourceArn", "aws:SourceAccount",
    "aws:SourceOwner", "aws:SourceOrgID", "aws:SourceOrgPaths"))
RESTRICTING_S3 = IDENTITY_KEYS | _NETWORK_AND_SOURCE | frozenset(k.lower() for k in (
    "s3:DataAccessPointAccount", "s3:DataAccessPointArn", "s3:x-amz-server-side-encryption-aws-kms-key-id"))
RESTRICTING_KMS = IDENTITY_KEYS | _NETWORK_AND_SOURCE
_TRANSPORT = frozenset(("aws:securetransport", "s3:tlsversion"))

# Actions probed for public grants, with the level of resource they act on. A statement's own
# literal actions are probed too, on both levels.
S3_OBJECT_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectAcl", "s3:GetObjectTagging",
                     "s3:GetObjectAttributes", "s3:PutObject", "s3:PutObjectAcl", "s3:PutObjectTagging",
                     "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:AbortMultipartUpload",
                     "s3:ListMultipartUploadParts", "s3:RestoreObject", "s3:PutObjectRetention",
                     "s3:PutObjectLegalHold", "s3:ReplicateObject")
S3_BUCKET_ACTIONS = ("s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads", "s3:GetBucketPolicy",
                     "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:GetBucketAcl", "s3:PutBucketAcl",
                     "s3:GetBucketLocation", "s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration",
                     "s3:PutBucketPublicAccessBlock", "s3:PutBucketTagging", "s3:PutLifecycleConfiguration",
                     "s3:PutBucketVersioning", "s3:PutBucketCORS", "s3:PutBucketWebsite",
                     "s3:PutBucketOwnershipControls", "s3:PutReplicationConfiguration", "s3:DeleteBucket")
KMS_ACTIONS = ("kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:Encrypt", "kms:GenerateDataKey",
               "kms:GenerateDataKeyWithoutPlaintext", "kms:GenerateDataKeyPair",
               "kms:GenerateDataKeyPairWithoutPlaintext", "kms:GenerateMac", "kms:VerifyMac", "kms:Sign",
               "kms:Verify", "kms:GetPublicKey", "kms:DeriveSharedSecret", "kms:CreateGrant", "kms:RetireGrant",
               "kms:RevokeGrant", "kms:ListGrants", "kms:PutKeyPolicy", "kms:GetKeyPolicy", "kms:DescribeKey",
               "kms:DisableKey", "kms:EnableKey", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
               "kms:UpdateKeyDescription", "kms:TagResource", "kms:UntagResource", "kms:EnableKeyRotation",
               "kms:DisableKeyRotation", "kms:GetKeyRotationStatus", "kms:RotateKeyOnDemand",
               "kms:ImportKeyMaterial", "kms:DeleteImportedKeyMaterial", "kms:ReplicateKey",
               "kms:UpdatePrimaryRegion")
# The TLS probes: data and configuration actions on the objects and on the bucket itself.
TLS_OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:GetObjectVersion")
TLS_BUCKET_ACTIONS = ("s3:ListBucket", "s3:PutBucketPolicy", "s3:GetBucketPolicy")

Context = dict[str, Any]


@dataclass(frozen=True)
class Caller:
    label: str  # for annotations: "another account"
    principal: str  # as rules.policy.evaluation.Request takes it
    facts: Mapping[str, str]  # the identity context AWS adds to its requests


@dataclass(frozen=True)
class TlsGap:
    """What a bucket policy fails to do about TLS: ``missing`` (a request it does not refuse)
    or ``too_strict`` (its TLS statement refuses the minimum version too)."""

    kind: str
    action: str
    caller: str  # the Caller label
    version: str | None = None  # None: plain HTTP


@dataclass(frozen=True)
class Grant:
    action: str
    caller: str  # the Caller label


def _outsider(account_id: str, text: str) -> str:
    return next(a for a in _OUTSIDERS if a != account_id and a not in text)


def _role(account: str, partition: str) -> tuple[str, dict[str, str]]:
    arn = f"arn:{partition}:iam::{account}:role/{PROBE_NAME}"
    return arn, {"aws:PrincipalAccount": account, "aws:PrincipalArn": arn, "aws:PrincipalType": "AssumedRole",
                 "aws:userid": f"AROAPROBE{account}:{PROBE_NAME}", "kms:CallerAccount": account}


def callers(account_id: str, partition: str, document_text: str) -> dict[str, Caller]:
    """The kinds of caller probed: a role of this account, a role of an account the policy does
    not name, the Transcribe service and an anonymous caller."""
    own, own_facts = _role(account_id, partition)
    other, other_facts = _role(_outsider(account_id, document_text), partition)
    return {
        "own": Caller("this account", own, own_facts),
        "other": Caller("another account", other, other_facts),
        "service": Caller("the Transcribe service", "transcribe.amazonaws.com",
                          {"aws:PrincipalServiceName": "transcribe.amazonaws.com", "aws:PrincipalIsAWSService": "true"}),
        "anonymous": Caller("anonymous callers", "*", {"aws:PrincipalType": "Anonymous"}),
    }


def _now() -> dict[str, str]:
    now = datetime.now(timezone.utc)
    return {"aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "aws:EpochTime": str(int(now.timestamp()))}


def _merge(context: Mapping[str, Any], extra: Mapping[str, Any]) -> Context:
    """``context`` updated with ``extra``; condition keys are case-insensitive."""
    lowered = {key.lower() for key in extra}
    merged = {k: v for k, v in context.items() if k.lower() not in lowered}
    merged.update(extra)
    return merged


def _without(context: Mapping[str, Any], key: str) -> Context:
    return {k: v for k, v in context.items() if k.lower() != key.lower()}


# --- stepping around Deny statements -----------------------------------------------------------

def _escape(deny: Mapping[str, Any], request: Request, fixed: frozenset[str]) -> Request | None:
    """The request with one key the caller controls changed so that ``deny`` no longer applies,
    or None when no such change is found (an unconditional Deny, or one on fixed keys only)."""
    block = deny.get("Condition")
    if not isinstance(block, Mapping):
        return None
    for operator, keys in block.items():
        if not isinstance(keys, Mapping):
            continue
        for key, expected in keys.items():
            if str(key).lower() in fixed:
                continue
            single = {"Condition": {operator: {key: expected}}}
            tries: list[Context] = [_without(request.context, key)]
            tries += [_merge(request.context, {k: v}) for k, v in evading_context(single).items()]
            tries.append(_merge(request.context, {key: "transcribe-guard:no-match"}))
            for context in tries:
                candidate = dataclasses.replace(request, context=context)
                if not statement_applies(deny, candidate):
                    return candidate
    return None


def evade(denies: Sequence[Mapping[str, Any]], request: Request, fixed: frozenset[str]) -> Request:
    """The request after stepping around every Deny that the caller can step around."""
    for _ in range(len(denies) + 1):
        changed = False
        for deny in denies:
            if statement_applies(deny, request):
                escaped = _escape(deny, request, fixed)
                if escaped is not None:
                    request, changed = escaped, True
        if not changed:
            break
    return request


# --- TLS -------------------------------------------------------------------------------------------

def tls_gap(policy: str | Mapping[str, Any], bucket: str, minimum: str | None, account_id: str,
            partition: str = "aws") -> TlsGap | None:
    """The first request the bucket policy fails to refuse (plain HTTP, or TLS below ``minimum``
    that AWS itself accepts) or a TLS statement that also refuses ``minimum``; None when it refuses
    both for every caller, action and context. ``minimum`` None asks about plain HTTP only. Raises
    PolicyError for a document or condition the evaluator cannot read."""
    text = policy if isinstance(policy, str) else json.dumps(policy)
    found = statements(policy)
    denies = [s for s in found if s.get("Effect") == "Deny"]
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    probes = [(a, f"{bucket_arn}/{PROBE_NAME}") for a in TLS_OBJECT_ACTIONS] + [(a, bucket_arn) for a in TLS_BUCKET_ACTIONS]
    below = [v for v in reversed(TLS_VERSIONS) if minimum and float(v) < float(minimum)]  # the nearest first
    for caller in callers(account_id, partition, text).values():
        fixed = IDENTITY_KEYS | _TRANSPORT
        base = _merge({"aws:SourceIp": PUBLIC_IP, **_now()}, caller.facts)
        for action, resource in probes:
            http = evade(denies, Request(action, resource, caller.principal,
                                         _merge(base, {"aws:SecureTransport": "false"})), fixed)
            if not any(statement_applies(d, http) for d in denies):
                return TlsGap("missing", action, caller.label)
            for version in below:
                gap = _tls_version_gap(denies, Request(action, resource, caller.principal, _merge(
                    base, {"aws:SecureTransport": "true", "s3:TlsVersion": version})), str(minimum), fixed, caller)
                if gap and gap.kind == "missing" and float(version) < float(AWS_MINIMUM_TLS):
                    continue  # AWS refuses it at the endpoint; only a policy that also refuses the minimum matters
                if gap:
                    return gap
    return None


def _tls_version_gap(denies: Sequence[Mapping[str, Any]], request: Request, minimum: str, fixed: frozenset[str],
                     caller: Caller) -> TlsGap | None:
    version = str(request.context["s3:TlsVersion"])
    request = evade(denies, request, fixed)
    applying = [d for d in denies if statement_applies(d, request)]
    if not applying:
        return TlsGap("missing", request.action, caller.label, version)

    def at(tls: str) -> Request:
        return dataclasses.replace(request, context=_merge(request.context, {"s3:TlsVersion": tls}))
    if any(statement_applies(d, at(_ABOVE_ANY_TLS)) for d in applying):
        return None  # the caller is refused whatever its TLS version
    if any(not statement_applies(d, at(minimum)) for d in applying):
        return None  # a statement that refuses old TLS and lets the minimum through
    return TlsGap("too_strict", request.action, caller.label, minimum)


# --- public grants -------------------------------------------------------------------------------

def _wildcard_restricting(statement: Mapping[str, Any], facts: Mapping[str, Any], restricting: frozenset[str],
                          account_id: str) -> Context:
    """Restricting keys compared with wildcard patterns an outsider can match: key -> a value
    that matches (the pattern filled in). A pattern whose filled-in value names ``account_id``
    stays restricting."""
    found: Context = {}
    block = statement.get("Condition")
    if not isinstance(block, Mapping):
        return found
    for operator, keys in block.items():
        base = str(operator).rpartition(":")[2]
        base = base[: -len("IfExists")] if base.endswith("IfExists") else base
        if base not in ("StringLike", "ArnLike", "ArnEquals") or not isinstance(keys, Mapping):
            continue
        for key, expected in keys.items():
            if str(key).lower() not in restricting:
                continue
            for pattern in expected if isinstance(expected, list) else [expected]:
                pattern = str(pattern)
                if not any(c in pattern for c in "*?"):
                    continue
                actual = next((v for k, v in facts.items() if k.lower() == str(key).lower()), None)
                if isinstance(actual, str) and wildcard_match(pattern, actual):
                    break  # the outsider already matches
                filled = pattern.replace("*", "x").replace("?", "x")
                if account_id not in filled:
                    found[str(key)] = filled
                    break
    return found


def _public_grant(policy: str | Mapping[str, Any], candidates: Any, probe_callers: Sequence[Caller],
                  restricting: frozenset[str], account_id: str, base: Mapping[str, Any]) -> Grant | None:
    found = statements(policy)
    denies = [s for s in found if s.get("Effect") == "Deny"]
    for statement in (s for s in found if s.get("Effect") == "Allow"):
        for caller in probe_callers:
            facts = _merge(_merge(base, _now()), caller.facts)
            wild = _wildcard_restricting(statement, facts, restricting, account_id)
            chosen = {k: v for k, v in satisfying_context(statement).items() if k.lower() not in restricting}
            context = _merge(_merge(facts, chosen), wild)
            fixed = frozenset(k for k in restricting if k not in {w.lower() for w in wild})
            for action, resource in candidates(statement, context):
                request = Request(action, resource, caller.principal, context)
                if not statement_applies(statement, request):
                    continue
                if evaluate(policy, evade(denies, request, fixed)) is Decision.ALLOW:
                    return Grant(action, caller.label)
    return None


def _literal_actions(statement: Mapping[str, Any], prefix: str) -> list[str]:
    actions = statement.get("Action")
    values = actions if isinstance(actions, list) else [actions] if actions else []
    return [str(a) for a in values if str(a).lower().startswith(prefix) and not any(c in str(a) for c in "*?")]


def _filled_resources(statement: Mapping[str, Any], bucket_arn: str,
                      context: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Object and bucket ARNs of this bucket named by the statement's Resource patterns, their
    policy variables resolved from the probe's ``context`` (a pattern it cannot resolve names none)."""
    objects, buckets = [f"{bucket_arn}/{PROBE_NAME}"], [bucket_arn]
    resources = statement.get("Resource")
    for pattern in resources if isinstance(resources, list) else [resources] if resources else []:
        filled = witness(str(pattern), context, getattr(statement, "variables", True))
        if filled is None:
            continue
        if filled.startswith(f"{bucket_arn}/"):
            objects.append(filled)
        elif filled == bucket_arn:
            buckets.append(filled)
    return list(dict.fromkeys(objects)), list(dict.fromkeys(buckets))


def public_s3_grant(policy: str | Mapping[str, Any], bucket: str, account_id: str,
                    partition: str = "aws") -> Grant | None:
    """The first S3 action the bucket policy allows an anonymous caller or a role of an unrelated
    account, for some context it controls; None when it allows them nothing. Raises PolicyError."""
    text = policy if isinstance(policy, str) else json.dumps(policy)
    every = callers(account_id, partition, text)
    bucket_arn = f"arn:{partition}:s3:::{bucket}"

    def candidates(statement: Mapping[str, Any], context: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
        objects, buckets = _filled_resources(statement, bucket_arn, context)
        literal = _literal_actions(statement, "s3:")
        for action in dict.fromkeys(list(S3_OBJECT_ACTIONS) + literal):
            for resource in objects:
                yield action, resource
        for action in dict.fromkeys(list(S3_BUCKET_ACTIONS) + literal):
            for resource in buckets:
                yield action, resource

    base = {"aws:SourceIp": PUBLIC_IP, "aws:SecureTransport": "true", "s3:TlsVersion": "1.3",
            "aws:ResourceAccount": account_id}
    return _public_grant(policy, candidates, [every["anonymous"], every["other"]], RESTRICTING_S3, account_id, base)


def public_kms_grant(policy: str | Mapping[str, Any], key_arn: str, account_id: str,
                     partition: str = "aws") -> Grant | None:
    """The first KMS action the key policy allows a role of an unrelated account, for some context
    it controls; None when it allows it nothing. Raises PolicyError."""
    text = policy if isinstance(policy, str) else json.dumps(policy)
    outsider = callers(account_id, partition, text)["other"]

    def candidates(statement: Mapping[str, Any], context: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
        for action in dict.fromkeys(list(KMS_ACTIONS) + _literal_actions(statement, "kms:")):
            yield action, key_arn

    base = {"aws:SourceIp": PUBLIC_IP, "aws:SecureTransport": "true", "aws:ResourceAccount": account_id}
    return _public_grant(policy, candidates, [outsider], RESTRICTING_KMS, account_id, base)

