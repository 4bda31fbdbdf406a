"""AWS Audit Manager: a custom framework whose controls collect the pack's AWS Config results.

``evidence audit-manager FRAMEWORK --output FILE`` writes one JSON file holding, for one of HIPAA,
PCI DSS, SOC 2 or NIST 800-53 (rules/catalog/compliance/):

- ``controls``: one CreateControl request body per mapped requirement (a catalog control that at
  least one pack entry maps to), with one ``AWS_Config`` data source per entry mapped to it, and a
  ``placeholder_id`` each;
- ``create_assessment_framework``: the CreateAssessmentFramework request body, its control sets the
  catalog's groups (HIPAA sections, PCI DSS requirements, TSC categories, NIST families), each
  control named by its placeholder.

Audit Manager gives a control its id only when CreateControl creates it, so the framework cannot
name real ids in advance: each placeholder is a UUID of the right form (uuid5 of the control, stable
from run to run) that the import replaces with the id CreateControl returned (docs/evidence.md,
"AWS Audit Manager", shows the commands). Every request body is checked against botocore's
``auditmanager`` model (members, required members, types, lengths, patterns, enums) before the
file is written; moto has no Audit Manager, so nothing here calls it.

Keywords (``sourceKeyword.keywordValue``), as AWS's API reference for SourceKeyword gives them
(https://docs.aws.amazon.com/audit-manager/latest/APIReference/API_SourceKeyword.html):

- an AWS managed rule: its rule identifier in capitals (``CLOUD_TRAIL_ENCRYPTION_ENABLED``);
- a custom rule: ``Custom_`` and the rule's name;
- a service-linked rule, which is what a conformance pack creates (Config names it
  ``<name>-conformance-pack-<suffix>``): ``Custom_`` and the name without its suffix ID, e.g.
  ``Custom_transcribe-ai-opt-out-conformance-pack`` (the page's example:
  CustomRuleForAccount-conformance-pack-szsm1uv0w -> Custom_CustomRuleForAccount-conformance-pack).

Our custom rules and process checks are deployed by the conformance pack (``deployed_as="pack"``,
the default) or, with ``"rules"``, as standalone Config rules named after the rule (rdk_config/).
Managed rules keep their identifier either way: that is the form the page gives for managed rules.
Whether Audit Manager's list of supported managed-rule keywords holds each of the pack's
identifiers was not verified here.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from transcribe_guard.compliance import FRAMEWORK_NAMES, FRAMEWORKS, catalog, catalog_controls, mapped_controls
from transcribe_guard.scan import UsageError

FORMAT = "transcribe-guard audit-manager framework v1"
KEYWORD_SOURCE = "https://docs.aws.amazon.com/audit-manager/latest/APIReference/API_SourceKeyword.html"
DEPLOYED_AS = ("pack", "rules")
COMPLIANCE_TYPES = {"hipaa": "HIPAA", "pci": "PCI DSS", "soc2": "SOC 2", "nist": "NIST SP 800-53"}
_NAMESPACE = uuid.UUID("6f1c1e52-3c2f-5b7e-9a55-7472616e7363")  # placeholders: uuid5(this, "framework control")


class AuditManagerError(UsageError, ValueError):
    """A framework or option the command cannot build from."""


def keyword(entry: dict[str, Any], deployed_as: str = "pack") -> str:
    """The keywordValue that makes Audit Manager collect ``entry``'s Config results."""
    if entry["kind"] == "managed":
        return str(entry["identifier"])
    from transcribe_guard.deploy import PACK_RULE_SUFFIX  # Config's "<name>-conformance-pack-<suffix>"

    return f"Custom_{entry['name']}{PACK_RULE_SUFFIX.rstrip('-') if deployed_as == 'pack' else ''}"


def pack_entries() -> dict[str, dict[str, Any]]:
    """Registry name -> name, kind, identifier (managed rules) and remediation."""
    from rules.catalog.pack_entries import MANAGED_RULES, PROCESS_CHECKS
    from rules.catalog.registry import RULES

    found = {name: {"name": name, "kind": "custom", "remediation": cls.METADATA["remediation"]}
             for name, cls in RULES.items()}
    found.update({m["name"]: {"name": m["name"], "kind": "managed", "identifier": m["identifier"],
                              "remediation": f"See AWS managed rule {m['identifier']}: {m['regions_source']}"}
                  for m in MANAGED_RULES})
    found.update({p["name"]: {"name": p["name"], "kind": "process", "remediation": p["description"]}
                  for p in PROCESS_CHECKS})
    return found


