"""eda-demo: an event-driven order system on AWS serverless, as one Pulumi program.

Reads this stack's config once, composes the services around one custom event bus, adds the
operations layer, and exports what a developer needs to try it. Every subscription and function
the services create registers itself on the bus's watchlist, and Operations (created last) alarms
on all of them: adding a service is one line here, before ``ops`` (see the README).
"""

import pulumi
import pulumi_aws as aws

import event_schemas
from components import (
    EventBus,
    EventBusArgs,
    EventContracts,
    EventContractsArgs,
    NotificationService,
    NotificationServiceArgs,
    Operations,
    OperationsArgs,
    OrderService,
    OrderServiceArgs,
    PaymentService,
    PaymentServiceArgs,
)
from components.settings import check_stack_name, load_settings, powertools_layer_for

config = pulumi.Config()
settings = load_settings(config.get)
region = aws.get_region().region
# The caller's partition (aws, aws-cn, aws-us-gov): every ARN the program writes itself carries it.
partition = aws.get_partition().partition
# Before any resource: a stack name one of the physical names cannot carry stops here, not halfway.
stack = check_stack_name(pulumi.get_stack(), region)
account_id = aws.get_caller_identity_output().account_id
layer_arn = powertools_layer_for(settings, region, partition)

bus = EventBus(
    "bus",
    EventBusArgs(
        stack=stack,
        log_retention_days=settings.log_retention_days,
        archive_retention_days=settings.archive_retention_days,
        audit_log_retention_days=settings.audit_retention_days,
    ),
)
payments = PaymentService(
    "payments",
    PaymentServiceArgs(
        stack=stack,
        bus=bus,
        partition=partition,
        fraud_threshold=settings.fraud_threshold,
        workflow_type=settings.payment_workflow_type,
        log_retention_days=settings.log_retention_days,
        account_id=account_id,
    ),
)
orders = OrderService(
    "orders",
    OrderServiceArgs(
        stack=stack,
        bus=bus,
        layer_arn=layer_arn,
        account_id=account_id,
        region=region,
        partition=partition,
        log_retention_days=settings.log_retention_days,
        throttle_rate=settings.api_throttle_rate,
        throttle_burst=settings.api_throttle_burst,
        api_auth=settings.api_auth,
        protect_data=settings.protect_data,
        manage_api_gateway_account=settings.manage_api_gateway_account,
        api_waf=settings.api_waf,
        api_waf_rate_limit=settings.api_waf_rate_limit,
        audit_log_retention_days=settings.audit_retention_days,
    ),
)
notifications = NotificationService(
    "notifications",
    NotificationServiceArgs(
        stack=stack,
        bus=bus,
        layer_arn=layer_arn,
        notification_email=settings.notification_email,
        log_retention_days=settings.log_retention_days,
    ),
)
# One registry per account and region, published by the stack that owns it (see the README).
if settings.manage_schema_registry:
    EventContracts("contracts", EventContractsArgs(stack=stack, contracts=event_schemas.load().values()))
# New services go here, one line each: Operations watches whatever exists when it is created.
ops = Operations(
    "ops",
    OperationsArgs(
        stack=stack,
        bus=bus,
        state_machine_arn=payments.state_machine_arn,
        account_id=account_id,
        region=region,
        partition=partition,
        alarm_email=settings.alarm_email,
    ),
)

pulumi.export("api_url", orders.api_url)
pulumi.export("event_bus_name", bus.bus_name)
pulumi.export("orders_table_name", orders.table_name)
pulumi.export("payment_state_machine_arn", payments.state_machine_arn)
pulumi.export("payment_workflow_log_group_name", payments.workflow_log_group_name)
pulumi.export("notification_topic_arn", notifications.topic_arn)
pulumi.export("catch_all_log_group_name", bus.catch_all_log_group_name)
pulumi.export("ops_topic_arn", ops.ops_topic_arn)
pulumi.export("dashboard_name", ops.dashboard_name)
