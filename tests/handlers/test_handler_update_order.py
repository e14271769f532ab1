"""update-order against moto: transitions, redelivery, late events, drops, and publish failures."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError
from handler_testkit import FakeAws, LambdaContext, bus_event, emitted_metrics, load_event

from handlers import contract

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")

CREATED_AT = "2024-11-26T10:00:00.000Z"


@pytest.fixture
def update_order(load_handler: Callable[[str], ModuleType]) -> ModuleType:
    return load_handler("update_order")


def _store(aws: FakeAws, order_id: int, status: str, updated_at: str = CREATED_AT) -> None:
    aws.put_item(
        {
            "id": {"N": str(order_id)},
            "amount": {"N": "100"},
            "status": {"S": status},
            "createdAt": {"S": CREATED_AT},
            "updatedAt": {"S": updated_at},
        }
    )
    # The test's own write is on the stream too: what a handler writes is what follows it.
    aws.stream_records()


@pytest.mark.parametrize(
    ("event_file", "final_status", "metric"),
    [
        ("eventbridge_payment_succeeded", contract.ORDER_COMPLETED, contract.METRIC_ORDERS_COMPLETED),
        ("eventbridge_payment_failed", contract.ORDER_CANCELLED, contract.METRIC_ORDERS_CANCELLED),
    ],
)
def test_payment_outcome_moves_created_order_to_final_status(
    update_order: ModuleType,
    aws: FakeAws,
    lambda_context: LambdaContext,
    capsys: pytest.CaptureFixture[str],
    event_file: str,
    final_status: str,
    metric: str,
) -> None:
    # GIVEN order 101 is OrderCreated
    _store(aws, 101, contract.ORDER_CREATED)
    # WHEN the payment outcome arrives
    result = update_order.handler(load_event(event_file), lambda_context)
    # THEN the order has the final status and a new updatedAt
    item = aws.get_item(101)
    assert item is not None
    assert item["status"] == {"S": final_status}
    assert item["updatedAt"]["S"] > CREATED_AT and item["createdAt"] == {"S": CREATED_AT}
    assert result["result"] == "applied"
    # AND update-order put nothing on the bus itself: its one write is the stream record the
    # outbox publishes as the final event with the order id
    assert aws.published_events() == []
    assert aws.outbox_events() == [(final_status, {"id": 101})]
    # AND its metric was emitted once
    assert emitted_metrics(capsys.readouterr().out) == [metric]


def test_redelivered_event_writes_nothing_so_nothing_is_published(
    update_order: ModuleType, aws: FakeAws, lambda_context: LambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the success was applied once already
    _store(aws, 101, contract.ORDER_CREATED)
    update_order.handler(load_event("eventbridge_payment_succeeded"), lambda_context)
    assert len(aws.outbox_events()) == 1
    capsys.readouterr()
    applied = aws.get_item(101)

    # WHEN EventBridge delivers the same event again
    result = update_order.handler(load_event("eventbridge_payment_succeeded"), lambda_context)

    # THEN the item is exactly as the first delivery left it (updatedAt is the transition time)
    assert aws.get_item(101) == applied
    assert result["result"] == "redelivery"
    # AND nothing was written, so the stream has no record: no second OrderCompleted, no metric
    assert aws.stream_records() == []
    assert aws.published_events() == []
    assert emitted_metrics(capsys.readouterr().out) == []


def test_late_conflicting_event_never_overwrites_a_final_status(
    update_order: ModuleType, aws: FakeAws, lambda_context: LambdaContext
) -> None:
    # GIVEN order 101 was completed
    _store(aws, 101, contract.ORDER_COMPLETED, updated_at="2024-11-26T10:00:05.000Z")
    before = aws.get_item(101)
    # WHEN a PaymentFailed for it arrives late
    result = update_order.handler(load_event("eventbridge_payment_failed"), lambda_context)
    # THEN it is dropped: status unchanged, nothing published, no error for Lambda to retry
    assert aws.get_item(101) == before
    assert result["result"] == "conflict"
    assert aws.stream_records() == []


def test_payment_for_unknown_order_is_dropped(
    update_order: ModuleType, aws: FakeAws, lambda_context: LambdaContext
) -> None:
    # GIVEN no order 101
    # WHEN its payment outcome arrives
    result = update_order.handler(load_event("eventbridge_payment_succeeded"), lambda_context)
    # THEN nothing is created, nothing published, and the handler returns normally
    assert result["result"] == "unknown-order"
    assert aws.items() == []
    assert aws.stream_records() == []


@pytest.mark.parametrize(
    ("source", "detail_type", "detail"),
    [
        (contract.PAYMENT_SERVICE, "PaymentPending", {"id": 101}),
        (contract.PAYMENT_SERVICE, contract.PAYMENT_SUCCEEDED, {}),
        (contract.PAYMENT_SERVICE, contract.PAYMENT_SUCCEEDED, {"id": "101"}),
        (contract.PAYMENT_SERVICE, contract.PAYMENT_SUCCEEDED, {"id": True}),
        (contract.PAYMENT_SERVICE, contract.PAYMENT_SUCCEEDED, {"id": -1}),
        (contract.PAYMENT_SERVICE, contract.PAYMENT_SUCCEEDED, "101"),
        (contract.PAYMENT_SERVICE, contract.PAYMENT_SUCCEEDED, None),
        (contract.ORDER_SERVICE, contract.PAYMENT_SUCCEEDED, {"id": 101}),
        (None, None, None),
    ],
    ids=[
        "unknown type",
        "no id",
        "string id",
        "bool id",
        "negative id",
        "str detail",
        "no detail",
        "wrong source",
        "empty",
    ],
)
def test_unusable_event_is_logged_and_dropped(
    update_order: ModuleType, aws: FakeAws, lambda_context: LambdaContext, source: Any, detail_type: Any, detail: Any
) -> None:
    # GIVEN an OrderCreated order 101 and an event the order service cannot act on
    _store(aws, 101, contract.ORDER_CREATED)
    event = bus_event(source, detail_type, detail)
    for key, value in (("source", source), ("detail-type", detail_type), ("detail", detail)):
        if value is None:
            del event[key]
    # WHEN it is delivered
    result = update_order.handler(event, lambda_context)
    # THEN it is dropped without touching the order or publishing
    assert result["result"] == "dropped"
    assert aws.get_item(101)["status"] == {"S": contract.ORDER_CREATED}
    assert aws.stream_records() == []


def test_update_order_holds_no_bus_client(update_order: ModuleType) -> None:
    # GIVEN update-order as deployed
    # WHEN its module is inspected
    # THEN it has no EventBridge client or bus: a crash after its write cannot lose an event
    assert not hasattr(update_order, "events") and not hasattr(update_order, "EVENT_BUS_NAME")


def test_dynamodb_failure_raises(
    update_order: ModuleType, aws: FakeAws, lambda_context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN DynamoDB is throttling
    def update_item(**kwargs: Any) -> dict[str, Any]:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "UpdateItem")

    monkeypatch.setattr(update_order.dynamodb, "update_item", update_item)
    # WHEN a payment outcome arrives THEN the handler raises for a retry, and nothing is written
    with pytest.raises(update_order.order_store.StoreError):
        update_order.handler(load_event("eventbridge_payment_succeeded"), lambda_context)
    assert aws.stream_records() == []
