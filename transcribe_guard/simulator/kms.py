"""AWS managed KMS keys in simulated KMS.

moto creates the key behind a reserved alias (``alias/aws/s3``, ``alias/aws/ebs``, ...) on first
use, as AWS does, but reports it with KeyManager CUSTOMER. In AWS these keys are AWS managed
(KeyManager AWS), and rules that tell customer managed keys from AWS managed ones read exactly
that field, so the simulator reports it as AWS does.
"""

from __future__ import annotations

from typing import Any

from moto.kms.models import KmsBackend

_original_generate_default_keys = KmsBackend._generate_default_keys


def _generate_default_keys(self: KmsBackend, alias_name: str) -> Any:
    key_id = _original_generate_default_keys(self, alias_name)
    if key_id is not None:
        key = self.keys[key_id]
        key.key_manager = "AWS"
        service = alias_name.rsplit("/", 1)[-1]
        key.description = f"Default key that protects my {service} data when no other key is defined"
    return key_id


def install() -> None:
    KmsBackend._generate_default_keys = _generate_default_keys  # type: ignore[method-assign]
