"""AWS Config across an organization, for the simulator: organization conformance packs and the
aggregator's compliance reads.

moto 5.2.5 stores organization conformance packs (PutOrganizationConformancePack, Describe...)
but creates nothing in the member accounts, and it has aggregator CRUD
(PutConfigurationAggregator, DescribeConfigurationAggregators) but none of the aggregator's
compliance reads. Here:

- PutOrganizationConformancePack also deploys the pack (conformance.deploy_pack) in the same
  Region of every ACTIVE account of the caller's organization that is not in ExcludedAccounts,
  named ``OrgConformsPack-<name>-<suffix>``; its rules are named as in any pack,
  ``<rule>-conformance-pack-<suffix>``. AWS's pages we read do not state either form: the member
  pack name is moto's and what public code queries (e.g. ``OrgConformsPack-<name>-15lssxz6``), the
  rule form is the one the project already relies on (deploy.base_rule_name). Unverified.
  DeleteOrganizationConformancePack deletes the member packs; GetOrganizationConformancePackDetailedStatus
  lists one status per member account.
- DescribeAggregateComplianceByConfigRules, GetAggregateComplianceDetailsByConfigRule,
  DescribeAggregateComplianceByConformancePacks and GetAggregateConformancePackComplianceSummary
  read the results stored by PutEvaluations (config.py) in every source account and Region of the
  aggregator: an OrganizationAggregationSource covers every account of the organization, an
  AccountAggregationSources list the accounts it names (aggregation authorizations are not
  checked); ``AllAwsRegions`` covers every Region where the simulator holds Config data.
  Request and response shapes are botocore's config model; each pages with an opaque NextToken
  and the model's Limit bounds (default: the maximum, 50 for the details).

Limits: the aggregator reads the live results, where AWS copies them with some delay; deleted
packs are not reported.
"""

from __future__ import annotations

import base64
import json
import random
import string
from typing import Any, Iterable

from moto.config.models import config_backends
from moto.config.responses import ConfigResponse
from moto.core.common_models import CloudFormationModel
from moto.core.exceptions import JsonRESTError
from moto.organizations.models import organizations_backends

from transcribe_guard.simulator.config import (InvalidNextTokenException, ValidationException, rule_compliance,
                                               stored_results)

ORG_PACK_PREFIX = "OrgConformsPack-"


class NoSuchConfigurationAggregatorException(JsonRESTError):
    code = 400

    def __init__(self, name: str):
        super().__init__("NoSuchConfigurationAggregatorException",
                         f"The configuration aggregator does not exist: {name}.")


class InvalidLimitException(JsonRESTError):
    code = 400

    def __init__(self, limit: int, maximum: int):
        super().__init__("InvalidLimitException", f"Limit {limit} is not between 0 and {maximum}.")


# --- the organization ----------------------------------------------------------------------------

def organization_accounts(account: str) -> list[str]:
    """The ACTIVE accounts of ``account``'s organization (moto keeps the organization on its
    management account's backend), or just ``account`` when it is in none."""
    management = organizations_backends.master_accounts.get(account, (account, "aws"))[0]
    for partition in ("aws", "aws-cn", "aws-us-gov"):
        try:
            backend = organizations_backends[management][partition]
        except KeyError:
            continue
        if backend.org is not None:
            return sorted(a.id for a in backend.accounts if a.status == "ACTIVE")
    return [account]


# --- organization conformance packs --------------------------------------------------------------

def _org_packs(backend: Any) -> dict[str, dict[str, Any]]:
    packs: dict[str, dict[str, Any]] = backend.__dict__.setdefault("_transcribe_guard_org_packs", {})
    return packs


