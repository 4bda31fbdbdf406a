"""Readable evidence (transcribe_guard/resource_names.py): names beside ids, checked against the
account itself; a lookup that fails keeps every result and says "name unavailable"; severity,
practice and remediation from the registry on every result; names escaped in CSV and JSON like
every other value."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest

from rules.catalog.pack_entries import MANAGED_RULES, PROCESS_CHECKS
from rules.catalog.registry import RULES
from transcribe_guard import evidence, resource_names
from transcribe_guard.compliance import FRAMEWORKS
from transcribe_guard.iam_actions import recording
from transcribe_guard.scan import run_scan
from transcribe_guard.scan_parameters import DEMO_PARAMETERS, load_parameters
from transcribe_guard.simulator import Simulator, faults

NOW = dt.datetime(2026, 3, 14, 15, 9, 26, tzinfo=dt.timezone.utc)
ARN = "arn:aws:transcribe:us-east-1:123456789012"
LOOKED_UP = ("AWS::IAM::User", "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::KMS::Key")


@pytest.fixture(scope="module")
def demo() -> Iterator[dict[str, Any]]:
    """A scan of the demo account, the names looked up (calls recorded), then the same lookup with
    iam:ListUsers denied, and what IAM and KMS say of each id, asked one by one."""
    with Simulator(seed="demo") as sim:
        rules = list(RULES)
        results = run_scan(rules, load_parameters(None, rules, DEMO_PARAMETERS))
        session = boto3._get_default_session()  # the session whose clients recording() sees
        with recording() as recorder:
            names = resource_names.lookup(session, results)
        with faults.injected(faults.ACCESS_DENIED, "ListUsers", service="iam"):
            denied = resource_names.lookup(session, results)
        iam, kms = sim.client("iam"), sim.client("kms")
        truth: dict[str, str | None] = {}
        for row in results:
            kind, rid = row["resource_type"], row["resource_id"]
            if kind == "AWS::IAM::User":
                truth[rid] = next(u["UserName"] for u in iam.list_users()["Users"] if u["UserId"] == rid)
            elif kind == "AWS::IAM::Role":
                truth[rid] = next(r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleId"] == rid)
            elif kind == "AWS::IAM::Policy":
                truth[rid] = next(p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]
                                  if p["PolicyId"] == rid)
            elif kind == "AWS::KMS::Key":
                aliases = kms.list_aliases(KeyId=rid)["Aliases"]
                truth[rid] = ", ".join(sorted(a["AliasName"] for a in aliases)) or None
        for row in results:  # each name names that very resource, asked by name
            name = truth.get(row["resource_id"])
            if row["resource_type"] == "AWS::IAM::Role":
                assert iam.get_role(RoleName=name)["Role"]["RoleId"] == row["resource_id"]
            elif row["resource_type"] == "AWS::IAM::User":
                assert iam.get_user(UserName=name)["User"]["UserId"] == row["resource_id"]
            elif row["resource_type"] == "AWS::KMS::Key" and name:
                assert kms.describe_key(KeyId=name.split(", ")[0])["KeyMetadata"]["KeyId"] == row["resource_id"]
    yield {"results": results, "names": names, "denied": denied, "actions": recorder.actions, "truth": truth,
           "session": session}


def test_iam_and_kms_ids_get_the_names_the_account_gives_them(demo: dict[str, Any]) -> None:
    kinds = {r["resource_type"] for r in demo["results"]}
    assert set(LOOKED_UP) <= kinds  # the demo holds every kind that is looked up
    for row in demo["results"]:
        if row["resource_type"] in LOOKED_UP:
            record = resource_names.names_for(demo["names"], row)
            name = demo["truth"][row["resource_id"]]
            assert (record["resource_name"], record["resource_name_note"]) == (name, "" if name else "no alias")
    assert "former-analyst" in {n["resource_name"] for n in demo["names"].values()}
    assert "alias/acme-contact-center" in {n["resource_name"] for n in demo["names"].values()}


def test_lookups_list_each_kind_once_with_the_documented_actions(demo: dict[str, Any]) -> None:
    assert demo["actions"] == set(resource_names.NAME_ACTIONS)


def test_a_denied_lookup_keeps_every_result_and_says_name_unavailable(demo: dict[str, Any]) -> None:
    assert set(demo["denied"]) == set(demo["names"])  # nothing dropped
    for key, record in demo["denied"].items():
        if key.startswith("AWS::IAM::User "):
            assert record["resource_name"] is None
            assert record["resource_name_note"] == "name unavailable (iam:ListUsers failed: AccessDenied)"
        else:  # the other lookups went on
            assert record == demo["names"][key]
    collected = evidence.Collected("scan", "test", "123456789012", "us-east-1",
                                   results=[{**r, "recorded_at": "2026-03-14T15:09:26Z"} for r in demo["results"]],
                                   names=demo["denied"])
    document = evidence.build_evidence(collected, list(FRAMEWORKS), None, NOW)
    evidence.validate_evidence(document)
    assert len(document["results"]) == len(demo["results"])
    users = [r for r in document["results"] if r["resource_type"] == "AWS::IAM::User"]
    assert users and all(r["resource_name"] is None and r["resource_name_note"].startswith("name unavailable")
                         for r in users)


def test_ids_the_listing_does_not_hold_and_saved_scans_say_why_there_is_no_name(demo: dict[str, Any]) -> None:
    rows = [{"rule": "transcribe-iam-user-no-access", "resource_type": "AWS::IAM::User", "resource_id": "AIDAGONE0000"},
            {"rule": "transcribe-kms-key-protected", "resource_type": "AWS::KMS::Key",
             "resource_id": "00000000-0000-0000-0000-000000000000"}]
    with Simulator(seed="demo"):
        found = resource_names.lookup(boto3.session.Session(), rows)
    assert [found[f"{r['resource_type']} {r['resource_id']}"]["resource_name_note"] for r in rows] == [
        "name unavailable (iam:ListUsers does not list this id)", "no alias"]
    offline = resource_names.lookup(None, rows)
    assert [offline[f"{r['resource_type']} {r['resource_id']}"]["resource_name_note"] for r in rows] == [
        "name unavailable (a saved scan is read without AWS; iam:ListUsers was not called)",
        "name unavailable (a saved scan is read without AWS; kms:ListAliases was not called)"]


@pytest.mark.parametrize(("resource_type", "resource_id", "kind", "name"), [
    ("AWS::::Account", f"{ARN}:transcription-job/cc-call-0099", "Transcription job", "cc-call-0099"),
    ("AWS::::Account", f"{ARN}:medical-transcription-job/med-1", "Medical transcription job", "med-1"),
    ("AWS::::Account", f"{ARN}:analytics/cc-analytics-0001", "Call analytics job", "cc-analytics-0001"),
    ("AWS::::Account", f"{ARN}:medical-scribe-job/scribe-1", "Medical scribe job", "scribe-1"),
    ("AWS::::Account", f"{ARN}:vocabulary/acme-agent-names", "Custom vocabulary", "acme-agent-names"),
    ("AWS::::Account", f"{ARN}:vocabulary-filter/profanity", "Vocabulary filter", "profanity"),
    ("AWS::::Account", f"{ARN}:language-model/clinic", "Custom language model", "clinic"),
    ("AWS::S3::Bucket", "acme-cc-call-audio", "S3 bucket", "acme-cc-call-audio"),
    ("AWS::CloudTrail::Trail", "arn:aws:cloudtrail:us-east-1:123456789012:trail/org-trail", "CloudTrail trail",
     "org-trail"),
    ("AWS::IAM::Role", "arn:aws:iam::123456789012:role/service-role/transcribe-access", "IAM role",
     "transcribe-access"),
    ("AWS::S3::Bucket", "arn:aws:s3:::acme-cc-call-audio", "S3 bucket", "acme-cc-call-audio"),
])
def test_names_and_kinds_from_the_id(resource_type: str, resource_id: str, kind: str, name: str) -> None:
    assert resource_names.from_id(resource_type, resource_id) == {
        "resource_kind": kind, "resource_name": name, "resource_name_note": ""}


def test_a_vpc_shows_no_name_because_names_are_tags() -> None:
    record = resource_names.from_id("AWS::EC2::VPC", "vpc-0abc")
    assert record["resource_name"] is None and "copies no tag values" in record["resource_name_note"]


def test_every_result_carries_its_rules_severity_practice_and_remediation(demo: dict[str, Any]) -> None:
    collected = evidence.Collected("scan", "test", "123456789012", "us-east-1",
                                   results=[{**r, "recorded_at": "2026-03-14T15:09:26Z"} for r in demo["results"]],
                                   names=demo["names"])
    document = evidence.build_evidence(collected, list(FRAMEWORKS), None, NOW)
    assert document["results"]
    for row in document["results"]:
        meta = RULES[row["rule"]].METADATA
        assert (row["severity"], row["practice"], row["remediation"]) == (
            meta["severity"], meta["practice"], meta["remediation"])
    rules = {r["name"]: r for r in document["rules"]}
    for managed in MANAGED_RULES:  # not rated by us; the remediation points to AWS's page for the rule
        assert rules[managed["name"]]["severity"] is None
        assert managed["identifier"] in rules[managed["name"]]["remediation"]
    for check in PROCESS_CHECKS:
        assert rules[check["name"]]["severity"] is None and "record its result" in rules[check["name"]]["remediation"]


def test_names_from_the_account_are_escaped_in_csv_and_json(tmp_path: Path) -> None:
    """Resource ids (and so names) in a saved scan or in Config are other code's text."""
    hostile = "=HYPERLINK(\"http://x\")\u202e"
    saved = tmp_path / "scan.json"
    saved.write_text(json.dumps({"evaluations": [
        {"rule": "transcribe-bucket-encrypted", "resource_type": "AWS::S3::Bucket", "resource_id": hostile,
         "compliance": "NON_COMPLIANT", "annotation": "x", "evaluated_at": "2026-03-14T15:09:26Z"}]}), encoding="utf-8")
    document = evidence.build_evidence(evidence.collect_from_file(saved, NOW), ["hipaa"], None, NOW)
    assert document["results"][0]["resource_name"] == hostile
    files = evidence.bundle_files(document, pdf=False)
    rows = list(csv.DictReader(io.StringIO(files["evidence.csv"].decode("utf-8-sig"))))
    named = {r["Resource Name"] for r in rows if r["Resource ID"]}
    assert named == {"'=HYPERLINK(\"http://x\")\\u202e"}
    text = files["evidence.json"].decode("utf-8")
    assert "\u202e" not in text and "\\u202e" in text
    assert json.loads(text)["results"][0]["resource_name"] == hostile
