"""What the console's page shows, built from the program, the recorder and moto's state.

- :func:`architecture`: the evaluated program drawn as columns (the API, the stream mappings'
  streams and functions and the event sources, the functions behind the API and the buses, rules,
  targets, then dead-letter queues, the table and the topic), each edge with what the recorder
  counted on it;
- :func:`order_view`: one order's timeline, its state machine executions expanded from their
  Step Functions history (each state entered, the Choice's decision, the outcome);
- :func:`dead_letter_queues` and :func:`redrive`: what each dead-letter queue holds, and a redrive
  that delivers each message to its target again. SQS's own redrive (``StartMessageMoveTask``)
  moves messages only when their source is an SQS queue ("the source queue must be an SQS queue
  configured as a dead-letter queue", SQS Developer Guide, *Configuring a dead-letter queue
  redrive*), which these queues' messages are not: EventBridge and Lambda wrote them; a stream
  mapping's on-failure record is redriven by :class:`StreamRedrive`, from the stream;
- :func:`alarms`: each of the program's CloudWatch alarms with the value its metric has here and
  whether it would be in ALARM on AWS.
"""

from __future__ import annotations

import json
import operator
import time
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models import dynamodb_backends
from moto.sqs.models import sqs_backends
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

from sandbox.console.recorder import Recorder, order_of_event
from sandbox.delivery.rules import Delivery
from sandbox.delivery.stream import ChangeRecord, shard_of, stream_arn_of
from sandbox.delivery.stream_mapping import (
    STREAM_RETENTION_SECONDS,
    DeclaredMapping,
    checkpoint,
    declared_mappings,
    passes_filters,
)
from sandbox.functions import invocation
from sandbox.functions.runtime import FunctionRuntime
from sandbox.program.evaluation import DeclaredResource, Program

TARGET_TYPE = "aws:cloudwatch/eventTarget:EventTarget"
RULE_TYPE = "aws:cloudwatch/eventRule:EventRule"
#: Messages listed per dead-letter queue, and redriven per request.
MAX_LISTED = 50
KIND_LABELS = {
    "aws:lambda/function:Function": "λ",
    "aws:sfn/stateMachine:StateMachine": "state machine",
    "aws:cloudwatch/logGroup:LogGroup": "log group",
    "aws:sqs/queue:Queue": "queue",
    "aws:sns/topic:Topic": "topic",
    "aws:dynamodb/table:Table": "table",
    "aws:cloudwatch/eventBus:EventBus": "bus",
    "aws:cloudwatch/eventRule:EventRule": "rule",
}


def _node(res: DeclaredResource, column: int, count: str = "") -> dict[str, Any]:
    return {
        "id": res.name,
        "label": res.name,
        "kind": KIND_LABELS.get(res.type, res.type),
        "column": column,
        "count": count,
    }


def _arn_node(program: Program, arn: str) -> DeclaredResource | None:
    try:
        return program.by_arn(arn)
    except KeyError:
        return None


def _api_part(program: Program, recorder: Recorder, nodes: dict[str, Any], edges: list[dict[str, Any]]) -> None:
    """The API and the functions behind its routes, with the requests each route answered."""
    from sandbox.api.gateway import declared_routes

    for api in program.of_type("aws:apigateway/restApi:RestApi"):
        nodes[api.name] = {"id": api.name, "label": api["name"], "kind": "API", "column": 0, "count": ""}
        for route in declared_routes(program):
            fn = _arn_node(program, route.function_arn)
            if fn is None:
                continue
            nodes.setdefault(fn.name, _node(fn, 1))
            count = recorder.count("api", route.method, route.path)
            edges.append({"from": api.name, "to": fn.name, "label": f"{route.method} {route.path}", "count": count})


