"""transcribe-resource-tagged

Identifier: TRANSCRIBE_RESOURCE_TAGGED
Description: Every Transcribe job (of every kind), custom vocabulary, medical vocabulary,
    vocabulary filter, custom language model and call analytics category carries the required
    tags, with one of the allowed values where values are given.
Rationale: Tags such as a data classification drive access control (ABAC), retention and cost
    ownership; an untagged resource holding call audio or transcripts escapes those controls
    and cannot be traced to an owner (AWS security practice 5, tagging).
Severity: Medium
Trigger: Periodic (AWS Config records no Transcribe resource type)
Reports on: each resource of the checked kinds, by ARN, as ReportedResourceType (default
    AWS::::Account)
Parameters:
    RequiredTags (required): comma-separated tag keys, each optionally followed by = and its
        allowed values separated by |, e.g. DataClassification=confidential|restricted,CostCenter.
        Keys and values are case-sensitive, as in AWS; a key may not contain = , or |.
    ResourceKinds (optional): comma-separated ARN resource types to check (transcription-job,
        medical-transcription-job, analytics, medical-scribe-job, vocabulary, medical-vocabulary,
        vocabulary-filter, language-model, analytics-category). Empty: all of them.
    ReportedResourceType (optional): ComplianceResourceType to report (default AWS::::Account).

Tags belong to the resource whatever its state, so every listed resource is evaluated, failed
jobs and customizations included (they keep their audio references and tags until deleted).
Annotations name the missing key or the key whose value is not allowed, never a tag value:
values can hold personal data.

Scenarios:
    1. Given no Transcribe resources of the checked kinds, then no evaluations are returned.
    2. Given a resource carrying every required key (with an allowed value where values are
       given), then COMPLIANT. A key without allowed values is satisfied by any value.
    3. Given a resource missing one or more required keys, then NON_COMPLIANT naming the
       missing keys.
    4. Given a resource whose tag value for a key with allowed values is not one of them, then
       NON_COMPLIANT naming the key (not the value).
    5. Given jobs and call analytics categories, then their tags are read from their Get
       response; vocabularies, medical vocabularies, vocabulary filters and language models are
       read with ListTagsForResource.
    6. Given ResourceKinds, then only resources of those kinds are listed and evaluated.
    7. Given a resource whose tags cannot be read (e.g. AccessDenied), then NON_COMPLIANT with
       an annotation starting "Could not evaluate:", and the other resources are evaluated
       normally.
    8. Given a RequiredTags value that is missing, malformed or names a key twice, or a
       ResourceKinds value that is not a Transcribe ARN resource type, then the rule raises
       InvalidParametersError naming the parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

from botocore.exceptions import ClientError
from rdklib import ComplianceType, Evaluation

from rules.engine.base import Evaluator, RunContext, require
from rules.engine.incremental import RESOURCE_RULE_PARAMETERS, ResourceRule
from rules.inventory.transcribe import (ALL_KINDS, CALL_ANALYTICS_CATEGORY, JOB_GET_ACTIONS, KINDS_BY_KEY, TAGS_ACTION, Resource,
                                        ResourceKind, get_actions, list_actions)

# AWS tag characters (letters, digits, spaces and _ . : / = + - @), less the separators of the
# compact form: = ends a key, | separates values, and , separates entries.
_KEY = r"[\w .:/+@-]{1,128}"
_VALUE = r"[\w .:/=+@-]{1,256}"
REQUIRED_TAG_PATTERN = rf"{_KEY}(={_VALUE}(\|{_VALUE})*)?"

METADATA: dict[str, Any] = {
    "name": "transcribe-resource-tagged",
    "order": 3,
    "title": "Transcribe resources carry the required tags",
    "description": "Every Transcribe job, vocabulary, medical vocabulary, vocabulary filter, language model and call "
                   "analytics category carries the RequiredTags keys, with an allowed value where values are given.",
    "rationale": "Tags such as a data classification drive access control, retention and cost ownership; an "
                 "untagged resource holding call audio or transcripts escapes those controls and has no owner.",
    "practice": 5,
    "severity": "medium",
    "trigger": {"type": "periodic", "frequency": "TwentyFour_Hours"},
    "resource_kinds": [kind.key for kind in ALL_KINDS],
    "reports": "Each resource of the checked kinds by ARN, as ReportedResourceType (default AWS::::Account).",
    "not_applicable": "Never: every listed resource of a checked kind carries tags or does not.",
    "parameters": {
        "type": "object",
        "additionalProperties": False,
        "required": ["RequiredTags"],
        "properties": {
            "RequiredTags": {
                "type": "string",
                "x-type": "list",
                "maxLength": 1024,
                "pattern": REQUIRED_TAG_PATTERN,
                "x-pattern-hint": "each entry must be a tag key, optionally followed by = and allowed values "
                                  "separated by |, e.g. DataClassification=confidential|restricted",
                "description": "Comma-separated required tag keys, each optionally =value1|value2 for its allowed "
                               "values, e.g. DataClassification=confidential|restricted,CostCenter.",
            },
            "ResourceKinds": {
                "type": "string",
                "x-type": "list",
                "maxLength": 1024,
                "enum": [kind.key for kind in ALL_KINDS],
                "description": "Comma-separated Transcribe ARN resource types to check (e.g. transcription-job,"
                               "vocabulary). Empty: every kind.",
            },
            **RESOURCE_RULE_PARAMETERS,
        },
    },
    # Jobs and categories carry their tags in their Get response; the others need ListTagsForResource.
    "iam_actions": [*list_actions(*ALL_KINDS), *JOB_GET_ACTIONS, *get_actions(CALL_ANALYTICS_CATEGORY), TAGS_ACTION],
    "remediation": "Tag resources with TagResource (or Tags on Start*/Create* requests) using the RequiredTags keys "
                   "and allowed values; make your pipelines pass them on every request.",
}


@dataclass(frozen=True)
class TagRequirement:
    key: str
    allowed: tuple[str, ...] | None  # None: any value

    @classmethod
    def parse(cls, entry: str) -> "TagRequirement":
        key, sep, values = entry.partition("=")
        allowed = tuple(dict.fromkeys(v.strip() for v in values.split("|"))) if sep else None
        return cls(key.strip(), allowed)


def tag_problems(tags: Mapping[str, str], requirements: Iterable[TagRequirement]) -> tuple[list[str], list[str]]:
    """The required keys a resource lacks, and the keys whose value is not allowed."""
    missing: list[str] = []
    not_allowed: list[str] = []
    for requirement in requirements:
        if requirement.key not in tags:
            missing.append(requirement.key)
        elif requirement.allowed is not None and tags[requirement.key] not in requirement.allowed:
            not_allowed.append(requirement.key)
    return missing, not_allowed


class TranscribeResourceTagged(ResourceRule):
    METADATA = METADATA
    TAG_DEPENDENT = True

    def evaluate_parameters(self, rule_parameters: Any) -> dict[str, Any]:
        params = super().evaluate_parameters(rule_parameters)
        requirements = [TagRequirement.parse(entry) for entry in params["RequiredTags"]]
        keys = [r.key for r in requirements]
        for key in keys:  # Scenario 8
            require(keys.count(key) == 1, f"Parameter RequiredTags names the tag key {key} more than once.")
        params["RequiredTags"] = tuple(requirements)
        return params

    def kinds(self, params: Mapping[str, Any]) -> Sequence[ResourceKind]:
        wanted: list[str] = params["ResourceKinds"]
        kinds = [KINDS_BY_KEY[key] for key in wanted] if wanted else list(ALL_KINDS)  # Scenario 6
        return sorted(kinds, key=ALL_KINDS.index)

    def reads_every(self, params: Mapping[str, Any]) -> Sequence[tuple[ResourceKind, str]]:
        return [(kind, "tags") for kind in self.kinds(params)]  # Scenario 5: every resource's tags

    def judge(self, ctx: RunContext, params: Mapping[str, Any]) -> Callable[[Resource], Evaluation]:
        requirements: tuple[TagRequirement, ...] = params["RequiredTags"]
        return lambda resource: self._evaluate_resource(ctx, resource, requirements)

    def _evaluate_resource(self, ctx: RunContext, resource: Resource,
                           requirements: tuple[TagRequirement, ...]) -> Evaluation:
        label = resource.kind.label.capitalize()
        try:  # Scenario 5: Get for jobs and categories, ListTagsForResource for the others
            tags = ctx.inventory.tags(resource)
        except ClientError as error:  # Scenario 7
            return self.could_not_evaluate(ctx, resource.arn, error, f"the tags of the {resource.kind.label}")
        missing, not_allowed = tag_problems(tags, requirements)
        if not missing and not not_allowed:  # Scenario 2
            return self.result(ctx, ComplianceType.COMPLIANT, resource.arn, f"{label} carries every required tag.")
        problems = []
        if missing:  # Scenario 3
            problems.append(f"lacks required tag{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
        if not_allowed:  # Scenario 4: the key only, never the value
            problems.append(f"has a value not allowed by RequiredTags for tag{'s' if len(not_allowed) > 1 else ''} "
                            f"{', '.join(not_allowed)}")
        return self.result(ctx, ComplianceType.NON_COMPLIANT, resource.arn, f"{label} {' and '.join(problems)}.")


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return Evaluator(TranscribeResourceTagged()).handle(event, context)
