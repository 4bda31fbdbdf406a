"""rules.policy.resource_policy_probe on plain policy documents: tables of bucket policies for the TLS
question (transcribe-bucket-tls-enforced) and the public question
(transcribe-bucket-public-access-blocked), and of key policies (transcribe-kms-key-protected)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rules.policy.evaluation import PolicyError
from rules.policy.resource_policy_probe import Grant, TlsGap, evade, public_kms_grant, public_s3_grant, tls_gap
from rules.policy.evaluation import Request

ACCOUNT = "123456789012"
BUCKET = "b"
ARN = "arn:aws:s3:::b"
OBJECTS = "arn:aws:s3:::b/*"
BOTH = [ARN, OBJECTS]
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
HTTP = {"Bool": {"aws:SecureTransport": "false"}}


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def deny(condition: Any = None, principal: Any = "*", action: Any = "s3:*", resource: Any = None,
         **extra: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Deny", "Principal": principal, "Action": action,
                                 "Resource": BOTH if resource is None else resource, **extra}
    if condition:
        statement["Condition"] = condition
    return statement


def allow(principal: Any = "*", action: Any = "s3:GetObject", resource: Any = OBJECTS, condition: Any = None,
          **extra: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource,
                                 **extra}
    if condition:
        statement["Condition"] = condition
    return statement


def old_tls(version: Any = "1.2") -> dict[str, Any]:
    return deny({"NumericLessThan": {"s3:TlsVersion": version}})


# --- TLS ----------------------------------------------------------------------------------------------

TLS_TABLE = [
    # (id, document, minimum, expected gap or None)
    ("recommended-pair", doc(deny(HTTP), old_tls()), "1.2", None),
    ("bool-as-json-false", doc(deny({"Bool": {"aws:SecureTransport": False}}), old_tls()), "1.2", None),
    ("list-forms", doc(deny({"Bool": {"aws:SecureTransport": ["false"]}}, principal={"AWS": ["*"]}, action=["s3:*"]),
                       deny({"NumericLessThan": {"s3:TlsVersion": ["1.2"]}})), "1.2", None),
    ("tls-version-as-number", doc(deny(HTTP), old_tls(1.2)), "1.2", None),
    ("wildcard-actions-and-resource", doc(deny(HTTP, action=["s3:Get*", "s3:Put*", "s3:List*", "s3:Delete*"],
                                               resource="arn:aws:s3:::b*"), old_tls()), "1.2", None),
    ("one-statement-both-conditions-is-an-and", doc(deny({**HTTP, "NumericLessThan": {"s3:TlsVersion": "1.2"}})),
     "1.2", TlsGap("missing", "s3:GetObject", "this account")),
    # AWS refuses TLS 1.0/1.1 at every endpoint: a minimum of 1.2 needs no TLS statement, 1.3 does.
    ("no-tls-floor-at-1.2", doc(deny(HTTP)), "1.2", None),
    ("no-tls-floor-at-1.3", doc(deny(HTTP)), "1.3", TlsGap("missing", "s3:GetObject", "this account", "1.2")),
    ("no-minimum-asks-about-plain-http-only", doc(deny(HTTP)), None, None),
    ("no-minimum-still-needs-the-http-deny", doc(old_tls()), None, TlsGap("missing", "s3:GetObject", "this account")),
    ("floor-too-low-for-1.3", doc(deny(HTTP), old_tls()), "1.3", TlsGap("missing", "s3:GetObject", "this account", "1.2")),
    ("floor-1.3", doc(deny(HTTP), old_tls("1.3")), "1.3", None),
    ("floor-above-minimum-is-too-strict", doc(deny(HTTP), old_tls("1.3")), "1.2",
     TlsGap("too_strict", "s3:GetObject", "this account", "1.2")),
    ("objects-only", doc(deny(HTTP, resource=OBJECTS), old_tls()), "1.2", TlsGap("missing", "s3:ListBucket", "this account")),
    ("get-and-put-only", doc(deny(HTTP, action=["s3:GetObject", "s3:PutObject"]), old_tls()), "1.2",
     TlsGap("missing", "s3:DeleteObject", "this account")),
    ("one-other-account-only", doc(deny(HTTP, principal={"AWS": "arn:aws:iam::444455556666:root"}), old_tls()), "1.2",
     TlsGap("missing", "s3:GetObject", "this account")),
    ("notprincipal-exempts-an-admin-role",
     doc({k: v for k, v in deny(HTTP).items() if k != "Principal"} | {"NotPrincipal": {
         "AWS": f"arn:aws:iam::{ACCOUNT}:role/admin"}}, old_tls()), "1.2", None),
    # NotPrincipal names no one implicitly: listing the account exempts the account itself, not its
    # roles (IAM User Guide, "NotPrincipal"), so the probe role of this account is still refused.
    ("notprincipal-listing-the-account-exempts-only-the-account",
     doc({k: v for k, v in deny(HTTP).items() if k != "Principal"} | {"NotPrincipal": {"AWS": ACCOUNT}}, old_tls()),
     "1.2", None),
    ("notprincipal-listing-the-probe-role-exempts-it",
     doc({k: v for k, v in deny(HTTP).items() if k != "Principal"} | {"NotPrincipal": {"AWS": [
         f"arn:aws:iam::{ACCOUNT}:role/transcribe-guard-probe", f"arn:aws:iam::{ACCOUNT}:root"]}}, old_tls()),
     "1.2", TlsGap("missing", "s3:GetObject", "this account")),
    ("notaction-leaves-delete-out", doc({k: v for k, v in deny(HTTP).items() if k != "Action"} | {
        "NotAction": "s3:DeleteObject"}, old_tls()), "1.2", TlsGap("missing", "s3:DeleteObject", "this account")),
    ("an-allow-refuses-nothing", doc(allow(condition={"Bool": {"aws:SecureTransport": "true"}}), old_tls()), "1.2",
     TlsGap("missing", "s3:GetObject", "this account")),
    ("vpc-endpoint-exemption-can-be-stepped-around",
     doc(deny({**HTTP, "StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c"}}), old_tls()), "1.2",
     TlsGap("missing", "s3:GetObject", "this account")),
    ("referer-condition-can-be-stepped-around",
     doc(deny({**HTTP, "StringLike": {"aws:Referer": "https://app.example.com/*"}}), old_tls()), "1.2",
     TlsGap("missing", "s3:GetObject", "this account")),
    ("callers-denied-everything-need-no-tls-statement",  # HTTP denied to the account, all else to everyone else
     doc(deny(HTTP, principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}),
         deny({"NumericLessThan": {"s3:TlsVersion": "1.2"}}, principal={"AWS": ACCOUNT}),
         {k: v for k, v in deny().items() if k != "Principal"} | {"NotPrincipal": {"AWS": ACCOUNT}}), "1.2", None),
    ("no-statements", doc(), "1.2", TlsGap("missing", "s3:GetObject", "this account")),
]


@pytest.mark.parametrize("document, minimum, expected", [t[1:] for t in TLS_TABLE], ids=[t[0] for t in TLS_TABLE])
def test_tls_table(document: str, minimum: str | None, expected: TlsGap | None) -> None:
    assert tls_gap(document, BUCKET, minimum, ACCOUNT) == expected


def test_tls_unreadable_conditions_raise() -> None:
    with pytest.raises(PolicyError):
        tls_gap(doc(deny({"BoolIsh": {"aws:SecureTransport": "false"}})), BUCKET, "1.2", ACCOUNT)
    with pytest.raises(PolicyError):
        tls_gap("{not json", BUCKET, "1.2", ACCOUNT)


# --- public grants in bucket policies ---------------------------------------------------------------

ANON = "anonymous callers"
PUBLIC_TABLE = [
    ("public-read", doc(allow()), Grant("s3:GetObject", ANON)),
    ("aws-star-principal", doc(allow(principal={"AWS": "*"})), Grant("s3:GetObject", ANON)),
    ("wildcard-action", doc(allow(action="s3:Get*")), Grant("s3:GetObject", ANON)),
    ("list-bucket", doc(allow(action="s3:ListBucket", resource=ARN)), Grant("s3:ListBucket", ANON)),
    ("prefix-only", doc(allow(resource="arn:aws:s3:::b/public/*")), Grant("s3:GetObject", ANON)),
    ("notaction-allow", doc({k: v for k, v in allow().items() if k != "Action"} | {"NotAction": "s3:Delete*"}),
     Grant("s3:GetObject", ANON)),
    ("notprincipal-allow", doc({k: v for k, v in allow().items() if k != "Principal"} | {
        "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}), Grant("s3:GetObject", ANON)),
    ("referer-is-spoofable", doc(allow(condition={"StringLike": {"aws:Referer": "https://app.example.com/*"}})),
     Grant("s3:GetObject", ANON)),
    ("negated-vpce-is-public", doc(allow(condition={"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c"}})),
     Grant("s3:GetObject", ANON)),
    ("ifexists-vpce-is-public", doc(allow(condition={"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1a2b3c"}})),
     Grant("s3:GetObject", ANON)),
    ("wildcard-org-is-public", doc(allow(condition={"StringLike": {"aws:PrincipalOrgID": "o-*"}})),
     Grant("s3:GetObject", ANON)),
    ("any-role-named-reader", doc(allow(condition={"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/reader"}})),
     Grant("s3:GetObject", ANON)),
    ("whole-internet-cidr", doc(allow(condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}})), Grant("s3:GetObject", ANON)),
    ("deny-on-referer-can-be-stepped-around",
     doc(allow(), deny({"StringNotLike": {"aws:Referer": "https://app.example.com/*"}})), Grant("s3:GetObject", ANON)),
    ("fixed-vpce", doc(allow(condition={"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c"}})), None),
    ("fixed-vpc-list", doc(allow(condition={"StringEquals": {"aws:SourceVpc": ["vpc-1", "vpc-2"]}})), None),
    ("fixed-org", doc(allow(condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}})), None),
    ("fixed-source-account", doc(allow(principal={"Service": "logging.s3.amazonaws.com"}, action="s3:PutObject",
                                       condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}}),
                                 allow(condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}})), None),
    ("own-account-arn-pattern", doc(allow(condition={"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/*"}})),
     None),
    ("private-cidr", doc(allow(condition={"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}})), None),
    ("deny-overrides-allow", doc(allow(action="s3:*", resource=BOTH),
                                 deny({"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}})), None),
    ("deny-on-wildcard-resource-overrides", doc(allow(), deny(resource="arn:aws:s3:::*",
                                                              condition={"StringNotEquals": {"aws:PrincipalAccount": ACCOUNT}})),
     None),
    ("named-cross-account-is-sharing-not-public",
     doc(allow(principal={"AWS": "arn:aws:iam::444455556666:root"}, action="s3:*", resource=BOTH)), None),
    ("own-account-only", doc(allow(principal={"AWS": ACCOUNT}, action="s3:*", resource=BOTH)), None),
    ("deny-only-policy", doc(deny(HTTP), old_tls()), None),
    ("other-bucket-only", doc(allow(resource="arn:aws:s3:::other-bucket/*")), None),
    # Policy variables resolve per caller: an outsider's role session has an aws:userid, so a
    # per-user prefix open to "*" is open to it; an anonymous caller has none and gets nothing there.
    ("per-userid-prefix-is-open-to-outsiders", doc(allow(resource="arn:aws:s3:::b/home/${aws:userid}/*")),
     Grant("s3:GetObject", "another account")),
    ("per-username-prefix-no-role-has-a-username", doc(allow(resource="arn:aws:s3:::b/home/${aws:username}/*")), None),
    # Principal tags are the caller's to choose (an outsider tags its own role); the probe lets
    # every caller choose them, anonymous included, as it does for a PrincipalTag condition.
    ("per-principal-tag-prefix-caller-tags-itself",
     doc(allow(resource="arn:aws:s3:::b/${aws:PrincipalTag/team}/*")), Grant("s3:GetObject", ANON)),
]


@pytest.mark.parametrize("document, expected", [t[1:] for t in PUBLIC_TABLE], ids=[t[0] for t in PUBLIC_TABLE])
def test_public_bucket_policy_table(document: str, expected: Grant | None) -> None:
    assert public_s3_grant(document, BUCKET, ACCOUNT) == expected


def test_outsider_account_is_one_the_policy_does_not_name() -> None:
    # A grant to {"AWS": "*"} except named accounts: the probe's outsider is never one of them.
    statement = {k: v for k, v in allow().items() if k != "Principal"} | {
        "NotPrincipal": {"AWS": ["210987654321", "109876543210"]}}
    assert public_s3_grant(doc(statement), BUCKET, ACCOUNT) == Grant("s3:GetObject", ANON)
    only_outsiders = allow(principal={"AWS": ["210987654321"]})
    assert public_s3_grant(doc(only_outsiders), BUCKET, ACCOUNT) is None


def test_evade_changes_only_keys_the_caller_controls() -> None:
    request = Request("s3:GetObject", OBJECTS.replace("*", "x"), "*", {"aws:SourceIp": "198.51.100.7"})
    referer = deny({"StringNotLike": {"aws:Referer": "https://app/*"}})
    vpce = deny({"StringNotEquals": {"aws:SourceVpce": "vpce-1"}})
    evaded = evade([referer, vpce], request, frozenset({"aws:sourcevpce", "aws:sourceip"}))
    assert evaded.context == {"aws:SourceIp": "198.51.100.7", "aws:Referer": "https://app/x"}


# --- public grants in key policies ------------------------------------------------------------------

ROOT = {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "kms:*", "Resource": "*"}


def key_allow(condition: Any = None, action: Any = "kms:Decrypt", principal: Any = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal or {"AWS": "*"}, "Action": action,
                                 "Resource": "*"}
    if condition:
        statement["Condition"] = condition
    return statement


OUT = "another account"
KMS_TABLE = [
    ("default-key-policy", doc(ROOT), None),
    ("everyone-decrypt", doc(ROOT, key_allow()), Grant("kms:Decrypt", OUT)),
    ("reencrypt-wildcard", doc(ROOT, key_allow(action="kms:ReEncrypt*")), Grant("kms:ReEncryptFrom", OUT)),
    ("create-grant", doc(ROOT, key_allow(action=["kms:CreateGrant", "kms:ListGrants"])), Grant("kms:CreateGrant", OUT)),
    ("put-key-policy", doc(ROOT, key_allow(action="kms:PutKeyPolicy")), Grant("kms:PutKeyPolicy", OUT)),
    ("via-service-alone-restricts-nothing",
     doc(ROOT, key_allow({"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}})), Grant("kms:Decrypt", OUT)),
    ("aws-managed-style-caller-account",
     doc(ROOT, key_allow({"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com", "kms:CallerAccount": ACCOUNT}},
                         action=["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                                 "kms:DescribeKey"])), None),
    ("org-restricted", doc(ROOT, key_allow({"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}})), None),
    ("source-account-restricted", doc(ROOT, key_allow({"StringEquals": {"aws:SourceAccount": ACCOUNT}},
                                                      principal={"Service": "transcribe.amazonaws.com"}),
                                      key_allow({"StringEquals": {"aws:SourceAccount": ACCOUNT}})), None),
    ("named-other-account", doc(ROOT, key_allow(principal={"AWS": "arn:aws:iam::444455556666:root"})), None),
    ("negated-caller-account", doc(ROOT, key_allow({"StringNotEquals": {"kms:CallerAccount": "444455556666"}})),
     Grant("kms:Decrypt", OUT)),
    ("deny-outside-org-overrides", doc(ROOT, key_allow(action="kms:*"), {
        "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}}), None),
    ("encryption-context-is-the-callers-choice",
     doc(ROOT, key_allow({"StringEquals": {"kms:EncryptionContext:app": "transcripts"}})), Grant("kms:Decrypt", OUT)),
]


@pytest.mark.parametrize("document, expected", [t[1:] for t in KMS_TABLE], ids=[t[0] for t in KMS_TABLE])
def test_public_key_policy_table(document: str, expected: Grant | None) -> None:
    assert public_kms_grant(document, KEY, ACCOUNT) == expected