def _bus_part(program: Program, recorder: Recorder, nodes: dict[str, Any], edges: list[dict[str, Any]]) -> None:
    """Event sources into buses, buses into rules, rules into targets, targets into dead-letter queues."""
    buses = {b["name"]: b.name for b in program.of_type("aws:cloudwatch/eventBus:EventBus")}
    for rule in program.of_type(RULE_TYPE):
        bus = rule.get("eventBusName") or "default"
        if bus not in buses:  # the account's default bus: the program uses it without declaring it
            buses[bus] = f"bus:{bus}"
            nodes[buses[bus]] = {"id": buses[bus], "label": bus, "kind": "bus", "column": 1, "count": ""}
    for res in program.of_type("aws:cloudwatch/eventBus:EventBus"):
        nodes[res.name] = _node(res, 1)
    for source, bus in sorted(_sources(program, recorder)):
        if bus not in buses:
            continue
        node_id = f"source:{source}"
        nodes[node_id] = {"id": node_id, "label": source, "kind": "source", "column": 0, "count": ""}
        put, refused = recorder.count("source", source, bus, "put"), recorder.count("source", source, bus, "refused")
        edges.append({"from": node_id, "to": buses[bus], "label": "PutEvents", "count": put, "failed": refused})
    for rule in program.of_type(RULE_TYPE):
        nodes[rule.name] = _node(rule, 2)
        matched = recorder.count("rule", rule["name"])
        edges.append({"from": buses[rule.get("eventBusName") or "default"], "to": rule.name, "count": matched})
        for target in program.find(TARGET_TYPE, rule=rule["name"]):
            _target_edges(program, recorder, rule, target, nodes, edges)


def _target_edges(
    program: Program,
    recorder: Recorder,
    rule: DeclaredResource,
    target: DeclaredResource,
    nodes: dict[str, Any],
    edges: list[dict[str, Any]],
) -> None:
    declared = _arn_node(program, target["arn"])
    if declared is None:
        return
    nodes.setdefault(declared.name, _node(declared, 3))
    service = target["arn"].split(":")[2]
    if service in ("lambda", "states"):
        count = recorder.count("target", rule["name"], target["arn"], "ok")
    else:
        count = recorder.count("rule", rule["name"])  # moto itself delivers to logs, SQS and SNS
    failed = recorder.count("target", rule["name"], target["arn"], "failed")
    edges.append({"from": rule.name, "to": declared.name, "label": "delivered", "count": count, "failed": failed})
    queues = [(target.get("deadLetterConfig") or {}).get("arn")]
    for config in program.find("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"):
        if declared.get("name") == config.get("functionName"):
            queues.append(((config.get("destinationConfig") or {}).get("onFailure") or {}).get("destination"))
    for queue_arn in dict.fromkeys(q for q in queues if q):
        queue = _arn_node(program, queue_arn)
        if queue is not None:
            nodes.setdefault(queue.name, _node(queue, 4))
            parked = recorder.count("dead-letter-queue", queue["name"])
            edges.append(
                {"from": declared.name, "to": queue.name, "label": "dead letters", "count": parked, "dashed": True}
            )


def _sources(program: Program, recorder: Recorder) -> set[tuple[str, str]]:
    """``(source, bus)`` pairs: those the rules name in their patterns (drawn before any event), and those seen."""
    pairs = {(key[1], key[2]) for key in list(recorder.counts) if key[0] == "source"}
    for rule in program.of_type(RULE_TYPE):
        pattern = json.loads(rule.get("eventPattern") or "{}")
        bus = rule.get("eventBusName") or "default"
        pairs.update((s, bus) for s in pattern.get("source", []) if isinstance(s, str))
    return pairs


def _store_part(program: Program, recorder: Recorder, nodes: dict[str, Any], edges: list[dict[str, Any]]) -> None:
    """Tables and topics, linked to the functions whose environment names them."""
    stores = [*program.of_type("aws:dynamodb/table:Table"), *program.of_type("aws:sns/topic:Topic")]
    for store in stores:
        is_table = store.type == "aws:dynamodb/table:Table"
        counted = recorder.count("table", store["name"]) if is_table else recorder.count("email", store["arn"])
        # A topic that is also a rule's target keeps its place among the targets.
        nodes.setdefault(store.name, _node(store, 4))["count"] = f"{counted} {'writes' if is_table else 'messages'}"
        for fn in program.of_type("aws:lambda/function:Function"):
            variables = ((fn.get("environment") or {}).get("variables") or {}).values()
            if fn.name in nodes and {store.get("name"), store.get("arn")} & set(variables):
                edges.append({"from": fn.name, "to": store.name, "label": "", "count": None, "dashed": False})


