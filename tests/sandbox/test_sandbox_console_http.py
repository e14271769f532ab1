"""The console's JSON API over HTTP: timelines, faults, dead letters, alarms, and its safety checks.

The page's own behaviour is in ``test_sandbox_console_browser.py``; here every answer is read as a
client would read it, and the pure parts (the request checks, the recorder's bounds) are checked
without a server.
"""

from __future__ import annotations

import http.client as http_client
import json
import time
from collections import Counter
from typing import Any

import pytest
from moto.dynamodb.models.table import Table
from sandbox_testkit import Response, dead_letters, get_order, http, post_order

from handlers import contract
from sandbox.__main__ import parse_arguments
from sandbox.console import DEFAULT_ORDERS, DEFAULT_PORT
from sandbox.console.faults import FaultBoard, InjectedFaultError
from sandbox.console.recorder import MAX_ENTRIES, MAX_TEXT, Recorder, order_key
from sandbox.console.server import MAX_BODY_BYTES, refusal
from sandbox.delivery.stream_mapping import DeclaredMapping, declared_mappings
from sandbox.runtime import Sandbox


def console_get(sandbox: Sandbox, path: str) -> Response:
    assert sandbox.console is not None
    return http("GET", f"{sandbox.console.url}{path}")


def console_post(sandbox: Sandbox, path: str, body: Any = None) -> Response:
    assert sandbox.console is not None
    return http("POST", f"{sandbox.console.url}{path}", json.dumps(body or {}), "application/json")


def raw(sandbox: Sandbox, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, Any]:
    """One request with exactly these headers (``Host`` included), over a plain connection."""
    assert sandbox.console is not None
    connection = http_client.HTTPConnection("127.0.0.1", sandbox.console.server.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def kinds(view: dict[str, Any]) -> list[str]:
    return [entry["kind"] for entry in view["timeline"]]


# --- the request checks, pure -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "headers", "status"),
    [
        ("GET", {"host": "127.0.0.1:3030"}, None),
        ("GET", {"host": "localhost:3030", "origin": "http://localhost:3030"}, None),
        ("POST", {"host": "127.0.0.1:3030", "content-type": "application/json"}, None),
        ("GET", {}, 400),
        ("GET", {"host": "evil.example:3030"}, 403),  # DNS rebinding: the attacker's name
        ("GET", {"host": "127.0.0.1:3031"}, 403),
        ("POST", {"host": "127.0.0.1:3030", "origin": "https://evil.example", "content-type": "application/json"}, 403),
        ("POST", {"host": "127.0.0.1:3030", "origin": "null", "content-type": "application/json"}, 403),
        ("GET", {"host": "127.0.0.1:3030", "sec-fetch-site": "cross-site"}, 403),
        ("POST", {"host": "127.0.0.1:3030", "content-type": "application/x-www-form-urlencoded"}, 415),
        ("POST", {"host": "127.0.0.1:3030", "content-type": "text/plain"}, 415),
        ("PUT", {"host": "127.0.0.1:3030"}, 405),
        ("DELETE", {"host": "127.0.0.1:3030"}, 405),
        ("OPTIONS", {"host": "127.0.0.1:3030", "origin": "https://evil.example"}, 403),
    ],
)
def test_every_request_is_checked_for_its_host_origin_method_and_body_type(
    method: str, headers: dict[str, str], status: int | None
) -> None:
    # GIVEN a request to the console on port 3030
    # WHEN it is checked before routing
    refused = refusal(method, headers, 3030)
    # THEN only the console's own host and origin, GET, and JSON POSTs pass
    assert (refused.status if refused else None) == status


