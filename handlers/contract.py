"""The event contract of eda-demo: every event source, detail-type and rule pattern, once.

This module ships with the Lambda code and is imported by the Pulumi components, the sandbox and
the tests, so a source or detail-type is never spelled twice. It must stay dependency-free.
"""

from __future__ import annotations

from typing import Any, Final

# --- Event sources -------------------------------------------------------------------------
ORDER_SERVICE: Final = "order-service"
PAYMENT_SERVICE: Final = "payment-service"
#: Not an event source (it puts nothing on the bus): the notification function's service name.
NOTIFICATION_SERVICE: Final = "notification-service"

# --- Detail-types ----------------------------------------------------------------------------
# Order statuses are the names of the events that set them.
ORDER_CREATED: Final = "OrderCreated"
ORDER_COMPLETED: Final = "OrderCompleted"
ORDER_CANCELLED: Final = "OrderCancelled"
PAYMENT_SUCCEEDED: Final = "PaymentSucceeded"
PAYMENT_FAILED: Final = "PaymentFailed"

#: Every (source, detail-type) pair the system puts on its bus.
EMITTED_EVENTS: Final[tuple[tuple[str, str], ...]] = (
    (ORDER_SERVICE, ORDER_CREATED),
    (PAYMENT_SERVICE, PAYMENT_SUCCEEDED),
    (PAYMENT_SERVICE, PAYMENT_FAILED),
    (ORDER_SERVICE, ORDER_COMPLETED),
    (ORDER_SERVICE, ORDER_CANCELLED),
)

#: Payment outcome -> the order status (and event) it leads to.
PAYMENT_OUTCOME_TO_ORDER_STATUS: Final[dict[str, str]] = {
    PAYMENT_SUCCEEDED: ORDER_COMPLETED,
    PAYMENT_FAILED: ORDER_CANCELLED,
}

#: Statuses an order can never leave.
FINAL_ORDER_STATUSES: Final = frozenset(PAYMENT_OUTCOME_TO_ORDER_STATUS.values())

# --- Rule patterns (the original design's four, verbatim) ----------------------------------


def catch_all_pattern() -> dict[str, Any]:
    """Match every event on the bus (rule ``cw-catch-all``)."""
    return {"source": [{"exists": True}]}


def payment_orders_pattern() -> dict[str, Any]:
    """Orders the payment service must check (rule ``payment-service-filtering-orders``)."""
    return {"source": [ORDER_SERVICE], "detail-type": [ORDER_CREATED]}


def order_payments_pattern() -> dict[str, Any]:
    """Payment outcomes the order service applies (rule ``order-service-filtering-payments``)."""
    return {"source": [PAYMENT_SERVICE]}


def notification_pattern() -> dict[str, Any]:
    """Everything the notification service tells the customer about (rule ``notification-service``)."""
    return {"source": [ORDER_SERVICE, PAYMENT_SERVICE]}


# --- The orders table's stream: which changes are order events (the transactional outbox) -----
#: The order's status attribute in the table (and so in the stream's images).
ORDER_STATUS_ATTRIBUTE: Final = "status"


def order_stream_filter_patterns() -> list[dict[str, Any]]:
    """The stream records publish-order-events receives: a new order, or a move to a final status.

    Event-filtering patterns on the stream record as Lambda receives it (DynamoDB-typed images:
    ``{"S": "OrderCreated"}``). Nothing else (a rewrite that keeps the status, a deletion) is an
    order event, so it is dropped before an invocation.
    """
    status = ORDER_STATUS_ATTRIBUTE
    return [
        {"eventName": ["INSERT"], "dynamodb": {"NewImage": {status: {"S": [ORDER_CREATED]}}}},
        {
            "eventName": ["MODIFY"],
            "dynamodb": {
                "OldImage": {status: {"S": [ORDER_CREATED]}},
                "NewImage": {status: {"S": sorted(FINAL_ORDER_STATUSES)}},
            },
        },
    ]


# --- AWS events the operations layer subscribes to (on the account's default bus) ----------
# CloudWatch puts one of these on the default bus for every state change of every alarm:
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html
CLOUDWATCH_SOURCE: Final = "aws.cloudwatch"
ALARM_STATE_CHANGE: Final = "CloudWatch Alarm State Change"
ALARM_STATE_OK: Final = "OK"
ALARM_STATE_ALARM: Final = "ALARM"


def alarm_recovered_pattern(alarm_arn_prefix: str) -> dict[str, Any]:
    """An alarm whose ARN starts with ``alarm_arn_prefix`` went from ALARM back to OK, and only that.

    ``INSUFFICIENT_DATA -> OK`` (every new alarm's first evaluation) does not match.
    """
    return {
        "source": [CLOUDWATCH_SOURCE],
        "detail-type": [ALARM_STATE_CHANGE],
        "resources": [{"prefix": alarm_arn_prefix}],
        "detail": {
            "previousState": {"value": [ALARM_STATE_ALARM]},
            "state": {"value": [ALARM_STATE_OK]},
        },
    }


# --- Function environment ------------------------------------------------------------------
# Variable names shared by the components (which set them) and the handlers (which read them).
ENV_ORDERS_TABLE: Final = "ORDERS_TABLE_NAME"
ENV_EVENT_BUS: Final = "EVENT_BUS_NAME"
ENV_NOTIFICATION_TOPIC: Final = "NOTIFICATION_TOPIC_ARN"
# Read by Powertools itself. The handlers that emit metrics also require the namespace at import:
# without it every metric flush raises *after* the work is done, turning a success into an error.
ENV_POWERTOOLS_SERVICE_NAME: Final = "POWERTOOLS_SERVICE_NAME"
ENV_POWERTOOLS_METRICS_NAMESPACE: Final = "POWERTOOLS_METRICS_NAMESPACE"
ENV_POWERTOOLS_LOG_LEVEL: Final = "POWERTOOLS_LOG_LEVEL"

# --- Business metrics (CloudWatch, emitted by the handlers, shown on the dashboard) -----------
METRICS_NAMESPACE: Final = "eda-demo"
METRIC_ORDERS_CREATED: Final = "OrdersCreated"
METRIC_ORDERS_COMPLETED: Final = "OrdersCompleted"
METRIC_ORDERS_CANCELLED: Final = "OrdersCancelled"
ORDER_STATUS_METRIC: Final[dict[str, str]] = {
    ORDER_CREATED: METRIC_ORDERS_CREATED,
    ORDER_COMPLETED: METRIC_ORDERS_COMPLETED,
    ORDER_CANCELLED: METRIC_ORDERS_CANCELLED,
}
