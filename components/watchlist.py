"""Watchlist: everything Operations must watch, registered by the components that create it.

The stack's :class:`~components.event_bus.EventBus` holds one. Every rule built through
:meth:`~components.event_bus.EventBus.subscribe` or :func:`~components.event_bus.subscribe_on`,
every :class:`~components.lambda_function.LambdaFunction` and every stream consumer
(:class:`~components.order_outbox.OrderOutbox`) adds itself, so a new service gets
its dead-letter, delivery and function alarms and its dashboard tiles without being listed a
second time. Operations closes the list when it reads it: a registration after that raises,
instead of leaving a consumer silently unwatched.

What is watched is defined here, not imported from the components that register: a
:class:`Subscription` (a rule, its target and its dead-letter queue) and, for a function, only
what Operations reads of it (:class:`WatchedFunction`). The watchlist depends on no component.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import pulumi
import pulumi_aws as aws


@dataclass
class Subscription:
    """A rule on a bus with its one target and that target's dead-letter queue."""

    name: str
    rule: aws.cloudwatch.EventRule
    target: aws.cloudwatch.EventTarget
    dead_letter_queue: aws.sqs.Queue
    #: The bus the rule is on (CloudWatch's ``EventBusName`` dimension), ``None`` for the default bus
    #: (whose rules publish their metrics with the rule name alone).
    bus_name: pulumi.Input[str] | None


class WatchedFunction(Protocol):
    """What Operations reads of a function (a :class:`~components.lambda_function.LambdaFunction`).

    A protocol, so the watchlist needs nothing from the components that register on it.
    """

    short_name: str
    function_name: pulumi.Output[str]


@dataclass(frozen=True)
class StreamConsumer:
    """A function reading a stream through an event source mapping, with its on-failure queue."""

    name: str
    mapping: aws.lambda_.EventSourceMapping
    function: WatchedFunction
    dead_letter_queue: aws.sqs.Queue


class WatchlistClosedError(RuntimeError):
    """A subscription or function was created after Operations read the watchlist."""


@dataclass
class Watchlist:
    """Subscriptions and functions of one stack, in the order they were created."""

    subscriptions: list[Subscription] = field(default_factory=list)
    functions: list[WatchedFunction] = field(default_factory=list)
    stream_consumers: list[StreamConsumer] = field(default_factory=list)
    #: Who closed it (the Operations component's name), or ``None`` while open.
    closed_by: str | None = None

    def add_subscription(self, subscription: Subscription) -> None:
        """Watch a rule, its target and its dead-letter queue."""
        self._check_open(f"rule {subscription.name!r}")
        self.subscriptions.append(subscription)

    def add_function(self, function: WatchedFunction) -> None:
        """Watch a function's errors and throttles."""
        self._check_open(f"function {function.short_name!r}")
        self.functions.append(function)

    def add_stream_consumer(self, consumer: StreamConsumer) -> None:
        """Watch a stream mapping's on-failure queue (its function registers itself)."""
        self._check_open(f"stream consumer {consumer.name!r}")
        self.stream_consumers.append(consumer)

    def close(self, by: str) -> None:
        """Refuse further registrations: ``by`` has read the list and built its alarms from it."""
        self.closed_by = by

    def _check_open(self, what: str) -> None:
        if self.closed_by is not None:
            raise WatchlistClosedError(
                f"{what} was created after Operations {self.closed_by!r} read the watchlist, so nothing "
                "would alarm on it: create every service before Operations"
            )
