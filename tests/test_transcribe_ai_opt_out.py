"""transcribe-ai-opt-out: scenarios against the simulated organization (effective AI services
opt-out policy from root, OU and account policies), parameters, API errors, and the Lambda handler
with a real ScheduledNotification event."""

from __future__ import annotations

import json
from typing import Any

import botocore.client
import pytest
from rdklib import ClientFactory, ComplianceType, Evaluation, InvalidParametersError

from rules.transcribe_ai_opt_out import TranscribeAiOptOut, lambda_handler, setting
from tests.helpers import rejected_parameters
from tests.helpers import ACCOUNT, access_denied, deploy_rule, fail_calls, periodic_event, stored_verdicts

RULE = "transcribe-ai-opt-out"
AI = "AISERVICES_OPT_OUT_POLICY"
ACCOUNT_TYPE = "AWS::::Account"
EXPLICIT = "The effective AI services opt-out policy opts Transcribe out explicitly."
BY_DEFAULT = "The effective AI services opt-out policy opts all AI services out by default and Transcribe has no opt-in."
OPTED_IN = ("The effective AI services opt-out policy opts Transcribe in (services.transcribe.opt_out_policy is optIn); "
            "set it to optOut.")
NEITHER = ("The effective AI services opt-out policy neither opts Transcribe out nor sets "
           "services.default.opt_out_policy to optOut.")


def evaluate(account: str = ACCOUNT, parameters: dict[str, str] | None = None) -> list[Evaluation]:
    rule = TranscribeAiOptOut()
    return rule.evaluate_periodic({"accountId": account}, ClientFactory(None, assume_role_mode=False),
                                  rule.evaluate_parameters(parameters or {}))


def result(compliance: str, text: str, account: str = ACCOUNT) -> list[Evaluation]:
    return [Evaluation(compliance, account, ACCOUNT_TYPE, text)]


def policy(**services: Any) -> dict[str, Any]:
    """An AI services opt-out policy document; a value may be "optOut"/"optIn" or a full node."""
    return {"services": {name: {"opt_out_policy": value if isinstance(value, dict) else {"@@assign": value}}
                         for name, value in services.items()}}


class Org:
    """The simulated organization: root -> OU "contact-center" -> member account."""

    def __init__(self, sim: Any, enable: bool = True):
        self.client = sim.client("organizations")
        self.client.create_organization(FeatureSet="ALL")
        self.root = self.client.list_roots()["Roots"][0]["Id"]
        self.ou = self.client.create_organizational_unit(ParentId=self.root, Name="contact-center")[
            "OrganizationalUnit"]["Id"]
        self.member = self.client.create_account(Email="cc@example.com", AccountName="cc")["CreateAccountStatus"][
            "AccountId"]
        self.client.move_account(AccountId=self.member, SourceParentId=self.root, DestinationParentId=self.ou)
        if enable:
            self.client.enable_policy_type(RootId=self.root, PolicyType=AI)

    def attach(self, target: str, document: dict[str, Any]) -> None:
        name = f"ai-{len(self.client.list_policies(Filter=AI)['Policies'])}"
        policy_id = self.client.create_policy(Name=name, Type=AI, Description=name,
                                              Content=json.dumps(document))["Policy"]["PolicySummary"]["Id"]
        self.client.attach_policy(PolicyId=policy_id, TargetId=target)


def test_scenario1_outside_an_organization(sim: Any) -> None:
    assert evaluate() == result(ComplianceType.NON_COMPLIANT,
                                "The account is not in an AWS Organizations organization, so no AI services opt-out "
                                "policy opts Transcribe out.")


def test_scenario2_no_effective_policy(sim: Any) -> None:
    org = Org(sim, enable=False)
    expected = result(ComplianceType.NON_COMPLIANT, "No AI services opt-out policy applies to the account (the policy "
                                                    "type is not enabled or none is attached), so Transcribe is opted in.")
    assert evaluate() == expected  # the policy type is not enabled
    org.client.enable_policy_type(RootId=org.root, PolicyType=AI)
    assert evaluate() == expected  # enabled, nothing attached


def test_scenario3_explicit_opt_out(sim: Any) -> None:
    org = Org(sim)
    org.attach(ACCOUNT, policy(transcribe="optOut"))
    assert evaluate() == result(ComplianceType.COMPLIANT, EXPLICIT)


def test_scenario4_transcribe_opt_in_overrides_the_default(sim: Any) -> None:
    org = Org(sim)
    org.attach(org.root, policy(default="optOut"))
    org.attach(org.ou, policy(transcribe="optIn"))
    assert evaluate(org.member) == result(ComplianceType.NON_COMPLIANT, OPTED_IN, org.member)
    assert evaluate(ACCOUNT) == result(ComplianceType.COMPLIANT, BY_DEFAULT)  # the management account is not in the OU


def test_scenario4_a_locked_root_opt_out_cannot_be_overridden(sim: Any) -> None:
    org = Org(sim)
    org.attach(org.root, policy(default={"@@operators_allowed_for_child_policies": ["@@none"], "@@assign": "optOut"},
                                transcribe={"@@operators_allowed_for_child_policies": ["@@none"], "@@assign": "optOut"}))
    org.attach(org.ou, policy(transcribe="optIn"))
    assert evaluate(org.member) == result(ComplianceType.COMPLIANT, EXPLICIT, org.member)


