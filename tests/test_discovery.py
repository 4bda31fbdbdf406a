"""rules.inventory.discovery: every source of Transcribe data buckets and keys, what is left out, failures
as gaps, per-run caching shared by the bucket and key rules, pagination past 100 jobs, and the
new rules.inventory.s3_kms lookups (bucket-owner check, tags, ListBuckets, account public access block,
key policy and rotation)."""

from __future__ import annotations

from typing import Any

import pytest
from rdklib import ClientFactory

import rules.inventory.s3_kms
import rules.inventory.transcribe
from rules.engine.base import RunContext, inventory_for
from rules.inventory.discovery import Gap, KeyRef, describe_gaps, discovery_for
from rules.inventory.s3_kms import KeyMetadata, lookups_for
from tests.data_buckets import (api_calls, client_error, create_key, create_language_model, create_vocabulary,  # noqa: F401
                                make_bucket, start_job)
from tests.helpers import ACCOUNT, REGION, fail_calls
from tests.test_simulator_s3_defaults import other_account_s3


def context(factory: Any = None) -> RunContext:
    factory = factory or ClientFactory(None, assume_role_mode=False)
    inventory = inventory_for(factory, ACCOUNT)
    return RunContext(ACCOUNT, REGION, "aws", inventory, "AWS::::Account", factory)


def sources(named: tuple[str, ...] = (), tag: str | None = None, factory: Any = None) -> dict[str, tuple[str, ...]]:
    return discovery_for(context(factory)).buckets(named, tag).sources


def test_no_transcribe_resources_no_buckets(sim: Any) -> None:
    make_bucket(sim, "unrelated")
    found = discovery_for(context()).buckets()
    assert (found.sources, found.gaps, found.unreadable_tags) == ({}, [], {})
    assert discovery_for(context()).customization_keys() == ([], [])


@pytest.mark.parametrize("kind", ["standard", "medical", "analytics", "scribe"])
def test_media_and_output_buckets_of_every_job_kind(sim: Any, kind: str) -> None:
    make_bucket(sim, "audio-in")
    make_bucket(sim, "text-out")
    start_job(sim, "job", "audio-in", "text-out", kind)
    assert sources() == {"audio-in": ("media",), "text-out": ("output",)}


def test_one_bucket_for_media_and_output_names_both_sources(sim: Any) -> None:
    make_bucket(sim, "both")
    start_job(sim, "job", "both", "both")
    assert sources() == {"both": ("media", "output")}


def test_service_managed_output_bucket_is_left_out(sim: Any) -> None:
    make_bucket(sim, "audio-in")
    start_job(sim, "meeting", "audio-in")  # no output bucket: aws-transcribe-<region>-prod
    start_job(sim, "pilot", "audio-in", kind="analytics")  # no OutputLocation
    detail = sim.client("transcribe").get_transcription_job(TranscriptionJobName="meeting")["TranscriptionJob"]
    assert "aws-transcribe-us-east-1-prod" in detail["Transcript"]["TranscriptFileUri"]
    assert sources() == {"audio-in": ("media",)}


def test_failed_job_still_names_its_media_bucket(sim: Any) -> None:
    make_bucket(sim, "audio-in")
    make_bucket(sim, "text-out")
    sim.client("transcribe").start_transcription_job(
        TranscriptionJobName="broken", LanguageCode="en-US", Media={"MediaFileUri": "s3://audio-in/missing.wav"},
        OutputBucketName="text-out")
    assert sources() == {"audio-in": ("media",)}  # a failed job reports no output URI


def test_language_model_training_and_tuning_data(sim: Any) -> None:
    make_bucket(sim, "corpus")
    make_bucket(sim, "tuning")
    create_language_model(sim, "lm", "corpus", "tuning")
    assert sources() == {"corpus": ("training data",), "tuning": ("training data",)}


def test_bucket_names_parameter(sim: Any) -> None:
    make_bucket(sim, "audio-in")
    start_job(sim, "job", "audio-in")
    assert sources(("vocab-src", "audio-in")) == {"audio-in": ("media", "BucketNames"), "vocab-src": ("BucketNames",)}


