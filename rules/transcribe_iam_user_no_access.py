"""transcribe-iam-user-no-access

Identifier: TRANSCRIBE_IAM_USER_NO_ACCESS
Description: No IAM user with an active access key is allowed any Amazon Transcribe action by its
    inline, attached managed or group policies; applications call Transcribe with an IAM role.
Rationale: Access keys are long-term credentials: they do not expire, leak through code,
    laptops and CI logs, and anyone holding one can start jobs on call audio or read
    transcripts. Roles hand out temporary credentials instead (AWS security practice 4, IAM
    roles instead of long-term credentials).
Severity: High
Trigger: Periodic (IAM is global: deploy the rule in one region, as for Config's own IAM rules)
Reports on: each IAM user, as AWS::IAM::User by its UserId (AIDA...), the id AWS Config records
Parameters:
    ExemptUserNames (optional): comma-separated IAM user names that may keep Transcribe access
        with access keys (e.g. a workload that cannot use roles yet); they are NOT_APPLICABLE.

The user's policies are judged together, as IAM judges a request: an explicit Deny in any of
them wins over every Allow. Every Transcribe action is probed (each operation of botocore's
transcribe model, plus the streaming actions) on ``*``, on representative ARNs and on the ARNs
the policies name (see rules/policy/iam_probe.py); conditions that can be met count as met. Permissions
boundaries, service control policies and session policies are not read: they can only narrow a
grant, so the rule may report a user whose access they already remove.

A user without an active access key is NOT_APPLICABLE rather than COMPLIANT: the practice is
about long-term credentials, and such a user has none that could call Transcribe (console
passwords are out of scope; Transcribe is an API service). Its policies are not read.

Scenarios:
    1. Given no IAM users, then no evaluations are returned.
    2. Given a user with no access key, or only inactive ones, then NOT_APPLICABLE: no active
       access key.
    3. Given a user named in ExemptUserNames, then NOT_APPLICABLE and its policies are not read.
    4. Given a user with an active access key whose inline, attached and group policies allow no
       Transcribe action, then COMPLIANT.
    5. Given a user with an active access key whose policies allow a Transcribe action, by name
       or by a wildcard (transcribe:*, transcribe:Start*, *) or NotAction (NotAction iam:*),
       then NON_COMPLIANT naming up to two allowed actions and the policies that grant them.
    6. Given the grant comes from a group's inline or attached policy, then NON_COMPLIANT as in 5,
       naming the policy and the group.
    7. Given an explicit Deny in any of the user's policies covering every Transcribe action its
       policies allow, then COMPLIANT: a Deny overrides Allows across policies. A Deny the caller
       can step around (e.g. one that applies only without MFA) does not.
    8. Given an Allow limited by conditions (tags, source IP, MFA), then it counts as a grant:
       the key holder can meet them.
    9. Given a user whose access keys or policies cannot be read (e.g. AccessDenied), or whose
       policy is not a valid document, then NON_COMPLIANT with an annotation starting
       "Could not evaluate:", and the other users are evaluated normally.
   10. Given users that cannot be listed, then the account is reported NON_COMPLIANT ("Could not
       evaluate") and earlier results are kept.
   11. Given an ExemptUserNames entry that is not an IAM user name, then the rule raises
       InvalidParametersError naming the parameter.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from botocore.exceptions import ClientError
from rdklib import ComplianceType, Evaluation

from rules.engine.base import Evaluator, RunContext, TranscribeGuardRule, annotation
from rules.inventory.iam import IamInventory, IamUser, NamedDocument, iam_inventory_for
from rules.policy.iam_probe import Scope, allowed, describe_actions, describe_labels, fitting, transcribe_actions

USER_TYPE = "AWS::IAM::User"

METADATA: dict[str, Any] = {
    "name": "transcribe-iam-user-no-access",
    "order": 12,
    "title": "IAM users with access keys are not allowed Transcribe actions",
    "description": "No IAM user with an active access key is allowed any Amazon Transcribe action by its inline, "
                   "attached managed or group policies; applications use IAM roles with temporary credentials.",
    "rationale": "Access keys never expire and leak through code, laptops and logs; whoever holds one can start "
                 "jobs on call audio and read transcripts. Roles issue short-lived credentials instead.",
    "practice": 4,
    "severity": "high",
    "trigger": {"type": "periodic", "frequency": "TwentyFour_Hours"},
    "resource_kinds": [USER_TYPE],
    "reports": "Each IAM user as AWS::IAM::User by its UserId, the id AWS Config records.",
    "not_applicable": "The user has no active access key, or is listed in ExemptUserNames.",
    "parameters": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "ExemptUserNames": {
                "type": "string",
                "x-type": "list",
                "maxLength": 1024,
                "pattern": r"[\w+=,.@-]{1,64}",
                "x-pattern-hint": "each entry must be an IAM user name (letters, digits and _+=.@-, at most 64)",
                "description": "Comma-separated IAM user names exempt from the rule (reported NOT_APPLICABLE). "
                               "Empty: none.",
            },
        },
    },
    "iam_actions": [
        "iam:ListUsers",
        "iam:ListAccessKeys",
        "iam:ListUserPolicies",
        "iam:GetUserPolicy",
        "iam:ListAttachedUserPolicies",
        "iam:ListGroupsForUser",
        "iam:ListGroupPolicies",
        "iam:GetGroupPolicy",
        "iam:ListAttachedGroupPolicies",
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
    ],
    "remediation": "Run the workload under an IAM role (instance profile, task or Lambda role, or IAM Roles Anywhere "
                   "outside AWS), then remove the user's Transcribe permissions, or deactivate and delete its access "
                   "keys (UpdateAccessKey Status=Inactive, DeleteAccessKey).",
}


class TranscribeIamUserNoAccess(TranscribeGuardRule):
    METADATA = METADATA

    def evaluate(self, ctx: RunContext, params: Mapping[str, Any]) -> Iterable[Evaluation]:
        inventory = iam_inventory_for(ctx.client_factory, ctx.account_id)
        scope = Scope(ctx.partition, ctx.region, ctx.account_id)
        exempt = set(params["ExemptUserNames"])
        verdicts: dict[tuple[tuple[str, int], ...], Evaluation] = {}  # users with the same policies share a verdict
        for user in inventory.users():  # Scenario 1: no users, nothing yielded; Scenario 10: ListingError
            yield self._evaluate_user(ctx, inventory, scope, user, exempt, verdicts)

    def _evaluate_user(self, ctx: RunContext, inventory: IamInventory, scope: Scope, user: IamUser,
                       exempt: set[str], verdicts: dict[tuple[tuple[str, int], ...], Evaluation]) -> Evaluation:
        if user.name in exempt:  # Scenario 3
            return self.result(ctx, ComplianceType.NOT_APPLICABLE, user.user_id,
                               "User is exempt by the ExemptUserNames parameter.", USER_TYPE)
        try:
            active_keys = inventory.active_access_keys(user)
        except ClientError as error:  # Scenario 9
            return self.could_not_evaluate(ctx, user.user_id, error, "the user's access keys", USER_TYPE)
        if not active_keys:  # Scenario 2
            return self.result(ctx, ComplianceType.NOT_APPLICABLE, user.user_id,
                               "User has no active access key, so no long-term credential of it can call Transcribe.",
                               USER_TYPE)
        try:
            policies = inventory.user_policies(user)
        except ClientError as error:  # Scenario 9
            return self.could_not_evaluate(ctx, user.user_id, error, "the user's policies", USER_TYPE)
        key = tuple((policy.label, id(policy.document)) for policy in policies)
        if key not in verdicts:
            verdicts[key] = self._judge(ctx, scope, user, policies)
        cached = verdicts[key]
        return Evaluation(cached.complianceType, user.user_id, USER_TYPE, cached.annotation)

    def _judge(self, ctx: RunContext, scope: Scope, user: IamUser, policies: list[NamedDocument]) -> Evaluation:
        try:
            grants = allowed(policies, scope)  # Scenarios 5-8: all policies together, as IAM decides
        except ValueError:  # Scenario 9: rules.policy.evaluation.PolicyError, or values it cannot compare
            return Evaluation(ComplianceType.NON_COMPLIANT, user.user_id, USER_TYPE, annotation(
                "Could not evaluate: MalformedPolicyDocument when reading the user's policies."))
        if not grants:  # Scenarios 4, 7
            return self.result(ctx, ComplianceType.COMPLIANT, user.user_id,
                               "User has an active access key and its policies allow no Transcribe action.", USER_TYPE)
        labels = [label for granted_by in grants.values() for label in granted_by]
        actions = describe_actions(list(grants), len(transcribe_actions()))
        return self.result(ctx, ComplianceType.NON_COMPLIANT, user.user_id, fitting(  # Scenarios 5, 6
            lambda shown: f"User has an active access key and is allowed {actions} by "
                          f"{describe_labels(labels, shown)}; use an IAM role instead."), USER_TYPE)


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return Evaluator(TranscribeIamUserNoAccess()).handle(event, context)
