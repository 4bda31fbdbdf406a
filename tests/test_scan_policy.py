"""docs/scan-policy.json, the IAM policy for a principal that runs `transcribe-guard scan`: generated
from the rules' declared actions, read-only, parliament-clean, and enough: a scan of the demo
account makes no call outside it (every call recorded by a botocore event hook)."""

from __future__ import annotations

import io
import json
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import parliament
import pytest
from botocore import handlers

from transcribe_guard.cli import main
from transcribe_guard.iam_actions import iam_action
from transcribe_guard.templates import SCAN_POLICY_PATH, UNAUTHORIZED_SCAN_ACTIONS, scan_actions, scan_policy

ROOT = Path(__file__).resolve().parent.parent
# A compliance scan reads every resource of its kind, so its actions are granted on "*".
ACCEPTED_FINDINGS = {"RESOURCE_STAR"}


@contextmanager
def every_call() -> Iterator[set[str]]:
    """IAM actions of every API call made by any client created meanwhile, whatever its session
    (`scan` builds its own boto3 Session for STS, rdklib uses the default one): a botocore
    built-in handler, which every new session copies, and the same handler on boto3's default
    session if it exists already."""
    import boto3

    seen: set[str] = set()

    def record(model: Any, **_: Any) -> None:
        seen.add(iam_action(model.service_model, model.name))

    spec = ("before-call", record)
    handlers.BUILTIN_HANDLERS.append(spec)
    default = boto3.DEFAULT_SESSION
    if default is not None:
        default.events.register("before-call", record, unique_id="test-scan-policy")
    try:
        yield seen
    finally:
        handlers.BUILTIN_HANDLERS.remove(spec)
        if default is not None:
            default.events.unregister("before-call", unique_id="test-scan-policy")


@pytest.fixture(scope="module")
def demo_scan(tmp_path_factory: pytest.TempPathFactory) -> tuple[set[str], dict[str, Any]]:
    """The calls of `scan --demo` itself, recorded once the simulated account is seeded (seeding
    creates the demo's resources with write calls no scan makes)."""
    from transcribe_guard import cli

    output = tmp_path_factory.mktemp("scan") / "scan.json"
    seen: set[str] = set()
    account = cli._account

    @contextmanager
    def recorded_account(demo: bool) -> Iterator[Any]:
        with account(demo) as simulated, every_call() as calls:
            yield simulated
            seen.update(calls)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli, "_account", recorded_account)
        status = main(["scan", "--demo", "--quiet", "--format", "json", "--output", str(output)],
                      out=io.StringIO(), err=io.StringIO())
    assert status == 3, "the demo account has findings"
    return seen, json.loads(output.read_text(encoding="utf-8"))


def test_the_committed_policy_is_the_generated_one() -> None:
    committed = json.loads((ROOT / SCAN_POLICY_PATH).read_text(encoding="utf-8"))
    assert committed == scan_policy(), "run `transcribe-guard build`"


def test_a_demo_scan_calls_nothing_outside_the_policy(demo_scan: tuple[set[str], dict[str, Any]]) -> None:
    seen, report = demo_scan
    assert len(report["evaluations"]) > 0
    assert {"transcribe:ListTranscriptionJobs", "s3:GetBucketPolicy", "sts:GetCallerIdentity"} <= seen
    assert seen - set(scan_actions()) - set(UNAUTHORIZED_SCAN_ACTIONS) == set()


def test_the_policy_grants_nothing_a_scan_does_not_need() -> None:
    # Nothing posts results or keeps checkpoints: no write, no data read.
    levels = {}
    for action in scan_actions():
        prefix, name = action.split(":", 1)
        service = next(s for s in parliament.iam_definition if s["prefix"] == prefix)
        levels[action] = next(p["access_level"] for p in service["privileges"] if p["privilege"] == name)
    assert {a: level for a, level in levels.items() if level not in ("Read", "List")} == {}
    assert not {"config:PutEvaluations", "ssm:PutParameter", "s3:GetObject", "kms:Decrypt"} & set(scan_actions())


def test_the_policy_passes_parliament() -> None:
    findings = parliament.analyze_policy_string(json.dumps(scan_policy())).findings
    assert [(f.issue, f.detail) for f in findings if f.issue not in ACCEPTED_FINDINGS] == []


def test_the_recorder_sees_calls_from_any_session() -> None:
    import boto3

    from transcribe_guard.simulator import Simulator

    with Simulator(seed="empty"), every_call() as seen:
        boto3.session.Session(region_name="us-east-1").client("s3").list_buckets()
    assert seen == {"s3:ListAllMyBuckets"}
