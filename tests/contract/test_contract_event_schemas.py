"""Every event has a contract: one valid draft-04 schema per detail-type, bound to its source.

The schemas agree with the constants of ``handlers/contract.py``; a broken schema file fails with
its name and problem.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import event_schemas
from event_schemas import SchemaFileError, load
from event_schemas.validate import check_draft4, problems
from handlers import contract


def test_every_emitted_event_has_exactly_one_schema_and_every_schema_an_emitted_event() -> None:
    # GIVEN the schemas and the (source, detail-type) pairs the contract module says the system emits
    # WHEN they are compared THEN they are the same set (nothing spelled differently in two places)
    assert set(load()) == set(contract.EMITTED_EVENTS)


@pytest.mark.parametrize("key", sorted(contract.EMITTED_EVENTS))
def test_each_schema_is_valid_draft4_and_self_contained(key: tuple[str, str]) -> None:
    # GIVEN one event's schema as every reader receives it
    schema = load()[key]
    # WHEN it is checked against the draft-04 metaschema THEN it is valid, versioned, with no $ref left
    check_draft4(schema)
    assert schema.version >= 1
    assert "$ref" not in json.dumps(schema.schema)


def test_the_order_fields_are_the_request_schemas_own() -> None:
    # GIVEN the POST /order body schema and OrderCreated's detail
    request = json.loads((event_schemas.PROJECT_DIR / "handlers" / "order_schema.json").read_text())
    detail = load()[(contract.ORDER_SERVICE, contract.ORDER_CREATED)].detail
    # WHEN their fields are compared THEN id and amount follow the very same rules
    assert detail["properties"] == request["properties"]


def _event(source: str, detail_type: str, detail: object) -> dict[str, object]:
    return {"source": source, "detail-type": detail_type, "detail": detail}


def test_a_conforming_event_has_no_problem_and_an_unknown_one_has_no_schema() -> None:
    ok = _event(contract.ORDER_SERVICE, contract.ORDER_CREATED, {"id": 7, "amount": 10.5})
    assert problems(ok) == []
    assert problems(_event(contract.ORDER_SERVICE, "OrderShipped", {"id": 7})) is None


@pytest.mark.parametrize(
    ("detail", "why"),
    [
        ({"id": 7, "total": 10}, "amount"),  # a renamed field
        ({"id": 7, "amount": "10"}, "is not of type"),  # a string amount
        ({"id": 7, "amount": 10.001}, "multiple of"),  # three decimals
        ({"id": 0, "amount": 10}, "minimum"),  # no order 0
        ({"id": 7, "amount": 10, "coupon": "FREE"}, "Additional properties"),  # an undeclared field
    ],
)
def test_a_drifted_producer_is_caught(detail: dict[str, object], why: str) -> None:
    # GIVEN an OrderCreated whose detail drifted WHEN validated THEN the problem is named
    found = problems(_event(contract.ORDER_SERVICE, contract.ORDER_CREATED, detail))
    assert found and any(why in p for p in found), found


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ('{"$schema": "http://json-schema.org/draft-07/schema#", "version": 1}', "JSONSchemaDraft4"),
        ('{"$schema": "http://json-schema.org/draft-04/schema#", "version": 0}', "version must be a positive"),
        (
            '{"$schema": "http://json-schema.org/draft-04/schema#", "version": 1, "title": "Broken",'
            ' "properties": {"source": {"enum": ["s"]}, "detail-type": {"enum": ["Other"]}, "detail": {}}}',
            "must both be 'Broken'",
        ),
        (
            '{"$schema": "http://json-schema.org/draft-04/schema#", "version": 1, "title": "Broken",'
            ' "properties": {"source": {"enum": ["s"]}, "detail-type": {"enum": ["Broken"]},'
            ' "detail": {"$ref": "handlers/order_schema.json#/properties/nothing"}}}',
            "points at nothing",
        ),
    ],
)
def test_a_malformed_schema_file_fails_naming_the_file_and_the_problem(tmp_path: Path, text: str, message: str) -> None:
    # GIVEN a schema file with one defect
    (tmp_path / "Broken.json").write_text(text)
    # WHEN the schemas are loaded THEN the error names the file and says what is wrong
    with pytest.raises(SchemaFileError) as raised:
        event_schemas.load.__wrapped__(tmp_path)
    assert "Broken.json" in str(raised.value) and message in str(raised.value)


def test_a_schema_that_is_not_valid_draft4_fails_naming_the_file(tmp_path: Path) -> None:
    # GIVEN a well-formed event schema whose detail type is not a draft-04 type
    (tmp_path / "Broken.json").write_text(
        '{"$schema": "http://json-schema.org/draft-04/schema#", "version": 1, "title": "Broken",'
        ' "properties": {"source": {"enum": ["s"]}, "detail-type": {"enum": ["Broken"]}, "detail": {"type": 5}}}'
    )
    (schema,) = event_schemas.load.__wrapped__(tmp_path).values()
    # WHEN it is checked against the metaschema THEN the error names the file
    with pytest.raises(SchemaFileError, match=r"Broken\.json: not a valid draft-04 schema"):
        check_draft4(schema)


@pytest.mark.parametrize("path", sorted((event_schemas.PROJECT_DIR / "tests" / "events").glob("eventbridge_*.json")))
def test_every_sample_event_keeps_its_contract(path: Path) -> None:
    # GIVEN a sample EventBridge event the handler tests start from
    # WHEN it is validated THEN it is what its producer may publish (tests never start from a breach)
    assert problems(json.loads(path.read_text())) == []
