"""Findings formats: every rule's demo results as OCSF Compliance Findings (validated by
py-ocsf-models' own pydantic models) and as ASFF findings (validated against botocore's
securityhub AwsSecurityFinding shape), stable finding ids, the verdict mappings, hostile values,
and ``scan --format ocsf|asff``."""

from __future__ import annotations

import copy
import io
import json
from datetime import datetime
from typing import Any

import pytest
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding

from rules.catalog.registry import RULES
from tests.hostile_values import SYNTAX, UNSAFE
from transcribe_guard import cli, compliance, scan
from transcribe_guard.formats import asff, ocsf
from transcribe_guard.formats.rule_info import FindingInputError, finding_id, rule_info
from transcribe_guard.output_safety import visible
from transcribe_guard.scan_parameters import scan_selection
from transcribe_guard.simulator import Simulator

ACCOUNT = "123456789012"
REGION = "us-east-1"


@pytest.fixture(scope="module")
def demo_results() -> list[dict[str, str]]:
    """One scan of the demo account with every rule (the results every test here formats)."""
    selection = scan_selection(None, None, True)
    with Simulator(seed="demo"):
        return scan.run_scan(selection.rule_names, selection.parameters)


def row(**changes: str) -> dict[str, str]:
    base = {"account": ACCOUNT, "region": REGION, "evaluated_at": "2026-12-02T15:00:00Z",
            "rule": "transcribe-bucket-encrypted", "resource_type": "AWS::S3::Bucket",
            "resource_id": "acme-bucket", "compliance": "NON_COMPLIANT",
            "annotation": "Bucket acme-bucket has no default encryption."}
    base.update(changes)
    return base


def test_demo_scan_covers_every_rule(demo_results: list[dict[str, str]]) -> None:
    assert {r["rule"] for r in demo_results} == set(RULES)


# --- OCSF ---------------------------------------------------------------------------------------

def test_ocsf_every_result_validates_against_the_models(demo_results: list[dict[str, str]]) -> None:
    records = json.loads(ocsf.render(demo_results))
    assert len(records) == len(demo_results)
    for record, result in zip(records, demo_results):
        # The library's own Compliance Finding model, and ours (its cloud profile, nothing unknown):
        ComplianceFinding.model_validate(record)
        validated = ocsf.CloudComplianceFinding.model_validate(record)
        assert validated.model_dump(mode="json", exclude_none=True) == record  # nothing dropped or coerced
        info = rule_info(result["rule"])
        assert record["class_uid"] == 2003 and record["category_uid"] == 2 and record["type_uid"] == 200301
        assert record["metadata"]["event_code"] == result["rule"]
        assert record["metadata"]["profiles"] == ["cloud", "datetime"]
        assert record["time"] == record["finding_info"]["created_time"] == 1000 * int(
            datetime.strptime(result["evaluated_at"], "%Y-%m-%dT%H:%M:%S%z").timestamp())
        assert record["severity_id"] == {"low": 2, "medium": 3, "high": 4, "critical": 5}[info.severity]
        assert record["compliance"]["status_id"] == {"COMPLIANT": 1, "NON_COMPLIANT": 3,
                                                     "NOT_APPLICABLE": 99}[result["compliance"]]
        assert record["status_code"] == result["compliance"]
        assert record["resources"] == [{"uid": result["resource_id"], "type": result["resource_type"],
                                        "region": REGION, "cloud_partition": "aws"}]
        assert record["cloud"]["account"]["uid"] == ACCOUNT and record["cloud"]["region"] == REGION
        assert record["remediation"]["desc"] == info.remediation
        assert record["compliance"]["requirements"] == info.requirements()
        assert record["finding_info"]["uid"] == finding_id(result)


def test_ocsf_model_refuses_an_unknown_attribute_and_a_bad_enum(demo_results: list[dict[str, str]]) -> None:
    record = ocsf.records(demo_results[:1])[0]
    with pytest.raises(ValueError):
        ocsf.CloudComplianceFinding.model_validate({**record, "made_up": 1})
    with pytest.raises(ValueError):
        ocsf.CloudComplianceFinding.model_validate({**record, "severity_id": 42})


# --- ASFF ---------------------------------------------------------------------------------------

