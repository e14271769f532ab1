"""Operations: who is told when something goes wrong, and one dashboard of the whole flow.

Alarms go to an encrypted ops topic (optional email subscription): any message in a dead-letter
queue, any function error or throttle, any failed payment execution, any failed rule
invocation. An alarm sends one message when it enters ALARM and, through a rule on the
account's default bus, one when it goes back to OK; a fresh deploy sends none (see
:mod:`components.alarms`). The dashboard shows orders created, completed and cancelled (metrics
emitted by the handlers), errors, and dead-letter queue depths.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components import alarms, naming, policies
from components.event_bus import DEFAULT_BUS, EventBus, Subscription, subscribe_on
from components.watchlist import StreamConsumer, WatchedFunction
from handlers import contract

TYPE = "eda-demo:components:Operations"
PERIOD_SECONDS = 60


@dataclass
class OperationsArgs:
    """Inputs of :class:`Operations`.

    What to watch comes from ``bus.watchlist``: every subscription and function the services
    created (see :mod:`components.watchlist`), so Operations must be created after them.
    """

    stack: str
    bus: EventBus
    state_machine_arn: pulumi.Input[str]
    #: Account and region of the stack: the ops key's account principal and the recovery rule's
    #: alarm ARN prefix. Required: an empty one would make a malformed ARN.
    account_id: pulumi.Input[str]
    region: pulumi.Input[str]
    #: The caller's partition (``aws.get_partition``): the key's account root and the alarm ARNs carry it.
    partition: pulumi.Input[str]
    alarm_email: str | None = None

    def __post_init__(self) -> None:
        """Refuse an empty account, region or partition, naming the field."""
        for field_name in ("account_id", "region", "partition"):
            if getattr(self, field_name) in ("", None):
                raise ValueError(f"OperationsArgs.{field_name} must be set (an empty one makes malformed ARNs)")


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm: its logical name, what it says, and the metric above zero that raises it."""

    name: str
    description: str
    namespace: str
    metric: str
    statistic: str
    dimensions: Mapping[str, pulumi.Input[str]]
    #: A count (no data: nothing happened) or a level (no data: unknown, keep the state); see
    #: :data:`components.alarms.COUNT_MISSING_DATA` and :data:`~components.alarms.LEVEL_MISSING_DATA`.
    treat_missing_data: str = alarms.COUNT_MISSING_DATA


def subscription_alarms(label: str, sub: Subscription) -> list[AlarmSpec]:
    """A message in the rule's dead-letter queue; a delivery EventBridge gave up on (pure).

    Rules on a custom bus publish ``FailedInvocations`` per ``EventBusName`` and ``RuleName``, rules
    on the default bus with the rule name alone.
    """
    rule_dimensions: dict[str, pulumi.Input[str]] = {"RuleName": sub.rule.name}
    if sub.bus_name is not None:
        rule_dimensions["EventBusName"] = sub.bus_name
    return [
        AlarmSpec(
            f"{label}-dlq-not-empty",
            f"Events of rule {sub.name} are in its dead-letter queue",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "Maximum",
            {"QueueName": sub.dead_letter_queue.name},
            # A depth: an idle queue stops reporting while it still holds messages.
            alarms.LEVEL_MISSING_DATA,
        ),
        AlarmSpec(
            f"{label}-failed-invocations",
            f"EventBridge could not deliver events of rule {sub.name}",
            "AWS/Events",
            "FailedInvocations",
            "Sum",
            rule_dimensions,
        ),
    ]


def stream_consumer_alarms(label: str, consumer: StreamConsumer) -> list[AlarmSpec]:
    """A batch in the mapping's on-failure queue; a failure record Lambda could not send there (pure).

    The function's own errors and throttles come from :func:`function_alarms`.
    """
    return [
        AlarmSpec(
            f"{label}-dlq-not-empty",
            f"Stream records of {consumer.name} could not be processed (their batch is in the on-failure queue)",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "Maximum",
            {"QueueName": consumer.dead_letter_queue.name},
            # A depth, like every dead-letter queue's (see subscription_alarms).
            alarms.LEVEL_MISSING_DATA,
        ),
        AlarmSpec(
            f"{label}-destination-delivery-failures",
            f"Lambda could not send a failed batch of {consumer.name} to its on-failure queue",
            "AWS/Lambda",
            "DestinationDeliveryFailures",
            "Sum",
            {"FunctionName": consumer.function.function_name},
        ),
    ]


def function_alarms(label: str, short_name: str, function_name: pulumi.Input[str]) -> list[AlarmSpec]:
    """Any error, any throttle of one function (pure)."""
    dimensions = {"FunctionName": function_name}
    return [
        AlarmSpec(f"{label}-errors", f"{short_name} raised errors", "AWS/Lambda", "Errors", "Sum", dimensions),
        AlarmSpec(f"{label}-throttles", f"{short_name} was throttled", "AWS/Lambda", "Throttles", "Sum", dimensions),
    ]


