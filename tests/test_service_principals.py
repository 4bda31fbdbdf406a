"""Every grant to an AWS service in our templates is bound to its source (issue 12, item 7): a policy
statement whose principal is a service carries aws:SourceAccount or aws:SourceArn, and every
AWS::Lambda::Permission for a service has SourceAccount or SourceArn, in both modes of the functions
stack (an organization's permission has PrincipalOrgID, the only organization scope a Lambda permission
takes). Read from the committed templates, as CloudFormation gets them."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted((ROOT / "transcribe_guard" / "templates").glob("*.yaml"))
SOURCE_KEYS = {"aws:sourceaccount", "aws:sourcearn"}


def resolve(node: Any, conditions: dict[str, bool]) -> Any:
    """The template with every Fn::If decided by ``conditions`` and AWS::NoValue dropped."""
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            name, yes, no = node["Fn::If"]
            return resolve(yes if conditions[name] else no, conditions)
        resolved = {k: resolve(v, conditions) for k, v in node.items()}
        return {k: v for k, v in resolved.items() if v != {"Ref": "AWS::NoValue"}}
    if isinstance(node, list):
        return [resolve(item, conditions) for item in node]
    return node


def modes(template: dict[str, Any]) -> list[dict[str, bool]]:
    """Every way the template's conditions can come out (ours are few and independent enough)."""
    names = list(template.get("Conditions") or {})
    if "SingleAccount" in names:  # the functions stack: Organization is its negation; CreateRole is independent;
        # the ledger is on only in a single account's stacks (every Region's)
        combos = []
        for single in (True, False):
            for role in (True, False):
                for ledger in (False, True):
                    if ledger and not single:
                        continue
                    combos.append({**{n: False for n in names}, "SingleAccount": single, "Organization": not single,
                                   "CreateRole": role, "SingleAccountRole": single and role,
                                   "OrganizationRole": not single and role, "LedgerOn": ledger,
                                   "LedgerRole": ledger and role,
                                   "LiveReads": single and role and not ledger, "HasLedgerKey": ledger})
        return combos
    return [{n: value for n in names} for value in (True, False)]


def present(resources: dict[str, Any], conditions: dict[str, bool]) -> dict[str, Any]:
    """The resources CloudFormation creates under ``conditions`` (those whose Condition holds)."""
    return {k: v for k, v in resources.items() if "Condition" not in v or conditions.get(v["Condition"], False)}


def service_statements(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        principal = node.get("Principal")
        if node.get("Effect") == "Allow" and isinstance(principal, dict) and "Service" in principal:
            yield node
        for value in node.values():
            yield from service_statements(value)
    elif isinstance(node, list):
        for value in node:
            yield from service_statements(value)


def condition_keys(statement: dict[str, Any]) -> set[str]:
    return {key.lower() for block in (statement.get("Condition") or {}).values() for key in block}


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_every_statement_for_a_service_names_its_source(path: Path) -> None:
    template = yaml.safe_load(path.read_text(encoding="utf-8"))
    found = 0
    for conditions in modes(template):
        for statement in service_statements(resolve(present(template["Resources"], conditions), conditions)):
            found += 1
            assert condition_keys(statement) & SOURCE_KEYS, (path.name, conditions, statement)
    if path.name in ("functions.yaml", "monitoring.yaml"):
        assert found  # the walk does reach them


def test_every_lambda_permission_for_a_service_is_scoped_in_both_modes() -> None:
    permissions = 0
    for path in TEMPLATES:
        template = yaml.safe_load(path.read_text(encoding="utf-8"))
        for conditions in modes(template):
            resources = resolve(present(template["Resources"], conditions), conditions)
            for logical_id, resource in resources.items():
                if resource["Type"] != "AWS::Lambda::Permission":
                    continue
                permissions += 1
                properties = resource["Properties"]
                assert properties["Principal"].endswith(".amazonaws.com"), logical_id
                if conditions.get("Organization"):
                    assert properties["PrincipalOrgID"] == {"Ref": "OrganizationId"}, logical_id
                    assert "SourceAccount" not in properties  # members' Config invokes too
                else:
                    assert "SourceAccount" in properties or "SourceArn" in properties, (path.name, logical_id)
    assert permissions


def test_single_account_config_permission_names_this_account_and_its_config_rules() -> None:
    from transcribe_guard.templates import functions_template

    template = functions_template()
    single_account = {"SingleAccount": True, "Organization": False, "CreateRole": True, "SingleAccountRole": True,
                      "OrganizationRole": False, "LiveReads": True, "LedgerOn": False}
    single = resolve(present(template["Resources"], single_account), single_account)
    for resource in single.values():
        if resource["Type"] == "AWS::Lambda::Permission":
            properties = resource["Properties"]
            assert properties["Principal"] == "config.amazonaws.com"
            assert properties["SourceAccount"] == {"Ref": "AWS::AccountId"}
            assert properties["SourceArn"] == {
                "Fn::Sub": "arn:${AWS::Partition}:config:${AWS::Region}:${AWS::AccountId}:config-rule/*"}
