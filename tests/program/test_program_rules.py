"""Rules on the custom bus: the seed's four patterns, each wired to the right target on the right bus."""

from __future__ import annotations

import json

import pytest
from program_testkit import (
    EVENT_BUS,
    EVENT_RULE,
    EVENT_TARGET,
    LOG_GROUP,
    PERMISSION,
    RECOVERY_RULE,
    REST_API,
    SEED_PATTERNS,
    STATE_MACHINE,
    allowed_pairs,
    as_list,
    function_by_handler,
    one,
    rule_named,
    target_of,
    trusted_services,
)

from handlers import contract
from sandbox.program.evaluation import Program

CONTRACT_PATTERNS = {
    "cw-catch-all": contract.catch_all_pattern(),
    "payment-service-filtering-orders": contract.payment_orders_pattern(),
    "order-service-filtering-payments": contract.order_payments_pattern(),
    "notification-service": contract.notification_pattern(),
}


def test_exactly_the_four_seed_rules_exist(dev_program: Program) -> None:
    # GIVEN the dev stack
    # WHEN its rules are listed
    rules = dev_program.of_type(EVENT_RULE)
    # THEN there are exactly the seed's four, under the seed's names, plus the operations rule
    # reporting alarm recoveries
    assert sorted(r.name for r in rules) == sorted([*(f"{name}-rule" for name in SEED_PATTERNS), RECOVERY_RULE])


@pytest.mark.parametrize("seed_name", sorted(SEED_PATTERNS))
def test_rule_pattern_is_the_seed_pattern_verbatim(dev_program: Program, seed_name: str) -> None:
    # GIVEN one of the seed's rules
    rule = rule_named(dev_program, seed_name)
    # WHEN its deployed pattern is parsed
    pattern = json.loads(rule["eventPattern"])
    # THEN it is the shared contract's pattern and the original design's JSON, key for key
    assert pattern == CONTRACT_PATTERNS[seed_name]
    assert pattern == json.loads(SEED_PATTERNS[seed_name])


def test_every_rule_and_target_is_on_the_stack_bus(dev_program: Program) -> None:
    # GIVEN the stack's one custom bus
    bus = one(dev_program.of_type(EVENT_BUS))
    rules = dev_program.of_type(EVENT_RULE)
    targets = dev_program.of_type(EVENT_TARGET)
    # WHEN the bus of every rule and target is read
    # THEN every one names the custom bus (a missing eventBusName silently means "default"),
    # except the alarm-recovery rule and its target, which name the default bus explicitly
    # (where CloudWatch puts alarm state changes)
    expected = {name: bus["name"] for name in SEED_PATTERNS} | {RECOVERY_RULE.removesuffix("-rule"): "default"}
    assert len(targets) == len(rules) == 5
    assert {r.name.removesuffix("-rule"): r.get("eventBusName") for r in rules} == expected
    assert {t.name.removesuffix("-target"): t.get("eventBusName") for t in targets} == expected
    # AND each rule has exactly one target
    assert sorted(t["rule"] for t in targets) == sorted(r["name"] for r in rules)


def test_catch_all_targets_its_events_log_group(dev_program: Program) -> None:
    # GIVEN the catch-all rule
    target = target_of(dev_program, rule_named(dev_program, "cw-catch-all"))
    # WHEN its target ARN is resolved
    log_group = dev_program.by_arn(target["arn"])
    # THEN it is the stack's catch-all log group under /aws/events/
    assert log_group.type == LOG_GROUP
    assert log_group["name"] == "/aws/events/eda-demo-dev-catch-all"
    assert log_group["name"].startswith("/aws/events/eda-demo-dev-")


