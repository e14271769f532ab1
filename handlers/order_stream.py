"""Pure core of publish-order-events: the order event one change of the orders table stands for.

The orders table is the outbox: every change of an order is one record of its DynamoDB stream
(``NEW_AND_OLD_IMAGES``), and this module reads the record (the AWS format: ``eventName``,
``dynamodb.NewImage`` / ``OldImage`` with DynamoDB-typed values, ``{"N": "100.5"}``) back into the
event the contract in ``event_schemas/`` describes: ``OrderCreated`` with the id and the amount as
JSON numbers on insert, ``OrderCompleted`` / ``OrderCancelled`` with the id when the status moves
from ``OrderCreated`` to it. Any other change is no order event. Nothing here talks to AWS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from handlers import contract, orders
from handlers.orders import Order, order_from_item


class MalformedRecordError(Exception):
    """A stream record whose images are not orders: it cannot become an event (retried, then dead-lettered)."""


@dataclass(frozen=True)
class OrderEvent:
    """One order-service event to put on the bus."""

    detail_type: str
    detail: dict[str, Any]


def _image(images: Mapping[str, Any], key: str) -> Order | None:
    image = images.get(key)
    if image is None:
        return None
    try:
        return order_from_item(image)
    except (KeyError, TypeError, ValueError, ArithmeticError) as e:
        raise MalformedRecordError(f"{key} is not an order: {image!r}") from e


def order_event(record: Mapping[str, Any]) -> OrderEvent | None:
    """The event of one stream record, or None when the change is no order event."""
    images = record.get("dynamodb")
    if not isinstance(images, Mapping):
        raise MalformedRecordError(f"record without dynamodb images: {record!r}")
    name = record.get("eventName")
    new, old = _image(images, "NewImage"), _image(images, "OldImage")
    if name == "INSERT" and new is not None and new.status == contract.ORDER_CREATED:
        return OrderEvent(contract.ORDER_CREATED, orders.order_created_detail(new))
    if (
        name == "MODIFY"
        and new is not None
        and old is not None
        and old.status == contract.ORDER_CREATED
        and new.status in contract.FINAL_ORDER_STATUSES
    ):
        return OrderEvent(new.status, orders.order_outcome_detail(new.id))
    return None


def sequence_number(record: Mapping[str, Any]) -> str:
    """The record's ``dynamodb.SequenceNumber``: how a partial batch failure names it to Lambda."""
    return str(record["dynamodb"]["SequenceNumber"])
