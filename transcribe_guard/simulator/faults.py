"""Fault injection: make simulated AWS calls fail the way real ones do, per operation and,
optionally, per resource.

    from transcribe_guard.simulator import faults

    with Simulator(seed="demo"):
        faults.inject(faults.THROTTLING, "GetTranscriptionJob", resource="cc-call-0001", times=2)
        faults.inject(faults.ACCESS_DENIED, "GetRole", service="iam", resource="legacy-transcribe-role")
        faults.inject(faults.READ_TIMEOUT, "ListUsers")                  # persistent
        faults.inject(faults.CONNECT_TIMEOUT, "GetCallerIdentity", region="eu-west-1")  # one Region only
        faults.inject(faults.DELETED_AFTER_LIST, "ListTranscriptionJobs", resource="cc-call-0002")
        faults.inject(faults.MISSING_FIELD, "GetCallAnalyticsJob", field="Settings.ContentRedaction")
        ...
        faults.clear()

Kinds (``KINDS``):

- ``throttling``: the service's own throttling error, found in botocore's model where the
  service models one (Transcribe ``LimitExceededException`` 429, Organizations
  ``TooManyRequestsException``, CloudTrail/EventBridge/Logs ``ThrottlingException``), otherwise the
  protocol's usual one: S3 ``SlowDown`` 503, EC2 ``RequestLimitExceeded`` 503, query services
  (IAM, STS) and query-compatible ones (CloudWatch) ``Throttling`` 400, JSON services
  ``ThrottlingException`` 400.
- ``internal-error``: HTTP 500 (``InternalFailure``, or the service's modeled 500 error such as
  Transcribe's ``InternalFailureException``); ``service-unavailable``: HTTP 503
  (``ServiceUnavailable``; EC2 ``Unavailable``).
- ``read-timeout`` / ``connect-timeout``: botocore's ``ReadTimeoutError`` /
  ``ConnectTimeoutError`` raised on the client side, as urllib3 would (the in-process mock has no
  socket to time out).
- ``access-denied``: ``AccessDeniedException`` 400 for JSON services, ``AccessDenied`` 403 for
  query and S3, ``UnauthorizedOperation`` 403 for EC2.
- ``deleted-after-list``: right after a successful List call whose response names ``resource``,
  the resource is deleted through the simulated API (Transcribe jobs and customizations, IAM
  users, roles and customer managed policies, CloudTrail trails, EventBridge rules, EC2 VPCs;
  or pass ``delete=callable(name)``), so the next Get answers as the service does for a
  missing resource.
- ``missing-field``: the member at ``field`` ("A.B", "[]" for every list item:
  "TranscriptionJobSummaries[].ContentRedaction") is removed from the parsed response, as a
  service may omit any member its model does not mark required.
- ``hostile-value``: the member at ``field`` is set to ``value`` in the parsed response, in its
  first occurrence only ("[]" walks the list items in order until one has the member): a value an
  account holder chose (a name, a URI, a tag, an ARN) within the member's model constraints,
  on one resource, so a test can check that nothing else changes.

Error responses are real HTTP responses in the service's wire protocol (JSON, query XML, EC2
XML, REST-XML; HEAD requests get no body, as S3 sends), so botocore parses them and its retry
handler decides exactly as it would against AWS: throttling, 500, 503 and timeouts are retried
(``AWS_RETRY_MODE=standard``), access denied is not. A fault with ``times=N`` is transient: it
hits the first N matching attempts, so a retry succeeds; without ``times`` it is persistent.
``Fault.hits`` counts the attempts it answered.

A faulted request never reaches the simulated backend (the fault answers in place of moto's
request handler), like a request refused by a throttling front end.

How it works: botocore event hooks added to ``botocore.handlers.BUILTIN_HANDLERS`` by
``install()`` (called from ``transcribe_guard.simulator.install``), so every botocore session
created afterwards has them: boto3's default session (which moto resets when a mock starts, and
from which rdklib's ClientFactory and the CLI build their clients) and any other session. A
session created before ``install()`` is not affected.

In-process only: faults act in the process that registered them, on the client side. They apply
to clients of ``Simulator`` and to clients in the same process talking to a ``SimulatorServer``
(the server is plain HTTP on loopback and the hooks run before the request is sent); a client in
another process, e.g. ``transcribe-guard scan`` against ``transcribe-guard simulate``, is not
affected, because the server itself injects nothing.

Faults stay registered until ``clear()`` (or the ``injected`` context manager ends); tests clear
them in a fixture.
"""

