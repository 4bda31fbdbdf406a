"""What every transcribe-guard rule shares: parameter parsing from the registry schema, the run
context (account, region, shared inventory), the reported resource type, and fail-closed
evaluations for resources that could not be read."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterable, Iterator, Mapping, Sequence

import botocore.exceptions
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError
from botocore.utils import parse_timestamp
import rdklib
from rdklib import ClientFactory, ComplianceType, ConfigRule, Evaluation, InvalidParametersError
from rdklib.util.service import (build_error_response, build_internal_error_response,
                                 build_parameters_value_error_response, check_defined, is_internal_error)

from rules.engine.parameters import parse_parameters
from rules.engine.per_factory import PerFactory
from rules.engine.safe_text import one_line
from rules.inventory.ledger import LedgerInventory, LedgerStore, ledger_table
from rules.inventory.transcribe import ListingError, ResourceGone, ResourceKind, TranscribeInventory, error_code

LOGGER = logging.getLogger("transcribe_guard.rules")

ACCOUNT_RESOURCE_TYPE = "AWS::::Account"
ANNOTATION_LIMIT = 256

# The parameter every Transcribe-resource rule takes to choose the ComplianceResourceType it
# reports. Config records no AWS::Transcribe::* type and rejects unknown type strings;
# AWS::::Account is accepted for any resource id. Accounts that register their own third-party
# type (CloudFormation registry + PutResourceConfig) can report under it instead.
REPORTED_RESOURCE_TYPE_PARAMETER = {
    "type": "string",
    "default": ACCOUNT_RESOURCE_TYPE,
    "pattern": r"AWS::::Account|[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+",
    "x-pattern-hint": "use AWS::::Account or a registered third-party type such as MyCompany::Transcribe::Resource",
    "description": "ComplianceResourceType reported for Transcribe resources (the ARN is the resource id).",
}


def annotation(text: str) -> str:
    """One sentence on one line, control, bidi and zero-width characters escaped (a name in it may
    be written to forge the row, see rules.engine.safe_text), trimmed to Config's 256-character limit."""
    text = one_line(text)
    return text if len(text) <= ANNOTATION_LIMIT else text[: ANNOTATION_LIMIT - 1] + "…"


RESOURCE_ID_LIMIT = 768  # PutEvaluations: Evaluation.ComplianceResourceId, at most 768 characters
_SHORTENED_KEEP = RESOURCE_ID_LIMIT - len("...sha256:") - 32