def _outbox_part(program: Program, recorder: Recorder, nodes: dict[str, Any], edges: list[dict[str, Any]]) -> None:
    """Each stream mapping: its table -> the table's stream -> its function -> the bus it puts on, and its queue."""
    for mapping in declared_mappings(program):
        table = next(
            (t for t in program.of_type("aws:dynamodb/table:Table") if mapping.stream_arn.startswith(t["arn"])), None
        )
        fn = _arn_node(program, mapping.function_arn)
        if table is None or fn is None:
            continue
        stream_id = f"stream:{table.name}"
        nodes[stream_id] = {"id": stream_id, "label": table["name"], "kind": "stream", "column": 0, "count": ""}
        nodes[fn.name] = {**_node(fn, 0), "column": 0}
        records = recorder.count("stream", table["name"])
        edges.append({"from": table.name, "to": stream_id, "label": "records", "count": records, "dashed": False})
        ok, failed = recorder.count("mapping", fn["name"], "ok"), recorder.count("mapping", fn["name"], "failed")
        edges.append({"from": stream_id, "to": fn.name, "label": "batches", "count": ok, "failed": failed})
        variables = set(((fn.get("environment") or {}).get("variables") or {}).values())
        for bus in program.of_type("aws:cloudwatch/eventBus:EventBus"):
            if {bus.get("name"), bus.get("arn")} & variables:
                published = recorder.count("mapping-records", fn["name"])
                edges.append({"from": fn.name, "to": bus.name, "label": "PutEvents", "count": published})
        queue = _arn_node(program, mapping.on_failure_arn) if mapping.on_failure_arn else None
        if queue is not None:
            nodes.setdefault(queue.name, _node(queue, 4))
            parked = recorder.count("dead-letter-queue", queue["name"])
            edges.append({"from": fn.name, "to": queue.name, "label": "on failure", "count": parked, "dashed": True})


def architecture(program: Program, recorder: Recorder) -> dict[str, Any]:
    """The program as nodes in columns and edges with counts (see the module docstring)."""
    nodes: dict[str, Any] = {}
    edges: list[dict[str, Any]] = []
    _api_part(program, recorder, nodes, edges)
    _outbox_part(program, recorder, nodes, edges)
    _bus_part(program, recorder, nodes, edges)
    _store_part(program, recorder, nodes, edges)
    for fn_node in nodes.values():
        if fn_node["kind"] == "λ":
            fn = program.named(fn_node["id"])
            runs, errors = recorder.count("function", fn["name"]), recorder.count("function-error", fn["name"])
            fn_node["count"] = f"{runs} runs" + (f", {errors} errors" if errors else "")
    return {"nodes": list(nodes.values()), "edges": edges}


# --- one order -----------------------------------------------------------------------------------
def execution_states(account: str, region: str, execution_arn: str) -> dict[str, Any]:
    """One execution as Step Functions records it: its status, and each state with what it decided."""
    backend = stepfunctions_parser_backends[account][region]
    try:
        execution: Any = backend.describe_execution(execution_arn=execution_arn)
        history = execution.to_history_output()["events"]
    except Exception as error:  # gone with a reset, or not started yet
        return {"arn": execution_arn, "status": "UNKNOWN", "states": [], "error": str(error)}
    states: list[dict[str, Any]] = []
    for event in history:
        entered = event.get("stateEnteredEventDetails")
        if entered:
            if states and states[-1]["type"] == "Choice":
                states[-1]["decision"] = f"chose {entered['name']}"
            states.append(
                {
                    "name": entered["name"],
                    "type": event["type"].removesuffix("StateEntered"),
                    "time": _epoch(event.get("timestamp")),
                    "input": entered.get("input"),
                }
            )
    status = getattr(execution, "exec_status", None)
    return {"arn": execution_arn, "status": str(getattr(status, "value", status)), "states": states}


def _epoch(value: Any) -> float | None:
    return value.timestamp() if hasattr(value, "timestamp") else None


def order_view(program: Program, recorder: Recorder, order: str) -> dict[str, Any] | None:
    """One order's timeline, executions expanded (``None``: the console keeps no trace of it)."""
    found = recorder.trace(order)
    if found is None:
        return None
    entries, executions, dropped, status = found
    expanded = {arn: execution_states(program.account_id, program.region, arn) for arn in executions}
    timeline = []
    for entry in entries:
        item = entry.as_json()
        if entry.kind == "execution" and entry.detail.get("arn") in expanded:
            item["detail"] = {**entry.detail, **expanded[entry.detail["arn"]]}
            item["title"] = f"{entry.title}: {item['detail']['status']}"
            item["ok"] = {"SUCCEEDED": True, "RUNNING": None}.get(item["detail"]["status"], False)
        timeline.append(item)
    return {"id": order, "status": status, "dropped": dropped, "timeline": timeline}


