"""scan --mutelist: what each field matches (pure, on plain results), expiry, invalid files with the
entry's line, and muted results in every format through the CLI against the demo account."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from transcribe_guard import cli, mutelist
from transcribe_guard.findings import enrich
from transcribe_guard.scan import UsageError
from transcribe_guard.scan_parameters import DEMO_PARAMETERS
from transcribe_guard.simulator import Simulator

ACCOUNT = "123456789012"
JOB = f"arn:aws:transcribe:us-east-1:{ACCOUNT}:transcription-job"
PII = "transcribe-job-pii-redaction"
LOCATION = "transcribe-job-output-location"


def result(resource_id: str = f"{JOB}/test-1", rule: str = PII, compliance: str = "NON_COMPLIANT",
           annotation: str = "The job does not redact PII.", account: str = ACCOUNT,
           region: str = "us-east-1") -> dict[str, str]:
    return {"account": account, "region": region, "evaluated_at": "2026-12-02T15:00:00Z", "rule": rule,
            "resource_type": "AWS::::Account", "resource_id": resource_id, "compliance": compliance,
            "annotation": annotation}


def entry(**fields: Any) -> mutelist.Entry:
    return mutelist.Entry(line=2, **{"rule": PII, "resource": f"{JOB}/test-*", "reason": "synthetic", **fields})


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "mutelist.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


# --- matching, field by field --------------------------------------------------------------------

def test_rule_and_resource_glob_must_both_match() -> None:
    e = entry()
    assert e.matches(result(), {})
    assert not e.matches(result(f"{JOB}/prod-1"), {})  # glob does not match
    assert not e.matches(result(rule=LOCATION), {})  # another rule, same resource
    assert not e.matches(result(f"{JOB}/TEST-1"), {})  # case-sensitive


def test_the_glob_is_the_entrys_never_the_resources() -> None:
    # An account can name a resource "*" or "[a-z]*"; it is text matched against the entry's glob.
    assert not entry(resource=f"{JOB}/test-*").matches(result("*"), {})
    assert not entry(resource="arn:aws:*").matches(result("*"), {})
    assert not entry(resource=f"{JOB}/exact").matches(result(f"{JOB}/*"), {})
    assert entry(resource="*").matches(result("*"), {})  # an entry that names every resource, of its own rule
    assert not entry(resource="*").matches(result("*", rule=LOCATION), {})


def test_account_and_region_match_exactly_when_given() -> None:
    assert entry(account=ACCOUNT).matches(result(), {})
    assert not entry(account="210987654321").matches(result(), {})
    assert entry(region="us-east-1").matches(result(), {})
    assert not entry(region="eu-west-1").matches(result(), {})
    assert entry().matches(result(account="210987654321", region="eu-west-1"), {})  # omitted: any


def test_tags_match_only_what_the_scan_read() -> None:
    e = entry(tags={"Environment": "test"})
    rid = f"{JOB}/test-1"
    assert e.matches(result(rid), {rid: {"Environment": "test", "Owner": "qa"}})
    assert not e.matches(result(rid), {rid: {"Environment": "prod"}})
    assert not e.matches(result(rid), {rid: {}})
    assert not e.matches(result(rid), {})  # tags not read in this scan: the entry does not name the resource
    assert not e.matches(result(rid), {f"{JOB}/test-2": {"Environment": "test"}})  # another resource's tags


def test_only_non_compliant_results_are_muted_and_errors_never() -> None:
    entries = [entry()]
    found = result()
    assert enrich(found, mutelist.reason_for(found, entries, {}))["status"] == "MUTED"
    error = result(annotation="Could not evaluate: AccessDenied when reading the job.")
    muted_error = enrich(error, mutelist.reason_for(error, entries, {}))
    assert (muted_error["status"], muted_error["mute_reason"], muted_error["compliance"]) == ("ERROR", "", "NON_COMPLIANT")
    compliant = result(compliance="COMPLIANT")
    assert enrich(compliant, mutelist.reason_for(compliant, entries, {}))["status"] == "COMPLIANT"


def test_a_reason_is_escaped_like_every_value_written() -> None:
    from transcribe_guard.render import render

    found = result()
    muted = enrich(found, "ok\x1b[2K\u202eforged")
    for fmt in ("table", "csv"):
        text = render([muted], fmt, [PII])
        assert "\x1b" not in text and "\u202e" not in text and "ok\\x1b[2K\\u202eforged" in text
    assert json.loads(render([muted], "json", [PII]))["evaluations"][0]["mute_reason"] == "ok\x1b[2K\u202eforged"


def test_first_matching_entry_gives_the_reason() -> None:
    entries = [entry(resource=f"{JOB}/prod-*", reason="first"), entry(reason="second"), entry(reason="third")]
    assert mutelist.reason_for(result(), entries, {}) == "second"


# --- loading -------------------------------------------------------------------------------------

VALID = f"""\
mutelist:
  - rule: {PII}
    resource: "{JOB}/test-*"
    account: "{ACCOUNT}"
    region: us-east-1
    tags: {{Environment: test}}
    reason: Synthetic test audio only (SEC-1).
    expires: 2030-01-31
  - rule: {LOCATION}
    resource: "*"
    reason: Accepted until the migration (SEC-2).
    expires: 2020-01-31
