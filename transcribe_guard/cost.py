"""A cost model for the pack: what a month of runs costs in AWS Config evaluations, Lambda,
and API calls, for a naive daily re-evaluation and for the functions as they run (rules/engine/incremental.py,
rules/inventory/job_references.py) in each reporting mode. It is a model, not a measurement: every figure
follows from the formulas below and the assumptions in ``ASSUMPTIONS``; docs/costs.md explains
them.

Notation: J jobs a day, R retention days, N = J*R jobs retained, P = 100 (Transcribe List page
size), D reconciliation period in days, r = floor(30/D) reconcile runs a month, f non-compliant
rate, T tag changes a day, X job deletions a day, C customizations (vocabularies, filters,
language models, categories), h hours between runs of the rules that read jobs (pack parameter
JobRulesFrequency, ``--frequency``), I = 30*24/h their invocations a month, W = J*h/24 jobs a run.

Timing: the functions pace Transcribe calls (rules/engine/pacing.py) at 95% of the quotas and read jobs
up to 4 at a time, so a run reads min(28.5, 4/(k*latency)) jobs a second (k calls per job) and
lists 4.75 pages a second at most; every other call takes the latency, one after another. A rule
keeps up when its month of work fits its I invocations of 870 s each.

How a rule is modelled is derived from its METADATA (``profile_for``), so a new rule is handled
when it looks like an existing one and refused (``UnmodeledRule``) when it does not:

- ``job``: has ``ReportingMode`` and reports Transcribe jobs (rules/engine/incremental.py). A run lists
  the jobs created or finished since the last one, reads them (one Get each when its iam_actions
  include ``transcribe:GetTranscriptionJob``, unless ``SUMMARY_ANSWERED_UNLESS`` says the List
  summary answers it), follows Delete* (and, with ``transcribe:ListTagsForResource``,
  TagResource/UntagResource) events, and judges the customization kinds it lists in full.
  Reconcile runs (every D days) list everything and page the stored results.
- ``customization``: has ``ReportingMode`` and reports customizations only: all of them, every run.
- ``role`` / ``discovery``: no ``ReportingMode``, reads jobs, reports IAM roles or S3 buckets and
  KMS keys: a function run reads only the jobs created or finished since its last run
  (rules/inventory/job_references.py), plus every customization of the kinds it lists; a run the deadline
  stops resumes at the next invocation from the List page where it stopped (its token is kept).
- ``account``: everything else: a constant few calls and one evaluation per run.

All functions are pure; prices live in ``PRICES``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Mapping, Sequence

MONTH_DAYS = 30
LIST_PAGE_SIZE = 100  # Transcribe List*Jobs MaxResults (rules/inventory/transcribe.py)
CONFIG_PAGE_SIZE = 100  # GetComplianceDetailsByConfigRule Limit
PUT_EVALUATIONS_BATCH = 100  # PutEvaluations takes at most 100 evaluations a call
LOOKUP_PAGE_SIZE = 50  # CloudTrail LookupEvents MaxResults
TAG_EVENT_NAMES = ("TagResource", "UntagResource")
STANDARD_JOB_DELETE = "DeleteTranscriptionJob"  # every modelled job is a standard transcription job
SSM_CALLS_PER_INVOCATION = 2  # checkpoint: GetParameter at the start, PutParameter at the end
SECONDS_PER_DAY = 86_400
LAMBDA_TIMEOUT_SECONDS = 900  # the functions' Timeout (transcribe_guard/templates.py)
# What one invocation of a resuming rule gets done: the timeout less the 30 s margin it keeps to
# post and save (rules/engine/incremental.py, Deadline).
USABLE_SECONDS = 870
FREQUENCIES = (1, 3, 6, 12, 24)  # JobRulesFrequency: One_Hour ... TwentyFour_Hours
DEFAULT_FREQUENCY_HOURS = 24
# Pacing (rules/engine/pacing.py): 95% of GetTranscriptionJob's 30/s and List*'s 5/s, 4 reads in flight.
GET_RATE = Fraction(285, 10)
LIST_RATE = Fraction(475, 100)
READS_IN_FLIGHT = 4
EVALUATIONS_PER_REFERENCE_RUN = 1  # role, bucket and key rules: one per role, bucket or key; one assumed
EVALUATIONS_PER_ACCOUNT_RUN = 1  # account-level rules: one evaluation per run each
DEFAULT_CUSTOMIZATIONS = 10

LIST_JOBS = "transcribe:ListTranscriptionJobs"
GET_JOB = "transcribe:GetTranscriptionJob"
LIST_TAGS = "transcribe:ListTagsForResource"
REPORTING_MODE = "ReportingMode"

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
    "ssm_parameter_store": {
        "usd": 0,
        "applies_to": "the checkpoint: one standard parameter (Type String, no Tier) per rule, account and region; "
                      "GetParameter and PutParameter at the default (standard) throughput",
        "sources": [
            "https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html "
            "(AWS, \"Managing parameter tiers\"; stored copies via a proxy and docs.amazonaws.cn): standard "
            "parameters, cost \"No additional charge\"; advanced parameters, \"Charges apply\"",
            "https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-throughput.html (AWS; "
            "stored copies on docs.amazonaws.cn and docs.aws.eu): the default standard throughput can be used "
            "\"without additional cost\"; higher throughput is enabled \"at a cost\"",
        ],
        "unverified": "not modelled: the charges for advanced parameters (an account whose default parameter tier is "
                      "Advanced creates the checkpoint as one) and for higher throughput; their prices were not "
                      "in the stored pages",
    },
    "free_of_charge": [
        "Transcribe API calls (List*, Get*, ListTagsForResource)",
        "CloudTrail LookupEvents (event history)",
        "AWS Config GetComplianceDetailsByConfigRule reads",
        "SSM GetParameter and PutParameter on standard parameters at the default throughput (the checkpoints)",
    ],
}

ASSUMPTIONS = (
    "A month is 30 days. The rules that read jobs run every --frequency hours (JobRulesFrequency; default 24): "
    "I = 720/h invocations a month, each run reading the W = J*h/24 jobs since the last; the other rules run once "
    "a day. The checkpoints exist (steady state; the bucket, key and role rules' first run is shown apart).",
    "All jobs are standard transcription jobs; each writes one output object. Every other job kind a rule lists "
    "costs one (empty) List page a run.",
    "Naive: once a day, unpaced, every call taking --call-latency-ms one after another, cut off at 900 s "
    "(flagged). Ours: paced (rules/engine/pacing.py): Gets at min(28.5, 4/(k x latency)) jobs/s (4 in flight, k calls "
    "per job), List pages at most 4.75/s; other calls one after another at the latency. PutEvaluations sends "
    "100 evaluations a call.",
    "Ours: a run needing more than 870 s resumes at the rule's next invocation. Every invocation pays its fixed "
    "calls (checkpoint read and write, first List pages, LookupEvents queries, summary mode's NON_COMPLIANT "
    "paging) even with nothing new; a run spanning invocations takes over the invocations of the runs after it, "
    "whose jobs the next run reads, so the month is counted as I runs. A rule keeps up when its month of work "
    "fits I x 870 s; one that does not falls further behind every invocation (flagged) and is billed 900 s each.",
    "Config evaluation tiers count every rule evaluation in the region billed to the same payer (all accounts "
    "under consolidated billing), so the pack's evaluations are priced from where --existing-evaluations (the "
    "month's other evaluations; default 0, the worst case, since the tiers only fall) leaves the tiers, and the "
    "dollars are shared across the rules in proportion to their evaluations.",
    "Each account-level rule makes one call per non-Transcribe IAM action it is allowed and posts one evaluation "
    "a run. Bucket, key and role rules post one a run (one bucket, key or role) and read the W new jobs.",
    "C customizations: every rule listing a customization kind reads all C every run (counted as Gets) and, if it "
    "reports them, posts C evaluations a run (resource mode) or the non-compliant ones (summary mode).",
    "Ordinary runs list the window since the last run: ceil(W/100)+1 pages of standard jobs. Reconcile runs (r a "
    "month, one invocation's run each time) list all N and, in resource mode, page the stored COMPLIANT and "
    "NON_COMPLIANT results once (N + the 30*J/r expired since the last reconcile + C); NOT_APPLICABLE results "
    "are not paged.",
    "Resource mode retires expired job records only on reconcile runs: the month's 30*J expiries spread over its "
    "r reconcile runs. Summary mode pages the stored NON_COMPLIANT results every invocation and retires the "
    "expired ones as they come (f*W a run). Counts are expected values, rounded up once for the month.",
    "A tag change makes the tag rule re-read (Get) and re-post its job (summary: f of them); a job deletion makes "
    "every job rule post one NOT_APPLICABLE (summary: f of them). Reconciliation finds nothing else to change.",
    "Lambda: us-east-1 x86 prices, no free tier; S3 Standard request price for HeadObject and bucket reads; SSM "
    "standard parameters at the default throughput: no charge.",
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
    deletions_per_day: int = 0
    customizations: int = DEFAULT_CUSTOMIZATIONS
    frequency_hours: int = DEFAULT_FREQUENCY_HOURS
    # Rule evaluations already billed in the Region in the month, by every account under the same
    # consolidated bill: the pack's evaluations start in the tier those reach. 0 is the worst case
    # (the tiers only fall), so it is the default.
    existing_evaluations: int = 0

    @property
    def retained_jobs(self) -> int:
        """N = J * R."""
        return self.jobs_per_day * self.retention_days


@dataclass(frozen=True)
class Profile:
    """What one rule's run reads and posts, derived from its METADATA."""

    name: str
    kind: str  # job | customization | role | discovery | account
    get_per_job: bool = False
    head_object_per_job: bool = False
    tag_dependent: bool = False  # follows TagResource/UntagResource and re-reads the job
    job_kinds: int = 0  # job kinds it lists (List*Jobs actions)
    customization_kinds: int = 0  # other kinds it lists (vocabularies, filters, models, categories)
    reports_customizations: bool = False  # posts a result per customization
    lookup_event_names: tuple[str, ...] = ()  # LookupEvents queries a run (job and customization rules)
    s3_calls_per_run: int = 0  # bucket-level S3 reads (one bucket assumed)
    other_calls_per_run: int = 0  # other non-Transcribe reads (IAM, KMS, EC2, ...)
    follows_frequency: bool = False  # lists standard jobs: runs every JobRulesFrequency (generate.py)

    @property
    def resumes(self) -> bool:
        """Whether a run stopped by the Lambda deadline resumes at the next invocation
        (rules/engine/incremental.py, rules/inventory/job_references.py); account rules finish in one."""
        return self.kind != "account"

    @property
    def checkpointed(self) -> bool:
        return self.kind in ("job", "customization", "role", "discovery")


