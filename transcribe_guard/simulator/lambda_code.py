"""What Lambda does with a deployment package that moto 5.2.5 does not.

- ``Code.S3ObjectVersion`` (CreateFunction, UpdateFunctionCode and CloudFormation's
  AWS::Lambda::Function): "For versioned objects, the version of the deployment package object to
  use" (https://docs.aws.amazon.com/lambda/latest/api/API_FunctionCode.html). moto reads the newest
  object under the key, so a write after the upload would change the deployed code.
- CloudFormation's ``AWS::Lambda::EventInvokeConfig``: moto's CloudFormation skips it with a
  warning; here it is PutFunctionEventInvokeConfig, as CloudFormation calls it.
- A resource's ``Condition`` on UpdateStack: moto honours it when it creates a stack but not when
  it updates one, so an update of the functions stack with EnableEventTriggers=false tried to
  update the trigger's resources and failed on their Fn::GetAtt. Here an update leaves a resource
  whose condition is false alone (never created, or kept as it was: CloudFormation would delete
  it), and creates one whose condition has become true (EnableEventTriggers false, then true).
- ``Invoke`` of a transcribe-guard function: moto runs functions in Docker, or answers a canned
  payload without it; here the handler runs in-process (conformance.run_function, with the
  function's environment and role), synchronously for RequestResponse. A handler's exception is
  an ``Unhandled`` function error with Lambda's errorMessage/errorType payload
  (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html, X-Amz-Function-Error).
"""

from __future__ import annotations

from typing import Any, Callable

from moto.awslambda import models as lambda_models
from moto.awslambda.exceptions import InvalidParameterValueException
from moto.core.common_models import CloudFormationModel
from moto.s3.models import s3_backends


def _set_function_code(original: Callable[..., Any]) -> Callable[..., Any]:
    def set_function_code(self: Any, updated_spec: dict[str, Any]) -> None:
        original(self, updated_spec)
        version = updated_spec.get("S3ObjectVersion")
        if not version or "S3Bucket" not in updated_spec:
            return
        try:
            key = s3_backends[self.account_id][self.partition].get_object(
                updated_spec["S3Bucket"], updated_spec["S3Key"], version_id=version)
        except Exception:  # moto raises its own MissingVersion / MissingKey
            key = None
        if key is None:
            raise InvalidParameterValueException(
                "Error occurred while GetObject. S3 Error Code: NoSuchVersion. S3 Error Message: The specified "
                "version does not exist.")
        self.code_bytes, self.code_size, self.code_sha_256, self.code_digest = lambda_models._s3_content(key)
        self.code["S3ObjectVersion"] = version
    return set_function_code


