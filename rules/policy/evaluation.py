"""Evaluate IAM-style policy documents the way AWS does, for one request at a time.

Rules judge bucket, key and identity policies by asking "what would AWS decide for this
request?" instead of searching the JSON for strings: an explicit Deny wins, then an Allow,
otherwise the request is implicitly denied. Supported: Effect, Principal/NotPrincipal,
Action/NotAction, Resource/NotResource (with ``*`` and ``?`` wildcards), and Condition blocks
with the string, numeric, date, Bool, Null, IP and ARN operators, the ``...IfExists`` suffix and
the ``ForAnyValue:``/``ForAllValues:`` set qualifiers. Policy variables are compared literally.

Documents may be given as dicts, JSON text, or URL-encoded JSON text (how IAM's raw API and AWS
Config configuration items return role trust and policy documents).
"""

from __future__ import annotations

import ipaddress
import json
import re
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import Enum
from functools import lru_cache
from typing import Any, Iterable, Mapping

ContextValue = str | list[str]


class Decision(Enum):
    ALLOW = "Allow"
    DENY = "Deny"  # explicit deny
    IMPLICIT_DENY = "ImplicitDeny"  # no statement applies


@dataclass(frozen=True)
class Request:
    """One API request as IAM sees it. ``principal`` is an ARN, an account id, a service
    principal (``transcribe.amazonaws.com``) or ``*`` for an anonymous caller."""

    action: str
    resource: str = "*"
    principal: str = "*"
    context: Mapping[str, ContextValue] = field(default_factory=dict)


class PolicyError(ValueError):
    """The document is not a policy AWS would accept."""


