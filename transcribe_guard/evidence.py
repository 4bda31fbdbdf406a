"""Evidence bundles: the pack's results, mapped to framework controls, written for an auditor.

A bundle is a folder (or a zip of one) holding

- ``evidence.json``: collection metadata, per-rule status, every result and per-framework,
  per-control status; validated against ``transcribe_guard/schemas/evidence.schema.json``;
- ``evidence.csv``: one row per control x rule x resource;
- ``report.html``: the same for a person (see report.py);
- ``report.pdf``: report.html printed by headless Chromium (report_pdf.py), when Chromium is found;
  the manifest's ``report_pdf`` says whether it was printed, or why not;
- ``manifest.json``: SHA-256 and size of every file, the collection time, who collected, the
  accounts, Regions and period in scope, pack version, the rule code's version (SHA-256 of the
  deterministic Lambda code package) and each deployed function's CodeSha256 and Version, plus
  the SHA-256 of the manifest's own canonical content. ``verify`` fails on any changed byte;
- ``manifest.sig`` (with ``--sign-key``): the manifest's KMS signature (evidence_signing.py).

Results come from AWS Config (the deployed pack's rules, all pages of
GetComplianceDetailsByConfigRule per rule, so NOT_APPLICABLE results are included; rules without
results are INSUFFICIENT_DATA), from a fresh local scan, or from a saved ``scan --format json``.

Bundles carry only what the rules' annotations say: rule, resource type and id, compliance,
annotation and times, plus each resource's name (resource_names.py: from its ARN, or IAM's and
KMS's listings) and the registry's severity, practice and remediation of its rule. Nothing else
is read from the account (no tags, objects or transcripts), and the pack's input parameters,
which can hold tag values, are not copied.
"""

from __future__ import annotations

import csv
import datetime as dt
import errno
import hashlib
import io
import json
import lzma
import os
import re
import stat
import struct
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, Sequence

from transcribe_guard import evidence_provenance as provenance
from transcribe_guard import report_pdf, resource_names
from transcribe_guard.compliance import FRAMEWORKS, PRACTICES, registry_entries
from transcribe_guard.evidence_signing import (MAX_SIGNATURE_FILE_BYTES, SIGNATURE_FILE, Signer, TrustAnchor,
                                               check_signature)
from transcribe_guard.output_safety import csv_cell, json_text
from transcribe_guard.scan import UsageError

SCHEMA_VERSION = "1.0"
MANIFEST = "manifest.json"
BUNDLE_FILES = ("evidence.json", "evidence.csv", "report.html")
OPTIONAL_FILES = (report_pdf.PDF_NAME,)  # report.pdf when Chromium printed it; the manifest's report_pdf says
RESULT_TYPES = ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE")
STATUS_ORDER = ("NON_COMPLIANT", "INSUFFICIENT_DATA", "COMPLIANT")
CSV_COLUMNS = ("Framework", "Control ID", "Control Title", "Control Status", "Config Rule", "Rule Kind", "Severity",
               "Practice", "Mapping Rationale", "Resource Type", "Resource ID", "Resource Kind", "Resource Name",
               "Compliance", "Annotation", "Remediation", "Result Recorded (UTC)", "Account", "Region")
# IAM actions `evidence --from config` needs (asserted by a test that records every call): the
# results, and the resource names beside them (resource_names.py).
CONFIG_ACTIONS = ("config:DescribeConformancePackCompliance", "config:GetComplianceDetailsByConfigRule",
                  "config:ListConformancePackComplianceScores", "sts:GetCallerIdentity",
                  *provenance.PROVENANCE_ACTIONS, *resource_names.NAME_ACTIONS)
AGGREGATOR_SOURCE = "aggregator:"
# ConfigurationAggregatorName in botocore's config model: 1-256 characters of [\w\-].
AGGREGATOR_NAME = re.compile(r"^[\w\-]{1,256}$", re.ASCII)


class EvidenceError(UsageError, ValueError):
    """Input the bundle cannot be built from (reported as a usage error)."""


@dataclass
class Collected:
    source: str  # config | scan | file | aggregator
    source_detail: str
    account: str | None
    region: str | None
    pack_name: str | None = None
    config_score: str | None = None
    # rule (registry name), resource_type, resource_id, compliance, annotation, recorded_at (ISO, UTC)
    results: list[dict[str, str]] = field(default_factory=list)
    config_rule_names: dict[str, str] = field(default_factory=dict)  # registry name -> name in Config
    notes: dict[str, str] = field(default_factory=dict)  # registry name -> why it has no results
    collected_by: str | None = None  # sts:GetCallerIdentity Arn; None for a saved file
    # The pack's deployed functions (evidence_provenance); None when no deployed function ran.
    functions: list[dict[str, Any]] | None = None
    functions_note: str = ""
    names: dict[str, dict[str, Any]] = field(default_factory=dict)  # "TYPE ID" -> resource_names.lookup()


# --- time --------------------------------------------------------------------------------------

def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _as_datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(value, dt.timezone.utc)
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


