"""CloudFormation templates generated from the registry: the rule functions (deployed before the
conformance pack, which may hold only Config rules) and, for organizations, the read-only role
each member account lends to the functions."""

from __future__ import annotations

from typing import Any

from rules.catalog.registry import RULES, module_name
from rules.engine.collector import (CHANGE_EVENTS, DEFAULT_GET_SHARE, GET_SHARE_ENV, MEMBER_ROLE_ENV, ORGANIZATION_ENV,
                                    TAG_EVENTS)
from rules.engine.pack_functions import EVENT_TRIGGER, FUNCTIONS_ROLE, LEDGER_COLLECTOR, LEDGER_COLLECTOR_ROLE, MEMBER_ROLE
from rules.inventory.ledger import ARN_INDEX, TABLE_ENV
from rules.inventory.transcribe import ALL_KINDS, TAGS_ACTION, read_actions
from transcribe_guard.scan import SDK_RETRY_ENVIRONMENT  # a scan retries as the functions do

FUNCTIONS_ROLE_NAME = FUNCTIONS_ROLE
MEMBER_ROLE_NAME = MEMBER_ROLE
RUNTIME = "python3.12"

# rdklib itself posts results and, on periodic runs, reads earlier ones to retire stale results.
RDKLIB_ACTIONS = ("config:GetComplianceDetailsByConfigRule", "config:PutEvaluations")
# Incremental runs (rules/engine/incremental.py) follow tag changes and deletions in the evaluated
# account's CloudTrail event history. LookupEvents has no resource-level permissions.
INCREMENTAL_ACTIONS = ("cloudtrail:LookupEvents",)
# Pacing reads the account's applied Transcribe rate quotas once per run that calls Transcribe
# (rules/engine/service_quotas.py); without it the documented quotas apply.
PACING_ACTIONS = ("servicequotas:ListServiceQuotas",)
# ... and keep their checkpoint in the functions' own account, under this path only.
CHECKPOINT_PATH = "transcribe-guard/checkpoints"
# AWS Config invokes custom rule functions asynchronously
# (https://docs.aws.amazon.com/lambda/latest/dg/services-config.html): a run that still fails after
# Lambda's retries is otherwise dropped. An on-failure destination keeps the record, with the request
# and the error, where a dead-letter queue keeps only the event
# (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).
FAILED_INVOCATIONS_QUEUE = "transcribe-guard-failed-invocations"