# --- the recorder's bounds, pure ----------------------------------------------------------------
def test_the_recorder_keeps_the_last_n_orders_and_bounded_entries() -> None:
    # GIVEN a recorder keeping 3 orders
    recorder = Recorder(max_orders=3)
    # WHEN 5 orders are traced, the last with more entries than an order keeps and a huge body
    for order in range(1, 6):
        recorder.api_request("POST", "/order", "/order", 201, json.dumps({"id": order}).encode(), b"{}", 0.001)
    for _ in range(MAX_ENTRIES + 7):
        recorder.function_run("fn", {"detail": {"id": 5}}, 0.001, None)
    recorder.api_request("POST", "/order", "/order", 400, b'{"id": 5, "x": "' + b"y" * 10**6 + b'"}', b"", 0.0)
    # THEN only the newest 3 are kept, newest first
    assert [o["id"] for o in recorder.orders()] == ["5", "4", "3"]
    assert recorder.trace("1") is None
    # AND an order keeps at most MAX_ENTRIES entries and says how many went
    entries, _, dropped, _ = recorder.trace("5") or ([], [], 0, None)
    assert len(entries) == MAX_ENTRIES
    assert dropped == 1 + 7 + 1  # the first request, the 7 runs past the bound, the last request
    # AND a body is cut to MAX_TEXT characters plus the note saying so
    assert max(len(e.detail.get("request", "")) for e in entries) < MAX_TEXT + 50


def test_no_report_can_fail_the_part_that_makes_it() -> None:
    # GIVEN a recorder, and one whose storage is broken
    recorder, broken = Recorder(), Recorder()

    def fail(*args: Any) -> None:
        raise RuntimeError("broken")

    broken._add = fail  # type: ignore[method-assign]
    # WHEN requests name an id of thousands of digits (int() refuses past 4,300), or reach the broken one
    huge = b'{"id": "' + b"7" * 5000 + b'"}'
    recorder.api_request("POST", "/order", "/order", 400, huge, b"{}", 0.0)
    broken.api_request("POST", "/order", "/order", 201, b'{"id": 1}', b"{}", 0.0)
    # THEN neither raised: the huge id names no order, and the broken recorder kept nothing
    assert order_key("7" * 5000) is None and order_key(" 101 ") == "101" and order_key(True) is None
    assert recorder.orders() == [] and len(recorder.unattributed()) == 1
    assert broken.orders() == []


# --- the JSON API on the running sandbox --------------------------------------------------------
def test_the_original_scenario_is_one_timeline_per_order(sandbox: Sandbox) -> None:
    # GIVEN the original two orders
    assert post_order(sandbox, 101, 100).status == 201
    assert post_order(sandbox, 102, 600).status == 201
    assert sandbox.wait_idle(30)
    # WHEN the console is asked
    orders = console_get(sandbox, "/api/orders").body
    completed = console_get(sandbox, "/api/orders/101").body
    cancelled = console_get(sandbox, "/api/orders/102").body
    # THEN the orders are listed newest first with their final status
    assert [(o["id"], o["status"]) for o in orders] == [("102", "OrderCancelled"), ("101", "OrderCompleted")]
    # AND 101's timeline has the request, its three events with their rules, the execution's
    # states and decision, each version of the item, and three emails, in time order
    events = [e for e in completed["timeline"] if e["kind"] == "event"]
    assert [e["title"].split()[0] for e in events] == [
        contract.ORDER_CREATED,
        contract.PAYMENT_SUCCEEDED,
        contract.ORDER_COMPLETED,
    ]
    created_rules = {m["rule"].rsplit("-", 1)[0] for m in events[0]["detail"]["rules"]}
    assert created_rules == {"cw-catch-all-rule", "payment-service-filtering-orders-rule", "notification-service-rule"}
    (execution,) = [e for e in completed["timeline"] if e["kind"] == "execution"]
    assert execution["detail"]["status"] == "SUCCEEDED"
    states = execution["detail"]["states"]
    assert states[0]["type"] == "Choice" and states[0]["decision"] == f"chose {states[1]['name']}"
    assert [i["detail"]["status"] for i in completed["timeline"] if i["kind"] == "item"] == [
        contract.ORDER_CREATED,
        contract.ORDER_COMPLETED,
    ]
    assert kinds(completed).count("email") == 3
    assert kinds(completed)[0] == "api"
    times = [e["time"] for e in completed["timeline"]]
    assert times == sorted(times)
    # AND 102's execution decided otherwise
    assert [e["title"].split()[0] for e in cancelled["timeline"] if e["kind"] == "event"][1] == contract.PAYMENT_FAILED
    (failed_states,) = [e["detail"]["states"] for e in cancelled["timeline"] if e["kind"] == "execution"]
    assert failed_states[0]["decision"] != states[0]["decision"]


