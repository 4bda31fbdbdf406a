"""transcribe-resource-tagged against the simulated account: every kind of Transcribe resource is
created through plain boto3 calls, as a user's pipeline would, and the verdicts are compared
exactly."""

from __future__ import annotations

from typing import Any, Mapping

import jsonschema
import pytest
from rdklib import ClientFactory, ComplianceType, Evaluation, InvalidParametersError

from rules.engine.base import inventory_for
from rules.catalog.registry import RULES, metadata_schema
from rules.inventory.transcribe import ALL_KINDS, TranscribeInventory
from rules.transcribe_resource_tagged import (METADATA, TagRequirement, TranscribeResourceTagged, lambda_handler,
                                              tag_problems)
from tests.helpers import rejected_parameters
from tests.helpers import (ACCOUNT, REGION, access_denied, deploy_rule, fail_calls, periodic_event, put_media,
                           stored_verdicts)

RULE = "transcribe-resource-tagged"
TYPE = "AWS::::Account"
AUDIO, TRANSCRIPTS = "acme-call-audio", "acme-transcripts"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/TranscribeDataAccess"
REQUIRED = "DataClassification=confidential|restricted,CostCenter"
GOOD_TAGS = {"DataClassification": "confidential", "CostCenter": "cc-ops"}
NC, OK = ComplianceType.NON_COMPLIANT, ComplianceType.COMPLIANT
LABELS = {kind.key: kind.label.capitalize() for kind in ALL_KINDS}


def arn(kind: str, name: str) -> str:
    return f"arn:aws:transcribe:{REGION}:{ACCOUNT}:{kind}/{name}"


def run(parameters: Mapping[str, str] | None = None, factory: Any = None) -> dict[str, Evaluation]:
    """The rule's evaluations by resource id (each resource is evaluated once)."""
    rule = TranscribeResourceTagged()
    factory = factory or ClientFactory(role_arn=None, region=REGION, assume_role_mode=False)
    raw = {"RequiredTags": REQUIRED, **(parameters or {})}
    evaluations = rule.evaluate_periodic({"accountId": ACCOUNT}, factory, rule.evaluate_parameters(raw))
    by_id = {e.complianceResourceId: e for e in evaluations}
    assert len(by_id) == len(evaluations)
    return by_id


def expect(compliance: str, resource_id: str, text: str) -> Evaluation:
    return Evaluation(compliance, resource_id, TYPE, text)


def compliant(resource_arn: str) -> Evaluation:
    kind = resource_arn.split(":")[-1].split("/")[0]
    return expect(OK, resource_arn, f"{LABELS[kind]} carries every required tag.")


# --- seeding, as a pipeline would -------------------------------------------------------------


@pytest.fixture
def sources(sim: Any) -> None:
    put_media(sim, AUDIO, ["calls/call-1.wav", "customizations/terms.txt", "customizations/medical.txt",
                           "customizations/filter.txt", "training/corpus.txt"])
    sim.client("s3").create_bucket(Bucket=TRANSCRIPTS)


def tag_list(tags: Mapping[str, str] | None) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in (tags or {}).items()]


