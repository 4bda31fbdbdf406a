"""Which S3 buckets and KMS keys hold an account's Amazon Transcribe data: the shared discovery
behind the bucket and key rules, cached per run like the Transcribe inventory.

**Transcribe data buckets** are, for the evaluated account and Region:

- the buckets of the media and output URIs in the Get responses of every transcription, medical
  transcription, call analytics and medical scribe job (Media.MediaFileUri, and the transcripts,
  redacted transcripts, clinical documents and redacted audio of ``rules.inventory.transcribe.output_uris``),
  read through the shared inventory, so a job is read at most once per run whatever reads it;
- the training and tuning data of every custom language model (DescribeLanguageModel
  InputDataConfig.S3Uri and TuningDataS3Uri);
- the buckets named in the BucketNames parameter;
- with BucketTagKey (``key`` or ``key=value``), every bucket the account owns in this Region
  (ListBuckets, which needs s3:ListAllMyBuckets) whose tags (GetBucketTagging) carry that key,
  with that value when one is given. Neither call is made without the parameter.

Left out: Transcribe's service-managed output buckets (``aws-transcribe-<region>-prod``), which
are not the customer's to configure, and URIs that name no S3 bucket. Vocabulary and filter source
files are not discoverable: GetVocabulary and GetVocabularyFilter return only Transcribe's own
copy (DownloadUri); name their buckets in BucketNames or tag them.

**Transcribe KMS keys** are the keys named by the default encryption of those buckets
(KMSMasterKeyID) and by the EncryptionConfiguration.KMSKey of custom vocabularies, vocabulary
filters and custom language models (medical vocabularies take no key). A job's
OutputEncryptionKMSKeyId is not returned by any Get call, and output objects are not read.

Reads that fail do not stop the run. A job, language model or customization that cannot be read
(or a kind that cannot be listed) is a ``Gap``: the buckets or keys behind it are unknown, so the
rules report the account NON_COMPLIANT ("Could not evaluate: ...") and keep earlier results for
what they could not see. A bucket whose tags cannot be read is reported by the rules themselves.

Tag values are customer content (they often name teams, projects or patients' programs): they
are compared, never reported.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from botocore.exceptions import ClientError
from rdklib import ComplianceType, Evaluation

from rules.engine.base import ACCOUNT_RESOURCE_TYPE, ANNOTATION_LIMIT, RunContext, TranscribeGuardRule, annotation
from rules.engine.pacing import MAX_CONCURRENT_READS, ordered_map
from rules.engine.per_factory import PerFactory
from rules.inventory.job_references import JobReferences
from rules.inventory.s3_kms import S3KmsLookups, lookups_for
from rules.inventory.s3_location import bucket_of, is_service_bucket
from rules.inventory.transcribe import (CUSTOMIZATION_KINDS, JOB_KINDS, JOB_READ_ACTIONS, LANGUAGE_MODEL, VOCABULARY,
                                        VOCABULARY_FILTER, ListingError, ResourceKind, TranscribeInventory, error_code,
                                        output_uris, read_actions)

LOGGER = logging.getLogger(__name__)

BUCKET_RESOURCE_TYPE = "AWS::S3::Bucket"
KEY_RESOURCE_TYPE = "AWS::KMS::Key"

# The discovery parameters, identical in every bucket and key rule so the pack shares them.
BUCKET_NAMES_PARAMETER = {
    "type": "string",
    "x-type": "list",
    "pattern": r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]",
    "x-pattern-hint": "each entry must be an S3 bucket name (3-63 lower-case letters, digits, dots and hyphens)",
    "description": "Comma-separated S3 bucket names that hold Transcribe data but that jobs and language models do "
                   "not name (e.g. vocabulary sources, archives). Empty: none.",
}
BUCKET_TAG_PARAMETER = {
    "type": "string",
    "maxLength": 385,
    "pattern": r"[^=,]{1,128}(=[^,]{0,256})?",
    "x-pattern-hint": "use TagKey or TagKey=value (no commas; the key cannot contain '=')",
    "description": "Also evaluate the buckets in this Region tagged TagKey, or TagKey=value (needs "
                   "s3:ListAllMyBuckets and s3:GetBucketTagging). Empty: no tag lookup.",
}
TAG_ACTIONS = ("s3:ListAllMyBuckets", "s3:GetBucketTagging")
# What discovering the data buckets calls (every job kind's List and Get, the language models, the
# BucketTagKey lookup): the bucket rules each declare these plus their own reads.
DISCOVERY_ACTIONS = JOB_READ_ACTIONS + read_actions(LANGUAGE_MODEL) + TAG_ACTIONS
# ... and the keys: customization_keys also reads the vocabularies and filters.
KEY_DISCOVERY_ACTIONS = DISCOVERY_ACTIONS + read_actions(VOCABULARY, VOCABULARY_FILTER)

BUCKET_REPORTS = ("Each Transcribe data bucket as AWS::S3::Bucket by name; the account when Transcribe resources or "
                  "buckets could not be read.")
BUCKET_NOT_APPLICABLE = "A bucket that does not exist (deleted since a job named it, or misnamed in BucketNames)."


def data_rule_metadata(*, name: str, order: int, title: str, description: str, rationale: str, practice: int, severity: str,
                       parameters: Mapping[str, Any], iam_actions: Sequence[str], remediation: str,
                       resource_kinds: Sequence[str] = (BUCKET_RESOURCE_TYPE,), reports: str = BUCKET_REPORTS,
                       not_applicable: str = BUCKET_NOT_APPLICABLE,
                       discovery_actions: Sequence[str] = DISCOVERY_ACTIONS) -> dict[str, Any]:
    """The METADATA record of a bucket or key rule. What they share is filled in: the daily periodic
    trigger (Config records no Transcribe resource, so no change can trigger them), the BucketNames
    and BucketTagKey parameters after the rule's own ``parameters``, and discovery's actions before
    the rule's own ``iam_actions``; the bucket rules also share what they report and when a bucket
    is NOT_APPLICABLE."""
    return {
        "name": name,
        "order": order,
        "title": title,
        "description": description,
        "rationale": rationale,
        "practice": practice,
        "severity": severity,
        "trigger": {"type": "periodic", "frequency": "TwentyFour_Hours"},
        "resource_kinds": list(resource_kinds),
        "reports": reports,
        "not_applicable": not_applicable,
        "parameters": {
            "type": "object",
            "additionalProperties": False,
            "properties": {**parameters, "BucketNames": BUCKET_NAMES_PARAMETER, "BucketTagKey": BUCKET_TAG_PARAMETER},
        },
        "iam_actions": [*discovery_actions, *iam_actions],
        "remediation": remediation,
    }


# Where each source is named in annotations.
MEDIA, OUTPUT, TRAINING, NAMED, TAGGED = "media", "output", "training data", "BucketNames", "BucketTagKey"


@dataclass(frozen=True)
class Gap:
    """A read that failed, so some buckets or keys are unknown."""

    code: str
    what: str  # "reading a transcription job", "listing buckets for BucketTagKey"


@dataclass(frozen=True)
class KeyRef:
    """A KMS key named by a bucket's default encryption or a customization."""

    identifier: str  # key id, key ARN, alias name or alias ARN, as configured
    source: str  # "bucket <name>" or "custom vocabulary <name>", for annotations
    bucket: str | None = None  # the bucket whose default encryption names it


