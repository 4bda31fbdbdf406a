"""The simulated Transcribe against botocore's model and the service's documented behaviour.

Every operation is called through a plain boto3 client and every parsed response is checked
with ``shapes.validate`` against the operation's output shape. The faithfulness tests pin the
behaviour the rules depend on: paging, which fields summaries and Get responses carry, where
job output lands in S3 and how it is encrypted, and the service's error codes.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Callable

import botocore.session
import pytest
from botocore.exceptions import ClientError

from transcribe_guard.simulator import SimulatorServer
from transcribe_guard.simulator.shapes import output_shape, project, validate
from transcribe_guard.simulator.transcribe import KINDS, SUPPORTED_OPERATIONS, transcribe_sim_backends

ACCOUNT = "123456789012"
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/TranscribeDataAccess"
SERVICE_BUCKET = f"aws-transcribe-{REGION}-prod"
MEDIA = "s3://media-bucket/calls/call-1.wav"
TRANSCRIBE_MODEL = botocore.session.get_session().get_service_model("transcribe")


def arn(kind: str, name: str) -> str:
    return f"arn:aws:transcribe:{REGION}:{ACCOUNT}:{kind}/{name}"


class Recorder:
    """A boto3 Transcribe client whose every response is validated against the model and
    whose operations are recorded, so a test can show it exercised all of them."""

    def __init__(self, client: Any):
        self.client = client
        self.called: set[str] = set()

    def __call__(self, method: str, **kwargs: Any) -> dict[str, Any]:
        operation = self.client.meta.method_to_api_mapping[method]
        response = getattr(self.client, method)(**kwargs)
        response.pop("ResponseMetadata", None)
        problems = validate(output_shape("transcribe", operation), response)
        assert problems == [], f"{operation}: {problems}"
        self.called.add(operation)
        return response


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


# --- seeding shared by the in-process and the HTTP tests -------------------------------------


def seed_prerequisites(client: Callable[..., Any]) -> dict[str, str]:
    """Buckets, media, customization sources and a KMS key (with an alias)."""
    s3 = client("s3")
    for bucket in ("media-bucket", "output-bucket", "custom-bucket"):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket="media-bucket", Key="calls/call-1.wav", Body=b"RIFF....WAVEfmt ")
    s3.put_object(Bucket="custom-bucket", Key="vocab/terms.txt", Body=b"Phrase\tDisplayAs\nkubernetes\t\n")
    s3.put_object(Bucket="custom-bucket", Key="filter/words.txt", Body=b"darn\n")
    s3.put_object(Bucket="custom-bucket", Key="clm/train/part-1.txt", Body=b"training text\n")
    s3.put_object(Bucket="custom-bucket", Key="clm/tune/part-1.txt", Body=b"tuning text\n")
    kms = client("kms")
    key = kms.create_key(Description="transcribe output")["KeyMetadata"]
    kms.create_alias(AliasName="alias/transcribe-output", TargetKeyId=key["KeyId"])
    return {"key_id": key["KeyId"], "key_arn": key["Arn"]}


CATEGORY_RULES = [{"TranscriptFilter": {"TranscriptFilterType": "EXACT", "Targets": ["cancel my account"],
                                        "ParticipantRole": "CUSTOMER", "Negate": False,
                                        "RelativeTimeRange": {"StartPercentage": 0, "EndPercentage": 50}}},
                  {"SentimentFilter": {"Sentiments": ["NEGATIVE"], "ParticipantRole": "CUSTOMER"}}]
TAGS = [{"Key": "team", "Value": "contact-center"}, {"Key": "data", "Value": "pii"}]


def seed_everything(call: Callable[..., dict[str, Any]], key_arn: str) -> None:
    """One resource of every kind, each with every setting the rules may read."""
    call("create_vocabulary", VocabularyName="terms", LanguageCode="en-US",
         VocabularyFileUri="s3://custom-bucket/vocab/terms.txt", DataAccessRoleArn=ROLE,
         EncryptionConfiguration={"KMSKey": key_arn, "KMSEncryptionContext": {"purpose": "vocab"}}, Tags=TAGS)
    call("create_medical_vocabulary", VocabularyName="med-terms", LanguageCode="en-US",
         VocabularyFileUri="s3://custom-bucket/vocab/terms.txt", Tags=TAGS)
    call("create_vocabulary_filter", VocabularyFilterName="profanity", LanguageCode="en-US",
         VocabularyFilterFileUri="s3://custom-bucket/filter/words.txt", DataAccessRoleArn=ROLE,
         EncryptionConfiguration={"KMSKey": key_arn}, Tags=TAGS)
    call("create_language_model", LanguageCode="en-US", BaseModelName="WideBand", ModelName="clm",
         InputDataConfig={"S3Uri": "s3://custom-bucket/clm/train/", "TuningDataS3Uri": "s3://custom-bucket/clm/tune/",
                          "DataAccessRoleArn": ROLE},
         EncryptionConfiguration={"KMSKey": key_arn}, Tags=TAGS)
    call("create_call_analytics_category", CategoryName="churn", Rules=CATEGORY_RULES, InputType="POST_CALL",
         Tags=TAGS)
    call("start_transcription_job", TranscriptionJobName="tx-job", LanguageCode="en-US", MediaFormat="wav",
         MediaSampleRateHertz=16000, Media={"MediaFileUri": MEDIA}, OutputBucketName="output-bucket",
         OutputKey="transcripts/", OutputEncryptionKMSKeyId=key_arn, KMSEncryptionContext={"team": "cc"},
         Settings={"VocabularyName": "terms", "ShowSpeakerLabels": True, "MaxSpeakerLabels": 2,
                   "VocabularyFilterName": "profanity", "VocabularyFilterMethod": "mask"},
         ModelSettings={"LanguageModelName": "clm"},
         JobExecutionSettings={"AllowDeferredExecution": True, "DataAccessRoleArn": ROLE},
         ContentRedaction={"RedactionType": "PII", "RedactionOutput": "redacted_and_unredacted",
                           "PiiEntityTypes": ["NAME", "SSN"]},
         Subtitles={"Formats": ["srt", "vtt"], "OutputStartIndex": 1},
         ToxicityDetection=[{"ToxicityCategories": ["ALL"]}], Tags=TAGS)
    call("start_medical_transcription_job", MedicalTranscriptionJobName="med-job", LanguageCode="en-US",
         MediaFormat="wav", MediaSampleRateHertz=16000, Media={"MediaFileUri": MEDIA},
         OutputBucketName="output-bucket", OutputKey="medical-out/", OutputEncryptionKMSKeyId=key_arn,
         Settings={"ShowSpeakerLabels": True, "MaxSpeakerLabels": 2, "VocabularyName": "med-terms"},
         ContentIdentificationType="PHI", Specialty="PRIMARYCARE", Type="CONVERSATION", Tags=TAGS)
    call("start_call_analytics_job", CallAnalyticsJobName="ca-job", Media={"RedactedMediaFileUri": MEDIA},
         OutputLocation="s3://output-bucket/analytics-out/", OutputEncryptionKMSKeyId=key_arn,
         DataAccessRoleArn=ROLE,
         Settings={"VocabularyName": "terms", "VocabularyFilterName": "profanity", "VocabularyFilterMethod": "tag",
                   "LanguageModelName": "clm",
                   "ContentRedaction": {"RedactionType": "PII", "RedactionOutput": "redacted"},
                   "Summarization": {"GenerateAbstractiveSummary": True}},
         ChannelDefinitions=[{"ChannelId": 0, "ParticipantRole": "AGENT"},
                             {"ChannelId": 1, "ParticipantRole": "CUSTOMER"}], Tags=TAGS)
    call("start_medical_scribe_job", MedicalScribeJobName="scribe-job", Media={"MediaFileUri": MEDIA},
         OutputBucketName="output-bucket", OutputEncryptionKMSKeyId=key_arn, KMSEncryptionContext={"a": "b"},
         DataAccessRoleArn=ROLE,
         Settings={"ShowSpeakerLabels": True, "MaxSpeakerLabels": 2,
                   "ClinicalNoteGenerationSettings": {"NoteTemplate": "HISTORY_AND_PHYSICAL"}},
         MedicalScribeContext={"PatientContext": {"Pronouns": "THEY_THEM"}}, Tags=TAGS)


# --- coverage of the model ------------------------------------------------------------------


def test_supported_operations_are_exactly_the_model_operations() -> None:
    assert len(SUPPORTED_OPERATIONS) == len(set(SUPPORTED_OPERATIONS))
    assert set(SUPPORTED_OPERATIONS) == set(TRANSCRIBE_MODEL.operation_names)


def test_every_operation_answers_with_its_output_shape(sim: Any) -> None:
    keys = seed_prerequisites(sim.client)
    call = Recorder(sim.client("transcribe"))
    seed_everything(call, keys["key_arn"])

    job = call("get_transcription_job", TranscriptionJobName="tx-job")["TranscriptionJob"]
    assert job["TranscriptionJobStatus"] == "COMPLETED"
    assert call("get_medical_transcription_job", MedicalTranscriptionJobName="med-job")[
        "MedicalTranscriptionJob"]["TranscriptionJobStatus"] == "COMPLETED"
    assert call("get_call_analytics_job", CallAnalyticsJobName="ca-job")[
        "CallAnalyticsJob"]["CallAnalyticsJobStatus"] == "COMPLETED"
    assert call("get_medical_scribe_job", MedicalScribeJobName="scribe-job")[
        "MedicalScribeJob"]["MedicalScribeJobStatus"] == "COMPLETED"
    assert call("get_vocabulary", VocabularyName="terms")["VocabularyState"] == "READY"
    assert call("get_medical_vocabulary", VocabularyName="med-terms")["VocabularyState"] == "READY"
    assert call("get_vocabulary_filter", VocabularyFilterName="profanity")["VocabularyFilterName"] == "profanity"
    assert call("describe_language_model", ModelName="clm")["LanguageModel"]["ModelStatus"] == "COMPLETED"
    assert call("get_call_analytics_category", CategoryName="churn")["CategoryProperties"]["Rules"] == CATEGORY_RULES

    for method, field in [("list_transcription_jobs", "TranscriptionJobSummaries"),
                          ("list_medical_transcription_jobs", "MedicalTranscriptionJobSummaries"),
                          ("list_call_analytics_jobs", "CallAnalyticsJobSummaries"),
                          ("list_medical_scribe_jobs", "MedicalScribeJobSummaries"),
                          ("list_vocabularies", "Vocabularies"), ("list_medical_vocabularies", "Vocabularies"),
                          ("list_vocabulary_filters", "VocabularyFilters"), ("list_language_models", "Models"),
                          ("list_call_analytics_categories", "Categories")]:
        assert len(call(method)[field]) == 1, method

    assert call("update_vocabulary", VocabularyName="terms", LanguageCode="en-US",
                Phrases=["kubernetes", "terraform"])["VocabularyState"] == "READY"
    assert call("update_medical_vocabulary", VocabularyName="med-terms", LanguageCode="en-US",
                VocabularyFileUri="s3://custom-bucket/vocab/terms.txt")["VocabularyState"] == "READY"
    assert call("update_vocabulary_filter", VocabularyFilterName="profanity",
                Words=["darn", "heck"])["VocabularyFilterName"] == "profanity"
    assert call("update_language_model", ModelName="clm", DataAccessRoleArn=ROLE,
                EncryptionConfiguration={"KMSKey": keys["key_arn"]})["ModelName"] == "clm"
    updated_rules = CATEGORY_RULES[:1]
    assert call("update_call_analytics_category", CategoryName="churn", Rules=updated_rules)[
        "CategoryProperties"]["Rules"] == updated_rules

    resource = arn("vocabulary", "terms")
    call("tag_resource", ResourceArn=resource, Tags=[{"Key": "owner", "Value": "ops"}])
    call("untag_resource", ResourceArn=resource, TagKeys=["data"])
    assert {t["Key"] for t in call("list_tags_for_resource", ResourceArn=resource)["Tags"]} == {"team", "owner"}

    for method, parameter, name in [("delete_transcription_job", "TranscriptionJobName", "tx-job"),
                                    ("delete_medical_transcription_job", "MedicalTranscriptionJobName", "med-job"),
                                    ("delete_call_analytics_job", "CallAnalyticsJobName", "ca-job"),
                                    ("delete_medical_scribe_job", "MedicalScribeJobName", "scribe-job"),
                                    ("delete_vocabulary", "VocabularyName", "terms"),
                                    ("delete_medical_vocabulary", "VocabularyName", "med-terms"),
                                    ("delete_vocabulary_filter", "VocabularyFilterName", "profanity"),
                                    ("delete_language_model", "ModelName", "clm"),
                                    ("delete_call_analytics_category", "CategoryName", "churn")]:
        assert call(method, **{parameter: name}) == {}

    assert call.called == set(TRANSCRIBE_MODEL.operation_names)


def test_one_pass_encoding_writes_what_motos_serializer_writes(sim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Responses are projected and serialized in one pass (shapes.json_encoder); for every
    operation with an output, moto's own serializer given the projected body writes the same."""
    from moto.core.responses import ActionResult

    from transcribe_guard.simulator import transcribe

    compared: set[str] = set()
    encoded = transcribe._EncodedResult.execute_result

    def both(self: Any, context: Any) -> Any:
        status, headers, body = encoded(self, context)
        shape = output_shape("transcribe", self.operation)
        moto_status, moto_headers, moto_body = ActionResult(project(shape, self.result)).execute_result(context)
        assert (status, headers, json.loads(body)) == (moto_status, moto_headers, json.loads(moto_body)), self.operation
        compared.add(self.operation)
        return status, headers, body

    monkeypatch.setattr(transcribe._EncodedResult, "execute_result", both)
    test_every_operation_answers_with_its_output_shape(sim)
    assert compared == {op for op in SUPPORTED_OPERATIONS if output_shape("transcribe", op) is not None}