Count = int | Fraction


@dataclass
class DayUsage:
    """One run of one rule: API calls by class and evaluations posted. Job-proportional counts
    may be expected values (fractions) when runs are more frequent than daily. ``paced``: the
    function's run (rules/engine/pacing.py), not the naive one; ``pipelined_s3``: the HeadObjects among
    ``s3_calls`` made per job alongside its Get."""

    transcribe_list: Count = 0
    transcribe_get: Count = 0
    transcribe_list_tags: Count = 0
    lookup_events: Count = 0
    config_reads: Count = 0
    s3_calls: Count = 0
    other_calls: Count = 0
    ssm_calls: Count = 0
    evaluations: Count = 0
    paced: bool = False
    pipelined_s3: Count = 0
    # With the ledger (TranscribeLedger=enabled): Query pages of ledger records (100 a page) in
    # place of List pages and Gets, and records named by a CloudTrail event (an arn-index Query
    # and a GetItem each).
    ledger_queries: Count = 0
    ledger_lookups: Count = 0

    def calls(self) -> int | Fraction:
        """Every call the run makes, PutEvaluations batches included."""
        return (self.transcribe_list + self.transcribe_get + self.transcribe_list_tags + self.lookup_events
                + self.config_reads + self.s3_calls + self.other_calls + self.ssm_calls
                + self.ledger_queries + 2 * self.ledger_lookups
                + ceil_div(self.evaluations, PUT_EVALUATIONS_BATCH))


COUNTERS = ("evaluations", "transcribe_list", "transcribe_get", "transcribe_list_tags", "lookup_events",
            "config_reads", "s3_calls", "other_calls", "ssm_calls", "ledger_queries", "ledger_lookups")


@dataclass
class MonthUsage:
    """A month of runs of one rule, or a total."""

    counters: dict[str, int] = field(default_factory=lambda: {name: 0 for name in COUNTERS})
    invocations: int = 0
    lambda_seconds: Fraction = Fraction(0)
    gb_seconds: Fraction = Fraction(0)
    longest_run_seconds: Fraction = Fraction(0)
    work_seconds: Fraction = Fraction(0)  # the calls the month's runs need, one after another
    runs_cut_off: int = 0  # naive runs that needed more than one invocation's 900 s
    runs_spanning_invocations: int = 0  # runs needing more than one invocation's 870 s (they resume)
    keeps_up: bool = True  # the month's work fits its invocations

    def add(self, other: "MonthUsage") -> None:
        for name in COUNTERS:
            self.counters[name] += other.counters[name]
        self.invocations += other.invocations
        self.lambda_seconds += other.lambda_seconds
        self.gb_seconds += other.gb_seconds
        self.longest_run_seconds = max(self.longest_run_seconds, other.longest_run_seconds)
        self.work_seconds += other.work_seconds
        self.runs_cut_off += other.runs_cut_off
        self.runs_spanning_invocations += other.runs_spanning_invocations
        self.keeps_up = self.keeps_up and other.keeps_up


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
             memory_mb: Any = 256, allowed_output_buckets: bool = False, evidence_source: str = "bucket",
             deletions_per_day: Any = 0, customizations: Any = DEFAULT_CUSTOMIZATIONS,
             frequency_hours: Any = DEFAULT_FREQUENCY_HOURS, existing_evaluations: Any = 0) -> Inputs:
    """Inputs from user-typed values, or CostInputError naming the first bad option."""
    if evidence_source not in ("bucket", "object"):
        raise CostInputError(f"--evidence-source {evidence_source}: choose bucket or object.")
    frequency = _positive_int("--frequency", frequency_hours)
    if frequency not in FREQUENCIES:
        raise CostInputError(f"--frequency {frequency_hours}: expected hours between runs, one of "
                             f"{', '.join(map(str, FREQUENCIES))}.")
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
        deletions_per_day=_positive_int("--deletions-per-day", deletions_per_day, minimum=0),
        customizations=_positive_int("--customizations", customizations, minimum=0),
        frequency_hours=frequency,
        existing_evaluations=_positive_int("--existing-evaluations", existing_evaluations, minimum=0),
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

def _delete_operations(kind_keys: Sequence[str]) -> list[str]:
    """The Delete* event names a rule follows for its resource kinds (rules/engine/incremental.py)."""
    from rules.inventory.transcribe import KINDS_BY_KEY

    return sorted({KINDS_BY_KEY[key].delete_operation for key in kind_keys if key in KINDS_BY_KEY})


def profile_for(metadata: Mapping[str, Any], inputs: Inputs) -> Profile:
    """How the model treats one rule, from its METADATA (name, iam_actions, resource_kinds,
    parameters)."""
    from rules.inventory.transcribe import ALL_KINDS

    name = metadata["name"]
    actions = set(metadata["iam_actions"])
    kinds = list(metadata["resource_kinds"])
    parameters = (metadata.get("parameters") or {}).get("properties") or {}
    s3_calls = sum(1 for a in actions if a in ("s3:GetEncryptionConfiguration", "s3:GetBucketPolicy",
                                               "s3:GetBucketPublicAccessBlock", "s3:GetAccountPublicAccessBlock"))
    other = sum(1 for a in actions if not a.startswith(("transcribe:", "s3:")))
    job_lists = sum(1 for a in actions if a.startswith("transcribe:List") and a.endswith("Jobs"))
    other_lists = sum(1 for a in actions if a.startswith("transcribe:List") and not a.endswith("Jobs")
                      and a != LIST_TAGS)
    common = {"job_kinds": job_lists, "customization_kinds": other_lists, "s3_calls_per_run": s3_calls,
              "other_calls_per_run": other, "follows_frequency": LIST_JOBS in actions}
    transcribe_keys = {kind.key for kind in ALL_KINDS}
    job_keys = {kind.key for kind in ALL_KINDS if kind.is_job}
    reported = [k for k in kinds if k in transcribe_keys]
    aws_kinds = {k for k in kinds if k.startswith("AWS::")}
    if REPORTING_MODE in parameters and reported:  # a ResourceRule (rules/engine/incremental.py)
        tag_dependent = LIST_TAGS in actions
        events = (list(TAG_EVENT_NAMES) if tag_dependent else []) + _delete_operations(reported)
        reports_jobs = any(k in job_keys for k in reported)
        parameter = SUMMARY_ANSWERED_UNLESS.get(name)
        summary_answered = parameter == "AllowedOutputBuckets" and not inputs.allowed_output_buckets
        return Profile(name, "job" if reports_jobs else "customization",
                       get_per_job=reports_jobs and GET_JOB in actions and not summary_answered,
                       head_object_per_job=name in OBJECT_EVIDENCE_RULES and inputs.evidence_source == "object",
                       tag_dependent=tag_dependent, reports_customizations=any(k not in job_keys for k in reported),
                       lookup_event_names=tuple(events), **common)
    if not job_lists:
        if REPORTING_MODE in parameters:
            raise UnmodeledRule(f"rule {name} has ReportingMode but reports {sorted(kinds)}: give it a cost profile "
                                "in transcribe_guard/cost.py.")
        return Profile(name, "account", s3_calls_per_run=s3_calls, other_calls_per_run=other)
    if "AWS::IAM::Role" in aws_kinds:
        return Profile(name, "role", get_per_job=True, **common)
    if aws_kinds and aws_kinds <= {"AWS::S3::Bucket", "AWS::KMS::Key"}:
        return Profile(name, "discovery", get_per_job=GET_JOB in actions, **common)
    raise UnmodeledRule(f"rule {name} reads Transcribe jobs but reports {sorted(kinds)}: give it a cost profile "
                        "in transcribe_guard/cost.py.")


