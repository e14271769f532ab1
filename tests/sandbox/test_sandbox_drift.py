"""No drift: the sandbox follows the program's config and components, with no other edit.

Three variants of the program, each started once and shared by the tests that read it: one
changed through config (threshold, workflow type, API key) whose notification rule is also
retargeted in the components, one changed in the code (a pattern in the contract, a function's
environment, IAM auth), and one redeclaring what the sandbox once assumed (the table's keys and
indexes, the functions' code archive, their maximum event age, the name of the API's URL output).
Evaluation-only facts (the project's name) are checked on a copy of ``Pulumi.yaml``.
"""

from __future__ import annotations

import inspect
import io
import json
import logging
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
from botocore.exceptions import ClientError
from moto.awslambda.models import lambda_backends
from sandbox_testkit import Response, SandboxPool, catch_all_events, http

from components import lambda_function, order_service
from components.event_bus import EventBus
from handlers import contract
from sandbox.program.evaluation import PROJECT_DIR, email_config_keys, evaluate, load_stack_config, project_name
from sandbox.runtime import Sandbox

SIGNED = {"authorization": "AWS4-HMAC-SHA256 Credential=x"}


def _post(sandbox: Sandbox, order_id: int, amount: float, headers: dict[str, str]) -> Response:
    return http("POST", f"{sandbox.api_url}/order", f'{{"id":{order_id},"amount":{amount}}}', headers=headers)


def _status(sandbox: Sandbox, order_id: int, headers: dict[str, str]) -> str:
    return str(http("GET", f"{sandbox.api_url}/order/{order_id}", headers=headers).body["status"])


