"""Hostile values: nothing an account holder writes can lose an evaluation, crash a rule or forge
a row (issue 12, item 1).

For every rule of the registry, the clean run on the demo account records every call and its
parsed response. Every string member present in those responses gets values derived from its
botocore shape (tests/hostile_values.py: its pattern, min and max length, its enum; unsafe
characters, the maximum length, URI and ARN syntax), set through the simulator's
``hostile-value`` fault in the first response of its operation that has it, the way one job,
bucket, role, filter or tag written by an attacker would show up. Members are grouped per
operation and value class (identifiers, the names and ARNs later requests send or results carry,
in their own group, so a renamed resource does not hide what the rest of the response does); a
group that fails is split to name the member.

The per-member runs are the fault matrix's ``hostile-value`` column (tests/test_fault_matrix.py
calls ``check_hostile_values`` for each rule, in the case's fresh demo account). Each run goes
through the rule's Lambda handler with a real ScheduledNotification event, and:

- the handler answers evaluations (never raises, never an error response);
- every evaluation is one Config accepts (the simulated PutEvaluations enforces AWS's limits:
  ComplianceResourceId at most 768 characters, Annotation at most 256) and no annotation carries
  a raw control, bidi or zero-width character;
- every clean result that the altered response does not name (the resources of other jobs,
  buckets, roles...) is reported again with the same verdict: nothing else is lost or changed.

A hypothesis test then draws more values from the members' patterns themselves, and the scan
command runs in every format with hostile values in every Transcribe response at once. The count
of runs and of evaluations lost (always 0) is printed at the end of the test run.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules.catalog.registry import RULES
from rules.engine.safe_text import UNSAFE_CHARACTERS
from tests import test_fault_matrix as matrix
from tests.fault_support import demo_account, lambda_handler, simulation_with_summary
from tests.helpers import ACCOUNT, deploy_rule, periodic_event, run_handler
from tests.hostile_values import candidates, constraints, string_members
from transcribe_guard.simulator import faults

RULE_NAMES = sorted(RULES)
TOTALS = {"runs": 0, "members": 0, "lost": 0, "scans": 0}


@dataclass(frozen=True)
class Member:
    service: str
    operation: str
    path: str
    shape: Any
    value: str  # its value in the clean run's first response that has it
    identifier: bool


@dataclass
class Setting:
    member: Member
    label: str
    value: str


def members_of(plan: matrix.Plan) -> list[Member]:
    """Every string member of the clean run's responses, first occurrence per operation and path."""
    identifiers = {v for call in plan.calls for v in matrix.request_values(call)} | set(plan.clean)
    found: dict[tuple[str, str, str], Member] = {}
    for call in plan.calls:
        if call.response is None:
            continue
        for path, shape, value in string_members(call.output_shape, call.response):
            key = (call.service, call.operation, path)
            if key not in found and path.split(".")[-1].rstrip("[]") not in matrix.PAGINATION:
                found[key] = Member(call.service, call.operation, path, shape, value, value in identifiers)
    return list(found.values())


def groups_of(members: list[Member]) -> Iterator[tuple[str, list[Setting]]]:
    """(label, settings): per operation, one group per value class; its enum members take their
    first other value together, then their last (a group that fails is split to name the member)."""
    by_operation: dict[tuple[str, str], list[Member]] = {}
    for member in members:
        by_operation.setdefault((member.service, member.operation), []).append(member)
    for (service, operation), found in by_operation.items():
        for identifiers in (False, True):
            chosen = [m for m in found if m.identifier == identifiers and not m.shape.enum]
            for label in ("unsafe", "long", "syntax"):
                settings_ = [Setting(m, label, v) for m in chosen for lab, v in candidates(m.shape, m.value).items()
                             if lab == label]
                if settings_:
                    kind = "identifiers" if identifiers else "members"
                    yield f"{service}:{operation} {kind} {label}", settings_
        enums = [(m, list(candidates(m.shape, m.value).values())) for m in found if m.shape.enum]
        for end, pick in (("first", 0), ("last", -1)):
            settings_ = [Setting(m, "enum", others[pick]) for m, others in enums if others]
            if settings_:
                yield f"{service}:{operation} enums, each its {end} other value", settings_


# --- one run ------------------------------------------------------------------------------------