def config_resource_id(resource_id: str) -> str:
    """``resource_id`` as Config can take it: an id over 768 characters (an ARN a job names may be
    2,048) becomes its first characters plus a hash of the whole, the same every run."""
    if len(resource_id) <= RESOURCE_ID_LIMIT:
        return resource_id
    digest = hashlib.sha256(resource_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{resource_id[:_SHORTENED_KEEP]}...sha256:{digest}"


def config_safe(evaluation: Evaluation) -> Evaluation:
    """``evaluation`` with an id Config accepts; a shortened id is said in the annotation."""
    resource_id = evaluation.complianceResourceId
    if not isinstance(resource_id, str) or len(resource_id) <= RESOURCE_ID_LIMIT:
        return evaluation
    shortened = Evaluation(evaluation.complianceType, config_resource_id(resource_id),
                           evaluation.complianceResourceType,
                           annotation(f"[id shortened from {len(resource_id):,} characters] {evaluation.annotation or ''}"))
    shortened.orderingTimestamp = evaluation.orderingTimestamp
    return shortened


@dataclass
class RunContext:
    account_id: str
    region: str
    partition: str
    inventory: TranscribeInventory
    reported_resource_type: str
    client_factory: Any
    # Set by a rule that could not name a resource the way earlier runs did (e.g. a role whose
    # RoleId could not be read): earlier results are then kept instead of being retired.
    keep_earlier_results: bool = False
    rule_name: str = ""  # the Config rule's name (its checkpoint is named after it)
    now: float = 0.0  # the run's time: the event's notificationCreationTime, epoch seconds

    def client(self, service: str) -> Any:
        return self.client_factory.build_client(service)


# One inventory per client factory: a scan passes the same factory to every rule, so all rules
# share what was listed and read; each Lambda invocation has its own factory and inventory.
# A TranscribeInventory, or a LedgerInventory in a function run that reads the ledger.
_INVENTORIES: PerFactory[Any] = PerFactory("transcribe_inventory")
# A local scan's progress display (transcribe_guard/scan.py): called with the rule's name once per
# evaluation as the rule yields it, keyed on the client factory like the inventories. The Lambda
# functions never set one.
_OBSERVERS: PerFactory[Callable[[str], None]] = PerFactory("evaluation_observer")


def observe_evaluations(client_factory: Any, observer: Callable[[str], None]) -> None:
    """Call ``observer(rule_name)`` for each evaluation the rules yield through ``client_factory``."""
    _OBSERVERS[fail_closed(client_factory)] = observer


def account_id_of(event: Mapping[str, Any], client_factory: Any) -> str:
    if event.get("accountId"):
        return str(event["accountId"])
    parts = str(event.get("executionRoleArn", "")).split(":")
    if len(parts) > 4 and parts[4].isdigit():
        return parts[4]
    return str(client_factory.build_client("sts").get_caller_identity()["Account"])


# Errors about the caller's own configuration (no credentials, no region, a missing profile):
# the whole run cannot go on, so they are raised as they are (`scan` exits 1 naming them).
_CONFIGURATION_ERRORS = tuple(getattr(botocore.exceptions, name) for name in (
    "NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError", "NoRegionError",
    "ProfileNotFound", "UnknownServiceError", "NoAuthTokenError", "TokenRetrievalError", "SSOError",
    "UnknownCredentialError") if hasattr(botocore.exceptions, name))


def _as_client_error(error: Exception, operation_name: str) -> ClientError:
    return ClientError({"Error": {"Code": type(error).__name__, "Message": str(error)[:500]}}, operation_name)


def _fail_closed_client(client: Any, refused: list[dict[str, Any]]) -> Any:
    make_api_call = client._make_api_call  # every operation and paginator goes through it

    def call(operation_name: str, api_params: Any) -> Any:
        try:
            if operation_name == "PutEvaluations":
                return put_evaluations_split(make_api_call, api_params, refused)
            return make_api_call(operation_name, api_params)
        except _CONFIGURATION_ERRORS:
            raise
        except (BotoCoreError, ResponseParserError) as error:
            # A transport failure past the retries, a request botocore will not send (a bucket
            # name that is no bucket name: ParamValidationError), a response it cannot parse
            # (ResponseParserError is no BotoCoreError): about this one resource, whose value an
            # account holder may have chosen.
            raise _as_client_error(error, operation_name) from error

    client._make_api_call = call
    return client


class _UnbuildableClient:
    """Stands in for a client that could not be built (a trail whose HomeRegion is no Region
    botocore accepts): every call raises a ClientError named after why, so the rule reports the
    resource behind it "Could not evaluate" like any failed read."""

    def __init__(self, error: Exception):
        self._error = error

    def __getattr__(self, operation: str) -> Any:
        if operation.startswith("_") or operation == "meta":  # not an API call: the client is needed itself
            raise self._error
        def fail(*_: Any, **__: Any) -> Any:
            raise _as_client_error(self._error, operation)
        return fail


def put_evaluations_split(make_api_call: Any, params: dict[str, Any], refused: list[dict[str, Any]]) -> Any:
    """PutEvaluations, one batch that Config rejects split until what it accepts is posted: a
    result Config refuses (an id or annotation past its limits, whatever the cause) is recorded
    in ``refused`` with the error, and no other result is lost with it."""
    try:
        answer = make_api_call("PutEvaluations", params)
    except ClientError as error:
        code = error_code(error)
        evaluations = list(params.get("Evaluations") or [])
        if code not in ("ValidationException", "InvalidParameterValueException") or not evaluations:
            raise
        if len(evaluations) == 1:
            LOGGER.error("Config refused the result for %s (%s): %s",
                         one_line(str(evaluations[0].get("ComplianceResourceId", ""))[:200]), code,
                         one_line(str(error))[:300])
            refused.append({"evaluation": evaluations[0], "code": code})
            return {"FailedEvaluations": []}
        half = len(evaluations) // 2
        failed: list[Any] = []
        for part in (evaluations[:half], evaluations[half:]):
            answer = put_evaluations_split(make_api_call, {**params, "Evaluations": part}, refused)
            failed += answer.get("FailedEvaluations") or []
        return {"FailedEvaluations": failed}
    # Accepted, but Config may still list results it did not store: nobody downstream (rdklib,
    # the streaming poster) reads the answer, so they are recorded as refused here.
    for failed_evaluation in answer.get("FailedEvaluations") or []:
        LOGGER.error("Config did not store the result for %s",
                     one_line(str(failed_evaluation.get("ComplianceResourceId", ""))[:200]))
        refused.append({"evaluation": failed_evaluation, "code": "FailedEvaluations"})
    return answer


def fail_closed(client_factory: Any) -> Any:
    """Make the clients ``client_factory`` builds fail per resource, never per run:

    - a botocore error that outlasts the SDK's retries (a read or connect timeout, a dropped
      connection) or that botocore raises itself for one request (ParamValidationError for a
      bucket named ``Bad Bucket!`` in a job's URI, a response it cannot parse) becomes a
      ClientError named after it ("ReadTimeoutError"). Every rule catches ClientError around
      each read, so the resource being read is reported "Could not evaluate: ReadTimeoutError"
      instead of one call ending the whole run with no evaluations (found by
      tests/test_fault_matrix.py and tests/test_hostile_values.py). Errors about the caller's
      configuration (no credentials) still end the run;
    - a client that cannot be built (an unknown Region) answers every call with such an error;
    - PutEvaluations splits a batch Config rejects and records what it refused
      (``refused_evaluations``).

    The factory keeps its identity, so inventories and lookups keyed on it are still shared.
    Idempotent."""
    if getattr(client_factory, "__dict__", {}).get("_transcribe_guard_fail_closed"):
        return client_factory
    build = client_factory.build_client
    refused: list[dict[str, Any]] = []

    def build_client(*args: Any, **kwargs: Any) -> Any:
        try:
            client = build(*args, **kwargs)
        except _CONFIGURATION_ERRORS:
            raise
        except (BotoCoreError, ValueError) as error:
            return _UnbuildableClient(error)
        return _fail_closed_client(client, refused)

    try:
        client_factory.build_client = build_client
        client_factory._transcribe_guard_fail_closed = True
        client_factory.refused_evaluations = refused
    except AttributeError:  # a factory that takes no attributes: its clients stay as they are
        pass
    return client_factory


def applied_quotas_of(client_factory: Any) -> dict[str, float]:
    """The account's applied Transcribe quotas that Service Quotas reports (rules.engine.service_quotas)."""
    from rules.engine.pacing import DOCUMENTED_QUOTAS
    from rules.engine.service_quotas import applied_rates
    transcribe_operations = [op for op in DOCUMENTED_QUOTAS if op != "lookup_events"]  # CloudTrail's own
    return applied_rates(client_factory.build_client("service-quotas"), transcribe_operations)


def use_inventory(client_factory: Any, inventory: Any) -> None:
    """Make ``inventory`` the run's Transcribe inventory for ``client_factory`` (a local scan's
    StoredInventory, rules/inventory/local_ledger.py); the rules get it through inventory_for."""
    _INVENTORIES[fail_closed(client_factory)] = inventory


def inventory_for(client_factory: Any, account_id: str, function_run: bool = False) -> TranscribeInventory:
    """The run's Transcribe inventory, shared by every rule that runs with ``client_factory``.
    A function run (``function_run``) whose environment names a ledger table
    (TRANSCRIBE_GUARD_LEDGER_TABLE, set by the functions template) reads the ledger the collector
    fills instead of calling Transcribe (rules/inventory/ledger.py); ``scan`` keeps live calls."""
    inventory: Any = _INVENTORIES.get(client_factory)
    table = ledger_table() if function_run else None
    if inventory is None or inventory.account_id != account_id or isinstance(inventory, LedgerInventory) != bool(table):
        client = client_factory.build_client("transcribe")
        if table:
            # The ledger is the functions' own table, in their account: no assumed role.
            store = LedgerStore(client_factory.build_client("dynamodb", assume_role_mode=False), table)
            inventory = LedgerInventory(store, account_id, client.meta.region_name, client.meta.partition)
        else:
            # The client knows its partition; a new boto3 Session to look it up costs ~0.5 s a run.
            inventory = TranscribeInventory(client, account_id, client.meta.partition,
                                            applied_quotas=lambda: applied_quotas_of(client_factory))
        _INVENTORIES[client_factory] = inventory
    return inventory  # type: ignore[no-any-return]  # a LedgerInventory has TranscribeInventory's interface


def event_time(event: Mapping[str, Any]) -> float:
    """The event's notificationCreationTime in epoch seconds (now for an event without one)."""
    try:
        created = json.loads(event["invokingEvent"])["notificationCreationTime"]
        return float(parse_timestamp(created).timestamp())
    except (KeyError, TypeError, ValueError):
        return time.time()


class InvalidEventError(ValueError):
    """The function was invoked with something that is not a Config event this rule can run on.
    The message names the problem; the event's values are not echoed beyond a short prefix."""


# What rdklib's periodic path reads from the event without checking (json.loads, [] lookups,
# botocore parameters): each must be present and a string.
_EVENT_STRINGS = ("invokingEvent", "resultToken", "configRuleName", "executionRoleArn")
_ROLE_ARN = re.compile(r"arn:[a-z-]+:iam::\d{12}:role/\S+")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__)