def code_location() -> dict[str, Any]:
    """Every function's code: the exact object version uploaded, so a later write to the key changes nothing."""
    return {"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}, "S3ObjectVersion": {"Ref": "CodeObjectVersion"}}


def handler(rule_name: str) -> str:
    """The Handler of a rule's function (evidence_provenance checks deployed functions against it)."""
    return f"rules.{module_name(rule_name)}.lambda_handler"


# The shared Transcribe ledger (rules/inventory/ledger.py), filled by one collector function
# (rules/engine/collector.py); on when the stack's TranscribeLedger parameter is "enabled"
# (an organization's collector sweeps every account through the member role).
LEDGER_TABLE = "transcribe-guard-ledger"
COLLECTOR_NAME = LEDGER_COLLECTOR
# What a rule reads the ledger with (LedgerInventory: Query of the table and its arn index, GetItem).
LEDGER_READ_ACTIONS = ("dynamodb:GetItem", "dynamodb:Query")
COLLECTOR_LEDGER_ACTIONS = ("dynamodb:BatchGetItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem",
                            "dynamodb:Query", "dynamodb:UpdateItem")
# The collector lists and reads every kind, and reads tags (ListTagsForResource) on tag events.
COLLECTOR_TRANSCRIBE_ACTIONS = tuple(sorted(set(read_actions(*ALL_KINDS)) | {TAGS_ACTION}))
LEDGER_SWEEP_SCHEDULE = "rate(1 hour)"


# The sweep reads tag changes and job deletions back from CloudTrail's event history (collector.py).
COLLECTOR_HISTORY_ACTIONS = ("cloudtrail:LookupEvents",)


def collector_actions() -> list[str]:
    return sorted(COLLECTOR_TRANSCRIBE_ACTIONS + COLLECTOR_HISTORY_ACTIONS)


def ledger_evaluation_actions() -> list[str]:
    """The rules' actions when they read the ledger: the Transcribe reads of the inventory
    (List*, Get*, ListTagsForResource of every kind) are the collector's instead."""
    return sorted(set(evaluation_actions()) - set(COLLECTOR_TRANSCRIBE_ACTIONS))


def _ledger_arns(region: str = "${AWS::Region}") -> list[Any]:
    """The ledger table and its arn index in ``region`` ("*": this account's table in every Region)."""
    table = "arn:${AWS::Partition}:dynamodb:" + region + ":${AWS::AccountId}:table/" + LEDGER_TABLE
    return [{"Fn::Sub": table}, {"Fn::Sub": table + "/index/" + ARN_INDEX}]


def ledger_resources() -> dict[str, Any]:
    """The ledger table, the collector function, its role, EventBridge rules and schedule; all
    under the LedgerOn condition."""
    events_pattern_api = sorted(set(CHANGE_EVENTS) | set(TAG_EVENTS) | {kind.delete_operation for kind in ALL_KINDS})
    resources: dict[str, Any] = {
        "LedgerTable": {
            "Type": "AWS::DynamoDB::Table", "Condition": "LedgerOn",
            "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
            "Properties": {
                "TableName": LEDGER_TABLE, "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "arn")],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                "GlobalSecondaryIndexes": [{"IndexName": ARN_INDEX,
                                            "KeySchema": [{"AttributeName": "arn", "KeyType": "HASH"}],
                                            "Projection": {"ProjectionType": "KEYS_ONLY"}}],
                # The customer managed key given in LedgerKmsKeyArn; without one, DynamoDB's AWS
                # managed key (SSEType KMS with no key id), never the AWS owned default.
                "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS",
                                     "KMSMasterKeyId": {"Fn::If": ["HasLedgerKey", {"Ref": "LedgerKmsKeyArn"},
                                                                   {"Ref": "AWS::NoValue"}]}},
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                "TimeToLiveSpecification": {"AttributeName": "expires", "Enabled": True},
            },
        },
        # One role for every Region's collector, made by the role-creating stack (as the functions'
        # role is), under a fixed name that transcribe-iam-tag-based-access exempts by default.
        "LedgerCollectorRole": {
            "Type": "AWS::IAM::Role", "Condition": "LedgerRole",
            "Properties": {
                "RoleName": LEDGER_COLLECTOR_ROLE,
                "Description": "transcribe-guard ledger collector: reads Transcribe once per job, writes the ledger.",
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}}]},
                "Policies": [
                    {"PolicyName": "read-transcribe", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                        "Effect": "Allow", "Action": sorted(COLLECTOR_TRANSCRIBE_ACTIONS), "Resource": "*"}]}},
                    # LookupEvents takes no resource-level permission ("*" is the only resource).
                    {"PolicyName": "read-cloudtrail-history", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                        "Effect": "Allow", "Action": list(COLLECTOR_HISTORY_ACTIONS), "Resource": "*"}]}},
                    # The applied Transcribe quotas it paces to (rules/engine/service_quotas.py).
                    {"PolicyName": "read-quotas", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                        "Effect": "Allow", "Action": "servicequotas:ListServiceQuotas", "Resource": "*"}]}},
                    {"PolicyName": "write-ledger", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                        "Effect": "Allow", "Action": list(COLLECTOR_LEDGER_ACTIONS), "Resource": _ledger_arns("*")}]}},
                    {"PolicyName": "write-own-logs", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                        "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": {"Fn::Sub": "arn:${AWS::Partition}:logs:*:${AWS::AccountId}"
                                                ":log-group:/aws/lambda/" + COLLECTOR_NAME + ":*"}}]}},
                    {"PolicyName": "record-failed-invocations", "PolicyDocument": {"Version": "2012-10-17",
                     "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage",
                                    "Resource": {"Fn::Sub": "arn:${AWS::Partition}:sqs:*:"
                                                            "${AWS::AccountId}:" + FAILED_INVOCATIONS_QUEUE}}]}},
                ],
            },
        },
        "LedgerCollectorLogGroup": {
            "Type": "AWS::Logs::LogGroup", "Condition": "LedgerOn",
            "Properties": {"LogGroupName": f"/aws/lambda/{COLLECTOR_NAME}",
                           "RetentionInDays": {"Ref": "LogRetentionInDays"}},
        },
        "LedgerCollectorFunction": {
            "Type": "AWS::Lambda::Function", "Condition": "LedgerOn", "DependsOn": "LedgerCollectorLogGroup",
            "Properties": {
                "FunctionName": COLLECTOR_NAME,
                "Description": "Fills the transcribe-guard ledger: one Get per Transcribe job for the whole pack.",
                "Runtime": RUNTIME, "Handler": "rules.engine.collector.lambda_handler",
                "Code": code_location(),
                "Role": {"Fn::If": ["LedgerRole", {"Fn::GetAtt": ["LedgerCollectorRole", "Arn"]},
                                    {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/"
                                                + LEDGER_COLLECTOR_ROLE}]},
                "Timeout": 900, "MemorySize": {"Ref": "FunctionMemorySize"},
                # One invocation at a time: its pacing is then the pack's whole share of the quota.
                "ReservedConcurrentExecutions": 1,
                "Environment": {"Variables": {**SDK_RETRY_ENVIRONMENT,
                                              "TRANSCRIBE_GUARD_QUOTA_SCALE": {"Ref": "TranscribeQuotaScale"},
                                              TABLE_ENV: {"Ref": "LedgerTable"},
                                              GET_SHARE_ENV: {"Ref": "LedgerGetShare"},
                                              # An organization's collector sweeps every account
                                              # through its member role (rules/engine/collector.py).
                                              ORGANIZATION_ENV: {"Ref": "OrganizationId"},
                                              MEMBER_ROLE_ENV: {"Ref": "MemberExecutionRoleName"}}},
            },
        },
        "LedgerCollectorEventInvokeConfig": {
            "Type": "AWS::Lambda::EventInvokeConfig", "Condition": "LedgerOn",
            "Properties": {"FunctionName": {"Ref": "LedgerCollectorFunction"}, "Qualifier": "$LATEST",
                           "MaximumRetryAttempts": 2,
                           "DestinationConfig": {"OnFailure": {"Destination": {
                               "Fn::GetAtt": ["FailedInvocationsQueue", "Arn"]}}}},
        },
    }
    rules = {
        # Transcribe's own job state change events (the EventBridge event reference lists these two).
        "LedgerJobEventsRule": {"EventPattern": {
            "source": ["aws.transcribe"],
            "detail-type": ["Transcribe Job State Change", "Call Analytics Job State Change"]}},
        # The CloudTrail calls the collector follows (deletes, tags, customization changes).
        "LedgerApiEventsRule": {"EventPattern": {
            "source": ["aws.transcribe"], "detail-type": ["AWS API Call via CloudTrail"],
            "detail": {"eventSource": ["transcribe.amazonaws.com"], "eventName": events_pattern_api}}},
        # The sweep, the safety net for missed events.
        "LedgerSweepSchedule": {"ScheduleExpression": LEDGER_SWEEP_SCHEDULE},
    }
    for logical, properties in rules.items():
        resources[logical] = {"Type": "AWS::Events::Rule", "Condition": "LedgerOn", "Properties": {
            **properties, "State": "ENABLED", "Targets": [{"Id": "collector", "Arn": {"Fn::GetAtt": ["LedgerCollectorFunction", "Arn"]}}]}}
        resources[f"{logical}Permission"] = {"Type": "AWS::Lambda::Permission", "Condition": "LedgerOn", "Properties": {
            "FunctionName": {"Ref": "LedgerCollectorFunction"}, "Action": "lambda:InvokeFunction",
            "Principal": "events.amazonaws.com", "SourceAccount": {"Ref": "AWS::AccountId"},
            "SourceArn": {"Fn::GetAtt": [logical, "Arn"]}}}
    # An organization's collector: the accounts to sweep (ListAccounts, which the management account
    # or a delegated administrator may call) and their member role, as the rules assume it.
    resources["LedgerCollectorOrganizationPolicy"] = {
        "Type": "AWS::IAM::Policy", "Condition": "LedgerOrganizationRole",
        "Properties": {"PolicyName": "sweep-organization", "Roles": [{"Ref": "LedgerCollectorRole"}], "PolicyDocument": {
            "Version": "2012-10-17", "Statement": [
                {"Sid": "ListOrganizationAccounts", "Effect": "Allow", "Action": "organizations:ListAccounts",
                 "Resource": "*"},
                {"Sid": "AssumeMemberRole", "Effect": "Allow", "Action": "sts:AssumeRole",
                 "Resource": {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/${MemberExecutionRoleName}"},
                 "Condition": {"StringEquals": {"aws:ResourceOrgID": {"Ref": "OrganizationId"}}}}]}},
    }
    # The rules read the ledger in place of Transcribe. The functions' role is global and its
    # policies are the role-creating stack's (one copy, whatever the number of Regions: a role's
    # inline policies share one size quota), so this one reads the table of every Region; each
    # Region's stack creates its own table, collector and feeds.
    read_the_ledger = {"Sid": "ReadTheLedger", "Effect": "Allow", "Action": list(LEDGER_READ_ACTIONS),
                       "Resource": _ledger_arns("*")}
    resources["EvaluateWithLedgerPolicy"] = {
        "Type": "AWS::IAM::Policy", "Condition": "LedgerSingleAccountRole",
        "Properties": {"PolicyName": "evaluate-with-ledger", "Roles": [{"Ref": "FunctionsRole"}], "PolicyDocument": {
            "Version": "2012-10-17", "Statement": [
                {"Sid": "EvaluateTranscribeControls", "Effect": "Allow", "Action": ledger_evaluation_actions(),
                 "Resource": "*"},
                read_the_ledger]}},
    }
    # An organization's functions evaluate through each member's role: of their own, only the ledger.
    resources["ReadLedgerPolicy"] = {
        "Type": "AWS::IAM::Policy", "Condition": "LedgerOrganizationRole",
        "Properties": {"PolicyName": "read-ledger", "Roles": [{"Ref": "FunctionsRole"}], "PolicyDocument": {
            "Version": "2012-10-17", "Statement": [read_the_ledger]}},
    }
    return resources


def evaluation_actions() -> list[str]:
    """Every action a rule run needs in the evaluated account: the union of the registry's
    declared actions plus rdklib's, the incremental runs' and pacing's."""
    actions = {action for cls in RULES.values() for action in cls.METADATA["iam_actions"]}
    return sorted(actions | set(RDKLIB_ACTIONS) | set(INCREMENTAL_ACTIONS) | set(PACING_ACTIONS))


# `transcribe-guard scan` also calls sts:GetCallerIdentity (the account it scans), which needs no
# permission: "No permissions are required to perform this operation", even under an explicit deny
# (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html).
UNAUTHORIZED_SCAN_ACTIONS = ("sts:GetCallerIdentity",)
SCAN_POLICY_PATH = "docs/scan-policy.json"


def scan_actions() -> list[str]:
    """What `transcribe-guard scan` needs: the union of the rules' declared actions, read-only. A
    scan runs each rule's evaluate_periodic itself, so rdklib's posting and reading of results, the
    incremental runs' CloudTrail history and the checkpoints are not needed; pacing's Service Quotas
    read is (without it, the documented quotas apply)."""
    return sorted({action for cls in RULES.values() for action in cls.METADATA["iam_actions"]} | set(PACING_ACTIONS))


def scan_policy() -> dict[str, Any]:
    """The identity policy for a principal that runs `transcribe-guard scan` (docs/scan-policy.json)."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "TranscribeGuardScan", "Effect": "Allow", "Action": scan_actions(), "Resource": "*"}]}


def checkpoint_statement() -> dict[str, Any]:
    return {"Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:PutParameter"],
            "Resource": {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/"
                                    f"{CHECKPOINT_PATH}/*"}}


def member_actions() -> list[str]:
    """What the member role allows: the rules' evaluation and the ledger collector's reads (it
    reads some details no rule reads live, e.g. GetMedicalVocabulary)."""
    return sorted(set(evaluation_actions()) | set(collector_actions()))


def evaluation_policy() -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "EvaluateTranscribeControls", "Effect": "Allow", "Action": evaluation_actions(), "Resource": "*"}]}


# --- event triggers (EnableEventTriggers=true; rules/engine/trigger.py) -----------------------------

EVENT_TRIGGER_FUNCTION = EVENT_TRIGGER
EVENT_TRIGGER_ROLE_NAME = "transcribe-guard-event-trigger"
EVENT_TRIGGER_CONDITION = "EnableEventTriggers"
SWEEP_SCHEDULE = "rate(1 minute)"


def event_trigger_patterns() -> dict[str, dict[str, Any]]:
    """Logical id -> the EventBridge pattern of each trigger rule. Jobs are judged once they have
    finished, so their state-change events are matched on COMPLETED and FAILED only. The CloudTrail
    pattern takes the write calls on customizations and tags, job deletions, and the Start* calls of
    the job kinds with no documented state-change event (medical, medical scribe): every name there
    is an operation of botocore's transcribe model."""
    from rules.engine import trigger
    import botocore.session

    operations = set(botocore.session.get_session().get_service_model("transcribe").operation_names)
    no_state_event = {"StartMedicalTranscriptionJob", "StartMedicalScribeJob"}
    calls = sorted(name for name in trigger.API_KINDS if name in operations
                   and (not name.startswith("Start") or name in no_state_event))
    calls += [name for name in trigger.TAG_CALLS if name in operations]
    final = list(trigger.FINAL_JOB_STATES)
    return {
        "EventTriggerJobStateRule": {"source": [trigger.TRANSCRIBE_SOURCE], "detail-type": ["Transcribe Job State Change"],
                                     "detail": {"TranscriptionJobStatus": list(final)}},
        "EventTriggerCallAnalyticsStateRule": {"source": [trigger.TRANSCRIBE_SOURCE],
                                               "detail-type": ["Call Analytics Job State Change"],
                                               "detail": {"JobStatus": list(final)}},
        "EventTriggerCustomizationStateRule": {"source": [trigger.TRANSCRIBE_SOURCE],
                                               "detail-type": ["Transcribe Language Model State Change",
                                                               "Vocabulary State Change"]},
        "EventTriggerApiCallRule": {"source": [trigger.TRANSCRIBE_SOURCE], "detail-type": [trigger.CLOUDTRAIL_DETAIL_TYPE],
                                    "detail": {"eventSource": [trigger.TRANSCRIBE_EVENT_SOURCE], "eventName": calls}},
    }


def event_trigger_policy() -> dict[str, Any]:
    """The trigger's own permissions: its state parameter, and starting and watching evaluations.
    In the Service Authorization Reference (parliament's copy, iam_definition.json),
    StartConfigRulesEvaluation takes the ConfigRule resource type
    (arn:${Partition}:config:${Region}:${Account}:config-rule/${ConfigRuleId}: rule ids, which the
    pack assigns, so every rule of this account and Region); DescribeConfigRules and
    DescribeConfigRuleEvaluationStatus take no resource type, so "*"."""
    from rules.engine import trigger

    describe = sorted(a for a in trigger.IAM_ACTIONS if a.startswith("config:Describe"))
    start = sorted(a for a in trigger.IAM_ACTIONS if a.startswith("config:") and a not in describe)
    ssm_actions = sorted(a for a in trigger.IAM_ACTIONS if a.startswith("ssm:"))
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "StartEvaluations", "Effect": "Allow", "Action": start,
         "Resource": {"Fn::Sub": "arn:${AWS::Partition}:config:${AWS::Region}:${AWS::AccountId}:config-rule/*"}},
        {"Sid": "WatchEvaluations", "Effect": "Allow", "Action": describe, "Resource": "*"},
        {"Sid": "KeepTriggerState", "Effect": "Allow", "Action": ssm_actions,
         "Resource": {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"
                                 + trigger.STATE_PARAMETER}},
        {"Sid": "WriteOwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": {"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/"
                                 f"{EVENT_TRIGGER_FUNCTION}:*"}},
        # Lambda sends on-failure records with the function's execution role.
        {"Sid": "RecordFailedInvocations", "Effect": "Allow", "Action": "sqs:SendMessage",
         "Resource": {"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:"
                                 + FAILED_INVOCATIONS_QUEUE}},
    ]}


