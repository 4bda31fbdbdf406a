"""A cost model for the pack: what a month of daily runs costs in AWS Config evaluations, Lambda,
and API calls, for a naive daily re-evaluation and for incremental evaluation in each reporting
mode. It is a model, not a measurement: every figure follows from the formulas below and the
assumptions in ``ASSUMPTIONS``; the README's "Costs" section explains them.

Notation: J jobs a day, R retention days, N = J*R jobs retained, P = 100 (Transcribe List page
size), D reconciliation period in days, f non-compliant rate, E tag/delete events a day.

How a rule is modelled is derived from its METADATA (``profile_for``), so a new rule is handled
when it looks like an existing one and refused (``UnmodeledRule``) when it does not:

- ``job``: reads Transcribe jobs (an ``transcribe:List*Jobs`` action) and reports each job.
  It needs one Get per job when its iam_actions include ``transcribe:GetTranscriptionJob``,
  unless ``SUMMARY_ANSWERED_UNLESS`` says the List summary answers it without a parameter.
- ``role``: reads every job (Get) on every run, not incrementally, but reports each role once.
- ``discovery``: reads every job (List and Get) on every run to find the S3 buckets or KMS keys
  holding Transcribe data, and reports each bucket or key.
- ``account``: everything else: a constant few calls and one evaluation per run.

All functions are pure; prices live in ``PRICES``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Mapping, Sequence

MONTH_DAYS = 30
LIST_PAGE_SIZE = 100  # Transcribe List*Jobs MaxResults (rules/transcribe.py)
CONFIG_PAGE_SIZE = 100  # GetComplianceDetailsByConfigRule Limit
PUT_EVALUATIONS_BATCH = 100  # PutEvaluations takes at most 100 evaluations a call
LOOKUP_PAGE_SIZE = 50  # CloudTrail LookupEvents MaxResults
LOOKUP_EVENT_NAMES = ("TagResource", "UntagResource", "DeleteTranscriptionJob", "DeleteMedicalTranscriptionJob",
                      "DeleteCallAnalyticsJob", "DeleteMedicalScribeJob")
SECONDS_PER_DAY = 86_400
LAMBDA_TIMEOUT_SECONDS = 900  # the functions' Timeout (transcribe_guard/templates.py)
EVALUATIONS_PER_ROLE_RUN = 1  # data-access role: one evaluation per role; one role assumed
EVALUATIONS_PER_ACCOUNT_RUN = 1  # account, bucket and key rules: one evaluation per run each

LIST_JOBS = "transcribe:ListTranscriptionJobs"
GET_JOB = "transcribe:GetTranscriptionJob"

# Rules whose iam_actions allow a Get but answer standard transcription jobs from the List summary
# unless the named parameter is set (the rule's scenarios say so).
SUMMARY_ANSWERED_UNLESS = {"transcribe-job-output-location": "AllowedOutputBuckets"}
# Rules that read each output object (S3 HeadObject) when EvidenceSource=object.
OBJECT_EVIDENCE_RULES = frozenset({"transcribe-job-output-encrypted"})

SCENARIOS = ("naive", "resource", "summary")
REPORTING_MODES = ("resource", "summary")

PRICES: dict[str, Any] = {
    "read_on": "2026-11-26",
    "region": "us-east-1",
    "config_evaluation_tiers": {
        # (evaluations in the tier, USD each); None = every evaluation beyond.
        "tiers": [[100_000, 0.001], [400_000, 0.0008], [None, 0.0005]],
        "applies_to": "conformance pack evaluations (the pack's rules), per region per month; AWS Config rule "
                      "evaluations have the same tiers in the sources read",
        "sources": [
            "https://www.vantage.sh/blog/aws-config-pricing (third party): rule and conformance pack evaluations "
            "first 100,000 $0.001, next 400,000 (100,001-500,000) $0.0008; the stored copy cuts off the third tier "
            "at \"Over 500,000 $0.00\"",
            "https://aws.amazon.com/tw/config/pricing/ (AWS, the 2019 announcement of per-evaluation pricing): first "
            "100,000 $0.001 per rule evaluation per region; the stored copy is cut off after that",
            "https://aws.amazon.com/ar/config/pricing/ (AWS, via a proxy): tiers of 100,000, 400,000 and 500,001+, a "
            "conformance pack evaluation is a resource's evaluation by a rule within a pack; the prices themselves "
            "are not in the stored copy",
        ],
        "unverified": "the third tier ($0.0005 beyond 500,000) was not found in any stored page; confirm it on "
                      "https://aws.amazon.com/config/pricing/",
    },
    "lambda": {
        "per_million_requests_usd": 0.20,
        "gb_second_usd": 0.00001667,
        "architecture": "x86_64",
        "free_tier_applied": False,
        "sources": [
            "https://docs.aws.amazon.com/whitepapers/latest/how-aws-pricing-works/lambda.html (AWS): $0.20 per 1 "
            "million requests, $0.00001667 for every GB-second",
            "https://cloudchipr.com/blog/aws-lambda-pricing (third party): x86 us-east-1 first 6 billion GB-seconds "
            "a month $0.0000166667 per GB-second",
        ],
    },
    "s3_get_head_per_1000_usd": 0.0004,
    "s3_sources": [
        "https://c3x.dev/blog/s3-request-fees-explained (third party): S3 Standard GET, HEAD $0.0004 per 1,000 "
        "requests; the AWS S3 pricing page was not found in the stored sources",
    ],
    "free_of_charge": [
        "Transcribe API calls (List*, Get*, ListTagsForResource)",
        "CloudTrail LookupEvents (event history)",
        "AWS Config GetComplianceDetailsByConfigRule reads",
    ],
}

ASSUMPTIONS = (
    "A month is 30 days; every rule runs once a day (MaximumExecutionFrequency TwentyFour_Hours).",
    "All jobs are standard transcription jobs; each writes one output object.",
    "Every API call takes --call-latency-ms, one after another; PutEvaluations sends 100 evaluations a call.",
    "Naive: one invocation a day, cut off at 900 s (flagged). Ours: a run needing more than 900 s resumes in "
    "further invocations.",
    "Config evaluation tiers count only this pack's evaluations in the region (nothing else uses them) and are "
    "shared across the rules in proportion to their evaluations.",
    "Each account-level rule makes one call per non-Transcribe IAM action it is allowed and posts one evaluation "
    "a run; bucket and key rules post one a run (one bucket or key) but read every job to find them.",
    "The data-access role rule posts one evaluation a run (one role).",
    "Each tag/delete event makes every job rule re-read (Get-bound rules) and re-post one job (summary mode: f of "
    "them); reconciliation finds no changes beyond that.",
    "Lambda: us-east-1 x86 prices, no free tier; S3 Standard request price for HeadObject and bucket reads.",
)


class CostInputError(ValueError):
    """Bad model input; the message is one line naming the option."""


class UnmodeledRule(LookupError):
    """A rule whose METADATA fits none of the model's profiles."""


