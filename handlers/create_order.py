"""create-order: POST /order behind an API Gateway REST proxy integration.

Validates the body against the order schema and stores the order, once per id (a conditional
write). That write is all it does: ``OrderCreated`` comes from the table's stream (the
publish-order-events function), so an order stored is an order announced, whether or not this
function lives long enough to answer. A retry of the same request (same id and amount) is
answered 200 with the stored order and writes nothing, so nothing is published twice; another
amount under the same id answers 409.

Environment (required at import): the orders table and the metrics namespace.
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

from handlers import contract, order_store, orders, validation
from handlers.responses import error_response, json_response

TABLE_NAME = os.environ[contract.ENV_ORDERS_TABLE]
METRICS_NAMESPACE = os.environ[contract.ENV_POWERTOOLS_METRICS_NAMESPACE]

logger = Logger()
# Retries legitimately emit no business metric; Powertools would warn on each.
warnings.filterwarnings("ignore", message="No application metrics to publish")
metrics = Metrics(namespace=METRICS_NAMESPACE)
dynamodb = boto3.client("dynamodb")


def create_order(body: str | None, is_base64_encoded: bool) -> dict[str, Any]:
    """Handle one POST /order body and return the proxy response."""
    try:
        request = validation.parse_order_request(body, is_base64_encoded)
    except validation.InvalidRequestError as e:
        logger.info("Rejected order request", extra={"reason": e.message, "status_code": e.status_code})
        return error_response(e.status_code, e.message)

    order = orders.new_order(request, orders.utc_now())
    try:
        if order_store.put_new_order(dynamodb, TABLE_NAME, order):
            metrics.add_metric(
                name=contract.ORDER_STATUS_METRIC[contract.ORDER_CREATED], unit=MetricUnit.Count, value=1
            )
            logger.info("Order stored", extra={"order_id": order.id, "status_code": 201})
            return json_response(201, orders.order_to_json(order))
        existing = order_store.get_order(dynamodb, TABLE_NAME, request.id)
    except order_store.StoreError:
        logger.exception("Could not store order", extra={"order_id": request.id})
        return error_response(503, f"order {request.id} could not be stored; retry the request")
    if existing is None:
        # Deleted between the two calls (only by hand): nothing to answer consistently.
        return error_response(503, f"order {request.id} changed concurrently; retry the request")
    if orders.classify_existing(existing, request) is orders.RetryOutcome.CONFLICT:
        logger.info("Order id taken with another amount", extra={"order_id": request.id})
        return error_response(409, f"order {request.id} already exists with another amount")
    logger.info("Order already stored", extra={"order_id": existing.id, "status_code": 200})
    return json_response(200, orders.order_to_json(existing))


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
