"""Conformance packs and rule evaluation in the simulated AWS Config.

moto 5.2.5 has no PutConformancePack and never runs a rule. Here:

- PutConformancePack expands the template (parameters, conditions, Ref/Fn::Sub/Fn::If/...) into
  Config rules, named like Config names pack rules (``<name>-conformance-pack-<suffix>``);
  DescribeConformancePacks / DeleteConformancePack / DescribeConformancePackStatus manage them.
- StartConfigRulesEvaluation runs each CUSTOM_LAMBDA rule's function in-process: the handler that
  the moto Lambda function names (``rules.<module>.lambda_handler``), called with a real
  ScheduledNotification event and a result token, exactly as Config would invoke it. The run is
  synchronous, so results are readable when the call returns. AWS managed rules and process
  checks are not evaluated (their results stay INSUFFICIENT_DATA).
- DescribeConformancePackCompliance, GetConformancePackComplianceDetails and
  ListConformancePackComplianceScores read the stored results (see config.py).

The compliance score is Config's: compliant rule-resource combinations over compliant plus
non-compliant ones, as a percentage with two decimals (NOT_APPLICABLE is left out).
"""

from __future__ import annotations

import importlib
import json
import os
import random
import re
import string
import threading
import uuid
from typing import Any

import yaml
from moto.config import models as config_models
from moto.config.responses import ConfigResponse
from moto.core.exceptions import JsonRESTError

from transcribe_guard.simulator.config import (InvalidNextTokenException, InvalidParameterValueException,
                                               ValidationException, result_token, rule_compliance, stored_results)

PROCESS_CHECK = "AWS_CONFIG_PROCESS_CHECK"
PACK_COMPLIANCE = ("COMPLIANT", "NON_COMPLIANT", "INSUFFICIENT_DATA")
_LOCK = threading.RLock()

# Where handlers reach the simulator when it runs as a server (set by SimulatorServer).
SERVING = {"endpoint_url": None}


class NoSuchConformancePackException(JsonRESTError):
    code = 400

    def __init__(self, name: str):
        super().__init__("NoSuchConformancePackException", f"Cannot find conformance pack with name '{name}'.")


class NoSuchConfigRuleException(JsonRESTError):
    code = 400

    def __init__(self, name: str):
        super().__init__("NoSuchConfigRuleException", f"The ConfigRule '{name}' provided in the request is invalid.")


def _packs(backend: Any) -> dict[str, dict[str, Any]]:
    packs: dict[str, dict[str, Any]] = backend.__dict__.setdefault("_transcribe_guard_packs", {})
    return packs


# --- template expansion ------------------------------------------------------------------------

class TemplateError(ValueError):
    pass


class _Resolver:
    def __init__(self, template: dict[str, Any], parameters: dict[str, str], account: str, region: str):
        self.values: dict[str, Any] = {
            "AWS::AccountId": account, "AWS::Region": region, "AWS::URLSuffix": "amazonaws.com",
            "AWS::Partition": "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws",
            "AWS::StackName": "conformance-pack", "AWS::NoValue": None,
        }
        declared = template.get("Parameters") or {}
        unknown = sorted(set(parameters) - set(declared))
        if unknown:
            raise TemplateError(f"Parameter {unknown[0]} is not declared in the template.")
        for name, spec in declared.items():
            if name in parameters:
                value = parameters[name]
            elif "Default" in spec:
                value = str(spec["Default"])
            else:
                raise TemplateError(f"Parameter {name} has no value and no default.")
            allowed = spec.get("AllowedValues")
            if allowed is not None and value not in [str(v) for v in allowed]:
                raise TemplateError(f"Parameter {name} must be one of {allowed}.")
            self.values[name] = value
        self.conditions_source = template.get("Conditions") or {}
        self.conditions: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            if name not in self.conditions_source:
                raise TemplateError(f"Condition {name} is not defined.")
            self.conditions[name] = bool(self.resolve(self.conditions_source[name]))
        return self.conditions[name]

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.resolve(item) for item in node) if v is not None]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, value), = node.items()
            if key == "Ref":
                if value not in self.values:
                    raise TemplateError(f"Ref {value} names no parameter.")
                return self.values[value]
            if key == "Fn::Sub":
                text, extra = (value, {}) if isinstance(value, str) else (value[0], self.resolve(value[1]))
                for name in set(re.findall(r"\$\{([^}!]+)\}", text)):
                    if name in extra:
                        replacement = extra[name]
                    elif name in self.values:
                        replacement = self.values[name]
                    else:
                        raise TemplateError(f"Fn::Sub variable {name} names no parameter.")
                    text = text.replace("${" + name + "}", str(replacement))
                return text
            if key == "Fn::If":
                return self.resolve(value[1] if self.condition(value[0]) else value[2])
            if key == "Fn::Equals":
                left, right = (self.resolve(v) for v in value)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.resolve(value[0])
            if key == "Fn::And":
                return all(self.resolve(v) for v in value)
            if key == "Fn::Or":
                return any(self.resolve(v) for v in value)
            if key == "Condition":
                return self.condition(value)
            if key == "Fn::Join":
                return str(value[0]).join(str(v) for v in self.resolve(value[1]))
        return {k: v for k, v in ((k, self.resolve(v)) for k, v in node.items()) if v is not None}


