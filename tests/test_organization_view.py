"""Issue 16, items 2 and 3: the organization deployed (functions per Region, member role, an
organization pack per Region, the aggregator) and read as one view through the aggregator.

One simulated organization for the module (tests/org_fixture.py): the management account and two
members, two Regions, jobs in each, the pack's job rules evaluated in every account and Region."""

from __future__ import annotations

import io
import json
from typing import Any, Iterator

import boto3
import pytest
from botocore.exceptions import ClientError

from tests import org_fixture
from transcribe_guard import aggregate, cli, deploy
from transcribe_guard.simulator import DEFAULT_ACCOUNT, Simulator
from transcribe_guard.simulator.config import result_token
from transcribe_guard.templates import AGGREGATOR_NAME

RULES = ["transcribe-job-output-location", "transcribe-resource-tagged"]
PACK = deploy.PACK_NAME


@pytest.fixture(scope="module")
def org() -> Iterator[org_fixture.Organization]:
    with Simulator():
        try:
            yield org_fixture.build(rule_bases=RULES)
        finally:
            org_fixture.forget_sessions()


def admin_config(region: str = "us-east-1") -> Any:
    return boto3.client("config", region_name=region)


def per_account_views(org: org_fixture.Organization) -> dict[tuple[str, str], deploy.PackCompliance]:
    """What each account sees of its own pack, Region by Region (the single-account view)."""
    return {(account, region): deploy.pack_compliance(org_fixture.account_session(account, region).client("config"),
                                                      org.member_packs[(account, region)])
            for account in org.accounts for region in org.regions}


def test_the_organization_pack_reaches_every_account_and_region(org: org_fixture.Organization) -> None:
    assert len(org.accounts) == 3 and set(org.member_packs) == {(a, r) for a in org.accounts for r in org.regions}
    for (account, region), name in org.member_packs.items():
        assert aggregate.is_our_pack(name, PACK), name  # OrgConformsPack-transcribe-guard-<suffix>
        rules = deploy.pack_rule_names(org_fixture.account_session(account, region).client("config"), name)
        assert {deploy.base_rule_name(n) for n in rules} >= set(RULES)
    # Each Region's functions and the one account-wide role the Regions share.
    for region in org.regions:
        names = {f["FunctionName"] for f in boto3.client("lambda", region_name=region).list_functions()["Functions"]}
        assert set(RULES) <= names
    policies = boto3.client("iam").list_role_policies(RoleName="transcribe-guard-functions")["PolicyNames"]
    assert {f"transcribe-guard-{r}" for r in org.regions} <= set(policies) and "assume-member-role" in policies
    # The member role, by the service-managed StackSet in each member account (StackSets skip the
    # management account: there it is a stack of its own).
    stack_set = boto3.client("cloudformation", region_name="us-east-1").list_stack_instances(
        StackSetName="transcribe-guard-member-role")["Summaries"]
    assert sorted(i["Account"] for i in stack_set) == sorted(org.members)
    for account in org.accounts:
        iam = org_fixture.account_session(account, "us-east-1").client("iam")
        assert iam.get_role(RoleName="transcribe-guard-member")["Role"]["Arn"].split(":")[4] == account


def test_the_aggregator_view_equals_the_union_of_the_per_account_views(org: org_fixture.Organization) -> None:
    view = aggregate.read_view(admin_config(), AGGREGATOR_NAME, PACK)
    separate = per_account_views(org)
    assert view.problems == [] and set(view.by_pair) == set(separate)
    union: list[dict[str, str]] = []
    for (account, region), own in separate.items():
        # Rule for rule (the aggregator lists the rules that have results).
        assert view.by_pair[(account, region)] == {k: v for k, v in own.rules.items() if k in view.by_pair[(account,
                                                                                                          region)]}
        assert {k for k, v in own.rules.items() if v != "INSUFFICIENT_DATA"} <= set(view.by_pair[(account, region)])
        # Resource for resource (the pack details hold compliant and non-compliant results).
        mine = {(r["rule"], r["resource_type"], r["resource_id"], r["compliance"], r["annotation"])
                for r in view.results if (r["account"], r["region"]) == (account, region)
                and r["compliance"] != "NOT_APPLICABLE"}
        assert mine == {(r["rule"], r["resource_type"], r["resource_id"], r["compliance"], r["annotation"])
                        for r in own.results}
        # The pack score of each account and Region, as that account's Config reports it.
        assert aggregate.score_of([r for r in view.results if (r["account"], r["region"]) == (account, region)]) \
            == own.score
        union += own.results
    assert view.score == aggregate.score_of(union)
    assert len({s.score for s in separate.values()}) > 1  # the accounts differ, so the union is not trivially one
    for name in RULES:
        states = {own.rules[name] for own in separate.values()}
        assert view.rules[name] == ("NON_COMPLIANT" if "NON_COMPLIANT" in states else
                                    "COMPLIANT" if "COMPLIANT" in states else "INSUFFICIENT_DATA")
    # Pack compliance per account, from GetAggregateConformancePackComplianceSummary.
    assert set(view.pack_counts) == set(org.accounts)
    assert all(counts["non_compliant"] == 2 for counts in view.pack_counts.values())  # one pack per Region, each NC


