"""Event triggers: run the pack's rules minutes after Transcribe changes, not at the next periodic run.

The functions template's optional part (``EnableEventTriggers=true``, transcribe_guard/templates.py)
routes two kinds of EventBridge events to this one function (handler ``rules.engine.trigger.lambda_handler``):

- Transcribe's own events, "Transcribe Job State Change", "Call Analytics Job State Change",
  "Call Analytics Post Call Job State Change", "Language Identification State Change",
  "Multiple Language Identification State Change", "Transcribe Language Model State Change" and
  "Vocabulary State Change", source aws.transcribe (EventBridge events reference, "Amazon Transcribe
  events": https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-transcribe.html). No
  detail-type is documented there for medical transcription or medical scribe jobs, so those kinds
  are followed through CloudTrail (their Start* calls) below; when such a job finishes later than
  its Start* call, its verdict comes with the next event or the periodic run.
- "AWS API Call via CloudTrail" events with eventSource transcribe.amazonaws.com: Start*Job,
  Create*/Update*/Delete* of jobs and customizations, TagResource and UntagResource (same page,
  "Amazon Transcribe events delivered via AWS CloudTrail"; EventBridge receives them only while a
  trail logs Transcribe management events).

An event names the Transcribe resource kinds it changed; the registry says which rules read each
kind (``rules_by_kind``: the kinds a rule reports on plus the kinds whose List action it declares,
e.g. the bucket rules find buckets through jobs). An event this module cannot place is taken to
concern every kind: it evaluates more, never less.

StartConfigRulesEvaluation takes 1 to 25 rule names a request (botocore's config model,
ReorderedConfigRuleNames min 1 max 25), and "An existing StartConfigRulesEvaluation call for the
specified rules must complete before you can call the API again"; Config answers
LimitExceededException "if an evaluation is in progress or if you call the
StartConfigRulesEvaluation API more than once per minute" (API Reference,
https://docs.aws.amazon.com/config/latest/APIReference/API_StartConfigRulesEvaluation.html, and
the model's LimitExceededException). ResourceInUseException and ThrottlingException are treated
the same way.

Coalescing: one SSM parameter, ``/transcribe-guard/checkpoints/event-triggers`` (the checkpoint
path the functions' role may already write, rules/engine/checkpoint.py), holds which deployed
rules are *pending* (an event since their last start) and which are *running* (started, with the
time). An event adds its rules to pending; rules that are running and whose run has not finished
(DescribeConfigRuleEvaluationStatus: no invocation since the start) stay pending, so every event
that arrives during an evaluation is folded into the one follow-up call made once it has finished.
The follow-up is made by the next event or by the template's one-minute sweep schedule, which
invokes this function with a Scheduled Event. Writes cannot race: the template gives the function
a reserved concurrency of 1, so invocations run one at a time (for throttling errors "Lambda returns
the event to the queue and attempts to run the function again for up to 6 hours by default":
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html). A duplicate
delivery, which that page also warns of, only marks rules pending again.

Retries: a retryable error is retried in the invocation with exponential backoff; if it persists,
the rules stay pending with a growing ``not_before`` and the next sweep tries again: nothing is
dropped. An error that is not retryable (or a state that cannot be saved) fails the invocation:
Lambda retries it twice and then sends it to the on-failure destination (the failed-invocations
queue), and the rules' next periodic run still covers the change.

Deployed names: the pack names its rules ``<rule>-conformance-pack-<suffix>``, unknown when the
template is built, so the function reads them with DescribeConfigRules: every CUSTOM_LAMBDA rule
whose SourceIdentifier is one of our functions in this account (``TRANSCRIBE_GUARD_ACCOUNT_ID``,
set by the template) and Region. Single-account deployments only (the template's condition).
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Collection, Iterable, Mapping

from botocore.exceptions import ClientError

from rules.inventory.transcribe import ALL_KINDS, JOB_KINDS, KINDS_BY_KEY, ResourceKind, list_actions

LOGGER = logging.getLogger("transcribe_guard.trigger")

STATE_PARAMETER = "/transcribe-guard/checkpoints/event-triggers"
STATE_VERSION = 1
MAX_RULES_PER_CALL = 25  # StartConfigRulesEvaluation ConfigRuleNames: min 1, max 25 (botocore's config model)
MIN_CALL_INTERVAL = 60.0  # "more than once per minute" raises LimitExceededException (config model)
RETRYABLE = ("LimitExceededException", "ResourceInUseException", "ThrottlingException", "ThrottledException",
             "TooManyRequestsException")
IN_CALL_ATTEMPTS = 4  # per batch in one invocation: 1 call + 3 retries
BACKOFF_BASE, BACKOFF_CAP = 1.0, 8.0  # seconds, in one invocation (full jitter)
SWEEP_BACKOFF_BASE, SWEEP_BACKOFF_CAP = 60.0, 900.0  # seconds between sweeps' tries of rules that keep failing
# A started rule whose run Config has not reported within this is tried again (Config refuses the
# call with LimitExceededException while it is still in progress, and the rule stays pending).
RUNNING_TIMEOUT = 1800.0
MAX_STATE_RULES = 200  # bound on what a stored state may name
MAX_STATE_BYTES = 4096  # a standard parameter's value limit (botocore's ssm model, PutParameter Value)

TRANSCRIBE_SOURCE = "aws.transcribe"
CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail"
TRANSCRIBE_EVENT_SOURCE = "transcribe.amazonaws.com"
SCHEDULED_DETAIL_TYPE = "Scheduled Event"
# Transcribe's own events (EventBridge events reference, "Amazon Transcribe events") and the kind
# each reports on.
DETAIL_TYPES: dict[str, tuple[str, ...]] = {
    "Transcribe Job State Change": ("transcription-job",),
    "Language Identification State Change": ("transcription-job",),
    "Multiple Language Identification State Change": ("transcription-job",),
    "Call Analytics Job State Change": ("analytics",),
    "Call Analytics Post Call Job State Change": ("analytics",),
    "Transcribe Language Model State Change": ("language-model",),
    "Vocabulary State Change": ("vocabulary",),
}
# The job states the template's pattern passes on: a job is judged when it has finished.
FINAL_JOB_STATES = ("COMPLETED", "FAILED")
TAG_CALLS = ("TagResource", "UntagResource")

# The function's IAM actions (the template grants exactly these; tests/test_trigger.py records them).
IAM_ACTIONS = ("config:DescribeConfigRuleEvaluationStatus", "config:DescribeConfigRules",
               "config:StartConfigRulesEvaluation", "ssm:GetParameter", "ssm:PutParameter")

CLOCK: Callable[[], float] = time.time  # the simulator points these at its clock
SLEEP: Callable[[float], None] = time.sleep


# --- which rules an event concerns ----------------------------------------------------------------

def _noun(kind: ResourceKind) -> str:
    return kind.delete_operation[len("Delete"):]  # TranscriptionJob, Vocabulary, CallAnalyticsCategory, ...


def api_kinds() -> dict[str, str]:
    """CloudTrail eventName -> kind key, for every write call on a Transcribe resource."""
    calls: dict[str, str] = {}
    for kind in ALL_KINDS:
        noun = _noun(kind)
        verbs = ("Start", "Delete") if kind.is_job else ("Create", "Update", "Delete")
        calls.update({verb + noun: kind.key for verb in verbs})
    return calls


API_KINDS = api_kinds()


def _arn_kind(arn: Any) -> str | None:
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        return None
    resource = arn.split(":", 5)[-1] if arn.count(":") >= 5 else ""
    key = resource.split("/", 1)[0]
    return key if key in KINDS_BY_KEY else None


def event_kinds(event: Mapping[str, Any]) -> set[str]:
    """The Transcribe resource kinds an EventBridge event says changed (empty: none, e.g. the sweep).
    An event from Transcribe or its CloudTrail calls that cannot be placed concerns every kind."""
    detail_type, source = event.get("detail-type"), event.get("source")
    raw_detail = event.get("detail")
    detail: Mapping[str, Any] = raw_detail if isinstance(raw_detail, Mapping) else {}
    if detail_type == SCHEDULED_DETAIL_TYPE:
        return set()
    if source == TRANSCRIBE_SOURCE and detail_type in DETAIL_TYPES:
        return set(DETAIL_TYPES[str(detail_type)])
    if detail_type == CLOUDTRAIL_DETAIL_TYPE and detail.get("eventSource") == TRANSCRIBE_EVENT_SOURCE:
        if detail.get("errorCode"):
            return set()  # a refused call changed nothing
        name = detail.get("eventName")
        if name in API_KINDS:
            return {API_KINDS[str(name)]}
        if name in TAG_CALLS:
            raw = detail.get("requestParameters")
            parameters: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
            kind = _arn_kind(parameters.get("resourceArn") or parameters.get("ResourceArn"))
            if kind:
                return {kind}
        if isinstance(name, str) and name.startswith(("Start", "Create", "Update", "Delete", "Tag", "Untag")):
            return set(KINDS_BY_KEY)  # a write we cannot place: every kind
        return set()
    if source == TRANSCRIBE_SOURCE:
        return set(KINDS_BY_KEY)  # a Transcribe event type this module does not know
    return set()


def rule_kinds(metadata: Mapping[str, Any]) -> set[str]:
    """The Transcribe kinds a rule reads: those it reports on, and those whose List action it declares."""
    declared = set(metadata.get("iam_actions") or ())
    kinds = {key for key in metadata.get("resource_kinds") or () if key in KINDS_BY_KEY}
    kinds |= {kind.key for kind in ALL_KINDS if list_actions(kind)[0] in declared}
    return kinds


def rules_by_kind(rules: Mapping[str, Any] | None = None) -> dict[str, list[str]]:
    """Kind key -> the registry's rules (base names, pack order) that read that kind."""
    if rules is None:
        from rules.catalog.registry import RULES
        rules = RULES
    mapping: dict[str, list[str]] = {key: [] for key in KINDS_BY_KEY}
    for name, cls in rules.items():
        for key in sorted(rule_kinds(cls.METADATA)):
            mapping[key].append(name)
    return mapping


