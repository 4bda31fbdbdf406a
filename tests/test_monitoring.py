"""Monitoring template: compliance change notifications for every pack entry on a topic encrypted with
a customer managed key EventBridge may use, a dashboard for the score and every rule, and a metrics
function that publishes what CloudWatch lacks with exactly the permissions it uses."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from rules.policy.event_pattern import matches
from transcribe_guard import deploy, monitoring
from transcribe_guard.compliance import registry_entries
from transcribe_guard.iam_actions import recording
from transcribe_guard.simulator import Simulator

from .test_deploy import required_pack_parameters

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = monitoring.monitoring_template()
RESOURCES = TEMPLATE["Resources"]
NAMES = [entry.name for entry in registry_entries()]


def change_event(rule: str, new: str, old: str | None) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "resourceId": "arn:aws:transcribe:us-east-1:123456789012:transcription-job/call-1", "awsRegion": "us-east-1",
        "awsAccountId": "123456789012", "configRuleName": rule, "recordVersion": "1.0",
        "configRuleARN": "arn:aws:config:us-east-1:123456789012:config-rule/config-rule-abc123",
        "messageType": "ComplianceChangeNotification", "resourceType": "AWS::::Account",
        "newEvaluationResult": {"complianceType": new, "annotation": "Output is in a service-managed bucket."}}
    if old:
        detail["oldEvaluationResult"] = {"complianceType": old}
    return {"version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602", "detail-type": "Config Rules Compliance Change",
            "source": "aws.config", "account": "123456789012", "time": "2026-03-14T15:09:26Z", "region": "us-east-1",
            "resources": [], "detail": detail}


def patterns() -> list[dict[str, Any]]:
    return [r["Properties"]["EventPattern"] for r in RESOURCES.values()
            if r["Type"] == "AWS::Events::Rule" and "EventPattern" in r["Properties"]]


@pytest.mark.parametrize("name", NAMES)
def test_compliance_changes_of_every_pack_rule_are_notified(name: str) -> None:
    pack_rule = f"{name}-conformance-pack-a1b2c3d4"

    def notified(event: dict[str, Any]) -> bool:
        return any(matches(p, event) for p in patterns())

    assert notified(change_event(pack_rule, "NON_COMPLIANT", None))
    assert notified(change_event(pack_rule, "NON_COMPLIANT", "COMPLIANT"))
    assert notified(change_event(pack_rule, "COMPLIANT", "NON_COMPLIANT"))
    assert not notified(change_event(pack_rule, "COMPLIANT", None))
    assert not notified(change_event(pack_rule, "NOT_APPLICABLE", "COMPLIANT"))
    assert not notified(change_event(name, "NON_COMPLIANT", None))  # not a pack rule
    assert not notified({**change_event(pack_rule, "NON_COMPLIANT", None), "source": "aws.events"})


def test_rules_of_other_packs_and_names_are_not_notified() -> None:
    for other in ("s3-bucket-versioning-enabled-conformance-pack-a1b2c3d4", "transcribe-conformance-pack-a1b2c3d4",
                  f"x{NAMES[0]}-conformance-pack-a1b2c3d4"):
        assert not any(matches(p, change_event(other, "NON_COMPLIANT", None)) for p in patterns())


def test_patterns_stay_under_eventbridges_size_limit_however_many_rules() -> None:
    assert all(len(json.dumps(p, separators=(",", ":"))) <= monitoring.PATTERN_LIMIT for p in patterns())
    many = [f"transcribe-future-rule-number-{i:03d}" for i in range(200)]
    split = monitoring.compliance_change_patterns(many)
    assert len(split) > 1
    assert all(len(json.dumps(p, separators=(",", ":"))) <= monitoring.PATTERN_LIMIT for p in split)
    prefixes = [c["prefix"] for p in split for c in p["detail"]["configRuleName"]]
    assert prefixes == [f"{name}-conformance-pack-" for name in many]


def test_topic_is_encrypted_with_a_customer_key_eventbridge_and_alarms_may_use() -> None:
    topic = RESOURCES["NotificationTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": ["NotificationKey", "Arn"]}
    assert "alias/aws/sns" not in json.dumps(TEMPLATE)
    key = RESOURCES["NotificationKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    statements = {s["Sid"]: s for s in key["KeyPolicy"]["Statement"]}
    events = statements["EventBridgePublishesToTheEncryptedTopic"]
    assert events["Principal"] == {"Service": "events.amazonaws.com"}
    assert set(events["Action"]) == {"kms:GenerateDataKey*", "kms:Decrypt"}
    assert events["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    alarms = statements["CloudWatchAlarmsPublishToTheEncryptedTopic"]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and "aws:SourceAccount" in json.dumps(alarms)
    publish = {s["Sid"]: s for s in RESOURCES["NotificationTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]}
    rule_ids = [i for i, r in RESOURCES.items() if r["Type"] == "AWS::Events::Rule" and "EventPattern" in r["Properties"]]
    assert publish["ComplianceChangeRulesPublish"]["Condition"] == {
        "ArnEquals": {"aws:SourceArn": [{"Fn::GetAtt": [i, "Arn"]} for i in rule_ids]},
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    for rule_id in rule_ids:
        target = RESOURCES[rule_id]["Properties"]["Targets"][0]
        assert target["Arn"] == {"Ref": "NotificationTopic"}
        template = target["InputTransformer"]["InputTemplate"]
        placeholders = set(re.findall(r"<(\w+)>", template))
        assert placeholders == set(target["InputTransformer"]["InputPathsMap"])
        json.loads(re.sub(r"<\w+>", '"x"', template))  # valid JSON once EventBridge fills it in


def test_dashboard_shows_the_score_and_every_entry() -> None:
    body = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    references = set(re.findall(r"\$\{([^}!]+)\}", body))
    assert references <= set(TEMPLATE["Parameters"]) | set(RESOURCES) | {"AWS::Region"}
    dashboard = json.loads(re.sub(r"\$\{[^}]+\}", "1", body))
    metrics = [m for w in dashboard["widgets"] if w["type"] == "metric" for m in w["properties"]["metrics"]]
    assert ["AWS/Config", "ComplianceScore", "ConformancePackName", "1"] in metrics
    per_rule = {m[5] for m in metrics if m[:2] == [monitoring.METRIC_NAMESPACE, "NonCompliantResources"]}
    assert per_rule == set(NAMES)
    alarm = RESOURCES["ComplianceScoreAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Config", "ComplianceScore")
    assert alarm["Dimensions"] == [{"Name": "ConformancePackName", "Value": {"Ref": "PackName"}}]


def test_every_rule_function_has_an_errors_alarm_that_notifies_and_may_publish() -> None:
    from rules.catalog.registry import RULES

    alarms = {r["Properties"]["Dimensions"][0]["Value"]: (i, r["Properties"]) for i, r in RESOURCES.items()
              if r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"]["Namespace"] == "AWS/Lambda"}
    assert set(alarms) == set(RULES)  # the functions are named after their rules
    for name, (_, alarm) in alarms.items():
        assert (alarm["MetricName"], alarm["Statistic"], alarm["Threshold"]) == ("Errors", "Sum", 0)
        assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": name}]
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold" and alarm["TreatMissingData"] == "notBreaching"
        assert alarm["AlarmActions"] == [{"Ref": "NotificationTopic"}]
    queue = RESOURCES["FailedInvocationsAlarm"]["Properties"]
    assert (queue["Namespace"], queue["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert queue["Dimensions"] == [{"Name": "QueueName", "Value": monitoring.FAILED_INVOCATIONS_QUEUE}]
    assert queue["AlarmActions"] == [{"Ref": "NotificationTopic"}]
    # The topic policy lets exactly these alarms (and the score alarm) publish: none is refused.
    publish = {s["Sid"]: s for s in RESOURCES["NotificationTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]}
    allowed = publish["AlarmsPublish"]["Condition"]["ArnEquals"]["aws:SourceArn"]
    every_alarm = [i for i, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert sorted(a["Fn::GetAtt"][0] for a in allowed) == sorted(every_alarm)
    assert {i for i, _ in alarms.values()} | {"FailedInvocationsAlarm", "ComplianceScoreAlarm"} == set(every_alarm)


def test_metrics_function_role_allows_exactly_what_it_uses() -> None:
    statements = RESOURCES["MetricsFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    actions = {a for s in statements if s["Sid"] != "WriteOwnLogs"
               for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert actions == set(monitoring.PUBLISHER_ACTIONS)
    put = next(s for s in statements if s["Sid"] == "PutPackMetrics")
    assert put["Condition"] == {"StringEquals": {"cloudwatch:namespace": monitoring.METRIC_NAMESPACE}}
    assert len(monitoring.PUBLISHER_CODE) <= 4096  # CloudFormation's limit for inline (ZipFile) code


def test_metrics_function_publishes_per_rule_counts_from_the_deployed_pack(monkeypatch: Any) -> None:
    with Simulator(seed="demo") as sim:
        done = deploy.deploy(boto3.session.Session(), required_pack_parameters())
        config = sim.client("config")
        deploy.start_evaluation(config, done.pack_name)
        compliance = deploy.pack_compliance(config, done.pack_name)
        monkeypatch.setenv("PACK_NAME", done.pack_name)
        monkeypatch.setenv("METRIC_NAMESPACE", monitoring.METRIC_NAMESPACE)
        namespace: dict[str, Any] = {}
        exec(compile(monitoring.PUBLISHER_CODE, "index.py", "exec"), namespace)  # the function's own code
        with recording() as recorder:
            summary = namespace["handler"]({}, None)
        assert recorder.actions == set(monitoring.PUBLISHER_ACTIONS)
        cloudwatch = sim.client("cloudwatch")
        published: dict[tuple[str, str], float] = {}
        for metric in cloudwatch.list_metrics(Namespace=monitoring.METRIC_NAMESPACE)["Metrics"]:
            dimensions = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
            assert dimensions["ConformancePackName"] == done.pack_name
            points = cloudwatch.get_metric_statistics(
                Namespace=monitoring.METRIC_NAMESPACE, MetricName=metric["MetricName"], Dimensions=metric["Dimensions"],
                StartTime="2000-01-01T00:00:00Z", EndTime="2100-01-01T00:00:00Z", Period=86400, Statistics=["Maximum"])
            published[(dimensions["RuleName"], metric["MetricName"])] = points["Datapoints"][0]["Maximum"]
    assert summary == {"rules": len(NAMES), "metrics": 2 * len(NAMES)}
    for name in NAMES:
        results = [r for r in compliance.results if r["rule"] == name]
        assert published[(name, "NonCompliantResources")] == sum(r["compliance"] == "NON_COMPLIANT" for r in results)
        assert published[(name, "CompliantResources")] == sum(r["compliance"] == "COMPLIANT" for r in results)


def test_generated_template_is_cfn_lint_clean() -> None:
    path = ROOT / "transcribe_guard" / "templates" / "monitoring.yaml"
    cfn_lint = Path(sys.executable).with_name("cfn-lint")  # the Makefile lints every template; fail early here
    result = subprocess.run([str(cfn_lint), str(path)], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert result.returncode == 0, result.stdout + result.stderr


def test_metrics_function_policy_passes_parliament() -> None:
    import parliament

    policy = RESOURCES["MetricsFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    concrete = json.loads(json.dumps(policy).replace('{"Fn::GetAtt": ["MetricsFunctionLogGroup", "Arn"]}',
                                                     '"arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/x:*"'))
    findings = parliament.analyze_policy_string(json.dumps(concrete)).findings
    # Config's compliance reads have no resource-level permissions; PutMetricData is limited by namespace.
    assert [(f.issue, f.detail) for f in findings if f.issue != "RESOURCE_STAR"] == []