@dataclass(frozen=True)
class Inputs:
    """The model's inputs (validated by ``validate``)."""

    jobs_per_day: int
    retention_days: int = 90
    noncompliant_rate: Fraction = Fraction(1, 20)
    reconciliation_days: int = 7
    tag_changes_per_day: int = 0
    call_latency_ms: Fraction = Fraction(40)
    memory_mb: int = 256
    allowed_output_buckets: bool = False
    evidence_source: str = "bucket"

    @property
    def retained_jobs(self) -> int:
        """N = J * R."""
        return self.jobs_per_day * self.retention_days


@dataclass(frozen=True)
class Profile:
    """What one rule's run reads and posts, derived from its METADATA."""

    name: str
    kind: str  # job | role | discovery | account
    get_per_job: bool = False
    head_object_per_job: bool = False
    s3_calls_per_run: int = 0  # bucket-level S3 reads (one bucket assumed)
    other_calls_per_run: int = 0  # other non-Transcribe reads (IAM, KMS, EC2, ...)


@dataclass
class DayUsage:
    """One run of one rule: API calls by class and evaluations posted."""

    transcribe_list: int = 0
    transcribe_get: int = 0
    transcribe_list_tags: int = 0
    lookup_events: int = 0
    config_reads: int = 0
    s3_calls: int = 0
    other_calls: int = 0
    evaluations: int = 0

    def calls(self) -> int:
        """Every call the run makes, PutEvaluations batches included."""
        return (self.transcribe_list + self.transcribe_get + self.transcribe_list_tags + self.lookup_events
                + self.config_reads + self.s3_calls + self.other_calls
                + ceil_div(self.evaluations, PUT_EVALUATIONS_BATCH))


