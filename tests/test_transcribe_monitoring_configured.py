"""transcribe-monitoring-configured: every scenario against the simulated account (EventBridge
rules, trails, metric filters and alarms created with plain boto3 calls), pagination past a page,
parameters, API errors, the demo account, and the Lambda handler with a real
ScheduledNotification event."""

from __future__ import annotations

import json
from typing import Any

import botocore.client
import botocore.exceptions
import pytest
from rdklib import ClientFactory, ComplianceType, Evaluation, InvalidParametersError

import rules.transcribe_monitoring_configured as rule_module
from rules.transcribe_monitoring_configured import TranscribeMonitoringConfigured, lambda_handler
from tests.helpers import rejected_parameters
from tests.helpers import ACCOUNT, REGION, access_denied, deploy_rule, fail_calls, periodic_event, stored_verdicts
from rules.engine.pack_functions import EVENT_TRIGGER, LEDGER_COLLECTOR
from transcribe_guard.iam_actions import recording
from transcribe_guard.simulator import Simulator

RULE = "transcribe-monitoring-configured"
TYPE = "AWS::::Account"
NC, OK = ComplianceType.NON_COMPLIANT, ComplianceType.COMPLIANT
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:security-alerts"
FAILED_JOBS = {"source": ["aws.transcribe"], "detail-type": ["Transcribe Job State Change"],
               "detail": {"TranscriptionJobStatus": ["FAILED"]}}
API_CALLS = {"source": ["aws.transcribe"], "detail-type": ["AWS API Call via CloudTrail"],
             "detail": {"eventSource": ["transcribe.amazonaws.com"]}}
TRANSCRIBE_FILTER = '{ $.eventSource = "transcribe.amazonaws.com" }'
NO_RULE = "no EventBridge rule on the default bus matches failed or risky Transcribe events"
NO_LOG_GROUP = "no trail delivers its events to a CloudWatch Logs group for metric filters"
NO_FILTER = "no metric filter on a trail's log group matches Transcribe API calls"


def evaluate(parameters: dict[str, str] | None = None) -> list[Evaluation]:
    rule = TranscribeMonitoringConfigured()
    return rule.evaluate_periodic({"accountId": ACCOUNT}, ClientFactory(None, region=REGION, assume_role_mode=False),
                                  rule.evaluate_parameters(parameters or {}))


def account(compliance: str, text: str) -> list[Evaluation]:
    return [Evaluation(compliance, ACCOUNT, TYPE, text)]


def missing(*gaps: str) -> list[Evaluation]:
    return account(NC, f"No Transcribe alert reaches a person: {'; '.join(gaps)}.")


# --- seeding, as an administrator would ------------------------------------------------------------

def event_rule(sim: Any, name: str, pattern: dict[str, Any], targets: int = 1, state: str = "ENABLED") -> None:
    events = sim.client("events")
    events.put_rule(Name=name, EventPattern=json.dumps(pattern), State=state)
    if targets:
        events.put_targets(Rule=name, Targets=[{"Id": f"t{i}", "Arn": TOPIC} for i in range(targets)])


def trail(sim: Any, name: str = "audit", log_group: str | None = "audit/cloudtrail", logging: bool = True,
          region: str = REGION) -> None:
    sim.client("s3").create_bucket(Bucket=f"{name}-trail-logs")
    extra = {}
    if log_group:
        sim.client("logs", region=region).create_log_group(logGroupName=log_group)
        extra = {"CloudWatchLogsLogGroupArn": f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{log_group}:*",
                 "CloudWatchLogsRoleArn": f"arn:aws:iam::{ACCOUNT}:role/cloudtrail-to-logs"}
    cloudtrail = sim.client("cloudtrail", region=region)
    cloudtrail.create_trail(Name=name, S3BucketName=f"{name}-trail-logs", IsMultiRegionTrail=True, **extra)
    if logging:
        cloudtrail.start_logging(Name=name)


