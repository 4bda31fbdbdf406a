"""One view of an organization: the pack's results in every account and Region, read through an
AWS Config aggregator (``compliance --aggregator`` and ``evidence --from aggregator:NAME``).

Four aggregator reads, each paged to its end (shapes from botocore's config model):
DescribeAggregateComplianceByConformancePacks (where the pack is), DescribeAggregateComplianceByConfigRules
(which rules have results, per account and Region), GetAggregateComplianceDetailsByConfigRule (each
rule's results), GetAggregateConformancePackComplianceSummary (compliant and non-compliant packs per
account, all packs, shown as AWS counts them).

Which rules are ours. An organization pack appears in each member account as
``OrgConformsPack-<pack>-<suffix>``, and a pack's rules are named ``<rule>-conformance-pack-<suffix>``
(simulator/organization_config.py says what is and is not verified about both forms). Account
holders can create rules of any free name, so a rule counts only when all of these hold:

- its name is exactly ``<rule>-conformance-pack-<suffix>`` with ``<rule>`` one of the pack's rules
  and ``<suffix>`` lower-case letters and digits;
- the same account and Region holds our pack: exactly ``<pack>`` (a pack deployed per account) or
  ``OrgConformsPack-<pack>-<suffix>``;
- every rule of that form in that account and Region has the same suffix. If two suffixes appear
  we cannot tell which set the pack created: that account and Region is reported NON_COMPLIANT
  "Could not evaluate" for each rule so named, and neither set's results are counted.

Every other rule is left out and listed in ``ignored``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

ORG_PACK_PREFIX = "OrgConformsPack-"
RULE_FORM = re.compile(r"^(?P<base>.+)-conformance-pack-(?P<suffix>[a-z0-9]+)$")
SUFFIX = r"[a-z0-9]+"
# Page sizes: each API's maximum Limit (botocore's config model); tests shrink them to see paging.
PAGE_LIMITS = {"rules": 1000, "details": 100, "packs": 100, "summary": 100}
# The actions the reads need (the scanning principal, in the aggregator's account).
AGGREGATOR_ACTIONS = ("config:DescribeAggregateComplianceByConfigRules",
                      "config:DescribeAggregateComplianceByConformancePacks",
                      "config:GetAggregateComplianceDetailsByConfigRule",
                      "config:GetAggregateConformancePackComplianceSummary", "sts:GetCallerIdentity")

Pair = tuple[str, str]  # (account, Region)


@dataclass
class AggregateView:
    aggregator: str
    pack_name: str
    packs: dict[Pair, dict[str, Any]] = field(default_factory=dict)  # pair -> pack name and its rule counts
    by_pair: dict[Pair, dict[str, str]] = field(default_factory=dict)  # pair -> base rule -> compliance
    rule_names: dict[Pair, dict[str, str]] = field(default_factory=dict)  # pair -> base rule -> name in Config
    # account, region, rule (base name), resource_type, resource_id, compliance, annotation, recorded_at
    results: list[dict[str, str]] = field(default_factory=list)
    pack_counts: dict[str, dict[str, int]] = field(default_factory=dict)  # account -> packs (all) by compliance
    ignored: list[str] = field(default_factory=list)  # "<account>/<region>/<rule>" not counted as ours
    problems: list[str] = field(default_factory=list)

    @property
    def rules(self) -> dict[str, str]:
        """Each pack rule over the whole organization: NON_COMPLIANT where any account and Region
        is, else COMPLIANT where any is, else INSUFFICIENT_DATA (no result anywhere)."""
        combined = {name: "INSUFFICIENT_DATA" for name in pack_rule_base_names()}
        for states in self.by_pair.values():
            for name, state in states.items():
                if state == "NON_COMPLIANT" or (state == "COMPLIANT" and combined.get(name) != "NON_COMPLIANT"):
                    combined[name] = state
                else:
                    combined.setdefault(name, state)
        return combined

    @property
    def score(self) -> str:
        """Config's compliance score over the organization: compliant rule-resource results over
        compliant plus non-compliant ones, two decimals ("0.00" when there are none, as Config)."""
        return score_of(self.results)


def score_of(results: list[dict[str, str]]) -> str:
    compliant = sum(1 for r in results if r["compliance"] == "COMPLIANT")
    non_compliant = sum(1 for r in results if r["compliance"] == "NON_COMPLIANT")
    total = compliant + non_compliant
    return f"{100.0 * compliant / total:.2f}" if total else "0.00"


def pack_rule_base_names() -> list[str]:
    """Every rule the pack template creates (custom rules, managed rules, process checks)."""
    from transcribe_guard.generate import conformance_pack
    return sorted({str(r["Properties"]["ConfigRuleName"]) for r in conformance_pack()["Resources"].values()
                   if r.get("Type") == "AWS::Config::ConfigRule"})


def is_our_pack(name: str, pack_name: str) -> bool:
    return name == pack_name or re.fullmatch(re.escape(ORG_PACK_PREFIX + pack_name) + "-" + SUFFIX, name) is not None


def _pages(call: Callable[..., Any], key: str, **request: Any) -> Iterator[Any]:
    while True:
        page = call(**request)
        yield from page.get(key, [])
        if not page.get("NextToken"):
            return
        request["NextToken"] = page["NextToken"]


def read_view(config: Any, aggregator: str, pack_name: str) -> AggregateView:
    view = AggregateView(aggregator, pack_name)
    known = set(pack_rule_base_names())

    for row in _pages(config.describe_aggregate_compliance_by_conformance_packs, "AggregateComplianceByConformancePacks",
                      ConfigurationAggregatorName=aggregator, Limit=PAGE_LIMITS["packs"]):
        if is_our_pack(row["ConformancePackName"], pack_name):
            pair = (row["AccountId"], row["AwsRegion"])
            if pair in view.packs:
                view.problems.append(f"{pair[0]}/{pair[1]}: two packs named like {pack_name} "
                                     f"({view.packs[pair]['name']}, {row['ConformancePackName']})")
            view.packs[pair] = {"name": row["ConformancePackName"], **row.get("Compliance", {})}

    candidates: dict[Pair, dict[str, dict[str, tuple[str, str]]]] = {}  # pair -> suffix -> base -> (name, state)
    for row in _pages(config.describe_aggregate_compliance_by_config_rules, "AggregateComplianceByConfigRules",
                      ConfigurationAggregatorName=aggregator, Limit=PAGE_LIMITS["rules"]):
        pair, name = (row["AccountId"], row["AwsRegion"]), row["ConfigRuleName"]
        match = RULE_FORM.match(name)
        if match and match.group("base") in known and pair in view.packs:
            candidates.setdefault(pair, {}).setdefault(match.group("suffix"), {})[match.group("base")] = (
                name, row["Compliance"]["ComplianceType"])
        elif match and match.group("base") in known or any(name.startswith(base) for base in known):
            view.ignored.append(f"{pair[0]}/{pair[1]}/{name}")

    for pair, by_suffix in sorted(candidates.items()):
        account, region = pair
        if len(by_suffix) > 1:  # fail closed: we cannot tell which set the pack created
            suffixes = ", ".join(sorted(by_suffix))
            view.problems.append(f"{account}/{region}: rules of {len(by_suffix)} sets are named like the pack's "
                                 f"(suffixes {suffixes})")
            bases = sorted({base for rules in by_suffix.values() for base in rules})
            view.by_pair[pair] = {base: "NON_COMPLIANT" for base in bases}
            for base in bases:
                view.results.append({
                    "account": account, "region": region, "rule": base, "resource_type": "AWS::::Account",
                    "resource_id": account, "compliance": "NON_COMPLIANT", "recorded_at": "",
                    "annotation": f"Could not evaluate: rules of {len(by_suffix)} sets are named like the pack's in "
                                  "this account and Region; cannot tell which the pack created."})
            continue
        (rules,) = by_suffix.values()
        view.by_pair[pair] = {base: state for base, (_, state) in rules.items()}
        view.rule_names[pair] = {base: name for base, (name, _) in rules.items()}
        for base, (name, _) in sorted(rules.items()):
            for result in _pages(config.get_aggregate_compliance_details_by_config_rule, "AggregateEvaluationResults",
                                 ConfigurationAggregatorName=aggregator, ConfigRuleName=name, AccountId=account,
                                 AwsRegion=region, Limit=PAGE_LIMITS["details"]):
                qualifier = result["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
                recorded = result.get("ResultRecordedTime")
                view.results.append({
                    "account": account, "region": region, "rule": base, "resource_type": qualifier["ResourceType"],
                    "resource_id": qualifier["ResourceId"], "compliance": result["ComplianceType"],
                    "annotation": result.get("Annotation", ""),
                    "recorded_at": _iso(recorded) if recorded is not None else ""})

    for row in _pages(config.get_aggregate_conformance_pack_compliance_summary,
                      "AggregateConformancePackComplianceSummaries", ConfigurationAggregatorName=aggregator,
                      GroupByKey="ACCOUNT_ID", Limit=PAGE_LIMITS["summary"]):
        counts = row.get("ComplianceSummary", {})
        view.pack_counts[row["GroupName"]] = {"compliant": int(counts.get("CompliantConformancePackCount", 0)),
                                              "non_compliant": int(counts.get("NonCompliantConformancePackCount", 0))}
    view.results.sort(key=lambda r: (r["account"], r["region"], r["rule"], r["resource_type"], r["resource_id"]))
    return view


def _iso(value: Any) -> str:
    import datetime as dt
    if isinstance(value, (int, float)):
        value = dt.datetime.fromtimestamp(value, dt.timezone.utc)
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
        return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)
