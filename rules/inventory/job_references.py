"""What an account's jobs name (their S3 buckets, their data access roles), for the rules that
judge those buckets, keys and roles rather than the jobs themselves.

Only a job's Get response names its media, output and role, so finding them means reading jobs.
A scan reads every job once for all rules (the shared inventory). A function run reads only the
jobs created or finished since its last complete run, the same window the per-resource rules use
(rules/engine/incremental.py), and remembers in its checkpoint what earlier runs found: each name with
the creation time of the newest job naming it and a few of those jobs' names. A name no job has
used within Transcribe's 90-day record retention is forgotten, as its jobs' records are gone.

A run that could not read a job or list a kind saves nothing, so the next run reads that window
again; a missing or unreadable checkpoint means reading every job, as on the first day.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Iterator

from botocore.exceptions import ClientError

from rules.engine.base import RunContext
from rules.engine.checkpoint import MAX_REFERENCE_NAMES, MAX_REFERENCES, Checkpoint, CheckpointStore, Position, parameter_name
from rules.engine.incremental import (JOB_RECORD_RETENTION, SKEW, Deadline, changed_since, created_at,
                                     not_yet_recorded_floor)
from rules.engine.pacing import ordered_map
from rules.inventory.transcribe import JOB_KINDS, ListingError, Resource, ResourceKind, error_code

LOGGER = logging.getLogger(__name__)

NAMES_KEPT = MAX_REFERENCE_NAMES  # job names remembered per reference, for annotations
FORMAT = "job-references-v1"  # stands for the parameters: what is remembered depends on none


@dataclass
class Reference:
    newest: float  # creation time of the newest job naming it
    names: list[str] = field(default_factory=list)


@dataclass
class JobReferences:
    """The references of one run: those read now and, in a function run, those remembered."""

    ctx: RunContext
    incremental: bool
    deadline: Deadline | None = None
    found: dict[str, Reference] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (error code, what could not be read)
    jobs_read: int = 0
    partial: bool = False  # the deadline stopped the reading: the next invocation resumes it
    _store: CheckpointStore | None = None
    _checkpoint: Checkpoint | None = None
    _position: Position | None = None
    _floor: float | None = None
    _moved: bool = False  # the run's position advanced in this invocation

    @classmethod
    def start(cls, ctx: RunContext, incremental: bool, lambda_context: Any = None) -> "JobReferences":
        references = cls(ctx, incremental, Deadline(lambda_context) if incremental else None)
        if incremental:
            ssm = ctx.client_factory.build_client("ssm", assume_role_mode=False)
            references._store = CheckpointStore(ssm, parameter_name(ctx.account_id, ctx.region, ctx.rule_name))
            loaded = references._store.load(ctx.now, modes=("references",), kinds=KIND_ORDER)
            if loaded is not None and loaded.parameters == FORMAT and loaded.references is not None:
                references._checkpoint = loaded
                references._position = loaded.run
                references._floor = loaded.run.floor if loaded.run else None
                expired = ctx.now - JOB_RECORD_RETENTION.total_seconds()
                references.found = {key: Reference(newest, list(names))
                                    for key, (newest, names) in loaded.references.items() if newest >= expired}
            # read before listing: what the ledger may still lack then, the next run lists back to
            references._floor = not_yet_recorded_floor(ctx.inventory, JOB_KINDS, references._floor)
        return references

    @property
    def window(self) -> tuple[float, float] | None:
        """(read jobs created or finished at or after, stop listing below), or None: read all."""
        checkpoint = self._checkpoint
        if checkpoint is None or checkpoint.watermark is None:
            return None
        start = checkpoint.watermark - SKEW.total_seconds()
        return start, min(start, (checkpoint.floor or checkpoint.watermark) - SKEW.total_seconds())

    def _stop(self) -> bool:
        # Every invocation reads at least one job or gets one page further, so a run progresses.
        return self.deadline is not None and (self.jobs_read > 0 or self._moved) and self.deadline.near()

    def jobs(self, kind: ResourceKind, raise_listing: bool = False
             ) -> Iterator[tuple[Resource, dict[str, Any] | ClientError]]:
        """(job, Get response, or the error reading it) for each job of ``kind`` to read this run,
        read a few at a time (pacing.ordered_map). Failures are also kept in ``failures``. A failed
        listing is recorded too, or raised (ListingError) with ``raise_listing``. Once the
        deadline nears, reading stops and ``partial`` is set."""
        if self.partial:
            return
        window, resume = self.window, self._position
        page_done: float | None = None
        if resume is not None and resume.kind in KIND_ORDER and KIND_ORDER.index(kind.key) < KIND_ORDER.index(resume.kind):
            return  # read by an earlier invocation of this run
        resuming = resume is not None and resume.kind == kind.key
        before = resume.before if resuming and resume is not None else None
        token = resume.token if resuming and resume is not None else None
        ledger = getattr(self.ctx.inventory, "ledger", False)  # rules/inventory/ledger.py
        try:
            for page_token, page in self.ctx.inventory.resume_pages(kind, token):  # streamed: nothing kept per job
                if page_done is not None:  # the previous page is done: resume at this one
                    self._mark(kind, page_done, page_token)
                    page_done = None
                    if self._stop():
                        self.partial = True
                        return
                oldest = None
                todo = []
                for job in page:
                    created = created_at(job)
                    oldest = created if created is not None else oldest
                    if job.status not in ("COMPLETED", "FAILED") and created is not None:
                        self._floor = created if self._floor is None else min(self._floor, created)
                    if before is not None and created is not None and created > before:
                        continue  # read by an earlier invocation of this run
                    if window and not changed_since(job, window[0]):
                        continue  # read by an earlier run
                    if ledger and job.status not in ("COMPLETED", "FAILED"):
                        # The ledger records a job's details when it finishes: it is read then
                        # (the floor above keeps the listing reaching back to it).
                        continue
                    todo.append(job)
                for job, detail in ordered_map(self._read, todo, stop=self._stop):
                    yield job, detail
                    self.ctx.inventory.forget(job)
                    self._mark(kind, created_at(job), page_token)
                if self.deadline is not None and self.deadline.reached:
                    self.partial = True
                    return
                if window and oldest is not None and oldest < window[1]:
                    return
                page_done = created_at(page[-1]) if page else None
        except ListingError as error:
            self.failures.append((error_code(error.error), f"listing {kind.label}s"))
            if raise_listing:
                raise

    def _read(self, job: Resource) -> dict[str, Any] | ClientError:
        try:
            detail = self.ctx.inventory.detail(job)
        except ClientError as error:
            self.failures.append((error_code(error), f"reading a {job.kind.label}"))
            return error
        self.jobs_read += 1
        return detail

    def _mark(self, kind: ResourceKind, before: float | None, token: str | None) -> None:
        """Jobs of ``kind`` created after ``before`` are done; listing resumes at ``token``."""
        started = self._position.started if self._position is not None else self.ctx.now
        self._position = Position("references", started, kind.key, before, token, floor=self._floor)
        self._moved = True

    def add(self, key: str, job: Resource) -> None:
        created = created_at(job) or self.ctx.now
        reference = self.found.setdefault(key, Reference(created))
        reference.newest = max(reference.newest, created)
        if job.name not in reference.names:
            reference.names = ([job.name] + reference.names)[:NAMES_KEPT]

    def finish(self) -> None:
        """Save what is known now: complete, or where a run the deadline stopped resumes. Nothing
        is saved when a read failed (the next run then reads the same jobs again)."""
        if self._store is None or self.failures:
            return
        previous = self._checkpoint
        references = {key: [ref.newest, ref.names] for key, ref in self.found.items()}
        if self.partial and self._position is not None:
            self._position.floor = self._floor
            checkpoint = Checkpoint(parameters=FORMAT, watermark=previous.watermark if previous else None,
                                    floor=previous.floor if previous else None, run=self._position,
                                    references=references)
        else:
            started = self._position.started if self._position is not None else self.ctx.now
            checkpoint = Checkpoint(parameters=FORMAT, watermark=started, floor=self._floor, reconciled=started,
                                    references=references)
        # A standard SSM parameter holds 4 KB; a checkpoint is only saved if a load would accept it.
        if len(checkpoint.to_json()) > 4000 or len(references) > MAX_REFERENCES:
            LOGGER.warning("%s: %d references do not fit a checkpoint; the next run reads every job",
                           self.ctx.rule_name, len(self.found))
            return
        self._store.save(checkpoint)
        LOGGER.info(json.dumps({"rule": self.ctx.rule_name, "jobs_read": self.jobs_read, "references": len(self.found),
                                "incremental": self.window is not None, "partial": self.partial,
                                "problems": self._store.problems}))


KIND_ORDER = [kind.key for kind in JOB_KINDS]
