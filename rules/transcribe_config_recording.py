"""transcribe-config-recording

Identifier: TRANSCRIBE_CONFIG_RECORDING
Description: AWS Config records, in the Region, the resource types this pack evaluates: the
    customer managed configuration recorder is recording without failure, a delivery channel
    exists, and the recording group covers every required resource type.
Rationale: The pack's rules and any investigation of a Transcribe data exposure depend on Config's
    configuration history of the buckets, keys, VPC endpoints, IAM principals and trails around
    Transcribe; a stopped, failing or partial recorder leaves gaps nobody notices (AWS security
    practice 7, monitoring).
Severity: Medium
Trigger: Periodic
Reports on: AWS::::Account, the account by id (one result per Region the rule runs in)
Parameters:
    RequiredResourceTypes (optional): comma-separated resource types the recorder must record;
        default AWS::S3::Bucket, AWS::KMS::Key, AWS::EC2::VPC, AWS::EC2::VPCEndpoint,
        AWS::IAM::User, AWS::IAM::Role, AWS::IAM::Policy, AWS::CloudTrail::Trail.
    GlobalResourceTypesRegion (optional): the one Region that records the global IAM types;
        elsewhere they are not required. Default: required in every Region.

How a recording group covers a type (Config API reference, RecordingGroup and RecordingStrategy):
    - allSupported=true (strategy ALL_SUPPORTED_RESOURCE_TYPES) records every supported type
      except the global IAM types AWS::IAM::User, Group, Role and Policy, which it records only
      with includeGlobalResourceTypes=true.
    - INCLUSION_BY_RESOURCE_TYPES (or resourceTypes listed) records exactly resourceTypes, IAM
      types included when listed, whatever includeGlobalResourceTypes says.
    - EXCLUSION_BY_RESOURCE_TYPES records every supported type, the global IAM types included,
      except exclusionByResourceTypes.resourceTypes; includeGlobalResourceTypes has no effect.
    The IAM types are global: AWS recommends recording them in one Region to avoid duplicate
    configuration items, and Regions opened after February 2022 cannot record them at all. With
    GlobalResourceTypesRegion set, the rule requires them only in that Region; without it, in
    every Region it runs in (the strict default, for single-Region deployments).

Scenarios:
    1. Given no configuration recorder in the Region, then NON_COMPLIANT.
    2. Given a recorder that is not recording, then NON_COMPLIANT.
    3. Given a recorder whose last recording event failed (lastStatus Failure), then NON_COMPLIANT.
    4. Given no delivery channel, then NON_COMPLIANT.
    5. Given a recording group that leaves out required resource types, then NON_COMPLIANT naming
       them; given allSupported=true without includeGlobalResourceTypes, the IAM types are left out.
    6. Given a recorder that is recording without failure, a delivery channel, and a recording
       group covering every required type (explicitly, by allSupported with global types, or by
       exclusions that spare them), then COMPLIANT.
    7. Given GlobalResourceTypesRegion naming another Region, then the global IAM types are not
       required in this one; in the named Region they are.
    8. Given the recorder or delivery channels cannot be read (e.g. AccessDenied), then
       NON_COMPLIANT with an annotation starting "Could not evaluate:".
    9. Given several problems at once, then one NON_COMPLIANT result names them all (the first four
       missing types, then how many more).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from botocore.exceptions import ClientError
from rdklib import ComplianceType, Evaluation

from rules.engine.base import Evaluator, ACCOUNT_RESOURCE_TYPE, RunContext, TranscribeGuardRule

# The resource types this pack's rules evaluate or read.
DEFAULT_REQUIRED_TYPES = ("AWS::S3::Bucket", "AWS::KMS::Key", "AWS::EC2::VPC", "AWS::EC2::VPCEndpoint",
                          "AWS::IAM::User", "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::CloudTrail::Trail")
# includeGlobalResourceTypes is "a bundle which only applies to the global IAM resource types".
GLOBAL_IAM_TYPES = frozenset({"AWS::IAM::User", "AWS::IAM::Group", "AWS::IAM::Role", "AWS::IAM::Policy"})

ALL_SUPPORTED = "ALL_SUPPORTED_RESOURCE_TYPES"
INCLUSION = "INCLUSION_BY_RESOURCE_TYPES"
EXCLUSION = "EXCLUSION_BY_RESOURCE_TYPES"

METADATA: dict[str, Any] = {
    "name": "transcribe-config-recording",
    "order": 10,
    "title": "AWS Config records the resource types around Transcribe",
    "description": "The Config recorder is recording without failure, a delivery channel exists, and the recording "
                   "group covers the resource types this pack evaluates (S3, KMS, VPC, VPC endpoint, IAM, "
                   "CloudTrail).",
    "rationale": "The pack's rules and investigations of Transcribe data exposure rely on Config's history of the "
                 "buckets, keys, endpoints, IAM principals and trails around Transcribe; a stopped, failing or "
                 "partial recorder leaves unnoticed gaps.",
    "practice": 7,
    "severity": "medium",
    "trigger": {"type": "periodic", "frequency": "TwentyFour_Hours"},
    "resource_kinds": [ACCOUNT_RESOURCE_TYPE],
    "reports": "The account by id as AWS::::Account, once per Region the rule runs in.",
    "not_applicable": "Never: every account and Region is COMPLIANT or NON_COMPLIANT.",
    "parameters": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "RequiredResourceTypes": {
                "type": "string",
                "x-type": "list",
                "maxLength": 1024,
                "default": ",".join(DEFAULT_REQUIRED_TYPES),
                "pattern": r"AWS::[A-Za-z0-9]+::[A-Za-z0-9]+",
                "x-pattern-hint": "each entry must be a resource type such as AWS::S3::Bucket",
                "description": "Comma-separated resource types the recorder must record. Default: the types this "
                               "pack evaluates.",
            },
            "GlobalResourceTypesRegion": {
                "type": "string",
                "pattern": r"[a-z]{2}(?:-[a-z]+)+-\d",
                "x-pattern-hint": "use a Region name such as us-east-1",
                "description": "The Region that records the global IAM types; in other Regions they are not "
                               "required. Empty: required in every Region.",
            },
        },
    },
    "iam_actions": ["config:DescribeConfigurationRecorders", "config:DescribeConfigurationRecorderStatus",
                    "config:DescribeDeliveryChannels"],
    "remediation": "Create the recorder and a delivery channel (aws configservice put-configuration-recorder, "
                   "put-delivery-channel), include the required types (allSupported with includeGlobalResourceTypes "
                   "in the Region that records IAM, or list them), and start it (start-configuration-recorder).",
}


def listing(items: list[str], shown: int = 4) -> str:
    """At most ``shown`` items, then how many more: annotations stay under 256 characters."""
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more


def strategy_of(group: Mapping[str, Any]) -> str:
    strategy = (group.get("recordingStrategy") or {}).get("useOnly")
    if strategy:
        return str(strategy)
    if group.get("allSupported"):
        return ALL_SUPPORTED
    if (group.get("exclusionByResourceTypes") or {}).get("resourceTypes"):
        return EXCLUSION
    return INCLUSION


def records(group: Mapping[str, Any], resource_type: str) -> bool:
    """Whether a recording group records ``resource_type`` (see the module docstring)."""
    strategy = strategy_of(group)
    if strategy == ALL_SUPPORTED:
        return resource_type not in GLOBAL_IAM_TYPES or group.get("includeGlobalResourceTypes") is True
    if strategy == EXCLUSION:
        return resource_type not in ((group.get("exclusionByResourceTypes") or {}).get("resourceTypes") or [])
    return resource_type in (group.get("resourceTypes") or [])


def customer_managed(recorders: list[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The customer managed recorder: service-linked ones record for another service only."""
    return next((r for r in recorders if not r.get("servicePrincipal") and r.get("recordingScope") != "INTERNAL"), None)