def put_organization_conformance_pack(self: ConfigResponse) -> str:
    from transcribe_guard.simulator import conformance

    name = self._get_param("OrganizationConformancePackName")
    body = conformance._template_body(self)
    parameters = {p["ParameterName"]: p["ParameterValue"] for p in self._get_param("ConformancePackInputParameters") or []}
    excluded = set(self._get_param("ExcludedAccounts") or [])
    delivery = self._get_param("DeliveryS3Bucket")
    if delivery and not str(delivery).startswith("awsconfigconforms"):
        raise ValidationException("The DeliveryS3Bucket of an organization conformance pack must start with "
                                  "awsconfigconforms.")
    records = _org_packs(self.config_backend)
    record = records.get(name) or {
        "MemberPackName": f"{ORG_PACK_PREFIX}{name}-"
                          + "".join(random.choices(string.ascii_lowercase + string.digits, k=8)),
        "Accounts": []}
    try:  # checked once before any account is touched: a bad template changes nothing anywhere
        conformance.expand_template(body, parameters, self.current_account, self.region)
    except conformance.TemplateError as error:
        raise ValidationException(str(error)) from None
    accounts = [a for a in organization_accounts(self.current_account) if a not in excluded]
    for account in accounts:
        conformance.deploy_pack(config_backends[account][self.region], account, self.region,
                                record["MemberPackName"], body, parameters, delivery)
    for account in record["Accounts"]:
        if account not in accounts:
            _delete_member_pack(account, self.region, record["MemberPackName"])
    record["Accounts"] = accounts
    records[name] = record
    # moto's record, for DescribeOrganizationConformancePacks and the statuses (moto insists on a
    # TemplateS3Uri; a TemplateBody was read above).
    answer = self.config_backend.put_organization_conformance_pack(
        name=name, template_s3_uri=self._get_param("TemplateS3Uri") or "s3://template-body",
        template_body=self._get_param("TemplateBody"), delivery_s3_bucket=delivery,
        delivery_s3_key_prefix=self._get_param("DeliveryS3KeyPrefix"),
        input_parameters=self._get_param("ConformancePackInputParameters"), excluded_accounts=sorted(excluded))
    return json.dumps(answer)


def _delete_member_pack(account: str, region: str, pack_name: str) -> None:
    from transcribe_guard.simulator import conformance

    backend = config_backends[account][region]
    pack = conformance._packs(backend).pop(pack_name, None)
    for rule_name in (pack or {}).get("Rules", {}).values():
        if rule_name in backend.config_rules:
            backend.delete_config_rule(rule_name)


def delete_organization_conformance_pack(self: ConfigResponse) -> str:
    answer: str = ConfigResponse._moto_delete_organization_conformance_pack(self)  # type: ignore[attr-defined]
    record = _org_packs(self.config_backend).pop(self._get_param("OrganizationConformancePackName"), None)
    for account in (record or {}).get("Accounts", []):
        _delete_member_pack(account, self.region, record["MemberPackName"])  # type: ignore[index]
    return answer


def get_organization_conformance_pack_detailed_status(self: ConfigResponse) -> str:
    name = self._get_param("OrganizationConformancePackName")
    ConfigResponse._moto_get_organization_conformance_pack_detailed_status(self)  # type: ignore[attr-defined]  # raises if unknown
    record = _org_packs(self.config_backend).get(name) or {"Accounts": [], "MemberPackName": ""}
    from transcribe_guard.simulator import conformance
    statuses = []
    for account in record["Accounts"]:
        pack = conformance._packs(config_backends[account][self.region]).get(record["MemberPackName"])
        if pack is not None:
            statuses.append({"AccountId": account, "ConformancePackName": record["MemberPackName"],
                             "Status": "CREATE_SUCCESSFUL", "LastUpdateTime": pack["LastUpdateRequestedTime"]})
    return json.dumps({"OrganizationConformancePackDetailedStatuses": statuses})


def evaluate_organization_pack(admin_account: str, regions: list[str], name: str, rule_bases: list[str] | None = None
                               ) -> int:
    """Run the custom rules of the organization pack ``name`` in every member account and Region
    (Config runs them on their schedule; the simulator when asked). The number of rules run."""
    from transcribe_guard.simulator import conformance

    runs = 0
    for region in regions:
        record = _org_packs(config_backends[admin_account][region]).get(name)
        for account in (record or {}).get("Accounts", []):
            backend = config_backends[account][region]
            pack = conformance._packs(backend).get(record["MemberPackName"]) or {"Rules": {}}  # type: ignore[index]
            for base, rule_name in sorted(pack["Rules"].items()):
                custom = backend.config_rules[rule_name].source.owner == "CUSTOM_LAMBDA"
                if custom and (rule_bases is None or base in rule_bases):
                    conformance.invoke_rule(backend, rule_name, account, region)
                    runs += 1
    return runs


