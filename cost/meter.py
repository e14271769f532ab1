"""Meter what orders consume: run them through the sandbox and count every billable unit that happened.

:func:`meter` posts a batch of orders to a running sandbox's API, waits until every event, execution
and delivery has landed, and reads the units from what the sandbox did (nothing is hard-coded here):

- API Gateway requests, as lines of the stage's access log, and Lambda invocations per function, as
  Lambda's start records in each function's log group (publish-order-events' too: one per batch
  its stream mapping hands it after the filter);
- the records the orders table's stream got and the batches the mapping read (free: Lambda's
  ``GetRecords`` calls are not charged);
- EventBridge entries accepted by ``PutEvents`` from any caller (handlers, the workflow's task), in
  billed 64 KB chunks sized as EventBridge sizes an entry, and the bytes the bus's archive stored;
- Step Functions executions, and state transitions counted in each execution's history;
- DynamoDB write and read request units of each ``PutItem``/``UpdateItem``/``GetItem``, from the
  item sizes before and after (conditional writes that fail consume units too);
- SNS publishes in 64 KB chunks, and one email per publish per email subscription of the topic;
- CloudWatch Logs bytes per log group: the real lines of the functions (their output and Lambda's
  platform records), the catch-all rule and the stage's access log, and the workflow's log lines
  rendered from each execution's history at the state machine's logging level;
- the stack's fixed monthly items (alarms, dashboards, customer-managed KMS keys), from the program.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import threading
import urllib.request
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from moto.dynamodb.responses import DynamoHandler
from moto.events.models import EventsBackend, events_backends
from moto.logs.models import logs_backends
from moto.sns.models import SNSBackend
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

from components.settings import STANDARD, load_settings
from cost.usage import FunctionUsage, Usage
from sandbox.functions import logs as function_logs
from sandbox.program.evaluation import Program
from sandbox.runtime import Sandbox, email_recipients

#: EventBridge and SNS bill each 64 KB chunk of a payload as one event / one request.
CHUNK_BYTES = 64 * 1024
#: CloudWatch Logs counts each event as its UTF-8 message plus 26 bytes (PutLogEvents' event size).
LOG_EVENT_OVERHEAD_BYTES = 26
#: DynamoDB: one write unit per 1 KB, one strongly consistent read unit per 4 KB (half for eventual).
WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
#: History events the workflow logs at each level (Step Functions' log levels).
_ERROR_EVENTS = frozenset(
    {
        "ExecutionFailed",
        "ExecutionAborted",
        "ExecutionTimedOut",
        "TaskFailed",
        "TaskTimedOut",
        "TaskStartFailed",
        "TaskSubmitFailed",
        "LambdaFunctionFailed",
        "FailStateEntered",
    }
)
_FATAL_EVENTS = frozenset({"ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"})


def entry_size(entry: dict[str, Any]) -> int:
    """Bytes of one PutEvents entry as EventBridge bills it.

    "Calculating PutEvents event entry size": 14 bytes for ``Time`` when present, plus the UTF-8
    bytes of ``Source``, ``DetailType``, ``Detail`` and each of ``Resources``.
    """
    size = 14 if entry.get("Time") else 0
    for key in ("Source", "DetailType", "Detail"):
        size += len(str(entry.get(key) or "").encode())
    return size + sum(len(str(resource).encode()) for resource in entry.get("Resources") or [])


def chunks(size: int) -> int:
    """64 KB chunks a payload of ``size`` bytes is billed as (at least one)."""
    return max(1, math.ceil(size / CHUNK_BYTES))


def _number_size(text: str) -> int:
    digits = text.lstrip("+-").replace(".", "").lstrip("0").rstrip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def attribute_value_size(value: dict[str, Any]) -> int:
    """Bytes of one DynamoDB attribute value (``{"S": ...}`` form), per "Item sizes and formats"."""
    ((kind, data),) = value.items()
    if kind == "S":
        return len(str(data).encode())
    if kind == "N":
        return _number_size(str(data))
    if kind == "B":
        return len(data) if isinstance(data, bytes) else math.floor(len(str(data)) * 3 / 4)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(s).encode()) for s in data)
    if kind == "NS":
        return sum(_number_size(str(n)) for n in data)
    if kind == "BS":
        return sum(attribute_value_size({"B": b}) for b in data)
    if kind == "L":
        return 3 + sum(attribute_value_size(v) + 1 for v in data)
    if kind == "M":
        return 3 + sum(len(k.encode()) + attribute_value_size(v) + 1 for k, v in data.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(item: dict[str, dict[str, Any]] | None) -> int:
    """Bytes of one DynamoDB item: each attribute's name in UTF-8 plus its value's size (0: no item)."""
    return sum(len(name.encode()) + attribute_value_size(value) for name, value in (item or {}).items())


def write_units(size_before: int, size_after: int) -> int:
    """Write request units of one write: the larger item image, per started KB (at least one)."""
    return max(1, math.ceil(max(size_before, size_after) / WRITE_UNIT_BYTES))


def read_units(size: int, consistent: bool) -> float:
    """Read request units of one item read: per started 4 KB (at least one); half if eventually consistent."""
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


def log_bytes(messages: Sequence[str]) -> int:
    """Bytes CloudWatch Logs ingests for these events."""
    return sum(len(message.encode()) + LOG_EVENT_OVERHEAD_BYTES for message in messages)


def workflow_log_lines(history: Sequence[dict[str, Any]], execution_arn: str, level: str) -> list[str]:
    """The lines Step Functions logs for one execution at ``level`` (ALL, ERROR, FATAL or OFF).

    Rendered from the execution's history in the documented log record format (``id``, ``type``,
    ``details`` with the event's input and output, ``previous_event_id``, ``event_timestamp``,
    ``execution_arn``).
    """
    wanted = {"ALL": None, "ERROR": _ERROR_EVENTS, "FATAL": _FATAL_EVENTS}.get(level.upper(), frozenset())
    lines = []
    for event in history:
        if wanted is not None and event["type"] not in wanted:
            continue
        details = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
        timestamp = event.get("timestamp")
        record = {
            "id": str(event.get("id", "")),
            "type": event["type"],
            "details": details,
            "previous_event_id": str(event.get("previousEventId", 0)),
            "event_timestamp": str(int(timestamp.timestamp() * 1000)) if hasattr(timestamp, "timestamp") else "",
            "execution_arn": execution_arn,
            "redrive_count": "0",
        }
        lines.append(json.dumps(record, default=str))
    return lines


@dataclass
class _Counts:
    """What the hooks saw while the batch ran."""

    event_chunks: int = 0
    sns_publish_chunks: int = 0
    email_deliveries: int = 0
    write_units: int = 0
    read_units: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, amount: float = 1) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + amount)


def _dynamodb_hooks(counts: _Counts) -> list[tuple[Any, str, Callable[[Any], Any]]]:
    def existing(handler: DynamoHandler, table_name: str, key: dict[str, Any]) -> int:
        try:
            found = handler.dynamodb_backend.get_item(table_name, key)
        except Exception:  # no such table: the call itself answers the error
            return 0
        return item_size(found.to_json()["Attributes"]) if found is not None else 0

    def key_of(handler: DynamoHandler, table_name: str, item: dict[str, Any]) -> dict[str, Any]:
        table = handler.dynamodb_backend.get_table(table_name)
        names = [table.hash_key_attr, table.range_key_attr]
        return {name: item[name] for name in names if name is not None and name in item}

    def put_item(original: Callable[[DynamoHandler], Any]) -> Callable[[DynamoHandler], Any]:
        def counted(handler: DynamoHandler) -> Any:
            name, item = handler.body["TableName"], handler.body["Item"]
            before = existing(handler, name, key_of(handler, name, item))
            try:
                return original(handler)
            finally:
                counts.add("write_units", write_units(before, item_size(item)))

        return counted

    def update_item(original: Callable[[DynamoHandler], Any]) -> Callable[[DynamoHandler], Any]:
        def counted(handler: DynamoHandler) -> Any:
            name, key = handler.body["TableName"], handler.body["Key"]
            before = existing(handler, name, key)
            try:
                return original(handler)
            finally:
                counts.add("write_units", write_units(before, existing(handler, name, key)))

        return counted

    def get_item(original: Callable[[DynamoHandler], Any]) -> Callable[[DynamoHandler], Any]:
        def counted(handler: DynamoHandler) -> Any:
            name, key = handler.body["TableName"], handler.body["Key"]
            consistent = bool(handler.body.get("ConsistentRead", False))
            try:
                return original(handler)
            finally:
                counts.add("read_units", read_units(existing(handler, name, key), consistent))

        return counted

    return [
        (DynamoHandler, "put_item", put_item),
        (DynamoHandler, "update_item", update_item),
        (DynamoHandler, "get_item", get_item),
    ]


@contextlib.contextmanager
def _hooks(counts: _Counts) -> Generator[None]:
    """Count, while the batch runs, what only the calls themselves show (the rest is read after)."""

    def put_events(original: Callable[..., Any]) -> Callable[..., Any]:
        def counted(backend: EventsBackend, entries: list[dict[str, Any]]) -> Any:
            results = original(backend, entries)
            accepted = [entry for entry, result in zip(entries, results, strict=False) if "ErrorCode" not in result]
            counts.add("event_chunks", sum(chunks(entry_size(entry)) for entry in accepted))
            return results

        return counted

    def publish(original: Callable[..., Any]) -> Callable[..., Any]:
        def counted(backend: SNSBackend, message: str, arn: str | None, *args: Any, **kwargs: Any) -> Any:
            result = original(backend, message, arn, *args, **kwargs)
            attributes = kwargs.get("message_attributes") or {}
            size = len(message.encode()) + len(json.dumps(attributes).encode()) if attributes else len(message.encode())
            counts.add("sns_publish_chunks", chunks(size))
            counts.add("email_deliveries", len(email_recipients(backend, arn)))
            return result

        return counted

    hooks = [
        (EventsBackend, "put_events", put_events),
        (SNSBackend, "publish", publish),
        *_dynamodb_hooks(counts),
    ]
    with contextlib.ExitStack() as stack:
        for owner, name, wrap in hooks:
            stack.enter_context(mock.patch.object(owner, name, wrap(getattr(owner, name))))
        yield


#: The two kinds of order: their payment succeeds, or the fraud check fails it.
BELOW_THRESHOLD, ABOVE_THRESHOLD = "below the fraud threshold", "above the fraud threshold"


def order_batches(program: Program, per_kind: int) -> dict[str, list[tuple[int, float]]]:
    """``per_kind`` orders (id, amount) of each kind: half and twice the stack's fraud threshold."""
    threshold = load_settings(lambda key: program.config.get(program.config_key(key))).fraud_threshold
    amounts = {BELOW_THRESHOLD: round(threshold / 2, 2), ABOVE_THRESHOLD: round(threshold * 2, 2)}
    return {
        kind: [(1 + k * per_kind + i, amount) for i in range(per_kind)]
        for k, (kind, amount) in enumerate(amounts.items())
    }