def create(sim: Any, kind: str, name: str, tags: Mapping[str, str] | None, media: str = "calls/call-1.wav") -> str:
    """Start or create one resource of ``kind`` with ``tags`` (None: untagged)."""
    t = sim.client("transcribe")
    extra: dict[str, Any] = {"Tags": tag_list(tags)} if tags else {}
    audio = {"MediaFileUri": f"s3://{AUDIO}/{media}"}
    if kind == "transcription-job":
        t.start_transcription_job(TranscriptionJobName=name, LanguageCode="en-US", Media=audio,
                                  OutputBucketName=TRANSCRIPTS, **extra)
    elif kind == "medical-transcription-job":
        t.start_medical_transcription_job(MedicalTranscriptionJobName=name, LanguageCode="en-US", Media=audio,
                                          Specialty="PRIMARYCARE", Type="DICTATION", OutputBucketName=TRANSCRIPTS,
                                          **extra)
    elif kind == "analytics":
        t.start_call_analytics_job(CallAnalyticsJobName=name, Media=audio, DataAccessRoleArn=ROLE,
                                   OutputLocation=f"s3://{TRANSCRIPTS}/analytics/", **extra)
    elif kind == "medical-scribe-job":
        t.start_medical_scribe_job(MedicalScribeJobName=name, Media=audio, OutputBucketName=TRANSCRIPTS,
                                   DataAccessRoleArn=ROLE, Settings={"ShowSpeakerLabels": True, "MaxSpeakerLabels": 2},
                                   **extra)
    elif kind == "vocabulary":
        t.create_vocabulary(VocabularyName=name, LanguageCode="en-US",
                            VocabularyFileUri=f"s3://{AUDIO}/customizations/terms.txt", **extra)
    elif kind == "medical-vocabulary":
        t.create_medical_vocabulary(VocabularyName=name, LanguageCode="en-US",
                                    VocabularyFileUri=f"s3://{AUDIO}/customizations/medical.txt", **extra)
    elif kind == "vocabulary-filter":
        t.create_vocabulary_filter(VocabularyFilterName=name, LanguageCode="en-US",
                                   VocabularyFilterFileUri=f"s3://{AUDIO}/customizations/filter.txt", **extra)
    elif kind == "language-model":
        t.create_language_model(LanguageCode="en-US", BaseModelName="NarrowBand", ModelName=name,
                                InputDataConfig={"S3Uri": f"s3://{AUDIO}/training/", "DataAccessRoleArn": ROLE},
                                **extra)
    elif kind == "analytics-category":
        t.create_call_analytics_category(
            CategoryName=name, Rules=[{"SentimentFilter": {"Sentiments": ["NEGATIVE"], "ParticipantRole": "CUSTOMER"}}],
            **extra)
    else:
        raise AssertionError(kind)
    return arn(kind, name)


# --- metadata and pure logic --------------------------------------------------------------------


def test_metadata_validates_and_is_registered() -> None:
    jsonschema.Draft202012Validator(metadata_schema(), format_checker=jsonschema.FormatChecker()).validate(METADATA)
    assert RULES[RULE] is TranscribeResourceTagged
    assert METADATA["resource_kinds"] == [kind.key for kind in ALL_KINDS]
    assert METADATA["parameters"]["properties"]["ResourceKinds"]["enum"] == [kind.key for kind in ALL_KINDS]


def test_declared_iam_actions_are_exactly_the_calls_made(sim: Any, sources: None) -> None:
    for kind in ALL_KINDS:
        create(sim, kind.key, f"{kind.key}-1", GOOD_TAGS)
    factory = ClientFactory(role_arn=None, region=REGION, assume_role_mode=False)
    run(factory=factory)
    calls = inventory_for(factory, ACCOUNT).calls
    called = {"transcribe:" + "".join(part.capitalize() for part in op.split("_")) for op in calls}
    assert called == set(METADATA["iam_actions"])


def test_scenario2_to_4_tag_problems_on_plain_data() -> None:
    requirements = [TagRequirement.parse("DataClassification=confidential|restricted"), TagRequirement.parse("Owner")]
    assert requirements == [TagRequirement("DataClassification", ("confidential", "restricted")),
                            TagRequirement("Owner", None)]
    assert tag_problems({"DataClassification": "restricted", "Owner": ""}, requirements) == ([], [])
    assert tag_problems({"DataClassification": "Confidential"}, requirements) == (["Owner"], ["DataClassification"])
    assert tag_problems({"dataclassification": "confidential", "owner": "x"}, requirements) == (
        ["DataClassification", "Owner"], [])  # keys are case-sensitive, as in AWS


# --- scenarios --------------------------------------------------------------------------------


def test_scenario1_no_resources_no_evaluations(sim: Any) -> None:
    assert run() == {}


