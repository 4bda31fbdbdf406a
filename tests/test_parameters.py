"""rules.engine.parameters: Config's string-valued InputParameters parsed against a rule's declared schema."""

from __future__ import annotations

from typing import Any

import pytest
from rdklib import InvalidParametersError

from rules.engine.parameters import CONFIG_PARAMETER_LIMIT, RDKLIB_RESERVED, parse_parameters

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "Buckets": {"type": "string", "x-type": "list", "pattern": r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]",
                    "x-pattern-hint": "each entry must be an S3 bucket name", "description": "buckets"},
        "Mode": {"type": "string", "enum": ["strict", "lenient"], "default": "strict", "description": "mode"},
        "Modes": {"type": "string", "x-type": "list", "enum": ["a", "b"], "description": "several modes"},
        "Strict": {"type": "string", "x-type": "boolean", "default": "false", "description": "a flag"},
        "Prefix": {"type": "string", "minLength": 2, "maxLength": 10, "description": "a short prefix"},
        "Note": {"type": "string", "description": "free text up to Config's limit"},
        "KeyArn": {"type": "string", "pattern": r"arn:aws:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}",
                   "description": "a key ARN"},
    },
}
REQUIRED = {**SCHEMA, "required": ["Buckets"]}
DEFAULTS = {"Buckets": [], "Mode": "strict", "Modes": [], "Strict": False, "Prefix": None, "Note": None, "KeyArn": None}


def parse(raw: Any, schema: dict[str, Any] = SCHEMA) -> dict[str, Any]:
    return parse_parameters(schema, raw)


def rejected(raw: Any, schema: dict[str, Any] = SCHEMA) -> str:
    with pytest.raises(InvalidParametersError) as caught:
        parse_parameters(schema, raw)
    return str(caught.value)


@pytest.mark.parametrize("raw", [None, {}, {"Buckets": "", "Mode": "  ", "Note": None}], ids=["none", "empty", "blank"])
def test_defaults_fill_missing_and_blank_values(raw: Any) -> None:
    assert parse(raw) == DEFAULTS


def test_unknown_parameter_is_named_with_the_accepted_ones() -> None:
    message = rejected({"Bucketz": "a"})
    assert "Unknown parameter Bucketz" in message and "Buckets" in message and "Mode" in message


def test_parameter_names_are_case_sensitive() -> None:
    assert "Unknown parameter mode" in rejected({"mode": "strict"})


def test_schema_without_properties_accepts_only_reserved() -> None:
    schema = {"type": "object", "additionalProperties": False, "properties": {}}
    assert parse({"AssumeRoleMode": "false"}, schema) == {}
    assert "accepts: none" in rejected({"X": "1"}, schema)


@pytest.mark.parametrize("raw", [["Buckets", "a"], "Buckets=a", 3])
def test_parameters_must_be_an_object(raw: Any) -> None:
    assert "JSON object" in rejected(raw)


@pytest.mark.parametrize(("value", "type_name"), [(3, "int"), (True, "bool"), (["a"], "list"), ({"a": 1}, "dict")])
def test_wrong_type_is_rejected_naming_the_parameter(value: Any, type_name: str) -> None:
    assert rejected({"Prefix": value}) == f"Parameter Prefix must be a string, not {type_name}."


def test_required_parameter() -> None:
    assert rejected({}, REQUIRED) == "Parameter Buckets is required."
    assert rejected({"Buckets": "  "}, REQUIRED) == "Parameter Buckets is required."
    assert parse({"Buckets": "media"}, REQUIRED)["Buckets"] == ["media"]


def test_required_list_of_only_separators_is_missing() -> None:
    assert rejected({"Buckets": " , "}, REQUIRED) == "Parameter Buckets is required."


def test_enum() -> None:
    assert parse({"Mode": "lenient"})["Mode"] == "lenient"
    assert parse({"Mode": " lenient "})["Mode"] == "lenient"
    assert rejected({"Mode": "Lenient"}) == "Parameter Mode has an unsupported value; allowed: strict, lenient."


