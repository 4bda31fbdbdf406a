"""Ask identity policies what IAM would decide about Transcribe, with rules/policy/evaluation.py.

``allowed(policies, scope, actions)`` answers "which of these Transcribe actions do these policies,
evaluated together, allow for some request?" the way IAM decides each request: an explicit Deny
in any policy wins, then an Allow, else an implicit deny; Action/NotAction and Resource/NotResource
wildcards and Condition blocks are matched by the evaluator, never by searching the JSON.

Each action is probed with concrete requests built from the policies themselves:

- resources: ``*`` for actions that require no resource, a representative ARN of the Transcribe
  resource type the action acts on or creates (in the account and region evaluated; every type
  for TagResource, UntagResource and ListTagsForResource, none for List and streaming actions),
  and an ARN filled
  in from each Resource pattern of each Allow statement (``arn:aws:transcribe:eu-*:*:vocabulary/acme-*``
  gives ``arn:aws:transcribe:eu-x:<account>:vocabulary/acme-x``), so a grant in another region or
  on named resources is found too;
- contexts: the Allow statement's satisfying context (``satisfying_context``: a condition that
  can be met counts as met), and that context plus values that step around each Deny's
  conditions (a Deny "unless MFA is present" does not stop a caller who signs in with MFA).

``without_tags(keys)`` turns the question into "would they still allow it if the resource and
request carried no tags (or none of these keys)?": the probe contexts lose their
aws:ResourceTag/*, aws:RequestTag/* and aws:TagKeys values. A grant that survives is not
restricted by tags; one that disappears is (whether the tag condition sits in the Allow or in a
Deny for untagged requests).

Action list: every operation in botocore's transcribe model plus the streaming actions, which
have no operation in that model. Resource types: the Service Authorization Reference for Amazon
Transcribe (actions below require one; all others take ``*``, or optionally a resource ARN).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Mapping, Sequence

import botocore.session

from rules.inventory.iam import NamedDocument
from rules.policy.evaluation import (Decision, Request, conditions_match, evaluate, satisfying_context, statement_applies, statements,
                                     wildcard_match, witness)

Context = dict[str, Any]

STREAMING_ACTIONS = (
    "StartStreamTranscription", "StartStreamTranscriptionWebSocket",
    "StartMedicalStreamTranscription", "StartMedicalStreamTranscriptionWebSocket",
    "StartCallAnalyticsStreamTranscription", "StartCallAnalyticsStreamTranscriptionWebSocket",
    "StartMedicalScribeStream", "GetMedicalScribeStream",
)

# ARN resource type (arn:...:transcribe:region:account:<type>/<name>) -> the actions that require
# a resource of that type (Service Authorization Reference, Amazon Transcribe).
RESOURCE_ACTIONS: dict[str, tuple[str, ...]] = {
    "transcription-job": ("GetTranscriptionJob", "DeleteTranscriptionJob"),
    "medical-transcription-job": ("GetMedicalTranscriptionJob", "DeleteMedicalTranscriptionJob"),
    "analytics": ("GetCallAnalyticsJob", "DeleteCallAnalyticsJob"),
    "medical-scribe-job": ("GetMedicalScribeJob", "DeleteMedicalScribeJob"),
    "vocabulary": ("GetVocabulary", "UpdateVocabulary", "DeleteVocabulary"),
    "medical-vocabulary": ("GetMedicalVocabulary", "UpdateMedicalVocabulary", "DeleteMedicalVocabulary"),
    "vocabulary-filter": ("GetVocabularyFilter", "UpdateVocabularyFilter", "DeleteVocabularyFilter"),
    "language-model": ("DescribeLanguageModel", "DeleteLanguageModel"),
    "analytics-category": ("GetCallAnalyticsCategory", "UpdateCallAnalyticsCategory", "DeleteCallAnalyticsCategory"),
}
_TYPE_OF_ACTION = {action: kind for kind, actions in RESOURCE_ACTIONS.items() for action in actions}
PROBE_NAME = "transcribe-guard-probe"
_NO_MATCH = "transcribe-guard:no-match"  # a value no positive condition operator accepts
_TAG_PREFIXES = ("aws:resourcetag/", "aws:requesttag/")
_TAG_KEYS = "aws:tagkeys"
_NEGATED = ("StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "NumericNotEquals", "DateNotEquals",
            "NotIpAddress", "ArnNotEquals", "ArnNotLike")


@lru_cache(maxsize=1)
def transcribe_actions() -> tuple[str, ...]:
    """Every Transcribe IAM action probed: transcribe:<operation> for each operation of
    botocore's transcribe model, plus the streaming actions."""
    model = botocore.session.get_session().get_service_model("transcribe")
    names = list(model.operation_names) + list(STREAMING_ACTIONS)
    return tuple(f"transcribe:{name}" for name in dict.fromkeys(names))


