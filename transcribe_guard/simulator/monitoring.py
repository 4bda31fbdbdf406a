"""Monitoring services in the simulator: CloudTrail event selectors, and paging of CloudWatch Logs
metric filters, CloudWatch alarms and EventBridge rule targets, as AWS behaves.

moto 5.2.5 departs from AWS in five ways that the monitoring rules would notice:

- CloudTrail: a new trail reports no event selectors. AWS gives a trail created without selectors
  the default selector, which logs all read and write management events (API Reference,
  EventSelector: "By default, trails created without specific event selectors will be configured
  to log all read and write management events, and no data events"); GetEventSelectors shows it.
- CloudTrail: PutEventSelectors with basic selectors leaves earlier advanced selectors in place.
  In AWS a trail has one kind or the other, and putting one replaces the other
  (PutEventSelectors: "You can use either AdvancedEventSelectors or EventSelectors, but not
  both"). DescribeTrails' HasCustomEventSelectors then says true.
- CloudWatch Logs: DescribeMetricFilters ignores ``limit`` (1-50, default 50) and echoes the
  request's ``nextToken``; here it pages.
- CloudWatch: DescribeAlarms ignores ``MaxRecords`` (1-100, default 50) and ``AlarmTypes`` (when
  omitted, AWS returns metric alarms only); here it pages and filters.
- EventBridge: ListTargetsByRule pages by target ARN, so a rule with two targets of the same ARN
  (one Lambda function with two inputs, say) returns the same NextToken twice and boto3's
  paginator stops with PaginationError. Targets are identified by their Id; here they page by it.

What moto already does as AWS does is left alone, e.g. GetEventSelectors for a shadow trail
outside its home region raises TrailNotFoundException (aws/aws-sdk-go-v2#1957).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from moto.cloudtrail.models import Trail
from moto.cloudwatch.exceptions import CloudWatchException, InvalidParameterValue
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult
from moto.events.utils import PAGINATION_MODEL as EVENTS_PAGINATION_MODEL
from moto.logs.exceptions import InvalidParameterException
from moto.logs.responses import LogsResponse

DEFAULT_EVENT_SELECTOR: dict[str, Any] = {
    "ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [], "ExcludeManagementEventSources": []}
METRIC_FILTERS_DEFAULT_LIMIT, METRIC_FILTERS_MAX_LIMIT = 50, 50
ALARMS_DEFAULT_RECORDS, ALARMS_MAX_RECORDS = 50, 100


class _CloudWatchInvalidToken(CloudWatchException):
    code = "InvalidNextToken"
    message = "The service found the next token invalid."


def _page(items: list[Any], token: str | None, limit: int, bad_token: Any) -> tuple[list[Any], str | None]:
    start = 0
    if token:
        try:
            start = int(base64.b64decode(token, validate=True).decode())
        except ValueError:
            raise bad_token() from None
        if not 0 <= start <= len(items):
            raise bad_token()
    end = start + limit
    return items[start:end], (base64.b64encode(str(end).encode()).decode() if end < len(items) else None)


# --- CloudTrail -----------------------------------------------------------------------------------

_original_trail_init = Trail.__init__
_original_description = Trail.description


def _trail_init(self: Trail, *args: Any, **kwargs: Any) -> None:
    _original_trail_init(self, *args, **kwargs)
    self.event_selectors = [dict(DEFAULT_EVENT_SELECTOR)]
    self.advanced_event_selectors = []
    self.has_custom_event_selectors = False


def _put_event_selectors(self: Trail, event_selectors: list[dict[str, Any]],
                         advanced_event_selectors: list[dict[str, Any]]) -> None:
    if advanced_event_selectors:
        self.event_selectors, self.advanced_event_selectors = [], list(advanced_event_selectors)
    else:
        self.event_selectors = [{**DEFAULT_EVENT_SELECTOR, **s} for s in event_selectors or []]
        self.advanced_event_selectors = []
    self.has_custom_event_selectors = True


def _description(self: Trail, include_region: bool = False) -> dict[str, Any]:
    description = _original_description(self, include_region)
    description["HasCustomEventSelectors"] = bool(getattr(self, "has_custom_event_selectors", False))
    return description


# --- CloudWatch Logs ------------------------------------------------------------------------------

_original_describe_metric_filters = LogsResponse.describe_metric_filters


def describe_metric_filters(self: LogsResponse) -> str:
    limit = self._get_param("limit")
    if limit is not None and not 1 <= int(limit) <= METRIC_FILTERS_MAX_LIMIT:
        raise InvalidParameterException(constraint=f"Member must have value between 1 and {METRIC_FILTERS_MAX_LIMIT}",
                                        parameter="limit", value=limit)
    body = json.loads(_original_describe_metric_filters(self))
    page, next_token = _page(body.get("metricFilters", []), self._get_param("nextToken"),
                             int(limit or METRIC_FILTERS_DEFAULT_LIMIT),
                             lambda: InvalidParameterException("The specified nextToken is invalid."))
    result: dict[str, Any] = {"metricFilters": page}
    if next_token:
        result["nextToken"] = next_token
    return json.dumps(result)


# --- CloudWatch -----------------------------------------------------------------------------------

_original_describe_alarms = CloudWatchResponse.describe_alarms


def describe_alarms(self: CloudWatchResponse) -> ActionResult:
    records = self._get_param("MaxRecords")
    if records is not None and not 1 <= int(records) <= ALARMS_MAX_RECORDS:
        raise InvalidParameterValue(f"MaxRecords must be between 1 and {ALARMS_MAX_RECORDS}.")
    types = self._get_param("AlarmTypes", []) or ["MetricAlarm"]
    found: Any = _original_describe_alarms(self).result
    alarms = [("MetricAlarms", a) for a in found["MetricAlarms"] if "MetricAlarm" in types]
    alarms += [("CompositeAlarms", a) for a in found["CompositeAlarms"] if "CompositeAlarm" in types]
    page, next_token = _page(alarms, self._get_param("NextToken"), int(records or ALARMS_DEFAULT_RECORDS),
                             _CloudWatchInvalidToken)
    result: dict[str, Any] = {"MetricAlarms": [a for kind, a in page if kind == "MetricAlarms"],
                              "CompositeAlarms": [a for kind, a in page if kind == "CompositeAlarms"]}
    if next_token:
        result["NextToken"] = next_token
    return ActionResult(result)


def install() -> None:
    """Patch moto's CloudTrail, CloudWatch Logs, CloudWatch and EventBridge (idempotent)."""
    Trail.__init__ = _trail_init  # type: ignore[method-assign]
    Trail.put_event_selectors = _put_event_selectors  # type: ignore[method-assign]
    Trail.description = _description  # type: ignore[method-assign]
    LogsResponse.describe_metric_filters = describe_metric_filters  # type: ignore[method-assign]
    CloudWatchResponse.describe_alarms = describe_alarms  # type: ignore[method-assign]
    EVENTS_PAGINATION_MODEL["list_targets_by_rule"]["unique_attribute"] = "Id"
