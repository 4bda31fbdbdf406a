"""scan across accounts and Regions, against the demo organization in the simulator: each flag,
an account whose role cannot be assumed, a Region that cannot be reached, the global rules once
per account, results equal to separate single-pair scans, and no pacer or inventory shared by
two pairs. A few rules only (one of each kind: jobs, IAM, Organizations), to keep it lean."""

from __future__ import annotations

import io
import json
import os
import threading
from typing import Any, Iterator

import boto3
import pytest
from botocore.stub import Stubber

import rules.engine.base as engine_base
import rules.engine.incremental as engine_incremental
from rules.catalog.registry import RULES
from rules.engine.pacing import shared_limiter
from transcribe_guard import cli, scan
from transcribe_guard.simulator import Simulator, faults
from transcribe_guard.simulator.demo_organization import DemoOrganization, seed_demo_organization

RULE_SET = ("transcribe-job-pii-redaction", "transcribe-job-output-location", "transcribe-iam-user-no-access",
            "transcribe-ai-opt-out")
GLOBAL = {"transcribe-iam-user-no-access", "transcribe-iam-tag-based-access", "transcribe-ai-opt-out"}
REGIONS = ("us-east-1", "eu-west-1")


@pytest.fixture(scope="module")
def org() -> Iterator[DemoOrganization]:
    saved = os.environ.get("MOTO_EC2_LOAD_DEFAULT_AMIS")
    os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"  # seconds of moto start-up no test here needs
    try:
        with Simulator(seed="demo") as sim:
            yield seed_demo_organization(sim.client)
    finally:
        if saved is None:
            os.environ.pop("MOTO_EC2_LOAD_DEFAULT_AMIS", None)
        else:
            os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = saved


@pytest.fixture(autouse=True)
def no_faults() -> Iterator[None]:
    yield
    faults.clear()


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return cli.main(argv, out, err), out.getvalue(), err.getvalue()


def scan_json(*flags: str, rules: tuple[str, ...] = RULE_SET) -> tuple[int, list[dict[str, str]], dict[str, Any]]:
    code, out, err = run(["scan", "--quiet", "--format", "json", *flags, *[a for r in rules for a in ("--rule", r)]])
    assert code in (cli.EXIT_OK, cli.EXIT_NON_COMPLIANT), err
    report = json.loads(out)
    return code, report["evaluations"], report["summary"]


def pairs(rows: list[dict[str, str]]) -> set[tuple[str, str]]:
    return {(r["account"], r["region"]) for r in rows}


def timeless(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{k: v for k, v in r.items() if k != "evaluated_at"} for r in rows]


ROLE = ("--role-name", "transcribe-guard-member")


# --- flags ---------------------------------------------------------------------------------------

def test_region_flag_scans_each_region_and_global_rules_once(org: DemoOrganization) -> None:
    _, rows, summary = scan_json("--region", "us-east-1", "--region", "eu-west-1")
    assert pairs(rows) == {(org.management_account, r) for r in REGIONS}
    assert {r["region"] for r in rows if r["rule"] in GLOBAL} == {"us-east-1"}  # the first Region only
    jobs = {(r["region"], r["resource_id"]) for r in rows if r["rule"] == "transcribe-job-pii-redaction"}
    assert ("us-east-1", "arn:aws:transcribe:us-east-1:123456789012:transcription-job/weekly-sales-meeting") in jobs
    assert {job for region, job in jobs if region == "eu-west-1"} == {  # each Region's own jobs
        "arn:aws:transcribe:eu-west-1:123456789012:transcription-job/all-hands-meeting"}
    assert set(summary["by_account_region"][org.management_account]) == set(REGIONS)


def test_global_rules_are_read_from_the_registry() -> None:
    assert scan.global_rules(list(RULES)) == GLOBAL


def test_role_name_with_accounts_assumes_into_each(org: DemoOrganization) -> None:
    members = org.members
    _, rows, _ = scan_json(*ROLE, "--account", members[0], "--account", members[1], "--region", "eu-west-1")
    assert pairs(rows) == {(m, "eu-west-1") for m in members}
    for member in members:  # the credentials act in the member account: its own jobs, by its own ARNs
        jobs = {r["resource_id"] for r in rows if r["account"] == member and r["rule"] == "transcribe-job-pii-redaction"}
        assert jobs and all(job.startswith(f"arn:aws:transcribe:eu-west-1:{member}:") for job in jobs)
        verdicts = {r["compliance"] for r in rows if r["account"] == member}
        assert {"COMPLIANT", "NON_COMPLIANT"} <= verdicts


