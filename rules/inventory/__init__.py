"""The AWS inventories and lookups, each fetched once per run and shared by the rules: Transcribe
resources (transcribe), IAM roles, users and policies (iam), S3 buckets and KMS keys (s3_kms,
s3_location), which buckets and keys hold Transcribe data (discovery), what jobs name
(job_references) and CloudTrail trails (cloudtrail).

Deliberately empty: import the module you need, so no package import pulls in the others.
"""
