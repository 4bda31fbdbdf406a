"""transcribe-data-access-role

Identifier: TRANSCRIBE_DATA_ACCESS_ROLE
Description: Every IAM role passed to Transcribe as DataAccessRoleArn exists, can be assumed only
    by transcribe.amazonaws.com on behalf of this account, and grants no administrator, s3:*,
    kms:* or * access on all resources.
Rationale: Transcribe assumes the data access role to read media and customization sources and to
    decrypt with your keys. A role that other principals can assume, that Transcribe can be tricked
    into assuming for another account (confused deputy), or that can do anything to any bucket or
    key, turns a transcription pipeline into a path to all your data (AWS security practice 4).
Severity: High
Trigger: Periodic (AWS Config records no Transcribe resource type)
Reports on: each role named as DataAccessRoleArn by a transcription job
    (JobExecutionSettings.DataAccessRoleArn), call analytics job, medical scribe job, custom
    vocabulary, vocabulary filter or custom language model (InputDataConfig.DataAccessRoleArn),
    once per run however many resources use it, as AWS::IAM::Role with the RoleId (AROA...) that
    Config records as the role's resource id; the annotation names the resources that use it.
    A role ARN that names no role is reported by its ARN (there is no RoleId to use: a deleted role
    is gone from Config, and a role created later under the same name gets a new RoleId; the ARN is
    the only identifier the Transcribe resources hold). A Transcribe resource that cannot be read is
    reported by its ARN as ReportedResourceType (default AWS::::Account). Medical transcription jobs,
    medical vocabularies and call analytics categories take no data access role.
Parameters:
    ReportedResourceType (optional): ComplianceResourceType for unreadable Transcribe resources.

How the role is judged: with rules.policy.evaluation, by asking what IAM would decide for probe requests,
never by searching the JSON for strings.
    Trust policy, action sts:AssumeRole (and AssumeRoleWithWebIdentity/WithSAML for principals
    other than Transcribe), resource the role ARN. Each probe is tried with an empty request context,
    with this account's source context (aws:SourceAccount = this account, aws:SourceArn =
    arn:<partition>:transcribe:<region>:<account>:transcription-job/transcribe-guard-probe), and with
    a context built to satisfy each Allow statement's conditions (rules.policy.evaluation.satisfying_context),
    so that a condition on some unrelated key cannot hide a grant.
    - Other principals: ``*`` (anyone); then every principal the trust policy names other than
      transcribe.amazonaws.com; when none of those is allowed, arn:<p>:iam::000000000000:root (a
      foreign account), arn:<p>:iam::<account>:root and :role/transcribe-guard-probe (this
      account) and ec2.amazonaws.com (another service). None may be allowed.
    - transcribe.amazonaws.com without aws:SourceAccount and aws:SourceArn: must not be allowed.
    - transcribe.amazonaws.com for a foreign account (aws:SourceAccount = 000000000000 or any other
      12-digit account the trust policy mentions, aws:SourceArn in that account): must not be
      allowed.
    A trust policy that does not let Transcribe in at all is no security finding (the resources
    using the role fail); it is not reported.
    Permissions: AdministratorAccess attached is a finding by itself. Every other attached managed
    policy (default version) and inline policy is evaluated together, as IAM does: an explicit Deny
    in any of them wins, and a permissions boundary, when set, must allow too. Context:
    aws:PrincipalAccount, aws:ResourceAccount = this account, aws:PrincipalArn = the role,
    aws:PrincipalType = AssumedRole, aws:RequestedRegion = the region, aws:SecureTransport = true,
    plus each Allow statement's satisfying context. Probes, none of which may be allowed:
    - every action: transcribe-guard-probe:AnyAction on
      arn:<p>:transcribe-guard-probe:<region>:<account>:probe/any (only ``*`` or NotAction reaches it)
    - s3:* on any bucket: s3:DeleteBucket and s3:PutBucketPolicy on arn:<p>:s3:::transcribe-guard-probe-bucket
    - kms:* on any key: kms:ScheduleKeyDeletion and kms:PutKeyPolicy on
      arn:<p>:kms:<region>:<account>:key/00000000-0000-4000-8000-000000000000

Scenarios:
    1. Given no Transcribe resource that names a data access role, then no evaluations are returned.
    2. Given a role that only transcribe.amazonaws.com can assume, limited to this account by
       aws:SourceAccount or aws:SourceArn, and whose policies pass every probe, then COMPLIANT,
       naming the resources that use it.
    3. Given a DataAccessRoleArn that names no role, then NON_COMPLIANT, reported by the role ARN.
    4. Given a DataAccessRoleArn in another account, then NON_COMPLIANT by the role ARN: its trust
       and permissions cannot be read from this account.
    5. Given a trust policy that lets any principal (``*``) assume the role, then NON_COMPLIANT.
    6. Given a trust policy that lets another principal (an account, role or user, or another
       service) assume the role, then NON_COMPLIANT naming it.
    7. Given a trust policy that lets transcribe.amazonaws.com assume the role without
       aws:SourceAccount or aws:SourceArn, or on behalf of another account, then NON_COMPLIANT.
    8. Given AdministratorAccess attached to the role, then NON_COMPLIANT.
    9. Given policies that allow s3:* on any bucket (an s3 probe is allowed), then NON_COMPLIANT
       naming the policy; an explicit Deny or a permissions boundary that stops it is honoured.
   10. Given policies that allow kms:* on any key (a kms probe is allowed), then NON_COMPLIANT.
   11. Given policies that allow every action on every resource, then NON_COMPLIANT.
   12. Given a role used by several resources, then it is looked up once and reported once, the
       annotation naming as many of the resources as fit.
   13. Given a Transcribe resource that cannot be read (e.g. AccessDenied on its Get), then
       NON_COMPLIANT "Could not evaluate: <code>" by its ARN, and the other resources are evaluated.
   14. Given a role whose IAM reads fail, or whose policy documents cannot be evaluated, then
       NON_COMPLIANT "Could not evaluate: ...", by RoleId. RoleIds come from iam:ListRoles (paged
       once per run), so a role whose GetRole fails keeps its Config identity; only a role
       ListRoles did not list (or a run whose ListRoles failed) is reported by ARN, and its
       earlier RoleId result is then kept. A role ListRoles listed that GetRole no longer finds
       (deleted meanwhile) is NON_COMPLIANT "role does not exist" by its RoleId.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from botocore.exceptions import ClientError
from rdklib import ComplianceType, Evaluation

from rules.engine.base import ANNOTATION_LIMIT, REPORTED_RESOURCE_TYPE_PARAMETER, Evaluator, RunContext, TranscribeGuardRule
from rules.engine.pacing import MAX_CONCURRENT_READS, ordered_map
from rules.inventory.iam import IamInventory, iam_inventory_for
from rules.policy.evaluation import Decision, PolicyError, Request, evaluate, satisfying_context, statements
from rules.inventory.job_references import JobReferences
from rules.inventory.transcribe import (CALL_ANALYTICS_JOB, CUSTOMIZATION_FIELDS, LANGUAGE_MODEL, MEDICAL_SCRIBE_JOB,
                                        TRANSCRIPTION_JOB, VOCABULARY, VOCABULARY_FILTER, ListingError, Resource,
                                        ResourceKind, error_code, read_actions, require_modelled_fields)

LOGGER = logging.getLogger(__name__)

ROLE_RESOURCE_TYPE = "AWS::IAM::Role"
TRANSCRIBE_PRINCIPAL = "transcribe.amazonaws.com"
PROBE_ACCOUNT = "000000000000"
SOURCE_KEYS = ("aws:SourceAccount", "aws:SourceArn")
# Request context keys that only requests made by an AWS service on someone's behalf carry.
SERVICE_ONLY_KEYS = SOURCE_KEYS + ("aws:SourceOrgID", "aws:SourceOrgPaths")
ANYONE = "trust policy lets any principal (*) assume the role"
ASSUME_ACTIONS = ("sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML")

# Where each kind's Get/Describe response names the role: (container or None, field).
ROLE_FIELD: dict[str, tuple[str | None, str]] = {
    TRANSCRIPTION_JOB.key: ("JobExecutionSettings", "DataAccessRoleArn"),
    CALL_ANALYTICS_JOB.key: (None, "DataAccessRoleArn"),
    MEDICAL_SCRIBE_JOB.key: (None, "DataAccessRoleArn"),
    VOCABULARY.key: (None, "DataAccessRoleArn"),
    VOCABULARY_FILTER.key: (None, "DataAccessRoleArn"),
    LANGUAGE_MODEL.key: ("InputDataConfig", "DataAccessRoleArn"),
}
KINDS: tuple[ResourceKind, ...] = (TRANSCRIPTION_JOB, CALL_ANALYTICS_JOB, MEDICAL_SCRIBE_JOB, VOCABULARY,
                                   VOCABULARY_FILTER, LANGUAGE_MODEL)

METADATA: dict[str, Any] = {
    "name": "transcribe-data-access-role",
    "order": 6,
    "title": "Transcribe data access roles are trusted only by Transcribe and scoped",
    "description": "Every IAM role passed to Transcribe as DataAccessRoleArn exists, can be assumed only by "
                   "transcribe.amazonaws.com for this account (aws:SourceAccount/aws:SourceArn), and grants no "
                   "AdministratorAccess, s3:*, kms:* or * on all resources.",
    "rationale": "Transcribe assumes the data access role to read your media and keys. A role other principals can "
                 "assume, that Transcribe can be made to assume for another account (confused deputy), or that can "
                 "do anything to any bucket or key exposes far more than the transcription pipeline needs.",
    "practice": 4,
    "severity": "high",
    "trigger": {"type": "periodic", "frequency": "TwentyFour_Hours"},
    "resource_kinds": [kind.key for kind in KINDS] + [ROLE_RESOURCE_TYPE],
    "reports": "Each role once, as AWS::IAM::Role by RoleId, naming the resources that use it; a role ARN that names "
               "no role by its ARN; an unreadable Transcribe resource by ARN as ReportedResourceType.",
    "not_applicable": "Not reported by the rule: every role a Transcribe resource names gets a verdict. A role that no "
                      "resource names any more turns NOT_APPLICABLE on the next run (rdklib's clean-up).",
    "parameters": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "ReportedResourceType": REPORTED_RESOURCE_TYPE_PARAMETER,
        },
    },
    "iam_actions": [
        *read_actions(*KINDS),
        "iam:ListRoles",
        "iam:GetRole",
        "iam:ListAttachedRolePolicies",
        "iam:ListRolePolicies",
        "iam:GetRolePolicy",
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
    ],
    "remediation": "Give the role a trust policy with Principal {\"Service\": \"transcribe.amazonaws.com\"} only and a "
                   "Condition StringEquals aws:SourceAccount = your account (or ArnLike aws:SourceArn "
                   "arn:aws:transcribe:<region>:<account>:*); detach AdministratorAccess; grant only s3:GetObject/"
                   "s3:ListBucket on the media buckets and kms:Decrypt on their keys. Point resources at an existing role.",
}


# --- fetched data -------------------------------------------------------------------------------

@dataclass
class RoleFacts:
    """What IAM says about one role: everything the judgement needs."""

    arn: str
    role_id: str
    name: str
    trust: Any
    attached: list[tuple[str, str]]  # (policy name, policy ARN)
    policies: list[tuple[str, Any]] = field(default_factory=list)  # (label, document), AdministratorAccess left out
    boundary: Any = None


@dataclass(frozen=True)
class Probe:
    action: str
    resource: str
    what: str  # for the annotation: "s3:DeleteBucket on any bucket"


class RoleReadError(Exception):
    """An IAM read failed after GetRole succeeded (the role has a RoleId)."""

    def __init__(self, role_id: str, error: ClientError, what: str):
        super().__init__(what)
        self.role_id, self.error, self.what = role_id, error, what


# --- pure judgement -----------------------------------------------------------------------------

def is_administrator_access(policy_arn: str) -> bool:
    return bool(re.fullmatch(r"arn:[^:]+:iam::aws:policy/AdministratorAccess", policy_arn))


def source_context(account: str, region: str, partition: str) -> dict[str, str]:
    return {"aws:SourceAccount": account,
            "aws:SourceArn": f"arn:{partition}:transcribe:{region}:{account}:transcription-job/transcribe-guard-probe"}


def _allow_statements(document: Any) -> list[Mapping[str, Any]]:
    return [s for s in statements(document) if s.get("Effect") == "Allow"]


def _without(context: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    lowered = {k.lower() for k in keys}
    return {k: v for k, v in context.items() if k.lower() not in lowered}


def _is_iam_principal(principal: str) -> bool:
    return bool(re.fullmatch(r"\d{12}|arn:[^:]+:(iam|sts)::.*", principal))


def _named_principals(document: Any) -> list[str]:
    """Every principal a policy names (Principal and NotPrincipal, all principal types)."""
    named: list[str] = []
    for statement in statements(document):
        for element in ("Principal", "NotPrincipal"):
            block = statement.get(element)
            groups = list(block.values()) if isinstance(block, Mapping) else [block] if block is not None else []
            for group in groups:
                named += [str(v) for v in (group if isinstance(group, list) else [group])]
    return named


def trust_findings(trust: Any, role_arn: str, account: str, region: str, partition: str) -> list[str]:
    """What is wrong with a role's trust policy, one phrase per finding (empty: nothing)."""
    allows = _allow_statements(trust)
    own_source = source_context(account, region, partition)
    contexts: list[dict[str, Any]] = [{}, dict(own_source)] + [satisfying_context(s) for s in allows]

    def allowed(principal: str, action: str, context: Mapping[str, Any]) -> bool:
        if _is_iam_principal(principal):
            context = _without(context, SERVICE_ONLY_KEYS)  # set only when a service acts for an account
        return evaluate(trust, Request(action, role_arn, principal, context)) is Decision.ALLOW

    findings: list[str] = []
    # Scenario 5: anyone
    if any(allowed("*", action, c) for action in ASSUME_ACTIONS for c in contexts):
        findings.append(ANYONE)
    # Scenario 6: other principals. Those the policy names are probed first and reported as written;
    # typical outsiders are probed only when none of them is allowed (grants through NotPrincipal).
    if not findings:
        named = [p for p in dict.fromkeys(_named_principals(trust)) if p not in ("*", TRANSCRIBE_PRINCIPAL)]
        others = [p for p in named if any(allowed(p, a, c) for a in ASSUME_ACTIONS for c in contexts)]
        if not others:
            typical = [f"arn:{partition}:iam::{PROBE_ACCOUNT}:root", f"arn:{partition}:iam::{account}:root",
                       f"arn:{partition}:iam::{account}:role/transcribe-guard-probe", "ec2.amazonaws.com"]
            others = [p for p in typical if any(allowed(p, a, c) for a in ASSUME_ACTIONS for c in contexts)]
        if others:
            findings.append(f"trust policy lets {', '.join(others)} assume the role")
    # Scenario 7: Transcribe without the confused-deputy guard (moot when anyone may assume the role)
    if findings[:1] == [ANYONE]:
        pass
    elif any(allowed(TRANSCRIBE_PRINCIPAL, "sts:AssumeRole", _without(c, SOURCE_KEYS)) for c in contexts):
        findings.append("trust policy lets transcribe.amazonaws.com assume the role without aws:SourceAccount or "
                        "aws:SourceArn")
    else:
        mentioned = set(re.findall(r"(?<!\d)\d{12}(?!\d)", repr([s.get("Condition") for s in statements(trust)])))
        foreign = [PROBE_ACCOUNT] + sorted(mentioned - {account, PROBE_ACCOUNT})
        for other in foreign:
            if any(allowed(TRANSCRIBE_PRINCIPAL, "sts:AssumeRole", _foreign(c, other, own_source)) for c in contexts):
                findings.append(f"trust policy lets transcribe.amazonaws.com assume the role for account {other}")
                break
    return findings