def metric_filter(sim: Any, name: str, pattern: str = TRANSCRIBE_FILTER, log_group: str = "audit/cloudtrail",
                  metric: str = "TranscribeApiCalls", region: str = REGION, **transformation: Any) -> None:
    sim.client("logs", region=region).put_metric_filter(
        logGroupName=log_group, filterName=name, filterPattern=pattern,
        metricTransformations=[{"metricName": metric, "metricNamespace": "Security", "metricValue": "1",
                                **transformation}])


def alarm(sim: Any, name: str, metric: str = "TranscribeApiCalls", actions: list[str] | None = None,
          enabled: bool = True, region: str = REGION, **extra: Any) -> None:
    sim.client("cloudwatch", region=region).put_metric_alarm(
        AlarmName=name, MetricName=metric, Namespace="Security", Statistic="Sum", Period=300, EvaluationPeriods=1,
        Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=[TOPIC] if actions is None else actions, ActionsEnabled=enabled, **extra)


def alarm_path(sim: Any, pattern: str = TRANSCRIBE_FILTER, **alarm_args: Any) -> None:
    trail(sim)
    metric_filter(sim, "transcribe-calls", pattern)
    alarm(sim, "transcribe-calls-alarm", **alarm_args)


ALARM_OK = account(OK, "Alarm transcribe-calls-alarm (1 alarm action) watches metric filter transcribe-calls on trail "
                       "audit's log group, which matches Transcribe API calls.")


# --- scenarios --------------------------------------------------------------------------------------

def test_scenario1_nothing_configured(sim: Any) -> None:
    assert evaluate() == missing(NO_RULE, NO_LOG_GROUP)


@pytest.mark.parametrize("pattern", [
    pytest.param(FAILED_JOBS, id="failed-transcription-jobs"),
    pytest.param({"source": ["aws.transcribe"]}, id="every-transcribe-event"),
    pytest.param({"source": [{"prefix": "aws.trans"}], "detail": {"TranscriptionJobStatus": [{"anything-but": "COMPLETED"}]}},
                 id="prefix-and-anything-but"),
    pytest.param({"detail-type": ["Call Analytics Job State Change"], "detail": {"JobStatus": ["FAILED"]}},
                 id="failed-call-analytics-jobs"),
    pytest.param({"$or": [{"source": ["aws.s3"]}, {"detail": {"TranscriptionJobStatus": ["FAILED"]}}]}, id="or"),
])
def test_scenario2_enabled_rule_with_target_matching_failed_jobs(sim: Any, pattern: dict[str, Any]) -> None:
    event_rule(sim, "transcribe-failures", pattern, targets=2)
    assert evaluate() == account(OK, "EventBridge rule transcribe-failures sends failed or risky Transcribe events to "
                                     "2 targets.")


def test_scenario3_api_call_rule_counts_only_with_a_logging_trail(sim: Any) -> None:
    event_rule(sim, "transcribe-api-calls", API_CALLS)
    gap = ("EventBridge rule transcribe-api-calls matches only CloudTrail API events, but no logging trail records "
           "Transcribe management events here")
    assert evaluate() == missing(gap, NO_LOG_GROUP)
    trail(sim, log_group=None, logging=False)
    assert evaluate() == missing(gap, NO_LOG_GROUP)
    sim.client("cloudtrail").start_logging(Name="audit")
    assert evaluate() == account(OK, "EventBridge rule transcribe-api-calls sends failed or risky Transcribe events "
                                     "to 1 target.")


@pytest.mark.parametrize("detail", [
    pytest.param({"eventSource": ["transcribe.amazonaws.com"], "errorCode": [{"prefix": "AccessDenied"}]},
                 id="denied-calls"),
    pytest.param({"eventName": ["DeleteTranscriptionJob", "DeleteVocabulary"]}, id="deletions"),
    pytest.param({"eventSource": ["transcribe.amazonaws.com"], "errorCode": [{"exists": True}]}, id="any-error"),
])
def test_scenario3_risky_api_call_patterns(sim: Any, detail: dict[str, Any]) -> None:
    trail(sim, log_group=None)
    event_rule(sim, "risky-calls", {"source": ["aws.transcribe"], "detail-type": ["AWS API Call via CloudTrail"],
                                    "detail": detail})
    assert evaluate()[0].complianceType == OK


