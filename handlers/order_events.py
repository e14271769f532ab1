"""EventBridge adapter: puts order-service events on the bus and checks that they were accepted."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from handlers import contract

if TYPE_CHECKING:  # boto3 stubs are optional; at run time the client is just an object
    from mypy_boto3_events import EventBridgeClient
else:
    EventBridgeClient = Any


class PublishError(Exception):
    """The event was not accepted by EventBridge; publishing it again may succeed."""


def publish_order_event(client: EventBridgeClient, bus_name: str, detail_type: str, detail: dict[str, Any]) -> None:
    """Put one ``order-service`` event on ``bus_name``, raising ``PublishError`` if it is not taken."""
    try:
        response = client.put_events(
            Entries=[
                {
                    "EventBusName": bus_name,
                    "Source": contract.ORDER_SERVICE,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail),
                }
            ]
        )
    except (ClientError, BotoCoreError) as e:
        raise PublishError(f"could not publish {detail_type}: {e}") from e
    # PutEvents answers 200 even when an entry is rejected; the count is the only signal.
    if response.get("FailedEntryCount", 0):
        entry = response.get("Entries", [{}])[0]
        raise PublishError(f"EventBridge rejected {detail_type}: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}")
