"""Service Quotas ListServiceQuotas for Transcribe, and raised quotas the simulated Transcribe enforces.

moto 5.2.5's Service Quotas answers ListAWSDefaultServiceQuotas and GetServiceQuota for ``vpc``
only. Here ListServiceQuotas (ServiceCode ``transcribe``) returns the quotas a test or seed raised
with :func:`raise_quota`, in the API's shape (botocore's service-quotas model), paged by
MaxResults (1-100) and NextToken; a quota that was not raised is not returned, which the API
reference allows ("If the applied quota value is not available for a quota, the quota is not
retrieved"). A raised quota also raises what the simulated Transcribe admits when request quotas
are on (``throughput.configure``), so a pacer that reads it can use the extra rate.

Assumed, not verified: the QuotaName form "Transactions per second, <Operation> operation" (the
Transcribe developer guide's quota table uses it) and the QuotaCode values, which are made up
here (``L-SIM...``) because AWS's codes for these quotas are in no document we could read.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.servicequotas.responses import ServiceQuotasResponse

SERVICE_CODE = "transcribe"


def raise_quota(account: str, region: str, operation: str, tps: float) -> None:
    """Raise the applied per-second quota of one Transcribe operation (API name, e.g.
    GetTranscriptionJob) in one account and Region."""
    if not tps > 0:
        raise ValueError("a quota must be positive")
    from transcribe_guard.simulator import throughput

    throughput.set_applied(account, region, operation, float(tps))  # one store: what is listed is what is enforced


def quota_record(account: str, region: str, operation: str, tps: float) -> dict[str, Any]:
    code = "L-SIM" + hashlib.sha256(operation.encode()).hexdigest()[:8].upper()
    return {"ServiceCode": SERVICE_CODE, "ServiceName": "Amazon Transcribe",
            "QuotaArn": f"arn:aws:servicequotas:{region}:{account}:{SERVICE_CODE}/{code}",
            "QuotaCode": code, "QuotaName": f"Transactions per second, {operation} operation",
            "Value": tps, "Unit": "None", "Adjustable": True, "GlobalQuota": False,
            "Period": {"PeriodValue": 1, "PeriodUnit": "SECOND"}, "QuotaAppliedAtLevel": "ACCOUNT"}


class _ValidationError(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("ValidationException", message)


class _NoSuchResource(JsonRESTError):
    def __init__(self) -> None:
        super().__init__("NoSuchResourceException", "This service is not available in the current Region.")


def list_service_quotas(self: ServiceQuotasResponse) -> str:
    from transcribe_guard.simulator import throughput

    params = json.loads(self.body or "{}")
    if params.get("ServiceCode") != SERVICE_CODE:
        raise _NoSuchResource()
    size = params.get("MaxResults", 100)
    if not isinstance(size, int) or not 1 <= size <= 100:
        raise _ValidationError("MaxResults must be between 1 and 100")
    token = params.get("NextToken")
    start = int(token) if isinstance(token, str) and token.isdigit() else 0
    records = [quota_record(self.current_account, self.region, operation, tps)
               for operation, tps in sorted(throughput.applied(self.current_account, self.region).items())]
    page = records[start:start + size]
    answer: dict[str, Any] = {"Quotas": page}
    if start + size < len(records):
        answer["NextToken"] = str(start + size)
    return json.dumps(answer)


_installed = False


def install() -> None:
    """Add ListServiceQuotas to moto's Service Quotas responses, and forget raised quotas when
    moto resets its backends, as it forgets everything else (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.core.base_backend import BackendDict

    from transcribe_guard.simulator import throughput

    ServiceQuotasResponse.list_service_quotas = list_service_quotas  # type: ignore[attr-defined]
    original = BackendDict.reset.__func__  # type: ignore[attr-defined]

    def reset_backends(cls: type) -> None:
        original(cls)
        throughput.clear_applied()

    BackendDict.reset = classmethod(reset_backends)  # type: ignore[method-assign,assignment]
    _installed = True
