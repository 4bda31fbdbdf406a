"""``scan --security-hub`` against the simulator: the first scan creates a finding per result, a
re-scan with one resource fixed updates it and archives nothing, a resource gone is archived;
archiving stays inside the scan's rules, account and Region; batches of 100 and paging; partial
failures; and the simulator's Security Hub itself."""

from __future__ import annotations

import io
from typing import Any, Iterator

import boto3
import pytest
from botocore.exceptions import ClientError

from transcribe_guard import cli, scan
from transcribe_guard.formats import asff, security_hub
from transcribe_guard.formats.rule_info import finding_id
from transcribe_guard.scan_parameters import scan_selection
from transcribe_guard.simulator import Simulator

ACCOUNT = "123456789012"
REGION = "us-east-1"
PRODUCT = f"arn:aws:securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default"
RULES = ["transcribe-resource-tagged", "transcribe-bucket-public-access-blocked"]


@pytest.fixture
def demo() -> Iterator[Simulator]:
    with Simulator(seed="demo") as simulator:
        simulator.client("securityhub").enable_security_hub()
        yield simulator


def run_and_send(rules: list[str]) -> tuple[list[dict[str, str]], security_hub.Report]:
    selection = scan_selection(rules, None, True)
    results = scan.run_scan(selection.rule_names, selection.parameters)
    return results, security_hub.send(boto3.session.Session(), results, selection.rule_names)


def all_findings(sim: Simulator, **filters: str) -> dict[str, dict[str, Any]]:
    client = sim.client("securityhub")
    wanted = {name: [{"Value": value, "Comparison": "EQUALS"}] for name, value in filters.items()}
    found: dict[str, dict[str, Any]] = {}
    for page in client.get_paginator("get_findings").paginate(Filters=wanted):
        found.update({f["Id"]: f for f in page["Findings"]})
    return found


