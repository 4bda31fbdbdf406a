"""Bucket policies in simulated S3 judged with the request context AWS would supply.

moto evaluates a bucket policy on object requests but passes no condition context, so every
conditional Deny (deny insecure transport, deny a wrong encryption header) denies every request.
The simulator instead evaluates the policy with ``rules.policy.evaluation`` (the same evaluator the rules
use) and this request context:

- ``aws:SecureTransport``: real SDK clients reach S3 over HTTPS. The simulator's loopback hop is
  plain HTTP only because it is local, so requests are presented as TLS 1.3 by default; set
  ``TRANSPORT.secure = False`` to present them as plaintext (e.g. to show that a TLS-enforcing
  bucket refuses an insecure client).
- ``s3:x-amz-server-side-encryption`` and ``...-aws-kms-key-id`` from the request headers.

HeadObject is judged as s3:GetObject and POSTs on a key (multipart uploads) as s3:PutObject, the
IAM actions AWS authorizes them with; a refusal is a 403 AccessDenied error document, as S3 sends.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from moto.iam.access_control import PermissionResult
from moto.s3.models import FakeBucket
from moto.s3.responses import S3Response

from rules.policy.evaluation import Decision, PolicyError, Request, evaluate


@dataclass
class Transport:
    secure: bool = True
    tls_version: str = "1.3"


TRANSPORT = Transport()
_CURRENT = threading.local()

_HEADER_KEYS = {
    "x-amz-server-side-encryption": "s3:x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id": "s3:x-amz-server-side-encryption-aws-kms-key-id",
}


def request_context(headers: Any) -> dict[str, str]:
    context = {"aws:SecureTransport": "true" if TRANSPORT.secure else "false"}
    if TRANSPORT.secure:
        context["s3:TlsVersion"] = TRANSPORT.tls_version
    for header, key in _HEADER_KEYS.items():
        value = headers.get(header) if headers is not None else None
        if value:
            context[key] = value
    return context


# moto names the action after the HTTP method; IAM has no s3:HeadObject or s3:PostObject.
_IAM_ACTIONS = {"s3:HeadObject": "s3:GetObject", "s3:PostObject": "s3:PutObject"}  # POST: multipart uploads

_ACCESS_DENIED = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
                  '<Message>Access Denied</Message><RequestId>simulated</RequestId></Error>')


def _get_permission(self: FakeBucket, action: str, resource: str) -> Any:
    if self.policy is None:
        return PermissionResult.NEUTRAL
    action = _IAM_ACTIONS.get(action, action)
    context = getattr(_CURRENT, "context", None) or request_context(None)
    principal = f"arn:{self.partition}:iam::{self.account_id}:root"
    try:
        decision = evaluate(self.policy.decode(), Request(action, resource, principal, context))
    except PolicyError:
        return PermissionResult.NEUTRAL
    return {Decision.DENY: PermissionResult.DENIED, Decision.ALLOW: PermissionResult.PERMITTED}.get(
        decision, PermissionResult.NEUTRAL)


_original_key_response = S3Response._key_response


def _key_response(self: S3Response, request: Any, full_url: str) -> Any:
    _CURRENT.context = request_context(getattr(request, "headers", None))
    try:
        response = _original_key_response(self, request, full_url)
    finally:
        _CURRENT.context = None
    # moto refuses with an empty 403; S3 sends an AccessDenied error document (HEAD has no body).
    if isinstance(response, tuple) and response[0] == 403 and not response[2] and request.method != "HEAD":
        return 403, {"Content-Type": "application/xml"}, _ACCESS_DENIED
    return response


def install() -> None:
    FakeBucket.get_permission = _get_permission  # type: ignore[method-assign]
    S3Response._key_response = _key_response  # type: ignore[method-assign]