def event_trigger_resources() -> dict[str, Any]:
    """The optional trigger: its role, function, EventBridge rules and the one-minute sweep, each
    guarded by the EnableEventTriggers condition."""
    guarded = {"Condition": EVENT_TRIGGER_CONDITION}
    resources: dict[str, Any] = {
        "EventTriggerRole": {**guarded, "Type": "AWS::IAM::Role", "Properties": {
            # IAM names are global and the functions stack is deployed in every Region: one role each.
            "RoleName": {"Fn::Sub": EVENT_TRIGGER_ROLE_NAME + "-${AWS::Region}"},
            "Description": "transcribe-guard event trigger: starts on-demand evaluations of the pack's rules.",
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}}]},
            "Policies": [{"PolicyName": "trigger-evaluations", "PolicyDocument": event_trigger_policy()}]}},
        "EventTriggerLogGroup": {**guarded, "Type": "AWS::Logs::LogGroup", "Properties": {
            "LogGroupName": f"/aws/lambda/{EVENT_TRIGGER_FUNCTION}", "RetentionInDays": {"Ref": "LogRetentionInDays"}}},
        "EventTriggerFunction": {**guarded, "Type": "AWS::Lambda::Function", "DependsOn": "EventTriggerLogGroup",
                                 "Properties": {
            "FunctionName": EVENT_TRIGGER_FUNCTION,
            "Description": "Starts evaluations of the rules a Transcribe event concerns, coalesced.",
            "Runtime": RUNTIME, "Handler": "rules.engine.trigger.lambda_handler",
            "Code": code_location(),
            "Role": {"Fn::GetAtt": ["EventTriggerRole", "Arn"]},
            "Timeout": 60, "MemorySize": 128,
            # One invocation at a time: the coalescing state is read and written without a race.
            "ReservedConcurrentExecutions": 1,
            "Environment": {"Variables": {"AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": "3",
                                          "TRANSCRIBE_GUARD_ACCOUNT_ID": {"Ref": "AWS::AccountId"}}}}},
        "EventTriggerEventInvokeConfig": {**guarded, "Type": "AWS::Lambda::EventInvokeConfig", "Properties": {
            "FunctionName": {"Ref": "EventTriggerFunction"}, "Qualifier": "$LATEST", "MaximumRetryAttempts": 2,
            "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["FailedInvocationsQueue", "Arn"]}}}}},
    }
    rules: dict[str, dict[str, Any]] = {logical: {"EventPattern": pattern}
                                        for logical, pattern in event_trigger_patterns().items()}
    rules["EventTriggerSweepRule"] = {"ScheduleExpression": SWEEP_SCHEDULE}
    for logical, source in rules.items():
        resources[logical] = {**guarded, "Type": "AWS::Events::Rule", "Properties": {
            **source, "State": "ENABLED", "Description": "transcribe-guard event trigger",
            "Targets": [{"Id": "event-trigger", "Arn": {"Fn::GetAtt": ["EventTriggerFunction", "Arn"]}}]}}
        resources[f"{logical}Permission"] = {**guarded, "Type": "AWS::Lambda::Permission", "Properties": {
            "FunctionName": {"Ref": "EventTriggerFunction"}, "Action": "lambda:InvokeFunction",
            "Principal": "events.amazonaws.com", "SourceArn": {"Fn::GetAtt": [logical, "Arn"]}}}
    return resources


def functions_template() -> dict[str, Any]:
    # IAM is global, Lambda regional: the role is created once per account (CreateFunctionsRole
    # "true", the first Region deployed), and each Region's stack attaches its own policy, naming
    # only that Region's log groups, checkpoints and queue, to it.
    role_ref = {"Fn::If": ["CreateRole", {"Ref": "FunctionsRole"}, FUNCTIONS_ROLE_NAME]}
    role_arn = {"Fn::If": ["CreateRole", {"Fn::GetAtt": ["FunctionsRole", "Arn"]},
                           {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/" + FUNCTIONS_ROLE_NAME}]}
    resources: dict[str, Any] = {
        "FunctionsRole": {
            "Type": "AWS::IAM::Role",
            "Condition": "CreateRole",
            "Properties": {
                "RoleName": FUNCTIONS_ROLE_NAME,
                "Description": "transcribe-guard rule functions: read-only evaluation and posting results to AWS Config.",
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}}]},
            },
        },
        "RegionPolicy": {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyName": {"Fn::Sub": "transcribe-guard-${AWS::Region}"},
                "Roles": [role_ref],
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Sid": "WriteOwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                     "Resource": {"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}"
                                             ":log-group:/aws/lambda/transcribe-*:*"}},
                    {"Sid": "KeepCheckpoints", **checkpoint_statement()},
                    # Lambda sends on-failure records with the function's execution role.
                    {"Sid": "RecordFailedInvocations", "Effect": "Allow", "Action": "sqs:SendMessage",
                     "Resource": {"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:"
                                             "${AWS::AccountId}:" + FAILED_INVOCATIONS_QUEUE}},
                ]},
            },
        },
        # The functions stack holds no customer managed key, so SQS-managed encryption (SSE-SQS): it
        # needs no key policy and no kms permissions for Lambda's sends. The records hold Config's
        # invoking event (rule parameters, result token), kept 14 days, SQS's maximum.
        "FailedInvocationsQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {"QueueName": FAILED_INVOCATIONS_QUEUE, "SqsManagedSseEnabled": True,
                           "MessageRetentionPeriod": 1209600},
        },
    }
    # Conditional policies as resources of their own: a single account evaluates with the
    # functions' role; an organization's functions only assume each member's role.
    resources["EvaluatePolicy"] = {
        "Type": "AWS::IAM::Policy", "Condition": "LiveReads",
        "Properties": {"PolicyName": "evaluate", "PolicyDocument": evaluation_policy(), "Roles": [{"Ref": "FunctionsRole"}]},
    }
    resources["AssumeMemberRolePolicy"] = {
        "Type": "AWS::IAM::Policy", "Condition": "OrganizationRole",
        "Properties": {"PolicyName": "assume-member-role", "Roles": [{"Ref": "FunctionsRole"}], "PolicyDocument": {
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "sts:AssumeRole",
                "Resource": {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/${MemberExecutionRoleName}"},
                "Condition": {"StringEquals": {"aws:ResourceOrgID": {"Ref": "OrganizationId"}}}}]}},
    }
    for name, cls in RULES.items():
        logical = "".join(part.capitalize() for part in name.split("-"))
        resources[f"{logical}LogGroup"] = {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": f"/aws/lambda/{name}", "RetentionInDays": {"Ref": "LogRetentionInDays"}},
        }
        resources[f"{logical}Function"] = {
            "Type": "AWS::Lambda::Function",
            "DependsOn": [f"{logical}LogGroup", "RegionPolicy"],
            "Properties": {
                "FunctionName": name,
                "Description": cls.METADATA["title"],
                "Runtime": RUNTIME,
                "Handler": handler(name),
                "Code": code_location(),
                "Role": role_arn,
                "Timeout": 900,
                "MemorySize": {"Ref": "FunctionMemorySize"},
                # The SDK's retry mode, set explicitly (botocore's default changed between 1.43 and
                # 1.44); rules/engine/pacing.py keeps calls under Transcribe's quotas, scaled for
                # accounts whose quotas were raised.
                "Environment": {"Variables": {**SDK_RETRY_ENVIRONMENT,
                                              "TRANSCRIBE_GUARD_QUOTA_SCALE": {"Ref": "TranscribeQuotaScale"},
                                              # The ledger when it is on; empty: live Transcribe reads.
                                              TABLE_ENV: {"Fn::If": ["LedgerOn", {"Ref": "LedgerTable"}, ""]}}},
            },
        }
        resources[f"{logical}ConfigPermission"] = {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "FunctionName": {"Ref": f"{logical}Function"},
                "Action": "lambda:InvokeFunction",
                "Principal": "config.amazonaws.com",
                # AWS Config's advice for custom rule functions: scope config.amazonaws.com with the
                # source account (https://docs.aws.amazon.com/config/latest/developerguide/
                # evaluate-config_develop-rules_nodejs.html#restricted-lambda-policy); SourceArn, the
                # invoking rule (matched with StringLike), narrows it to this region's Config rules (the
                # pack names them, so not known here). An organization's member accounts are not known
                # either, and a permission's SourceArn must name an account (its schema pattern), so
                # there the bound is PrincipalOrgID, the organization scope AWS::Lambda::Permission
                # documents (https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html); it
                # takes no aws:SourceOrgID.
                "SourceAccount": {"Fn::If": ["SingleAccount", {"Ref": "AWS::AccountId"}, {"Ref": "AWS::NoValue"}]},
                "SourceArn": {"Fn::If": [
                    "SingleAccount",
                    {"Fn::Sub": "arn:${AWS::Partition}:config:${AWS::Region}:${AWS::AccountId}:config-rule/*"},
                    {"Ref": "AWS::NoValue"}]},
                "PrincipalOrgID": {"Fn::If": ["SingleAccount", {"Ref": "AWS::NoValue"}, {"Ref": "OrganizationId"}]},
            },
        }
        resources[f"{logical}EventInvokeConfig"] = {
            "Type": "AWS::Lambda::EventInvokeConfig",
            "Properties": {
                "FunctionName": {"Ref": f"{logical}Function"},
                "Qualifier": "$LATEST",  # Config invokes the unqualified function
                "MaximumRetryAttempts": 2,
                "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["FailedInvocationsQueue", "Arn"]}}},
            },
        }
    resources.update(ledger_resources())
    resources.update(event_trigger_resources())
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "transcribe-guard rule functions (generated by `transcribe-guard build`; deploy before the "
                       "conformance pack).",
        "Parameters": {
            "CodeBucket": {"Type": "String", "Description": "S3 bucket holding the code package."},
            "CodeKey": {"Type": "String", "Description": "S3 key of the zip built by `transcribe-guard package`."},
            "CodeObjectVersion": {"Type": "String", "MinLength": 1,
                                  "Description": "S3 version id of that object (the bucket is versioned): the "
                                                 "functions get exactly the bytes uploaded."},
            "OrganizationId": {"Type": "String", "Default": "", "AllowedPattern": r"^(o-[a-z0-9]{10,32})?$",
                               "Description": "Organization deployments: the organization id (o-...) whose accounts' "
                                              "AWS Config may invoke the functions. Empty: this account only."},
            "MemberExecutionRoleName": {"Type": "String", "Default": MEMBER_ROLE_NAME,
                                        "Description": "Organization deployments: the role the functions assume in "
                                                       "each member account."},
            "LogRetentionInDays": {"Type": "Number", "Default": 90,
                                   "AllowedValues": [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
                                                     1096, 1827, 2192, 2557, 2922, 3288, 3653]},
            "FunctionMemorySize": {"Type": "Number", "Default": 256, "MinValue": 128, "MaxValue": 10240},
            "CreateFunctionsRole": {"Type": "String", "Default": "true", "AllowedValues": ["true", "false"],
                                    "Description": "true in the account's first Region: create the functions' IAM "
                                                   "role (IAM is global); false in every other Region, whose "
                                                   "stack attaches its own policy to that role."},
            "TranscribeQuotaScale": {"Type": "String", "Default": "1", "AllowedPattern": r"^[0-9]+(\.[0-9]+)?$",
                                     "Description": "Multiplies the Transcribe request rates the functions pace "
                                                    "themselves to (the applied quotas Service Quotas reports, else "
                                                    "the documented ones); below 1 leaves your pipeline more."},
            "TranscribeLedger": {"Type": "String", "Default": "disabled", "AllowedValues": ["enabled", "disabled"],
                                 "Description": "enabled: one collector reads each Transcribe job once into a "
                                                "DynamoDB ledger the rules read, one per Region (every Region's "
                                                "stack alike; in an organization, for every account, through "
                                                "its member role)."},
            "LedgerKmsKeyArn": {"Type": "String", "Default": "",
                                "Description": "The customer managed KMS key that encrypts the ledger table. "
                                               "Empty: DynamoDB's AWS managed key."},
            "LedgerGetShare": {"Type": "String", "Default": str(DEFAULT_GET_SHARE),
                               "AllowedPattern": r"^(0?\.[0-9]*[1-9][0-9]*|1(\.0*)?)$",
                               "Description": "The share (above 0, at most 1) of each Transcribe quota the collector "
                                              "paces itself to; the customer's pipeline keeps the rest."},
            "EnableEventTriggers": {"Type": "String", "Default": "false", "AllowedValues": ["true", "false"],
                                    "Description": "true: evaluate the rules minutes after Transcribe jobs finish and "
                                                   "customizations or tags change (EventBridge), besides the periodic "
                                                   "runs. Single-account deployments only."},
        },
        "Conditions": {"SingleAccount": {"Fn::Equals": [{"Ref": "OrganizationId"}, ""]},
                       "Organization": {"Fn::Not": [{"Condition": "SingleAccount"}]},
                       "CreateRole": {"Fn::Equals": [{"Ref": "CreateFunctionsRole"}, "true"]},
                       "SingleAccountRole": {"Fn::And": [{"Condition": "SingleAccount"}, {"Condition": "CreateRole"}]},
                       "OrganizationRole": {"Fn::And": [{"Condition": "Organization"}, {"Condition": "CreateRole"}]},
                       # The ledger: one table and collector per Region; the role-creating stack's
                       # TranscribeLedger decides the (global) role's reads: the ledger's in every
                       # Region, or live Transcribe reads (deploy keeps the Regions alike).
                       "LedgerOn": {"Fn::Equals": [{"Ref": "TranscribeLedger"}, "enabled"]},
                       "LedgerRole": {"Fn::And": [{"Condition": "LedgerOn"}, {"Condition": "CreateRole"}]},
                       "LedgerOrganizationRole": {"Fn::And": [{"Condition": "LedgerRole"},
                                                              {"Condition": "Organization"}]},
                       "LedgerSingleAccountRole": {"Fn::And": [{"Condition": "LedgerRole"},
                                                               {"Condition": "SingleAccount"}]},
                       "LiveReads": {"Fn::And": [{"Condition": "SingleAccountRole"},
                                                 {"Fn::Not": [{"Condition": "LedgerOn"}]}]},
                       "HasLedgerKey": {"Fn::Not": [{"Fn::Equals": [{"Ref": "LedgerKmsKeyArn"}, ""]}]},
                       EVENT_TRIGGER_CONDITION: {"Fn::And": [{"Fn::Equals": [{"Ref": "EnableEventTriggers"}, "true"]},
                                                             {"Condition": "SingleAccount"}]}},
        "Resources": resources,
        "Outputs": {
            "FunctionsRoleArn": {"Value": role_arn},
            "LambdaAccountId": {"Value": {"Ref": "AWS::AccountId"},
                                "Description": "Pass as the conformance pack's LambdaAccountId."},
            "FailedInvocationsQueueUrl": {"Value": {"Ref": "FailedInvocationsQueue"},
                                          "Description": "Records of rule runs that failed after Lambda's retries."},
        },
    }


