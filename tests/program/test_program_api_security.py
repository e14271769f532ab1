"""The API's security controls (checkov's findings): execution logging, the web ACL, the audit trail's retention.

Each control is built under Pulumi's mocks in an ``OrderService`` (``@pulumi.runtime.test``: the
asserts run once every value resolves) at the production config SECURITY.md recommends, and
proven absent, or at its development value, at the dev config.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from program_testkit import RecordingMonitor

from components import EventBus, EventBusArgs, OrderService, OrderServiceArgs
from components.settings import ConfigError, load_settings
from cost.meter import web_acl_usage
from sandbox.program.evaluation import Program, evaluate

LAYER = "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:27"
ACCOUNT = "123456789012"


def _order_service(**production: Any) -> OrderService:
    bus = EventBus("bus", EventBusArgs(stack="dev"))
    args = OrderServiceArgs(
        stack="dev", bus=bus, layer_arn=LAYER, account_id=ACCOUNT, region="us-east-1", partition="aws", **production
    )
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


#: What SECURITY.md's production table sets for these controls.
PRODUCTION = {"api_waf": True, "api_waf_rate_limit": 500, "audit_log_retention_days": 365, "log_retention_days": 90}


@pulumi.runtime.test
def test_at_the_production_config_a_web_acl_guards_the_stage(
    component_monitor: RecordingMonitor,
) -> pulumi.Output[None]:
    # GIVEN the order service at the production config
    orders = _order_service(**PRODUCTION)
    assert orders.web_acl is not None
    acl, association = orders.web_acl.web_acl, orders.web_acl.association

    # WHEN the web ACL and its association resolve
    def check(v: list[Any]) -> None:
        # Nested inputs come back as mappings of the SDK's own types: compared as plain JSON.
        scope, default_action, rules, visibility, acl_arn, associated_acl, associated_stage, stage_arn = json.loads(
            json.dumps(v)
        )
        # THEN a REGIONAL ACL allows by default, rate-limits each client IP first, then runs AWS's
        # common and known-bad-inputs groups with their own actions
        assert (scope, default_action) == ("REGIONAL", {"allow": {}})
        assert [(r["priority"], r["name"]) for r in rules] == [
            (0, "rate-limit-per-ip"),
            (1, "AWSManagedRulesCommonRuleSet"),
            (2, "AWSManagedRulesKnownBadInputsRuleSet"),
        ]
        rate = rules[0]
        assert rate["action"] == {"block": {}} and "override_action" not in rate
        assert rate["statement"] == {
            "rate_based_statement": {"limit": 500, "aggregate_key_type": "IP", "evaluation_window_sec": 300}
        }
        for managed in rules[1:]:
            group = {"vendor_name": "AWS", "name": managed["name"]}
            assert managed["statement"] == {"managed_rule_group_statement": group}
            assert managed["override_action"] == {"none": {}} and "action" not in managed
        # AND every rule and the ACL publish metrics and sampled requests, under this stack's names
        for config in [visibility, *(r["visibility_config"] for r in rules)]:
            assert config["cloudwatch_metrics_enabled"] and config["sampled_requests_enabled"]
            assert config["metric_name"].startswith("eda-demo-dev-")
        # AND the ACL is associated with this stage
        assert (associated_acl, associated_stage) == (acl_arn, stage_arn)
        assert acl_arn.startswith("arn:aws:wafv2:us-east-1:123456789012:regional/webacl/")

    return pulumi.Output.all(
        acl.scope,
        acl.default_action,
        acl.rules,
        acl.visibility_config,
        acl.arn,
        association.web_acl_arn,
        association.resource_arn,
        orders.stage.arn,
    ).apply(check)


@pulumi.runtime.test
def test_at_the_dev_config_no_web_acl_is_created(component_monitor: RecordingMonitor) -> pulumi.Output[None]:
    # GIVEN the order service at the dev config
    orders = _order_service()

    # WHEN everything it declared resolves
    def check(_: str) -> None:
        # THEN it has no web ACL and declared none
        assert orders.web_acl is None
        declared = [urn for urn in component_monitor.resources if "wafv2" in urn]
        assert declared == []

    return orders.urn.apply(check)


@pulumi.runtime.test
def test_at_the_production_config_the_audit_trail_is_kept_a_year(
    component_monitor: RecordingMonitor,
) -> pulumi.Output[None]:
    # GIVEN the bus and the order service at the production config (logs 90 days, audit trail 365)
    bus = EventBus("bus", EventBusArgs(stack="dev", log_retention_days=90, audit_log_retention_days=365))
    args = OrderServiceArgs(
        stack="dev", bus=bus, layer_arn=LAYER, account_id=ACCOUNT, region="us-east-1", partition="aws", **PRODUCTION
    )
    orders = OrderService("orders", args)

    # WHEN the log groups' retentions resolve
    def check(v: list[int]) -> None:
        catch_all, access, execution, function = v
        # THEN the audit trail (every event, every API request) is kept a year; the other logs 90 days
        assert (catch_all, access) == (365, 365)
        assert (execution, function) == (90, 90)

    return pulumi.Output.all(
        bus.catch_all_log_group.retention_in_days,
        orders.access_logs.retention_in_days,
        orders.execution_logs.retention_in_days,
        orders.create_order.log_group.retention_in_days,
    ).apply(check)


@pulumi.runtime.test
def test_at_the_dev_config_the_audit_trail_follows_the_log_retention(
    component_monitor: RecordingMonitor,
) -> pulumi.Output[None]:
    # GIVEN the bus and the order service at the dev config
    bus = EventBus("bus", EventBusArgs(stack="dev"))
    orders = OrderService(
        "orders",
        OrderServiceArgs(
            stack="dev", bus=bus, layer_arn=LAYER, account_id=ACCOUNT, region="us-east-1", partition="aws"
        ),
    )

    # WHEN the audit trail's retentions resolve  THEN they are the stack's 14 days
    def check(v: list[int]) -> None:
        assert v == [14, 14]

    return pulumi.Output.all(bus.catch_all_log_group.retention_in_days, orders.access_logs.retention_in_days).apply(
        check
    )


def test_the_config_keys_reach_the_settings_and_default_off() -> None:
    # GIVEN the keys of the production table, and none
    production = {"apiWaf": "true", "apiWafRateLimit": "500", "auditLogRetentionDays": "365", "logRetentionDays": "90"}
    # WHEN they are loaded
    configured, default = load_settings(production.get), load_settings({}.get)
    # THEN the production stack has its web ACL and a year of audit trail
    assert (configured.api_waf, configured.api_waf_rate_limit, configured.audit_retention_days) == (True, 500, 365)
    # AND a developer stack has no web ACL, and keeps its audit trail as long as its other logs
    assert (default.api_waf, default.api_waf_rate_limit, default.audit_retention_days) == (False, 1000, 14)
    assert load_settings({"logRetentionDays": "30"}.get).audit_retention_days == 30


@pytest.mark.parametrize(
    ("key", "value", "accepted"),
    [
        ("apiWaf", "on", "true or false"),
        ("apiWafRateLimit", "9", "integer from 10 to 2000000000"),
        ("apiWafRateLimit", "2000000001", "integer from 10 to 2000000000"),
        ("apiWafRateLimit", "many", "integer from 10 to 2000000000"),
        ("auditLogRetentionDays", "364", "1, 3, 5, 7, 14, 30"),
        ("auditLogRetentionDays", "forever", "integer"),
    ],
)
def test_a_bad_value_of_these_keys_is_refused_naming_it(key: str, value: str, accepted: str) -> None:
    # GIVEN one bad value  WHEN the config is loaded  THEN it is refused, naming the key, the value and what is accepted
    with pytest.raises(ConfigError) as raised:
        load_settings({key: value}.get)
    assert f"eda-demo:{key}" in str(raised.value) and repr(value) in str(raised.value)
    assert accepted in str(raised.value)


def test_make_cost_counts_the_web_acl_only_where_the_config_turns_it_on(dev_program: Program) -> None:
    # GIVEN the dev stack, and the same stack with apiWaf on
    guarded = evaluate("dev", overrides={"eda-demo:apiWaf": "true"})
    # WHEN the meter reads their web ACLs, for 1.5 API requests an order
    # THEN the dev stack has none to pay for; the other one ACL of 3 rules inspecting every request
    assert web_acl_usage(dev_program, 1.5) == {"web_acls": 0, "web_acl_rules": 0, "waf_requests": 0.0}
    assert web_acl_usage(guarded, 1.5) == {"web_acls": 1, "web_acl_rules": 3, "waf_requests": 1.5}
