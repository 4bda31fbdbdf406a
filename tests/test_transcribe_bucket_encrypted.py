"""transcribe-bucket-encrypted: scenarios against the simulator (seeded with plain boto3 calls),
every discovery source, parameters, API errors, per-run caching, pagination, and the Lambda
handler with a real ScheduledNotification event."""

from __future__ import annotations

from typing import Any

import pytest
from rdklib import ComplianceType, Evaluation, InvalidParametersError

import rules.inventory.s3_kms
import rules.inventory.transcribe
from rules.transcribe_bucket_encrypted import METADATA, TranscribeBucketEncrypted, lambda_handler
from tests.data_buckets import (api_calls, client_error, create_key, create_language_model, make_bucket,  # noqa: F401
                                run, start_job, texts, verdicts)
from tests.helpers import rejected_parameters
from tests.helpers import ACCOUNT, deploy_rule, fail_calls, periodic_event, stored_verdicts
from tests.test_simulator_s3_defaults import other_account_s3

RULE = "transcribe-bucket-encrypted"
C, N, NA = ComplianceType.COMPLIANT, ComplianceType.NON_COMPLIANT, ComplianceType.NOT_APPLICABLE
BUCKET = "AWS::S3::Bucket"


def evaluate(parameters: dict[str, str] | None = None, factory: Any = None) -> list[Evaluation]:
    return run(TranscribeBucketEncrypted, parameters, factory)


@pytest.fixture
def key(sim: Any) -> str:
    return str(create_key(sim, "transcripts")["Arn"])


def test_scenario1_no_data_buckets_no_evaluations(sim: Any) -> None:
    make_bucket(sim, "unrelated", "AES256")
    assert evaluate() == []
    assert evaluate({"AllowSseS3": "true"}) == []


def test_scenario2_customer_managed_kms_and_dsse_defaults_are_compliant(sim: Any, key: str) -> None:
    make_bucket(sim, "kms-audio", "aws:kms", key)
    make_bucket(sim, "dsse-out", "aws:kms:dsse", "alias/transcripts")
    start_job(sim, "call", "kms-audio", "dsse-out")
    assert evaluate() == [
        Evaluation(C, "dsse-out", BUCKET, "Bucket dsse-out (output) encrypts by default with DSSE-KMS under a customer "
                                          "managed KMS key."),
        Evaluation(C, "kms-audio", BUCKET, "Bucket kms-audio (media) encrypts by default with SSE-KMS under a customer "
                                           "managed KMS key."),
    ]


def test_scenario3_sse_s3_default_unless_allowed(sim: Any) -> None:
    make_bucket(sim, "fresh")  # no configuration of its own: S3's SSE-S3 baseline
    make_bucket(sim, "explicit", "AES256")
    start_job(sim, "call", "fresh", "explicit")
    assert evaluate() == [
        Evaluation(N, "explicit", BUCKET, "Bucket explicit (output) encrypts by default with SSE-S3 (AES256), not "
                                          "SSE-KMS with a customer managed key."),
        Evaluation(N, "fresh", BUCKET, "Bucket fresh (media) encrypts by default with SSE-S3 (AES256), not SSE-KMS with "
                                       "a customer managed key."),
    ]
    assert texts(evaluate({"AllowSseS3": "true"})) == {
        "explicit": "Bucket explicit (output) encrypts by default with SSE-S3 (AES256), which AllowSseS3 accepts.",
        "fresh": "Bucket fresh (media) encrypts by default with SSE-S3 (AES256), which AllowSseS3 accepts."}


def test_scenario3_legacy_no_configuration_answer_counts_as_sse_s3(sim: Any, monkeypatch: Any) -> None:
    make_bucket(sim, "legacy")
    start_job(sim, "call", "legacy")
    fail_calls(monkeypatch, rules.inventory.s3_kms.S3KmsLookups, "_call",
               lambda self, service, operation, region=None, **kw: operation == "get_bucket_encryption",
               lambda: client_error("ServerSideEncryptionConfigurationNotFoundError", "GetBucketEncryption"))
    assert verdicts(evaluate()) == {"legacy": N}
    assert verdicts(evaluate({"AllowSseS3": "true"})) == {"legacy": C}