def takes_no_resource(action: str) -> bool:
    """List actions and streaming actions act on no stored Transcribe resource, so no resource
    tag can govern them."""
    name = action.split(":", 1)[-1]
    return name.startswith("List") or name in STREAMING_ACTIONS


@dataclass(frozen=True)
class Scope:
    """Where representative resources live: the account and region being evaluated."""

    partition: str
    region: str
    account: str

    def arn(self, kind: str, name: str = PROBE_NAME) -> str:
        return f"arn:{self.partition}:transcribe:{self.region}:{self.account}:{kind}/{name}"


# The resource type an action without a required resource creates, found from its name (longest
# noun first): StartTranscriptionJob -> transcription-job, CreateVocabularyFilter -> vocabulary-filter.
_NOUNS = (("MedicalScribeJob", "medical-scribe-job"), ("MedicalTranscriptionJob", "medical-transcription-job"),
          ("CallAnalyticsCategor", "analytics-category"), ("CallAnalyticsJob", "analytics"),
          ("MedicalVocabular", "medical-vocabulary"), ("VocabularyFilter", "vocabulary-filter"),
          ("Vocabular", "vocabulary"), ("LanguageModel", "language-model"), ("TranscriptionJob", "transcription-job"))


def _kinds(action: str) -> tuple[str, ...]:
    """The resource types a request for the action can name: the required one; else the one its
    name says it creates; every type for the tagging actions; none for List and streaming."""
    name = action.split(":", 1)[-1]
    if name in _TYPE_OF_ACTION:
        return (_TYPE_OF_ACTION[name],)
    if name in STREAMING_ACTIONS or (name.startswith("List") and name != "ListTagsForResource"):
        return ()
    for noun, kind in _NOUNS:
        if noun in name:
            return (kind,)
    return tuple(RESOURCE_ACTIONS)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _fill(pattern: str) -> str:
    return pattern.replace("*", "x").replace("?", "x")


def _witnesses(pattern: str, action: str, scope: Scope, context: Context, variables: bool) -> list[str]:
    """ARNs of the action's resource types that a Resource pattern names, outside the
    representative ones: other regions, accounts or resource names. Policy variables take their
    values from the probe's ``context``; a pattern whose variables it cannot resolve names none."""
    resolved = witness(str(pattern), context, variables) if variables and "${" in str(pattern) else str(pattern)
    if resolved is None:
        return []
    parts = resolved.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not wildcard_match(parts[2], "transcribe"):
        return []
    partition, region, account = (value if wildcard_match(part, value) else _fill(part)
                                  for part, value in zip((parts[1], parts[3], parts[4]),
                                                         (scope.partition, scope.region, scope.account)))
    found = []
    for kind in _kinds(action):
        resource = f"{kind}/{PROBE_NAME}"
        if not wildcard_match(parts[5], resource):
            resource = _fill(parts[5])
            if not resource.startswith(f"{kind}/"):
                continue
        found.append(f"arn:{partition}:transcribe:{region}:{account}:{resource}")
    return found


def _resources(statement: Mapping[str, Any], action: str, scope: Scope, context: Context | None = None) -> list[str]:
    found = [] if action.split(":", 1)[-1] in _TYPE_OF_ACTION else ["*"]
    found += [scope.arn(kind) for kind in _kinds(action)]
    variables = getattr(statement, "variables", True)
    for pattern in _as_list(statement.get("Resource")):
        found += _witnesses(pattern, action, scope, context or {}, variables)
    return list(dict.fromkeys(found))


def _mentions_action(statement: Mapping[str, Any], action: str) -> bool:
    """Whether the statement's Action/NotAction covers the action (resource and conditions aside)."""
    only_action = {key: statement[key] for key in ("Action", "NotAction") if key in statement}
    return statement_applies(only_action, Request(action))


def _stepping_values(operator: str, expected: list[str]) -> list[str]:
    """Values of a condition key that may make a condition false."""
    base = operator.rpartition(":")[2]
    base = base[: -len("IfExists")] if base.endswith("IfExists") else base
    values = [_NO_MATCH]
    if base == "IpAddress":
        values = ["192.0.2.1", "2001:db8::1", "0.0.0.1"]  # documentation ranges; must parse as addresses
    elif base == "Null":
        values = ["x"]
    elif base == "Bool":
        values = ["true", "false"]
    elif base == "NotIpAddress":
        values = []
        for network in expected:
            try:
                values.append(str(ipaddress.ip_network(network, strict=False).network_address))
            except ValueError:
                pass
    elif "Not" in base:
        values += [_fill(value) for value in expected]
    return values


def evading_context(statement: Mapping[str, Any]) -> Context:
    """Context values under which the statement's Condition block fails, so a Deny does not
    apply; empty when leaving keys out already fails it, or when no simple value does."""
    block = statement.get("Condition")
    if not isinstance(block, Mapping) or not block:
        return {}
    if not _holds(block, {}):
        return {}
    for operator, keys in block.items():
        if not isinstance(keys, Mapping):
            continue
        for key, expected in keys.items():
            for value in _stepping_values(str(operator), [str(e) for e in _as_list(expected)]):
                candidate: Context = {key: [value] if str(operator).startswith("For") else value}
                if not _holds(block, candidate):
                    return candidate
    return {}


