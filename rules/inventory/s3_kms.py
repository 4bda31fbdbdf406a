"""Shared S3 bucket and KMS key lookups, cached per run, and the bucket-policy probes that tell
whether a bucket enforces SSE-KMS.

Every rule that asks about a bucket (default encryption, bucket policy, public access block) or a
KMS key (DescribeKey: key manager, state) goes through ``S3KmsLookups``. One instance serves a
whole run: ``lookups_for`` keeps it per client factory, like ``rules.engine.base.inventory_for`` keeps
the Transcribe inventory, so a ``scan`` shares it across rules and each Lambda invocation has its
own. Each bucket setting and each key is fetched at most once per run; a failure (a ClientError)
is remembered and raised again to every later caller, so no rule retries it.

Object keys are customer content (they often embed caller or patient identifiers): they are used
only to call HeadObject and never appear in results, annotations or logs. Tag values are customer
content too: ``bucket_tags`` returns them for matching only.

Bucket-owner check: ``lookups_for`` sets ``expected_bucket_owner`` to the evaluated account, so
every bucket configuration read (encryption, policy, public access block, tags) carries
ExpectedBucketOwner and S3 answers 403 AccessDenied for a bucket of another account instead of
that account's settings. A rule in this account then reports such a bucket as not evaluated
(fail closed) rather than certifying a bucket it does not own: its account-level public access
block, keys and Config records live in the owner's account, and a bucket name that was deleted
and re-registered by someone else is not silently judged as ours. HeadObject carries no owner
check. Since 5 January 2023 every bucket has default encryption (SSE-S3 at least), so
GetBucketEncryption answers with a rule; ``DefaultEncryption(None, None)`` remains only for the
legacy ServerSideEncryptionConfigurationNotFoundError answer.

Also cached here for the bucket and key rules: ListBuckets (all pages), the account's public
access block (s3control GetPublicAccessBlock), and per key GetKeyPolicy and GetKeyRotationStatus.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence
from urllib.parse import unquote

from botocore.exceptions import ClientError

from rules.engine.per_factory import PerFactory
from rules.policy.evaluation import Request, statement_applies, statements
from rules.inventory.s3_location import bucket_of, is_virtual_hosted, uri_parts

LOGGER = logging.getLogger(__name__)

KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")

# The rule parameter naming the only KMS keys that count (shared by every encryption rule).
KMS_KEY_ARNS_PARAMETER = {
    "type": "string",
    "x-type": "list",
    "maxLength": 1024,
    "pattern": r"arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+",
    "x-pattern-hint": "each entry must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY-ID), not an alias",
    "description": "Comma-separated KMS key ARNs; only these keys count. Empty: any customer managed key.",
}
CUSTOMER_MANAGED = "CUSTOMER"

# The "not configured" answers of S3's Get* calls: absence, not failure.
_NO_ENCRYPTION = "ServerSideEncryptionConfigurationNotFoundError"
_NO_POLICY = "NoSuchBucketPolicy"
_NO_PUBLIC_ACCESS_BLOCK = "NoSuchPublicAccessBlockConfiguration"
_NO_TAGS = "NoSuchTagSet"
LIST_BUCKETS_PAGE_SIZE = 1000


# --- what the lookups return ------------------------------------------------------------------

@dataclass(frozen=True)
class DefaultEncryption:
    """A bucket's default encryption (the first rule of GetBucketEncryption)."""

    algorithm: str | None  # AES256, aws:kms, aws:kms:dsse, aws:fsx; None when not configured
    kms_key_id: str | None  # KMSMasterKeyID as configured: key id, key ARN, alias name or alias ARN
    bucket_key_enabled: bool = False
    blocked_encryption_types: tuple[str, ...] = ()  # e.g. ("SSE-C",) or ("NONE",)

    @property
    def is_kms(self) -> bool:
        return self.algorithm in KMS_ALGORITHMS


