"""Test helpers shared by the IAM rule tests: seeding roles and policies in the simulated IAM with
plain boto3 calls, as a customer would, and making the shared IAM inventory's reads fail or return
altered documents."""

from __future__ import annotations

import json
from typing import Any, Callable, Mapping, Sequence

from botocore.exceptions import ClientError

import rules.inventory.iam
from tests.helpers import LAMBDA_TRUST, fail_calls


def policy_document(*statements: Mapping[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def create_policy(sim: Any, name: str, document: Mapping[str, Any]) -> dict[str, Any]:
    """Create a customer managed policy; its Policy record (Arn, PolicyId, ...)."""
    iam = sim.client("iam")
    return dict(iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document))["Policy"])


def create_role(sim: Any, name: str, trust: Mapping[str, Any] = LAMBDA_TRUST,
                inline: Mapping[str, Mapping[str, Any]] | None = None, managed: Sequence[str] = (),
                boundary: str | None = None) -> dict[str, Any]:
    """Create a role with its inline policies (name -> document), the managed policies of the given
    ARNs attached and, when given, a permissions boundary; its Role record (Arn, RoleId, ...)."""
    iam = sim.client("iam")
    extra = {"PermissionsBoundary": boundary} if boundary else {}
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), **extra)["Role"]
    for policy, document in (inline or {}).items():
        iam.put_role_policy(RoleName=name, PolicyName=policy, PolicyDocument=json.dumps(document))
    for arn in managed:
        iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    return dict(role)


def iam_denied(operation: str) -> ClientError:
    """IAM's refusal: its code is AccessDenied (most other services say AccessDeniedException)."""
    return ClientError({"Error": {"Code": "AccessDenied", "Message": "not authorized"}}, operation)


def deny_iam_reads(monkeypatch: Any, operation: str, **match: str) -> None:
    """Answer AccessDenied to the IAM inventory's ``operation`` calls (boto3 method name, e.g.
    ``list_access_keys``) whose parameters include ``match``; every other call goes through."""
    api_name = "".join(word.capitalize() for word in operation.split("_"))
    for method in ("_pages", "_call"):  # paginated List calls, and single reads
        fail_calls(monkeypatch, rules.inventory.iam.IamInventory, method,
                   lambda self, op, **kwargs: op == operation and all(kwargs.get(k) == v for k, v in match.items()),
                   lambda: iam_denied(api_name))


def alter_iam_responses(monkeypatch: Any, operation: str, alter: Callable[[dict[str, Any]], None]) -> None:
    """Let ``alter`` edit each ``operation`` response (e.g. ``get_user_policy``) before the IAM
    inventory returns it: a document IAM would not hand out, to show the rule fails closed."""
    original = rules.inventory.iam.IamInventory._call

    def altered(self: Any, op: str, **kwargs: Any) -> Any:
        response = original(self, op, **kwargs)
        if op == operation:
            alter(response)
        return response

    monkeypatch.setattr(rules.inventory.iam.IamInventory, "_call", altered)