def test_scenario4_disabled_rule_does_not_count(sim: Any) -> None:
    event_rule(sim, "transcribe-failures", FAILED_JOBS, state="DISABLED")
    assert evaluate() == missing("EventBridge rule transcribe-failures is disabled", NO_LOG_GROUP)


def test_scenario4_rule_receiving_read_only_events_is_enabled(sim: Any) -> None:
    event_rule(sim, "all-transcribe", FAILED_JOBS, state="ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")
    assert evaluate()[0].complianceType == OK


def test_scenario5_rule_without_target_does_not_count(sim: Any) -> None:
    event_rule(sim, "transcribe-failures", FAILED_JOBS, targets=0)
    assert evaluate() == missing("EventBridge rule transcribe-failures has no target", NO_LOG_GROUP)


def test_scenario4_and_5_every_candidate_is_named(sim: Any) -> None:
    event_rule(sim, "a-disabled", FAILED_JOBS, state="DISABLED")
    event_rule(sim, "b-no-target", FAILED_JOBS, targets=0)
    event_rule(sim, "c-other", {"source": ["aws.s3"]})
    assert evaluate() == missing("EventBridge rule a-disabled is disabled; EventBridge rule b-no-target has no target",
                                 NO_LOG_GROUP)


@pytest.mark.parametrize("pattern", [
    pytest.param({"source": ["aws.s3"]}, id="other-source"),
    pytest.param({**FAILED_JOBS, "detail": {"TranscriptionJobStatus": ["COMPLETED"]}}, id="completed-only"),
    pytest.param({"source": ["aws.transcribe"], "detail": {"TranscriptionJobStatus": [{"anything-but": ["FAILED"]}]}},
                 id="anything-but-failed"),
    pytest.param({"source": ["aws.transcribe"], "detail-type": ["AWS API Call via CloudTrail"],
                  "detail": {"eventName": [{"prefix": "List"}]}}, id="read-only-calls"),
    pytest.param({"source": ["AWS.TRANSCRIBE"]}, id="case-sensitive"),
    pytest.param({"source": ["aws.transcribe"], "detail": {"errorCode": [{"exists": False}]},
                  "detail-type": ["AWS API Call via CloudTrail"], "region": ["eu-west-1"]}, id="other-region"),
])
def test_scenario6_patterns_that_match_no_failed_or_risky_event(sim: Any, pattern: dict[str, Any]) -> None:
    trail(sim, log_group=None)
    event_rule(sim, "not-for-us", pattern)
    assert evaluate() == missing(NO_RULE, NO_LOG_GROUP)


def test_scenario6_rule_with_schedule_only_is_ignored(sim: Any) -> None:
    sim.client("events").put_rule(Name="nightly", ScheduleExpression="rate(1 day)")
    sim.client("events").put_targets(Rule="nightly", Targets=[{"Id": "t", "Arn": TOPIC}])
    assert evaluate() == missing(NO_RULE, NO_LOG_GROUP)


@pytest.mark.parametrize("pattern", [
    pytest.param(TRANSCRIBE_FILTER, id="event-source"),
    pytest.param('{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }', id="cis-unauthorized"),
    pytest.param('{ ($.eventSource = transcribe.amazonaws.com) && ($.eventName = Delete*) }', id="deletions"),
    pytest.param('"transcribe.amazonaws.com"', id="term"),
])
def test_scenario7_alarm_with_actions_on_a_matching_metric_filter(sim: Any, pattern: str) -> None:
    alarm_path(sim, pattern)
    assert evaluate() == ALARM_OK


