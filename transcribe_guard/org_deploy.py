"""The organization path (docs/deployment.md#aws-organization-delegated-administrator), as code:
what the documented commands do, for ``deploy --demo --organization`` and the tests.

Run as the management account or the Config delegated administrator (the functions account):

1. per Region: the code package and the functions stack (deploy.deploy with the organization id,
   no account pack);
2. the member role in every account of the organization: a service-managed StackSet, one Region
   (IAM is global);
   with the ledger, then each Region's collector sweeps every account once;
3. per Region: the organization conformance pack, template from that Region's artifact bucket,
   with LambdaAccountId = this account, AssumeRoleMode = true and the member role;
4. the organization aggregator (templates/aggregator.yaml) in the first Region.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from botocore.exceptions import ClientError

from transcribe_guard import deploy

MEMBER_ROLE_STACK_SET = "transcribe-guard-member-role"
AGGREGATOR_STACK = "transcribe-guard-aggregator"


@dataclass
class OrganizationDeployment:
    organization_id: str
    admin_account: str
    regions: list[str]
    pack_name: str
    aggregator: str
    functions: list[deploy.Deployment] = field(default_factory=list)
    org_pack_arns: dict[str, str] = field(default_factory=dict)  # Region -> organization pack ARN
    member_role_stack_set: bool = True  # False: the accounts already lent the member role


def org_pack_parameters(admin_account: str, pack_parameters: dict[str, str] | None = None) -> dict[str, str]:
    from transcribe_guard.templates import MEMBER_ROLE_NAME
    return {"LambdaAccountId": admin_account, "ExecutionRoleName": MEMBER_ROLE_NAME, "AssumeRoleMode": "true",
            **(pack_parameters or {})}


def deploy_organization(session_factory: Callable[[str], Any], regions: list[str],
                        pack_parameters: dict[str, str] | None = None, pack_name: str = deploy.PACK_NAME,
                        progress: Callable[[str], None] = lambda _: None,
                        member_role: bool = True, ledger: deploy.LedgerSettings | None = None) -> OrganizationDeployment:
    """``member_role=False``: the accounts already have the member role (made another way), so
    step 2 is left out. ``ledger``: TranscribeLedger in every Region's functions stack; each
    Region's collector sweeps every account through the member role, which then trusts it too."""
    from transcribe_guard.generate import _template_yaml, conformance_pack_yaml
    from transcribe_guard.templates import AGGREGATOR_NAME, aggregator_template, member_role_template

    if not regions:
        raise deploy.DeployError("no Region to deploy to")
    home = session_factory(regions[0])
    organization = home.client("organizations").describe_organization()["Organization"]
    admin = home.client("sts").get_caller_identity()["Account"]
    parameters = org_pack_parameters(admin, pack_parameters)
    deploy.check_pack_parameters(parameters)
    call_as = "SELF" if organization["MasterAccountId"] == admin else "DELEGATED_ADMIN"
    done = OrganizationDeployment(organization["Id"], admin, list(regions), pack_name, AGGREGATOR_NAME,
                                  member_role_stack_set=member_role)

    for region in regions:  # 1. functions, Region by Region (the first creates the role)
        done.functions.append(deploy.deploy(session_factory(region), stack_name=deploy.STACK_NAME, pack_name=pack_name,
                                            progress=lambda m, r=region: progress(f"[{r}] {m}"),
                                            organization_id=organization["Id"], put_pack=False, ledger=ledger))

    cloudformation = home.client("cloudformation")
    if member_role:
        progress(f"member role in every account: StackSet {MEMBER_ROLE_STACK_SET} (service-managed)")  # 2.
        roots = home.client("organizations").list_roots()["Roots"]
        # The collector's role exists now (step 1 made it), so the trust may name it.
        role_parameters = [{"ParameterKey": "FunctionsAccountId", "ParameterValue": admin},
                           {"ParameterKey": "TrustLedgerCollector",
                            "ParameterValue": "true" if ledger and ledger.enabled else "false"}]
        try:
            cloudformation.describe_stack_set(StackSetName=MEMBER_ROLE_STACK_SET, CallAs=call_as)
            cloudformation.update_stack_set(
                StackSetName=MEMBER_ROLE_STACK_SET, TemplateBody=_template_yaml(member_role_template()),
                Capabilities=["CAPABILITY_NAMED_IAM"], CallAs=call_as, Parameters=role_parameters)
        except cloudformation.exceptions.StackSetNotFoundException:
            cloudformation.create_stack_set(
                StackSetName=MEMBER_ROLE_STACK_SET, TemplateBody=_template_yaml(member_role_template()),
                Capabilities=["CAPABILITY_NAMED_IAM"], PermissionModel="SERVICE_MANAGED", CallAs=call_as,
                AutoDeployment={"Enabled": True, "RetainStacksOnAccountRemoval": False},
                Parameters=role_parameters)
        cloudformation.create_stack_instances(StackSetName=MEMBER_ROLE_STACK_SET, CallAs=call_as,
                                              DeploymentTargets={"OrganizationalUnitIds": [roots[0]["Id"]]},
                                              Regions=[regions[0]])

        if call_as == "SELF":  # StackSets never deploy to the management account: the member role there, as a stack
            _ensure_stack(cloudformation, MEMBER_ROLE_STACK_SET, _template_yaml(member_role_template()),
                          role_parameters, "CAPABILITY_NAMED_IAM")
    else:
        progress("member role: already in every account, not deployed")

    if ledger and ledger.enabled:  # the member role trusts the collector now: its first sweep, every account
        for functions in done.functions:
            functions.ledger_sweep = deploy.first_ledger_sweep(
                session_factory(functions.region), lambda m, r=functions.region: progress(f"[{r}] {m}"))

    body = conformance_pack_yaml()
    for functions in done.functions:  # 3. the organization pack, Region by Region
        region_session = session_factory(functions.region)
        key = "conformance-pack.yaml"
        region_session.client("s3").put_object(Bucket=functions.code_bucket, Key=key, Body=body.encode(),
                                               ExpectedBucketOwner=admin)
        progress(f"[{functions.region}] putting organization conformance pack {pack_name}")
        answer = region_session.client("config").put_organization_conformance_pack(
            OrganizationConformancePackName=pack_name, TemplateS3Uri=f"s3://{functions.code_bucket}/{key}",
            ConformancePackInputParameters=[{"ParameterName": k, "ParameterValue": v} for k, v in parameters.items()])
        done.org_pack_arns[functions.region] = answer["OrganizationConformancePackArn"]

    progress(f"organization aggregator {AGGREGATOR_NAME} (stack {AGGREGATOR_STACK})")  # 4.
    _ensure_stack(cloudformation, AGGREGATOR_STACK, _template_yaml(aggregator_template()), [], "CAPABILITY_IAM")
    return done


def _ensure_stack(cloudformation: Any, name: str, body: str, parameters: list[dict[str, str]], capability: str) -> None:
    """Create the stack, or update it to ``body`` and ``parameters`` (a redeploy that turned the ledger on)."""
    try:
        cloudformation.describe_stacks(StackName=name)
    except ClientError:  # no such stack yet
        cloudformation.create_stack(StackName=name, TemplateBody=body, Parameters=parameters, Capabilities=[capability])
        cloudformation.get_waiter("stack_create_complete").wait(StackName=name)
        return
    try:
        cloudformation.update_stack(StackName=name, TemplateBody=body, Parameters=parameters,
                                    Capabilities=[capability])
        cloudformation.get_waiter("stack_update_complete").wait(StackName=name)
    except ClientError as error:
        if "No updates are to be performed" not in str(error):
            raise


def member_pack_names(config: Any, pack_name: str) -> dict[str, str]:
    """Account -> the name the organization pack has there (GetOrganizationConformancePackDetailedStatus)."""
    statuses = config.get_organization_conformance_pack_detailed_status(OrganizationConformancePackName=pack_name)
    return {s["AccountId"]: s["ConformancePackName"] for s in statuses["OrganizationConformancePackDetailedStatuses"]}