def mix(usages: Sequence[Usage]) -> Usage:
    """The usage of an order drawn evenly from ``usages`` (each metered on one kind of order)."""
    if not usages:
        raise ValueError("nothing to mix")
    share = 1 / len(usages)
    invocations: dict[str, float] = {}
    logs: dict[str, float] = {}
    for usage in usages:
        for fn in usage.functions:
            invocations[fn.name] = invocations.get(fn.name, 0.0) + fn.invocations_per_order * share
        for group, size in usage.log_bytes.items():
            logs[group] = logs.get(group, 0.0) + size * share

    def mean(read: Callable[[Usage], float]) -> float:
        return sum(read(usage) for usage in usages) * share

    first = usages[0]
    return dataclasses.replace(
        first,
        orders_metered=sum(usage.orders_metered for usage in usages),
        api_requests=mean(lambda u: u.api_requests),
        functions=tuple(dataclasses.replace(fn, invocations_per_order=invocations[fn.name]) for fn in first.functions),
        event_chunks=mean(lambda u: u.event_chunks),
        archived_bytes=mean(lambda u: u.archived_bytes),
        workflow_executions=mean(lambda u: u.workflow_executions),
        workflow_transitions=mean(lambda u: u.workflow_transitions),
        dynamodb_write_units=mean(lambda u: u.dynamodb_write_units),
        dynamodb_read_units=mean(lambda u: u.dynamodb_read_units),
        sns_publish_chunks=mean(lambda u: u.sns_publish_chunks),
        email_deliveries=mean(lambda u: u.email_deliveries),
        waf_requests=mean(lambda u: u.waf_requests),
        log_bytes=dict(sorted(logs.items())),
        stream_records=mean(lambda u: u.stream_records),
        stream_read_requests=mean(lambda u: u.stream_read_requests),
    )


