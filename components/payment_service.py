"""PaymentService: the payment state machine and its subscription to new orders.

bus {"source":["order-service"],"detail-type":["OrderCreated"]} ─▶ state machine
state machine: isFraud (amount > threshold?) ─▶ PaymentFailed | PaymentSucceeded ─▶ putEvents
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import naming, policies, settings
from components.event_bus import EventBus, Subscription
from components.payment_workflow import payment_definition
from components.roles import service_role
from handlers import contract

TYPE = "eda-demo:components:PaymentService"


@dataclass
class PaymentServiceArgs:
    """Inputs of :class:`PaymentService`."""

    stack: str
    bus: EventBus
    #: The caller's partition (``aws.get_partition``): the ``putEvents`` integration's ARN carries it.
    partition: str
    fraud_threshold: float = settings.DEFAULT_FRAUD_THRESHOLD
    workflow_type: str = settings.DEFAULT_WORKFLOW_TYPE
    log_retention_days: int = settings.DEFAULT_LOG_RETENTION_DAYS
    #: When set, the service roles trust their AWS service only on behalf of this account
    #: (``aws:SourceAccount``: the confused-deputy guard AWS recommends).
    account_id: pulumi.Input[str] | None = None

    def __post_init__(self) -> None:
        """Validate threshold and workflow type, naming the field."""
        if not self.fraud_threshold > 0:
            raise ValueError(f"PaymentServiceArgs.fraud_threshold must be positive, got {self.fraud_threshold!r}")
        if self.workflow_type not in settings.WORKFLOW_TYPES:
            raise ValueError(
                f"PaymentServiceArgs.workflow_type must be one of {', '.join(settings.WORKFLOW_TYPES)}, "
                f"got {self.workflow_type!r}"
            )


class PaymentService(pulumi.ComponentResource):
    """The fraud-check workflow, started by every new order."""

    state_machine_arn: pulumi.Output[str]
    """ARN of the payment state machine."""
    state_machine_name: pulumi.Output[str]
    """Physical name of the payment state machine."""
    workflow_log_group_name: pulumi.Output[str]
    """The workflow's log group: an EXPRESS workflow's only record of its executions."""

    def __init__(self, name: str, args: PaymentServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        """Create the state machine with its role and logs, and subscribe it to OrderCreated."""
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        bus = args.bus

        self.role, self.role_policy = service_role(
            f"{name}-workflow",
            "states.amazonaws.com",
            f"Payment workflow ({args.stack}): puts its outcome on the stack's bus",
            bus.bus_arn.apply(policies.state_machine_policy),
            child,
            args.account_id,
        )
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-workflow-logs",
            name=naming.vended_log_group_name(args.stack, "payment-workflow"),
            retention_in_days=args.log_retention_days,
            opts=child,
        )
        self.state_machine = aws.sfn.StateMachine(
            f"{name}-workflow",
            role_arn=self.role.arn,
            type=args.workflow_type,
            definition=bus.bus_name.apply(
                lambda bus_name: json.dumps(payment_definition(bus_name, args.fraud_threshold, args.partition))
            ),
            # EXPRESS keeps no execution history: its log group is its only record.
            logging_configuration=aws.sfn.StateMachineLoggingConfigurationArgs(
                level="ALL" if args.workflow_type == "EXPRESS" else "ERROR",
                include_execution_data=True,
                log_destination=self.log_group.arn.apply(lambda arn: f"{arn}:*"),
            ),
            tracing_configuration=aws.sfn.StateMachineTracingConfigurationArgs(enabled=True),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.role_policy]),
        )

        self.events_role, self.events_role_policy = service_role(
            f"{name}-start",
            "events.amazonaws.com",
            f"EventBridge ({args.stack}): starts the payment workflow only",
            self.state_machine.arn.apply(policies.start_execution_policy),
            child,
            args.account_id,
        )
        self.orders: Subscription = bus.subscribe(
            "payment-service-filtering-orders",
            contract.payment_orders_pattern(),
            owner=self,
            target_arn=self.state_machine.arn,
            role_arn=self.events_role.arn,
            description="New orders, to the payment workflow",
            depends_on=[self.events_role_policy],
        )
        self.state_machine_arn = self.state_machine.arn
        self.state_machine_name = self.state_machine.name
        self.workflow_log_group_name = self.log_group.name
        outputs = ("state_machine_arn", "state_machine_name", "workflow_log_group_name")
        self.register_outputs({name: getattr(self, name) for name in outputs})
