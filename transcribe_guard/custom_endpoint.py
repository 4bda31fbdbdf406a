"""S3 Control through a custom endpoint that is an IP address or ``localhost`` (the simulator).

botocore's s3control endpoint ruleset (``botocore/data/s3control/2018-08-20/endpoint-rule-set-1.json``)
puts the account id in front of any configured endpoint for the operations that take one
(``RequiresAccountId``, e.g. GetPublicAccessBlock): with ``AWS_ENDPOINT_URL=http://127.0.0.1:PORT`` the
request goes to ``http://123456789012.127.0.0.1:PORT``, a name that never resolves. The rule's
``{url#scheme}://{AccountId}.{url#authority}`` is not the model's ``hostPrefix`` trait, so neither
``Config(inject_host_prefix=False)`` nor ``AWS_DISABLE_HOST_PREFIX_INJECTION`` removes it (checked with
botocore 1.44.5).

The account travels in the ``x-amz-account-id`` header as well, and AWS's API reference shows the
request without the prefix (``Host: s3-control.amazonaws.com``, ``x-amz-account-id: AccountId``):
https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_GetPublicAccessBlock.html

So, before signing, a request whose host is ``<its x-amz-account-id>.<IP address or localhost>`` goes to
the IP address or localhost itself. An AWS endpoint is never an IP address, and a custom endpoint with a
DNS name (an S3 Control interface VPC endpoint, say) keeps its prefix, so nothing changes against AWS.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

logger = logging.getLogger(__name__)

EVENT = "before-sign.s3-control"  # botocore names events by the hyphenated service id, "S3 Control"
_UNIQUE_ID = "transcribe-guard-s3control-account-host"


def _is_local_literal(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def unprefixed_url(url: str, account_id: str | None) -> str:
    """``url`` without its ``<account_id>.`` host label when the rest of the host is an IP address or
    localhost; otherwise ``url`` unchanged."""
    if not account_id:
        return url
    parts = urlsplit(url)
    prefix = f"{account_id}."
    if not parts.netloc.startswith(prefix):
        return url
    rest = parts.netloc[len(prefix):]
    if not _is_local_literal(urlsplit(f"//{rest}").hostname):
        return url
    return urlunsplit(parts._replace(netloc=rest))


def _strip_account_host(request: Any, **_: Any) -> None:
    account_id = request.headers.get("x-amz-account-id")
    if isinstance(account_id, bytes):
        account_id = account_id.decode("ascii", "replace")
    url = unprefixed_url(request.url, account_id)
    if url != request.url:
        logger.debug("s3control: %s sent to %s (account in x-amz-account-id)", request.url, url)
        request.url = url


def install(session: Any) -> None:
    """Register the rewrite on a boto3 session: every s3control client the session creates
    afterwards uses it (a client copies the session's handlers when it is created). Idempotent."""
    session.events.register(EVENT, _strip_account_host, unique_id=_UNIQUE_ID)


def install_default() -> None:
    """Register the rewrite on boto3's default session, the one ``boto3.client`` (and so rdklib's
    ClientFactory, which the rules build their clients with) uses."""
    import boto3
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    install(boto3.DEFAULT_SESSION)