def test_every_aggregator_read_pages_to_its_end(org: org_fixture.Organization, monkeypatch: Any) -> None:
    full = aggregate.read_view(admin_config(), AGGREGATOR_NAME, PACK)
    calls: dict[str, int] = {}
    config = admin_config()
    for operation in ("describe_aggregate_compliance_by_config_rules", "get_aggregate_compliance_details_by_config_rule",
                      "describe_aggregate_compliance_by_conformance_packs",
                      "get_aggregate_conformance_pack_compliance_summary"):
        original = getattr(config, operation)

        def counted(*args: Any, _original: Any = original, _name: str = operation, **kwargs: Any) -> Any:
            calls[_name] = calls.get(_name, 0) + 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(config, operation, counted)
    monkeypatch.setattr(aggregate, "PAGE_LIMITS", {"rules": 1, "details": 1, "packs": 1, "summary": 1})
    paged = aggregate.read_view(config, AGGREGATOR_NAME, PACK)
    assert (paged.by_pair, paged.results, paged.packs, paged.pack_counts) == \
        (full.by_pair, full.results, full.packs, full.pack_counts)
    pairs = len(full.by_pair)
    assert calls["describe_aggregate_compliance_by_conformance_packs"] >= pairs
    assert calls["describe_aggregate_compliance_by_config_rules"] >= pairs * len(RULES)
    assert calls["get_aggregate_compliance_details_by_config_rule"] >= len(full.results)
    assert calls["get_aggregate_conformance_pack_compliance_summary"] >= len(org.accounts)


def test_the_simulated_aggregator_refuses_what_config_refuses(org: org_fixture.Organization) -> None:
    config = admin_config()
    with pytest.raises(ClientError, match="NoSuchConfigurationAggregatorException"):
        config.describe_aggregate_compliance_by_config_rules(ConfigurationAggregatorName="nope")
    with pytest.raises(ClientError, match="InvalidNextTokenException"):
        config.describe_aggregate_compliance_by_conformance_packs(ConfigurationAggregatorName=AGGREGATOR_NAME,
                                                                  NextToken="bm90IGEgdG9rZW4=")
    with pytest.raises(ClientError, match="InvalidLimitException"):
        config.get_aggregate_compliance_details_by_config_rule(
            ConfigurationAggregatorName=AGGREGATOR_NAME, ConfigRuleName="x", AccountId=DEFAULT_ACCOUNT,
            AwsRegion="us-east-1", Limit=101)
    # The default page of the details is 50 (botocore's model documents it).
    page = config.get_aggregate_compliance_details_by_config_rule(
        ConfigurationAggregatorName=AGGREGATOR_NAME, AccountId=DEFAULT_ACCOUNT, AwsRegion="us-east-1",
        ConfigRuleName=org_rule_name(org, DEFAULT_ACCOUNT, "us-east-1", RULES[0]))
    assert page["AggregateEvaluationResults"] and all(r["AccountId"] == DEFAULT_ACCOUNT and r["AwsRegion"] == "us-east-1"
                                                      for r in page["AggregateEvaluationResults"])


def org_rule_name(org: org_fixture.Organization, account: str, region: str, base: str) -> str:
    config = org_fixture.account_session(account, region).client("config")
    return next(n for n in deploy.pack_rule_names(config, org.member_packs[(account, region)])
                if deploy.base_rule_name(n) == base)