def _json_object(event: Mapping[str, Any], key: str) -> dict[str, Any]:
    try:
        value = json.loads(event[key])
    except json.JSONDecodeError as error:
        raise InvalidEventError(f"{key} is not valid JSON ({error.msg} at character {error.pos}).") from None
    if not isinstance(value, dict):
        raise InvalidEventError(f"{key} is {_json_type(value)} in JSON, not an object.")
    return value


def check_event(event: Any, rule_name: str) -> None:
    """Raise InvalidEventError naming the first thing in ``event`` that keeps a periodic rule from
    running: rdklib's Evaluator would otherwise fail on it with an unrelated KeyError, TypeError,
    JSONDecodeError or botocore validation error, after part of the work."""
    if not isinstance(event, Mapping):
        raise InvalidEventError(f"the event is {_json_type(event)}, not a JSON object.")
    for key in _EVENT_STRINGS:
        if key not in event:
            raise InvalidEventError(f"{key} is missing from the event.")
        if not isinstance(event[key], str):
            raise InvalidEventError(f"{key} must be a string, not {_json_type(event[key])}.")
    invoking = _json_object(event, "invokingEvent")
    message_type = invoking.get("messageType")
    if not isinstance(message_type, str):
        raise InvalidEventError("invokingEvent has no messageType string.")
    if message_type != "ScheduledNotification":
        raise InvalidEventError(f"messageType {_shown(message_type)}: {rule_name} is a periodic rule and evaluates "
                                "ScheduledNotification events only.")
    created = invoking.get("notificationCreationTime")
    try:
        if not isinstance(created, str):
            raise TypeError(created)
        parse_timestamp(created)  # as botocore will for PutEvaluations' OrderingTimestamp
    except (TypeError, ValueError, OverflowError):
        raise InvalidEventError(f"invokingEvent notificationCreationTime {_shown(created)} is not a timestamp.") from None
    if "ruleParameters" in event:
        if not isinstance(event["ruleParameters"], str):
            raise InvalidEventError(f"ruleParameters must be a string, not {_json_type(event['ruleParameters'])}.")
        parameters = _json_object(event, "ruleParameters")
        for name in ("ExecutionRoleName", "ExecutionRoleRegion", "AssumeRoleMode"):  # rdklib reads these first
            if name in parameters and not isinstance(parameters[name], str):
                raise InvalidEventError(f"ruleParameters {name} must be a string, not {_json_type(parameters[name])}.")
    if not _ROLE_ARN.fullmatch(event["executionRoleArn"]):
        raise InvalidEventError(f"executionRoleArn {_shown(event['executionRoleArn'])} is not an IAM role ARN.")
    account = event.get("accountId")
    if account is not None and not (isinstance(account, str) and re.fullmatch(r"\d{12}", account)):
        raise InvalidEventError(f"accountId {_shown(account)} is not a 12-digit account ID.")