def test_the_in_process_lane_answers_as_moto_does(sim: Any) -> None:
    """In-process requests are answered by the simulator's serving lane instead of moto's URL
    routing and werkzeug request; request by request, moto's own path answers the same status,
    headers (but the date and request id, new each time) and body, errors included."""
    from moto import settings as moto_settings
    from moto.core.models import botocore_stubber
    from moto.core.responses import ActionAuthenticatorMixin

    from transcribe_guard.simulator.transcribe import TranscribeSimResponse

    keys = seed_prerequisites(sim.client)
    seed_everything(Recorder(sim.client("transcribe")), keys["key_arn"])
    tx = sim.client("transcribe")
    prepared: list[Any] = []
    tx.meta.events.register_first("before-send.transcribe", lambda request, **_: prepared.append(request))
    resource = arn("transcription-job", "tx-job")
    tx.get_transcription_job(TranscriptionJobName="tx-job")
    tx.get_medical_scribe_job(MedicalScribeJobName="scribe-job")
    tx.describe_language_model(ModelName="clm")
    tx.get_call_analytics_category(CategoryName="churn")
    tx.list_call_analytics_jobs(MaxResults=2)
    tx.list_vocabularies(StateEquals="READY")
    tx.list_tags_for_resource(ResourceArn=resource)
    tx.tag_resource(ResourceArn=resource, Tags=[{"Key": "owner", "Value": "ops"}])  # the same again: same answer
    for call in (lambda: tx.get_transcription_job(TranscriptionJobName="missing"),
                 lambda: tx.get_vocabulary(VocabularyName="missing"),
                 lambda: tx.list_transcription_jobs(NextToken="not-a-token")):
        with pytest.raises(ClientError):
            call()
    assert len(prepared) == 11

    def comparable(status: int, headers: Any, body: bytes | str) -> tuple[int, dict[str, str], Any]:
        kept = {k.lower(): str(v) for k, v in dict(headers).items() if k.lower() not in ("date", "x-amzn-requestid")}
        return status, kept, json.loads(body)

    for request in prepared:
        lane = TranscribeSimResponse.answer_in_process(request)
        assert lane is not None, request.headers["X-Amz-Target"]
        moto = botocore_stubber.process_request(request)
        assert moto is not None
        assert comparable(lane.status_code, lane.headers, lane.content) == comparable(*moto), \
            request.headers["X-Amz-Target"]
        assert {"date", "x-amzn-requestid"} <= {k.lower() for k in lane.headers}

    # What the lane does not serve as moto would, it leaves to moto.
    saved = ActionAuthenticatorMixin.request_count
    original, moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = moto_settings.INITIAL_NO_AUTH_ACTION_COUNT, 10**9
    try:
        assert TranscribeSimResponse.answer_in_process(prepared[0]) is None  # IAM authorization on
    finally:
        moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = original
        ActionAuthenticatorMixin.request_count = saved
    with_query = copy.copy(prepared[0])
    with_query.url += "?x=1"
    assert TranscribeSimResponse.answer_in_process(with_query) is None


