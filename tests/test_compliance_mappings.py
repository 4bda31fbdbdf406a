"""Control mappings: every registry entry (custom rules, AWS managed rules, process checks) has at
least one mapping, or an explicit, reasoned not-applicable, in each of the four frameworks; every
mapped id is in the framework's bundled catalog; the files validate against their schemas."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import jsonschema
import pytest

from rules.catalog.pack_entries import MANAGED_RULES
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


# AWS's own mappings of the pack's managed rules, from AWS Config's "Operational Best Practices"
# conformance pack pages (read 2026-12-02): rule identifier -> framework -> (page, control ids as the
# page writes them). The stored pages could be read only to their opening, so the ids were taken from
# cdklabs/cdk-nag's RULES.md (AWS's own project), which reproduces each page's table row by row, and
# the rules were checked to be in AWS's pack templates (awslabs/aws-config-rules,
# aws-config-conformance-packs/). Not found, so not listed: CMK_BACKING_KEY_ROTATION_ENABLED is not in
# AWS's HIPAA pack; AWS's PCI DSS 4.0 packs hold only ACCESS_KEYS_ROTATED of these rules and publish
# their control ids in an attachment we could not read (its PCI DSS 3.2.1 pack numbers requirements
# differently from v4.0.1); AWS publishes no SOC 2 conformance pack.
AWS_HIPAA = "https://docs.aws.amazon.com/config/latest/developerguide/operational-best-practices-for-hipaa_security.html"
AWS_NIST = "https://docs.aws.amazon.com/config/latest/developerguide/operational-best-practices-for-nist-800-53_rev_5.html"
AWS_PUBLISHED: dict[str, dict[str, tuple[str, list[str]]]] = {
    "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED": {
        "hipaa": (AWS_HIPAA, ["164.312(c)(1)", "164.312(c)(2)"]),
        "nist": (AWS_NIST, ["AU-9a", "CM-6a", "CM-9b", "PM-11b", "PM-17b", "SA-1(1)", "SA-10(1)", "SC-16(1)",
                            "SI-1a.2", "SI-1c.2", "SI-4d", "SI-7a", "SI-7(1)", "SI-7(3)", "SI-7(7)"]),
    },
    "CLOUD_TRAIL_ENCRYPTION_ENABLED": {
        "hipaa": (AWS_HIPAA, ["164.312(a)(2)(iv)", "164.312(e)(2)(ii)"]),
        "nist": (AWS_NIST, ["AU-9(3)", "CM-6a", "CM-9b", "CP-9d", "SC-8(3)", "SC-8(4)", "SC-13a", "SC-28(1)",
                            "SI-19(4)"]),
    },
    "CMK_BACKING_KEY_ROTATION_ENABLED": {
        "nist": (AWS_NIST, ["CM-6a", "CM-9b", "SA-9(6)", "SC-12", "SC-12(2)", "SC-12(6)"]),
    },
    "ACCESS_KEYS_ROTATED": {
        "hipaa": (AWS_HIPAA, ["164.308(a)(4)(ii)(B)"]),
        "nist": (AWS_NIST, ["AC-2(1)", "AC-3(3)(a)", "AC-3(3)(b)(1)", "AC-3(3)(b)(2)", "AC-3(3)(b)(3)",
                            "AC-3(3)(b)(4)", "AC-3(3)(b)(5)", "AC-3(3)(c)", "AC-3(3)", "AC-3(4)(a)", "AC-3(4)(b)",
                            "AC-3(4)(c)", "AC-3(4)(d)", "AC-3(4)(e)", "AC-3(4)", "AC-3(8)", "AC-3(12)(a)", "AC-3(13)",
                            "AC-3(15)(a)", "AC-3(15)(b)", "AC-4(28)", "AC-24", "CM-5(1)(a)", "CM-6a", "CM-9b",
                            "SC-23(3)"]),
    },
    "IAM_USER_UNUSED_CREDENTIALS_CHECK": {
        "hipaa": (AWS_HIPAA, ["164.308(a)(3)(i)", "164.308(a)(4)(ii)(A)", "164.308(a)(4)(ii)(B)",
                              "164.308(a)(4)(ii)(C)", "164.312(a)(1)"]),
        "nist": (AWS_NIST, ["AC-2g", "AC-2j", "AC-2(1)", "AC-2(3)(a)", "AC-2(3)(b)", "AC-2(3)(c)", "AC-2(3)(d)",
                            "AC-2(3)", "AC-2(6)", "AC-3", "AC-3(3)(a)", "AC-3(3)(b)(1)", "AC-3(3)(b)(2)",
                            "AC-3(3)(b)(3)", "AC-3(3)(b)(4)", "AC-3(3)(b)(5)", "AC-3(3)(c)", "AC-3(3)", "AC-3(4)(a)",
                            "AC-3(4)(b)", "AC-3(4)(c)", "AC-3(4)(d)", "AC-3(4)(e)", "AC-3(4)", "AC-3(7)", "AC-3(8)",
                            "AC-3(12)(a)", "AC-3(13)", "AC-3(15)(a)", "AC-3(15)(b)", "AC-4(28)", "AC-6", "AC-24",
                            "CM-5(1)(a)", "CM-6a", "CM-9b", "MP-2", "SC-23(3)"]),
    },
    "IAM_ROOT_ACCESS_KEY_CHECK": {
        "hipaa": (AWS_HIPAA, ["164.308(a)(3)(i)", "164.308(a)(4)(ii)(A)", "164.308(a)(4)(ii)(B)",
                              "164.308(a)(4)(ii)(C)", "164.312(a)(1)", "164.312(a)(2)(i)"]),
        "nist": (AWS_NIST, ["AC-2(1)", "AC-2(6)", "AC-3(3)(a)", "AC-3(3)(b)(1)", "AC-3(3)(b)(2)", "AC-3(3)(b)(3)",
                            "AC-3(3)(b)(4)", "AC-3(3)(b)(5)", "AC-3(3)(c)", "AC-3(3)", "AC-3(4)(a)", "AC-3(4)(b)",
                            "AC-3(4)(c)", "AC-3(4)(d)", "AC-3(4)(e)", "AC-3(4)", "AC-3(7)", "AC-3(8)", "AC-3(12)(a)",
                            "AC-3(13)", "AC-3(15)(a)", "AC-3(15)(b)", "AC-4(28)", "AC-6", "AC-6(2)", "AC-6(10)",
                            "AC-24", "CM-5(1)(a)", "CM-6a", "CM-9b", "IA-2", "IA-4b", "IA-4(4)", "IA-4(8)",
                            "IA-5(8)", "MP-2", "SC-23(3)", "SC-25"]),
    },
    "S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS_PERIODIC": {
        "hipaa": (AWS_HIPAA, ["164.308(a)(3)(i)", "164.308(a)(4)(ii)(A)", "164.308(a)(4)(ii)(C)", "164.312(a)(1)",
                              "164.312(e)(1)"]),
        "nist": (AWS_NIST, ["AC-2(6)", "AC-3", "AC-3(7)", "AC-4(21)", "AC-6", "AC-17b", "AC-17(1)", "AC-17(4)(a)",
                            "AC-17(9)", "AC-17(10)", "CM-6a", "CM-9b", "MP-2", "SC-7a", "SC-7b", "SC-7c", "SC-7(2)",
                            "SC-7(3)", "SC-7(7)", "SC-7(9)(a)", "SC-7(11)", "SC-7(12)", "SC-7(16)", "SC-7(20)",
                            "SC-7(21)", "SC-7(24)(b)", "SC-7(25)", "SC-7(26)", "SC-7(27)", "SC-7(28)", "SC-25"]),
    },
}
# Our NIST catalog stops at controls and enhancements: AWS's statement ids (AC-2g, AC-3(3)(b)(1))
# count as their control. Two ids name nothing in rev 5 at that level: SA-1 has no enhancements,
# and SC-7(2) was withdrawn into SC-7.
_NIST_CONTROL = re.compile(r"^[A-Z]{2}-\d{1,2}(\(\d{1,2}\))?")
_NIST_NOT_IN_REV5 = {"SA-1(1)": "SA-1", "SC-7(2)": "SC-7"}
AWS_PAIRS = [(identifier, framework, source, ids)
             for identifier, frameworks in AWS_PUBLISHED.items() for framework, (source, ids) in frameworks.items()]


def _our_id(framework: str, aws_id: str) -> str:
    if framework != "nist":
        return aws_id
    match = _NIST_CONTROL.match(aws_id)
    assert match, aws_id
    return _NIST_NOT_IN_REV5.get(aws_id, match.group(0))


def test_nist_statement_ids_count_as_their_control() -> None:
    assert [_our_id("nist", i) for i in ["AC-2g", "AC-3(3)(b)(1)", "SI-1a.2", "SC-7(24)(b)", "SC-28(1)", "IA-2"]] \
        == ["AC-2", "AC-3(3)", "SI-1", "SC-7(24)", "SC-28(1)", "IA-2"]
    assert _our_id("nist", "SC-7(2)") == "SC-7" and _our_id("hipaa", "164.312(c)(1)") == "164.312(c)(1)"


@pytest.mark.parametrize("identifier, framework, source, aws_ids", AWS_PAIRS,
                         ids=[f"{i}-{f}" for i, f, _, _ in AWS_PAIRS])
def test_managed_rules_map_at_least_the_controls_aws_maps_them_to(identifier: str, framework: str, source: str,
                                                                  aws_ids: list[str]) -> None:
    name = next(m["name"] for m in MANAGED_RULES if m["identifier"] == identifier)
    mapped = {c["id"]: c for c in compliance.mapping(framework)["entries"][name].get("controls", [])}
    catalog = compliance.catalog_controls(framework)
    wanted = list(dict.fromkeys(_our_id(framework, aws_id) for aws_id in aws_ids))
    assert [c for c in wanted if c not in catalog] == [], f"{framework} catalog lacks controls AWS maps {identifier} to"
    assert [c for c in wanted if c not in mapped] == [], f"{name} lacks {framework} controls AWS maps {identifier} to"
    # Each of those mappings says where it came from.
    assert [c for c in wanted if not mapped[c]["rationale"].endswith(source)] == []


def test_aws_mappings_are_recorded_for_every_managed_rule() -> None:
    assert set(AWS_PUBLISHED) == {m["identifier"] for m in MANAGED_RULES}
