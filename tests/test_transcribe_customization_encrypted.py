"""transcribe-customization-encrypted: scenarios against the simulator (seeded with plain boto3
calls), every customization kind, parameters, API errors, pagination, and the Lambda handler with
a real ScheduledNotification event."""

from __future__ import annotations

from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError
from rdklib import ClientFactory, ComplianceType, Evaluation, InvalidParametersError

import rules.inventory.s3_kms
import rules.inventory.transcribe
from rules.transcribe_customization_encrypted import METADATA, TranscribeCustomizationEncrypted, lambda_handler
from tests.helpers import rejected_parameters
from tests.helpers import ACCOUNT, access_denied, deploy_rule, fail_calls, periodic_event, stored_verdicts

RULE = "transcribe-customization-encrypted"
ARN = f"arn:aws:transcribe:us-east-1:{ACCOUNT}"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/transcribe-data-access"
SOURCES = "customization-sources"
C, N, NA = ComplianceType.COMPLIANT, ComplianceType.NON_COMPLIANT, ComplianceType.NOT_APPLICABLE


@pytest.fixture
def account(sim: Any) -> Iterator[Any]:
    """A source bucket with a vocabulary file, a filter file and training data, and a customer
    managed key (sim.key)."""
    s3 = sim.client("s3")
    s3.create_bucket(Bucket=SOURCES)
    s3.put_object(Bucket=SOURCES, Key="vocab/terms.txt", Body=b"Phrase\tDisplayAs\nAcmeCare\t\n")
    s3.put_object(Bucket=SOURCES, Key="filter/words.txt", Body=b"darn\n")
    s3.put_object(Bucket=SOURCES, Key="training/corpus.txt", Body=b"thank you for calling\n")
    kms = sim.client("kms")
    sim.key = kms.create_key(Description="customizations")["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/customizations", TargetKeyId=sim.key)
    yield sim


def vocabulary(sim: Any, name: str, key: str | None = None, role: str | None = ROLE, inline: bool = False,
               source: str = "vocab/terms.txt") -> None:
    extra: dict[str, Any] = {}
    if inline:
        extra["Phrases"] = ["AcmeCare", "Zoltan"]
    else:
        extra["VocabularyFileUri"] = f"s3://{SOURCES}/{source}"
    if role:
        extra["DataAccessRoleArn"] = role
    if key:
        extra["EncryptionConfiguration"] = {"KMSKey": key}
    sim.client("transcribe").create_vocabulary(VocabularyName=name, LanguageCode="en-US", **extra)


def vocabulary_filter(sim: Any, name: str, key: str | None = None, role: str | None = ROLE,
                      inline: bool = False) -> None:
    extra: dict[str, Any] = {}
    if inline:
        extra["Words"] = ["darn", "heck"]
    else:
        extra["VocabularyFilterFileUri"] = f"s3://{SOURCES}/filter/words.txt"
    if role:
        extra["DataAccessRoleArn"] = role
    if key:
        extra["EncryptionConfiguration"] = {"KMSKey": key}
    sim.client("transcribe").create_vocabulary_filter(VocabularyFilterName=name, LanguageCode="en-US", **extra)


def language_model(sim: Any, name: str, key: str | None = None, prefix: str = "training/") -> None:
    extra = {"EncryptionConfiguration": {"KMSKey": key}} if key else {}
    sim.client("transcribe").create_language_model(
        LanguageCode="en-US", BaseModelName="NarrowBand", ModelName=name,
        InputDataConfig={"S3Uri": f"s3://{SOURCES}/{prefix}", "DataAccessRoleArn": ROLE}, **extra)


def medical_vocabulary(sim: Any, name: str) -> None:
    sim.client("transcribe").create_medical_vocabulary(
        VocabularyName=name, LanguageCode="en-US", VocabularyFileUri=f"s3://{SOURCES}/vocab/terms.txt")


def evaluate(parameters: dict[str, str] | None = None) -> list[Evaluation]:
    rule = TranscribeCustomizationEncrypted()
    return rule.evaluate_periodic({"accountId": ACCOUNT}, ClientFactory(None, assume_role_mode=False),
                                  rule.evaluate_parameters(parameters or {}))


