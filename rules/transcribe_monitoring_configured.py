"""transcribe-monitoring-configured

Identifier: TRANSCRIBE_MONITORING_CONFIGURED
Description: Failed or risky Transcribe activity reaches a person: an enabled EventBridge rule
    with a target matches failed Transcribe jobs or Transcribe API calls, or a CloudWatch alarm
    with enabled actions watches a metric filter that counts Transcribe API calls in a trail's logs.
Rationale: Logging alone is read after the fact; a failed job (e.g. media it may not read) or an
    unexpected DeleteTranscriptionJob, TagResource or AccessDenied call needs someone to be told
    (AWS security practice 6, monitoring).
Severity: Medium
Trigger: Periodic
Reports on: the account (AWS::::Account, the account id), one evaluation per run
Parameters:
    MonitoringMethods (optional, default EventBridge,MetricAlarm): which of the two ways count.

How rules and filters are judged: by the events they would see, not by their text. Sample
events are matched against each EventBridge pattern (rules/policy/event_pattern.py) and sample CloudTrail
records against each metric filter pattern (rules/policy/filter_pattern.py):

- Transcribe's own EventBridge events for failed jobs: "Transcribe Job State Change" with
  TranscriptionJobStatus FAILED and "Call Analytics Job State Change" with JobStatus FAILED
  (source aws.transcribe; EventBridge reference, "Amazon Transcribe events"; Transcribe Developer
  Guide, "Using Amazon EventBridge with Amazon Transcribe").
- "AWS API Call via CloudTrail" events with eventSource transcribe.amazonaws.com for write calls
  (Start*Job, Delete*Job, Create/Update/DeleteVocabulary, Create/DeleteLanguageModel,
  Tag/UntagResource) and for calls denied with AccessDenied / AccessDeniedException. Read-only
  calls are not sampled: an ENABLED rule does not receive them (EventBridge User Guide, "Receiving
  read-only management events"). EventBridge receives CloudTrail events only while a trail is
  logging them ("Events from AWS services"), so a rule that matches only these needs a trail that
  records Transcribe management events in this region (rules/inventory/cloudtrail.py).
- The same CloudTrail records as JSON log events for metric filters on the log group a trail
  delivers to (DescribeTrails CloudWatchLogsLogGroupArn). The alarm must watch the filter's metric
  (name, namespace and dimension names; directly or in a metric-math query) and have
  ActionsEnabled with at least one AlarmActions entry.

A target or an alarm action is taken to reach a person; which one (SNS, a ticketing Lambda, an
incident manager) is not judged.

Scenarios:
    1. Given nothing configured (no EventBridge rule, no trail with a log group), then
       NON_COMPLIANT saying what is missing.
    2. Given an enabled EventBridge rule on the default event bus whose pattern matches a failed
       Transcribe job event and that has a target, then COMPLIANT naming the rule.
    3. Given an enabled rule with a target whose pattern matches only CloudTrail-delivered
       Transcribe API calls, then COMPLIANT only while a logging trail records Transcribe
       management events in this region.
    4. Given a matching rule that is DISABLED, then it does not count.
    5. Given a matching rule without a target, then it does not count.
    6. Given rules whose patterns match no failed or risky Transcribe event (another source, or
       only COMPLETED jobs), then they do not count.
    7. Given a metric filter on a trail's log group that matches Transcribe API call records and
       an alarm on its metric with enabled alarm actions, and the trail is logging and records
       Transcribe management events here, then COMPLIANT naming the alarm.
    8. Given such an alarm whose actions are disabled or that has no alarm action, then it does
       not count.
    9. Given metric filters that match no Transcribe API call record, no alarm on a matching
       filter's metric, or a trail behind the filter that is not logging, then they do not count.
   10. Given MonitoringMethods naming one way only, then only that way is checked and can count.
   11. Given an API error (e.g. AccessDenied), then NON_COMPLIANT with an annotation starting
       "Could not evaluate:", unless the other way was read and qualifies.
   12. Given a matching rule whose only targets are the pack's own functions (the ledger
       collector, the event trigger: rules/engine/pack_functions.py), then it does not count:
       they match Transcribe's events to feed the pack, not to tell a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping

from botocore.exceptions import ClientError
from rdklib import ComplianceType, Evaluation

from rules.policy import event_pattern, filter_pattern
from rules.engine.base import Evaluator, ACCOUNT_RESOURCE_TYPE, RunContext, TranscribeGuardRule
from rules.engine.pack_functions import pack_function_of
from rules.inventory.cloudtrail import TRANSCRIBE_SOURCE, Trail, TrailState, list_trails, read_trail, records_transcribe_here
from rules.inventory.transcribe import error_code

EVENTBRIDGE, METRIC_ALARM = "EventBridge", "MetricAlarm"
LIST_RULES_PAGE, LIST_TARGETS_PAGE, METRIC_FILTERS_PAGE, ALARMS_PAGE = 100, 100, 50, 100
ENABLED_STATES = ("ENABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")

WRITE_CALLS = ("StartTranscriptionJob", "StartCallAnalyticsJob", "StartMedicalTranscriptionJob", "StartMedicalScribeJob",
               "DeleteTranscriptionJob", "DeleteCallAnalyticsJob", "DeleteMedicalTranscriptionJob",
               "CreateVocabulary", "UpdateVocabulary", "DeleteVocabulary", "CreateLanguageModel", "DeleteLanguageModel",
               "TagResource", "UntagResource")
DENIED_ERRORS = ("AccessDenied", "AccessDeniedException")

METADATA: dict[str, Any] = {
    "name": "transcribe-monitoring-configured",
    "order": 8,
    "title": "Failed or risky Transcribe activity raises an alert",
    "description": "An enabled EventBridge rule with a target matches failed Transcribe jobs or Transcribe API calls, "
                   "or an alarm with enabled actions watches a metric filter counting Transcribe API calls in a "
                   "trail's logs.",
    "rationale": "Logs are read after the fact; a failed job or an unexpected delete, tag change or AccessDenied call "
                 "on Transcribe needs to reach a person while it can still be acted on.",
    "practice": 6,
    "severity": "medium",
    "trigger": {"type": "periodic", "frequency": "TwentyFour_Hours"},
    "resource_kinds": [ACCOUNT_RESOURCE_TYPE],
    "reports": "The account (AWS::::Account, the account id), once per run.",
    "not_applicable": "Never: every account and region can call Transcribe, so the account is always evaluated.",
    "parameters": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "MonitoringMethods": {
                "type": "string",
                "x-type": "list",
                "enum": [EVENTBRIDGE, METRIC_ALARM],
                "default": f"{EVENTBRIDGE},{METRIC_ALARM}",
                "maxLength": 64,
                "description": "Comma-separated ways that count: EventBridge (rule with a target) and/or MetricAlarm "
                               "(alarm on a CloudTrail metric filter).",
            },
        },
    },
    "iam_actions": [
        "events:ListRules",
        "events:ListTargetsByRule",
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetTrailStatus",
        "cloudtrail:GetEventSelectors",
        "logs:DescribeMetricFilters",
        "cloudwatch:DescribeAlarms",
    ],
    "remediation": "Create an EventBridge rule on the default bus matching {\"source\": [\"aws.transcribe\"], "
                   "\"detail-type\": [\"Transcribe Job State Change\"], \"detail\": {\"TranscriptionJobStatus\": "
                   "[\"FAILED\"]}} with an SNS topic target, or a metric filter { $.eventSource = "
                   "\"transcribe.amazonaws.com\" } on the trail's log group with an alarm that notifies SNS.",
}


# --- sample events ---------------------------------------------------------------------------------

def cloudtrail_records(account: str, region: str) -> list[dict[str, Any]]:
    """CloudTrail records of Transcribe calls worth an alert: writes, and calls that were denied."""
    def record(name: str, error: str | None = None) -> dict[str, Any]:
        item: dict[str, Any] = {
            "eventVersion": "1.09",
            "userIdentity": {"type": "AssumedRole", "accountId": account,
                             "arn": f"arn:aws:sts::{account}:assumed-role/example-role/example-session"},
            "eventTime": "2026-01-01T00:00:00Z", "eventSource": TRANSCRIBE_SOURCE, "eventName": name,
            "awsRegion": region, "sourceIPAddress": "203.0.113.10", "userAgent": "aws-cli/2.0",
            "requestParameters": {}, "responseElements": None, "readOnly": False, "eventType": "AwsApiCall",
            "managementEvent": True, "recipientAccountId": account, "eventCategory": "Management",
        }
        if error:
            item.update(errorCode=error, errorMessage=f"User is not authorized to perform: transcribe:{name}")
        return item
    return [record(name) for name in WRITE_CALLS] + [record("StartTranscriptionJob", error) for error in DENIED_ERRORS]


def _envelope(account: str, region: str, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    return {"version": "0", "id": "00000000-0000-0000-0000-000000000000", "detail-type": detail_type,
            "source": "aws.transcribe", "account": account, "time": "2026-01-01T00:00:00Z", "region": region,
            "resources": [], "detail": detail}


def direct_events(account: str, region: str) -> list[dict[str, Any]]:
    """Transcribe's own EventBridge events for failed jobs."""
    return [
        _envelope(account, region, "Transcribe Job State Change",
                  {"TranscriptionJobName": "example-job", "TranscriptionJobStatus": "FAILED"}),
        _envelope(account, region, "Call Analytics Job State Change", {"JobName": "example-job", "JobStatus": "FAILED"}),
    ]


