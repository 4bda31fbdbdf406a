"""Readable evidence: a name and a kind beside every result's resource id, and the rule's severity,
practice and remediation beside every verdict.

Names come from three places:

- the id itself: a Transcribe ARN names its resource (``.../transcription-job/NAME``: the kind is
  the ARN's resource type, the name what follows the slash), an S3 bucket's id is its name, any
  other ARN of the form ``type/name`` gives both the same way;
- the account, for ids that say nothing to a person: IAM user, role and customer managed policy
  ids (AIDA..., AROA..., ANPA...) through ListUsers, ListRoles and ListPolicies (Scope=Local), and
  KMS key ids through ListAliases. One paginated listing per kind that occurs, never per result;
- nowhere, on purpose: a VPC's name is its Name tag, and the bundle copies no tag values.

A lookup that fails (AccessDenied, throttling, an id the listing does not hold) leaves the id as it
is, the name empty and ``resource_name_note`` saying "name unavailable" and why; the result itself
is never dropped or changed. Names are the account's own text: every renderer escapes them
(output_safety; Jinja autoescape in report_templates), as it escapes every other value.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable

from botocore.exceptions import BotoCoreError, ClientError

from rules.inventory.transcribe import KINDS_BY_KEY

# What the lookups call (documented in docs/evidence.md; a test records every call they make).
NAME_ACTIONS = ("iam:ListPolicies", "iam:ListRoles", "iam:ListUsers", "kms:ListAliases")
UNAVAILABLE = "name unavailable"
RESULT_FIELDS = ("rule", "resource_type", "resource_id", "compliance", "annotation", "recorded_at")

_ARN = re.compile(r"^arn:[^:]+:([^:]*):[^:]*:[^:]*:(.+)$")
_TYPE_KINDS = {
    "AWS::IAM::User": "IAM user", "AWS::IAM::Role": "IAM role", "AWS::IAM::Policy": "IAM policy",
    "AWS::KMS::Key": "KMS key", "AWS::S3::Bucket": "S3 bucket", "AWS::EC2::VPC": "VPC",
    "AWS::CloudTrail::Trail": "CloudTrail trail",
}
_NO_NAME = {"AWS::EC2::VPC": "no name shown: a VPC's name is a tag, and the bundle copies no tag values"}


def _label(text: str) -> str:
    return text[:1].upper() + text[1:]


def from_id(resource_type: str, resource_id: str) -> dict[str, Any]:
    """Kind and name that the id alone gives, or the note why it gives none (no AWS call)."""
    match = _ARN.match(resource_id)
    if match:
        service, resource = match.groups()
        kind_key, sep, name = resource.partition("/")
        if service == "transcribe" and kind_key in KINDS_BY_KEY and sep and name:
            return _named(_label(KINDS_BY_KEY[kind_key].label), name)
        if sep and name:  # an IAM name may follow a path (role/service-role/NAME): the last part
            return _named(_TYPE_KINDS.get(resource_type, f"{service} {kind_key}"), name.rsplit("/", 1)[-1])
        if service == "s3" and resource_type == "AWS::S3::Bucket":  # arn:aws:s3:::BUCKET
            return _named("S3 bucket", resource)
    if resource_type == "AWS::S3::Bucket":
        return _named("S3 bucket", resource_id)
    if resource_type == "AWS::::Account" and re.fullmatch(r"\d{12}", resource_id):
        return {"resource_kind": "AWS account", "resource_name": None, "resource_name_note": "an account id"}
    kind = _TYPE_KINDS.get(resource_type, resource_type)
    return {"resource_kind": kind, "resource_name": None,
            "resource_name_note": _NO_NAME.get(resource_type, f"{UNAVAILABLE} (the id names no resource by itself)")}


def _named(kind: str, name: str) -> dict[str, Any]:
    return {"resource_kind": kind, "resource_name": name, "resource_name_note": ""}


# --- lookups in the account ------------------------------------------------------------------------

def _pages(client: Any, operation: str, field: str, **kwargs: Any) -> Iterable[dict[str, Any]]:
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(field) or []


def _iam_users(session: Any) -> dict[str, str]:
    return {u["UserId"]: u["UserName"] for u in _pages(session.client("iam"), "list_users", "Users")}


def _iam_roles(session: Any) -> dict[str, str]:
    return {r["RoleId"]: r["RoleName"] for r in _pages(session.client("iam"), "list_roles", "Roles")}


def _iam_policies(session: Any) -> dict[str, str]:
    return {p["PolicyId"]: p["PolicyName"]
            for p in _pages(session.client("iam"), "list_policies", "Policies", Scope="Local")}


def _kms_aliases(session: Any) -> dict[str, str]:
    aliases: dict[str, list[str]] = {}
    for alias in _pages(session.client("kms"), "list_aliases", "Aliases"):
        if alias.get("TargetKeyId"):
            aliases.setdefault(alias["TargetKeyId"], []).append(alias["AliasName"])
    return {key: ", ".join(sorted(names)) for key, names in aliases.items()}


# resource type -> (the call that names its ids, how to list them, what a missing id means)
LOOKUPS: dict[str, tuple[str, Callable[[Any], dict[str, str]], str]] = {
    "AWS::IAM::User": ("iam:ListUsers", _iam_users, f"{UNAVAILABLE} (iam:ListUsers does not list this id)"),
    "AWS::IAM::Role": ("iam:ListRoles", _iam_roles, f"{UNAVAILABLE} (iam:ListRoles does not list this id)"),
    "AWS::IAM::Policy": ("iam:ListPolicies", _iam_policies,
                         f"{UNAVAILABLE} (not a customer managed policy that iam:ListPolicies lists)"),
    "AWS::KMS::Key": ("kms:ListAliases", _kms_aliases, "no alias"),
}


def _key_id(resource_id: str) -> str:
    """A KMS key's id from its id or ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)."""
    return resource_id.rsplit("key/", 1)[1] if resource_id.startswith("arn:") and "key/" in resource_id else resource_id