@dataclass(frozen=True)
class KeyMetadata:
    """What DescribeKey says about a KMS key."""

    arn: str
    key_id: str
    manager: str  # CUSTOMER or AWS
    state: str  # Enabled, Disabled, PendingDeletion, ...
    key_spec: str = "SYMMETRIC_DEFAULT"  # RSA_2048, ECC_NIST_P256, HMAC_256, ...
    origin: str = "AWS_KMS"  # EXTERNAL (imported material), AWS_CLOUDHSM, EXTERNAL_KEY_STORE

    @property
    def customer_managed(self) -> bool:
        return self.manager == CUSTOMER_MANAGED

    @property
    def aws_managed(self) -> bool:
        return self.manager == "AWS"

    @property
    def rotation_supported(self) -> bool:
        """Automatic rotation exists only for symmetric encryption keys whose material AWS KMS
        generated (AWS KMS Developer Guide, "Rotate AWS KMS keys"): not for asymmetric or HMAC
        keys, imported key material or keys in custom key stores."""
        return self.key_spec == "SYMMETRIC_DEFAULT" and self.origin == "AWS_KMS"


@dataclass(frozen=True)
class ObjectEncryption:
    """The SSE headers HeadObject returns for one object."""

    algorithm: str | None  # ServerSideEncryption; None when S3 reports none
    kms_key_id: str | None  # SSEKMSKeyId (a key ARN in AWS)


def object_location(uri: str | None) -> tuple[str, str] | None:
    """(bucket, key) of an s3:// or HTTPS S3 URI, or None. The key is customer content: pass it
    to HeadObject only, never into results or logs."""
    bucket = bucket_of(uri)
    if not bucket or not uri:
        return None
    parts = uri_parts(uri)
    if parts is None:
        return None
    scheme, host, raw_path = parts
    if scheme == "s3":
        key = raw_path[1:]  # s3:// URIs carry the key as is
    elif is_virtual_hosted(host):  # not host.startswith(bucket): a path-style bucket named s3.REGION would match
        key = unquote(raw_path)[1:]
    else:  # path style: /bucket/key
        path = unquote(raw_path)
        key = path[len(bucket) + 2:] if path.startswith(f"/{bucket}/") else ""
    return (bucket, key) if key else None


# --- the per-run cache ------------------------------------------------------------------------

