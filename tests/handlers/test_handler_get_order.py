"""get-order against moto: 200 with the order, 404 for an unknown id, 400 for a bad id."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import pytest
from handler_testkit import FakeAws, LambdaContext, get_event, load_event, response_json

from handlers import contract


@pytest.fixture
def get_order(load_handler: Callable[[str], ModuleType]) -> ModuleType:
    return load_handler("get_order")


def test_existing_order_is_returned(get_order: ModuleType, aws: FakeAws, lambda_context: LambdaContext) -> None:
    # GIVEN order 101 is stored with a decimal amount
    aws.put_item(
        {
            "id": {"N": "101"},
            "amount": {"N": "100.5"},
            "status": {"S": contract.ORDER_COMPLETED},
            "createdAt": {"S": "2024-11-26T10:00:00.000Z"},
            "updatedAt": {"S": "2024-11-26T10:00:01.000Z"},
        }
    )
    # WHEN GET /order/101 arrives
    response = get_order.handler(load_event("api_get_order"), lambda_context)
    # THEN 200 with the order as JSON
    assert response["statusCode"] == 200
    assert response_json(response) == {
        "id": 101,
        "amount": 100.5,
        "status": contract.ORDER_COMPLETED,
        "createdAt": "2024-11-26T10:00:00.000Z",
        "updatedAt": "2024-11-26T10:00:01.000Z",
    }


def test_unknown_order_is_404(get_order: ModuleType, aws: FakeAws, lambda_context: LambdaContext) -> None:
    # GIVEN an empty table
    # WHEN GET /order/101 arrives
    response = get_order.handler(load_event("api_get_order"), lambda_context)
    # THEN 404 with a JSON error
    assert response["statusCode"] == 404
    assert "101" in response_json(response)["error"]


@pytest.mark.parametrize("order_id", ["abc", "0", "-1", "1.5", "+5", " 5", "9007199254740992", "1" * 40, "", None])
def test_bad_id_is_400(
    get_order: ModuleType, aws: FakeAws, lambda_context: LambdaContext, order_id: str | None
) -> None:
    # GIVEN a path id that is not a valid order id
    # WHEN GET /order/{id} arrives
    response = get_order.handler(get_event(order_id), lambda_context)
    # THEN 400 with a JSON error about the id
    assert response["statusCode"] == 400
    assert "order id" in response_json(response)["error"]
