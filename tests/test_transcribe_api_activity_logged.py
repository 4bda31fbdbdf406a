"""transcribe-api-activity-logged: selector semantics on plain data, every scenario against the
simulated account (trails created with plain boto3 calls), parameters, API errors, and the Lambda
handler with a real ScheduledNotification event."""

from __future__ import annotations

from typing import Any

import botocore.client
import pytest
from rdklib import ClientFactory, ComplianceType, Evaluation, InvalidParametersError

from rules.inventory.cloudtrail import management_event, selectors_log
from rules.transcribe_api_activity_logged import TranscribeApiActivityLogged, lambda_handler
from tests.helpers import rejected_parameters
from tests.helpers import ACCOUNT, REGION, access_denied, deploy_rule, fail_calls, periodic_event, stored_verdicts

RULE = "transcribe-api-activity-logged"
TYPE = "AWS::::Account"
BUCKET = "audit-trail-logs"
NC, OK = ComplianceType.NON_COMPLIANT, ComplianceType.COMPLIANT
WRITE = management_event("transcribe.amazonaws.com", read_only=False)
READ = management_event("transcribe.amazonaws.com", read_only=True)
MANAGEMENT = {"Field": "eventCategory", "Equals": ["Management"]}


def evaluate(parameters: dict[str, str] | None = None) -> list[Evaluation]:
    rule = TranscribeApiActivityLogged()
    return rule.evaluate_periodic({"accountId": ACCOUNT}, ClientFactory(None, region=REGION, assume_role_mode=False),
                                  rule.evaluate_parameters(parameters or {}))


def account(compliance: str, text: str) -> list[Evaluation]:
    return [Evaluation(compliance, ACCOUNT, TYPE, text)]


def compliant(trail: str, kinds: str = "read and write") -> list[Evaluation]:
    return account(OK, f"Multi-region trail {trail} is logging and records {kinds} management events from "
                       "transcribe.amazonaws.com.")


def non_compliant(*reasons: str) -> list[Evaluation]:
    return account(NC, f"No logging multi-region trail records Transcribe API activity: {'; '.join(reasons)}.")


def trail(sim: Any, name: str, multi_region: bool = True, logging: bool = True, region: str = REGION,
          basic: list[dict[str, Any]] | None = None, advanced: list[dict[str, Any]] | None = None) -> None:
    """A trail as an administrator creates it: bucket, CreateTrail, optional selectors, StartLogging."""
    s3 = sim.client("s3")
    try:
        s3.head_bucket(Bucket=BUCKET)
    except botocore.exceptions.ClientError:
        s3.create_bucket(Bucket=BUCKET)
    cloudtrail = sim.client("cloudtrail", region=region)
    cloudtrail.create_trail(Name=name, S3BucketName=BUCKET, IsMultiRegionTrail=multi_region)
    if basic is not None:
        cloudtrail.put_event_selectors(TrailName=name, EventSelectors=basic)
    if advanced is not None:
        cloudtrail.put_event_selectors(TrailName=name, AdvancedEventSelectors=advanced)
    if logging:
        cloudtrail.start_logging(Name=name)


# --- selector semantics on plain data --------------------------------------------------------------

@pytest.mark.parametrize("basic, advanced, write, read", [
    pytest.param([{}], [], True, True, id="basic-defaults-log-everything"),
    pytest.param([{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}], [], True, False, id="write-only"),
    pytest.param([{"ReadWriteType": "ReadOnly"}], [], False, True, id="read-only"),
    pytest.param([{"IncludeManagementEvents": False, "DataResources": [{"Type": "AWS::S3::Object",
                                                                       "Values": ["arn:aws:s3"]}]}], [], False, False,
                 id="data-events-only"),
    pytest.param([{"ExcludeManagementEventSources": ["transcribe.amazonaws.com"]}], [], False, False,
                 id="transcribe-excluded"),
    pytest.param([{"ExcludeManagementEventSources": ["kms.amazonaws.com"]}], [], True, True, id="kms-excluded"),
    pytest.param([{"ReadWriteType": "ReadOnly"}, {"ReadWriteType": "WriteOnly"}], [], True, True,
                 id="any-selector-logs"),
    pytest.param([], [{"FieldSelectors": [MANAGEMENT]}], True, True, id="advanced-management"),
    pytest.param([], [{"FieldSelectors": [MANAGEMENT, {"Field": "readOnly", "Equals": ["false"]}]}], True, False,
                 id="advanced-writes"),
    pytest.param([], [{"FieldSelectors": [MANAGEMENT, {"Field": "eventSource",
                                                       "NotEquals": ["kms.amazonaws.com", "rdsdata.amazonaws.com"]}]}],
                 True, True, id="advanced-not-kms"),
    pytest.param([], [{"FieldSelectors": [MANAGEMENT, {"Field": "eventSource",
                                                       "NotEquals": ["transcribe.amazonaws.com"]}]}], False, False,
                 id="advanced-not-transcribe"),
    pytest.param([], [{"FieldSelectors": [MANAGEMENT, {"Field": "eventSource", "NotStartsWith": ["transcribe."]}]}],
                 False, False, id="advanced-not-starts-with"),
    pytest.param([], [{"FieldSelectors": [MANAGEMENT, {"Field": "eventSource", "Equals": ["s3.amazonaws.com"]}]}],
                 False, False, id="advanced-other-source-only"),
    pytest.param([], [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                          {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]}], False, False,
                 id="advanced-data-only"),
    pytest.param([], [], False, False, id="no-selectors"),
])
def test_selector_semantics(basic: list[dict[str, Any]], advanced: list[dict[str, Any]], write: bool, read: bool) -> None:
    assert selectors_log(basic, advanced, WRITE) is write
    assert selectors_log(basic, advanced, READ) is read