def test_scenario7_metric_math_alarm_and_dimensions(sim: Any) -> None:
    trail(sim)
    metric_filter(sim, "transcribe-calls", dimensions={"EventName": "$.eventName"})
    alarm(sim, "no-dimensions")  # watches the metric without the filter's dimension: another metric
    assert evaluate() == missing(NO_RULE, "no alarm watches the metric of metric filter transcribe-calls")
    sim.client("cloudwatch").put_metric_alarm(
        AlarmName="math", EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
        AlarmActions=[TOPIC], Metrics=[
            {"Id": "calls", "ReturnData": False, "MetricStat": {"Stat": "Sum", "Period": 300, "Metric": {
                "Namespace": "Security", "MetricName": "TranscribeApiCalls",
                "Dimensions": [{"Name": "EventName", "Value": "DeleteTranscriptionJob"}]}}},
            {"Id": "total", "Expression": "calls * 1", "ReturnData": True}])
    assert evaluate() == account(OK, "Alarm math (1 alarm action) watches metric filter transcribe-calls on trail "
                                     "audit's log group, which matches Transcribe API calls.")


def test_scenario7_shadow_trail_log_group_in_its_home_region(sim: Any) -> None:
    trail(sim, "eu-audit", log_group="eu/cloudtrail", region="eu-west-1")
    metric_filter(sim, "transcribe-calls", log_group="eu/cloudtrail", region="eu-west-1")
    alarm(sim, "eu-alarm", region="eu-west-1")
    assert evaluate() == account(OK, "Alarm eu-alarm (1 alarm action) watches metric filter transcribe-calls on trail "
                                     "eu-audit's log group, which matches Transcribe API calls.")


@pytest.mark.parametrize("alarm_args", [
    pytest.param({"enabled": False}, id="actions-disabled"),
    pytest.param({"actions": [], "OKActions": [TOPIC]}, id="no-alarm-action"),
])
def test_scenario8_alarm_without_enabled_actions_does_not_count(sim: Any, alarm_args: dict[str, Any]) -> None:
    alarm_path(sim, **alarm_args)
    assert evaluate() == missing(
        NO_RULE, "alarm transcribe-calls-alarm on metric filter transcribe-calls has no enabled alarm actions")


@pytest.mark.parametrize("pattern", [
    pytest.param('{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }', id="console-login"),
    pytest.param('{ $.eventSource = "s3.amazonaws.com" }', id="other-service"),
    pytest.param('{ $.eventSource = "transcribe.amazonaws.com" && $.readOnly IS TRUE }', id="reads-only"),
    pytest.param("[version, account, eni]", id="space-delimited"),
])
def test_scenario9_metric_filter_not_matching_transcribe(sim: Any, pattern: str) -> None:
    alarm_path(sim, pattern)
    assert evaluate() == missing(NO_RULE, NO_FILTER)


def test_scenario9_no_alarm_on_the_filter_metric(sim: Any) -> None:
    alarm_path(sim, metric="SomethingElse")
    assert evaluate() == missing(NO_RULE, "no alarm watches the metric of metric filter transcribe-calls")


def test_scenario9_trail_behind_the_filter_is_not_logging(sim: Any) -> None:
    alarm_path(sim)
    sim.client("cloudtrail").stop_logging(Name="audit")
    assert evaluate() == missing(
        NO_RULE, "trail audit behind metric filter transcribe-calls is not logging Transcribe management events here")


def test_scenario10_monitoring_methods_limit_the_ways_that_count(sim: Any) -> None:
    alarm_path(sim)
    with recording() as recorder:
        assert evaluate({"MonitoringMethods": "EventBridge"}) == missing(NO_RULE)
    assert recorder.actions == {"events:ListRules"}
    assert evaluate({"MonitoringMethods": "MetricAlarm"}) == ALARM_OK
    assert evaluate({"MonitoringMethods": "MetricAlarm, EventBridge"}) == ALARM_OK
    event_rule(sim, "transcribe-failures", FAILED_JOBS)
    with recording() as recorder:
        assert evaluate({"MonitoringMethods": "EventBridge"})[0].complianceType == OK
    assert "logs:DescribeMetricFilters" not in recorder.actions


def deny(monkeypatch: Any, operation: str) -> None:
    fail_calls(monkeypatch, botocore.client.BaseClient, "_make_api_call",
               lambda client, name, params: name == operation, lambda: access_denied(operation))


