"""The event trigger (rules/engine/trigger.py): which rules an event concerns, coalescing, retries,
the 25-rule batches, its permissions, and in the simulator a job's verdict arriving without a
scheduled run."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from rules.catalog.registry import RULES
from rules.engine import trigger
from rules.engine.trigger import STATE_PARAMETER, Trigger, TriggerState, event_kinds, rules_by_kind

ACCOUNT, REGION = "123456789012", "us-east-1"


def _error(code: str, operation: str = "StartConfigRulesEvaluation") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


def _arn(function: str, account: str = ACCOUNT, region: str = REGION) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{function}"


class FakeConfig:
    """DescribeConfigRules pages (2 rules a page), StartConfigRulesEvaluation with scripted errors,
    and evaluation status the test moves."""

    def __init__(self, rules: dict[str, str]):
        self.rules = rules  # deployed name -> function ARN
        self.calls: list[list[str]] = []
        self.errors: list[str] = []  # raised by the next start calls, in order
        self.invoked: dict[str, float] = {}  # deployed name -> last invocation time

    def describe_config_rules(self, NextToken: str | None = None) -> dict[str, Any]:
        names = sorted(self.rules)
        start = int(NextToken or 0)
        page = {"ConfigRules": [{"ConfigRuleName": n, "Source": {"Owner": "CUSTOM_LAMBDA",
                                                                 "SourceIdentifier": self.rules[n]}}
                                for n in names[start:start + 2]]}
        if start + 2 < len(names):
            page["NextToken"] = str(start + 2)
        return page

    def start_config_rules_evaluation(self, ConfigRuleNames: list[str]) -> dict[str, Any]:
        assert 1 <= len(ConfigRuleNames) <= 25
        if self.errors:
            raise _error(self.errors.pop(0))
        self.calls.append(list(ConfigRuleNames))
        return {}

    def describe_config_rule_evaluation_status(self, ConfigRuleNames: list[str]) -> dict[str, Any]:
        assert len(ConfigRuleNames) <= 50
        return {"ConfigRulesEvaluationStatus": [
            {"ConfigRuleName": n, **({"LastSuccessfulInvocationTime": self.invoked[n]} if n in self.invoked else {})}
            for n in ConfigRuleNames]}


class FakeSSM:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get_parameter(self, Name: str) -> dict[str, Any]:
        if Name not in self.values:
            raise _error("ParameterNotFound", "GetParameter")
        return {"Parameter": {"Name": Name, "Value": self.values[Name]}}

    def put_parameter(self, Name: str, Value: str, Type: str, Overwrite: bool) -> dict[str, Any]:
        assert Type == "String" and Overwrite and len(Value.encode()) <= 4096
        self.values[Name] = Value
        return {"Version": 1}


class Clock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


JOB_EVENT = {"version": "0", "source": "aws.transcribe", "detail-type": "Transcribe Job State Change",
             "detail": {"TranscriptionJobName": "j1", "TranscriptionJobStatus": "COMPLETED"}}
SWEEP = {"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}


def _cloudtrail(name: str, **parameters: Any) -> dict[str, Any]:
    return {"source": "aws.transcribe", "detail-type": "AWS API Call via CloudTrail",
            "detail": {"eventSource": "transcribe.amazonaws.com", "eventName": name, "requestParameters": parameters}}


def pack(suffix: str = "abc") -> dict[str, str]:
    return {f"{name}-conformance-pack-{suffix}": _arn(name) for name in RULES}


def make(config: FakeConfig, ssm: FakeSSM | None = None, clock: Clock | None = None) -> tuple[Trigger, FakeSSM, Clock]:
    ssm, clock = ssm or FakeSSM(), clock or Clock()
    import random
    return Trigger(config, ssm, ACCOUNT, REGION, clock=clock, sleep=clock.sleep, rng=random.Random(7)), ssm, clock


def deployed(base: list[str], suffix: str = "abc") -> list[str]:
    return sorted(f"{name}-conformance-pack-{suffix}" for name in base)


MAPPING = rules_by_kind()
JOB_RULES = MAPPING["transcription-job"]


# --- event -> rules ---------------------------------------------------------------------------------

@pytest.mark.parametrize("event, kinds", [
    (JOB_EVENT, {"transcription-job"}),
    ({"source": "aws.transcribe", "detail-type": "Call Analytics Job State Change",
      "detail": {"JobName": "c", "JobStatus": "FAILED"}}, {"analytics"}),
    ({"source": "aws.transcribe", "detail-type": "Vocabulary State Change", "detail": {}}, {"vocabulary"}),
    (_cloudtrail("CreateVocabularyFilter", vocabularyFilterName="f"), {"vocabulary-filter"}),
    (_cloudtrail("UpdateMedicalVocabulary"), {"medical-vocabulary"}),
    (_cloudtrail("StartMedicalScribeJob"), {"medical-scribe-job"}),
    (_cloudtrail("DeleteCallAnalyticsCategory"), {"analytics-category"}),
    (_cloudtrail("TagResource", resourceArn="arn:aws:transcribe:us-east-1:123456789012:language-model/m"),
     {"language-model"}),
    (_cloudtrail("UntagResource", resourceArn="not-an-arn"), set(trigger.KINDS_BY_KEY)),  # unplaceable: every kind
    (_cloudtrail("CreateSomethingNew"), set(trigger.KINDS_BY_KEY)),
    ({**_cloudtrail("CreateVocabulary"), "detail": {**_cloudtrail("CreateVocabulary")["detail"],
                                                    "errorCode": "AccessDenied"}}, set()),  # refused: no change
    (_cloudtrail("GetVocabulary"), set()),  # a read changes nothing
    ({"source": "aws.transcribe", "detail-type": "Some Future State Change", "detail": {}}, set(trigger.KINDS_BY_KEY)),
    (SWEEP, set()),
    ({"source": "aws.s3", "detail-type": "Object Created", "detail": {}}, set()),
])
def test_event_kinds(event: dict[str, Any], kinds: set[str]) -> None:
    assert event_kinds(event) == kinds


def test_rules_by_kind_follow_the_registry() -> None:
    # A job event concerns every rule that reports on jobs and every rule that lists jobs (the
    # bucket and key rules find their buckets through the jobs), and no account-level rule.
    reporting = {n for n, c in RULES.items() if "transcription-job" in c.METADATA["resource_kinds"]}
    listing = {n for n, c in RULES.items() if "transcribe:ListTranscriptionJobs" in c.METADATA["iam_actions"]}
    assert set(JOB_RULES) == reporting | listing
    assert {"transcribe-bucket-encrypted", "transcribe-job-output-encrypted", "transcribe-job-pii-redaction"} <= set(JOB_RULES)
    assert "transcribe-ai-opt-out" not in JOB_RULES and "transcribe-config-recording" not in JOB_RULES
    assert set(MAPPING["vocabulary"]) == {n for n, c in RULES.items() if "vocabulary" in c.METADATA["resource_kinds"]
                                          or "transcribe:ListVocabularies" in c.METADATA["iam_actions"]}
    assert "transcribe-customization-encrypted" in MAPPING["vocabulary"]
    assert "transcribe-customization-encrypted" not in JOB_RULES


def test_deployed_names_are_read_from_config_for_our_functions_only() -> None:
    rules = pack()
    rules["someone-elses-rule"] = _arn("their-function")
    rules["other-account"] = _arn("transcribe-job-output-encrypted", account="210987654321")
    rules["other-region"] = _arn("transcribe-job-output-encrypted", region="eu-west-1")
    found = trigger.deployed_rules(FakeConfig(rules), ACCOUNT, REGION, set(RULES))  # 2 a page: many pages
    assert found == {name: [f"{name}-conformance-pack-abc"] for name in RULES}


# --- coalescing --------------------------------------------------------------------------------------

def test_events_during_an_evaluation_are_folded_into_one_follow_up_call() -> None:
    config = FakeConfig(pack())
    trig, ssm, clock = make(config)
    first = trig.handle(JOB_EVENT)
    assert config.calls == [deployed(JOB_RULES)] and first.started == deployed(JOB_RULES)
    for step in range(5):  # five more jobs finish while the evaluation runs (no invocation reported yet)
        clock.now += 20
        outcome = trig.handle(JOB_EVENT)
        assert outcome.started == [] and outcome.coalesced == deployed(JOB_RULES)
    customization = trig.handle(_cloudtrail("CreateVocabulary", vocabularyName="v"))
    assert "transcribe-customization-encrypted-conformance-pack-abc" in customization.started  # not running: started
    assert len(config.calls) == 2
    for name in deployed(JOB_RULES):  # Config reports the evaluation's invocations
        config.invoked[name] = clock.now + 1
    clock.now += 70
    follow_up = trig.handle(SWEEP)
    assert config.calls[2:] == [deployed(JOB_RULES)]  # exactly one follow-up for the six job events
    assert follow_up.coalesced == []
    clock.now += 70
    assert trig.handle(SWEEP).started == [] and len(config.calls) == 3  # nothing pending: no call


def test_no_event_no_call_and_one_call_a_minute() -> None:
    config = FakeConfig(pack())
    trig, ssm, clock = make(config)
    assert trig.handle(SWEEP).started == [] and config.calls == []
    trig.handle(_cloudtrail("CreateVocabulary"))
    clock.now += 10
    outcome = trig.handle(_cloudtrail("CreateLanguageModel"))  # other rules, but within the minute
    assert len(config.calls) == 1 and outcome.coalesced  # held, not dropped
    clock.now += 60
    trig.handle(SWEEP)
    assert len(config.calls) == 2 and set(config.calls[1]) <= set(outcome.coalesced)


# --- retries -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["ResourceInUseException", "LimitExceededException", "ThrottlingException"])
def test_retryable_errors_are_retried_with_backoff(code: str) -> None:
    config = FakeConfig(pack())
    config.errors = [code, code]
    trig, ssm, clock = make(config)
    outcome = trig.handle(JOB_EVENT)
    assert outcome.retried == 2 and config.calls == [deployed(JOB_RULES)] and outcome.coalesced == []
    assert len(clock.slept) == 2 and all(0 <= s <= trig_cap for s, trig_cap in zip(clock.slept, (1.0, 2.0)))


def test_a_persisting_error_keeps_the_rules_pending_until_a_later_sweep() -> None:
    config = FakeConfig(pack())
    config.errors = ["ThrottlingException"] * trigger.IN_CALL_ATTEMPTS
    trig, ssm, clock = make(config)
    outcome = trig.handle(JOB_EVENT)
    assert config.calls == [] and outcome.coalesced == deployed(JOB_RULES)  # kept, not dropped
    state = TriggerState.from_json(ssm.values[STATE_PARAMETER], clock.now)
    assert state.attempts == 1 and state.not_before > clock.now
    clock.now += 30
    assert trig.handle(SWEEP).started == []  # backing off
    clock.now = state.not_before
    assert trig.handle(SWEEP).started == deployed(JOB_RULES)
    assert TriggerState.from_json(ssm.values[STATE_PARAMETER], clock.now).attempts == 0


def test_an_error_that_is_not_retryable_fails_the_invocation() -> None:
    config = FakeConfig(pack())
    config.errors = ["AccessDeniedException"]
    trig, ssm, clock = make(config)
    with pytest.raises(ClientError):  # Lambda retries it, then the on-failure destination has it
        trig.handle(JOB_EVENT)


def test_a_deleted_rule_is_dropped_from_the_state() -> None:
    config = FakeConfig(pack())
    config.errors = ["NoSuchConfigRuleException"]
    trig, ssm, clock = make(config)
    outcome = trig.handle(JOB_EVENT)
    assert outcome.started == [] and outcome.coalesced == []


# --- batching ----------------------------------------------------------------------------------------

def test_more_than_25_rules_are_started_in_batches_of_25() -> None:
    rules = {f"{name}-conformance-pack-{suffix}": _arn(name) for name in JOB_RULES for suffix in "abcd"}
    config = FakeConfig(rules)
    trig, ssm, clock = make(config)
    outcome = trig.handle(JOB_EVENT)
    assert [len(batch) for batch in config.calls] == [25, 11]
    assert sorted(sum(config.calls, [])) == sorted(rules) == outcome.started


def test_a_state_too_large_for_a_standard_parameter_fails_the_invocation() -> None:
    rules = {f"{name}-conformance-pack-{suffix}": _arn(name) for name in JOB_RULES for suffix in "abcdefgh"}
    trig, ssm, clock = make(FakeConfig(rules))
    with pytest.raises(trigger.StateError, match="one conformance pack per account and Region"):
        trig.handle(JOB_EVENT)  # 72 rules: Lambda retries, then the on-failure destination; periodic runs cover


# --- the stored state is checked, not trusted --------------------------------------------------------

@pytest.mark.parametrize("value", [
    "not json", "[]", json.dumps({"version": 1}),
    json.dumps({"version": 1, "pending": {}, "running": {"x": 1e300}, "last_call": 0, "attempts": 0, "not_before": 0}),
    json.dumps({"version": 1, "pending": {}, "running": {}, "last_call": 0, "attempts": 0, "not_before": 4e9}),
])
def test_a_forged_state_cannot_silence_the_rules(value: str) -> None:
    config = FakeConfig(pack())
    trig, ssm, clock = make(config)
    ssm.values[STATE_PARAMETER] = value
    outcome = trig.handle(SWEEP)
    served = {name for names in MAPPING.values() for name in names}  # the rules that read Transcribe resources
    assert outcome.problems and outcome.started == deployed(sorted(served))  # every one evaluated


# --- the template and the permissions ----------------------------------------------------------------

def test_the_template_grants_the_trigger_exactly_its_actions() -> None:
    from transcribe_guard.templates import EVENT_TRIGGER_CONDITION, functions_template

    template = functions_template()
    resources = template["Resources"]
    role = resources["EventTriggerRole"]
    statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    granted = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert granted == set(trigger.IAM_ACTIONS) | {"logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage"}
    start = next(s for s in statements if s["Sid"] == "StartEvaluations")
    assert start["Action"] == ["config:StartConfigRulesEvaluation"]
    assert start["Resource"]["Fn::Sub"].endswith(":${AWS::AccountId}:config-rule/*")  # this account and Region
    ssm_statement = next(s for s in statements if s["Sid"] == "KeepTriggerState")
    assert ssm_statement["Resource"]["Fn::Sub"].endswith(":parameter" + STATE_PARAMETER)
    trigger_resources = [name for name, r in resources.items() if r.get("Condition") == EVENT_TRIGGER_CONDITION]
    assert {"EventTriggerFunction", "EventTriggerSweepRule", "EventTriggerJobStateRule"} <= set(trigger_resources)
    assert all(name.startswith("EventTrigger") for name in trigger_resources)
    assert resources["EventTriggerFunction"]["Properties"]["ReservedConcurrentExecutions"] == 1
    assert template["Parameters"]["EnableEventTriggers"]["Default"] == "false"
    # no rule function's role may start evaluations
    assert "config:StartConfigRulesEvaluation" not in json.dumps(resources["FunctionsRole"])


def test_the_trigger_policy_passes_parliament() -> None:
    import re

    import parliament

    from transcribe_guard.templates import event_trigger_policy

    text = json.dumps(event_trigger_policy())
    for name, value in (("AWS::Partition", "aws"), ("AWS::Region", REGION), ("AWS::AccountId", ACCOUNT)):
        text = text.replace("${" + name + "}", value)
    concrete = re.sub(r'\{"Fn::Sub": ("[^"]*")\}', r"\1", text)
    findings = parliament.analyze_policy_string(concrete).findings
    # only the two Describe actions, which take no resource type, are on "*"
    assert [(f.issue, f.detail) for f in findings if f.issue != "RESOURCE_STAR"] == []
    assert {tuple(s["Action"]) for s in json.loads(concrete)["Statement"] if s["Resource"] == "*"} == {
        ("config:DescribeConfigRuleEvaluationStatus", "config:DescribeConfigRules")}


def test_the_template_is_cfn_lint_clean_either_way(tmp_path: Any) -> None:
    """EnableEventTriggers false (the default) and true, in one cfn-lint run."""
    import subprocess
    import sys
    from pathlib import Path

    from transcribe_guard.generate import _template_yaml
    from transcribe_guard.templates import functions_template

    paths = []
    for enabled in ("false", "true"):
        template = functions_template()
        template["Parameters"]["EnableEventTriggers"]["Default"] = enabled
        paths.append(tmp_path / f"functions-{enabled}.yaml")
        paths[-1].write_text(_template_yaml(template), encoding="utf-8")  # as `build` writes it
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run([str(cfn_lint), *map(str, paths)], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr


# --- in the simulator --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def simulated() -> Any:
    import boto3

    from transcribe_guard import deploy
    from transcribe_guard.simulator import Simulator, conformance, eventbridge

    with Simulator(seed="demo") as sim:
        done = deploy.deploy(boto3.Session(region_name=REGION), deploy.demo_pack_parameters(), event_triggers=True)
        eventbridge.outbox(ACCOUNT, REGION).clear()
        yield sim, done, conformance, eventbridge


def test_the_trigger_calls_exactly_its_declared_actions(simulated: Any) -> None:
    from transcribe_guard.iam_actions import recording

    sim, done, conformance, eventbridge = simulated
    conformance.EVALUATION["mode"] = "async"  # record the trigger's calls only, not the rules' runs
    try:
        with recording() as recorder:
            eventbridge.deliver(ACCOUNT, REGION, eventbridge.envelope(
                ACCOUNT, REGION, "Transcribe Job State Change",
                {"TranscriptionJobName": "x", "TranscriptionJobStatus": "COMPLETED"}, []))
            eventbridge.sweep(ACCOUNT, REGION)  # with a run in progress: reads the evaluation status
        assert recorder.actions == set(trigger.IAM_ACTIONS)
    finally:
        conformance.EVALUATION["mode"] = "sync"
        from moto.config.models import config_backends
        config_backends[ACCOUNT][REGION].__dict__.pop("_transcribe_guard_evaluations", None)
        sim.client("ssm").delete_parameter(Name=STATE_PARAMETER)  # the next test starts without a run in progress


def test_a_finished_job_gets_its_verdict_without_a_scheduled_run(simulated: Any) -> None:
    """What `deploy --demo --event-triggers` prints: the new job's verdicts, from the trigger's one call."""
    import boto3

    from transcribe_guard.deploy import DEMO_EVENT_JOB, demo_event_trigger
    from transcribe_guard.simulator.config import read_verdicts

    sim, done, conformance, eventbridge = simulated
    calls_before = len(conformance.evaluation_calls(ACCOUNT, REGION))
    lines = demo_event_trigger(boto3.Session(region_name=REGION), done.pack_name)
    calls = conformance.evaluation_calls(ACCOUNT, REGION)[calls_before:]
    assert len(calls) == 1  # the trigger's one call, no other evaluation
    suffix = calls[0][1][0].rsplit("-", 1)[1]  # the pack's random rule-name suffix
    assert sorted(calls[0][1]) == deployed(JOB_RULES, suffix)  # exactly the rules that read jobs
    encrypted = next(n for n in calls[0][1] if n.startswith("transcribe-job-output-encrypted"))
    arn = f"arn:aws:transcribe:{REGION}:{ACCOUNT}:transcription-job/{DEMO_EVENT_JOB}"
    assert read_verdicts(sim.client("config"), encrypted)[arn] == "NON_COMPLIANT"  # service bucket: no customer key
    assert "1 StartConfigRulesEvaluation call(s)" in lines[0]
    assert any(line.strip().startswith("transcribe-job-output-encrypted: NON_COMPLIANT, stored") for line in lines[1:])


def test_a_new_customization_is_judged_through_its_cloudtrail_event(simulated: Any) -> None:
    import datetime as dt

    from transcribe_guard.simulator import clock
    from transcribe_guard.simulator.config import read_verdicts

    sim, done, conformance, eventbridge = simulated
    clock.advance(dt.timedelta(seconds=trigger.MIN_CALL_INTERVAL + 1))  # past the one call a minute
    eventbridge.outbox(ACCOUNT, REGION).clear()
    sim.client("transcribe").create_vocabulary(VocabularyName="event-driven-terms", LanguageCode="en-US",
                                               Phrases=["AcmeCare"])  # no customer managed key
    assert [e["detail"]["eventName"] for _, e in eventbridge.outbox(ACCOUNT, REGION)] == ["CreateVocabulary"]
    clock.advance(dt.timedelta(seconds=eventbridge.DELIVERY_SECONDS))
    results = eventbridge.deliver_due(ACCOUNT, REGION)
    started = {name for function, out in results for name in out["started"]}
    assert {trigger_name.rsplit("-conformance-pack-", 1)[0] for trigger_name in started} == set(MAPPING["vocabulary"])
    encrypted = next(n for n in started if n.startswith("transcribe-customization-encrypted"))
    arn = f"arn:aws:transcribe:{REGION}:{ACCOUNT}:vocabulary/event-driven-terms"
    assert read_verdicts(sim.client("config"), encrypted)[arn] == "NON_COMPLIANT"


def test_event_triggers_are_refused_for_an_organization_deployment() -> None:
    import io

    from transcribe_guard import cli

    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["deploy", "--demo", "--organization", "--event-triggers"], out, err) == 2
    assert "--event-triggers is for single-account deployments" in err.getvalue()