def test_scenario4_aws_managed_key(sim: Any, key: str, api_calls: Any) -> None:  # noqa: F811
    make_bucket(sim, "implied", "aws:kms")
    make_bucket(sim, "named", "aws:kms", "alias/aws/s3")
    start_job(sim, "call", "implied", "named")
    assert texts(evaluate()) == {
        "implied": "Bucket implied (media) encrypts by default with SSE-KMS under the AWS managed key aws/s3, not a "
                   "customer managed key.",
        "named": "Bucket named (output) encrypts by default with SSE-KMS under the AWS managed key aws/s3, not a "
                 "customer managed key."}
    assert api_calls.per_target("kms.DescribeKey") == {"alias/aws/s3": 1}  # the implied key is never described
    assert verdicts(evaluate({"AllowSseS3": "true"})) == {"implied": C, "named": C}
    assert verdicts(evaluate({"AllowSseS3": "true", "KmsKeyArns": key})) == {"implied": N, "named": N}


def test_scenario5_other_algorithm(sim: Any) -> None:
    make_bucket(sim, "fsx-data", "aws:fsx")
    start_job(sim, "call", "fsx-data")
    assert texts(evaluate({"AllowSseS3": "true"})) == {
        "fsx-data": "Bucket fsx-data (media) encrypts by default with aws:fsx, not SSE-KMS with a customer managed key."}


def test_scenario6_kms_key_arns(sim: Any, key: str) -> None:
    other = create_key(sim)["Arn"]
    make_bucket(sim, "listed", "aws:kms", key)
    make_bucket(sim, "unlisted", "aws:kms", other)
    start_job(sim, "call", "listed", "unlisted")
    assert verdicts(evaluate({"KmsKeyArns": key})) == {"listed": C, "unlisted": N}
    assert texts(evaluate({"KmsKeyArns": key}))["unlisted"] == (
        "Bucket unlisted (output) encrypts by default with a KMS key that is not in KmsKeyArns.")
    assert verdicts(evaluate({"KmsKeyArns": f"{key},{other}"})) == {"listed": C, "unlisted": C}


def test_scenario7_access_denied_bucket_and_key_among_good_ones(sim: Any, key: str, monkeypatch: Any) -> None:
    broken_key = create_key(sim)["Arn"]
    for name in ("good-a", "good-b", "denied"):
        make_bucket(sim, name, "aws:kms", key)
    make_bucket(sim, "key-denied", "aws:kms", broken_key)
    for name in ("good-a", "good-b", "denied", "key-denied"):
        start_job(sim, name, name)
    fail_calls(monkeypatch, rules.inventory.s3_kms.S3KmsLookups, "_call",
               lambda self, service, operation, region=None, **kw: kw.get("Bucket") == "denied"
               or kw.get("KeyId") == broken_key,
               lambda: client_error("AccessDenied", "GetBucketEncryption"))
    result = evaluate()
    assert verdicts(result) == {"good-a": C, "good-b": C, "denied": N, "key-denied": N}
    assert texts(result)["denied"] == ("Could not evaluate: AccessDenied when reading the default encryption of bucket "
                                       "denied; the bucket belongs to another account or denies this rule's role.")
    assert texts(result)["key-denied"] == (
        "Could not evaluate: AccessDenied when describing the default KMS key of bucket key-denied.")


def test_scenario7_bucket_of_another_account_fails_closed(sim: Any, key: str) -> None:
    foreign = other_account_s3(sim)
    foreign.create_bucket(Bucket="partner-out")
    make_bucket(sim, "audio", "aws:kms", key)
    start_job(sim, "call", "audio")
    result = evaluate({"BucketNames": "partner-out"})
    assert verdicts(result) == {"audio": C, "partner-out": N}
    assert texts(result)["partner-out"].startswith("Could not evaluate: AccessDenied when reading the default encryption")


def test_scenario7_describe_key_without_key_manager_fails_closed(sim: Any, key: str, monkeypatch: Any) -> None:
    make_bucket(sim, "audio", "aws:kms", key)
    start_job(sim, "call", "audio")
    original = rules.inventory.s3_kms.S3KmsLookups._call

    def thinned(self: Any, service: str, operation: str, region: Any = None, **kwargs: Any) -> Any:
        response = original(self, service, operation, region, **kwargs)
        if operation == "describe_key":
            response["KeyMetadata"].pop("KeyManager")
        return response

    monkeypatch.setattr(rules.inventory.s3_kms.S3KmsLookups, "_call", thinned)
    assert evaluate() == [Evaluation(N, "audio", BUCKET, "Could not evaluate: DescribeKey did not report the KeyManager "
                                                         "of the default KMS key of bucket audio.")]


