"""Evidence bundles: `evidence --from config` after deploy equals `scan` for the custom rules,
carries managed rules and process checks as INSUFFICIENT_DATA, validates against its schema, and
`evidence verify` fails on any changed byte of any file (folder and zip)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any, Iterator

import boto3
import jsonschema
import pytest

from rules.registry import RULES
from transcribe_guard import cli, deploy, evidence
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
        scanned = cli.run_scan(rules, cli.load_parameters(None, rules, cli.DEMO_PARAMETERS))
        with recording() as recorder:  # records the calls of clients of boto3's default session
            collected = evidence.collect_from_config(boto3._get_default_session(), done.pack_name)
        reported_score = config.list_conformance_pack_compliance_scores()["ConformancePackComplianceScores"][0]["Score"]
        objects = [o["Key"] for b in s3.list_buckets()["Buckets"]
                   for o in s3.list_objects_v2(Bucket=b["Name"]).get("Contents", [])]
    document = evidence.build_evidence(collected, list(FRAMEWORKS), None, NOW)
    root = tmp_path_factory.mktemp("evidence")
    folder, _ = evidence.write_bundle(document, root / "bundle")
    archive, manifest_sha = evidence.write_bundle(document, root / "bundle-zip", as_zip=True)
    yield {"scanned": scanned, "collected": collected, "document": document, "folder": folder, "zip": archive,
           "manifest_sha": manifest_sha, "actions": recorder.actions, "score": reported_score, "objects": objects,
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
                expected += [(framework["title"], control["id"], mapped["rule"], r["resource_id"], r["compliance"],
                              r["annotation"]) for r in results] or [
                    (framework["title"], control["id"], mapped["rule"], "", "INSUFFICIENT_DATA", None)]
    got = [(r["Framework"], r["Control ID"], r["Config Rule"], r["Resource ID"], r["Compliance"],
            r["Annotation"] if r["Resource ID"] else None) for r in rows]
    assert got == expected


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
    for path in (account["folder"], account["zip"]):
        out, err = io.StringIO(), io.StringIO()
        assert cli.main(["evidence", "verify", str(path), "--manifest-sha256", account["manifest_sha"]], out, err) == 0
        assert "Verified" in out.getvalue() and out.getvalue().count("OK ") == 3


def _flip(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1:]


def _positions(size: int) -> list[int]:
    return sorted({0, 1, size // 3, size // 2, 2 * size // 3, size - 2, size - 1})


@pytest.mark.parametrize("name", [*evidence.BUNDLE_FILES, evidence.MANIFEST])
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


def test_verify_fails_when_any_member_or_byte_of_the_zip_changes(account: dict[str, Any], tmp_path: Path) -> None:
    data = account["zip"].read_bytes()
    with zipfile.ZipFile(account["zip"]) as archive:
        infos = archive.infolist()
    assert [i.filename.split("/", 1)[1] for i in infos] == [*evidence.BUNDLE_FILES, evidence.MANIFEST]
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
        collected = evidence.collect_from_scan(session, rules, cli.load_parameters(None, rules, cli.DEMO_PARAMETERS), NOW)
    assert {r["recorded_at"] for r in collected.results} == {"2026-03-14T15:09:26Z"}
    inside = evidence.build_evidence(collected, ["pci"], evidence.parse_period("2026-03-14..2026-03-14"), NOW)
    assert len(inside["results"]) == len(collected.results) and [f["id"] for f in inside["frameworks"]] == ["pci"]
    before = evidence.build_evidence(collected, ["hipaa", "nist"], evidence.parse_period("2026-01-01..2026-03-13"), NOW)
    assert before["results"] == [] and before["summary"]["score"] is None
    assert {r["status"] for r in before["rules"]} == {"INSUFFICIENT_DATA"}
    assert {r["note"] for r in before["rules"] if r["kind"] == "custom"} <= {
        "No result recorded in the period.", "No result in the scan (no resources, or skipped for missing parameters)."}
    open_ended = evidence.build_evidence(collected, ["soc2"], evidence.parse_period("2026-03-15.."), NOW)
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
    assert cli.main(["evidence", "verify", str(tmp_path / "b")], out, err) == 0


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
    bar = evidence.ProgressBar(terminal)
    bar(3, 12, 1234)
    bar.done()
    assert "Collecting [#######---------------------] 3/12 rules, 1,234 results" in terminal.getvalue()
    evidence.ProgressBar(pipe)(3, 12, 1234)
    evidence.ProgressBar(Terminal(), enabled=False)(3, 12, 1234)
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
    assert cli.main(["evidence", "verify", str(tmp_path / "audit.zip"), "--manifest-sha256", manifest_sha], out, err) == 0
    assert cli.main(["evidence", "verify", str(tmp_path / "audit.zip"), "--manifest-sha256", "0" * 64], out, err) == 1


def test_progress_bar_omits_unknown_result_counts() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    evidence.ProgressBar(terminal)(1, 4, -1)
    assert terminal.getvalue().endswith("] 1/4 rules")
