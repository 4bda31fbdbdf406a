"""report.html: the evidence bundle for a person, in one self-contained file.

No network fetches: CSS, JavaScript and the SVG charts are inline, and a Content-Security-Policy
(``default-src 'none'``, the one style and the one script allowed by their SHA-256) makes the
browser refuse anything else, including script smuggled in through an annotation. Every value
from evidence.json is HTML-escaped, and its control, bidi and zero-width characters are shown as
escapes (output_safety.visible). The page reads without JavaScript (the table and charts are
rendered here); the script only sorts and filters the resource table.

Numbers the page shows carry ``data-*`` attributes with the same values as evidence.json, which
the browser test compares.
"""

from __future__ import annotations

import base64
import hashlib
import html
from typing import Any, Iterable

from transcribe_guard.output_safety import visible

COLORS = {"COMPLIANT": "#1a7f37", "NON_COMPLIANT": "#cf222e", "NOT_APPLICABLE": "#8c959f",
          "INSUFFICIENT_DATA": "#9a6700"}
LABELS = {"COMPLIANT": "Compliant", "NON_COMPLIANT": "Non-compliant", "NOT_APPLICABLE": "Not applicable",
          "INSUFFICIENT_DATA": "Insufficient data"}
SORT_RANK = {"NON_COMPLIANT": "0", "COMPLIANT": "1", "NOT_APPLICABLE": "2"}

STYLE = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #f6f8fa; --c: #1a7f37; --nc: #cf222e;
  --na: #8c959f; --id: #9a6700; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
  color: var(--fg); background: #fff; }
