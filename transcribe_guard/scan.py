"""Scan an account with the rules' own code, without the command line: ``transcribe-guard scan``,
the evidence collector (``evidence.collect_from_scan``) and the benchmark all call ``run_scan``
here, so none of them imports the CLI (which imports them: an import cycle otherwise).
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import IO, Any, Callable, Iterable, Iterator, Sequence

from transcribe_guard.findings import UNSCANNED_RULE  # re-exported: scan.UNSCANNED_RULE


class UsageError(Exception):
    """Bad input from the user: reported on one line, exit 2."""


# The SDK retry settings of the rule functions (transcribe_guard/templates.py): a scan retries
# throttling, 5xx errors and timeouts as the deployed rules do. Set only for the scan, and only
# where the environment does not already choose.
SDK_RETRY_ENVIRONMENT = {"AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": "5"}


@contextmanager
def sdk_retries() -> Iterator[None]:
    added = [name for name in SDK_RETRY_ENVIRONMENT if name not in os.environ]
    os.environ.update({name: SDK_RETRY_ENVIRONMENT[name] for name in added})
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def aws_session(profile: str | None = None, fallback_region: str | None = None) -> Any:
    """A boto3 session from the standard AWS SDK configuration (``profile``: that named profile),
    refused without a region unless the caller names Regions itself (``fallback_region``)."""
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        session = boto3.session.Session(profile_name=profile)
    except ProfileNotFound:
        raise UsageError(f"--profile {profile}: no such profile in the AWS config or credentials files.") from None
    if not session.region_name and fallback_region:  # --region given: the caller's own calls go to the first
        session = boto3.session.Session(profile_name=profile, region_name=fallback_region)
    if not session.region_name:
        raise UsageError("no AWS region configured: set AWS_DEFAULT_REGION (boto3 does not read AWS_REGION) or a profile region.")
    try:
        session.client("sts")
    except ValueError as error:  # how botocore refuses a malformed endpoint (AWS_ENDPOINT_URL, a profile's endpoint_url)
        raise UsageError(f"the AWS SDK configuration cannot build a client: {error}.") from None
    return session


def _utc_now() -> str:
    """ISO 8601 UTC to the second, the form AWS Config and Security Hub use for times."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_scan(rule_names: Sequence[str], parameters: dict[str, dict[str, Any]],
             progress: Callable[[str], None] | None = None,
             target: "ScanTarget | None" = None, known_tags: dict[str, dict[str, str]] | None = None,
             on_evaluation: Callable[[str], None] | None = None, max_tps: float | None = None) -> list[dict[str, str]]:
    """Every result of ``stream_scan`` in a list (for callers that want them all: the evidence
    collector, the benchmark, the tests)."""
    return list(stream_scan(rule_names, parameters, progress, target, known_tags, on_evaluation, max_tps))


def stream_scan(rule_names: Sequence[str], parameters: dict[str, dict[str, Any]],
                progress: Callable[[str], None] | None = None,
                target: "ScanTarget | None" = None, known_tags: dict[str, dict[str, str]] | None = None,
                on_evaluation: Callable[[str], None] | None = None,
                max_tps: float | None = None) -> Iterator[dict[str, str]]:
    """Run each rule's own evaluation (the code the Lambda runs, TranscribeGuardRule.iter_periodic)
    against the account and region the standard AWS SDK configuration selects (or every account
    and Region ``target`` names), with the rule functions' SDK retries, and yield each result as
    it is made: nothing per resource is held (memory is flat in the number of jobs). One client
    factory and one inventory per account and Region for all rules, so every resource is listed
    once and read at most once, the reads kept on disk (rules/inventory/local_ledger.py).
    ``max_tps`` caps the rate of every Transcribe Get (default: each one's quota, check_max_tps).
    ``known_tags``, when given, is filled with the tags of every Transcribe resource whose tags
    the scan read, by ARN (what ``--mutelist`` tags match); ``on_evaluation(rule)`` is called as
    each evaluation is made (progress counts), from one thread at a time."""
    if max_tps is not None:
        check_max_tps(max_tps)
    with sdk_retries():
        yield from _run_scan(rule_names, parameters, progress, target or ScanTarget(), known_tags, on_evaluation,
                             max_tps)


def check_max_tps(value: Any) -> float:
    """``--max-tps``: a positive, finite number of requests per second (UsageError otherwise)."""
    try:
        rate = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"--max-tps {value}: not a number (requests per second, like 30 or 2.5).") from None
    if not (rate > 0 and math.isfinite(rate)):
        raise UsageError(f"--max-tps {value}: must be a positive number of requests per second.")
    return rate


