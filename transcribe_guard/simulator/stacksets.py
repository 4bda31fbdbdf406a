"""CloudFormation StackSets closer to AWS for the organization path (docs/deployment.md).

moto 5.2.5 has service-managed stack sets, but its CreateStackInstances deploys to every account
of the target OUs and of their direct child OUs only, the management account included, ignores
DeploymentTargets' Accounts and AccountFilterType, and replaces the stack set's parameters with
ParameterOverrides instead of overriding them. Here, for SERVICE_MANAGED:

- the targets are the accounts in the OUs named and in every OU below them, never the
  management account, and AccountFilterType picks among them: INTERSECTION keeps only the listed
  Accounts, DIFFERENCE leaves them out, UNION (the default) adds them, NONE ignores them
  (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DeploymentTargets.html:
  "StackSets doesn't deploy stack instances to the organization management account, even if the
  organization management account is in your organization or in an OU in your organization");
- ParameterOverrides override the stack set's parameters key by key.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import models as cloudformation_models
from moto.organizations.models import organizations_backends


def _as_list(parameters: Any) -> list[dict[str, Any]]:
    if isinstance(parameters, dict):
        return [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()]
    return list(parameters or [])


def merged_parameters(stack_set_parameters: Any, overrides: Any) -> list[dict[str, Any]]:
    merged = {p["ParameterKey"]: p for p in _as_list(stack_set_parameters)}
    merged.update({p["ParameterKey"]: p for p in _as_list(overrides)})
    return list(merged.values())


def service_managed_targets(account_id: str, partition: str, targets: dict[str, Any]) -> list[str]:
    # A delegated administrator's stack set: the organization lives on the management account.
    owner, partition = organizations_backends.master_accounts.get(account_id, (account_id, partition))
    backend = organizations_backends[owner][partition]
    management = backend.org.master_account_id if backend.org else None
    wanted = set(targets.get("OrganizationalUnitIds", []))
    while True:  # every OU below the named ones
        below = {ou.id for ou in backend.ou if ou.parent_id in wanted} - wanted
        if not below:
            break
        wanted |= below
    in_ous = [a.id for a in backend.accounts if a.parent_id in wanted and a.id != management]
    listed = list(targets.get("Accounts", []))
    kind = targets.get("AccountFilterType", "UNION")
    if kind == "INTERSECTION":
        return [a for a in in_ous if a in listed]
    if kind == "DIFFERENCE":
        return [a for a in in_ous if a not in listed]
    if kind == "NONE":
        return in_ous
    return list(dict.fromkeys(in_ous + [a for a in listed if a != management]))  # UNION


def install() -> None:
    original = cloudformation_models.StackInstances.create_instances
    if getattr(original, "_transcribe_guard", False):
        return

    def create_instances(self: Any, accounts: list[str], regions: list[str], parameters: Any,
                         deployment_targets: dict[str, Any], permission_model: str) -> Any:
        parameters = merged_parameters(self.parameters, parameters)
        if permission_model == "SERVICE_MANAGED" and deployment_targets:
            accounts = service_managed_targets(self.account_id, self.partition, deployment_targets)
            deployment_targets = {}
        return original(self, accounts, regions, parameters, deployment_targets, permission_model)

    create_instances._transcribe_guard = True  # type: ignore[attr-defined]
    cloudformation_models.StackInstances.create_instances = create_instances  # type: ignore[method-assign]
