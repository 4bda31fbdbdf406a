"""What the command line prints: scan results as a table, JSON or CSV, a conformance pack's
compliance, a deployment, an evidence bundle's summary and its verification. Values that others
wrote (resources, annotations, Config's rule names, bundle members) are escaped on the way out
(output_safety); report.html has its own renderer (report.py).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence, TextIO

from transcribe_guard.findings import ENRICHED_FIELDS, STATUSES, csv_record, enrich
from transcribe_guard.output_safety import csv_cell, display_width, pad, visible

if TYPE_CHECKING:
    from transcribe_guard.aggregate import AggregateView
    from transcribe_guard.deploy import Deployment, PackCompliance
    from transcribe_guard.org_deploy import OrganizationDeployment
    from transcribe_guard.evidence import Verification

COMPLIANCE_ORDER = ("NON_COMPLIANT", "COMPLIANT", "NOT_APPLICABLE")
# One scan result's keys, in CSV column order (scan.run_scan makes them); findings.enrich adds
# findings.ENRICHED_FIELDS after them.
RESULT_FIELDS = ("account", "region", "evaluated_at", "rule", "resource_type", "resource_id", "compliance", "annotation")
CSV_FIELDS = RESULT_FIELDS + ENRICHED_FIELDS


# --- scan results ------------------------------------------------------------------------------

class Tally:
    """Counts of enriched records, added one at a time (a streamed scan holds no records)."""

    def __init__(self) -> None:
        self.evaluations = 0
        self.by_compliance = {c: 0 for c in COMPLIANCE_ORDER}
        self.by_status = {s: 0 for s in STATUSES}
        self.by_rule: dict[str, dict[str, int]] = {}
        self.by_account_region: dict[str, dict[str, dict[str, int]]] = {}

    def add(self, row: dict[str, Any]) -> None:
        self.evaluations += 1
        self.by_compliance[row["compliance"]] += 1
        self.by_status[row["status"]] += 1
        self.by_rule.setdefault(row["rule"], {s: 0 for s in STATUSES})[row["status"]] += 1
        pair = self.by_account_region.setdefault(row["account"], {}).setdefault(row["region"], {s: 0 for s in STATUSES})
        pair[row["status"]] += 1

    def summary(self) -> dict[str, Any]:
        return {"evaluations": self.evaluations, "by_compliance": self.by_compliance, "by_status": self.by_status,
                "by_rule": self.by_rule, "by_account_region": self.by_account_region}


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts of enriched records: by Config verdict (``by_compliance``, an ERROR is NON_COMPLIANT
    there), by status (``by_status``: errors and muted findings apart) and per rule by status."""
    tally = Tally()
    for row in records:
        tally.add(row)
    return tally.summary()


def by_account_region(records: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, int]]]:
    """Counts by status per account, then per Region, in the order the results name them."""
    return dict(summarize(records)["by_account_region"])


def stream(records: Iterable[dict[str, Any]], fmt: str, rule_names: Sequence[str],
           statuses: Sequence[str] | None, out: TextIO) -> dict[str, Any]:
    """``render`` for JSON and CSV, written to ``out`` as ``records`` come (enriched records):
    the same text ``render`` makes of the same records, with nothing held but the counts.
    Returns the summary."""
    tally = Tally()
    shown = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=list(CSV_FIELDS), lineterminator="\n")
        writer.writeheader()
    else:
        out.write('{\n  "evaluations": [')
    for row in records:
        tally.add(row)
        if statuses and row["status"] not in statuses:
            continue
        if fmt == "csv":
            writer.writerow({key: csv_cell(value) for key, value in csv_record(row).items()})
        else:  # json.dumps(..., indent=2) of the list, one item at a time
            out.write(("," if shown else "") + "\n    " + json.dumps(row, indent=2).replace("\n", "\n    "))
        shown += 1
    summary = tally.summary()
    for name in rule_names:
        summary["by_rule"].setdefault(name, {s: 0 for s in STATUSES})
    summary["shown"] = shown
    if fmt == "json":
        out.write(("\n  ]" if shown else "]") + ',\n  "summary": ' + json.dumps(summary, indent=2).replace("\n", "\n  ")
                  + "\n}\n")
    return summary