# --- dead-letter queues --------------------------------------------------------------------------
def dead_letter_queue_names(program: Program) -> dict[str, str]:
    """Every queue the program uses as a dead-letter queue or on-failure destination: name -> logical name."""
    arns = {(t.get("deadLetterConfig") or {}).get("arn") for t in program.of_type(TARGET_TYPE)}
    for config in program.of_type("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"):
        arns.add(((config.get("destinationConfig") or {}).get("onFailure") or {}).get("destination"))
    arns.update(m.on_failure_arn for m in declared_mappings(program) if m.on_failure_arn)
    return {q["name"]: q.name for q in program.of_type("aws:sqs/queue:Queue") if q["arn"] in arns}


def describe_message(body: str, attributes: dict[str, Any]) -> dict[str, Any]:
    """A dead letter as the console lists it: who wrote it, for which target and order, and why."""
    values = {k: v.get("string_value") or v.get("StringValue") for k, v in attributes.items()}
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if "TARGET_ARN" in values:
        event = document
        described = {
            "writer": "EventBridge",
            "target": values["TARGET_ARN"],
            "rule": values.get("RULE_ARN"),
            "error": f"{values.get('ERROR_CODE')}: {values.get('ERROR_MESSAGE')}",
        }
    elif isinstance(document, dict) and "DDBStreamBatchInfo" in document:
        return _describe_stream_batch(document)
    elif isinstance(document, dict) and "requestContext" in document:
        event = document.get("requestPayload")
        context = document["requestContext"]
        response = document.get("responsePayload") or {}
        described = {
            "writer": "Lambda",
            "target": str(context.get("functionArn", "")).removesuffix(":$LATEST"),
            "error": f"{context.get('condition')} after {context.get('approximateInvokeCount')} attempts: "
            f"{response.get('errorMessage')}",
        }
    else:
        event, described = document, {"writer": "unknown", "target": None, "error": None}
    detail_type = event.get("detail-type") if isinstance(event, dict) else None
    return {**described, "order": order_of_event(event), "detail_type": detail_type}


def _describe_stream_batch(document: dict[str, Any]) -> dict[str, Any]:
    """A stream mapping's on-failure record: the batch described (stream, shard, sequence numbers), not its records."""
    info, context = document["DDBStreamBatchInfo"], document.get("requestContext") or {}
    numbers = f"{info.get('startSequenceNumber')}..{info.get('endSequenceNumber')}"
    return {
        "writer": "Lambda (stream)",
        "target": str(context.get("functionArn", "")).removesuffix(":$LATEST"),
        "error": f"{context.get('condition')} after {context.get('approximateInvokeCount')} attempts: "
        f"{info.get('batchSize')} stream record(s) {numbers}",
        "order": None,
        "detail_type": "DDBStreamBatchInfo",
    }


def dead_letter_queues(program: Program) -> list[dict[str, Any]]:
    """What each dead-letter queue holds now (read without receiving, so nothing becomes invisible)."""
    backend = sqs_backends[program.account_id][program.region]
    listed = []
    for name, logical in sorted(dead_letter_queue_names(program).items(), key=operator.itemgetter(1)):
        queue = backend.queues.get(name)
        messages = list(queue._messages) if queue is not None else []  # moto keeps them in this list
        listed.append(
            {
                "queue": name,
                "label": logical,
                "count": len(messages),
                "messages": [
                    {"id": m.id, **describe_message(m.body, m.message_attributes)} for m in messages[:MAX_LISTED]
                ],
            }
        )
    return listed


