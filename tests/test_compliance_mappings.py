"""Control mappings: every registry entry (custom rules, AWS managed rules, process checks) has at
least one mapping, or an explicit, reasoned not-applicable, in each of the four frameworks; every
mapped id is in the framework's bundled catalog; the files validate against their schemas."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest

from transcribe_guard import compliance

ENTRIES = [entry.name for entry in compliance.registry_entries()]


@pytest.mark.parametrize("framework", compliance.FRAMEWORKS)
@pytest.mark.parametrize("name", ENTRIES)
def test_every_registry_entry_is_mapped_or_reasoned_not_applicable(framework: str, name: str) -> None:
    entry = compliance.mapping(framework)["entries"].get(name)
    assert entry is not None, compliance.missing_message(framework, name)
    assert entry.get("controls") or entry.get("not_applicable"), compliance.missing_message(framework, name)


@pytest.mark.parametrize("framework", compliance.FRAMEWORKS)
def test_mapping_and_catalog_are_valid_and_every_id_is_in_the_catalog(framework: str) -> None:
    jsonschema.Draft202012Validator(compliance.mapping_schema()).validate(compliance.mapping(framework))
    jsonschema.Draft202012Validator(compliance.catalog_schema()).validate(compliance.catalog(framework))
    catalog = compliance.catalog_controls(framework)
    for name, entry in compliance.mapping(framework)["entries"].items():
        for control in entry.get("controls", []):
            assert control["id"] in catalog, f"{framework}: {name} maps {control['id']}, not in the catalog"
    # Problems other than entries still missing a mapping (those fail above, one test per entry).
    assert [p for p in compliance.problems(framework) if "has no mapping for" not in p] == []


@pytest.mark.parametrize("framework", compliance.FRAMEWORKS)
def test_catalog_names_its_source_and_ids_have_the_frameworks_shape(framework: str) -> None:
    catalog = compliance.catalog(framework)
    assert catalog["source"]["version"] and catalog["source"]["url"].startswith("https://")
    ids = [c["id"] for c in catalog["controls"]]
    assert len(ids) == len(set(ids))
    assert all(compliance.ID_PATTERNS[framework].match(i) for i in ids)


@pytest.mark.parametrize("framework, good, bad", [
    ("hipaa", "164.312(a)(2)(iv)", "164.312.a.2.iv"),
    ("pci", "10.2.1", "Req 10.2.1"),
    ("soc2", "CC6.1", "CC 6.1"),
    ("nist", "SC-28(1)", "SC-28 (1)"),
])
def test_id_shapes(framework: str, good: str, bad: str) -> None:
    assert compliance.ID_PATTERNS[framework].match(good) and not compliance.ID_PATTERNS[framework].match(bad)


def _with_mapping(monkeypatch: Any, framework: str, change: Any) -> list[str]:
    """The problems a change to the committed mapping adds (rules still awaiting a mapping aside)."""
    baseline = compliance.problems(framework)
    document = copy.deepcopy(compliance._read(f"{framework}.json"))
    change(document["entries"])
    monkeypatch.setattr(compliance, "_mapping_raw", lambda fw: json.dumps(document) if fw == framework else
                        json.dumps(compliance._read(f"{fw}.json")))
    return [problem for problem in compliance.problems(framework) if problem not in baseline]


def test_problems_name_what_a_rule_author_must_fix(monkeypatch: Any) -> None:
    first = ENTRIES[0]
    found = _with_mapping(monkeypatch, "pci", lambda e: e.pop(first))
    assert found == [compliance.missing_message("pci", first)]
    assert f'"{first}": {{"controls"' in found[0] and "not_applicable" in found[0]
    found = _with_mapping(monkeypatch, "pci", lambda e: e[first]["controls"].append(
        {"id": "99.9.9", "rationale": "A requirement that PCI DSS does not have."}))
    assert found == [f"rules/catalog/compliance/pci.json: {first}: control 99.9.9 is not in catalogs/pci.json "
                     f"({compliance.catalog('pci')['source']['document'][:60]}...)."]
    found = _with_mapping(monkeypatch, "nist", lambda e: e.update({"transcribe-removed-rule": e[first]}))
    assert len(found) == 1 and "transcribe-removed-rule is not a rule, managed rule or process check" in found[0]


@pytest.mark.parametrize("entry, message", [
    ({"not_applicable": "n/a"}, "is not valid under any of the given schemas"),
    ({"controls": []}, "is not valid under any of the given schemas"),
    ({"controls": [{"id": "CC6.1"}]}, "is not valid under any of the given schemas"),
    ({"controls": [{"id": "CC6.1", "rationale": "Two lines\nof rationale are not one line."}]},
     "is not valid under any of the given schemas"),
    ({"controls": [{"id": "CC6.1", "rationale": "A fine one-line rationale."}], "not_applicable": "Both at once."},
     "is not valid under any of the given schemas"),
])
def test_schema_rejects_unreasoned_or_malformed_entries(monkeypatch: Any, entry: dict[str, Any], message: str) -> None:
    found = _with_mapping(monkeypatch, "soc2", lambda e: e.update({ENTRIES[0]: entry}))
    assert len(found) == 1 and message in found[0] and ENTRIES[0] in found[0]


def test_a_reasoned_not_applicable_counts_as_mapped(monkeypatch: Any) -> None:
    reason = "Configuration-only control with no bearing on this framework's requirements."
    found = _with_mapping(monkeypatch, "hipaa", lambda e: e.update({ENTRIES[0]: {"not_applicable": reason}}))
    assert found == []
    assert compliance.not_applicable("hipaa") == {ENTRIES[0]: reason}
    assert compliance.mapped_controls("hipaa")[ENTRIES[0]] == []
