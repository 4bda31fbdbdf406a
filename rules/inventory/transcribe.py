"""Shared fetching of Amazon Transcribe resources: the one place rules page through List calls,
read job details and build ARNs.

Transcribe's List operations have no boto3 paginator and default to 5 results a page, so we loop
on NextToken with MaxResults=100. Jobs come newest first. Every fetch is cached on the inventory,
and one inventory serves every rule of a ``scan`` run, so a job is listed once and read at most
once however many rules look at it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterator, Mapping, Sequence

import botocore
import botocore.session
from botocore.exceptions import ClientError

from rules.engine.pacing import RateLimiter, shared_limiter

LOGGER = logging.getLogger(__name__)

LIST_PAGE_SIZE = 100

# botocore models DataAccessRoleArn and EncryptionConfiguration in GetVocabulary and
# GetVocabularyFilter responses from 1.43.98 on (read from the release wheels: 1.43.97 lacks
# them). An older botocore, such as the one a Lambda runtime ships, parses them away without a
# word, so a rule reading them would judge every vocabulary as having neither: it refuses instead.
MINIMUM_BOTOCORE = "1.43.98"
CUSTOMIZATION_FIELDS: dict[str, tuple[str, ...]] = {
    "GetVocabulary": ("DataAccessRoleArn", "EncryptionConfiguration"),
    "GetVocabularyFilter": ("DataAccessRoleArn", "EncryptionConfiguration"),
}


class OutdatedSdkError(RuntimeError):
    """The installed botocore does not model a response field a rule reads."""


@lru_cache(maxsize=None)
def modelled_fields(operation: str) -> frozenset[str]:
    """The top-level members of a Transcribe operation's response in the installed botocore."""
    model = botocore.session.get_session().get_service_model("transcribe")
    shape = model.operation_model(operation).output_shape
    return frozenset(shape.members) if shape is not None else frozenset()


def require_modelled_fields(rule: str, fields: Mapping[str, Sequence[str]]) -> None:
    """Raise OutdatedSdkError, naming what is missing, unless botocore models every field."""
    missing = [f"{operation}.{name}" for operation, names in fields.items() for name in names
               if name not in modelled_fields(operation)]
    if missing:
        raise OutdatedSdkError(
            f"{rule} needs botocore {MINIMUM_BOTOCORE} or newer: botocore {botocore.__version__} does not model "
            f"{', '.join(missing)} and would drop them from every response. Bundle a newer boto3 and botocore "
            "with the code package, or use a Lambda runtime that includes one.")


@dataclass(frozen=True)
class ResourceKind:
    """One kind of Transcribe resource and the API calls that serve it."""

    key: str  # the ARN resource type, e.g. "transcription-job"
    label: str  # for annotations: "transcription job"
    list_operation: str
    list_field: str
    name_field: str
    get_operation: str
    get_name_parameter: str
    get_field: str | None  # the Get response member holding the resource, None when top-level
    status_field: str | None = None
    is_job: bool = False
    list_filters: tuple[tuple[str, Any], ...] = ()

    @property
    def delete_operation(self) -> str:
        """The Delete* API name, as CloudTrail records it (DeleteTranscriptionJob, ...)."""
        return "Delete" + api_name(self.get_operation.partition("_")[2])


def api_name(operation: str) -> str:
    """botocore's snake_case method name as the API (and IAM action) name: list_vocabularies -> ListVocabularies."""
    return "".join(word.capitalize() for word in operation.split("_"))


TRANSCRIPTION_JOB = ResourceKind(
    "transcription-job", "transcription job", "list_transcription_jobs", "TranscriptionJobSummaries",
    "TranscriptionJobName", "get_transcription_job", "TranscriptionJobName", "TranscriptionJob",
    "TranscriptionJobStatus", is_job=True)
MEDICAL_TRANSCRIPTION_JOB = ResourceKind(
    "medical-transcription-job", "medical transcription job", "list_medical_transcription_jobs",
    "MedicalTranscriptionJobSummaries", "MedicalTranscriptionJobName", "get_medical_transcription_job",
    "MedicalTranscriptionJobName", "MedicalTranscriptionJob", "TranscriptionJobStatus", is_job=True)
CALL_ANALYTICS_JOB = ResourceKind(
    "analytics", "call analytics job", "list_call_analytics_jobs", "CallAnalyticsJobSummaries",
    "CallAnalyticsJobName", "get_call_analytics_job", "CallAnalyticsJobName", "CallAnalyticsJob",
    "CallAnalyticsJobStatus", is_job=True)
