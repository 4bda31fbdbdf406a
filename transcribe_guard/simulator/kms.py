"""AWS managed KMS keys, and asymmetric signing as AWS does it, in simulated KMS.

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

import base64
import json
import threading
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric import utils as asym_utils
from moto.core.exceptions import JsonRESTError
from moto.kms.exceptions import ValidationException
from moto.kms import utils as kms_utils
from moto.kms.models import KmsBackend
from moto.kms.responses import KmsResponse

_original_generate_default_keys = KmsBackend._generate_default_keys


def _generate_default_keys(self: KmsBackend, alias_name: str) -> Any:
    key_id = _original_generate_default_keys(self, alias_name)
    if key_id is not None:
        key = self.keys[key_id]
        key.key_manager = "AWS"
        service = alias_name.rsplit("/", 1)[-1]
        key.description = f"Default key that protects my {service} data when no other key is defined"
    return key_id




# --- asymmetric signing as AWS does it ------------------------------------------------------------
#
# moto 5.2.5 signs and verifies with asymmetric keys, but (1) ignores MessageType: a DIGEST is
# hashed again as if it were the message, so a signature over a digest never verifies against the
# message, where KMS treats "a message and its hash digest" as the same message (Sign and Verify,
# MessageType, botocore's kms model and
# https://docs.aws.amazon.com/kms/latest/APIReference/API_Verify.html); (2) answers an invalid
# signature with SignatureValid false, where Verify "fails with a KMSInvalidSignatureException"
# (same page); (3) returns the key id as GetPublicKey's KeyId, which is the key ARN in AWS
# (GetPublicKeyResponse.KeyId, botocore's kms model).

_DIGESTS = {"SHA_256": hashes.SHA256, "SHA_384": hashes.SHA384, "SHA_512": hashes.SHA512}


def _hash_of(algorithm: str) -> hashes.HashAlgorithm:
    for suffix, digest in _DIGESTS.items():
        if algorithm.endswith(suffix):
            return digest()
    raise ValidationException(f"MessageType DIGEST is not supported with {algorithm} in the simulator.")


def _digest_scheme(algorithm: str) -> tuple[Any, ...]:
    """(padding or signature algorithm, ...) for signing a precomputed digest."""
    digest = _hash_of(algorithm)
    prehashed = asym_utils.Prehashed(digest)
    if algorithm.startswith("ECDSA_"):
        return (ec.ECDSA(prehashed),)
    if algorithm.startswith("RSASSA_PSS_"):
        return (padding.PSS(mgf=padding.MGF1(digest), salt_length=padding.PSS.DIGEST_LENGTH), prehashed)
    return (padding.PKCS1v15(), prehashed)


def _signing_key(response: KmsResponse, key_id: str, algorithm: str, digest: bytes) -> Any:
    key = response.kms_backend.describe_key(key_id)
    if key.key_usage != "SIGN_VERIFY":
        raise ValidationException(f"{key.arn} key usage is {key.key_usage} which is not valid for signing.")
    if algorithm not in key.signing_algorithms:
        raise ValidationException(f"SigningAlgorithm {algorithm} is not valid for {key.arn}: "
                                  f"{key.signing_algorithms}")
    if len(digest) != _hash_of(algorithm).digest_size:
        raise ValidationException(f"Digest is invalid length for algorithm {algorithm}.")
    return key


_original_sign = KmsResponse.sign
_original_verify = KmsResponse.verify
_original_get_public_key = KmsResponse.get_public_key


def _sign(self: KmsResponse) -> str:
    if self._get_param("MessageType") != "DIGEST":
        return _original_sign(self)
    algorithm = self._get_param("SigningAlgorithm")
    digest = self._get_param("Message")  # moto's _get_param decodes the Message blob
    key = _signing_key(self, self._get_param("KeyId"), algorithm, digest)
    signature = key.private_key.private_key.sign(digest, *_digest_scheme(algorithm))
    return json.dumps({"KeyId": key.arn, "Signature": base64.b64encode(signature).decode("ascii"),
                       "SigningAlgorithm": algorithm})


def _verify(self: KmsResponse) -> str:
    algorithm = self._get_param("SigningAlgorithm")
    if self._get_param("MessageType") == "DIGEST":
        digest = self._get_param("Message")
        key = _signing_key(self, self._get_param("KeyId"), algorithm, digest)
        try:
            key.private_key.private_key.public_key().verify(
                base64.b64decode(self._get_param("Signature")), digest, *_digest_scheme(algorithm))
            valid, arn = True, key.arn
        except InvalidSignature:
            valid, arn = False, key.arn
    else:
        answer = json.loads(_original_verify(self))
        valid, arn = answer["SignatureValid"], answer["KeyId"]
    if not valid:
        raise JsonRESTError("KMSInvalidSignatureException", "")
    return json.dumps({"KeyId": arn, "SignatureValid": True, "SigningAlgorithm": algorithm})


def _get_public_key(self: KmsResponse) -> str:
    answer = json.loads(_original_get_public_key(self))
    key = self.kms_backend.describe_key(self._get_param("KeyId"))
    answer["KeyId"] = key.arn
    answer["KeySpec"] = key.key_spec
    return json.dumps(answer)
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
    KmsResponse.sign = _sign  # type: ignore[method-assign]
    KmsResponse.verify = _verify  # type: ignore[method-assign]
    KmsResponse.get_public_key = _get_public_key  # type: ignore[method-assign]
    kms_utils.RSAPrivateKey.__init__ = _rsa_deferred_init  # type: ignore[method-assign]
    kms_utils.RSAPrivateKey.private_key = property(_rsa_key, _set_rsa_key)  # type: ignore[attr-defined]
