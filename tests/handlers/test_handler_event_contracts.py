"""The handlers against the event contracts (``event_schemas``), as producers and as consumers.

Producers: every event the outbox (publish-order-events) really puts on the bus for what
create-order and update-order write (the table's stream records, captured through moto's
EventBridge) validates against its schema, boundary amounts included, so a test fails the
moment a producer drifts.

Consumers: every event a schema allows is handled without error. Events are generated from
``event_schemas/events/*.json`` (``event_strategies``): a few hundred through the pure cores
(``orders.payment_transition``, ``messages.notification_for``), a small sample through the
handlers on moto. What a schema forbids never raises (so Lambda never retries it): update-order
logs and drops an event without a usable id or of an unknown detail-type, and reads an extra field
tolerantly; notification sends its generic message, or the known one when the id is usable.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from event_strategies import all_events
from handler_testkit import FakeAws, LambdaContext, bus_event, post_event
from hypothesis import HealthCheck, given, settings

from event_schemas.validate import problems
from handlers import contract, messages, orders

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")

PURE_EXAMPLES = settings(max_examples=150, deadline=None, database=None)
# The handlers share the module's moto world, reset by hand for every example.
MOTO_EXAMPLES = settings(
    max_examples=6, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

#: The detail-types whose known sentence each consumer must produce (never the generic fallback).
KNOWN_WORDS = {
    contract.ORDER_CREATED: "created: amount",
    contract.ORDER_COMPLETED: "completed",
    contract.ORDER_CANCELLED: "cancelled",
    contract.PAYMENT_SUCCEEDED: "succeeded",
    contract.PAYMENT_FAILED: "failed",
}

#: Events the contracts forbid, one per kind of drift (the schema's verdict is asserted below).
FORBIDDEN = {
    "detail without id": (contract.PAYMENT_SUCCEEDED, {}),
    "id as a string": (contract.PAYMENT_FAILED, {"id": "101"}),
    "unknown detail-type": ("PaymentRefunded", {"id": 101}),
}
EXTRA_FIELD = (contract.PAYMENT_SUCCEEDED, {"id": 101, "note": "extra"})


def _forbidden_event(detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    event = bus_event(contract.PAYMENT_SERVICE, detail_type, detail)
    # THEN (precondition) the contract refuses it, or knows no such detail-type at all
    assert problems(event) != []
    return event


# --- The handlers on moto ---------------------------------------------------------------------


@pytest.fixture
def update_order(load_handler: Callable[[str], ModuleType]) -> ModuleType:
    return load_handler("update_order")


@pytest.fixture
def notification(load_handler: Callable[[str], ModuleType]) -> ModuleType:
    return load_handler("notification")


def _store_created(aws: FakeAws, order_id: int) -> None:
    aws.put_item(
        {
            "id": {"N": str(order_id)},
            "amount": {"N": "100"},
            "status": {"S": contract.ORDER_CREATED},
            "createdAt": {"S": "2024-11-26T10:00:00.000Z"},
            "updatedAt": {"S": "2024-11-26T10:00:00.000Z"},
        }
    )
    aws.stream_records()  # the test's own write is not what is under test


# --- Producers: what the outbox really publishes for what the handlers write --------------------


@pytest.fixture
def create_order(load_handler: Callable[[str], ModuleType]) -> ModuleType:
    return load_handler("create_order")


@pytest.fixture
def publisher(load_handler: Callable[[str], ModuleType]) -> ModuleType:
    return load_handler("publish_order_events")


def _post(create_order: ModuleType, lambda_context: LambdaContext, order_id: int, amount: str) -> int:
    response = create_order.handler(post_event(f'{{"id": {order_id}, "amount": {amount}}}'), lambda_context)
    return int(response["statusCode"])


def _publish_stream(publisher: ModuleType, aws: FakeAws, lambda_context: LambdaContext) -> list[dict[str, Any]]:
    """Hand the stream's new records to publish-order-events, as the mapping does; return what reached the bus."""
    response = publisher.handler({"Records": aws.stream_records()}, lambda_context)
    assert response == {"batchItemFailures": []}
    return aws.published_events()


#: Amounts at the edges: the smallest the API accepts, the fraud threshold and just above it, a
#: fraction, and the largest.
BOUNDARY_AMOUNTS = {101: "0.01", 102: "500", 103: "500.01", 104: "100.50", 105: "1e9"}


def test_the_outbox_publishes_order_created_as_its_contract_says(
    create_order: ModuleType, publisher: ModuleType, aws: FakeAws, lambda_context: LambdaContext
) -> None:
    for order_id, amount in BOUNDARY_AMOUNTS.items():
        # GIVEN create-order handled a new order, then the same request again (a client retry)
        statuses = [_post(create_order, lambda_context, order_id, amount) for _ in range(2)]
        assert statuses == [201, 200]
        # WHEN the outbox publishes what the stream got
        published = _publish_stream(publisher, aws, lambda_context)
        # THEN exactly one OrderCreated went out (the retry wrote nothing), its numbers JSON numbers
        assert [(e["source"], e["detail-type"], e["detail"]) for e in published] == [
            (contract.ORDER_SERVICE, contract.ORDER_CREATED, {"id": order_id, "amount": json.loads(amount)})
        ]
        assert isinstance(published[0]["detail"]["amount"], (int, float))
        # AND it is valid under the OrderCreated contract
        assert [problems(e) for e in published] == [[]]