"""


def test_a_valid_file_loads_with_lines_and_expired_entries_are_dropped_with_a_warning(tmp_path: Path) -> None:
    loaded = mutelist.load(write(tmp_path, VALID))
    first, second = loaded.entries
    assert (first.line, first.rule, first.account, first.region, dict(first.tags), first.expires) == \
        (2, PII, ACCOUNT, "us-east-1", {"Environment": "test"}, date(2030, 1, 31))
    assert second.line == 9
    active, warnings = loaded.active(date(2026, 12, 2))
    assert active == [first]
    assert len(warnings) == 1 and "line 9" in warnings[0] and "expired on 2020-01-31" in warnings[0]
    assert loaded.active(date(2030, 1, 31))[0] == [first]  # in force on its last day
    assert loaded.active(date(2030, 2, 1))[0] == []


@pytest.mark.parametrize("text, expected", [
    (f"mutelist:\n  - rule: {PII}\n    resource: '*'\n", "line 2: missing required field reason"),
    (f"mutelist:\n  - rule: {PII}\n    resource: '*'\n    reason: ''\n", "line 2: reason must be a non-empty string"),
    (f"mutelist:\n  - rule: {PII}\n    resource: '*'\n    reason: x\n    note: y\n", "line 2: unknown field 'note'"),
    (f"mutelist:\n  - rule: {PII}\n    resource: '*'\n    reason: x\n  - rule: nope\n    resource: '*'\n    reason: x\n",
     "line 5: unknown rule 'nope'"),
    (f"mutelist:\n  - rule: {PII}\n    resource: '*'\n    reason: x\n    account: 12345\n", "line 2: account must be"),
    (f"mutelist:\n  - rule: {PII}\n    resource: '*'\n    reason: x\n    region: Mars\n", "line 2: region 'Mars'"),
    (f"mutelist:\n  - rule: {PII}\n    resource: '*'\n    reason: x\n    expires: soon\n", "line 2: expires must be a date"),
    (f"mutelist:\n  - rule: {PII}\n    resource: '*'\n    reason: x\n    expires: 2027-02-30\n", "line 5: '2027-02-30'"),
    (f"mutelist:\n  - rule: {PII}\n    resource: '*'\n    reason: x\n    tags: {{Env: 1}}\n", "line 2: tag keys and values"),
    (f"mutelist:\n  - rule: {PII}\n    resource: '*'\n    reason: x\n    reason: y\n", "line 2: field 'reason' is given twice"),
    (f"mutelist:\n  - rule: {PII}\n    resource: '*'\n    reason: [x]\n", "line 4: expected a single value"),
    ("mutelist: {rule: x}\n", "line 1: 'mutelist' must be a list"),
    ("- rule: x\n", "line 1: expected a mapping with one key"),
    ("entries: []\n", "exactly one top-level key"),
    ("mutelist:\n  - rule: [unclosed\n", "line 3: not valid YAML"),
])
def test_invalid_files_exit_2_naming_the_line(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(UsageError) as raised:
        mutelist.load(path)
    assert expected in str(raised.value)
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["scan", "--demo", "--mutelist", path], out, err) == cli.EXIT_USAGE
    assert out.getvalue() == "" and len(err.getvalue().strip().splitlines()) == 1 and expected in err.getvalue()


@pytest.mark.parametrize("region", ["us-east-1", "us-gov-west-1", "cn-north-1", "eusc-de-east-1", "il-central-1"])
def test_regions_of_every_partition_botocore_knows_are_accepted(tmp_path: Path, region: str) -> None:
    text = f"mutelist:\n  - rule: {PII}\n    resource: '*'\n    reason: x\n    region: {region}\n"
    assert mutelist.load(write(tmp_path, text)).entries[0].region == region


def test_an_empty_file_or_list_mutes_nothing(tmp_path: Path) -> None:
    assert mutelist.load(write(tmp_path, "")).entries == ()
    assert mutelist.load(write(tmp_path, "mutelist:\n")).entries == ()


# --- through the CLI, every format ---------------------------------------------------------------

def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return cli.main(argv, out, err), out.getvalue(), err.getvalue()


DEMO = f"arn:aws:transcribe:us-east-1:{ACCOUNT}"
MUTE_MEETING = f"""\
mutelist:
  - rule: {LOCATION}
    resource: "{DEMO}:transcription-job/weekly-*"
    reason: Ad-hoc [bold]meeting[/bold], no customer data.
  - rule: {LOCATION}
    resource: "*"
    reason: Everything, but expired.
    expires: 2020-01-01
