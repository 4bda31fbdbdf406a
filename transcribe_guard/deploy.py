"""Deploy the functions stack and the conformance pack, start an evaluation, and read the
pack's compliance the way the AWS Config console shows it."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from botocore.exceptions import ClientError

STACK_NAME = "transcribe-guard-functions"
PACK_NAME = "transcribe-guard"
PACK_RULE_SUFFIX = "-conformance-pack-"


@dataclass
class Deployment:
    account: str
    region: str
    code_bucket: str
    code_key: str
    code_sha256: str
    stack_name: str
    pack_name: str
    pack_arn: str
    code_version: str = ""  # the S3 object version the functions stack pins
    ledger_sweep: dict[str, Any] | None = None  # the collector's first sweep (first_ledger_sweep), with the ledger


@dataclass
class PackCompliance:
    pack_name: str
    score: str
    rules: dict[str, str]  # rule name as in the registry -> COMPLIANT | NON_COMPLIANT | INSUFFICIENT_DATA
    results: list[dict[str, str]] = field(default_factory=list)  # rule, resource_type, resource_id, compliance


def base_rule_name(pack_rule_name: str) -> str:
    """Config names a pack's rules ``<name>-conformance-pack-<suffix>``."""
    return pack_rule_name.split(PACK_RULE_SUFFIX, 1)[0]


class DeployError(Exception):
    """The deployment refused to go on: the message says what was wrong."""


# --- the ledger (TranscribeLedger; transcribe_guard/templates.py) -------------------------------

# The functions role's inline policies (transcribe_guard/templates.py): the role-creating stack
# attaches one of the two; every Region's stack attaches its own RegionPolicy.
LIVE_READS_POLICY = "evaluate"
LEDGER_READS_POLICY = "evaluate-with-ledger"
REGION_POLICY_PREFIX = "transcribe-guard-"
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:([a-z0-9-]+):[0-9]{12}:(key|alias)/[A-Za-z0-9/_+=,.@-]+$")


@dataclass(frozen=True)
class LedgerSettings:
    """``deploy --ledger``: TranscribeLedger=enabled, the customer managed key of each Region's
    table (LedgerKmsKeyArn: a KMS key is used in its own Region, so one ARN per Region) and the
    collector's share of each Transcribe quota (LedgerGetShare; None: the template's default)."""

    enabled: bool = False
    kms_keys: tuple[str, ...] = ()
    get_share: str | None = None

    def key_for(self, region: str) -> str:
        keys = [arn for arn in self.kms_keys if _KMS_KEY_ARN.match(arn).group(1) == region]  # type: ignore[union-attr]
        if len(keys) > 1:
            raise DeployError(f"--ledger-kms-key: {len(keys)} keys in {region}; give one key per Region.")
        if self.kms_keys and not keys:
            raise DeployError(f"--ledger-kms-key: no key in {region} (given: "
                              f"{', '.join(sorted({_KMS_KEY_ARN.match(a).group(1) for a in self.kms_keys}))}); "  # type: ignore[union-attr]
                              "a KMS key encrypts a table in its own Region only: give one key ARN per Region.")
        return keys[0] if keys else ""

    def stack_parameters(self, region: str) -> list[dict[str, str]]:
        parameters = [{"ParameterKey": "TranscribeLedger", "ParameterValue": "enabled" if self.enabled else "disabled"}]
        if self.enabled:
            parameters.append({"ParameterKey": "LedgerKmsKeyArn", "ParameterValue": self.key_for(region)})
            if self.get_share is not None:
                parameters.append({"ParameterKey": "LedgerGetShare", "ParameterValue": self.get_share})
        return parameters


def ledger_settings(enabled: bool, kms_keys: list[str] | None = None, get_share: str | None = None) -> LedgerSettings:
    """Validated ``--ledger`` options, or DeployError naming the bad one."""
    kms_keys = list(kms_keys or [])
    if not enabled and (kms_keys or get_share is not None):
        raise DeployError("--ledger-kms-key and --ledger-get-share configure the ledger: add --ledger.")
    for arn in kms_keys:
        if not _KMS_KEY_ARN.match(arn):
            raise DeployError(f"--ledger-kms-key {arn}: expected a KMS key ARN "
                              "(arn:aws:kms:REGION:ACCOUNT:key/KEY-ID).")
    share = None
    if get_share is not None:
        try:
            number = Decimal(str(get_share).strip())
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite() or not Decimal(0) < number <= Decimal(1):
            raise DeployError(f"--ledger-get-share {get_share}: expected a share of each Transcribe quota above 0 "
                              "and at most 1 (e.g. 0.2: the collector keeps to 20%, your pipeline the rest).")
        share = format(number.normalize(), "f")
        if share.startswith("0."):  # the template's AllowedPattern
            share = share.rstrip("0")
    return LedgerSettings(True, tuple(kms_keys), share) if enabled else LedgerSettings()


