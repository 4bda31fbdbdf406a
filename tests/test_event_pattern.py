"""rules/policy/event_pattern.py on plain data: the EventBridge operators the monitoring rule relies on,
examples from the EventBridge User Guide, and agreement with moto's matcher where both apply."""

from __future__ import annotations

from typing import Any

import pytest
from moto.events.models import EventPattern

from rules.policy.event_pattern import matches, parse

EVENT: dict[str, Any] = {
    "version": "0", "id": "1", "detail-type": "Transcribe Job State Change", "source": "aws.transcribe",
    "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": "us-east-1",
    "resources": ["arn:aws:transcribe:us-east-1:123456789012:transcription-job/a", "arn:x"],
    "detail": {"TranscriptionJobName": "call-1", "TranscriptionJobStatus": "FAILED", "attempt": 3,
               "redacted": True, "note": None, "nested": {"level": "deep"}},
}

CASES = [
    ({"source": ["aws.transcribe"]}, True),
    ({"source": ["aws.s3", "aws.transcribe"]}, True),
    ({"source": ["aws.s3"]}, False),
    ({"source": ["AWS.TRANSCRIBE"]}, False),
    ({"source": ["aws.transcribe"], "detail": {"TranscriptionJobStatus": ["FAILED"]}}, True),
    ({"source": ["aws.transcribe"], "detail": {"TranscriptionJobStatus": ["COMPLETED"]}}, False),
    ({"detail": {"nested": {"level": ["deep"]}}}, True),
    ({"detail": {"missing": ["x"]}}, False),
    ({"resources": ["arn:x"]}, True),
    ({"detail": {"attempt": [3]}}, True),
    ({"detail": {"attempt": ["3"]}}, False),
    ({"detail": {"redacted": [True]}}, True),
    ({"detail": {"note": [None]}}, True),
    ({"source": [{"prefix": "aws."}]}, True),
    ({"source": [{"prefix": "aws.s3"}]}, False),
    ({"detail": {"TranscriptionJobName": [{"suffix": "-1"}]}}, True),
    ({"detail": {"TranscriptionJobStatus": [{"anything-but": "COMPLETED"}]}}, True),
    ({"detail": {"TranscriptionJobStatus": [{"anything-but": ["COMPLETED", "FAILED"]}]}}, False),
    ({"detail": {"missing": [{"anything-but": "x"}]}}, False),
    ({"detail": {"TranscriptionJobStatus": [{"exists": True}]}}, True),
    ({"detail": {"missing": [{"exists": False}]}}, True),
    ({"detail": {"TranscriptionJobStatus": [{"exists": False}]}}, False),
    ({"detail": {"attempt": [{"numeric": [">", 2, "<=", 3]}]}}, True),
    ({"detail": {"attempt": [{"numeric": ["<", 3]}]}}, False),
    ({"detail-type": [{"equals-ignore-case": "transcribe job state change"}]}, True),
]


@pytest.mark.parametrize("pattern, expected", CASES)
def test_operators(pattern: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, EVENT) is expected


@pytest.mark.parametrize("pattern, expected", CASES)
def test_agrees_with_moto_on_the_common_operators(pattern: dict[str, Any], expected: bool) -> None:
    assert EventPattern(None, pattern).matches_event(EVENT) is expected  # type: ignore[arg-type]


@pytest.mark.parametrize("pattern, expected", [
    ({"source": [{"prefix": {"equals-ignore-case": "AWS.TRANS"}}]}, True),
    ({"detail": {"TranscriptionJobStatus": [{"anything-but": {"prefix": "FAIL"}}]}}, False),
    ({"detail": {"TranscriptionJobStatus": [{"anything-but": {"equals-ignore-case": "failed"}}]}}, False),
    ({"detail": {"TranscriptionJobName": [{"wildcard": "call-*"}]}}, True),
    ({"detail": {"TranscriptionJobName": [{"wildcard": "*-2"}]}}, False),
    ({"$or": [{"source": ["aws.s3"]}, {"detail": {"TranscriptionJobStatus": ["FAILED"]}}]}, True),
    ({"$or": [{"source": ["aws.s3"]}, {"detail": {"TranscriptionJobStatus": ["COMPLETED"]}}]}, False),
    # Anything not understood is never credited.
    ({"detail": {"ip": [{"cidr": "10.0.0.0/8"}]}}, False),
    ({"source": "aws.transcribe"}, False),
    ({"source": [{"prefix": "aws.", "suffix": "x"}]}, False),
    ({"detail": {"attempt": [{"numeric": [">"]}]}}, False),
    # A dotted key is a key, not a path (moto's flattening would match it).
    ({"detail.TranscriptionJobStatus": ["FAILED"]}, False),
])
def test_further_operators_and_conservative_cases(pattern: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, EVENT) is expected


def test_parse_accepts_only_non_empty_json_objects() -> None:
    assert parse('{"source": ["aws.transcribe"]}') == {"source": ["aws.transcribe"]}
    assert parse(None) is None and parse("") is None and parse("{}") is None
    assert parse("not json") is None and parse('["aws.transcribe"]') is None