from __future__ import annotations

import io
import json
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field as dataclass_field
from typing import Any, Callable, Iterable, Iterator, Mapping
from xml.sax.saxutils import escape

from transcribe_guard.simulator import serving

THROTTLING = "throttling"
INTERNAL_ERROR = "internal-error"
SERVICE_UNAVAILABLE = "service-unavailable"
READ_TIMEOUT = "read-timeout"
CONNECT_TIMEOUT = "connect-timeout"
ACCESS_DENIED = "access-denied"
DELETED_AFTER_LIST = "deleted-after-list"
MISSING_FIELD = "missing-field"
HOSTILE_VALUE = "hostile-value"

KINDS = (THROTTLING, INTERNAL_ERROR, SERVICE_UNAVAILABLE, READ_TIMEOUT, CONNECT_TIMEOUT, ACCESS_DENIED,
         DELETED_AFTER_LIST, MISSING_FIELD, HOSTILE_VALUE)
# Kinds the SDK retries in standard mode (and so kinds for which a transient fault is invisible).
RETRIED = (THROTTLING, INTERNAL_ERROR, SERVICE_UNAVAILABLE, READ_TIMEOUT, CONNECT_TIMEOUT)
_HTTP_ERRORS = (THROTTLING, INTERNAL_ERROR, SERVICE_UNAVAILABLE, ACCESS_DENIED)

MESSAGE = "Injected by transcribe-guard fault simulation"


@dataclass
class Fault:
    """One registered fault. ``operation`` is the API operation name (``GetTranscriptionJob``);
    ``service`` the botocore service name (``transcribe``, ``iam``; None: any); ``resource`` a
    request parameter value to match (job name, bucket, role name, ARN; None: every call).
    For ``deleted-after-list``, ``resource`` is the listed name to delete."""

    kind: str
    operation: str
    service: str | None = None
    resource: str | None = None
    times: int | None = None
    field: str | None = None
    delete: Callable[[str], None] | None = None
    value: Any = None  # hostile-value: what the member is set to
    region: str | None = None  # only calls made to this Region (None: any), e.g. an unreachable Region
    hits: int = 0
    struck: list[Mapping[str, Any]] = dataclass_field(default_factory=list)  # hostile-value: request parameters

    @property
    def persistent(self) -> bool:
        return self.times is None

    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def describe(self) -> str:
        what = f"{self.kind} on {self.service + ':' if self.service else ''}{self.operation}"
        if self.resource is not None:
            what += f" for {self.resource}"
        if self.region is not None:
            what += f" in {self.region}"
        if self.field:
            what += f" setting {self.field} to {self.value!r}" if self.kind == HOSTILE_VALUE else f" dropping {self.field}"
        return what + (" (persistent)" if self.persistent else f" (first {self.times})")


@dataclass
class _Call:
    """The API call in progress on this thread, as the hooks see it."""

    service: str
    operation: str
    params: Mapping[str, Any]
    region: str | None
    url: str
    model: Any = dataclass_field(repr=False, default=None)


_lock = threading.Lock()
_faults: list[Fault] = []
_local = threading.local()
_CONTEXT_KEY = "transcribe_guard_fault_call"
_installed = False


# --- public API -----------------------------------------------------------------------------

def inject(kind: str, operation: str, *, service: str | None = None, resource: str | None = None,
           times: int | None = None, field: str | None = None,
           delete: Callable[[str], None] | None = None, value: Any = None, region: str | None = None) -> Fault:
    """Register a fault and return it (its ``hits`` count how often it struck)."""
    if kind not in KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; choose one of: {', '.join(KINDS)}")
    if kind == MISSING_FIELD and not field:
        raise ValueError("a missing-field fault needs field=, the path of the member to drop")
    if kind == HOSTILE_VALUE and (not field or value is None):
        raise ValueError("a hostile-value fault needs field=, the path of the member to set, and value=")
    if kind == DELETED_AFTER_LIST and resource is None:
        raise ValueError("a deleted-after-list fault needs resource=, the listed name to delete")
    if times is not None and times < 1:
        raise ValueError("times must be at least 1 (omit it for a persistent fault)")
    if kind == DELETED_AFTER_LIST and times is None:
        times = 1  # a resource is deleted once
    fault = Fault(kind, operation, service, resource, times, field, delete, value, region)
    with _lock:
        _faults.append(fault)
    return fault


def clear() -> None:
    """Remove every fault."""
    with _lock:
        _faults.clear()


