"""rules.policy.evaluation against AWS's documented evaluation logic, one policy document and request per row.

Sources for the expectations (IAM User Guide): "Policy evaluation logic" (explicit Deny wins, an
Allow is needed, otherwise implicit deny), "IAM JSON policy elements: Resource" (``*`` and ``?``
stay within an ARN segment unless ``*`` ends the segment), "Condition operators" (a missing key
makes a condition false, except negated operators, which hold, and ``...IfExists``/``Null``),
"Single-valued vs. multivalued context keys" (``ForAllValues`` holds when the key is missing,
``ForAnyValue`` does not), "Principal" (an account id or ``:root`` names every principal of the
account; a role ARN names the role's sessions).
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest

from rules.policy.evaluation import (Decision, PolicyError, Request, conditions_match, evaluate, parse_policy,
                                     satisfying_context, statements)

ALLOW, DENY, IMPLICIT = Decision.ALLOW, Decision.DENY, Decision.IMPLICIT_DENY
OWN, OTHER = "111122223333", "444455556666"
ROLE = f"arn:aws:iam::{OWN}:role/transcribe-data"


def doc(*statement: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statement)}


def allow(action: Any = "*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any = "*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def trust(principal: Any, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return doc(statement)


def req(action: str, resource: str = "*", principal: str = "*", **context: Any) -> Request:
    return Request(action, resource, principal, {k.replace("__", ":"): v for k, v in context.items()})


def assume(principal: str, **context: Any) -> Request:
    return req("sts:AssumeRole", ROLE, principal, **context)


TRANSCRIBE = "transcribe.amazonaws.com"
SOURCE_LIMITED = trust({"Service": TRANSCRIBE}, {
    "StringEquals": {"aws:SourceAccount": OWN},
    "ArnLike": {"aws:SourceArn": f"arn:aws:transcribe:*:{OWN}:*"}})
OWN_JOB = f"arn:aws:transcribe:us-east-1:{OWN}:transcription-job/j1"
OTHER_JOB = f"arn:aws:transcribe:us-east-1:{OTHER}:transcription-job/j1"
TLS = doc(allow("s3:*"), deny("s3:*", Condition={"NumericLessThan": {"s3:TlsVersion": "1.2"}}))
SECURE = doc(allow("s3:*"), deny("s3:*", Condition={"Bool": {"aws:SecureTransport": "false"}}))
ENCRYPTED = doc(allow("s3:PutObject"), deny("s3:PutObject", Condition={"Null": {"s3:x-amz-server-side-encryption": "true"}}))
TAG_ANY = doc(allow("ec2:CreateTags", Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["team", "project"]}}))
TAG_ALL = doc(allow("ec2:CreateTags", Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "project"]}}))

CASES = [
    # --- Effect: explicit deny, allow, implicit deny ------------------------------------------
    pytest.param(doc(allow("s3:GetObject", "arn:aws:s3:::b/k")), req("s3:GetObject", "arn:aws:s3:::b/k"), ALLOW,
                 id="allow-exact-action-and-resource"),
    pytest.param(doc(allow("s3:GetObject")), req("s3:PutObject"), IMPLICIT, id="no-statement-applies-implicit-deny"),
    pytest.param(doc(), req("s3:GetObject"), IMPLICIT, id="empty-policy-implicit-deny"),
    pytest.param(doc(allow("s3:*"), deny("s3:DeleteBucket")), req("s3:DeleteBucket", "arn:aws:s3:::b"), DENY,
                 id="deny-overrides-allow"),
    pytest.param(doc(deny("s3:DeleteBucket"), allow("s3:*")), req("s3:DeleteBucket", "arn:aws:s3:::b"), DENY,
                 id="deny-overrides-allow-in-any-order"),
    pytest.param(doc(allow("s3:*"), deny("s3:DeleteBucket")), req("s3:GetObject", "arn:aws:s3:::b/k"), ALLOW,
                 id="deny-of-another-action-leaves-allow"),
    pytest.param({"Statement": allow("s3:GetObject")}, req("s3:GetObject"), ALLOW, id="statement-as-single-object"),
    # --- Action / NotAction -------------------------------------------------------------------
    pytest.param(doc(allow("s3:*")), req("s3:PutObject"), ALLOW, id="action-service-wildcard"),
    pytest.param(doc(allow("s3:*")), req("s3express:CreateSession"), IMPLICIT, id="action-wildcard-stays-in-service"),
    pytest.param(doc(allow("s3:Put*")), req("s3:PutObjectAcl"), ALLOW, id="action-prefix-wildcard"),
    pytest.param(doc(allow("s3:Put*")), req("s3:GetObject"), IMPLICIT, id="action-prefix-wildcard-no-match"),
    pytest.param(doc(allow("*")), req("kms:ScheduleKeyDeletion"), ALLOW, id="action-star-is-every-action"),
    pytest.param(doc(allow("S3:getobject")), req("s3:GetObject"), ALLOW, id="action-case-insensitive"),
    pytest.param(doc(allow("s3:?etObject")), req("s3:GetObject"), ALLOW, id="action-question-mark"),
    pytest.param(doc(allow(["kms:Decrypt", "s3:GetObject"])), req("s3:GetObject"), ALLOW, id="action-list"),
    pytest.param(doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}), req("s3:DeleteBucket"), ALLOW,
                 id="notaction-allows-everything-else"),
    pytest.param(doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}), req("iam:CreateUser"), IMPLICIT,
                 id="notaction-excludes-listed-actions"),
    pytest.param(doc(allow("*"), {"Effect": "Deny", "NotAction": ["s3:GetObject"], "Resource": "*"}),
                 req("s3:PutObject"), DENY, id="notaction-deny-everything-but-listed"),
    # --- Resource / NotResource ---------------------------------------------------------------
    pytest.param(doc(allow("s3:*", "arn:aws:s3:::b/*")), req("s3:GetObject", "arn:aws:s3:::b/dir/k.wav"), ALLOW,
                 id="resource-bucket-objects"),
    pytest.param(doc(allow("s3:*", "arn:aws:s3:::b/*")), req("s3:DeleteBucket", "arn:aws:s3:::b"), IMPLICIT,
                 id="resource-objects-pattern-excludes-bucket"),
    pytest.param(doc(allow("s3:*", "arn:aws:s3:::b/*")), req("s3:GetObject", "arn:aws:s3:::b-other/k"), IMPLICIT,
                 id="resource-other-bucket"),
    pytest.param(doc(allow("s3:*", "arn:aws:s3:::logs-????/*")), req("s3:GetObject", "arn:aws:s3:::logs-2024/k"), ALLOW,
                 id="resource-question-marks"),
    pytest.param(doc(allow("s3:*", "arn:aws:s3:::logs-????/*")), req("s3:GetObject", "arn:aws:s3:::logs-24/k"), IMPLICIT,
                 id="resource-question-mark-is-one-character"),
    pytest.param(doc(allow("s3:*", "arn:aws:s3:::Media/*")), req("s3:GetObject", "arn:aws:s3:::media/k"), IMPLICIT,
                 id="resource-case-sensitive"),
    pytest.param(doc(allow("logs:*", f"arn:aws:logs:us-east-1:{OWN}:log-group:app*")),
                 req("logs:PutLogEvents", f"arn:aws:logs:us-east-1:{OWN}:log-group:app:log-stream:s"), ALLOW,
                 id="resource-star-ending-a-segment-crosses-colons"),
    pytest.param(doc(allow("s3:*", "arn:aws:s3:::b/*.wav")), req("s3:GetObject", "arn:aws:s3:::b/x:y.wav"), IMPLICIT,
                 id="resource-star-inside-a-segment-stays-in-it"),
    pytest.param(doc({"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*"}),
                 req("s3:GetObject", "arn:aws:s3:::secret/k"), IMPLICIT, id="notresource-excludes-listed"),
    pytest.param(doc({"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*"}),
                 req("s3:GetObject", "arn:aws:s3:::public/k"), ALLOW, id="notresource-allows-the-rest"),
    # --- Principal / NotPrincipal -------------------------------------------------------------
    pytest.param(trust("*"), assume("*"), ALLOW, id="principal-star-anonymous"),
    pytest.param(trust("*"), assume(TRANSCRIBE), ALLOW, id="principal-star-covers-services"),
    pytest.param(trust({"AWS": "*"}), assume(f"arn:aws:iam::{OTHER}:role/x"), ALLOW, id="principal-aws-star"),
    pytest.param(trust({"AWS": OWN}), assume(f"arn:aws:iam::{OWN}:role/any"), ALLOW, id="principal-account-id"),
    pytest.param(trust({"AWS": OWN}), assume(f"arn:aws:iam::{OTHER}:role/any"), IMPLICIT,
                 id="principal-account-id-other-account"),
    pytest.param(trust({"AWS": f"arn:aws:iam::{OWN}:root"}), assume(f"arn:aws:iam::{OWN}:user/alice"), ALLOW,
                 id="principal-root-arn-is-the-account"),
    pytest.param(trust({"AWS": f"arn:aws:iam::{OWN}:role/app"}), assume(f"arn:aws:iam::{OWN}:role/app"), ALLOW,
                 id="principal-role-arn"),
    pytest.param(trust({"AWS": f"arn:aws:iam::{OWN}:role/app"}), assume(f"arn:aws:iam::{OWN}:role/other"), IMPLICIT,
                 id="principal-role-arn-other-role"),
    pytest.param(trust({"AWS": f"arn:aws:iam::{OWN}:role/team/app"}),
                 assume(f"arn:aws:sts::{OWN}:assumed-role/app/session-1"), ALLOW, id="principal-role-arn-covers-sessions"),
    pytest.param(trust({"Service": TRANSCRIBE}), assume(TRANSCRIBE), ALLOW, id="principal-service"),
    pytest.param(trust({"Service": TRANSCRIBE}), assume("ec2.amazonaws.com"), IMPLICIT, id="principal-other-service"),
    pytest.param(trust({"Service": TRANSCRIBE}), assume("*"), IMPLICIT, id="principal-service-not-anonymous"),
    pytest.param(trust({"Service": [TRANSCRIBE, "ec2.amazonaws.com"]}), assume("ec2.amazonaws.com"), ALLOW,
                 id="principal-service-list"),
    pytest.param(doc(allow("s3:*", Principal="*"), deny("s3:*", NotPrincipal={"AWS": ROLE})),
                 req("s3:GetObject", "arn:aws:s3:::b/k", f"arn:aws:iam::{OWN}:role/other"), DENY,
                 id="notprincipal-deny-everyone-else"),
    pytest.param(doc(allow("s3:*", Principal="*"), deny("s3:*", NotPrincipal={"AWS": ROLE})),
                 req("s3:GetObject", "arn:aws:s3:::b/k", ROLE), ALLOW, id="notprincipal-exempts-listed"),
    # --- Conditions: string, list, negation, missing keys -------------------------------------
    pytest.param(SOURCE_LIMITED, assume(TRANSCRIBE, aws__SourceAccount=OWN, aws__SourceArn=OWN_JOB), ALLOW,
                 id="confused-deputy-own-account"),
    pytest.param(SOURCE_LIMITED, assume(TRANSCRIBE, aws__SourceAccount=OTHER, aws__SourceArn=OTHER_JOB), IMPLICIT,
                 id="confused-deputy-foreign-account"),
    pytest.param(SOURCE_LIMITED, assume(TRANSCRIBE), IMPLICIT, id="confused-deputy-no-source-keys"),
    pytest.param(SOURCE_LIMITED, assume(TRANSCRIBE, aws__SourceAccount=OWN,
                                        aws__SourceArn=f"arn:aws:transcribe:us-east-1:{OTHER}:x:{OWN}:y"), IMPLICIT,
                 id="arnlike-compares-segment-by-segment"),
    pytest.param(SOURCE_LIMITED, assume(TRANSCRIBE, aws__SourceAccount=OWN), IMPLICIT,
                 id="multiple-keys-are-and-one-missing"),
    pytest.param(trust({"Service": TRANSCRIBE}, {"StringEquals": {"aws:SourceAccount": [OWN, OTHER]}}),
                 assume(TRANSCRIBE, aws__SourceAccount=OTHER), ALLOW, id="condition-list-values-are-or"),
    pytest.param(trust({"Service": TRANSCRIBE}, {"StringEquals": {"aws:SourceAccount": [OWN, OTHER]}}),
                 assume(TRANSCRIBE, aws__SourceAccount="777788889999"), IMPLICIT, id="condition-list-no-value-matches"),
    pytest.param(trust({"Service": TRANSCRIBE}, {"StringEquals": {"AWS:SOURCEACCOUNT": OWN}}),
                 assume(TRANSCRIBE, aws__SourceAccount=OWN), ALLOW, id="condition-key-names-case-insensitive"),
    pytest.param(doc(allow("s3:*", Condition={"StringEquals": {"aws:PrincipalTag/team": "Audio"}})),
                 req("s3:GetObject", **{"aws__PrincipalTag/team": "audio"}), IMPLICIT, id="stringequals-case-sensitive"),
    pytest.param(doc(allow("s3:*", Condition={"StringEqualsIgnoreCase": {"aws:PrincipalTag/team": "Audio"}})),
                 req("s3:GetObject", **{"aws__PrincipalTag/team": "audio"}), ALLOW, id="stringequalsignorecase"),
    pytest.param(doc(allow("s3:*"), deny("s3:*", Condition={"StringNotEquals": {"aws:SourceAccount": OWN}})),
                 req("s3:GetObject"), DENY, id="stringnotequals-holds-when-key-missing"),
    pytest.param(doc(allow("s3:*"), deny("s3:*", Condition={"StringNotEquals": {"aws:SourceAccount": OWN}})),
                 req("s3:GetObject", aws__SourceAccount=OWN), ALLOW, id="stringnotequals-equal-value"),
    pytest.param(doc(allow("s3:*"), deny("s3:*", Condition={"StringNotEquals": {"aws:SourceAccount": [OWN, OTHER]}})),
                 req("s3:GetObject", aws__SourceAccount=OTHER), ALLOW, id="stringnotequals-list-is-none-of"),
    pytest.param(doc(allow("s3:*"), deny("s3:*", Condition={"StringNotEqualsIfExists": {"aws:SourceAccount": OWN}})),
                 req("s3:GetObject"), DENY, id="negated-ifexists-missing-key-holds"),
    pytest.param(doc(allow("s3:ListBucket", Condition={"StringLike": {"s3:prefix": ["home/*", "shared/?"]}})),
                 req("s3:ListBucket", **{"s3__prefix": "home/alice/"}), ALLOW, id="stringlike-wildcard"),
    pytest.param(doc(allow("s3:ListBucket", Condition={"StringLike": {"s3:prefix": ["home/*", "shared/?"]}})),
                 req("s3:ListBucket", **{"s3__prefix": "shared/ab"}), IMPLICIT, id="stringlike-question-mark-one-char"),
    pytest.param(doc(allow("s3:ListBucket", Condition={"StringNotLike": {"s3:prefix": "private/*"}})),
                 req("s3:ListBucket"), ALLOW, id="stringnotlike-holds-when-key-missing"),
    # --- Bool, Numeric, Null, IfExists --------------------------------------------------------
    pytest.param(SECURE, req("s3:GetObject", aws__SecureTransport="false"), DENY, id="bool-securetransport-false"),
    pytest.param(SECURE, req("s3:GetObject", aws__SecureTransport="true"), ALLOW, id="bool-securetransport-true"),
    pytest.param(SECURE, req("s3:GetObject"), ALLOW, id="bool-missing-key-condition-false"),
    pytest.param(doc(allow("s3:*"), deny("s3:*", Condition={"Bool": {"aws:SecureTransport": False}})),
                 req("s3:GetObject", aws__SecureTransport=False), DENY, id="bool-json-boolean-values"),
    pytest.param(TLS, req("s3:GetObject", s3__TlsVersion="1.0"), DENY, id="numericlessthan-tls-1.0"),
    pytest.param(TLS, req("s3:GetObject", s3__TlsVersion="1.2"), ALLOW, id="numericlessthan-tls-1.2-not-less"),
    pytest.param(TLS, req("s3:GetObject"), ALLOW, id="numericlessthan-missing-key"),
    pytest.param(TLS, req("s3:GetObject", s3__TlsVersion="n/a"), ALLOW, id="numeric-non-number-does-not-match"),
    pytest.param(ENCRYPTED, req("s3:PutObject"), DENY, id="null-true-key-missing"),
    pytest.param(ENCRYPTED, req("s3:PutObject", **{"s3__x-amz-server-side-encryption": "aws:kms"}), ALLOW,
                 id="null-true-key-present"),
    pytest.param(doc(allow("s3:*", Condition={"Null": {"aws:TokenIssueTime": "false"}})), req("s3:GetObject"), IMPLICIT,
                 id="null-false-key-missing"),
    pytest.param(doc(allow("s3:*", Condition={"Null": {"aws:TokenIssueTime": "false"}})),
                 req("s3:GetObject", aws__TokenIssueTime="2024-01-01T00:00:00Z"), ALLOW, id="null-false-key-present"),
    pytest.param(doc(allow("s3:*", Condition={"StringEqualsIfExists": {"aws:SourceAccount": OWN}})),
                 req("s3:GetObject"), ALLOW, id="ifexists-missing-key-holds"),
    pytest.param(doc(allow("s3:*", Condition={"StringEqualsIfExists": {"aws:SourceAccount": OWN}})),
                 req("s3:GetObject", aws__SourceAccount=OTHER), IMPLICIT, id="ifexists-present-key-is-checked"),
    # --- Set operators ------------------------------------------------------------------------
    pytest.param(TAG_ANY, req("ec2:CreateTags", aws__TagKeys=["cost", "team"]), ALLOW, id="foranyvalue-one-matches"),
    pytest.param(TAG_ANY, req("ec2:CreateTags", aws__TagKeys=["cost"]), IMPLICIT, id="foranyvalue-none-matches"),
    pytest.param(TAG_ANY, req("ec2:CreateTags"), IMPLICIT, id="foranyvalue-missing-key-false"),
    pytest.param(TAG_ALL, req("ec2:CreateTags", aws__TagKeys=["team", "project"]), ALLOW, id="forallvalues-all-match"),
    pytest.param(TAG_ALL, req("ec2:CreateTags", aws__TagKeys=["team", "cost"]), IMPLICIT, id="forallvalues-one-does-not"),
    pytest.param(TAG_ALL, req("ec2:CreateTags"), ALLOW, id="forallvalues-missing-key-true"),
    pytest.param(doc(allow("ec2:CreateTags"), deny("ec2:CreateTags", Condition={
        "ForAnyValue:StringNotEquals": {"aws:TagKeys": ["team", "project"]}})),
        req("ec2:CreateTags", aws__TagKeys=["team", "cost"]), DENY, id="foranyvalue-negated-one-outside"),
    # --- ARN, IP, Date operators --------------------------------------------------------------
    pytest.param(trust({"Service": TRANSCRIBE}, {"ArnLike": {"aws:SourceArn": f"arn:aws:transcribe:us-?ast-1:{OWN}:*"}}),
                 assume(TRANSCRIBE, aws__SourceArn=OWN_JOB), ALLOW, id="arnlike-wildcards-per-segment"),
    pytest.param(trust({"Service": TRANSCRIBE}, {"ArnEquals": {"aws:SourceArn": f"arn:aws:transcribe:*:{OWN}:*"}}),
                 assume(TRANSCRIBE, aws__SourceArn=OTHER_JOB), IMPLICIT, id="arnequals-foreign-account"),
    pytest.param(doc(allow("s3:*"), deny("s3:*", Condition={"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{OWN}:role/*"}})),
                 req("s3:GetObject", aws__PrincipalArn=f"arn:aws:iam::{OTHER}:role/x"), DENY, id="arnnotlike"),
    pytest.param(doc(allow("s3:*", Condition={"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}})),
                 req("s3:GetObject", aws__SourceIp="203.0.113.7"), ALLOW, id="ipaddress-in-range"),
    pytest.param(doc(allow("s3:*", Condition={"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}})),
                 req("s3:GetObject", aws__SourceIp="2001:db8::1"), ALLOW, id="ipaddress-ipv6"),
    pytest.param(doc(allow("s3:*", Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})),
                 req("s3:GetObject", aws__SourceIp="198.51.100.1"), IMPLICIT, id="ipaddress-out-of-range"),
    pytest.param(doc(allow("s3:*", Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})),
                 req("s3:GetObject", aws__SourceIp="vpce-1234"), IMPLICIT, id="ipaddress-not-an-address"),
    pytest.param(doc(allow("s3:*"), deny("s3:*", Condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})),
                 req("s3:GetObject", aws__SourceIp="198.51.100.1"), DENY, id="notipaddress"),
    pytest.param(doc(allow("s3:*", Condition={"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}})),
                 req("s3:GetObject", aws__CurrentTime="1893455999"), ALLOW, id="date-epoch-seconds-utc"),
    pytest.param(doc(allow("s3:*", Condition={"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}})),
                 req("s3:GetObject", aws__CurrentTime="2030-01-01T00:30:00+01:00"), ALLOW, id="date-offset-converted"),
    pytest.param(doc(allow("s3:*", Condition={"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}})),
                 req("s3:GetObject", aws__CurrentTime="2030-01-01T00:00:00Z"), IMPLICIT, id="date-not-less"),
    # --- Several operators and keys -----------------------------------------------------------
    pytest.param(doc(allow("s3:PutObject", Condition={
        "StringEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
        "Bool": {"aws:SecureTransport": "true"}})),
        req("s3:PutObject", aws__SecureTransport="true", **{"s3__x-amz-server-side-encryption": "AES256"}), IMPLICIT,
        id="multiple-operators-are-and"),
    pytest.param(doc(allow("s3:PutObject", Condition={
        "StringEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
        "Bool": {"aws:SecureTransport": "true"}})),
        req("s3:PutObject", aws__SecureTransport="true", **{"s3__x-amz-server-side-encryption": "aws:kms"}), ALLOW,
        id="multiple-operators-all-hold"),
    # --- Document forms -----------------------------------------------------------------------
    pytest.param(json.dumps(doc(allow("s3:GetObject"))), req("s3:GetObject"), ALLOW, id="json-text-document"),
    pytest.param(urllib.parse.quote(json.dumps(trust({"Service": TRANSCRIBE}))), assume(TRANSCRIBE), ALLOW,
                 id="url-encoded-document-as-iam-returns-it"),
]


@pytest.mark.parametrize(("document", "request_", "expected"), CASES)
def test_decision(document: Any, request_: Request, expected: Decision) -> None:
    assert evaluate(document, request_) is expected


def test_table_covers_at_least_thirty_documents() -> None:
    assert len({json.dumps(c.values[0], sort_keys=True) for c in CASES}) >= 30


@pytest.mark.parametrize("document", [
    pytest.param("{not json", id="invalid-json"),
    pytest.param("[1, 2]", id="not-an-object"),
    pytest.param({"Statement": ["s3:*"]}, id="statement-not-objects"),
    pytest.param(doc(allow("s3:*", Condition={"StringAlmostEquals": {"k": "v"}})), id="unknown-operator"),
    pytest.param(doc(allow("s3:*", Condition=["StringEquals"])), id="condition-not-an-object"),
    pytest.param(doc(allow("s3:*", Condition={"StringEquals": "k"})), id="operator-not-an-object"),
])
def test_malformed_documents_raise_policy_error(document: Any) -> None:
    with pytest.raises(PolicyError):
        evaluate(document, req("s3:GetObject"))


def test_parse_and_statements_accept_every_form() -> None:
    document = doc(allow("s3:GetObject"))
    assert parse_policy(document) == parse_policy(json.dumps(document)) == parse_policy(urllib.parse.quote(json.dumps(document)))
    assert statements({"Version": "2012-10-17"}) == []


@pytest.mark.parametrize("condition", [
    pytest.param({"StringEquals": {"aws:SourceAccount": OWN}, "ArnLike": {"aws:SourceArn": f"arn:aws:transcribe:*:{OWN}:*"}},
                 id="source-keys"),
    pytest.param({"NumericLessThan": {"s3:TlsVersion": "1.2"}, "NumericGreaterThan": {"s3:max-keys": 10}}, id="numeric-bounds"),
    pytest.param({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}, id="date-bound"),
    pytest.param({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, id="ip-range"),
    pytest.param({"Null": {"aws:TokenIssueTime": "false", "aws:MultiFactorAuthAge": "true"}}, id="null-both-ways"),
    pytest.param({"StringNotEquals": {"aws:PrincipalAccount": OTHER}, "ForAllValues:StringLike": {"aws:TagKeys": "a*"},
                  "ForAnyValue:StringEquals": {"aws:PrincipalOrgPaths": "o-1/r-1/"}}, id="negated-and-set-operators"),
    pytest.param({"StringLikeIfExists": {"aws:PrincipalTag/team": "audio-*"}, "Bool": {"aws:SecureTransport": True}},
                 id="ifexists-and-json-boolean"),
])
def test_satisfying_context_satisfies_the_condition(condition: dict[str, Any]) -> None:
    assert conditions_match(condition, satisfying_context({"Condition": condition}))


def test_satisfying_context_of_contradictory_conditions_does_not_satisfy() -> None:
    condition = {"NumericGreaterThan": {"s3:max-keys": "5"}, "NumericLessThan": {"s3:max-keys": "3"}}
    assert not conditions_match(condition, satisfying_context({"Condition": condition}))
    assert satisfying_context({"Effect": "Allow"}) == {}


def test_epoch_dates_are_utc_whatever_the_local_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    import time
    monkeypatch.setenv("TZ", "Asia/Tokyo")  # UTC+9: a local-time reading would put 23:59:59Z past 2030
    time.tzset()
    try:
        document = doc(allow("s3:*", Condition={"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}))
        assert evaluate(document, req("s3:GetObject", aws__CurrentTime="1893455999")) is ALLOW
    finally:
        monkeypatch.undo()
        time.tzset()