# --- one run -----------------------------------------------------------------------------------

def run_hours(profile: Profile, inputs: Inputs) -> int:
    """Hours between the rule's runs: JobRulesFrequency for the rules that list standard jobs,
    a day for the others."""
    return inputs.frequency_hours if profile.follows_frequency else 24


def invocations_per_month(profile: Profile, inputs: Inputs) -> int:
    """I = 30 * 24 / h."""
    return MONTH_DAYS * 24 // run_hours(profile, inputs)


def per_run(daily: int, profile: Profile, inputs: Inputs) -> Fraction:
    """A daily count's share of one run: daily * h / 24 (an expected value)."""
    return Fraction(daily * run_hours(profile, inputs), 24)


def _window_pages(profile: Profile, inputs: Inputs) -> int:
    """List pages for the jobs since the last run: ceil(W/P)+1 standard-job pages (listing stops
    at the first page holding an older job), one page for each other job kind, one per
    customization kind."""
    window = per_run(inputs.jobs_per_day, profile, inputs)
    jobs = ceil_div(window, LIST_PAGE_SIZE) + 1 + (profile.job_kinds - 1) if profile.job_kinds else 0
    return jobs + profile.customization_kinds


def _full_pages(profile: Profile, inputs: Inputs) -> int:
    """List pages for every retained job: ceil(N/P) standard, one for each other kind."""
    jobs = ceil_div(inputs.retained_jobs, LIST_PAGE_SIZE) + (profile.job_kinds - 1) if profile.job_kinds else 0
    return jobs + profile.customization_kinds


def _customization_reads(profile: Profile, inputs: Inputs) -> int:
    return inputs.customizations if profile.customization_kinds else 0


def lookup_calls(profile: Profile, inputs: Inputs) -> int:
    """LookupEvents calls a run: one query per event name, 50 events a page, at least one page
    each. Tag changes are counted as TagResource events, deletions as DeleteTranscriptionJob,
    each the run's share of the day's."""
    per_name = {TAG_EVENT_NAMES[0]: per_run(inputs.tag_changes_per_day, profile, inputs),
                STANDARD_JOB_DELETE: per_run(inputs.deletions_per_day, profile, inputs)}
    return sum(max(1, ceil_div(per_name.get(name, 0), LOOKUP_PAGE_SIZE)) for name in profile.lookup_event_names)


def naive_day(profile: Profile, inputs: Inputs) -> DayUsage:
    """A naive daily re-evaluation: list and read every retained job, remember nothing. A job rule
    also reads each job's tags and posts every result again plus NOT_APPLICABLE for the J records
    that expired (rdklib's clean-up); a role, bucket or key rule posts one result."""
    n, j, c = inputs.retained_jobs, inputs.jobs_per_day, _customization_reads(profile, inputs)
    if profile.kind == "job":
        return DayUsage(transcribe_list=_full_pages(profile, inputs), transcribe_get=n + c, transcribe_list_tags=n,
                        s3_calls=(n if profile.head_object_per_job else 0) + profile.s3_calls_per_run,
                        other_calls=profile.other_calls_per_run,
                        evaluations=n + j + (c if profile.reports_customizations else 0))
    if profile.kind in ("role", "discovery"):
        return DayUsage(transcribe_list=_full_pages(profile, inputs), transcribe_get=n + c,
                        s3_calls=profile.s3_calls_per_run, other_calls=profile.other_calls_per_run,
                        evaluations=EVALUATIONS_PER_REFERENCE_RUN)
    if profile.kind == "customization":
        return DayUsage(transcribe_list=profile.customization_kinds, transcribe_get=c,
                        other_calls=profile.other_calls_per_run, evaluations=c)
    day = ours_day(profile, inputs, "resource", reconciliation=False)
    day.paced = False
    return day


def ours_day(profile: Profile, inputs: Inputs, mode: str, reconciliation: bool, ledger: bool = False) -> DayUsage:
    """One function run (every h hours for the rules that read jobs, daily for the others) in
    reporting mode ``mode`` (resource or summary), ordinary or reconcile (every D days), once the
    rule has a checkpoint. Job-proportional counts are the run's share of the day's (W = J*h/24).
    ``ledger``: the run reads the ledger (``ledger_run``) instead of Transcribe."""
    day = _live_day(profile, inputs, mode, reconciliation)
    return ledger_run(day, profile, inputs) if ledger else day


def ledger_run(day: DayUsage, profile: Profile, inputs: Inputs) -> DayUsage:
    """The same run reading the ledger (rules/inventory/ledger.py, LedgerInventory): every List
    page it made is a Query page of the same records (100 a page, unpaced: one call at the
    latency), no Get or ListTagsForResource (the records hold the details and tags); a job a tag
    event names is looked up by ARN (arn-index Query + GetItem). HeadObjects (object evidence) are
    still made, one after another. Evaluations, Config reads, LookupEvents, SSM and the other calls
    are the same."""
    lookups = per_run(inputs.tag_changes_per_day, profile, inputs) if profile.tag_dependent and profile.kind == "job" else 0
    return dataclasses.replace(day, transcribe_list=0, transcribe_get=0, transcribe_list_tags=0, pipelined_s3=0,
                               ledger_queries=day.transcribe_list, ledger_lookups=lookups)


def _live_day(profile: Profile, inputs: Inputs, mode: str, reconciliation: bool) -> DayUsage:
    if mode not in REPORTING_MODES:
        raise ValueError(f"unknown reporting mode {mode!r}")
    n, f = inputs.retained_jobs, inputs.noncompliant_rate
    c = _customization_reads(profile, inputs)
    if profile.kind == "account":
        return DayUsage(s3_calls=profile.s3_calls_per_run, other_calls=profile.other_calls_per_run,
                        evaluations=EVALUATIONS_PER_ACCOUNT_RUN, paced=True)
    window = per_run(inputs.jobs_per_day, profile, inputs)
    if profile.kind in ("role", "discovery"):  # the window's jobs, every customization; no reconcile
        return DayUsage(transcribe_list=_window_pages(profile, inputs), transcribe_get=window + c,
                        s3_calls=profile.s3_calls_per_run, other_calls=profile.other_calls_per_run,
                        ssm_calls=SSM_CALLS_PER_INVOCATION, evaluations=EVALUATIONS_PER_REFERENCE_RUN, paced=True)
    jobs = profile.kind == "job"
    new, retained = (window, n) if jobs else (0, 0)
    tags = per_run(inputs.tag_changes_per_day, profile, inputs) if profile.tag_dependent and jobs else 0
    deletions = per_run(inputs.deletions_per_day, profile, inputs) if jobs else 0
    expired = new  # as many records expire a run as jobs are created (steady state)
    reported_c = c if profile.reports_customizations else 0
    heads = new if profile.head_object_per_job else 0
    day = DayUsage(
        transcribe_list=_window_pages(profile, inputs),
        transcribe_get=((new + tags) if profile.get_per_job else 0) + c,
        lookup_events=lookup_calls(profile, inputs),
        s3_calls=heads + profile.s3_calls_per_run,
        other_calls=profile.other_calls_per_run,
        ssm_calls=SSM_CALLS_PER_INVOCATION,
        paced=True, pipelined_s3=heads,
    )
    if reconciliation:
        day.transcribe_list = _full_pages(profile, inputs)
    if mode == "resource":
        # new jobs, deletions, tag changes, every customization; no stored-result paging on
        # ordinary runs
        day.evaluations = new + deletions + tags + reported_c
        if reconciliation:
            # page the stored COMPLIANT and NON_COMPLIANT results once (the N retained, the records
            # expired since the last reconcile, the customizations); retire the expired
            since_last = Fraction(MONTH_DAYS * inputs.jobs_per_day, reconciliation_runs(inputs)) if jobs else 0
            day.config_reads = max(1, ceil_div(retained + since_last + reported_c, CONFIG_PAGE_SIZE))
            day.evaluations += since_last
    else:
        # every invocation pages the stored NON_COMPLIANT results and retires the expired ones
        day.config_reads = max(1, ceil_div(f * (retained + reported_c), CONFIG_PAGE_SIZE))
        day.evaluations = 1 + f * (new + expired + deletions + tags + reported_c)
        if reconciliation:  # every job judged again (only NON_COMPLIANT results are stored)
            day.transcribe_get = (retained if profile.get_per_job else 0) + c
            day.pipelined_s3 = retained if profile.head_object_per_job else 0
            day.s3_calls = day.pipelined_s3 + profile.s3_calls_per_run
    return day


def read_rate(day: DayUsage, inputs: Inputs) -> Fraction:
    """Jobs read a second in a paced run: 28.5 (95% of 30 Gets/s) unless 4 reads in flight,
    each k calls at the latency, cannot reach it."""
    per_job = 1 + (Fraction(day.pipelined_s3) / day.transcribe_get if day.transcribe_get else 0)
    return min(GET_RATE, READS_IN_FLIGHT * 1000 / (per_job * inputs.call_latency_ms))