def expand_template(body: str, parameters: dict[str, str], account: str, region: str) -> list[dict[str, Any]]:
    """The ConfigRule property sets a conformance pack template creates."""
    try:
        template = yaml.safe_load(body)
    except yaml.YAMLError as error:
        raise TemplateError(f"The template is not valid YAML: {error}") from None
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise TemplateError("The template has no Resources.")
    resolver = _Resolver(template, parameters, account, region)
    rules = []
    for logical_id, resource in template["Resources"].items():
        kind = resource.get("Type")
        if kind not in ("AWS::Config::ConfigRule", "AWS::Config::RemediationConfiguration"):
            raise TemplateError(f"Resource {logical_id} has type {kind}; a conformance pack allows only "
                                "AWS::Config::ConfigRule and AWS::Config::RemediationConfiguration.")
        if "Condition" in resource and not resolver.condition(resource["Condition"]):
            continue
        if kind == "AWS::Config::ConfigRule":
            rules.append(resolver.resolve(resource.get("Properties") or {}))
    return rules


# --- operations --------------------------------------------------------------------------------

def _now() -> float:
    from transcribe_guard.simulator import clock
    return clock.now().timestamp()


def _template_body(self: ConfigResponse) -> str:
    body = self._get_param("TemplateBody")
    uri = self._get_param("TemplateS3Uri")
    if bool(body) == bool(uri):
        raise ValidationException("Specify either TemplateBody or TemplateS3Uri.")
    if body:
        if len(body.encode()) > 51_200:
            raise ValidationException("TemplateBody is larger than 51,200 bytes; use TemplateS3Uri.")
        return str(body)
    from moto.s3.models import s3_backends
    if not str(uri).startswith("s3://"):
        raise ValidationException("TemplateS3Uri must be an s3:// URI.")
    bucket, _, key = str(uri)[5:].partition("/")
    try:
        data = s3_backends[self.current_account]["aws"].get_object(bucket, key).value
    except Exception:
        raise ValidationException(f"Unable to read the template at {uri}.") from None
    if len(data) > 300 * 1024:
        raise ValidationException("The template at TemplateS3Uri is larger than 300 KB.")
    return data.decode("utf-8")


def put_conformance_pack(self: ConfigResponse) -> str:
    parameters = {p["ParameterName"]: p["ParameterValue"] for p in self._get_param("ConformancePackInputParameters") or []}
    pack = deploy_pack(self.config_backend, self.current_account, self.region, self._get_param("ConformancePackName"),
                       _template_body(self), parameters, self._get_param("DeliveryS3Bucket"))
    return json.dumps({"ConformancePackArn": pack["ConformancePackArn"]})


