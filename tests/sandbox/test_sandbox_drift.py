"""No drift: the sandbox follows the program's config and components, with no other edit."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

import pytest

from components.event_bus import EventBus
from handlers import contract
from sandbox.program import evaluate
from sandbox.runtime import Sandbox
from tests.sandbox.conftest import get_order, http, post_order


def test_the_fraud_threshold_comes_from_config(start_sandbox: Callable[..., Sandbox]) -> None:
    # GIVEN the dev stack with its fraud threshold lowered to 50 through config
    sandbox = start_sandbox(evaluate("dev", overrides={"eda-demo:fraudThreshold": "50"}))
    # WHEN orders of 50 and 50.01 are placed
    assert post_order(sandbox, 1, 50).status == 201
    assert post_order(sandbox, 2, 50.01).status == 201
    assert sandbox.wait_idle(30)
    # THEN the state machine the sandbox runs applies the configured threshold
    assert get_order(sandbox, 1).body["status"] == contract.ORDER_COMPLETED
    assert get_order(sandbox, 2).body["status"] == contract.ORDER_CANCELLED


def test_the_express_workflow_type_from_config_runs_the_same_choreography(
    start_sandbox: Callable[..., Sandbox],
) -> None:
    # GIVEN the payment workflow switched to EXPRESS through config
    program = evaluate("dev", overrides={"eda-demo:paymentWorkflowType": "EXPRESS"})
    sandbox = start_sandbox(program)
    machine = sandbox.client("stepfunctions").describe_state_machine(
        stateMachineArn=sandbox.outputs["payment_state_machine_arn"]
    )
    assert machine["type"] == "EXPRESS"
    # WHEN orders on both sides of the threshold are placed
    assert post_order(sandbox, 5, 500).status == 201
    assert post_order(sandbox, 6, 501).status == 201
    assert sandbox.wait_idle(30)
    # THEN they end as with STANDARD
    assert get_order(sandbox, 5).body["status"] == contract.ORDER_COMPLETED
    assert get_order(sandbox, 6).body["status"] == contract.ORDER_CANCELLED


def test_a_rule_retargeted_in_the_components_is_retargeted_in_the_sandbox(
    start_sandbox: Callable[..., Sandbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a variant of the program whose notification rule targets update-order instead
    original_subscribe = EventBus.subscribe
    targets: dict[str, Any] = {}

    def retargeting_subscribe(self: EventBus, name: str, pattern: dict[str, Any], **kwargs: Any) -> Any:
        targets[name] = kwargs["target_arn"]
        if name == "notification-service":
            kwargs["target_arn"] = targets["order-service-filtering-payments"]
        return original_subscribe(self, name, pattern, **kwargs)

    monkeypatch.setattr(EventBus, "subscribe", retargeting_subscribe)
    sandbox = start_sandbox(evaluate("dev"))
    # WHEN an order flows through
    assert post_order(sandbox, 3, 10).status == 201
    assert sandbox.wait_idle(30)
    # THEN no email is sent (the notification function is no rule's target any more) ...
    assert sandbox.outbox == []
    # ... and update-order, now receiving every event, still completes the order exactly once
    assert get_order(sandbox, 3).body["status"] == contract.ORDER_COMPLETED


def test_a_pattern_changed_in_the_contract_is_the_pattern_the_sandbox_matches(
    start_sandbox: Callable[..., Sandbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the notification rule narrowed to payment events in the contract module
    monkeypatch.setattr(contract, "notification_pattern", lambda: {"source": [contract.PAYMENT_SERVICE]})
    sandbox = start_sandbox(evaluate("dev"))
    # WHEN an order flows through
    assert post_order(sandbox, 4, 10).status == 201
    assert sandbox.wait_idle(30)
    # THEN only the payment event is notified
    assert [m["subject"] for m in sandbox.outbox] == ["Payment for order 4 succeeded"]


def test_a_function_environment_changed_in_the_program_reaches_the_handler(
    start_sandbox: Callable[..., Sandbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a variant whose create-order function logs at DEBUG (an environment variable of the program)
    from components import lambda_function

    original = lambda_function.aws.lambda_.Function

    def function_with_debug(name: str, **kwargs: Any) -> Any:
        if kwargs["handler"] == "handlers.create_order.handler":
            variables = dict(kwargs["environment"].variables)
            variables["POWERTOOLS_LOG_LEVEL"] = "DEBUG"
            kwargs["environment"] = lambda_function.aws.lambda_.FunctionEnvironmentArgs(variables=variables)
        return original(name, **kwargs)

    monkeypatch.setattr(lambda_function.aws.lambda_, "Function", function_with_debug)
    sandbox = start_sandbox(evaluate("dev"))
    # WHEN the sandbox loads its functions
    create_order = next(
        fn for fn in sandbox.functions.functions.values() if fn.handler == "handlers.create_order.handler"
    )
    # THEN the handler was loaded with the program's value
    assert create_order.environment["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
    handler_globals = inspect.unwrap(create_order._entry).__globals__  # type: ignore[arg-type]
    assert handler_globals["logger"].log_level == logging.DEBUG


def test_api_auth_from_config_is_enforced_by_the_local_api(start_sandbox: Callable[..., Sandbox]) -> None:
    # GIVEN the API closed with an API key through config
    sandbox = start_sandbox(evaluate("dev", overrides={"eda-demo:apiAuth": "API_KEY"}))
    (key,) = sandbox.api_keys
    body = '{"id":8,"amount":10}'
    # WHEN an order is posted without the key, with a wrong one, then with the program's key
    without = http("POST", f"{sandbox.api_url}/order", body)
    wrong = http("POST", f"{sandbox.api_url}/order", body, headers={"x-api-key": "guess"})
    right = http("POST", f"{sandbox.api_url}/order", body, headers={"x-api-key": key})
    # THEN only the last one gets through
    assert (without.status, wrong.status, right.status) == (403, 403, 201)
    assert without.body == {"error": "Forbidden"}


def test_iam_auth_from_config_requires_signed_requests(start_sandbox: Callable[..., Sandbox]) -> None:
    # GIVEN the API closed with IAM auth through config
    sandbox = start_sandbox(evaluate("dev", overrides={"eda-demo:apiAuth": "AWS_IAM"}))
    # WHEN an order is read unsigned, then with a SigV4 Authorization header
    unsigned = http("GET", f"{sandbox.api_url}/order/1")
    signed = http("GET", f"{sandbox.api_url}/order/1", headers={"authorization": "AWS4-HMAC-SHA256 Credential=x"})
    # THEN the unsigned request is refused before reaching the function
    assert unsigned.status == 403
    assert signed.status == 404
