"""publish-order-events: the orders table's stream to the bus (DynamoDB Streams event source mapping).

Each record of a batch becomes its order event (:mod:`handlers.order_stream`), put on the bus in
the order of the stream, one ``PutEvents`` per event. At the first record that cannot be
published the rest of the batch is not tried: the function answers that record and every later
one as ``batchItemFailures`` (the mapping's ``ReportBatchItemFailures``), so Lambda retries from
there, in order, and what was already published is not published again. Lambda "uses the record
with the lowest sequence number as the checkpoint" and retries from it
(https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html); the
mapping's retries, maximum record age and on-failure queue bound the rest.

Environment (required at import): the event bus.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from handlers import contract, order_events, order_stream

EVENT_BUS_NAME = os.environ[contract.ENV_EVENT_BUS]

logger = Logger()
events = boto3.client("events")


def publish_records(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Publish the event of each record in order; return the sequence numbers left unpublished."""
    for index, record in enumerate(records):
        try:
            event = order_stream.order_event(record)
            if event is None:
                logger.info("Not an order event", extra={"event_name": record.get("eventName")})
                continue
            order_events.publish_order_event(events, EVENT_BUS_NAME, event.detail_type, event.detail)
        except (order_events.PublishError, order_stream.MalformedRecordError):
            logger.exception("Could not publish; Lambda retries from this record", extra={"index": index})
            return [order_stream.sequence_number(r) for r in records[index:]]
        logger.info("Published", extra={"detail_type": event.detail_type, "order_id": event.detail.get("id")})
    return []


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point (``handlers.publish_order_events.handler``): a partial batch response."""
    failed = publish_records(event.get("Records") or [])
    return {"batchItemFailures": [{"itemIdentifier": number} for number in failed]}