def _error_text(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or "an AWS error")
    return type(error).__name__


SAVED_SCAN = "a saved scan is read without AWS"
OTHER_ACCOUNTS = "results of other accounts, through an aggregator, are not looked up"


def lookup(session: Any | None, results: Iterable[dict[str, str]], offline: str = SAVED_SCAN
           ) -> dict[str, dict[str, Any]]:
    """``"TYPE ID"`` -> resource_kind, resource_name and resource_name_note for every resource the
    results name. ``session`` None looks nothing up in the account (``offline`` says why: a saved
    scan, read without AWS, or an aggregator's results of other accounts)."""
    found: dict[str, dict[str, Any]] = {}
    wanted: dict[str, list[str]] = {}
    for row in results:
        resource_type, resource_id = row["resource_type"], row["resource_id"]
        record = found[f"{resource_type} {resource_id}"] = from_id(resource_type, resource_id)
        if resource_type in LOOKUPS and (record["resource_name"] is None or resource_type == "AWS::KMS::Key"):
            wanted.setdefault(resource_type, []).append(resource_id)
    for resource_type, ids in wanted.items():
        ids = list(dict.fromkeys(ids))
        action, listing, missing = LOOKUPS[resource_type]
        names: dict[str, str] | None = None
        if session is None:
            problem = f"{UNAVAILABLE} ({offline}; {action} was not called)"
        else:
            try:
                names = listing(session)
            except (ClientError, BotoCoreError) as error:
                problem = f"{UNAVAILABLE} ({action} failed: {_error_text(error)})"
        for resource_id in ids:
            record = found[f"{resource_type} {resource_id}"]
            name = None if names is None else names.get(_key_id(resource_id) if resource_type == "AWS::KMS::Key"
                                                         else resource_id)
            record.update(resource_name=name, resource_name_note="" if name else missing if names is not None
                          else problem)
    return found


def names_for(names: dict[str, dict[str, Any]], row: dict[str, str]) -> dict[str, Any]:
    """The name fields of one result (from ``lookup``; the id alone when it was not looked up)."""
    return names.get(f"{row['resource_type']} {row['resource_id']}") or from_id(row["resource_type"], row["resource_id"])


# --- what the registry says of each rule --------------------------------------------------------------

def guidance() -> dict[str, dict[str, Any]]:
    """Registry entry name -> severity, practice and remediation. Custom rules carry theirs in
    METADATA; AWS managed rules and process checks have no severity of ours (None: "not rated"),
    and their remediation points to AWS's rule page or to the check itself."""
    from rules.catalog.pack_entries import MANAGED_RULES, PROCESS_CHECKS
    from rules.catalog.registry import RULES
    from transcribe_guard.compliance import PRACTICES

    found: dict[str, dict[str, Any]] = {}
    for name, cls in RULES.items():
        meta = cls.METADATA
        found[name] = {"severity": meta["severity"], "practice": meta["practice"], "remediation": meta["remediation"]}
    for managed in MANAGED_RULES:
        found[managed["name"]] = {
            "severity": None, "practice": managed["practice"],
            "remediation": f"AWS managed rule {managed['identifier']}: fix each non-compliant resource as its page in "
                           f"the AWS Config Developer Guide describes ({managed['regions_source']})."}
    for check in PROCESS_CHECKS:
        found[check["name"]] = {
            "severity": None, "practice": check["practice"],
            "remediation": f"Carry out the check ({check['description'].rstrip('.')}) and record its result in "
                           "AWS Config."}
    for record in found.values():
        record["practice_name"] = PRACTICES.get(record["practice"])
    return found


def readable(row: dict[str, str], names: dict[str, dict[str, Any]],
             rules: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One result with its name fields and its rule's severity, practice and remediation. Only the
    result's own fields are kept (a scan's rows also name their account, Region and evaluation
    time, which the bundle records once, in its collection)."""
    about = rules.get(row["rule"]) or {"severity": None, "practice": None, "practice_name": None,
                                       "remediation": "Not a rule of this pack: no remediation on record."}
    return {**{k: row[k] for k in RESULT_FIELDS if k in row}, **names_for(names, row), **about}
