"""Logging that cannot leak what the rules guard.

The AWS SDK logs whole request and response bodies at DEBUG: tag values, object keys, job
settings. A function deployed with DEBUG logging (Lambda's LOG_LEVEL, or a root logger set to
DEBUG) would then write customer data to CloudWatch Logs. The SDK's loggers are therefore held at
WARNING whatever the root level; the rules' own logger (``transcribe_guard.rules``) logs JSON
lines with the rule, account, region and counts, never resource content.
"""

from __future__ import annotations

import logging

SDK_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer")


def guard_sdk_loggers() -> None:
    for name in SDK_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)