def meter(sandbox: Sandbox, batch: Sequence[tuple[int, float]], idle_timeout: float = 60.0) -> Usage:
    """Run ``batch`` (order id, amount) through ``sandbox`` from a clean state; the units per order."""
    if not batch:
        raise ValueError("the batch holds no order")
    sandbox.reset()
    counts = _Counts()
    program = sandbox.program
    router = function_logs.router()
    if router is None:
        raise RuntimeError("the sandbox is not running")
    # Every line a function prints goes to its log group (a test runner may have replaced stdout).
    with contextlib.redirect_stdout(router), _hooks(counts):
        for order_id, amount in batch:
            _post(sandbox, order_id, amount)
        if not sandbox.wait_idle(idle_timeout):
            raise RuntimeError(f"orders still in flight after {idle_timeout:.0f}s")
    per_order = 1 / len(batch)
    logs = _log_messages(program)
    access_log = sandbox._api.access_log if sandbox._api is not None else None
    if access_log is None:
        raise RuntimeError("the meter counts API requests in the stage's access log: the stage declares none")
    executions, transitions, (workflow_group, workflow_lines) = _workflow(sandbox)
    # The lines rendered from the histories stand for the group's own (the same events, which the
    # sandbox's executions also write there): counted once.
    logs[workflow_group] = workflow_lines
    api_requests = len(logs.get(access_log.log_group, [])) * per_order
    return Usage(
        stack=program.stack,
        region=program.region,
        workflow_type=workflow_type(program),
        orders_metered=len(batch),
        api_requests=api_requests,
        functions=tuple(
            FunctionUsage(
                name=fn.name,
                memory_mb=fn.memory_mb,
                architecture=str((program.by_arn(fn.arn).get("architectures") or ["x86_64"])[0]),
                invocations_per_order=_starts(logs.get(fn.log_group, [])) * per_order,
            )
            for fn in sorted(sandbox.functions.functions.values(), key=lambda fn: fn.name)
        ),
        event_chunks=counts.event_chunks * per_order,
        archived_bytes=_archived_bytes(program) * per_order,
        workflow_executions=executions * per_order,
        workflow_transitions=transitions * per_order,
        dynamodb_write_units=counts.write_units * per_order,
        dynamodb_read_units=counts.read_units * per_order,
        sns_publish_chunks=counts.sns_publish_chunks * per_order,
        email_deliveries=counts.email_deliveries * per_order,
        log_bytes={group: log_bytes(lines) * per_order for group, lines in sorted(logs.items()) if lines},
        stream_records=sandbox.mappings.records_read * per_order,
        stream_read_requests=sandbox.mappings.batches_invoked * per_order,
        alarms=len(program.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")),
        dashboards=len(program.of_type("aws:cloudwatch/dashboard:Dashboard")),
        kms_keys=len(program.of_type("aws:kms/key:Key")),
        **web_acl_usage(program, api_requests),
    )


def web_acl_usage(program: Program, api_requests: float) -> dict[str, Any]:
    """The stack's web ACLs and their rules (fixed), and the requests they inspect: every API request."""
    acls = program.of_type("aws:wafv2/webAcl:WebAcl")
    return {
        "web_acls": len(acls),
        "web_acl_rules": sum(len(acl.get("rules") or []) for acl in acls),
        "waf_requests": api_requests if acls else 0.0,
    }


def _starts(lines: Sequence[str]) -> int:
    """Invocations in a function's log: Lambda's start records (``START`` in Text, ``platform.start`` in JSON)."""

    def is_start(line: str) -> bool:
        if line.startswith("START RequestId:"):
            return True
        if not line.startswith('{"time"'):
            return False
        return json.loads(line).get("type") == "platform.start"

    return sum(1 for line in lines if is_start(line))


def _post(sandbox: Sandbox, order_id: int, amount: float) -> None:
    request = urllib.request.Request(
        f"{sandbox.api_url}/order",
        data=json.dumps({"id": order_id, "amount": amount}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        if response.status != 201:
            raise RuntimeError(f"order {order_id} was answered {response.status}")


def workflow_type(program: Program) -> str:
    """The type of the program's payment state machine (the provider's default when it sets none)."""
    (machine,) = program.of_type("aws:sfn/stateMachine:StateMachine")
    return str(machine.get("type") or STANDARD)


def _workflow(sandbox: Sandbox) -> tuple[int, int, tuple[str, list[str]]]:
    """Executions, state transitions (StateEntered events in the histories) and the workflow's log lines."""
    (machine,) = sandbox.program.of_type("aws:sfn/stateMachine:StateMachine")
    sfn = sandbox.client("stepfunctions")
    logging_config = machine.get("loggingConfiguration") or {}
    level = str(logging_config.get("level") or "OFF")
    group = str(logging_config.get("logDestination") or "").split(":log-group:", 1)[-1].removesuffix(":*")
    executions = transitions = 0
    lines: list[str] = []
    # Read from the endpoint's backend: ListExecutions is refused for an EXPRESS state machine, as on AWS.
    backend = stepfunctions_parser_backends[sandbox.program.account_id][sandbox.program.region]
    for execution in backend.describe_state_machine(machine["arn"]).executions:
        executions += 1
        history = sfn.get_execution_history(executionArn=execution.execution_arn, maxResults=1000)["events"]
        transitions += sum(1 for event in history if event["type"].endswith("StateEntered"))
        lines += workflow_log_lines(history, execution.execution_arn, level)
    return executions, transitions, (group, lines)


def _log_messages(program: Program) -> dict[str, list[str]]:
    """Every log group of the endpoint, with the messages of all its streams."""
    backend: Any = logs_backends[program.account_id][program.region]
    return {
        name: [event.message for stream in group.streams.values() for event in stream.events]
        for name, group in backend.groups.items()
    }


def _archived_bytes(program: Program) -> int:
    backend = events_backends[program.account_id][program.region]
    return sum(len(json.dumps(event).encode()) for archive in backend.archives.values() for event in archive.events)
