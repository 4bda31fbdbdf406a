"""The account's applied Transcribe request-rate quotas, from AWS Service Quotas, so that an
account whose quotas were raised is paced at its own rates without a parameter.

Used by rules.engine.base.inventory_for: each account and Region's limiter
(rules.engine.pacing.shared_limiter) asks once, on the first Transcribe call of the process;
``servicequotas:ListServiceQuotas`` is granted to every function as pacing plumbing
(transcribe_guard.templates.PACING_ACTIONS).

``ListServiceQuotas`` "lists the applied quota values for the specified AWS service. For some
quotas, only the default values are available. If the applied quota value is not available for
a quota, the quota is not retrieved" (Service Quotas API reference, ListServiceQuotas,
https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/API_ListServiceQuotas.html).
So every operation keeps its documented default (rules.engine.pacing.DOCUMENTED_QUOTAS) unless
one applied quota names it.

Matching: AWS's quota *codes* (L-...) for Transcribe's per-operation rates are not in any
document we could read offline, and quota names are not a published contract either. A quota
counts for an operation only when its QuotaName contains the operation's API name as a whole
word (``GetTranscriptionJob``, not ``GetMedicalTranscriptionJob``), it is a rate per second (its
Period, or "per second" in its name when it has none), and its Value is positive; two matching
quotas with different values count as none. The Transcribe developer guide's quota table names
each rate "Transactions per second, <Operation> operation"
(https://docs.aws.amazon.com/transcribe/latest/dg/limits-guidelines.html), which this matches.
Unverified: that Service Quotas uses those names; if it does not, the documented defaults apply,
which is today's behaviour.

Fail-safe by construction: any error (AccessDenied without ``servicequotas:ListServiceQuotas``,
no endpoint, a malformed answer) keeps the documented defaults and is logged once.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Iterable, Mapping

from botocore.exceptions import BotoCoreError, ClientError

from rules.inventory.transcribe import api_name  # boto3 method -> API name

LOGGER = logging.getLogger(__name__)

SERVICE_CODE = "transcribe"  # Service Quotas' code for Amazon Transcribe (its console URLs use it)
PAGE_SIZE = 100  # ListServiceQuotas MaxResults: 1-100 (API reference)
MAX_PAGES = 50  # a bound against a service that keeps answering with a NextToken


def _per_second(quota: Mapping[str, Any]) -> bool:
    period = quota.get("Period")
    if isinstance(period, Mapping) and period:
        return period.get("PeriodUnit") == "SECOND" and period.get("PeriodValue") == 1
    return "per second" in str(quota.get("QuotaName", "")).lower()


def matched_rates(quotas: Iterable[Mapping[str, Any]], operations: Iterable[str]) -> dict[str, float]:
    """boto3 method -> applied requests per second, for the operations some quota names unambiguously."""
    found: dict[str, set[float]] = {}
    patterns = {method: re.compile(rf"(?<![A-Za-z]){re.escape(api_name(method))}(?![A-Za-z])")
                for method in operations}
    for quota in quotas:
        name = str(quota.get("QuotaName", ""))
        value = quota.get("Value")
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0 or not _per_second(quota):
            continue
        for method, pattern in patterns.items():
            if pattern.search(name):
                found.setdefault(method, set()).add(float(value))
    return {method: values.pop() for method, values in found.items() if len(values) == 1}


def applied_rates(client: Any, operations: Iterable[str]) -> dict[str, float]:
    """The applied per-second quotas Service Quotas reports for ``operations`` (boto3 method
    names); empty when it reports none or cannot be asked."""
    quotas: list[Mapping[str, Any]] = []
    kwargs: dict[str, Any] = {"ServiceCode": SERVICE_CODE, "MaxResults": PAGE_SIZE}
    try:
        for _ in range(MAX_PAGES):
            page = client.list_service_quotas(**kwargs)
            quotas.extend(q for q in page.get("Quotas") or [] if isinstance(q, Mapping))
            token = page.get("NextToken")
            if not token:
                break
            kwargs["NextToken"] = token
    except (ClientError, BotoCoreError) as error:
        LOGGER.info("Service Quotas not read (%s): pacing at the documented Transcribe quotas",
                    error.response["Error"].get("Code") if isinstance(error, ClientError) else type(error).__name__)
        return {}
    rates = matched_rates(quotas, operations)
    if rates:
        LOGGER.info("applied Transcribe quotas from Service Quotas: %s",
                    ", ".join(f"{api_name(m)} {v:g}/s" for m, v in sorted(rates.items())))
    return rates