def workflow_alarms(label: str, state_machine_arn: pulumi.Input[str]) -> list[AlarmSpec]:
    """Payment executions that timed out or failed (pure)."""
    dimensions = {"StateMachineArn": state_machine_arn}
    return [
        AlarmSpec(
            f"{label}-timed-out",
            "Payment workflow executions timed out",
            "AWS/States",
            "ExecutionsTimedOut",
            "Sum",
            dimensions,
        ),
        AlarmSpec(
            f"{label}-failed", "Payment workflow executions failed", "AWS/States", "ExecutionsFailed", "Sum", dimensions
        ),
    ]


def alarm_specs(
    name: str,
    subscriptions: Sequence[Subscription],
    functions: Sequence[WatchedFunction],
    state_machine_arn: pulumi.Input[str],
    stream_consumers: Sequence[StreamConsumer] = (),
) -> list[AlarmSpec]:
    """Every alarm of Operations ``name``, from what it watches (pure).

    Alarms are named after Operations and what they watch (``ops-notification-service-dlq-not-empty``);
    a subscription of Operations itself is already named after it (``ops-alarm-recovered``).
    """
    specs: list[AlarmSpec] = []
    for sub in subscriptions:
        label = sub.name if sub.name.startswith(f"{name}-") else f"{name}-{sub.name}"
        specs += subscription_alarms(label, sub)
    for fn in functions:
        specs += function_alarms(f"{name}-{fn.short_name}", fn.short_name, fn.function_name)
    for consumer in stream_consumers:
        specs += stream_consumer_alarms(f"{name}-{consumer.name}", consumer)
    specs += workflow_alarms(f"{name}-payment-executions", state_machine_arn)
    return specs


def dashboard_body(
    region: str,
    function_names: list[str],
    queue_names: list[str],
    state_machine_arn: str,
) -> dict[str, Any]:
    """CloudWatch dashboard JSON: order flow, errors, dead-letter queue depths (pure)."""

    def widget(title: str, metrics: list[list[Any]], stat: str, x: int, y: int) -> dict[str, Any]:
        return {
            "type": "metric",
            "x": x,
            "y": y,
            "width": 12,
            "height": 6,
            "properties": {
                "title": title,
                "region": region,
                "stat": stat,
                "period": PERIOD_SECONDS,
                "view": "timeSeries",
                "metrics": metrics,
            },
        }

    orders = [
        [contract.METRICS_NAMESPACE, metric, "service", contract.ORDER_SERVICE]
        for metric in contract.ORDER_STATUS_METRIC.values()
    ]
    errors: list[list[Any]] = [["AWS/Lambda", "Errors", "FunctionName", fn] for fn in function_names]
    errors.append(["AWS/States", "ExecutionsFailed", "StateMachineArn", state_machine_arn])
    depths = [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q] for q in queue_names]
    return {
        "widgets": [
            widget("Orders created / completed / cancelled", orders, "Sum", 0, 0),
            widget("Errors (functions, payment executions)", errors, "Sum", 12, 0),
            widget("Dead-letter queue depth", depths, "Maximum", 0, 6),
        ]
    }


