"""transcribe-guard guardrails: the service control policy and permissions boundary agree with the
rules. Each request of a corpus is judged twice: by our policy evaluator against the generated
statements, and by running it in the simulator and letting the mirrored rules judge what it
created. A denied request must create something its mirrored rule judges NON_COMPLIANT; an allowed
request that some rule judges NON_COMPLIANT must fall under a part the table calls "detect only".
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from rdklib import ClientFactory, ComplianceType

from rules.catalog.registry import RULES
from rules.policy.evaluation import Decision, Request, evaluate
from tests.helpers import ACCOUNT, put_media
from transcribe_guard import cli, guardrails

PACK = {"TranscribeJobOutputLocationParamAllowedOutputBuckets": "acme-output",
        "TranscribeResourceTaggedParamRequiredTags": "DataClassification=confidential|restricted,CostCenter"}
MEDIA = "s3://media-bucket/a.wav"
GOOD_TAGS = [{"Key": "DataClassification", "Value": "confidential"}, {"Key": "CostCenter", "Value": "cc-1"}]
REDACT = {"RedactionType": "PII", "RedactionOutput": "redacted"}
ARN = f"arn:aws:transcribe:us-east-1:{ACCOUNT}"
JUDGING_RULES = ("transcribe-job-output-location", "transcribe-resource-tagged", "transcribe-job-pii-redaction",
                 "transcribe-customization-encrypted")


def _iam_definition() -> dict[str, Any]:
    """parliament's copy of the Service Authorization Reference entry for Transcribe."""
    import parliament

    with open(Path(parliament.__file__).parent / "iam_definition.json", encoding="utf-8") as handle:
        return next(service for service in json.load(handle) if service["prefix"] == "transcribe")


@dataclass(frozen=True)
class Case:
    name: str  # the resource name, unique in the corpus
    action: str
    request: dict[str, Any]
    detect: tuple[str, ...] = ()  # categories of the NON_COMPLIANT verdicts a guardrail cannot prevent
    resource: str = field(default="")


def _job(name: str, detect: tuple[str, ...] = (), **request: Any) -> Case:
    return Case(name, "StartTranscriptionJob", {"TranscriptionJobName": name, "LanguageCode": "en-US",
                                                 "Media": {"MediaFileUri": MEDIA}, **request},
                detect, f"{ARN}:transcription-job/{name}")


def _analytics(name: str, **request: Any) -> Case:
    return Case(name, "StartCallAnalyticsJob", {"CallAnalyticsJobName": name, "Media": {"MediaFileUri": MEDIA},
                                                 **request}, resource=f"{ARN}:analytics/{name}")


