"""The sandbox enforces the event contracts live: a breach is marked, recorded, and still delivered.

The tests share one reset of the running sandbox and hold for any order they run in: each looks
only at the events it put, or at what its own actions added to the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sandbox_testkit import catch_all_events, post_order

from handlers import contract
from sandbox.delivery.contracts import VIOLATIONS_FILE, ContractLog, event_of_entry
from sandbox.runtime import Sandbox

STRING_AMOUNT = "detail/amount: '10' is not of type 'number'"


@pytest.fixture(scope="module")
def traced(module_sandbox: Sandbox) -> Iterator[tuple[Sandbox, list[str]]]:
    """The module's sandbox, with the trace lines it writes collected."""
    lines: list[str] = []
    listener, module_sandbox.on_trace = module_sandbox.on_trace, lines.append
    yield module_sandbox, lines
    module_sandbox.on_trace = listener


def _entry(sandbox: Sandbox, source: str | None, detail_type: str | None, detail: str) -> dict[str, Any]:
    """One PutEvents entry on the stack's bus (a field given as None is left out)."""
    fields = {"Source": source, "DetailType": detail_type, "Detail": detail}
    return {"EventBusName": sandbox.outputs["event_bus_name"], **{k: v for k, v in fields.items() if v is not None}}


def _put(sandbox: Sandbox, *entries: dict[str, Any]) -> list[dict[str, Any]]:
    """``aws events put-events`` through the endpoint with boto3; the result entries."""
    return sandbox.client("events").put_events(Entries=list(entries))["Entries"]


def _recorded(sandbox: Sandbox) -> list[dict[str, Any]]:
    path = sandbox.state_dir / VIOLATIONS_FILE
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_users_events_breaking_their_contract_are_marked_recorded_and_still_delivered(
    traced: tuple[Sandbox, list[str]],
) -> None:
    # GIVEN the dev stack, its trace collected
    sandbox, trace = traced
    # WHEN a user puts, with boto3 on the endpoint: an OrderCreated whose amount is a string, an
    # event of a detail-type no schema describes, an OrderCreated whose Detail is not an object,
    # and an entry without a detail-type (the last two refused by PutEvents itself, as on AWS)
    answers = _put(
        sandbox,
        _entry(sandbox, contract.ORDER_SERVICE, contract.ORDER_CREATED, '{"id": 9001, "amount": "10"}'),
        _entry(sandbox, contract.ORDER_SERVICE, "OrderTeleported", '{"id": 9002}'),
        _entry(sandbox, contract.ORDER_SERVICE, contract.ORDER_CREATED, '"hello"'),
        _entry(sandbox, contract.ORDER_SERVICE, None, '{"id": 9004}'),
    )
    assert sandbox.wait_idle(30)
    wrong, unknown, not_object, nameless = answers
    assert all("EventId" in a for a in (wrong, unknown)), answers

    # THEN each accepted event has its line in the file: kind, names, id and problems
    recorded = {line["id"]: line for line in _recorded(sandbox)}
    assert recorded[wrong["EventId"]] == {
        "time": recorded[wrong["EventId"]]["time"],
        "kind": "violation",
        "source": contract.ORDER_SERVICE,
        "detail-type": contract.ORDER_CREATED,
        "id": wrong["EventId"],
        "problems": [STRING_AMOUNT],
    }
    assert recorded[wrong["EventId"]]["time"].endswith("Z")
    assert recorded[unknown["EventId"]]["kind"] == "unknown"
    assert recorded[unknown["EventId"]]["problems"] == [
        f"no schema describes detail-type 'OrderTeleported' from '{contract.ORDER_SERVICE}'"
    ]
    # AND the entries PutEvents refused (as AWS does) are no events: nothing recorded, nothing crashed
    assert not_object == {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}, not_object
    assert nameless.get("ErrorCode") == "InvalidArgument" and "EventId" not in nameless, nameless
    assert len(recorded) == 2
    assert [line for line in recorded.values() if line["detail-type"] is None] == []
    # AND the trace lines carry the marks
    [created] = [
        t for t in trace if t.startswith(f"{contract.ORDER_CREATED} from {contract.ORDER_SERVICE} (order 9001)")
    ]
    assert created.endswith(f"  [contract violation: {STRING_AMOUNT}]"), created
    [teleported] = [t for t in trace if t.startswith("OrderTeleported from")]
    assert "  [unknown event: no schema describes detail-type 'OrderTeleported'" in teleported, teleported
    # AND both are delivered all the same: the catch-all log group has them
    delivered = {e["id"]: e["detail"] for e in catch_all_events(sandbox)}
    assert delivered[wrong["EventId"]] == {"id": 9001, "amount": "10"}
    assert delivered[unknown["EventId"]] == {"id": 9002}


