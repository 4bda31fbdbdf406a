"""rules/policy/filter_pattern.py on sample CloudTrail records: the CloudWatch Logs filter-pattern syntax
the monitoring rule relies on, with patterns from the CloudWatch Logs User Guide and the CIS AWS
Foundations metric filters."""

from __future__ import annotations

from typing import Any

import pytest

from rules.policy.filter_pattern import matches
from rules.transcribe_monitoring_configured import cloudtrail_records

RECORDS = cloudtrail_records("123456789012", "us-east-1")
START = next(r for r in RECORDS if r["eventName"] == "StartTranscriptionJob" and "errorCode" not in r)
DENIED = next(r for r in RECORDS if r.get("errorCode") == "AccessDenied")
DELETE = next(r for r in RECORDS if r["eventName"] == "DeleteTranscriptionJob")


@pytest.mark.parametrize("pattern, record, expected", [
    ('{ $.eventSource = "transcribe.amazonaws.com" }', START, True),
    ("{ $.eventSource = transcribe.amazonaws.com }", START, True),
    ('{$.eventSource="transcribe.amazonaws.com"}', START, True),
    ('{ $.eventSource = "s3.amazonaws.com" }', START, False),
    ('{ $.eventSource = "transcribe.*" }', START, True),
    ('{ $.eventSource = "*.amazonaws.com" }', START, True),
    ('{ $.eventSource != "transcribe.amazonaws.com" }', START, False),
    ('{ $.eventSource != "s3.amazonaws.com" }', START, True),
    ('{ $.errorCode = "AccessDenied*" }', DENIED, True),
    ('{ $.errorCode = "AccessDenied*" }', START, False),  # no errorCode: no match
    ('{ $.errorCode != "x" }', START, False),  # a property the event lacks never matches
    ('{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }', DENIED, True),
    ('{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }', START, False),
    ('{ ($.eventSource = transcribe.amazonaws.com) && ($.eventName = Delete*) }', DELETE, True),
    ('{ ($.eventSource = transcribe.amazonaws.com) && ($.eventName = Delete*) }', START, False),
    ('{ $.eventName = Start* && $.errorCode NOT EXISTS || $.eventName = Nothing }', START, True),
    ('{ $.eventName = Start* && ($.errorCode NOT EXISTS || $.eventName = Nothing) }', DENIED, False),
    ('{ $.errorCode NOT EXISTS }', START, True),
    ('{ $.readOnly IS FALSE }', START, True),
    ('{ $.readOnly IS TRUE }', START, False),
    ('{ $.responseElements IS NULL }', START, True),
    ('{ $.readOnly = false }', START, True),
    ('{ $.userIdentity.type = "AssumedRole" }', START, True),
    ('{ $.userIdentity.type = "Root" }', START, False),
    ('{ $.eventVersion > 1.08 }', START, True),
    ('{ $.eventVersion < 1 }', START, False),
    ("", START, True),
    ('"transcribe.amazonaws.com"', START, True),
    ("transcribe.amazonaws.com StartTranscriptionJob", START, True),
    ("transcribe.amazonaws.com DeleteVocabulary", START, False),
    ("?DeleteVocabulary ?StartTranscriptionJob", START, True),
    ("transcribe.amazonaws.com -AccessDenied", DENIED, False),
    ("TRANSCRIBE", START, False),  # terms are case-sensitive
])
def test_filter_patterns(pattern: str, record: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, record) is expected


@pytest.mark.parametrize("pattern", [
    "[version, account, eni, source]",
    "%transcribe%",
    '{ $.eventSource = %transcribe% }',
    '{ $.eventSource = "transcribe.amazonaws.com" ',
    '{ $.eventSource "transcribe.amazonaws.com" }',
    '{ ($.eventSource = "transcribe.amazonaws.com" }',
    '{ $.eventSource IS SOMETHING }',
])
def test_unsupported_or_malformed_patterns_never_match(pattern: str) -> None:
    assert matches(pattern, START) is False