def member_role_template() -> dict[str, Any]:
    """For StackSets: the role each member account lends to the functions (and, with the ledger,
    to its collector), trusting only them."""
    functions = {"Fn::Sub": "arn:${AWS::Partition}:iam::${FunctionsAccountId}:role/" + FUNCTIONS_ROLE_NAME}
    collector = {"Fn::Sub": "arn:${AWS::Partition}:iam::${FunctionsAccountId}:role/" + LEDGER_COLLECTOR_ROLE}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "transcribe-guard member account role (generated by `transcribe-guard build`; deploy to every "
                       "member account with StackSets).",
        "Parameters": {
            "FunctionsAccountId": {"Type": "String", "AllowedPattern": r"^\d{12}$",
                                   "Description": "Account that runs the transcribe-guard functions."},
            "RoleName": {"Type": "String", "Default": MEMBER_ROLE_NAME},
            # The trust names roles by ARN, and IAM refuses a principal that does not exist: the
            # collector's role is trusted only once the functions stacks were deployed with the ledger.
            "TrustLedgerCollector": {"Type": "String", "Default": "false", "AllowedValues": ["true", "false"],
                                     "Description": "true: the ledger collector of the functions account may "
                                                    "assume the role too (TranscribeLedger enabled there)."},
        },
        "Conditions": {"TrustCollector": {"Fn::Equals": [{"Ref": "TrustLedgerCollector"}, "true"]}},
        "Resources": {
            "MemberRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": {"Ref": "RoleName"},
                    "Description": "Read-only evaluation by transcribe-guard, assumable only by its functions' "
                                   "role and its ledger collector's.",
                    "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                        "Effect": "Allow",
                        "Principal": {"AWS": {"Fn::If": ["TrustCollector", [functions, collector], functions]}},
                        "Action": "sts:AssumeRole"}]},
                    "Policies": [{"PolicyName": "evaluate", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                        {"Sid": "EvaluateTranscribeControls", "Effect": "Allow", "Action": member_actions(),
                         "Resource": "*"}]}}],
                },
            },
        },
        "Outputs": {"MemberRoleArn": {"Value": {"Fn::GetAtt": ["MemberRole", "Arn"]}}},
    }