def test_scenario8_deleted_bucket_is_not_applicable(sim: Any, key: str) -> None:
    make_bucket(sim, "gone", "aws:kms", key)
    start_job(sim, "call", "gone")
    s3 = sim.client("s3")
    s3.delete_object(Bucket="gone", Key="call.wav")
    s3.delete_bucket(Bucket="gone")
    assert evaluate() == [Evaluation(NA, "gone", BUCKET, "Bucket gone (media) does not exist (deleted since a job named it, or misnamed).")]


def test_scenario9_unreadable_jobs_report_the_account_and_keep_earlier_results(sim: Any, key: str,
                                                                               monkeypatch: Any) -> None:
    make_bucket(sim, "seen", "aws:kms", key)
    make_bucket(sim, "unseen", "AES256")
    start_job(sim, "readable", "seen")
    start_job(sim, "secret", "unseen")
    fail_calls(monkeypatch, rules.inventory.transcribe.TranscribeInventory, "_call",
               lambda self, operation, **kw: kw.get("TranscriptionJobName") == "secret",
               lambda: client_error("AccessDeniedException", "GetTranscriptionJob"))
    rule = TranscribeBucketEncrypted()
    from rdklib import ClientFactory
    result = rule.evaluate_periodic({"accountId": ACCOUNT}, ClientFactory(None, assume_role_mode=False),
                                    rule.evaluate_parameters({}))
    assert result == [
        Evaluation(N, ACCOUNT, "AWS::::Account", "Could not evaluate: AccessDeniedException when reading a transcription "
                                                 "job; the buckets they name are unknown, earlier results are kept."),
        Evaluation(C, "seen", BUCKET, "Bucket seen (media) encrypts by default with SSE-KMS under a customer managed "
                                      "KMS key.")]
    assert rule.delete_old_evaluations_on_scheduled_notification is False
    monkeypatch.undo()
    rule.evaluate_periodic({"accountId": ACCOUNT}, ClientFactory(None, assume_role_mode=False), rule.evaluate_parameters({}))
    assert rule.delete_old_evaluations_on_scheduled_notification is True


def test_scenario10_unreadable_tags_fail_closed(sim: Any, key: str, monkeypatch: Any) -> None:
    make_bucket(sim, "tagged", "aws:kms", key, tags={"transcribe": "yes"})
    make_bucket(sim, "locked", "aws:kms", key, tags={"transcribe": "yes"})
    fail_calls(monkeypatch, rules.inventory.s3_kms.S3KmsLookups, "_call",
               lambda self, service, operation, region=None, **kw: operation == "get_bucket_tagging"
               and kw.get("Bucket") == "locked",
               lambda: client_error("AccessDenied", "GetBucketTagging"))
    assert evaluate({"BucketTagKey": "transcribe"}) == [
        Evaluation(N, "locked", BUCKET, "Could not evaluate: AccessDenied when reading the tags of bucket locked "
                                        "(BucketTagKey)."),
        Evaluation(C, "tagged", BUCKET, "Bucket tagged (BucketTagKey) encrypts by default with SSE-KMS under a customer "
                                        "managed KMS key.")]


def test_every_discovery_source_is_evaluated(sim: Any, key: str) -> None:
    for name in ("media", "output", "corpus", "named", "tag-any", "tag-value", "tag-other-value"):
        make_bucket(sim, name, "aws:kms", key)
    sim.client("s3").put_bucket_tagging(Bucket="tag-any", Tagging={"TagSet": [{"Key": "data", "Value": "x"}]})
    sim.client("s3").put_bucket_tagging(Bucket="tag-value", Tagging={"TagSet": [{"Key": "data", "Value": "calls"}]})
    sim.client("s3").put_bucket_tagging(Bucket="tag-other-value", Tagging={"TagSet": [{"Key": "data", "Value": "x"}]})
    start_job(sim, "call", "media", "output", kind="scribe")
    create_language_model(sim, "lm", "corpus")
    assert set(verdicts(evaluate({"BucketNames": "named", "BucketTagKey": "data"}))) == {
        "media", "output", "corpus", "named", "tag-any", "tag-value", "tag-other-value"}
    result = texts(evaluate({"BucketNames": "named", "BucketTagKey": "data=calls"}))
    assert set(result) == {"media", "output", "corpus", "named", "tag-value"}
    assert result["corpus"].startswith("Bucket corpus (training data) ")
    assert result["tag-value"].startswith("Bucket tag-value (BucketTagKey) ")
    assert all("calls" not in text for text in result.values())  # tag values are never reported