# --- the aggregator ------------------------------------------------------------------------------

def _aggregator(self: ConfigResponse) -> Any:
    name = self._get_param("ConfigurationAggregatorName")
    aggregator = self.config_backend.config_aggregators.get(name)
    if aggregator is None:
        raise NoSuchConfigurationAggregatorException(name)
    return aggregator


def _limit(self: ConfigResponse, maximum: int, default: int | None = None) -> int:
    limit = int(self._get_param("Limit") or 0)
    if not 0 <= limit <= maximum:
        raise InvalidLimitException(limit, maximum)
    return limit or default or maximum


def source_backends(self: ConfigResponse, aggregator: Any) -> Iterable[tuple[str, str, Any]]:
    """(account, Region, Config backend) of every source of the aggregator, sorted."""
    org = aggregator.organization_aggregation_source
    if org is not None:
        accounts = organization_accounts(self.current_account)
        all_regions, regions = bool(org.all_aws_regions), list(org.aws_regions or [])
        pairs = [(a, all_regions, regions) for a in accounts]
    else:
        pairs = []
        for source in aggregator.account_aggregation_sources or []:
            pairs += [(a, bool(source.all_aws_regions), list(source.aws_regions or [])) for a in source.account_ids]
    for account, all_regions, regions in sorted(pairs):
        if account not in config_backends:
            continue
        held = config_backends[account]
        for region in sorted(held.keys() if all_regions else [r for r in regions if r in held.keys()]):
            yield account, region, held[region]


def _page(items: list[Any], token: str | None, limit: int) -> tuple[list[Any], str | None]:
    start = 0
    if token:
        try:
            payload = json.loads(base64.b64decode(token, validate=True))
            start = int(payload["aggregate-offset"])
        except (ValueError, KeyError, TypeError):
            raise InvalidNextTokenException() from None
        if not 0 <= start <= len(items):
            raise InvalidNextTokenException()
    end = start + limit
    next_token = base64.b64encode(json.dumps({"aggregate-offset": end}).encode()).decode() if end < len(items) else None
    return items[start:end], next_token


def _answer(key: str, items: list[Any], next_token: str | None, **extra: Any) -> str:
    body: dict[str, Any] = {key: items, **extra}
    if next_token:
        body["NextToken"] = next_token
    return json.dumps(body)


def describe_aggregate_compliance_by_config_rules(self: ConfigResponse) -> str:
    aggregator = _aggregator(self)
    filters = self._get_param("Filters") or {}
    limit = _limit(self, 1000)
    rows = []
    for account, region, backend in source_backends(self, aggregator):
        if filters.get("AccountId") and account != filters["AccountId"]:
            continue
        if filters.get("AwsRegion") and region != filters["AwsRegion"]:
            continue
        for rule_name in sorted(backend.config_rules):
            if filters.get("ConfigRuleName") and rule_name != filters["ConfigRuleName"]:
                continue
            if not stored_results(backend, rule_name):
                continue  # "Does not display rules that do not have compliance results."
            compliance = rule_compliance(backend, rule_name)
            if filters.get("ComplianceType") and compliance["ComplianceType"] != filters["ComplianceType"]:
                continue
            rows.append({"ConfigRuleName": rule_name, "Compliance": compliance, "AccountId": account,
                         "AwsRegion": region})
    page, next_token = _page(rows, self._get_param("NextToken"), limit)
    return _answer("AggregateComplianceByConfigRules", page, next_token)