# --- scenarios against the simulator ----------------------------------------------------------------

def test_scenario1_no_trail_is_non_compliant(sim: Any) -> None:
    assert evaluate() == account(NC, "No CloudTrail trail applies to this region, so no Transcribe API call is "
                                     "recorded; create a multi-region trail that logs management events.")


def test_scenario2_new_multi_region_trail_with_default_selectors_is_compliant(sim: Any) -> None:
    trail(sim, "org-audit")
    assert evaluate() == compliant("org-audit")


def test_scenario2_basic_selectors_excluding_only_kms_are_compliant(sim: Any) -> None:
    trail(sim, "org-audit", basic=[{"ReadWriteType": "All", "IncludeManagementEvents": True,
                                    "ExcludeManagementEventSources": ["kms.amazonaws.com"]}])
    assert evaluate() == compliant("org-audit")


def test_scenario3_advanced_management_selectors_are_compliant(sim: Any) -> None:
    trail(sim, "org-audit", advanced=[
        {"Name": "Management events except KMS", "FieldSelectors": [
            MANAGEMENT, {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]}]},
        {"Name": "S3 data events", "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]}])
    assert evaluate() == compliant("org-audit")


def test_scenario4_shadow_trail_homed_in_another_region_is_read_there(sim: Any) -> None:
    trail(sim, "eu-audit", region="eu-west-1")
    # The trail is a shadow trail here: GetEventSelectors by ARN answers only in its home region.
    with pytest.raises(botocore.exceptions.ClientError, match="TrailNotFoundException"):
        sim.client("cloudtrail").get_event_selectors(TrailName=f"arn:aws:cloudtrail:eu-west-1:{ACCOUNT}:trail/eu-audit")
    assert evaluate() == compliant("eu-audit")


def test_scenario4_single_region_trail_of_another_region_does_not_apply_here(sim: Any) -> None:
    trail(sim, "eu-only", region="eu-west-1", multi_region=False)
    assert evaluate()[0].annotation.startswith("No CloudTrail trail applies to this region")


def test_scenario5_single_region_trail_is_non_compliant(sim: Any) -> None:
    trail(sim, "local-audit", multi_region=False)
    assert evaluate() == non_compliant("trail local-audit is single-region")


def test_scenario6_trail_that_is_not_logging_is_non_compliant(sim: Any) -> None:
    trail(sim, "never-started", logging=False)
    trail(sim, "stopped")
    sim.client("cloudtrail").stop_logging(Name="stopped")
    assert evaluate() == non_compliant("trail never-started is not logging", "trail stopped is not logging")


@pytest.mark.parametrize("basic, advanced", [
    pytest.param([{"ReadWriteType": "All", "IncludeManagementEvents": False,
                   "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{BUCKET}/"]}]}], None,
                 id="basic-management-off"),
    pytest.param(None, [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]}],
                 id="advanced-data-events-only"),
])
def test_scenario7_selectors_without_management_events_are_non_compliant(sim: Any, basic: Any, advanced: Any) -> None:
    trail(sim, "data-only", basic=basic, advanced=advanced)
    assert evaluate() == non_compliant("trail data-only has event selectors that record no management events")


@pytest.mark.parametrize("basic, advanced", [
    pytest.param([{"ReadWriteType": "All", "IncludeManagementEvents": True,
                   "ExcludeManagementEventSources": ["transcribe.amazonaws.com"]}], None, id="basic-exclusion"),
    pytest.param(None, [{"FieldSelectors": [MANAGEMENT, {"Field": "eventSource",
                                                         "NotEquals": ["transcribe.amazonaws.com"]}]}],
                 id="advanced-not-equals"),
])
def test_scenario8_transcribe_excluded_is_non_compliant(sim: Any, basic: Any, advanced: Any) -> None:
    trail(sim, "no-transcribe", basic=basic, advanced=advanced)
    assert evaluate() == non_compliant(
        "trail no-transcribe has event selectors that exclude transcribe.amazonaws.com management events")


def test_scenario9_read_only_trail_is_non_compliant(sim: Any) -> None:
    trail(sim, "reads", basic=[{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}])
    assert evaluate() == non_compliant("trail reads records only read-only management events")


def test_scenario9_write_only_trail_is_compliant_unless_read_events_are_required(sim: Any) -> None:
    trail(sim, "writes", basic=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}])
    assert evaluate() == compliant("writes", "write")
    assert evaluate({"RequireReadEvents": "false"}) == compliant("writes", "write")
    assert evaluate({"RequireReadEvents": "TRUE"}) == non_compliant(
        "trail writes records only write management events (RequireReadEvents is true)")