# --- what the backend holds versus what responses carry -------------------------------------

NAMES = {"transcription-job": "tx-job", "medical-transcription-job": "med-job", "analytics": "ca-job",
         "medical-scribe-job": "scribe-job", "vocabulary": "terms", "medical-vocabulary": "med-terms",
         "vocabulary-filter": "profanity", "language-model": "clm", "analytics-category": "churn"}

# Members a record keeps from its request that the Get shape does not define (request-only), by
# Get operation. Anything else that projection would drop is a field the simulator loses.
REQUEST_ONLY = {
    "GetTranscriptionJob": {"TranscriptionJob.OutputLocationType"},  # a summary-only member
    "GetMedicalTranscriptionJob": {"MedicalTranscriptionJob.OutputLocationType"},
    "GetMedicalScribeJob": {"MedicalScribeJob.MedicalScribeContext"},  # Get says only ...ContextProvided
    "GetVocabulary": {"VocabularyFileUri"},  # Get returns DownloadUri instead
    "GetMedicalVocabulary": {"VocabularyFileUri"},
    "GetVocabularyFilter": {"VocabularyFilterFileUri"},
}


def dropped_by_projection(shape: Any, value: Any, path: str = "") -> set[str]:
    """The member paths ``project`` would leave out of ``value``."""
    if shape is None:
        return {path or "<root>"}
    found: set[str] = set()
    if shape.type_name == "structure" and isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if item is None:
                continue
            if key not in shape.members:
                found.add(where)
            else:
                found |= dropped_by_projection(shape.members[key], item, where)
    elif shape.type_name == "list" and isinstance(value, list):
        for item in value:
            found |= dropped_by_projection(shape.member, item, f"{path}[]")
    elif shape.type_name == "map" and isinstance(value, dict):
        for item in value.values():
            found |= dropped_by_projection(shape.value, item, f"{path}{{}}")
    return found


def find_key(value: Any, wanted: str) -> bool:
    if isinstance(value, dict):
        return wanted in value or any(find_key(v, wanted) for v in value.values())
    if isinstance(value, list):
        return any(find_key(v, wanted) for v in value)
    return False


def test_projection_drops_only_request_only_members(sim: Any) -> None:
    keys = seed_prerequisites(sim.client)
    seed_everything(Recorder(sim.client("transcribe")), keys["key_arn"])
    backend = sim.transcribe
    for key, kind in KINDS.items():
        raw = backend.get(kind.get_op, kind, NAMES[key])
        shape = output_shape("transcribe", kind.get_op)
        assert dropped_by_projection(shape, raw) == REQUEST_ONLY.get(kind.get_op, set()), kind.get_op
        assert validate(shape, project(shape, raw)) == [], kind.get_op
        # A job's output settings are consumed, never stored where a response could leak them.
        if kind.is_job:
            (job,) = raw.values()
            for secret in ("OutputEncryptionKMSKeyId", "KMSEncryptionContext", "OutputBucketName", "OutputKey",
                           "OutputLocation"):
                assert secret not in job, (kind.get_op, secret)
        if kind.list_op:
            summary_shape = output_shape("transcribe", kind.list_op).members[kind.list_field].member
            summary = backend._view(backend.records[key][NAMES[key]])
            assert validate(summary_shape, project(summary_shape, summary)) == [], kind.list_op

    tx = sim.client("transcribe")
    job = tx.get_transcription_job(TranscriptionJobName="tx-job")["TranscriptionJob"]
    assert job["Tags"] == TAGS
    assert job["ContentRedaction"]["RedactionOutput"] == "redacted_and_unredacted"
    assert job["JobExecutionSettings"] == {"AllowDeferredExecution": True, "DataAccessRoleArn": ROLE}
    assert job["ModelSettings"] == {"LanguageModelName": "clm"}
    assert job["Settings"]["VocabularyFilterMethod"] == "mask"
    assert job["Subtitles"]["Formats"] == ["srt", "vtt"] and len(job["Subtitles"]["SubtitleFileUris"]) == 2
    analytics = tx.get_call_analytics_job(CallAnalyticsJobName="ca-job")["CallAnalyticsJob"]
    assert analytics["Settings"]["ContentRedaction"] == {"RedactionType": "PII", "RedactionOutput": "redacted"}
    assert analytics["DataAccessRoleArn"] == ROLE and analytics["Tags"] == TAGS
    assert len(analytics["ChannelDefinitions"]) == 2
    scribe = tx.get_medical_scribe_job(MedicalScribeJobName="scribe-job")["MedicalScribeJob"]
    assert scribe["MedicalScribeContextProvided"] is True and "MedicalScribeContext" not in scribe
    assert scribe["DataAccessRoleArn"] == ROLE and scribe["Tags"] == TAGS
    medical = tx.get_medical_transcription_job(MedicalTranscriptionJobName="med-job")["MedicalTranscriptionJob"]
    assert medical["ContentIdentificationType"] == "PHI" and medical["Tags"] == TAGS
    encryption = {"KMSKey": keys["key_arn"]}
    vocabulary = tx.get_vocabulary(VocabularyName="terms")
    assert vocabulary["DataAccessRoleArn"] == ROLE
    assert vocabulary["EncryptionConfiguration"] == {**encryption, "KMSEncryptionContext": {"purpose": "vocab"}}
    assert vocabulary["DownloadUri"].startswith(f"https://s3.{REGION}.amazonaws.com/{SERVICE_BUCKET}/")
    vocabulary_filter = tx.get_vocabulary_filter(VocabularyFilterName="profanity")
    assert vocabulary_filter["DataAccessRoleArn"] == ROLE and vocabulary_filter["EncryptionConfiguration"] == encryption
    model = tx.describe_language_model(ModelName="clm")["LanguageModel"]
    assert model["EncryptionConfiguration"] == encryption
    assert model["InputDataConfig"]["DataAccessRoleArn"] == ROLE
    assert tx.get_call_analytics_category(CategoryName="churn")["CategoryProperties"]["Tags"] == TAGS