def cloudtrail_events(account: str, region: str) -> list[dict[str, Any]]:
    """The CloudTrail records as EventBridge delivers them."""
    return [_envelope(account, region, "AWS API Call via CloudTrail", record)
            for record in cloudtrail_records(account, region)]


# --- one evaluation's findings --------------------------------------------------------------------

@dataclass
class Findings:
    satisfied: str | None = None
    gaps: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class _Trails:
    """Trails listed once per evaluation, each read at most once."""

    def __init__(self, ctx: RunContext):
        self.ctx = ctx
        self._trails: list[Trail] | None = None
        self._states: dict[str, TrailState] = {}

    def all(self) -> list[Trail]:  # raises ClientError
        if self._trails is None:
            self._trails = sorted(list_trails(self.ctx), key=lambda t: (t.name, t.arn))
        return self._trails

    def state(self, trail: Trail) -> TrailState:
        return read_trail(self.ctx, trail, self._states)

    def deliver_transcribe_here(self, trail: Trail) -> bool:
        return records_transcribe_here(self.state(trail), self.ctx.region)


def _pages(client: Any, operation: str, key: str, page_size: int, **kwargs: Any) -> Iterator[dict[str, Any]]:
    for page in client.get_paginator(operation).paginate(**kwargs, PaginationConfig={"PageSize": page_size}):
        yield from page.get(key, [])


