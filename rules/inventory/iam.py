"""Shared fetching of IAM identities and their policy documents: the one place rules page through
IAM List calls and read policy documents.

Every List call goes through its boto3 paginator, so no page is dropped. Every read is cached on
the inventory, and one inventory serves every rule of a ``scan`` run (one per client factory, as
for the Transcribe inventory): a managed policy attached to a hundred users is read once, a
group's policies once however many users are in it. Errors are cached too, so a policy that
cannot be read fails every identity that uses it without being asked for again.

A List call that fails for the whole account raises IamListingError (a ListingError, so the rule
base reports the account as not evaluated and keeps earlier results); every other ClientError
propagates to the rule, which reports the one identity or policy it concerns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from botocore.exceptions import ClientError

from rules.engine.per_factory import PerFactory
from rules.inventory.transcribe import ListingError, ResourceKind

LOGGER = logging.getLogger(__name__)

# What a failed account-wide List call was listing (ListingError needs a kind with a label; the
# other fields describe the call for logs).
IAM_USERS = ResourceKind("iam-user", "IAM user", "list_users", "Users", "UserName", "get_user", "UserName", "User")
IAM_ROLES = ResourceKind("iam-role", "IAM role", "list_roles", "Roles", "RoleName", "get_role", "RoleName", "Role")
# The base's annotation reads "when listing {label}s", hence a label with a regular plural.
IAM_POLICIES = ResourceKind("iam-policy", "customer managed policy ARN", "list_policies", "Policies", "PolicyName",
                            "get_policy", "PolicyArn", "Policy")


@dataclass(frozen=True)
class IamUser:
    name: str
    user_id: str
    arn: str


@dataclass(frozen=True)
class IamRole:
    name: str
    role_id: str
    arn: str


@dataclass(frozen=True)
class ManagedPolicy:
    name: str
    policy_id: str
    arn: str
    default_version_id: str | None


@dataclass(frozen=True)
class NamedDocument:
    """One policy document and where it comes from, e.g. ``inline policy ci-deploy`` or
    ``managed policy TranscribeOps (group operators)``. ``label`` names it in annotations."""

    label: str
    document: Any


class IamInventory:
    """Lists and reads IAM users, roles and policies of one account, each at most once."""

    def __init__(self, client: Any, account_id: str):
        self.client = client
        self.account_id = account_id
        self._lists: dict[str, list[Any]] = {}
        self._cache: dict[tuple[str, ...], Any] = {}
        self.calls: dict[str, int] = {}

    # --- plumbing -----------------------------------------------------------------------------

    def _pages(self, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        self.calls[operation] = self.calls.get(operation, 0) + 1
        yield from self.client.get_paginator(operation).paginate(**kwargs)

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        self.calls[operation] = self.calls.get(operation, 0) + 1
        response: dict[str, Any] = getattr(self.client, operation)(**kwargs)
        return response

    def _cached(self, key: tuple[str, ...], fetch: Callable[[], Any]) -> Any:
        """``fetch()`` once per key; a ClientError is remembered and raised again."""
        if key not in self._cache:
            try:
                self._cache[key] = fetch()
            except ClientError as error:
                self._cache[key] = error
        value = self._cache[key]
        if isinstance(value, ClientError):
            raise value
        return value

    def _listing(self, kind: ResourceKind, build: Callable[[dict[str, Any]], Any], **kwargs: Any) -> list[Any]:
        if kind.key not in self._lists:
            try:
                self._lists[kind.key] = [build(item) for page in self._pages(kind.list_operation, **kwargs)
                                         for item in page.get(kind.list_field, [])]
            except ClientError as error:
                raise ListingError(kind, error) from error
        return self._lists[kind.key]

    # --- users --------------------------------------------------------------------------------

    def users(self) -> list[IamUser]:
        return list(self._listing(IAM_USERS, lambda u: IamUser(u["UserName"], u["UserId"], u["Arn"])))

    def active_access_keys(self, user: IamUser) -> int:
        """How many of the user's access keys are Active."""
        def fetch() -> int:
            return sum(1 for page in self._pages("list_access_keys", UserName=user.name)
                       for key in page.get("AccessKeyMetadata", []) if key.get("Status") == "Active")
        return int(self._cached(("keys", user.name), fetch))

    def user_policies(self, user: IamUser) -> list[NamedDocument]:
        """Every identity policy that applies to the user: its inline and attached managed
        policies, and the inline and attached managed policies of each of its groups."""
        found = [NamedDocument(f"inline policy {name}", document)
                 for name, document in self._inline("user", user.name)]
        found += [NamedDocument(f"managed policy {name}", self.managed_document(arn))
                  for name, arn in self._attached("user", user.name)]
        for group in self._groups_of(user.name):
            found += [NamedDocument(f"inline policy {name} (group {group})", document)
                      for name, document in self._inline("group", group)]
            found += [NamedDocument(f"managed policy {name} (group {group})", self.managed_document(arn))
                      for name, arn in self._attached("group", group)]
        return found

    def _groups_of(self, user_name: str) -> list[str]:
        return list(self._cached(("groups", user_name), lambda: [
            group["GroupName"] for page in self._pages("list_groups_for_user", UserName=user_name)
            for group in page.get("Groups", [])]))

    def _inline(self, entity: str, name: str) -> list[tuple[str, Any]]:
        """(policy name, document) of each inline policy of a user, group or role."""
        return [(policy, self._inline_document(entity, name, policy)) for policy in self._inline_names(entity, name)]

    def _inline_names(self, entity: str, name: str) -> list[str]:
        capital = entity.capitalize()
        return list(self._cached(("inline", entity, name), lambda: [
            policy for page in self._pages(f"list_{entity}_policies", **{f"{capital}Name": name})
            for policy in page.get("PolicyNames", [])]))

    def _inline_document(self, entity: str, name: str, policy: str) -> Any:
        capital = entity.capitalize()
        return self._cached(("inline", entity, name, policy), lambda: self._call(
            f"get_{entity}_policy", **{f"{capital}Name": name, "PolicyName": policy})["PolicyDocument"])

    def _attached(self, entity: str, name: str) -> list[tuple[str, str]]:
        """(policy name, ARN) of each managed policy attached to a user, group or role."""
        capital = entity.capitalize()
        return list(self._cached(("attached", entity, name), lambda: [
            (policy["PolicyName"], policy["PolicyArn"])
            for page in self._pages(f"list_attached_{entity}_policies", **{f"{capital}Name": name})
            for policy in page.get("AttachedPolicies", [])]))

    # --- managed policies ---------------------------------------------------------------------

    def customer_managed_policies(self) -> list[ManagedPolicy]:
        """Every customer managed policy of the account, attached or not (AWS managed policies
        are not listed: Scope=Local)."""
        return list(self._listing(IAM_POLICIES, lambda p: ManagedPolicy(
            p["PolicyName"], p["PolicyId"], p["Arn"], p.get("DefaultVersionId")), Scope="Local"))

    def managed_document(self, arn: str, default_version_id: str | None = None) -> Any:
        """The default (active) version's document of a managed policy, read once per ARN."""
        def fetch() -> Any:
            version = default_version_id or self._call("get_policy", PolicyArn=arn)["Policy"]["DefaultVersionId"]
            return self._call("get_policy_version", PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
        return self._cached(("managed", arn), fetch)

    # --- roles --------------------------------------------------------------------------------

    def roles(self) -> list[IamRole]:
        return list(self._listing(IAM_ROLES, lambda r: IamRole(r["RoleName"], r["RoleId"], r["Arn"])))

    def role_inline_policies(self, role: IamRole) -> list[NamedDocument]:
        return [NamedDocument(f"inline policy {name}", document) for name, document in self._inline("role", role.name)]

    # One read per call below, so that a rule can name the read that failed.

    def role(self, name: str) -> dict[str, Any]:
        """GetRole's Role record: RoleId, Arn, AssumeRolePolicyDocument, PermissionsBoundary."""
        return dict(self._cached(("role", name), lambda: self._call("get_role", RoleName=name)["Role"]))

    def role_attached_policies(self, name: str) -> list[tuple[str, str]]:
        """(policy name, ARN) of each managed policy attached to the role."""
        return self._attached("role", name)

    def role_inline_policy_names(self, name: str) -> list[str]:
        return self._inline_names("role", name)

    def role_inline_policy(self, name: str, policy: str) -> Any:
        """The document of one of the role's inline policies."""
        return self._inline_document("role", name, policy)


# One inventory per client factory, as for the Transcribe inventory: a scan shares it between
# rules; each Lambda invocation has its own factory and so its own inventory.
_INVENTORIES: PerFactory[IamInventory] = PerFactory("iam_inventory")


def iam_inventory_for(client_factory: Any, account_id: str) -> IamInventory:
    inventory = _INVENTORIES.get(client_factory)
    if inventory is None or inventory.account_id != account_id:
        inventory = IamInventory(client_factory.build_client("iam"), account_id)
        _INVENTORIES[client_factory] = inventory
    return inventory
