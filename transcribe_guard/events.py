"""AWS Config events as Config delivers them to a custom rule's Lambda function."""

from __future__ import annotations

import datetime as dt
import json
import zlib
from typing import Any, Mapping


def scheduled_notification(rule_name: str, account_id: str, result_token: str, region: str = "us-east-1",
                           rule_parameters: Mapping[str, str] | None = None,
                           frequency: str = "TwentyFour_Hours",
                           now: dt.datetime | None = None) -> dict[str, Any]:
    """The event of a periodic (ScheduledNotification) invocation of ``rule_name``."""
    rule_id = f"config-rule-{zlib.crc32(rule_name.encode()) % 10**6:06d}"
    created = (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    invoking_event = {
        "awsAccountId": account_id,
        "notificationCreationTime": created,
        "messageType": "ScheduledNotification",
        "recordVersion": "1.0",
    }
    return {
        "version": "1.0",
        "invokingEvent": json.dumps(invoking_event),
        "ruleParameters": json.dumps(dict(rule_parameters or {})),
        "resultToken": result_token,
        "eventLeftScope": False,
        "executionRoleArn": f"arn:aws:iam::{account_id}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig",
        "configRuleArn": f"arn:aws:config:{region}:{account_id}:config-rule/{rule_id}",
        "configRuleName": rule_name,
        "configRuleId": rule_id,
        "accountId": account_id,
        "evaluationMode": "DETECTIVE",
    }
