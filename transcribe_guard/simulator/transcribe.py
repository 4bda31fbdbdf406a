"""A simulated Amazon Transcribe, served through moto in place of moto's partial one.

It covers every resource kind the rules evaluate: transcription, medical transcription, call
analytics and medical scribe jobs; vocabularies, medical vocabularies, vocabulary filters,
language models and call analytics categories; with Start/Create, Get/Describe, List (paged,
jobs newest first, default page size 5 like the service), Update, Delete and tagging.

Behaviour that matters to the rules is modelled on the service:
- a job whose media object is missing in (simulated) S3 FAILS, as the service does;
- a completed job with a customer output bucket writes its transcript object(s) into simulated
  S3, SSE-KMS with OutputEncryptionKMSKeyId when given, otherwise under the bucket's default
  encryption; ``redacted_and_unredacted`` writes both transcripts; subtitles are written next to
  the transcript; OutputKey / OutputLocation name a folder, or the file when they end in
  ``.json`` (as the OutputKey documentation describes);
- a Call Analytics request may name its input audio with Media.RedactedMediaFileUri (instead of
  MediaFileUri): the job then also writes redacted audio next to the transcript and its Get
  response reports that object as Media.RedactedMediaFileUri;
- without an output bucket the transcript lives in the service-managed bucket, returned as a
  presigned URL: ``https://s3.<region>.amazonaws.com/aws-transcribe-<region>-prod/<account>/<job>/<uuid>/asrOutput.json?X-Amz-Security-Token=...``;
- a completed job reports MediaFormat (the request's, else the media file's extension),
  MediaSampleRateHertz and, for transcription and medical jobs, Settings with
  ChannelIdentification and ShowAlternatives false unless requested; IdentifyLanguage fills in
  LanguageCode and IdentifiedLanguageScore (the AWS CLI's get-*-transcription-job examples);
- CreateVocabulary, CreateMedicalVocabulary, their Update* and CreateVocabularyFilter answer
  without LastModifiedTime; CreateLanguageModel returns its S3Uri and TuningDataS3Uri as
  prefixes ending in "/" (the AWS CLI's examples; tests/test_simulator_aws_examples.py);
- OutputEncryptionKMSKeyId is accepted on Start* and returned by no Get or List, like AWS;
- Update* overwrites: a vocabulary, filter or language model updated without
  EncryptionConfiguration (or DataAccessRoleArn) no longer has one; EncryptionConfiguration.KMSKey
  must be a key ARN ("Only full KMS key ARN format is supported").

Jobs complete before the next request (deterministic). ``hold_jobs`` keeps new jobs IN_PROGRESS
until ``complete_held_jobs()``, for tests and the demo. Responses are projected onto botocore's
output shapes (see shapes.py), so they carry exactly the model's fields.
"""

from __future__ import annotations

import base64
import bisect
import builtins
import datetime as dt
import json
import re
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from urllib.parse import urlparse, urlsplit
from typing import Any, Callable

from botocore.awsrequest import AWSResponse
from moto import settings as moto_settings
from moto.core import config as moto_config
from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.botocore_stubber import MockRawResponse
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionContext, ActionResult, BaseResponse, EmptyResult
from moto.core.serialize import JSONSerializer
from moto.core.utils import utcnow
from moto.iam.models import mark_account_as_visited
from moto.moto_api import recorder as moto_recorder
from moto.utilities.utils import get_partition
from werkzeug.exceptions import HTTPException
from werkzeug.http import http_date

from transcribe_guard.simulator import clock, cloudtrail_events, throughput
from transcribe_guard.simulator.shapes import Encoder, json_encoder, output_shape, project, service_model

DEFAULT_PAGE_SIZE = 5  # Transcribe's documented default MaxResults


class TranscribeError(ServiceException):
    pass


def _bad_request(message: str) -> TranscribeError:
    return TranscribeError("BadRequestException", message)


@dataclass
class Kind:
    key: str  # ARN resource type
    name_field: str
    create_op: str
    get_op: str
    list_op: str
    delete_op: str
    update_op: str | None = None
    get_field: str | None = None  # response member wrapping the record
    list_field: str = ""
    status_field: str | None = None
    list_status_param: str | None = None
    list_name_param: str | None = None
    is_job: bool = False
    tags_in_record: bool = False  # Get returns Tags inside the record


KINDS: dict[str, Kind] = {k.key: k for k in [
    Kind("transcription-job", "TranscriptionJobName", "StartTranscriptionJob", "GetTranscriptionJob",
         "ListTranscriptionJobs", "DeleteTranscriptionJob", get_field="TranscriptionJob",
         list_field="TranscriptionJobSummaries", status_field="TranscriptionJobStatus", list_status_param="Status",
         list_name_param="JobNameContains", is_job=True, tags_in_record=True),
    Kind("medical-transcription-job", "MedicalTranscriptionJobName", "StartMedicalTranscriptionJob",
         "GetMedicalTranscriptionJob", "ListMedicalTranscriptionJobs", "DeleteMedicalTranscriptionJob",
         get_field="MedicalTranscriptionJob", list_field="MedicalTranscriptionJobSummaries",
         status_field="TranscriptionJobStatus", list_status_param="Status", list_name_param="JobNameContains",
         is_job=True, tags_in_record=True),
    Kind("analytics", "CallAnalyticsJobName", "StartCallAnalyticsJob", "GetCallAnalyticsJob", "ListCallAnalyticsJobs",
         "DeleteCallAnalyticsJob", get_field="CallAnalyticsJob", list_field="CallAnalyticsJobSummaries",
         status_field="CallAnalyticsJobStatus", list_status_param="Status", list_name_param="JobNameContains",
         is_job=True, tags_in_record=True),
    Kind("medical-scribe-job", "MedicalScribeJobName", "StartMedicalScribeJob", "GetMedicalScribeJob",
         "ListMedicalScribeJobs", "DeleteMedicalScribeJob", get_field="MedicalScribeJob",
         list_field="MedicalScribeJobSummaries", status_field="MedicalScribeJobStatus", list_status_param="Status",
         list_name_param="JobNameContains", is_job=True, tags_in_record=True),
    Kind("vocabulary", "VocabularyName", "CreateVocabulary", "GetVocabulary", "ListVocabularies", "DeleteVocabulary",
         update_op="UpdateVocabulary", list_field="Vocabularies", status_field="VocabularyState",
         list_status_param="StateEquals", list_name_param="NameContains"),
    Kind("medical-vocabulary", "VocabularyName", "CreateMedicalVocabulary", "GetMedicalVocabulary",
         "ListMedicalVocabularies", "DeleteMedicalVocabulary", update_op="UpdateMedicalVocabulary",
         list_field="Vocabularies", status_field="VocabularyState", list_status_param="StateEquals",
         list_name_param="NameContains"),
    Kind("vocabulary-filter", "VocabularyFilterName", "CreateVocabularyFilter", "GetVocabularyFilter",
         "ListVocabularyFilters", "DeleteVocabularyFilter", update_op="UpdateVocabularyFilter",
         list_field="VocabularyFilters", list_name_param="NameContains"),
    Kind("language-model", "ModelName", "CreateLanguageModel", "DescribeLanguageModel", "ListLanguageModels",
         "DeleteLanguageModel", update_op="UpdateLanguageModel", get_field="LanguageModel", list_field="Models",
         status_field="ModelStatus", list_status_param="StatusEquals", list_name_param="NameContains"),
    Kind("analytics-category", "CategoryName", "CreateCallAnalyticsCategory", "GetCallAnalyticsCategory",
         "ListCallAnalyticsCategories", "DeleteCallAnalyticsCategory", update_op="UpdateCallAnalyticsCategory",
         get_field="CategoryProperties", list_field="Categories", tags_in_record=True),
]}
KIND_BY_OPERATION: dict[str, tuple[str, Kind]] = {}
for _kind in KINDS.values():
    for _verb, _op in (("create", _kind.create_op), ("get", _kind.get_op), ("list", _kind.list_op),
                       ("delete", _kind.delete_op), ("update", _kind.update_op)):
        if _op:
            KIND_BY_OPERATION[_op] = (_verb, _kind)

