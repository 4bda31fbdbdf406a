"""transcribe-job-output-encrypted: scenarios against the simulator (seeded with plain boto3 calls
as a user's pipeline would), both evidence sources, parameters, API errors, per-run caching,
pagination, and the Lambda handler with a real ScheduledNotification event."""

from __future__ import annotations

import json
from typing import Any, Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from rdklib import ClientFactory, ComplianceType, Evaluation, InvalidParametersError

import rules.inventory.s3_kms
import rules.inventory.transcribe
from rules.inventory.s3_kms import SSE, SSE_KMS_KEY
from rules.transcribe_customization_encrypted import TranscribeCustomizationEncrypted
from rules.transcribe_job_output_encrypted import METADATA, TranscribeJobOutputEncrypted, lambda_handler
from tests.helpers import rejected_parameters
from tests.helpers import (ACCOUNT, access_denied, deploy_rule, fail_calls, periodic_event, put_media,
                           stored_verdicts)

RULE = "transcribe-job-output-encrypted"
ARN = f"arn:aws:transcribe:us-east-1:{ACCOUNT}"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/transcribe-data-access"
MEDIA = "media-bucket"
ENFORCED = "enforced-output"  # SSE-KMS default with the customer key + deny-other-encryption policy
C, N, NA = ComplianceType.COMPLIANT, ComplianceType.NON_COMPLIANT, ComplianceType.NOT_APPLICABLE
COMPLIANT_TEXT = ("{label} output bucket {bucket} enforces SSE-KMS with a customer managed key (default encryption "
                  "and a policy denying other encryption).")


# --- seeding, as a user's pipeline would ---------------------------------------------------------

def create_key(sim: Any, alias: str) -> str:
    kms = sim.client("kms")
    arn = str(kms.create_key(Description=f"key for {alias}")["KeyMetadata"]["Arn"])
    kms.create_alias(AliasName=f"alias/{alias}", TargetKeyId=arn)
    return arn


def aws_managed_s3_key(sim: Any) -> str:
    return str(sim.client("kms").describe_key(KeyId="alias/aws/s3")["KeyMetadata"]["Arn"])


def deny_other_encryption(bucket: str, variant: str = "plain", key_arns: list[str] | None = None,
                          principal: Any = "*") -> str:
    """AWS's recommended statement: deny PutObject whose encryption header is not aws:kms.
    variant: plain (no Null), null-false (same statement, only requests that name an encryption),
    null-statement (plus a second statement denying requests that name none)."""
    objects = f"arn:aws:s3:::{bucket}/*"
    statement: dict[str, Any] = {"Sid": "DenyIncorrectEncryptionHeader", "Effect": "Deny", "Principal": principal,
                                 "Action": "s3:PutObject", "Resource": objects,
                                 "Condition": {"StringNotEquals": {SSE: "aws:kms"}}}
    found = [statement]
    if variant == "null-false":
        statement["Condition"]["Null"] = {SSE: "false"}
    elif variant == "null-statement":
        found.append({"Sid": "DenyUnEncryptedObjectUploads", "Effect": "Deny", "Principal": principal,
                      "Action": "s3:PutObject", "Resource": objects, "Condition": {"Null": {SSE: "true"}}})
    if key_arns:
        found.append({"Sid": "DenyOtherKmsKeys", "Effect": "Deny", "Principal": principal, "Action": "s3:PutObject",
                      "Resource": objects, "Condition": {"StringNotEquals": {SSE_KMS_KEY: key_arns},
                                                         "Null": {SSE_KMS_KEY: "false"}}})
    return json.dumps({"Version": "2012-10-17", "Statement": found})


def make_bucket(sim: Any, name: str, algorithm: str | None = None, key: str | None = None,
                policy: str | None = None) -> None:
    s3 = sim.client("s3")
    s3.create_bucket(Bucket=name)
    if algorithm:
        default: dict[str, str] = {"SSEAlgorithm": algorithm}
        if key:
            default["KMSMasterKeyID"] = key
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": algorithm != "AES256"}]})
    if policy:
        s3.put_bucket_policy(Bucket=name, Policy=policy)


