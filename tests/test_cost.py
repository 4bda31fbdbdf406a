"""The cost model (transcribe_guard/cost.py) and `transcribe-guard cost`: formulas on small cases
computed by hand in the comments, the Config price tiers across their boundaries, CLI output and
errors, and that every rule of the registry has a cost profile."""

from __future__ import annotations

import io
import json
from fractions import Fraction

import pytest

from rules.registry import RULES
from transcribe_guard import cli, cost

# J=1000 jobs a day kept R=90 days: N = 90,000 retained; P = 100; D = 7 (4 reconciliation runs in
# 30 days, 26 ordinary); f = 0.05; E = 0; 40 ms a call; 256 MB.
INPUTS = cost.validate(1000, 90, "0.05", 7, 0, 40, 256)

# Each registry rule and how the model must treat it. A new rule makes
# test_every_registry_rule_has_a_reviewed_profile fail until it is added here, after checking that
# the profile derived from its METADATA matches what its code does.
EXPECTED_KINDS = {
    "transcribe-job-output-location": ("job", False),  # summary-answered without AllowedOutputBuckets
    "transcribe-job-pii-redaction": ("job", False),  # standard jobs from the List summary
    "transcribe-resource-tagged": ("job", True),  # tags from the Get
    "transcribe-job-output-encrypted": ("job", True),
    "transcribe-data-access-role": ("role", True),  # every job every run, one evaluation per role
    "transcribe-bucket-encrypted": ("discovery", True),  # every job every run to find the buckets
    "transcribe-bucket-tls-enforced": ("discovery", True),
    "transcribe-bucket-public-access-blocked": ("discovery", True),
    "transcribe-kms-key-protected": ("discovery", True),
    "transcribe-customization-encrypted": ("account", False),
    "transcribe-api-activity-logged": ("account", False),
    "transcribe-monitoring-configured": ("account", False),
    "transcribe-vpc-endpoints": ("account", False),
    "transcribe-config-recording": ("account", False),
    "transcribe-ai-opt-out": ("account", False),
    "transcribe-iam-user-no-access": ("account", False),
    "transcribe-iam-tag-based-access": ("account", False),
}


def profile(name: str, inputs: cost.Inputs = INPUTS) -> cost.Profile:
    return cost.profile_for(RULES[name].METADATA, inputs)


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(argv, out, err)
    return code, out.getvalue(), err.getvalue()


# --- profiles ----------------------------------------------------------------------------------

def test_every_registry_rule_has_a_reviewed_profile() -> None:
    assert set(RULES) == set(EXPECTED_KINDS), "add the new rule to EXPECTED_KINDS after checking its cost profile"
    for name, (kind, get_per_job) in EXPECTED_KINDS.items():
        found = profile(name)
        assert (found.kind, found.get_per_job) == (kind, get_per_job), name


def test_a_rule_reading_jobs_that_fits_no_profile_is_refused() -> None:
    metadata = {"name": "transcribe-new-thing", "iam_actions": [cost.LIST_JOBS, cost.GET_JOB],
                "resource_kinds": ["AWS::SNS::Topic"]}
    with pytest.raises(cost.UnmodeledRule, match="transcribe-new-thing"):
        cost.profile_for(metadata, INPUTS)


def test_parameters_change_what_a_rule_reads() -> None:
    assert not profile("transcribe-job-output-location").get_per_job
    with_buckets = cost.validate(1000, allowed_output_buckets=True)
    assert profile("transcribe-job-output-location", with_buckets).get_per_job
    assert not profile("transcribe-job-output-encrypted").head_object_per_job
    assert profile("transcribe-job-output-encrypted", cost.validate(1000, evidence_source="object")).head_object_per_job


def test_memory_default_comes_from_the_functions_template() -> None:
    assert cost.default_memory_mb() == 256


# --- formulas ----------------------------------------------------------------------------------