def test_an_event_is_on_the_timeline_before_the_deliveries_it_started(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a bus whose PutEvents answers only well after it routed each entry (its contract
    # check made slow), so the deliveries it started run first
    record = sandbox.contracts.record

    def slow_record(event: Any) -> str:
        time.sleep(0.1)
        return record(event)

    monkeypatch.setattr(sandbox.contracts, "record", slow_record)
    # WHEN an order goes through
    assert post_order(sandbox, 111, 42).status == 201
    assert sandbox.wait_idle(30)
    timeline = console_get(sandbox, "/api/orders/111").body["timeline"]
    # THEN each event comes before the deliveries it started (no fault: one per rule it matched
    # with a Lambda or state machine target, so a rule's n-th delivery is that of the n-th event
    # it matched; the catch-all's log group is written within the put), as it was put before them
    events = [(i, e) for i, e in enumerate(timeline) if e["kind"] == "event"]
    assert len(events) == 3
    deliveries: dict[str, list[int]] = {}
    for i, entry in enumerate(timeline):
        if entry["kind"] == "delivery":
            deliveries.setdefault(entry["detail"]["rule"], []).append(i)
    assert len(deliveries) == 3  # payment-service, order-service and notification-service rules
    seen: Counter[str] = Counter()
    for position, event in events:
        for rule in (m["rule"] for m in event["detail"]["rules"] if m["rule"] in deliveries):
            assert position < deliveries[rule][seen[rule]], f"{event['title']} listed after its delivery by {rule}"
            seen[rule] += 1


def test_a_contract_violation_is_on_its_orders_timeline_and_an_event_naming_no_order_is_kept_apart(
    sandbox: Sandbox,
) -> None:
    # GIVEN two events put by a user: an OrderCreated without its amount, and one naming no order
    bus = sandbox.outputs["event_bus_name"]
    entries = [
        {
            "EventBusName": bus,
            "Source": contract.ORDER_SERVICE,
            "DetailType": contract.ORDER_CREATED,
            "Detail": json.dumps({"id": 401}),
        },
        {"EventBusName": bus, "Source": "someone", "DetailType": "Hello", "Detail": json.dumps({"hello": 1})},
    ]
    # WHEN they are put on the bus
    answered = sandbox.client("events").put_events(Entries=entries)
    assert answered["FailedEntryCount"] == 0
    assert sandbox.wait_idle(30)
    # THEN order 401's timeline shows the event and its contract violation
    timeline = console_get(sandbox, "/api/orders/401").body["timeline"]
    (violation,) = [e for e in timeline if e["kind"] == "contract"]
    assert violation["title"] == f"{contract.ORDER_CREATED} breaks its contract"
    assert any("amount" in problem for problem in violation["detail"]["problems"])
    # AND the other is among the reports that name no order, marked as an unknown event
    other = console_get(sandbox, "/api/unattributed").body
    assert {e["title"] for e in other} >= {"Hello from someone put on the bus", "unknown event"}


def test_a_refused_put_events_fault_is_visible_counts_its_attempts_and_goes_off(sandbox: Sandbox) -> None:
    # GIVEN PutEvents refused on any bus for one attempt
    added = console_post(sandbox, "/api/faults", {"kind": "put_events", "target": "*", "attempts": 1})
    assert added.status == 201, added.body
    assert [f["kind"] for f in console_get(sandbox, "/api/overview").body["faults"]] == ["put_events"]
    # WHEN an order is posted (its write is the commit: the outbox's publisher puts its event)
    assert post_order(sandbox, 201, 42).status == 201
    assert sandbox.wait_idle(30)
    # THEN the publisher's put was refused, the fault went off, the stream mapping's retry published it
    assert console_get(sandbox, "/api/faults").body["faults"] == []
    timeline = console_get(sandbox, "/api/orders/201").body["timeline"]
    refused = [e for e in timeline if e["kind"] == "event" and e["ok"] is False]
    assert len(refused) == 1 and "InternalFailure" in refused[0]["title"]
    assert get_order(sandbox, 201).body["status"] == contract.ORDER_COMPLETED


def test_a_failing_start_execution_retries_dead_letters_and_names_the_alarms(sandbox: Sandbox) -> None:
    # GIVEN the state machine's start fails for as many attempts as its rule target makes
    declared = next(
        t
        for t in sandbox.program.of_type("aws:cloudwatch/eventTarget:EventTarget")
        if t["arn"] == sandbox.outputs["payment_state_machine_arn"]
    )
    attempts = 1 + int(declared["retryPolicy"]["maximumRetryAttempts"])
    body = {"kind": "start_execution", "target": "payments-workflow", "attempts": attempts}
    assert console_post(sandbox, "/api/faults", body).status == 201
    # WHEN an order is placed
    assert post_order(sandbox, 202, 42).status == 201
    assert sandbox.wait_idle(30)
    # THEN every attempt is on the timeline, then the dead letter
    timeline = console_get(sandbox, "/api/orders/202").body["timeline"]
    failed = [e for e in timeline if e["kind"] == "delivery" and e["ok"] is False]
    assert len(failed) == attempts
    assert "retry in" in failed[0]["title"] and "retries exhausted" in failed[-1]["title"]
    assert [e["kind"] for e in timeline].count("dead-letter") == 1
    # AND the dead-letter queue lists it, and the alarms that would fire are named
    queues = {q["label"]: q for q in console_get(sandbox, "/api/dead-letters").body}
    parked = queues["payment-service-filtering-orders-dlq"]
    assert parked["count"] == 1 and parked["messages"][0]["order"] == "202"
    assert "ExecutionLimitExceeded" in parked["messages"][0]["error"]
    firing = {a["name"].split("/", 1)[1] for a in console_get(sandbox, "/api/overview").body["alarms"]}
    assert firing == {
        "ops-payment-service-filtering-orders-failed-invocations",
        "ops-payment-service-filtering-orders-dlq-not-empty",
    }
    # WHEN it is redriven (the fault is off by now)
    queue = parked["queue"]
    assert console_post(sandbox, f"/api/dead-letters/{queue}/redrive").body == {"redriven": 1}
    assert sandbox.wait_idle(30)
    # THEN the order completes and the queue is empty
    assert get_order(sandbox, 202).body["status"] == contract.ORDER_COMPLETED
    assert dead_letters(sandbox, "payment-service-filtering-orders") == []


def outbox_mapping(sandbox: Sandbox) -> DeclaredMapping:
    (mapping,) = declared_mappings(sandbox.program)
    return mapping


def test_a_refused_publish_retries_the_stream_batch_then_parks_it_and_its_redrive_publishes_from_the_stream(
    sandbox: Sandbox,
) -> None:
    # GIVEN PutEvents refused for every attempt the outbox's stream mapping makes
    mapping = outbox_mapping(sandbox)
    attempts = 1 + mapping.maximum_retry_attempts
    assert (
        console_post(sandbox, "/api/faults", {"kind": "put_events", "target": "*", "attempts": attempts}).status == 201
    )
    # WHEN an order is placed
    assert post_order(sandbox, 203, 42).status == 201
    assert sandbox.wait_idle(30)
    # THEN its timeline has its stream record, each run of the publisher, its retries, then the on-failure queue
    timeline = console_get(sandbox, "/api/orders/203").body["timeline"]
    streamed = [e for e in timeline if e["kind"] == "stream"]
    assert streamed and "INSERT record" in streamed[0]["title"]
    batches = [e for e in timeline if e["kind"] == "batch"]
    assert len(batches) == attempts and all(e["ok"] is False for e in batches)
    assert "retry in" in batches[0]["title"] and "retries exhausted" in batches[-1]["title"]
    assert "partial batch response" in batches[0]["detail"]["error"]
    (parked_entry,) = [e for e in timeline if e["kind"] == "dead-letter"]
    assert "RetryAttemptsExhausted" in parked_entry["title"]
    # AND the architecture counts the stream, the failed batches and the parked record on the outbox's edges
    edges = {(e["from"], e["to"]): e for e in console_get(sandbox, "/api/architecture").body["edges"]}
    publisher = sandbox.program.by_arn(mapping.function_arn).name
    assert edges[("stream:orders-table", publisher)]["failed"] == attempts
    assert edges[("orders-table", "stream:orders-table")]["count"] >= 1
    # AND the dead-letter view lists the batch's description, and names the alarm of the outbox's queue
    queue = next(q for q in console_get(sandbox, "/api/dead-letters").body if q["count"])
    assert queue["queue"] == mapping.on_failure_arn.split(":")[-1]
    assert queue["messages"][0]["detail_type"] == "DDBStreamBatchInfo"
    assert "RetryAttemptsExhausted after 9 attempts" in queue["messages"][0]["error"]
    firing = [a["name"] for a in console_get(sandbox, "/api/overview").body["alarms"] if a["state"] == "ALARM"]
    assert any("outbox" in name for name in firing), firing
    # WHEN it is redriven (the fault is off by now)
    assert console_post(sandbox, f"/api/dead-letters/{queue['queue']}/redrive").body == {"redriven": 1}
    assert sandbox.wait_idle(30)
    # THEN the publisher published the records the stream still held: the order completes, the queue is empty
    assert get_order(sandbox, 203).body["status"] == contract.ORDER_COMPLETED
    (after,) = [q for q in console_get(sandbox, "/api/dead-letters").body if q["queue"] == queue["queue"]]
    assert after["count"] == 0
    # WHEN a batch record naming records the stream does not hold is redriven
    forged = {
        "requestContext": {"functionArn": mapping.function_arn, "condition": "RetryAttemptsExhausted"},
        "DDBStreamBatchInfo": {
            "shardId": f"shardId-{0:020d}-{mapping.uuid[:8]}",
            "startSequenceNumber": "900000",
            "endSequenceNumber": "900001",
            "batchSize": 2,
            "streamArn": mapping.stream_arn,
        },
    }
    sqs = sandbox.client("sqs")
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=queue["queue"])["QueueUrl"], MessageBody=json.dumps(forged))
    refused = console_post(sandbox, f"/api/dead-letters/{queue['queue']}/redrive")
    # THEN the console says why it cannot, and the record stays in the queue
    assert refused.status == 409 and "no longer in the stream" in refused.body["error"]
    (kept,) = [q for q in console_get(sandbox, "/api/dead-letters").body if q["queue"] == queue["queue"]]
    assert kept["count"] == 1


