"""Each component on its own, under mocks: type token, parented children, wiring and registered outputs.

Every test that builds resources is a ``@pulumi.runtime.test``: it returns an Output whose
``apply(check)`` runs the asserts once every value is resolved (an undecorated test would return
before any of them ran). Registered outputs are read from the recording monitor after a decorated
build has run to completion.
"""

from __future__ import annotations

import json
from typing import Any, cast

import pulumi
import pytest
from program_testkit import SEED_PATTERNS, RecordingMonitor, allowed_pairs, trusted_services

from components import (
    EventBus,
    EventBusArgs,
    NotificationService,
    NotificationServiceArgs,
    OrderService,
    OrderServiceArgs,
    PaymentService,
    PaymentServiceArgs,
)
from handlers import contract

LAYER = "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:27"
NOT_A_BUS = cast(EventBus, object())  # args validation never touches the bus
ACCOUNT = "123456789012"


def _type_of(urn: str) -> str:
    return urn.split("::")[2].split("$")[-1]


def _parent_type(urn: str) -> str:
    """The type of a resource's parent, as recorded in the URN's qualified type."""
    return urn.split("::")[2].split("$")[-2]


def _assert_children_of(component_type: str, urns: list[str]) -> None:
    assert urns
    assert {u.split("::")[-1]: _parent_type(u) for u in urns} == {u.split("::")[-1]: component_type for u in urns}


def _registered(monitor: RecordingMonitor, urn: str) -> dict[str, Any]:
    assert urn in monitor.registered_outputs, f"{urn} never called register_outputs"
    return monitor.registered_outputs[urn]


def _build(make: Any) -> Any:
    """Run ``make`` as a Pulumi program to completion and return what it built."""
    built: dict[str, Any] = {}

    @pulumi.runtime.test
    def program() -> pulumi.Output[str]:
        built["component"] = make()
        return built["component"].urn

    program()
    return built["component"]


def _urn_of(component: pulumi.Resource) -> str:
    resolved: dict[str, str] = {}

    @pulumi.runtime.test
    def read() -> pulumi.Output[None]:
        return component.urn.apply(lambda urn: resolved.update(urn=urn))

    read()
    return resolved["urn"]


# --- EventBus ----------------------------------------------------------------------------------


@pulumi.runtime.test
def test_event_bus_type_and_parented_children(component_monitor: RecordingMonitor) -> pulumi.Output[None]:
    # GIVEN an EventBus for the dev stack
    bus = EventBus("bus", EventBusArgs(stack="dev"))
    children = [
        bus.bus,
        bus.drain,
        bus.catch_all_log_group,
        bus.logs_resource_policy,
        bus.archive,
        bus.catch_all.rule,
        bus.catch_all.target,
        bus.catch_all.dead_letter_queue,
    ]

    # WHEN its URNs resolve
    def check(urns: list[str]) -> None:
        # THEN it has the project's type token and every child is parented to it
        assert _type_of(urns[0]) == "eda-demo:components:EventBus"
        _assert_children_of("eda-demo:components:EventBus", urns[1:])

    return pulumi.Output.all(bus.urn, *[c.urn for c in children]).apply(check)


@pulumi.runtime.test
def test_event_bus_catch_all_writes_its_log_group_on_the_stack_bus(
    component_monitor: RecordingMonitor,
) -> pulumi.Output[None]:
    # GIVEN an EventBus keeping logs 30 days and events 3 days
    bus = EventBus("bus", EventBusArgs(stack="dev", log_retention_days=30, archive_retention_days=3))
    rule, target = bus.catch_all.rule, bus.catch_all.target

    # WHEN its wiring resolves
    def check(v: list[Any]) -> None:
        bus_name, rule_bus, target_bus, pattern, target_arn, log_arn, log_name, retention, archive = v[:9]
        archive_source, archive_days, logs_policy, policy_group, policy_name = v[9:]
        # THEN the bus is the stack's, and the catch-all rule and target are on it
        assert bus_name == "eda-demo-dev"
        assert (rule_bus, target_bus) == (bus_name, bus_name)
        assert json.loads(pattern) == {"source": [{"exists": True}]}
        # AND the target is the /aws/events/ log group with the requested retention
        assert target_arn == log_arn
        assert (log_name, retention) == ("/aws/events/eda-demo-dev-catch-all", 30)
        # AND EventBridge may write that group, through a policy attached to the group itself (not one
        # of the ten account-scoped policies of the region), and the archive keeps the bus's events 3 days
        assert ("logs:PutLogEvents", f"{log_arn}:*") in allowed_pairs(logs_policy)
        assert (policy_group, policy_name) == (log_arn, None)
        assert archive.startswith("arn:aws:events:")
        assert archive_days == 3
        assert archive_source.endswith(":event-bus/eda-demo-dev")

    return pulumi.Output.all(
        bus.bus_name,
        rule.event_bus_name,
        target.event_bus_name,
        rule.event_pattern,
        target.arn,
        bus.catch_all_log_group.arn,
        bus.catch_all_log_group.name,
        bus.catch_all_log_group.retention_in_days,
        bus.archive_arn,
        bus.archive.event_source_arn,
        bus.archive.retention_days,
        bus.logs_resource_policy.policy_document,
        bus.logs_resource_policy.resource_arn,
        bus.logs_resource_policy.policy_name,
    ).apply(check)