def test_asff_every_result_validates_against_botocore(demo_results: list[dict[str, str]]) -> None:
    findings = json.loads(asff.render(demo_results))
    assert len(findings) == len(demo_results)
    for finding, result in zip(findings, demo_results):
        assert asff.problems(finding) == [], finding["Id"]
        info = rule_info(result["rule"])
        status = {"COMPLIANT": "PASSED", "NON_COMPLIANT": "FAILED", "NOT_APPLICABLE": "NOT_AVAILABLE"}
        assert finding["Compliance"]["Status"] == status[result["compliance"]]
        assert finding["ProductArn"] == f"arn:aws:securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default"
        assert finding["GeneratorId"] == f"transcribe-guard/{result['rule']}"
        assert finding["Severity"]["Label"] == ("INFORMATIONAL" if result["compliance"] != "NON_COMPLIANT"
                                                else info.severity.upper())
        assert finding["FindingProviderFields"]["Severity"]["Original"] == info.severity.upper()
        assert finding["Remediation"]["Recommendation"]["Text"] == info.remediation
        assert finding["Compliance"]["RelatedRequirements"] == info.requirements()
        standards = "Software and Configuration Checks/Industry and Regulatory Standards/"
        classifiers = {"hipaa": "HIPAA Controls (USA)", "pci": "PCI-DSS", "soc2": "SOC 2",
                       "nist": "NIST 800-53 Controls (USA)"}
        assert finding["Types"] == [standards + classifiers[f] for f in compliance.FRAMEWORKS
                                    if any(c[0] == f for c in info.controls)]
        assert finding["FindingProviderFields"]["Types"] == finding["Types"]
        assert finding["Resources"][0]["Id"] == result["resource_id"]
        assert finding["Description"] == result["annotation"]
        assert finding["CreatedAt"] == result["evaluated_at"]


def test_related_requirements_are_the_mapped_controls() -> None:
    finding = asff.finding(row())
    expected = [f"{compliance.FRAMEWORK_NAMES[f]} {c['id']}" for f in compliance.FRAMEWORKS
                for c in compliance.mapping(f)["entries"]["transcribe-bucket-encrypted"]["controls"]]
    assert finding["Compliance"]["RelatedRequirements"] == expected and expected


def test_validator_reports_each_kind_of_problem() -> None:
    good = asff.finding(row())
    assert asff.problems(good) == []
    cases = {
        "missing": lambda f: f.pop("Title"),
        "unknown member": lambda f: f.update(Made="up"),
        "enum": lambda f: f["Compliance"].update(Status="ERROR"),
        "type": lambda f: f.update(Types="not a list"),
        "pattern": lambda f: f.update(Description="   "),
        "length": lambda f: f.update(Description="x" * 1025),
        "nested required": lambda f: f["Resources"][0].pop("Type"),
        "map value": lambda f: f["ProductFields"].update(k=3),
        "account": lambda f: f.update(AwsAccountId="1234"),
        "integer bounds": lambda f: f["FindingProviderFields"].update(Confidence=101),
        "requirement length": lambda f: f["Compliance"].update(RelatedRequirements=["r" * 65]),
    }
    for label, change in cases.items():
        finding = copy.deepcopy(good)
        change(finding)
        assert asff.problems(finding), label


# --- ids and verdicts -----------------------------------------------------------------------------

def test_finding_ids_are_stable_and_unique(demo_results: list[dict[str, str]]) -> None:
    ids = [finding_id(r) for r in demo_results]
    assert len(set(ids)) == len(ids)
    same = row(compliance="COMPLIANT", annotation="fixed", evaluated_at="2027-01-01T00:00:00Z")
    assert finding_id(same) == finding_id(row())
    for other in (row(resource_id="acme-bucket-2"), row(rule="transcribe-bucket-tls-enforced"),
                  row(account="210987654321"), row(region="eu-west-1"), row(resource_type="AWS::KMS::Key")):
        assert finding_id(other) != finding_id(row())


def test_could_not_evaluate_is_not_available_and_warning() -> None:
    error = row(annotation="Could not evaluate: AccessDenied")
    assert asff.finding(error)["Compliance"]["Status"] == "NOT_AVAILABLE"
    assert asff.finding(error)["Severity"]["Label"] == "HIGH"
    record = ocsf.records([error])[0]
    assert record["compliance"]["status_id"] == 2 and record["unmapped"]["verdict"] == "ERROR"
    assert asff.finding(row(status="ERROR"))["Compliance"]["Status"] == "NOT_AVAILABLE"