def deploy_pack(backend: Any, account: str, region: str, name: str, body: str, parameters: dict[str, str],
                delivery_bucket: str | None = None) -> dict[str, Any]:
    """Create or update the pack ``name`` in one account and Region (what PutConformancePack does,
    and what an organization pack does in each member account)."""
    if len(parameters) > 60:
        raise ValidationException("A conformance pack takes at most 60 input parameters.")
    try:
        rule_properties = expand_template(body, parameters, account, region)
    except TemplateError as error:
        raise ValidationException(str(error)) from None
    if len(rule_properties) > 130:
        raise ValidationException("A conformance pack holds at most 130 rules.")
    with _LOCK:
        packs = _packs(backend)
        pack = packs.get(name)
        if pack is None:
            pack_id = "conformance-pack-" + "".join(random.choices(string.ascii_lowercase + string.digits, k=12))
            pack = {"ConformancePackName": name, "ConformancePackId": pack_id,
                    "ConformancePackArn": f"arn:aws:config:{region}:{account}:conformance-pack/{name}/{pack_id}",
                    "Suffix": "".join(random.choices(string.ascii_lowercase + string.digits, k=8)), "Rules": {}}
        new_rules: dict[str, str] = {}
        for properties in rule_properties:
            base_name = properties["ConfigRuleName"]
            rule_name = f"{base_name}-conformance-pack-{pack['Suffix']}"
            request = {key: value for key, value in properties.items() if key != "InputParameters"}
            request["ConfigRuleName"] = rule_name
            if properties.get("InputParameters"):
                request["InputParameters"] = json.dumps(properties["InputParameters"])
            try:
                backend.put_config_rule(request)
            except JsonRESTError as error:
                raise ValidationException(f"Rule {base_name}: {error.message}") from None
            new_rules[base_name] = rule_name
        for base_name, rule_name in pack["Rules"].items():
            if base_name not in new_rules and rule_name in backend.config_rules:
                backend.delete_config_rule(rule_name)
        pack.update({"Rules": new_rules, "ConformancePackInputParameters": [
            {"ParameterName": k, "ParameterValue": v} for k, v in parameters.items()], "LastUpdateRequestedTime": _now(),
            "DeliveryS3Bucket": delivery_bucket})
        packs[name] = pack
    return pack


def _pack(self: ConfigResponse, name: str) -> dict[str, Any]:
    pack = _packs(self.config_backend).get(name)
    if pack is None:
        raise NoSuchConformancePackException(name)
    return pack


def describe_conformance_packs(self: ConfigResponse) -> str:
    names = self._get_param("ConformancePackNames") or sorted(_packs(self.config_backend))
    details = []
    for name in names:
        pack = _pack(self, name)
        detail = {k: pack[k] for k in ("ConformancePackName", "ConformancePackArn", "ConformancePackId",
                                       "ConformancePackInputParameters", "LastUpdateRequestedTime")}
        if pack.get("DeliveryS3Bucket"):
            detail["DeliveryS3Bucket"] = pack["DeliveryS3Bucket"]
        details.append(detail)
    return json.dumps({"ConformancePackDetails": details})


def describe_conformance_pack_status(self: ConfigResponse) -> str:
    names = self._get_param("ConformancePackNames") or sorted(_packs(self.config_backend))
    statuses = []
    for name in names:
        pack = _pack(self, name)
        statuses.append({"ConformancePackName": name, "ConformancePackId": pack["ConformancePackId"],
                         "ConformancePackArn": pack["ConformancePackArn"], "ConformancePackState": "CREATE_COMPLETE",
                         "StackArn": f"arn:aws:cloudformation:{self.region}:{self.current_account}:stack/"
                                     f"awsconfigconforms-{name}/{uuid.uuid5(uuid.NAMESPACE_URL, pack['ConformancePackArn'])}",
                         "LastUpdateRequestedTime": pack["LastUpdateRequestedTime"],
                         "LastUpdateCompletedTime": pack["LastUpdateRequestedTime"]})
    return json.dumps({"ConformancePackStatusDetails": statuses})


def delete_conformance_pack(self: ConfigResponse) -> str:
    name = self._get_param("ConformancePackName")
    with _LOCK:
        pack = _pack(self, name)
        for rule_name in pack["Rules"].values():
            if rule_name in self.config_backend.config_rules:
                self.config_backend.delete_config_rule(rule_name)
        del _packs(self.config_backend)[name]
    return "{}"


def _rule_compliance_for_pack(backend: Any, rule_name: str) -> str:
    compliance = rule_compliance(backend, rule_name)["ComplianceType"]
    return compliance if compliance in PACK_COMPLIANCE else "INSUFFICIENT_DATA"


def describe_conformance_pack_compliance(self: ConfigResponse) -> str:
    pack = _pack(self, self._get_param("ConformancePackName"))
    filters = self._get_param("Filters") or {}
    wanted_rules = filters.get("ConfigRuleNames") or []
    wanted_type = filters.get("ComplianceType")
    rows = []
    for rule_name in sorted(pack["Rules"].values()):
        if wanted_rules and rule_name not in wanted_rules:
            continue
        compliance = _rule_compliance_for_pack(self.config_backend, rule_name)
        if wanted_type and compliance != wanted_type:
            continue
        rows.append({"ConfigRuleName": rule_name, "ComplianceType": compliance, "Controls": []})
    return json.dumps({"ConformancePackName": pack["ConformancePackName"], "ConformancePackRuleComplianceList": rows})


