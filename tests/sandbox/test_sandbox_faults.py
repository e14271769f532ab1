"""Faults injected at the seams: retries happen, then events land in dead-letter queues; nothing is lost.

The seams are the sandbox's, not the handlers': a PutEvents entry refused by the bus, a function
that raises, a target that cannot be reached. Every accepted order must end in a final status or
be findable in a dead-letter queue.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from sandbox_testkit import catch_all_events, dead_letters, executions, get_order, post_order

from handlers import contract
from sandbox.delivery.rules import DeliveryError
from sandbox.runtime import Sandbox


def _function_named(sandbox: Sandbox, handler: str) -> str:
    return next(fn.name for fn in sandbox.functions.functions.values() if fn.handler == handler)


def _failing(times: int, error: Callable[[], Exception]) -> tuple[Callable[[dict[str, Any]], None], list[int]]:
    """A fault raising ``error()`` for its first ``times`` calls, counting every call."""
    calls = [0]
    lock = threading.Lock()

    def fault(event: dict[str, Any]) -> None:
        with lock:
            calls[0] += 1
            if calls[0] <= times:
                raise error()

    return fault, calls


def test_a_refused_publish_is_a_5xx_and_the_clients_retry_heals_it(sandbox: Sandbox) -> None:
    # GIVEN the bus refuses the first OrderCreated entry
    refused: list[str] = []

    def refuse_first_order_created(entry: dict[str, Any]) -> str | None:
        if entry["DetailType"] == contract.ORDER_CREATED and not refused:
            refused.append(entry["Detail"])
            return "InternalFailure"
        return None

    sandbox.dispatcher.put_events_fault = refuse_first_order_created
    # WHEN the order is posted
    first = post_order(sandbox, 301, 42)
    # THEN the client is told to retry (a JSON 5xx), and nothing went downstream
    assert 500 <= first.status < 600 and first.body["error"]
    assert sandbox.wait_idle(10)
    assert executions(sandbox) == []
    # WHEN the client retries the same request
    second = post_order(sandbox, 301, 42)
    # THEN the order is accepted and completes, with exactly one payment execution
    assert second.status == 200, second.body
    assert sandbox.wait_idle(30)
    assert get_order(sandbox, 301).body["status"] == contract.ORDER_COMPLETED
    assert len(executions(sandbox)) == 1
    assert len(refused) == 1


def test_a_handler_that_always_raises_is_retried_then_parked_in_its_on_failure_queue(sandbox: Sandbox) -> None:
    # GIVEN update-order raises on every invocation
    update_order = _function_named(sandbox, "handlers.update_order.handler")
    fault, calls = _failing(10**6, lambda: RuntimeError("injected: table unavailable"))
    sandbox.functions.faults[update_order] = fault
    # WHEN an order is placed
    assert post_order(sandbox, 302, 42).status == 201
    assert sandbox.wait_idle(60)
    # THEN Lambda tried it 1 + 2 times (its async retries), and the payment event is parked
    assert calls[0] == 3
    parked = dead_letters(sandbox, "order-service-filtering-payments")
    assert len(parked) == 1
    record = json.loads(parked[0]["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestPayload"]["detail-type"] == contract.PAYMENT_SUCCEEDED
    assert record["requestPayload"]["detail"] == {"id": 302}
    assert "injected" in record["responsePayload"]["errorMessage"]
    # AND the order, not final, is findable there: nothing was lost silently
    assert get_order(sandbox, 302).body["status"] == contract.ORDER_CREATED


def test_a_transient_handler_failure_is_healed_by_lambdas_retry(sandbox: Sandbox) -> None:
    # GIVEN the notification function fails its first two invocations only
    notification = _function_named(sandbox, "handlers.notification.handler")
    fault, calls = _failing(2, lambda: RuntimeError("injected: SNS throttled"))
    sandbox.functions.faults[notification] = fault
    # WHEN an order flows through
    assert post_order(sandbox, 303, 42).status == 201
    assert sandbox.wait_idle(60)
    # THEN every notification is eventually sent and nothing is parked
    assert sorted(m["subject"] for m in sandbox.outbox) == sorted(
        ["Order 303 created: amount 42.00", "Payment for order 303 succeeded", "Order 303 completed"]
    )
    assert calls[0] == 3 + 2
    assert dead_letters(sandbox, "notification-service") == []


def test_an_unreachable_target_is_retried_per_its_policy_then_dead_lettered(sandbox: Sandbox) -> None:
    # GIVEN the payment state machine cannot be reached
    machine = sandbox.outputs["payment_state_machine_arn"]
    fault, calls = _failing(10**6, lambda: DeliveryError("ServiceUnavailable", "injected: states unreachable"))
    sandbox.dispatcher.target_faults[machine] = fault
    declared = next(t for t in sandbox.program.of_type("aws:cloudwatch/eventTarget:EventTarget") if t["arn"] == machine)
    retries = int(declared["retryPolicy"]["maximumRetryAttempts"])
    # WHEN an order is placed
    assert post_order(sandbox, 304, 42).status == 201
    assert sandbox.wait_idle(60)
    # THEN EventBridge tried 1 + the declared retries, then parked the event in the rule's DLQ
    assert calls[0] == 1 + retries
    parked = dead_letters(sandbox, "payment-service-filtering-orders")
    assert len(parked) == 1
    assert json.loads(parked[0]["Body"])["detail"] == {"id": 304, "amount": 42}
    attributes = {k: v["StringValue"] for k, v in parked[0]["MessageAttributes"].items()}
    assert attributes["ERROR_CODE"] == "ServiceUnavailable"
    assert attributes["TARGET_ARN"] == machine
    rule = next(
        r
        for r in sandbox.program.of_type("aws:cloudwatch/eventRule:EventRule")
        if r.name.startswith("payment-service-filtering-orders")
    )
    assert attributes["RULE_ARN"] == rule["arn"]
    # AND the order stays OrderCreated, its OrderCreated event still logged and notified
    assert get_order(sandbox, 304).body["status"] == contract.ORDER_CREATED
    assert [e["detail-type"] for e in catch_all_events(sandbox)] == [contract.ORDER_CREATED]
    assert executions(sandbox) == []


def test_a_transiently_unreachable_target_is_delivered_by_a_retry(sandbox: Sandbox) -> None:
    # GIVEN the state machine is unreachable for the first two attempts
    machine = sandbox.outputs["payment_state_machine_arn"]
    fault, calls = _failing(2, lambda: DeliveryError("ServiceUnavailable", "injected"))
    sandbox.dispatcher.target_faults[machine] = fault
    # WHEN an order is placed
    assert post_order(sandbox, 305, 42).status == 201
    assert sandbox.wait_idle(60)
    # THEN the third attempt starts the payment and the order completes; nothing is parked
    assert calls[0] == 3
    assert get_order(sandbox, 305).body["status"] == contract.ORDER_COMPLETED
    assert dead_letters(sandbox, "payment-service-filtering-orders") == []


def test_every_accepted_order_is_final_or_findable_under_mixed_faults(sandbox: Sandbox) -> None:
    # GIVEN update-order fails once for every third order (ids divisible by 3), a transient fault
    # Lambda's asynchronous retry gets past, and forever for order ids ending in 7
    update_order = _function_named(sandbox, "handlers.update_order.handler")
    attempts: Counter[int] = Counter()
    lock = threading.Lock()

    def flaky(event: dict[str, Any]) -> None:
        order_id = event["detail"]["id"]
        with lock:
            attempts[order_id] += 1
            first = attempts[order_id] == 1
        if order_id % 10 == 7:
            raise RuntimeError("injected: poison order")
        if order_id % 3 == 0 and first:
            raise RuntimeError("injected: transient failure")

    sandbox.functions.faults[update_order] = flaky
    # WHEN 15 orders are placed (one poison order, five transient failures)
    ids = list(range(400, 415))
    for order_id in ids:
        assert post_order(sandbox, order_id, 42).status == 201
    assert sandbox.wait_idle(90)
    # THEN every order is either completed, or its payment event is in update-order's DLQ
    parked = {
        json.loads(m["Body"])["requestPayload"]["detail"]["id"]
        for m in dead_letters(sandbox, "order-service-filtering-payments")
    }
    final = {i for i in ids if get_order(sandbox, i).body["status"] == contract.ORDER_COMPLETED}
    poison = {i for i in ids if i % 10 == 7}
    transient = {i for i in ids if i % 3 == 0} - poison
    assert parked == poison
    assert final | parked == set(ids)
    assert not final & parked
    # AND each transiently failed order was completed by its second attempt
    assert {i: attempts[i] for i in transient} == dict.fromkeys(transient, 2)
    assert transient <= final
