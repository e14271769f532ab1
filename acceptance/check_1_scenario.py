"""The original scenario end to end: one order completes, one is cancelled, and everything it leaves behind.

Per order: its final status through the API and in the table, one payment execution, three events
in the catch-all log group and three notifications published to the topic.
"""

from __future__ import annotations

import json
import shlex
import time
from typing import Any

from acceptance.inventory import Inventory
from acceptance.plugin import Check, Scenario
from acceptance.support import eventually, json_lines, log_messages
from acceptance.target import Target
from components.settings import EXPRESS
from handlers import contract, messages
from sandbox.program.evaluation import Program

#: The events each order puts on the bus, by the status it ends in.
EVENTS_BY_OUTCOME = {
    contract.ORDER_COMPLETED: {contract.ORDER_CREATED, contract.PAYMENT_SUCCEEDED, contract.ORDER_COMPLETED},
    contract.ORDER_CANCELLED: {contract.ORDER_CREATED, contract.PAYMENT_FAILED, contract.ORDER_CANCELLED},
}
_SOURCES = {
    contract.ORDER_CREATED: contract.ORDER_SERVICE,
    contract.ORDER_COMPLETED: contract.ORDER_SERVICE,
    contract.ORDER_CANCELLED: contract.ORDER_SERVICE,
    contract.PAYMENT_SUCCEEDED: contract.PAYMENT_SERVICE,
    contract.PAYMENT_FAILED: contract.PAYMENT_SERVICE,
}


def _deadline(target: Target) -> float:
    return time.monotonic() + target.deadline_seconds


def check_both_orders_are_accepted(target: Target, scenario: Scenario, check: Check) -> None:
    """POST /order accepts both orders (201, status OrderCreated)."""
    order_id = scenario.completes
    check.rerun(
        f'curl -s -X POST {target.api_url}/order -d \'{{"id":{order_id},"amount":{scenario.amounts[order_id]:g}}}\''
    )
    for order_id, answer in scenario.placed.items():
        assert (answer.status, (answer.json or {}).get("status")) == (201, contract.ORDER_CREATED), (
            f"order {order_id}: {answer.status} {answer.raw[:300]!r}"
        )


def check_one_order_completes_and_one_is_cancelled(target: Target, scenario: Scenario, check: Check) -> None:
    """GET /order/{id}: the order under the fraud threshold completes, the one over it is cancelled."""
    check.rerun(
        f"curl -s {target.api_url}/order/{scenario.completes}; curl -s {target.api_url}/order/{scenario.cancels}"
    )
    got = {
        i: (a.json or {}).get("status") if isinstance(a.json, dict) else a.raw[:200] for i, a in scenario.final.items()
    }
    assert got == scenario.expected_status, f"after {target.deadline_seconds:g} s: {got}"


def check_the_table_holds_both_final_statuses(
    target: Target, scenario: Scenario, check: Check, expected: Program
) -> None:
    """The orders table holds each order with its final status."""
    (table,) = expected.of_type("aws:dynamodb/table:Table")
    table_name, key = target.outputs["orders_table_name"], table["hashKey"]
    check.rerun(
        f"aws dynamodb get-item --table-name {table_name} --key "
        + shlex.quote(json.dumps({key: {"N": str(scenario.cancels)}}))
    )
    dynamodb = target.client("dynamodb")
    got = {}
    for order_id in scenario.expected_status:
        item = dynamodb.get_item(TableName=table_name, Key={key: {"N": str(order_id)}}, ConsistentRead=True)
        got[order_id] = item.get("Item", {}).get("status", {}).get("S")
    assert got == scenario.expected_status


def _standard_executions(target: Target, machine_arn: str, ids: set[int]) -> dict[int, list[str]]:
    """Order id -> statuses of this run's executions whose input is that order's event."""
    sfn = target.client("stepfunctions")
    found: dict[int, list[str]] = {i: [] for i in ids}
    kwargs: dict[str, Any] = {"stateMachineArn": machine_arn, "maxResults": 100}
    while True:
        page = sfn.list_executions(**kwargs)
        for execution in page["executions"]:
            if execution["startDate"].timestamp() * 1000 < target.started_ms - 1000:
                return found  # newest first: the rest are older than this run
            described = sfn.describe_execution(executionArn=execution["executionArn"])
            order_id = (json.loads(described.get("input") or "{}").get("detail") or {}).get("id")
            if order_id in found:
                found[order_id].append(described["status"])
        if not page.get("nextToken"):
            return found
        kwargs["nextToken"] = page["nextToken"]


#: How an EXPRESS execution's log records (level ALL, with execution data) say it ended.
_ENDINGS = {"ExecutionSucceeded": "SUCCEEDED", "ExecutionFailed": "FAILED", "ExecutionTimedOut": "TIMED_OUT"}