def _role_reads(iam: Any) -> tuple[bool | None, set[str]]:
    """Whether the account's functions role reads the ledger (True), Transcribe live (False) or
    neither yet (None), and the Regions whose functions stacks use it (their RegionPolicy)."""
    from transcribe_guard.templates import FUNCTIONS_ROLE_NAME

    names: list[str] = []
    try:
        for page in iam.get_paginator("list_role_policies").paginate(RoleName=FUNCTIONS_ROLE_NAME):
            names.extend(page["PolicyNames"])
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchEntity":
            return None, set()
        raise
    regions = {name[len(REGION_POLICY_PREFIX):] for name in names if name.startswith(REGION_POLICY_PREFIX)}
    if LEDGER_READS_POLICY in names:
        return True, regions
    return (False if LIVE_READS_POLICY in names else None), regions


def check_ledger_regions(iam: Any, regions: list[str], ledger: LedgerSettings) -> None:
    """The functions role is global and its reads are those of the stack that created it: every
    Region's functions read the ledger, or none does. Turning the ledger on or off must therefore
    deploy every Region that has the functions; refuse a deployment that would leave the others
    with functions their role no longer lets read."""
    reads_ledger, deployed = _role_reads(iam)
    if reads_ledger is None or reads_ledger == ledger.enabled:
        return
    others = sorted(deployed - set(regions))
    if others:
        now = "reads the ledger" if reads_ledger else "reads Transcribe live"
        raise DeployError(f"the functions role is shared by every Region's functions stack and {now}; turning the "
                          f"ledger {'on' if ledger.enabled else 'off'} in {', '.join(regions)} alone would leave "
                          f"{', '.join(others)} unable to read: deploy them too (--region "
                          f"{' --region '.join(others)}, or --all-regions).")