def test_a_raising_publisher_is_retried_by_its_stream_mapping(sandbox: Sandbox) -> None:
    # GIVEN the outbox's publisher raising once
    publisher = sandbox.program.by_arn(outbox_mapping(sandbox).function_arn).name
    assert console_post(sandbox, "/api/faults", {"kind": "lambda", "target": publisher, "attempts": 1}).status == 201
    # WHEN an order is placed
    assert post_order(sandbox, 205, 42).status == 201
    assert sandbox.wait_idle(30)
    # THEN the publisher's failed batch and its retry are on the timeline, and the order completes
    batches = [e for e in console_get(sandbox, "/api/orders/205").body["timeline"] if e["kind"] == "batch"]
    assert batches[0]["ok"] is False and "InjectedFaultError" in batches[0]["detail"]["error"]
    assert batches[1]["ok"] is True
    assert get_order(sandbox, 205).body["status"] == contract.ORDER_COMPLETED


def test_a_fault_for_a_time_shows_its_time_left_and_clears(sandbox: Sandbox) -> None:
    # GIVEN a fault on notification for a minute
    added = console_post(
        sandbox, "/api/faults", {"kind": "lambda", "target": "notifications-notification-fn", "seconds": 60}
    )
    assert added.status == 201
    # WHEN it is listed, then cleared
    (listed,) = console_get(sandbox, "/api/faults").body["faults"]
    cleared = console_post(sandbox, f"/api/faults/{listed['id']}/clear")
    # THEN it showed its time left, and once cleared the function runs again
    assert 0 < listed["seconds_left"] <= 60 and listed["attempts_left"] is None
    assert cleared.body == {"cleared": 1}
    assert console_get(sandbox, "/api/faults").body["faults"] == []
    assert sandbox.functions.faults == {}


