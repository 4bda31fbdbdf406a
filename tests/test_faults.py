"""The fault injection of the simulator (transcribe_guard/simulator/faults.py), and the rule-side
fixes the fault matrix led to: transport failures reported as "Could not evaluate", a resource
deleted during the run reported NOT_APPLICABLE, a response lacking a member failing closed."""

from __future__ import annotations

from typing import Any, Iterator

import botocore.session
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from rdklib import ClientFactory, ComplianceType, Evaluation

from rules.engine.base import RunContext, TranscribeGuardRule, fail_closed
from rules.inventory.transcribe import TRANSCRIPTION_JOB, VOCABULARY, ResourceGone, TranscribeInventory, gone
from tests.fault_support import fast_simulation
from tests.helpers import ACCOUNT, put_media
from transcribe_guard.simulator import Simulator, SimulatorServer, faults


@pytest.fixture(scope="module", autouse=True)
def instant_retries() -> Iterator[Any]:
    with fast_simulation() as backoff:
        yield backoff


@pytest.fixture
def account(sim: Any) -> Iterator[Any]:
    put_media(sim, "media", ["a.wav"])
    transcribe = sim.client("transcribe")
    for name in ("job-1", "job-2"):
        transcribe.start_transcription_job(TranscriptionJobName=name, LanguageCode="en-US",
                                           Media={"MediaFileUri": "s3://media/a.wav"})
    transcribe.create_vocabulary(VocabularyName="terms", LanguageCode="en-US", Phrases=["Acme"])
    yield sim
    faults.clear()


def code_of(call: Any) -> tuple[str, int, int]:
    with pytest.raises(ClientError) as raised:
        call()
    metadata = raised.value.response["ResponseMetadata"]
    return raised.value.response["Error"]["Code"], metadata["HTTPStatusCode"], metadata.get("RetryAttempts", 0)


# --- errors as each service sends them -----------------------------------------------------------

@pytest.mark.parametrize("service, kind, expected", [
    ("transcribe", faults.THROTTLING, ("LimitExceededException", 429)),
    ("transcribe", faults.INTERNAL_ERROR, ("InternalFailureException", 500)),
    ("transcribe", faults.ACCESS_DENIED, ("AccessDeniedException", 400)),
    ("s3", faults.THROTTLING, ("SlowDown", 503)),
    ("s3", faults.ACCESS_DENIED, ("AccessDenied", 403)),
    ("iam", faults.THROTTLING, ("Throttling", 400)),
    ("iam", faults.INTERNAL_ERROR, ("ServiceFailure", 500)),
    ("iam", faults.ACCESS_DENIED, ("AccessDenied", 403)),
    ("ec2", faults.THROTTLING, ("RequestLimitExceeded", 503)),
    ("ec2", faults.ACCESS_DENIED, ("UnauthorizedOperation", 403)),
    ("ec2", faults.SERVICE_UNAVAILABLE, ("Unavailable", 503)),
    ("organizations", faults.THROTTLING, ("TooManyRequestsException", 400)),
    ("cloudwatch", faults.THROTTLING, ("Throttling", 400)),
    ("cloudtrail", faults.THROTTLING, ("ThrottlingException", 400)),
    ("config", faults.SERVICE_UNAVAILABLE, ("ServiceUnavailable", 503)),
    ("logs", faults.SERVICE_UNAVAILABLE, ("ServiceUnavailableException", 503)),
])
def test_each_service_gets_its_own_error(service: str, kind: str, expected: tuple[str, int]) -> None:
    assert faults.error_for(kind, botocore.session.get_session().get_service_model(service)) == expected


@pytest.mark.parametrize("service, operation, call", [
    ("transcribe", "ListVocabularies", lambda sim: sim.client("transcribe").list_vocabularies()),
    ("s3", "GetBucketEncryption", lambda sim: sim.client("s3").get_bucket_encryption(Bucket="media")),
    ("iam", "ListRoles", lambda sim: sim.client("iam").list_roles()),
    ("ec2", "DescribeVpcs", lambda sim: sim.client("ec2").describe_vpcs()),
    ("config", "DescribeConfigurationRecorders", lambda sim: sim.client("config").describe_configuration_recorders()),
])
def test_error_responses_parse_and_retry_as_from_aws(account: Any, service: str, operation: str, call: Any) -> None:
    model = botocore.session.get_session().get_service_model(service)
    for kind, attempts in ((faults.THROTTLING, 4), (faults.INTERNAL_ERROR, 4), (faults.ACCESS_DENIED, 0)):
        fault = faults.inject(kind, operation)
        assert code_of(lambda: call(account)) == (*faults.error_for(kind, model), attempts)
        assert fault.hits == attempts + 1
        faults.clear()


