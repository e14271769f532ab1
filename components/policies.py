"""IAM and resource-policy documents as pure functions of ARNs.

Each function returns a plain ``dict`` (serialise with ``json.dumps``) so it can be tested with
plain asserts and linted with parliament, and is applied once in a component with
``Output.all(...).apply``. Every statement names exact actions on exact resources;
``Resource: "*"`` appears only where AWS accepts nothing narrower (X-Ray, log delivery).
"""

from __future__ import annotations

from typing import Any

Document = dict[str, Any]
VERSION = "2012-10-17"

#: X-Ray trace upload: AWS supports no resource-level permission for these actions.
XRAY_ACTIONS = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
#: CloudWatch Logs delivery management used by Step Functions and API Gateway logging; these
#: actions support only ``Resource: "*"``.
LOG_DELIVERY_ACTIONS = [
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
]

#: What API Gateway's account-level CloudWatch role needs (the actions of AWS's
#: AmazonAPIGatewayPushToCloudWatchLogs, listed exactly). The role serves every API of the
#: account and region, so it is scoped to the log groups of that account and region, not to
#: this stack's; ``logs:DescribeLogGroups`` supports only ``Resource: "*"``.
API_GATEWAY_LOGGING_ACTIONS = [
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:DescribeLogStreams",
    "logs:FilterLogEvents",
    "logs:GetLogEvents",
    "logs:PutLogEvents",
]
API_GATEWAY_LIST_ACTIONS = ["logs:DescribeLogGroups"]
#: X-Ray sampling reads of the state machine's tracing; like trace upload, ``Resource: "*"`` only.
XRAY_SAMPLING_ACTIONS = ["xray:GetSamplingRules", "xray:GetSamplingTargets"]


def statement(sid: str, actions: list[str], resources: list[str], **extra: Any) -> Document:
    """One ``Allow`` statement with sorted actions (stable diffs, easy asserts)."""
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources, **extra}


def document(*statements: Document) -> Document:
    """A policy document of the given statements."""
    return {"Version": VERSION, "Statement": list(statements)}


def assume_role_policy(service: str, account: str | None = None) -> Document:
    """Trust policy letting one AWS service principal assume a role (optionally confused-deputy safe)."""
    stmt: Document = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if account is not None:
        stmt["Condition"] = {"StringEquals": {"aws:SourceAccount": account}}
    return {"Version": VERSION, "Statement": [stmt]}


def log_stream_arn(log_group_arn: str) -> str:
    """The ARN pattern of every stream of a log group (where PutLogEvents is authorised)."""
    return f"{log_group_arn.removesuffix(':*')}:*"