class TranscribeGuardRule(ConfigRule):  # type: ignore[misc]
    """Base of every rule. Subclasses set METADATA (the registry record) and implement
    ``evaluate(ctx, params)``, yielding one Evaluation per resource."""

    METADATA: ClassVar[dict[str, Any]]
    # Whether the rule posts its results itself when run as a function (see Evaluator).
    POSTS_OWN_RESULTS: ClassVar[bool] = False
    invoked_as_function = False
    lambda_context: Any = None
    client_factory_used: Any = None

    @classmethod
    def name(cls) -> str:
        return str(cls.METADATA["name"])

    def evaluate_parameters(self, rule_parameters: Any) -> dict[str, Any]:
        return parse_parameters(self.METADATA["parameters"], rule_parameters)

    def get_execution_role_arn(self, event: Any) -> Any:
        # rdklib's Evaluator.handle calls this first, before it reads anything else from the event
        # (only its own "event is not defined" check comes earlier), so checking the event here
        # gives every rule's one-line lambda_handler a clear InvalidEventError for a malformed
        # event, with no change to the rule modules.
        check_event(event, self.name())
        return super().get_execution_role_arn(event)

    def evaluate_periodic(self, event: Mapping[str, Any], client_factory: Any, valid_rule_parameters: Mapping[str, Any]) -> list[Evaluation]:
        evaluations: list[Evaluation] = []
        for evaluation in self._periodic(event, client_factory, valid_rule_parameters, hold=False):
            if isinstance(evaluation, _AccountNotEvaluated):  # in place of the account results made so far
                _account_not_evaluated(evaluations, evaluation.complianceResourceId, evaluation.annotation)
            else:
                evaluations.append(evaluation)
        return evaluations

    def iter_periodic(self, event: Mapping[str, Any], client_factory: Any,
                      valid_rule_parameters: Mapping[str, Any]) -> Iterator[Evaluation]:
        """evaluate_periodic's evaluations as the rule makes them (a local scan writes them out as
        they come, holding nothing per resource). Account-level results (a handful) are held until
        the rule ends and come last: a failure later in the run replaces them with one
        "Could not evaluate" for the account (_account_not_evaluated)."""
        return self._periodic(event, client_factory, valid_rule_parameters, hold=True)

    def _periodic(self, event: Mapping[str, Any], client_factory: Any, valid_rule_parameters: Mapping[str, Any],
                  hold: bool) -> Iterator[Evaluation]:
        """The run; ``hold``: account results at the end (iter_periodic), else in place, a failure
        yielding an _AccountNotEvaluated that evaluate_periodic puts in their place."""
        client_factory = fail_closed(client_factory)
        self.client_factory_used = client_factory  # rdklib posts through it after this returns
        account_id = account_id_of(event, client_factory)
        inventory = inventory_for(client_factory, account_id, self.invoked_as_function)
        region = inventory.region
        ctx = RunContext(
            account_id=account_id,
            region=region,
            partition=inventory.partition,
            inventory=inventory,
            reported_resource_type=valid_rule_parameters.get("ReportedResourceType") or ACCOUNT_RESOURCE_TYPE,
            client_factory=client_factory,
            rule_name=str(event.get("configRuleName") or self.name()),
            now=event_time(event),
        )
        held: list[Evaluation] = []  # the account's own results
        counts: dict[str, int] = {}
        complete = True
        observer = _OBSERVERS.get(client_factory)

        def counted(evaluation: Evaluation) -> Evaluation:
            counts[evaluation.complianceType] = counts.get(evaluation.complianceType, 0) + 1
            return config_safe(evaluation)

        try:
            for evaluation in self.evaluate(ctx, valid_rule_parameters):
                if observer is not None:
                    observer(self.name())
                if hold and (evaluation.complianceResourceType, evaluation.complianceResourceId) == (
                        ACCOUNT_RESOURCE_TYPE, account_id):
                    held.append(evaluation)
                else:
                    yield counted(evaluation)
        except ListingError as error:
            # Without the list we cannot say which resources exist: report the account as not
            # evaluated and keep earlier results (rdklib would otherwise mark them NOT_APPLICABLE).
            complete = False
            _account_not_evaluated(held, account_id, f"Could not evaluate: {error_code(error.error)} when "
                                   f"listing {error.kind.label}s; earlier results are kept until a run can list them.")
        except KeyError as error:
            # A response lacked a member the rule indexes (botocore models almost every member as
            # optional). Fail closed as for a failed List instead of crashing the whole run, which
            # would report nothing (found by tests/test_fault_matrix.py, missing-field faults).
            LOGGER.exception("%s: a response lacked %s", self.name(), error)
            complete = False
            _account_not_evaluated(held, account_id, f"Could not evaluate: a response lacked {error}; "
                                   "earlier results are kept until a run can read it.")
        complete = complete and not ctx.keep_earlier_results
        self.delete_old_evaluations_on_scheduled_notification = complete
        if not hold and held:  # held only the failure: evaluate_periodic replaces the account results with it
            failure = held[-1]
            yield _AccountNotEvaluated(failure.complianceType, failure.complianceResourceId,
                                       failure.complianceResourceType, failure.annotation)
            held = []
        for evaluation in held:
            yield counted(evaluation)
        LOGGER.info(json.dumps({"rule": self.name(), "account": account_id, "region": region,
                                "evaluations": sum(counts.values()), "by_compliance": counts, "complete": complete}))

    def evaluate(self, ctx: RunContext, params: Mapping[str, Any]) -> Iterable[Evaluation]:
        raise NotImplementedError

    def reads_every(self, params: Mapping[str, Any]) -> Sequence[tuple[ResourceKind, str]]:
        """(kind, "detail" or "tags") this rule reads for every listed resource of the kind in a
        full run (not a function's incremental one). A scan reads these ahead of the rules, every
        kind at once at its own Get quota (rules/inventory/local_ledger.py, ReadAhead); nothing
        else may be named here, or the read-ahead would make reads the rules never need."""
        return ()

    # --- helpers for subclasses ---------------------------------------------------------------

    @staticmethod
    def result(ctx: RunContext, compliance: str, resource_id: str, text: str, resource_type: str | None = None) -> Evaluation:
        return Evaluation(compliance, resource_id, resource_type or ctx.reported_resource_type, annotation(text))

    @staticmethod
    def could_not_evaluate(ctx: RunContext, resource_id: str, error: ClientError, what: str,
                           resource_type: str | None = None) -> Evaluation:
        """Fail closed: a resource we could not read is NON_COMPLIANT, never skipped. One that was
        listed but is gone when read (deleted during the run, see ResourceGone) is NOT_APPLICABLE."""
        if isinstance(error, ResourceGone):
            return Evaluation(ComplianceType.NOT_APPLICABLE, resource_id, resource_type or ctx.reported_resource_type,
                              annotation(f"Deleted during evaluation: listed, then not found when reading {what}."))
        return Evaluation(
            ComplianceType.NON_COMPLIANT, resource_id, resource_type or ctx.reported_resource_type,
            annotation(f"Could not evaluate: {error_code(error)} when reading {what}."),
        )


