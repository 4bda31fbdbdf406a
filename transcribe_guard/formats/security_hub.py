"""``scan --security-hub``: send a scan's findings to AWS Security Hub and archive the ones it no
longer produces.

1. Every result becomes an ASFF finding (``asff.finding``) with a stable Id, so re-sending updates
   it. A finding Security Hub already has keeps its CreatedAt and FirstObservedAt (only ACTIVE
   findings are read back: one archived before that comes back is counted as created).
2. What we sent before is read back with GetFindings, filtered by our ProductArn (the account's
   default product), GeneratorId prefix ``transcribe-guard/``, AwsAccountId, Region and RecordState
   ACTIVE, page by page.
3. A finding read back that this scan did not produce is sent again with RecordState ARCHIVED, but
   only when this scan covered its account, Region and rule (its GeneratorId names the rule): a
   scan of one rule never archives another rule's findings, nor another account's or Region's,
   nor a finding whose Id is not one this tool makes for that rule (another writer's finding that
   borrows our GeneratorId stays ACTIVE). A
   rule with a result it could not evaluate (a failed listing names no resource) archives nothing:
   a resource it did not see may still exist (fail closed).
4. Findings go in BatchImportFindings calls of at most 100 ("Maximum of 100 findings per request",
   BatchImportFindings API reference; the partner guide adds 240 KB per finding and 6 MB per batch:
   https://docs.aws.amazon.com/securityhub/latest/partnerguide/guidelines-batchimportfindings.html).
   Each FailedFindings entry is reported.
5. BatchImportFindings does not change an existing finding's Workflow (API reference), so a
   finding created SUPPRESSED by a mute stays SUPPRESSED after the mute is lifted. A failing
   finding (or one that could not be evaluated) that this scan did not mute but the hub holds
   SUPPRESSED is reported (``suppressed_in_hub``), never left silent.

RecordState is set with BatchImportFindings: a finding provider updates the findings it created
with BatchImportFindings, while BatchUpdateFindings is for customers and its request has no
RecordState member (botocore's BatchUpdateFindingsRequest;
https://docs.aws.amazon.com/securityhub/latest/userguide/finding-update-batchimportfindings.html).

IAM: ``securityhub:BatchImportFindings`` and ``securityhub:GetFindings`` (docs/scanning.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping, Sequence

from transcribe_guard.formats import asff
from transcribe_guard.formats.rule_info import is_own_finding_id, judgement

BATCH_SIZE = 100  # BatchImportFindings: "Maximum of 100 findings per request" (botocore: Findings max 100)
# The members of a finding read back that we send again when archiving it: ours, not Security Hub's
# (ProcessedAt, WorkflowState, its own ProductFields keys and so on).
OWN_MEMBERS = ("SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "Region", "Types", "CreatedAt",
               "FirstObservedAt", "Severity", "FindingProviderFields", "Title", "Description", "Remediation",
               "Resources", "Compliance")


@dataclass
class Report:
    created: int = 0
    updated: int = 0
    archived: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)  # FailedFindings: Id, ErrorCode, ErrorMessage
    not_archived_rules: list[str] = field(default_factory=list)  # rules that could not evaluate everything
    # Failing findings this scan did not mute that the hub keeps SUPPRESSED (Workflow survives updates).
    suppressed_in_hub: list[str] = field(default_factory=list)


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def existing_findings(client: Any, account: str, region: str) -> list[dict[str, Any]]:
    """Our ACTIVE findings in this account and Region, every page."""
    filters = {
        "ProductArn": [{"Value": asff.product_arn(account, region), "Comparison": "EQUALS"}],
        "GeneratorId": [{"Value": asff.GENERATOR_PREFIX, "Comparison": "PREFIX"}],
        "AwsAccountId": [{"Value": account, "Comparison": "EQUALS"}],
        "Region": [{"Value": region, "Comparison": "EQUALS"}],
        "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
    }
    found: list[dict[str, Any]] = []
    for page in client.get_paginator("get_findings").paginate(Filters=filters, PaginationConfig={"PageSize": 100}):
        found.extend(page.get("Findings", []))
    return found


def archived(previous: Mapping[str, Any], now: str) -> dict[str, Any]:
    finding = {name: previous[name] for name in OWN_MEMBERS if name in previous}
    finding["ProductFields"] = {key: value for key, value in (previous.get("ProductFields") or {}).items()
                                if key.startswith(asff.GENERATOR_PREFIX)}
    finding.update(UpdatedAt=now, RecordState="ARCHIVED")
    return finding


def send(session: Any, results: Sequence[Mapping[str, str]], rule_names: Iterable[str]) -> Report:
    """Import the results' findings and archive what the covered rules no longer produce."""
    report = Report()
    covered_rules = set(rule_names)
    unsure = sorted({row["rule"] for row in results if judgement(row) == "ERROR"})
    report.not_archived_rules = [rule for rule in unsure if rule in covered_rules]
    scopes: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in results:
        scopes.setdefault((row["account"], row["region"]), []).append(asff.finding(row))
    if not scopes:  # no results: the account and Region the session names were still scanned
        identity = session.client("sts").get_caller_identity()["Account"]
        scopes[(identity, session.region_name)] = []
    now = _now()
    kinds: dict[str, str] = {}  # finding Id -> created | updated | archived
    for (account, region), produced in scopes.items():
        client = session.client("securityhub", region_name=region)
        previous = {f["Id"]: f for f in existing_findings(client, account, region)}
        batch: list[dict[str, Any]] = []
        for finding in produced:
            before = previous.get(finding["Id"])
            if before:  # an update keeps when the finding was first created and observed
                finding["CreatedAt"] = before.get("CreatedAt", finding["CreatedAt"])
                finding["FirstObservedAt"] = before.get("FirstObservedAt", finding["FirstObservedAt"])
                if ((before.get("Workflow") or {}).get("Status") == "SUPPRESSED" and finding["Workflow"]["Status"] == "NEW"
                        and finding["Severity"]["Label"] != "INFORMATIONAL"):
                    report.suppressed_in_hub.append(finding["Id"])
            kinds[finding["Id"]] = "updated" if before else "created"
            batch.append(finding)
        produced_ids = {f["Id"] for f in produced}
        for finding_id, before in previous.items():
            rule = str(before.get("GeneratorId", ""))[len(asff.GENERATOR_PREFIX):]
            if finding_id in produced_ids or rule not in covered_rules or rule in unsure:
                continue
            if before.get("AwsAccountId") != account or before.get("Region") != region:
                continue  # the filters asked for these; a finding that says otherwise is not archived
            if not is_own_finding_id(str(finding_id), region, account, rule):
                continue  # another writer's finding that borrows our GeneratorId: never ours to archive
            batch.append(archived(before, now))
            kinds[finding_id] = "archived"
        for start in range(0, len(batch), BATCH_SIZE):
            response = client.batch_import_findings(Findings=batch[start:start + BATCH_SIZE])
            for failure in response.get("FailedFindings", []):
                report.failed.append({"Id": str(failure.get("Id", "")), "ErrorCode": str(failure.get("ErrorCode", "")),
                                      "ErrorMessage": str(failure.get("ErrorMessage", ""))})
    failed_ids = {failure["Id"] for failure in report.failed}
    for finding_id, kind in kinds.items():  # counts are of what Security Hub took
        if finding_id not in failed_ids:
            setattr(report, kind, getattr(report, kind) + 1)
    return report
