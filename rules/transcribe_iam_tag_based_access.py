"""transcribe-iam-tag-based-access

Identifier: TRANSCRIBE_IAM_TAG_BASED_ACCESS
Description: Customer managed policies and role inline policies that allow Transcribe actions on
    jobs, vocabularies, vocabulary filters, language models or categories allow them only under
    tag conditions (aws:ResourceTag, aws:RequestTag, aws:TagKeys), on RequiredTagKeys if given.
Rationale: Tag-based access control (ABAC) keeps one team's call audio, transcripts and
    customizations out of another's reach, and keeps doing so as resources are added, without
    rewriting policies (AWS security practice 5, tag-based access control).
Severity: Medium
Trigger: Periodic (IAM is global: deploy the rule in one region, as for Config's own IAM rules)
Reports on: each customer managed policy as AWS::IAM::Policy by its PolicyId (ANPA...), and each
    role with inline policies as AWS::IAM::Role by its RoleId (AROA...), the ids AWS Config records
Parameters:
    RequiredTagKeys (optional): comma-separated tag keys the conditions must use: a grant that
        does not depend on one of these keys is NON_COMPLIANT. Empty: any tag key will do.
    ExemptRoleNames (optional): comma-separated role names not judged (NOT_APPLICABLE). Default:
        transcribe-guard-functions,transcribe-guard-member,transcribe-guard-ledger-collector, the
        roles transcribe-guard deploys to run its rules and its ledger collector, which read every
        Transcribe resource by design. Add yours if you deploy the
        member role under another name; to exempt none, name a role that does not exist (none).

What counts: Amazon Transcribe's condition keys for tags are the global aws:ResourceTag/<key>,
aws:RequestTag/<key> and aws:TagKeys (the service defines no tag key of its own; its
transcribe:Output* keys are about output locations). A grant is tag-restricted when the policies
would no longer allow the request if the resource and the request carried no tags (or none of
RequiredTagKeys) - whether the tag condition sits in the Allow or in a Deny for untagged
requests. Conditions that still hold without tags (...IfExists, StringNotEquals, ForAllValues:)
restrict nothing. Tag keys in condition key names are compared case-insensitively, as IAM does.

List actions and streaming actions act on no stored resource, so no resource tag can govern
them: a policy allowing only those is COMPLIANT. Every other Transcribe action counts (Get,
Describe, Delete, Update, Create, Start, TagResource, UntagResource).

Which policies: every customer managed policy, attached or not (an unattached policy can be
attached at any time), judged by its default version, the one in force; and each role's inline
policies, judged together (a Deny in one restricts an Allow in another). AWS managed policies
(arn:aws:iam::aws:policy/...) are out of scope: customers cannot change them. Policies and roles
that allow no Transcribe action are not reported, as Config rules scoped by content do:
NOT_APPLICABLE for every unrelated policy would be noise.

Scenarios:
    1. Given no customer managed policies and no roles with inline policies, then no evaluations
       are returned.
    2. Given a customer managed policy, or a role's inline policies, that allow no Transcribe
       action, then it is not reported; AWS managed policies are never listed.
    3. Given a policy that allows only Transcribe List or streaming actions, then COMPLIANT.
    4. Given a policy that allows a Transcribe action on resources without a tag condition (none,
       or one that holds without tags such as StringEqualsIfExists or StringNotEquals), then
       NON_COMPLIANT naming up to two such actions.
    5. Given a policy that allows Transcribe actions on resources only under tag conditions, in
       its Allow statements or through a Deny for untagged resources, then COMPLIANT.
    6. Given RequiredTagKeys and a policy allowing an action on resources without a condition on
       one of those keys, then NON_COMPLIANT naming the keys not used.
    7. Given RequiredTagKeys and a policy whose every grant on resources depends on all of those
       keys, then COMPLIANT.
    8. Given a role with inline policies, then they are judged together and reported as
       AWS::IAM::Role by RoleId; a customer managed policy is judged by its default version
       alone, attached or not, and reported as AWS::IAM::Policy by PolicyId.
    9. Given a policy or role whose document cannot be read (e.g. AccessDenied) or is not a valid
       policy, then NON_COMPLIANT with an annotation starting "Could not evaluate:", and the
       others are evaluated normally.
   10. Given policies or roles that cannot be listed, then the account is reported NON_COMPLIANT
       ("Could not evaluate") and earlier results are kept.
   11. Given a RequiredTagKeys entry that is not a tag key, or an ExemptRoleNames entry that is
       not a role name, then the rule raises InvalidParametersError naming the parameter.
   12. Given a role named in ExemptRoleNames, then NOT_APPLICABLE and its policies are not read.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from botocore.exceptions import ClientError
from rdklib import ComplianceType, Evaluation

from rules.engine.base import Evaluator, RunContext, TranscribeGuardRule
from rules.engine.pack_functions import PACK_ROLES
from rules.inventory.iam import NamedDocument, iam_inventory_for
from rules.policy.iam_probe import (Scope, allowed, describe_actions, describe_labels, fitting, takes_no_resource,
                                    without_tags)

POLICY_TYPE = "AWS::IAM::Policy"
ROLE_TYPE = "AWS::IAM::Role"

METADATA: dict[str, Any] = {
    "name": "transcribe-iam-tag-based-access",
    "order": 13,
    "title": "Transcribe permissions on resources are restricted by tags",
    "description": "Customer managed policies and role inline policies allow Transcribe actions on jobs, "
                   "vocabularies, filters, language models and categories only under aws:ResourceTag, "
                   "aws:RequestTag or aws:TagKeys conditions (on RequiredTagKeys if given).",
    "rationale": "Tag-based access control keeps each team's call audio, transcripts and customizations out of "
                 "other teams' reach as resources are added, without rewriting policies.",
    "practice": 5,
    "severity": "medium",
    "trigger": {"type": "periodic", "frequency": "TwentyFour_Hours"},
    "resource_kinds": [POLICY_TYPE, ROLE_TYPE],
    "reports": "Each customer managed policy as AWS::IAM::Policy by PolicyId and each role with inline policies as "
               "AWS::IAM::Role by RoleId, if they allow any Transcribe action.",
    "not_applicable": "The role is listed in ExemptRoleNames (by default the roles transcribe-guard runs as). "
                      "Policies and roles that allow no Transcribe action are not reported; AWS managed policies are "
                      "out of scope.",
    "parameters": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "RequiredTagKeys": {
                "type": "string",
                "x-type": "list",
                "maxLength": 1024,
                "pattern": r"(?!aws:)[\w .:/=+@-]{1,128}",
                "x-pattern-hint": "each entry must be a tag key (letters, digits, spaces and _.:/=+-@, at most 128, "
                                  "not starting with aws:)",
                "description": "Comma-separated tag keys the tag conditions must use. Empty: any tag key.",
            },
            "ExemptRoleNames": {
                "type": "string",
                "x-type": "list",
                "default": ",".join(PACK_ROLES),
                "maxLength": 1024,
                "pattern": r"[\w+=.@-]{1,64}",
                "x-pattern-hint": "each entry must be an IAM role name (letters, digits and _+=.@-, at most 64)",
                "description": "Comma-separated IAM role names not judged (NOT_APPLICABLE); by default the roles "
                               "transcribe-guard runs as, which read every Transcribe resource by design.",
            },
        },
    },
    "iam_actions": [
        "iam:ListPolicies",
        "iam:GetPolicyVersion",
        "iam:ListRoles",
        "iam:ListRolePolicies",
        "iam:GetRolePolicy",
    ],
    "remediation": "Add tag conditions to each statement allowing Transcribe actions on resources, e.g. "
                   "StringEquals aws:ResourceTag/CostCenter = ${aws:PrincipalTag/CostCenter} for existing resources "
                   "and aws:RequestTag/CostCenter for Create/Start, or a Deny when the tag is Null; tag the resources.",
}


class TranscribeIamTagBasedAccess(TranscribeGuardRule):
    METADATA = METADATA

    def evaluate(self, ctx: RunContext, params: Mapping[str, Any]) -> Iterable[Evaluation]:
        inventory = iam_inventory_for(ctx.client_factory, ctx.account_id)
        scope = Scope(ctx.partition, ctx.region, ctx.account_id)
        required: list[str] = params["RequiredTagKeys"]
        exempt = set(params["ExemptRoleNames"])
        for policy in inventory.customer_managed_policies():  # Scenario 1; Scenario 10: ListingError
            try:
                document = inventory.managed_document(policy.arn, policy.default_version_id)
            except ClientError as error:  # Scenario 9
                yield self.could_not_evaluate(ctx, policy.policy_id, error, "the policy's default version", POLICY_TYPE)
                continue
            found = self._judge(ctx, scope, policy.policy_id, POLICY_TYPE, "Policy",
                                [NamedDocument(f"policy {policy.name}", document)], required)
            if found:
                yield found
        for role in inventory.roles():  # Scenario 10: ListingError
            if role.name in exempt:  # Scenario 12
                yield self.result(ctx, ComplianceType.NOT_APPLICABLE, role.role_id,
                                  "Role is exempt by the ExemptRoleNames parameter.", ROLE_TYPE)
                continue
            try:
                inline = inventory.role_inline_policies(role)
            except ClientError as error:  # Scenario 9
                yield self.could_not_evaluate(ctx, role.role_id, error, "the role's inline policies", ROLE_TYPE)
                continue
            if not inline:  # Scenario 1: only roles with inline policies are judged
                continue
            found = self._judge(ctx, scope, role.role_id, ROLE_TYPE, "Role", inline, required)
            if found:
                yield found

    def _judge(self, ctx: RunContext, scope: Scope, resource_id: str, resource_type: str, subject: str,
               policies: Sequence[NamedDocument], required: list[str]) -> Evaluation | None:
        """Scenario 8: one verdict for the documents together."""
        try:
            granted = allowed(policies, scope)
            if not granted:  # Scenario 2
                return None
            on_resources = [action for action in granted if not takes_no_resource(action)]
            if not on_resources:  # Scenario 3
                return self.result(ctx, ComplianceType.COMPLIANT, resource_id,
                                   f"{subject} allows only Transcribe List or streaming actions, which act on no "
                                   "taggable resource.", resource_type)
            untagged = allowed(policies, scope, on_resources, without_tags())
            if untagged:  # Scenario 4
                return self.result(ctx, ComplianceType.NON_COMPLIANT, resource_id, fitting(
                    lambda shown: f"{subject} allows {describe_actions(list(untagged))} without a tag condition "
                                  "(aws:ResourceTag, aws:RequestTag or aws:TagKeys)"
                                  f"{_where(subject, untagged, shown)}."),
                                   resource_type)
            missing = {key: found for key in required
                       if (found := allowed(policies, scope, on_resources, without_tags([key])))}
            if missing:  # Scenario 6
                first = next(iter(missing.values()))
                return self.result(ctx, ComplianceType.NON_COMPLIANT, resource_id, fitting(
                    lambda shown: f"{subject} allows {describe_actions(list(first))} without a condition on required "
                                  f"{_keys(list(missing))}{_where(subject, first, shown)}."), resource_type)
        except ValueError:  # Scenario 9: rules.policy.evaluation.PolicyError, or values it cannot compare
            what = "the role's inline policies" if subject == "Role" else "the policy's default version"
            return self.result(ctx, ComplianceType.NON_COMPLIANT, resource_id,
                               f"Could not evaluate: MalformedPolicyDocument when reading {what}.", resource_type)
        keys = f" on {_keys(required)}" if required else ""
        return self.result(ctx, ComplianceType.COMPLIANT, resource_id,  # Scenarios 5, 7
                           f"{subject} allows Transcribe actions on resources only under tag conditions{keys}.",
                           resource_type)


def _where(subject: str, grants: Mapping[str, tuple[str, ...]], shown: int) -> str:
    """For a role, which of its inline policies grants; a managed policy is the resource itself."""
    if subject != "Role":
        return ""
    return f" in {describe_labels([label for labels in grants.values() for label in labels], shown)}"


def _keys(keys: Sequence[str]) -> str:
    return f"tag key{'s' if len(keys) > 1 else ''} {', '.join(keys)}"


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return Evaluator(TranscribeIamTagBasedAccess()).handle(event, context)
