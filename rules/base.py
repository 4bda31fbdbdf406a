"""What every transcribe-guard rule shares: parameter parsing from the registry schema, the run
context (account, region, shared inventory), the reported resource type, and fail-closed
evaluations for resources that could not be read."""

from __future__ import annotations

import json
import logging
import weakref
from dataclasses import dataclass
from typing import Any, ClassVar, Iterable, Mapping

from botocore.exceptions import ClientError
from rdklib import ComplianceType, ConfigRule, Evaluation, InvalidParametersError

from rules.parameters import parse_parameters
from rules.transcribe import ListingError, TranscribeInventory, error_code

LOGGER = logging.getLogger("transcribe_guard.rules")

ACCOUNT_RESOURCE_TYPE = "AWS::::Account"
ANNOTATION_LIMIT = 256

# The parameter every Transcribe-resource rule takes to choose the ComplianceResourceType it
# reports. Config records no AWS::Transcribe::* type and rejects unknown type strings;
# AWS::::Account is accepted for any resource id. Accounts that register their own third-party
# type (CloudFormation registry + PutResourceConfig) can report under it instead.
REPORTED_RESOURCE_TYPE_PARAMETER = {
    "type": "string",
    "default": ACCOUNT_RESOURCE_TYPE,
    "pattern": r"AWS::::Account|[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+",
    "x-pattern-hint": "use AWS::::Account or a registered third-party type such as MyCompany::Transcribe::Resource",
    "description": "ComplianceResourceType reported for Transcribe resources (the ARN is the resource id).",
}


def annotation(text: str) -> str:
    """One sentence, trimmed to Config's 256-character limit."""
    text = " ".join(text.split())
    return text if len(text) <= ANNOTATION_LIMIT else text[: ANNOTATION_LIMIT - 1] + "…"


@dataclass
class RunContext:
    account_id: str
    region: str
    partition: str
    inventory: TranscribeInventory
    reported_resource_type: str
    client_factory: Any

    def client(self, service: str) -> Any:
        return self.client_factory.build_client(service)


# One inventory per client factory: a scan passes the same factory to every rule, so all rules
# share what was listed and read; each Lambda invocation has its own factory and inventory.
_INVENTORIES: "weakref.WeakKeyDictionary[Any, TranscribeInventory]" = weakref.WeakKeyDictionary()


def account_id_of(event: Mapping[str, Any], client_factory: Any) -> str:
    if event.get("accountId"):
        return str(event["accountId"])
    parts = str(event.get("executionRoleArn", "")).split(":")
    if len(parts) > 4 and parts[4].isdigit():
        return parts[4]
    return str(client_factory.build_client("sts").get_caller_identity()["Account"])


def inventory_for(client_factory: Any, account_id: str) -> TranscribeInventory:
    inventory = _INVENTORIES.get(client_factory)
    if inventory is None or inventory.account_id != account_id:
        client = client_factory.build_client("transcribe")
        # The client knows its partition; a new boto3 Session to look it up costs ~0.5 s a run.
        inventory = TranscribeInventory(client, account_id, client.meta.partition)
        _INVENTORIES[client_factory] = inventory
    return inventory


class TranscribeGuardRule(ConfigRule):  # type: ignore[misc]
    """Base of every rule. Subclasses set METADATA (the registry record) and implement
    ``evaluate(ctx, params)``, yielding one Evaluation per resource."""

    METADATA: ClassVar[dict[str, Any]]

    @classmethod
    def name(cls) -> str:
        return str(cls.METADATA["name"])

    def evaluate_parameters(self, rule_parameters: Any) -> dict[str, Any]:
        return parse_parameters(self.METADATA["parameters"], rule_parameters)

    def evaluate_periodic(self, event: Mapping[str, Any], client_factory: Any, valid_rule_parameters: Mapping[str, Any]) -> list[Evaluation]:
        account_id = account_id_of(event, client_factory)
        inventory = inventory_for(client_factory, account_id)
        region = inventory.region
        ctx = RunContext(
            account_id=account_id,
            region=region,
            partition=inventory.partition,
            inventory=inventory,
            reported_resource_type=valid_rule_parameters.get("ReportedResourceType") or ACCOUNT_RESOURCE_TYPE,
            client_factory=client_factory,
        )
        evaluations: list[Evaluation] = []
        complete = True
        try:
            evaluations.extend(self.evaluate(ctx, valid_rule_parameters))
        except ListingError as error:
            # Without the list we cannot say which resources exist: report the account as not
            # evaluated and keep earlier results (rdklib would otherwise mark them NOT_APPLICABLE).
            complete = False
            evaluations.append(Evaluation(
                ComplianceType.NON_COMPLIANT, account_id, ACCOUNT_RESOURCE_TYPE,
                annotation(f"Could not evaluate: {error_code(error.error)} when listing {error.kind.label}s; "
                           "earlier results are kept until a run can list them."),
            ))
        self.delete_old_evaluations_on_scheduled_notification = complete
        counts: dict[str, int] = {}
        for evaluation in evaluations:
            counts[evaluation.complianceType] = counts.get(evaluation.complianceType, 0) + 1
        LOGGER.info(json.dumps({"rule": self.name(), "account": account_id, "region": region,
                                "evaluations": len(evaluations), "by_compliance": counts, "complete": complete}))
        return evaluations

    def evaluate(self, ctx: RunContext, params: Mapping[str, Any]) -> Iterable[Evaluation]:
        raise NotImplementedError

    # --- helpers for subclasses ---------------------------------------------------------------

    @staticmethod
    def result(ctx: RunContext, compliance: str, resource_id: str, text: str, resource_type: str | None = None) -> Evaluation:
        return Evaluation(compliance, resource_id, resource_type or ctx.reported_resource_type, annotation(text))

    @staticmethod
    def could_not_evaluate(ctx: RunContext, resource_id: str, error: ClientError, what: str,
                           resource_type: str | None = None) -> Evaluation:
        """Fail closed: a resource we could not read is NON_COMPLIANT, never skipped."""
        return Evaluation(
            ComplianceType.NON_COMPLIANT, resource_id, resource_type or ctx.reported_resource_type,
            annotation(f"Could not evaluate: {error_code(error)} when reading {what}."),
        )


def require(condition: bool, message: str) -> None:
    """Raise InvalidParametersError unless ``condition`` holds (cross-parameter checks)."""
    if not condition:
        raise InvalidParametersError(message)
