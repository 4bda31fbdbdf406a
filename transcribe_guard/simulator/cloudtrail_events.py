"""CloudTrail event history for the simulator: recorded Transcribe write calls and LookupEvents.

moto 5.2.5 has no LookupEvents. Here every Transcribe write call the simulator serves
(Start*Job, Create*, Update*, Delete*, TagResource, UntagResource) is recorded as a management
event in the event history of its account and Region (one that failed with its errorCode and
errorMessage, as CloudTrail records failed calls; throttled calls are not recorded), and
LookupEvents reads the history back as
the service does: at most one lookup attribute, a StartTime/EndTime window, newest first,
MaxResults 1-50 (default 50), NextToken paging, and the last 90 days only.

Get/List calls are not recorded, to keep the history small (real event history also holds
read-only management events; LookupEvents callers filter by EventName anyway). Request
parameters carry the resource's name or ARN and, for TagResource, the tag keys only: tag values
may hold personal data (real CloudTrail logs them; the simulator keeps them out).

Events carry no ResourceType (CloudTrail fills it only for resource types it knows, and the
simulator does not claim Transcribe's are among them): the ResourceName is the resource's name,
or its ARN for TagResource/UntagResource.

The history lives on moto's CloudTrail backend, so a moto reset clears it. ``record_event`` adds
an event directly, for benchmark seeding.
"""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import json
import threading
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from moto.cloudtrail.models import cloudtrail_backends
from moto.cloudtrail.responses import CloudTrailResponse
from moto.core.exceptions import JsonRESTError

from transcribe_guard.simulator import clock

EVENT_SOURCE = "transcribe.amazonaws.com"
RETENTION = dt.timedelta(days=90)  # event history covers the last 90 days
DEFAULT_MAX_RESULTS, MAX_MAX_RESULTS = 50, 50
LOOKUP_KEYS = ("EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource",
               "AccessKeyId")
WRITE_PREFIXES = ("Start", "Create", "Update", "Delete")
WRITE_OPERATIONS = ("TagResource", "UntagResource")


class _CloudTrailError(JsonRESTError):
    code = 400

    def __init__(self, error: str, message: str):
        super().__init__(error, message)


def _invalid_attributes(message: str) -> _CloudTrailError:
    return _CloudTrailError("InvalidLookupAttributesException", message)


@dataclass(slots=True)
class Event:
    seq: int
    time: dt.datetime
    name: str
    resource_name: str | None
    request_parameters: dict[str, Any] | None
    username: str
    access_key_id: str | None
    event_id: str
    account: str
    region: str
    source: str = EVENT_SOURCE
    read_only: bool = False
    error: tuple[str, str] | None = None  # (errorCode, errorMessage) of a call that failed
    response_elements: dict[str, Any] | None = None  # where some services put a failed call's error

    def key(self) -> tuple[dt.datetime, int]:
        return self.time, self.seq

    def attribute(self, name: str) -> str | None:
        value: str | None = _ATTRIBUTES[name](self)
        return value

    def record(self) -> dict[str, Any]:
        """The CloudTrail record (what CloudTrailEvent holds, as JSON)."""
        identity: dict[str, Any] = {"type": "Root" if self.username == "root" else "IAMUser",
                                    "accountId": self.account}
        if self.access_key_id:
            identity["accessKeyId"] = self.access_key_id
        if self.username != "root":
            identity["userName"] = self.username
        return {
            "eventVersion": "1.08",
            "userIdentity": identity,
            "eventTime": self.time.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": self.source,
            "eventName": self.name,
            "awsRegion": self.region,
            "sourceIPAddress": "203.0.113.10",
            "userAgent": "transcribe-guard-simulator",
            "requestParameters": self.request_parameters,
            "responseElements": self.response_elements,
            "requestID": str(uuid.uuid5(uuid.NAMESPACE_OID, self.event_id)),
            "eventID": self.event_id,
            "readOnly": self.read_only,
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": self.account,
            "eventCategory": "Management",
            **({"errorCode": self.error[0], "errorMessage": self.error[1]} if self.error else {}),
        }

    def summary(self) -> dict[str, Any]:
        """The event as LookupEvents returns it."""
        event: dict[str, Any] = {
            "EventId": self.event_id, "EventName": self.name, "ReadOnly": "true" if self.read_only else "false",
            "EventTime": self.time.timestamp(), "EventSource": self.source, "Username": self.username,
            "Resources": [{"ResourceName": self.resource_name}] if self.resource_name else [],
            "CloudTrailEvent": json.dumps(self.record()),
        }
        if self.access_key_id:
            event["AccessKeyId"] = self.access_key_id
        return event