def test_a_head_request_gets_no_body_so_the_code_is_the_status(account: Any) -> None:
    faults.inject(faults.ACCESS_DENIED, "HeadBucket")
    assert code_of(lambda: account.client("s3").head_bucket(Bucket="media"))[:2] == ("403", 403)


def test_timeouts_are_raised_on_the_client_side_and_retried(account: Any) -> None:
    fault = faults.inject(faults.READ_TIMEOUT, "ListVocabularies")
    with pytest.raises(ReadTimeoutError):
        account.client("transcribe").list_vocabularies()
    assert fault.hits == 5  # AWS_MAX_ATTEMPTS


def test_a_transient_fault_is_retried_away_and_a_faulted_request_never_reaches_the_backend(account: Any) -> None:
    transcribe = account.client("transcribe")
    fault = faults.inject(faults.THROTTLING, "CreateVocabulary", times=2)
    response = transcribe.create_vocabulary(VocabularyName="more", LanguageCode="en-US", Phrases=["Zed"])
    assert fault.hits == 2 and response["ResponseMetadata"]["RetryAttempts"] == 2
    assert [v["VocabularyName"] for v in transcribe.list_vocabularies()["Vocabularies"]].count("more") == 1


def test_a_fault_matches_one_resource_by_any_request_value(account: Any) -> None:
    transcribe = account.client("transcribe")
    fault = faults.inject(faults.ACCESS_DENIED, "GetTranscriptionJob", service="transcribe", resource="job-1")
    assert transcribe.get_transcription_job(TranscriptionJobName="job-2")["TranscriptionJob"]
    assert code_of(lambda: transcribe.get_transcription_job(TranscriptionJobName="job-1"))[0] == "AccessDeniedException"
    assert fault.hits == 1
    faults.inject(faults.ACCESS_DENIED, "GetTranscriptionJob", service="s3")  # another service: no effect
    assert transcribe.get_transcription_job(TranscriptionJobName="job-2")["TranscriptionJob"]


def test_missing_field_drops_the_member_in_every_list_item(account: Any) -> None:
    transcribe = account.client("transcribe")
    faults.inject(faults.MISSING_FIELD, "ListTranscriptionJobs", field="TranscriptionJobSummaries[].TranscriptionJobStatus")
    faults.inject(faults.MISSING_FIELD, "GetTranscriptionJob", field="TranscriptionJob.Media.MediaFileUri")
    summaries = transcribe.list_transcription_jobs()["TranscriptionJobSummaries"]
    assert len(summaries) == 2 and not any("TranscriptionJobStatus" in s for s in summaries)
    job = transcribe.get_transcription_job(TranscriptionJobName="job-1")["TranscriptionJob"]
    assert job["Media"] == {} and job["TranscriptionJobName"] == "job-1"


def test_deleted_after_list_deletes_once_right_after_the_list(account: Any) -> None:
    transcribe = account.client("transcribe")
    fault = faults.inject(faults.DELETED_AFTER_LIST, "ListTranscriptionJobs", resource="job-2")
    assert {s["TranscriptionJobName"] for s in transcribe.list_transcription_jobs()["TranscriptionJobSummaries"]} == \
        {"job-1", "job-2"}
    with pytest.raises(ClientError, match="couldn't be found"):
        transcribe.get_transcription_job(TranscriptionJobName="job-2")
    assert fault.hits == 1 and faults.can_delete("transcribe", "ListTranscriptionJobs")
    deleted: list[str] = []
    faults.inject(faults.DELETED_AFTER_LIST, "ListVocabularies", resource="terms", delete=deleted.append)
    transcribe.list_vocabularies()
    assert deleted == ["terms"]


def test_bad_fault_definitions_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        faults.inject("gremlins", "ListVocabularies")
    with pytest.raises(ValueError, match="field="):
        faults.inject(faults.MISSING_FIELD, "ListVocabularies")
    with pytest.raises(ValueError, match="resource="):
        faults.inject(faults.DELETED_AFTER_LIST, "ListVocabularies")
    with pytest.raises(ValueError, match="times"):
        faults.inject(faults.THROTTLING, "ListVocabularies", times=0)


def test_faults_act_on_clients_of_a_simulator_server_in_the_same_process() -> None:
    server = SimulatorServer(port=0, seed="empty").start()
    try:
        transcribe = server.client("transcribe")
        with faults.injected(faults.THROTTLING, "ListVocabularies", times=1) as transient:
            assert transcribe.list_vocabularies()["ResponseMetadata"]["RetryAttempts"] == 1
        assert transient.hits == 1
        with faults.injected(faults.ACCESS_DENIED, "ListVocabularies"):
            assert code_of(transcribe.list_vocabularies)[0] == "AccessDeniedException"
        assert transcribe.list_vocabularies()["Vocabularies"] == []
    finally:
        server.stop()


