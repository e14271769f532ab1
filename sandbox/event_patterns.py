"""EventBridge's checks on event patterns and test events, as pure functions.

moto matches patterns but accepts almost any pattern, and treats an operator it does not know
(``{"exist": true}``) as match-all. EventBridge refuses such a pattern with
``InvalidEventPatternException``; the sandbox does the same on ``PutRule`` and
``TestEventPattern`` (the messages follow EventBridge's, e.g. "Unrecognized match type exist"),
so a typo fails offline as it fails on AWS instead of silently matching every event.
Reference: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from moto.events.models import EventPattern

#: Comparison filters EventBridge accepts (``{"prefix": "a"}``); any other name is refused.
MATCH_TYPES = frozenset(
    {"exists", "prefix", "suffix", "anything-but", "numeric", "equals-ignore-case", "cidr", "wildcard"}
)
NUMERIC_OPERATORS = frozenset({"<", "<=", "=", ">=", ">"})
#: Fields a ``TestEventPattern`` event must have (the API reference also lists ``resources``, which
#: EventBridge does not enforce).
TEST_EVENT_FIELDS = ("id", "account", "source", "time", "region", "detail-type")


class PatternError(ValueError):
    """The pattern is not one EventBridge accepts; the message is EventBridge's reason."""


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_string_match(name: str, argument: Any) -> None:
    if isinstance(argument, dict) and name in ("prefix", "suffix") and set(argument) == {"equals-ignore-case"}:
        argument = argument["equals-ignore-case"]
    if not isinstance(argument, str):
        raise PatternError(f"{name} match pattern must be a string")


def _check_numeric(argument: Any) -> None:
    if not isinstance(argument, list) or len(argument) not in (2, 4):
        raise PatternError("Value of numeric must be an array of one or two comparisons")
    operators = argument[0::2]
    for operator, value in zip(operators, argument[1::2], strict=True):
        if operator not in NUMERIC_OPERATORS:
            raise PatternError(f"Unrecognized numeric range operator: {operator}")
        if not _is_number(value):
            raise PatternError(f"Value of {operator} must be numeric")
    if len(argument) == 4:
        lower, upper = operators
        if lower not in (">", ">=") or upper not in ("<", "<="):
            raise PatternError("Bad numeric range: a lower bound (> or >=) must come before an upper bound")
        if argument[1] >= argument[3]:
            raise PatternError("Bad numeric range: the bottom must be less than the top")


def _check_anything_but(argument: Any) -> None:
    if isinstance(argument, dict):
        if len(argument) != 1:
            raise PatternError("Value of anything-but must be an array or single string/number value.")
        ((name, inner),) = argument.items()
        if name not in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
            raise PatternError(f"Unsupported anything-but pattern: {name}")
        values = inner if isinstance(inner, list) and name in ("equals-ignore-case", "wildcard") else [inner]
        if not values or not all(isinstance(v, str) for v in values):
            raise PatternError(f"Inside anything-but/{name}, value must be a string")
        return
    values = argument if isinstance(argument, list) else [argument]
    if not values:
        raise PatternError("Empty arrays are not allowed")
    if not all(isinstance(v, str) or _is_number(v) for v in values):
        raise PatternError("Inside anything-but list, only strings and numbers are allowed")


def _check_match(match: dict[str, Any]) -> None:
    if len(match) != 1:
        raise PatternError("Only one key allowed in match expression")
    ((name, argument),) = match.items()
    if name not in MATCH_TYPES:
        raise PatternError(f"Unrecognized match type {name}")
    if name == "exists":
        if not isinstance(argument, bool):
            raise PatternError("exists match pattern must be either true or false.")
    elif name in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
        _check_string_match(name, argument)
    elif name == "numeric":
        _check_numeric(argument)
    elif name == "anything-but":
        _check_anything_but(argument)
    elif name == "cidr":
        try:
            ipaddress.ip_network(argument, strict=False)
        except (TypeError, ValueError):
            raise PatternError(f"Nonstandard IP address: {argument}") from None


def check_pattern(pattern: Any) -> None:
    """Raise :class:`PatternError` unless EventBridge would accept ``pattern`` (parsed JSON)."""
    if not isinstance(pattern, dict):
        raise PatternError("Filter is not an object")
    if not pattern:
        raise PatternError("Empty objects are not allowed")
    for key, value in pattern.items():
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise PatternError("$or must be an array of at least two objects")
            for branch in value:
                check_pattern(branch)
        elif isinstance(value, dict):
            check_pattern(value)
        elif isinstance(value, list):
            if not value:
                raise PatternError("Empty arrays are not allowed")
            for item in value:
                if isinstance(item, dict):
                    _check_match(item)
                elif isinstance(item, list):
                    raise PatternError("Match value must be String, number, true, false, or null")
        else:
            raise PatternError(f'"{key}" must be an object or an array')


def parse_pattern(text: str | None) -> dict[str, Any]:
    """Parse and check a pattern as ``PutRule`` and ``TestEventPattern`` do."""
    try:
        pattern = json.loads(text or "")
    except ValueError:
        raise PatternError("Invalid JSON") from None
    check_pattern(pattern)
    return dict(pattern)


def parse_test_event(text: str | None) -> dict[str, Any] | None:
    """The event of a ``TestEventPattern`` call, or None when EventBridge would call it not valid."""
    try:
        event = json.loads(text or "")
    except ValueError:
        return None
    if not isinstance(event, dict) or any(field not in event for field in TEST_EVENT_FIELDS):
        return None
    stamp = event["time"]
    if not isinstance(stamp, str):
        return None
    try:
        datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return event


def matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Whether ``event`` matches ``pattern`` with EventBridge's semantics (content filtering).

    Also how Lambda's event filtering and Pipes match a stream record: the same pattern language
    on the record's JSON (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html).
    This is moto's matcher (``EventPattern``), the one that routes every event in the sandbox.
    """
    check_pattern(dict(pattern))
    return EventPattern.load(json.dumps(pattern)).matches_event(dict(event))  # pyrefly: ignore[bad-argument-type]
