"""Deployment: the deterministic code package, the generated function and member-role templates,
and deploy -> evaluate -> pack compliance in the simulator matching `scan`."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from typing import Any


import boto3
import pytest
from botocore.exceptions import ClientError

from rules.catalog.registry import RULES, module_name
from transcribe_guard import cli, deploy, scan
from transcribe_guard.scan_parameters import DEMO_PARAMETERS, load_parameters
from transcribe_guard.generate import conformance_pack_yaml
from transcribe_guard.package import build_zip
from transcribe_guard.pack_validation import parameter_value_problems
from transcribe_guard.simulator import Simulator
from transcribe_guard.templates import (FUNCTIONS_ROLE_NAME, LEDGER_COLLECTOR_ROLE, evaluation_actions,
                                        functions_template, member_actions, member_role_template)
from tests.test_simulator_s3_defaults import other_account_s3

ACCOUNT = "123456789012"


def required_pack_parameters() -> dict[str, str]:
    """Pack parameters for the rules whose parameters are required, as the demo sets them."""
    parameters = {}
    for rule, values in DEMO_PARAMETERS.items():
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
    assert "rdklib/evaluator.py" in names and "rules/catalog/registry.schema.json" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_functions_template_has_one_function_per_rule_with_least_privilege_role() -> None:
    template = functions_template()
    resources = template["Resources"]
    # The rule functions: neither the event trigger (EnableEventTriggers) nor the ledger's collector
    # (LedgerOn, tests/test_ledger_template.py's).
    rule_resources = [r for r in resources.values() if r.get("Condition") not in ("EnableEventTriggers", "LedgerOn")]
    functions = {r["Properties"]["FunctionName"]: r["Properties"] for r in rule_resources
                 if r["Type"] == "AWS::Lambda::Function"}
    assert set(functions) == set(RULES)
    for name, properties in functions.items():
        assert properties["Handler"] == f"rules.{module_name(name)}.lambda_handler"
        assert properties["Runtime"] == "python3.12"
    statement = resources["EvaluatePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Action"] == evaluation_actions()
    declared = {a for cls in RULES.values() for a in cls.METADATA["iam_actions"]}
    assert set(statement["Action"]) == declared | {"config:PutEvaluations", "config:GetComplianceDetailsByConfigRule",
                                                   "cloudtrail:LookupEvents",  # incremental runs: tag/delete events
                                                   "servicequotas:ListServiceQuotas"}  # pacing: applied quotas
    assert not [a for a in statement["Action"] if "*" in a or a in ("s3:GetObject", "kms:Decrypt")]
    permissions = [r["Properties"] for r in rule_resources if r["Type"] == "AWS::Lambda::Permission"]
    assert len(permissions) == len(RULES)
    assert all(p["Principal"] == "config.amazonaws.com" and "SourceAccount" in p for p in permissions)


def test_member_role_trusts_only_the_functions_role() -> None:
    role = member_role_template()["Resources"]["MemberRole"]["Properties"]
    trust = role["AssumeRolePolicyDocument"]["Statement"]
    assert len(trust) == 1 and trust[0]["Action"] == "sts:AssumeRole"
    functions = {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::${{FunctionsAccountId}}:role/{FUNCTIONS_ROLE_NAME}"}
    collector = {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::${{FunctionsAccountId}}:role/{LEDGER_COLLECTOR_ROLE}"}
    # The collector's role only when asked: IAM refuses a trust naming a role that does not exist yet.
    assert trust[0]["Principal"] == {"AWS": {"Fn::If": ["TrustCollector", [functions, collector], functions]}}
    assert role["Policies"][0]["PolicyDocument"]["Statement"][0]["Action"] == member_actions()
    assert set(evaluation_actions()) <= set(member_actions())


def scan_results(parameters: dict[str, dict[str, str]]) -> list[dict[str, str]]:
    rules = list(RULES)
    return scan.run_scan(rules, load_parameters(None, rules, parameters))


def test_deploy_evaluate_and_pack_compliance_match_scan() -> None:
    with Simulator(seed="demo") as sim:
        expected = scan_results(DEMO_PARAMETERS)
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
        functions = {f["FunctionName"] for f in sim.client("lambda").list_functions()["Functions"]}
        assert functions == set(RULES)  # EnableEventTriggers false: no trigger
        # the update turns the event triggers on: their resources are created, the rules stay
        second = deploy.deploy(session, required_pack_parameters(), event_triggers=True)
        assert second.pack_arn == first.pack_arn
        assert deploy.pack_rule_names(sim.client("config"), first.pack_name) == names
        assert all(deploy.base_rule_name(n) != n for n in names)  # <name>-conformance-pack-<suffix>
        functions = {f["FunctionName"] for f in sim.client("lambda").list_functions()["Functions"]}
        assert functions == set(RULES) | {"transcribe-guard-event-trigger"}


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


# --- Deploy cannot be hijacked (issue 12, item 5) ---------------------------------------------------------

BUCKET = f"transcribe-guard-artifacts-{ACCOUNT}-us-east-1"


def other_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("rules/transcribe_resource_tagged.py", "def lambda_handler(event, context):\n    return None\n")
    return buffer.getvalue()


def function_code(sim: Simulator) -> dict[str, str]:
    lam = sim.client("lambda")
    return {name: lam.get_function_configuration(FunctionName=name)["CodeSha256"] for name in RULES}


def test_code_sha256_is_lambdas_base64_of_the_zip_digest() -> None:
    data = build_zip()
    assert deploy.code_sha256(data) == base64.b64encode(hashlib.sha256(data).digest()).decode()
    with Simulator(seed="empty") as sim:  # moto's Lambda reports the same for a zip it is given
        role = sim.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        created = sim.client("lambda").create_function(FunctionName="f", Runtime="python3.12", Role=role,
                                                       Handler="rules.x.h", Code={"ZipFile": data})
    assert created["CodeSha256"] == deploy.code_sha256(data)


def test_deploy_refuses_a_bucket_of_that_name_owned_by_another_account() -> None:
    with Simulator(seed="empty") as sim:
        squatter = other_account_s3(sim)
        squatter.create_bucket(Bucket=BUCKET)
        with pytest.raises(deploy.DeployError, match=f"bucket {BUCKET} exists but is not owned by account {ACCOUNT}"):
            deploy.deploy(boto3.session.Session(), required_pack_parameters())
        assert squatter.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 0  # the package never went there
        assert squatter.get_bucket_versioning(Bucket=BUCKET).get("Status") is None  # nor any setting
        with pytest.raises(ClientError):
            sim.client("cloudformation").describe_stacks(StackName=deploy.STACK_NAME)


def test_deploy_uploads_with_the_owner_check_and_pins_the_object_version() -> None:
    with Simulator(seed="empty") as sim:
        done = deploy.deploy(boto3.session.Session(), required_pack_parameters())
        s3 = sim.client("s3")
        assert s3.get_bucket_versioning(Bucket=BUCKET, ExpectedBucketOwner=ACCOUNT)["Status"] == "Enabled"
        head = s3.head_object(Bucket=BUCKET, Key=done.code_key, ExpectedBucketOwner=ACCOUNT)
        assert done.code_version and head["VersionId"] == done.code_version
        stack = sim.client("cloudformation").describe_stacks(StackName=done.stack_name)["Stacks"][0]
        assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["CodeObjectVersion"] == done.code_version


def test_a_code_object_swapped_after_upload_does_not_reach_the_functions() -> None:
    with Simulator(seed="empty") as sim:
        s3 = sim.client("s3")
        swapped: list[str] = []

        def swap(message: str) -> None:  # between the upload and the stack: overwrite the key
            if message.startswith("deploying stack"):
                key = next(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"])
                s3.put_object(Bucket=BUCKET, Key=key, Body=other_zip())
                swapped.append(key)

        deploy.deploy(boto3.session.Session(), required_pack_parameters(), progress=swap)
        assert swapped
        assert set(function_code(sim).values()) == {deploy.code_sha256(build_zip())}


def test_deploy_fails_when_a_function_runs_other_code() -> None:
    with Simulator(seed="empty") as sim:
        lam = sim.client("lambda")

        def tamper(message: str) -> None:  # someone changes a function once the stack is done
            if message.startswith("checking"):
                lam.update_function_code(FunctionName="transcribe-resource-tagged", ZipFile=other_zip())

        with pytest.raises(deploy.DeployError, match=r"not the package built here .*transcribe-resource-tagged \("):
            deploy.deploy(boto3.session.Session(), required_pack_parameters(), progress=tamper)
        with pytest.raises(ClientError):  # and the pack is not put
            sim.client("config").describe_conformance_packs(ConformancePackNames=[deploy.PACK_NAME])


@pytest.mark.parametrize("bad, message", [
    ({"NoSuchParameter": "x"}, "parameter NoSuchParameter is not declared by the pack"),
    ({"AssumeRoleMode": "maybe"}, "parameter AssumeRoleMode: 'maybe' must be one of 'true', 'false'"),
    ({"JobRulesFrequency": "Daily"}, "parameter JobRulesFrequency: 'Daily' must be one of"),
    ({"LambdaAccountId": "12345678901x"}, r"parameter LambdaAccountId: '12345678901x' does not match the pattern"),
])
def test_a_bad_pack_parameter_fails_before_anything_is_uploaded(bad: dict[str, str], message: str) -> None:
    with Simulator(seed="empty") as sim:
        with pytest.raises(deploy.DeployError, match=message):
            deploy.deploy(boto3.session.Session(), {**required_pack_parameters(), **bad})
        assert not [b for b in sim.client("s3").list_buckets()["Buckets"] if b["Name"] == BUCKET]
        assert sim.client("lambda").list_functions()["Functions"] == []
        with pytest.raises(ClientError):
            sim.client("cloudformation").describe_stacks(StackName=deploy.STACK_NAME)


def test_pack_parameter_values_are_judged_like_cloudformation() -> None:
    template = {"Parameters": {
        "Id": {"Type": "String", "AllowedPattern": r"^\d{12}$"},
        "Mode": {"Type": "String", "Default": "a", "AllowedValues": ["a", "b"]},
        "Size": {"Type": "Number", "Default": 1, "MinValue": 1, "MaxValue": 10},
        "Names": {"Type": "CommaDelimitedList", "Default": "", "AllowedPattern": "[a-z]+"},
        "Short": {"Type": "String", "Default": "", "MaxLength": 3},
        "Odd": {"Type": "AWS::EC2::VPC::Id", "Default": ""}}}
    assert parameter_value_problems(template, {"Id": ACCOUNT, "Size": "10", "Names": "ab, cd"}) == []
    assert parameter_value_problems(template, {}) == ["parameter Id has no value and no default"]
    assert parameter_value_problems(template, {"Id": f"{ACCOUNT}\n", "Mode": "c", "Size": "x", "Names": "ab,C",
                                               "Short": "long", "Odd": "vpc-1"}) == [
        f"parameter Id: '{ACCOUNT}\\n' does not match the pattern ^\\d{{12}}$",
        "parameter Mode: 'c' must be one of 'a', 'b'",
        "parameter Size: 'x' is not a number",
        "parameter Names: 'C' does not match the pattern [a-z]+",
        "parameter Short: is longer than 3 characters",
        "parameter Odd: type AWS::EC2::VPC::Id cannot be checked; refusing the value"]
    assert parameter_value_problems(template, {"Id": ACCOUNT, "Size": "11"}) == ["parameter Size: 11 is above the maximum 10"]


def test_cli_deploy_reports_a_bad_pack_parameter_and_uploads_nothing() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["deploy", "--demo", "--pack-parameter", "AssumeRoleMode=maybe"], out, err) == cli.EXIT_FAILED
    assert "bad --pack-parameter values: parameter AssumeRoleMode: 'maybe' must be one of" in err.getvalue()
    assert "uploading" not in err.getvalue()


# --- Failed invocations leave a trace (issue 12, item 8) -----------------------------------------------

def test_every_function_sends_failed_async_invocations_to_an_encrypted_queue() -> None:
    resources = functions_template()["Resources"]
    queue = resources["FailedInvocationsQueue"]
    assert queue["Type"] == "AWS::SQS::Queue" and queue["Properties"]["SqsManagedSseEnabled"] is True
    queue_arn = {"Fn::GetAtt": ["FailedInvocationsQueue", "Arn"]}
    functions = {i: r for i, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
    configs = {r["Properties"]["FunctionName"]["Ref"]: r["Properties"] for r in resources.values()
               if r["Type"] == "AWS::Lambda::EventInvokeConfig"}
    assert set(configs) == set(functions)
    for properties in configs.values():
        assert properties["Qualifier"] == "$LATEST"
        assert properties["DestinationConfig"] == {"OnFailure": {"Destination": queue_arn}}
    send = [s for s in resources["RegionPolicy"]["Properties"]["PolicyDocument"]["Statement"]
            if "sqs:SendMessage" in json.dumps(s)]
    assert send == [{"Sid": "RecordFailedInvocations", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": {
        "Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:transcribe-guard-failed-invocations"}}]
    assert queue["Properties"]["QueueName"] == "transcribe-guard-failed-invocations"  # the ARN the role names
    for function in functions.values():
        assert function["Properties"]["Code"]["S3ObjectVersion"] == {"Ref": "CodeObjectVersion"}


def test_deployed_functions_have_the_on_failure_destination() -> None:
    with Simulator(seed="empty") as sim:
        deploy.deploy(boto3.session.Session(), required_pack_parameters())
        lam, sqs = sim.client("lambda"), sim.client("sqs")
        url = sqs.get_queue_url(QueueName="transcribe-guard-failed-invocations")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for name in RULES:
            config = lam.get_function_event_invoke_config(FunctionName=name)
            assert config["DestinationConfig"]["OnFailure"]["Destination"] == arn, name


# --- Every Region (issue 16, item 2) ------------------------------------------------------------

def test_cli_deploy_to_two_regions_creates_the_role_once_and_a_pack_in_each() -> None:
    with Simulator(seed="empty") as sim:
        out, err = io.StringIO(), io.StringIO()
        parameters = [f"--pack-parameter={k}={v}" for k, v in required_pack_parameters().items()]
        code = cli.main(["deploy", "--region", "us-east-1", "--region", "eu-west-1", *parameters], out, err)
        assert code == cli.EXIT_OK, err.getvalue()
        create_role = {}
        for region in ("us-east-1", "eu-west-1"):
            stack = sim.client("cloudformation", region).describe_stacks(StackName=deploy.STACK_NAME)["Stacks"][0]
            create_role[region] = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}[
                "CreateFunctionsRole"]
            packs = sim.client("config", region).describe_conformance_packs()["ConformancePackDetails"]
            assert [p["ConformancePackName"] for p in packs] == [deploy.PACK_NAME]
            functions = sim.client("lambda", region).list_functions()["Functions"]
            assert {f["FunctionName"] for f in functions} == set(RULES)
            assert {f["Role"] for f in functions} == {f"arn:aws:iam::{ACCOUNT}:role/transcribe-guard-functions"}
        assert create_role == {"us-east-1": "true", "eu-west-1": "false"}
        policies = sim.client("iam").list_role_policies(RoleName="transcribe-guard-functions")["PolicyNames"]
        assert {"transcribe-guard-us-east-1", "transcribe-guard-eu-west-1", "evaluate"} <= set(policies)
        assert out.getvalue().count("Deployed to account") == 2


@pytest.mark.parametrize("flags, message", [
    (["--region", "us-east-1", "--all-regions"], "--region and --all-regions"),
    (["--region", "mars-north-1"], "--region mars-north-1: not a Region"),
])
def test_cli_deploy_refuses_bad_region_flags(flags: list[str], message: str) -> None:
    with Simulator(seed="empty"):
        err = io.StringIO()
        assert cli.main(["deploy", *flags], io.StringIO(), err) == cli.EXIT_USAGE
    assert message in err.getvalue() and err.getvalue().count("\n") == 1


def test_all_regions_are_those_with_transcribe_that_the_account_enabled() -> None:
    class Regions:
        region_name = "us-east-1"

        def get_available_regions(self, service: str) -> list[str]:
            assert service == "transcribe"
            return ["ap-east-1", "eu-west-1", "us-east-1"]

        def client(self, service: str) -> Any:
            assert service == "ec2"
            return self

        def describe_regions(self) -> dict[str, Any]:  # only enabled Regions, unless AllRegions
            return {"Regions": [{"RegionName": r} for r in ("eu-west-1", "me-south-1", "us-east-1")]}

    assert deploy.enabled_regions(Regions()) == ["eu-west-1", "us-east-1"]
