"""A rule's progress between invocations: one SSM parameter per rule, account and Region.

Config tells a periodic function nothing about earlier runs except through the results it stored,
and reading those back costs one call per 100 resources. The checkpoint is a few hundred bytes:
when the last complete run started (the watermark), the oldest job that was still unfinished then,
when the rule last reconciled in full, a digest of the parameters it ran with, and, for a run the
Lambda deadline cut short, where to resume. It lives in the functions' own account (the client is
built without assuming the member role), under /transcribe-guard/checkpoints/, the only path the
functions' role may write (templates.py).

Losing it is safe: a rule without a readable checkpoint runs in full, as on its first day.

It is checked, not trusted: whoever can write the parameter must not be able to silence a rule or
crash it. On load every field must have the type and range this code writes, every time must be
finite and no later than the run's own time (a watermark or reconcile time in the future would
keep jobs unjudged for good), a run position must name a mode and a kind the caller can resume,
and sizes are bounded. Anything else is rejected as a whole (logged, recorded in ``problems``) and
the run is full.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Collection, Mapping

from botocore.exceptions import ClientError

from rules.inventory.transcribe import KINDS_BY_KEY

LOGGER = logging.getLogger(__name__)

PREFIX = "/transcribe-guard/checkpoints"
FORMAT_VERSION = 1
# Standard SSM parameters hold 4 KB; a List NextToken can be up to 8 KB. A longer token is not
# kept: the run then resumes by re-listing from the newest job and skipping the done ones.
MAX_STORED_TOKEN = 2048
# What we write fits a standard parameter; botocore's ssm model (PutParameter Value): "Standard
# parameters have a value limit of 4 KB. Advanced parameters have a value limit of 8 KB." A longer
# value (an advanced parameter) is not one of ours. See also
# https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html
MAX_TEXT = 4096
MAX_DIGEST = 64  # parameters_digest is 16 hex digits; job_references stores a short format name
# The references map (rules/inventory/job_references.py): more entries than fit the 4 KB a save is allowed
# (an entry takes at least ~30 characters: a name, a time and a job name), a key as long as the
# longest name a job holds (a role ARN: DataAccessRoleArn is at most 2048 in botocore's transcribe
# model), and at most MAX_REFERENCE_NAMES job names of at most 200 characters each
# (TranscriptionJobName, max 200).
MAX_REFERENCES = 200
MAX_REFERENCE_KEY = 2048
MAX_REFERENCE_NAMES = 3
MAX_JOB_NAME = 200
MAX_COUNT = 10**9  # noncompliant results, invocations of one run
MODES = ("full", "incremental", "reconcile", "references")  # references: rules/inventory/job_references.py


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
    # Rules judging what jobs name (rules/inventory/job_references.py): name -> [newest job's creation, job names]
    references: dict[str, list[Any]] | None = None
    version: int = FORMAT_VERSION

    def to_json(self) -> str:
        data = asdict(self)
        if self.run and self.run.token and len(self.run.token) > MAX_STORED_TOKEN:
            data["run"]["token"] = None
        return json.dumps(data, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str, now: float | None = None, modes: Collection[str] = MODES,
                  kinds: Collection[str] | None = None) -> "Checkpoint":
        """Parse and check a stored checkpoint; raises CheckpointError naming the first bad field.
        With ``now``, every time must be at or before it. A run position's mode must be one of
        ``modes`` and its kind one of ``kinds`` (default: "" or any Transcribe kind)."""
        if not isinstance(text, str) or len(text.encode("utf-8", "surrogatepass")) > MAX_TEXT:
            raise CheckpointError(f"the value is not text of at most {MAX_TEXT} bytes")
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as error:  # RecursionError: "[[[[..." nested too deep
            raise CheckpointError("the value is not JSON") from error
        if not isinstance(data, dict):
            raise CheckpointError("the value is not a JSON object")
        _known_fields(data, cls, "")
        version = data.get("version")
        if type(version) is not int or version != FORMAT_VERSION:  # True == 1 and 1.0 == 1 in Python
            raise CheckpointError(f"version is not {FORMAT_VERSION}")
        parameters = data.get("parameters")
        if not isinstance(parameters, str) or len(parameters) > MAX_DIGEST:
            raise CheckpointError(f"parameters is not a string of at most {MAX_DIGEST} characters")
        checkpoint = cls(parameters=parameters, watermark=_time(data, "watermark", now),
                         floor=_time(data, "floor", now), reconciled=_time(data, "reconciled", now),
                         full_next=_flag(data, "full_next"), reconcile_next=_flag(data, "reconcile_next"),
                         account_flagged=_flag(data, "account_flagged"),
                         references=_references(data.get("references"), now))
        if data.get("run") is not None:
            checkpoint.run = _position(data["run"], now, modes, kinds)
        return checkpoint


class CheckpointError(ValueError):
    """A stored value that is not a checkpoint this code could have written. The message names
    the field and what is wrong with it, never the stored value (anyone able to write the
    parameter chooses it)."""


def _known_fields(data: Mapping[str, Any], cls: type, where: str) -> None:
    unknown = set(data) - {f.name for f in fields(cls)}
    if unknown:
        raise CheckpointError(f"{where or 'the checkpoint'} has {len(unknown)} unknown field(s)")


def _required_time(data: Mapping[str, Any], key: str, now: float | None, where: str = "") -> float:
    value = _time(data, key, now, where)
    if value is None:
        raise CheckpointError(f"{where}{key} is missing")
    return value


def _time(data: Mapping[str, Any], key: str, now: float | None, where: str = "") -> float | None:
    """An epoch time (None when absent): a finite number, not negative, and not after ``now``."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CheckpointError(f"{where}{key} is not a number")
    try:
        number = float(value)
    except OverflowError as error:  # an integer beyond any float
        raise CheckpointError(f"{where}{key} is not a finite number") from error
    if not math.isfinite(number):  # json.loads accepts NaN, Infinity and 1e999
        raise CheckpointError(f"{where}{key} is not a finite number")
    if number < 0:
        raise CheckpointError(f"{where}{key} is before 1970")
    if now is not None and number > now:
        raise CheckpointError(f"{where}{key} is after this run's time")
    return number