@pytest.mark.parametrize(
    ("path", "body", "status", "says"),
    [
        ("/api/faults", {"kind": "meteor", "target": "x", "attempts": 1}, 400, "'kind'"),
        ("/api/faults", {"kind": "lambda", "target": "no-such-fn", "attempts": 1}, 400, "'target'"),
        ("/api/faults", {"kind": "lambda", "target": "orders-update-order-fn"}, 400, "exactly one"),
        ("/api/faults", {"kind": "lambda", "target": "orders-update-order-fn", "attempts": 0}, 400, "'attempts'"),
        ("/api/faults", {"kind": "lambda", "target": "orders-update-order-fn", "attempts": True}, 400, "'attempts'"),
        ("/api/faults", {"kind": "lambda", "target": "orders-update-order-fn", "seconds": -1}, 400, "'seconds'"),
        ("/api/faults", {"kind": "lambda", "target": "x", "attempts": 1, "color": "red"}, 400, "unknown fields"),
        ("/api/faults", [1, 2], 400, "JSON object"),
        ("/api/faults/99/clear", {}, 404, "no fault"),
        ("/api/dead-letters/no-such-queue/redrive", {}, 404, "not one of"),
        ("/api/orders", {}, 405, "not a POST"),
        ("/api/nothing", {}, 404, "no such"),
    ],
)
def test_bad_input_answers_a_json_4xx_and_changes_nothing(
    module_sandbox: Sandbox, path: str, body: Any, status: int, says: str
) -> None:
    # GIVEN the console
    # WHEN a request it cannot serve arrives
    answer = console_post(module_sandbox, path, body)
    # THEN it answers a JSON 4xx that says why, and no fault is on
    assert answer.status == status and says in answer.body["error"]
    assert console_get(module_sandbox, "/api/faults").body["faults"] == []