def test_naive_month_of_a_summary_answered_job_rule() -> None:
    # Per day: List ceil(90,000/100) = 900 pages, 90,000 Gets, 90,000 ListTagsForResource,
    # 90,000 + 1,000 = 91,000 evaluations (910 PutEvaluations calls).
    # Calls 900 + 90,000 + 90,000 + 910 = 181,810 x 40 ms = 7,272.4 s > 900 s: cut off, billed 900 s.
    p = profile("transcribe-job-pii-redaction")
    day = cost.naive_day(p, INPUTS)
    assert (day.transcribe_list, day.transcribe_get, day.transcribe_list_tags, day.evaluations) == (
        900, 90_000, 90_000, 91_000)
    assert cost.run_seconds(day, INPUTS) == Fraction("7272.4")
    month = cost.rule_month(p, INPUTS, "naive")
    # 30 days: 2,730,000 evaluations, 30 invocations, 30 x 900 = 27,000 s, x 0.25 GB = 6,750 GB-s.
    assert month.counters["evaluations"] == 2_730_000
    assert (month.invocations, month.lambda_seconds, month.gb_seconds, month.runs_cut_off) == (30, 27_000, 6_750, 30)


def test_resource_mode_month_of_a_summary_answered_job_rule() -> None:
    # Ordinary day: List ceil(1,000/100) + 1 = 11, no Get, LookupEvents ceil(0/50) + 6 = 6,
    # Config reads ceil(90,000/100) = 900, evaluations 1,000 new + 1,000 expired = 2,000 (20 puts):
    # 11 + 6 + 900 + 20 = 937 calls = 37.48 s.
    # Reconciliation day: + 900 List, + 900 Config reads: 2,737 calls = 109.48 s.
    p = profile("transcribe-job-pii-redaction")
    ordinary = cost.ours_day(p, INPUTS, "resource", reconciliation=False)
    assert (ordinary.transcribe_list, ordinary.transcribe_get, ordinary.lookup_events, ordinary.config_reads,
            ordinary.evaluations) == (11, 0, 6, 900, 2_000)
    assert cost.run_seconds(ordinary, INPUTS) == Fraction("37.48")
    recon = cost.ours_day(p, INPUTS, "resource", reconciliation=True)
    assert (recon.transcribe_list, recon.config_reads) == (911, 1_800)
    assert cost.run_seconds(recon, INPUTS) == Fraction("109.48")
    # Month (26 ordinary + 4 reconciliation): List 26 x 11 + 4 x 911 = 3,930; Config reads
    # 26 x 900 + 4 x 1,800 = 30,600; evaluations 60,000; LookupEvents 180;
    # seconds 26 x 37.48 + 4 x 109.48 = 1,412.4; GB-s 353.1; 30 invocations.
    month = cost.rule_month(p, INPUTS, "resource")
    assert {k: month.counters[k] for k in ("transcribe_list", "config_reads", "evaluations", "lookup_events")} == {
        "transcribe_list": 3_930, "config_reads": 30_600, "evaluations": 60_000, "lookup_events": 180}
    assert (month.lambda_seconds, month.gb_seconds, month.invocations) == (Fraction("1412.4"), Fraction("353.1"), 30)


def test_summary_mode_month_of_a_get_bound_job_rule() -> None:
    # transcribe-resource-tagged, summary mode. Ordinary day: List 11, Get 1,000, LookupEvents 6,
    # Config reads ceil(0.05 x 90,000 / 100) = 45, evaluations 1 + 50 + 50 = 101 (2 puts):
    # 1,064 calls = 42.56 s. Reconciliation day: List 911, Get 1,000 + 90,000 = 91,000:
    # 911 + 91,000 + 6 + 45 + 2 = 91,964 calls = 3,678.56 s -> ceil(3,678.56 / 900) = 5 invocations.
    p = profile("transcribe-resource-tagged")
    ordinary = cost.ours_day(p, INPUTS, "summary", reconciliation=False)
    assert (ordinary.transcribe_list, ordinary.transcribe_get, ordinary.config_reads, ordinary.evaluations) == (
        11, 1_000, 45, 101)
    assert cost.run_seconds(ordinary, INPUTS) == Fraction("42.56")
    recon = cost.ours_day(p, INPUTS, "summary", reconciliation=True)
    assert (recon.transcribe_list, recon.transcribe_get) == (911, 91_000)
    assert cost.run_seconds(recon, INPUTS) == Fraction("3678.56")
    # Month: Gets 26 x 1,000 + 4 x 91,000 = 390,000; evaluations 30 x 101 = 3,030;
    # invocations 26 + 4 x 5 = 46.
    month = cost.rule_month(p, INPUTS, "summary")
    assert (month.counters["transcribe_get"], month.counters["evaluations"], month.invocations) == (
        390_000, 3_030, 46)


