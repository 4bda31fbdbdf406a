"""The ledger in an organization: each Region's collector sweeps every account through the member
role, and the organization pack's rules, run in each member account, judge from the ledger with
the verdicts live reads give and no Transcribe call of their own. An account the collector cannot
assume is "Could not evaluate", never "no jobs"."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any, Callable

import boto3
import pytest

from rules.engine.collector import CollectorStats, sweep_organization
from transcribe_guard import aggregate, deploy, org_deploy
from transcribe_guard.iam_actions import recording
from transcribe_guard.simulator import Simulator, eventbridge, faults, organization_config
from transcribe_guard.simulator.demo_organization import seed_demo_organization
from transcribe_guard.templates import COLLECTOR_NAME, LEDGER_TABLE, MEMBER_ROLE_NAME

REGION = "us-east-1"
# Every rule that reads Transcribe jobs or customizations (through the inventory the ledger replaces).
LEDGER_RULES = ["transcribe-job-output-location", "transcribe-job-output-encrypted", "transcribe-job-pii-redaction",
                "transcribe-resource-tagged", "transcribe-data-access-role", "transcribe-customization-encrypted",
                "transcribe-bucket-encrypted", "transcribe-kms-key-protected"]


def _session(region: str) -> Any:
    return boto3.session.Session(region_name=region)


def evaluate_organization(ledger: bool, unreachable: str | None = None) -> dict[str, Any]:
    """The demo organization deployed (with or without the ledger), swept, evaluated; its
    per-resource results through the aggregator, the sweep's summary, and the rules' actions."""
    with Simulator(seed="demo", region=REGION) as sim:
        organization = seed_demo_organization(sim.client, regions=(REGION,))
        role = f"arn:aws:iam::{unreachable}:role/{MEMBER_ROLE_NAME}"
        with faults.injected(faults.ACCESS_DENIED, "AssumeRole", service="sts", resource=role) if unreachable \
                else nullcontext():  # org_deploy invokes each Region's collector once, after the member role
            done = org_deploy.deploy_organization(_session, [REGION], deploy.demo_pack_parameters(), member_role=False,
                                                  ledger=deploy.LedgerSettings(enabled=True) if ledger else None)
            swept = [functions.ledger_sweep for functions in done.functions] if ledger else []
            if ledger:  # and the hourly schedule runs it as well
                hourly = [out for function, out in eventbridge.sweep(done.admin_account, REGION)
                          if function == COLLECTOR_NAME]
                assert [s["swept_completely"] for s in hourly] == [s["swept_completely"] for s in swept]
        with recording() as recorder:
            organization_config.evaluate_organization_pack(done.admin_account, [REGION], done.pack_name, LEDGER_RULES)
        view = aggregate.read_view(_session(REGION).client("config"), done.aggregator, done.pack_name)
        return {"accounts": list(organization.accounts), "swept": swept, "actions": set(recorder.actions),
                "results": {(r["account"], r["rule"], r["resource_id"]): (r["compliance"], r["annotation"])
                            for r in view.results if r["rule"] in LEDGER_RULES},
                "records": sim.client("dynamodb").scan(TableName=LEDGER_TABLE, Select="COUNT")["Count"] if ledger else 0}


@pytest.fixture(scope="module")
def live() -> dict[str, Any]:
    return evaluate_organization(ledger=False)


def test_every_member_is_judged_from_the_ledger_as_from_live_reads(live: dict[str, Any]) -> None:
    ledger = evaluate_organization(ledger=True)
    [summary] = ledger["swept"]
    assert summary["organization"] and summary["accounts"] == len(ledger["accounts"]) == 3
    assert summary["swept_completely"] == 3 and summary["problems"] == [] and summary["gets"] > 0
    assert {k: v[0] for k, v in ledger["results"].items()} == {k: v[0] for k, v in live["results"].items()}
    assert {account for account, _, _ in ledger["results"]} == set(ledger["accounts"])
    # The rules read the ledger (in the functions account) and made no Transcribe call of their own.
    assert "dynamodb:Query" in ledger["actions"]
    assert not {a for a in ledger["actions"] if a.startswith("transcribe:")}
    assert {a for a in live["actions"] if a.startswith("transcribe:")}  # while live reads do


def test_an_account_the_collector_cannot_assume_is_could_not_evaluate(live: dict[str, Any]) -> None:
    member = live["accounts"][1]
    ledger = evaluate_organization(ledger=True, unreachable=member)
    [summary] = ledger["swept"]
    assert summary["swept_completely"] == 2
    assert [p for p in summary["problems"] if member in p and "AccessDenied" in p]
    theirs = {k: v for k, v in ledger["results"].items() if k[0] == member}
    # Every rule that reads jobs reports the account not evaluated rather than "no jobs"...
    for rule in LEDGER_RULES:
        compliance, annotation = theirs[(member, rule, member)]
        assert compliance == "NON_COMPLIANT" and "LedgerNotSwept" in annotation, (rule, annotation)
    # ...and the other accounts are judged as live reads judge them.
    others = {k: v[0] for k, v in ledger["results"].items() if k[0] != member}
    assert others == {k: v[0] for k, v in live["results"].items() if k[0] != member}


class _Store:
    """The rotation's meta item only (what sweep_organization reads and writes of the ledger)."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def meta(self, pk: str) -> dict[str, Any] | None:
        return self.items.get(pk)

    def put_meta(self, pk: str, values: dict[str, Any]) -> None:
        self.items[pk] = dict(values)


class _Swept:
    def __init__(self, account: str, order: list[str], complete: bool = True):
        self.stats = CollectorStats(swept={"transcription-job": complete})
        self.account, self.order = account, order

    def sweep(self) -> None:
        self.order.append(self.account)


class _Clock:
    """A deadline that comes after ``budget`` accounts have started."""

    def __init__(self, budget: int):
        self.started, self.budget = 0, budget

    def near(self) -> bool:
        return self.started >= self.budget


def _collectors(order: list[str], clock: _Clock, incomplete: tuple[str, ...] = ()) -> Callable[[str], Any]:
    def collector_for(account: str) -> Any:
        clock.started += 1
        return _Swept(account, order, account not in incomplete)
    return collector_for


def test_a_large_organization_is_covered_over_invocations_starting_where_the_last_stopped() -> None:
    accounts = [f"{i:012d}" for i in range(10)]
    store, order = _Store(), []
    clock = _Clock(budget=4)
    first = sweep_organization(store, REGION, accounts, _collectors(order, clock), clock, parallel=1)  # type: ignore[arg-type]
    assert order == accounts[:4] and first["swept_completely"] == 4 and first["not_started"] == accounts[4:]
    clock.started = 0
    second = sweep_organization(store, REGION, accounts, _collectors(order, clock, incomplete=(accounts[5],)),
                                clock, parallel=1)  # type: ignore[arg-type]
    assert order[4:] == accounts[4:8] and second["swept_completely"] == 3  # account 5's sweep did not finish
    clock.started, clock.budget = 0, 100
    sweep_organization(store, REGION, accounts, _collectors(order, clock), clock, parallel=1)  # type: ignore[arg-type]
    # The next invocation began with account 5 (left unfinished), then went round to every other.
    assert order[8:] == accounts[5:] + accounts[:5]
    assert store.items[f"organization#{REGION}"] == {}