@dataclass(frozen=True)
class Period:
    start: dt.date | None
    end: dt.date | None  # inclusive

    def contains(self, moment: dt.datetime) -> bool:
        day = moment.astimezone(dt.timezone.utc).date()
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)

    def as_json(self) -> dict[str, str | None]:
        return {"start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None}


def parse_period(text: str) -> Period:
    """``START..END`` with ISO dates (either side may be empty); END is inclusive, in UTC."""
    start_text, sep, end_text = text.partition("..")
    if not sep or not (start_text or end_text):
        raise EvidenceError(f"--period {text}: expected START..END with ISO dates, e.g. 2025-01-01..2025-03-31.")
    try:
        start = dt.date.fromisoformat(start_text) if start_text else None
        end = dt.date.fromisoformat(end_text) if end_text else None
    except ValueError:
        raise EvidenceError(f"--period {text}: dates must be ISO dates (YYYY-MM-DD).") from None
    if start and end and start > end:
        raise EvidenceError(f"--period {text}: the start is after the end.")
    return Period(start, end)


# --- collection --------------------------------------------------------------------------------

ProgressFn = Callable[[int, int, int], None]  # (rules done, rules total, results so far or -1)


def _base_rule_name(name: str) -> str:
    from transcribe_guard.deploy import base_rule_name
    return base_rule_name(name)


def collect_from_config(session: Any, pack_name: str, progress: ProgressFn | None = None) -> Collected:
    """Every result AWS Config holds for the pack's rules, all pages."""
    config = session.client("config")
    identity = session.client("sts").get_caller_identity()
    account = identity["Account"]
    rule_names: list[str] = []
    kwargs: dict[str, Any] = {"ConformancePackName": pack_name}
    while True:
        page = config.describe_conformance_pack_compliance(**kwargs)
        rule_names += [row["ConfigRuleName"] for row in page["ConformancePackRuleComplianceList"]]
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    # Two Config rules with one base name would share a rule's results while provenance checks one
    # function: fail closed before collecting anything.
    seen: dict[str, str] = {}
    for config_rule in rule_names:
        other = seen.setdefault(_base_rule_name(config_rule), config_rule)
        if other != config_rule:
            raise EvidenceError(f"conformance pack {pack_name}: Config rules {other} and {config_rule} are both "
                                f"{_base_rule_name(config_rule)}; cannot tell which one's results are the pack's.")
    collected = Collected("config", f"AWS Config conformance pack {pack_name}", account, session.region_name, pack_name)
    for index, config_rule in enumerate(rule_names):
        name = _base_rule_name(config_rule)
        collected.config_rule_names[name] = config_rule
        request: dict[str, Any] = {"ConfigRuleName": config_rule, "ComplianceTypes": list(RESULT_TYPES), "Limit": 100}
        while True:
            page = config.get_compliance_details_by_config_rule(**request)
            for result in page["EvaluationResults"]:
                qualifier = result["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
                collected.results.append({
                    "rule": name, "resource_type": qualifier["ResourceType"], "resource_id": qualifier["ResourceId"],
                    "compliance": result["ComplianceType"], "annotation": result.get("Annotation", ""),
                    "recorded_at": iso(_as_datetime(result["ResultRecordedTime"])),
                })
            if progress:
                progress(index, len(rule_names), len(collected.results))
            if not page.get("NextToken"):
                break
            request["NextToken"] = page["NextToken"]
        if not any(r["rule"] == name for r in collected.results):
            collected.notes[name] = "AWS Config holds no result for this rule."
        if progress:
            progress(index + 1, len(rule_names), len(collected.results))
    scores = config.list_conformance_pack_compliance_scores(
        Filters={"ConformancePackNames": [pack_name]})["ConformancePackComplianceScores"]
    collected.config_score = scores[0]["Score"] if scores else None
    collected.collected_by = identity["Arn"]
    collected.functions = provenance.deployed_functions(session, collected.config_rule_names, rule_code_sha256())
    collected.names = resource_names.lookup(session, collected.results)
    return collected


def collect_from_scan(session: Any, rule_names: Sequence[str], parameters: dict[str, dict[str, Any]],
                      now: dt.datetime, progress: ProgressFn | None = None) -> Collected:
    """A fresh local scan (scan.run_scan: the rules' own code, one shared inventory); each result
    counts as recorded when the scan evaluated it (its ``evaluated_at``)."""
    from transcribe_guard.scan import run_scan

    identity = session.client("sts").get_caller_identity()
    account = identity["Account"]

    def on_rule(message: str) -> None:  # run_scan reports "[i/n] rule" as it starts each rule
        match = re.match(r"\[(\d+)/(\d+)\]", message)
        if match and progress:
            progress(int(match.group(1)) - 1, int(match.group(2)), -1)

    results = run_scan(rule_names, parameters, on_rule)
    if progress:
        progress(len(rule_names), len(rule_names), len(results))
    collected = Collected("scan", "local scan (transcribe-guard scan)", account, session.region_name,
                          collected_by=identity["Arn"], functions_note=provenance.NO_FUNCTIONS_SCAN)
    collected.results = [{**{k: row[k] for k in ("rule", "resource_type", "resource_id", "compliance", "annotation")},
                          "recorded_at": row.get("evaluated_at") or iso(now)} for row in results]
    collected.names = resource_names.lookup(session, collected.results)
    return collected


def collect_from_aggregator(session: Any, aggregator: str, pack_name: str, now: dt.datetime,
                            progress: ProgressFn | None = None) -> Collected:
    """Every result of the pack in every account and Region of a Config aggregator
    (aggregate.read_view: all pages, only the rules the pack created)."""
    from transcribe_guard.aggregate import read_view

    identity = session.client("sts").get_caller_identity()
    if progress:
        progress(0, 1, -1)
    view = read_view(session.client("config"), aggregator, pack_name)
    pairs = sorted(set(view.packs) | set(view.by_pair))
    collected = Collected("aggregator", f"AWS Config aggregator {aggregator}, conformance pack {pack_name} in "
                          f"{len(pairs)} account/Region pairs", identity["Account"], session.region_name, pack_name,
                          collected_by=identity["Arn"], functions_note=provenance.NO_FUNCTIONS_AGGREGATOR)
    collected.results = [{**row, "recorded_at": row["recorded_at"] or iso(now)} for row in view.results]
    for names in view.rule_names.values():
        for base in names:
            collected.config_rule_names[base] = f"{base}-conformance-pack-<suffix> (per account and Region)"
    for row in view.results:  # rules reported only as "Could not evaluate" still belong to the pack
        collected.config_rule_names.setdefault(row["rule"], f"{row['rule']}-conformance-pack-<suffix>")
    for base in view.rules:
        if not any(r["rule"] == base for r in view.results):
            collected.notes[base] = "AWS Config holds no result for this rule in any account and Region of the aggregator."
    # Names from the resources' ids only: the results belong to other accounts than this session's.
    collected.names = resource_names.lookup(None, collected.results, offline=resource_names.OTHER_ACCOUNTS)
    if progress:
        progress(1, 1, len(collected.results))
    return collected


def check_source(source: str, demo: bool) -> None:
    """``--from``: config, scan or a saved scan's file (not with the demo account)."""
    if source.startswith(AGGREGATOR_SOURCE):
        name = source[len(AGGREGATOR_SOURCE):]
        if not AGGREGATOR_NAME.match(name):
            raise EvidenceError(f"--from {source}: the aggregator name must be 1-256 letters, digits, _ or -.")
        if demo:
            raise EvidenceError("--demo works with --from config or --from scan, not with an aggregator.")
        return
    if source not in ("config", "scan"):
        if demo:
            raise EvidenceError("--demo works with --from config or --from scan, not with a saved file.")
        if not Path(source).is_file():
            raise EvidenceError(f"--from {source}: not config, scan or an existing file (a saved `scan --format json`).")


def collect(source: str, pack_name: str, parameters: dict[str, dict[str, Any]], now: dt.datetime,
            progress: ProgressFn | None = None) -> Collected:
    """From the pack's results in AWS Config (``config``), a fresh local scan of the rules in
    ``parameters`` (``scan``), or a saved scan (a file)."""
    if source not in ("config", "scan") and not source.startswith(AGGREGATOR_SOURCE):
        return collect_from_file(Path(source), now)
    from transcribe_guard.scan import aws_session

    session = aws_session()
    if source.startswith(AGGREGATOR_SOURCE):
        return collect_from_aggregator(session, source[len(AGGREGATOR_SOURCE):], pack_name, now, progress)
    if source == "config":
        return collect_from_config(session, pack_name, progress)
    return collect_from_scan(session, list(parameters), parameters, now, progress)


_ARN_ACCOUNT = re.compile(r"^arn:[^:]+:[^:]*:([^:]*):(\d{12}):")


def collect_from_file(path: Path, now: dt.datetime) -> Collected:
    """A saved ``scan --format json``; each result counts as recorded at its scan time
    (``evaluated_at``, which every saved result carries). Account and region come from the
    results' own ``account`` and ``region`` and from the resources' ARNs when they agree."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise EvidenceError(f"--from {path}: cannot read the file ({error.strerror}).") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise EvidenceError(f"--from {path}: not valid JSON ({error}).") from None
    rows = data.get("evaluations") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise EvidenceError(f"--from {path}: expected the output of `transcribe-guard scan --format json` "
                            '({"evaluations": [...], "summary": {...}}).')
    known = {entry.name for entry in registry_entries()}
    results: list[dict[str, str]] = []
    for index, row in enumerate(rows):
        if not isinstance(row, dict) or not all(isinstance(row.get(k), str) for k in
                                                ("rule", "resource_type", "resource_id", "compliance")):
            raise EvidenceError(f"--from {path}: evaluations[{index}] lacks rule, resource_type, resource_id or "
                                "compliance.")
        if row["rule"] not in known:
            raise EvidenceError(f"--from {path}: evaluations[{index}]: unknown rule {row['rule']!r} (saved by another "
                                "version of transcribe-guard?).")
        if row["compliance"] not in RESULT_TYPES:
            raise EvidenceError(f"--from {path}: evaluations[{index}]: compliance {row['compliance']!r} is not one of "
                                f"{', '.join(RESULT_TYPES)}.")
        results.append({"rule": row["rule"], "resource_type": row["resource_type"], "resource_id": row["resource_id"],
                        "compliance": row["compliance"], "annotation": str(row.get("annotation") or ""),
                        "recorded_at": _scan_time(path, index, row.get("evaluated_at"))})
    places = {m.groups() for m in (_ARN_ACCOUNT.match(r["resource_id"]) for r in results) if m}
    regions = {region for region, _ in places if region} | {r["region"] for r in rows if isinstance(r.get("region"), str)}
    accounts = {account for _, account in places} | {r["account"] for r in rows if isinstance(r.get("account"), str)}
    collected = Collected("file", f"saved scan {path.name}", accounts.pop() if len(accounts) == 1 else None,
                          regions.pop() if len(regions) == 1 else None, functions_note=provenance.NO_FUNCTIONS_FILE)
    collected.results = results
    collected.names = resource_names.lookup(None, results)
    return collected


def _scan_time(path: Path, index: int, value: Any) -> str:
    """A saved result's ``evaluated_at`` (ISO 8601 UTC to the second, as scan writes it)."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", value):
        raise EvidenceError(f"--from {path}: evaluations[{index}] has no scan time (evaluated_at, e.g. "
                            "2026-03-14T15:09:26Z); save the scan again with this transcribe-guard.")
    try:
        _as_datetime(value)
    except ValueError:
        raise EvidenceError(f"--from {path}: evaluations[{index}]: evaluated_at {value!r} is not a time.") from None
    return value


# --- the evidence document ---------------------------------------------------------------------

def _status(results: Iterable[dict[str, str]]) -> str:
    """A rule's status as Config summarizes it: NON_COMPLIANT if any resource is, COMPLIANT if some
    are and none is not, otherwise INSUFFICIENT_DATA (no result, or only NOT_APPLICABLE)."""
    kinds = {r["compliance"] for r in results}
    if "NON_COMPLIANT" in kinds:
        return "NON_COMPLIANT"
    return "COMPLIANT" if "COMPLIANT" in kinds else "INSUFFICIENT_DATA"


def _worst(statuses: Iterable[str]) -> str:
    seen = set(statuses)
    for status in STATUS_ORDER:
        if status in seen:
            return status
    return "INSUFFICIENT_DATA"


def _counts(results: Iterable[dict[str, str]]) -> dict[str, int]:
    counts = {"compliant": 0, "non_compliant": 0, "not_applicable": 0}
    for row in results:
        counts[row["compliance"].lower()] += 1
    return counts


def _scores_by(results: list[dict[str, Any]], collected: "Collected", key: str) -> list[dict[str, Any]]:
    """Counts and score per account (``key`` "account") or per Region ("region"): a result names its
    own (an aggregator's do) or else is the collection's."""
    default = collected.account if key == "account" else collected.region
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in results:
        groups.setdefault(str(row.get(key) or default or "unknown"), []).append(row)
    out = []
    for name in sorted(groups):
        counts = _counts(groups[name])
        out.append({key: name, "score": score(counts["compliant"], counts["non_compliant"]),
                    "evaluations": len(groups[name]), **counts})
    return out


def score(compliant: int, non_compliant: int) -> float | None:
    """Config's compliance score: compliant rule-resource combinations over compliant plus
    non-compliant ones, a percentage with two decimals; None when there is neither."""
    total = compliant + non_compliant
    return round(100.0 * compliant / total, 2) if total else None


def pack_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("transcribe-guard")
    except PackageNotFoundError:  # running from a source tree that was never installed
        import configparser
        parser = configparser.ConfigParser()
        parser.read(Path(__file__).resolve().parent.parent / "setup.cfg")
        return parser.get("metadata", "version", fallback="unknown")


def rule_code_sha256() -> str:
    from transcribe_guard.package import build_zip
    return hashlib.sha256(build_zip()).hexdigest()


def pack_template_sha256() -> str:
    from transcribe_guard.generate import conformance_pack_yaml
    return hashlib.sha256(conformance_pack_yaml().encode("utf-8")).hexdigest()


def build_evidence(collected: Collected, frameworks: Sequence[str], period: Period | None,
                   now: dt.datetime, allow_empty: bool = False) -> dict[str, Any]:
    """The evidence.json document (validated against the schema by write_bundle). A period that
    holds no result is refused unless ``allow_empty``; then the bundle's notices say so first."""
    from transcribe_guard import compliance

    results = [r for r in collected.results if period is None or period.contains(_as_datetime(r["recorded_at"]))]
    notices = _notices(collected, period, results, allow_empty)
    results.sort(key=lambda r: (r["rule"], r["resource_type"], r["resource_id"], r.get("account", ""),
                                r.get("region", "")))
    guide = resource_names.guidance()
    # An aggregator's results each name their account and Region (other sources: the collection's).
    results = [{**resource_names.readable(r, collected.names, guide),
                **{k: r[k] for k in ("account", "region") if collected.source == "aggregator" and k in r}}
               for r in results]
    entries = registry_entries()
    known = {entry.name for entry in entries}
    by_rule: dict[str, list[dict[str, str]]] = {}
    for row in results:
        by_rule.setdefault(row["rule"], []).append(row)

    rules: list[dict[str, Any]] = []
    extra = [name for name in collected.config_rule_names if name not in known]
    for entry in entries + [compliance.Entry(name, "other", name, 0) for name in extra]:
        rows = by_rule.get(entry.name, [])
        note = ""
        if not rows:
            from_config = collected.source in ("config", "aggregator")
            if from_config and entry.name not in collected.config_rule_names and entry.name not in collected.notes:
                note = f"Not in the deployed pack {collected.pack_name}."
            elif not from_config and entry.kind != "custom":
                note = ("AWS managed rule: AWS Config evaluates it, a local scan cannot." if entry.kind == "managed"
                        else "Process check: a person records it in AWS Config.")
            elif not from_config:
                note = "No result in the scan (no resources, or skipped for missing parameters)."
            else:
                note = collected.notes.get(entry.name, "No result.")
            if period is not None and any(r["rule"] == entry.name for r in collected.results):
                note = "No result recorded in the period."
        rules.append({
            "name": entry.name, "kind": entry.kind, "title": entry.title,
            "practice": entry.practice or None, "practice_name": PRACTICES.get(entry.practice),
            "config_rule_name": collected.config_rule_names.get(entry.name),
            "severity": guide.get(entry.name, {}).get("severity"),
            "remediation": guide.get(entry.name, {}).get("remediation", "Not a rule of this pack."),
            "status": _status(rows), **_counts(rows), "note": note,
        })
    status_of = {rule["name"]: rule["status"] for rule in rules}
    totals = _counts(results)

    by_practice = []
    for number, practice_name in PRACTICES.items():
        names = {rule["name"] for rule in rules if rule["practice"] == number}
        counts = _counts(r for r in results if r["rule"] in names)
        by_practice.append({"practice": number, "name": practice_name, "rules": len(names), **counts})

    framework_docs = []
    for framework in frameworks:
        catalog = compliance.catalog(framework)
        order = list(compliance.catalog_controls(framework))
        mapped = compliance.mapped_controls(framework)
        controls: dict[str, dict[str, Any]] = {}
        for entry in entries:
            for control in mapped.get(entry.name, []):
                record = controls.setdefault(control["id"], {"id": control["id"], "title": control["title"], "rules": []})
                record["rules"].append({"rule": entry.name, "rationale": control["rationale"],
                                        "status": status_of[entry.name]})
        control_list = []
        for control_id in sorted(controls, key=lambda c: order.index(c) if c in order else len(order)):
            record = controls[control_id]
            names = {r["rule"] for r in record["rules"]}
            record["status"] = _worst(r["status"] for r in record["rules"])
            record.update(_counts(r for r in results if r["rule"] in names))
            control_list.append(record)
        na = compliance.not_applicable(framework)
        framework_docs.append({
            "id": framework, "title": catalog["title"], "source": catalog["source"],
            "status": _worst(c["status"] for c in control_list),
            "controls_by_status": {s: sum(1 for c in control_list if c["status"] == s) for s in STATUS_ORDER},
            "controls": control_list,
            "not_applicable": [{"rule": e.name, "reason": na[e.name]} for e in entries if e.name in na],
            "unmapped": [e.name for e in entries if e.name not in mapped and e.name not in na],
        })

    return {
        "schema_version": SCHEMA_VERSION,
        "generator": {"name": "transcribe-guard", "version": pack_version()},
        "collection": {
            "collected_at": iso(now), "source": collected.source, "source_detail": collected.source_detail,
            "account": collected.account, "region": collected.region, "pack_name": collected.pack_name,
            "pack_version": pack_version(), "rule_code_sha256": rule_code_sha256(),
            "pack_template_sha256": pack_template_sha256(),
            "period": period.as_json() if period else None, "frameworks": list(frameworks),
            "config_reported_score": collected.config_score,
            **_scope(collected, results),
            "notices": notices,
        },
        "summary": {
            "score": score(totals["compliant"], totals["non_compliant"]),
            "evaluations": len(results), **totals,
            "rules_by_status": {s: sum(1 for r in rules if r["status"] == s) for s in STATUS_ORDER},
            "by_practice": by_practice,
            # One bundle over an organization (--from aggregator:NAME): a score per account and per Region.
            "by_account": _scores_by(results, collected, "account"),
            "by_region": _scores_by(results, collected, "region"),
        },
        "rules": rules,
        "results": results,
        "frameworks": framework_docs,
    }


def _period_text(period: Period) -> str:
    as_json = period.as_json()
    return f"{as_json['start'] or ''}..{as_json['end'] or ''}"


def _notices(collected: Collected, period: Period | None, results: list[dict[str, str]],
             allow_empty: bool) -> list[str]:
    """Sentences report.html and the summary show first: an empty period, code that is not the package."""
    notices: list[str] = []
    if period is not None and not results:
        if not allow_empty:
            held = f" ({len(collected.results)} results outside it)" if collected.results else ""
            raise EvidenceError(f"--period {_period_text(period)}: no result of {collected.source_detail} was recorded "
                                f"in the period{held}; give --allow-empty to write an empty bundle anyway.")
        notices.append(f"EMPTY: no result was recorded in the period {_period_text(period)} (written with "
                       "--allow-empty); this bundle evidences nothing for it.")
    wrong = provenance.mismatches(collected.functions or [])
    if wrong:
        notices.append(f"CODE MISMATCH: {len(wrong)} deployed function(s) do not run the rule code package "
                       f"(rule_code_sha256): {', '.join(wrong)}.")
    return notices


def _scope(collected: Collected, results: list[dict[str, str]]) -> dict[str, Any]:
    """Who collected, the accounts and Regions in scope, and the deployed functions."""
    accounts = sorted({m.group(2) for m in (_ARN_ACCOUNT.match(r["resource_id"]) for r in results) if m}
                      | ({collected.account} if collected.account else set()))
    regions = sorted({m.group(1) for m in (_ARN_ACCOUNT.match(r["resource_id"]) for r in results) if m and m.group(1)}
                     | ({collected.region} if collected.region else set()))
    return {"collected_by": collected.collected_by, "accounts": accounts, "regions": regions,
            "deployed_functions": collected.functions, "deployed_functions_note": collected.functions_note,
            "code_mismatches": provenance.mismatches(collected.functions or [])}


def evidence_schema() -> dict[str, Any]:
    text = resources.files("transcribe_guard").joinpath("schemas", "evidence.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def validate_evidence(evidence: dict[str, Any]) -> None:
    import jsonschema
    jsonschema.Draft202012Validator(evidence_schema()).validate(evidence)


# --- files -------------------------------------------------------------------------------------

def render_csv(evidence: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    collection = evidence["collection"]
    rules = {rule["name"]: rule for rule in evidence["rules"]}
    by_rule: dict[str, list[dict[str, str]]] = {}
    for row in evidence["results"]:
        by_rule.setdefault(row["rule"], []).append(row)
    for framework in evidence["frameworks"]:
        for control in framework["controls"]:
            for mapped in control["rules"]:
                rule = rules[mapped["rule"]]
                practice = f"{rule['practice']}. {rule['practice_name']}" if rule["practice"] else ""
                head = [framework["title"], control["id"], control["title"], control["status"], rule["name"],
                        rule["kind"], rule["severity"] or "not rated", practice, mapped["rationale"]]
                rows = by_rule.get(rule["name"], [])
                if not rows:
                    writer.writerow([csv_cell(v) for v in head + ["", "", "", "", "INSUFFICIENT_DATA", rule["note"],
                                                               rule["remediation"], "", "", ""]])
                for row in rows:
                    writer.writerow([csv_cell(v) for v in head + [
                        row["resource_type"], row["resource_id"], row["resource_kind"],
                        row["resource_name"] or row["resource_name_note"], row["compliance"], row["annotation"],
                        row["remediation"], row["recorded_at"], row.get("account", collection["account"] or ""),
                        row.get("region", collection["region"] or "")]])
    return buffer.getvalue()


def _canonical(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode("ascii")


def _manifest_hash(manifest: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical({k: v for k, v in manifest.items() if k != "manifest_sha256"})).hexdigest()


def bundle_files(evidence: dict[str, Any], signer: Signer | None = None, pdf: bool = True) -> dict[str, bytes]:
    """File name -> bytes for the whole bundle, manifest included (and its signature with ``signer``);
    report.pdf too when ``pdf`` and Chromium prints it (the manifest's ``report_pdf`` says whether it
    was printed, and if not why)."""
    from transcribe_guard.report import render_html

    validate_evidence(evidence)
    files = {
        # Readable non-ASCII, but control, bidi and zero-width characters as \uXXXX (output_safety).
        "evidence.json": (json_text(evidence, indent=2) + "\n").encode("utf-8"),
        "evidence.csv": render_csv(evidence).encode("utf-8-sig"),  # BOM: spreadsheets then read UTF-8
        "report.html": render_html(evidence).encode("utf-8"),
    }
    printed, pdf_note = report_pdf.print_pdf(files["report.html"]) if pdf else (None, "not printed: not requested")
    if printed is not None:
        files[report_pdf.PDF_NAME] = printed
    collection = evidence["collection"]
    manifest: dict[str, Any] = {
        "manifest_version": 1,
        "generator": f"transcribe-guard {evidence['generator']['version']}",
        "collected_at": collection["collected_at"], "account": collection["account"], "region": collection["region"],
        "source": collection["source"], "pack_name": collection["pack_name"],
        "pack_version": collection["pack_version"], "rule_code_sha256": collection["rule_code_sha256"],
        "pack_template_sha256": collection["pack_template_sha256"], "period": collection["period"],
        "frameworks": collection["frameworks"], "collected_by": collection["collected_by"],
        "accounts": collection["accounts"], "regions": collection["regions"],
        "deployed_functions": None if collection["deployed_functions"] is None else [
            {k: f[k] for k in ("rule", "function_arn", "version", "code_sha256", "matches_package")}
            for f in collection["deployed_functions"]],
        "deployed_functions_note": collection["deployed_functions_note"],
        "code_mismatches": collection["code_mismatches"],
        "signature": signer.manifest_block() if signer else None, "report_pdf": pdf_note,
        "files": [{"name": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
                  for name, data in files.items()],
    }
    manifest["manifest_sha256"] = _manifest_hash(manifest)
    files[MANIFEST] = _canonical(manifest)
    if signer:
        files[SIGNATURE_FILE] = signer.sign(files[MANIFEST])
    return files


def _members(present: Sequence[str]) -> tuple[str, ...]:
    """A bundle's files in their zip order: the fixed ones, report.pdf when printed, the manifest,
    and its signature when signed."""
    return (*BUNDLE_FILES, *[n for n in OPTIONAL_FILES if n in present], MANIFEST,
            *((SIGNATURE_FILE,) if SIGNATURE_FILE in present else ()))


def _write_zip(target: Any, folder: str, when: dt.datetime,
               contents: Callable[[str], tuple[int, Iterable[bytes]]], present: Sequence[str] = ()) -> None:
    """Deterministic: stored entries in a fixed order with fixed metadata, so verify can rebuild
    the archive from its contents and compare every byte. ``contents(name)`` gives a file's size
    and its bytes in chunks, so verify rebuilds without holding a file whole."""
    stamp = when.astimezone(dt.timezone.utc).timetuple()[:6]
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in _members(present):
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=stamp)
            info.create_system = 3
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_STORED
            size, chunks = contents(name)
            info.file_size = size  # what ZipFile.writestr sets before it writes (it picks zip64 from it)
            with archive.open(info, "w") as entry:
                for chunk in chunks:
                    entry.write(chunk)


def _zip_bytes(folder: str, files: dict[str, bytes], when: dt.datetime) -> bytes:
    buffer = io.BytesIO()
    _write_zip(buffer, folder, when, lambda name: (len(files[name]), [files[name]]), list(files))
    return buffer.getvalue()


class Written(tuple):  # type: ignore[type-arg]
    """(path, SHA-256 of manifest.json), and ``pdf_note``: whether report.pdf was printed, or why not."""
    pdf_note: str


def write_bundle(evidence: dict[str, Any], destination: Path, as_zip: bool = False,
                 signer: Signer | None = None, pdf: bool = True) -> Written:
    """Write the bundle; returns its path and the SHA-256 of manifest.json (to record elsewhere)."""
    path = destination if not as_zip or destination.suffix == ".zip" else destination.with_name(destination.name + ".zip")
    if path.exists() and (as_zip or not path.is_dir() or any(path.iterdir())):
        raise EvidenceError(f"--output {path}: exists; evidence is never overwritten, choose another path.")
    files = bundle_files(evidence, signer, pdf)
    written = Written((path, hashlib.sha256(files[MANIFEST]).hexdigest()))
    written.pdf_note = json.loads(files[MANIFEST])["report_pdf"]
    if as_zip:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_zip_bytes(path.stem, files, _as_datetime(evidence["collection"]["collected_at"])))
        return written
    path.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (path / name).write_bytes(data)
    return written


# --- verify ------------------------------------------------------------------------------------
#
# A bundle to verify may have been built to hurt the verifier: members that are symbolic links
# out of the bundle, FIFOs, zip entries with link mode bits or ../ names, a member whose declared
# size is small but which inflates to gigabytes, a central directory of millions of entries.
# verify follows no link, opens only regular files, checks each member's size against the
# manifest before reading it, hashes in chunks and rebuilds the zip into a comparison instead of
# memory, so what it holds at any time is a few chunks, whatever the bundle.

CHUNK_BYTES = 1 << 20
MAX_MANIFEST_BYTES = 1 << 20  # a bundle's manifest is under 2 KB
MAX_FOLDER_ENTRIES = 1000  # a bundle holds four files; past this, entries are counted, not named
# zipfile reads the whole central directory and makes an object per entry: a bundle's is four
# entries, well under 1 KB. The end-of-central-directory record is 22 bytes, a comment at most 64 KiB.
MAX_ZIP_ENTRIES = 64
MAX_CENTRAL_DIRECTORY_BYTES = 64 * 1024
_END_OF_CENTRAL_DIRECTORY = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR_BYTES = 20
# What reading a hostile member can raise: zipfile's own errors, a decompressor's, or the OS's.
_READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, RuntimeError,
                NotImplementedError, struct.error, zlib.error, lzma.LZMAError)


@dataclass
class Verification:
    ok: bool  # every file matches the manifest (and the signature, when an anchor checked it)
    lines: list[str]
    authenticated: bool = False  # a trust anchor (--public-key, --kms-key) checked a valid signature
    signed: bool = False  # the bundle holds a signature (checked or not)


class _Rejected(Exception):
    """A member verify will not read; the message says why."""


def _zip_end_record(handle: IO[bytes], path: Path) -> None:
    """Refuse, before zipfile parses it, a central directory larger than a bundle's. The end of
    central directory record (PKWARE APPNOTE.TXT 4.3.16,
    https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT) gives the entry count and the
    directory's size; a zip64 locator (4.3.15) just before it would replace both, and a bundle
    never needs zip64."""
    size = handle.seek(0, os.SEEK_END)
    start = max(size - _END_OF_CENTRAL_DIRECTORY.size - 0xFFFF, 0)
    handle.seek(start)
    tail = handle.read(size - start)
    # As zipfile finds it: a record at the very end (no comment), else the last signature.
    at = len(tail) - _END_OF_CENTRAL_DIRECTORY.size
    if at < 0 or tail[at:at + 4] != b"PK\x05\x06" or tail[-2:] != b"\0\0":
        at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _END_OF_CENTRAL_DIRECTORY.size:
        return  # not a zip: zipfile says so
    fields = _END_OF_CENTRAL_DIRECTORY.unpack_from(tail, at)
    entries, directory_bytes = fields[4], fields[5]
    zip64 = at >= _ZIP64_LOCATOR_BYTES and tail[at - _ZIP64_LOCATOR_BYTES:at - _ZIP64_LOCATOR_BYTES + 4] == b"PK\x06\x07"
    if zip64 or entries > MAX_ZIP_ENTRIES or directory_bytes > MAX_CENTRAL_DIRECTORY_BYTES:
        raise EvidenceError(f"{path}: not an evidence bundle: its zip directory lists "
                            f"{'a zip64 archive' if zip64 else f'{entries} entries in {directory_bytes:,} bytes'} "
                            f"(a bundle is {len(BUNDLE_FILES) + 1} files).")


def _entry_problem(info: zipfile.ZipInfo) -> str | None:
    """Why a zip entry is no bundle file, or None."""
    name = info.orig_filename
    parts = re.split(r"[/\\]", name)
    mode = info.external_attr >> 16
    if "\0" in name:
        return "a NUL byte in its name"
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "an absolute path"
    if ".." in parts:
        return "a '..' in its path"
    if info.create_system == 3 and stat.S_ISLNK(mode):
        return "a symbolic link"
    if info.is_dir() or (info.create_system == 3 and stat.S_ISDIR(mode)):
        return "a folder"
    if info.create_system == 3 and stat.S_IFMT(mode) not in (0, stat.S_IFREG):
        return "a special file (FIFO, socket or device)"
    return None


def _open_regular(path: Path) -> IO[bytes]:
    """``path`` opened for reading if it is a regular file and not a link: O_NOFOLLOW refuses a
    link in the open itself and fstat judges what was opened, so nothing swapped in after the
    listing is read (O_NONBLOCK: opening a FIFO would otherwise wait for a writer)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise _Rejected("a symbolic link; verify follows no link out of the bundle") from None
        raise _Rejected(f"unreadable: {error.strerror}") from None
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise _Rejected("not a regular file")
    return os.fdopen(descriptor, "rb")


class _Bundle:
    """A folder or zip as verify sees it: the members it may read, by name (the zip's top folder
    taken off), the names it will not read and why, and the check of the zip archive itself."""

    def __init__(self, path: Path):
        self.path = path
        self.readable: dict[str, Any] = {}  # name -> a folder's file name or a zip's ZipInfo
        self.rejected: dict[str, str] = {}  # name -> why it is not read
        self.uncounted = 0  # folder entries past MAX_FOLDER_ENTRIES
        self.archive: zipfile.ZipFile | None = None
        self.folder = ""
        if path.is_dir():
            self._list_folder()
        elif path.is_file():
            self._list_zip()
        else:
            raise EvidenceError(f"{path}: neither an evidence folder nor a zip (a special file).")

    def _list_folder(self) -> None:
        with os.scandir(self.path) as entries:
            for entry in entries:
                if len(self.readable) + len(self.rejected) >= MAX_FOLDER_ENTRIES:
                    self.uncounted += 1
                elif entry.is_symlink():
                    self.rejected[entry.name] = "a symbolic link; verify follows no link out of the bundle"
                elif entry.is_dir(follow_symlinks=False):
                    self.rejected[entry.name + "/"] = "a folder"
                elif not entry.is_file(follow_symlinks=False):
                    self.rejected[entry.name] = "a special file (FIFO, socket or device)"
                else:
                    self.readable[entry.name] = entry.name

    def _list_zip(self) -> None:
        try:
            with self.path.open("rb") as handle:
                _zip_end_record(handle, self.path)
            self.archive = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError) as error:
            raise EvidenceError(f"{self.path}: neither an evidence folder nor a readable zip ({error}).") from None
        infos = self.archive.infolist()
        problems = {id(info): _entry_problem(info) for info in infos}
        # The bundle's folder: the one top folder of the entries that could be bundle files.
        folders = {info.orig_filename.split("/", 1)[0] for info in infos if problems[id(info)] is None}
        self.folder = folders.pop() if len(folders) == 1 else ""
        for info in infos:
            name = info.orig_filename
            if self.folder and name.startswith(self.folder + "/"):
                name = name[len(self.folder) + 1:] or name  # the top folder's own entry keeps its name
            problem = problems[id(info)]
            if name in self.readable or name in self.rejected:
                self.readable.pop(name, None)
                problem = "two entries of that name in the zip"
            if problem:
                self.rejected[name] = problem
            else:
                self.readable[name] = info

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()

    @contextmanager
    def open(self, name: str) -> Iterator[tuple[int, IO[bytes]]]:
        """(size, stream) of a readable member; the size is known before any byte is read."""
        member = self.readable[name]
        if self.archive is None:
            stream = _open_regular(self.path / member)
            size = os.fstat(stream.fileno()).st_size
        else:
            try:
                stream = self.archive.open(member)
            except _READ_ERRORS as error:  # encrypted, an unknown compression method, a bad header
                raise _Rejected(f"unreadable in the zip: {error}") from None
            size = member.file_size
        with stream:
            yield size, stream

    def chunks(self, name: str) -> Iterator[bytes]:
        with self.open(name) as (_, stream):
            while chunk := stream.read(CHUNK_BYTES):
                yield chunk

    def container(self, manifest: dict[str, Any], sizes: dict[str, int]) -> list[str]:
        """For a zip: rebuilt from its (verified) files, it must be byte for byte what it is."""
        if self.archive is None:
            return []
        with self.path.open("rb") as original:
            comparison = _Comparison(original)
            try:
                _write_zip(comparison, self.folder, _as_datetime(manifest["collected_at"]),
                           lambda name: (sizes[name], self.chunks(name)), list(sizes))
            except (KeyError, TypeError, ValueError, OverflowError, _Rejected, *_READ_ERRORS):
                return ["CHANGED the zip archive (it does not hold exactly the bundle's files)"]
            if not comparison.matches():
                return ["CHANGED the zip archive itself (headers or layout differ from what transcribe-guard wrote; "
                        "the files inside are checked separately)"]
        return []


class _Comparison:
    """A seekable sink for zipfile that compares each write with the original archive's bytes at
    the same offset and keeps only where they differed: the rebuilt archive is never held.
    zipfile writes each local header twice (before the data, then with the CRC): a later equal
    write over the same span clears an earlier difference."""

    def __init__(self, original: IO[bytes]):
        self.original = original
        self.position = 0
        self.end = 0
        self.differs: dict[int, int] = {}  # offset -> length of a write that differed

    def write(self, data: bytes) -> int:
        data = bytes(data)
        self.original.seek(self.position)
        if self.original.read(len(data)) == data:
            if self.differs.get(self.position, len(data) + 1) <= len(data):
                del self.differs[self.position]
        else:
            self.differs[self.position] = max(len(data), self.differs.get(self.position, 0))
        self.position += len(data)
        self.end = max(self.end, self.position)
        return len(data)

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        self.position = {os.SEEK_SET: 0, os.SEEK_CUR: self.position, os.SEEK_END: self.end}[whence] + offset
        return self.position

    def seekable(self) -> bool:
        return True

    def flush(self) -> None:
        pass

    def matches(self) -> bool:
        return not self.differs and self.end == self.original.seek(0, os.SEEK_END)


def _sha256(stream: IO[bytes], limit: int) -> tuple[str, int]:
    """SHA-256 and length of ``stream``, read in chunks and never past ``limit`` + 1 bytes."""
    digest, total = hashlib.sha256(), 0
    while total <= limit and (chunk := stream.read(min(CHUNK_BYTES, limit + 1 - total))):
        digest.update(chunk)
        total += len(chunk)
    return digest.hexdigest(), total


def _read_manifest(bundle: _Bundle, name: str = MANIFEST, limit: int = MAX_MANIFEST_BYTES,
                   what: str = "a manifest") -> tuple[bytes | None, str | None]:
    """(the manifest's (or signature file's) bytes, or None and the line that says why not)."""
    if name in bundle.rejected:
        return None, f"CHANGED {name} ({bundle.rejected[name]})"
    if name not in bundle.readable:
        return None, f"MISSING {name}"
    try:
        with bundle.open(name) as (size, stream):
            if size > limit:
                return None, f"CHANGED {name} ({size:,} bytes; {what} is at most {limit:,})"
            data = stream.read(limit + 1)
    except _Rejected as error:
        return None, f"CHANGED {name} ({error})"
    except _READ_ERRORS as error:
        return None, f"CHANGED {name} (unreadable: {error})"
    if len(data) > limit:
        return None, f"CHANGED {name} (larger than its zip entry says)"
    return data, None


def _check_member(bundle: _Bundle, name: str, item: dict[str, Any]) -> str:
    """The line for one file the manifest lists: its size is checked before a byte is read."""
    if name in bundle.rejected:
        return f"CHANGED {name} ({bundle.rejected[name]})"
    if name not in bundle.readable:
        return f"MISSING {name}"
    expected = item.get("bytes")
    if not isinstance(expected, int) or isinstance(expected, bool) or expected < 0:
        return f"CHANGED {name} (the manifest gives no size for it)"
    try:
        with bundle.open(name) as (size, stream):
            if size != expected:
                return f"CHANGED {name} ({size:,} bytes; the manifest says {expected:,})"
            digest, total = _sha256(stream, expected)
    except _Rejected as error:
        return f"CHANGED {name} ({error})"
    except _READ_ERRORS as error:  # e.g. a CRC mismatch, a corrupt compressed stream
        return f"CHANGED {name} (unreadable in the zip: {error})"
    if total != expected or digest != item.get("sha256"):
        return f"CHANGED {name}"
    return f"OK {name}  sha256 {digest}"


def _failed(lines: list[str]) -> bool:
    return any(line.startswith(("CHANGED", "MISSING", "UNEXPECTED")) for line in lines)


def verify_bundle(path: Path, manifest_sha256: str | None = None, anchor: TrustAnchor | None = None) -> Verification:
    """Check a bundle (folder or zip) against its manifest; any changed, missing or extra byte fails.
    With ``anchor`` its signature is checked too, and an unsigned bundle fails."""
    if not path.exists():
        raise EvidenceError(f"{path}: no such evidence folder or zip.")
    bundle = _Bundle(path)
    try:
        return _verify(bundle, manifest_sha256, anchor)
    finally:
        bundle.close()


def _verify(bundle: _Bundle, manifest_sha256: str | None, anchor: TrustAnchor | None = None) -> Verification:
    lines: list[str] = []
    raw_manifest, problem = _read_manifest(bundle)
    if raw_manifest is None:
        return Verification(False, [problem or f"MISSING {MANIFEST}"] + _unexpected(bundle, {*BUNDLE_FILES, *OPTIONAL_FILES}))
    if manifest_sha256 is not None and hashlib.sha256(raw_manifest).hexdigest() != manifest_sha256.lower():
        lines.append(f"CHANGED {MANIFEST} (its SHA-256 is not the one recorded at collection)")
    try:
        manifest = json.loads(raw_manifest.decode("ascii"))
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
            raise ValueError("not a manifest")
    except (UnicodeDecodeError, ValueError, RecursionError):
        return Verification(False, lines + [f"CHANGED {MANIFEST} (not a readable manifest)"])
    if _canonical(manifest) != raw_manifest or manifest.get("manifest_sha256") != _manifest_hash(manifest):
        lines.append(f"CHANGED {MANIFEST} (its content differs from what was written)")
    listed: dict[str, dict[str, Any]] = {}
    for item in manifest["files"]:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            listed[item["name"]] = item
    lines += [_check_member(bundle, name, item) for name, item in listed.items()]
    lines += _unexpected(bundle, set(listed))
    if set(listed) - set(OPTIONAL_FILES) != set(BUNDLE_FILES):
        lines.append(f"CHANGED {MANIFEST} (it does not list exactly {', '.join(BUNDLE_FILES)}, and "
                     f"{report_pdf.PDF_NAME} when printed)")
    if (report_pdf.PDF_NAME in listed) != str(manifest.get("report_pdf", "")).startswith("printed"):
        lines.append(f"CHANGED {MANIFEST} (its report_pdf does not match whether it lists {report_pdf.PDF_NAME})")
    signature_file: bytes | None = None
    if SIGNATURE_FILE in bundle.readable or SIGNATURE_FILE in bundle.rejected:
        signature_file, problem = _read_manifest(bundle, SIGNATURE_FILE, MAX_SIGNATURE_FILE_BYTES, "a signature file")
        if signature_file is None:
            lines.append(problem or f"CHANGED {SIGNATURE_FILE}")
    signed = signature_file is not None
    authenticated = False
    if not _failed(lines):  # a signature over a manifest that does not match its files proves nothing
        signature_lines, authenticated = check_signature(manifest, raw_manifest, signature_file, anchor)
        lines += signature_lines
    if not _failed(lines):
        sizes = {name: item["bytes"] for name, item in listed.items()}
        sizes[MANIFEST] = len(raw_manifest)
        if signature_file is not None:
            sizes[SIGNATURE_FILE] = len(signature_file)
        lines += bundle.container(manifest, sizes)
    ok = not _failed(lines)
    return Verification(ok, lines, ok and authenticated, signed)


def _unexpected(bundle: _Bundle, listed: set[str]) -> list[str]:
    """Lines for what the bundle holds beyond its manifest and the files it lists."""
    lines = [f"UNEXPECTED {name}" for name in sorted(set(bundle.readable) - listed - {MANIFEST, SIGNATURE_FILE})]
    lines += [f"UNEXPECTED {name} ({why})" for name, why in sorted(bundle.rejected.items())
              if name not in listed and name not in (MANIFEST, SIGNATURE_FILE)]
    if bundle.uncounted:
        lines.append(f"UNEXPECTED {bundle.uncounted:,} more entries")
    return lines


# --- the command line's choices -------------------------------------------------------------------

def default_output(account: str | None, now: dt.datetime) -> Path:
    return Path("evidence") / f"transcribe-guard-evidence-{account or 'unknown'}-{now.strftime('%Y%m%dT%H%M%SZ')}"


def frameworks_or_all(chosen: Sequence[str] | None) -> list[str]:
    for framework in chosen or []:
        if framework not in FRAMEWORKS:
            raise EvidenceError(f"--framework {framework}: choose from {', '.join(FRAMEWORKS)}.")
    return list(dict.fromkeys(chosen)) if chosen else list(FRAMEWORKS)
