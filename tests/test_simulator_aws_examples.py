"""The simulated Transcribe against AWS's published responses: the AWS CLI's examples, recorded in
tests/data/aws_cli_examples/transcribe (each file names its aws-cli path and commit).

Each recorded request is sent to the simulator, its placeholders replaced by runnable values
(``runnable``), and the response's shape is compared with the recorded one: the same keys at every
level and the same value types (``structure``). Values are compared only where AWS, not the
caller, decides them: statuses, a completed job's Settings defaults, MediaFormat from the file
extension, the sample rate, a language model's S3Uri ending in "/", the output URI's form.
Examples of Get, List and Delete need the resource first; it is created with the options the
recorded response shows. botocore's model decides members and types: every recorded response is
checked against it too.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from botocore.model import Shape
from rdklib import ClientFactory, ComplianceType

from rules.inventory.s3_location import bucket_of, is_service_bucket
from rules.transcribe_job_output_encrypted import TranscribeJobOutputEncrypted
from rules.transcribe_job_output_location import TranscribeJobOutputLocation
from transcribe_guard.simulator.shapes import output_shape, service_model, validate

DATA = Path(__file__).parent / "data" / "aws_cli_examples" / "transcribe"
ACCOUNT = "123456789012"
REGION = "us-east-1"
BUCKET = "aws-cli-examples"  # every placeholder bucket becomes this one
MODEL = service_model("transcribe")
LANGUAGE_CODES = set(MODEL.shape_for("LanguageCode").metadata["enum"])
BASE_MODELS = set(MODEL.shape_for("BaseModelName").metadata["enum"])
# Service-managed output, as issue 15 quotes AWS's answers (the CLI pages show a placeholder):
# https://s3.<region>.amazonaws.com/aws-transcribe-<region>-prod/<account>/<job>/<uuid>/asrOutput.json?X-Amz-Security-Token=...
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def service_uri(job: str, file_name: str = "asrOutput.json") -> re.Pattern[str]:
    return re.compile(rf"^https://s3\.{REGION}\.amazonaws\.com/aws-transcribe-{REGION}-prod/{ACCOUNT}/"
                      rf"{re.escape(job)}/{UUID}/{re.escape(file_name)}\?X-Amz-Security-Token=[^&]+&")


def page(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return data


def recorded(name: str, index: int = 0) -> dict[str, Any]:
    example: dict[str, Any] = page(name)["examples"][index]
    return example


ALL_EXAMPLES = [(path.stem, index) for path in sorted(DATA.glob("*.json"))
                for index in range(len(page(path.stem)["examples"]))]


# --- placeholders, shapes ---------------------------------------------------------------------

def runnable(value: Any, key: str = "") -> Any:
    """A recorded request or response with AWS's placeholders replaced by values the simulator
    (and botocore's model) accept: one bucket, this account, en-US, WideBand, .mp4 media (the
    format both recorded Get responses report)."""
    if isinstance(value, dict):
        return {k: runnable(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [runnable(v, key) for v in value]
    if not isinstance(value, str):
        return value
    if key == "LanguageCode" and value not in LANGUAGE_CODES:
        return "en-US"
    if key == "BaseModelName" and value not in BASE_MODELS:
        return "WideBand"
    if key == "OutputBucketName":
        return BUCKET
    value = re.sub(r"^s3://[^/]+/", f"s3://{BUCKET}/", value)
    value = value.replace("amzn-s3-demo-bucket.AWS-Region.amazonaws.com", f"{BUCKET}.s3.{REGION}.amazonaws.com")
    value = value.replace("your-AWS-account-number", ACCOUNT).replace("AWS-account-number", ACCOUNT)
    return re.sub(r"\.(file-extension|extension)$", ".mp4", value)


def model_types(shape: Shape | None, value: Any) -> Any:
    """A recorded (JSON) response as botocore parses it: timestamps become datetimes."""
    if shape is None:
        return value
    if shape.type_name == "structure" and isinstance(value, dict):
        return {k: model_types(shape.members.get(k), v) for k, v in value.items()}
    if shape.type_name == "list" and isinstance(value, list):
        return [model_types(shape.member, v) for v in value]
    if shape.type_name == "timestamp" and isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    return value


def structure(value: Any) -> Any:
    """Keys at every level and the type of every value; a list is the set of its items' structures."""
    if isinstance(value, dict):
        return {k: structure(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted({json.dumps(structure(v), sort_keys=True) for v in value})
    return type(value).__name__


def assert_same_shape(operation: str, simulated: dict[str, Any], example: dict[str, Any]) -> None:
    expected = model_types(output_shape("transcribe", operation), example["response"])
    assert structure(simulated) == structure(expected), example["title"]


def seed_sources(sim: Any, request: dict[str, Any]) -> None:
    """The S3 objects a request names (media, word lists; a language model's data prefix)."""
    s3 = sim.client("s3")
    if BUCKET not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=BUCKET)

    def walk(value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, str) and value.startswith(f"s3://{BUCKET}/"):
            object_key = value[len(f"s3://{BUCKET}/"):]
            if key in ("S3Uri", "TuningDataS3Uri"):
                object_key = object_key.rstrip("/") + "/part-1.txt"
            s3.put_object(Bucket=BUCKET, Key=object_key, Body=b"simulated source")

    walk(request)


def send(sim: Any, operation: str, request: dict[str, Any]) -> dict[str, Any]:
    """Sends a request through boto3 and checks the answer against botocore's model."""
    client = sim.client("transcribe")
    method = next(m for m, op in client.meta.method_to_api_mapping.items() if op == operation)
    response: dict[str, Any] = getattr(client, method)(**request)
    response.pop("ResponseMetadata", None)
    assert validate(output_shape("transcribe", operation), response) == [], operation
    return response


def replay(sim: Any, name: str, index: int = 0) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the example, the simulator's answer to its request)."""
    example = recorded(name, index)
    request = runnable(example["request"])
    seed_sources(sim, request)
    return example, send(sim, page(name)["operation"], request)


# --- the recorded data ------------------------------------------------------------------------

def test_every_page_names_its_source_and_holds_examples() -> None:
    assert len(ALL_EXAMPLES) >= 30
    for path in DATA.glob("*.json"):
        data = page(path.stem)
        source = data["_source"]
        assert source["repository"] == "aws/aws-cli" and re.fullmatch(r"[0-9a-f]{40}", source["commit"])
        assert source["path"] == f"awscli/examples/transcribe/{path.stem}.rst"
        assert MODEL.operation_model(data["operation"]).name == data["operation"]
        assert data["examples"] and all(e["command"].startswith("aws transcribe ") for e in data["examples"])


@pytest.mark.parametrize(("name", "index"), ALL_EXAMPLES)
def test_recorded_responses_agree_with_botocores_model(name: str, index: int) -> None:
    """No recorded response has a member or type the model lacks (placeholders replaced), so the
    model and the examples never pull the simulator two ways."""
    operation = page(name)["operation"]
    shape = output_shape("transcribe", operation)
    response = model_types(shape, runnable(recorded(name, index)["response"]))
    assert validate(shape, response) == []


# --- transcription jobs -----------------------------------------------------------------------

@pytest.mark.parametrize("index", range(len(page("start-transcription-job")["examples"])))
def test_start_transcription_job_examples(sim: Any, index: int) -> None:
    example, response = replay(sim, "start-transcription-job", index)
    assert_same_shape("StartTranscriptionJob", response, example)  # Settings as requested, no defaults yet
    assert response["TranscriptionJob"]["TranscriptionJobStatus"] == example["response"]["TranscriptionJob"][
        "TranscriptionJobStatus"] == "IN_PROGRESS"


def test_get_transcription_job_example(sim: Any) -> None:
    """A completed job answers with MediaFormat (from the .mp4 extension), MediaSampleRateHertz,
    Settings {ChannelIdentification: false, ShowAlternatives: false} and, with IdentifyLanguage,
    LanguageCode and IdentifiedLanguageScore."""
    example = recorded("get-transcription-job")
    job = example["response"]["TranscriptionJob"]
    start = runnable({"TranscriptionJobName": job["TranscriptionJobName"], "IdentifyLanguage": True,
                      "Media": job["Media"]})
    seed_sources(sim, start)
    send(sim, "StartTranscriptionJob", start)
    response = send(sim, "GetTranscriptionJob", runnable(example["request"]))
    assert_same_shape("GetTranscriptionJob", response, example)
    got = response["TranscriptionJob"]
    for member in ("TranscriptionJobStatus", "MediaFormat", "MediaSampleRateHertz", "Settings", "IdentifyLanguage"):
        assert got[member] == job[member], member
    assert got["Settings"] == {"ChannelIdentification": False, "ShowAlternatives": False}
    assert service_uri(job["TranscriptionJobName"]).match(got["Transcript"]["TranscriptFileUri"])


def test_list_transcription_jobs_example(sim: Any) -> None:
    """Newest first, default page of five with a NextToken, service-bucket summaries."""
    example = recorded("list-transcription-jobs")
    summaries = example["response"]["TranscriptionJobSummaries"]
    media = {"MediaFileUri": f"s3://{BUCKET}/call.mp4"}
    seed_sources(sim, {"Media": media})
    for name in ["an-older-job"] + [s["TranscriptionJobName"] for s in reversed(summaries)]:
        send(sim, "StartTranscriptionJob", {"TranscriptionJobName": name, "LanguageCode": "en-US", "Media": media})
    response = send(sim, "ListTranscriptionJobs", runnable(example["request"]))
    assert_same_shape("ListTranscriptionJobs", response, example)
    got = response["TranscriptionJobSummaries"]
    assert [s["TranscriptionJobName"] for s in got] == [s["TranscriptionJobName"] for s in summaries]
    assert {(s["TranscriptionJobStatus"], s["OutputLocationType"]) for s in got} == {
        (s["TranscriptionJobStatus"], s["OutputLocationType"]) for s in summaries} == {("COMPLETED", "SERVICE_BUCKET")}


def test_delete_transcription_job_example(sim: Any) -> None:
    example = recorded("delete-transcription-job")
    request = runnable(example["request"])
    seed_sources(sim, {"Media": {"MediaFileUri": f"s3://{BUCKET}/call.mp4"}})
    send(sim, "StartTranscriptionJob", {**request, "LanguageCode": "en-US",
                                        "Media": {"MediaFileUri": f"s3://{BUCKET}/call.mp4"}})
    assert send(sim, "DeleteTranscriptionJob", request) == example["response"] == {}


# --- medical transcription jobs ---------------------------------------------------------------

@pytest.mark.parametrize("index", range(len(page("start-medical-transcription-job")["examples"])))
def test_start_medical_transcription_job_examples(sim: Any, index: int) -> None:
    example, response = replay(sim, "start-medical-transcription-job", index)
    assert_same_shape("StartMedicalTranscriptionJob", response, example)
    assert response["MedicalTranscriptionJob"]["TranscriptionJobStatus"] == "IN_PROGRESS"


def test_get_medical_transcription_job_example(sim: Any) -> None:
    example = recorded("get-medical-transcription-job")
    job = example["response"]["MedicalTranscriptionJob"]
    start = runnable({"MedicalTranscriptionJobName": job["MedicalTranscriptionJobName"], "LanguageCode": "en-US",
                      "Specialty": job["Specialty"], "Type": job["Type"], "OutputBucketName": BUCKET,
                      "Media": job["Media"], "Settings": {"VocabularyName": job["Settings"]["VocabularyName"]}})
    seed_sources(sim, start)
    send(sim, "StartMedicalTranscriptionJob", start)
    response = send(sim, "GetMedicalTranscriptionJob", runnable(example["request"]))
    assert_same_shape("GetMedicalTranscriptionJob", response, example)
    got = response["MedicalTranscriptionJob"]
    for member in ("TranscriptionJobStatus", "MediaFormat", "MediaSampleRateHertz", "Settings"):
        assert got[member] == job[member], member
    customer_bucket = re.compile(rf"^https://s3\.[^/]+\.amazonaws\.com/.+/{job['MedicalTranscriptionJobName']}\.json$")
    assert customer_bucket.match(job["Transcript"]["TranscriptFileUri"])
    assert customer_bucket.match(got["Transcript"]["TranscriptFileUri"])


def test_list_medical_transcription_jobs_example(sim: Any) -> None:
    example = recorded("list-medical-transcription-jobs")
    summaries = example["response"]["MedicalTranscriptionJobSummaries"]
    media = {"MediaFileUri": f"s3://{BUCKET}/dictation.mp4"}
    seed_sources(sim, {"Media": media})
    older = {"MedicalTranscriptionJobName": "an-older-job", "Specialty": "PRIMARYCARE", "Type": "DICTATION"}
    for summary in [older] + list(reversed(summaries)):
        send(sim, "StartMedicalTranscriptionJob", {
            "MedicalTranscriptionJobName": summary["MedicalTranscriptionJobName"], "LanguageCode": "en-US",
            "Specialty": summary["Specialty"], "Type": summary["Type"], "OutputBucketName": BUCKET, "Media": media})
    response = send(sim, "ListMedicalTranscriptionJobs", runnable(example["request"]))
    assert_same_shape("ListMedicalTranscriptionJobs", response, example)
    got = response["MedicalTranscriptionJobSummaries"]
    assert [s["MedicalTranscriptionJobName"] for s in got] == [s["MedicalTranscriptionJobName"] for s in summaries]
    assert {s["OutputLocationType"] for s in got} == {s["OutputLocationType"] for s in summaries} == {"CUSTOMER_BUCKET"}


def test_delete_medical_transcription_job_example(sim: Any) -> None:
    example = recorded("delete-medical-transcription-job")
    request = runnable(example["request"])
    media = {"MediaFileUri": f"s3://{BUCKET}/dictation.mp4"}
    seed_sources(sim, {"Media": media})
    send(sim, "StartMedicalTranscriptionJob", {**request, "LanguageCode": "en-US", "Specialty": "PRIMARYCARE",
                                               "Type": "DICTATION", "OutputBucketName": BUCKET, "Media": media})
    assert send(sim, "DeleteMedicalTranscriptionJob", request) == example["response"] == {}


# --- vocabularies and filters -----------------------------------------------------------------

@pytest.mark.parametrize("name", ["create-vocabulary", "create-medical-vocabulary", "create-vocabulary-filter"])
def test_create_customization_examples_answer_without_last_modified_time(sim: Any, name: str) -> None:
    example, response = replay(sim, name)
    assert_same_shape(page(name)["operation"], response, example)
    assert "LastModifiedTime" not in response
    if "VocabularyState" in example["response"]:
        assert response["VocabularyState"] == example["response"]["VocabularyState"] == "PENDING"


def create_source(sim: Any, operation: str, request: dict[str, Any]) -> None:
    """Creates the customization an Update/Get/Delete example acts on, from a file in S3."""
    uri_member = "VocabularyFilterFileUri" if "Filter" in operation else "VocabularyFileUri"
    create = {**request, "LanguageCode": "en-US", uri_member: f"s3://{BUCKET}/words.txt"}
    create.pop("VocabularyFilterFileUri" if uri_member == "VocabularyFileUri" else "VocabularyFileUri", None)
    seed_sources(sim, create)
    send(sim, operation, create)


# The customizations whose pages have Update, Get and Delete examples: (page suffix, Create operation).
CUSTOMIZATIONS = [("vocabulary", "CreateVocabulary"), ("medical-vocabulary", "CreateMedicalVocabulary"),
                  ("vocabulary-filter", "CreateVocabularyFilter")]


@pytest.mark.parametrize(("kind", "create"), CUSTOMIZATIONS)
def test_update_customization_examples(sim: Any, kind: str, create: str) -> None:
    """UpdateVocabulary and UpdateMedicalVocabulary answer without LastModifiedTime,
    UpdateVocabularyFilter with it. (The pages show VocabularyState PENDING; the simulator answers
    with the state the rebuild ends in, which tests/test_simulator_transcribe.py pins.)"""
    name = f"update-{kind}"
    example = recorded(name)
    request = runnable(example["request"])
    name_member = "VocabularyFilterName" if "Filter" in create else "VocabularyName"
    create_source(sim, create, {name_member: request[name_member]})
    seed_sources(sim, request)
    response = send(sim, page(name)["operation"], request)
    assert_same_shape(page(name)["operation"], response, example)


@pytest.mark.parametrize(("kind", "create"), CUSTOMIZATIONS)
def test_get_and_delete_customization_examples(sim: Any, kind: str, create: str) -> None:
    example = recorded(f"get-{kind}")
    request = runnable(example["request"])
    create_source(sim, create, request)
    response = send(sim, page(f"get-{kind}")["operation"], request)
    assert_same_shape(page(f"get-{kind}")["operation"], response, example)
    if "VocabularyState" in example["response"]:
        assert response["VocabularyState"] == example["response"]["VocabularyState"] == "READY"
    example = recorded(f"delete-{kind}")
    request = runnable(example["request"])
    create_source(sim, create, request)
    assert send(sim, page(f"delete-{kind}")["operation"], request) == example["response"] == {}


@pytest.mark.parametrize(("name", "create", "extra"), [("list-vocabularies", "CreateVocabulary", ["zz-sixth"]),
                                                       ("list-medical-vocabularies", "CreateMedicalVocabulary", [])])
def test_list_vocabularies_examples(sim: Any, name: str, create: str, extra: list[str]) -> None:
    """The same items and page (a NextToken after five). The pages list newest first; the
    simulator lists vocabularies by name, so items are compared by name, not position."""
    example = recorded(name)
    items = example["response"]["Vocabularies"]
    for vocabulary_name in [v["VocabularyName"] for v in items] + extra:
        create_source(sim, create, {"VocabularyName": vocabulary_name})
    response = send(sim, page(name)["operation"], runnable(example["request"]))
    assert_same_shape(page(name)["operation"], response, example)
    assert {v["VocabularyName"] for v in response["Vocabularies"]} == {v["VocabularyName"] for v in items}
    assert {v["VocabularyState"] for v in response["Vocabularies"]} == {v["VocabularyState"] for v in items} == {"READY"}


# --- language models --------------------------------------------------------------------------

@pytest.mark.parametrize("index", range(len(page("create-language-model")["examples"])))
def test_create_language_model_examples_return_prefixes_ending_in_a_slash(sim: Any, index: int) -> None:
    example, response = replay(sim, "create-language-model", index)
    assert_same_shape("CreateLanguageModel", response, example)
    assert response["ModelStatus"] == example["response"]["ModelStatus"] == "IN_PROGRESS"
    sent = runnable(example["request"])["InputDataConfig"]
    for member in ("S3Uri", "TuningDataS3Uri"):
        if member in sent:
            assert not sent[member].endswith("/") and example["response"]["InputDataConfig"][member].endswith("/")
            assert response["InputDataConfig"][member] == sent[member] + "/"


def test_a_prefix_given_with_its_slash_keeps_one(sim: Any) -> None:
    request = {"LanguageCode": "en-US", "BaseModelName": "WideBand", "ModelName": "with-slash",
               "InputDataConfig": {"S3Uri": f"s3://{BUCKET}/train/",
                                   "DataAccessRoleArn": f"arn:aws:iam::{ACCOUNT}:role/clm"}}
    seed_sources(sim, request)
    assert send(sim, "CreateLanguageModel", request)["InputDataConfig"]["S3Uri"] == f"s3://{BUCKET}/train/"


def create_model(sim: Any, name: str, base: str, config: dict[str, Any]) -> None:
    request = runnable({"LanguageCode": "en-US", "BaseModelName": base, "ModelName": name, "InputDataConfig": config})
    seed_sources(sim, request)
    send(sim, "CreateLanguageModel", request)


def test_describe_language_model_example(sim: Any) -> None:
    example = recorded("describe-language-model")
    model = example["response"]["LanguageModel"]
    create_model(sim, model["ModelName"], model["BaseModelName"], model["InputDataConfig"])
    response = send(sim, "DescribeLanguageModel", runnable(example["request"]))
    assert_same_shape("DescribeLanguageModel", response, example)
    got = response["LanguageModel"]
    assert got["UpgradeAvailability"] is model["UpgradeAvailability"] is False
    assert got["InputDataConfig"]["S3Uri"].endswith("/") and got["InputDataConfig"]["TuningDataS3Uri"].endswith("/")


def test_list_language_models_example(sim: Any) -> None:
    example = recorded("list-language-models")
    models = example["response"]["Models"]
    for model in reversed(models):  # oldest first: the page lists newest first
        create_model(sim, model["ModelName"], model["BaseModelName"], model["InputDataConfig"])
    response = send(sim, "ListLanguageModels", runnable(example["request"]))
    assert_same_shape("ListLanguageModels", response, example)
    assert [m["ModelName"] for m in response["Models"]] == [m["ModelName"] for m in models]
    for got, model in zip(response["Models"], models):
        assert structure(got) == structure(model_types(MODEL.shape_for("LanguageModel"), model)), model["ModelName"]


def test_delete_language_model_example(sim: Any) -> None:
    example = recorded("delete-language-model")
    request = runnable(example["request"])
    create_model(sim, request["ModelName"], "WideBand", {"S3Uri": f"s3://{BUCKET}/train",
                                                         "DataAccessRoleArn": f"arn:aws:iam::{ACCOUNT}:role/clm"})
    assert send(sim, "DeleteLanguageModel", request) == example["response"] == {}


# --- service-managed output, and how the rules read it ----------------------------------------

def test_service_managed_transcripts_share_one_presigned_folder_per_job(sim: Any) -> None:
    media = {"MediaFileUri": f"s3://{BUCKET}/call.wav"}
    seed_sources(sim, {"Media": media})
    send(sim, "StartTranscriptionJob", {
        "TranscriptionJobName": "both", "LanguageCode": "en-US", "Media": media,
        "ContentRedaction": {"RedactionType": "PII", "RedactionOutput": "redacted_and_unredacted"}})
    transcript = send(sim, "GetTranscriptionJob", {"TranscriptionJobName": "both"})["TranscriptionJob"]["Transcript"]
    assert service_uri("both").match(transcript["TranscriptFileUri"])
    assert service_uri("both", "redacted-asrOutput.json").match(transcript["RedactedTranscriptFileUri"])
    folders = {uri.split("?")[0].rsplit("/", 1)[0] for uri in transcript.values()}
    assert len(folders) == 1
    send(sim, "StartCallAnalyticsJob", {"CallAnalyticsJobName": "ca", "Media": media})
    analytics = send(sim, "GetCallAnalyticsJob", {"CallAnalyticsJobName": "ca"})["CallAnalyticsJob"]
    assert service_uri("ca").match(analytics["Transcript"]["TranscriptFileUri"])
    assert analytics["MediaFormat"] == "wav" and "Settings" not in analytics  # no Settings defaults for analytics


# The forms AWS has answered with: today's, and the older one on the global endpoint without the
# <uuid> folder (issue 15: "sometimes on s3.amazonaws.com"), and virtual-hosted.
SERVICE_URI_FORMS = [
    f"https://s3.{REGION}.amazonaws.com/aws-transcribe-{REGION}-prod/{ACCOUNT}/ca/"
    "0f6b7a52-5d43-4c3e-9b8a-2a0d1e3f4c5b/asrOutput.json?X-Amz-Security-Token=IQoJb3JpZ2lu%2F&X-Amz-Signature=ab",
    f"https://s3.amazonaws.com/aws-transcribe-{REGION}-prod/{ACCOUNT}/ca/asrOutput.json?X-Amz-Security-Token=FQoDYX",
    f"https://aws-transcribe-{REGION}-prod.s3.amazonaws.com/{ACCOUNT}/ca/asrOutput.json?X-Amz-Security-Token=FQoDYX",
]


@pytest.mark.parametrize("uri", SERVICE_URI_FORMS)
def test_every_service_uri_form_names_the_service_bucket(uri: str) -> None:
    assert bucket_of(uri) == f"aws-transcribe-{REGION}-prod" and is_service_bucket(bucket_of(uri))


@pytest.mark.parametrize("uri", SERVICE_URI_FORMS)
def test_rules_judge_every_service_uri_form_as_service_managed(sim: Any, uri: str) -> None:
    """A call analytics job is judged from its transcript URI (its summary has no
    OutputLocationType): each form is service-managed output, NON_COMPLIANT for both job rules."""
    media = {"MediaFileUri": f"s3://{BUCKET}/call.wav"}
    seed_sources(sim, {"Media": media})
    send(sim, "StartCallAnalyticsJob", {"CallAnalyticsJobName": "ca", "Media": media})
    sim.transcribe.records["analytics"]["ca"].fields["Transcript"] = {"TranscriptFileUri": uri}  # AWS's answer
    arn = f"arn:aws:transcribe:{REGION}:{ACCOUNT}:analytics/ca"
    for rule_class, annotation in [(TranscribeJobOutputLocation, "service-managed bucket; set OutputLocation"),
                                   (TranscribeJobOutputEncrypted, "service-managed bucket, which cannot use")]:
        rule = rule_class()
        [evaluation] = rule.evaluate_periodic({"accountId": ACCOUNT}, ClientFactory(None, assume_role_mode=False),
                                              rule.evaluate_parameters({}))
        assert (evaluation.complianceResourceId, evaluation.complianceType) == (arn, ComplianceType.NON_COMPLIANT)
        assert annotation in evaluation.annotation