def redrive(program: Program, dispatcher: Any, queue_name: str, stream: StreamRedrive | None = None) -> int:
    """Deliver each message of a dead-letter queue to its target again, deleting it; how many were redriven.

    An EventBridge dead letter goes to its rule's target again with the target's retry policy and
    dead-letter queue; a Lambda on-failure record invokes its function asynchronously again with its
    original event; a stream mapping's on-failure record is redriven by ``stream`` (see
    :class:`StreamRedrive`). Raises KeyError for a queue that is not a dead-letter queue of the
    program, and ValueError for a message the sandbox cannot deliver again (it stays in the queue).
    """
    if queue_name not in dead_letter_queue_names(program):
        raise KeyError(queue_name)
    backend = sqs_backends[program.account_id][program.region]
    redriven = 0
    while redriven < MAX_LISTED:
        batch = backend.receive_message(queue_name, 10, 0, 30, message_attribute_names=["All"])
        if not batch:
            break
        for message in batch:
            try:
                if stream is not None and "DDBStreamBatchInfo" in message.body:
                    stream.redrive(json.loads(message.body))
                else:
                    _deliver_again(program, dispatcher, message.body, message.message_attributes)
            except ValueError:
                backend.change_message_visibility(queue_name, message.receipt_handle or "", 0)  # it stays listed
                raise
            backend.delete_message(queue_name, message.receipt_handle or "")
            redriven += 1
    return redriven


class StreamRedrive:
    """Redrive of a stream mapping's on-failure record: its records read from the stream, its function invoked.

    The record Lambda sends holds the batch's metadata (``DDBStreamBatchInfo``: stream, shard, first
    and last sequence numbers), not the records; AWS offers no redrive for it. What one does on AWS
    is read those records from the stream while it still keeps them ("a DynamoDB stream keeps
    records for 24 hours", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html)
    and process them again. The sandbox does that: it reads the batch's records from the table's
    stream (those of the batch's shard between the two numbers that pass the mapping's filter),
    invokes the function once with them, and counts the message redriven only if the function
    reported no failure. A record the stream no longer holds (older than the retention, or gone with
    a reset of the sandbox) makes the redrive refuse: the events of those changes cannot be rebuilt
    from the record, and the message stays for a person to decide.
    """

    def __init__(self, program: Program, functions: FunctionRuntime, delay_scale: float) -> None:
        """Redrive through ``functions``; records age in the sandbox's time (real seconds / ``delay_scale``)."""
        self.program, self.functions, self.delay_scale = program, functions, delay_scale

    def records(self, mapping: DeclaredMapping, info: dict[str, Any]) -> list[ChangeRecord]:
        """The batch's records as the stream holds them now (ValueError if any is gone or expired)."""
        start, end = int(info["startSequenceNumber"]), int(info["endSequenceNumber"])
        shard = int(str(info["shardId"]).split("-")[1])
        table = next(
            (
                t
                for t in dynamodb_backends[self.program.account_id][self.program.region].tables.values()
                if t.stream_shard is not None and stream_arn_of(t) == info["streamArn"]
            ),
            None,
        )
        shard_items = table.stream_shard.items if table is not None and table.stream_shard is not None else []
        held = [item.to_json() for item in shard_items]
        found = [
            ChangeRecord(info["streamArn"], shard, record, 0.0)
            for record in held
            if start <= int(record["dynamodb"]["SequenceNumber"]) <= end
            and shard_of(record["dynamodb"]["Keys"]) == shard
            and passes_filters(mapping.filters, record)
        ]
        numbers = {int(c.record["dynamodb"]["SequenceNumber"]) for c in found}
        oldest = min((c.record["dynamodb"]["ApproximateCreationDateTime"] for c in found), default=None)
        expired = oldest is not None and (time.time() - oldest) / max(self.delay_scale, 1e-9) > STREAM_RETENTION_SECONDS
        if start not in numbers or end not in numbers or expired:
            raise ValueError(
                f"stream records {start}..{end} are no longer in the stream (it keeps records "
                f"{STREAM_RETENTION_SECONDS // 3600} hours; a reset empties it): they cannot be processed again"
            )
        return found

    def redrive(self, document: dict[str, Any]) -> None:
        """Invoke the mapping's function with the batch's records again (ValueError if it cannot, or fails)."""
        info = document["DDBStreamBatchInfo"]
        function_arn = str((document.get("requestContext") or {}).get("functionArn", "")).removesuffix(":$LATEST")
        mapping = next(
            (
                m
                for m in declared_mappings(self.program)
                if m.function_arn == function_arn and m.stream_arn == info["streamArn"]
            ),
            None,
        )
        if mapping is None:
            raise ValueError(f"no declared stream mapping of {function_arn} on {info['streamArn']}")
        batch = self.records(mapping, info)
        event = {"Records": [{**c.record, "eventSourceARN": c.stream_arn} for c in batch]}
        result = invocation.invoke(self.functions, mapping.function_arn, event)
        response = json.loads(result.payload or b"null") if result.function_error is None else None
        done = checkpoint(response, batch) if response is not None else None
        if done != len(batch):
            raise ValueError(f"{function_arn.split(':')[-1]} failed the redriven batch again: the record stays")


