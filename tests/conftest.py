"""Shared fixtures: every test talks to the in-process simulator, never to AWS."""

from __future__ import annotations

import os
from typing import Iterator

import pytest

# No test may pick up a developer's real credentials, profile or endpoint.
for _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
    os.environ.pop(_name, None)
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ["AWS_REGION"] = "us-east-1"
# The simulator enforces no Transcribe quotas unless a test asks (tests/test_pacing.py paces on
# its own limiter), so the rules' client-side pacing is scaled out of the way.
os.environ["TRANSCRIBE_GUARD_QUOTA_SCALE"] = "1000"

from transcribe_guard.simulator import Simulator  # noqa: E402

ACCOUNT = "123456789012"
REGION = "us-east-1"


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """An empty simulated account (us-east-1, account 123456789012)."""
    with Simulator(seed="empty", region=REGION) as simulator:
        yield simulator