# --- which accounts and Regions ------------------------------------------------------------------

# Services whose data is one per account, not per Region: a rule that calls only these reads the
# same data from every Region, so a scan of several Regions runs it once per account, in the
# account's first Region. IAM is global ("IAM ... is a global service", IAM User Guide,
# https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_disable-perms.html
# and "Global services" in the AWS Regions reference); an account's effective AI services opt-out
# policy is one for all Regions (Organizations User Guide, orgs_manage_policies_ai-opt-out).
GLOBAL_SERVICES = frozenset({"iam", "organizations"})
DEFAULT_MAX_WORKERS = 8  # pairs at once by default (each pair also runs a few paced reads of its own)
MAX_WORKERS = 64
# UNSCANNED_RULE (imported above): the "rule" of the one row an account and Region that could not be
# scanned at all gets; findings gives that row its record.
ACCOUNT_RESOURCE_TYPE = "AWS::::Account"
ROLE_SESSION_NAME = "transcribe-guard-scan"

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
# IAM RoleName, STS ExternalId and Organizations ParentId patterns, from botocore's models
# (iam roleNameType, sts externalIdType, organizations ParentId).
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
_PARENT_ID = re.compile(r"^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$")


@dataclass(frozen=True)
class ScanTarget:
    """Which accounts and Regions a scan covers. The default (nothing set) is the account and
    Region of the AWS SDK configuration, as before: one pair, run in the calling thread."""

    regions: tuple[str, ...] = ()
    all_regions: bool = False
    profile: str | None = None
    role_name: str | None = None
    accounts: tuple[str, ...] = ()
    organization: bool = False
    ou: str | None = None
    external_id: str | None = None
    workers: int | None = None

    @property
    def several(self) -> bool:
        """Whether the scan may cover more than the SDK configuration's one account and Region
        (then an account or Region that cannot be reached gives a row, not a failed run)."""
        return bool(self.regions or self.all_regions or self.role_name)

    def validate(self) -> None:
        if self.regions and self.all_regions:
            raise UsageError("--region and --all-regions cannot be combined.")
        for region in self.regions:
            if not _REGION.match(region):
                raise UsageError(f"--region {region}: not a Region name (like us-east-1).")
        if (self.accounts or self.organization) and not self.role_name:
            raise UsageError("--account and --organization need --role-name, the role to assume in each account.")
        if self.role_name and not (self.accounts or self.organization):
            raise UsageError("--role-name needs --account ID (repeatable) or --organization.")
        if self.accounts and self.organization:
            raise UsageError("--account and --organization cannot be combined.")
        if self.role_name is not None and not _ROLE_NAME.match(self.role_name):
            raise UsageError(f"--role-name {self.role_name}: not an IAM role name (letters, digits and +=,.@_-, "
                             "at most 64).")
        for account in self.accounts:
            if not _ACCOUNT_ID.match(account):
                raise UsageError(f"--account {account}: not an AWS account id (12 digits).")
        if self.ou is not None and not self.organization:
            raise UsageError("--ou needs --organization.")
        if self.ou is not None and not _PARENT_ID.match(self.ou):
            raise UsageError(f"--ou {self.ou}: not an organizational unit or root id (ou-... or r-...).")
        if self.external_id is not None and not self.role_name:
            raise UsageError("--external-id needs --role-name.")
        if self.external_id is not None and not _EXTERNAL_ID.match(self.external_id):
            raise UsageError("--external-id: 2 to 1,224 of letters, digits and +=,.@:/-.")
        if self.workers is not None and not 1 <= self.workers <= MAX_WORKERS:
            raise UsageError(f"--workers {self.workers}: between 1 and {MAX_WORKERS}.")


def global_rules(rule_names: Sequence[str]) -> set[str]:
    """The rules whose every IAM action is on a global service (registry ``iam_actions``)."""
    from rules.catalog.registry import RULES
    return {name for name in rule_names if RULES[name].METADATA["iam_actions"]
            and all(action.split(":")[0] in GLOBAL_SERVICES for action in RULES[name].METADATA["iam_actions"])}


