"""transcribe-api-activity-logged

Identifier: TRANSCRIBE_API_ACTIVITY_LOGGED
Description: At least one CloudTrail trail that is logging, covers every region and records
    Transcribe management events (transcribe.amazonaws.com) applies to this region.
Rationale: CloudTrail is the record of who started, read, changed and deleted transcription jobs,
    vocabularies and models; without a logging multi-region trail that records Transcribe's
    management events, misuse in any region leaves no audit trail (AWS security practice 6,
    monitoring).
Severity: High
Trigger: Periodic
Reports on: the account (AWS::::Account, the account id), one evaluation per run
Parameters:
    RequireReadEvents (optional, default false): true also requires read events (Get*/List*).

Write or read. Transcribe's Start*/Create*/Update*/Delete*/Tag*/Untag* calls are write
management events; Get*/List*/Describe* calls are read events. By default a WriteOnly trail is
enough: it records every change to Transcribe resources, which is what an audit of Transcribe
activity needs first. Read events also show who fetched job details (GetTranscriptionJob returns
a presigned URL to a transcript in a service-managed bucket); accounts that want that evidence,
or follow CIS AWS Foundations (a multi-region trail with ReadWriteType All), set
RequireReadEvents=true.

Sources relied on (CloudTrail API Reference and User Guide): EventSelector ("By default, trails
created without specific event selectors will be configured to log all read and write management
events"; IncludeManagementEvents and ReadWriteType default to true and All;
ExcludeManagementEventSources), AdvancedEventSelector and AdvancedFieldSelector (management
events support the fields eventCategory, eventSource and readOnly; Equals/StartsWith/EndsWith
include, NotEquals/NotStartsWith/NotEndsWith exclude), PutEventSelectors ("if the event matches
any event selector, the trail processes and logs the event"; basic and advanced selectors are
exclusive), GetTrailStatus (IsLogging; "To get the status of a shadow trail ... you must specify
its ARN") and DescribeTrails (includeShadowTrails). rules/inventory/cloudtrail.py implements them.

Scenarios:
    1. Given no trail applies to this region, then NON_COMPLIANT: nothing records Transcribe calls.
    2. Given a multi-region trail that is logging and whose basic event selectors record
       management events read and write (the default for a new trail), then COMPLIANT naming it.
    3. Given such a trail with advanced event selectors (eventCategory Management, eventSource
       not excluding transcribe.amazonaws.com), then COMPLIANT naming it.
    4. Given a multi-region trail homed in another region (a shadow trail here), then it is read
       in its home region by ARN and judged as in 2-3.
    5. Given only single-region trails, then NON_COMPLIANT: a single-region trail misses
       Transcribe calls in every other region.
    6. Given a multi-region trail that is not logging (StopLogging), then NON_COMPLIANT.
    7. Given a trail whose selectors record no management events (IncludeManagementEvents false,
       or advanced selectors for data events only), then NON_COMPLIANT.
    8. Given a trail whose selectors exclude transcribe.amazonaws.com (ExcludeManagementEventSources
       or an advanced eventSource NotEquals), then NON_COMPLIANT.
    9. Given a trail that records only read-only management events, then NON_COMPLIANT; given one
       that records only write events, then COMPLIANT unless RequireReadEvents is true.
   10. Given several trails, then one that qualifies is enough (COMPLIANT, naming it); when none
       does, the annotation gives each trail's reason.
   11. Given an API error (e.g. AccessDenied), then NON_COMPLIANT with an annotation starting
       "Could not evaluate:", unless another trail was read and qualifies.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from botocore.exceptions import ClientError
from rdklib import ComplianceType, Evaluation

from rules.engine.base import Evaluator, ACCOUNT_RESOURCE_TYPE, RunContext, TranscribeGuardRule
from rules.inventory.cloudtrail import (TRANSCRIBE_SOURCE, TrailState, list_trails, management_event, read_trail, selectors_log,
                                        transcribe_gap)
from rules.inventory.transcribe import error_code

METADATA: dict[str, Any] = {
    "name": "transcribe-api-activity-logged",
    "order": 7,
    "title": "Transcribe API activity is recorded by a logging multi-region trail",
    "description": "At least one CloudTrail trail that is logging, covers every region and records management "
                   "events from transcribe.amazonaws.com (write events; read events too with RequireReadEvents).",
    "rationale": "CloudTrail is the audit record of who started, read, changed and deleted Transcribe jobs and "
                 "customizations; without a logging multi-region trail that records Transcribe's management events, "
                 "misuse in any region leaves no evidence.",
    "practice": 6,
    "severity": "high",
    "trigger": {"type": "periodic", "frequency": "TwentyFour_Hours"},
    "resource_kinds": [ACCOUNT_RESOURCE_TYPE],
    "reports": "The account (AWS::::Account, the account id), once per run.",
    "not_applicable": "Never: every account and region can call Transcribe, so the account is always evaluated.",
    "parameters": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "RequireReadEvents": {
                "type": "string",
                "x-type": "boolean",
                "default": "false",
                "description": "true also requires read management events (Get*/List* calls, e.g. who fetched a "
                               "transcript URL); false accepts a WriteOnly trail.",
            },
        },
    },
    "iam_actions": [
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetTrailStatus",
        "cloudtrail:GetEventSelectors",
    ],
    "remediation": "Create (or convert to) a multi-region trail with IsMultiRegionTrail, StartLogging it, and keep "
                   "its event selectors recording management events (ReadWriteType All, no exclusion of "
                   "transcribe.amazonaws.com); with advanced selectors, select eventCategory Management.",
}


class TranscribeApiActivityLogged(TranscribeGuardRule):
    METADATA = METADATA

    def evaluate(self, ctx: RunContext, params: Mapping[str, Any]) -> Iterable[Evaluation]:
        require_read: bool = params["RequireReadEvents"]
        try:
            trails = sorted(list_trails(ctx), key=lambda t: (t.name, t.arn))  # Scenario 4: shadow trails included
        except ClientError as error:  # Scenario 11
            return [self._account(ctx, ComplianceType.NON_COMPLIANT,
                                  f"Could not evaluate: {error_code(error)} when listing CloudTrail trails.")]
        if not trails:  # Scenario 1
            return [self._account(ctx, ComplianceType.NON_COMPLIANT,
                                  "No CloudTrail trail applies to this region, so no Transcribe API call is recorded; "
                                  "create a multi-region trail that logs management events.")]
        reasons: list[str] = []
        errors: list[str] = []
        for trail in trails:
            if not trail.multi_region:  # Scenario 5, decided without further calls
                reasons.append(f"trail {trail.name} is single-region")
                continue
            state = read_trail(ctx, trail)
            if state.error is not None:  # Scenario 11: remembered; another trail may still qualify
                errors.append(f"{error_code(state.error)} when calling {state.failed_call} for trail {trail.name}")
                continue
            reason = self._reason(state, require_read)
            if reason is None:  # Scenarios 2-4, 9 (WriteOnly), 10
                reads = selectors_log(state.basic, state.advanced, management_event(TRANSCRIBE_SOURCE, True))
                kinds = "read and write" if reads else "write"
                return [self._account(ctx, ComplianceType.COMPLIANT,
                                      f"Multi-region trail {trail.name} is logging and records {kinds} management "
                                      f"events from {TRANSCRIBE_SOURCE}.")]
            reasons.append(f"trail {trail.name} {reason}")
        if errors:  # Scenario 11: fail closed
            return [self._account(ctx, ComplianceType.NON_COMPLIANT,
                                  f"Could not evaluate: {'; '.join(errors)}" + (f"; {'; '.join(reasons)}." if reasons else "."))]
        return [self._account(ctx, ComplianceType.NON_COMPLIANT,  # Scenarios 5-10
                              f"No logging multi-region trail records Transcribe API activity: {'; '.join(reasons)}.")]

    @staticmethod
    def _reason(state: TrailState, require_read: bool) -> str | None:
        if not state.is_logging:  # Scenario 6
            return "is not logging"
        return transcribe_gap(state, require_read)  # Scenarios 7-9

    def _account(self, ctx: RunContext, compliance: str, text: str) -> Evaluation:
        return self.result(ctx, compliance, ctx.account_id, text, resource_type=ACCOUNT_RESOURCE_TYPE)


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return Evaluator(TranscribeApiActivityLogged()).handle(event, context)
