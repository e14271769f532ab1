"""The pure core without AWS: schema interpreter, order rendering and decisions, notification texts."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from handler_testkit import EVENTS_DIR

from handlers import contract, messages, orders, validation


def test_interpreter_refuses_a_schema_keyword_it_does_not_know(tmp_path: Path) -> None:
    # GIVEN the schema grew a keyword the interpreter cannot enforce
    schema = json.loads(validation.SCHEMA_PATH.read_text())
    schema["properties"]["amount"]["maxLength"] = 3
    path = tmp_path / "order_schema.json"
    path.write_text(json.dumps(schema))
    # WHEN it is loaded THEN loading fails loudly, naming the keyword
    with pytest.raises(ValueError, match="maxLength"):
        validation._load_schema(path)


def test_interpreter_refuses_a_type_it_does_not_know(tmp_path: Path) -> None:
    # GIVEN a property of a type the interpreter has no check for
    schema = json.loads(validation.SCHEMA_PATH.read_text())
    schema["properties"]["id"]["type"] = "string"
    path = tmp_path / "order_schema.json"
    path.write_text(json.dumps(schema))
    # WHEN it is loaded THEN loading fails loudly
    with pytest.raises(ValueError, match="string"):
        validation._load_schema(path)


def test_valid_request_is_typed() -> None:
    # GIVEN a valid body WHEN it is parsed THEN id is an int and amount an exact Decimal
    request = validation.parse_order_request('{"id": 101, "amount": 0.10}', False)
    assert request == validation.OrderRequest(id=101, amount=Decimal("0.10"))
    assert isinstance(request.id, int)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("100"), 100),
        (Decimal("100.00"), 100),
        (Decimal("100.50"), 100.5),
        (Decimal("999999999.99"), 999999999.99),
    ],
)
def test_amount_renders_as_the_shortest_json_number(amount: Decimal, expected: Any) -> None:
    # GIVEN an amount WHEN rendered THEN the JSON text is the plain number
    rendered = orders.amount_to_json(amount)
    assert json.dumps(rendered) == json.dumps(expected)
    assert Decimal(json.dumps(rendered)) == amount


def test_stored_amount_text_is_canonical() -> None:
    # GIVEN spellings of the same amount WHEN stored THEN one canonical text, like DynamoDB's
    assert [orders.decimal_text(Decimal(t)) for t in ["100.50", "1E+2", "0.10", "1e-2"]] == [
        "100.5",
        "100",
        "0.1",
        "0.01",
    ]


def test_existing_order_classification() -> None:
    # GIVEN a stored OrderCreated order of amount 100
    stored = orders.new_order(validation.OrderRequest(101, Decimal(100)), "t")
    # THEN the same amount is a retry (whatever the status); another amount a conflict
    assert orders.classify_existing(stored, validation.OrderRequest(101, Decimal("100.0"))) is orders.RetryOutcome.RETRY
    assert orders.classify_existing(stored, validation.OrderRequest(101, Decimal(1))) is orders.RetryOutcome.CONFLICT
    done = replace(stored, status=contract.ORDER_COMPLETED, updated_at="t2")
    assert orders.classify_existing(done, validation.OrderRequest(101, Decimal(100))) is orders.RetryOutcome.RETRY


def test_rejected_transition_classification() -> None:
    stored = orders.new_order(validation.OrderRequest(1, Decimal(1)), "t")
    completed = replace(stored, status=contract.ORDER_COMPLETED, updated_at="t2")
    assert orders.classify_rejected_transition(None, contract.ORDER_COMPLETED) is orders.TransitionOutcome.UNKNOWN_ORDER
    assert (
        orders.classify_rejected_transition(completed, contract.ORDER_COMPLETED) is orders.TransitionOutcome.REDELIVERY
    )
    assert orders.classify_rejected_transition(completed, contract.ORDER_CANCELLED) is orders.TransitionOutcome.CONFLICT


def test_payment_transition_follows_the_contract_mapping() -> None:
    for outcome, status in contract.PAYMENT_OUTCOME_TO_ORDER_STATUS.items():
        transition = orders.payment_transition(contract.PAYMENT_SERVICE, outcome, {"id": 5})
        assert transition == orders.PaymentTransition(order_id=5, target_status=status)


@pytest.mark.parametrize(
    "text",
    ["x" * 500, "line one\nline two", "caf\u00e9 \u2603 order", "\t\r\n", ""],
)
def test_subjects_are_always_valid_for_sns(text: str) -> None:
    # GIVEN any text WHEN made a subject THEN printable ASCII, one line, 1..99 characters
    subject = messages.safe_subject(text)
    assert subject.isascii() and subject.isprintable() and 0 < len(subject) < 100


def test_amount_in_message_has_two_decimals() -> None:
    note = messages.notification_for(contract.ORDER_SERVICE, contract.ORDER_CREATED, {"id": 7, "amount": 12.5})
    assert note.message == "Order 7 created: amount 12.50"


def test_message_attributes_never_empty() -> None:
    # SNS refuses empty attribute values, so missing fields are spelled out
    assert messages.message_attributes(None, "") == {
        "source": {"DataType": "String", "StringValue": "unknown"},
        "detail-type": {"DataType": "String", "StringValue": "unknown"},
    }


def test_sample_events_use_the_contract_spelling() -> None:
    # GIVEN the sample EventBridge events WHEN read THEN each (source, detail-type) is in the contract,
    # so a renamed event in contract.py cannot leave stale samples behind
    pairs = set()
    for path in sorted(EVENTS_DIR.glob("eventbridge_*.json")):
        event = json.loads(path.read_text())
        pairs.add((event["source"], event["detail-type"]))
    assert pairs == set(contract.EMITTED_EVENTS)