class _AccountNotEvaluated(Evaluation):  # type: ignore[misc]  # rdklib has no type hints
    """The account's "Could not evaluate", to stand in place of its earlier results (evaluate_periodic)."""


def _account_not_evaluated(evaluations: list[Evaluation], account_id: str, text: str) -> None:
    """Report the account NON_COMPLIANT with ``text``, in place of any account result the run
    already yielded (one evaluation per resource)."""
    evaluations[:] = [e for e in evaluations
                      if (e.complianceResourceType, e.complianceResourceId) != (ACCOUNT_RESOURCE_TYPE, account_id)]
    evaluations.append(Evaluation(ComplianceType.NON_COMPLIANT, account_id, ACCOUNT_RESOURCE_TYPE, annotation(text)))


class Evaluator(rdklib.Evaluator):  # type: ignore[misc]
    """rdklib's Evaluator, telling the rule that it runs as a function and handing it the Lambda
    context (rdklib passes neither on). A rule that posts its own results as it goes
    (rules/engine/incremental.py: batches, checkpoint, deadline) is run here with rdklib's event,
    parameter and error handling, but without rdklib's posting and stale-result cleanup."""

    def __init__(self, rule: "TranscribeGuardRule", *args: Any, **kwargs: Any):
        super().__init__(rule, *args, **kwargs)
        self._rule = rule

    def handle(self, event: Any, context: Any) -> Any:
        rule = self._rule
        rule.invoked_as_function = True
        rule.lambda_context = context
        check_defined(event, "event")
        client_factory = ClientFactory(role_arn=rule.get_execution_role_arn(event),
                                       region=rule.get_assume_role_region(event),
                                       assume_role_mode=rule.get_assume_role_mode(event))
        try:
            valid_rule_parameters = rule.evaluate_parameters(json.loads(event.get("ruleParameters") or "{}"))
        except InvalidParametersError as error:
            report_invalid_parameters(rule, event, client_factory, error)
        if not rule.POSTS_OWN_RESULTS:
            answer = super().handle(event, context)
        else:
            answer = self._handle_own_posting(event, client_factory, valid_rule_parameters)
        # rdklib's path posts through the factory it built (client_factory_used); the streaming
        # rules post through ours.
        refused = getattr(rule.client_factory_used or client_factory, "refused_evaluations", None) or []
        if refused:
            # Config took every other result; the function fails so that the refusal shows as
            # the rule's last error and in Lambda's Errors metric (and the on-failure queue).
            raise EvaluationsRefusedError(f"{rule.name()}: Config refused {len(refused)} result(s) "
                                          f"({', '.join(sorted({r['code'] for r in refused}))}); the rest were posted.")
        return answer

    def _handle_own_posting(self, event: Any, client_factory: Any, valid_rule_parameters: Any) -> Any:
        rule = self._rule
        try:
            return rule.evaluate_periodic(event, client_factory, valid_rule_parameters)
        except ClientError as error:  # as rdklib's Evaluator answers
            code = error.response["Error"]["Code"]
            if "AccessDenied" in code or "UnauthorizedOperation" in code:
                return build_error_response("Insufficient access to perform this action.", str(error), code,
                                            error.response["Error"]["Message"])
            if is_internal_error(error):
                return build_internal_error_response("Unexpected error while completing API request", str(error))
            return build_error_response("Customer error while making API request", str(error), code,
                                        error.response["Error"]["Message"])
        except ValueError as error:
            return build_internal_error_response(str(error), str(error))