_ATTRIBUTES: dict[str, Callable[[Event], str | None]] = {
    "EventId": lambda e: e.event_id, "EventName": lambda e: e.name,
    "ReadOnly": lambda e: "true" if e.read_only else "false", "Username": lambda e: e.username,
    "ResourceType": lambda e: None, "ResourceName": lambda e: e.resource_name,
    "EventSource": lambda e: e.source, "AccessKeyId": lambda e: e.access_key_id,
}
_lock = threading.Lock()
_seq = 0


def history(account: str, region: str) -> list[Event]:
    """The events of one account and Region, oldest first (kept on moto's CloudTrail backend so
    that a moto reset clears them)."""
    backend = cloudtrail_backends[account][region]
    events: list[Event] = backend.__dict__.setdefault("_transcribe_guard_events", [])
    return events


def record_event(account: str, region: str, event_name: str, resource_name: str | None,
                 when: dt.datetime | None = None, request_parameters: dict[str, Any] | None = None, *,
                 username: str = "root", access_key_id: str | None = None, event_source: str = EVENT_SOURCE,
                 read_only: bool = False, error: tuple[str, str] | None = None,
                 response_elements: dict[str, Any] | None = None) -> Event:
    """Add one management event to the history (``when`` defaults to the simulated now)."""
    global _seq
    when = when or clock.now()
    when = (when.astimezone(dt.timezone.utc) if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)).replace(
        microsecond=0)
    with _lock:
        _seq += 1
        event = Event(_seq, when, event_name, resource_name, request_parameters, username, access_key_id,
                      str(uuid.uuid4()), account, region, event_source, read_only, error, response_elements)
        events = history(account, region)
        if not events or event.key() >= events[-1].key():
            events.append(event)
        else:
            bisect.insort(events, event, key=Event.key)
        # Older than the history's 90 days: gone (keeps a long simulated steady state bounded).
        cutoff = clock.now() - RETENTION
        expired = bisect.bisect_left(events, (cutoff, 0), key=Event.key)
        if expired:
            del events[:expired]
    return event


def is_write(operation: str) -> bool:
    return operation.startswith(WRITE_PREFIXES) or operation in WRITE_OPERATIONS


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def record_transcribe_call(account: str, region: str, operation: str, params: dict[str, Any],
                           name_field: str | None, access_key_id: str | None,
                           error: tuple[str, str] | None = None) -> Event | None:
    """Record a served Transcribe call when it is a write call, with its ``error`` (code,
    message) when it failed, as CloudTrail records failed calls; returns the event."""
    if not is_write(operation):
        return None
    request: dict[str, Any] = {}
    resource: str | None = None
    if name_field and params.get(name_field):
        resource = str(params[name_field])
        request[_camel(name_field)] = resource
    if params.get("ResourceArn"):
        resource = str(params["ResourceArn"])
        request["resourceArn"] = resource
    if operation == "TagResource":
        request["tags"] = [{"key": tag.get("Key")} for tag in params.get("Tags") or []]  # keys only
    if operation == "UntagResource":
        request["tagKeys"] = list(params.get("TagKeys") or [])
    event = record_event(account, region, operation, resource, None, request,
                         username=_username(account, access_key_id), access_key_id=access_key_id, error=error)
    from transcribe_guard.simulator import eventbridge  # CloudTrail delivers write calls to EventBridge
    eventbridge.emit_api_call(account, region, event.record())
    return event


