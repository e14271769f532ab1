"""NotificationService: tells the customer about every order and payment event, by email.

bus {"source":["order-service","payment-service"]} ─▶ notification λ ─▶ SNS topic ─▶ email
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import policies, settings
from components.event_bus import EventBus, Subscription
from components.lambda_function import LambdaFunction, LambdaFunctionArgs
from handlers import contract

TYPE = "eda-demo:components:NotificationService"


@dataclass
class NotificationServiceArgs:
    """Inputs of :class:`NotificationService`."""

    stack: str
    bus: EventBus
    layer_arn: pulumi.Input[str]
    #: No email subscription when unset (SNS keeps it "PendingConfirmation" until clicked).
    notification_email: str | None = None
    log_retention_days: int = settings.DEFAULT_LOG_RETENTION_DAYS


class NotificationService(pulumi.ComponentResource):
    """SNS topic, optional email subscription and the notification function."""

    topic_arn: pulumi.Output[str]
    """ARN of the customer notification topic."""

    def __init__(self, name: str, args: NotificationServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        """Create the topic, the subscription, the function and its rule."""
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.topic = aws.sns.Topic(f"{name}-topic", kms_master_key_id="alias/aws/sns", opts=child)
        self.email_subscription: aws.sns.TopicSubscription | None = None
        if args.notification_email:
            self.email_subscription = aws.sns.TopicSubscription(
                f"{name}-email",
                topic=self.topic.arn,
                protocol="email",
                endpoint=args.notification_email,
                opts=child,
            )
        self.notification = LambdaFunction(
            f"{name}-notification",
            LambdaFunctionArgs(
                stack=args.stack,
                short_name="notification",
                handler="handlers.notification.handler",
                description="Publishes a readable message per order and payment event",
                service=contract.NOTIFICATION_SERVICE,
                watchlist=args.bus.watchlist,
                environment={contract.ENV_NOTIFICATION_TOPIC: self.topic.arn},
                policy=lambda log_arn: self.topic.arn.apply(
                    lambda topic_arn: policies.notification_policy(topic_arn, log_arn)
                ),
                layer_arn=args.layer_arn,
                log_retention_days=args.log_retention_days,
            ),
            opts=child,
        )
        self.events: Subscription = args.bus.subscribe(
            contract.NOTIFICATION_SERVICE,
            contract.notification_pattern(),
            owner=self,
            target_arn=self.notification.function_arn,
            description="Order and payment events, to the notification function",
        )
        self.notification.allow_invoke(f"{name}-notification-from-rule", "events.amazonaws.com", self.events.rule.arn)
        self.notification.send_failures_to(self.events.dead_letter_queue)
        self.topic_arn = self.topic.arn
        self.register_outputs({"topic_arn": self.topic_arn})
