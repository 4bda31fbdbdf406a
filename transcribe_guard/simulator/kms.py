"""AWS managed KMS keys in simulated KMS.

moto creates the key behind a reserved alias (``alias/aws/s3``, ``alias/aws/ebs``, ...) on first
use, as AWS does, but reports it with KeyManager CUSTOMER. In AWS these keys are AWS managed
(KeyManager AWS), and rules that tell customer managed keys from AWS managed ones read exactly
that field, so the simulator reports it as AWS does.

moto also generates an RSA private key for every key it creates, symmetric ones included (its
``generate_private_key`` falls back to RSA 2048), at about 0.1 s of CPU each. Only Sign, Verify and
GetPublicKey ever use it, so it is generated when first used instead: the same key material, on
demand (the key comes from the operating system's randomness, not moto's seeded id source, so
no generated id changes).
"""

from __future__ import annotations

import threading
from typing import Any

from moto.kms import utils as kms_utils
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


_rsa_init = kms_utils.RSAPrivateKey.__init__
_rsa_sizes = kms_utils.RSAPrivateKey._RSAPrivateKey__supported_key_sizes  # type: ignore[attr-defined]
_rsa_lock = threading.Lock()


def _rsa_deferred_init(self: Any, key_size: int) -> None:
    if key_size not in _rsa_sizes:
        _rsa_init(self, key_size)  # moto's ValidationException
    self.key_size = key_size


def _rsa_key(self: Any) -> Any:
    with _rsa_lock:
        key = self.__dict__.get("_transcribe_guard_rsa_key")
        if key is None:
            key = kms_utils.rsa.generate_private_key(public_exponent=65537, key_size=self.key_size)
            self.__dict__["_transcribe_guard_rsa_key"] = key
        return key


def _set_rsa_key(self: Any, key: Any) -> None:
    self.__dict__["_transcribe_guard_rsa_key"] = key


def install() -> None:
    KmsBackend._generate_default_keys = _generate_default_keys  # type: ignore[method-assign]
    kms_utils.RSAPrivateKey.__init__ = _rsa_deferred_init  # type: ignore[method-assign]
    kms_utils.RSAPrivateKey.private_key = property(_rsa_key, _set_rsa_key)  # type: ignore[attr-defined]
