"""transcribe_guard.simulator.sdk_data: every SDK session in a simulated process shares one botocore
data loader (each model parsed once), its search path does not grow, and moto loads no default AMIs."""

from __future__ import annotations

import os
from typing import Any

import boto3
import botocore.session

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