def test_event_bus_registers_its_outputs(component_monitor: RecordingMonitor) -> None:
    # GIVEN an EventBus built to completion
    bus = _build(lambda: EventBus("bus", EventBusArgs(stack="dev")))
    # WHEN its registered outputs are read
    outputs = _registered(component_monitor, _urn_of(bus))
    # THEN they are its declared outputs, resolved
    assert set(outputs) == {"bus_name", "bus_arn", "catch_all_log_group_name", "archive_arn"}
    assert outputs["bus_name"] == "eda-demo-dev"
    assert outputs["catch_all_log_group_name"] == "/aws/events/eda-demo-dev-catch-all"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"stack": ""}, "stack"),
        ({"stack": "dev", "archive_retention_days": -1}, "archive"),
        # 0 ("keep forever") is never sent by the provider's update, so it could never apply
        ({"stack": "dev", "archive_retention_days": 0}, "archive"),
    ],
)
def test_event_bus_args_reject_bad_values_naming_the_field(kwargs: dict[str, Any], field: str) -> None:
    # GIVEN args AWS would reject  WHEN they are built  THEN the error names the field
    with pytest.raises(ValueError, match=f"EventBusArgs.{field}"):
        EventBusArgs(**kwargs)


# --- OrderService ------------------------------------------------------------------------------


def _order_service(api_auth: str = "NONE", stack: str = "dev") -> tuple[EventBus, OrderService]:
    bus = EventBus("bus", EventBusArgs(stack=stack))
    return bus, OrderService(
        "orders",
        OrderServiceArgs(
            stack=stack,
            bus=bus,
            layer_arn=LAYER,
            account_id=ACCOUNT,
            region="us-east-1",
            partition="aws",
            api_auth=api_auth,
        ),
    )


@pulumi.runtime.test
def test_order_service_type_and_parented_children(component_monitor: RecordingMonitor) -> pulumi.Output[None]:
    # GIVEN an OrderService on a bus
    _, orders = _order_service()
    direct = [orders.table, orders.api, orders.stage, orders.payments.rule, orders.payments.target]
    functions = [orders.create_order, orders.get_order, orders.update_order]

    # WHEN its URNs resolve
    def check(v: list[Any]) -> None:
        urn, direct_urns, function_urns, function_children = v
        # THEN it has the project's type token; table, API, rule and functions are its children
        assert _type_of(urn) == "eda-demo:components:OrderService"
        _assert_children_of("eda-demo:components:OrderService", [*direct_urns, *function_urns])
        assert {_type_of(u) for u in function_urns} == {"eda-demo:components:LambdaFunction"}
        # AND each function's role, policy, log group and function are children of that function
        _assert_children_of("eda-demo:components:LambdaFunction", function_children)

    return pulumi.Output.all(
        orders.urn,
        pulumi.Output.all(*[r.urn for r in direct]),
        pulumi.Output.all(*[f.urn for f in functions]),
        pulumi.Output.all(*[r.urn for f in functions for r in (f.function, f.role, f.role_policy, f.log_group)]),
    ).apply(check)


@pulumi.runtime.test
def test_order_service_payments_rule_invokes_update_order(component_monitor: RecordingMonitor) -> pulumi.Output[None]:
    # GIVEN an OrderService on alice's bus
    bus, orders = _order_service(stack="alice")
    sub = orders.payments
    fn = orders.update_order

    # WHEN the payments subscription resolves
    def check(v: list[Any]) -> None:
        pattern, rule_bus, target_bus, target_arn, fn_arn, handler, env, bus_name = v
        # THEN payment outcomes go, on the given bus, to update-order
        assert json.loads(pattern) == {"source": ["payment-service"]}
        assert (rule_bus, target_bus) == (bus_name, bus_name) == ("eda-demo-alice", "eda-demo-alice")
        assert target_arn == fn_arn
        assert handler == "handlers.update_order.handler"
        # update-order writes the table only: the outbox publishes, so it knows no bus
        assert contract.ENV_EVENT_BUS not in env

    return pulumi.Output.all(
        sub.rule.event_pattern,
        sub.rule.event_bus_name,
        sub.target.event_bus_name,
        sub.target.arn,
        fn.function_arn,
        fn.function.handler,
        fn.function.environment.apply(lambda e: e["variables"] if isinstance(e, dict) else e.variables),
        bus.bus_name,
    ).apply(check)


