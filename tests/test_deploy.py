"""Deployment: the deterministic code package, the generated function and member-role templates,
and deploy -> evaluate -> pack compliance in the simulator matching `scan`."""

from __future__ import annotations

import io
import json
import zipfile


import boto3
import pytest
from botocore.exceptions import ClientError

from rules.registry import RULES, module_name
from transcribe_guard import cli, deploy
from transcribe_guard.generate import conformance_pack_yaml
from transcribe_guard.package import build_zip
from transcribe_guard.simulator import Simulator
from transcribe_guard.templates import (FUNCTIONS_ROLE_NAME, evaluation_actions, functions_template,
                                        member_role_template)

ACCOUNT = "123456789012"


def required_pack_parameters() -> dict[str, str]:
    """Pack parameters for the rules whose parameters are required, as the demo sets them."""
    parameters = {}
    for rule, values in cli.DEMO_PARAMETERS.items():
        logical = "".join(part.capitalize() for part in rule.split("-"))
        parameters.update({f"{logical}Param{name}": value for name, value in values.items()})
    return parameters


def test_package_is_deterministic_and_holds_rules_and_rdklib() -> None:
    first, second = build_zip(), build_zip()
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        names = archive.namelist()
        infos = archive.infolist()
    assert names == sorted(names)
    assert {f"rules/{module_name(name)}.py" for name in RULES} <= set(names)
    assert "rdklib/evaluator.py" in names and "rules/registry.schema.json" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_functions_template_has_one_function_per_rule_with_least_privilege_role() -> None:
    template = functions_template()
    resources = template["Resources"]
    functions = {r["Properties"]["FunctionName"]: r["Properties"] for r in resources.values()
                 if r["Type"] == "AWS::Lambda::Function"}
    assert set(functions) == set(RULES)
    for name, properties in functions.items():
        assert properties["Handler"] == f"rules.{module_name(name)}.lambda_handler"
        assert properties["Runtime"] == "python3.12"
    statement = resources["EvaluatePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Action"] == evaluation_actions()
    declared = {a for cls in RULES.values() for a in cls.METADATA["iam_actions"]}
    assert set(statement["Action"]) == declared | {"config:PutEvaluations", "config:GetComplianceDetailsByConfigRule",
                                                   "cloudtrail:LookupEvents"}  # incremental runs: tag/delete events
    assert not [a for a in statement["Action"] if "*" in a or a in ("s3:GetObject", "kms:Decrypt")]
    permissions = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::Permission"]
    assert len(permissions) == len(RULES)
    assert all(p["Principal"] == "config.amazonaws.com" and "SourceAccount" in p for p in permissions)


def test_member_role_trusts_only_the_functions_role() -> None:
    role = member_role_template()["Resources"]["MemberRole"]["Properties"]
    trust = role["AssumeRolePolicyDocument"]["Statement"]
    assert len(trust) == 1 and trust[0]["Action"] == "sts:AssumeRole"
    assert trust[0]["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${FunctionsAccountId}:role/"
                                                       f"{FUNCTIONS_ROLE_NAME}"}}
    assert role["Policies"][0]["PolicyDocument"]["Statement"][0]["Action"] == evaluation_actions()


def scan_results(parameters: dict[str, dict[str, str]]) -> list[dict[str, str]]:
    rules = list(RULES)
    return cli.run_scan(rules, cli.load_parameters(None, rules, parameters))


def test_deploy_evaluate_and_pack_compliance_match_scan() -> None:
    with Simulator(seed="demo") as sim:
        expected = scan_results(cli.DEMO_PARAMETERS)
        done = deploy.deploy(boto3.session.Session(), required_pack_parameters())
        assert done.account == ACCOUNT
        lam = sim.client("lambda")
        assert {f["FunctionName"] for f in lam.list_functions()["Functions"]} == set(RULES)
        config = sim.client("config")
        started = deploy.start_evaluation(config, done.pack_name)
        assert {deploy.base_rule_name(n) for n in started} == set(RULES)
        compliance = deploy.pack_compliance(config, done.pack_name)

    # Rule for rule.
    for name in RULES:
        verdicts = {r["compliance"] for r in expected if r["rule"] == name}
        want = "NON_COMPLIANT" if "NON_COMPLIANT" in verdicts else "COMPLIANT" if "COMPLIANT" in verdicts else "INSUFFICIENT_DATA"
        assert compliance.rules[name] == want, name
    # Resource for resource (the pack lists compliant and non-compliant results).
    scanned = {(r["rule"], r["resource_type"], r["resource_id"], r["compliance"], r["annotation"]) for r in expected
               if r["compliance"] != "NOT_APPLICABLE"}
    evaluated = {(r["rule"], r["resource_type"], r["resource_id"], r["compliance"], r["annotation"])
                 for r in compliance.results}
    assert evaluated == scanned
    compliant = sum(1 for r in scanned if r[3] == "COMPLIANT")
    assert compliance.score == f"{100 * compliant / len(scanned):.2f}"


def test_redeploy_updates_in_place_and_pack_rules_keep_their_names() -> None:
    with Simulator(seed="empty") as sim:
        session = boto3.session.Session()
        first = deploy.deploy(session, required_pack_parameters())
        names = deploy.pack_rule_names(sim.client("config"), first.pack_name)
        second = deploy.deploy(session, required_pack_parameters())
        assert second.pack_arn == first.pack_arn
        assert deploy.pack_rule_names(sim.client("config"), first.pack_name) == names
        assert all(deploy.base_rule_name(n) != n for n in names)  # <name>-conformance-pack-<suffix>


@pytest.mark.parametrize("parameters, message", [
    ({}, "has no value and no default"),
    ({**required_pack_parameters(), "NoSuchParameter": "x"}, "Parameter NoSuchParameter is not declared"),
    ({**required_pack_parameters(), "AssumeRoleMode": "maybe"}, "Parameter AssumeRoleMode must be one of"),
])
def test_put_conformance_pack_rejects_bad_parameters(parameters: dict[str, str], message: str) -> None:
    if not any(RULES[n].METADATA["parameters"].get("required") for n in RULES) and not parameters:
        parameters = {"NoSuchParameter": "x"}
        message = "Parameter NoSuchParameter is not declared"
    with Simulator(seed="empty") as sim:
        config = sim.client("config")
        with pytest.raises(ClientError, match=message):
            config.put_conformance_pack(
                ConformancePackName="p", TemplateBody=conformance_pack_yaml(),
                ConformancePackInputParameters=[{"ParameterName": "LambdaAccountId", "ParameterValue": ACCOUNT}]
                + [{"ParameterName": k, "ParameterValue": v} for k, v in parameters.items()])


def test_cli_deploy_demo_shows_the_pack_compliance() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["deploy", "--demo"], out, err) == cli.EXIT_OK
    text = out.getvalue()
    assert "Conformance pack transcribe-guard: compliance score" in text
    for name in RULES:
        assert name in text


def test_cli_compliance_json_against_a_deployed_pack() -> None:
    with Simulator(seed="demo") as sim:
        done = deploy.deploy(boto3.session.Session(), required_pack_parameters())
        deploy.start_evaluation(sim.client("config"), done.pack_name)
        out, err = io.StringIO(), io.StringIO()
        code = cli.main(["compliance", "--format", "json"], out, err)
    report = json.loads(out.getvalue())
    assert code == cli.EXIT_NON_COMPLIANT
    assert set(RULES) <= set(report["rules"]) and float(report["score"]) > 0