# --- faithfulness ---------------------------------------------------------------------------

LIST_CALLS = [("list_transcription_jobs", "TranscriptionJobSummaries", "TranscriptionJobName"),
              ("list_medical_transcription_jobs", "MedicalTranscriptionJobSummaries", "MedicalTranscriptionJobName"),
              ("list_call_analytics_jobs", "CallAnalyticsJobSummaries", "CallAnalyticsJobName"),
              ("list_medical_scribe_jobs", "MedicalScribeJobSummaries", "MedicalScribeJobName"),
              ("list_vocabularies", "Vocabularies", "VocabularyName"),
              ("list_medical_vocabularies", "Vocabularies", "VocabularyName"),
              ("list_vocabulary_filters", "VocabularyFilters", "VocabularyFilterName"),
              ("list_language_models", "Models", "ModelName"),
              ("list_call_analytics_categories", "Categories", "CategoryName")]


def create_one(call: Callable[..., Any], kind: str, name: str) -> None:
    """A minimal resource of ``kind`` (media and sources as seeded by seed_prerequisites)."""
    if kind == "transcription-job":
        call("start_transcription_job", TranscriptionJobName=name, LanguageCode="en-US", Media={"MediaFileUri": MEDIA})
    elif kind == "medical-transcription-job":
        call("start_medical_transcription_job", MedicalTranscriptionJobName=name, LanguageCode="en-US",
             Media={"MediaFileUri": MEDIA}, OutputBucketName="output-bucket", Specialty="PRIMARYCARE",
             Type="DICTATION")
    elif kind == "analytics":
        call("start_call_analytics_job", CallAnalyticsJobName=name, Media={"MediaFileUri": MEDIA},
             DataAccessRoleArn=ROLE)
    elif kind == "medical-scribe-job":
        call("start_medical_scribe_job", MedicalScribeJobName=name, Media={"MediaFileUri": MEDIA},
             OutputBucketName="output-bucket", DataAccessRoleArn=ROLE,
             Settings={"ShowSpeakerLabels": True, "MaxSpeakerLabels": 2})
    elif kind == "vocabulary":
        call("create_vocabulary", VocabularyName=name, LanguageCode="en-US", Phrases=["kubernetes"])
    elif kind == "medical-vocabulary":
        call("create_medical_vocabulary", VocabularyName=name, LanguageCode="en-US",
             VocabularyFileUri="s3://custom-bucket/vocab/terms.txt")
    elif kind == "vocabulary-filter":
        call("create_vocabulary_filter", VocabularyFilterName=name, LanguageCode="en-US", Words=["darn"])
    elif kind == "language-model":
        call("create_language_model", LanguageCode="en-US", BaseModelName="NarrowBand", ModelName=name,
             InputDataConfig={"S3Uri": "s3://custom-bucket/clm/train/", "DataAccessRoleArn": ROLE})
    elif kind == "analytics-category":
        call("create_call_analytics_category", CategoryName=name, Rules=CATEGORY_RULES)
    else:
        raise AssertionError(kind)


KIND_ORDER = ["transcription-job", "medical-transcription-job", "analytics", "medical-scribe-job", "vocabulary",
              "medical-vocabulary", "vocabulary-filter", "language-model", "analytics-category"]


def test_every_list_defaults_to_five_a_page_and_pages_with_next_token(sim: Any) -> None:
    seed_prerequisites(sim.client)
    call = Recorder(sim.client("transcribe"))
    for kind in KIND_ORDER:
        for index in range(7):
            create_one(call, kind, f"{kind}-{index}")
    for (method, field, name_field), kind in zip(LIST_CALLS, KIND_ORDER):
        first = call(method)
        assert len(first[field]) == 5 and first.get("NextToken"), method
        second = call(method, NextToken=first["NextToken"])
        assert len(second[field]) == 2 and "NextToken" not in second, method
        names = [item[name_field] for item in first[field] + second[field]]
        assert sorted(names) == sorted(f"{kind}-{index}" for index in range(7)), method
        with pytest.raises(ClientError) as excinfo:  # a token is only good for the List that issued it
            other = "list_vocabularies" if method != "list_vocabularies" else "list_vocabulary_filters"
            getattr(sim.client("transcribe"), other)(NextToken=first["NextToken"])
        assert error_code(excinfo) == "BadRequestException"


def test_list_pages_up_to_100_newest_first(sim: Any) -> None:
    seed_prerequisites(sim.client)
    tx = sim.client("transcribe")
    sim.transcribe.hold_jobs = True  # nothing to write: keeps 205 starts cheap
    names = [f"job-{index:03d}" for index in range(205)]
    for name in names:
        tx.start_transcription_job(TranscriptionJobName=name, LanguageCode="en-US", Media={"MediaFileUri": MEDIA})
    pages: list[list[str]] = []
    kwargs: dict[str, Any] = {"MaxResults": 100}
    while True:
        page = tx.list_transcription_jobs(**kwargs)
        page.pop("ResponseMetadata")
        assert validate(output_shape("transcribe", "ListTranscriptionJobs"), page) == []
        pages.append([s["TranscriptionJobName"] for s in page["TranscriptionJobSummaries"]])
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert [len(p) for p in pages] == [100, 100, 5]
    assert [name for p in pages for name in p] == list(reversed(names))  # each once, newest first
    filtered = tx.list_transcription_jobs(JobNameContains="job-20", Status="IN_PROGRESS", MaxResults=100)
    assert filtered["Status"] == "IN_PROGRESS"
    assert [s["TranscriptionJobName"] for s in filtered["TranscriptionJobSummaries"]] == [
        f"job-20{d}" for d in range(4, -1, -1)]
    with pytest.raises(ClientError) as excinfo:
        tx.list_transcription_jobs(MaxResults=101)
    assert error_code(excinfo) == "BadRequestException"