def test_first_scan_creates_rescan_updates_fixed_and_gone_archived(demo: Simulator) -> None:
    results, report = run_and_send(RULES)
    assert (report.created, report.updated, report.archived, report.failed) == (len(results), 0, 0, [])
    stored = all_findings(demo)
    assert set(stored) == {finding_id(r) for r in results}
    assert all(f["RecordState"] == "ACTIVE" and f["ProductArn"] == PRODUCT for f in stored.values())

    # Fix one resource: the clinical dictation bucket blocks public access now.
    bucket = next(r for r in results if r["rule"] == "transcribe-bucket-public-access-blocked"
                  and r["compliance"] == "NON_COMPLIANT")
    demo.client("s3").put_public_access_block(Bucket=bucket["resource_id"], PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    fixed_id = finding_id(bucket)
    created_before = stored[fixed_id]["CreatedAt"]
    results2, report2 = run_and_send(RULES)
    assert (report2.created, report2.updated, report2.archived, report2.failed) == (0, len(results), 0, [])
    stored2 = all_findings(demo)
    assert set(stored2) == set(stored)
    assert stored2[fixed_id]["Compliance"]["Status"] == "PASSED"
    assert stored2[fixed_id]["CreatedAt"] == created_before  # an update keeps when it was created
    unchanged = [i for i in stored if i != fixed_id]
    assert all(stored2[i]["Compliance"] == stored[i]["Compliance"] and stored2[i]["RecordState"] == "ACTIVE"
               for i in unchanged)

    # A resource gone: the untagged vocabulary is deleted, so its finding is archived, and only it.
    vocabulary = next(r for r in results2 if r["resource_id"].endswith(":vocabulary/acme-agent-names"))
    demo.client("transcribe").delete_vocabulary(VocabularyName="acme-agent-names")
    results3, report3 = run_and_send(RULES)
    assert len(results3) == len(results) - 1
    assert (report3.created, report3.updated, report3.archived, report3.failed) == (0, len(results3), 1, [])
    stored3 = all_findings(demo)
    assert stored3[finding_id(vocabulary)]["RecordState"] == "ARCHIVED"
    assert [i for i, f in stored3.items() if f["RecordState"] == "ARCHIVED"] == [finding_id(vocabulary)]
    assert asff.problems({k: v for k, v in stored3[finding_id(vocabulary)].items()
                          if k not in ("ProcessedAt",)}) == []
    assert set(all_findings(demo, RecordState="ACTIVE")) == {finding_id(r) for r in results3}


def result(rule: str, resource: str, compliance: str = "NON_COMPLIANT", annotation: str = "a finding",
           account: str = ACCOUNT) -> dict[str, str]:
    return {"account": account, "region": REGION, "evaluated_at": "2026-12-02T15:00:00Z", "rule": rule,
            "resource_type": "AWS::S3::Bucket", "resource_id": resource, "compliance": compliance,
            "annotation": annotation}


@pytest.fixture
def hub(sim: Simulator) -> Simulator:
    sim.client("securityhub").enable_security_hub()
    return sim


def test_archiving_stays_inside_the_scanned_rules_and_product(hub: Simulator) -> None:
    session = boto3.session.Session()
    encrypted, tls = "transcribe-bucket-encrypted", "transcribe-bucket-tls-enforced"
    rows = [result(encrypted, "b1"), result(encrypted, "b2"), result(tls, "b1"), result(tls, "b2")]
    assert security_hub.send(session, rows, [encrypted, tls]).created == 4
    # Another tool's finding in the same account (same product, not our GeneratorId prefix).
    other = {**asff.finding(rows[0]), "Id": "other-tool/1", "GeneratorId": "other-tool/check"}
    # Ours, about another Region (as a cross-Region aggregation shows it): not this scan's to archive.
    elsewhere = asff.finding({**result(tls, "b3"), "region": "us-west-2"})
    elsewhere["ProductArn"] = PRODUCT
    assert hub.client("securityhub").batch_import_findings(Findings=[other, elsewhere])["FailedCount"] == 0
    # A scan of one rule that no longer sees b2 archives that rule's b2 only: not the other rule's
    # findings, not the other tool's.
    report = security_hub.send(session, [result(tls, "b1")], [tls])
    assert (report.updated, report.archived) == (1, 1)
    archived = [i for i, f in all_findings(hub).items() if f["RecordState"] == "ARCHIVED"]
    assert archived == [finding_id(result(tls, "b2"))]


def test_a_rule_that_could_not_evaluate_archives_nothing(hub: Simulator) -> None:
    session = boto3.session.Session()
    rule = "transcribe-bucket-public-access-blocked"
    security_hub.send(session, [result(rule, "b1"), result(rule, "b2")], [rule])
    # The next scan could not list buckets: one account-level "Could not evaluate" result only.
    failed_listing = [{**result(rule, ACCOUNT, annotation="Could not evaluate: AccessDenied"),
                       "resource_type": "AWS::::Account"}]
    report = security_hub.send(session, failed_listing, [rule])
    assert report.archived == 0 and report.created == 1
    assert report.not_archived_rules == [rule]
    assert len(all_findings(hub, RecordState="ACTIVE")) == 3


def test_batches_of_100_and_paged_read_back(hub: Simulator) -> None:
    rows = [result("transcribe-bucket-encrypted", f"bucket-{n:03d}") for n in range(250)]
    session = boto3.session.Session()
    sizes: list[int] = []
    pages: list[int] = []
    session.events.register("provide-client-params.securityhub.BatchImportFindings",
                            lambda params, **_: sizes.append(len(params["Findings"])))
    session.events.register("after-call.securityhub.GetFindings",
                            lambda parsed, **_: pages.append(len(parsed["Findings"])))
    report = security_hub.send(session, rows, ["transcribe-bucket-encrypted"])
    assert sizes == [100, 100, 50] and report.created == 250
    sizes.clear()
    report = security_hub.send(session, rows[:-1], ["transcribe-bucket-encrypted"])  # one bucket gone
    assert pages[-3:] == [100, 100, 50]  # every page of what we sent before was read
    assert sizes == [100, 100, 50] and (report.updated, report.archived) == (249, 1)


def test_refused_findings_are_reported_and_exit_1(hub: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    # A ProductArn that is not the account's default product: the simulator refuses each finding.
    monkeypatch.setattr(asff, "product_arn", lambda account, region:
                        f"arn:aws:securityhub:{region}::product/acme/scanner")
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["scan", "--security-hub", "--rule", "transcribe-config-recording", "--format", "json"], out, err)
    lines = err.getvalue().splitlines()
    account_result = {**result("transcribe-config-recording", ACCOUNT), "resource_type": "AWS::::Account"}
    assert code == 1
    assert [line for line in lines if "refused finding" in line] == [
        f"transcribe-guard: Security Hub refused finding us-east-1/123456789012/transcribe-guard/"
        f"transcribe-config-recording/{finding_id(account_result)[-40:]}: "
        "InvalidAccess: ProductArn is not a product enabled in this account and Region."]
    assert lines[-1] == "transcribe-guard: Security Hub: 0 findings created, 0 updated, 0 archived, 1 refused"
    assert '"evaluations"' in out.getvalue()  # the report is still written


def test_security_hub_not_enabled_is_one_line_and_exit_1(sim: Simulator) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["scan", "--security-hub", "--rule", "transcribe-config-recording", "--format", "json"], out, err)
    assert code == 1
    assert err.getvalue().startswith("transcribe-guard: could not send the findings to Security Hub: ")
    assert "InvalidAccessException" in err.getvalue() and err.getvalue().count("\n") == 1


