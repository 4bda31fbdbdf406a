"""What a finding says about its rule, read from the registry (rules/catalog/registry.py METADATA)
and the control mappings (rules/catalog/compliance/*.json), and the one verdict per result that
every findings format maps from.

A result's verdict (``verdict``):

- ``MUTED``: the result carries ``status: MUTED`` (a mutelist entry matched it);
- ``ERROR``: the rule could not judge the resource (annotation "Could not evaluate: ...", or a
  result that already carries ``status: ERROR``); it is reported NON_COMPLIANT to Config, fail closed,
  but it is not a finding about the resource's configuration;
- otherwise the Config compliance: ``COMPLIANT``, ``NON_COMPLIANT`` or ``NOT_APPLICABLE``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

from transcribe_guard import compliance

PRODUCT_NAME = "transcribe-guard"
VERDICTS = ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE", "ERROR", "MUTED")


class FindingInputError(ValueError):
    """A result a findings format cannot turn into a finding (unknown rule or verdict)."""


@dataclass(frozen=True)
class RuleInfo:
    name: str
    title: str
    description: str
    severity: str  # low | medium | high | critical
    practice: int
    practice_name: str
    remediation: str
    controls: tuple[tuple[str, str], ...]  # (framework, control id), frameworks in compliance.FRAMEWORKS order

    def requirements(self) -> list[str]:
        """Mapped controls as '<framework name> <control id>', e.g. 'HIPAA Security Rule 164.312(b)'."""
        return [f"{compliance.FRAMEWORK_NAMES[framework]} {control}" for framework, control in self.controls]

    def standards(self) -> list[str]:
        return [compliance.FRAMEWORK_NAMES[f] for f in compliance.FRAMEWORKS if any(c[0] == f for c in self.controls)]


@lru_cache(maxsize=None)
def rule_info(name: str) -> RuleInfo:
    from transcribe_guard.findings import PRACTICE_NAMES, rule_metadata

    try:
        meta = rule_metadata(name)
    except KeyError:
        raise FindingInputError(f"result names rule {name!r}, which is not in the registry.") from None
    controls = tuple((framework, control["id"]) for framework in compliance.FRAMEWORKS
                     for control in compliance.mapping(framework)["entries"].get(name, {}).get("controls", []))
    return RuleInfo(name=name, title=meta["title"], description=meta["description"], severity=meta["severity"],
                    practice=meta["practice"], practice_name=PRACTICE_NAMES[meta["practice"]],
                    remediation=meta["remediation"], controls=controls)


def verdict(row: Mapping[str, str]) -> str:
    """MUTED, or else ``judgement(row)``."""
    return "MUTED" if row.get("status") == "MUTED" else judgement(row)


def judgement(row: Mapping[str, str]) -> str:
    """What the rule found, muted or not: ERROR, COMPLIANT, NON_COMPLIANT or NOT_APPLICABLE."""
    if row.get("status") == "ERROR":
        return "ERROR"
    value = row["compliance"]
    if value not in ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"):
        raise FindingInputError(f"result of rule {row.get('rule')!r} has compliance {value!r}, not one of "
                                "COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE.")
    from transcribe_guard.findings import status_of  # one rule for ERROR in every format

    return status_of(row)


def partition(region: str) -> str:
    """The AWS partition of a Region name (aws-cn for cn-*, aws-us-gov for us-gov-*, else aws)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def finding_id(row: Mapping[str, str]) -> str:
    """The same for the same account, Region, rule and resource, whatever else changes, so a
    re-scan updates a finding instead of adding one. The resource is hashed (type and id, which an
    account holder names and may make long or odd): the id stays short and plain."""
    digest = hashlib.sha256(f"{row['resource_type']}\n{row['resource_id']}".encode("utf-8", "surrogatepass"))
    return f"{row['region']}/{row['account']}/{PRODUCT_NAME}/{row['rule']}/{digest.hexdigest()[:40]}"


def is_own_finding_id(value: str, region: str, account: str, rule: str) -> bool:
    """Whether ``value`` has the form ``finding_id`` gives a result of ``rule`` in this account and
    Region: what scan --security-hub may archive, and nothing another writer named alike."""
    prefix = f"{region}/{account}/{PRODUCT_NAME}/{rule}/"
    return value.startswith(prefix) and re.fullmatch(r"[0-9a-f]{40}", value[len(prefix):]) is not None
