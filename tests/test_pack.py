"""The generated conformance pack: valid for Config (our schema and checks, beyond cfn-lint),
complete (every registry entry), and each kind of mistake is caught."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from rules.catalog.pack_entries import MANAGED_RULES, PROCESS_CHECKS
from rules.catalog.registry import RULES
from transcribe_guard.generate import conformance_pack, conformance_pack_yaml
from transcribe_guard.pack_validation import managed_rules, validate_pack

ROOT = Path(__file__).resolve().parent.parent


def test_committed_pack_is_valid() -> None:
    assert validate_pack((ROOT / "conformance-pack.yaml").read_text(encoding="utf-8")) == []


def test_pack_holds_every_custom_rule_managed_rule_and_process_check() -> None:
    pack = conformance_pack()
    by_name = {r["Properties"]["ConfigRuleName"]: r["Properties"] for r in pack["Resources"].values()
               if r["Type"] == "AWS::Config::ConfigRule"}
    assert set(by_name) == set(RULES) | {m["name"] for m in MANAGED_RULES} | {p["name"] for p in PROCESS_CHECKS}
    for name in RULES:
        source = by_name[name]["Source"]
        assert source["Owner"] == "CUSTOM_LAMBDA"
        assert source["SourceDetails"][0]["MessageType"] == "ScheduledNotification"
        frequency = by_name[name]["MaximumExecutionFrequency"]
        if "transcribe:ListTranscriptionJobs" in RULES[name].METADATA["iam_actions"]:
            # Rules that read jobs share one frequency parameter (more often for large accounts).
            assert frequency == {"Ref": "JobRulesFrequency"}
            assert source["SourceDetails"][0]["MaximumExecutionFrequency"] == frequency
            frequency = pack["Parameters"]["JobRulesFrequency"]["Default"]
        assert frequency == RULES[name].METADATA["trigger"]["frequency"]
        assert by_name[name]["InputParameters"]["AssumeRoleMode"] == {"Ref": "AssumeRoleMode"}
    for check in PROCESS_CHECKS:
        assert by_name[check["name"]]["Source"] == {"Owner": "AWS", "SourceIdentifier": "AWS_CONFIG_PROCESS_CHECK"}


def test_every_rule_parameter_is_a_pack_parameter() -> None:
    pack = conformance_pack()
    for name, cls in RULES.items():
        rule = next(r["Properties"] for r in pack["Resources"].values()
                    if r["Type"] == "AWS::Config::ConfigRule" and r["Properties"]["ConfigRuleName"] == name)
        assert set(cls.METADATA["parameters"]["properties"]) <= set(rule["InputParameters"])


def test_managed_rules_exist_and_are_periodic() -> None:
    known = managed_rules()
    for managed in MANAGED_RULES:
        assert managed["identifier"] in known
        assert "Periodic" in known[managed["identifier"]]["Trigger type"]


def _mutate(change: Callable[[dict[str, Any]], None]) -> str:
    template = copy.deepcopy(conformance_pack())
    change(template)
    return yaml.safe_dump(template, sort_keys=False)


def _first(template: dict[str, Any], owner: str) -> dict[str, Any]:
    return next(r["Properties"] for r in template["Resources"].values()
                if r["Type"] == "AWS::Config::ConfigRule" and r["Properties"]["Source"]["Owner"] == owner
                and r["Properties"]["Source"]["SourceIdentifier"] != "AWS_CONFIG_PROCESS_CHECK")


def _many_parameters(t: dict[str, Any]) -> None:
    for index in range(61):
        t["Parameters"][f"Extra{index}"] = {"Type": "String", "Default": ""}
        _first(t, "CUSTOM_LAMBDA")["InputParameters"][f"Extra{index}"] = {"Ref": f"Extra{index}"}


MUTATIONS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "frequency-daily": (lambda t: _first(t, "CUSTOM_LAMBDA").update(MaximumExecutionFrequency="Daily"), "Daily"),
    "frequency-parameter-not-frequencies": (lambda t: t["Parameters"]["JobRulesFrequency"].update(
        AllowedValues=["Daily"], Default="Daily"), "JobRulesFrequency"),
    "owner-typo": (lambda t: _first(t, "CUSTOM_LAMBDA")["Source"].update(Owner="AWSS"), "AWSS"),
    "message-type-typo": (lambda t: _first(t, "CUSTOM_LAMBDA")["Source"]["SourceDetails"][0].update(
        MessageType="ScheduleNotification"), "ScheduleNotification"),
    "event-source": (lambda t: _first(t, "CUSTOM_LAMBDA")["Source"]["SourceDetails"][0].update(
        EventSource="aws.lambda"), "aws.config"),
    "ref-to-missing-parameter": (lambda t: _first(t, "CUSTOM_LAMBDA")["InputParameters"].update(
        AssumeRoleMode={"Ref": "AssumeRole"}), "Ref AssumeRole names no parameter"),
    "sub-variable-missing": (lambda t: _first(t, "CUSTOM_LAMBDA")["Source"].update(
        SourceIdentifier={"Fn::Sub": "arn:aws:lambda:us-east-1:${LambdaAccount}:function:x"}),
        "Fn::Sub variable LambdaAccount"),
    "unknown-condition": (lambda t: t["Conditions"].clear(), "Fn::If names unknown condition"),
    "unused-parameter": (lambda t: t["Parameters"].update(Orphan={"Type": "String"}), "Orphan: declared but never used"),
    "unknown-managed-rule": (lambda t: _first(t, "AWS")["Source"].update(SourceIdentifier="CLOUDTRAIL_LOGGING_ON"),
                             "CLOUDTRAIL_LOGGING_ON is not an AWS managed rule"),
    "managed-rule-bad-parameter": (lambda t: _first(t, "AWS").update(InputParameters={"bogus": "1"}),
                                   "has no parameter bogus"),
    "periodic-setting-on-change-rule": (lambda t: _first(t, "AWS")["Source"].update(
        SourceIdentifier="S3_BUCKET_LOGGING_ENABLED"), "is not periodic"),
    "too-many-parameters": (_many_parameters, "a conformance pack allows 60"),
    "disallowed-resource-type": (lambda t: t["Resources"].update(
        Fn={"Type": "AWS::Lambda::Function", "Properties": {}}), "Resources/Fn"),
    "duplicate-rule-name": (lambda t: t["Resources"].update(
        Copy=copy.deepcopy(next(iter(t["Resources"].values())))), "is also used by"),
    "remediation-not-ssm": (lambda t: next(r for r in t["Resources"].values()
                                          if r["Type"] == "AWS::Config::RemediationConfiguration")
                            ["Properties"].update(TargetType="LAMBDA"), "'SSM_DOCUMENT' was expected"),
    "long-description": (lambda t: _first(t, "CUSTOM_LAMBDA").update(Description="x" * 257), "is too long"),
    "process-check-with-parameters": (lambda t: next(
        r["Properties"] for r in t["Resources"].values()
        if r["Type"] == "AWS::Config::ConfigRule" and r["Properties"]["Source"]["SourceIdentifier"] == "AWS_CONFIG_PROCESS_CHECK").update(
        InputParameters={"a": "b"}), "a process check takes no InputParameters"),
    "custom-rule-without-source-details": (lambda t: _first(t, "CUSTOM_LAMBDA")["Source"].pop("SourceDetails"),
                                           "'SourceDetails' is a required property"),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_each_kind_of_mistake_is_caught(mutation: str) -> None:
    change, expected = MUTATIONS[mutation]
    problems = validate_pack(_mutate(change))
    assert any(expected in problem for problem in problems), problems


def test_template_body_size_limit() -> None:
    text = conformance_pack_yaml() + "#" + "x" * 52_000 + "\n"
    assert any("TemplateBody allows 51200" in p for p in validate_pack(text))
    assert len(conformance_pack_yaml().encode()) < 51_200


def test_bucket_remediations_are_optional_manual_ssm_actions() -> None:
    from rules.catalog.pack_entries import REMEDIATIONS

    pack = conformance_pack()
    remediations = {r["Properties"]["ConfigRuleName"]: r for r in pack["Resources"].values()
                    if r["Type"] == "AWS::Config::RemediationConfiguration"}
    assert set(remediations) == {r["rule"] for r in REMEDIATIONS if r["rule"] in RULES}
    assert pack["Parameters"]["EnableBucketRemediation"]["Default"] == "false"
    for name, resource in remediations.items():
        assert resource["Condition"] in pack["Conditions"]
        assert resource["Properties"]["Automatic"] is False
        assert resource["Properties"]["ResourceType"] == "AWS::S3::Bucket"
        assert {"ResourceValue": {"Value": "RESOURCE_ID"}} in resource["Properties"]["Parameters"].values()
        assert RULES[name].METADATA["resource_kinds"] != ["AWS::::Account"]


def test_pack_with_remediation_enabled_deploys_in_the_simulator() -> None:
    from transcribe_guard.simulator import Simulator
    from transcribe_guard.simulator.conformance import expand_template

    with Simulator(seed="empty"):
        rules = expand_template(conformance_pack_yaml(), {
            "LambdaAccountId": "123456789012", "EnableBucketRemediation": "true",
            "RemediationAutomationRoleArn": "arn:aws:iam::123456789012:role/remediate",
            **{k: "DataClassification" for k in conformance_pack()["Parameters"] if k.endswith("ParamRequiredTags")}},
            "123456789012", "us-east-1")
    assert {r["ConfigRuleName"] for r in rules} >= set(RULES)