def test_pagination_past_100_jobs_each_bucket_and_key_looked_up_once(sim: Any, key: str, api_calls: Any) -> None:  # noqa: F811
    make_bucket(sim, "audio", "aws:kms", key)
    make_bucket(sim, "text", "AES256")
    for index in range(105):
        start_job(sim, f"job-{index:03d}", "audio", "text" if index % 2 else None)
    api_calls.counts.clear()
    assert verdicts(evaluate()) == {"audio": C, "text": N}
    assert api_calls.counts["transcribe.ListTranscriptionJobs"] == 2
    assert api_calls.counts["transcribe.GetTranscriptionJob"] == 105
    assert api_calls.per_target("s3.GetBucketEncryption") == {"audio": 1, "text": 1}
    assert api_calls.counts["kms.DescribeKey"] == 1


# --- parameters -------------------------------------------------------------------------------------

def test_parameters_defaults_and_parsing() -> None:
    rule = TranscribeBucketEncrypted()
    assert rule.evaluate_parameters({}) == {"AllowSseS3": False, "KmsKeyArns": [], "BucketNames": [],
                                            "BucketTagKey": None}
    assert rule.evaluate_parameters({"AllowSseS3": "TRUE", "BucketNames": " a-bucket , b.bucket ,a-bucket",
                                     "BucketTagKey": "team=call center"}) == {
        "AllowSseS3": True, "KmsKeyArns": [], "BucketNames": ["a-bucket", "b.bucket"], "BucketTagKey": "team=call center"}


@pytest.mark.parametrize("parameters, message", [
    ({"AllowSseS3": "yes"}, "Parameter AllowSseS3 must be true or false"),
    ({"KmsKeyArns": "alias/transcripts"}, "Parameter KmsKeyArns has an invalid value"),
    ({"BucketNames": "Bad_Bucket"}, "Parameter BucketNames has an invalid value: each entry must be an S3 bucket name"),
    ({"BucketNames": "ab"}, "Parameter BucketNames has an invalid value"),
    ({"BucketTagKey": "a,b"}, "Parameter BucketTagKey has an invalid value: use TagKey or TagKey=value"),
    ({"BucketTagKey": "k" * 129}, "Parameter BucketTagKey has an invalid value"),
    ({"BucketTagKey": "=value"}, "Parameter BucketTagKey has an invalid value"),
    ({"Buckets": "x"}, "Unknown parameter Buckets"),
])
def test_scenario11_bad_parameters_name_the_parameter(parameters: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidParametersError, match=message):
        TranscribeBucketEncrypted().evaluate_parameters(parameters)


def test_metadata_validates_and_shares_parameter_schemas() -> None:
    import jsonschema

    from rules.catalog.registry import RULES, metadata_schema
    jsonschema.validate(METADATA, metadata_schema())
    others = [RULES[name].METADATA["parameters"]["properties"] for name in (
        "transcribe-bucket-tls-enforced", "transcribe-bucket-public-access-blocked", "transcribe-kms-key-protected")]
    for name in ("BucketNames", "BucketTagKey"):
        assert all(found[name] == METADATA["parameters"]["properties"][name] for found in others)
    assert METADATA["parameters"]["properties"]["KmsKeyArns"] == \
        RULES["transcribe-job-output-encrypted"].METADATA["parameters"]["properties"]["KmsKeyArns"]


# --- the Lambda handler -----------------------------------------------------------------------------

def test_lambda_handler_rejects_bad_parameters_with_invalid_parameter_value(sim: Any) -> None:
    deploy_rule(sim, RULE)
    for parameters, name in (({"AllowSseS3": "maybe"}, "AllowSseS3"), ({"BucketNames": "UPPER"}, "BucketNames"),
                             ({"BucketTagKey": "a,b"}, "BucketTagKey")):
        response = rejected_parameters(lambda_handler, periodic_event(RULE, parameters))
        assert response["customerErrorCode"] == "InvalidParameterValueException"
        assert name in response["customerErrorMessage"]


def test_lambda_handler_stores_verdicts_per_bucket(sim: Any, key: str) -> None:
    deploy_rule(sim, RULE)
    make_bucket(sim, "audio", "aws:kms", key)
    make_bucket(sim, "text", "AES256")
    make_bucket(sim, "archive", tags={"transcribe": "archive"})
    start_job(sim, "call", "audio", "text", kind="analytics")
    lambda_handler(periodic_event(RULE), None)
    assert stored_verdicts(sim, RULE) == {"audio": C, "text": N}
    lambda_handler(periodic_event(RULE, {"AllowSseS3": "true", "BucketTagKey": "transcribe=archive"}), None)
    assert stored_verdicts(sim, RULE) == {"audio": C, "text": C, "archive": C}