def _page(items: list[Any], token: str | None, limit: int) -> tuple[list[Any], str | None]:
    start = 0
    if token:
        try:
            start = int(token)
        except ValueError:
            raise InvalidNextTokenException() from None
    end = start + limit
    return items[start:end], (str(end) if end < len(items) else None)


def get_conformance_pack_compliance_details(self: ConfigResponse) -> str:
    pack = _pack(self, self._get_param("ConformancePackName"))
    filters = self._get_param("Filters") or {}
    limit = int(self._get_param("Limit") or 100)
    if not 0 <= limit <= 100:
        raise InvalidParameterValueException("Limit must be between 0 and 100.")
    results = []
    for rule_name in sorted(pack["Rules"].values()):
        if filters.get("ConfigRuleNames") and rule_name not in filters["ConfigRuleNames"]:
            continue
        for record in sorted(stored_results(self.config_backend, rule_name).values(),
                             key=lambda r: (r["ResourceType"], r["ResourceId"])):
            if record["ComplianceType"] not in ("COMPLIANT", "NON_COMPLIANT"):
                continue  # pack details list compliant and non-compliant results only
            if filters.get("ComplianceType") and record["ComplianceType"] != filters["ComplianceType"]:
                continue
            if filters.get("ResourceType") and record["ResourceType"] != filters["ResourceType"]:
                continue
            if filters.get("ResourceIds") and record["ResourceId"] not in filters["ResourceIds"]:
                continue
            result = {"ComplianceType": record["ComplianceType"],
                      "EvaluationResultIdentifier": {
                          "EvaluationResultQualifier": {"ConfigRuleName": rule_name, "ResourceType": record["ResourceType"],
                                                        "ResourceId": record["ResourceId"], "EvaluationMode": "DETECTIVE"},
                          "OrderingTimestamp": record["OrderingTimestamp"]},
                      "ConfigRuleInvokedTime": record["ConfigRuleInvokedTime"],
                      "ResultRecordedTime": record["ResultRecordedTime"]}
            if record.get("Annotation"):
                result["Annotation"] = record["Annotation"]
            results.append(result)
    page, next_token = _page(results, self._get_param("NextToken"), limit or 100)
    body: dict[str, Any] = {"ConformancePackName": pack["ConformancePackName"], "ConformancePackRuleEvaluationResults": page}
    if next_token:
        body["NextToken"] = next_token
    return json.dumps(body)


def compliance_score(backend: Any, pack: dict[str, Any]) -> str:
    compliant = non_compliant = 0
    for rule_name in pack["Rules"].values():
        for record in stored_results(backend, rule_name).values():
            compliant += record["ComplianceType"] == "COMPLIANT"
            non_compliant += record["ComplianceType"] == "NON_COMPLIANT"
    total = compliant + non_compliant
    return f"{100.0 * compliant / total:.2f}" if total else "0.00"


def list_conformance_pack_compliance_scores(self: ConfigResponse) -> str:
    names = (self._get_param("Filters") or {}).get("ConformancePackNames") or sorted(_packs(self.config_backend))
    scores = []
    for name in names:
        pack = _packs(self.config_backend).get(name)
        if pack is not None:
            scores.append({"Score": compliance_score(self.config_backend, pack), "ConformancePackName": name,
                           "LastUpdatedTime": _now()})
    return json.dumps({"ConformancePackComplianceScores": scores})


class LimitExceededException(JsonRESTError):
    code = 400

    def __init__(self, message: str):
        super().__init__("LimitExceededException", message)


# How StartConfigRulesEvaluation behaves. "sync" (the default): the rules run before the call
# returns. "async": as in AWS, the call only starts the evaluation; Config invokes each rule
# ``dispatch_seconds`` later (AWS documents no figure: an assumption) when ``run_due`` is called, and
# a call naming a rule whose evaluation has not finished, or a second call within a minute, gets
# LimitExceededException ("thrown if an evaluation is in progress or if you call the
# StartConfigRulesEvaluation API more than once per minute": botocore's config model).
EVALUATION: dict[str, Any] = {"mode": "sync", "dispatch_seconds": 30.0}


def _evaluations(backend: Any) -> dict[str, Any]:
    state: dict[str, Any] = backend.__dict__.setdefault(
        "_transcribe_guard_evaluations", {"queued": [], "last_call": None, "status": {}, "calls": []})
    return state