class S3KmsLookups:
    """Bucket settings, key metadata and object headers for one run, each fetched at most once."""

    def __init__(self, client_factory: Any, account_id: str, region: str, partition: str = "aws",
                 expected_bucket_owner: str | None = None):
        self.client_factory = client_factory
        self.account_id = account_id
        self.region = region
        self.partition = partition
        self.expected_bucket_owner = expected_bucket_owner  # sent as ExpectedBucketOwner when set
        self._clients: dict[tuple[str, str], Any] = {}
        self._memo: dict[tuple[str, ...], Any] = {}
        self.calls: dict[str, int] = {}  # "s3.get_bucket_encryption" -> count, for tests and logs

    def _client(self, service: str, region: str | None = None) -> Any:
        region = region or self.region
        if (service, region) not in self._clients:
            self._clients[(service, region)] = self.client_factory.build_client(service, region=region)
        return self._clients[(service, region)]

    def _call(self, service: str, operation: str, region: str | None = None, **kwargs: Any) -> dict[str, Any]:
        name = f"{service}.{operation}"
        self.calls[name] = self.calls.get(name, 0) + 1
        result: dict[str, Any] = getattr(self._client(service, region), operation)(**kwargs)
        return result

    def _remember(self, memo_key: tuple[str, ...], fetch: Callable[[], Any]) -> Any:
        if memo_key not in self._memo:
            try:
                self._memo[memo_key] = fetch()
            except ClientError as error:
                LOGGER.info("lookup %s failed: %s", memo_key[0], error.response.get("Error", {}).get("Code"))
                self._memo[memo_key] = error
        found = self._memo[memo_key]
        if isinstance(found, ClientError):
            raise found
        return found

    def _bucket_call(self, operation: str, bucket: str) -> dict[str, Any]:
        """A bucket configuration read, with the bucket-owner check when one is set."""
        owner = {"ExpectedBucketOwner": self.expected_bucket_owner} if self.expected_bucket_owner else {}
        return self._call("s3", operation, Bucket=bucket, **owner)

    # S3 buckets --------------------------------------------------------------------------------

    def default_encryption(self, bucket: str) -> DefaultEncryption:
        """The bucket's default encryption; ``algorithm`` None when none is configured.
        Raises ClientError (remembered)."""
        found: DefaultEncryption = self._remember(("default_encryption", bucket),
                                                  lambda: self._fetch_default_encryption(bucket))
        return found

    def _fetch_default_encryption(self, bucket: str) -> DefaultEncryption:
        try:
            response = self._bucket_call("get_bucket_encryption", bucket)
        except ClientError as error:
            if _code(error) == _NO_ENCRYPTION:
                return DefaultEncryption(None, None)
            raise
        rules = (response.get("ServerSideEncryptionConfiguration") or {}).get("Rules") or []
        if not rules:
            return DefaultEncryption(None, None)
        rule = rules[0]
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        blocked = (rule.get("BlockedEncryptionTypes") or {}).get("EncryptionType") or []
        return DefaultEncryption(default.get("SSEAlgorithm"), default.get("KMSMasterKeyID") or None,
                                 bool(rule.get("BucketKeyEnabled")), tuple(blocked))

    def bucket_policy(self, bucket: str) -> str | None:
        """The bucket policy document, or None when the bucket has none. Raises ClientError."""
        found: str | None = self._remember(("bucket_policy", bucket), lambda: self._fetch_bucket_policy(bucket))
        return found

    def _fetch_bucket_policy(self, bucket: str) -> str | None:
        try:
            return str(self._bucket_call("get_bucket_policy", bucket)["Policy"])
        except ClientError as error:
            if _code(error) == _NO_POLICY:
                return None
            raise

    def public_access_block(self, bucket: str) -> dict[str, bool] | None:
        """The bucket's public access block settings, or None when it has none. Raises ClientError."""
        found: dict[str, bool] | None = self._remember(("public_access_block", bucket),
                                                       lambda: self._fetch_public_access_block(bucket))
        return found

    def _fetch_public_access_block(self, bucket: str) -> dict[str, bool] | None:
        try:
            response = self._bucket_call("get_public_access_block", bucket)
        except ClientError as error:
            if _code(error) == _NO_PUBLIC_ACCESS_BLOCK:
                return None
            raise
        return {k: bool(v) for k, v in (response.get("PublicAccessBlockConfiguration") or {}).items()}

    def bucket_tags(self, bucket: str) -> dict[str, str]:
        """The bucket's tags ({} when it has none). Values are customer content: match them, never
        report them. Raises ClientError (remembered)."""
        found: dict[str, str] = self._remember(("bucket_tags", bucket), lambda: self._fetch_bucket_tags(bucket))
        return found

    def _fetch_bucket_tags(self, bucket: str) -> dict[str, str]:
        try:
            tag_set = self._bucket_call("get_bucket_tagging", bucket).get("TagSet") or []
        except ClientError as error:
            if _code(error) == _NO_TAGS:
                return {}
            raise
        return {str(tag["Key"]): str(tag.get("Value", "")) for tag in tag_set}

    def buckets(self) -> list[tuple[str, str | None]]:
        """(name, region or None when S3 does not say) of every bucket the account owns, all
        pages of ListBuckets. Raises ClientError (remembered)."""
        found: list[tuple[str, str | None]] = self._remember(("buckets",), self._fetch_buckets)
        return found

    def _fetch_buckets(self) -> list[tuple[str, str | None]]:
        found: list[tuple[str, str | None]] = []
        kwargs: dict[str, Any] = {"MaxBuckets": LIST_BUCKETS_PAGE_SIZE}
        seen: set[str] = set()
        while True:
            page = self._call("s3", "list_buckets", **kwargs)
            found.extend((str(b["Name"]), b.get("BucketRegion")) for b in page.get("Buckets") or [] if b.get("Name"))
            token = page.get("ContinuationToken")
            if not token or token in seen:
                return found
            seen.add(token)
            kwargs["ContinuationToken"] = token

    def account_public_access_block(self) -> dict[str, bool] | None:
        """The account-level public access block (s3control GetPublicAccessBlock, IAM action
        s3:GetAccountPublicAccessBlock), or None when the account has none. Raises ClientError."""
        def fetch() -> dict[str, bool] | None:
            try:
                response = self._call("s3control", "get_public_access_block", AccountId=self.account_id)
            except ClientError as error:
                if _code(error) == _NO_PUBLIC_ACCESS_BLOCK:
                    return None
                raise
            return {k: bool(v) for k, v in (response.get("PublicAccessBlockConfiguration") or {}).items()}
        found: dict[str, bool] | None = self._remember(("account_public_access_block",), fetch)
        return found

    # S3 objects --------------------------------------------------------------------------------

    def object_encryption(self, bucket: str, key: str) -> ObjectEncryption:
        """The SSE headers of one object (HeadObject, needs s3:GetObject). Raises ClientError."""
        def fetch() -> ObjectEncryption:
            response = self._call("s3", "head_object", Bucket=bucket, Key=key)
            return ObjectEncryption(response.get("ServerSideEncryption"), response.get("SSEKMSKeyId") or None)
        found: ObjectEncryption = self._remember(("object_encryption", bucket, key), fetch)
        return found

    # KMS keys ----------------------------------------------------------------------------------

    def key(self, key_id: str) -> KeyMetadata:
        """DescribeKey for a key id, key ARN, alias name or alias ARN, in the key's own Region
        when the identifier is an ARN. Raises ClientError (remembered)."""
        region = key_region(key_id) or self.region

        def fetch() -> KeyMetadata:
            metadata = self._call("kms", "describe_key", region=region, KeyId=key_id)["KeyMetadata"]
            return KeyMetadata(arn=metadata["Arn"], key_id=metadata["KeyId"],
                               manager=metadata.get("KeyManager", ""), state=metadata.get("KeyState", ""),
                               key_spec=metadata.get("KeySpec") or "SYMMETRIC_DEFAULT",
                               origin=metadata.get("Origin") or "AWS_KMS")
        found: KeyMetadata = self._remember(("key", region, key_id), fetch)
        return found

    def key_policy(self, key_arn: str) -> str | None:
        """The key's policy (GetKeyPolicy, policy name ``default``, the only one KMS has), in the
        key's Region; None if the response carries none. Raises ClientError (remembered)."""
        def fetch() -> str | None:
            policy = self._call("kms", "get_key_policy", region=key_region(key_arn) or self.region, KeyId=key_arn,
                                PolicyName="default").get("Policy")
            return str(policy) if policy else None
        found: str | None = self._remember(("key_policy", key_arn), fetch)
        return found

    def key_rotation_enabled(self, key_arn: str) -> bool:
        """GetKeyRotationStatus KeyRotationEnabled, in the key's Region. Raises ClientError
        (remembered); AWS answers UnsupportedOperationException for keys without rotation."""
        found: bool = self._remember(("key_rotation", key_arn), lambda: bool(self._call(
            "kms", "get_key_rotation_status", region=key_region(key_arn) or self.region,
            KeyId=key_arn).get("KeyRotationEnabled")))
        return found


