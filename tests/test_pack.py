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


def _region_codes() -> dict[str, str]:
    """Region name as AWS's pages write it ("Europe (Zurich)") -> code, from botocore's endpoint data."""
    from botocore.loaders import create_loader

    partitions = create_loader().load_data("endpoints")["partitions"]
    return {region["description"]: code for partition in partitions for code, region in partition["regions"].items()}


def _unavailable_per_awss_list(identifier: str) -> set[str]:
    """The Regions AWS's managed-rule list (moto's copy) names as exceptions for one rule."""
    text = managed_rules()[identifier]["AWS Region"]
    if text == "All supported AWS regions":
        return set()
    prefix = "All supported AWS regions except "
    assert text.startswith(prefix) and text.endswith(" Region"), text
    codes = _region_codes()
    names = text[len(prefix):-len(" Region")].split(", ")
    assert all(name in codes for name in names), [n for n in names if n not in codes]
    return {codes[name] for name in names}


@pytest.mark.parametrize("managed", MANAGED_RULES, ids=lambda m: m["identifier"])
def test_managed_rule_regions_are_the_ones_aws_lists(managed: dict[str, Any]) -> None:
    assert set(managed["unavailable_regions"]) == _unavailable_per_awss_list(managed["identifier"])
    page = managed["identifier"].lower().replace("_", "-")
    assert managed["regions_source"] == f"https://docs.aws.amazon.com/config/latest/developerguide/{page}.html"


def test_managed_rules_match_the_registry_schema() -> None:
    import json

    import jsonschema

    schema = json.loads((ROOT / "rules" / "catalog" / "registry.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator({"$ref": "#/$defs/managed_rule", "$defs": schema["$defs"]})
    for managed in MANAGED_RULES:
        validator.validate(managed)
    with pytest.raises(jsonschema.ValidationError, match="unavailable_regions"):
        validator.validate({k: v for k, v in MANAGED_RULES[0].items() if k != "unavailable_regions"})


def _rules_created_in(region: str) -> set[str]:
    from transcribe_guard.simulator.conformance import expand_template

    required = {k: "DataClassification" for k in conformance_pack()["Parameters"] if k.endswith("ParamRequiredTags")}
    rules = expand_template(conformance_pack_yaml(), {"LambdaAccountId": "123456789012", **required},
                            "123456789012", region)
    return {rule["ConfigRuleName"] for rule in rules}


LIMITED = [m for m in MANAGED_RULES if m["unavailable_regions"]]


def test_region_limited_rules_are_the_iam_credential_rules() -> None:
    assert {m["identifier"] for m in LIMITED} == {
        "ACCESS_KEYS_ROTATED", "IAM_USER_UNUSED_CREDENTIALS_CHECK", "IAM_ROOT_ACCESS_KEY_CHECK"}


@pytest.mark.parametrize("region", sorted({r for m in LIMITED for r in m["unavailable_regions"]}))
def test_pack_leaves_out_managed_rules_where_aws_does_not_offer_them(region: str) -> None:
    created = _rules_created_in(region)
    for managed in MANAGED_RULES:
        assert (managed["name"] in created) == (region not in managed["unavailable_regions"]), managed["name"]
    assert set(RULES) <= created and {p["name"] for p in PROCESS_CHECKS} <= created


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-2"])
def test_pack_creates_every_managed_rule_where_all_are_offered(region: str) -> None:
    assert {m["name"] for m in MANAGED_RULES} <= _rules_created_in(region)


def _nodes(node: Any) -> list[Any]:
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    return [node] + [n for child in children for n in _nodes(child)]


@pytest.mark.parametrize("count", [1, 2, 10, 11, 12, 21, 35])
def test_region_condition_holds_in_exactly_the_listed_regions_within_fn_or_limits(count: int) -> None:
    from transcribe_guard.generate import _region_is_one_of
    from transcribe_guard.simulator.conformance import expand_template

    regions = [f"xx-test-{i}" for i in range(count)]
    condition = _region_is_one_of(regions)
    # CloudFormation's Fn::Or takes 2 to 10 conditions (cfn-lint checks the committed pack; this, any length).
    assert all(2 <= len(n["Fn::Or"]) <= 10 for n in _nodes(condition) if isinstance(n, dict) and "Fn::Or" in n)
    template = yaml.safe_dump({"Conditions": {"Listed": condition}, "Resources": {"R": {
        "Type": "AWS::Config::ConfigRule", "Condition": "Listed",
        "Properties": {"ConfigRuleName": "r", "Source": {"Owner": "AWS", "SourceIdentifier": "X"}}}}})
    for region in [*regions, "us-east-1", "xx-test-99"]:
        assert bool(expand_template(template, {}, "123456789012", region)) == (region in regions), region
