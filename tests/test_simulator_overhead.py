"""The simulator's overhead cuts change no answer: every SDK session in a simulated process shares one
botocore data loader (each model parsed once) whose search path does not grow, moto loads no default
AMIs (simulator/sdk_data.py), and a KMS key's RSA key pair is generated only when used (simulator/kms.py)."""

from __future__ import annotations

import os
from typing import Any

import boto3
import botocore.session
import pytest
from moto.kms import utils as kms_utils

from transcribe_guard.simulator import Simulator


def _loader(session: Any) -> Any:
    return session._session.get_component("data_loader")


def test_sessions_share_one_loader_and_its_parsed_models(sim: Any) -> None:
    first, second = boto3.session.Session(), boto3.session.Session()
    assert _loader(first) is _loader(second)
    assert botocore.session.get_session().get_component("data_loader") is _loader(first)
    paths = list(_loader(first).search_paths)
    boto3.session.Session()  # boto3 adds its data folder to the loader of every Session it builds
    assert list(_loader(first).search_paths) == paths
    assert len(set(paths)) == len(paths)
    model = _loader(first).load_service_model("transcribe", "service-2")
    assert _loader(second).load_service_model("transcribe", "service-2") is model  # parsed once


def test_a_later_simulator_serves_clients_built_from_the_shared_models() -> None:
    for name in ("first", "second"):
        with Simulator() as simulator:
            s3 = simulator.client("s3")
            s3.create_bucket(Bucket=f"bucket-{name}")
            assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == [f"bucket-{name}"]
            assert simulator.client("transcribe").list_transcription_jobs()["TranscriptionJobSummaries"] == []


def test_no_default_amis(sim: Any) -> None:
    assert os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] == "false"
    assert sim.client("ec2").describe_images(Owners=["amazon"])["Images"] == []


@pytest.fixture
def rsa_generated(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    sizes: list[int] = []
    generate = kms_utils.rsa.generate_private_key

    def counted(public_exponent: int, key_size: int) -> Any:
        sizes.append(key_size)
        return generate(public_exponent=public_exponent, key_size=key_size)
    monkeypatch.setattr(kms_utils.rsa, "generate_private_key", counted)
    return sizes


def test_a_symmetric_key_generates_no_key_pair(sim: Any, rsa_generated: list[int]) -> None:
    kms = sim.client("kms")
    key_id = kms.create_key(Description="transcripts")["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"text")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"text"
    assert rsa_generated == []


def test_an_rsa_key_pair_is_generated_once_when_first_used(sim: Any, rsa_generated: list[int]) -> None:
    kms = sim.client("kms")
    key_id = kms.create_key(KeySpec="RSA_3072", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    assert rsa_generated == []
    signature = kms.sign(KeyId=key_id, Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]
    assert kms.verify(KeyId=key_id, Message=b"m", Signature=signature,
                      SigningAlgorithm="RSASSA_PSS_SHA_256")["SignatureValid"]
    public = kms.get_public_key(KeyId=key_id)["PublicKey"]
    assert kms.get_public_key(KeyId=key_id)["PublicKey"] == public
    assert rsa_generated == [3072]  # one key pair, of the size asked for


def test_an_unsupported_rsa_size_is_still_refused() -> None:
    from moto.kms.exceptions import ValidationException
    with Simulator():
        with pytest.raises(ValidationException):
            kms_utils.RSAPrivateKey(1024)
