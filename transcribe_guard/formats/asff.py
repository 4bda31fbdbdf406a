"""Scan results as AWS Security Finding Format (ASFF) findings, the shape of botocore's
``securityhub`` ``AwsSecurityFinding``, and a validator over that model (``problems``).

AWS facts this relies on:

- ProductArn of a custom integration (findings an account sends about itself):
  ``arn:<partition>:securityhub:<region>:<account-id>:product/<account-id>/default``; the account
  calling BatchImportFindings must be the finding's AwsAccountId
  (https://docs.aws.amazon.com/securityhub/latest/userguide/asff-required-attributes.html,
  https://docs.aws.amazon.com/securityhub/latest/userguide/finding-update-batchimportfindings.html).
- Compliance.Status (https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_Compliance.html):
  PASSED "check passed for all evaluated resources", WARNING "some information is missing or this
  check is not supported for your configuration", FAILED "check failed for at least one evaluated
  resource", NOT_AVAILABLE "check could not be performed due to a service outage, API error, or
  because the result of the Config evaluation was NOT_APPLICABLE". So COMPLIANT -> PASSED,
  NON_COMPLIANT -> FAILED, NOT_APPLICABLE -> NOT_AVAILABLE, and a resource the rule could not
  evaluate (ERROR: an API error, access denied) -> NOT_AVAILABLE too. WARNING is not used.
- After a finding is created, BatchImportFindings cannot change its Workflow, Note,
  UserDefinedFields or VerificationState, and providers should not change Severity, Types,
  Confidence, Criticality or RelatedFindings through it but through FindingProviderFields
  (BatchImportFindings API reference): severity and types are sent in both places.
- Description at most 1,024 characters, AwsAccountId 12
  (https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_AwsSecurityFinding.html). The
  other length limits below (Title 256, Id and GeneratorId 512, Recommendation.Text 512) are
  what we believe AWS enforces but did not find stated in the pages we could read: unverified, and
  every value we send stays well under them.

Severity.Label is the registry severity (LOW, MEDIUM, HIGH, CRITICAL) for a FAILED finding and for
a resource the rule could not evaluate, and INFORMATIONAL for a COMPLIANT or NOT_APPLICABLE one (no
issue with the resource); Severity.Original and FindingProviderFields.Severity.Original keep the
registry severity either way. A MUTED result keeps its Compliance.Status
and is created with Workflow.Status SUPPRESSED (Security Hub keeps a customer's later workflow
changes: BatchImportFindings does not overwrite Workflow).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Iterable, Mapping

from transcribe_guard.formats.rule_info import (PRODUCT_NAME, finding_id, judgement, partition, rule_info,
                                                verdict)
from transcribe_guard.output_safety import visible

SCHEMA_VERSION = "2018-10-08"
GENERATOR_PREFIX = f"{PRODUCT_NAME}/"
COMPLIANCE_STATUS = {"COMPLIANT": "PASSED", "NON_COMPLIANT": "FAILED", "NOT_APPLICABLE": "NOT_AVAILABLE",
                     "ERROR": "NOT_AVAILABLE"}
# ASFF Types are namespace/category/classifier; these are the defined ones for our frameworks
# (https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format-type-taxonomy.html).
STANDARDS_TYPE = "Software and Configuration Checks/Industry and Regulatory Standards"
CLASSIFIERS = {"hipaa": "HIPAA Controls (USA)", "pci": "PCI-DSS", "soc2": "SOC 2", "nist": "NIST 800-53 Controls (USA)"}
# Config resource types to the resource types ASFF models (the names of botocore's ResourceDetails
# members); anything else, Transcribe jobs and customizations reported as AWS::::Account included, is "Other".
RESOURCE_TYPES = {"AWS::S3::Bucket": "AwsS3Bucket", "AWS::KMS::Key": "AwsKmsKey", "AWS::IAM::Role": "AwsIamRole",
                  "AWS::IAM::User": "AwsIamUser", "AWS::EC2::VPC": "AwsEc2Vpc",
                  "AWS::CloudTrail::Trail": "AwsCloudTrailTrail"}
# Lengths from the API reference (see the module docstring for which ones are verified).
MAX_LENGTHS = {"Title": 256, "Description": 1024, "Id": 512, "GeneratorId": 512}
RECOMMENDATION_MAX = 512


def product_arn(account: str, region: str) -> str:
    return f"arn:{partition(region)}:securityhub:{region}:{account}:product/{account}/default"


def generator_id(rule: str) -> str:
    return GENERATOR_PREFIX + rule


def _text(value: str, limit: int, fallback: str) -> str:
    """Visible text (no control, bidi or zero-width character) that is not blank, at most ``limit``."""
    text = visible(value)
    if not text.strip():
        text = fallback
    return text if len(text) <= limit else text[: limit - 3] + "..."


def finding(row: Mapping[str, str]) -> dict[str, Any]:
    info = rule_info(row["rule"])
    judged = judgement(row)
    status = COMPLIANCE_STATUS[judged]
    # A resource with no issue, or one the rule does not apply to, is informational; a FAILED one,
    # and one the rule could not evaluate (fail closed), carries the rule's severity.
    label = "INFORMATIONAL" if judged in ("COMPLIANT", "NOT_APPLICABLE") else info.severity.upper()
    region, account = row["region"], row["account"]
    description = _text(row["annotation"], MAX_LENGTHS["Description"], info.description)
    frameworks = list(dict.fromkeys(framework for framework, _ in info.controls))
    types = [f"{STANDARDS_TYPE}/{CLASSIFIERS[f]}" for f in frameworks] or [STANDARDS_TYPE]
    result: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding_id(row),
        "ProductArn": product_arn(account, region),
        "GeneratorId": generator_id(info.name),
        "AwsAccountId": account,
        "Region": region,
        "Types": types,
        "CreatedAt": row["evaluated_at"],
        "UpdatedAt": row["evaluated_at"],
        "FirstObservedAt": row["evaluated_at"],
        "LastObservedAt": row["evaluated_at"],
        "Severity": {"Label": label, "Original": info.severity.upper()},
        "FindingProviderFields": {"Severity": {"Label": label, "Original": info.severity.upper()},
                                  "Types": list(types)},
        "Title": _text(info.title, MAX_LENGTHS["Title"], info.name),
        "Description": description,
        "Remediation": {"Recommendation": {"Text": _text(info.remediation, RECOMMENDATION_MAX, info.name)}},
        "ProductFields": {
            f"{PRODUCT_NAME}/rule": info.name,
            f"{PRODUCT_NAME}/compliance": row["compliance"],
            f"{PRODUCT_NAME}/verdict": verdict(row),
            f"{PRODUCT_NAME}/practice": f"{info.practice} {info.practice_name}",
            f"{PRODUCT_NAME}/config-resource-type": row["resource_type"],
        },
        "Resources": [{
            "Type": RESOURCE_TYPES.get(row["resource_type"], "Other"),
            "Id": _text(row["resource_id"], 2048, "(empty resource id)"),
            "Partition": partition(region),
            "Region": region,
        }],
        "Compliance": {"Status": status},
        "RecordState": "ACTIVE",
        "Workflow": {"Status": "SUPPRESSED" if verdict(row) == "MUTED" else "NEW"},
    }
    if info.requirements():
        result["Compliance"]["RelatedRequirements"] = info.requirements()
    if row.get("mute_reason"):
        result["ProductFields"][f"{PRODUCT_NAME}/mute-reason"] = _text(row["mute_reason"], 1024, "muted")
    return result


def findings(results: Iterable[Mapping[str, str]]) -> list[dict[str, Any]]:
    return [finding(row) for row in results]


def render(results: Iterable[Mapping[str, str]]) -> str:
    """A JSON array of findings, the form ``aws securityhub batch-import-findings --findings`` takes."""
    return json.dumps(findings(results), indent=2) + "\n"


# --- validation against botocore's service model ------------------------------------------------

@lru_cache(maxsize=1)
def _model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("securityhub")


def _java_pattern(pattern: str) -> re.Pattern[str]:
    # botocore's patterns are Java regular expressions; ".*\S.*" reads the same in Python (without
    # DOTALL, "." stops at line terminators in both).
    return re.compile(pattern)


def problems(value: Any, shape_name: str = "AwsSecurityFinding") -> list[str]:
    """Everything in ``value`` that botocore's ``shape_name`` refuses: unknown or missing required
    members, wrong types, values outside an enum, strings that do not match the pattern or are
    outside min/max, numbers outside min/max; plus the API reference's length limits above for the
    top-level strings. Empty when valid."""
    found: list[str] = []
    _check(value, _model().shape_for(shape_name), shape_name, found)
    if shape_name == "AwsSecurityFinding" and isinstance(value, dict):
        for member, limit in MAX_LENGTHS.items():
            if isinstance(value.get(member), str) and len(value[member]) > limit:
                found.append(f"{member}: {len(value[member])} characters, over AWS's {limit}")
        # Unverified limits we keep to anyway: Prowler cuts each RelatedRequirements entry to 64
        # characters; the ASFF Resources object holds "up to 32" resources (asff-resources page).
        requirements = (value.get("Compliance") or {}).get("RelatedRequirements") or []
        found += [f"Compliance.RelatedRequirements: {r!r} is over 64 characters" for r in requirements
                  if isinstance(r, str) and len(r) > 64]
        if isinstance(value.get("Resources"), list) and len(value["Resources"]) > 32:
            found.append("Resources: more than 32")
        account = value.get("AwsAccountId")
        if isinstance(account, str) and not re.fullmatch(r"\d{12}", account):
            found.append("AwsAccountId: not 12 digits")
    return found


def _check(value: Any, shape: Any, where: str, found: list[str]) -> None:
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if not isinstance(value, dict):
            found.append(f"{where}: {type(value).__name__}, expected an object")
            return
        for name in shape.required_members:
            if name not in value:
                found.append(f"{where}.{name}: required, missing")
        for name, member in value.items():
            if name not in shape.members:
                found.append(f"{where}.{name}: not a member of {shape.name}")
            else:
                _check(member, shape.members[name], f"{where}.{name}", found)
    elif kind == "list":
        if not isinstance(value, list):
            found.append(f"{where}: {type(value).__name__}, expected a list")
            return
        _bounds(len(value), meta, where, "items", found)
        for index, item in enumerate(value):
            _check(item, shape.member, f"{where}[{index}]", found)
    elif kind == "map":
        if not isinstance(value, dict):
            found.append(f"{where}: {type(value).__name__}, expected a map")
            return
        for key, item in value.items():
            _check(key, shape.key, f"{where} key", found)
            _check(item, shape.value, f"{where}[{key!r}]", found)
    elif kind == "string":
        if not isinstance(value, str):
            found.append(f"{where}: {type(value).__name__}, expected a string")
            return
        if shape.enum and value not in shape.enum:
            found.append(f"{where}: {value!r} not one of {', '.join(shape.enum)}")
        if "pattern" in meta and not _java_pattern(meta["pattern"]).fullmatch(value):
            found.append(f"{where}: does not match {meta['pattern']}")
        _bounds(len(value), meta, where, "characters", found)
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            found.append(f"{where}: {type(value).__name__}, expected an integer")
            return
        _bounds(value, meta, where, "", found)
    elif kind in ("double", "float"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            found.append(f"{where}: {type(value).__name__}, expected a number")
    elif kind == "boolean":
        if not isinstance(value, bool):
            found.append(f"{where}: {type(value).__name__}, expected a boolean")
    else:  # timestamp, blob: AwsSecurityFinding has none today
        found.append(f"{where}: shape type {kind} is not checked by this validator")


def _bounds(size: int, meta: Mapping[str, Any], where: str, unit: str, found: list[str]) -> None:
    if "min" in meta and size < meta["min"]:
        found.append(f"{where}: {size} {unit}, under the minimum {meta['min']}".replace("  ", " "))
    if "max" in meta and size > meta["max"]:
        found.append(f"{where}: {size} {unit}, over the maximum {meta['max']}".replace("  ", " "))