def run_seconds(day: DayUsage, inputs: Inputs) -> Fraction:
    """A run's duration. Naive: its calls one after another at the per-call latency. Paced (the
    functions): Gets at ``read_rate`` (with their HeadObjects), List pages at the latency but no
    faster than 4.75 a second, every other call one after another at the latency."""
    latency = inputs.call_latency_ms / 1000
    if not day.paced:
        return day.calls() * latency
    others = day.calls() - day.transcribe_list - day.transcribe_get - day.pipelined_s3
    gets = Fraction(day.transcribe_get) / read_rate(day, inputs) if day.transcribe_get else Fraction(0)
    return day.transcribe_list * max(latency, 1 / LIST_RATE) + gets + others * latency


def first_run(profile: Profile, inputs: Inputs) -> DayUsage:
    """A role, bucket or key rule's first function run (no checkpoint): it reads every retained job."""
    day = naive_day(profile, inputs)
    day.ssm_calls = SSM_CALLS_PER_INVOCATION
    day.paced = True
    return day


def first_run_invocations(profile: Profile, inputs: Inputs, limit: int = 10_000) -> tuple[int | None, int]:
    """(invocations, jobs read) for a role, bucket or key rule's first run over N jobs, or
    (None, jobs read) when an invocation cannot read a single page. Each invocation resumes at
    the List page where the last stopped (rules/inventory/job_references.py keeps its token), fetching
    that one page again."""
    latency = inputs.call_latency_ms / 1000
    page_seconds = max(latency, 1 / LIST_RATE)
    fixed = (SSM_CALLS_PER_INVOCATION + profile.s3_calls_per_run + profile.other_calls_per_run + 1) * latency
    fixed += (profile.job_kinds - 1 + profile.customization_kinds) * page_seconds
    fixed += Fraction(_customization_reads(profile, inputs)) / GET_RATE
    per_page = page_seconds + Fraction(LIST_PAGE_SIZE) / read_rate(DayUsage(transcribe_get=1), inputs)
    total, done = inputs.retained_jobs, 0
    for invocation in range(1, limit + 1):
        left = USABLE_SECONDS - fixed - (page_seconds if done else 0)  # the resumed page, fetched again
        pages = math.floor(left / per_page) if left > 0 else 0
        if pages <= 0:
            return None, done
        done = min(total, done + pages * LIST_PAGE_SIZE)
        if done >= total:
            return invocation, done
    return None, done


def month_of(days: Sequence[DayUsage], inputs: Inputs, resumes: bool) -> MonthUsage:
    """A month of runs, one invocation each. With ``resumes`` a run needing more than one
    invocation (870 s of calls) continues at the next, taking over the invocations of the runs
    after it (whose jobs the next run reads): it is counted in ``runs_spanning_invocations``,
    ``keeps_up`` says whether the month's work fits its invocations, and the month is billed for
    the work done, or 900 s an invocation when it falls behind. Without (naive), a run is cut off
    at 900 s, saves nothing and is counted in ``runs_cut_off``. Counts are summed exactly and
    rounded up once."""
    month = MonthUsage()
    sums: dict[str, Fraction] = {name: Fraction(0) for name in COUNTERS}
    for day, count in _repeats(days):  # runs of the same day counted at once (event triggers: tens of thousands)
        for name in COUNTERS:
            sums[name] += getattr(day, name) * count
        seconds = run_seconds(day, inputs)
        month.longest_run_seconds = max(month.longest_run_seconds, seconds)
        month.work_seconds += seconds * count
        month.invocations += count
        if resumes:
            month.runs_spanning_invocations += (seconds > USABLE_SECONDS) * count
        else:
            month.lambda_seconds += min(seconds, Fraction(LAMBDA_TIMEOUT_SECONDS)) * count
            month.runs_cut_off += (seconds > LAMBDA_TIMEOUT_SECONDS) * count
    month.counters = {name: math.ceil(value) for name, value in sums.items()}
    if resumes:
        month.keeps_up = month.work_seconds <= USABLE_SECONDS * len(days)
        month.lambda_seconds = (month.work_seconds if month.keeps_up
                                else Fraction(LAMBDA_TIMEOUT_SECONDS * len(days)))
    else:
        month.keeps_up = month.runs_cut_off == 0
    month.gb_seconds = month.lambda_seconds * inputs.memory_mb / 1024
    return month


def _repeats(days: Sequence[DayUsage]) -> list[tuple[DayUsage, int]]:
    """Consecutive entries that are the same object, as (day, how many)."""
    groups: list[tuple[DayUsage, int]] = []
    for day in days:
        if groups and groups[-1][0] is day:
            groups[-1] = (day, groups[-1][1] + 1)
        else:
            groups.append((day, 1))
    return groups


def reconciliation_runs(inputs: Inputs) -> int:
    """Reconcile runs in a 30-day month: one every D days."""
    return MONTH_DAYS // inputs.reconciliation_days


def rule_month(profile: Profile, inputs: Inputs, scenario: str, ledger: bool = False) -> MonthUsage:
    """A month of one rule in one scenario (naive, resource or summary): naive once a day; ours
    I runs (every h hours for the rules that read jobs), r of them reconcile runs for the rules
    that reconcile; ``ledger``: ours reading the ledger."""
    if scenario == "naive":
        return month_of([naive_day(profile, inputs)] * MONTH_DAYS, inputs, resumes=False)
    runs = invocations_per_month(profile, inputs)
    r = reconciliation_runs(inputs) if profile.kind in ("job", "customization") else 0
    days = ([ours_day(profile, inputs, scenario, reconciliation=False, ledger=ledger)] * (runs - r)
            + [ours_day(profile, inputs, scenario, reconciliation=True, ledger=ledger)] * r)
    return month_of(days, inputs, resumes=profile.resumes)


def keeps_up_at(profile: Profile, inputs: Inputs, scenario: str) -> int | None:
    """The longest --frequency (hours) at which the rule keeps up, or None if none does."""
    if not profile.follows_frequency:
        return None
    for hours in sorted(FREQUENCIES, reverse=True):
        if rule_month(profile, dataclasses.replace(inputs, frequency_hours=hours), scenario).keeps_up:
            return hours
    return None


# --- dollars -----------------------------------------------------------------------------------

def marginal_tiered_cost(count: int, existing: int, tiers: Sequence[Sequence[Any]] | None = None) -> Fraction:
    """USD for ``count`` evaluations added to ``existing`` ones already billed that month: the
    tiers are filled from where the existing evaluations left them."""
    return tiered_cost(existing + count, tiers) - tiered_cost(existing, tiers)


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
        "work_seconds": round(float(month.work_seconds), 3),
        "runs_cut_off_at_900s": month.runs_cut_off,
        "runs_spanning_invocations": month.runs_spanning_invocations,
        "keeps_up": month.keeps_up,
        "config_usd": round(float(config_usd), 6),
        "lambda_usd": round(float(lambda_usd), 6),
        "s3_usd": round(float(s3_usd), 6),
        "total_usd": round(float(config_usd + lambda_usd + s3_usd), 6),
    }