def concerned_rules(event: Mapping[str, Any], mapping: Mapping[str, list[str]]) -> list[str]:
    kinds = event_kinds(event)
    return sorted({name for key in kinds for name in mapping.get(key, [])})


def job_kinds() -> tuple[str, ...]:
    return tuple(kind.key for kind in JOB_KINDS)


# --- the deployed rules ---------------------------------------------------------------------------

def deployed_rules(config: Any, account: str, region: str, functions: Collection[str]) -> dict[str, list[str]]:
    """Base rule name -> the Config rules (deployed names) in this account and Region that run our
    function of that name. Reads every page of DescribeConfigRules."""
    found: dict[str, list[str]] = {}
    kwargs: dict[str, Any] = {}
    while True:
        page = config.describe_config_rules(**kwargs)
        for rule in page.get("ConfigRules", []):
            source = rule.get("Source") or {}
            if source.get("Owner") != "CUSTOM_LAMBDA":
                continue
            parts = str(source.get("SourceIdentifier", "")).split(":")
            # arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]
            if len(parts) < 7 or parts[2] != "lambda" or parts[5] != "function":
                continue
            if parts[3] == region and parts[4] == account and parts[6] in functions:
                found.setdefault(parts[6], []).append(str(rule["ConfigRuleName"]))
        if not page.get("NextToken"):
            return {name: sorted(names) for name, names in found.items()}
        kwargs["NextToken"] = page["NextToken"]