def active() -> list[Fault]:
    with _lock:
        return list(_faults)


@contextmanager
def injected(kind: str, operation: str, **kwargs: Any) -> Iterator[Fault]:
    """A fault for the duration of a ``with`` block."""
    fault = inject(kind, operation, **kwargs)
    try:
        yield fault
    finally:
        with _lock:
            if fault in _faults:
                _faults.remove(fault)


def install() -> None:
    """Add the hooks to botocore's built-in handlers (every session created later has them).
    Idempotent."""
    global _installed
    if _installed:
        return
    from botocore import handlers

    from moto.core.models import botocore_stubber

    for index, spec in enumerate(handlers.BUILTIN_HANDLERS):
        if spec[0] == "before-send" and spec[1] is botocore_stubber:
            # Answer before moto does, so a faulted request never reaches the simulated backend.
            handlers.BUILTIN_HANDLERS[index] = ("before-send", _FaultsFirst(botocore_stubber))
            break
    else:
        handlers.BUILTIN_HANDLERS.insert(0, ("before-send", _FaultsFirst(None)))
    handlers.BUILTIN_HANDLERS.extend([
        ("before-parameter-build", _remember_params),
        ("before-call", _enter_call),
        ("after-call", _after_call),
        ("after-call-error", _after_call_error),
    ])
    _installed = True


# --- matching -------------------------------------------------------------------------------

