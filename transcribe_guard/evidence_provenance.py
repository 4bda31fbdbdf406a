"""What ran: who collected a bundle and which code the deployed pack's functions hold.

A bundle from AWS Config records, for each custom rule of the pack, the Lambda function its
Config rule invokes (DescribeConfigRules: Source.Owner CUSTOM_LAMBDA, Source.SourceIdentifier the
function ARN) and that function's CodeSha256 and Version (GetFunction: Configuration). Lambda's
CodeSha256 is the base64 of the SHA-256 of the deployment package
(https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html); the bundle compares
it with ``rule_code_sha256``, the SHA-256 of the package this transcribe-guard builds. A function
that runs other code (another CodeSha256, a Handler that is not its rule's module, or Lambda
layers, which could add code beside the package), or that cannot be read, is a mismatch, and so is a custom rule of the pack
whose Config rule runs no Lambda function (another Source.Owner, e.g. a Guard CUSTOM_POLICY) or
that DescribeConfigRules does not return: the results it produced are not
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

    from rules.catalog.registry import RULES

    config, lam = session.client("config"), session.client("lambda")
    by_config_name = {config_name: name for name, config_name in config_rule_names.items()}
    names = sorted(by_config_name)
    records: list[dict[str, Any]] = []
    seen: set[str] = set()
    for start in range(0, len(names), DESCRIBE_RULES_BATCH):
        request: dict[str, Any] = {"ConfigRuleNames": names[start:start + DESCRIBE_RULES_BATCH]}
        while True:
            page = config.describe_config_rules(**request)
            for rule in page["ConfigRules"]:
                source = rule.get("Source", {})
                name = by_config_name.get(rule["ConfigRuleName"], rule["ConfigRuleName"])
                seen.add(name)
                if source.get("Owner") != "CUSTOM_LAMBDA":
                    if name in RULES:  # one of our custom rules that runs something else: fail closed
                        records.append(_record(name, str(source.get("SourceIdentifier", "")),
                                               f"Its Config rule runs no Lambda function (Source.Owner "
                                               f"{source.get('Owner')}), not the rule code package."))
                    continue  # AWS managed rules and process checks run no function of ours
                records.append(_function_record(lam, name, str(source.get("SourceIdentifier", "")), package_sha256,
                                                ClientError))
            if not page.get("NextToken"):
                break
            request["NextToken"] = page["NextToken"]
    records += [_record(name, "", f"DescribeConfigRules did not return its Config rule {config_name}.")
                for name, config_name in sorted(config_rule_names.items()) if name in RULES and name not in seen]
    return sorted(records, key=lambda r: r["rule"])


def _record(rule: str, function_arn: str, problem: str | None) -> dict[str, Any]:
    return {"rule": rule, "function_arn": function_arn, "version": None, "code_sha256": None,
            "matches_package": False, "problem": problem}


def _function_record(lam: Any, rule: str, function_arn: str, package_sha256: str,
                     client_error: type[Exception]) -> dict[str, Any]:
    record = _record(rule, function_arn, None)
    try:
        configuration = lam.get_function(FunctionName=function_arn)["Configuration"]
    except client_error as error:  # fail closed: code that cannot be read is not the package
        code = getattr(error, "response", {}).get("Error", {}).get("Code", "error")
        record["problem"] = f"Could not read the function: {code}"
        return record
    from transcribe_guard.templates import handler

    record["version"] = configuration.get("Version")
    record["code_sha256"] = configuration.get("CodeSha256")
    # The package holds every rule, so its hash alone does not say which rule's code runs: the
    # Handler must be this rule's, and no layer may add code beside the package.
    layers = [str(layer.get("Arn", "")) if isinstance(layer, dict) else str(layer)
              for layer in configuration.get("Layers") or []]
    if _hex(record["code_sha256"]) != package_sha256:
        record["problem"] = "Its CodeSha256 is not the SHA-256 of the rule code package (rule_code_sha256)."
    elif configuration.get("Handler") != handler(rule):
        record["problem"] = f"Its Handler is {configuration.get('Handler')}, not {handler(rule)}."
    elif layers:
        record["problem"] = (f"It has Lambda layers ({', '.join(layers)}), which the package's functions never "
                             "have.")
    record["matches_package"] = record["problem"] is None
    return record


def mismatches(functions: Iterable[dict[str, Any]]) -> list[str]:
    """The rules whose function is not (or cannot be shown to be) the package."""
    return [f["rule"] for f in functions if not f["matches_package"]]
