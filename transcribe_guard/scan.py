"""Scan an account with the rules' own code, without the command line: ``transcribe-guard scan``,
the evidence collector (``evidence.collect_from_scan``) and the benchmark all call ``run_scan``
here, so none of them imports the CLI (which imports them: an import cycle otherwise).
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence


class UsageError(Exception):
    """Bad input from the user: reported on one line, exit 2."""


# The SDK retry settings of the rule functions (transcribe_guard/templates.py): a scan retries
# throttling, 5xx errors and timeouts as the deployed rules do. Set only for the scan, and only
# where the environment does not already choose.
SDK_RETRY_ENVIRONMENT = {"AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": "5"}


@contextmanager
def sdk_retries() -> Iterator[None]:
    added = [name for name in SDK_RETRY_ENVIRONMENT if name not in os.environ]
    os.environ.update({name: SDK_RETRY_ENVIRONMENT[name] for name in added})
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def aws_session() -> Any:
    """A boto3 session from the standard AWS SDK configuration, refused without a region."""
    import boto3

    session = boto3.session.Session()
    if not session.region_name:
        raise UsageError("no AWS region configured: set AWS_DEFAULT_REGION (boto3 does not read AWS_REGION) or a profile region.")
    try:
        session.client("sts")
    except ValueError as error:  # how botocore refuses a malformed endpoint (AWS_ENDPOINT_URL, a profile's endpoint_url)
        raise UsageError(f"the AWS SDK configuration cannot build a client: {error}.") from None
    return session


def _utc_now() -> str:
    """ISO 8601 UTC to the second, the form AWS Config and Security Hub use for times."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_scan(rule_names: Sequence[str], parameters: dict[str, dict[str, Any]],
             progress: Callable[[str], None] | None = None) -> list[dict[str, str]]:
    """Run each rule's own evaluate_periodic (the code the Lambda runs) against the account and
    region the standard AWS SDK configuration selects, with the rule functions' SDK retries. One
    client factory for all rules, so they share one inventory and every resource is listed and
    read once."""
    with sdk_retries():
        return _run_scan(rule_names, parameters, progress)


def _run_scan(rule_names: Sequence[str], parameters: dict[str, dict[str, Any]],
              progress: Callable[[str], None] | None) -> list[dict[str, str]]:
    from rdklib import ClientFactory

    from rules.catalog.registry import RULES
    from transcribe_guard import custom_endpoint
    from transcribe_guard.events import scheduled_notification

    custom_endpoint.install_default()  # s3control through AWS_ENDPOINT_URL=http://127.0.0.1:PORT (simulate)
    session = aws_session()
    region = session.region_name
    account_id = session.client("sts").get_caller_identity()["Account"]
    client_factory = ClientFactory(role_arn=None, region=region, assume_role_mode=False)
    results: list[dict[str, str]] = []
    for index, name in enumerate(rule_names, 1):
        if progress:
            progress(f"[{index}/{len(rule_names)}] {name}")
        rule = RULES[name]()
        event = scheduled_notification(name, account_id, "TESTMODE", region=region)
        for evaluation in rule.evaluate_periodic(event, client_factory, parameters[name]):
            results.append({
                # Where and when: a result read later (evidence, findings, a merged multi-account run) names its
                # account and Region, and its own time rather than the time it was read.
                "account": account_id,
                "region": region,
                "evaluated_at": _utc_now(),
                "rule": name,
                "resource_type": evaluation.complianceResourceType,
                "resource_id": evaluation.complianceResourceId,
                "compliance": evaluation.complianceType,
                "annotation": evaluation.annotation or "",
            })
    return results
