"""Test kit for the handler tests: a moto AWS with the system's table, bus, topic and capture queues.

Imported by ``conftest.py`` (fixtures) and by the test modules (helpers); its name is unique so
it cannot clash with the conftest modules of other test folders.

Every AWS call goes to moto (``mock_aws``); sockets are blocked so nothing can leak to a real
endpoint. Entry modules read their environment and build their boto3 clients at import, so each
test imports them fresh inside the mock, with the function's environment set.
"""

from __future__ import annotations

import base64
import importlib
import json
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID as ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from handlers import contract, order_stream

REPO_ROOT = Path(__file__).resolve().parents[2]
EVENTS_DIR = REPO_ROOT / "tests" / "events"
REGION = "eu-west-1"
TABLE_NAME = "orders-test"
BUS_NAME = "eda-demo-test"
METRICS_NAMESPACE = "eda-demo-test"


@pytest.fixture(autouse=True)
def _block_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that tries to reach the network (moto works in-process)."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"network access in a unit test: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(autouse=True)
def _fake_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and a region; no endpoint override that would bypass moto."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in _fake_aws_variables().items():
        monkeypatch.setenv(name, value)


def load_event(name: str) -> dict[str, Any]:
    """Return a copy of the sample event ``tests/events/<name>.json``."""
    return json.loads((EVENTS_DIR / f"{name}.json").read_text())


def post_event(body: str | None, *, base64_encoded: bool = False) -> dict[str, Any]:
    """Return the sample POST /order event (form content type, as curl sends it) with ``body``."""
    event = load_event("api_post_order")
    event["body"] = base64.b64encode(body.encode()).decode() if base64_encoded and body else body
    event["isBase64Encoded"] = base64_encoded
    return event


def get_event(order_id: str | None) -> dict[str, Any]:
    """Return the sample GET /order/{id} event for ``order_id``."""
    event = load_event("api_get_order")
    event["pathParameters"] = None if order_id is None else {"id": order_id}
    event["path"] = f"/order/{order_id}"
    return event


def bus_event(source: str, detail_type: str, detail: Any) -> dict[str, Any]:
    """Return an EventBridge event envelope like the sample files, with these fields."""
    event = load_event("eventbridge_payment_succeeded")
    event.update({"source": source, "detail-type": detail_type, "detail": detail})
    return event


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that Powertools reads."""

    function_name: str = "test-function"
    #: A string, as the Python runtime gives it.
    memory_limit_in_mb: str = "128"
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:test-function"
    aws_request_id: str = "52fdfc07-2182-154f-163f-5f0f9a621d72"

    def get_remaining_time_in_millis(self) -> int:
        """Pretend there is plenty of time left."""
        return 30_000


@pytest.fixture
def lambda_context() -> LambdaContext:
    """A Lambda context as Powertools' ``inject_lambda_context`` expects it."""
    return LambdaContext()


@dataclass
class FakeAws:
    """Handles on the moto resources the handlers use, and helpers to observe them."""

    dynamodb: Any
    sqs: Any
    events_queue_url: str
    notifications_queue_url: str
    topic_arn: str
    env: dict[str, str] = field(default_factory=dict)
    _stream_records_seen: int = 0

    def items(self) -> list[dict[str, Any]]:
        """Every item in the orders table."""
        return list(self.dynamodb.scan(TableName=TABLE_NAME, ConsistentRead=True)["Items"])

    def put_item(self, item: dict[str, Any]) -> None:
        """Store ``item`` directly (test setup)."""
        self.dynamodb.put_item(TableName=TABLE_NAME, Item=item)

    def get_item(self, order_id: int) -> dict[str, Any] | None:
        """Return the stored item of ``order_id``."""
        response = self.dynamodb.get_item(TableName=TABLE_NAME, Key={"id": {"N": str(order_id)}})
        return response.get("Item")

    def _drain(self, queue_url: str) -> list[dict[str, Any]]:
        bodies: list[dict[str, Any]] = []
        while True:
            response = self.sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=0
            )
            messages = response.get("Messages", [])
            if not messages:
                return bodies
            for message in messages:
                bodies.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    def reset(self) -> None:
        """Empty the table and the capture queues: every test starts from the same world."""
        for item in self.items():
            self.dynamodb.delete_item(TableName=TABLE_NAME, Key={"id": item["id"]})
        self.published_events()
        self.notifications()
        self.stream_records()

    def stream_records(self) -> list[dict[str, Any]]:
        """The records the table's stream got since the last call (every write that changed an item)."""
        # moto's DynamoDB Streams API is not routed under mock_aws (it answers 404), so the records
        # are read from its table model: the same records its GetRecords would return.
        table = dynamodb_backends[ACCOUNT_ID][REGION].get_table(TABLE_NAME)
        records = [record.to_json() for record in table.stream_shard.items]
        fresh, self._stream_records_seen = records[self._stream_records_seen :], len(records)
        return fresh

    def outbox_events(self) -> list[tuple[str, dict[str, Any]]]:
        """The events the outbox publishes for the stream's new records: ``(detail-type, detail)``."""
        events = [order_stream.order_event(record) for record in self.stream_records()]
        return [(event.detail_type, event.detail) for event in events if event is not None]

    def published_events(self) -> list[dict[str, Any]]:
        """Drain and return the events order-service actually put on the bus."""
        return self._drain(self.events_queue_url)

    def notifications(self) -> list[dict[str, Any]]:
        """Drain and return the SNS notifications (SNS-to-SQS envelopes) sent to the topic."""
        return self._drain(self.notifications_queue_url)


