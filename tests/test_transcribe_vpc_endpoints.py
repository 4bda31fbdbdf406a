"""transcribe-vpc-endpoints: scenarios against the simulator, endpoint policy probing, parameters,
API errors, pagination, and the Lambda handler with a real ScheduledNotification event."""

from __future__ import annotations

import json
from typing import Any

import boto3
import botocore.client
import pytest
from rdklib import ClientFactory, ComplianceType, Evaluation, InvalidParametersError

import rules.transcribe_vpc_endpoints as rule_module
from rules.transcribe_vpc_endpoints import TranscribeVpcEndpoints, lambda_handler
from tests.helpers import rejected_parameters
from tests.helpers import ACCOUNT, access_denied, deploy_rule, fail_calls, periodic_event, stored_verdicts
from transcribe_guard.simulator.ec2_endpoints import set_endpoint_state

RULE = "transcribe-vpc-endpoints"
VPC = "AWS::EC2::VPC"
SERVICE = "com.amazonaws.us-east-1.{}"
COMPLIANT_TEXT = ("VPC has available transcribe and transcribestreaming interface endpoints with private DNS and an "
                  "available s3 endpoint.")
RESTRICTIVE = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
    "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}}]}


def evaluate(parameters: dict[str, str] | None = None, rule: TranscribeVpcEndpoints | None = None) -> list[Evaluation]:
    rule = rule or TranscribeVpcEndpoints()
    return rule.evaluate_periodic({"accountId": ACCOUNT}, ClientFactory(None, assume_role_mode=False),
                                  rule.evaluate_parameters(parameters or {}))


def verdicts(evaluations: list[Evaluation]) -> dict[str, str]:
    return {e.complianceResourceId: e.complianceType for e in evaluations}


def default_vpc(sim: Any) -> str:
    return str(sim.client("ec2").describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"])


def remove_default_vpc(sim: Any) -> None:
    ec2 = sim.client("ec2")
    vpc_id = default_vpc(sim)
    for subnet in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]:
        ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    for gateway in ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])[
            "InternetGateways"]:
        ec2.detach_internet_gateway(InternetGatewayId=gateway["InternetGatewayId"], VpcId=vpc_id)
        ec2.delete_internet_gateway(InternetGatewayId=gateway["InternetGatewayId"])
    ec2.delete_vpc(VpcId=vpc_id)


def new_vpc(sim: Any, cidr: str = "10.0.0.0/16") -> tuple[str, str, str]:
    """A VPC with one subnet; returns (vpc id, subnet id, main route table id)."""
    ec2 = sim.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr.replace("0.0/16", "1.0/24"))["Subnet"]["SubnetId"]
    table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"][0]["RouteTableId"]
    return vpc_id, subnet, table


def endpoint(sim: Any, vpc: tuple[str, str, str], service: str, kind: str = "Interface", private_dns: bool = True,
             policy: Any = None) -> str:
    vpc_id, subnet, table = vpc
    kwargs: dict[str, Any] = {"VpcId": vpc_id, "ServiceName": SERVICE.format(service), "VpcEndpointType": kind}
    if kind == "Interface":
        kwargs.update(SubnetIds=[subnet], PrivateDnsEnabled=private_dns)
    else:
        kwargs["RouteTableIds"] = [table]
    if policy is not None:
        kwargs["PolicyDocument"] = policy if isinstance(policy, str) else json.dumps(policy)
    return str(sim.client("ec2").create_vpc_endpoint(**kwargs)["VpcEndpoint"]["VpcEndpointId"])


def complete_vpc(sim: Any, cidr: str = "10.0.0.0/16", s3_kind: str = "Gateway", policy: Any = None) -> tuple[str, dict[str, str]]:
    vpc = new_vpc(sim, cidr)
    ids = {service: endpoint(sim, vpc, service, policy=policy) for service in ("transcribe", "transcribestreaming")}
    ids["s3"] = endpoint(sim, vpc, "s3", kind=s3_kind, policy=policy)
    return vpc[0], ids


def non_compliant(vpc_id: str, *problems: str) -> Evaluation:
    return Evaluation(ComplianceType.NON_COMPLIANT, vpc_id, VPC, f"VPC endpoints fall short: {'; '.join(problems)}.")


def test_scenario1_no_vpcs_no_evaluations(sim: Any) -> None:
    remove_default_vpc(sim)
    assert evaluate() == []


