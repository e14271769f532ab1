"""The rendered payment state machine, executed by moto's Step Functions interpreter.

The definition is the one the program declares (``evaluate`` under mocks), not a copy. moto runs
its Choice, Pass and ``events:putEvents`` states, and its EventBridge delivers what the machine
puts on the bus to an SQS queue subscribed with ``{"source": ["payment-service"]}``, so these
tests see exactly what ``update-order`` and ``notification`` would receive, and check every
event the machine publishes against its contract (``event_schemas``).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import boto3
import pytest
from moto import mock_aws
from moto.events.models import EventsBackend
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.choice.comparison.comparison_variable import ComparisonVariable

from event_schemas.validate import problems
from handlers import contract
from sandbox.aws import choice_paths
from sandbox.program.evaluation import ACCOUNT_ID, Program, evaluate

REGION = "us-east-1"
#: A region of the same account where the stack's bus does not exist.
OTHER_REGION = "eu-west-1"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/payment-workflow-test"
#: The bus name the original design hard-coded into its definition.
SEED_BUS = "eda-demo"
POLL_SECONDS = 10.0


def order_created(order_id: int, amount: float | None) -> dict[str, Any]:
    """An OrderCreated event as the rule hands it to the state machine (no amount for ``None``)."""
    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": contract.ORDER_CREATED,
        "source": contract.ORDER_SERVICE,
        "account": ACCOUNT_ID,
        "time": "2024-01-01T00:00:00Z",
        "region": REGION,
        "resources": [],
        "detail": {"id": order_id} if amount is None else {"id": order_id, "amount": amount},
    }
    return event


def definition_of(program: Program) -> str:
    """The rendered ASL of the program's one state machine."""
    (machine,) = program.of_type("aws:sfn/stateMachine:StateMachine")
    return machine["definition"]


@dataclass
class Workflow:
    """The state machine in moto, with one capture queue per bus."""

    sfn: Any
    sqs: Any
    events: Any
    state_machine_arn: str
    queues: dict[str, str] = field(default_factory=dict)

    def run(self, order_id: int, amount: float | None) -> dict[str, Any]:
        """Start one execution (unique name) and wait, bounded, for it to finish."""
        execution = self.sfn.start_execution(
            stateMachineArn=self.state_machine_arn,
            name=f"order-{order_id}-{uuid.uuid4()}",
            input=json.dumps(order_created(order_id, amount)),
        )
        deadline = time.monotonic() + POLL_SECONDS
        while True:
            described = self.sfn.describe_execution(executionArn=execution["executionArn"])
            if described["status"] != "RUNNING":
                return described
            assert time.monotonic() < deadline, f"execution for amount {amount} still RUNNING after {POLL_SECONDS}s"
            time.sleep(0.01)

    def history(self, execution: dict[str, Any]) -> list[str]:
        """The types of the events in an execution's history, in order."""
        events = self.sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
        return [event["type"] for event in events]

    def received(self, bus: str) -> list[dict[str, Any]]:
        """Drain every event delivered so far through ``bus``'s capture rule."""
        url = self.queues[bus]
        events: list[dict[str, Any]] = []
        while batch := self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            for message in batch:
                events.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return events


def _capture(events: Any, sqs: Any, bus: str) -> str:
    """Create ``bus`` with a payment-service rule delivering to a new queue; return its URL."""
    events.create_event_bus(Name=bus)
    url = sqs.create_queue(QueueName=f"capture-{bus}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="capture-payment-events",
        EventBusName=bus,
        EventPattern=json.dumps({"source": [contract.PAYMENT_SERVICE]}),
    )
    events.put_targets(Rule="capture-payment-events", EventBusName=bus, Targets=[{"Id": "capture", "Arn": arn}])
    return url


@dataclass
class World:
    """One moto account for the module: this stack's bus and the seed's ``eda-demo`` bus, each captured.

    Every test gets its own state machine in it, and the capture queues drained.
    """

    sfn: Any
    sqs: Any
    events: Any
    queues: dict[str, str]
    machines: int = 0

    def workflow(self, program: Program, region: str = REGION) -> Workflow:
        """A new state machine running ``program``'s definition (in ``region``), with empty capture queues."""
        for bus in self.queues:
            Workflow(self.sfn, self.sqs, self.events, "", self.queues).received(bus)
        self.machines += 1
        sfn = self.sfn if region == REGION else boto3.client("stepfunctions", region_name=region)
        arn = sfn.create_state_machine(
            name=f"payment-workflow-{self.machines}", definition=definition_of(program), roleArn=ROLE_ARN
        )["stateMachineArn"]
        return Workflow(sfn=sfn, sqs=self.sqs, events=self.events, state_machine_arn=arn, queues=self.queues)


