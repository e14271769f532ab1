"""Who receives what: every emitted event against every rule pattern the program declares.

The patterns are read from the evaluated program (not from ``handlers.contract``), and matched
with EventBridge semantics by the project's matcher (``sandbox.delivery.event_patterns``, the one the
sandbox routes with, derived from the EventBridge docs and aws/event-ruler). Each
rule is identified by what its target is, so a rule wired to the wrong target, a pattern typo
or an event nobody subscribes to shows up as one failing cell of the table.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

from handlers import contract
from sandbox.delivery.event_patterns import PatternError, compile_pattern
from sandbox.program.evaluation import Program

RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
HANDLERS_DIR = Path(__file__).resolve().parents[2] / "handlers"

CATCH_ALL = "catch-all-log"
PAYMENT_WORKFLOW = "payment-workflow"
UPDATE_ORDER = "update-order"
NOTIFICATION = "notification"
CONSUMERS = (CATCH_ALL, PAYMENT_WORKFLOW, UPDATE_ORDER, NOTIFICATION)

#: Who must receive each emitted event (the design's routing table, written out in full).
EXPECTED: dict[str, dict[str, bool]] = {
    "OrderCreated": {CATCH_ALL: True, PAYMENT_WORKFLOW: True, UPDATE_ORDER: False, NOTIFICATION: True},
    "PaymentSucceeded": {CATCH_ALL: True, PAYMENT_WORKFLOW: False, UPDATE_ORDER: True, NOTIFICATION: True},
    "PaymentFailed": {CATCH_ALL: True, PAYMENT_WORKFLOW: False, UPDATE_ORDER: True, NOTIFICATION: True},
    "OrderCompleted": {CATCH_ALL: True, PAYMENT_WORKFLOW: False, UPDATE_ORDER: False, NOTIFICATION: True},
    "OrderCancelled": {CATCH_ALL: True, PAYMENT_WORKFLOW: False, UPDATE_ORDER: False, NOTIFICATION: True},
}

#: Named filters EventBridge accepts in a pattern (it refuses any other name; moto matched all with it).
KNOWN_OPERATORS = frozenset(
    {"exists", "prefix", "suffix", "anything-but", "numeric", "equals-ignore-case", "cidr", "wildcard"}
)
#: Top-level fields of an EventBridge event a pattern may filter on.
ENVELOPE_FIELDS = frozenset(
    {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
)


def _event(source: str, detail_type: str) -> dict[str, Any]:
    """The event as EventBridge delivers it, with the detail the system really sends."""
    detail: dict[str, Any] = {"id": 101, "amount": 100} if detail_type == contract.ORDER_CREATED else {"id": 101}
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": detail_type,
        "source": source,
        "account": "123456789012",
        "time": "2024-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def _matches(pattern: str, event: dict[str, Any]) -> bool:
    return compile_pattern(pattern).matches(event)


def _consumer_of(program: Program, target: Any) -> str:
    """Name the consumer a target delivers to, from the declared resource behind its ARN."""
    resource = program.by_arn(target["arn"])
    if resource.type == "aws:cloudwatch/logGroup:LogGroup":
        return CATCH_ALL
    if resource.type == "aws:sfn/stateMachine:StateMachine":
        return PAYMENT_WORKFLOW
    if resource.type == "aws:lambda/function:Function":
        return {
            "handlers.update_order.handler": UPDATE_ORDER,
            "handlers.notification.handler": NOTIFICATION,
        }[resource["handler"]]
    raise AssertionError(f"unexpected target type {resource.type} ({target['arn']})")


def _on_stack_bus(program: Program, type_: str) -> list[Any]:
    """Rules or targets on the stack's bus (the operations rule on the default bus is not part of the contract)."""
    return [r for r in program.of_type(type_) if r["eventBusName"] == program.outputs["event_bus_name"]]


def declared_patterns(program: Program) -> dict[str, str]:
    """Consumer name -> the raw ``eventPattern`` of the one rule that targets it."""
    rules = {rule["name"]: rule for rule in _on_stack_bus(program, RULE)}
    patterns: dict[str, str] = {}
    for target in _on_stack_bus(program, TARGET):
        consumer = _consumer_of(program, target)
        assert consumer not in patterns, f"two rules target {consumer}"
        patterns[consumer] = rules[target["rule"]]["eventPattern"]
    return patterns


