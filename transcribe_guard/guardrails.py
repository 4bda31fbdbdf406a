"""Preventive guardrails that agree with the rules: a service control policy (and the same
statements as an IAM permissions boundary) refusing the Transcribe requests whose job or
customization the rules would judge NON_COMPLIANT, wherever an IAM condition key can say so.

Written from the same pack parameters the rules take (``--pack-parameter NAME=VALUE``), parsed by
the rules' own ``evaluate_parameters``, so a guardrail and its rule can never read a parameter
differently.

What IAM can see of a Transcribe request (Service Authorization Reference, "Actions, resources,
and condition keys for Amazon Transcribe",
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazontranscribe.html, as
shipped in parliament's iam_definition.json): ``transcribe:OutputBucketName``,
``transcribe:OutputKey`` and ``transcribe:OutputEncryptionKMSKeyId`` on StartTranscriptionJob and
StartMedicalTranscriptionJob (StartMedicalScribeJob: the bucket and the key id),
``transcribe:OutputLocation`` and ``transcribe:OutputEncryptionKMSKeyId`` on StartCallAnalyticsJob,
and ``aws:RequestTag/${TagKey}`` / ``aws:TagKeys`` on every Start*Job, Create* and TagResource
(UntagResource: ``aws:TagKeys``). None of these actions supports resource-level permissions, so
every statement is on ``Resource: "*"``. There is no key for content redaction, for a
customization's KMS key, or for the data access role's trust: those parts of the rules can only be
detected, and ``prevention.md`` says so.

Every statement is a Deny, so an SCP needs the organization's FullAWSAccess (or another Allow)
beside it; the permissions boundary adds an ``Allow *`` so that it limits only what the Denies name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

# AWS Organizations quotas: "Maximum size of a policy document: service control policies 5,120
# characters" (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html).
SCP_MAX_CHARACTERS = 5120
# IAM quotas: a managed policy is at most 6,144 characters, white space not counted
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
MANAGED_POLICY_MAX_CHARACTERS = 6144

# The request parameter behind each Transcribe condition key, per action (Service Authorization
# Reference, above). request_context() builds IAM's view of a request from these.
OUTPUT_CONDITION_KEYS: dict[str, dict[str, str]] = {
    "StartTranscriptionJob": {"transcribe:OutputBucketName": "OutputBucketName",
                              "transcribe:OutputKey": "OutputKey",
                              "transcribe:OutputEncryptionKMSKeyId": "OutputEncryptionKMSKeyId"},
    "StartMedicalTranscriptionJob": {"transcribe:OutputBucketName": "OutputBucketName",
                                     "transcribe:OutputKey": "OutputKey",
                                     "transcribe:OutputEncryptionKMSKeyId": "OutputEncryptionKMSKeyId"},
    "StartMedicalScribeJob": {"transcribe:OutputBucketName": "OutputBucketName",
                              "transcribe:OutputEncryptionKMSKeyId": "OutputEncryptionKMSKeyId"},
    "StartCallAnalyticsJob": {"transcribe:OutputLocation": "OutputLocation",
                              "transcribe:OutputEncryptionKMSKeyId": "OutputEncryptionKMSKeyId"},
}
# The request that creates each resource kind (the ARN resource types of rules.inventory.transcribe).
CREATING_ACTION: dict[str, str] = {
    "transcription-job": "StartTranscriptionJob",
    "medical-transcription-job": "StartMedicalTranscriptionJob",
    "analytics": "StartCallAnalyticsJob",
    "medical-scribe-job": "StartMedicalScribeJob",
    "vocabulary": "CreateVocabulary",
    "medical-vocabulary": "CreateMedicalVocabulary",
    "vocabulary-filter": "CreateVocabularyFilter",
    "language-model": "CreateLanguageModel",
    "analytics-category": "CreateCallAnalyticsCategory",
}
# Wildcards that keep the policies short; each expands to exactly these actions (checked against
# the Service Authorization Reference in tests/test_guardrails.py).
ACTION_WILDCARDS: dict[str, tuple[str, ...]] = {
    "Start*Job": ("StartCallAnalyticsJob", "StartMedicalScribeJob", "StartMedicalTranscriptionJob",
                  "StartTranscriptionJob"),
    "Create*": ("CreateCallAnalyticsCategory", "CreateLanguageModel", "CreateMedicalVocabulary", "CreateVocabulary",
                "CreateVocabularyFilter"),
}
# Jobs whose output may go to Transcribe's service-managed bucket: the output bucket (or location)
# is optional in their request. StartMedicalTranscriptionJob and StartMedicalScribeJob require
# OutputBucketName (botocore's transcribe model), so they never can.
OPTIONAL_OUTPUT = {"StartTranscriptionJob": "transcribe:OutputBucketName",
                   "StartCallAnalyticsJob": "transcribe:OutputLocation"}


class GuardrailsError(ValueError):
    """Pack parameters the guardrails cannot be written from, or policies over AWS's size limits."""