def test_demo_scan_with_security_hub_exits_with_the_scan_status() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["scan", "--demo", "--security-hub", "--rule", "transcribe-bucket-public-access-blocked",
                     "--quiet", "--format", "csv"], out, err)
    assert code == 3
    assert err.getvalue().splitlines()[-1] == ("transcribe-guard: Security Hub: 3 findings created, 0 updated, "
                                               "0 archived, 0 refused")


# --- the simulator's Security Hub -------------------------------------------------------------------

def test_simulator_security_hub_checks(sim: Simulator) -> None:
    client = sim.client("securityhub")
    finding = asff.finding({"account": ACCOUNT, "region": REGION, "evaluated_at": "2026-12-02T15:00:00Z",
                            "rule": "transcribe-bucket-encrypted", "resource_type": "AWS::S3::Bucket",
                            "resource_id": "b", "compliance": "NON_COMPLIANT", "annotation": "a"})
    # Not enabled: every finding fails with InvalidAccess, and GetFindings is refused.
    response = client.batch_import_findings(Findings=[finding])
    assert response["FailedCount"] == 1 and response["FailedFindings"][0]["ErrorCode"] == "InvalidAccess"
    with pytest.raises(ClientError, match="InvalidAccessException"):
        client.get_findings()
    client.enable_security_hub()
    # Another account's finding, and more than 100 in one call, are refused.
    response = client.batch_import_findings(Findings=[{**finding, "AwsAccountId": "210987654321"}])
    assert response["FailedFindings"][0]["ErrorCode"] == "InvalidAccess"
    with pytest.raises(ClientError, match="InvalidInput"):
        client.batch_import_findings(Findings=[{**finding, "Id": str(n)} for n in range(101)])
    # Import, a customer's workflow change, then an update: Workflow is kept, the rest replaced.
    assert client.batch_import_findings(Findings=[finding])["SuccessCount"] == 1
    stored = client.get_findings()["Findings"]
    assert len(stored) == 1 and stored[0]["Workflow"] == {"Status": "NEW"} and stored[0]["RecordState"] == "ACTIVE"
    from moto.securityhub.models import securityhub_backends
    securityhub_backends[ACCOUNT][REGION].findings[0].data["Workflow"] = {"Status": "NOTIFIED"}
    client.batch_import_findings(Findings=[{**finding, "Compliance": {"Status": "PASSED"},
                                            "Workflow": {"Status": "NEW"}}])
    stored = client.get_findings()["Findings"]
    assert len(stored) == 1 and stored[0]["Compliance"] == {"Status": "PASSED"}
    assert stored[0]["Workflow"] == {"Status": "NOTIFIED"}
    # Filters: EQUALS, PREFIX, NOT_EQUALS; an unsupported filter is refused, never ignored.
    def count(**filters: Any) -> int:
        return len(client.get_findings(Filters=filters)["Findings"])
    assert count(GeneratorId=[{"Value": "transcribe-guard/", "Comparison": "PREFIX"}]) == 1
    assert count(GeneratorId=[{"Value": "other/", "Comparison": "PREFIX"}]) == 0
    assert count(RecordState=[{"Value": "ACTIVE", "Comparison": "NOT_EQUALS"}]) == 0
    assert count(ComplianceStatus=[{"Value": "PASSED", "Comparison": "EQUALS"}]) == 1
    with pytest.raises(ClientError, match="ResourceType"):
        client.get_findings(Filters={"ResourceType": [{"Value": "AwsS3Bucket", "Comparison": "EQUALS"}]})


