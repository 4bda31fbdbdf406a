"""transcribe-config-recording: scenarios against the simulator (recorder, status, delivery
channel, the three recording strategies and global IAM types), parameters, API errors, and the
Lambda handler with a real ScheduledNotification event."""

from __future__ import annotations

from typing import Any

import botocore.client
import pytest
from rdklib import ClientFactory, ComplianceType, Evaluation, InvalidParametersError

from rules.transcribe_config_recording import (DEFAULT_REQUIRED_TYPES, TranscribeConfigRecording, customer_managed,
                                               lambda_handler, records)
from tests.helpers import rejected_parameters
from tests.helpers import ACCOUNT, access_denied, deploy_rule, fail_calls, periodic_event, stored_verdicts
from transcribe_guard.simulator.config_recorder import fail_recorder

RULE = "transcribe-config-recording"
ACCOUNT_TYPE = "AWS::::Account"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
EVERYTHING = {"allSupported": True, "includeGlobalResourceTypes": True}
COMPLIANT_TEXT = "AWS Config in us-east-1 is recording 8 required resource types and has a delivery channel."


def evaluate(parameters: dict[str, str] | None = None) -> list[Evaluation]:
    rule = TranscribeConfigRecording()
    return rule.evaluate_periodic({"accountId": ACCOUNT}, ClientFactory(None, assume_role_mode=False),
                                  rule.evaluate_parameters(parameters or {}))


def non_compliant(text: str) -> list[Evaluation]:
    return [Evaluation(ComplianceType.NON_COMPLIANT, ACCOUNT, ACCOUNT_TYPE, f"AWS Config in us-east-1: {text}.")]


def set_up(sim: Any, group: dict[str, Any] | None = None, channel: bool = True, start: bool = True) -> None:
    config = sim.client("config")
    recorder: dict[str, Any] = {"name": "default", "roleARN": ROLE}
    if group is not None:
        recorder["recordingGroup"] = group
    config.put_configuration_recorder(ConfigurationRecorder=recorder)
    if channel:
        config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "org-config-logs-210987654321"})
    if start:
        config.start_configuration_recorder(ConfigurationRecorderName="default")


def test_scenario1_no_recorder(sim: Any) -> None:
    assert evaluate() == non_compliant("no configuration recorder")


def test_scenario2_recorder_not_recording(sim: Any) -> None:
    set_up(sim, EVERYTHING, start=False)
    assert evaluate() == non_compliant("recorder is not recording")
    sim.client("config").start_configuration_recorder(ConfigurationRecorderName="default")
    sim.client("config").stop_configuration_recorder(ConfigurationRecorderName="default")
    assert evaluate() == non_compliant("recorder is not recording")


@pytest.mark.parametrize("status", ["Failure", "FAILURE"])
def test_scenario3_last_recording_event_failed(sim: Any, status: str) -> None:
    set_up(sim, EVERYTHING)
    fail_recorder("AccessDenied", status=status)
    assert evaluate() == non_compliant("last recording event failed (AccessDenied)")


def test_scenario4_and_9_no_delivery_channel_with_other_problems(sim: Any) -> None:
    # Config cannot start a recorder without a delivery channel, nor delete the channel of a
    # running recorder: a missing channel always comes with a stopped recorder.
    set_up(sim, {"allSupported": True}, channel=False, start=False)
    assert evaluate() == non_compliant("recorder is not recording; no delivery channel; not recorded: "
                                       "AWS::IAM::User, AWS::IAM::Role, AWS::IAM::Policy")


def test_scenario9_every_problem_at_once_stays_one_short_sentence(sim: Any) -> None:
    set_up(sim, {"allSupported": False, "resourceTypes": ["AWS::EC2::Instance"]}, channel=False, start=False)
    fail_recorder("InsufficientDeliveryPolicyException" * 3)  # an unusually long error code is cut
    [result] = evaluate()
    assert result == non_compliant(
        "recorder is not recording; last recording event failed (InsufficientDeliveryPolicyExceptionInsuf); "
        "no delivery channel; not recorded: AWS::S3::Bucket, AWS::KMS::Key, AWS::EC2::VPC, AWS::EC2::VPCEndpoint "
        "and 4 more")[0]
    assert len(result.annotation) < 256


