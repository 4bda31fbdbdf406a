"""What ran: who collected a bundle and which code the deployed pack's functions hold.

A bundle from AWS Config records, for each custom rule of the pack, the Lambda function its
Config rule invokes (DescribeConfigRules: Source.Owner CUSTOM_LAMBDA, Source.SourceIdentifier the
function ARN) and that function's CodeSha256 and Version (GetFunction: Configuration). Lambda's
CodeSha256 is the base64 of the SHA-256 of the deployment package
(https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html); the bundle compares
it with ``rule_code_sha256``, the SHA-256 of the package this transcribe-guard builds. A function
that runs other code, or that cannot be read, is a mismatch: the results it produced are not
known to come from the code the bundle names. A local scan (``--from scan``) or a saved one runs
no deployed function: the bundle says so instead.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Iterable

# IAM actions beyond evidence.CONFIG_ACTIONS that `evidence --from config` needs for this.
PROVENANCE_ACTIONS = ("config:DescribeConfigRules", "lambda:GetFunction")
DESCRIBE_RULES_BATCH = 25  # DescribeConfigRulesRequest.ConfigRuleNames: max 25 (botocore's config model)
NO_FUNCTIONS_SCAN = ("--from scan: no deployed function ran; the results come from the rules' code in this "
                     "transcribe-guard (rule_code_sha256), run locally.")
NO_FUNCTIONS_AGGREGATOR = ("--from aggregator: the deployed functions run in the delegated administrator's account in "
                           "each Region and were not read; the results are AWS Config's, through the aggregator.")
NO_FUNCTIONS_FILE = ("--from a saved scan: no deployed function ran; the results come from a local scan by the "
                     "transcribe-guard that saved the file.")


def caller_arn(session: Any) -> str:
    """Who collects: sts:GetCallerIdentity's Arn."""
    return str(session.client("sts").get_caller_identity()["Arn"])


def _hex(code_sha256: str | None) -> str | None:
    try:
        digest = base64.b64decode(code_sha256 or "", validate=True)
    except (binascii.Error, ValueError):
        return None
    return digest.hex() if len(digest) == 32 else None


def deployed_functions(session: Any, config_rule_names: dict[str, str], package_sha256: str) -> list[dict[str, Any]]:
    """One record per custom-Lambda rule of the pack (``config_rule_names``: registry name -> name
    in Config), sorted by rule: the function, its Version and CodeSha256, and whether that is the
    package ``package_sha256`` (hex)."""
    from botocore.exceptions import ClientError

    config, lam = session.client("config"), session.client("lambda")
    by_config_name = {config_name: name for name, config_name in config_rule_names.items()}
    names = sorted(by_config_name)
    records: list[dict[str, Any]] = []
    for start in range(0, len(names), DESCRIBE_RULES_BATCH):
        request: dict[str, Any] = {"ConfigRuleNames": names[start:start + DESCRIBE_RULES_BATCH]}
        while True:
            page = config.describe_config_rules(**request)
            for rule in page["ConfigRules"]:
                source = rule.get("Source", {})
                if source.get("Owner") != "CUSTOM_LAMBDA":
                    continue  # AWS managed rules and process checks run no function of ours
                records.append(_function_record(lam, by_config_name.get(rule["ConfigRuleName"], rule["ConfigRuleName"]),
                                                str(source.get("SourceIdentifier", "")), package_sha256, ClientError))
            if not page.get("NextToken"):
                break
            request["NextToken"] = page["NextToken"]
    return sorted(records, key=lambda r: r["rule"])


def _function_record(lam: Any, rule: str, function_arn: str, package_sha256: str,
                     client_error: type[Exception]) -> dict[str, Any]:
    record: dict[str, Any] = {"rule": rule, "function_arn": function_arn, "version": None, "code_sha256": None,
                              "matches_package": False, "problem": None}
    try:
        configuration = lam.get_function(FunctionName=function_arn)["Configuration"]
    except client_error as error:  # fail closed: code that cannot be read is not the package
        code = getattr(error, "response", {}).get("Error", {}).get("Code", "error")
        record["problem"] = f"Could not read the function: {code}"
        return record
    record["version"] = configuration.get("Version")
    record["code_sha256"] = configuration.get("CodeSha256")
    record["matches_package"] = _hex(record["code_sha256"]) == package_sha256
    if not record["matches_package"]:
        record["problem"] = "Its CodeSha256 is not the SHA-256 of the rule code package (rule_code_sha256)."
    return record


def mismatches(functions: Iterable[dict[str, Any]]) -> list[str]:
    """The rules whose function is not (or cannot be shown to be) the package."""
    return [f["rule"] for f in functions if not f["matches_package"]]
