"""report.html: the evidence bundle for a person, in one self-contained file.

No network fetches: CSS, JavaScript and the SVG charts are inline, and a Content-Security-Policy
(``default-src 'none'``, the one style and the one script allowed by their SHA-256) makes the
browser refuse anything else, including script smuggled in through an annotation. The page is a
Jinja2 template (report_templates/report.html, with its report.css and report.js) rendered with
autoescape on and StrictUndefined: every value from evidence.json is HTML-escaped, and first its
control, bidi and zero-width characters are shown as escapes (output_safety.visible, the
environment's ``finalize``). Values are data, never template source: ``{{ }}`` in a job name is
shown as typed. The page reads without JavaScript (the table and charts are rendered here); the
script only sorts and filters the resource table.

Numbers the page shows carry ``data-*`` attributes with the same values as evidence.json, which
the browser test compares.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from typing import Any

import jinja2

from transcribe_guard.output_safety import visible

COLORS = {"COMPLIANT": "#1a7f37", "NON_COMPLIANT": "#cf222e", "NOT_APPLICABLE": "#8c959f",
          "INSUFFICIENT_DATA": "#9a6700"}
LABELS = {"COMPLIANT": "Compliant", "NON_COMPLIANT": "Non-compliant", "NOT_APPLICABLE": "Not applicable",
          "INSUFFICIENT_DATA": "Insufficient data"}
SORT_RANK = {"NON_COMPLIANT": "0", "COMPLIANT": "1", "NOT_APPLICABLE": "2"}
SEVERITY_RANK = {"critical": "0", "high": "1", "medium": "2", "low": "3", None: "4"}


def severity_label(severity: str | None) -> str:
    """A rule's severity as the report shows it; AWS managed rules and process checks have none."""
    return severity.capitalize() if severity else "Not rated"

TEMPLATES = "report_templates"  # package data (setup.cfg); transcribe_guard/templates/ holds CloudFormation


def _shown(value: Any) -> Any:
    """Every value the template prints, before autoescape: visible escapes for what would not show
    (markup the template made itself, a macro's output, is already safe)."""
    return visible(value) if isinstance(value, str) and not hasattr(value, "__html__") else value


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("transcribe_guard", TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, finalize=_shown, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.globals.update(colors=COLORS, labels=LABELS, sort_rank=SORT_RANK, severity_rank=SEVERITY_RANK,
                       severity_label=severity_label)
    return env


def _hash(source: str) -> str:
    """The CSP source hash of an inline block (base64 of its SHA-256)."""
    return base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode()


def _fmt_score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}%"


def score_ring(value: float | None) -> dict[str, Any]:
    radius = 70
    circumference = 2 * 3.141592653589793 * radius
    filled = 0.0 if value is None else circumference * value / 100.0
    return {"radius": radius, "width": 16, "text": _fmt_score(value), "filled": f"{filled:.2f}",
            "circumference": f"{circumference:.2f}", "track": COLORS["NON_COMPLIANT"] if value is not None else "#d1d9e0"}


def bar_chart(chart_id: str, rows: list[tuple[str, str, int, int]], label_width: int = 330) -> dict[str, Any]:
    """Horizontal stacked bars of compliant and non-compliant results, one row per (key, label)."""
    row_height, bar_width, count_width = 24, 380, 90
    biggest = max([c + n for _, _, c, n in rows] + [1])
    bars = []
    for index, (key, label, compliant, non_compliant) in enumerate(rows):
        c_width, n_width = bar_width * compliant / biggest, bar_width * non_compliant / biggest
        bars.append({"key": key, "label": label, "compliant": compliant, "non_compliant": non_compliant,
                     "y": 4 + index * row_height, "c_width": f"{c_width:.1f}", "nc_x": f"{label_width + c_width:.1f}",
                     "nc_width": f"{n_width:.1f}"})
    return {"id": chart_id, "width": label_width + bar_width + count_width, "height": row_height * max(len(rows), 1) + 8,
            "label_width": label_width, "bar_width": bar_width, "bars": bars}


def _provenance_meta(collection: dict[str, Any]) -> list[tuple[str, str]]:
    """Who collected, the scope, and which code the deployed functions run (evidence_provenance)."""
    functions = collection["deployed_functions"]
    if functions is None:
        ran = collection["deployed_functions_note"]
    else:
        wrong = collection["code_mismatches"]
        ran = (f"{len(functions)} functions; " + (f"CODE MISMATCH in {len(wrong)}: {', '.join(wrong)}" if wrong else
                                                   "every one runs the rule code package (CodeSha256 = rule code SHA-256)")
               + "; " + ", ".join(f"{f['rule']} {f['version'] or '?'} {f['code_sha256'] or 'unreadable'}"
                                  for f in functions))
    return [("Collected by", collection["collected_by"] or "not recorded (a saved scan)"),
            ("Accounts in scope", ", ".join(collection["accounts"]) or "unknown"),
            ("Regions in scope", ", ".join(collection["regions"]) or "unknown"), ("Deployed functions", ran)]


def render_html(evidence: dict[str, Any]) -> str:
    collection, summary, rules = evidence["collection"], evidence["summary"], evidence["rules"]
    period = collection["period"]
    period_text = (f'{period["start"] or "…"} to {period["end"] or "…"} (results recorded in this window)'
                   if period else "all results held")
    meta = [("Source", collection["source_detail"]), ("Account", collection["account"] or "unknown"),
            ("Region", collection["region"] or "unknown"), ("Conformance pack", collection["pack_name"] or "n/a"),
            ("Collected at (UTC)", collection["collected_at"]), ("Period", period_text),
            ("Pack version", collection["pack_version"]), ("Rule code SHA-256", collection["rule_code_sha256"]),
            ("Pack template SHA-256", collection["pack_template_sha256"]),
            ("Score reported by AWS Config", collection["config_reported_score"] or "n/a"),
            ("Frameworks", ", ".join(collection["frameworks"])), *_provenance_meta(collection)]
    env = environment()
    return env.get_template("report.html").render(
        evidence=evidence,
        # The CSP allows the one inline style and the one inline script by hash: the page includes
        # these same two templates, rendered the same way.
        style_hash=_hash(env.get_template("report.css").render()),
        script_hash=_hash(env.get_template("report.js").render()),
        ring=score_ring(summary["score"]),
        rule_chart=bar_chart("chart-rules", [(r["name"], r["name"], r["compliant"], r["non_compliant"]) for r in rules]),
        practice_chart=bar_chart("chart-practices", [(str(p["practice"]), f'{p["practice"]}. {p["name"]}',
                                                      p["compliant"], p["non_compliant"])
                                                     for p in summary["by_practice"]]),
        compliance_options=[(k, LABELS[k]) for k in ("NON_COMPLIANT", "COMPLIANT", "NOT_APPLICABLE")],
        rule_options=[(r["name"], r["name"]) for r in rules if r["compliant"] + r["non_compliant"] + r["not_applicable"]],
        meta=[(name, str(value)) for name, value in meta])