def start_config_rules_evaluation(self: ConfigResponse) -> str:
    names = self._get_param("ConfigRuleNames") or []
    if not 1 <= len(names) <= 25:
        raise InvalidParameterValueException("ConfigRuleNames must name 1 to 25 rules.")
    backend = self.config_backend
    for name in names:
        if name not in backend.config_rules:
            raise NoSuchConfigRuleException(name)
    from transcribe_guard.simulator import clock
    state = _evaluations(backend)
    now = clock.now().timestamp()
    if EVALUATION["mode"] == "async":
        with _LOCK:
            busy = {name for _, batch in state["queued"] for name in batch}
            if busy & set(names):
                raise LimitExceededException("An evaluation of the specified rules is in progress.")
            if state["last_call"] is not None and now - state["last_call"] < 60:
                raise LimitExceededException("StartConfigRulesEvaluation may be called once per minute.")
            state["last_call"] = now
            state["calls"].append((now, list(names)))
            state["queued"].append((now + float(EVALUATION["dispatch_seconds"]), list(names)))
        return "{}"
    state["calls"].append((now, list(names)))
    for name in names:
        invoke_rule(backend, name, self.current_account, self.region)
    return "{}"


def run_due(account: str, region: str) -> list[str]:
    """Async mode: run the evaluations Config has dispatched by now (simulated clock); returns the
    rules run. An evaluation stays in progress until its rules have run."""
    from moto.config.models import config_backends

    from transcribe_guard.simulator import clock
    backend = config_backends[account][region]
    state = _evaluations(backend)
    ran: list[str] = []
    while True:
        now = clock.now().timestamp()
        with _LOCK:
            due = [item for item in state["queued"] if item[0] <= now]
        if not due:
            return ran
        item = min(due, key=lambda entry: entry[0])
        for name in item[1]:
            if name in backend.config_rules:
                invoke_rule(backend, name, account, region)
                ran.append(name)
        with _LOCK:
            state["queued"].remove(item)


def next_dispatch(account: str, region: str) -> float | None:
    from moto.config.models import config_backends
    return min((item[0] for item in _evaluations(config_backends[account][region])["queued"]), default=None)


def evaluation_calls(account: str, region: str) -> list[tuple[float, list[str]]]:
    """Every StartConfigRulesEvaluation call accepted: (time, rule names)."""
    from moto.config.models import config_backends
    calls: list[tuple[float, list[str]]] = _evaluations(config_backends[account][region])["calls"]
    return calls


def describe_config_rule_evaluation_status(self: ConfigResponse) -> str:
    """Each rule's last invocation times, as invoke_rule recorded them (ConfigRuleNames: at most 50)."""
    backend = self.config_backend
    names = self._get_param("ConfigRuleNames") or sorted(backend.config_rules)
    if len(names) > 50:
        raise InvalidParameterValueException("ConfigRuleNames can name at most 50 rules.")
    for name in names:
        _require_rule(backend, name)
    statuses = _evaluations(backend)["status"]
    rows = []
    for name in names:
        rule = backend.config_rules[name]
        row: dict[str, Any] = {"ConfigRuleName": name, "ConfigRuleArn": rule.config_rule_arn,
                               "ConfigRuleId": rule.config_rule_id, "FirstEvaluationStarted": name in statuses}
        row.update(statuses.get(name, {}))
        rows.append(row)
    return json.dumps({"ConfigRulesEvaluationStatus": rows})


def _require_rule(backend: Any, name: str) -> None:
    if name not in backend.config_rules:
        raise NoSuchConfigRuleException(name)


# What invoke_rule sets or clears for a handler, restored afterwards.
_HANDLER_ENVIRONMENT = ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID",
                        "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE",
                        "AWS_DEFAULT_PROFILE")