def get_aggregate_compliance_details_by_config_rule(self: ConfigResponse) -> str:
    from transcribe_guard.simulator.config import VALID_COMPLIANCE, _evaluation_result

    aggregator = _aggregator(self)
    account, region = self._get_param("AccountId"), self._get_param("AwsRegion")
    rule_name, wanted = self._get_param("ConfigRuleName"), self._get_param("ComplianceType")
    if wanted and wanted not in VALID_COMPLIANCE:
        raise ValidationException(f"Unsupported ComplianceType {wanted}.")
    limit = _limit(self, 100, default=50)
    results = []
    for source_account, source_region, backend in source_backends(self, aggregator):
        if (source_account, source_region) != (account, region):
            continue
        for record in sorted(stored_results(backend, rule_name).values(),
                             key=lambda r: (r["ResourceType"], r["ResourceId"])):
            if wanted and record["ComplianceType"] != wanted:
                continue
            result = _evaluation_result(record)
            result.pop("ResultToken", None)  # not a member of AggregateEvaluationResult
            results.append({**result, "AccountId": account, "AwsRegion": region})
    page, next_token = _page(results, self._get_param("NextToken"), limit)
    return _answer("AggregateEvaluationResults", page, next_token)


def pack_compliance_counts(backend: Any, pack: dict[str, Any]) -> dict[str, Any]:
    """AggregateConformancePackCompliance of one pack: its rules counted by their compliance; the
    pack is NON_COMPLIANT when any rule is, COMPLIANT when every rule is, else INSUFFICIENT_DATA."""
    kinds = [rule_compliance(backend, rule_name)["ComplianceType"] for rule_name in pack["Rules"].values()]
    compliant, non_compliant = kinds.count("COMPLIANT"), kinds.count("NON_COMPLIANT")
    kind = "NON_COMPLIANT" if non_compliant else "COMPLIANT" if kinds and compliant == len(kinds) else "INSUFFICIENT_DATA"
    return {"ComplianceType": kind, "CompliantRuleCount": compliant, "NonCompliantRuleCount": non_compliant,
            "TotalRuleCount": len(kinds)}


def _pack_rows(self: ConfigResponse, filters: dict[str, Any]) -> list[dict[str, Any]]:
    from transcribe_guard.simulator import conformance

    rows = []
    for account, region, backend in source_backends(self, _aggregator(self)):
        if filters.get("AccountId") and account != filters["AccountId"]:
            continue
        if filters.get("AwsRegion") and region != filters["AwsRegion"]:
            continue
        for name, pack in sorted(conformance._packs(backend).items()):
            if filters.get("ConformancePackName") and name != filters["ConformancePackName"]:
                continue
            compliance = pack_compliance_counts(backend, pack)
            if filters.get("ComplianceType") and compliance["ComplianceType"] != filters["ComplianceType"]:
                continue
            rows.append({"ConformancePackName": name, "Compliance": compliance, "AccountId": account,
                         "AwsRegion": region})
    return rows


def describe_aggregate_compliance_by_conformance_packs(self: ConfigResponse) -> str:
    limit = _limit(self, 100)
    rows = _pack_rows(self, self._get_param("Filters") or {})
    page, next_token = _page(rows, self._get_param("NextToken"), limit)
    return _answer("AggregateComplianceByConformancePacks", page, next_token)


def get_aggregate_conformance_pack_compliance_summary(self: ConfigResponse) -> str:
    limit = _limit(self, 100)
    key = self._get_param("GroupByKey") or "ACCOUNT_ID"
    if key not in ("ACCOUNT_ID", "AWS_REGION"):
        raise ValidationException(f"GroupByKey must be ACCOUNT_ID or AWS_REGION, not {key}.")
    groups: dict[str, dict[str, int]] = {}
    for row in _pack_rows(self, self._get_param("Filters") or {}):
        group = groups.setdefault(row["AccountId"] if key == "ACCOUNT_ID" else row["AwsRegion"],
                                  {"CompliantConformancePackCount": 0, "NonCompliantConformancePackCount": 0})
        kind = row["Compliance"]["ComplianceType"]
        if kind == "COMPLIANT":
            group["CompliantConformancePackCount"] += 1
        elif kind == "NON_COMPLIANT":
            group["NonCompliantConformancePackCount"] += 1
    items = [{"ComplianceSummary": counts, "GroupName": name} for name, counts in sorted(groups.items())]
    page, next_token = _page(items, self._get_param("NextToken"), limit)
    return _answer("AggregateConformancePackComplianceSummaries", page, next_token, GroupByKey=key)


