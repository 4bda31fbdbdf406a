"""Seeds for the simulated account. Each seed creates resources through plain boto3 calls, as a
user's pipeline would, so seeding exercises the same API the rules read.

The ``demo`` seed is a small company, Acme, that uses Transcribe in two places:

- a contact center: call audio in ``acme-cc-call-audio``, transcripts in ``acme-cc-transcripts``
  (SSE-KMS default with a customer key, a policy denying other encryption and plain HTTP),
  standard and call analytics jobs, mostly redacted and tagged, plus a few that are not;
- a clinic: dictation audio and transcripts in ``acme-clinical-dictation`` (SSE-S3 only), medical
  transcription and medical scribe jobs;

plus custom vocabularies, a vocabulary filter, a language model and a call analytics category,
and IAM roles passed to Transcribe, some well scoped and some not.
"""

from __future__ import annotations

import json
from typing import Any, Callable

ClientFactory = Callable[..., Any]

ACCOUNT = "123456789012"
CC_AUDIO, CC_TRANSCRIPTS, CLINIC = "acme-cc-call-audio", "acme-cc-transcripts", "acme-clinical-dictation"
REQUIRED_TAGS = [{"Key": "DataClassification", "Value": "confidential"}, {"Key": "CostCenter", "Value": "cc-ops"}]


def empty(client: ClientFactory) -> None:
    """Nothing: a fresh account."""


def _bucket(s3: Any, region: str, name: str) -> None:
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})


def _enforce_kms_policy(bucket: str, partition: str = "aws") -> str:
    objects = f"arn:{partition}:s3:::{bucket}/*"
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyIncorrectEncryptionHeader", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": objects,
         "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
                       "Null": {"s3:x-amz-server-side-encryption": "false"}}},
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [f"arn:{partition}:s3:::{bucket}", objects],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]})


def _role(iam: Any, name: str, trust: dict[str, Any], inline: dict[str, Any] | None = None,
          managed: list[str] = ()) -> str:  # type: ignore[assignment]
    arn = str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])
    if inline:
        iam.put_role_policy(RoleName=name, PolicyName=f"{name}-access", PolicyDocument=json.dumps(inline))
    for policy_arn in managed:
        iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
    return arn


def _transcribe_trust(confused_deputy_guard: bool) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": "transcribe.amazonaws.com"},
                                 "Action": "sts:AssumeRole"}
    if confused_deputy_guard:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    return {"Version": "2012-10-17", "Statement": [statement]}