def parse_policy(document: str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(document, Mapping):
        return dict(document)
    if isinstance(document, str) and document.lstrip()[:3].upper() == "%7B":
        document = urllib.parse.unquote(document)
    try:
        parsed = json.loads(document)
    except (TypeError, json.JSONDecodeError) as error:
        raise PolicyError(f"policy is not valid JSON: {error}") from None
    if not isinstance(parsed, dict):
        raise PolicyError("policy must be a JSON object")
    return parsed


def statements(document: str | Mapping[str, Any]) -> list[dict[str, Any]]:
    policy = parse_policy(document)
    raw = policy.get("Statement", [])
    found = [raw] if isinstance(raw, dict) else raw
    if not isinstance(found, list) or not all(isinstance(s, dict) for s in found):
        raise PolicyError("Statement must be an object or a list of objects")
    return found


def evaluate(document: str | Mapping[str, Any], request: Request) -> Decision:
    """The decision of one policy document for ``request``."""
    allowed = False
    for statement in statements(document):
        if not statement_applies(statement, request):
            continue
        if statement.get("Effect") == "Deny":
            return Decision.DENY
        if statement.get("Effect") == "Allow":
            allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


def statement_applies(statement: Mapping[str, Any], request: Request) -> bool:
    return (
        _action_matches(statement, request.action)
        and _resource_matches(statement, request.resource)
        and _principal_matches(statement, request.principal)
        and conditions_match(statement.get("Condition"), request.context)
    )


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@lru_cache(maxsize=4096)
def _wildcard_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def wildcard_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return bool(_wildcard_regex(pattern, ignore_case).match(value))


def _action_matches(statement: Mapping[str, Any], action: str) -> bool:
    if "NotAction" in statement:
        return not any(wildcard_match(p, action, True) for p in _as_list(statement["NotAction"]))
    return any(wildcard_match(p, action, True) for p in _as_list(statement.get("Action")))


@lru_cache(maxsize=4096)
def _resource_regex(pattern: str) -> re.Pattern[str]:
    """IAM's Resource matching: in an ARN, ``*`` and ``?`` stay inside their colon-separated
    segment, except that a ``*`` ending a segment may run on past the colon ("arn:aws:s3:::*")."""
    if not pattern.startswith("arn:"):
        return _wildcard_regex(pattern, False)
    body = []
    for index, char in enumerate(pattern):
        if char == "*":
            ends_segment = index + 1 == len(pattern) or pattern[index + 1] == ":"
            body.append(".*" if ends_segment else "[^:]*")
        elif char == "?":
            body.append("[^:]")
        else:
            body.append(re.escape(char))
    return re.compile(f"^{''.join(body)}$", re.DOTALL)


def resource_match(pattern: str, resource: str) -> bool:
    return bool(_resource_regex(pattern).match(resource))


def _resource_matches(statement: Mapping[str, Any], resource: str) -> bool:
    if "NotResource" in statement:
        return not any(resource_match(p, resource) for p in _as_list(statement["NotResource"]))
    if "Resource" not in statement:
        return True  # trust policies and key policies name no resource beyond themselves
    return any(resource_match(p, resource) for p in _as_list(statement["Resource"]))


def _principal_values(principal_block: Any) -> list[str]:
    if principal_block == "*":
        return ["*"]
    if isinstance(principal_block, Mapping):
        values: list[str] = []
        for v in principal_block.values():
            values.extend(str(x) for x in _as_list(v))
        return values
    return [str(x) for x in _as_list(principal_block)]


def principal_covers(pattern: str, principal: str) -> bool:
    """Whether a policy's principal entry names ``principal``. ``*`` covers everyone; an account
    id or ``arn:...:root`` covers every principal of that account."""
    if pattern == "*":
        return True
    if pattern == principal:
        return True
    session_of = _role_of_session(principal)
    if session_of and _role_name_and_account(pattern) == session_of:
        return True  # a role ARN names every session of the role
    account = _account_of(pattern)
    if account and (pattern.isdigit() or pattern.endswith(":root")):
        return _account_of(principal) == account
    return False


def _role_of_session(principal: str) -> tuple[str, str] | None:
    """(account, role name) of an assumed-role session ARN (arn:aws:sts::1:assumed-role/R/s)."""
    match = re.fullmatch(r"arn:[^:]+:sts::(\d{12}):assumed-role/([^/]+)/[^/]+", principal)
    return (match.group(1), match.group(2)) if match else None


def _role_name_and_account(pattern: str) -> tuple[str, str] | None:
    match = re.fullmatch(r"arn:[^:]+:iam::(\d{12}):role/(?:.*/)?([^/]+)", pattern)
    return (match.group(1), match.group(2)) if match else None


def _account_of(value: str) -> str | None:
    if re.fullmatch(r"\d{12}", value):
        return value
    parts = value.split(":")
    if len(parts) >= 5 and parts[0] == "arn" and re.fullmatch(r"\d{12}", parts[4]):
        return parts[4]
    return None


def _principal_matches(statement: Mapping[str, Any], principal: str) -> bool:
    if "NotPrincipal" in statement:
        return not any(principal_covers(p, principal) for p in _principal_values(statement["NotPrincipal"]))
    if "Principal" not in statement:
        return True  # identity policies apply to the identity they are attached to
    return any(principal_covers(p, principal) for p in _principal_values(statement["Principal"]))


# --- conditions -----------------------------------------------------------------------------

def _str_eq(expected: str, actual: str) -> bool:
    return expected == actual


def _str_eq_ic(expected: str, actual: str) -> bool:
    return expected.lower() == actual.lower()


def _str_like(expected: str, actual: str) -> bool:
    return wildcard_match(expected, actual)


def _number(value: str) -> float:
    return float(value)


def _date(value: str) -> datetime:
    """A naive UTC datetime from epoch seconds or ISO 8601 (an offset is converted, not dropped)."""
    if re.fullmatch(r"\d+", value):
        return datetime.fromtimestamp(int(value), tz=timezone.utc).replace(tzinfo=None)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc)
    return parsed.replace(tzinfo=None)


def _bool(expected: str, actual: str) -> bool:
    return str(expected).lower() == str(actual).lower()


