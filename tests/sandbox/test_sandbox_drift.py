"""No drift: the sandbox follows the program's config and components, with no other edit.

Three variants of the program, each started once and shared by the tests that read it: one
changed through config (threshold, workflow type, API key), one changed in the code (a pattern in
the contract, a function's environment, IAM auth), and one whose notification rule is retargeted
in the components.
"""

from __future__ import annotations

import inspect
import logging
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sandbox_testkit import Response, SandboxPool, catch_all_events, http

from components import lambda_function
from components.event_bus import EventBus
from handlers import contract
from sandbox.program import evaluate
from sandbox.runtime import Sandbox

SIGNED = {"authorization": "AWS4-HMAC-SHA256 Credential=x"}


def _post(sandbox: Sandbox, order_id: int, amount: float, headers: dict[str, str]) -> Response:
    return http("POST", f"{sandbox.api_url}/order", f'{{"id":{order_id},"amount":{amount}}}', headers=headers)


def _status(sandbox: Sandbox, order_id: int, headers: dict[str, str]) -> str:
    return str(http("GET", f"{sandbox.api_url}/order/{order_id}", headers=headers).body["status"])


@pytest.fixture(scope="module")
def configured(sandbox_pool: SandboxPool) -> Sandbox:
    """Threshold 50, an EXPRESS workflow and an API closed with a key, all through config."""
    overrides = {
        "eda-demo:fraudThreshold": "50",
        "eda-demo:paymentWorkflowType": "EXPRESS",
        "eda-demo:apiAuth": "API_KEY",
    }
    return sandbox_pool.acquire(evaluate("dev", overrides=overrides))