MEDICAL_SCRIBE_JOB = ResourceKind(
    "medical-scribe-job", "medical scribe job", "list_medical_scribe_jobs", "MedicalScribeJobSummaries",
    "MedicalScribeJobName", "get_medical_scribe_job", "MedicalScribeJobName", "MedicalScribeJob",
    "MedicalScribeJobStatus", is_job=True)
VOCABULARY = ResourceKind(
    "vocabulary", "custom vocabulary", "list_vocabularies", "Vocabularies", "VocabularyName",
    "get_vocabulary", "VocabularyName", None, "VocabularyState")
MEDICAL_VOCABULARY = ResourceKind(
    "medical-vocabulary", "medical vocabulary", "list_medical_vocabularies", "Vocabularies", "VocabularyName",
    "get_medical_vocabulary", "VocabularyName", None, "VocabularyState")
VOCABULARY_FILTER = ResourceKind(
    "vocabulary-filter", "vocabulary filter", "list_vocabulary_filters", "VocabularyFilters",
    "VocabularyFilterName", "get_vocabulary_filter", "VocabularyFilterName", None)
LANGUAGE_MODEL = ResourceKind(
    "language-model", "custom language model", "list_language_models", "Models", "ModelName",
    "describe_language_model", "ModelName", "LanguageModel", "ModelStatus")
CALL_ANALYTICS_CATEGORY = ResourceKind(
    "analytics-category", "call analytics category", "list_call_analytics_categories", "Categories",
    "CategoryName", "get_call_analytics_category", "CategoryName", "CategoryProperties")

JOB_KINDS = (TRANSCRIPTION_JOB, MEDICAL_TRANSCRIPTION_JOB, CALL_ANALYTICS_JOB, MEDICAL_SCRIBE_JOB)
ALL_KINDS = JOB_KINDS + (VOCABULARY, MEDICAL_VOCABULARY, VOCABULARY_FILTER, LANGUAGE_MODEL, CALL_ANALYTICS_CATEGORY)
KINDS_BY_KEY = {kind.key: kind for kind in ALL_KINDS}
# The customizations that take a KMS key (EncryptionConfiguration) and a DataAccessRoleArn.
CUSTOMIZATION_KINDS = (VOCABULARY, VOCABULARY_FILTER, LANGUAGE_MODEL)


# The IAM actions of the inventory's reads, for the rules' METADATA "iam_actions": each rule
# declares the reads it makes through the inventory from these, then its own actions.
def list_actions(*kinds: ResourceKind) -> tuple[str, ...]:
    """The List action of each kind (``resources``, ``pages``)."""
    return tuple(f"transcribe:{api_name(kind.list_operation)}" for kind in kinds)


def get_actions(*kinds: ResourceKind) -> tuple[str, ...]:
    """The Get/Describe action of each kind (``detail``; jobs' and categories' ``tags`` too)."""
    return tuple(f"transcribe:{api_name(kind.get_operation)}" for kind in kinds)


def read_actions(*kinds: ResourceKind) -> tuple[str, ...]:
    """Listing and reading every resource of ``kinds``: their List actions, then their Gets."""
    return list_actions(*kinds) + get_actions(*kinds)


JOB_LIST_ACTIONS = list_actions(*JOB_KINDS)
JOB_GET_ACTIONS = get_actions(*JOB_KINDS)
# Listing and reading every job: what the job rules and the data discovery all start from.
JOB_READ_ACTIONS = JOB_LIST_ACTIONS + JOB_GET_ACTIONS
TAGS_ACTION = "transcribe:ListTagsForResource"  # ``tags`` of vocabularies, filters and language models

# Job states in which a job will never write (more) output.
FINISHED_OK = "COMPLETED"
FAILED = "FAILED"


@dataclass(frozen=True)
class Resource:
    """A listed Transcribe resource: its kind, name, ARN and List summary."""

    kind: ResourceKind
    name: str
    arn: str
    summary: dict[str, Any]
    # When the ledger first held the job's details (rules/inventory/ledger.py; None from a live
    # listing): a job the collector recorded late, after a missed event, counts as new then.
    recorded: float | None = None

    @property
    def status(self) -> str | None:
        return self.summary.get(self.kind.status_field) if self.kind.status_field else None


