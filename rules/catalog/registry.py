"""The one registry of rules. The conformance pack, the RDK metadata, the Lambda role policy and
the README's rule reference are all generated from it."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from rules.engine.base import TranscribeGuardRule
from rules.transcribe_job_output_location import TranscribeJobOutputLocation
from rules.transcribe_job_pii_redaction import TranscribeJobPiiRedaction
from rules.transcribe_resource_tagged import TranscribeResourceTagged
from rules.transcribe_customization_encrypted import TranscribeCustomizationEncrypted
from rules.transcribe_job_output_encrypted import TranscribeJobOutputEncrypted
from rules.transcribe_data_access_role import TranscribeDataAccessRole
from rules.transcribe_api_activity_logged import TranscribeApiActivityLogged
from rules.transcribe_monitoring_configured import TranscribeMonitoringConfigured
from rules.transcribe_vpc_endpoints import TranscribeVpcEndpoints
from rules.transcribe_config_recording import TranscribeConfigRecording
from rules.transcribe_ai_opt_out import TranscribeAiOptOut
from rules.transcribe_iam_tag_based_access import TranscribeIamTagBasedAccess
from rules.transcribe_iam_user_no_access import TranscribeIamUserNoAccess
from rules.transcribe_bucket_encrypted import TranscribeBucketEncrypted
from rules.transcribe_bucket_tls_enforced import TranscribeBucketTlsEnforced
from rules.transcribe_bucket_public_access_blocked import TranscribeBucketPublicAccessBlocked
from rules.transcribe_kms_key_protected import TranscribeKmsKeyProtected

# Explicit, ordered list: registration is not an import side effect.
RULE_CLASSES: tuple[type[TranscribeGuardRule], ...] = (
    TranscribeJobOutputLocation,
    TranscribeJobPiiRedaction,
    TranscribeResourceTagged,
    TranscribeJobOutputEncrypted,
    TranscribeCustomizationEncrypted,
    TranscribeDataAccessRole,
    TranscribeApiActivityLogged, TranscribeMonitoringConfigured,
    TranscribeVpcEndpoints, TranscribeConfigRecording, TranscribeAiOptOut,
    TranscribeIamUserNoAccess, TranscribeIamTagBasedAccess,
    TranscribeBucketEncrypted, TranscribeBucketTlsEnforced, TranscribeBucketPublicAccessBlocked, TranscribeKmsKeyProtected,
)

RULES: dict[str, type[TranscribeGuardRule]] = {cls.METADATA["name"]: cls for cls in RULE_CLASSES}


def metadata_schema() -> dict[str, Any]:
    """The JSON Schema every METADATA record must satisfy (checked by tests and `build`)."""
    text = resources.files("rules.catalog").joinpath("registry.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def module_name(rule_name: str) -> str:
    """Rule names are kebab-case; their modules are the same words in snake_case."""
    return rule_name.replace("-", "_")