class Account:
    """One demo account per rule, reused by its runs: each run starts from no checkpoint, so every
    run of a rule is a full run like the clean one."""

    def __init__(self, sim: Any, rule: str):
        self.sim, self.rule = sim, rule
        deploy_rule(sim, rule)

    def run(self, plan: matrix.Plan, settings_: list[Setting]) -> tuple[dict[str, matrix.Result],
                                                                         list[tuple[Setting, list[Any]]]]:
        ssm = self.sim.client("ssm")
        names = [p["Name"] for page in ssm.get_paginator("get_parameters_by_path").paginate(
            Path="/transcribe-guard/checkpoints", Recursive=True) for p in page["Parameters"]]
        for start in range(0, len(names), 10):
            ssm.delete_parameters(Names=names[start:start + 10])
        injected = [(setting, faults.inject(faults.HOSTILE_VALUE, setting.member.operation,
                                            service=setting.member.service, field=setting.member.path,
                                            value=setting.value, times=1)) for setting in settings_]
        try:
            response, posted = run_handler(lambda_handler(self.rule), periodic_event(self.rule, plan.parameters))
        finally:
            faults.clear()
        TOTALS["runs"] += 1
        for evaluation in posted:
            assert len(evaluation["ComplianceResourceId"]) <= 768, evaluation["ComplianceResourceId"][:80]
            annotation = evaluation.get("Annotation", "")
            assert len(annotation) <= 256 and not UNSAFE_CHARACTERS.search(annotation), annotation
        return (matrix.by_id(matrix.own_results(response, posted)),
                [(setting, fault.struck) for setting, fault in injected])


GENERIC = {ACCOUNT, "us-east-1", "aws", "123456789012"}


def _container(record: Any) -> bool:
    """A record holding several resources (a List page): not one resource's record."""
    return any(isinstance(v, list) and sum(isinstance(i, dict) for i in v) > 1 for v in record.values())


def _related(a: str, b: str) -> bool:
    return len(a) >= 3 and len(b) >= 3 and (a in b or b in a)


def named_by(struck: list[tuple[Setting, list[Any]]], plan: matrix.Plan) -> set[str]:
    """The clean results the altered responses may legitimately change: those tied, through at
    most two records of the clean run, to a value that was replaced or to a request whose
    response was altered (a bucket's encryption decides its jobs' verdicts), and the account's
    own result. Everything else must come out as in the clean run."""
    seeds = {s.member.value for s, _ in struck}
    seeds |= {v for _, params in struck for p in params for key, item in p.items()
              if key not in matrix.PAGINATION for v in matrix.strings(item)}
    seeds -= GENERIC
    # A record: one resource's dict in a response, with the request that read it (ListAttached-
    # RolePolicies ties its policy ARNs to the role name it was asked about).
    records = [(set(matrix.strings(record)) | set(matrix.request_values(call))) - GENERIC for call in plan.calls
               for record in [d for d in matrix.dicts(call.response) if not _container(d)] or [{}]]
    texts = set(seeds)
    for _ in range(2):
        texts |= {v for record in records if any(_related(t, r) for t in texts for r in record) for v in record}
    return {i for i in plan.clean if i == ACCOUNT or any(_related(i, t) for t in texts)}


def check(plan: matrix.Plan, account: Account, settings_: list[Setting]) -> list[str]:
    """What the run got wrong: clean results lost or changed that the altered responses do not name."""
    results, struck = account.run(plan, settings_)
    allowed = named_by(struck, plan)
    wrong = []
    for resource_id, clean in plan.clean.items():
        if resource_id in allowed:
            continue
        now = results.get(resource_id)
        if now is None or now.compliance != clean.compliance:
            wrong.append(f"{resource_id}: {clean.compliance} -> {now.compliance if now else 'no evaluation'}")
    TOTALS["lost"] += sum(1 for w in wrong if w.endswith("no evaluation"))
    return wrong


def culprits(plan: matrix.Plan, account: Account, settings_: list[Setting]) -> str:
    found = []
    for setting in settings_:
        try:
            problems = check(plan, account, [setting])
        except AssertionError as error:
            problems = [str(error).splitlines()[0]]
        if problems:
            found.append(f"{setting.member.operation}:{setting.member.path}={setting.value[:60]!r}: {problems[:3]}")
    return "; ".join(found) or "only together"


# --- fixtures -----------------------------------------------------------------------------------

class HostileSummary:
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if TOTALS["runs"]:
            terminalreporter.section("hostile values (botocore shapes)")
            terminalreporter.write_line(
                f"{TOTALS['members']} response members of {len(RULE_NAMES)} rules, {TOTALS['runs']} handler runs, "
                f"{TOTALS['scans']} scans; evaluations lost: {TOTALS['lost']}")


@pytest.fixture(scope="module")
def simulation(request: pytest.FixtureRequest) -> Iterator[Any]:
    with simulation_with_summary(request, "transcribe-guard-hostile-values", HostileSummary()) as backoff:
        yield backoff


@pytest.fixture
def plan_for(simulation: Any) -> Callable[[str], matrix.Plan]:
    """The fault matrix's clean plans, shared: each rule's clean run is made once per test run."""
    def get(rule: str) -> matrix.Plan:
        if rule not in matrix._PLANS:
            matrix._PLANS[rule] = matrix.clean_plan(rule)
        return matrix._PLANS[rule]
    return get


# --- the tests ----------------------------------------------------------------------------------

