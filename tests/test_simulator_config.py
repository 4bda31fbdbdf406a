"""The simulator's AWS Config extension: stored PutEvaluations results read back through
GetComplianceDetailsByConfigRule and DescribeComplianceByConfigRule, as rdklib uses them."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

import pytest
from botocore.exceptions import ClientError

from transcribe_guard.simulator.config import result_token
from transcribe_guard.simulator.shapes import output_shape, validate

ACCOUNT = "123456789012"
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def checked(client: Any, method: str, **kwargs: Any) -> dict[str, Any]:
    """Calls ``method`` and checks the response against botocore's config output shape."""
    response = getattr(client, method)(**kwargs)
    response.pop("ResponseMetadata", None)
    operation = client.meta.method_to_api_mapping[method]
    assert validate(output_shape("config", operation), response) == [], operation
    return response


def lambda_function(sim: Any, name: str = "transcribe-guard-rule") -> str:
    """A moto Lambda function (CUSTOM_LAMBDA rules must name an existing one); returns its ARN."""
    role = sim.client("iam").create_role(
        RoleName=f"{name}-role",
        AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
                                 '"Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}')
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def lambda_handler(event, context):\n    return None\n")
    function = sim.client("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=role["Role"]["Arn"], Handler="handler.lambda_handler",
        Code={"ZipFile": code.getvalue()})
    return str(function["FunctionArn"])


def custom_rule(sim: Any, rule_name: str, function_arn: str) -> None:
    sim.client("config").put_config_rule(ConfigRule={
        "ConfigRuleName": rule_name,
        "Source": {"Owner": "CUSTOM_LAMBDA", "SourceIdentifier": function_arn,
                   "SourceDetails": [{"EventSource": "aws.config", "MessageType": "ScheduledNotification",
                                      "MaximumExecutionFrequency": "TwentyFour_Hours"}]}})


def managed_rule(sim: Any, rule_name: str) -> None:
    sim.client("config").put_config_rule(ConfigRule={
        "ConfigRuleName": rule_name, "Source": {"Owner": "AWS", "SourceIdentifier": "S3_BUCKET_VERSIONING_ENABLED"}})


def evaluation(resource_id: str, compliance: str, at: dt.datetime = T0, annotation: str | None = None,
               resource_type: str = "AWS::::Account") -> dict[str, Any]:
    item: dict[str, Any] = {"ComplianceResourceType": resource_type, "ComplianceResourceId": resource_id,
                            "ComplianceType": compliance, "OrderingTimestamp": at}
    if annotation:
        item["Annotation"] = annotation
    return item


def results(config: Any, rule_name: str, **kwargs: Any) -> dict[str, str]:
    """resource id -> compliance type, over every page."""
    found: dict[str, str] = {}
    kwargs = {"Limit": 100, **kwargs}
    while True:
        page = checked(config, "get_compliance_details_by_config_rule", ConfigRuleName=rule_name, **kwargs)
        for result in page["EvaluationResults"]:
            resource_id = result["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"]
            assert resource_id not in found
            found[resource_id] = result["ComplianceType"]
        if "NextToken" not in page:
            return found
        kwargs["NextToken"] = page["NextToken"]


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def test_put_evaluations_stores_results_for_a_custom_lambda_rule(sim: Any) -> None:
    custom_rule(sim, "transcribe-job-output-location", lambda_function(sim))
    config = sim.client("config")
    token = result_token("transcribe-job-output-location")
    job_arn = f"arn:aws:transcribe:us-east-1:{ACCOUNT}:transcription-job/job-1"
    response = checked(config, "put_evaluations", ResultToken=token, Evaluations=[
        evaluation(job_arn, "NON_COMPLIANT", annotation="Output is in a service-managed bucket."),
        evaluation("other-job", "COMPLIANT", resource_type="AWS::S3::Bucket")])
    assert response == {"FailedEvaluations": []}
    page = checked(config, "get_compliance_details_by_config_rule", ConfigRuleName="transcribe-job-output-location")
    assert "NextToken" not in page
    by_id = {r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"]: r
             for r in page["EvaluationResults"]}
    assert set(by_id) == {job_arn, "other-job"}
    stored = by_id[job_arn]
    assert stored["ComplianceType"] == "NON_COMPLIANT"
    assert stored["Annotation"] == "Output is in a service-managed bucket."
    assert stored["ResultToken"] == token
    assert stored["EvaluationResultIdentifier"]["OrderingTimestamp"] == T0
    assert stored["EvaluationResultIdentifier"]["EvaluationResultQualifier"] == {
        "ConfigRuleName": "transcribe-job-output-location", "ResourceType": "AWS::::Account",
        "ResourceId": job_arn, "EvaluationMode": "DETECTIVE"}
    assert by_id["other-job"]["EvaluationResultIdentifier"]["EvaluationResultQualifier"][
        "ResourceType"] == "AWS::S3::Bucket"
    assert "Annotation" not in by_id["other-job"]


