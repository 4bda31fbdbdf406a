"""``scan`` at any size (issue #14, item 4): results stream out as the rules make them, over an
inventory that keeps what it listed and read on disk (rules/inventory/local_ledger.py); each job
is read once for every rule; ``--max-tps`` caps the Gets."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import threading
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError
from rdklib import ClientFactory

from rules.catalog.registry import RULES
from rules.engine.pacing import DOCUMENTED_QUOTAS, HEADROOM, quota_scale
from rules.inventory import local_ledger
from rules.inventory.local_ledger import StoredInventory
from transcribe_guard import cli, findings, render, scan
from transcribe_guard.events import scheduled_notification
from transcribe_guard.scan_parameters import scan_selection
from transcribe_guard.simulator import Simulator, clock
from transcribe_guard.simulator.bulk import seed_jobs

JOBS = 250  # three List pages of 100


def _timeless(text: str) -> str:
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<time>", text)


def _collected(rule_names: list[str], parameters: dict[str, Any]) -> list[dict[str, Any]]:
    """The results as a scan collected them before streaming: each rule's evaluate_periodic over
    one client factory and its live TranscribeInventory (every Get response held for the run)."""
    factory = ClientFactory(role_arn=None, region="us-east-1", assume_role_mode=False)
    rows = []
    for name in rule_names:
        event = scheduled_notification(name, "123456789012", "TESTMODE", region="us-east-1")
        for e in RULES[name]().evaluate_periodic(event, factory, parameters[name]):
            rows.append({"account": "123456789012", "region": "us-east-1", "evaluated_at": "2026-01-01T00:00:00Z",
                         "rule": name, "resource_type": e.complianceResourceType, "resource_id": e.complianceResourceId,
                         "compliance": e.complianceType, "annotation": e.annotation or ""})
    return [findings.enrich(row) for row in rows]


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_streamed_json_and_csv_equal_the_collected_output_for_the_demo_account(fmt: str) -> None:
    selection = scan_selection(None, None, demo=True)
    with Simulator(seed="demo"):
        collected = render.render(_collected(selection.rule_names, selection.parameters), fmt, selection.rule_names)
        streamed = io.StringIO()
        summary = render.stream((findings.enrich(r) for r in scan.stream_scan(selection.rule_names,
                                                                               selection.parameters)),
                                fmt, selection.rule_names, None, streamed)
    assert _timeless(streamed.getvalue()) == _timeless(collected)
    assert summary["evaluations"] > 60 and summary["by_status"]["NON_COMPLIANT"] > 0


@pytest.mark.parametrize("fmt, statuses", [("json", None), ("json", ["NON_COMPLIANT"]), ("json", ["MUTED"]),
                                           ("csv", None), ("csv", ["ERROR"])])
def test_stream_writes_the_text_render_makes(fmt: str, statuses: list[str] | None) -> None:
    rows = [findings.enrich({"account": "123456789012", "region": region, "evaluated_at": "2026-01-01T00:00:00Z",
                             "rule": "transcribe-ai-opt-out", "resource_type": "AWS::::Account",
                             "resource_id": f"id-\u202e{i}", "compliance": compliance, "annotation": 'a "quoted"\nline'})
            for i, (region, compliance) in enumerate([("us-east-1", "NON_COMPLIANT"), ("eu-west-1", "COMPLIANT")])]
    for records in (rows, []):
        out = io.StringIO()
        render.stream(iter(records), fmt, ["transcribe-ai-opt-out", "transcribe-vpc-endpoints"], statuses, out)
        assert out.getvalue() == render.render(records, fmt, ["transcribe-ai-opt-out", "transcribe-vpc-endpoints"],
                                               statuses)


@pytest.fixture
def jobs_account() -> Iterator[Simulator]:
    with Simulator() as sim:
        sim.client("s3").create_bucket(Bucket="acme-out")
        seed_jobs(sim.transcribe, "transcription-job", JOBS, created_at=lambda i: clock.now() - dt.timedelta(minutes=i),
                  request={"OutputBucketName": "acme-out"}, tags={"CostCenter": "cc"}, name_prefix="big")
        yield sim


class _Reads:
    """Every Transcribe call the scan's inventories make: (operation, the resource named)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.calls: list[tuple[str, str]] = []
        self.inventories: list[StoredInventory] = []
        original = StoredInventory._call

        def call(inventory: StoredInventory, operation: str, **kwargs: Any) -> Any:
            if inventory not in self.inventories:
                self.inventories.append(inventory)
            self.calls.append((operation, str(kwargs.get("TranscriptionJobName") or "")))
            return original(inventory, operation, **kwargs)

        monkeypatch.setattr(StoredInventory, "_call", call)

    def count(self, operation: str) -> int:
        return sum(1 for op, _ in self.calls if op == operation)


JOB_RULES = ["transcribe-job-output-location", "transcribe-resource-tagged", "transcribe-job-output-encrypted",
             "transcribe-data-access-role", "transcribe-bucket-encrypted"]