def key_region(key_id: str) -> str | None:
    parts = key_id.split(":")
    return parts[3] if key_id.startswith("arn:") and len(parts) > 5 and parts[3] else None


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code") or "")


_LOOKUPS: PerFactory[S3KmsLookups] = PerFactory("s3_kms_lookups")


def lookups_for(client_factory: Any, account_id: str, region: str, partition: str = "aws") -> S3KmsLookups:
    """The run's lookups: one per client factory (a ``scan`` shares one factory across rules;
    each Lambda invocation has its own), rebuilt when the account or Region changes. Bucket
    reads carry the bucket-owner check for ``account_id``."""
    lookups = _LOOKUPS.get(client_factory)
    if lookups is None or (lookups.account_id, lookups.region) != (account_id, region):
        lookups = S3KmsLookups(client_factory, account_id, region, partition, expected_bucket_owner=account_id)
        _LOOKUPS[client_factory] = lookups
    return lookups


# --- does a bucket policy enforce SSE-KMS? ----------------------------------------------------
#
# Judged by simulating PutObject requests with rules.policy.evaluation, never by searching the JSON. A probe
# is a pair of requests from the same principal: one asking for encryption the bucket must refuse
# and one asking for the bucket's own KMS key. The policy passes a probe when one of its Deny
# statements applies to the first request and not to the second: that statement refuses the
# request *because of* its encryption headers. (Unrelated denies, e.g. on a missing VPC endpoint
# or plain HTTP, deny both and prove nothing.) Requests that name no encryption are not probed:
# the bucket's KMS default encrypts them.