@pytest.fixture(scope="module")
def world(dev_program: Program) -> Iterator[World]:
    """The module's moto account, with fake credentials so nothing can reach a real one."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": REGION,
        }.items():
            patch.setenv(key, value)
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        patch.delenv("AWS_PROFILE", raising=False)
        with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
            events = boto3.client("events", region_name=REGION)
            sqs = boto3.client("sqs", region_name=REGION)
            sfn = boto3.client("stepfunctions", region_name=REGION)
            buses = (dev_program.outputs["event_bus_name"], SEED_BUS)
            yield World(sfn=sfn, sqs=sqs, events=events, queues={bus: _capture(events, sqs, bus) for bus in buses})


@pytest.fixture
def workflow(world: World, dev_program: Program) -> Workflow:
    """The dev stack's state machine in moto, with its bus and the seed's ``eda-demo`` bus."""
    return world.workflow(dev_program)


@pytest.fixture(scope="module")
def low_threshold_program() -> Program:
    """The dev stack with ``fraudThreshold: 100``."""
    return evaluate("dev", overrides={"eda-demo:fraudThreshold": "100"})


@pytest.fixture
def retry_sleeps() -> Iterator[list[float]]:
    """Record the Retry intervals moto's interpreter would sleep, without sleeping."""
    slept: list[float] = []
    fake_time = mock.Mock(sleep=slept.append)
    with mock.patch.object(retrier_decl, "time", fake_time):
        yield slept


@pytest.mark.parametrize(
    ("amount", "outcome"),
    [
        (100, contract.PAYMENT_SUCCEEDED),
        (500, contract.PAYMENT_SUCCEEDED),  # the threshold itself succeeds (the executable original)
        (500.01, contract.PAYMENT_FAILED),
        (501, contract.PAYMENT_FAILED),
    ],
)
def test_outcome_is_put_on_this_stacks_bus(
    workflow: Workflow, dev_program: Program, amount: float, outcome: str
) -> None:
    """GIVEN the default threshold WHEN an order of ``amount`` runs THEN exactly one ``outcome`` event lands."""
    bus = dev_program.outputs["event_bus_name"]
    assert bus == "eda-demo-dev"
    assert problems(order_created(101, amount)) == []

    execution = workflow.run(order_id=101, amount=amount)

    assert execution["status"] == "SUCCEEDED", execution
    (event,) = workflow.received(bus)
    assert event["detail-type"] == outcome
    assert event["source"] == contract.PAYMENT_SERVICE
    assert event["detail"] == {"id": 101}
    assert workflow.received(SEED_BUS) == []
    # AND what the machine put on the bus is valid under the outcome's contract
    assert problems(event) == []


def test_each_execution_puts_one_event_for_its_own_order(workflow: Workflow, dev_program: Program) -> None:
    """Several orders in a row: one event each, carrying that order's id."""
    bus = dev_program.outputs["event_bus_name"]
    # the contract's smallest and largest amounts, and both sides of the threshold
    runs = {1: 10, 2: 900, 3: 500, 4: 0.01, 5: 1_000_000_000, 6: 500.01}
    assert [problems(order_created(order_id, amount)) for order_id, amount in runs.items()] == [[]] * len(runs)

    for order_id, amount in runs.items():
        assert workflow.run(order_id, amount)["status"] == "SUCCEEDED"

    published = workflow.received(bus)
    assert [problems(e) for e in published] == [[]] * len(runs)
    received = sorted((e["detail"]["id"], e["detail-type"]) for e in published)
    assert received == [
        (1, contract.PAYMENT_SUCCEEDED),
        (2, contract.PAYMENT_FAILED),
        (3, contract.PAYMENT_SUCCEEDED),
        (4, contract.PAYMENT_SUCCEEDED),
        (5, contract.PAYMENT_FAILED),
        (6, contract.PAYMENT_FAILED),
    ]


def test_capture_is_per_bus(workflow: Workflow, dev_program: Program) -> None:
    """Control: an event put on the seed's ``eda-demo`` bus reaches only that bus's queue.

    So an empty ``eda-demo`` queue in the tests above means the machine did not publish there.
    """
    workflow.events.put_events(
        Entries=[
            {
                "EventBusName": SEED_BUS,
                "Source": contract.PAYMENT_SERVICE,
                "DetailType": contract.PAYMENT_SUCCEEDED,
                "Detail": json.dumps({"id": 7}),
            }
        ]
    )

    assert [e["detail"] for e in workflow.received(SEED_BUS)] == [{"id": 7}]
    assert workflow.received(dev_program.outputs["event_bus_name"]) == []


@pytest.mark.parametrize(
    ("amount", "outcome"),
    [(100, contract.PAYMENT_SUCCEEDED), (100.01, contract.PAYMENT_FAILED), (500, contract.PAYMENT_FAILED)],
)
def test_threshold_comes_from_config(world: World, low_threshold_program: Program, amount: float, outcome: str) -> None:
    """GIVEN ``fraudThreshold: 100`` WHEN an order runs THEN above 100 fails and 100 itself succeeds."""
    bus = low_threshold_program.outputs["event_bus_name"]
    workflow = world.workflow(low_threshold_program)
    assert workflow.run(order_id=202, amount=amount)["status"] == "SUCCEEDED"
    (event,) = workflow.received(bus)
    assert (event["detail-type"], event["detail"]) == (outcome, {"id": 202})
    assert problems(event) == []


