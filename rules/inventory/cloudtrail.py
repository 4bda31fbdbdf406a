"""Shared CloudTrail fetching and judgement: which trails exist, whether each is logging, and
whether its event selectors record Transcribe management events. Used by
transcribe-api-activity-logged and transcribe-monitoring-configured.

Fetching. DescribeTrails (includeShadowTrails, no pagination in the API) lists the trails of this
region and the multi-region trails homed elsewhere ("shadow trails"). GetTrailStatus and
GetEventSelectors are called with the trail ARN in the trail's home region: CloudTrail answers
GetEventSelectors for a shadow trail only there (TrailNotFoundException elsewhere, see
aws/aws-sdk-go-v2#1957; Cloud Custodian and Prowler use a client of the home region too).

Judgement, from the CloudTrail API Reference (EventSelector, AdvancedEventSelector,
AdvancedFieldSelector) and PutEventSelectors:

- A trail logs an event when the event matches ANY of its selectors. A trail has either basic or
  advanced selectors, never both; a trail created without selectors has the default basic
  selector, which logs all read and write management events.
- Basic selector: IncludeManagementEvents (default true), ReadWriteType All / ReadOnly /
  WriteOnly (default All), ExcludeManagementEventSources (CloudTrail accepts only
  kms.amazonaws.com and rdsdata.amazonaws.com there; any listed source is honoured).
- Advanced selector: all field selectors must hold (AND). A field selector holds when the event's
  value matches one of its Equals / StartsWith / EndsWith values (when any is given) and none of
  its NotEquals / NotStartsWith / NotEndsWith values. Management events carry eventCategory
  "Management", eventSource and readOnly ("true"/"false"). A field selector on a field that a
  management event does not carry never holds.

Rather than reading selector text, the judgement asks the selectors about sample events: a
Transcribe write (StartTranscriptionJob, CreateVocabulary, DeleteTranscriptionJob, TagResource
...) and a Transcribe read (Get*/List*), and, to tell "excludes Transcribe" from "logs no
management events", a write from another service.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from botocore.exceptions import ClientError

from rules.inventory.transcribe import ALL_KINDS, ResourceKind

TRANSCRIBE_SOURCE = "transcribe.amazonaws.com"
OTHER_SOURCE = "ec2.amazonaws.com"


@dataclass(frozen=True)
class Trail:
    name: str
    arn: str
    home_region: str
    multi_region: bool
    log_group_arn: str | None

    @classmethod
    def from_description(cls, item: Mapping[str, Any]) -> "Trail":
        arn = str(item.get("TrailARN", ""))
        home = str(item.get("HomeRegion") or (arn.split(":")[3] if arn.count(":") >= 5 else ""))
        return cls(str(item.get("Name", arn)), arn, home, bool(item.get("IsMultiRegionTrail")),
                   item.get("CloudWatchLogsLogGroupArn") or None)


@dataclass
class TrailState:
    """What GetTrailStatus and GetEventSelectors said about one trail (or the error they raised)."""

    trail: Trail
    is_logging: bool = False
    basic: list[dict[str, Any]] = field(default_factory=list)
    advanced: list[dict[str, Any]] = field(default_factory=list)
    error: ClientError | None = None
    failed_call: str = ""


def list_trails(ctx: Any) -> list[Trail]:
    """Every trail that applies to this region, shadow trails included; raises ClientError."""
    response = ctx.client("cloudtrail").describe_trails(includeShadowTrails=True)
    return [Trail.from_description(item) for item in response.get("trailList", [])]


def read_trail(ctx: Any, trail: Trail, cache: dict[str, TrailState] | None = None) -> TrailState:
    """Status and selectors of ``trail``, read in its home region; errors are kept, not raised."""
    if cache is not None and trail.arn in cache:
        return cache[trail.arn]
    state = TrailState(trail)
    client = ctx.client_factory.build_client("cloudtrail", region=trail.home_region or None)
    try:
        state.failed_call = "GetTrailStatus"
        state.is_logging = bool(client.get_trail_status(Name=trail.arn).get("IsLogging"))
        state.failed_call = "GetEventSelectors"
        selectors = client.get_event_selectors(TrailName=trail.arn)
        state.basic = list(selectors.get("EventSelectors") or [])
        state.advanced = list(selectors.get("AdvancedEventSelectors") or [])
        state.failed_call = ""
    except ClientError as error:
        state.error = error
    if cache is not None:
        cache[trail.arn] = state
    return state


# --- pure judgement -------------------------------------------------------------------------------

def management_event(source: str, read_only: bool) -> dict[str, str]:
    """The fields CloudTrail selectors see on a management event."""
    return {"eventCategory": "Management", "eventSource": source, "readOnly": "true" if read_only else "false"}


def _basic_logs(selector: Mapping[str, Any], event: Mapping[str, str]) -> bool:
    if selector.get("IncludeManagementEvents", True) is not True:
        return False
    read_write = selector.get("ReadWriteType") or "All"
    if read_write == "ReadOnly" and event["readOnly"] != "true":
        return False
    if read_write == "WriteOnly" and event["readOnly"] != "false":
        return False
    if read_write not in ("All", "ReadOnly", "WriteOnly"):
        return False
    return event["eventSource"] not in (selector.get("ExcludeManagementEventSources") or [])


_StringTest = Callable[[str, str], bool]
_POSITIVE: dict[str, _StringTest] = {"Equals": str.__eq__, "StartsWith": str.startswith, "EndsWith": str.endswith}
_NEGATIVE: dict[str, _StringTest] = {"NotEquals": str.__eq__, "NotStartsWith": str.startswith,
                                     "NotEndsWith": str.endswith}


def _field_holds(field_selector: Mapping[str, Any], event: Mapping[str, str]) -> bool:
    value = event.get(str(field_selector.get("Field")))
    if value is None:
        return False
    positives = [(test, v) for op, test in _POSITIVE.items() for v in field_selector.get(op) or []]
    if positives and not any(test(value, str(v)) for test, v in positives):
        return False
    return not any(test(value, str(v)) for op, test in _NEGATIVE.items() for v in field_selector.get(op) or [])


def _advanced_logs(selector: Mapping[str, Any], event: Mapping[str, str]) -> bool:
    fields = selector.get("FieldSelectors") or []
    return bool(fields) and all(_field_holds(f, event) for f in fields)


def selectors_log(basic: Sequence[Mapping[str, Any]], advanced: Sequence[Mapping[str, Any]],
                  event: Mapping[str, str]) -> bool:
    """Would a trail with these selectors log ``event``? (any selector matching logs it)"""
    return any(_basic_logs(s, event) for s in basic) or any(_advanced_logs(s, event) for s in advanced)


def transcribe_gap(state: TrailState, require_read: bool) -> str | None:
    """Why the trail's selectors miss Transcribe management events, as a predicate ("trail X
    <gap>"), or None when they record Transcribe writes (and reads, when ``require_read``)."""
    def logs(source: str, read: bool) -> bool:
        return selectors_log(state.basic, state.advanced, management_event(source, read))

    writes, reads = logs(TRANSCRIBE_SOURCE, False), logs(TRANSCRIBE_SOURCE, True)
    if writes and (reads or not require_read):
        return None
    if not writes and not reads:
        if logs(OTHER_SOURCE, False) or logs(OTHER_SOURCE, True):
            return f"has event selectors that exclude {TRANSCRIBE_SOURCE} management events"
        return "has event selectors that record no management events"
    if not writes:
        return "records only read-only management events"
    return "records only write management events (RequireReadEvents is true)"


