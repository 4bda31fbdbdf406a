"""Pack entries that are not our Lambda rules: AWS managed rules that complete the seven
practices, and process checks that people fill in. Data only, validated by the registry schema
($defs managed_rule / process_check) and generated into the conformance pack with the custom
rules.

Managed rules are included only where they check something completely for every resource and
no custom rule of ours duplicates it.

``unavailable_regions``: the Regions where AWS does not offer the managed rule, from the "AWS
Region: All supported AWS regions except ..." line of the rule's page in the AWS Config Developer
Guide (``regions_source``); moto ships the same list (moto/config/resources/aws_managed_rules.json.gz),
and tests/test_pack.py fails when the two disagree. The pack creates such a rule only where it is
available, so one template deploys in every Region.
"""

from __future__ import annotations

from typing import Any

_RULE_PAGE = "https://docs.aws.amazon.com/config/latest/developerguide/{}.html"
# The IAM credential rules' exceptions (read 2026-12-02): New Zealand, Thailand, UAE, Hyderabad,
# Malaysia, Melbourne, Mexico (Central), Tel Aviv, Taipei, Calgary, Spain, Zurich.
_IAM_CREDENTIAL_RULE_EXCEPTIONS = ["ap-southeast-6", "ap-southeast-7", "me-central-1", "ap-south-2", "ap-southeast-5",
                                   "ap-southeast-4", "mx-central-1", "il-central-1", "ap-east-2", "ca-west-1",
                                   "eu-south-2", "eu-central-2"]

MANAGED_RULES: list[dict[str, Any]] = [
    {
        "name": "transcribe-guard-cloudtrail-log-file-validation",
        "identifier": "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED",
        "practice": 6,
        "frequency": "TwentyFour_Hours",
        "input_parameters": {},
        "reason": "Trail logs are the audit record of who started, read and deleted transcription jobs; validation "
                  "proves they were not altered. transcribe-api-activity-logged checks what is logged, not integrity.",
        "unavailable_regions": [],
        "regions_source": _RULE_PAGE.format("cloud-trail-log-file-validation-enabled"),
    },
    {
        "name": "transcribe-guard-cloudtrail-encryption",
        "identifier": "CLOUD_TRAIL_ENCRYPTION_ENABLED",
        "practice": 6,
        "frequency": "TwentyFour_Hours",
        "input_parameters": {},
        "reason": "Trail logs name jobs, buckets and callers of Transcribe; SSE-KMS on every trail keeps them under "
                  "a customer key.",
        "unavailable_regions": [],
        "regions_source": _RULE_PAGE.format("cloud-trail-encryption-enabled"),
    },
    {
        "name": "transcribe-guard-kms-rotation-all-keys",
        "identifier": "CMK_BACKING_KEY_ROTATION_ENABLED",
        "practice": 1,
        "frequency": "TwentyFour_Hours",
        "input_parameters": {},
        "reason": "Rotation of every customer key in the account; transcribe-kms-key-protected checks the keys "
                  "Transcribe data uses in depth, this covers keys created later or used indirectly.",
        "unavailable_regions": [],
        "regions_source": _RULE_PAGE.format("cmk-backing-key-rotation-enabled"),
    },
    {
        "name": "transcribe-guard-access-keys-rotated",
        "identifier": "ACCESS_KEYS_ROTATED",
        "practice": 4,
        "frequency": "TwentyFour_Hours",
        "input_parameters": {"maxAccessKeyAge": "90"},
        "reason": "Long-term keys that remain (practice 4 prefers roles) must at least be rotated; "
                  "transcribe-iam-user-no-access checks that keyed users cannot call Transcribe.",
        "unavailable_regions": list(_IAM_CREDENTIAL_RULE_EXCEPTIONS),
        "regions_source": _RULE_PAGE.format("access-keys-rotated"),
    },
    {
        "name": "transcribe-guard-unused-credentials",
        "identifier": "IAM_USER_UNUSED_CREDENTIALS_CHECK",
        "practice": 4,
        "frequency": "TwentyFour_Hours",
        "input_parameters": {"maxCredentialUsageAge": "90"},
        "reason": "Unused passwords and access keys are standing credentials nobody watches; removing them shrinks "
                  "who could reach Transcribe data.",
        "unavailable_regions": list(_IAM_CREDENTIAL_RULE_EXCEPTIONS),
        "regions_source": _RULE_PAGE.format("iam-user-unused-credentials-check"),
    },
    {
        "name": "transcribe-guard-root-access-key",
        "identifier": "IAM_ROOT_ACCESS_KEY_CHECK",
        "practice": 4,
        "frequency": "TwentyFour_Hours",
        "input_parameters": {},
        "reason": "A root access key can do everything with every transcript and key; no policy of ours can limit it.",
        # Unlike the two rules above, offered in Hyderabad (ap-south-2) and Melbourne (ap-southeast-4).
        "unavailable_regions": ["ap-southeast-6", "ap-southeast-7", "me-central-1", "ap-southeast-5", "mx-central-1",
                                "il-central-1", "ap-east-2", "ca-west-1", "eu-south-2", "eu-central-2"],
        "regions_source": _RULE_PAGE.format("iam-root-access-key-check"),
    },
    {
        "name": "transcribe-guard-account-public-access-block",
        "identifier": "S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS_PERIODIC",
        "practice": 1,
        "frequency": "TwentyFour_Hours",
        "input_parameters": {},
        "reason": "The account-level S3 public access block protects buckets that Transcribe starts using after a "
                  "scan; the bucket rules check the buckets in use today.",
        "unavailable_regions": [],
        "regions_source": _RULE_PAGE.format("s3-account-level-public-access-blocks-periodic"),
    },
]