def _failing_put_events(failures: int) -> tuple[mock.Mock, Any]:
    """``EventsBackend.put_events`` rejecting the first ``failures`` entries as AWS does (200 + FailedEntryCount)."""
    original = EventsBackend.put_events
    calls = mock.Mock()

    def put_events(self: EventsBackend, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        calls(events)
        if calls.call_count <= failures:
            return [{"ErrorCode": "InternalFailure", "ErrorMessage": "injected"} for _ in events]
        return original(self, events)

    return calls, put_events


def test_rejected_entry_is_retried_with_backoff(
    workflow: Workflow, dev_program: Program, retry_sleeps: list[float]
) -> None:
    """GIVEN PutEvents rejects the entry twice WHEN an order runs THEN it is retried (1 s, 2 s) and lands once."""
    calls, put_events = _failing_put_events(failures=2)
    with mock.patch.object(EventsBackend, "put_events", put_events):
        execution = workflow.run(order_id=303, amount=10)

    assert execution["status"] == "SUCCEEDED", execution
    assert calls.call_count == 3
    assert retry_sleeps == [1, 2]
    (event,) = workflow.received(dev_program.outputs["event_bus_name"])
    assert (event["detail-type"], event["detail"]) == (contract.PAYMENT_SUCCEEDED, {"id": 303})


def test_outcome_never_published_fails_the_execution(
    workflow: Workflow, dev_program: Program, retry_sleeps: list[float]
) -> None:
    """GIVEN PutEvents always rejects WHEN an order runs THEN 1 + 3 attempts, then a named failure (alarmed)."""
    calls, put_events = _failing_put_events(failures=100)
    with mock.patch.object(EventsBackend, "put_events", put_events):
        execution = workflow.run(order_id=404, amount=10)

    assert execution["status"] == "FAILED"
    assert execution["error"] == "PaymentOutcomeNotPublished"
    assert calls.call_count == 4
    assert retry_sleeps == [1, 2, 4]
    assert workflow.received(dev_program.outputs["event_bus_name"]) == []


def test_missing_bus_fails_the_execution_in_moto(world: World, dev_program: Program) -> None:
    """Without this stack's bus the task errors and the Catch turns it into the named failure.

    The machine runs in a region of the account where the bus was never created.
    Caveat (moto, not AWS): moto reports the SDK error as ``States.Runtime`` and lets
    ``States.ALL`` catch it; AWS reports ``EventBridge.<Exception>`` for service errors.
    """
    workflow = world.workflow(dev_program, region=OTHER_REGION)
    execution = workflow.run(order_id=505, amount=10)
    assert execution["status"] == "FAILED"
    assert execution["error"] == "PaymentOutcomeNotPublished"
    # AND the bus exists in the account's other region, so its absence here made the difference
    bus = dev_program.outputs["event_bus_name"]
    assert world.events.describe_event_bus(Name=bus)["Name"] == bus


@pytest.fixture
def aws_choice_paths() -> Iterator[None]:
    """Make the Choice state of moto as strict as AWS about an absent ``Variable`` path."""
    with mock.patch.object(ComparisonVariable, "_eval_body", choice_paths.fail_on_missing_variable):
        yield


def test_order_created_without_amount_fails_the_execution_once(
    workflow: Workflow, dev_program: Program, aws_choice_paths: None, retry_sleeps: list[float]
) -> None:
    """GIVEN an OrderCreated its contract forbids (no amount) WHEN it runs THEN the execution fails once.

    In AWS the Choice state raises ``States.Runtime`` on the absent ``$.detail.amount``; the Choice
    has no Catch, so the execution fails: no payment event is published, and the failed execution
    counts in the ``ExecutionsFailed`` metric that the payment-executions-failed alarm watches.
    Nothing retries it: Retry applies to the putEvents task only, and the rule's target retry
    concerns StartExecution, which succeeded.
    """
    event = order_created(606, None)
    assert problems(event) == ["detail: 'amount' is a required property"]

    execution = workflow.run(order_id=606, amount=None)

    assert execution["status"] == "FAILED"
    assert execution["error"] == "States.Runtime"
    assert "$.detail.amount" in execution["cause"]
    history = workflow.history(execution)
    assert history[-1] == "ExecutionFailed"
    assert "TaskStateEntered" not in history and retry_sleeps == []
    assert workflow.received(dev_program.outputs["event_bus_name"]) == []
    assert len(workflow.sfn.list_executions(stateMachineArn=workflow.state_machine_arn)["executions"]) == 1


def test_moto_alone_takes_the_default_branch_for_an_absent_amount(workflow: Workflow, dev_program: Program) -> None:
    """Control: without the AWS behaviour above, moto would publish PaymentSucceeded for no amount.

    So the test above passes because of ``aws_choice_paths``, and a moto that learns AWS's
    behaviour makes this one fail, telling us the patch can go.
    """
    with mock.patch.object(ComparisonVariable, "_eval_body", choice_paths.MOTO_EVAL_BODY):
        execution = workflow.run(order_id=607, amount=None)

    assert execution["status"] == "SUCCEEDED"
    (event,) = workflow.received(dev_program.outputs["event_bus_name"])
    assert (event["detail-type"], event["detail"]) == (contract.PAYMENT_SUCCEEDED, {"id": 607})
