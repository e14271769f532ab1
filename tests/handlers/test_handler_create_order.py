"""create-order against moto: responses, the stored item, and the one change its write leaves on the stream."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError
from handler_testkit import (
    FakeAws,
    LambdaContext,
    emitted_metrics,
    load_event,
    post_event,
    response_json,
)

from handlers import contract

Loader = Callable[[str], ModuleType]

# Powertools warns when an invocation emits no metric, which is what a rejected request does.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")


@pytest.fixture
def create_order(load_handler: Loader) -> ModuleType:
    return load_handler("create_order")


def test_curl_form_post_creates_order_whose_write_is_its_order_created(
    create_order: ModuleType, aws: FakeAws, lambda_context: LambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the original's curl request: JSON body sent as application/x-www-form-urlencoded
    event = load_event("api_post_order")
    assert event["headers"]["Content-Type"] == "application/x-www-form-urlencoded"

    # WHEN create-order handles it
    response = create_order.handler(event, lambda_context)

    # THEN 201 with the order, as JSON, amount rendered as the number 100
    assert response["statusCode"] == 201
    body = response_json(response)
    assert body["id"] == 101 and body["amount"] == 100 and body["status"] == contract.ORDER_CREATED
    assert '"amount": 100,' in response["body"]
    assert body["createdAt"] == body["updatedAt"] and body["createdAt"].endswith("Z")
    # AND the item is stored with the typed attributes of the data model
    item = aws.get_item(101)
    assert item == {
        "id": {"N": "101"},
        "amount": {"N": "100"},
        "status": {"S": contract.ORDER_CREATED},
        "createdAt": {"S": body["createdAt"]},
        "updatedAt": {"S": body["updatedAt"]},
    }
    # AND create-order put nothing on the bus itself: its one write is one stream record, which
    # the outbox publishes as exactly one OrderCreated
    assert aws.published_events() == []
    assert aws.outbox_events() == [(contract.ORDER_CREATED, {"id": 101, "amount": 100})]
    # AND the created-orders metric was emitted once
    assert emitted_metrics(capsys.readouterr().out) == [contract.METRIC_ORDERS_CREATED]


def test_decimal_amount_is_kept_exact(create_order: ModuleType, aws: FakeAws, lambda_context: LambdaContext) -> None:
    # GIVEN an amount with cents
    # WHEN it is posted
    response = create_order.handler(post_event('{"id": 7, "amount": 100.50}'), lambda_context)
    # THEN it is answered, stored and published (by the outbox) as 100.5 exactly
    assert response["statusCode"] == 201
    assert response_json(response)["amount"] == 100.5
    assert aws.get_item(7)["amount"] == {"N": "100.5"}
    assert aws.outbox_events() == [(contract.ORDER_CREATED, {"id": 7, "amount": 100.5})]


def test_base64_encoded_body_is_decoded(create_order: ModuleType, aws: FakeAws, lambda_context: LambdaContext) -> None:
    # GIVEN API Gateway passed the body base64-encoded
    event = post_event('{"id": 8, "amount": 12.34}', base64_encoded=True)
    assert event["body"] != '{"id": 8, "amount": 12.34}'
    # WHEN create-order handles it
    response = create_order.handler(event, lambda_context)
    # THEN the decoded JSON was used
    assert response["statusCode"] == 201
    assert response_json(response)["amount"] == 12.34
    assert len(aws.outbox_events()) == 1


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


# Bodies exactly as they sit in the API Gateway event (base64 ones already encoded).
BAD_BODIES: list[tuple[str, str | None, bool, int, str]] = [
    # (case, body, base64-encoded, status, words the error must contain)
    ("no body", None, False, 400, "body is required"),
    ("empty body", "", False, 400, "body is required"),
    ("not JSON", "id=101&amount=100", False, 400, "not valid JSON"),
    ("array body", "[101, 100]", False, 400, "must be a JSON object"),
    ("string body", '"hello"', False, 400, "must be a JSON object"),
    ("missing amount", '{"id": 101}', False, 400, "missing field 'amount'"),
    ("missing id", '{"amount": 100}', False, 400, "missing field 'id'"),
    ("unknown field", '{"id": 101, "amount": 100, "foo": 1}', False, 400, "unknown field 'foo'"),
    ("bool id", '{"id": true, "amount": 100}', False, 400, "id must be an integer"),
    ("bool amount", '{"id": 101, "amount": true}', False, 400, "amount must be a number"),
    ("string amount", '{"id": 101, "amount": "100"}', False, 400, "amount must be a number"),
    ("string id", '{"id": "101", "amount": 100}', False, 400, "id must be an integer"),
    ("fractional id", '{"id": 101.5, "amount": 100}', False, 400, "id must be an integer"),
    ("negative amount", '{"id": 101, "amount": -5}', False, 400, "amount must be greater than 0"),
    ("zero amount", '{"id": 101, "amount": 0}', False, 400, "amount must be greater than 0"),
    ("zero id", '{"id": 0, "amount": 100}', False, 400, "id must be at least 1"),
    ("three decimals", '{"id": 101, "amount": 1.005}', False, 400, "amount must have at most two decimals"),
    ("too large amount", '{"id": 101, "amount": 1000000000.01}', False, 400, "amount must be at most"),
    ("NaN", '{"id": 101, "amount": NaN}', False, 400, "NaN is not allowed"),
    ("Infinity", '{"id": 101, "amount": Infinity}', False, 400, "Infinity is not allowed"),
    ("-Infinity", '{"id": 101, "amount": -Infinity}', False, 400, "-Infinity is not allowed"),
    ("id above 2^53-1", '{"id": 9007199254740992, "amount": 100}', False, 400, "id must be at most"),
    ("duplicate key", '{"id": 101, "amount": 1, "amount": 100}', False, 400, "repeats the field 'amount'"),
    ("too big body", '{"id": 101, "amount": 100' + " " * 1024 + "}", False, 413, "at most 1024 bytes"),
    ("bad base64", "%%%not-base64%%%", True, 400, "not valid base64"),
    ("base64 of bad JSON", _b64(b"{id:101}"), True, 400, "not valid JSON"),
    ("base64 of non-UTF-8", _b64(b'{"id": 1, "amount": "\x80"}'), True, 400, "not valid UTF-8"),
    ("base64 too big", _b64(b" " * 1100), True, 413, "at most 1024 bytes"),
]


@pytest.mark.parametrize(
    ("body", "base64_encoded", "status", "words"),
    [case[1:] for case in BAD_BODIES],
    ids=[case[0] for case in BAD_BODIES],
)
def test_bad_input_is_rejected_without_side_effects(
    create_order: ModuleType,
    aws: FakeAws,
    lambda_context: LambdaContext,
    capsys: pytest.CaptureFixture[str],
    body: str | None,
    base64_encoded: bool,
    status: int,
    words: str,
) -> None:
    # GIVEN a bad request body
    event = post_event(body)
    event["isBase64Encoded"] = base64_encoded

    # WHEN create-order handles it
    response = create_order.handler(event, lambda_context)

    # THEN a 4xx with a JSON error saying what is wrong
    assert response["statusCode"] == status
    error = response_json(response)["error"]
    assert words in error
    # AND nothing was written, nothing published, no metric emitted
    assert aws.items() == []
    assert aws.published_events() == []
    assert emitted_metrics(capsys.readouterr().out) == []


def test_same_id_and_amount_again_is_a_retry(
    create_order: ModuleType, aws: FakeAws, lambda_context: LambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN order 101 was created (its write is on the stream)
    first = create_order.handler(post_event('{"id": 101, "amount": 100}'), lambda_context)
    assert first["statusCode"] == 201
    assert len(aws.outbox_events()) == 1
    capsys.readouterr()

    # WHEN the client retries with the same amount, spelled differently
    second = create_order.handler(post_event('{"id": 101, "amount": 100.00}'), lambda_context)

    # THEN 200 with the stored order, unchanged, still one item
    assert second["statusCode"] == 200
    assert response_json(second) == response_json(first)
    assert len(aws.items()) == 1
    # AND nothing was written again, so the stream has no second record: no second OrderCreated,
    # and no second created metric
    assert aws.stream_records() == []
    assert aws.published_events() == []
    assert emitted_metrics(capsys.readouterr().out) == []


def test_retry_after_order_progressed_writes_nothing(
    create_order: ModuleType, aws: FakeAws, lambda_context: LambdaContext
) -> None:
    # GIVEN order 101 is already completed (and its changes already on the stream)
    aws.put_item(
        {
            "id": {"N": "101"},
            "amount": {"N": "100"},
            "status": {"S": contract.ORDER_COMPLETED},
            "createdAt": {"S": "2024-11-26T10:00:00.000Z"},
            "updatedAt": {"S": "2024-11-26T10:00:01.000Z"},
        }
    )
    aws.stream_records()
    # WHEN the client retries the original request
    response = create_order.handler(post_event('{"id": 101, "amount": 100}'), lambda_context)
    # THEN 200 with the completed order: the final status is kept, nothing is written, so no
    # OrderCreated goes out for it again
    assert response["statusCode"] == 200
    assert response_json(response)["status"] == contract.ORDER_COMPLETED
    assert aws.stream_records() == []


def test_same_id_with_other_amount_is_a_conflict(
    create_order: ModuleType, aws: FakeAws, lambda_context: LambdaContext
) -> None:
    # GIVEN order 101 exists with amount 100
    assert create_order.handler(post_event('{"id": 101, "amount": 100}'), lambda_context)["statusCode"] == 201
    aws.stream_records()
    stored = aws.get_item(101)

    # WHEN another amount is posted under the same id
    response = create_order.handler(post_event('{"id": 101, "amount": 200}'), lambda_context)

    # THEN 409 with a JSON error; the stored order is untouched and nothing is published
    assert response["statusCode"] == 409
    assert "already exists" in response_json(response)["error"]
    assert aws.get_item(101) == stored
    assert aws.stream_records() == []


def test_create_order_answers_201_on_its_write_alone_and_holds_no_bus_client(
    create_order: ModuleType, aws: FakeAws, lambda_context: LambdaContext
) -> None:
    # GIVEN create-order as deployed: the orders table is its only dependency
    # WHEN an order is posted
    response = create_order.handler(post_event('{"id": 5, "amount": 1}'), lambda_context)
    # THEN it answers 201 once the write succeeded: publishing is not its job, so no publish can
    # fail after the write, and it has no EventBridge client or bus to publish with
    assert response["statusCode"] == 201
    assert not hasattr(create_order, "events") and not hasattr(create_order, "EVENT_BUS_NAME")
    assert aws.outbox_events() == [(contract.ORDER_CREATED, {"id": 5, "amount": 1})]


def test_dynamodb_failure_is_a_json_503_and_nothing_is_published(
    create_order: ModuleType, aws: FakeAws, lambda_context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN DynamoDB fails
    def put_item(**kwargs: Any) -> dict[str, Any]:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "busy"}}, "PutItem")

    monkeypatch.setattr(create_order.dynamodb, "put_item", put_item)
    # WHEN the order is posted
    response = create_order.handler(post_event('{"id": 5, "amount": 1}'), lambda_context)
    # THEN a JSON 503 asking for a retry, and nothing was written (so nothing will be published)
    assert response["statusCode"] == 503
    assert "retry" in response_json(response)["error"]
    assert aws.stream_records() == []


def test_unexpected_error_never_reaches_the_client_as_a_traceback(
    create_order: ModuleType, aws: FakeAws, lambda_context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a bug deep inside (simulated)
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("boom")

    monkeypatch.setattr(create_order.orders, "new_order", broken)
    # WHEN a valid order is posted
    response = create_order.handler(post_event('{"id": 5, "amount": 1}'), lambda_context)
    # THEN a JSON 500 without internals
    assert response["statusCode"] == 500
    assert "boom" not in response["body"]
    assert json.loads(response["body"])["error"]


def test_missing_environment_fails_at_import(load_handler: Loader, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the function is configured without its table name
    load_handler("create_order")
    monkeypatch.delenv(contract.ENV_ORDERS_TABLE)
    # WHEN the module is imported again THEN it fails loudly, naming the variable
    import importlib
    import sys

    with pytest.raises(KeyError, match=contract.ENV_ORDERS_TABLE):
        importlib.reload(sys.modules["handlers.create_order"])
