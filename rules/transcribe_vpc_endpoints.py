"""transcribe-vpc-endpoints

Identifier: TRANSCRIBE_VPC_ENDPOINTS
Description: Every VPC in scope reaches Amazon Transcribe, Transcribe streaming and Amazon S3
    through VPC endpoints: interface endpoints with private DNS for com.amazonaws.<region>.transcribe
    and com.amazonaws.<region>.transcribestreaming, and a gateway or interface endpoint for
    com.amazonaws.<region>.s3; optionally none of them with a full-access endpoint policy.
Rationale: Without the endpoints, audio, transcripts and the S3 objects Transcribe reads and
    writes leave the VPC for public service endpoints; without private DNS, SDK calls to the
    standard endpoint names bypass an interface endpoint; a full-access endpoint policy lets the
    VPC reach any account's resources through it (AWS security practice 2, infrastructure).
Severity: Medium
Trigger: Periodic
Reports on: AWS::EC2::VPC, each VPC in scope by VPC id
Parameters:
    VpcIds (optional): comma-separated VPC ids to evaluate; default every VPC in the Region.
    RequireRestrictiveEndpointPolicy (optional): true to fail full-access endpoint policies
        (default false).

Scenarios:
    1. Given no VpcIds and no VPCs in the Region, then no evaluations are returned.
    2. Given a VPC with available interface endpoints for transcribe and transcribestreaming, both
       with private DNS enabled, and an available S3 endpoint (gateway or interface), then
       COMPLIANT.
    3. Given a VPC without an available endpoint of the required type for one of the three
       services, then NON_COMPLIANT naming each such service.
    4. Given a transcribe or transcribestreaming interface endpoint with private DNS disabled,
       then NON_COMPLIANT: calls to the service's standard endpoint name would not use it.
    5. Given endpoints that are not in state available (pending, pendingAcceptance, deleting,
       deleted, rejected, failed, expired, partial), then they do not count, as in scenario 3.
    6. Given RequireRestrictiveEndpointPolicy=true and an available endpoint of the three whose
       policy would allow a principal of another account the service's action on another
       account's resource with no condition met (a full-access policy; a missing or unreadable
       policy counts as one), then NON_COMPLIANT; with restrictive policies, scenario 2 applies.
    7. Given VpcIds, then only those VPCs are evaluated, and an id that does not exist in the
       Region is NON_COMPLIANT.
    8. Given a VPC whose endpoints cannot be read (e.g. AccessDenied), then that VPC is
       NON_COMPLIANT with an annotation starting "Could not evaluate:", and the other VPCs are
       evaluated normally.
    9. Given the VPCs cannot be listed, then the account is NON_COMPLIANT with an annotation
       starting "Could not evaluate:", and earlier results are kept until a run can list them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from botocore.exceptions import ClientError
from rdklib import ComplianceType, Evaluation

from rules.engine.base import Evaluator, ACCOUNT_RESOURCE_TYPE, RunContext, TranscribeGuardRule
from rules.policy.evaluation import Decision, PolicyError, Request, evaluate
from rules.inventory.transcribe import error_code

VPC_RESOURCE_TYPE = "AWS::EC2::VPC"
PAGE_SIZE = 100  # DescribeVpcs accepts 5-1000, DescribeVpcEndpoints up to 1000

METADATA: dict[str, Any] = {
    "name": "transcribe-vpc-endpoints",
    "order": 9,
    "title": "VPCs reach Transcribe and S3 through VPC endpoints",
    "description": "Each VPC in scope has available interface endpoints with private DNS for Transcribe and "
                   "Transcribe streaming and an available S3 endpoint; optionally none with a full-access "
                   "endpoint policy.",
    "rationale": "Without the endpoints, audio and transcripts travel to public service endpoints; without private "
                 "DNS, SDK calls bypass an interface endpoint; a full-access endpoint policy lets the VPC reach any "
                 "account's resources through it.",
    "practice": 2,
    "severity": "medium",
    "trigger": {"type": "periodic", "frequency": "TwentyFour_Hours"},
    "resource_kinds": [VPC_RESOURCE_TYPE],
    "reports": "Each VPC in scope by VPC id as AWS::EC2::VPC (the account as AWS::::Account when VPCs cannot be "
               "listed).",
    "not_applicable": "Never: a VPC in scope is COMPLIANT or NON_COMPLIANT; a Region without VPCs has no results.",
    "parameters": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "VpcIds": {
                "type": "string",
                "x-type": "list",
                "maxLength": 1024,
                "pattern": r"vpc-[0-9a-f]{8}(?:[0-9a-f]{9})?",
                "x-pattern-hint": "each entry must be a VPC id such as vpc-0123456789abcdef0",
                "description": "Comma-separated VPC ids to evaluate. Empty: every VPC in the Region.",
            },
            "RequireRestrictiveEndpointPolicy": {
                "type": "string",
                "x-type": "boolean",
                "default": "false",
                "description": "true: an endpoint whose policy allows any principal any action on any resource "
                               "(full access) is NON_COMPLIANT.",
            },
        },
    },
    "iam_actions": ["ec2:DescribeVpcs", "ec2:DescribeVpcEndpoints"],
    "remediation": "Create interface endpoints for com.amazonaws.<region>.transcribe and "
                   "com.amazonaws.<region>.transcribestreaming with private DNS enabled and a gateway endpoint for "
                   "com.amazonaws.<region>.s3 in each VPC that calls Transcribe (aws ec2 create-vpc-endpoint); give "
                   "them policies limited to your accounts' principals and resources (aws ec2 modify-vpc-endpoint "
                   "--policy-document).",
}


@dataclass(frozen=True)
class RequiredEndpoint:
    """One service a VPC needs an endpoint for, and the request that probes its policy."""

    service: str  # the last part of com.amazonaws.<region>.<service>
    interface_only: bool
    private_dns: bool
    probe_action: str
    probe_resource: str  # format fields: partition, region, account

    def service_name(self, region: str) -> str:
        return f"com.amazonaws.{region}.{self.service}"


REQUIRED = (
    RequiredEndpoint("transcribe", True, True, "transcribe:StartTranscriptionJob",
                     "arn:{partition}:transcribe:{region}:{account}:transcription-job/probe"),
    RequiredEndpoint("transcribestreaming", True, True, "transcribe:StartStreamTranscription", "*"),
    RequiredEndpoint("s3", False, False, "s3:GetObject", "arn:{partition}:s3:::probe-bucket-{account}/probe"),
)


def other_account(account_id: str) -> str:
    """An account id that is not ``account_id``: the probe's principal and resource owner."""
    return "111122223333" if account_id != "111122223333" else "444455556666"


