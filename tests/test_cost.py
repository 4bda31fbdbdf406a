"""The cost model (transcribe_guard/cost.py) and `transcribe-guard cost`: formulas on small cases
computed by hand in the comments, the Config price tiers across their boundaries, CLI output and
errors, and that every rule of the registry has a cost profile that agrees with how its code runs."""

from __future__ import annotations

import io
import json
from fractions import Fraction

import pytest

from rules.catalog.registry import RULES
from transcribe_guard import cli, cost

# J=1000 jobs a day kept R=90 days: N = 90,000 retained; P = 100; D = 7 (r = 4 reconcile runs in
# 30 days, 26 ordinary); f = 0.05; no tag changes or deletions; C = 10 customizations; 40 ms a
# call; 256 MB. Every figure below is worked out by hand in the comments.
INPUTS = cost.validate(1000, 90, "0.05", 7, 0, 40, 256)

# Each registry rule and how the model must treat it. A new rule makes
# test_every_registry_rule_has_a_reviewed_profile fail until it is added here, after checking that
# the profile derived from its METADATA matches what its code does.
EXPECTED_KINDS = {
    "transcribe-job-output-location": ("job", False),  # summary-answered without AllowedOutputBuckets
    "transcribe-job-pii-redaction": ("job", False),  # standard jobs from the List summary
    "transcribe-resource-tagged": ("job", True),  # tags from the Get
    "transcribe-job-output-encrypted": ("job", True),
    "transcribe-customization-encrypted": ("customization", False),  # every customization, every run
    "transcribe-data-access-role": ("role", True),  # the jobs since the last run, one evaluation per role
    "transcribe-bucket-encrypted": ("discovery", True),  # the jobs since the last run, to find the buckets
    "transcribe-bucket-tls-enforced": ("discovery", True),
    "transcribe-bucket-public-access-blocked": ("discovery", True),
    "transcribe-kms-key-protected": ("discovery", True),
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


def counts(day: cost.DayUsage, *names: str) -> tuple[int, ...]:
    return tuple(getattr(day, name) for name in names)


# --- profiles ----------------------------------------------------------------------------------

def test_every_registry_rule_has_a_reviewed_profile() -> None:
    assert set(RULES) == set(EXPECTED_KINDS), "add the new rule to EXPECTED_KINDS after checking its cost profile"
    for name, (kind, get_per_job) in EXPECTED_KINDS.items():
        found = profile(name)
        assert (found.kind, found.get_per_job) == (kind, get_per_job), name


def test_profiles_follow_how_the_code_runs() -> None:
    # The model reads METADATA; the code decides by class: checked to agree for every rule.
    from rules.engine.incremental import ResourceRule

    for name, rule in RULES.items():
        found = profile(name)
        assert (found.kind in ("job", "customization")) == issubclass(rule, ResourceRule), name
        assert found.tag_dependent == bool(getattr(rule, "TAG_DEPENDENT", False)), name
        # ResourceRules resume (rules/engine/incremental.py), the rules reading job references too
        # (rules/inventory/job_references.py); account rules finish in one invocation.
        assert found.resumes == (found.kind != "account"), name
        # The pack runs the rules that list standard jobs every JobRulesFrequency (generate.py).
        assert found.follows_frequency == (cost.LIST_JOBS in rule.METADATA["iam_actions"]), name
    tagged = profile("transcribe-resource-tagged")
    assert (tagged.job_kinds, tagged.customization_kinds, len(tagged.lookup_event_names)) == (4, 5, 11)
    assert profile("transcribe-job-pii-redaction").lookup_event_names == (
        "DeleteCallAnalyticsJob", "DeleteMedicalScribeJob", "DeleteMedicalTranscriptionJob", "DeleteTranscriptionJob")
    role = profile("transcribe-data-access-role")
    assert (role.job_kinds, role.customization_kinds, role.lookup_event_names) == (3, 3, ())


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
    # Per day: List ceil(90,000/100) = 900 pages + 1 for each of the 3 other job kinds = 903;
    # 90,000 Gets, 90,000 ListTagsForResource, 90,000 + 1,000 = 91,000 evaluations (910 puts).
    # Calls 903 + 90,000 + 90,000 + 910 = 181,813 x 40 ms = 7,272.52 s > 900 s: cut off, billed 900 s.
    p = profile("transcribe-job-pii-redaction")
    day = cost.naive_day(p, INPUTS)
    assert counts(day, "transcribe_list", "transcribe_get", "transcribe_list_tags", "evaluations") == (
        903, 90_000, 90_000, 91_000)
    assert cost.run_seconds(day, INPUTS) == Fraction("7272.52")
    month = cost.rule_month(p, INPUTS, "naive")
    # 30 days: 2,730,000 evaluations, 30 invocations, 30 x 900 = 27,000 s, x 0.25 GB = 6,750 GB-s.
    assert month.counters["evaluations"] == 2_730_000
    assert (month.invocations, month.lambda_seconds, month.gb_seconds, month.runs_cut_off) == (30, 27_000, 6_750, 30)


def test_resource_mode_month_of_a_summary_answered_job_rule() -> None:
    # Paced runs: List pages at 4.75/s, other calls 40 ms each, one after another.
    # Ordinary day: List ceil(1,000/100) + 1 = 11 standard + 3 other kinds = 14 pages = 14/4.75 s;
    # no Get; LookupEvents 4 (one per Delete*Job name); SSM 2; 1,000 evaluations (10 puts):
    # 14/4.75 + 16 x 0.04 = 2.947 + 0.64 = 1,704/475 s.
    # Reconcile day: List 900 + 3 = 903 pages; Config reads (COMPLIANT and NON_COMPLIANT only) of
    # 90,000 retained + 30 x 1,000 / 4 = 7,500 expired since the last reconcile = 975 pages;
    # evaluations 1,000 new + 7,500 expired = 8,500 (85 puts): 903/4.75 + (4 + 975 + 2 + 85) x 0.04
    # = 190.105 + 42.64 = 110,554/475 s.
    p = profile("transcribe-job-pii-redaction")
    ordinary = cost.ours_day(p, INPUTS, "resource", reconciliation=False)
    assert counts(ordinary, "transcribe_list", "transcribe_get", "lookup_events", "config_reads", "ssm_calls",
                  "evaluations") == (14, 0, 4, 0, 2, 1_000)
    assert cost.run_seconds(ordinary, INPUTS) == Fraction(1_704, 475)
    recon = cost.ours_day(p, INPUTS, "resource", reconciliation=True)
    assert counts(recon, "transcribe_list", "config_reads", "evaluations") == (903, 975, 8_500)
    assert cost.run_seconds(recon, INPUTS) == Fraction(110_554, 475)
    # Month (26 ordinary + 4 reconcile): List 26 x 14 + 4 x 903 = 3,976; Config reads 3,900;
    # evaluations 26,000 + 34,000 = 60,000; LookupEvents 120; SSM 60; seconds
    # (26 x 1,704 + 4 x 110,554) / 475 = 486,520/475 = 1,024.25; one invocation a day.
    month = cost.rule_month(p, INPUTS, "resource")
    assert {k: month.counters[k] for k in ("transcribe_list", "config_reads", "evaluations", "lookup_events",
                                           "ssm_calls")} == {
        "transcribe_list": 3_976, "config_reads": 3_900, "evaluations": 60_000, "lookup_events": 120, "ssm_calls": 60}
    assert (month.lambda_seconds, month.invocations) == (Fraction(486_520, 475), 30)
    assert month.gb_seconds == month.lambda_seconds / 4
    assert (month.runs_spanning_invocations, month.keeps_up) == (0, True)


def test_summary_mode_month_of_a_get_bound_job_rule() -> None:
    # transcribe-resource-tagged, summary mode. Ordinary day: List 11 + 3 + 5 customization kinds = 19
    # pages = 4 s; Get 1,000 + 10 customizations = 1,010 at 28.5/s (4 in flight, paced at 95% of
    # 30/s); LookupEvents 11 (TagResource, UntagResource, 9 Delete*); Config reads
    # ceil(0.05 x (90,000 + 10) / 100) = 46; evaluations 1 summary + 0.05 x (1,000 new + 1,000
    # expired + 10 customizations) = 101.5 (2 puts); SSM 2:
    # 4 + 1,010/28.5 + (11 + 46 + 2 + 2) x 0.04 = 4 + 35.439 + 2.44 = 59,677/1,425 s.
    # Reconcile day: List 900 + 3 + 5 = 908, Get 90,000 + 10 = 90,010:
    # 908/4.75 + 90,010/28.5 + 2.44 = 3,351.84 s: more than 870 s, so it spans invocations.
    p = profile("transcribe-resource-tagged")
    ordinary = cost.ours_day(p, INPUTS, "summary", reconciliation=False)
    assert counts(ordinary, "transcribe_list", "transcribe_get", "lookup_events", "config_reads", "evaluations") == (
        19, 1_010, 11, 46, Fraction(203, 2))
    assert cost.run_seconds(ordinary, INPUTS) == Fraction(59_677, 1_425)
    recon = cost.ours_day(p, INPUTS, "summary", reconciliation=True)
    assert counts(recon, "transcribe_list", "transcribe_get") == (908, 90_010)
    assert cost.run_seconds(recon, INPUTS) == Fraction(4_776_377, 1_425)
    # Month: Gets 26 x 1,010 + 4 x 90,010 = 386,300; evaluations 30 x 101.5 = 3,045; one invocation
    # a day; work (26 x 59,677 + 4 x 4,776,377) / 1,425 = 14,496.1 s <= 30 x 870: it keeps up.
    month = cost.rule_month(p, INPUTS, "summary")
    assert (month.counters["transcribe_get"], month.counters["evaluations"], month.invocations) == (386_300, 3_045, 30)
    assert (month.runs_spanning_invocations, month.keeps_up, month.lambda_seconds) == (
        4, True, Fraction(4_131_422, 285))


def test_hourly_runs_split_the_day_and_pay_their_fixed_calls_every_invocation() -> None:
    # --frequency 1: 720 invocations, W = 1,000/24 jobs a run. resource-tagged, summary, ordinary
    # run: List ceil(41.7/100) + 1 = 2 + 3 + 5 = 10 pages; Get 125/3 + 10 = 155/3; evaluations
    # 1 + 0.05 x (2 x 125/3 + 10) = 17/3 (1 put); fixed every run: LookupEvents 11, Config reads 46,
    # SSM 2: 10/4.75 + (155/3)/28.5 + (11 + 46 + 2 + 1) x 0.04 = 2.105 + 1.813 + 2.4 = 5,402/855 s.
    inputs = cost.validate(1000, frequency_hours=1)
    p = profile("transcribe-resource-tagged", inputs)
    run_ = cost.ours_day(p, inputs, "summary", reconciliation=False)
    assert counts(run_, "transcribe_list", "transcribe_get", "evaluations") == (10, Fraction(155, 3), Fraction(17, 3))
    assert cost.run_seconds(run_, inputs) == Fraction(5_402, 855)
    month = cost.rule_month(p, inputs, "summary")
    # 716 ordinary + 4 reconcile runs: SSM 2 x 720, LookupEvents 11 x 720, Config reads 46 x 720.
    assert month.invocations == 720
    assert {k: month.counters[k] for k in ("ssm_calls", "lookup_events", "config_reads")} == {
        "ssm_calls": 1_440, "lookup_events": 7_920, "config_reads": 33_120}
    # The customization rule reads no jobs: still daily.
    assert cost.rule_month(profile("transcribe-customization-encrypted", inputs), inputs, "resource").invocations == 30
    assert cost.validate(1000, frequency_hours="3").frequency_hours == 3


def test_a_rule_falls_behind_daily_and_keeps_up_hourly() -> None:
    # J = 100,000, pii-redaction, resource mode, daily. Ordinary: List 1,001 + 3 = 1,004 pages,
    # LookupEvents 4, SSM 2, 100,000 evaluations (1,000 puts): 1,004/4.75 + 1,006 x 0.04 = 251.61 s.
    # Reconcile: List 90,000 + 3 pages; Config reads (9,000,000 + 750,000)/100 = 97,500;
    # 100,000 + 750,000 evaluations (8,500 puts): 90,003/4.75 + 106,006 x 0.04 = 23,188.24 s.
    # Work 26 x 251.61 + 4 x 23,188.24 = 99,294.78 s > 30 x 870 = 26,100: behind; billed 30 x 900.
    inputs = cost.validate(100_000)
    p = profile("transcribe-job-pii-redaction", inputs)
    month = cost.rule_month(p, inputs, "resource")
    assert (month.work_seconds, month.lambda_seconds, month.keeps_up, month.invocations) == (
        Fraction(9_433_004, 95), 27_000, False, 30)
    # Hourly: ordinary runs List 43 + 3 = 46 pages, 42 puts: 46/4.75 + 48 x 0.04 = 11.60 s; reconcile
    # 90,003/4.75 + (4 + 97,500 + 2 + 7,542) x 0.04 = 23,149.92 s; 716 x 11.60 + 4 x 23,149.92
    # = 100,908.29 s <= 720 x 870 = 626,400: it keeps up, the reconcile runs spanning invocations.
    hourly = cost.validate(100_000, frequency_hours=1)
    month = cost.rule_month(p, hourly, "resource")
    assert (month.invocations, month.keeps_up, month.runs_spanning_invocations) == (720, True, 4)
    assert float(month.work_seconds) == pytest.approx(100_908.29, abs=0.01)
    assert cost.keeps_up_at(p, inputs, "resource") == 6


def test_tag_changes_and_deletions_add_lookups_reads_and_evaluations() -> None:
    # T = 120 tag changes, X = 60 deletions a day. output-encrypted (not tag-dependent), reconcile day:
    # LookupEvents ceil(60/50) = 2 for DeleteTranscriptionJob + 3 other names = 5; Gets 1,000;
    # evaluations 1,000 + 60 deleted + 7,500 expired = 8,560.
    inputs = cost.validate(1000, 90, "0.05", 7, 120, deletions_per_day=60)
    recon = cost.ours_day(profile("transcribe-job-output-encrypted", inputs), inputs, "resource", reconciliation=True)
    assert counts(recon, "lookup_events", "transcribe_get", "evaluations") == (5, 1_000, 8_560)
    # resource-tagged, ordinary day: LookupEvents TagResource ceil(120/50) = 3 + UntagResource 1 +
    # DeleteTranscriptionJob 2 + 8 other Delete* = 14; Gets 1,000 + 120 re-read + 10 customizations;
    # evaluations 1,000 + 60 + 120 + 10 = 1,190. Summary: 1 + 0.05 x (1,000 + 1,000 + 60 + 120 + 10) = 110.5.
    tagged = profile("transcribe-resource-tagged", inputs)
    day = cost.ours_day(tagged, inputs, "resource", reconciliation=False)
    assert counts(day, "lookup_events", "transcribe_get", "evaluations") == (14, 1_130, 1_190)
    assert cost.ours_day(tagged, inputs, "summary", reconciliation=False).evaluations == Fraction(221, 2)


def test_the_role_rule_reads_the_new_jobs_and_posts_one_evaluation() -> None:
    # Every day, either mode: List 11 + 2 other job kinds + 3 customization kinds = 16 pages; Get
    # 1,000 + 10; one evaluation; 7 IAM calls (ListRoles included); SSM 2:
    # 16/4.75 + 1,010/28.5 + (7 + 2 + 1 put) x 0.04 = 3.368 + 35.439 + 0.4 = 55,870/1,425 s.
    p = profile("transcribe-data-access-role")
    for mode in cost.REPORTING_MODES:
        for reconciliation in (False, True):
            day = cost.ours_day(p, INPUTS, mode, reconciliation)
            assert counts(day, "transcribe_list", "transcribe_get", "evaluations", "other_calls", "ssm_calls") == (
                16, 1_010, 1, 7, 2)
            assert cost.run_seconds(day, INPUTS) == Fraction(55_870, 1_425)
    month = cost.rule_month(p, INPUTS, "resource")
    assert (month.counters["evaluations"], month.counters["transcribe_get"], month.invocations) == (30, 30_300, 30)
    # Naive (unpaced): List 900 + 2 + 3 = 905, Get 90,010: 905 + 90,010 + 7 + 1 = 90,923 calls = 3,636.92 s.
    assert cost.run_seconds(cost.naive_day(p, INPUTS), INPUTS) == Fraction("3636.92")
    assert cost.rule_month(p, INPUTS, "naive").counters["evaluations"] == 30
    # First run over 90,000 jobs, resuming: a page of 100 jobs takes 1/4.75 + 100/28.5 = 3.719 s;
    # fixed 10 calls x 0.04 + 5 other pages / 4.75 + 10 Gets / 28.5 = 1.80 s; a resumed invocation
    # fetches the page it stopped on again (1/4.75 s). (870 - 1.80) / 3.719 = 233 pages (23,300
    # jobs); then (870 - 1.80 - 0.21) / 3.719 = 233 each: 46,600, 69,900, 93,200: the 4th ends.
    assert cost.first_run_invocations(p, INPUTS) == (4, 90_000)


def test_bucket_rules_keep_up_hourly_and_their_first_run_resumes_page_by_page() -> None:
    # J = 100,000 daily: List 1,001 + 3 + 1 (language models) = 1,005 pages, Get 100,010, 1 S3 + 1 KMS
    # call, SSM 2, 1 put: 1,005/4.75 + 100,010/28.5 + 5 x 0.04 = 3,720.90 s a day; 30 x that
    # = 111,627 s > 26,100: behind. Hourly: List 43 + 3 + 1 = 47, Get 12,500/3 + 10:
    # 47/4.75 + 4,176.67/28.5 + 0.2 = 156.64 s; x 720 = 112,784 s <= 626,400: keeps up.
    inputs = cost.validate(100_000)
    p = profile("transcribe-bucket-encrypted", inputs)
    assert cost.run_seconds(cost.ours_day(p, inputs, "resource", reconciliation=False), inputs) == Fraction(
        1_060_457, 285)
    month = cost.rule_month(p, inputs, "resource")
    assert (month.runs_cut_off, month.lambda_seconds, month.keeps_up) == (0, 27_000, False)
    hourly = cost.validate(100_000, frequency_hours=1)
    month = cost.rule_month(p, hourly, "resource")
    assert (month.work_seconds, month.keeps_up) == (112_784, True)
    # First run over 9,000,000 jobs: 233 pages (23,300 jobs) an invocation, the first included:
    # ceil(9,000,000 / 23,300) = 387 invocations.
    invocations, read = cost.first_run_invocations(p, inputs)
    assert (invocations, read) == (387, 9_000_000)


def test_the_customization_rule_reads_and_posts_every_customization() -> None:
    # List 4 kinds, Get 10, LookupEvents 4 (its Delete* names), SSM 2, 1 KMS call; resource: 10
    # evaluations, Config reads 1 page on reconcile days only; summary: 1 + 0.05 x 10 = 1.5, 1 page a run.
    p = profile("transcribe-customization-encrypted")
    day = cost.ours_day(p, INPUTS, "resource", reconciliation=False)
    assert counts(day, "transcribe_list", "transcribe_get", "lookup_events", "config_reads", "evaluations") == (
        4, 10, 4, 0, 10)
    assert cost.ours_day(p, INPUTS, "resource", reconciliation=True).config_reads == 1
    summary = cost.ours_day(p, INPUTS, "summary", reconciliation=False)
    assert (summary.evaluations, summary.config_reads) == (Fraction(3, 2), 1)


def test_job_output_encrypted_object_evidence_counts_head_objects() -> None:
    # EvidenceSource=object: one HeadObject per job; + 2 bucket reads (GetEncryptionConfiguration,
    # GetBucketPolicy) a run. Naive: 90,000 + 2; ours: 1,000 + 2; summary reconcile: 90,000 + 2.
    inputs = cost.validate(1000, evidence_source="object")
    p = profile("transcribe-job-output-encrypted", inputs)
    assert cost.naive_day(p, inputs).s3_calls == 90_002
    assert cost.ours_day(p, inputs, "resource", reconciliation=False).s3_calls == 1_002
    assert cost.ours_day(p, inputs, "summary", reconciliation=True).s3_calls == 90_002
    assert cost.s3_cost(1_000_000) == Fraction("0.4")  # $0.0004 per 1,000


def test_an_account_rule_is_the_same_in_every_scenario() -> None:
    p = profile("transcribe-ai-opt-out")
    months = [cost.rule_month(p, INPUTS, s) for s in cost.SCENARIOS]
    assert all(m.counters["evaluations"] == 30 and m.invocations == 30 and m.counters["ssm_calls"] == 0
               for m in months)


def test_estimate_totals_are_the_sum_of_the_rules() -> None:
    result = cost.estimate(INPUTS, [cls.METADATA for cls in RULES.values()])
    for scenario in cost.SCENARIOS:
        rules, total = result["scenarios"][scenario]["rules"], result["scenarios"][scenario]["total"]
        for key in ("evaluations", "transcribe_get", "lambda_invocations"):
            assert total[key] == sum(r[key] for r in rules.values()), (scenario, key)
        assert total["config_usd"] == pytest.approx(sum(r["config_usd"] for r in rules.values()), abs=1e-4)
    # Naive: 4 job rules x 91,000 x 30 = 10,920,000, + resource-tagged's 10 customizations x 30 = 300,
    # + customization-encrypted 300, + 5 role/bucket/key rules x 30 = 150, + 7 account rules x 30 = 210
    # = 10,920,960 evaluations: $100 + $320 + 10,420,960 x $0.0005 = $5,630.48.
    naive = result["scenarios"]["naive"]["total"]
    assert naive["evaluations"] == 10_920_960
    assert naive["config_usd"] == pytest.approx(5_630.48)
    # Resource: 4 x 60,000 + 300 + 300 + 150 + 210 = 240,960. Summary: 3 x 30 x (1 + 0.05 x 2,000)
    # (output-location, pii-redaction, output-encrypted) + 3,045 (resource-tagged) + 30 x 1.5
    # (customization-encrypted) + 150 + 210 = 12,540.
    assert result["scenarios"]["resource"]["total"]["evaluations"] == 240_960
    assert result["scenarios"]["summary"]["total"]["evaluations"] == 12_540
    # Gets, resource: resource-tagged 30,300 + output-encrypted 30,000 + customization-encrypted 300
    # + 5 x 30,300 (role, bucket, key rules) = 212,100.
    assert result["scenarios"]["resource"]["total"]["transcribe_get"] == 212_100
    assert result["first_run"]["transcribe-data-access-role"] == {
        "work_seconds": pytest.approx(3349.17, abs=0.01), "invocations": 4, "completes": True,
        "jobs_read": 90_000}


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


@pytest.mark.parametrize(("count", "existing", "usd"), [
    (1, 0, "0.001"),
    (1, 100_000, "0.0008"),  # the payer's other evaluations filled the first tier
    (100_000, 50_000, "90"),  # 50,000 x 0.001 + 50,000 x 0.0008
    (10, 10_000_000, "0.005"),  # deep in the third tier
])
def test_config_tiers_start_where_existing_evaluations_leave_them(count: int, existing: int, usd: str) -> None:
    assert cost.marginal_tiered_cost(count, existing) == Fraction(usd)


def test_existing_evaluations_lower_the_estimate_and_default_to_the_worst_case() -> None:
    metadata = [RULES[name].METADATA for name in RULES]
    alone = cost.estimate(cost.validate(10_000), metadata)
    shared = cost.estimate(cost.validate(10_000, existing_evaluations=5_000_000), metadata)
    assert cost.validate(10_000).existing_evaluations == 0
    assert shared["inputs"]["existing_evaluations"] == 5_000_000
    for scenario in ("naive", "resource", "summary"):
        assert shared["scenarios"][scenario]["total"]["evaluations"] == alone["scenarios"][scenario]["total"]["evaluations"]
        assert shared["scenarios"][scenario]["total"]["config_usd"] < alone["scenarios"][scenario]["total"]["config_usd"]
    with pytest.raises(cost.CostInputError, match="--existing-evaluations"):
        cost.validate(10_000, existing_evaluations="-1")


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
    assert "Config evaluations" in out and "10,920,960" in out
    assert "cannot finish in one Lambda invocation" in out
    assert "~ a run needs more than one invocation" in out
    assert "First run: transcribe-data-access-role reads all 90,000 retained jobs over 4 invocations" in out
    assert "fall further behind" not in out
    assert "Free of charge" in out and "LookupEvents" in out and "SSM" in out


def test_cli_json_has_every_figure() -> None:
    code, out, _ = run(["cost", "--jobs-per-day", "1000", "--rules",
                        "transcribe-job-pii-redaction,transcribe-resource-tagged", "--reporting-mode", "summary",
                        "--format", "json"])
    assert code == cli.EXIT_OK
    result = json.loads(out)
    assert list(result["scenarios"]) == ["naive", "summary"]
    assert result["inputs"]["retained_jobs"] == 90_000
    tagged = result["scenarios"]["summary"]["rules"]["transcribe-resource-tagged"]
    assert (tagged["transcribe_get"], tagged["evaluations"], tagged["lambda_invocations"]) == (386_300, 3_045, 30)
    assert (tagged["runs_spanning_invocations"], tagged["keeps_up"]) == (4, True)
    assert result["inputs"]["frequency_hours"] == 24
    for key in ("evaluations", "transcribe_list", "transcribe_get", "transcribe_list_tags", "lookup_events",
                "ssm_calls", "lambda_invocations", "lambda_gb_seconds", "config_usd", "lambda_usd", "total_usd"):
        assert key in result["scenarios"]["naive"]["total"]
    assert result["prices"]["read_on"] == "2026-11-26"


def test_cli_frequency_lets_a_large_account_keep_up() -> None:
    argv = ["cost", "--jobs-per-day", "100000", "--rules", "transcribe-job-pii-redaction", "--reporting-mode",
            "resource"]
    _, daily, _ = run(argv)
    assert "transcribe-job-pii-redaction: the month's runs need more than 30 invocations" in daily
    assert "--frequency 6" in daily
    _, hourly, _ = run([*argv, "--frequency", "1"])
    assert "720 invocations a month" in hourly and "fall further behind" not in hourly


@pytest.mark.parametrize(("argv", "message"), [
    (["--jobs-per-day", "10", "--frequency", "2"], "--frequency 2: expected hours between runs, one of 1, 3, 6, 12, 24."),
    (["--jobs-per-day", "0"], "--jobs-per-day 0: expected a positive integer."),
    (["--jobs-per-day", "ten"], "--jobs-per-day ten: expected a whole number."),
    (["--jobs-per-day", "10", "--retention-days", "-1"], "--retention-days -1: expected a positive integer."),
    (["--jobs-per-day", "10", "--noncompliant-rate", "1.5"], "--noncompliant-rate 1.5: expected a rate from 0 to 1."),
    (["--jobs-per-day", "10", "--noncompliant-rate", "x"], "--noncompliant-rate x: expected a number."),
    (["--jobs-per-day", "10", "--reconciliation-days", "31"], "--reconciliation-days 31: expected from 1 to 30."),
    (["--jobs-per-day", "10", "--deletions-per-day", "-1"], "--deletions-per-day -1: expected at least 0."),
    (["--jobs-per-day", "10", "--customizations", "x"], "--customizations x: expected a whole number."),
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


# --- event triggers ----------------------------------------------------------------------------------

@pytest.mark.parametrize("jobs", [1_000, 100_000])
def test_event_triggers_add_the_trigger_and_coalesced_runs(jobs: int) -> None:
    inputs = cost.validate(jobs)
    metadata = [cls.METADATA for cls in RULES.values()]
    result = cost.estimate(inputs, metadata)
    block = cost.event_triggers(inputs, metadata, result)
    assert block["trigger_invocations"] == 30 * jobs + 30 * 24 * 60  # one per job's final event, plus the sweeps
    events = 30 * jobs
    assert 0 < block["extra_runs_per_rule"] < events  # coalesced: fewer runs than events
    assert block["extra_runs_per_rule"] <= 30 * 24 * 60  # never more than one a minute
    assert "transcribe-job-output-encrypted" in block["concerned_rules"]
    assert "transcribe-ai-opt-out" not in block["concerned_rules"]
    for mode, figures in block["modes"].items():
        periodic = result["scenarios"][mode]["total"]["total_usd"]
        assert figures["added_usd"] > 0
        assert figures["total_usd"] == pytest.approx(periodic + figures["added_usd"])
        assert figures["extra_rule_invocations"] == block["extra_runs_per_rule"] * len(block["concerned_rules"])


def test_cost_command_event_triggers_flag() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["cost", "--jobs-per-day", "1000", "--event-triggers"], out, err) == 0
    assert "With event triggers (EnableEventTriggers=true): 73,200 trigger invocations" in out.getvalue()
    out = io.StringIO()
    assert cli.main(["cost", "--jobs-per-day", "1000", "--event-triggers", "--format", "json"], out, err) == 0
    assert json.loads(out.getvalue())["event_triggers"]["trigger_invocations"] == 73_200


# --- the ledger (cost --ledger) ------------------------------------------------------------------

RULE_METADATA = [cls.METADATA for cls in RULES.values()]


def test_the_ledger_is_priced_by_the_size_of_its_own_typical_record() -> None:
    # make_record + item_bytes of a completed, redacted standard job with 3 tags: 993 bytes, so one
    # write unit a write; a Query page of 100 is 99,300 bytes = ceil(99,300/4,096) = 25 units, halved
    # (eventually consistent) = 12.5; the arn index holds pk, sk, arn: 167 bytes.
    record = cost.typical_record()
    assert (record.item_bytes, record.index_bytes) == (993, 167)
    assert (record.write_units, record.strong_read_units, record.page_read_units) == (1, 1, Fraction(25, 2))
    from transcribe_guard.templates import LEDGER_SWEEP_SCHEDULE
    assert LEDGER_SWEEP_SCHEDULE == f"rate({cost.LEDGER_SWEEP_HOURS} hour)"


def test_a_rule_reading_the_ledger_queries_pages_and_makes_no_transcribe_call() -> None:
    # pii-redaction, resource mode, J=1,000. Ordinary run: the 14 List pages become 14 Query pages at
    # 40 ms (no 4.75/s pacing); + 4 LookupEvents + 2 SSM + 10 puts = 30 calls = 1.2 s (live 3.587 s).
    # Reconcile: 903 pages + 4 + 975 Config reads + 2 + 85 puts = 1,969 calls = 78.76 s.
    # Month: 26 x 1.2 + 4 x 78.76 = 346.24 s (live 1,024.25 s); the pages are the live List pages.
    p = profile("transcribe-job-pii-redaction")
    day = cost.ours_day(p, INPUTS, "resource", reconciliation=False, ledger=True)
    assert counts(day, "transcribe_list", "transcribe_get", "transcribe_list_tags", "ledger_queries",
                  "lookup_events") == (0, 0, 0, 14, 4)
    assert cost.run_seconds(day, INPUTS) == Fraction("1.2")
    recon = cost.ours_day(p, INPUTS, "resource", reconciliation=True, ledger=True)
    assert (recon.ledger_queries, cost.run_seconds(recon, INPUTS)) == (903, Fraction("78.76"))
    month = cost.rule_month(p, INPUTS, "resource", ledger=True)
    assert month.work_seconds == Fraction("346.24") and month.counters["ledger_queries"] == 3_976
    assert month.counters["evaluations"] == cost.rule_month(p, INPUTS, "resource").counters["evaluations"]
    # resource-tagged, summary: no Gets (1,010 live); 19 pages + 11 LookupEvents + 46 Config reads + 2 SSM
    # + 2 puts = 80 calls = 3.2 s. A tag change is one lookup (arn-index Query + GetItem).
    tagged = profile("transcribe-resource-tagged")
    day = cost.ours_day(tagged, INPUTS, "summary", reconciliation=False, ledger=True)
    assert (day.transcribe_get, day.ledger_queries, cost.run_seconds(day, INPUTS)) == (0, 19, Fraction("3.2"))
    tags = cost.validate(1000, tag_changes_per_day=120)
    assert cost.ours_day(profile("transcribe-resource-tagged", tags), tags, "resource", False, ledger=True
                         ).ledger_lookups == 120


def test_ledger_month_at_1000_jobs_a_day_worked_by_hand() -> None:
    # J=1,000, no tags or deletions, C=10, 40 ms, 256 MB.
    # Records: 1,000 x 97 days + 10 = 97,010; table 97,010 x (993 + 100) = 106,031,930 bytes, index
    # 97,010 x (167 + 100) = 25,901,670: storage 131,933,600 / 10^9 x $0.25 = $0.0329834; PITR (table
    # only) 0.10603193 x $0.20 = $0.0212064.
    # Collector, 30,000 job events: 4 calls (quotas, arn index, Get, PutItem) x 0.04 + 0.05 s = 0.21 s
    # each = 6,300 s; 2 write units each (the item, the new index entry) = 60,000; 0.5 read unit (the
    # index Query) = 15,000. Sweep (hourly, 720): 1,000 x 65/1,440 = 45.1 jobs, ceil(0.451) + 1 = 2
    # pages + 3 other job kinds + 5 customization kinds = 10 List pages at 0.95/s (0.2 x 95% x 5) =
    # 10.526 s, + (1 + 2 BatchGetItem + 8 watermark + 5 Query) x 0.04 + 0.05 = 21,311/1,900 s; then
    # CloudTrail's history: 6 LookupEvents at 0.38/s (0.2 x 95% x 2) = 15.789 s + the history
    # watermark's GetItem and PutItem 0.08 s: 27.0858 s a sweep; 5 write units (watermarks); reads
    # 2 x 100 + 4 + 1 + 5 x 12.5 = 267.5.
    # Month: 30,720 invocations, 6,300 + 720 x 27.0858 = 25,801.768 s = 6,450.442 GB-s:
    # $0.006144 + $0.107529 = $0.113673; writes 60,000 + 3,600 = 63,600; reads 15,000 + 192,600 = 207,600.
    inputs = cost.validate(1000)
    result = cost.estimate(inputs, RULE_METADATA)
    block = cost.ledger_block(inputs, RULE_METADATA, result)
    assert (block["retained_records"], block["storage_usd"], block["pitr_usd"]) == (
        97_010, pytest.approx(0.0329834, abs=1e-6), pytest.approx(0.0212064, abs=1e-6))
    collector = block["collector"]
    assert (collector["invocations"], collector["lambda_seconds"], collector["write_request_units"],
            collector["read_request_units"]) == (30_720, pytest.approx(25_801.768, abs=1e-3), 63_600, 207_600)
    assert collector["lambda_usd"] == pytest.approx(0.113673, abs=1e-6)
    assert collector["transcribe_get"] == 30_000 and collector["kms_requests"] == 8_640  # busy every 5 minutes
    for mode in ("resource", "summary"):
        figures = block["modes"][mode]
        # The rules' Query pages are their live List pages (18,514 a month), 12.5 units each:
        # reads 207,600 + 231,425 = 439,025; $ = 63,600 x 0.625e-6 + 439,025 x 0.125e-6 = $0.094628.
        assert figures["rule_query_pages"] == result["scenarios"][mode]["total"]["transcribe_list"] == 18_514
        assert figures["read_request_units"] == 439_025
        assert figures["dynamodb_requests_usd"] == pytest.approx(0.094628, abs=1e-6)
        assert figures["transcribe_get_ledger"] == 30_000 < figures["transcribe_get_live"]
        assert figures["rules_lambda_usd_ledger"] < figures["rules_lambda_usd_live"]
        added = (figures["dynamodb_requests_usd"] + block["storage_usd"] + block["pitr_usd"] + figures["kms_usd"]
                 + collector["lambda_usd"] - figures["rules_lambda_saved_usd"])
        assert figures["added_usd"] == pytest.approx(added, abs=1e-5)
        assert figures["total_usd"] == pytest.approx(result["scenarios"][mode]["total"]["total_usd"] + added, abs=1e-5)


def test_ledger_month_at_100000_jobs_a_day_worked_by_hand() -> None:
    # Records 9,700,010: table x 1,093 = 10,602,110,930 bytes, index x 267 = 2,589,902,670: storage
    # $3.2980034, PITR 10.6021109 x 0.20 = $2.1204222. Collector: 3,000,000 job events x 0.21 s =
    # 630,000 s, 6,000,000 write units, 1,500,000 read units. Sweep: 100,000 x 65/1,440 = 4,513.9 jobs,
    # ceil(45.14) + 1 = 47 pages + 8 = 55 List pages / 0.95 = 57.895 s + (1 + 47 + 8 + 5) x 0.04 + 0.05
    # = 60.385 s, + the history 15.869 s (as at 1,000 a day) = 76.2545 s; reads 47 x 100 + 4 + 1 +
    # 62.5 = 4,767.5. Month: 3,000,720 invocations, 630,000 + 720 x 76.2545 = 684,903.03 s (busy 26.4%
    # of the month), 171,225.76 GB-s: $0.600144 + $2.854333 = $3.454477; writes 6,003,600 ($3.75225);
    # reads 1,500,000 + 3,432,600 = 4,932,600 + the rules' 1,695,574 pages x 12.5 = 26,127,275
    # ($3.265909): DynamoDB requests $7.018159.
    inputs = cost.validate(100_000)
    result = cost.estimate(inputs, RULE_METADATA)
    block = cost.ledger_block(inputs, RULE_METADATA, result)
    assert (block["storage_usd"], block["pitr_usd"]) == (pytest.approx(3.2980034, abs=1e-6),
                                                         pytest.approx(2.1204222, abs=1e-6))
    collector = block["collector"]
    assert (collector["invocations"], collector["write_request_units"], collector["read_request_units"]) == (
        3_000_720, 6_003_600, 4_932_600)
    assert collector["lambda_seconds"] == pytest.approx(684_903.032, abs=1e-3)
    assert collector["lambda_usd"] == pytest.approx(3.454477, abs=1e-6)
    assert collector["busy_share"] == pytest.approx(0.2642, abs=1e-4)
    for mode in ("resource", "summary"):
        figures = block["modes"][mode]
        assert figures["rule_query_pages"] == result["scenarios"][mode]["total"]["transcribe_list"] == 1_695_574
        assert figures["read_request_units"] == 26_127_275
        assert figures["dynamodb_requests_usd"] == pytest.approx(7.018159, abs=1e-6)
        assert figures["transcribe_get_ledger"] == 3_000_000
    # The rules' Gets are gone: live, summary mode Gets 92,202,100 a month; the ledger's collector 3,000,000.
    assert block["modes"]["summary"]["transcribe_get_live"] == 92_202_100


def test_ledger_tag_changes_and_deletions_reach_the_collector() -> None:
    # T=120, X=60 a day: 3,600 tag events (4 calls, 1 write unit: UpdateItem, 0.5 read unit: the arn
    # index) and 1,800 deletions (6 calls: the record by its arn, the Get confirming it is gone, the
    # arn index again and DeleteItem; 2 write units: the item and its index entry; 0.5 + 1 strongly
    # consistent GetItem + 0.5 read units). The sweeps meet each again in CloudTrail's history: a tag
    # change re-read (1 write, 0.5 read), a deletion already retired (0.5 read).
    # Writes 60,000 + 3,600 + 3,600 + 720 x 5 + 3,600 = 74,400; invocations 30,000 + 3,600 + 1,800 + 720;
    # Gets 30,000 jobs + 1,800 confirming deletions.
    inputs = cost.validate(1000, tag_changes_per_day=120, deletions_per_day=60)
    collector = cost.collector_month(inputs, cost.typical_record())
    assert (collector["invocations"], collector["write_units"]) == (36_120, 74_400)
    assert collector["read_units"] == 15_000 + 1_800 + 3_600 + 720 * 267.5 + 2_700
    assert collector["transcribe_get"] == 31_800 and collector["lookup_events"] == 720 * 6


def test_cli_ledger_flag_adds_the_ledger_block() -> None:
    code, out, err = run(["cost", "--jobs-per-day", "1000", "--ledger"])
    assert (code, err) == (cli.EXIT_OK, "")
    assert "With the ledger (TranscribeLedger=enabled): 97,010 records of 993 bytes" in out
    assert "30,000 Transcribe Gets (one per job and per deletion, the only ones)" in out
    assert "Not verified in a stored AWS pricing page" in out
    line = next(line for line in out.splitlines() if line.startswith("resource ") and "213.06" in line)
    assert line.split()[1] == "212.82"  # the periodic total it adds to
    code, out, _ = run(["cost", "--jobs-per-day", "1000", "--ledger", "--format", "json"])
    ledger = json.loads(out)["ledger"]
    assert ledger["collector"]["transcribe_get"] == 30_000
    assert all("https://" in source for source in ledger["prices"]["dynamodb"]["sources"])
    assert ledger["prices"]["kms"]["unverified"] and ledger["prices"]["eventbridge"]["unverified"]
    _, plain, _ = run(["cost", "--jobs-per-day", "1000"])
    assert "With the ledger" not in plain


def test_ledger_says_which_rules_still_fall_behind_reading_the_ledger() -> None:
    # At 100,000 a day a resource-mode reconcile day pages 9,000,000 ledger records (90,003 Queries)
    # and posts 850,000 evaluations: 7,840 s of work, so the month's 30 daily invocations of 870 s
    # (26,100 s) cannot hold the four per-job rules' 33,452 s. Summary mode posts only findings.
    inputs = cost.validate(100_000)
    block = cost.ledger_block(inputs, RULE_METADATA, cost.estimate(inputs, RULE_METADATA))
    per_job = sorted(["transcribe-job-output-location", "transcribe-job-pii-redaction", "transcribe-resource-tagged",
                      "transcribe-job-output-encrypted"])
    assert block["modes"]["resource"]["rules_falling_behind"] == per_job
    assert block["modes"]["summary"]["rules_falling_behind"] == []
    code, out, _ = run(["cost", "--jobs-per-day", "100000", "--ledger"])
    assert code == cli.EXIT_OK
    assert f"resource, with the ledger: the month's runs still need more than their invocations: {', '.join(per_job)}." in out
    assert "summary, with the ledger: every rule's month of runs fits its invocations." in out