def express_outcomes(records: list[dict[str, Any]], ids: set[int]) -> dict[int, list[str]]:
    """Order id -> how its executions ended, from an EXPRESS workflow's log records (pure).

    Each record carries ``execution_arn`` and ``type``; ``ExecutionStarted`` holds the input in
    ``details.input`` (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html), so the
    order of each execution is known from its start record.
    """
    orders = {}
    for record in records:
        if record.get("type") == "ExecutionStarted":
            detail = json.loads((record.get("details") or {}).get("input") or "{}").get("detail") or {}
            orders[record.get("execution_arn")] = detail.get("id")
    found: dict[int, list[str]] = {i: [] for i in ids}
    for record in records:
        order_id = orders.get(record.get("execution_arn"))
        if record.get("type") in _ENDINGS and order_id in found:
            found[order_id].append(_ENDINGS[record["type"]])
    return found


def _express_executions(target: Target, machine: dict[str, Any], ids: set[int]) -> dict[int, list[str]]:
    """Order id -> how this run's executions ended, from the workflow's log group."""
    (destination,) = machine["loggingConfiguration"]["destinations"]
    group = destination["cloudWatchLogsLogGroup"]["logGroupArn"].split(":log-group:")[1].removesuffix(":*")
    return express_outcomes(json_lines(log_messages(target, group)), ids)


def check_one_payment_execution_per_order_succeeded(
    target: Target, scenario: Scenario, inventory: Inventory, check: Check
) -> None:
    """The payment workflow ran once per order, and succeeded (a failed payment is a successful execution)."""
    arn = str(target.outputs["payment_state_machine_arn"])
    machine = inventory.state_machines[arn]
    ids = set(scenario.expected_status)
    if machine["type"] == EXPRESS:
        # EXPRESS keeps no execution list (ListExecutions answers StateMachineTypeNotSupported, in
        # the sandbox too): its log group, at level ALL with execution data, is the record.
        group = target.outputs.get("payment_workflow_log_group_name", "<the workflow's log group>")
        check.rerun(f"aws logs filter-log-events --log-group-name {group} --start-time {target.started_ms}")
        probe = lambda: _express_executions(target, machine, ids)  # noqa: E731
    else:
        check.rerun(f"aws stepfunctions list-executions --state-machine-arn {arn}")
        probe = lambda: _standard_executions(target, arn, ids)  # noqa: E731
    found = eventually(probe, lambda f: all(s == ["SUCCEEDED"] for s in f.values()), _deadline(target))
    assert all(statuses == ["SUCCEEDED"] for statuses in found.values()), f"executions by order: {found}"


def check_the_catch_all_log_group_has_every_event_of_both_orders(
    target: Target, scenario: Scenario, check: Check
) -> None:
    """The catch-all rule wrote each order's three events to its log group."""
    group = str(target.outputs["catch_all_log_group_name"])
    check.rerun(f"aws logs filter-log-events --log-group-name {group} --start-time {target.started_ms}")
    wanted = {i: EVENTS_BY_OUTCOME[status] for i, status in scenario.expected_status.items()}

    def seen() -> dict[int, set[str]]:
        found: dict[int, set[str]] = {i: set() for i in wanted}
        for event in json_lines(log_messages(target, group)):
            order_id = (event.get("detail") or {}).get("id") if isinstance(event.get("detail"), dict) else None
            if order_id in found:
                found[order_id].add(str(event.get("detail-type")))
        return found

    assert eventually(seen, lambda found: found == wanted, _deadline(target)) == wanted


def _notification_group(target: Target, inventory: Inventory) -> tuple[str, str]:
    topic = target.outputs["notification_topic_arn"]
    for name, config in inventory.functions.items():
        if (config.get("Environment") or {}).get("Variables", {}).get(contract.ENV_NOTIFICATION_TOPIC) == topic:
            return name, config["LoggingConfig"]["LogGroup"]
    raise AssertionError(f"no function publishes to {topic} (none has {contract.ENV_NOTIFICATION_TOPIC} = it)")


def check_three_notifications_per_order_were_published(
    target: Target, scenario: Scenario, inventory: Inventory, check: Check
) -> None:
    """The notification function published three messages per order to the topic (SNS answered each with an id)."""
    function, group = _notification_group(target, inventory)
    check.rerun(
        f"aws logs filter-log-events --log-group-name {group} --start-time {target.started_ms} "
        "--filter-pattern '\"Notification sent\"'"
    )
    wanted = set()
    for order_id, status in scenario.expected_status.items():
        for detail_type in EVENTS_BY_OUTCOME[status]:
            detail = {"id": order_id, "amount": scenario.amounts[order_id]}
            wanted.add(messages.notification_for(_SOURCES[detail_type], detail_type, detail).subject)

    def published() -> set[str]:
        lines = json_lines(log_messages(target, group))
        return {
            str(line.get("subject"))
            for line in lines
            if line.get("message") == "Notification sent" and line.get("message_id")
        }

    got = eventually(published, lambda subjects: wanted <= subjects, _deadline(target))
    assert wanted <= got, f"{function} did not publish {sorted(wanted - got)}"