COUNTERS = ("evaluations", "transcribe_list", "transcribe_get", "transcribe_list_tags", "lookup_events",
            "config_reads", "s3_calls", "other_calls")


@dataclass
class MonthUsage:
    """A month (30 runs) of one rule, or a total."""

    counters: dict[str, int] = field(default_factory=lambda: {name: 0 for name in COUNTERS})
    invocations: int = 0
    lambda_seconds: Fraction = Fraction(0)
    gb_seconds: Fraction = Fraction(0)
    longest_run_seconds: Fraction = Fraction(0)
    runs_cut_off: int = 0  # naive runs that needed more than one invocation's 900 s

    def add(self, other: "MonthUsage") -> None:
        for name in COUNTERS:
            self.counters[name] += other.counters[name]
        self.invocations += other.invocations
        self.lambda_seconds += other.lambda_seconds
        self.gb_seconds += other.gb_seconds
        self.longest_run_seconds = max(self.longest_run_seconds, other.longest_run_seconds)
        self.runs_cut_off += other.runs_cut_off


def ceil_div(a: int | Fraction, b: int) -> int:
    """ceil(a / b) for non-negative a, exactly (no float rounding)."""
    return math.ceil(Fraction(a) / b)


# --- inputs ------------------------------------------------------------------------------------

def _positive_int(option: str, value: Any, minimum: int = 1, maximum: int | None = None) -> int:
    text = str(value).strip()
    try:
        number = int(text)
    except ValueError:
        raise CostInputError(f"{option} {value}: expected a whole number.") from None
    if number < minimum or (maximum is not None and number > maximum):
        bound = f"from {minimum} to {maximum}" if maximum is not None else (
            "a positive integer" if minimum == 1 else f"at least {minimum}")
        raise CostInputError(f"{option} {value}: expected {bound}.")
    return number


def _fraction(option: str, value: Any, low: Fraction | None = None, high: Fraction | None = None,
              positive: bool = False) -> Fraction:
    try:
        number = Fraction(str(value).strip())
    except (ValueError, ZeroDivisionError):
        raise CostInputError(f"{option} {value}: expected a number.") from None
    if positive and number <= 0:
        raise CostInputError(f"{option} {value}: expected a positive number.")
    if (low is not None and number < low) or (high is not None and number > high):
        raise CostInputError(f"{option} {value}: expected a rate from {low} to {high}.")
    return number


def validate(jobs_per_day: Any, retention_days: Any = 90, noncompliant_rate: Any = "0.05",
             reconciliation_days: Any = 7, tag_changes_per_day: Any = 0, call_latency_ms: Any = 40,
             memory_mb: Any = 256, allowed_output_buckets: bool = False, evidence_source: str = "bucket") -> Inputs:
    """Inputs from user-typed values, or CostInputError naming the first bad option."""
    if evidence_source not in ("bucket", "object"):
        raise CostInputError(f"--evidence-source {evidence_source}: choose bucket or object.")
    return Inputs(
        jobs_per_day=_positive_int("--jobs-per-day", jobs_per_day),
        retention_days=_positive_int("--retention-days", retention_days),
        noncompliant_rate=_fraction("--noncompliant-rate", noncompliant_rate, Fraction(0), Fraction(1)),
        reconciliation_days=_positive_int("--reconciliation-days", reconciliation_days, 1, MONTH_DAYS),
        tag_changes_per_day=_positive_int("--tag-changes-per-day", tag_changes_per_day, minimum=0),
        call_latency_ms=_fraction("--call-latency-ms", call_latency_ms, positive=True),
        memory_mb=_positive_int("--memory-mb", memory_mb, 128, 10240),
        allowed_output_buckets=allowed_output_buckets,
        evidence_source=evidence_source,
    )


def select_rules(text: str | None, known: Sequence[str]) -> list[str]:
    """The rules named in a comma-separated list (all when empty), or CostInputError with a
    "did you mean" for an unknown name."""
    import difflib

    if text is None or not text.strip():
        return list(known)
    names = [name.strip() for name in text.split(",")]
    for name in names:
        if not name:
            raise CostInputError(f"--rules {text}: empty rule name.")
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            hint = f" did you mean {close[0]}?" if close else f" known rules: {', '.join(known)}."
            raise CostInputError(f"--rules: unknown rule {name!r};{hint}")
    return list(dict.fromkeys(names))