class ListingError(Exception):
    """A List call failed, so the set of resources of one kind is unknown."""

    def __init__(self, kind: ResourceKind, error: ClientError):
        super().__init__(f"listing {kind.label}s failed: {error_code(error)}")
        self.kind = kind
        self.error = error


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code") or "UnknownError")


class ResourceGone(ClientError):
    """A Get (or ListTagsForResource) found no resource that the same run had listed: it was
    deleted in between. Still a ClientError, so every rule's handler catches it; the base's
    could_not_evaluate reports it NOT_APPLICABLE instead of "Could not evaluate"."""


def gone(error: ClientError) -> bool:
    """Whether ``error`` is Transcribe's answer for a missing resource: NotFoundException for
    customizations and tags, BadRequestException "... couldn't be found ..." for jobs (the same
    code also means a bad request, hence the message check)."""
    message = str(error.response.get("Error", {}).get("Message", ""))
    return error_code(error) == "NotFoundException" or (
        error_code(error) == "BadRequestException" and "couldn't be found" in message)


def _as_gone(error: ClientError) -> ClientError:
    return ResourceGone(error.response, error.operation_name) if gone(error) else error


Pages = Iterator[tuple[str | None, list[Resource]]]


def resumed(pages: Callable[..., Pages], kind: ResourceKind, token: str | None) -> Pages:
    """``pages(kind, token)``, or ``pages(kind)`` from the newest when the token is refused
    (ListingError on the first page): what every inventory's ``resume_pages`` does."""
    listing = pages(kind, token)
    try:
        first = next(listing, None)
    except ListingError:
        if not token:
            raise
        LOGGER.info("resume token for %ss refused: listing from the newest", kind.label)
        listing = pages(kind)
        first = next(listing, None)
    if first is not None:
        yield first
        yield from listing


