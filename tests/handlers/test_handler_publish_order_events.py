"""publish-order-events against moto: the stream's records in, order events on the bus, partial failures out."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from handler_testkit import FakeAws, LambdaContext, post_event

from handlers import contract, order_stream


@pytest.fixture
def publisher(load_handler: Callable[[str], ModuleType]) -> ModuleType:
    return load_handler("publish_order_events")


def _three_new_orders(load_handler: Callable[[str], ModuleType], aws: FakeAws, ctx: LambdaContext) -> list[Any]:
    create_order = load_handler("create_order")
    for order_id in (1, 2, 3):
        assert create_order.handler(post_event(f'{{"id": {order_id}, "amount": 10}}'), ctx)["statusCode"] == 201
    return aws.stream_records()


def test_a_failed_put_stops_the_batch_and_reports_it_and_every_later_record(
    load_handler: Callable[[str], ModuleType],
    publisher: ModuleType,
    aws: FakeAws,
    lambda_context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN three new orders on the stream, and EventBridge refusing the second PutEvents
    records = _three_new_orders(load_handler, aws, lambda_context)
    real_put, calls = publisher.events.put_events, []

    def put_events(**kwargs: Any) -> dict[str, Any]:
        calls.append(kwargs)
        if len(calls) == 2:
            return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "x"}]}
        return real_put(**kwargs)

    monkeypatch.setattr(publisher.events, "put_events", put_events)
    # WHEN the batch is handed to the function
    response = publisher.handler({"Records": records}, lambda_context)
    # THEN the first order's event went out, the third was not tried, and the second and third are
    # reported, so Lambda retries from the second in order and the first is not published twice
    assert [e["detail"]["id"] for e in aws.published_events()] == [1]
    assert len(calls) == 2
    assert response == {"batchItemFailures": [{"itemIdentifier": order_stream.sequence_number(r)} for r in records[1:]]}
    # WHEN Lambda retries from the checkpoint with EventBridge recovered
    monkeypatch.undo()
    retried = publisher.handler({"Records": records[1:]}, lambda_context)
    # THEN the rest is published once each, in order
    assert retried == {"batchItemFailures": []}
    assert [e["detail"]["id"] for e in aws.published_events()] == [2, 3]


def test_changes_that_are_no_order_event_are_skipped_and_a_malformed_one_is_reported(
    load_handler: Callable[[str], ModuleType], publisher: ModuleType, aws: FakeAws, lambda_context: LambdaContext
) -> None:
    # GIVEN a new order, its deletion (no order event), and a record whose image is no order
    (created,) = _three_new_orders(load_handler, aws, lambda_context)[:1]
    aws.dynamodb.delete_item(TableName="orders-test", Key={"id": {"N": "1"}})
    removed = next(
        r for r in aws.stream_records() if r["eventName"] == "REMOVE" and r["dynamodb"]["Keys"]["id"]["N"] == "1"
    )
    malformed = {**created, "dynamodb": {**created["dynamodb"], "NewImage": {"id": {"N": "9"}}}}
    # WHEN they arrive in one batch
    response = publisher.handler({"Records": [created, removed, malformed]}, lambda_context)
    # THEN the order event goes out, the deletion publishes nothing, and the malformed record is
    # reported (retried, then dead-lettered by the mapping), never dropped silently
    assert [(e["detail-type"], e["detail"]["id"]) for e in aws.published_events()] == [(contract.ORDER_CREATED, 1)]
    assert response == {"batchItemFailures": [{"itemIdentifier": order_stream.sequence_number(malformed)}]}
