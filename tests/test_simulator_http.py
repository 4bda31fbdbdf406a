"""The simulator over HTTP behaves like in-process: `transcribe-guard simulate --seed demo`, started
as a user starts it (its own process, no AWS credentials), gives every rule the same verdicts through
`transcribe-guard scan` with AWS_ENDPOINT_URL as the in-process demo scan, and runs the deployed
pack's rules on StartConfigRulesEvaluation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest

from rules.catalog.registry import RULES
from tests.test_deploy import required_pack_parameters
from transcribe_guard import cli, deploy
from transcribe_guard.scan_parameters import DEMO_PARAMETERS
from transcribe_guard.simulator import Simulator

Row = tuple[str, str, str, str, str]  # rule, resource type, resource id, compliance, annotation


def rows(results: list[dict[str, str]]) -> list[Row]:
    return sorted((r["rule"], r["resource_type"], r["resource_id"], r["compliance"], r["annotation"]) for r in results)


def no_aws_environment(tmp: Path) -> dict[str, str]:
    """This environment without any AWS setting, credential files or instance metadata: what a
    shell without AWS configuration gives `transcribe-guard simulate`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=str(tmp / "no-config"), AWS_SHARED_CREDENTIALS_FILE=str(tmp / "no-credentials"),
               AWS_EC2_METADATA_DISABLED="true")
    return env


@pytest.fixture(scope="module")
def in_process_scan(tmp_path_factory: pytest.TempPathFactory) -> list[Row]:
    """`transcribe-guard scan --demo --format json` as a user runs it: every rule against the
    in-process demo account, in a fresh process like the simulate one. (Inside the test process,
    moto's generated ids depend on what earlier tests made moto load and draw: the full suite
    showed other IAM policy ids than a module run alone.)"""
    env = no_aws_environment(tmp_path_factory.mktemp("inprocess"))
    scan = subprocess.run([sys.executable, "-m", "transcribe_guard.cli", "scan", "--demo", "--format", "json"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert scan.returncode == cli.EXIT_NON_COMPLIANT, scan.stderr
    return rows(json.loads(scan.stdout)["evaluations"])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One `transcribe-guard simulate --seed demo` process and one scan of it over HTTP, taken before
    any test changes the account."""
    tmp = tmp_path_factory.mktemp("simhttp")
    process = subprocess.Popen([sys.executable, "-m", "transcribe_guard.cli", "simulate", "--port", "0", "--seed", "demo"],
                               env=no_aws_environment(tmp), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = process.stdout.readline().strip()  # type: ignore[union-attr]
        assert url.startswith("http://127.0.0.1:"), f"simulate printed {url!r} (exit code {process.poll()})"
        client_env = {**no_aws_environment(tmp), "AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing",
                      "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
        parameters = tmp / "parameters.json"
        parameters.write_text(json.dumps(DEMO_PARAMETERS), encoding="utf-8")
        scan = subprocess.run([sys.executable, "-m", "transcribe_guard.cli", "scan", "--format", "json",
                               "--parameters", str(parameters)], env=client_env, capture_output=True, text=True,
                              timeout=300)
        yield {"url": url, "env": client_env, "scan": scan}
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_every_rule_gives_the_same_verdicts_in_process_and_through_simulate(
        in_process_scan: list[Row], served: dict[str, Any]) -> None:
    scan = served["scan"]
    assert scan.returncode == cli.EXIT_NON_COMPLIANT, scan.stderr
    assert scan.stderr == ""
    over_http = rows(json.loads(scan.stdout)["evaluations"])
    assert len(RULES) >= 17  # the shipped rules at least, so the loop below is not vacuous
    for name in RULES:  # every rule ran and judged something, in both
        assert any(r[0] == name for r in in_process_scan), name
        assert any(r[0] == name for r in over_http), name
    # Nothing the demo holds is beyond judging; over HTTP the account-level public access block
    # (s3control, account id in the host name) was "Could not evaluate: EndpointConnectionError".
    assert [r for r in over_http if r[4].startswith("Could not evaluate")] == []
    # Row for row, with moto's generated ids (roles, users, VPCs, KMS keys) equal: a seed builds the same account.
    assert over_http == in_process_scan


def test_start_config_rules_evaluation_over_http_runs_every_rule_and_its_results_are_readable(
        in_process_scan: list[Row], served: dict[str, Any]) -> None:
    # The simulate process has no credentials of its own; the rule handlers it runs must still reach it.
    pack_parameters = [f"--pack-parameter={name}={value}" for name, value in required_pack_parameters().items()]
    deployed = subprocess.run([sys.executable, "-m", "transcribe_guard.cli", "deploy", "--evaluate", *pack_parameters],
                              env=served["env"], capture_output=True, text=True, timeout=300)
    assert deployed.returncode == cli.EXIT_OK, deployed.stderr
    assert f"started evaluation of {len(RULES)} rules" in deployed.stderr

    config = boto3.client("config", region_name="us-east-1", endpoint_url=served["url"],
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    compliance = deploy.pack_compliance(config, deploy.PACK_NAME)
    for name in RULES:
        verdicts = {r[3] for r in in_process_scan if r[0] == name}
        want = "NON_COMPLIANT" if "NON_COMPLIANT" in verdicts else "COMPLIANT" if "COMPLIANT" in verdicts else "INSUFFICIENT_DATA"
        assert compliance.rules[name] == want, name
    # The pack lists compliant and non-compliant results: those of the in-process scan, row for row.
    assert rows(compliance.results) == [r for r in in_process_scan if r[3] != "NOT_APPLICABLE"]


def test_a_stopped_server_leaves_in_process_rule_runs_in_process() -> None:
    """StartConfigRulesEvaluation in an in-process Simulator after a SimulatorServer in the same
    process stopped: the handler reads the in-process account, not the stopped server's port."""
    from tests.helpers import LAMBDA_TRUST, _tiny_zip, stored_verdicts
    from transcribe_guard.simulator import SimulatorServer
    from rules.catalog.registry import module_name

    SimulatorServer(port=0).start().stop()
    name = "transcribe-config-recording"
    with Simulator(seed="demo") as sim:
        role = sim.client("iam").create_role(RoleName="rules", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
        function = sim.client("lambda").create_function(
            FunctionName=name, Runtime="python3.12", Role=role["Role"]["Arn"], Code={"ZipFile": _tiny_zip()},
            Handler=f"rules.{module_name(name)}.lambda_handler")
        sim.client("config").put_config_rule(ConfigRule={
            "ConfigRuleName": name, "InputParameters": json.dumps({"AssumeRoleMode": "false"}),
            "Source": {"Owner": "CUSTOM_LAMBDA", "SourceIdentifier": function["FunctionArn"],
                       "SourceDetails": [{"EventSource": "aws.config", "MessageType": "ScheduledNotification",
                                          "MaximumExecutionFrequency": "TwentyFour_Hours"}]}})
        sim.client("config").start_config_rules_evaluation(ConfigRuleNames=[name])
        assert stored_verdicts(sim, name) == {"123456789012": "NON_COMPLIANT"}
        details = sim.client("config").get_compliance_details_by_config_rule(ConfigRuleName=name)["EvaluationResults"]
        assert details[0]["Annotation"].startswith("AWS Config in us-east-1: not recorded"), details