# --- the rule side ------------------------------------------------------------------------------

class ReadsJobs(TranscribeGuardRule):
    """A minimal rule: one evaluation per transcription job, from its details."""

    METADATA = {"name": "test-reads-jobs", "parameters": {"type": "object", "properties": {}}}

    def evaluate(self, ctx: RunContext, params: Any) -> Iterator[Evaluation]:
        for job in ctx.inventory.resources(TRANSCRIPTION_JOB):
            try:
                detail = ctx.inventory.detail(job)
            except ClientError as error:
                yield self.could_not_evaluate(ctx, job.arn, error, job.kind.label)
                continue
            yield self.result(ctx, ComplianceType.COMPLIANT, job.arn, f"Read {detail['TranscriptionJobName']}.")


def run(rule: TranscribeGuardRule, factory: Any = None) -> dict[str, Evaluation]:
    evaluations = rule.evaluate_periodic({"accountId": ACCOUNT}, factory or ClientFactory(None, assume_role_mode=False), {})
    return {e.complianceResourceId.rsplit("/", 1)[-1]: e for e in evaluations}


def test_a_timeout_outlasting_the_retries_is_could_not_evaluate_for_that_resource(account: Any) -> None:
    faults.inject(faults.READ_TIMEOUT, "GetTranscriptionJob", resource="job-1")
    results = run(ReadsJobs())
    assert results["job-1"].complianceType == ComplianceType.NON_COMPLIANT
    assert results["job-1"].annotation == "Could not evaluate: ReadTimeoutError when reading transcription job."
    assert results["job-2"].complianceType == ComplianceType.COMPLIANT


def test_fail_closed_keeps_the_factory_so_shared_caches_stay_shared() -> None:
    factory = ClientFactory(None, assume_role_mode=False)
    assert fail_closed(factory) is factory and fail_closed(fail_closed(factory)) is factory
    with Simulator():
        faults.inject(faults.CONNECT_TIMEOUT, "ListVocabularies")
        with pytest.raises(ClientError, match="ConnectTimeoutError"):
            factory.build_client("transcribe").list_vocabularies()
        faults.clear()


def test_a_job_deleted_between_list_and_get_is_not_applicable(account: Any) -> None:
    faults.inject(faults.DELETED_AFTER_LIST, "ListTranscriptionJobs", resource="job-1")
    results = run(ReadsJobs())
    assert results["job-1"] == Evaluation(
        ComplianceType.NOT_APPLICABLE, f"arn:aws:transcribe:us-east-1:{ACCOUNT}:transcription-job/job-1",
        "AWS::::Account", "Deleted during evaluation: listed, then not found when reading transcription job.")
    assert results["job-2"].complianceType == ComplianceType.COMPLIANT


@pytest.mark.parametrize("code, message, is_gone", [
    ("BadRequestException", "The requested job couldn't be found. Check the job name and try again.", True),
    ("NotFoundException", "The requested vocabulary couldn't be found.", True),
    ("BadRequestException", "The ARN that you provided isn't valid for this account and Region.", False),
    ("AccessDeniedException", "User is not authorized", False),
])
def test_only_not_found_answers_mean_gone(code: str, message: str, is_gone: bool) -> None:
    assert gone(ClientError({"Error": {"Code": code, "Message": message}}, "GetTranscriptionJob")) is is_gone


def test_a_get_response_without_the_resource_fails_closed_for_that_resource(account: Any) -> None:
    faults.inject(faults.MISSING_FIELD, "GetTranscriptionJob", resource="job-2", field="TranscriptionJob")
    results = run(ReadsJobs())
    assert results["job-2"].annotation == "Could not evaluate: IncompleteResponse when reading transcription job."
    assert results["job-1"].complianceType == ComplianceType.COMPLIANT


def test_a_customization_gone_from_list_tags_is_gone(account: Any) -> None:
    inventory = TranscribeInventory(account.client("transcribe"), ACCOUNT)
    vocabulary = inventory.resources(VOCABULARY)[0]
    account.client("transcribe").delete_vocabulary(VocabularyName="terms")
    with pytest.raises(ResourceGone):
        inventory.tags(vocabulary)


def test_a_response_lacking_a_member_ends_the_run_fail_closed_and_keeps_earlier_results(account: Any) -> None:
    faults.inject(faults.MISSING_FIELD, "ListTranscriptionJobs", field="TranscriptionJobSummaries[].TranscriptionJobName")
    rule = ReadsJobs()
    results = run(rule)
    assert list(results) == [ACCOUNT]
    assert results[ACCOUNT].annotation == ("Could not evaluate: a response lacked 'TranscriptionJobName'; earlier "
                                           "results are kept until a run can read it.")
    assert rule.delete_old_evaluations_on_scheduled_notification is False