def test_tokens_must_name_an_existing_rule(sim: Any) -> None:
    managed_rule(sim, "versioning")
    config = sim.client("config")
    for token in ("not-a-token", "eyJub3QiOiAiYSBydWxlIn0=", result_token("no-such-rule")):
        with pytest.raises(ClientError) as excinfo:
            config.put_evaluations(ResultToken=token, Evaluations=[evaluation("r", "COMPLIANT")])
        assert error_code(excinfo) == "InvalidResultTokenException", token
    assert results(config, "versioning") == {}
    checked(config, "put_evaluations", ResultToken=result_token("versioning"),
            Evaluations=[evaluation("r", "COMPLIANT")])
    assert results(config, "versioning") == {"r": "COMPLIANT"}


def test_test_mode_validates_but_stores_nothing(sim: Any) -> None:
    managed_rule(sim, "versioning")
    config = sim.client("config")
    # rdklib's test mode: the literal token TESTMODE, which is no valid result token.
    assert checked(config, "put_evaluations", ResultToken="TESTMODE", TestMode=True,
                   Evaluations=[evaluation("r", "NON_COMPLIANT")]) == {"FailedEvaluations": []}
    assert checked(config, "put_evaluations", ResultToken=result_token("versioning"), TestMode=True,
                   Evaluations=[evaluation("r", "NON_COMPLIANT")]) == {"FailedEvaluations": []}
    assert results(config, "versioning") == {}
    with pytest.raises(ClientError) as excinfo:  # still validated
        config.put_evaluations(ResultToken="TESTMODE", TestMode=True,
                               Evaluations=[evaluation("r", "INSUFFICIENT_DATA")])
    assert error_code(excinfo) == "InvalidParameterValueException"


def test_empty_evaluations_are_accepted(sim: Any) -> None:
    managed_rule(sim, "versioning")
    config = sim.client("config")
    assert checked(config, "put_evaluations", ResultToken=result_token("versioning"),
                   Evaluations=[]) == {"FailedEvaluations": []}
    assert checked(config, "put_evaluations", ResultToken="TESTMODE", Evaluations=[],
                   TestMode=True) == {"FailedEvaluations": []}
    assert results(config, "versioning") == {}


def test_invalid_evaluations_are_rejected(sim: Any) -> None:
    managed_rule(sim, "versioning")
    config = sim.client("config")
    token = result_token("versioning")
    for evaluations, code in [
        ([evaluation("r", "INSUFFICIENT_DATA")], "InvalidParameterValueException"),
        ([evaluation(f"r{i}", "COMPLIANT") for i in range(101)], "ValidationException"),
        ([evaluation("r", "COMPLIANT", annotation="x" * 257)], "ValidationException"),
    ]:
        with pytest.raises(ClientError) as excinfo:
            config.put_evaluations(ResultToken=token, Evaluations=evaluations)
        assert error_code(excinfo) == code
    assert results(config, "versioning") == {}


def test_the_newest_ordering_timestamp_wins(sim: Any) -> None:
    managed_rule(sim, "versioning")
    config = sim.client("config")
    token = result_token("versioning")
    later = T0 + dt.timedelta(hours=1)
    config.put_evaluations(ResultToken=token, Evaluations=[evaluation("r", "NON_COMPLIANT", at=later)])
    config.put_evaluations(ResultToken=token, Evaluations=[evaluation("r", "COMPLIANT", at=T0)])  # older: ignored
    assert results(config, "versioning") == {"r": "NON_COMPLIANT"}
    config.put_evaluations(ResultToken=token,
                           Evaluations=[evaluation("r", "COMPLIANT", at=later + dt.timedelta(seconds=1))])
    assert results(config, "versioning") == {"r": "COMPLIANT"}
    (stored,) = checked(config, "get_compliance_details_by_config_rule",
                        ConfigRuleName="versioning")["EvaluationResults"]
    assert stored["EvaluationResultIdentifier"]["OrderingTimestamp"] == later + dt.timedelta(seconds=1)


