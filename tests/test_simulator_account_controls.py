"""The simulator's account-control extensions, checked against botocore's models: EC2 paging and
VPC endpoint states, the Config recorder's status, and Organizations' DescribeEffectivePolicy
with management-policy inheritance."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from transcribe_guard.simulator.config_recorder import fail_recorder
from transcribe_guard.simulator.ec2_endpoints import set_endpoint_state
from transcribe_guard.simulator.organizations import merge_policies
from transcribe_guard.simulator.shapes import output_shape, validate

ACCOUNT = "123456789012"
AI = "AISERVICES_OPT_OUT_POLICY"


def checked(client: Any, service: str, method: str, allow: tuple[str, ...] = (), **kwargs: Any) -> dict[str, Any]:
    """Calls ``method`` and checks the response against botocore's output shape; ``allow`` lists
    problems known to differ between the model and the wire (see ec2_endpoints)."""
    response = getattr(client, method)(**kwargs)
    response.pop("ResponseMetadata", None)
    problems = validate(output_shape(service, client.meta.method_to_api_mapping[method]), response)
    assert [p for p in problems if not any(a in p for a in allow)] == [], problems
    return response


def assign(value: Any, **child_control: Any) -> dict[str, Any]:
    node = {"@@assign": value}
    if "allowed" in child_control:
        node["@@operators_allowed_for_child_policies"] = child_control["allowed"]
    return node


def ai_policy(**services: Any) -> dict[str, Any]:
    return {"services": {name: {"opt_out_policy": value if isinstance(value, dict) else assign(value)}
                         for name, value in services.items()}}


# --- EC2 -----------------------------------------------------------------------------------------

STATE_ENUM = "State: 'available' is not one of the model's enum values"


def test_describe_vpcs_pages_with_max_results_and_validates(sim: Any) -> None:
    ec2 = sim.client("ec2")
    for index in range(7):
        ec2.create_vpc(CidrBlock=f"10.{index}.0.0/16")
    first = checked(ec2, "ec2", "describe_vpcs", MaxResults=5)
    assert len(first["Vpcs"]) == 5 and first["NextToken"]
    second = checked(ec2, "ec2", "describe_vpcs", MaxResults=5, NextToken=first["NextToken"])
    assert len(second["Vpcs"]) == 3 and "NextToken" not in second  # 7 created + the default VPC
    everything = checked(ec2, "ec2", "describe_vpcs")
    assert len(everything["Vpcs"]) == 8 and "NextToken" not in everything
    assert {v["VpcId"] for v in first["Vpcs"] + second["Vpcs"]} == {v["VpcId"] for v in everything["Vpcs"]}


@pytest.mark.parametrize("kwargs, code", [
    ({"MaxResults": 1001}, "InvalidParameterValue"),
    ({"NextToken": "not-a-token"}, "InvalidNextToken"),
])
def test_describe_vpcs_rejects_bad_paging(sim: Any, kwargs: dict[str, Any], code: str) -> None:
    with pytest.raises(ClientError) as caught:
        sim.client("ec2").describe_vpcs(**kwargs)
    assert caught.value.response["Error"]["Code"] == code


def test_a_token_of_one_operation_is_rejected_by_the_other(sim: Any) -> None:
    ec2 = sim.client("ec2")
    for index in range(6):
        ec2.create_vpc(CidrBlock=f"10.{index}.0.0/16")
    token = ec2.describe_vpcs(MaxResults=5)["NextToken"]
    with pytest.raises(ClientError, match="InvalidNextToken"):
        ec2.describe_vpc_endpoints(NextToken=token)


def test_vpc_endpoints_page_filter_and_carry_private_dns_policy_and_state(sim: Any) -> None:
    ec2 = sim.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    policy = json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "transcribe:*", "Resource": "*"}]})
    ids = []
    for service in ("transcribe", "transcribestreaming"):
        ids.append(ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.us-east-1.{service}",
                                           VpcEndpointType="Interface", SubnetIds=[subnet], PrivateDnsEnabled=True,
                                           PolicyDocument=policy)["VpcEndpoint"]["VpcEndpointId"])
    ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.sqs", VpcEndpointType="Interface",
                            SubnetIds=[subnet])
    filters = [{"Name": "vpc-id", "Values": [vpc]},
               {"Name": "service-name", "Values": ["com.amazonaws.us-east-1.transcribe",
                                                   "com.amazonaws.us-east-1.transcribestreaming"]}]
    first = checked(ec2, "ec2", "describe_vpc_endpoints", allow=(STATE_ENUM,), Filters=filters, MaxResults=1)
    second = checked(ec2, "ec2", "describe_vpc_endpoints", allow=(STATE_ENUM,), Filters=filters, MaxResults=1,
                     NextToken=first["NextToken"])
    endpoints = first["VpcEndpoints"] + second["VpcEndpoints"]
    assert "NextToken" not in second
    assert [e["VpcEndpointId"] for e in endpoints] == ids
    assert all(e["PrivateDnsEnabled"] is True and json.loads(e["PolicyDocument"]) == json.loads(policy)
               and e["State"] == "available" for e in endpoints)

    set_endpoint_state(ids[0], "pending")
    ec2.delete_vpc_endpoints(VpcEndpointIds=[ids[1]])
    states = {e["VpcEndpointId"]: e["State"] for e in ec2.describe_vpc_endpoints(Filters=filters)["VpcEndpoints"]}
    assert states == {ids[0]: "pending", ids[1]: "deleted"}
    with pytest.raises(ValueError, match="unknown VPC endpoint state"):
        set_endpoint_state(ids[0], "Available")


def test_transcribe_endpoint_services_are_known(sim: Any) -> None:
    names = sim.client("ec2").describe_vpc_endpoint_services()["ServiceNames"]
    assert {"com.amazonaws.us-east-1.transcribe", "com.amazonaws.us-east-1.transcribestreaming",
            "com.amazonaws.us-east-1.s3"} <= set(names)


# --- Config recorder -------------------------------------------------------------------------------

def test_started_recorder_reports_success_and_failure_is_a_control(sim: Any) -> None:
    config = sim.client("config")
    config.put_configuration_recorder(ConfigurationRecorder={
        "name": "default", "roleARN": f"arn:aws:iam::{ACCOUNT}:role/config",
        "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True}})
    assert checked(config, "config", "describe_configuration_recorder_status")["ConfigurationRecordersStatus"][0][
        "recording"] is False
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "central-config-logs"})
    config.start_configuration_recorder(ConfigurationRecorderName="default")
    status = checked(config, "config", "describe_configuration_recorder_status")["ConfigurationRecordersStatus"][0]
    assert (status["recording"], status["lastStatus"]) == (True, "Success")
    fail_recorder("AccessDenied", "Config cannot assume the role.")
    status = checked(config, "config", "describe_configuration_recorder_status")["ConfigurationRecordersStatus"][0]
    assert (status["recording"], status["lastStatus"], status["lastErrorCode"]) == (True, "Failure", "AccessDenied")
    checked(config, "config", "describe_configuration_recorders")
    checked(config, "config", "describe_delivery_channels")


# --- Organizations: the merge ----------------------------------------------------------------------

def test_merge_child_assign_overrides_parent() -> None:
    root = ai_policy(default="optOut")
    account = ai_policy(transcribe="optIn", default="optIn")
    assert merge_policies([[root], [], [account]]) == {
        "services": {"default": {"opt_out_policy": "optIn"}, "transcribe": {"opt_out_policy": "optIn"}}}


def test_merge_none_locks_the_setting_and_everything_under_it() -> None:
    locked_value = ai_policy(transcribe=assign("optOut", allowed=["@@none"]))
    locked_services = {"services": {"@@operators_allowed_for_child_policies": ["@@none"],
                                    "default": {"opt_out_policy": assign("optOut")}}}
    child = ai_policy(transcribe="optIn", default="optIn")
    assert merge_policies([[locked_value], [child]])["services"] == {
        "transcribe": {"opt_out_policy": "optOut"}, "default": {"opt_out_policy": "optIn"}}
    assert merge_policies([[locked_services], [child]])["services"] == {"default": {"opt_out_policy": "optOut"}}


def test_merge_limits_from_one_level_apply_only_below_it_and_intersect() -> None:
    # Both policies sit on the root: the lock in the first does not stop the second (same level),
    # and the first attached assignment wins.
    first = ai_policy(transcribe=assign("optOut", allowed=["@@assign"]))
    second = ai_policy(transcribe=assign("optIn", allowed=["@@append"]))
    assert merge_policies([[first, second]])["services"]["transcribe"] == {"opt_out_policy": "optOut"}
    # Below the root the allowed operators intersect to none: @@assign is blocked.
    assert merge_policies([[first, second], [ai_policy(transcribe="optIn")]])["services"]["transcribe"] == {
        "opt_out_policy": "optOut"}
    # A lock from a higher level cannot be undone by a middle level.
    middle = ai_policy(transcribe=assign("optOut", allowed=["@@all"]))
    assert merge_policies([[ai_policy(transcribe=assign("optOut", allowed=["@@none"]))], [middle],
                           [ai_policy(transcribe="optIn")]])["services"]["transcribe"] == {"opt_out_policy": "optOut"}


def test_merge_ignores_append_remove_and_bare_values() -> None:
    document = {"services": {"transcribe": {"opt_out_policy": {"@@append": ["optIn"]}},
                             "lex": {"opt_out_policy": "optIn"}}}
    assert merge_policies([[document]]) == {}


# --- Organizations: DescribeEffectivePolicy ----------------------------------------------------------

@pytest.fixture
def org(sim: Any) -> dict[str, Any]:
    """An organization: root -> OU "prod" -> OU "contact-center" -> member account."""
    client = sim.client("organizations")
    client.create_organization(FeatureSet="ALL")
    root = client.list_roots()["Roots"][0]["Id"]
    prod = client.create_organizational_unit(ParentId=root, Name="prod")["OrganizationalUnit"]["Id"]
    cc = client.create_organizational_unit(ParentId=prod, Name="contact-center")["OrganizationalUnit"]["Id"]
    member = client.create_account(Email="cc@example.com", AccountName="cc")["CreateAccountStatus"]["AccountId"]
    client.move_account(AccountId=member, SourceParentId=root, DestinationParentId=cc)
    return {"client": client, "root": root, "prod": prod, "cc": cc, "member": member}


def attach(org: dict[str, Any], target: str, document: dict[str, Any], name: str) -> str:
    client = org["client"]
    policy_id = client.create_policy(Name=name, Type=AI, Description=name,
                                     Content=json.dumps(document))["Policy"]["PolicySummary"]["Id"]
    client.attach_policy(PolicyId=policy_id, TargetId=org[target] if target in org else target)
    return str(policy_id)


def effective(org: dict[str, Any], target: str) -> dict[str, Any]:
    response = checked(org["client"], "organizations", "describe_effective_policy", PolicyType=AI, TargetId=target)
    policy = response["EffectivePolicy"]
    assert (policy["TargetId"], policy["PolicyType"]) == (target, AI)
    return dict(json.loads(policy["PolicyContent"]))


def test_effective_policy_inherits_root_ou_and_account_policies(org: dict[str, Any]) -> None:
    org["client"].enable_policy_type(RootId=org["root"], PolicyType=AI)
    attach(org, "root", ai_policy(default="optOut"), "root-default-out")
    attach(org, "cc", ai_policy(transcribe="optIn"), "cc-transcribe-in")
    assert effective(org, org["member"]) == {"services": {"default": {"opt_out_policy": "optOut"},
                                                          "transcribe": {"opt_out_policy": "optIn"}}}
    # The management account is under the root only.
    assert effective(org, ACCOUNT) == {"services": {"default": {"opt_out_policy": "optOut"}}}
    attach(org, "member", ai_policy(transcribe="optOut"), "member-transcribe-out")
    assert effective(org, org["member"])["services"]["transcribe"] == {"opt_out_policy": "optOut"}


def test_effective_policy_honours_a_root_lock(org: dict[str, Any]) -> None:
    org["client"].enable_policy_type(RootId=org["root"], PolicyType=AI)
    attach(org, "root", ai_policy(default=assign("optOut", allowed=["@@none"]),
                                  transcribe=assign("optOut", allowed=["@@none"])), "locked")
    attach(org, "prod", ai_policy(transcribe="optIn"), "prod-in")
    assert effective(org, org["member"])["services"]["transcribe"] == {"opt_out_policy": "optOut"}


def test_effective_policy_not_found_when_type_disabled_or_nothing_attached(org: dict[str, Any]) -> None:
    client = org["client"]
    attach(org, "root", ai_policy(default="optOut"), "attached-while-disabled")  # moto allows it
    with pytest.raises(ClientError) as caught:
        client.describe_effective_policy(PolicyType=AI, TargetId=org["member"])
    assert caught.value.response["Error"]["Code"] == "EffectivePolicyNotFoundException"
    client.enable_policy_type(RootId=org["root"], PolicyType=AI)
    assert effective(org, org["member"]) == {"services": {"default": {"opt_out_policy": "optOut"}}}
    policy_id = client.list_policies(Filter=AI)["Policies"][0]["Id"]
    client.detach_policy(PolicyId=policy_id, TargetId=org["root"])
    with pytest.raises(ClientError, match="EffectivePolicyNotFoundException"):
        client.describe_effective_policy(PolicyType=AI, TargetId=org["member"])


@pytest.mark.parametrize("kwargs, code", [
    ({"PolicyType": AI, "TargetId": "999999999999"}, "TargetNotFoundException"),
    ({"PolicyType": AI, "TargetId": "ROOT"}, "InvalidInputException"),
    ({"PolicyType": "SERVICE_CONTROL_POLICY", "TargetId": ACCOUNT}, "InvalidInputException"),
])
def test_effective_policy_errors(org: dict[str, Any], kwargs: dict[str, Any], code: str) -> None:
    org["client"].enable_policy_type(RootId=org["root"], PolicyType=AI)
    if kwargs["TargetId"] == "ROOT":
        kwargs = {**kwargs, "TargetId": org["root"]}
    with pytest.raises(ClientError) as caught:
        org["client"].describe_effective_policy(**kwargs)
    assert caught.value.response["Error"]["Code"] == code


def test_outside_an_organization(sim: Any) -> None:
    with pytest.raises(ClientError) as caught:
        sim.client("organizations").describe_effective_policy(PolicyType=AI, TargetId=ACCOUNT)
    assert caught.value.response["Error"]["Code"] == "AWSOrganizationsNotInUseException"


def test_a_member_account_sees_its_own_effective_policy_only(org: dict[str, Any]) -> None:
    org["client"].enable_policy_type(RootId=org["root"], PolicyType=AI)
    attach(org, "root", ai_policy(default="optOut"), "root-default-out")
    credentials = boto3.client("sts", region_name="us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{org['member']}:role/OrganizationAccountAccessRole", RoleSessionName="audit")["Credentials"]
    member = boto3.client("organizations", region_name="us-east-1", aws_access_key_id=credentials["AccessKeyId"],
                          aws_secret_access_key=credentials["SecretAccessKey"],
                          aws_session_token=credentials["SessionToken"])
    own = checked(member, "organizations", "describe_effective_policy", PolicyType=AI)
    assert own["EffectivePolicy"]["TargetId"] == org["member"]
    with pytest.raises(ClientError, match="AccessDeniedException"):
        member.describe_effective_policy(PolicyType=AI, TargetId=ACCOUNT)