class TranscribeConfigRecording(TranscribeGuardRule):
    METADATA = METADATA

    def evaluate(self, ctx: RunContext, params: Mapping[str, Any]) -> Iterable[Evaluation]:
        yield self._evaluate_account(ctx, params)

    def _evaluate_account(self, ctx: RunContext, params: Mapping[str, Any]) -> Evaluation:
        config = ctx.client("config")
        try:
            recorder = customer_managed(config.describe_configuration_recorders().get("ConfigurationRecorders", []))
            if recorder is None:  # Scenario 1
                return self._non_compliant(ctx, ["no configuration recorder"])
            statuses = config.describe_configuration_recorder_status().get("ConfigurationRecordersStatus", [])
            channels = config.describe_delivery_channels().get("DeliveryChannels", [])
        except ClientError as error:  # Scenario 8
            return self.could_not_evaluate(ctx, ctx.account_id, error, "the AWS Config recorder",
                                           resource_type=ACCOUNT_RESOURCE_TYPE)
        status: dict[str, Any] = next((s for s in statuses if s.get("name") == recorder.get("name")), {})
        problems: list[str] = []
        if status.get("recording") is not True:  # Scenario 2
            problems.append("recorder is not recording")
        if str(status.get("lastStatus", "")).upper() == "FAILURE":  # Scenario 3 (model: Failure; older docs: FAILURE)
            problems.append(f"last recording event failed ({str(status.get('lastErrorCode') or 'no error code')[:40]})")
        if not channels:  # Scenario 4
            problems.append("no delivery channel")
        missing = [t for t in self._required(ctx, params) if not records(recorder.get("recordingGroup") or {}, t)]
        if missing:  # Scenario 5
            problems.append(f"not recorded: {listing(missing)}")
        if problems:  # Scenario 9
            return self._non_compliant(ctx, problems)
        return self.result(ctx, ComplianceType.COMPLIANT, ctx.account_id,  # Scenarios 6, 7
                           f"AWS Config in {ctx.region} is recording {len(self._required(ctx, params))} required "
                           "resource types and has a delivery channel.", resource_type=ACCOUNT_RESOURCE_TYPE)

    @staticmethod
    def _required(ctx: RunContext, params: Mapping[str, Any]) -> list[str]:
        required: list[str] = params["RequiredResourceTypes"]
        global_region = params.get("GlobalResourceTypesRegion")
        if global_region and global_region != ctx.region:  # Scenario 7
            return [t for t in required if t not in GLOBAL_IAM_TYPES]
        return required

    def _non_compliant(self, ctx: RunContext, problems: list[str]) -> Evaluation:
        return self.result(ctx, ComplianceType.NON_COMPLIANT, ctx.account_id,
                           f"AWS Config in {ctx.region}: {'; '.join(problems)}.", resource_type=ACCOUNT_RESOURCE_TYPE)


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return Evaluator(TranscribeConfigRecording()).handle(event, context)