def _ensure_bucket(s3: Any, bucket: str, region: str, account: str) -> None:
    """The artifact bucket, ours: its name is predictable, so another account may have created it
    first. Every call carries ExpectedBucketOwner (S3 then refuses a bucket of another account with
    403; https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html).
    CreateBucket takes no ExpectedBucketOwner: after creating, the owner is checked again."""
    try:
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account)
        exists = True
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code in ("403", "AccessDenied", "Forbidden"):
            raise DeployError(f"bucket {bucket} exists but is not owned by account {account} (or this account may "
                              f"not use it); refusing to upload the code package there") from error
        if code not in ("404", "NoSuchBucket", "NotFound"):
            raise
        exists = False
    if not exists:
        kwargs: dict[str, Any] = {"Bucket": bucket}
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            s3.create_bucket(**kwargs)
        except ClientError as error:
            if error.response["Error"]["Code"] == "BucketAlreadyExists":  # another account won the race
                raise DeployError(f"bucket {bucket} was just created by another account; refusing to upload the "
                                  "code package there") from error
            raise
        s3.put_public_access_block(Bucket=bucket, ExpectedBucketOwner=account, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
        s3.put_bucket_encryption(Bucket=bucket, ExpectedBucketOwner=account, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    # Versioning, so the functions stack can pin the exact object version it was given (also on a
    # bucket made by an earlier deploy that had none).
    s3.put_bucket_versioning(Bucket=bucket, ExpectedBucketOwner=account,
                             VersioningConfiguration={"Status": "Enabled"})


def code_sha256(data: bytes) -> str:
    """Lambda's CodeSha256 of a zip: the base64 of its SHA-256 digest (GetFunctionConfiguration,
    https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html)."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def verify_function_code(lam: Any, names: list[str], expected: str) -> None:
    """Every rule function runs exactly the package we built, or the deploy fails naming them."""
    wrong = []
    for name in names:
        try:
            actual = lam.get_function_configuration(FunctionName=name)["CodeSha256"]
        except ClientError as error:
            actual = f"unreadable ({error.response['Error']['Code']})"
        if actual != expected:
            wrong.append(f"{name} ({actual})")
    if wrong:
        raise DeployError(f"functions whose code is not the package built here (CodeSha256 {expected}): "
                          + ", ".join(wrong))


def check_pack_parameters(values: dict[str, str]) -> None:
    """Refuse values the pack does not accept before anything is uploaded or deployed."""
    import yaml

    from transcribe_guard.generate import conformance_pack_yaml
    from transcribe_guard.pack_validation import parameter_value_problems

    problems = parameter_value_problems(yaml.safe_load(conformance_pack_yaml()), values)
    if problems:
        raise DeployError("bad --pack-parameter values: " + "; ".join(problems))


def deploy(session: Any, pack_parameters: dict[str, str] | None = None, stack_name: str = STACK_NAME,
           pack_name: str = PACK_NAME, progress: Callable[[str], None] = lambda _: None,
           organization_id: str = "", put_pack: bool = True, event_triggers: bool = False,
           ledger: LedgerSettings | None = None) -> Deployment:
    """The code package, the functions stack and (``put_pack``) the account's pack in the session's
    Region. ``organization_id``: the functions serve the organization's accounts (an organization
    pack, put separately, names them), assuming the member role in each. ``event_triggers``: EnableEventTriggers=true
    (single account only). ``ledger``: TranscribeLedger and its settings (with ``organization_id``,
    the collector sweeps every account of the organization through its member role)."""
    from transcribe_guard.templates import COLLECTOR_NAME

    ledger = ledger or LedgerSettings()
    from rules.catalog.registry import RULES
    from transcribe_guard.generate import _template_yaml, conformance_pack_yaml
    from transcribe_guard.package import build_zip
    from transcribe_guard.templates import functions_template

    region = session.region_name
    account = session.client("sts").get_caller_identity()["Account"]
    parameters = {"LambdaAccountId": account, **(pack_parameters or {})}
    if put_pack:
        check_pack_parameters(parameters)
    s3, cloudformation, config, lam = (session.client(s) for s in ("s3", "cloudformation", "config", "lambda"))

    data = build_zip()
    sha256 = hashlib.sha256(data).hexdigest()
    bucket, key = f"transcribe-guard-artifacts-{account}-{region}", f"transcribe-guard-rules-{sha256[:16]}.zip"
    progress(f"uploading the code package to s3://{bucket}/{key}")
    _ensure_bucket(s3, bucket, region, account)
    # S3 checks the body against ChecksumSHA256 and refuses a mismatch.
    put = s3.put_object(Bucket=bucket, Key=key, Body=data, ExpectedBucketOwner=account,
                        ChecksumSHA256=base64.b64encode(hashlib.sha256(data).digest()).decode("ascii"))
    version = put.get("VersionId")
    if not version or version == "null":
        raise DeployError(f"s3://{bucket}/{key} got no object version; versioning must be enabled on {bucket}")

    try:
        stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
        exists = True
    except ClientError:
        stack, exists = {}, False
    create_role = _create_role_value(session, stack)
    progress(f"deploying stack {stack_name} (code object version {version}; "
             f"{'creates' if create_role == 'true' else 'attaches a policy to'} the functions' role)")
    # The template goes by S3: CreateStack's TemplateBody takes at most 51,200 bytes, a TemplateURL's
    # object far more (CloudFormation API reference, CreateStack), and the functions template, one
    # function per rule plus the optional ledger and triggers, is larger.
    body = _template_yaml(functions_template()).encode("utf-8")
    template_key = f"transcribe-guard-functions-{hashlib.sha256(body).hexdigest()[:16]}.yaml"
    s3.put_object(Bucket=bucket, Key=template_key, Body=body, ExpectedBucketOwner=account,
                  ChecksumSHA256=base64.b64encode(hashlib.sha256(body).digest()).decode("ascii"))
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    stack_args = {"StackName": stack_name, "TemplateURL": f"https://{bucket}.s3.{region}.{suffix}/{template_key}",
                  "Capabilities": ["CAPABILITY_NAMED_IAM"],
                  "Parameters": [{"ParameterKey": "CodeBucket", "ParameterValue": bucket},
                                 {"ParameterKey": "CodeKey", "ParameterValue": key},
                                 {"ParameterKey": "CodeObjectVersion", "ParameterValue": version},
                                 {"ParameterKey": "CreateFunctionsRole", "ParameterValue": create_role},
                                 {"ParameterKey": "OrganizationId", "ParameterValue": organization_id},
                                 {"ParameterKey": "EnableEventTriggers",
                                  "ParameterValue": "true" if event_triggers else "false"},
                                 *ledger.stack_parameters(region)]}
    if exists:
        try:
            cloudformation.update_stack(**stack_args)
            cloudformation.get_waiter("stack_update_complete").wait(StackName=stack_name)
        except ClientError as error:
            if "No updates are to be performed" not in str(error):
                raise
    else:
        cloudformation.create_stack(**stack_args)
        cloudformation.get_waiter("stack_create_complete").wait(StackName=stack_name)

    progress("checking that every function runs the package built here")
    verify_function_code(lam, list(RULES) + ([COLLECTOR_NAME] if ledger.enabled else []), code_sha256(data))

    # The pack's rules run as soon as it is put: the ledger swept first, or they would report
    # "Could not evaluate: LedgerNotSwept" until a day's run after the hourly sweep. An organization's
    # first sweep waits for the member role (org_deploy).
    swept = first_ledger_sweep(session, progress) if ledger.enabled and not organization_id else None
    if not put_pack:
        return Deployment(account, region, bucket, key, sha256, stack_name, pack_name, "", version, swept)
    progress(f"putting conformance pack {pack_name}")
    response = config.put_conformance_pack(
        ConformancePackName=pack_name, TemplateBody=conformance_pack_yaml(),
        ConformancePackInputParameters=[{"ParameterName": k, "ParameterValue": v} for k, v in parameters.items()])
    return Deployment(account, region, bucket, key, sha256, stack_name, pack_name, response["ConformancePackArn"],
                      version, swept)


def _create_role_value(session: Any, stack: dict[str, Any]) -> str:
    """CreateFunctionsRole for this Region's functions stack: what the stack already has, else
    "true" unless the account's role exists (made by the stack of another Region: IAM is global)."""
    from transcribe_guard.templates import FUNCTIONS_ROLE_NAME

    for parameter in stack.get("Parameters", []):
        if parameter["ParameterKey"] == "CreateFunctionsRole":
            return str(parameter["ParameterValue"])
    if stack:
        return "true"  # a stack from before the parameter existed created the role
    try:
        session.client("iam").get_role(RoleName=FUNCTIONS_ROLE_NAME)
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchEntity":
            return "true"
        raise
    return "false"


def deploy_regions(regions: list[str], pack_parameters: dict[str, str] | None = None, stack_name: str = STACK_NAME,
                   pack_name: str = PACK_NAME, progress: Callable[[str], None] = lambda _: None,
                   session_factory: Callable[[str], Any] | None = None,
                   event_triggers: bool = False, ledger: LedgerSettings | None = None) -> list[Deployment]:
    """``deploy`` in each Region, one after the other (the first creates the account's functions
    role). AWS Config invokes a custom rule's function only in the rule's own Region, so every
    Region with Transcribe needs its own functions and pack (and, with ``event_triggers``, its own
    event trigger; with ``ledger``, its own ledger table and collector)."""
    import boto3

    factory = session_factory or (lambda region: boto3.session.Session(region_name=region))
    ledger = ledger or LedgerSettings()
    for region in regions:  # every key checked before anything is deployed
        ledger.stack_parameters(region)
    if regions:
        check_ledger_regions(factory(regions[0]).client("iam"), regions, ledger)
    done = []
    for region in regions:
        progress(f"[{region}] deploying")
        done.append(deploy(factory(region), pack_parameters, stack_name, pack_name,
                           lambda message, region=region: progress(f"[{region}] {message}"),
                           event_triggers=event_triggers, ledger=ledger))
    return done


def enabled_regions(session: Any) -> list[str]:
    """The Regions where botocore's endpoint data has Transcribe and the account has them enabled
    (EC2 DescribeRegions lists only enabled Regions unless AllRegions is set:
    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeRegions.html)."""
    offered = set(session.get_available_regions("transcribe"))
    enabled = {r["RegionName"] for r in session.client("ec2").describe_regions()["Regions"]}
    return sorted(offered & enabled)


def pack_rule_names(config: Any, pack_name: str) -> list[str]:
    rows = config.describe_conformance_pack_compliance(ConformancePackName=pack_name)["ConformancePackRuleComplianceList"]
    return [row["ConfigRuleName"] for row in rows]


def start_evaluation(config: Any, pack_name: str, custom_only: bool = True) -> list[str]:
    """Start an evaluation of the pack's rules (25 per call, Config's limit)."""
    from rules.catalog.registry import RULES

    names = [n for n in pack_rule_names(config, pack_name) if not custom_only or base_rule_name(n) in RULES]
    for start in range(0, len(names), 25):
        config.start_config_rules_evaluation(ConfigRuleNames=names[start:start + 25])
    return names


def pack_compliance(config: Any, pack_name: str) -> PackCompliance:
    rows = config.describe_conformance_pack_compliance(ConformancePackName=pack_name)["ConformancePackRuleComplianceList"]
    rules = {base_rule_name(r["ConfigRuleName"]): r["ComplianceType"] for r in rows}
    results: list[dict[str, str]] = []
    kwargs: dict[str, Any] = {"ConformancePackName": pack_name, "Limit": 100}
    while True:
        page = config.get_conformance_pack_compliance_details(**kwargs)
        for result in page["ConformancePackRuleEvaluationResults"]:
            qualifier = result["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
            results.append({"rule": base_rule_name(qualifier["ConfigRuleName"]), "resource_type": qualifier["ResourceType"],
                            "resource_id": qualifier["ResourceId"], "compliance": result["ComplianceType"],
                            "annotation": result.get("Annotation", "")})
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    scores = config.list_conformance_pack_compliance_scores(
        Filters={"ConformancePackNames": [pack_name]})["ConformancePackComplianceScores"]
    return PackCompliance(pack_name, scores[0]["Score"] if scores else "0.00", rules, results)


# --- the demo ----------------------------------------------------------------------------------

def demo_pack_parameters() -> dict[str, str]:
    """The demo account's policy (scan_parameters.DEMO_PARAMETERS) as conformance pack parameters."""
    from transcribe_guard.scan_parameters import DEMO_PARAMETERS

    return {f"TranscribeResourceTaggedParam{name}": value
            for name, value in DEMO_PARAMETERS.get("transcribe-resource-tagged", {}).items()}


def deploy_demo_pack(session: Any, pack_name: str) -> tuple[Deployment, list[str]]:
    """In the simulated demo account: deploy the functions and the pack, and start its evaluation
    (the simulator evaluates at once)."""
    done = deploy(session, demo_pack_parameters(), pack_name=pack_name)
    return done, start_evaluation(session.client("config"), done.pack_name)


# --- the ledger in the demo --------------------------------------------------------------------

FIRST_SWEEP_EVENT = {"detail-type": "Scheduled Event", "source": "transcribe-guard.deploy"}  # a sweep, as the schedule's


def first_ledger_sweep(session: Any, progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Invoke the collector once and wait for it (RequestResponse; Lambda runs it up to its 15
    minutes, so the read timeout is longer), so that the rules' first run reads a swept ledger.
    Returns its summary, or {"error": ...} when the invocation failed; a sweep that did not finish
    (a large account) is said, and the hourly sweeps go on from where it stopped."""
    import json

    from botocore.config import Config

    from transcribe_guard.templates import COLLECTOR_NAME

    lam = session.client("lambda", config=Config(read_timeout=960, retries={"max_attempts": 1}))
    progress(f"the collector's first sweep ({COLLECTOR_NAME}), before the rules first run")
    answer = lam.invoke(FunctionName=COLLECTOR_NAME, InvocationType="RequestResponse",
                        Payload=json.dumps(FIRST_SWEEP_EVENT).encode("utf-8"))
    raw = answer["Payload"].read()
    try:
        summary = json.loads(raw or b"{}")
    except ValueError:
        summary = {"errorMessage": raw[:200].decode("utf-8", "replace")}
    if answer.get("FunctionError") or not isinstance(summary, dict) or not summary.get("collector"):
        message = summary.get("errorMessage") if isinstance(summary, dict) else None
        progress(f"the collector's first sweep failed ({message or answer.get('FunctionError')}); until a sweep "
                 "completes, the rules report \"Could not evaluate: LedgerNotSwept\"")
        return {"error": str(message or answer.get("FunctionError") or "no summary")}
    unfinished = (summary["accounts"] - summary["swept_completely"] if summary.get("organization")
                  else sum(1 for done in (summary.get("swept") or {}).values() if not done))
    if unfinished:
        progress(f"the collector's first sweep did not finish ({unfinished} "
                 f"{'accounts' if summary.get('organization') else 'kinds'} left); the hourly sweeps go on, and "
                 "until they finish the rules report those \"Could not evaluate: LedgerNotSwept\"")
    return summary


def demo_ledger_sweep(session: Any, summary: dict[str, Any] | None) -> list[str]:
    """The lines the demo prints of the collector's first sweep (``summary``, Deployment.ledger_sweep)."""
    from transcribe_guard.templates import LEDGER_TABLE

    if not summary or "error" in summary:
        raise DeployError(f"the collector's first sweep failed: {(summary or {}).get('error', 'not run')}")
    records = session.client("dynamodb").scan(TableName=LEDGER_TABLE, Select="COUNT")["Count"]
    problems = "; ".join(str(p) for p in summary.get("problems") or []) or "none"
    accounts = (f" of {summary['swept_completely']} of the organization's {summary['accounts']} accounts"
                if summary.get("organization") else "")
    return [f"Ledger: the collector's sweep read {summary['gets']} Transcribe resources{accounts} into {LEDGER_TABLE} "
            f"({records} items with its watermarks; problems: {problems}); the rules read it, not Transcribe."]


# --- the event triggers in the demo ------------------------------------------------------------

DEMO_EVENT_JOB = "demo-event-driven-job"


def demo_event_trigger(session: Any, pack_name: str) -> list[str]:
    """In the simulated demo account deployed with event triggers: start one job whose transcript
    goes to the service bucket unredacted, let the simulated EventBridge deliver its state-change
    event, and report the verdicts the trigger's on-demand evaluation stored, with no scheduled
    run in between. Returns the lines to print."""
    import datetime as dt

    from transcribe_guard.simulator import clock, eventbridge
    from transcribe_guard.simulator.conformance import evaluation_calls

    account = session.client("sts").get_caller_identity()["Account"]
    region = session.region_name
    calls_before = len(evaluation_calls(account, region))
    eventbridge.outbox(account, region).clear()  # what the deployment's own calls emitted
    transcribe = session.client("transcribe")
    job = transcribe.start_transcription_job(
        TranscriptionJobName=DEMO_EVENT_JOB, LanguageCode="en-US",
        Media={"MediaFileUri": "s3://acme-cc-call-audio/calls/2026/11/call-0001.wav"})["TranscriptionJob"]
    finished = transcribe.get_transcription_job(TranscriptionJobName=DEMO_EVENT_JOB)["TranscriptionJob"]
    completed = finished.get("CompletionTime") or job.get("CreationTime")
    clock.advance(dt.timedelta(seconds=eventbridge.DELIVERY_SECONDS))
    delivered = eventbridge.deliver_due(account, region)
    started = sorted({name for function, out in delivered if isinstance(out, dict) for name in out.get("started", [])})
    calls = evaluation_calls(account, region)[calls_before:]
    arn = finished["TranscriptionJobArn"] if "TranscriptionJobArn" in finished else (
        f"arn:aws:transcribe:{region}:{account}:transcription-job/{DEMO_EVENT_JOB}")
    lines = [f"Event-driven evaluation: job {DEMO_EVENT_JOB} finished ({finished['TranscriptionJobStatus']}); "
             f"EventBridge ran the event trigger {len(delivered)} time(s); it made "
             f"{len(calls)} StartConfigRulesEvaluation call(s) for {len(started)} rules (no scheduled run)."]
    config = session.client("config")
    for name in started:
        results = config.get_compliance_details_by_config_rule(
            ConfigRuleName=name, ComplianceTypes=["COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"], Limit=100)
        kwargs: dict[str, Any] = {}
        while True:
            for result in results["EvaluationResults"]:
                qualifier = result["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
                if qualifier["ResourceId"] == arn:
                    after = (result["ResultRecordedTime"] - completed).total_seconds() if completed else None
                    lines.append(f"  {base_rule_name(name)}: {result['ComplianceType']}, stored "
                                 + (f"{after:.1f} s after the job finished" if after is not None else "")
                                 + (f" ({result['Annotation']})" if result.get("Annotation") else ""))
            if not results.get("NextToken"):
                break
            kwargs["NextToken"] = results["NextToken"]
            results = config.get_compliance_details_by_config_rule(
                ConfigRuleName=name, ComplianceTypes=["COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"], Limit=100,
                **kwargs)
    return lines