def test_a_finding_left_suppressed_by_a_lifted_mute_is_reported(hub: Simulator) -> None:
    """BatchImportFindings never changes Workflow after creation: a result muted at the first scan
    stays SUPPRESSED in the hub after its mute is lifted, though it still fails. The report names
    it (fail closed: a mutelist entry that is gone must not keep silencing the finding unseen)."""
    session = boto3.session.Session()
    rule = "transcribe-bucket-encrypted"
    muted = {**result(rule, "b1"), "status": "MUTED", "mute_reason": "ticket 42"}
    report = security_hub.send(session, [muted, result(rule, "b2")], [rule])
    assert report.created == 2 and report.suppressed_in_hub == []
    stored = all_findings(hub)
    assert stored[finding_id(muted)]["Workflow"] == {"Status": "SUPPRESSED"}
    # The mute is lifted; b1 still fails. Still muted b1 would not be reported, nor a passing one.
    report = security_hub.send(session, [result(rule, "b1"), result(rule, "b2", compliance="COMPLIANT")], [rule])
    assert all_findings(hub)[finding_id(muted)]["Workflow"] == {"Status": "SUPPRESSED"}
    assert report.suppressed_in_hub == [finding_id(muted)]
    assert security_hub.send(session, [muted], [rule]).suppressed_in_hub == []
    err = io.StringIO()
    cli._note_security_hub(report, err)
    assert (f"transcribe-guard: Security Hub keeps finding {finding_id(muted)} SUPPRESSED although this scan found "
            "it failing and did not mute it (BatchImportFindings does not change Workflow; set it to NEW in Security "
            "Hub)") in err.getvalue().splitlines()


def test_a_lookalike_finding_we_did_not_write_is_never_archived(hub: Simulator) -> None:
    """Only a finding whose Id is one this tool makes (Region/account/transcribe-guard/rule/hash,
    its rule the GeneratorId's) is archived: another writer's finding in the account's default
    product that borrows our GeneratorId stays ACTIVE (archiving it would silence it)."""
    session = boto3.session.Session()
    rule = "transcribe-bucket-encrypted"
    security_hub.send(session, [result(rule, "b1")], [rule])
    ours = asff.finding(result(rule, "b2"))
    lookalikes = [{**ours, "Id": "other-writer/finding-1"},
                  {**ours, "Id": finding_id(result("transcribe-bucket-tls-enforced", "b2"))},  # another rule's Id
                  {**ours, "Id": finding_id(result(rule, "b2")) + "x"}]
    assert hub.client("securityhub").batch_import_findings(Findings=lookalikes)["FailedCount"] == 0
    report = security_hub.send(session, [], [rule])
    assert report.archived == 1  # b1, ours, gone from this scan
    states = {i: f["RecordState"] for i, f in all_findings(hub).items()}
    assert states[finding_id(result(rule, "b1"))] == "ARCHIVED"
    assert [states[f["Id"]] for f in lookalikes] == ["ACTIVE", "ACTIVE", "ACTIVE"]