CORPUS = [
    _job("good", OutputBucketName="acme-output", ContentRedaction=REDACT, Tags=GOOD_TAGS),
    _job("service-bucket", ContentRedaction=REDACT, Tags=GOOD_TAGS),
    _job("other-bucket", OutputBucketName="other-output", ContentRedaction=REDACT, Tags=GOOD_TAGS),
    _job("no-cost-center", OutputBucketName="acme-output", ContentRedaction=REDACT, Tags=GOOD_TAGS[:1]),
    _job("public", OutputBucketName="acme-output", ContentRedaction=REDACT,
         Tags=[{"Key": "DataClassification", "Value": "public"}, GOOD_TAGS[1]]),
    _job("untagged", OutputBucketName="acme-output", ContentRedaction=REDACT),
    # IAM matches aws:RequestTag/CostCenter to a "costcenter" tag; Transcribe and the rule do not.
    _job("case-variant", ("tag-key-case",), OutputBucketName="acme-output", ContentRedaction=REDACT,
         Tags=[GOOD_TAGS[0], {"Key": "costcenter", "Value": "cc-1"}]),
    _job("no-redaction", ("pii-redaction",), OutputBucketName="acme-output", Tags=GOOD_TAGS),
    _analytics("ca-good", OutputLocation="s3://acme-output/calls/", Settings={"ContentRedaction": REDACT},
               Tags=GOOD_TAGS),
    _analytics("ca-bucket-root", OutputLocation="s3://acme-output", Settings={"ContentRedaction": REDACT},
               Tags=GOOD_TAGS),
    _analytics("ca-service", Settings={"ContentRedaction": REDACT}, Tags=GOOD_TAGS),
    _analytics("ca-other", OutputLocation="s3://other-output/calls/", Settings={"ContentRedaction": REDACT},
               Tags=GOOD_TAGS),
    # A bucket whose name starts with an allowed one is another bucket.
    _analytics("ca-lookalike", OutputLocation="s3://acme-output-evil/calls/", Settings={"ContentRedaction": REDACT},
               Tags=GOOD_TAGS),
    Case("med-good", "StartMedicalTranscriptionJob",
         {"MedicalTranscriptionJobName": "med-good", "LanguageCode": "en-US", "Media": {"MediaFileUri": MEDIA},
          "OutputBucketName": "acme-output", "Specialty": "PRIMARYCARE", "Type": "DICTATION", "Tags": GOOD_TAGS},
         resource=f"{ARN}:medical-transcription-job/med-good"),
    Case("med-other", "StartMedicalTranscriptionJob",
         {"MedicalTranscriptionJobName": "med-other", "LanguageCode": "en-US", "Media": {"MediaFileUri": MEDIA},
          "OutputBucketName": "other-output", "Specialty": "PRIMARYCARE", "Type": "DICTATION", "Tags": GOOD_TAGS},
         resource=f"{ARN}:medical-transcription-job/med-other"),
    # No condition key names a customization's KMS key: tags are all a guardrail can require.
    Case("vocab-good", "CreateVocabulary", {"VocabularyName": "vocab-good", "LanguageCode": "en-US",
                                            "Phrases": ["transcribe"], "Tags": GOOD_TAGS},
         ("customization-key",), f"{ARN}:vocabulary/vocab-good"),
    Case("vocab-untagged", "CreateVocabulary", {"VocabularyName": "vocab-untagged", "LanguageCode": "en-US",
                                                "Phrases": ["transcribe"]},
         ("customization-key",), f"{ARN}:vocabulary/vocab-untagged"),
]


def _denying_statements(built: guardrails.Guardrails, case: Case) -> list[str]:
    context = guardrails.request_context(case.action, case.request)
    request = Request(action=f"transcribe:{case.action}", resource="*",
                      principal=f"arn:aws:iam::{ACCOUNT}:role/pipeline", context=context)
    return [statement["Sid"] for statement in built.statements
            if evaluate({"Version": "2012-10-17", "Statement": [statement]}, request) is Decision.DENY]


@pytest.fixture(scope="module")
def judged() -> dict[str, dict[str, str]]:
    """Every corpus request run in one simulated account, then judged by the rules: resource -> rule -> verdict."""
    from transcribe_guard.simulator import Simulator

    with Simulator(seed="empty", region="us-east-1") as sim:
        put_media(sim, "media-bucket", ["a.wav"])
        for bucket in ("acme-output", "other-output", "acme-output-evil"):
            put_media(sim, bucket, [])
        transcribe = sim.client("transcribe")
        for case in CORPUS:
            method = "".join("_" + c.lower() if c.isupper() else c for c in case.action).lstrip("_")
            getattr(transcribe, method)(**case.request)
        verdicts: dict[str, dict[str, str]] = {}
        for name in JUDGING_RULES:
            rule = RULES[name]()
            for evaluation in rule.evaluate_periodic({"accountId": ACCOUNT}, ClientFactory(None, assume_role_mode=False),
                                                     guardrails.rule_parameters(name, PACK)):
                verdicts.setdefault(evaluation.complianceResourceId, {})[name] = evaluation.complianceType
        return verdicts


@pytest.mark.parametrize("case", CORPUS, ids=lambda case: case.name)
def test_guardrail_agrees_with_the_rules(case: Case, judged: dict[str, dict[str, str]]) -> None:
    built = guardrails.build(PACK)
    verdicts = judged[case.resource]
    denied_by = _denying_statements(built, case)
    non_compliant = {rule for rule, verdict in verdicts.items() if verdict == ComplianceType.NON_COMPLIANT}
    for sid in denied_by:  # a denied request never creates something its rule calls compliant
        assert built.mirrors[sid] in non_compliant, (sid, verdicts)
    if not denied_by:
        detect_rules = {part.rule for part in built.parts if part.category in case.detect and not part.prevented}
        assert set(case.detect) <= built.detect_only()
        assert non_compliant <= detect_rules, (non_compliant, case.detect)


