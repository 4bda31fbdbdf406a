"""EC2 VPCs and VPC endpoints for the simulator: pagination and endpoint states.

moto 5.2.5 serves DescribeVpcs and DescribeVpcEndpoints, filters (``vpc-id``, ``service-name``)
included, and returns PrivateDnsEnabled and PolicyDocument for every endpoint; it accepts any
service name, ``com.amazonaws.<region>.transcribe`` and ``...transcribestreaming`` included (both
are also in its DescribeVpcEndpointServices list). What it lacks:

- Pagination. It ignores MaxResults and never returns NextToken, so a rule's paginator would
  never read a second page. Here both operations page: DescribeVpcs requires MaxResults between
  5 and 1000 when given (the model's bounds); DescribeVpcEndpoints returns at most 1000 items a
  page ("If the value is greater than 1,000, we return only 1,000 items"). Without MaxResults
  every item comes in one response, as EC2 does. NextToken is opaque and bound to the
  operation; a token EC2 did not issue is rejected with InvalidNextToken.
- Endpoint states. moto creates every endpoint ``available`` and DeleteVpcEndpoints makes it
  ``deleted``; EC2 shows a new interface endpoint ``pending`` first, and endpoints to other
  accounts' services can be ``pendingAcceptance``, ``rejected``, ``failed`` or ``expired``.
  ``set_endpoint_state`` is the test control for those states.

Endpoint states on the wire are lower camel case (``available``, ``pendingAcceptance``), as the
EC2 API reference's examples show, while botocore's model lists ``Available``, ``Pending``, ...;
the simulator keeps EC2's wire values, so validating these responses against the model reports
the State enum and nothing else.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.exceptions import InvalidNextToken, InvalidParameterValueError
from moto.ec2.responses.vpcs import VPCs

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"

ENDPOINT_STATES = ("pendingAcceptance", "pending", "available", "deleting", "deleted", "rejected", "failed",
                   "expired", "partial")

_BOUNDS = {"DescribeVpcs": (5, 1000), "DescribeVpcEndpoints": (1, None)}
_MAX_PAGE = 1000


def _token(operation: str, offset: int) -> str:
    return base64.b64encode(json.dumps({"op": operation, "offset": offset}).encode()).decode()


def _offset(operation: str, token: str | None) -> int:
    if not token:
        return 0
    try:
        payload = json.loads(base64.b64decode(token, validate=True))
        offset = int(payload["offset"])
    except (ValueError, KeyError, TypeError):
        raise InvalidNextToken(token) from None
    if payload.get("op") != operation or offset < 0:
        raise InvalidNextToken(token)
    return offset


def page(operation: str, items: list[Any], max_results: Any, next_token: str | None) -> tuple[list[Any], str | None]:
    """One page of ``items`` as EC2 pages ``operation``: (items, next token or None)."""
    start = _offset(operation, next_token)
    if max_results in (None, ""):
        return items[start:], None
    try:
        limit = int(max_results)
    except (TypeError, ValueError):
        raise InvalidParameterValueError(str(max_results)) from None
    low, high = _BOUNDS[operation]
    if limit < low or (high is not None and limit > high):
        raise InvalidParameterValueError(str(max_results))
    end = start + min(limit, _MAX_PAGE)
    return items[start:end], (_token(operation, end) if end < len(items) else None)


def describe_vpcs(self: Any) -> ActionResult:
    self.error_on_dryrun()
    vpcs = self.ec2_backend.describe_vpcs(vpc_ids=self._get_param("VpcIds", []),
                                          filters=self._filters_from_querystring())
    items, token = page("DescribeVpcs", list(vpcs), self._get_param("MaxResults"), self._get_param("NextToken"))
    result: dict[str, Any] = {"Vpcs": items}
    if token:
        result["NextToken"] = token
    return ActionResult(result)


def describe_vpc_endpoints(self: Any) -> ActionResult:
    self.error_on_dryrun()
    endpoints = self.ec2_backend.describe_vpc_endpoints(vpc_end_point_ids=self._get_param("VpcEndpointIds", []),
                                                        filters=self._filters_from_querystring())
    items, token = page("DescribeVpcEndpoints", list(endpoints), self._get_param("MaxResults"),
                        self._get_param("NextToken"))
    result: dict[str, Any] = {"VpcEndpoints": items}
    if token:
        result["NextToken"] = token
    return ActionResult(result)


def set_endpoint_state(endpoint_id: str, state: str, account: str = DEFAULT_ACCOUNT,
                       region: str = DEFAULT_REGION) -> None:
    """Test control: put a VPC endpoint in one of EC2's states (e.g. ``pending``)."""
    if state not in ENDPOINT_STATES:
        raise ValueError(f"unknown VPC endpoint state {state!r}; choose one of: {', '.join(ENDPOINT_STATES)}")
    from moto.ec2.models import ec2_backends
    ec2_backends[account][region].get_vpc_end_point(endpoint_id).state = state


def install() -> None:
    """Add paging to moto's DescribeVpcs and DescribeVpcEndpoints (idempotent)."""
    VPCs.describe_vpcs = describe_vpcs  # type: ignore[method-assign]
    VPCs.describe_vpc_endpoints = describe_vpc_endpoints  # type: ignore[method-assign]