def _deliver_again(program: Program, dispatcher: Any, body: str, attributes: dict[str, Any]) -> None:
    described = describe_message(body, attributes)
    document = json.loads(body)
    if described["writer"] == "Lambda":
        dispatcher.invoke_async(described["target"], document["requestPayload"])
        return
    if described["writer"] != "EventBridge" or described["target"].split(":")[2] not in ("lambda", "states"):
        raise ValueError(f"cannot redrive a message for {described['target']}")
    rule = next((r for r in program.of_type(RULE_TYPE) if r.get("arn") == described["rule"]), None)
    target = next(iter(program.find(TARGET_TYPE, rule=rule["name"], arn=described["target"])), None) if rule else None
    if rule is None or target is None:
        raise ValueError(f"no declared target {described['target']} of rule {described['rule']}")
    from sandbox.program.deploy import target_request

    dispatcher.submit(Delivery(rule["arn"], rule["name"], target_request(target), document, time.monotonic()))


# --- alarms --------------------------------------------------------------------------------------
_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": operator.gt,
    "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}


def metric_value(program: Program, recorder: Recorder, alarm: DeclaredResource) -> float | None:
    """The alarm's metric as the sandbox knows it (``None``: the sandbox does not measure it)."""
    dimensions = alarm.get("dimensions") or {}
    metric = (alarm.get("namespace"), alarm.get("metricName"))
    if metric == ("AWS/Lambda", "Errors"):
        return recorder.count("function-error", dimensions.get("FunctionName", ""))
    if metric == ("AWS/Lambda", "Throttles"):
        return 0  # the sandbox runs every invocation: nothing is throttled
    if metric == ("AWS/Events", "FailedInvocations"):
        rule = dimensions.get("RuleName", "")
        return sum(n for key, n in recorder.counts.items() if key[:2] == ("dead-letter", rule))
    if metric == ("AWS/SQS", "ApproximateNumberOfMessagesVisible"):
        queue = sqs_backends[program.account_id][program.region].queues.get(dimensions.get("QueueName", ""))
        return len(queue._messages) if queue is not None else 0
    if metric[0] == "AWS/States" and metric[1] in ("ExecutionsFailed", "ExecutionsTimedOut"):
        wanted = "FAILED" if metric[1] == "ExecutionsFailed" else "TIMED_OUT"
        return _executions_with_status(program, dimensions.get("StateMachineArn", ""), wanted)
    return None


def _executions_with_status(program: Program, machine_arn: str, wanted: str) -> int:
    backend = stepfunctions_parser_backends[program.account_id][program.region]
    count = 0
    for machine in backend.state_machines:
        if machine.arn == machine_arn:
            for execution in machine.executions:
                status = getattr(execution, "exec_status", None)
                count += str(getattr(status, "value", status)) == wanted
    return count


def alarms(program: Program, recorder: Recorder) -> list[dict[str, Any]]:
    """Every alarm of the program, with its metric's value here and whether it would be in ALARM."""
    listed = []
    for alarm in program.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        value = metric_value(program, recorder, alarm)
        compare = _COMPARISONS.get(alarm.get("comparisonOperator", ""))
        firing = value is not None and compare is not None and compare(float(value), float(alarm.get("threshold", 0)))
        listed.append(
            {
                "name": alarm.get("name"),
                "metric": f"{alarm.get('namespace')} {alarm.get('metricName')}",
                "value": value,
                "threshold": alarm.get("threshold"),
                "state": "ALARM" if firing else "OK" if value is not None else "NOT MEASURED",
            }
        )
    return sorted(listed, key=lambda a: (a["state"] != "ALARM", str(a["name"])))
