"""The sandbox enforces the event contracts live: a breach is marked, recorded, and still delivered."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sandbox_testkit import catch_all_events, post_order

from handlers import contract
from sandbox.contracts import VIOLATIONS_FILE
from sandbox.runtime import Sandbox


def _put(sandbox: Sandbox, source: str, detail_type: str, detail: str) -> dict[str, Any]:
    """``aws events put-events`` on the stack's bus, one entry; its result entry."""
    events = sandbox.client("events")
    answer = events.put_events(
        Entries=[
            {
                "EventBusName": sandbox.outputs["event_bus_name"],
                "Source": source,
                "DetailType": detail_type,
                "Detail": detail,
            }
        ]
    )
    return answer["Entries"][0]


def _recorded(sandbox: Sandbox) -> list[dict[str, Any]]:
    path = sandbox.state_dir / VIOLATIONS_FILE
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_users_event_breaking_its_contract_is_marked_recorded_and_still_delivered(
    start_sandbox: Callable[..., Sandbox],
) -> None:
    # GIVEN the dev stack, its trace collected
    trace: list[str] = []
    sandbox = start_sandbox(on_trace=trace.append)
    # WHEN a user puts an OrderCreated whose amount is a string, as boto3 on the endpoint
    put = _put(sandbox, contract.ORDER_SERVICE, contract.ORDER_CREATED, '{"id": 9001, "amount": "10"}')
    assert "EventId" in put, put
    assert sandbox.wait_idle(30)

    # THEN the file holds one violation naming the event and the problem
    [line] = [e for e in _recorded(sandbox) if e["id"] == put["EventId"]]
    assert line["kind"] == "violation"
    assert (line["source"], line["detail-type"]) == (contract.ORDER_SERVICE, contract.ORDER_CREATED)
    assert line["problems"] == ["detail/amount: '10' is not of type 'number'"]
    assert line["time"].endswith("Z")
    # AND the event's trace line carries the mark
    head = f"{contract.ORDER_CREATED} from {contract.ORDER_SERVICE} (order 9001)"
    [traced] = [t for t in trace if t.startswith(head)]
    assert traced.endswith("  [contract violation: detail/amount: '10' is not of type 'number']"), traced
    # AND the event is delivered all the same: the catch-all log group has it
    assert [e["detail"] for e in catch_all_events(sandbox) if e["id"] == put["EventId"]] == [
        {"id": 9001, "amount": "10"}
    ]


def test_an_event_no_schema_describes_is_flagged_unknown_and_delivered(start_sandbox: Callable[..., Sandbox]) -> None:
    # GIVEN the dev stack, its trace collected
    trace: list[str] = []
    sandbox = start_sandbox(on_trace=trace.append)
    # WHEN a user puts an event with a detail-type no contract names, and one whose Detail is a JSON array
    unknown = _put(sandbox, contract.ORDER_SERVICE, "OrderTeleported", '{"id": 7}')
    not_object = _put(sandbox, "someone-else", "Whatever", "[1, 2]")
    assert "EventId" in unknown and "EventId" in not_object, (unknown, not_object)
    assert sandbox.wait_idle(30)

    # THEN both are recorded as unknown, each with its ids
    recorded = {e["id"]: e for e in _recorded(sandbox)}
    assert recorded[unknown["EventId"]]["kind"] == "unknown"
    assert recorded[unknown["EventId"]]["detail-type"] == "OrderTeleported"
    assert recorded[not_object["EventId"]]["kind"] == "unknown"
    assert len(recorded) == 2
    # AND the trace flags the first as unknown
    [traced] = [t for t in trace if t.startswith("OrderTeleported from")]
    assert "  [unknown event: no schema describes detail-type 'OrderTeleported'" in traced, traced
    # AND the unknown event still reaches the catch-all log group
    assert [e["id"] for e in catch_all_events(sandbox) if e["id"] == unknown["EventId"]] == [unknown["EventId"]]


def test_a_known_event_whose_detail_is_not_an_object_is_a_violation(sandbox: Sandbox) -> None:
    # GIVEN the dev stack
    # WHEN a user puts an OrderCreated whose Detail is a JSON string
    put = _put(sandbox, contract.ORDER_SERVICE, contract.ORDER_CREATED, '"hello"')
    assert "EventId" in put, put
    assert sandbox.wait_idle(30)
    # THEN the sandbox answered and recorded the problem with the detail
    [line] = _recorded(sandbox)
    assert line["kind"] == "violation"
    assert line["problems"] == ["detail: 'hello' is not of type 'object'"]


def test_the_scenarios_own_events_keep_their_contracts_and_reset_empties_the_file(
    start_sandbox: Callable[..., Sandbox],
) -> None:
    # GIVEN the dev stack, with a violation left by a user's event
    trace: list[str] = []
    sandbox = start_sandbox(on_trace=trace.append)
    _put(sandbox, contract.ORDER_SERVICE, contract.ORDER_CREATED, '{"id": 1, "amount": -1}')
    assert len(_recorded(sandbox)) == 1
    # WHEN the sandbox is reset and an order of the original scenario goes through the API
    sandbox = start_sandbox(on_trace=trace.append)
    trace.clear()
    assert _recorded(sandbox) == []
    assert post_order(sandbox, 101, 100).status == 201
    assert sandbox.wait_idle(30)

    # THEN its events (handlers' and the state machine's putEvents) all crossed the bus ...
    kinds = sorted(t.split(" from ")[0] for t in trace if " (order 101) -> " in t and " from " in t)
    assert kinds == sorted([contract.ORDER_CREATED, contract.PAYMENT_SUCCEEDED, contract.ORDER_COMPLETED]), trace
    # ... without a mark, and the file stays empty
    assert not [t for t in trace if "[contract" in t or "[unknown event" in t], trace
    assert _recorded(sandbox) == []
