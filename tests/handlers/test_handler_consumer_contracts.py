"""Consumers against the event contracts: every event a schema allows is handled without error.

Events are generated from ``event_schemas/events/*.json`` (``event_strategies``): a few hundred
through the pure cores (``orders.payment_transition``, ``messages.notification_for``), a small
sample through the handlers on moto. What a schema forbids is logged and dropped by the handler,
which returns normally, so Lambda never retries it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from event_strategies import all_events
from handler_testkit import FakeAws, LambdaContext, bus_event
from hypothesis import HealthCheck, given, settings

from event_schemas.validate import problems
from handlers import contract, messages, orders

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")

PURE_EXAMPLES = settings(max_examples=150, deadline=None, database=None)
# The handlers share the module's moto world, reset by hand for every example.
MOTO_EXAMPLES = settings(
    max_examples=10, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
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


# --- Pure cores, a few hundred generated events -------------------------------------------------


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


# --- Handlers on moto, a small sample -----------------------------------------------------------


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


@MOTO_EXAMPLES
@given(event=all_events(contract.PAYMENT_SERVICE))
def test_update_order_applies_every_payment_event_the_contract_allows(
    update_order: ModuleType, aws: FakeAws, lambda_context: LambdaContext, event: dict[str, Any]
) -> None:
    # GIVEN the event's order is OrderCreated
    aws.reset()
    order_id = event["detail"]["id"]
    _store_created(aws, order_id)
    # WHEN update-order handles the generated event
    result = update_order.handler(bus_event(event["source"], event["detail-type"], event["detail"]), lambda_context)
    # THEN the transition is applied and its final event, valid under its own contract, is published
    target = contract.PAYMENT_OUTCOME_TO_ORDER_STATUS[event["detail-type"]]
    assert result == {"result": "applied", "orderId": order_id}
    (published,) = aws.published_events()
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
    assert aws.published_events() == []


def test_update_order_reads_an_extra_field_tolerantly(
    update_order: ModuleType, aws: FakeAws, lambda_context: LambdaContext
) -> None:
    # GIVEN order 101 is OrderCreated and a PaymentSucceeded whose detail has a field the contract forbids
    _store_created(aws, 101)
    event = _forbidden_event(*EXTRA_FIELD)
    # WHEN update-order handles it
    result = update_order.handler(event, lambda_context)
    # THEN it returns normally: the id it needs is valid, so the outcome is applied (tolerant reader)
    assert result == {"result": "applied", "orderId": 101}
    (published,) = aws.published_events()
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
