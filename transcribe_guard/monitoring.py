"""Dashboards and alerts for the pack: ``transcribe_guard/templates/monitoring.yaml``, generated
from the registry by ``transcribe-guard build``.

What CloudWatch offers and what it does not (AWS Config's CloudWatch metrics, namespace
``AWS/Config``): ``ComplianceScore`` per ``ConformancePackName``, plus recorder and delivery
metrics (``ConfigurationItemsRecorded``, ``ConfigHistoryExportFailed``,
``ConfigSnapshotExportFailed``, ``ChangeNotificationsDeliveryFailed``,
``ConfigurationRecorderInsufficientPermissionsFailure``). There is no per-rule compliance count,
so a small scheduled function publishes ``NonCompliantResources`` and ``CompliantResources`` per
rule (namespace ``TranscribeGuard``, dimensions ``ConformancePackName`` and ``RuleName``, the
registry name) from GetConformancePackComplianceDetails. Its role may read the pack's compliance
and put metric data into that one namespace, nothing else.

Alerts: EventBridge rules match "Config Rules Compliance Change" events of this pack's rules by
name prefix (Config names them ``<name>-conformance-pack-<suffix>``; the suffix is not known in
advance), and notify an SNS topic encrypted with a customer managed KMS key. The AWS managed key
``alias/aws/sns`` cannot be used: its key policy cannot be changed to let EventBridge (or
CloudWatch alarms) use it, so their deliveries would fail. Each service principal is bound to this
account (aws:SourceAccount) in the key policy, as EventBridge advises for its use of customer managed
keys (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-encryption-key-policy.html), and
to the exact rule and alarm ARNs in the topic policy (the key policy cannot name them: the rules and
alarms depend on the topic, which depends on the key).

Failed rule runs: Config invokes the rule functions asynchronously, so a failure reaches no caller.
One alarm per rule function on its ``AWS/Lambda`` ``Errors`` (rather than one metric math alarm over
all of them) so the notification names the rule that failed, and one on the functions stack's
failed-invocations queue (records Lambda gave up on after its retries, whatever the cause).
EventBridge limits an event pattern to 2,048 characters, so the rule names are spread over as many
rules as needed.
"""

from __future__ import annotations

import json
from typing import Any

from transcribe_guard.templates import FAILED_INVOCATIONS_QUEUE  # the functions stack's queue

METRIC_NAMESPACE = "TranscribeGuard"
PATTERN_LIMIT = 2048  # EventBridge quota: event pattern size, characters
PACK_RULE_SUFFIX = "-conformance-pack-"
PUBLISHER_ACTIONS = ("config:DescribeConformancePackCompliance", "config:GetConformancePackComplianceDetails",
                     "cloudwatch:PutMetricData")

# The metrics function, inline (ZipFile, at most 4,096 characters). The Lambda runtime provides boto3.
PUBLISHER_CODE = '''\
"""Publish per-rule compliant and non-compliant resource counts of one conformance pack."""
import os

import boto3

SUFFIX = "-conformance-pack-"


def handler(event, context):
    pack, namespace = os.environ["PACK_NAME"], os.environ["METRIC_NAMESPACE"]
    config, cloudwatch = boto3.client("config"), boto3.client("cloudwatch")
    counts, kwargs = {}, {"ConformancePackName": pack}
    while True:
        page = config.describe_conformance_pack_compliance(**kwargs)
        for row in page["ConformancePackRuleComplianceList"]:
            counts[row["ConfigRuleName"]] = {"COMPLIANT": 0, "NON_COMPLIANT": 0}
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    kwargs = {"ConformancePackName": pack, "Limit": 100}
    while True:
        page = config.get_conformance_pack_compliance_details(**kwargs)
        for result in page["ConformancePackRuleEvaluationResults"]:
            name = result["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ConfigRuleName"]
            if result["ComplianceType"] in counts.get(name, {}):
                counts[name][result["ComplianceType"]] += 1
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    data = []
    for name, found in sorted(counts.items()):
        dimensions = [{"Name": "ConformancePackName", "Value": pack},
                      {"Name": "RuleName", "Value": name.split(SUFFIX, 1)[0]}]
        data.append({"MetricName": "NonCompliantResources", "Dimensions": dimensions,
                     "Value": found["NON_COMPLIANT"], "Unit": "Count"})
        data.append({"MetricName": "CompliantResources", "Dimensions": dimensions,
                     "Value": found["COMPLIANT"], "Unit": "Count"})
    for start in range(0, len(data), 20):
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[start:start + 20])
    return {"rules": len(counts), "metrics": len(data)}
'''


