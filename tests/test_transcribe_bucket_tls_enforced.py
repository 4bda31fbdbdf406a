"""transcribe-bucket-tls-enforced: scenarios against the simulator, a table of bucket policies
stored in simulated S3 and judged end to end, parameters, API errors, caching, and the Lambda
handler with a real ScheduledNotification event. The policy judge's own table is in
tests/test_resource_policy_probe.py."""

from __future__ import annotations

from typing import Any

import pytest
from rdklib import ComplianceType, Evaluation, InvalidParametersError

import rules.inventory.s3_kms
import rules.inventory.transcribe
from rules.transcribe_bucket_tls_enforced import METADATA, TranscribeBucketTlsEnforced, lambda_handler
from tests.data_buckets import (api_calls, client_error, make_bucket, policy, run, start_job, texts,  # noqa: F401
                                tls_statements, verdicts)
from tests.helpers import rejected_parameters
from tests.helpers import ACCOUNT, deploy_rule, fail_calls, periodic_event, stored_verdicts
from tests.test_simulator_s3_defaults import other_account_s3

RULE = "transcribe-bucket-tls-enforced"
C, N, NA = ComplianceType.COMPLIANT, ComplianceType.NON_COMPLIANT, ComplianceType.NOT_APPLICABLE
BUCKET = "AWS::S3::Bucket"


def evaluate(parameters: dict[str, str] | None = None, factory: Any = None) -> list[Evaluation]:
    return run(TranscribeBucketTlsEnforced, parameters, factory)


def enforced(sim: Any, name: str, minimum: str | None = "1.2") -> None:
    make_bucket(sim, name, policy=policy(*tls_statements(name, minimum)))


def test_scenario1_no_data_buckets_no_evaluations(sim: Any) -> None:
    make_bucket(sim, "unrelated")
    assert evaluate() == []


def test_scenario2_http_and_old_tls_denied_for_every_caller(sim: Any) -> None:
    enforced(sim, "audio")
    start_job(sim, "call", "audio")
    assert evaluate() == [Evaluation(C, "audio", BUCKET, "Bucket audio (media): its policy denies plain HTTP for "
                                                         "every caller.")]
    assert evaluate({"MinimumTlsVersion": "1.2"}) == [Evaluation(
        C, "audio", BUCKET, "Bucket audio (media): its policy denies plain HTTP and TLS below 1.2 for every caller.")]


