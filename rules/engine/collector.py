"""The ledger's collector: the one function that reads Transcribe jobs for the whole pack and
writes what the rules need into the ledger (rules/inventory/ledger.py).

It is fed by three things:

- Transcribe's job state change events, sent straight to EventBridge: ``Transcribe Job State
  Change`` (detail ``TranscriptionJobName``, ``TranscriptionJobStatus``) and ``Call Analytics Job
  State Change`` (``JobName``, ``JobStatus``), as the EventBridge event reference lists them
  ("Amazon Transcribe events", https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-transcribe.html;
  delivery is best effort). That page lists no medical or medical scribe event: those jobs are
  found by the sweep (a medical job named in a ``Transcribe Job State Change`` detail as
  ``MedicalTranscriptionJobName`` is taken too; unverified that AWS sends one);
- the CloudTrail events the incremental runs already follow, through EventBridge's ``AWS API
  Call via CloudTrail``: Delete* retires the record once a Get answers that the resource is gone
  (CloudTrail records failed calls too), TagResource and UntagResource re-read the tags
  (ListTagsForResource, no Get), Create*/Update* of a customization re-read it;
- a periodic sweep (EventBridge schedule): each job kind is listed newest first back to the
  kind's watermark (less a skew, and back to the oldest job that was unfinished at the last
  sweep), and every finished job without a complete record is read; customizations are listed
  whole and re-read when their List summary changed; and the tag and job delete calls since the
  last sweep are read from CloudTrail's event history (LookupEvents), which a listing cannot
  show. A missed event, of any of the three, is found by the next sweep.

Only it calls Get* for jobs, once per job, when the job is COMPLETED or FAILED. Its calls are paced
at ``share`` (LedgerGetShare, default 0.2) of each operation's quota (the applied one Service
Quotas reports, else the documented one), so the customer's own pipeline keeps the rest; a throttled call is retried with exponential backoff
until it succeeds or the invocation nears its deadline, and then the job is left for the next
sweep (the sweep's watermark does not move past it). No record is ever written half: a record is
built from one whole Get response, or not at all.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from botocore.exceptions import ClientError
from rdklib import ClientFactory

from rules.engine.incremental import EVENT_SKEW, SKEW, Deadline
from rules.inventory.cloudtrail import DELETE_KINDS, event_arn, failed_call
from rules.engine.pacing import DOCUMENTED_QUOTAS, HEADROOM, RateLimiter, quota_scale
from rules.engine.service_quotas import applied_rates
from rules.inventory.ledger import (FINAL_STATES, LEDGER_VERSION, TABLE_ENV, LedgerStore, RecordTooLarge, fields_of,
                                    make_record, partition_key, project, same_values, sort_key)
from rules.inventory.transcribe import (CALL_ANALYTICS_CATEGORY, CALL_ANALYTICS_JOB, JOB_KINDS,
                                        LANGUAGE_MODEL, LIST_PAGE_SIZE, MEDICAL_TRANSCRIPTION_JOB, MEDICAL_VOCABULARY,
                                        TRANSCRIPTION_JOB, VOCABULARY, VOCABULARY_FILTER, Resource, ResourceKind,
                                        error_code, gone)

LOGGER = logging.getLogger("transcribe_guard.collector")

GET_SHARE_ENV = "TRANSCRIBE_GUARD_LEDGER_GET_SHARE"  # the template's LedgerGetShare parameter
DEFAULT_GET_SHARE = 0.2
# Transcribe's throttling answer is LimitExceededException (HTTP 429); the others are the SDK's
# and other services' names for the same.
THROTTLING = frozenset({"LimitExceededException", "ThrottlingException", "Throttling", "TooManyRequestsException",
                        "RequestLimitExceeded", "ProvisionedThroughputExceededException"})
BACKOFF_BASE = 0.2  # seconds; doubled per attempt, with jitter, up to BACKOFF_MAX
BACKOFF_MAX = 10.0
CUSTOMIZATION_KINDS = (VOCABULARY, MEDICAL_VOCABULARY, VOCABULARY_FILTER, LANGUAGE_MODEL, CALL_ANALYTICS_CATEGORY)
# CloudTrail events that change a customization (its record is read again).
CHANGE_EVENTS: dict[str, ResourceKind] = {
    "CreateVocabulary": VOCABULARY, "UpdateVocabulary": VOCABULARY,
    "CreateMedicalVocabulary": MEDICAL_VOCABULARY, "UpdateMedicalVocabulary": MEDICAL_VOCABULARY,
    "CreateVocabularyFilter": VOCABULARY_FILTER, "UpdateVocabularyFilter": VOCABULARY_FILTER,
    "CreateLanguageModel": LANGUAGE_MODEL,
    "CreateCallAnalyticsCategory": CALL_ANALYTICS_CATEGORY, "UpdateCallAnalyticsCategory": CALL_ANALYTICS_CATEGORY,
}
TAG_EVENTS = ("TagResource", "UntagResource")
JOB_STATE_CHANGE = "Transcribe Job State Change"
CALL_ANALYTICS_STATE_CHANGE = "Call Analytics Job State Change"
CLOUDTRAIL_CALL = "AWS API Call via CloudTrail"
# What the sweep reads back from CloudTrail's event history: the calls no listing shows (a tag
# change; the deletion of a job older than the sweep's watermark). EventBridge delivers CloudTrail
# events best effort; the history keeps them 90 days. One LookupEvents attribute a request, so
# one lookup per name (TagResource and UntagResource of every service: filtered by source).
HISTORY_EVENTS = (*TAG_EVENTS, *sorted(kind.delete_operation for kind in JOB_KINDS))
HISTORY_PAGE = 50  # LookupEvents MaxResults' largest value
HISTORY_KEY = "cloudtrail"  # the history watermark's partition: account#region#cloudtrail


def get_share() -> float:
    raw = os.environ.get(GET_SHARE_ENV) or str(DEFAULT_GET_SHARE)
    try:
        share = float(raw)
    except ValueError:
        raise ValueError(f"{GET_SHARE_ENV} must be a number between 0 and 1, not {raw!r}.") from None
    if not 0 < share <= 1:
        raise ValueError(f"{GET_SHARE_ENV} must be above 0 and at most 1, not {raw!r}.")
    return share


def shared_rates(share: float, applied: Mapping[str, float] | None = None) -> dict[str, float]:
    """Every paced Transcribe operation at ``share`` of its quota: the applied quota Service
    Quotas reports (rules/engine/service_quotas.py), else the documented one (pacing.py) times
    TRANSCRIBE_GUARD_QUOTA_SCALE (which stands for raised quotas only where none is reported)."""
    applied = applied or {}
    return {op: (applied[op] if op in applied else tps * quota_scale()) * share * HEADROOM
            for op, tps in DOCUMENTED_QUOTAS.items()}


class Deferred(Exception):
    """Throttled until the invocation's deadline neared: the resource waits for the next sweep."""


