"""Faults injected at the seams: retries happen, then events land in dead-letter queues; nothing is lost.

The seams are the sandbox's, not the handlers': a PutEvents entry refused by the bus, a function
that raises, a target that cannot be reached, create-order dying right after its write. No client
retries anything: the order events come from the table's stream, so every stored order must end in
a final status or be findable in a dead-letter queue.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from moto.dynamodb.models import dynamodb_backends
from sandbox_testkit import catch_all_events, dead_letters, executions, get_order, post_order

from handlers import contract, order_store
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


def _events_of(sandbox: Sandbox, order_id: int) -> list[str]:
    """The detail-types the catch-all logged for one order, in the order they were put."""
    return [e["detail-type"] for e in catch_all_events(sandbox) if e["detail"].get("id") == order_id]


def _refusing(detail_types: set[str], times: int) -> tuple[Callable[[dict[str, Any]], str | None], Counter[str]]:
    """A PutEvents fault refusing the first ``times`` entries of each of ``detail_types``."""
    refused: Counter[str] = Counter()
    lock = threading.Lock()

    def fault(entry: dict[str, Any]) -> str | None:
        with lock:
            if entry["DetailType"] in detail_types and refused[entry["DetailType"]] < times:
                refused[entry["DetailType"]] += 1
                return "InternalFailure"
        return None

    return fault, refused


def test_a_transiently_refused_publish_is_retried_from_the_stream_and_each_change_goes_out_once(
    sandbox: Sandbox,
) -> None:
    # GIVEN the bus refuses the first OrderCreated and the first OrderCompleted put on it
    fault, refused = _refusing({contract.ORDER_CREATED, contract.ORDER_COMPLETED}, times=1)
    sandbox.dispatcher.put_events_fault = fault
    # WHEN an order is posted, once: no client retries anything
    assert post_order(sandbox, 301, 42).status == 201
    assert sandbox.wait_idle(30)
    # THEN the outbox's retries published each state change exactly once, in order, and the order
    # completed with one payment execution; nothing is parked
    assert refused == {contract.ORDER_CREATED: 1, contract.ORDER_COMPLETED: 1}
    assert _events_of(sandbox, 301) == [contract.ORDER_CREATED, contract.PAYMENT_SUCCEEDED, contract.ORDER_COMPLETED]
    assert get_order(sandbox, 301).body["status"] == contract.ORDER_COMPLETED
    assert len(executions(sandbox)) == 1
    assert dead_letters(sandbox, "orders-outbox-dlq") == []


def test_a_publish_refused_for_good_parks_the_stream_batch_in_the_outbox_queue_whose_alarm_exists(
    sandbox: Sandbox,
) -> None:
    # GIVEN the bus refuses every OrderCreated
    fault, refused = _refusing({contract.ORDER_CREATED}, times=10**6)
    sandbox.dispatcher.put_events_fault = fault
    (mapping,) = sandbox.program.of_type("aws:lambda/eventSourceMapping:EventSourceMapping")
    # WHEN an order is posted
    assert post_order(sandbox, 310, 42).status == 201
    assert sandbox.wait_idle(60)
    # THEN Lambda invoked the publisher 1 + the declared retries times, then sent the batch's
    # description (not the record: AWS sends a stream's on-failure destination the shard and
    # sequence numbers) to the outbox's queue
    assert refused[contract.ORDER_CREATED] == 1 + int(mapping["maximumRetryAttempts"])
    (parked,) = dead_letters(sandbox, "orders-outbox-dlq")
    record = json.loads(parked["Body"])
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 1 + int(mapping["maximumRetryAttempts"])
    batch = record["DDBStreamBatchInfo"]
    assert batch["streamArn"] == mapping["eventSourceArn"] and batch["batchSize"] == 1
    # AND those sequence numbers name the order's INSERT on the table's stream (readable for 24 h)
    shard = dynamodb_backends[sandbox.program.account_id][sandbox.program.region].get_table(
        sandbox.outputs["orders_table_name"]
    )
    (written,) = [r.to_json() for r in shard.stream_shard.items if r.to_json()["dynamodb"]["Keys"]["id"]["N"] == "310"]
    assert batch["startSequenceNumber"] == batch["endSequenceNumber"] == written["dynamodb"]["SequenceNumber"]
    assert written["eventName"] == "INSERT"
    # AND the order stays OrderCreated with no execution, and Operations alarms on that queue
    assert get_order(sandbox, 310).body["status"] == contract.ORDER_CREATED
    assert executions(sandbox) == []
    queue = sandbox.program.by_arn(mapping["destinationConfig"]["onFailure"]["destinationArn"])
    alarms = [
        a
        for a in sandbox.program.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if a.get("dimensions") == {"QueueName": queue["name"]}
    ]
    assert [a["alarmActions"] for a in alarms] == [[sandbox.outputs["ops_topic_arn"]]]


@pytest.mark.parametrize("kill", ["exception", "timeout"])
def test_create_order_killed_right_after_its_write_still_reaches_a_final_status(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, kill: str
) -> None:
    # GIVEN create-order dies right after its write: an exception, or a run past its timeout
    create_order = next(f for f in sandbox.functions.functions.values() if f.handler.startswith("handlers.create_"))
    real_put = order_store.put_new_order

    def put_then_die(*args: Any, **kwargs: Any) -> bool:
        real_put(*args, **kwargs)
        if kill == "timeout":
            time.sleep(0.6)
            return True
        raise RuntimeError("injected: killed after the write")

    monkeypatch.setattr(order_store, "put_new_order", put_then_die)
    if kill == "timeout":
        monkeypatch.setitem(sandbox._api.function_timeouts, create_order.arn, 0.3)  # pyrefly: ignore[missing-attribute]
    # WHEN an order is posted, once
    answer = post_order(sandbox, 320, 600)
    # THEN the client got an error, not the order, yet the stored order was announced by the
    # table's stream and reached its final status without any retry
    assert answer.status >= 500
    assert sandbox.wait_idle(30)
    assert get_order(sandbox, 320).body["status"] == contract.ORDER_CANCELLED
    assert _events_of(sandbox, 320) == [contract.ORDER_CREATED, contract.PAYMENT_FAILED, contract.ORDER_CANCELLED]


def test_a_mixed_fault_run_of_concurrent_orders_strands_none(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN every fault at once, all transient: the bus refuses the first two entries of each order
    # event, update-order fails the first attempt of every third order, and create-order dies
    # after the write of every fifth
    fault, refused = _refusing({contract.ORDER_CREATED, contract.ORDER_COMPLETED, contract.ORDER_CANCELLED}, 2)
    sandbox.dispatcher.put_events_fault = fault
    attempts: Counter[int] = Counter()
    lock = threading.Lock()

    def flaky(event: dict[str, Any]) -> None:
        with lock:
            attempts[event["detail"]["id"]] += 1
            first = attempts[event["detail"]["id"]] == 1
        if event["detail"]["id"] % 3 == 0 and first:
            raise RuntimeError("injected: transient failure")

    sandbox.functions.faults[_function_named(sandbox, "handlers.update_order.handler")] = flaky
    real_put = order_store.put_new_order

    def put_then_maybe_die(client: Any, table: str, order: Any) -> bool:
        created = real_put(client, table, order)
        if order.id % 5 == 0:
            raise RuntimeError("injected: killed after the write")
        return created

    monkeypatch.setattr(order_store, "put_new_order", put_then_maybe_die)
    # WHEN 16 orders, half above the fraud threshold, are posted concurrently, once each
    ids = list(range(500, 516))
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda i: post_order(sandbox, i, 600 if i % 2 else 42), ids))
    assert sandbox.wait_idle(90)
    # THEN no order is stranded: each is final, announced once per change, and nothing is parked
    expected = {i: contract.ORDER_CANCELLED if i % 2 else contract.ORDER_COMPLETED for i in ids}
    assert {i: get_order(sandbox, i).body["status"] for i in ids} == expected
    for i in ids:
        payment = contract.PAYMENT_FAILED if i % 2 else contract.PAYMENT_SUCCEEDED
        assert _events_of(sandbox, i) == [contract.ORDER_CREATED, payment, expected[i]], i
    assert sum(refused.values()) == 6
    assert [a.status for a in answers].count(201) == len([i for i in ids if i % 5])
    assert dead_letters(sandbox, "orders-outbox-dlq") == []
    assert dead_letters(sandbox, "order-service-filtering-payments") == []


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
