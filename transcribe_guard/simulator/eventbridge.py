"""The simulated EventBridge's delivery of Transcribe events to Lambda targets.

moto 5.2.5 stores EventBridge rules and targets but delivers nothing to a Lambda function. Here
the simulated Transcribe emits, and rules on the default bus deliver:

- "Transcribe Job State Change" (detail TranscriptionJobName, TranscriptionJobStatus) when a
  transcription job finishes and "Call Analytics Job State Change" (JobName, JobStatus) when a Call
  Analytics job does, source aws.transcribe (EventBridge events reference, "Amazon Transcribe
  events", https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-transcribe.html; the detail
  members as the Transcribe Developer Guide's "Using Amazon EventBridge with Amazon Transcribe"
  shows them). Medical and medical scribe jobs emit none: no detail-type is documented for them.
- "AWS API Call via CloudTrail" for every Transcribe write call the simulated CloudTrail records
  (cloudtrail_events.py). In AWS these reach EventBridge only while a trail logs Transcribe
  management events; the simulator does not check for one.

Events wait (when some enabled rule on the default bus has an event pattern) in an outbox until ``deliver_due`` runs (the benchmark and the demo call it, and
the event's ``delay`` models EventBridge's delivery time; AWS documents no figure for it, so
DELIVERY_SECONDS is an assumption). A due event is matched against every ENABLED rule with an
event pattern on the default bus (rules/policy/event_pattern.py), and each Lambda target whose
function is a transcribe-guard handler runs in-process, as conformance.run_function runs rules.
Scheduled rules (``rate(...)``) are not run by the clock; ``sweep`` invokes their targets once.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from typing import Any

from transcribe_guard.simulator import clock

DELIVERY_SECONDS = 2.0  # assumed: EventBridge documents no delivery latency
_LOCK = threading.Lock()


def _backend(account: str, region: str) -> Any:
    from moto.events.models import events_backends
    return events_backends[account][region]


def outbox(account: str, region: str) -> list[tuple[float, dict[str, Any]]]:
    """(due epoch seconds, event) waiting for delivery; kept on moto's backend so a reset clears it."""
    box: list[tuple[float, dict[str, Any]]] = _backend(account, region).__dict__.setdefault("_tg_outbox", [])
    return box


def envelope(account: str, region: str, detail_type: str, detail: dict[str, Any], resources: list[str],
             source: str = "aws.transcribe", when: dt.datetime | None = None) -> dict[str, Any]:
    moment = when or clock.now()
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": detail_type, "source": source,
            "account": account, "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": region,
            "resources": resources, "detail": detail}


def _listening(account: str, region: str) -> bool:
    """Whether any ENABLED rule on the default bus has an event pattern: otherwise an event could
    reach no one, and is not kept (a run starting 100,000 jobs keeps no outbox)."""
    bus = _backend(account, region).event_buses.get("default")
    return bus is not None and any(rule.state == "ENABLED" and rule.event_pattern and rule.event_pattern.dump()
                                   for rule in bus.rules.values())


def emit(account: str, region: str, event: dict[str, Any], delay: float = DELIVERY_SECONDS) -> None:
    if not _listening(account, region):
        return
    with _LOCK:
        outbox(account, region).append((clock.now().timestamp() + delay, event))


JOB_EVENTS = {  # kind key -> (detail-type, name member, status member)
    "transcription-job": ("Transcribe Job State Change", "TranscriptionJobName", "TranscriptionJobStatus"),
    "analytics": ("Call Analytics Job State Change", "JobName", "JobStatus"),
}


def emit_job_state(account: str, region: str, kind_key: str, name: str, status: str, arn: str) -> None:
    """A finished job's state-change event, for the kinds Transcribe documents one for."""
    if kind_key not in JOB_EVENTS:
        return
    detail_type, name_member, status_member = JOB_EVENTS[kind_key]
    emit(account, region, envelope(account, region, detail_type, {name_member: name, status_member: status}, [arn]))


def emit_api_call(account: str, region: str, record: dict[str, Any]) -> None:
    emit(account, region, envelope(account, region, "AWS API Call via CloudTrail", record, [],
                                   when=dt.datetime.fromisoformat(record["eventTime"].replace("Z", "+00:00"))))


def _lambda_targets(rule: Any) -> list[str]:
    """The rule's targets that are transcribe-guard functions in the simulated Lambda (another
    target, e.g. the demo's function without code, is not run here)."""
    from moto.awslambda.utils import get_backend as lambda_backend

    found = []
    for target in rule.targets:
        arn = str(target.get("Arn", ""))
        if ":lambda:" not in arn:
            continue
        parts = arn.split(":")
        try:
            function = lambda_backend(parts[4], parts[3]).get_function(_function_name(arn))
        except Exception:  # moto's UnknownFunctionException: not a function here
            continue
        if str(function.handler).startswith("rules."):
            found.append(arn)
    return found


def _function_name(arn: str) -> str:
    return arn.split(":function:", 1)[1].split(":", 1)[0]


def deliver(account: str, region: str, event: dict[str, Any]) -> list[tuple[str, Any]]:
    """Deliver one event now: (function name, handler result) for every matching target."""
    from rules.policy import event_pattern
    from transcribe_guard.simulator.conformance import run_function

    results = []
    bus = _backend(account, region).event_buses["default"]
    for rule in list(bus.rules.values()):
        raw = rule.event_pattern.dump() if rule.event_pattern else None
        pattern = event_pattern.parse(raw) if raw else None
        if rule.state != "ENABLED" or pattern is None or not event_pattern.matches(pattern, event):
            continue
        for arn in _lambda_targets(rule):
            name = _function_name(arn)
            results.append((name, run_function(account, region, name, json.loads(json.dumps(event)))))
    return results


def deliver_due(account: str, region: str) -> list[tuple[str, Any]]:
    """Deliver every event whose time has come (simulated clock), oldest first."""
    now = clock.now().timestamp()
    with _LOCK:
        box = outbox(account, region)
        due = sorted((item for item in box if item[0] <= now), key=lambda item: item[0])
        box[:] = [item for item in box if item[0] > now]
    results = []
    for _, event in due:
        results.extend(deliver(account, region, event))
    return results


def next_due(account: str, region: str) -> float | None:
    box = outbox(account, region)
    return min((item[0] for item in box), default=None)


def sweep(account: str, region: str) -> list[tuple[str, Any]]:
    """Run the targets of every ENABLED scheduled rule once, with a Scheduled Event."""
    from transcribe_guard.simulator.conformance import run_function

    results = []
    bus = _backend(account, region).event_buses["default"]
    for rule in list(bus.rules.values()):
        if rule.state != "ENABLED" or not rule.scheduled_expression:
            continue
        event = envelope(account, region, "Scheduled Event", {}, [rule.arn], source="aws.events")
        for arn in _lambda_targets(rule):
            results.append((_function_name(arn), run_function(account, region, _function_name(arn), event)))
    return results


def install() -> None:
    """The trigger function keeps time and waits by the simulated clock when it runs here."""
    from rules.engine import trigger
    trigger.CLOCK = lambda: clock.now().timestamp()
    trigger.SLEEP = lambda seconds: None if clock.advance(dt.timedelta(seconds=seconds)) else None
