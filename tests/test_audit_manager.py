"""`evidence audit-manager`: for every framework, CreateControl and CreateAssessmentFramework bodies
valid against botocore's auditmanager model (moto has no Audit Manager), naming every mapped pack
entry with the keyword AWS documents; the keywords match the rules the pack really deploys; the
model check catches what the model refuses; and the import shown in docs/evidence.md works against
botocore's Stubber."""

from __future__ import annotations

import copy
import io
import json
import re
import uuid
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.stub import Stubber

from rules.catalog.pack_entries import MANAGED_RULES
from transcribe_guard import audit_manager, cli, deploy
from transcribe_guard.compliance import FRAMEWORKS, catalog_controls, mapped_controls
from transcribe_guard.simulator import Simulator

from .test_deploy import required_pack_parameters

ROOT = Path(__file__).resolve().parent.parent
IDENTIFIERS = {m["name"]: m["identifier"] for m in MANAGED_RULES}


def expected_keyword(name: str, deployed_as: str) -> str:
    if name in IDENTIFIERS:
        return IDENTIFIERS[name]
    return f"Custom_{name}-conformance-pack" if deployed_as == "pack" else f"Custom_{name}"


@pytest.mark.parametrize("deployed_as", audit_manager.DEPLOYED_AS)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_framework_validates_and_names_every_mapped_entry(framework: str, deployed_as: str) -> None:
    document = audit_manager.build(framework, deployed_as)
    assert audit_manager.problems(document) == []
    mapped = mapped_controls(framework)
    wanted: dict[str, set[str]] = {}
    for name, controls in mapped.items():
        for control in controls:
            wanted.setdefault(control["id"], set()).add(name)
    # One control per mapped requirement, in catalog order.
    assert [c["control"] for c in document["controls"]] == [c for c in catalog_controls(framework) if c in wanted]
    for control in document["controls"]:
        sources = control["create_control"]["controlMappingSources"]
        assert {s["sourceName"] for s in sources} == wanted[control["control"]] == set(control["rules"])
        for source in sources:
            assert (source["sourceType"], source["sourceKeyword"]["keywordInputType"]) == ("AWS_Config",
                                                                                           "SELECT_FROM_LIST")
            assert source["sourceKeyword"]["keywordValue"] == expected_keyword(source["sourceName"], deployed_as)
    named = {s["sourceName"] for c in document["controls"] for s in c["create_control"]["controlMappingSources"]}
    assert named == {name for name, controls in mapped.items() if controls}  # every mapped rule, managed ones too
    assert named & set(IDENTIFIERS)
    ids = [c["id"] for s in document["create_assessment_framework"]["controlSets"] for c in s["controls"]]
    assert sorted(ids) == sorted(c["placeholder_id"] for c in document["controls"])
    assert all(str(uuid.UUID(i)) == i for i in ids)
    assert audit_manager.build(framework, deployed_as) == document  # placeholders stable from run to run


def test_keywords_name_the_rules_the_pack_deploys() -> None:
    """Config names a pack's rules <name>-conformance-pack-<suffix>; AWS's keyword for such a
    service-linked rule is Custom_ and the name without the suffix ID; managed rules go by identifier."""
    with Simulator(seed="empty") as sim:
        done = deploy.deploy(boto3.session.Session(), required_pack_parameters())
        config = sim.client("config")
        names = deploy.pack_rule_names(config, done.pack_name)
        rules = [rule for page in config.get_paginator("describe_config_rules").paginate(ConfigRuleNames=names)
                 for rule in page["ConfigRules"]]
    entries = audit_manager.pack_entries()
    seen = set()
    for rule in rules:
        deployed, name = rule["ConfigRuleName"], deploy.base_rule_name(rule["ConfigRuleName"])
        entry = entries[name]
        if entry["kind"] == "managed":
            assert audit_manager.keyword(entry) == rule["Source"]["SourceIdentifier"]
        else:
            assert audit_manager.keyword(entry) == "Custom_" + re.sub(r"-[^-]+$", "", deployed)
        seen.add(name)
    assert seen == set(entries)