def test_the_scenarios_own_events_keep_their_contracts(traced: tuple[Sandbox, list[str]]) -> None:
    # GIVEN the dev stack, its trace collected, and the file as it is now
    sandbox, trace = traced
    before = _recorded(sandbox)
    # WHEN an order of the original scenario goes through the API and everything lands
    assert post_order(sandbox, 4101, 100).status == 201
    assert sandbox.wait_idle(30)

    # THEN its events (the handlers' and the state machine's putEvents) all crossed the bus ...
    lines = [t for t in trace if " (order 4101) -> " in t and " from " in t]
    assert sorted(t.split(" from ")[0] for t in lines) == sorted(
        [contract.ORDER_CREATED, contract.PAYMENT_SUCCEEDED, contract.ORDER_COMPLETED]
    ), trace
    # ... none of them marked, and none added to the file
    assert [t for t in lines if t.endswith("]")] == []
    assert _recorded(sandbox) == before


def test_reset_empties_the_violations_file(traced: tuple[Sandbox, list[str]]) -> None:
    # GIVEN a line in the file (an unknown event no rule matches: nothing else to wait for)
    sandbox, _ = traced
    _put(sandbox, _entry(sandbox, "someone-else", "Whatever", '{"id": 1}'))
    assert _recorded(sandbox) != []
    # WHEN the shared sandbox is reset
    sandbox.reset()
    # THEN the file is empty
    assert (sandbox.state_dir / VIOLATIONS_FILE).read_text() == ""


def test_entries_without_json_detail_or_names_are_checked_without_failing(tmp_path: Path) -> None:
    # GIVEN a contract log, and entries PutEvents would refuse or that carry no usable names
    contracts = ContractLog(tmp_path / VIOLATIONS_FILE)
    contracts.clear()
    odd = [{"Detail": "not json"}, {"Source": 7, "DetailType": ["x"], "Detail": None}, {}]
    # WHEN each is checked as an event
    marks = [
        contracts.record(event_of_entry(entry, f"id-{n}", "123456789012", "eu-west-1")) for n, entry in enumerate(odd)
    ]
    # THEN each is an unknown event, recorded, and nothing raised
    assert [m.startswith("  [unknown event: ") for m in marks] == [True, True, True]
    assert [line["id"] for line in contracts.entries()] == ["id-0", "id-1", "id-2"]


def test_an_order_created_without_amount_fails_its_payment_execution_as_on_aws(
    traced: tuple[Sandbox, list[str]],
) -> None:
    # GIVEN a user's OrderCreated its contract forbids: no amount
    sandbox, _ = traced
    (answer,) = _put(sandbox, _entry(sandbox, contract.ORDER_SERVICE, contract.ORDER_CREATED, '{"id": 9100}'))
    assert sandbox.wait_idle(30)
    # WHEN the payment execution it started is read
    sfn = sandbox.client("stepfunctions")
    machine = sandbox.outputs["payment_state_machine_arn"]
    started = [
        sfn.describe_execution(executionArn=e["executionArn"])
        for e in sfn.list_executions(stateMachineArn=machine)["executions"]
    ]
    (execution,) = [e for e in started if json.loads(e["input"])["id"] == answer["EventId"]]
    # THEN the Choice on $.detail.amount fails it with States.Runtime, as AWS does (moto alone
    # would take the Default branch and publish PaymentSucceeded), and no payment event follows
    assert (execution["status"], execution["error"]) == ("FAILED", "States.Runtime")
    payments = [e for e in catch_all_events(sandbox) if e["source"] == contract.PAYMENT_SERVICE]
    assert [e for e in payments if e["detail"].get("id") == 9100] == []
