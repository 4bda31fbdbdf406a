"""rules/policy/iam_probe.py on plain policy documents: the action list, probe resources and contexts,
Deny evasion and the tag filter that the two IAM rules build on."""

from __future__ import annotations

from typing import Any

import pytest

from rules.inventory.iam import NamedDocument
from rules.policy.evaluation import satisfying_context
from rules.policy.iam_probe import (Scope, _resources, allowed, describe_actions, evading_context, takes_no_resource,
                                    transcribe_actions, without_tags)
from rules.policy.evaluation import conditions_match

SCOPE = Scope("aws", "us-east-1", "123456789012")
ALL = {"Effect": "Allow", "Action": "transcribe:*", "Resource": "*"}


def policies(*statements: dict[str, Any]) -> list[NamedDocument]:
    return [NamedDocument("p", {"Version": "2012-10-17", "Statement": list(statements)})]


def test_action_list_is_botocore_operations_plus_streaming() -> None:
    actions = transcribe_actions()
    assert "transcribe:StartTranscriptionJob" in actions and "transcribe:ListTagsForResource" in actions
    for streaming in ("StartStreamTranscription", "StartMedicalStreamTranscription",
                      "StartCallAnalyticsStreamTranscription", "StartMedicalScribeStream"):
        assert f"transcribe:{streaming}" in actions
    assert len(actions) == len(set(actions))
    assert takes_no_resource("transcribe:ListVocabularies") and takes_no_resource("transcribe:StartStreamTranscription")
    assert not takes_no_resource("transcribe:GetVocabulary") and not takes_no_resource("transcribe:TagResource")


def test_probe_resources_follow_the_action_and_the_statement() -> None:
    statement = {**ALL, "Resource": ["arn:aws:transcribe:eu-*:*:vocabulary/acme-*", "arn:aws:s3:::b/*"]}
    assert _resources(statement, "transcribe:GetVocabulary", SCOPE) == [
        "arn:aws:transcribe:us-east-1:123456789012:vocabulary/transcribe-guard-probe",
        "arn:aws:transcribe:eu-x:123456789012:vocabulary/acme-x"]
    assert _resources(statement, "transcribe:StartTranscriptionJob", SCOPE) == [
        "*", "arn:aws:transcribe:us-east-1:123456789012:transcription-job/transcribe-guard-probe"]
    assert _resources(ALL, "transcribe:ListVocabularies", SCOPE) == ["*"]
    assert len(_resources(ALL, "transcribe:TagResource", SCOPE)) == 10  # * and one ARN per resource type


def test_actions_that_require_a_resource_are_not_probed_on_star() -> None:
    # Allow on *, Deny on every Transcribe ARN: only actions that may name no resource remain.
    granted = allowed(policies(ALL, {"Effect": "Deny", "Action": "transcribe:*",
                                     "Resource": "arn:aws:transcribe:*:*:*"}), SCOPE)
    assert "transcribe:GetTranscriptionJob" not in granted and "transcribe:DeleteVocabulary" not in granted
    assert "transcribe:ListTranscriptionJobs" in granted


@pytest.mark.parametrize("condition, evading", [
    ({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}, {"aws:MultiFactorAuthPresent": "true"}),
    ({"Null": {"aws:ResourceTag/Team": "true"}}, {"aws:ResourceTag/Team": "x"}),
    ({"StringNotEquals": {"aws:ResourceTag/Team": "blue"}}, {"aws:ResourceTag/Team": "blue"}),
    ({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "10.0.0.0"}),
    ({"StringEquals": {"aws:PrincipalTag/Role": "intern"}}, {}),  # fails already when the key is missing
])
def test_evading_context_makes_the_condition_fail(condition: dict[str, Any], evading: dict[str, Any]) -> None:
    assert evading_context({"Effect": "Deny", "Condition": condition}) == evading
    if evading:
        assert not conditions_match(condition, evading)


def test_without_tags_drops_all_or_named_tag_values() -> None:
    context = {"aws:ResourceTag/Team": "a", "aws:RequestTag/CostCenter": "c", "aws:TagKeys": ["Team", "CostCenter"],
               "aws:SourceIp": "10.0.0.1"}
    assert without_tags()(context) == {"aws:SourceIp": "10.0.0.1"}
    assert without_tags(["team"])(context) == {"aws:RequestTag/CostCenter": "c", "aws:TagKeys": ["CostCenter"],
                                               "aws:SourceIp": "10.0.0.1"}


def test_describe_actions_puts_start_actions_first_and_counts_the_rest() -> None:
    assert describe_actions(["transcribe:GetVocabulary", "transcribe:StartTranscriptionJob",
                             "transcribe:DeleteVocabulary"]) == (
        "transcribe:StartTranscriptionJob, transcribe:DeleteVocabulary and 1 more")
    assert describe_actions(["a", "b"], every=2) == "every Transcribe action (2 probed)"


@pytest.mark.parametrize("condition", [
    {"StringEquals": {"aws:ResourceTag/Team": "${aws:PrincipalTag/Team}"}},
    {"StringLike": {"aws:RequestTag/Team": "cc-*"}, "Null": {"aws:ResourceTag/Owner": "false"}},
    {"ForAnyValue:StringEquals": {"aws:TagKeys": ["Team"]}},
    {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}, "Bool": {"aws:SecureTransport": True}},
    {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}, "DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}},
    {"StringNotEquals": {"aws:ResourceTag/Team": "x"}, "ForAllValues:StringEquals": {"aws:TagKeys": ["Team"]}},
])
def test_satisfying_context_satisfies_the_statement(condition: dict[str, Any]) -> None:
    assert conditions_match(condition, satisfying_context({"Condition": condition}))


@pytest.mark.parametrize("resource", [
    "arn:aws:transcribe:*:*:transcription-job/${aws:username}-*",
    "arn:aws:transcribe:*:*:transcription-job/${aws:PrincipalTag/team}",
    "arn:aws:transcribe:us-east-1:123456789012:transcription-job/${aws:userid, 'shared'}",
])
def test_grants_written_with_policy_variables_are_found(resource: str) -> None:
    # A per-user grant is a grant to that user: the probe gives the variable's key a value.
    found = allowed(policies({"Effect": "Allow", "Action": "transcribe:GetTranscriptionJob", "Resource": resource}),
                    SCOPE, ["transcribe:GetTranscriptionJob"])
    assert found == {"transcribe:GetTranscriptionJob": ("p",)}


def test_foranyvalue_ifexists_tag_condition_restricts_by_tags() -> None:
    # ForAnyValue is false for a missing key even with IfExists, so without tags nothing is allowed.
    statement = {"Effect": "Allow", "Action": "transcribe:TagResource", "Resource": "*",
                 "Condition": {"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": ["CostCenter"]}}}
    assert allowed(policies(statement), SCOPE, ["transcribe:TagResource"]) == {"transcribe:TagResource": ("p",)}
    assert allowed(policies(statement), SCOPE, ["transcribe:TagResource"], without_tags()) == {}