def _create_world() -> FakeAws:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName=TABLE_NAME,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
        # As the program declares it: the stream is the outbox the order events come from.
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    sqs = boto3.client("sqs", region_name=REGION)
    events_queue_url = sqs.create_queue(QueueName="published-order-events")["QueueUrl"]
    events_queue_arn = sqs.get_queue_attributes(QueueUrl=events_queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events = boto3.client("events", region_name=REGION)
    events.create_event_bus(Name=BUS_NAME)
    # Capture what order-service really put on the custom bus (moto delivers to SQS targets).
    events.put_rule(
        Name="capture-order-service",
        EventBusName=BUS_NAME,
        EventPattern=json.dumps({"source": [contract.ORDER_SERVICE]}),
    )
    events.put_targets(
        Rule="capture-order-service",
        EventBusName=BUS_NAME,
        Targets=[{"Id": "capture", "Arn": events_queue_arn}],
    )
    sns = boto3.client("sns", region_name=REGION)
    topic_arn = sns.create_topic(Name="order-notifications")["TopicArn"]
    notifications_queue_url = sqs.create_queue(QueueName="notifications")["QueueUrl"]
    notifications_queue_arn = sqs.get_queue_attributes(QueueUrl=notifications_queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=notifications_queue_arn)
    return FakeAws(
        dynamodb=dynamodb,
        sqs=sqs,
        events_queue_url=events_queue_url,
        notifications_queue_url=notifications_queue_url,
        topic_arn=topic_arn,
        env={
            contract.ENV_ORDERS_TABLE: TABLE_NAME,
            contract.ENV_EVENT_BUS: BUS_NAME,
            contract.ENV_NOTIFICATION_TOPIC: topic_arn,
            contract.ENV_POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        },
    )


def _fake_aws_variables() -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        contract.ENV_POWERTOOLS_SERVICE_NAME: "orders",
    }


@pytest.fixture(scope="module")
def _moto_world() -> Iterator[FakeAws]:
    """One moto AWS per test module: building it costs more than most tests that use it."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
            patch.delenv(name, raising=False)
        for name, value in _fake_aws_variables().items():
            patch.setenv(name, value)
        with mock_aws():
            yield _create_world()


@pytest.fixture
def aws(_fake_aws_env: None, _moto_world: FakeAws) -> FakeAws:
    """The module's moto AWS (orders table, custom bus + capture queue, topic), emptied for this test."""
    _moto_world.reset()
    return _moto_world


@pytest.fixture
def load_handler(aws: FakeAws, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], ModuleType]:
    """Import ``handlers.<name>`` fresh, inside the mock, with the function environment set."""

    def load(name: str) -> ModuleType:
        for key, value in aws.env.items():
            monkeypatch.setenv(key, value)
        module_name = f"handlers.{name}"
        if module_name in sys.modules:
            return importlib.reload(sys.modules[module_name])
        return importlib.import_module(module_name)

    return load


def emitted_metrics(stdout: str) -> list[str]:
    """Return the names of the CloudWatch EMF metrics printed to ``stdout`` (one per value)."""
    names: list[str] = []
    for line in stdout.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "_aws" in record:
            for directive in record["_aws"]["CloudWatchMetrics"]:
                assert directive["Namespace"] == METRICS_NAMESPACE
                names.extend(metric["Name"] for metric in directive["Metrics"])
    return names


def response_json(response: dict[str, Any]) -> Any:
    """Parse a proxy response body, checking it is declared as JSON."""
    assert response["headers"]["Content-Type"] == "application/json"
    return json.loads(response["body"])
