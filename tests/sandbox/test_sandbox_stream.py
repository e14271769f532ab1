"""The orders table's stream as the sandbox writes it, and the mapping's filter and checkpoint rules.

Records are checked against the AWS format (the DynamoDB Streams ``StreamRecord`` and the Lambda
event for DynamoDB), where moto's own differ; the filter against EventBridge pattern semantics as
Lambda applies them to a record; the partial-batch checkpoint against Lambda's documented rules.
"""

from __future__ import annotations

from typing import Any

import pytest
from moto.dynamodb.models import dynamodb_backends
from sandbox_testkit import post_order

from handlers import contract, order_stream, orders
from sandbox.runtime import Sandbox
from sandbox.stream import ChangeRecord
from sandbox.stream_mapping import checkpoint, declared_mappings, passes_filters


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
