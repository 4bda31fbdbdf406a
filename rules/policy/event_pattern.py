"""A small Amazon EventBridge event-pattern matcher: does a rule's pattern match an event?

Rules use it to judge EventBridge rules by the events they would deliver, matching sample
Transcribe events against each rule's pattern, instead of reading the pattern's text.

Semantics follow the EventBridge User Guide, "Creating event patterns" and "Comparison operators
for use in event patterns" (docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html,
eb-create-pattern-operators.html):

- A pattern is a JSON object. Every key must match (AND); ``$or`` holds a list of sub-patterns of
  which one must match. An object value descends into the event's object of that name.
- A leaf is an array: the field matches when ANY element matches (OR). When the event's field is
  an array, it matches when any of its elements does.
- Elements are exact values (strings case-sensitive; numbers compared as numbers; true, false,
  null) or one-key operator objects: ``prefix``, ``suffix`` (each also with
  ``{"equals-ignore-case": ...}``), ``equals-ignore-case``, ``wildcard`` (``*`` matches any run of
  characters), ``anything-but`` (a value, a list of values, or ``prefix``/``suffix``/
  ``equals-ignore-case``/``wildcard``), ``exists`` and ``numeric``.
- Only ``exists: false`` matches a field the event does not have.

Anything this matcher does not understand (``cidr``, malformed patterns) does not match: a rule
is never credited with events we cannot show it receives. moto's own matcher is not used: it
would make moto a dependency of the Lambda package, and it flattens nested keys (a pattern key
"a.b" would match the nested field a -> b).
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

_MISSING = object()


def parse(text: str | None) -> dict[str, Any] | None:
    """The pattern as a dict, or None when it is absent or not a JSON object."""
    if not text:
        return None
    try:
        pattern = json.loads(text)
    except ValueError:
        return None
    return pattern if isinstance(pattern, dict) and pattern else None


def matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """True when ``event`` matches ``pattern``."""
    return _match_object(pattern, event)


def _match_object(pattern: Mapping[str, Any], event: Any) -> bool:
    if not isinstance(event, Mapping):
        event = {}
    for key, expected in pattern.items():
        if key == "$or":
            if not isinstance(expected, list) or not any(
                    isinstance(alternative, Mapping) and _match_object(alternative, event) for alternative in expected):
                return False
        elif isinstance(expected, Mapping):
            if not _match_object(expected, event.get(key, {})):
                return False
        elif isinstance(expected, list):
            if not _match_leaf(expected, event.get(key, _MISSING)):
                return False
        else:  # EventBridge rejects scalars outside arrays; we do not credit them
            return False
    return True


def _match_leaf(elements: list[Any], value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    for element in elements:
        if isinstance(element, Mapping):
            if _match_operator(element, value, values):
                return True
        elif any(v is not _MISSING and _equal(element, v) for v in values):
            return True
    return False


def _equal(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return float(expected) == float(actual)
    return type(expected) is type(actual) and expected == actual


def _match_operator(element: Mapping[str, Any], value: Any, values: list[Any]) -> bool:
    if len(element) != 1:
        return False
    (name, argument), = element.items()
    if name == "exists":
        present = value is not _MISSING and not (isinstance(value, list) and not value)
        return argument is True and present or argument is False and not present
    present_values = [v for v in values if v is not _MISSING]
    if not present_values:
        return False
    if name == "anything-but":
        return any(not _excluded(argument, v) for v in present_values)
    return any(_string_test(name, argument, v) or (name == "numeric" and _numeric(argument, v))
               for v in present_values)


def _string_test(name: str, argument: Any, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if isinstance(argument, Mapping):  # prefix/suffix with equals-ignore-case
        if set(argument) != {"equals-ignore-case"} or not isinstance(argument["equals-ignore-case"], str):
            return False
        argument, value = argument["equals-ignore-case"].lower(), value.lower()
    if not isinstance(argument, str):
        return False
    if name == "prefix":
        return bool(value.startswith(argument))
    if name == "suffix":
        return bool(value.endswith(argument))
    if name == "equals-ignore-case":
        return bool(value.lower() == argument.lower())
    if name == "wildcard":
        return re.fullmatch(".*".join(re.escape(part) for part in argument.split("*")), value, re.DOTALL) is not None
    return False


def _excluded(argument: Any, value: Any) -> bool:
    """anything-but: is ``value`` one of the excluded values?"""
    if isinstance(argument, list):
        return any(_excluded(item, value) for item in argument)
    if isinstance(argument, Mapping):
        if len(argument) != 1:
            return True  # not understood: treat as excluding, so nothing is credited
        (name, inner), = argument.items()
        inner_values = inner if isinstance(inner, list) else [inner]
        return any(_string_test(name, item, value) for item in inner_values)
    return _equal(argument, value)


def _numeric(argument: Any, value: Any) -> bool:
    if not isinstance(argument, list) or not argument or len(argument) % 2:
        return False
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    tests = {"<": float.__lt__, "<=": float.__le__, "=": float.__eq__, ">=": float.__ge__, ">": float.__gt__}
    for operator, bound in zip(argument[::2], argument[1::2]):
        if operator not in tests or isinstance(bound, bool) or not isinstance(bound, (int, float)):
            return False
        if not tests[operator](float(value), float(bound)):
            return False
    return True