def test_scenario2_tagged_resources_are_compliant(sim: Any, sources: None) -> None:
    restricted = create(sim, "transcription-job", "tj-restricted",
                        {"DataClassification": "restricted", "CostCenter": "", "Team": "cc"})
    confidential = create(sim, "vocabulary", "vocab-confidential", GOOD_TAGS)
    assert run() == {restricted: compliant(restricted), confidential: compliant(confidential)}


def test_scenario3_missing_keys_are_named(sim: Any, sources: None) -> None:
    untagged = create(sim, "transcription-job", "tj-untagged", None)
    no_cost = create(sim, "vocabulary-filter", "filter-no-cost", {"DataClassification": "confidential"})
    lower = create(sim, "language-model", "lm-lowercase", {"dataclassification": "confidential", "costcenter": "x"})
    assert run() == {
        untagged: expect(NC, untagged, "Transcription job lacks required tags DataClassification, CostCenter."),
        no_cost: expect(NC, no_cost, "Vocabulary filter lacks required tag CostCenter."),
        lower: expect(NC, lower, "Custom language model lacks required tags DataClassification, CostCenter."),
    }


def test_scenario4_value_not_allowed_names_the_key_never_the_value(sim: Any, sources: None) -> None:
    public = create(sim, "analytics", "ca-public", {"DataClassification": "public-jane.doe@example.com",
                                                    "CostCenter": "cc-ops"})
    both = create(sim, "medical-vocabulary", "medvocab-both", {"DataClassification": "Confidential"})
    result = run()
    assert result == {
        public: expect(NC, public, "Call analytics job has a value not allowed by RequiredTags for tag "
                                   "DataClassification."),
        both: expect(NC, both, "Medical vocabulary lacks required tag CostCenter and has a value not allowed by "
                               "RequiredTags for tag DataClassification."),
    }
    assert all("jane" not in e.annotation and "Confidential" not in e.annotation for e in result.values())
    # Without allowed values any value satisfies the key.
    assert run({"RequiredTags": "DataClassification"}) == {public: compliant(public), both: compliant(both)}


def test_scenario5_every_resource_kind_tagged_and_untagged(sim: Any, sources: None) -> None:
    expected: dict[str, Evaluation] = {}
    for kind in ALL_KINDS:
        tagged = create(sim, kind.key, f"{kind.key}-tagged", GOOD_TAGS)
        untagged = create(sim, kind.key, f"{kind.key}-untagged", None)
        expected[tagged] = compliant(tagged)
        expected[untagged] = expect(NC, untagged, f"{kind.label.capitalize()} lacks required tags "
                                                  "DataClassification, CostCenter.")
    failed = create(sim, "transcription-job", "tj-failed-tagged", GOOD_TAGS, media="calls/typo.wav")
    expected[failed] = compliant(failed)  # tags belong to the resource whatever its state
    factory = ClientFactory(role_arn=None, region=REGION, assume_role_mode=False)
    assert run(factory=factory) == expected
    calls = inventory_for(factory, ACCOUNT).calls
    assert calls["get_transcription_job"] == 3 and calls["get_call_analytics_category"] == 2
    assert calls["get_medical_transcription_job"] == calls["get_call_analytics_job"] == 2
    assert calls["get_medical_scribe_job"] == 2
    assert calls["list_tags_for_resource"] == 8  # vocabularies, medical vocabularies, filters, models


def test_scenario5_tags_added_later_are_seen(sim: Any, sources: None) -> None:
    vocab = create(sim, "vocabulary", "vocab-later", None)
    job = create(sim, "transcription-job", "tj-later", None)
    for resource in (vocab, job):
        sim.client("transcribe").tag_resource(ResourceArn=resource, Tags=tag_list(GOOD_TAGS))
    assert run() == {vocab: compliant(vocab), job: compliant(job)}