class RuleParametersError(InvalidParametersError):  # type: ignore[misc]
    """The rule's parameters are invalid: raised from the handler so that the invocation fails
    (Config shows the rule's last error, Lambda counts it in Errors and sends the event to the
    on-failure queue), after the account has been reported NON_COMPLIANT naming the parameter.
    ``response`` is the error answer rdklib would have returned."""

    def __init__(self, message: str, response: dict[str, Any]):
        super().__init__(message)
        self.response = response


class EvaluationsRefusedError(RuntimeError):
    """Config refused some results of a run whose other results were posted."""


def report_invalid_parameters(rule: "TranscribeGuardRule", event: Mapping[str, Any], client_factory: Any,
                              error: InvalidParametersError) -> None:
    """Post one account-level NON_COMPLIANT result naming what is wrong, then raise
    RuleParametersError. rdklib would answer an error dict from a normal return: Config records a
    successful invocation, nothing is posted and every earlier result stands as if all were well."""
    message = one_line(str(error))
    try:
        account_id = account_id_of(event, fail_closed(client_factory))
        evaluation = Evaluation(ComplianceType.NON_COMPLIANT, account_id, ACCOUNT_RESOURCE_TYPE,
                                annotation(f"Could not evaluate: invalid rule parameters: {message}"))
        evaluation.import_fields_from_periodic_event(event)
        token = event["resultToken"]
        client_factory.build_client("config").put_evaluations(
            Evaluations=[evaluation.get_json()], ResultToken=token, TestMode=token == "TESTMODE")
    except (ClientError, BotoCoreError) as posting_error:  # the invocation fails either way
        LOGGER.error("%s: could not report the invalid parameters: %s", rule.name(), posting_error)
    raise RuleParametersError(f"{rule.name()}: invalid rule parameters: {message}",
                              build_parameters_value_error_response(error)) from error


def require(condition: bool, message: str) -> None:
    """Raise InvalidParametersError unless ``condition`` holds (cross-parameter checks)."""
    if not condition:
        raise InvalidParametersError(message)