header { padding: 20px 32px 16px; border-bottom: 1px solid var(--line); background: var(--bg); }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; color: var(--muted); }
main { padding: 8px 32px 40px; max-width: 1280px; }
section { margin-top: 24px; }
h2 { font-size: 17px; margin: 0 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 0 0 6px; }
.summary { display: grid; grid-template-columns: 220px 1fr; gap: 24px; align-items: center; }
.stats { display: grid; grid-template-columns: repeat(4, minmax(120px, 1fr)); gap: 12px; }
.stat { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.stat b { display: block; font-size: 22px; }
.stat span { color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 12px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 12px; }
.card p { margin: 4px 0 0; color: var(--muted); font-size: 12px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-size: 12px;
  font-weight: 600; white-space: nowrap; }
.b-COMPLIANT { background: var(--c); } .b-NON_COMPLIANT { background: var(--nc); }
.b-NOT_APPLICABLE { background: var(--na); } .b-INSUFFICIENT_DATA { background: var(--id); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid var(--line); }
th { background: var(--bg); font-weight: 600; }
th button { font: inherit; font-weight: 600; background: none; border: 0; padding: 0; cursor: pointer;
  color: inherit; }
th[aria-sort=ascending] button::after { content: " \\25B2"; }
th[aria-sort=descending] button::after { content: " \\25BC"; }
td.id { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px;
  word-break: break-all; }
details { margin: 8px 0; border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; }
summary { cursor: pointer; font-weight: 600; }
.rationale { color: var(--muted); font-size: 12px; }
.charts { display: grid; grid-template-columns: 1fr; gap: 16px; }
.legend span { margin-right: 14px; }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
.legend .lc { background: var(--c); } .legend .lnc { background: var(--nc); }
.filters { display: flex; gap: 10px; align-items: center; margin-bottom: 8px; flex-wrap: wrap; }
.filters input { width: 320px; padding: 4px 6px; }
.filters select { padding: 4px 6px; }
dl.meta { display: grid; grid-template-columns: 220px 1fr; gap: 4px 12px; margin: 0; }
dl.meta dt { color: var(--muted); } dl.meta dd { margin: 0; word-break: break-all; }
footer { padding: 16px 32px; color: var(--muted); border-top: 1px solid var(--line); font-size: 12px; }
@media print { .filters { display: none; } details { break-inside: avoid; } details > * { display: block; } }
"""

SCRIPT = r"""
(function () {
  "use strict";
  var table = document.getElementById("results");
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.querySelectorAll("tr[data-compliance]"));
  var text = document.getElementById("filter-text");
  var compliance = document.getElementById("filter-compliance");
  var rule = document.getElementById("filter-rule");
  var count = document.getElementById("visible-count");
  function apply() {
    var query = text.value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (row) {
      var visible = (!compliance.value || row.getAttribute("data-compliance") === compliance.value) &&
        (!rule.value || row.getAttribute("data-rule") === rule.value) &&
        (!query || row.textContent.toLowerCase().indexOf(query) !== -1);
      row.hidden = !visible;
      if (visible) { shown += 1; }
    });
    count.textContent = String(shown);
    count.setAttribute("data-value", String(shown));
  }
  function natural(a, b) {
    // Case-insensitive, with runs of digits compared as numbers ("call-2" before "call-10").
    var x = a.toLowerCase().match(/\d+|\D+/g) || [];
    var y = b.toLowerCase().match(/\d+|\D+/g) || [];
    for (var i = 0; i < Math.min(x.length, y.length); i += 1) {
      var p = x[i], q = y[i];
      if (/^\d/.test(p) && /^\d/.test(q)) {
        p = p.replace(/^0+(?=\d)/, ""); q = q.replace(/^0+(?=\d)/, "");
        if (p.length !== q.length) { return p.length - q.length; }
      }
      if (p !== q) { return p < q ? -1 : 1; }
    }
    return x.length - y.length;
  }
  function key(row, column) {
    var cell = row.cells[column];
    return cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
  }
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var current = -1;
  var ascending = true;
  headers.forEach(function (header, column) {
    var button = header.querySelector("button");
    if (!button) { return; }
    button.addEventListener("click", function () {
      ascending = current === column ? !ascending : true;
      current = column;
      var sorted = rows.slice().sort(function (a, b) {
        var order = natural(key(a, column), key(b, column));
        return ascending ? order : -order;
      });
      headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
      header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      sorted.forEach(function (row) { body.appendChild(row); });
      rows = sorted;
    });
  });
  text.addEventListener("input", apply);
  compliance.addEventListener("change", apply);
  rule.addEventListener("change", apply);
  apply();
  document.documentElement.setAttribute("data-ready", "true");
}());
"""


def escape(text: str) -> str:
    """HTML-escaped, with control, bidi and zero-width characters shown as escapes (a U+202E in a
    resource id would otherwise reverse what the page shows after it)."""
    return html.escape(visible(text))


def _hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode() + "'"


def _badge(status: str) -> str:
    return f'<span class="badge b-{escape(status)}">{escape(LABELS.get(status, status))}</span>'


def _fmt_score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}%"


def score_ring(value: float | None) -> str:
    radius, width = 70, 16
    circumference = 2 * 3.141592653589793 * radius
    filled = 0.0 if value is None else circumference * value / 100.0
    return (f'<svg width="200" height="200" viewBox="0 0 200 200" role="img" aria-label="Compliance score '
            f'{escape(_fmt_score(value))}">'
            f'<circle cx="100" cy="100" r="{radius}" fill="none" stroke="{COLORS["NON_COMPLIANT"] if value is not None else "#d1d9e0"}" '
            f'stroke-width="{width}"/>'
            f'<circle cx="100" cy="100" r="{radius}" fill="none" stroke="{COLORS["COMPLIANT"]}" stroke-width="{width}" '
            f'stroke-dasharray="{filled:.2f} {circumference:.2f}" transform="rotate(-90 100 100)"/>'
            f'<text x="100" y="100" text-anchor="middle" font-size="26" font-weight="700" fill="#1f2328" '
            f'dominant-baseline="middle">{escape(_fmt_score(value))}</text>'
            f'<text x="100" y="128" text-anchor="middle" font-size="12" fill="#59636e">compliance score</text></svg>')


def bar_chart(chart_id: str, rows: list[tuple[str, str, int, int]], label_width: int = 330) -> str:
    """Horizontal stacked bars of compliant and non-compliant results, one row per (key, label)."""
    row_height, bar_width, count_width = 24, 380, 90
    width = label_width + bar_width + count_width
    height = row_height * max(len(rows), 1) + 8
    biggest = max([c + n for _, _, c, n in rows] + [1])
    parts = [f'<svg id="{escape(chart_id)}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'role="img" aria-label="{escape(chart_id)}" font-size="12">']
    for index, (key, label, compliant, non_compliant) in enumerate(rows):
        y = 4 + index * row_height
        c_width = bar_width * compliant / biggest
        n_width = bar_width * non_compliant / biggest
        parts.append(f'<g class="bar-row" data-key="{escape(key)}" data-compliant="{compliant}" '
                     f'data-non-compliant="{non_compliant}">'
                     f'<title>{escape(label)}: {compliant} compliant, {non_compliant} non-compliant</title>'
                     f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end" fill="#1f2328">{escape(label)}</text>'
                     f'<rect x="{label_width}" y="{y + 3}" width="{bar_width}" height="16" fill="#f6f8fa"/>'
                     f'<rect class="c" x="{label_width}" y="{y + 3}" width="{c_width:.1f}" height="16" '
                     f'fill="{COLORS["COMPLIANT"]}"/>'
                     f'<rect class="nc" x="{label_width + c_width:.1f}" y="{y + 3}" width="{n_width:.1f}" height="16" '
                     f'fill="{COLORS["NON_COMPLIANT"]}"/>'
                     f'<text x="{label_width + bar_width + 8}" y="{y + 15}" fill="#59636e">{compliant} / '
                     f'{non_compliant}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def _stat(element_id: str, value: int, label: str) -> str:
    return f'<div class="stat"><b id="{element_id}" data-value="{value}">{value:,}</b><span>{escape(label)}</span></div>'


def _framework_card(framework: dict[str, Any]) -> str:
    counts = framework["controls_by_status"]
    return (f'<div class="card framework" data-framework="{escape(framework["id"])}" '
            f'data-status="{escape(framework["status"])}" data-controls="{len(framework["controls"])}" '
            f'data-non-compliant="{counts["NON_COMPLIANT"]}" data-insufficient="{counts["INSUFFICIENT_DATA"]}" '
            f'data-compliant="{counts["COMPLIANT"]}">'
            f'<h3>{escape(framework["title"])}</h3>{_badge(framework["status"])}'
            f'<p>{len(framework["controls"])} controls mapped: {counts["NON_COMPLIANT"]} non-compliant, '
            f'{counts["INSUFFICIENT_DATA"]} insufficient data, {counts["COMPLIANT"]} compliant</p>'
            f'<p>Catalog: {escape(framework["source"]["version"])}</p></div>')


def _framework_details(framework: dict[str, Any]) -> str:
    rows = []
    for control in framework["controls"]:
        rules = "".join(f'<div><code>{escape(r["rule"])}</code> {_badge(r["status"])}'
                        f'<div class="rationale">{escape(r["rationale"])}</div></div>' for r in control["rules"])
        rows.append(f'<tr class="control" data-control="{escape(control["id"])}" data-status="{escape(control["status"])}">'
                    f'<td class="id">{escape(control["id"])}</td><td>{escape(control["title"])}</td>'
                    f'<td>{_badge(control["status"])}</td><td>{control["compliant"]} / {control["non_compliant"]}</td>'
                    f'<td>{rules}</td></tr>')
    extra = ""
    if framework["not_applicable"]:
        extra += "<p><b>Not applicable:</b></p><ul>" + "".join(
            f'<li><code>{escape(n["rule"])}</code>: {escape(n["reason"])}</li>' for n in framework["not_applicable"]) + "</ul>"
    if framework["unmapped"]:
        extra += "<p><b>Not yet mapped:</b> " + ", ".join(f"<code>{escape(n)}</code>" for n in framework["unmapped"]) + "</p>"
    return (f'<details data-framework="{escape(framework["id"])}"><summary>{escape(framework["title"])}: '
            f'{len(framework["controls"])} controls</summary>'
            f'<table><thead><tr><th>Control</th><th>Title</th><th>Status</th><th>Compliant / non-compliant results</th>'
            f'<th>Evidenced by</th></tr></thead><tbody>{"".join(rows)}</tbody></table>{extra}</details>')


def _options(values: Iterable[tuple[str, str]]) -> str:
    return "".join(f'<option value="{escape(v)}">{escape(label)}</option>' for v, label in values)


def render_html(evidence: dict[str, Any]) -> str:
    collection, summary = evidence["collection"], evidence["summary"]
    where = " · ".join(escape(str(v)) for v in (f"account {collection['account'] or 'unknown'}",
                                                f"region {collection['region'] or 'unknown'}",
                                                f"collected {collection['collected_at']}"))
    rules = evidence["rules"]
    rule_rows = [(r["name"], r["name"], r["compliant"], r["non_compliant"]) for r in rules]
    practice_rows = [(str(p["practice"]), f'{p["practice"]}. {p["name"]}', p["compliant"], p["non_compliant"])
                     for p in summary["by_practice"]]
    result_rows = []
    for row in evidence["results"]:
        result_rows.append(
            f'<tr data-rule="{escape(row["rule"])}" data-compliance="{escape(row["compliance"])}">'
            f'<td data-sort="{SORT_RANK[row["compliance"]]}">{_badge(row["compliance"])}</td>'
            f'<td>{escape(row["rule"])}</td><td>{escape(row["resource_type"])}</td>'
            f'<td class="id">{escape(row["resource_id"])}</td><td>{escape(row["annotation"])}</td>'
            f'<td>{escape(row["recorded_at"])}</td></tr>')
    if not result_rows:
        result_rows.append('<tr class="empty"><td colspan="6">No results in this bundle.</td></tr>')
    status_rows = "".join(
        f'<tr class="rule" data-rule="{escape(r["name"])}" data-status="{escape(r["status"])}">'
        f'<td><code>{escape(r["name"])}</code></td><td>{escape(r["kind"])}</td>'
        f'<td>{escape(str(r["practice"] or ""))}</td><td>{_badge(r["status"])}</td>'
        f'<td>{r["compliant"]}</td><td>{r["non_compliant"]}</td><td>{r["not_applicable"]}</td>'
        f'<td>{escape(r["note"])}</td></tr>' for r in rules)
    period = collection["period"]
    period_text = (f'{period["start"] or "…"} to {period["end"] or "…"} (results recorded in this window)'
                   if period else "all results held")
    meta = [("Source", collection["source_detail"]), ("Account", collection["account"] or "unknown"),
            ("Region", collection["region"] or "unknown"), ("Conformance pack", collection["pack_name"] or "n/a"),
            ("Collected at (UTC)", collection["collected_at"]), ("Period", period_text),
            ("Pack version", collection["pack_version"]), ("Rule code SHA-256", collection["rule_code_sha256"]),
            ("Pack template SHA-256", collection["pack_template_sha256"]),
            ("Score reported by AWS Config", collection["config_reported_score"] or "n/a"),
            ("Frameworks", ", ".join(collection["frameworks"]))]
    by_status = summary["rules_by_status"]
    body = f"""<header><h1>Amazon Transcribe compliance evidence</h1><p>transcribe-guard conformance pack · {where}</p></header>