def default_memory_mb() -> int:
    """FunctionMemorySize's default in the functions template."""
    from transcribe_guard.templates import functions_template

    return int(functions_template()["Parameters"]["FunctionMemorySize"]["Default"])


# --- profiles ----------------------------------------------------------------------------------

def profile_for(metadata: Mapping[str, Any], inputs: Inputs) -> Profile:
    """How the model treats one rule, from its METADATA (name, iam_actions, resource_kinds)."""
    name = metadata["name"]
    actions = set(metadata["iam_actions"])
    kinds = set(metadata["resource_kinds"])
    s3_calls = sum(1 for a in actions if a in ("s3:GetEncryptionConfiguration", "s3:GetBucketPolicy",
                                               "s3:GetBucketPublicAccessBlock", "s3:GetAccountPublicAccessBlock"))
    other = sum(1 for a in actions if not a.startswith(("transcribe:", "s3:")))
    reads_jobs = any(a.startswith("transcribe:List") and a.endswith("Jobs") for a in actions)
    if not reads_jobs:
        return Profile(name, "account", s3_calls_per_run=s3_calls, other_calls_per_run=other)
    aws_kinds = {k for k in kinds if k.startswith("AWS::")}
    if not aws_kinds and "transcription-job" in kinds:
        parameter = SUMMARY_ANSWERED_UNLESS.get(name)
        summary_answered = parameter == "AllowedOutputBuckets" and not inputs.allowed_output_buckets
        return Profile(name, "job", get_per_job=GET_JOB in actions and not summary_answered,
                       head_object_per_job=name in OBJECT_EVIDENCE_RULES and inputs.evidence_source == "object",
                       s3_calls_per_run=s3_calls, other_calls_per_run=other)
    if "AWS::IAM::Role" in aws_kinds:
        return Profile(name, "role", get_per_job=True, s3_calls_per_run=s3_calls, other_calls_per_run=other)
    if aws_kinds and aws_kinds <= {"AWS::S3::Bucket", "AWS::KMS::Key"}:
        return Profile(name, "discovery", get_per_job=GET_JOB in actions, s3_calls_per_run=s3_calls,
                       other_calls_per_run=other)
    raise UnmodeledRule(f"rule {name} reads Transcribe jobs but reports {sorted(kinds)}: give it a cost profile "
                        "in transcribe_guard/cost.py.")


# --- one run -----------------------------------------------------------------------------------

def naive_day(profile: Profile, inputs: Inputs) -> DayUsage:
    """A naive daily re-evaluation of a job rule: list and read every retained job, post every
    result again plus NOT_APPLICABLE for the J records that expired."""
    n, j = inputs.retained_jobs, inputs.jobs_per_day
    if profile.kind not in ("job", "role"):
        return ours_day(profile, inputs, "resource", reconciliation=False)
    return DayUsage(transcribe_list=ceil_div(n, LIST_PAGE_SIZE), transcribe_get=n, transcribe_list_tags=n,
                    s3_calls=(n if profile.head_object_per_job else 0) + profile.s3_calls_per_run,
                    other_calls=profile.other_calls_per_run, evaluations=n + j)


