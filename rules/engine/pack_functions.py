"""The pack's own Lambda functions that EventBridge rules invoke (the ledger collector,
rules/engine/collector.py, and the event trigger, rules/engine/trigger.py) and the roles its code
runs as. The templates name them from here; transcribe-monitoring-configured does not count a rule
that only feeds the functions as an alert reaching a person (they match Transcribe's events by
design), and transcribe-iam-tag-based-access exempts the roles by default."""

from __future__ import annotations

LEDGER_COLLECTOR = "transcribe-guard-ledger-collector"
EVENT_TRIGGER = "transcribe-guard-event-trigger"
PACK_FUNCTIONS = (LEDGER_COLLECTOR, EVENT_TRIGGER)
# The IAM roles the pack's own code runs as, which read every Transcribe resource by design
# (transcribe-iam-tag-based-access exempts them by default): the rule functions' role, the member
# role they assume in an organization's accounts, and the ledger collector's role (one for every
# Region, made by the role-creating stack).
FUNCTIONS_ROLE = "transcribe-guard-functions"
MEMBER_ROLE = "transcribe-guard-member"
LEDGER_COLLECTOR_ROLE = "transcribe-guard-ledger-collector"
PACK_ROLES = (FUNCTIONS_ROLE, MEMBER_ROLE, LEDGER_COLLECTOR_ROLE)


def pack_function_of(arn: object) -> str | None:
    """The pack function a target ARN invokes (arn:<partition>:lambda:<region>:<account>:function:<name>
    with an optional :<qualifier>), or None for any other target."""
    parts = str(arn or "").split(":")
    if len(parts) in (7, 8) and parts[0] == "arn" and parts[2] == "lambda" and parts[5] == "function" \
            and parts[6] in PACK_FUNCTIONS:
        return parts[6]
    return None