def start_job(sim: Any, name: str, bucket: str | None, key: str | None = None, media: str = "a.wav") -> None:
    extra: dict[str, Any] = {}
    if bucket:
        extra["OutputBucketName"] = bucket
    if key:
        extra["OutputEncryptionKMSKeyId"] = key
    sim.client("transcribe").start_transcription_job(
        TranscriptionJobName=name, LanguageCode="en-US", Media={"MediaFileUri": f"s3://{MEDIA}/{media}"}, **extra)


def start_every_kind(sim: Any, bucket: str, key: str | None, prefix: str = "") -> None:
    transcribe = sim.client("transcribe")
    media = {"MediaFileUri": f"s3://{MEDIA}/a.wav"}
    kms = {"OutputEncryptionKMSKeyId": key} if key else {}
    transcribe.start_transcription_job(
        TranscriptionJobName=f"{prefix}std", LanguageCode="en-US", Media=media, OutputBucketName=bucket,
        ContentRedaction={"RedactionType": "PII", "RedactionOutput": "redacted_and_unredacted"}, **kms)
    transcribe.start_medical_transcription_job(
        MedicalTranscriptionJobName=f"{prefix}med", LanguageCode="en-US", Specialty="PRIMARYCARE", Type="DICTATION",
        Media=media, OutputBucketName=bucket, **kms)
    transcribe.start_call_analytics_job(
        CallAnalyticsJobName=f"{prefix}ca", Media=media, OutputLocation=f"s3://{bucket}/analytics/",
        DataAccessRoleArn=ROLE, Settings={"ContentRedaction": {"RedactionType": "PII", "RedactionOutput": "redacted"}},
        **kms)
    transcribe.start_medical_scribe_job(
        MedicalScribeJobName=f"{prefix}scribe", Media=media, OutputBucketName=bucket, DataAccessRoleArn=ROLE,
        Settings={"ShowSpeakerLabels": True, "MaxSpeakerLabels": 2}, **kms)


def every_kind_arns(prefix: str = "") -> list[str]:
    return [f"{ARN}:transcription-job/{prefix}std", f"{ARN}:medical-transcription-job/{prefix}med",
            f"{ARN}:analytics/{prefix}ca", f"{ARN}:medical-scribe-job/{prefix}scribe"]


@pytest.fixture
def account(sim: Any) -> Iterator[Any]:
    """Media, a customer managed key (alias/transcripts) and the enforced output bucket."""
    put_media(sim, MEDIA, ["a.wav"])
    sim.key = create_key(sim, "transcripts")
    make_bucket(sim, ENFORCED, "aws:kms", sim.key, deny_other_encryption(ENFORCED))
    yield sim


def evaluate(parameters: dict[str, str] | None = None, factory: Any = None) -> list[Evaluation]:
    rule = TranscribeJobOutputEncrypted()
    return rule.evaluate_periodic({"accountId": ACCOUNT}, factory or ClientFactory(None, assume_role_mode=False),
                                  rule.evaluate_parameters(parameters or {}))


def verdicts(evaluations: list[Evaluation]) -> dict[str, str]:
    return {e.complianceResourceId: e.complianceType for e in evaluations}


def annotations(evaluations: list[Evaluation]) -> dict[str, str]:
    return {e.complianceResourceId.rsplit("/", 1)[-1]: e.annotation for e in evaluations}