def test_job_summaries_carry_output_location_redaction_and_phi(sim: Any) -> None:
    seed_prerequisites(sim.client)
    call = Recorder(sim.client("transcribe"))
    redaction = {"RedactionType": "PII", "RedactionOutput": "redacted"}
    call("start_transcription_job", TranscriptionJobName="customer", LanguageCode="en-US",
         Media={"MediaFileUri": MEDIA}, OutputBucketName="output-bucket", ContentRedaction=redaction)
    call("start_transcription_job", TranscriptionJobName="service", LanguageCode="en-US",
         Media={"MediaFileUri": MEDIA})
    summaries = {s["TranscriptionJobName"]: s for s in call("list_transcription_jobs")["TranscriptionJobSummaries"]}
    assert summaries["customer"]["OutputLocationType"] == "CUSTOMER_BUCKET"
    assert summaries["customer"]["ContentRedaction"] == redaction
    assert summaries["service"]["OutputLocationType"] == "SERVICE_BUCKET"
    assert "ContentRedaction" not in summaries["service"]
    call("start_medical_transcription_job", MedicalTranscriptionJobName="phi", LanguageCode="en-US",
         Media={"MediaFileUri": MEDIA}, OutputBucketName="output-bucket", Specialty="PRIMARYCARE",
         Type="CONVERSATION", ContentIdentificationType="PHI")
    (summary,) = call("list_medical_transcription_jobs")["MedicalTranscriptionJobSummaries"]
    assert summary["ContentIdentificationType"] == "PHI"
    assert summary["OutputLocationType"] == "CUSTOMER_BUCKET"
    assert summary["Specialty"] == "PRIMARYCARE" and summary["Type"] == "CONVERSATION"


def test_no_get_or_list_returns_the_output_kms_key(sim: Any) -> None:
    keys = seed_prerequisites(sim.client)
    call = Recorder(sim.client("transcribe"))
    seed_everything(call, keys["key_arn"])
    responses = [call("get_transcription_job", TranscriptionJobName="tx-job"),
                 call("get_medical_transcription_job", MedicalTranscriptionJobName="med-job"),
                 call("get_call_analytics_job", CallAnalyticsJobName="ca-job"),
                 call("get_medical_scribe_job", MedicalScribeJobName="scribe-job")]
    responses += [call(method) for method, _, _ in LIST_CALLS[:4]]
    for response in responses:
        assert not find_key(response, "OutputEncryptionKMSKeyId")
        assert not find_key(response, "KMSEncryptionContext")
        assert keys["key_arn"] not in repr(response) and keys["key_id"] not in repr(response)


def test_customization_tags_come_only_from_list_tags_for_resource(sim: Any) -> None:
    keys = seed_prerequisites(sim.client)
    call = Recorder(sim.client("transcribe"))
    seed_everything(call, keys["key_arn"])
    gets = {"vocabulary": call("get_vocabulary", VocabularyName="terms"),
            "medical-vocabulary": call("get_medical_vocabulary", VocabularyName="med-terms"),
            "vocabulary-filter": call("get_vocabulary_filter", VocabularyFilterName="profanity"),
            "language-model": call("describe_language_model", ModelName="clm")}
    lists = [call("list_vocabularies"), call("list_medical_vocabularies"), call("list_vocabulary_filters"),
             call("list_language_models")]
    for response in list(gets.values()) + lists:
        assert not find_key(response, "Tags")
    for kind in gets:
        assert call("list_tags_for_resource", ResourceArn=arn(kind, NAMES[kind]))["Tags"] == TAGS


def test_tagging_works_on_every_kind(sim: Any) -> None:
    seed_prerequisites(sim.client)
    call = Recorder(sim.client("transcribe"))
    for kind in KIND_ORDER:
        create_one(call, kind, f"{kind}-x")
        resource = arn(kind, f"{kind}-x")
        listed = call("list_tags_for_resource", ResourceArn=resource)
        assert listed["ResourceArn"] == resource and "Tags" not in listed  # no tags yet
        call("tag_resource", ResourceArn=resource, Tags=[{"Key": "env", "Value": "prod"}, {"Key": "x", "Value": ""}])
        call("tag_resource", ResourceArn=resource, Tags=[{"Key": "env", "Value": "dev"}])  # overwrites
        assert call("list_tags_for_resource", ResourceArn=resource)["Tags"] == [
            {"Key": "env", "Value": "dev"}, {"Key": "x", "Value": ""}]
        call("untag_resource", ResourceArn=resource, TagKeys=["x", "not-there"])
        assert call("list_tags_for_resource", ResourceArn=resource)["Tags"] == [{"Key": "env", "Value": "dev"}]
    job = call("get_transcription_job", TranscriptionJobName="transcription-job-x")["TranscriptionJob"]
    assert job["Tags"] == [{"Key": "env", "Value": "dev"}]  # jobs report TagResource tags in Get too
    tx = sim.client("transcribe")
    for bad_arn, code in [(arn("vocabulary", "missing"), "NotFoundException"),
                          (f"arn:aws:transcribe:{REGION}:999999999999:vocabulary/vocabulary-x", "BadRequestException")]:
        with pytest.raises(ClientError) as excinfo:
            tx.list_tags_for_resource(ResourceArn=bad_arn)
        assert error_code(excinfo) == code
    with pytest.raises(ClientError) as excinfo:
        tx.tag_resource(ResourceArn=arn("vocabulary", "vocabulary-x"), Tags=[{"Key": "aws:reserved", "Value": "v"}])
    assert error_code(excinfo) == "BadRequestException"


GETS = {"transcription-job": ("get_transcription_job", "TranscriptionJobName", "delete_transcription_job"),
        "medical-transcription-job": ("get_medical_transcription_job", "MedicalTranscriptionJobName",
                                      "delete_medical_transcription_job"),
        "analytics": ("get_call_analytics_job", "CallAnalyticsJobName", "delete_call_analytics_job"),
        "medical-scribe-job": ("get_medical_scribe_job", "MedicalScribeJobName", "delete_medical_scribe_job"),
        "vocabulary": ("get_vocabulary", "VocabularyName", "delete_vocabulary"),
        "medical-vocabulary": ("get_medical_vocabulary", "VocabularyName", "delete_medical_vocabulary"),
        "vocabulary-filter": ("get_vocabulary_filter", "VocabularyFilterName", "delete_vocabulary_filter"),
        "language-model": ("describe_language_model", "ModelName", "delete_language_model"),
        "analytics-category": ("get_call_analytics_category", "CategoryName", "delete_call_analytics_category")}


def test_delete_then_get_fails_with_the_service_error_codes(sim: Any) -> None:
    seed_prerequisites(sim.client)
    tx = sim.client("transcribe")
    call = Recorder(tx)
    for kind in KIND_ORDER:
        get, parameter, delete = GETS[kind]
        expected = "BadRequestException" if kind in ("transcription-job", "medical-transcription-job", "analytics",
                                                     "medical-scribe-job") else "NotFoundException"
        create_one(call, kind, "doomed")
        call(get, **{parameter: "doomed"})
        call(delete, **{parameter: "doomed"})
        for method in (get, delete):
            with pytest.raises(ClientError) as excinfo:
                getattr(tx, method)(**{parameter: "doomed"})
            assert error_code(excinfo) == expected, (kind, method)
        create_one(call, kind, "doomed")  # the name is free again