def test_scenario6_resource_kinds_narrow_the_check(sim: Any, sources: None) -> None:
    vocab = create(sim, "vocabulary", "vocab-untagged", None)
    category = create(sim, "analytics-category", "cat-tagged", GOOD_TAGS)
    create(sim, "transcription-job", "tj-untagged", None)
    factory = ClientFactory(role_arn=None, region=REGION, assume_role_mode=False)
    assert run({"ResourceKinds": "analytics-category, vocabulary"}, factory) == {
        vocab: expect(NC, vocab, "Custom vocabulary lacks required tags DataClassification, CostCenter."),
        category: compliant(category),
    }
    assert set(inventory_for(factory, ACCOUNT).calls) == {
        "list_vocabularies", "list_call_analytics_categories", "list_tags_for_resource", "get_call_analytics_category"}


def test_scenario6_pagination_past_100(sim: Any, sources: None) -> None:
    tagged = [create(sim, "vocabulary", f"vocab-{index:03d}", GOOD_TAGS) for index in range(101)]
    untagged = create(sim, "vocabulary", "vocab-zzz-untagged", None)  # listed by name: on the second page
    factory = ClientFactory(role_arn=None, region=REGION, assume_role_mode=False)
    result = run({"ResourceKinds": "vocabulary"}, factory)
    assert {k: e.complianceType for k, e in result.items()} == {untagged: NC, **{v: OK for v in tagged}}
    assert inventory_for(factory, ACCOUNT).calls["list_vocabularies"] == 2


