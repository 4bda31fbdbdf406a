"""The benchmark (transcribe_guard.bench) in a small configuration: it runs, every section is in
its JSON, and the figures are consistent with each other. No wall-clock figure is asserted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from transcribe_guard.bench import harness
from transcribe_guard.bench.__main__ import SECTIONS, Settings, main, render, run


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    settings = Settings(jobs=200, throughput_jobs=30, latency_ms=5, deadline_jobs=400, deadline_ms=800,
                        memory_jobs=300, organization_accounts=2, organization_regions=1, organization_jobs=20, simulator_jobs=60, steady=harness.SteadyConfig(jobs_per_day=25, retention_days=6, measure_days=3,
                                                                     reconciliation_days=2, tag_changes_per_day=2,
                                                                     deletions_per_day=2),
                        event_rates=((100_000, 45),), scan_scale_jobs=200, scan_scale_throughput_jobs=30,
                        pack_retained=20, pack_new=12)
    return run(settings)


def test_every_section_and_its_configuration(report: dict[str, Any]) -> None:
    for section in SECTIONS:
        assert section in report, section
    assert report["configuration"]["jobs"] == 200
    assert report["steady_state"]["configuration"]["jobs_per_day"] == 25
    assert report["targets"] and all({"name", "value", "target", "met"} <= set(t) for t in report["targets"])
    json.dumps(report)  # serializable as written
    assert "targets" in render(report)


def test_ours_never_costs_more_than_naive(report: dict[str, Any]) -> None:
    scan = report["scan"]
    for variant in scan["variants"].values():
        assert variant["transcribe_calls_per_job"] < scan["naive"]["transcribe_calls_per_job"]
        assert variant["could_not_evaluate"] == 0
    for key, rule in report["lambda"]["rules"].items():
        ours, naive = rule["ours"], rule["naive"]
        assert rule["complete"], key
        assert ours["transcribe_calls_per_job"] <= naive["transcribe_calls_per_job"], key
        assert ours["evaluations_posted"] == naive["evaluations_posted"] == 200, key  # one verdict per job
        assert ours["could_not_evaluate"] == naive["could_not_evaluate"] == 0, key
        if rule["answered_by_list_summaries"]:
            assert "GetTranscriptionJob" not in ours["transcribe_calls"], key
        assert naive["transcribe_calls"]["GetTranscriptionJob"] == naive["transcribe_calls"]["ListTagsForResource"] == 200


def test_scan_scale_reads_each_job_once_and_evaluates_everything(report: dict[str, Any]) -> None:
    section = report["scan_scale"]
    for name, jobs in (("memory", 200), ("throughput", 30)):
        run_ = section[name]
        assert run_["jobs"] == jobs and run_["job_gets_per_job"] == 1.0, name  # one Get per job for all rules
        assert run_["could_not_evaluate"] == 0 and run_["evaluations"] > jobs, name
        assert run_["peak_mb"] and run_["peak_mb"] > run_["baseline"]["vm_rss_kb"] / 1024 > 0, name
    assert section["throughput"]["quotas"] == "documented" and section["memory"]["quotas"] == "none"
    names = [t["name"] for t in report["targets"]]
    assert any(n.startswith("scan_scale, 200 jobs, all rules: peak memory MB") for n in names)
    assert any("jobs per second" in n and n.startswith("scan_scale, 30 jobs") for n in names)


def test_organization_scan_concurrent_equals_one_pair_at_a_time(report: dict[str, Any]) -> None:
    org = report["organization"]
    assert org["pairs"] == 2 and org["same_results"]
    for run_ in org["runs"].values():
        assert run_["evaluations"] == 2 * 20 and run_["could_not_evaluate"] == 0
    assert org["runs"]["concurrent"]["workers"] == 2 and org["runs"]["one_pair_at_a_time"]["workers"] == 1
    assert any(t["name"].startswith("organization scan, 2 pairs") for t in report["targets"])


def test_throughput_run_has_no_failures(report: dict[str, Any]) -> None:
    tp = report["throughput"]
    assert tp["complete"] and tp["judged"] == 30
    assert tp["could_not_evaluate"] == 0
    assert tp["transcribe_calls"]["GetTranscriptionJob"] <= 30


def test_deadline_runs_cover_every_job(report: dict[str, Any]) -> None:
    dl = report["deadline"]
    assert dl["complete"]
    assert dl["loss_jobs_without_stored_result"] == 0
    assert dl["invocations"] == len(dl["jobs_judged_per_invocation"]) >= 1
    assert sum(dl["jobs_judged_per_invocation"]) >= 400


def test_simulator_overhead_is_a_share_of_the_scan(report: dict[str, Any]) -> None:
    overhead = report["simulator_overhead"]
    from transcribe_guard.scan_parameters import scan_selection
    assert overhead["jobs"] == 60 and overhead["rules"] == len(scan_selection(None, None, demo=True).rule_names)
    assert overhead["results"] >= overhead["jobs"]  # every job judged
    assert overhead["requests"] >= overhead["jobs"]  # a Get per job for the rules List summaries cannot answer
    assert 0 < overhead["simulator_cpu_seconds"] <= overhead["scan_cpu_seconds"]
    assert overhead["simulator_share"] == pytest.approx(
        overhead["simulator_cpu_seconds"] / overhead["scan_cpu_seconds"], abs=0.01)
    target = next(t for t in report["targets"] if t["name"].startswith("simulator overhead"))
    assert target["value"] == overhead["simulator_share"] and target["target"] == "<= 0.5"
    assert target["met"] == (overhead["simulator_share"] <= 0.5)
    assert "8. simulator overhead" in render(report)


def test_memory_is_measured_in_fresh_processes(report: dict[str, Any]) -> None:
    for key, result in report["memory"]["runs"].items():
        assert result["complete"], key
        assert result["judged"] == 300, key
        assert result["after"]["vm_hwm_kb"] >= result["baseline"]["vm_rss_kb"] > 0


def test_steady_state_figures_add_up(report: dict[str, Any]) -> None:
    steady = report["steady_state"]
    naive = steady["naive_day"]
    assert steady["configuration"]["warmup"] == "fast"
    # 6 days of 25 jobs, less the past's deletions (2 a day, from the second day on)
    assert steady["days"][0] == {"day": 0, "live_jobs": 140, "expired": 0, "history_seeded": 140}
    for mode in ("resource", "summary"):
        total = steady["ours"][mode]["total"]
        for key, rule in steady["ours"][mode]["rules"].items():
            first = rule["first_run"]
            assert first["day"] == 0 and first["mode"] == "full" and first["complete"], key
            assert first["live_jobs"] == 140 and first["could_not_evaluate"] == 0, key
            assert len(rule["days"]) == 3 and rule["modes"] == ["incremental", "reconcile", "incremental"], key
            assert rule["reconcile_days"] == [2], key  # ReconciliationDays after the full run
            assert all(day["complete"] and day["could_not_evaluate"] == 0 for day in rule["days"]), key
            for day in rule["days"]:
                assert day["evaluations"] == day["new_verdicts"] + day["retirements"]
                assert day["transcribe_calls"] == sum(day["transcribe_by_operation"].values())
            ratios = steady["ratios"][mode]["rules"][key]["evaluations"]
            assert set(ratios) == {"ordinary_day", "reconcile_day", "average_day"}
            assert all({"value", "met"} == set(r) for r in ratios.values())
        if mode == "resource":  # one verdict per job on its first run; one per new job a day after
            assert total["first_run"]["new_verdicts"] == 4 * 140
            assert total["new_verdicts"]["ordinary_day"] >= 4 * 25
        # the reconcile retires what expired since the full run (2 days of jobs), in both modes
        assert total["retirements"]["reconcile_day"] > total["retirements"]["ordinary_day"]
        assert total["transcribe_calls"]["average_day"] < naive["total"]["transcribe_calls"]
        assert total["evaluations"]["average_day"] < naive["total"]["evaluations"]
        assert sum(total["transcribe_by_operation"]["average_day"].values()) == pytest.approx(
            total["transcribe_calls"]["average_day"], abs=0.1)
    assert naive["total"]["evaluations"] >= steady["days"][-1]["live_jobs"]  # naive posts every job, every day
    assert "GetTranscriptionJob" in naive["total"]["transcribe_by_operation"]
    names = {t["name"] for t in report["targets"]}
    assert "steady state, summary mode, all rules: 3-day average evaluations ours/naive" in names
    # resource mode's evaluations are held to their floor (new + expired jobs a day, per rule), not to 1/50
    assert "steady state, resource mode, all rules: 3-day average evaluations ours/naive" not in names
    assert set(steady["resource_floor"]) == {"resource", "ledger-resource"}
    measured_days = [d for d in steady["days"] if d["day"] in {x["day"] for x in rule["days"]}]
    expired = sum(d["expired"] for d in measured_days) / len(measured_days)
    for mode, floor in steady["resource_floor"].items():
        assert floor["floor_evaluations_per_rule"] == pytest.approx(25 + expired, abs=0.01)
        ours = steady["ours"][mode]["total"]["evaluations"]["average_day"]
        assert floor["value"] == pytest.approx(ours / (4 * floor["floor_evaluations_per_rule"]), abs=1e-3)
        held = [t for t in report["targets"] if t["name"].startswith(f"steady state, {mode} mode, all rules: 3-day "
                                                                      "average evaluations / the floor")]
        assert [(t["target"], t["met"]) for t in held] == [("<= 1.05", floor["value"] <= 1.05),
                                                           (">= 0.95", floor["value"] >= 0.95)]
    # With the ledger, the rules read DynamoDB: the pack's Transcribe calls are the collector's, one Get a new job
    for mode in ("ledger-resource", "ledger-summary"):
        rules = steady["ours"][mode]["rules"]
        assert all(rules[key]["transcribe_calls"]["average_day"] == 0 for key in rules if key != "collector"), mode
        collector = rules["collector"]["transcribe_by_operation"]["ordinary_day"]
        # the day's 25 jobs, each read once, and a Get confirming each of the day's 2 deletions
        assert collector["GetTranscriptionJob"] == 25 + 2
        assert steady["ours"][mode]["total"]["transcribe_calls"] == rules["collector"]["transcribe_calls"]
    # the daily retirement of expired records' results: the ledger's resource mode retires on ordinary days too
    assert steady["ours"]["ledger-resource"]["total"]["retirements"]["ordinary_day"] > \
        steady["ours"]["resource"]["total"]["retirements"]["ordinary_day"]


def test_event_driven_figures_add_up(report: dict[str, Any]) -> None:
    section = report["event_driven"]
    assert set(section["rates"]) == {"100000"}
    modes = section["rates"]["100000"]
    measured = modes["event_driven"]
    assert measured["jobs"] > 0 and measured["jobs_with_verdict"] + measured["jobs_without_verdict"] == measured["jobs"]
    assert measured["evaluations_started"] >= 1 and measured["evaluations_started"] < measured["jobs"]  # coalesced
    assert measured["p50_seconds"] <= measured["p99_seconds"] <= measured["max_seconds"]
    assert modes["hourly"]["p99_seconds"] == 0.99 * 3600 and modes["daily"]["p50_seconds"] == 12 * 3600
    assert modes["event_driven"]["monthly_usd"] > modes["daily"]["monthly_usd"]  # the trigger and extra runs cost
    names = {t["name"] for t in report["targets"]}
    assert "event-driven, 100,000 jobs/day: p99 seconds from job completion to verdict" in names


def test_pack_one_get_per_new_job_with_the_ledger_and_more_without(report: dict[str, Any]) -> None:
    pack = report["pack"]
    ours, per_rule, single = (pack["variants"][v] for v in ("ours", "naive_per_rule", "naive_single_pass"))
    new = ours["new_jobs"]
    assert new == per_rule["new_jobs"] == single["new_jobs"] >= 12
    # Ours: the collector's Gets are the pack's only ones, one per new job; the rules read DynamoDB.
    assert ours["collector"]["gets"] == new and ours["gets_per_new_job"] == 1.0
    assert ours["dynamodb_calls"].get("Query", 0) > 0
    assert ours["could_not_evaluate"] == 0 and not any(ours["new_jobs_without_a_verdict"].values())
    # Naive per rule: every Get-bound function reads each new job itself, and judges as many.
    assert per_rule["gets_per_new_job"] > 4 and not any(per_rule["new_jobs_without_a_verdict"].values())
    assert per_rule["dynamodb_calls"] == {}
    # A single pass reads every live job once a run: the retained ones too.
    assert single["gets_per_new_job"] == round((single["retained_jobs"] + new) / new, 4)
    assert not any(single["new_jobs_without_a_verdict"].values())
    # The customer's pipeline ran throughout, on its own session (not counted as ours).
    assert all(v["pipeline"]["served"] > 0 for v in pack["variants"].values())
    assert pack["gets_per_new_job"] == ours["gets_per_new_job"]
    names = [t["name"] for t in report["targets"] if t["name"].startswith("pack")]
    assert len(names) == 4


def test_fast_warm_up_reaches_the_daily_warm_up_state() -> None:
    """Without tag changes and deletions, the fast warm-up's measured days cost exactly what the
    day-by-day warm-up's do (same jobs, same checkpoint, same reconcile spacing)."""
    base = dict(jobs_per_day=6, retention_days=2, measure_days=2, reconciliation_days=2, tag_changes_per_day=0,
                deletions_per_day=0, rules=("output-location", "resource-tagged"))
    with harness.bench_environment():
        fast = harness.steady_state(harness.SteadyConfig(warmup="fast", **base))
        daily = harness.steady_state(harness.SteadyConfig(warmup="daily", warmup_days=3, **base))
    assert daily["days"][0]["day"] == 4 and fast["days"][0]["day"] == 0
    # daily: a full run on day 1, reconciles on days 3 and 5; fast: a full run on day 0, a reconcile on day 2
    for mode in ("resource", "summary"):
        for key in ("output-location", "resource-tagged"):
            ours_fast, ours_daily = fast["ours"][mode]["rules"][key], daily["ours"][mode]["rules"][key]
            assert ours_fast["modes"] == ours_daily["modes"] == ["incremental", "reconcile"], key
            for metric in ("transcribe_calls", "new_verdicts", "retirements", "transcribe_by_operation"):
                assert ours_fast[metric] == ours_daily[metric], (mode, key, metric)