"""


@pytest.fixture(scope="module")
def demo() -> Any:
    """The demo account, as `scan --demo` scans it, shared by the module (seeding it is most of a scan's time)."""
    with Simulator(seed="demo"):
        yield


@pytest.fixture(scope="module")
def meeting_mutelist(demo: Any, tmp_path_factory: Any) -> str:
    return write(tmp_path_factory.mktemp("mutelist"), MUTE_MEETING)


def test_muted_in_json_with_the_reason_and_an_expiry_warning(meeting_mutelist: str) -> None:
    code, out, err = run(["scan", "--rule", LOCATION, "--format", "json", "--mutelist", meeting_mutelist])
    rows = {r["resource_id"]: r for r in json.loads(out)["evaluations"]}
    meeting = rows[f"{DEMO}:transcription-job/weekly-sales-meeting"]
    assert (meeting["status"], meeting["compliance"]) == ("MUTED", "NON_COMPLIANT")
    assert meeting["mute_reason"] == "Ad-hoc [bold]meeting[/bold], no customer data."
    others = [r for r in rows.values() if r is not meeting]
    assert "NON_COMPLIANT" in {r["status"] for r in others}  # the expired catch-all mutes nothing
    assert all(r["mute_reason"] == "" for r in others)
    assert json.loads(out)["summary"]["by_status"]["MUTED"] == 1
    assert code == cli.EXIT_NON_COMPLIANT
    assert "warning" in err and "line 5" in err and "expired on 2020-01-01" in err


def test_muted_in_csv_and_table(meeting_mutelist: str) -> None:
    _, out, _ = run(["scan", "--rule", LOCATION, "--format", "csv", "--mutelist", meeting_mutelist])
    rows = {r["resource_id"]: r for r in csv.DictReader(io.StringIO(out))}
    meeting = rows[f"{DEMO}:transcription-job/weekly-sales-meeting"]
    assert (meeting["status"], meeting["mute_reason"]) == ("MUTED", "Ad-hoc [bold]meeting[/bold], no customer data.")
    _, table, _ = run(["scan", "--rule", LOCATION, "--mutelist", meeting_mutelist])
    line = next(row for row in table.splitlines() if "weekly-sales-meeting" in row)
    assert line.startswith("MUTED ") and "(muted: Ad-hoc [bold]meeting[/bold], no customer data.)" in line
    assert "1 muted" in table


def test_muting_every_finding_exits_0(demo: Any, tmp_path: Path) -> None:
    path = write(tmp_path, f"mutelist:\n  - rule: {LOCATION}\n    resource: '*'\n    reason: accepted\n")
    code, out, _ = run(["scan", "--rule", LOCATION, "--format", "json", "--mutelist", path])
    statuses = {r["status"] for r in json.loads(out)["evaluations"]}
    assert "MUTED" in statuses and "NON_COMPLIANT" not in statuses
    assert code == cli.EXIT_OK


def test_tags_mute_through_the_scan_only_where_it_read_them(demo: Any, tmp_path: Path) -> None:
    # cc-analytics-pilot is tagged DataClassification=public; weekly-sales-meeting has no tags.
    path = write(tmp_path, f"mutelist:\n  - rule: {PII}\n    resource: '*'\n    tags: {{DataClassification: public}}\n"
                           "    reason: public pilot\n")
    pilot, meeting = f"{DEMO}:analytics/cc-analytics-pilot", f"{DEMO}:transcription-job/weekly-sales-meeting"
    parameters = tmp_path / "parameters.json"
    parameters.write_text(json.dumps(DEMO_PARAMETERS))
    _, out, _ = run(["scan", "--rule", PII, "--rule", "transcribe-resource-tagged", "--format", "json",
                     "--mutelist", path, "--parameters", str(parameters)])
    rows = {(r["rule"], r["resource_id"]): r["status"] for r in json.loads(out)["evaluations"]}
    assert rows[(PII, pilot)] == "MUTED"
    assert rows[(PII, meeting)] == "NON_COMPLIANT"
    assert rows[("transcribe-resource-tagged", pilot)] == "NON_COMPLIANT"  # the entry names another rule
    # transcribe-job-pii-redaction alone reads the call analytics job's Get, which carries its tags:
    # the scan knows them as it writes the result (results stream out, so tags read later could not count).
    _, out, _ = run(["scan", "--rule", PII, "--format", "json", "--mutelist", path])
    alone = {r["resource_id"]: r["status"] for r in json.loads(out)["evaluations"]}
    assert alone[pilot] == "MUTED" and alone[meeting] == "NON_COMPLIANT"


def test_muted_in_ocsf_and_asff(meeting_mutelist: str) -> None:
    meeting = f"{DEMO}:transcription-job/weekly-sales-meeting"
    _, out, _ = run(["scan", "--rule", LOCATION, "--format", "asff", "--mutelist", meeting_mutelist])
    asff = {f["Resources"][0]["Id"]: f for f in json.loads(out)}
    assert asff[meeting]["Workflow"]["Status"] == "SUPPRESSED"
    assert asff[meeting]["Compliance"]["Status"] == "FAILED"  # it keeps what the rule found
    assert asff[meeting]["ProductFields"]["transcribe-guard/mute-reason"] == \
        "Ad-hoc [bold]meeting[/bold], no customer data."
    assert {f["Workflow"]["Status"] for r, f in asff.items() if r != meeting} == {"NEW"}
    _, out, _ = run(["scan", "--rule", LOCATION, "--format", "ocsf", "--mutelist", meeting_mutelist])
    ocsf = {f["resources"][0]["uid"]: f for f in json.loads(out)}
    assert ocsf[meeting]["status"] == "Suppressed"
    assert {f["status"] for r, f in ocsf.items() if r != meeting} == {"New"}