def test_resource_mode_never_gets_on_reconciliation_and_tag_events_add_lookups() -> None:
    # E = 120 events a day: LookupEvents ceil(120/50) + 6 = 9; Gets 1,000 + 120 for a Get-bound rule;
    # evaluations 2,000 + 120.
    inputs = cost.validate(1000, 90, "0.05", 7, 120)
    p = profile("transcribe-job-output-encrypted", inputs)
    recon = cost.ours_day(p, inputs, "resource", reconciliation=True)
    assert (recon.lookup_events, recon.transcribe_get, recon.evaluations) == (9, 1_120, 2_120)


def test_the_role_rule_reads_every_job_but_posts_one_evaluation() -> None:
    # Every day: List 900, Get 90,000, one evaluation; 6 IAM calls (its non-Transcribe actions);
    # 900 + 90,000 + 6 + 1 put = 90,907 calls = 3,636.28 s -> 5 invocations a day.
    p = profile("transcribe-data-access-role")
    for mode in cost.REPORTING_MODES:
        day = cost.ours_day(p, INPUTS, mode, reconciliation=False)
        assert (day.transcribe_list, day.transcribe_get, day.evaluations, day.other_calls) == (900, 90_000, 1, 6)
    month = cost.rule_month(p, INPUTS, "resource")
    assert (month.counters["evaluations"], month.invocations) == (30, 150)


def test_job_output_encrypted_object_evidence_counts_head_objects() -> None:
    # EvidenceSource=object: one HeadObject per job; + 2 bucket reads (GetEncryptionConfiguration,
    # GetBucketPolicy) a run. Naive: 90,000 + 2; ours: 1,000 + 2.
    inputs = cost.validate(1000, evidence_source="object")
    p = profile("transcribe-job-output-encrypted", inputs)
    assert cost.naive_day(p, inputs).s3_calls == 90_002
    assert cost.ours_day(p, inputs, "resource", reconciliation=False).s3_calls == 1_002
    assert cost.s3_cost(1_000_000) == Fraction("0.4")  # $0.0004 per 1,000


def test_an_account_rule_is_the_same_in_every_scenario() -> None:
    p = profile("transcribe-ai-opt-out")
    months = [cost.rule_month(p, INPUTS, s) for s in cost.SCENARIOS]
    assert all(m.counters["evaluations"] == 30 and m.invocations == 30 for m in months)


def test_estimate_totals_are_the_sum_of_the_rules() -> None:
    result = cost.estimate(INPUTS, [cls.METADATA for cls in RULES.values()])
    for scenario in cost.SCENARIOS:
        rules, total = result["scenarios"][scenario]["rules"], result["scenarios"][scenario]["total"]
        for key in ("evaluations", "transcribe_get", "lambda_invocations"):
            assert total[key] == sum(r[key] for r in rules.values()), (scenario, key)
        assert total["config_usd"] == pytest.approx(sum(r["config_usd"] for r in rules.values()), abs=1e-4)
    # Naive: 5 per-job rules x 91,000 x 30 = 13,650,000, + 12 rules x 30 = 13,650,360 evaluations:
    # $100 + $320 + 13,150,360 x $0.0005 = $6,995.18.
    naive = result["scenarios"]["naive"]["total"]
    assert naive["evaluations"] == 13_650_360
    assert naive["config_usd"] == pytest.approx(6_995.18)


# --- prices ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("count", "usd"), [
    (0, "0"),
    (1, "0.001"),
    (100_000, "100"),  # the whole first tier
    (100_001, "100.0008"),  # one into the second
    (500_000, "420"),  # 100 + 400,000 x 0.0008
    (500_001, "420.0005"),  # one into the third
    (2_730_000, "1535"),  # 420 + 2,230,000 x 0.0005
])
def test_config_tiers_across_their_boundaries(count: int, usd: str) -> None:
    assert cost.tiered_cost(count) == Fraction(usd)


