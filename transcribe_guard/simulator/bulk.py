"""Fast seeding of the simulated Transcribe for benchmarks: job records written straight into the
backend (no HTTP, no S3 objects), and expiry of records past Transcribe's 90-day retention.

    backend = transcribe_backend()
    seed_jobs(backend, "transcription-job", 100_000,
              created_at=lambda i: start + dt.timedelta(seconds=60 * i),
              request={"OutputBucketName": "calls-out",
                       "ContentRedaction": {"RedactionType": "PII", "RedactionOutput": "redacted"}},
              tags={"team": "contact-center"}, name_prefix="call")
    expire_records(backend, retention_days=90)

A seeded job is built by the same code as a Start* call (request validation, the fields the job
keeps, status changes, output URIs), once, for a template job; each job is then a shallow copy
of the template with its own name, ARN, timestamps and name-bearing URIs. So List summaries and
Get responses carry exactly the members a job started through the API carries
(OutputLocationType, ContentRedaction, transcript URIs in the customer bucket or the service
bucket's presigned URL...). Nested settings (Media, ContentRedaction, Settings) are shared between
the seeded jobs, which is safe because the simulator replaces, never edits, a job's members.
What seeding does not do: check that the media and output bucket exist, or write the transcripts
to S3 (a seeded COMPLETED job completed regardless of its media). Service-bucket presigned URLs
differ per job only by the job's name (one signature for the batch).

Kinds: "transcription-job", "medical-transcription-job", "analytics" (Call Analytics),
"medical-scribe-job" (the keys of transcribe.KINDS that are jobs).
"""

from __future__ import annotations

import bisect
import datetime as dt
from typing import Any, Callable

from transcribe_guard.simulator import clock
from transcribe_guard.simulator.shapes import service_model, validate
from transcribe_guard.simulator.transcribe import KINDS, Record, TranscribeSimBackend, _order_key

MEDIA_URI = "s3://transcribe-guard-bench-media/call.wav"
OUTPUT_BUCKET = "transcribe-guard-bench-output"
ROLE_ARN = "arn:aws:iam::123456789012:role/TranscribeBenchDataAccess"
STATUSES = ("QUEUED", "IN_PROGRESS", "COMPLETED", "FAILED")
FAILURE_REASON = ("The S3 URI that you provided can't be accessed. Make sure that you have read permission and "
                  "try your request again.")

# A minimal valid Start* request per kind (the model's required members); ``request`` overrides
# them member by member.
DEFAULT_REQUESTS: dict[str, dict[str, Any]] = {
    "transcription-job": {"Media": {"MediaFileUri": MEDIA_URI}, "LanguageCode": "en-US"},
    "medical-transcription-job": {"Media": {"MediaFileUri": MEDIA_URI}, "LanguageCode": "en-US",
                                  "OutputBucketName": OUTPUT_BUCKET, "Specialty": "PRIMARYCARE",
                                  "Type": "CONVERSATION"},
    "analytics": {"Media": {"MediaFileUri": MEDIA_URI}},
    "medical-scribe-job": {"Media": {"MediaFileUri": MEDIA_URI}, "OutputBucketName": OUTPUT_BUCKET,
                           "DataAccessRoleArn": ROLE_ARN,
                           "Settings": {"ShowSpeakerLabels": True, "MaxSpeakerLabels": 2}},
}

_PLACEHOLDER = "\x00job-name\x00"


def _utc(moment: dt.datetime) -> dt.datetime:
    moment = moment.astimezone(dt.timezone.utc) if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
    return moment.replace(microsecond=0)  # the simulated service keeps whole seconds


def _mentions(value: Any, text: str) -> bool:
    if isinstance(value, str):
        return text in value
    if isinstance(value, dict):
        return any(_mentions(v, text) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, text) for v in value)
    return False


def _substitute(value: Any, name: str) -> Any:
    if isinstance(value, str):
        return value.replace(_PLACEHOLDER, name)
    if isinstance(value, dict):
        return {k: _substitute(v, name) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, name) for v in value]
    return value