def organization_accounts(organizations: Any, ou: str | None = None, page_size: int | None = None) -> list[str]:
    """The ACTIVE accounts of the caller's organization (ListAccounts, every page), or of one OU
    and every OU below it (ListAccountsForParent over ListOrganizationalUnitsForParent). An account
    is ACTIVE when its ``State`` (or, where a response has no State, its older ``Status``) says so:
    suspended and closing accounts cannot be assumed into."""
    paging = {"PaginationConfig": {"PageSize": page_size}} if page_size else {}
    if ou is None:
        listed = [account for page in organizations.get_paginator("list_accounts").paginate(**paging)
                  for account in page["Accounts"]]
    else:
        listed, parents, seen = [], [ou], set()
        while parents:
            parent = parents.pop(0)
            if parent in seen:
                continue
            seen.add(parent)
            listed += [account for page in organizations.get_paginator("list_accounts_for_parent").paginate(
                ParentId=parent, **paging) for account in page["Accounts"]]
            parents += [unit["Id"] for page in organizations.get_paginator(
                "list_organizational_units_for_parent").paginate(ParentId=parent, **paging)
                for unit in page["OrganizationalUnits"]]
    ids: list[str] = []
    for account in listed:
        if (account.get("State") or account.get("Status")) == "ACTIVE" and account["Id"] not in ids:
            ids.append(str(account["Id"]))
    return ids


def enabled_regions(session: Any, partition: str) -> list[str]:
    """The Regions where Transcribe has an endpoint in the partition (botocore's endpoint data),
    among those enabled for the account: account:ListRegions (ENABLED or ENABLED_BY_DEFAULT),
    or, when that is refused or unknown, ec2:DescribeRegions (which lists the Regions enabled for
    the account unless AllRegions is set)."""
    from botocore.exceptions import BotoCoreError, ClientError

    offered = session.get_available_regions("transcribe", partition_name=partition)
    try:
        pages = session.client("account").get_paginator("list_regions").paginate(
            RegionOptStatusContains=["ENABLED", "ENABLED_BY_DEFAULT"])
        enabled = {region["RegionName"] for page in pages for region in page["Regions"]}
    except (ClientError, BotoCoreError):
        enabled = {region["RegionName"] for region in session.client("ec2").describe_regions()["Regions"]}
    return [region for region in sorted(offered) if region in enabled]


# --- running the pairs ---------------------------------------------------------------------------

class SessionClientFactory:
    """rdklib's ClientFactory interface over one boto3 session, for one account and Region.
    boto3 sessions are not thread-safe: each pair has its own session, and the few reader threads
    of a pair build their clients under a lock."""

    def __init__(self, session: Any, region: str):
        self.session, self.region = session, region
        self._lock = threading.Lock()

    def build_client(self, service: str, region: str | None = None, assume_role_mode: bool = True) -> Any:
        with self._lock:
            return self.session.client(service, region_name=region or self.region)


@dataclass(frozen=True)
class _Pair:
    account: str
    region: str
    rule_names: tuple[str, ...]


def _run_scan(rule_names: Sequence[str], parameters: dict[str, dict[str, Any]],
              progress: Callable[[str], None] | None, target: ScanTarget,
              known_tags: dict[str, dict[str, str]] | None = None,
              on_evaluation: Callable[[str], None] | None = None,
              max_tps: float | None = None) -> Iterator[dict[str, str]]:
    from transcribe_guard import custom_endpoint

    target.validate()
    custom_endpoint.install_default()  # s3control through AWS_ENDPOINT_URL=http://127.0.0.1:PORT (simulate)
    session = aws_session(target.profile, target.regions[0] if target.regions else None)
    identity = session.client("sts").get_caller_identity()
    caller, partition = str(identity["Account"]), str(identity["Arn"]).split(":")[1]
    if not target.several:  # the SDK configuration's account and Region (boto3's default session unless --profile)
        from rdklib import ClientFactory
        pair = _Pair(caller, session.region_name, tuple(rule_names))
        if target.profile:
            custom_endpoint.install(session)
            factory: Any = SessionClientFactory(session, pair.region)
        else:
            factory = ClientFactory(role_arn=None, region=pair.region, assume_role_mode=False)
        yield from _run_rules(pair, factory, parameters, progress, hooks=_Hooks(known_tags, on_evaluation, max_tps))
        return
    if target.organization:
        accounts = organization_accounts(session.client("organizations"), target.ou)
    else:
        accounts = list(dict.fromkeys(target.accounts)) or [caller]
    regions = (list(dict.fromkeys(target.regions)) if target.regions else
               enabled_regions(session, partition) if target.all_regions else [session.region_name])
    once = global_rules(rule_names)
    pairs = [_Pair(account, region, tuple(n for n in rule_names if n not in once or index == 0))
             for account in accounts for index, region in enumerate(regions)]
    if not pairs:
        return
    lock = threading.Lock()
    import botocore.loaders
    loader = botocore.loaders.create_loader()  # the service models parsed once for all pairs, not once a session

    def report(message: str) -> None:
        if progress:
            with lock:
                progress(message)

    def counted(rule: str) -> None:
        if on_evaluation:
            with lock:
                on_evaluation(rule)

    hooks = _Hooks(known_tags, counted if on_evaluation else None, max_tps)

    def run(pair: _Pair) -> _Spool:
        # Pairs run at once: each writes its results to a file of its own, read back in pair order.
        return _Spool(_scan_pair(pair, target, partition, parameters, report, loader, hooks))

    workers = target.workers or min(DEFAULT_MAX_WORKERS, len(pairs))
    spools: list[_Spool] = []  # every file made, closed however the scan ends

    def spooled(pair: _Pair) -> _Spool:
        spool = run(pair)
        spools.append(spool)
        return spool

    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="transcribe-guard-pair") as pool:
            done = list(pool.map(spooled, pairs))
            # An account whose first Region could not be scanned has not run its global rules: they run
            # in its next Region that was scanned (and stay unrun, with that row, when none was).
            moved = {}
            for account in accounts:
                own = [index for index, pair in enumerate(pairs) if pair.account == account]
                if once & set(rule_names) and done[own[0]].unscanned:
                    scanned = next((index for index in own[1:] if not done[index].unscanned), None)
                    if scanned is not None:
                        moved[scanned] = pool.submit(spooled, _Pair(account, pairs[scanned].region,
                                                                    tuple(n for n in rule_names if n in once)))
            extra = {index: future.result() for index, future in moved.items()}
        for index, spool in enumerate(done):
            yield from spool.rows()
            if index in extra:
                yield from extra[index].rows()
    finally:
        for spool in spools:
            spool.close()


