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
from typing import TYPE_CHECKING, Any, Sequence

from transcribe_guard.output_safety import csv_cell, display_width, pad, visible

if TYPE_CHECKING:
    from transcribe_guard.deploy import Deployment, PackCompliance
    from transcribe_guard.evidence import Verification

COMPLIANCE_ORDER = ("NON_COMPLIANT", "COMPLIANT", "NOT_APPLICABLE")
# One scan result's keys, in CSV column order (scan.run_scan makes them).
RESULT_FIELDS = ("account", "region", "evaluated_at", "rule", "resource_type", "resource_id", "compliance", "annotation")


# --- scan results ------------------------------------------------------------------------------

def summarize(results: list[dict[str, str]]) -> dict[str, Any]:
    by_compliance = {c: 0 for c in COMPLIANCE_ORDER}
    by_rule: dict[str, dict[str, int]] = {}
    for row in results:
        by_compliance[row["compliance"]] += 1
        counts = by_rule.setdefault(row["rule"], {c: 0 for c in COMPLIANCE_ORDER})
        counts[row["compliance"]] += 1
    return {"evaluations": len(results), "by_compliance": by_compliance, "by_rule": by_rule,
            "by_account_region": by_account_region(results)}


def by_account_region(results: list[dict[str, str]]) -> dict[str, dict[str, dict[str, int]]]:
    """Counts per account, then per Region, in the order the results name them."""
    counts: dict[str, dict[str, dict[str, int]]] = {}
    for row in results:
        pair = counts.setdefault(row["account"], {}).setdefault(row["region"], {c: 0 for c in COMPLIANCE_ORDER})
        pair[row["compliance"]] += 1
    return counts


def render(results: list[dict[str, str]], fmt: str, rule_names: Sequence[str]) -> str:
    summary = summarize(results)
    for name in rule_names:
        summary["by_rule"].setdefault(name, {c: 0 for c in COMPLIANCE_ORDER})
    if fmt == "json":  # ensure_ascii (the default) writes every control, bidi and zero-width character as \uXXXX
        return json.dumps({"evaluations": results, "summary": summary}, indent=2) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(RESULT_FIELDS),
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows({key: csv_cell(value) for key, value in row.items()} for row in results)
        return buffer.getvalue()
    return render_table(results, summary)


def render_table(results: list[dict[str, str]], summary: dict[str, Any]) -> str:
    headers = ("COMPLIANCE", "RULE", "RESOURCE", "ANNOTATION")
    # Every cell escaped (output_safety.visible), and widths in terminal cells of the escaped text.
    rows = [tuple(visible(r[k]) for k in ("compliance", "rule", "resource_id", "annotation")) for r in results]
    widths = [max([len(h)] + [display_width(row[i]) for row in rows]) for i, h in enumerate(headers[:3])]
    lines = ["  ".join(pad(h, w) for h, w in zip(headers[:3], widths)) + "  " + headers[3]]
    pairs = summary["by_account_region"]
    grouped = sum(len(regions) for regions in pairs.values()) > 1  # several accounts or Regions: one block each
    if grouped:
        for account, regions in pairs.items():
            for region, counts in regions.items():
                lines.append(f"== account {visible(account)}, Region {visible(region)}: {_counts(counts)}")
                lines += ["  ".join(pad(v, w) for v, w in zip(row[:3], widths)) + "  " + row[3]
                          for result, row in zip(results, rows)
                          if result["account"] == account and result["region"] == region]
    else:
        lines += ["  ".join(pad(v, w) for v, w in zip(row[:3], widths)) + "  " + row[3] for row in rows]
    if not rows:
        lines.append("(no resources evaluated)")
    lines.append("")
    lines.append("Per rule:")
    for name, counts in summary["by_rule"].items():
        lines.append(f"  {visible(name)}: " + ", ".join(f"{counts[c]} {c}" for c in COMPLIANCE_ORDER))
    if grouped:
        lines.append("Per account and Region:")
        for account, regions in pairs.items():
            for region, counts in regions.items():
                lines.append(f"  {visible(account)} {visible(region)}: {_counts(counts)}")
    totals = summary["by_compliance"]
    verdict = "FAIL" if totals["NON_COMPLIANT"] else "PASS"
    lines.append(f"Verdict: {verdict} ({totals['NON_COMPLIANT']} non-compliant, {totals['COMPLIANT']} compliant, "
                 f"{totals['NOT_APPLICABLE']} not applicable, {summary['evaluations']} evaluations)")
    return "\n".join(lines) + "\n"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{counts[c]} {c}" for c in COMPLIANCE_ORDER)


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
