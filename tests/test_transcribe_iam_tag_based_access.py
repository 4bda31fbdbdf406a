"""transcribe-iam-tag-based-access: scenarios against the simulator (policies and roles seeded with
plain boto3 IAM calls), parameters, API errors, pagination, and the Lambda handler with a real
ScheduledNotification event."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from rdklib import ComplianceType, Evaluation, InvalidParametersError

from rules.transcribe_iam_tag_based_access import TranscribeIamTagBasedAccess, lambda_handler
from tests.helpers import rejected_parameters
from tests.helpers import (ACCOUNT, LAMBDA_TRUST, deploy_rule, evaluate_periodic, periodic_event, stored_verdicts,
                           verdicts)
from tests.iam_helpers import alter_iam_responses, create_policy, create_role, deny_iam_reads, policy_document
from transcribe_guard.iam_actions import recording

RULE = "transcribe-iam-tag-based-access"
POLICY, ROLE = "AWS::IAM::Policy", "AWS::IAM::Role"
ALL_TRANSCRIBE = {"Effect": "Allow", "Action": "transcribe:*", "Resource": "*"}
TEAM = {"StringEquals": {"aws:ResourceTag/Team": "${aws:PrincipalTag/Team}"}}
ONLY_TAGGED = "Policy allows Transcribe actions on resources only under tag conditions."
UNTAGGED = "without a tag condition (aws:ResourceTag, aws:RequestTag or aws:TagKeys)"


def evaluate(parameters: dict[str, Any] | None = None) -> list[Evaluation]:
    return evaluate_periodic(TranscribeIamTagBasedAccess(), parameters)


def by_id(evaluations: list[Evaluation]) -> dict[str, Evaluation]:
    """Evaluations by resource id (IAM lists policies by name and roles by id, not creation order)."""
    return {e.complianceResourceId: e for e in evaluations}


def managed(sim: Any, name: str, *statements: dict[str, Any]) -> str:
    """Create a customer managed policy; its PolicyId."""
    return str(create_policy(sim, name, policy_document(*statements))["PolicyId"])


def role(sim: Any, name: str, **inline: list[dict[str, Any]]) -> str:
    """Create a role with the given inline policies (name=statements); its RoleId."""
    documents = {policy: policy_document(*statements) for policy, statements in inline.items()}
    return str(create_role(sim, name, inline=documents)["RoleId"])


def test_scenario1_no_policies_and_no_roles_with_inline_policies(sim: Any) -> None:
    assert evaluate() == []
    sim.client("iam").create_role(RoleName="bare", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    assert evaluate() == []


def test_scenario2_policies_and_roles_granting_no_transcribe_action_are_not_reported(sim: Any) -> None:
    managed(sim, "S3Reader", {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    managed(sim, "NoTranscribe", {"Effect": "Allow", "NotAction": "transcribe:*", "Resource": "*"})
    managed(sim, "DenyOnly", {"Effect": "Deny", "Action": "transcribe:*", "Resource": "*"})
    role(sim, "worker", access=[{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}])
    assert evaluate() == []


def test_scenario2_aws_managed_policies_are_not_listed(sim: Any) -> None:
    scopes: list[Any] = []
    events = boto3._get_default_session().events
    handler_id = "record-list-policies-scope"
    events.register("before-parameter-build.iam.ListPolicies", lambda params, **_: scopes.append(params.get("Scope")),
                    unique_id=handler_id)
    try:
        evaluate()
    finally:
        events.unregister("before-parameter-build.iam.ListPolicies", unique_id=handler_id)
    assert scopes == ["Local"]


def test_scenario3_only_list_and_streaming_actions_is_compliant(sim: Any) -> None:
    pid = managed(sim, "TranscribeConsole", {"Effect": "Allow", "Action": ["transcribe:List*",
                                                                         "transcribe:StartStreamTranscription*"],
                                             "Resource": "*"})
    assert evaluate() == [Evaluation(ComplianceType.COMPLIANT, pid, POLICY,
                                     "Policy allows only Transcribe List or streaming actions, which act on no "
                                     "taggable resource.")]


def test_scenario4_no_condition_is_non_compliant(sim: Any) -> None:
    pid = managed(sim, "Operators", ALL_TRANSCRIBE)
    jobs = managed(sim, "Jobs", {"Effect": "Allow", "Action": ["transcribe:GetTranscriptionJob",
                                                              "transcribe:DeleteTranscriptionJob"], "Resource": "*"})
    assert evaluate() == [
        Evaluation(ComplianceType.NON_COMPLIANT, jobs, POLICY,
                   f"Policy allows transcribe:DeleteTranscriptionJob, transcribe:GetTranscriptionJob {UNTAGGED}."),
        Evaluation(ComplianceType.NON_COMPLIANT, pid, POLICY,
                   f"Policy allows transcribe:StartCallAnalyticsJob, transcribe:StartMedicalScribeJob and 32 more "
                   f"{UNTAGGED}."),
    ]


@pytest.mark.parametrize("statement", [
    pytest.param({**ALL_TRANSCRIBE, "Action": "*"}, id="star"),
    pytest.param({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, id="notaction"),
    pytest.param({**ALL_TRANSCRIBE, "Action": "transcribe:Get*"}, id="get-star"),
    pytest.param({**ALL_TRANSCRIBE, "Resource": "arn:aws:transcribe:*:*:vocabulary/*"}, id="resource-scoped-only"),
    pytest.param({**ALL_TRANSCRIBE, "Condition": {"StringEqualsIfExists": {"aws:ResourceTag/Team": "a"}}},
                 id="if-exists"),
    pytest.param({**ALL_TRANSCRIBE, "Condition": {"StringNotEquals": {"aws:ResourceTag/Team": "other"}}},
                 id="negated-tag"),
    pytest.param({**ALL_TRANSCRIBE, "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["Team"]}}},
                 id="for-all-values-tag-keys"),
    pytest.param({**ALL_TRANSCRIBE, "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}},
                 id="non-tag-condition"),
    pytest.param({**ALL_TRANSCRIBE, "Condition": {"Null": {"aws:ResourceTag/Team": "true"}}},
                 id="null-true-allows-untagged"),
])
def test_scenario4_conditions_that_hold_without_tags_restrict_nothing(sim: Any, statement: dict[str, Any]) -> None:
    pid = managed(sim, "P", statement)
    [result] = evaluate()
    assert (result.complianceResourceId, result.complianceType) == (pid, ComplianceType.NON_COMPLIANT)
    assert UNTAGGED in result.annotation


def test_scenario4_one_unrestricted_statement_among_restricted_ones(sim: Any) -> None:
    pid = managed(sim, "Mixed", {**ALL_TRANSCRIBE, "Condition": TEAM},
                  {"Effect": "Allow", "Action": "transcribe:DeleteVocabulary", "Resource": "*"})
    assert evaluate() == [Evaluation(ComplianceType.NON_COMPLIANT, pid, POLICY,
                                     f"Policy allows transcribe:DeleteVocabulary {UNTAGGED}.")]


@pytest.mark.parametrize("statements", [
    pytest.param([{**ALL_TRANSCRIBE, "Condition": TEAM}], id="resource-tag-abac"),
    pytest.param([{**ALL_TRANSCRIBE, "Condition": {"StringLike": {"aws:RequestTag/Team": "cc-*"}}}],
                 id="request-tag-like"),
    pytest.param([{**ALL_TRANSCRIBE, "Condition": {"Null": {"aws:ResourceTag/Team": "false"}}}], id="null-false"),
    pytest.param([{**ALL_TRANSCRIBE, "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["Team"]}}}],
                 id="for-any-value-tag-keys"),
    pytest.param([{**ALL_TRANSCRIBE, "Condition": {"StringEquals": {"aws:resourcetag/team": "a"}}}],
                 id="key-name-case-insensitive"),
    pytest.param([ALL_TRANSCRIBE, {"Effect": "Deny", "Action": "transcribe:*", "Resource": "*",
                                   "Condition": {"Null": {"aws:ResourceTag/Team": "true"}}}], id="deny-untagged"),
    pytest.param([{**ALL_TRANSCRIBE, "Condition": {**TEAM, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
                  {"Effect": "Allow", "Action": "transcribe:List*", "Resource": "*"}], id="tag-and-ip-plus-list"),
])
def test_scenario5_grants_only_under_tag_conditions_are_compliant(sim: Any, statements: list[dict[str, Any]]) -> None:
    pid = managed(sim, "Abac", *statements)
    assert evaluate() == [Evaluation(ComplianceType.COMPLIANT, pid, POLICY, ONLY_TAGGED)]


def test_scenario5_a_deny_stepped_around_by_mfa_is_no_tag_restriction(sim: Any) -> None:
    pid = managed(sim, "MfaOnly", ALL_TRANSCRIBE, {
        "Effect": "Deny", "Action": "*", "Resource": "*",
        "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}})
    assert verdicts(evaluate()) == {pid: ComplianceType.NON_COMPLIANT}


def test_scenario6_and_7_required_tag_keys(sim: Any) -> None:
    team = managed(sim, "TeamOnly", {**ALL_TRANSCRIBE, "Condition": TEAM})
    both = managed(sim, "TeamAndCostCenter", {**ALL_TRANSCRIBE, "Condition": {"StringEquals": {
        "aws:ResourceTag/Team": "a", "aws:ResourceTag/CostCenter": "cc"}}})
    either = managed(sim, "TeamOrCostCenter", {**ALL_TRANSCRIBE, "Condition": TEAM},
                     {**ALL_TRANSCRIBE, "Action": "transcribe:Get*",
                      "Condition": {"StringEquals": {"aws:ResourceTag/CostCenter": "cc"}}})
    assert verdicts(evaluate({"RequiredTagKeys": "Team"})) == {
        team: ComplianceType.COMPLIANT, both: ComplianceType.COMPLIANT, either: ComplianceType.NON_COMPLIANT}
    result = evaluate({"RequiredTagKeys": "team, CostCenter"})  # tag keys compare case-insensitively
    assert by_id(result) == by_id([
        Evaluation(ComplianceType.NON_COMPLIANT, team, POLICY,
                   "Policy allows transcribe:StartCallAnalyticsJob, transcribe:StartMedicalScribeJob and 32 more "
                   "without a condition on required tag key CostCenter."),
        Evaluation(ComplianceType.COMPLIANT, both, POLICY,
                   "Policy allows Transcribe actions on resources only under tag conditions on tag keys team, "
                   "CostCenter."),
        Evaluation(ComplianceType.NON_COMPLIANT, either, POLICY,
                   "Policy allows transcribe:GetCallAnalyticsCategory, transcribe:GetCallAnalyticsJob and 6 more "
                   "without a condition on required tag keys team, CostCenter."),
    ])


def test_scenario6_request_tag_and_tag_keys_count_for_a_required_key(sim: Any) -> None:
    pid = managed(sim, "Create", {"Effect": "Allow", "Action": ["transcribe:CreateVocabulary",
                                                               "transcribe:StartTranscriptionJob"], "Resource": "*",
                                  "Condition": {"StringEquals": {"aws:RequestTag/CostCenter": "cc"},
                                                "ForAnyValue:StringEquals": {"aws:TagKeys": ["CostCenter"]}}})
    assert verdicts(evaluate({"RequiredTagKeys": "CostCenter"})) == {pid: ComplianceType.COMPLIANT}
    assert verdicts(evaluate({"RequiredTagKeys": "Team"})) == {pid: ComplianceType.NON_COMPLIANT}


def test_scenario8_role_inline_policies_are_judged_together_and_reported_by_role_id(sim: Any) -> None:
    guarded = role(sim, "abac-app", allow=[ALL_TRANSCRIBE], guard=[
        {"Effect": "Deny", "Action": "transcribe:*", "Resource": "*",
         "Condition": {"Null": {"aws:ResourceTag/Team": "true"}}}])
    open_role = role(sim, "analytics", scoped=[{**ALL_TRANSCRIBE, "Condition": TEAM}], jobs=[
        {"Effect": "Allow", "Action": ["transcribe:StartCallAnalyticsJob", "transcribe:GetCallAnalyticsJob"],
         "Resource": "*"}])
    role(sim, "unrelated", access=[{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}])
    assert by_id(evaluate()) == by_id([
        Evaluation(ComplianceType.COMPLIANT, guarded, ROLE,
                   "Role allows Transcribe actions on resources only under tag conditions."),
        Evaluation(ComplianceType.NON_COMPLIANT, open_role, ROLE,
                   f"Role allows transcribe:StartCallAnalyticsJob, transcribe:GetCallAnalyticsJob {UNTAGGED} in inline "
                   "policy jobs."),
    ])


def test_scenario8_managed_policies_attached_or_not_by_their_default_version(sim: Any) -> None:
    iam = sim.client("iam")
    pid = managed(sim, "Versioned", {**ALL_TRANSCRIBE, "Condition": TEAM})
    arn = f"arn:aws:iam::{ACCOUNT}:policy/Versioned"
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(policy_document(ALL_TRANSCRIBE)),
                              SetAsDefault=False)
    assert evaluate() == [Evaluation(ComplianceType.COMPLIANT, pid, POLICY, ONLY_TAGGED)]  # v1, unattached
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v2")
    iam.create_role(RoleName="holder", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    iam.attach_role_policy(RoleName="holder", PolicyArn=arn)
    assert verdicts(evaluate()) == {pid: ComplianceType.NON_COMPLIANT}


def test_scenario9_access_denied_on_one_policy_and_one_role_only(sim: Any, monkeypatch: Any) -> None:
    ok = managed(sim, "Ok", {**ALL_TRANSCRIBE, "Condition": TEAM})
    denied = managed(sim, "Secret", ALL_TRANSCRIBE)
    ok_role = role(sim, "ok-role", scoped=[{**ALL_TRANSCRIBE, "Condition": TEAM}])
    denied_role = role(sim, "denied-role", scoped=[{**ALL_TRANSCRIBE, "Condition": TEAM}])
    deny_iam_reads(monkeypatch, "get_policy_version", PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/Secret")
    deny_iam_reads(monkeypatch, "list_role_policies", RoleName="denied-role")
    assert by_id(evaluate()) == by_id([
        Evaluation(ComplianceType.COMPLIANT, ok, POLICY, ONLY_TAGGED),
        Evaluation(ComplianceType.NON_COMPLIANT, denied, POLICY,
                   "Could not evaluate: AccessDenied when reading the policy's default version."),
        Evaluation(ComplianceType.COMPLIANT, ok_role, ROLE,
                   "Role allows Transcribe actions on resources only under tag conditions."),
        Evaluation(ComplianceType.NON_COMPLIANT, denied_role, ROLE,
                   "Could not evaluate: AccessDenied when reading the role's inline policies."),
    ])


def test_scenario9_a_malformed_document_fails_closed(sim: Any, monkeypatch: Any) -> None:
    pid = managed(sim, "Odd", ALL_TRANSCRIBE)
    alter_iam_responses(monkeypatch, "get_policy_version", lambda response: response["PolicyVersion"].update(
        Document={"Statement": [{**ALL_TRANSCRIBE, "Condition": "nope"}]}))
    assert evaluate() == [Evaluation(ComplianceType.NON_COMPLIANT, pid, POLICY,
                                     "Could not evaluate: MalformedPolicyDocument when reading the policy's default "
                                     "version.")]


@pytest.mark.parametrize("operation, label", [("list_policies", "customer managed policy ARNs"),
                                              ("list_roles", "IAM roles")])
def test_scenario10_listing_failure_reports_the_account_and_keeps_earlier_results(
        sim: Any, monkeypatch: Any, operation: str, label: str) -> None:
    managed(sim, "Operators", ALL_TRANSCRIBE)
    deny_iam_reads(monkeypatch, operation)
    rule = TranscribeIamTagBasedAccess()
    result = evaluate_periodic(rule)
    assert result[-1] == Evaluation(ComplianceType.NON_COMPLIANT, ACCOUNT, "AWS::::Account",
                                    f"Could not evaluate: AccessDenied when listing {label}; earlier results are kept "
                                    "until a run can list them.")
    assert rule.delete_old_evaluations_on_scheduled_notification is False


def test_pagination_past_100_policies_and_roles(sim: Any) -> None:
    expected = {}
    for index in range(105):
        statement = {**ALL_TRANSCRIBE, "Condition": TEAM} if index % 2 else ALL_TRANSCRIBE
        expected[managed(sim, f"policy-{index:03d}", statement)] = (
            ComplianceType.COMPLIANT if index % 2 else ComplianceType.NON_COMPLIANT)
        expected[role(sim, f"role-{index:03d}", access=[statement])] = expected[list(expected)[-1]]
    with recording() as recorder:
        result = evaluate()
    assert recorder.calls["iam:ListPolicies"] == 2 and recorder.calls["iam:ListRoles"] == 2
    assert len(result) == 210 and verdicts(result) == expected


@pytest.mark.parametrize("parameters, message", [
    ({"RequiredTagKeys": "Team, aws:createdBy"}, "Parameter RequiredTagKeys has an invalid value"),
    ({"RequiredTagKeys": "Team|CostCenter"}, "Parameter RequiredTagKeys has an invalid value"),
    ({"RequiredTagKeys": "k" * 129}, "Parameter RequiredTagKeys has an invalid value"),
    ({"RequiredTagKeys": ["Team"]}, "Parameter RequiredTagKeys must be a string"),
    ({"RequiredTags": "Team"}, "Unknown parameter RequiredTags"),
    ({"ExemptRoleNames": "ok, not a role!"}, "Parameter ExemptRoleNames has an invalid value"),
    ({"ExemptRoleNames": "r" * 65}, "Parameter ExemptRoleNames has an invalid value"),
])
def test_scenario11_bad_parameters_name_the_parameter(parameters: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParametersError, match=message):
        TranscribeIamTagBasedAccess().evaluate_parameters(parameters)


def test_parameter_parsing_and_defaults() -> None:
    rule = TranscribeIamTagBasedAccess()
    parsed = rule.evaluate_parameters({"RequiredTagKeys": " Team , cost:center/a=b,Team", "ExemptRoleNames": "a,b"})
    assert parsed == {"RequiredTagKeys": ["Team", "cost:center/a=b"], "ExemptRoleNames": ["a", "b"]}
    assert rule.evaluate_parameters({}) == {"RequiredTagKeys": [],
                                            "ExemptRoleNames": ["transcribe-guard-functions", "transcribe-guard-member",
                                                                "transcribe-guard-ledger-collector"]}


def test_scenario12_exempt_roles_are_not_applicable_and_not_read(sim: Any) -> None:
    own = role(sim, "transcribe-guard-functions", evaluate=[{**ALL_TRANSCRIBE, "Action": "transcribe:Get*"}])
    app = role(sim, "app", jobs=[ALL_TRANSCRIBE])
    with recording() as recorder:
        result = evaluate()
    assert by_id(result) == by_id([
        Evaluation(ComplianceType.NOT_APPLICABLE, own, ROLE, "Role is exempt by the ExemptRoleNames parameter."),
        Evaluation(ComplianceType.NON_COMPLIANT, app, ROLE,
                   f"Role allows transcribe:StartCallAnalyticsJob, transcribe:StartMedicalScribeJob and 32 more "
                   f"{UNTAGGED} in inline policy jobs.")])
    assert recorder.calls["iam:ListRolePolicies"] == 1
    assert verdicts(evaluate({"ExemptRoleNames": "app"})) == {own: ComplianceType.NON_COMPLIANT,
                                                               app: ComplianceType.NOT_APPLICABLE}


def test_lambda_handler_rejects_bad_parameters_with_invalid_parameter_value(sim: Any) -> None:
    deploy_rule(sim, RULE)
    response = rejected_parameters(lambda_handler, periodic_event(RULE, {"RequiredTagKeys": "aws:reserved"}))
    assert response["customerErrorCode"] == "InvalidParameterValueException"
    assert "RequiredTagKeys" in response["customerErrorMessage"]


def test_lambda_handler_reports_policies_and_roles_by_id(sim: Any) -> None:
    deploy_rule(sim, RULE)
    tagged = managed(sim, "Abac", {**ALL_TRANSCRIBE, "Condition": TEAM})
    untagged = managed(sim, "Operators", ALL_TRANSCRIBE)
    app = role(sim, "app", jobs=[ALL_TRANSCRIBE])
    lambda_handler(periodic_event(RULE, {"RequiredTagKeys": "Team"}), None)
    assert stored_verdicts(sim, RULE) == {tagged: ComplianceType.COMPLIANT, untagged: ComplianceType.NON_COMPLIANT,
                                          app: ComplianceType.NON_COMPLIANT}
    results = sim.client("config").get_compliance_details_by_config_rule(ConfigRuleName=RULE)["EvaluationResults"]
    types = {r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"]:
             r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceType"] for r in results}
    assert types == {tagged: POLICY, untagged: POLICY, app: ROLE}

    sim.client("iam").delete_role_policy(RoleName="app", PolicyName="jobs")
    lambda_handler(periodic_event(RULE, {"RequiredTagKeys": "Team"}), None)
    assert stored_verdicts(sim, RULE)[app] == ComplianceType.NOT_APPLICABLE  # no longer reported