def test_enum_applies_to_every_list_item() -> None:
    assert parse({"Modes": "a,b,a"})["Modes"] == ["a", "b"]
    assert "unsupported value" in rejected({"Modes": "a,c"})


def test_pattern_is_a_full_match_and_uses_the_hint() -> None:
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert parse({"KeyArn": key})["KeyArn"] == key
    assert rejected({"KeyArn": key + "x"}).startswith("Parameter KeyArn has an invalid value: it must match ")
    assert rejected({"Buckets": "ok-bucket,Bad_Bucket"}) == \
        "Parameter Buckets has an invalid value: each entry must be an S3 bucket name."


@pytest.mark.parametrize(("raw", "expected"), [
    ("media", ["media"]),
    ("media,archive", ["media", "archive"]),
    (" media , archive ,", ["media", "archive"]),
    ("media,,archive, ,media", ["media", "archive"]),
    ("archive,media,archive", ["archive", "media"]),
])
def test_list_parsing_strips_drops_blanks_and_dedups_in_order(raw: str, expected: list[str]) -> None:
    assert parse({"Buckets": raw})["Buckets"] == expected


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("TRUE", True), (" True ", True), ("false", False),
                                               ("False", False)])
def test_boolean(raw: str, expected: bool) -> None:
    assert parse({"Strict": raw})["Strict"] is expected


@pytest.mark.parametrize("raw", ["yes", "1", "0", "on", "truee"])
def test_boolean_rejects_other_words(raw: str) -> None:
    assert rejected({"Strict": raw}) == "Parameter Strict must be true or false."


def test_min_and_max_length() -> None:
    assert parse({"Prefix": "ab"})["Prefix"] == "ab"
    assert parse({"Prefix": "a" * 10})["Prefix"] == "a" * 10
    assert rejected({"Prefix": "a"}) == "Parameter Prefix has a value shorter than 2 characters."
    assert rejected({"Prefix": "a" * 11}) == "Parameter Prefix is 11 characters long; the limit is 10."


def test_config_limit_of_1024_characters_is_the_default_max_length() -> None:
    assert CONFIG_PARAMETER_LIMIT == 1024
    assert parse({"Note": "n" * 1024})["Note"] == "n" * 1024
    assert rejected({"Note": "n" * 1025}) == "Parameter Note is 1025 characters long; the limit is 1024."


def test_max_length_applies_to_the_whole_list_value() -> None:
    names = ",".join(f"bucket-{i:04d}" for i in range(85))  # 1,019 characters, 85 valid names
    assert len(names) <= 1024 and len(parse({"Buckets": names})["Buckets"]) == 85
    assert "characters long; the limit is 1024" in rejected({"Buckets": names + ",bucket-x"})


def test_rdklib_reserved_parameters_are_accepted_and_not_returned() -> None:
    assert set(RDKLIB_RESERVED) == {"ExecutionRoleName", "ExecutionRoleRegion", "AssumeRoleMode"}
    raw = {"ExecutionRoleName": "config-role", "ExecutionRoleRegion": "eu-west-1", "AssumeRoleMode": "false"}
    assert parse(raw) == DEFAULTS


@pytest.mark.parametrize("value", ["true", "false", "TRUE", "False"])
def test_assume_role_mode_accepts_true_and_false(value: str) -> None:
    assert parse({"AssumeRoleMode": value}) == DEFAULTS


@pytest.mark.parametrize("value", ["no", "", "0", "yes", " false "])  # rdklib would read " false " as true
def test_assume_role_mode_rejects_anything_else(value: str) -> None:
    assert rejected({"AssumeRoleMode": value}) == "Parameter AssumeRoleMode must be true or false."


@pytest.mark.parametrize("name", RDKLIB_RESERVED)
def test_reserved_parameters_must_be_strings(name: str) -> None:
    assert rejected({name: False}) == f"Parameter {name} must be a string."


def test_values_are_stripped() -> None:
    assert parse({"Prefix": "  ab  ", "Note": "\tnote\n"})["Prefix"] == "ab"
    assert parse({"Note": "\tnote\n"})["Note"] == "note"
