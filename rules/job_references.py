"""What an account's jobs name (their S3 buckets, their data access roles), for the rules that
judge those buckets, keys and roles rather than the jobs themselves.

Only a job's Get response names its media, output and role, so finding them means reading jobs.
A scan reads every job once for all rules (the shared inventory). A function run reads only the
jobs created or finished since its last complete run, the same window the per-resource rules use
(rules/incremental.py), and remembers in its checkpoint what earlier runs found: each name with
the creation time of the newest job naming it and a few of those jobs' names. A name no job has
used within Transcribe's 90-day record retention is forgotten, as its jobs' records are gone.

A run that could not read a job or list a kind saves nothing, so the next run reads that window
again; a missing or unreadable checkpoint means reading every job, as on the first day.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Any, Iterator

from botocore.exceptions import ClientError

from rules.base import RunContext
from rules.checkpoint import Checkpoint, CheckpointStore, parameter_name
from rules.transcribe import ListingError, Resource, ResourceKind, error_code

LOGGER = logging.getLogger(__name__)

RETENTION = dt.timedelta(days=90)  # Transcribe keeps job records 90 days
SKEW = dt.timedelta(minutes=5)  # as rules/incremental.py: jobs listed late are read again
NAMES_KEPT = 3  # job names remembered per reference, for annotations
FORMAT = "job-references-v1"  # stands for the parameters: what is remembered depends on none


def _epoch(value: Any) -> float | None:
    return value.timestamp() if isinstance(value, dt.datetime) else None


@dataclass
class Reference:
    newest: float  # creation time of the newest job naming it
    names: list[str] = field(default_factory=list)


@dataclass
class JobReferences:
    """The references of one run: those read now and, in a function run, those remembered."""

    ctx: RunContext
    incremental: bool
    found: dict[str, Reference] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (error code, what could not be read)
    jobs_read: int = 0
    _store: CheckpointStore | None = None
    _checkpoint: Checkpoint | None = None
    _floor: float | None = None

    @classmethod
    def start(cls, ctx: RunContext, incremental: bool) -> "JobReferences":
        references = cls(ctx, incremental)
        if incremental:
            ssm = ctx.client_factory.build_client("ssm", assume_role_mode=False)
            references._store = CheckpointStore(ssm, parameter_name(ctx.account_id, ctx.region, ctx.rule_name))
            loaded = references._store.load()
            if loaded is not None and loaded.parameters == FORMAT and loaded.references is not None:
                references._checkpoint = loaded
                expired = ctx.now - RETENTION.total_seconds()
                references.found = {key: Reference(newest, list(names))
                                    for key, (newest, names) in loaded.references.items() if newest >= expired}
        return references

    @property
    def window(self) -> tuple[float, float] | None:
        """(judge jobs created or finished at or after, stop listing below), or None: read all."""
        checkpoint = self._checkpoint
        if checkpoint is None or checkpoint.watermark is None:
            return None
        start = checkpoint.watermark - SKEW.total_seconds()
        return start, min(start, (checkpoint.floor or checkpoint.watermark) - SKEW.total_seconds())

    def jobs(self, kind: ResourceKind, raise_listing: bool = False
             ) -> Iterator[tuple[Resource, dict[str, Any] | ClientError]]:
        """(job, Get response, or the error reading it) for each job of ``kind`` to read this run.
        Failures are also kept in ``failures``. A failed listing is recorded too, or raised
        (ListingError) with ``raise_listing``."""
        window = self.window
        try:
            for _token, page in self.ctx.inventory.pages(kind):  # streamed: nothing kept per job
                oldest = None
                for job in page:
                    created = _epoch(job.summary.get("CreationTime"))
                    finished = _epoch(job.summary.get("CompletionTime"))
                    oldest = created if created is not None else oldest
                    if job.status not in ("COMPLETED", "FAILED") and created is not None:
                        self._floor = created if self._floor is None else min(self._floor, created)
                    if window and created is not None and created < window[0] and not (finished and finished >= window[0]):
                        continue  # read by an earlier run
                    try:
                        detail: dict[str, Any] | ClientError = self.ctx.inventory.detail(job)
                        self.jobs_read += 1
                    except ClientError as error:
                        self.failures.append((error_code(error), f"reading a {kind.label}"))
                        detail = error
                    yield job, detail
                    self.ctx.inventory.forget(job)
                if window and oldest is not None and oldest < window[1]:
                    return
        except ListingError as error:
            self.failures.append((error_code(error.error), f"listing {kind.label}s"))
            if raise_listing:
                raise

    def add(self, key: str, job: Resource) -> None:
        created = _epoch(job.summary.get("CreationTime")) or self.ctx.now
        reference = self.found.setdefault(key, Reference(created))
        reference.newest = max(reference.newest, created)
        if job.name not in reference.names:
            reference.names = ([job.name] + reference.names)[:NAMES_KEPT]

    def finish(self) -> None:
        """Save what is known now, unless a read failed (the next run then reads the window again)."""
        if self._store is None or self.failures:
            return
        checkpoint = Checkpoint(parameters=FORMAT, watermark=self.ctx.now, floor=self._floor, reconciled=self.ctx.now,
                                references={key: [ref.newest, ref.names] for key, ref in self.found.items()})
        if len(checkpoint.to_json()) > 4000:  # a standard SSM parameter holds 4 KB
            LOGGER.warning("%s: %d references do not fit a checkpoint; the next run reads every job",
                           self.ctx.rule_name, len(self.found))
            return
        self._store.save(checkpoint)
        LOGGER.info(json.dumps({"rule": self.ctx.rule_name, "jobs_read": self.jobs_read,
                                "references": len(self.found), "incremental": self.window is not None}))
