"""Parse a rule's InputParameters (Config passes every value as a string) against the rule's
declared parameter schema.

The registry's meta-schema limits parameter schemas to the keywords handled here (string type,
enum, pattern, minLength, maxLength, default, description and our ``x-type``), so this small
validator is complete for every schema the registry accepts; the Lambda package then needs no
compiled JSON Schema dependency. ``x-type`` says how the string becomes a value:
``string`` (as is), ``list`` (comma-separated, blanks dropped) or ``boolean`` (true/false).
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from rdklib import InvalidParametersError

# Parameters rdklib itself reads from InputParameters; every rule accepts them.
RDKLIB_RESERVED = ("ExecutionRoleName", "ExecutionRoleRegion", "AssumeRoleMode")

# AWS Config limits a rule's whole InputParameters JSON to 1,024 characters.
CONFIG_PARAMETER_LIMIT = 1024


def parse_parameters(schema: Mapping[str, Any], raw: Any) -> dict[str, Any]:
    """Validate ``raw`` against ``schema`` and return typed values, defaults filled in.

    Raises InvalidParametersError naming the offending parameter; rdklib turns it into
    InvalidParameterValueException for Config.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise InvalidParametersError("Rule parameters must be a JSON object of names to string values.")
    properties: Mapping[str, Any] = schema.get("properties", {})
    unknown = sorted(set(raw) - set(properties) - set(RDKLIB_RESERVED))
    if unknown:
        allowed = ", ".join(sorted(properties)) or "none"
        raise InvalidParametersError(f"Unknown parameter {unknown[0]}; this rule accepts: {allowed}.")
    for name in RDKLIB_RESERVED:
        if name in raw and not isinstance(raw[name], str):
            raise InvalidParametersError(f"Parameter {name} must be a string.")
    # Exactly as rdklib reads it: it compares the lower-cased value with "false" without trimming,
    # so " false " would silently mean true there.
    if "AssumeRoleMode" in raw and raw["AssumeRoleMode"].lower() not in ("true", "false"):
        raise InvalidParametersError("Parameter AssumeRoleMode must be true or false.")

    parsed: dict[str, Any] = {}
    for name, spec in properties.items():
        value = raw.get(name)
        if value is not None and not isinstance(value, str):
            raise InvalidParametersError(f"Parameter {name} must be a string, not {type(value).__name__}.")
        if value is None or value.strip() == "":
            if name in schema.get("required", []):
                raise InvalidParametersError(f"Parameter {name} is required.")
            value = spec.get("default")
            if value is None:
                parsed[name] = [] if spec.get("x-type") == "list" else None
                continue
        parsed[name] = _parse_value(name, spec, value.strip())
        if parsed[name] == [] and name in schema.get("required", []):
            raise InvalidParametersError(f"Parameter {name} is required.")  # e.g. " , ": no entries
    return parsed


def _parse_value(name: str, spec: Mapping[str, Any], value: str) -> Any:
    if len(value) > spec.get("maxLength", CONFIG_PARAMETER_LIMIT):
        raise InvalidParametersError(
            f"Parameter {name} is {len(value)} characters long; the limit is {spec.get('maxLength', CONFIG_PARAMETER_LIMIT)}."
        )
    kind = spec.get("x-type", "string")
    if kind == "boolean":
        if value.lower() not in ("true", "false"):
            raise InvalidParametersError(f"Parameter {name} must be true or false.")
        return value.lower() == "true"
    items = [item.strip() for item in value.split(",") if item.strip()] if kind == "list" else [value]
    for item in items:
        _check_item(name, spec, item)
    if kind == "list":
        return list(dict.fromkeys(items))  # keep order, drop repeats
    return value


def _check_item(name: str, spec: Mapping[str, Any], item: str) -> None:
    if "enum" in spec and item not in spec["enum"]:
        raise InvalidParametersError(f"Parameter {name} has an unsupported value; allowed: {', '.join(spec['enum'])}.")
    if len(item) < spec.get("minLength", 0):
        raise InvalidParametersError(f"Parameter {name} has a value shorter than {spec['minLength']} characters.")
    pattern = spec.get("pattern")
    if pattern and not re.fullmatch(pattern, item):
        hint = spec.get("x-pattern-hint", f"it must match {pattern}")
        raise InvalidParametersError(f"Parameter {name} has an invalid value: {hint}.")