def check_hostile_values(plan: matrix.Plan, sim: Any, cell: dict[str, str]) -> None:
    """The fault matrix's hostile-value column (tests/test_fault_matrix.py): every group of the
    rule's members, in the case's fresh demo account."""
    members = members_of(plan)
    assert members, f"{plan.rule} reads no string member"
    TOTALS["members"] += len(members)
    runs, lost = TOTALS["runs"], TOTALS["lost"]
    failures = []
    account = Account(sim, plan.rule)
    for label, settings_ in groups_of(members):
        try:
            problems = check(plan, account, settings_)
        except AssertionError as error:
            problems = [str(error).splitlines()[0]]
        if problems:
            failures.append(f"{label}: {problems[:3]} (members: {culprits(plan, account, settings_)})")
    matrix.TOTALS["hostile_runs"] += TOTALS["runs"] - runs
    matrix.TOTALS["lost"] += TOTALS["lost"] - lost
    assert not failures, f"{plan.rule}:\n" + "\n".join(failures)
    cell["text"] = f"{len(members)}/{TOTALS['runs'] - runs}"


def _drawn_values(member: Member) -> st.SearchStrategy[str]:
    c = constraints(member.shape)
    if c.enum:
        return st.sampled_from(c.enum)
    if c.pattern is None:
        return st.text(min_size=max(c.min, 1), max_size=min(c.max, 300))
    return st.from_regex(c.pattern, fullmatch=True).filter(c.allows)


@pytest.mark.parametrize("rule", RULE_NAMES)
def test_values_drawn_from_each_pattern(rule: str, plan_for: Callable[[str], matrix.Plan]) -> None:
    """Values hypothesis draws from the patterns themselves (fixed seed: the transcribe-guard
    profile), one member at a time."""
    plan = plan_for(rule)
    members = [m for m in members_of(plan) if not m.shape.enum]
    with demo_account() as sim:
        account = Account(sim, rule)

        @settings(max_examples=6, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                         HealthCheck.function_scoped_fixture])
        @given(data=st.data())
        def property_(data: st.DataObject) -> None:
            member = data.draw(st.sampled_from(members), label="member")
            value = data.draw(_drawn_values(member), label="value")
            setting = Setting(member, "drawn", value)
            assert not check(plan, account, [setting]), f"{member.operation}:{member.path}={value!r}"

        property_()


# --- scan in every format -----------------------------------------------------------------------

def _every_member(label: str) -> list[Setting]:
    """The class ``label`` in every non-identifier string member of every rule's responses."""
    chosen: dict[tuple[str, str, str], Setting] = {}
    for plan in matrix._PLANS.values():
        for member in members_of(plan):
            if member.identifier or member.shape.enum:
                continue
            value = candidates(member.shape, member.value).get(label)
            if value is not None:
                chosen.setdefault((member.service, member.operation, member.path), Setting(member, label, value))
    return list(chosen.values())


@pytest.mark.parametrize("label,fmt", [("unsafe", "table"), ("syntax", "csv"), ("long", "json"), ("unsafe", "asff"),
                                       ("long", "ocsf")])
def test_scan_survives_hostile_values(label: str, fmt: str, plan_for: Callable[[str], matrix.Plan]) -> None:
    """`transcribe-guard scan --demo` with the class ``label`` set in the first response of every
    operation of every rule at once: it exits 0 or 3 (never 1 with a traceback), the output
    parses, no cell carries a raw control, bidi or zero-width character, and every rule still
    reports."""
    from moto.moto_api._internal import mock_random

    from transcribe_guard import cli
    from tests.fault_support import MOTO_SEED

    for rule in RULE_NAMES:
        plan_for(rule)
    settings_ = _every_member(label)
    assert settings_
    out, err = io.StringIO(), io.StringIO()
    mock_random.seed(MOTO_SEED)
    for setting in settings_:
        m = setting.member
        # Every response of the operation: a scan shares reads across rules, so "first" would
        # hit only one rule's view.
        faults.inject(faults.HOSTILE_VALUE, m.operation, service=m.service, field=m.path, value=setting.value)
    try:
        code = cli.main(["scan", "--demo", "--format", fmt, "--quiet"], out=out, err=err)
    finally:
        faults.clear()
    TOTALS["scans"] += 1
    assert code in (0, 3, 4), err.getvalue()[-2000:]
    text = out.getvalue()
    assert not UNSAFE_CHARACTERS.search(text.replace("\n", "").replace("\r", "")), \
        UNSAFE_CHARACTERS.search(text.replace("\n", ""))
    if fmt == "json":
        rows = json.loads(text)["evaluations"]
    elif fmt == "asff":  # every finding valid against botocore's AwsSecurityFinding, whatever the account named
        from transcribe_guard.formats import asff
        findings = json.loads(text)
        assert [problem for f in findings for problem in asff.problems(f)] == []
        rows = [{"rule": f["ProductFields"]["transcribe-guard/rule"]} for f in findings]
    elif fmt == "ocsf":  # every event valid against the OCSF models
        from transcribe_guard.formats import ocsf
        rows = [{"rule": ocsf.CloudComplianceFinding.model_validate(e).metadata.event_code} for e in json.loads(text)]
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
    else:
        rows = [{"rule": line.split()[1]} for line in text.splitlines()[1:] if line.split()[:1] and
                line.split()[0] in ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE", "ERROR", "MUTED")]
    assert {row["rule"] for row in rows} == set(RULE_NAMES)