def _foreign(context: Mapping[str, Any], other: str, own_source: Mapping[str, str]) -> dict[str, Any]:
    """``context`` as a request made by Transcribe on behalf of account ``other``."""
    source_arn = next((str(v) for k, v in context.items() if k.lower() == "aws:sourcearn" and isinstance(v, str)),
                      own_source["aws:SourceArn"])
    parts = source_arn.split(":", 5)
    if len(parts) == 6:
        parts[4] = other
        source_arn = ":".join(parts)
    return {**_without(context, SOURCE_KEYS), "aws:SourceAccount": other, "aws:SourceArn": source_arn}


def permission_probes(account: str, region: str, partition: str) -> list[Probe]:
    bucket = f"arn:{partition}:s3:::transcribe-guard-probe-bucket"
    key = f"arn:{partition}:kms:{region}:{account}:key/00000000-0000-4000-8000-000000000000"
    return [
        Probe("transcribe-guard-probe:AnyAction", f"arn:{partition}:transcribe-guard-probe:{region}:{account}:probe/any",
              "every action on every resource"),
        Probe("s3:DeleteBucket", bucket, "s3:DeleteBucket on any bucket"),
        Probe("s3:PutBucketPolicy", bucket, "s3:PutBucketPolicy on any bucket"),
        Probe("kms:ScheduleKeyDeletion", key, "kms:ScheduleKeyDeletion on any key"),
        Probe("kms:PutKeyPolicy", key, "kms:PutKeyPolicy on any key"),
    ]