def function_logging_statements(log_group_arn: str) -> list[Document]:
    """What every function needs to write its own log group and its traces."""
    return [
        statement("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [log_stream_arn(log_group_arn)]),
        statement("UploadTraces", XRAY_ACTIONS, ["*"]),
    ]


#: What Lambda's event source mapping reads a DynamoDB stream with, under the function's role
#: (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html, "Execution role permissions").
STREAM_READ_ACTIONS = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
#: ``dynamodb:ListStreams`` has no resource type in IAM: it accepts only ``Resource: "*"``.
STREAM_LIST_ACTIONS = ["dynamodb:ListStreams"]

#: The one list of actions an identity policy may grant on ``Resource: "*"``: those AWS accepts
#: nothing narrower for (the Service Authorization Reference lists no resource type for them).
#: The program's statements above use only these; the policy pack (``policy/``) refuses any other.
RESOURCE_WILDCARD_ONLY_ACTIONS = frozenset(
    [*XRAY_ACTIONS, *XRAY_SAMPLING_ACTIONS, *LOG_DELIVERY_ACTIONS, *API_GATEWAY_LIST_ACTIONS, *STREAM_LIST_ACTIONS]
)


def create_order_policy(table_arn: str, log_group_arn: str) -> Document:
    """create-order: conditional put and read-back of orders (the table's stream publishes)."""
    return document(
        statement("StoreOrders", ["dynamodb:GetItem", "dynamodb:PutItem"], [table_arn]),
        *function_logging_statements(log_group_arn),
    )


def publish_order_events_policy(stream_arn: str, bus_arn: str, queue_arn: str, log_group_arn: str) -> Document:
    """publish-order-events: read the orders table's stream, put order events, park what fails."""
    return document(
        statement("ReadOrderStream", STREAM_READ_ACTIONS, [stream_arn]),
        statement("ListStreams", STREAM_LIST_ACTIONS, ["*"]),
        statement("PublishOrderEvents", ["events:PutEvents"], [bus_arn]),
        # The mapping's on-failure destination is written with the function's role.
        statement("ReportFailedBatches", ["sqs:SendMessage"], [queue_arn]),
        *function_logging_statements(log_group_arn),
    )


def get_order_policy(table_arn: str, log_group_arn: str) -> Document:
    """get-order: read one order."""
    return document(
        statement("ReadOrders", ["dynamodb:GetItem"], [table_arn]),
        *function_logging_statements(log_group_arn),
    )


def update_order_policy(table_arn: str, log_group_arn: str) -> Document:
    """update-order: conditional status transition (the table's stream publishes)."""
    return document(
        statement("TransitionOrders", ["dynamodb:GetItem", "dynamodb:UpdateItem"], [table_arn]),
        *function_logging_statements(log_group_arn),
    )


def notification_policy(topic_arn: str, log_group_arn: str) -> Document:
    """notification: publish to its own topic."""
    return document(
        statement("PublishNotifications", ["sns:Publish"], [topic_arn]),
        *function_logging_statements(log_group_arn),
    )


def failure_destination_policy(queue_arn: str) -> Document:
    """An asynchronously invoked function's on-failure destination: send to one queue."""
    return document(statement("ReportFailedInvocations", ["sqs:SendMessage"], [queue_arn]))


def state_machine_policy(bus_arn: str) -> Document:
    """Payment state machine: put its outcome on this stack's bus, deliver logs and traces."""
    return document(
        statement("PublishPaymentEvents", ["events:PutEvents"], [bus_arn]),
        statement("DeliverExecutionLogs", LOG_DELIVERY_ACTIONS, ["*"]),
        statement(
            "UploadTraces",
            [*XRAY_ACTIONS, *XRAY_SAMPLING_ACTIONS],
            ["*"],
        ),
    )


def start_execution_policy(state_machine_arn: str) -> Document:
    """EventBridge rule target role: start this one state machine."""
    return document(statement("StartPaymentWorkflow", ["states:StartExecution"], [state_machine_arn]))


def events_to_logs_policy(log_group_arns: list[str]) -> Document:
    """CloudWatch Logs resource policy letting EventBridge write this stack's event log groups.

    Without it a rule targeting a log group silently drops every event.
    """
    return document(
        statement(
            "EventBridgeWritesEventLogs",
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [log_stream_arn(arn) for arn in log_group_arns],
            Principal={"Service": ["delivery.logs.amazonaws.com", "events.amazonaws.com"]},
        )
    )


def dead_letter_queue_policy(queue_arn: str, rule_arn: str) -> Document:
    """SQS queue policy: only this one EventBridge rule may send its undeliverable events."""
    return document(
        statement(
            "OnlyThisRuleSendsFailedEvents",
            ["sqs:SendMessage"],
            [queue_arn],
            Principal={"Service": "events.amazonaws.com"},
            Condition={"ArnEquals": {"aws:SourceArn": rule_arn}},
        )
    )


def ops_key_policy(account_id: str, partition: str) -> Document:
    """KMS key policy of the ops topic key: the account administers it, CloudWatch alarms use it.

    CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key, hence a
    customer-managed key. Administration actions are listed one by one (no ``kms:*``).
    """
    root = f"arn:{partition}:iam::{account_id}:root"
    admin_actions = [
        "kms:CancelKeyDeletion",
        "kms:CreateAlias",
        "kms:DeleteAlias",
        "kms:DescribeKey",
        "kms:DisableKey",
        "kms:DisableKeyRotation",
        "kms:EnableKey",
        "kms:EnableKeyRotation",
        "kms:GetKeyPolicy",
        "kms:GetKeyRotationStatus",
        "kms:ListAliases",
        "kms:ListResourceTags",
        "kms:PutKeyPolicy",
        "kms:ScheduleKeyDeletion",
        "kms:TagResource",
        "kms:UntagResource",
        "kms:UpdateKeyDescription",
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:GenerateDataKey",
    ]
    return document(
        statement("AccountAdministersKey", admin_actions, ["*"], Principal={"AWS": root}),
        statement(
            "AlarmsPublishEncrypted",
            ["kms:Decrypt", "kms:GenerateDataKey"],
            ["*"],
            Principal={"Service": "cloudwatch.amazonaws.com"},
            Condition={"StringEquals": {"aws:SourceAccount": account_id}},
        ),
        alarm_recoveries_key_statement(),
    )


def alarm_recoveries_key_statement() -> Document:
    """Key policy statement letting EventBridge publish alarm recoveries to the encrypted ops topic.

    The actions AWS documents for an EventBridge rule targeting a topic under a customer-managed
    key. No ``aws:SourceArn`` / ``aws:SourceAccount`` condition: the SNS developer guide states
    they are not supported in a key policy for EventBridge-to-encrypted-topic delivery (the
    request KMS sees does not carry them, so every delivery would fail). The key encrypts the
    ops topic alone, and the topic policy alone decides what may publish to it.
    """
    return statement(
        "AlarmRecoveriesPublishEncrypted",
        ["kms:Decrypt", "kms:GenerateDataKey"],
        ["*"],
        Principal={"Service": "events.amazonaws.com"},
    )


def ops_topic_policy(topic_arn: str, account_id: str) -> Document:
    """SNS topic policy of the ops topic: CloudWatch alarms of this account and EventBridge publish to it."""
    return document(
        statement(
            "AlarmsPublish",
            ["sns:Publish"],
            [topic_arn],
            Principal={"Service": "cloudwatch.amazonaws.com"},
            Condition={"StringEquals": {"aws:SourceAccount": account_id}},
        ),
        alarm_recoveries_topic_statement(topic_arn),
    )


def alarm_recoveries_topic_statement(topic_arn: str) -> Document:
    """Topic policy statement letting the alarm-recovery rule (EventBridge) publish to the ops topic.

    Unconditioned on purpose: the EventBridge user guide states that ``Condition`` blocks cannot
    be used in SNS topic policies for EventBridge ("Amazon SNS permissions"), and the console
    itself writes this statement without one. It names the one topic.
    """
    return statement(
        "AlarmRecoveriesPublish",
        ["sns:Publish"],
        [topic_arn],
        Principal={"Service": "events.amazonaws.com"},
    )


def api_gateway_logging_policy(region: str, account_id: str, partition: str) -> Document:
    """API Gateway's account-level role: write access and execution logs of any API of the account."""
    groups = f"arn:{partition}:logs:{region}:{account_id}:log-group:*"
    return document(
        statement("ApiGatewayWritesLogs", API_GATEWAY_LOGGING_ACTIONS, [groups, f"{groups}:log-stream:*"]),
        statement("ApiGatewayListsLogGroups", API_GATEWAY_LIST_ACTIONS, ["*"]),
    )
