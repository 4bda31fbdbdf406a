"""Rules with one verdict per Transcribe resource, and how their functions run at scale.

A contact center can keep 9 million job records in one Region (100,000 a day for 90 days).
Re-reading every job every day cannot finish in Lambda's 15 minutes at Transcribe's quotas and
posts millions of billed Config evaluations. Job records are immutable once a job finishes,
except for tags and deletion, so a function run judges only what can have changed since the
rule's last complete run (its watermark, kept in a checkpoint, see checkpoint.py):

- jobs created or finished since then (List returns jobs newest first: listing stops at the
  watermark, or at the oldest job that was still unfinished then);
- resources tagged, untagged or deleted since then (CloudTrail event history, LookupEvents;
  no trail is needed);
- job records past Transcribe's 90-day retention, whose stored results are turned
  NOT_APPLICABLE by an expiry sweep over the rule's stored results: every run in summary mode
  (it stores few results), on reconcile runs in resource mode (paging every stored result daily
  would cost one Config read per 100 jobs a day);
- vocabularies, filters, language models and categories: all of them, every run (there are few,
  and Update* changes them without a tag event).

Every ReconciliationDays (default 7) a reconcile run lists everything and compares it with the
results Config holds: a listed job without a result is judged, a result whose resource is no
longer listed is retired. That is the safety net for anything the incremental runs missed. A
first run, a parameter change or an unreadable checkpoint runs in full.

A run that reaches the Lambda deadline (less a margin) posts what it judged, records where it
stopped, and the next invocation resumes there. Evaluations are posted in batches of 100 as the
run goes and nothing per resource is kept after it is posted, so memory stays flat however many
jobs there are (a reconcile run holds the stored resource ids it must compare).

ReportingMode ``summary`` posts one account-level evaluation per run and NON_COMPLIANT resources
only (a resource that stops being non-compliant is retired), for accounts where one Config
evaluation per job costs too much.

``scan`` (and any caller of evaluate_periodic without the Lambda handler) gets every verdict, as
before: one full run, one shared inventory.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Iterable, Iterator, Mapping, Sequence

from botocore.exceptions import ClientError
from rdklib import ComplianceType, Evaluation

from rules.engine.base import (ACCOUNT_RESOURCE_TYPE, REPORTED_RESOURCE_TYPE_PARAMETER, RunContext, TranscribeGuardRule, account_id_of, annotation, config_safe,
                               event_time, fail_closed, inventory_for)
from rules.engine.checkpoint import Checkpoint, CheckpointStore, Position, parameter_name, parameters_digest
from rules.engine.pacing import ordered_map
from rules.inventory.cloudtrail import event_arn
from rules.inventory.ledger import LedgerInventory
from rules.inventory.transcribe import (FAILED, FINISHED_OK, KINDS_BY_KEY, ListingError, Resource, ResourceKind,
                                        error_code)

LOGGER = logging.getLogger("transcribe_guard.rules")

REPORTING_MODE_PARAMETER = {
    "type": "string",
    "enum": ["resource", "summary"],
    "default": "resource",
    "description": "resource: one evaluation per resource. summary: one account-level evaluation per run plus "
                   "NON_COMPLIANT resources only (fewer billed evaluations).",
}
RECONCILIATION_DAYS_PARAMETER = {
    "type": "string",
    "default": "7",
    "pattern": r"[1-9]|[1-8][0-9]|90",
    "x-pattern-hint": "a whole number of days from 1 to 90",
    "description": "Days between reconcile runs, which compare every listed resource with the stored results "
                   "(the safety net of the incremental runs).",
}

# The parameters every per-resource rule ends its schema with, in this order.
RESOURCE_RULE_PARAMETERS: dict[str, dict[str, Any]] = {
    "ReportingMode": REPORTING_MODE_PARAMETER,
    "ReconciliationDays": RECONCILIATION_DAYS_PARAMETER,
    "ReportedResourceType": REPORTED_RESOURCE_TYPE_PARAMETER,
}

# Transcribe deletes job records 90 days after they are created.
JOB_RECORD_RETENTION = dt.timedelta(days=90)
# Overlap between runs. A job created just before the last run may not have been listed yet
# (clocks differ a little, listings are eventually consistent): such jobs are judged again.
SKEW = dt.timedelta(minutes=5)
# CloudTrail delivers events to its event history up to about 15 minutes after the call.
EVENT_SKEW = dt.timedelta(minutes=20)
POST_BATCH = 100  # PutEvaluations takes at most 100
RETIRED = "Retired:"  # how every NOT_APPLICABLE posted for a result gone stale begins
TRANSCRIBE_SOURCE = "transcribe.amazonaws.com"
ALL, WINDOW, MISSING = "all", "window", "missing"  # why a resource is judged


def _epoch(value: Any) -> float | None:
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    return None


def created_at(resource: Resource) -> float | None:
    return _epoch(resource.summary.get("CreationTime"))


def changed_since(resource: Resource, start: float) -> bool:
    """Whether a job was created or finished at or after ``start`` (unknown times count as yes),
    or, read from the ledger, first recorded there complete at or after ``start``."""
    created, finished = created_at(resource), _epoch(resource.summary.get("CompletionTime"))
    return (created is None or created >= start or (finished is not None and finished >= start)
            or (resource.recorded is not None and resource.recorded >= start))


def not_yet_recorded_floor(inventory: Any, kinds: Sequence[ResourceKind], floor: float | None) -> float | None:
    """``floor`` (the oldest creation time the next run's listing must reach back to), lowered,
    when ``inventory`` is the ledger, to where the collector has recorded every finished job:
    a job created after that may be recorded after this run, complete though created long ago,
    and the next run must list back to it to judge it."""
    through = getattr(inventory, "recorded_through", None)
    if through is None:
        return floor
    for kind in kinds:
        if kind.is_job:
            found = through(kind)
            if found is not None:  # the collector's sweep re-lists SKEW before it too
                found -= SKEW.total_seconds()
                floor = found if floor is None else min(floor, found)
    return floor


def _unfinished(resource: Resource) -> bool:
    return resource.kind.is_job and resource.status not in (FINISHED_OK, FAILED)


class ResourceRule(TranscribeGuardRule):
    """A rule that judges each Transcribe resource on its own. Subclasses implement ``kinds``
    and ``judge``; the base lists, paces, posts, checkpoints and resumes."""

    # Whether a tag change can change a verdict (the rule then follows TagResource events).
    TAG_DEPENDENT: ClassVar[bool] = False
    POSTS_OWN_RESULTS = True

    def kinds(self, params: Mapping[str, Any]) -> Sequence[ResourceKind]:
        raise NotImplementedError

    def judge(self, ctx: RunContext, params: Mapping[str, Any]) -> Callable[[Resource], Evaluation]:
        """A function judging one listed resource (it may read details through ctx.inventory,
        from several threads at once)."""
        raise NotImplementedError

    def evaluate(self, ctx: RunContext, params: Mapping[str, Any]) -> Iterable[Evaluation]:
        judge = self.judge(ctx, params)
        # A scan's inventory (rules/inventory/local_ledger.py) says how many reads to keep in flight
        # to reach its paced rate at 40 ms a call; results come in listing order, nothing kept once
        # yielded. Others judge one at a time, as they always have.
        workers = getattr(ctx.inventory, "read_workers", 1)
        for kind in self.kinds(params):
            # Scenario 1: nothing listed, nothing yielded
            for _resource, evaluation in ordered_map(judge, ctx.inventory.resources(kind), workers=workers):
                yield evaluation

    def evaluate_periodic(self, event: Mapping[str, Any], client_factory: Any,
                          valid_rule_parameters: Mapping[str, Any]) -> list[Evaluation]:
        if not self.invoked_as_function:
            return super().evaluate_periodic(event, client_factory, valid_rule_parameters)
        StreamingRun(self, event, fail_closed(client_factory), valid_rule_parameters, self.lambda_context).execute()
        return []

    def iter_periodic(self, event: Mapping[str, Any], client_factory: Any,
                      valid_rule_parameters: Mapping[str, Any]) -> Iterator[Evaluation]:
        evaluations = super().iter_periodic(event, client_factory, valid_rule_parameters)
        if valid_rule_parameters.get("ReportingMode") == "summary":
            return summarized(evaluations, account_id_of(event, client_factory))
        return evaluations


def summarized(evaluations: Iterable[Evaluation], account_id: str) -> Iterator[Evaluation]:
    """Summary mode for a full evaluation: the NON_COMPLIANT resources as they come, then one
    account result (the first failing account result, or the count)."""
    resources = 0
    account_failure: Evaluation | None = None
    for evaluation in evaluations:
        if evaluation.complianceType != ComplianceType.NON_COMPLIANT:
            continue
        if (evaluation.complianceResourceType, evaluation.complianceResourceId) == (ACCOUNT_RESOURCE_TYPE, account_id):
            account_failure = account_failure or evaluation
            continue
        resources += 1
        yield evaluation
    yield account_failure or summary_evaluation(account_id, resources)


def summary_evaluation(account_id: str, noncompliant: int) -> Evaluation:
    if noncompliant:
        return Evaluation(ComplianceType.NON_COMPLIANT, account_id, ACCOUNT_RESOURCE_TYPE,
                          annotation(f"{noncompliant} resource{'s are' if noncompliant != 1 else ' is'} NON_COMPLIANT, "
                                     "each reported on its own; summary mode does not report compliant resources."))
    return Evaluation(ComplianceType.COMPLIANT, account_id, ACCOUNT_RESOURCE_TYPE,
                      annotation("No resource is NON_COMPLIANT; summary mode does not report compliant resources."))


class Deadline:
    """The Lambda deadline less a margin: time to post the last batch and save the checkpoint."""

    def __init__(self, context: Any, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        remaining = None
        if context is not None and hasattr(context, "get_remaining_time_in_millis"):
            remaining = context.get_remaining_time_in_millis() / 1000
        if remaining is None:
            self._end = None
        else:
            margin = min(30.0, max(0.5, 0.2 * remaining))
            self._end = clock() + remaining - margin
        self.reached = False

    def near(self) -> bool:
        if self._end is not None and self._clock() >= self._end:
            self.reached = True
        return self.reached


class Poster:
    """Posts evaluations to Config in batches of 100 as the run produces them."""

    def __init__(self, config: Any, event: Mapping[str, Any]):
        self.config = config
        self.event = event
        self.token = event["resultToken"]
        self.batch: list[dict[str, Any]] = []
        self.posted: dict[str, int] = {}
        self.calls = 0

    def post(self, evaluation: Evaluation) -> None:
        evaluation = config_safe(evaluation)
        evaluation.import_fields_from_periodic_event(self.event)
        if not evaluation.is_valid():
            raise ValueError(f"invalid evaluation for {evaluation.complianceResourceId}")
        self.batch.append(evaluation.get_json())
        self.posted[evaluation.complianceType] = self.posted.get(evaluation.complianceType, 0) + 1
        if len(self.batch) >= POST_BATCH:
            self.flush()

    def flush(self) -> None:
        if self.batch:
            self.config.put_evaluations(Evaluations=self.batch, ResultToken=self.token,
                                        TestMode=self.token == "TESTMODE")
            self.calls += 1
            self.batch = []

    @property
    def total(self) -> int:
        return sum(self.posted.values())


@dataclass
class StoredResult:
    resource_type: str
    compliance: str
    ordering: float


@dataclass
class RunStats:
    mode: str = ""
    judged: int = 0
    retired: int = 0
    events: int = 0
    complete: bool = False
    problems: list[str] = field(default_factory=list)


class StreamingRun:
    """One Lambda invocation of a ResourceRule: decides the run's mode from the checkpoint, judges
    what it must, posts as it goes, and saves where it got to."""

    def __init__(self, rule: ResourceRule, event: Mapping[str, Any], client_factory: Any,
                 params: Mapping[str, Any], context: Any):
        self.rule, self.event, self.factory, self.params = rule, event, client_factory, params
        self.deadline = Deadline(context)
        self.account_id = account_id_of(event, client_factory)
        self.inventory = inventory_for(client_factory, self.account_id, function_run=True)
        self.now = event_time(event)
        if isinstance(self.inventory, LedgerInventory):  # its TTL and retention, as of the run's own time
            self.inventory.clock = lambda: self.now
        self.ctx = RunContext(self.account_id, self.inventory.region, self.inventory.partition, self.inventory,
                              params.get("ReportedResourceType") or ACCOUNT_RESOURCE_TYPE, client_factory,
                              rule_name=str(event["configRuleName"]), now=self.now)
        self.summary_mode = params.get("ReportingMode") == "summary"
        self.reconcile_every = dt.timedelta(days=int(params.get("ReconciliationDays") or 7)).total_seconds()
        self.kinds = list(rule.kinds(params))
        self.poster = Poster(client_factory.build_client("config"), event)
        self.store = CheckpointStore(client_factory.build_client("ssm", assume_role_mode=False),
                                     parameter_name(self.account_id, self.ctx.region, event["configRuleName"]))
        self.stats = RunStats()
        self.judged_ids: set[str] = set()  # this invocation's, for events and the reconcile compare
        self.judge = rule.judge(self.ctx, params)

    # --- the run ---------------------------------------------------------------------------------

    def execute(self) -> RunStats:
        digest = parameters_digest(self.params)
        # A stored position must be one this rule can resume: a mode of its own and one of its
        # kinds ("" once listing is done); an unknown kind would skip the listing.
        checkpoint = self.store.load(self.now, modes=("full", "incremental", "reconcile"),
                                     kinds=["", *(kind.key for kind in self.kinds)])
        if checkpoint is None or checkpoint.parameters != digest:
            checkpoint = Checkpoint(parameters=digest)
        position = checkpoint.run
        if position is not None:
            position.invocations += 1
        else:
            position = Position(mode=self._mode(checkpoint), started=self.now, kind=self.kinds[0].key if self.kinds else "")
        self.stats.mode = position.mode
        try:
            finished = self._run(checkpoint, position)
        except (ListingError, KeyError) as error:
            finished = False
            self._could_not_evaluate(error)
            checkpoint.account_flagged = True
        self.poster.flush()
        if finished:
            checkpoint.watermark, checkpoint.floor, checkpoint.run = position.started, position.floor, None
            if position.mode in ("full", "reconcile"):
                checkpoint.reconciled = position.started
            self.stats.complete = True
        elif self.deadline.reached:
            checkpoint.run = position  # the next invocation resumes here
        self.store.save(checkpoint)
        self._log(position)
        return self.stats

    def _mode(self, checkpoint: Checkpoint) -> str:
        if checkpoint.watermark is None or checkpoint.full_next:
            return "full"
        if (checkpoint.reconcile_next or checkpoint.reconciled is None
                or self.now - checkpoint.reconciled >= self.reconcile_every):
            return "reconcile"
        return "incremental"

    def _run(self, checkpoint: Checkpoint, position: Position) -> bool:
        checkpoint.full_next = checkpoint.reconcile_next = False
        # read before listing: what the ledger may still lack then, the next run lists back to
        position.floor = not_yet_recorded_floor(self.inventory, self.kinds, position.floor)
        stored: dict[str, StoredResult] | None = None
        unseen: set[str] | None = None
        resumed = position.invocations > 1
        if self.summary_mode or (position.mode == "reconcile" and not resumed):
            # Summary mode: the NON_COMPLIANT results (few by design), to count and to retire.
            # Reconcile: every stored result, to compare with the listing. An invocation resuming
            # a reconcile does not page them again: it goes on like an incremental run.
            stored = self._stored_results(keep=True)
        if position.mode == "reconcile" and not resumed and stored is not None:
            unseen = set(stored)
        if not self._list_and_judge(checkpoint, position, stored, unseen):
            return False
        if position.mode != "full" and not self._follow_events(checkpoint, position, stored):
            return False
        if position.mode == "incremental":
            self._retire_past_retention(checkpoint)
        if position.mode == "full":
            self._retire_older_than(position.started)
        elif unseen is not None and position.invocations == 1:
            self._retire_unlisted(unseen, stored or {})
        elif position.mode == "reconcile":
            # The comparison needs the whole listing in one invocation. Expired records were
            # retired by the sweep and deletions follow their events; what neither shows (a
            # record gone without a Delete event) waits for a reconcile that fits.
            self.stats.problems.append("the reconcile listing spanned invocations: unlisted results were not compared")
        if checkpoint.account_flagged:  # an earlier run could not list: that result is resolved now
            if not self.summary_mode:
                self._retire(self.account_id, ACCOUNT_RESOURCE_TYPE, "Retired: listing works again; each resource has its own result.")
            checkpoint.account_flagged = False
        if self.summary_mode:
            noncompliant = (position.noncompliant if position.mode == "full"
                            else sum(1 for r in (stored or {}).values() if r.compliance == "NON_COMPLIANT"))
            self.poster.post(summary_evaluation(self.account_id, noncompliant))
        return True

    # --- listing -------------------------------------------------------------------------------------

    def _list_and_judge(self, checkpoint: Checkpoint, position: Position, stored: dict[str, StoredResult] | None,
                        unseen: set[str] | None) -> bool:
        keys = [kind.key for kind in self.kinds]
        start = keys.index(position.kind) if position.kind in keys else len(keys)
        window = floor = None
        if position.mode != "full" and checkpoint.watermark is not None:
            window = checkpoint.watermark - SKEW.total_seconds()
        if position.mode == "incremental" and checkpoint.watermark is not None:
            floor = min(checkpoint.watermark, checkpoint.floor or checkpoint.watermark) - SKEW.total_seconds()
        for kind in self.kinds[start:]:
            resuming = kind.key == position.kind and kind.is_job  # other kinds are few: redone whole
            before = position.before if resuming else None
            position.kind, position.before = kind.key, before
            position.token = position.token if resuming else None
            page_done: float | None = None
            for page_token, page in self.inventory.resume_pages(kind, position.token):
                if page_done is not None:
                    # The previous page is done: resume at this one. A listing-only stretch (a
                    # reconcile of known jobs) stops here too, so every invocation progresses.
                    position.before, position.token, page_done = page_done, page_token, None
                    if self.deadline.near():
                        return False
                wanted = []
                missing: set[str] = set()
                oldest = None
                for resource in page:
                    created = created_at(resource)
                    oldest = created if created is not None else oldest
                    if unseen is not None:
                        unseen.discard(resource.arn)
                    if _unfinished(resource) and created is not None:
                        position.floor = created if position.floor is None else min(position.floor, created)
                    if before is not None and created is not None and created > before:
                        continue  # judged by an earlier invocation of this run
                    reason = self._needs_judging(position.mode, resource, window, stored)
                    if reason:
                        wanted.append(resource)
                        if reason == MISSING:
                            missing.add(resource.arn)
                for resource, evaluation in ordered_map(self._judge_one, wanted, stop=self._must_stop):
                    if resource.arn in missing and evaluation.complianceType == ComplianceType.NOT_APPLICABLE:
                        # A job without a stored result that is still not applicable (failed, or
                        # unfinished): posting would change nothing.
                        missing.discard(resource.arn)
                        self.stats.judged += 1
                    else:
                        self._record(position, resource, evaluation, stored)
                    if kind.is_job:
                        position.before, position.token = created_at(resource), page_token
                if self.deadline.reached:
                    return False  # stopped within the page
                if floor is not None and kind.is_job and oldest is not None and oldest < floor:
                    break  # everything older was judged by earlier runs
                if kind.is_job and page:  # the whole page is done, judged or not
                    page_done = created_at(page[-1])
            position.before = position.token = None
        position.kind = ""
        return True

    def _must_stop(self) -> bool:
        # Every invocation judges at least one resource, so that a run always progresses.
        return self.stats.judged > 0 and self.deadline.near()

    def _needs_judging(self, mode: str, resource: Resource, window: float | None,
                       stored: dict[str, StoredResult] | None) -> str | None:
        """Why ``resource`` is judged this run (WINDOW, MISSING, ALL), or None."""
        if not resource.kind.is_job or mode == "full" or window is None:
            return ALL  # customizations are few, and Update* changes them without a tag event
        if changed_since(resource, window):
            return WINDOW  # new or newly finished since the watermark
        if mode != "reconcile" or stored is None:
            return None
        # Reconcile: resource mode judges what Config holds no result for; summary mode stores
        # only NON_COMPLIANT results, so it cannot tell a compliant job from a missed one.
        return ALL if self.summary_mode else (MISSING if resource.arn not in stored else None)

    def _judge_one(self, resource: Resource) -> Evaluation:
        try:
            return self.judge(resource)
        finally:
            self.inventory.forget(resource)

    def _record(self, position: Position, resource: Resource, evaluation: Evaluation,
                stored: dict[str, StoredResult] | None) -> None:
        self.stats.judged += 1
        if position.mode != "full":  # the events phase skips what the listing judged
            self.judged_ids.add(resource.arn)
        if not self.summary_mode:
            self.poster.post(evaluation)
            return
        known = stored.pop(resource.arn, None) if stored is not None else None
        if evaluation.complianceType == ComplianceType.NON_COMPLIANT:
            position.noncompliant += 1
            if stored is not None:
                stored[resource.arn] = StoredResult(evaluation.complianceResourceType, "NON_COMPLIANT", self.now)
            self.poster.post(evaluation)
        elif known is not None:
            self._retire(resource.arn, known.resource_type, "Retired: no longer NON_COMPLIANT "
                         f"({evaluation.complianceType}); summary mode reports only NON_COMPLIANT resources.")

    def _retire_past_retention(self, checkpoint: Checkpoint) -> None:
        """Resource mode reading the ledger: retire, the day it happens, the result of each job
        whose record Transcribe deleted since the last run (90 days after its creation), instead
        of leaving it in Config until the next reconcile. The ledger still holds those records (a
        week past the retention): each is judged again, as its last run judged it, and retired
        unless that verdict was NOT_APPLICABLE (no stored result to retire). Near the deadline
        it stops: the run is still complete, and what is left waits for the reconcile (its
        expiry sweep and its comparison with the ledger)."""
        since = checkpoint.watermark
        past = getattr(self.inventory, "past_retention_since", None)
        if self.summary_mode or past is None or since is None:
            return  # summary mode's expiry sweep runs on every run; live, Transcribe no longer lists them
        for kind in self.kinds:
            for resource in past(kind, since - SKEW.total_seconds()):
                if self.deadline.near():
                    self.stats.problems.append("the deadline came before every expired job's result was retired: "
                                               "the rest waits for the reconcile")
                    return
                evaluation = self._judge_one(resource)
                if evaluation.complianceType != ComplianceType.NOT_APPLICABLE:
                    self._retire(resource.arn, evaluation.complianceResourceType,
                                 "Retired: the job record expired (Transcribe keeps job records 90 days).")

    # --- events ------------------------------------------------------------------------------------

    def _follow_events(self, checkpoint: Checkpoint, position: Position,
                       stored: dict[str, StoredResult] | None) -> bool:
        """Tag changes and deletions since the watermark, from CloudTrail event history."""
        names = sorted({kind.delete_operation for kind in self.kinds})
        if self.rule.TAG_DEPENDENT:
            names = ["TagResource", "UntagResource", *names]
        start = dt.datetime.fromtimestamp((checkpoint.watermark or self.now) - EVENT_SKEW.total_seconds(), dt.timezone.utc)
        end = dt.datetime.fromtimestamp(self.now, dt.timezone.utc) + EVENT_SKEW
        cloudtrail = self.factory.build_client("cloudtrail")
        newest: dict[str, tuple[float, str]] = {}  # ARN -> (time, name) of its newest event
        try:
            for name in names:
                kwargs: dict[str, Any] = {"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": name}],
                                          "StartTime": start, "EndTime": end, "MaxResults": 50}
                while True:
                    self.inventory.limiter.acquire("lookup_events")
                    page = cloudtrail.lookup_events(**kwargs)
                    for event in page.get("Events", []):
                        arn = self._event_arn(event)
                        when = _epoch(event.get("EventTime")) or 0.0
                        if arn and (arn not in newest or when > newest[arn][0]):  # tagged, then deleted: deleted
                            newest[arn] = (when, name)
                    if not page.get("NextToken"):
                        break
                    kwargs["NextToken"] = page["NextToken"]
        except ClientError as error:
            # Without the history, changes may be missed: make the next run catch up.
            if self.rule.TAG_DEPENDENT:
                checkpoint.full_next = True
            else:
                checkpoint.reconcile_next = True
            self.stats.problems.append(f"{error_code(error)} reading CloudTrail event history; the next run "
                                       f"{'re-judges everything' if self.rule.TAG_DEPENDENT else 'reconciles'}")
            LOGGER.warning("%s: LookupEvents failed (%s)", self.rule.name(), error_code(error))
            return True
        changed = {arn: name for arn, (_, name) in newest.items()}
        self.stats.events = len(changed)
        kinds = {kind.key: kind for kind in self.kinds}
        for arn, name in changed.items():
            if arn in self.judged_ids or self.deadline.near():
                continue
            kind_key, _, resource_name = arn.split(":", 5)[-1].partition("/")
            kind = kinds.get(kind_key)
            if kind is None:
                continue
            if name.startswith("Delete"):
                if self.summary_mode and (stored is None or arn not in stored):
                    continue  # summary mode stored nothing for it
                self._retire(arn, stored[arn].resource_type if stored and arn in stored else self.ctx.reported_resource_type,
                             f"Retired: the {kind.label} was deleted.")
                if stored is not None:
                    stored.pop(arn, None)
                continue
            if not kind.is_job:
                continue  # customizations were listed and judged in full this run
            # A tag change: judge the job again (jobs carry their tags in the Get response).
            resource = Resource(kind, resource_name, arn, {})
            self._record(position, resource, self._judge_one(resource), stored)
        return not self.deadline.reached

    def _event_arn(self, event: Mapping[str, Any]) -> str | None:
        return event_arn(event, self.inventory.arn)

    # --- stored results ------------------------------------------------------------------------------

    def _results(self, types: list[str]) -> Iterator[tuple[str, str, str, float]]:
        """(resource id, resource type, compliance, ordering time) of the rule's stored results of
        ``types``, page by page. This run's pending evaluations are posted first, so that Config
        holds them when they are compared."""
        self.poster.flush()
        kwargs: dict[str, Any] = {"ConfigRuleName": self.event["configRuleName"], "ComplianceTypes": types, "Limit": 100}
        while True:
            page = self.poster.config.get_compliance_details_by_config_rule(**kwargs)
            for result in page.get("EvaluationResults", []):
                identifier = result["EvaluationResultIdentifier"]
                qualifier = identifier["EvaluationResultQualifier"]
                yield (qualifier["ResourceId"], qualifier["ResourceType"], result["ComplianceType"],
                       _epoch(identifier.get("OrderingTimestamp")) or 0.0)
            if not page.get("NextToken"):
                return
            kwargs["NextToken"] = page["NextToken"]

    def _stored_results(self, keep: bool) -> dict[str, StoredResult]:
        """Page the rule's stored results, retiring job results older than the 90-day record
        retention on the way (the expiry sweep). With ``keep`` the others are returned (summary
        mode asks Config for NON_COMPLIANT results only); without, nothing is held."""
        # NOT_APPLICABLE results need no retiring, and retired ones would only pile up.
        types = ["NON_COMPLIANT"] if self.summary_mode else ["COMPLIANT", "NON_COMPLIANT"]
        expired_before = self.now - JOB_RECORD_RETENTION.total_seconds()
        job_prefixes = tuple(self.inventory.arn(kind, "") for kind in self.kinds if kind.is_job)
        kept: dict[str, StoredResult] = {}
        expired: list[tuple[str, str]] = []
        for resource_id, resource_type, compliance, ordering in self._results(types):
            if resource_id.startswith(job_prefixes) and ordering < expired_before:
                expired.append((resource_id, resource_type))
            elif keep and not (self.summary_mode and resource_id == self.account_id):  # the summary itself
                kept[resource_id] = StoredResult(resource_type, compliance, ordering)
        for resource_id, resource_type in expired:  # after paging: posting changes what the pages hold
            self._retire(resource_id, resource_type, "Retired: the job record expired (Transcribe keeps job records 90 days).")
        return kept

    def _retire_older_than(self, started: float) -> None:
        """After a full run: every result not re-posted since the run began is stale."""
        stale = [(resource_id, resource_type)
                 for resource_id, resource_type, _, ordering in self._results(["COMPLIANT", "NON_COMPLIANT"])
                 if ordering < started and not (self.summary_mode and resource_id == self.account_id)]
        for resource_id, resource_type in stale:  # after paging (the summary is replaced by this run's)
            self._retire(resource_id, resource_type, "Retired: not found in the latest full evaluation (deleted or expired).")

    def _retire_unlisted(self, unseen: set[str], stored: dict[str, StoredResult]) -> None:
        """After a reconcile listing: a stored result whose resource was not listed is stale."""
        for resource_id in sorted(unseen):
            result = stored.get(resource_id)
            if result is None or result.compliance == "NOT_APPLICABLE" or resource_id in self.judged_ids:
                continue
            if self.summary_mode and resource_id == self.account_id:
                continue  # replaced by this run's summary
            self._retire(resource_id, result.resource_type, "Retired: no longer listed (deleted or expired).")
            stored.pop(resource_id, None)

    def _retire(self, resource_id: str, resource_type: str, text: str) -> None:
        self.stats.retired += 1
        self.poster.post(Evaluation(ComplianceType.NOT_APPLICABLE, resource_id, resource_type, annotation(text)))

    # --- failures and logging ------------------------------------------------------------------------

    def _could_not_evaluate(self, error: Exception) -> None:
        if isinstance(error, ListingError):
            text = (f"Could not evaluate: {error_code(error.error)} when listing {error.kind.label}s; earlier results "
                    "are kept until a run can list them.")
        else:
            LOGGER.exception("%s: a response lacked %s", self.rule.name(), error)
            text = f"Could not evaluate: a response lacked {error}; earlier results are kept until a run can read it."
        self.stats.problems.append(text)
        self.poster.post(Evaluation(ComplianceType.NON_COMPLIANT, self.account_id, ACCOUNT_RESOURCE_TYPE, annotation(text)))

    def _log(self, position: Position) -> None:
        self.stats.problems.extend(self.store.problems)
        LOGGER.info(json.dumps({
            "rule": self.rule.name(), "account": self.account_id, "region": self.ctx.region, "mode": position.mode,
            "complete": self.stats.complete, "deadline_reached": self.deadline.reached, "judged": self.stats.judged,
            "retired": self.stats.retired, "events": self.stats.events, "evaluations": self.poster.total,
            "by_compliance": self.poster.posted, "transcribe_calls": dict(self.inventory.calls),
            "paced_seconds": round(self.inventory.limiter.waited, 3), "problems": self.stats.problems}))


__all__ = ["ResourceRule", "REPORTING_MODE_PARAMETER", "RECONCILIATION_DAYS_PARAMETER", "KINDS_BY_KEY"]
