"""The demo organization: Acme's management account (the ``demo`` seed) and two member accounts,
in Organizations OUs, each member running Transcribe in two Regions with compliant and
non-compliant resources. ``scan --demo --organization`` scans it.

    with Simulator(seed="demo") as sim:
        org = seed_demo_organization(sim.client)
        org.accounts      # {"123456789012": "acme-management", "<id>": "acme-contact-center", ...}
        org.regions       # ("us-east-1", "eu-west-1")

Layout::

    Root
    |- 123456789012 acme-management     (the demo seed in us-east-1; one ad-hoc job in eu-west-1)
    `- OU Workloads
       |- OU ContactCenter  acme-contact-center  (us-east-1, eu-west-1)
       `- OU Clinic         acme-clinic          (us-east-1, eu-west-1)

Member accounts are made with organizations:CreateAccount and seeded through the role
Organizations creates in them (OrganizationAccountAccessRole, CreateAccount's default RoleName).
moto 5.2.5 gives AssumeRole credentials the account of the role's ARN (moto/sts/models.py:
"The ARN can point to another account, providing an opportunity to switch accounts"), so calls
made with them act in the member account. Every account (the management one included) gets the
read-only member role under the member-role template's default name, so a scan with
``--role-name transcribe-guard-member`` assumes a role that exists. (moto does not require an
assumed role to exist, nor check its trust policy: an account that cannot be assumed is made with
a fault, ``faults.inject(faults.ACCESS_DENIED, "AssumeRole", service="sts", resource=<role ARN>)``.)

Per member and Region: a KMS key, a media bucket and a transcripts bucket (SSE-KMS default, a
policy denying other encryption and plain HTTP), a redacted, encrypted, tagged job written to the
transcripts bucket (compliant) and an ad-hoc job with no redaction, no output bucket and no tags
(non-compliant), an encrypted vocabulary. Per member (IAM is global): a scoped data-access role
guarded by aws:SourceAccount, a broad unguarded one, and an IAM user with a long-term key and a
Transcribe policy. The clinic runs medical jobs too, one without PHI identification.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

from transcribe_guard.simulator import DEFAULT_ACCOUNT
from transcribe_guard.simulator.seeds import REQUIRED_TAGS, _bucket, _enforce_kms_policy, _role

ClientFactory = Callable[..., Any]  # (service, region=None) -> a boto3 client of the management account

REGIONS = ("us-east-1", "eu-west-1")
ORGANIZATION_ACCESS_ROLE = "OrganizationAccountAccessRole"  # CreateAccount's default RoleName
MANAGEMENT_NAME = "acme-management"
# (account name, short name used in resource names, OU under Workloads)
MEMBERS = (("acme-contact-center", "cc", "ContactCenter"), ("acme-clinic", "clinic", "Clinic"))
PARENT_OU = "Workloads"


def member_role_name() -> str:
    """The role name the member-role template creates by default (what ``--role-name`` names)."""
    from transcribe_guard.templates import MEMBER_ROLE_NAME
    return MEMBER_ROLE_NAME


@dataclass(frozen=True)
class DemoOrganization:
    management_account: str
    accounts: dict[str, str]  # account id -> name, management first, then members in creation order
    organizational_units: dict[str, str]  # OU name -> OU id
    account_parents: dict[str, str]  # account id -> the id of its parent (root or OU)
    root_id: str
    regions: tuple[str, ...] = REGIONS
    role_name: str = field(default_factory=member_role_name)

    @property
    def members(self) -> list[str]:
        return [account for account in self.accounts if account != self.management_account]

    def role_arn(self, account: str) -> str:
        return f"arn:aws:iam::{account}:role/{self.role_name}"


def seed_demo_organization(client: ClientFactory, regions: tuple[str, ...] = REGIONS) -> DemoOrganization:
    """Add the organization's OUs and member accounts to the management account ``client``
    builds clients for (the ``demo`` seed's account, which already has the organization; one is
    created otherwise), seed each member in ``regions``, and return the layout."""
    organizations = client("organizations")
    management = str(client("sts").get_caller_identity()["Account"])
    try:
        organizations.describe_organization()
    except organizations.exceptions.AWSOrganizationsNotInUseException:
        organizations.create_organization(FeatureSet="ALL")
    root = organizations.list_roots()["Roots"][0]["Id"]
    ous = {PARENT_OU: organizations.create_organizational_unit(ParentId=root, Name=PARENT_OU)
           ["OrganizationalUnit"]["Id"]}
    accounts = {management: MANAGEMENT_NAME}
    parents = {management: root}
    _member_role(client("iam"), management)
    for region in regions[1:]:
        _seed_management_region(lambda service: client(service, region), region)
    for name, short, ou_name in MEMBERS:
        ous[ou_name] = organizations.create_organizational_unit(ParentId=ous[PARENT_OU], Name=ou_name)[
            "OrganizationalUnit"]["Id"]
        status = organizations.create_account(Email=f"aws+{name}@acme.example", AccountName=name)
        account = str(status["CreateAccountStatus"]["AccountId"])
        organizations.move_account(AccountId=account, SourceParentId=root, DestinationParentId=ous[ou_name])
        accounts[account], parents[account] = name, ous[ou_name]
        credentials = client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/{ORGANIZATION_ACCESS_ROLE}",
            RoleSessionName="acme-demo-seed")["Credentials"]
        _seed_member(_member_clients(credentials), account, short, regions)
    return DemoOrganization(management, accounts, ous, parents, root, tuple(regions))


def _member_clients(credentials: dict[str, Any]) -> ClientFactory:
    import boto3

    session = boto3.session.Session(aws_access_key_id=credentials["AccessKeyId"],
                                    aws_secret_access_key=credentials["SecretAccessKey"],
                                    aws_session_token=credentials["SessionToken"])

    def client(service: str, region: str = REGIONS[0]) -> Any:
        return session.client(service, region_name=region)
    return client


def _member_role(iam: Any, account: str) -> None:
    """The member-role template's role (read-only evaluation), trusting the management account."""
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"AWS": f"arn:aws:iam::{DEFAULT_ACCOUNT}:root"}}]}
    _role(iam, member_role_name(), trust, inline={"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["transcribe:List*", "transcribe:Get*"], "Resource": "*"}]})


def _seed_management_region(client: Callable[[str], Any], region: str) -> None:
    """A Region the management account barely uses: one ad-hoc job, written to the service's bucket."""
    s3, transcribe = client("s3"), client("transcribe")
    media = f"acme-mgmt-{region}-media"
    _bucket(s3, region, media)
    s3.put_object(Bucket=media, Key="meetings/all-hands.wav", Body=b"RIFF meeting audio")
    transcribe.start_transcription_job(TranscriptionJobName="all-hands-meeting", LanguageCode="en-US",
                                       Media={"MediaFileUri": f"s3://{media}/meetings/all-hands.wav"})


def _seed_member(client: ClientFactory, account: str, short: str, regions: tuple[str, ...]) -> None:
    iam = client("iam")
    _member_role(iam, account)
    guarded = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "transcribe.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": account}}}]}
    unguarded = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "transcribe.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    media = [f"arn:aws:s3:::acme-{short}-{region}-media/*" for region in regions]
    transcripts = [f"arn:aws:s3:::acme-{short}-{region}-transcripts/*" for region in regions]
    scoped_role = _role(iam, f"acme-{short}-transcribe-data-access", guarded, inline={
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": media},
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": transcripts}]})
    _role(iam, f"acme-{short}-legacy-transcribe", unguarded, inline={
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    user = f"acme-{short}-batch-uploader"
    iam.create_user(UserName=user)
    iam.create_access_key(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="batch-transcribe", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["transcribe:StartTranscriptionJob", "transcribe:GetTranscriptionJob"],
             "Resource": "*"}]}))
    for region in regions:
        _seed_member_region(lambda service: client(service, region), short, region, scoped_role)


def _seed_member_region(client: Callable[[str], Any], short: str, region: str, scoped_role: str) -> None:
    s3, kms, transcribe = client("s3"), client("kms"), client("transcribe")
    media, transcripts = f"acme-{short}-{region}-media", f"acme-{short}-{region}-transcripts"
    key = kms.create_key(Description=f"Acme {short} transcripts")["KeyMetadata"]["Arn"]
    kms.enable_key_rotation(KeyId=key)
    for bucket in (media, transcripts):
        _bucket(s3, region, bucket)
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key},
             "BucketKeyEnabled": True}]})
    s3.put_bucket_policy(Bucket=transcripts, Policy=_enforce_kms_policy(transcripts))
    for index in (1, 2):
        s3.put_object(Bucket=media, Key=f"calls/call-{index:04d}.wav", Body=b"RIFF call audio")
    s3.put_object(Bucket=media, Key="customizations/terms.txt", Body=b"Phrase\tDisplayAs\nAcmeCare\t\n")
    audio = lambda index: {"MediaFileUri": f"s3://{media}/calls/call-{index:04d}.wav"}  # noqa: E731
    transcribe.start_transcription_job(  # compliant: redacted, customer key, own bucket, tagged
        TranscriptionJobName=f"{short}-call-0001", LanguageCode="en-US", Media=audio(1),
        OutputBucketName=transcripts, OutputEncryptionKMSKeyId=key, Tags=REQUIRED_TAGS,
        ContentRedaction={"RedactionType": "PII", "RedactionOutput": "redacted"},
        JobExecutionSettings={"AllowDeferredExecution": True, "DataAccessRoleArn": scoped_role})
    transcribe.start_transcription_job(  # non-compliant: service bucket, no redaction, no tags
        TranscriptionJobName=f"{short}-adhoc-meeting", LanguageCode="en-US", Media=audio(2))
    transcribe.create_vocabulary(
        VocabularyName=f"acme-{short}-terms", LanguageCode="en-US",
        VocabularyFileUri=f"s3://{media}/customizations/terms.txt", DataAccessRoleArn=scoped_role,
        EncryptionConfiguration={"KMSKey": key}, Tags=REQUIRED_TAGS)
    if short == "clinic":
        transcribe.start_medical_transcription_job(  # compliant: PHI identified, own bucket, tagged
            MedicalTranscriptionJobName=f"clinic-visit-{region}-0001", LanguageCode="en-US", Specialty="PRIMARYCARE",
            Type="DICTATION", Media=audio(1), OutputBucketName=transcripts, OutputEncryptionKMSKeyId=key,
            ContentIdentificationType="PHI", Tags=REQUIRED_TAGS)
        transcribe.start_medical_transcription_job(  # non-compliant: no PHI identification, no tags
            MedicalTranscriptionJobName=f"clinic-visit-{region}-0002", LanguageCode="en-US", Specialty="PRIMARYCARE",
            Type="CONVERSATION", Media=audio(2), OutputBucketName=transcripts)
