"""Seeding and evaluation helpers for the bucket and key rules' tests: buckets, keys, jobs of every
kind, language models and customizations, created with plain boto3 calls as a user's pipeline
would, and a counter of the S3 and KMS calls the rules make."""

from __future__ import annotations

import json
from typing import Any, Iterator, Mapping

import boto3
import pytest
from botocore.exceptions import ClientError
from rdklib import Evaluation

from tests.helpers import ACCOUNT, evaluate_periodic, verdicts  # noqa: F401 (verdicts: for the bucket rules' tests)

ROLE = f"arn:aws:iam::{ACCOUNT}:role/transcribe-data-access"
ALL_ON = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
OTHER_ACCOUNT = "444455556666"


def policy(*statements: Mapping[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def tls_statements(bucket: str, minimum: str | None = "1.2") -> list[dict[str, Any]]:
    """AWS's recommended statements: deny plain HTTP, and TLS below ``minimum``."""
    resources = [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
    found: list[dict[str, Any]] = [{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*",
                                    "Action": "s3:*", "Resource": resources,
                                    "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]
    if minimum:
        found.append({"Sid": "DenyOldTls", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": resources,
                      "Condition": {"NumericLessThan": {"s3:TlsVersion": minimum}}})
    return found


def make_bucket(sim: Any, name: str, algorithm: str | None = None, key: str | None = None, policy: str | None = None,
                block: Mapping[str, bool] | None = ALL_ON, tags: Mapping[str, str] | None = None) -> None:
    s3 = sim.client("s3")
    s3.create_bucket(Bucket=name)
    if algorithm:
        default: dict[str, str] = {"SSEAlgorithm": algorithm}
        if key:
            default["KMSMasterKeyID"] = key
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": algorithm == "aws:kms"}]})
    if policy:
        s3.put_bucket_policy(Bucket=name, Policy=policy)
    if block is not None:
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=dict(block))
    if tags:
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})


def good_bucket(sim: Any, name: str, key: str) -> None:
    """A bucket every bucket rule accepts: SSE-KMS with ``key``, TLS 1.2 enforced, all blocked."""
    make_bucket(sim, name, "aws:kms", key, policy(*tls_statements(name)))


def create_key(sim: Any, alias: str | None = None, rotation: bool = True, **kwargs: Any) -> dict[str, Any]:
    kms = sim.client("kms")
    metadata: dict[str, Any] = kms.create_key(**kwargs)["KeyMetadata"]
    if alias:
        kms.create_alias(AliasName=f"alias/{alias}", TargetKeyId=metadata["KeyId"])
    if rotation and metadata.get("KeySpec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT" \
            and metadata.get("Origin") == "AWS_KMS":
        kms.enable_key_rotation(KeyId=metadata["KeyId"])
    return metadata


def put_object(sim: Any, bucket: str, key: str) -> None:
    sim.client("s3").put_object(Bucket=bucket, Key=key, Body=b"RIFF audio")


def start_job(sim: Any, name: str, media_bucket: str, output_bucket: str | None = None, kind: str = "standard") -> None:
    """One job of ``kind`` (standard, medical, analytics, scribe) reading s3://media_bucket/<name>.wav."""
    put_object(sim, media_bucket, f"{name}.wav")
    transcribe = sim.client("transcribe")
    media = {"MediaFileUri": f"s3://{media_bucket}/{name}.wav"}
    out = {"OutputBucketName": output_bucket} if output_bucket else {}
    if kind == "standard":
        transcribe.start_transcription_job(TranscriptionJobName=name, LanguageCode="en-US", Media=media, **out)
    elif kind == "medical":
        transcribe.start_medical_transcription_job(
            MedicalTranscriptionJobName=name, LanguageCode="en-US", Specialty="PRIMARYCARE", Type="DICTATION",
            Media=media, OutputBucketName=output_bucket or media_bucket)
    elif kind == "analytics":
        location = {"OutputLocation": f"s3://{output_bucket}/analytics/"} if output_bucket else {}
        transcribe.start_call_analytics_job(CallAnalyticsJobName=name, Media=media, DataAccessRoleArn=ROLE, **location)
    elif kind == "scribe":
        transcribe.start_medical_scribe_job(
            MedicalScribeJobName=name, Media=media, OutputBucketName=output_bucket or media_bucket,
            DataAccessRoleArn=ROLE, Settings={"ShowSpeakerLabels": True, "MaxSpeakerLabels": 2})
    else:
        raise ValueError(kind)


def create_language_model(sim: Any, name: str, training_bucket: str, tuning_bucket: str | None = None,
                          key_arn: str | None = None) -> None:
    put_object(sim, training_bucket, "training/corpus.txt")
    config: dict[str, str] = {"S3Uri": f"s3://{training_bucket}/training/", "DataAccessRoleArn": ROLE}
    if tuning_bucket:
        put_object(sim, tuning_bucket, "tuning/corpus.txt")
        config["TuningDataS3Uri"] = f"s3://{tuning_bucket}/tuning/"
    extra = {"EncryptionConfiguration": {"KMSKey": key_arn}} if key_arn else {}
    sim.client("transcribe").create_language_model(
        LanguageCode="en-US", BaseModelName="NarrowBand", ModelName=name, InputDataConfig=config, **extra)


def create_vocabulary(sim: Any, name: str, source_bucket: str, key_arn: str | None = None,
                      kind: str = "vocabulary") -> None:
    put_object(sim, source_bucket, f"{name}.txt")
    transcribe = sim.client("transcribe")
    extra: dict[str, Any] = {"EncryptionConfiguration": {"KMSKey": key_arn}} if key_arn else {}
    uri = f"s3://{source_bucket}/{name}.txt"
    if kind == "vocabulary":
        transcribe.create_vocabulary(VocabularyName=name, LanguageCode="en-US", VocabularyFileUri=uri,
                                     DataAccessRoleArn=ROLE, **extra)
    else:
        transcribe.create_vocabulary_filter(VocabularyFilterName=name, LanguageCode="en-US",
                                            VocabularyFilterFileUri=uri, DataAccessRoleArn=ROLE, **extra)


def run(rule_class: Any, parameters: Mapping[str, str] | None = None, factory: Any = None) -> list[Evaluation]:
    return evaluate_periodic(rule_class(), parameters, factory)


def texts(evaluations: list[Evaluation]) -> dict[str, str]:
    return {e.complianceResourceId: e.annotation for e in evaluations}


def client_error(code: str, operation: str = "Operation") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "simulated"}}, operation)


class CallCounter:
    """AWS calls by "service.Operation" and by "service.Operation:<Bucket or KeyId>", through
    botocore's before-parameter-build event (it sees the caller's parameters)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        name = f"{model.service_model.service_name}.{model.name}"
        self.counts[name] = self.counts.get(name, 0) + 1
        target = params.get("Bucket") or params.get("KeyId")
        if target:
            self.counts[f"{name}:{target}"] = self.counts.get(f"{name}:{target}", 0) + 1

    def per_target(self, operation: str) -> dict[str, int]:
        prefix = f"{operation}:"
        return {k[len(prefix):]: v for k, v in self.counts.items() if k.startswith(prefix)}


@pytest.fixture
def api_calls() -> Iterator[CallCounter]:
    counter = CallCounter()
    events = boto3._get_default_session().events
    services = ("s3", "kms", "transcribe", "s3-control")  # event names use the hyphenated service id
    for service in services:
        events.register(f"before-parameter-build.{service}", counter, unique_id=f"data-buckets-{service}")
    yield counter
    for service in services:
        events.unregister(f"before-parameter-build.{service}", unique_id=f"data-buckets-{service}")