def test_duplicate_names_conflict(sim: Any) -> None:
    seed_prerequisites(sim.client)
    tx = sim.client("transcribe")
    for kind in KIND_ORDER:
        create_one(Recorder(tx), kind, "twice")
        with pytest.raises(ClientError) as excinfo:
            create_one(Recorder(tx), kind, "twice")
        assert error_code(excinfo) == "ConflictException", kind


def test_jobs_with_missing_media_fail_with_a_reason(sim: Any) -> None:
    seed_prerequisites(sim.client)
    sim.client("s3").delete_object(Bucket="media-bucket", Key="calls/call-1.wav")
    call = Recorder(sim.client("transcribe"))
    for kind in KIND_ORDER[:4]:
        create_one(call, kind, "no-media")
        get, parameter, _ = GETS[kind]
        (job,) = call(get, **{parameter: "no-media"}).values()
        status = job[KINDS[kind].status_field]
        assert status == "FAILED", kind
        assert "S3 URI" in job["FailureReason"]
        assert "Transcript" not in job and "MedicalScribeOutput" not in job
    assert "Contents" not in sim.client("s3").list_objects_v2(Bucket="output-bucket")


# --- output objects in S3 -------------------------------------------------------------------


def objects(sim: Any, bucket: str) -> dict[str, dict[str, Any]]:
    """Every object in ``bucket`` with its HeadObject response."""
    s3 = sim.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {key: s3.head_object(Bucket=bucket, Key=key) for key in keys}


def https(bucket: str, key: str) -> str:
    return f"https://s3.{REGION}.amazonaws.com/{bucket}/{key}"


@pytest.mark.parametrize("key_form", ["key_id", "key_arn", "alias/transcribe-output", "alias_arn"])
def test_output_is_sse_kms_with_the_requested_key(sim: Any, key_form: str) -> None:
    keys = seed_prerequisites(sim.client)
    requested = {"key_id": keys["key_id"], "key_arn": keys["key_arn"],
                 "alias_arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/transcribe-output"}.get(key_form, key_form)
    tx = sim.client("transcribe")
    tx.start_transcription_job(TranscriptionJobName="kms-job", LanguageCode="en-US", Media={"MediaFileUri": MEDIA},
                               OutputBucketName="output-bucket", OutputKey="out/",
                               OutputEncryptionKMSKeyId=requested)
    job = tx.get_transcription_job(TranscriptionJobName="kms-job")["TranscriptionJob"]
    assert job["Transcript"] == {"TranscriptFileUri": https("output-bucket", "out/kms-job.json")}
    written = objects(sim, "output-bucket")
    assert list(written) == ["out/kms-job.json"]
    assert written["out/kms-job.json"]["ServerSideEncryption"] == "aws:kms"
    assert written["out/kms-job.json"]["SSEKMSKeyId"] == keys["key_arn"]


def test_output_without_a_key_follows_the_bucket_default_encryption(sim: Any) -> None:
    keys = seed_prerequisites(sim.client)
    s3 = sim.client("s3")
    kms_bucket_key = sim.client("kms").create_key()["KeyMetadata"]["Arn"]
    s3.create_bucket(Bucket="sse-s3-bucket")
    s3.put_bucket_encryption(Bucket="sse-s3-bucket", ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    s3.create_bucket(Bucket="sse-kms-bucket")
    s3.put_bucket_encryption(Bucket="sse-kms-bucket", ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_bucket_key},
                   "BucketKeyEnabled": True}]})
    tx = sim.client("transcribe")
    for bucket in ("sse-s3-bucket", "sse-kms-bucket"):
        tx.start_transcription_job(TranscriptionJobName=f"job-{bucket}", LanguageCode="en-US",
                                   Media={"MediaFileUri": MEDIA}, OutputBucketName=bucket)
    (sse_s3,) = objects(sim, "sse-s3-bucket").values()
    assert sse_s3["ServerSideEncryption"] == "AES256" and "SSEKMSKeyId" not in sse_s3
    (sse_kms,) = objects(sim, "sse-kms-bucket").values()
    assert sse_kms["ServerSideEncryption"] == "aws:kms" and sse_kms["SSEKMSKeyId"] == kms_bucket_key
    # A requested key wins over the bucket's default key.
    tx.start_transcription_job(TranscriptionJobName="explicit", LanguageCode="en-US", Media={"MediaFileUri": MEDIA},
                               OutputBucketName="sse-kms-bucket", OutputEncryptionKMSKeyId=keys["key_arn"])
    assert objects(sim, "sse-kms-bucket")["explicit.json"]["SSEKMSKeyId"] == keys["key_arn"]


@pytest.mark.parametrize("output, expected", [
    ("redacted_and_unredacted", {"RedactedTranscriptFileUri": "redacted-red.json", "TranscriptFileUri": "red.json"}),
    ("redacted", {"RedactedTranscriptFileUri": "redacted-red.json"}),
])
def test_redaction_output_decides_which_transcripts_are_written(sim: Any, output: str,
                                                                 expected: dict[str, str]) -> None:
    keys = seed_prerequisites(sim.client)
    tx = sim.client("transcribe")
    tx.start_transcription_job(TranscriptionJobName="red", LanguageCode="en-US", Media={"MediaFileUri": MEDIA},
                               OutputBucketName="output-bucket", OutputEncryptionKMSKeyId=keys["key_arn"],
                               ContentRedaction={"RedactionType": "PII", "RedactionOutput": output})
    job = tx.get_transcription_job(TranscriptionJobName="red")["TranscriptionJob"]
    assert job["Transcript"] == {field: https("output-bucket", key) for field, key in expected.items()}
    written = objects(sim, "output-bucket")
    assert set(written) == set(expected.values())
    assert all(head["SSEKMSKeyId"] == keys["key_arn"] for head in written.values())


@pytest.mark.parametrize("output_key, expected", [
    ("my-transcript.json", "my-transcript.json"),
    ("my-transcript", "my-transcript/named.json"),
    ("test-files/my-transcript.json", "test-files/my-transcript.json"),
    ("test-files/my-transcript", "test-files/my-transcript/named.json"),
    ("test-files/", "test-files/named.json"),
])
def test_output_key_names_a_folder_or_a_file_as_documented(sim: Any, output_key: str, expected: str) -> None:
    seed_prerequisites(sim.client)
    tx = sim.client("transcribe")
    tx.start_transcription_job(TranscriptionJobName="named", LanguageCode="en-US", Media={"MediaFileUri": MEDIA},
                               OutputBucketName="output-bucket", OutputKey=output_key)
    job = tx.get_transcription_job(TranscriptionJobName="named")["TranscriptionJob"]
    assert job["Transcript"]["TranscriptFileUri"] == https("output-bucket", expected)
    assert list(objects(sim, "output-bucket")) == [expected]


