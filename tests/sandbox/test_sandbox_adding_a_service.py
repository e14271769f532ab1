"""The README's example service, added by one line, receives order events in the sandbox."""

from __future__ import annotations

import json
from typing import Any

from sandbox_testkit import SandboxPool, dead_letters, post_order

from handlers import contract
from tests.program.audit_service import audit_program


def _log_lines(client: Any, group: str) -> list[dict[str, Any]]:
    """The JSON lines of one log group (Lambda's own START/REPORT lines included)."""
    lines: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"logGroupName": group}
    while True:
        page = client.filter_log_events(**kwargs)
        for event in page["events"]:
            try:
                lines.append(json.loads(event["message"]))
            except ValueError:
                continue
        if not page.get("nextToken"):
            return lines
        kwargs["nextToken"] = page["nextToken"]


def test_the_sandbox_delivers_order_events_to_the_added_service(sandbox_pool: SandboxPool) -> None:
    # GIVEN the dev stack plus the example service's one line, running offline
    program = audit_program()
    sandbox = sandbox_pool.acquire(program)
    group = program.named("audit-audit-fn")["loggingConfig"]["logGroup"]

    # WHEN an order is posted and the system settles
    assert post_order(sandbox, 301, 100).status == 201
    assert sandbox.wait_idle(30)

    # THEN the audit function logged both order-service events of that order, and nothing else
    audited = sorted(
        (line["detailType"], line["orderId"])
        for line in _log_lines(sandbox.client("logs"), group)
        if line.get("message") == "audited"
    )
    assert audited == [(contract.ORDER_COMPLETED, 301), (contract.ORDER_CREATED, 301)]
    # AND nothing was dead-lettered on its way there
    assert dead_letters(sandbox, "audit-service") == []
