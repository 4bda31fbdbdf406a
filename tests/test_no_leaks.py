"""No data leaks: PII-looking canaries seeded into tag values, object keys and job settings never
appear in annotations, logs (DEBUG on), CLI output in any format, or stored Config results."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest

from rules.catalog.registry import RULES, module_name
from transcribe_guard import cli
from transcribe_guard.scan_parameters import DEMO_PARAMETERS
from transcribe_guard.simulator import Simulator
from tests.helpers import deploy_rule, periodic_event, stored_verdicts

CARD, SSN, NAME = "4111111111111111", "078-05-1120", "Jane Q. Patient"
CANARIES = (CARD, SSN, NAME, "4111 1111 1111 1111", "Jane-Doe-078051120")


def seed_canaries(sim: Any) -> None:
    """Resources a careless pipeline would create: identifiers in tag values, keys and settings."""
    s3, transcribe = sim.client("s3"), sim.client("transcribe")
    media_key = f"calls/{CARD}/{SSN}-jane-doe.wav"
    s3.put_object(Bucket="acme-cc-call-audio", Key=media_key, Body=b"RIFF")
    s3.put_bucket_tagging(Bucket="acme-cc-call-audio", Tagging={"TagSet": [{"Key": "Owner", "Value": NAME}]})
    tags = [{"Key": "DataClassification", "Value": "confidential"}, {"Key": "Caller", "Value": f"{NAME} {SSN}"},
            {"Key": "Card", "Value": "4111 1111 1111 1111"}]
    transcribe.start_transcription_job(
        TranscriptionJobName="canary-call", LanguageCode="en-US", Media={"MediaFileUri": f"s3://acme-cc-call-audio/{media_key}"},
        OutputBucketName="acme-cc-transcripts", OutputKey="patients/Jane-Doe-078051120/",
        KMSEncryptionContext={"patient": NAME}, Tags=tags)
    transcribe.start_transcription_job(  # service bucket, unredacted: findings whose annotations must stay clean
        TranscriptionJobName="canary-meeting", LanguageCode="en-US",
        Media={"MediaFileUri": f"s3://acme-cc-call-audio/{media_key}"}, Tags=tags)
    transcribe.start_call_analytics_job(
        CallAnalyticsJobName="canary-analytics", Media={"MediaFileUri": f"s3://acme-cc-call-audio/{media_key}"},
        OutputLocation="s3://acme-cc-transcripts/patients/Jane-Doe-078051120/", Tags=tags)
    transcribe.create_vocabulary(VocabularyName="canary-vocabulary", LanguageCode="en-US",
                                 Phrases=["Jane-Doe-078051120"], Tags=tags)


def assert_clean(text: str, where: str) -> None:
    found = [canary for canary in CANARIES if canary in text]
    assert found == [], f"{where} contains {found}"


@pytest.fixture
def canary_account() -> Any:
    with Simulator(seed="demo") as sim:
        seed_canaries(sim)
        yield sim


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "asff"])  # asff: the fields OCSF carries too
def test_cli_scan_output_has_no_canaries(canary_account: Any, fmt: str, tmp_path: Any) -> None:
    params = tmp_path / "params.json"
    params.write_text(json.dumps(DEMO_PARAMETERS))
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["scan", "--format", fmt, "--parameters", str(params)], out, err)
    assert code == cli.EXIT_NON_COMPLIANT
    assert "canary-meeting" in out.getvalue()  # the canary resources were evaluated
    assert_clean(out.getvalue(), f"scan --format {fmt} stdout")
    assert_clean(err.getvalue(), f"scan --format {fmt} stderr")


def test_lambda_handlers_with_debug_logging_leak_nothing(canary_account: Any, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger at DEBUG, as LOG_LEVEL=DEBUG would set it
    stored: dict[str, dict[str, str]] = {}
    for name in RULES:
        deploy_rule(canary_account, name)
        handler = __import__(f"rules.{module_name(name)}", fromlist=["lambda_handler"]).lambda_handler
        response = handler(periodic_event(name, DEMO_PARAMETERS.get(name, {})), None)
        assert isinstance(response, list), f"{name}: {response}"
        for evaluation in response:
            assert_clean(json.dumps(evaluation), f"{name} evaluation")
        stored[name] = stored_verdicts(canary_account, name)
    assert any("canary-meeting" in resource for results in stored.values() for resource in results)
    assert any(record.levelno == logging.DEBUG for record in caplog.records)  # DEBUG really was on
    assert_clean("\n".join(record.getMessage() for record in caplog.records), "log records")
    structured = [json.loads(r.getMessage()) for r in caplog.records if r.name == "transcribe_guard.rules"
                  and r.getMessage().startswith("{")]
    assert {entry["rule"] for entry in structured} == set(RULES)
    assert all({"rule", "account", "region", "evaluations", "by_compliance"} <= set(entry) for entry in structured)