def permission_findings(policies: list[tuple[str, Any]], boundary: Any, role_arn: str, account: str, region: str,
                        partition: str) -> list[str]:
    """What the role's identity policies (with its permissions boundary) allow that they must not."""
    base = {"aws:PrincipalAccount": account, "aws:PrincipalArn": role_arn, "aws:PrincipalType": "AssumedRole",
            "aws:ResourceAccount": account, "aws:RequestedRegion": region, "aws:SecureTransport": "true"}
    contexts = [base] + [{**base, **satisfying_context(s)} for _, doc in policies for s in _allow_statements(doc)]
    if boundary is not None:
        contexts += [{**c, **satisfying_context(s)} for c in list(contexts) for s in _allow_statements(boundary)]

    def allowed_by(probe: Probe, context: Mapping[str, Any]) -> str | None:
        request = Request(probe.action, probe.resource, role_arn, context)
        decisions = [(label, evaluate(doc, request)) for label, doc in policies]
        if any(d is Decision.DENY for _, d in decisions):
            return None
        granting = [label for label, d in decisions if d is Decision.ALLOW]
        if not granting or (boundary is not None and evaluate(boundary, request) is not Decision.ALLOW):
            return None
        return granting[0]

    findings: list[str] = []
    for probe in permission_probes(account, region, partition):
        granted = next((label for c in contexts if (label := allowed_by(probe, c))), None)
        if granted:  # Scenarios 9-11
            findings.append(f"{granted} allows {probe.what}")
            if probe.action.startswith("transcribe-guard-probe:"):
                break  # every action: the s3 and kms findings would only repeat it
    return _one_per_service(findings)