@dataclass(frozen=True)
class Part:
    """One part of a rule's verdict and whether a guardrail can refuse it before it happens."""

    rule: str
    part: str
    prevented: bool
    how: str  # the statement that prevents it, or why it can only be detected
    category: str  # a stable id the agreement test refers to


@dataclass(frozen=True)
class Guardrails:
    statements: list[dict[str, Any]]
    parts: list[Part]
    mirrors: dict[str, str]  # statement Sid -> the rule it mirrors (a Sid allows only letters and digits)

    @property
    def scp(self) -> dict[str, Any]:
        return {"Version": "2012-10-17", "Statement": self.statements}

    @property
    def permissions_boundary(self) -> dict[str, Any]:
        # A boundary caps permissions: without an Allow it would refuse everything.
        allow = {"Sid": "AllowWhatIdentityPoliciesAllow", "Effect": "Allow", "Action": "*", "Resource": "*"}
        return {"Version": "2012-10-17", "Statement": [allow, *self.statements]}

    def detect_only(self) -> set[str]:
        return {part.category for part in self.parts if not part.prevented}


def compact(document: Mapping[str, Any]) -> str:
    """The policy as written to disk: JSON without optional white space, as AWS counts it."""
    return json.dumps(document, separators=(",", ":"))


def request_context(action: str, request: Mapping[str, Any]) -> dict[str, str | list[str]]:
    """IAM's condition keys for one Transcribe request given as its API parameters (boto3 form):
    the Transcribe keys above and the tags it would set."""
    context: dict[str, str | list[str]] = {}
    for key, parameter in OUTPUT_CONDITION_KEYS.get(action, {}).items():
        if parameter in request:
            context[key] = str(request[parameter])
    tags = request.get("Tags") or []
    if tags:
        for tag in tags:
            context[f"aws:RequestTag/{tag['Key']}"] = str(tag["Value"])
        context["aws:TagKeys"] = [str(tag["Key"]) for tag in tags]
    if action == "UntagResource":
        context["aws:TagKeys"] = [str(key) for key in request.get("TagKeys", [])]
    return context


def rule_parameters(rule_name: str, pack_parameters: Mapping[str, str]) -> dict[str, Any]:
    """A rule's parsed parameters from the pack parameters, by the rule's own parser."""
    from rdklib import InvalidParametersError

    from rules.catalog.registry import RULES
    from transcribe_guard.generate import logical_id

    rule = RULES[rule_name]
    prefix = f"{logical_id(rule_name)}Param"
    given = {name[len(prefix):]: value for name, value in pack_parameters.items()
             if name.startswith(prefix) and value != ""}
    try:
        return dict(rule().evaluate_parameters(given))
    except InvalidParametersError as error:
        raise GuardrailsError(f"{rule_name}: {error}") from None


def _actions(names: Sequence[str]) -> str | list[str]:
    wanted = tuple(sorted(set(names)))
    for wildcard, expands_to in ACTION_WILDCARDS.items():
        if wanted == expands_to:
            return f"transcribe:{wildcard}"
    if set(names) == set(ACTION_WILDCARDS["Start*Job"]) | set(ACTION_WILDCARDS["Create*"]):
        return [f"transcribe:{w}" for w in ACTION_WILDCARDS]
    return [f"transcribe:{name}" for name in wanted]


class _Statements(list):  # type: ignore[type-arg]
    """Deny statements, each recorded with the rule it mirrors."""

    def __init__(self) -> None:
        super().__init__()
        self.mirrors: dict[str, str] = {}

    def deny(self, sid: str, rule: str, actions: Sequence[str], condition: dict[str, Any]) -> None:
        self.mirrors[sid] = rule
        self.append({"Sid": sid, "Effect": "Deny", "Action": _actions(actions), "Resource": "*",
                     "Condition": condition})


def _sid_part(text: str) -> str:
    """Sid allows only [A-Za-z0-9]; tag keys may hold other characters, so keep the alphanumerics."""
    return "".join(ch for ch in text if ch.isascii() and ch.isalnum())[:40] or "Key"


