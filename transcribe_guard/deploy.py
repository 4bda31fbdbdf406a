"""Deploy the functions stack and the conformance pack, start an evaluation, and read the
pack's compliance the way the AWS Config console shows it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
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


@dataclass
class PackCompliance:
    pack_name: str
    score: str
    rules: dict[str, str]  # rule name as in the registry -> COMPLIANT | NON_COMPLIANT | INSUFFICIENT_DATA
    results: list[dict[str, str]] = field(default_factory=list)  # rule, resource_type, resource_id, compliance


def base_rule_name(pack_rule_name: str) -> str:
    """Config names a pack's rules ``<name>-conformance-pack-<suffix>``."""
    return pack_rule_name.split(PACK_RULE_SUFFIX, 1)[0]


def _ensure_bucket(s3: Any, bucket: str, region: str) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
        return
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("404", "NoSuchBucket", "NotFound"):
            raise
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**kwargs)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})


def deploy(session: Any, pack_parameters: dict[str, str] | None = None, stack_name: str = STACK_NAME,
           pack_name: str = PACK_NAME, progress: Callable[[str], None] = lambda _: None) -> Deployment:
    from transcribe_guard.generate import _template_yaml, conformance_pack_yaml
    from transcribe_guard.package import build_zip
    from transcribe_guard.templates import functions_template

    region = session.region_name
    account = session.client("sts").get_caller_identity()["Account"]
    s3, cloudformation, config = (session.client(s) for s in ("s3", "cloudformation", "config"))

    data = build_zip()
    sha256 = hashlib.sha256(data).hexdigest()
    bucket, key = f"transcribe-guard-artifacts-{account}-{region}", f"transcribe-guard-rules-{sha256[:16]}.zip"
    progress(f"uploading the code package to s3://{bucket}/{key}")
    _ensure_bucket(s3, bucket, region)
    s3.put_object(Bucket=bucket, Key=key, Body=data)

    progress(f"deploying stack {stack_name}")
    stack_args = {"StackName": stack_name, "TemplateBody": _template_yaml(functions_template()),
                  "Capabilities": ["CAPABILITY_NAMED_IAM"],
                  "Parameters": [{"ParameterKey": "CodeBucket", "ParameterValue": bucket},
                                 {"ParameterKey": "CodeKey", "ParameterValue": key}]}
    try:
        cloudformation.describe_stacks(StackName=stack_name)
        exists = True
    except ClientError:
        exists = False
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

    progress(f"putting conformance pack {pack_name}")
    parameters = {"LambdaAccountId": account, **(pack_parameters or {})}
    response = config.put_conformance_pack(
        ConformancePackName=pack_name, TemplateBody=conformance_pack_yaml(),
        ConformancePackInputParameters=[{"ParameterName": k, "ParameterValue": v} for k, v in parameters.items()])
    return Deployment(account, region, bucket, key, sha256, stack_name, pack_name, response["ConformancePackArn"])


def pack_rule_names(config: Any, pack_name: str) -> list[str]:
    rows = config.describe_conformance_pack_compliance(ConformancePackName=pack_name)["ConformancePackRuleComplianceList"]
    return [row["ConfigRuleName"] for row in rows]


def start_evaluation(config: Any, pack_name: str, custom_only: bool = True) -> list[str]:
    """Start an evaluation of the pack's rules (25 per call, Config's limit)."""
    from rules.registry import RULES

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