def _serving_environment(endpoint_url: str) -> None:
    """A served simulator runs handlers in its own process (``transcribe-guard simulate``), which has
    no credentials of its own: give them what Lambda gives a function, credentials in the
    environment (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime),
    here the simulator's dummy ones, no profile, and every client pointed back at the simulator.
    In-process, moto's mock already supplies dummy credentials and intercepts every client."""
    from transcribe_guard import custom_endpoint
    for name in ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(name, None)
    os.environ.update({"AWS_ENDPOINT_URL": endpoint_url, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing"})
    custom_endpoint.install_default()  # s3control's account-prefixed host on 127.0.0.1


_DEFAULT_ACCOUNT = "123456789012"  # moto's default account: what the simulator's dummy credentials map to


def _run_as_functions_role(account: str, role_arn: str, region: str) -> None:
    """Lambda runs a function with its execution role's credentials in the environment: here the
    role is assumed through the simulator (moto maps the credentials to the role's account), so
    the function's own calls (its checkpoints, in its account) land where they would in AWS."""
    import boto3
    endpoint = SERVING["endpoint_url"]
    sts = boto3.client("sts", region_name=region, endpoint_url=str(endpoint) if endpoint else None,
                       aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
                       aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"))
    arn = role_arn or f"arn:aws:iam::{account}:role/transcribe-guard-functions"
    credentials = sts.assume_role(RoleArn=arn, RoleSessionName="lambda")["Credentials"]
    os.environ.update({"AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
                       "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
                       "AWS_SESSION_TOKEN": credentials["SessionToken"]})


def _handler(function: Any) -> Any:
    module_name, _, function_name = function.handler.rpartition(".")
    if not module_name.startswith("rules."):
        raise ValidationException(f"The simulator only runs transcribe-guard handlers, not {function.handler}.")
    return getattr(importlib.import_module(module_name), function_name)


def _call(handler: Any, event: Any, region: str, function: Any, function_account: str,
          variables: dict[str, str] | None = None) -> Any:
    saved = {k: os.environ.get(k) for k in (*_HANDLER_ENVIRONMENT, *(variables or {}))}
    with _LOCK:
        try:
            if SERVING["endpoint_url"]:
                _serving_environment(str(SERVING["endpoint_url"]))
            os.environ.update(variables or {})
            os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = region
            if function_account != _DEFAULT_ACCOUNT:
                _run_as_functions_role(function_account, function.role, region)
            return handler(event, None)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def run_function(account: str, region: str, function_name: str, event: Any) -> Any:
    """Invoke a transcribe-guard Lambda function in-process with ``event``, its environment
    variables set as Lambda sets them (what the simulated EventBridge does for a target)."""
    from moto.awslambda.utils import get_backend as lambda_backend
    function = lambda_backend(account, region).get_function(function_name)
    variables = {str(k): str(v) for k, v in (function.environment_vars or {}).items()}
    return _call(_handler(function), event, region, function, account, variables)


def invoke_rule(backend: Any, rule_name: str, account: str, region: str) -> Any:
    """Run a custom Lambda rule's handler as Config would for a periodic run."""
    rule = backend.config_rules[rule_name]
    if rule.source.owner != "CUSTOM_LAMBDA":
        return None  # managed rules and process checks are not simulated
    from moto.awslambda.utils import get_backend as lambda_backend
    # The function may live in another account: an organization pack's rules in each member
    # account name the functions of the delegated administrator by ARN (LambdaAccountId).
    source = str(rule.source.source_identifier)
    arn_parts = source.split(":")
    function_account = arn_parts[4] if source.startswith("arn:") and len(arn_parts) > 6 else account
    function = lambda_backend(function_account, region).get_function(source)
    handler = _handler(function)
    from transcribe_guard.events import scheduled_notification
    parameters = json.loads(rule.input_parameters) if rule.input_parameters else {}
    from transcribe_guard.simulator import clock
    event = scheduled_notification(rule_name, account, result_token(rule_name), region=region,
                                   rule_parameters=parameters,
                                   frequency=rule.maximum_execution_frequency or "TwentyFour_Hours",
                                   now=clock.now())  # the simulated time, like the jobs' timestamps
    status = _evaluations(backend)["status"].setdefault(rule_name, {})
    # Lambda runs the function with its environment variables (the ledger table among them).
    variables = {str(k): str(v) for k, v in (function.environment_vars or {}).items()}
    try:
        result = _call(handler, event, region, function, function_account, variables)
    except Exception:
        status["LastFailedInvocationTime"] = clock.now().timestamp()
        raise
    status["LastSuccessfulInvocationTime"] = status["LastSuccessfulEvaluationTime"] = clock.now().timestamp()
    return result


def install() -> None:
    # Config accepts process checks; moto's managed-rule list lacks them.
    config_models.MANAGED_RULES_CONSTRAINTS.setdefault(PROCESS_CHECK, {"Parameters": [], "Trigger type": "Process"})
    for operation in (put_conformance_pack, describe_conformance_packs, describe_conformance_pack_status,
                      delete_conformance_pack, describe_conformance_pack_compliance,
                      get_conformance_pack_compliance_details, list_conformance_pack_compliance_scores,
                      start_config_rules_evaluation, describe_config_rule_evaluation_status):
        setattr(ConfigResponse, operation.__name__, operation)