@pulumi.runtime.test
def test_order_service_api_key_mode_requires_keys(component_monitor: RecordingMonitor) -> pulumi.Output[None]:
    # GIVEN an OrderService whose API requires an API key
    _, orders = _order_service(api_auth="API_KEY")

    # WHEN its methods resolve
    def check(v: list[Any]) -> None:
        # THEN both require a key, and a key exists
        assert v[:2] == [True, True]
        assert v[2]

    return pulumi.Output.all(
        orders.post_order.api_key_required, orders.get_order_method.api_key_required, orders.api_key.id
    ).apply(check)


def test_order_service_registers_its_outputs(component_monitor: RecordingMonitor) -> None:
    # GIVEN an OrderService built to completion
    orders = _build(lambda: _order_service()[1])
    # WHEN its registered outputs are read
    outputs = _registered(component_monitor, _urn_of(orders))
    # THEN they are its declared outputs, resolved
    assert set(outputs) == {"table_name", "table_arn", "api_url"}
    assert outputs["api_url"].endswith("/api")
    assert outputs["table_arn"].endswith(f":table/{outputs['table_name']}")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"api_auth": "OPEN"}, "api_auth"),
        ({"throttle_rate": 0}, "throttle_rate"),
        ({"account_id": ""}, "account_id"),
        ({"region": ""}, "region"),
        ({"partition": ""}, "partition"),
    ],
)
def test_order_service_args_reject_bad_values_naming_the_field(kwargs: dict[str, Any], field: str) -> None:
    # GIVEN bad API settings or an empty account or region  WHEN the args are built  THEN the error names the field
    args: dict[str, Any] = {"account_id": ACCOUNT, "region": "us-east-1", "partition": "aws", **kwargs}
    with pytest.raises(ValueError, match=f"OrderServiceArgs.{field}"):
        OrderServiceArgs(stack="dev", bus=NOT_A_BUS, layer_arn=LAYER, **args)


# --- PaymentService ----------------------------------------------------------------------------


def _payment_service(stack: str = "dev", threshold: float = 500) -> tuple[EventBus, PaymentService]:
    bus = EventBus("bus", EventBusArgs(stack=stack))
    return bus, PaymentService(
        "payments", PaymentServiceArgs(stack=stack, bus=bus, partition="aws", fraud_threshold=threshold)
    )


@pulumi.runtime.test
def test_payment_service_type_and_parented_children(component_monitor: RecordingMonitor) -> pulumi.Output[None]:
    # GIVEN a PaymentService on a bus
    _, payments = _payment_service()
    children = [
        payments.state_machine,
        payments.role,
        payments.role_policy,
        payments.log_group,
        payments.events_role,
        payments.events_role_policy,
        payments.orders.rule,
        payments.orders.target,
        payments.orders.dead_letter_queue,
    ]

    # WHEN its URNs resolve
    def check(urns: list[str]) -> None:
        # THEN it has the project's type token and owns its rule and target (not the bus)
        assert _type_of(urns[0]) == "eda-demo:components:PaymentService"
        _assert_children_of("eda-demo:components:PaymentService", urns[1:])

    return pulumi.Output.all(payments.urn, *[c.urn for c in children]).apply(check)


@pulumi.runtime.test
def test_payment_service_workflow_uses_the_given_bus_and_threshold(
    component_monitor: RecordingMonitor,
) -> pulumi.Output[None]:
    # GIVEN a PaymentService on alice's bus with a threshold of 120
    bus, payments = _payment_service(stack="alice", threshold=120)
    target = payments.orders.target

    # WHEN the definition, the rule target and its role resolve
    def check(v: list[Any]) -> None:
        definition, bus_name, target_arn, sm_arn, role_arn, start_role_arn, trust, start_policy, pattern = v
        states = json.loads(definition)["States"]
        # THEN the workflow puts on alice's bus and fails amounts above 120
        assert states["Notify EventBus"]["Parameters"]["Entries"][0]["EventBusName"] == bus_name == "eda-demo-alice"
        assert states["isFraud"]["Choices"][0]["NumericGreaterThan"] == 120
        # AND new orders start it through a role EventBridge assumes, allowed exactly that
        assert json.loads(pattern) == json.loads(SEED_PATTERNS["payment-service-filtering-orders"])
        assert target_arn == sm_arn
        assert role_arn == start_role_arn
        assert trusted_services(trust) == {"events.amazonaws.com"}
        assert allowed_pairs(start_policy) == {("states:StartExecution", sm_arn)}

    return pulumi.Output.all(
        payments.state_machine.definition,
        bus.bus_name,
        target.arn,
        payments.state_machine_arn,
        target.role_arn,
        payments.events_role.arn,
        payments.events_role.assume_role_policy,
        payments.events_role_policy.policy,
        payments.orders.rule.event_pattern,
    ).apply(check)


