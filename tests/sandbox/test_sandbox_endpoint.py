"""The AWS endpoint answers the calls users make with boto3 (or the AWS CLI) as AWS would.

One sandbox serves the whole module; each test uses order ids of its own and measures changes,
so the tests do not depend on each other's order.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sandbox_testkit import SandboxPool, catch_all_events, dead_letters, get_order, post_order

from handlers import contract, orders, validation
from sandbox.functions.runtime import DeclaredFunction
from sandbox.program.evaluation import PROJECT_DIR, Program
from sandbox.runtime import Sandbox

RULE = "aws:cloudwatch/eventRule:EventRule"


@pytest.fixture(scope="module")
def endpoint(sandbox_pool: SandboxPool, dev_program: Program) -> Sandbox:
    """The dev stack on free ports, shared by the module (retry delays scaled down 1000x)."""
    return sandbox_pool.acquire(dev_program)


@pytest.fixture
def fault(endpoint: Sandbox) -> Iterator[Callable[[str, Exception | None], list[Any]]]:
    """Install a fault on a function (by handler): it records each event and raises ``error`` if given."""
    installed: list[str] = []

    def install(handler: str, error: Exception | None) -> list[Any]:
        name = _function(endpoint, handler).name
        calls: list[Any] = []
        lock = threading.Lock()

        def record(event: Any) -> None:
            with lock:
                calls.append(event)
            if error is not None:
                raise error

        endpoint.functions.faults[name] = record
        installed.append(name)
        return calls

    yield install
    for name in installed:
        endpoint.functions.faults.pop(name, None)


def _function(sandbox: Sandbox, handler: str) -> DeclaredFunction:
    return next(fn for fn in sandbox.functions.functions.values() if fn.handler == handler)


def _log_tail(response: dict[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in base64.b64decode(response["LogResult"]).decode().splitlines()]


def _store_order(sandbox: Sandbox, order_id: int, amount: int) -> orders.Order:
    order = orders.new_order(validation.validate_order({"id": order_id, "amount": amount}), orders.utc_now())
    table = sandbox.outputs["orders_table_name"]
    sandbox.client("dynamodb").put_item(TableName=table, Item=orders.order_to_item(order))
    return order


def _executions_of(sandbox: Sandbox, order_id: int) -> list[dict[str, Any]]:
    sfn = sandbox.client("stepfunctions")
    runs = sfn.list_executions(stateMachineArn=sandbox.outputs["payment_state_machine_arn"], maxResults=1000)
    found = []
    for run in runs["executions"]:
        described = sfn.describe_execution(executionArn=run["executionArn"])
        if json.loads(described["input"]).get("detail", {}).get("id") == order_id:
            found.append(described)
    return found


def _error(call: Callable[[], Any]) -> ClientError:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value


# --- Lambda Invoke ---------------------------------------------------------------------------------
def test_invoke_runs_the_declared_function_and_returns_its_payload_and_log_tail(endpoint: Sandbox) -> None:
    # GIVEN update-order, and an event it drops (not a payment outcome)
    update_order = _function(endpoint, "handlers.update_order.handler")
    event = {"source": "someone-else", "detail-type": "Anything", "detail": {}, "id": "e-1"}
    # WHEN it is invoked through the endpoint, asking for the log tail
    response = endpoint.client("lambda").invoke(
        FunctionName=update_order.name, Payload=json.dumps(event).encode(), LogType="Tail"
    )
    # THEN Lambda's answer: 200, the version run, the handler's return value
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read())["result"] == "dropped"
    # AND the tail: the platform's start and report around the function's own log line (JSON format)
    tail = _log_tail(response)
    start, report = tail[0], tail[-1]
    request_id = start["record"]["requestId"]
    assert (start["type"], report["type"]) == ("platform.start", "platform.report")
    assert report["record"]["requestId"] == request_id and report["record"]["status"] == "success"
    assert report["record"]["metrics"]["memorySizeMB"] == update_order.memory_mb
    own = [line for line in tail[1:-1] if line.get("message") == "Event dropped"]
    assert len(own) == 1 and own[0]["function_request_id"] == request_id


def test_a_function_that_raises_answers_unhandled_with_lambdas_error_payload(
    endpoint: Sandbox, fault: Callable[[str, Exception | None], list[Any]]
) -> None:
    # GIVEN update-order raises
    calls = fault("handlers.update_order.handler", RuntimeError("injected: table unavailable"))
    update_order = _function(endpoint, "handlers.update_order.handler")
    # WHEN it is invoked synchronously
    response = endpoint.client("lambda").invoke(FunctionName=update_order.name, Payload=b'{"k": 1}', LogType="Tail")
    # THEN the invocation succeeded but the function failed, with the runtime's error payload
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    payload = json.loads(response["Payload"].read())
    assert payload["errorMessage"] == "injected: table unavailable"
    assert payload["errorType"] == "RuntimeError"
    assert payload["stackTrace"] and all(isinstance(frame, str) for frame in payload["stackTrace"])
    assert "test_sandbox_endpoint.py" in payload["stackTrace"][-1]
    assert not any(f'"{PROJECT_DIR / "sandbox"}/' in frame for frame in payload["stackTrace"])
    tail = _log_tail(response)
    assert payload["requestId"] == tail[0]["record"]["requestId"]
    assert tail[-1]["record"]["status"] == "error"
    assert any(line.get("level") == "ERROR" and line["message"]["errorType"] == "RuntimeError" for line in tail)
    assert calls == [{"k": 1}]
    # AND the function's log group holds the same records, written once: start, error, report
    events = endpoint.client("logs").filter_log_events(logGroupName=update_order.log_group)["events"]
    records = [json.loads(e["message"]) for e in events]
    ours = [r for r in records if r.get("requestId", r.get("record", {}).get("requestId")) == payload["requestId"]]
    assert [r.get("type", r.get("level")) for r in ours] == ["platform.start", "ERROR", "platform.report"]
    assert ours == tail


def test_a_run_past_the_timeout_is_reported_as_a_timeout_once_in_the_tail_and_the_log_group(
    endpoint: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN get-order with a 0.1 s timeout and a run that takes 0.4 s
    get_order_fn = _function(endpoint, "handlers.get_order.handler")
    finished = threading.Event()

    def slow(event: Any) -> None:
        time.sleep(0.4)
        finished.set()
        raise RuntimeError("too late to matter")

    monkeypatch.setattr(get_order_fn, "timeout_seconds", 0.1)
    monkeypatch.setitem(endpoint.functions.faults, get_order_fn.name, slow)
    # WHEN it is invoked synchronously
    response = endpoint.client("lambda").invoke(FunctionName=get_order_fn.name, Payload=b"{}", LogType="Tail")
    # THEN Lambda's timeout answer comes back, with a timeout report in the tail
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read())["errorType"] == "Sandbox.Timedout"
    assert _log_tail(response)[-1]["record"]["status"] == "timeout"
    # AND once the run ends in the background, the log group holds one report for it, a timeout
    # at the timeout, and not the error the run raised after it
    assert finished.wait(5)
    request_id = _log_tail(response)[0]["record"]["requestId"]
    deadline = time.monotonic() + 5
    while True:
        events = endpoint.client("logs").filter_log_events(logGroupName=get_order_fn.log_group)["events"]
        records = [json.loads(e["message"]) for e in events]
        ours = [r for r in records if r.get("requestId", r.get("record", {}).get("requestId")) == request_id]
        if len(ours) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert [r.get("type", r.get("level")) for r in ours] == ["platform.start", "platform.report"]
    assert ours[-1]["record"]["status"] == "timeout"
    assert ours[-1]["record"]["metrics"]["durationMs"] == 100


def test_an_event_invocation_is_queued_and_gets_the_functions_async_retries_and_destination(
    endpoint: Sandbox, fault: Callable[[str, Exception | None], list[Any]]
) -> None:
    # GIVEN update-order always raises
    calls = fault("handlers.update_order.handler", RuntimeError("injected: always"))
    update_order = _function(endpoint, "handlers.update_order.handler")
    # WHEN it is invoked asynchronously
    response = endpoint.client("lambda").invoke(
        FunctionName=update_order.name, InvocationType="Event", Payload=b'{"invoke": "event"}'
    )
    # THEN Lambda accepts it at once (202, empty payload) ...
    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""
    assert endpoint.wait_idle(30)
    # ... runs it 1 + its declared async retries times, then sends it to its on-failure destination
    assert len(calls) == 1 + update_order.async_retries
    parked = [json.loads(m["Body"]) for m in dead_letters(endpoint, "order-service-filtering-payments")]
    records = [r for r in parked if r["requestPayload"] == {"invoke": "event"}]
    assert len(records) == 1
    assert records[0]["requestContext"]["condition"] == "RetriesExhausted"
    assert records[0]["requestContext"]["approximateInvokeCount"] == 1 + update_order.async_retries


def test_a_dry_run_checks_and_runs_nothing(
    endpoint: Sandbox, fault: Callable[[str, Exception | None], list[Any]]
) -> None:
    # GIVEN a function whose invocations are recorded
    calls = fault("handlers.notification.handler", None)
    name = _function(endpoint, "handlers.notification.handler").name
    # WHEN it is invoked with DryRun
    response = endpoint.client("lambda").invoke(FunctionName=name, InvocationType="DryRun", Payload=b"{}")
    # THEN 204 and the function did not run
    assert response["StatusCode"] == 204
    assert endpoint.wait_idle(10)
    assert calls == []


def test_invoke_refuses_as_lambda_does(endpoint: Sandbox) -> None:
    lambda_ = endpoint.client("lambda")
    name = _function(endpoint, "handlers.get_order.handler").name
    # GIVEN no such function WHEN invoked THEN ResourceNotFoundException, as AWS
    missing = _error(lambda: lambda_.invoke(FunctionName="no-such-function", Payload=b"{}"))
    assert missing.response["Error"]["Code"] == "ResourceNotFoundException"
    assert missing.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    # GIVEN a payload that is not JSON WHEN invoked THEN InvalidRequestContentException
    bad = _error(lambda: lambda_.invoke(FunctionName=name, Payload=b"{not json"))
    assert bad.response["Error"]["Code"] == "InvalidRequestContentException"
    # GIVEN an unknown invocation type WHEN invoked THEN InvalidParameterValueException
    kind = _error(lambda: lambda_.invoke(FunctionName=name, InvocationType="Later", Payload=b"{}"))
    assert kind.response["Error"]["Code"] == "InvalidParameterValueException"
    # GIVEN an asynchronous payload over Lambda's 1 MB WHEN invoked THEN RequestEntityTooLargeException (413)
    big = json.dumps({"pad": "x" * 2**20}).encode()
    large = _error(lambda: lambda_.invoke(FunctionName=name, InvocationType="Event", Payload=big))
    assert large.response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert large.response["ResponseMetadata"]["HTTPStatusCode"] == 413


def test_a_function_the_program_does_not_declare_is_not_run_and_says_why(endpoint: Sandbox) -> None:
    # GIVEN a function created by hand on the endpoint (listed, as on AWS)
    lambda_ = endpoint.client("lambda")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("app.py", "def handler(event, context):\n    return 1\n")
    role = endpoint.program.of_type("aws:iam/role:Role")[0]["arn"]
    lambda_.create_function(
        FunctionName="by-hand",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": archive.getvalue()},
    )
    # WHEN it is invoked
    refused = _error(lambda: lambda_.invoke(FunctionName="by-hand", Payload=b"{}"))
    # THEN a clear refusal naming the operation, at once, and no Docker in sight
    message = refused.response["Error"]["Message"]
    assert refused.response["Error"]["Code"] == "NotImplemented"
    assert "does not emulate lambda Invoke" in message and "not one of the program's functions" in message
    assert "docker" not in message.lower()
    assert refused.response["ResponseMetadata"]["RetryAttempts"] == 0


def test_a_declared_function_cannot_be_changed_behind_the_sandboxs_back(endpoint: Sandbox) -> None:
    # GIVEN a declared function WHEN its configuration is changed through the endpoint
    name = _function(endpoint, "handlers.get_order.handler").name
    refused = _error(lambda: endpoint.client("lambda").update_function_configuration(FunctionName=name, Timeout=3))
    # THEN refused (the sandbox would keep running what the program declares), and nothing changed
    assert refused.response["Error"]["Code"] == "NotImplemented"
    assert "change the program" in refused.response["Error"]["Message"]
    assert endpoint.client("lambda").get_function_configuration(FunctionName=name)["Timeout"] == 10


# --- Step Functions ----------------------------------------------------------------------------------
def test_executions_started_without_a_name_get_distinct_uuids_and_all_run(endpoint: Sandbox) -> None:
    # GIVEN three stored orders
    sfn = endpoint.client("stepfunctions")
    machine = endpoint.outputs["payment_state_machine_arn"]
    inputs = []
    for order_id in (8101, 8102, 8103):
        order = _store_order(endpoint, order_id, 10)
        inputs.append({"source": contract.ORDER_SERVICE, "detail": orders.order_created_detail(order)})
    # WHEN an execution is started for each without a name
    arns = [sfn.start_execution(stateMachineArn=machine, input=json.dumps(i))["executionArn"] for i in inputs]
    # THEN each is named with a fresh UUID, as AWS does ...
    names = [arn.rsplit(":", 1)[1] for arn in arns]
    assert len(set(names)) == 3
    assert all(str(uuid.UUID(name)) == name for name in names)
    # ... and each runs to completion
    assert endpoint.wait_idle(30)
    assert [sfn.describe_execution(executionArn=arn)["status"] for arn in arns] == ["SUCCEEDED"] * 3


def test_an_execution_name_aws_refuses_is_refused(endpoint: Sandbox) -> None:
    # GIVEN a name with a character Step Functions does not allow WHEN an execution is started
    sfn = endpoint.client("stepfunctions")
    machine = endpoint.outputs["payment_state_machine_arn"]
    refused = _error(lambda: sfn.start_execution(stateMachineArn=machine, name="has space", input="{}"))
    # THEN InvalidName, as on AWS
    assert refused.response["Error"]["Code"] == "InvalidName"


# --- EventBridge --------------------------------------------------------------------------------------
def test_an_order_written_through_the_endpoint_is_announced_by_the_outbox_paid_and_completed(
    endpoint: Sandbox,
) -> None:
    # GIVEN a user writes an order straight into the table with boto3 (no API, no event)
    _store_order(endpoint, 8201, 42)
    # WHEN the sandbox settles
    assert endpoint.wait_idle(30)
    # THEN the table's stream announced it: the payment workflow ran once for it, and its final
    # status was announced too
    assert [run["status"] for run in _executions_of(endpoint, 8201)] == ["SUCCEEDED"]
    assert get_order(endpoint, 8201).body["status"] == contract.ORDER_COMPLETED


def test_a_replay_redelivers_the_archived_events_of_its_window_to_its_rules(endpoint: Sandbox) -> None:
    events = endpoint.client("events")
    bus = endpoint.outputs["event_bus_name"]
    # GIVEN order 8301 created an hour ago (its OrderCreated carries that time) and paid since
    old = _store_order(endpoint, 8301, 10)
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    events.put_events(
        Entries=[
            {
                "EventBusName": bus,
                "Source": contract.ORDER_SERVICE,
                "DetailType": contract.ORDER_CREATED,
                "Detail": json.dumps(orders.order_created_detail(old)),
                "Time": an_hour_ago,
            }
        ]
    )
    assert endpoint.wait_idle(30)
    # AND order 8302 created and completed within a window that starts after all of 8301's events
    window_start = datetime.now(UTC)
    assert post_order(endpoint, 8302, 10).status == 201
    assert endpoint.wait_idle(30)
    window_end = datetime.now(UTC)
    runs_before = (len(_executions_of(endpoint, 8301)), len(_executions_of(endpoint, 8302)))
    mails_before = len(endpoint.outbox)
    archive = events.list_archives(EventSourceArn=f"arn:aws:events:us-east-1:123456789012:event-bus/{bus}")
    archive_arn = events.describe_archive(ArchiveName=archive["Archives"][0]["ArchiveName"])["ArchiveArn"]
    # WHEN the archive is replayed for that window
    events.start_replay(
        ReplayName="window",
        EventSourceArn=archive_arn,
        EventStartTime=window_start,
        EventEndTime=window_end,
        Destination={"Arn": events.describe_event_bus(Name=bus)["Arn"]},
    )
    assert endpoint.wait_idle(30)
    # THEN exactly 8302's three events went to the rules again, marked with the replay's name
    replayed = sorted(
        (e["detail"]["id"], e["detail-type"]) for e in catch_all_events(endpoint) if e.get("replay-name") == "window"
    )
    assert replayed == sorted(
        [(8302, contract.ORDER_CREATED), (8302, contract.PAYMENT_SUCCEEDED), (8302, contract.ORDER_COMPLETED)]
    )
    # AND every target received them: a second payment run for 8302 (none for 8301), more notifications
    assert (len(_executions_of(endpoint, 8301)), len(_executions_of(endpoint, 8302))) == (
        runs_before[0],
        runs_before[1] + 1,
    )
    assert len(endpoint.outbox) > mails_before
    # AND the idempotent handlers left both orders final, the replay is complete
    assert get_order(endpoint, 8301).body["status"] == contract.ORDER_COMPLETED
    assert get_order(endpoint, 8302).body["status"] == contract.ORDER_COMPLETED
    assert events.describe_replay(ReplayName="window")["State"] == "COMPLETED"
    # WHEN the same window is replayed to the payment rule only (Destination.FilterArns)
    payment_rule = endpoint.program.named("payment-service-filtering-orders-rule")["arn"]
    events.start_replay(
        ReplayName="payment-only",
        EventSourceArn=archive_arn,
        EventStartTime=window_start,
        EventEndTime=window_end,
        Destination={"Arn": events.describe_event_bus(Name=bus)["Arn"], "FilterArns": [payment_rule]},
    )
    assert endpoint.wait_idle(30)
    # THEN only that rule's target got 8302's OrderCreated again; the catch-all saw none of it
    assert len(_executions_of(endpoint, 8302)) == runs_before[1] + 2
    assert not [e for e in catch_all_events(endpoint) if e.get("replay-name") == "payment-only"]


#: For each declared rule: an event EventBridge routes to it and one it does not. Every event has
#: a source, so the catch-all matches every valid event; its counterpart is the refusal of an
#: event without one.
PATTERN_CASES: dict[str, tuple[tuple[str, str], tuple[str, str] | None]] = {
    "cw-catch-all-rule": ((contract.ORDER_SERVICE, contract.ORDER_CREATED), None),
    "payment-service-filtering-orders-rule": (
        (contract.ORDER_SERVICE, contract.ORDER_CREATED),
        (contract.ORDER_SERVICE, contract.ORDER_COMPLETED),
    ),
    "order-service-filtering-payments-rule": (
        (contract.PAYMENT_SERVICE, contract.PAYMENT_FAILED),
        (contract.ORDER_SERVICE, contract.ORDER_CREATED),
    ),
    "notification-service-rule": (
        (contract.PAYMENT_SERVICE, contract.PAYMENT_SUCCEEDED),
        ("someone-else", contract.ORDER_CREATED),
    ),
}


def _test_event(source: str, detail_type: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": "123456789012",
        "time": "2024-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {"id": 1, "amount": 10},
    }


#: The rule on the default bus that reports this stack's alarms recovering (tested on its own below).
ALARM_RECOVERED_RULE = "ops-alarm-recovered-rule"


def test_pattern_cases_cover_every_declared_rule(dev_program: Program) -> None:
    # GIVEN the program's rules WHEN compared with the cases THEN none is left untested
    assert {rule.name for rule in dev_program.of_type(RULE)} == {*PATTERN_CASES, ALARM_RECOVERED_RULE}


def _alarm_state_change(alarm_arn: str, alarm_name: str, previous: str, new: str) -> dict[str, Any]:
    """The event CloudWatch puts on the default bus when an alarm changes state (fields the rule reads)."""
    return {
        **_test_event("aws.cloudwatch", "CloudWatch Alarm State Change"),
        "resources": [alarm_arn],
        "detail": {"alarmName": alarm_name, "previousState": {"value": previous}, "state": {"value": new}},
    }


def test_test_event_pattern_answers_for_the_alarm_recovered_rule(endpoint: Sandbox) -> None:
    # GIVEN the recovery rule as deployed on the default bus, and one of the stack's alarms
    rule = endpoint.program.named(ALARM_RECOVERED_RULE)
    events = endpoint.client("events")
    pattern = events.describe_rule(Name=rule["name"], EventBusName=rule["eventBusName"])["EventPattern"]
    alarm = endpoint.program.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")[0]

    def matches(previous: str, new: str) -> bool:
        event = _alarm_state_change(alarm["arn"], alarm["name"], previous, new)
        return bool(events.test_event_pattern(EventPattern=pattern, Event=json.dumps(event))["Result"])

    # WHEN its state changes are tested THEN only ALARM -> OK matches
    assert matches("ALARM", "OK") is True
    assert matches("INSUFFICIENT_DATA", "OK") is False
    assert matches("OK", "ALARM") is False


@pytest.mark.parametrize("rule_name", sorted(PATTERN_CASES))
def test_test_event_pattern_answers_for_each_declared_rule(endpoint: Sandbox, rule_name: str) -> None:
    # GIVEN the rule's pattern as deployed on the endpoint
    rule = endpoint.program.named(rule_name)
    events = endpoint.client("events")
    pattern = events.describe_rule(Name=rule["name"], EventBusName=rule["eventBusName"])["EventPattern"]
    matching, other = PATTERN_CASES[rule_name]
    # WHEN an event it must route is tested THEN true
    assert events.test_event_pattern(EventPattern=pattern, Event=json.dumps(_test_event(*matching)))["Result"] is True
    if other is not None:
        # WHEN an event it must not route is tested THEN false
        result = events.test_event_pattern(EventPattern=pattern, Event=json.dumps(_test_event(*other)))
        assert result["Result"] is False
    else:
        # WHEN an event without a source is tested THEN EventBridge refuses the event itself
        sourceless = {k: v for k, v in _test_event(*matching).items() if k != "source"}
        refused = _error(lambda: events.test_event_pattern(EventPattern=pattern, Event=json.dumps(sourceless)))
        assert refused.response["Error"]["Code"] == "ValidationException"


def test_a_pattern_eventbridge_refuses_is_refused_not_matched_against_everything(endpoint: Sandbox) -> None:
    events = endpoint.client("events")
    typo = json.dumps({"source": [{"exist": True}]})
    # GIVEN an operator typo WHEN tested THEN InvalidEventPatternException naming it (moto would match all)
    refused = _error(lambda: events.test_event_pattern(EventPattern=typo, Event=json.dumps(_test_event("a", "b"))))
    assert refused.response["Error"]["Code"] == "InvalidEventPatternException"
    assert "Unrecognized match type exist" in refused.response["Error"]["Message"]
    # WHEN a rule is put with it THEN refused too, and no rule exists
    put = _error(
        lambda: events.put_rule(Name="typo", EventPattern=typo, EventBusName=endpoint.outputs["event_bus_name"])
    )
    assert put.response["Error"]["Code"] == "InvalidEventPatternException"
    names = [r["Name"] for r in events.list_rules(EventBusName=endpoint.outputs["event_bus_name"])["Rules"]]
    assert "typo" not in names


def test_events_are_routed_with_eventbridges_semantics_not_moto_s(endpoint: Sandbox) -> None:
    # GIVEN a bus of its own with a rule on an array of objects (one element must hold both fields)
    # and a numeric filter, targeting a queue
    events, sqs = endpoint.client("events"), endpoint.client("sqs")
    name = f"matcher-{uuid.uuid4().hex[:8]}"
    events.create_event_bus(Name=name)
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {"source": ["matcher-test"], "detail": {"items": {"sku": ["B"], "qty": [{"numeric": [">", 1]}]}}}
    events.put_rule(Name=name, EventBusName=name, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, EventBusName=name, Targets=[{"Id": "queue", "Arn": queue_arn}])
    try:
        # WHEN events are put whose items hold both fields in one element, split over two, or a boolean qty
        details = {
            "same-element": {"items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}]},
            "split": {"items": [{"sku": "B", "qty": 1}, {"sku": "A", "qty": 5}]},
            "boolean": {"items": [{"sku": "B", "qty": True}]},
        }
        entries = [
            {"Source": "matcher-test", "DetailType": case, "Detail": json.dumps(detail), "EventBusName": name}
            for case, detail in details.items()
        ]
        assert events.put_events(Entries=entries)["FailedEntryCount"] == 0
        # THEN only the first reaches the queue (moto's matcher never searched arrays of objects)
        received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        assert [json.loads(m["Body"])["detail-type"] for m in received] == ["same-element"]
    finally:
        events.remove_targets(Rule=name, EventBusName=name, Ids=["queue"])
        events.delete_rule(Name=name, EventBusName=name)
        events.delete_event_bus(Name=name)
        sqs.delete_queue(QueueUrl=queue)


# --- what the endpoint does not serve -----------------------------------------------------------------
NOT_SERVED: dict[str, tuple[str, str, Callable[[Sandbox], Any]]] = {
    "S3 (a service the program does not use)": ("s3", "", lambda s: s.client("s3").list_buckets()),
    "API Gateway beyond its reads (the API is served on its own port)": (
        "apigateway",
        "CreateRestApi",
        lambda s: s.client("apigateway").create_rest_api(name="another"),
    ),
    "EventBridge Schemas beyond its reads": (
        "schemas",
        "CreateRegistry",
        lambda s: s.client("schemas").create_registry(RegistryName="another"),
    ),
    "Lambda response streaming": (
        "lambda",
        "InvokeWithResponseStream",
        lambda s: s.client("lambda").invoke_with_response_stream(
            FunctionName=_function(s, "handlers.get_order.handler").name, Payload=b"{}"
        ),
    ),
    "Lambda event source mapping": (
        "lambda",
        "CreateEventSourceMapping",
        lambda s: s.client("lambda").create_event_source_mapping(
            FunctionName=_function(s, "handlers.notification.handler").name,
            EventSourceArn="arn:aws:sqs:us-east-1:123456789012:some-queue",
        ),
    ),
    "an EventBridge API moto lacks (JSON)": ("events", "ListEndpoints", lambda s: s.client("events").list_endpoints()),
    "an SNS API moto lacks (XML)": (
        "sns",
        "GetDataProtectionPolicy",
        lambda s: s.client("sns").get_data_protection_policy(ResourceArn=s.outputs["notification_topic_arn"]),
    ),
}


@pytest.mark.parametrize("case", sorted(NOT_SERVED))
def test_a_call_the_endpoint_does_not_serve_gets_a_clear_error_at_once(endpoint: Sandbox, case: str) -> None:
    service, operation, call = NOT_SERVED[case]
    # GIVEN a call outside what the endpoint serves faithfully WHEN it is made
    started = time.monotonic()
    refused = _error(lambda: call(endpoint))
    # THEN an AWS-style 501 NotImplemented naming the operation, not retried, no Docker, no HTML
    error, meta = refused.response["Error"], refused.response["ResponseMetadata"]
    assert (error["Code"], meta["HTTPStatusCode"], meta["RetryAttempts"]) == ("NotImplemented", 501, 0)
    assert error["Message"].startswith(f"The sandbox does not emulate {service} {operation}")
    assert "docker" not in error["Message"].lower() and "<html" not in error["Message"].lower()
    assert time.monotonic() - started < 5


def test_the_state_dir_has_an_env_file_for_the_shell(endpoint: Sandbox) -> None:
    # GIVEN a running sandbox WHEN its env file is read
    text = Path(endpoint.env_path).read_text()
    # THEN it points the AWS CLI at the endpoint and names every output
    assert f"export AWS_ENDPOINT_URL={endpoint.endpoint_url}\n" in text
    assert f"export API={endpoint.api_url}\n" in text
    for key, value in endpoint.outputs.items():
        assert f"export {key.upper()}=" in text and str(value) in text