def test_scenario2_complete_vpc_is_compliant_with_gateway_or_interface_s3(sim: Any) -> None:
    remove_default_vpc(sim)
    gateway, _ = complete_vpc(sim, "10.0.0.0/16", s3_kind="Gateway")
    interface, _ = complete_vpc(sim, "10.1.0.0/16", s3_kind="Interface")
    assert evaluate() == [Evaluation(ComplianceType.COMPLIANT, gateway, VPC, COMPLIANT_TEXT),
                          Evaluation(ComplianceType.COMPLIANT, interface, VPC, COMPLIANT_TEXT)]


def test_scenario3_missing_endpoints_are_named(sim: Any) -> None:
    vpc = new_vpc(sim)
    endpoint(sim, vpc, "transcribe")
    endpoint(sim, vpc, "sqs")  # another service's endpoint does not count
    assert evaluate() == [
        non_compliant(default_vpc(sim), "no available interface endpoint for transcribe, transcribestreaming",
                      "no available endpoint for s3"),
        non_compliant(vpc[0], "no available interface endpoint for transcribestreaming", "no available endpoint for s3"),
    ]


def test_scenario4_private_dns_disabled_is_non_compliant(sim: Any) -> None:
    remove_default_vpc(sim)
    vpc = new_vpc(sim)
    endpoint(sim, vpc, "transcribe")
    endpoint(sim, vpc, "transcribestreaming", private_dns=False)
    endpoint(sim, vpc, "s3", kind="Gateway")
    assert evaluate() == [non_compliant(vpc[0], "private DNS disabled for transcribestreaming")]


@pytest.mark.parametrize("state", ["pending", "pendingAcceptance", "deleting", "deleted", "rejected", "failed",
                                   "expired", "partial"])
def test_scenario5_only_available_endpoints_count(sim: Any, state: str) -> None:
    remove_default_vpc(sim)
    vpc_id, ids = complete_vpc(sim)
    set_endpoint_state(ids["transcribe"], state)
    assert evaluate() == [non_compliant(vpc_id, "no available interface endpoint for transcribe")]


def test_scenario5_deleted_endpoint_through_the_api(sim: Any) -> None:
    remove_default_vpc(sim)
    vpc_id, ids = complete_vpc(sim)
    sim.client("ec2").delete_vpc_endpoints(VpcEndpointIds=[ids["s3"]])
    assert evaluate() == [non_compliant(vpc_id, "no available endpoint for s3")]


def test_scenario6_full_access_policies_fail_only_when_required(sim: Any) -> None:
    remove_default_vpc(sim)
    open_vpc, _ = complete_vpc(sim, "10.0.0.0/16")  # moto's default policy: full access
    closed_vpc, _ = complete_vpc(sim, "10.1.0.0/16", policy=RESTRICTIVE)
    assert verdicts(evaluate()) == {open_vpc: ComplianceType.COMPLIANT, closed_vpc: ComplianceType.COMPLIANT}
    assert evaluate({"RequireRestrictiveEndpointPolicy": "true"}) == [
        non_compliant(open_vpc, "full-access endpoint policy on transcribe, transcribestreaming, s3"),
        Evaluation(ComplianceType.COMPLIANT, closed_vpc, VPC, COMPLIANT_TEXT[:-1] + " and restrictive policies."),
    ]


def test_scenario6_one_full_access_endpoint_among_restrictive_ones_fails(sim: Any) -> None:
    remove_default_vpc(sim)
    vpc = new_vpc(sim)
    for service in ("transcribe", "transcribestreaming"):
        endpoint(sim, vpc, service, policy=RESTRICTIVE)
    endpoint(sim, vpc, "s3", kind="Gateway", policy=RESTRICTIVE)
    endpoint(sim, vpc, "s3", kind="Interface", private_dns=False, policy="this is not JSON")
    assert evaluate({"RequireRestrictiveEndpointPolicy": "true"}) == [
        non_compliant(vpc[0], "full-access endpoint policy on s3")]


def test_scenarios4_and_6_problems_combine_in_one_short_sentence(sim: Any) -> None:
    remove_default_vpc(sim)
    vpc = new_vpc(sim)
    endpoint(sim, vpc, "transcribe", private_dns=False)
    endpoint(sim, vpc, "transcribestreaming", private_dns=False)
    endpoint(sim, vpc, "s3", kind="Interface", private_dns=False)  # S3 needs no private DNS
    [result] = evaluate({"RequireRestrictiveEndpointPolicy": "true"})
    assert result == non_compliant(vpc[0], "private DNS disabled for transcribe, transcribestreaming",
                                   "full-access endpoint policy on transcribe, transcribestreaming, s3")
    assert len(result.annotation) < 256 and result.annotation.count(".") == 1