def batches(names: Iterable[str], size: int = MAX_RULES_PER_CALL) -> list[list[str]]:
    ordered = sorted(set(names))
    return [ordered[start:start + size] for start in range(0, len(ordered), size)]


# --- the coalescing state -------------------------------------------------------------------------

class StateError(ValueError):
    pass


@dataclass
class TriggerState:
    pending: dict[str, float] = field(default_factory=dict)  # deployed rule -> first event not yet covered
    running: dict[str, float] = field(default_factory=dict)  # deployed rule -> when its evaluation was started
    last_call: float = 0.0  # the last StartConfigRulesEvaluation call (Config allows one a minute)
    attempts: int = 0  # consecutive invocations whose calls all failed with a retryable error
    not_before: float = 0.0  # no call before this (backoff across invocations)

    def to_json(self) -> str:
        return json.dumps({"version": STATE_VERSION, "pending": self.pending, "running": self.running,
                           "last_call": self.last_call, "attempts": self.attempts, "not_before": self.not_before},
                          separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str, now: float) -> "TriggerState":
        """Parse and check a stored state; raises StateError naming what is wrong."""
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as error:
            raise StateError("the value is not JSON") from error
        if not isinstance(data, dict) or set(data) != {"version", "pending", "running", "last_call", "attempts",
                                                         "not_before"}:
            raise StateError("the value is not a trigger state object")
        if data["version"] != STATE_VERSION or type(data["version"]) is not int:
            raise StateError(f"version is not {STATE_VERSION}")
        maps = {}
        for name in ("pending", "running"):
            value = data[name]
            if not isinstance(value, dict) or len(value) > MAX_STATE_RULES:
                raise StateError(f"{name} is not a map of at most {MAX_STATE_RULES} rules")
            for rule, moment in value.items():
                if not isinstance(rule, str) or not 1 <= len(rule) <= 128 or not _time_ok(moment, now):
                    raise StateError(f"{name} holds an entry that is not a rule name and a past time")
            maps[name] = {rule: float(moment) for rule, moment in value.items()}
        if not _time_ok(data["last_call"], now):
            raise StateError("last_call is not a past time")
        if type(data["attempts"]) is not int or not 0 <= data["attempts"] <= 10**6:
            raise StateError("attempts is not a small non-negative integer")
        not_before = data["not_before"]
        if isinstance(not_before, bool) or not isinstance(not_before, (int, float)) or not math.isfinite(not_before) \
                or not 0 <= not_before <= now + SWEEP_BACKOFF_CAP:
            raise StateError("not_before is not a time within the backoff cap")
        return cls(maps["pending"], maps["running"], float(data["last_call"]), data["attempts"], float(not_before))


