"""notification against moto: one readable SNS message per event, with filterable attributes."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError
from handler_testkit import FakeAws, LambdaContext, bus_event, load_event

from handlers import contract


@pytest.fixture
def notification(load_handler: Callable[[str], ModuleType]) -> ModuleType:
    return load_handler("notification")


@pytest.mark.parametrize(
    ("event_file", "text"),
    [
        ("eventbridge_order_created", "Order 101 created: amount 100.00"),
        ("eventbridge_payment_succeeded", "Payment for order 101 succeeded"),
        ("eventbridge_payment_failed", "Payment for order 101 failed"),
        ("eventbridge_order_completed", "Order 101 completed"),
        ("eventbridge_order_cancelled", "Order 101 cancelled"),
    ],
)
def test_each_event_becomes_one_readable_notification(
    notification: ModuleType, aws: FakeAws, lambda_context: LambdaContext, event_file: str, text: str
) -> None:
    # GIVEN a system event
    event = load_event(event_file)
    # WHEN the notification handler receives it
    notification.handler(event, lambda_context)
    # THEN exactly one SNS message went to the topic with that subject and message
    sent = aws.notifications()
    assert len(sent) == 1
    assert sent[0]["TopicArn"] == aws.topic_arn
    assert sent[0]["Subject"] == text
    assert sent[0]["Message"] == text
    # AND with source and detail-type attributes for subscription filters
    assert sent[0]["MessageAttributes"] == {
        "source": {"Type": "String", "Value": event["source"]},
        "detail-type": {"Type": "String", "Value": event["detail-type"]},
    }


@pytest.mark.parametrize(
    "event",
    [
        bus_event(contract.ORDER_SERVICE, "OrderShipped", {"id": 101}),
        bus_event(contract.ORDER_SERVICE, contract.ORDER_CREATED, {"id": 101}),
        bus_event(contract.ORDER_SERVICE, contract.ORDER_CREATED, {"id": 101, "amount": "a lot"}),
        bus_event(contract.PAYMENT_SERVICE, contract.PAYMENT_FAILED, ["not", "a", "dict"]),
        bus_event(contract.PAYMENT_SERVICE, contract.PAYMENT_FAILED, None),
        bus_event(contract.PAYMENT_SERVICE, "x" * 300, {"id": 101}),
        bus_event(contract.PAYMENT_SERVICE, "Zahlung\nfehlgeschlagen \u00e4\u00f6\u00fc", {"id": 101}),
        {"detail-type": contract.ORDER_COMPLETED},
        {},
    ],
    ids=[
        "unknown type",
        "no amount",
        "bad amount",
        "list detail",
        "null detail",
        "long type",
        "non-ascii type",
        "no source",
        "empty",
    ],
)
def test_unexpected_shapes_still_notify_with_a_generic_message(
    notification: ModuleType, aws: FakeAws, lambda_context: LambdaContext, event: dict[str, Any]
) -> None:
    # GIVEN an event of an unexpected shape
    # WHEN the notification handler receives it
    notification.handler(event, lambda_context)
    # THEN it does not crash, and one generic notification with a valid SNS subject went out
    sent = aws.notifications()
    assert len(sent) == 1
    subject = sent[0]["Subject"]
    assert subject.startswith("Event ")
    assert subject.isascii() and "\n" not in subject and 0 < len(subject) < 100
    assert "Detail:" in sent[0]["Message"]
    assert set(sent[0]["MessageAttributes"]) == {"source", "detail-type"}


def test_generic_message_names_what_arrived(
    notification: ModuleType, aws: FakeAws, lambda_context: LambdaContext
) -> None:
    # GIVEN an unknown event type
    event = bus_event(contract.ORDER_SERVICE, "OrderShipped", {"id": 101, "carrier": "DHL"})
    # WHEN it is handled
    notification.handler(event, lambda_context)
    # THEN the message says which event from which source, and carries the detail
    sent = aws.notifications()[0]
    assert sent["Subject"] == f"Event OrderShipped from {contract.ORDER_SERVICE}"
    assert json.dumps({"id": 101, "carrier": "DHL"}) in sent["Message"]


def test_sns_failure_raises_for_a_retry(
    notification: ModuleType, aws: FakeAws, lambda_context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN SNS fails
    def publish(**kwargs: Any) -> dict[str, Any]:
        raise ClientError({"Error": {"Code": "InternalError", "Message": "down"}}, "Publish")

    monkeypatch.setattr(notification.sns, "publish", publish)
    # WHEN an event arrives THEN the handler raises so Lambda retries it
    with pytest.raises(notification.NotificationError):
        notification.handler(load_event("eventbridge_order_completed"), lambda_context)