def _one_per_service(findings: list[str]) -> list[str]:
    """Keep the first finding per probed service (s3, kms): one is enough to name the grant."""
    seen: set[str] = set()
    kept = []
    for finding in findings:
        service = finding.split(" allows ", 1)[1].split(":", 1)[0]
        if service not in seen:
            seen.add(service)
            kept.append(finding)
    return kept


def judge(facts: RoleFacts, account: str, region: str, partition: str) -> list[str]:
    """Every finding for one role, in the order of the scenarios."""
    findings = trust_findings(facts.trust, facts.arn, account, region, partition)
    if any(is_administrator_access(arn) for _, arn in facts.attached):  # Scenario 8
        findings.append("AdministratorAccess is attached")
    findings += permission_findings(facts.policies, facts.boundary, facts.arn, account, region, partition)
    return findings


def used_by(names: list[str], room: int, count: int | None = None) -> str:
    """"used by 3 resources: a, b, and 1 more", fitted into ``room`` characters when possible
    (``count``: how many in all, when ``names`` holds only the first of them)."""
    count = len(names) if count is None else count
    head = f"used by {count} resource{'s' if count != 1 else ''}"
    if not names:
        return head
    for shown in range(count, 0, -1):
        rest = count - shown
        text = f"{head}: {', '.join(names[:shown])}" + (f", and {rest} more" if rest else "")
        if len(text) <= room:
            return text
    return head