@pytest.mark.parametrize("group, missing", [
    pytest.param({"allSupported": True, "includeGlobalResourceTypes": False},
                 ["AWS::IAM::User", "AWS::IAM::Role", "AWS::IAM::Policy"], id="all-supported-without-global"),
    pytest.param(None, ["AWS::IAM::User", "AWS::IAM::Role", "AWS::IAM::Policy"], id="default-group"),
    pytest.param({"allSupported": False, "resourceTypes": ["AWS::S3::Bucket", "AWS::KMS::Key", "AWS::EC2::VPC"]},
                 ["AWS::EC2::VPCEndpoint", "AWS::IAM::User", "AWS::IAM::Role", "AWS::IAM::Policy and 1 more"],
                 id="inclusion-partial"),
    pytest.param({"allSupported": False, "exclusionByResourceTypes": {"resourceTypes": ["AWS::EC2::VPCEndpoint",
                                                                                        "AWS::IAM::Role"]},
                  "recordingStrategy": {"useOnly": "EXCLUSION_BY_RESOURCE_TYPES"}},
                 ["AWS::EC2::VPCEndpoint", "AWS::IAM::Role"], id="exclusion-of-required-types"),
])
def test_scenario5_types_left_out_are_named(sim: Any, group: dict[str, Any] | None, missing: list[str]) -> None:
    set_up(sim, group)
    assert evaluate() == non_compliant(f"not recorded: {', '.join(missing)}")


@pytest.mark.parametrize("group", [
    pytest.param(EVERYTHING, id="all-supported-with-global"),
    pytest.param({"allSupported": False, "resourceTypes": list(DEFAULT_REQUIRED_TYPES) + ["AWS::Lambda::Function"],
                  "recordingStrategy": {"useOnly": "INCLUSION_BY_RESOURCE_TYPES"}}, id="inclusion-of-all"),
    pytest.param({"allSupported": False, "includeGlobalResourceTypes": False,
                  "resourceTypes": list(DEFAULT_REQUIRED_TYPES)}, id="inclusion-lists-iam-without-global-flag"),
    pytest.param({"allSupported": False, "exclusionByResourceTypes": {"resourceTypes": ["AWS::EC2::Instance"]},
                  "recordingStrategy": {"useOnly": "EXCLUSION_BY_RESOURCE_TYPES"}}, id="exclusion-records-global"),
])
def test_scenario6_recording_everything_required_is_compliant(sim: Any, group: dict[str, Any]) -> None:
    set_up(sim, group)
    assert evaluate() == [Evaluation(ComplianceType.COMPLIANT, ACCOUNT, ACCOUNT_TYPE, COMPLIANT_TEXT)]


def test_scenario7_global_types_required_only_in_the_global_region(sim: Any) -> None:
    set_up(sim, {"allSupported": True, "includeGlobalResourceTypes": False})
    assert evaluate({"GlobalResourceTypesRegion": "eu-west-1"}) == [Evaluation(
        ComplianceType.COMPLIANT, ACCOUNT, ACCOUNT_TYPE,
        "AWS Config in us-east-1 is recording 5 required resource types and has a delivery channel.")]
    assert evaluate({"GlobalResourceTypesRegion": "us-east-1"}) == non_compliant(
        "not recorded: AWS::IAM::User, AWS::IAM::Role, AWS::IAM::Policy")


def test_required_resource_types_parameter_overrides_the_list(sim: Any) -> None:
    set_up(sim, {"allSupported": False, "resourceTypes": ["AWS::S3::Bucket", "AWS::IAM::Group"]})
    assert [e.complianceType for e in evaluate({"RequiredResourceTypes": "AWS::S3::Bucket, AWS::IAM::Group"})] == [
        ComplianceType.COMPLIANT]
    assert evaluate({"RequiredResourceTypes": "AWS::S3::Bucket,AWS::SNS::Topic"}) == non_compliant(
        "not recorded: AWS::SNS::Topic")


