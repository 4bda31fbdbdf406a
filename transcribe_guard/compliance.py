"""Control mappings: every registry entry (custom rules, AWS managed rules, process checks) mapped
to HIPAA Security Rule, PCI DSS v4.0.1, SOC 2 (2017 TSC) and NIST SP 800-53 rev. 5 controls.

Data lives with the rules, Prowler style, one file per framework:

- ``rules/catalog/compliance/<framework>.json``: ``entries`` maps each registry entry's name to either
  ``{"controls": [{"id", "rationale"}]}`` or ``{"not_applicable": "<reason>"}``;
- ``rules/catalog/compliance/catalogs/<framework>.json``: the framework's control ids and titles, naming
  the source document and version; every mapped id must be in it;
- ``rules/catalog/compliance/mapping.schema.json`` and ``catalog.schema.json`` validate both.

Rules stay framework-agnostic: a rule module never names a control.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

FRAMEWORKS: tuple[str, ...] = ("hipaa", "pci", "soc2", "nist")
FRAMEWORK_NAMES = {"hipaa": "HIPAA Security Rule", "pci": "PCI DSS v4.0.1", "soc2": "SOC 2 (2017 TSC)",
                   "nist": "NIST SP 800-53 Rev. 5"}
# What a control id of each framework looks like (checked on the catalogs and, through them, the mappings).
ID_PATTERNS = {
    "hipaa": re.compile(r"^164\.3(08|10|12|16)(\([a-z0-9]+\))+(\([A-E]\))?$"),
    "pci": re.compile(r"^\d{1,2}(\.\d{1,2}){0,3}$"),
    "soc2": re.compile(r"^(CC[1-9]|C1|A1|PI1|P[1-8])\.\d{1,2}$"),
    "nist": re.compile(r"^[A-Z]{2}-\d{1,2}(\(\d{1,2}\))?$"),
}
PRACTICES = {
    1: "Data protection", 2: "Private network path", 3: "PII redaction", 4: "IAM roles",
    5: "Tag-based access control", 6: "Monitoring", 7: "AWS Config",
}
ENTRY_KINDS = ("custom", "managed", "process")


@dataclass(frozen=True)
class Entry:
    """One thing the conformance pack holds, as the evidence names it."""
    name: str
    kind: str  # custom | managed | process
    title: str
    practice: int


def registry_entries() -> list[Entry]:
    """Custom rules, AWS managed rules and process checks, in pack order."""
    from rules.catalog.pack_entries import MANAGED_RULES, PROCESS_CHECKS
    from rules.catalog.registry import RULES

    entries = [Entry(name, "custom", cls.METADATA["title"], cls.METADATA["practice"]) for name, cls in RULES.items()]
    entries += [Entry(m["name"], "managed", f"AWS managed rule {m['identifier']}", m["practice"]) for m in MANAGED_RULES]
    entries += [Entry(p["name"], "process", p["description"], p["practice"]) for p in PROCESS_CHECKS]
    return entries


def _read(path: str) -> Any:
    return json.loads(resources.files("rules.catalog").joinpath("compliance", *path.split("/")).read_text(encoding="utf-8"))


def mapping_schema() -> dict[str, Any]:
    schema: dict[str, Any] = _read("mapping.schema.json")
    return schema


def catalog_schema() -> dict[str, Any]:
    schema: dict[str, Any] = _read("catalog.schema.json")
    return schema


@lru_cache(maxsize=None)
def _catalog_raw(framework: str) -> str:
    return json.dumps(_read(f"catalogs/{framework}.json"))


@lru_cache(maxsize=None)
def _mapping_raw(framework: str) -> str:
    return json.dumps(_read(f"{framework}.json"))


def catalog(framework: str) -> dict[str, Any]:
    """The framework's catalog document (source, controls)."""
    data: dict[str, Any] = json.loads(_catalog_raw(framework))
    return data


def catalog_controls(framework: str) -> dict[str, dict[str, Any]]:
    """Control id -> catalog record, in catalog order."""
    return {control["id"]: control for control in catalog(framework)["controls"]}


def mapping(framework: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_mapping_raw(framework))
    return data


