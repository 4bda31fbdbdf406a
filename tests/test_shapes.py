"""shapes.validate and shapes.project on a small hand-made service model."""

from __future__ import annotations

import copy
import json
import datetime as dt
from typing import Any

import pytest
from botocore.model import ServiceModel

from transcribe_guard.simulator.shapes import json_encoder, output_shape, project, validate

MODEL = ServiceModel({
    "metadata": {"protocol": "json", "apiVersion": "2020-01-01", "endpointPrefix": "example",
                 "serviceId": "Example", "signatureVersion": "v4", "jsonVersion": "1.1", "targetPrefix": "Example"},
    "operations": {"Describe": {"name": "Describe", "http": {"method": "POST", "requestUri": "/"},
                                "output": {"shape": "Thing"}}},
    "shapes": {
        "Thing": {"type": "structure", "required": ["Name"], "members": {
            "Name": {"shape": "Name"}, "Color": {"shape": "Color"}, "Count": {"shape": "Count"},
            "Ratio": {"shape": "Ratio"}, "Enabled": {"shape": "Flag"}, "Created": {"shape": "When"},
            "Data": {"shape": "Data"}, "Items": {"shape": "Items"}, "Labels": {"shape": "Labels"},
            "Inner": {"shape": "Item"}}},
        "Name": {"type": "string", "min": 1, "max": 8, "pattern": "^[a-z-]+$"},
        "Color": {"type": "string", "enum": ["RED", "GREEN"]},
        "Count": {"type": "integer", "min": 0, "max": 10},
        "Ratio": {"type": "double"},
        "Flag": {"type": "boolean"},
        "When": {"type": "timestamp"},
        "Data": {"type": "blob"},
        "Items": {"type": "list", "member": {"shape": "Item"}, "min": 1, "max": 2},
        "Labels": {"type": "map", "key": {"shape": "LabelKey"}, "value": {"shape": "Item"}},
        "LabelKey": {"type": "string", "max": 3},
        "Item": {"type": "structure", "required": ["Key"], "members": {
            "Key": {"shape": "Name"}, "Value": {"shape": "Color"}}},
    },
})
THING = MODEL.shape_for("Thing")


def good() -> dict[str, Any]:
    return {"Name": "alpha", "Color": "RED", "Count": 3, "Ratio": 0.5, "Enabled": False,
            "Created": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), "Data": b"\x00\x01",
            "Items": [{"Key": "a", "Value": "GREEN"}], "Labels": {"abc": {"Key": "b"}}, "Inner": {"Key": "c"}}


def test_a_conforming_value_has_no_problems() -> None:
    assert validate(THING, good()) == []
    assert validate(THING, {"Name": "x"}) == []  # optional members may be absent
    assert validate(THING, {**good(), "Ratio": 2}) == []  # an int is a valid double


def test_unknown_members_are_reported_with_their_path() -> None:
    value = good()
    value["Extra"] = 1
    value["Items"][0]["Surprise"] = "x"
    value["Labels"]["abc"]["Other"] = "y"
    value["Inner"]["Deep"] = True
    assert sorted(validate(THING, value)) == sorted([
        "<root>: unknown member Extra",
        "Items[0]: unknown member Surprise",
        "Labels[abc]: unknown member Other",
        "Inner: unknown member Deep",
    ])


def test_missing_required_members_are_reported() -> None:
    value = good()
    del value["Name"]
    value["Items"] = [{"Key": "a"}, {"Value": "RED"}]
    value["Labels"] = {"k": {}}
    assert sorted(validate(THING, value)) == sorted([
        "<root>: missing required member Name",
        "Items[1]: missing required member Key",
        "Labels[k]: missing required member Key",
    ])


def test_enum_values_are_checked() -> None:
    assert validate(THING, {**good(), "Color": "BLUE"}) == ["Color: 'BLUE' is not one of the model's enum values"]
    assert validate(THING, {**good(), "Items": [{"Key": "a", "Value": "red"}]}) == [
        "Items[0].Value: 'red' is not one of the model's enum values"]


@pytest.mark.parametrize("member, value, expected", [
    ("Name", 5, "Name: expected string, got int"),
    ("Count", "3", "Count: expected integer, got str"),
    ("Count", True, "Count: expected integer, got bool"),
    ("Count", 1.5, "Count: expected integer, got float"),
    ("Ratio", "0.5", "Ratio: expected number, got str"),
    ("Enabled", "false", "Enabled: expected boolean, got str"),
    ("Enabled", 0, "Enabled: expected boolean, got int"),
    ("Created", "2026-01-01T00:00:00Z", "Created: expected timestamp, got str"),
    ("Data", 7, "Data: expected blob"),
    ("Items", {"Key": "a"}, "Items: expected list, got dict"),
    ("Labels", [{"Key": "a"}], "Labels: expected map, got list"),
    ("Inner", ["a"], "Inner: expected structure, got list"),
])
def test_wrong_types_are_reported(member: str, value: Any, expected: str) -> None:
    assert validate(THING, {**good(), member: value}) == [expected]