class EventInvokeConfigResource(CloudFormationModel):
    """AWS::Lambda::EventInvokeConfig, created through moto's Lambda backend."""

    def __init__(self, function_name: str):
        self.function_name = function_name

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::EventInvokeConfig"

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str, **kwargs: Any) -> EventInvokeConfigResource:
        properties = cloudformation_json["Properties"]
        config = {k: properties[k] for k in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
                  if k in properties}
        lambda_models.lambda_backends[account_id][region_name].put_function_event_invoke_config(
            properties["FunctionName"], config)
        return cls(properties["FunctionName"])

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,
                                        cloudformation_json: dict[str, Any], account_id: str,
                                        region_name: str) -> EventInvokeConfigResource:
        backend = lambda_models.lambda_backends[account_id][region_name]
        backend.delete_function_event_invoke_config(original_resource.function_name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    @property
    def physical_resource_id(self) -> str:
        return self.function_name


def _update_honouring_conditions(update: Any) -> Any:
    """moto 5.2.5 updates a stack's resources without looking at their Condition: a resource under
    a false condition (never created, as CloudFormation documents) is handed to its model's update
    with no original, and the update fails (an `AWS::IAM::Policy` of the functions stack's
    Organization condition, on any change to a single-account stack). A resource under a false
    condition is left out, one whose condition turned true is created. One whose condition turned
    false is not deleted here (a known gap)."""
    from moto.cloudformation import parsing

    def parse_and_update_resource(logical_id: str, resource_json: dict[str, Any], resources_map: Any,
                                  account_id: str, region_name: str) -> Any:
        condition = resource_json.get("Condition")
        if condition and not resources_map.lazy_condition_map[condition]:
            return None
        if resources_map._parsed_resources.get(logical_id) is None:
            return parsing.parse_and_create_resource(logical_id, resource_json, resources_map, account_id, region_name)
        if logical_id not in getattr(resources_map, "_existed_before_update", {logical_id}):
            # created earlier in this same update (a resource updated before it named it): it is new
            return resources_map._parsed_resources[logical_id]
        return update(logical_id, resource_json, resources_map, account_id, region_name)
    return parse_and_update_resource


def _update_creating_turned_on(update: Any) -> Any:
    """After moto's update: drop the None entries its loop stores for resources left out, and
    create every resource whose condition is now true but that does not exist (moto modifies only
    resources whose template text or referenced parameters changed, so EnableEventTriggers turned
    on would create nothing)."""
    def update_stack(self: Any, template: dict[str, Any], parameters: dict[str, Any] | None = None) -> None:
        self._existed_before_update = {name for name, resource in self._parsed_resources.items()
                                       if resource is not None}
        try:
            update(self, template, parameters)
        finally:
            del self._existed_before_update
        # (not the pseudo parameters: AWS::NoValue is None too, and a resource created below may name it)
        for name in [name for name, resource in self._parsed_resources.items()
                     if resource is None and not name.startswith("AWS::")]:
            del self._parsed_resources[name]
        for name, resource_json in self._resource_json_map.items():
            condition = resource_json.get("Condition") if isinstance(resource_json, dict) else None
            if condition and name not in self._parsed_resources and self.lazy_condition_map[condition]:
                _ = self[name]  # creates it (and, through Ref/GetAtt, what it needs)
    return update_stack


# CreateStack, UpdateStack, CreateChangeSet, CreateStackSet and UpdateStackSet take a TemplateBody
# "with a minimum length of 1 byte and a maximum length of 51,200 bytes" (CloudFormation API
# reference, e.g. CreateChangeSet/UpdateStackSet TemplateBody); a larger template goes by TemplateURL.
# moto 5.2.5 takes any size: the simulator refuses as CloudFormation does.
TEMPLATE_BODY_MAX_BYTES = 51_200
_SIZE_CHECKED = ("create_stack", "update_stack", "create_change_set", "create_stack_set", "update_stack_set")


def _body_size_checked(method: Any) -> Any:
    def checked(self: Any) -> Any:
        from moto.cloudformation.exceptions import ValidationError

        body = self._get_param("TemplateBody")
        if body and len(body.encode("utf-8")) > TEMPLATE_BODY_MAX_BYTES:
            raise ValidationError(message="1 validation error detected: Value at 'templateBody' failed to satisfy "
                                          f"constraint: Member must have length less than or equal to "
                                          f"{TEMPLATE_BODY_MAX_BYTES}")
        return method(self)
    return checked


def _loopback_template_urls(fetch: Any) -> Any:
    """moto reads a TemplateURL's bucket from the path only for "localhost": an AWS SDK pointed at
    the simulator (AWS_ENDPOINT_URL=http://127.0.0.1:PORT, as `aws cloudformation deploy --s3-bucket`
    uploads and names the template) makes path-style URLs on 127.0.0.1."""
    def fetched(template_url: str, account_id: str, partition: str) -> str:
        from urllib.parse import urlparse

        if urlparse(template_url).hostname == "127.0.0.1":
            template_url = template_url.replace("127.0.0.1", "localhost", 1)
        return str(fetch(template_url, account_id, partition))
    return fetched


def _invoke_in_process(original: Callable[..., Any]) -> Callable[..., Any]:
    def invoke(self: Any, function_name: str, qualifier: Any, body: Any, headers: Any,
               response_headers: Any) -> Any:
        import json

        from transcribe_guard.simulator.conformance import run_function
        function = self.get_function(function_name, qualifier)
        if not str(function.handler).startswith("rules."):
            return original(self, function_name, qualifier, body, headers, response_headers)
        event = json.loads(body) if body else {}
        try:
            result = run_function(self.account_id, self.region_name, function.function_name, event)
        except Exception as error:  # what Lambda reports of an unhandled exception
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorMessage": str(error), "errorType": type(error).__name__})
        return json.dumps(result, default=str)
    return invoke


def install() -> None:
    """Idempotent only through ``transcribe_guard.simulator.install``, which runs it once."""
    from moto.cloudformation import parsing
    from moto.cloudformation import responses as cloudformation_responses
    from moto.cloudformation.responses import CloudFormationResponse

    cloudformation_responses.get_stack_from_s3_url = _loopback_template_urls(  # type: ignore[assignment]
        cloudformation_responses.get_stack_from_s3_url)

    for name in _SIZE_CHECKED:
        setattr(CloudFormationResponse, name, _body_size_checked(getattr(CloudFormationResponse, name)))

    parsing.parse_and_update_resource = _update_honouring_conditions(parsing.parse_and_update_resource)
    parsing.ResourceMap.update = _update_creating_turned_on(parsing.ResourceMap.update)

    lambda_models.LambdaFunction._set_function_code = _set_function_code(  # type: ignore[method-assign]
        lambda_models.LambdaFunction._set_function_code)
    lambda_models.LambdaBackend.invoke = _invoke_in_process(lambda_models.LambdaBackend.invoke)  # type: ignore[method-assign]
    # moto caches the list of CloudFormation models on first use.
    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