def add_rule(account: str, region: str, name: str, compliance: str = "COMPLIANT") -> None:
    """An account holder's own rule of ``name``, with one result."""
    config = org_fixture.account_session(account, region).client("config")
    config.put_config_rule(ConfigRule={"ConfigRuleName": name, "Source": {
        "Owner": "AWS", "SourceIdentifier": "IAM_ROOT_ACCESS_KEY_CHECK"}})
    config.put_evaluations(ResultToken=result_token(name), Evaluations=[{
        "ComplianceResourceType": "AWS::::Account", "ComplianceResourceId": f"lookalike-{name}",
        "ComplianceType": compliance, "OrderingTimestamp": "2026-01-01T00:00:00Z"}])


def test_lookalike_rule_names_are_never_counted(org: org_fixture.Organization) -> None:
    before = aggregate.read_view(admin_config(), AGGREGATOR_NAME, PACK)
    member = org.members[0]
    suffix = org_rule_name(org, member, "us-east-1", RULES[0]).rsplit("-", 1)[1]
    lookalikes = [
        "transcribe-job-output-location",  # the base name alone
        "my-transcribe-job-output-location-conformance-pack-" + suffix,  # a prefix before the base name
        "transcribe-job-output-location-conformance-pack-" + suffix.upper(),  # not the suffix form
        "transcribe-job-output-location-conformance-pack-" + suffix + "-copy",
        "transcribe-job-output-location-copy-conformance-pack-" + suffix,  # an unknown base name
    ]
    for name in lookalikes:
        add_rule(member, "us-east-1", name)
    # The exact form, in a Region of the account where our pack is not deployed.
    add_rule(member, "ap-southeast-2", "transcribe-job-output-location-conformance-pack-" + suffix)
    after = aggregate.read_view(admin_config(), AGGREGATOR_NAME, PACK)
    assert (after.by_pair, after.results, after.score, after.problems) == \
        (before.by_pair, before.results, before.score, before.problems)
    assert not any("lookalike" in r["resource_id"] for r in after.results)
    assert f"{member}/ap-southeast-2/transcribe-job-output-location-conformance-pack-{suffix}" in after.ignored
    assert f"{member}/us-east-1/transcribe-job-output-location" in after.ignored


def test_a_second_rule_set_in_the_pack_form_fails_closed(org: org_fixture.Organization) -> None:
    """The exact form with another suffix where our pack is: we cannot tell which set the pack
    made, so that account and Region is NON_COMPLIANT "Could not evaluate", and neither set counts."""
    member = org.members[1]
    name = "transcribe-job-output-location-conformance-pack-zz9zz9zz"
    add_rule(member, "eu-west-1", name, "COMPLIANT")
    try:
        view = aggregate.read_view(admin_config(), AGGREGATOR_NAME, PACK)
        assert len(view.problems) == 1 and view.problems[0].startswith(f"{member}/eu-west-1:")
        rows = [r for r in view.results if (r["account"], r["region"]) == (member, "eu-west-1")]
        assert rows and all(r["compliance"] == "NON_COMPLIANT" and r["annotation"].startswith("Could not evaluate:")
                            for r in rows)
        assert not any("lookalike" in r["resource_id"] for r in view.results)
        assert view.rules[RULES[0]] == "NON_COMPLIANT"
    finally:
        org_fixture.account_session(member, "eu-west-1").client("config").delete_config_rule(ConfigRuleName=name)


def test_checkpoints_are_kept_per_account_and_region(org: org_fixture.Organization) -> None:
    """The job rules' checkpoints live in the functions' account, one per rule, account and
    Region: two accounts and two Regions never share one."""
    seen: dict[str, tuple[str, str]] = {}
    for region in org.regions:
        ssm = boto3.client("ssm", region_name=region)
        names = [p["Name"] for p in ssm.get_parameters_by_path(Path="/transcribe-guard/checkpoints",
                                                               Recursive=True)["Parameters"]]
        for name in names:
            _, _, _, account, in_region, rule = name.split("/")
            assert in_region == region and name not in seen
            seen[name] = (account, region)
        for account in org.accounts:
            rule = org_rule_name(org, account, region, RULES[0])
            assert f"/transcribe-guard/checkpoints/{account}/{region}/{rule}" in names
    pairs = {pair for pair in seen.values()}
    assert pairs == {(a, r) for a in org.accounts for r in org.regions}