@pytest.fixture(scope="module")
def recoded(sandbox_pool: SandboxPool) -> Iterator[Sandbox]:
    """The notification rule narrowed in the contract, create-order at DEBUG, IAM auth from config."""
    original_function = lambda_function.aws.lambda_.Function

    def function_with_debug(name: str, **kwargs: Any) -> Any:
        if kwargs["handler"] == "handlers.create_order.handler":
            variables = dict(kwargs["environment"].variables)
            variables["POWERTOOLS_LOG_LEVEL"] = "DEBUG"
            kwargs["environment"] = lambda_function.aws.lambda_.FunctionEnvironmentArgs(variables=variables)
        return original_function(name, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(contract, "notification_pattern", lambda: {"source": [contract.PAYMENT_SERVICE]})
        patch.setattr(lambda_function.aws.lambda_, "Function", function_with_debug)
        program = evaluate("dev", overrides={"eda-demo:apiAuth": "AWS_IAM"})
    yield sandbox_pool.acquire(program)


@pytest.fixture(scope="module")
def retargeted(sandbox_pool: SandboxPool) -> Sandbox:
    """The notification rule retargeted to update-order in the components."""
    original_subscribe = EventBus.subscribe
    targets: dict[str, Any] = {}

    def retargeting_subscribe(self: EventBus, name: str, pattern: dict[str, Any], **kwargs: Any) -> Any:
        targets[name] = kwargs["target_arn"]
        if name == "notification-service":
            kwargs["target_arn"] = targets["order-service-filtering-payments"]
        return original_subscribe(self, name, pattern, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(EventBus, "subscribe", retargeting_subscribe)
        program = evaluate("dev")
    return sandbox_pool.acquire(program)


# --- changed through config -------------------------------------------------------------------


def test_the_fraud_threshold_comes_from_config(configured: Sandbox) -> None:
    # GIVEN the dev stack with its fraud threshold lowered to 50 through config
    (key,) = configured.api_keys
    # WHEN orders of 50 and 50.01 are placed
    assert _post(configured, 1, 50, {"x-api-key": key}).status == 201
    assert _post(configured, 2, 50.01, {"x-api-key": key}).status == 201
    assert configured.wait_idle(30)
    # THEN the state machine the sandbox runs applies the configured threshold
    assert _status(configured, 1, {"x-api-key": key}) == contract.ORDER_COMPLETED
    assert _status(configured, 2, {"x-api-key": key}) == contract.ORDER_CANCELLED


def test_the_express_workflow_type_from_config_runs_the_same_choreography(configured: Sandbox) -> None:
    # GIVEN the payment workflow switched to EXPRESS through config
    machine = configured.client("stepfunctions").describe_state_machine(
        stateMachineArn=configured.outputs["payment_state_machine_arn"]
    )
    assert machine["type"] == "EXPRESS"
    (key,) = configured.api_keys
    # WHEN orders on both sides of the threshold (50) are placed
    assert _post(configured, 5, 10, {"x-api-key": key}).status == 201
    assert _post(configured, 6, 51, {"x-api-key": key}).status == 201
    assert configured.wait_idle(30)
    # THEN they end as with STANDARD
    assert _status(configured, 5, {"x-api-key": key}) == contract.ORDER_COMPLETED
    assert _status(configured, 6, {"x-api-key": key}) == contract.ORDER_CANCELLED


def test_api_auth_from_config_is_enforced_by_the_local_api(configured: Sandbox) -> None:
    # GIVEN the API closed with an API key through config
    (key,) = configured.api_keys
    # WHEN an order is posted without the key, with a wrong one, then with the program's key
    without = _post(configured, 8, 10, {})
    wrong = _post(configured, 8, 10, {"x-api-key": "guess"})
    right = _post(configured, 8, 10, {"x-api-key": key})
    # THEN only the last one gets through
    assert (without.status, wrong.status, right.status) == (403, 403, 201)
    assert without.body["error"] == "Forbidden"


# --- changed in the code ----------------------------------------------------------------------


def test_a_pattern_changed_in_the_contract_is_the_pattern_the_sandbox_matches(recoded: Sandbox) -> None:
    # GIVEN the notification rule narrowed to payment events in the contract module
    # WHEN an order flows through
    assert _post(recoded, 4, 10, SIGNED).status == 201
    assert recoded.wait_idle(30)
    # THEN only the payment event is notified
    assert [m["subject"] for m in recoded.outbox] == ["Payment for order 4 succeeded"]


def test_a_function_environment_changed_in_the_program_reaches_the_handler(recoded: Sandbox) -> None:
    # GIVEN a variant whose create-order function logs at DEBUG (an environment variable of the program)
    # WHEN the sandbox loads its functions
    create_order = next(
        fn for fn in recoded.functions.functions.values() if fn.handler == "handlers.create_order.handler"
    )
    # THEN the handler was loaded with the program's value
    assert create_order.environment["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
    handler_globals = inspect.unwrap(create_order._entry).__globals__  # pyrefly: ignore[missing-attribute]
    assert handler_globals["logger"].log_level == logging.DEBUG


def test_iam_auth_from_config_requires_signed_requests(recoded: Sandbox) -> None:
    # GIVEN the API closed with IAM auth through config
    # WHEN an order is read unsigned, then with a SigV4 Authorization header
    unsigned = http("GET", f"{recoded.api_url}/order/999")
    signed = http("GET", f"{recoded.api_url}/order/999", headers=SIGNED)
    # THEN the unsigned request is refused before reaching the function
    assert unsigned.status == 403
    assert signed.status == 404


# --- changed in the components ----------------------------------------------------------------


def test_a_rule_retargeted_in_the_components_is_retargeted_in_the_sandbox(retargeted: Sandbox) -> None:
    # GIVEN a variant of the program whose notification rule targets update-order instead
    # WHEN an order flows through
    assert _post(retargeted, 3, 10, {}).status == 201
    assert retargeted.wait_idle(30)
    # THEN no email is sent (the notification function is no rule's target any more) ...
    assert retargeted.outbox == []
    # ... and update-order, now receiving every event, completes the order: it drops the order
    # events, applies the first PaymentSucceeded, and treats the second (through the retargeted
    # rule) as a redelivery, which publishes OrderCompleted again instead of rewriting the order
    assert _status(retargeted, 3, {}) == contract.ORDER_COMPLETED
    logged = Counter(e["detail-type"] for e in catch_all_events(retargeted) if e["detail"]["id"] == 3)
    assert logged == {contract.ORDER_CREATED: 1, contract.PAYMENT_SUCCEEDED: 1, contract.ORDER_COMPLETED: 2}