def with_users(text: str, names: list[str], count: int | None = None) -> str:
    sentence = text[0].upper() + text[1:]
    room = ANNOTATION_LIMIT - len(sentence) - len("; .")
    return f"{sentence}; {used_by(names, room, count)}."


# Names an annotation can show at most (each takes two characters or more): a role's first
# users are kept by name, the rest only counted, so a role that a million jobs name costs no more.
SHOWN_NAMES = ANNOTATION_LIMIT // 2


def _role_name(arn: str) -> tuple[str, str] | None:
    """(account, role name) of an IAM role ARN, or None when it is not one."""
    match = re.fullmatch(r"arn:[^:]+:iam::(\d{12}):role/(?:[^/]+/)*([\w+=,.@-]+)", arn)
    return (match.group(1), match.group(2)) if match else None


# --- the rule -----------------------------------------------------------------------------------

class TranscribeDataAccessRole(TranscribeGuardRule):
    METADATA = METADATA

    def reads_every(self, params: Mapping[str, Any]) -> Sequence[tuple[ResourceKind, str]]:
        return [(kind, "detail") for kind in KINDS]  # every resource's data access role

    def evaluate(self, ctx: RunContext, params: Mapping[str, Any]) -> Iterable[Evaluation]:
        require_modelled_fields(METADATA["name"], CUSTOMIZATION_FIELDS)  # else vocabularies' roles go unseen
        # One entry per role: role names are unique in an account, whatever the path in the ARN.
        users: dict[tuple[str, str] | str, tuple[str, list[str], list[int]]] = {}  # role ARN, names, [count]
        # A function run reads only the jobs created since its last run and remembers the roles
        # earlier runs found (rules/inventory/job_references.py); customizations are few and read every run.
        references = JobReferences.start(ctx, True, self.lambda_context) if self.invoked_as_function else None

        def use(role_arn: str, names: list[str]) -> None:
            parsed = _role_name(role_arn)
            key = parsed if parsed else role_arn
            _, known, count = users.setdefault(key, (role_arn, [], [0]))
            for name in names:
                if name in known:
                    continue
                count[0] += 1  # beyond SHOWN_NAMES counted without a check (a job is listed once a run)
                if len(known) < SHOWN_NAMES:
                    known.append(name)

        for kind in KINDS:
            if references is not None and kind.is_job:
                read: Iterable[tuple[Resource, Any]] = references.jobs(kind, raise_listing=True)
            else:
                read = ordered_map(lambda resource: _read(ctx, resource), ctx.inventory.resources(kind),
                                   workers=getattr(ctx.inventory, "read_workers", MAX_CONCURRENT_READS))
            for resource, detail in read:  # Scenario 1: nothing listed, nothing yielded
                if isinstance(detail, ClientError):  # Scenario 13
                    yield self.could_not_evaluate(ctx, resource.arn, detail, resource.kind.label)
                    continue
                container, member = ROLE_FIELD[kind.key]
                holder = (detail.get(container) or {}) if container else detail
                role_arn = holder.get(member) if isinstance(holder, Mapping) else None
                if role_arn:
                    use(str(role_arn), [resource.name])
                    if references is not None and kind.is_job:
                        references.add(str(role_arn), resource)
        if references is not None:
            for role_arn, remembered in references.found.items():  # roles of earlier runs' jobs
                use(role_arn, remembered.names)
            references.finish()
            if references.partial:  # the deadline stopped the reading: some roles are not known yet
                ctx.keep_earlier_results = True
        if not users:
            return
        iam = iam_inventory_for(ctx.client_factory, ctx.account_id)
        role_ids = _role_ids(iam)
        for role_arn, names, count in users.values():  # Scenario 12: each role looked up and reported once
            yield self._evaluate_role(ctx, iam, role_arn, names, role_ids, count[0])

    def _evaluate_role(self, ctx: RunContext, iam: IamInventory, role_arn: str, names: list[str],
                       role_ids: Mapping[str, str], count: int | None = None) -> Evaluation:
        parsed = _role_name(role_arn)
        if parsed is None:  # Scenario 3: not even a role ARN
            return self.result(ctx, ComplianceType.NON_COMPLIANT, role_arn,
                               with_users("DataAccessRoleArn does not name an IAM role", names, count), ROLE_RESOURCE_TYPE)
        account, role_name = parsed
        if account != ctx.account_id:  # Scenario 4
            return self.result(ctx, ComplianceType.NON_COMPLIANT, role_arn,
                               with_users(f"role is in account {account}, not this one; its trust and permissions "
                                          "cannot be checked here", names, count), ROLE_RESOURCE_TYPE)
        try:
            facts = _role_facts(iam, role_arn, role_name)
        except ClientError as error:
            listed = role_ids.get(role_name)  # the RoleId ListRoles gave: the role's Config identity
            if error_code(error) == "NoSuchEntity":  # Scenario 3 (listed: deleted since, Scenario 14)
                return self.result(ctx, ComplianceType.NON_COMPLIANT, listed or role_arn,
                                   with_users("role does not exist", names, count), ROLE_RESOURCE_TYPE)
            if listed is None:
                # Scenario 14: without a RoleId the role is reported by ARN and its earlier RoleId
                # result is kept rather than retired as NOT_APPLICABLE.
                ctx.keep_earlier_results = True
            return self.result(ctx, ComplianceType.NON_COMPLIANT, listed or role_arn,
                               with_users(f"Could not evaluate: {error_code(error)} when reading the role (iam:GetRole)",
                                          names, count), ROLE_RESOURCE_TYPE)
        except RoleReadError as failure:  # Scenario 14
            return self.result(ctx, ComplianceType.NON_COMPLIANT, failure.role_id,
                               with_users(f"Could not evaluate: {error_code(failure.error)} when reading {failure.what}",
                                          names, count), ROLE_RESOURCE_TYPE)
        try:
            findings = judge(facts, ctx.account_id, ctx.region, ctx.partition)
        except PolicyError as error:  # Scenario 14
            return self.result(ctx, ComplianceType.NON_COMPLIANT, facts.role_id,
                               with_users(f"Could not evaluate: a policy of the role is not valid ({error})", names, count),
                               ROLE_RESOURCE_TYPE)
        LOGGER.debug("role %s: %d findings", facts.name, len(findings))
        if findings:  # Scenarios 5-11
            return self.result(ctx, ComplianceType.NON_COMPLIANT, facts.role_id, with_users("; ".join(findings), names, count),
                               ROLE_RESOURCE_TYPE)
        return self.result(ctx, ComplianceType.COMPLIANT, facts.role_id, with_users(  # Scenario 2
            "only transcribe.amazonaws.com, for this account, can assume the role; no AdministratorAccess, "
            "s3:*, kms:* or * on all resources", names, count), ROLE_RESOURCE_TYPE)