class ConfigurationAggregatorResource(CloudFormationModel):
    """AWS::Config::ConfigurationAggregator in stacks (the aggregator template), through moto's
    PutConfigurationAggregator; Ref is the aggregator's name."""

    def __init__(self, name: str):
        self.name = name

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Config::ConfigurationAggregator"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "ConfigurationAggregatorName"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str,
                                        **kwargs: Any) -> ConfigurationAggregatorResource:
        properties = dict(cloudformation_json["Properties"])
        properties.setdefault("ConfigurationAggregatorName", resource_name)
        config_backends[account_id][region_name].put_configuration_aggregator(properties)
        return cls(properties["ConfigurationAggregatorName"])

    @property
    def physical_resource_id(self) -> str:
        return self.name


def _function_in_its_own_account(original: Any) -> Any:
    """moto looks a custom rule's function up in the rule's own account; an organization pack's
    rules name the delegated administrator's functions by ARN, so look there (Config invokes a
    function of another account when its resource policy allows it)."""
    if getattr(original, "_transcribe_guard", False):
        return original

    def init(self: Any, account_id: str, region: str, owner: str, source_identifier: str,
             source_details: Any = None) -> None:
        parts = str(source_identifier).split(":")
        if owner == "CUSTOM_LAMBDA" and len(parts) > 6 and parts[2] == "lambda" and parts[4].isdigit():
            account_id = parts[4]
        original(self, account_id, region, owner, source_identifier, source_details)

    init._transcribe_guard = True  # type: ignore[attr-defined]
    return init


def _from_management(backend_class: Any, name: str) -> None:
    """moto answers some Organizations reads only in the management account; a member account
    (a delegated administrator) gets the organization's answer, as AWS gives it."""
    original = getattr(backend_class, name)
    if getattr(original, "_transcribe_guard", False):
        return

    def read(self: Any, **kwargs: Any) -> Any:
        if self.org is None and self.account_id in organizations_backends.master_accounts:
            management, partition = organizations_backends.master_accounts[self.account_id]
            return original(organizations_backends[management][partition], **kwargs)
        return original(self, **kwargs)

    read._transcribe_guard = True  # type: ignore[attr-defined]
    setattr(backend_class, name, read)


def install() -> None:
    """Add the operations to moto's Config responses (idempotent)."""
    from moto.cloudformation import parsing
    from moto.config import models as config_models

    config_models.Source.__init__ = _function_in_its_own_account(config_models.Source.__init__)  # type: ignore[method-assign]
    # Delegated administrators moto 5.2.5 does not know: AWS Config (aggregators) and StackSets
    # (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-delegated-admin.html).
    from moto.organizations.models import FakeDelegatedAdministrator, OrganizationsBackend
    _from_management(OrganizationsBackend, "list_parents")
    for principal in ("config.amazonaws.com", "member.org.stacksets.cloudformation.amazonaws.com"):
        if principal not in FakeDelegatedAdministrator.SUPPORTED_SERVICES:
            FakeDelegatedAdministrator.SUPPORTED_SERVICES.append(principal)

    parsing.get_model_list.cache_clear()  # moto caches its CloudFormation models on first use
    parsing.get_model_map.cache_clear()
    for name in ("delete_organization_conformance_pack",
                 "get_organization_conformance_pack_detailed_status"):
        if not hasattr(ConfigResponse, f"_moto_{name}"):
            setattr(ConfigResponse, f"_moto_{name}", getattr(ConfigResponse, name))
    for operation in (put_organization_conformance_pack, delete_organization_conformance_pack,
                      get_organization_conformance_pack_detailed_status,
                      describe_aggregate_compliance_by_config_rules, get_aggregate_compliance_details_by_config_rule,
                      describe_aggregate_compliance_by_conformance_packs,
                      get_aggregate_conformance_pack_compliance_summary):
        setattr(ConfigResponse, operation.__name__, operation)
