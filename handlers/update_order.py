"""update-order: applies payment outcomes to orders (EventBridge target, invoked asynchronously).

``PaymentSucceeded`` moves an order to ``OrderCompleted`` and ``PaymentFailed`` to
``OrderCancelled``, only from ``OrderCreated`` (a conditional update). That write is all it does:
the ``OrderCompleted`` / ``OrderCancelled`` event comes from the table's stream (the
publish-order-events function), so a crash right after the write loses nothing. Delivery is
at-least-once and unordered, so:

- a redelivered event (the order already has the target status) writes nothing, so nothing is
  published again;
- a late or conflicting event (the order has the other final status) is logged and dropped;
- an unknown detail-type, a malformed detail or an unknown order is logged and dropped, since
  retrying cannot make it valid.

Store failures raise, so Lambda's async retries and on-failure destination apply.

Environment (required at import): the orders table and the metrics namespace.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from handlers import contract, order_store, orders

TABLE_NAME = os.environ[contract.ENV_ORDERS_TABLE]
METRICS_NAMESPACE = os.environ[contract.ENV_POWERTOOLS_METRICS_NAMESPACE]

logger = Logger()
# Redeliveries legitimately emit no business metric; Powertools would warn on each.
warnings.filterwarnings("ignore", message="No application metrics to publish")
metrics = Metrics(namespace=METRICS_NAMESPACE)
dynamodb = boto3.client("dynamodb")


def apply_payment(transition: orders.PaymentTransition) -> str:
    """Apply one payment outcome; return what happened ("applied", "redelivery", ...)."""
    order_id, target = transition.order_id, transition.target_status
    updated = order_store.transition_from_created(dynamodb, TABLE_NAME, order_id, target, orders.utc_now())
    if updated is not None:
        metrics.add_metric(name=contract.ORDER_STATUS_METRIC[target], unit=MetricUnit.Count, value=1)
        return "applied"
    stored = order_store.get_order(dynamodb, TABLE_NAME, order_id)
    outcome = orders.classify_rejected_transition(stored, target)
    if outcome is orders.TransitionOutcome.UNKNOWN_ORDER:
        logger.warning("Payment for an unknown order dropped", extra={"order_id": order_id})
    elif outcome is orders.TransitionOutcome.CONFLICT:
        logger.warning(
            "Late or conflicting payment event dropped; a final status is never overwritten",
            extra={"order_id": order_id, "target": target, "stored": stored and stored.status},
        )
    else:
        logger.info("Redelivered payment event: the order has its status already", extra={"order_id": order_id})
    return outcome.value


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point (``handlers.update_order.handler``); raises only when a retry can help."""
    bridge_event = EventBridgeEvent(event)
    # .get, not the properties: a malformed event must be dropped, not crash with KeyError.
    source, detail_type = bridge_event.get("source"), bridge_event.get("detail-type")
    try:
        transition = orders.payment_transition(source, detail_type, bridge_event.get("detail"))
    except orders.IgnoredEventError as e:
        logger.warning("Event dropped", extra={"reason": str(e), "event_id": bridge_event.get("id")})
        return {"result": "dropped", "reason": str(e)}
    result = apply_payment(transition)
    logger.info("Payment event handled", extra={"order_id": transition.order_id, "result": result})
    return {"result": result, "orderId": transition.order_id}