def problems(framework: str, entry_names: list[str] | None = None) -> list[str]:
    """Everything wrong with one framework's mapping and catalog, as messages a rule author can act
    on: schema errors, ids missing from the catalog or of the wrong shape, mapped names that are
    not registry entries, and registry entries without a mapping."""
    import jsonschema

    found: list[str] = []
    cat, mapped = catalog(framework), mapping(framework)
    for document, schema, label in ((cat, catalog_schema(), f"catalogs/{framework}.json"),
                                    (mapped, mapping_schema(), f"{framework}.json")):
        for error in jsonschema.Draft202012Validator(schema).iter_errors(document):
            where = "/".join(map(str, error.absolute_path)) or "<root>"
            found.append(f"rules/catalog/compliance/{label}: {where}: {error.message}")
    if found:
        return found
    ids = [control["id"] for control in cat["controls"]]
    for duplicate in sorted({i for i in ids if ids.count(i) > 1}):
        found.append(f"rules/catalog/compliance/catalogs/{framework}.json: control {duplicate} is listed twice.")
    for control_id in ids:
        if not ID_PATTERNS[framework].match(control_id):
            found.append(f"rules/catalog/compliance/catalogs/{framework}.json: {control_id!r} is not a {framework} control id.")
    if cat["framework"] != framework or mapped["framework"] != framework:
        found.append(f"rules/catalog/compliance: the {framework} files name another framework.")
    known = set(ids)
    names = entry_names if entry_names is not None else [e.name for e in registry_entries()]
    for name, entry in mapped["entries"].items():
        if name not in names:
            found.append(f"rules/catalog/compliance/{framework}.json: {name} is not a rule, managed rule or process check "
                         "in the registry (renamed or removed? move or delete its mapping).")
        for control in entry.get("controls", []):
            if control["id"] not in known:
                found.append(f"rules/catalog/compliance/{framework}.json: {name}: control {control['id']} is not in "
                             f"catalogs/{framework}.json ({cat['source']['document'][:60]}...).")
        control_ids = [c["id"] for c in entry.get("controls", [])]
        for duplicate in sorted({i for i in control_ids if control_ids.count(i) > 1}):
            found.append(f"rules/catalog/compliance/{framework}.json: {name} maps {duplicate} twice.")
    for name in names:
        if name not in mapped["entries"]:
            found.append(missing_message(framework, name))
    return found


def missing_message(framework: str, name: str) -> str:
    return (f"rules/catalog/compliance/{framework}.json has no mapping for {name}: add "
            f'"{name}": {{"controls": [{{"id": "<{FRAMEWORK_NAMES[framework]} id from catalogs/{framework}.json>", '
            f'"rationale": "<one line: why this rule evidences the control>"}}]}} '
            f'or {{"not_applicable": "<one line: why no {FRAMEWORK_NAMES[framework]} control applies>"}}.')


def mapped_controls(framework: str) -> dict[str, list[dict[str, str]]]:
    """Entry name -> [{"id", "title", "rationale"}] (empty for not-applicable or unmapped entries)."""
    controls = catalog_controls(framework)
    result: dict[str, list[dict[str, str]]] = {}
    for name, entry in mapping(framework)["entries"].items():
        result[name] = [{"id": c["id"], "title": controls.get(c["id"], {}).get("title", ""), "rationale": c["rationale"]}
                        for c in entry.get("controls", [])]
    return result


def not_applicable(framework: str) -> dict[str, str]:
    """Entry name -> reason, for entries marked not applicable to the framework."""
    return {name: entry["not_applicable"] for name, entry in mapping(framework)["entries"].items()
            if "not_applicable" in entry}


MAPPINGS_BEGIN = "<!-- BEGIN COMPLIANCE MAPPINGS (generated by `transcribe-guard build`; do not edit) -->"
MAPPINGS_END = "<!-- END COMPLIANCE MAPPINGS -->"


def reference_markdown() -> str:
    """The mapping table of docs/rules/README.md: every registry entry's controls per framework, and the catalogs."""
    header = ["Pack entry", *(FRAMEWORK_NAMES[f] for f in FRAMEWORKS)]
    lines = [MAPPINGS_BEGIN, "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    mapped = {f: mapping(f)["entries"] for f in FRAMEWORKS}
    for entry in registry_entries():
        cells = []
        for framework in FRAMEWORKS:
            record = mapped[framework].get(entry.name)
            if record is None:
                cells.append("**missing**")
            elif "not_applicable" in record:
                cells.append("n/a: " + record["not_applicable"].replace("|", "\\|"))
            else:
                cells.append(", ".join(c["id"] for c in record["controls"]))
        lines.append(f"| `{entry.name}` ({entry.kind}) | " + " | ".join(cells) + " |")
    lines += ["", "Catalogs (control ids and titles every mapping is validated against):", ""]
    for framework in FRAMEWORKS:
        source = catalog(framework)["source"]
        lines.append(f"- `rules/catalog/compliance/catalogs/{framework}.json`: {source['document'].split(' (')[0]}, "
                     f"{source['version']} ({source['publisher']}), {len(catalog(framework)['controls'])} entries.")
    lines += ["", MAPPINGS_END]
    return "\n".join(lines)
