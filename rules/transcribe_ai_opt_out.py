"""transcribe-ai-opt-out

Identifier: TRANSCRIBE_AI_OPT_OUT
Description: The account's effective AWS Organizations AI services opt-out policy opts Amazon
    Transcribe out of content use for service improvement, explicitly or through the policy's
    default without a Transcribe opt-in.
Rationale: Unless opted out, AWS may store and use audio and transcripts processed by Transcribe to
    develop and improve its AI services; an AI services opt-out policy is the organization-wide
    control that says no (AWS security practice 1, data protection and data use).
Severity: High
Trigger: Periodic
Reports on: AWS::::Account, the account by id
Parameters: none

The effective policy (organizations:DescribeEffectivePolicy, PolicyType AISERVICES_OPT_OUT_POLICY,
TargetId the account) is the merge of the policies attached to the root, the OUs above the account
and the account. Its content shows resolved values, without the @@assign operators of policy
documents (Organizations User Guide, "Viewing effective AI services opt-out policies":
{"services":{"comprehend":{"opt_out_policy":"optOut"}, ...}}). Values are case-sensitive ("optOut",
"optIn"); the "default" entry covers every AI service without an entry of its own. A value still
wrapped as {"@@assign": ...} is read the same way, should AWS ever return one.

Scenarios:
    1. Given an account that is not in an organization (AWSOrganizationsNotInUseException), then
       NON_COMPLIANT: no AI services opt-out policy can apply to it.
    2. Given no effective AI services opt-out policy (the policy type is not enabled, or no policy
       of the type applies to the account: EffectivePolicyNotFoundException), then NON_COMPLIANT.
    3. Given an effective policy with services.transcribe.opt_out_policy optOut, then COMPLIANT.
    4. Given services.transcribe.opt_out_policy optIn, then NON_COMPLIANT, whatever the default says.
    5. Given services.default.opt_out_policy optOut and no transcribe entry, then COMPLIANT.
    6. Given neither a transcribe entry nor a default optOut (default optIn, or no default), then
       NON_COMPLIANT.
    7. Given content that is not a readable policy or a value other than optOut/optIn (e.g. wrong
       capitalization, which AWS does not honour), then NON_COMPLIANT.
    8. Given the effective policy cannot be read (e.g. AccessDenied), then NON_COMPLIANT with an
       annotation starting "Could not evaluate:".
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from botocore.exceptions import ClientError
from rdklib import ComplianceType, Evaluation

from rules.engine.base import Evaluator, ACCOUNT_RESOURCE_TYPE, RunContext, TranscribeGuardRule
from rules.inventory.transcribe import error_code

POLICY_TYPE = "AISERVICES_OPT_OUT_POLICY"
SERVICE = "transcribe"
OPT_OUT, OPT_IN = "optOut", "optIn"

METADATA: dict[str, Any] = {
    "name": "transcribe-ai-opt-out",
    "order": 11,
    "title": "The account is opted out of Transcribe content use for AI improvement",
    "description": "The account's effective AWS Organizations AI services opt-out policy opts Transcribe out, "
                   "explicitly or through its default without a Transcribe opt-in.",
    "rationale": "Unless opted out, AWS may store and use audio and transcripts processed by Transcribe to develop "
                 "and improve AI services; an AI services opt-out policy is the organization-wide control.",
    "practice": 1,
    "severity": "high",
    "trigger": {"type": "periodic", "frequency": "TwentyFour_Hours"},
    "resource_kinds": [ACCOUNT_RESOURCE_TYPE],
    "reports": "The account by id as AWS::::Account.",
    "not_applicable": "Never: every account is COMPLIANT or NON_COMPLIANT.",
    "parameters": {"type": "object", "additionalProperties": False, "properties": {}},
    "iam_actions": ["organizations:DescribeEffectivePolicy"],
    "remediation": "In the management account, enable the AISERVICES_OPT_OUT_POLICY type (aws organizations "
                   "enable-policy-type) and attach to the root a policy with services.default.opt_out_policy "
                   "{\"@@assign\": \"optOut\"} (lock it with @@operators_allowed_for_child_policies [\"@@none\"]); "
                   "remove any Transcribe optIn.",
}


def setting(services: Mapping[str, Any], service: str) -> Any:
    """The resolved opt_out_policy value of one services entry, or None when there is none."""
    entry = services.get(service)
    value = entry.get("opt_out_policy") if isinstance(entry, Mapping) else None
    if isinstance(value, Mapping):  # a value still wrapped in its operator
        value = value.get("@@assign")
    return value


class TranscribeAiOptOut(TranscribeGuardRule):
    METADATA = METADATA

    def evaluate(self, ctx: RunContext, params: Mapping[str, Any]) -> Iterable[Evaluation]:
        yield self._evaluate_account(ctx)

    def _evaluate_account(self, ctx: RunContext) -> Evaluation:
        organizations = ctx.client("organizations")
        try:
            response = organizations.describe_effective_policy(PolicyType=POLICY_TYPE, TargetId=ctx.account_id)
        except ClientError as error:
            code = error_code(error)
            if code == "AWSOrganizationsNotInUseException":  # Scenario 1
                return self._non_compliant(ctx, "The account is not in an AWS Organizations organization, so no AI "
                                                "services opt-out policy opts Transcribe out.")
            if code == "EffectivePolicyNotFoundException":  # Scenario 2
                return self._non_compliant(ctx, "No AI services opt-out policy applies to the account (the policy "
                                                "type is not enabled or none is attached), so Transcribe is opted in.")
            return self.could_not_evaluate(ctx, ctx.account_id, error,  # Scenario 8
                                           "the effective AI services opt-out policy", resource_type=ACCOUNT_RESOURCE_TYPE)
        try:
            content = json.loads(response["EffectivePolicy"]["PolicyContent"])
            services = content.get("services") if isinstance(content, dict) else None
            if not isinstance(services, Mapping):
                raise ValueError("no services element")
        except (KeyError, TypeError, ValueError):  # Scenario 7
            return self._non_compliant(ctx, "The effective AI services opt-out policy has no readable services element.")
        explicit, default = setting(services, SERVICE), setting(services, "default")
        if explicit == OPT_OUT:  # Scenario 3
            return self.result(ctx, ComplianceType.COMPLIANT, ctx.account_id,
                               "The effective AI services opt-out policy opts Transcribe out explicitly.",
                               resource_type=ACCOUNT_RESOURCE_TYPE)
        if explicit == OPT_IN:  # Scenario 4
            return self._non_compliant(ctx, "The effective AI services opt-out policy opts Transcribe in "
                                            "(services.transcribe.opt_out_policy is optIn); set it to optOut.")
        if explicit is not None:  # Scenario 7
            return self._non_compliant(ctx, "The effective AI services opt-out policy sets Transcribe to a value other "
                                            "than optOut or optIn (values are case-sensitive).")
        if default == OPT_OUT:  # Scenario 5
            return self.result(ctx, ComplianceType.COMPLIANT, ctx.account_id,
                               "The effective AI services opt-out policy opts all AI services out by default and "
                               "Transcribe has no opt-in.", resource_type=ACCOUNT_RESOURCE_TYPE)
        # Scenarios 6, 7
        return self._non_compliant(ctx, "The effective AI services opt-out policy neither opts Transcribe out nor "
                                        "sets services.default.opt_out_policy to optOut.")

    def _non_compliant(self, ctx: RunContext, text: str) -> Evaluation:
        return self.result(ctx, ComplianceType.NON_COMPLIANT, ctx.account_id, text, resource_type=ACCOUNT_RESOURCE_TYPE)


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return Evaluator(TranscribeAiOptOut()).handle(event, context)
