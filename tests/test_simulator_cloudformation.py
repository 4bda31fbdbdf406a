"""The simulator's CloudFormation updates a stack whose template holds a resource under a false
condition, as CloudFormation does (moto 5.2.5 alone fails any such update): the resource stays
absent while its condition is false and is created when it turns true."""

from __future__ import annotations

import copy
import json
from typing import Any, Iterator

import pytest

from transcribe_guard.simulator import Simulator

TEMPLATE = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Parameters": {"Version": {"Type": "String"}, "Organization": {"Type": "String", "Default": ""}},
    "Conditions": {"InOrganization": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Organization"}, ""]}]}},
    "Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {
            "RoleName": "cfn-condition-role",
            "Description": {"Fn::Sub": "version ${Version}"},
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}},
        "OrganizationPolicy": {"Type": "AWS::IAM::Policy", "Condition": "InOrganization", "Properties": {
            "PolicyName": "organization-only",
            "Roles": [{"Ref": "Role"}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}}},
    },
}


@pytest.fixture
def stack() -> Iterator[Simulator]:
    with Simulator(seed="empty") as sim:
        cloudformation = sim.client("cloudformation")
        cloudformation.create_stack(StackName="conditions", TemplateBody=json.dumps(TEMPLATE),
                                    Parameters=[{"ParameterKey": "Version", "ParameterValue": "1"}],
                                    Capabilities=["CAPABILITY_NAMED_IAM"])
        yield sim


def _changed_template() -> dict[str, Any]:
    """The template with the conditional policy's own properties changed (moto updates a resource only
    when its template text changed)."""
    template = copy.deepcopy(TEMPLATE)
    template["Resources"]["OrganizationPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]["Action"] = "sts:TagSession"
    return template


def _update(sim: Simulator, **parameters: str) -> str:
    cloudformation = sim.client("cloudformation")
    cloudformation.update_stack(StackName="conditions", TemplateBody=json.dumps(_changed_template()),
                                Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
                                Capabilities=["CAPABILITY_NAMED_IAM"])
    return str(cloudformation.describe_stacks(StackName="conditions")["Stacks"][0]["StackStatus"])


def _inline_policies(sim: Simulator) -> list[str]:
    return list(sim.client("iam").list_role_policies(RoleName="cfn-condition-role")["PolicyNames"])


def test_an_update_leaves_a_resource_under_a_false_condition_absent(stack: Simulator) -> None:
    assert _inline_policies(stack) == []
    assert _update(stack, Version="2") == "UPDATE_COMPLETE"
    assert _inline_policies(stack) == []


def test_an_update_creates_a_resource_whose_condition_turned_true(stack: Simulator) -> None:
    assert _update(stack, Version="2", Organization="o-exampleorgid") == "UPDATE_COMPLETE"
    assert _inline_policies(stack) == ["organization-only"]


def test_a_template_body_over_51200_bytes_is_refused_as_cloudformation_does(sim: Any) -> None:
    """CreateStack's TemplateBody is at most 51,200 bytes (CloudFormation API reference); larger
    templates go by TemplateURL, which is how `deploy` sends the functions template."""
    from botocore.exceptions import ClientError

    from transcribe_guard.generate import _template_yaml
    from transcribe_guard.templates import functions_template

    body = _template_yaml(functions_template())
    assert len(body.encode()) > 51_200  # why deploy uploads it
    cloudformation = sim.client("cloudformation")
    with pytest.raises(ClientError, match="51200"):
        cloudformation.create_stack(StackName="too-big", TemplateBody=body, Capabilities=["CAPABILITY_NAMED_IAM"])
