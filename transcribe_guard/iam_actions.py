"""Map AWS API calls to the IAM actions that authorize them, and record the calls made.

Used to prove least privilege: the tests record every call a rule makes and compare the IAM
actions with the rule's declared ``iam_actions``; the deployment role is generated from those
declarations.

For most services the IAM action is ``<signing name>:<operation>``. The exceptions are listed
here: services whose IAM prefix differs from their signing name, and S3 operations authorized
by an action of another name (see the Service Authorization Reference).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from contextlib import contextmanager
from typing import Any, Iterator

import boto3

# botocore signing name -> IAM service prefix, where they differ.
_PREFIX = {"monitoring": "cloudwatch", "tagging": "tag"}

# (IAM prefix, operation) -> IAM action, where the action is not named after the operation.
_ACTION = {
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "HeadBucket"): "s3:ListBucket",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "ListObjects"): "s3:ListBucket",
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "GetBucketEncryption"): "s3:GetEncryptionConfiguration",
    ("s3", "PutBucketEncryption"): "s3:PutEncryptionConfiguration",
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3", "GetBucketOwnershipControls"): "s3:GetBucketOwnershipControls",
    ("s3", "GetBucketAcl"): "s3:GetBucketAcl",
    ("s3control", "GetPublicAccessBlock"): "s3:GetAccountPublicAccessBlock",
}


def iam_action(service_model: Any, operation_name: str) -> str:
    signing = service_model.signing_name or service_model.endpoint_prefix
    if signing == "s3" and service_model.service_name == "s3control":
        return _ACTION.get(("s3control", operation_name), f"s3:{operation_name}")
    prefix = _PREFIX.get(signing, signing)
    return _ACTION.get((prefix, operation_name), f"{prefix}:{operation_name}")


class CallRecorder:
    """Counts every API call made by clients of the default boto3 session created while it is
    active (botocore copies a session's event handlers into each client it creates)."""

    _EVENT = "before-call"

    def __init__(self) -> None:
        self.calls: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()
        self._unique_id = f"transcribe-guard-recorder-{id(self)}"

    def _record(self, model: Any, **_: Any) -> None:
        action = iam_action(model.service_model, model.name)
        with self._lock:
            self.calls[action] += 1

    @property
    def actions(self) -> set[str]:
        return set(self.calls)

    def start(self) -> "CallRecorder":
        boto3._get_default_session().events.register(self._EVENT, self._record, unique_id=self._unique_id)
        return self

    def stop(self) -> None:
        boto3._get_default_session().events.unregister(self._EVENT, unique_id=self._unique_id)


@contextmanager
def recording() -> Iterator[CallRecorder]:
    recorder = CallRecorder().start()
    try:
        yield recorder
    finally:
        recorder.stop()