def test_the_model_check_catches_what_the_model_refuses() -> None:
    document = audit_manager.build("soc2")
    broken = copy.deepcopy(document)
    control = broken["controls"][0]["create_control"]
    control["colour"] = "red"
    del control["name"]
    control["description"] = "x" * 1001
    control["controlMappingSources"][0]["sourceType"] = "AWS_CONFIG"
    control["controlMappingSources"][0]["sourceKeyword"]["keywordValue"] = "Custom_rule;drop"
    framework = broken["create_assessment_framework"]
    framework["controlSets"][0]["name"] = "Common_Criteria"
    framework["controlSets"][1]["controls"] = "all"
    found = audit_manager.problems(broken)
    path = "controls[0].create_control"
    assert f"{path}: unknown member colour" in found
    assert f"{path}: missing required member name" in found
    assert f"{path}.description: length 1001 above model maximum 1000" in found
    assert f"{path}.controlMappingSources[0].sourceType: 'AWS_CONFIG' is not one of the model's enum values" in found
    assert any(p.startswith(f"{path}.controlMappingSources[0].sourceKeyword.keywordValue: does not match the model "
                            "pattern") for p in found)
    assert any(p.startswith("create_assessment_framework.controlSets[0].name: does not match the model pattern")
               for p in found)
    assert "create_assessment_framework.controlSets[1].controls: expected list, got str" in found
    assert found[-1] == "create_assessment_framework: its control ids are not exactly the controls' placeholder_ids"
    with pytest.raises(ValueError, match="break botocore's model"):
        audit_manager.render(broken)


def test_cli_writes_the_file_and_refuses_to_overwrite_it(tmp_path: Path) -> None:
    target = tmp_path / "pci.json"
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["evidence", "audit-manager", "pci", "--output", str(target)], out, err) == cli.EXIT_OK
    document = json.loads(target.read_text(encoding="utf-8"))
    assert document == audit_manager.build("pci")
    assert out.getvalue().startswith(f"Audit Manager framework {target}: {len(document['controls'])} controls in ")
    assert cli.main(["evidence", "audit-manager", "pci", "--output", str(target)], out, err) == cli.EXIT_USAGE
    assert err.getvalue().endswith(f"--output {target}: exists; choose another path.\n")
    err = io.StringIO()
    assert cli.main(["evidence", "audit-manager", "iso27001", "--output", str(tmp_path / "x.json")], out,
                    err) == cli.EXIT_USAGE
    assert err.getvalue() == "transcribe-guard: audit-manager iso27001: choose one of hipaa, pci, soc2, nist.\n"
    assert not (tmp_path / "x.json").exists()



def test_an_output_that_cannot_be_written_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out, err = io.StringIO(), io.StringIO()
    target = blocker / "soc2.json"  # its folder is a file
    assert cli.main(["evidence", "audit-manager", "soc2", "--output", str(target)], out, err) == cli.EXIT_USAGE
    assert err.getvalue().startswith(f"transcribe-guard: --output {target}: cannot write it (")
    assert err.getvalue().count("\n") == 1 and out.getvalue() == ""


def docs_import_snippet() -> str:
    text = (ROOT / "docs" / "evidence.md").read_text(encoding="utf-8")
    section = text.split("## AWS Audit Manager", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


def test_the_documented_import_creates_the_controls_then_the_framework(tmp_path: Path, monkeypatch: Any,
                                                                       capsys: Any) -> None:
    document = audit_manager.build("hipaa")
    (tmp_path / "hipaa-framework.json").write_text(audit_manager.render(document), encoding="utf-8")
    client = botocore.session.get_session().create_client(
        "auditmanager", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    created: dict[str, str] = {}
    with Stubber(client) as stubber:  # checks every request against the model, answers in its shape
        for control in document["controls"]:
            created[control["placeholder_id"]] = real = str(uuid.uuid4())
            stubber.add_response("create_control", {"control": {"id": real, "name": control["create_control"]["name"]}},
                                 control["create_control"])
        framework = copy.deepcopy(document["create_assessment_framework"])
        for control_set in framework["controlSets"]:
            for control in control_set["controls"]:
                control["id"] = created[control["id"]]
        framework_id = str(uuid.uuid4())
        stubber.add_response("create_assessment_framework", {"framework": {"id": framework_id}}, framework)
        monkeypatch.chdir(tmp_path)
        monkeypatch.setattr(boto3, "client", lambda service, **_: client if service == "auditmanager" else None)
        exec(compile(docs_import_snippet(), "docs/evidence.md", "exec"), {})  # noqa: S102 - our own docs
        stubber.assert_no_pending_responses()
    assert capsys.readouterr().out == f"{framework_id}\n"
