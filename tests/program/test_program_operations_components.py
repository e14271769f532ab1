"""Operations and LambdaFunction in isolation, under the mock engine (``@pulumi.runtime.test``)."""

from __future__ import annotations

import json
from typing import Any, cast

import pulumi
import pytest
from program_testkit import RecordingMonitor

from components import EventBus, EventBusArgs, Operations, OperationsArgs
from components.lambda_function import (
    ARCHITECTURE,
    MEMORY_MB,
    RUNTIME,
    TIMEOUT_SECONDS,
    LambdaFunction,
    LambdaFunctionArgs,
)
from components.policies import get_order_policy
from components.watchlist import Watchlist
from handlers import contract

LAYER = "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:27"
ACCOUNT = "123456789012"
STATE_MACHINE = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:payments"


def _function(name: str = "fn", watchlist: Watchlist | None = None) -> LambdaFunction:
    return LambdaFunction(
        name,
        LambdaFunctionArgs(
            stack="dev",
            short_name="get-order",
            handler="handlers.get_order.handler",
            description="reads orders",
            service=contract.ORDER_SERVICE,
            environment={contract.ENV_ORDERS_TABLE: "orders"},
            policy=lambda log_arn: get_order_policy(f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders", log_arn),
            layer_arn=LAYER,
            watchlist=Watchlist() if watchlist is None else watchlist,
            log_retention_days=30,
        ),
    )


@pulumi.runtime.test
def test_lambda_function_has_its_own_role_log_group_and_production_settings(
    component_monitor: RecordingMonitor,
) -> pulumi.Output[None]:
    # GIVEN one function built by the component
    fn = _function()

    # WHEN its resources resolve
    def check(v: list[Any]) -> None:
        urn, _name, log_group_name, retention, role_arn, own_role_arn, policy, logging_config = v[:8]
        runtime, architectures, timeout, memory, tracing, layers, variables = v[8:]
        # THEN it has the project's type token
        assert urn.split("::")[2].split("$")[-1] == "eda-demo:components:LambdaFunction"
        # AND it runs with its own role, whose policy is the one given, plus its own log group
        assert role_arn == own_role_arn
        document = json.loads(policy)
        assert {s["Sid"] for s in document["Statement"]} == {"ReadOrders", "WriteOwnLogs", "UploadTraces"}
        assert log_group_name == "/aws/lambda/eda-demo-dev-get-order"
        assert retention == 30
        assert logging_config == {"log_format": "JSON", "log_group": log_group_name}
        # AND the production defaults
        assert (runtime, architectures, timeout, memory) == (RUNTIME, [ARCHITECTURE], TIMEOUT_SECONDS, MEMORY_MB)
        assert tracing == {"mode": "Active"}
        assert layers == [LAYER]
        assert variables[contract.ENV_ORDERS_TABLE] == "orders"
        assert variables[contract.ENV_POWERTOOLS_SERVICE_NAME] == contract.ORDER_SERVICE
        assert variables[contract.ENV_POWERTOOLS_METRICS_NAMESPACE] == contract.METRICS_NAMESPACE

    f = fn.function
    return pulumi.Output.all(
        fn.urn,
        fn.function_name,
        fn.log_group.name,
        fn.log_group.retention_in_days,
        f.role,
        fn.role.arn,
        fn.role_policy.policy,
        f.logging_config,
        f.runtime,
        f.architectures,
        f.timeout,
        f.memory_size,
        f.tracing_config,
        f.layers,
        f.environment.apply(lambda env: env["variables"] if env else {}),
    ).apply(check)


@pulumi.runtime.test
def test_operations_alarm_on_every_failure_path_to_an_encrypted_topic(
    component_monitor: RecordingMonitor,
) -> pulumi.Output[None]:
    # GIVEN a bus (with its catch-all subscription) and one function to watch
    bus = EventBus("bus", EventBusArgs(stack="dev"))
    _function(watchlist=bus.watchlist)
    ops = Operations(
        "ops",
        OperationsArgs(
            stack="dev",
            bus=bus,
            state_machine_arn=STATE_MACHINE,
            account_id=ACCOUNT,
            region="us-east-1",
            partition="aws",
            alarm_email="ops@example.com",
        ),
    )

    # WHEN the alarms, the topic and the dashboard resolve
    def check(v: list[Any]) -> None:
        topic_arn, key_arn, topic_key, body, dashboard_name, urn, *alarms = v
        # THEN it has the project's type token and one alarm per failure path (the catch-all rule's
        # and the alarm-recovery rule's DLQ and failed invocations, the function, the workflow)
        assert urn.split("::")[2].split("$")[-1] == "eda-demo:components:Operations"
        metrics = sorted((a[0], a[1]) for a in alarms)
        assert metrics == sorted(
            [
                ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
                ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
                ("AWS/Events", "FailedInvocations"),
                ("AWS/Events", "FailedInvocations"),
                ("AWS/Lambda", "Errors"),
                ("AWS/Lambda", "Throttles"),
                ("AWS/States", "ExecutionsTimedOut"),
                ("AWS/States", "ExecutionsFailed"),
            ]
        )
        # AND every alarm notifies the ops topic, which the stack's own key encrypts
        assert all(a[2] == [topic_arn] and a[3] == 0 for a in alarms)
        assert topic_key == key_arn
        # AND the dashboard shows the three order metrics
        dashboard = json.dumps(json.loads(body))
        for metric in contract.ORDER_STATUS_METRIC.values():
            assert metric in dashboard
        assert STATE_MACHINE in dashboard
        # AND the dashboard (account-global) is named after the stack and the region, not the bus alone
        assert dashboard_name == "eda-demo-dev-us-east-1"

    return pulumi.Output.all(
        ops.topic.arn,
        ops.key.arn,
        ops.topic.kms_master_key_id,
        ops.dashboard.dashboard_body,
        ops.dashboard.dashboard_name,
        ops.urn,
        *[pulumi.Output.all(a.namespace, a.metric_name, a.alarm_actions, a.threshold) for a in ops.alarms],
    ).apply(check)


@pytest.mark.parametrize("field", ["account_id", "region", "partition"])
def test_operations_args_refuse_an_empty_account_or_region_naming_the_field(field: str) -> None:
    # GIVEN Operations args whose account, region or partition is empty (it would make arn::iam:::root)
    args: dict[str, Any] = {"account_id": ACCOUNT, "region": "us-east-1", "partition": "aws", field: ""}
    # WHEN they are built  THEN the error names the field
    with pytest.raises(ValueError, match=f"OperationsArgs.{field}"):
        OperationsArgs(stack="dev", bus=cast(EventBus, object()), state_machine_arn=STATE_MACHINE, **args)
