"""Evaluate IAM-style policy documents the way AWS does, for one request at a time.

Rules judge bucket, key and identity policies by asking "what would AWS decide for this
request?" instead of searching the JSON for strings: an explicit Deny wins, then an Allow,
otherwise the request is implicitly denied. Supported: Effect, Principal/NotPrincipal,
Action/NotAction, Resource/NotResource (with ``*`` and ``?`` wildcards), and Condition blocks
with the string, numeric, date, Bool, Null, IP and ARN operators, the ``...IfExists`` suffix and
the ``ForAnyValue:``/``ForAllValues:`` set qualifiers, and policy variables (``${aws:username}``,
``${aws:PrincipalTag/team, 'default'}``, ``${*}``) in Resource/NotResource and in the values of string,
ARN and Bool conditions, substituted from the request context as IAM does for policies of language
version 2012-10-17 (IAM User Guide, "IAM policy elements: Variables and tags",
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html). A variable whose
key the request lacks (and that has no default) cannot be resolved, and the statement then does not
apply, as AWS documents ("any attempt to match it fails and causes the statement to be invalid").

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


VARIABLES_VERSION = "2012-10-17"  # policy variables exist in this language version only


class PolicyStatement(dict):  # type: ignore[type-arg]
    """A statement as read from its document, remembering whether the document's language version
    substitutes policy variables (2012-10-17) or, like 2008-10-17 and a missing Version, compares
    ``${...}`` literally (IAM User Guide, "Variables and tags": "If you don't include the Version
    element ... variables like ${aws:username} are treated as literal strings")."""

    variables: bool = True


def statements(document: str | Mapping[str, Any]) -> list[dict[str, Any]]:
    policy = parse_policy(document)
    raw = policy.get("Statement", [])
    found = [raw] if isinstance(raw, dict) else raw
    if not isinstance(found, list) or not all(isinstance(s, dict) for s in found):
        raise PolicyError("Statement must be an object or a list of objects")
    substitutes = policy.get("Version") == VARIABLES_VERSION
    marked: list[dict[str, Any]] = []
    for statement in found:
        if isinstance(statement, PolicyStatement):  # already read from its own document
            marked.append(statement)
            continue
        copy = PolicyStatement(statement)
        copy.variables = substitutes
        marked.append(copy)
    return marked


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
    variables = getattr(statement, "variables", True)
    return (
        _action_matches(statement, request.action)
        and _resource_matches(statement, request.resource, request.context, variables)
        and _principal_matches(statement, request.principal)
        and conditions_match(statement.get("Condition"), request.context, variables)
    )


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# --- policy variables ------------------------------------------------------------------------
# A pattern after substitution is a tuple of pieces (text, literal): text written in the policy
# keeps its wildcards; text a variable put there (a context value, ${*}, ${?}, ${$}) is literal.
Pieces = tuple[tuple[str, bool], ...]
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_DEFAULT = re.compile(r"\s*([^,]+?)\s*,\s*'([^']*)'\s*")
_SPECIAL = {"*", "?", "$"}  # ${*}, ${?} and ${$} stand for the character itself


def _resolve(inner: str, context: Mapping[str, ContextValue]) -> str | None:
    """The value of one ``${...}``: a special character, the context key's value, else its default.
    A multivalued key cannot be a variable (IAM User Guide, "Single-valued vs. multivalued
    context keys"), so a list resolves like a missing key."""
    if inner in _SPECIAL:
        return inner
    key: str = inner.strip()
    default: str | None = None
    with_default = _DEFAULT.fullmatch(inner)
    if with_default:
        key, default = with_default.group(1), with_default.group(2)
    lowered = key.lower()
    for name, value in context.items():
        if name.lower() == lowered and not isinstance(value, list):
            return _text(value)
    return default


def substitute(pattern: str, context: Mapping[str, ContextValue], variables: bool = True) -> Pieces | None:
    """``pattern`` with its policy variables resolved from ``context``; None when one cannot be."""
    if not variables or "${" not in pattern:
        return ((pattern, False),)
    pieces: list[tuple[str, bool]] = []
    position = 0
    for found in _VARIABLE.finditer(pattern):
        value = _resolve(found.group(1), context)
        if value is None:
            return None
        pieces += [(pattern[position:found.start()], False), (value, True)]
        position = found.end()
    pieces.append((pattern[position:], False))
    return tuple(piece for piece in pieces if piece[0])


def witness(pattern: str, context: Mapping[str, ContextValue], variables: bool = True) -> str | None:
    """One value the pattern matches under ``context``: wildcards filled with ``x``, variables
    resolved (literal characters kept); None when a variable cannot be resolved."""
    pieces = substitute(pattern, context, variables)
    if pieces is None:
        return None
    return "".join(text if literal else text.replace("*", "x").replace("?", "x") for text, literal in pieces)


def variable_keys(statement: Mapping[str, Any]) -> list[str]:
    """The context keys the statement's policy variables name (special characters aside)."""
    texts = [str(p) for key in ("Resource", "NotResource") for p in _as_list(statement.get(key))]
    block = statement.get("Condition")
    if isinstance(block, Mapping):
        for keys in block.values():
            if isinstance(keys, Mapping):
                texts += [_text(v) for values in keys.values() for v in _as_list(values)]
    found: list[str] = []
    for text in texts:
        for match in _VARIABLE.finditer(text):
            inner = match.group(1)
            if inner in _SPECIAL:
                continue
            with_default = _DEFAULT.fullmatch(inner)
            found.append(with_default.group(1) if with_default else inner.strip())
    return list(dict.fromkeys(found))


@lru_cache(maxsize=4096)
def _wildcard_regex(pieces: Pieces, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(re.escape(text) if literal else
                   "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
                   for text, literal in pieces)
    return re.compile(f"^{body}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def wildcard_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return bool(_wildcard_regex(((pattern, False),), ignore_case).match(value))


def _pieces_match(pieces: Pieces, value: str, ignore_case: bool = False) -> bool:
    return bool(_wildcard_regex(pieces, ignore_case).match(value))


def _action_matches(statement: Mapping[str, Any], action: str) -> bool:
    if "NotAction" in statement:
        return not any(wildcard_match(p, action, True) for p in _as_list(statement["NotAction"]))
    return any(wildcard_match(p, action, True) for p in _as_list(statement.get("Action")))


@lru_cache(maxsize=4096)
def _resource_regex(pieces: Pieces) -> re.Pattern[str]:
    """IAM's Resource matching: in an ARN, ``*`` and ``?`` stay inside their colon-separated
    segment, except that a ``*`` ending a segment may run on past the colon ("arn:aws:s3:::*")."""
    if not pieces or not pieces[0][0].startswith("arn:"):
        return _wildcard_regex(pieces, False)
    chars = [(char, literal) for text, literal in pieces for char in text]
    body = []
    for index, (char, literal) in enumerate(chars):
        if literal:
            body.append(re.escape(char))
        elif char == "*":
            ends_segment = index + 1 == len(chars) or chars[index + 1][0] == ":"
            body.append(".*" if ends_segment else "[^:]*")
        elif char == "?":
            body.append("[^:]")
        else:
            body.append(re.escape(char))
    return re.compile(f"^{''.join(body)}$", re.DOTALL)


def resource_match(pattern: str, resource: str, context: Mapping[str, ContextValue] | None = None,
                   variables: bool = True) -> bool:
    """Whether a Resource pattern names ``resource``; a variable ``context`` cannot resolve
    matches nothing."""
    pieces = substitute(pattern, context or {}, variables)
    return pieces is not None and bool(_resource_regex(pieces).match(resource))


def _resource_matches(statement: Mapping[str, Any], resource: str, context: Mapping[str, ContextValue],
                      variables: bool) -> bool:
    element = "NotResource" if "NotResource" in statement else "Resource"
    if element not in statement:
        return True  # trust policies and key policies name no resource beyond themselves
    resolved = [substitute(str(p), context, variables) for p in _as_list(statement[element])]
    if any(pieces is None for pieces in resolved):
        return False  # an unresolvable variable makes the whole statement not apply
    named = any(_resource_regex(pieces).match(resource) for pieces in resolved if pieces is not None)
    return not named if element == "NotResource" else named


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
        return not not_principal_exempts(_principal_values(statement["NotPrincipal"]), principal)
    if "Principal" not in statement:
        return True  # identity policies apply to the identity they are attached to
    return any(principal_covers(p, principal) for p in _principal_values(statement["Principal"]))


def not_principal_exempts(listed: Iterable[str], principal: str) -> bool:
    """Whether a NotPrincipal list exempts ``principal``. Unlike Principal, NotPrincipal names no
    one implicitly: an account does not exempt its users and roles, nor a role its sessions. AWS
    checks the account, then the role, then the session, so a session is exempt only when its
    session ARN, its role's ARN and its account are all listed (IAM User Guide, "AWS JSON policy
    elements: NotPrincipal", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html)."""
    names = set(listed)
    if "*" in names or principal in names:
        session_of = _role_of_session(principal)
        if session_of is None or "*" in names:
            return True
        session_account = session_of[0]
        role_listed = any(_role_name_and_account(name) == session_of for name in names)
        account_listed = any(name == session_account or (name.endswith(":root") and _account_of(name) == session_account)
                             for name in names)
        return role_listed and account_listed
    account = _account_of(principal)
    if principal.endswith(":root") and account:
        return account in names  # the account's root, named by its id
    if re.fullmatch(r"\d{12}", principal):
        return any(name.endswith(":root") and _account_of(name) == principal for name in names)
    return False


# --- conditions -----------------------------------------------------------------------------

# Matchers take the policy value as Pieces (see substitute): only string, ARN and Bool operators
# take policy variables ("Condition operators" page, per operator), the others get one piece.
_VARIABLE_OPERATORS = ("String", "Arn", "Bool")


def _plain(pieces: Pieces) -> str:
    return "".join(text for text, _ in pieces)


def _str_eq(expected: Pieces, actual: str) -> bool:
    return _plain(expected) == actual


def _str_eq_ic(expected: Pieces, actual: str) -> bool:
    return _plain(expected).lower() == actual.lower()


def _str_like(expected: Pieces, actual: str) -> bool:
    return _pieces_match(expected, actual)


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


def _bool_matcher(expected: Pieces, actual: str) -> bool:
    return _bool(_plain(expected), actual)


def _ip(expected: Pieces, actual: str) -> bool:
    try:
        return ipaddress.ip_address(actual) in ipaddress.ip_network(_plain(expected), strict=False)
    except ValueError:  # not an address or network: no match, as for other malformed values
        return False


def _split_pieces(pieces: Pieces, separator: str, parts: int) -> list[Pieces]:
    """Pieces split at ``separator`` into at most ``parts`` parts, as str.split(sep, parts - 1)."""
    found: list[list[tuple[str, bool]]] = [[]]
    for text, literal in pieces:
        for index, chunk in enumerate(text.split(separator)):
            if index and len(found) < parts:
                found.append([])
            elif index:
                found[-1].append((separator, literal))
            if chunk:
                found[-1].append((chunk, literal))
    return [tuple(part) for part in found]


def _arn_like(expected: Pieces, actual: str) -> bool:
    expected_parts, actual_parts = _split_pieces(expected, ":", 6), actual.split(":", 5)
    if len(expected_parts) != 6 or len(actual_parts) != 6:
        return False
    return all(_pieces_match(e, a) for e, a in zip(expected_parts, actual_parts))


def _compare(convert: Any, op: Any) -> Any:
    def check(expected: Pieces, actual: str) -> bool:
        try:
            return bool(op(convert(actual), convert(_plain(expected))))
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
    "Bool": (_bool_matcher, False),
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


def conditions_match(condition_block: Any, context: Mapping[str, ContextValue], variables: bool = True) -> bool:
    """All operators and all keys of a Condition block must hold (AND); the values listed for
    one key are alternatives (OR). ``variables``: substitute policy variables in the values."""
    if not condition_block:
        return True
    if not isinstance(condition_block, Mapping):
        raise PolicyError("Condition must be an object")
    for operator, keys in condition_block.items():
        if not isinstance(keys, Mapping):
            raise PolicyError(f"Condition operator {operator} must map keys to values")
        for key, expected in keys.items():
            if not _condition_holds(operator, key, [_text(e) for e in _as_list(expected)], context, variables):
                return False
    return True


def _condition_holds(operator: str, key: str, expected_text: list[str], context: Mapping[str, ContextValue],
                     variables: bool) -> bool:
    qualifier, _, base = operator.rpartition(":")
    actual = _lookup(context, key)
    if base == "Null":
        is_missing = actual is None or actual == []
        return any(_bool(e, "true" if is_missing else "false") for e in expected_text)
    if_exists = base.endswith("IfExists")
    if if_exists:
        base = base[: -len("IfExists")]
    if base not in _OPERATORS:
        raise PolicyError(f"unknown condition operator {operator}")
    matcher, negated = _OPERATORS[base]
    resolved = [substitute(e, context, variables and base.startswith(_VARIABLE_OPERATORS)) for e in expected_text]
    if any(pieces is None for pieces in resolved):
        return False  # an unresolvable variable makes the whole statement not apply
    expected = [pieces for pieces in resolved if pieces is not None]
    if actual is None:
        # ForAnyValue is false for a missing key, IfExists or not ("Set operators for multivalued
        # context keys"); ForAllValues and IfExists hold; otherwise a missing key matches nothing,
        # so positive operators fail and negated ones hold ("Condition operators").
        if qualifier == "ForAnyValue":
            return False
        if if_exists or qualifier == "ForAllValues":
            return True
        return negated

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


VARIABLE_PLACEHOLDER = "transcribe-guard-probe"  # the value a probe gives a policy variable's key


def satisfying_context(statement: Mapping[str, Any]) -> dict[str, ContextValue]:
    """A request context under which the statement's Condition block holds, as far as one can be
    built: each key gets a value its positive operators accept (wildcards filled in, ``<`` and ``>``
    bounds stepped past); keys under negated, ``ForAllValues:`` or ``Null: true`` conditions are
    left out, since a missing key satisfies those. Conflicting conditions on one key (``>`` 5 and
    ``<`` 3) have no such context; the result then fails the statement, as the policy would.
    A key a policy variable names gets VARIABLE_PLACEHOLDER unless a condition sets it, and values
    written with variables are resolved from the context so built.

    Used to ask "who could do this if they met the statement's conditions?": a condition on an
    arbitrary key must not hide a grant from a probe that simply did not send that key."""
    context: dict[str, ContextValue] = {}
    block = statement.get("Condition")
    variables = getattr(statement, "variables", True)
    wanted = variable_keys(statement) if variables else []
    present: list[str] = []
    deferred: list[tuple[str, str, str, str]] = []
    for operator, keys in block.items() if isinstance(block, Mapping) else ():
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
            if variables and "${" in values[0] and base.startswith(_VARIABLE_OPERATORS):
                deferred.append((qualifier, base, key, values[0]))  # resolved once the variables have values
                continue
            value = _satisfying_value(base, values[0])
            context[key] = [value] if qualifier == "ForAnyValue" else value
    for key in wanted:
        if _lookup(context, key) is None:
            context[key] = VARIABLE_PLACEHOLDER
    for qualifier, base, key, text in deferred:
        resolved: str | None
        if base in ("StringLike", "ArnLike", "ArnEquals"):
            resolved = witness(text, context)
        else:
            pieces = substitute(text, context)
            resolved = None if pieces is None else _satisfying_value(base, _plain(pieces))
        if resolved is not None:
            context[key] = [resolved] if qualifier == "ForAnyValue" else resolved
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