def test_organization_scans_every_active_account_and_ou_the_ous_below(org: DemoOrganization) -> None:
    _, rows, _ = scan_json(*ROLE, "--organization", "--region", "us-east-1", rules=("transcribe-ai-opt-out",))
    assert {r["account"] for r in rows} == set(org.accounts)
    _, rows, _ = scan_json(*ROLE, "--organization", "--ou", org.organizational_units["Workloads"],
                           "--region", "us-east-1", rules=("transcribe-ai-opt-out",))
    assert {r["account"] for r in rows} == set(org.members)  # both are in OUs below Workloads


def test_organization_accounts_pages_and_recurses(org: DemoOrganization) -> None:
    organizations = boto3.client("organizations")
    assert scan.organization_accounts(organizations, page_size=1) == list(org.accounts)
    assert sorted(scan.organization_accounts(organizations, org.organizational_units["Workloads"], page_size=1)) \
        == sorted(org.members)


def test_organization_accounts_keeps_only_active_ones() -> None:
    organizations = boto3.client("organizations", region_name="us-east-1")
    stub = Stubber(organizations)
    account = {"Arn": "arn:aws:organizations::111111111111:account/o-abcdefghij/{}", "Email": "a@example.com",
               "Name": "a"}
    stub.add_response("list_accounts", {"Accounts": [
        {**account, "Id": "111111111111", "State": "ACTIVE", "Status": "ACTIVE"},
        {**account, "Id": "222222222222", "State": "SUSPENDED", "Status": "SUSPENDED"}], "NextToken": "t"})
    stub.add_response("list_accounts", {"Accounts": [
        {**account, "Id": "333333333333", "Status": "ACTIVE"},  # no State in the response: Status decides
        {**account, "Id": "444444444444", "State": "CLOSED", "Status": "ACTIVE"}]},  # State wins over Status
        {"NextToken": "t"})
    with stub:
        assert scan.organization_accounts(organizations) == ["111111111111", "333333333333"]


def test_all_regions_is_transcribe_regions_enabled_for_the_account(org: DemoOrganization) -> None:
    session = boto3.session.Session(region_name="us-east-1")
    # moto has no account:ListRegions (404): ec2:DescribeRegions answers instead.
    enabled = {r["RegionName"] for r in session.client("ec2").describe_regions()["Regions"]}
    expected = [r for r in sorted(session.get_available_regions("transcribe")) if r in enabled]
    assert scan.enabled_regions(session, "aws") == expected and "us-east-1" in expected
    _, rows, _ = scan_json("--all-regions", rules=("transcribe-config-recording",))  # one result per Region
    assert sorted({r["region"] for r in rows}) == expected


def test_all_regions_filters_by_account_list_regions() -> None:
    class Session:
        def get_available_regions(self, service: str, partition_name: str) -> list[str]:
            assert (service, partition_name) == ("transcribe", "aws")
            return ["us-east-1", "eu-west-1", "ap-east-1", "me-south-1"]

        def client(self, service: str) -> Any:
            assert service == "account"
            return account

    account = boto3.client("account", region_name="us-east-1")
    stub = Stubber(account)
    asked = {"RegionOptStatusContains": ["ENABLED", "ENABLED_BY_DEFAULT"]}
    stub.add_response("list_regions", {"Regions": [{"RegionName": "us-east-1", "RegionOptStatus": "ENABLED_BY_DEFAULT"}],
                                       "NextToken": "t"}, asked)
    stub.add_response("list_regions", {"Regions": [{"RegionName": "ap-east-1", "RegionOptStatus": "ENABLED"},
                                                   {"RegionName": "ap-south-2", "RegionOptStatus": "ENABLED"}]},
                      {**asked, "NextToken": "t"})
    with stub:
        assert scan.enabled_regions(Session(), "aws") == ["ap-east-1", "us-east-1"]