def _fit(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, cut at a word with an ellipsis when it is longer."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit - 1].rsplit(" ", 1)[0]
    return cut + "…"


def _no(characters: str, text: str) -> str:
    """Names whose model pattern forbids some characters (backslash; underscore in control sets)."""
    return re.sub(f"[{re.escape(characters)}]", "-", text)


def build(framework: str, deployed_as: str = "pack") -> dict[str, Any]:
    """The file's document: controls (CreateControl bodies) and the framework (CreateAssessmentFramework body)."""
    if framework not in FRAMEWORKS:
        raise AuditManagerError(f"audit-manager {framework}: choose one of {', '.join(FRAMEWORKS)}.")
    if deployed_as not in DEPLOYED_AS:
        raise AuditManagerError(f"--deployed-as {deployed_as}: choose one of {', '.join(DEPLOYED_AS)}.")
    entries, controls_in_catalog = pack_entries(), catalog_controls(framework)
    title = FRAMEWORK_NAMES[framework]
    by_control: dict[str, list[tuple[dict[str, Any], str]]] = {}
    for name, mapped in mapped_controls(framework).items():
        for control in mapped:
            by_control.setdefault(control["id"], []).append((entries[name], control["rationale"]))
    controls: list[dict[str, Any]] = []
    sets: dict[str, list[str]] = {}
    for control_id, record in controls_in_catalog.items():  # catalog order
        if control_id not in by_control:
            continue
        rules = sorted(by_control[control_id], key=lambda pair: list(entries).index(pair[0]["name"]))
        placeholder = str(uuid.uuid5(_NAMESPACE, f"{framework} {control_id}"))
        names = ", ".join(e["name"] for e, _ in rules)
        body = {
            "name": _fit(_no("\\", f"transcribe-guard {COMPLIANCE_TYPES[framework]} {control_id} {record['title']}"), 300),
            "description": _fit(f"{title} {control_id}: {record['title'].rstrip('.')}. Evidenced by the AWS Config "
                                f"results of the transcribe-guard conformance pack entries {names}.", 1000),
            "testingInformation": _fit("Audit Manager collects each data source's AWS Config compliance results. "
                                       + " ".join(f"{e['name']}: {why}" for e, why in rules), 1000),
            "actionPlanTitle": _fit(f"Fix what the transcribe-guard rules for {control_id} find non-compliant", 300),
            "actionPlanInstructions": _fit(" ".join(f"{e['name']}: {e['remediation']}" for e, _ in rules), 1000),
            "controlMappingSources": [{
                "sourceName": _fit(e["name"], 300),
                "sourceDescription": _fit(why, 1000),
                "sourceSetUpOption": "System_Controls_Mapping",
                "sourceType": "AWS_Config",
                "sourceKeyword": {"keywordInputType": "SELECT_FROM_LIST", "keywordValue": keyword(e, deployed_as)},
            } for e, why in rules],
        }
        controls.append({"control": control_id, "placeholder_id": placeholder, "rules": [e["name"] for e, _ in rules],
                         "create_control": body})
        sets.setdefault(record.get("group") or title, []).append(placeholder)
    source = catalog(framework)["source"]
    framework_body = {
        "name": _fit(f"transcribe-guard {title}", 300),
        "description": _fit(f"{title} ({source['version']}) requirements that the transcribe-guard conformance pack "
                            "evidences, each control collecting the AWS Config results of the pack's rules mapped to "
                            "it. Generated by `transcribe-guard evidence audit-manager`.", 1000),
        "complianceType": COMPLIANCE_TYPES[framework],
        "controlSets": [{"name": _fit(_no("\\_", group), 300), "controls": [{"id": i} for i in ids]}
                        for group, ids in sets.items()],
    }
    return {"format": FORMAT, "framework": framework, "deployed_as": deployed_as, "keyword_source": KEYWORD_SOURCE,
            "catalog": source, "controls": controls, "create_assessment_framework": framework_body}


# --- validation against botocore's model (the check the simulator runs on its responses) ---------------

def problems(document: dict[str, Any]) -> list[str]:
    """Everything in the file that botocore's model refuses, and placeholders that do not line up."""
    from transcribe_guard.simulator.shapes import service_model, validate

    model = service_model("auditmanager")
    found: list[str] = []
    for index, control in enumerate(document["controls"]):
        found += validate(model.operation_model("CreateControl").input_shape, control["create_control"],
                          f"controls[{index}].create_control")
    framework = document["create_assessment_framework"]
    found += validate(model.operation_model("CreateAssessmentFramework").input_shape, framework,
                      "create_assessment_framework")
    placeholders = [c["placeholder_id"] for c in document["controls"]]
    sets = framework.get("controlSets") if isinstance(framework, dict) else None
    used = [c.get("id") for s in (sets if isinstance(sets, list) else []) if isinstance(s, dict)
            for c in (s.get("controls") if isinstance(s.get("controls"), list) else []) if isinstance(c, dict)]
    if sorted(placeholders) != sorted(used) or len(set(placeholders)) != len(placeholders):
        found.append("create_assessment_framework: its control ids are not exactly the controls' placeholder_ids")
    return found


def render(document: dict[str, Any]) -> str:
    problems_found = problems(document)
    if problems_found:  # a bug here, never the user's input: the mapping files are validated on their own
        raise ValueError("the Audit Manager requests break botocore's model: " + "; ".join(problems_found[:5]))
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
