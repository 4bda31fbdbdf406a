"""The pack's own Lambda functions that EventBridge rules invoke: the ledger collector
(rules/engine/collector.py) and the event trigger (rules/engine/trigger.py). The functions
template names them from here; transcribe-monitoring-configured does not count a rule that only
feeds them as an alert reaching a person (they match Transcribe's events by design)."""

from __future__ import annotations

LEDGER_COLLECTOR = "transcribe-guard-ledger-collector"
EVENT_TRIGGER = "transcribe-guard-event-trigger"
PACK_FUNCTIONS = (LEDGER_COLLECTOR, EVENT_TRIGGER)


def pack_function_of(arn: object) -> str | None:
    """The pack function a target ARN invokes (arn:<partition>:lambda:<region>:<account>:function:<name>
    with an optional :<qualifier>), or None for any other target."""
    parts = str(arn or "").split(":")
    if len(parts) in (7, 8) and parts[0] == "arn" and parts[2] == "lambda" and parts[5] == "function" \
            and parts[6] in PACK_FUNCTIONS:
        return parts[6]
    return None