def _values(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _values(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _values(item)


def _matches(fault: Fault, call: _Call, kinds: Iterable[str]) -> bool:
    return (fault.kind in kinds and fault.operation == call.operation
            and (fault.service is None or fault.service == call.service)
            and (fault.region is None or fault.region == call.region)
            and (fault.resource is None or fault.resource in set(_values(call.params))))


def _strike(call: _Call, kinds: Iterable[str]) -> Fault | None:
    """The first live fault of ``kinds`` matching ``call``, with its hit counted."""
    with _lock:
        for fault in _faults:
            if not fault.exhausted() and _matches(fault, call, kinds):
                fault.hits += 1
                return fault
    return None


def _current() -> _Call | None:
    stack: list[_Call] = getattr(_local, "stack", [])
    return stack[-1] if stack else None


# --- hooks ----------------------------------------------------------------------------------

def _remember_params(params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
    context[_CONTEXT_KEY + ".params"] = params


def _enter_call(model: Any, params: Mapping[str, Any], context: dict[str, Any], request_signer: Any = None,
                **_: Any) -> None:
    call = _Call(model.service_model.service_name, model.name, context.get(_CONTEXT_KEY + ".params") or {},
                 getattr(request_signer, "region_name", None), str(params.get("url", "")), model)
    context[_CONTEXT_KEY] = call
    if not hasattr(_local, "stack"):
        _local.stack = []
    _local.stack.append(call)


def _leave_call(context: Mapping[str, Any]) -> _Call | None:
    call = context.get(_CONTEXT_KEY)
    stack: list[_Call] = getattr(_local, "stack", [])
    if call is not None and call in stack:
        stack.remove(call)
    return call


def _after_call_error(context: dict[str, Any], **_: Any) -> None:
    _leave_call(context)


def _after_call(http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    call = _leave_call(context)
    if call is None or http_response is None or http_response.status_code >= 300:
        return
    with _lock:
        dropping = [f for f in _faults if not f.exhausted() and _matches(f, call, (MISSING_FIELD,))]
        setting = [f for f in _faults if not f.exhausted() and _matches(f, call, (HOSTILE_VALUE,))]
        for fault in dropping:
            fault.hits += 1
    for fault in dropping:
        _drop(parsed, _path(str(fault.field)))
    for fault in setting:
        if _set_first(parsed, _path(str(fault.field)), fault.value):
            with _lock:
                fault.hits += 1
                fault.struck.append(dict(call.params))
    _delete_listed(call, parsed)


class _FaultsFirst:
    """The before-send handler: answers a faulted request itself, otherwise hands the request on
    to moto's stubber (when there is one) or lets botocore send it."""

    def __init__(self, stubber: Any):
        self.stubber = stubber

    def __call__(self, request: Any, event_name: str = "", **kwargs: Any) -> Any:
        call = _current()
        fault = _strike(call, _HTTP_ERRORS + (READ_TIMEOUT, CONNECT_TIMEOUT)) if call is not None else None
        if fault is not None:
            return _answer(fault, call, request)  # type: ignore[arg-type]
        if self.stubber is None or not self.stubber.enabled:  # no mock active: botocore sends it
            return None
        return serving.answer(self.stubber, request, event_name, **kwargs)


# --- responses --------------------------------------------------------------------------------

class _Body(io.BytesIO):
    def stream(self, **_: Any) -> Iterator[bytes]:
        chunk = self.read()
        while chunk:
            yield chunk
            chunk = self.read()


def _answer(fault: Fault, call: _Call, request: Any) -> Any:
    from botocore.awsrequest import AWSResponse
    from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

    if fault.kind == READ_TIMEOUT:
        raise ReadTimeoutError(endpoint_url=request.url)
    if fault.kind == CONNECT_TIMEOUT:
        raise ConnectTimeoutError(endpoint_url=request.url)
    code, status = error_for(fault.kind, call.model.service_model)
    sender = status < 500 and fault.kind != THROTTLING
    headers, body = _error_body(call.model.service_model, code, f"{MESSAGE}: {fault.kind}.", sender)
    if str(getattr(request, "method", "")).upper() == "HEAD":
        body = b""
    raw_headers: Any = headers  # AWSResponse keeps them in a case-insensitive dict
    return AWSResponse(request.url, status, raw_headers, _Body(body))


# Error shapes a service may model for each kind, in order of preference.
_MODELED = {
    THROTTLING: ("ThrottlingException", "TooManyRequestsException", "Throttling", "ThrottledException",
                 "RequestLimitExceeded", "SlowDown"),
    INTERNAL_ERROR: ("InternalFailureException", "InternalServerException", "InternalServerError",
                     "InternalException", "InternalFailure", "ServiceFailureException", "InternalError"),
    SERVICE_UNAVAILABLE: ("ServiceUnavailableException", "ServiceUnavailable"),
    ACCESS_DENIED: ("AccessDeniedException", "AccessDenied"),
}
_DEFAULT_STATUS = {THROTTLING: 400, INTERNAL_ERROR: 500, SERVICE_UNAVAILABLE: 503, ACCESS_DENIED: 400}


def error_for(kind: str, service_model: Any) -> tuple[str, int]:
    """(error code, HTTP status) that ``service_model``'s service answers with for ``kind``:
    its own modeled error when it has one, else its protocol's usual error."""
    by_name = {shape.name: shape for shape in service_model.error_shapes}
    candidates = [by_name[name] for name in _MODELED[kind] if name in by_name]
    if kind == THROTTLING:  # a throttling trait, or a rate limit answered with 429 (Transcribe's LimitExceededException)
        candidates += [s for s in service_model.error_shapes
                       if (s.metadata.get("retryable") or {}).get("throttling")
                       or (s.metadata.get("error", {}).get("httpStatusCode") == 429
                           and any(word in s.name for word in ("Limit", "Throttl", "TooMany")))]
    for shape in candidates:
        error = shape.metadata.get("error", {})
        status = error.get("httpStatusCode") or _DEFAULT_STATUS[kind]
        if kind in (INTERNAL_ERROR, SERVICE_UNAVAILABLE) and status < 500:
            continue
        return str(error.get("code") or shape.name), int(status)
    protocol = service_model.resolved_protocol
    query_like = protocol == "query" or "awsQueryCompatible" in service_model.metadata
    if kind == THROTTLING:
        if protocol == "ec2":
            return "RequestLimitExceeded", 503
        if protocol == "rest-xml":
            return "SlowDown", 503
        return ("Throttling", 400) if query_like else ("ThrottlingException", 429 if protocol == "rest-json" else 400)
    if kind == INTERNAL_ERROR:
        return ("InternalError", 500) if protocol in ("ec2", "rest-xml") else ("InternalFailure", 500)
    if kind == SERVICE_UNAVAILABLE:
        return ("Unavailable", 503) if protocol == "ec2" else ("ServiceUnavailable", 503)
    if protocol == "ec2":
        return "UnauthorizedOperation", 403
    if query_like or protocol == "rest-xml":
        return "AccessDenied", 403
    return "AccessDeniedException", 403 if protocol == "rest-json" else 400


def _error_body(service_model: Any, code: str, message: str, sender: bool) -> tuple[dict[str, str], bytes]:
    request_id = str(uuid.uuid4())
    protocol = service_model.resolved_protocol
    party = "Sender" if sender else "Receiver"
    if protocol in ("json", "rest-json"):
        headers = {"x-amzn-RequestId": request_id, "Content-Type": "application/x-amz-json-1.1"}
        if protocol == "rest-json":
            headers["x-amzn-ErrorType"] = code
        if "awsQueryCompatible" in service_model.metadata:
            headers["x-amzn-query-error"] = f"{code};{party}"
        return headers, json.dumps({"__type": code, "message": message}).encode()
    if protocol == "smithy-rpc-v2-cbor":
        return ({"x-amzn-RequestId": request_id, "Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"},
                _cbor_text_map({"__type": code, "message": message}))
    code_x, message_x = escape(code), escape(message)
    if protocol == "ec2":
        body = (f"<Response><Errors><Error><Code>{code_x}</Code><Message>{message_x}</Message></Error></Errors>"
                f"<RequestID>{request_id}</RequestID></Response>")
    elif protocol == "rest-xml":
        body = f"<Error><Code>{code_x}</Code><Message>{message_x}</Message><RequestId>{request_id}</RequestId></Error>"
    else:  # query
        body = (f"<ErrorResponse><Error><Type>{party}</Type><Code>{code_x}</Code><Message>{message_x}</Message>"
                f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>")
    return {"x-amzn-RequestId": request_id, "Content-Type": "text/xml"}, body.encode()


def _cbor_text_map(items: Mapping[str, str]) -> bytes:
    def head(major: int, length: int) -> bytes:
        if length < 24:
            return bytes([major << 5 | length])
        if length < 256:
            return bytes([major << 5 | 24, length])
        return bytes([major << 5 | 25]) + length.to_bytes(2, "big")

    out = head(5, len(items))
    for key, value in items.items():
        for text in (key, value):
            data = text.encode()
            out += head(3, len(data)) + data
    return out


# --- missing fields ---------------------------------------------------------------------------

def _path(text: str) -> list[str]:
    """ "A.B[].C" -> ["A", "B", "[]", "C"]."""
    parts: list[str] = []
    for part in text.split("."):
        name = part.rstrip("[]")
        if name:
            parts.append(name)
        parts += ["[]"] * ((len(part) - len(name)) // 2)
    return parts


def _drop(node: Any, path: list[str]) -> None:
    if not path:
        return
    head, rest = path[0], path[1:]
    if head == "[]":
        for item in node if isinstance(node, list) else []:
            _drop(item, rest)
        return
    if not isinstance(node, dict) or head not in node:
        return
    if rest:
        _drop(node[head], rest)
    else:
        del node[head]


def _set_first(node: Any, path: list[str], value: Any) -> bool:
    """Set the first occurrence of ``path`` that exists in ``node``; False when there is none."""
    head, rest = path[0], path[1:]
    if head == "[]":
        if not isinstance(node, list) or not node:
            return False
        if not rest:  # a list of strings: its first item
            node[0] = value
            return True
        return any(_set_first(item, rest, value) for item in node)
    if not isinstance(node, dict) or head not in node:
        return False
    if rest:
        return _set_first(node[head], rest, value)
    node[head] = value
    return True


# --- deleted after list -----------------------------------------------------------------------

def _delete_listed(call: _Call, parsed: Mapping[str, Any]) -> None:
    with _lock:
        due = [f for f in _faults if f.kind == DELETED_AFTER_LIST and not f.exhausted()
               and f.operation == call.operation and (f.service is None or f.service == call.service)
               and f.resource in set(_values(parsed))]
        for fault in due:
            fault.hits += 1
    for fault in due:
        name = str(fault.resource)
        if fault.delete is not None:
            fault.delete(name)
            continue
        deleter = _DELETERS.get((call.service, call.operation))
        if deleter is None:
            raise LookupError(f"no built-in deleter for resources listed by {call.service}:{call.operation}; "
                              "pass delete=callable(name) to inject()")
        deleter(_client_like(call), name)


def _client_like(call: _Call) -> Callable[[str], Any]:
    """A client factory for the deleters: same region and endpoint as the List call."""
    import boto3

    endpoint = call.url.split("/", 3)
    base = "/".join(endpoint[:3]) if len(endpoint) >= 3 else None
    custom = base if base and not base.endswith(".amazonaws.com") else None

    def client(service: str) -> Any:
        return boto3.session.Session().client(service, region_name=call.region, endpoint_url=custom)
    return client


def _transcribe(operation: str, parameter: str) -> Callable[[Callable[[str], Any], str], None]:
    def delete(client: Callable[[str], Any], name: str) -> None:
        getattr(client("transcribe"), operation)(**{parameter: name})
    return delete


def _delete_iam_user(client: Callable[[str], Any], name: str) -> None:
    iam = client("iam")
    for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    for policy in iam.list_user_policies(UserName=name)["PolicyNames"]:
        iam.delete_user_policy(UserName=name, PolicyName=policy)
    for policy in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]:
        iam.detach_user_policy(UserName=name, PolicyArn=policy["PolicyArn"])
    for group in iam.list_groups_for_user(UserName=name)["Groups"]:
        iam.remove_user_from_group(UserName=name, GroupName=group["GroupName"])
    iam.delete_user(UserName=name)


def _delete_iam_role(client: Callable[[str], Any], name: str) -> None:
    iam = client("iam")
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=policy)
    for policy in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
    iam.delete_role(RoleName=name)


def _delete_iam_policy(client: Callable[[str], Any], name_or_arn: str) -> None:
    iam = client("iam")
    arn = name_or_arn
    if not arn.startswith("arn:"):
        arn = next(p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"] if p["PolicyName"] == name_or_arn)
    entities = iam.list_entities_for_policy(PolicyArn=arn)
    for group in entities.get("PolicyGroups", []):
        iam.detach_group_policy(GroupName=group["GroupName"], PolicyArn=arn)
    for user in entities.get("PolicyUsers", []):
        iam.detach_user_policy(UserName=user["UserName"], PolicyArn=arn)
    for role in entities.get("PolicyRoles", []):
        iam.detach_role_policy(RoleName=role["RoleName"], PolicyArn=arn)
    for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
        if not version["IsDefaultVersion"]:
            iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
    iam.delete_policy(PolicyArn=arn)


def _delete_trail(client: Callable[[str], Any], name: str) -> None:
    client("cloudtrail").delete_trail(Name=name.rsplit("/", 1)[-1] if name.startswith("arn:") else name)


def _delete_event_rule(client: Callable[[str], Any], name: str) -> None:
    events = client("events")
    targets = [t["Id"] for t in events.list_targets_by_rule(Rule=name).get("Targets", [])]
    if targets:
        events.remove_targets(Rule=name, Ids=targets)
    events.delete_rule(Name=name)


def _delete_vpc(client: Callable[[str], Any], vpc_id: str) -> None:
    ec2 = client("ec2")
    by_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
    endpoints = [e["VpcEndpointId"] for e in ec2.describe_vpc_endpoints(Filters=by_vpc)["VpcEndpoints"]]
    if endpoints:
        ec2.delete_vpc_endpoints(VpcEndpointIds=endpoints)
    for subnet in ec2.describe_subnets(Filters=by_vpc)["Subnets"]:
        ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    ec2.delete_vpc(VpcId=vpc_id)


_DELETERS: dict[tuple[str, str], Callable[[Callable[[str], Any], str], None]] = {
    ("transcribe", "ListTranscriptionJobs"): _transcribe("delete_transcription_job", "TranscriptionJobName"),
    ("transcribe", "ListMedicalTranscriptionJobs"): _transcribe("delete_medical_transcription_job",
                                                                "MedicalTranscriptionJobName"),
    ("transcribe", "ListCallAnalyticsJobs"): _transcribe("delete_call_analytics_job", "CallAnalyticsJobName"),
    ("transcribe", "ListMedicalScribeJobs"): _transcribe("delete_medical_scribe_job", "MedicalScribeJobName"),
    ("transcribe", "ListVocabularies"): _transcribe("delete_vocabulary", "VocabularyName"),
    ("transcribe", "ListMedicalVocabularies"): _transcribe("delete_medical_vocabulary", "VocabularyName"),
    ("transcribe", "ListVocabularyFilters"): _transcribe("delete_vocabulary_filter", "VocabularyFilterName"),
    ("transcribe", "ListLanguageModels"): _transcribe("delete_language_model", "ModelName"),
    ("transcribe", "ListCallAnalyticsCategories"): _transcribe("delete_call_analytics_category", "CategoryName"),
    ("iam", "ListUsers"): _delete_iam_user,
    ("iam", "ListRoles"): _delete_iam_role,
    ("iam", "ListPolicies"): _delete_iam_policy,
    ("cloudtrail", "ListTrails"): _delete_trail,
    ("cloudtrail", "DescribeTrails"): _delete_trail,
    ("events", "ListRules"): _delete_event_rule,
    ("ec2", "DescribeVpcs"): _delete_vpc,
}


def can_delete(service: str, list_operation: str) -> bool:
    """Whether ``deleted-after-list`` has a built-in deleter for resources this List call names."""
    return (service, list_operation) in _DELETERS