def test_compliance_details_filter_and_page(sim: Any) -> None:
    managed_rule(sim, "versioning")
    config = sim.client("config")
    token = result_token("versioning")
    kinds = ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE")
    everything = {f"resource-{index:03d}": kinds[index % 3] for index in range(250)}
    items = [evaluation(resource_id, compliance) for resource_id, compliance in everything.items()]
    for start in range(0, len(items), 100):
        config.put_evaluations(ResultToken=token, Evaluations=items[start:start + 100])

    # Default page size is 10 (and Limit=0 means the default), at most 100.
    first = checked(config, "get_compliance_details_by_config_rule", ConfigRuleName="versioning")
    assert len(first["EvaluationResults"]) == 10 and first["NextToken"]
    assert len(checked(config, "get_compliance_details_by_config_rule", ConfigRuleName="versioning",
                       Limit=0)["EvaluationResults"]) == 10
    sizes = []
    kwargs: dict[str, Any] = {"ConfigRuleName": "versioning", "Limit": 100, "NextToken": ""}  # as rdklib calls it
    while True:
        page = checked(config, "get_compliance_details_by_config_rule", **kwargs)
        sizes.append(len(page["EvaluationResults"]))
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert sizes == [100, 100, 50]
    assert results(config, "versioning") == everything
    wanted = ["COMPLIANT", "NON_COMPLIANT"]
    assert results(config, "versioning", ComplianceTypes=wanted) == {
        k: v for k, v in everything.items() if v in wanted}
    assert results(config, "versioning", ComplianceTypes=["NOT_APPLICABLE"]) == {
        k: v for k, v in everything.items() if v == "NOT_APPLICABLE"}

    for kwargs, code in [({"Limit": 101}, "InvalidParameterValueException"),
                         ({"NextToken": "not-a-token!"}, "InvalidNextTokenException"),
                         ({"NextToken": "LTE="}, "InvalidNextTokenException"),  # base64 of -1
                         ({"ComplianceTypes": ["MAYBE"]}, "InvalidParameterValueException")]:
        with pytest.raises(ClientError) as excinfo:
            config.get_compliance_details_by_config_rule(ConfigRuleName="versioning", **kwargs)
        assert error_code(excinfo) == code, kwargs
    with pytest.raises(ClientError) as excinfo:
        config.get_compliance_details_by_config_rule(ConfigRuleName="no-such-rule")
    assert error_code(excinfo) == "NoSuchConfigRuleException"


def test_describe_compliance_by_config_rule_summarizes(sim: Any) -> None:
    for name in ("all-compliant", "never-evaluated", "not-applicable-only", "some-non-compliant", "many-non-compliant"):
        managed_rule(sim, name)
    config = sim.client("config")
    config.put_evaluations(ResultToken=result_token("all-compliant"),
                           Evaluations=[evaluation("a", "COMPLIANT"), evaluation("b", "NOT_APPLICABLE")])
    config.put_evaluations(ResultToken=result_token("not-applicable-only"),
                           Evaluations=[evaluation("a", "NOT_APPLICABLE")])
    config.put_evaluations(ResultToken=result_token("some-non-compliant"), Evaluations=[
        evaluation("a", "NON_COMPLIANT"), evaluation("b", "NON_COMPLIANT"), evaluation("c", "COMPLIANT")])
    many = [evaluation(f"r{index}", "NON_COMPLIANT") for index in range(105)]
    config.put_evaluations(ResultToken=result_token("many-non-compliant"), Evaluations=many[:100])
    config.put_evaluations(ResultToken=result_token("many-non-compliant"), Evaluations=many[100:])

    rows = checked(config, "describe_compliance_by_config_rule")["ComplianceByConfigRules"]
    summary = {row["ConfigRuleName"]: row["Compliance"] for row in rows}
    assert summary == {
        "all-compliant": {"ComplianceType": "COMPLIANT"},
        "never-evaluated": {"ComplianceType": "INSUFFICIENT_DATA"},
        "not-applicable-only": {"ComplianceType": "INSUFFICIENT_DATA"},
        "some-non-compliant": {"ComplianceType": "NON_COMPLIANT",
                               "ComplianceContributorCount": {"CappedCount": 2, "CapExceeded": False}},
        "many-non-compliant": {"ComplianceType": "NON_COMPLIANT",
                               "ComplianceContributorCount": {"CappedCount": 100, "CapExceeded": True}},
    }
    only = checked(config, "describe_compliance_by_config_rule", ConfigRuleNames=["some-non-compliant"])
    assert [row["ConfigRuleName"] for row in only["ComplianceByConfigRules"]] == ["some-non-compliant"]
    compliant = checked(config, "describe_compliance_by_config_rule", ComplianceTypes=["COMPLIANT"])
    assert [row["ConfigRuleName"] for row in compliant["ComplianceByConfigRules"]] == ["all-compliant"]
    with pytest.raises(ClientError) as excinfo:
        config.describe_compliance_by_config_rule(ConfigRuleNames=["no-such-rule"])
    assert error_code(excinfo) == "NoSuchConfigRuleException"


def test_deleting_a_rule_deletes_its_results(sim: Any) -> None:
    managed_rule(sim, "versioning")
    config = sim.client("config")
    config.put_evaluations(ResultToken=result_token("versioning"), Evaluations=[evaluation("r", "NON_COMPLIANT")])
    config.delete_config_rule(ConfigRuleName="versioning")
    with pytest.raises(ClientError) as excinfo:
        config.put_evaluations(ResultToken=result_token("versioning"), Evaluations=[evaluation("r", "COMPLIANT")])
    assert error_code(excinfo) == "InvalidResultTokenException"
    managed_rule(sim, "versioning")  # a new rule of the same name starts without results
    assert results(config, "versioning") == {}
    assert checked(config, "describe_compliance_by_config_rule", ConfigRuleNames=["versioning"])[
        "ComplianceByConfigRules"][0]["Compliance"] == {"ComplianceType": "INSUFFICIENT_DATA"}