def _parameters(names: list[str]) -> dict[str, Any]:
    demo = scan_selection(None, None, demo=True).parameters
    return {name: demo[name] for name in names}


def test_a_scan_reads_each_job_once_for_every_rule_with_max_tps(jobs_account: Simulator,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    reads = _Reads(monkeypatch)
    rows = scan.run_scan(JOB_RULES, _parameters(JOB_RULES), max_tps=7)
    gets = [name for op, name in reads.calls if op == "get_transcription_job"]
    assert len(gets) == len(set(gets)) == JOBS  # every job read, none twice, for five rules that read them
    assert reads.count("list_transcription_jobs") == 3  # listed once (three pages), read back from disk after
    judged = {r["resource_id"] for r in rows if r["rule"] == "transcribe-job-output-location"}
    assert len(judged) == JOBS
    assert not any(r["annotation"].startswith("Could not evaluate") for r in rows)
    (inventory,) = reads.inventories
    rates = inventory.limiter.rates
    assert rates["get_transcription_job"] == pytest.approx(7 * quota_scale())  # capped by --max-tps
    assert rates["get_medical_transcription_job"] == pytest.approx(7 * quota_scale())
    assert rates["list_transcription_jobs"] == pytest.approx(DOCUMENTED_QUOTAS["list_transcription_jobs"] * HEADROOM
                                                             * quota_scale())  # Lists keep their quota
    # Enough reads in flight for the paced rate at 40 ms a call (ceil(2 x 7000 x 0.04) capped at 64).
    assert inventory.read_workers == 64


def test_results_stream_before_the_listing_ends_and_nothing_per_job_is_held(jobs_account: Simulator,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    reads = _Reads(monkeypatch)
    last_page = threading.Event()  # the listing's third page waits for it (30 s at most, so a failure cannot hang)
    waited: list[bool] = []
    listed = StoredInventory._call

    def call(inventory: StoredInventory, operation: str, **kwargs: Any) -> Any:
        if operation == "list_transcription_jobs" and reads.count(operation) == 2:
            waited.append(last_page.wait(30))
        return listed(inventory, operation, **kwargs)

    monkeypatch.setattr(StoredInventory, "_call", call)
    stream = scan.stream_scan(JOB_RULES, _parameters(JOB_RULES))
    first = next(stream)
    assert first["rule"] == "transcribe-job-output-location"
    # The first result came out before the listing's last page was answered: the rule followed it as it grew.
    assert reads.count("list_transcription_jobs") < 3
    last_page.set()
    count = 1
    for _ in stream:
        count += 1
        if count == 2 * JOBS:  # mid-scan, in the second rule: what the inventory holds per job
            (inventory,) = reads.inventories
            assert inventory._details == {} and inventory._tags == {} and inventory._listed == {}
            held = inventory.store.counts()  # on disk instead: one row per job listed, read and tagged
            assert held == {"listing": JOBS, "detail": JOBS, "tags": JOBS}
    assert count >= 3 * JOBS  # three of the rules judge each job; the role and bucket rules report a few
    assert waited in ([], [True])  # never 30 s waiting for a first result


@pytest.mark.parametrize("value, message", [
    ("0", "--max-tps 0: must be a positive number"), ("-3", "--max-tps -3: must be a positive number"),
    ("inf", "--max-tps inf: must be a positive number"), ("nan", "--max-tps nan: must be a positive number"),
    ("fast", "--max-tps fast: not a number"),
])
def test_max_tps_must_be_a_positive_number(value: str, message: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["scan", "--demo", "--quiet", "--max-tps", value], out=out, err=err)
    assert code == cli.EXIT_USAGE and out.getvalue() == ""
    assert message in err.getvalue() and len(err.getvalue().strip().splitlines()) == 1


def test_output_file_is_replaced_only_when_the_scan_completes(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "report.csv"
    target.write_text("earlier report\n")

    def broken(*args: Any, **kwargs: Any) -> Iterator[dict[str, str]]:
        yield from []
        raise scan.UsageError("stopped mid-scan")

    monkeypatch.setattr(scan, "stream_scan", broken)
    code = cli.main(["scan", "--demo", "--quiet", "--format", "csv", "--output", str(target)],
                    out=io.StringIO(), err=io.StringIO())
    assert code == cli.EXIT_USAGE
    assert target.read_text() == "earlier report\n" and [p.name for p in tmp_path.iterdir()] == ["report.csv"]
    monkeypatch.undo()
    code = cli.main(["scan", "--demo", "--quiet", "--format", "csv", "--max-tps", "50", "--output", str(target)],
                    out=io.StringIO(), err=io.StringIO())
    assert code == cli.EXIT_NON_COMPLIANT and target.read_text().startswith("account,region,evaluated_at,rule")


@pytest.mark.parametrize("tags", [{"$datetime": "2026-01-01T00:00:00"}, {"$datetime": "not a time"},
                                  {"$$datetime": "x", "$": "y"}])
def test_tag_keys_that_look_like_the_stores_own_markers_come_back_as_written(tags: dict[str, str]) -> None:
    """A tag key is the account holder's to choose (1-128 characters, no pattern in botocore's model):
    one that spells the scratch file's datetime marker must neither crash the scan nor read back
    as something else."""
    with Simulator() as sim:
        sim.client("s3").create_bucket(Bucket="acme-out")
        seed_jobs(sim.transcribe, "transcription-job", 2, created_at=lambda i: clock.now() - dt.timedelta(minutes=i),
                  request={"OutputBucketName": "acme-out"}, tags=tags, name_prefix="marked")
        rule = RULES["transcribe-resource-tagged"]()
        seen: dict[str, dict[str, str]] = {}
        rows = scan.run_scan([rule.name()], {rule.name(): rule.evaluate_parameters({"RequiredTags": "owner"})},
                             known_tags=seen)
    assert [(r["compliance"], r["annotation"].startswith("Could not evaluate")) for r in rows] == \
        [("NON_COMPLIANT", False)] * 2
    assert list(seen.values()) == [tags, tags]


def _scan_rows(names: list[str], read_ahead: bool, monkeypatch: pytest.MonkeyPatch,
               failure: str | None = None) -> tuple[list[str], list[tuple[str, str]]]:
    """A scan's rows (times masked) and its Transcribe calls, with the read-ahead or without it
    (every read made by the rule that needs it, as before the read-ahead); ``failure``: the
    listing's second page or some jobs' Gets are refused."""
    with monkeypatch.context() as patch:
        if not read_ahead:
            patch.setattr(local_ledger.ReadAhead, "start", lambda self: self)
        reads = _Reads(patch)
        recorded = StoredInventory._call

        def call(inventory: StoredInventory, operation: str, **kwargs: Any) -> Any:
            refused = ((failure == "listing" and operation == "list_transcription_jobs" and "NextToken" in kwargs)
                       or (failure == "reads" and operation == "get_transcription_job"
                           and kwargs["TranscriptionJobName"].endswith("7")))
            if refused:
                reads.calls.append((operation, str(kwargs.get("TranscriptionJobName") or "")))
                raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "refused"}}, operation)
            return recorded(inventory, operation, **kwargs)

        patch.setattr(StoredInventory, "_call", call)
        rows = scan.run_scan(names, _parameters(names))
    return [_timeless(json.dumps(row, sort_keys=True)) for row in rows], reads.calls


