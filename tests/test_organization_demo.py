"""`deploy --demo --organization`: the demo organization (simulator/demo_organization.py) deployed
by the organization path, evaluated, and shown through the aggregator. One Region and two rules
evaluated, to keep it short; the whole demo runs in `make demo`."""

from __future__ import annotations

import io
from typing import Any

from transcribe_guard import cli
from transcribe_guard.simulator import organization_config
from transcribe_guard.templates import AGGREGATOR_NAME

RULES = ["transcribe-job-pii-redaction", "transcribe-iam-user-no-access"]


def test_cli_deploy_demo_organization_shows_the_aggregator_view(monkeypatch: Any) -> None:
    evaluate = organization_config.evaluate_organization_pack
    monkeypatch.setattr(organization_config, "evaluate_organization_pack",
                        lambda admin, regions, name, rule_bases=None: evaluate(admin, regions, name, RULES))
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["deploy", "--demo", "--organization", "--region", "us-east-1"], out, err)
    assert code == cli.EXIT_OK, err.getvalue()
    text = out.getvalue()
    assert "demo organization: 3 accounts" in err.getvalue()
    assert "started evaluation of 6 rules in the organization's accounts" in err.getvalue()  # 2 rules x 3 accounts
    assert f"through aggregator {AGGREGATOR_NAME}: 3 account/Region pairs" in text
    pairs = [line.split()[:2] for line in text.splitlines() if line[:12].isdigit()]
    assert len(pairs) == 3 and {region for _, region in pairs} == {"us-east-1"}
    rows = {line.split()[0]: line.split()[1] for line in text.splitlines() if line.split()[:1] in ([r] for r in RULES)}
    assert rows == {rule: "NON_COMPLIANT" for rule in RULES}  # the demo's members hold non-compliant jobs and users
