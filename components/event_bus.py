"""EventBus: the custom bus, its catch-all log, its archive, and the one way to subscribe to it.

Every rule on the bus is created through :meth:`EventBus.subscribe`, called by the service that
owns the rule's target, so the rule, its target, its retry policy and its dead-letter queue are
children of that service. The bus itself owns only the catch-all rule, which writes every event
to a log group EventBridge is allowed to write (the resource policy the console adds silently).
The archive and every rule on the bus depend on the bus's drain (:mod:`components.bus_drain`),
so ``pulumi destroy`` deletes them, waits until the bus lists no rule, then deletes the bus.
Rules on the account's default bus (AWS service events) are built by :func:`subscribe_on`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components import naming, policies, settings
from components.bus_drain import BusDrain
from components.watchlist import Subscription, Watchlist
from handlers import contract

TYPE = "eda-demo:components:EventBus"
#: The account's default bus: where AWS services (CloudWatch alarms among them) put their events.
DEFAULT_BUS = "default"
#: Dead-letter queues keep a message as long as SQS allows (14 days, its maximum).
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how often EventBridge retries a target before dead-lettering the event."""

    maximum_retry_attempts: int = 8
    maximum_event_age_in_seconds: int = 3600


DEFAULT_RETRY_POLICY = RetryPolicy()


@dataclass
class EventBusArgs:
    """Inputs of :class:`EventBus`."""

    stack: str
    log_retention_days: int = settings.DEFAULT_LOG_RETENTION_DAYS
    archive_retention_days: int = settings.DEFAULT_ARCHIVE_RETENTION_DAYS
    #: Retention of the catch-all event log, part of the audit trail (``None``: ``log_retention_days``).
    audit_log_retention_days: int | None = settings.DEFAULT_AUDIT_LOG_RETENTION_DAYS

    def __post_init__(self) -> None:
        """Reject values AWS would reject later, naming the field."""
        if not self.stack:
            raise ValueError("EventBusArgs.stack must be a non-empty stack name")
        if self.archive_retention_days < 1:
            raise ValueError(
                "EventBusArgs.archive_retention_days must be >= 1: the AWS provider never sends 0 ('keep "
                "forever') on update, so 0 would never apply"
            )


class EventBus(pulumi.ComponentResource):
    """The custom event bus of one stack, with its catch-all log group and archive."""

    bus_name: pulumi.Output[str]
    """Physical name of the bus (``eda-demo-<stack>``)."""
    bus_arn: pulumi.Output[str]
    """ARN of the bus."""
    catch_all_log_group_name: pulumi.Output[str]
    """Log group receiving every event on the bus."""
    archive_arn: pulumi.Output[str]
    """Archive of every event on the bus, for replay."""

    def __init__(self, name: str, args: EventBusArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        """Create the bus, the catch-all rule and log group, the logs resource policy and the archive."""
        super().__init__(TYPE, name, None, opts)
        #: Every subscription and function of the stack, for Operations (see :mod:`components.watchlist`).
        self.watchlist = Watchlist()
        child = pulumi.ResourceOptions(parent=self)

        self.bus = aws.cloudwatch.EventBus(f"{name}-bus", name=naming.event_bus_name(args.stack), opts=child)
        self.bus_name = self.bus.name
        self.bus_arn = self.bus.arn
        # Deleted after every rule and the archive, before the bus: waits until the bus lists no rule.
        self.drain = BusDrain(f"{name}-drain", self.bus.name, self.bus.arn, opts=child)

        self.catch_all_log_group = aws.cloudwatch.LogGroup(
            f"{name}-catch-all-logs",
            name=naming.events_log_group_name(args.stack, "catch-all"),
            # Every event of the bus: the audit trail, which may be kept longer than the other logs.
            retention_in_days=args.audit_log_retention_days or args.log_retention_days,
            opts=child,
        )
        # Attached to the log group itself (resource-scoped): CloudWatch Logs allows only ten
        # account-scoped policies per region, shared by every stack and service of the account.
        self.logs_resource_policy = aws.cloudwatch.LogResourcePolicy(
            f"{name}-events-to-logs",
            resource_arn=self.catch_all_log_group.arn,
            policy_document=self.catch_all_log_group.arn.apply(
                lambda arn: json.dumps(policies.events_to_logs_policy([arn]))
            ),
            opts=child,
        )
        self.catch_all = self.subscribe(
            "cw-catch-all",
            contract.catch_all_pattern(),
            owner=self,
            target_arn=self.catch_all_log_group.arn,
            description="Every event on the bus, to the catch-all log group",
            depends_on=[self.logs_resource_policy],
        )
        self.archive = aws.cloudwatch.EventArchive(
            f"{name}-archive",
            event_source_arn=self.bus.arn,
            retention_days=args.archive_retention_days,
            description="Every event on the bus, for replay",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.drain]),
        )
        self.catch_all_log_group_name = self.catch_all_log_group.name
        self.archive_arn = self.archive.arn
        self.register_outputs(
            {
                "bus_name": self.bus_name,
                "bus_arn": self.bus_arn,
                "catch_all_log_group_name": self.catch_all_log_group_name,
                "archive_arn": self.archive_arn,
            }
        )

    def subscribe(
        self,
        name: str,
        pattern: dict[str, Any],
        *,
        owner: pulumi.Resource,
        target_arn: pulumi.Input[str],
        role_arn: pulumi.Input[str] | None = None,
        description: str,
        retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
        depends_on: list[pulumi.Resource] | None = None,
    ) -> Subscription:
        """Route events of this bus matching ``pattern`` to ``target_arn``, with retries and a dead-letter queue.

        The rule, target and queue are children of ``owner`` (the service owning the target).
        Lambda targets still need a ``lambda.Permission`` from their owner (``source_arn`` =
        the returned rule's ARN); state-machine targets pass ``role_arn``. The rule depends on
        the bus's drain, so ``pulumi destroy`` deletes it before the bus.
        """
        return subscribe_on(
            self.bus.name,
            name,
            pattern,
            owner=owner,
            target_arn=target_arn,
            role_arn=role_arn,
            description=description,
            retry_policy=retry_policy,
            depends_on=depends_on,
            rule_depends_on=[self.drain],
            watchlist=self.watchlist,
        )


