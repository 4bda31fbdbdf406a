"""transcribe-guard rules: every rule with its practice, severity, resource kinds and frameworks, as
a table or JSON, from the registry and the compliance mappings; and what --severity and --framework
select from it."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from rules.catalog.registry import RULES
from transcribe_guard import cli, findings
from transcribe_guard.compliance import FRAMEWORKS, mapped_controls
from transcribe_guard.render import render_rules


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return cli.main(argv, out, err), out.getvalue(), err.getvalue()


def test_json_lists_every_rule_in_pack_order_with_its_registry_record() -> None:
    code, out, err = run(["rules", "--format", "json"])
    assert (code, err) == (cli.EXIT_OK, "")
    listed = json.loads(out)["rules"]
    assert [r["name"] for r in listed] == list(RULES)
    for record in listed:
        meta = RULES[record["name"]].METADATA
        assert (record["practice"], record["severity"], record["resource_kinds"], record["title"]) == \
            (meta["practice"], meta["severity"], meta["resource_kinds"], meta["title"])
        for framework in FRAMEWORKS:
            ids = [c["id"] for c in mapped_controls(framework).get(record["name"], [])]
            assert record["controls"][framework] == ids
            assert (framework in record["frameworks"]) == bool(ids)


def test_table_has_a_row_per_rule() -> None:
    code, out, _ = run(["rules"])
    lines = out.splitlines()
    assert code == cli.EXIT_OK
    assert lines[0].split()[:3] == ["RULE", "PRACTICE", "SEVERITY"]
    assert len(lines) == 1 + len(RULES)
    for line, (name, cls) in zip(lines[1:], RULES.items()):
        assert line.startswith(name + " ") and f" {cls.METADATA['severity']} " in line


def test_table_fits_a_terminal_width() -> None:
    text = render_rules(findings.rule_records(), "table", width=72)
    assert max(len(line) for line in text.splitlines()) <= 72
    lines = text.splitlines()
    body = lines[next(i for i, line in enumerate(lines) if line.startswith("──")) + 1:]
    starts = [line.split()[0] for line in body if line[:1].strip()]
    assert starts == list(RULES)  # the other columns fold; rule names stay whole, one row each


def test_severity_is_a_minimum() -> None:
    assert findings.at_least("medium") == ("medium", "high", "critical")
    chosen = findings.select_rules(list(RULES), "high", None)
    assert chosen == [n for n, c in RULES.items() if c.METADATA["severity"] in ("high", "critical")]
    assert findings.select_rules(list(RULES), "critical", None) == \
        [n for n, c in RULES.items() if c.METADATA["severity"] == "critical"]
    assert findings.select_rules(list(RULES), None, None) == list(RULES)


def test_framework_keeps_rules_mapped_to_one_of_them(monkeypatch: Any) -> None:
    # Every rule is mapped to every framework today; a rule whose mapping marks a framework not
    # applicable must drop out of that framework's scans.
    first, second = list(RULES)[:2]
    mapped = {first: ["hipaa"], second: ["pci", "nist"]}
    monkeypatch.setattr(findings, "frameworks_of", lambda name: mapped.get(name, []))
    assert findings.select_rules(list(RULES), None, ["hipaa"]) == [first]
    assert findings.select_rules(list(RULES), None, ["nist", "hipaa"]) == [first, second]
    assert findings.select_rules(list(RULES), None, ["soc2"]) == []


@pytest.mark.parametrize("argv, expected", [
    (["rules", "--format", "csv"], "invalid choice: 'csv'"),
    (["scan", "--severity", "urgent"], "invalid choice: 'urgent'"),
    (["scan", "--framework", "gdpr"], "invalid choice: 'gdpr'"),
    (["scan", "--status", "FAILED"], "invalid choice: 'FAILED'"),
])
def test_bad_choices_exit_2(argv: list[str], expected: str) -> None:
    code, _, err = run(argv)
    assert code == cli.EXIT_USAGE and expected in err and len(err.strip().splitlines()) == 1