@pytest.fixture(scope="module")
def configured(sandbox_pool: SandboxPool) -> Sandbox:
    """Threshold 50, an EXPRESS workflow and an API key through config; a rule retargeted in the components.

    The notification rule targets update-order: no test of this variant looks for an email, and
    update-order takes the extra events as redeliveries, so every order ends as the config decides.
    """
    overrides = {
        "eda-demo:fraudThreshold": "50",
        "eda-demo:paymentWorkflowType": "EXPRESS",
        "eda-demo:apiAuth": "API_KEY",
    }
    original_subscribe = EventBus.subscribe
    targets: dict[str, Any] = {}

    def retargeting_subscribe(self: EventBus, name: str, pattern: dict[str, Any], **kwargs: Any) -> Any:
        targets[name] = kwargs["target_arn"]
        if name == "notification-service":
            kwargs["target_arn"] = targets["order-service-filtering-payments"]
        return original_subscribe(self, name, pattern, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(EventBus, "subscribe", retargeting_subscribe)
        program = evaluate("dev", overrides=overrides)
    return sandbox_pool.acquire(program)


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


#: What the ``redeclared`` variant changes.
VARIANT_MAX_EVENT_AGE = 100
VARIANT_API_OUTPUT = "orders_endpoint"
VARIANT_EXTRA_FILE = ("handlers/VARIANT.txt", "declared only in the variant")


@pytest.fixture(scope="module")
def redeclared(sandbox_pool: SandboxPool) -> Sandbox:
    """The table with a range key and an index, an extra file in the code, a 100 s event age, the API URL renamed."""
    original_table = order_service.aws.dynamodb.Table
    original_invoke_config = lambda_function.aws.lambda_.FunctionEventInvokeConfig
    original_archive = lambda_function.handlers_archive
    original_export = pulumi.export

    def table_with_range_key(name: str, **kwargs: Any) -> Any:
        kwargs["range_key"] = "placed"
        kwargs["attributes"] = [
            *kwargs["attributes"],
            order_service.aws.dynamodb.TableAttributeArgs(name="placed", type="S"),
            order_service.aws.dynamodb.TableAttributeArgs(name="state", type="S"),
        ]
        kwargs["global_secondary_indexes"] = [
            order_service.aws.dynamodb.TableGlobalSecondaryIndexArgs(
                name="by-state", hash_key="state", range_key="placed", projection_type="KEYS_ONLY"
            )
        ]
        return original_table(name, **kwargs)

    def invoke_config_with_max_age(name: str, **kwargs: Any) -> Any:
        return original_invoke_config(name, **{**kwargs, "maximum_event_age_in_seconds": VARIANT_MAX_EVENT_AGE})

    def archive_with_extra_file() -> pulumi.AssetArchive:
        member, text = VARIANT_EXTRA_FILE
        return pulumi.AssetArchive({**original_archive().assets, member: pulumi.StringAsset(text)})

    def export_renamed(name: str, value: Any) -> None:
        original_export(VARIANT_API_OUTPUT if name == "api_url" else name, value)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(order_service.aws.dynamodb, "Table", table_with_range_key)
        patch.setattr(lambda_function.aws.lambda_, "FunctionEventInvokeConfig", invoke_config_with_max_age)
        patch.setattr(lambda_function, "handlers_archive", archive_with_extra_file)
        patch.setattr(pulumi, "export", export_renamed)
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


def test_an_express_workflow_has_no_execution_list_and_logs_its_executions(configured: Sandbox) -> None:
    # GIVEN the payment workflow switched to EXPRESS through config, and one order through it
    (key,) = configured.api_keys
    assert _post(configured, 9, 10, {"x-api-key": key}).status == 201
    assert configured.wait_idle(30)
    stepfunctions = configured.client("stepfunctions")
    arn = configured.outputs["payment_state_machine_arn"]
    # WHEN its executions are listed, as for a STANDARD workflow
    with pytest.raises(ClientError) as refused:
        stepfunctions.list_executions(stateMachineArn=arn)
    # THEN the endpoint refuses as AWS does, and the workflow's log group (the README's EXPRESS way) has them
    assert refused.value.response["Error"]["Code"] == "StateMachineTypeNotSupported"
    assert refused.value.response["Error"]["Message"] == "This operation is not supported by this type of state machine"
    group = configured.outputs["payment_workflow_log_group_name"]
    (destination,) = stepfunctions.describe_state_machine(stateMachineArn=arn)["loggingConfiguration"]["destinations"]
    assert f":log-group:{group}:" in destination["cloudWatchLogsLogGroup"]["logGroupArn"]
    logged = [
        json.loads(e["message"]) for e in configured.client("logs").filter_log_events(logGroupName=group)["events"]
    ]
    (started,) = [
        e for e in logged if e["type"] == "ExecutionStarted" and json.loads(e["details"]["input"])["detail"]["id"] == 9
    ]
    assert [e["type"] for e in logged if e["execution_arn"] == started["execution_arn"]][-1] == "ExecutionSucceeded"


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


def test_a_rule_retargeted_in_the_components_is_retargeted_in_the_sandbox(configured: Sandbox) -> None:
    # GIVEN a variant of the program whose notification rule targets update-order instead
    (key,) = configured.api_keys
    # WHEN an order flows through
    assert _post(configured, 3, 10, {"x-api-key": key}).status == 201
    assert configured.wait_idle(30)
    # THEN no email is sent (the notification function is no rule's target any more) ...
    assert configured.outbox == []
    # ... and update-order, now receiving every event, completes the order: it drops the order
    # events, applies the first PaymentSucceeded, and treats the second (through the retargeted
    # rule) as a redelivery, which writes nothing, so the outbox publishes OrderCompleted once
    assert _status(configured, 3, {"x-api-key": key}) == contract.ORDER_COMPLETED
    logged = Counter(e["detail-type"] for e in catch_all_events(configured) if e["detail"]["id"] == 3)
    assert logged == {contract.ORDER_CREATED: 1, contract.PAYMENT_SUCCEEDED: 1, contract.ORDER_COMPLETED: 1}


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


# --- what the sandbox once assumed, redeclared ------------------------------------------------


def test_the_table_is_created_with_every_key_and_index_the_program_declares(redeclared: Sandbox) -> None:
    # GIVEN a variant whose orders table has a range key and a global secondary index
    # WHEN the table is described through the endpoint
    table = redeclared.client("dynamodb").describe_table(TableName=redeclared.outputs["orders_table_name"])["Table"]
    # THEN it has the declared keys, attributes and index
    assert table["KeySchema"] == [
        {"AttributeName": "id", "KeyType": "HASH"},
        {"AttributeName": "placed", "KeyType": "RANGE"},
    ]
    assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == {
        "id": "N",
        "placed": "S",
        "state": "S",
    }
    (index,) = table["GlobalSecondaryIndexes"]
    assert (index["IndexName"], index["Projection"]["ProjectionType"]) == ("by-state", "KEYS_ONLY")
    assert index["KeySchema"] == [
        {"AttributeName": "state", "KeyType": "HASH"},
        {"AttributeName": "placed", "KeyType": "RANGE"},
    ]


def test_the_function_code_is_the_archive_the_program_declares(redeclared: Sandbox) -> None:
    # GIVEN a variant whose code archive holds one more file than the handlers package
    name = next(iter(redeclared.functions.functions.values())).name
    # WHEN the function's code is read back from the endpoint's Lambda
    code = lambda_backends[redeclared.program.account_id][redeclared.program.region].get_function(name).code_bytes
    # THEN it holds that file, with the declared text
    member, text = VARIANT_EXTRA_FILE
    with zipfile.ZipFile(io.BytesIO(code)) as archive:
        assert archive.read(member).decode() == text
        assert "handlers/create_order.py" in archive.namelist()


def test_an_async_event_older_than_the_declared_max_age_goes_to_the_failure_destination(
    redeclared: Sandbox,
) -> None:
    # GIVEN a variant whose functions keep asynchronous events 100 s (Lambda retries after 60 s,
    # then 120 s more), and update-order failing every time
    fn = next(f for f in redeclared.functions.functions.values() if f.handler == "handlers.update_order.handler")
    assert fn.async_max_age_seconds == VARIANT_MAX_EVENT_AGE
    calls: list[Any] = []

    def failing(event: dict[str, Any]) -> None:
        calls.append(event)
        raise RuntimeError("injected")

    redeclared.functions.faults[fn.name] = failing
    # WHEN it is invoked asynchronously through the endpoint
    redeclared.client("lambda").invoke(
        FunctionName=fn.name, InvocationType="Event", Payload=json.dumps({"detail": {"id": 77}})
    )
    assert redeclared.wait_idle(30)
    # THEN the retry at 60 s runs, the one due at 180 s does not: the event is past its age
    assert len(calls) == 2
    queue_url = redeclared.client("sqs").get_queue_url(QueueName=fn.on_failure_arn.split(":")[-1])["QueueUrl"]
    (message,) = redeclared.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 2


def test_the_output_carrying_the_api_url_is_found_by_its_value(redeclared: Sandbox) -> None:
    # GIVEN a variant exporting the stage's invoke URL under another name
    # WHEN the sandbox writes its outputs
    # THEN that output points at the local API, and no api_url output is made up
    assert redeclared.outputs[VARIANT_API_OUTPUT] == redeclared.api_url
    assert "api_url" not in redeclared.outputs


def test_the_project_name_and_email_keys_come_from_pulumi_yaml(tmp_path: Path) -> None:
    # GIVEN a copy of Pulumi.yaml naming the project otherwise
    text = (PROJECT_DIR / "Pulumi.yaml").read_text()
    (tmp_path / "Pulumi.yaml").write_text(text.replace("name: eda-demo", "name: shop", 1))
    # WHEN its config and email keys are read
    config = load_stack_config("dev", tmp_path)
    # THEN they are in the project's namespace
    assert project_name(tmp_path) == "shop"
    assert config["shop:fraudThreshold"] == "500"
    assert not any(key.startswith("eda-demo:") for key in config)
    assert email_config_keys(tmp_path) == ["shop:notificationEmail", "shop:alarmEmail"]