def test_payment_service_registers_its_outputs(component_monitor: RecordingMonitor) -> None:
    # GIVEN a PaymentService built to completion
    payments = _build(lambda: _payment_service()[1])
    # WHEN its registered outputs are read
    outputs = _registered(component_monitor, _urn_of(payments))
    # THEN they are its declared outputs, resolved
    assert set(outputs) == {"state_machine_arn", "state_machine_name", "workflow_log_group_name"}
    assert outputs["state_machine_arn"].endswith(f":stateMachine:{outputs['state_machine_name']}")
    assert outputs["workflow_log_group_name"] == "/aws/vendedlogs/eda-demo-dev-payment-workflow"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"fraud_threshold": 0}, "fraud_threshold"),
        ({"fraud_threshold": float("nan")}, "fraud_threshold"),
        ({"workflow_type": "FAST"}, "workflow_type"),
    ],
)
def test_payment_service_args_reject_bad_values_naming_the_field(kwargs: dict[str, Any], field: str) -> None:
    # GIVEN a bad threshold or workflow type  WHEN the args are built  THEN the error names the field
    with pytest.raises(ValueError, match=f"PaymentServiceArgs.{field}"):
        PaymentServiceArgs(stack="dev", bus=NOT_A_BUS, partition="aws", **kwargs)


# --- NotificationService -----------------------------------------------------------------------


def _notification_service(email: str | None = None) -> NotificationService:
    bus = EventBus("bus", EventBusArgs(stack="dev"))
    return NotificationService(
        "notifications", NotificationServiceArgs(stack="dev", bus=bus, layer_arn=LAYER, notification_email=email)
    )


@pulumi.runtime.test
def test_notification_service_type_and_parented_children(
    component_monitor: RecordingMonitor,
) -> pulumi.Output[None]:
    # GIVEN a NotificationService with an email
    notifications = _notification_service("me@example.com")
    assert notifications.email_subscription is not None
    children = [
        notifications.topic,
        notifications.email_subscription,
        notifications.notification,
        notifications.events.rule,
        notifications.events.target,
    ]

    # WHEN its URNs resolve
    def check(urns: list[str]) -> None:
        # THEN it has the project's type token and every child is parented to it
        assert _type_of(urns[0]) == "eda-demo:components:NotificationService"
        _assert_children_of("eda-demo:components:NotificationService", urns[1:])

    return pulumi.Output.all(notifications.urn, *[c.urn for c in children]).apply(check)


@pulumi.runtime.test
def test_notification_service_rule_invokes_the_function_that_publishes_to_its_topic(
    component_monitor: RecordingMonitor,
) -> pulumi.Output[None]:
    # GIVEN a NotificationService with an email
    notifications = _notification_service("me@example.com")
    fn = notifications.notification
    subscription = notifications.email_subscription
    assert subscription is not None

    # WHEN its rule, function and subscription resolve
    def check(v: list[Any]) -> None:
        pattern, target_arn, fn_arn, env, policy, topic_arn, endpoint, sub_topic = v
        # THEN order and payment events go to the notification function
        assert json.loads(pattern) == json.loads(SEED_PATTERNS["notification-service"])
        assert target_arn == fn_arn
        # AND that function publishes to this service's topic, which emails the given address
        assert env[contract.ENV_NOTIFICATION_TOPIC] == topic_arn
        assert ("sns:Publish", topic_arn) in allowed_pairs(policy)
        assert (endpoint, sub_topic) == ("me@example.com", topic_arn)

    return pulumi.Output.all(
        notifications.events.rule.event_pattern,
        notifications.events.target.arn,
        fn.function_arn,
        fn.function.environment.apply(lambda e: e["variables"] if isinstance(e, dict) else e.variables),
        fn.role_policy.policy,
        notifications.topic_arn,
        subscription.endpoint,
        subscription.topic,
    ).apply(check)


@pulumi.runtime.test
def test_notification_service_without_email_has_no_subscription(
    component_monitor: RecordingMonitor,
) -> pulumi.Output[str]:
    # GIVEN a NotificationService without an email
    notifications = _notification_service(None)
    # WHEN it is built
    # THEN it subscribes nobody (an unconfirmed email would sit "PendingConfirmation" forever)
    assert notifications.email_subscription is None
    return notifications.topic_arn


def test_notification_service_registers_its_outputs(component_monitor: RecordingMonitor) -> None:
    # GIVEN a NotificationService built to completion
    notifications = _build(_notification_service)
    # WHEN its registered outputs are read
    outputs = _registered(component_monitor, _urn_of(notifications))
    # THEN they are its declared outputs, resolved
    assert set(outputs) == {"topic_arn"}
    assert outputs["topic_arn"].startswith("arn:aws:sns:us-east-1:")