_MODEL = service_model("transcribe")


# Members an Update* request replaces as a whole (absent from the request = removed).
_OVERWRITTEN_ON_UPDATE: dict[str, tuple[str, ...]] = {
    "vocabulary": ("Phrases", "VocabularyFileUri", "DataAccessRoleArn", "EncryptionConfiguration"),
    "vocabulary-filter": ("Words", "VocabularyFilterFileUri", "DataAccessRoleArn", "EncryptionConfiguration"),
    "language-model": ("DataAccessRoleArn", "EncryptionConfiguration"),
}
_KMS_KEY_ARN = re.compile(r"^arn:aws(-[a-z-]+)?:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$")

# Create/Update responses AWS publishes without LastModifiedTime (the AWS CLI's examples
# create-vocabulary, create-medical-vocabulary, update-vocabulary, update-medical-vocabulary and
# create-vocabulary-filter; update-vocabulary-filter has it). botocore's model allows it in all six.
_RESPONSE_WITHOUT_LAST_MODIFIED = frozenset({"CreateVocabulary", "CreateMedicalVocabulary", "UpdateVocabulary",
                                             "UpdateMedicalVocabulary", "CreateVocabularyFilter"})

# What a completed job reports once the service has read its media (the AWS CLI's examples
# get-transcription-job and get-medical-transcription-job): MediaFormat, MediaSampleRateHertz and,
# for transcription and medical jobs, Settings with these defaults under the requested settings.
_MEDIA_FORMATS = frozenset(_MODEL.shape_for("MediaFormat").metadata["enum"])
_SAMPLE_RATE = 48000  # the simulator reads no audio: the rate AWS's examples report
_DEFAULT_SETTINGS = {"ChannelIdentification": False, "ShowAlternatives": False}
_IDENTIFIED_LANGUAGE_SCORE = 0.87  # IdentifyLanguage: the first LanguageOptions entry (else en-US) wins
# Service-managed output: .../aws-transcribe-<region>-prod/<account>/<job>/<uuid>/asrOutput.json?<presigned>
SERVICE_TRANSCRIPT = "asrOutput.json"


def _bad_token() -> TranscribeError:
    return _bad_request("The NextToken is not valid. Use the token from a previous response.")


def _not_found(kind: "Kind", what: str) -> TranscribeError:
    # The service answers a missing job with BadRequestException and a missing customization
    # with NotFoundException.
    message = f"The requested {what} couldn't be found. Check the name and try your request again."
    return _bad_request(message) if kind.is_job else TranscribeError("NotFoundException", message)


@dataclass(slots=True)  # slots: benchmarks hold 100,000 of them
class Record:
    kind: Kind
    name: str
    arn: str
    fields: dict[str, Any]
    seq: int
    tags: dict[str, str] = field(default_factory=dict)
    pending_completion: bool = False
    request: dict[str, Any] = field(default_factory=dict)  # the Start/Create request as sent


_RecordList = list[Record]  # (inside the backend class, ``list`` is its List method)


def _now() -> dt.datetime:
    return clock.now().replace(microsecond=0)


def _created_field(kind: Kind) -> str | None:
    """The creation timestamp of kinds that list newest first (jobs, language models)."""
    if kind.is_job:
        return "CreationTime"
    return "CreateTime" if kind.key == "language-model" else None


def _order_key(record: Record) -> tuple[dt.datetime, int]:
    return record.fields[_created_field(record.kind) or ""], record.seq


def _input_media(params: dict[str, Any]) -> str | None:
    """The job's input audio: Media.MediaFileUri, or for Call Analytics Media.RedactedMediaFileUri."""
    media = params.get("Media") or {}
    return media.get("MediaFileUri") or media.get("RedactedMediaFileUri")


def _s3_uri_parts(uri: str) -> tuple[str, str] | None:
    if not uri or not uri.startswith("s3://"):
        return None
    bucket, _, key = uri[len("s3://"):].partition("/")
    return (bucket, key) if bucket else None


def _https_uri(region: str, bucket: str, key: str) -> str:
    return f"https://s3.{region}.amazonaws.com/{bucket}/{key}"


def _media_format(uri: str | None) -> str | None:
    """The MediaFormat a media file's extension names, or None (the service reads the file; the
    simulator cannot)."""
    name = (uri or "").split("?", 1)[0].rsplit("/", 1)[-1]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return extension if extension in _MEDIA_FORMATS else None


def _as_prefix(uri: str) -> str:
    """A language model's training or tuning data URI as CreateLanguageModel returns it: a prefix
    ending in "/" (the AWS CLI's create-language-model example)."""
    return uri if uri.endswith("/") else uri + "/"