class _Spool:
    """One pair's results in a temporary file (JSON lines), so that pairs scanned at once hold
    nothing per resource while they wait for their turn to be written out."""

    def __init__(self, rows: Iterable[dict[str, str]]):
        self._file: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")
        self.count = 0
        first: dict[str, str] | None = None
        for row in rows:
            first = first or row
            self._file.write(json.dumps(row) + "\n")
            self.count += 1
        self.unscanned = self.count == 1 and first is not None and first["rule"] == UNSCANNED_RULE

    def rows(self) -> Iterator[dict[str, str]]:
        self._file.seek(0)
        for line in self._file:
            yield json.loads(line)

    def close(self) -> None:
        self._file.close()


def _session(loader: Any, region: str, profile: str | None = None, credentials: dict[str, Any] | None = None) -> Any:
    """A new boto3 session (one per pair and thread) sharing ``loader``."""
    import boto3
    import botocore.session

    core = botocore.session.Session()
    core.register_component("data_loader", loader)
    keys = {} if credentials is None else {"aws_access_key_id": credentials["AccessKeyId"],
                                           "aws_secret_access_key": credentials["SecretAccessKey"],
                                           "aws_session_token": credentials["SessionToken"]}
    return boto3.session.Session(botocore_session=core, profile_name=profile, region_name=region, **keys)


def _scan_pair(pair: _Pair, target: ScanTarget, partition: str, parameters: dict[str, dict[str, Any]],
               progress: Callable[[str], None], loader: Any, hooks: "_Hooks") -> Iterable[dict[str, str]]:
    """One account and Region, in its own boto3 session: assumed into (when a role is named),
    reached (sts:GetCallerIdentity at the Region's endpoint), then every rule. A role that cannot
    be assumed or a Region that cannot be reached gives one row for the pair."""
    from botocore.exceptions import BotoCoreError, ClientError

    from rules.engine.base import _CONFIGURATION_ERRORS
    from transcribe_guard import custom_endpoint

    try:
        session = _session(loader, pair.region, profile=target.profile)
        if target.role_name:
            extra = {"ExternalId": target.external_id} if target.external_id else {}
            credentials = session.client("sts").assume_role(
                RoleArn=f"arn:{partition}:iam::{pair.account}:role/{target.role_name}",
                RoleSessionName=ROLE_SESSION_NAME, **extra)["Credentials"]
            session = _session(loader, pair.region, credentials=credentials)
        custom_endpoint.install(session)
        reached = str(session.client("sts").get_caller_identity()["Account"])
    except _CONFIGURATION_ERRORS:
        raise
    except ClientError as error:
        return [_unscanned(pair, str(error.response.get("Error", {}).get("Code") or "ClientError"), target)]
    except BotoCoreError as error:
        return [_unscanned(pair, type(error).__name__, target)]
    if reached != pair.account:  # fail closed: results must name the account they were read from
        return [_unscanned(pair, "AccountMismatch", target)]
    return _run_rules(pair, SessionClientFactory(session, pair.region), parameters, progress, several=True, hooks=hooks)


