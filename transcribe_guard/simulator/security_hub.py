"""Security Hub for the simulator: the BatchImportFindings and GetFindings behaviour
``scan --security-hub`` relies on, over moto 5.2.5's securityhub backend.

moto stores imported findings and pages GetFindings, but ignores its Filters, accepts any
ProductArn and account, merges an update into the stored finding field by field, and imports
with Security Hub disabled. Here:

- BatchImportFindings refuses more than 100 findings in one call (InvalidInputException; the API
  reference's "Maximum of 100 findings per request"). Each finding is accepted or listed in
  FailedFindings on its own: with Security Hub not enabled, every finding fails with
  ``InvalidAccess`` ("If Security Hub CSPM is disabled ... the findings are returned in the
  FailedFindings list, with an InvalidAccess error", finding-update-batchimportfindings); a
  finding whose AwsAccountId is not the caller's, or whose ProductArn is not the caller's default
  product in this Region (``arn:aws:securityhub:<region>:<account>:product/<account>/default``, the
  only product the simulator knows), fails with ``InvalidAccess`` too (the error code for those two
  is the simulator's choice: unverified); a finding over 240 KB fails with ``InvalidInput``.
- A finding is stored under (ProductArn, Id); importing the same pair again replaces it, except
  for what BatchImportFindings cannot change after creation (Workflow, Note, UserDefinedFields,
  VerificationState: BatchImportFindings API reference), which is kept. New findings get
  RecordState ACTIVE and Workflow.Status NEW unless they say otherwise, and Security Hub's own
  ProductFields key ``aws/securityhub/FindingId`` (the finding ARN form is unverified).
- GetFindings applies StringFilter filters on the members ``scan --security-hub`` and its tests
  use (Id, ProductArn, GeneratorId, AwsAccountId, Region, RecordState, ComplianceStatus,
  WorkflowStatus): EQUALS and PREFIX filters on one member are OR-ed, NOT_EQUALS and
  PREFIX_NOT_EQUALS AND-ed, members AND-ed (the AwsSecurityFindingFilters documentation). Any other
  filter is refused with InvalidInputException naming it, so a caller is never silently given
  findings its filter would have excluded.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from typing import Any

from moto.securityhub.exceptions import InvalidInputException
from moto.securityhub.models import SecurityHubBackend
from moto.utilities.paginator import paginate

MAX_FINDINGS = 100
MAX_FINDING_BYTES = 240 * 1024
KEPT_ON_UPDATE = ("Workflow", "Note", "UserDefinedFields", "VerificationState")
FILTER_MEMBERS = {
    "Id": ("Id",), "ProductArn": ("ProductArn",), "GeneratorId": ("GeneratorId",),
    "AwsAccountId": ("AwsAccountId",), "Region": ("Region",), "RecordState": ("RecordState",),
    "ComplianceStatus": ("Compliance", "Status"), "WorkflowStatus": ("Workflow", "Status"),
}


def default_product_arn(backend: SecurityHubBackend) -> str:
    return (f"arn:aws:securityhub:{backend.region_name}:{backend.account_id}:product/"
            f"{backend.account_id}/default")


def _value(finding: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = finding
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _matches(value: Any, conditions: list[dict[str, str]]) -> bool:
    if not isinstance(value, str):
        value = ""
    positive = [c for c in conditions if c.get("Comparison") in ("EQUALS", "PREFIX")]
    for condition in conditions:
        comparison, wanted = condition.get("Comparison"), condition.get("Value", "")
        if comparison == "NOT_EQUALS" and value == wanted:
            return False
        if comparison == "PREFIX_NOT_EQUALS" and value.startswith(wanted):
            return False
        if comparison not in ("EQUALS", "PREFIX", "NOT_EQUALS", "PREFIX_NOT_EQUALS"):
            raise InvalidInputException(op="GetFindings",
                                        msg=f"the simulator does not filter with Comparison {comparison}")
    return not positive or any(value == c.get("Value") if c["Comparison"] == "EQUALS"
                               else value.startswith(c.get("Value", "")) for c in positive)


@paginate(pagination_model=SecurityHubBackend.PAGINATION_MODEL)
def get_findings(self: SecurityHubBackend, filters: dict[str, Any] | None = None,
                 sort_criteria: list[dict[str, str]] | None = None,
                 max_results: int | None = None) -> list[dict[str, Any]]:
    if max_results is not None and not 1 <= int(max_results) <= 100:
        raise InvalidInputException(op="GetFindings", msg="MaxResults must be a number between 1 and 100")
    if not self.enabled:
        from moto.securityhub.exceptions import SecurityHubClientError
        raise SecurityHubClientError("InvalidAccessException", "Account is not subscribed to AWS Security Hub")
    filters = filters or {}
    for name in filters:
        if name not in FILTER_MEMBERS:
            raise InvalidInputException(op="GetFindings", msg=f"the simulator does not filter on {name}")
    return [copy.deepcopy(f.data) for f in self.findings
            if all(_matches(_value(f.data, FILTER_MEMBERS[name]), conditions) for name, conditions in filters.items())]


def batch_import_findings(self: SecurityHubBackend,
                          findings: list[dict[str, Any]]) -> tuple[int, int, list[dict[str, Any]]]:
    if len(findings) > MAX_FINDINGS:
        raise InvalidInputException(op="BatchImportFindings",
                                    msg=f"Findings: at most {MAX_FINDINGS} findings per request")
    failed: list[dict[str, Any]] = []
    stored = {(f.data.get("ProductArn"), f.id): f for f in self.findings}
    succeeded = 0
    for data in findings:
        finding_id = str(data.get("Id", ""))

        def fail(code: str, message: str) -> None:
            failed.append({"Id": finding_id, "ErrorCode": code, "ErrorMessage": message})

        if not self.enabled:
            fail("InvalidAccess", "Security Hub is not enabled for this account and Region.")
            continue
        if data.get("AwsAccountId") != self.account_id:
            fail("InvalidAccess", "AwsAccountId is not the account calling BatchImportFindings.")
            continue
        if data.get("ProductArn") != default_product_arn(self):
            fail("InvalidAccess", "ProductArn is not a product enabled in this account and Region.")
            continue
        if len(json.dumps(data).encode("utf-8")) > MAX_FINDING_BYTES:
            fail("InvalidInput", "The finding is larger than 240 KB.")
            continue
        if not isinstance(data.get("Resources"), list) or not data["Resources"]:
            fail("InvalidInput", "Finding must contain at least one resource in the Resources array")
            continue
        data = copy.deepcopy(data)
        existing = stored.get((data["ProductArn"], finding_id))
        if existing is not None:
            for name in KEPT_ON_UPDATE:
                if name in existing.data:
                    data[name] = existing.data[name]
                else:
                    data.pop(name, None)
            existing.data = data
        else:
            data.setdefault("RecordState", "ACTIVE")
            data.setdefault("Workflow", {"Status": "NEW"})
            fields = data.setdefault("ProductFields", {})
            fields["aws/securityhub/FindingId"] = (f"arn:aws:securityhub:{self.region_name}:{self.account_id}:"
                                                   f"finding/{finding_id}")
            from moto.securityhub.models import Finding
            new = Finding(finding_id, data)
            self.findings.append(new)
            stored[(data["ProductArn"], finding_id)] = new
        data["ProcessedAt"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        succeeded += 1
    return len(failed), succeeded, failed


def install() -> None:
    """Replace moto's SecurityHubBackend.get_findings and batch_import_findings (idempotent)."""
    SecurityHubBackend.get_findings = get_findings  # type: ignore[method-assign]
    SecurityHubBackend.batch_import_findings = batch_import_findings  # type: ignore[method-assign]