def test_scenario11_list_rules_denied_fails_closed(sim: Any, monkeypatch: Any) -> None:
    deny(monkeypatch, "ListRules")
    assert evaluate() == account(NC, f"Could not evaluate: AccessDeniedException when listing EventBridge rules; "
                                     f"{NO_LOG_GROUP}.")


def test_scenario11_denied_eventbridge_does_not_hide_a_qualifying_alarm(sim: Any, monkeypatch: Any) -> None:
    alarm_path(sim)
    deny(monkeypatch, "ListRules")
    assert evaluate() == ALARM_OK


@pytest.mark.parametrize("operation, what", [
    ("DescribeAlarms", "describing CloudWatch alarms"),
    ("DescribeMetricFilters", "listing the metric filters of log group audit/cloudtrail"),
    ("DescribeTrails", "listing CloudTrail trails"),
])
def test_scenario11_alarm_path_errors_fail_closed(sim: Any, monkeypatch: Any, operation: str, what: str) -> None:
    alarm_path(sim)
    event_rule(sim, "transcribe-failures", FAILED_JOBS, targets=0)
    deny(monkeypatch, operation)
    assert evaluate() == account(NC, f"Could not evaluate: AccessDeniedException when {what}; EventBridge rule "
                                     "transcribe-failures has no target.")


def test_scenario11_trail_status_denied(sim: Any, monkeypatch: Any) -> None:
    alarm_path(sim)
    deny(monkeypatch, "GetTrailStatus")
    assert evaluate() == account(NC, "Could not evaluate: AccessDeniedException when calling GetTrailStatus for trail "
                                     f"audit; {NO_RULE}.")


def test_scenario11_rule_targets_denied(sim: Any, monkeypatch: Any) -> None:
    event_rule(sim, "transcribe-failures", FAILED_JOBS)
    deny(monkeypatch, "ListTargetsByRule")
    assert evaluate() == account(NC, "Could not evaluate: AccessDeniedException when listing the targets of EventBridge "
                                     f"rule transcribe-failures; {NO_LOG_GROUP}.")


def test_pagination_past_a_page_of_rules_filters_and_alarms(sim: Any) -> None:
    events = sim.client("events")
    for index in range(101):
        events.put_rule(Name=f"other-{index:03d}", EventPattern=json.dumps({"source": ["aws.s3"]}))
    event_rule(sim, "zz-transcribe-failures", FAILED_JOBS, targets=0)
    trail(sim)
    for index in range(50):
        metric_filter(sim, f"a-console-{index:02d}", '{ $.eventName = ConsoleLogin }', metric=f"Console{index}")
    metric_filter(sim, "zz-transcribe-calls")
    for index in range(100):
        alarm(sim, f"a-console-{index:03d}", metric=f"Console{index}")
    alarm(sim, "zz-transcribe-alarm")
    with recording() as recorder:
        result = evaluate()
    assert result == account(OK, "Alarm zz-transcribe-alarm (1 alarm action) watches metric filter zz-transcribe-calls "
                                 "on trail audit's log group, which matches Transcribe API calls.")
    assert recorder.calls["events:ListRules"] == 2  # 102 rules, 100 a page
    assert recorder.calls["logs:DescribeMetricFilters"] == 2  # 51 filters, 50 a page
    assert recorder.calls["cloudwatch:DescribeAlarms"] == 2  # 101 alarms, 100 a page


