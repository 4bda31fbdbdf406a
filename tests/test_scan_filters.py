"""scan's filters and findings fields against one demo account shared by the module (seeding it
is most of a scan's time): --status, --severity, --framework, the enriched CSV/JSON fields, --output,
and the table on a terminal."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Iterator

import pytest

from rules.catalog.registry import RULES
from transcribe_guard import cli
from transcribe_guard.simulator import Simulator

ACCOUNT = "123456789012"
ARN = f"arn:aws:transcribe:us-east-1:{ACCOUNT}"


@pytest.fixture(scope="module", autouse=True)
def demo() -> Iterator[None]:
    """The demo account, as `scan --demo` would scan it."""
    with Simulator(seed="demo"):
        yield


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(argv, out, err)
    return code, out.getvalue(), err.getvalue()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True



def test_status_lists_only_those_results_but_the_summary_and_exit_count_all() -> None:
    rule = "transcribe-job-output-location"
    code, out, _ = run(["scan", "--rule", rule, "--format", "json", "--status", "COMPLIANT",
                        "--status", "NOT_APPLICABLE"])
    report = json.loads(out)
    assert {r["status"] for r in report["evaluations"]} == {"COMPLIANT", "NOT_APPLICABLE"}
    assert report["summary"]["by_status"]["NON_COMPLIANT"] > 0  # counted, not listed
    assert report["summary"]["shown"] == len(report["evaluations"]) < report["summary"]["evaluations"]
    assert code == cli.EXIT_NON_COMPLIANT  # a filter never hides a finding from the exit status
    _, table, _ = run(["scan", "--rule", rule, "--status", "NON_COMPLIANT"])
    rows = [line for line in table.splitlines()[1:] if line.startswith(("NON_COMPLIANT", "COMPLIANT", "NOT_"))]
    assert rows and all(line.startswith("NON_COMPLIANT ") for line in rows)
    assert "shown)" in table


def test_severity_and_framework_select_rules() -> None:
    code, out, _ = run(["scan", "--severity", "critical", "--framework", "pci", "--format", "json"])
    report = json.loads(out)
    critical = [n for n, c in RULES.items() if c.METADATA["severity"] == "critical"]
    assert list(report["summary"]["by_rule"]) == critical
    assert {r["rule"] for r in report["evaluations"]} == set(critical)
    assert all(r["severity"] == "critical" and r["controls"]["pci"] for r in report["evaluations"])
    low = next(n for n, c in RULES.items() if c.METADATA["severity"] != "critical")
    code, _, err = run(["scan", "--rule", low, "--severity", "critical"])
    assert code == cli.EXIT_USAGE and "no rule to run matches --severity/--framework" in err


def test_results_carry_severity_practice_remediation_and_controls() -> None:
    from transcribe_guard.compliance import mapped_controls

    _, out, _ = run(["scan", "--rule", "transcribe-ai-opt-out", "--format", "csv"])
    [row] = list(csv.DictReader(io.StringIO(out)))
    meta = RULES["transcribe-ai-opt-out"].METADATA
    assert (row["severity"], row["practice"], row["remediation"], row["title"]) == \
        (meta["severity"], str(meta["practice"]), meta["remediation"], meta["title"])
    expected = [f"{f}:{c['id']}" for f in ("hipaa", "pci", "soc2", "nist") for c in mapped_controls(f)[meta["name"]]]
    assert row["controls"].split(";") == expected


def test_output_to_a_new_file_in_an_existing_folder_is_written(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    code, out, _ = run(["scan", "--rule", "transcribe-ai-opt-out", "--format", "json", "--output", str(target)])
    assert code == cli.EXIT_NON_COMPLIANT and out == ""
    assert json.loads(target.read_text())["evaluations"][0]["rule"] == "transcribe-ai-opt-out"


def test_table_on_a_terminal_fits_its_width_and_shows_markup_as_text(monkeypatch: Any) -> None:
    from transcribe_guard.render import render

    monkeypatch.setenv("COLUMNS", "100")
    terminal = Terminal()
    code = cli.main(["scan", "--rule", "transcribe-job-output-location"], terminal, io.StringIO())
    lines = terminal.getvalue().splitlines()
    assert code == cli.EXIT_NON_COMPLIANT
    assert max(len(line) for line in lines) <= 100  # the table and the counts after it
    body = lines[next(i for i, line in enumerate(lines) if line.startswith("──")) + 1:lines.index("")]
    starts = [line.split()[0] for line in body if line[:1].strip()]  # one row per result, folded to fit
    assert len(starts) == 10 and starts.count("NON_COMPLIANT") == 2 and "Verdict: FAIL (2 non-compliant" in terminal.getvalue()
    hostile = {"account": ACCOUNT, "region": "us-east-1", "evaluated_at": "2026-12-02T15:00:00Z",
               "rule": "transcribe-job-pii-redaction", "resource_type": "AWS::::Account",
               "resource_id": f"{ARN}:transcription-job/[bold]x[/bold]:smile:\x1b[2K",
               "compliance": "NON_COMPLIANT", "annotation": "Job [red]y[/red] lacks it."}
    text = render([hostile], "table", ["transcribe-job-pii-redaction"], width=200)
    assert "[bold]x[/bold]:smile:\\x1b[2K" in text and "Job [red]y[/red] lacks it." in text
    assert "\x1b" not in text