def test_the_corpus_has_both_outcomes(judged: dict[str, dict[str, str]]) -> None:
    built = guardrails.build(PACK)
    denied = {case.name for case in CORPUS if _denying_statements(built, case)}
    assert denied == {"service-bucket", "other-bucket", "no-cost-center", "public", "untagged", "ca-service",
                      "ca-other", "ca-lookalike", "med-other", "vocab-untagged"}
    assert all(verdict == ComplianceType.COMPLIANT for verdict in judged[f"{ARN}:transcription-job/good"].values())


def test_without_allowed_buckets_only_the_service_bucket_is_denied() -> None:
    built = guardrails.build({"TranscribeResourceTaggedParamRequiredTags": "CostCenter"})
    other = next(case for case in CORPUS if case.name == "other-bucket")
    service = next(case for case in CORPUS if case.name == "service-bucket")
    ca_service = next(case for case in CORPUS if case.name == "ca-service")
    assert _denying_statements(built, other) == []
    assert _denying_statements(built, service) == ["OutputLocationNoServiceBucket"]
    assert _denying_statements(built, ca_service) == ["OutputLocationNoServiceBucketCallAnalytics"]


def test_later_tag_changes_are_denied_only_for_required_keys() -> None:
    built = guardrails.build(PACK)

    def denied(action: str, request: dict[str, Any]) -> list[str]:
        return _denying_statements(built, Case("x", action, request))

    assert denied("UntagResource", {"TagKeys": ["CostCenter"]}) == ["ResourceTaggedNoUntag"]
    assert denied("UntagResource", {"TagKeys": ["Owner"]}) == []
    assert denied("TagResource", {"Tags": [{"Key": "DataClassification", "Value": "public"}]}) == [
        "ResourceTaggedValue1DataClassification"]
    assert denied("TagResource", {"Tags": [{"Key": "DataClassification", "Value": "restricted"}]}) == []
    assert denied("TagResource", {"Tags": [{"Key": "Owner", "Value": "x"}]}) == []


def test_require_output_key_is_an_opt_in_stricter_deny() -> None:
    good = CORPUS[0]
    assert _denying_statements(guardrails.build(PACK), good) == []
    assert _denying_statements(guardrails.build(PACK, require_output_key=True), good) == [
        "OutputEncryptedRequireCustomerKey"]
    keyed = Case("k", good.action, {**good.request, "OutputEncryptionKMSKeyId": "alias/transcripts"})
    assert _denying_statements(guardrails.build(PACK, require_output_key=True), keyed) == []


def test_actions_and_condition_keys_are_aws_own() -> None:
    """Each wildcard expands to exactly the actions named, and every condition key the statements use
    is one the Service Authorization Reference lists for the action."""
    from rules.policy.evaluation import wildcard_match

    service = _iam_definition()
    privileges = {p["privilege"]: {key for r in p["resource_types"] for key in r["condition_keys"]}
                  for p in service["privileges"]}
    for wildcard, actions in guardrails.ACTION_WILDCARDS.items():
        assert tuple(sorted(a for a in privileges if wildcard_match(wildcard, a))) == actions
    for action, keys in guardrails.OUTPUT_CONDITION_KEYS.items():
        assert set(keys) <= privileges[action], action
    for action in guardrails.CREATING_ACTION.values():
        assert {"aws:RequestTag/${TagKey}", "aws:TagKeys"} <= privileges[action], action
    assert "aws:TagKeys" in privileges["UntagResource"]
    # No action supports resource-level permissions, hence Resource "*" everywhere.
    for action in [*guardrails.CREATING_ACTION.values(), "TagResource", "UntagResource"]:
        assert all(r["resource_type"] == "" for p in service["privileges"] if p["privilege"] == action
                   for r in p["resource_types"])