@pytest.mark.parametrize("member, value, expected", [
    ("Name", "", ["Name: length 0 below model minimum 1", "Name: does not match the model pattern ^[a-z-]+$"]),
    ("Name", "abcdefghi", "Name: length 9 above model maximum 8"),
    ("Name", "Alpha", "Name: does not match the model pattern ^[a-z-]+$"),
    ("Count", -1, "Count: -1 below model minimum 0"),
    ("Count", 11, "Count: 11 above model maximum 10"),
    ("Items", [], "Items: length 0 below model minimum 1"),
    ("Items", [{"Key": "a"}] * 3, "Items: length 3 above model maximum 2"),
    ("Labels", {"long": {"Key": "a"}}, "Labels<key>: length 4 above model maximum 3"),
])
def test_lengths_ranges_and_patterns_are_checked(member: str, value: Any, expected: str | list[str]) -> None:
    assert validate(THING, {**good(), member: value}) == (expected if isinstance(expected, list) else [expected])


def test_nested_problems_accumulate() -> None:
    value = {"Name": "ok", "Items": [{"Key": "A", "Value": "BLUE"}, {"Key": 1}],
             "Labels": {"x": {"Key": "ok", "Value": 3}}}
    assert sorted(validate(THING, value)) == sorted([
        "Items[0].Key: does not match the model pattern ^[a-z-]+$",
        "Items[0].Value: 'BLUE' is not one of the model's enum values",
        "Items[1].Key: expected string, got int",
        "Labels[x].Value: expected string, got int",
    ])


def test_operations_without_output() -> None:
    assert validate(None, {}) == [] and validate(None, None) == []
    assert validate(None, {"Unexpected": 1}) == ["<root>: operation has no output but got dict"]


def test_project_keeps_exactly_the_modelled_members() -> None:
    value = good()
    value.update({"Extra": 1, "Count": None})
    value["Items"] = [{"Key": "a", "Surprise": 1}, {"Key": "b", "Value": None}]
    value["Labels"] = {"abc": {"Key": "z", "Other": 2}}
    value["Inner"] = {"Key": "c", "Deep": {"x": 1}}
    before = copy.deepcopy(value)
    projected = project(THING, value)
    assert value == before  # the input is not modified
    expected = good()
    del expected["Count"]  # None members are left out
    expected["Items"] = [{"Key": "a"}, {"Key": "b"}]
    expected["Labels"] = {"abc": {"Key": "z"}}
    assert projected == expected
    assert validate(THING, projected) == []
    assert project(None, {"anything": 1}) == {}
    assert project(MODEL.shape_for("Name"), "kept") == "kept"
    assert project(THING, "not a dict") == "not a dict"  # projection never invents or coerces


def test_output_shape_reads_botocore_models() -> None:
    shape = output_shape("transcribe", "GetVocabulary")
    assert shape is not None and "EncryptionConfiguration" in shape.members
    assert output_shape("transcribe", "DeleteTranscriptionJob") is None
    tag_resource = output_shape("transcribe", "TagResource")
    assert tag_resource is not None and validate(tag_resource, {}) == []
    assert validate(output_shape("transcribe", "GetVocabulary"), {"VocabularyState": "DONE"}) == [
        "VocabularyState: 'DONE' is not one of the model's enum values"]


def test_json_encoder_writes_what_motos_serializer_writes_for_the_projection() -> None:
    from moto.core.model import ServiceModel as MotoServiceModel
    from moto.core.serialize import JSONSerializer, XFormedAttributePicker

    operation = MotoServiceModel(MODEL._service_description, "example").operation_model("Describe")
    values = [good(), {"Name": "x"}, {}]
    odd = good()
    odd.update({"Extra": 1, "Count": "3", "Ratio": 2, "Data": "text", "Enabled": None,
                "Created": dt.datetime(2026, 1, 1, 12, 30, 5, 123456),  # naive, with microseconds
                "Items": [{"Key": "a", "Surprise": 1}, {"Key": "b", "Value": None}],
                "Labels": {"abc": {"Key": "z", "Other": 2}}, "Inner": {"Key": "c", "Deep": {"x": 1}}})
    values.append(odd)
    encode = json_encoder(THING)
    for value in values:
        before = copy.deepcopy(value)
        expected = JSONSerializer(operation, value_picker=XFormedAttributePicker()).serialize(project(THING, value))
        assert json.loads(json.dumps(encode(value))) == json.loads(expected["body"]), value
        assert value == before  # the input is not modified
    assert json_encoder(THING) is encode  # compiled once per shape
    assert encode(odd)["Created"] == 1767270605.123 and encode(odd)["Count"] == 3 and encode(odd)["Ratio"] == 2.0
