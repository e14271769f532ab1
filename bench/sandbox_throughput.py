"""How much the sandbox adds on top of the AWS calls of one order (run by hand: ``make bench``).

Four systems run in the same run, and orders rotate between them (one to each per round, each
system first, second, third and fourth in turn) so the load of a shared machine hits all of them:

- **sandbox**: the program evaluated and started as ``make sandbox`` does, an order posted to
  ``POST /order`` over HTTP and timed until its whole choreography is done (the third
  notification is recorded and no delivery or stream batch is pending), its console unwired:
  every part of the sandbox runs unobserved, exactly as ``make sandbox --no-console``; also
  reported: the time from the POST to the order's final status being written (seen on the
  table's stream).
- **sandbox + console**: the same sandbox with its console wired in (every request, event,
  attempt, run, execution, table write and email recorded): the difference of the two p50s is
  what the console costs per order.
- **baseline: plain moto**: ``moto_server`` in its own process, as anyone would start it, holding
  the order's real resources taken from the evaluated program: the orders table (same key
  schema), the payment state machine with the program's rendered definition (its ``putEvents``
  task really runs: moto's ``stepfunctions.execute_state_machine`` config is on), the bus with the
  program's four rules and their patterns, and the notification topic. moto cannot invoke a
  Lambda function (no Docker) nor start an execution from a rule, so SQS queues stand in for the
  Lambda and state-machine targets and a log group for the catch-all's log group: moto still
  matches every pattern and delivers every event once per matching rule.
- **baseline: tuned moto**: the same, on a ``moto_server`` with :mod:`sandbox.aws.moto_speedups`
  applied (cached routing and JSONPath parsing, HTTP keep-alive), as the sandbox's endpoint has.
  Against it the ratio is the cost of the sandbox itself, not of moto's per-request overheads.

A baseline order makes, with the handlers' own adapters and pure functions (so the same items,
conditions and payloads), exactly the AWS calls one new order makes:

1. create-order: ``PutItem`` (``attribute_not_exists(id)``), ``PutEvents`` OrderCreated (in the
   sandbox that put is the outbox's, publish-order-events reading the table's stream: the same
   calls, and Lambda's ``GetRecords`` are free and in-process);
2. EventBridge -> payment state machine: ``StartExecution`` with the event EventBridge delivers;
   the execution (Choice, Pass, ``events:putEvents`` task) puts PaymentSucceeded;
3. EventBridge -> notification (OrderCreated): SNS ``Publish``;
4. EventBridge -> update-order (PaymentSucceeded): ``UpdateItem`` (``attribute_exists(id) AND
   #status = :created``, ``ALL_NEW``), ``PutEvents`` OrderCompleted (the outbox's, in the sandbox).
   Its ``GetItem`` runs only when that condition fails (a redelivery), so not for a new order, in
   neither system;
5. EventBridge -> notification (PaymentSucceeded, then OrderCompleted): SNS ``Publish`` x2.

The calls follow the choreography's causal order; as EventBridge delivers an event to each target
independently, the notifications of OrderCreated and PaymentSucceeded overlap the payment and
update-order, as they do in the sandbox. One call is added that AWS would not need: a
long-polling ``ReceiveMessage`` on the update-order stand-in queue, which is how the baseline
learns that the execution has put its event (the sandbox's dispatcher learns it in process).
The baseline does no validation, logging, metric, retry or API work.

That is the fair comparison: the same AWS work (the same items and conditional writes, four
rules matched and delivered per event, a real execution of the real definition, the same
publishes) with nothing around it, so the ratio is what the sandbox's API, Lambda emulation,
delivery and tracing cost. The baselines' servers run in their own processes and their calls
cross processes; the sandbox's endpoint runs in the process of its functions, as ``make
sandbox`` runs it, and starts executions in process rather than over HTTP.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from handlers import contract, messages, order_events, order_store, orders, validation
from sandbox.delivery.stream import ChangeRecord
from sandbox.program.deploy import client
from sandbox.program.evaluation import PROJECT_DIR, Program, evaluate
from sandbox.runtime import Sandbox

DEFAULT_ORDERS = 40
#: What the console may add to the sandbox's p50 per order.
CONSOLE_BUDGET_MS = 5.0
DEFAULT_WARMUP = 3
AMOUNT = 100  # below the fraud threshold: the whole happy path runs
SANDBOX = "sandbox"
CONSOLE = "sandbox + console"
PLAIN = "baseline: plain moto"
TUNED = "baseline: tuned moto"


def _post(api_url: str, order_id: int, amount: int) -> int:
    body = json.dumps({"id": order_id, "amount": amount}).encode()
    request = urllib.request.Request(f"{api_url}/order", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(response.status)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


_TUNED_SERVER = (
    "import sys; from sandbox.aws import moto_speedups; moto_speedups.apply(); "
    "from moto.server import main; main(sys.argv[1:])"
)


def _state(program: Program, type_: str, logical_name: str) -> dict[str, Any]:
    (resource,) = [r for r in program.of_type(type_) if r.name == logical_name]
    return resource.state


class MotoProcess:
    """``moto_server`` in its own process, with Step Functions executing definitions.

    ``tuned`` applies the sandbox's :mod:`sandbox.aws.moto_speedups` in that process first (cached
    routing and JSONPath parsing, HTTP keep-alive), leaving moto's behaviour as it is.
    """

    def __init__(self, tuned: bool = False) -> None:
        """Start the server and wait until it answers."""
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # The putEvents task of an execution calls the server on MOTO_PORT: this one.
        env = {**os.environ, "MOTO_PORT": str(self.port)}
        command = [str(Path(sys.executable).with_name("moto_server"))]
        if tuned:
            command = [sys.executable, "-c", _TUNED_SERVER]
        self.process = subprocess.Popen(
            [*command, "-H", "127.0.0.1", "-p", str(self.port)],
            cwd=PROJECT_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                config = json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode()
                request = urllib.request.Request(f"{self.url}/moto-api/config", data=config, method="POST")
                with urllib.request.urlopen(request, timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        """Stop the server process."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class Baseline:
    """The program's order resources on a plain moto server, and one order's calls against them."""

    program: Program
    endpoint_url: str

    def __post_init__(self) -> None:
        """Create the table, topic, state machine, bus, rules and stand-in targets."""
        self.dynamodb = self._client("dynamodb")
        self.events = self._client("events")
        self.sfn = self._client("stepfunctions")
        self.sns = self._client("sns")
        self.sqs = self._client("sqs")
        logs = self._client("logs")
        iam = self._client("iam")

        table = _state(self.program, "aws:dynamodb/table:Table", "orders-table")
        self.table = table["name"]
        self.dynamodb.create_table(
            TableName=self.table,
            AttributeDefinitions=[
                {"AttributeName": a["name"], "AttributeType": a["type"]} for a in table["attributes"]
            ],
            KeySchema=[{"AttributeName": table["hashKey"], "KeyType": "HASH"}],
            BillingMode=table["billingMode"],
        )
        topic = _state(self.program, "aws:sns/topic:Topic", "notifications-topic")
        self.topic_arn = self.sns.create_topic(Name=topic["name"])["TopicArn"]

        machine = _state(self.program, "aws:sfn/stateMachine:StateMachine", "payments-workflow")
        role = iam.create_role(RoleName="payments-workflow-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        self.machine_arn = self.sfn.create_state_machine(
            name=machine["name"], definition=machine["definition"], roleArn=role
        )["stateMachineArn"]

        bus = _state(self.program, "aws:cloudwatch/eventBus:EventBus", "bus-bus")
        self.bus = bus["name"]
        self.events.create_event_bus(Name=self.bus)
        self.queues: dict[str, str] = {}
        for rule in self.program.of_type("aws:cloudwatch/eventRule:EventRule"):
            if rule.state["eventBusName"] != self.bus:
                continue
            (target,) = [
                t
                for t in self.program.of_type("aws:cloudwatch/eventTarget:EventTarget")
                if t.state["rule"] == rule.state["name"]
            ]
            target_arn: str = target.state["arn"]
            if ":log-group:" in target_arn:
                group = target_arn.split(":log-group:", 1)[1]
                logs.create_log_group(logGroupName=group)
                stand_in = target_arn
            else:
                url = self.sqs.create_queue(QueueName=f"stand-in-{rule.name}")["QueueUrl"]
                self.queues[rule.name] = url
                stand_in = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                    "QueueArn"
                ]
            self.events.put_rule(
                Name=rule.state["name"], EventBusName=self.bus, EventPattern=rule.state["eventPattern"]
            )
            self.events.put_targets(
                Rule=rule.state["name"],
                EventBusName=self.bus,
                Targets=[{"Id": target.state["targetId"], "Arn": stand_in}],
            )
        if len(self.queues) + 1 != 4:
            raise RuntimeError(f"expected the program's four rules on {self.bus}, found {sorted(self.queues)} + logs")
        self.update_order_queue = self.queues["order-service-filtering-payments-rule"]
        # EventBridge delivers an event to its targets independently: notifications overlap the rest.
        self.deliveries = ThreadPoolExecutor(max_workers=2, thread_name_prefix="baseline-delivery")

    def _client(self, service: str) -> Any:
        """A boto3 client for the plain server (``Any``: the service is a parameter)."""
        return client(service, self.endpoint_url, self.program.region)

    def _event(self, event_id: str, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
        """The event as EventBridge delivers it to a target."""
        return {
            "version": "0",
            "id": event_id,
            "detail-type": detail_type,
            "source": contract.ORDER_SERVICE,
            "account": self.program.account_id,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "region": self.program.region,
            "resources": [],
            "detail": detail,
        }

    def _notify(self, source: str, detail_type: str, detail: Any) -> None:
        """What the notification function does with one event."""
        notification = messages.notification_for(source, detail_type, detail)
        self.sns.publish(
            TopicArn=self.topic_arn,
            Subject=notification.subject,
            Message=notification.message,
            MessageAttributes=messages.message_attributes(source, detail_type),
        )

    def order(self, order_id: int) -> None:
        """One order's AWS calls, in causal order, until its last notification is published."""
        order = orders.new_order(validation.OrderRequest(id=order_id, amount=Decimal(AMOUNT)), orders.utc_now())
        # create-order
        if not order_store.put_new_order(self.dynamodb, self.table, order):
            raise RuntimeError(f"order {order_id} exists already")
        created_detail = orders.order_created_detail(order)
        response = self.events.put_events(
            Entries=[
                {
                    "EventBusName": self.bus,
                    "Source": contract.ORDER_SERVICE,
                    "DetailType": contract.ORDER_CREATED,
                    "Detail": json.dumps(created_detail),
                }
            ]
        )
        if response.get("FailedEntryCount"):
            raise RuntimeError(f"OrderCreated rejected: {response}")
        # EventBridge -> payment state machine (its input is the whole event)
        created = self._event(response["Entries"][0]["EventId"], contract.ORDER_CREATED, created_detail)
        # EventBridge -> notification (OrderCreated), alongside the payment
        notified = [
            self.deliveries.submit(self._notify, contract.ORDER_SERVICE, contract.ORDER_CREATED, created_detail)
        ]
        self.sfn.start_execution(stateMachineArn=self.machine_arn, name=str(uuid.uuid4()), input=json.dumps(created))
        # EventBridge -> update-order: the execution's PaymentSucceeded, as delivered to the stand-in.
        received = self.sqs.receive_message(
            QueueUrl=self.update_order_queue, WaitTimeSeconds=20, VisibilityTimeout=43200
        ).get("Messages", [])
        if not received:
            raise RuntimeError(f"no payment outcome for order {order_id}")
        payment = json.loads(received[0]["Body"])
        transition = orders.payment_transition(payment["source"], payment["detail-type"], payment["detail"])
        if transition.order_id != order_id:
            raise RuntimeError(f"payment outcome for order {transition.order_id}, expected {order_id}")
        # EventBridge -> notification (PaymentSucceeded), alongside update-order
        notified.append(
            self.deliveries.submit(self._notify, payment["source"], payment["detail-type"], payment["detail"])
        )
        updated = order_store.transition_from_created(
            self.dynamodb, self.table, order_id, transition.target_status, orders.utc_now()
        )
        if updated is None:
            raise RuntimeError(f"order {order_id} did not move to {transition.target_status}")
        order_events.publish_order_event(
            self.events, self.bus, transition.target_status, orders.order_outcome_detail(order_id)
        )
        # EventBridge -> notification (OrderCompleted)
        self._notify(contract.ORDER_SERVICE, transition.target_status, orders.order_outcome_detail(order_id))
        for notification in notified:
            notification.result()

    def close(self) -> None:
        """Stop the delivery threads."""
        self.deliveries.shutdown()


class FinalStatusClock:
    """When each order's final status was written: a listener on the sandbox's table streams."""

    def __init__(self) -> None:
        """No order final yet."""
        self.at: dict[int, float] = {}

    def __call__(self, change: ChangeRecord) -> None:
        """Note the time of a record whose new image has a final status."""
        image = change.record["dynamodb"].get("NewImage") or {}
        if image.get(contract.ORDER_STATUS_ATTRIBUTE, {}).get("S") in contract.FINAL_ORDER_STATUSES:
            self.at.setdefault(int(image["id"]["N"]), time.perf_counter())


def sandbox_order(sandbox: Sandbox, order_id: int, timeout: float = 30.0) -> None:
    """POST one order and wait until its three notifications are recorded and nothing is pending."""
    expected = len(sandbox.outbox) + 3
    if _post(sandbox.api_url, order_id, AMOUNT) != 201:
        raise RuntimeError(f"order {order_id} was not created")
    deadline = time.monotonic() + timeout
    while len(sandbox.outbox) < expected or sandbox.dispatcher.pending or sandbox.mappings.pending:
        if time.monotonic() > deadline:
            raise RuntimeError(f"order {order_id} did not complete in {timeout:.0f}s")
        time.sleep(0.0005)


def console_order(sandbox: Sandbox, order_id: int, observed: bool) -> None:
    """One sandbox order with the console wired in (``observed``) or not (wiring takes microseconds)."""
    console = sandbox.console
    if console is None:
        raise RuntimeError("the bench's sandbox runs with its console")
    (console.wire if observed else console.unwire)()
    try:
        sandbox_order(sandbox, order_id)
    finally:
        console.unwire()


def _timed(run: Callable[[], None]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def _summary(name: str, seconds: list[float]) -> tuple[float, float, float]:
    p50 = statistics.median(seconds)
    p95 = statistics.quantiles(seconds, n=20, method="inclusive")[18]
    per_second = len(seconds) / sum(seconds)
    print(f"{name:<22} p50 {p50 * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   {per_second:6.1f} orders/s")
    return p50, p95, per_second


def _ratio(name: str, sandbox: tuple[float, float, float], baseline: tuple[float, float, float]) -> None:
    print(
        f"{name:<22} p50 {sandbox[0] / baseline[0]:7.2f} x    p95 {sandbox[1] / baseline[1]:7.2f} x    "
        f"{sandbox[2] / baseline[2]:6.2f} x"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the systems, alternating orders, and print their latencies, throughputs and ratios."""
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--orders", type=int, default=DEFAULT_ORDERS, help=f"timed orders per system ({DEFAULT_ORDERS})"
    )
    parser.add_argument("--warmup", type=int, default=DEFAULT_WARMUP, help=f"untimed orders first ({DEFAULT_WARMUP})")
    args = parser.parse_args(argv)
    if args.orders < 2 or args.warmup < 0:
        parser.error("--orders must be at least 2 and --warmup at least 0")

    program = evaluate("dev")
    runs: dict[str, list[float]] = {SANDBOX: [], CONSOLE: [], PLAIN: [], TUNED: []}
    to_final: list[float] = []
    clock = FinalStatusClock()
    servers: dict[str, MotoProcess] = {}
    baselines: dict[str, Baseline] = {}
    try:
        servers[PLAIN] = MotoProcess()
        servers[TUNED] = MotoProcess(tuned=True)
        baselines = {name: Baseline(program, server.url) for name, server in servers.items()}
        with Sandbox(program, aws_port=0, api_port=0, console_port=0, on_trace=lambda line: None) as sandbox:
            sandbox.streams.listeners.append(clock)
            for round_ in range(args.warmup + args.orders):
                order_id = 2 * round_ + 1
                systems: list[tuple[str, Callable[[], None]]] = [
                    (SANDBOX, functools.partial(console_order, sandbox, order_id, False)),
                    (CONSOLE, functools.partial(console_order, sandbox, order_id + 1, True)),
                    *((name, functools.partial(b.order, order_id)) for name, b in baselines.items()),
                ]
                # Each system goes first, second, third and fourth in turn.
                shift = round_ % len(systems)
                for name, run in systems[shift:] + systems[:shift]:
                    started = time.perf_counter()
                    seconds = _timed(run)
                    if round_ >= args.warmup:
                        runs[name].append(seconds)
                        if name == SANDBOX:
                            to_final.append(clock.at[order_id] - started)
    finally:
        for baseline in baselines.values():
            baseline.close()
        for server in servers.values():
            server.stop()

    print(f"{args.orders} orders per system, one at a time, alternating ({args.warmup} untimed first)")
    sandbox_stats = _summary(SANDBOX, runs[SANDBOX])
    p50, p95 = statistics.median(to_final), statistics.quantiles(to_final, n=20, method="inclusive")[18]
    print(f"{'  POST to final status':<22} p50 {p50 * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms")
    console_stats = _summary(CONSOLE, runs[CONSOLE])
    plain_stats = _summary(PLAIN, runs[PLAIN])
    tuned_stats = _summary(TUNED, runs[TUNED])
    print("sandbox / baseline:")
    _ratio(PLAIN, sandbox_stats, plain_stats)
    _ratio(TUNED, sandbox_stats, tuned_stats)
    added = (console_stats[0] - sandbox_stats[0]) * 1000
    verdict = "within" if added <= CONSOLE_BUDGET_MS else "OVER"
    print(f"console on - off:      p50 {added:+7.1f} ms   ({verdict} its {CONSOLE_BUDGET_MS:g} ms budget per order)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