def demo(client: ClientFactory) -> None:
    s3, kms, iam, transcribe = client("s3"), client("kms"), client("iam"), client("transcribe")
    region = transcribe.meta.region_name

    # Keys and buckets.
    cc_key = kms.create_key(Description="Contact-center transcripts", Tags=[
        {"TagKey": "DataClassification", "TagValue": "confidential"}])["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/acme-contact-center", TargetKeyId=cc_key)
    kms.enable_key_rotation(KeyId=cc_key)
    vocab_key = kms.create_key(Description="Transcribe customizations")["KeyMetadata"]["Arn"]
    for name in (CC_AUDIO, CC_TRANSCRIPTS, CLINIC):
        _bucket(s3, region, name)
    s3.put_bucket_encryption(Bucket=CC_TRANSCRIPTS, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": cc_key},
         "BucketKeyEnabled": True}]})
    s3.put_bucket_policy(Bucket=CC_TRANSCRIPTS, Policy=_enforce_kms_policy(CC_TRANSCRIPTS))
    s3.put_bucket_encryption(Bucket=CC_AUDIO, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": cc_key}}]})
    s3.put_bucket_encryption(Bucket=CLINIC, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})

    # Media and customization sources, uploaded as the pipeline would.
    for index in range(1, 6):
        s3.put_object(Bucket=CC_AUDIO, Key=f"calls/2026/11/call-{index:04d}.wav", Body=b"RIFF call audio")
    s3.put_object(Bucket=CLINIC, Key="dictation/visit-0001.wav", Body=b"RIFF dictation")
    s3.put_object(Bucket=CLINIC, Key="dictation/visit-0002.wav", Body=b"RIFF dictation")
    s3.put_object(Bucket=CC_AUDIO, Key="customizations/product-terms.txt", Body=b"Phrase\tDisplayAs\nAcmeCare\t\n")
    s3.put_object(Bucket=CC_AUDIO, Key="customizations/profanity.txt", Body=b"darn\n")
    s3.put_object(Bucket=CC_AUDIO, Key="customizations/medical-terms.txt", Body=b"Phrase\nmetoprolol\n")
    s3.put_object(Bucket=CC_AUDIO, Key="training/calls-corpus.txt", Body=b"thank you for calling acme\n")

    # Roles passed to Transcribe: one scoped, one too broad and unguarded.
    kms_use = iam.create_policy(PolicyName="acme-transcribe-kms-use", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": [cc_key, vocab_key]}]}))
    scoped_role = _role(iam, "acme-transcribe-data-access", _transcribe_trust(True), inline={
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
             "Resource": [f"arn:aws:s3:::{CC_AUDIO}/*", f"arn:aws:s3:::{CC_TRANSCRIPTS}/*"]}]},
        managed=[kms_use["Policy"]["Arn"]])
    broad_role = _role(iam, "legacy-transcribe-role", _transcribe_trust(False), inline={
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})

    audio = lambda index: {"MediaFileUri": f"s3://{CC_AUDIO}/calls/2026/11/call-{index:04d}.wav"}  # noqa: E731
    redact_all = {"RedactionType": "PII", "RedactionOutput": "redacted"}

    # Contact center: compliant calls, then the exceptions an auditor would find.
    for index in (1, 2):
        transcribe.start_transcription_job(
            TranscriptionJobName=f"cc-call-{index:04d}", LanguageCode="en-US", Media=audio(index),
            OutputBucketName=CC_TRANSCRIPTS, OutputKey="transcripts/", OutputEncryptionKMSKeyId="alias/acme-contact-center",
            ContentRedaction=redact_all, Tags=REQUIRED_TAGS,
            JobExecutionSettings={"AllowDeferredExecution": True, "DataAccessRoleArn": scoped_role})
    transcribe.start_transcription_job(  # unredacted copy kept, card-number types only
        TranscriptionJobName="cc-call-0003-qa-review", LanguageCode="en-US", Media=audio(3),
        OutputBucketName=CC_TRANSCRIPTS, OutputEncryptionKMSKeyId=cc_key, Tags=REQUIRED_TAGS,
        ContentRedaction={"RedactionType": "PII", "RedactionOutput": "redacted_and_unredacted",
                          "PiiEntityTypes": ["CREDIT_DEBIT_NUMBER", "CREDIT_DEBIT_CVV"]})
    transcribe.start_transcription_job(  # ad-hoc meeting: service bucket, no redaction, no tags
        TranscriptionJobName="weekly-sales-meeting", LanguageCode="en-US", Media=audio(4))
    transcribe.start_transcription_job(  # media path typo: the job fails
        TranscriptionJobName="cc-call-0099", LanguageCode="en-US",
        Media={"MediaFileUri": f"s3://{CC_AUDIO}/calls/2026/11/call-0099.wav"},
        OutputBucketName=CC_TRANSCRIPTS, ContentRedaction=redact_all, Tags=REQUIRED_TAGS)
    transcribe.start_call_analytics_job(
        CallAnalyticsJobName="cc-analytics-0001", Media={**audio(1), "RedactedMediaFileUri": f"s3://{CC_TRANSCRIPTS}/redacted-audio/"},
        OutputLocation=f"s3://{CC_TRANSCRIPTS}/analytics/", OutputEncryptionKMSKeyId=cc_key, DataAccessRoleArn=scoped_role,
        Settings={"ContentRedaction": redact_all}, Tags=REQUIRED_TAGS,
        ChannelDefinitions=[{"ChannelId": 0, "ParticipantRole": "AGENT"}, {"ChannelId": 1, "ParticipantRole": "CUSTOMER"}])
    transcribe.start_call_analytics_job(  # pilot without output location or redaction
        CallAnalyticsJobName="cc-analytics-pilot", Media=audio(5), DataAccessRoleArn=broad_role,
        Tags=[{"Key": "DataClassification", "Value": "public"}])

    # Clinic.
    transcribe.start_medical_transcription_job(
        MedicalTranscriptionJobName="clinic-visit-0001", LanguageCode="en-US", Specialty="PRIMARYCARE", Type="DICTATION",
        Media={"MediaFileUri": f"s3://{CLINIC}/dictation/visit-0001.wav"}, OutputBucketName=CLINIC,
        ContentIdentificationType="PHI", Tags=REQUIRED_TAGS)
    transcribe.start_medical_transcription_job(
        MedicalTranscriptionJobName="clinic-visit-0002", LanguageCode="en-US", Specialty="PRIMARYCARE",
        Type="CONVERSATION", Media={"MediaFileUri": f"s3://{CLINIC}/dictation/visit-0002.wav"},
        OutputBucketName=CLINIC)
    transcribe.start_medical_scribe_job(
        MedicalScribeJobName="clinic-scribe-0001", Media={"MediaFileUri": f"s3://{CLINIC}/dictation/visit-0001.wav"},
        OutputBucketName=CLINIC, DataAccessRoleArn=scoped_role, Tags=REQUIRED_TAGS,
        Settings={"ShowSpeakerLabels": True, "MaxSpeakerLabels": 2})

    # Customizations.
    transcribe.create_vocabulary(
        VocabularyName="acme-product-terms", LanguageCode="en-US",
        VocabularyFileUri=f"s3://{CC_AUDIO}/customizations/product-terms.txt", DataAccessRoleArn=scoped_role,
        EncryptionConfiguration={"KMSKey": vocab_key}, Tags=REQUIRED_TAGS)
    transcribe.create_vocabulary(VocabularyName="acme-agent-names", LanguageCode="en-US", Phrases=["Zoltan", "Ngozi"])
    transcribe.create_vocabulary_filter(
        VocabularyFilterName="acme-profanity", LanguageCode="en-US",
        VocabularyFilterFileUri=f"s3://{CC_AUDIO}/customizations/profanity.txt", DataAccessRoleArn=broad_role,
        Tags=REQUIRED_TAGS)
    transcribe.create_medical_vocabulary(
        VocabularyName="clinic-drug-names", LanguageCode="en-US",
        VocabularyFileUri=f"s3://{CC_AUDIO}/customizations/medical-terms.txt", Tags=REQUIRED_TAGS)
    transcribe.create_language_model(
        LanguageCode="en-US", BaseModelName="NarrowBand", ModelName="acme-call-center-lm",
        InputDataConfig={"S3Uri": f"s3://{CC_AUDIO}/training/", "DataAccessRoleArn": scoped_role},
        EncryptionConfiguration={"KMSKey": vocab_key}, Tags=REQUIRED_TAGS)
    transcribe.create_call_analytics_category(
        CategoryName="angry-customer", Tags=REQUIRED_TAGS,
        Rules=[{"SentimentFilter": {"Sentiments": ["NEGATIVE"], "ParticipantRole": "CUSTOMER"}}])
    _demo_monitoring(client)
    _demo_account_controls(client)
    _demo_iam(client)
    _demo_buckets_and_keys(client)


