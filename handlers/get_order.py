"""get-order: GET /order/{id} behind an API Gateway REST proxy integration.

Environment (required at import): the orders table.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from handlers import contract, order_store, orders, validation
from handlers.responses import error_response, json_response

TABLE_NAME = os.environ[contract.ENV_ORDERS_TABLE]

logger = Logger()
dynamodb = boto3.client("dynamodb")


def get_order(order_id_text: str | None) -> dict[str, Any]:
    """Return the proxy response for one order id taken from the path."""
    try:
        order_id = validation.parse_order_id(order_id_text)
    except validation.InvalidRequestError as e:
        return error_response(e.status_code, e.message)
    try:
        order = order_store.get_order(dynamodb, TABLE_NAME, order_id)
    except order_store.StoreError:
        logger.exception("Could not read order", extra={"order_id": order_id})
        return error_response(503, f"order {order_id} could not be read; retry the request")
    if order is None:
        return error_response(404, f"order {order_id} not found")
    return json_response(200, orders.order_to_json(order))


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point (``handlers.get_order.handler``)."""
    api_event = APIGatewayProxyEvent(event)
    try:
        return get_order((api_event.path_parameters or {}).get("id"))
    except Exception:
        # Last resort: the client gets JSON, the traceback goes to the log only.
        logger.exception("Unexpected error in get-order")
        return error_response(500, "internal error; retry the request")
