"""Pure order domain: the order record, its DynamoDB item form, its JSON form, and its transitions.

Nothing here talks to AWS or reads the environment, so every rule is testable with plain asserts.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from handlers import contract
from handlers.validation import InvalidRequestError, OrderRequest, check_order_id


@dataclass(frozen=True)
class Order:
    """One order as stored in the orders table."""

    id: int
    amount: Decimal
    status: str
    created_at: str
    updated_at: str


def utc_now() -> str:
    """Return the current time as ISO-8601 UTC with millisecond precision, e.g. ``...T10:00:00.000Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_order(request: OrderRequest, now: str) -> Order:
    """Build the record of a freshly created order."""
    return Order(
        id=request.id,
        amount=request.amount,
        status=contract.ORDER_CREATED,
        created_at=now,
        updated_at=now,
    )


# --- DynamoDB item form (low-level client, typed attribute values) ------------------------------


def order_key(order_id: int) -> dict[str, dict[str, str]]:
    """Return the table key of an order."""
    return {"id": {"N": str(order_id)}}


def decimal_text(amount: Decimal) -> str:
    """Return the canonical text of ``amount``: ``100``, ``100.5`` (never ``100.50`` or ``1E+2``).

    DynamoDB normalises numbers itself; doing it here keeps every backend (moto included) alike.
    """
    if amount == amount.to_integral_value():
        return str(int(amount))
    return format(amount.normalize(), "f")


def order_to_item(order: Order) -> dict[str, dict[str, str]]:
    """Render an order as a DynamoDB item."""
    return {
        "id": {"N": str(order.id)},
        "amount": {"N": decimal_text(order.amount)},
        contract.ORDER_STATUS_ATTRIBUTE: {"S": order.status},
        "createdAt": {"S": order.created_at},
        "updatedAt": {"S": order.updated_at},
    }


def order_from_item(item: dict[str, Any]) -> Order:
    """Read an order back from a DynamoDB item."""
    return Order(
        id=int(item["id"]["N"]),
        amount=Decimal(item["amount"]["N"]),
        status=item[contract.ORDER_STATUS_ATTRIBUTE]["S"],
        created_at=item["createdAt"]["S"],
        updated_at=item["updatedAt"]["S"],
    )


# --- JSON form ---------------------------------------------------------------------------------


def amount_to_json(amount: Decimal) -> int | float:
    """Return ``amount`` as a JSON number: 100 -> 100, 100.50 -> 100.5.

    A float is exact enough here: valid amounts have at most 12 significant digits (<= 1e9 with
    two decimals) and Python prints the shortest repr that round-trips, so no digit is changed.
    """
    if amount == amount.to_integral_value():
        return int(amount)
    return float(amount)


def order_to_json(order: Order) -> dict[str, Any]:
    """Render an order as the API returns it."""
    return {
        "id": order.id,
        "amount": amount_to_json(order.amount),
        "status": order.status,
        "createdAt": order.created_at,
        "updatedAt": order.updated_at,
    }


def order_created_detail(order: Order) -> dict[str, Any]:
    """Return the detail of the ``OrderCreated`` event."""
    return {"id": order.id, "amount": amount_to_json(order.amount)}


def order_outcome_detail(order_id: int) -> dict[str, Any]:
    """Return the detail of the ``OrderCompleted`` / ``OrderCancelled`` events."""
    return {"id": order_id}


# --- Decisions ---------------------------------------------------------------------------------


class RetryOutcome(enum.Enum):
    """What a POST /order for an id that already exists means."""

    #: Same id, same amount: a client retry. Nothing is written again, so nothing is published
    #: again: the order's events come from the table's stream, once per change.
    RETRY = "retry"
    #: Same id, another amount: a different order under a taken id.
    CONFLICT = "conflict"


def classify_existing(stored: Order, request: OrderRequest) -> RetryOutcome:
    """Decide how to answer a create request whose id is already stored."""
    # Decimal equality, so 100 and 100.00 are the same amount.
    if stored.amount != request.amount:
        return RetryOutcome.CONFLICT
    return RetryOutcome.RETRY


class TransitionOutcome(enum.Enum):
    """Why a conditional status update from OrderCreated did not apply."""

    #: The order already has the target status: the payment event was delivered again.
    REDELIVERY = "redelivery"
    #: The order has another final status: a late or conflicting payment event.
    CONFLICT = "conflict"
    #: No such order.
    UNKNOWN_ORDER = "unknown-order"


def classify_rejected_transition(stored: Order | None, target_status: str) -> TransitionOutcome:
    """Explain a rejected ``OrderCreated -> target_status`` update from what is stored now."""
    if stored is None:
        return TransitionOutcome.UNKNOWN_ORDER
    if stored.status == target_status:
        return TransitionOutcome.REDELIVERY
    return TransitionOutcome.CONFLICT


@dataclass(frozen=True)
class PaymentTransition:
    """The status change a payment event asks for."""

    order_id: int
    target_status: str


class IgnoredEventError(Exception):
    """An event the order service cannot act on; it is logged and dropped, never retried."""


def payment_transition(source: Any, detail_type: Any, detail: Any) -> PaymentTransition:
    """Read the order transition out of a payment-service event, or raise ``IgnoredEventError``."""
    if source != contract.PAYMENT_SERVICE:
        raise IgnoredEventError(f"unexpected source {source!r}")
    target = contract.PAYMENT_OUTCOME_TO_ORDER_STATUS.get(detail_type) if isinstance(detail_type, str) else None
    if target is None:
        raise IgnoredEventError(f"unknown detail-type {detail_type!r}")
    if not isinstance(detail, dict) or "id" not in detail:
        raise IgnoredEventError(f"{detail_type} detail has no order id: {detail!r}")
    try:
        order_id = check_order_id(detail["id"], "detail id")
    except InvalidRequestError as e:
        raise IgnoredEventError(f"{detail_type} detail: {e.message}") from e
    return PaymentTransition(order_id=order_id, target_status=target)