def _demo_monitoring(client: ClientFactory) -> None:
    """Monitoring as Acme has it: a multi-region trail that logs all management events to S3 and
    CloudWatch Logs, but no Transcribe alert that reaches a person. The pipeline's EventBridge rule
    fires on COMPLETED jobs only; the failed-jobs rule lost its SNS target; the Transcribe
    API-call metric filter feeds a dashboard alarm without actions. Only the CIS console sign-in
    alarm notifies the security topic."""
    s3, iam, logs, cloudtrail = client("s3"), client("iam"), client("logs"), client("cloudtrail")
    events, sns, cloudwatch = client("events"), client("sns"), client("cloudwatch")
    region = cloudtrail.meta.region_name
    _bucket(s3, region, "acme-cloudtrail-logs")
    logs.create_log_group(logGroupName="acme/cloudtrail")
    trail_role = _role(iam, "acme-cloudtrail-to-logs", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
        inline={"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": f"arn:aws:logs:{region}:{ACCOUNT}:log-group:acme/cloudtrail:*"}]})
    cloudtrail.create_trail(Name="acme-management-events", S3BucketName="acme-cloudtrail-logs", IsMultiRegionTrail=True,
                            EnableLogFileValidation=True, CloudWatchLogsRoleArn=trail_role,
                            CloudWatchLogsLogGroupArn=f"arn:aws:logs:{region}:{ACCOUNT}:log-group:acme/cloudtrail:*")
    cloudtrail.start_logging(Name="acme-management-events")

    job_state = {"source": ["aws.transcribe"], "detail-type": ["Transcribe Job State Change"]}
    events.put_rule(Name="acme-transcripts-ready", EventPattern=json.dumps(
        {**job_state, "detail": {"TranscriptionJobStatus": ["COMPLETED"]}}))
    events.put_targets(Rule="acme-transcripts-ready", Targets=[
        {"Id": "postprocess", "Arn": f"arn:aws:lambda:{region}:{ACCOUNT}:function:acme-transcript-postprocess"}])
    events.put_rule(Name="acme-transcribe-failed-jobs", EventPattern=json.dumps(
        {**job_state, "detail": {"TranscriptionJobStatus": ["FAILED"]}}))

    topic = sns.create_topic(Name="acme-security-alerts")["TopicArn"]
    namespace = "Acme/CloudTrail"
    for name, pattern, metric, threshold, actions in (
            ("acme-console-signin-failures", '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }',
             "ConsoleSigninFailures", 3, [topic]),
            ("acme-transcribe-api-calls", '{ $.eventSource = "transcribe.amazonaws.com" }', "TranscribeApiCalls", 1000, [])):
        logs.put_metric_filter(logGroupName="acme/cloudtrail", filterName=name, filterPattern=pattern,
                               metricTransformations=[{"metricName": metric, "metricNamespace": namespace, "metricValue": "1"}])
        cloudwatch.put_metric_alarm(
            AlarmName=name if actions else "acme-transcribe-api-volume", MetricName=metric, Namespace=namespace,
            Statistic="Sum", Period=300, EvaluationPeriods=1, Threshold=threshold,
            ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="notBreaching", AlarmActions=actions)