def test_muted_result_keeps_its_status_and_is_suppressed() -> None:
    muted = row(status="MUTED", mute_reason="accepted risk, ticket SEC-1")
    finding = asff.finding(muted)
    assert finding["Compliance"]["Status"] == "FAILED" and finding["Workflow"] == {"Status": "SUPPRESSED"}
    assert finding["ProductFields"]["transcribe-guard/mute-reason"] == "accepted risk, ticket SEC-1"
    assert asff.problems(finding) == []
    record = ocsf.records([muted])[0]
    assert record["status_id"] == 3 and record["compliance"]["status_id"] == 3


def test_unknown_rule_or_compliance_is_refused() -> None:
    with pytest.raises(FindingInputError, match="no-such-rule"):
        asff.finding(row(rule="no-such-rule"))
    with pytest.raises(FindingInputError, match="INSUFFICIENT_DATA"):
        ocsf.records([row(compliance="INSUFFICIENT_DATA")])


# --- hostile values --------------------------------------------------------------------------------

FORGERY = '", "Compliance": {"Status": "PASSED"}, "x": "'


@pytest.mark.parametrize("field", ["resource_id", "annotation"])
def test_hostile_values_do_not_break_or_forge(field: str) -> None:
    values = [UNSAFE, "acme" + UNSAFE, SYNTAX, FORGERY, "acme\n" + FORGERY, "x" * 3000, " \t", UNSAFE + FORGERY]
    rows = [row(**{field: value}) for value in values]
    findings = json.loads(asff.render(rows))
    records = json.loads(ocsf.render(rows))
    for value, finding, record in zip(values, findings, records):
        assert asff.problems(finding) == [], repr(value)
        ocsf.CloudComplianceFinding.model_validate(record)
        assert finding["Compliance"]["Status"] == "FAILED" and set(finding) == set(asff.finding(row()))
        assert record["compliance"]["status_id"] == 3 and record["status_code"] == "NON_COMPLIANT"
        shown = finding["Resources"][0]["Id"] if field == "resource_id" else finding["Description"]
        assert visible(shown) == shown  # no raw control, bidi or zero-width character
        if value.strip() and len(value) < 1000:
            assert shown == visible(value)  # the value itself, escaped, in its own field only
    for text in (asff.render(rows), ocsf.render(rows)):
        assert text.isascii()


# --- the command line ----------------------------------------------------------------------------------

def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(argv, out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("fmt", ["asff", "ocsf"])
def test_scan_format_writes_findings(fmt: str, tmp_path: Any) -> None:
    target = tmp_path / f"findings.{fmt}.json"
    code, out, _ = run(["scan", "--demo", "--rule", "transcribe-bucket-public-access-blocked", "--format", fmt,
                        "--output", str(target), "--quiet"])
    assert code == 3 and out == ""
    findings = json.loads(target.read_text(encoding="utf-8"))
    assert len(findings) == 3
    if fmt == "asff":
        assert all(asff.problems(f) == [] for f in findings)
        assert sorted(f["Compliance"]["Status"] for f in findings) == ["FAILED", "PASSED", "PASSED"]
    else:
        assert all(ocsf.CloudComplianceFinding.model_validate(f) for f in findings)
        assert sorted(f["compliance"]["status_id"] for f in findings) == [1, 1, 3]


def test_a_result_no_format_can_state_is_one_line_and_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    # A result with a compliance value Config never posts (as a later enrichment step could make).
    real = scan.stream_scan  # what the command line reads the results from
    monkeypatch.setattr(scan, "stream_scan", lambda *a, **k: ({**r, "compliance": "INSUFFICIENT_DATA"}
                                                              for r in real(*a, **k)))
    code, out, err = run(["scan", "--demo", "--rule", "transcribe-ai-opt-out", "--format", "asff", "--quiet"])
    assert code == 1 and out == ""
    assert err.splitlines()[-1].startswith("transcribe-guard: could not make the findings: ")
    assert "INSUFFICIENT_DATA" in err and "Traceback" not in err


def test_an_output_that_cannot_be_written_is_one_line_not_a_traceback(tmp_path: Any) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    target = blocker / "findings.json"  # its folder is a file
    code, out, err = run(["scan", "--demo", "--rule", "transcribe-ai-opt-out", "--format", "asff", "--output",
                          str(target), "--quiet"])
    assert code == cli.EXIT_USAGE and out == ""
    # Checked before the scan (output_paths), so one line naming the path, and no traceback.
    assert len(err.splitlines()) == 1 and err.startswith(f"transcribe-guard: --output {target}: ")
    assert "Traceback" not in err