def ours_day(profile: Profile, inputs: Inputs, mode: str, reconciliation: bool) -> DayUsage:
    """One incremental run in reporting mode ``mode`` (resource or summary), on an ordinary day or
    on a reconciliation day (every D days)."""
    n, j, e, f = inputs.retained_jobs, inputs.jobs_per_day, inputs.tag_changes_per_day, inputs.noncompliant_rate
    if profile.kind == "account":
        return DayUsage(s3_calls=profile.s3_calls_per_run, other_calls=profile.other_calls_per_run,
                        evaluations=EVALUATIONS_PER_ACCOUNT_RUN)
    if profile.kind in ("role", "discovery"):  # not incremental: every job, every run
        return DayUsage(transcribe_list=ceil_div(n, LIST_PAGE_SIZE), transcribe_get=n if profile.get_per_job else 0,
                        s3_calls=profile.s3_calls_per_run, other_calls=profile.other_calls_per_run,
                        evaluations=EVALUATIONS_PER_ROLE_RUN if profile.kind == "role" else EVALUATIONS_PER_ACCOUNT_RUN)
    day = DayUsage(
        transcribe_list=ceil_div(j, LIST_PAGE_SIZE) + 1,  # the window since the last run
        transcribe_get=(j + e) if profile.get_per_job else 0,
        lookup_events=ceil_div(e, LOOKUP_PAGE_SIZE) + len(LOOKUP_EVENT_NAMES),
        s3_calls=(j if profile.head_object_per_job else 0) + profile.s3_calls_per_run,
        other_calls=profile.other_calls_per_run,
    )
    if mode == "resource":
        day.config_reads = ceil_div(n, CONFIG_PAGE_SIZE)  # the expiry sweep
        day.evaluations = j + j + e  # new, expired retirements, events
        if reconciliation:
            day.transcribe_list += ceil_div(n, LIST_PAGE_SIZE)
            day.config_reads += ceil_div(n, CONFIG_PAGE_SIZE)
    elif mode == "summary":
        day.config_reads = ceil_div(f * n, CONFIG_PAGE_SIZE)
        day.evaluations = 1 + ceil_div(f * j, 1) + ceil_div(f * j, 1) + ceil_div(f * e, 1)
        if reconciliation:
            day.transcribe_list += ceil_div(n, LIST_PAGE_SIZE)
            if profile.get_per_job:
                day.transcribe_get += n
            if profile.head_object_per_job:
                day.s3_calls += n
    else:
        raise ValueError(f"unknown reporting mode {mode!r}")
    return day


def run_seconds(day: DayUsage, inputs: Inputs) -> Fraction:
    """A run's duration: its calls one after another at the per-call latency."""
    return day.calls() * inputs.call_latency_ms / 1000


def month_of(days: Sequence[DayUsage], inputs: Inputs, resumes: bool) -> MonthUsage:
    """A month of runs. With ``resumes`` a run longer than 900 s continues in further invocations
    (ceil(duration/900)); without, it is one invocation cut off at 900 s and counted in
    ``runs_cut_off``."""
    month = MonthUsage()
    for day in days:
        for name in COUNTERS:
            month.counters[name] += getattr(day, name)
        seconds = run_seconds(day, inputs)
        month.longest_run_seconds = max(month.longest_run_seconds, seconds)
        if resumes:
            month.invocations += max(1, ceil_div(seconds, LAMBDA_TIMEOUT_SECONDS))
            billed = seconds
        else:
            month.invocations += 1
            billed = min(seconds, Fraction(LAMBDA_TIMEOUT_SECONDS))
            month.runs_cut_off += seconds > LAMBDA_TIMEOUT_SECONDS
        month.lambda_seconds += billed
        month.gb_seconds += billed * inputs.memory_mb / 1024
    return month


def reconciliation_runs(inputs: Inputs) -> int:
    """Reconciliation days in a 30-day month: every D-th day."""
    return MONTH_DAYS // inputs.reconciliation_days


def rule_month(profile: Profile, inputs: Inputs, scenario: str) -> MonthUsage:
    """A month of one rule in one scenario (naive, resource or summary)."""
    if scenario == "naive":
        return month_of([naive_day(profile, inputs)] * MONTH_DAYS, inputs, resumes=False)
    r = reconciliation_runs(inputs)
    days = ([ours_day(profile, inputs, scenario, reconciliation=False)] * (MONTH_DAYS - r)
            + [ours_day(profile, inputs, scenario, reconciliation=True)] * r)
    return month_of(days, inputs, resumes=True)


# --- dollars -----------------------------------------------------------------------------------

def tiered_cost(count: int, tiers: Sequence[Sequence[Any]] | None = None) -> Fraction:
    """USD for ``count`` evaluations in a month, filling the tiers in order."""
    tiers = tiers if tiers is not None else PRICES["config_evaluation_tiers"]["tiers"]
    remaining, total = count, Fraction(0)
    for size, price in tiers:
        used = remaining if size is None else min(remaining, size)
        total += used * Fraction(str(price))
        remaining -= used
        if remaining <= 0:
            break
    return total


def lambda_cost(invocations: int, gb_seconds: Fraction) -> Fraction:
    """USD for Lambda requests and duration (x86, us-east-1, no free tier)."""
    return (invocations * Fraction(str(PRICES["lambda"]["per_million_requests_usd"])) / 1_000_000
            + gb_seconds * Fraction(str(PRICES["lambda"]["gb_second_usd"])))