def _username(account: str, access_key_id: str | None) -> str:
    """The IAM user owning the access key, or "root" (moto treats unknown keys as the account's)."""
    if not access_key_id:
        return "root"
    try:
        from moto.iam.models import iam_backends
        user = iam_backends[account]["global"].get_user_from_access_key_id(access_key_id)
    except Exception:
        user = None
    return str(user.name) if user is not None else "root"


# --- LookupEvents -------------------------------------------------------------------------------

def _timestamp(value: Any, member: str) -> dt.datetime:
    try:
        if isinstance(value, (int, float)):
            return dt.datetime.fromtimestamp(float(value), dt.timezone.utc)
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise _CloudTrailError("InvalidTimeRangeException", f"{member} is not a valid timestamp.") from None


def _encode_token(event: Event) -> str:
    return base64.b64encode(json.dumps([event.time.isoformat(), event.seq]).encode()).decode()


def _decode_token(token: str) -> tuple[dt.datetime, int]:
    try:
        when, seq = json.loads(base64.b64decode(token, validate=True))
        return dt.datetime.fromisoformat(when), int(seq)
    except (ValueError, TypeError):
        raise _CloudTrailError("InvalidNextTokenException", "Invalid NextToken.") from None


def lookup_events(account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    attributes = params.get("LookupAttributes") or []
    if len(attributes) > 1:
        raise _invalid_attributes("You can specify only one lookup attribute.")
    attribute: tuple[str, str] | None = None
    if attributes:
        key, value = attributes[0].get("AttributeKey"), attributes[0].get("AttributeValue")
        if key not in LOOKUP_KEYS:
            raise _invalid_attributes(f"Invalid attribute key: {key}.")
        if not value or len(value) > 2000:
            raise _invalid_attributes("AttributeValue must be 1-2000 characters.")
        attribute = (key, value)
    category = params.get("EventCategory")
    if category is not None and category != "insight":
        raise _CloudTrailError("InvalidEventCategoryException", f"Invalid event category: {category}.")
    limit = params.get("MaxResults")
    limit = DEFAULT_MAX_RESULTS if limit is None else int(limit)
    if not 1 <= limit <= MAX_MAX_RESULTS:
        raise _CloudTrailError("InvalidMaxResultsException", f"MaxResults must be between 1 and {MAX_MAX_RESULTS}.")
    now = clock.now()
    start = _timestamp(params["StartTime"], "StartTime") if params.get("StartTime") is not None else None
    end = _timestamp(params["EndTime"], "EndTime") if params.get("EndTime") is not None else None
    if start and end and start > end:
        raise _CloudTrailError("InvalidTimeRangeException", "Start time must be before end time.")
    token = params.get("NextToken")
    cursor = _decode_token(token) if token else None
    if category == "insight":
        return {"Events": []}  # the simulator records no Insights events
    earliest = max(start or now - RETENTION, now - RETENTION)
    with _lock:
        events = history(account, region)
        low = bisect.bisect_left(events, (earliest, 0), key=Event.key)
        index = len(events)
        if end is not None:  # EndTime is inclusive
            index = bisect.bisect_left(events, (end + dt.timedelta(microseconds=1), 0), key=Event.key)
        if cursor is not None:
            index = min(index, bisect.bisect_left(events, cursor, key=Event.key))
        page: list[Event] = []
        next_token = None
        while index > low:
            index -= 1
            event = events[index]
            if attribute and event.attribute(attribute[0]) != attribute[1]:
                continue
            if len(page) == limit:
                next_token = _encode_token(page[-1])
                break
            page.append(event)
    body: dict[str, Any] = {"Events": [event.summary() for event in page]}
    if next_token:
        body["NextToken"] = next_token
    return body


def _lookup_events(self: CloudTrailResponse) -> str:
    params = {name: self._get_param(name) for name in
              ("LookupAttributes", "StartTime", "EndTime", "EventCategory", "MaxResults", "NextToken")}
    return json.dumps(lookup_events(self.current_account, self.region, params))


def install() -> None:
    """Add LookupEvents to moto's CloudTrail responses (idempotent)."""
    CloudTrailResponse.lookup_events = _lookup_events  # type: ignore[attr-defined]
