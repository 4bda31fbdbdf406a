"""Test helpers shared by rule tests: deploying a rule into the simulated Config, running its
Lambda handler with a real ScheduledNotification event, injecting API errors, seeding."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator, Mapping

from botocore.exceptions import ClientError
from rdklib import ClientFactory, Evaluation

from transcribe_guard.events import scheduled_notification
from transcribe_guard.simulator.config import read_verdicts, result_token

ACCOUNT = "123456789012"
REGION = "us-east-1"
LAMBDA_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def _tiny_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def lambda_handler(event, context):\n    return None\n")
    return buffer.getvalue()


def deploy_rule(sim: Any, rule_name: str, frequency: str = "TwentyFour_Hours") -> str:
    """Create the rule's Lambda function and a CUSTOM_LAMBDA periodic Config rule for it in the
    simulated account, as the deployment would; returns the function ARN. Idempotent."""
    iam, lam, config = sim.client("iam"), sim.client("lambda"), sim.client("config")
    try:
        role_arn = iam.get_role(RoleName="transcribe-guard-rules")["Role"]["Arn"]
    except ClientError:
        role_arn = iam.create_role(RoleName="transcribe-guard-rules",
                                   AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))["Role"]["Arn"]
    try:
        function_arn = lam.get_function(FunctionName=rule_name)["Configuration"]["FunctionArn"]
    except ClientError:
        function_arn = lam.create_function(FunctionName=rule_name, Runtime="python3.12", Role=role_arn,
                                           Handler="handler.lambda_handler", Code={"ZipFile": _tiny_zip()})["FunctionArn"]
    config.put_config_rule(ConfigRule={
        "ConfigRuleName": rule_name,
        "MaximumExecutionFrequency": frequency,
        "Source": {"Owner": "CUSTOM_LAMBDA", "SourceIdentifier": function_arn,
                   "SourceDetails": [{"EventSource": "aws.config", "MessageType": "ScheduledNotification",
                                      "MaximumExecutionFrequency": frequency}]},
    })
    return function_arn


def periodic_event(rule_name: str, parameters: Mapping[str, str] | None = None, now: Any = None) -> dict[str, Any]:
    """A real ScheduledNotification event with a result token the simulated Config accepts,
    created at ``now`` (default: the simulator's clock). AssumeRoleMode=false: in the simulator
    the function's own credentials are used."""
    from transcribe_guard.simulator import clock
    return scheduled_notification(rule_name, ACCOUNT, result_token(rule_name),
                                  rule_parameters={"AssumeRoleMode": "false", **(parameters or {})},
                                  now=now or clock.now())


def evaluate_periodic(rule: Any, parameters: Mapping[str, Any] | None = None, factory: Any = None) -> list[Evaluation]:
    """A periodic run of ``rule`` (an instance, so a test can inspect it afterwards) for the simulated
    account, its parameters parsed first as rdklib does; a new client factory (a fresh run's
    inventories) unless ``factory`` is given."""
    return list(rule.evaluate_periodic({"accountId": ACCOUNT}, factory or ClientFactory(None, assume_role_mode=False),
                                       rule.evaluate_parameters(dict(parameters or {}))))


def verdicts(evaluations: list[Evaluation]) -> dict[str, str]:
    """resource id -> compliance of a run's evaluations."""
    return {e.complianceResourceId: e.complianceType for e in evaluations}


def stored_verdicts(sim: Any, rule_name: str) -> dict[str, str]:
    """resource id -> compliance, as GetComplianceDetailsByConfigRule reports them (all pages)."""
    return read_verdicts(sim.client("config"), rule_name)


def access_denied(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "AccessDeniedException", "Message": "User is not authorized"}}, operation)


def fail_calls(monkeypatch: Any, target: Any, attribute: str,
               should_fail: Callable[..., bool], error: Callable[[], ClientError]) -> None:
    """Wrap ``target.attribute`` so that calls for which ``should_fail(*args, **kwargs)`` holds
    raise ``error()``; every other call goes through."""
    original = getattr(target, attribute)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if should_fail(*args, **kwargs):
            raise error()
        return original(*args, **kwargs)

    monkeypatch.setattr(target, attribute, wrapper)


def put_media(sim: Any, bucket: str, keys: Iterable[str]) -> None:
    """Create ``bucket`` if needed and upload a small audio object under each key."""
    s3 = sim.client("s3")
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        s3.create_bucket(Bucket=bucket)
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"RIFF audio")


@contextmanager
def posted_evaluations() -> Iterator[list[dict[str, Any]]]:
    """Every evaluation PutEvaluations sends while the block runs (clients of boto3's default
    session). The per-resource rules post as they go and their handlers answer [] (keeping every
    evaluation to return it would make memory grow with the number of jobs)."""
    import boto3
    posted: list[dict[str, Any]] = []
    events = boto3._get_default_session().events
    handler_id = f"posted-evaluations-{uuid.uuid4()}"

    def capture(params: dict[str, Any], **_: Any) -> None:
        posted.extend(dict(e) for e in params.get("Evaluations", []))

    events.register("before-parameter-build.config-service.PutEvaluations", capture, unique_id=handler_id)
    try:
        yield posted
    finally:
        events.unregister("before-parameter-build.config-service.PutEvaluations", unique_id=handler_id)


def run_handler(handler: Callable[[dict[str, Any], Any], Any], event: dict[str, Any],
                context: Any = None) -> tuple[Any, list[dict[str, Any]]]:
    """The handler's answer and the evaluations it posted."""
    with posted_evaluations() as posted:
        response = handler(event, context)
    return response, posted


def rejected_parameters(handler: Callable[[dict[str, Any], Any], Any], event: dict[str, Any]) -> dict[str, Any]:
    """A handler run with invalid rule parameters: the invocation fails (RuleParametersError, so
    Config shows the rule's last error and Lambda counts it) after posting one account-level
    NON_COMPLIANT result that says the parameters are invalid. Returns rdklib's error answer,
    which the exception carries (customerErrorCode, customerErrorMessage naming the parameter)."""
    import pytest

    from rules.engine.base import RuleParametersError

    with posted_evaluations() as posted:
        with pytest.raises(RuleParametersError) as raised:
            handler(event, None)
    response: dict[str, Any] = raised.value.response
    assert [(e["ComplianceResourceType"], e["ComplianceType"]) for e in posted] == \
        [("AWS::::Account", "NON_COMPLIANT")], posted
    assert posted[0]["Annotation"].startswith("Could not evaluate: invalid rule parameters: "), posted
    assert str(response["customerErrorMessage"])[:40] in posted[0]["Annotation"] + str(raised.value)
    return response