def entry_names() -> list[str]:
    from transcribe_guard.compliance import registry_entries
    return [entry.name for entry in registry_entries()]


def compliance_change_patterns(names: list[str]) -> list[dict[str, Any]]:
    """EventBridge patterns matching compliance changes to or from NON_COMPLIANT of the pack's
    rules, each under the 2,048-character limit."""
    def pattern(chunk: list[str]) -> dict[str, Any]:
        return {"source": ["aws.config"], "detail-type": ["Config Rules Compliance Change"],
                "detail": {"messageType": ["ComplianceChangeNotification"],
                           "configRuleName": [{"prefix": f"{name}{PACK_RULE_SUFFIX}"} for name in chunk],
                           "$or": [{"newEvaluationResult": {"complianceType": ["NON_COMPLIANT"]}},
                                   {"oldEvaluationResult": {"complianceType": ["NON_COMPLIANT"]}}]}}

    patterns: list[dict[str, Any]] = []
    chunk: list[str] = []
    for name in names:
        if chunk and len(json.dumps(pattern(chunk + [name]), separators=(",", ":"))) > PATTERN_LIMIT:
            patterns.append(pattern(chunk))
            chunk = []
        chunk.append(name)
    if chunk:
        patterns.append(pattern(chunk))
    return patterns


def _dashboard_body(names: list[str]) -> str:
    """The dashboard JSON, with ${AWS::Region}, ${PackName} and ${...} references for Fn::Sub."""
    per_rule = [[METRIC_NAMESPACE, "NonCompliantResources", "ConformancePackName", "${PackName}", "RuleName", name,
                 {"label": name}] for name in names]
    widgets = [
        {"type": "text", "x": 0, "y": 0, "width": 24, "height": 2, "properties": {"markdown":
            "## transcribe-guard conformance pack `${PackName}`\n"
            "Compliance score from AWS Config (`AWS/Config` `ComplianceScore`); per-rule counts published hourly by "
            "the `${MetricsFunction}` function (namespace `" + METRIC_NAMESPACE + "`)."}},
        {"type": "metric", "x": 0, "y": 2, "width": 6, "height": 6, "properties": {
            "title": "Compliance score (%)", "view": "singleValue", "region": "${AWS::Region}", "period": 3600,
            "stat": "Minimum", "metrics": [["AWS/Config", "ComplianceScore", "ConformancePackName", "${PackName}"]]}},
        {"type": "metric", "x": 6, "y": 2, "width": 18, "height": 6, "properties": {
            "title": "Compliance score over time (%)", "view": "timeSeries", "region": "${AWS::Region}", "period": 3600,
            "stat": "Minimum", "yAxis": {"left": {"min": 0, "max": 100}},
            "annotations": {"horizontal": [{"label": "Minimum score", "value": "${MinimumComplianceScore}"}]},
            "metrics": [["AWS/Config", "ComplianceScore", "ConformancePackName", "${PackName}"]]}},
        {"type": "metric", "x": 0, "y": 8, "width": 24, "height": 9, "properties": {
            "title": "Non-compliant resources per rule", "view": "bar", "region": "${AWS::Region}", "period": 3600,
            "stat": "Maximum", "metrics": per_rule}},
        {"type": "metric", "x": 0, "y": 17, "width": 12, "height": 6, "properties": {
            "title": "Non-compliant resources per rule over time", "view": "timeSeries", "stacked": True,
            "region": "${AWS::Region}", "period": 3600, "stat": "Maximum", "metrics": per_rule}},
        {"type": "metric", "x": 12, "y": 17, "width": 12, "height": 6, "properties": {
            "title": "Monitoring health", "view": "timeSeries", "region": "${AWS::Region}", "period": 3600,
            "stat": "Sum", "metrics": [
                ["AWS/Lambda", "Errors", "FunctionName", "${MetricsFunction}", {"label": "metrics function errors"}],
                ["AWS/Events", "FailedInvocations", "RuleName", "${ComplianceChangeRule1}",
                 {"label": "notification delivery failures"}],
                ["AWS/Config", "ConfigurationRecorderInsufficientPermissionsFailure", {"label": "recorder permission failures"}],
            ]}},
    ]
    # The annotation value must stay a JSON number after Fn::Sub.
    return json.dumps({"widgets": widgets}, indent=1).replace('"${MinimumComplianceScore}"', "${MinimumComplianceScore}")


