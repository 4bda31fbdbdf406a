"""Least privilege, proven: every AWS call each rule makes is recorded (a botocore event hook)
and mapped to its IAM action; the observed actions must equal the rule's declared iam_actions,
none missing and none unused."""

from __future__ import annotations

from typing import Any

import pytest

from rules.catalog.registry import RULES
from transcribe_guard.iam_actions import iam_action, recording
from transcribe_guard.rule_checks import observed_actions
from transcribe_guard.simulator import Simulator
from transcribe_guard.simulator.shapes import service_model

# Parameter sets that together take every code path that calls AWS on the demo account.
EXERCISE: dict[str, list[dict[str, str]]] = {
    "transcribe-job-output-location": [{}, {"AllowedOutputBuckets": "acme-cc-transcripts"}],
    "transcribe-resource-tagged": [{"RequiredTags": "DataClassification=confidential|restricted,CostCenter"}],
    **{name: [{"BucketTagKey": "DataClassification=confidential"}] for name in (  # ListBuckets + GetBucketTagging
        "transcribe-bucket-encrypted", "transcribe-bucket-tls-enforced", "transcribe-bucket-public-access-blocked",
        "transcribe-kms-key-protected")},
}


@pytest.mark.parametrize("name", sorted(RULES))
def test_observed_actions_equal_declared_actions(name: str) -> None:
    from transcribe_guard.templates import PACING_ACTIONS

    declared = set(RULES[name].METADATA["iam_actions"])
    # Pacing's Service Quotas read is engine plumbing, granted to every function (templates.py).
    observed = observed_actions(RULES[name], EXERCISE.get(name, [{}])) - set(PACING_ACTIONS)
    assert observed - declared == set(), "undeclared actions"
    assert declared - observed == set(), "declared but never used on the demo account"


def test_a_rule_that_calls_an_undeclared_action_is_caught() -> None:
    base = RULES["transcribe-job-output-location"]

    class Broken(base):  # type: ignore[misc, valid-type]
        def evaluate(self, ctx: Any, params: Any) -> Any:
            ctx.client("s3").list_buckets()
            return super().evaluate(ctx, params)

    observed = observed_actions(Broken, EXERCISE["transcribe-job-output-location"])
    assert observed - set(base.METADATA["iam_actions"]) == {"s3:ListAllMyBuckets"}


@pytest.mark.parametrize("service, operation, action", [
    ("transcribe", "GetTranscriptionJob", "transcribe:GetTranscriptionJob"),
    ("s3", "HeadObject", "s3:GetObject"),
    ("s3", "GetBucketEncryption", "s3:GetEncryptionConfiguration"),
    ("s3", "GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock"),
    ("s3control", "GetPublicAccessBlock", "s3:GetAccountPublicAccessBlock"),
    ("config", "PutEvaluations", "config:PutEvaluations"),
    ("cloudwatch", "DescribeAlarms", "cloudwatch:DescribeAlarms"),
    ("kms", "DescribeKey", "kms:DescribeKey"),
])
def test_operation_to_iam_action_mapping(service: str, operation: str, action: str) -> None:
    assert iam_action(service_model(service), operation) == action


def test_function_runs_call_only_declared_actions_plus_the_run_plumbing() -> None:
    """As deployed, a rule also posts results, keeps a checkpoint and, for the per-resource rules,
    reads the CloudTrail event history: exactly the actions the functions' role adds to the
    declared ones (templates.py). Two runs a day apart: the first in full, the second incremental."""
    import datetime as dt

    from rules.engine.incremental import ResourceRule
    from rules.catalog.registry import module_name
    from tests.helpers import deploy_rule, periodic_event
    from transcribe_guard.simulator import clock
    from transcribe_guard.templates import INCREMENTAL_ACTIONS, PACING_ACTIONS, RDKLIB_ACTIONS
    plumbing = (set(RDKLIB_ACTIONS) | set(INCREMENTAL_ACTIONS) | set(PACING_ACTIONS)
                | {"ssm:GetParameter", "ssm:PutParameter"})
    for name in sorted(RULES):
        import importlib
        handler = importlib.import_module(f"rules.{module_name(name)}").lambda_handler
        parameters = (EXERCISE.get(name) or [{}])[0]
        with Simulator(seed="demo") as sim:
            deploy_rule(sim, name)
            with recording() as recorder:
                for _ in range(2):
                    assert isinstance(handler(periodic_event(name, parameters), None), list)
                    clock.advance(dt.timedelta(days=1))
        declared = set(RULES[name].METADATA["iam_actions"])
        assert recorder.actions - declared - plumbing == set(), name
        assert "config:PutEvaluations" in recorder.actions, name
        reads_jobs = "transcribe:ListTranscriptionJobs" in declared or issubclass(RULES[name], ResourceRule)
        assert ("ssm:GetParameter" in recorder.actions) == reads_jobs, name  # the checkpoint
        if issubclass(RULES[name], ResourceRule):
            assert "cloudtrail:LookupEvents" in recorder.actions, name
