"""``scan --demo --organization``: the demo organization, scanned through the member role in
every account and both of its Regions (what ``make demo`` shows after the single-account scan)."""

from __future__ import annotations

import io
import json
from pathlib import Path

from transcribe_guard import cli
from transcribe_guard.simulator.demo_organization import MANAGEMENT_NAME, MEMBERS, REGIONS


def test_demo_organization_scan_covers_every_account_and_region() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["scan", "--demo", "--organization", "--format", "json", "--rule", "transcribe-job-pii-redaction",
                     "--rule", "transcribe-ai-opt-out"], out, err)
    assert code == cli.EXIT_NON_COMPLIANT, err.getvalue()
    report = json.loads(out.getvalue())
    by_pair = report["summary"]["by_account_region"]
    assert len(by_pair) == 1 + len(MEMBERS) and all(list(regions) == list(REGIONS) for regions in by_pair.values())
    rows = report["evaluations"]
    members = [a for a in by_pair if a != "123456789012"]
    for member in members:  # compliant and non-compliant jobs in each member's two Regions
        for region in REGIONS:
            verdicts = {r["compliance"] for r in rows if (r["account"], r["region"], r["rule"])
                        == (member, region, "transcribe-job-pii-redaction")}
            assert {"COMPLIANT", "NON_COMPLIANT"} <= verdicts, (member, region)
    opt_out = [(r["account"], r["region"]) for r in rows if r["rule"] == "transcribe-ai-opt-out"]
    assert sorted(opt_out) == sorted((account, REGIONS[0]) for account in by_pair)  # once per account
    assert MANAGEMENT_NAME and len(set(members)) == len(MEMBERS)


def test_make_demo_shows_the_organization() -> None:
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text(encoding="utf-8")
    demo = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    assert "scan --demo --organization" in demo
    assert demo.index("scan --demo;") < demo.index("scan --demo --organization")