def test_scenario5_default_opt_out_without_transcribe_entry(sim: Any) -> None:
    org = Org(sim)
    org.attach(org.root, policy(default="optOut", lex="optIn"))
    assert evaluate(org.member) == result(ComplianceType.COMPLIANT, BY_DEFAULT, org.member)


@pytest.mark.parametrize("document", [
    pytest.param(policy(default="optIn"), id="default-opt-in"),
    pytest.param(policy(rekognition="optOut", comprehend="optOut"), id="other-services-only"),
    pytest.param(policy(default="OptOut"), id="default-wrong-capitalization"),
])
def test_scenario6_neither_transcribe_nor_default_opted_out(sim: Any, document: dict[str, Any]) -> None:
    Org(sim).attach(ACCOUNT, document)
    assert evaluate() == result(ComplianceType.NON_COMPLIANT, NEITHER)


def test_scenario7_wrong_capitalization_is_not_an_opt_out(sim: Any) -> None:
    Org(sim).attach(ACCOUNT, policy(transcribe="optout"))
    assert evaluate() == result(ComplianceType.NON_COMPLIANT, "The effective AI services opt-out policy sets Transcribe "
                                                              "to a value other than optOut or optIn (values are "
                                                              "case-sensitive).")


@pytest.mark.parametrize("content", ["{not json", json.dumps(["services"]), json.dumps({"services": "optOut"}),
                                     json.dumps({"policies": {}})])
def test_scenario7_unreadable_content(sim: Any, monkeypatch: Any, content: str) -> None:
    Org(sim).attach(ACCOUNT, policy(transcribe="optOut"))
    original = botocore.client.BaseClient._make_api_call

    def altered(self: Any, operation: str, params: dict[str, Any]) -> Any:
        response = original(self, operation, params)
        if operation == "DescribeEffectivePolicy":
            response["EffectivePolicy"]["PolicyContent"] = content
        return response

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", altered)
    assert evaluate() == result(ComplianceType.NON_COMPLIANT,
                                "The effective AI services opt-out policy has no readable services element.")


def test_a_value_still_wrapped_in_its_operator_is_read() -> None:
    assert setting({"transcribe": {"opt_out_policy": {"@@assign": "optOut"}}}, "transcribe") == "optOut"
    assert setting({"transcribe": "optOut"}, "transcribe") is None
    assert setting({}, "transcribe") is None


def test_scenario8_access_denied_fails_closed(sim: Any, monkeypatch: Any) -> None:
    Org(sim).attach(ACCOUNT, policy(transcribe="optOut"))
    fail_calls(monkeypatch, botocore.client.BaseClient, "_make_api_call",
               lambda self, op, params: op == "DescribeEffectivePolicy", lambda: access_denied("DescribeEffectivePolicy"))
    assert evaluate() == result(ComplianceType.NON_COMPLIANT, "Could not evaluate: AccessDeniedException when reading "
                                                              "the effective AI services opt-out policy.")


def test_the_effective_policy_of_the_evaluated_account_is_asked_for(sim: Any, monkeypatch: Any) -> None:
    org = Org(sim)
    org.attach(org.ou, policy(transcribe="optOut"))
    asked: list[dict[str, Any]] = []
    original = botocore.client.BaseClient._make_api_call

    def spy(self: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation == "DescribeEffectivePolicy":
            asked.append(params)
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", spy)
    assert evaluate(org.member) == result(ComplianceType.COMPLIANT, EXPLICIT, org.member)
    assert asked == [{"PolicyType": AI, "TargetId": org.member}]


@pytest.mark.parametrize("parameters, message", [
    ({"Services": "transcribe"}, "Unknown parameter Services; this rule accepts: none"),
    ({"AssumeRoleMode": "sometimes"}, "Parameter AssumeRoleMode must be true or false"),
])
def test_bad_parameters_name_the_parameter(parameters: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParametersError, match=message):
        TranscribeAiOptOut().evaluate_parameters(parameters)


def test_lambda_handler_rejects_bad_parameters_with_invalid_parameter_value(sim: Any) -> None:
    deploy_rule(sim, RULE)
    response = rejected_parameters(lambda_handler, periodic_event(RULE, {"OptOut": "true"}))
    assert response["customerErrorCode"] == "InvalidParameterValueException"
    assert "OptOut" in response["customerErrorMessage"]


def test_lambda_handler_stores_the_account_verdict(sim: Any) -> None:
    deploy_rule(sim, RULE)
    lambda_handler(periodic_event(RULE), None)
    assert stored_verdicts(sim, RULE) == {ACCOUNT: ComplianceType.NON_COMPLIANT}
    Org(sim).attach(ACCOUNT, policy(default="optOut"))
    lambda_handler(periodic_event(RULE), None)
    assert stored_verdicts(sim, RULE) == {ACCOUNT: ComplianceType.COMPLIANT}