class TranscribeInventory:
    """Lists and reads Transcribe resources for one account and region, each at most once."""

    def __init__(self, client: Any, account_id: str, partition: str = "aws", limiter: RateLimiter | None = None,
                 applied_quotas: Callable[[], Mapping[str, float]] | None = None):
        self.client = client
        self.region: str = client.meta.region_name
        self._limiter = limiter
        self._applied_quotas = applied_quotas
        self.account_id = account_id
        self.partition = partition
        self._listed: dict[str, list[Resource]] = {}
        self._details: dict[tuple[str, str], dict[str, Any] | ClientError] = {}
        self._tags: dict[str, dict[str, str] | ClientError] = {}
        # Set to a dict by a local scan only (transcribe_guard/scan.py, for --mutelist tags): every
        # resource's tags read this run, by ARN, kept even when a streaming run forgets the resource.
        self.tags_seen: dict[str, dict[str, str]] | None = None
        self.calls: dict[str, int] = {}
        self._calls_lock = threading.Lock()  # reads run on a few threads (pacing.ordered_map)

    @property
    def limiter(self) -> RateLimiter:
        """The pair's shared limiter (quotas are per account and Region), made on the first call, so
        that only a run that calls Transcribe asks Service Quotas for the applied quotas."""
        if self._limiter is None:
            self._limiter = shared_limiter(self.account_id, self.region, self._applied_quotas)
        return self._limiter

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        with self._calls_lock:
            self.calls[operation] = self.calls.get(operation, 0) + 1
        self.limiter.acquire(operation)
        return self._send(operation, kwargs)

    def _send(self, operation: str, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = getattr(self.client, operation)(**kwargs)
        return result

    def arn(self, kind: ResourceKind, name: str) -> str:
        return f"arn:{self.partition}:transcribe:{self.region}:{self.account_id}:{kind.key}/{name}"

    def resources(self, kind: ResourceKind) -> list[Resource]:
        """Every resource of ``kind``, in the order Transcribe lists them. Raises ListingError."""
        if kind.key not in self._listed:
            self._listed[kind.key] = list(self._list_all(kind))
            LOGGER.debug("listed %d %ss", len(self._listed[kind.key]), kind.label)
        return self._listed[kind.key]

    def _list_all(self, kind: ResourceKind) -> Iterator[Resource]:
        for _token, page in self.pages(kind):
            yield from page

    def pages(self, kind: ResourceKind, token: str | None = None) -> Iterator[tuple[str | None, list[Resource]]]:
        """List ``kind`` one page at a time, nothing kept: (the token that fetched the page, its
        resources). Starts at ``token`` when given, so a run can resume where an earlier one
        stopped. Raises ListingError."""
        kwargs: dict[str, Any] = {"MaxResults": LIST_PAGE_SIZE, **dict(kind.list_filters)}
        if token:
            kwargs["NextToken"] = token
        seen_tokens: set[str] = set()
        while True:
            try:
                page = self._call(kind.list_operation, **kwargs)
            except ClientError as error:
                raise ListingError(kind, error) from error
            yield kwargs.get("NextToken"), [Resource(kind, s[kind.name_field], self.arn(kind, s[kind.name_field]), s)
                                           for s in page.get(kind.list_field, [])]
            token = page.get("NextToken")
            if not token or token in seen_tokens:  # a repeated token would loop forever
                return
            seen_tokens.add(token)
            kwargs["NextToken"] = token

    def resume_pages(self, kind: ResourceKind, token: str | None) -> Iterator[tuple[str | None, list[Resource]]]:
        """``pages`` from a token saved by an earlier invocation; a token the service no longer
        accepts means listing from the newest (callers skip what they had done by creation time)."""
        return resumed(self.pages, kind, token)

    def forget(self, resource: Resource) -> None:
        """Drop what was read about ``resource``: a streaming run keeps nothing once a resource
        is judged, so memory does not grow with the number of jobs."""
        self._details.pop((resource.kind.key, resource.name), None)
        self._tags.pop(resource.arn, None)

    def detail(self, resource: Resource) -> dict[str, Any]:
        """The resource's Get/Describe response body (the job, vocabulary, ...). Raises ClientError;
        a failure is remembered so that no rule retries it in the same run."""
        key = (resource.kind.key, resource.name)
        if key not in self._details:
            try:
                self._details[key] = self._get(resource)
            except ClientError as error:  # listed moments ago: "not found" means deleted since
                self._details[key] = _as_gone(error)
        found = self._details[key]
        if isinstance(found, ClientError):
            raise found
        return found

    def _get(self, resource: Resource) -> dict[str, Any]:
        """One Get/Describe of ``resource``: the response body (the job, vocabulary, ...)."""
        kind = resource.kind
        response = self._call(kind.get_operation, **{kind.get_name_parameter: resource.name})
        response.pop("ResponseMetadata", None)
        if kind.get_field and not isinstance(response.get(kind.get_field), dict):
            # Nothing about the resource (the member is optional in the model): fail closed for it.
            raise ClientError({"Error": {"Code": "IncompleteResponse", "Message": f"no {kind.get_field}"}},
                              kind.get_operation)
        body: dict[str, Any] = response[kind.get_field] if kind.get_field else response
        return body

    def tags(self, resource: Resource) -> dict[str, str]:
        """The resource's tags as a dict. Jobs and categories carry tags in their Get response;
        vocabularies, filters and language models only through ListTagsForResource."""
        if resource.arn not in self._tags:
            try:
                if resource.kind.is_job or resource.kind is CALL_ANALYTICS_CATEGORY:
                    tag_list = self.detail(resource).get("Tags", [])
                else:
                    tag_list = self._call("list_tags_for_resource", ResourceArn=resource.arn).get("Tags", [])
                tags = {t["Key"]: t.get("Value", "") for t in tag_list}
                self._tags[resource.arn] = tags
                if self.tags_seen is not None:
                    self.tags_seen[resource.arn] = dict(tags)
            except ClientError as error:
                self._tags[resource.arn] = _as_gone(error)
        found = self._tags[resource.arn]
        if isinstance(found, ClientError):
            raise found
        return found


# Where each job kind's Get response lists the S3 objects the job wrote: transcripts, redacted
# transcripts, clinical documents and, for call analytics, the redacted audio.
_OUTPUT_URI_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "transcription-job": (("Transcript", "TranscriptFileUri"), ("Transcript", "RedactedTranscriptFileUri")),
    "medical-transcription-job": (("Transcript", "TranscriptFileUri"),),
    "analytics": (("Transcript", "TranscriptFileUri"), ("Transcript", "RedactedTranscriptFileUri"),
                  ("Media", "RedactedMediaFileUri")),
    "medical-scribe-job": (("MedicalScribeOutput", "TranscriptFileUri"), ("MedicalScribeOutput", "ClinicalDocumentUri")),
}


def output_uris(kind: ResourceKind, detail: dict[str, Any]) -> list[str]:
    """Every output object URI in a job's Get response. Empty when the response names none."""
    found = [(detail.get(container) or {}).get(name) for container, name in _OUTPUT_URI_FIELDS[kind.key]]
    return [uri for uri in found if uri]
