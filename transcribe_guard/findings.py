"""Scan results as findings: each result of ``scan.run_scan`` enriched with what the rule registry
and the compliance mappings say about its rule, and given a ``status``.

``enrich(result)`` is pure: it reads only the result and the (static) registry and mappings, never
the account, and returns a new dict; the JSON and CSV renderers use it, and the findings formats
(OCSF, ASFF) can build on its records. An enriched record holds every key of
``render.RESULT_FIELDS`` unchanged plus:

- ``status``: COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE, ERROR or MUTED. ERROR is a result the rule
  could not judge: AWS Config's verdict stays NON_COMPLIANT in ``compliance`` (fail closed, see
  rules/engine/base.py ``could_not_evaluate``), but it is not a finding about the resource.
  MUTED is a NON_COMPLIANT finding that a mutelist entry accepted (``transcribe_guard/mutelist.py``);
- ``mute_reason``: the entry's reason for a MUTED result, "" otherwise;
- ``severity`` (low|medium|high|critical), ``practice`` (1-7), ``practice_name``, ``title`` and
  ``remediation``: the rule's registry record;
- ``controls``: framework -> the control ids the rule is mapped to (``[]`` where the framework's
  mapping marks the rule not applicable), for hipaa, pci, soc2 and nist.

CSV holds one cell per column: ``controls_cell`` writes the controls as
``hipaa:164.312(b);pci:10.2.1;...`` (framework:id pairs joined by ``;``, in framework then mapping order).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

from transcribe_guard.compliance import FRAMEWORKS, PRACTICES, mapped_controls

STATUSES = ("NON_COMPLIANT", "ERROR", "MUTED", "COMPLIANT", "NOT_APPLICABLE")
SEVERITIES = ("low", "medium", "high", "critical")
# What every "could not judge" annotation starts with: TranscribeGuardRule.could_not_evaluate and the
# run-level failures of evaluate_periodic (rules/engine/base.py) all write "Could not evaluate: ...".
COULD_NOT_EVALUATE = "Could not evaluate:"
# The keys enrich adds, in CSV column order after render.RESULT_FIELDS.
ENRICHED_FIELDS = ("status", "mute_reason", "severity", "practice", "practice_name", "title", "remediation", "controls")


def status_of(result: Mapping[str, Any]) -> str:
    """The result's status before any mutelist: ERROR for a NON_COMPLIANT result whose annotation
    says it could not be evaluated, otherwise the Config verdict."""
    compliance = str(result["compliance"])
    if compliance == "NON_COMPLIANT" and str(result.get("annotation") or "").startswith(COULD_NOT_EVALUATE):
        return "ERROR"
    return compliance


@lru_cache(maxsize=None)
def _rule_controls(rule: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((framework, tuple(c["id"] for c in mapped_controls(framework).get(rule, [])))
                 for framework in FRAMEWORKS)


def controls_of(rule: str) -> dict[str, list[str]]:
    """Framework -> control ids the rule is mapped to (empty where none is)."""
    return {framework: list(ids) for framework, ids in _rule_controls(rule)}


def frameworks_of(rule: str) -> list[str]:
    """The frameworks with at least one control mapped to the rule."""
    return [framework for framework, ids in _rule_controls(rule) if ids]


# The one row a scan gives an account and Region it could not scan at all (scan.UNSCANNED_RULE): no
# rule ran, so it has no rule's record. It stands for every rule, so it takes the highest severity
# any rule has, practice 0 ("all practices") and no mapped control (it is evidence of nothing).
UNSCANNED_RULE = "(all rules)"
UNSCANNED_RECORD: dict[str, Any] = {
    "title": "Account and Region could not be scanned",
    "description": "No rule could run for this account and Region: its role could not be assumed or the Region "
                   "could not be reached.",
    "practice": 0,
    "remediation": "Let the scanning principal assume the member role in the account (its trust policy) and reach "
                   "the Region, then scan again.",
}
PRACTICE_NAMES: dict[int, str] = {0: "all practices", **PRACTICES}


def rule_metadata(name: str) -> dict[str, Any]:
    """The registry record of rule ``name`` (title, description, severity, practice, remediation),
    or UNSCANNED_RECORD for the row of an account and Region that could not be scanned. KeyError for
    any other name."""
    from rules.catalog.registry import RULES

    if name == UNSCANNED_RULE:
        worst = max((cls.METADATA["severity"] for cls in RULES.values()), key=SEVERITIES.index)
        return {**UNSCANNED_RECORD, "severity": worst}
    return dict(RULES[name].METADATA)


def enrich(result: Mapping[str, Any], mute_reason: str | None = None) -> dict[str, Any]:
    """``result`` with its status, its rule's severity, practice, title, remediation and mapped
    controls. ``mute_reason`` (from a matching mutelist entry) makes a NON_COMPLIANT result MUTED;
    it never changes a result of any other status (an ERROR was not judged, so there is nothing to
    accept). A result naming a rule the registry does not hold is a KeyError."""
    meta = rule_metadata(str(result["rule"]))
    status = status_of(result)
    muted = mute_reason is not None and status == "NON_COMPLIANT"
    return {**result,
            "status": "MUTED" if muted else status,
            "mute_reason": mute_reason if muted else "",
            "severity": meta["severity"],
            "practice": meta["practice"],
            "practice_name": PRACTICE_NAMES[meta["practice"]],
            "title": meta["title"],
            "remediation": meta["remediation"],
            "controls": controls_of(str(result["rule"]))}


def controls_cell(controls: Mapping[str, list[str]]) -> str:
    """The compact one-cell form of ``controls`` for CSV."""
    return ";".join(f"{framework}:{control}" for framework in FRAMEWORKS for control in controls.get(framework, []))


def csv_record(record: Mapping[str, Any]) -> dict[str, str]:
    """An enriched record with every value as text (controls in their compact form)."""
    return {key: controls_cell(value) if key == "controls" else str(value) for key, value in record.items()}


# --- rules: what `transcribe-guard rules` lists and what --severity and --framework select ----------

def at_least(severity: str) -> tuple[str, ...]:
    """The severities from ``severity`` up (``--severity medium``: medium, high, critical)."""
    return SEVERITIES[SEVERITIES.index(severity):]


def select_rules(names: list[str], min_severity: str | None, frameworks: list[str] | None) -> list[str]:
    """``names`` (in order) whose severity is at least ``min_severity`` and that are mapped to a
    control of at least one of ``frameworks`` (None: no such condition)."""
    from rules.catalog.registry import RULES

    wanted = at_least(min_severity) if min_severity else SEVERITIES
    return [name for name in names if RULES[name].METADATA["severity"] in wanted
            and (not frameworks or set(frameworks) & set(frameworks_of(name)))]


def rule_records() -> list[dict[str, Any]]:
    """One record per rule, in pack order: name, title, practice, severity, resource kinds, and the
    frameworks and controls it is mapped to."""
    from rules.catalog.registry import RULES

    return [{"name": name, "title": cls.METADATA["title"], "practice": cls.METADATA["practice"],
             "practice_name": PRACTICES[cls.METADATA["practice"]], "severity": cls.METADATA["severity"],
             "resource_kinds": list(cls.METADATA["resource_kinds"]), "frameworks": frameworks_of(name),
             "controls": controls_of(name)} for name, cls in RULES.items()]
