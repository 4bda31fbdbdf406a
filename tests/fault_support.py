"""Support for the fault matrix and property tests: the SDK retry settings the Lambda functions
run with, a seeded demo account (the same generated ids in every fresh simulator), fast
simulator start-up, instant retries, and a recorder of the calls a rule makes."""

from __future__ import annotations

import copy
import gc
import importlib
import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import boto3
import botocore.retries.standard

from rules.catalog.registry import module_name
from transcribe_guard.simulator import Simulator, faults

# What transcribe_guard/templates.py puts in every rule function's environment.
RETRY_ENVIRONMENT = {"AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": "5"}

# moto draws resource ids (role, user, policy, VPC, key ids) from one seedable generator; seeding
# it before each simulator gives every fresh demo account the same ids, so a clean run's
# evaluations can be compared with those of a faulted run in another simulator.
MOTO_SEED = 20261105


@dataclass
class Backoff:
    """Retry delays botocore's standard mode asked for (not slept)."""

    delays: list[float]


@contextmanager
def fast_simulation() -> Iterator[Backoff]:
    """For a module of many fresh demo accounts, all reverted on exit:

    - the Lambda functions' retry settings (standard mode, 5 attempts);
    - retries without sleeping: the standard-mode backoff is computed (and recorded) but not
      slept, so a persistent throttle costs no 15 seconds;
    - long-lived objects frozen out of the garbage collector's scans (the simulator itself shares
      one botocore data loader between sessions and loads no moto default AMIs:
      transcribe_guard/simulator/sdk_data.py).
    """
    saved_env = {name: os.environ.get(name) for name in RETRY_ENVIRONMENT}
    os.environ.update(RETRY_ENVIRONMENT)
    backoff = Backoff([])
    original_delay = botocore.retries.standard.ExponentialBackoff.delay_amount

    def delay_amount(self: Any, context: Any) -> float:
        backoff.delays.append(original_delay(self, context))
        return 0.0

    botocore.retries.standard.ExponentialBackoff.delay_amount = delay_amount  # type: ignore[method-assign]
    try:
        with Simulator(seed="demo"):  # warm up: imports, service models, moto backends
            pass
        gc.freeze()
        yield backoff
    finally:
        gc.unfreeze()
        faults.clear()
        botocore.retries.standard.ExponentialBackoff.delay_amount = original_delay  # type: ignore[method-assign]
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def simulation_with_summary(request: Any, name: str, summary: Any) -> Iterator[Backoff]:
    """fast_simulation for a test module that prints a summary at the end of the run: the
    plugin ``summary`` is registered once under ``name`` (pytest's terminal summary hook)."""
    manager = request.config.pluginmanager
    if not manager.has_plugin(name):
        manager.register(summary, name)
    with fast_simulation() as backoff:
        yield backoff


@contextmanager
def demo_account() -> Iterator[Simulator]:
    """A fresh demo account with the seeded ids; faults are cleared when it closes."""
    from moto.moto_api._internal import mock_random

    mock_random.seed(MOTO_SEED)
    with Simulator(seed="demo") as sim:
        try:
            yield sim
        finally:
            faults.clear()


def lambda_handler(rule_name: str) -> Callable[[dict[str, Any], Any], Any]:
    module = importlib.import_module(f"rules.{module_name(rule_name)}")
    return module.lambda_handler  # type: ignore[no-any-return]


@dataclass
class RecordedCall:
    service: str
    operation: str
    params: dict[str, Any]
    response: dict[str, Any] | None  # parsed, without ResponseMetadata; None when the call failed
    output_shape: Any


class CallLog:
    """Every call made by clients of boto3's default session created while recording: the
    request parameters as the caller passed them and the parsed response."""

    def __init__(self) -> None:
        self.calls: list[RecordedCall] = []
        self._id = f"transcribe-guard-call-log-{id(self)}"

    def _params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context[self._id] = copy.deepcopy(params)

    def _after(self, model: Any, parsed: dict[str, Any], http_response: Any, context: dict[str, Any],
               **_: Any) -> None:
        ok = http_response is not None and http_response.status_code < 300
        response = {k: v for k, v in parsed.items() if k != "ResponseMetadata"} if ok else None
        self.calls.append(RecordedCall(model.service_model.service_name, model.name, context.get(self._id, {}),
                                       copy.deepcopy(response), model.output_shape))

    @contextmanager
    def recording(self) -> Iterator["CallLog"]:
        events = boto3._get_default_session().events
        events.register("before-parameter-build", self._params, unique_id=self._id + "-params")
        events.register("after-call", self._after, unique_id=self._id + "-after")
        try:
            yield self
        finally:
            events.unregister("before-parameter-build", unique_id=self._id + "-params")
            events.unregister("after-call", unique_id=self._id + "-after")