PROCESS_CHECKS: list[dict[str, Any]] = [
    {
        "name": "transcribe-streaming-pii-controls",
        "practice": 3,
        "description": "Streaming Transcribe applications request PII identification or redaction (confirmed by a "
                       "person: no API lists past streams).",
        "control": "Applications that stream audio to Amazon Transcribe (StartStreamTranscription, call analytics "
                       "and medical streaming) request PII identification or redaction (ContentIdentificationType or "
                       "ContentRedactionType, with the entity types the data classification requires). No API lists "
                       "past streams, so a person confirms this from the application code or configuration.",
    },
    {
        "name": "transcribe-private-connectivity-onprem",
        "practice": 2,
        "description": "On-premises callers reach the Transcribe VPC endpoints over Direct Connect or VPN, not the "
                       "internet (confirmed by a person).",
        "control": "On-premises systems that call Amazon Transcribe reach its VPC endpoints over AWS Direct Connect "
                       "or a Site-to-Site VPN, not over the internet. A person confirms the routing and the DNS "
                       "resolution of the Transcribe endpoints from the on-premises networks.",
    },
    {
        "name": "transcribe-compliance-reports-reviewed",
        "practice": 7,
        "description": "AWS Artifact SOC, PCI DSS and HIPAA reports for Amazon Transcribe were reviewed this period "
                       "(confirmed by a person).",
        "control": "The SOC, PCI DSS and HIPAA reports for Amazon Transcribe in AWS Artifact were reviewed this "
                       "period, the service is in scope for the programs the workload relies on, and the review is "
                       "recorded with its date and reviewer.",
    },
]

# Optional remediation of the bucket rules with AWS-owned SSM Automation documents. The pack
# creates them only when EnableBucketRemediation is true, as manual (not automatic) actions that
# run with RemediationAutomationRoleArn. Parameter values: "RESOURCE_ID" is the non-compliant
# bucket's name; any other value names a pack parameter.
REMEDIATIONS: list[dict[str, Any]] = [
    {
        "rule": "transcribe-bucket-encrypted",
        "document": "AWS-EnableS3BucketKeys",
        "parameters": {"BucketName": "RESOURCE_ID", "KMSKeyId": "RemediationKmsKeyArn",
                       "AutomationAssumeRole": "RemediationAutomationRoleArn"},
        "requires": ["RemediationKmsKeyArn"],
        "note": "Sets SSE-KMS default encryption with the given customer key (and S3 Bucket Keys).",
    },
    {
        "rule": "transcribe-bucket-tls-enforced",
        "document": "AWSConfigRemediation-RestrictBucketSSLRequestsOnly",
        "parameters": {"BucketName": "RESOURCE_ID", "AutomationAssumeRole": "RemediationAutomationRoleArn"},
        "requires": [],
        "note": "Adds the deny-plain-HTTP statement; a TLS-version floor above the default still needs a policy edit.",
    },
    {
        "rule": "transcribe-bucket-public-access-blocked",
        "document": "AWS-DisableS3BucketPublicReadWrite",
        "parameters": {"S3BucketName": "RESOURCE_ID", "AutomationAssumeRole": "RemediationAutomationRoleArn"},
        "requires": [],
        "note": "Turns on the bucket's public access block; a public bucket policy statement still needs review.",
    },
]