def _log_group(arn: str) -> tuple[str, str] | None:
    """(region, log group name) of a CloudWatchLogsLogGroupArn."""
    parts = arn.split(":")
    if len(parts) < 7 or parts[2] != "logs" or parts[5] != "log-group":
        return None
    name = ":".join(parts[6:])
    return parts[3], name[:-2] if name.endswith(":*") else name


def _watches(alarm: Mapping[str, Any], transformation: Mapping[str, Any]) -> bool:
    wanted = (transformation.get("metricName"), transformation.get("metricNamespace"),
              frozenset((transformation.get("dimensions") or {}).keys()))

    def metric_of(metric: Mapping[str, Any]) -> tuple[Any, Any, frozenset[str]]:
        return (metric.get("MetricName"), metric.get("Namespace"),
                frozenset(d.get("Name") for d in metric.get("Dimensions") or []))

    if metric_of(alarm) == wanted:
        return True
    return any(metric_of(query.get("MetricStat", {}).get("Metric", {})) == wanted for query in alarm.get("Metrics") or [])


def _count(items: Iterable[Any], noun: str) -> str:
    number = len(list(items))
    return f"{number} {noun}{'' if number == 1 else 's'}"


class TranscribeMonitoringConfigured(TranscribeGuardRule):
    METADATA = METADATA

    def evaluate(self, ctx: RunContext, params: Mapping[str, Any]) -> Iterable[Evaluation]:
        methods: list[str] = params["MonitoringMethods"]
        trails = _Trails(ctx)
        findings = Findings()
        if EVENTBRIDGE in methods:  # Scenario 10: only the ways asked for
            self._eventbridge(ctx, trails, findings)
        if findings.satisfied is None and METRIC_ALARM in methods:
            self._metric_alarms(ctx, trails, findings)
        if findings.satisfied:  # Scenarios 2, 3, 7; Scenario 11: an error elsewhere does not undo a proof
            return [self._account(ctx, ComplianceType.COMPLIANT, findings.satisfied)]
        gaps = "; ".join(findings.gaps)
        if findings.errors:  # Scenario 11: fail closed
            return [self._account(ctx, ComplianceType.NON_COMPLIANT,
                                  f"Could not evaluate: {'; '.join(findings.errors)}" + (f"; {gaps}." if gaps else "."))]
        return [self._account(ctx, ComplianceType.NON_COMPLIANT, f"No Transcribe alert reaches a person: {gaps}.")]

    # --- EventBridge ------------------------------------------------------------------------------

    def _eventbridge(self, ctx: RunContext, trails: _Trails, findings: Findings) -> None:
        events = ctx.client("events")
        direct, via_trail = direct_events(ctx.account_id, ctx.region), cloudtrail_events(ctx.account_id, ctx.region)
        try:
            rules = sorted(_pages(events, "list_rules", "Rules", LIST_RULES_PAGE), key=lambda r: str(r.get("Name")))
        except ClientError as error:  # Scenario 11
            findings.errors.append(f"{error_code(error)} when listing EventBridge rules")
            return
        candidates = []
        for rule in rules:
            pattern = event_pattern.parse(rule.get("EventPattern"))
            if pattern is None:
                continue
            matches_direct = any(event_pattern.matches(pattern, event) for event in direct)
            matches_trail = any(event_pattern.matches(pattern, event) for event in via_trail)
            if matches_direct or matches_trail:
                candidates.append((rule, matches_direct))
        if not candidates:  # Scenarios 1, 6
            findings.gaps.append("no EventBridge rule on the default bus matches failed or risky Transcribe events")
            return
        gaps = []
        for rule, matches_direct in candidates:
            name = rule.get("Name")
            if rule.get("State") not in ENABLED_STATES:  # Scenario 4
                gaps.append(f"EventBridge rule {name} is disabled")
                continue
            try:
                targets = list(_pages(events, "list_targets_by_rule", "Targets", LIST_TARGETS_PAGE, Rule=name))
            except ClientError as error:  # Scenario 11
                findings.errors.append(f"{error_code(error)} when listing the targets of EventBridge rule {name}")
                continue
            if not targets:  # Scenario 5
                gaps.append(f"EventBridge rule {name} has no target")
                continue
            pack_own = sorted({str(pack_function_of(t.get("Arn"))) for t in targets if pack_function_of(t.get("Arn"))})
            targets = [t for t in targets if not pack_function_of(t.get("Arn"))]
            if not targets:  # Scenario 12
                gaps.append(f"EventBridge rule {name} invokes only this pack's own function{'s' if len(pack_own) > 1 else ''} "
                            f"{', '.join(pack_own)}")
                continue
            if not matches_direct:  # Scenario 3
                try:
                    delivered = any(trails.deliver_transcribe_here(trail) for trail in trails.all())
                except ClientError as error:
                    findings.errors.append(f"{error_code(error)} when listing CloudTrail trails")
                    continue
                if not delivered:
                    gaps.append(f"EventBridge rule {name} matches only CloudTrail API events, but no logging trail "
                                "records Transcribe management events here")
                    continue
            findings.satisfied = (f"EventBridge rule {name} sends failed or risky Transcribe events to "  # Scenarios 2-3
                                  f"{_count(targets, 'target')}.")
            return
        findings.gaps.extend(gaps)

    # --- metric filters and alarms ----------------------------------------------------------------

    def _metric_alarms(self, ctx: RunContext, trails: _Trails, findings: Findings) -> None:
        try:
            with_logs = [t for t in trails.all() if t.log_group_arn and _log_group(t.log_group_arn)]
        except ClientError as error:  # Scenario 11
            findings.errors.append(f"{error_code(error)} when listing CloudTrail trails")
            return
        if not with_logs:  # Scenario 1
            findings.gaps.append("no trail delivers its events to a CloudWatch Logs group for metric filters")
            return
        records = cloudtrail_records(ctx.account_id, ctx.region)
        matching: list[tuple[Trail, str, dict[str, Any]]] = []
        filters_by_group: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for trail in with_logs:
            group = _log_group(str(trail.log_group_arn))
            assert group is not None
            if group not in filters_by_group:
                try:
                    logs = ctx.client_factory.build_client("logs", region=group[0])
                    filters_by_group[group] = list(_pages(logs, "describe_metric_filters", "metricFilters",
                                                          METRIC_FILTERS_PAGE, logGroupName=group[1]))
                except ClientError as error:  # Scenario 11
                    findings.errors.append(f"{error_code(error)} when listing the metric filters of log group {group[1]}")
                    filters_by_group[group] = []
                    continue
            for metric_filter in filters_by_group[group]:
                if any(filter_pattern.matches(str(metric_filter.get("filterPattern", "")), r) for r in records):
                    matching.append((trail, group[0], metric_filter))
        if not matching:  # Scenario 9
            if not findings.errors:
                findings.gaps.append("no metric filter on a trail's log group matches Transcribe API calls")
            return
        alarms_by_region: dict[str, list[dict[str, Any]]] = {}
        gaps = []
        for trail, region, metric_filter in matching:
            filter_name = metric_filter.get("filterName")
            state = trails.state(trail)
            if state.error is not None:  # Scenario 11
                findings.errors.append(f"{error_code(state.error)} when calling {state.failed_call} for trail {trail.name}")
                continue
            if not records_transcribe_here(state, ctx.region):  # Scenario 9
                gaps.append(f"trail {trail.name} behind metric filter {filter_name} is not logging Transcribe "
                            "management events here")
                continue
            if region not in alarms_by_region:
                try:
                    cloudwatch = ctx.client_factory.build_client("cloudwatch", region=region)
                    alarms_by_region[region] = list(_pages(cloudwatch, "describe_alarms", "MetricAlarms", ALARMS_PAGE,
                                                           AlarmTypes=["MetricAlarm"]))
                except ClientError as error:  # Scenario 11
                    findings.errors.append(f"{error_code(error)} when describing CloudWatch alarms")
                    return
            watching = sorted((a for a in alarms_by_region[region]
                               if any(_watches(a, t) for t in metric_filter.get("metricTransformations") or [])),
                              key=lambda a: str(a.get("AlarmName")))
            if not watching:  # Scenario 9
                gaps.append(f"no alarm watches the metric of metric filter {filter_name}")
                continue
            for alarm in watching:
                if alarm.get("ActionsEnabled") and alarm.get("AlarmActions"):  # Scenario 7
                    findings.satisfied = (f"Alarm {alarm.get('AlarmName')} ({_count(alarm['AlarmActions'], 'alarm action')}) "
                                          f"watches metric filter {filter_name} on trail {trail.name}'s log group, "
                                          "which matches Transcribe API calls.")
                    return
            gaps.append(f"alarm {watching[0].get('AlarmName')} on metric filter {filter_name} has no enabled "  # Scenario 8
                        "alarm actions")
        findings.gaps.extend(gaps)

    def _account(self, ctx: RunContext, compliance: str, text: str) -> Evaluation:
        return self.result(ctx, compliance, ctx.account_id, text, resource_type=ACCOUNT_RESOURCE_TYPE)


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return Evaluator(TranscribeMonitoringConfigured()).handle(event, context)