def test_bucket_tag_key_with_and_without_value(sim: Any, api_calls: Any) -> None:  # noqa: F811
    make_bucket(sim, "archive-a", tags={"transcribe-data": "archive"})
    make_bucket(sim, "archive-b", tags={"transcribe-data": "legacy", "Team": "cc"})
    make_bucket(sim, "untagged")
    make_bucket(sim, "other-tag", tags={"Team": "transcribe-data"})
    make_bucket(sim, "audio-in")
    start_job(sim, "job", "audio-in")
    assert sources(tag="transcribe-data") == {"archive-a": ("BucketTagKey",), "archive-b": ("BucketTagKey",),
                                              "audio-in": ("media",)}
    assert sources(tag="transcribe-data=archive") == {"archive-a": ("BucketTagKey",), "audio-in": ("media",)}
    assert sources(tag="transcribe-data=") == {"audio-in": ("media",)}  # an empty value must match exactly
    # No tag lookups without the parameter; with it, one ListBuckets and one read per bucket not
    # already in scope.
    api_calls.counts.clear()
    sources()
    assert "s3.ListBuckets" not in api_calls.counts and "s3.GetBucketTagging" not in api_calls.counts
    api_calls.counts.clear()
    found = discovery_for(context())
    found.buckets((), "transcribe-data")
    found.buckets((), "transcribe-data=archive")
    assert api_calls.counts["s3.ListBuckets"] == 1
    assert api_calls.per_target("s3.GetBucketTagging") == {"archive-a": 1, "archive-b": 1, "untagged": 1,
                                                           "other-tag": 1}


def test_unreadable_tags_and_unlisted_buckets(sim: Any, monkeypatch: Any) -> None:
    make_bucket(sim, "tagged", tags={"k": "v"})
    make_bucket(sim, "locked", tags={"k": "v"})
    fail_calls(monkeypatch, rules.inventory.s3_kms.S3KmsLookups, "_call",
               lambda self, service, operation, region=None, **kw: kw.get("Bucket") == "locked",
               lambda: client_error("AccessDenied", "GetBucketTagging"))
    found = discovery_for(context()).buckets((), "k")
    assert found.sources == {"tagged": ("BucketTagKey",)}
    assert list(found.unreadable_tags) == ["locked"]
    monkeypatch.undo()
    fail_calls(monkeypatch, rules.inventory.s3_kms.S3KmsLookups, "_call",
               lambda self, service, operation, region=None, **kw: operation == "list_buckets",
               lambda: client_error("AccessDenied", "ListBuckets"))
    found = discovery_for(context()).buckets((), "k")
    assert (found.sources, found.gaps) == ({}, [Gap("AccessDenied", "listing buckets for BucketTagKey")])


def test_job_and_language_model_failures_are_gaps(sim: Any, monkeypatch: Any) -> None:
    make_bucket(sim, "audio-in")
    start_job(sim, "good", "audio-in")
    start_job(sim, "denied", "audio-in")
    create_language_model(sim, "lm", "audio-in")
    fail_calls(monkeypatch, rules.inventory.transcribe.TranscribeInventory, "_call",
               lambda self, operation, **kw: kw.get("TranscriptionJobName") == "denied"
               or operation in ("list_medical_scribe_jobs", "describe_language_model"),
               lambda: client_error("AccessDeniedException"))
    found = discovery_for(context()).buckets()
    assert found.sources == {"audio-in": ("media",)}
    assert found.gaps == [Gap("AccessDeniedException", "reading a transcription job"),
                          Gap("AccessDeniedException", "listing medical scribe jobs"),
                          Gap("AccessDeniedException", "reading a custom language model")]
    assert describe_gaps(found.gaps, "the buckets they name") == (
        "Could not evaluate: AccessDeniedException when reading a transcription job (and 2 more failed reads); "
        "the buckets they name are unknown, earlier results are kept.")


def test_customization_keys(sim: Any) -> None:
    key = create_key(sim)["Arn"]
    other = create_key(sim)["Arn"]
    make_bucket(sim, "sources")
    create_vocabulary(sim, "terms", "sources", key)
    create_vocabulary(sim, "plain-terms", "sources")
    create_vocabulary(sim, "profanity", "sources", other, kind="filter")
    create_language_model(sim, "lm", "sources", key_arn=key)
    sim.client("transcribe").create_medical_vocabulary(
        VocabularyName="drugs", LanguageCode="en-US", VocabularyFileUri="s3://sources/terms.txt")
    refs, gaps = discovery_for(context()).customization_keys()
    assert gaps == []
    assert sorted(refs, key=lambda r: r.source) == [
        KeyRef(key, "custom language model lm"), KeyRef(key, "custom vocabulary terms"),
        KeyRef(other, "vocabulary filter profanity")]


def test_pagination_past_100_jobs_each_job_read_once_per_run(sim: Any, api_calls: Any) -> None:  # noqa: F811
    make_bucket(sim, "audio-in")
    make_bucket(sim, "text-out")
    for index in range(105):
        start_job(sim, f"job-{index:03d}", "audio-in", "text-out" if index == 104 else None)
    api_calls.counts.clear()
    factory = ClientFactory(None, assume_role_mode=False)
    assert sources(factory=factory) == {"audio-in": ("media",), "text-out": ("output",)}
    assert sources(("named",), factory=factory)["named"] == ("BucketNames",)
    assert api_calls.counts["transcribe.ListTranscriptionJobs"] == 2
    assert api_calls.counts["transcribe.GetTranscriptionJob"] == 105
    # A new run (a new client factory) reads again.
    sources()
    assert api_calls.counts["transcribe.GetTranscriptionJob"] == 210


