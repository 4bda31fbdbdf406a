"""rules.inventory.s3_kms: the per-run bucket and key lookups (against the simulator) and the bucket-policy
probes (pure, on plain policy documents)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from rdklib import ClientFactory

import rules.inventory.s3_kms
from rules.policy.evaluation import PolicyError
from rules.inventory.s3_kms import (SSE, SSE_C, SSE_KMS_KEY, DefaultEncryption, KeyMetadata, ObjectEncryption, S3KmsLookups,
                                    kms_enforcement_probes, lookups_for, object_location, unrefused)
from tests.helpers import ACCOUNT, fail_calls

REGION = "us-east-1"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
OTHER_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/66666666-7777-8888-9999-000000000000"
KMS_DEFAULT = DefaultEncryption("aws:kms", KEY, True)
ACCEPTED = {SSE: "aws:kms", SSE_KMS_KEY: KEY}


def deny(condition: dict[str, Any], principal: Any = "*", resource: str = "arn:aws:s3:::b/*",
         action: Any = "s3:PutObject") -> dict[str, Any]:
    return {"Effect": "Deny", "Principal": principal, "Action": action, "Resource": resource, "Condition": condition}


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def gap(document: Any, encryption: DefaultEncryption = KMS_DEFAULT, allowed: tuple[str, ...] = (),
        accepted: dict[str, str] = ACCEPTED) -> str | None:
    probes = kms_enforcement_probes(encryption, list(allowed), REGION, ACCOUNT)
    found = unrefused(document, "b", probes, accepted, ACCOUNT)
    return found.what if found else None


# --- probes: pure ---------------------------------------------------------------------------------

INCORRECT_HEADER = deny({"StringNotEquals": {SSE: "aws:kms"}})


@pytest.mark.parametrize("document", [
    policy(INCORRECT_HEADER),
    policy(deny({"StringNotEquals": {SSE: "aws:kms"}, "Null": {SSE: "false"}})),
    policy(INCORRECT_HEADER, deny({"Null": {SSE: "true"}})),
    policy(deny({"StringNotEquals": {SSE: "aws:kms"}}, principal={"AWS": "*"}, action="s3:*", resource="*")),
    # An unrelated deny (plain HTTP) next to the encryption deny changes nothing.
    policy(deny({"Bool": {"aws:SecureTransport": "false"}}, action="s3:*"), INCORRECT_HEADER),
])
def test_policies_that_refuse_other_encryption(document: str) -> None:
    assert gap(document) is None


def test_no_statement_refusing_sse_s3() -> None:
    assert gap(None) == "uploads that ask for SSE-S3 (AES256)"
    assert gap(policy()) == "uploads that ask for SSE-S3 (AES256)"
    allow = {"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*",
             "Condition": {"StringEquals": {SSE: "aws:kms"}}}
    assert gap(policy(allow)) == "uploads that ask for SSE-S3 (AES256)"  # an Allow refuses nothing
    also_sse_s3 = deny({"StringNotEquals": {SSE: ["aws:kms", "AES256"]}})
    assert gap(policy(also_sse_s3)) == "uploads that ask for SSE-S3 (AES256)"


def test_a_deny_must_cover_every_caller() -> None:
    account_only = deny({"StringNotEquals": {SSE: "aws:kms"}}, principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
    assert gap(policy(account_only)) == "uploads that ask for SSE-S3 (AES256)"
    # The account in one statement and everyone else (NotPrincipal) in another is enough.
    everyone_else = {key: value for key, value in account_only.items() if key != "Principal"}
    everyone_else["NotPrincipal"] = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert gap(policy(account_only, everyone_else)) is None


def test_a_deny_must_depend_on_the_encryption_header() -> None:
    # Refusing every upload, or every upload from outside a VPC endpoint, proves nothing.
    assert gap(policy(deny({}))) == "uploads that ask for SSE-S3 (AES256)"
    vpc_only = deny({"StringNotEquals": {"aws:SourceVpce": "vpce-1234"}})
    assert gap(policy(vpc_only)) == "uploads that ask for SSE-S3 (AES256)"
    # ...but does not hide an encryption deny next to it.
    assert gap(policy(vpc_only, INCORRECT_HEADER)) is None


def test_a_deny_must_cover_the_whole_bucket() -> None:
    prefix_only = {**INCORRECT_HEADER, "Resource": "arn:aws:s3:::b/transcripts/*"}
    assert gap(policy(prefix_only)) == "uploads that ask for SSE-S3 (AES256)"


def test_kms_key_arns_require_a_deny_of_other_keys() -> None:
    assert gap(policy(INCORRECT_HEADER), allowed=(KEY,)) == "uploads that name a KMS key outside KmsKeyArns"
    pin = deny({"StringNotEquals": {SSE_KMS_KEY: [KEY, OTHER_KEY]}})
    assert gap(policy(INCORRECT_HEADER, pin), allowed=(KEY, OTHER_KEY)) is None
    account_keys = deny({"StringNotLike": {SSE_KMS_KEY: f"arn:aws:kms:*:{ACCOUNT}:key/*"}})
    assert gap(policy(INCORRECT_HEADER, account_keys), allowed=(KEY,)) == (
        "uploads that name a KMS key outside KmsKeyArns")


def test_sse_c_is_probed_only_when_the_bucket_explicitly_allows_it() -> None:
    null_false = policy(deny({"StringNotEquals": {SSE: "aws:kms"}, "Null": {SSE: "false"}}))
    allows_sse_c = DefaultEncryption("aws:kms", KEY, True, ("NONE",))
    blocks_sse_c = DefaultEncryption("aws:kms", KEY, True, ("SSE-C",))
    assert gap(null_false, blocks_sse_c) is None
    assert gap(null_false, allows_sse_c) == "uploads that ask for SSE-C, which the bucket allows"
    assert gap(policy(INCORRECT_HEADER), allows_sse_c) is None  # no header: StringNotEquals refuses it
    deny_sse_c = deny({"Null": {SSE_C: "false"}})
    assert gap(policy(deny({"StringNotEquals": {SSE: "aws:kms"}, "Null": {SSE: "false"}}), deny_sse_c),
               allows_sse_c) is None


def test_dsse_default() -> None:
    dsse = DefaultEncryption("aws:kms:dsse", KEY)
    accepted = {SSE: "aws:kms:dsse", SSE_KMS_KEY: KEY}
    assert gap(policy(INCORRECT_HEADER), dsse, accepted=accepted) == "uploads that ask for SSE-S3 (AES256)"
    both = deny({"StringNotEquals": {SSE: ["aws:kms", "aws:kms:dsse"]}})
    assert gap(policy(both), dsse, accepted=accepted) is None


def test_unreadable_statements_prove_nothing_and_bad_documents_raise() -> None:
    odd = deny({"StringNotEqualsSomething": {SSE: "aws:kms"}})
    assert gap(policy(odd)) == "uploads that ask for SSE-S3 (AES256)"
    assert gap(policy(odd, INCORRECT_HEADER)) is None
    with pytest.raises(PolicyError):
        gap("{not json")


@pytest.mark.parametrize("uri, expected", [
    ("s3://bucket/path/to/file.json", ("bucket", "path/to/file.json")),
    ("https://s3.us-east-1.amazonaws.com/bucket/a%20b/c.json", ("bucket", "a b/c.json")),
    ("https://bucket.s3.us-east-1.amazonaws.com/c.json", ("bucket", "c.json")),
    ("https://s3.us-east-1.amazonaws.com/bucket/", None),
    ("s3://bucket", None),
    ("https://example.com/bucket/c.json", None),
    (None, None),
])
def test_object_location(uri: str | None, expected: tuple[str, str] | None) -> None:
    assert object_location(uri) == expected


# --- lookups against the simulator -----------------------------------------------------------------

def lookups() -> S3KmsLookups:
    return lookups_for(ClientFactory(None, assume_role_mode=False), ACCOUNT, REGION)


def test_lookups_read_each_setting_once_and_report_absence_as_none(sim: Any) -> None:
    s3, kms = sim.client("s3"), sim.client("kms")
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/out", TargetKeyId=key["KeyId"])
    s3.create_bucket(Bucket="bare")
    s3.create_bucket(Bucket="full")
    s3.put_bucket_encryption(Bucket="full", ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/out"},
         "BucketKeyEnabled": True}]})
    s3.put_bucket_policy(Bucket="full", Policy=policy(INCORRECT_HEADER))
    s3.put_public_access_block(Bucket="full", PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": False})
    s3.put_object(Bucket="full", Key="o.json", Body=b"{}", ServerSideEncryption="aws:kms", SSEKMSKeyId=key["Arn"])
    found = lookups()
    for _ in range(2):
        assert found.default_encryption("bare") == DefaultEncryption("AES256", None)  # S3's SSE-S3 baseline
        assert found.bucket_policy("bare") is None
        assert found.public_access_block("bare") is None
        assert found.default_encryption("full") == DefaultEncryption("aws:kms", "alias/out", True, ())
        assert json.loads(str(found.bucket_policy("full")))["Statement"][0]["Effect"] == "Deny"
        assert found.public_access_block("full") == {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                                                     "BlockPublicPolicy": True, "RestrictPublicBuckets": False}
        assert found.key("alias/out") == KeyMetadata(key["Arn"], key["KeyId"], "CUSTOMER", "Enabled")
        assert found.key("alias/aws/s3").manager == "AWS"
        assert found.object_encryption("full", "o.json") == ObjectEncryption("aws:kms", key["Arn"])
    assert found.calls == {"s3.get_bucket_encryption": 2, "s3.get_bucket_policy": 2,
                           "s3.get_public_access_block": 2, "kms.describe_key": 2, "s3.head_object": 1}


def test_lookups_remember_errors(sim: Any, monkeypatch: Any) -> None:
    sim.client("s3").create_bucket(Bucket="denied")
    attempts: list[str] = []

    def should_fail(self: Any, service: str, operation: str, region: Any = None, **kwargs: Any) -> bool:
        attempts.append(operation)
        return True

    fail_calls(monkeypatch, rules.inventory.s3_kms.S3KmsLookups, "_call", should_fail,
               lambda: ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetBucketEncryption"))
    found = lookups()
    for _ in range(3):
        with pytest.raises(ClientError):
            found.default_encryption("denied")
        with pytest.raises(ClientError):
            found.key(KEY)
    assert attempts == ["get_bucket_encryption", "describe_key"]


def test_missing_bucket_and_key_raise_client_errors(sim: Any) -> None:
    found = lookups()
    with pytest.raises(ClientError) as bucket_error:
        found.default_encryption("no-such-bucket")
    assert bucket_error.value.response["Error"]["Code"] == "NoSuchBucket"
    with pytest.raises(ClientError) as key_error:
        found.key(KEY)
    assert key_error.value.response["Error"]["Code"] == "NotFoundException"


def test_lookups_are_per_client_factory_and_account() -> None:
    factory = ClientFactory(None, assume_role_mode=False)
    first = lookups_for(factory, ACCOUNT, REGION)
    assert lookups_for(factory, ACCOUNT, REGION) is first
    assert lookups_for(factory, "210987654321", REGION) is not first
    assert lookups_for(ClientFactory(None, assume_role_mode=False), ACCOUNT, REGION) is not first


def test_keys_are_described_in_their_own_region(sim: Any) -> None:
    west = sim.client("kms", region="us-west-2").create_key()["KeyMetadata"]["Arn"]
    assert lookups().key(west).arn == west