def subscribe_on(
    bus_name: pulumi.Input[str],
    name: str,
    pattern: dict[str, Any] | pulumi.Output[dict[str, Any]],
    *,
    owner: pulumi.Resource,
    target_arn: pulumi.Input[str],
    watchlist: Watchlist,
    role_arn: pulumi.Input[str] | None = None,
    description: str,
    retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
    input_transformer: aws.cloudwatch.EventTargetInputTransformerArgs | None = None,
    depends_on: list[pulumi.Resource] | None = None,
    rule_depends_on: list[pulumi.Resource] | None = None,
) -> Subscription:
    """The one way to build a rule: ``<name>-rule`` on ``bus_name``, its target, retries and dead-letter queue.

    :meth:`EventBus.subscribe` uses it for the stack's bus; ``DEFAULT_BUS`` is for AWS service
    events (rules there are not on the stack's bus, so they need no drain). ``depends_on``
    orders the target, ``rule_depends_on`` the rule. The subscription is added to ``watchlist``,
    so Operations alarms on its dead-letter queue and its failed deliveries.
    """
    rule = aws.cloudwatch.EventRule(
        f"{name}-rule",
        event_bus_name=bus_name,
        event_pattern=json.dumps(pattern) if isinstance(pattern, dict) else pattern.apply(json.dumps),
        description=description,
        opts=pulumi.ResourceOptions(parent=owner, depends_on=rule_depends_on or []),
    )
    child = pulumi.ResourceOptions(parent=owner)
    dead_letter_queue, queue_policy = _dead_letter_queue(name, rule, child)
    target = aws.cloudwatch.EventTarget(
        f"{name}-target",
        rule=rule.name,
        event_bus_name=bus_name,
        arn=target_arn,
        role_arn=role_arn,
        input_transformer=input_transformer,
        retry_policy=aws.cloudwatch.EventTargetRetryPolicyArgs(
            maximum_retry_attempts=retry_policy.maximum_retry_attempts,
            maximum_event_age_in_seconds=retry_policy.maximum_event_age_in_seconds,
        ),
        dead_letter_config=aws.cloudwatch.EventTargetDeadLetterConfigArgs(arn=dead_letter_queue.arn),
        opts=pulumi.ResourceOptions(parent=owner, depends_on=[queue_policy, *(depends_on or [])]),
    )
    subscription = Subscription(
        name=name,
        rule=rule,
        target=target,
        dead_letter_queue=dead_letter_queue,
        bus_name=None if bus_name == DEFAULT_BUS else bus_name,
    )
    watchlist.add_subscription(subscription)
    return subscription


def _dead_letter_queue(
    name: str, rule: aws.cloudwatch.EventRule, opts: pulumi.ResourceOptions
) -> tuple[aws.sqs.Queue, aws.sqs.QueuePolicy]:
    """``<name>-dlq``, encrypted, keeping messages SQS's longest (14 days), writable by ``rule`` only."""
    queue = aws.sqs.Queue(
        f"{name}-dlq",
        sqs_managed_sse_enabled=True,
        message_retention_seconds=DEAD_LETTER_RETENTION_SECONDS,
        opts=opts,
    )
    policy = aws.sqs.QueuePolicy(
        f"{name}-dlq-policy",
        queue_url=queue.url,
        policy=pulumi.Output.all(queue.arn, rule.arn).apply(
            lambda arns: json.dumps(policies.dead_letter_queue_policy(arns[0], arns[1]))
        ),
        opts=opts,
    )
    return queue, policy
