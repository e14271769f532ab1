"""EventBridge's pattern and test-event checks, as pure functions (no endpoint needed)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.events.models import EventPattern

from sandbox.aws.emulation import _matches_event
from sandbox.delivery.event_patterns import PatternError, check_pattern, parse_pattern, parse_test_event
from sandbox.program.evaluation import Program

#: Patterns of the EventBridge user guide's "Content filtering" examples, which EventBridge accepts.
ACCEPTED: list[dict[str, Any]] = [
    {"source": ["order-service"], "detail-type": ["OrderCreated"]},
    {"source": [{"exists": True}]},
    {"detail": {"state": [{"exists": False}]}},
    {"time": [{"prefix": "2017-10-02"}]},
    {"source": [{"prefix": {"equals-ignore-case": "EventBridge"}}]},
    {"detail": {"file": [{"suffix": ".png"}]}},
    {"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}},
    {"detail": {"state": [{"anything-but": {"prefix": "init"}}]}},
    {"detail": {"x": [{"numeric": [">", 0, "<=", 5]}], "y": [{"numeric": ["<", 10]}]}},
    {"detail": {"z": [{"numeric": ["=", 3.0e2]}]}},
    {"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}},
    {"detail": {"state": [{"equals-ignore-case": "name"}]}},
    {"detail": {"eventSourceArn": [{"wildcard": "arn:aws:s3:::bucket/*.png"}]}},
    {"detail": {"$or": [{"c-count": [{"numeric": [">", 0, "<=", 5]}]}, {"d-count": [{"numeric": ["<", 10]}]}]}},
    {"detail": {"flag": [True, None, 5, "text"]}},
]

#: Patterns EventBridge refuses, with (part of) its reason.
REFUSED: list[tuple[Any, str]] = [
    ({"source": [{"exist": True}]}, "Unrecognized match type exist"),
    ({"detail": {"amount": [{"anything-but": {"prefx": "x"}}]}}, "Unsupported anything-but pattern: prefx"),
    ({"source": []}, "Empty arrays are not allowed"),
    ({"source": "order-service"}, '"source" must be an object or an array'),
    ({"detail": {}}, "Empty objects are not allowed"),
    ({"source": [{"exists": "yes"}]}, "exists match pattern must be either true or false."),
    ({"source": [{"prefix": 1}]}, "prefix match pattern must be a string"),
    ({"source": [{"prefix": "a", "suffix": "b"}]}, "Only one key allowed in match expression"),
    ({"detail": {"n": [{"numeric": [">", "1"]}]}}, "Value of > must be numeric"),
    ({"detail": {"n": [{"numeric": ["~", 1]}]}}, "Unrecognized numeric range operator: ~"),
    ({"detail": {"n": [{"numeric": ["<", 5, ">", 1]}]}}, "Too many elements in numeric expression"),
    ({"detail": {"n": [{"numeric": [">", 5, "<", 1]}]}}, "Bottom must be less than top"),
    ({"detail": {"ip": [{"cidr": "not-a-network/8"}]}}, "Nonstandard IP address: not-a-network"),
    # a one-branch $or is read again with "$or" as a field name, whose values then are no match types
    ({"$or": [{"source": ["a"]}]}, "Unrecognized match type source"),
    ({"source": [["nested"]]}, "Match value must be String, number, true, false, or null"),
    (["source"], "Filter is not an object"),
]


@pytest.mark.parametrize("pattern", ACCEPTED, ids=[json.dumps(p)[:60] for p in ACCEPTED])
def test_a_pattern_eventbridge_accepts_passes(pattern: dict[str, Any]) -> None:
    # GIVEN a documented pattern WHEN checked THEN nothing is raised, and it parses back as given
    check_pattern(pattern)
    assert parse_pattern(json.dumps(pattern)) == pattern


def test_the_programs_patterns_pass(dev_program: Program) -> None:
    # GIVEN the rules the program declares WHEN their patterns are checked THEN all pass
    patterns = [rule["eventPattern"] for rule in dev_program.of_type("aws:cloudwatch/eventRule:EventRule")]
    # (the four of the original design on the stack's bus, and the alarm-recovery rule on the default bus)
    assert len(patterns) == 5
    for pattern in patterns:
        assert parse_pattern(pattern) == json.loads(pattern)


@pytest.mark.parametrize(("pattern", "reason"), REFUSED, ids=[reason for _, reason in REFUSED])
def test_a_pattern_eventbridge_refuses_is_refused_with_its_reason(pattern: Any, reason: str) -> None:
    # GIVEN a pattern EventBridge refuses WHEN checked THEN PatternError says why
    with pytest.raises(PatternError) as refused:
        check_pattern(pattern)
    assert reason in str(refused.value)


def test_a_pattern_that_is_not_json_is_refused() -> None:
    # GIVEN text that is not JSON WHEN parsed THEN "Invalid JSON"
    with pytest.raises(PatternError, match="Invalid JSON"):
        parse_pattern("{source: [")


def _event(**changes: Any) -> str:
    event = {
        "id": "1",
        "account": "123456789012",
        "source": "order-service",
        "time": "2024-01-01T00:00:00Z",
        "region": "us-east-1",
        "detail-type": "OrderCreated",
        "detail": {},
    }
    event.update(changes)
    return json.dumps({k: v for k, v in event.items() if v is not None})


def test_a_test_event_needs_the_envelope_fields_and_a_valid_time() -> None:
    # GIVEN an event with every mandatory field (resources is not enforced) WHEN parsed THEN kept
    assert parse_test_event(_event()) == json.loads(_event())
    # GIVEN one missing a mandatory field, a bad time, or not JSON at all WHEN parsed THEN refused
    for field in ("id", "account", "source", "time", "region", "detail-type"):
        assert parse_test_event(_event(**{field: None})) is None, field
    assert parse_test_event(_event(time="yesterday")) is None
    assert parse_test_event(_event(time=1700000000)) is None
    assert parse_test_event("not json") is None
    assert parse_test_event("[]") is None


def test_routing_matches_the_event_as_targets_receive_it() -> None:
    # GIVEN an event as moto holds it while routing (time in epoch seconds, its own ingestion-time)
    moto_event = {"source": "a", "time": 1506961489.0, "ingestion-time": 1506961489.5, "detail": {}}
    # WHEN a rule's pattern on time is matched THEN against the ISO-8601 time EventBridge delivers
    assert _matches_event(EventPattern.load('{"time": [{"prefix": "2017-10-02T16:24"}]}'), moto_event)
    # WHEN a pattern asks ingestion-time to be absent THEN moto's bookkeeping field is not seen
    assert _matches_event(EventPattern.load('{"ingestion-time": [{"exists": false}]}'), moto_event)
    # WHEN a rule has no pattern (a schedule) THEN it receives no event, where moto's matcher matched all
    assert not _matches_event(EventPattern.load(None), moto_event)