def render(results: list[dict[str, Any]], fmt: str, rule_names: Sequence[str],
           statuses: Sequence[str] | None = None, width: int | None = None) -> str:
    """``results`` (scan results, or records findings.enrich made) in ``fmt``. The summary counts
    every result; ``statuses`` limits the results listed. ``width``: fit the table to a terminal
    this many cells wide (None: one line per result, however long)."""
    records = [r if "status" in r else enrich(r) for r in results]
    summary = summarize(records)
    for name in rule_names:
        summary["by_rule"].setdefault(name, {s: 0 for s in STATUSES})
    shown = [r for r in records if not statuses or r["status"] in statuses]
    summary["shown"] = len(shown)
    if fmt == "json":  # ensure_ascii (the default) writes every control, bidi and zero-width character as \uXXXX
        return json.dumps({"evaluations": shown, "summary": summary}, indent=2) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(CSV_FIELDS), lineterminator="\n")
        writer.writeheader()
        writer.writerows({key: csv_cell(value) for key, value in csv_record(row).items()} for row in shown)
        return buffer.getvalue()
    return render_table(shown, summary, width)


TABLE_HEADERS = ("STATUS", "RULE", "RESOURCE", "ANNOTATION")


def _table_cells(row: dict[str, Any]) -> tuple[str, ...]:
    annotation = row["annotation"] + (f" (muted: {row['mute_reason']})" if row["status"] == "MUTED" else "")
    # Every cell escaped (output_safety.visible): names and annotations come from the account.
    return tuple(visible(v) for v in (row["status"], row["rule"], row["resource_id"], annotation))


def render_table(records: list[dict[str, Any]], summary: dict[str, Any], width: int | None = None) -> str:
    def table(group: list[dict[str, Any]]) -> list[str]:
        rows = [_table_cells(r) for r in group]
        return [_rich_table(rows, width)] if width and rows else _plain_table(rows)

    pairs = summary["by_account_region"]
    grouped = sum(len(regions) for regions in pairs.values()) > 1  # several accounts or Regions: one block each
    lines: list[str] = []
    if grouped:
        for account, regions in pairs.items():
            for region, counts in regions.items():
                group = [r for r in records if r["account"] == account and r["region"] == region]
                lines.append(f"== account {visible(account)}, Region {visible(region)}: {_counts(counts)}")
                lines += table(group) if group else ["(no results with the chosen --status)"]
    else:
        lines += table(records)
    if not records:
        lines.append("(no resources evaluated)" if not summary["evaluations"] else "(no results with the chosen --status)")
    closing = ["", "Per rule:"]
    for name, counts in summary["by_rule"].items():
        closing.append(f"  {visible(name)}: " + ", ".join(f"{counts[s]} {s}" for s in STATUSES))
    if grouped:
        closing.append("Per account and Region:")
        for account, regions in pairs.items():
            for region, counts in regions.items():
                closing.append(f"  {visible(account)} {visible(region)}: {_counts(counts)}")
    totals = summary["by_status"]
    verdict = "FAIL" if totals["NON_COMPLIANT"] else "ERROR" if totals["ERROR"] else "PASS"
    closing.append(f"Verdict: {verdict} ({totals['NON_COMPLIANT']} non-compliant, {totals['ERROR']} could not be "
                   f"evaluated, {totals['MUTED']} muted, {totals['COMPLIANT']} compliant, {totals['NOT_APPLICABLE']} "
                   f"not applicable, {summary['evaluations']} evaluations"
                   + (f", {summary['shown']} shown" if summary["shown"] != summary["evaluations"] else "") + ")")
    if width:  # on a terminal the counts wrap to its width too, continued lines indented
        import textwrap
        closing = [part for line in closing for part in
                   (textwrap.wrap(line, width, subsequent_indent="    ", break_on_hyphens=False) or [""])]
    return "\n".join(lines + closing) + "\n"


def _plain_table(rows: list[tuple[str, ...]]) -> list[str]:
    """One line per result, the first three columns aligned in terminal cells (for pipes and files)."""
    headers = TABLE_HEADERS
    widths = [max([len(h)] + [display_width(row[i]) for row in rows]) for i, h in enumerate(headers[:3])]
    lines = ["  ".join(pad(h, w) for h, w in zip(headers[:3], widths)) + "  " + headers[3]]
    lines += ["  ".join(pad(v, w) for v, w in zip(row[:3], widths)) + "  " + row[3] for row in rows]
    return lines


def _rich_table(rows: list[tuple[str, ...]], width: int, headers: tuple[str, ...] = TABLE_HEADERS,
                whole: tuple[str, ...] = ("STATUS",)) -> str:
    """A table folded to ``width`` cells (rich); the ``whole`` columns are never folded. Cells are rich Text built from escaped text, so
    markup such as ``[bold]`` or ``:emoji:`` in a name is shown as written, never interpreted."""
    from rich.box import SIMPLE_HEAD
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(box=SIMPLE_HEAD, expand=False, show_edge=False, pad_edge=False)
    for header in headers:
        table.add_column(Text(header), overflow="fold", no_wrap=header in whole)
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None, force_terminal=False, markup=False, emoji=False,
            highlight=False, legacy_windows=False).print(table)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())