def _first_run_figures(profile: Profile, inputs: Inputs) -> dict[str, Any]:
    invocations, jobs_read = first_run_invocations(profile, inputs)
    return {"work_seconds": round(float(run_seconds(first_run(profile, inputs), inputs)), 3),
            "invocations": invocations, "completes": invocations is not None,
            "jobs_read": jobs_read if invocations is None else inputs.retained_jobs}


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
        config_total = marginal_tiered_cost(evaluations, inputs.existing_evaluations)
        rules = {}
        for p in profiles:
            month = months[p.name]
            share = Fraction(month.counters["evaluations"], evaluations) if evaluations else Fraction(0)
            rules[p.name] = _figures(month, config_total * share)
            if scenario != "naive" and not month.keeps_up:
                rules[p.name]["keeps_up_at_frequency_hours"] = keeps_up_at(p, inputs, scenario)
        scenarios[scenario] = {"rules": rules, "total": _figures(total, config_total)}
    return {
        "inputs": {
            "jobs_per_day": inputs.jobs_per_day, "retention_days": inputs.retention_days,
            "retained_jobs": inputs.retained_jobs, "noncompliant_rate": float(inputs.noncompliant_rate),
            "reconciliation_days": inputs.reconciliation_days,
            "reconciliation_runs_per_month": reconciliation_runs(inputs),
            "tag_changes_per_day": inputs.tag_changes_per_day, "deletions_per_day": inputs.deletions_per_day,
            "customizations": inputs.customizations, "call_latency_ms": float(inputs.call_latency_ms),
            "memory_mb": inputs.memory_mb, "allowed_output_buckets": inputs.allowed_output_buckets,
            "evidence_source": inputs.evidence_source, "month_days": MONTH_DAYS,
            "frequency_hours": inputs.frequency_hours, "existing_evaluations": inputs.existing_evaluations,
            "job_rule_invocations_per_month": MONTH_DAYS * 24 // inputs.frequency_hours,
            "rules": [p.name for p in profiles], "reporting_modes": list(modes),
        },
        "profiles": {p.name: {"kind": p.kind, "get_per_job": p.get_per_job,
                              "head_object_per_job": p.head_object_per_job, "tag_dependent": p.tag_dependent,
                              "job_kinds_listed": p.job_kinds, "customization_kinds_listed": p.customization_kinds,
                              "lookup_event_names": list(p.lookup_event_names), "resumes": p.resumes,
                              "checkpoint": p.checkpointed, "follows_frequency": p.follows_frequency,
                              "runs_per_month": invocations_per_month(p, inputs)} for p in profiles},
        # The bucket, key and role rules' first function run reads every retained job, resuming
        # over invocations; the monthly figures are for later runs.
        "first_run": {p.name: _first_run_figures(p, inputs) for p in profiles if p.kind in ("role", "discovery")},
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
    ("SSM checkpoint calls", "ssm_calls"),
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


def _flag(figures: Mapping[str, Any]) -> str:
    if figures["runs_cut_off_at_900s"] or not figures["keeps_up"]:
        return "!"
    return "~" if figures["runs_spanning_invocations"] else ""


def render_table(result: dict[str, Any]) -> str:
    """Per-rule dollars and the monthly totals by metric, naive vs each reporting mode."""
    inputs, scenarios = result["inputs"], result["scenarios"]
    modes = inputs["reporting_modes"]
    columns = ["naive"] + [f"ours-{m}" for m in modes]
    lines = [f"Per month (30 days), J={inputs['jobs_per_day']:,} jobs/day, R={inputs['retention_days']} days "
             f"(N={inputs['retained_jobs']:,} jobs retained), reconciliation every {inputs['reconciliation_days']} "
             f"days, non-compliant rate {inputs['noncompliant_rate']:g}, {inputs['tag_changes_per_day']:,} tag "
             f"changes and {inputs['deletions_per_day']:,} deletions a day, {inputs['customizations']:,} "
             f"customizations; the rules that read jobs run every {inputs['frequency_hours']} hours "
             f"({inputs['job_rule_invocations_per_month']:,} invocations a month), the others daily. A model, not a "
             "measurement.", ""]

    def table(headers: list[str], rows: list[list[str]]) -> None:
        widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
        for row in [headers, *rows]:
            cells = [row[0].ljust(widths[0])] + [v.rjust(w) for v, w in zip(row[1:], widths[1:])]
            lines.append("  ".join(cells).rstrip())

    ratio_headers = [f"naive/{m}" for m in modes]
    rows = []
    for name in inputs["rules"]:
        naive = scenarios["naive"]["rules"][name]
        row = [name, _number(naive["total_usd"], True) + _flag(naive)]
        row += [_number(scenarios[m]["rules"][name]["total_usd"], True) + _flag(scenarios[m]["rules"][name])
                for m in modes]
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

    def rules_where(scenario: str, test: Any) -> list[str]:
        return [n for n in inputs["rules"] if test(scenarios[scenario]["rules"][n])]

    if rules_where("naive", lambda r: r["runs_cut_off_at_900s"]):
        lines.append("! naive: a run needs more than 900 s: it cannot finish in one Lambda invocation (it times out "
                     "every day; dollars count the 900 s it is billed).")
    hours = inputs["frequency_hours"]
    behind = {}
    for m in modes:
        for n in rules_where(m, lambda r: not r["keeps_up"]):
            at = scenarios[m]["rules"][n].get("keeps_up_at_frequency_hours")
            behind.setdefault(n, []).append(f"{m}: " + (f"--frequency {at}" if at else "no frequency"))
    if behind:
        lines.append(f"! ours: {', '.join(sorted(behind))}: the month's runs need more than "
                     f"{inputs['job_rule_invocations_per_month']:,} invocations (one every {hours} hours) of 870 s, so "
                     "they fall further behind every run (figures count the work needed; dollars 900 s an "
                     "invocation). Keeps up at: " + "; ".join(f"{n} ({', '.join(v)})" for n, v in sorted(behind.items()))
                     + ".")
    spanning = {m: [r["longest_run_seconds"] for r in scenarios[m]["rules"].values()
                    if r["runs_spanning_invocations"] and r["keeps_up"]] for m in modes}
    if any(spanning.values()):
        lines.append("~ a run needs more than one invocation (870 s) and resumes at the rule's next one (longest: "
                     + ", ".join(f"{m} {max(seconds):,.0f} s" for m, seconds in spanning.items() if seconds)
                     + "); the month still fits its invocations. A reconcile listing that spans invocations skips "
                     "the comparison of unlisted results (rules/engine/incremental.py).")
    for name, first in result["first_run"].items():
        if first["completes"] and first["invocations"] > 1:
            lines.append(f"First run: {name} reads all {inputs['retained_jobs']:,} retained jobs over "
                         f"{first['invocations']:,} invocations ({first['invocations'] * hours:,} hours at one every "
                         f"{hours} hours). The figures are for later runs.")
        elif not first["completes"]:
            lines.append(f"! First run: {name} stops after about {first['jobs_read']:,} of the "
                         f"{inputs['retained_jobs']:,} retained jobs: an invocation's fixed calls leave no time to read "
                         "a page. The figures are for later runs.")
    existing = result["inputs"]["existing_evaluations"]
    lines.append(f"Config tiers start after {existing:,} other evaluations billed in the region this month "
                 "(--existing-evaluations; 0, the default, is the worst case)." if existing else
                 "Config tiers start at zero: no other evaluations billed in the region assumed, the worst case "
                 "(--existing-evaluations).")
    lines.append("Per-rule Config dollars are each rule's share of the tiered total, at that column's average "
                 "price per evaluation.")
    prices = result["prices"]
    tiers = prices["config_evaluation_tiers"]["tiers"]
    lines.append(f"Prices read on {prices['read_on']} ({prices['region']}): Config conformance pack evaluations "
                 f"${tiers[0][1]} (first 100,000), ${tiers[1][1]} (next 400,000), ${tiers[2][1]} (beyond; "
                 "unverified); Lambda x86 $0.20 per million requests, "
                 f"${prices['lambda']['gb_second_usd']:.8f} per GB-second; S3 GET/HEAD "
                 f"${prices['s3_get_head_per_1000_usd']} per 1,000. Sources: docs/costs.md or --format json.")
    lines.append("Free of charge, counted but not priced: Transcribe API calls, CloudTrail LookupEvents, "
                 "Config result reads, SSM standard-parameter checkpoint reads and writes.")
    return "\n".join(lines) + "\n"


# --- event triggers (EnableEventTriggers=true; rules/engine/trigger.py) --------------------------

MONTH_SECONDS = MONTH_DAYS * SECONDS_PER_DAY
EVENT_TRIGGER_MEMORY_MB = 128  # the trigger function's MemorySize (transcribe_guard/templates.py)
SWEEPS_PER_MONTH = MONTH_DAYS * 24 * 60  # the one-minute sweep schedule
# Calls an invocation makes: DescribeConfigRules (one page for the pack), GetParameter,
# PutParameter, and DescribeConfigRuleEvaluationStatus or StartConfigRulesEvaluation.
EVENT_TRIGGER_CALLS = 4
EVENT_TRIGGER_OVERHEAD_SECONDS = Fraction(1, 20)  # assumed: the handler's own time besides its calls
# Assumed: how long one evaluation keeps further StartConfigRulesEvaluation calls for its rules
# waiting: at least Config's one call a minute, plus Config's dispatch and the runs of the rules
# (the bench measures the latency this gives in the simulator; AWS documents no dispatch time).
EVENT_CYCLE_SECONDS = 90

EVENT_ASSUMPTIONS = (
    "Event triggers: every job's COMPLETED or FAILED state-change event, every tag change and every deletion is one "
    "trigger invocation, plus the one-minute sweep (43,200 a month); each invocation makes 4 calls at "
    "--call-latency-ms plus 0.05 s of its own, at 128 MB.",
    "Events arriving while an evaluation runs are coalesced: with E events a month (Poisson) and a cycle of 90 s per "
    "evaluation (Config's one call a minute plus dispatch and run; assumed), the rules a job event concerns get "
    "R = 2,592,000 / (90 + 2,592,000/E) extra runs a month, on top of their periodic runs, which stay the safety "
    "net. Each extra run is an incremental run over the jobs since the last one: every job is still judged once, "
    "but each run pays its fixed calls and, for the bucket, key and role rules (and summary mode), its "
    "per-run evaluation.",
)


def event_driven_runs(inputs: Inputs) -> int:
    """R: the extra runs a month of the rules a job event concerns (coalesced)."""
    events = MONTH_DAYS * (inputs.jobs_per_day + inputs.tag_changes_per_day + inputs.deletions_per_day)
    if not events:
        return 0
    return math.floor(Fraction(MONTH_SECONDS) / (EVENT_CYCLE_SECONDS + Fraction(MONTH_SECONDS, events)))


def event_trigger_invocations(inputs: Inputs) -> int:
    return MONTH_DAYS * (inputs.jobs_per_day + inputs.tag_changes_per_day + inputs.deletions_per_day) + SWEEPS_PER_MONTH


def event_triggered_rules(names: Sequence[str]) -> list[str]:
    """The selected rules a standard transcription job's event concerns (the registry's mapping)."""
    from rules.engine.trigger import rules_by_kind

    concerned = set(rules_by_kind()["transcription-job"])
    return [name for name in names if name in concerned]


def event_triggers(inputs: Inputs, rule_metadata: Sequence[Mapping[str, Any]], result: dict[str, Any]) -> dict[str, Any]:
    """What EnableEventTriggers adds to ``estimate``'s result, per reporting mode: the trigger
    function, the extra runs of the concerned rules, and the new totals."""
    profiles = {m["name"]: profile_for(m, inputs) for m in rule_metadata}
    concerned = event_triggered_rules(list(profiles))
    extra_runs = event_driven_runs(inputs)
    invocations = event_trigger_invocations(inputs)
    seconds = invocations * (EVENT_TRIGGER_CALLS * inputs.call_latency_ms / 1000 + EVENT_TRIGGER_OVERHEAD_SECONDS)
    trigger_gb = seconds * EVENT_TRIGGER_MEMORY_MB / 1024
    trigger_usd = lambda_cost(invocations, trigger_gb)
    modes: dict[str, Any] = {}
    for mode in result["inputs"]["reporting_modes"]:
        periodic = result["scenarios"][mode]
        extra = MonthUsage()
        for name in concerned:
            profile = dataclasses.replace(profiles[name], follows_frequency=True)
            base = rule_month(profile, inputs, mode)
            runs = invocations_per_month(profile, inputs) + extra_runs
            with_events = rule_month(profile, dataclasses.replace(inputs, frequency_hours=Fraction(720, runs)), mode)
            for counter in COUNTERS:
                extra.counters[counter] += max(0, with_events.counters[counter] - base.counters[counter])
            extra.invocations += with_events.invocations - base.invocations
            extra.gb_seconds += max(Fraction(0), with_events.gb_seconds - base.gb_seconds)
        evaluations = periodic["total"]["evaluations"]
        config_extra = marginal_tiered_cost(extra.counters["evaluations"], inputs.existing_evaluations + evaluations)
        rules_lambda = lambda_cost(extra.invocations, extra.gb_seconds)
        s3_extra = s3_cost(extra.counters["s3_calls"])
        added = config_extra + rules_lambda + s3_extra + trigger_usd
        modes[mode] = {
            "extra_rule_invocations": extra.invocations, "extra_evaluations": extra.counters["evaluations"],
            "extra_rule_gb_seconds": round(float(extra.gb_seconds), 3),
            "extra_config_usd": round(float(config_extra), 6), "extra_rules_lambda_usd": round(float(rules_lambda), 6),
            "extra_s3_usd": round(float(s3_extra), 6), "trigger_lambda_usd": round(float(trigger_usd), 6),
            "added_usd": round(float(added), 6),
            "total_usd": round(periodic["total"]["total_usd"] + float(added), 6),
        }
    return {"concerned_rules": concerned, "extra_runs_per_rule": extra_runs, "trigger_invocations": invocations,
            "trigger_gb_seconds": round(float(trigger_gb), 3), "cycle_seconds_assumed": EVENT_CYCLE_SECONDS,
            "modes": modes, "assumptions": list(EVENT_ASSUMPTIONS)}


def render_event_triggers(block: dict[str, Any], periodic_totals: Mapping[str, float]) -> str:
    lines = [f"With event triggers (EnableEventTriggers=true): {block['trigger_invocations']:,} trigger invocations a "
             f"month ({SWEEPS_PER_MONTH:,} of them the one-minute sweep); {block['extra_runs_per_rule']:,} extra runs "
             f"a month of each of the {len(block['concerned_rules'])} rules a job event concerns (coalesced, "
             f"{block['cycle_seconds_assumed']} s a cycle assumed)."]
    headers = ["MODE ($/month)", "periodic", "+trigger", "+rule runs", "+evaluations", "total", "extra evaluations"]
    rows = []
    for mode, figures in block["modes"].items():
        rows.append([mode, _number(periodic_totals[mode], True), _number(figures["trigger_lambda_usd"], True),
                     _number(figures["extra_rules_lambda_usd"] + figures["extra_s3_usd"], True),
                     _number(figures["extra_config_usd"], True), _number(figures["total_usd"], True),
                     _number(figures["extra_evaluations"])])
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        lines.append("  ".join([row[0].ljust(widths[0])] + [v.rjust(w) for v, w in zip(row[1:], widths[1:])]).rstrip())
    lines.append("A model: see docs/costs.md (Event triggers) for the assumptions; `python -m transcribe_guard.bench` "
                 "measures the latency.")
    return "\n".join(lines) + "\n"


# --- the ledger (TranscribeLedger=enabled; rules/inventory/ledger.py, rules/engine/collector.py) ----

LEDGER_PRICES: dict[str, Any] = {
    "read_on": "2026-12-02",
    "region": "us-east-1",
    "dynamodb": {
        "write_request_unit_usd": 0.625 / 1_000_000,
        "read_request_unit_usd": 0.125 / 1_000_000,
        "storage_gb_month_usd": 0.25,
        "pitr_gb_month_usd": 0.20,
        "bytes_per_gb": 1_000_000_000,
        "applies_to": "on-demand (PAY_PER_REQUEST), Standard table class, no free tier (the 25 GB of free storage is "
                      "account-wide)",
        "sources": [
            "https://aws.amazon.com/dynamodb/pricing/on-demand/ (AWS): a strongly consistent read of up to 4 KB is one "
            "read request unit, an eventually consistent one half; a standard write of up to 1 KB is one write request "
            "unit; the stored copy is cut off before the prices",
            "https://github.com/aws/agent-toolkit-for-aws, skills/specialized-skills/database-skills/amazon-dynamodb/"
            "scripts/calculate_costs.py (AWS's repository): $0.625 per million write request units, $0.125 per million "
            "read request units, $0.25 per GB-month (Standard), 100 bytes of storage overhead per item, decimal GB; "
            "a Query rounds the total bytes it reads up to 4 KB once, BatchGetItem each item; a read of an item that "
            "does not exist still consumes the minimum; a PutItem or UpdateItem is sized on the larger of the item "
            "before and after; a KEYS_ONLY index write is sized by its projected keys",
            "https://airbyte.com/data-engineering-resources/dynamodb-pricing (third party): US East on-demand $0.625 "
            "per million write request units, $0.125 per million read request units (after the November 2024 cut)",
            "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html (AWS): "
            "every item needs 100 bytes of storage overhead for indexing",
            "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Point-in-time-recovery.html (AWS, via a "
            "proxy copy): the point-in-time recovery price is based on the size of the table and its local secondary "
            "indexes (not its global secondary indexes)",
            "https://finops.com.py/services/dynamodb/backups (third party): continuous backups (PITR) $0.20 per "
            "GB-month of table size",
            "https://repost.aws/questions/QU8eKVThPzQR6wDdx0KZr0YQ (AWS re:Post answer, citing "
            "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html): TTL deletes are "
            "free of charge",
        ],
        "unverified": "no stored AWS pricing page shows the dollar figures themselves (read from AWS's own cost "
                      "calculator code and third-party pages); the point-in-time recovery price ($0.20 per "
                      "GB-month) only from a third party; confirm on https://aws.amazon.com/dynamodb/pricing/on-demand/",
    },
    "kms": {
        "request_usd": 0.03 / 10_000,
        "key_month_usd": 1.0,
        "sources": [
            "https://aws.amazon.com/kms/pricing/ (AWS): each KMS key you create costs $1/month; no charge for AWS "
            "managed keys themselves, but \"you will be charged on any API request made to AWS-managed keys\"; the "
            "free tier is 20,000 requests a month across all Regions",
            "https://www.wring.co/blog/aws-kms-pricing-guide (third party): symmetric key requests $0.03 per 10,000",
            "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.howitworks.html (AWS, an "
            "older stored copy): \"DynamoDB does not call KMS for every single DynamoDB operation. The key is "
            "refreshed once every five minutes\" (the copy is cut off there)",
        ],
        "assumption": "DynamoDB calls KMS once per 5 minutes per function environment using the table (its "
                      "collector and each rule function): one request per invocation plus one per 5 minutes it "
                      "runs, at most one per 5 minutes all month each; the same with DynamoDB's AWS managed key "
                      "(requests to AWS managed keys are charged too). The key's own $1 a month is not counted: "
                      "LedgerKmsKeyArn names a key you have; the free tier is not applied.",
        "unverified": "the request price and the 5-minute refresh per caller are not in a complete stored AWS page",
    },
    "eventbridge": {
        "usd": 0,
        "sources": [
            "https://aws.amazon.com/eventbridge/pricing/ (AWS): \"AWS management events are ingested by the event bus "
            "for free\"; over 250 AWS services send events to the default event bus; delivery is charged only to "
            "a service in a different account (the pricing example)",
        ],
        "applies_to": "Transcribe's job state change events and its API calls via CloudTrail, on the default bus, "
                      "delivered to the collector in the same account; the hourly schedule (a scheduled rule)",
        "unverified": "the price of legacy scheduled rules is not on the stored page (EventBridge Scheduler's "
                      "price list has 14 million free invocations a month, then $1 per million: at 720 a month "
                      "either is $0); that job state change events count as \"AWS management events\" is our "
                      "reading; the CloudTrail trail the API events need is the pack's own and not priced here",
    },
}

LEDGER_SWEEP_HOURS = 1  # LEDGER_SWEEP_SCHEDULE "rate(1 hour)" (transcribe_guard/templates.py)
SWEEPS_A_MONTH = MONTH_DAYS * 24 // LEDGER_SWEEP_HOURS
SWEEP_LOOKBACK_MINUTES = 60 * LEDGER_SWEEP_HOURS + 5  # back to the watermark less SKEW (rules/engine/incremental.py)
QUOTA_CALLS = 1  # ListServiceQuotas, one page, at the start of every collector invocation
FIVE_MINUTES_A_MONTH = MONTH_SECONDS // 300
KMS_REFRESH_SECONDS = 300
JOB_KINDS_SWEPT = 4  # standard, medical, call analytics, medical scribe
CUSTOMIZATION_KINDS_SWEPT = 5

LEDGER_ASSUMPTIONS = (
    "The ledger holds one item per job: a typical completed standard transcription job's record (redaction, output "
    "and media locations, data access role, 3 tags) is item_bytes() of rules/inventory/ledger.py's make_record; "
    "every write is ceil(size / 1 KB) write request units, a new item or a deletion one more for the keys-only "
    "arn index. Records kept 97 days (90 + the 7-day TTL margin; TTL deletes are free; DynamoDB's up to 2 days "
    "of lag not counted), plus one per customization at the job record's size; 100 bytes of overhead each.",
    "Collector: one invocation per job's final state change event (PutItem after its one Get), per tag change "
    "(UpdateItem of the tags) and per deletion (a Get confirming it is gone, DeleteItem), each after an arn-index "
    "Query; plus the hourly sweep, which lists each job kind back to the last sweep (paced at 0.2 x 95% of List's "
    "5/s), reads the listed jobs' records (BatchGetItem, strongly consistent, one unit an item, 100 a page "
    "counted), its 5 watermarks (GetItem and PutItem) and each customization kind's records, and reads CloudTrail's "
    "history (one LookupEvents page per name, at 0.2 x 95% of its 2/s), meeting every delivered tag change and "
    "deletion again (re-applied). Every job event is delivered (all jobs are standard "
    "transcription jobs, which have one) and finishes between sweeps; a job a sweep sees unfinished would add one "
    "PutItem and one GetItem. Calls at --call-latency-ms one after another, 0.05 s of its own, at --memory-mb.",
    "Rules reading the ledger: each List page the live run makes is one Query page (eventually consistent, as "
    "LedgerStore.query reads; every page counted as 100 records: an upper bound), no Transcribe Get or "
    "ListTagsForResource; a job a tag event names is one arn-index Query and one strongly consistent GetItem. "
    "DynamoDB calls are not paced; their Lambda time is counted like any other call's.",
)


@dataclass(frozen=True)
class LedgerRecord:
    """The sizes the ledger model prices by (bytes, as DynamoDB counts them)."""

    item_bytes: int  # a typical job record
    index_bytes: int  # its arn-index projection (pk, sk, arn)

    @property
    def write_units(self) -> int:
        return math.ceil(self.item_bytes / 1024)

    @property
    def strong_read_units(self) -> int:
        return max(1, math.ceil(self.item_bytes / 4096))

    @property
    def page_read_units(self) -> Fraction:
        """An eventually consistent Query page of 100 records: the total rounded up to 4 KB, halved."""
        return Fraction(math.ceil(LIST_PAGE_SIZE * self.item_bytes / 4096), 2)


def typical_record() -> LedgerRecord:
    """The sizes of a typical ledger record, built by the ledger's own code (make_record,
    item_bytes) from a completed standard transcription job: redacted, output to a customer
    bucket, a data access role, three tags."""
    import datetime as dt

    from rules.inventory import ledger
    from rules.inventory.transcribe import TRANSCRIPTION_JOB

    created = dt.datetime(2026, 11, 30, 9, 15, tzinfo=dt.timezone.utc)
    name = "call-2026-11-30-000123"
    summary = {"TranscriptionJobName": name, "CreationTime": created,
               "CompletionTime": created + dt.timedelta(minutes=4), "TranscriptionJobStatus": "COMPLETED",
               "OutputLocationType": "CUSTOMER_BUCKET",
               "ContentRedaction": {"RedactionType": "PII", "RedactionOutput": "redacted", "PiiEntityTypes": ["ALL"]}}
    output = f"https://s3.us-east-1.amazonaws.com/acme-cc-transcripts/redacted/{name}.json"
    detail = {**summary, "Media": {"MediaFileUri": "s3://acme-cc-call-audio/calls/2026/11/30/call-000123.wav"},
              "Transcript": {"TranscriptFileUri": output, "RedactedTranscriptFileUri": output},
              "JobExecutionSettings": {"DataAccessRoleArn": "arn:aws:iam::123456789012:role/transcribe-data-access"}}
    tags = {"CostCenter": "cc-1234", "DataClassification": "confidential", "Team": "contact-center"}
    record = ledger.make_record(TRANSCRIPTION_JOB, "123456789012", "us-east-1", "aws", name, summary, detail, tags,
                                created.timestamp() + 300)
    item = ledger.serialize(record)
    return LedgerRecord(ledger.item_bytes(item), ledger.item_bytes({k: item[k] for k in ("pk", "sk", "arn")}))


def retained_records(inputs: Inputs) -> int:
    """Records kept: every job for 90 days plus the TTL margin, and every customization."""
    from rules.inventory.ledger import JOB_RETENTION, TTL_MARGIN

    return inputs.jobs_per_day * (JOB_RETENTION + TTL_MARGIN).days + inputs.customizations


def collector_month(inputs: Inputs, record: LedgerRecord) -> dict[str, Any]:
    """A month of the collector: invocations, Lambda seconds, DynamoDB request units, Transcribe Gets."""
    from rules.engine.collector import DEFAULT_GET_SHARE, HISTORY_EVENTS
    from rules.engine.pacing import DOCUMENTED_QUOTAS, HEADROOM

    latency = inputs.call_latency_ms / 1000
    overhead = EVENT_TRIGGER_OVERHEAD_SECONDS
    jobs, tags, deletions = (MONTH_DAYS * n for n in (inputs.jobs_per_day, inputs.tag_changes_per_day,
                                                      inputs.deletions_per_day))
    index_query = Fraction(1, 2)  # an eventually consistent Query of the keys-only index: the minimum
    # Job event: ListServiceQuotas, arn-index Query, the Get, PutItem (+1 unit: the new index item).
    # Tag event: ..., ListTagsForResource, UpdateItem. Deletion: ..., the record (arn-index Query,
    # GetItem), the Get that confirms it is gone, arn-index Query, DeleteItem (+1: the index item).
    event_seconds = (jobs * 4 + tags * 4 + deletions * 6) * latency + (jobs + tags + deletions) * overhead
    write_units = jobs * (record.write_units + 1) + tags * record.write_units + deletions * (record.write_units + 1)
    read_units = (jobs + tags) * index_query + deletions * (2 * index_query + record.strong_read_units)
    # The sweep meets every delivered tag change and deletion again in CloudTrail's history and
    # applies it again: a tag change re-read (arn-index Query, ListTagsForResource, UpdateItem), a
    # deletion found already retired (arn-index Query).
    repeat_seconds = (tags * 3 + deletions) * latency
    repeat_writes = tags * record.write_units
    repeat_reads = (tags + deletions) * index_query
    # A sweep: List pages (standard jobs since the last sweep, one each for the other kinds and the
    # customization kinds), a BatchGetItem per page of standard jobs, 4 watermark reads and writes,
    # a Query per customization kind.
    swept = Fraction(inputs.jobs_per_day * SWEEP_LOOKBACK_MINUTES, 24 * 60)
    job_pages = ceil_div(swept, LIST_PAGE_SIZE) + 1
    list_pages = job_pages + (JOB_KINDS_SWEPT - 1) + CUSTOMIZATION_KINDS_SWEPT
    list_rate = 5 * Fraction(str(DEFAULT_GET_SHARE)) * Fraction(str(HEADROOM))
    sweep_calls = QUOTA_CALLS + job_pages + 2 * JOB_KINDS_SWEPT + CUSTOMIZATION_KINDS_SWEPT
    # And CloudTrail's history: one LookupEvents page per name in HISTORY_EVENTS (paced at the
    # share of its 2/s), and the history watermark read and written.
    lookup_rate = DOCUMENTED_QUOTAS["lookup_events"] * Fraction(str(DEFAULT_GET_SHARE)) * Fraction(str(HEADROOM))
    history_seconds = len(HISTORY_EVENTS) * max(latency, 1 / lookup_rate) + 2 * latency
    sweep_seconds = list_pages * max(latency, 1 / list_rate) + sweep_calls * latency + overhead + history_seconds
    sweep_writes = JOB_KINDS_SWEPT + 1  # the watermarks (no arn: no index write)
    sweep_reads = (job_pages * LIST_PAGE_SIZE + JOB_KINDS_SWEPT + 1
                   + CUSTOMIZATION_KINDS_SWEPT * record.page_read_units)
    invocations = jobs + tags + deletions + SWEEPS_A_MONTH
    seconds = event_seconds + SWEEPS_A_MONTH * sweep_seconds + repeat_seconds
    return {"invocations": invocations, "seconds": seconds, "gb_seconds": seconds * inputs.memory_mb / 1024,
            "write_units": write_units + SWEEPS_A_MONTH * sweep_writes + repeat_writes,
            "read_units": read_units + SWEEPS_A_MONTH * sweep_reads + repeat_reads,
            "sweep_seconds": sweep_seconds, "transcribe_get": jobs + deletions,
            "transcribe_list": SWEEPS_A_MONTH * list_pages,
            "lookup_events": SWEEPS_A_MONTH * len(HISTORY_EVENTS)}


def kms_requests(invocations: int, seconds: Fraction) -> int:
    """KMS requests DynamoDB makes for one function's month: one per invocation plus one per 5
    minutes of run time, at most one per 5 minutes of the month (LEDGER_PRICES["kms"])."""
    return min(FIVE_MINUTES_A_MONTH, invocations + math.ceil(seconds / KMS_REFRESH_SECONDS))


def ledger_block(inputs: Inputs, rule_metadata: Sequence[Mapping[str, Any]], result: dict[str, Any]) -> dict[str, Any]:
    """What TranscribeLedger=enabled changes in ``estimate``'s result, per reporting mode: the
    collector, the table (requests, storage, point-in-time recovery), KMS, EventBridge, and the
    rules' shorter runs."""
    prices = LEDGER_PRICES["dynamodb"]
    wru, rru = Fraction(str(prices["write_request_unit_usd"])), Fraction(str(prices["read_request_unit_usd"]))
    record = typical_record()
    collector = collector_month(inputs, record)
    collector_lambda = lambda_cost(collector["invocations"], collector["gb_seconds"])
    records = retained_records(inputs)
    table_bytes = records * (record.item_bytes + 100)
    index_bytes = records * (record.index_bytes + 100)
    gb = Fraction(prices["bytes_per_gb"])
    storage_usd = (table_bytes + index_bytes) / gb * Fraction(str(prices["storage_gb_month_usd"]))
    pitr_usd = table_bytes / gb * Fraction(str(prices["pitr_gb_month_usd"]))
    kms_price = Fraction(str(LEDGER_PRICES["kms"]["request_usd"]))
    collector_kms = kms_requests(collector["invocations"], collector["seconds"])
    profiles = [profile_for(m, inputs) for m in rule_metadata]
    modes: dict[str, Any] = {}
    for mode in result["inputs"]["reporting_modes"]:
        live_lambda, ledger_lambda = Fraction(0), Fraction(0)
        queries = lookups = rule_kms = 0
        behind: list[str] = []  # rules whose month of ledger reads does not fit their invocations
        live_gets = result["scenarios"][mode]["total"]["transcribe_get"]
        for p in profiles:
            live = rule_month(p, inputs, mode)
            month = rule_month(p, inputs, mode, ledger=True)
            live_lambda += lambda_cost(live.invocations, live.gb_seconds)
            ledger_lambda += lambda_cost(month.invocations, month.gb_seconds)
            queries += month.counters["ledger_queries"]
            if not month.keeps_up:
                behind.append(p.name)
            lookups += month.counters["ledger_lookups"]
            if p.kind != "account":  # the account rules never touch the table
                rule_kms += kms_requests(month.invocations, month.work_seconds)
        rule_reads = queries * record.page_read_units + lookups * (Fraction(1, 2) + record.strong_read_units)
        read_units = collector["read_units"] + rule_reads
        requests_usd = collector["write_units"] * wru + read_units * rru
        kms_usd = (collector_kms + rule_kms) * kms_price
        dynamodb_usd = requests_usd + storage_usd + pitr_usd
        added = dynamodb_usd + kms_usd + collector_lambda - (live_lambda - ledger_lambda)
        periodic = result["scenarios"][mode]["total"]["total_usd"]
        modes[mode] = {
            "rule_query_pages": queries, "rule_lookups": lookups,
            "read_request_units": float(read_units), "write_request_units": collector["write_units"],
            "dynamodb_requests_usd": round(float(requests_usd), 6),
            "kms_requests": collector_kms + rule_kms, "kms_usd": round(float(kms_usd), 6),
            "rules_lambda_usd_live": round(float(live_lambda), 6),
            "rules_lambda_usd_ledger": round(float(ledger_lambda), 6),
            "rules_lambda_saved_usd": round(float(live_lambda - ledger_lambda), 6),
            "transcribe_get_live": live_gets, "transcribe_get_ledger": collector["transcribe_get"],
            "added_usd": round(float(added), 6), "total_usd": round(periodic + float(added), 6),
            "rules_falling_behind": sorted(behind),
        }
    return {
        "record_bytes": record.item_bytes, "index_bytes": record.index_bytes,
        "write_units_per_write": record.write_units, "page_read_units": float(record.page_read_units),
        "retained_records": records, "table_gb": float(table_bytes / gb), "index_gb": float(index_bytes / gb),
        "storage_usd": round(float(storage_usd), 6), "pitr_usd": round(float(pitr_usd), 6),
        "collector": {"invocations": collector["invocations"], "lambda_seconds": round(float(collector["seconds"]), 3),
                      "gb_seconds": round(float(collector["gb_seconds"]), 3),
                      # Reserved concurrency 1: the share of the month the one collector is busy.
                      "busy_share": round(float(collector["seconds"] / MONTH_SECONDS), 4),
                      "lambda_usd": round(float(collector_lambda), 6), "sweeps": SWEEPS_A_MONTH,
                      "sweep_seconds": round(float(collector["sweep_seconds"]), 3),
                      "write_request_units": collector["write_units"],
                      "read_request_units": float(collector["read_units"]), "kms_requests": collector_kms,
                      "transcribe_get": collector["transcribe_get"], "transcribe_list": collector["transcribe_list"]},
        "eventbridge_usd": 0, "modes": modes, "assumptions": list(LEDGER_ASSUMPTIONS), "prices": LEDGER_PRICES,
    }


def render_ledger(block: dict[str, Any], periodic_totals: Mapping[str, float]) -> str:
    collector = block["collector"]
    lines = [f"With the ledger (TranscribeLedger=enabled): {block['retained_records']:,} records of "
             f"{block['record_bytes']:,} bytes ({block['write_units_per_write']} write unit a write, "
             f"{block['page_read_units']:g} read units a Query page of 100), {block['table_gb']:,.2f} GB + "
             f"{block['index_gb']:,.2f} GB of arn index; the collector: {collector['invocations']:,} invocations "
             f"({collector['sweeps']:,} of them the hourly sweep; busy {collector['busy_share']:.1%} of the month, "
             f"reserved concurrency 1), {collector['transcribe_get']:,} Transcribe Gets (one per job and per deletion, the only ones)."]
    headers = ["MODE ($/month)", "periodic", "-rule Lambda", "+collector", "+DynamoDB req", "+storage+PITR", "+KMS",
               "+EventBridge", "total", "Gets live", "Gets ledger"]
    rows = []
    for mode, figures in block["modes"].items():
        rows.append([mode, _number(periodic_totals[mode], True), _number(figures["rules_lambda_saved_usd"], True),
                     _number(collector["lambda_usd"], True), _number(figures["dynamodb_requests_usd"], True),
                     _number(block["storage_usd"] + block["pitr_usd"], True), _number(figures["kms_usd"], True),
                     _number(block["eventbridge_usd"], True), _number(figures["total_usd"], True),
                     _number(figures["transcribe_get_live"]), _number(figures["transcribe_get_ledger"])])
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        lines.append("  ".join([row[0].ljust(widths[0])] + [v.rjust(w) for v, w in zip(row[1:], widths[1:])]).rstrip())
    prices = block["prices"]
    dynamo = prices["dynamodb"]
    lines.append(f"Prices read on {prices['read_on']} ({prices['region']}): DynamoDB on demand "
                 f"${dynamo['write_request_unit_usd'] * 1e6:g} per million write and "
                 f"${dynamo['read_request_unit_usd'] * 1e6:g} per million read request units, "
                 f"${dynamo['storage_gb_month_usd']:g} per GB-month, point-in-time recovery "
                 f"${dynamo['pitr_gb_month_usd']:g} per GB-month; KMS ${prices['kms']['request_usd'] * 1e4:g} per "
                 "10,000 requests; EventBridge: AWS service events on the default bus free. Not verified in a stored "
                 "AWS pricing page: the DynamoDB and KMS dollar figures (AWS's own cost calculator code and third "
                 "parties) and the scheduled rule's price. A model: see docs/costs.md (The ledger).")
    # The periodic table's notes on runs that fall behind model live Transcribe reads: what they are with the ledger.
    for mode, figures in block["modes"].items():
        behind = figures["rules_falling_behind"]
        lines.append(f"{mode}, with the ledger: " + (
            "every rule's month of runs fits its invocations."
            if not behind else f"the month's runs still need more than their invocations: {', '.join(behind)}."))
    return "\n".join(lines) + "\n"