def build(pack_parameters: Mapping[str, str] | None = None, require_output_key: bool = False) -> Guardrails:
    """The guardrail statements and the prevent/detect table for these pack parameters."""
    pack_parameters = dict(pack_parameters or {})
    statements = _Statements()
    parts: list[Part] = []

    # transcribe-job-output-location (and transcribe-job-output-encrypted scenario 4): no output in
    # the service-managed bucket; with AllowedOutputBuckets, only in those buckets.
    location = rule_parameters("transcribe-job-output-location", pack_parameters)
    allowed: list[str] = list(location.get("AllowedOutputBuckets") or [])
    if allowed:
        by_bucket = [a for a in OUTPUT_CONDITION_KEYS if "transcribe:OutputBucketName" in OUTPUT_CONDITION_KEYS[a]]
        statements.deny("OutputLocationAllowedBuckets", "transcribe-job-output-location", by_bucket,
                                {"StringNotEquals": {"transcribe:OutputBucketName": allowed}})
        locations = [form for bucket in allowed for form in (f"s3://{bucket}", f"s3://{bucket}/*")]
        statements.deny("OutputLocationAllowedBucketsCallAnalytics", "transcribe-job-output-location",
                                ["StartCallAnalyticsJob"], {"StringNotLike": {"transcribe:OutputLocation": locations}})
        how = ("OutputLocationAllowedBuckets and OutputLocationAllowedBucketsCallAnalytics deny a job whose output "
               "bucket is missing or not in AllowedOutputBuckets")
    else:
        for action, key in OPTIONAL_OUTPUT.items():
            sid = "OutputLocationNoServiceBucket" + ("CallAnalytics" if action == "StartCallAnalyticsJob" else "")
            statements.deny(sid, "transcribe-job-output-location", [action], {"Null": {key: "true"}})
        how = ("OutputLocationNoServiceBucket(CallAnalytics) deny a job that names no output bucket (its output "
               "would go to the service-managed bucket)")
    parts.append(Part("transcribe-job-output-location", "output in the service-managed bucket", True, how,
                      "service-bucket"))
    parts.append(Part("transcribe-job-output-location", "output outside AllowedOutputBuckets", bool(allowed),
                      how if allowed else "AllowedOutputBuckets is not set: any customer bucket is compliant",
                      "unlisted-bucket"))

    # transcribe-job-output-encrypted: its evidence is the output bucket's enforced SSE-KMS, not the
    # request, because no Get/List shows a job's OutputEncryptionKMSKeyId.
    rule_parameters("transcribe-job-output-encrypted", pack_parameters)
    parts.append(Part("transcribe-job-output-encrypted", "output in the service-managed bucket", True,
                      "the output-location statements above (the service bucket takes no customer key)",
                      "service-bucket"))
    if require_output_key:
        statements.deny("OutputEncryptedRequireCustomerKey", "transcribe-job-output-encrypted",
                                list(OUTPUT_CONDITION_KEYS),
                                {"Null": {"transcribe:OutputEncryptionKMSKeyId": "true"}})
    parts.append(Part(
        "transcribe-job-output-encrypted", "output bucket that does not enforce SSE-KMS with a customer key", False,
        "no condition key describes the bucket; the rule judges the bucket's default encryption and policy, which "
        "is itself the preventive control (a bucket policy refusing other encryption)"
        + ("; --require-output-key also denies requests without OutputEncryptionKMSKeyId, stricter than the rule "
           "(a job into an enforcing bucket needs no key in its request)" if require_output_key else
           "; --require-output-key adds a stricter deny of requests without OutputEncryptionKMSKeyId"),
        "bucket-encryption"))

    # transcribe-resource-tagged: required tags, and allowed values, on every creating request;
    # later removal or change through UntagResource/TagResource.
    tagged = rule_parameters("transcribe-resource-tagged", pack_parameters)
    kinds: list[str] = list(tagged.get("ResourceKinds") or CREATING_ACTION)
    creating = [CREATING_ACTION[kind] for kind in kinds]
    every_kind = set(kinds) == set(CREATING_ACTION)
    for requirement in tagged["RequiredTags"]:
        for text in (requirement.key, *(requirement.allowed or ())):
            # "Policy documents can contain only ... tab, line feed, carriage return, and characters in
            # the range U+0020 to U+00FF" (IAM quotas page, "IAM name requirements").
            if any(not (" " <= ch <= "\u00ff") for ch in text):
                raise GuardrailsError(f"the tag key or value {text!r} has characters IAM policies cannot hold "
                                      "(only U+0020 to U+00FF): a guardrail cannot name it")
    for index, requirement in enumerate(tagged["RequiredTags"], 1):
        key = requirement.key
        tag_key = f"aws:RequestTag/{key}"
        sid = f"{index}{_sid_part(key)}"  # the index keeps Sids unique when keys differ only in punctuation
        if requirement.allowed is None:
            statements.deny(f"ResourceTaggedRequire{sid}", "transcribe-resource-tagged", creating,
                                    {"Null": {tag_key: "true"}})
        else:  # StringNotEquals also holds when the tag is missing
            statements.deny(f"ResourceTaggedRequire{sid}", "transcribe-resource-tagged", creating,
                                    {"StringNotEquals": {tag_key: list(requirement.allowed)}})
    keys = [requirement.key for requirement in tagged["RequiredTags"]]
    parts.append(Part("transcribe-resource-tagged", "required tag missing or value not allowed at creation", True,
                      "ResourceTaggedRequire<Key> deny a Start*/Create* request without the tag (or with a value "
                      "not allowed)", "creation-tags"))
    if every_kind:
        statements.deny("ResourceTaggedNoUntag", "transcribe-resource-tagged", ["UntagResource"],
                                {"ForAnyValue:StringEquals": {"aws:TagKeys": keys}})
        for index, requirement in enumerate(tagged["RequiredTags"], 1):
            if requirement.allowed is not None:
                statements.deny(
                    f"ResourceTaggedValue{index}{_sid_part(requirement.key)}", "transcribe-resource-tagged", ["TagResource"],
                    {"ForAnyValue:StringEquals": {"aws:TagKeys": [requirement.key]},
                     "StringNotEquals": {f"aws:RequestTag/{requirement.key}": list(requirement.allowed)}})
        parts.append(Part("transcribe-resource-tagged", "required tag removed or changed later", True,
                          "ResourceTaggedNoUntag and ResourceTaggedValue<Key> deny UntagResource of a required key "
                          "and TagResource to a value not allowed", "later-tags"))
    else:
        parts.append(Part("transcribe-resource-tagged", "required tag removed or changed later", False,
                          "ResourceKinds limits the rule to some kinds, and TagResource/UntagResource support no "
                          "resource-level permissions, so a deny would reach the other kinds too", "later-tags"))
    parts.append(Part("transcribe-resource-tagged", "tag key that differs from the required key only in case", False,
                      "IAM compares condition key names, aws:RequestTag/<key> included, without regard to case, "
                      "while Transcribe tag keys and the rule are case-sensitive", "tag-key-case"))

    # Parts no condition key expresses.
    parts.append(Part("transcribe-job-pii-redaction", "PII redaction settings", False,
                      "no condition key for ContentRedaction or PiiEntityTypes exists", "pii-redaction"))
    parts.append(Part("transcribe-customization-encrypted", "customization without a customer KMS key", False,
                      "Create* customizations have no condition key for their KMS key (only tag keys)",
                      "customization-key"))
    parts.append(Part("transcribe-data-access-role", "data access role that is missing or trusts others", False,
                      "the role's trust policy is not part of the request; iam:PassRole conditions could narrow "
                      "which roles are passed but cannot judge their trust", "data-access-role"))
    parts.append(Part("all rules", "resources that existed before the guardrail", False,
                      "a guardrail refuses new requests only", "existing"))
    return Guardrails(list(statements), parts, statements.mirrors)


