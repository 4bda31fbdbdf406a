"""The Transcribe ledger (rules/inventory/ledger.py) and its collector (rules/engine/collector.py):
the fields the rules read are all recorded, records stay under DynamoDB's item limit, rules judge
the same from the ledger as from live calls, and the collector loses nothing (missed events,
deletes, TTL expiry, throttling)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterator

import pytest
from rdklib import ClientFactory

from rules.catalog.registry import RULES
from rules.engine import base
from rules.engine.base import RunContext
from rules.engine.collector import Collector
from rules.engine.incremental import ResourceRule
from rules.inventory.ledger import (LEDGER_FIELDS, MAX_ITEM_BYTES, TABLE_ENV, LedgerInventory, LedgerStore,
                                    item_bytes, make_record, max_item_bytes, serialize)
from rules.inventory.transcribe import ALL_KINDS, TRANSCRIPTION_JOB, Resource, TranscribeInventory, get_actions
from tests.helpers import ACCOUNT, REGION
from transcribe_guard.iam_actions import recording
from transcribe_guard.simulator import Simulator, clock
from transcribe_guard.simulator import ledger as sim_ledger

TABLE = "transcribe-guard-ledger"
PARAMETERS: dict[str, dict[str, str]] = {
    "transcribe-job-output-location": {"AllowedOutputBuckets": "acme-cc-transcripts"},
    "transcribe-resource-tagged": {"RequiredTags": "DataClassification=confidential|restricted,CostCenter"},
    "transcribe-job-pii-redaction": {"RequireMedicalPhiIdentification": "true"},
}
GETS = set(get_actions(*ALL_KINDS))
# The rules that read Transcribe jobs or customizations.
READERS = sorted(name for name, rule in RULES.items() if GETS & set(rule.METADATA["iam_actions"]))


def collector(sim: Any, **kwargs: Any) -> Collector:
    return Collector(sim.client("transcribe"), LedgerStore(sim.client("dynamodb"), TABLE), ACCOUNT, **kwargs)


@pytest.fixture(scope="module")
def demo() -> Iterator[Any]:
    with Simulator(seed="demo", region=REGION) as simulator:
        sim_ledger.create_table(simulator.client("dynamodb"), TABLE)
        collector(simulator).sweep()
        yield simulator


# --- the fields ------------------------------------------------------------------------------


class Recording(dict):  # type: ignore[type-arg]
    """A response body that records every member read from it, nested."""

    def __init__(self, data: dict[str, Any], where: tuple[str, ...], seen: set[tuple[str, ...]]):
        super().__init__(data)
        self.where, self.seen = where, seen

    def _read(self, key: str, value: Any) -> Any:
        self.seen.add(self.where + (key,))
        return Recording(value, self.where + (key,), self.seen) if isinstance(value, dict) else value

    def get(self, key: str, default: Any = None) -> Any:
        return self._read(key, dict.__getitem__(self, key)) if key in self else (self.seen.add(self.where + (key,)), default)[1]

    def __getitem__(self, key: str) -> Any:
        return self._read(key, dict.__getitem__(self, key))


def test_every_field_the_rules_read_is_in_the_ledger(demo: Any, monkeypatch: Any) -> None:
    seen: set[tuple[str, ...]] = set()
    detail, pages = TranscribeInventory.detail, TranscribeInventory.pages

    def recorded_detail(self: Any, resource: Resource) -> Any:
        return Recording(detail(self, resource), (resource.kind.key, "detail"), seen)

    def recorded_pages(self: Any, kind: Any, token: Any = None) -> Iterator[Any]:
        for page_token, page in pages(self, kind, token):
            yield page_token, [Resource(r.kind, r.name, r.arn, Recording(r.summary, (kind.key, "summary"), seen))
                               for r in page]

    monkeypatch.setattr(TranscribeInventory, "detail", recorded_detail)
    monkeypatch.setattr(TranscribeInventory, "pages", recorded_pages)
    for name in READERS:
        rule = RULES[name]()
        rule.evaluate_periodic({"accountId": ACCOUNT}, ClientFactory(None, assume_role_mode=False),
                               rule.evaluate_parameters(PARAMETERS.get(name, {})))
    recorded = set()
    for field in LEDGER_FIELDS:
        section = "detail" if field.section == "tags" else field.section  # jobs' tags are in the Get response
        for kind in field.kinds:
            recorded |= {(kind, section, *field.path[:i]) for i in range(1, len(field.path) + 1)}
    assert seen - recorded == set(), "read by a rule but not in LEDGER_FIELDS"
    # And no field is kept for the rules that no rule reads (the demo account does not show every
    # kind with every setting, so this is checked per path, over all kinds).
    by_rules = {(f.section, f.path) for f in LEDGER_FIELDS if set(f.readers) & set(RULES) and f.section != "tags"}
    assert by_rules - {(key[1], key[2:]) for key in seen} == set()


# --- item size -------------------------------------------------------------------------------


def test_no_record_can_reach_dynamodbs_item_limit() -> None:
    for kind in ALL_KINDS:
        assert 0 < max_item_bytes(kind) < MAX_ITEM_BYTES, kind.key


def test_the_largest_values_aws_allows_fit_and_are_stored(demo: Any) -> None:
    wide = "𝔘"  # 4 UTF-8 bytes
    name = "j" * 200
    uri = "s3://" + "b" * 63 + "/" + wide * 1930
    detail = {"Media": {"MediaFileUri": uri}, "Transcript": {"TranscriptFileUri": uri, "RedactedTranscriptFileUri": uri},
              "JobExecutionSettings": {"DataAccessRoleArn": "arn:aws:iam::123456789012:role/" + "r" * 1024},
              "Tags": [], "Settings": {"Unread": "x" * 5000}}
    tags = {f"{wide * 124}{i:04d}": wide * 256 for i in range(200)}
    summary = {"TranscriptionJobName": name, "CreationTime": dt.datetime.now(dt.timezone.utc),
               "TranscriptionJobStatus": "COMPLETED", "FailureReason": "x" * 5000}
    record = make_record(TRANSCRIPTION_JOB, ACCOUNT, REGION, "aws", name, summary, detail, tags, 0.0)
    assert "FailureReason" not in record["summary"] and "Settings" not in record["detail"]  # only what rules read
    size = item_bytes(serialize(record))
    assert 300_000 < size <= max_item_bytes(TRANSCRIPTION_JOB) < MAX_ITEM_BYTES
    store = LedgerStore(demo.client("dynamodb"), TABLE)
    store.put(record)
    stored = store.get(record["pk"], record["sk"])
    assert stored is not None and stored["tags"] == tags and stored["detail"]["Media"]["MediaFileUri"] == uri
    store.delete(record["pk"], record["sk"])


# --- the same verdicts ----------------------------------------------------------------------------


def _verdicts(name: str, sim: Any, ledger: bool, monkeypatch: Any) -> dict[str, str]:
    rule = RULES[name]()
    params = rule.evaluate_parameters(PARAMETERS.get(name, {}))
    factory = base.fail_closed(ClientFactory(None, assume_role_mode=False))
    if isinstance(rule, ResourceRule):  # judged resource by resource, as a function run does
        inventory: Any = (LedgerInventory(LedgerStore(sim.client("dynamodb"), TABLE), ACCOUNT, REGION) if ledger
                          else TranscribeInventory(sim.client("transcribe"), ACCOUNT))
        ctx = RunContext(ACCOUNT, REGION, "aws", inventory, "AWS::::Account", factory, rule_name=name,
                         now=clock.now().timestamp())
        found = list(rule.evaluate(ctx, params))
    else:  # the function path: the ledger when the environment names it
        if ledger:
            monkeypatch.setenv(TABLE_ENV, TABLE)
        else:
            monkeypatch.delenv(TABLE_ENV, raising=False)
        rule.invoked_as_function = True
        found = rule.evaluate_periodic({"accountId": ACCOUNT, "configRuleName": f"{name}-{ledger}"}, factory, params)
    return {e.complianceResourceId: e.complianceType for e in found}


@pytest.mark.parametrize("name", READERS)
def test_the_ledger_and_live_calls_give_the_same_verdicts(name: str, demo: Any, monkeypatch: Any) -> None:
    expected = _verdicts(name, demo, False, monkeypatch)
    with recording() as recorder:
        found = _verdicts(name, demo, True, monkeypatch)
    assert found == expected and expected
    assert "dynamodb:Query" in recorder.actions  # the recorder saw the run's calls: it read the ledger
    assert not recorder.actions & GETS, "a rule read Transcribe itself while the ledger was on"


def test_a_job_missing_from_the_ledger_is_could_not_evaluate(demo: Any) -> None:
    inventory = LedgerInventory(LedgerStore(demo.client("dynamodb"), TABLE), ACCOUNT, REGION)
    ghost = Resource(TRANSCRIPTION_JOB, "never-recorded", inventory.arn(TRANSCRIPTION_JOB, "never-recorded"),
                     {"TranscriptionJobStatus": "COMPLETED"})
    rule = RULES["transcribe-job-output-location"]()
    ctx = RunContext(ACCOUNT, REGION, "aws", inventory, "AWS::::Account", None, rule_name="x")  # type: ignore[arg-type]
    [evaluation] = [rule.judge(ctx, rule.evaluate_parameters({}))(ghost)]
    assert evaluation.complianceType == "NON_COMPLIANT"
    assert evaluation.annotation.startswith("Could not evaluate: NotInLedger")


def test_a_record_of_an_older_projection_or_without_details_is_not_taken(demo: Any) -> None:
    from botocore.exceptions import ClientError

    store = LedgerStore(demo.client("dynamodb"), TABLE)
    inventory = LedgerInventory(store, ACCOUNT, REGION)
    summary = {"TranscriptionJobName": "old-format", "TranscriptionJobStatus": "COMPLETED",
               "CreationTime": clock.now() - dt.timedelta(days=1)}  # within the 90-day record retention
    old = make_record(TRANSCRIPTION_JOB, ACCOUNT, REGION, "aws", "old-format", summary,
                      {"Media": {"MediaFileUri": "s3://m/a.wav"}}, {}, clock.now().timestamp())
    store.put({**old, "v": 0, "expires": 2**40})
    bare = make_record(TRANSCRIPTION_JOB, ACCOUNT, REGION, "aws", "no-details", {**summary, "TranscriptionJobName":
                       "no-details"}, None, None, clock.now().timestamp())
    store.put({**bare, "expires": 2**40})
    found = {r.name: r for r in inventory.resources(TRANSCRIPTION_JOB)}
    for name, why in (("old-format", "older ledger version"), ("no-details", "no details recorded yet")):
        with pytest.raises(ClientError, match=why) as raised:
            inventory.detail(found[name])
        assert raised.value.response["Error"]["Code"] == "NotInLedger"
    with pytest.raises(ClientError, match="no tags recorded yet"):
        inventory.tags(found["no-details"])
    store.delete(old["pk"], old["sk"])
    store.delete(bare["pk"], bare["sk"])