def test_scenario9_advanced_write_only_selector(sim: Any) -> None:
    trail(sim, "writes", advanced=[{"FieldSelectors": [MANAGEMENT, {"Field": "readOnly", "Equals": ["false"]}]}])
    assert evaluate() == compliant("writes", "write")
    assert evaluate({"RequireReadEvents": "true"})[0].complianceType == NC


def test_scenario9_require_read_events_with_an_all_events_trail(sim: Any) -> None:
    trail(sim, "everything")
    assert evaluate({"RequireReadEvents": "true"}) == compliant("everything")


def test_scenario10_one_qualifying_trail_is_enough(sim: Any) -> None:
    trail(sim, "a-local", multi_region=False)
    trail(sim, "b-stopped", logging=False)
    trail(sim, "c-good")
    assert evaluate() == compliant("c-good")


def test_scenario10_every_trail_reason_is_given_when_none_qualifies(sim: Any) -> None:
    trail(sim, "a-local", multi_region=False)
    trail(sim, "b-stopped", logging=False)
    trail(sim, "c-reads", basic=[{"ReadWriteType": "ReadOnly"}])
    assert evaluate() == non_compliant("trail a-local is single-region", "trail b-stopped is not logging",
                                       "trail c-reads records only read-only management events")


def test_scenario10_annotation_is_truncated_to_256_characters(sim: Any) -> None:
    for index in range(8):
        trail(sim, f"regional-trail-with-a-long-name-{index}", multi_region=False)
    (result,) = evaluate()
    assert result.complianceType == NC and len(result.annotation) == 256 and result.annotation.endswith("…")


def deny(monkeypatch: Any, operation: str, trail_name: str | None = None) -> None:
    """AccessDenied on every call of ``operation`` (for one trail only, when named)."""
    def should_fail(client: Any, name: str, params: dict[str, Any]) -> bool:
        target = params.get("Name") or params.get("TrailName") or ""
        return name == operation and (trail_name is None or target.endswith(f"/{trail_name}"))
    fail_calls(monkeypatch, botocore.client.BaseClient, "_make_api_call", should_fail, lambda: access_denied(operation))


def test_scenario11_describe_trails_denied(sim: Any, monkeypatch: Any) -> None:
    trail(sim, "org-audit")
    deny(monkeypatch, "DescribeTrails")
    assert evaluate() == account(NC, "Could not evaluate: AccessDeniedException when listing CloudTrail trails.")


@pytest.mark.parametrize("operation", ["GetTrailStatus", "GetEventSelectors"])
def test_scenario11_trail_that_cannot_be_read_fails_closed(sim: Any, monkeypatch: Any, operation: str) -> None:
    trail(sim, "org-audit")
    trail(sim, "zz-local", multi_region=False)
    deny(monkeypatch, operation)
    assert evaluate() == account(NC, f"Could not evaluate: AccessDeniedException when calling {operation} for trail "
                                     "org-audit; trail zz-local is single-region.")


def test_scenario11_denied_trail_does_not_hide_a_qualifying_one(sim: Any, monkeypatch: Any) -> None:
    trail(sim, "a-denied")
    trail(sim, "b-good")
    deny(monkeypatch, "GetTrailStatus", trail_name="a-denied")
    assert evaluate() == compliant("b-good")


@pytest.mark.parametrize("parameters, message", [
    ({"RequireReadEvents": "yes"}, "Parameter RequireReadEvents must be true or false"),
    ({"RequireReadEvents": 1}, "Parameter RequireReadEvents must be a string"),
    ({"RequireReadEvent": "true"}, "Unknown parameter RequireReadEvent; this rule accepts: RequireReadEvents"),
])
def test_bad_parameters_name_the_parameter(parameters: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParametersError, match=message):
        TranscribeApiActivityLogged().evaluate_parameters(parameters)


def test_lambda_handler_rejects_bad_parameters_with_invalid_parameter_value(sim: Any) -> None:
    deploy_rule(sim, RULE)
    response = rejected_parameters(lambda_handler, periodic_event(RULE, {"RequireReadEvents": "sometimes"}))
    assert response["customerErrorCode"] == "InvalidParameterValueException"
    assert "RequireReadEvents" in response["customerErrorMessage"]


def test_lambda_handler_stores_the_account_verdict(sim: Any) -> None:
    deploy_rule(sim, RULE)
    lambda_handler(periodic_event(RULE), None)
    assert stored_verdicts(sim, RULE) == {ACCOUNT: NC}  # Scenario 1
    trail(sim, "org-audit")
    lambda_handler(periodic_event(RULE), None)
    assert stored_verdicts(sim, RULE) == {ACCOUNT: OK}  # Scenario 2
    sim.client("cloudtrail").stop_logging(Name="org-audit")
    lambda_handler(periodic_event(RULE, {"RequireReadEvents": "true"}), None)
    assert stored_verdicts(sim, RULE) == {ACCOUNT: NC}  # Scenario 6
