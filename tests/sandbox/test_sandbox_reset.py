"""``Sandbox.reset``: the services orders change are back as the deploy left them, every time.

The reset restores a snapshot of moto's backends taken right after the deploy
(:mod:`sandbox.aws.snapshot`); these tests hold it to "the state right after start", and the copy
to the two rules a plain deep copy breaks (synchronisation objects, other services' objects).
"""

from __future__ import annotations

import threading
from typing import Any

from moto.awslambda.models import lambda_backends
from moto.core.base_backend import BaseBackend
from moto.dynamodb.models import dynamodb_backends
from moto.sqs.models import sqs_backends
from sandbox_testkit import catch_all_events, dead_letters, executions, post_order, table_items

from sandbox.aws.snapshot import fresh_copy
from sandbox.delivery.rules import DeliveryError
from sandbox.runtime import Sandbox


def _unreachable(event: dict[str, Any]) -> None:
    raise DeliveryError("ServiceUnavailable", "injected: states unreachable")


def _deployed(sandbox: Sandbox) -> dict[str, Any]:
    """What the deploy made, as the stack's users read it through the endpoint."""
    sqs, events, logs = sandbox.client("sqs"), sandbox.client("events"), sandbox.client("logs")
    bus = sandbox.outputs["event_bus_name"]
    rules = events.list_rules(EventBusName=bus)["Rules"]
    machine = sandbox.client("stepfunctions").describe_state_machine(
        stateMachineArn=sandbox.outputs["payment_state_machine_arn"]
    )
    return {
        "table": sandbox.client("dynamodb").describe_table(TableName=sandbox.outputs["orders_table_name"])["Table"],
        "queues": {
            url: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            for url in sqs.list_queues()["QueueUrls"]
        },
        "rules": rules,
        "targets": {r["Name"]: events.list_targets_by_rule(Rule=r["Name"], EventBusName=bus)["Targets"] for r in rules},
        "archives": events.list_archives()["Archives"],
        "log_groups": logs.describe_log_groups()["logGroups"],
        "state_machine": {k: machine[k] for k in ("name", "definition", "roleArn", "type", "loggingConfiguration")},
    }


def test_a_reset_after_orders_and_a_dead_letter_gives_back_the_deployed_stack_empty(sandbox: Sandbox) -> None:
    # GIVEN the stack as the start left it
    deployed = _deployed(sandbox)
    # AND orders that wrote items, events, log lines, executions, and a dead-lettered delivery
    sandbox.dispatcher.target_faults[sandbox.outputs["payment_state_machine_arn"]] = _unreachable
    assert post_order(sandbox, 701, 42).status == 201
    assert post_order(sandbox, 702, 900).status == 201
    assert sandbox.wait_idle(30)
    assert table_items(sandbox) and catch_all_events(sandbox)
    assert dead_letters(sandbox, "payment-service-filtering-orders")
    for _ in range(2):
        # WHEN the sandbox is reset (twice: the second restores from an untouched snapshot too)
        sandbox.reset()
        # THEN nothing any order changed is left
        assert table_items(sandbox) == [] and catch_all_events(sandbox) == [] and executions(sandbox) == []
        assert dead_letters(sandbox, "payment-service-filtering-orders") == []
        # AND every resource is there exactly as deployed (names, keys, stream, attributes, rules,
        # targets, retention, definition)
        assert _deployed(sandbox) == deployed
        # AND an order goes all the way again (the fault went with the reset)
        assert post_order(sandbox, 703, 42).status == 201
        assert sandbox.wait_idle(30)
        assert {item["status"]["S"] for item in table_items(sandbox)} == {"OrderCompleted"}
        assert len(executions(sandbox)) == 1


def test_a_restored_queue_wakes_a_long_poll_and_the_table_keeps_the_live_stream_mapping(sandbox: Sandbox) -> None:
    # GIVEN a reset sandbox
    sandbox.reset()
    sqs = sandbox.client("sqs")
    url = sqs.get_queue_url(QueueName=next(iter(sqs_backends[sandbox.program.account_id]["us-east-1"].queues)))[
        "QueueUrl"
    ]
    received: list[Any] = []
    # WHEN a consumer long-polls a queue and a message is sent meanwhile
    poll = threading.Thread(
        target=lambda: received.extend(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5).get("Messages", []))
    )
    poll.start()
    sqs.send_message(QueueUrl=url, MessageBody="after the reset")
    poll.join(10)
    # THEN the poll got it (the queue's condition is a working one of its own)
    assert [m["Body"] for m in received] == ["after the reset"]
    # AND the table's event source mapping is the Lambda backend's own object, not a copy of it
    table = dynamodb_backends[sandbox.program.account_id][sandbox.program.region].get_table(
        sandbox.outputs["orders_table_name"]
    )
    lambdas = lambda_backends[sandbox.program.account_id][sandbox.program.region]
    (mapping,) = table.lambda_event_source_mappings.values()
    assert any(mapping is live for live in lambdas._event_source_mappings.values())


class _Backend(BaseBackend):
    pass


class _Thing:
    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


class _LambdaThing(_Thing):
    """Stands for an object of moto's Lambda service (its type's module says so)."""

    __module__ = "moto.awslambda.models"


def test_a_copy_has_fresh_locks_and_keeps_backends_and_other_services_objects() -> None:
    # GIVEN a backend's state holding a condition, a lock held by someone, a backend, and an object
    # of another moto service
    condition, lock = threading.Condition(), threading.Lock()
    lock.acquire()
    other_backend = _Backend("us-east-1", "123456789012")
    shared = _LambdaThing(function="arn:aws:lambda:us-east-1:123456789012:function:f")
    state = {"queue": _Thing(cond=condition, lock=lock, items=[1, 2]), "backend": other_backend, "esm": shared}
    try:
        # WHEN it is copied for the "sqs" service
        copied = fresh_copy(state, "sqs")
        # THEN its own objects are new, with new free synchronisation objects
        assert copied["queue"] is not state["queue"] and copied["queue"].items == [1, 2]
        assert copied["queue"].cond is not condition and copied["queue"].lock is not lock
        assert copied["queue"].lock.acquire(blocking=False)
        with copied["queue"].cond:
            copied["queue"].cond.notify_all()
        # AND backends and other services' objects are the live ones
        assert copied["backend"] is other_backend and copied["esm"] is shared
    finally:
        lock.release()
