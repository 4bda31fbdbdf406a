"""A differential corpus: AWS's documented policy examples, each with the answer its page gives.

Every case names the page it comes from; the policies are AWS's examples (account ids and names as
the page writes them, placeholders filled in), the requests are the ones the page discusses, and the
expected decision is the page's. When one of these fails, the evaluator disagrees with AWS, and AWS
is right.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from rules.policy.evaluation import Decision, Request, evaluate

IAM = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
VARIABLES = IAM + "reference_policies_variables.html"
OPERATORS = IAM + "reference_policies_elements_condition_operators.html"
MULTIVALUED = IAM + "reference_policies_condition-single-vs-multi-valued-context-keys.html"
MULTIVALUED_EXAMPLES = IAM + "reference_policies_condition_examples-multi-valued-context-keys.html"
NOT_PRINCIPAL = IAM + "reference_policies_elements_notprincipal.html"
NOT_ACTION = IAM + "reference_policies_elements_notaction.html"
NOT_RESOURCE = IAM + "reference_policies_elements_notresource.html"
ACTION = IAM + "reference_policies_elements_action.html"
S3_PRINCIPAL = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-bucket-user-policy-specifying-principal-intro.html"
# AWS re:Post answer confirming ForAnyValue:...IfExists is false for a missing key, observed against IAM.
REPOST_FORANYVALUE = "https://repost.aws/questions/QU9HFmDzP0QGuU-fd7rS6B7w"

ALLOW, DENY, IMPLICIT = Decision.ALLOW, Decision.DENY, Decision.IMPLICIT_DENY
ACCOUNT = "123456789012"


def policy(*statements: dict[str, Any], version: str | None = "2012-10-17") -> dict[str, Any]:
    document: dict[str, Any] = {"Statement": list(statements)}
    if version:
        document["Version"] = version
    return document


def allow(**element: Any) -> dict[str, Any]:
    return {"Effect": "Allow", **element}


def deny(**element: Any) -> dict[str, Any]:
    return {"Effect": "Deny", **element}


@dataclass(frozen=True)
class Case:
    name: str
    source: str
    document: dict[str, Any]
    action: str
    resource: str = "*"
    principal: str = "*"
    context: dict[str, Any] = field(default_factory=dict)
    expected: Decision = ALLOW


# --- policy variables ---------------------------------------------------------------------------
ACCESS_KEYS = policy(allow(Action=["iam:*AccessKey*"], Resource=[f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}"]))
HOME = policy(
    allow(Action="s3:ListBucket", Resource="arn:aws:s3:::BUCKET-NAME",
          Condition={"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/"]}}),
    allow(Action="s3:*", Resource=["arn:aws:s3:::BUCKET-NAME/home/${aws:username}",
                                   "arn:aws:s3:::BUCKET-NAME/home/${aws:username}/*"]))
DEPARTMENT = policy(allow(Action="s3:GetObject", Resource=["arn:aws:s3:::bucket/${aws:PrincipalTag/department}"]))
TEAM_MATCH = policy(allow(Action="transcribe:GetVocabulary", Resource="*",
                          Condition={"StringEquals": {"aws:ResourceTag/Team": "${aws:PrincipalTag/Team}"}}))
DEFAULTED = policy(allow(Action="s3:GetObject", Resource=["arn:aws:s3:::bucket/${aws:userid, 'anonymous'}/*"]))
SPECIAL = policy(allow(Action="s3:GetObject", Resource=["arn:aws:s3:::bucket/${*}"]))
QUEUES = policy(allow(Action="sqs:*", Resource="arn:aws:sqs:us-east-2:*:${aws:username}-queue"))

VARIABLE_CASES = [
    Case("username-substituted-own-key", VARIABLES, ACCESS_KEYS, "iam:CreateAccessKey",
         f"arn:aws:iam::{ACCOUNT}:user/David", context={"aws:username": "David"}),
    Case("username-substituted-other-users-key", VARIABLES, ACCESS_KEYS, "iam:CreateAccessKey",
         f"arn:aws:iam::{ACCOUNT}:user/Bob", context={"aws:username": "David"}, expected=IMPLICIT),
    Case("username-not-literal", VARIABLES, ACCESS_KEYS, "iam:CreateAccessKey",
         f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}", context={"aws:username": "David"}, expected=IMPLICIT),
    # "not present ... any attempt to match it fails": a role session has no aws:username.
    Case("username-absent-for-a-role", VARIABLES, ACCESS_KEYS, "iam:CreateAccessKey",
         f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}", expected=IMPLICIT),
    Case("home-directory-prefix", OPERATORS, HOME, "s3:ListBucket", "arn:aws:s3:::BUCKET-NAME",
         context={"aws:username": "adele", "s3:prefix": "home/adele/"}),
    Case("home-directory-someone-elses-prefix", OPERATORS, HOME, "s3:ListBucket", "arn:aws:s3:::BUCKET-NAME",
         context={"aws:username": "adele", "s3:prefix": "home/bob/"}, expected=IMPLICIT),
    Case("home-directory-object", OPERATORS, HOME, "s3:GetObject", "arn:aws:s3:::BUCKET-NAME/home/adele/notes.txt",
         context={"aws:username": "adele"}),
    Case("home-directory-other-object", OPERATORS, HOME, "s3:GetObject", "arn:aws:s3:::BUCKET-NAME/home/bob/notes.txt",
         context={"aws:username": "adele"}, expected=IMPLICIT),
    Case("principal-tag-in-resource", VARIABLES, DEPARTMENT, "s3:GetObject", "arn:aws:s3:::bucket/hr",
         context={"aws:PrincipalTag/department": "hr"}),
    Case("principal-tag-in-resource-untagged-caller", VARIABLES, DEPARTMENT, "s3:GetObject", "arn:aws:s3:::bucket/hr",
         expected=IMPLICIT),
    Case("principal-tag-in-condition-same-team", VARIABLES, TEAM_MATCH, "transcribe:GetVocabulary",
         context={"aws:PrincipalTag/Team": "red", "aws:ResourceTag/Team": "red"}),
    Case("principal-tag-in-condition-other-team", VARIABLES, TEAM_MATCH, "transcribe:GetVocabulary",
         context={"aws:PrincipalTag/Team": "red", "aws:ResourceTag/Team": "blue"}, expected=IMPLICIT),
    Case("principal-tag-in-condition-literal-value-does-not-match", VARIABLES, TEAM_MATCH, "transcribe:GetVocabulary",
         context={"aws:ResourceTag/Team": "${aws:PrincipalTag/Team}"}, expected=IMPLICIT),
    Case("default-value-for-a-missing-key", VARIABLES, DEFAULTED, "s3:GetObject", "arn:aws:s3:::bucket/anonymous/x"),
    Case("default-value-not-used-when-present", VARIABLES, DEFAULTED, "s3:GetObject", "arn:aws:s3:::bucket/anonymous/x",
         context={"aws:userid": "AIDAEXAMPLE"}, expected=IMPLICIT),
    Case("special-character-is-literal", VARIABLES, SPECIAL, "s3:GetObject", "arn:aws:s3:::bucket/*"),
    Case("special-character-is-not-a-wildcard", VARIABLES, SPECIAL, "s3:GetObject", "arn:aws:s3:::bucket/anything",
         expected=IMPLICIT),
    Case("variable-with-wildcards-around", VARIABLES, QUEUES, "sqs:SendMessage",
         f"arn:aws:sqs:us-east-2:{ACCOUNT}:adele-queue", context={"aws:username": "adele"}),
    # "If you don't include the Version element ... variables like ${aws:username} are treated as literal strings."
    Case("no-version-compares-literally", VARIABLES,
         policy(allow(Action="iam:*AccessKey*", Resource=f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}"), version=None),
         "iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}", context={"aws:username": "David"}),
    Case("no-version-does-not-substitute", VARIABLES,
         policy(allow(Action="iam:*AccessKey*", Resource=f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}"), version=None),
         "iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/David", context={"aws:username": "David"},
         expected=IMPLICIT),
    # A multivalued key cannot be a policy variable ("Single-valued vs. multivalued context keys").
    Case("multivalued-key-is-no-variable", MULTIVALUED,
         policy(allow(Action="s3:GetObject", Resource="arn:aws:s3:::bucket/${aws:TagKeys}")),
         "s3:GetObject", "arn:aws:s3:::bucket/a", context={"aws:TagKeys": ["a"]}, expected=IMPLICIT),
]

# --- set operators and missing keys ---------------------------------------------------------------
TEAM_KEYS_IF_EXISTS = policy(allow(Action="sqs:*", Resource="*",
                                   Condition={"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": ["team"]}}))
DENY_RESTRICTED_TAGS = policy(deny(Action=["iam:Tag*", "iam:UnTag*"], Resource=["*"],
                                   Condition={"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}}))
ALLOW_ANY_TEAM_KEY = policy(allow(Action="iam:TagUser", Resource="*",
                                  Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["team", "project"]}}))
ALLOW_ONLY_TEAM_KEYS = policy(allow(Action="iam:TagUser", Resource="*",
                                    Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "project"]}}))

SET_CASES = [
    Case("foranyvalue-ifexists-missing-key-is-false", REPOST_FORANYVALUE, TEAM_KEYS_IF_EXISTS, "sqs:ListQueues",
         expected=IMPLICIT),
    Case("foranyvalue-ifexists-present-key", REPOST_FORANYVALUE, TEAM_KEYS_IF_EXISTS, "sqs:TagQueue",
         context={"aws:TagKeys": ["team", "cost"]}),
    Case("foranyvalue-missing-key-is-false", MULTIVALUED, ALLOW_ANY_TEAM_KEY, "iam:TagUser", expected=IMPLICIT),
    Case("foranyvalue-one-match-is-enough", MULTIVALUED, ALLOW_ANY_TEAM_KEY, "iam:TagUser",
         context={"aws:TagKeys": ["team", "other"]}),
    Case("forallvalues-missing-key-is-true", MULTIVALUED, ALLOW_ONLY_TEAM_KEYS, "iam:TagUser"),
    Case("forallvalues-every-value-must-match", MULTIVALUED, ALLOW_ONLY_TEAM_KEYS, "iam:TagUser",
         context={"aws:TagKeys": ["team", "other"]}, expected=IMPLICIT),
    Case("forallvalues-subset-matches", MULTIVALUED, ALLOW_ONLY_TEAM_KEYS, "iam:TagUser", context={"aws:TagKeys": ["team"]}),
    # The table under "Deny policy with condition set operator ForAllValues".
    Case("deny-forallvalues-notlike-key1-legal", MULTIVALUED_EXAMPLES, DENY_RESTRICTED_TAGS, "iam:TagUser",
         context={"aws:TagKeys": ["key1:legal"]}, expected=IMPLICIT),
    Case("deny-forallvalues-notlike-key1-hr-personnel", MULTIVALUED_EXAMPLES, DENY_RESTRICTED_TAGS, "iam:TagUser",
         context={"aws:TagKeys": ["key1:hr", "key1:personnel"]}, expected=IMPLICIT),
    Case("deny-forallvalues-notlike-key2-audit", MULTIVALUED_EXAMPLES, DENY_RESTRICTED_TAGS, "iam:TagUser",
         context={"aws:TagKeys": ["key2:audit"]}, expected=DENY),
    Case("deny-forallvalues-notlike-no-keys", MULTIVALUED_EXAMPLES, DENY_RESTRICTED_TAGS, "iam:TagUser", expected=DENY),
]

# --- IfExists, Null, Bool, numeric, date, IP -----------------------------------------------------------
INSTANCE_TYPES = policy(
    allow(Sid="RunInstance", Action="ec2:RunInstances", Resource="*",
          Condition={"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}))
NO_TEMPORARY_CREDENTIALS = policy(allow(Action="ec2:*", Resource="*", Condition={"Null": {"aws:TokenIssueTime": "true"}}))
TLS_ONLY = policy(deny(Sid="BooleanExample", Action="s3:*", Resource=["arn:aws:s3:::DOC-EXAMPLE-BUCKET",
                                                                       "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"],
                       Condition={"Bool": {"aws:SecureTransport": "false"}}))
TLS_ONLY_JSON_BOOL = policy(deny(Action="s3:*", Resource="arn:aws:s3:::DOC-EXAMPLE-BUCKET/*",
                                 Condition={"Bool": {"aws:SecureTransport": False}}))
MAX_KEYS = policy(allow(Action="s3:ListBucket", Resource="arn:aws:s3:::example_bucket",
                        Condition={"NumericLessThanEquals": {"s3:max-keys": "10"}}))
FRESH_TOKENS = policy(allow(Action="iam:*AccessKey*", Resource=f"arn:aws:iam::{ACCOUNT}:user/*",
                            Condition={"DateGreaterThan": {"aws:TokenIssueTime": "2020-01-01T00:00:01Z"}}))
BEFORE_EPOCH = policy(allow(Action="s3:GetObject", Resource="*",
                            Condition={"DateLessThan": {"aws:EpochTime": "1609459200"}}))  # 2021-01-01T00:00:00Z
SOURCE_IPS = policy(allow(Action="someservice:*", Resource="*",
                          Condition={"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64"]}}))
ONE_ADDRESS = policy(allow(Action="someservice:*", Resource="*", Condition={"IpAddress": {"aws:SourceIp": "203.0.113.7"}}))
DENY_UNLESS_TAGGED = policy(deny(Action="iam:*", Resource="*",
                                 Condition={"StringNotEqualsIfExists": {"aws:ResourceTag/team": "admins"}}))

OPERATOR_CASES = [
    Case("ifexists-missing-key-holds", OPERATORS, INSTANCE_TYPES, "ec2:RunInstances",
         "arn:aws:ec2:us-east-1::image/ami-1"),
    Case("ifexists-present-key-matches", OPERATORS, INSTANCE_TYPES, "ec2:RunInstances",
         context={"ec2:InstanceType": "t2.micro"}),
    Case("ifexists-present-key-fails", OPERATORS, INSTANCE_TYPES, "ec2:RunInstances",
         context={"ec2:InstanceType": "m5.large"}, expected=IMPLICIT),
    # "If you are using an "Effect": "Deny" element with a negated condition operator like
    # StringNotEqualsIfExists, the request is still denied even if the tag is missing."
    Case("deny-negated-ifexists-missing-key-denies", OPERATORS, DENY_UNLESS_TAGGED, "iam:GetUser", expected=DENY),
    Case("deny-negated-ifexists-matching-tag", OPERATORS, DENY_UNLESS_TAGGED, "iam:GetUser",
         context={"aws:ResourceTag/team": "admins"}, expected=IMPLICIT),
    Case("null-true-key-absent", OPERATORS, NO_TEMPORARY_CREDENTIALS, "ec2:DescribeInstances"),
    Case("null-true-key-present", OPERATORS, NO_TEMPORARY_CREDENTIALS, "ec2:DescribeInstances",
         context={"aws:TokenIssueTime": "2024-05-01T00:00:00Z"}, expected=IMPLICIT),
    Case("bool-string-false-denies-plain-http", OPERATORS, TLS_ONLY, "s3:GetObject", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/a",
         context={"aws:SecureTransport": "false"}, expected=DENY),
    Case("bool-string-false-spares-tls", OPERATORS, TLS_ONLY, "s3:GetObject", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/a",
         context={"aws:SecureTransport": "true"}, expected=IMPLICIT),
    Case("bool-json-false-denies-plain-http", OPERATORS, TLS_ONLY_JSON_BOOL, "s3:GetObject",
         "arn:aws:s3:::DOC-EXAMPLE-BUCKET/a", context={"aws:SecureTransport": "false"}, expected=DENY),
    Case("bool-json-false-spares-tls", OPERATORS, TLS_ONLY_JSON_BOOL, "s3:GetObject",
         "arn:aws:s3:::DOC-EXAMPLE-BUCKET/a", context={"aws:SecureTransport": True}, expected=IMPLICIT),
    Case("numeric-at-the-bound", OPERATORS, MAX_KEYS, "s3:ListBucket", "arn:aws:s3:::example_bucket",
         context={"s3:max-keys": "10"}),
    Case("numeric-above-the-bound", OPERATORS, MAX_KEYS, "s3:ListBucket", "arn:aws:s3:::example_bucket",
         context={"s3:max-keys": "11"}, expected=IMPLICIT),
    Case("numeric-missing-key", OPERATORS, MAX_KEYS, "s3:ListBucket", "arn:aws:s3:::example_bucket", expected=IMPLICIT),
    Case("date-iso-after", OPERATORS, FRESH_TOKENS, "iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/a",
         context={"aws:TokenIssueTime": "2020-06-01T12:00:00Z"}),
    Case("date-iso-before", OPERATORS, FRESH_TOKENS, "iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/a",
         context={"aws:TokenIssueTime": "2019-12-31T23:59:59Z"}, expected=IMPLICIT),
    # "The key is not present in ... requests that are made using access keys": an IAM user is denied.
    Case("date-missing-key-for-access-keys", OPERATORS, FRESH_TOKENS, "iam:CreateAccessKey",
         f"arn:aws:iam::{ACCOUNT}:user/a", expected=IMPLICIT),
    Case("date-epoch-before", OPERATORS, BEFORE_EPOCH, "s3:GetObject", context={"aws:EpochTime": "1609459199"}),
    Case("date-epoch-after", OPERATORS, BEFORE_EPOCH, "s3:GetObject", context={"aws:EpochTime": "1609459200"},
         expected=IMPLICIT),
    Case("date-epoch-policy-iso-request", OPERATORS, BEFORE_EPOCH, "s3:GetObject",
         context={"aws:EpochTime": "2020-12-31T23:59:59Z"}),
    Case("ipv4-in-range", OPERATORS, SOURCE_IPS, "someservice:Get", context={"aws:SourceIp": "203.0.113.200"}),
    Case("ipv4-out-of-range", OPERATORS, SOURCE_IPS, "someservice:Get", context={"aws:SourceIp": "203.0.114.1"},
         expected=IMPLICIT),
    Case("ipv6-in-range", OPERATORS, SOURCE_IPS, "someservice:Get", context={"aws:SourceIp": "2001:db8:1234:5678::1"}),
    Case("ipv6-out-of-range", OPERATORS, SOURCE_IPS, "someservice:Get", context={"aws:SourceIp": "2001:db8:1234:5679::1"},
         expected=IMPLICIT),
    # "If you specify an IP address without the associated routing prefix, IAM uses ... /32."
    Case("ip-without-prefix-is-one-address", OPERATORS, ONE_ADDRESS, "someservice:Get",
         context={"aws:SourceIp": "203.0.113.7"}),
    Case("ip-without-prefix-not-its-neighbour", OPERATORS, ONE_ADDRESS, "someservice:Get",
         context={"aws:SourceIp": "203.0.113.8"}, expected=IMPLICIT),
    # A VPC endpoint request has no aws:SourceIp: "the condition returns false".
    Case("ip-missing-key", OPERATORS, SOURCE_IPS, "someservice:Get", expected=IMPLICIT),
]

# --- NotAction, NotResource, action wildcards ----------------------------------------------------------
DENY_ALL_BUT_IAM_WITHOUT_MFA = policy(deny(NotAction="iam:*", Resource="*",
                                           Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}))
DENY_ALL_BUT_PAYROLL = policy(deny(Action="s3:*", NotResource=["arn:aws:s3:::HRBucket/Payroll",
                                                                "arn:aws:s3:::HRBucket/Payroll/*"]))
NOT_CASES = [
    Case("notaction-deny-covers-other-services", NOT_ACTION, DENY_ALL_BUT_IAM_WITHOUT_MFA, "s3:ListAllMyBuckets",
         context={"aws:MultiFactorAuthPresent": "false"}, expected=DENY),
    Case("notaction-deny-spares-the-listed-service", NOT_ACTION, DENY_ALL_BUT_IAM_WITHOUT_MFA, "iam:ListUsers",
         context={"aws:MultiFactorAuthPresent": "false"}, expected=IMPLICIT),
    Case("notaction-deny-ifexists-missing-mfa-key", NOT_ACTION, DENY_ALL_BUT_IAM_WITHOUT_MFA, "ec2:DescribeInstances",
         expected=DENY),
    Case("notaction-deny-with-mfa", NOT_ACTION, DENY_ALL_BUT_IAM_WITHOUT_MFA, "ec2:DescribeInstances",
         context={"aws:MultiFactorAuthPresent": "true"}, expected=IMPLICIT),
    Case("notresource-deny-covers-other-objects", NOT_RESOURCE, DENY_ALL_BUT_PAYROLL, "s3:GetObject",
         "arn:aws:s3:::HRBucket/Other/file", expected=DENY),
    Case("notresource-deny-spares-the-listed-prefix", NOT_RESOURCE, DENY_ALL_BUT_PAYROLL, "s3:GetObject",
         "arn:aws:s3:::HRBucket/Payroll/2024.csv", expected=IMPLICIT),
    Case("mid-string-action-wildcard-create", ACTION, ACCESS_KEYS, "iam:CreateAccessKey",
         f"arn:aws:iam::{ACCOUNT}:user/David", context={"aws:username": "David"}),
    Case("mid-string-action-wildcard-list", ACTION, ACCESS_KEYS, "iam:ListAccessKeys",
         f"arn:aws:iam::{ACCOUNT}:user/David", context={"aws:username": "David"}),
    Case("mid-string-action-wildcard-other-action", ACTION, ACCESS_KEYS, "iam:ListUsers",
         f"arn:aws:iam::{ACCOUNT}:user/David", context={"aws:username": "David"}, expected=IMPLICIT),
    Case("action-names-are-case-insensitive", ACTION, ACCESS_KEYS, "IAM:createaccesskey",
         f"arn:aws:iam::{ACCOUNT}:user/David", context={"aws:username": "David"}),
]

# --- Principal and NotPrincipal --------------------------------------------------------------------------
BOB_ONLY = policy(deny(NotPrincipal={"AWS": ["arn:aws:iam::444455556666:user/Bob", "arn:aws:iam::444455556666:root"]},
                       Action="s3:*", Resource=["arn:aws:s3:::BUCKETNAME", "arn:aws:s3:::BUCKETNAME/*"]))
AUDIT_APP_ONLY = policy(deny(NotPrincipal={"AWS": [
    "arn:aws:sts::444455556666:assumed-role/cross-account-read-only-role/cross-account-audit-app",
    "arn:aws:iam::444455556666:role/cross-account-read-only-role",
    "arn:aws:iam::444455556666:root"]}, Action="s3:*",
    Resource=["arn:aws:s3:::Bucket_AccountAudit", "arn:aws:s3:::Bucket_AccountAudit/*"]))
ROLE_AND_ACCOUNT_ONLY = policy(deny(NotPrincipal={"AWS": [
    "arn:aws:iam::444455556666:role/cross-account-read-only-role", "arn:aws:iam::444455556666:root"]},
    Action="s3:*", Resource="arn:aws:s3:::Bucket_AccountAudit/*"))
SESSION = "arn:aws:sts::444455556666:assumed-role/cross-account-read-only-role/cross-account-audit-app"


def public_read(principal: Any) -> dict[str, Any]:
    return policy(allow(Principal=principal, Action="s3:GetObject", Resource="arn:aws:s3:::public-bucket/*"))


PRINCIPAL_CASES = [
    Case("notprincipal-deny-spares-bob", NOT_PRINCIPAL, BOB_ONLY, "s3:GetObject", "arn:aws:s3:::BUCKETNAME/a",
         "arn:aws:iam::444455556666:user/Bob", expected=IMPLICIT),
    Case("notprincipal-deny-refuses-bobs-colleague", NOT_PRINCIPAL, BOB_ONLY, "s3:GetObject", "arn:aws:s3:::BUCKETNAME/a",
         "arn:aws:iam::444455556666:user/Alice", expected=DENY),
    Case("notprincipal-deny-refuses-a-role-of-bobs-account", NOT_PRINCIPAL, BOB_ONLY, "s3:GetObject",
         "arn:aws:s3:::BUCKETNAME/a", "arn:aws:sts::444455556666:assumed-role/admin/s", expected=DENY),
    Case("notprincipal-deny-spares-the-account-itself", NOT_PRINCIPAL, BOB_ONLY, "s3:GetObject",
         "arn:aws:s3:::BUCKETNAME/a", "arn:aws:iam::444455556666:root", expected=IMPLICIT),
    Case("notprincipal-deny-refuses-everyone-else", NOT_PRINCIPAL, BOB_ONLY, "s3:GetObject", "arn:aws:s3:::BUCKETNAME/a",
         "arn:aws:iam::111122223333:user/Bob", expected=DENY),
    Case("notprincipal-deny-spares-the-listed-session", NOT_PRINCIPAL, AUDIT_APP_ONLY, "s3:GetObject",
         "arn:aws:s3:::Bucket_AccountAudit/a", SESSION, expected=IMPLICIT),
    Case("notprincipal-deny-refuses-another-session-of-the-role", NOT_PRINCIPAL, AUDIT_APP_ONLY, "s3:GetObject",
         "arn:aws:s3:::Bucket_AccountAudit/a",
         "arn:aws:sts::444455556666:assumed-role/cross-account-read-only-role/someone-else", expected=DENY),
    # "you cannot use a wildcard (*) to mean "all sessions". Principals must always name a specific session."
    Case("notprincipal-role-arn-does-not-exempt-its-sessions", NOT_PRINCIPAL, ROLE_AND_ACCOUNT_ONLY, "s3:GetObject",
         "arn:aws:s3:::Bucket_AccountAudit/a", SESSION, expected=DENY),
    Case("notprincipal-session-without-its-role-is-not-exempt", NOT_PRINCIPAL,
         policy(deny(NotPrincipal={"AWS": [SESSION, "arn:aws:iam::444455556666:root"]}, Action="s3:*",
                     Resource="arn:aws:s3:::Bucket_AccountAudit/*")),
         "s3:GetObject", "arn:aws:s3:::Bucket_AccountAudit/a", SESSION, expected=DENY),
    Case("principal-star-includes-anonymous", S3_PRINCIPAL, public_read("*"), "s3:GetObject",
         "arn:aws:s3:::public-bucket/a", "*"),
    Case("principal-aws-star-includes-anonymous", S3_PRINCIPAL, public_read({"AWS": "*"}), "s3:GetObject",
         "arn:aws:s3:::public-bucket/a", "*"),
    Case("principal-aws-star-includes-any-account", S3_PRINCIPAL, public_read({"AWS": "*"}), "s3:GetObject",
         "arn:aws:s3:::public-bucket/a", "arn:aws:sts::111122223333:assumed-role/r/s"),
    Case("principal-account-id-covers-its-roles", S3_PRINCIPAL, public_read({"AWS": ACCOUNT}), "s3:GetObject",
         "arn:aws:s3:::public-bucket/a", f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s"),
    Case("principal-account-root-covers-its-users", S3_PRINCIPAL, public_read({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}),
         "s3:GetObject", "arn:aws:s3:::public-bucket/a", f"arn:aws:iam::{ACCOUNT}:user/u"),
    Case("principal-account-excludes-other-accounts", S3_PRINCIPAL, public_read({"AWS": ACCOUNT}), "s3:GetObject",
         "arn:aws:s3:::public-bucket/a", "arn:aws:iam::111122223333:user/u", expected=IMPLICIT),
    Case("principal-account-excludes-anonymous", S3_PRINCIPAL, public_read({"AWS": ACCOUNT}), "s3:GetObject",
         "arn:aws:s3:::public-bucket/a", "*", expected=IMPLICIT),
    Case("principal-user-arn-names-only-that-user", S3_PRINCIPAL,
         public_read({"AWS": f"arn:aws:iam::{ACCOUNT}:user/username"}), "s3:GetObject",
         "arn:aws:s3:::public-bucket/a", f"arn:aws:iam::{ACCOUNT}:user/other", expected=IMPLICIT),
]

CASES = VARIABLE_CASES + SET_CASES + OPERATOR_CASES + NOT_CASES + PRINCIPAL_CASES


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_documented_example(case: Case) -> None:
    request = Request(case.action, case.resource, case.principal, case.context)
    assert evaluate(case.document, request) is case.expected, case.source


def test_every_case_cites_an_aws_page_and_names_are_unique() -> None:
    assert len({case.name for case in CASES}) == len(CASES)
    assert all(case.source.startswith(("https://docs.aws.amazon.com/", "https://repost.aws/")) for case in CASES)
