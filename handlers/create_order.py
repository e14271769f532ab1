"""create-order: POST /order behind an API Gateway REST proxy integration.

Validates the body against the order schema, stores the order (once per id) and puts
``OrderCreated`` on the bus. A retry of the same request is answered with the stored order and
re-publishes ``OrderCreated`` while the order has not progressed, which heals a failed publish.

Environment (required at import): the orders table, the event bus and the metrics namespace.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from handlers import contract, order_events, order_store, orders, validation
from handlers.responses import error_response, json_response

TABLE_NAME = os.environ[contract.ENV_ORDERS_TABLE]
EVENT_BUS_NAME = os.environ[contract.ENV_EVENT_BUS]
METRICS_NAMESPACE = os.environ[contract.ENV_POWERTOOLS_METRICS_NAMESPACE]

logger = Logger()
# Retries and redeliveries legitimately emit no business metric; Powertools would warn on each.
warnings.filterwarnings("ignore", message="No application metrics to publish")
metrics = Metrics(namespace=METRICS_NAMESPACE)
dynamodb = boto3.client("dynamodb")
events = boto3.client("events")


def create_order(body: str | None, is_base64_encoded: bool) -> dict[str, Any]:
    """Handle one POST /order body and return the proxy response."""
    try:
        request = validation.parse_order_request(body, is_base64_encoded)
    except validation.InvalidRequestError as e:
        logger.info("Rejected order request", extra={"reason": e.message, "status_code": e.status_code})
        return error_response(e.status_code, e.message)

    order = orders.new_order(request, orders.utc_now())
    try:
        created = order_store.put_new_order(dynamodb, TABLE_NAME, order)
        if created:
            stored, status_code, publish = order, 201, True
            metrics.add_metric(
                name=contract.ORDER_STATUS_METRIC[contract.ORDER_CREATED], unit=MetricUnit.Count, value=1
            )
        else:
            existing = order_store.get_order(dynamodb, TABLE_NAME, request.id)
            if existing is None:
                # Deleted between the two calls (only by hand): nothing to answer consistently.
                return error_response(503, f"order {request.id} changed concurrently; retry the request")
            outcome = orders.classify_existing(existing, request)
            if outcome is orders.RetryOutcome.CONFLICT:
                logger.info("Order id taken with another amount", extra={"order_id": request.id})
                return error_response(409, f"order {request.id} already exists with another amount")
            stored, status_code = existing, 200
            publish = outcome is orders.RetryOutcome.RETRY_REPUBLISH
    except order_store.StoreError:
        logger.exception("Could not store order", extra={"order_id": request.id})
        return error_response(503, f"order {request.id} could not be stored (nothing was published); retry the request")

    if publish:
        try:
            order_events.publish_order_event(
                events, EVENT_BUS_NAME, contract.ORDER_CREATED, orders.order_created_detail(stored)
            )
        except order_events.PublishError:
            logger.exception("Could not publish OrderCreated", extra={"order_id": stored.id})
            return error_response(
                502,
                f"order {stored.id} is stored but its {contract.ORDER_CREATED} event could not be "
                "published; retry the same request to publish it",
            )
    logger.info("Order accepted", extra={"order_id": stored.id, "status_code": status_code})
    return json_response(status_code, orders.order_to_json(stored))


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point (``handlers.create_order.handler``)."""
    api_event = APIGatewayProxyEvent(event)
    try:
        return create_order(api_event.body, bool(api_event.is_base64_encoded))
    except Exception:
        # Last resort: the client gets JSON, the traceback goes to the log only.
        logger.exception("Unexpected error in create-order")
        return error_response(500, "internal error; the order may not have been stored, retry the request")