def _ip(expected: str, actual: str) -> bool:
    try:
        return ipaddress.ip_address(actual) in ipaddress.ip_network(expected, strict=False)
    except ValueError:  # not an address or network: no match, as for other malformed values
        return False


def _arn_like(expected: str, actual: str) -> bool:
    expected_parts, actual_parts = expected.split(":", 5), actual.split(":", 5)
    if len(expected_parts) != 6 or len(actual_parts) != 6:
        return False
    return all(wildcard_match(e, a) for e, a in zip(expected_parts, actual_parts))


def _compare(convert: Any, op: Any) -> Any:
    def check(expected: str, actual: str) -> bool:
        try:
            return bool(op(convert(actual), convert(expected)))
        except (ValueError, TypeError):
            return False
    return check


# name -> (matcher, negated). A negated operator is true when no value matches.
_OPERATORS: dict[str, tuple[Any, bool]] = {
    "StringEquals": (_str_eq, False),
    "StringNotEquals": (_str_eq, True),
    "StringEqualsIgnoreCase": (_str_eq_ic, False),
    "StringNotEqualsIgnoreCase": (_str_eq_ic, True),
    "StringLike": (_str_like, False),
    "StringNotLike": (_str_like, True),
    "NumericEquals": (_compare(_number, lambda a, e: a == e), False),
    "NumericNotEquals": (_compare(_number, lambda a, e: a == e), True),
    "NumericLessThan": (_compare(_number, lambda a, e: a < e), False),
    "NumericLessThanEquals": (_compare(_number, lambda a, e: a <= e), False),
    "NumericGreaterThan": (_compare(_number, lambda a, e: a > e), False),
    "NumericGreaterThanEquals": (_compare(_number, lambda a, e: a >= e), False),
    "DateEquals": (_compare(_date, lambda a, e: a == e), False),
    "DateNotEquals": (_compare(_date, lambda a, e: a == e), True),
    "DateLessThan": (_compare(_date, lambda a, e: a < e), False),
    "DateLessThanEquals": (_compare(_date, lambda a, e: a <= e), False),
    "DateGreaterThan": (_compare(_date, lambda a, e: a > e), False),
    "DateGreaterThanEquals": (_compare(_date, lambda a, e: a >= e), False),
    "Bool": (_bool, False),
    "BinaryEquals": (_str_eq, False),
    "IpAddress": (_ip, False),
    "NotIpAddress": (_ip, True),
    "ArnEquals": (_arn_like, False),
    "ArnLike": (_arn_like, False),
    "ArnNotEquals": (_arn_like, True),
    "ArnNotLike": (_arn_like, True),
}


def known_operator(operator: str) -> bool:
    base = operator.split(":", 1)[-1]
    base = base[: -len("IfExists")] if base.endswith("IfExists") else base
    return base == "Null" or base in _OPERATORS


def _lookup(context: Mapping[str, ContextValue], key: str) -> list[str] | None:
    lowered = key.lower()
    for name, value in context.items():
        if name.lower() == lowered:
            return [_text(v) for v in _as_list(value)]
    return None


