"""The Transcribe ledger: one Amazon DynamoDB item per job or customization holding the compact
facts the rules read, written by the collector (rules/engine/collector.py) so that the pack reads
each job from Transcribe once in its life, and read by the rules through ``LedgerInventory``,
which answers exactly as ``TranscribeInventory`` does (rules do not know which one they have).

An item holds:

- ``pk`` ``account#region#kind`` and ``sk`` ``creationTime#name`` (creation time in epoch
  milliseconds, 15 digits, so that a Query newest first returns jobs in the order List does);
  customizations, which List by name, sort with creation time 0;
- ``arn`` (the key of the ``arn`` global secondary index, for events that name a resource only);
- ``summary``: the List summary fields in ``LEDGER_FIELDS`` (same names and nesting as the List
  response), ``detail``: the projection of the Get response (same nesting as the Get response,
  so rule code reads it unchanged), ``tags`` (key -> value); a job that has not reached a final
  state has no ``detail`` yet, and a rule asking for it is answered "Could not evaluate";
- ``v`` (the projection's version: a record written by an older projection may lack a field a
  rule now reads, so it counts as not in the ledger), ``recorded`` (epoch seconds, last write),
  ``complete`` (when the details were first recorded; a rule's incremental window counts a job
  the sweep recorded late, after a missed event, as new then) and, for jobs, ``expires``: the TTL
  attribute, creation + 90 days (Transcribe keeps job records 90 days:
  docs/aws-facts.md) + ``TTL_MARGIN``. Customizations have no TTL: they live until deleted.

No transcript text is ever stored: Get responses hold none, and only the fields listed in
``LEDGER_FIELDS`` (each named with the rule that reads it) are copied. Every field is bounded by
botocore's model (string lengths, list lengths), so ``max_item_bytes`` bounds every item below
DynamoDB's 400 KB item limit (DynamoDB Developer Guide, "Constraints in Amazon DynamoDB", Items;
item size counts attribute names and UTF-8 values, "DynamoDB item sizes and formats").
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging
import os
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterator, Mapping

import botocore.session
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer  # type: ignore[import-untyped]  # no stubs
from botocore.exceptions import ClientError

from rules.engine.pacing import RateLimiter, shared_limiter
from rules.inventory.transcribe import (ALL_KINDS, FAILED, FINISHED_OK, JOB_KINDS, LIST_PAGE_SIZE, ListingError,
                                        Resource, ResourceKind, resumed)

LOGGER = logging.getLogger(__name__)

TABLE_ENV = "TRANSCRIBE_GUARD_LEDGER_TABLE"  # set on the functions by the functions template
ARN_INDEX = "arn"  # the global secondary index keyed on the resource ARN (KEYS_ONLY)
LEDGER_VERSION = 1  # bump when LEDGER_FIELDS gains a field: older records then count as missing
# Transcribe deletes job records 90 days after creation (docs/aws-facts.md); the margin keeps a
# record a little longer than the job, so the rules retire it on their own expiry sweep first.
JOB_RETENTION = dt.timedelta(days=90)
TTL_MARGIN = dt.timedelta(days=7)
MAX_ITEM_BYTES = 400 * 1024  # DynamoDB's item size limit (400 KB, 1 KB = 1024 bytes)
NOT_IN_LEDGER = "NotInLedger"  # the error code a rule's "Could not evaluate" names
# A kind's records are trusted only while the collector sweeps it: a partition no sweep has
# completed (a new ledger, or an account whose role the collector cannot assume) reads as empty,
# and a sweep that stopped completing leaves every later job out. Either is "Could not evaluate"
# for the whole kind, never "no resources". The sweep runs hourly (LEDGER_SWEEP_SCHEDULE); a day
# without one complete sweep is taken as the collector not working.
NOT_SWEPT = "LedgerNotSwept"
SWEEP_STALE = "LedgerSweepStale"
SWEPT_WITHIN = dt.timedelta(days=1)
FINAL_STATES = (FINISHED_OK, FAILED)

_ALL_JOBS = tuple(kind.key for kind in JOB_KINDS)
_OUTPUT_RULES = ("transcribe-job-output-encrypted", "transcribe-job-output-location")
_BUCKET_RULES = ("transcribe-bucket-encrypted", "transcribe-bucket-public-access-blocked",
                 "transcribe-bucket-tls-enforced", "transcribe-kms-key-protected")  # via rules/inventory/discovery.py
_ENGINE = "engine"  # rules/engine/incremental.py and rules/inventory/job_references.py (run windows)
_COLLECTOR = "collector"  # rules/engine/collector.py (change detection of customizations)


@dataclass(frozen=True)
class Field:
    """One attribute of a ledger record: where it sits (``summary``, ``detail``, ``tags``), its
    path in the List or Get response, the kinds that have it and who reads it."""

    section: str
    path: tuple[str, ...]
    kinds: tuple[str, ...]
    readers: tuple[str, ...]


def _f(section: str, path: str, kinds: tuple[str, ...], *readers: str) -> Field:
    return Field(section, tuple(path.split(".")), kinds, readers)


# Every field a record holds, with the rules that read it. tests/test_ledger.py runs every rule
# against a recording inventory and checks that what they touch is exactly this (plus the
# engine's and the collector's own fields).
LEDGER_FIELDS: tuple[Field, ...] = (
    *(_f("summary", kind.name_field, (kind.key,), _ENGINE) for kind in ALL_KINDS),
    _f("summary", "TranscriptionJobStatus", ("transcription-job", "medical-transcription-job"),
       *_OUTPUT_RULES, "transcribe-job-pii-redaction", _ENGINE),
    _f("summary", "CallAnalyticsJobStatus", ("analytics",), *_OUTPUT_RULES, "transcribe-job-pii-redaction", _ENGINE),
    _f("summary", "MedicalScribeJobStatus", ("medical-scribe-job",), *_OUTPUT_RULES, _ENGINE),
    _f("summary", "VocabularyState", ("vocabulary", "medical-vocabulary"), "transcribe-customization-encrypted"),
    _f("summary", "ModelStatus", ("language-model",), "transcribe-customization-encrypted"),
    _f("summary", "CreationTime", _ALL_JOBS, _ENGINE),
    _f("summary", "CompletionTime", _ALL_JOBS, _ENGINE),
    _f("summary", "OutputLocationType", _ALL_JOBS, *_OUTPUT_RULES),
    _f("summary", "ContentRedaction.RedactionType", ("transcription-job",), "transcribe-job-pii-redaction"),
    _f("summary", "ContentRedaction.RedactionOutput", ("transcription-job",), "transcribe-job-pii-redaction"),
    _f("summary", "ContentRedaction.PiiEntityTypes", ("transcription-job",), "transcribe-job-pii-redaction"),
    _f("summary", "ContentIdentificationType", ("medical-transcription-job",), "transcribe-job-pii-redaction"),
    _f("summary", "LastModifiedTime", ("vocabulary", "medical-vocabulary", "vocabulary-filter", "language-model"),
       _COLLECTOR),
    _f("summary", "LastUpdateTime", ("analytics-category",), _COLLECTOR),
    _f("detail", "Media.MediaFileUri", _ALL_JOBS, *_BUCKET_RULES),
    _f("detail", "Transcript.TranscriptFileUri", ("transcription-job", "medical-transcription-job", "analytics"),
       *_OUTPUT_RULES, *_BUCKET_RULES),
    _f("detail", "Transcript.RedactedTranscriptFileUri", ("transcription-job", "analytics"),
       *_OUTPUT_RULES, *_BUCKET_RULES),
    _f("detail", "Media.RedactedMediaFileUri", ("analytics",), *_OUTPUT_RULES, *_BUCKET_RULES,
       "transcribe-job-pii-redaction"),
    _f("detail", "MedicalScribeOutput.TranscriptFileUri", ("medical-scribe-job",), *_OUTPUT_RULES, *_BUCKET_RULES),
    _f("detail", "MedicalScribeOutput.ClinicalDocumentUri", ("medical-scribe-job",), *_OUTPUT_RULES, *_BUCKET_RULES),
    _f("detail", "JobExecutionSettings.DataAccessRoleArn", ("transcription-job",), "transcribe-data-access-role"),
    _f("detail", "DataAccessRoleArn", ("analytics", "medical-scribe-job", "vocabulary", "vocabulary-filter"),
       "transcribe-data-access-role"),
    _f("detail", "Settings.ContentRedaction.RedactionType", ("analytics",), "transcribe-job-pii-redaction"),
    _f("detail", "Settings.ContentRedaction.RedactionOutput", ("analytics",), "transcribe-job-pii-redaction"),
    _f("detail", "Settings.ContentRedaction.PiiEntityTypes", ("analytics",), "transcribe-job-pii-redaction"),
    _f("detail", "EncryptionConfiguration.KMSKey", ("vocabulary", "vocabulary-filter", "language-model"),
       "transcribe-customization-encrypted", "transcribe-kms-key-protected"),
    _f("detail", "InputDataConfig.S3Uri", ("language-model",), *_BUCKET_RULES),
    _f("detail", "InputDataConfig.TuningDataS3Uri", ("language-model",), *_BUCKET_RULES),
    _f("detail", "InputDataConfig.DataAccessRoleArn", ("language-model",), "transcribe-data-access-role"),
    # Tags: jobs and categories carry them in the Get response, the others through ListTagsForResource.
    _f("tags", "Tags", tuple(kind.key for kind in ALL_KINDS), "transcribe-resource-tagged"),
)

# Summary members that are timestamps: stored as epoch seconds, read back as datetimes (as botocore parses them).
TIME_FIELDS = frozenset({"CreationTime", "CompletionTime", "LastModifiedTime", "LastUpdateTime"})


def fields_of(kind: ResourceKind, section: str) -> list[tuple[str, ...]]:
    return [f.path for f in LEDGER_FIELDS if f.section == section and kind.key in f.kinds]


# --- records ---------------------------------------------------------------------------------------


def partition_key(account_id: str, region: str, kind: ResourceKind) -> str:
    return f"{account_id}#{region}#{kind.key}"


def _epoch(value: Any) -> float | None:
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool):
        return float(value)
    return None


def creation_time(kind: ResourceKind, summary: Mapping[str, Any]) -> float:
    """The creation time a record sorts by: CreationTime for jobs, 0 for customizations (List
    returns them by name, and a Query by partition returns them all)."""
    return (_epoch(summary.get("CreationTime")) or 0.0) if kind.is_job else 0.0


def sort_key(created: float, name: str) -> str:
    return f"{int(round(created * 1000)):015d}#{name}"


def project(source: Mapping[str, Any], paths: list[tuple[str, ...]]) -> dict[str, Any]:
    """The members of ``source`` at ``paths``, in the same nesting; absent members stay absent."""
    out: dict[str, Any] = {}
    for path in paths:
        node: Any = source
        for name in path:
            node = node.get(name) if isinstance(node, Mapping) else None
            if node is None:
                break
        if node is None:
            continue
        target = out
        for name in path[:-1]:
            target = target.setdefault(name, {})
        target[path[-1]] = node
    return out


class RecordTooLarge(ValueError):
    """A record would pass a bound of botocore's model or DynamoDB's item limit: never written."""


def make_record(kind: ResourceKind, account_id: str, region: str, partition: str, name: str,
                summary: Mapping[str, Any], detail: Mapping[str, Any] | None, tags: Mapping[str, str] | None,
                now: float, complete: float | None = None) -> dict[str, Any]:
    """The item (plain Python values) for one resource: the projection of its List summary and,
    once known, of its Get response and its tags. ``complete`` is when the ledger first held the
    details (kept across rewrites; ``now`` when they are new): the rules' incremental windows
    count a job recorded late as new then."""
    created = creation_time(kind, summary)
    record: dict[str, Any] = {
        "pk": partition_key(account_id, region, kind), "sk": sort_key(created, name),
        "arn": f"arn:{partition}:transcribe:{region}:{account_id}:{kind.key}/{name}",
        "kind": kind.key, "name": name, "v": LEDGER_VERSION, "recorded": now,
        "summary": project(summary, fields_of(kind, "summary")),
    }
    if detail is not None:
        record["detail"] = project(detail, fields_of(kind, "detail"))
        record["complete"] = now if complete is None else complete
    if tags is not None:
        record["tags"] = dict(tags)
    if kind.is_job:
        record["expires"] = int((created or now) + (JOB_RETENTION + TTL_MARGIN).total_seconds())
    _check_bounds(kind, record)
    return record


_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return decimal.Decimal(str(round(value.timestamp(), 3)))
    if isinstance(value, float):
        return decimal.Decimal(str(round(value, 3)))
    if isinstance(value, Mapping):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any, key: str = "") -> Any:
    if isinstance(value, decimal.Decimal):
        if key in TIME_FIELDS:
            return dt.datetime.fromtimestamp(float(value), dt.timezone.utc)
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {k: _from_dynamo(v, k) for k, v in value.items()}
    if isinstance(value, (list, set)):
        return [_from_dynamo(v) for v in value]
    return value


def serialize(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record as DynamoDB attribute values (boto3's TypeSerializer)."""
    return {key: _SERIALIZER.serialize(_to_dynamo(value)) for key, value in record.items()}


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB item back as the record ``make_record`` built (times as datetimes)."""
    return {key: _from_dynamo(_DESERIALIZER.deserialize(value), key) for key, value in item.items()}


def same_values(stored: Any, current: Mapping[str, Any]) -> bool:
    """Whether a stored projection equals ``current`` as DynamoDB would store it (times to the
    millisecond)."""
    return isinstance(stored, Mapping) and _to_dynamo(dict(stored)) == _to_dynamo(dict(current))


def item_bytes(item: Mapping[str, Any]) -> int:
    """The item's size as DynamoDB counts it ("DynamoDB item sizes and formats"): attribute
    names and UTF-8 strings; numbers 1 byte per two digits + 1; maps and lists 3 bytes plus
    1 per element."""
    def size(value: Mapping[str, Any]) -> int:
        (kind, inner), = value.items()
        if kind == "S":
            return len(str(inner).encode("utf-8", "surrogatepass"))
        if kind == "N":
            return (len(str(inner).replace("-", "").replace(".", "").strip("0")) + 1) // 2 + 1
        if kind in ("BOOL", "NULL"):
            return 1
        if kind == "M":
            return 3 + sum(len(k.encode("utf-8")) + size(v) + 1 for k, v in inner.items())
        if kind == "L":
            return 3 + sum(size(v) + 1 for v in inner)
        if kind == "SS":
            return 3 + sum(len(s.encode("utf-8")) + 1 for s in inner)
        return len(str(inner))
    return sum(len(name.encode("utf-8")) + size(value) for name, value in item.items())


# --- bounds from botocore's model ---------------------------------------------------------------------

_UTF8_MAX = 4  # bytes per character at most
_UNBOUNDED_STRING = 2048  # a string member with no max in the model (none among LEDGER_FIELDS' leaves)


@lru_cache(maxsize=None)
def _model() -> Any:
    return botocore.session.get_session().get_service_model("transcribe")


def _api(operation: str) -> str:
    return "".join(word.capitalize() for word in operation.split("_"))


def _container_shape(kind: ResourceKind, section: str) -> Any:
    model = _model()
    if section == "summary":
        return model.operation_model(_api(kind.list_operation)).output_shape.members[kind.list_field].member
    shape = model.operation_model(_api(kind.get_operation)).output_shape
    return shape.members[kind.get_field] if kind.get_field else shape


def _leaf_shape(kind: ResourceKind, section: str, path: tuple[str, ...]) -> Any:
    shape = _container_shape(kind, section)
    for name in path:
        if shape.type_name == "list":
            shape = shape.member
        if name not in shape.members:
            return None
        shape = shape.members[name]
    return shape


def _max_value_bytes(shape: Any) -> int:
    meta = shape.metadata
    if shape.type_name == "string":
        if shape.enum:
            return max(len(value) for value in shape.enum)
        return int(meta.get("max", _UNBOUNDED_STRING)) * _UTF8_MAX
    if shape.type_name == "list":
        return 3 + int(meta.get("max", 100)) * (1 + _max_value_bytes(shape.member))
    if shape.type_name == "structure":
        return 3 + sum(len(n) + 1 + _max_value_bytes(m) for n, m in shape.members.items())
    return 21  # a number, timestamp or boolean


def field_bound(kind: ResourceKind, field: Field) -> int:
    """The largest value ``field`` can hold for ``kind``, in DynamoDB bytes, from botocore's
    model: string maximum lengths (4 UTF-8 bytes a character), list maximum lengths, enums."""
    if field.section == "tags":
        tag_list = _model().shape_for("TagList")
        tag = tag_list.member
        per_tag = 1 + _max_value_bytes(tag.members["Key"]) + 1 + _max_value_bytes(tag.members["Value"])
        return 3 + int(tag_list.metadata["max"]) * per_tag
    shape = _leaf_shape(kind, field.section, field.path)
    if shape is None:  # botocore does not model the member for this kind: nothing can be stored
        return 0
    return sum(len(name) + 4 for name in field.path) + _max_value_bytes(shape)


def max_item_bytes(kind: ResourceKind) -> int:
    """An upper bound of any record's size for ``kind``: its fields' bounds plus the keys."""
    name_bound = int(_leaf_shape(kind, "summary", (kind.name_field,)).metadata.get("max", 200)) * _UTF8_MAX
    keys = (len("pk") + 12 + 1 + 20 + 1 + 30) + (len("sk") + 16 + name_bound) + (len("arn") + 100 + name_bound)
    fixed = keys + len("kind") + 30 + len("name") + name_bound + 64 + len("summary") + len("detail") + len("tags") + 9
    return fixed + sum(field_bound(kind, f) for f in LEDGER_FIELDS if kind.key in f.kinds)


def _check_bounds(kind: ResourceKind, record: Mapping[str, Any]) -> None:
    tags = record.get("tags") or {}
    tag_list = _model().shape_for("TagList")
    if len(tags) > int(tag_list.metadata["max"]):
        raise RecordTooLarge(f"{len(tags)} tags: Transcribe allows {tag_list.metadata['max']}")
    size = item_bytes(serialize(record))
    if size > MAX_ITEM_BYTES:
        raise RecordTooLarge(f"a {kind.label} record of {size} bytes is over DynamoDB's {MAX_ITEM_BYTES}")


# --- the store --------------------------------------------------------------------------------------


class LedgerStore:
    """Reads and writes ledger records in one table."""

    def __init__(self, client: Any, table: str):
        self.client = client
        self.table = table
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        with self._lock:
            self.calls[operation] = self.calls.get(operation, 0) + 1
        result: dict[str, Any] = getattr(self.client, operation)(TableName=self.table, **kwargs)
        return result

    def put(self, record: Mapping[str, Any]) -> None:
        self._call("put_item", Item=serialize(record))

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        item = self._call("get_item", Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True).get("Item")
        return deserialize(item) if item else None

    def get_many(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """BatchGetItem, 100 keys at a time, unprocessed keys retried: (pk, sk) -> record."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        pending = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in dict.fromkeys(keys)]
        for start in range(0, len(pending), 100):
            request: dict[str, Any] = {self.table: {"Keys": pending[start:start + 100], "ConsistentRead": True}}
            for attempt in range(8):
                with self._lock:
                    self.calls["batch_get_item"] = self.calls.get("batch_get_item", 0) + 1
                answer = self.client.batch_get_item(RequestItems=request)
                for item in answer.get("Responses", {}).get(self.table, []):
                    record = deserialize(item)
                    found[(record["pk"], record["sk"])] = record
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(min(0.05 * 2 ** attempt, 1.0))
            else:
                raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException",
                                             "Message": "ledger reads left unprocessed"}}, "BatchGetItem")
        return found

    def keys_for_arn(self, arn: str) -> list[tuple[str, str]]:
        """The (pk, sk) of the records of ``arn`` (one, unless a name was reused after a delete)."""
        answer = self._call("query", IndexName=ARN_INDEX, KeyConditionExpression="arn = :a",
                            ExpressionAttributeValues={":a": {"S": arn}})
        return [(item["pk"]["S"], item["sk"]["S"]) for item in answer.get("Items", [])]

    def by_arn(self, arn: str) -> dict[str, Any] | None:
        for pk, sk in self.keys_for_arn(arn):
            record = self.get(pk, sk)
            if record is not None:
                return record
        return None

    def delete(self, pk: str, sk: str) -> None:
        self._call("delete_item", Key={"pk": {"S": pk}, "sk": {"S": sk}})

    def set_tags(self, pk: str, sk: str, tags: Mapping[str, str]) -> None:
        """Replace a record's tags; a record that is not there is not created."""
        try:
            self._call("update_item", Key={"pk": {"S": pk}, "sk": {"S": sk}}, UpdateExpression="SET tags = :t",
                       ConditionExpression="attribute_exists(pk)",
                       ExpressionAttributeValues={":t": _SERIALIZER.serialize(dict(tags))})
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    def query(self, pk: str, start: str | None = None, newest_first: bool = True,
              limit: int = LIST_PAGE_SIZE,
              between: tuple[str, str] | None = None) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a partition (``between``: only sort keys in [low, high]): (records, the
        sort key to start the next page after, or None)."""
        kwargs: dict[str, Any] = {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": pk}},
                                  "ScanIndexForward": not newest_first, "Limit": limit}
        if between:
            kwargs["KeyConditionExpression"] += " AND sk BETWEEN :lo AND :hi"
            kwargs["ExpressionAttributeValues"].update({":lo": {"S": between[0]}, ":hi": {"S": between[1]}})
        if start:
            kwargs["ExclusiveStartKey"] = {"pk": {"S": pk}, "sk": {"S": start}}
        answer = self._call("query", **kwargs)
        last = answer.get("LastEvaluatedKey")
        return [deserialize(item) for item in answer.get("Items", [])], (last["sk"]["S"] if last else None)

    def meta(self, pk: str) -> dict[str, Any] | None:
        """The collector's own item for a partition (its sweep watermark), kept in a partition
        of its own (``pk#sweep``) so that no Query of records meets it."""
        return self.get(f"{pk}#sweep", "#meta")

    def put_meta(self, pk: str, values: Mapping[str, Any]) -> None:
        self.put({"pk": f"{pk}#sweep", "sk": "#meta", **values})


def not_in_ledger(kind: ResourceKind, operation: str, why: str = "not in the ledger") -> ClientError:
    return ClientError({"Error": {"Code": NOT_IN_LEDGER, "Message": f"{kind.label}: {why}"}}, operation)


# --- the inventory the rules read -------------------------------------------------------------------


class LedgerInventory:
    """TranscribeInventory's interface (resources, pages, resume_pages, detail, tags, forget, arn,
    calls), answered from the ledger. A resource with no record, or a record without the Get
    projection (a job not finished, or a record written by an older projection), is never taken
    as anything: ``detail`` raises a ClientError coded NotInLedger, so the rule reports it
    "Could not evaluate"."""

    def __init__(self, store: LedgerStore, account_id: str, region: str, partition: str = "aws",
                 limiter: RateLimiter | None = None, clock: Callable[[], float] = time.time):
        self.store = store
        self.account_id, self.region, self.partition = account_id, region, partition
        self.limiter = limiter or shared_limiter()  # the run still paces CloudTrail (LookupEvents) through it
        self.clock = clock
        self.ledger = True  # rules/inventory/job_references.py reads unfinished jobs' details only live
        self._listed: dict[str, list[Resource]] = {}
        self._records: dict[tuple[str, str], dict[str, Any]] = {}
        self._meta: dict[str, dict[str, Any]] = {}  # partition -> the collector's sweep item, read once a run

    @property
    def calls(self) -> dict[str, int]:
        return self.store.calls

    def arn(self, kind: ResourceKind, name: str) -> str:
        return f"arn:{self.partition}:transcribe:{self.region}:{self.account_id}:{kind.key}/{name}"

    def resources(self, kind: ResourceKind) -> list[Resource]:
        if kind.key not in self._listed:
            self._listed[kind.key] = [resource for _, page in self.pages(kind) for resource in page]
        return self._listed[kind.key]

    def pages(self, kind: ResourceKind, token: str | None = None) -> Iterator[tuple[str | None, list[Resource]]]:
        """The kind's records a page (100) at a time, newest first like List; the token is the
        sort key the page starts after. Raises ListingError when the table cannot be read."""
        pk = partition_key(self.account_id, self.region, kind)
        if token is not None and not (token[:15].isdigit() and token[15:16] == "#"):
            raise ListingError(kind, ClientError({"Error": {"Code": "ValidationException",
                                                            "Message": "not a ledger token"}}, "Query"))
        self._check_swept(kind)
        start = token
        seen: set[str] = set()
        now = self.clock()
        # Transcribe deletes a job's record 90 days after its creation, and List stops showing it:
        # so does the ledger, though it keeps the record TTL_MARGIN longer (a reconcile then
        # retires the job's results as it would from List, not a week or two late). A record
        # without a creation time (sort key 0) is never taken as expired: it is offered, not lost.
        retained_since = sort_key(now - JOB_RETENTION.total_seconds(), "") if kind.is_job else ""
        unknown_creation = sort_key(0, "")
        while True:
            try:
                records, last = self.store.query(pk, start)
            except ClientError as error:
                raise ListingError(kind, error) from error
            page = []
            for record in records:
                sk = str(record.get("sk") or "")
                if sk < retained_since and not sk.startswith(unknown_creation):
                    continue  # past the record retention (older ones follow: the paging goes on for sort key 0)
                expires = record.get("expires")
                if isinstance(expires, (int, float)) and expires <= now:
                    continue  # past its TTL: DynamoDB deletes it within days, the rules see it gone now
                page.append(self._listed_resource(kind, record))
            yield start, page
            if not last or last in seen:
                return
            seen.add(last)
            start = last

    def resume_pages(self, kind: ResourceKind, token: str | None) -> Iterator[tuple[str | None, list[Resource]]]:
        return resumed(self.pages, kind, token)

    def _listed_resource(self, kind: ResourceKind, record: dict[str, Any]) -> Resource:
        """A record read by a Query, as the Resource List would give (kept for detail and tags)."""
        complete = record.get("complete")
        self._records[(kind.key, record["name"])] = record
        return Resource(kind, record["name"], self.arn(kind, record["name"]), record.get("summary") or {},
                        float(complete) if isinstance(complete, (int, float)) else None)

    def _sweep_meta(self, kind: ResourceKind) -> dict[str, Any]:
        pk = partition_key(self.account_id, self.region, kind)
        if pk not in self._meta:
            self._meta[pk] = self.store.meta(pk) or {}
        return self._meta[pk]

    def _check_swept(self, kind: ResourceKind) -> None:
        """ListingError unless a sweep of ``kind`` completed within SWEPT_WITHIN of the run."""
        try:
            watermark = self._sweep_meta(kind).get("watermark")
        except ClientError as error:
            raise ListingError(kind, error) from error
        where = f"account {self.account_id}, {self.region}"
        if not isinstance(watermark, (int, float, decimal.Decimal)):
            raise ListingError(kind, ClientError({"Error": {"Code": NOT_SWEPT, "Message": (
                f"the ledger collector has not yet completed a sweep of {kind.label}s in {where}")}}, "Query"))
        if float(watermark) < self.clock() - SWEPT_WITHIN.total_seconds():
            raise ListingError(kind, ClientError({"Error": {"Code": SWEEP_STALE, "Message": (
                f"the ledger collector's last complete sweep of {kind.label}s in {where} is more than "
                f"{SWEPT_WITHIN.days} day old")}}, "Query"))

    def recorded_through(self, kind: ResourceKind) -> float | None:
        """When the collector last swept ``kind`` to its end (or the oldest job then unfinished,
        if older): every job created before it, less the sweep's skew, that had finished is in
        the ledger; one created after may be recorded later (the next sweep goes back to it).
        None: no sweep has completed yet."""
        meta = self._sweep_meta(kind)
        watermark, floor = meta.get("watermark"), meta.get("floor")
        if not isinstance(watermark, (int, float, decimal.Decimal)):
            return None
        through = float(watermark)
        if isinstance(floor, (int, float, decimal.Decimal)):
            through = min(through, float(floor))
        return through

    def past_retention_since(self, kind: ResourceKind, since: float) -> Iterator[Resource]:
        """The jobs of ``kind`` whose 90-day record retention ended after ``since`` and by now
        (Transcribe has deleted them in between; the ledger keeps them TTL_MARGIN longer, so a
        run can retire their results the day they go), newest first."""
        if not kind.is_job:
            return
        pk, now, retention = partition_key(self.account_id, self.region, kind), self.clock(), JOB_RETENTION.total_seconds()
        low, high = sort_key(since - retention, ""), sort_key(now - retention, "")
        start: str | None = None
        while True:
            records, last = self.store.query(pk, start, between=(low, high))
            for record in records:
                yield self._listed_resource(kind, record)
            if not last:
                return
            start = last

    def forget(self, resource: Resource) -> None:
        self._records.pop((resource.kind.key, resource.name), None)

    def _record(self, resource: Resource, operation: str) -> dict[str, Any]:
        key = (resource.kind.key, resource.name)
        record = self._records.get(key)
        if record is None:  # a resource the run did not page (named by a CloudTrail event)
            try:
                record = self.store.by_arn(resource.arn)
            except ClientError as error:
                raise ClientError(error.response, operation) from error
            if record is None:
                raise not_in_ledger(resource.kind, operation)
            self._records[key] = record
        if record.get("v") != LEDGER_VERSION:
            raise not_in_ledger(resource.kind, operation, "recorded by an older ledger version")
        return record

    def detail(self, resource: Resource) -> dict[str, Any]:
        kind = resource.kind
        operation = _api(kind.get_operation)
        record = self._record(resource, operation)
        detail = record.get("detail")
        if not isinstance(detail, dict):
            raise not_in_ledger(kind, operation, "no details recorded yet")
        return detail

    def tags(self, resource: Resource) -> dict[str, str]:
        operation = _api(resource.kind.get_operation) if resource.kind.is_job else "ListTagsForResource"
        record = self._record(resource, operation)
        tags = record.get("tags")
        if not isinstance(tags, dict):
            raise not_in_ledger(resource.kind, operation, "no tags recorded yet")
        return {str(k): str(v) for k, v in tags.items()}


def ledger_table() -> str | None:
    """The ledger table the functions read, from the environment (None: live calls)."""
    return os.environ.get(TABLE_ENV) or None
