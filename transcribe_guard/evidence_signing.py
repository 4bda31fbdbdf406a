"""Signed evidence bundles: the manifest signed with an asymmetric AWS KMS key, checked offline
with the key's public key or through KMS.

``evidence --sign-key KEY`` reads the key's public key (GetPublicKey), records the key ARN, the
signing algorithm and the SHA-256 of the public key (its DER SubjectPublicKeyInfo, as GetPublicKey
returns it) in the manifest, then signs the manifest's bytes with KMS Sign. KMS signs a message of
up to 4096 bytes as it is (MessageType RAW); a larger manifest is signed as its digest
(MessageType DIGEST, the digest of the signing algorithm's hash), and "a message and its hash
digest are considered to be the same message", so the signature verifies against the manifest
either way (Sign and Verify, Message and MessageType:
https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html,
https://docs.aws.amazon.com/kms/latest/APIReference/API_Verify.html; botocore's kms model).
The signature goes in ``manifest.sig`` beside the manifest, with the same key ARN, algorithm and
fingerprint, which verify requires to agree with the signed manifest.

ECDSA signatures are DER-encoded (ANS X9.62-2005, RFC 3279 2.2.3) and RSA ones PKCS #1 (RFC
8017), as SignResponse.Signature says. RSASSA-PSS signatures are checked with the salt length
read from the signature (``PSS.AUTO``): which salt length KMS uses is not verified here.

A check without a trust anchor (``--public-key`` or ``--kms-key``) proves only that the bundle
matches its own manifest: whoever changed the files could have rewritten the manifest too.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transcribe_guard.scan import UsageError

SIGNATURE_FILE = "manifest.sig"
SIGNATURE_VERSION = 1
MAX_RAW_MESSAGE_BYTES = 4096  # KMS Sign: "Messages can be 0-4096 bytes" (SignRequest.Message)
MAX_SIGNATURE_FILE_BYTES = 64 * 1024  # a signature file is under 2 KB
# Signing algorithms in the order a key's are preferred; all are SigningAlgorithmSpec values
# (botocore's kms model) that `cryptography` checks offline. SM2DSA and ML-DSA are not.
ALGORITHMS = ("ECDSA_SHA_256", "ECDSA_SHA_384", "ECDSA_SHA_512", "RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384",
              "RSASSA_PSS_SHA_512", "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384",
              "RSASSA_PKCS1_V1_5_SHA_512")
# IAM actions `evidence --sign-key` needs, and `evidence verify --kms-key`.
SIGN_ACTIONS = ("kms:GetPublicKey", "kms:Sign")
VERIFY_ACTIONS = ("kms:Verify",)


class SigningError(UsageError, ValueError):
    """A key that cannot sign a bundle, or a public key file that cannot be read (a usage error)."""


def _hash(algorithm: str) -> Any:
    from cryptography.hazmat.primitives import hashes

    choices: dict[str, type[hashes.HashAlgorithm]] = {"256": hashes.SHA256, "384": hashes.SHA384,
                                                      "512": hashes.SHA512}
    return choices[algorithm.rsplit("_", 1)[1]]()


def fingerprint(public_key_der: bytes) -> str:
    """SHA-256 (hex) of a DER SubjectPublicKeyInfo."""
    return hashlib.sha256(public_key_der).hexdigest()


# --- signing -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Signer:
    """A KMS signing key, read before the manifest is written (the manifest names it)."""

    kms: Any
    key_arn: str
    algorithm: str
    public_key_sha256: str

    def manifest_block(self) -> dict[str, str]:
        return {"file": SIGNATURE_FILE, "key_arn": self.key_arn, "signing_algorithm": self.algorithm,
                "public_key_sha256": self.public_key_sha256}

    def sign(self, manifest: bytes) -> bytes:
        """The signature file's bytes for these manifest bytes."""
        if len(manifest) <= MAX_RAW_MESSAGE_BYTES:
            message, message_type = manifest, "RAW"
        else:
            digest = _hash(self.algorithm)
            message, message_type = hashlib.new(digest.name, manifest).digest(), "DIGEST"
        answer = self.kms.sign(KeyId=self.key_arn, Message=message, MessageType=message_type,
                               SigningAlgorithm=self.algorithm)
        if answer.get("KeyId") != self.key_arn:
            raise SigningError(f"--sign-key: KMS signed with {answer.get('KeyId')}, not {self.key_arn}.")
        document = {"signature_version": SIGNATURE_VERSION, "signed_file": "manifest.json",
                    "signed_sha256": hashlib.sha256(manifest).hexdigest(), "message_type": message_type,
                    **{k: v for k, v in self.manifest_block().items() if k != "file"},
                    "signature": base64.b64encode(answer["Signature"]).decode("ascii")}
        return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("ascii")


def signer(session: Any, key_id: str) -> Signer:
    """The signing key ``key_id`` (key id, ARN, alias name or alias ARN) as GetPublicKey describes it."""
    kms = session.client("kms")
    answer = kms.get_public_key(KeyId=key_id)
    if answer.get("KeyUsage") != "SIGN_VERIFY":
        raise SigningError(f"--sign-key {key_id}: its key usage is {answer.get('KeyUsage') or 'not given'}, not SIGN_VERIFY "
                           "(create an asymmetric signing key, e.g. ECC_NIST_P256).")
    usable = [a for a in ALGORITHMS if a in answer.get("SigningAlgorithms", [])]
    if not usable:
        raise SigningError(f"--sign-key {key_id}: none of its signing algorithms "
                           f"({', '.join(answer.get('SigningAlgorithms', [])) or 'none'}) is one verify can check "
                           "offline; use an ECC_NIST_P256 or RSA key.")
    return Signer(kms, answer["KeyId"], usable[0], fingerprint(answer["PublicKey"]))