_OTHER_ACCOUNTS = ("111122223333", "444455556666")
_UNLISTED_KEY_ID = "00000000-0000-0000-0000-000000000000"
SSE = "s3:x-amz-server-side-encryption"
SSE_KMS_KEY = "s3:x-amz-server-side-encryption-aws-kms-key-id"
SSE_C = "s3:x-amz-server-side-encryption-customer-algorithm"


@dataclass(frozen=True)
class Probe:
    refused: Mapping[str, str]  # encryption request context the bucket must refuse
    what: str  # for annotations: "uploads that ask for SSE-S3 (AES256)"


def probe_principals(account_id: str, partition: str = "aws") -> list[tuple[str, dict[str, str]]]:
    """Every kind of caller a deny must cover: a role of the account, a role of another account,
    the Transcribe service and an anonymous caller, each with the context keys AWS would add."""
    other = next(a for a in _OTHER_ACCOUNTS if a != account_id)
    found: list[tuple[str, dict[str, str]]] = []
    for account in (account_id, other):
        role = f"arn:{partition}:iam::{account}:role/transcribe-guard-probe"
        found.append((role, {"aws:PrincipalAccount": account, "aws:PrincipalArn": role,
                             "aws:PrincipalType": "AssumedRole"}))
    found.append(("transcribe.amazonaws.com", {"aws:PrincipalServiceName": "transcribe.amazonaws.com",
                                               "aws:PrincipalIsAWSService": "true"}))
    found.append(("*", {"aws:PrincipalType": "Anonymous"}))
    return found


def kms_enforcement_probes(encryption: DefaultEncryption, allowed_key_arns: Sequence[str],
                           region: str, account_id: str, partition: str = "aws") -> list[Probe]:
    """The requests a bucket with KMS default ``encryption`` must refuse."""
    probes = [Probe({SSE: "AES256"}, "uploads that ask for SSE-S3 (AES256)")]
    if "NONE" in encryption.blocked_encryption_types:  # SSE-C explicitly allowed on the bucket
        probes.append(Probe({SSE_C: "AES256"}, "uploads that ask for SSE-C, which the bucket allows"))
    if allowed_key_arns:
        unlisted = f"arn:{partition}:kms:{region}:{account_id}:key/{_UNLISTED_KEY_ID}"
        probes.append(Probe({SSE: encryption.algorithm or "aws:kms", SSE_KMS_KEY: unlisted},
                            "uploads that name a KMS key outside KmsKeyArns"))
    return probes


def unrefused(policy: str | Mapping[str, Any] | None, bucket: str, probes: Iterable[Probe], accepted: Mapping[str, str],
              account_id: str, partition: str = "aws") -> Probe | None:
    """The first probe that the bucket policy does not refuse for every principal, or None when it
    refuses them all. ``accepted`` is the encryption context of an upload with the bucket's own
    KMS key. Raises PolicyError when the document is not a policy."""
    probes = list(probes)
    if policy is None:
        return probes[0] if probes else None
    found = statements(policy)
    resource = f"arn:{partition}:s3:::{bucket}/transcribe-guard-probe.json"
    for probe in probes:
        for principal, principal_context in probe_principals(account_id, partition):
            base = {"aws:SecureTransport": "true", **principal_context}
            refused = Request("s3:PutObject", resource, principal, {**base, **probe.refused})
            wanted = Request("s3:PutObject", resource, principal, {**base, **accepted})
            if not any(_refuses(statement, refused, wanted) for statement in found):
                return probe
    return None


def _refuses(statement: Mapping[str, Any], refused: Request, wanted: Request) -> bool:
    if statement.get("Effect") != "Deny":
        return False
    try:
        return statement_applies(statement, refused) and not statement_applies(statement, wanted)
    except ValueError:  # PolicyError included
        return False  # a statement we cannot evaluate proves nothing (the others may still)
