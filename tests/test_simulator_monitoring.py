"""The simulator's monitoring extension (transcribe_guard/simulator/monitoring.py) and the moto
operations the monitoring rules read: every response is checked against botocore's model."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from transcribe_guard.simulator.shapes import output_shape, validate

ACCOUNT, REGION = "123456789012", "us-east-1"
DEFAULT_SELECTOR = {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [],
                    "ExcludeManagementEventSources": []}
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"


def checked(service: str, client: Any, method: str, **kwargs: Any) -> dict[str, Any]:
    """Calls ``method`` and checks the response against botocore's output shape."""
    response = getattr(client, method)(**kwargs)
    response.pop("ResponseMetadata", None)
    operation = client.meta.method_to_api_mapping[method]
    assert validate(output_shape(service, operation), response) == [], operation
    return response


@pytest.fixture
def cloudtrail(sim: Any) -> Any:
    sim.client("s3").create_bucket(Bucket="trail-logs")
    client = sim.client("cloudtrail")
    client.create_trail(Name="audit", S3BucketName="trail-logs", IsMultiRegionTrail=True)
    return client


def test_new_trail_has_the_default_event_selector(cloudtrail: Any) -> None:
    response = checked("cloudtrail", cloudtrail, "get_event_selectors", TrailName="audit")
    assert response["EventSelectors"] == [DEFAULT_SELECTOR]
    assert response.get("AdvancedEventSelectors", []) == []
    assert checked("cloudtrail", cloudtrail, "describe_trails")["trailList"][0]["HasCustomEventSelectors"] is False


def test_put_event_selectors_replaces_the_other_kind(cloudtrail: Any) -> None:
    advanced = [{"Name": "management", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]
    cloudtrail.put_event_selectors(TrailName="audit", AdvancedEventSelectors=advanced)
    response = checked("cloudtrail", cloudtrail, "get_event_selectors", TrailName="audit")
    assert (response.get("EventSelectors", []), response["AdvancedEventSelectors"]) == ([], advanced)
    cloudtrail.put_event_selectors(TrailName="audit", EventSelectors=[{"ReadWriteType": "WriteOnly"}])
    response = checked("cloudtrail", cloudtrail, "get_event_selectors", TrailName="audit")
    assert response["EventSelectors"] == [{**DEFAULT_SELECTOR, "ReadWriteType": "WriteOnly"}]
    assert response.get("AdvancedEventSelectors", []) == []
    assert checked("cloudtrail", cloudtrail, "describe_trails")["trailList"][0]["HasCustomEventSelectors"] is True


def test_trail_status_and_shadow_trails_as_aws_reports_them(sim: Any, cloudtrail: Any) -> None:
    assert checked("cloudtrail", cloudtrail, "get_trail_status", Name="audit")["IsLogging"] is False
    cloudtrail.start_logging(Name="audit")
    arn = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/audit"
    elsewhere = sim.client("cloudtrail", region="eu-west-1")
    shadow = checked("cloudtrail", elsewhere, "describe_trails", includeShadowTrails=True)["trailList"]
    assert [(t["Name"], t["HomeRegion"]) for t in shadow] == [("audit", REGION)]
    assert checked("cloudtrail", elsewhere, "describe_trails", includeShadowTrails=False)["trailList"] == []
    assert checked("cloudtrail", elsewhere, "get_trail_status", Name=arn)["IsLogging"] is True
    with pytest.raises(ClientError, match="TrailNotFoundException"):  # as in AWS: ask the home region
        elsewhere.get_event_selectors(TrailName=arn)


def test_metric_filters_page(sim: Any) -> None:
    logs = sim.client("logs")
    logs.create_log_group(logGroupName="audit")
    for index in range(5):
        logs.put_metric_filter(logGroupName="audit", filterName=f"f{index}", filterPattern="ERROR",
                               metricTransformations=[{"metricName": f"m{index}", "metricNamespace": "N", "metricValue": "1"}])
    first = checked("logs", logs, "describe_metric_filters", logGroupName="audit", limit=2)
    second = checked("logs", logs, "describe_metric_filters", logGroupName="audit", limit=2, nextToken=first["nextToken"])
    third = checked("logs", logs, "describe_metric_filters", logGroupName="audit", limit=2, nextToken=second["nextToken"])
    assert [[f["filterName"] for f in page["metricFilters"]] for page in (first, second, third)] == [
        ["f0", "f1"], ["f2", "f3"], ["f4"]]
    assert "nextToken" not in third
    assert len(checked("logs", logs, "describe_metric_filters")["metricFilters"]) == 5  # default limit 50
    with pytest.raises(ClientError, match="InvalidParameterException"):
        logs.describe_metric_filters(nextToken="not-a-token")
    with pytest.raises(ClientError, match="InvalidParameterException"):
        logs.describe_metric_filters(limit=51)


def test_alarms_page_and_default_to_metric_alarms(sim: Any) -> None:
    cloudwatch = sim.client("cloudwatch")
    for index in range(3):
        cloudwatch.put_metric_alarm(AlarmName=f"a{index}", MetricName="m", Namespace="N", Statistic="Sum", Period=60,
                                    EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
                                    AlarmActions=[TOPIC], ActionsEnabled=index != 1)
    first = checked("cloudwatch", cloudwatch, "describe_alarms", MaxRecords=2)
    second = checked("cloudwatch", cloudwatch, "describe_alarms", MaxRecords=2, NextToken=first["NextToken"])
    assert [a["AlarmName"] for a in first["MetricAlarms"] + second["MetricAlarms"]] == ["a0", "a1", "a2"]
    assert "NextToken" not in second
    assert [a["ActionsEnabled"] for a in first["MetricAlarms"]] == [True, False]
    pages = cloudwatch.get_paginator("describe_alarms").paginate(AlarmTypes=["MetricAlarm"],
                                                                  PaginationConfig={"PageSize": 1})
    assert [len(page["MetricAlarms"]) for page in pages] == [1, 1, 1]
    assert checked("cloudwatch", cloudwatch, "describe_alarms", AlarmTypes=["CompositeAlarm"])["MetricAlarms"] == []
    with pytest.raises(ClientError, match="InvalidNextToken"):
        cloudwatch.describe_alarms(NextToken="not-a-token")


def test_rules_and_targets_page_by_id(sim: Any) -> None:
    events = sim.client("events")
    for index in range(3):
        events.put_rule(Name=f"r{index}", EventPattern=json.dumps({"source": ["aws.transcribe"]}))
    events.put_targets(Rule="r0", Targets=[{"Id": f"t{i}", "Arn": TOPIC, "Input": json.dumps({"i": i})} for i in range(3)])
    rules = [r["Name"] for page in events.get_paginator("list_rules").paginate(PaginationConfig={"PageSize": 2})
             for r in page["Rules"]]
    assert rules == ["r0", "r1", "r2"]
    checked("events", events, "list_rules", Limit=2)
    pages = list(events.get_paginator("list_targets_by_rule").paginate(Rule="r0", PaginationConfig={"PageSize": 1}))
    assert [t["Id"] for page in pages for t in page["Targets"]] == ["t0", "t1", "t2"]
    checked("events", events, "list_targets_by_rule", Rule="r0", Limit=1)