def test_profile_selects_credentials_and_region(org: DemoOrganization, tmp_path: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config").write_text("[profile orgscan]\nregion = eu-west-1\n")
    (tmp_path / "credentials").write_text("[orgscan]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION"):  # they would win over the profile's region
        monkeypatch.delenv(name, raising=False)
    _, rows, _ = scan_json("--profile", "orgscan", rules=("transcribe-ai-opt-out",))
    assert pairs(rows) == {(org.management_account, "eu-west-1")}
    code, _, err = run(["scan", "--profile", "nope", "--quiet", "--rule", "transcribe-ai-opt-out"])
    assert code == cli.EXIT_USAGE and err == "transcribe-guard: --profile nope: no such profile in the AWS config " \
                                             "or credentials files.\n"


def test_external_id_is_sent_with_assume_role(org: DemoOrganization) -> None:
    from moto.sts.models import sts_backends

    member = org.members[0]
    scan_json(*ROLE, "--account", member, "--external-id", "acme-scan-7", "--region", "us-east-1",
              rules=("transcribe-ai-opt-out",))
    assumed = [role for role in sts_backends[member]["aws"].assumed_roles if role.role_arn == org.role_arn(member)]
    assert assumed and assumed[-1].external_id == "acme-scan-7"


def test_workers_run_pairs_concurrently_with_the_same_results(org: DemoOrganization,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    flags = (*ROLE, "--organization", "--region", "us-east-1")
    _, one_at_a_time, _ = scan_json(*flags, "--workers", "1")
    barrier, original = threading.Barrier(3, timeout=20), scan._scan_pair

    def meets_the_others(*args: Any) -> Any:
        barrier.wait()  # raises BrokenBarrierError unless the three pairs run at the same time
        return original(*args)

    monkeypatch.setattr(scan, "_scan_pair", meets_the_others)
    _, concurrent, _ = scan_json(*flags, "--workers", "3")
    assert timeless(concurrent) == timeless(one_at_a_time) and len(pairs(concurrent)) == 3


@pytest.mark.parametrize("flags, expected", [
    (["--account", "111111111111"], "--account and --organization need --role-name"),
    (["--role-name", "r"], "--role-name needs --account ID (repeatable) or --organization"),
    (["--role-name", "r", "--organization", "--account", "111111111111"], "cannot be combined"),
    (["--role-name", "r", "--account", "1234"], "--account 1234: not an AWS account id"),
    (["--role-name", "bad role", "--organization"], "--role-name bad role: not an IAM role name"),
    (["--ou", "ou-abcd-12345678"], "--ou needs --organization"),
    (["--role-name", "r", "--organization", "--ou", "nope"], "--ou nope: not an organizational unit"),
    (["--external-id", "x1"], "--external-id needs --role-name"),
    (["--region", "us-east-1", "--all-regions"], "--region and --all-regions cannot be combined"),
    (["--region", "Mars"], "--region Mars: not a Region name"),
    (["--workers", "0", "--region", "us-east-1"], "--workers 0: between 1 and 64"),
    (["--workers", "many"], "invalid int value: 'many'"),
    (["--demo", "--profile", "p"], "--profile cannot be used with --demo"),
])
def test_bad_flags_exit_2_with_one_line(flags: list[str], expected: str) -> None:
    code, out, err = run(["scan", "--quiet", *flags])
    assert code == cli.EXIT_USAGE and out == ""
    assert expected in err and len(err.splitlines()) == 1


# --- failures: one row per account and Region, the run goes on ---------------------------------

def test_an_unassumable_account_among_three_gives_one_row_per_region(org: DemoOrganization) -> None:
    denied = org.members[0]
    faults.inject(faults.ACCESS_DENIED, "AssumeRole", service="sts", resource=org.role_arn(denied))
    code, rows, summary = scan_json(*ROLE, "--organization", "--region", "us-east-1", "--region", "eu-west-1")
    assert code == cli.EXIT_NON_COMPLIANT
    failed = [r for r in rows if r["account"] == denied]
    assert [(r["region"], r["rule"], r["resource_type"], r["resource_id"], r["compliance"]) for r in failed] == [
        (region, scan.UNSCANNED_RULE, "AWS::::Account", denied, "NON_COMPLIANT") for region in REGIONS]
    assert all(r["annotation"].startswith("Could not evaluate: AccessDenied") for r in failed)
    others = [r for r in rows if r["account"] != denied]
    assert pairs(others) == {(a, r) for a in org.accounts if a != denied for r in REGIONS}
    assert {r["rule"] for r in others} == set(RULE_SET)
    # Counted as could-not-evaluate (ERROR), apart from findings.
    assert summary["by_account_region"][denied] == {
        region: {"NON_COMPLIANT": 0, "ERROR": 1, "MUTED": 0, "COMPLIANT": 0, "NOT_APPLICABLE": 0} for region in REGIONS}


def test_an_unreachable_region_gives_one_row_per_account(org: DemoOrganization,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # no retries of the timeout (and no back-off sleeps)
    faults.inject(faults.CONNECT_TIMEOUT, "GetCallerIdentity", service="sts", region="eu-west-1")
    code, out, _ = run(["scan", "--quiet", *ROLE, "--organization", "--region", "us-east-1", "--region", "eu-west-1",
                        "--rule", "transcribe-job-pii-redaction"])
    assert code == cli.EXIT_NON_COMPLIANT
    for account in org.accounts:
        assert (f"== account {account}, Region eu-west-1: 0 NON_COMPLIANT, 1 ERROR, 0 MUTED, 0 COMPLIANT, "
                "0 NOT_APPLICABLE") in out
        assert f"== account {account}, Region us-east-1: " in out
    assert out.count("Could not evaluate: ConnectTimeoutError") == len(org.accounts)
    assert "Per account and Region:" in out


def test_global_rules_move_to_the_next_region_when_the_first_is_unreachable(org: DemoOrganization,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    faults.inject(faults.CONNECT_TIMEOUT, "GetCallerIdentity", service="sts", region="eu-west-1")
    member = org.members[1]
    _, rows, _ = scan_json(*ROLE, "--account", member, "--region", "eu-west-1", "--region", "us-east-1")
    assert [r["rule"] for r in rows if r["region"] == "eu-west-1"] == [scan.UNSCANNED_RULE]
    ran = {r["rule"] for r in rows if r["region"] == "us-east-1"}
    assert ran == set(RULE_SET)  # the Region rules and, once, the global ones
    assert sum(1 for r in rows if r["rule"] == "transcribe-ai-opt-out") == 1


# --- the same results as one pair at a time, and nothing shared between pairs -----------------

def test_results_equal_separate_single_pair_scans(org: DemoOrganization) -> None:
    rules = ("transcribe-job-pii-redaction", "transcribe-iam-user-no-access")  # a Region rule, a global one
    _, together, _ = scan_json(*ROLE, "--organization", "--region", "us-east-1", "--region", "eu-west-1", rules=rules)
    for account in org.accounts:
        for region in REGIONS:
            _, alone, _ = scan_json(*ROLE, "--account", account, "--region", region, rules=rules)
            if region != REGIONS[0]:  # alone, its first Region runs the global rules too
                alone = [r for r in alone if r["rule"] not in GLOBAL]
            assert alone, (account, region)
            assert timeless([r for r in together if (r["account"], r["region"]) == (account, region)]) \
                == timeless(alone), (account, region)


def test_two_pairs_never_share_an_inventory_or_pacer(org: DemoOrganization, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[Any, Any]] = []
    original = engine_base.inventory_for

    def recording(client_factory: Any, account_id: str, *args: Any, **kwargs: Any) -> Any:
        inventory = original(client_factory, account_id, *args, **kwargs)
        seen.append((client_factory, inventory))
        return inventory

    monkeypatch.setattr(engine_base, "inventory_for", recording)
    monkeypatch.setattr(engine_incremental, "inventory_for", recording)
    scan_json(*ROLE, "--organization", "--region", "us-east-1", "--region", "eu-west-1",
              rules=("transcribe-job-pii-redaction", "transcribe-job-output-location"))
    by_pair: dict[tuple[str, str], set[int]] = {}
    for factory, inventory in seen:
        assert inventory.region == factory.region == inventory.client.meta.region_name
        by_pair.setdefault((inventory.account_id, inventory.region), set()).add(id(inventory))
        assert inventory.limiter is shared_limiter(inventory.account_id, inventory.region)
    assert set(by_pair) == {(a, r) for a in org.accounts for r in REGIONS}
    assert all(len(ids) == 1 for ids in by_pair.values())  # both rules of a pair share its one inventory
    limiters = {id(inventory.limiter) for _, inventory in seen}
    assert len(limiters) == len(by_pair)  # one pacer per account and Region
    assert shared_limiter("111111111111", "us-east-1") is not shared_limiter("111111111111", "eu-west-1")
    assert shared_limiter("111111111111", "us-east-1") is not shared_limiter("222222222222", "us-east-1")
