"""transcribe-customization-encrypted

Identifier: TRANSCRIBE_CUSTOMIZATION_ENCRYPTED
Description: Custom vocabularies, vocabulary filters and custom language models are encrypted with a
    customer managed KMS key, optionally one of an allowed list.
Rationale: Customizations are built from customer text (product names, staff and patient names,
    call transcripts used as training data). With a customer managed key you control and audit who
    can decrypt the stored artifacts and can revoke access; the default AWS owned key gives none of
    that (AWS security practice 1, data protection).
Severity: Medium
Trigger: Periodic (AWS Config records no Transcribe resource type)
Reports on: each custom vocabulary, medical vocabulary, vocabulary filter and custom language
    model, by ARN, as ReportedResourceType (default AWS::::Account)
Parameters:
    KmsKeyArns (optional): comma-separated KMS key ARNs; only these keys count.
    ReportedResourceType (optional): ComplianceResourceType to report (default AWS::::Account).

Evidence: GetVocabulary, GetVocabularyFilter and DescribeLanguageModel return
EncryptionConfiguration.KMSKey (a key ARN) when the resource was created or last updated with one;
DescribeKey then says whether the key is customer managed. Transcribe takes a customer managed key
for every custom vocabulary, vocabulary filter and language model, whether built inline (Phrases,
Words) or from an S3 file: "When you create or update custom vocabularies, custom vocabulary
filters, or custom language models, you can specify a customer-managed KMS key ... If you do not
provide a KMS key, Amazon Transcribe encrypts these artifacts using an AWS owned key" (Transcribe
Developer Guide, "Data encryption",
https://docs.aws.amazon.com/transcribe/latest/dg/encryption-at-rest.html; the EncryptionConfiguration
data type in the API reference says the same). So a customization without a key is NON_COMPLIANT
whatever its source. Medical vocabularies have no encryption setting at all
(CreateMedicalVocabulary takes no EncryptionConfiguration), so they are NOT_APPLICABLE without
being read.

Scenarios:
    1. Given no customizations, then no evaluations are returned.
    2. Given a medical vocabulary, then NOT_APPLICABLE: it has no customer KMS key setting.
    3. Given a customization whose build FAILED, then NOT_APPLICABLE: it holds no artifacts.
    4. Given a vocabulary, vocabulary filter or language model whose EncryptionConfiguration names
       a customer managed KMS key (listed in KmsKeyArns when given), then COMPLIANT.
    5. Given a vocabulary, vocabulary filter or language model built from an S3 file without
       EncryptionConfiguration, then NON_COMPLIANT: an AWS owned key encrypts it.
    6. Given a vocabulary or filter built inline (Phrases, Words) without EncryptionConfiguration,
       then NON_COMPLIANT, as in scenario 5: inline customizations take a customer managed key too.
    7. Given EncryptionConfiguration with an AWS managed key, then NON_COMPLIANT.
    8. Given KmsKeyArns and a key that is not listed, then NON_COMPLIANT.
    9. Given a customization or key that cannot be read (e.g. AccessDenied), then NON_COMPLIANT with
       an annotation starting "Could not evaluate:", and the others are evaluated normally.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from botocore.exceptions import ClientError
from rdklib import ComplianceType, Evaluation

from rules.engine.base import Evaluator, RunContext
from rules.engine.incremental import RESOURCE_RULE_PARAMETERS, ResourceRule
from rules.inventory.s3_kms import KMS_KEY_ARNS_PARAMETER, S3KmsLookups, lookups_for
from rules.inventory.transcribe import (CUSTOMIZATION_FIELDS, CUSTOMIZATION_KINDS, LANGUAGE_MODEL, MEDICAL_VOCABULARY,
                                        VOCABULARY, VOCABULARY_FILTER, Resource, ResourceKind, get_actions,
                                        list_actions, require_modelled_fields)

KINDS = (VOCABULARY, MEDICAL_VOCABULARY, VOCABULARY_FILTER, LANGUAGE_MODEL)

METADATA: dict[str, Any] = {
    "name": "transcribe-customization-encrypted",
    "order": 5,
    "title": "Transcribe customizations use a customer managed KMS key",
    "description": "Custom vocabularies, vocabulary filters and custom language models are encrypted with a "
                   "customer managed KMS key (EncryptionConfiguration), optionally one of KmsKeyArns.",
    "rationale": "Customizations are built from customer text such as product, staff or patient names and "
                 "training transcripts; a customer managed key lets you control, audit and revoke decryption of "
                 "the stored artifacts, which the default AWS owned key does not.",
    "practice": 1,
    "severity": "medium",
    "trigger": {"type": "periodic", "frequency": "TwentyFour_Hours"},
    "resource_kinds": [kind.key for kind in KINDS],
    "reports": "Each custom vocabulary, medical vocabulary, vocabulary filter and language model by ARN, as "
               "ReportedResourceType (default AWS::::Account).",
    "not_applicable": "Medical vocabularies (they have no encryption setting) and customizations whose build failed.",
    "parameters": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "KmsKeyArns": KMS_KEY_ARNS_PARAMETER,
            **RESOURCE_RULE_PARAMETERS,
        },
    },
    # Medical vocabularies are judged from their listing: they take no key.
    "iam_actions": [*list_actions(*KINDS), *get_actions(*CUSTOMIZATION_KINDS), "kms:DescribeKey"],
    "remediation": "Vocabularies and vocabulary filters: call UpdateVocabulary/UpdateVocabularyFilter with "
                   "EncryptionConfiguration.KMSKey set to a customer managed key ARN and a DataAccessRoleArn allowed "
                   "to use that key (an update replaces the source, so give the same Phrases/Words or file again). "
                   "Language models cannot be updated: recreate the model with that EncryptionConfiguration, switch "
                   "your jobs to it, then delete the old one.",
}

class TranscribeCustomizationEncrypted(ResourceRule):
    METADATA = METADATA

    def kinds(self, params: Mapping[str, Any]) -> Sequence[ResourceKind]:
        return KINDS

    def judge(self, ctx: RunContext, params: Mapping[str, Any]) -> Callable[[Resource], Evaluation]:
        require_modelled_fields(METADATA["name"], CUSTOMIZATION_FIELDS)  # else every vocabulary looks keyless
        lookups = lookups_for(ctx.client_factory, ctx.account_id, ctx.region, ctx.partition)
        allowed: list[str] = params["KmsKeyArns"]
        return lambda resource: self._evaluate(ctx, lookups, resource, allowed)

    def _evaluate(self, ctx: RunContext, lookups: S3KmsLookups, resource: Resource, allowed: list[str]) -> Evaluation:
        kind = resource.kind
        label = kind.label.capitalize()
        if kind is MEDICAL_VOCABULARY:  # Scenario 2, from the listing alone
            return self.result(ctx, ComplianceType.NOT_APPLICABLE, resource.arn,
                               "Medical vocabularies have no KMS key setting; Transcribe encrypts them with an AWS "
                               "owned key.")
        if resource.status == "FAILED":  # Scenario 3
            return self.result(ctx, ComplianceType.NOT_APPLICABLE, resource.arn,
                               f"{label} failed to build and holds no artifacts.")
        try:
            detail = ctx.inventory.detail(resource)
        except ClientError as error:  # Scenario 9
            return self.could_not_evaluate(ctx, resource.arn, error, kind.label)
        key_id = (detail.get("EncryptionConfiguration") or {}).get("KMSKey")
        if not key_id:  # Scenarios 5 and 6: the source does not matter
            return self.result(ctx, ComplianceType.NON_COMPLIANT, resource.arn,
                               f"{label} has no EncryptionConfiguration, so an AWS owned key encrypts it, not a "
                               "customer managed key.")
        try:
            key = lookups.key(key_id)
        except ClientError as error:  # Scenario 9
            return self.could_not_evaluate(ctx, resource.arn, error, f"the KMS key of the {kind.label}")
        if not key.customer_managed:  # Scenario 7
            return self.result(ctx, ComplianceType.NON_COMPLIANT, resource.arn,
                               f"{label} is encrypted with an AWS managed KMS key, not a customer managed key.")
        if allowed and key.arn not in allowed:  # Scenario 8
            return self.result(ctx, ComplianceType.NON_COMPLIANT, resource.arn,
                               f"{label} is encrypted with a KMS key that is not in KmsKeyArns.")
        return self.result(ctx, ComplianceType.COMPLIANT, resource.arn,  # Scenario 4
                           f"{label} is encrypted with a customer managed KMS key.")


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return Evaluator(TranscribeCustomizationEncrypted()).handle(event, context)
