"""Backward compatibility of the event contracts: the rules of ``breaking_changes`` and the snapshot check."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from event_schemas import load
from event_schemas.compatibility import WRITE_SNAPSHOT_COMMAND, breaking_changes, problems, read_snapshot, snapshot_of

KEY = "order-service@OrderCreated"


def _event(**detail_changes: Any) -> dict[str, Any]:
    """A synthetic event schema; keyword arguments replace keys of its detail."""
    detail: dict[str, Any] = {
        "type": "object",
        "properties": {
            "id": {"type": "integer", "minimum": 1, "maximum": 100},
            "amount": {"type": ["number", "string"], "multipleOf": 0.01},
            "status": {"type": "string", "enum": ["new", "paid"], "maxLength": 10},
        },
        "required": ["id"],
    }
    detail.update(detail_changes)
    return {
        "type": "object",
        "properties": {
            "source": {"enum": ["order-service"]},
            "detail-type": {"enum": ["OrderCreated"]},
            "detail": detail,
        },
        "required": ["source", "detail-type", "detail"],
    }


def _with(path: list[str], value: Any) -> dict[str, Any]:
    """The synthetic schema with one detail property's keyword set (``None`` deletes it)."""
    schema = _event()
    node = schema["properties"]["detail"]["properties"]
    for part in path[:-1]:
        node = node[part]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return schema


def test_an_unchanged_schema_has_no_breaking_change() -> None:
    # GIVEN a schema  WHEN it is compared with itself  THEN nothing breaks
    assert breaking_changes(_event(), _event()) == []


def test_an_additive_optional_field_passes() -> None:
    # GIVEN the schema with one more optional field (and a widened bound and type)
    new = _with(["note"], {"type": "string"})
    new["properties"]["detail"]["properties"]["id"].update({"maximum": 1000, "type": ["integer", "null"]})
    # WHEN it is compared with the old one
    # THEN nothing breaks
    assert breaking_changes(_event(), new) == []


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        (_with(["status"], None), "detail.status: field removed (or renamed)"),
        (_event(required=["id", "amount"]), "detail.amount: field newly required"),
        (_with(["amount", "type"], "number"), "detail.amount: type string removed"),
        (_with(["id", "type"], "string"), "detail.id: type integer removed"),
        (_with(["status", "enum"], ["new"]), 'detail.status: enum value(s) "paid" removed'),
        (_with(["id", "minimum"], 2), "detail.id: minimum tightened from 1 to 2"),
        (_with(["id", "maximum"], 99), "detail.id: maximum tightened from 100 to 99"),
        (_with(["status", "maxLength"], 9), "detail.status: maxLength tightened from 10 to 9"),
        (_with(["status", "minLength"], 1), "detail.status: minLength tightened from None to 1"),
        (_with(["id", "exclusiveMinimum"], True), "detail.id: exclusiveMinimum turned on"),
        (_with(["id", "multipleOf"], 2), "detail.id: multipleOf added"),
        (_with(["amount", "multipleOf"], 0.05), "detail.amount: multipleOf changed"),
        (_with(["status", "pattern"], "^n"), "detail.status: pattern added"),
        (_event(additionalProperties=False), "detail: additionalProperties closed"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_each_kind_of_narrowing_is_a_breaking_change(new: dict[str, Any], expected: str) -> None:
    # GIVEN the schema changed in one way that refuses something it accepted
    # WHEN it is compared with the old one
    # THEN exactly that change is reported, naming the field
    assert breaking_changes(_event(), new) == [expected]


def test_a_renamed_field_is_a_removed_field() -> None:
    # GIVEN status renamed to state
    new = _event()
    props = new["properties"]["detail"]["properties"]
    props["state"] = props.pop("status")
    # WHEN compared  THEN the old name is reported removed
    assert breaking_changes(_event(), new) == ["detail.status: field removed (or renamed)"]


def _snapshot(schema: dict[str, Any], version: int = 1) -> dict[str, dict[str, Any]]:
    return {KEY: {"version": version, "schema": schema}}


def test_a_breaking_change_without_a_version_bump_is_a_problem() -> None:
    # GIVEN a field removed under the same version
    # WHEN the snapshot is checked  THEN the event, version and change are named
    assert problems(_snapshot(_event()), _snapshot(_with(["status"], None))) == [
        f"{KEY} v1: detail.status: field removed (or renamed)"
    ]


def test_a_breaking_change_with_a_bumped_version_passes() -> None:
    # GIVEN the same removal under version 2
    # WHEN the snapshot is checked  THEN it passes
    assert problems(_snapshot(_event()), _snapshot(_with(["status"], None), version=2)) == []


def test_a_removed_event_and_a_lowered_version_are_problems() -> None:
    # GIVEN an event gone, and an event whose version went down
    # WHEN the snapshot is checked  THEN both are reported
    assert problems(_snapshot(_event()), {}) == [f"{KEY}: event removed (consumers still expect it)"]
    assert problems(_snapshot(_event(), version=2), _snapshot(_event())) == [f"{KEY}: version went down from 2 to 1"]


def test_the_current_contracts_keep_every_promise_of_the_snapshot() -> None:
    # GIVEN the last agreed snapshot and the current contracts
    snapshot, current = read_snapshot(), snapshot_of(load())
    # WHEN they are compared
    found = problems(snapshot, current)
    # THEN no breaking change was made under an agreed version, and no event was removed
    assert found == [], (
        "Breaking change(s) to an event contract under the same version:\n  "
        + "\n  ".join(found)
        + "\nConsumers written against that version would break. Either make the change additive "
        '(a new optional field), or raise the event\'s "version" in event_schemas/events/<DetailType>.json '
        f"and record the new contract as agreed with: {WRITE_SNAPSHOT_COMMAND}"
    )


def test_the_snapshot_check_sees_a_change_to_a_referenced_rule() -> None:
    # GIVEN the current contracts with the order id's minimum raised (a rule taken by $ref)
    current = copy.deepcopy(snapshot_of(load()))
    current[KEY]["schema"]["properties"]["detail"]["properties"]["id"]["minimum"] = 2
    # WHEN compared with the snapshot  THEN the narrowing is reported
    assert problems(read_snapshot(), current) == [f"{KEY} v1: detail.id: minimum tightened from 1 to 2"]