def test_command_line_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "bench.json"
    assert main(["--quick", "--sections", "deadline", "--deadline-jobs", "150", "--output", str(output)]) == 0
    written = json.loads(output.read_text())
    assert written["deadline"]["loss_jobs_without_stored_result"] == 0
    assert "4. deadline" in capsys.readouterr().out


def test_the_fast_ledger_query_answers_as_moto_does(monkeypatch: pytest.MonkeyPatch) -> None:
    from transcribe_guard.simulator import Simulator
    from transcribe_guard.simulator import ledger as sim_ledger

    with Simulator(seed="empty") as sim:
        dynamodb = sim.client("dynamodb")
        sim_ledger.create_table(dynamodb, "ledger")
        for partition, count in (("a", 230), ("b", 7)):
            for i in range(count):
                dynamodb.put_item(TableName="ledger", Item={
                    "pk": {"S": partition}, "sk": {"S": f"{(i * 7919) % 1000:015d}#job-{i}"},
                    "arn": {"S": f"arn:{partition}:{i}"}, "body": {"S": "x" * (i % 50)}})
        shapes: list[dict[str, Any]] = []
        for pk in ("a", "b", "none"):
            for forward in (False, True):
                shapes.append({"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": pk}},
                               "ScanIndexForward": forward, "Limit": 100})
                shapes.append({"KeyConditionExpression": "pk = :p AND sk BETWEEN :lo AND :hi",
                               "ExpressionAttributeValues": {":p": {"S": pk}, ":lo": {"S": f"{200:015d}#"},
                                                             ":hi": {"S": f"{700:015d}#"}},
                               "ScanIndexForward": forward, "Limit": 40})
        starts = [None, f"{500:015d}#", f"{(3 * 7919) % 1000:015d}#job-3"]  # none, a key of no item, an item's key

        def answers() -> list[Any]:
            found = []
            for shape in shapes:
                for start in starts:
                    kwargs = dict(shape, TableName="ledger")
                    if start:
                        kwargs["ExclusiveStartKey"] = {"pk": shape["ExpressionAttributeValues"][":p"], "sk": {"S": start}}
                    while True:  # every page of the query
                        page = dynamodb.query(**kwargs)
                        found.append((page["Items"], page.get("LastEvaluatedKey"), page["Count"]))
                        if not page.get("LastEvaluatedKey"):
                            break
                        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            return found

        from moto.dynamodb.models.table import Table
        fallbacks: list[int] = []
        moto_query = Table.query
        monkeypatch.setattr(Table, "query", lambda self, *a, **k: fallbacks.append(1) or moto_query(self, *a, **k))
        with harness.fast_ledger_queries():
            fast = answers()
        assert not fallbacks  # the fast path answered every query
        slow = answers()
    assert fast == slow and len(slow) > len(shapes) * len(starts)  # some queries took several pages
