"""Fault matrix: every rule in rules.catalog.registry.RULES × every fault kind of
transcribe_guard.simulator.faults, on the demo account, through each rule's Lambda handler with a
real ScheduledNotification event. New rules are covered as soon as they are in RULES.

Per rule, one clean run (shared by all its cases) records the evaluations and every call the rule
makes: operation, request parameters and parsed response. From those the plan picks what to hit:

- the resource target: the per-resource read covering the most evaluated resources, at the
  resource whose request value names it alone (a job name, role name, user name, VPC id, policy
  ARN; names are tied to evaluation ids directly or through a response record carrying both),
  preferring a COMPLIANT resource, so failing closed is visible; a rule that reports only the
  account targets its first call that names something;
- the listing target: the first call of the run (a List, or an account-level read);
- for deletion, a resource a List response names and a later call of the same service reads;
- for missing fields, every optional member (by botocore's output shape) of every response, except
  pagination and identifiers (values sent in a request, or naming an evaluated resource).

Each case (rule × column) gets a fresh demo account (moto's id generator seeded, so ids match the
clean run) whose Config already holds the clean run's results, as after an earlier run; the runs of
one case share it. Columns and what is asserted:

- throttling, server-error, timeout: first transient (throttling ×2, HTTP 500 ×1, connect timeout
  ×1; the SDK retries: the fault struck as often as asked and the evaluations equal the clean run's),
  then persistent (throttling, HTTP 503, read timeout) on the resource target: that resource, and
  only it, becomes NON_COMPLIANT "Could not evaluate: <code>", every other result is unchanged;
- access-denied: persistent on the resource target, as above (the SDK does not retry it);
- listing-throttled: persistent on the listing target: an account-level "Could not evaluate:
  <code>"; what was not evaluated keeps its earlier result;
- deleted-after-list: the resource is deleted right after the List call that named it: at most one
  evaluation for it (exactly one when the rule reports it; NOT_APPLICABLE "deleted during
  evaluation" for Transcribe resources), every other resource still evaluated;
- missing-field: each operation's optional members dropped (then all at once): a NON_COMPLIANT
  result never turns COMPLIANT; softened results (NON_COMPLIANT to NOT_APPLICABLE or to none) and
  runs ended fail-closed are listed under the table.

- hostile-value: every string member of every response the rule reads, set to values derived
  from its botocore shape (tests/test_hostile_values.py, which explains the values and the
  checks): no raise, only results Config accepts, nothing the altered response does not name
  lost or changed.

Everywhere: the handler returns evaluations (never raises or returns an error response), no resource
gets two, and no earlier result is lost (a resource the run no longer reports keeps its stored
verdict only when the rule said its run was incomplete). The rules × faults table, with the count
of lost results, is printed at the end of the test run (pytest's terminal summary).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

import pytest
from botocore import xform_name

from rules.engine.incremental import RETIRED
from rules.catalog.registry import RULES
from tests.fault_support import CallLog, RecordedCall, demo_account, lambda_handler, simulation_with_summary
from tests.helpers import ACCOUNT, deploy_rule, periodic_event, run_handler, stored_verdicts
from transcribe_guard.scan_parameters import DEMO_PARAMETERS
from transcribe_guard.simulator import faults
from transcribe_guard.simulator.config import result_token

RULE_NAMES = sorted(RULES)
PAGINATION = {"NextToken", "nextToken", "Marker", "NextMarker", "IsTruncated", "MaxResults", "MaxItems", "Limit",
              "PaginationToken", "MaxRecords"}
# rdklib's own calls around the rule: reading stored results and putting new ones.
# Run plumbing, not evaluation reads; the incremental runs' own failures (checkpoint, event
# history) are tested in tests/test_incremental.py.
PLUMBING = {("config", "GetComplianceDetailsByConfigRule"), ("config", "PutEvaluations"),
            ("ssm", "GetParameter"), ("ssm", "PutParameter"), ("cloudtrail", "LookupEvents")}
CNE = "Could not evaluate:"
RETIREMENTS = RETIRED


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # the persistent fault
    transient: tuple[str, int] | None = None  # first run: this kind failing the first N attempts
    target: str = "resource"  # "resource", "listing", "deleted", "fields"


COLUMNS = (
    Column("throttling", faults.THROTTLING, transient=(faults.THROTTLING, 2)),
    Column("server-error", faults.SERVICE_UNAVAILABLE, transient=(faults.INTERNAL_ERROR, 1)),
    Column("timeout", faults.READ_TIMEOUT, transient=(faults.CONNECT_TIMEOUT, 1)),
    Column("access-denied", faults.ACCESS_DENIED),
    Column("listing-throttled", faults.THROTTLING, target="listing"),
    Column("deleted-after-list", faults.DELETED_AFTER_LIST, target="deleted"),
    Column("missing-field", faults.MISSING_FIELD, target="fields"),
    Column("hostile-value", faults.HOSTILE_VALUE, target="hostile"),
)
COLUMNS_BY_NAME = {column.name: column for column in COLUMNS}


# --- evaluations ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Result:
    resource_type: str
    resource_id: str
    compliance: str
    annotation: str


def own_results(response: Any, posted: list[dict[str, Any]]) -> list[Result]:
    """The rule's evaluations as it posted them. rdklib adds an unannotated NOT_APPLICABLE for
    each stored result the run did not report again; every rule annotates its own, and the
    per-resource rules' retirements say why ("... deleted", "... expired", "Not found ...")."""
    assert isinstance(response, list), f"the handler answered with an error: {response!r}"
    return [Result(e["ComplianceResourceType"], e["ComplianceResourceId"], e["ComplianceType"], e["Annotation"])
            for e in posted if e.get("Annotation") and not e["Annotation"].startswith(RETIREMENTS)]