class Operations(pulumi.ComponentResource):
    """Ops topic, alarms on every failure path, and the dashboard."""

    ops_topic_arn: pulumi.Output[str]
    """ARN of the alarm topic."""
    dashboard_name: pulumi.Output[str]
    """Name of the CloudWatch dashboard."""

    def __init__(self, name: str, args: OperationsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        """Create the ops topic (with its key), the recovery rule, the alarms and the dashboard."""
        super().__init__(TYPE, name, None, opts)
        watchlist = args.bus.watchlist
        topic_policy = self._build_topic(name, args)
        self.recovery = self._subscribe_to_recoveries(name, args, topic_policy)
        # Everything is registered now: close the list, so a later service fails loudly.
        watchlist.close(name)
        # Every alarm is named <stack prefix>/<alarm>; the bus name is the stack prefix.
        self._stack_prefix = args.bus.bus_name
        self.alarms = [
            self._alarm(spec)
            for spec in alarm_specs(
                name, watchlist.subscriptions, watchlist.functions, args.state_machine_arn, watchlist.stream_consumers
            )
        ]
        self.dashboard = self._build_dashboard(name, args)
        self.ops_topic_arn = self.topic.arn
        self.dashboard_name = self.dashboard.dashboard_name
        self.register_outputs({"ops_topic_arn": self.ops_topic_arn, "dashboard_name": self.dashboard_name})

    def _build_topic(self, name: str, args: OperationsArgs) -> aws.sns.TopicPolicy:
        """The ops topic under a customer key CloudWatch may use, its policy and its optional email."""
        child = pulumi.ResourceOptions(parent=self)
        account = pulumi.Output.from_input(args.account_id)
        # CloudWatch cannot publish to a topic under the AWS-managed SNS key: a customer key it may use.
        self.key = aws.kms.Key(
            f"{name}-key",
            description="Encrypts the eda-demo ops (alarm) topic",
            enable_key_rotation=True,
            deletion_window_in_days=7,
            policy=pulumi.Output.all(account, args.partition).apply(
                lambda v: json.dumps(policies.ops_key_policy(v[0], v[1]))
            ),
            opts=child,
        )
        self.topic = aws.sns.Topic(f"{name}-alarms", kms_master_key_id=self.key.arn, opts=child)
        topic_policy = aws.sns.TopicPolicy(
            f"{name}-alarms-policy",
            arn=self.topic.arn,
            policy=pulumi.Output.all(self.topic.arn, account).apply(
                lambda v: json.dumps(policies.ops_topic_policy(v[0], v[1]))
            ),
            opts=child,
        )
        if args.alarm_email:
            aws.sns.TopicSubscription(
                f"{name}-alarm-email", topic=self.topic.arn, protocol="email", endpoint=args.alarm_email, opts=child
            )
        return topic_policy

    def _subscribe_to_recoveries(
        self, name: str, args: OperationsArgs, topic_policy: aws.sns.TopicPolicy
    ) -> Subscription:
        """ALARM -> OK of this stack's alarms (CloudWatch puts state changes on the default bus)."""
        return subscribe_on(
            DEFAULT_BUS,
            f"{name}-alarm-recovered",
            pulumi.Output.all(
                pulumi.Output.from_input(args.region),
                pulumi.Output.from_input(args.account_id),
                args.bus.bus_name,
                pulumi.Output.from_input(args.partition),
            ).apply(lambda v: alarms.recovered_pattern(v[0], v[1], v[2], v[3])),
            owner=self,
            target_arn=self.topic.arn,
            watchlist=args.bus.watchlist,
            description="This stack's alarms going from ALARM back to OK, to the ops topic",
            input_transformer=aws.cloudwatch.EventTargetInputTransformerArgs(
                input_paths=alarms.RECOVERY_INPUT_PATHS,
                input_template=alarms.RECOVERY_INPUT_TEMPLATE,
            ),
            depends_on=[topic_policy],
        )

    def _build_dashboard(self, name: str, args: OperationsArgs) -> aws.cloudwatch.Dashboard:
        """The dashboard of every watched function and dead-letter queue (see :func:`dashboard_body`)."""
        watchlist = args.bus.watchlist
        # Dashboards are account-global: named per stack and region, or one region's would overwrite another's.
        return aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=pulumi.Output.from_input(args.region).apply(
                lambda region: naming.dashboard_name(args.stack, region)
            ),
            dashboard_body=pulumi.Output.all(
                pulumi.Output.from_input(args.region),
                pulumi.Output.all(*[fn.function_name for fn in watchlist.functions]),
                pulumi.Output.all(
                    *[s.dead_letter_queue.name for s in [*watchlist.subscriptions, *watchlist.stream_consumers]]
                ),
                pulumi.Output.from_input(args.state_machine_arn),
            ).apply(lambda v: json.dumps(dashboard_body(v[0], list(v[1]), list(v[2]), v[3]))),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _alarm(self, spec: AlarmSpec) -> aws.cloudwatch.MetricAlarm:
        """Alarm as soon as the metric is above zero in one period; no data never pages.

        Notifies on entering ALARM only: OK actions would also fire on every new alarm's first
        INSUFFICIENT_DATA -> OK (recoveries come from the default-bus rule instead). A period
        without data counts as OK for a count (``notBreaching``) and keeps the state for a level
        (``ignore``), so an idle dead-letter queue still holding messages stays in ALARM.
        """
        return aws.cloudwatch.MetricAlarm(
            spec.name,
            name=pulumi.Output.from_input(self._stack_prefix).apply(
                lambda prefix: alarms.alarm_name(prefix, spec.name)
            ),
            alarm_description=spec.description,
            namespace=spec.namespace,
            metric_name=spec.metric,
            statistic=spec.statistic,
            dimensions=dict(spec.dimensions),
            period=PERIOD_SECONDS,
            evaluation_periods=1,
            threshold=0,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data=spec.treat_missing_data,
            alarm_actions=[self.topic.arn],
            opts=pulumi.ResourceOptions(parent=self),
        )
