"""transcribe-data-access-role: the trust and permission judgements on plain policy documents, the
rule against the simulator (roles created with plain boto3, resources of every kind pointing at
them), API errors, parameters, pagination, and the Lambda handler with a real Config event."""

from __future__ import annotations

import json
from typing import Any, Iterator

import boto3
import jsonschema
import pytest
from botocore.awsrequest import AWSResponse
from rdklib import ClientFactory, ComplianceType, Evaluation, InvalidParametersError

import rules.inventory.transcribe
from rules.engine.base import inventory_for
from rules.catalog.registry import RULES, metadata_schema
from rules.inventory.transcribe import TranscribeInventory
from rules.transcribe_data_access_role import (KINDS, METADATA, PROBE_ACCOUNT, TranscribeDataAccessRole,
                                               lambda_handler, permission_findings, trust_findings, used_by,
                                               with_users)
from tests.helpers import rejected_parameters
from tests.helpers import (ACCOUNT, REGION, access_denied, deploy_rule, evaluate_periodic, fail_calls, put_media,
                           stored_verdicts, verdicts)
from tests.iam_helpers import create_policy, create_role
from tests.iam_helpers import policy_document as policy
from transcribe_guard.events import scheduled_notification
from transcribe_guard.iam_actions import recording
from transcribe_guard.simulator.config import result_token

RULE = "transcribe-data-access-role"
ROLE_TYPE = "AWS::IAM::Role"
MEDIA = "acme-media"
TRANSCRIBE_ARN = f"arn:aws:transcribe:{REGION}:{ACCOUNT}"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER = "444455556666"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/transcribe-data"

COMPLIANT_TEXT = ("Only transcribe.amazonaws.com, for this account, can assume the role; no AdministratorAccess, "
                  "s3:*, kms:* or * on all resources")
NO_GUARD = "trust policy lets transcribe.amazonaws.com assume the role without aws:SourceAccount or aws:SourceArn"
S3_ANY = "allows s3:DeleteBucket on any bucket"
KMS_ANY = "allows kms:ScheduleKeyDeletion on any key"


def trust(principal: Any = None, condition: dict[str, Any] | None = None, action: str = "sts:AssumeRole") -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal or {"Service": "transcribe.amazonaws.com"},
                                 "Action": action}
    if condition is not None:
        statement["Condition"] = condition
    return statement


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


