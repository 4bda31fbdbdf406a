"""Simulator: S3's SSE-S3 baseline (since January 2023) and the bucket-owner check
(ExpectedBucketOwner), checked against botocore's S3 output shapes."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from transcribe_guard.simulator.shapes import output_shape, validate

OTHER = "210987654321"


def body(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def other_account_s3(sim: Any) -> Any:
    credentials = sim.client("sts").assume_role(RoleArn=f"arn:aws:iam::{OTHER}:role/owner",
                                                RoleSessionName="owner")["Credentials"]
    return boto3.client("s3", region_name="us-east-1", aws_access_key_id=credentials["AccessKeyId"],
                        aws_secret_access_key=credentials["SecretAccessKey"],
                        aws_session_token=credentials["SessionToken"])


def test_every_bucket_has_the_sse_s3_default(sim: Any) -> None:
    s3 = sim.client("s3")
    s3.create_bucket(Bucket="fresh")
    response = body(s3.get_bucket_encryption(Bucket="fresh"))
    assert response == {"ServerSideEncryptionConfiguration": {"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]}}
    assert validate(output_shape("s3", "GetBucketEncryption"), response) == []


def test_delete_bucket_encryption_resets_to_sse_s3(sim: Any) -> None:
    s3 = sim.client("s3")
    s3.create_bucket(Bucket="reset")
    s3.put_bucket_encryption(Bucket="reset", ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/x"}}]})
    assert s3.get_bucket_encryption(Bucket="reset")["ServerSideEncryptionConfiguration"]["Rules"][0][
        "ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/x"}
    s3.delete_bucket_encryption(Bucket="reset")
    assert s3.get_bucket_encryption(Bucket="reset")["ServerSideEncryptionConfiguration"]["Rules"][0][
        "ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}


def test_new_objects_are_sse_s3_encrypted_unless_asked_otherwise(sim: Any) -> None:
    s3, kms = sim.client("s3"), sim.client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    s3.create_bucket(Bucket="objects")
    put = body(s3.put_object(Bucket="objects", Key="plain.wav", Body=b"RIFF"))
    assert put["ServerSideEncryption"] == "AES256"
    assert validate(output_shape("s3", "PutObject"), put) == []
    head = body(s3.head_object(Bucket="objects", Key="plain.wav"))
    assert head["ServerSideEncryption"] == "AES256"
    assert validate(output_shape("s3", "HeadObject"), head) == []
    assert s3.get_object(Bucket="objects", Key="plain.wav")["ServerSideEncryption"] == "AES256"
    s3.put_object(Bucket="objects", Key="kms.wav", Body=b"RIFF", ServerSideEncryption="aws:kms", SSEKMSKeyId=key)
    head = s3.head_object(Bucket="objects", Key="kms.wav")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key)
    s3.copy_object(Bucket="objects", Key="copy.wav", CopySource={"Bucket": "objects", "Key": "plain.wav"})
    assert s3.head_object(Bucket="objects", Key="copy.wav")["ServerSideEncryption"] == "AES256"


def test_bucket_default_still_applies_to_objects(sim: Any) -> None:
    s3, kms = sim.client("s3"), sim.client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    s3.create_bucket(Bucket="kms-default")
    s3.put_bucket_encryption(Bucket="kms-default", ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}]})
    s3.put_object(Bucket="kms-default", Key="a.wav", Body=b"RIFF")
    head = s3.head_object(Bucket="kms-default", Key="a.wav")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key)


def test_expected_bucket_owner_refuses_another_accounts_bucket(sim: Any) -> None:
    s3 = sim.client("s3")
    foreign = other_account_s3(sim)
    foreign.create_bucket(Bucket="foreign-data")
    foreign.put_object(Bucket="foreign-data", Key="a.wav", Body=b"RIFF")
    s3.create_bucket(Bucket="own-data")
    # Without the check, moto (like S3 with a permissive bucket policy) answers.
    assert s3.get_bucket_encryption(Bucket="foreign-data")["ServerSideEncryptionConfiguration"]
    for call in (lambda: s3.get_bucket_encryption(Bucket="foreign-data", ExpectedBucketOwner="123456789012"),
                 lambda: s3.get_bucket_policy(Bucket="foreign-data", ExpectedBucketOwner="123456789012"),
                 lambda: s3.get_bucket_tagging(Bucket="foreign-data", ExpectedBucketOwner="123456789012"),
                 lambda: s3.get_object(Bucket="foreign-data", Key="a.wav", ExpectedBucketOwner="123456789012")):
        with pytest.raises(ClientError) as error:
            call()
        assert error.value.response["Error"]["Code"] == "AccessDenied"
        assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError) as head:
        s3.head_object(Bucket="foreign-data", Key="a.wav", ExpectedBucketOwner="123456789012")
    assert head.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # The owner passes the check; a missing bucket is still NoSuchBucket.
    assert foreign.get_bucket_encryption(Bucket="foreign-data", ExpectedBucketOwner=OTHER)
    assert s3.get_bucket_encryption(Bucket="own-data", ExpectedBucketOwner="123456789012")
    with pytest.raises(ClientError) as missing:
        s3.get_bucket_encryption(Bucket="no-such-bucket-here", ExpectedBucketOwner="123456789012")
    assert missing.value.response["Error"]["Code"] == "NoSuchBucket"