def s3_cost(requests: int) -> Fraction:
    """USD for S3 GET-class requests (HeadObject, GetBucketPolicy, ...)."""
    return requests * Fraction(str(PRICES["s3_get_head_per_1000_usd"])) / 1000


# --- the estimate ------------------------------------------------------------------------------

def _figures(month: MonthUsage, config_usd: Fraction) -> dict[str, Any]:
    lambda_usd = lambda_cost(month.invocations, month.gb_seconds)
    s3_usd = s3_cost(month.counters["s3_calls"])
    return {
        **month.counters,
        "lambda_invocations": month.invocations,
        "lambda_seconds": round(float(month.lambda_seconds), 3),
        "lambda_gb_seconds": round(float(month.gb_seconds), 3),
        "longest_run_seconds": round(float(month.longest_run_seconds), 3),
        "runs_cut_off_at_900s": month.runs_cut_off,
        "config_usd": round(float(config_usd), 6),
        "lambda_usd": round(float(lambda_usd), 6),
        "s3_usd": round(float(s3_usd), 6),
        "total_usd": round(float(config_usd + lambda_usd + s3_usd), 6),
    }


def estimate(inputs: Inputs, rule_metadata: Sequence[Mapping[str, Any]],
             modes: Sequence[str] = REPORTING_MODES) -> dict[str, Any]:
    """Every figure, per scenario, per rule and in total, for one month."""
    profiles = [profile_for(m, inputs) for m in rule_metadata]
    scenarios: dict[str, Any] = {}
    for scenario in ("naive", *modes):
        months = {p.name: rule_month(p, inputs, scenario) for p in profiles}
        total = MonthUsage()
        for month in months.values():
            total.add(month)
        evaluations = total.counters["evaluations"]
        config_total = tiered_cost(evaluations)
        rules = {}
        for name, month in months.items():
            share = Fraction(month.counters["evaluations"], evaluations) if evaluations else Fraction(0)
            rules[name] = _figures(month, config_total * share)
        scenarios[scenario] = {"rules": rules, "total": _figures(total, config_total)}
    return {
        "inputs": {
            "jobs_per_day": inputs.jobs_per_day, "retention_days": inputs.retention_days,
            "retained_jobs": inputs.retained_jobs, "noncompliant_rate": float(inputs.noncompliant_rate),
            "reconciliation_days": inputs.reconciliation_days,
            "reconciliation_runs_per_month": reconciliation_runs(inputs),
            "tag_changes_per_day": inputs.tag_changes_per_day, "call_latency_ms": float(inputs.call_latency_ms),
            "memory_mb": inputs.memory_mb, "allowed_output_buckets": inputs.allowed_output_buckets,
            "evidence_source": inputs.evidence_source, "month_days": MONTH_DAYS,
            "rules": [p.name for p in profiles], "reporting_modes": list(modes),
        },
        "profiles": {p.name: {"kind": p.kind, "get_per_job": p.get_per_job,
                              "head_object_per_job": p.head_object_per_job} for p in profiles},
        "scenarios": scenarios,
        "assumptions": list(ASSUMPTIONS),
        "prices": PRICES,
    }


# --- rendering ---------------------------------------------------------------------------------

TOTAL_ROWS = (
    ("Config evaluations", "evaluations"),
    ("Transcribe List pages", "transcribe_list"),
    ("Transcribe Get", "transcribe_get"),
    ("Transcribe ListTagsForResource", "transcribe_list_tags"),
    ("CloudTrail LookupEvents", "lookup_events"),
    ("Config result reads (pages)", "config_reads"),
    ("S3 requests", "s3_calls"),
    ("Other API calls", "other_calls"),
    ("Lambda invocations", "lambda_invocations"),
    ("Lambda GB-seconds", "lambda_gb_seconds"),
    ("Config evaluations $", "config_usd"),
    ("Lambda $", "lambda_usd"),
    ("S3 requests $", "s3_usd"),
    ("Total $", "total_usd"),
)


def _number(value: float | int, dollars: bool = False) -> str:
    if dollars:
        return f"{value:,.2f}"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def _ratio(naive: float, ours: float) -> str:
    if ours == 0:
        return "-" if naive == 0 else "inf"
    return f"{naive / ours:,.1f}x"


