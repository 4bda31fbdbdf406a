"""Simulated S3 judges bucket policies with the request context AWS would supply.

Decision under test: the simulator presents requests as TLS by default (real SDK clients reach S3
over HTTPS; only the simulator's loopback hop is plain HTTP), and as plaintext while
``s3.TRANSPORT.secure`` is False. Encryption-header conditions see the request's headers.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterator

import pytest
from botocore.exceptions import ClientError

from transcribe_guard.simulator import SimulatorServer, s3 as sim_s3

BUCKET = "policy-bucket"


@pytest.fixture
def insecure_transport() -> Iterator[None]:
    """Present requests as plaintext HTTP for the duration of a test."""
    saved = sim_s3.TRANSPORT.secure
    sim_s3.TRANSPORT.secure = False
    try:
        yield
    finally:
        sim_s3.TRANSPORT.secure = saved


def deny_insecure_transport(actions: str | list[str] = "s3:*") -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": actions,
        "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})


def deny_incorrect_encryption_header(with_null_condition: bool) -> str:
    """AWS's example policy; the Null variant applies only when the header is present."""
    condition: dict[str, Any] = {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}
    if with_null_condition:
        condition["Null"] = {"s3:x-amz-server-side-encryption": "false"}
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyIncorrectEncryptionHeader", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/*", "Condition": condition}]})


def refused(call: Callable[..., Any], **kwargs: Any) -> bool:
    """True when S3 answers 403 AccessDenied (HeadObject: a bare 403, its response has no body);
    any other failure is re-raised."""
    try:
        call(**kwargs)
    except ClientError as error:
        status = error.response["ResponseMetadata"]["HTTPStatusCode"]
        code = error.response["Error"]["Code"]
        if status == 403 and code == ("403" if call.__name__ == "head_object" else "AccessDenied"):
            return True
        raise
    return False


def bucket_with_policy(s3: Any, policy: str) -> None:
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="existing.txt", Body=b"before the policy")
    s3.put_bucket_policy(Bucket=BUCKET, Policy=policy)


def test_secure_transport_is_presented_by_default(sim: Any) -> None:
    assert sim_s3.TRANSPORT.secure is True
    s3 = sim.client("s3")
    bucket_with_policy(s3, deny_insecure_transport())
    assert not refused(s3.put_object, Bucket=BUCKET, Key="new.txt", Body=b"x")
    assert not refused(s3.head_object, Bucket=BUCKET, Key="new.txt")
    assert s3.get_object(Bucket=BUCKET, Key="existing.txt")["Body"].read() == b"before the policy"


def test_plaintext_requests_are_refused_by_a_tls_only_bucket(sim: Any, insecure_transport: None) -> None:
    s3 = sim.client("s3")
    bucket_with_policy(s3, deny_insecure_transport())
    assert refused(s3.put_object, Bucket=BUCKET, Key="new.txt", Body=b"x")
    assert refused(s3.head_object, Bucket=BUCKET, Key="existing.txt")
    assert refused(s3.get_object, Bucket=BUCKET, Key="existing.txt")
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=BUCKET, Key="new.txt", Body=b"x")
    assert excinfo.value.response["Error"]["Code"] == "AccessDenied"
    # A bucket without the policy still takes plaintext requests.
    s3.create_bucket(Bucket="open-bucket")
    assert not refused(s3.put_object, Bucket="open-bucket", Key="k", Body=b"x")


def test_head_object_is_judged_as_get_object(sim: Any, insecure_transport: None) -> None:
    """IAM has no s3:HeadObject action: HeadObject needs s3:GetObject."""
    s3 = sim.client("s3")
    bucket_with_policy(s3, deny_insecure_transport("s3:GetObject"))
    assert refused(s3.head_object, Bucket=BUCKET, Key="existing.txt")
    assert not refused(s3.put_object, Bucket=BUCKET, Key="new.txt", Body=b"x")  # not s3:PutObject


def test_multipart_uploads_are_judged_as_put_object(sim: Any, insecure_transport: None) -> None:
    s3 = sim.client("s3")
    bucket_with_policy(s3, deny_insecure_transport("s3:PutObject"))
    assert refused(s3.create_multipart_upload, Bucket=BUCKET, Key="big.bin")
    assert not refused(s3.get_object, Bucket=BUCKET, Key="existing.txt")  # not s3:GetObject


def test_the_transport_setting_is_restored(sim: Any) -> None:
    """Guards the fixture above: later tests see the default again."""
    assert sim_s3.TRANSPORT.secure is True


@pytest.mark.parametrize("with_null_condition", [False, True])
def test_deny_incorrect_encryption_header(sim: Any, with_null_condition: bool) -> None:
    s3 = sim.client("s3")
    bucket_with_policy(s3, deny_incorrect_encryption_header(with_null_condition))
    key_arn = sim.client("kms").create_key()["KeyMetadata"]["Arn"]
    assert refused(s3.put_object, Bucket=BUCKET, Key="sse-s3", Body=b"x", ServerSideEncryption="AES256")
    assert not refused(s3.put_object, Bucket=BUCKET, Key="sse-kms", Body=b"x", ServerSideEncryption="aws:kms",
                       SSEKMSKeyId=key_arn)
    assert s3.head_object(Bucket=BUCKET, Key="sse-kms")["ServerSideEncryption"] == "aws:kms"
    # No header: the plain StringNotEquals matches a missing key; the Null variant does not apply.
    assert refused(s3.put_object, Bucket=BUCKET, Key="no-header", Body=b"x") is (not with_null_condition)
    listed = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert listed == {"existing.txt", "sse-kms"} | ({"no-header"} if with_null_condition else set())


def test_policies_are_judged_the_same_over_http() -> None:
    server = SimulatorServer(port=0).start()
    saved = sim_s3.TRANSPORT.secure
    try:
        s3 = server.client("s3")
        bucket_with_policy(s3, deny_insecure_transport())
        assert not refused(s3.put_object, Bucket=BUCKET, Key="tls.txt", Body=b"x")
        assert not refused(s3.head_object, Bucket=BUCKET, Key="tls.txt")
        sim_s3.TRANSPORT.secure = False
        assert refused(s3.put_object, Bucket=BUCKET, Key="plain.txt", Body=b"x")
        assert refused(s3.head_object, Bucket=BUCKET, Key="tls.txt")
        sim_s3.TRANSPORT.secure = True
        s3.put_bucket_policy(Bucket=BUCKET, Policy=deny_incorrect_encryption_header(with_null_condition=False))
        assert refused(s3.put_object, Bucket=BUCKET, Key="aes", Body=b"x", ServerSideEncryption="AES256")
        assert refused(s3.put_object, Bucket=BUCKET, Key="none", Body=b"x")
        assert not refused(s3.put_object, Bucket=BUCKET, Key="kms", Body=b"x", ServerSideEncryption="aws:kms")
    finally:
        sim_s3.TRANSPORT.secure = saved
        server.stop()