def test_lambda_cost() -> None:
    # 30 requests x $0.0000002 + 6,750 GB-s x $0.00001667 = $0.000006 + $0.1125225.
    assert cost.lambda_cost(30, Fraction(6_750)) == Fraction("0.1125285")


def test_prices_name_their_sources_and_date() -> None:
    assert cost.PRICES["read_on"] == "2026-11-26"
    assert all("https://" in source for source in cost.PRICES["config_evaluation_tiers"]["sources"])
    assert all("https://" in source for source in cost.PRICES["lambda"]["sources"])


# --- CLI ---------------------------------------------------------------------------------------

def test_cli_table_has_a_row_per_rule_a_total_and_ratios() -> None:
    code, out, err = run(["cost", "--jobs-per-day", "1000"])
    assert (code, err) == (cli.EXIT_OK, "")
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("RULE"))
    assert header.split() == ["RULE", "($/month)", "naive", "ours-resource", "ours-summary", "naive/resource",
                              "naive/summary"]
    for name in RULES:
        assert any(line.startswith(name + " ") for line in lines), name
    assert any(line.startswith("TOTAL ") for line in lines)
    assert "Config evaluations" in out and "13,650,360" in out
    assert "cannot finish in one Lambda invocation" in out
    assert "Free of charge" in out and "LookupEvents" in out


def test_cli_json_has_every_figure() -> None:
    code, out, _ = run(["cost", "--jobs-per-day", "1000", "--rules",
                        "transcribe-job-pii-redaction,transcribe-resource-tagged", "--reporting-mode", "summary",
                        "--format", "json"])
    assert code == cli.EXIT_OK
    result = json.loads(out)
    assert list(result["scenarios"]) == ["naive", "summary"]
    assert result["inputs"]["retained_jobs"] == 90_000
    tagged = result["scenarios"]["summary"]["rules"]["transcribe-resource-tagged"]
    assert (tagged["transcribe_get"], tagged["evaluations"], tagged["lambda_invocations"]) == (390_000, 3_030, 46)
    for key in ("evaluations", "transcribe_list", "transcribe_get", "transcribe_list_tags", "lookup_events",
                "lambda_invocations", "lambda_gb_seconds", "config_usd", "lambda_usd", "total_usd"):
        assert key in result["scenarios"]["naive"]["total"]
    assert result["prices"]["read_on"] == "2026-11-26"


@pytest.mark.parametrize(("argv", "message"), [
    (["--jobs-per-day", "0"], "--jobs-per-day 0: expected a positive integer."),
    (["--jobs-per-day", "ten"], "--jobs-per-day ten: expected a whole number."),
    (["--jobs-per-day", "10", "--retention-days", "-1"], "--retention-days -1: expected a positive integer."),
    (["--jobs-per-day", "10", "--noncompliant-rate", "1.5"], "--noncompliant-rate 1.5: expected a rate from 0 to 1."),
    (["--jobs-per-day", "10", "--noncompliant-rate", "x"], "--noncompliant-rate x: expected a number."),
    (["--jobs-per-day", "10", "--reconciliation-days", "31"], "--reconciliation-days 31: expected from 1 to 30."),
    (["--jobs-per-day", "10", "--rules", "transcribe-job-pii-redction"],
     "--rules: unknown rule 'transcribe-job-pii-redction'; did you mean transcribe-job-pii-redaction?"),
    (["--jobs-per-day", "10", "--rules", "transcribe-job-pii-redaction,"], "--rules transcribe-job-pii-redaction,: "
                                                                          "empty rule name."),
    (["--jobs-per-day", "10", "--reporting-mode", "daily"], "argument --reporting-mode: invalid choice"),
    ([], "the following arguments are required: --jobs-per-day"),
])
def test_cli_bad_input_is_one_line_and_exit_2(argv: list[str], message: str) -> None:
    code, out, err = run(["cost", *argv])
    assert code == cli.EXIT_USAGE
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("transcribe-guard: ")
    assert message in err