def render_table(result: dict[str, Any]) -> str:
    """Per-rule dollars and the monthly totals by metric, naive vs each reporting mode."""
    inputs, scenarios = result["inputs"], result["scenarios"]
    modes = inputs["reporting_modes"]
    columns = ["naive"] + [f"ours-{m}" for m in modes]
    lines = [f"Per month (30 days), J={inputs['jobs_per_day']:,} jobs/day, R={inputs['retention_days']} days "
             f"(N={inputs['retained_jobs']:,} jobs retained), reconciliation every {inputs['reconciliation_days']} "
             f"days, non-compliant rate {inputs['noncompliant_rate']:g}. A model, not a measurement.", ""]

    def table(headers: list[str], rows: list[list[str]]) -> None:
        widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
        for row in [headers, *rows]:
            cells = [row[0].ljust(widths[0])] + [v.rjust(w) for v, w in zip(row[1:], widths[1:])]
            lines.append("  ".join(cells).rstrip())

    ratio_headers = [f"naive/{m}" for m in modes]
    rows = []
    cut_off = False
    for name in inputs["rules"]:
        naive = scenarios["naive"]["rules"][name]
        flag = "!" if naive["runs_cut_off_at_900s"] else ""
        cut_off = cut_off or bool(flag)
        row = [name, _number(naive["total_usd"], True) + flag]
        row += [_number(scenarios[m]["rules"][name]["total_usd"], True)
                + ("+" if scenarios[m]["rules"][name]["lambda_invocations"] > MONTH_DAYS else "") for m in modes]
        row += [_ratio(naive["total_usd"], scenarios[m]["rules"][name]["total_usd"]) for m in modes]
        rows.append(row)
    totals = [scenarios[s]["total"] for s in ["naive", *modes]]
    rows.append(["TOTAL"] + [_number(t["total_usd"], True) for t in totals]
                + [_ratio(totals[0]["total_usd"], t["total_usd"]) for t in totals[1:]])
    table(["RULE ($/month)"] + columns + ratio_headers, rows)
    lines.append("")
    rows = [[label] + [_number(t[key], key.endswith("usd")) for t in totals]
            + [_ratio(totals[0][key], t[key]) for t in totals[1:]] for label, key in TOTAL_ROWS]
    table(["TOTAL per month"] + columns + ratio_headers, rows)
    lines.append("")
    if cut_off:
        lines.append("! a naive run needs more than 900 s: it cannot finish in one Lambda invocation (it times out "
                     "every day; dollars count the 900 s it is billed).")
    if any(scenarios[m]["rules"][n]["lambda_invocations"] > MONTH_DAYS for m in modes for n in inputs["rules"]):
        lines.append("+ a run needs more than 900 s and resumes in further invocations "
                     "(longest run: " + ", ".join(
                         f"{m} {max(scenarios[m]['rules'][n]['longest_run_seconds'] for n in inputs['rules']):,.0f} s"
                         for m in modes) + ").")
    behind = {s: [n for n in inputs["rules"] if scenarios[s]["rules"][n]["longest_run_seconds"] > SECONDS_PER_DAY]
              for s in ["naive", *modes]}
    if any(behind.values()):
        lines.append("A run's calls take longer than a day one after another, so these rules cannot keep up at this "
                     "volume: " + "; ".join(f"{s}: {', '.join(names)}" for s, names in behind.items() if names) + ".")
    lines.append("Per-rule Config dollars are each rule's share of the tiered total, at that column's average "
                 "price per evaluation.")
    prices = result["prices"]
    tiers = prices["config_evaluation_tiers"]["tiers"]
    lines.append(f"Prices read on {prices['read_on']} ({prices['region']}): Config conformance pack evaluations "
                 f"${tiers[0][1]} (first 100,000), ${tiers[1][1]} (next 400,000), ${tiers[2][1]} (beyond; "
                 "unverified); Lambda x86 $0.20 per million requests, "
                 f"${prices['lambda']['gb_second_usd']:.8f} per GB-second; S3 GET/HEAD "
                 f"${prices['s3_get_head_per_1000_usd']} per 1,000. Sources: README \"Costs\" or --format json.")
    lines.append("Free of charge, counted but not priced: Transcribe API calls, CloudTrail LookupEvents, "
                 "Config result reads.")
    return "\n".join(lines) + "\n"