def render_rules(records: list[dict[str, Any]], fmt: str, width: int | None = None) -> str:
    """``transcribe-guard rules``: the rules as JSON, or a table (folded to ``width`` on a terminal)."""
    if fmt == "json":
        return json.dumps({"rules": records}, indent=2) + "\n"
    headers = ("RULE", "PRACTICE", "SEVERITY", "RESOURCE KINDS", "FRAMEWORKS")
    rows = [(r["name"], f"{r['practice']}. {r['practice_name']}", r["severity"], ", ".join(r["resource_kinds"]),
             ", ".join(r["frameworks"]) or "-") for r in records]
    if width:
        return _rich_table([tuple(visible(c) for c in row) for row in rows], width, headers,
                           whole=("RULE", "SEVERITY")) + "\n"
    widths = [max([len(h)] + [display_width(row[i]) for row in rows]) for i, h in enumerate(headers[:-1])]
    lines = ["  ".join(pad(h, w) for h, w in zip(headers[:-1], widths)) + "  " + headers[-1]]
    lines += ["  ".join(pad(visible(v), w) for v, w in zip(row[:-1], widths)) + "  " + visible(row[-1]) for row in rows]
    return "\n".join(lines) + "\n"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{counts[s]} {s}" for s in STATUSES)


# --- deploy and compliance ---------------------------------------------------------------------

def render_deployment(done: Deployment) -> str:
    """Where the code package, the functions stack and the pack went."""
    return "".join(visible(line) + "\n" for line in (
        f"Deployed to account {done.account} in {done.region}:",
        f"  code package s3://{done.code_bucket}/{done.code_key} (sha256 {done.code_sha256})",
        f"  functions stack {done.stack_name}",
        f"  conformance pack {done.pack_arn}"))


def render_pack_compliance(compliance: PackCompliance, fmt: str) -> str:
    if fmt == "json":  # ensure_ascii: control, bidi and zero-width characters as \uXXXX
        return json.dumps({"pack": compliance.pack_name, "score": compliance.score, "rules": compliance.rules,
                           "evaluations": compliance.results}, indent=2) + "\n"
    # Names, states and the score come from AWS Config, which other code wrote: every cell escaped.
    shown = {name: (visible(name), visible(state)) for name, state in compliance.rules.items()}
    width = max([4] + [display_width(name) for name, _ in shown.values()]) if shown else 10
    lines = [f"Conformance pack {visible(compliance.pack_name)}: compliance score {visible(compliance.score)}%", "",
             f"{pad('RULE', width)}  COMPLIANCE          NON-COMPLIANT RESOURCES"]
    for name, state in sorted(compliance.rules.items()):
        count = sum(1 for r in compliance.results if r["rule"] == name and r["compliance"] == "NON_COMPLIANT")
        lines.append(f"{pad(shown[name][0], width)}  {pad(shown[name][1], 18)}  "
                     f"{count if state != 'INSUFFICIENT_DATA' else '-'}")
    lines.append("")
    lines.append("INSUFFICIENT_DATA: AWS managed rules and process checks (not run by the simulator; a person "
                 "records process checks), or a rule not evaluated yet.")
    return "\n".join(lines) + "\n"


def render_organization_deployment(done: OrganizationDeployment) -> str:
    lines = [f"Deployed for organization {done.organization_id} from account {done.admin_account}:"]
    for functions in done.functions:
        lines.append(f"  {functions.region}: functions stack {functions.stack_name}, code "
                     f"s3://{functions.code_bucket}/{functions.code_key}")
    lines += [f"  {region}: organization conformance pack {arn}" for region, arn in sorted(done.org_pack_arns.items())]
    lines.append("  member role in every account: " + ("StackSet transcribe-guard-member-role" if done.member_role_stack_set
                                                   else "already there, not deployed"))
    lines.append(f"  aggregator {done.aggregator} (all accounts, all Regions): "
                 f"`transcribe-guard compliance --aggregator {done.aggregator}`")
    return "".join(visible(line) + "\n" for line in lines)