def test_service_bucket_jobs_write_nothing_to_customer_buckets(sim: Any) -> None:
    seed_prerequisites(sim.client)
    call = Recorder(sim.client("transcribe"))
    call("start_transcription_job", TranscriptionJobName="svc", LanguageCode="en-US", Media={"MediaFileUri": MEDIA},
         ContentRedaction={"RedactionType": "PII", "RedactionOutput": "redacted_and_unredacted"},
         Subtitles={"Formats": ["srt"]})
    call("start_call_analytics_job", CallAnalyticsJobName="svc-ca", Media={"MediaFileUri": MEDIA},
         DataAccessRoleArn=ROLE)
    job = call("get_transcription_job", TranscriptionJobName="svc")["TranscriptionJob"]
    analytics = call("get_call_analytics_job", CallAnalyticsJobName="svc-ca")["CallAnalyticsJob"]
    uris = list(job["Transcript"].values()) + job["Subtitles"]["SubtitleFileUris"] + list(
        analytics["Transcript"].values())
    assert len(uris) == 4
    for uri in uris:
        assert uri.startswith(f"https://s3.{REGION}.amazonaws.com/{SERVICE_BUCKET}/{ACCOUNT}/")
        assert "X-Amz-Signature=" in uri  # presigned
    s3 = sim.client("s3")
    assert sorted(b["Name"] for b in s3.list_buckets()["Buckets"]) == ["custom-bucket", "media-bucket",
                                                                         "output-bucket"]
    assert "Contents" not in s3.list_objects_v2(Bucket="output-bucket")
    with pytest.raises(ClientError):  # not even a bucket of that name exists in the account
        s3.head_bucket(Bucket=SERVICE_BUCKET)


def test_call_analytics_writes_transcript_and_redacted_media(sim: Any) -> None:
    """StartCallAnalyticsJob: "you can redact the audio contained in your media file by including
    RedactedMediaFileUri, instead of MediaFileUri, to specify the location of your input audio ...
    you can find your redacted media at the location specified in the RedactedMediaFileUri field
    of your response"."""
    keys = seed_prerequisites(sim.client)
    call = Recorder(sim.client("transcribe"))
    redaction = {"ContentRedaction": {"RedactionType": "PII", "RedactionOutput": "redacted_and_unredacted"}}
    call("start_call_analytics_job", CallAnalyticsJobName="ca", DataAccessRoleArn=ROLE,
         Media={"RedactedMediaFileUri": MEDIA}, OutputLocation="s3://output-bucket/analytics-out/",
         OutputEncryptionKMSKeyId="alias/transcribe-output", Settings=redaction)
    job = call("get_call_analytics_job", CallAnalyticsJobName="ca")["CallAnalyticsJob"]
    assert job["CallAnalyticsJobStatus"] == "COMPLETED"
    assert job["Transcript"] == {"TranscriptFileUri": https("output-bucket", "analytics-out/ca.json"),
                                 "RedactedTranscriptFileUri": https("output-bucket", "analytics-out/redacted-ca.json")}
    assert job["Media"] == {"MediaFileUri": MEDIA,
                            "RedactedMediaFileUri": https("output-bucket", "analytics-out/redacted-ca.wav")}
    written = objects(sim, "output-bucket")
    assert set(written) == {"analytics-out/ca.json", "analytics-out/redacted-ca.json", "analytics-out/redacted-ca.wav"}
    assert {head["SSEKMSKeyId"] for head in written.values()} == {keys["key_arn"]}
    assert sim.client("s3").get_object(Bucket="output-bucket", Key="analytics-out/redacted-ca.wav")[
        "Body"].read().startswith(b"RIFF")
    # Without redacted audio there is no audio output; a file name in OutputLocation is used as is.
    call("start_call_analytics_job", CallAnalyticsJobName="ca-file", DataAccessRoleArn=ROLE,
         Media={"MediaFileUri": MEDIA}, OutputLocation="s3://output-bucket/named/my-call.json")
    job = call("get_call_analytics_job", CallAnalyticsJobName="ca-file")["CallAnalyticsJob"]
    assert job["Transcript"] == {"TranscriptFileUri": https("output-bucket", "named/my-call.json")}
    assert job["Media"] == {"MediaFileUri": MEDIA}
    assert [k for k in objects(sim, "output-bucket") if k.startswith("named/")] == ["named/my-call.json"]
    # Service bucket: the redacted audio is there too, nothing lands in customer buckets.
    call("start_call_analytics_job", CallAnalyticsJobName="ca-svc", DataAccessRoleArn=ROLE,
         Media={"RedactedMediaFileUri": MEDIA}, Settings=redaction)
    media = call("get_call_analytics_job", CallAnalyticsJobName="ca-svc")["CallAnalyticsJob"]["Media"]
    assert media["RedactedMediaFileUri"].startswith(f"https://s3.{REGION}.amazonaws.com/{SERVICE_BUCKET}/")
    assert len(objects(sim, "output-bucket")) == 4
    tx = sim.client("transcribe")
    with pytest.raises(ClientError) as excinfo:  # redacting audio needs PII redaction settings
        tx.start_call_analytics_job(CallAnalyticsJobName="ca-bad", DataAccessRoleArn=ROLE,
                                    Media={"RedactedMediaFileUri": MEDIA})
    assert error_code(excinfo) == "BadRequestException"
    with pytest.raises(ClientError) as excinfo:  # "only supported for Call Analytics"
        tx.start_transcription_job(TranscriptionJobName="tx-bad", LanguageCode="en-US",
                                   Media={"MediaFileUri": MEDIA, "RedactedMediaFileUri": MEDIA})
    assert error_code(excinfo) == "BadRequestException"
    # Missing redacted-media input fails the job like missing media.
    call("start_call_analytics_job", CallAnalyticsJobName="ca-missing", DataAccessRoleArn=ROLE,
         Media={"RedactedMediaFileUri": "s3://media-bucket/calls/none.wav"}, Settings=redaction)
    assert call("get_call_analytics_job", CallAnalyticsJobName="ca-missing")["CallAnalyticsJob"][
        "CallAnalyticsJobStatus"] == "FAILED"


def test_medical_scribe_writes_transcript_and_clinical_document(sim: Any) -> None:
    keys = seed_prerequisites(sim.client)
    call = Recorder(sim.client("transcribe"))
    call("start_medical_scribe_job", MedicalScribeJobName="visit", Media={"MediaFileUri": MEDIA},
         OutputBucketName="output-bucket", OutputEncryptionKMSKeyId=keys["key_id"], DataAccessRoleArn=ROLE,
         Settings={"ChannelIdentification": True},
         ChannelDefinitions=[{"ChannelId": 0, "ParticipantRole": "CLINICIAN"},
                             {"ChannelId": 1, "ParticipantRole": "PATIENT"}])
    job = call("get_medical_scribe_job", MedicalScribeJobName="visit")["MedicalScribeJob"]
    output = job["MedicalScribeOutput"]
    written = objects(sim, "output-bucket")
    assert len(written) == 2
    assert {https("output-bucket", key) for key in written} == {output["TranscriptFileUri"],
                                                                output["ClinicalDocumentUri"]}
    assert {head["SSEKMSKeyId"] for head in written.values()} == {keys["key_arn"]}
    assert job["MedicalScribeContextProvided"] is False


def test_medical_transcription_output_goes_to_the_medical_folder(sim: Any) -> None:
    seed_prerequisites(sim.client)
    call = Recorder(sim.client("transcribe"))
    create_one(call, "medical-transcription-job", "dictation")
    job = call("get_medical_transcription_job", MedicalTranscriptionJobName="dictation")["MedicalTranscriptionJob"]
    assert job["Transcript"] == {"TranscriptFileUri": https("output-bucket", "medical/dictation.json")}
    assert list(objects(sim, "output-bucket")) == ["medical/dictation.json"]