ANY = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}


@pytest.mark.parametrize("service, policy, full", [
    pytest.param("transcribe", {"Statement": [ANY]}, True, id="everything"),
    pytest.param("transcribe", {"Statement": {**ANY, "Action": "transcribe:*"}}, True, id="all-transcribe-actions"),
    pytest.param("transcribe", {"Statement": [{**ANY, "Principal": {"AWS": "*"}}]}, True, id="aws-star-principal"),
    pytest.param("transcribe", {"Statement": [{**ANY, "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]}, False,
                 id="own-account-principal"),
    pytest.param("transcribe", {"Statement": [{**ANY, "Resource": f"arn:aws:transcribe:us-east-1:{ACCOUNT}:*"}]}, False,
                 id="own-resources"),
    pytest.param("transcribe", {"Statement": [{**ANY, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}}]},
                 False, id="org-condition"),
    pytest.param("transcribe", {"Statement": [ANY, {**ANY, "Effect": "Deny", "Action": "transcribe:Start*"}]}, False,
                 id="deny-wins"),
    pytest.param("transcribe", {"Statement": [{**ANY, "Action": "s3:*"}]}, False, id="other-service-only"),
    pytest.param("transcribestreaming", {"Statement": [{**ANY, "Action": "transcribe:StartStream*"}]}, True,
                 id="streaming-any"),
    pytest.param("s3", {"Statement": [{**ANY, "Action": "s3:GetObject",
                                       "Resource": "arn:aws:s3:::acme-*/*"}]}, False, id="s3-own-buckets"),
    pytest.param("s3", {"Statement": [{**ANY, "Action": ["s3:Get*", "s3:Put*"]}]}, True, id="s3-any-bucket"),
    pytest.param("s3", None, True, id="no-policy"),
    pytest.param("s3", '{"Statement": ', True, id="unreadable"),
    pytest.param("s3", {"Statement": "not a statement"}, True, id="malformed"),
])
def test_scenario6_full_access_probe(service: str, policy: Any, full: bool) -> None:
    ctx = type("Ctx", (), {"account_id": ACCOUNT, "partition": "aws", "region": "us-east-1"})()
    required = next(r for r in rule_module.REQUIRED if r.service == service)
    document = policy if policy is None or isinstance(policy, str) else json.dumps(policy)
    assert rule_module.full_access(ctx, required, {"PolicyDocument": document}) is full  # type: ignore[arg-type]


def test_scenario7_vpc_ids_limit_the_scope_and_unknown_ids_fail(sim: Any) -> None:
    chosen, _ = complete_vpc(sim, "10.0.0.0/16")
    complete_vpc(sim, "10.1.0.0/16")
    result = evaluate({"VpcIds": f"{chosen}, vpc-0123456789abcdef0, {default_vpc(sim)}"})
    assert result == [
        non_compliant(default_vpc(sim), "no available interface endpoint for transcribe, transcribestreaming",
                      "no available endpoint for s3"),
        Evaluation(ComplianceType.COMPLIANT, chosen, VPC, COMPLIANT_TEXT),
        Evaluation(ComplianceType.NON_COMPLIANT, "vpc-0123456789abcdef0", VPC,
                   "VPC listed in VpcIds does not exist in us-east-1."),
    ]


def test_scenario8_access_denied_on_one_vpc_only(sim: Any, monkeypatch: Any) -> None:
    remove_default_vpc(sim)
    good, _ = complete_vpc(sim, "10.0.0.0/16")
    denied, _ = complete_vpc(sim, "10.1.0.0/16")
    fail_calls(monkeypatch, botocore.client.BaseClient, "_make_api_call",
               lambda self, op, params: op == "DescribeVpcEndpoints" and params["Filters"][0]["Values"] == [denied],
               lambda: access_denied("DescribeVpcEndpoints"))
    assert evaluate() == [
        Evaluation(ComplianceType.COMPLIANT, good, VPC, COMPLIANT_TEXT),
        Evaluation(ComplianceType.NON_COMPLIANT, denied, VPC,
                   "Could not evaluate: AccessDeniedException when reading the VPC's endpoints."),
    ]


def test_scenario9_listing_failure_reports_the_account_and_keeps_earlier_results(sim: Any, monkeypatch: Any) -> None:
    fail_calls(monkeypatch, botocore.client.BaseClient, "_make_api_call",
               lambda self, op, params: op == "DescribeVpcs", lambda: access_denied("DescribeVpcs"))
    rule = TranscribeVpcEndpoints()
    assert evaluate(rule=rule) == [Evaluation(
        ComplianceType.NON_COMPLIANT, ACCOUNT, "AWS::::Account",
        "Could not evaluate: AccessDeniedException when listing VPCs; earlier results are kept until a run can list "
        "them.")]
    assert rule.delete_old_evaluations_on_scheduled_notification is False
    monkeypatch.undo()
    evaluate(rule=rule)
    assert rule.delete_old_evaluations_on_scheduled_notification is True


def test_pagination_reads_every_page_of_vpcs_and_endpoints(sim: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(rule_module, "PAGE_SIZE", 5)
    remove_default_vpc(sim)
    vpc = new_vpc(sim, "10.0.0.0/16")
    complete = vpc[0]
    for service in ("transcribe", "transcribestreaming", "s3"):  # three rejected endpoints first
        set_endpoint_state(endpoint(sim, vpc, service, private_dns=False), "rejected")
    for service in ("transcribe", "transcribestreaming", "s3"):  # then the available ones
        endpoint(sim, vpc, service)
    others = [new_vpc(sim, f"10.{index}.0.0/16")[0] for index in range(1, 11)]
    calls: dict[str, int] = {"DescribeVpcs": 0, "DescribeVpcEndpoints": 0}
    events = boto3._get_default_session().events

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    for operation in calls:
        events.register(f"before-call.ec2.{operation}", count, unique_id=f"count-{operation}")
    try:
        result = verdicts(evaluate())
    finally:
        for operation in calls:
            events.unregister(f"before-call.ec2.{operation}", unique_id=f"count-{operation}")
    assert len(result) == 11
    assert result[complete] == ComplianceType.COMPLIANT  # its available s3 endpoint is on the second page
    assert all(result[other] == ComplianceType.NON_COMPLIANT for other in others)
    assert calls["DescribeVpcs"] == 3  # 11 VPCs in pages of 5
    assert calls["DescribeVpcEndpoints"] == 11 + 1  # one call per VPC, two pages for the 6 endpoints of one


@pytest.mark.parametrize("parameters, message", [
    ({"VpcIds": "vpc-123"}, "Parameter VpcIds has an invalid value: each entry must be a VPC id"),
    ({"VpcIds": "subnet-0123456789abcdef0"}, "Parameter VpcIds has an invalid value"),
    ({"RequireRestrictiveEndpointPolicy": "yes"}, "Parameter RequireRestrictiveEndpointPolicy must be true or false"),
    ({"RequireRestrictivePolicy": "true"}, "Unknown parameter RequireRestrictivePolicy"),
    ({"VpcIds": ["vpc-0123456789abcdef0"]}, "Parameter VpcIds must be a string"),
])
def test_bad_parameters_name_the_parameter(parameters: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParametersError, match=message):
        TranscribeVpcEndpoints().evaluate_parameters(parameters)


def test_lambda_handler_rejects_bad_parameters_with_invalid_parameter_value(sim: Any) -> None:
    deploy_rule(sim, RULE)
    response = rejected_parameters(lambda_handler, periodic_event(RULE, {"RequireRestrictiveEndpointPolicy": "maybe"}))
    assert response["customerErrorCode"] == "InvalidParameterValueException"
    assert "RequireRestrictiveEndpointPolicy" in response["customerErrorMessage"]


def test_lambda_handler_stores_verdicts_per_vpc(sim: Any) -> None:
    deploy_rule(sim, RULE)
    complete, _ = complete_vpc(sim)
    lambda_handler(periodic_event(RULE), None)
    assert stored_verdicts(sim, RULE) == {complete: ComplianceType.COMPLIANT,
                                          default_vpc(sim): ComplianceType.NON_COMPLIANT}
    lambda_handler(periodic_event(RULE, {"RequireRestrictiveEndpointPolicy": "true", "VpcIds": complete}), None)
    assert stored_verdicts(sim, RULE) == {complete: ComplianceType.NON_COMPLIANT,
                                          default_vpc(sim): ComplianceType.NOT_APPLICABLE}  # out of scope now