def seed_jobs(backend: TranscribeSimBackend, kind_key: str, count: int, *,
              created_at: dt.datetime | Callable[[int], dt.datetime] | None = None, status: str = "COMPLETED",
              request: dict[str, Any] | None = None, tags: dict[str, str] | None = None,
              name_prefix: str = "job") -> list[str]:
    """Add ``count`` jobs named ``{name_prefix}-{i:06d}`` and return their names. ``created_at``
    is their CreationTime (a datetime, or a function of the index; default: the simulated now);
    StartTime and CompletionTime equal it as the status implies. ``request`` holds Start* request
    members applied to every job (over a minimal valid request); ``tags`` their tags."""
    kind = KINDS.get(kind_key)
    if kind is None or not kind.is_job:
        jobs = ", ".join(k for k, v in KINDS.items() if v.is_job)
        raise ValueError(f"unknown job kind {kind_key!r}; choose one of: {jobs}")
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    if count < 0:
        raise ValueError("count must not be negative")
    names = [f"{name_prefix}-{i:06d}" for i in range(count)]
    params = {**DEFAULT_REQUESTS[kind_key], **(request or {})}
    if tags:
        params["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    if names:  # the request must be one the service model accepts, as through the API
        problems = validate(service_model("transcribe").operation_model(kind.create_op).input_shape,
                            {**params, kind.name_field: names[0]})
        if problems:
            raise ValueError(f"invalid {kind.create_op} request: {problems}")
    template_request = {**params, kind.name_field: _PLACEHOLDER}
    fixed: dt.datetime | None = None
    created: Callable[[int], dt.datetime] | None = None
    if created_at is None:
        fixed = _utc(clock.now())
    elif isinstance(created_at, dt.datetime):
        fixed = _utc(created_at)
    else:
        created = created_at

    with backend._lock:
        existing = backend.records[kind.key]
        clash = next((n for n in names if n in existing), None)
        if clash:
            raise ValueError(f"a {kind_key} named {clash} already exists")
        record_tags = backend._validated_tags(params.get("Tags") or [])
        template = _template(backend, kind, template_request, status)
        by_name = [key for key, value in template.fields.items() if _mentions(value, _PLACEHOLDER)]
        times = [key for key in ("CreationTime", "StartTime", "CompletionTime") if key in template.fields]
        shared_request = {k: v for k, v in params.items() if k != kind.name_field}
        arn_prefix = backend.arn(kind, "")
        batch: list[Record] = []
        seq = backend._seq
        for index, name in enumerate(names):
            fields = dict(template.fields)
            for key in by_name:
                fields[key] = _substitute(template.fields[key], name)
            moment = fixed if created is None else _utc(created(index))
            for key in times:
                fields[key] = moment
            seq += 1
            batch.append(Record(kind, name, arn_prefix + name, fields, seq,
                                tags=dict(record_tags) if record_tags else {}, request=shared_request))
        backend._seq = seq
        for record in batch:
            existing[record.name] = record
        backend._insert_ordered(batch)
    return names


def _template(backend: TranscribeSimBackend, kind: Any, params: dict[str, Any], status: str) -> Record:
    """A job as Start* would leave it, named with the placeholder, without S3 checks or writes."""
    fields = backend._job_fields(kind, params, check_resources=False)
    record = Record(kind, _PLACEHOLDER, "", fields, 0, request=params)
    if status == "QUEUED":
        return record
    now = fields["CreationTime"]
    fields[kind.status_field] = "IN_PROGRESS"
    fields["StartTime"] = now
    if status == "COMPLETED":
        backend._finish_job(record, write=False, now=now)
    elif status == "FAILED":
        fields.update({kind.status_field: "FAILED", "CompletionTime": now, "FailureReason": FAILURE_REASON})
    return record


def expire_records(backend: TranscribeSimBackend, retention_days: float = 90) -> int:
    """Delete the job records created before ``clock.now() - retention_days`` (Transcribe keeps
    job records for 90 days); returns how many were removed."""
    cutoff = clock.now() - dt.timedelta(days=retention_days)
    removed = 0
    with backend._lock:
        for key, kind in KINDS.items():
            if not kind.is_job:
                continue
            ordered = backend.ordered[key]
            old = bisect.bisect_left(ordered, (cutoff, 0), key=_order_key)  # ascending by CreationTime
            if not old:
                continue
            records = backend.records[key]
            for record in ordered[:old]:
                del records[record.name]
            del ordered[:old]
            removed += old
    return removed