@pytest.mark.parametrize("require_output_key", [False, True])
def test_policies_are_parliament_clean_and_within_aws_limits(require_output_key: bool) -> None:
    from parliament import analyze_policy_string

    built = guardrails.build(PACK, require_output_key=require_output_key)
    for document in (built.scp, built.permissions_boundary):
        findings = analyze_policy_string(json.dumps(document)).findings
        assert [f.issue for f in findings] == []
    guardrails.check_sizes(built)
    assert len(guardrails.compact(built.scp)) <= guardrails.SCP_MAX_CHARACTERS


def test_too_many_tags_for_one_scp_is_a_clear_error() -> None:
    many = ",".join(f"RequiredTagKeyNumber{i:02d}=value-{i}-a|value-{i}-b" for i in range(30))
    built = guardrails.build({"TranscribeResourceTaggedParamRequiredTags": many[:1024].rsplit(",", 1)[0]})
    with pytest.raises(guardrails.GuardrailsError, match="5,120"):
        guardrails.check_sizes(built)


def test_tag_keys_with_punctuation_give_valid_distinct_sids() -> None:
    built = guardrails.build({"TranscribeResourceTaggedParamRequiredTags": "team:a,team/a,team a"})
    sids = [statement["Sid"] for statement in built.statements]
    assert len(sids) == len(set(sids)) and all(sid.isalnum() for sid in sids)
    keys = [next(iter(next(iter(s["Condition"].values())))) for s in built.statements if "Require" in s["Sid"]]
    assert keys == ["aws:RequestTag/team:a", "aws:RequestTag/team/a", "aws:RequestTag/team a"]


def test_cli_writes_the_three_files(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    args = ["guardrails", "--output", str(tmp_path / "g")]
    for name, value in PACK.items():
        args += ["--pack-parameter", f"{name}={value}"]
    assert cli.main(args, out, err) == cli.EXIT_OK, err.getvalue()
    scp = json.loads((tmp_path / "g" / "scp.json").read_text())
    assert scp == guardrails.build(PACK).scp
    boundary = json.loads((tmp_path / "g" / "permissions-boundary.json").read_text())
    assert boundary["Statement"][0] == {"Sid": "AllowWhatIdentityPoliciesAllow", "Effect": "Allow", "Action": "*",
                                        "Resource": "*"}
    table = (tmp_path / "g" / "prevention.md").read_text()
    assert "| transcribe-job-pii-redaction | PII redaction settings | detect only |" in table
    assert "`ResourceTaggedRequire2CostCenter` mirrors `transcribe-resource-tagged`" in table


def test_cli_refuses_bad_parameters_and_unwritable_output(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["guardrails", "--output", str(tmp_path), "--pack-parameter",
                     "TranscribeResourceTaggedParamRequiredTags=a=b=c,a"], out, err)
    assert code == cli.EXIT_USAGE and "RequiredTags" in err.getvalue() and len(err.getvalue().splitlines()) == 1
    blocker = tmp_path / "file"
    blocker.write_text("x")
    err = io.StringIO()
    code = cli.main(["guardrails", "--output", str(blocker / "sub"), "--pack-parameter",
                     "TranscribeResourceTaggedParamRequiredTags=CostCenter"], out, err)
    assert code == cli.EXIT_USAGE and "cannot write" in err.getvalue()


def test_the_docs_show_what_the_generator_writes() -> None:
    root = Path(__file__).resolve().parent.parent
    built = guardrails.build(PACK)
    table = "\n".join(line for line in guardrails.prevention_markdown(built).splitlines() if line.startswith("|"))
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert table in readme
    for name, value in PACK.items():
        assert f"{name}={value}" in readme
    doc = (root / "docs" / "guardrails.md").read_text(encoding="utf-8")
    assert "```json\n" + json.dumps(built.scp, indent=2) + "\n```" in doc


def test_a_tag_iam_policies_cannot_hold_is_refused_by_name() -> None:
    with pytest.raises(guardrails.GuardrailsError, match="U\\+0020 to U\\+00FF"):
        guardrails.build({"TranscribeResourceTaggedParamRequiredTags": "部署"})
    built = guardrails.build({"TranscribeResourceTaggedParamRequiredTags": "Größe"})  # Latin-1 is fine
    assert any("aws:RequestTag/Größe" in json.dumps(s["Condition"], ensure_ascii=False) for s in built.statements)