def function_errors_alarms() -> dict[str, Any]:
    """One alarm per rule function (named after its rule) on any AWS/Lambda Errors in an hour."""
    from rules.catalog.registry import RULES

    alarms: dict[str, Any] = {}
    for name in RULES:
        logical = "".join(part.capitalize() for part in name.split("-"))
        alarms[f"{logical}ErrorsAlarm"] = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmName": {"Fn::Sub": f"transcribe-guard-${{PackName}}-{name}-errors"},
            "AlarmDescription": f"The rule function {name} failed (AWS/Lambda Errors); AWS Config got no "
                                "results from that run.",
            "Namespace": "AWS/Lambda", "MetricName": "Errors",
            "Dimensions": [{"Name": "FunctionName", "Value": name}],
            "Statistic": "Sum", "Period": 3600, "EvaluationPeriods": 1, "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": "NotificationTopic"}], "OKActions": [{"Ref": "NotificationTopic"}]}}
    return alarms


def monitoring_template() -> dict[str, Any]:
    names = entry_names()
    patterns = compliance_change_patterns(names)
    rule_ids = [f"ComplianceChangeRule{index}" for index in range(1, len(patterns) + 1)]
    errors_alarms = function_errors_alarms()
    alarm_ids = ["ComplianceScoreAlarm", *errors_alarms, "FailedInvocationsAlarm"]
    resources: dict[str, Any] = {
        "NotificationKey": {
            "Type": "AWS::KMS::Key",
            "Properties": {
                "Description": "transcribe-guard: encrypts the compliance notification topic.",
                "EnableKeyRotation": True,
                "KeyPolicy": {"Version": "2012-10-17", "Statement": [
                    {"Sid": "AccountAdministersTheKey", "Effect": "Allow",
                     "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
                     "Action": "kms:*", "Resource": "*"},
                    {"Sid": "EventBridgePublishesToTheEncryptedTopic", "Effect": "Allow",
                     "Principal": {"Service": "events.amazonaws.com"},
                     "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": "*",
                     "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}},
                    {"Sid": "CloudWatchAlarmsPublishToTheEncryptedTopic", "Effect": "Allow",
                     "Principal": {"Service": "cloudwatch.amazonaws.com"},
                     "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": "*",
                     "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}},
                ]},
            },
        },
        "NotificationKeyAlias": {"Type": "AWS::KMS::Alias", "Properties": {
            "AliasName": {"Fn::Sub": "alias/transcribe-guard-${PackName}-notifications"},
            "TargetKeyId": {"Ref": "NotificationKey"}}},
        "NotificationTopic": {"Type": "AWS::SNS::Topic", "Properties": {
            "TopicName": {"Fn::Sub": "transcribe-guard-${PackName}-compliance"},
            "DisplayName": "transcribe-guard compliance",
            "KmsMasterKeyId": {"Fn::GetAtt": ["NotificationKey", "Arn"]}}},
        "NotificationTopicPolicy": {"Type": "AWS::SNS::TopicPolicy", "Properties": {
            "Topics": [{"Ref": "NotificationTopic"}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Sid": "ComplianceChangeRulesPublish", "Effect": "Allow",
                 "Principal": {"Service": "events.amazonaws.com"}, "Action": "sns:Publish",
                 "Resource": {"Ref": "NotificationTopic"},
                 "Condition": {"ArnEquals": {"aws:SourceArn": [{"Fn::GetAtt": [rule_id, "Arn"]} for rule_id in rule_ids]},
                               "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}},
                {"Sid": "AlarmsPublish", "Effect": "Allow",
                 "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Publish",
                 "Resource": {"Ref": "NotificationTopic"},
                 "Condition": {"ArnEquals": {"aws:SourceArn": [{"Fn::GetAtt": [alarm_id, "Arn"]} for alarm_id in alarm_ids]},
                               "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}},
                {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
                 "Resource": {"Ref": "NotificationTopic"}, "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            ]}}},
        "NotificationEmailSubscription": {"Type": "AWS::SNS::Subscription", "Condition": "HasNotificationEmail",
                                          "Properties": {"TopicArn": {"Ref": "NotificationTopic"}, "Protocol": "email",
                                                         "Endpoint": {"Ref": "NotificationEmail"}}},
    }
    for rule_id, pattern in zip(rule_ids, patterns):
        resources[rule_id] = {"Type": "AWS::Events::Rule", "Properties": {
            "Description": "transcribe-guard: a pack rule's resource became or stopped being NON_COMPLIANT.",
            "State": "ENABLED",
            "EventPattern": pattern,
            "Targets": [{"Id": "compliance-topic", "Arn": {"Ref": "NotificationTopic"}, "InputTransformer": {
                "InputPathsMap": {"rule": "$.detail.configRuleName", "resource": "$.detail.resourceId",
                                  "type": "$.detail.resourceType",
                                  "compliance": "$.detail.newEvaluationResult.complianceType",
                                  "account": "$.account", "region": "$.region", "time": "$.time"},
                "InputTemplate": '{"source": "transcribe-guard", "rule": <rule>, "resourceType": <type>, '
                                 '"resource": <resource>, "compliance": <compliance>, "account": <account>, '
                                 '"region": <region>, "time": <time>}'}}],
        }}
    resources.update({
        "MetricsFunctionRole": {"Type": "AWS::IAM::Role", "Properties": {
            "Description": "transcribe-guard metrics function: reads the pack's compliance, writes its metrics.",
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}}]},
            "Policies": [{"PolicyName": "publish-pack-metrics", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Sid": "ReadPackCompliance", "Effect": "Allow",
                 "Action": ["config:DescribeConformancePackCompliance", "config:GetConformancePackComplianceDetails"],
                 "Resource": "*"},
                {"Sid": "PutPackMetrics", "Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*",
                 "Condition": {"StringEquals": {"cloudwatch:namespace": METRIC_NAMESPACE}}},
                {"Sid": "WriteOwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                 "Resource": {"Fn::GetAtt": ["MetricsFunctionLogGroup", "Arn"]}},
            ]}}],
        }},
        "MetricsFunctionLogGroup": {"Type": "AWS::Logs::LogGroup", "Properties": {
            "LogGroupName": {"Fn::Sub": "/aws/lambda/transcribe-guard-${PackName}-metrics"},
            "RetentionInDays": {"Ref": "LogRetentionInDays"}}},
        "MetricsFunction": {"Type": "AWS::Lambda::Function", "DependsOn": "MetricsFunctionLogGroup", "Properties": {
            "FunctionName": {"Fn::Sub": "transcribe-guard-${PackName}-metrics"},
            "Description": "Publishes per-rule compliant and non-compliant resource counts of the pack to CloudWatch.",
            "Runtime": "python3.12", "Handler": "index.handler", "Timeout": 300, "MemorySize": 128,
            "Role": {"Fn::GetAtt": ["MetricsFunctionRole", "Arn"]},
            "Environment": {"Variables": {"PACK_NAME": {"Ref": "PackName"}, "METRIC_NAMESPACE": METRIC_NAMESPACE}},
            "Code": {"ZipFile": PUBLISHER_CODE}}},
        "MetricsSchedule": {"Type": "AWS::Events::Rule", "Properties": {
            "Description": "transcribe-guard: publish the pack's per-rule metrics.",
            "ScheduleExpression": {"Ref": "MetricsScheduleExpression"}, "State": "ENABLED",
            "Targets": [{"Id": "metrics-function", "Arn": {"Fn::GetAtt": ["MetricsFunction", "Arn"]}}]}},
        "MetricsSchedulePermission": {"Type": "AWS::Lambda::Permission", "Properties": {
            "FunctionName": {"Ref": "MetricsFunction"}, "Action": "lambda:InvokeFunction",
            "Principal": "events.amazonaws.com", "SourceArn": {"Fn::GetAtt": ["MetricsSchedule", "Arn"]}}},
        "ComplianceScoreAlarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmName": {"Fn::Sub": "transcribe-guard-${PackName}-compliance-score"},
            "AlarmDescription": "The transcribe-guard conformance pack's compliance score fell below the minimum.",
            "Namespace": "AWS/Config", "MetricName": "ComplianceScore",
            "Dimensions": [{"Name": "ConformancePackName", "Value": {"Ref": "PackName"}}],
            "Statistic": "Minimum", "Period": 3600, "EvaluationPeriods": 1,
            "Threshold": {"Ref": "MinimumComplianceScore"}, "ComparisonOperator": "LessThanThreshold",
            "TreatMissingData": "ignore", "AlarmActions": [{"Ref": "NotificationTopic"}],
            "OKActions": [{"Ref": "NotificationTopic"}]}},
        **errors_alarms,
        "FailedInvocationsAlarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmName": {"Fn::Sub": "transcribe-guard-${PackName}-failed-invocations"},
            "AlarmDescription": "Rule runs that failed after Lambda's retries are waiting in the "
                                f"{FAILED_INVOCATIONS_QUEUE} queue (functions stack).",
            "Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": FAILED_INVOCATIONS_QUEUE}],
            "Statistic": "Maximum", "Period": 3600, "EvaluationPeriods": 1, "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": "NotificationTopic"}], "OKActions": [{"Ref": "NotificationTopic"}]}},
        "Dashboard": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {
            "DashboardName": {"Fn::Sub": "transcribe-guard-${PackName}"},
            "DashboardBody": {"Fn::Sub": _dashboard_body(names)}}},
    })
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "transcribe-guard monitoring: CloudWatch dashboard, per-rule metrics, compliance change "
                       "notifications on a KMS-encrypted SNS topic (generated by `transcribe-guard build`).",
        "Parameters": {
            "PackName": {"Type": "String", "Default": "transcribe-guard", "AllowedPattern": "^[a-zA-Z][-a-zA-Z0-9]*$",
                         "Description": "The conformance pack to monitor."},
            "NotificationEmail": {"Type": "String", "Default": "",
                                  "Description": "Optional: an email address subscribed to the notification topic."},
            "MinimumComplianceScore": {"Type": "Number", "Default": 90, "MinValue": 0, "MaxValue": 100,
                                       "Description": "The alarm notifies when the pack's score falls below this."},
            "MetricsScheduleExpression": {"Type": "String", "Default": "rate(1 hour)",
                                "Description": "How often the per-rule metrics are published."},
            "LogRetentionInDays": {"Type": "Number", "Default": 90,
                                   "AllowedValues": [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
                                                     1096, 1827, 2192, 2557, 2922, 3288, 3653]},
        },
        "Conditions": {"HasNotificationEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "NotificationEmail"}, ""]}]}},
        "Resources": resources,
        "Outputs": {
            "NotificationTopicArn": {"Value": {"Ref": "NotificationTopic"}},
            "DashboardName": {"Value": {"Ref": "Dashboard"}},
            "MetricsNamespace": {"Value": METRIC_NAMESPACE},
        },
    }