# The job state change events Transcribe sends straight to EventBridge, per job kind: (detail-type,
# the detail member naming the job, the one holding its status). The EventBridge event reference
# ("Amazon Transcribe events", https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-transcribe.html)
# lists these two among Transcribe's events and none for medical or medical scribe jobs. The detail
# members: TranscriptionJobName/TranscriptionJobStatus as the Transcribe Developer Guide's rule
# example matches on (monitoring-events), JobName/JobStatus as the schema of
# aws.transcribe@CallAnalyticsJobStateChange has them (AWS CDK reference, events mixin
# CallAnalyticsJobStateChangeProps).
STATE_CHANGE_EVENTS: dict[str, tuple[str, str, str]] = {
    "transcription-job": ("Transcribe Job State Change", "TranscriptionJobName", "TranscriptionJobStatus"),
    "analytics": ("Call Analytics Job State Change", "JobName", "JobStatus"),
}


class TranscribeSimBackend(BaseBackend):
    def __init__(self, region_name: str, account_id: str):
        super().__init__(region_name, account_id)
        self.records: dict[str, dict[str, Record]] = {key: {} for key in KINDS}
        # Kinds listed newest first also keep their records in creation order, oldest first
        # (ascending _order_key), so a List page costs O(log n + page) instead of a sort.
        self.ordered: dict[str, list[Record]] = {key: [] for key, kind in KINDS.items() if _created_field(kind)}
        self._seq = 0
        self._lock = threading.RLock()
        self.hold_jobs = False
        self.partition = "aws-cn" if region_name.startswith("cn-") else (
            "aws-us-gov" if region_name.startswith("us-gov-") else "aws")

    # --- helpers -------------------------------------------------------------------------------

    def arn(self, kind: Kind, name: str) -> str:
        return f"arn:{self.partition}:transcribe:{self.region_name}:{self.account_id}:{kind.key}/{name}"

    def _s3(self) -> Any:
        from moto.s3.models import s3_backends
        return s3_backends[self.account_id][self.partition]

    def _object_exists(self, uri: str | None) -> bool:
        parts = _s3_uri_parts(uri or "")
        if not parts:
            return False
        bucket, key = parts
        try:
            return self._s3().get_object(bucket, key) is not None
        except Exception:  # moto raises MissingBucket/MissingKey
            return False

    def _bucket_exists(self, bucket: str) -> bool:
        try:
            self._s3().get_bucket(bucket)
            return True
        except Exception:
            return False

    def _resolve_kms_key(self, key_id: str) -> str:
        """The key ARN for a key id, key ARN, alias name or alias ARN, as S3 records it."""
        from moto.kms.models import kms_backends
        backend = kms_backends[self.account_id][self.region_name]
        try:
            return str(backend.describe_key(key_id).arn)
        except Exception:
            raise _bad_request(f"The KMS key you specified can't be used: {key_id}. Check the key and try again.") from None

    def _get(self, operation: str, kind: Kind, name: str) -> Record:
        record = self.records[kind.key].get(name)
        if record is None:
            what = "job" if kind.is_job else kind.key.replace("-", " ")
            raise _not_found(kind, what)
        return record

    def _add(self, kind: Kind, name: str, fields: dict[str, Any], tags: list[dict[str, str]] | None,
             request: dict[str, Any]) -> Record:
        if name in self.records[kind.key]:
            raise TranscribeError("ConflictException", "The requested name already exists. Use a different name.")
        self._seq += 1
        record = Record(kind, name, self.arn(kind, name), fields, self._seq, request=request)
        record.tags = self._validated_tags(tags or [])
        self.records[kind.key][name] = record
        self._insert_ordered([record])
        return record

    def _insert_ordered(self, records: list[Record]) -> None:
        """Add records (of one kind, already in ``self.records``) to the creation order."""
        if not records or records[0].kind.key not in self.ordered:
            return
        ordered = self.ordered[records[0].kind.key]
        records = sorted(records, key=_order_key)
        if not ordered or _order_key(records[0]) >= _order_key(ordered[-1]):
            ordered.extend(records)  # the usual case: created now, after everything else
        elif len(records) == 1:
            bisect.insort(ordered, records[0], key=_order_key)
        else:
            ordered.extend(records)
            ordered.sort(key=_order_key)

    def _remove_ordered(self, record: Record) -> None:
        ordered = self.ordered.get(record.kind.key)
        if ordered is None:
            return
        index = bisect.bisect_left(ordered, _order_key(record), key=_order_key)
        if index < len(ordered) and ordered[index] is record:
            del ordered[index]

    @staticmethod
    def _validated_tags(tags: list[dict[str, str]], existing: dict[str, str] | None = None) -> dict[str, str]:
        merged = dict(existing or {})
        for tag in tags:
            key = tag.get("Key", "")
            if not key or key.lower().startswith("aws:"):
                raise _bad_request("Tag keys must be 1-128 characters and can't start with 'aws:'.")
            merged[key] = tag.get("Value", "")
        if len(merged) > 200:
            raise _bad_request("A resource can have at most 200 tags.")
        return merged

    def _view(self, record: Record) -> dict[str, Any]:
        """The record as Get returns it."""
        view = dict(record.fields)
        if record.kind.tags_in_record and record.tags:
            view["Tags"] = [{"Key": k, "Value": v} for k, v in record.tags.items()]
        return view

    # --- jobs ----------------------------------------------------------------------------------

    def start_job(self, operation: str, kind: Kind, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            fields = self._job_fields(kind, params)
            now = fields["CreationTime"]
            record = self._add(kind, params[kind.name_field], fields, params.get("Tags"), params)
            record.fields[kind.status_field] = "IN_PROGRESS"
            record.fields["StartTime"] = now
            started = self._view(record)
            if self.hold_jobs:
                record.pending_completion = True
            else:
                self._finish_job(record)
                self._emit_state_change(record)
            return {kind.get_field: started}

    def _job_fields(self, kind: Kind, params: dict[str, Any], check_resources: bool = True) -> dict[str, Any]:
        """Validates a Start* request and returns the new (QUEUED) job's fields. Without
        ``check_resources`` the output bucket and KMS key are not looked up (bulk seeding)."""
        media = params.get("Media") or {}
        if media.get("RedactedMediaFileUri") and kind.key != "analytics":
            raise _bad_request("RedactedMediaFileUri is supported only for Call Analytics jobs.")
        if not _input_media(params):
            raise _bad_request("Media.MediaFileUri is required." if kind.key != "analytics" else
                               "Media needs MediaFileUri or RedactedMediaFileUri.")
        output_bucket = params.get("OutputBucketName")
        if kind.key == "analytics" and params.get("OutputLocation"):
            parts = _s3_uri_parts(params["OutputLocation"])
            if not parts:
                raise _bad_request("OutputLocation must be an s3:// URI.")
            output_bucket = parts[0]
        if check_resources and output_bucket and not self._bucket_exists(output_bucket):
            raise _bad_request(f"The specified S3 bucket doesn't exist: {output_bucket}.")
        if params.get("OutputEncryptionKMSKeyId"):
            if not output_bucket:
                raise _bad_request("OutputEncryptionKMSKeyId requires an output bucket.")
            if check_resources:
                self._resolve_kms_key(params["OutputEncryptionKMSKeyId"])
        redaction = params.get("ContentRedaction") or (params.get("Settings") or {}).get("ContentRedaction")
        if kind.key == "analytics" and media.get("RedactedMediaFileUri") and not redaction:
            raise _bad_request("RedactedMediaFileUri requires Settings.ContentRedaction.")
        now = _now()
        fields: dict[str, Any] = {
            key: value for key, value in params.items()
            if key not in ("Tags", "OutputBucketName", "OutputKey", "OutputLocation", "OutputEncryptionKMSKeyId",
                           "KMSEncryptionContext")
        }
        fields.update({kind.status_field: "QUEUED", "CreationTime": now, "Media": dict(media)})
        if kind.key in ("transcription-job", "medical-transcription-job"):  # summaries carry it
            fields["OutputLocationType"] = "CUSTOMER_BUCKET" if output_bucket else "SERVICE_BUCKET"
        if kind.key == "transcription-job" and not fields.get("LanguageCode") and not (
                params.get("IdentifyLanguage") or params.get("IdentifyMultipleLanguages")):
            raise _bad_request("Specify LanguageCode, IdentifyLanguage or IdentifyMultipleLanguages.")
        if kind.key in ("medical-scribe-job", "analytics") and not fields.get("LanguageCode"):
            fields["LanguageCode"] = "en-US"
        return fields

    def complete_held_jobs(self) -> int:
        """Finish every job started while ``hold_jobs`` was on; returns how many."""
        with self._lock:
            held = [r for records in self.records.values() for r in records.values() if r.pending_completion]
            for record in held:
                record.pending_completion = False
                self._finish_job(record)
                self._emit_state_change(record)
            return len(held)

    def _emit_state_change(self, record: Record) -> None:
        """Put the job's state change event on the simulated default event bus, as Transcribe
        sends it to EventBridge (STATE_CHANGE_EVENTS). Bulk seeding sends none."""
        spec = STATE_CHANGE_EVENTS.get(record.kind.key)
        if spec is None:
            return
        from moto.events.models import events_backends

        detail_type, name_member, status_member = spec
        detail = {name_member: record.name, status_member: record.fields.get(record.kind.status_field)}
        if record.fields.get("FailureReason"):
            detail["FailureReason"] = record.fields["FailureReason"]
        try:
            events_backends[self.account_id][self.region_name].put_events([{
                "Source": "aws.transcribe", "DetailType": detail_type, "Detail": json.dumps(detail),
                "Resources": [self.arn(record.kind, record.name)]}])
        except NotImplementedError:
            # moto 5.2.5 delivers to SQS, CloudWatch Logs and event-bus targets and raises for the
            # others (SNS, Lambda: simulator/eventbridge.py delivers to the transcribe-guard
            # functions). A target the simulator cannot reach never fails the job.
            pass

    def _finish_job(self, record: Record, write: bool = True, now: dt.datetime | None = None) -> None:
        """Completes a job (or fails it when its media is missing). Without ``write`` (bulk
        seeding) the media is not checked and no output object is written to S3."""
        kind, params = record.kind, record.request
        record.fields["CompletionTime"] = now or _now()
        if write and not self._object_exists(_input_media(params)):
            record.fields[kind.status_field] = "FAILED"
            record.fields["FailureReason"] = ("The S3 URI that you provided can't be accessed. Make sure that you "
                                              "have read permission and try your request again.")
            self._emit_state(record, write)
            return
        writer = _OutputWriter(self, record, write=write)
        if kind.key == "transcription-job":
            stem = writer.transcripts("", "Transcript", params.get("ContentRedaction"))
            if params.get("Subtitles"):
                writer.subtitles(stem, params["Subtitles"])
        elif kind.key == "medical-transcription-job":
            writer.transcripts("medical/", "Transcript", None)
        elif kind.key == "analytics":
            stem = writer.transcripts("analytics/", "Transcript",
                                      (params.get("Settings") or {}).get("ContentRedaction"))
            if params["Media"].get("RedactedMediaFileUri"):
                # The request's RedactedMediaFileUri names the input audio (used "instead of
                # MediaFileUri"); the response's names the redacted audio the job wrote.
                input_uri = _input_media(params)
                record.fields["Media"] = {"MediaFileUri": input_uri,
                                          "RedactedMediaFileUri": writer.redacted_media(stem, input_uri)}
        elif kind.key == "medical-scribe-job":
            prefix = f"medical-scribe/{record.name}/"
            record.fields["MedicalScribeOutput"] = {
                "TranscriptFileUri": writer.put(prefix + "transcript.json"),
                "ClinicalDocumentUri": writer.put(prefix + "summary.json"),
            }
            record.fields["MedicalScribeContextProvided"] = bool(params.get("MedicalScribeContext"))
        record.fields[kind.status_field] = "COMPLETED"
        if kind.key != "medical-scribe-job":
            _report_media_read(record)
        self._emit_state(record, write)

    def _emit_state(self, record: Record, write: bool) -> None:
        """The job's state-change event for the simulated EventBridge (eventbridge.py); bulk
        seeding (``write`` false) emits none."""
        if write:
            from transcribe_guard.simulator import eventbridge
            eventbridge.emit_job_state(self.account_id, self.region_name, record.kind.key, record.name,
                                       record.fields[record.kind.status_field], self.arn(record.kind, record.name))

    # --- customizations ------------------------------------------------------------------------

    def create_customization(self, operation: str, kind: Kind, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            name = params[kind.name_field]
            self._check_encryption_configuration(params)
            now = _now()
            fields = {k: v for k, v in params.items() if k != "Tags"}
            source_uri = self._source_uri(kind, params)
            if kind.key == "language-model":
                config = dict(params["InputDataConfig"])
                for member in ("S3Uri", "TuningDataS3Uri"):
                    if config.get(member):
                        config[member] = _as_prefix(config[member])
                fields["InputDataConfig"] = config
                source_uri = config["S3Uri"]
            if kind.key == "analytics-category":
                fields.setdefault("InputType", "POST_CALL")
                fields.update({"CreateTime": now, "LastUpdateTime": now})
            elif kind.key == "language-model":
                fields.update({"CreateTime": now, "LastModifiedTime": now, "ModelStatus": "IN_PROGRESS",
                               "UpgradeAvailability": False})
            else:
                fields["LastModifiedTime"] = now
                if kind.status_field:
                    fields[kind.status_field] = "PENDING"
            record = self._add(kind, name, fields, params.get("Tags"), params)
            response = self._create_response(operation, record)
            self._settle(record, source_uri)
            return response

    def _source_uri(self, kind: Kind, params: dict[str, Any]) -> str | None:
        if kind.key == "vocabulary":
            return self._exactly_one(params, "Phrases", "VocabularyFileUri")
        if kind.key == "vocabulary-filter":
            return self._exactly_one(params, "Words", "VocabularyFilterFileUri")
        if kind.key == "medical-vocabulary":
            if not params.get("VocabularyFileUri"):
                raise _bad_request("VocabularyFileUri is required.")
            return str(params["VocabularyFileUri"])
        if kind.key == "language-model":
            config = params.get("InputDataConfig") or {}
            if not config.get("S3Uri") or not config.get("DataAccessRoleArn"):
                raise _bad_request("InputDataConfig needs S3Uri and DataAccessRoleArn.")
            return str(config["S3Uri"])
        return None

    @staticmethod
    def _exactly_one(params: dict[str, Any], inline: str, uri: str) -> str | None:
        if bool(params.get(inline)) == bool(params.get(uri)):
            raise _bad_request(f"Specify either {inline} or {uri}, not both or neither.")
        # EncryptionConfiguration is accepted whatever the source: "When you create or update custom
        # vocabularies, custom vocabulary filters, or custom language models, you can specify a
        # customer-managed KMS key" (Transcribe Developer Guide, "Data encryption").
        return params.get(uri)

    def _settle(self, record: Record, source_uri: str | None) -> None:
        """Customizations finish building immediately: READY/COMPLETED, or FAILED when the S3
        source is missing (a language model's S3Uri is a prefix: any object under it will do)."""
        kind = record.kind
        if source_uri is None:
            ok = True
        elif kind.key == "language-model":
            ok = self._prefix_has_objects(source_uri)
        else:
            ok = self._object_exists(source_uri)
        if kind.key == "language-model":
            record.fields["ModelStatus"] = "COMPLETED" if ok else "FAILED"
        elif kind.status_field:
            record.fields[kind.status_field] = "READY" if ok else "FAILED"
        if not ok:
            record.fields["FailureReason"] = "The S3 URI that you provided can't be accessed."

    def _prefix_has_objects(self, uri: str) -> bool:
        parts = _s3_uri_parts(uri)
        if not parts:
            return False
        try:
            bucket = self._s3().get_bucket(parts[0])
        except Exception:
            return False
        return any(str(k).startswith(parts[1]) for k in bucket.keys.keys())

    def _create_response(self, operation: str, record: Record) -> dict[str, Any]:
        """Create/Update responses wrap the record (categories) or return its fields top-level."""
        view = self._view(record)
        if operation in _RESPONSE_WITHOUT_LAST_MODIFIED:
            view.pop("LastModifiedTime", None)
        shape = output_shape("transcribe", operation)
        if record.kind.get_field and shape is not None and record.kind.get_field in shape.members:
            return {record.kind.get_field: view}
        return view

    def update_customization(self, operation: str, kind: Kind, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            record = self._get(operation, kind, params[kind.name_field])
            self._check_encryption_configuration(params)
            created_as = record.fields.get("InputType")
            if kind.key == "analytics-category" and params.get("InputType") not in (None, created_as):
                # "The input type you specify must match the input type specified when the category
                # was created."
                raise _bad_request("InputType must match the category's input type.")
            # Update* overwrites the existing information with the request's values (the service
            # docs): the source is the one the request names, and an EncryptionConfiguration or
            # DataAccessRoleArn left out is gone (artifacts are re-encrypted with an AWS owned key).
            source_uri = self._source_uri(kind, params) if kind.key != "language-model" else None
            for member in _OVERWRITTEN_ON_UPDATE.get(kind.key, ()):
                record.fields.pop(member, None)
            record.fields.update({k: v for k, v in params.items() if k != kind.name_field})
            now = _now()
            if kind.key == "analytics-category":
                record.fields["LastUpdateTime"] = now
            else:
                record.fields["LastModifiedTime"] = now
            if kind.key in ("vocabulary", "medical-vocabulary", "vocabulary-filter"):
                record.fields.pop("FailureReason", None)
                self._settle(record, source_uri)
            return self._create_response(operation, record)

    @staticmethod
    def _check_encryption_configuration(params: dict[str, Any]) -> None:
        # EncryptionConfiguration.KMSKey: "Only full KMS key ARN format is supported."
        key = (params.get("EncryptionConfiguration") or {}).get("KMSKey")
        if key is not None and not _KMS_KEY_ARN.match(key):
            raise _bad_request("EncryptionConfiguration.KMSKey must be a KMS key ARN "
                               "(arn:partition:kms:region:account:key/key-id).")

    # --- common --------------------------------------------------------------------------------

    def get(self, operation: str, kind: Kind, name: str) -> dict[str, Any]:
        with self._lock:
            record = self._get(operation, kind, name)
            view = self._view(record)
            if kind.key in ("vocabulary", "medical-vocabulary", "vocabulary-filter"):
                view["DownloadUri"] = self._presigned(f"customizations/{kind.key}/{name}.txt")
            if kind.key == "language-model":
                view["InputDataConfig"] = dict(record.fields.get("InputDataConfig") or {})
            return {kind.get_field: view} if kind.get_field else view

    def delete(self, operation: str, kind: Kind, name: str) -> None:
        with self._lock:
            record = self._get(operation, kind, name)
            del self.records[kind.key][name]
            self._remove_ordered(record)

    def list(self, operation: str, kind: Kind, params: dict[str, Any]) -> dict[str, Any]:
        size = int(params.get("MaxResults") or DEFAULT_PAGE_SIZE)
        if not 1 <= size <= 100:
            raise _bad_request("MaxResults must be between 1 and 100.")
        status = params.get(kind.list_status_param) if kind.list_status_param else None
        contains = (params.get(kind.list_name_param) or "").lower() if kind.list_name_param else ""

        def wanted(record: Record) -> bool:
            return ((not status or record.fields.get(kind.status_field) == status)
                    and (not contains or contains in record.name.lower()))

        with self._lock:
            if kind.key in self.ordered:
                page, next_token = self._page_newest_first(operation, kind, params.get("NextToken"), size, wanted)
            else:
                page, next_token = self._page_by_name(operation, kind, params.get("NextToken"), size, wanted)
            response: dict[str, Any] = {kind.list_field: [self._view(r) for r in page]}
        if kind.is_job and status:
            response["Status"] = status
        if kind.key in ("vocabulary", "medical-vocabulary") and status:
            response["Status"] = status
        if next_token:
            response["NextToken"] = next_token
        return response

    def _page_newest_first(self, operation: str, kind: Kind, token: str | None, size: int,
                           wanted: Callable[[Record], bool]) -> tuple[_RecordList, str | None]:
        """Jobs and language models, newest first. The token names the last record returned
        (creation time and sequence number), so a page costs O(log n + records scanned), and
        jobs created or deleted between pages neither shift nor skip any other job."""
        ordered = self.ordered[kind.key]
        index = len(ordered)
        if token:
            after = self._decode_token(token, operation)
            if not isinstance(after, list) or len(after) != 2:
                raise _bad_token()
            try:
                cursor = (dt.datetime.fromisoformat(after[0]), int(after[1]))
            except (TypeError, ValueError):
                raise _bad_token() from None
            index = bisect.bisect_left(ordered, cursor, key=_order_key)
        page: _RecordList = []
        while index > 0:
            index -= 1
            record = ordered[index]
            if not wanted(record):
                continue
            if len(page) == size:  # one more match exists: there is a next page
                last = page[-1]
                when = last.fields[_created_field(kind) or ""]
                return page, self._encode_token([when.isoformat(), last.seq], operation)
            page.append(record)
        return page, None

    def _page_by_name(self, operation: str, kind: Kind, token: str | None, size: int,
                      wanted: Callable[[Record], bool]) -> tuple[_RecordList, str | None]:
        """Vocabularies, filters and categories list by name (accounts hold few of them)."""
        records = sorted((r for r in self.records[kind.key].values() if wanted(r)), key=lambda r: r.name)
        start = self._decode_token(token, operation) if token else 0
        if not isinstance(start, int) or start < 0:
            raise _bad_token()
        end = start + size
        return records[start:end], (self._encode_token(end, operation) if end < len(records) else None)

    @staticmethod
    def _encode_token(position: Any, operation: str) -> str:
        return base64.urlsafe_b64encode(json.dumps({"o": position, "op": operation}).encode()).decode()

    @staticmethod
    def _decode_token(token: str, operation: str) -> Any:
        try:
            data = json.loads(base64.urlsafe_b64decode(token.encode()))
            if data["op"] != operation:
                raise ValueError
            return data["o"]
        except (ValueError, KeyError, TypeError):
            raise _bad_token() from None

    def _presigned(self, key: str) -> str:
        bucket = f"aws-transcribe-{self.region_name}-prod"
        return (f"{_https_uri(self.region_name, bucket, f'{self.account_id}/{key}')}"
                f"?X-Amz-Security-Token=simulated&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=900"
                f"&X-Amz-Signature={uuid.uuid4().hex}")

    # --- tagging -------------------------------------------------------------------------------

    def _record_for_arn(self, arn: str) -> Record:
        prefix = f"arn:{self.partition}:transcribe:{self.region_name}:{self.account_id}:"
        if not arn.startswith(prefix) or "/" not in arn[len(prefix):]:
            raise _bad_request("The ARN that you provided isn't valid for this account and Region.")
        kind_key, _, name = arn[len(prefix):].partition("/")
        kind = KINDS.get(kind_key)
        record = self.records[kind.key].get(name) if kind else None
        if record is None:
            raise TranscribeError("NotFoundException", "The resource that you specified couldn't be found.")
        return record

    def tag_resource(self, arn: str, tags: list[dict[str, str]]) -> None:
        with self._lock:
            record = self._record_for_arn(arn)
            record.tags = self._validated_tags(tags, record.tags)

    def untag_resource(self, arn: str, keys: builtins.list[str]) -> None:
        with self._lock:
            record = self._record_for_arn(arn)
            for key in keys:
                record.tags.pop(key, None)

    def list_tags_for_resource(self, arn: str) -> dict[str, Any]:
        with self._lock:
            record = self._record_for_arn(arn)
            response: dict[str, Any] = {"ResourceArn": arn}
            if record.tags:  # TagList has min 1: a resource without tags returns no Tags member
                response["Tags"] = [{"Key": k, "Value": v} for k, v in record.tags.items()]
            return response


def _report_media_read(record: Record) -> None:
    """Fills in what a completed job reports once its media has been read (the request's
    values win). Members are replaced, never edited: bulk-seeded jobs share nested values."""
    fields, params = record.fields, record.request
    media_format = params.get("MediaFormat") or _media_format(_input_media(params))
    if media_format:
        fields["MediaFormat"] = media_format
    fields["MediaSampleRateHertz"] = params.get("MediaSampleRateHertz") or _SAMPLE_RATE
    if record.kind.key in ("transcription-job", "medical-transcription-job"):
        fields["Settings"] = {**_DEFAULT_SETTINGS, **(params.get("Settings") or {})}
    if params.get("IdentifyLanguage") and not params.get("LanguageCode"):
        fields["LanguageCode"] = (params.get("LanguageOptions") or ["en-US"])[0]
        fields["IdentifiedLanguageScore"] = _IDENTIFIED_LANGUAGE_SCORE


class _OutputWriter:
    """Writes a finished job's output objects and fills in the URIs its Get response returns."""

    def __init__(self, backend: TranscribeSimBackend, record: Record, write: bool = True):
        self.backend = backend
        self.record = record
        self.write = write  # False: compute the URIs only (bulk seeding)
        params = record.request
        self.bucket: str | None = params.get("OutputBucketName")
        key: str = params.get("OutputKey") or ""
        if params.get("OutputLocation"):
            self.bucket, key = _s3_uri_parts(params["OutputLocation"]) or (None, "")
        # OutputKey / OutputLocation name a folder, or a file when they end in a .json file name
        # ("test-files/my-transcript.json"); without either the service's default folder applies.
        self.custom_location = bool(key)
        self.file_name: str | None = None
        if key and not key.endswith("/") and key.rsplit("/", 1)[-1].endswith(".json"):
            self.prefix, _, self.file_name = key.rpartition("/")
            self.prefix = self.prefix + "/" if self.prefix else ""
        else:
            self.prefix = key if not key or key.endswith("/") else key + "/"
        self.kms_key = (backend._resolve_kms_key(params["OutputEncryptionKMSKeyId"])
                        if params.get("OutputEncryptionKMSKeyId") and write else None)
        self.service_folder = f"{record.name}/{uuid.uuid4()}/"  # one per job in the service bucket

    def transcripts(self, folder: str, container: str, redaction: dict[str, Any] | None) -> str:
        """Writes the transcript(s); returns the folder and file stem they were written under."""
        if not self.bucket:
            folder, file_name = "", SERVICE_TRANSCRIPT
        else:
            folder = "" if self.custom_location else folder
            file_name = self.file_name or f"{self.record.name}.json"
        uris: dict[str, str] = {}
        if redaction:
            uris["RedactedTranscriptFileUri"] = self.put(f"{folder}redacted-{file_name}")
            if redaction.get("RedactionOutput") == "redacted_and_unredacted":
                uris["TranscriptFileUri"] = self.put(f"{folder}{file_name}")
        else:
            uris["TranscriptFileUri"] = self.put(f"{folder}{file_name}")
        self.record.fields[container] = uris
        return folder + file_name[:-len(".json")]

    def subtitles(self, stem: str, subtitles: dict[str, Any]) -> None:
        """Subtitle files sit next to the transcript, one per requested format."""
        uris = [self.put(f"{stem}.{fmt}", b"1\n00:00:00,000 --> 00:00:01,000\n[simulated]\n")
                for fmt in subtitles.get("Formats") or []]
        self.record.fields["Subtitles"] = {**subtitles, "SubtitleFileUris": uris}

    def put(self, relative_key: str, body: bytes | None = None) -> str:
        if not self.bucket:  # service-managed bucket: presigned URL, nothing in the customer's S3
            return self.backend._presigned(self.service_folder + relative_key)
        key = self.prefix + relative_key
        if body is None:
            body = json.dumps({"jobName": self.record.name, "accountId": self.backend.account_id,
                               "status": "COMPLETED",
                               "results": {"transcripts": [{"transcript": "[simulated transcript]"}]}}).encode()
        self._write(self.bucket, key, body)
        return _https_uri(self.backend.region_name, self.bucket, key)

    def redacted_media(self, stem: str, input_uri: str) -> str:
        """Writes the redacted audio next to the transcript, as ``redacted-<job>.<input extension>``
        (the service documents no name), and returns its URI."""
        folder, _, base = stem.rpartition("/")
        file_name = input_uri.rsplit("/", 1)[-1]
        extension = file_name.rsplit(".", 1)[-1] if "." in file_name else "wav"
        return self.put(f"{folder + '/' if folder else ''}redacted-{base}.{extension}",
                        b"RIFF simulated redacted audio")

    def _write(self, bucket: str, key: str, body: bytes) -> None:
        if not self.write:
            return
        # No encryption argument means "the bucket's default", which moto applies on put_object.
        self.backend._s3().put_object(bucket, key, body, encryption="aws:kms" if self.kms_key else None,
                                      kms_key_id=self.kms_key)


transcribe_sim_backends = BackendDict(TranscribeSimBackend, "transcribe")


_CONTENT_TYPE: list[str] = []  # as moto's JSON serializer writes it (constant for the model)
_INPUT_MEMBERS: dict[str, tuple[str, ...]] = {}  # per operation, from the model (constant)
_OUTPUT_ENCODERS: dict[str, Encoder] = {}


class _Headers(dict):  # type: ignore[type-arg]
    """Request headers by lower-case name, looked up case-insensitively (what moto reads of them)."""

    def __getitem__(self, name: str) -> Any:
        return super().__getitem__(name.lower())

    def __contains__(self, name: object) -> bool:
        return super().__contains__(name.lower() if isinstance(name, str) else name)

    def get(self, name: str, default: Any = None) -> Any:
        return super().get(name.lower(), default)


class _EncodedResult(ActionResult):
    """An operation's response body, projected onto its output shape and serialized as moto's JSON
    serializer would (shapes.json_encoder), in one pass over the body instead of two."""

    def __init__(self, operation: str, body: dict[str, Any]):
        super().__init__(body)
        self.operation = operation

    def execute_result(self, context: ActionContext) -> Any:
        shape = output_shape("transcribe", self.operation)
        if shape is None or context.serializer_class is not JSONSerializer:  # moto's own serializer
            return ActionResult(project(shape, self.result)).execute_result(context)
        encode = _OUTPUT_ENCODERS.get(self.operation)
        if encode is None:
            encode = _OUTPUT_ENCODERS[self.operation] = json_encoder(shape)
        if not _CONTENT_TYPE:
            _CONTENT_TYPE.append(JSONSerializer(context.operation_model)._get_protocol_specific_content_type())
        body = json.dumps(encode(self.result), indent=4 if moto_settings.PRETTIFY_RESPONSES else None)
        return context.operation_model.http.get("responseCode", 200), {"Content-Type": _CONTENT_TYPE[0]}, body


class TranscribeSimResponse(BaseResponse):
    """Routes every Transcribe operation to the simulated backend."""

    def __init__(self) -> None:
        super().__init__(service_name="transcribe")
        self._request_params: dict[str, Any] | None = None

    @property
    def backend(self) -> TranscribeSimBackend:
        return transcribe_sim_backends[self.current_account][self.region]

    def _params(self) -> dict[str, Any]:
        """The request's members the input shape defines, from one parse of the JSON body
        (moto's ``_get_param`` parses the whole body again for every member it is asked for)."""
        if self._request_params is None:
            operation = self._get_action()
            names = _INPUT_MEMBERS.get(operation)
            if names is None:
                shape = _MODEL.operation_model(operation).input_shape
                names = _INPUT_MEMBERS[operation] = tuple(shape.members) if shape is not None else ()
            try:
                body = json.loads(self.body) if self.body else {}
            except ValueError:
                body = {}
            if not isinstance(body, dict):
                body = {}
            self._request_params = {name: body[name] for name in names if body.get(name) is not None}
        return self._request_params

    @classmethod
    def answer_in_process(cls, request: Any) -> Any:
        """The serving lane (serving.add_lane) of an in-process Transcribe request: the response
        moto would give, without routing the URL or rebuilding the request for werkzeug. Set up
        as ``setup_class`` sets up a JSON-protocol request (region, account, access key, the
        account's access key marked used, the date header), then moto's own ``call_action``
        (authorization, the operation's method, serialization, request id). Declines (None)
        what moto would treat differently: another operation or protocol, a query string, a
        non-text header or body, IAM authorization or moto's request recorder switched on, and
        moto passthrough or service-whitelist settings."""
        try:  # header values as text, as moto's normalize_request gives them
            headers = _Headers((k.lower(), v.decode("utf-8") if isinstance(v, bytes) else v)
                               for k, v in request.headers.items())
        except UnicodeDecodeError:
            return None
        target = headers.get("X-Amz-Target")
        body = request.body if request.body is not None else b""
        if (not isinstance(target, str) or target.partition(".")[2] not in _SUPPORTED
                or not isinstance(body, (bytes, str)) or urlsplit(request.url).query
                or any(not isinstance(v, str) for v in headers.values())
                or moto_settings.INITIAL_NO_AUTH_ACTION_COUNT != float("inf") or moto_recorder._user_enabled
                or moto_config.passthrough_url(request.url) or moto_config.passthrough_service("transcribe")
                or not moto_config.service_whitelisted("transcribe")):
            return None
        self = cls()
        self.is_werkzeug_request = False
        self.raw_body = body if isinstance(body, bytes) else body.encode("utf-8")
        self.body = self.raw_body.decode("utf-8")
        self.uri, self.method, self.headers = request.url, request.method, headers
        self.parsed_url = urlparse(request.url)
        self.path = self.raw_path = self.parsed_url.path or "/"
        self.querystring = self.data = OrderedDict()
        self.uri_match = {}
        self.region = self.get_region_from_url(self, request.url)  # reads only .headers
        self.partition = get_partition(self.region)
        self.response_headers = {"server": "amazon.com", "date": http_date(utcnow())}
        self.access_key = self.get_access_key()
        self.current_account = self.get_current_account()
        mark_account_as_visited(account_id=self.current_account, access_key=self.access_key,
                                service=self.service_name, region=self.region)  # type: ignore[arg-type]
        try:
            status, headers, text = self.call_action()
        except HTTPException as error:  # as moto's process_request answers them
            status, headers, text = error.code, error.get_headers(), error.get_body()
        return AWSResponse(request.url, status, headers, MockRawResponse(text))

    def _respond(self, operation: str, body: dict[str, Any] | None) -> ActionResult | EmptyResult:
        if output_shape("transcribe", operation) is None:
            return EmptyResult()
        return _EncodedResult(operation, body or {})

    def _handle(self, operation: str) -> ActionResult | EmptyResult:
        params = self._params()
        backend = self.backend
        if operation == "TagResource":
            backend.tag_resource(params["ResourceArn"], params.get("Tags") or [])
            return self._respond(operation, {})
        if operation == "UntagResource":
            backend.untag_resource(params["ResourceArn"], params.get("TagKeys") or [])
            return self._respond(operation, {})
        if operation == "ListTagsForResource":
            return self._respond(operation, backend.list_tags_for_resource(params["ResourceArn"]))
        verb, kind = KIND_BY_OPERATION[operation]
        if verb == "create":
            if kind.is_job:
                return self._respond(operation, backend.start_job(operation, kind, params))
            return self._respond(operation, backend.create_customization(operation, kind, params))
        if verb == "update":
            return self._respond(operation, backend.update_customization(operation, kind, params))
        if verb == "get":
            return self._respond(operation, backend.get(operation, kind, params[kind.name_field]))
        if verb == "list":
            return self._respond(operation, backend.list(operation, kind, params))
        backend.delete(operation, kind, params[kind.name_field])
        return self._respond(operation, None)


def _make_handler(operation: str) -> Callable[[TranscribeSimResponse], Any]:
    def handler(self: TranscribeSimResponse) -> Any:
        account, region = self.current_account, self.region
        if not throughput.admit(account, region, operation):
            raise TranscribeError(throughput.THROTTLING_CODE, throughput.THROTTLING_MESSAGE)
        found = KIND_BY_OPERATION.get(operation)
        try:
            result = self._handle(operation)
        except ServiceException as failed:  # CloudTrail records failed calls too, with their error
            if cloudtrail_events.is_write(operation):
                cloudtrail_events.record_transcribe_call(account, region, operation, self._params(),
                                                         found[1].name_field if found else None, self.get_access_key(),
                                                         error=(str(failed.code), str(failed.message)))
            raise
        if cloudtrail_events.is_write(operation):  # served write calls go into the event history
            cloudtrail_events.record_transcribe_call(account, region, operation, self._params(),
                                                     found[1].name_field if found else None, self.get_access_key())
        return result
    handler.__name__ = operation
    return handler


# moto dispatches on method names (snake_case of the operation): one method per model operation.
SUPPORTED_OPERATIONS = tuple(list(KIND_BY_OPERATION) + ["TagResource", "UntagResource", "ListTagsForResource"])
_SUPPORTED = frozenset(SUPPORTED_OPERATIONS)
# The in-process lane takes the service's standard endpoint (any Region), path "/" only.
LANE_URL = r"https://transcribe\.[a-z0-9-]+\.amazonaws\.com/?$"
for _operation in SUPPORTED_OPERATIONS:
    from moto.core.utils import camelcase_to_underscores
    setattr(TranscribeSimResponse, camelcase_to_underscores(_operation), _make_handler(_operation))
