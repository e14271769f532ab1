"""DynamoDB adapter for the orders table: the only module that knows the table's API calls.

Callers pass the client and the table name in, so this module reads no environment and the entry
modules stay the only place where configuration is resolved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from handlers import contract
from handlers.orders import Order, order_from_item, order_key, order_to_item

if TYPE_CHECKING:  # boto3 stubs are optional; at run time the client is just an object
    from mypy_boto3_dynamodb import DynamoDBClient
else:
    DynamoDBClient = Any


class StoreError(Exception):
    """DynamoDB failed in a way a retry may fix (throttling, outage, permissions)."""


def _is_conditional_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def put_new_order(client: DynamoDBClient, table_name: str, order: Order) -> bool:
    """Store ``order`` unless its id exists; return False when it already existed."""
    try:
        client.put_item(
            TableName=table_name,
            Item=order_to_item(order),
            ConditionExpression="attribute_not_exists(id)",
        )
    except ClientError as e:
        if _is_conditional_failure(e):
            return False
        raise StoreError(f"could not store order {order.id}: {e}") from e
    except BotoCoreError as e:  # timeouts and connection errors are not ClientErrors
        raise StoreError(f"could not store order {order.id}: {e}") from e
    return True


def get_order(client: DynamoDBClient, table_name: str, order_id: int) -> Order | None:
    """Read one order with a strongly consistent read, or None when there is none."""
    try:
        response = client.get_item(TableName=table_name, Key=order_key(order_id), ConsistentRead=True)
    except (ClientError, BotoCoreError) as e:
        raise StoreError(f"could not read order {order_id}: {e}") from e
    item = response.get("Item")
    return order_from_item(item) if item else None


def transition_from_created(
    client: DynamoDBClient, table_name: str, order_id: int, target_status: str, now: str
) -> Order | None:
    """Move an order from OrderCreated to ``target_status``; return it, or None if not applicable.

    None means the condition failed: no such order, or it is no longer OrderCreated. The caller
    reads the order to tell which; a final status is never overwritten.
    """
    try:
        response = client.update_item(
            TableName=table_name,
            Key=order_key(order_id),
            UpdateExpression="SET #status = :target, updatedAt = :now",
            ConditionExpression="attribute_exists(id) AND #status = :created",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":target": {"S": target_status},
                ":now": {"S": now},
                ":created": {"S": contract.ORDER_CREATED},
            },
            ReturnValues="ALL_NEW",
        )
    except ClientError as e:
        if _is_conditional_failure(e):
            return None
        raise StoreError(f"could not update order {order_id}: {e}") from e
    except BotoCoreError as e:  # timeouts and connection errors are not ClientErrors
        raise StoreError(f"could not update order {order_id}: {e}") from e
    return order_from_item(response["Attributes"])