AGGREGATOR_NAME = "transcribe-guard-organization"
# The AWS managed policy for an organization aggregator's role: organizations:ListAccounts,
# DescribeOrganization, ListAWSServiceAccessForOrganization, ListDelegatedAdministrators
# (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSConfigRoleForOrganizations.html).
AGGREGATOR_POLICY = "service-role/AWSConfigRoleForOrganizations"


def aggregator_template() -> dict[str, Any]:
    """The organization-wide, all-Regions Config aggregator `compliance --aggregator` and
    `evidence --from aggregator:NAME` read, with the role Config uses to list the organization."""
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "transcribe-guard organization aggregator (generated by `transcribe-guard build`; deploy in the "
                       "management or Config delegated administrator account).",
        "Parameters": {
            "AggregatorName": {"Type": "String", "Default": AGGREGATOR_NAME, "AllowedPattern": r"^[\w\-]{1,256}$"},
        },
        "Resources": {
            "AggregatorRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "Description": "Lets AWS Config list the organization's accounts for the transcribe-guard aggregator.",
                    "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                        "Effect": "Allow", "Principal": {"Service": "config.amazonaws.com"}, "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}}]},
                    "ManagedPolicyArns": [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/" + AGGREGATOR_POLICY}],
                },
            },
            "Aggregator": {
                "Type": "AWS::Config::ConfigurationAggregator",
                "Properties": {
                    "ConfigurationAggregatorName": {"Ref": "AggregatorName"},
                    "OrganizationAggregationSource": {"RoleArn": {"Fn::GetAtt": ["AggregatorRole", "Arn"]},
                                                      "AllAwsRegions": True},
                },
            },
        },
        "Outputs": {"AggregatorName": {"Value": {"Ref": "Aggregator"},
                                       "Description": "Pass to `transcribe-guard compliance --aggregator`."}},
    }