def test_the_server_refuses_foreign_hosts_and_origins_and_oversized_bodies(module_sandbox: Sandbox) -> None:
    # GIVEN the console's port
    assert module_sandbox.console is not None
    port = module_sandbox.console.server.port
    own = {"Host": f"127.0.0.1:{port}"}
    # WHEN requests come with a rebinding Host, a foreign Origin, the wrong method or too big a body
    rebinding = raw(module_sandbox, "GET", "/api/overview", {"Host": f"attacker.example:{port}"})
    cross_site = raw(
        module_sandbox,
        "POST",
        "/api/faults/clear",
        {**own, "Origin": "https://attacker.example", "Content-Type": "application/json"},
        b"{}",
    )
    get_a_change = raw(module_sandbox, "GET", "/api/faults/clear", own)
    too_big = raw(
        module_sandbox, "POST", "/api/faults", {**own, "Content-Type": "application/json"}, b" " * (MAX_BODY_BYTES + 1)
    )
    # THEN each gets a JSON refusal, and the console's own requests are served
    assert rebinding[0] == 403 and "Host" in rebinding[1]["error"]
    assert cross_site[0] == 403 and "Origin" in cross_site[1]["error"]
    assert get_a_change[0] == 405
    assert too_big[0] == 413
    assert raw(module_sandbox, "GET", "/api/overview", own)[0] == 200
    page = http_client.HTTPConnection("127.0.0.1", port, timeout=10)
    page.request("GET", "/")
    response = page.getresponse()
    assert response.status == 200 and b'<script src="/static/app.js">' in response.read()
    page.close()


