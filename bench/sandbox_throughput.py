"""How much the sandbox adds on top of the AWS calls an order needs (run by hand: ``make bench``).

Baseline, measured in the same run on the same endpoint: the raw calls one order makes, issued
directly with boto3 (PutItem, PutEvents x3 on a bus without rules, a state-machine execution of a
one-state workflow, UpdateItem, Publish x3). Then the sandbox: orders through the API, one at a
time to completion (latency) and 100 at once (throughput). Printed as ratios to the baseline,
since absolute times on a shared machine mean little.
"""

from __future__ import annotations

import json
import statistics
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

from handlers import contract
from sandbox.program import evaluate
from sandbox.runtime import Sandbox

ROUNDS = 20
CONCURRENT = 100


def _post(api_url: str, order_id: int, amount: float) -> int:
    body = json.dumps({"id": order_id, "amount": amount}).encode()
    request = urllib.request.Request(f"{api_url}/order", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(response.status)


def baseline_order_seconds(sandbox: Sandbox) -> float:
    """Median time of one order's raw AWS calls against the same endpoint."""
    dynamodb, events = sandbox.client("dynamodb"), sandbox.client("events")
    sfn, sns = sandbox.client("stepfunctions"), sandbox.client("sns")
    table = "bench-orders"
    dynamodb.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    events.create_event_bus(Name="bench-bus")
    topic = sns.create_topic(Name="bench-topic")["TopicArn"]
    machine = sfn.create_state_machine(
        name="bench-machine",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/bench",
    )["stateMachineArn"]
    timings = []
    for order_id in range(ROUNDS):
        started = time.perf_counter()
        dynamodb.put_item(TableName=table, Item={"id": {"N": str(order_id)}, "status": {"S": contract.ORDER_CREATED}})
        for detail_type in (contract.ORDER_CREATED, contract.PAYMENT_SUCCEEDED, contract.ORDER_COMPLETED):
            events.put_events(
                Entries=[{"Source": "bench", "DetailType": detail_type, "Detail": "{}", "EventBusName": "bench-bus"}]
            )
        execution = sfn.start_execution(stateMachineArn=machine, name=str(uuid.uuid4()), input="{}")
        while sfn.describe_execution(executionArn=execution["executionArn"])["status"] == "RUNNING":
            time.sleep(0.001)
        dynamodb.update_item(
            TableName=table,
            Key={"id": {"N": str(order_id)}},
            UpdateExpression="SET #s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": contract.ORDER_COMPLETED}},
        )
        for _ in range(3):
            sns.publish(TopicArn=topic, Message="bench")
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def sandbox_order_seconds(sandbox: Sandbox) -> float:
    """Median time from POST /order to the whole choreography being done, one order at a time."""
    timings = []
    for order_id in range(1, ROUNDS + 1):
        started = time.perf_counter()
        assert _post(sandbox.api_url, order_id, 100) == 201
        assert sandbox.wait_idle(30)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def sandbox_concurrent_seconds(sandbox: Sandbox) -> float:
    """Wall time for CONCURRENT orders posted at once, per order."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda i: _post(sandbox.api_url, 10_000 + i, 100), range(CONCURRENT)))
    assert statuses == [201] * CONCURRENT
    assert sandbox.wait_idle(300)
    return (time.perf_counter() - started) / CONCURRENT


def main() -> None:
    """Measure and print the ratios."""
    with Sandbox(evaluate("dev"), aws_port=0, api_port=0, on_trace=lambda line: None) as sandbox:
        baseline = baseline_order_seconds(sandbox)
        single = sandbox_order_seconds(sandbox)
        concurrent = sandbox_concurrent_seconds(sandbox)
    print(f"baseline: raw AWS calls of one order          {baseline * 1000:8.1f} ms")
    print(f"sandbox: one order, end to end (median)        {single * 1000:8.1f} ms  ratio {single / baseline:5.2f}")
    print(
        f"sandbox: {CONCURRENT} concurrent orders, per order     {concurrent * 1000:8.1f} ms  "
        f"ratio {concurrent / baseline:5.2f}"
    )
    # wait_idle polls; a latency ratio near 1 means the sandbox itself adds little.


if __name__ == "__main__":
    main()
