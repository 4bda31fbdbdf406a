"""transcribe-kms-key-protected: scenarios against the simulator (keys named by bucket default
encryption and by vocabularies, filters and language models), parameters, API errors, per-run
caching shared by all four bucket and key rules, and the Lambda handler with a real
ScheduledNotification event."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rdklib import ClientFactory, ComplianceType, Evaluation, InvalidParametersError

import rules.inventory.s3_kms
import rules.inventory.transcribe
from rules.catalog.registry import RULES
from rules.transcribe_kms_key_protected import METADATA, TranscribeKmsKeyProtected, lambda_handler
from tests.data_buckets import (api_calls, client_error, create_key, create_language_model,  # noqa: F401
                                create_vocabulary, good_bucket, make_bucket, run, start_job, texts, verdicts)
from tests.helpers import rejected_parameters
from tests.helpers import ACCOUNT, deploy_rule, fail_calls, periodic_event, stored_verdicts

RULE = "transcribe-kms-key-protected"
C, N, NA = ComplianceType.COMPLIANT, ComplianceType.NON_COMPLIANT, ComplianceType.NOT_APPLICABLE
KEY_TYPE = "AWS::KMS::Key"
PROTECTED = ("is customer managed, Enabled, rotates automatically, and its policy grants nothing to other accounts.")


def evaluate(parameters: dict[str, str] | None = None, factory: Any = None) -> list[Evaluation]:
    return run(TranscribeKmsKeyProtected, parameters, factory)


def key_policy(*extra: dict[str, Any]) -> str:
    root = {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*", "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [root, *extra]})


def everyone(condition: Any = None, action: Any = "kms:Decrypt") -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": action, "Resource": "*"}
    if condition:
        statement["Condition"] = condition
    return statement


def test_scenario1_no_keys_no_evaluations(sim: Any) -> None:
    make_bucket(sim, "sse-s3-only")
    start_job(sim, "call", "sse-s3-only")
    assert evaluate() == []


def test_scenario2_protected_key_named_by_bucket_and_customizations_evaluated_once(sim: Any,
                                                                                  api_calls: Any) -> None:  # noqa: F811
    key = create_key(sim, "transcripts")
    make_bucket(sim, "by-arn", "aws:kms", key["Arn"])
    make_bucket(sim, "by-alias", "aws:kms", "alias/transcripts")
    make_bucket(sim, "by-id", "aws:kms", key["KeyId"])
    start_job(sim, "call", "by-arn", "by-alias")
    create_vocabulary(sim, "terms", "by-id", key["Arn"])
    create_language_model(sim, "lm", "by-arn", key_arn=key["Arn"])
    api_calls.counts.clear()
    assert evaluate({"BucketNames": "by-id"}) == [Evaluation(
        C, key["KeyId"], KEY_TYPE, f"KMS key of bucket by-alias (and 4 more) {PROTECTED}")]
    assert api_calls.counts["kms.GetKeyPolicy"] == 1 and api_calls.counts["kms.GetKeyRotationStatus"] == 1
    assert api_calls.per_target("kms.DescribeKey") == {key["Arn"]: 1, "alias/transcripts": 1, key["KeyId"]: 1}


@pytest.mark.parametrize("spec", [{"KeySpec": "RSA_2048", "KeyUsage": "ENCRYPT_DECRYPT"},
                                  {"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"},
                                  {"Origin": "EXTERNAL"}])
def test_scenario2_keys_without_automatic_rotation_are_not_checked_for_it(sim: Any, spec: dict[str, str],
                                                                          api_calls: Any) -> None:  # noqa: F811
    key = create_key(sim, **spec)
    make_bucket(sim, "sources")
    create_vocabulary(sim, "terms", "sources", key["Arn"])
    if spec.get("Origin") == "EXTERNAL":  # imported material: Enabled once imported; the simulator skips the import
        sim.client("kms").enable_key(KeyId=key["KeyId"])
    api_calls.counts.clear()
    result = evaluate()
    assert result == [Evaluation(C, key["KeyId"], KEY_TYPE, "KMS key of custom vocabulary terms is customer managed, "
                                 "Enabled, cannot rotate automatically (asymmetric, HMAC, imported or custom key store), "
                                 "and its policy grants nothing to other accounts.")]
    assert "kms.GetKeyRotationStatus" not in api_calls.counts


def test_scenario3_aws_managed_keys(sim: Any, api_calls: Any) -> None:  # noqa: F811
    aws_s3 = sim.client("kms").describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    make_bucket(sim, "implied", "aws:kms")
    make_bucket(sim, "by-alias", "aws:kms", "alias/aws/s3")
    make_bucket(sim, "by-arn", "aws:kms", aws_s3["Arn"])
    start_job(sim, "call", "implied", "by-alias")
    api_calls.counts.clear()
    assert evaluate({"BucketNames": "by-arn"}) == [Evaluation(
        NA, aws_s3["KeyId"], KEY_TYPE, "KMS key of bucket by-arn is AWS managed: AWS sets its policy and rotation, so it "
                                       "cannot be protected by a customer policy.")]
    assert api_calls.per_target("kms.DescribeKey") == {aws_s3["Arn"]: 1}  # aliases of AWS keys are never described


def test_scenario4_key_of_another_account(sim: Any, api_calls: Any) -> None:  # noqa: F811
    foreign = "arn:aws:kms:us-east-1:444455556666:key/0f0e0d0c-0b0a-0908-0706-050403020100"
    make_bucket(sim, "central", "aws:kms", foreign)
    start_job(sim, "call", "central")
    api_calls.counts.clear()
    assert evaluate() == [Evaluation(NA, "0f0e0d0c-0b0a-0908-0706-050403020100", KEY_TYPE,
                                     "KMS key of bucket central belongs to account 444455556666; its policy can be read "
                                     "only there, where this rule should evaluate it.")]
    assert not any(name.startswith("kms.") for name in api_calls.counts)


def test_scenario5_key_not_enabled(sim: Any) -> None:
    disabled, deleting = create_key(sim), create_key(sim)
    kms = sim.client("kms")
    kms.disable_key(KeyId=disabled["KeyId"])
    kms.schedule_key_deletion(KeyId=deleting["KeyId"], PendingWindowInDays=7)
    make_bucket(sim, "audio", "aws:kms", disabled["Arn"])
    make_bucket(sim, "text", "aws:kms", deleting["Arn"])
    start_job(sim, "call", "audio", "text")
    assert texts(evaluate()) == {disabled["KeyId"]: "KMS key of bucket audio is Disabled, not Enabled.",
                                 deleting["KeyId"]: "KMS key of bucket text is pending deletion, not Enabled."}


def test_scenario6_rotation_off(sim: Any) -> None:
    key = create_key(sim, rotation=False)
    make_bucket(sim, "sources")
    create_vocabulary(sim, "profanity", "sources", key["Arn"], kind="filter")
    assert evaluate() == [Evaluation(N, key["KeyId"], KEY_TYPE, "KMS key of vocabulary filter profanity does not rotate "
                                                                "automatically; turn on key rotation.")]


@pytest.mark.parametrize("statement, expected", [
    (everyone(), N),
    (everyone({"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}), N),
    (everyone({"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com", "kms:CallerAccount": ACCOUNT}}), C),
    (everyone({"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}, action="kms:*"), C),
    (everyone(action="kms:CreateGrant"), N),
    ({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "kms:Decrypt",
      "Resource": "*"}, C),
])
def test_scenario7_key_policy_grants(sim: Any, statement: dict[str, Any], expected: str) -> None:
    key = create_key(sim)
    sim.client("kms").put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=key_policy(statement))
    make_bucket(sim, "audio", "aws:kms", key["Arn"])
    start_job(sim, "call", "audio")
    result = evaluate()
    assert verdicts(result) == {key["KeyId"]: expected}
    if expected == N:
        assert "its key policy allows kms:" in texts(result)[key["KeyId"]]


def test_scenario8_unreadable_key_policy(sim: Any) -> None:
    key = create_key(sim)
    sim.client("kms").put_key_policy(KeyId=key["KeyId"], PolicyName="default",
                                     Policy=key_policy(everyone({"StringEqualsish": {"kms:CallerAccount": ACCOUNT}})))
    make_bucket(sim, "audio", "aws:kms", key["Arn"])
    start_job(sim, "call", "audio")
    assert texts(evaluate()) == {key["KeyId"]: "KMS key of bucket audio has a key policy this rule cannot read, so it "
                                               "may be shared."}


def test_scenario9_access_denied_on_one_key_among_good_ones(sim: Any, monkeypatch: Any) -> None:
    good, described, rotation, policy = (create_key(sim) for _ in range(4))
    create_key(sim, "hidden")
    for name, key in (("good", good), ("described", described), ("rotation", rotation), ("policy", policy)):
        make_bucket(sim, name, "aws:kms", key["Arn"])
        start_job(sim, name, name)
    make_bucket(sim, "by-alias", "aws:kms", "alias/hidden")
    make_bucket(sim, "unreadable", "aws:kms", good["Arn"])
    start_job(sim, "others", "by-alias", "unreadable")

    def should_fail(self: Any, service: str, operation: str, region: Any = None, **kw: Any) -> bool:
        return ((operation == "describe_key" and kw.get("KeyId") in (described["Arn"], "alias/hidden"))
                or (operation == "get_key_rotation_status" and kw.get("KeyId") == rotation["Arn"])
                or (operation == "get_key_policy" and kw.get("KeyId") == policy["Arn"])
                or kw.get("Bucket") == "unreadable")

    fail_calls(monkeypatch, rules.inventory.s3_kms.S3KmsLookups, "_call", should_fail,
               lambda: client_error("AccessDeniedException"))
    assert texts(evaluate()) == {
        good["KeyId"]: f"KMS key of bucket good {PROTECTED}",
        described["KeyId"]: "Could not evaluate: AccessDeniedException when describing the KMS key of bucket described.",
        rotation["KeyId"]: "Could not evaluate: AccessDeniedException when reading the rotation status of the KMS key of "
                           "bucket rotation.",
        policy["KeyId"]: "Could not evaluate: AccessDeniedException when reading the key policy of the KMS key of bucket "
                         "policy.",
        "by-alias": "Could not evaluate: AccessDeniedException when describing the KMS key of bucket by-alias.",
        "unreadable": "Could not evaluate: AccessDeniedException when reading the default encryption of bucket "
                      "unreadable, so its KMS key is unknown.",
    }


def test_scenario10_unreadable_customizations_report_the_account(sim: Any, monkeypatch: Any) -> None:
    key = create_key(sim)
    make_bucket(sim, "sources")
    create_vocabulary(sim, "terms", "sources", key["Arn"])
    create_vocabulary(sim, "secret", "sources", key["Arn"])
    fail_calls(monkeypatch, rules.inventory.transcribe.TranscribeInventory, "_call",
               lambda self, operation, **kw: kw.get("VocabularyName") == "secret",
               lambda: client_error("AccessDeniedException", "GetVocabulary"))
    rule = TranscribeKmsKeyProtected()
    result = rule.evaluate_periodic({"accountId": ACCOUNT}, ClientFactory(None, assume_role_mode=False),
                                    rule.evaluate_parameters({}))
    assert texts(result) == {
        ACCOUNT: "Could not evaluate: AccessDeniedException when reading a custom vocabulary; the KMS keys they name are "
                 "unknown, earlier results are kept.",
        key["KeyId"]: f"KMS key of custom vocabulary terms {PROTECTED}"}
    assert rule.delete_old_evaluations_on_scheduled_notification is False


def test_tagged_bucket_keys(sim: Any) -> None:
    key = create_key(sim, rotation=False)
    make_bucket(sim, "archive", "aws:kms", key["Arn"], tags={"data": "archive"})
    assert evaluate() == []
    assert verdicts(evaluate({"BucketTagKey": "data=archive"})) == {key["KeyId"]: N}


@pytest.mark.parametrize("parameters, message", [
    ({"BucketNames": "bucket_with_underscore"}, "Parameter BucketNames has an invalid value"),
    ({"KmsKeyArns": "x"}, "Unknown parameter KmsKeyArns"),
])
def test_scenario11_bad_parameters_name_the_parameter(parameters: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidParametersError, match=message):
        TranscribeKmsKeyProtected().evaluate_parameters(parameters)


def test_metadata_validates() -> None:
    import jsonschema

    from rules.catalog.registry import metadata_schema
    jsonschema.validate(METADATA, metadata_schema())


def test_a_scan_reads_each_job_bucket_and_key_once_for_all_four_rules(sim: Any, api_calls: Any) -> None:  # noqa: F811
    key = create_key(sim)
    good_bucket(sim, "audio", key["Arn"])
    good_bucket(sim, "text", key["Arn"])
    for index in range(12):
        start_job(sim, f"call-{index:02d}", "audio", "text", kind="analytics" if index % 2 else "standard")
    create_vocabulary(sim, "terms", "audio", key["Arn"])
    api_calls.counts.clear()
    factory = ClientFactory(None, assume_role_mode=False)  # what `scan` passes to every rule
    for name in ("transcribe-bucket-encrypted", "transcribe-bucket-tls-enforced",
                 "transcribe-bucket-public-access-blocked", "transcribe-kms-key-protected"):
        assert set(verdicts(run(RULES[name], {}, factory)).values()) == {C}, name
    assert api_calls.counts["transcribe.GetTranscriptionJob"] == 6
    assert api_calls.counts["transcribe.GetCallAnalyticsJob"] == 6
    assert api_calls.per_target("s3.GetBucketEncryption") == {"audio": 1, "text": 1}
    assert api_calls.per_target("s3.GetBucketPolicy") == {"audio": 1, "text": 1}
    assert api_calls.per_target("kms.DescribeKey") == {key["Arn"]: 1}


def test_lambda_handler_rejects_bad_parameters(sim: Any) -> None:
    deploy_rule(sim, RULE)
    response = rejected_parameters(lambda_handler, periodic_event(RULE, {"BucketTagKey": "a,b"}))
    assert response["customerErrorCode"] == "InvalidParameterValueException"
    assert "BucketTagKey" in response["customerErrorMessage"]


def test_lambda_handler_stores_verdicts_per_key(sim: Any) -> None:
    deploy_rule(sim, RULE)
    rotating, still = create_key(sim), create_key(sim, rotation=False)
    make_bucket(sim, "audio", "aws:kms", rotating["Arn"])
    make_bucket(sim, "sources")
    start_job(sim, "call", "audio")
    create_vocabulary(sim, "terms", "sources", still["Arn"])
    lambda_handler(periodic_event(RULE), None)
    assert stored_verdicts(sim, RULE) == {rotating["KeyId"]: C, still["KeyId"]: N}


def test_scenario9_responses_missing_key_manager_or_policy_fail_closed(sim: Any, monkeypatch: Any) -> None:
    unknown, no_policy = create_key(sim), create_key(sim)
    make_bucket(sim, "audio", "aws:kms", unknown["Arn"])
    make_bucket(sim, "text", "aws:kms", no_policy["Arn"])
    start_job(sim, "call", "audio", "text")
    original = rules.inventory.s3_kms.S3KmsLookups._call

    def thinned(self: Any, service: str, operation: str, region: Any = None, **kwargs: Any) -> Any:
        response = original(self, service, operation, region, **kwargs)
        if operation == "describe_key" and kwargs.get("KeyId") == unknown["Arn"]:
            response["KeyMetadata"].pop("KeyManager")
        if operation == "get_key_policy":
            response.pop("Policy")
        return response

    monkeypatch.setattr(rules.inventory.s3_kms.S3KmsLookups, "_call", thinned)
    assert texts(evaluate()) == {
        unknown["KeyId"]: "Could not evaluate: DescribeKey did not report the KeyManager of the KMS key of bucket audio.",
        no_policy["KeyId"]: "Could not evaluate: GetKeyPolicy returned no policy for the KMS key of bucket text."}
