"""A rule's progress between invocations: one SSM parameter per rule, account and Region.

Config tells a periodic function nothing about earlier runs except through the results it stored,
and reading those back costs one call per 100 resources. The checkpoint is a few hundred bytes:
when the last complete run started (the watermark), the oldest job that was still unfinished then,
when the rule last reconciled in full, a digest of the parameters it ran with, and, for a run the
Lambda deadline cut short, where to resume. It lives in the functions' own account (the client is
built without assuming the member role), under /transcribe-guard/checkpoints/, the only path the
functions' role may write (templates.py).

Losing it is safe: a rule without a readable checkpoint runs in full, as on its first day.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from botocore.exceptions import ClientError

LOGGER = logging.getLogger(__name__)

PREFIX = "/transcribe-guard/checkpoints"
FORMAT_VERSION = 1
# Standard SSM parameters hold 4 KB; a List NextToken can be up to 8 KB. A longer token is not
# kept: the run then resumes by re-listing from the newest job and skipping the done ones.
MAX_STORED_TOKEN = 2048


@dataclass
class Position:
    """An unfinished run: what it is doing and where the next invocation picks it up."""

    mode: str  # "full", "incremental" or "reconcile"
    started: float  # epoch seconds of the run's first invocation (its notification time)
    kind: str  # ARN resource type being listed; "" once listing is done
    before: float | None = None  # creation time of the last judged job of ``kind``: newer ones are done
    token: str | None = None  # the List NextToken of the page holding that job
    floor: float | None = None  # creation time of the oldest unfinished job seen so far
    noncompliant: int = 0  # summary mode, full runs: NON_COMPLIANT results posted so far
    invocations: int = 1


@dataclass
class Checkpoint:
    parameters: str  # digest of the rule parameters the results were computed with
    watermark: float | None = None  # start of the last complete run
    floor: float | None = None  # oldest job still unfinished at that run
    reconciled: float | None = None  # start of the last complete full or reconcile run
    full_next: bool = False  # an events lookup failed: the next run re-judges everything
    reconcile_next: bool = False  # deletions may have been missed: the next run reconciles
    account_flagged: bool = False  # a run reported the account "Could not evaluate": retire it once fixed
    run: Position | None = None
    # Rules judging what jobs name (rules/job_references.py): name -> [newest job's creation, job names]
    references: dict[str, list[Any]] | None = None
    version: int = FORMAT_VERSION

    def to_json(self) -> str:
        data = asdict(self)
        if self.run and self.run.token and len(self.run.token) > MAX_STORED_TOKEN:
            data["run"]["token"] = None
        return json.dumps(data, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Checkpoint":
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
            raise ValueError("not a version-1 checkpoint")
        run = data.pop("run", None)
        checkpoint = cls(**data)
        checkpoint.run = Position(**run) if run else None
        return checkpoint


def parameters_digest(parameters: Mapping[str, Any]) -> str:
    """Results judged under other parameters are not comparable: a change forces a full run."""
    text = json.dumps({k: v for k, v in parameters.items()}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def parameter_name(account_id: str, region: str, rule_name: str) -> str:
    # SSM names allow letters, digits, _ . - and /; Config rule names allow more.
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", rule_name)
    if safe != rule_name:
        safe += "-" + hashlib.sha256(rule_name.encode()).hexdigest()[:8]
    return f"{PREFIX}/{account_id}/{region}/{safe}"


@dataclass
class CheckpointStore:
    ssm: Any
    name: str
    problems: list[str] = field(default_factory=list)

    def load(self) -> Checkpoint | None:
        """The stored checkpoint, or None (first run, or unreadable: logged, and the run is full)."""
        try:
            value = self.ssm.get_parameter(Name=self.name)["Parameter"]["Value"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ParameterNotFound":
                self.problems.append(f"reading the checkpoint failed ({error.response['Error'].get('Code')})")
                LOGGER.warning("checkpoint %s unreadable (%s): running in full", self.name, error)
            return None
        try:
            return Checkpoint.from_json(value)
        except (ValueError, TypeError) as error:
            self.problems.append("the stored checkpoint was malformed")
            LOGGER.warning("checkpoint %s malformed (%s): running in full", self.name, error)
            return None

    def save(self, checkpoint: Checkpoint) -> bool:
        """Store ``checkpoint``. A failure is logged and not raised: the previous checkpoint stays,
        so the next run repeats this one's work (overlap, never loss)."""
        try:
            self.ssm.put_parameter(Name=self.name, Value=checkpoint.to_json(), Type="String", Overwrite=True)
            return True
        except ClientError as error:
            self.problems.append(f"saving the checkpoint failed ({error.response['Error'].get('Code')})")
            LOGGER.error("checkpoint %s not saved (%s): the next run repeats this one", self.name, error)
            return False