@dataclass
class CollectorStats:
    gets: int = 0
    written: int = 0
    retired: int = 0
    tags_updated: int = 0
    throttled: int = 0
    deferred: int = 0
    swept: dict[str, bool] = field(default_factory=dict)  # kind -> the sweep reached its watermark
    problems: list[str] = field(default_factory=list)


class Collector:
    """Fills the ledger for one account and Region."""

    def __init__(self, transcribe: Any, store: LedgerStore, account_id: str, partition: str = "aws",
                 deadline: Deadline | None = None, share: float = DEFAULT_GET_SHARE,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time,
                 applied: Mapping[str, float] | None = None, cloudtrail: Any = None):
        self.transcribe, self.store = transcribe, store
        self._cloudtrail = cloudtrail  # the same account and Region's, for the sweep's history reads
        self.account_id, self.partition = account_id, partition
        self.region: str = transcribe.meta.region_name
        self.deadline = deadline or Deadline(None)
        self.limiter = RateLimiter(shared_rates(share, applied))
        self.sleep, self.clock = sleep, clock
        self.stats = CollectorStats()

    # --- Transcribe calls, paced and retried ----------------------------------------------------

    def _call(self, operation: str, _client: Any = None, **kwargs: Any) -> dict[str, Any]:
        attempt = 0
        while True:
            if self.deadline.near():
                raise Deferred(operation)
            self.limiter.acquire(operation)
            try:
                result: dict[str, Any] = getattr(_client or self.transcribe, operation)(**kwargs)
                return result
            except ClientError as error:
                if error_code(error) not in THROTTLING:
                    raise
                self.stats.throttled += 1
                delay = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** attempt) * (0.5 + random.random() / 2)
                attempt += 1
                self.sleep(delay)

    def _arn(self, kind: ResourceKind, name: str) -> str:
        return f"arn:{self.partition}:transcribe:{self.region}:{self.account_id}:{kind.key}/{name}"

    # --- records ---------------------------------------------------------------------------------

    def record_job(self, kind: ResourceKind, name: str, listed: Mapping[str, Any] | None = None) -> None:
        """Read a job once and write its record: whole when it is final, its summary otherwise.
        A job Transcribe no longer has is retired. Raises Deferred."""
        try:
            self.stats.gets += 1
            response = self._call(kind.get_operation, **{kind.get_name_parameter: name})
        except ClientError as error:
            if gone(error):
                self.retire(kind, name)
                return
            raise
        job = response.get(kind.get_field or "")
        if not isinstance(job, dict):
            raise ClientError({"Error": {"Code": "IncompleteResponse", "Message": f"no {kind.get_field}"}},
                              kind.get_operation)
        summary = {**project(job, fields_of(kind, "summary")), **(listed or {})}
        final = job.get(kind.status_field or "") in FINAL_STATES
        tags = {t["Key"]: t.get("Value", "") for t in job.get("Tags") or []} if final else None
        self._put(kind, name, summary, job if final else None, tags)

    def record_customization(self, kind: ResourceKind, name: str, listed: Mapping[str, Any] | None = None) -> None:
        """Read a customization and its tags and write its record. Raises Deferred."""
        try:
            self.stats.gets += 1
            response = self._call(kind.get_operation, **{kind.get_name_parameter: name})
            response.pop("ResponseMetadata", None)
            detail = response.get(kind.get_field) if kind.get_field else response
            if not isinstance(detail, dict):
                raise ClientError({"Error": {"Code": "IncompleteResponse", "Message": f"no {kind.get_field}"}},
                                  kind.get_operation)
            if kind is CALL_ANALYTICS_CATEGORY:
                tag_list = detail.get("Tags") or []
            else:
                tag_list = self._call("list_tags_for_resource", ResourceArn=self._arn(kind, name)).get("Tags") or []
        except ClientError as error:
            if gone(error):
                self.retire(kind, name)
                return
            raise
        summary = {**project(detail, fields_of(kind, "summary")), **(listed or {})}
        self._put(kind, name, summary, detail, {t["Key"]: t.get("Value", "") for t in tag_list})

    def _put(self, kind: ResourceKind, name: str, summary: Mapping[str, Any], detail: Mapping[str, Any] | None,
             tags: Mapping[str, str] | None, complete: float | None = None) -> None:
        try:
            record = make_record(kind, self.account_id, self.region, self.partition, name, summary, detail, tags,
                                 self.clock(), complete)
        except RecordTooLarge as error:  # cannot happen within botocore's bounds: the rules say "not in the ledger"
            self.stats.problems.append(f"a {kind.label} record was not written: {error}")
            LOGGER.error("ledger: %s record not written: %s", kind.label, error)
            return
        self.store.put(record)
        self.stats.written += 1

    def retire(self, kind: ResourceKind, name: str) -> None:
        for pk, sk in self.store.keys_for_arn(self._arn(kind, name)):
            self.store.delete(pk, sk)
            self.stats.retired += 1

    def refresh_tags(self, arn: str) -> None:
        keys = self.store.keys_for_arn(arn)
        if not keys:
            return  # not recorded yet: its record is written with its tags
        try:
            tags = self._call("list_tags_for_resource", ResourceArn=arn).get("Tags") or []
        except ClientError as error:
            if gone(error):
                for pk, sk in keys:
                    self.store.delete(pk, sk)
                    self.stats.retired += 1
                return
            raise
        for pk, sk in keys:
            self.store.set_tags(pk, sk, {t["Key"]: t.get("Value", "") for t in tags})
            self.stats.tags_updated += 1

    # --- events ------------------------------------------------------------------------------------

    def handle(self, event: Mapping[str, Any]) -> CollectorStats:
        detail_type = event.get("detail-type")
        raw = event.get("detail")
        detail: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        try:
            if detail_type == JOB_STATE_CHANGE:
                self._job_event(detail, (("TranscriptionJobName", TRANSCRIPTION_JOB),
                                         ("MedicalTranscriptionJobName", MEDICAL_TRANSCRIPTION_JOB)),
                                detail.get("TranscriptionJobStatus"))
            elif detail_type == CALL_ANALYTICS_STATE_CHANGE:
                self._job_event(detail, (("JobName", CALL_ANALYTICS_JOB),), detail.get("JobStatus"))
            elif detail_type == CLOUDTRAIL_CALL:
                self._api_event(detail)
            else:  # the schedule ("Scheduled Event"), or an invocation by hand: sweep
                self.sweep()
        except Deferred:
            self.stats.deferred += 1
            self.stats.problems.append("throttled until the deadline: left for the next sweep")
        return self.stats

    def _job_event(self, detail: Mapping[str, Any], names: tuple[tuple[str, ResourceKind], ...], status: Any) -> None:
        if status not in FINAL_STATES:
            return  # recorded when it finishes
        for member, kind in names:
            name = detail.get(member)
            if isinstance(name, str) and name:
                record = self.store.by_arn(self._arn(kind, name))
                if record is not None and record.get("v") == LEDGER_VERSION and "detail" in record:
                    return  # EventBridge may deliver an event more than once: the job was read already
                self.record_job(kind, name)
                return

    def _api_event(self, detail: Mapping[str, Any]) -> None:
        if detail.get("eventSource") != "transcribe.amazonaws.com" or failed_call(detail):
            return  # a failed call changed nothing
        name = str(detail.get("eventName") or "")
        request = detail.get("requestParameters") or {}
        if name in TAG_EVENTS:
            arn = request.get("resourceArn") or request.get("ResourceArn")
            if isinstance(arn, str):
                self.refresh_tags(arn)
            return
        kind = DELETE_KINDS.get(name) or CHANGE_EVENTS.get(name)
        if kind is None:
            return
        parameter = kind.get_name_parameter  # CloudTrail writes request members in camelCase
        resource = request.get(parameter[:1].lower() + parameter[1:]) or request.get(parameter)
        if not isinstance(resource, str) or not resource:
            return
        if name in DELETE_KINDS:
            self.confirm_deleted(kind, resource)
        else:
            self.record_customization(kind, resource)

    def confirm_deleted(self, kind: ResourceKind, name: str) -> None:
        """A Delete* call was recorded: read the resource, which retires its record when Transcribe
        answers it is gone (a failed delete leaves it, read afresh). Only a recorded resource costs
        a Get. Raises Deferred."""
        if self.store.by_arn(self._arn(kind, name)) is None:
            return
        if kind.is_job:
            self.record_job(kind, name)
        else:
            self.record_customization(kind, name)

    # --- the sweep -----------------------------------------------------------------------------------

    def sweep(self) -> None:
        for kind in JOB_KINDS:
            self.stats.swept[kind.key] = self._sweep_jobs(kind)
        for kind in CUSTOMIZATION_KINDS:
            self.stats.swept[kind.key] = self._sweep_customizations(kind)
        self.stats.swept[HISTORY_KEY] = self._sweep_history()

    def _sweep_history(self) -> bool:
        """Tag changes and job deletions CloudTrail recorded since the last sweep (less
        EVENT_SKEW, the history's delivery delay), each resource's newest call applied as its
        event would have been. The watermark moves only when every lookup was read to its end."""
        pk = f"{self.account_id}#{self.region}#{HISTORY_KEY}"
        meta = self.store.meta(pk) or {}
        started = self.clock()
        watermark = meta.get("watermark")
        since = (float(watermark) if isinstance(watermark, (int, float)) else started) - EVENT_SKEW.total_seconds()
        newest: dict[str, tuple[float, str]] = {}  # ARN -> (time, name) of its newest call: tagged, then deleted
        try:
            for name in HISTORY_EVENTS:
                kwargs: dict[str, Any] = {
                    "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": name}],
                    "StartTime": dt.datetime.fromtimestamp(since, dt.timezone.utc),
                    "EndTime": dt.datetime.fromtimestamp(started, dt.timezone.utc) + EVENT_SKEW,
                    "MaxResults": HISTORY_PAGE}
                tokens: set[str] = set()
                while True:
                    page = self._lookup(**kwargs)
                    for event in page.get("Events") or []:
                        arn = event_arn(event, lambda kind, resource: self._arn(kind, resource))
                        when = event.get("EventTime")
                        at = when.timestamp() if isinstance(when, dt.datetime) else 0.0
                        if arn and (arn not in newest or at > newest[arn][0]):
                            newest[arn] = (at, name)
                    token = page.get("NextToken")
                    if not token or token in tokens:
                        break
                    tokens.add(token)
                    kwargs["NextToken"] = token
            for arn, (_, name) in sorted(newest.items()):
                if self.deadline.near():
                    raise Deferred("LookupEvents")
                self._apply_history(arn, name)
        except Deferred:
            self.stats.deferred += 1
            return False
        except ClientError as error:
            self.stats.problems.append(f"{error_code(error)} reading CloudTrail event history")
            LOGGER.warning("ledger: CloudTrail event history not read: %s", error_code(error))
            return False
        self.store.put_meta(pk, {"watermark": started})
        return True

    def _lookup(self, **kwargs: Any) -> dict[str, Any]:
        """LookupEvents, paced at the collector's share of its quota (2 a second per account and
        Region), throttling retried as for Transcribe's calls."""
        if self._cloudtrail is None:  # made when first needed, in the Transcribe client's Region
            self._cloudtrail = ClientFactory(None, region=self.region, assume_role_mode=False).build_client("cloudtrail")
        return self._call("lookup_events", _client=self._cloudtrail, **kwargs)

    def _apply_history(self, arn: str, name: str) -> None:
        prefix = f"arn:{self.partition}:transcribe:{self.region}:{self.account_id}:"
        if not arn.startswith(prefix):
            return  # another account's or Region's resource: not this ledger's
        kind_key, _, resource = arn[len(prefix):].partition("/")
        kind = DELETE_KINDS.get(name)
        if kind is not None:
            if kind.key == kind_key and resource:
                self.confirm_deleted(kind, resource)
            return
        self.refresh_tags(arn)

    def _list(self, kind: ResourceKind) -> Any:
        kwargs: dict[str, Any] = {"MaxResults": LIST_PAGE_SIZE, **dict(kind.list_filters)}
        seen: set[str] = set()
        while True:
            page = self._call(kind.list_operation, **kwargs)
            yield [Resource(kind, s[kind.name_field], self._arn(kind, s[kind.name_field]), s)
                   for s in page.get(kind.list_field, [])]
            token = page.get("NextToken")
            if not token or token in seen:
                return
            seen.add(token)
            kwargs["NextToken"] = token

    def _sweep_jobs(self, kind: ResourceKind) -> bool:
        """List ``kind`` newest first back to its watermark; record what the ledger lacks.
        Returns whether the sweep reached the watermark (only then does the watermark move)."""
        pk = partition_key(self.account_id, self.region, kind)
        meta = self.store.meta(pk) or {}
        started = self.clock()
        watermark, floor = meta.get("watermark"), meta.get("floor")
        stop_below = None
        if isinstance(watermark, (int, float)):
            stop_below = min(watermark, floor if isinstance(floor, (int, float)) else watermark) - SKEW.total_seconds()
        new_floor: float | None = None
        complete = True
        try:
            for page in self._list(kind):
                keys = {job.name: (pk, sort_key(_created(job), job.name)) for job in page}
                records = self.store.get_many(list(keys.values()))
                for job in page:
                    created = _created(job)
                    listed = project(job.summary, fields_of(kind, "summary"))
                    record = records.get(keys[job.name])
                    if job.status not in FINAL_STATES:
                        new_floor = created if new_floor is None else min(new_floor, created)
                        if record is None or not same_values(record.get("summary"), listed):
                            self._put(kind, job.name, listed, None, None)
                        continue
                    if record is not None and record.get("v") == LEDGER_VERSION and "detail" in record:
                        if not same_values(record.get("summary"), listed):  # List-only members (OutputLocationType): no Get
                            self._put(kind, job.name, listed, record["detail"], record.get("tags"),
                                      record.get("complete"))
                        continue
                    try:
                        self.record_job(kind, job.name, listed)
                    except Deferred:
                        self.stats.deferred += 1
                        complete = False
                        break
                if not complete or self.deadline.near():
                    complete = False
                    break
                if stop_below is not None and page and _created(page[-1]) < stop_below:
                    break
        except Deferred:
            complete = False
        except ClientError as error:
            complete = False
            self.stats.problems.append(f"{error_code(error)} sweeping {kind.label}s")
            LOGGER.warning("ledger sweep of %ss failed: %s", kind.label, error_code(error))
        if complete:
            self.store.put_meta(pk, {"watermark": started, **({"floor": new_floor} if new_floor is not None else {})})
        return complete

    def _sweep_customizations(self, kind: ResourceKind) -> bool:
        """List every customization of ``kind``; re-read those whose summary changed, retire
        records of those no longer listed."""
        pk = partition_key(self.account_id, self.region, kind)
        started = self.clock()
        try:
            listed = [resource for page in self._list(kind) for resource in page]
            recorded: dict[str, dict[str, Any]] = {}
            start: str | None = None
            while True:
                records, start = self.store.query(pk, start, newest_first=False)
                recorded.update({r["name"]: r for r in records})
                if not start:
                    break
            for resource in listed:
                summary = project(resource.summary, fields_of(kind, "summary"))
                record = recorded.pop(resource.name, None)
                if (record is None or record.get("v") != LEDGER_VERSION or "detail" not in record
                        or "tags" not in record or not same_values(record.get("summary"), summary)):
                    self.record_customization(kind, resource.name, summary)
            for name, record in recorded.items():  # no longer listed: deleted
                self.store.delete(record["pk"], record["sk"])
                self.stats.retired += 1
            # The rules trust a kind's records only after a complete sweep (LedgerInventory).
            self.store.put_meta(pk, {"watermark": started})
        except Deferred:
            self.stats.deferred += 1
            return False
        except ClientError as error:
            self.stats.problems.append(f"{error_code(error)} sweeping {kind.label}s")
            LOGGER.warning("ledger sweep of %ss failed: %s", kind.label, error_code(error))
            return False
        return True


