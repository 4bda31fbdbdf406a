"""transcribe-bucket-public-access-blocked: scenarios against the simulator (bucket and account
Block Public Access, bucket policies stored in simulated S3), parameters, API errors, caching, and
the Lambda handler with a real ScheduledNotification event. The policy judge's own table is in
tests/test_resource_policy_probe.py."""

from __future__ import annotations

from typing import Any

import pytest
from rdklib import ComplianceType, Evaluation, InvalidParametersError

import rules.inventory.s3_kms
import rules.inventory.transcribe
from rules.transcribe_bucket_public_access_blocked import METADATA, TranscribeBucketPublicAccessBlocked, lambda_handler
from tests.data_buckets import (ALL_ON, api_calls, client_error, make_bucket, policy, run, start_job,  # noqa: F401
                                texts, tls_statements, verdicts)
from tests.helpers import rejected_parameters
from tests.helpers import ACCOUNT, deploy_rule, fail_calls, periodic_event, stored_verdicts
from tests.test_simulator_s3_defaults import other_account_s3

RULE = "transcribe-bucket-public-access-blocked"
C, N, NA = ComplianceType.COMPLIANT, ComplianceType.NON_COMPLIANT, ComplianceType.NOT_APPLICABLE
BUCKET = "AWS::S3::Bucket"
COMPLIANT = "blocks public access (all four settings on) and its policy grants nothing to the public."


def evaluate(parameters: dict[str, str] | None = None, factory: Any = None) -> list[Evaluation]:
    return run(TranscribeBucketPublicAccessBlocked, parameters, factory)


def public_read(bucket: str, condition: Any = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                 "Resource": f"arn:aws:s3:::{bucket}/*"}
    if condition:
        statement["Condition"] = condition
    return statement


def account_block(sim: Any, **settings: bool) -> None:
    sim.client("s3control").put_public_access_block(AccountId=ACCOUNT, PublicAccessBlockConfiguration=settings)


def test_scenario1_no_data_buckets_no_evaluations(sim: Any) -> None:
    make_bucket(sim, "unrelated", block=None)
    assert evaluate() == []


def test_scenario2_blocked_without_or_with_a_private_policy(sim: Any, api_calls: Any) -> None:  # noqa: F811
    make_bucket(sim, "no-policy")
    make_bucket(sim, "deny-only", policy=policy(*tls_statements("deny-only")))
    start_job(sim, "call", "no-policy", "deny-only")
    api_calls.counts.clear()
    assert evaluate() == [Evaluation(C, "deny-only", BUCKET, f"Bucket deny-only (output) {COMPLIANT}"),
                          Evaluation(C, "no-policy", BUCKET, f"Bucket no-policy (media) {COMPLIANT}")]
    assert "s3control.GetPublicAccessBlock" not in api_calls.counts  # every setting is on at bucket level


def test_scenario2_settings_from_either_level(sim: Any) -> None:
    make_bucket(sim, "half", block={"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
                                    "RestrictPublicBuckets": False})
    make_bucket(sim, "none", block=None)
    start_job(sim, "call", "half", "none")
    account_block(sim, BlockPublicAcls=False, IgnorePublicAcls=False, BlockPublicPolicy=True, RestrictPublicBuckets=True)
    assert verdicts(evaluate()) == {"half": C, "none": N}
    assert texts(evaluate())["none"] == ("Bucket none (output) does not block public access: BlockPublicAcls, "
                                         "IgnorePublicAcls are off at both bucket and account level.")
    account_block(sim, **ALL_ON)
    assert verdicts(evaluate()) == {"half": C, "none": C}


def test_scenario3_settings_off_at_both_levels(sim: Any) -> None:
    make_bucket(sim, "opened", block={**ALL_ON, "RestrictPublicBuckets": False})
    start_job(sim, "call", "opened")
    assert evaluate() == [Evaluation(N, "opened", BUCKET, "Bucket opened (media) does not block public access: "
                                                          "RestrictPublicBuckets is off at both bucket and account level.")]


