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
                        memory_jobs=300, steady=harness.SteadyConfig(jobs_per_day=25, warmup_days=2, measure_days=3,
                                                                     reconciliation_days=2, tag_changes_per_day=2,
                                                                     deletions_per_day=2))
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


def test_memory_is_measured_in_fresh_processes(report: dict[str, Any]) -> None:
    for key, result in report["memory"]["runs"].items():
        assert result["complete"], key
        assert result["judged"] == 300, key
        assert result["after"]["vm_hwm_kb"] >= result["baseline"]["vm_rss_kb"] > 0


def test_steady_state_figures_add_up(report: dict[str, Any]) -> None:
    steady = report["steady_state"]
    naive = steady["naive_day"]
    for mode in ("resource", "summary"):
        total = steady["ours"][mode]["total"]
        for key, rule in steady["ours"][mode]["rules"].items():
            assert len(rule["days"]) == 3, key
            assert all(day["complete"] and day["could_not_evaluate"] == 0 for day in rule["days"]), key
            assert "reconcile" in rule["modes"] and "incremental" in rule["modes"], key
            for day in rule["days"]:
                assert day["evaluations"] == day["new_verdicts"] + day["retirements"]
        assert total["transcribe_calls"]["average_day"] < naive["total"]["transcribe_calls"]
        assert total["evaluations"]["average_day"] < naive["total"]["evaluations"]
    assert naive["total"]["evaluations"] >= steady["days"][-1]["live_jobs"]  # naive posts every job, every day


def test_command_line_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "bench.json"
    assert main(["--quick", "--sections", "deadline", "--deadline-jobs", "150", "--output", str(output)]) == 0
    written = json.loads(output.read_text())
    assert written["deadline"]["loss_jobs_without_stored_result"] == 0
    assert "4. deadline" in capsys.readouterr().out
