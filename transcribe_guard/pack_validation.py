"""Validate a conformance pack template beyond what cfn-lint checks.

cfn-lint checks CloudFormation structure but not Config's values (``Daily`` as a frequency,
``AWSS`` as an owner and a misspelt MessageType all pass it). Here: our JSON Schema of the
ConfigRule/RemediationConfiguration subset that conformance packs allow, with the real enums;
Config's limits (51,200-byte TemplateBody, 60 parameters, 130 rules); every Ref, ${} variable
and condition resolves; AWS managed rule identifiers and their parameters exist (moto ships
AWS's managed-rule list); periodic settings only on periodic rules.
"""

from __future__ import annotations

import gzip
import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any, Iterator

import jsonschema
import yaml

TEMPLATE_BODY_LIMIT = 51_200
PARAMETER_LIMIT = 60
PSEUDO_PARAMETERS = {"AWS::AccountId", "AWS::NoValue", "AWS::Partition", "AWS::Region", "AWS::StackName",
                     "AWS::StackId", "AWS::URLSuffix"}
PROCESS_CHECK = "AWS_CONFIG_PROCESS_CHECK"


@lru_cache(maxsize=1)
def pack_schema() -> dict[str, Any]:
    text = resources.files("transcribe_guard").joinpath("schemas/conformance-pack.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@lru_cache(maxsize=1)
def managed_rules() -> dict[str, Any]:
    """AWS managed rules by identifier: parameters and trigger type (moto's copy of AWS's list)."""
    path = resources.files("moto.config").joinpath("resources/aws_managed_rules.json.gz")
    with path.open("rb") as handle:
        data: dict[str, Any] = json.loads(gzip.decompress(handle.read()))
    return dict(data["ManagedRules"])


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}/{index}")


def validate_pack(text: str) -> list[str]:
    """Every problem found in the template text; an empty list means it is valid."""
    problems: list[str] = []
    size = len(text.encode("utf-8"))
    if size > TEMPLATE_BODY_LIMIT:
        problems.append(f"template is {size} bytes; TemplateBody allows {TEMPLATE_BODY_LIMIT}")
    try:
        template = yaml.safe_load(text)
    except yaml.YAMLError as error:
        return problems + [f"not valid YAML: {error}"]
    if not isinstance(template, dict):
        return problems + ["template must be a mapping"]
    problems += _schema_problems(template, pack_schema(), "")
    # Each resource against the definition of its own type, for precise messages.
    definitions = {"AWS::Config::ConfigRule": "configRule", "AWS::Config::RemediationConfiguration": "remediation"}
    for logical_id, resource in (template.get("Resources") or {}).items():
        definition = definitions.get(resource.get("Type")) if isinstance(resource, dict) else None
        if definition:
            schema = {"$ref": f"#/$defs/{definition}", "$defs": pack_schema()["$defs"]}
            problems += _schema_problems(resource, schema, f"Resources/{logical_id}/")
    count = len(template.get("Parameters") or {})
    if count > PARAMETER_LIMIT:
        problems.append(f"template has {count} parameters; a conformance pack allows {PARAMETER_LIMIT}")
    problems += _check_references(template)
    problems += _check_rules(template)
    return problems


def _schema_problems(instance: Any, schema: dict[str, Any], prefix: str) -> list[str]:
    problems = []
    for error in sorted(jsonschema.Draft202012Validator(schema).iter_errors(instance), key=str):
        where = prefix + "/".join(str(p) for p in error.absolute_path)
        problems.append(f"{where or '<root>'}: {error.message}")
    return problems


def _check_references(template: dict[str, Any]) -> list[str]:
    problems = []
    parameters = set(template.get("Parameters") or {})
    conditions = set(template.get("Conditions") or {})
    used: set[str] = set()
    for path, node in _walk(template):
        if not isinstance(node, dict):
            continue
        if "Ref" in node and len(node) == 1:
            name = node["Ref"]
            used.add(name)
            if name not in parameters and name not in PSEUDO_PARAMETERS:
                problems.append(f"{path}: Ref {name} names no parameter")
        if "Fn::Sub" in node and isinstance(node["Fn::Sub"], str):
            for name in re.findall(r"\$\{([^}!]+)\}", node["Fn::Sub"]):
                used.add(name)
                if name not in parameters and name not in PSEUDO_PARAMETERS:
                    problems.append(f"{path}: Fn::Sub variable {name} names no parameter")
        if "Fn::If" in node:
            condition = node["Fn::If"][0] if isinstance(node["Fn::If"], list) and node["Fn::If"] else None
            if condition not in conditions:
                problems.append(f"{path}: Fn::If names unknown condition {condition}")
        if "Condition" in node and isinstance(node["Condition"], str) and node["Condition"] not in conditions:
            problems.append(f"{path}: Condition {node['Condition']} is not defined")
    for name in sorted(parameters - used):
        problems.append(f"Parameters/{name}: declared but never used")
    return problems


FREQUENCIES = ("One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours")