# --- the evidence signing key --------------------------------------------------------------------
#
# A key policy is the only source of permission to a KMS key unless it delegates to IAM: "Unless
# the key policy explicitly allows it, you cannot use IAM policies to allow access to a KMS key"
# (https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html); a statement with the
# account as principal is what enables IAM policies. So the account is delegated only
# GetPublicKey, Verify and DescribeKey, the administrators get management without any
# cryptographic use, and Sign is allowed to the collecting role alone and denied to every other
# principal (a grant or a later IAM policy included).

EVIDENCE_KEY_ALIAS = "alias/transcribe-guard-evidence"
KEY_ADMIN_ACTIONS = ("kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey",
                     "kms:DisableKey", "kms:EnableKey", "kms:GetKeyPolicy", "kms:ListAliases", "kms:ListGrants",
                     "kms:ListKeyPolicies", "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:RevokeGrant",
                     "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias",
                     "kms:UpdateKeyDescription")


def signing_key_template() -> dict[str, Any]:
    """The asymmetric KMS key `evidence --sign-key` signs manifests with (ECC_NIST_P256, ECDSA_SHA_256)."""
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "transcribe-guard evidence signing key (generated by `transcribe-guard build`): only the "
                       "collecting role may sign; administrators manage it; the account may read its public key "
                       "and verify.",
        "Parameters": {
            "CollectorRoleArn": {"Type": "String", "AllowedPattern": r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$",
                                 "Description": "The IAM role that runs `transcribe-guard evidence --sign-key` (the "
                                                "only principal allowed kms:Sign)."},
            "KeyAdminArns": {"Type": "CommaDelimitedList",
                             "Description": "IAM roles or users that manage the key (never sign with it)."},
        },
        "Resources": {
            "EvidenceSigningKey": {
                "Type": "AWS::KMS::Key",
                "Properties": {
                    "Description": "Signs transcribe-guard evidence bundle manifests.",
                    "KeySpec": "ECC_NIST_P256",
                    "KeyUsage": "SIGN_VERIFY",
                    "KeyPolicy": {"Version": "2012-10-17", "Statement": [
                        {"Sid": "AdministratorsManageTheKey", "Effect": "Allow",
                         "Principal": {"AWS": {"Ref": "KeyAdminArns"}}, "Action": list(KEY_ADMIN_ACTIONS),
                         "Resource": "*"},
                        {"Sid": "OnlyTheCollectorSigns", "Effect": "Allow",
                         "Principal": {"AWS": {"Ref": "CollectorRoleArn"}},
                         "Action": ["kms:Sign", "kms:GetPublicKey", "kms:DescribeKey"], "Resource": "*"},
                        {"Sid": "AccountReadsThePublicKeyAndVerifies", "Effect": "Allow",
                         "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
                         "Action": ["kms:GetPublicKey", "kms:Verify", "kms:DescribeKey"], "Resource": "*"},
                        {"Sid": "NoOneElseSigns", "Effect": "Deny", "Principal": "*", "Action": "kms:Sign",
                         "Resource": "*",
                         "Condition": {"ArnNotEquals": {"aws:PrincipalArn": {"Ref": "CollectorRoleArn"}}}},
                    ]},
                },
            },
            "EvidenceSigningKeyAlias": {
                "Type": "AWS::KMS::Alias",
                "Properties": {"AliasName": EVIDENCE_KEY_ALIAS, "TargetKeyId": {"Ref": "EvidenceSigningKey"}},
            },
        },
        "Outputs": {"EvidenceSigningKeyArn": {"Value": {"Fn::GetAtt": ["EvidenceSigningKey", "Arn"]}},
                    "EvidenceSigningKeyAlias": {"Value": EVIDENCE_KEY_ALIAS}},
    }