def test_pagination_of_rule_targets(sim: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(rule_module, "LIST_TARGETS_PAGE", 1)  # EventBridge allows 5 targets a rule
    event_rule(sim, "transcribe-failures", FAILED_JOBS, targets=3)
    with recording() as recorder:
        assert evaluate() == account(OK, "EventBridge rule transcribe-failures sends failed or risky Transcribe events "
                                         "to 3 targets.")
    assert recorder.calls["events:ListTargetsByRule"] == 3


def _lambda(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


@pytest.mark.parametrize("arns, named", [
    pytest.param([_lambda(LEDGER_COLLECTOR)], "function transcribe-guard-ledger-collector", id="collector"),
    pytest.param([_lambda(EVENT_TRIGGER) + ":$LATEST", f"arn:aws-cn:lambda:cn-north-1:{ACCOUNT}:function:"
                  + LEDGER_COLLECTOR], "functions transcribe-guard-event-trigger, transcribe-guard-ledger-collector",
                 id="trigger-qualified-and-collector-in-another-partition"),
])
def test_scenario12_a_rule_feeding_only_the_packs_own_functions_does_not_count(sim: Any, arns: list[str],
                                                                               named: str) -> None:
    events = sim.client("events")
    events.put_rule(Name="tg", EventPattern=json.dumps({"source": ["aws.transcribe"]}))
    events.put_targets(Rule="tg", Targets=[{"Id": f"t{i}", "Arn": a} for i, a in enumerate(arns)])
    assert evaluate() == missing(f"EventBridge rule tg invokes only this pack's own {named}",
                                 NO_LOG_GROUP)


@pytest.mark.parametrize("other", [TOPIC, _lambda("transcribe-guard-ledger-collector-alerts")])
def test_scenario12_another_target_beside_the_packs_own_counts_alone(sim: Any, other: str) -> None:
    events = sim.client("events")
    events.put_rule(Name="transcribe-failures", EventPattern=json.dumps(FAILED_JOBS))
    events.put_targets(Rule="transcribe-failures", Targets=[{"Id": "collector", "Arn": _lambda(LEDGER_COLLECTOR)},
                                                            {"Id": "people", "Arn": other}])
    assert evaluate() == account(OK, "EventBridge rule transcribe-failures sends failed or risky Transcribe events to "
                                     "1 target.")


def test_demo_account_has_no_transcribe_alert() -> None:
    with Simulator(seed="demo"):
        assert evaluate() == missing(
            "EventBridge rule acme-transcribe-failed-jobs has no target",
            "alarm acme-transcribe-api-volume on metric filter acme-transcribe-api-calls has no enabled alarm actions")


@pytest.mark.parametrize("parameters, message", [
    ({"MonitoringMethods": "Email"}, "Parameter MonitoringMethods has an unsupported value; allowed: EventBridge, MetricAlarm"),
    ({"MonitoringMethods": "eventbridge"}, "Parameter MonitoringMethods has an unsupported value"),
    ({"MonitoringMethods": "EventBridge," * 10}, "Parameter MonitoringMethods is 120 characters long; the limit is 64"),
    ({"Methods": "EventBridge"}, "Unknown parameter Methods; this rule accepts: MonitoringMethods"),
])
def test_bad_parameters_name_the_parameter(parameters: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParametersError, match=message):
        TranscribeMonitoringConfigured().evaluate_parameters(parameters)


def test_empty_monitoring_methods_means_both() -> None:
    assert TranscribeMonitoringConfigured().evaluate_parameters({"MonitoringMethods": " "}) == {
        "MonitoringMethods": ["EventBridge", "MetricAlarm"]}


def test_lambda_handler_rejects_bad_parameters_with_invalid_parameter_value(sim: Any) -> None:
    deploy_rule(sim, RULE)
    response = rejected_parameters(lambda_handler, periodic_event(RULE, {"MonitoringMethods": "Pager"}))
    assert response["customerErrorCode"] == "InvalidParameterValueException"
    assert "MonitoringMethods" in response["customerErrorMessage"]


def test_lambda_handler_stores_the_account_verdict(sim: Any) -> None:
    deploy_rule(sim, RULE)
    lambda_handler(periodic_event(RULE), None)
    assert stored_verdicts(sim, RULE) == {ACCOUNT: NC}  # Scenario 1
    event_rule(sim, "transcribe-failures", FAILED_JOBS)
    lambda_handler(periodic_event(RULE), None)
    assert stored_verdicts(sim, RULE) == {ACCOUNT: OK}  # Scenario 2
    sim.client("events").disable_rule(Name="transcribe-failures")
    lambda_handler(periodic_event(RULE, {"MonitoringMethods": "EventBridge"}), None)
    assert stored_verdicts(sim, RULE) == {ACCOUNT: NC}  # Scenario 4