def by_id(results: list[Result]) -> dict[str, Result]:
    duplicated = [key for key, count in Counter((r.resource_type, r.resource_id) for r in results).items() if count > 1]
    assert not duplicated, f"resources evaluated more than once: {duplicated}"
    return {r.resource_id: r for r in results}


def could_not_evaluate(result: Result, code: str) -> bool:
    return result.compliance == "NON_COMPLIANT" and result.annotation.startswith(CNE) and code in result.annotation


# --- the plan: what a rule reads on a clean run --------------------------------------------------

@dataclass(frozen=True)
class Target:
    service: str
    operation: str
    value: str | None  # the request parameter value matched (None: every call of the operation)
    affected: str  # the evaluation id expected to change


@dataclass
class Plan:
    rule: str
    parameters: dict[str, str]
    clean: dict[str, Result]
    calls: list[RecordedCall]
    resource: Target | None = None
    listing: Target | None = None
    deleted: tuple[str, str, str, dict[str, Any]] | None = None  # (service, List operation, name, List params)
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (service, operation, path)


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from strings(item)


def request_values(call: RecordedCall) -> list[str]:
    return [v for key, item in call.params.items() if key not in PAGINATION for v in strings(item)]


def dicts(value: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(value, Mapping):
        yield value
        for item in value.values():
            yield from dicts(item)
    elif isinstance(value, list):
        for item in value:
            yield from dicts(item)


class Resolver:
    """Ties request values (names, ARNs) to evaluated resource ids: directly (the id, or an ARN
    ending in /name), or through a response record that carries both (ListUsers: UserName and
    UserId; GetRole: RoleName and RoleId)."""

    def __init__(self, ids: set[str], calls: list[RecordedCall]):
        self.ids = ids
        self.records: dict[str, set[str]] = {}
        for call in calls:
            for record in dicts(call.response):
                values = [v for v in record.values() if isinstance(v, str)]
                for resource_id in ids & set(values):
                    for value in values:
                        if value != resource_id:
                            self.records.setdefault(value, set()).add(resource_id)

    def direct(self, value: str) -> str | None:
        found = {i for i in self.ids if i == value or i.endswith("/" + value)}
        return next(iter(found)) if len(found) == 1 else None

    def __call__(self, value: str) -> str | None:
        found = self.direct(value)
        if found:
            return found
        linked = self.records.get(value, set())
        return next(iter(linked)) if len(linked) == 1 else None


PREFERENCE = {"COMPLIANT": 0, "NON_COMPLIANT": 1, "NOT_APPLICABLE": 2}


def make_plan(rule: str, parameters: dict[str, str], clean: dict[str, Result], calls: list[RecordedCall]) -> Plan:
    plan = Plan(rule, parameters, clean, calls)
    resolve = Resolver(set(clean), calls)
    # The listing target: the rule's first call of its own; pacing's Service Quotas read comes
    # first in a process but only picks the rates (its failure keeps the documented quotas).
    own = [call for call in calls if call.operation != "ListServiceQuotas"]
    if own:
        first = own[0]
        account_level = [i for i in clean if i == ACCOUNT]
        plan.listing = Target(first.service, first.operation, None, account_level[0] if account_level else ACCOUNT)

    # Resource target: the per-resource read covering the most resources, then a COMPLIANT one.
    # The value matched is one that names only this resource in every call of the operation.
    candidates: dict[tuple[str, str], list[tuple[RecordedCall, str, str]]] = {}
    for call in calls:
        resolved = {value: resolve(value) for value in request_values(call)}
        ids = {i for i in resolved.values() if i}
        if len(ids) != 1:
            continue
        affected = ids.pop()
        siblings = [c for c in calls if (c.service, c.operation) == (call.service, call.operation)]
        unique = [v for v, i in resolved.items()
                  if i and all(v not in request_values(c) for c in siblings
                               if {resolve(w) for w in request_values(c)} - {None} != {affected})]
        if unique:
            value = min(unique, key=lambda v: (resolve.direct(v) is None, v))
            candidates.setdefault((call.service, call.operation), []).append((call, value, affected))
    if candidates:
        best = max(candidates.values(), key=lambda hits: len({i for _, _, i in hits}))
        call, value, affected = min(best, key=lambda hit: PREFERENCE.get(clean[hit[2]].compliance, 3))
        plan.resource = Target(call.service, call.operation, value, affected)
    elif len(clean) == 1:  # the rule reports one thing (the account): its first call naming something
        named = [call for call in calls if request_values(call)] or calls[:1]
        if named:
            plan.resource = Target(named[0].service, named[0].operation, request_values(named[0])[0]
                                   if request_values(named[0]) else None, next(iter(clean)))

    # Deletion: a resource named by a List response and read afterwards.
    best_deleted: tuple[int, int, tuple[str, str, str, dict[str, Any]]] | None = None
    for index, call in enumerate(calls):
        if call.response is None or not faults.can_delete(call.service, call.operation):
            continue
        listed = [v for v in dict.fromkeys(strings(call.response)) if v]
        for name in listed:
            later = [c for c in calls[index + 1:] if c.service == call.service and name in request_values(c)]
            if not later:
                continue
            resource_id = resolve(name)
            rank = PREFERENCE.get(clean[resource_id].compliance, 3) if resource_id else 4
            if best_deleted is None or (rank, index) < best_deleted[:2]:
                best_deleted = (rank, index, (call.service, call.operation, name, call.params))
    plan.deleted = best_deleted[2] if best_deleted else None

    # Missing fields: optional, non-identifier, non-pagination members of every response.
    identifiers = {v for call in calls for v in request_values(call)} | set(clean)
    identifiers |= {v for call in calls for v in strings(call.response) if resolve(v)}
    seen: set[tuple[str, str, str]] = set()
    for call in calls:
        if call.response is None or (call.service, call.operation) in PLUMBING:
            continue
        for path in optional_paths(call.output_shape, call.response, identifiers):
            key = (call.service, call.operation, path)
            if key not in seen:
                seen.add(key)
                plan.fields.append(key)
    return plan


def optional_paths(shape: Any, value: Any, identifiers: set[str], prefix: str = "") -> Iterator[str]:
    """Paths ("A.B[].C") of the members present in ``value`` that ``shape`` does not require."""
    if shape is None:
        return
    if shape.type_name == "list" and isinstance(value, list):
        for item in value:
            yield from optional_paths(shape.member, item, identifiers, prefix + "[]")
        return
    if shape.type_name != "structure" or not isinstance(value, Mapping):
        return
    required = set(shape.required_members)
    for name, member in shape.members.items():
        if name not in value or name in PAGINATION:
            continue
        path = f"{prefix}.{name}" if prefix else name
        if name not in required and not (set(strings(value[name])) & identifiers):
            yield path
        yield from optional_paths(member, value[name], identifiers, path)


def clean_plan(rule: str) -> Plan:
    parameters = dict(DEMO_PARAMETERS.get(rule, {}))
    with demo_account() as sim:
        deploy_rule(sim, rule)
        log = CallLog()
        with log.recording():
            response, posted = run_handler(lambda_handler(rule), periodic_event(rule, parameters))
    calls = [c for c in log.calls if (c.service, c.operation) not in PLUMBING]
    clean = by_id(own_results(response, posted))
    # Deduplicate missing-field paths across identical calls while keeping order.
    return make_plan(rule, parameters, clean, calls)


# --- running a case -----------------------------------------------------------------------------

@dataclass
class Run:
    results: dict[str, Result]
    stored: dict[str, str]
    lost: list[str]  # clean results neither reported again nor kept in Config


def preload(sim: Any, rule: str, clean: dict[str, Result]) -> None:
    """Config holds the clean results, as after an earlier run."""
    evaluations = [{"ComplianceResourceType": r.resource_type, "ComplianceResourceId": r.resource_id,
                    "ComplianceType": r.compliance, "Annotation": r.annotation,
                    "OrderingTimestamp": "2026-01-01T00:00:00Z"} for r in clean.values()]
    config = sim.client("config")
    for start in range(0, len(evaluations), 100):
        config.put_evaluations(Evaluations=evaluations[start:start + 100], ResultToken=result_token(rule))


def run_faulted(plan: Plan, account: Any, inject: Callable[[], Any], store: bool = True) -> Run:
    """One handler run in ``account`` under the faults ``inject`` registers. With ``store``,
    Config first holds the clean results, and what the run lost is worked out from what it holds
    afterwards."""
    deploy_rule(account, plan.rule)
    if store:
        preload(account, plan.rule, plan.clean)
    inject()
    try:
        response, posted = run_handler(lambda_handler(plan.rule), periodic_event(plan.rule, plan.parameters))
    finally:
        faults.clear()
    results = by_id(own_results(response, posted))
    if not store:
        return Run(results, {}, [])
    stored = stored_verdicts(account, plan.rule)
    # A result not reported again survives only if the rule said its run was incomplete (rdklib
    # otherwise stores NOT_APPLICABLE for it).
    lost = [i for i, r in plan.clean.items() if i not in results and stored.get(i) != r.compliance]
    TOTALS["runs"] += 1
    TOTALS["lost_known" if KNOWN_DEFECT_CASE else "lost"] += len(lost)
    return Run(results, stored, lost)


def fault_code(kind: str, service: str) -> str:
    if kind == faults.READ_TIMEOUT:
        return "ReadTimeoutError"
    if kind == faults.CONNECT_TIMEOUT:
        return "ConnectTimeoutError"
    import botocore.session
    return faults.error_for(kind, botocore.session.get_session().get_service_model(service))[0]


# --- fixtures and the summary table ------------------------------------------------------------

CELLS: dict[tuple[str, str], str] = {}
SOFTENED: dict[str, list[str]] = {}
TOTALS = {"runs": 0, "lost": 0, "lost_known": 0, "field_runs": 0, "hostile_runs": 0}  # runs checked for lost results; results lost
KNOWN_DEFECT_CASE = False  # set while a case listed in KNOWN_DEFECTS runs


class MatrixSummary:
    """Prints the rules × faults table in pytest's terminal summary."""

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not CELLS:
            return
        columns = [c.name for c in COLUMNS]
        width = max(len(r) for r in RULE_NAMES)
        cells = {key: value for key, value in CELLS.items()}
        col_width = {c: max(len(c), *(len(cells.get((r, c), "-")) for r in RULE_NAMES)) for c in columns}
        terminalreporter.section("fault matrix: rules x faults (demo account)")
        terminalreporter.write_line(" ".join(["rule".ljust(width)] + [c.ljust(col_width[c]) for c in columns]))
        for rule in RULE_NAMES:
            terminalreporter.write_line(" ".join([rule.ljust(width)] + [cells.get((rule, c), "-").ljust(col_width[c])
                                                                      for c in columns]))
        for line in (
                "ok: retried to the clean result (transient), one resource 'Could not evaluate: <code>' (persistent)",
                "acct[+k]: account-level 'Could not evaluate: <code>', k results kept from before the failed call",
                "N/A, CNE, NC[+k]: verdict of the resource deleted after List (unrep: the rule does not report it); "
                "k other verdicts changed by the deletion",
                "f/s[/a]: f optional response members dropped; s NON_COMPLIANT results softened, none turned COMPLIANT; "
                "a runs ended fail-closed (notes below)",
                "m/r: hostile values (tests/test_hostile_values.py) in m response members over r runs, nothing lost",
                "n/a: nothing to target; xfail: known defect (see KNOWN_DEFECTS); FAIL: see the failure above"):
            terminalreporter.write_line(line)
        known = f" ({TOTALS['lost_known']} more in known-defect cases)" if TOTALS["lost_known"] else ""
        terminalreporter.write_line(f"{TOTALS['runs']} fault runs checked against Config's stored results "
                                    f"(+{TOTALS['field_runs']} missing-field runs, +{TOTALS['hostile_runs']} "
                                    f"hostile-value runs), evaluations lost: {TOTALS['lost']}{known}")
        for rule, notes in sorted(SOFTENED.items()):
            for note in notes:
                terminalreporter.write_line(f"missing-field: {rule}: {note}")


@pytest.fixture(scope="module")
def simulation(request: pytest.FixtureRequest) -> Iterator[Any]:
    with simulation_with_summary(request, "transcribe-guard-fault-matrix", MatrixSummary()) as backoff:
        yield backoff


_PLANS: dict[str, Plan] = {}


@pytest.fixture
def plan_for(simulation: Any) -> Callable[[str], Plan]:
    def get(rule: str) -> Plan:
        if rule not in _PLANS:
            _PLANS[rule] = clean_plan(rule)
        return _PLANS[rule]
    return get


@pytest.fixture
def cell(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """The test's cell in the summary table; FAIL unless the test sets it."""
    holder = {"text": "FAIL"}
    yield holder
    rule, column = request.node.callspec.params["rule"], request.node.callspec.params["column"]
    CELLS[(rule, column)] = holder["text"]


# --- the matrix ---------------------------------------------------------------------------------

KNOWN_DEFECTS: dict[tuple[str, str], str] = {
    # (rule, operation of its resource target): why the case fails today. strict: once fixed, the
    # case passes, xfail turns into a failure, and the entry must go.
}


@pytest.mark.parametrize("column", [c.name for c in COLUMNS])
@pytest.mark.parametrize("rule", RULE_NAMES)
def test_fault(rule: str, column: str, plan_for: Callable[[str], Plan], simulation: Any,
               cell: dict[str, str], request: pytest.FixtureRequest) -> None:
    plan = plan_for(rule)
    spec = COLUMNS_BY_NAME[column]
    assert plan.clean, f"{rule} reports nothing on the demo account: nothing to break"
    global KNOWN_DEFECT_CASE
    KNOWN_DEFECT_CASE = spec.target == "resource" and plan.resource is not None and \
        (rule, plan.resource.operation) in KNOWN_DEFECTS
    if KNOWN_DEFECT_CASE:
        assert plan.resource is not None
        cell["text"] = "xfail"
        request.node.add_marker(pytest.mark.xfail(reason=KNOWN_DEFECTS[(rule, plan.resource.operation)], strict=True))
    with demo_account() as account:
        if spec.target == "resource":
            check_resource_fault(plan, spec, account, cell, simulation)
        elif spec.target == "listing":
            check_listing_fault(plan, spec, account, cell)
        elif spec.target == "deleted":
            check_deleted(plan, account, cell)
        elif spec.target == "hostile":
            from tests.test_hostile_values import check_hostile_values
            check_hostile_values(plan, account, cell)
        else:
            check_missing_fields(plan, account, cell)


def check_resource_fault(plan: Plan, spec: Column, account: Any, cell: dict[str, str], backoff: Any) -> None:
    target = plan.resource
    assert target is not None, f"no call of {plan.rule} names a resource it reports"
    if spec.transient:
        kind, times = spec.transient
        delays = len(backoff.delays)
        struck: list[faults.Fault] = []
        run = run_faulted(plan, account, lambda: struck.append(faults.inject(
            kind, target.operation, service=target.service, resource=target.value, times=times)))
        assert struck[0].hits == times, "the fault did not strike the call the rule makes"
        assert len(backoff.delays) - delays >= times, "the SDK did not retry"
        assert run.results == plan.clean, "a retried fault changed the evaluations"
        assert run.lost == []
    run = run_faulted(plan, account, lambda: faults.inject(spec.kind, target.operation, service=target.service,
                                                          resource=target.value))
    dropped = sorted(set(plan.clean) - set(run.results))
    assert not dropped, f"not evaluated: {dropped}"
    changed = {i: r for i, r in run.results.items() if plan.clean.get(i) != r}
    assert set(changed) == {target.affected}, f"changed {sorted(changed)}, expected [{target.affected}]"
    code = fault_code(spec.kind, target.service)
    for result in changed.values():
        assert could_not_evaluate(result, code), result
    assert run.lost == [], f"results lost: {run.lost}"
    if cell["text"] != "xfail":
        cell["text"] = "ok"


def check_listing_fault(plan: Plan, spec: Column, account: Any, cell: dict[str, str]) -> None:
    target = plan.listing
    assert target is not None
    run = run_faulted(plan, account, lambda: faults.inject(spec.kind, target.operation, service=target.service))
    code = fault_code(spec.kind, target.service)
    changed = {i: r for i, r in run.results.items() if plan.clean.get(i) != r}
    assert target.affected in changed, f"no account-level result after {target.operation} failed: {run.results}"
    for result in changed.values():
        assert could_not_evaluate(result, code), result
    assert run.lost == [], f"results lost: {run.lost}"
    kept = len(run.results) - len(changed)
    cell["text"] = "acct" + (f"+{kept}" if kept else "")


# Account-level rules that read one account-wide setting and list nothing they then read one by one:
# there is nothing to delete between a List and a Get. The check asserts this instead of skipping,
# so a rule that starts reading listed resources (or a new rule without a target) is noticed.
NOTHING_LISTED_THEN_READ = {"transcribe-ai-opt-out", "transcribe-config-recording"}


def check_deleted(plan: Plan, account: Any, cell: dict[str, str]) -> None:
    if plan.deleted is None:
        assert plan.rule in NOTHING_LISTED_THEN_READ, (
            f"{plan.rule} reads nothing it listed with a List call the simulator can delete from; if that is "
            "right, add it to NOTHING_LISTED_THEN_READ")
        cell["text"] = "n/a"
        return
    service, operation, name, list_params = plan.deleted
    struck: list[faults.Fault] = []
    run = run_faulted(plan, account, lambda: struck.append(faults.inject(
        faults.DELETED_AFTER_LIST, operation, service=service, resource=name)))
    assert struck[0].hits == 1, f"{operation} never listed {name}"
    listed_now = getattr(account.client(service), xform_name(operation))(**list_params)
    assert name not in set(strings(listed_now)), f"{name} was not deleted"
    resolved = Resolver(set(plan.clean), plan.calls)(name)
    about = [r for i, r in run.results.items() if i in (name, resolved) or i.endswith("/" + name)]
    assert len(about) <= 1, f"the deleted {name} has {len(about)} evaluations: {about}"
    if resolved in plan.clean:
        assert len(about) == 1, f"the deleted {name} has no evaluation: {sorted(run.results)}"
    if about and service == "transcribe":
        assert about[0].compliance == "NOT_APPLICABLE", about[0]
        assert "deleted during evaluation" in about[0].annotation.lower(), about[0]
    if about:
        assert about[0].compliance in ("NOT_APPLICABLE", "NON_COMPLIANT"), about[0]
    others = [i for i in plan.clean if not about or i != about[0].resource_id]
    dropped = [i for i in others if i not in run.results]
    assert not dropped, f"not evaluated after {name} was deleted: {dropped}"
    assert run.lost == []
    changed = [i for i in others if run.results[i].compliance != plan.clean[i].compliance]
    verdict = "unrep"
    if about:
        verdict = {"NOT_APPLICABLE": "N/A"}.get(about[0].compliance, "CNE" if about[0].annotation.startswith(CNE) else "NC")
    cell["text"] = verdict + (f"+{len(changed)}" if changed else "")


def check_missing_fields(plan: Plan, account: Any, cell: dict[str, str]) -> None:
    """Each operation's optional members dropped together (then all at once); a group that turns
    NON_COMPLIANT into COMPLIANT is split to name the member responsible. A run the rule ends
    early, fail-closed (an account-level "Could not evaluate", earlier results kept), is noted."""
    assert plan.fields, f"{plan.rule} reads no optional response member: give it one to test or explain why not"

    def outcome(paths: list[tuple[str, str, str]]) -> tuple[list[str], list[str], str | None]:
        run = run_faulted(plan, account, lambda: [faults.inject(faults.MISSING_FIELD, operation, service=service,
                                                                field=member) for service, operation, member in paths],
                          store=False)
        TOTALS["field_runs"] += 1
        account_result = run.results.get(ACCOUNT)
        aborted = (account_result.annotation if account_result and could_not_evaluate(account_result, "")
                   and account_result != plan.clean.get(ACCOUNT) else None)
        flipped, softened = [], []
        for resource_id, clean in plan.clean.items():
            now = run.results.get(resource_id)
            if clean.compliance != "NON_COMPLIANT":
                continue
            if now is not None and now.compliance == "COMPLIANT":
                flipped.append(resource_id)
            elif (now is None and not aborted) or (now is not None and now.compliance == "NOT_APPLICABLE"):
                softened.append(f"{resource_id} -> {now.compliance if now else 'no evaluation'}")
        return flipped, softened, aborted

    groups: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for path in plan.fields:
        groups.setdefault(path[:2], []).append(path)
    failures: list[str] = []
    notes: list[str] = []
    softened_ids: set[str] = set()
    aborted_runs = 0
    for group in [*groups.values(), plan.fields]:
        flipped, softened, aborted = outcome(group)
        what = f"{group[0][0]}:{group[0][1]}" if group is not plan.fields else "all operations"
        if group is plan.fields:  # only what no single operation already showed
            softened = [note for note in softened if note.split(" -> ")[0] not in softened_ids]
            aborted = aborted if aborted and not any(aborted in note for note in notes) else None
        notes += [f"without optional members of {what}: {note}" for note in softened]
        softened_ids |= {note.split(" -> ")[0] for note in softened}
        if aborted:
            aborted_runs += 1
            notes.append(f"without optional members of {what}: run ended fail-closed: {aborted}")
        if flipped:
            culprits = [f"{op}:{member}" for service, op, member in group if outcome([(service, op, member)])[0]]
            failures.append(f"{what} ({', '.join(culprits) or 'only together'}): {', '.join(flipped)}")
    if notes:
        SOFTENED[plan.rule] = notes
    assert not failures, "a missing optional field turned NON_COMPLIANT into COMPLIANT:\n" + "\n".join(failures)
    cell["text"] = f"{len(plan.fields)}/{len(softened_ids)}" + (f"/{aborted_runs}" if aborted_runs else "")


def test_plan_targets_what_each_rule_reads(plan_for: Callable[[str], Plan]) -> None:
    """Every rule has a resource and a listing target, both among the calls of its clean run."""
    for rule in RULE_NAMES:
        plan = plan_for(rule)
        made = {(c.service, c.operation) for c in plan.calls}
        for target in (plan.resource, plan.listing):
            assert target is not None and (target.service, target.operation) in made, (rule, target)
        print(rule, json.dumps({"resource": plan.resource and plan.resource.__dict__,
                                "listing": plan.listing and plan.listing.__dict__,
                                "deleted": plan.deleted, "fields": len(plan.fields)}))


def test_cli_scan_retries_like_the_rule_functions(plan_for: Callable[[str], Plan],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """`transcribe-guard scan` sets the functions' retry settings itself: with nothing in the
    environment, a call throttled four times still succeeds on its fifth attempt (botocore's
    default standard mode would give up after three)."""
    import io

    from moto.moto_api._internal import mock_random

    from transcribe_guard import cli
    from transcribe_guard.scan import SDK_RETRY_ENVIRONMENT
    from tests.fault_support import MOTO_SEED

    rule = "transcribe-job-output-location"
    target = plan_for(rule).resource
    assert target is not None
    for name in SDK_RETRY_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)

    def scan() -> tuple[int, Any]:
        out, err = io.StringIO(), io.StringIO()
        mock_random.seed(MOTO_SEED)
        code = cli.main(["scan", "--demo", "--rule", rule, "--format", "json", "--quiet"], out=out, err=err)
        # Each result's own time (evaluated_at) differs when the retries take the scan past a second.
        return code, [{k: v for k, v in row.items() if k != "evaluated_at"}
                      for row in json.loads(out.getvalue())["evaluations"]]

    clean = scan()
    fault = faults.inject(faults.THROTTLING, target.operation, service=target.service, resource=target.value, times=4)
    try:
        assert scan() == clean
    finally:
        faults.clear()
    assert fault.hits == 4
