"""The orders table's stream as the sandbox writes it, and the mapping's filter and checkpoint rules.

Records are checked against the AWS format (the DynamoDB Streams ``StreamRecord`` and the Lambda
event for DynamoDB), where moto's own differ; the filter against EventBridge pattern semantics as
Lambda applies them to a record; the partial-batch checkpoint against Lambda's documented rules.
"""

from __future__ import annotations

import dataclasses
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from moto.dynamodb.models import UpdateExpressionExecutor, dynamodb_backends
from sandbox_testkit import dead_letters, post_order

from handlers import contract, order_store, order_stream, orders, validation
from sandbox.delivery.rules import DeliveryError
from sandbox.delivery.stream import ChangeRecord
from sandbox.delivery.stream_mapping import checkpoint, declared_mappings, passes_filters
from sandbox.runtime import Sandbox


def _records(sandbox: Sandbox, order_id: int) -> list[dict[str, Any]]:
    table = dynamodb_backends[sandbox.program.account_id][sandbox.program.region].get_table(
        sandbox.outputs["orders_table_name"]
    )
    return [
        r.to_json() for r in table.stream_shard.items if r.to_json()["dynamodb"]["Keys"]["id"]["N"] == str(order_id)
    ]


def test_each_change_of_an_order_is_one_record_in_the_aws_format_and_a_no_op_write_is_none(sandbox: Sandbox) -> None:
    # GIVEN an order that went all the way
    assert post_order(sandbox, 601, 42).status == 201
    assert sandbox.wait_idle(30)
    # WHEN its item is written again unchanged (a PutItem that changes no data)
    item = sandbox.client("dynamodb").get_item(
        TableName=sandbox.outputs["orders_table_name"], Key={"id": {"N": "601"}}, ConsistentRead=True
    )["Item"]
    sandbox.client("dynamodb").put_item(TableName=sandbox.outputs["orders_table_name"], Item=item)
    # THEN the stream holds two records, insert then the move to OrderCompleted, none for the no-op
    inserted, completed = _records(sandbox, 601)
    assert (inserted["eventName"], completed["eventName"]) == ("INSERT", "MODIFY")
    assert int(inserted["dynamodb"]["SequenceNumber"]) < int(completed["dynamodb"]["SequenceNumber"])
    # AND each is the record AWS writes: version 1.1, the table's region, seconds since the epoch,
    # the keys, both images where there are two, and the view type
    assert inserted["eventVersion"] == "1.1" and inserted["eventSource"] == "aws:dynamodb"
    assert inserted["awsRegion"] == sandbox.program.region
    assert isinstance(inserted["dynamodb"]["ApproximateCreationDateTime"], int)
    assert inserted["dynamodb"]["Keys"] == {"id": {"N": "601"}}
    assert "OldImage" not in inserted["dynamodb"] and inserted["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert completed["dynamodb"]["OldImage"]["status"] == {"S": contract.ORDER_CREATED}
    assert completed["dynamodb"]["NewImage"]["status"] == {"S": contract.ORDER_COMPLETED}
    assert completed["dynamodb"]["NewImage"] == item


def _record(name: str, old: str | None, new: str | None) -> dict[str, Any]:
    def image(status: str) -> dict[str, Any]:
        order = orders.Order(7, orders.Decimal("500.01"), status, "t0", "t1")
        return orders.order_to_item(order)

    data: dict[str, Any] = {"Keys": {"id": {"N": "7"}}, "SequenceNumber": "100", "StreamViewType": "NEW_AND_OLD_IMAGES"}
    if old:
        data["OldImage"] = image(old)
    if new:
        data["NewImage"] = image(new)
    return {"eventName": name, "eventVersion": "1.1", "eventSource": "aws:dynamodb", "dynamodb": data}


CHANGES = {
    "new order": ("INSERT", None, contract.ORDER_CREATED),
    "completed": ("MODIFY", contract.ORDER_CREATED, contract.ORDER_COMPLETED),
    "cancelled": ("MODIFY", contract.ORDER_CREATED, contract.ORDER_CANCELLED),
    "rewritten, still created": ("MODIFY", contract.ORDER_CREATED, contract.ORDER_CREATED),
    "final rewritten": ("MODIFY", contract.ORDER_COMPLETED, contract.ORDER_COMPLETED),
    "deleted": ("REMOVE", contract.ORDER_CREATED, None),
    "inserted final": ("INSERT", None, contract.ORDER_COMPLETED),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_the_declared_filter_passes_exactly_the_changes_the_publisher_makes_an_event_of(
    dev_program: Any, change: str
) -> None:
    # GIVEN the mapping's filter as the program declares it, and one kind of change of an order
    (mapping,) = declared_mappings(dev_program)
    record = _record(*CHANGES[change])
    # WHEN Lambda's filter (EventBridge pattern semantics on the record) and the publisher's core read it
    passed = passes_filters(mapping.filters, record)
    event = order_stream.order_event(record)
    # THEN the filter lets through exactly what becomes an event, so no invocation is wasted and none missed
    assert passed == (event is not None)
    assert passed == (change in ("new order", "completed", "cancelled"))


def _batch(*numbers: str) -> list[ChangeRecord]:
    return [ChangeRecord("arn", 0, {"dynamodb": {"SequenceNumber": n}}, 0.0) for n in numbers]


@pytest.mark.parametrize(
    ("response", "done"),
    [
        ({"batchItemFailures": []}, 3),
        (None, 3),
        ({"batchItemFailures": [{"itemIdentifier": "12"}, {"itemIdentifier": "11"}]}, 1),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, None),
        ({"batchItemFailures": [{"itemIdentifier": None}]}, None),
        ({"batchItemFailures": [{"itemIdentifier": "99"}]}, None),
    ],
    ids=["empty list", "null response", "lowest is the checkpoint", "empty id", "null id", "unknown id"],
)
def test_a_partial_batch_response_checkpoints_at_its_lowest_failure(response: Any, done: int | None) -> None:
    # GIVEN a batch of three records  WHEN the function answers  THEN Lambda's documented checkpoint
    assert checkpoint(response, _batch("10", "11", "12")) == done


def test_concurrent_conditional_updates_of_one_order_succeed_once_and_stream_once(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an OrderCreated order whose payment is stopped (so only this test moves it), and moto
    # taking its time between checking a condition and applying the update
    real_execute = UpdateExpressionExecutor.execute

    def slow_execute(executor: UpdateExpressionExecutor, *args: Any) -> None:
        time.sleep(0.02)
        real_execute(executor, *args)

    monkeypatch.setattr(UpdateExpressionExecutor, "execute", slow_execute)

    def unreachable(event: dict[str, Any]) -> None:
        raise DeliveryError("ServiceUnavailable", "injected: payments stopped")

    sandbox.dispatcher.target_faults[sandbox.outputs["payment_state_machine_arn"]] = unreachable
    table = sandbox.outputs["orders_table_name"]
    order = orders.new_order(validation.validate_order({"id": 602, "amount": 1}), orders.utc_now())
    sandbox.client("dynamodb").put_item(TableName=table, Item=orders.order_to_item(order))
    assert sandbox.wait_idle(30)
    records_before = len(_records(sandbox, 602))

    # WHEN eight clients move it from OrderCreated to OrderCompleted at once, with the same condition
    def move(_: int) -> bool:
        try:
            order_store.transition_from_created(
                sandbox.client("dynamodb"), table, 602, contract.ORDER_COMPLETED, orders.utc_now()
            )
        except order_store.StoreError:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(move, range(8)))
    assert sandbox.wait_idle(30)
    # THEN, as DynamoDB's conditional writes are atomic, exactly one moved it: one more record
    moved = _records(sandbox, 602)[records_before:]
    assert [r["dynamodb"]["OldImage"]["status"]["S"] for r in moved] == [contract.ORDER_CREATED]


def test_a_record_older_than_the_maximum_age_is_given_up_before_the_retries_run_out(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the mapping with a 60 s maximum record age and retries enough to outlast it, and a bus
    # refusing every OrderCreated
    (mapping,) = sandbox.mappings.mappings
    changed = dataclasses.replace(mapping, maximum_record_age_seconds=60, maximum_retry_attempts=10_000)
    monkeypatch.setattr(sandbox.mappings, "mappings", [changed])
    sandbox.dispatcher.put_events_fault = lambda entry: (
        "InternalFailure" if entry["DetailType"] == "OrderCreated" else None
    )
    # WHEN an order is posted
    assert post_order(sandbox, 603, 1).status == 201
    assert sandbox.wait_idle(30)
    # THEN its record was given up for its age (scaled like every delay), far before 10,000 retries
    (parked,) = dead_letters(sandbox, "orders-outbox-dlq")
    record = json.loads(parked["Body"])
    assert record["requestContext"]["condition"] == "RecordAgeExceeded"
    assert 1 <= record["requestContext"]["approximateInvokeCount"] < 100


def test_a_reset_forgets_the_shards_so_the_next_test_reads_with_the_declared_mapping(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a shard made while the mapping was changed (no retries at all), as a test may change it
    (mapping,) = sandbox.mappings.mappings
    monkeypatch.setattr(sandbox.mappings, "mappings", [dataclasses.replace(mapping, maximum_retry_attempts=0)])
    assert post_order(sandbox, 604, 1).status == 201
    assert sandbox.wait_idle(30)
    assert {shard.mapping.maximum_retry_attempts for shard in sandbox.mappings._shards.values()} == {0}
    # WHEN the mapping is the declared one again and the sandbox is reset
    monkeypatch.undo()
    sandbox.reset()
    # THEN no shard is left, so the next record makes one of the declared mapping (a fresh start's)
    assert sandbox.mappings._shards == {}
    assert post_order(sandbox, 605, 1).status == 201
    assert sandbox.wait_idle(30)
    shards = list(sandbox.mappings._shards.values())
    assert shards and all(shard.mapping == mapping for shard in shards)
