"""What S3 does today that moto 5.2.5 does not: the SSE-S3 baseline and the bucket-owner check.

Since 5 January 2023 S3 applies server-side encryption with S3 managed keys (SSE-S3) as the base
level of encryption for every bucket (Amazon S3 User Guide, "Using server-side encryption with
Amazon S3 managed keys (SSE-S3)"; the GetBucketEncryption API reference: "By default, all buckets
have a default encryption configuration that uses server-side encryption with Amazon S3 managed
keys (SSE-S3)"; DeleteBucketEncryption "resets the default encryption for the bucket as SSE-S3"):

- GetBucketEncryption on a bucket without a configuration of its own returns the AES256 rule with
  BucketKeyEnabled false; moto raises ServerSideEncryptionConfigurationNotFoundError.
- A new object stored without encryption headers in such a bucket is SSE-S3 encrypted, so
  PutObject, HeadObject and GetObject report ServerSideEncryption AES256; moto reports nothing.

Every S3 request may carry ``x-amz-expected-bucket-owner`` (ExpectedBucketOwner): when the bucket
belongs to another account, S3 refuses the request with 403 Forbidden, AccessDenied (API
reference, e.g. GetBucketEncryption). moto ignores the header.

Not modelled here: the Block Public Access settings and BucketOwnerEnforced object ownership that
S3 has given new buckets since April 2023 (moto reports neither).
"""

from __future__ import annotations

from typing import Any, Callable

from moto.s3.models import S3Backend, s3_backends
from moto.s3.responses import S3Response

SSE_S3 = "AES256"
BASELINE_ENCRYPTION = {"Rule": {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": SSE_S3},
                                "BucketKeyEnabled": "false"}}

_ACCESS_DENIED = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
                  '<Message>Access Denied</Message><RequestId>simulated</RequestId></Error>')


def _get_bucket_encryption(original: Callable[..., Any]) -> Callable[..., Any]:
    def get_bucket_encryption(self: S3Backend, bucket_name: str) -> dict[str, Any] | None:
        return original(self, bucket_name) or BASELINE_ENCRYPTION
    return get_bucket_encryption


def _put_object(original: Callable[..., Any]) -> Callable[..., Any]:
    def put_object(self: S3Backend, *args: Any, **kwargs: Any) -> Any:
        key = original(self, *args, **kwargs)
        if key is not None and not key.encryption:  # no header and no bucket default of its own
            key.encryption = SSE_S3
        return key
    return put_object


def _owner_check(original: Callable[..., Any]) -> Callable[..., Any]:
    def response(self: S3Response, request: Any, full_url: str) -> Any:
        expected = (getattr(request, "headers", None) or {}).get("x-amz-expected-bucket-owner")
        if expected:
            bucket = self.parse_bucket_name_from_url(request, full_url)
            owner = s3_backends.bucket_accounts.get(bucket) if bucket else None
            if owner is not None and owner[1] != expected:
                return 403, {"Content-Type": "application/xml"}, "" if request.method == "HEAD" else _ACCESS_DENIED
        return original(self, request, full_url)
    return response


def install() -> None:
    """Idempotent only through ``transcribe_guard.simulator.install``, which runs it once."""
    S3Backend.get_bucket_encryption = _get_bucket_encryption(S3Backend.get_bucket_encryption)  # type: ignore[method-assign]
    S3Backend.put_object = _put_object(S3Backend.put_object)  # type: ignore[method-assign]
    S3Response._bucket_response = _owner_check(S3Response._bucket_response)  # type: ignore[method-assign]
    S3Response._key_response = _owner_check(S3Response._key_response)  # type: ignore[method-assign]
