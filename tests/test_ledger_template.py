"""The ledger in the functions template: the table as issue 14 asks (on demand, KMS, point-in-time
recovery, TTL), the collector and what feeds it, and least privilege for both the collector and
the rules when they read the ledger."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rdklib import ClientFactory

from rules.catalog.registry import RULES
from rules.engine.collector import Collector, LedgerStore
from rules.inventory.transcribe import get_actions, list_actions, ALL_KINDS
from rules.policy.event_pattern import matches
from tests.helpers import ACCOUNT, REGION
from transcribe_guard.iam_actions import recording
from transcribe_guard.simulator import Simulator
from transcribe_guard.simulator import ledger as sim_ledger
from transcribe_guard.templates import (COLLECTOR_NAME, LEDGER_TABLE, collector_actions, evaluation_actions,
                                        functions_template, ledger_evaluation_actions, member_role_template)

TEMPLATE = functions_template()
RESOURCES = TEMPLATE["Resources"]


def test_the_ledger_is_on_demand_encrypted_recoverable_and_expires() -> None:
    table = RESOURCES["LedgerTable"]
    assert table["Condition"] == "LedgerOn" and TEMPLATE["Parameters"]["TranscribeLedger"]["Default"] == "disabled"
    properties = table["Properties"]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": {
        "Fn::If": ["HasLedgerKey", {"Ref": "LedgerKmsKeyArn"}, {"Ref": "AWS::NoValue"}]}}
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires", "Enabled": True}
    assert [k["AttributeName"] for k in properties["KeySchema"]] == ["pk", "sk"]


def test_the_rule_functions_are_told_the_table_only_when_the_ledger_is_on() -> None:
    for resource in RESOURCES.values():
        # The event trigger (EnableEventTriggers) only starts evaluations: it reads no Transcribe data.
        if resource["Type"] == "AWS::Lambda::Function" and resource.get("Condition") != "EnableEventTriggers":
            table = resource["Properties"]["Environment"]["Variables"]["TRANSCRIBE_GUARD_LEDGER_TABLE"]
            expected = {"Ref": "LedgerTable"} if resource["Properties"]["FunctionName"] == COLLECTOR_NAME else {
                "Fn::If": ["LedgerOn", {"Ref": "LedgerTable"}, ""]}
            assert table == expected


def test_the_collector_runs_alone_and_is_fed_by_state_changes_cloudtrail_and_a_schedule() -> None:
    function = RESOURCES["LedgerCollectorFunction"]["Properties"]
    assert function["Handler"] == "rules.engine.collector.lambda_handler"
    assert function["ReservedConcurrentExecutions"] == 1  # its pacing is the pack's whole share
    assert function["Environment"]["Variables"]["TRANSCRIBE_GUARD_LEDGER_GET_SHARE"] == {"Ref": "LedgerGetShare"}
    jobs = RESOURCES["LedgerJobEventsRule"]["Properties"]["EventPattern"]
    api = RESOURCES["LedgerApiEventsRule"]["Properties"]["EventPattern"]
    state_change = {"source": "aws.transcribe", "detail-type": "Transcribe Job State Change",
                    "detail": {"TranscriptionJobName": "j", "TranscriptionJobStatus": "COMPLETED"}}
    deleted = {"source": "aws.transcribe", "detail-type": "AWS API Call via CloudTrail",
               "detail": {"eventSource": "transcribe.amazonaws.com", "eventName": "DeleteTranscriptionJob"}}
    started = {**deleted, "detail": {**deleted["detail"], "eventName": "StartTranscriptionJob"}}
    assert matches(jobs, state_change) and matches(api, deleted) and not matches(api, started)
    assert RESOURCES["LedgerSweepSchedule"]["Properties"]["ScheduleExpression"].startswith("rate(")
    for rule in ("LedgerJobEventsRule", "LedgerApiEventsRule", "LedgerSweepSchedule"):
        permission = RESOURCES[f"{rule}Permission"]["Properties"]
        assert permission["Principal"] == "events.amazonaws.com"
        assert permission["SourceArn"] == {"Fn::GetAtt": [rule, "Arn"]}


def test_with_the_ledger_the_rules_read_dynamodb_not_transcribe() -> None:
    statements = RESOURCES["EvaluateWithLedgerPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    evaluate, ledger = statements
    reads = set(list_actions(*ALL_KINDS)) | set(get_actions(*ALL_KINDS)) | {"transcribe:ListTagsForResource"}
    assert not set(evaluate["Action"]) & reads
    assert set(evaluate["Action"]) == set(evaluation_actions()) - reads == set(ledger_evaluation_actions())
    assert ledger["Action"] == ["dynamodb:GetItem", "dynamodb:Query"]
    # The role is global and this policy is the role-creating stack's only: it reads this account's
    # ledger table in every Region (each Region's stack makes its own).
    assert [arn["Fn::Sub"] for arn in ledger["Resource"]] == [
        "arn:${AWS::Partition}:dynamodb:*:${AWS::AccountId}:table/" + LEDGER_TABLE,
        "arn:${AWS::Partition}:dynamodb:*:${AWS::AccountId}:table/" + LEDGER_TABLE + "/index/arn"]
    assert RESOURCES["EvaluateWithLedgerPolicy"]["Condition"] == "LedgerSingleAccountRole"
    assert RESOURCES["EvaluatePolicy"]["Condition"] == "LiveReads"
    # An organization's functions evaluate through the member role: of their own, the ledger only.
    assert RESOURCES["ReadLedgerPolicy"]["Condition"] == "LedgerOrganizationRole"
    assert RESOURCES["ReadLedgerPolicy"]["Properties"]["PolicyDocument"]["Statement"] == [ledger]
    conditions = TEMPLATE["Conditions"]
    assert conditions["LedgerOn"] == {"Fn::Equals": [{"Ref": "TranscribeLedger"}, "enabled"]}  # every Region's stack
    assert conditions["LedgerRole"] == {"Fn::And": [{"Condition": "LedgerOn"}, {"Condition": "CreateRole"}]}
    assert conditions["LedgerSingleAccountRole"] == {"Fn::And": [{"Condition": "LedgerRole"},
                                                                 {"Condition": "SingleAccount"}]}
    assert conditions["LedgerOrganizationRole"] == {"Fn::And": [{"Condition": "LedgerRole"},
                                                                {"Condition": "Organization"}]}


def test_the_collector_calls_exactly_its_declared_actions_on_the_demo_account() -> None:
    with Simulator(seed="demo", region=REGION) as sim:
        sim_ledger.create_table(sim.client("dynamodb"), "ledger")
        with recording() as recorder:  # it records the calls of clients built inside it
            transcribe = ClientFactory(None, assume_role_mode=False).build_client("transcribe")
            collector = Collector(transcribe, LedgerStore(sim.client("dynamodb"), "ledger"), ACCOUNT)
            collector.sweep()
            collector.refresh_tags(f"arn:aws:transcribe:{REGION}:{ACCOUNT}:vocabulary/"
                                   + collector.store.query(f"{ACCOUNT}#{REGION}#vocabulary")[0][0]["name"])
    observed = {a for a in recorder.actions if a.startswith(("transcribe:", "cloudtrail:"))}  # the sweep reads the history
    declared = set(collector_actions())
    assert observed - declared == set()
    # Kinds the demo account has none of are listed but never read.
    unread = {a for a in declared - observed if a.startswith("transcribe:Get") or a.startswith("transcribe:Describe")}
    assert declared - observed == unread and len(unread) < len(RULES)


def test_the_stack_with_the_ledger_on_creates_in_the_simulated_account() -> None:
    from tests.helpers import _tiny_zip
    from transcribe_guard.generate import _template_yaml

    with Simulator(seed="empty", region=REGION) as sim:
        s3 = sim.client("s3")
        s3.create_bucket(Bucket="code")
        s3.put_bucket_versioning(Bucket="code", VersioningConfiguration={"Status": "Enabled"})
        version = s3.put_object(Bucket="code", Key="rules.zip", Body=_tiny_zip())["VersionId"]
        # Over CreateStack's 51,200-byte TemplateBody: by URL, as deploy sends it.
        s3.put_object(Bucket="code", Key="functions.yaml", Body=_template_yaml(TEMPLATE).encode())
        cloudformation = sim.client("cloudformation")
        cloudformation.create_stack(
            StackName="functions", TemplateURL=f"https://code.s3.{REGION}.amazonaws.com/functions.yaml",
            Capabilities=["CAPABILITY_NAMED_IAM"],
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in (
                ("CodeBucket", "code"), ("CodeKey", "rules.zip"), ("CodeObjectVersion", version),
                ("TranscribeLedger", "enabled"))])
        assert cloudformation.describe_stacks(StackName="functions")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
        # moto's CloudFormation creates the table but applies no TTL, SSE or point-in-time recovery
        # from the template: those are checked on the template above, not here.
        sim.client("dynamodb").describe_table(TableName=LEDGER_TABLE)
        lam = sim.client("lambda")
        variables = lam.get_function(FunctionName="transcribe-job-output-location")["Configuration"]["Environment"]
        assert variables["Variables"]["TRANSCRIBE_GUARD_LEDGER_TABLE"] == LEDGER_TABLE
        collector_arn = lam.get_function(FunctionName=COLLECTOR_NAME)["Configuration"]["FunctionArn"]
        events = sim.client("events")
        rules = [r["Name"] for r in events.list_rules()["Rules"]]
        assert len(rules) == 3
        assert all(events.list_targets_by_rule(Rule=r)["Targets"][0]["Arn"] == collector_arn for r in rules)
        # They match Transcribe's job events by design: feeding the pack is not an alert reaching a person.
        from rules.transcribe_monitoring_configured import TranscribeMonitoringConfigured
        rule = TranscribeMonitoringConfigured()
        (verdict,) = rule.evaluate_periodic({"accountId": ACCOUNT},
                                            ClientFactory(None, region=REGION, assume_role_mode=False),
                                            rule.evaluate_parameters({}))
        assert verdict.complianceType == "NON_COMPLIANT"
        assert f"invokes only this pack's own function {COLLECTOR_NAME}" in str(verdict.annotation)


# --- deploy --ledger ------------------------------------------------------------------------------

def _verdicts(config: Any) -> dict[tuple[str, str], tuple[str, str]]:
    from transcribe_guard import deploy

    return {(r["rule"], r["resource_id"]): (r["compliance"], r["annotation"])
            for r in deploy.pack_compliance(config, deploy.PACK_NAME).results}


# The rules whose verdicts come from Transcribe reads: with the ledger, from the ledger.
LEDGER_READERS = sorted(name for name, cls in RULES.items()
                        if any(a.startswith("transcribe:List") for a in cls.METADATA["iam_actions"]))


def test_deploy_demo_with_the_ledger_judges_from_the_swept_ledger_as_live() -> None:
    from transcribe_guard import deploy, scan

    verdicts = {}
    for ledger in (False, True):
        with Simulator(seed="demo") as sim:
            session = scan.aws_session()
            done = deploy.deploy(session, deploy.demo_pack_parameters(), ledger=deploy.LedgerSettings(ledger))
            if ledger:
                lam = sim.client("lambda")
                assert lam.get_function(FunctionName=COLLECTOR_NAME)["Configuration"]["Handler"] == (
                    "rules.engine.collector.lambda_handler")
                assert done.ledger_sweep and all(done.ledger_sweep["swept"].values())  # deploy swept first
                lines = deploy.demo_ledger_sweep(session, done.ledger_sweep)
                assert "problems: none" in lines[0]
                assert sim.client("dynamodb").scan(TableName=LEDGER_TABLE, Select="COUNT")["Count"] > 0
                policies = sim.client("iam").list_role_policies(RoleName="transcribe-guard-functions")["PolicyNames"]
                assert "evaluate-with-ledger" in policies and "evaluate" not in policies
                collector_role = sim.client("iam").get_role(RoleName="transcribe-guard-ledger-collector")["Role"]
                tag_rule = next(r["ConfigRuleName"] for r in sim.client("config").describe_config_rules()["ConfigRules"]
                                if deploy.base_rule_name(r["ConfigRuleName"]) == "transcribe-iam-tag-based-access")
            with recording() as recorder:  # the rule functions' own calls, run by the simulated Config
                deploy.start_evaluation(sim.client("config"), deploy.PACK_NAME)
            transcribe_reads = {a for a in recorder.actions if a.startswith(("transcribe:Get", "transcribe:List"))}
            if ledger:
                assert "dynamodb:Query" in recorder.actions and not transcribe_reads
            else:
                assert transcribe_reads and "dynamodb:Query" not in recorder.actions
            verdicts[ledger] = _verdicts(sim.client("config"))
            if ledger:
                # The collector's role reads every Transcribe resource by design, as the functions'
                # role does: exempt by default (a fixed name), not a finding the pack makes about
                # itself. (Conformance pack details carry no NOT_APPLICABLE; the rule's own do.)
                exempt = sim.client("config").get_compliance_details_by_config_rule(
                    ConfigRuleName=tag_rule, ComplianceTypes=["NOT_APPLICABLE"])["EvaluationResults"]
                assert collector_role["RoleId"] in {
                    r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"] for r in exempt}
    live, from_ledger = ({key: value for key, value in found.items() if key[0] in LEDGER_READERS}
                         for found in (verdicts[False], verdicts[True]))
    assert live and from_ledger == live
    assert {rule for rule, _ in live} == set(LEDGER_READERS)


def test_deploy_ledger_in_two_regions_makes_a_table_and_collector_in_each_and_keeps_them_alike() -> None:
    from transcribe_guard import deploy

    regions = ["us-east-1", "eu-west-1"]
    with Simulator(seed="empty") as sim:
        def session(region: str) -> Any:
            import boto3
            return boto3.session.Session(region_name=region)

        parameters = {"TranscribeResourceTaggedParamRequiredTags": "CostCenter"}
        deploy.deploy_regions(regions, parameters, session_factory=session)  # live reads first
        with pytest.raises(deploy.DeployError, match=r"turning the ledger on in us-east-1 alone would leave "
                                                     r"eu-west-1 unable to read: deploy them too \(--region eu-west-1"):
            deploy.deploy_regions(["us-east-1"], parameters, session_factory=session,
                                  ledger=deploy.LedgerSettings(True))
        deploy.deploy_regions(regions, parameters, session_factory=session, ledger=deploy.LedgerSettings(True))
        for region in regions:
            sim.client("dynamodb", region).describe_table(TableName=LEDGER_TABLE)
            lam = sim.client("lambda", region)
            lam.get_function(FunctionName=COLLECTOR_NAME)
            variables = lam.get_function(FunctionName="transcribe-resource-tagged")["Configuration"]["Environment"]
            assert variables["Variables"]["TRANSCRIBE_GUARD_LEDGER_TABLE"] == LEDGER_TABLE, region
        policies = set(sim.client("iam").list_role_policies(RoleName="transcribe-guard-functions")["PolicyNames"])
        # (CloudFormation also deletes the live-reads policy, whose condition turned false; moto's update
        # keeps it: transcribe_guard/simulator/lambda_code.py's known gap. The ledger's policy decides.)
        assert {"evaluate-with-ledger", "transcribe-guard-us-east-1", "transcribe-guard-eu-west-1"} <= policies
        with pytest.raises(deploy.DeployError, match="turning the ledger off in eu-west-1 alone would leave us-east-1"):
            deploy.deploy_regions(["eu-west-1"], parameters, session_factory=session)
        with pytest.raises(deploy.DeployError, match="no key in eu-west-1"):
            deploy.deploy_regions(regions, parameters, session_factory=session, ledger=deploy.ledger_settings(
                True, [f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"]))


def test_an_organizations_collector_may_list_the_accounts_and_assume_only_the_member_role_in_them() -> None:
    statements = RESOURCES["LedgerCollectorOrganizationPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert RESOURCES["LedgerCollectorOrganizationPolicy"]["Condition"] == "LedgerOrganizationRole"
    listing, assume = statements
    assert listing["Action"] == "organizations:ListAccounts"
    assert assume["Action"] == "sts:AssumeRole"
    assert assume["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/${MemberExecutionRoleName}"}
    assert assume["Condition"] == {"StringEquals": {"aws:ResourceOrgID": {"Ref": "OrganizationId"}}}
    variables = RESOURCES["LedgerCollectorFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["TRANSCRIBE_GUARD_ORGANIZATION_ID"] == {"Ref": "OrganizationId"}
    assert variables["TRANSCRIBE_GUARD_MEMBER_ROLE"] == {"Ref": "MemberExecutionRoleName"}
    # What it calls in a member account, the member role allows (GetMedicalVocabulary is the
    # collector's own: no rule reads it live).
    member = member_role_template()["Resources"]["MemberRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    allowed = set(member["Statement"][0]["Action"])
    assert set(collector_actions()) | {"servicequotas:ListServiceQuotas"} <= allowed
    assert allowed == set(evaluation_actions()) | set(collector_actions())


@pytest.mark.parametrize(("argv", "message"), [
    (["--ledger-get-share", "0.5"], "--ledger-kms-key and --ledger-get-share configure the ledger: add --ledger."),
    (["--ledger", "--ledger-get-share", "0"], "--ledger-get-share 0: expected a share of each Transcribe quota above 0"),
    (["--ledger", "--ledger-get-share", "1.5"], "--ledger-get-share 1.5: expected"),
    (["--ledger", "--ledger-get-share", "half"], "--ledger-get-share half: expected"),
    (["--ledger", "--ledger-get-share", "nan"], "--ledger-get-share nan: expected"),
    (["--ledger", "--ledger-kms-key", "alias/mine"], "--ledger-kms-key alias/mine: expected a KMS key ARN"),
])
def test_cli_deploy_ledger_options_are_checked_before_anything_runs(argv: list[str], message: str) -> None:
    from transcribe_guard import cli

    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["deploy", *argv], out, err) == cli.EXIT_USAGE
    assert out.getvalue() == "" and err.getvalue().count("\n") == 1 and message in err.getvalue()


def test_ledger_settings_pass_the_share_and_each_regions_key_to_the_stack() -> None:
    from transcribe_guard import deploy

    east, west = (f"arn:aws:kms:{r}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab" for r in ("us-east-1", "eu-west-1"))
    settings = deploy.ledger_settings(True, [east, west], "0.250")
    assert settings.stack_parameters("eu-west-1") == [
        {"ParameterKey": "TranscribeLedger", "ParameterValue": "enabled"},
        {"ParameterKey": "LedgerKmsKeyArn", "ParameterValue": west},
        {"ParameterKey": "LedgerGetShare", "ParameterValue": "0.25"}]
    assert deploy.ledger_settings(True, get_share="1").get_share == "1"
    assert deploy.ledger_settings(True).stack_parameters("us-east-1") == [
        {"ParameterKey": "TranscribeLedger", "ParameterValue": "enabled"},
        {"ParameterKey": "LedgerKmsKeyArn", "ParameterValue": ""}]
    assert deploy.LedgerSettings().stack_parameters("us-east-1") == [
        {"ParameterKey": "TranscribeLedger", "ParameterValue": "disabled"}]
    import re
    pattern = TEMPLATE["Parameters"]["LedgerGetShare"]["AllowedPattern"]
    for share in ("0.25", "1", "0.2", "1e-1", "0.0001"):
        assert re.match(pattern, deploy.ledger_settings(True, get_share=share).get_share or ""), share


def test_deploy_sweeps_the_ledger_before_the_pack_and_says_when_that_sweep_failed() -> None:
    from transcribe_guard import deploy, scan

    with Simulator(seed="demo") as sim:
        session = scan.aws_session()
        done = deploy.deploy(session, deploy.demo_pack_parameters(), ledger=deploy.LedgerSettings(True), put_pack=False)
        assert done.ledger_sweep and done.ledger_sweep["gets"] > 0 and done.ledger_sweep["problems"] == []
        lam = sim.client("lambda")
        variables = lam.get_function_configuration(FunctionName=COLLECTOR_NAME)["Environment"]["Variables"]
        lam.update_function_configuration(FunctionName=COLLECTOR_NAME, Environment={"Variables": {
            k: v for k, v in variables.items() if k != "TRANSCRIBE_GUARD_LEDGER_TABLE"}})
        said: list[str] = []
        failed = deploy.first_ledger_sweep(session, said.append)  # Lambda's Unhandled function error, reported
        assert "TRANSCRIBE_GUARD_LEDGER_TABLE is not set" in failed["error"]
        assert any("first sweep failed" in line and "LedgerNotSwept" in line for line in said)
        with pytest.raises(deploy.DeployError, match="first sweep failed"):
            deploy.demo_ledger_sweep(session, failed)