<main>
<section id="overview"><h2>Pack compliance</h2>
<div class="summary"><div id="score" data-value="{'' if summary['score'] is None else f"{summary['score']:.2f}"}">{score_ring(summary['score'])}</div>
<div><div class="stats">{_stat("count-compliant", summary["compliant"], "compliant results")}{_stat("count-non-compliant", summary["non_compliant"], "non-compliant results")}{_stat("count-not-applicable", summary["not_applicable"], "not applicable")}{_stat("count-evaluations", summary["evaluations"], "results in total")}</div>
<p>Rules: <span id="rules-non-compliant" data-value="{by_status['NON_COMPLIANT']}">{by_status['NON_COMPLIANT']}</span> non-compliant,
<span id="rules-insufficient" data-value="{by_status['INSUFFICIENT_DATA']}">{by_status['INSUFFICIENT_DATA']}</span> with insufficient data,
<span id="rules-compliant" data-value="{by_status['COMPLIANT']}">{by_status['COMPLIANT']}</span> compliant. The score is AWS Config's:
compliant rule-resource combinations over compliant plus non-compliant ones.</p></div></div></section>
<section id="frameworks"><h2>Frameworks</h2><div class="cards">{"".join(_framework_card(f) for f in evidence["frameworks"])}</div>
{"".join(_framework_details(f) for f in evidence["frameworks"])}</section>
<section id="charts"><h2>Compliant vs non-compliant results</h2>
<p class="legend"><span><i class="lc"></i>compliant</span><span><i class="lnc"></i>non-compliant</span></p>
<div class="charts"><div><h3>By rule</h3>{bar_chart("chart-rules", rule_rows)}</div>
<div><h3>By practice</h3>{bar_chart("chart-practices", practice_rows)}</div></div></section>
<section id="rules"><h2>Rules</h2><table><thead><tr><th>Rule</th><th>Kind</th><th>Practice</th><th>Status</th><th>Compliant</th>
<th>Non-compliant</th><th>Not applicable</th><th>Note</th></tr></thead><tbody>{status_rows}</tbody></table></section>
<section id="resources"><h2>Resources</h2>
<div class="filters"><input id="filter-text" type="search" placeholder="Filter by resource, rule or annotation" aria-label="Filter">
<select id="filter-compliance" aria-label="Compliance"><option value="">All results</option>{_options((k, LABELS[k]) for k in ("NON_COMPLIANT", "COMPLIANT", "NOT_APPLICABLE"))}</select>
<select id="filter-rule" aria-label="Rule"><option value="">All rules</option>{_options((r["name"], r["name"]) for r in rules if r["compliant"] + r["non_compliant"] + r["not_applicable"])}</select>
<span><b id="visible-count" data-value="{len(evidence['results'])}">{len(evidence['results'])}</b> of {len(evidence['results'])} shown</span></div>
<table id="results"><thead><tr><th data-col="0"><button type="button">Compliance</button></th><th data-col="1"><button type="button">Rule</button></th>
<th data-col="2"><button type="button">Resource type</button></th><th data-col="3"><button type="button">Resource</button></th>
<th data-col="4"><button type="button">Annotation</button></th><th data-col="5"><button type="button">Recorded (UTC)</button></th></tr></thead>
<tbody>{"".join(result_rows)}</tbody></table></section>
<section id="metadata"><h2>Collection</h2><dl class="meta">{"".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in meta)}</dl>
<p>manifest.json beside this file holds the SHA-256 of every file of the bundle; <code>transcribe-guard evidence verify</code> checks them.</p></section>
</main>
<footer>Generated by transcribe-guard {escape(evidence["generator"]["version"])}. Annotations are the rules' own words; the bundle holds no tag values, object keys or transcript text.</footer>"""
    csp = f"default-src 'none'; style-src {_hash(STYLE)}; script-src {_hash(SCRIPT)}; img-src data:; base-uri 'none'; form-action 'none'"
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>Transcribe evidence · {escape(str(collection["account"] or "unknown"))} · '
            f'{escape(collection["collected_at"])}</title><style>{STYLE}</style></head><body>{body}'
            f'<script>{SCRIPT}</script></body></html>\n')