@dataclass
class Buckets:
    """The data buckets of one parameter set: name -> sources, plus what could not be read."""

    sources: dict[str, tuple[str, ...]]
    unreadable_tags: dict[str, ClientError] = field(default_factory=dict)
    gaps: list[Gap] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return sorted(self.sources)

    def label(self, bucket: str) -> str:
        """``Bucket acme-audio (media, output)``: the bucket and why it is in scope (two sources
        at most, so that annotations stay within 256 characters)."""
        found = self.sources.get(bucket, ())
        more = f" +{len(found) - 2}" if len(found) > 2 else ""
        return f"Bucket {bucket} ({', '.join(found[:2])}{more})"


class TranscribeDataDiscovery:
    """Discovers the data buckets and keys of one account and Region, once per run."""

    def __init__(self, inventory: TranscribeInventory, lookups: S3KmsLookups,
                 references: JobReferences | None = None):
        self.inventory = inventory
        self.lookups = lookups
        self.references = references  # a function run: only new jobs are read (job_references.py)
        self._transcribe: tuple[dict[str, set[str]], list[Gap]] | None = None
        self._customization_keys: tuple[list[KeyRef], list[Gap]] | None = None

    # buckets -------------------------------------------------------------------------------------

    def transcribe_buckets(self) -> tuple[dict[str, set[str]], list[Gap]]:
        """Buckets named by jobs and language models -> sources; and the reads that failed."""
        if self._transcribe is None:
            found: dict[str, set[str]] = {}
            gaps: list[Gap] = []

            def add(uri: Any, source: str, job: Any = None) -> None:
                bucket = bucket_of(uri) if isinstance(uri, str) else None
                if bucket and not is_service_bucket(bucket):
                    found.setdefault(bucket, set()).add(source)
                    if self.references is not None and job is not None:
                        self.references.add(f"{source} {bucket}", job)

            references = self.references
            for kind in JOB_KINDS:
                jobs = references.jobs(kind) if references is not None else self._details(kind, gaps)
                for job, detail in jobs:
                    if isinstance(detail, ClientError):
                        continue  # in references.failures, reported as a gap below
                    add((detail.get("Media") or {}).get("MediaFileUri"), MEDIA, job)
                    for uri in output_uris(kind, detail):
                        add(uri, OUTPUT, job)
            if references is not None:
                gaps += [Gap(code, what) for code, what in references.failures]
                for key in references.found:  # what earlier runs found, less what has expired
                    source, _, bucket = key.partition(" ")
                    found.setdefault(bucket, set()).add(source)
                references.finish()
            for _, detail in self._details(LANGUAGE_MODEL, gaps):
                data = detail.get("InputDataConfig") or {}
                add(data.get("S3Uri"), TRAINING)
                add(data.get("TuningDataS3Uri"), TRAINING)
            self._transcribe = (found, gaps)
            LOGGER.debug("discovered %d buckets from Transcribe (%d gaps)", len(found), len(gaps))
        return self._transcribe

    def buckets(self, named: Sequence[str] = (), tag: str | None = None) -> Buckets:
        """The data buckets for a rule's BucketNames and BucketTagKey parameters."""
        transcribe, gaps = self.transcribe_buckets()
        sources = {bucket: set(found) for bucket, found in transcribe.items()}
        for bucket in named:
            sources.setdefault(bucket, set()).add(NAMED)
        result = Buckets({}, gaps=list(gaps))
        if tag:
            self._tagged(tag, sources, result)
        order = (MEDIA, OUTPUT, TRAINING, NAMED, TAGGED)
        result.sources = {bucket: tuple(s for s in order if s in found) for bucket, found in sorted(sources.items())}
        return result

    def _tagged(self, tag: str, sources: dict[str, set[str]], result: Buckets) -> None:
        key, has_value, value = tag.partition("=")
        try:
            owned = self.lookups.buckets()
        except ClientError as error:
            result.gaps.append(Gap(error_code(error), "listing buckets for BucketTagKey"))
            return
        for bucket, region in owned:
            if bucket in sources or (region and region != self.lookups.region):
                continue  # already in scope (no tag read needed), or evaluated in its own Region
            if self._has_tag(bucket, key, has_value, value, result):
                sources[bucket] = {TAGGED}

    def _has_tag(self, bucket: str, key: str, has_value: str, value: str, result: Buckets) -> bool:
        if bucket in result.unreadable_tags:
            return False
        try:
            tags = self.lookups.bucket_tags(bucket)
        except ClientError as error:
            if error_code(error) != "NoSuchBucket":
                result.unreadable_tags[bucket] = error
            return False
        return key in tags and (not has_value or tags[key] == value)

    # keys ----------------------------------------------------------------------------------------

    def customization_keys(self) -> tuple[list[KeyRef], list[Gap]]:
        """Keys named by vocabularies, vocabulary filters and language models."""
        if self._customization_keys is None:
            refs: list[KeyRef] = []
            gaps: list[Gap] = []
            for kind in CUSTOMIZATION_KINDS:
                for resource, detail in self._details(kind, gaps):
                    key = (detail.get("EncryptionConfiguration") or {}).get("KMSKey")
                    if key:
                        refs.append(KeyRef(str(key), f"{kind.label} {resource.name}"))
            self._customization_keys = (refs, gaps)
        return self._customization_keys

    # ---------------------------------------------------------------------------------------------

    def _details(self, kind: ResourceKind, gaps: list[Gap]) -> Iterable[tuple[Any, dict[str, Any]]]:
        """(resource, Get response) of every resource of ``kind`` that could be read; a failed
        listing or read becomes a gap."""
        try:
            resources = self.inventory.resources(kind)
        except ListingError as error:
            gaps.append(Gap(error_code(error.error), f"listing {kind.label}s"))
            return
        def read(resource: Any) -> dict[str, Any] | ClientError:
            try:
                return self.inventory.detail(resource)
            except ClientError as error:
                return error

        workers = getattr(self.inventory, "read_workers", MAX_CONCURRENT_READS)  # a few reads in flight
        for resource, detail in ordered_map(read, resources, workers=workers):
            if isinstance(detail, ClientError):
                gaps.append(Gap(error_code(detail), f"reading a {kind.label}"))
            else:
                yield resource, detail