def test_the_read_ahead_changes_no_result_of_the_demo_and_makes_no_read_a_rule_would_not(
        monkeypatch: pytest.MonkeyPatch) -> None:
    names = scan_selection(None, None, demo=True).rule_names
    with Simulator(seed="demo"):
        rows_before, calls_before = _scan_rows(names, False, monkeypatch)
        rows, calls = _scan_rows(names, True, monkeypatch)
    assert rows == rows_before and len(rows) > 60
    assert sorted(calls) == sorted(calls_before)  # the same Lists, Gets and tag reads, each once
    assert any(op.startswith("get_") for op, _ in calls)


@pytest.mark.parametrize("failure", [None, "listing", "reads"])
def test_the_read_ahead_changes_no_result_when_transcribe_refuses_reads(
        jobs_account: Simulator, monkeypatch: pytest.MonkeyPatch, failure: str | None) -> None:
    rows_before, calls_before = _scan_rows(JOB_RULES, False, monkeypatch, failure)
    rows, calls = _scan_rows(JOB_RULES, True, monkeypatch, failure)
    assert rows == rows_before
    if failure:
        assert any("Could not evaluate: AccessDeniedException" in row for row in rows)

    def others(found: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return sorted(call for call in found if not call[0].startswith("list_"))
    assert others(calls) == others(calls_before)  # every Get once, refused ones included, none a rule would not make
    listings = [sum(op == "list_transcription_jobs" for op, _ in found) for found in (calls, calls_before)]
    if failure != "listing":
        assert listings == [3, 3]  # listed once for every rule
    else:  # each rule lists again after a failed listing, as before; the read-ahead's own attempt (two pages) is the one more
        assert listings[1] <= listings[0] <= listings[1] + 2


def test_no_more_transcribe_calls_in_flight_than_the_client_has_connections(jobs_account: Simulator,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from rules.inventory.transcribe import TranscribeInventory

    lock, in_flight, most = threading.Lock(), [0], [0]
    send = TranscribeInventory._send

    def slow(inventory: Any, operation: str, kwargs: Any) -> Any:
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        try:
            time.sleep(0.005)  # calls overlap as they do at real latency
            return send(inventory, operation, kwargs)
        finally:
            with lock:
                in_flight[0] -= 1

    monkeypatch.setattr(TranscribeInventory, "_send", slow)
    rows = scan.run_scan(JOB_RULES, _parameters(JOB_RULES), max_tps=7000)  # 64 reads in flight a kind, if allowed
    assert len({r["resource_id"] for r in rows if r["rule"] == "transcribe-resource-tagged"}) == JOBS
    # botocore keeps 10 connections a client: more calls at once would open and discard one each
    assert 1 < most[0] <= local_ledger.POOL_CONNECTIONS