def full_access(ctx: RunContext, required: RequiredEndpoint, endpoint: Mapping[str, Any]) -> bool:
    """Whether the endpoint's policy lets another account's principal call the service on another
    account's resource without meeting any condition. No policy means the default full access;
    a policy that cannot be read is treated the same (fail closed)."""
    document = endpoint.get("PolicyDocument")
    if not document:
        return True
    other = other_account(ctx.account_id)
    request = Request(
        action=required.probe_action,
        resource=required.probe_resource.format(partition=ctx.partition, region=ctx.region, account=other),
        principal=f"arn:{ctx.partition}:iam::{other}:role/probe",
    )
    try:
        return evaluate(document, request) is Decision.ALLOW
    except PolicyError:
        return True


def endpoint_problems(ctx: RunContext, endpoints: list[Mapping[str, Any]], restrictive: bool) -> list[str]:
    """What the VPC's endpoints lack, one phrase per kind of problem naming the services it
    affects (so the annotation stays short); empty when compliant."""
    problems: dict[str, list[str]] = {}
    for required in REQUIRED:
        name = required.service_name(ctx.region)
        usable = [e for e in endpoints
                  if e.get("ServiceName") == name
                  and str(e.get("State", "")).lower() == "available"  # Scenario 5 (EC2 sends lower case)
                  and (not required.interface_only or str(e.get("VpcEndpointType", "")).lower() == "interface")]
        if not usable:  # Scenarios 3, 5
            kind = "interface endpoint" if required.interface_only else "endpoint"
            problems.setdefault(f"no available {kind} for", []).append(required.service)
            continue
        if required.private_dns and not any(e.get("PrivateDnsEnabled") is True for e in usable):  # Scenario 4
            problems.setdefault("private DNS disabled for", []).append(required.service)
        if restrictive and any(full_access(ctx, required, e) for e in usable):  # Scenario 6
            problems.setdefault("full-access endpoint policy on", []).append(required.service)
    return [f"{problem} {', '.join(services)}" for problem, services in problems.items()]