def _text(value: Any) -> str:
    """A policy or context value as IAM compares it: JSON true/false are "true"/"false"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def conditions_match(condition_block: Any, context: Mapping[str, ContextValue]) -> bool:
    """All operators and all keys of a Condition block must hold (AND); the values listed for
    one key are alternatives (OR)."""
    if not condition_block:
        return True
    if not isinstance(condition_block, Mapping):
        raise PolicyError("Condition must be an object")
    for operator, keys in condition_block.items():
        if not isinstance(keys, Mapping):
            raise PolicyError(f"Condition operator {operator} must map keys to values")
        for key, expected in keys.items():
            if not _condition_holds(operator, key, [_text(e) for e in _as_list(expected)], context):
                return False
    return True


def _condition_holds(operator: str, key: str, expected: list[str], context: Mapping[str, ContextValue]) -> bool:
    qualifier, _, base = operator.rpartition(":")
    actual = _lookup(context, key)
    if base == "Null":
        is_missing = actual is None or actual == []
        return any(_bool(e, "true" if is_missing else "false") for e in expected)
    if_exists = base.endswith("IfExists")
    if if_exists:
        base = base[: -len("IfExists")]
    if base not in _OPERATORS:
        raise PolicyError(f"unknown condition operator {operator}")
    matcher, negated = _OPERATORS[base]
    if actual is None:
        if if_exists or qualifier == "ForAllValues":
            return True
        # A missing key matches nothing: positive operators fail, negated ones hold.
        return negated and qualifier != "ForAnyValue"

    def one_matches(value: str) -> bool:
        return any(matcher(e, value) for e in expected)

    if qualifier == "ForAllValues":
        return all((not one_matches(v)) if negated else one_matches(v) for v in actual)
    if qualifier == "ForAnyValue":
        return any((not one_matches(v)) if negated else one_matches(v) for v in actual)
    if negated:
        return not any(one_matches(v) for v in actual)
    return any(one_matches(v) for v in actual)


def condition_keys(condition_block: Any) -> Iterable[str]:
    """Every condition key a Condition block mentions, as written."""
    if isinstance(condition_block, Mapping):
        for keys in condition_block.values():
            if isinstance(keys, Mapping):
                yield from keys.keys()


# --- probing --------------------------------------------------------------------------------

_NEGATED = {name for name, (_, negated) in _OPERATORS.items() if negated}


def satisfying_context(statement: Mapping[str, Any]) -> dict[str, ContextValue]:
    """A request context under which the statement's Condition block holds, as far as one can be
    built: each key gets a value its positive operators accept (wildcards filled in, ``<`` and ``>``
    bounds stepped past); keys under negated, ``ForAllValues:`` or ``Null: true`` conditions are
    left out, since a missing key satisfies those. Conflicting conditions on one key (``>`` 5 and
    ``<`` 3) have no such context; the result then fails the statement, as the policy would.

    Used to ask "who could do this if they met the statement's conditions?": a condition on an
    arbitrary key must not hide a grant from a probe that simply did not send that key."""
    context: dict[str, ContextValue] = {}
    block = statement.get("Condition")
    if not isinstance(block, Mapping):
        return context
    present: list[str] = []
    for operator, keys in block.items():
        if not isinstance(keys, Mapping):
            continue
        qualifier, _, base = str(operator).rpartition(":")
        base = base[: -len("IfExists")] if base.endswith("IfExists") else base
        for key, expected in keys.items():
            values = [_text(e) for e in _as_list(expected)]
            if base == "Null":
                if values and values[0].lower() == "false":
                    present.append(key)
                continue
            if base in _NEGATED or base not in _OPERATORS or qualifier == "ForAllValues" or not values:
                continue
            value = _satisfying_value(base, values[0])
            context[key] = [value] if qualifier == "ForAnyValue" else value
    for key in present:
        if _lookup(context, key) is None:
            context[key] = "x"
    return context


def _satisfying_value(operator: str, expected: str) -> str:
    if operator in ("StringLike", "ArnLike", "ArnEquals"):
        return expected.replace("*", "x").replace("?", "x")
    if operator.startswith("Numeric"):
        try:
            number = float(expected)
        except ValueError:
            return expected
        step = 1 if operator.endswith("GreaterThan") else -1 if operator.endswith("LessThan") else 0
        result = number + step
        return str(int(result)) if result == int(result) else str(result)
    if operator.startswith("Date") and operator.endswith(("LessThan", "GreaterThan")):
        try:
            moment = _date(expected)
        except ValueError:
            return expected
        moment += timedelta(seconds=1 if operator.endswith("GreaterThan") else -1)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if operator == "IpAddress":
        try:
            return str(ipaddress.ip_network(expected, strict=False).network_address)
        except ValueError:
            return expected
    return expected