class CallCounter:
    """Counts AWS API calls by service and operation, through botocore's before-parameter-build
    event (it sees the caller's parameters, such as Bucket)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.buckets: dict[str, int] = {}

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        name = f"{model.service_model.service_name}.{model.name}"
        self.counts[name] = self.counts.get(name, 0) + 1
        if model.name == "GetBucketEncryption":
            bucket = str(params.get("Bucket", ""))
            self.buckets[bucket] = self.buckets.get(bucket, 0) + 1


@pytest.fixture
def api_calls() -> Iterator[CallCounter]:
    counter = CallCounter()
    events = boto3._get_default_session().events
    for service in ("s3", "kms"):
        events.register(f"before-parameter-build.{service}", counter, unique_id=f"count-{service}-calls")
    yield counter
    for service in ("s3", "kms"):
        events.unregister(f"before-parameter-build.{service}", unique_id=f"count-{service}-calls")


# --- scenarios -----------------------------------------------------------------------------------

def test_scenario1_no_jobs_no_evaluations(sim: Any) -> None:
    assert evaluate() == []
    assert evaluate({"EvidenceSource": "object"}) == []


def test_scenario2_failed_job_is_not_applicable(account: Any) -> None:
    start_job(account, "broken", ENFORCED, "alias/transcripts", media="missing.wav")
    assert evaluate() == [Evaluation(NA, f"{ARN}:transcription-job/broken", "AWS::::Account",
                                     "Transcription job failed and stored no output.")]


def test_scenario3_unfinished_job_is_not_applicable_until_it_has_output(account: Any) -> None:
    account.transcribe.hold_jobs = True
    start_job(account, "running", ENFORCED, "alias/transcripts")
    assert evaluate() == [Evaluation(NA, f"{ARN}:transcription-job/running", "AWS::::Account",
                                     "Transcription job has not completed; it is evaluated once it has output.")]
    account.transcribe.complete_held_jobs()
    assert verdicts(evaluate()) == {f"{ARN}:transcription-job/running": C}


def test_scenario4_service_bucket_is_non_compliant(account: Any, api_calls: CallCounter) -> None:
    start_job(account, "meeting", None)
    account.client("transcribe").start_call_analytics_job(
        CallAnalyticsJobName="pilot", Media={"MediaFileUri": f"s3://{MEDIA}/a.wav"}, DataAccessRoleArn=ROLE)
    api_calls.counts.clear()
    factory = ClientFactory(None, assume_role_mode=False)
    service = "output is in a service-managed bucket, which cannot use a customer managed KMS key."
    assert evaluate(factory=factory) == [
        Evaluation(N, f"{ARN}:transcription-job/meeting", "AWS::::Account", f"Transcription job {service}"),
        Evaluation(N, f"{ARN}:analytics/pilot", "AWS::::Account", f"Call analytics job {service}"),
    ]
    from rules.engine.base import _INVENTORIES
    # The transcription job is judged from its summary; the call analytics job needs its details.
    assert "get_transcription_job" not in _INVENTORIES[factory].calls
    assert _INVENTORIES[factory].calls["get_call_analytics_job"] == 1
    assert api_calls.counts == {}  # no bucket or key lookups for service buckets


def test_scenario5_details_without_output_uris_fail_closed(account: Any, monkeypatch: Any) -> None:
    start_job(account, "odd", ENFORCED, "alias/transcripts")
    original = rules.inventory.transcribe.TranscribeInventory._call

    def without_transcript(self: Any, operation: str, **kwargs: Any) -> Any:
        response = original(self, operation, **kwargs)
        if operation == "get_transcription_job":
            response["TranscriptionJob"].pop("Transcript", None)
        return response

    monkeypatch.setattr(rules.inventory.transcribe.TranscribeInventory, "_call", without_transcript)
    for mode in ("bucket", "object"):
        assert evaluate({"EvidenceSource": mode}) == [Evaluation(
            N, f"{ARN}:transcription-job/odd", "AWS::::Account",
            "Transcription job details do not show where its output is stored.")]


@pytest.mark.parametrize("variant", ["plain", "null-false", "null-statement"])
def test_scenario6_enforced_bucket_is_compliant_with_or_without_null(account: Any, variant: str) -> None:
    bucket = f"out-{variant}"
    make_bucket(account, bucket, "aws:kms", account.key, deny_other_encryption(bucket, variant))
    start_job(account, "call", bucket, "alias/transcripts")
    assert evaluate() == [Evaluation(C, f"{ARN}:transcription-job/call", "AWS::::Account",
                                     COMPLIANT_TEXT.format(label="Transcription job", bucket=bucket))]


def test_scenario6_dsse_default_and_key_named_by_alias_count(account: Any) -> None:
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::dsse-out/*",
        "Condition": {"StringNotEquals": {SSE: ["aws:kms", "aws:kms:dsse"]}}}]})
    make_bucket(account, "dsse-out", "aws:kms:dsse", "alias/transcripts", policy)
    start_job(account, "call", "dsse-out", "alias/transcripts")
    assert verdicts(evaluate()) == {f"{ARN}:transcription-job/call": C}


def test_scenario6_every_job_kind_on_an_enforced_bucket(account: Any) -> None:
    start_every_kind(account, ENFORCED, account.key)
    result = evaluate()
    assert verdicts(result) == {arn: C for arn in every_kind_arns()}
    assert annotations(result)["scribe"] == COMPLIANT_TEXT.format(label="Medical scribe job", bucket=ENFORCED)


def test_scenario7_no_default_encryption(account: Any, monkeypatch: Any) -> None:
    # Since 2023 S3 gives every bucket an SSE-S3 default (scenario 8); "no configuration" is the
    # answer S3 gave before (and S3-compatible stores still give), injected here.
    make_bucket(account, "plain-out")
    start_job(account, "call", "plain-out", "alias/transcripts")  # the job's own key is not visible
    fail_calls(monkeypatch, rules.inventory.s3_kms.S3KmsLookups, "_call",
               lambda self, service, operation, region=None, **kwargs: operation == "get_bucket_encryption",
               lambda: ClientError({"Error": {"Code": "ServerSideEncryptionConfigurationNotFoundError",
                                              "Message": "not found"}}, "GetBucketEncryption"))
    assert evaluate() == [Evaluation(
        N, f"{ARN}:transcription-job/call", "AWS::::Account",
        "Output bucket plain-out has no default encryption; set SSE-KMS with a customer managed key and a policy "
        "denying other encryption.")]


def test_scenario8_sse_s3_default_for_every_job_kind(account: Any) -> None:
    make_bucket(account, "sse-s3-out", "AES256", policy=deny_other_encryption("sse-s3-out"))
    start_every_kind(account, "sse-s3-out", None)
    result = evaluate()
    assert verdicts(result) == {arn: N for arn in every_kind_arns()}
    assert set(annotations(result).values()) == {
        "Output bucket sse-s3-out encrypts by default with SSE-S3 (AES256), not SSE-KMS with a customer managed key."}


def test_scenario9_aws_managed_key_never_counts(account: Any) -> None:
    make_bucket(account, "implied-aws-s3", "aws:kms", None, deny_other_encryption("implied-aws-s3"))
    make_bucket(account, "named-aws-s3", "aws:kms", "alias/aws/s3", deny_other_encryption("named-aws-s3"))
    start_job(account, "implied", "implied-aws-s3")
    start_job(account, "named", "named-aws-s3", "alias/aws/s3")
    assert annotations(evaluate()) == {
        "named": "Output bucket named-aws-s3 encrypts by default with an AWS managed KMS key, not a customer "
                 "managed key.",
        "implied": "Output bucket implied-aws-s3 encrypts by default with the AWS managed key aws/s3, not a customer "
                   "managed key.",
    }
    assert verdicts(evaluate()) == {f"{ARN}:transcription-job/named": N, f"{ARN}:transcription-job/implied": N}


def test_scenario10_default_encryption_alone_is_not_proof(account: Any) -> None:
    make_bucket(account, "kms-no-policy", "aws:kms", account.key)
    allow_only = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "s3:*",
        "Resource": ["arn:aws:s3:::kms-allow-only", "arn:aws:s3:::kms-allow-only/*"]}]})
    make_bucket(account, "kms-allow-only", "aws:kms", account.key, allow_only)
    make_bucket(account, "kms-account-deny", "aws:kms", account.key,
                deny_other_encryption("kms-account-deny", principal={"AWS": ACCOUNT}))
    for bucket in ("kms-no-policy", "kms-allow-only", "kms-account-deny"):
        start_job(account, bucket, bucket, "alias/transcripts")
    result = evaluate()
    assert verdicts(result) == {f"{ARN}:transcription-job/{b}": N
                                for b in ("kms-no-policy", "kms-allow-only", "kms-account-deny")}
    assert annotations(result) == {
        "kms-no-policy": "Output bucket kms-no-policy has SSE-KMS by default but no bucket policy denying other "
                         "encryption; default encryption alone is not proof.",
        "kms-allow-only": "Output bucket kms-allow-only has SSE-KMS by default but its policy does not deny uploads "
                          "that ask for SSE-S3 (AES256) for every caller.",
        "kms-account-deny": "Output bucket kms-account-deny has SSE-KMS by default but its policy does not deny "
                            "uploads that ask for SSE-S3 (AES256) for every caller.",
    }


def test_scenario10_a_deny_that_refuses_every_upload_proves_nothing(account: Any) -> None:
    deny_all = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::locked/*"}]})
    make_bucket(account, "locked", "aws:kms", account.key, deny_all)
    start_job(account, "call", "locked", "alias/transcripts")
    assert verdicts(evaluate()) == {f"{ARN}:transcription-job/call": N}


def test_scenario11_kms_key_arns(account: Any) -> None:
    other_key = create_key(account, "other")
    make_bucket(account, "pinned", "aws:kms", account.key, deny_other_encryption("pinned", key_arns=[account.key]))
    start_job(account, "on-enforced", ENFORCED, "alias/transcripts")  # policy pins the algorithm only
    start_job(account, "on-pinned", "pinned", "alias/transcripts")
    result = evaluate({"KmsKeyArns": account.key})
    assert verdicts(result) == {f"{ARN}:transcription-job/on-pinned": C, f"{ARN}:transcription-job/on-enforced": N}
    assert annotations(result)["on-enforced"] == (
        f"Output bucket {ENFORCED} has SSE-KMS by default but its policy does not deny uploads that name a KMS key "
        "outside KmsKeyArns for every caller.")
    result = evaluate({"KmsKeyArns": other_key})
    assert verdicts(result) == {f"{ARN}:transcription-job/on-pinned": N, f"{ARN}:transcription-job/on-enforced": N}
    assert set(annotations(result).values()) == {
        "Output bucket pinned encrypts by default with a KMS key that is not in KmsKeyArns.",
        f"Output bucket {ENFORCED} encrypts by default with a KMS key that is not in KmsKeyArns."}
    # Listing both keys: the pinned bucket's default key is listed and its policy refuses others.
    assert verdicts(evaluate({"KmsKeyArns": f"{other_key}, {account.key}"}))[f"{ARN}:transcription-job/on-pinned"] == C


def test_scenario12_object_evidence(account: Any) -> None:
    aws_key = aws_managed_s3_key(account)
    make_bucket(account, "sse-s3-out", "AES256")
    make_bucket(account, "unenforced-kms", "aws:kms", account.key)  # no policy: fine for object evidence
    start_job(account, "kms-object", "sse-s3-out", "alias/transcripts")  # job key overrides the default
    start_job(account, "aes-object", "sse-s3-out")
    start_job(account, "default-kms-object", "unenforced-kms")
    start_job(account, "aws-key-object", "sse-s3-out", aws_key)
    result = evaluate({"EvidenceSource": "object"})
    assert verdicts(result) == {
        f"{ARN}:transcription-job/kms-object": C, f"{ARN}:transcription-job/aes-object": N,
        f"{ARN}:transcription-job/default-kms-object": C, f"{ARN}:transcription-job/aws-key-object": N}
    encrypted = "Transcription job output objects are encrypted with SSE-KMS under a customer managed key."
    assert annotations(result) == {
        "kms-object": encrypted,
        "default-kms-object": encrypted,
        "aes-object": "Transcription job output object in bucket sse-s3-out is encrypted with SSE-S3 (AES256), not "
                      "SSE-KMS with a customer managed key.",
        "aws-key-object": "Transcription job output object in bucket sse-s3-out is encrypted with an AWS managed KMS "
                          "key, not a customer managed key.",
    }
    # The same account judged by bucket evidence: neither bucket enforces SSE-KMS.
    assert set(verdicts(evaluate()).values()) == {N}


def test_scenario12_object_evidence_with_kms_key_arns_and_every_kind(account: Any) -> None:
    other_key = create_key(account, "other")
    start_every_kind(account, ENFORCED, account.key)
    start_job(account, "other-key", ENFORCED, other_key)
    result = verdicts(evaluate({"EvidenceSource": "object", "KmsKeyArns": account.key}))
    assert result == {**{arn: C for arn in every_kind_arns()}, f"{ARN}:transcription-job/other-key": N}
    assert annotations(evaluate({"EvidenceSource": "object", "KmsKeyArns": account.key}))["other-key"] == (
        f"Transcription job output object in bucket {ENFORCED} is encrypted with a KMS key that is not in KmsKeyArns.")


def test_scenario12_annotations_never_name_object_keys(account: Any) -> None:
    account.client("transcribe").start_transcription_job(
        TranscriptionJobName="patient-call", LanguageCode="en-US", Media={"MediaFileUri": f"s3://{MEDIA}/a.wav"},
        OutputBucketName=ENFORCED, OutputKey="patients/jane-doe-1970-01-01/")
    for mode in ("bucket", "object"):
        for evaluation in evaluate({"EvidenceSource": mode}):
            assert "jane" not in evaluation.annotation and "patients/" not in evaluation.annotation


def test_scenario13_access_denied_on_one_bucket_among_good_ones(account: Any, monkeypatch: Any) -> None:
    make_bucket(account, "denied-out", "aws:kms", account.key, deny_other_encryption("denied-out"))
    start_job(account, "good-1", ENFORCED, "alias/transcripts")
    start_job(account, "denied-1", "denied-out", "alias/transcripts")
    start_job(account, "denied-2", "denied-out", "alias/transcripts")
    start_job(account, "good-2", ENFORCED, "alias/transcripts")
    calls: list[str] = []

    def should_fail(self: Any, service: str, operation: str, region: Any = None, **kwargs: Any) -> bool:
        calls.append(f"{operation}:{kwargs.get('Bucket')}")
        return operation == "get_bucket_policy" and kwargs.get("Bucket") == "denied-out"

    fail_calls(monkeypatch, rules.inventory.s3_kms.S3KmsLookups, "_call", should_fail,
               lambda: ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "GetBucketPolicy"))
    result = evaluate()
    denied = "Could not evaluate: AccessDenied when reading the bucket policy of output bucket denied-out."
    assert result == [
        Evaluation(C, f"{ARN}:transcription-job/good-2", "AWS::::Account",
                   COMPLIANT_TEXT.format(label="Transcription job", bucket=ENFORCED)),
        Evaluation(N, f"{ARN}:transcription-job/denied-2", "AWS::::Account", denied),
        Evaluation(N, f"{ARN}:transcription-job/denied-1", "AWS::::Account", denied),
        Evaluation(C, f"{ARN}:transcription-job/good-1", "AWS::::Account",
                   COMPLIANT_TEXT.format(label="Transcription job", bucket=ENFORCED)),
    ]
    assert calls.count("get_bucket_policy:denied-out") == 1  # the failure is remembered, not retried


def test_scenario13_errors_on_jobs_keys_and_objects(account: Any, monkeypatch: Any) -> None:
    unknown_key = create_key(account, "unreadable")
    make_bucket(account, "unreadable-key-out", "aws:kms", unknown_key, deny_other_encryption("unreadable-key-out"))
    start_job(account, "job-denied", ENFORCED, "alias/transcripts")
    start_job(account, "key-denied", "unreadable-key-out", unknown_key)
    start_job(account, "fine", ENFORCED, "alias/transcripts")
    fail_calls(monkeypatch, rules.inventory.transcribe.TranscribeInventory, "_call",
               lambda self, op, **kw: kw.get("TranscriptionJobName") == "job-denied",
               lambda: access_denied("GetTranscriptionJob"))
    fail_calls(monkeypatch, rules.inventory.s3_kms.S3KmsLookups, "_call",
               lambda self, service, op, region=None, **kw: kw.get("KeyId") == unknown_key,
               lambda: ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DescribeKey"))
    assert annotations(evaluate()) == {
        "fine": COMPLIANT_TEXT.format(label="Transcription job", bucket=ENFORCED),
        "key-denied": "Could not evaluate: AccessDeniedException when reading the default KMS key of output bucket "
                      "unreadable-key-out.",
        "job-denied": "Could not evaluate: AccessDeniedException when reading transcription job.",
    }
    fail_calls(monkeypatch, rules.inventory.s3_kms.S3KmsLookups, "_call",
               lambda self, service, op, region=None, **kw: op == "head_object" and "fine" not in kw.get("Key", ""),
               lambda: ClientError({"Error": {"Code": "403", "Message": "Forbidden"}}, "HeadObject"))
    result = evaluate({"EvidenceSource": "object"})
    assert verdicts(result) == {f"{ARN}:transcription-job/fine": C, f"{ARN}:transcription-job/key-denied": N,
                                f"{ARN}:transcription-job/job-denied": N}
    assert annotations(result)["key-denied"] == (
        "Could not evaluate: 403 when reading an output object in bucket unreadable-key-out.")


def test_scenario14_every_output_object_must_pass(account: Any, monkeypatch: Any) -> None:
    start_every_kind(account, ENFORCED, account.key)
    factory = ClientFactory(None, assume_role_mode=False)
    assert set(verdicts(evaluate({"EvidenceSource": "object"}, factory=factory)).values()) == {C}
    # Transcript + redacted transcript, transcript, redacted transcript, transcript + clinical document.
    assert rules.inventory.s3_kms._LOOKUPS[factory].calls["s3.head_object"] == 6
    # One object re-encrypted with SSE-S3 (say, copied over by another tool) fails its job.
    original = rules.inventory.s3_kms.S3KmsLookups.object_encryption

    def summary_reencrypted(self: Any, bucket: str, key: str) -> Any:
        found = original(self, bucket, key)
        return rules.inventory.s3_kms.ObjectEncryption("AES256", None) if key.endswith("summary.json") else found

    monkeypatch.setattr(rules.inventory.s3_kms.S3KmsLookups, "object_encryption", summary_reencrypted)
    result = evaluate({"EvidenceSource": "object"})
    assert verdicts(result) == {**{arn: C for arn in every_kind_arns()}, f"{ARN}:medical-scribe-job/scribe": N}
    assert annotations(result)["scribe"] == (
        f"Medical scribe job output object in bucket {ENFORCED} is encrypted with SSE-S3 (AES256), not SSE-KMS with "
        "a customer managed key.")


# --- caching, pagination, sharing ----------------------------------------------------------------

def test_pagination_past_100_jobs_and_each_bucket_looked_up_once(account: Any, api_calls: CallCounter) -> None:
    make_bucket(account, "sse-s3-out", "AES256")
    for index in range(105):
        if index % 2:
            start_job(account, f"job-{index:03d}", ENFORCED, "alias/transcripts")
        else:
            start_job(account, f"job-{index:03d}", "sse-s3-out")
    api_calls.counts.clear()
    api_calls.buckets.clear()
    result = verdicts(evaluate())
    assert len(result) == 105
    assert result[f"{ARN}:transcription-job/job-000"] == N
    assert result[f"{ARN}:transcription-job/job-103"] == C
    assert result[f"{ARN}:transcription-job/job-104"] == N
    assert sum(1 for v in result.values() if v == C) == 52
    assert api_calls.buckets == {ENFORCED: 1, "sse-s3-out": 1}
    assert api_calls.counts == {"s3.GetBucketEncryption": 2, "s3.GetBucketPolicy": 1, "kms.DescribeKey": 1}


def test_a_scan_shares_the_lookups_across_rules(account: Any, api_calls: CallCounter) -> None:
    account.client("s3").put_object(Bucket=MEDIA, Key="vocab.txt", Body=b"Phrase\nAcmeCare\n")
    account.client("transcribe").create_vocabulary(
        VocabularyName="terms", LanguageCode="en-US", VocabularyFileUri=f"s3://{MEDIA}/vocab.txt",
        DataAccessRoleArn=ROLE, EncryptionConfiguration={"KMSKey": account.key})
    start_job(account, "call", ENFORCED, "alias/transcripts")
    api_calls.counts.clear()
    factory = ClientFactory(None, assume_role_mode=False)  # what `scan` passes to every rule
    assert verdicts(evaluate(factory=factory)) == {f"{ARN}:transcription-job/call": C}
    other = TranscribeCustomizationEncrypted()
    assert verdicts(other.evaluate_periodic({"accountId": ACCOUNT}, factory, other.evaluate_parameters({}))) == {
        f"{ARN}:vocabulary/terms": C}
    # The bucket's default key and the vocabulary's key are the same key, named the same way (ARN).
    assert api_calls.counts["kms.DescribeKey"] == 1
    # A new factory (a new Lambda invocation) starts a new cache.
    evaluate()
    assert api_calls.counts["kms.DescribeKey"] == 2


# --- parameters ----------------------------------------------------------------------------------

def test_parameters_defaults_and_parsing() -> None:
    rule = TranscribeJobOutputEncrypted()
    assert rule.evaluate_parameters({}) == {"EvidenceSource": "bucket", "KmsKeyArns": [],
                                            "ReportedResourceType": "AWS::::Account", "ReportingMode": "resource",
                                            "ReconciliationDays": "7"}
    key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert rule.evaluate_parameters({"EvidenceSource": "object", "KmsKeyArns": f" {key}, {key} ",
                                     "ReportedResourceType": "Acme::Transcribe::Job"}) == {
        "EvidenceSource": "object", "KmsKeyArns": [key], "ReportedResourceType": "Acme::Transcribe::Job",
        "ReportingMode": "resource", "ReconciliationDays": "7"}


def test_reported_resource_type_parameter(account: Any) -> None:
    start_job(account, "call", ENFORCED, "alias/transcripts")
    assert [e.complianceResourceType for e in evaluate({"ReportedResourceType": "Acme::Transcribe::Job"})] == [
        "Acme::Transcribe::Job"]


@pytest.mark.parametrize("parameters, message", [
    ({"EvidenceSource": "objects"}, "Parameter EvidenceSource has an unsupported value; allowed: bucket, object"),
    ({"KmsKeyArns": "alias/transcripts"}, "Parameter KmsKeyArns has an invalid value: each entry must be a KMS key"),
    ({"KmsKeyArns": f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/transcripts"}, "Parameter KmsKeyArns has an invalid value"),
    ({"KmsKeyArns": "k" * 1025}, "Parameter KmsKeyArns is 1025 characters long"),
    ({"ReportedResourceType": "AWS::Transcribe"}, "Parameter ReportedResourceType has an invalid value"),
    ({"EvidenceSource": True}, "Parameter EvidenceSource must be a string"),
    ({"KmsKeys": "x"}, "Unknown parameter KmsKeys"),
])
def test_bad_parameters_name_the_parameter(parameters: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParametersError, match=message):
        TranscribeJobOutputEncrypted().evaluate_parameters(parameters)


def test_metadata_validates_and_object_mode_permission_is_explained() -> None:
    import jsonschema

    from rules.catalog.registry import metadata_schema
    jsonschema.validate(METADATA, metadata_schema())
    assert "s3:GetObject" not in METADATA["iam_actions"]
    for field in ("description", "remediation"):
        assert "s3:GetObject" in METADATA[field]
    assert "s3:GetObject" in METADATA["parameters"]["properties"]["EvidenceSource"]["description"]


# --- the Lambda handler --------------------------------------------------------------------------

def test_lambda_handler_rejects_bad_parameters_with_invalid_parameter_value(sim: Any) -> None:
    deploy_rule(sim, RULE)
    response = rejected_parameters(lambda_handler, periodic_event(RULE, {"EvidenceSource": "headers"}))
    assert response["customerErrorCode"] == "InvalidParameterValueException"
    assert "EvidenceSource" in response["customerErrorMessage"]
    response = rejected_parameters(lambda_handler, periodic_event(RULE, {"KmsKeyArns": "alias/x"}))
    assert response["customerErrorCode"] == "InvalidParameterValueException"
    assert "KmsKeyArns" in response["customerErrorMessage"]


def test_lambda_handler_stores_verdicts_per_job(account: Any) -> None:
    deploy_rule(account, RULE)
    make_bucket(account, "sse-s3-out", "AES256")
    start_every_kind(account, ENFORCED, account.key)
    start_job(account, "clinic", "sse-s3-out")
    start_job(account, "meeting", None)
    start_job(account, "broken", ENFORCED, "alias/transcripts", media="missing.wav")
    lambda_handler(periodic_event(RULE), None)
    assert stored_verdicts(account, RULE) == {
        **{arn: C for arn in every_kind_arns()},
        f"{ARN}:transcription-job/clinic": N, f"{ARN}:transcription-job/meeting": N,
        f"{ARN}:transcription-job/broken": NA,
    }
    # Object evidence with KmsKeyArns: the job key is listed, so the objects pass where the bucket
    # policy (which pins only the algorithm) would not.
    lambda_handler(periodic_event(RULE, {"EvidenceSource": "object", "KmsKeyArns": account.key}), None)
    stored = stored_verdicts(account, RULE)
    assert {arn: stored[arn] for arn in every_kind_arns()} == {arn: C for arn in every_kind_arns()}
    assert stored[f"{ARN}:transcription-job/clinic"] == N