def _check_rules(template: dict[str, Any]) -> list[str]:
    problems = []
    names: dict[str, str] = {}
    known = managed_rules()
    for logical_id, resource in (template.get("Resources") or {}).items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Config::ConfigRule":
            continue
        properties = resource.get("Properties") or {}
        name = properties.get("ConfigRuleName")
        if name in names:
            problems.append(f"Resources/{logical_id}: ConfigRuleName {name} is also used by {names[name]}")
        names[str(name)] = logical_id
        source = properties.get("Source") or {}
        for where, value in [("MaximumExecutionFrequency", properties.get("MaximumExecutionFrequency")),
                             *[("SourceDetails", d.get("MaximumExecutionFrequency")) for d in source.get("SourceDetails") or []]]:
            if isinstance(value, dict):  # a Ref: the parameter may only hold frequencies
                parameter = (template.get("Parameters") or {}).get(value.get("Ref"), {})
                allowed_values = parameter.get("AllowedValues")
                if not allowed_values or not set(allowed_values) <= set(FREQUENCIES) or (
                        "Default" in parameter and parameter["Default"] not in FREQUENCIES):
                    problems.append(f"Resources/{logical_id}: {where} refers to {value.get('Ref')}, whose "
                                    f"AllowedValues must be frequencies ({', '.join(FREQUENCIES)})")
        if source.get("Owner") != "AWS":
            for detail in source.get("SourceDetails") or []:
                if detail.get("MessageType") == "ScheduledNotification" and "MaximumExecutionFrequency" not in properties:
                    problems.append(f"Resources/{logical_id}: a periodic rule needs MaximumExecutionFrequency")
            continue
        identifier = source.get("SourceIdentifier")
        if identifier == PROCESS_CHECK:
            for key in ("InputParameters", "MaximumExecutionFrequency", "Scope"):
                if key in properties:
                    problems.append(f"Resources/{logical_id}: a process check takes no {key}")
            continue
        managed = known.get(str(identifier))
        if managed is None:
            problems.append(f"Resources/{logical_id}: {identifier} is not an AWS managed rule identifier")
            continue
        allowed = {p["Name"]: p for p in managed.get("Parameters", [])}
        given = set((properties.get("InputParameters") or {}))
        for extra in sorted(given - set(allowed)):
            problems.append(f"Resources/{logical_id}: {identifier} has no parameter {extra}")
        for missing in sorted(n for n, p in allowed.items() if not p.get("Optional", True) and n not in given
                              and "Default" not in p):
            problems.append(f"Resources/{logical_id}: {identifier} requires parameter {missing}")
        if "MaximumExecutionFrequency" in properties and "Periodic" not in str(managed.get("Trigger type", "")):
            problems.append(f"Resources/{logical_id}: {identifier} is not periodic; remove MaximumExecutionFrequency")
    return problems


# CloudFormation parameter types a conformance pack template may declare that we can check here.
_LIST_TYPES = ("CommaDelimitedList", "List<Number>")


def parameter_value_problems(template: dict[str, Any], values: dict[str, str]) -> list[str]:
    """Every way ``values`` (ConformancePackInputParameters) break the template's Parameters, as
    CloudFormation would judge them: undeclared names, required ones left out, and each value against
    its Type, AllowedValues, AllowedPattern (matched against the whole value), MinLength/MaxLength and
    MinValue/MaxValue. An empty list means Config gets values it accepts."""
    declared: dict[str, Any] = template.get("Parameters") or {}
    problems = [f"parameter {name} is not declared by the pack" for name in sorted(set(values) - set(declared))]
    for name, spec in declared.items():
        if name not in values:
            if "Default" not in spec:
                problems.append(f"parameter {name} has no value and no default")
            continue
        problems += [f"parameter {name}: {problem}" for problem in _value_problems(spec, values[name])]
    return problems


def _value_problems(spec: dict[str, Any], value: str) -> list[str]:
    kind = spec.get("Type", "String")
    if kind not in ("String", "Number", *_LIST_TYPES):
        return [f"type {kind} cannot be checked; refusing the value"]
    items = [item.strip() for item in value.split(",")] if kind in _LIST_TYPES else [value]
    problems: list[str] = []
    for item in items:
        if kind in ("Number", "List<Number>"):
            try:
                number = float(item)
            except ValueError:
                problems.append(f"{item!r} is not a number")
                continue
            if "MinValue" in spec and number < float(spec["MinValue"]):
                problems.append(f"{item} is below the minimum {spec['MinValue']}")
            if "MaxValue" in spec and number > float(spec["MaxValue"]):
                problems.append(f"{item} is above the maximum {spec['MaxValue']}")
        allowed = spec.get("AllowedValues")
        if allowed is not None and item not in [str(a) for a in allowed]:
            problems.append(f"{item!r} must be one of {', '.join(repr(str(a)) for a in allowed)}")
        pattern = spec.get("AllowedPattern")
        if pattern is not None and re.fullmatch(str(pattern), item) is None:
            problems.append(f"{item!r} does not match the pattern {pattern}")
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        problems.append(f"is shorter than {spec['MinLength']} characters")
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        problems.append(f"is longer than {spec['MaxLength']} characters")
    return problems