def _holds(block: Any, context: Context) -> bool:
    """conditions_match, taking a block the evaluator cannot judge as holding (no evasion)."""
    try:
        return conditions_match(block, context)
    except ValueError:  # PolicyError, or a value the evaluator cannot compare
        return True


def without_tags(keys: Sequence[str] | None = None) -> Callable[[Context], Context]:
    """A context filter dropping every tag value (``keys`` None) or only those of ``keys``:
    aws:ResourceTag/<key>, aws:RequestTag/<key> and <key> in aws:TagKeys. Condition key names
    are case-insensitive, so tag keys are compared case-insensitively."""
    wanted = None if keys is None else {key.lower() for key in keys}

    def strip(context: Context) -> Context:
        kept: Context = {}
        for name, value in context.items():
            lowered = name.lower()
            prefix = next((p for p in _TAG_PREFIXES if lowered.startswith(p)), None)
            if prefix and (wanted is None or lowered[len(prefix):] in wanted):
                continue
            if lowered == _TAG_KEYS:
                if wanted is None:
                    continue
                remaining = [v for v in _as_list(value) if str(v).lower() not in wanted]
                if not remaining:
                    continue
                value = remaining if isinstance(value, list) else remaining[0]
            kept[name] = value
        return kept
    return strip


def parse(policies: Sequence[NamedDocument]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(label, statements) of each policy; raises rules.policy.evaluation.PolicyError (a ValueError) for a
    document IAM would reject."""
    return [(policy.label, statements(policy.document)) for policy in policies]


def allowed(policies: Sequence[NamedDocument], scope: Scope, actions: Sequence[str] | None = None,
            context_filter: Callable[[Context], Context] | None = None) -> dict[str, tuple[str, ...]]:
    """action -> labels of the policies whose Allow decides it, for each of ``actions`` (default:
    every Transcribe action) that the policies together allow for some probe request.
    ``context_filter`` rewrites each probe context before the decision (see without_tags)."""
    parsed = parse(policies)
    documents = [(label, {"Statement": found}) for label, found in parsed]
    result: dict[str, tuple[str, ...]] = {}
    for action in actions if actions is not None else transcribe_actions():
        evasion: Context = {}
        for _, found in parsed:
            for statement in found:
                if statement.get("Effect") == "Deny" and _mentions_action(statement, action):
                    evasion.update(evading_context(statement))
        granted = _first_grant(parsed, documents, action, scope, evasion, context_filter)
        if granted:
            result[action] = granted
    return result


def _first_grant(parsed: list[tuple[str, list[dict[str, Any]]]], documents: list[tuple[str, dict[str, Any]]],
                 action: str, scope: Scope, evasion: Context,
                 context_filter: Callable[[Context], Context] | None) -> tuple[str, ...]:
    for _, found in parsed:
        for statement in found:
            if statement.get("Effect") != "Allow" or not _mentions_action(statement, action):
                continue
            satisfying = satisfying_context(statement)
            contexts = [satisfying, {**evasion, **satisfying}] if evasion else [satisfying]
            for resource in _resources(statement, action, scope, satisfying):
                for context in contexts:
                    if not statement_applies(statement, Request(action, resource, context=context)):
                        continue
                    probe = Request(action, resource, context=context_filter(context) if context_filter else context)
                    decisions = [(label, evaluate(document, probe)) for label, document in documents]
                    if any(decision is Decision.DENY for _, decision in decisions):
                        continue
                    granting = tuple(label for label, decision in decisions if decision is Decision.ALLOW)
                    if granting:
                        return granting
    return ()


def describe_actions(actions: Sequence[str], every: int | None = None, shown: int = 2) -> str:
    """``transcribe:StartTranscriptionJob, transcribe:GetVocabulary and 12 more``; actions that
    start jobs or streams first, as the ones that touch customer audio."""
    if every is not None and len(actions) == every:
        return f"every Transcribe action ({every} probed)"
    ordered = sorted(actions, key=lambda a: (not a.split(":", 1)[-1].startswith("Start"), a))
    text = ", ".join(ordered[:shown])
    return f"{text} and {len(ordered) - shown} more" if len(ordered) > shown else text


def describe_labels(labels: Sequence[str], shown: int = 2) -> str:
    unique = list(dict.fromkeys(labels))
    text = ", ".join(unique[:shown])
    return f"{text} and {len(unique) - shown} more" if len(unique) > shown else text


def fitting(compose: Callable[[int], str], limit: int = 256) -> str:
    """``compose(shown)`` with as many named items (2, then 1) as keep it within ``limit``."""
    text = compose(2)
    return text if len(text) <= limit else compose(1)