_DISCOVERIES: PerFactory[TranscribeDataDiscovery] = PerFactory("data_discovery")


def discovery_for(ctx: RunContext, incremental: bool = False, lambda_context: Any = None) -> TranscribeDataDiscovery:
    """The run's discovery: one per client factory, like the inventory and the lookups. A
    function run (``incremental``) reads only the jobs created since its last run, and stops
    before the Lambda deadline (the next invocation resumes)."""
    lookups = lookups_for(ctx.client_factory, ctx.account_id, ctx.region, ctx.partition)
    if incremental:
        return TranscribeDataDiscovery(ctx.inventory, lookups, JobReferences.start(ctx, True, lambda_context))
    found = _DISCOVERIES.get(ctx.client_factory)
    if found is None or found.inventory is not ctx.inventory or found.lookups is not lookups:
        found = TranscribeDataDiscovery(ctx.inventory, lookups)
        _DISCOVERIES[ctx.client_factory] = found
    return found


def fit(*texts: str) -> str:
    """The first text within Config's 256-character annotation limit (the last one otherwise,
    which ``annotation`` trims): the longer texts explain more, the shorter always fit."""
    return next((text for text in texts if len(text) <= ANNOTATION_LIMIT), texts[-1])


def describe_gaps(gaps: Sequence[Gap], unknown: str) -> str:
    """One "Could not evaluate" sentence for the account: the first failure and how many more."""
    first = gaps[0]
    more = f" (and {len(gaps) - 1} more failed reads)" if len(gaps) > 1 else ""
    return f"Could not evaluate: {first.code} when {first.what}{more}; {unknown} are unknown, earlier results are kept."


