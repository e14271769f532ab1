"""Bad requests through the local API: a 4xx with a JSON message, and the function never invoked."""

from __future__ import annotations

import json
import logging

import pytest
from sandbox_testkit import get_order, http, invocations_of

from sandbox.runtime import Sandbox

BAD_BODIES = {
    "not JSON": "id=101&amount=100",
    "empty": "",
    "array": "[101, 100]",
    "missing amount": '{"id": 101}',
    "missing id": '{"amount": 100}',
    "unknown field": '{"id": 101, "amount": 100, "coupon": "FREE"}',
    "string amount": '{"id": 101, "amount": "100"}',
    "boolean id": '{"id": true, "amount": 100}',
    "zero amount": '{"id": 101, "amount": 0}',
    "negative amount": '{"id": 101, "amount": -5}',
    "three decimals": '{"id": 101, "amount": 10.005}',
    "NaN amount": '{"id": 101, "amount": NaN}',
    "infinite amount": '{"id": 101, "amount": Infinity}',
    "fractional id": '{"id": 101.5, "amount": 100}',
    "id above 2^53-1": '{"id": 9007199254740992, "amount": 100}',
    "zero id": '{"id": 0, "amount": 100}',
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "application/json"])
def test_a_bad_order_is_refused_before_the_function_runs(module_sandbox: Sandbox, body: str, content_type: str) -> None:
    # GIVEN the running system, watching create-order's invocations
    with invocations_of(module_sandbox, "handlers.create_order.handler") as invoked:
        # WHEN a bad order is posted, with curl's form content type or as JSON
        response = http("POST", f"{module_sandbox.api_url}/order", body, content_type)
    # THEN it is refused with a 4xx and a JSON message
    assert 400 <= response.status < 500, response
    assert isinstance(response.body, dict)
    assert response.body["error"], response.body
    # AND the function never ran, so nothing can have been written, published or started
    assert invoked == []


def test_watching_invocations_sees_an_accepted_order(sandbox: Sandbox) -> None:
    # GIVEN the running system, watched as the refusal test above watches it
    with invocations_of(sandbox, "handlers.create_order.handler") as invoked:
        # WHEN a good order is posted
        response = http("POST", f"{sandbox.api_url}/order", '{"id": 101, "amount": 100}')
    # THEN the same check sees the one invocation (so an empty one above means: not invoked)
    assert response.status == 201
    assert [json.loads(event["body"]) for event in invoked] == [{"id": 101, "amount": 100}]


@pytest.mark.parametrize(("path", "status"), [("/order/abc", 400), ("/order/-1", 400), ("/order/999", 404)])
def test_reading_a_bad_or_unknown_order_is_a_json_4xx(module_sandbox: Sandbox, path: str, status: int) -> None:
    # GIVEN no orders
    # WHEN one is read by a bad or unknown id
    response = http("GET", f"{module_sandbox.api_url}{path}")
    # THEN the status says which, with a JSON message
    assert response.status == status
    assert response.body["error"]


def test_routes_the_program_does_not_declare_are_not_served(module_sandbox: Sandbox) -> None:
    # GIVEN the program declares POST /order and GET /order/{id} only
    # WHEN other routes are called
    # THEN API Gateway's answer comes back, as the program's JSON gateway response
    for method, path in (("GET", "/orders"), ("DELETE", "/order/1"), ("GET", "/order")):
        response = http(method, f"{module_sandbox.api_url}{path}")
        assert response.status == 403
        assert response.body == {"error": "Missing Authentication Token"}
    assert get_order(module_sandbox, 1).status == 404


def test_the_api_says_what_is_wrong_with_a_body(module_sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    # GIVEN the API's request validator and its BAD_REQUEST_BODY gateway response
    # WHEN a body misses a field
    with caplog.at_level(logging.WARNING, logger="sandbox.api"):
        response = http("POST", f"{module_sandbox.api_url}/order", '{"id": 101}')
    # THEN the 400 is JSON naming the request (the validator's detail cannot be JSON-safe on AWS)
    assert response.status == 400
    assert response.body["error"] == "Invalid request body"
    request_id = response.body["requestId"]
    # AND the log, like API Gateway's access log, says what was wrong under that request id
    assert any(
        request_id in r.getMessage() and 'object has missing required properties (["amount"])' in r.getMessage()
        for r in caplog.records
    ), [r.getMessage() for r in caplog.records]
