"""Helpers of the sandbox tests: a tiny HTTP client, the shared running sandbox, and readers of its state.

The fixtures that hand these out live in ``conftest.py``.
"""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.program.evaluation import Program
from sandbox.runtime import Sandbox, SandboxBusyError


@dataclass
class Response:
    """An HTTP answer: its status and its JSON body (``None`` when empty)."""

    status: int
    body: Any


def http(
    method: str,
    url: str,
    body: bytes | str | None = None,
    content_type: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """One request; curl's ``-d`` sends a form content type, which is the default here too."""
    data = body.encode() if isinstance(body, str) else body
    headers = dict(headers or {})
    if data is not None:
        headers["Content-Type"] = content_type or "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        raw = error.read()
        status = error.code
    return Response(status, json.loads(raw) if raw else None)


#: Back-off delays in tests: the real ones scaled down 1000x (``make sandbox`` uses 100x), so a
#: target retried eight times dead-letters in a quarter of a second.
TEST_DELAY_SCALE = 0.001


class SandboxPool:
    """The one running sandbox of this test process, shared by the tests that ask for the same program.

    moto's backends are process-wide, so one sandbox runs at a time. A test asking for the
    program (and settings) of the running sandbox gets it back reset (:meth:`Sandbox.reset`:
    a fraction of a second); a test asking for another config stops it and starts its own
    (program evaluation aside, about a second and a half).
    """

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.running: Sandbox | None = None
        self._settings: dict[str, Any] = {}

    def acquire(self, program: Program, on_trace: Callable[[str], None] | None = None, **settings: Any) -> Sandbox:
        """A running, freshly reset sandbox of ``program`` with ``settings`` (``delay_scale``, ...)."""
        trace = on_trace or (lambda line: None)
        # The console runs in every test sandbox (on a free port): its observers see every test's traffic.
        settings = {"delay_scale": TEST_DELAY_SCALE, "console_port": 0, **settings}
        running = self.running
        if running is not None and running.program is program and self._settings == settings:
            try:
                running.reset(on_trace=trace)
                return running
            except SandboxBusyError:
                pass  # something is still in flight: only a restart is clean
        self.release()
        sandbox = Sandbox(program, aws_port=0, api_port=0, state_dir=self.state_dir, on_trace=trace, **settings)
        sandbox.start()
        self.running, self._settings = sandbox, settings
        return sandbox

    def release(self) -> None:
        """Stop the running sandbox, if any (a test that starts one of its own needs the process)."""
        if self.running is not None:
            running, self.running = self.running, None
            running.stop()


def post_order(sandbox: Sandbox, order_id: int, amount: float | str) -> Response:
    """``curl -X POST $API/order -d '{"id":…,"amount":…}'``."""
    return http("POST", f"{sandbox.api_url}/order", f'{{"id":{order_id},"amount":{amount}}}')


def get_order(sandbox: Sandbox, order_id: int | str) -> Response:
    """``curl $API/order/<id>``."""
    return http("GET", f"{sandbox.api_url}/order/{order_id}")


def table_items(sandbox: Sandbox) -> list[dict[str, Any]]:
    """Every item of the orders table, through the AWS endpoint."""
    dynamodb = sandbox.client("dynamodb")
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": sandbox.outputs["orders_table_name"]}
    while True:
        page = dynamodb.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def catch_all_events(sandbox: Sandbox) -> list[dict[str, Any]]:
    """Every event the catch-all rule wrote to its log group."""
    logs = sandbox.client("logs")
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"logGroupName": sandbox.outputs["catch_all_log_group_name"]}
    while True:
        page = logs.filter_log_events(**kwargs)
        events.extend(json.loads(e["message"]) for e in page["events"])
        if not page.get("nextToken"):
            return events
        kwargs["nextToken"] = page["nextToken"]


def executions(sandbox: Sandbox) -> list[dict[str, Any]]:
    """Payment executions, through the AWS endpoint."""
    sfn = sandbox.client("stepfunctions")
    return sfn.list_executions(stateMachineArn=sandbox.outputs["payment_state_machine_arn"], maxResults=1000)[
        "executions"
    ]


def dead_letters(sandbox: Sandbox, rule_prefix: str) -> list[dict[str, Any]]:
    """Messages in the dead-letter queue of the rule whose logical name starts with ``rule_prefix``."""
    queue = next(q for q in sandbox.program.of_type("aws:sqs/queue:Queue") if q.name.startswith(rule_prefix))
    sqs = sandbox.client("sqs")
    url = sqs.get_queue_url(QueueName=queue["name"])["QueueUrl"]
    messages: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=0
        ).get("Messages", [])
        if not batch:
            return messages
        messages.extend(batch)


@contextlib.contextmanager
def invocations_of(sandbox: Sandbox, handler: str) -> Iterator[list[Any]]:
    """The events the function with ``handler`` is invoked with while the block runs (seen before it runs)."""
    name = next(fn.name for fn in sandbox.functions.functions.values() if fn.handler == handler)
    invoked: list[Any] = []
    sandbox.functions.faults[name] = invoked.append
    try:
        yield invoked
    finally:
        sandbox.functions.faults.pop(name, None)