def test_logs_resource_policy_lets_eventbridge_write_the_catch_all_group(dev_program: Program) -> None:
    # GIVEN the catch-all log group
    log_group = dev_program.by_arn(target_of(dev_program, rule_named(dev_program, "cw-catch-all"))["arn"])
    # WHEN the stack's CloudWatch Logs resource policies are read
    policy = one(dev_program.of_type("aws:cloudwatch/logResourcePolicy:LogResourcePolicy"))
    document = json.loads(policy["policyDocument"])
    # THEN events.amazonaws.com may create streams and put events in that group's streams
    principals = {s for stmt in document["Statement"] for s in as_list(stmt["Principal"]["Service"])}
    assert "events.amazonaws.com" in principals
    stream_arn = f"{log_group['arn']}:*"
    assert {("logs:CreateLogStream", stream_arn), ("logs:PutLogEvents", stream_arn)} <= allowed_pairs(document)
    # AND the policy is attached to that group (resource-scoped), so it is not one of the ten
    # account-scoped policies CloudWatch Logs allows per region across every stack of the account
    assert policy["resourceArn"] == log_group["arn"]
    assert policy.get("policyName") is None
    assert policy["policyScope"] == "RESOURCE"


def test_payment_rule_starts_the_state_machine_through_a_role_events_can_assume(dev_program: Program) -> None:
    # GIVEN the payment rule's target
    target = target_of(dev_program, rule_named(dev_program, "payment-service-filtering-orders"))
    # WHEN its ARN and role are resolved
    state_machine = dev_program.by_arn(target["arn"])
    role = dev_program.by_arn(target["roleArn"])
    # THEN it is the payment state machine, and the role is trusted by EventBridge only
    assert state_machine.type == STATE_MACHINE
    assert state_machine["arn"] == dev_program.outputs["payment_state_machine_arn"]
    assert trusted_services(role["assumeRolePolicy"]) == {"events.amazonaws.com"}
    # (what the role may do, exactly StartExecution on this machine, is in test_program_iam)


@pytest.mark.parametrize(
    ("seed_name", "handler"),
    [
        ("order-service-filtering-payments", "handlers.update_order.handler"),
        ("notification-service", "handlers.notification.handler"),
    ],
)
def test_lambda_rule_invokes_its_function_with_a_permission_for_that_rule(
    dev_program: Program, seed_name: str, handler: str
) -> None:
    # GIVEN a rule whose target is a function
    rule = rule_named(dev_program, seed_name)
    target = target_of(dev_program, rule)
    # WHEN the target and the function's invoke permissions are resolved
    function = dev_program.by_arn(target["arn"])
    permissions = list(dev_program.find(PERMISSION, function=function["name"]))
    # THEN the target is the function running the right handler
    assert function["handler"] == handler
    assert function == function_by_handler(dev_program, handler)
    # AND exactly one permission lets EventBridge invoke it, from that rule only
    assert [(p["principal"], p["sourceArn"], p["action"]) for p in permissions] == [
        ("events.amazonaws.com", rule["arn"], "lambda:InvokeFunction")
    ]


@pytest.mark.parametrize(
    ("handler", "route"),
    [("handlers.create_order.handler", "/*/POST/order"), ("handlers.get_order.handler", "/*/GET/order/*")],
)
def test_api_functions_are_invocable_by_this_api_only(dev_program: Program, handler: str, route: str) -> None:
    # GIVEN the stack's REST API and one of its functions
    api = one(dev_program.of_type(REST_API))
    function = function_by_handler(dev_program, handler)
    # WHEN that function's invoke permissions are read
    permissions = list(dev_program.find(PERMISSION, function=function["name"]))
    # THEN exactly one lets API Gateway invoke it, for this API's route only
    assert [(p["principal"], p["sourceArn"]) for p in permissions] == [
        ("apigateway.amazonaws.com", f"{api['executionArn']}{route}")
    ]
    assert permissions[0]["sourceArn"].startswith(api["executionArn"] + "/")


@pytest.mark.parametrize(
    ("http_method", "path_part", "handler"),
    [("POST", "order", "handlers.create_order.handler"), ("GET", "{id}", "handlers.get_order.handler")],
)
def test_api_route_integrates_its_function(
    dev_program: Program, http_method: str, path_part: str, handler: str
) -> None:
    # GIVEN the API resource of a route
    resource = one(dev_program.find("aws:apigateway/resource:Resource", pathPart=path_part))
    # WHEN the integration of that method on that resource is read
    integration = one(
        dev_program.find("aws:apigateway/integration:Integration", resourceId=resource.id, httpMethod=http_method)
    )
    # THEN it proxies to the function running the route's handler
    assert integration["type"] == "AWS_PROXY"
    assert integration["uri"] == function_by_handler(dev_program, handler)["invokeArn"]