def _created(job: Resource) -> float:
    value = job.summary.get("CreationTime")
    return value.timestamp() if isinstance(value, dt.datetime) else float(value or 0)


def lambda_handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """The collector function: an EventBridge event (job state change, CloudTrail call, schedule).
    In an organization's functions account (TRANSCRIBE_GUARD_ORGANIZATION_ID set) the schedule
    sweeps every active account of the organization in this Region, through its member role."""
    table = os.environ.get(TABLE_ENV)
    if not table:
        raise ValueError(f"{TABLE_ENV} is not set: the collector has no ledger table to write.")
    factory = ClientFactory(None, assume_role_mode=False)
    store = LedgerStore(factory.build_client("dynamodb"), table)
    share = get_share()
    organization = os.environ.get(ORGANIZATION_ENV)
    if organization and event.get("detail-type") not in EVENT_TYPES:
        region = str(os.environ.get("AWS_REGION") or factory.build_client("sts").meta.region_name)
        role = os.environ.get(MEMBER_ROLE_ENV) or "transcribe-guard-member"
        deadline = Deadline(context)  # one for every account's collector and the rotation
        summary = sweep_organization(store, region, organization_accounts(factory.build_client("organizations")),
                                     member_collectors(region, role, store, deadline, share), deadline=deadline)
        LOGGER.info(json.dumps(summary, default=str))
        return summary
    transcribe = factory.build_client("transcribe")
    account = str(event.get("account") or factory.build_client("sts").get_caller_identity()["Account"])
    applied = applied_rates(factory.build_client("service-quotas"), DOCUMENTED_QUOTAS)
    collector = Collector(transcribe, store, account, transcribe.meta.partition, Deadline(context), share,
                          applied=applied, cloudtrail=factory.build_client("cloudtrail"))
    stats = collector.handle(event)
    summary = {"collector": True, "account": account, "region": collector.region, "detail_type": event.get("detail-type"),
               **_stats_summary(stats),
               "get_transcription_job_tps": round(collector.limiter.rates.get("get_transcription_job", 0.0), 3)}
    LOGGER.info(json.dumps(summary, default=str))
    return summary


