"""Evidence bundles: `evidence --from config` after deploy equals `scan` for the custom rules,
carries managed rules and process checks as INSUFFICIENT_DATA, validates against its schema, and
`evidence verify` fails on any changed byte of any file (folder and zip)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any, Iterator

import boto3
import jsonschema
import pytest

from rules.catalog.registry import RULES
from transcribe_guard import cli, deploy, evidence, scan
from transcribe_guard.progress import ProgressBar
from transcribe_guard.scan_parameters import DEMO_PARAMETERS, load_parameters
from transcribe_guard.compliance import FRAMEWORKS, registry_entries
from transcribe_guard.iam_actions import recording
from transcribe_guard.simulator import Simulator
from transcribe_guard.simulator.config import result_token
from transcribe_guard.simulator.seeds import CC_AUDIO, CC_TRANSCRIPTS

from .test_deploy import required_pack_parameters

NOW = dt.datetime(2026, 3, 14, 15, 9, 26, tzinfo=dt.timezone.utc)
CANARY_TAG = "canary-tag-value-5f1e9c"
CANARY_KEY = "canary-media/patient-7731-visit.wav"
TRANSCRIPT_TEXT = "simulated transcript"  # what every simulated transcript object says


def key(row: dict[str, str]) -> tuple[str, ...]:
    return (row["rule"], row["resource_type"], row["resource_id"], row["compliance"], row["annotation"])


@pytest.fixture(scope="module")
def account(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The demo account with the pack deployed and evaluated, a canary job whose tag value and media
    key must never reach a bundle, a scan of the same account, and bundles collected from Config."""
    with Simulator(seed="demo") as sim:
        s3, transcribe = sim.client("s3"), sim.client("transcribe")
        s3.put_object(Bucket=CC_AUDIO, Key=CANARY_KEY, Body=b"RIFF canary")
        transcribe.start_transcription_job(
            TranscriptionJobName="canary-job", LanguageCode="en-US", Media={"MediaFileUri": f"s3://{CC_AUDIO}/{CANARY_KEY}"},
            OutputBucketName=CC_TRANSCRIPTS, Tags=[{"Key": "DataClassification", "Value": CANARY_TAG}])
        session = boto3.session.Session()
        done = deploy.deploy(session, required_pack_parameters())
        config = sim.client("config")
        deploy.start_evaluation(config, done.pack_name)
        rules = list(RULES)
        scanned = scan.run_scan(rules, load_parameters(None, rules, DEMO_PARAMETERS))
        with recording() as recorder:  # records the calls of clients of boto3's default session
            collected = evidence.collect_from_config(boto3._get_default_session(), done.pack_name)
        reported_score = config.list_conformance_pack_compliance_scores()["ConformancePackComplianceScores"][0]["Score"]
        objects = [o["Key"] for b in s3.list_buckets()["Buckets"]
                   for o in s3.list_objects_v2(Bucket=b["Name"]).get("Contents", [])]
    document = evidence.build_evidence(collected, list(FRAMEWORKS), None, NOW)
    root = tmp_path_factory.mktemp("evidence")
    folder, folder_sha = evidence.write_bundle(document, root / "bundle")  # each prints its own report.pdf
    archive, manifest_sha = evidence.write_bundle(document, root / "bundle-zip", as_zip=True)
    yield {"scanned": scanned, "collected": collected, "document": document, "folder": folder, "zip": archive,
           "manifest_sha": manifest_sha, "folder_sha": folder_sha, "actions": recorder.actions, "score": reported_score, "objects": objects,
           "pack": done.pack_name, "root": root}


def test_config_bundle_verdicts_equal_scan_for_custom_rules(account: dict[str, Any]) -> None:
    document = json.loads((account["folder"] / "evidence.json").read_text(encoding="utf-8"))
    bundled = {key(r) for r in document["results"] if r["rule"] in RULES}
    assert bundled == {key(r) for r in account["scanned"]}
    statuses = {r["name"]: r["status"] for r in document["rules"]}
    for name in RULES:
        verdicts = {r["compliance"] for r in account["scanned"] if r["rule"] == name}
        want = "NON_COMPLIANT" if "NON_COMPLIANT" in verdicts else "COMPLIANT" if "COMPLIANT" in verdicts else \
            "INSUFFICIENT_DATA"
        assert statuses[name] == want, name