def verdicts(evaluations: list[Evaluation]) -> dict[str, str]:
    return {e.complianceResourceId: e.complianceType for e in evaluations}


def annotations(evaluations: list[Evaluation]) -> dict[str, str]:
    return {e.complianceResourceId.rsplit("/", 1)[-1]: e.annotation for e in evaluations}


def test_scenario1_no_customizations_no_evaluations(sim: Any) -> None:
    assert evaluate() == []


def test_scenario2_medical_vocabulary_is_not_applicable_without_being_read(account: Any) -> None:
    medical_vocabulary(account, "drug-names")
    factory = ClientFactory(None, assume_role_mode=False)
    rule = TranscribeCustomizationEncrypted()
    assert rule.evaluate_periodic({"accountId": ACCOUNT}, factory, rule.evaluate_parameters({})) == [Evaluation(
        NA, f"{ARN}:medical-vocabulary/drug-names", "AWS::::Account",
        "Medical vocabularies have no KMS key setting; Transcribe encrypts them with an AWS owned key.")]
    from rules.engine.base import _INVENTORIES
    assert "get_medical_vocabulary" not in _INVENTORIES[factory].calls


def test_scenario3_failed_builds_are_not_applicable(account: Any) -> None:
    vocabulary(account, "missing-file", account.key, source="vocab/missing.txt")
    language_model(account, "empty-prefix", account.key, prefix="nothing-here/")
    assert evaluate() == [
        Evaluation(NA, f"{ARN}:vocabulary/missing-file", "AWS::::Account",
                   "Custom vocabulary failed to build and holds no artifacts."),
        Evaluation(NA, f"{ARN}:language-model/empty-prefix", "AWS::::Account",
                   "Custom language model failed to build and holds no artifacts."),
    ]


def test_scenario4_every_kind_with_a_customer_managed_key(account: Any) -> None:
    vocabulary(account, "terms", account.key)
    vocabulary_filter(account, "profanity", account.key)
    language_model(account, "call-center", account.key)
    assert evaluate() == [
        Evaluation(C, f"{ARN}:vocabulary/terms", "AWS::::Account",
                   "Custom vocabulary is encrypted with a customer managed KMS key."),
        Evaluation(C, f"{ARN}:vocabulary-filter/profanity", "AWS::::Account",
                   "Vocabulary filter is encrypted with a customer managed KMS key."),
        Evaluation(C, f"{ARN}:language-model/call-center", "AWS::::Account",
                   "Custom language model is encrypted with a customer managed KMS key."),
    ]


def test_scenario5_built_from_a_file_without_a_key(account: Any) -> None:
    vocabulary(account, "terms")
    vocabulary_filter(account, "profanity")
    language_model(account, "call-center")
    result = evaluate()
    assert verdicts(result) == {f"{ARN}:vocabulary/terms": N, f"{ARN}:vocabulary-filter/profanity": N,
                                f"{ARN}:language-model/call-center": N}
    assert annotations(result) == {
        "terms": "Custom vocabulary has no EncryptionConfiguration, so an AWS owned key encrypts it, not a customer "
                 "managed key.",
        "profanity": "Vocabulary filter has no EncryptionConfiguration, so an AWS owned key encrypts it, not a customer "
                     "managed key.",
        "call-center": "Custom language model has no EncryptionConfiguration, so an AWS owned key encrypts it, not a "
                       "customer managed key.",
    }


def test_scenario6_inline_customizations_take_a_customer_key_too(account: Any) -> None:
    # Transcribe accepts EncryptionConfiguration for inline Phrases/Words as for files ("Data
    # encryption", Transcribe Developer Guide): inline without a key fails, inline with one passes.
    vocabulary(account, "inline-names", inline=True, role=None)
    vocabulary(account, "file-no-role", role=None)
    vocabulary_filter(account, "inline-words", inline=True, role=None)
    vocabulary(account, "inline-keyed", account.key, inline=True)
    vocabulary_filter(account, "inline-keyed-words", account.key, inline=True)
    result = evaluate()
    assert verdicts(result) == {f"{ARN}:vocabulary/inline-names": N, f"{ARN}:vocabulary/file-no-role": N,
                                f"{ARN}:vocabulary-filter/inline-words": N, f"{ARN}:vocabulary/inline-keyed": C,
                                f"{ARN}:vocabulary-filter/inline-keyed-words": C}
    assert annotations(result)["inline-names"] == (
        "Custom vocabulary has no EncryptionConfiguration, so an AWS owned key encrypts it, not a customer managed key.")
    assert annotations(result)["inline-words"] == (
        "Vocabulary filter has no EncryptionConfiguration, so an AWS owned key encrypts it, not a customer managed key.")


