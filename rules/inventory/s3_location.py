"""Find the bucket behind the S3 URIs that Transcribe accepts and returns.

Requests name S3 objects as ``s3://bucket/key``; Get responses return transcript locations as
HTTPS URLs, path style (``https://s3.REGION.amazonaws.com/bucket/key``) or virtual-hosted
(``https://bucket.s3.REGION.amazonaws.com/key``). Only the bucket is ever used: object keys are
customer content (they often embed caller or patient identifiers) and never leave this module.
"""

from __future__ import annotations

import re

# Transcribe's own output buckets, used when a job names no output bucket:
# aws-transcribe-<region>-prod (service-managed, reachable only through presigned URLs).
SERVICE_BUCKET = re.compile(r"^aws-transcribe-[a-z0-9-]+-prod$")

_VIRTUAL_HOSTED = re.compile(r"^(?P<bucket>[a-z0-9][a-z0-9.-]*)\.s3[.-](?:[a-z0-9-]+\.)?amazonaws\.com(?:\.cn)?$")
_PATH_STYLE_HOST = re.compile(r"^s3[.-](?:[a-z0-9-]+\.)?amazonaws\.com(?:\.cn)?$|^s3\.amazonaws\.com$")


# scheme://authority/path, split by hand: urllib.parse.urlparse raises ValueError on a "[" in the
# authority ("Invalid IPv6 URL"), and Transcribe accepts any URI matching (s3://|http(s*)://).+,
# so one job named s3://[x/a.wav would otherwise stop every rule that reads job URIs.
_URI = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<authority>[^/?#]*)(?P<path>[^?#]*)", re.DOTALL)


def uri_parts(uri: str | None) -> tuple[str, str, str] | None:
    """(scheme, host, path) of a URI: the scheme and an HTTP host lower-cased (an s3:// URI's
    "host" is its bucket, as written), or None for anything that is not scheme://... Never raises."""
    if not uri or not isinstance(uri, str):
        return None
    parsed = _URI.match(uri)
    if not parsed:
        return None
    scheme, authority, path = parsed.group("scheme").lower(), parsed.group("authority"), parsed.group("path")
    if scheme == "s3":
        return scheme, authority, path
    host = authority.rsplit("@", 1)[-1]
    host = host[:host.rindex(":")] if ":" in host and not host.endswith("]") else host
    return scheme, host.lower(), path


def bucket_of(uri: str | None) -> str | None:
    """The bucket named by an S3 or HTTPS S3 URI (``s3://bucket/key``; path-style or
    virtual-hosted HTTPS), as written, or None when the URI names no S3 bucket. Never raises:
    the URI is account-holder input; a bucket part that is no valid bucket name is returned as
    written, for the caller to report (its reads fail, and fail closed)."""
    parts = uri_parts(uri)
    if parts is None:
        return None
    scheme, host, path = parts
    if scheme == "s3":
        return host or None
    if scheme not in ("https", "http"):
        return None
    match = _VIRTUAL_HOSTED.match(host)
    if match:
        return match.group("bucket")
    if _PATH_STYLE_HOST.match(host):
        first = path.lstrip("/").split("/", 1)[0]
        return first or None
    return None


def is_virtual_hosted(host: str) -> bool:
    """Whether an HTTPS host names its bucket (``bucket.s3.REGION.amazonaws.com``)."""
    return _VIRTUAL_HOSTED.match(host) is not None


def is_service_bucket(bucket: str | None) -> bool:
    return bool(bucket and SERVICE_BUCKET.match(bucket))
