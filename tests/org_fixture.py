"""A small simulated organization for the deploy and aggregator tests: the management account
(also the functions account, moto's default 123456789012) and two member accounts in an OU, with
Transcribe jobs in two Regions each, one job compliant and one not for the output-location rule;
the functions, member role, organization pack and aggregator deployed by org_deploy; every
member's pack evaluated."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3

from transcribe_guard import deploy, org_deploy
from transcribe_guard.simulator import DEFAULT_ACCOUNT

REGIONS = ["us-east-1", "eu-west-1"]
ACCESS_ROLE = "OrganizationAccountAccessRole"  # the role Organizations creates in accounts it creates


@dataclass
class Organization:
    management: str
    members: list[str]
    regions: list[str]
    deployment: org_deploy.OrganizationDeployment | None = None
    member_packs: dict[tuple[str, str], str] = field(default_factory=dict)  # (account, Region) -> pack name

    @property
    def accounts(self) -> list[str]:
        return sorted([self.management, *self.members])


_SESSIONS: dict[tuple[str, str], Any] = {}


def account_session(account: str, region: str) -> Any:
    """A session in ``account`` (kept: a session loads each service model once): the default
    credentials for the management account, else the account's access role assumed (moto maps
    the credentials to the role's account). Call ``forget_sessions`` when the simulator ends."""
    if (account, region) not in _SESSIONS:
        _SESSIONS[(account, region)] = _new_session(account, region)
    return _SESSIONS[(account, region)]


def forget_sessions() -> None:
    _SESSIONS.clear()


def _new_session(account: str, region: str) -> Any:
    if account == DEFAULT_ACCOUNT:
        return boto3.session.Session(region_name=region)
    credentials = boto3.client("sts", region_name=region).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{ACCESS_ROLE}", RoleSessionName="tests")["Credentials"]
    return boto3.session.Session(aws_access_key_id=credentials["AccessKeyId"],
                                 aws_secret_access_key=credentials["SecretAccessKey"],
                                 aws_session_token=credentials["SessionToken"], region_name=region)


def create_organization(member_count: int = 2) -> Organization:
    org = boto3.client("organizations", region_name=REGIONS[0])
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
    members = []
    for index in range(member_count):
        account = org.create_account(AccountName=f"member-{index}",
                                     Email=f"member-{index}@example.com")["CreateAccountStatus"]["AccountId"]
        org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=ou)
        members.append(account)
    return Organization(DEFAULT_ACCOUNT, members, list(REGIONS))


def add_jobs(account: str, region: str, jobs: int = 1) -> None:
    """``jobs`` jobs writing to an allowed bucket (compliant) and one to Transcribe's own
    service-managed location (non-compliant for transcribe-job-output-location)."""
    session = account_session(account, region)
    s3, transcribe = session.client("s3"), session.client("transcribe")
    media = f"media-{account}-{region}"
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    for bucket in (media, f"out-{account}-{region}"):
        s3.create_bucket(Bucket=bucket, **location)
    s3.put_object(Bucket=media, Key="a.wav", Body=b"RIFF audio")
    for index in range(jobs):
        transcribe.start_transcription_job(TranscriptionJobName=f"ok-{index}", LanguageCode="en-US",
                                           Media={"MediaFileUri": f"s3://{media}/a.wav"},
                                           OutputBucketName=f"out-{account}-{region}")
    transcribe.start_transcription_job(TranscriptionJobName="service-managed", LanguageCode="en-US",
                                       Media={"MediaFileUri": f"s3://{media}/a.wav"})


def evaluate_members(organization: Organization, rule_bases: list[str] | None = None) -> None:
    """Run the organization pack's custom rules in every account and Region (in AWS they run on
    their schedule; the simulator runs them when asked) and note each member pack's name."""
    from transcribe_guard.simulator import organization_config

    assert organization.deployment is not None
    for region in organization.regions:
        names = org_deploy.member_pack_names(account_session(DEFAULT_ACCOUNT, region).client("config"),
                                             organization.deployment.pack_name)
        organization.member_packs.update({(account, region): names[account] for account in organization.accounts})
    organization_config.evaluate_organization_pack(DEFAULT_ACCOUNT, organization.regions,
                                                   organization.deployment.pack_name, rule_bases)


def build(member_count: int = 2, jobs: int = 1, rule_bases: list[str] | None = None) -> Organization:
    organization = create_organization(member_count)
    for index, account in enumerate(organization.accounts):  # each account its own share of compliant jobs
        for region in organization.regions:
            add_jobs(account, region, jobs + index)
    organization.deployment = org_deploy.deploy_organization(
        lambda region: account_session(DEFAULT_ACCOUNT, region), organization.regions,
        deploy.demo_pack_parameters())
    evaluate_members(organization, rule_bases)
    return organization
