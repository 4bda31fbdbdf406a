"""Property tests (hypothesis) for what comes from outside: rule parameters, Config events and CLI
input. Every rule in rules.catalog.registry.RULES is covered as soon as it is registered.

Runs are reproducible: the "transcribe-guard" profile sets derandomize=True (examples derived from
each test's name, no random seed, no example database) and the example counts below.
TRANSCRIBE_GUARD_EXAMPLES_SCALE=10 raises every count tenfold for a longer local search.

Example counts (per rule where the test is parametrized by rule):
- parameters, random dicts of names to any JSON value or oversized string: 60 per rule;
- parameters, one change to a valid set: 60 per rule;
- Config events, mutated from a valid ScheduledNotification: 25 per rule, through the rule's
  lambda_handler against the simulator;
- CLI parameters files with random JSON: 80; random scan flags: 80.

The contracts:
- evaluate_parameters returns, or raises rdklib's InvalidParametersError whose message names the
  offending parameter (never another exception): a Config rule with bad parameters must say which;
- a Config event ends in a list of valid evaluations, a clear error response (rdklib's dict with
  internalErrorMessage), or an InvalidEventError naming the problem (rules.engine.base.check_event); never
  a KeyError, TypeError, JSONDecodeError or botocore validation error from deep inside rdklib;
- the CLI answers bad input with exit code 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

import io
import json
import os
import re
from typing import Any, Iterator

import hypothesis
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rdklib import InvalidParametersError

from rules.engine.base import InvalidEventError, RuleParametersError
from rules.engine.parameters import CONFIG_PARAMETER_LIMIT, RDKLIB_RESERVED
from rules.catalog.registry import RULES
from tests.fault_support import fast_simulation, lambda_handler
from tests.helpers import deploy_rule, periodic_event
from transcribe_guard import cli, scan
from transcribe_guard.scan_parameters import DEMO_PARAMETERS
from transcribe_guard.simulator import Simulator

settings.register_profile("transcribe-guard", derandomize=True, database=None, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile("transcribe-guard")

RULE_NAMES = sorted(RULES)
# TRANSCRIBE_GUARD_EXAMPLES_SCALE=10 multiplies every example count for a longer local search.
SCALE = max(1, int(os.environ.get("TRANSCRIBE_GUARD_EXAMPLES_SCALE", "1") or 1))


def examples(count: int) -> Any:
    return settings(max_examples=count * SCALE)


# --- values -------------------------------------------------------------------------------------

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=6)


def _oversized() -> st.SearchStrategy[str]:
    """Strings around Config's 1,024-character limit, in characters that are and are not allowed."""
    return st.builds(lambda unit, count: unit * count, st.sampled_from(["a", "é", "x,", " ", "a-b,"]),
                     st.integers(CONFIG_PARAMETER_LIMIT // 2 - 2, CONFIG_PARAMETER_LIMIT + 3))


def schema_values(rule: str) -> list[str]:
    """Values worth trying for a rule: its demo values, enums, defaults, and their neighbours."""
    schema = RULES[rule].METADATA["parameters"]
    found = ["", " ", ",", " , ", "true", "FALSE", "True ", "none", "*", "AWS::::Account", "a" * 1025]
    found += list(DEMO_PARAMETERS.get(rule, {}).values())
    for spec in schema.get("properties", {}).values():
        found += [str(v) for v in spec.get("enum", [])]
        if "default" in spec:
            found.append(str(spec["default"]))
        if "maxLength" in spec:
            found += ["a" * spec["maxLength"], "a" * (spec["maxLength"] + 1)]
    return found


def parameter_names(rule: str) -> st.SearchStrategy[str]:
    declared = sorted(RULES[rule].METADATA["parameters"].get("properties", {}))
    return st.sampled_from(declared + list(RDKLIB_RESERVED)) | st.text(max_size=12)


def parameter_values(rule: str) -> st.SearchStrategy[Any]:
    strings = st.text(max_size=40) | st.sampled_from(schema_values(rule)) | _oversized() \
        | st.lists(st.sampled_from(schema_values(rule) + ["x"]), max_size=4).map(",".join)
    return strings | JSON_VALUES


def names_parameter(message: str, name: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", message) is not None if name.strip() else \
        "parameter" in message.lower()


# --- parameters ---------------------------------------------------------------------------------

@pytest.mark.parametrize("rule", RULE_NAMES)
def test_parameters_random_dicts_return_or_name_a_parameter(rule: str) -> None:
    schema = RULES[rule].METADATA["parameters"]

    @examples(60)
    @given(st.dictionaries(parameter_names(rule), parameter_values(rule), max_size=5))
    def check(raw: dict[str, Any]) -> None:
        try:
            parsed = RULES[rule]().evaluate_parameters(raw)
        except InvalidParametersError as error:
            named = set(raw) | set(schema.get("required", []))
            assert any(names_parameter(str(error), name) for name in named), str(error)
        else:
            assert isinstance(parsed, dict)
            assert set(parsed) <= set(schema.get("properties", {})) | set(RDKLIB_RESERVED)

    check()


@pytest.mark.parametrize("rule", RULE_NAMES)
def test_parameters_one_change_to_a_valid_set_is_accepted_or_named(rule: str) -> None:
    baseline = dict(DEMO_PARAMETERS.get(rule, {}))
    RULES[rule]().evaluate_parameters(dict(baseline))  # the baseline is valid

    @examples(60)
    @given(parameter_names(rule), parameter_values(rule))
    def check(name: str, value: Any) -> None:
        raw = {**baseline, name: value}
        try:
            RULES[rule]().evaluate_parameters(raw)
        except InvalidParametersError as error:
            assert names_parameter(str(error), name), f"changed {name!r}, message: {error}"

    check()


def test_parameters_that_are_not_an_object_are_refused_clearly() -> None:
    for rule in RULE_NAMES:
        for raw in ([], "text", 5, [["a", "b"]]):
            with pytest.raises(InvalidParametersError, match="JSON object"):
                RULES[rule]().evaluate_parameters(raw)


# --- Config events ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def account() -> Iterator[Any]:
    """An empty simulated account with every rule deployed (valid events produce evaluations)."""
    with fast_simulation():
        with Simulator(seed="empty") as sim:
            for rule in RULE_NAMES:
                deploy_rule(sim, rule)
            yield sim


EVENT_KEYS = ("version", "invokingEvent", "ruleParameters", "resultToken", "eventLeftScope", "executionRoleArn",
              "configRuleArn", "configRuleName", "configRuleId", "accountId", "evaluationMode")
INVOKING_KEYS = ("awsAccountId", "notificationCreationTime", "messageType", "recordVersion")
MESSAGE_TYPES = ("ScheduledNotification", "ConfigurationItemChangeNotification",
                 "OversizedConfigurationItemChangeNotification", "ConfigurationSnapshotDeliveryCompleted")
BAD_JSON = st.sampled_from(["", "{", "{'a': 1}", "[1,", "nul", "{\"a\": }", "\ufeff{}", "NaN", "{\"a\":1}{"])


@st.composite
def mutated_events(draw: st.DrawFn, rule: str) -> Any:
    """A valid ScheduledNotification for ``rule``, then one to three changes of the kinds Config
    would never send (or an outright non-object)."""
    if draw(st.integers(0, 19)) == 0:
        return draw(st.none() | st.lists(JSON_SCALARS, max_size=2) | st.text(max_size=10) | st.just({}))
    event = periodic_event(rule, DEMO_PARAMETERS.get(rule))
    invoking = json.loads(event["invokingEvent"])
    parameters = json.loads(event["ruleParameters"])
    for _ in range(draw(st.integers(1, 3))):
        change = draw(st.sampled_from(["drop", "retype", "bad-json", "invoking-drop", "invoking-retype",
                                       "message-type", "parameters", "parameters-retype", "oversized", "extra"]))
        if change == "drop":
            event.pop(draw(st.sampled_from(EVENT_KEYS)), None)
        elif change == "retype":
            event[draw(st.sampled_from(EVENT_KEYS))] = draw(JSON_VALUES)
        elif change == "bad-json":
            event[draw(st.sampled_from(["invokingEvent", "ruleParameters"]))] = draw(BAD_JSON | st.text(max_size=8))
        elif change == "invoking-drop":
            invoking.pop(draw(st.sampled_from(INVOKING_KEYS)), None)
            event["invokingEvent"] = json.dumps(invoking)
        elif change == "invoking-retype":
            invoking[draw(st.sampled_from(INVOKING_KEYS))] = draw(JSON_VALUES)
            event["invokingEvent"] = json.dumps(invoking)
        elif change == "message-type":
            invoking["messageType"] = draw(st.sampled_from(MESSAGE_TYPES) | st.text(max_size=20))
            event["invokingEvent"] = json.dumps(invoking)
        elif change == "parameters":
            parameters[draw(parameter_names(rule))] = draw(parameter_values(rule))
            event["ruleParameters"] = json.dumps(parameters)
        elif change == "parameters-retype":
            event["ruleParameters"] = json.dumps(draw(JSON_VALUES))
        elif change == "oversized":  # far past what Config sends (its items are capped at 1 MB)
            event[draw(st.sampled_from(EVENT_KEYS))] = "x" * draw(st.sampled_from([1025, 262_144]))
        else:
            event[draw(st.text(min_size=1, max_size=10))] = draw(JSON_VALUES)
    return event


def assert_clear_outcome(rule: str, event: Any) -> str:
    """Run the handler; returns which clear outcome it reached, or fails."""
    try:
        response = lambda_handler(rule)(event, None)
    except InvalidEventError as error:
        assert str(error) and "\n" not in str(error), repr(error)
        return "invalid-event"
    except RuleParametersError as error:  # the invocation fails, the account says why
        assert str(error) and "\n" not in str(error), repr(error)
        assert error.response["customerErrorCode"] == "InvalidParameterValueException", error.response
        return "invalid-parameters"
    except Exception as error:  # rdklib's own check, before any rule code runs
        assert type(error) is Exception and str(error) == "Error: event is not defined.", repr(error)
        return "no-event"
    if isinstance(response, dict):
        assert set(response) == {"internalErrorMessage", "internalErrorDetails", "customerErrorMessage",
                                 "customerErrorCode"}, response
        assert response["internalErrorMessage"], response
        return "error-response"
    assert isinstance(response, list), response
    for evaluation in response:
        assert evaluation["ComplianceType"] in ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"), evaluation
        assert isinstance(evaluation["ComplianceResourceId"], str) and evaluation["ComplianceResourceId"]
        assert isinstance(evaluation["ComplianceResourceType"], str) and evaluation["ComplianceResourceType"]
        assert len(evaluation.get("Annotation", "")) <= 256
    return "evaluations"


@pytest.mark.parametrize("rule", RULE_NAMES)
def test_config_events_end_in_evaluations_or_a_clear_error(rule: str, account: Any) -> None:
    assert assert_clear_outcome(rule, periodic_event(rule, DEMO_PARAMETERS.get(rule))) == "evaluations"

    @examples(25)
    @given(mutated_events(rule))
    def check(event: Any) -> None:
        hypothesis.event(assert_clear_outcome(rule, event))

    check()


@pytest.mark.parametrize("change, message", [
    ({"invokingEvent": "{"}, "invokingEvent is not valid JSON"),
    ({"invokingEvent": "[]"}, "invokingEvent is an array in JSON, not an object"),
    ({"invokingEvent": json.dumps({"messageType": "ConfigurationItemChangeNotification",
                                   "notificationCreationTime": "2026-01-01T00:00:00.000Z"})},
     "periodic rule and evaluates ScheduledNotification events only"),
    ({"invokingEvent": json.dumps({"messageType": "ScheduledNotification"})}, "notificationCreationTime"),
    ({"ruleParameters": "{'a': 1}"}, "ruleParameters is not valid JSON"),
    ({"ruleParameters": json.dumps({"AssumeRoleMode": False})}, "ruleParameters AssumeRoleMode must be a string"),
    ({"resultToken": None}, "resultToken must be a string"),
    ({"executionRoleArn": "role"}, "is not an IAM role ARN"),
    ({"accountId": "12345"}, "is not a 12-digit account ID"),
])
def test_malformed_events_name_the_problem(change: dict[str, Any], message: str, account: Any) -> None:
    rule = RULE_NAMES[0]
    event = {**periodic_event(rule, DEMO_PARAMETERS.get(rule)), **change}
    with pytest.raises(InvalidEventError, match=re.escape(message)):
        lambda_handler(rule)(event, None)


def test_a_missing_event_key_is_named(account: Any) -> None:
    for rule in RULE_NAMES:
        for key in ("invokingEvent", "resultToken", "configRuleName", "executionRoleArn"):
            event = periodic_event(rule, DEMO_PARAMETERS.get(rule))
            del event[key]
            with pytest.raises(InvalidEventError, match=f"{key} is missing"):
                lambda_handler(rule)(event, None)


# --- CLI ----------------------------------------------------------------------------------------

def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(argv, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def assert_usage_or_success(code: int, err: str) -> None:
    assert "Traceback" not in err, err
    assert code in (cli.EXIT_OK, cli.EXIT_USAGE, cli.EXIT_NON_COMPLIANT), (code, err)
    if code == cli.EXIT_USAGE:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("transcribe-guard: "), err


class _NoSimulator:
    def __init__(self, seed: str = "empty", region: str = "us-east-1"):
        pass

    def __enter__(self) -> "_NoSimulator":
        return self

    def __exit__(self, *exc: Any) -> None:
        pass


class StubbedScan:
    """The CLI's input handling without an account: stream_scan (what the command line reads its
    results from) records the validated parameters it is given, and --demo opens no simulator."""

    def __init__(self) -> None:
        self.scans: list[dict[str, Any]] = []

    def __enter__(self) -> "StubbedScan":
        import transcribe_guard.simulator as simulator
        self._saved = (scan.stream_scan, simulator.Simulator)
        scan.stream_scan = lambda names, parameters, *_, **__: iter(self.scans.append(parameters) or [])  # type: ignore
        simulator.Simulator = _NoSimulator  # type: ignore[misc, assignment]
        return self

    def __exit__(self, *exc: Any) -> None:
        import transcribe_guard.simulator as simulator
        scan.stream_scan, simulator.Simulator = self._saved  # type: ignore[misc]


@st.composite
def parameters_documents(draw: st.DrawFn) -> str:
    """Parameters files: random JSON, JSON shaped like the real thing with random contents, or not
    JSON at all."""
    shape = draw(st.sampled_from(["json", "shaped", "text"]))
    if shape == "text":
        return draw(st.text(max_size=40) | BAD_JSON)
    if shape == "json":
        return json.dumps(draw(JSON_VALUES))
    rule = draw(st.sampled_from(RULE_NAMES) | st.text(max_size=8))
    names = parameter_names(rule) if rule in RULES else st.text(max_size=8)
    values = parameter_values(rule) if rule in RULES else JSON_VALUES
    return json.dumps({rule: draw(st.dictionaries(names, values, max_size=3) | JSON_VALUES)})


@examples(80)
@given(document=parameters_documents(), demo=st.booleans())
def test_cli_parameters_files_exit_2_with_one_line_or_run(document: str, demo: bool, tmp_path_factory: Any) -> None:
    path = tmp_path_factory.mktemp("params") / "parameters.json"
    path.write_text(document, encoding="utf-8")
    with StubbedScan() as stub:
        code, _, err = run_cli(["scan", "--quiet", "--format", "json", "--parameters", str(path)]
                               + (["--demo"] if demo else []))
    assert_usage_or_success(code, err)
    if code != cli.EXIT_USAGE:
        assert stub.scans, "parameters accepted, but nothing was scanned"


FLAG_TOKENS = st.sampled_from(["--rule", "--parameters", "--format", "--output", "--demo", "--quiet", "--", "-",
                               "--rule=", "--format=json", "--format=xml", "--bogus", "-x", "--dem", "table", "json",
                               "csv", "scan", "simulate", "/nonexistent/params.json", "a\nb", "--rule=a\tb"])


@examples(80)
@given(tokens=st.lists(FLAG_TOKENS | st.sampled_from(RULE_NAMES) | st.text(max_size=12), max_size=6))
def test_cli_random_scan_flags_exit_2_with_one_line_or_run(tokens: list[str], tmp_path_factory: Any) -> None:
    assume("--help" not in tokens and "-h" not in tokens)  # argparse prints the help and exits 0
    output = str(tmp_path_factory.mktemp("out") / "report.txt")
    argv = ["scan"] + [output if i and tokens[i - 1] == "--output" else t for i, t in enumerate(tokens)]
    with StubbedScan():
        code, _, err = run_cli(argv)
    assert_usage_or_success(code, err)


def test_cli_scan_uses_the_rule_functions_retry_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from transcribe_guard.templates import functions_template

    lambda_environments = [resource["Properties"]["Environment"]["Variables"]
                           for resource in functions_template()["Resources"].values()
                           # the event trigger retries Config's refusals itself, with fewer SDK attempts
                           if resource["Type"] == "AWS::Lambda::Function"
                           and resource.get("Condition") != "EnableEventTriggers"]
    assert lambda_environments and all({k: env[k] for k in scan.SDK_RETRY_ENVIRONMENT} == scan.SDK_RETRY_ENVIRONMENT
                                       for env in lambda_environments)
    for name in scan.SDK_RETRY_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    seen: dict[str, str | None] = {}
    monkeypatch.setattr(scan, "_run_scan", lambda names, parameters, progress, *_: seen.update(
        {name: os.environ.get(name) for name in scan.SDK_RETRY_ENVIRONMENT}) or [])
    assert scan.run_scan([], {}) == []
    assert seen == scan.SDK_RETRY_ENVIRONMENT
    assert not any(name in os.environ for name in scan.SDK_RETRY_ENVIRONMENT), "the settings outlived the scan"
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")  # the user's own choice wins
    scan.run_scan([], {})
    assert seen["AWS_MAX_ATTEMPTS"] == "2"
