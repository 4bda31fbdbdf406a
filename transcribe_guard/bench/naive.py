"""The naive baseline: one plain rdklib rule per job check, as a first implementation would be
written, run through rdklib's own Evaluator (which posts every result and retires the rest).

Every run lists every job of every kind (MaxResults 100, NextToken paging), and for each job
calls Get*Job AND ListTagsForResource, whatever the check needs; nothing is shared between
rules and nothing is remembered between runs. The verdict logic is the simplest faithful one:
this is a cost baseline, not a second implementation of the checks.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import rdklib
from botocore.exceptions import ClientError
from rdklib import ComplianceType, ConfigRule, Evaluation

from rules.inventory.s3_location import bucket_of, is_service_bucket
from rules.inventory.transcribe import JOB_KINDS, ResourceKind, output_uris

RESOURCE_TYPE = "AWS::::Account"


def _arn(kind: ResourceKind, region: str, account: str, name: str) -> str:
    return f"arn:aws:transcribe:{region}:{account}:{kind.key}/{name}"


class NaiveJobRule(ConfigRule):  # type: ignore[misc]
    """List every job, read each one and its tags, judge it."""

    NAME = "naive"

    def judge(self, kind: ResourceKind, job: dict[str, Any], tags: dict[str, str], params: Mapping[str, Any],
              client_factory: Any) -> tuple[str, str]:
        raise NotImplementedError

    def evaluate_periodic(self, event: Mapping[str, Any], client_factory: Any,
                          valid_rule_parameters: Mapping[str, Any]) -> list[Evaluation]:
        transcribe = client_factory.build_client("transcribe")
        region = transcribe.meta.region_name
        account = str(event["accountId"])
        evaluations: list[Evaluation] = []
        for kind in JOB_KINDS:
            kwargs: dict[str, Any] = {"MaxResults": 100}
            while True:
                page = getattr(transcribe, kind.list_operation)(**kwargs)
                for summary in page.get(kind.list_field, []):
                    name = summary[kind.name_field]
                    arn = _arn(kind, region, account, name)
                    try:
                        job = getattr(transcribe, kind.get_operation)(**{kind.get_name_parameter: name})[kind.get_field]
                        tag_list = transcribe.list_tags_for_resource(ResourceArn=arn).get("Tags", [])
                    except ClientError as error:
                        code = error.response.get("Error", {}).get("Code", "Error")
                        evaluations.append(Evaluation(ComplianceType.NON_COMPLIANT, arn, RESOURCE_TYPE,
                                                      f"Could not evaluate: {code}."))
                        continue
                    tags = {t["Key"]: t.get("Value", "") for t in tag_list}
                    compliance, text = self.judge(kind, job, tags, valid_rule_parameters, client_factory)
                    evaluations.append(Evaluation(compliance, arn, RESOURCE_TYPE, text[:256]))
                if not page.get("NextToken"):
                    break
                kwargs["NextToken"] = page["NextToken"]
        return evaluations


def _status(kind: ResourceKind, job: dict[str, Any]) -> str | None:
    return job.get(kind.status_field) if kind.status_field else None


class NaiveOutputLocation(NaiveJobRule):
    NAME = "output-location"

    def judge(self, kind: ResourceKind, job: dict[str, Any], tags: dict[str, str], params: Mapping[str, Any],
              client_factory: Any) -> tuple[str, str]:
        if _status(kind, job) != "COMPLETED":
            return ComplianceType.NOT_APPLICABLE, "Not completed."
        allowed = [b.strip() for b in str(params.get("AllowedOutputBuckets") or "").split(",") if b.strip()]
        buckets = [bucket_of(uri) for uri in output_uris(kind, job)]
        if not buckets or None in buckets or any(is_service_bucket(b) for b in buckets):
            return ComplianceType.NON_COMPLIANT, "Output is not in a customer bucket."
        if allowed and any(b not in allowed for b in buckets):
            return ComplianceType.NON_COMPLIANT, "Output bucket not allowed."
        return ComplianceType.COMPLIANT, "Output is in a customer bucket."


class NaivePiiRedaction(NaiveJobRule):
    NAME = "pii-redaction"

    def judge(self, kind: ResourceKind, job: dict[str, Any], tags: dict[str, str], params: Mapping[str, Any],
              client_factory: Any) -> tuple[str, str]:
        if kind.key not in ("transcription-job", "analytics"):
            return ComplianceType.NOT_APPLICABLE, "No PII redaction setting for this kind."
        if _status(kind, job) == "FAILED":
            return ComplianceType.NOT_APPLICABLE, "Failed."
        redaction = job.get("ContentRedaction") or (job.get("Settings") or {}).get("ContentRedaction") or {}
        if redaction.get("RedactionType") == "PII" and redaction.get("RedactionOutput") == "redacted":
            return ComplianceType.COMPLIANT, "Redacts PII."
        return ComplianceType.NON_COMPLIANT, "Does not redact PII (or keeps an unredacted copy)."


class NaiveRequiredTags(NaiveJobRule):
    NAME = "resource-tagged"

    def judge(self, kind: ResourceKind, job: dict[str, Any], tags: dict[str, str], params: Mapping[str, Any],
              client_factory: Any) -> tuple[str, str]:
        required = [k.split("=")[0].strip() for k in str(params.get("RequiredTags") or "").split(",") if k.strip()]
        missing = [k for k in required if k not in tags]
        if missing:
            return ComplianceType.NON_COMPLIANT, f"Missing tags: {', '.join(missing)}."
        return ComplianceType.COMPLIANT, "Carries the required tags."


class NaiveOutputEncrypted(NaiveJobRule):
    NAME = "output-encrypted"

    def evaluate_periodic(self, event: Mapping[str, Any], client_factory: Any,
                          valid_rule_parameters: Mapping[str, Any]) -> list[Evaluation]:
        self._buckets: dict[str, tuple[str, str]] = {}  # one S3 lookup per bucket per run
        return super().evaluate_periodic(event, client_factory, valid_rule_parameters)

    def judge(self, kind: ResourceKind, job: dict[str, Any], tags: dict[str, str], params: Mapping[str, Any],
              client_factory: Any) -> tuple[str, str]:
        if _status(kind, job) != "COMPLETED":
            return ComplianceType.NOT_APPLICABLE, "Not completed."
        buckets = [bucket_of(uri) for uri in output_uris(kind, job)]
        if not buckets or None in buckets or any(is_service_bucket(b) for b in buckets):
            return ComplianceType.NON_COMPLIANT, "Output is in a service-managed bucket."
        for bucket in sorted({str(b) for b in buckets}):
            if bucket not in self._buckets:
                self._buckets[bucket] = self._bucket_verdict(bucket, client_factory)
            if self._buckets[bucket][0] != ComplianceType.COMPLIANT:
                return self._buckets[bucket]
        return ComplianceType.COMPLIANT, "Output bucket encrypts with SSE-KMS."

    @staticmethod
    def _bucket_verdict(bucket: str, client_factory: Any) -> tuple[str, str]:
        try:
            rules = client_factory.build_client("s3").get_bucket_encryption(Bucket=bucket)[
                "ServerSideEncryptionConfiguration"]["Rules"]
        except ClientError as error:
            return ComplianceType.NON_COMPLIANT, f"Could not evaluate: {error.response['Error'].get('Code')}."
        default = (rules[0].get("ApplyServerSideEncryptionByDefault") or {}) if rules else {}
        if default.get("SSEAlgorithm") in ("aws:kms", "aws:kms:dsse") and default.get("KMSMasterKeyID"):
            return ComplianceType.COMPLIANT, "Output bucket encrypts with SSE-KMS."
        return ComplianceType.NON_COMPLIANT, "Output bucket does not encrypt with a KMS key."


NAIVE_RULES: dict[str, type[NaiveJobRule]] = {
    rule.NAME: rule for rule in (NaiveOutputLocation, NaivePiiRedaction, NaiveRequiredTags, NaiveOutputEncrypted)}


def handler(rule: type[NaiveJobRule]) -> Callable[[dict[str, Any], Any], Any]:
    """The naive rule's Lambda handler: rdklib's Evaluator, unchanged."""
    def lambda_handler(event: dict[str, Any], context: Any) -> Any:
        return rdklib.Evaluator(rule()).handle(event, context)
    return lambda_handler