def test_every_registry_entry_is_in_the_bundle_with_its_pack_rule_name(account: dict[str, Any]) -> None:
    rules = {r["name"]: r for r in account["document"]["rules"]}
    for entry in registry_entries():
        rule = rules[entry.name]
        assert rule["kind"] == entry.kind and rule["practice"] == entry.practice
        assert rule["config_rule_name"].startswith(f"{entry.name}{deploy.PACK_RULE_SUFFIX}")
        if entry.kind != "custom":  # the simulator does not run managed rules; nobody recorded process checks
            assert rule["status"] == "INSUFFICIENT_DATA" and rule["note"] == "AWS Config holds no result for this rule."


def test_bundle_validates_and_its_score_is_configs(account: dict[str, Any]) -> None:
    document = json.loads((account["folder"] / "evidence.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(evidence.evidence_schema()).validate(document)
    assert f"{document['summary']['score']:.2f}" == account["score"] == document["collection"]["config_reported_score"]
    collection = document["collection"]
    assert (collection["account"], collection["region"], collection["source"]) == ("123456789012", "us-east-1", "config")
    assert collection["rule_code_sha256"] == evidence.rule_code_sha256()
    assert collection["pack_version"] == evidence.pack_version() != "unknown"


def test_config_collection_needs_only_the_documented_actions(account: dict[str, Any]) -> None:
    assert account["actions"] == set(evidence.CONFIG_ACTIONS)


def test_controls_carry_their_rules_status_and_mapping(account: dict[str, Any]) -> None:
    from transcribe_guard import compliance

    document = account["document"]
    statuses = {r["name"]: r["status"] for r in document["rules"]}
    assert [f["id"] for f in document["frameworks"]] == list(FRAMEWORKS)
    for framework in document["frameworks"]:
        mapped = compliance.mapped_controls(framework["id"])
        catalog = compliance.catalog_controls(framework["id"])
        for control in framework["controls"]:
            assert control["title"] == catalog[control["id"]]["title"]
            for rule in control["rules"]:
                assert rule["status"] == statuses[rule["rule"]]
                assert control["id"] in {c["id"] for c in mapped[rule["rule"]]}
            order = ("NON_COMPLIANT", "INSUFFICIENT_DATA", "COMPLIANT")
            assert control["status"] == min((r["status"] for r in control["rules"]), key=order.index)


def test_csv_has_one_row_per_control_rule_and_resource(account: dict[str, Any]) -> None:
    document = account["document"]
    text = (account["folder"] / "evidence.csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(evidence.CSV_COLUMNS)
    per_rule: dict[str, list[dict[str, str]]] = {}
    for row in document["results"]:
        per_rule.setdefault(row["rule"], []).append(row)
    expected = []
    for framework in document["frameworks"]:
        for control in framework["controls"]:
            for mapped in control["rules"]:
                results = per_rule.get(mapped["rule"], [])
                expected += [(framework["title"], control["id"], mapped["rule"], r["resource_id"],
                              r["resource_name"] or r["resource_name_note"], r["severity"] or "not rated",
                              r["compliance"], r["annotation"], r["remediation"]) for r in results] or [
                    (framework["title"], control["id"], mapped["rule"], "", "", None, "INSUFFICIENT_DATA", None, None)]
    got = [(r["Framework"], r["Control ID"], r["Config Rule"], r["Resource ID"], r["Resource Name"],
            r["Severity"] if r["Resource ID"] else None, r["Compliance"],
            r["Annotation"] if r["Resource ID"] else None, r["Remediation"] if r["Resource ID"] else None)
           for r in rows]
    assert got == expected
    assert {r["Resource Name"] for r in rows} >= {"former-analyst", "legacy-transcribe-role", "acme-cc-call-audio"}


def test_no_tag_values_object_keys_or_transcript_text_in_any_file(account: dict[str, Any]) -> None:
    secrets = [CANARY_TAG, CANARY_KEY, TRANSCRIPT_TEXT] + [k for k in account["objects"] if "/" in k]
    assert CANARY_KEY in account["objects"]
    files = {p.name: p.read_bytes() for p in account["folder"].iterdir()} | {"zip": account["zip"].read_bytes()}
    for name, data in files.items():
        for secret in secrets:
            assert secret.encode() not in data, f"{secret!r} leaked into {name}"
    # The canary job itself is there, named by its ARN, as its rules reported it.
    assert any(r["resource_id"].endswith(":transcription-job/canary-job") for r in account["document"]["results"])


def test_verify_passes_on_folder_and_zip(account: dict[str, Any]) -> None:
    for path, sha in ((account["folder"], account["folder_sha"]), (account["zip"], account["manifest_sha"])):
        out, err = io.StringIO(), io.StringIO()
        code = cli.main(["evidence", "verify", str(path), "--manifest-sha256", sha], out, err)
        # Unsigned: intact against its own manifest, but no trust anchor says who made it.
        assert code == cli.EXIT_UNAUTHENTICATED and out.getvalue().count("OK ") == 4  # with report.pdf
        assert "INTEGRITY ONLY" in out.getvalue() and "Verified" not in out.getvalue()


def _flip(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1:]


def _positions(size: int) -> list[int]:
    return sorted({0, 1, size // 3, size // 2, 2 * size // 3, size - 2, size - 1})


@pytest.mark.parametrize("name", [*evidence.BUNDLE_FILES, *evidence.OPTIONAL_FILES, evidence.MANIFEST])
def test_verify_fails_when_any_byte_of_any_file_changes(account: dict[str, Any], name: str,
                                                        tmp_path: Path) -> None:
    original = (account["folder"] / name).read_bytes()
    for position in _positions(len(original)):
        copy = tmp_path / f"b{position}"
        copy.mkdir()
        for file in account["folder"].iterdir():
            (copy / file.name).write_bytes(file.read_bytes())
        (copy / name).write_bytes(_flip(original, position))
        result = evidence.verify_bundle(copy)
        assert not result.ok, (name, position)
        assert any(line.startswith("CHANGED") and name in line for line in result.lines), (name, position, result.lines)


def test_verify_fails_on_missing_extra_and_out_of_band_manifest(account: dict[str, Any], tmp_path: Path) -> None:
    def copy(to: Path) -> Path:
        to.mkdir()
        for file in account["folder"].iterdir():
            (to / file.name).write_bytes(file.read_bytes())
        return to

    missing = copy(tmp_path / "missing")
    (missing / "evidence.csv").unlink()
    assert "MISSING evidence.csv" in evidence.verify_bundle(missing).lines
    extra = copy(tmp_path / "extra")
    (extra / "notes.txt").write_text("added later")
    assert "UNEXPECTED notes.txt" in evidence.verify_bundle(extra).lines
    # A manifest rewritten consistently with changed files still fails against the recorded hash.
    forged = copy(tmp_path / "forged")
    (forged / "evidence.csv").write_bytes(b"Framework\r\n")
    manifest = json.loads((forged / "manifest.json").read_text())
    for item in manifest["files"]:
        if item["name"] == "evidence.csv":
            item.update(sha256=hashlib.sha256(b"Framework\r\n").hexdigest(), bytes=11)
    manifest["manifest_sha256"] = evidence._manifest_hash(manifest)
    (forged / "manifest.json").write_bytes(evidence._canonical(manifest))
    assert evidence.verify_bundle(forged).ok
    assert not evidence.verify_bundle(forged, account["manifest_sha"]).ok
    # The PDF: missing is missing; dropped from the manifest too, the manifest still says it was printed.
    no_pdf = copy(tmp_path / "no-pdf")
    (no_pdf / "report.pdf").unlink()
    assert "MISSING report.pdf" in evidence.verify_bundle(no_pdf).lines
    manifest = json.loads((no_pdf / "manifest.json").read_text())
    assert manifest["report_pdf"].startswith("printed")
    manifest["files"] = [item for item in manifest["files"] if item["name"] != "report.pdf"]
    manifest["manifest_sha256"] = evidence._manifest_hash(manifest)
    (no_pdf / "manifest.json").write_bytes(evidence._canonical(manifest))
    assert evidence.verify_bundle(no_pdf).lines[-1] == (
        "CHANGED manifest.json (its report_pdf does not match whether it lists report.pdf)")


def test_verify_fails_when_any_member_or_byte_of_the_zip_changes(account: dict[str, Any], tmp_path: Path) -> None:
    data = account["zip"].read_bytes()
    with zipfile.ZipFile(account["zip"]) as archive:
        infos = archive.infolist()
    assert [i.filename.split("/", 1)[1] for i in infos] == [*evidence.BUNDLE_FILES, "report.pdf", evidence.MANIFEST]
    positions = set(_positions(len(data)))
    for info in infos:  # inside every member's data, and in its local header
        start = info.header_offset + 30 + len(info.filename.encode())
        positions |= {info.header_offset + 10, start, start + info.compress_size // 2, start + info.compress_size - 1}
    for position in sorted(positions):
        changed = tmp_path / f"z{position}.zip"
        changed.write_bytes(_flip(data, position))
        try:
            result = evidence.verify_bundle(changed)
        except evidence.EvidenceError:
            continue  # no longer a zip at all: verify reports it as unreadable (exit 2)
        assert not result.ok, position


def test_scan_source_period_and_framework_selection(tmp_path: Path) -> None:
    with Simulator(seed="demo"):
        session = boto3.session.Session()
        rules = list(RULES)
        collected = evidence.collect_from_scan(session, rules, load_parameters(None, rules, DEMO_PARAMETERS), NOW)
    # Each result counts as recorded when the scan evaluated it, not at collection (NOW).
    days = {r["recorded_at"][:10] for r in collected.results}
    assert len(days) == 1 and "2026-03-14" not in days
    day = dt.date.fromisoformat(days.pop())
    inside = evidence.build_evidence(collected, ["pci"], evidence.parse_period(f"{day}..{day}"), NOW)
    assert len(inside["results"]) == len(collected.results) and [f["id"] for f in inside["frameworks"]] == ["pci"]
    with pytest.raises(evidence.EvidenceError, match="no result of local scan .* was recorded in the period"):
        evidence.build_evidence(collected, ["hipaa"], evidence.parse_period(f"2026-01-01..{day - dt.timedelta(1)}"), NOW)
    before = evidence.build_evidence(collected, ["hipaa", "nist"],
                                     evidence.parse_period(f"2026-01-01..{day - dt.timedelta(1)}"), NOW, allow_empty=True)
    assert before["results"] == [] and before["summary"]["score"] is None
    assert before["collection"]["notices"][0].startswith("EMPTY: no result was recorded in the period")
    assert {r["status"] for r in before["rules"]} == {"INSUFFICIENT_DATA"}
    assert {r["note"] for r in before["rules"] if r["kind"] == "custom"} <= {
        "No result recorded in the period.", "No result in the scan (no resources, or skipped for missing parameters)."}
    open_ended = evidence.build_evidence(collected, ["soc2"], evidence.parse_period(f"{day + dt.timedelta(1)}.."), NOW,
                                         allow_empty=True)
    assert open_ended["results"] == []
    managed = {r["name"]: r for r in inside["rules"] if r["kind"] == "managed"}
    assert all(r["note"].startswith("AWS managed rule") for r in managed.values())


def test_from_file_equals_the_saved_scan(tmp_path: Path) -> None:
    saved = tmp_path / "scan.json"
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["scan", "--demo", "--format", "json", "--output", str(saved)], out, err) == cli.EXIT_NON_COMPLIANT
    code = cli.main(["evidence", "--from", str(saved), "--output", str(tmp_path / "b"), "--framework", "nist",
                     "--quiet"], out, err)
    assert code == cli.EXIT_NON_COMPLIANT, err.getvalue()
    document = json.loads((tmp_path / "b" / "evidence.json").read_text())
    assert {key(r) for r in document["results"]} == {key(r) for r in json.loads(saved.read_text())["evaluations"]}
    assert (document["collection"]["account"], document["collection"]["region"]) == ("123456789012", "us-east-1")
    assert [f["id"] for f in document["frameworks"]] == ["nist"]
    assert cli.main(["evidence", "verify", str(tmp_path / "b")], out, err) == cli.EXIT_UNAUTHENTICATED


def test_pagination_past_100_results_per_rule(tmp_path: Path) -> None:
    with Simulator(seed="empty") as sim:
        session = boto3.session.Session()
        done = deploy.deploy(session, required_pack_parameters())
        config = sim.client("config")
        pack_rule = next(n for n in deploy.pack_rule_names(config, done.pack_name)
                         if deploy.base_rule_name(n) == "transcribe-resource-tagged")
        token = result_token(pack_rule)
        evaluations = [{"ComplianceResourceType": "AWS::::Account", "ComplianceResourceId": f"resource-{i:03d}",
                        "ComplianceType": ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE")[i % 3],
                        "OrderingTimestamp": NOW} for i in range(250)]
        for start in range(0, 250, 100):
            config.put_evaluations(Evaluations=evaluations[start:start + 100], ResultToken=token)
        seen: list[tuple[int, int, int]] = []
        collected = evidence.collect_from_config(session, done.pack_name, lambda *a: seen.append(a))
    tagged = [r for r in collected.results if r["rule"] == "transcribe-resource-tagged"]
    assert sorted(r["resource_id"] for r in tagged) == [f"resource-{i:03d}" for i in range(250)]
    assert max(s[2] for s in seen) == len(collected.results) and seen[-1][0] == seen[-1][1]


def test_progress_bar_only_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal, pipe = Terminal(), io.StringIO()
    bar = ProgressBar(terminal)
    bar(3, 12, 1234)
    bar.done()
    assert "Collecting [#######---------------------] 3/12 rules, 1,234 results" in terminal.getvalue()
    ProgressBar(pipe)(3, 12, 1234)
    ProgressBar(Terminal(), enabled=False)(3, 12, 1234)
    assert pipe.getvalue() == ""


@pytest.mark.parametrize("argv, message", [
    (["evidence", "--period", "2026-03-01"], "expected START..END"),
    (["evidence", "--period", "2026-03-01..2026-02-01"], "the start is after the end"),
    (["evidence", "--period", "2026-13-01..2026-12-31"], "ISO dates"),
    (["evidence", "--framework", "iso27001"], "--framework iso27001: choose from hipaa, pci, soc2, nist"),
    (["evidence", "--from", "/nonexistent/scan.json"], "not config, scan or an existing file"),
    (["evidence", "verify", "/nonexistent/bundle"], "no such evidence folder or zip"),
])
def test_usage_errors_exit_2_with_one_line(argv: list[str], message: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(argv, out, err) == cli.EXIT_USAGE
    assert message in err.getvalue() and len(err.getvalue().strip().splitlines()) == 1


def test_existing_output_is_never_overwritten(account: dict[str, Any]) -> None:
    document = account["document"]
    with pytest.raises(evidence.EvidenceError, match="never overwritten"):
        evidence.write_bundle(document, account["folder"])
    with pytest.raises(evidence.EvidenceError, match="never overwritten"):
        evidence.write_bundle(document, account["zip"], as_zip=True)


def test_cli_demo_config_zip_then_verify(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["evidence", "--demo", "--from", "config", "--zip", "--output", str(tmp_path / "audit"),
                     "--framework", "hipaa", "--framework", "pci"], out, err)
    assert code == cli.EXIT_NON_COMPLIANT, err.getvalue()
    assert "Collecting" not in err.getvalue()  # stderr is not a terminal: no progress bar
    manifest_sha = out.getvalue().split("manifest.json sha256 ")[1].split()[0]
    assert (tmp_path / "audit.zip").is_file()
    out = io.StringIO()
    assert cli.main(["evidence", "verify", str(tmp_path / "audit.zip"), "--manifest-sha256", manifest_sha],
                    out, err) == cli.EXIT_UNAUTHENTICATED
    assert cli.main(["evidence", "verify", str(tmp_path / "audit.zip"), "--manifest-sha256", "0" * 64], out, err) == 1


def test_progress_bar_omits_unknown_result_counts() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    ProgressBar(terminal)(1, 4, -1)
    assert terminal.getvalue().endswith("] 1/4 rules")


# --- verify on hostile bundles -------------------------------------------------------------------

def _copy_folder(source: Path, to: Path) -> Path:
    to.mkdir()
    for file in source.iterdir():
        (to / file.name).write_bytes(file.read_bytes())
    return to


def test_verify_rejects_symlinks_even_to_the_right_bytes(account: dict[str, Any], tmp_path: Path) -> None:
    """A member that links out of the bundle is not followed, even when what it points at is the
    right file; a link the manifest does not list is named and refused too."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "evidence.csv").write_bytes((account["folder"] / "evidence.csv").read_bytes())
    bundle = _copy_folder(account["folder"], tmp_path / "bundle")
    (bundle / "evidence.csv").unlink()
    (bundle / "evidence.csv").symlink_to(outside / "evidence.csv")
    (bundle / "notes.txt").symlink_to("/etc/passwd")
    result = evidence.verify_bundle(bundle)
    assert not result.ok
    assert "CHANGED evidence.csv (a symbolic link; verify follows no link out of the bundle)" in result.lines
    assert "UNEXPECTED notes.txt (a symbolic link; verify follows no link out of the bundle)" in result.lines
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["evidence", "verify", str(bundle)], out, err) == cli.EXIT_FAILED
    assert "a symbolic link" in out.getvalue() and "FAILED" in out.getvalue()


def test_verify_rejects_special_files_without_opening_them(account: dict[str, Any], tmp_path: Path) -> None:
    bundle = _copy_folder(account["folder"], tmp_path / "bundle")
    os.mkfifo(bundle / "pipe")  # opening it for reading would wait for a writer forever
    (bundle / "sub").mkdir()
    result = evidence.verify_bundle(bundle)
    assert not result.ok
    assert "UNEXPECTED pipe (a special file (FIFO, socket or device))" in result.lines
    assert "UNEXPECTED sub/ (a folder)" in result.lines
    assert sum(line.startswith("OK ") for line in result.lines) == 4  # the bundle's own files are still checked


def _rezip(source: Path, target: Path, replace: dict[str, Any] | None = None,
           extra: list[tuple[zipfile.ZipInfo, bytes]] | None = None) -> Path:
    """A copy of a bundle zip with some entries replaced (name -> bytes, or a callable writing to
    the open entry) and some added."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as archive:
        for info in original.infolist():
            short = info.filename.split("/", 1)[1]
            value = (replace or {}).get(short)
            if callable(value):
                entry = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                entry.compress_type = zipfile.ZIP_DEFLATED
                with archive.open(entry, "w") as stream:
                    value(stream)
            else:
                archive.writestr(info, original.read(info) if value is None else value)
        for info, data in extra or []:
            archive.writestr(info, data)
    return target


def _zip_entry(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = mode << 16
    return info


def test_verify_rejects_zip_links_absolute_paths_and_dot_dot(account: dict[str, Any], tmp_path: Path) -> None:
    folder = account["zip"].stem
    hostile = _rezip(account["zip"], tmp_path / "hostile.zip", replace={"evidence.csv": b"/etc/passwd"}, extra=[
        (_zip_entry("/etc/cron.d/evil", 0o100644), b"x"),
        (_zip_entry(f"{folder}/../../outside.txt", 0o100644), b"x"),
        (_zip_entry(f"{folder}/link", 0o120777), b"/etc/shadow"),
        (_zip_entry(f"{folder}/fifo", 0o010644), b""),
    ])
    result = evidence.verify_bundle(hostile)
    assert not result.ok
    assert "UNEXPECTED /etc/cron.d/evil (an absolute path)" in result.lines
    assert "UNEXPECTED ../../outside.txt (a '..' in its path)" in result.lines
    assert "UNEXPECTED link (a symbolic link)" in result.lines
    assert "UNEXPECTED fifo (a special file (FIFO, socket or device))" in result.lines
    assert sum(line.startswith("OK ") for line in result.lines) == 3  # all but the changed evidence.csv
    # The bundle's own evidence.csv entry marked as a symbolic link (mode bits in the central directory).
    linked = _rezip(account["zip"], tmp_path / "linked.zip")
    with zipfile.ZipFile(account["zip"]) as archive:
        csv_info = next(i for i in archive.infolist() if i.filename.endswith("/evidence.csv"))
    data = bytearray(linked.read_bytes())
    marker = b"PK\x01\x02"
    at = data.index(marker)
    while not data[at + 46:at + 46 + len(csv_info.filename)] == csv_info.filename.encode():
        at = data.index(marker, at + 1)
    data[at + 38:at + 42] = ((0o120777 << 16)).to_bytes(4, "little")
    linked.write_bytes(bytes(data))
    assert "CHANGED evidence.csv (a symbolic link)" in evidence.verify_bundle(linked).lines


def test_verify_refuses_a_zip_directory_larger_than_a_bundle(tmp_path: Path) -> None:
    crowded = tmp_path / "crowded.zip"
    with zipfile.ZipFile(crowded, "w") as archive:
        for index in range(5000):
            archive.writestr(f"b/{index}", b"")
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["evidence", "verify", str(crowded)], out, err) == cli.EXIT_USAGE
    assert "not an evidence bundle: its zip directory lists 5000 entries" in err.getvalue()


def _zeros(total: int) -> Any:
    def write(stream: Any) -> None:
        chunk = bytes(1 << 20)
        for _ in range(total // len(chunk)):
            stream.write(chunk)
    return write


# The child's peak resident memory from /proc (VmHWM, in kB): getrusage's ru_maxrss would count the
# memory of the pytest process the child was spawned from, which Linux carries across exec.
PEAK_RSS_SCRIPT = """
import json, re, sys
from pathlib import Path
from transcribe_guard import evidence
results = [evidence.verify_bundle(Path(p)) for p in sys.argv[1:]]
peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1))
print(json.dumps({"lines": [r.lines for r in results], "ok": [r.ok for r in results], "peak_kb": peak}))
"""


def test_verify_of_a_zip_bomb_stays_in_bounded_memory(account: dict[str, Any], tmp_path: Path) -> None:
    """A 400 KB zip whose evidence.csv (or manifest) inflates to 400 MB: verify refuses it from its
    size, before reading, and its peak memory stays under 100 MB (the old verify read it whole)."""
    size = 400 << 20
    csv_bomb = _rezip(account["zip"], tmp_path / "csv-bomb.zip", replace={"evidence.csv": _zeros(size)})
    manifest_bomb = _rezip(account["zip"], tmp_path / "manifest-bomb.zip", replace={"manifest.json": _zeros(size)})
    # Small on disk (the bundle's report.pdf is most of it), 400 MB inflated.
    assert csv_bomb.stat().st_size < 8 << 20 and manifest_bomb.stat().st_size < 8 << 20
    done = subprocess.run([sys.executable, "-c", PEAK_RSS_SCRIPT, str(csv_bomb), str(manifest_bomb)],
                          capture_output=True, text=True, timeout=600, check=True)
    report = json.loads(done.stdout)
    assert report["ok"] == [False, False]
    csv_lines, manifest_lines = report["lines"]
    assert f"CHANGED evidence.csv ({size:,} bytes; the manifest says " in "\n".join(csv_lines)
    assert sum(line.startswith("OK ") for line in csv_lines) == 3
    assert manifest_lines == [f"CHANGED manifest.json ({size:,} bytes; a manifest is at most 1,048,576)"]
    assert report["peak_kb"] < 100 * 1024, report["peak_kb"]


def test_a_large_genuine_zip_verifies_in_bounded_memory(account: dict[str, Any], tmp_path: Path) -> None:
    """A bundle whose evidence.csv really is 200 MB (and its manifest says so) verifies, hashed in
    chunks and its zip rebuilt into a comparison, never held whole."""
    size, chunk = 200 << 20, bytes(1 << 20)
    with zipfile.ZipFile(account["zip"]) as archive:
        files = {i.filename.split("/", 1)[1]: archive.read(i) for i in archive.infolist()}
    manifest = json.loads(files[evidence.MANIFEST])
    digest = hashlib.sha256()
    for _ in range(size // len(chunk)):
        digest.update(chunk)
    for item in manifest["files"]:
        if item["name"] == "evidence.csv":
            item.update(sha256=digest.hexdigest(), bytes=size)
    manifest["manifest_sha256"] = evidence._manifest_hash(manifest)
    files[evidence.MANIFEST] = evidence._canonical(manifest)

    def contents(name: str) -> tuple[int, Any]:
        if name == "evidence.csv":
            return size, (chunk for _ in range(size // len(chunk)))
        return len(files[name]), [files[name]]

    large = tmp_path / "large.zip"
    with large.open("wb") as target:
        evidence._write_zip(target, "large", evidence._as_datetime(manifest["collected_at"]), contents, list(files))
    done = subprocess.run([sys.executable, "-c", PEAK_RSS_SCRIPT, str(large)], capture_output=True, text=True,
                          timeout=600, check=True)
    report = json.loads(done.stdout)
    assert report["ok"] == [True], report["lines"]
    assert f"OK evidence.csv  sha256 {digest.hexdigest()}" in report["lines"][0]
    assert report["peak_kb"] < 100 * 1024, report["peak_kb"]
    # One byte of the archive itself changed (the entry's modification time in the central directory).
    data = bytearray(large.read_bytes()[-200:])
    at = data.rindex(b"PK\x01\x02")
    data[at + 12] ^= 0x01
    with large.open("r+b") as target:
        target.seek(-200, os.SEEK_END)
        target.write(bytes(data))
    assert not evidence.verify_bundle(large).ok


def test_verify_output_escapes_member_names(account: dict[str, Any], tmp_path: Path) -> None:
    bundle = _copy_folder(account["folder"], tmp_path / "bundle")
    (bundle / "x\x1b[2K\x1b[GOK evidence.csv\u202e").write_text("added")
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["evidence", "verify", str(bundle)], out, err) == cli.EXIT_FAILED
    assert "\x1b" not in out.getvalue() and "\u202e" not in out.getvalue()
    assert "UNEXPECTED x\\x1b[2K\\x1b[GOK evidence.csv\\u202e" in out.getvalue()


def test_an_output_that_cannot_be_written_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    saved = tmp_path / "scan.json"
    saved.write_text(json.dumps({"evaluations": [
        {"rule": "transcribe-bucket-encrypted", "resource_type": "AWS::S3::Bucket", "resource_id": "acme-bucket",
         "compliance": "COMPLIANT", "annotation": "", "evaluated_at": "2026-03-14T15:09:26Z"}]}), encoding="utf-8")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for extra in ([], ["--zip"]):
        target = blocker / "bundle"  # its folder is a file
        out, err = io.StringIO(), io.StringIO()
        code = cli.main(["evidence", "--from", str(saved), "--framework", "soc2", "--quiet", "--output", str(target),
                         *extra], out, err)
        assert code == cli.EXIT_USAGE, err.getvalue()
        assert err.getvalue().startswith("transcribe-guard: ") and str(target) in err.getvalue()
        assert err.getvalue().count("\n") == 1 and out.getvalue() == ""