def test_a_drifted_order_created_detail_fails_the_same_check(
    create_order: ModuleType,
    publisher: ModuleType,
    aws: FakeAws,
    lambda_context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN (control) the OrderCreated detail renames amount to total
    original = orders.order_created_detail

    def drifted(order: orders.Order) -> dict[str, Any]:
        detail = original(order)
        return {"id": detail["id"], "total": detail["amount"]}

    monkeypatch.setattr(orders, "order_created_detail", drifted)
    # WHEN an order is created and the outbox publishes it
    assert _post(create_order, lambda_context, 102, "100") == 201
    (event,) = _publish_stream(publisher, aws, lambda_context)
    # THEN the event fails the contract check, naming both faults
    found = problems(event)
    assert found is not None and len(found) == 2
    assert any("'amount' is a required property" in p for p in found)
    assert any("'total' was unexpected" in p for p in found)


@pytest.mark.parametrize(
    ("payment", "final_status"),
    [
        (contract.PAYMENT_SUCCEEDED, contract.ORDER_COMPLETED),
        (contract.PAYMENT_FAILED, contract.ORDER_CANCELLED),
    ],
)
def test_the_outbox_publishes_final_events_as_their_contracts_say(
    update_order: ModuleType,
    publisher: ModuleType,
    aws: FakeAws,
    lambda_context: LambdaContext,
    payment: str,
    final_status: str,
) -> None:
    # GIVEN order 101 is OrderCreated
    _store_created(aws, 101)
    event = bus_event(contract.PAYMENT_SERVICE, payment, {"id": 101})
    # WHEN the payment outcome arrives, then is delivered again, and the outbox publishes
    results = [update_order.handler(event, lambda_context)["result"] for _ in range(2)]
    published = _publish_stream(publisher, aws, lambda_context)
    # THEN it is applied, then recognised as a redelivery, and the final event goes out once
    assert results == ["applied", orders.TransitionOutcome.REDELIVERY.value]
    assert [(e["source"], e["detail-type"], e["detail"]) for e in published] == [
        (contract.ORDER_SERVICE, final_status, {"id": 101})
    ]
    # AND it is valid under its contract
    assert [problems(e) for e in published] == [[]]


def test_a_drifted_outcome_detail_fails_the_same_check(
    update_order: ModuleType,
    publisher: ModuleType,
    aws: FakeAws,
    lambda_context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN (control) the final detail sends the id as text
    monkeypatch.setattr(orders, "order_outcome_detail", lambda order_id: {"id": str(order_id)})
    _store_created(aws, 101)
    # WHEN a payment outcome is applied and the outbox publishes it
    update_order.handler(bus_event(contract.PAYMENT_SERVICE, contract.PAYMENT_SUCCEEDED, {"id": 101}), lambda_context)
    (event,) = _publish_stream(publisher, aws, lambda_context)
    # THEN the event fails the contract check
    assert problems(event) == ["detail/id: '101' is not of type 'integer'"]


# --- Consumers: pure cores, a few hundred generated events -------------------------------------------------


@PURE_EXAMPLES
@given(event=all_events(contract.PAYMENT_SERVICE))
def test_payment_transition_accepts_every_payment_event_the_contract_allows(event: dict[str, Any]) -> None:
    # GIVEN a payment-service event its schema allows
    # WHEN update-order's core reads it
    transition = orders.payment_transition(event["source"], event["detail-type"], event["detail"])
    # THEN it names that order and the status the outcome leads to
    assert transition.order_id == event["detail"]["id"]
    assert transition.target_status == contract.PAYMENT_OUTCOME_TO_ORDER_STATUS[event["detail-type"]]


@PURE_EXAMPLES
@given(event=all_events())
def test_notification_for_every_event_the_contract_allows_is_the_known_sentence(event: dict[str, Any]) -> None:
    # GIVEN any of the five events, as its schema allows it
    # WHEN notification's core renders it
    notification = messages.notification_for(event["source"], event["detail-type"], event["detail"])
    # THEN it is the event's own sentence with the order id, not the generic fallback
    assert notification.message == notification.subject
    assert f" {event['detail']['id']} " in f"{notification.message} "
    assert KNOWN_WORDS[event["detail-type"]] in notification.message
    # AND the subject is one SNS accepts
    assert notification.subject.isascii() and len(notification.subject) < 100
    if event["detail-type"] == contract.ORDER_CREATED:
        assert notification.message.endswith(f"{event['detail']['amount']:.2f}")


@pytest.mark.parametrize("case", sorted(FORBIDDEN))
def test_payment_transition_refuses_what_the_contract_forbids(case: str) -> None:
    # GIVEN a payment event its contract forbids
    event = _forbidden_event(*FORBIDDEN[case])
    # WHEN / THEN update-order's core refuses it as an event to drop
    with pytest.raises(orders.IgnoredEventError):
        orders.payment_transition(event["source"], event["detail-type"], event["detail"])


# --- Consumers: the handlers on moto, a small sample -----------------------------------------------------------


@MOTO_EXAMPLES
@given(event=all_events(contract.PAYMENT_SERVICE))
def test_update_order_applies_every_payment_event_the_contract_allows(
    update_order: ModuleType, publisher: ModuleType, aws: FakeAws, lambda_context: LambdaContext, event: dict[str, Any]
) -> None:
    # GIVEN the event's order is OrderCreated
    aws.reset()
    order_id = event["detail"]["id"]
    _store_created(aws, order_id)
    # WHEN update-order handles the generated event
    result = update_order.handler(bus_event(event["source"], event["detail-type"], event["detail"]), lambda_context)
    # THEN the transition is applied and its final event, valid under its own contract, is what
    # the outbox makes of its write
    target = contract.PAYMENT_OUTCOME_TO_ORDER_STATUS[event["detail-type"]]
    assert result == {"result": "applied", "orderId": order_id}
    (published,) = _publish_stream(publisher, aws, lambda_context)
    assert (published["detail-type"], published["detail"]) == (target, {"id": order_id})
    assert problems(published) == []


@MOTO_EXAMPLES
@given(event=all_events())
def test_notification_sends_every_event_the_contract_allows(
    notification: ModuleType, aws: FakeAws, lambda_context: LambdaContext, event: dict[str, Any]
) -> None:
    # GIVEN any generated event of the five contracts
    aws.reset()
    # WHEN notification handles it
    result = notification.handler(bus_event(event["source"], event["detail-type"], event["detail"]), lambda_context)
    # THEN exactly one notification carries the event's own sentence
    expected = messages.notification_for(event["source"], event["detail-type"], event["detail"])
    (sent,) = aws.notifications()
    assert (sent["Subject"], sent["Message"]) == (expected.subject, expected.message)
    assert result["subject"] == sent["Subject"]
    assert not sent["Message"].startswith("Event ")


@pytest.mark.parametrize("case", sorted(FORBIDDEN))
def test_update_order_drops_what_the_contract_forbids_and_logs_why(
    update_order: ModuleType,
    aws: FakeAws,
    lambda_context: LambdaContext,
    caplog: pytest.LogCaptureFixture,
    case: str,
) -> None:
    # GIVEN order 101 is OrderCreated and a payment event its contract forbids
    _store_created(aws, 101)
    event = _forbidden_event(*FORBIDDEN[case])
    # WHEN update-order handles it
    result = update_order.handler(event, lambda_context)
    # THEN it returns normally (no exception, so no Lambda retry) and drops the event
    assert result["result"] == "dropped"
    # AND the log says why
    (dropped,) = [record for record in caplog.records if record.getMessage() == "Event dropped"]
    assert dropped.levelname == "WARNING" and getattr(dropped, "reason", None) == result["reason"]
    # AND nothing changed or was published
    item = aws.get_item(101)
    assert item is not None and item["status"] == {"S": contract.ORDER_CREATED}
    assert aws.stream_records() == []


def test_update_order_reads_an_extra_field_tolerantly(
    update_order: ModuleType, publisher: ModuleType, aws: FakeAws, lambda_context: LambdaContext
) -> None:
    # GIVEN order 101 is OrderCreated and a PaymentSucceeded whose detail has a field the contract forbids
    _store_created(aws, 101)
    event = _forbidden_event(*EXTRA_FIELD)
    # WHEN update-order handles it
    result = update_order.handler(event, lambda_context)
    # THEN it returns normally: the id it needs is valid, so the outcome is applied (tolerant reader)
    assert result == {"result": "applied", "orderId": 101}
    (published,) = _publish_stream(publisher, aws, lambda_context)
    assert problems(published) == []


@pytest.mark.parametrize("case", [*sorted(FORBIDDEN), "extra field"])
def test_notification_sends_a_generic_message_for_what_the_contract_forbids(
    notification: ModuleType, aws: FakeAws, lambda_context: LambdaContext, case: str
) -> None:
    # GIVEN an event its contract forbids
    detail_type, detail = FORBIDDEN.get(case, EXTRA_FIELD)
    event = _forbidden_event(detail_type, detail)
    # WHEN notification handles it
    result = notification.handler(event, lambda_context)
    # THEN it returns normally and one notification goes out
    (sent,) = aws.notifications()
    assert sent["Subject"] == result["subject"]
    if case == "extra field":
        # an extra field does not hide the order id: the known sentence, as for a valid event
        assert sent["Message"] == "Payment for order 101 succeeded"
    else:
        # the generic message names what arrived and carries the raw detail
        assert sent["Subject"] == f"Event {detail_type} from {contract.PAYMENT_SERVICE}"
        assert sent["Message"].endswith(f"Detail: {json.dumps(detail)}")