# --- faults, pure: a fake clock and the sandbox's seams as plain objects -------------------------
class _Seams:
    def __init__(self) -> None:
        self.faults: dict[str, Any] = {}
        self.put_events_fault: Any = None
        self.target_faults: dict[str, Any] = {}


def _board() -> tuple[FaultBoard, _Seams, list[float]]:
    seams, now = _Seams(), [100.0]
    targets = {"lambda": {"update-order": "update-order-fn-1"}, "put_events": {"bus": "bus-1"}, "start_execution": {}}
    board = FaultBoard(seams, seams, targets)
    board.clock = lambda: now[0]
    return board, seams, now


def test_a_fault_for_n_attempts_fails_n_times_then_leaves_its_seam() -> None:
    # GIVEN update-order made to fail twice
    board, seams, _ = _board()
    board.add("lambda", "update-order", attempts=2)
    check = seams.faults["update-order-fn-1"]
    # WHEN the function is invoked three times
    outcomes = []
    for _ in range(3):
        try:
            check({})
            outcomes.append("ran")
        except InjectedFaultError:
            outcomes.append("raised")
        check = seams.faults.get("update-order-fn-1", lambda event: None)
    # THEN it raised twice, then ran, and the seam is empty again
    assert outcomes == ["raised", "raised", "ran"]
    assert seams.faults == {} and board.active() == []


def test_a_fault_for_a_time_ends_when_its_time_is_up() -> None:
    # GIVEN the bus refusing PutEvents for 5 seconds
    board, seams, now = _board()
    board.add("put_events", "bus", seconds=5)
    entry = {"EventBusName": "bus-1", "Source": "s", "DetailType": "d", "Detail": "{}"}
    # WHEN entries are put before and after the 5 seconds
    before = seams.put_events_fault(entry)
    other_bus = seams.put_events_fault({**entry, "EventBusName": "default"})
    now[0] += 5.1
    after = seams.put_events_fault(entry)
    # THEN only the entries on that bus within the time were refused, and the seam is free again
    assert (before, other_bus, after) == ("InternalFailure", None, None)
    assert seams.put_events_fault is None


# --- the console off ----------------------------------------------------------------------------
def test_an_unwired_console_leaves_every_part_of_the_sandbox_unobserved(module_sandbox: Sandbox) -> None:
    # GIVEN the running sandbox's console
    console = module_sandbox.console
    assert console is not None
    original_put = Table.put_item
    # WHEN it is unwired (as a sandbox without a console runs), then wired again
    console.unwire()
    try:
        observers = [part.observer for part in console._observed()]
        listeners = list(module_sandbox.streams.listeners)
        tapped = Table.put_item is not original_put
        unwired_put = Table.put_item
    finally:
        console.wire()
    # THEN, unwired, no part had an observer, no stream listener was the console's and moto's table code was its own
    assert observers == [None] * 6
    assert console.recorder.stream_record not in listeners
    assert tapped  # the running console had tapped the table writes
    assert unwired_put.__qualname__ == "Table.put_item"  # moto's own
    # AND, wired again, every part reports to the recorder
    assert all(part.observer is console.recorder for part in console._observed())


def test_the_number_of_orders_kept_is_settable_and_must_be_positive() -> None:
    # GIVEN make sandbox's command line
    # WHEN the console is given 5 orders to keep, or 0
    args = parse_arguments(["--console-orders", "5"])
    with pytest.raises(SystemExit):
        parse_arguments(["--console-orders", "0"])
    # THEN 5 is kept, 0 refused, and the default is the console's own
    assert args.console_orders == 5
    assert parse_arguments([]).console_orders == DEFAULT_ORDERS
    assert parse_arguments([]).console_port == DEFAULT_PORT
