"""Fixtures: a running sandbox of the program on ephemeral ports, and a tiny HTTP client."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sandbox.program import Program, evaluate
from sandbox.runtime import Sandbox


@dataclass
class Response:
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


@pytest.fixture
def start_sandbox(tmp_path: Path) -> Iterator[Callable[..., Sandbox]]:
    """Start a sandbox of a given program (default: the dev stack) on free ports; stopped after the test."""
    started: list[Sandbox] = []

    def start(program: Program | None = None, **kwargs: Any) -> Sandbox:
        sandbox = Sandbox(
            program or evaluate("dev"),
            aws_port=0,
            api_port=0,
            state_dir=tmp_path / ".sandbox",
            on_trace=kwargs.pop("on_trace", lambda line: None),
            **kwargs,
        )
        sandbox.start()
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def sandbox(start_sandbox: Callable[..., Sandbox]) -> Sandbox:
    """The dev stack, running."""
    return start_sandbox()


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
