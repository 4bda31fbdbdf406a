"""AWS Organizations DescribeEffectivePolicy for the simulator.

moto 5.2.5 stores organizations, OUs, accounts and AI services opt-out policies and their
attachments, but has no DescribeEffectivePolicy. Here it is, for AISERVICES_OPT_OUT_POLICY:
the effective policy of an account is computed from the policies of that type attached to the
root, to each OU on the way down to the account, and to the account itself, as the
Organizations User Guide describes management policy inheritance
(orgs_manage_policies_inheritance_mgmt, orgs_manage_policies_ai-opt-out_effective):

- Levels are merged top-down (root, OUs, account). ``@@assign`` sets a value and overwrites an
  inherited one; among policies attached to the same entity the first attached wins.
- ``@@operators_allowed_for_child_policies`` limits the operators that policies attached lower in
  the tree may use, for the setting it is on and everything under it; limits from several
  policies, and from several levels, intersect. ``["@@none"]`` locks the value.
- The effective policy shows resolved values without operators:
  ``{"services":{"transcribe":{"opt_out_policy":"optOut"}}}``.

Errors, as the API reference describes them: AWSOrganizationsNotInUseException when the caller
is in no organization; EffectivePolicyNotFoundException when the policy type is not enabled on
the root or no policy of the type applies to the account; TargetNotFoundException for an account
outside the organization; InvalidInputException for a root or OU as TargetId (not supported) or
another policy type; AccessDeniedException when a member account asks about another account
(only the management account may name any account).

Limits (kept simple on purpose): ``@@append`` and ``@@remove`` are ignored (AI services opt-out
settings are single-valued, so AWS rejects them there); policy documents are not validated at
CreatePolicy (AWS rejects malformed ones); a value given without an operator is ignored;
``default`` is not expanded into per-service entries; LastUpdatedTimestamp is the time of the
call; delegated administrators are not modelled. moto's AttachPolicy does not require the policy
type to be enabled; the effective policy here does.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable, Mapping, Sequence

from moto.core.utils import unix_time
from moto.organizations import utils as org_utils
from moto.organizations.exceptions import (AWSOrganizationsNotInUseException, InvalidInputException,
                                           OrganizationsClientError, TargetNotFoundException)
from moto.organizations.models import organizations_backends
from moto.organizations.responses import OrganizationsResponse

SUPPORTED_TYPES = ("AISERVICES_OPT_OUT_POLICY",)
MANAGEMENT_TYPES = ("AISERVICES_OPT_OUT_POLICY", "BACKUP_POLICY", "TAG_POLICY", "CHATBOT_POLICY",
                    "DECLARATIVE_POLICY_EC2", "SECURITYHUB_POLICY", "INSPECTOR_POLICY", "UPGRADE_ROLLOUT_POLICY",
                    "BEDROCK_POLICY", "S3_POLICY", "NETWORK_SECURITY_DIRECTOR_POLICY")

ASSIGN = "@@assign"
CHILD_CONTROL = "@@operators_allowed_for_child_policies"
VALUE_OPERATORS = frozenset({"@@assign", "@@append", "@@remove"})

Path = tuple[str, ...]


class EffectivePolicyNotFoundException(OrganizationsClientError):
    def __init__(self) -> None:
        super().__init__("EffectivePolicyNotFoundException",
                         "We can't find an effective policy of that type for the specified target.")


class AccessDeniedException(OrganizationsClientError):
    def __init__(self, message: str) -> None:
        super().__init__("AccessDeniedException", message)


# --- the merge: pure, on parsed policy documents ---------------------------------------------

def _allowed_operators(values: Any) -> frozenset[str]:
    listed = set(values) if isinstance(values, list) else {values}
    if "@@all" in listed:
        return VALUE_OPERATORS
    return frozenset(listed & VALUE_OPERATORS)


def _permits(limits: Mapping[Path, frozenset[str]], path: Path, operator: str) -> bool:
    return all(operator in limits[path[:depth]] for depth in range(len(path) + 1) if path[:depth] in limits)


def _set(tree: dict[str, Any], path: Path, value: Any) -> None:
    for key in path[:-1]:
        child = tree.get(key)
        if not isinstance(child, dict):
            child = tree[key] = {}
        tree = child
    tree[path[-1]] = value


def merge_policies(levels: Sequence[Sequence[Mapping[str, Any]]]) -> dict[str, Any]:
    """The effective policy of documents attached at successive levels (root first, account
    last; within a level, in attachment order)."""
    effective: dict[str, Any] = {}
    limits: dict[Path, frozenset[str]] = {}
    for documents in levels:
        assigned_here: set[Path] = set()
        new_limits: dict[Path, frozenset[str]] = {}

        def walk(node: Mapping[str, Any], path: Path) -> None:
            for key, value in node.items():
                if key == CHILD_CONTROL:
                    allowed = _allowed_operators(value)
                    new_limits[path] = new_limits.get(path, VALUE_OPERATORS) & allowed
                elif key == ASSIGN:
                    if path and path not in assigned_here and _permits(limits, path, ASSIGN):
                        _set(effective, path, value)
                        assigned_here.add(path)
                elif key.startswith("@@"):
                    continue  # @@append / @@remove: not for single-valued settings (see module doc)
                elif isinstance(value, Mapping):
                    walk(value, path + (key,))

        for document in documents:
            walk(document, ())
        for path, allowed in new_limits.items():
            limits[path] = limits.get(path, VALUE_OPERATORS) & allowed
    return effective


# --- the organization: which policies apply to an account --------------------------------------

def _management_backend(caller: str, partition: str) -> Any:
    backend = organizations_backends[caller][partition]
    if backend.org is not None:
        return backend
    if caller in organizations_backends.master_accounts:
        management, management_partition = organizations_backends.master_accounts[caller]
        return organizations_backends[management][management_partition]
    raise AWSOrganizationsNotInUseException()


def _chain(backend: Any, account: Any) -> list[Any]:
    """Root, OUs and the account, top-down."""
    nodes = [account]
    parent_id = account.parent_id
    by_id = {ou.id: ou for ou in backend.ou}
    while parent_id in by_id:
        node = by_id[parent_id]
        nodes.append(node)
        parent_id = node.parent_id
    return list(reversed(nodes))


def _documents(node: Any, policy_type: str) -> Iterable[Mapping[str, Any]]:
    for policy in node.attached_policies:
        if policy.type != policy_type:
            continue
        try:
            document = json.loads(policy.content or "{}")
        except ValueError:
            continue
        if isinstance(document, dict):
            yield document


def effective_policy(caller: str, partition: str, policy_type: str, target_id: str | None) -> dict[str, Any]:
    """The DescribeEffectivePolicy response body for ``caller``."""
    if policy_type not in MANAGEMENT_TYPES:
        raise InvalidInputException("You specified an invalid value.")
    if policy_type not in SUPPORTED_TYPES:
        raise InvalidInputException(f"The simulator computes effective policies only for {', '.join(SUPPORTED_TYPES)}.")
    backend = _management_backend(caller, partition)
    target = target_id or caller
    if re.fullmatch(org_utils.ROOT_ID_REGEX, target) or re.fullmatch(org_utils.OU_ID_REGEX, target):
        raise InvalidInputException("Specifying an organization root or organizational unit as the target is not supported.")
    if not re.fullmatch(org_utils.ACCOUNT_ID_REGEX, target):
        raise InvalidInputException("You specified an invalid value.")
    if backend.account_id != caller and target != caller:
        raise AccessDeniedException("You don't have permissions to access this resource.")
    account = next((a for a in backend.accounts if a.id == target), None)
    if account is None:
        raise TargetNotFoundException()
    root = next(ou for ou in backend.ou if ou.type == "ROOT")
    if not any(t["Type"] == policy_type and t["Status"] == "ENABLED" for t in root.policy_types):
        raise EffectivePolicyNotFoundException()
    levels = [list(_documents(node, policy_type)) for node in _chain(backend, account)]
    if not any(levels):
        raise EffectivePolicyNotFoundException()
    content = merge_policies(levels)
    return {"EffectivePolicy": {
        "PolicyContent": json.dumps(content, separators=(",", ":"), sort_keys=True),
        "LastUpdatedTimestamp": unix_time(),
        "TargetId": target,
        "PolicyType": policy_type,
    }}


def describe_effective_policy(self: OrganizationsResponse) -> str:
    return json.dumps(effective_policy(self.current_account, self.partition, self._get_param("PolicyType"),
                                       self._get_param("TargetId")))


def install() -> None:
    """Add DescribeEffectivePolicy to moto's Organizations responses (idempotent)."""
    OrganizationsResponse.describe_effective_policy = describe_effective_policy  # type: ignore[attr-defined]