class DataRule(TranscribeGuardRule):
    """Base of the bucket and key rules: reports discovery gaps on the account and keeps earlier
    results when discovery was incomplete (rdklib would otherwise mark them NOT_APPLICABLE)."""

    UNKNOWN = "the buckets they name"

    def reads_every(self, params: Mapping[str, Any]) -> Sequence[tuple[ResourceKind, str]]:
        # transcribe_buckets: every job's media and output URIs, every language model's training data
        return [(kind, "detail") for kind in (*JOB_KINDS, LANGUAGE_MODEL)]

    def evaluate(self, ctx: RunContext, params: Mapping[str, Any]) -> Iterable[Evaluation]:
        """The bucket rules' shared scenarios: discovery gaps reported on the account, buckets whose
        tags could not be read fail closed, then each data bucket through evaluate_bucket (no
        buckets found: no evaluations)."""
        _, found = self.discover(ctx, params)
        if found.gaps:  # Scenario "jobs, models or buckets could not be listed or read"
            yield self.gap_evaluation(ctx, found.gaps)
        yield from self.unreadable_tags(ctx, found)  # Scenario "a bucket's tags could not be read"
        lookups = self.lookups(ctx)
        for bucket in found.names:  # Scenario 1: none found, none yielded
            yield self.evaluate_bucket(ctx, lookups, found, bucket, params)

    def evaluate_bucket(self, ctx: RunContext, lookups: S3KmsLookups, found: Buckets, bucket: str,
                        params: Mapping[str, Any]) -> Evaluation:
        raise NotImplementedError

    def discover(self, ctx: RunContext, params: Mapping[str, Any]) -> tuple[TranscribeDataDiscovery, Buckets]:
        """The run's discovery and the data buckets of the rule's BucketNames and BucketTagKey. A
        discovery the deadline stopped knows only some buckets: the others' results are kept."""
        discovery = discovery_for(ctx, self.invoked_as_function, self.lambda_context)
        found = discovery.buckets(list(params.get("BucketNames") or []), params.get("BucketTagKey") or None)
        if discovery.references is not None and discovery.references.partial:
            ctx.keep_earlier_results = True
        return discovery, found

    @staticmethod
    def lookups(ctx: RunContext) -> S3KmsLookups:
        return lookups_for(ctx.client_factory, ctx.account_id, ctx.region, ctx.partition)

    def gap_evaluation(self, ctx: RunContext, gaps: Sequence[Gap]) -> Evaluation:
        ctx.keep_earlier_results = True
        return Evaluation(ComplianceType.NON_COMPLIANT, ctx.account_id, ACCOUNT_RESOURCE_TYPE,
                          annotation(describe_gaps(gaps, self.UNKNOWN)))

    def unreadable_tags(self, ctx: RunContext, found: Buckets) -> Iterable[Evaluation]:
        """Fail closed on each bucket whose tags could not be read: it may hold Transcribe data."""
        for bucket, error in sorted(found.unreadable_tags.items()):
            yield self.could_not_evaluate(ctx, bucket, error, f"the tags of bucket {bucket} (BucketTagKey)",
                                          BUCKET_RESOURCE_TYPE)

    def bucket_read_failed(self, ctx: RunContext, bucket: str, label: str, error: ClientError, what: str) -> Evaluation:
        """A bucket read that failed: NOT_APPLICABLE when the bucket no longer exists (a job may name
        a bucket deleted since), otherwise NON_COMPLIANT "Could not evaluate" (fail closed)."""
        if error_code(error) == "NoSuchBucket":
            return self.result(ctx, ComplianceType.NOT_APPLICABLE, bucket,
                               f"{label} does not exist (deleted since a job named it, or misnamed).", BUCKET_RESOURCE_TYPE)
        return self.result(ctx, ComplianceType.NON_COMPLIANT, bucket, could_not(error, what), BUCKET_RESOURCE_TYPE)


def could_not(error: ClientError, what: str) -> str:
    """``Could not evaluate: <Code> when reading <what>.`` with a hint for AccessDenied, which
    the bucket-owner check also answers for a bucket of another account."""
    code = error_code(error)
    hint = "; the bucket belongs to another account or denies this rule's role" if code == "AccessDenied" else ""
    return f"Could not evaluate: {code} when reading {what}{hint}."