# --- verifying ------------------------------------------------------------------------------------

def load_public_key(path: Path) -> bytes:
    """The DER SubjectPublicKeyInfo in a PEM or DER file (GetPublicKey's PublicKey, as saved)."""
    from cryptography.hazmat.primitives import serialization

    try:
        data = path.read_bytes()
    except OSError as error:
        raise SigningError(f"--public-key {path}: cannot read the file ({error.strerror}).") from None
    try:
        key = (serialization.load_pem_public_key(data) if data.lstrip().startswith(b"-----BEGIN")
               else serialization.load_der_public_key(data))
    except (ValueError, TypeError) as error:
        raise SigningError(f"--public-key {path}: not a PEM or DER public key (SubjectPublicKeyInfo): {error}") from None
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _offline_valid(public_key_der: bytes, algorithm: str, signature: bytes, manifest: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    key = serialization.load_der_public_key(public_key_der)
    digest = _hash(algorithm)
    try:
        if algorithm.startswith("ECDSA_") and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, manifest, ec.ECDSA(digest))
        elif algorithm.startswith("RSASSA_PSS_") and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, manifest, padding.PSS(mgf=padding.MGF1(digest), salt_length=padding.PSS.AUTO),
                       digest)
        elif algorithm.startswith("RSASSA_PKCS1_V1_5_") and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, manifest, padding.PKCS1v15(), digest)
        else:
            return False
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True)
class TrustAnchor:
    """What verify checks the signature with: a public key (offline) or a KMS key (Verify)."""

    public_key_der: bytes | None = None
    kms: Any = None
    kms_key_id: str | None = None

    def describe(self) -> str:
        if self.public_key_der is not None:
            return f"the public key given (sha256 {fingerprint(self.public_key_der)})"
        return f"AWS KMS Verify with {self.kms_key_id}"


def check_signature(manifest: dict[str, Any], raw_manifest: bytes, signature_file: bytes | None,
                    anchor: TrustAnchor | None) -> tuple[list[str], bool]:
    """(lines, authenticated). A line starting CHANGED or MISSING fails the verification;
    ``authenticated`` is True only when ``anchor`` checked a valid signature."""
    block = manifest.get("signature")
    if block is None and signature_file is None:
        if anchor is not None:
            return [f"MISSING {SIGNATURE_FILE} (the bundle is not signed; {anchor.describe()} cannot authenticate "
                    "it)"], False
        return [], False
    if not isinstance(block, dict) or signature_file is None:
        what = "the manifest names no signing key" if signature_file is not None else "it names a signing key"
        return [f"{'CHANGED' if signature_file is not None else 'MISSING'} {SIGNATURE_FILE} ({what})"], False
    try:
        document = json.loads(signature_file.decode("ascii"))
        if not isinstance(document, dict):
            raise ValueError("not an object")
        signature = base64.b64decode(document["signature"], validate=True)
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, RecursionError):
        return [f"CHANGED {SIGNATURE_FILE} (not a readable signature file)"], False
    fields = ("key_arn", "signing_algorithm", "public_key_sha256")
    if any(document.get(f) != block.get(f) or not isinstance(block.get(f), str) for f in fields) \
            or block.get("file") != SIGNATURE_FILE:
        return [f"CHANGED {SIGNATURE_FILE} (its key or algorithm differs from the signed manifest's)"], False
    algorithm, key_arn = block["signing_algorithm"], block["key_arn"]
    if algorithm not in ALGORITHMS:
        return [f"CHANGED {SIGNATURE_FILE} (signing algorithm {algorithm!r} is not one verify checks)"], False
    signed_by = f"key {key_arn}, {algorithm}, public key sha256 {block['public_key_sha256']}"
    if anchor is None:
        return [f"SIGNED {SIGNATURE_FILE} by {signed_by}: NOT CHECKED (give --public-key or --kms-key)"], False
    if anchor.public_key_der is not None:
        if fingerprint(anchor.public_key_der) != block["public_key_sha256"]:
            return [f"CHANGED {SIGNATURE_FILE} (signed by public key sha256 {block['public_key_sha256']}, not by "
                    f"{anchor.describe()})"], False
        valid = _offline_valid(anchor.public_key_der, algorithm, signature, raw_manifest)
    else:
        valid = _kms_valid(anchor, key_arn, algorithm, signature, raw_manifest)
    if not valid:
        return [f"CHANGED {SIGNATURE_FILE} (the signature does not match manifest.json under {anchor.describe()})"], \
            False
    return [f"OK {SIGNATURE_FILE}  signed by {signed_by}, checked with {anchor.describe()}"], True


def _kms_valid(anchor: TrustAnchor, key_arn: str, algorithm: str, signature: bytes, manifest: bytes) -> bool:
    """KMS Verify fails with KMSInvalidSignatureException on a bad signature (API_Verify.html)."""
    from botocore.exceptions import ClientError

    if len(manifest) <= MAX_RAW_MESSAGE_BYTES:
        message, message_type = manifest, "RAW"
    else:
        message, message_type = hashlib.new(_hash(algorithm).name, manifest).digest(), "DIGEST"
    try:
        answer = anchor.kms.verify(KeyId=anchor.kms_key_id, Message=message, MessageType=message_type,
                                   Signature=signature, SigningAlgorithm=algorithm)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "KMSInvalidSignatureException":
            return False
        raise
    # A valid signature under another key than the one the manifest names is not this bundle's.
    return bool(answer.get("SignatureValid")) and answer.get("KeyId") == key_arn
