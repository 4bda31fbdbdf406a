"""Find the bucket behind the S3 URIs that Transcribe accepts and returns.

Requests name S3 objects as ``s3://bucket/key``; Get responses return transcript locations as
HTTPS URLs, path style (``https://s3.REGION.amazonaws.com/bucket/key``) or virtual-hosted
(``https://bucket.s3.REGION.amazonaws.com/key``). Only the bucket is ever used: object keys are
customer content (they often embed caller or patient identifiers) and never leave this module.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

# Transcribe's own output buckets, used when a job names no output bucket:
# aws-transcribe-<region>-prod (service-managed, reachable only through presigned URLs).
SERVICE_BUCKET = re.compile(r"^aws-transcribe-[a-z0-9-]+-prod$")

_VIRTUAL_HOSTED = re.compile(r"^(?P<bucket>[a-z0-9][a-z0-9.-]*)\.s3[.-](?:[a-z0-9-]+\.)?amazonaws\.com(?:\.cn)?$")
_PATH_STYLE_HOST = re.compile(r"^s3[.-](?:[a-z0-9-]+\.)?amazonaws\.com(?:\.cn)?$|^s3\.amazonaws\.com$")


def bucket_of(uri: str | None) -> str | None:
    """The bucket name in an S3 or HTTPS S3 URI, or None when the URI names no S3 bucket."""
    if not uri:
        return None
    parsed = urlparse(uri)
    if parsed.scheme == "s3":
        return parsed.netloc or None
    if parsed.scheme not in ("https", "http"):
        return None
    host = (parsed.hostname or "").lower()
    match = _VIRTUAL_HOSTED.match(host)
    if match:
        return match.group("bucket")
    if _PATH_STYLE_HOST.match(host):
        first = parsed.path.lstrip("/").split("/", 1)[0]
        return first or None
    return None


def is_service_bucket(bucket: str | None) -> bool:
    return bool(bucket and SERVICE_BUCKET.match(bucket))