@pytest.mark.parametrize("operation", ["DescribeConfigurationRecorders", "DescribeConfigurationRecorderStatus",
                                       "DescribeDeliveryChannels"])
def test_scenario8_access_denied_fails_closed(sim: Any, monkeypatch: Any, operation: str) -> None:
    set_up(sim, EVERYTHING)
    fail_calls(monkeypatch, botocore.client.BaseClient, "_make_api_call",
               lambda self, op, params: op == operation, lambda: access_denied(operation))
    assert evaluate() == [Evaluation(ComplianceType.NON_COMPLIANT, ACCOUNT, ACCOUNT_TYPE,
                                     "Could not evaluate: AccessDeniedException when reading the AWS Config recorder.")]


def test_service_linked_recorders_are_not_the_customer_managed_one() -> None:
    linked = {"name": "AWSConfigurationRecorderForX", "servicePrincipal": "x.amazonaws.com", "recordingScope": "INTERNAL",
              "recordingGroup": EVERYTHING}
    own = {"name": "default", "recordingGroup": {"allSupported": True}}
    assert customer_managed([linked]) is None
    assert customer_managed([linked, own]) is own


@pytest.mark.parametrize("group, resource_type, recorded", [
    ({"allSupported": True}, "AWS::IAM::Group", False),
    ({"allSupported": True, "includeGlobalResourceTypes": True}, "AWS::IAM::Group", True),
    ({"allSupported": True}, "AWS::RDS::GlobalCluster", True),  # global, but not in the IAM bundle
    ({"allSupported": False, "exclusionByResourceTypes": {"resourceTypes": ["AWS::S3::Bucket"]}}, "AWS::S3::Bucket",
     False),  # exclusions without a strategy still mean exclusion
    ({}, "AWS::S3::Bucket", False),
])
def test_recording_group_semantics(group: dict[str, Any], resource_type: str, recorded: bool) -> None:
    assert records(group, resource_type) is recorded


@pytest.mark.parametrize("parameters, message", [
    ({"RequiredResourceTypes": "S3 buckets"}, "Parameter RequiredResourceTypes has an invalid value: each entry must be a "
                                             "resource type"),
    ({"GlobalResourceTypesRegion": "US East"}, "Parameter GlobalResourceTypesRegion has an invalid value: use a Region"),
    ({"RequiredTypes": "AWS::S3::Bucket"}, "Unknown parameter RequiredTypes"),
    ({"RequiredResourceTypes": "AWS::S3::Bucket," * 80}, "Parameter RequiredResourceTypes is 1280 characters long"),
])
def test_bad_parameters_name_the_parameter(parameters: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParametersError, match=message):
        TranscribeConfigRecording().evaluate_parameters(parameters)


def test_lambda_handler_rejects_bad_parameters_with_invalid_parameter_value(sim: Any) -> None:
    deploy_rule(sim, RULE)
    response = rejected_parameters(lambda_handler, periodic_event(RULE, {"GlobalResourceTypesRegion": "mars"}))
    assert response["customerErrorCode"] == "InvalidParameterValueException"
    assert "GlobalResourceTypesRegion" in response["customerErrorMessage"]


def test_lambda_handler_stores_the_account_verdict(sim: Any) -> None:
    deploy_rule(sim, RULE)
    lambda_handler(periodic_event(RULE), None)
    assert stored_verdicts(sim, RULE) == {ACCOUNT: ComplianceType.NON_COMPLIANT}
    set_up(sim, EVERYTHING)
    lambda_handler(periodic_event(RULE), None)
    assert stored_verdicts(sim, RULE) == {ACCOUNT: ComplianceType.COMPLIANT}
