"""The AWS Config configuration recorder's status for the simulator.

moto 5.2.5 serves PutConfigurationRecorder (all three recording strategies, exclusions and
includeGlobalResourceTypes), PutDeliveryChannel, Start/StopConfigurationRecorder and the
Describe calls, and its responses conform to botocore's model except for one field: a started
recorder reports ``lastStatus`` ``PENDING`` forever, which is not a value of the model's
RecorderStatus enum (``Pending``, ``Success``, ``Failure``, ``NotApplicable``). Here a recorder
that starts records successfully (``Success``), as a healthy recorder does once it has recorded,
and ``fail_recorder`` is the test control for a recorder whose last recording event failed
(for example when its role lost permissions).
"""

from __future__ import annotations

from moto.config.models import ConfigRecorderStatus, config_backends
from moto.core.utils import utcnow

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"


def _epoch_now() -> int:
    return int(utcnow().timestamp())


def _start(self: ConfigRecorderStatus) -> None:
    self.recording = True
    self.last_status = "Success"
    self.last_error_code = None
    self.last_error_message = None
    self.last_start_time = _epoch_now()
    self.last_status_change_time = _epoch_now()


def fail_recorder(error_code: str = "AccessDenied", message: str = "Config could not assume the recorder role.",
                  name: str = "default", account: str = DEFAULT_ACCOUNT, region: str = DEFAULT_REGION,
                  status: str = "Failure") -> None:
    """Test control: the recorder's last recording event failed (it may still be ``recording``)."""
    recorder = config_backends[account][region].recorders[name]
    recorder.status.last_status = status
    recorder.status.last_error_code = error_code
    recorder.status.last_error_message = message
    recorder.status.last_status_change_time = _epoch_now()


def install() -> None:
    """Make started recorders report a model-valid status (idempotent)."""
    ConfigRecorderStatus.start = _start  # type: ignore[method-assign]
