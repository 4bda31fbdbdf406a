"""The ledger table in the simulated account (moto's DynamoDB), and the TTL expiry moto does
not do. DynamoDB deletes items whose TTL attribute has passed on its own, "typically within two
days of expiration", and until then they "still show up in reads, queries, and scans" (DynamoDB
API Reference, UpdateTimeToLive; LedgerInventory skips them by their TTL for that reason). moto
never deletes them, so a test or benchmark calls ``expire`` with the simulator's clock."""

from __future__ import annotations

from typing import Any

from rules.inventory.ledger import ARN_INDEX
from transcribe_guard.simulator import clock

TTL_ATTRIBUTE = "expires"


def create_table(dynamodb: Any, name: str) -> None:
    """The table as the functions template declares it: pk/sk, the ``arn`` index (keys only),
    on demand, TTL on ``expires``."""
    dynamodb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "arn")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": ARN_INDEX, "KeySchema": [{"AttributeName": "arn", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "KEYS_ONLY"}}])
    dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True,
                                                                          "AttributeName": TTL_ATTRIBUTE})


def expire(dynamodb: Any, name: str) -> int:
    """Delete every item whose TTL attribute is at or before the simulator's clock, as DynamoDB's
    TTL would; returns how many."""
    now = clock.now().timestamp()
    deleted = 0
    kwargs: dict[str, Any] = {"TableName": name, "FilterExpression": "#e <= :now",
                              "ExpressionAttributeNames": {"#e": TTL_ATTRIBUTE},
                              "ExpressionAttributeValues": {":now": {"N": str(int(now))}}}
    while True:
        page = dynamodb.scan(**kwargs)
        for item in page.get("Items", []):
            dynamodb.delete_item(TableName=name, Key={"pk": item["pk"], "sk": item["sk"]})
            deleted += 1
        if not page.get("LastEvaluatedKey"):
            return deleted
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
