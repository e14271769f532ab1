"""OrderOutbox: the orders table's stream, published to the bus (the transactional outbox).

orders table ─stream (NEW_AND_OLD_IMAGES)─▶ event source mapping (filter, batches, retries)
    ─▶ publish-order-events λ ─PutEvents─▶ bus (OrderCreated, OrderCompleted, OrderCancelled)
                       └─ a batch that still fails ─▶ on-failure queue ─▶ alarm

The handlers write the table only; every order event comes from that one write, so no crash
between a write and a publish can strand an order. A stream-consumer function rather than an
EventBridge Pipe: a Pipe's input template renders a string value as a JSON string (AWS's example
turns ``<$.detail.instance-id>`` into ``"i-0123456789"``), and the stream holds numbers as strings
(``{"N": "100"}``), so a Pipe would put ``"amount": "100"`` on the bus where the contract says a
number (README, "The outbox").
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import policies, settings
from components.event_bus import DEAD_LETTER_RETENTION_SECONDS, EventBus
from components.lambda_function import LambdaFunction, LambdaFunctionArgs
from components.watchlist import StreamConsumer
from handlers import contract

TYPE = "eda-demo:components:OrderOutbox"
#: Both images: the filter and the publisher tell a move to a final status from the old status.
STREAM_VIEW_TYPE = "NEW_AND_OLD_IMAGES"


@dataclass(frozen=True)
class StreamPolicy:
    """How Lambda reads the stream: batches, retries and how long a record may wait.

    A failing batch blocks its shard (records stay in order), so retries and age are bounded:
    after ``maximum_retry_attempts`` retries or ``maximum_record_age_in_seconds`` (far below the
    stream's 24-hour retention, so the records the on-failure message names are still readable)
    the batch goes to the on-failure queue and the shard moves on.
    """

    batch_size: int = 10
    maximum_retry_attempts: int = 8
    maximum_record_age_in_seconds: int = 3600
    bisect_batch_on_function_error: bool = True

    def __post_init__(self) -> None:
        """Refuse values Lambda refuses, or that would outlive the stream's retention, naming the field."""
        if not 1 <= self.batch_size <= 10000:
            raise ValueError("StreamPolicy.batch_size must be 1 to 10000")
        if not 0 <= self.maximum_retry_attempts <= 10000:
            raise ValueError("StreamPolicy.maximum_retry_attempts must be 0 to 10000 (-1, forever, is refused)")
        if not 60 <= self.maximum_record_age_in_seconds < 24 * 3600:
            raise ValueError("StreamPolicy.maximum_record_age_in_seconds must be 60 to 86399 (below 24 h retention)")


DEFAULT_STREAM_POLICY = StreamPolicy()


@dataclass
class OrderOutboxArgs:
    """Inputs of :class:`OrderOutbox`."""

    stack: str
    table: aws.dynamodb.Table
    bus: EventBus
    layer_arn: pulumi.Input[str]
    log_retention_days: int = settings.DEFAULT_LOG_RETENTION_DAYS
    stream_policy: StreamPolicy = DEFAULT_STREAM_POLICY


class OrderOutbox(pulumi.ComponentResource):
    """publish-order-events, its stream mapping and its on-failure queue."""

    function_name: pulumi.Output[str]
    """Physical name of publish-order-events."""
    queue_url: pulumi.Output[str]
    """The on-failure queue of the stream mapping."""

    def __init__(self, name: str, args: OrderOutboxArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        """Create the queue, the function and the mapping, and put them on the bus's watchlist."""
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.failed_batches = aws.sqs.Queue(
            f"{name}-dlq",
            sqs_managed_sse_enabled=True,
            message_retention_seconds=DEAD_LETTER_RETENTION_SECONDS,
            opts=child,
        )
        self.publisher = self._publisher(name, args)
        self.mapping = self._mapping(name, args)
        args.bus.watchlist.add_stream_consumer(
            StreamConsumer(
                name=name, mapping=self.mapping, function=self.publisher, dead_letter_queue=self.failed_batches
            )
        )
        self.function_name = self.publisher.function_name
        self.queue_url = self.failed_batches.url
        self.register_outputs({"function_name": self.function_name, "queue_url": self.queue_url})

    def _publisher(self, name: str, args: OrderOutboxArgs) -> LambdaFunction:
        table, bus, queue = args.table, args.bus, self.failed_batches
        return LambdaFunction(
            f"{name}-publish-order-events",
            LambdaFunctionArgs(
                stack=args.stack,
                short_name="publish-order-events",
                handler="handlers.publish_order_events.handler",
                description="Publishes the orders table's changes as order events (the outbox)",
                service=contract.ORDER_SERVICE,
                environment={contract.ENV_EVENT_BUS: bus.bus_name},
                policy=lambda log_arn: pulumi.Output.all(table.stream_arn, bus.bus_arn, queue.arn).apply(
                    lambda arns: policies.publish_order_events_policy(arns[0], arns[1], arns[2], log_arn)
                ),
                layer_arn=args.layer_arn,
                watchlist=bus.watchlist,
                log_retention_days=args.log_retention_days,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _mapping(self, name: str, args: OrderOutboxArgs) -> aws.lambda_.EventSourceMapping:
        """From the oldest record (none is skipped), filtered, with partial batch responses."""
        policy = args.stream_policy
        return aws.lambda_.EventSourceMapping(
            f"{name}-stream",
            event_source_arn=args.table.stream_arn,
            function_name=self.publisher.function_arn,
            starting_position="TRIM_HORIZON",
            batch_size=policy.batch_size,
            maximum_batching_window_in_seconds=0,
            parallelization_factor=1,
            bisect_batch_on_function_error=policy.bisect_batch_on_function_error,
            maximum_retry_attempts=policy.maximum_retry_attempts,
            maximum_record_age_in_seconds=policy.maximum_record_age_in_seconds,
            function_response_types=["ReportBatchItemFailures"],
            filter_criteria=aws.lambda_.EventSourceMappingFilterCriteriaArgs(
                filters=[
                    aws.lambda_.EventSourceMappingFilterCriteriaFilterArgs(pattern=json.dumps(pattern))
                    for pattern in contract.order_stream_filter_patterns()
                ]
            ),
            destination_config=aws.lambda_.EventSourceMappingDestinationConfigArgs(
                on_failure=aws.lambda_.EventSourceMappingDestinationConfigOnFailureArgs(
                    destination_arn=self.failed_batches.arn
                )
            ),
            # The role must allow the stream reads before Lambda validates the mapping.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.publisher.role_policy]),
        )