def _demo_iam(client: ClientFactory) -> None:
    """IAM users with access keys and Transcribe policies, some scoped by tags and some not."""
    iam = client("iam")
    version = "2012-10-17"

    def policy(name: str, *statements: dict[str, Any]) -> str:
        document = json.dumps({"Version": version, "Statement": list(statements)})
        return str(iam.create_policy(PolicyName=name, PolicyDocument=document)["Policy"]["Arn"])

    def inline(kind: str, owner: str, name: str, *statements: dict[str, Any]) -> None:
        document = json.dumps({"Version": version, "Statement": list(statements)})
        getattr(iam, f"put_{kind}_policy")(**{f"{kind.capitalize()}Name": owner, "PolicyName": name,
                                               "PolicyDocument": document})

    cost_center = {"aws:ResourceTag/CostCenter": "cc-ops"}
    operators = policy("AcmeTranscribeOperators", {"Effect": "Allow", "Action": "transcribe:*", "Resource": "*"})
    policy("AcmeContactCenterTranscribe",  # tag-based: usable only on the contact center's resources
           {"Effect": "Allow", "Action": ["transcribe:Get*", "transcribe:Delete*", "transcribe:Update*"],
            "Resource": "*", "Condition": {"StringEquals": cost_center}},
           {"Effect": "Allow", "Action": ["transcribe:StartTranscriptionJob", "transcribe:StartCallAnalyticsJob",
                                          "transcribe:CreateVocabulary", "transcribe:TagResource"],
            "Resource": "*", "Condition": {"StringEquals": {"aws:RequestTag/CostCenter": "cc-ops"}}},
           {"Effect": "Allow", "Action": "transcribe:List*", "Resource": "*"})
    audit = policy("AcmeAuditReadOnly",
                   {"Effect": "Allow", "Action": ["s3:GetObject", "transcribe:Get*"], "Resource": "*"})

    iam.create_group(GroupName="transcribe-operators")
    iam.attach_group_policy(GroupName="transcribe-operators", PolicyArn=operators)
    inline("group", "transcribe-operators", "operators-console", {"Effect": "Allow", "Action": "transcribe:List*",
                                                                  "Resource": "*"})
    iam.create_group(GroupName="auditors")
    inline("group", "auditors", "no-transcribe", {"Effect": "Deny", "Action": "transcribe:*", "Resource": "*"})

    # Users with long-term access keys: a legacy uploader, a contractor in the operators group, an
    # auditor whose group denies Transcribe, and a former analyst whose key was deactivated.
    for name in ("legacy-batch-uploader", "contractor-qa", "audit-exporter", "former-analyst"):
        iam.create_user(UserName=name)
        key = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
        if name == "former-analyst":
            iam.update_access_key(UserName=name, AccessKeyId=key, Status="Inactive")
    inline("user", "legacy-batch-uploader", "batch-transcribe",
           {"Effect": "Allow", "Action": ["transcribe:StartTranscriptionJob", "transcribe:GetTranscriptionJob"],
            "Resource": "*"})
    iam.add_user_to_group(GroupName="transcribe-operators", UserName="contractor-qa")
    iam.add_user_to_group(GroupName="transcribe-operators", UserName="former-analyst")
    iam.attach_user_policy(UserName="audit-exporter", PolicyArn=audit)
    iam.add_user_to_group(GroupName="auditors", UserName="audit-exporter")

    # Application roles with inline Transcribe permissions: the clinic's scoped by tags, the
    # analytics function's not.
    lambda_trust = {"Version": version, "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    clinic = {"aws:RequestTag/DataClassification": "confidential"}
    _role(iam, "acme-clinic-scribe-app", lambda_trust, inline={"Version": version, "Statement": [
        {"Effect": "Allow", "Action": ["transcribe:StartMedicalScribeJob", "transcribe:StartMedicalTranscriptionJob"],
         "Resource": "*", "Condition": {"StringEquals": clinic}},
        {"Effect": "Allow", "Action": ["transcribe:GetMedicalScribeJob", "transcribe:GetMedicalTranscriptionJob"],
         "Resource": "*", "Condition": {"StringEquals": {"aws:ResourceTag/DataClassification": "confidential"}}},
        {"Effect": "Allow", "Action": "transcribe:ListMedical*", "Resource": "*"}]})
    _role(iam, "acme-analytics-function", lambda_trust, inline={"Version": version, "Statement": [
        {"Effect": "Allow", "Action": ["transcribe:StartCallAnalyticsJob", "transcribe:GetCallAnalyticsJob"],
         "Resource": "*"}]})


SEEDS: dict[str, Callable[[ClientFactory], None]] = {"empty": empty, "demo": demo}


def _demo_account_controls(client: ClientFactory) -> None:
    """Account-level controls as Acme has them. The contact center's VPC reaches Transcribe,
    Transcribe streaming and S3 through endpoints with private DNS and policies limited to the
    account; the clinic's VPC has an S3 gateway and a Transcribe endpoint without private DNS; the
    default VPC has none. AWS Config records all supported types but not the global IAM types,
    delivering to the organization's log-archive bucket in another account. The organization
    (this account is its management account) opts all AI services out at the root, but a
    Transcribe opt-in left from a vendor pilot is attached to this account."""
    ec2, config, organizations = client("ec2"), client("config"), client("organizations")
    region = ec2.meta.region_name
    own_account_only = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT, "aws:ResourceAccount": ACCOUNT}}}]})

    def vpc(name: str, cidr: str) -> tuple[str, str, str]:
        vpc_id = ec2.create_vpc(CidrBlock=cidr, TagSpecifications=[
            {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": name}]}])["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr.replace(".0.0/16", ".1.0/24"))["Subnet"]["SubnetId"]
        table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"][0]["RouteTableId"]
        return vpc_id, subnet, table

    def interface(vpc_id: str, subnet: str, service: str, private_dns: bool, policy: str | None = None) -> None:
        extra = {"PolicyDocument": policy} if policy else {}
        ec2.create_vpc_endpoint(VpcId=vpc_id, VpcEndpointType="Interface", ServiceName=f"com.amazonaws.{region}.{service}",
                                SubnetIds=[subnet], PrivateDnsEnabled=private_dns, **extra)

    cc_vpc, cc_subnet, cc_table = vpc("acme-contact-center", "10.20.0.0/16")
    interface(cc_vpc, cc_subnet, "transcribe", True, own_account_only)
    interface(cc_vpc, cc_subnet, "transcribestreaming", True, own_account_only)
    ec2.create_vpc_endpoint(VpcId=cc_vpc, VpcEndpointType="Gateway", ServiceName=f"com.amazonaws.{region}.s3",
                            RouteTableIds=[cc_table], PolicyDocument=own_account_only)
    clinic_vpc, clinic_subnet, clinic_table = vpc("acme-clinic", "10.30.0.0/16")
    interface(clinic_vpc, clinic_subnet, "transcribe", False)
    ec2.create_vpc_endpoint(VpcId=clinic_vpc, VpcEndpointType="Gateway", ServiceName=f"com.amazonaws.{region}.s3",
                            RouteTableIds=[clinic_table])

    config.put_configuration_recorder(ConfigurationRecorder={
        "name": "default",
        "roleARN": f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig",
        "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": False}})
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "acme-org-config-archive"})
    config.start_configuration_recorder(ConfigurationRecorderName="default")

    organizations.create_organization(FeatureSet="ALL")
    root = organizations.list_roots()["Roots"][0]["Id"]
    organizations.enable_policy_type(RootId=root, PolicyType="AISERVICES_OPT_OUT_POLICY")
    for name, target, services in (
            ("acme-ai-opt-out", root, {"default": {"opt_out_policy": {"@@assign": "optOut"}}}),
            ("transcribe-vendor-pilot", ACCOUNT, {"transcribe": {"opt_out_policy": {"@@assign": "optIn"}}})):
        policy_id = organizations.create_policy(
            Name=name, Type="AISERVICES_OPT_OUT_POLICY", Description=name,
            Content=json.dumps({"services": services}))["Policy"]["PolicySummary"]["Id"]
        organizations.attach_policy(PolicyId=policy_id, TargetId=target)


