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
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components import alarms, naming, policies
from components.event_bus import DEFAULT_BUS, EventBus, Subscription, subscribe_on
from components.lambda_function import LambdaFunction
from handlers import contract

TYPE = "eda-demo:components:Operations"
PERIOD_SECONDS = 60


@dataclass
class OperationsArgs:
    """Inputs of :class:`Operations`: everything to watch."""

    stack: str
    bus: EventBus
    functions: list[LambdaFunction]
    subscriptions: list[Subscription]
    state_machine_arn: pulumi.Input[str]
    alarm_email: str | None = None
    account_id: pulumi.Input[str] = ""
    region: pulumi.Input[str] = ""


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
        """Create the ops topic (with its key), the alarms and the dashboard."""
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account = pulumi.Output.from_input(args.account_id)

        # CloudWatch cannot publish to a topic under the AWS-managed SNS key: a customer key it may use.
        self.key = aws.kms.Key(
            f"{name}-key",
            description="Encrypts the eda-demo ops (alarm) topic",
            enable_key_rotation=True,
            deletion_window_in_days=7,
            policy=account.apply(lambda acct: json.dumps(policies.ops_key_policy(acct))),
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

        # Every alarm is named <stack prefix>/<alarm>; the bus name is the stack prefix.
        self._stack_prefix = args.bus.bus_name
        self.alarms: list[aws.cloudwatch.MetricAlarm] = []
        for sub in args.subscriptions:
            self._watch_subscription(f"{name}-{sub.name}", sub, args.bus.bus_name)
        # ALARM -> OK of this stack's alarms (CloudWatch puts state changes on the default bus).
        self.recovery = subscribe_on(
            DEFAULT_BUS,
            f"{name}-alarm-recovered",
            pulumi.Output.all(pulumi.Output.from_input(args.region), account, self._stack_prefix).apply(
                lambda v: alarms.recovered_pattern(v[0], v[1], v[2])
            ),
            owner=self,
            target_arn=self.topic.arn,
            description="This stack's alarms going from ALARM back to OK, to the ops topic",
            input_transformer=aws.cloudwatch.EventTargetInputTransformerArgs(
                input_paths=alarms.RECOVERY_INPUT_PATHS,
                input_template=alarms.RECOVERY_INPUT_TEMPLATE,
            ),
            depends_on=[topic_policy],
        )
        # Rules of the default bus publish their metrics with the rule name alone.
        self._watch_subscription(f"{name}-alarm-recovered", self.recovery, None)
        watched = [*args.subscriptions, self.recovery]
        for fn in args.functions:
            label = fn.label
            self._alarm(
                f"{name}-{label}-errors",
                f"{label} raised errors",
                "AWS/Lambda",
                "Errors",
                "Sum",
                {"FunctionName": fn.function_name},
            )
            self._alarm(
                f"{name}-{label}-throttles",
                f"{label} was throttled",
                "AWS/Lambda",
                "Throttles",
                "Sum",
                {"FunctionName": fn.function_name},
            )
        self._alarm(
            f"{name}-payment-executions-timed-out",
            "Payment workflow executions timed out",
            "AWS/States",
            "ExecutionsTimedOut",
            "Sum",
            {"StateMachineArn": args.state_machine_arn},
        )
        self._alarm(
            f"{name}-payment-executions-failed",
            "Payment workflow executions failed",
            "AWS/States",
            "ExecutionsFailed",
            "Sum",
            {"StateMachineArn": args.state_machine_arn},
        )

        # Dashboards are account-global: named per stack and region, or one region's would overwrite another's.
        self.dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=pulumi.Output.from_input(args.region).apply(
                lambda region: naming.dashboard_name(args.stack, region)
            ),
            dashboard_body=pulumi.Output.all(
                pulumi.Output.from_input(args.region),
                pulumi.Output.all(*[fn.function_name for fn in args.functions]),
                pulumi.Output.all(*[s.dead_letter_queue.name for s in watched]),
                pulumi.Output.from_input(args.state_machine_arn),
            ).apply(lambda v: json.dumps(dashboard_body(v[0], list(v[1]), list(v[2]), v[3]))),
            opts=child,
        )
        self.ops_topic_arn = self.topic.arn
        self.dashboard_name = self.dashboard.dashboard_name
        self.register_outputs({"ops_topic_arn": self.ops_topic_arn, "dashboard_name": self.dashboard_name})

    def _watch_subscription(self, label: str, sub: Subscription, bus_name: pulumi.Input[str] | None) -> None:
        """Alarm on a message in the rule's dead-letter queue and on the rule's failed invocations.

        ``bus_name`` is the custom bus the rule is on (a metric dimension there), ``None`` on the
        default bus.
        """
        rule_dimensions: dict[str, pulumi.Input[str]] = {"RuleName": sub.rule.name}
        if bus_name is not None:
            rule_dimensions["EventBusName"] = bus_name
        self._alarm(
            f"{label}-dlq-not-empty",
            f"Events of rule {sub.name} are in its dead-letter queue",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "Maximum",
            {"QueueName": sub.dead_letter_queue.name},
        )
        self._alarm(
            f"{label}-failed-invocations",
            f"EventBridge could not deliver events of rule {sub.name}",
            "AWS/Events",
            "FailedInvocations",
            "Sum",
            rule_dimensions,
        )

    def _alarm(
        self,
        name: str,
        description: str,
        namespace: str,
        metric: str,
        statistic: str,
        dimensions: dict[str, pulumi.Input[str]],
    ) -> None:
        """Alarm as soon as ``metric`` is above zero in one period; quiet when there is no data.

        Notifies on entering ALARM only: OK actions would also fire on every new alarm's first
        INSUFFICIENT_DATA -> OK (recoveries come from the default-bus rule instead). With
        ``notBreaching`` a period without data counts as OK, so no data never pages.
        """
        self.alarms.append(
            aws.cloudwatch.MetricAlarm(
                name,
                name=pulumi.Output.from_input(self._stack_prefix).apply(lambda prefix: alarms.alarm_name(prefix, name)),
                alarm_description=description,
                namespace=namespace,
                metric_name=metric,
                statistic=statistic,
                dimensions=dimensions,
                period=PERIOD_SECONDS,
                evaluation_periods=1,
                threshold=0,
                comparison_operator="GreaterThanThreshold",
                treat_missing_data="notBreaching",
                alarm_actions=[self.topic.arn],
                opts=pulumi.ResourceOptions(parent=self),
            )
        )