def _stats_summary(stats: CollectorStats) -> dict[str, Any]:
    return {"gets": stats.gets, "written": stats.written, "retired": stats.retired,
            "tags_updated": stats.tags_updated, "throttled": stats.throttled, "deferred": stats.deferred,
            "swept": stats.swept, "problems": stats.problems}


# --- an organization: one collector per Region for every account ------------------------------------

ORGANIZATION_ENV = "TRANSCRIBE_GUARD_ORGANIZATION_ID"  # the functions template's OrganizationId
MEMBER_ROLE_ENV = "TRANSCRIBE_GUARD_MEMBER_ROLE"  # its MemberExecutionRoleName
EVENT_TYPES = (JOB_STATE_CHANGE, CALL_ANALYTICS_STATE_CHANGE, CLOUDTRAIL_CALL)
# Accounts swept at once. Each account has its own Transcribe quotas (and its own collector pacing
# to its share of them), so accounts need not wait for each other; the invocation's 15 minutes do.
ORGANIZATION_PARALLEL = 4
ORGANIZATION_KEY = "organization"  # the rotation's partition: organization#region


def organization_accounts(organizations: Any) -> list[str]:
    """The organization's active accounts (ListAccounts, which the management account or a
    delegated administrator may call). An account being created, suspended or closed has no
    evaluation to feed."""
    accounts: list[str] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = organizations.list_accounts(**kwargs)
        accounts += [str(a["Id"]) for a in page.get("Accounts", [])
                     if (a.get("State") or a.get("Status")) == "ACTIVE"]
        if not page.get("NextToken"):
            return sorted(set(accounts))
        kwargs["NextToken"] = page["NextToken"]


