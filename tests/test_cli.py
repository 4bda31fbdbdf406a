"""The transcribe-guard command line: scan formats and exit codes, parameters files, the demo,
and the simulate -> seed with boto3 -> scan path over real HTTP."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from rules.catalog.registry import RULES
from tests.test_transcribe_vpc_endpoints import remove_default_vpc
from transcribe_guard import cli
from transcribe_guard.progress import ScanProgress
from transcribe_guard.render import CSV_FIELDS

ACCOUNT = "123456789012"
ARN = f"arn:aws:transcribe:us-east-1:{ACCOUNT}"


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(argv, out, err)
    return code, out.getvalue(), err.getvalue()


def test_demo_scan_prints_a_verdict_table_and_exits_3() -> None:
    code, out, err = run(["scan", "--demo"])
    assert code == cli.EXIT_NON_COMPLIANT
    assert out.splitlines()[0].split() == ["STATUS", "RULE", "RESOURCE", "ANNOTATION"]
    assert f"{ARN}:transcription-job/weekly-sales-meeting" in out
    assert "Verdict: FAIL" in out
    assert err == ""  # StringIO is not a terminal: no progress display


def test_demo_scan_json_has_every_rule_and_consistent_summary() -> None:
    code, out, _ = run(["scan", "--demo", "--format", "json"])
    report = json.loads(out)
    assert code == cli.EXIT_NON_COMPLIANT
    rows = report["evaluations"]
    assert rows and all(set(r) == set(CSV_FIELDS) for r in rows)
    # The demo account and Region, and a UTC time per result.
    assert {(r["account"], r["region"]) for r in rows} == {("123456789012", "us-east-1")}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["evaluated_at"]) for r in rows)
    assert {r["compliance"] for r in rows} <= {"COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"}
    assert report["summary"]["evaluations"] == len(rows)
    assert set(report["summary"]["by_rule"]) == set(RULES)
    for compliance, count in report["summary"]["by_compliance"].items():
        assert count == sum(1 for r in rows if r["compliance"] == compliance)
    # The demo shows every rule with both verdicts, except account-level rules: they evaluate the
    # account once, so the demo shows one verdict and their tests cover the other.
    for name in RULES:
        verdicts = {r["compliance"] for r in rows if r["rule"] == name}
        if RULES[name].METADATA["resource_kinds"] == ["AWS::::Account"]:
            assert len(verdicts & {"COMPLIANT", "NON_COMPLIANT"}) == 1, name
            continue
        assert {"COMPLIANT", "NON_COMPLIANT"} <= verdicts, name


def test_csv_output_to_file(tmp_path: Path) -> None:
    target = tmp_path / "report.csv"
    code, out, _ = run(["scan", "--demo", "--format", "csv", "--output", str(target),
                        "--rule", "transcribe-job-output-location"])
    assert code == cli.EXIT_NON_COMPLIANT and out == ""
    rows = list(csv.DictReader(target.read_text(encoding="utf-8").splitlines()))
    assert rows and {r["rule"] for r in rows} == {"transcribe-job-output-location"}
    assert {r["resource_type"] for r in rows} == {"AWS::::Account"}


def test_parameters_file_is_applied(tmp_path: Path) -> None:
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"transcribe-job-output-location": {"AllowedOutputBuckets": "acme-cc-transcripts"}}))
    _, out, _ = run(["scan", "--demo", "--format", "json", "--rule", "transcribe-job-output-location",
                     "--parameters", str(params)])
    rows = {r["resource_id"]: r for r in json.loads(out)["evaluations"]}
    clinic = rows[f"{ARN}:medical-transcription-job/clinic-visit-0001"]
    assert clinic["compliance"] == "NON_COMPLIANT"
    assert "acme-clinical-dictation" in clinic["annotation"]
    assert rows[f"{ARN}:transcription-job/cc-call-0001"]["compliance"] == "COMPLIANT"


@pytest.mark.parametrize("content, expected", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
    (json.dumps({"no-such-rule": {}}), "unknown rule 'no-such-rule'"),
    (json.dumps({"transcribe-job-output-location": "x"}), "rule transcribe-job-output-location: expected an object"),
    (json.dumps({"transcribe-job-output-location": {"AllowedOutputBuckets": "Bad_Name"}}),
     "rule transcribe-job-output-location: Parameter AllowedOutputBuckets has an invalid value"),
    (json.dumps({"transcribe-job-output-location": {"Bogus": "1"}}),
     "rule transcribe-job-output-location: Unknown parameter Bogus"),
])
def test_bad_parameters_file_exits_2_naming_rule_and_key(tmp_path: Path, content: str, expected: str) -> None:
    params = tmp_path / "params.json"
    params.write_text(content)
    code, out, err = run(["scan", "--demo", "--parameters", str(params)])
    assert code == cli.EXIT_USAGE and out == ""
    assert expected in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv, expected", [
    (["scan", "--rule", "nope"], "--rule nope: unknown rule"),
    (["scan", "--format", "xml"], "invalid choice: 'xml'"),
    (["scan", "--parameters", "/nonexistent/params.json"], "cannot read the file"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    ([], "the following arguments are required: command"),
])
def test_usage_errors_exit_2_with_one_line(argv: list[str], expected: str) -> None:
    code, _, err = run(argv)
    assert code == cli.EXIT_USAGE
    assert expected in err and len(err.strip().splitlines()) == 1


def test_unreachable_endpoint_exits_1(monkeypatch: Any) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    code, _, err = run(["scan", "--format", "json"])
    assert code == cli.EXIT_FAILED
    assert "the scan could not run" in err


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_counts_and_rates_only_on_a_terminal() -> None:
    now = [0.0]
    terminal = Terminal()
    progress = ScanProgress(terminal, enabled=True, clock=lambda: now[0])
    progress("[1/2] transcribe-job-output-location")
    for _ in range(6):
        progress.evaluated("transcribe-job-output-location")
    now[0] = 2.0
    assert progress.line().plain == "Scanning [1/2] transcribe-job-output-location: 6 judged (3/s); 6 overall (3/s)"
    progress("[2/2] transcribe-ai-opt-out")
    progress.evaluated("transcribe-ai-opt-out")
    now[0] = 3.0  # the second rule: 1 in its 1 s; overall 7 in 3 s
    assert progress.line().plain == "Scanning [2/2] transcribe-ai-opt-out: 1 judged (1/s); 7 overall (2/s)"
    progress.done()
    assert "Scanning [1/2] transcribe-job-output-location" in terminal.getvalue()
    assert "Scanning [2/2] transcribe-ai-opt-out: 0 judged" in terminal.getvalue()
    silent = Terminal()
    quiet = ScanProgress(silent, enabled=False)
    quiet("[1/2] x")
    quiet.evaluated("x")
    quiet.done()
    assert silent.getvalue() == ""
    pipe = io.StringIO()  # not a terminal: nothing drawn even when enabled
    piped = ScanProgress(pipe, enabled=True)
    piped("[1/2] x")
    piped.done()
    assert pipe.getvalue() == ""


def test_exit_0_when_nothing_is_non_compliant(sim: Any) -> None:
    # Account-level rules judge the account itself, and an empty account lacks what they require
    # (a trail, an alarm); the rules that evaluate resources find nothing to fault once the Region's
    # default VPC, which every new account has and which has no VPC endpoints, is gone.
    remove_default_vpc(sim)
    names = [n for n, cls in RULES.items() if cls.METADATA["resource_kinds"] != ["AWS::::Account"]
             and not cls.METADATA["parameters"].get("required")]  # as an all-rules scan skips them
    code, out, _ = run(["scan", *[arg for name in names for arg in ("--rule", name)]])
    assert code == cli.EXIT_OK
    assert "(no resources evaluated)" in out and "Verdict: PASS" in out


def test_build_check_passes_on_the_repository() -> None:
    code, out, _ = run(["build", "--check", "--root", str(Path(__file__).resolve().parent.parent)])
    assert code == cli.EXIT_OK, out


@pytest.fixture
def simulator_process() -> Any:
    process = subprocess.Popen([sys.executable, "-m", "transcribe_guard.cli", "simulate", "--port", "0", "--seed", "empty"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()  # type: ignore[union-attr]
        yield process, url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_simulate_then_seed_with_boto3_then_scan_over_http(simulator_process: Any) -> None:
    process, url = simulator_process
    assert url.startswith("http://127.0.0.1:") and int(url.rsplit(":", 1)[1]) > 0
    env = {**os.environ, "AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1"}
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    s3, kms, transcribe = (session.client(s, endpoint_url=url) for s in ("s3", "kms", "transcribe"))
    key = kms.create_key()["KeyMetadata"]["Arn"]
    for bucket in ("calls", "transcripts"):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket="calls", Key="c1.wav", Body=b"RIFF")
    s3.put_object(Bucket="calls", Key="words.txt", Body=b"hello\n")
    transcribe.start_transcription_job(
        TranscriptionJobName="call-1", LanguageCode="en-US", Media={"MediaFileUri": "s3://calls/c1.wav"},
        OutputBucketName="transcripts", OutputEncryptionKMSKeyId=key,
        ContentRedaction={"RedactionType": "PII", "RedactionOutput": "redacted"}, Tags=[{"Key": "Team", "Value": "cc"}])
    transcribe.start_transcription_job(TranscriptionJobName="meeting", LanguageCode="en-US",
                                       Media={"MediaFileUri": "s3://calls/c1.wav"})
    transcribe.start_call_analytics_job(CallAnalyticsJobName="ca-1", Media={"MediaFileUri": "s3://calls/c1.wav"},
                                        OutputLocation="s3://transcripts/analytics/")
    transcribe.create_vocabulary(VocabularyName="terms", LanguageCode="en-US", VocabularyFileUri="s3://calls/words.txt",
                                 EncryptionConfiguration={"KMSKey": key}, Tags=[{"Key": "Team", "Value": "cc"}])
    transcribe.tag_resource(ResourceArn=f"{ARN}:transcription-job/meeting", Tags=[{"Key": "Team", "Value": "sales"}])
    transcribe.start_transcription_job(TranscriptionJobName="lost", LanguageCode="en-US",
                                       Media={"MediaFileUri": "s3://calls/missing.wav"}, OutputBucketName="transcripts")

    result = subprocess.run([sys.executable, "-m", "transcribe_guard.cli", "scan", "--format", "json",
                             "--rule", "transcribe-job-output-location"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == cli.EXIT_NON_COMPLIANT, result.stderr
    assert result.stderr == ""
    verdicts = {r["resource_id"]: r["compliance"] for r in json.loads(result.stdout)["evaluations"]}
    assert verdicts == {
        f"{ARN}:transcription-job/call-1": "COMPLIANT",
        f"{ARN}:transcription-job/meeting": "NON_COMPLIANT",
        f"{ARN}:transcription-job/lost": "NOT_APPLICABLE",
        f"{ARN}:analytics/ca-1": "COMPLIANT",
    }


def test_a_malformed_endpoint_is_a_usage_error_not_a_traceback(monkeypatch: Any) -> None:
    # botocore refuses AWS_ENDPOINT_URL="not a url" with a ValueError when building a client.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "not a url")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    code, out, err = run(["scan", "--quiet", "--rule", "transcribe-ai-opt-out"])
    assert code == cli.EXIT_USAGE and out == ""
    assert err == "transcribe-guard: the AWS SDK configuration cannot build a client: Invalid endpoint: not a url.\n"


# --- exit status, errors apart from findings, filters ------------------------------------------

def record(status: str) -> dict[str, Any]:
    compliance = {"ERROR": "NON_COMPLIANT", "MUTED": "NON_COMPLIANT"}.get(status, status)
    return {"status": status, "compliance": compliance}


@pytest.mark.parametrize("statuses, expected", [
    ([], cli.EXIT_OK),
    (["COMPLIANT", "NOT_APPLICABLE", "MUTED"], cli.EXIT_OK),
    (["COMPLIANT", "NON_COMPLIANT"], cli.EXIT_NON_COMPLIANT),
    (["ERROR", "NON_COMPLIANT", "MUTED"], cli.EXIT_NON_COMPLIANT),
    (["ERROR", "COMPLIANT", "MUTED"], cli.EXIT_NOT_EVALUATED),
])
def test_exit_status_findings_3_errors_only_4(statuses: list[str], expected: int) -> None:
    assert cli.exit_status([record(s) for s in statuses]) == expected


def test_could_not_evaluate_only_exits_4_and_is_counted_as_error(sim: Any, monkeypatch: Any) -> None:
    import botocore.client

    from tests.helpers import access_denied, fail_calls

    sim.client("s3").create_bucket(Bucket="calls")
    sim.client("s3").put_object(Bucket="calls", Key="c1.wav", Body=b"RIFF")
    sim.client("transcribe").start_call_analytics_job(  # the rule reads call analytics jobs with a Get
        CallAnalyticsJobName="ca-1", Media={"MediaFileUri": "s3://calls/c1.wav"}, OutputLocation="s3://calls/out/")
    fail_calls(monkeypatch, botocore.client.BaseClient, "_make_api_call",
               lambda client, operation, params: operation == "GetCallAnalyticsJob",
               lambda: access_denied("GetCallAnalyticsJob"))
    code, out, _ = run(["scan", "--rule", "transcribe-job-pii-redaction", "--format", "json"])
    report = json.loads(out)
    [row] = report["evaluations"]
    assert (row["compliance"], row["status"]) == ("NON_COMPLIANT", "ERROR")
    assert row["annotation"].startswith("Could not evaluate:")
    assert report["summary"]["by_status"]["ERROR"] == 1 and report["summary"]["by_status"]["NON_COMPLIANT"] == 0
    assert report["summary"]["by_compliance"]["NON_COMPLIANT"] == 1  # Config's verdict is unchanged
    assert code == cli.EXIT_NOT_EVALUATED
    code, table, _ = run(["scan", "--rule", "transcribe-job-pii-redaction"])
    assert code == cli.EXIT_NOT_EVALUATED and table.splitlines()[1].startswith("ERROR ")
    assert "Verdict: ERROR (0 non-compliant, 1 could not be evaluated" in table
    _, text, _ = run(["scan", "--rule", "transcribe-job-pii-redaction", "--format", "csv"])
    assert [r["status"] for r in csv.DictReader(io.StringIO(text))] == ["ERROR"]


# --- terminal: --version, output paths, tables that fit ------------------------------------------

def test_version_comes_from_the_package_metadata() -> None:
    from importlib.metadata import version

    code, out, err = run(["--version"])
    assert (code, out, err) == (cli.EXIT_OK, f"transcribe-guard {version('transcribe-guard')}\n", "")


@pytest.mark.parametrize("argv, expected", [
    (["scan", "--demo", "--output", "{tmp}"], "is a folder"),
    (["scan", "--demo", "--output", "/proc/x"], "cannot write in /proc"),
    (["scan", "--demo", "--output", "{tmp}/missing/report.json"], "the folder {tmp}/missing does not exist"),
    (["scan", "--demo", "--output", "{tmp}/file/report.json"], "the folder {tmp}/file is not a folder"),
    (["package", "--output", "{tmp}"], "is a folder"),
    (["package", "--output", "/proc/x/rules.zip"], "cannot write in /proc"),
    (["package", "--output", "{tmp}/file/rules.zip"], "is not a folder"),
    (["evidence", "--demo", "--from", "scan", "--output", "{tmp}/file"], "exists and is not a folder"),
    (["evidence", "--demo", "--from", "scan", "--output", "{tmp}"], "exists and is not empty"),
    (["evidence", "--demo", "--from", "scan", "--output", "/proc/x"], "cannot write in /proc"),
    (["evidence", "--demo", "--from", "scan", "--zip", "--output", "{tmp}/file.zip"], "exists"),
])
def test_unwritable_output_paths_exit_2_before_any_work(tmp_path: Path, monkeypatch: Any, argv: list[str],
                                                         expected: str) -> None:
    from transcribe_guard import evidence, package, scan

    (tmp_path / "file").write_text("x")
    (tmp_path / "file.zip").write_text("x")

    def no_work(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("work started before the output path was checked")

    monkeypatch.setattr(scan, "run_scan", no_work)
    monkeypatch.setattr(scan, "stream_scan", no_work)
    monkeypatch.setattr(evidence, "collect", no_work)
    monkeypatch.setattr(package, "build_package", no_work)
    code, out, err = run([a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert code == cli.EXIT_USAGE and out == ""
    assert expected.replace("{tmp}", str(tmp_path)) in err and len(err.strip().splitlines()) == 1


