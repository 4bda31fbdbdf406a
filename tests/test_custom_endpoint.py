"""S3 Control through a custom endpoint (transcribe_guard/custom_endpoint.py): botocore's account-prefixed
host is dropped only when the endpoint is an IP address or localhost; against AWS, and through a custom
endpoint with a DNS name, every request goes where botocore sends it. Real botocore clients, stopped
before the network."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from transcribe_guard import custom_endpoint

ACCOUNT = "123456789012"
PATH = "/v20180820/configuration/publicAccessBlock"


class _Sent(Exception):
    """Raised in place of sending: carries the signed request."""

    def __init__(self, request: Any):
        super().__init__(request.url)
        self.request = request


def _stop(request: Any, **_: Any) -> None:
    raise _Sent(request)


def sent_request(endpoint_url: str | None, installed: bool) -> Any:
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    if installed:
        custom_endpoint.install(session)
        custom_endpoint.install(session)  # idempotent
    client = session.client("s3control", endpoint_url=endpoint_url)
    client.meta.events.register("before-send", _stop)
    with pytest.raises(_Sent) as sent:
        client.get_public_access_block(AccountId=ACCOUNT)
    return sent.value.request


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:4566", "http://localhost:4566", "http://[::1]:4566"])
def test_an_ip_or_localhost_endpoint_gets_the_request_without_the_account_host_label(endpoint: str) -> None:
    # What botocore does on its own: the account id in front of the endpoint's host, a name that never resolves.
    assert sent_request(endpoint, installed=False).url == endpoint.replace("//", f"//{ACCOUNT}.") + PATH
    request = sent_request(endpoint, installed=True)
    assert request.url == endpoint + PATH
    assert request.headers["x-amz-account-id"] == ACCOUNT.encode()  # the account still travels with the request


@pytest.mark.parametrize("endpoint, expected", [
    (None, f"https://{ACCOUNT}.s3-control.us-east-1.amazonaws.com{PATH}"),  # AWS itself
    ("https://s3-control.vpce-0123456789abcdef0.example.com",  # a DNS-named custom endpoint (a VPC endpoint)
     f"https://{ACCOUNT}.s3-control.vpce-0123456789abcdef0.example.com{PATH}"),
])
def test_aws_and_dns_named_endpoints_keep_the_account_host_label(endpoint: str | None, expected: str) -> None:
    assert sent_request(endpoint, installed=True).url == expected


@pytest.mark.parametrize("url, account, expected", [
    (f"http://{ACCOUNT}.127.0.0.1:9/x", ACCOUNT, "http://127.0.0.1:9/x"),
    (f"http://{ACCOUNT}.127.0.0.1:9/x", "210987654321", f"http://{ACCOUNT}.127.0.0.1:9/x"),  # not its account
    (f"http://{ACCOUNT}.127.0.0.1:9/x", None, f"http://{ACCOUNT}.127.0.0.1:9/x"),  # no account header
    (f"http://{ACCOUNT}.s3-control.internal:9/x", ACCOUNT, f"http://{ACCOUNT}.s3-control.internal:9/x"),
    ("http://127.0.0.1:9/x", ACCOUNT, "http://127.0.0.1:9/x"),
])
def test_unprefixed_url(url: str, account: str | None, expected: str) -> None:
    assert custom_endpoint.unprefixed_url(url, account) == expected
