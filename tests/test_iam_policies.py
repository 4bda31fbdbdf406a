"""Every generated IAM policy passes a real policy linter (parliament, offline) and the default
role is read-only: only rdklib's config:PutEvaluations writes."""

from __future__ import annotations

import json
from typing import Any

import parliament
import pytest

from rules.catalog.registry import RULES
from transcribe_guard.templates import evaluation_actions, functions_template, member_role_template

# RESOURCE_STAR is expected: a compliance rule reads every resource of its kind in the account,
# so its read actions are granted on "*" (the resources are not known when the role is created).
ACCEPTED_FINDINGS = {"RESOURCE_STAR"}


def _concrete(node: Any) -> Any:
    """Replace CloudFormation intrinsics with example values so the linter sees a real document."""
    if isinstance(node, dict):
        if set(node) == {"Fn::Sub"}:
            return (node["Fn::Sub"].replace("${AWS::Partition}", "aws").replace("${AWS::Region}", "us-east-1")
                    .replace("${AWS::AccountId}", "123456789012").replace("${FunctionsAccountId}", "123456789012")
                    .replace("${MemberExecutionRoleName}", "transcribe-guard-member"))
        if set(node) == {"Ref"}:
            return {"AWS::AccountId": "123456789012", "OrganizationId": "o-exampleorgid"}.get(node["Ref"], "x")
        return {k: _concrete(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_concrete(v) for v in node]
    return node


def generated_policies() -> dict[str, dict[str, Any]]:
    policies: dict[str, dict[str, Any]] = {}
    for template_name, template in (("functions", functions_template()), ("member-role", member_role_template())):
        for logical_id, resource in template["Resources"].items():
            properties = resource["Properties"]
            if resource["Type"] == "AWS::IAM::Role":
                for policy in properties.get("Policies", []):
                    policies[f"{template_name}/{logical_id}/{policy['PolicyName']}"] = _concrete(policy["PolicyDocument"])
            elif resource["Type"] == "AWS::IAM::Policy":
                policies[f"{template_name}/{logical_id}"] = _concrete(properties["PolicyDocument"])
    return policies


def access_level(action: str) -> str:
    prefix, name = action.split(":", 1)
    for service in parliament.iam_definition:
        if service["prefix"] == prefix:
            for privilege in service["privileges"]:
                if privilege["privilege"] == name:
                    return str(privilege["access_level"])
    raise AssertionError(f"{action} is not an IAM action parliament knows")


@pytest.mark.parametrize("name", sorted(generated_policies()))
def test_generated_policy_passes_parliament(name: str) -> None:
    document = generated_policies()[name]
    findings = parliament.analyze_policy_string(json.dumps(document)).findings
    unexpected = [(f.issue, f.detail) for f in findings if f.issue not in ACCEPTED_FINDINGS]
    assert unexpected == []


def test_every_declared_action_exists_and_only_put_evaluations_writes() -> None:
    levels = {action: access_level(action) for action in evaluation_actions()}
    writes = {action for action, level in levels.items() if level not in ("Read", "List")}
    assert writes == {"config:PutEvaluations"}


def test_default_role_has_no_data_access_or_wildcards() -> None:
    actions = evaluation_actions()
    forbidden = [a for a in actions if "*" in a or a in ("s3:GetObject", "kms:Decrypt") or a.startswith("iam:Pass")]
    assert forbidden == []
    declared = {a for cls in RULES.values() for a in cls.METADATA["iam_actions"]}
    assert set(actions) == declared | {"config:PutEvaluations", "config:GetComplianceDetailsByConfigRule",
                                       "cloudtrail:LookupEvents", "servicequotas:ListServiceQuotas"}


def test_the_linter_catches_a_bad_action() -> None:
    broken = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["transcribe:GetTranscriptJob"], "Resource": "*"}]}
    issues = {f.issue for f in parliament.analyze_policy_string(json.dumps(broken)).findings}
    assert "UNKNOWN_ACTION" in issues