def test_cli_compliance_through_the_aggregator(org: org_fixture.Organization) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["compliance", "--aggregator", AGGREGATOR_NAME, "--format", "json"], out, err)
    report = json.loads(out.getvalue())
    assert code == cli.EXIT_NON_COMPLIANT, err.getvalue()
    assert {(a["account"], a["region"]) for a in report["accounts"]} == set(org.member_packs)
    assert report["score"] == aggregate.read_view(admin_config(), AGGREGATOR_NAME, PACK).score
    table = io.StringIO()
    assert cli.main(["compliance", "--aggregator", AGGREGATOR_NAME], table, err) == cli.EXIT_NON_COMPLIANT
    assert all(account in table.getvalue() for account in org.accounts)
    missing = io.StringIO()
    assert cli.main(["compliance", "--aggregator", "nope"], io.StringIO(), missing) == cli.EXIT_FAILED
    assert "NoSuchConfigurationAggregatorException" in missing.getvalue()


def test_evidence_from_the_aggregator(org: org_fixture.Organization, tmp_path: Any) -> None:
    import csv

    from transcribe_guard import evidence

    out, err = io.StringIO(), io.StringIO()
    target = tmp_path / "bundle"
    code = cli.main(["evidence", "--from", f"aggregator:{AGGREGATOR_NAME}", "--output", str(target), "--quiet"],
                    out, err)
    assert code == cli.EXIT_NON_COMPLIANT, err.getvalue()
    document = json.loads((target / "evidence.json").read_text(encoding="utf-8"))
    view = aggregate.read_view(admin_config(), AGGREGATOR_NAME, PACK)
    assert document["collection"]["source"] == "aggregator"
    assert {(r["account"], r["region"], r["rule"], r["resource_id"], r["compliance"]) for r in document["results"]} \
        == {(r["account"], r["region"], r["rule"], r["resource_id"], r["compliance"]) for r in view.results}
    assert f"{float(view.score):.2f}" == f"{document['summary']['score']:.2f}"
    # One score per account and per Region, each from that account's (Region's) results only.
    for key in ("account", "region"):
        scopes = {row[key]: row for row in document["summary"][f"by_{key}"]}
        assert set(scopes) == {r[key] for r in view.results}
        for name, row in scopes.items():
            mine = [r for r in view.results if r[key] == name]
            assert row["evaluations"] == len(mine)
            compliant = sum(r["compliance"] == "COMPLIANT" for r in mine)
            non_compliant = sum(r["compliance"] == "NON_COMPLIANT" for r in mine)
            assert (row["compliant"], row["non_compliant"]) == (compliant, non_compliant)
            assert row["score"] == (round(100.0 * compliant / (compliant + non_compliant), 2)
                                    if compliant + non_compliant else None)
    html = (target / "report.html").read_text(encoding="utf-8")
    assert "Scores per account and Region" in html and all(f"<code>{a}</code>" in html for a in org.accounts)
    with (target / "evidence.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["Account"] for row in rows if row["Resource ID"]} == set(org.accounts)
    assert evidence.verify_bundle(target, None).ok
    bad = io.StringIO()
    assert cli.main(["evidence", "--from", "aggregator:no such name"], io.StringIO(), bad) == cli.EXIT_USAGE
    assert "aggregator name" in bad.getvalue() and bad.getvalue().count("\n") == 1


def test_the_simulated_aggregator_filters_and_groups_as_the_model_says(org: org_fixture.Organization) -> None:
    config = admin_config()
    member, region = org.members[0], "eu-west-1"
    rows = config.describe_aggregate_compliance_by_config_rules(
        ConfigurationAggregatorName=AGGREGATOR_NAME, Filters={"AccountId": member, "AwsRegion": region})[
        "AggregateComplianceByConfigRules"]
    assert rows and {(r["AccountId"], r["AwsRegion"]) for r in rows} == {(member, region)}
    packs = config.describe_aggregate_compliance_by_conformance_packs(
        ConfigurationAggregatorName=AGGREGATOR_NAME, Filters={"ComplianceType": "NON_COMPLIANT"})[
        "AggregateComplianceByConformancePacks"]
    assert {(p["AccountId"], p["AwsRegion"]) for p in packs} == set(org.member_packs)
    assert all(p["Compliance"]["TotalRuleCount"] >= p["Compliance"]["NonCompliantRuleCount"] > 0 for p in packs)
    by_region = config.get_aggregate_conformance_pack_compliance_summary(
        ConfigurationAggregatorName=AGGREGATOR_NAME, GroupByKey="AWS_REGION")
    assert by_region["GroupByKey"] == "AWS_REGION"
    assert {g["GroupName"]: g["ComplianceSummary"]["NonCompliantConformancePackCount"]
            for g in by_region["AggregateConformancePackComplianceSummaries"]} == {r: len(org.accounts)
                                                                                 for r in org.regions}

