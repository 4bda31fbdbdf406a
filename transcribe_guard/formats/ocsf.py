"""Scan results as OCSF Compliance Finding events (class_uid 2003, OCSF 1.5.0), built with
py-ocsf-models, the library Prowler writes its OCSF output with.

One event per result, a JSON array of them (as Prowler's json-ocsf). Field choices:

- ``finding_info.uid`` is the ASFF finding id (``rule_info.finding_id``), so the two formats name a
  finding alike and a re-scan gives the same uid; ``title``/``desc`` are the rule's;
  ``created_time`` is the result's ``evaluated_at``;
- ``metadata.event_code`` is the rule name, ``metadata.product`` transcribe-guard, ``profiles``
  ``["cloud", "datetime"]``: the event carries the cloud profile's ``cloud`` object (provider AWS,
  the account as an AWS_Account, the Region), which py-ocsf-models' ComplianceFinding does not
  declare, so ``CloudComplianceFinding`` adds it, and the datetime profile's ``time_dt`` and
  ``created_time_dt`` next to ``time`` and ``created_time`` (OCSF timestamps: milliseconds since
  the epoch);
- ``severity_id`` from the registry severity (low 2, medium 3, high 4, critical 5);
- ``compliance.status_id``: COMPLIANT Pass (1), NON_COMPLIANT Fail (3), ERROR (could not evaluate)
  Warning (2, "did not yield a result due to missing information"), NOT_APPLICABLE Other (99, the
  check's ``status`` says NOT_APPLICABLE); a MUTED result keeps its compliance status and gets the
  event ``status_id`` Suppressed (3), every other one New (1);
- ``compliance.requirements`` the mapped controls, ``standards`` their frameworks,
  ``checks`` the rule (uid, title, severity, status);
- ``status_code`` the Config compliance, ``status_detail`` and ``message`` the annotation;
- ``resources`` the evaluated resource (uid, its Config resource type, Region, partition);
- ``remediation.desc`` the rule's remediation; ``unmapped`` the practice (number and name).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping, Optional

from py_ocsf_models.events.findings.activity_id import ActivityID
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
from py_ocsf_models.events.findings.compliance_finding_type_id import ComplianceFindingTypeID
from py_ocsf_models.events.findings.severity_id import SeverityID
from py_ocsf_models.events.findings.status_id import StatusID
from py_ocsf_models.objects.account import Account, TypeID
from py_ocsf_models.objects.check import Check
from py_ocsf_models.objects.cloud import Cloud
from py_ocsf_models.objects.compliance import Compliance
from py_ocsf_models.objects.compliance_status import StatusID as ComplianceStatusID
from py_ocsf_models.objects.finding_info import FindingInformation
from py_ocsf_models.objects.metadata import Metadata
from py_ocsf_models.objects.product import Product
from py_ocsf_models.objects.remediation import Remediation
from py_ocsf_models.objects.resource_details import ResourceDetails
from pydantic import ConfigDict

from transcribe_guard.formats.rule_info import PRODUCT_NAME, finding_id, judgement, partition, rule_info, verdict
from transcribe_guard.output_safety import visible

SEVERITY_IDS = {"low": SeverityID.Low, "medium": SeverityID.Medium, "high": SeverityID.High,
                "critical": SeverityID.Critical}
# cloud: the ``cloud`` object; datetime: the ``*_dt`` twins of the epoch-millisecond times.
PROFILES = ("cloud", "datetime")
COMPLIANCE_STATUS = {"COMPLIANT": ComplianceStatusID.Pass, "NON_COMPLIANT": ComplianceStatusID.Fail,
                     "ERROR": ComplianceStatusID.Warning, "NOT_APPLICABLE": ComplianceStatusID.Other}


class CloudComplianceFinding(ComplianceFinding):
    """A Compliance Finding with OCSF's cloud profile (``cloud``), closed to any other attribute."""

    model_config = ConfigDict(extra="forbid")
    cloud: Optional[Cloud] = None


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("transcribe-guard")
    except PackageNotFoundError:  # a checkout run without installing
        return "0"


def _time(evaluated_at: str) -> datetime:
    return datetime.strptime(evaluated_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def event(row: Mapping[str, str]) -> CloudComplianceFinding:
    """One result as a validated model (pydantic raises on anything the schema refuses)."""
    info = rule_info(row["rule"])
    judged = verdict(row)
    status = judgement(row)  # a muted result still shows what the rule found
    when = _time(row["evaluated_at"])
    millis = int(when.timestamp() * 1000)
    severity_id = SEVERITY_IDS[info.severity]
    # Text an account holder could shape (resource ids, annotations) as visible text: no control,
    # bidi or zero-width character reaches a SIEM's console (JSON would carry them faithfully).
    annotation = visible(row["annotation"])
    return CloudComplianceFinding(
        metadata=Metadata(product=Product(uid=PRODUCT_NAME, name=PRODUCT_NAME, vendor_name=PRODUCT_NAME,
                                          version=_version()),
                          event_code=info.name, profiles=list(PROFILES), uid=finding_id(row)),
        activity_id=ActivityID.Create, activity_name=ActivityID.Create.name,
        type_uid=ComplianceFindingTypeID.Create, type_name=f"Compliance Finding: {ActivityID.Create.name}",
        severity_id=severity_id, severity=severity_id.name,
        status_id=StatusID.Suppressed if judged == "MUTED" else StatusID.New,
        status=(StatusID.Suppressed if judged == "MUTED" else StatusID.New).name,
        status_code=row["compliance"], status_detail=annotation, message=annotation or info.description,
        time=millis, time_dt=when,
        finding_info=FindingInformation(uid=finding_id(row), title=info.title, desc=info.description,
                                        created_time=millis, created_time_dt=when,
                                        types=[f"{PRODUCT_NAME}/{info.practice_name}"]),
        compliance=Compliance(
            control=info.name, desc=info.description, requirements=info.requirements() or None,
            standards=info.standards() or None, status_id=COMPLIANCE_STATUS[status],
            checks=[Check(uid=info.name, name=info.title, desc=info.description, severity=severity_id.name,
                          severity_id=severity_id, status=status, status_id=COMPLIANCE_STATUS[status])]),
        remediation=Remediation(desc=info.remediation),
        resources=[ResourceDetails(uid=visible(row["resource_id"]), type=row["resource_type"],
                                   region=row["region"], cloud_partition=partition(row["region"]))],
        cloud=Cloud(provider="AWS", region=row["region"],
                    account=Account(uid=row["account"], name=row["account"], type_id=TypeID.AWS_Account,
                                    type="AWS Account")),
        unmapped={"practice": info.practice, "practice_name": info.practice_name, "verdict": judged},
    )


def records(results: Iterable[Mapping[str, str]]) -> list[dict[str, Any]]:
    return [event(row).model_dump(mode="json", exclude_none=True) for row in results]


def render(results: Iterable[Mapping[str, str]]) -> str:
    # ensure_ascii (the default): any character left outside ASCII is written as \uXXXX
    return json.dumps(records(results), indent=2) + "\n"