def check_sizes(guardrails: Guardrails) -> None:
    scp, boundary = compact(guardrails.scp), compact(guardrails.permissions_boundary)
    if len(scp) > SCP_MAX_CHARACTERS:
        raise GuardrailsError(f"the service control policy has {len(scp):,} characters, over AWS Organizations' "
                              f"{SCP_MAX_CHARACTERS:,}: require fewer tags, or split the statements over two SCPs")
    if len(boundary) > MANAGED_POLICY_MAX_CHARACTERS:
        raise GuardrailsError(f"the permissions boundary has {len(boundary):,} characters, over IAM's "
                              f"{MANAGED_POLICY_MAX_CHARACTERS:,} for a managed policy")


def prevention_markdown(guardrails: Guardrails) -> str:
    from transcribe_guard.output_safety import visible

    def cell(text: str) -> str:
        return visible(text).replace("|", "\\|")

    lines = ["# What the guardrails prevent, and what only the rules detect", "",
             "Generated by `transcribe-guard guardrails`. `scp.json` is a service control policy (attach it beside "
             "FullAWSAccess); `permissions-boundary.json` holds the same Deny statements plus an Allow of everything, "
             "for accounts outside an organization.", "",
             "| Rule | Part of the verdict | Prevented | How, or why detect only |", "|---|---|---|---|"]
    for part in guardrails.parts:
        lines.append(f"| {cell(part.rule)} | {cell(part.part)} | {'yes' if part.prevented else 'detect only'} "
                     f"| {cell(part.how)} |")
    lines += ["", "Statements:", ""]
    for statement in guardrails.statements:
        lines.append(f"- `{cell(statement['Sid'])}` mirrors `{guardrails.mirrors[statement['Sid']]}`")
    return "\n".join(lines) + "\n"


def write(directory: Path, guardrails: Guardrails) -> list[Path]:
    check_sizes(guardrails)
    directory.mkdir(parents=True, exist_ok=True)
    files = {"scp.json": compact(guardrails.scp) + "\n",
             "permissions-boundary.json": compact(guardrails.permissions_boundary) + "\n",
             "prevention.md": prevention_markdown(guardrails)}
    written = []
    for name, text in files.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
