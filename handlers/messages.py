"""Pure notification texts: one readable subject and message per bus event.

Events come from other services and may be malformed; every function here returns something
readable for any input instead of raising, so a notification is never lost to a shape surprise.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from handlers import contract

#: SNS rejects subjects of 100 characters or more, non-ASCII, or with line breaks.
MAX_SUBJECT_CHARS: Final = 99
_UNPRINTABLE: Final = re.compile(r"[^\x20-\x7e]+")


@dataclass(frozen=True)
class Notification:
    """What to publish to the topic for one event."""

    subject: str
    message: str


def safe_subject(text: str) -> str:
    """Make ``text`` a valid SNS subject: printable ASCII only, one line, under 100 characters."""
    cleaned = _UNPRINTABLE.sub(" ", text).strip()
    if len(cleaned) > MAX_SUBJECT_CHARS:
        cleaned = cleaned[: MAX_SUBJECT_CHARS - 3].rstrip() + "..."
    return cleaned or "Order notification"


def _order_id(detail: Any) -> int | None:
    """Return the order id of ``detail`` if it has a usable one."""
    if not isinstance(detail, dict):
        return None
    order_id = detail.get("id")
    if isinstance(order_id, bool) or not isinstance(order_id, int):
        return None
    return order_id


def _amount_text(detail: dict[str, Any]) -> str | None:
    """Return the amount with two decimals ("100.00"), or None when it is not a finite number."""
    amount = detail.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int | float | Decimal):
        return None
    try:
        value = Decimal(str(amount))
        if not value.is_finite():
            return None
        return f"{value:.2f}"
    except (InvalidOperation, ValueError):
        return None


def _known_line(source: Any, detail_type: Any, detail: Any) -> str | None:
    """Return the sentence for a well-formed known event, None for anything else."""
    order_id = _order_id(detail)
    if order_id is None:
        return None
    if source == contract.ORDER_SERVICE:
        if detail_type == contract.ORDER_CREATED:
            amount = _amount_text(detail)
            return f"Order {order_id} created: amount {amount}" if amount is not None else None
        if detail_type == contract.ORDER_COMPLETED:
            return f"Order {order_id} completed"
        if detail_type == contract.ORDER_CANCELLED:
            return f"Order {order_id} cancelled"
    if source == contract.PAYMENT_SERVICE:
        if detail_type == contract.PAYMENT_SUCCEEDED:
            return f"Payment for order {order_id} succeeded"
        if detail_type == contract.PAYMENT_FAILED:
            return f"Payment for order {order_id} failed"
    return None


def _describe(value: Any) -> str:
    return value if isinstance(value, str) and value else "unknown"


def notification_for(source: Any, detail_type: Any, detail: Any) -> Notification:
    """Return the notification for one event, a generic readable one if the event is unexpected."""
    line = _known_line(source, detail_type, detail)
    if line is not None:
        return Notification(subject=safe_subject(line), message=line)
    generic = f"Event {_describe(detail_type)} from {_describe(source)}"
    # The raw detail helps whoever reads the mail understand what arrived.
    details = json.dumps(detail, default=str)
    return Notification(subject=safe_subject(generic), message=f"{generic}\n\nDetail: {details}")


def message_attributes(source: Any, detail_type: Any) -> dict[str, dict[str, str]]:
    """Return the SNS message attributes subscribers filter on (``source``, ``detail-type``)."""
    # SNS rejects empty attribute values, so absent ones are spelled out.
    return {
        "source": {"DataType": "String", "StringValue": _describe(source)},
        "detail-type": {"DataType": "String", "StringValue": _describe(detail_type)},
    }