def _flag(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise CheckpointError(f"{key} is not true or false")
    return value


def _count(data: Mapping[str, Any], key: str, default: int, least: int, where: str) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= MAX_COUNT:
        raise CheckpointError(f"{where}{key} is not a whole number from {least} to {MAX_COUNT}")
    return int(value)


def _position(data: Any, now: float | None, modes: Collection[str], kinds: Collection[str] | None) -> Position:
    where = "run."
    if not isinstance(data, dict):
        raise CheckpointError("run is not an object")
    _known_fields(data, Position, "run")
    mode = data.get("mode")
    if not isinstance(mode, str) or mode not in modes:
        raise CheckpointError(f"run.mode is not one of {', '.join(modes)}")
    kind = data.get("kind")
    allowed = kinds if kinds is not None else ["", *KINDS_BY_KEY]
    if not isinstance(kind, str) or kind not in allowed:
        raise CheckpointError("run.kind is not a kind this rule lists")
    token = data.get("token")
    if token is not None and (not isinstance(token, str) or len(token) > MAX_STORED_TOKEN):
        raise CheckpointError(f"run.token is not a string of at most {MAX_STORED_TOKEN} characters")
    return Position(mode=mode, started=_required_time(data, "started", now, where), kind=kind,
                    before=_time(data, "before", now, where), token=token, floor=_time(data, "floor", now, where),
                    noncompliant=_count(data, "noncompliant", 0, 0, where),
                    invocations=_count(data, "invocations", 1, 1, where))


def _references(data: Any, now: float | None) -> dict[str, list[Any]] | None:
    """name -> [newest job's creation time, job names] (rules/inventory/job_references.py)."""
    if data is None:
        return None
    if not isinstance(data, dict) or len(data) > MAX_REFERENCES:
        raise CheckpointError(f"references is not an object of at most {MAX_REFERENCES} entries")
    checked: dict[str, list[Any]] = {}
    for key, entry in data.items():
        if not key or len(key) > MAX_REFERENCE_KEY:
            raise CheckpointError(f"a references name is empty or longer than {MAX_REFERENCE_KEY} characters")
        if not isinstance(entry, list) or len(entry) != 2:
            raise CheckpointError("a references entry is not [time, job names]")
        newest = _required_time({"time": entry[0]}, "time", now, "a references entry's ")
        names = entry[1]
        if (not isinstance(names, list) or len(names) > MAX_REFERENCE_NAMES
                or not all(isinstance(n, str) and 0 < len(n) <= MAX_JOB_NAME for n in names)):
            raise CheckpointError(f"a references entry's job names are not a list of at most {MAX_REFERENCE_NAMES} "
                                  f"names of at most {MAX_JOB_NAME} characters")
        checked[key] = [newest, list(names)]
    return checked


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

    def load(self, now: float, modes: Collection[str] = MODES, kinds: Collection[str] | None = None
             ) -> Checkpoint | None:
        """The stored checkpoint, checked against the run's time ``now`` and the ``modes`` and
        ``kinds`` the caller resumes (Checkpoint.from_json), or None: first run, or unreadable or
        rejected (logged and recorded in ``problems``), and the run is full."""
        try:
            value = self.ssm.get_parameter(Name=self.name)["Parameter"]["Value"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ParameterNotFound":
                self.problems.append(f"reading the checkpoint failed ({error.response['Error'].get('Code')})")
                LOGGER.warning("checkpoint %s unreadable (%s): running in full", self.name, error)
            return None
        try:
            return Checkpoint.from_json(value, now, modes, kinds)
        except CheckpointError as error:
            self.problems.append(f"the stored checkpoint was rejected ({error}); this run is full")
            LOGGER.warning("checkpoint %s rejected (%s): running in full", self.name, error)
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