@pytest.mark.parametrize("condition, expected", [
    (None, N),
    ({"StringLike": {"aws:Referer": "https://portal.example.com/*"}}, N),
    ({"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}, N),
    ({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}, C),
    ({"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}, C),
    ({"IpAddress": {"aws:SourceIp": "10.20.0.0/16"}}, C),
    ({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}, N),
])
def test_scenario4_and_5_public_grants_and_restricting_conditions(sim: Any, condition: Any, expected: str) -> None:
    make_bucket(sim, "shared", policy=policy(public_read("shared", condition)))
    start_job(sim, "call", "shared")
    assert verdicts(evaluate()) == {"shared": expected}


def test_scenario4_annotation_names_action_and_caller(sim: Any) -> None:
    make_bucket(sim, "leaky", policy=policy({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:List*",
                                             "Resource": "arn:aws:s3:::leaky"}))
    start_job(sim, "call", "leaky")
    assert texts(evaluate()) == {"leaky": "Bucket leaky (media): its policy allows s3:ListBucket to anonymous callers "
                                          "without a restricting condition (fixed VPC endpoint, organization, account "
                                          "or IP range)."}


def test_scenario5_deny_overrides_and_named_accounts_are_not_public(sim: Any) -> None:
    guarded = [public_read("guarded"), {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                                        "Resource": ["arn:aws:s3:::guarded", "arn:aws:s3:::guarded/*"],
                                        "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}]
    partner = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:role/partner"},
               "Action": "s3:GetObject", "Resource": "arn:aws:s3:::partner/*"}
    make_bucket(sim, "guarded", policy=policy(*guarded))  # the simulator enforces it: no uploads from outside o-a1b2...
    make_bucket(sim, "partner", policy=policy(partner))
    assert verdicts(evaluate({"BucketNames": "guarded,partner"})) == {"guarded": C, "partner": C}


def test_scenario6_unreadable_policy(sim: Any) -> None:
    make_bucket(sim, "odd", policy=policy(public_read("odd", {"StringLikeish": {"aws:Referer": "x"}})))
    start_job(sim, "call", "odd")
    assert texts(evaluate()) == {"odd": "Bucket odd (media) has a bucket policy this rule cannot read, so it may grant "
                                        "public access."}


def test_scenario7_access_denied_among_good_buckets(sim: Any, monkeypatch: Any) -> None:
    for name in ("good-a", "good-b", "denied"):
        make_bucket(sim, name)
        start_job(sim, name, name)
    fail_calls(monkeypatch, rules.inventory.s3_kms.S3KmsLookups, "_call",
               lambda self, service, operation, region=None, **kw: kw.get("Bucket") == "denied",
               lambda: client_error("AccessDenied", "GetPublicAccessBlock"))
    result = evaluate()
    assert verdicts(result) == {"good-a": C, "good-b": C, "denied": N}
    assert texts(result)["denied"] == ("Could not evaluate: AccessDenied when reading the public access block of bucket "
                                       "denied; the bucket belongs to another account or denies this rule's role.")


def test_scenario7_unreadable_account_settings_only_matter_when_needed(sim: Any, monkeypatch: Any) -> None:
    make_bucket(sim, "blocked")
    make_bucket(sim, "needs-account", block=None)
    start_job(sim, "call", "blocked", "needs-account")
    fail_calls(monkeypatch, rules.inventory.s3_kms.S3KmsLookups, "_call",
               lambda self, service, operation, region=None, **kw: service == "s3control",
               lambda: client_error("AccessDenied", "GetPublicAccessBlock"))
    assert texts(evaluate()) == {
        "blocked": f"Bucket blocked (media) {COMPLIANT}",
        "needs-account": "Could not evaluate: AccessDenied when reading the account's public access block, needed for "
                         "bucket needs-account."}


def test_scenario7_bucket_of_another_account(sim: Any) -> None:
    other_account_s3(sim).create_bucket(Bucket="partner-data")
    assert verdicts(evaluate({"BucketNames": "partner-data"})) == {"partner-data": N}


def test_scenario8_deleted_bucket_is_not_applicable(sim: Any) -> None:
    make_bucket(sim, "gone")
    start_job(sim, "call", "gone")
    sim.client("s3").delete_object(Bucket="gone", Key="call.wav")
    sim.client("s3").delete_public_access_block(Bucket="gone")
    sim.client("s3").delete_bucket(Bucket="gone")
    assert verdicts(evaluate()) == {"gone": NA}


def test_scenario9_unreadable_language_models_report_the_account(sim: Any, monkeypatch: Any) -> None:
    make_bucket(sim, "audio")
    start_job(sim, "call", "audio")
    fail_calls(monkeypatch, rules.inventory.transcribe.TranscribeInventory, "_call",
               lambda self, operation, **kw: operation == "list_language_models",
               lambda: client_error("AccessDeniedException", "ListLanguageModels"))
    assert verdicts(evaluate()) == {ACCOUNT: N, "audio": C}


def test_scenario10_unreadable_tags(sim: Any, monkeypatch: Any) -> None:
    make_bucket(sim, "locked", tags={"data": "calls"})
    fail_calls(monkeypatch, rules.inventory.s3_kms.S3KmsLookups, "_call",
               lambda self, service, operation, region=None, **kw: operation == "get_bucket_tagging",
               lambda: client_error("AccessDenied", "GetBucketTagging"))
    assert verdicts(evaluate({"BucketTagKey": "data=calls"})) == {"locked": N}


def test_tagged_and_named_buckets(sim: Any) -> None:
    make_bucket(sim, "archive", block=None, tags={"data": "calls"})
    make_bucket(sim, "vocab-src")
    assert verdicts(evaluate({"BucketTagKey": "data", "BucketNames": "vocab-src"})) == {"archive": N, "vocab-src": C}


def test_each_bucket_and_the_account_read_once(sim: Any, api_calls: Any) -> None:  # noqa: F811
    make_bucket(sim, "audio", block=None, policy=policy(public_read("audio")))
    make_bucket(sim, "text", block=None)
    for index in range(10):
        start_job(sim, f"job-{index}", "audio", "text")
    account_block(sim, **ALL_ON)
    api_calls.counts.clear()
    assert verdicts(evaluate()) == {"audio": N, "text": C}
    assert api_calls.counts["s3control.GetPublicAccessBlock"] == 1
    assert api_calls.per_target("s3.GetPublicAccessBlock") == {"audio": 1, "text": 1}
    assert api_calls.per_target("s3.GetBucketPolicy") == {"audio": 1, "text": 1}


@pytest.mark.parametrize("parameters, message", [
    ({"BucketNames": "-bad-"}, "Parameter BucketNames has an invalid value"),
    ({"BucketTagKey": "k=v,w"}, "Parameter BucketTagKey has an invalid value"),
    ({"MinimumTlsVersion": "1.2"}, "Unknown parameter MinimumTlsVersion"),
])
def test_scenario11_bad_parameters_name_the_parameter(parameters: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidParametersError, match=message):
        TranscribeBucketPublicAccessBlocked().evaluate_parameters(parameters)


def test_metadata_validates() -> None:
    import jsonschema

    from rules.catalog.registry import metadata_schema
    jsonschema.validate(METADATA, metadata_schema())


def test_lambda_handler_rejects_bad_parameters(sim: Any) -> None:
    deploy_rule(sim, RULE)
    response = rejected_parameters(lambda_handler, periodic_event(RULE, {"BucketNames": "NOT_A_BUCKET"}))
    assert response["customerErrorCode"] == "InvalidParameterValueException"
    assert "BucketNames" in response["customerErrorMessage"]


def test_lambda_handler_stores_verdicts_per_bucket(sim: Any) -> None:
    deploy_rule(sim, RULE)
    make_bucket(sim, "audio")
    make_bucket(sim, "text", policy=policy(public_read("text")))
    start_job(sim, "call", "audio", "text")
    lambda_handler(periodic_event(RULE), None)
    assert stored_verdicts(sim, RULE) == {"audio": C, "text": N}
