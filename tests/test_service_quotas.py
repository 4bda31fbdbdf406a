"""Applied Transcribe quotas from Service Quotas: which quotas count for which operation, paging,
falling back to the documented defaults, and the simulator's ListServiceQuotas."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

import rules.inventory.transcribe
from rules.engine.pacing import DOCUMENTED_QUOTAS
from rules.engine.service_quotas import applied_rates, matched_rates
from tests.helpers import ACCOUNT

PER_SECOND = {"PeriodValue": 1, "PeriodUnit": "SECOND"}


def quota(name: str, value: Any, period: Any = PER_SECOND) -> dict[str, Any]:
    record = {"QuotaName": name, "Value": value}
    if period is not None:
        record["Period"] = period
    return record


def test_a_quota_counts_for_the_operation_it_names_as_a_whole_word() -> None:
    quotas = [quota("Transactions per second, GetTranscriptionJob operation", 100),
              quota("Transactions per second, GetMedicalTranscriptionJob operation", 45)]
    assert matched_rates(quotas, ["get_transcription_job", "get_medical_transcription_job", "get_vocabulary"]) == {
        "get_transcription_job": 100.0, "get_medical_transcription_job": 45.0}


@pytest.mark.parametrize("record", [
    quota("Transactions per second, GetTranscriptionJob operation", 100, {"PeriodValue": 1, "PeriodUnit": "MINUTE"}),
    quota("Number of GetTranscriptionJob calls", 100, None),  # no period, not "per second": not a rate
    quota("Transactions per second, GetTranscriptionJob operation", 0),
    quota("Transactions per second, GetTranscriptionJob operation", -5),
    quota("Transactions per second, GetTranscriptionJob operation", "100"),
    quota("Transactions per second, GetTranscriptionJobs operation", 100),  # another word
], ids=["per-minute", "not-a-rate", "zero", "negative", "string", "longer-word"])
def test_a_quota_that_is_not_a_positive_per_second_rate_for_the_operation_does_not_count(record: Any) -> None:
    assert matched_rates([record], ["get_transcription_job"]) == {}


def test_two_quotas_naming_one_operation_with_different_values_count_as_none() -> None:
    quotas = [quota("Transactions per second, GetTranscriptionJob operation", 100),
              quota("Burst, GetTranscriptionJob per second", 150, None)]
    assert matched_rates(quotas, ["get_transcription_job"]) == {}


class _Pages:
    def __init__(self, pages: list[dict[str, Any]] | Exception):
        self.pages, self.requests = pages, []

    def list_service_quotas(self, **kwargs: Any) -> dict[str, Any]:
        self.requests.append(kwargs)
        if isinstance(self.pages, Exception):
            raise self.pages
        return self.pages[len(self.requests) - 1]


def test_every_page_is_read() -> None:
    client = _Pages([{"Quotas": [quota("Transactions per second, GetVocabulary operation", 40)], "NextToken": "t1"},
                     {"Quotas": [quota("Transactions per second, GetTranscriptionJob operation", 90)]}])
    assert applied_rates(client, DOCUMENTED_QUOTAS) == {"get_vocabulary": 40.0, "get_transcription_job": 90.0}
    assert [r.get("NextToken") for r in client.requests] == [None, "t1"]
    assert all(r["ServiceCode"] == "transcribe" and r["MaxResults"] == 100 for r in client.requests)


def test_no_permission_keeps_the_documented_defaults() -> None:
    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "ListServiceQuotas")
    assert applied_rates(_Pages(denied), DOCUMENTED_QUOTAS) == {}


def test_a_service_that_never_stops_paging_is_bounded() -> None:
    class Endless:
        calls = 0

        def list_service_quotas(self, **kwargs: Any) -> dict[str, Any]:
            self.calls += 1
            return {"Quotas": [], "NextToken": "again"}

    endless = Endless()
    assert applied_rates(endless, DOCUMENTED_QUOTAS) == {}
    assert endless.calls == 50


def test_the_simulator_lists_raised_quotas_and_enforces_them(sim: Any) -> None:
    from transcribe_guard.simulator import service_quotas, throughput

    client = boto3.client("service-quotas", region_name="us-east-1")
    assert client.list_service_quotas(ServiceCode="transcribe")["Quotas"] == []
    service_quotas.raise_quota(ACCOUNT, "us-east-1", "GetTranscriptionJob", 120)
    service_quotas.raise_quota(ACCOUNT, "us-east-1", "GetVocabulary", 60)
    first = client.list_service_quotas(ServiceCode="transcribe", MaxResults=1)
    second = client.list_service_quotas(ServiceCode="transcribe", MaxResults=1, NextToken=first["NextToken"])
    assert "NextToken" not in second
    assert applied_rates(client, DOCUMENTED_QUOTAS) == {"get_transcription_job": 120.0, "get_vocabulary": 60.0}
    # Another Region of the same account keeps its defaults.
    assert boto3.client("service-quotas", region_name="eu-west-1").list_service_quotas(
        ServiceCode="transcribe")["Quotas"] == []
    with pytest.raises(ClientError, match="NoSuchResource"):
        client.list_service_quotas(ServiceCode="not-a-service")
    try:
        throughput.configure(quotas="documented")
        assert throughput.admit(ACCOUNT, "us-east-1", "GetVocabulary")
        admitted = sum(throughput.admit(ACCOUNT, "us-east-1", "GetTranscriptionJob") for _ in range(200))
        assert admitted == 120  # the raised quota's burst, not the documented 30
    finally:
        throughput.reset()


def test_a_run_paces_at_the_applied_quota_and_only_a_transcribe_reading_run_asks(sim: Any) -> None:
    from rdklib import ClientFactory

    from rules.engine import pacing
    from rules.engine.base import fail_closed, inventory_for
    from transcribe_guard.simulator import service_quotas

    service_quotas.raise_quota(ACCOUNT, "us-east-1", "GetTranscriptionJob", 120)
    pacing._SHARED.clear()  # a fresh process's limiters
    factory = fail_closed(ClientFactory(None, assume_role_mode=False))
    inventory = inventory_for(factory, ACCOUNT)
    assert not pacing._SHARED  # no Transcribe call yet: Service Quotas not asked
    inventory.resources(rules.inventory.transcribe.VOCABULARY)
    scale = pacing.quota_scale()
    assert inventory.limiter.rates["get_transcription_job"] == pytest.approx(120 * pacing.HEADROOM * scale)
    assert inventory.limiter.rates["get_vocabulary"] == pytest.approx(20 * pacing.HEADROOM * scale)  # documented
    pacing._SHARED.clear()