def test_scenario2_aws_allow_ssl_requests_only_is_enough_by_default(sim: Any) -> None:
    # AWS's own statement (the one s3-bucket-ssl-requests-only asks for) has no s3:TlsVersion:
    # every AWS endpoint refuses TLS below 1.2, so it needs none (AWS Security Blog, TLS 1.2 minimum).
    make_bucket(sim, "ssl-only", policy=policy({
        "Sid": "AllowSSLRequestsOnly", "Action": "s3:*", "Effect": "Deny", "Principal": "*",
        "Resource": ["arn:aws:s3:::ssl-only", "arn:aws:s3:::ssl-only/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}))
    start_job(sim, "call", "ssl-only")
    assert verdicts(evaluate()) == {"ssl-only": C}
    assert verdicts(evaluate({"MinimumTlsVersion": "1.2"})) == {"ssl-only": C}
    assert texts(evaluate({"MinimumTlsVersion": "1.3"})) == {
        "ssl-only": "Bucket ssl-only (media): its policy does not deny TLS 1.2 s3:GetObject requests from this account "
                    "(s3:TlsVersion below 1.3)."}


def test_scenario2_minimum_tls_13(sim: Any) -> None:
    enforced(sim, "strict", "1.3")
    enforced(sim, "usual", "1.2")
    start_job(sim, "call", "strict", "usual")
    assert texts(evaluate({"MinimumTlsVersion": "1.3"})) == {
        "strict": "Bucket strict (media): its policy denies plain HTTP and TLS below 1.3 for every caller.",
        "usual": "Bucket usual (output): its policy does not deny TLS 1.2 s3:GetObject requests from this account "
                 "(s3:TlsVersion below 1.3)."}


def test_scenario3_no_policy(sim: Any) -> None:
    make_bucket(sim, "open")
    start_job(sim, "call", "open")
    assert evaluate() == [Evaluation(N, "open", BUCKET, "Bucket open (media) has no bucket policy, so S3 accepts "
                                                        "plain-HTTP requests.")]


def test_scenario4_plain_http_not_denied(sim: Any) -> None:
    objects_only = tls_statements("half")
    for statement in objects_only:
        statement["Resource"] = "arn:aws:s3:::half/*"
    make_bucket(sim, "half", policy=policy(*objects_only))
    start_job(sim, "call", "half")
    assert texts(evaluate()) == {"half": "Bucket half (media): its policy does not deny plain-HTTP (aws:SecureTransport "
                                         "false) s3:ListBucket requests from this account."}


def test_scenario5_old_tls_not_denied(sim: Any) -> None:
    enforced(sim, "no-floor", None)
    enforced(sim, "floor-12", "1.2")
    start_job(sim, "call", "no-floor", "floor-12")
    assert texts(evaluate({"MinimumTlsVersion": "1.3"})) == {
        "no-floor": "Bucket no-floor (media): its policy does not deny TLS 1.2 s3:GetObject requests from this account "
                    "(s3:TlsVersion below 1.3).",
        "floor-12": "Bucket floor-12 (output): its policy does not deny TLS 1.2 s3:GetObject requests from this "
                    "account (s3:TlsVersion below 1.3)."}
    # TLS 1.0 and 1.1 are refused by AWS itself: no statement is needed for a minimum of 1.2.
    assert verdicts(evaluate({"MinimumTlsVersion": "1.2"})) == {"no-floor": C, "floor-12": C}


def test_scenario6_tls_statement_refusing_the_minimum(sim: Any) -> None:
    enforced(sim, "too-strict", "1.3")
    start_job(sim, "call", "too-strict")
    assert verdicts(evaluate()) == {"too-strict": C}  # no minimum asked for: stricter is fine
    assert texts(evaluate({"MinimumTlsVersion": "1.2"})) == {"too-strict": "Bucket too-strict (media): its policy also denies TLS 1.2 (s3:GetObject "
                                               "from this account); set MinimumTlsVersion to the version it requires."}
    assert verdicts(evaluate({"MinimumTlsVersion": "1.3"})) == {"too-strict": C}


def test_scenario7_unreadable_policy(sim: Any) -> None:
    statements = tls_statements("odd")
    statements[0]["Condition"] = {"BoolIsh": {"aws:SecureTransport": "false"}}
    make_bucket(sim, "odd", policy=policy(*statements))
    start_job(sim, "call", "odd")
    assert texts(evaluate()) == {"odd": "Bucket odd (media) has a bucket policy this rule cannot read, so TLS "
                                        "enforcement is not shown."}


# Stored in simulated S3 and read back: what GetBucketPolicy returns is what is judged.
STORED = [
    ("aws-recommended", lambda b: tls_statements(b), C),
    ("bool-and-numeric-in-list-form", lambda b: [
        {**tls_statements(b)[0], "Condition": {"Bool": {"aws:SecureTransport": ["false"]}}},
        {**tls_statements(b)[1], "Condition": {"NumericLessThan": {"s3:TlsVersion": ["1.2"]}}}], C),
    ("principal-aws-star", lambda b: [{**s, "Principal": {"AWS": "*"}} for s in tls_statements(b)], C),
    ("deny-get-only", lambda b: [{**s, "Action": "s3:GetObject"} for s in tls_statements(b)], N),
    ("account-only", lambda b: [{**s, "Principal": {"AWS": ACCOUNT}} for s in tls_statements(b)], N),
    ("exempt-vpc-endpoint", lambda b: [{**s, "Condition": {**s["Condition"],
                                                           "StringNotEquals": {"aws:SourceVpce": "vpce-1"}}}
                                       for s in tls_statements(b)], N),
    ("allow-over-https-only", lambda b: [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                          "Resource": f"arn:aws:s3:::{b}/*",
                                          "Condition": {"Bool": {"aws:SecureTransport": "true"}}}], N),
]


@pytest.mark.parametrize("make, expected", [s[1:] for s in STORED], ids=[s[0] for s in STORED])
def test_stored_policies_table(sim: Any, make: Any, expected: str) -> None:
    make_bucket(sim, "judged", policy=policy(*make("judged")))
    start_job(sim, "call", "judged")
    assert verdicts(evaluate()) == {"judged": expected}


def test_scenario8_access_denied_among_good_buckets_and_another_accounts_bucket(sim: Any, monkeypatch: Any) -> None:
    for name in ("good-a", "good-b", "denied"):
        enforced(sim, name)
        start_job(sim, name, name)
    other_account_s3(sim).create_bucket(Bucket="partner-data")
    fail_calls(monkeypatch, rules.inventory.s3_kms.S3KmsLookups, "_call",
               lambda self, service, operation, region=None, **kw: kw.get("Bucket") == "denied",
               lambda: client_error("AccessDenied", "GetBucketPolicy"))
    result = evaluate({"BucketNames": "partner-data"})
    assert verdicts(result) == {"good-a": C, "good-b": C, "denied": N, "partner-data": N}
    assert texts(result)["denied"] == ("Could not evaluate: AccessDenied when reading the bucket policy of bucket "
                                       "denied; the bucket belongs to another account or denies this rule's role.")


def test_scenario9_deleted_bucket_is_not_applicable(sim: Any) -> None:
    enforced(sim, "gone")
    start_job(sim, "call", "gone")
    sim.client("s3").delete_object(Bucket="gone", Key="call.wav")
    sim.client("s3").delete_bucket(Bucket="gone")
    assert evaluate() == [Evaluation(NA, "gone", BUCKET, "Bucket gone (media) does not exist (deleted since a job named it, or misnamed).")]


def test_scenario10_unlisted_jobs_report_the_account(sim: Any, monkeypatch: Any) -> None:
    enforced(sim, "audio")
    start_job(sim, "call", "audio", kind="medical")
    fail_calls(monkeypatch, rules.inventory.transcribe.TranscribeInventory, "_call",
               lambda self, operation, **kw: operation == "list_call_analytics_jobs",
               lambda: client_error("ThrottlingException", "ListCallAnalyticsJobs"))
    result = evaluate()
    assert verdicts(result) == {ACCOUNT: N, "audio": C}
    assert texts(result)[ACCOUNT] == ("Could not evaluate: ThrottlingException when listing call analytics jobs; the "
                                      "buckets they name are unknown, earlier results are kept.")


def test_scenario11_unreadable_tags(sim: Any, monkeypatch: Any) -> None:
    make_bucket(sim, "locked", tags={"data": "calls"})
    fail_calls(monkeypatch, rules.inventory.s3_kms.S3KmsLookups, "_call",
               lambda self, service, operation, region=None, **kw: operation == "get_bucket_tagging",
               lambda: client_error("AccessDenied", "GetBucketTagging"))
    assert verdicts(evaluate({"BucketTagKey": "data"})) == {"locked": N}


def test_each_bucket_read_once_for_many_jobs(sim: Any, api_calls: Any) -> None:  # noqa: F811
    enforced(sim, "audio")
    make_bucket(sim, "text")
    for index in range(20):
        start_job(sim, f"job-{index:02d}", "audio", "text")
    api_calls.counts.clear()
    assert verdicts(evaluate()) == {"audio": C, "text": N}
    assert api_calls.per_target("s3.GetBucketPolicy") == {"audio": 1, "text": 1}


@pytest.mark.parametrize("parameters, message", [
    ({"MinimumTlsVersion": "1.1"}, "Parameter MinimumTlsVersion has an unsupported value; allowed: 1.2, 1.3"),
    ({"MinimumTlsVersion": "TLSv1.2"}, "Parameter MinimumTlsVersion has an unsupported value"),
    ({"BucketNames": "a_b"}, "Parameter BucketNames has an invalid value"),
    ({"BucketTagKey": "x" * 400}, "Parameter BucketTagKey is 400 characters long"),
])
def test_scenario12_bad_parameters_name_the_parameter(parameters: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidParametersError, match=message):
        TranscribeBucketTlsEnforced().evaluate_parameters(parameters)


def test_parameters_defaults() -> None:
    assert TranscribeBucketTlsEnforced().evaluate_parameters({}) == {"MinimumTlsVersion": None, "BucketNames": [],
                                                                     "BucketTagKey": None}
    assert TranscribeBucketTlsEnforced().evaluate_parameters({"MinimumTlsVersion": ""})["MinimumTlsVersion"] is None


def test_metadata_validates() -> None:
    import jsonschema

    from rules.catalog.registry import metadata_schema
    jsonschema.validate(METADATA, metadata_schema())


def test_lambda_handler_rejects_bad_parameters(sim: Any) -> None:
    deploy_rule(sim, RULE)
    response = rejected_parameters(lambda_handler, periodic_event(RULE, {"MinimumTlsVersion": "1.0"}))
    assert response["customerErrorCode"] == "InvalidParameterValueException"
    assert "MinimumTlsVersion" in response["customerErrorMessage"]


def test_lambda_handler_stores_verdicts_per_bucket(sim: Any) -> None:
    deploy_rule(sim, RULE)
    enforced(sim, "audio")
    enforced(sim, "text", "1.3")
    start_job(sim, "call", "audio", "text")
    lambda_handler(periodic_event(RULE), None)
    assert stored_verdicts(sim, RULE) == {"audio": C, "text": C}
    lambda_handler(periodic_event(RULE, {"MinimumTlsVersion": "1.2"}), None)
    assert stored_verdicts(sim, RULE) == {"audio": C, "text": N}
    lambda_handler(periodic_event(RULE, {"MinimumTlsVersion": "1.3"}), None)
    assert stored_verdicts(sim, RULE) == {"audio": N, "text": C}