def test_scenario7_aws_managed_key(account: Any) -> None:
    aws_key = account.client("kms").describe_key(KeyId="alias/aws/s3")["KeyMetadata"]["Arn"]
    vocabulary(account, "terms", aws_key)
    language_model(account, "call-center", aws_key)
    assert annotations(evaluate()) == {
        "terms": "Custom vocabulary is encrypted with an AWS managed KMS key, not a customer managed key.",
        "call-center": "Custom language model is encrypted with an AWS managed KMS key, not a customer managed key.",
    }


def test_scenario8_kms_key_arns(account: Any) -> None:
    other = account.client("kms").create_key()["KeyMetadata"]["Arn"]
    vocabulary(account, "listed", account.key)
    vocabulary_filter(account, "unlisted", other)
    result = evaluate({"KmsKeyArns": account.key})
    assert verdicts(result) == {f"{ARN}:vocabulary/listed": C, f"{ARN}:vocabulary-filter/unlisted": N}
    assert annotations(result)["unlisted"] == "Vocabulary filter is encrypted with a KMS key that is not in KmsKeyArns."
    assert verdicts(evaluate({"KmsKeyArns": f"{account.key},{other}"})) == {
        f"{ARN}:vocabulary/listed": C, f"{ARN}:vocabulary-filter/unlisted": C}