def records_transcribe_here(state: TrailState, region: str, require_read: bool = False) -> bool:
    """True when the trail delivers this region's Transcribe management events: logging, homed
    here or multi-region, and selectors that record them."""
    return (state.error is None and state.is_logging
            and (state.trail.multi_region or state.trail.home_region == region)
            and transcribe_gap(state, require_read) is None)


# The Delete* call of every Transcribe kind, as CloudTrail names it.
DELETE_KINDS: dict[str, ResourceKind] = {kind.delete_operation: kind for kind in ALL_KINDS}


def failed_call(record: Mapping[str, Any]) -> bool:
    """Whether a CloudTrail record is of a call that failed. CloudTrail records failed calls too:
    "The AWS service error if the request returns an error" is ``errorCode``, and "Some AWS
    services provide error information as part of responseElements" (CloudTrail record contents).
    Transcribe's Delete*, TagResource and UntagResource answer nothing when they succeed
    (botocore's model: no response members), so anything in their responseElements is an error:
    such an event must not retire a result, or a denied delete would silence a rule."""
    if record.get("errorCode") or record.get("errorMessage"):
        return True
    name = str(record.get("eventName") or "")
    response = record.get("responseElements")
    return (name.startswith("Delete") or name in ("TagResource", "UntagResource")) and bool(response)


def event_arn(event: Mapping[str, Any], arn_of: Callable[[ResourceKind, str], str]) -> str | None:
    """The Transcribe resource a LookupEvents event names (TagResource/UntagResource by their
    ResourceArn, Delete* by the name in the request, else the event's Resources), or None for an
    event of another service or one that names nothing. ``arn_of`` makes an ARN from a name."""
    if event.get("EventSource") not in (None, TRANSCRIBE_SOURCE):
        return None
    try:
        detail = json.loads(event.get("CloudTrailEvent") or "{}")
    except ValueError:
        detail = {}
    if not isinstance(detail, dict) or detail.get("eventSource") not in (None, TRANSCRIBE_SOURCE):
        return None
    if failed_call(detail):
        return None  # it changed nothing
    request = detail.get("requestParameters") or {}
    if not isinstance(request, dict):
        return None
    if request.get("ResourceArn") or request.get("resourceArn"):
        return str(request.get("ResourceArn") or request.get("resourceArn"))
    kind = DELETE_KINDS.get(str(event.get("EventName")))
    if kind is None:
        return None
    parameter = kind.get_name_parameter  # CloudTrail writes request members in camelCase
    name = request.get(parameter[:1].lower() + parameter[1:]) or request.get(parameter)
    if not name:
        names = [r.get("ResourceName") for r in event.get("Resources") or [] if r.get("ResourceName")]
        name = names[0] if names else None
    if not name:
        return None
    return str(name) if str(name).startswith("arn:") else arn_of(kind, str(name))