def member_collectors(region: str, role: str, store: LedgerStore, deadline: Deadline,
                      share: float) -> Callable[[str], Collector]:
    """A function making the collector of one account: its member role assumed (the role the
    rules assume there too, which trusts the collector's role), its quotas read."""
    import boto3  # type: ignore[import-untyped]

    sts = boto3.client("sts", region_name=region)
    partition = sts.meta.partition

    def collector_for(account: str) -> Collector:
        credentials = sts.assume_role(RoleArn=f"arn:{partition}:iam::{account}:role/{role}",
                                      RoleSessionName="transcribe-guard-ledger")["Credentials"]
        session = boto3.session.Session(aws_access_key_id=credentials["AccessKeyId"],
                                        aws_secret_access_key=credentials["SecretAccessKey"],
                                        aws_session_token=credentials["SessionToken"], region_name=region)
        applied = applied_rates(session.client("service-quotas"), DOCUMENTED_QUOTAS)
        return Collector(session.client("transcribe"), store, account, partition, deadline, share,
                         applied=applied, cloudtrail=session.client("cloudtrail"))

    return collector_for


def sweep_organization(store: LedgerStore, region: str, accounts: list[str],
                       collector_for: Callable[[str], Collector], deadline: Deadline,
                       parallel: int = ORGANIZATION_PARALLEL) -> dict[str, Any]:
    """Sweep each account, ``parallel`` at a time, starting with the first one the last
    invocation left unfinished (so a large organization is covered over several invocations,
    none starved). An account whose role cannot be assumed is a problem named in the summary;
    its ledger partitions stay unswept, so its rules report "Could not evaluate"
    (LedgerNotSwept, LedgerSweepStale), never "no jobs"."""
    from concurrent.futures import ThreadPoolExecutor

    from botocore.exceptions import BotoCoreError

    pk = f"{ORGANIZATION_KEY}#{region}"
    resume = (store.meta(pk) or {}).get("next")
    order = sorted(accounts)
    if resume in order:
        order = order[order.index(resume):] + order[:order.index(resume)]

    def sweep_one(account: str) -> CollectorStats | str | None:
        if deadline.near():
            return None  # not started: first in line next time
        try:
            collector = collector_for(account)
            collector.sweep()
        except (ClientError, BotoCoreError) as error:
            code = error_code(error) if isinstance(error, ClientError) else type(error).__name__
            LOGGER.warning("ledger: account %s not swept: %s", account, code)
            return f"{code} assuming the member role or sweeping"
        return collector.stats

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        outcomes = dict(zip(order, pool.map(sweep_one, order)))
    unfinished = [a for a in order if not isinstance(outcomes[a], CollectorStats)
                  or not all(outcomes[a].swept.values())]  # type: ignore[union-attr]
    store.put_meta(pk, {"next": unfinished[0]} if unfinished else {})
    swept = {a: o for a, o in outcomes.items() if isinstance(o, CollectorStats)}
    problems = [f"account {a}: {o}" for a, o in outcomes.items() if isinstance(o, str)]
    problems += [f"account {a}: {p}" for a, stats in swept.items() for p in stats.problems]
    return {"collector": True, "organization": True, "region": region, "accounts": len(order),
            "swept_completely": len(order) - len(unfinished),
            "not_started": sorted(a for a, o in outcomes.items() if o is None),
            "gets": sum(s.gets for s in swept.values()), "written": sum(s.written for s in swept.values()),
            "retired": sum(s.retired for s in swept.values()), "throttled": sum(s.throttled for s in swept.values()),
            "deferred": sum(s.deferred for s in swept.values()), "problems": problems}