def test_scenario9_access_denied_on_one_resource_and_one_key(account: Any, monkeypatch: Any) -> None:
    unreadable = account.client("kms").create_key()["KeyMetadata"]["Arn"]
    vocabulary(account, "good", account.key)
    vocabulary(account, "denied", account.key)
    vocabulary_filter(account, "key-denied", unreadable)
    language_model(account, "also-good", account.key)
    fail_calls(monkeypatch, rules.inventory.transcribe.TranscribeInventory, "_call",
               lambda self, op, **kw: kw.get("VocabularyName") == "denied", lambda: access_denied("GetVocabulary"))
    fail_calls(monkeypatch, rules.inventory.s3_kms.S3KmsLookups, "_call",
               lambda self, service, op, region=None, **kw: kw.get("KeyId") == unreadable,
               lambda: ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DescribeKey"))
    assert evaluate() == [
        Evaluation(N, f"{ARN}:vocabulary/denied", "AWS::::Account",
                   "Could not evaluate: AccessDeniedException when reading custom vocabulary."),
        Evaluation(C, f"{ARN}:vocabulary/good", "AWS::::Account",
                   "Custom vocabulary is encrypted with a customer managed KMS key."),
        Evaluation(N, f"{ARN}:vocabulary-filter/key-denied", "AWS::::Account",
                   "Could not evaluate: AccessDeniedException when reading the KMS key of the vocabulary filter."),
        Evaluation(C, f"{ARN}:language-model/also-good", "AWS::::Account",
                   "Custom language model is encrypted with a customer managed KMS key."),
    ]


def test_each_key_is_described_once_per_run(account: Any) -> None:
    for index in range(5):
        vocabulary(account, f"terms-{index}", account.key)
    language_model(account, "call-center", account.key)
    factory = ClientFactory(None, assume_role_mode=False)
    rule = TranscribeCustomizationEncrypted()
    assert set(verdicts(rule.evaluate_periodic({"accountId": ACCOUNT}, factory, rule.evaluate_parameters({})))
               .values()) == {C}
    assert rules.inventory.s3_kms._LOOKUPS[factory].calls == {"kms.describe_key": 1}


def test_pagination_past_100_vocabularies(account: Any) -> None:
    for index in range(105):
        if index % 2:
            vocabulary(account, f"vocab-{index:03d}", account.key)
        else:
            vocabulary(account, f"vocab-{index:03d}", inline=True, role=None)
    result = verdicts(evaluate())
    assert len(result) == 105
    assert result[f"{ARN}:vocabulary/vocab-000"] == N
    assert result[f"{ARN}:vocabulary/vocab-103"] == C
    assert result[f"{ARN}:vocabulary/vocab-104"] == N
    assert sum(1 for v in result.values() if v == C) == 52


def test_reported_resource_type_parameter(account: Any) -> None:
    vocabulary(account, "terms", account.key)
    medical_vocabulary(account, "drugs")
    assert {e.complianceResourceType for e in evaluate({"ReportedResourceType": "Acme::Transcribe::Resource"})} == {
        "Acme::Transcribe::Resource"}


@pytest.mark.parametrize("parameters, message", [
    ({"KmsKeyArns": "alias/customizations"}, "Parameter KmsKeyArns has an invalid value: each entry must be a KMS"),
    ({"KmsKeyArns": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/ok-1, nope"}, "Parameter KmsKeyArns has an invalid value"),
    ({"KmsKeyArns": 3}, "Parameter KmsKeyArns must be a string"),
    ({"ReportedResourceType": "Account"}, "Parameter ReportedResourceType has an invalid value"),
    ({"EvidenceSource": "bucket"}, "Unknown parameter EvidenceSource"),
])
def test_bad_parameters_name_the_parameter(parameters: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParametersError, match=message):
        TranscribeCustomizationEncrypted().evaluate_parameters(parameters)


def test_metadata_validates() -> None:
    import jsonschema

    from rules.catalog.registry import metadata_schema
    jsonschema.validate(METADATA, metadata_schema())
    assert "transcribe:GetMedicalVocabulary" not in METADATA["iam_actions"]  # never read


def test_lambda_handler_rejects_bad_parameters_with_invalid_parameter_value(sim: Any) -> None:
    deploy_rule(sim, RULE)
    response = rejected_parameters(lambda_handler, periodic_event(RULE, {"KmsKeyArns": "alias/customizations"}))
    assert response["customerErrorCode"] == "InvalidParameterValueException"
    assert "KmsKeyArns" in response["customerErrorMessage"]


def test_lambda_handler_stores_verdicts_per_customization(account: Any) -> None:
    deploy_rule(account, RULE)
    vocabulary(account, "terms", account.key)
    vocabulary(account, "names", inline=True, role=None)
    vocabulary_filter(account, "profanity")
    language_model(account, "call-center", account.key)
    medical_vocabulary(account, "drugs")
    lambda_handler(periodic_event(RULE, {"KmsKeyArns": account.key}), None)
    assert stored_verdicts(account, RULE) == {
        f"{ARN}:vocabulary/terms": C, f"{ARN}:vocabulary/names": N, f"{ARN}:vocabulary-filter/profanity": N,
        f"{ARN}:language-model/call-center": C, f"{ARN}:medical-vocabulary/drugs": NA}


def test_a_botocore_without_the_vocabulary_fields_refuses_to_judge(account: Any, monkeypatch: Any) -> None:
    # An older botocore (a Lambda runtime's own) drops EncryptionConfiguration from GetVocabulary:
    # every vocabulary would look keyless, so the run fails and says why instead.
    vocabulary(account, "terms", account.key)
    real = rules.inventory.transcribe.modelled_fields
    monkeypatch.setattr(rules.inventory.transcribe, "modelled_fields",
                        lambda operation: real(operation) - {"EncryptionConfiguration", "DataAccessRoleArn"})
    with pytest.raises(rules.inventory.transcribe.OutdatedSdkError,
                       match=r"needs botocore 1\.43\.98 or newer: botocore .* does not model "
                             r"GetVocabulary\.DataAccessRoleArn, GetVocabulary\.EncryptionConfiguration"):
        evaluate()


def test_the_installed_botocore_models_the_vocabulary_fields() -> None:
    for operation, fields in rules.inventory.transcribe.CUSTOMIZATION_FIELDS.items():
        assert set(fields) <= rules.inventory.transcribe.modelled_fields(operation)