def test_scenario7_unreadable_tags_fail_closed_and_others_are_evaluated(sim: Any, sources: None,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    denied_vocab = create(sim, "vocabulary", "vocab-denied", GOOD_TAGS)
    denied_job = create(sim, "transcription-job", "tj-denied", GOOD_TAGS)
    vocab = create(sim, "vocabulary", "vocab-ok", GOOD_TAGS)
    job = create(sim, "transcription-job", "tj-ok", None)
    fail_calls(monkeypatch, TranscribeInventory, "_call",
               lambda self, operation, **kwargs: kwargs.get("ResourceArn") == denied_vocab
               or kwargs.get("TranscriptionJobName") == "tj-denied",
               lambda: access_denied("Denied"))
    assert run() == {
        denied_vocab: expect(NC, denied_vocab, "Could not evaluate: AccessDeniedException when reading the tags of "
                                               "the custom vocabulary."),
        denied_job: expect(NC, denied_job, "Could not evaluate: AccessDeniedException when reading the tags of the "
                                           "transcription job."),
        vocab: compliant(vocab),
        job: expect(NC, job, "Transcription job lacks required tags DataClassification, CostCenter."),
    }


BAD_PARAMETERS = [
    ({}, "RequiredTags"),  # required
    ({"RequiredTags": " "}, "RequiredTags"),
    ({"RequiredTags": "DataClassification="}, "RequiredTags"),
    ({"RequiredTags": "=confidential"}, "RequiredTags"),
    ({"RequiredTags": "DataClassification=confidential||restricted"}, "RequiredTags"),
    ({"RequiredTags": "Owner;Team"}, "RequiredTags"),
    ({"RequiredTags": "Owner,CostCenter,Owner=x"}, "RequiredTags"),  # a key twice
    ({"RequiredTags": "Owner", "ResourceKinds": "vocabulary,bucket"}, "ResourceKinds"),
    ({"RequiredTags": "Owner", "ResourceKinds": "Vocabulary"}, "ResourceKinds"),
    ({"RequiredTags": "Owner", "ReportedResourceType": "Transcribe"}, "ReportedResourceType"),
    ({"RequiredTags": "Owner", "RequiredTag": "Owner"}, "RequiredTag"),
]


@pytest.mark.parametrize(("parameters", "named"), BAD_PARAMETERS)
def test_scenario8_bad_parameters_raise_naming_the_parameter(parameters: dict[str, str], named: str) -> None:
    with pytest.raises(InvalidParametersError, match=named):
        TranscribeResourceTagged().evaluate_parameters(parameters)


def test_scenario8_compact_form_fits_config_limits() -> None:
    parsed = TranscribeResourceTagged().evaluate_parameters(
        {"RequiredTags": " DataClassification = confidential | restricted , Cost Center ,team:owner=a/b@c.d=e "})
    assert parsed["RequiredTags"] == (TagRequirement("DataClassification", ("confidential", "restricted")),
                                      TagRequirement("Cost Center", None),
                                      TagRequirement("team:owner", ("a/b@c.d=e",)))
    assert parsed["ResourceKinds"] == []
    with pytest.raises(InvalidParametersError, match="RequiredTags"):
        TranscribeResourceTagged().evaluate_parameters({"RequiredTags": "K=" + "v" * 1030})


@pytest.mark.parametrize(("parameters", "named"), [BAD_PARAMETERS[0], BAD_PARAMETERS[6], BAD_PARAMETERS[7]])
def test_scenario8_bad_parameters_through_the_lambda_handler(sim: Any, parameters: dict[str, str],
                                                             named: str) -> None:
    deploy_rule(sim, RULE)
    response = rejected_parameters(lambda_handler, periodic_event(RULE, parameters))
    assert response["customerErrorCode"] == "InvalidParameterValueException"
    assert named in response["customerErrorMessage"]
    # Issue 12: no longer silent; the account says why nothing else was judged.
    assert stored_verdicts(sim, RULE) == {ACCOUNT: "NON_COMPLIANT"}


def test_lambda_handler_puts_evaluations_into_config(sim: Any, sources: None) -> None:
    deploy_rule(sim, RULE)
    job = create(sim, "transcription-job", "tj-tagged", GOOD_TAGS)
    scribe = create(sim, "medical-scribe-job", "ms-untagged", None)
    vocab = create(sim, "vocabulary", "vocab-public", {"DataClassification": "public", "CostCenter": "x"})
    model = create(sim, "language-model", "lm-tagged", GOOD_TAGS)
    category = create(sim, "analytics-category", "cat-untagged", None)
    lambda_handler(periodic_event(RULE, {"RequiredTags": REQUIRED}), None)
    assert stored_verdicts(sim, RULE) == {job: OK, scribe: NC, vocab: NC, model: OK, category: NC}
    # Narrowing to vocabularies: the resources no longer checked become NOT_APPLICABLE (rdklib's clean-up).
    lambda_handler(periodic_event(RULE, {"RequiredTags": REQUIRED, "ResourceKinds": "vocabulary"}), None)
    assert stored_verdicts(sim, RULE) == {job: "NOT_APPLICABLE", scribe: "NOT_APPLICABLE", vocab: NC,
                                          model: "NOT_APPLICABLE", category: "NOT_APPLICABLE"}


def test_cli_scan_skips_the_rule_until_required_tags_are_given(sim: Any, sources: None, tmp_path: Any) -> None:
    """RequiredTags has no default: an all-rules scan leaves the rule out with a notice, a scan
    naming it is a usage error, and a parameters file (or the demo's policy) runs it."""
    import io
    import json

    from transcribe_guard import cli

    untagged = create(sim, "vocabulary", "vocab-untagged", None)

    def scan(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        return cli.main(["scan", "--format", "json", *argv], out, err), out.getvalue(), err.getvalue()

    code, out, err = scan()
    # Other rules still run (the untagged file vocabulary has no KMS key: exit 3); this one is left out.
    assert code == cli.EXIT_NON_COMPLIANT and RULE not in json.loads(out)["summary"]["by_rule"]
    assert err == f"transcribe-guard: skipped {RULE}: set RequiredTags with --parameters.\n"
    code, out, err = scan("--rule", RULE)
    assert code == cli.EXIT_USAGE and "Parameter RequiredTags is required" in err
    params = tmp_path / "params.json"
    params.write_text(json.dumps({RULE: {"RequiredTags": "CostCenter"}}))
    code, out, err = scan("--parameters", str(params))
    assert code == cli.EXIT_NON_COMPLIANT and err == ""
    rows = json.loads(out)["evaluations"]
    assert [(r["resource_id"], r["compliance"]) for r in rows if r["rule"] == RULE] == [(untagged, NC)]