GUARD = {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
GOOD_TRUST = policy(trust(condition=GUARD))
SCOPED = policy(allow(["s3:GetObject", "s3:ListBucket"], [f"arn:aws:s3:::{MEDIA}", f"arn:aws:s3:::{MEDIA}/*"]),
                allow("kms:Decrypt", KEY_ARN))


# --- pure judgement: trust policies -------------------------------------------------------------

TRUST_CASES = [
    pytest.param(GOOD_TRUST, [], id="scenario2-source-account"),
    pytest.param(policy(trust(condition={"ArnLike": {"aws:SourceArn": f"arn:aws:transcribe:{REGION}:{ACCOUNT}:*"}})), [],
                 id="scenario2-source-arn"),
    pytest.param(policy(trust(condition={**GUARD, "ArnLike": {"aws:SourceArn": f"arn:aws:transcribe:*:{ACCOUNT}:*"}})), [],
                 id="scenario2-both-source-keys"),
    pytest.param(policy(trust(condition={"StringEquals": {"aws:SourceAccount": [ACCOUNT]},
                                         "Bool": {"aws:SecureTransport": "true"}})), [], id="scenario2-extra-condition"),
    pytest.param(policy(trust()), [NO_GUARD], id="scenario7-no-condition"),
    pytest.param(policy(trust(condition={"StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT}})), [NO_GUARD],
                 id="scenario7-ifexists-is-no-guard"),
    pytest.param(policy(trust(condition={"Bool": {"aws:SecureTransport": "true"}})), [NO_GUARD],
                 id="scenario7-unrelated-condition-only"),
    pytest.param(policy(trust(condition=GUARD), trust()), [NO_GUARD], id="scenario7-second-unguarded-statement"),
    pytest.param(policy(trust(condition={"StringEquals": {"aws:SourceAccount": [ACCOUNT, OTHER]}})),
                 [f"trust policy lets transcribe.amazonaws.com assume the role for account {OTHER}"],
                 id="scenario7-foreign-account-listed"),
    pytest.param(policy(trust(condition={"StringLike": {"aws:SourceAccount": "*"}})),
                 [f"trust policy lets transcribe.amazonaws.com assume the role for account {PROBE_ACCOUNT}"],
                 id="scenario7-any-source-account"),
    pytest.param(policy(trust(condition={"ArnLike": {"aws:SourceArn": "arn:aws:transcribe:*:*:*"}})),
                 [f"trust policy lets transcribe.amazonaws.com assume the role for account {PROBE_ACCOUNT}"],
                 id="scenario7-source-arn-any-account"),
    pytest.param(policy(trust("*", GUARD)), ["trust policy lets any principal (*) assume the role"],
                 id="scenario5-star-principal"),
    pytest.param(policy(trust({"AWS": "*"})), ["trust policy lets any principal (*) assume the role"],
                 id="scenario5-aws-star-principal"),
    pytest.param(policy(trust({"AWS": "*"}, {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}})),
                 ["trust policy lets any principal (*) assume the role"], id="scenario5-star-with-condition"),
    pytest.param(policy(trust({"Service": ["transcribe.amazonaws.com", "ec2.amazonaws.com"]}, GUARD)),
                 ["trust policy lets ec2.amazonaws.com assume the role"], id="scenario6-other-service"),
    pytest.param(policy(trust(condition=GUARD), trust({"AWS": f"arn:aws:iam::{OTHER}:root"})),
                 [f"trust policy lets arn:aws:iam::{OTHER}:root assume the role"], id="scenario6-foreign-account"),
    pytest.param(policy(trust(condition=GUARD), trust({"AWS": ACCOUNT})),
                 [f"trust policy lets {ACCOUNT} assume the role"], id="scenario6-own-account"),
    pytest.param(policy(trust(condition=GUARD), trust({"AWS": f"arn:aws:iam::{ACCOUNT}:role/ops"},
                                                      {"Bool": {"aws:MultiFactorAuthPresent": "true"}})),
                 [f"trust policy lets arn:aws:iam::{ACCOUNT}:role/ops assume the role"],
                 id="scenario6-role-behind-a-condition"),
    pytest.param(policy(trust(condition=GUARD), trust({"Federated": "cognito-identity.amazonaws.com"},
                                                      action="sts:AssumeRoleWithWebIdentity")),
                 ["trust policy lets cognito-identity.amazonaws.com assume the role"], id="scenario6-federated"),
    pytest.param(policy(trust(condition=GUARD), {"Effect": "Allow", "NotPrincipal": {"Service": "transcribe.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}),
                 ["trust policy lets any principal (*) assume the role"], id="scenario5-notprincipal-grant"),
    pytest.param(policy(trust(condition=GUARD), {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole",
                                                 "Condition": {"StringNotEquals": {"aws:SourceAccount": ACCOUNT}}},
                        trust({"AWS": f"arn:aws:iam::{OTHER}:root"})), [],
                 id="deny-without-source-account-blocks-the-outsider"),
]


@pytest.mark.parametrize(("document", "expected"), TRUST_CASES)
def test_trust_findings(document: dict[str, Any], expected: list[str]) -> None:
    assert trust_findings(document, ROLE_ARN, ACCOUNT, REGION, "aws") == expected


def test_trust_findings_accept_the_url_encoded_form_iam_returns() -> None:
    import urllib.parse
    assert trust_findings(urllib.parse.quote(json.dumps(policy(trust()))), ROLE_ARN, ACCOUNT, REGION, "aws") == [NO_GUARD]


# --- pure judgement: permission policies --------------------------------------------------------

INLINE = "inline policy access"
PERMISSION_CASES = [
    pytest.param([(INLINE, SCOPED)], None, [], id="scenario2-scoped"),
    pytest.param([(INLINE, policy(allow("kms:Decrypt")))], None, [], id="scenario2-kms-decrypt-on-any-key-is-not-kms-star"),
    pytest.param([(INLINE, policy(allow("s3:*", [f"arn:aws:s3:::{MEDIA}", f"arn:aws:s3:::{MEDIA}/*"])))], None, [],
                 id="scenario2-s3-star-on-own-bucket"),
    pytest.param([(INLINE, policy(allow("s3:*")))], None, [f"{INLINE} {S3_ANY}"], id="scenario9-s3-star-on-star"),
    pytest.param([(INLINE, policy(allow("s3:Delete*")))], None, [f"{INLINE} {S3_ANY}"], id="scenario9-s3-delete-star"),
    pytest.param([(INLINE, policy(allow("S3:*", "arn:aws:s3:::*")))], None, [f"{INLINE} {S3_ANY}"],
                 id="scenario9-every-bucket-arn"),
    pytest.param([(INLINE, policy(allow("s3:*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})))], None,
                 [f"{INLINE} {S3_ANY}"], id="scenario9-a-condition-does-not-hide-it"),
    pytest.param([(INLINE, policy(allow("s3:*"), {"Effect": "Deny", "Action": "s3:*",
                                                  "NotResource": [f"arn:aws:s3:::{MEDIA}", f"arn:aws:s3:::{MEDIA}/*"]}))],
                 None, [], id="scenario9-deny-notresource-scopes-it"),
    pytest.param([(INLINE, policy(allow("s3:*"))), ("managed policy guard", policy(
        {"Effect": "Deny", "Action": ["s3:DeleteBucket", "s3:PutBucketPolicy"], "Resource": "*"}))], None, [],
                 id="scenario9-deny-in-another-policy"),
    pytest.param([(INLINE, policy(allow("s3:*"))), ("managed policy guard", policy(
        {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}))], None,
                 [f"{INLINE} allows s3:PutBucketPolicy on any bucket"], id="scenario9-partial-deny"),
    pytest.param([(INLINE, policy(allow("s3:*")))], policy(allow("s3:GetObject", f"arn:aws:s3:::{MEDIA}/*")), [],
                 id="scenario9-boundary-stops-it"),
    pytest.param([("managed policy broad", policy(allow("s3:*")))], policy(allow("*")),
                 [f"managed policy broad {S3_ANY}"], id="scenario9-open-boundary"),
    pytest.param([(INLINE, policy(allow("kms:*")))], None, [f"{INLINE} {KMS_ANY}"], id="scenario10-kms-star"),
    pytest.param([(INLINE, policy(allow("kms:*", f"arn:aws:kms:*:{ACCOUNT}:key/*")))], None, [f"{INLINE} {KMS_ANY}"],
                 id="scenario10-every-key-of-the-account"),
    pytest.param([(INLINE, policy(allow("kms:*", KEY_ARN)))], None, [], id="scenario10-kms-star-on-one-key"),
    pytest.param([(INLINE, policy(allow("s3:*"))), ("managed policy keys", policy(allow("kms:*")))], None,
                 [f"{INLINE} {S3_ANY}", f"managed policy keys {KMS_ANY}"], id="scenario9-10-both"),
    pytest.param([(INLINE, policy(allow("*")))], None, [f"{INLINE} allows every action on every resource"],
                 id="scenario11-star-on-star"),
    pytest.param([(INLINE, policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}))], None,
                 [f"{INLINE} allows every action on every resource"], id="scenario11-notaction"),
    pytest.param([(INLINE, policy(allow("*", f"arn:aws:s3:::{MEDIA}/*")))], None, [], id="scenario11-star-on-one-bucket"),
]


@pytest.mark.parametrize(("policies", "boundary", "expected"), PERMISSION_CASES)
def test_permission_findings(policies: list[tuple[str, Any]], boundary: Any, expected: list[str]) -> None:
    assert permission_findings(policies, boundary, ROLE_ARN, ACCOUNT, REGION, "aws") == expected


def test_annotation_names_as_many_users_as_fit() -> None:
    names = [f"resource-{i:03d}" for i in range(40)]
    text = with_users("role does not exist", names)
    assert len(text) <= 256 and text.startswith("Role does not exist; used by 40 resources: resource-000, ")
    assert text.endswith(" more.")
    assert used_by(["a"], 100) == "used by 1 resource: a"
    assert used_by(["a", "b", "c"], 100) == "used by 3 resources: a, b, c"
    assert used_by(["alpha", "beta", "gamma"], 38) == "used by 3 resources: alpha, and 2 more"
    assert used_by(["alpha"], 5) == "used by 1 resource"


# --- against the simulator ----------------------------------------------------------------------

def run(parameters: dict[str, str] | None = None, factory: Any = None) -> list[Evaluation]:
    return evaluate_periodic(TranscribeDataAccessRole(), parameters, factory)


@pytest.fixture
def account(sim: Any) -> Any:
    put_media(sim, MEDIA, ["a.wav", "terms.txt", "training/corpus.txt"])
    return sim


@pytest.fixture
def aws_managed_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the simulated IAM hold AWS managed policies (AdministratorAccess). moto reads the setting
    when the mock starts, so request this fixture before ``sim``/``account``."""
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")


def make_role(sim: Any, name: str, trust_policy: dict[str, Any] = GOOD_TRUST, inline: dict[str, Any] | None = SCOPED,
              managed: tuple[str, ...] = (), boundary: str | None = None) -> tuple[str, str]:
    """(ARN, RoleId) of a new role; its inline policy, when given, is named ``access``."""
    role = create_role(sim, name, trust_policy, {"access": inline} if inline is not None else {}, managed, boundary)
    return role["Arn"], role["RoleId"]


def managed_policy(sim: Any, name: str, document: dict[str, Any]) -> str:
    return str(create_policy(sim, name, document)["Arn"])


def use(sim: Any, kind: str, name: str, role_arn: str) -> str:
    """Create a Transcribe resource of ``kind`` that passes ``role_arn``; returns its ARN."""
    t = sim.client("transcribe")
    media = {"MediaFileUri": f"s3://{MEDIA}/a.wav"}
    if kind == "transcription-job":
        # The API requires both members of JobExecutionSettings together.
        t.start_transcription_job(TranscriptionJobName=name, LanguageCode="en-US", Media=media,
                                  JobExecutionSettings={"AllowDeferredExecution": True, "DataAccessRoleArn": role_arn})
    elif kind == "analytics":
        t.start_call_analytics_job(CallAnalyticsJobName=name, Media=media, DataAccessRoleArn=role_arn,
                                   OutputLocation=f"s3://{MEDIA}/analytics/")
    elif kind == "medical-scribe-job":
        t.start_medical_scribe_job(MedicalScribeJobName=name, Media=media, OutputBucketName=MEDIA,
                                   DataAccessRoleArn=role_arn, Settings={"ShowSpeakerLabels": True, "MaxSpeakerLabels": 2})
    elif kind == "vocabulary":
        t.create_vocabulary(VocabularyName=name, LanguageCode="en-US", VocabularyFileUri=f"s3://{MEDIA}/terms.txt",
                            DataAccessRoleArn=role_arn)
    elif kind == "vocabulary-filter":
        t.create_vocabulary_filter(VocabularyFilterName=name, LanguageCode="en-US",
                                   VocabularyFilterFileUri=f"s3://{MEDIA}/terms.txt", DataAccessRoleArn=role_arn)
    elif kind == "language-model":
        t.create_language_model(ModelName=name, LanguageCode="en-US", BaseModelName="NarrowBand",
                                InputDataConfig={"S3Uri": f"s3://{MEDIA}/training/", "DataAccessRoleArn": role_arn})
    else:
        raise AssertionError(kind)
    return f"{TRANSCRIBE_ARN}:{kind}/{name}"


class _Denied:
    """Answer chosen IAM calls with AccessDenied, as IAM does when the rule's role lacks a permission.
    A botocore before-call hook on the default session: every client the rule creates carries it."""

    def __init__(self) -> None:
        self.rules: list[tuple[str, str | None]] = []

    def __call__(self, model: Any, params: Any, **_: Any) -> Any:
        body = params.get("body") or {}
        for operation, role_name in self.rules:
            if model.name == operation and (role_name is None or body.get("RoleName") == role_name):
                return AWSResponse("https://iam.amazonaws.com/", 403, {}, None), {
                    "Error": {"Code": "AccessDenied", "Message": f"not authorized to perform iam:{operation}"},
                    "ResponseMetadata": {"HTTPStatusCode": 403}}
        return None


@pytest.fixture
def iam_denies() -> Iterator[_Denied]:
    denied = _Denied()
    events = boto3._get_default_session().events
    events.register("before-call.iam", denied, unique_id="test-iam-denied")
    try:
        yield denied
    finally:
        events.unregister("before-call.iam", unique_id="test-iam-denied")


def test_metadata_validates_and_is_registered() -> None:
    jsonschema.Draft202012Validator(metadata_schema(), format_checker=jsonschema.FormatChecker()).validate(METADATA)
    assert RULES[RULE] is TranscribeDataAccessRole
    assert [kind.key for kind in KINDS] == ["transcription-job", "analytics", "medical-scribe-job", "vocabulary",
                                            "vocabulary-filter", "language-model"]


def test_declared_iam_actions_are_exactly_the_calls_made(account: Any) -> None:
    boundary = managed_policy(account, "boundary", policy(allow(["s3:*", "kms:*"])))
    extra = managed_policy(account, "kms-use", policy(allow("kms:GenerateDataKey", KEY_ARN)))
    role_arn, role_id = make_role(account, "transcribe-data", managed=(extra,), boundary=boundary)
    for kind in KINDS:
        use(account, kind.key, f"{kind.key}-1", role_arn)
    with recording() as recorder:
        result = run()
    assert verdicts(result) == {role_id: ComplianceType.COMPLIANT}
    from transcribe_guard.templates import PACING_ACTIONS
    # Pacing's Service Quotas read is engine plumbing, granted to every function (templates.py).
    assert recorder.actions - set(PACING_ACTIONS) == set(METADATA["iam_actions"])


def test_scenario1_no_resources_no_evaluations(sim: Any) -> None:
    with recording() as recorder:
        assert run() == []
    assert not any(action.startswith("iam:") for action in recorder.actions)


def test_scenario1_resources_without_a_role_are_not_reported(account: Any) -> None:
    t = account.client("transcribe")
    t.start_transcription_job(TranscriptionJobName="plain", LanguageCode="en-US", Media={"MediaFileUri": f"s3://{MEDIA}/a.wav"})
    t.start_call_analytics_job(CallAnalyticsJobName="plain-ca", Media={"MediaFileUri": f"s3://{MEDIA}/a.wav"})
    t.create_vocabulary(VocabularyName="plain-vocab", LanguageCode="en-US", Phrases=["Acme"])
    t.create_vocabulary_filter(VocabularyFilterName="plain-filter", LanguageCode="en-US", Words=["darn"])
    t.create_medical_vocabulary(VocabularyName="medical", LanguageCode="en-US", VocabularyFileUri=f"s3://{MEDIA}/terms.txt")
    assert run() == []


def test_scenario2_compliant_role(account: Any) -> None:
    role_arn, role_id = make_role(account, "transcribe-data")
    use(account, "transcription-job", "call-1", role_arn)
    assert run() == [Evaluation(ComplianceType.COMPLIANT, role_id, ROLE_TYPE,
                                f"{COMPLIANT_TEXT}; used by 1 resource: call-1.")]


def test_scenario2_source_arn_guard_with_a_role_path(account: Any) -> None:
    iam = account.client("iam")
    guarded = policy(trust(condition={"ArnLike": {"aws:SourceArn": f"arn:aws:transcribe:{REGION}:{ACCOUNT}:*"}}))
    role = iam.create_role(RoleName="pathed", Path="/service-role/transcribe/",
                           AssumeRolePolicyDocument=json.dumps(guarded))["Role"]
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/service-role/transcribe/pathed"
    use(account, "vocabulary", "terms", role["Arn"])
    assert verdicts(run()) == {role["RoleId"]: ComplianceType.COMPLIANT}


def test_scenario3_missing_role_reported_by_arn(account: Any) -> None:
    missing = f"arn:aws:iam::{ACCOUNT}:role/deleted-role"
    use(account, "transcription-job", "orphan-1", missing)
    use(account, "vocabulary", "orphan-vocab", missing)
    assert run() == [Evaluation(ComplianceType.NON_COMPLIANT, missing, ROLE_TYPE,
                                "Role does not exist; used by 2 resources: orphan-1, orphan-vocab.")]


def test_scenario4_role_in_another_account(account: Any) -> None:
    foreign = f"arn:aws:iam::{OTHER}:role/partner-role"
    use(account, "vocabulary-filter", "partner-filter", foreign)
    assert run() == [Evaluation(
        ComplianceType.NON_COMPLIANT, foreign, ROLE_TYPE,
        f"Role is in account {OTHER}, not this one; its trust and permissions cannot be checked here; "
        "used by 1 resource: partner-filter.")]


def test_scenario5_wildcard_principal(account: Any) -> None:
    role_arn, role_id = make_role(account, "open-trust", trust_policy=policy(trust("*", GUARD)))
    use(account, "transcription-job", "call-1", role_arn)
    assert run() == [Evaluation(ComplianceType.NON_COMPLIANT, role_id, ROLE_TYPE,
                                "Trust policy lets any principal (*) assume the role; used by 1 resource: call-1.")]


def test_scenario6_extra_principal(account: Any) -> None:
    shared = policy(trust(condition=GUARD), trust({"AWS": f"arn:aws:iam::{OTHER}:root"}))
    role_arn, role_id = make_role(account, "shared-trust", trust_policy=shared)
    use(account, "analytics", "ca-1", role_arn)
    assert run() == [Evaluation(
        ComplianceType.NON_COMPLIANT, role_id, ROLE_TYPE,
        f"Trust policy lets arn:aws:iam::{OTHER}:root assume the role; used by 1 resource: ca-1.")]


def test_scenario6_another_service(account: Any) -> None:
    both = policy(trust({"Service": ["transcribe.amazonaws.com", "lambda.amazonaws.com"]}, GUARD))
    role_arn, role_id = make_role(account, "two-services", trust_policy=both)
    use(account, "medical-scribe-job", "scribe-1", role_arn)
    assert run()[0].annotation == "Trust policy lets lambda.amazonaws.com assume the role; used by 1 resource: scribe-1."


def test_scenario7_no_source_condition(account: Any) -> None:
    role_arn, role_id = make_role(account, "unguarded", trust_policy=policy(trust()))
    use(account, "language-model", "lm-1", role_arn)
    assert run() == [Evaluation(ComplianceType.NON_COMPLIANT, role_id, ROLE_TYPE,
                                f"{NO_GUARD[0].upper()}{NO_GUARD[1:]}; used by 1 resource: lm-1.")]


def test_scenario7_foreign_source_account(account: Any) -> None:
    lax = policy(trust(condition={"StringEquals": {"aws:SourceAccount": [ACCOUNT, OTHER]}}))
    role_arn, role_id = make_role(account, "lax", trust_policy=lax)
    use(account, "transcription-job", "call-1", role_arn)
    assert run()[0].annotation == (f"Trust policy lets transcribe.amazonaws.com assume the role for account {OTHER}; "
                                   "used by 1 resource: call-1.")


def test_scenario8_administrator_access(aws_managed_policies: None, account: Any) -> None:
    role_arn, role_id = make_role(account, "admin-role", managed=("arn:aws:iam::aws:policy/AdministratorAccess",))
    use(account, "transcription-job", "call-1", role_arn)
    with recording() as recorder:
        result = run()
    assert result == [Evaluation(ComplianceType.NON_COMPLIANT, role_id, ROLE_TYPE,
                                 "AdministratorAccess is attached; used by 1 resource: call-1.")]
    assert "iam:GetPolicy" not in recorder.actions  # its document adds nothing to the finding


def test_scenario8_other_aws_managed_policies_are_judged_by_their_document(aws_managed_policies: None, account: Any) -> None:
    role_arn, role_id = make_role(account, "s3-full", inline=None,
                                  managed=("arn:aws:iam::aws:policy/AmazonS3FullAccess",
                                           "arn:aws:iam::aws:policy/AmazonTranscribeReadOnlyAccess"))
    use(account, "transcription-job", "call-1", role_arn)
    assert run()[0].annotation == f"Managed policy AmazonS3FullAccess {S3_ANY}; used by 1 resource: call-1."


def test_scenario9_s3_star_inline(account: Any) -> None:
    role_arn, role_id = make_role(account, "s3-star", inline=policy(allow("s3:*")))
    use(account, "vocabulary", "terms", role_arn)
    assert run() == [Evaluation(ComplianceType.NON_COMPLIANT, role_id, ROLE_TYPE,
                                f"Inline policy access {S3_ANY}; used by 1 resource: terms.")]


def test_scenario9_s3_star_managed_and_a_boundary_that_stops_it(account: Any) -> None:
    broad = managed_policy(account, "broad-s3", policy(allow("s3:*")))
    narrow = managed_policy(account, "media-only", policy(allow(["s3:GetObject", "kms:Decrypt"], f"arn:aws:s3:::{MEDIA}/*")))
    open_arn, open_id = make_role(account, "broad", inline=None, managed=(broad,))
    bounded_arn, bounded_id = make_role(account, "bounded", inline=None, managed=(broad,), boundary=narrow)
    use(account, "transcription-job", "open-job", open_arn)
    use(account, "transcription-job", "bounded-job", bounded_arn)
    with recording() as recorder:
        result = run()
    assert verdicts(result) == {open_id: ComplianceType.NON_COMPLIANT, bounded_id: ComplianceType.COMPLIANT}
    assert result[1].annotation == f"Managed policy broad-s3 {S3_ANY}; used by 1 resource: open-job."
    assert recorder.calls["iam:GetPolicy"] == 2  # broad-s3 once for both roles, media-only once


def test_scenario10_kms_star(account: Any) -> None:
    role_arn, role_id = make_role(account, "kms-star", inline=policy(SCOPED["Statement"][0], allow("kms:*")))
    use(account, "transcription-job", "call-1", role_arn)
    assert run()[0].annotation == f"Inline policy access {KMS_ANY}; used by 1 resource: call-1."


def test_scenario11_every_action(account: Any) -> None:
    role_arn, role_id = make_role(account, "star", inline=policy(allow("*")))
    use(account, "transcription-job", "call-1", role_arn)
    assert run()[0].annotation == ("Inline policy access allows every action on every resource; "
                                   "used by 1 resource: call-1.")


def test_scenario5_to_11_findings_are_combined(account: Any) -> None:
    role_arn, role_id = make_role(account, "legacy", trust_policy=policy(trust()), inline=policy(allow(["s3:*", "kms:*"])))
    use(account, "transcription-job", "call-1", role_arn)
    assert run()[0].annotation == (f"{NO_GUARD[0].upper()}{NO_GUARD[1:]}; inline policy access {S3_ANY}; "
                                   f"inline policy access {KMS_ANY}; used by 1 resource: call-1.")


@pytest.mark.parametrize("kind", [kind.key for kind in KINDS])
def test_scenario2_every_resource_kind_that_carries_a_role(account: Any, kind: str) -> None:
    good_arn, good_id = make_role(account, "good")
    bad_arn, bad_id = make_role(account, "bad", inline=policy(allow("s3:*")))
    use(account, kind, "uses-good", good_arn)
    use(account, kind, "uses-bad", bad_arn)
    result = run()
    assert verdicts(result) == {good_id: ComplianceType.COMPLIANT, bad_id: ComplianceType.NON_COMPLIANT}
    assert {e.complianceResourceId: e.annotation.rsplit("; ", 1)[1] for e in result} == {
        good_id: "used by 1 resource: uses-good.", bad_id: "used by 1 resource: uses-bad."}


def test_scenario12_role_used_by_every_kind_is_read_once(account: Any) -> None:
    role_arn, role_id = make_role(account, "shared", inline=policy(allow("s3:*")))
    for kind in KINDS:
        use(account, kind.key, f"{kind.key}-x", role_arn)
    use(account, "transcription-job", "second-job", role_arn)
    with recording() as recorder:
        result = run()
    assert len(result) == 1 and result[0].complianceResourceId == role_id
    assert result[0].annotation == (
        f"Inline policy access {S3_ANY}; used by 7 resources: second-job, transcription-job-x, analytics-x, "
        "medical-scribe-job-x, vocabulary-x, vocabulary-filter-x, language-model-x.")
    assert recorder.calls["iam:GetRole"] == 1
    assert recorder.calls["iam:GetRolePolicy"] == 1


def test_scenario12_pagination_past_100_jobs(account: Any) -> None:
    role_arn, role_id = make_role(account, "busy")
    for index in range(105):
        use(account, "transcription-job", f"call-{index:03d}", role_arn)
    factory = ClientFactory(None, assume_role_mode=False)
    with recording() as recorder:
        result = run(factory=factory)
    assert len(result) == 1 and result[0].complianceType == ComplianceType.COMPLIANT
    assert result[0].annotation.startswith(f"{COMPLIANT_TEXT}; used by 105 resources: call-104, call-103, ")
    assert result[0].annotation.endswith(" more.") and len(result[0].annotation) <= 256
    calls = inventory_for(factory, ACCOUNT).calls
    assert calls["list_transcription_jobs"] == 2 and calls["get_transcription_job"] == 105
    assert recorder.calls["iam:GetRole"] == 1


def test_parameters_reported_resource_type(account: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    role_arn, role_id = make_role(account, "good")
    vocab = use(account, "vocabulary", "locked", role_arn)
    fail_calls(monkeypatch, TranscribeInventory, "_call", lambda self, op, **kw: op == "get_vocabulary",
               lambda: access_denied("GetVocabulary"))
    result = run({"ReportedResourceType": "Acme::Transcribe::Resource"})
    assert result == [Evaluation(ComplianceType.NON_COMPLIANT, vocab, "Acme::Transcribe::Resource",
                                 "Could not evaluate: AccessDeniedException when reading custom vocabulary.")]


@pytest.mark.parametrize(("parameters", "message"), [
    ({"AllowedRoles": "x"}, "Unknown parameter AllowedRoles; this rule accepts: ReportedResourceType."),
    ({"ReportedResourceType": "AWS::Transcribe"}, "Parameter ReportedResourceType has an invalid value: use "
                                                  "AWS::::Account or a registered third-party type such as "
                                                  "MyCompany::Transcribe::Resource."),
    ({"ReportedResourceType": 7}, "Parameter ReportedResourceType must be a string, not int."),
    ({"AssumeRoleMode": "maybe"}, "Parameter AssumeRoleMode must be true or false."),
])
def test_bad_parameters(parameters: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParametersError) as caught:
        TranscribeDataAccessRole().evaluate_parameters(parameters)
    assert str(caught.value) == message


def test_bad_parameters_through_the_handler(sim: Any) -> None:
    event = scheduled_notification(RULE, ACCOUNT, result_token(RULE), rule_parameters={"AssumeRoleMode": "false",
                                                                                       "Roles": "x"})
    response = rejected_parameters(lambda_handler, event)
    assert response["customerErrorCode"] == "InvalidParameterValueException"
    assert "Unknown parameter Roles" in response["customerErrorMessage"]


def test_scenario13_unreadable_resource(account: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    role_arn, role_id = make_role(account, "good")
    use(account, "transcription-job", "readable", role_arn)
    locked = use(account, "transcription-job", "locked", role_arn)
    fail_calls(monkeypatch, TranscribeInventory, "_call",
               lambda self, op, **kw: kw.get("TranscriptionJobName") == "locked",
               lambda: access_denied("GetTranscriptionJob"))
    assert run() == [
        Evaluation(ComplianceType.NON_COMPLIANT, locked, "AWS::::Account",
                   "Could not evaluate: AccessDeniedException when reading transcription job."),
        Evaluation(ComplianceType.COMPLIANT, role_id, ROLE_TYPE, f"{COMPLIANT_TEXT}; used by 1 resource: readable."),
    ]


def test_scenario14_get_role_denied_reported_by_the_role_id_list_roles_gave(account: Any, iam_denies: _Denied) -> None:
    role_arn, role_id = make_role(account, "hidden")
    good_arn, good_id = make_role(account, "good")
    use(account, "transcription-job", "call-1", role_arn)
    use(account, "transcription-job", "call-2", good_arn)
    iam_denies.rules.append(("GetRole", "hidden"))
    assert run() == [
        Evaluation(ComplianceType.COMPLIANT, good_id, ROLE_TYPE, f"{COMPLIANT_TEXT}; used by 1 resource: call-2."),
        Evaluation(ComplianceType.NON_COMPLIANT, role_id, ROLE_TYPE,
                   "Could not evaluate: AccessDenied when reading the role (iam:GetRole); used by 1 resource: call-1."),
    ]


def test_scenario14_get_role_and_list_roles_denied_reported_by_arn(account: Any, iam_denies: _Denied) -> None:
    role_arn, _ = make_role(account, "hidden")
    good_arn, good_id = make_role(account, "good")
    use(account, "transcription-job", "call-1", role_arn)
    use(account, "transcription-job", "call-2", good_arn)
    iam_denies.rules += [("GetRole", "hidden"), ("ListRoles", None)]
    assert run() == [  # GetRole still gives the readable role its RoleId
        Evaluation(ComplianceType.COMPLIANT, good_id, ROLE_TYPE, f"{COMPLIANT_TEXT}; used by 1 resource: call-2."),
        Evaluation(ComplianceType.NON_COMPLIANT, role_arn, ROLE_TYPE,
                   "Could not evaluate: AccessDenied when reading the role (iam:GetRole); used by 1 resource: call-1."),
    ]


def test_scenario14_earlier_results_are_kept_only_when_the_role_id_is_unknown(account: Any, iam_denies: _Denied
                                                                              ) -> None:
    # Reported by RoleId, the role's result replaces the earlier one as usual; reported by ARN
    # (no RoleId this run), the earlier RoleId result must not be retired by rdklib.
    role_arn, _ = make_role(account, "hidden")
    use(account, "transcription-job", "call-1", role_arn)
    rule = TranscribeDataAccessRole()
    evaluate_periodic(rule)
    assert rule.delete_old_evaluations_on_scheduled_notification is True
    iam_denies.rules.append(("GetRole", "hidden"))
    evaluate_periodic(rule)
    assert rule.delete_old_evaluations_on_scheduled_notification is True
    iam_denies.rules.append(("ListRoles", None))
    evaluate_periodic(rule)
    assert rule.delete_old_evaluations_on_scheduled_notification is False


def test_scenario14_list_roles_is_paged_once_per_run(account: Any, iam_denies: _Denied) -> None:
    iam = account.client("iam")
    for index in range(105):  # IAM returns 100 roles a page by default (MaxItems): two pages
        iam.create_role(RoleName=f"bystander-{index:03d}", AssumeRolePolicyDocument=json.dumps(GOOD_TRUST))
    first_arn, first_id = make_role(account, "aa-hidden")  # ListRoles sorts by name: the first page
    last_arn, last_id = make_role(account, "zz-hidden")  # the second page
    use(account, "transcription-job", "call-1", first_arn)
    use(account, "transcription-job", "call-2", last_arn)
    iam_denies.rules += [("GetRole", "aa-hidden"), ("GetRole", "zz-hidden")]
    with recording() as recorder:
        result = run()
    assert verdicts(result) == {first_id: ComplianceType.NON_COMPLIANT, last_id: ComplianceType.NON_COMPLIANT}
    assert recorder.calls["iam:ListRoles"] == 2  # the two pages, once for the run, not once per role


def test_scenario14_a_role_deleted_after_list_roles_is_reported_by_its_role_id(account: Any) -> None:
    role_arn, role_id = make_role(account, "doomed", inline=None)
    use(account, "transcription-job", "call-1", role_arn)
    events = boto3._get_default_session().events

    def delete(**_: Any) -> None:
        account.client("iam").delete_role(RoleName="doomed")

    events.register("after-call.iam.ListRoles", delete, unique_id="test-delete-after-list")
    try:
        result = run()
    finally:
        events.unregister("after-call.iam.ListRoles", unique_id="test-delete-after-list")
    assert result == [Evaluation(ComplianceType.NON_COMPLIANT, role_id, ROLE_TYPE,
                                 "Role does not exist; used by 1 resource: call-1.")]


@pytest.mark.parametrize(("operation", "what"), [
    ("ListAttachedRolePolicies", "its attached policies (iam:ListAttachedRolePolicies)"),
    ("ListRolePolicies", "its inline policies (iam:ListRolePolicies)"),
    ("GetRolePolicy", "inline policy access (iam:GetRolePolicy)"),
    ("GetPolicyVersion", "managed policy extra (iam:GetPolicy, iam:GetPolicyVersion)"),
])
def test_scenario14_later_iam_reads_denied_reported_by_role_id(account: Any, iam_denies: _Denied, operation: str,
                                                                what: str) -> None:
    extra = managed_policy(account, "extra", policy(allow("s3:GetObject", f"arn:aws:s3:::{MEDIA}/*")))
    role_arn, role_id = make_role(account, "partly-hidden", managed=(extra,))
    use(account, "vocabulary", "terms", role_arn)
    iam_denies.rules.append((operation, None))
    assert run() == [Evaluation(ComplianceType.NON_COMPLIANT, role_id, ROLE_TYPE,
                                f"Could not evaluate: AccessDenied when reading {what}; used by 1 resource: terms.")]


def test_scenario14_policy_the_evaluator_cannot_judge(account: Any) -> None:
    odd = policy(trust(condition={"StringEqualsSometimes": {"aws:SourceAccount": ACCOUNT}}))
    role_arn, role_id = make_role(account, "odd", trust_policy=odd)
    use(account, "transcription-job", "call-1", role_arn)
    assert run() == [Evaluation(
        ComplianceType.NON_COMPLIANT, role_id, ROLE_TYPE,
        "Could not evaluate: a policy of the role is not valid (unknown condition operator StringEqualsSometimes); "
        "used by 1 resource: call-1.")]


def test_lambda_handler_with_a_scheduled_notification(account: Any) -> None:
    good_arn, good_id = make_role(account, "good")
    bad_arn, bad_id = make_role(account, "legacy", trust_policy=policy(trust()), inline=policy(allow("s3:*")))
    missing = f"arn:aws:iam::{ACCOUNT}:role/gone"
    use(account, "transcription-job", "call-1", good_arn)
    use(account, "analytics", "pilot", bad_arn)
    use(account, "vocabulary", "old-terms", missing)
    deploy_rule(account, RULE)
    event = scheduled_notification(RULE, "123456789012", result_token(RULE), rule_parameters={"AssumeRoleMode": "false"})
    lambda_handler(event, None)
    assert stored_verdicts(account, RULE) == {good_id: "COMPLIANT", bad_id: "NON_COMPLIANT", missing: "NON_COMPLIANT"}
    details = account.client("config").get_compliance_details_by_config_rule(ConfigRuleName=RULE)["EvaluationResults"]
    by_id = {d["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"]: d for d in details}
    assert by_id[bad_id]["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceType"] == ROLE_TYPE
    assert by_id[missing]["Annotation"] == "Role does not exist; used by 1 resource: old-terms."

    # The next run, after the vocabulary is deleted: the missing role's result turns NOT_APPLICABLE.
    account.client("transcribe").delete_vocabulary(VocabularyName="old-terms")
    lambda_handler(scheduled_notification(RULE, ACCOUNT, result_token(RULE), rule_parameters={"AssumeRoleMode": "false"}),
                   None)
    assert stored_verdicts(account, RULE) == {good_id: "COMPLIANT", bad_id: "NON_COMPLIANT", missing: "NOT_APPLICABLE"}


def test_a_botocore_without_the_vocabulary_fields_refuses_to_judge(monkeypatch: Any) -> None:
    # An older botocore drops DataAccessRoleArn from GetVocabulary: the roles vocabularies pass
    # would go unseen, so the run fails and says why instead.
    real = rules.inventory.transcribe.modelled_fields
    monkeypatch.setattr(rules.inventory.transcribe, "modelled_fields",
                        lambda operation: real(operation) - {"DataAccessRoleArn"})
    with pytest.raises(rules.inventory.transcribe.OutdatedSdkError,
                       match=r"transcribe-data-access-role needs botocore 1\.43\.98 or newer"):
        list(run())