# --- the lookups added to rules.inventory.s3_kms --------------------------------------------------------------

def lookups() -> Any:
    return lookups_for(ClientFactory(None, assume_role_mode=False), ACCOUNT, REGION)


def test_bucket_reads_carry_the_owner_check(sim: Any, api_calls: Any) -> None:  # noqa: F811
    foreign = other_account_s3(sim)
    foreign.create_bucket(Bucket="foreign-data")
    make_bucket(sim, "own-data", tags={"k": "v"})
    found = lookups()
    assert found.expected_bucket_owner == ACCOUNT
    for read in (found.default_encryption, found.bucket_policy, found.public_access_block, found.bucket_tags):
        with pytest.raises(rules.inventory.s3_kms.ClientError) as error:
            read("foreign-data")
        assert error.value.response["Error"]["Code"] == "AccessDenied"
    assert found.bucket_tags("own-data") == {"k": "v"}
    assert found.default_encryption("own-data").algorithm == "AES256"
    # Built directly, without an owner, the lookups send no check (the pre-existing behaviour).
    assert rules.inventory.s3_kms.S3KmsLookups(ClientFactory(None, assume_role_mode=False), ACCOUNT, REGION).default_encryption(
        "foreign-data").algorithm == "AES256"


def test_buckets_account_block_key_policy_and_rotation_are_read_once(sim: Any, api_calls: Any) -> None:  # noqa: F811
    make_bucket(sim, "one")
    sim.client("s3control").put_public_access_block(AccountId=ACCOUNT, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
    rotating = create_key(sim)
    still = create_key(sim, rotation=False)
    rsa = create_key(sim, KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")
    found = lookups()
    api_calls.counts.clear()
    for _ in range(2):
        assert found.buckets() == [("one", None)]
        assert found.account_public_access_block() == {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                                                       "BlockPublicPolicy": False, "RestrictPublicBuckets": False}
        assert found.key_rotation_enabled(rotating["Arn"]) is True
        assert found.key_rotation_enabled(still["Arn"]) is False
        assert '"kms:*"' in found.key_policy(rotating["Arn"])
    assert found.key(rsa["Arn"]) == KeyMetadata(rsa["Arn"], rsa["KeyId"], "CUSTOMER", "Enabled", "RSA_2048", "AWS_KMS")
    assert not found.key(rsa["Arn"]).rotation_supported and found.key(rotating["Arn"]).rotation_supported
    assert {k: v for k, v in api_calls.counts.items() if ":" not in k} == {
        "s3.ListBuckets": 1, "s3control.GetPublicAccessBlock": 1, "kms.GetKeyRotationStatus": 2,
        "kms.GetKeyPolicy": 1, "kms.DescribeKey": 2}


def test_account_without_public_access_block(sim: Any) -> None:
    assert lookups().account_public_access_block() is None


def test_list_buckets_follows_continuation_tokens(sim: Any, monkeypatch: Any) -> None:
    pages = {None: {"Buckets": [{"Name": "a", "BucketRegion": "us-east-1"}], "ContinuationToken": "t1"},
             "t1": {"Buckets": [{"Name": "b"}], "ContinuationToken": "t2"},
             "t2": {"Buckets": [{"Name": "c", "BucketRegion": "eu-west-1"}]}}
    seen: list[Any] = []

    def fake_call(self: Any, service: str, operation: str, region: Any = None, **kwargs: Any) -> Any:
        seen.append(kwargs)
        return pages[kwargs.get("ContinuationToken")]

    monkeypatch.setattr(rules.inventory.s3_kms.S3KmsLookups, "_call", fake_call)
    assert lookups().buckets() == [("a", "us-east-1"), ("b", None), ("c", "eu-west-1")]
    assert [kw.get("ContinuationToken") for kw in seen] == [None, "t1", "t2"]
    assert all(kw["MaxBuckets"] == 1000 for kw in seen)


def test_tag_discovery_skips_buckets_of_other_regions(sim: Any, monkeypatch: Any) -> None:
    make_bucket(sim, "here", tags={"k": "v"})
    original = rules.inventory.s3_kms.S3KmsLookups._fetch_buckets
    monkeypatch.setattr(rules.inventory.s3_kms.S3KmsLookups, "_fetch_buckets",
                        lambda self: [(name, "eu-west-1" if name == "here" else None) for name, _ in original(self)])
    assert sources(tag="k") == {}