class TranscribeVpcEndpoints(TranscribeGuardRule):
    METADATA = METADATA

    def evaluate_periodic(self, event: Mapping[str, Any], client_factory: Any,
                          valid_rule_parameters: Mapping[str, Any]) -> list[Evaluation]:
        self._listed = True
        evaluations = super().evaluate_periodic(event, client_factory, valid_rule_parameters)
        if not self._listed:  # Scenario 9: without the list, earlier results stay
            self.delete_old_evaluations_on_scheduled_notification = False
        return evaluations

    def evaluate(self, ctx: RunContext, params: Mapping[str, Any]) -> Iterable[Evaluation]:
        ec2 = ctx.client("ec2")
        wanted: list[str] = params["VpcIds"]
        restrictive: bool = params["RequireRestrictiveEndpointPolicy"]
        try:
            vpc_ids = self._list_vpcs(ec2, wanted)
        except ClientError as error:  # Scenario 9
            self._listed = False
            yield self.result(ctx, ComplianceType.NON_COMPLIANT, ctx.account_id,
                              f"Could not evaluate: {error_code(error)} when listing VPCs; earlier results are kept "
                              "until a run can list them.", resource_type=ACCOUNT_RESOURCE_TYPE)
            return
        for vpc_id in vpc_ids:  # Scenario 1: nothing listed, nothing yielded
            yield self._evaluate_vpc(ctx, ec2, vpc_id, restrictive)
        for vpc_id in wanted:
            if vpc_id not in vpc_ids:  # Scenario 7
                yield self.result(ctx, ComplianceType.NON_COMPLIANT, vpc_id,
                                  f"VPC listed in VpcIds does not exist in {ctx.region}.", resource_type=VPC_RESOURCE_TYPE)

    @staticmethod
    def _list_vpcs(ec2: Any, wanted: list[str]) -> list[str]:
        kwargs: dict[str, Any] = {"PaginationConfig": {"PageSize": PAGE_SIZE}}
        if wanted:  # a filter, not VpcIds: an unknown id must not fail the whole call
            kwargs["Filters"] = [{"Name": "vpc-id", "Values": wanted}]
        vpc_ids: list[str] = []
        for page in ec2.get_paginator("describe_vpcs").paginate(**kwargs):
            vpc_ids.extend(vpc["VpcId"] for vpc in page.get("Vpcs", []))
        return list(dict.fromkeys(vpc_ids))

    def _evaluate_vpc(self, ctx: RunContext, ec2: Any, vpc_id: str, restrictive: bool) -> Evaluation:
        filters = [{"Name": "vpc-id", "Values": [vpc_id]},
                   {"Name": "service-name", "Values": [r.service_name(ctx.region) for r in REQUIRED]}]
        try:
            endpoints: list[Mapping[str, Any]] = []
            for page in ec2.get_paginator("describe_vpc_endpoints").paginate(
                    Filters=filters, PaginationConfig={"PageSize": PAGE_SIZE}):
                endpoints.extend(page.get("VpcEndpoints", []))
        except ClientError as error:  # Scenario 8
            return self.could_not_evaluate(ctx, vpc_id, error, "the VPC's endpoints", resource_type=VPC_RESOURCE_TYPE)
        problems = endpoint_problems(ctx, endpoints, restrictive)
        if problems:  # Scenarios 3-6
            return self.result(ctx, ComplianceType.NON_COMPLIANT, vpc_id,
                               f"VPC endpoints fall short: {'; '.join(problems)}.", resource_type=VPC_RESOURCE_TYPE)
        policies = " and restrictive policies" if restrictive else ""
        return self.result(ctx, ComplianceType.COMPLIANT, vpc_id,  # Scenarios 2, 6
                           "VPC has available transcribe and transcribestreaming interface endpoints with private DNS "
                           f"and an available s3 endpoint{policies}.", resource_type=VPC_RESOURCE_TYPE)


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return Evaluator(TranscribeVpcEndpoints()).handle(event, context)