def _demo_buckets_and_keys(client: ClientFactory) -> None:
    """Transport and public-access settings of Acme's Transcribe data buckets. The call-audio
    bucket's policy refuses plain HTTP and TLS before 1.2; the transcripts bucket refuses plain
    HTTP only (no TLS floor); the clinic switched off the policy half of Block Public Access for a
    dictation vendor's integration. An archive of old recordings, tagged
    DataClassification=confidential, holds Transcribe data that no job names: only BucketTagKey
    finds it."""
    s3, kms = client("s3"), client("kms")
    region = s3.meta.region_name

    def deny(condition: dict[str, Any], bucket: str) -> dict[str, Any]:
        return {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"], "Condition": condition}

    s3.put_bucket_policy(Bucket=CC_AUDIO, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyInsecureTransport", **deny({"Bool": {"aws:SecureTransport": "false"}}, CC_AUDIO)},
        {"Sid": "DenyOldTls", **deny({"NumericLessThan": {"s3:TlsVersion": "1.2"}}, CC_AUDIO)}]}))
    s3.put_public_access_block(Bucket=CLINIC, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False, "RestrictPublicBuckets": False})

    archive = "acme-cc-call-archive"
    _bucket(s3, region, archive)
    s3.put_bucket_tagging(Bucket=archive, Tagging={"TagSet": [{"Key": "DataClassification", "Value": "confidential"}]})
    cc_key = kms.describe_key(KeyId="alias/acme-contact-center")["KeyMetadata"]["Arn"]
    s3.put_bucket_encryption(Bucket=archive, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": cc_key},
         "BucketKeyEnabled": True}]})
