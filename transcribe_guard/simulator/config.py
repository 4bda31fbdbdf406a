"""AWS Config evaluation results for the simulator.

moto 5.2.5 accepts PutEvaluations only in TestMode and has no GetComplianceDetailsByConfigRule,
which rdklib's stale-evaluation cleanup calls on every periodic run. Here PutEvaluations stores
results (the latest per rule, resource type and resource id, as Config keeps them), and
GetComplianceDetailsByConfigRule / DescribeComplianceByConfigRule read them back, paged.

Result tokens: real Config hands each Lambda invocation an opaque ``resultToken`` tied to the rule.
The simulator issues tokens with ``result_token(rule_name)`` (base64 JSON naming the rule);
PutEvaluations rejects any other token, and the rule must exist, as in Config.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import uuid
from typing import Any

from moto.config.exceptions import InvalidResultTokenException, NoSuchConfigRuleException
from moto.config.models import config_backends
from moto.config.responses import ConfigResponse
from moto.core.exceptions import JsonRESTError

from transcribe_guard.simulator import clock

VALID_COMPLIANCE = ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE", "INSUFFICIENT_DATA")
DEFAULT_DETAILS_LIMIT = 10  # GetComplianceDetailsByConfigRule: "The default is 10." (0 means the default)


class ValidationException(JsonRESTError):
    code = 400

    def __init__(self, message: str):
        super().__init__("ValidationException", message)


class InvalidParameterValueException(JsonRESTError):
    code = 400

    def __init__(self, message: str):
        super().__init__("InvalidParameterValueException", message)


class InvalidNextTokenException(JsonRESTError):
    code = 400

    def __init__(self) -> None:
        super().__init__("InvalidNextTokenException", "The specified next token is invalid.")


def result_token(rule_name: str) -> str:
    """A result token for one evaluation run of ``rule_name`` (what Config puts in the event)."""
    payload = {"configRuleName": rule_name, "invocation": str(uuid.uuid4())}
    return base64.b64encode(json.dumps(payload).encode()).decode()


def read_verdicts(config: Any, rule_name: str) -> dict[str, str]:
    """resource id -> compliance, as GetComplianceDetailsByConfigRule reports them (all pages),
    through a Config client: what tests and the benchmark read back after a run."""
    verdicts: dict[str, str] = {}
    kwargs: dict[str, Any] = {"ConfigRuleName": rule_name,
                              "ComplianceTypes": ["COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"], "Limit": 100}
    while True:
        page = config.get_compliance_details_by_config_rule(**kwargs)
        for result in page["EvaluationResults"]:
            qualifier = result["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
            verdicts[qualifier["ResourceId"]] = result["ComplianceType"]
        if not page.get("NextToken"):
            return verdicts
        kwargs["NextToken"] = page["NextToken"]


def _rule_of_token(token: str | None) -> str:
    try:
        return str(json.loads(base64.b64decode(token or "", validate=True))["configRuleName"])
    except (ValueError, KeyError, TypeError):
        raise InvalidResultTokenException() from None


_LOCK = threading.Lock()


def stored_results(backend: Any, rule_name: str) -> dict[str, dict[str, Any]]:
    """The stored results of one rule, kept on moto's Config backend so that a moto reset
    clears them with everything else. They belong to the rule (its id), not to its name: deleting
    a rule deletes its results, and a new rule of the same name starts without any."""
    store: dict[str, dict[str, dict[str, Any]]] = backend.__dict__.setdefault("_transcribe_guard_results", {})
    rule = backend.config_rules.get(rule_name)
    if rule is None:
        return {}
    return store.setdefault(rule.config_rule_id, {})


def _epoch(value: Any) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.timestamp()
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def _require_rule(backend: Any, rule_name: str) -> None:
    if rule_name not in backend.config_rules:
        raise NoSuchConfigRuleException(rule_name)


def put_evaluations(self: ConfigResponse) -> str:
    evaluations = self._get_param("Evaluations") or []
    token = self._get_param("ResultToken")
    test_mode = bool(self._get_param("TestMode"))
    if len(evaluations) > 100:
        raise ValidationException("Evaluations can contain at most 100 items.")
    for index, evaluation in enumerate(evaluations):
        for member in ("ComplianceResourceType", "ComplianceResourceId", "ComplianceType", "OrderingTimestamp"):
            if not evaluation.get(member):
                raise InvalidParameterValueException(f"Evaluations[{index}].{member} is required.")
        if evaluation["ComplianceType"] not in VALID_COMPLIANCE[:3]:
            raise InvalidParameterValueException(
                f"Evaluations[{index}].ComplianceType must be COMPLIANT, NON_COMPLIANT or NOT_APPLICABLE.")
        if len(evaluation.get("Annotation", "")) > 256:
            raise ValidationException(f"Evaluations[{index}].Annotation is longer than 256 characters.")
        if len(evaluation["ComplianceResourceId"]) > 768:
            raise ValidationException(f"Evaluations[{index}].ComplianceResourceId is longer than 768 characters.")
    if test_mode:  # Config validates and discards test-mode evaluations
        return json.dumps({"FailedEvaluations": []})
    rule_name = _rule_of_token(token)
    backend = self.config_backend
    if rule_name not in backend.config_rules:
        raise InvalidResultTokenException()
    now = clock.now().timestamp()  # the simulated clock (clock.py)
    with _LOCK:
        results = stored_results(backend, rule_name)
        for evaluation in evaluations:
            key = f"{evaluation['ComplianceResourceType']}\x00{evaluation['ComplianceResourceId']}"
            ordering = _epoch(evaluation["OrderingTimestamp"])
            previous = results.get(key)
            if previous and previous["OrderingTimestamp"] > ordering:
                continue  # Config keeps the result with the newest ordering timestamp
            results[key] = {
                "ConfigRuleName": rule_name,
                "ResourceType": evaluation["ComplianceResourceType"],
                "ResourceId": evaluation["ComplianceResourceId"],
                "ComplianceType": evaluation["ComplianceType"],
                "Annotation": evaluation.get("Annotation"),
                "OrderingTimestamp": ordering,
                "ResultRecordedTime": now,
                "ConfigRuleInvokedTime": now,
                "ResultToken": token,
            }
    return json.dumps({"FailedEvaluations": []})


def _page(items: list[Any], token: str | None, limit: int) -> tuple[list[Any], str | None]:
    start = 0
    if token:
        try:
            start = int(base64.b64decode(token, validate=True).decode())
        except ValueError:
            raise InvalidNextTokenException() from None
        if start < 0:
            raise InvalidNextTokenException()
    end = start + limit
    next_token = base64.b64encode(str(end).encode()).decode() if end < len(items) else None
    return items[start:end], next_token


def get_compliance_details_by_config_rule(self: ConfigResponse) -> str:
    rule_name = self._get_param("ConfigRuleName")
    _require_rule(self.config_backend, rule_name)
    wanted = self._get_param("ComplianceTypes") or []
    for compliance in wanted:
        if compliance not in VALID_COMPLIANCE:
            raise InvalidParameterValueException(f"Unsupported ComplianceType {compliance}.")
    limit = int(self._get_param("Limit") or 0)
    if not 0 <= limit <= 100:
        raise InvalidParameterValueException("Limit must be between 0 and 100.")
    limit = limit or DEFAULT_DETAILS_LIMIT
    results = sorted(stored_results(self.config_backend, rule_name).values(),
                     key=lambda r: (r["ResourceType"], r["ResourceId"]))
    if wanted:
        results = [r for r in results if r["ComplianceType"] in wanted]
    page, next_token = _page(results, self._get_param("NextToken"), limit)
    body: dict[str, Any] = {"EvaluationResults": [_evaluation_result(r) for r in page]}
    if next_token:
        body["NextToken"] = next_token
    return json.dumps(body)


def _evaluation_result(record: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "EvaluationResultIdentifier": {
            "EvaluationResultQualifier": {
                "ConfigRuleName": record["ConfigRuleName"],
                "ResourceType": record["ResourceType"],
                "ResourceId": record["ResourceId"],
                "EvaluationMode": "DETECTIVE",
            },
            "OrderingTimestamp": record["OrderingTimestamp"],
        },
        "ComplianceType": record["ComplianceType"],
        "ResultRecordedTime": record["ResultRecordedTime"],
        "ConfigRuleInvokedTime": record["ConfigRuleInvokedTime"],
        "ResultToken": record["ResultToken"],
    }
    if record.get("Annotation"):
        result["Annotation"] = record["Annotation"]
    return result


def rule_compliance(backend: Any, rule_name: str) -> dict[str, Any]:
    """A rule's overall compliance as Config summarizes it: NON_COMPLIANT with a count when any
    resource is, COMPLIANT when some are and none is not, otherwise INSUFFICIENT_DATA."""
    results = stored_results(backend, rule_name).values()
    non_compliant = sum(1 for r in results if r["ComplianceType"] == "NON_COMPLIANT")
    if non_compliant:
        return {"ComplianceType": "NON_COMPLIANT",
                "ComplianceContributorCount": {"CappedCount": min(non_compliant, 100), "CapExceeded": non_compliant > 100}}
    if any(r["ComplianceType"] == "COMPLIANT" for r in results):
        return {"ComplianceType": "COMPLIANT"}
    return {"ComplianceType": "INSUFFICIENT_DATA"}


def describe_compliance_by_config_rule(self: ConfigResponse) -> str:
    backend = self.config_backend
    names = self._get_param("ConfigRuleNames") or sorted(backend.config_rules)
    for name in names:
        _require_rule(backend, name)
    wanted = self._get_param("ComplianceTypes") or []
    rows = []
    for name in names:
        compliance = rule_compliance(backend, name)
        if not wanted or compliance["ComplianceType"] in wanted:
            rows.append({"ConfigRuleName": name, "Compliance": compliance})
    page, next_token = _page(rows, self._get_param("NextToken"), 25)
    body: dict[str, Any] = {"ComplianceByConfigRules": page}
    if next_token:
        body["NextToken"] = next_token
    return json.dumps(body)


def install() -> None:
    """Add the operations to moto's Config responses (idempotent)."""
    ConfigResponse.put_evaluations = put_evaluations  # type: ignore[method-assign]
    ConfigResponse.get_compliance_details_by_config_rule = get_compliance_details_by_config_rule  # type: ignore[attr-defined]
    ConfigResponse.describe_compliance_by_config_rule = describe_compliance_by_config_rule  # type: ignore[attr-defined]


def backend(account: str, region: str) -> Any:
    return config_backends[account][region]
