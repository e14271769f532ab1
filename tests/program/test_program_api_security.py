"""The API's security controls (checkov's findings): execution logging, the web ACL, the audit trail's retention.

Each control is built under Pulumi's mocks in an ``OrderService`` (``@pulumi.runtime.test``: the
asserts run once every value resolves) at the production config SECURITY.md recommends, and
proven absent, or at its development value, at the dev config.
"""

from __future__ import annotations

from typing import Any

import pulumi
from program_testkit import RecordingMonitor

from components import EventBus, EventBusArgs, OrderService, OrderServiceArgs

LAYER = "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:27"
ACCOUNT = "123456789012"


def _order_service(**production: Any) -> OrderService:
    bus = EventBus("bus", EventBusArgs(stack="dev"))
    args = OrderServiceArgs(stack="dev", bus=bus, layer_arn=LAYER, account_id=ACCOUNT, region="us-east-1", **production)
    return OrderService("orders", args)


@pulumi.runtime.test
def test_the_stage_logs_its_execution_at_error_into_a_group_it_created_first(
    component_monitor: RecordingMonitor,
) -> pulumi.Output[None]:
    # GIVEN the order service keeping logs 90 days
    orders = _order_service(log_retention_days=90)
    settings = orders.method_settings

    # WHEN its method settings and execution log group resolve
    def check(v: list[Any]) -> None:
        api_id, group_name, retention, path, level, data_trace, settings_urn, group_urn = v
        # THEN every method logs errors only, without request and response bodies
        assert (path, level, data_trace) == ("*/*", "ERROR", False)
        # AND into the group API Gateway writes to, with the stack's retention, created before logging starts
        assert group_name == f"API-Gateway-Execution-Logs_{api_id}/api"
        assert retention == 90
        assert group_urn in component_monitor.dependencies[settings_urn]

    return pulumi.Output.all(
        orders.api.id,
        orders.execution_logs.name,
        orders.execution_logs.retention_in_days,
        settings.method_path,
        settings.settings.apply(lambda s: s.logging_level if s else None),
        settings.settings.apply(lambda s: s.data_trace_enabled if s else None),
        settings.urn,
        orders.execution_logs.urn,
    ).apply(check)