def named_filters(node: Any) -> set[str]:
    """Every named-filter operator (``{"exists": true}`` -> ``exists``) used anywhere in a pattern."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$or":
                for branch in value:
                    found |= named_filters(branch)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, dict):
                        found |= set(item)
                        # anything-but may nest another named filter ({"anything-but": {"prefix": ...}}).
                        for inner in item.values():
                            if isinstance(inner, dict):
                                found |= set(inner)
            else:
                found |= named_filters(value)
    return found


@pytest.fixture(scope="module")
def patterns(dev_program: Program) -> dict[str, str]:
    """The four declared patterns, keyed by consumer."""
    return declared_patterns(dev_program)


def test_every_consumer_has_exactly_one_rule(dev_program: Program, patterns: dict[str, str]) -> None:
    """The table below covers every rule the program declares, and nothing else."""
    assert set(patterns) == set(CONSUMERS)
    assert len(_on_stack_bus(dev_program, RULE)) == len(CONSUMERS)
    assert len(_on_stack_bus(dev_program, TARGET)) == len(CONSUMERS)


def test_expected_matrix_covers_the_whole_contract() -> None:
    """One row per emitted event, one column per consumer: no cell is missing from the table."""
    assert set(EXPECTED) == {detail_type for _, detail_type in contract.EMITTED_EVENTS}
    assert all(set(row) == set(CONSUMERS) for row in EXPECTED.values())


@pytest.mark.parametrize(
    ("source", "detail_type", "consumer"),
    [(source, detail_type, consumer) for source, detail_type in contract.EMITTED_EVENTS for consumer in CONSUMERS],
    ids=[f"{detail_type}->{consumer}" for _, detail_type in contract.EMITTED_EVENTS for consumer in CONSUMERS],
)
def test_routing_cell(patterns: dict[str, str], source: str, detail_type: str, consumer: str) -> None:
    """GIVEN the declared pattern of ``consumer`` WHEN ``detail_type`` is put THEN it matches iff expected."""
    matched = _matches(patterns[consumer], _event(source, detail_type))
    assert matched is EXPECTED[detail_type][consumer]


@pytest.mark.parametrize("consumer", CONSUMERS)
def test_pattern_uses_only_known_operators(patterns: dict[str, str], consumer: str) -> None:
    """Every operator is one EventBridge knows (an independent check of the matcher's refusals)."""
    pattern = json.loads(patterns[consumer])
    assert named_filters(pattern) <= KNOWN_OPERATORS
    assert set(pattern) - {"$or"} <= ENVELOPE_FIELDS


def test_operator_guard_and_matcher_both_refuse_a_typo() -> None:
    """A typo'd operator (moto matched everything with ``exist``) is refused by the matcher and flagged by the guard."""
    typo = {"source": [{"exist": True}]}
    with pytest.raises(PatternError, match="Unrecognized match type exist"):
        _matches(json.dumps(typo), _event("someone-else", "Anything"))
    assert not named_filters(typo) <= KNOWN_OPERATORS
    nested = {"detail": {"amount": [{"anything-but": {"prefx": "x"}}]}}
    assert not named_filters(nested) <= KNOWN_OPERATORS


@pytest.mark.parametrize("consumer", [PAYMENT_WORKFLOW, UPDATE_ORDER, NOTIFICATION])
def test_filtering_rules_ignore_foreign_events(patterns: dict[str, str], consumer: str) -> None:
    """Only the catch-all takes events from other sources (so no rule is vacuously match-all)."""
    assert not _matches(patterns[consumer], _event("aws.s3", contract.ORDER_CREATED))


def test_catch_all_takes_foreign_events(patterns: dict[str, str]) -> None:
    """The catch-all really is one: it logs what other producers put on the bus too."""
    assert _matches(patterns[CATCH_ALL], _event("aws.s3", "Object Created"))


def _definition(program: Program) -> dict[str, Any]:
    (machine,) = program.of_type("aws:sfn/stateMachine:StateMachine")
    return json.loads(machine["definition"])


def test_state_machine_emits_only_contract_payment_events(dev_program: Program) -> None:
    """The Pass states' statuses are the payment-service detail-types of the contract, exactly."""
    states = _definition(dev_program)["States"]
    statuses = {s["Result"]["status"] for s in states.values() if s["Type"] == "Pass"}
    payment_types = {dt for src, dt in contract.EMITTED_EVENTS if src == contract.PAYMENT_SERVICE}
    assert statuses == payment_types == set(contract.PAYMENT_OUTCOME_TO_ORDER_STATUS)
    (publish,) = [s for s in states.values() if s.get("Resource") == "arn:aws:states:::events:putEvents"]
    (entry,) = publish["Parameters"]["Entries"]
    assert entry["Source"] == contract.PAYMENT_SERVICE
    assert entry["DetailType.$"] == "$.payment.status"
    assert entry["EventBusName"] == dev_program.outputs["event_bus_name"]


def test_order_service_emits_created_and_final_statuses_only() -> None:
    """order-service events are OrderCreated plus the final status each payment outcome leads to."""
    order_types = {dt for src, dt in contract.EMITTED_EVENTS if src == contract.ORDER_SERVICE}
    assert order_types == {contract.ORDER_CREATED, *contract.PAYMENT_OUTCOME_TO_ORDER_STATUS.values()}
    assert {src for src, _ in contract.EMITTED_EVENTS} == {contract.ORDER_SERVICE, contract.PAYMENT_SERVICE}


def test_handlers_put_events_only_as_order_service() -> None:
    """Every PutEvents entry built in handlers/ has ``Source: contract.ORDER_SERVICE`` (no stray source)."""
    sources: list[str] = []
    for path in sorted(HANDLERS_DIR.glob("*.py")):
        if path.name == "contract.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "Source":
                        sources.append(f"{path.name}:{ast.unparse(value)}")
    assert sources, "no PutEvents entry found in handlers/: this test no longer checks anything"
    assert all(src.endswith(":contract.ORDER_SERVICE") for src in sources), sources
