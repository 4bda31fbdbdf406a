"""The ledger in the functions template: the table as issue 14 asks (on demand, KMS, point-in-time
recovery, TTL), the collector and what feeds it, and least privilege for both the collector and
the rules when they read the ledger."""

from __future__ import annotations


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
                                        functions_template, ledger_evaluation_actions)

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
    assert all(LEDGER_TABLE in arn["Fn::Sub"] for arn in ledger["Resource"])
    assert RESOURCES["EvaluatePolicy"]["Condition"] == "LiveReads"


def test_the_collector_calls_exactly_its_declared_actions_on_the_demo_account() -> None:
    with Simulator(seed="demo", region=REGION) as sim:
        sim_ledger.create_table(sim.client("dynamodb"), "ledger")
        with recording() as recorder:  # it records the calls of clients built inside it
            transcribe = ClientFactory(None, assume_role_mode=False).build_client("transcribe")
            collector = Collector(transcribe, LedgerStore(sim.client("dynamodb"), "ledger"), ACCOUNT)
            collector.sweep()
            collector.refresh_tags(f"arn:aws:transcribe:{REGION}:{ACCOUNT}:vocabulary/"
                                   + collector.store.query(f"{ACCOUNT}#{REGION}#vocabulary")[0][0]["name"])
    observed = {a for a in recorder.actions if a.startswith("transcribe:")}
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