def test_held_jobs_stay_in_progress_until_completed(sim: Any) -> None:
    seed_prerequisites(sim.client)
    call = Recorder(sim.client("transcribe"))
    sim.transcribe.hold_jobs = True
    for kind in KIND_ORDER[:4]:
        create_one(call, kind, "held")
    for kind in KIND_ORDER[:4]:
        get, parameter, _ = GETS[kind]
        (job,) = call(get, **{parameter: "held"}).values()
        assert job[KINDS[kind].status_field] == "IN_PROGRESS", kind
        assert "CompletionTime" not in job and "Transcript" not in job
    assert call("list_transcription_jobs", Status="IN_PROGRESS")["TranscriptionJobSummaries"][0][
        "TranscriptionJobName"] == "held"
    assert "Contents" not in sim.client("s3").list_objects_v2(Bucket="output-bucket")
    assert sim.transcribe.complete_held_jobs() == 4
    assert sim.transcribe.complete_held_jobs() == 0
    for kind in KIND_ORDER[:4]:
        get, parameter, _ = GETS[kind]
        (job,) = call(get, **{parameter: "held"}).values()
        assert job[KINDS[kind].status_field] == "COMPLETED", kind
        assert "CompletionTime" in job
    assert len(objects(sim, "output-bucket")) == 3  # medical transcript, scribe transcript + document
    sim.transcribe.hold_jobs = False
    create_one(call, "transcription-job", "not-held")
    assert call("get_transcription_job", TranscriptionJobName="not-held")["TranscriptionJob"][
        "TranscriptionJobStatus"] == "COMPLETED"


def test_update_overwrites_sources_and_encryption(sim: Any) -> None:
    keys = seed_prerequisites(sim.client)
    call = Recorder(sim.client("transcribe"))
    seed_everything(call, keys["key_arn"])
    # File to inline phrases: allowed, and the vocabulary's encryption settings are replaced.
    call("update_vocabulary", VocabularyName="terms", LanguageCode="en-US", Phrases=["kubernetes"])
    vocabulary = call("get_vocabulary", VocabularyName="terms")
    assert "EncryptionConfiguration" not in vocabulary and "DataAccessRoleArn" not in vocabulary
    call("update_vocabulary", VocabularyName="terms", LanguageCode="en-US",
         VocabularyFileUri="s3://custom-bucket/vocab/terms.txt", DataAccessRoleArn=ROLE,
         EncryptionConfiguration={"KMSKey": keys["key_arn"]})
    assert call("get_vocabulary", VocabularyName="terms")["EncryptionConfiguration"] == {"KMSKey": keys["key_arn"]}
    call("update_vocabulary_filter", VocabularyFilterName="profanity", Words=["heck"])
    assert "EncryptionConfiguration" not in call("get_vocabulary_filter", VocabularyFilterName="profanity")
    call("update_language_model", ModelName="clm")
    model = call("describe_language_model", ModelName="clm")["LanguageModel"]
    assert "EncryptionConfiguration" not in model and model["InputDataConfig"]["DataAccessRoleArn"] == ROLE
    # A missing source file fails the vocabulary; a later good update makes it READY again.
    failed = call("update_medical_vocabulary", VocabularyName="med-terms", LanguageCode="en-US",
                  VocabularyFileUri="s3://custom-bucket/vocab/missing.txt")
    assert failed["VocabularyState"] == "FAILED"
    assert call("get_medical_vocabulary", VocabularyName="med-terms")["FailureReason"]
    call("update_medical_vocabulary", VocabularyName="med-terms", LanguageCode="en-US",
         VocabularyFileUri="s3://custom-bucket/vocab/terms.txt")
    assert "FailureReason" not in call("get_medical_vocabulary", VocabularyName="med-terms")
    tx = sim.client("transcribe")
    for method, kwargs in [
        ("update_vocabulary", {"VocabularyName": "terms", "LanguageCode": "en-US", "Phrases": ["a"],
                               "VocabularyFileUri": "s3://custom-bucket/vocab/terms.txt"}),
        ("update_language_model", {"ModelName": "clm", "EncryptionConfiguration": {"KMSKey": keys["key_id"]}}),
        ("create_vocabulary", {"VocabularyName": "by-id", "LanguageCode": "en-US",
                               "VocabularyFileUri": "s3://custom-bucket/vocab/terms.txt",
                               "EncryptionConfiguration": {"KMSKey": "alias/transcribe-output"}}),
        ("update_call_analytics_category", {"CategoryName": "churn", "Rules": CATEGORY_RULES,
                                            "InputType": "REAL_TIME"}),
    ]:
        with pytest.raises(ClientError) as excinfo:
            getattr(tx, method)(**kwargs)
        assert error_code(excinfo) == "BadRequestException", method


# --- the HTTP server ------------------------------------------------------------------------


def test_the_http_server_behaves_like_the_in_process_simulator() -> None:
    server = SimulatorServer(port=0).start()
    try:
        assert server.url.startswith("http://127.0.0.1:") and server.port
        keys = seed_prerequisites(server.client)
        call = Recorder(server.client("transcribe"))
        seed_everything(call, keys["key_arn"])
        job = call("get_transcription_job", TranscriptionJobName="tx-job")["TranscriptionJob"]
        assert job["TranscriptionJobStatus"] == "COMPLETED" and job["Tags"] == TAGS
        assert job["Transcript"]["RedactedTranscriptFileUri"] == https("output-bucket",
                                                                        "transcripts/redacted-tx-job.json")
        (summary,) = call("list_transcription_jobs")["TranscriptionJobSummaries"]
        assert summary["OutputLocationType"] == "CUSTOMER_BUCKET"
        assert call("get_call_analytics_job", CallAnalyticsJobName="ca-job")["CallAnalyticsJob"]["Settings"][
            "ContentRedaction"]["RedactionOutput"] == "redacted"
        assert call("get_vocabulary", VocabularyName="terms")["EncryptionConfiguration"]["KMSKey"] == keys["key_arn"]
        assert call("list_tags_for_resource", ResourceArn=arn("language-model", "clm"))["Tags"] == TAGS
        s3 = server.client("s3")
        head = s3.head_object(Bucket="output-bucket", Key="transcripts/tx-job.json")
        assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == keys["key_arn"]
        tx = server.client("transcribe")
        with pytest.raises(ClientError) as excinfo:
            tx.get_transcription_job(TranscriptionJobName="missing")
        assert error_code(excinfo) == "BadRequestException"
        with pytest.raises(ClientError) as excinfo:
            tx.get_vocabulary(VocabularyName="missing")
        assert error_code(excinfo) == "NotFoundException"
        backend = transcribe_sim_backends[ACCOUNT][REGION]  # the server runs in this process
        backend.hold_jobs = True
        try:
            create_one(call, "transcription-job", "held-over-http")
            assert call("get_transcription_job", TranscriptionJobName="held-over-http")["TranscriptionJob"][
                "TranscriptionJobStatus"] == "IN_PROGRESS"
            assert backend.complete_held_jobs() == 1
        finally:
            backend.hold_jobs = False
        assert call("get_transcription_job", TranscriptionJobName="held-over-http")["TranscriptionJob"][
            "TranscriptionJobStatus"] == "COMPLETED"
    finally:
        server.stop()