def _unscanned(pair: _Pair, code: str, target: ScanTarget) -> dict[str, str]:
    how = (f"the role {target.role_name} could not be assumed or the Region not reached" if target.role_name
           else "the Region could not be reached")
    return {"account": pair.account, "region": pair.region, "evaluated_at": _utc_now(), "rule": UNSCANNED_RULE,
            "resource_type": ACCOUNT_RESOURCE_TYPE, "resource_id": pair.account, "compliance": "NON_COMPLIANT",
            "annotation": f"Could not evaluate: {code[:80]} ({how}); no rule ran for this account and Region."}


@dataclass(frozen=True)
class _Hooks:
    """What the command line watches and sets while a scan runs (mutelist tags, progress counts,
    --max-tps)."""

    known_tags: dict[str, dict[str, str]] | None = None
    on_evaluation: Callable[[str], None] | None = None
    max_tps: float | None = None


def scan_inventory(client_factory: Any, account_id: str, store: Any, max_tps: float | None = None) -> Any:
    """A scan's Transcribe inventory for one account and Region (StoredInventory over ``store``),
    paced at each operation's applied quota (documented where Service Quotas reports none, asked
    on the first Transcribe call), every Get at most ``max_tps``."""
    from rules.engine.base import applied_quotas_of, fail_closed
    from rules.engine.pacing import DOCUMENTED_QUOTAS, RateLimiter, capped_rates, shared_limiter
    from rules.inventory.local_ledger import StoredInventory, read_workers
    from rules.inventory.transcribe import ALL_KINDS

    factory = fail_closed(client_factory)
    client = factory.build_client("transcribe")
    gets = sorted({kind.get_operation for kind in ALL_KINDS})

    def limiter() -> RateLimiter:
        if max_tps is None:  # the process's limiter for the pair, shared with every other reader of its quotas
            return shared_limiter(account_id, client.meta.region_name, lambda: applied_quotas_of(factory))
        return RateLimiter(capped_rates({**DOCUMENTED_QUOTAS, **applied_quotas_of(factory)}, max_tps, gets))

    return StoredInventory(client, account_id, store, client.meta.partition, limiter_factory=limiter,
                           read_workers=lambda rates: read_workers(rates, gets))


def _run_rules(pair: _Pair, client_factory: Any, parameters: dict[str, dict[str, Any]],
               progress: Callable[[str], None] | None, several: bool = False,
               hooks: _Hooks = _Hooks()) -> Iterator[dict[str, str]]:
    from rules.catalog.registry import RULES
    from rules.engine.base import observe_evaluations, use_inventory
    from rules.inventory.local_ledger import LocalLedger, ReadAhead
    from transcribe_guard.events import scheduled_notification

    store = LocalLedger()
    read_ahead: ReadAhead | None = None
    try:
        inventory = scan_inventory(client_factory, pair.account, store, hooks.max_tps)
        inventory.tags_seen = hooks.known_tags
        use_inventory(client_factory, inventory)
        if hooks.on_evaluation is not None:
            observe_evaluations(client_factory, hooks.on_evaluation)
        # What the rules will read of every resource, read from the start, every kind at once: the
        # first rules judge from List summaries alone, and each kind's Get has a quota of its own.
        rules = {name: RULES[name]() for name in pair.rule_names}
        reads: dict[Any, set[str]] = {}
        for name, rule in rules.items():
            for kind, what in rule.reads_every(parameters[name]):
                reads.setdefault(kind, set()).add(what)
        read_ahead = ReadAhead(inventory, reads).start()
        for index, name in enumerate(pair.rule_names, 1):
            if progress:
                progress(f"[{index}/{len(pair.rule_names)}] {name}" + (f" ({pair.account} {pair.region})" if several else ""))
            rule = rules[name]
            event = scheduled_notification(name, pair.account, "TESTMODE", region=pair.region)
            for evaluation in rule.iter_periodic(event, client_factory, parameters[name]):
                yield {
                    # Where and when: a result read later (evidence, findings, a merged multi-account run) names its
                    # account and Region, and its own time rather than the time it was read.
                    "account": pair.account,
                    "region": pair.region,
                    "evaluated_at": _utc_now(),
                    "rule": name,
                    "resource_type": evaluation.complianceResourceType,
                    "resource_id": evaluation.complianceResourceId,
                    "compliance": evaluation.complianceType,
                    "annotation": evaluation.annotation or "",
                }
    finally:
        if read_ahead is not None:
            read_ahead.close()
        store.close()
