"""Many concurrent orders: each reaches the status its amount implies; none lost or duplicated."""

from __future__ import annotations

import contextlib
import json
import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from sandbox_testkit import catch_all_events, dead_letters, executions, post_order, table_items

from handlers import contract
from sandbox.functions import logs as function_logs
from sandbox.runtime import Sandbox

#: More orders than clients: clients post again while other orders are in flight.
ORDERS = 24
THRESHOLD = 500


def test_concurrent_orders_all_reach_their_final_status(sandbox: Sandbox) -> None:
    # GIVEN 24 orders with amounts on both sides of the threshold (and on it)
    rng = random.Random(20261126)
    amounts = {
        order_id: rng.choice([1, 99.99, 499.99, THRESHOLD, 500.01, 750, 10_000])
        for order_id in range(1000, 1000 + ORDERS)
    }
    # WHEN they are posted concurrently from 16 clients (what functions print goes to their log
    # groups, as in `make sandbox`: pytest has replaced stdout)
    with contextlib.redirect_stdout(function_logs.router()), ThreadPoolExecutor(max_workers=16) as clients:
        statuses = list(clients.map(lambda item: post_order(sandbox, *item).status, amounts.items()))
        assert Counter(statuses) == {201: ORDERS}
        assert sandbox.wait_idle(180), f"still busy: {sandbox.dispatcher.pending} deliveries pending"

    # THEN every order has the final status its amount implies
    expected = {
        order_id: contract.ORDER_CANCELLED if amount > THRESHOLD else contract.ORDER_COMPLETED
        for order_id, amount in amounts.items()
    }
    stored = {int(item["id"]["N"]): item["status"]["S"] for item in table_items(sandbox)}
    assert stored == expected
    # AND nothing is lost or duplicated: one execution, three logged events, three emails per order
    assert len(executions(sandbox)) == ORDERS
    logged = Counter((e["detail"]["id"], e["detail-type"]) for e in catch_all_events(sandbox))
    assert len(logged) == 3 * ORDERS
    assert set(logged.values()) == {1}
    assert len(sandbox.outbox) == 3 * ORDERS
    for rule in ("cw-catch-all", "payment-service", "order-service", "notification-service"):
        assert dead_letters(sandbox, rule) == []
    # AND each run published its own metric once: one EMF record per order created, each with one
    # value, as on Lambda, where a process runs one invocation at a time (Powertools keeps one
    # metric set per process; concurrent runs here sharing it merged, or emptied, each other's)
    create_order = next(
        fn for fn in sandbox.functions.functions.values() if fn.handler == "handlers.create_order.handler"
    )
    logs = sandbox.client("logs")
    lines = [e["message"] for e in logs.filter_log_events(logGroupName=create_order.log_group)["events"]]
    created = [json.loads(line)["OrdersCreated"] for line in lines if '"OrdersCreated"' in line]
    assert created == [[1.0]] * ORDERS