def _time_ok(value: Any, now: float) -> bool:
    return (not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
            and 0 <= value <= now + 1.0)


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


# --- the trigger ----------------------------------------------------------------------------------

@dataclass
class Outcome:
    """What one invocation did (returned by the handler, logged)."""

    concerned: list[str]  # deployed rules the event concerned
    started: list[str]  # deployed rules whose evaluation this invocation started
    coalesced: list[str]  # pending rules left for the follow-up call (still running, or backing off)
    retried: int = 0  # retryable errors met
    problems: list[str] = field(default_factory=list)


class Trigger:
    def __init__(self, config: Any, ssm: Any, account: str, region: str,
                 mapping: Mapping[str, list[str]] | None = None, functions: Collection[str] | None = None,
                 clock: Callable[[], float] | None = None, sleep: Callable[[float], None] | None = None,
                 rng: random.Random | None = None):
        self.config, self.ssm, self.account, self.region = config, ssm, account, region
        self.mapping = mapping if mapping is not None else rules_by_kind()
        self.functions = set(functions) if functions is not None else {n for names in self.mapping.values() for n in names}
        self.clock = clock or (lambda: CLOCK())
        self.sleep = sleep or (lambda seconds: SLEEP(seconds))
        self.rng = rng or random.Random()

    # state
    def load(self, now: float, deployed: Iterable[str]) -> tuple[TriggerState, list[str]]:
        try:
            text = self.ssm.get_parameter(Name=STATE_PARAMETER)["Parameter"]["Value"]
        except ClientError as error:
            if _code(error) == "ParameterNotFound":
                return TriggerState(), []
            raise  # unreadable: fail the invocation (Lambda retries, then the on-failure destination)
        try:
            return TriggerState.from_json(text, now), []
        except StateError as error:
            # Never trusted: a state that does not check out is replaced, and every deployed rule is
            # taken as pending, so a forged or broken state can delay rules but not silence them.
            problem = f"the stored trigger state was rejected ({error}); every rule is evaluated"
            LOGGER.warning(problem)
            return TriggerState(pending={name: now for name in deployed}), [problem]

    def save(self, state: TriggerState) -> None:
        value = state.to_json()
        if len(value.encode("utf-8")) > MAX_STATE_BYTES:  # a standard parameter holds 4 KB (checkpoint.py)
            raise StateError(f"the trigger state for {len(state.pending) + len(state.running)} rule entries is over "
                             f"{MAX_STATE_BYTES} bytes: the trigger serves one conformance pack per account and Region")
        self.ssm.put_parameter(Name=STATE_PARAMETER, Value=value, Type="String", Overwrite=True)

    def finished(self, names: list[str]) -> dict[str, float]:
        """Deployed rule -> the time of its last invocation Config reports (success or failure)."""
        done: dict[str, float] = {}
        for batch in batches(names, 50):  # DescribeConfigRuleEvaluationStatus ConfigRuleNames: max 50 (config model)
            kwargs: dict[str, Any] = {"ConfigRuleNames": batch}
            while True:
                page = self.config.describe_config_rule_evaluation_status(**kwargs)
                for status in page.get("ConfigRulesEvaluationStatus", []):
                    times = [status.get(key) for key in ("LastSuccessfulInvocationTime", "LastFailedInvocationTime")]
                    stamps = [t.timestamp() if hasattr(t, "timestamp") else float(t) for t in times if t]
                    if stamps:
                        done[str(status["ConfigRuleName"])] = max(stamps)
                if not page.get("NextToken"):
                    break
                kwargs["NextToken"] = page["NextToken"]
        return done

    def start(self, batch: list[str], outcome: Outcome) -> tuple[str, float]:
        """One StartConfigRulesEvaluation call, retried with backoff: ("started", "busy" or "gone",
        the time of the last attempt). The time is taken before the call: an invocation Config
        reports at or after it belongs to this evaluation (a run may even finish before the call
        returns)."""
        for attempt in range(IN_CALL_ATTEMPTS):
            called = self.clock()
            try:
                self.config.start_config_rules_evaluation(ConfigRuleNames=batch)
                return "started", called
            except ClientError as error:
                code = _code(error)
                if code == "NoSuchConfigRuleException":
                    return "gone", called
                if code not in RETRYABLE:
                    raise
                outcome.retried += 1
                if attempt + 1 < IN_CALL_ATTEMPTS:
                    self.sleep(self.rng.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** attempt)))
        return "busy", called

    def handle(self, event: Mapping[str, Any]) -> Outcome:
        deployed = deployed_rules(self.config, self.account, self.region, self.functions)
        names_of = {base: deployed.get(base, []) for base in self.functions}
        concerned = sorted({name for base in concerned_rules(event, self.mapping) for name in names_of.get(base, [])})
        every = sorted({name for names in names_of.values() for name in names})
        now = self.clock()
        state, problems = self.load(now, every)
        outcome = Outcome(concerned, [], [], problems=problems)
        for name in concerned:
            state.pending.setdefault(name, now)
        state.pending = {name: moment for name, moment in state.pending.items() if name in every}
        state.running = {name: moment for name, moment in state.running.items() if name in every}

        if state.running:
            reported = self.finished(sorted(state.running))
            for name, started in list(state.running.items()):
                if reported.get(name, 0.0) >= started or now - started >= RUNNING_TIMEOUT:
                    del state.running[name]
        ready = sorted(name for name in state.pending if name not in state.running)
        if ready and now >= state.not_before and now - state.last_call >= MIN_CALL_INTERVAL:
            busy = False
            for batch in batches(ready):
                result, started_at = self.start(batch, outcome)
                if result == "busy":
                    busy = True
                    continue
                state.last_call = started_at
                for name in batch:
                    state.pending.pop(name, None)
                    if result == "started":
                        state.running[name] = started_at
                        outcome.started.append(name)
                    else:
                        LOGGER.warning("rule %s no longer exists; dropped from the trigger state", name)
            if busy:  # stays pending, tried again by a later invocation, later each time
                state.attempts += 1
                delay = min(SWEEP_BACKOFF_CAP, SWEEP_BACKOFF_BASE * 2 ** (state.attempts - 1))
                state.not_before = now + delay
            else:
                state.attempts, state.not_before = 0, 0.0
        outcome.coalesced = sorted(state.pending)
        self.save(state)
        LOGGER.info("event-trigger: concerned %d, started %d, pending %d, retried %d", len(outcome.concerned),
                    len(outcome.started), len(outcome.coalesced), outcome.retried)
        return outcome


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    import boto3  # type: ignore[import-untyped]

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    account = os.environ.get("TRANSCRIBE_GUARD_ACCOUNT_ID", "")
    if not account:
        raise RuntimeError("TRANSCRIBE_GUARD_ACCOUNT_ID is not set (the functions template sets it)")
    trigger = Trigger(boto3.client("config", region_name=region), boto3.client("ssm", region_name=region),
                      account, region)
    outcome = trigger.handle(event)
    return {"concerned": outcome.concerned, "started": outcome.started, "pending": outcome.coalesced,
            "retried": outcome.retried, "problems": outcome.problems}
