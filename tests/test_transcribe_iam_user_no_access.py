"""transcribe-iam-user-no-access: scenarios against the simulator (users seeded with plain boto3 IAM
calls), parameters, API errors, pagination, one read per policy, and the Lambda handler with a
real ScheduledNotification event."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.core.responses import ActionResult
from moto.iam.responses import IamResponse
from rdklib import ComplianceType, Evaluation, InvalidParametersError

import rules.inventory.iam
from rules.transcribe_iam_user_no_access import TranscribeIamUserNoAccess, lambda_handler
from tests.helpers import rejected_parameters
from tests.helpers import ACCOUNT, deploy_rule, evaluate_periodic, periodic_event, stored_verdicts, verdicts
from tests.iam_helpers import alter_iam_responses, create_policy, deny_iam_reads, iam_denied, policy_document
from transcribe_guard.iam_actions import recording

RULE = "transcribe-iam-user-no-access"
USER = "AWS::IAM::User"
ALL_TRANSCRIBE = {"Effect": "Allow", "Action": "transcribe:*", "Resource": "*"}
S3_READ = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme/*"}
NO_KEY = "User has no active access key, so no long-term credential of it can call Transcribe."
NO_GRANT = "User has an active access key and its policies allow no Transcribe action."


def evaluate(parameters: dict[str, Any] | None = None, factory: Any = None) -> list[Evaluation]:
    return evaluate_periodic(TranscribeIamUserNoAccess(), parameters, factory)


def document(*statements: dict[str, Any]) -> str:
    return json.dumps(policy_document(*statements))


def managed(sim: Any, name: str, *statements: dict[str, Any]) -> str:
    """Create a customer managed policy; its ARN."""
    return str(create_policy(sim, name, policy_document(*statements))["Arn"])


def group(sim: Any, name: str, inline: dict[str, list[dict[str, Any]]] | None = None,
          attached: tuple[str, ...] = ()) -> None:
    iam = sim.client("iam")
    iam.create_group(GroupName=name)
    for policy, statements in (inline or {}).items():
        iam.put_group_policy(GroupName=name, PolicyName=policy, PolicyDocument=document(*statements))
    for arn in attached:
        iam.attach_group_policy(GroupName=name, PolicyArn=arn)


def user(sim: Any, name: str, key: str | None = "Active", inline: dict[str, list[dict[str, Any]]] | None = None,
         attached: tuple[str, ...] = (), groups: tuple[str, ...] = ()) -> str:
    """Create a user (with an access key in state ``key``, or none) and its policies; its UserId."""
    iam = sim.client("iam")
    user_id = str(iam.create_user(UserName=name)["User"]["UserId"])
    if key:
        key_id = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
        if key != "Active":
            iam.update_access_key(UserName=name, AccessKeyId=key_id, Status=key)
    for policy, statements in (inline or {}).items():
        iam.put_user_policy(UserName=name, PolicyName=policy, PolicyDocument=document(*statements))
    for arn in attached:
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
    for group_name in groups:
        iam.add_user_to_group(GroupName=group_name, UserName=name)
    return user_id


def test_scenario1_no_users_no_evaluations(sim: Any) -> None:
    assert evaluate() == []


def test_scenario2_no_access_key_or_only_inactive_keys_is_not_applicable(sim: Any) -> None:
    keyless = user(sim, "console-only", key=None, inline={"ops": [ALL_TRANSCRIBE]})
    inactive = user(sim, "former-analyst", key="Inactive", inline={"ops": [ALL_TRANSCRIBE]})
    assert evaluate() == [Evaluation(ComplianceType.NOT_APPLICABLE, keyless, USER, NO_KEY),
                          Evaluation(ComplianceType.NOT_APPLICABLE, inactive, USER, NO_KEY)]


def test_scenario2_one_active_key_among_inactive_ones_counts(sim: Any) -> None:
    uid = user(sim, "rotating", key="Inactive", inline={"ops": [ALL_TRANSCRIBE]})
    sim.client("iam").create_access_key(UserName="rotating")
    assert verdicts(evaluate()) == {uid: ComplianceType.NON_COMPLIANT}


def test_scenario3_exempt_users_are_not_applicable_and_not_read(sim: Any) -> None:
    exempt = user(sim, "onprem-recorder", inline={"ops": [ALL_TRANSCRIBE]})
    other = user(sim, "ci", inline={"ops": [ALL_TRANSCRIBE]})
    with recording() as recorder:
        result = evaluate({"ExemptUserNames": "onprem-recorder, nobody"})
    assert result[0] == Evaluation(ComplianceType.NOT_APPLICABLE, exempt, USER,
                                   "User is exempt by the ExemptUserNames parameter.")
    assert verdicts(result) == {exempt: ComplianceType.NOT_APPLICABLE, other: ComplianceType.NON_COMPLIANT}
    assert recorder.calls["iam:ListAccessKeys"] == 1 and recorder.calls["iam:GetUserPolicy"] == 1


def test_scenario4_no_transcribe_grant_in_any_policy_is_compliant(sim: Any) -> None:
    reader = managed(sim, "S3Reader", S3_READ)
    group(sim, "analysts", inline={"logs": [{"Effect": "Allow", "Action": "logs:Get*", "Resource": "*"}]},
          attached=(reader,))
    uid = user(sim, "exporter", inline={"s3": [S3_READ]}, attached=(reader,), groups=("analysts",))
    assert evaluate() == [Evaluation(ComplianceType.COMPLIANT, uid, USER, NO_GRANT)]


def test_scenario5_inline_and_attached_grants_are_named(sim: Any) -> None:
    batch = user(sim, "batch", inline={"batch-transcribe": [
        {"Effect": "Allow", "Action": ["transcribe:StartTranscriptionJob", "transcribe:GetTranscriptionJob"],
         "Resource": "*"}]})
    ops = managed(sim, "TranscribeOperators", ALL_TRANSCRIBE)
    operator = user(sim, "operator", attached=(ops,))
    assert evaluate() == [
        Evaluation(ComplianceType.NON_COMPLIANT, batch, USER,
                   "User has an active access key and is allowed transcribe:StartTranscriptionJob, "
                   "transcribe:GetTranscriptionJob by inline policy batch-transcribe; use an IAM role instead."),
        Evaluation(ComplianceType.NON_COMPLIANT, operator, USER,
                   "User has an active access key and is allowed every Transcribe action (52 probed) by managed "
                   "policy TranscribeOperators; use an IAM role instead."),
    ]


@pytest.mark.parametrize("statement, named", [
    pytest.param({"Effect": "Allow", "Action": "transcribe:*", "Resource": "*"}, "every Transcribe action",
                 id="transcribe-star"),
    pytest.param({"Effect": "Allow", "Action": "*", "Resource": "*"}, "every Transcribe action", id="star"),
    pytest.param({"Effect": "Allow", "Action": "transcribe:Start*", "Resource": "*"},
                 "transcribe:StartCallAnalyticsJob, transcribe:StartCallAnalyticsStreamTranscription and 9 more",
                 id="start-star"),
    pytest.param({"Effect": "Allow", "Action": "TRANSCRIBE:getvocabulary", "Resource": "*"},
                 "transcribe:GetVocabulary by", id="action-case-insensitive"),
    pytest.param({"Effect": "Allow", "Action": "transcribe:Get?ocabulary", "Resource": "*"},
                 "transcribe:GetVocabulary by", id="question-mark"),
    pytest.param({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, "every Transcribe action",
                 id="notaction-iam"),
    pytest.param({"Effect": "Allow", "NotAction": ["s3:*", "transcribe:Delete*"], "Resource": "*"},
                 "transcribe:StartCallAnalyticsJob", id="notaction-partial"),
    pytest.param({"Effect": "Allow", "Action": "transcribe:*", "NotResource": "arn:aws:s3:::*"},
                 "every Transcribe action", id="notresource"),
    pytest.param({"Effect": "Allow", "Action": "transcribe:*",
                  "Resource": "arn:aws:transcribe:eu-west-1:*:vocabulary/acme-*"},
                 "transcribe:CreateVocabulary, transcribe:DeleteVocabulary and 5 more", id="other-region-named"),
    pytest.param({"Effect": "Allow", "Action": "transcribe:StartStreamTranscription", "Resource": "*"},
                 "transcribe:StartStreamTranscription by", id="streaming"),
])
def test_scenario5_wildcards_and_notaction_grant(sim: Any, statement: dict[str, Any], named: str) -> None:
    uid = user(sim, "app", inline={"app": [statement]})
    [result] = evaluate()
    assert (result.complianceResourceId, result.complianceType) == (uid, ComplianceType.NON_COMPLIANT)
    assert named in result.annotation and "inline policy app" in result.annotation


@pytest.mark.parametrize("statement", [
    pytest.param({"Effect": "Allow", "NotAction": "transcribe:*", "Resource": "*"}, id="notaction-transcribe"),
    pytest.param({"Effect": "Allow", "Action": "transcribe:*", "Resource": "arn:aws:s3:::bucket/*"},
                 id="non-transcribe-resource"),
    pytest.param({"Effect": "Allow", "Action": "transcribes:*", "Resource": "*"}, id="other-service"),
    pytest.param({"Effect": "Deny", "Action": "transcribe:*", "Resource": "*"}, id="deny-only"),
])
def test_scenario4_statements_that_grant_no_transcribe_action(sim: Any, statement: dict[str, Any]) -> None:
    uid = user(sim, "app", inline={"app": [statement]})
    assert evaluate() == [Evaluation(ComplianceType.COMPLIANT, uid, USER, NO_GRANT)]


def test_scenario6_group_inline_and_attached_policies_grant(sim: Any) -> None:
    ops = managed(sim, "TranscribeOperators", ALL_TRANSCRIBE)
    group(sim, "operators", attached=(ops,))
    group(sim, "readers", inline={"read-jobs": [
        {"Effect": "Allow", "Action": "transcribe:GetTranscriptionJob", "Resource": "*"}]})
    via_attached = user(sim, "contractor", groups=("operators",))
    via_inline = user(sim, "reader", groups=("readers",))
    assert evaluate() == [
        Evaluation(ComplianceType.NON_COMPLIANT, via_attached, USER,
                   "User has an active access key and is allowed every Transcribe action (52 probed) by managed "
                   "policy TranscribeOperators (group operators); use an IAM role instead."),
        Evaluation(ComplianceType.NON_COMPLIANT, via_inline, USER,
                   "User has an active access key and is allowed transcribe:GetTranscriptionJob by inline policy "
                   "read-jobs (group readers); use an IAM role instead."),
    ]


def test_scenario7_explicit_deny_in_another_policy_overrides_the_allow(sim: Any) -> None:
    ops = managed(sim, "TranscribeOperators", ALL_TRANSCRIBE)
    group(sim, "auditors", inline={"no-transcribe": [{"Effect": "Deny", "Action": "transcribe:*", "Resource": "*"}]})
    denied = user(sim, "auditor", attached=(ops,), groups=("auditors",))
    partly = user(sim, "partly", attached=(ops,), inline={"no-start": [
        {"Effect": "Deny", "NotAction": ["transcribe:Get*", "transcribe:List*"], "Resource": "*"}]})
    result = evaluate()
    assert result[0] == Evaluation(ComplianceType.COMPLIANT, denied, USER, NO_GRANT)
    assert verdicts(result) == {denied: ComplianceType.COMPLIANT, partly: ComplianceType.NON_COMPLIANT}
    assert "transcribe:GetCallAnalyticsCategory, transcribe:GetCallAnalyticsJob and " in result[1].annotation
    assert "Start" not in result[1].annotation


def test_scenario7_deny_on_other_resources_leaves_the_grant(sim: Any) -> None:
    uid = user(sim, "app", inline={"app": [
        ALL_TRANSCRIBE, {"Effect": "Deny", "Action": "transcribe:*",
                         "Resource": "arn:aws:transcribe:*:*:medical-*"}]})
    [result] = evaluate()
    assert result.complianceType == ComplianceType.NON_COMPLIANT and result.complianceResourceId == uid


def test_scenario7_a_deny_the_caller_can_step_around_does_not_protect(sim: Any) -> None:
    mfa = user(sim, "mfa-user", inline={"app": [ALL_TRANSCRIBE], "require-mfa": [
        {"Effect": "Deny", "NotAction": "iam:*", "Resource": "*",
         "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]})
    untagged = user(sim, "abac-user", inline={"app": [ALL_TRANSCRIBE], "deny-untagged": [
        {"Effect": "Deny", "Action": "transcribe:*", "Resource": "*",
         "Condition": {"Null": {"aws:ResourceTag/Team": "true"}}}]})
    assert verdicts(evaluate()) == {mfa: ComplianceType.NON_COMPLIANT, untagged: ComplianceType.NON_COMPLIANT}


@pytest.mark.parametrize("condition", [
    pytest.param({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, id="source-ip"),
    pytest.param({"StringEquals": {"aws:ResourceTag/Team": "${aws:PrincipalTag/Team}"}}, id="abac"),
    pytest.param({"Bool": {"aws:MultiFactorAuthPresent": "true"}}, id="mfa"),
    pytest.param({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}, id="until"),
])
def test_scenario8_an_allow_with_conditions_is_a_grant(sim: Any, condition: dict[str, Any]) -> None:
    uid = user(sim, "app", inline={"app": [{**ALL_TRANSCRIBE, "Condition": condition}]})
    assert verdicts(evaluate()) == {uid: ComplianceType.NON_COMPLIANT}


def test_scenario9_access_denied_on_one_user_only(sim: Any, monkeypatch: Any) -> None:
    ok = user(sim, "ok", inline={"s3": [S3_READ]})
    denied = user(sim, "denied", inline={"s3": [S3_READ]})
    deny_iam_reads(monkeypatch, "list_access_keys", UserName="denied")
    assert evaluate() == [
        Evaluation(ComplianceType.COMPLIANT, ok, USER, NO_GRANT),
        Evaluation(ComplianceType.NON_COMPLIANT, denied, USER,
                   "Could not evaluate: AccessDenied when reading the user's access keys."),
    ]


def test_scenario9_an_unreadable_managed_policy_fails_each_user_using_it_and_is_asked_once(
        sim: Any, monkeypatch: Any) -> None:
    ops = managed(sim, "TranscribeOperators", ALL_TRANSCRIBE)
    first, second = user(sim, "a", attached=(ops,)), user(sim, "b", attached=(ops,))
    fine = user(sim, "c", inline={"s3": [S3_READ]})
    calls: list[str] = []
    original = rules.inventory.iam.IamInventory._call

    def denied_version(self: Any, operation: str, **kwargs: Any) -> Any:
        if operation == "get_policy_version":
            calls.append(kwargs["PolicyArn"])
            raise iam_denied("GetPolicyVersion")
        return original(self, operation, **kwargs)

    monkeypatch.setattr(rules.inventory.iam.IamInventory, "_call", denied_version)
    text = "Could not evaluate: AccessDenied when reading the user's policies."
    assert evaluate() == [Evaluation(ComplianceType.NON_COMPLIANT, first, USER, text),
                          Evaluation(ComplianceType.NON_COMPLIANT, second, USER, text),
                          Evaluation(ComplianceType.COMPLIANT, fine, USER, NO_GRANT)]
    assert calls == [ops]


def test_scenario9_a_malformed_document_fails_closed(sim: Any, monkeypatch: Any) -> None:
    uid = user(sim, "odd", inline={"app": [ALL_TRANSCRIBE]})
    alter_iam_responses(monkeypatch, "get_user_policy", lambda response: response.update(
        PolicyDocument={"Version": "2012-10-17", "Statement": "not a statement"}))
    assert evaluate() == [Evaluation(ComplianceType.NON_COMPLIANT, uid, USER,
                                     "Could not evaluate: MalformedPolicyDocument when reading the user's policies.")]


def test_scenario10_listing_failure_reports_the_account_and_keeps_earlier_results(sim: Any, monkeypatch: Any) -> None:
    user(sim, "app", inline={"app": [ALL_TRANSCRIBE]})
    deny_iam_reads(monkeypatch, "list_users")
    rule = TranscribeIamUserNoAccess()
    result = evaluate_periodic(rule)
    assert result == [Evaluation(ComplianceType.NON_COMPLIANT, ACCOUNT, "AWS::::Account",
                                 "Could not evaluate: AccessDenied when listing IAM users; earlier results are kept "
                                 "until a run can list them.")]
    assert rule.delete_old_evaluations_on_scheduled_notification is False


def test_each_policy_document_is_read_once_per_run(sim: Any) -> None:
    ops = managed(sim, "TranscribeOperators", ALL_TRANSCRIBE)
    group(sim, "operators", inline={"list": [{"Effect": "Allow", "Action": "transcribe:List*", "Resource": "*"}]},
          attached=(ops,))
    ids = [user(sim, f"operator-{index}", attached=(ops,), groups=("operators",)) for index in range(5)]
    with recording() as recorder:
        result = evaluate()
    assert verdicts(result) == {uid: ComplianceType.NON_COMPLIANT for uid in ids}
    assert recorder.calls["iam:GetPolicy"] == 1 and recorder.calls["iam:GetPolicyVersion"] == 1
    assert recorder.calls["iam:GetGroupPolicy"] == 1 and recorder.calls["iam:ListAttachedGroupPolicies"] == 1
    assert recorder.calls["iam:ListAccessKeys"] == 5


@pytest.fixture
def paged_list_users(monkeypatch: Any) -> None:
    """moto returns every user in one ListUsers page; real IAM stops at MaxItems (default 100)
    and returns a Marker. Make the simulator page like IAM so the test proves the rule follows it."""

    def list_users(self: Any) -> ActionResult:
        start = int(self._get_param("Marker") or 0)
        size = int(self._get_param("MaxItems") or 100)
        users = list(self.backend.list_users(None, None, None))
        result: dict[str, Any] = {"Users": users[start:start + size], "IsTruncated": start + size < len(users)}
        if start + size < len(users):
            result["Marker"] = str(start + size)
        return ActionResult(result)

    monkeypatch.setattr(IamResponse, "list_users", list_users)


def test_pagination_past_100_users(sim: Any, paged_list_users: None) -> None:
    ops = managed(sim, "TranscribeOperators", ALL_TRANSCRIBE)
    group(sim, "operators", attached=(ops,))
    expected = {}
    for index in range(105):
        key = "Active" if index % 3 else None
        uid = user(sim, f"user-{index:03d}", key=key, groups=("operators",) if index % 2 else ())
        expected[uid] = (ComplianceType.NOT_APPLICABLE if key is None else
                         ComplianceType.NON_COMPLIANT if index % 2 else ComplianceType.COMPLIANT)
    with recording() as recorder:
        result = evaluate()
    assert recorder.calls["iam:ListUsers"] == 2
    assert verdicts(result) == expected and len(result) == 105


@pytest.mark.parametrize("parameters, message", [
    ({"ExemptUserNames": "ok-user, not a user!"}, "Parameter ExemptUserNames has an invalid value"),
    ({"ExemptUserNames": "x" * 65}, "Parameter ExemptUserNames has an invalid value"),
    ({"ExemptUserNames": 7}, "Parameter ExemptUserNames must be a string"),
    ({"ExemptUserNames": "a," * 600}, "Parameter ExemptUserNames is 1200 characters long"),
    ({"ExemptUsers": "x"}, "Unknown parameter ExemptUsers"),
])
def test_scenario11_bad_parameters_name_the_parameter(parameters: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParametersError, match=message):
        TranscribeIamUserNoAccess().evaluate_parameters(parameters)


def test_exempt_user_names_parameter_parsing() -> None:
    parsed = TranscribeIamUserNoAccess().evaluate_parameters({"ExemptUserNames": " a@b.com , svc+x=1,, a@b.com "})
    assert parsed == {"ExemptUserNames": ["a@b.com", "svc+x=1"]}
    assert TranscribeIamUserNoAccess().evaluate_parameters({}) == {"ExemptUserNames": []}


def test_lambda_handler_rejects_bad_parameters_with_invalid_parameter_value(sim: Any) -> None:
    deploy_rule(sim, RULE)
    response = rejected_parameters(lambda_handler, periodic_event(RULE, {"ExemptUserNames": "bad name!"}))
    assert response["customerErrorCode"] == "InvalidParameterValueException"
    assert "ExemptUserNames" in response["customerErrorMessage"]


def test_lambda_handler_reports_users_by_user_id(sim: Any) -> None:
    deploy_rule(sim, RULE)
    ops = managed(sim, "TranscribeOperators", ALL_TRANSCRIBE)
    bad = user(sim, "legacy", attached=(ops,))
    good = user(sim, "exporter", inline={"s3": [S3_READ]})
    idle = user(sim, "idle", key="Inactive", attached=(ops,))
    lambda_handler(periodic_event(RULE), None)
    assert stored_verdicts(sim, RULE) == {bad: ComplianceType.NON_COMPLIANT, good: ComplianceType.COMPLIANT,
                                          idle: ComplianceType.NOT_APPLICABLE}
    results = sim.client("config").get_compliance_details_by_config_rule(ConfigRuleName=RULE)["EvaluationResults"]
    assert {r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceType"] for r in results} == {USER}

    sim.client("iam").detach_user_policy(UserName="legacy", PolicyArn=ops)
    lambda_handler(periodic_event(RULE), None)
    assert stored_verdicts(sim, RULE)[bad] == ComplianceType.COMPLIANT