def _role_ids(iam: IamInventory) -> dict[str, str]:
    """Role name -> RoleId of every role in the account, from iam:ListRoles (every page, once per
    run however many roles are judged). A failed listing is logged and leaves the map empty: roles
    are still judged through GetRole, which carries the RoleId too, and only a role whose GetRole
    also fails is then reported by ARN."""
    try:
        return {role.name: role.role_id for role in iam.roles()}
    except ListingError as error:
        LOGGER.warning("iam:ListRoles failed (%s): a role whose GetRole fails is reported by ARN",
                       error_code(error.error))
        return {}


def _read(ctx: RunContext, resource: Resource) -> Any:
    try:
        return ctx.inventory.detail(resource)
    except ClientError as error:
        return error


def _role_facts(iam: IamInventory, role_arn: str, name: str) -> RoleFacts:
    """What the shared IAM inventory says about the role. Raises ClientError when GetRole fails,
    RoleReadError (naming the read) when a later read does."""
    role = iam.role(name)
    role_id = str(role["RoleId"])
    facts = RoleFacts(arn=str(role.get("Arn") or role_arn), role_id=role_id, name=name,
                      trust=role.get("AssumeRolePolicyDocument") or {}, attached=[])
    try:
        what = "its attached policies (iam:ListAttachedRolePolicies)"
        facts.attached = iam.role_attached_policies(name)
        what = "its inline policies (iam:ListRolePolicies)"
        for policy_name in iam.role_inline_policy_names(name):
            what = f"inline policy {policy_name} (iam:GetRolePolicy)"
            facts.policies.append((f"inline policy {policy_name}", iam.role_inline_policy(name, policy_name)))
        for policy_name, policy_arn in facts.attached:
            if is_administrator_access(policy_arn):
                continue  # a finding by itself; its document adds nothing
            what = f"managed policy {policy_name} (iam:GetPolicy, iam:GetPolicyVersion)"
            facts.policies.append((f"managed policy {policy_name}", iam.managed_document(policy_arn)))
        boundary_arn = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        if boundary_arn:
            what = "its permissions boundary (iam:GetPolicy, iam:GetPolicyVersion)"
            facts.boundary = iam.managed_document(boundary_arn)
    except ClientError as error:
        raise RoleReadError(role_id, error, what) from error
    return facts


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return Evaluator(TranscribeDataAccessRole()).handle(event, context)