def render_aggregate_view(view: AggregateView, fmt: str) -> str:
    """The organization's view: the pack's rules over every account and Region, then each
    account and Region. Everything shown was written by others (names, annotations): escaped."""
    pairs = sorted(set(view.packs) | set(view.by_pair))
    if fmt == "json":
        return json.dumps({
            "aggregator": view.aggregator, "pack": view.pack_name, "score": view.score, "rules": view.rules,
            "accounts": [{"account": a, "region": r, "pack": view.packs.get((a, r), {}).get("name"),
                          "score": _pair_score(view, (a, r)), "rules": view.by_pair.get((a, r), {})} for a, r in pairs],
            "pack_counts_by_account": view.pack_counts, "ignored_rules": view.ignored, "problems": view.problems,
            "evaluations": view.results}, indent=2) + "\n"
    rules = view.rules
    width = max([4] + [display_width(visible(name)) for name in rules])
    lines = [f"Conformance pack {visible(view.pack_name)} through aggregator {visible(view.aggregator)}: "
             f"{len(pairs)} account/Region pairs, compliance score {view.score}%", "",
             f"{pad('RULE', width)}  COMPLIANCE          NON-COMPLIANT RESOURCES"]
    for name, state in sorted(rules.items()):
        count = sum(1 for r in view.results if r["rule"] == name and r["compliance"] == "NON_COMPLIANT")
        lines.append(f"{pad(visible(name), width)}  {pad(visible(state), 18)}  "
                     f"{count if state != 'INSUFFICIENT_DATA' else '-'}")
    lines += ["", "ACCOUNT       REGION          SCORE    NON-COMPLIANT RULES  PACK"]
    for pair in pairs:
        non_compliant = sum(1 for state in view.by_pair.get(pair, {}).values() if state == "NON_COMPLIANT")
        lines.append(f"{pad(visible(pair[0]), 12)}  {pad(visible(pair[1]), 14)}  {pad(_pair_score(view, pair), 7)}  "
                     f"{pad(str(non_compliant), 19)}  {visible(view.packs.get(pair, {}).get('name', '-'))}")
    lines += [f"Could not evaluate: {visible(problem)}" for problem in view.problems]
    if view.ignored:
        lines.append(f"{len(view.ignored)} rule(s) named like the pack's rules but not created by it were left out "
                     "(--format json lists them).")
    return "\n".join(lines) + "\n"


def _pair_score(view: AggregateView, pair: tuple[str, str]) -> str:
    from transcribe_guard.aggregate import score_of
    return score_of([r for r in view.results if (r["account"], r["region"]) == pair])


# --- evidence ----------------------------------------------------------------------------------

def render_evidence_summary(path: Path, summary: dict[str, Any], frameworks: Sequence[str], manifest_sha: str,
                            notices: Sequence[str] = (), signer: Any = None, pdf_note: str | None = None) -> str:
    """What a written bundle holds (report.pdf: printed, or why not), and the command that checks it
    later. Notices (an empty period, code that is not the package) come first."""
    score = "n/a" if summary["score"] is None else f"{summary['score']:.2f}%"
    shown = visible(path)
    signed = (f"  signed with {visible(signer.key_arn)} ({signer.algorithm}, public key sha256 "
              f"{signer.public_key_sha256}): check it with `transcribe-guard evidence verify {shown} --public-key FILE` "
              f"or `--kms-key {visible(signer.key_arn)}`\n" if signer else
              "  not signed (--sign-key): verify can check its integrity, not who made it\n")
    return ("".join(f"{visible(notice)}\n" for notice in notices)
            + f"Evidence bundle {shown}\n"
            f"  {summary['evaluations']} results ({summary['non_compliant']} non-compliant, {summary['compliant']} "
            f"compliant, {summary['not_applicable']} not applicable), compliance score {score}\n"
            f"  frameworks: {', '.join(frameworks)}\n"
            + (f"  report.pdf: {visible(pdf_note)}\n" if pdf_note else "") +
            f"  manifest.json sha256 {manifest_sha} (record it to check the bundle later with "
            f"`transcribe-guard evidence verify {shown} --manifest-sha256 {manifest_sha}`)\n" + signed)


def render_verification(bundle: str, result: Verification) -> str:
    """The verification's lines name the bundle's members, which whoever made the
    bundle chose: escaped. Three outcomes, three different last lines: only a signature checked
    against a trust anchor prints "Verified"."""
    shown = visible(bundle)
    if not result.ok:
        last = f"FAILED: {shown} differs from its manifest or its signature.\n"
    elif result.authenticated:
        last = f"Verified: {shown} is unchanged and signed by the trusted key.\n"
    else:
        last = (f"INTEGRITY ONLY: {shown} matches its own manifest, but its origin is NOT authenticated"
                f"{' (its signature was not checked)' if result.signed else ' (it is not signed)'}: whoever changed "
                "it could have rewritten the manifest too. Check a signed bundle with --public-key FILE or "
                "--kms-key KMS_KEY.\n")
    return "".join(visible(line) + "\n" for line in result.lines) + last
