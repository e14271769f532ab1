"""EventBridge's event patterns, as pure functions: which patterns it accepts, and what they match.

This is the project's one matcher: routing on the sandbox's bus, ``TestEventPattern``, the
``PutRule`` check, the event catalog and the routing-matrix tests all call :func:`matches` and
:func:`check_pattern`. It imports no moto: moto's own matcher differs from AWS's on arrays of
objects, empty values, JSON types and several refusals, and treats an operator it does not know
(``{"exist": true}``) as match-all.

Semantics, from the EventBridge user guide ("Creating event patterns", "Comparison operators",
"Matching on multiple field values", "Content filtering") and from aws/event-ruler, the matcher
AWS publishes (its README and its tests; the facts, not its code):

- A pattern matches when every field it names matches (AND); a field matches when any of its
  listed values matches (OR); ``$or`` takes two or more alternative objects.
- Arrays are searched at any depth: a leaf matches when any element matches; an object pattern
  over an array of objects matches when one element matches the whole object (event-ruler
  README, "JSON Array Matching": fields from different elements of one array never combine),
  and arrays inside arrays are flattened.
- Only leaf values are values: ``exists`` is true of a string, number, boolean or null, not of
  an object or of an empty ``[]`` / ``{}`` (README "Exists matching"; the user guide's "Exists
  matching only works on leaf nodes").
- JSON types: a string matches only strings, a number only numbers, ``true`` only ``true``;
  ``prefix``, ``suffix``, ``equals-ignore-case``, ``wildcard`` and ``cidr`` only strings,
  ``numeric`` only numbers (never a boolean); ``anything-but`` matches any value of another type.
- An exact number matches a number of the same JSON form: ``[300]`` matches ``300`` but not
  ``300.0`` (the user guide's "Considerations when creating event patterns": "300, 300.0, and
  3.0e2 are not considered equal"), so an integer literal never matches a decimal one and the
  other way round; ``{"numeric": ["=", 300]}`` compares values and matches both. aws/event-ruler
  (the engine AWS publishes) also compiles a number literal to numeric equality
  (``JsonRuleCompiler.writeRules``, ``RuleCompilerTest.testFlattenRule``), which would match
  ``300.0``; where the two disagree this module follows the service's own documentation, the
  stricter reading (docs/aws-fidelity.md). Once parsed, ``300.0`` and ``3.0e2`` are the same
  double, so those two still match each other here.
- A pattern string that is an IP address matches the same address written another way
  (event-ruler ``CIDR.ipToRangeIfPossible``, ``MachineTest.testIpExactMatch``).

Refusals raise :class:`PatternError` with the reason EventBridge's ``InvalidEventPatternException``
gives (event-ruler's messages: ``JsonRuleCompiler``, ``CIDR``, ``WildcardParser``,
``ComparableNumber``). Like event-ruler's ``Machine.addRule``, a pattern whose ``$or`` is not a
valid ``$or`` is read again with ``$or`` as an ordinary field name, and refused only if that
reading fails too. Matching is cheap: a pattern is compiled once per JSON text
(:func:`compile_pattern`, cached) into plain sets, bounds and predicates.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

#: Comparison filters EventBridge accepts (``{"prefix": "a"}``); any other name is refused.
MATCH_TYPES = frozenset(
    {"exists", "prefix", "suffix", "anything-but", "numeric", "equals-ignore-case", "cidr", "wildcard"}
)
NUMERIC_OPERATORS = frozenset({"<", "<=", "=", ">=", ">"})
#: What ``anything-but`` may wrap, in a pattern with ``$or`` semantics (event-ruler ``JsonRuleCompiler``).
ANYTHING_BUT_TYPES = frozenset({"prefix", "suffix", "equals-ignore-case", "wildcard"})
#: Names an object inside ``$or`` may not use as a field
#: (event-ruler ``Constants.RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP``).
RESERVED_IN_OR = frozenset(
    {
        *MATCH_TYPES,
        "exactly",
        *NUMERIC_OPERATORS,
        "regex",
        "not-wildcard",
        "not-equals-ignore-case",
        "date-after",
        "date-on-or-after",
        "date-before",
        "date-on-or-before",
        "in-date-range",
        "ip-address-in-range",
        "ip-address-not-in-range",
    }
)
#: Most alternatives the ``$or`` of one pattern may expand to; more is refused (see :func:`or_combinations`).
MAX_OR_COMBINATIONS = 1000
#: Fields a ``TestEventPattern`` event must have (the API reference also lists ``resources``, which
#: EventBridge does not enforce).
TEST_EVENT_FIELDS = ("id", "account", "source", "time", "region", "detail-type")
#: What event-ruler takes for an IP address literal before parsing it (``Constants.IPv4_REGEX`` / ``IPv6_REGEX``).
_IP_LITERAL = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+|[0-9a-fA-F:]*:[0-9a-fA-F:]*")
_MISSING: Any = object()
_NUMBER_TYPES = (int, float)


class PatternError(ValueError):
    """The pattern is not one EventBridge accepts; the message is EventBridge's reason."""


class _Number(float):
    """A float read from a pattern's JSON, keeping its text (to tell whether a double holds it exactly)."""

    text: str

    def __new__(cls, text: str) -> _Number:
        number = super().__new__(cls, text)
        number.text = text
        return number


def _is_number(value: Any) -> bool:
    return isinstance(value, _NUMBER_TYPES) and not isinstance(value, bool)


def _comparable(value: Any) -> bool:
    """Whether a JSON number is one an IEEE-754 double holds exactly (event-ruler ``ComparableNumber.generate``)."""
    if isinstance(value, int):
        try:
            return float(value) == value
        except OverflowError:
            return False
    if not math.isfinite(value):
        return False
    text = getattr(value, "text", None)
    if text is None:
        return True
    try:
        return Decimal(text) == Decimal(repr(float(value)))
    except InvalidOperation:
        return False


def _exact_number(value: Any) -> tuple[bool, Any]:
    """What exact matching compares of a JSON number: whether it is written as an integer, and its value."""
    return (isinstance(value, int), value)


def _number_text(value: Any) -> str:
    return str(getattr(value, "text", value))


def _check_numeric_value(operator: str, value: Any) -> None:
    if not _is_number(value):
        raise PatternError(f"Value of {'equals' if operator == '=' else operator} must be numeric")
    if not _comparable(value):
        raise PatternError(f"Cannot compare number : {_number_text(value)}")


def _check_numeric(argument: Any) -> None:
    """``{"numeric": [...]}``: one comparison, or a lower bound then an upper bound."""
    if not isinstance(argument, list):
        raise PatternError("Value of numeric must be an array.")
    if not argument or not isinstance(argument[0], str):
        raise PatternError(f"Invalid member in numeric match: {argument[0] if argument else ']'}")
    operator = argument[0]
    if operator not in NUMERIC_OPERATORS:
        raise PatternError(f"Unrecognized numeric range operator: {operator}")
    _check_numeric_value(operator, argument[1] if len(argument) > 1 else None)
    if len(argument) == 2:
        return
    if operator not in (">", ">="):
        raise PatternError("Too many elements in numeric expression")
    upper = argument[2]
    if not isinstance(upper, str):
        raise PatternError(f"Bad value in numeric range: {upper}")
    if upper not in ("<", "<="):
        raise PatternError(f"Bad numeric range operator: {upper}")
    _check_numeric_value(upper, argument[3] if len(argument) > 3 else None)
    if len(argument) > 4:
        raise PatternError("Too many terms in numeric range expression")
    if not argument[1] < argument[3]:
        raise PatternError("Bottom must be less than top")


def _wildcard_tokens(text: str) -> list[str | None]:
    """A wildcard's characters (``None`` for ``*``), or PatternError as event-ruler's ``WildcardParser``.

    Positions count UTF-8 bytes of the value as event-ruler sees it, inside its quotes.
    """
    tokens: list[str | None] = []
    position = 1
    index = 0
    while index < len(text):
        char = text[index]
        if char == "*":
            if text[index + 1 : index + 2] == "*":
                raise PatternError(f"Consecutive wildcard characters at pos {position}")
            tokens.append(None)
        elif char == "\\":
            if text[index + 1 : index + 2] not in ("*", "\\"):
                raise PatternError(f"Invalid escape character at pos {position}")
            tokens.append(text[index + 1])
            position += 1
            index += 1
        else:
            tokens.append(char)
        position += len(char.encode())
        index += 1
    return tokens


def _ip_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not _IP_LITERAL.fullmatch(text):
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _cidr_network(argument: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """``{"cidr": ...}``'s network, or PatternError with event-ruler's ``CIDR.cidr`` reasons."""
    if not isinstance(argument, str):
        raise PatternError("prefix match pattern must be a string")  # event-ruler's own wording for cidr
    parts = argument.split("/")
    while parts and not parts[-1]:
        parts.pop()  # Java's String.split drops trailing empty strings
    if len(parts) != 2:
        raise PatternError("Malformed CIDR, one '/' required")
    if not re.fullmatch(r"[+-]?[0-9]+", parts[1]):
        raise PatternError("Malformed CIDR, mask bits must be an integer")
    bits = int(parts[1])
    if bits < 0:
        raise PatternError("Malformed CIDR, mask bits must not be negative")
    address = _ip_address(parts[0])
    if address is None:
        raise PatternError(f"Nonstandard IP address: {parts[0]}")
    if address.version == 4 and bits > 31:
        raise PatternError("IPv4 mask bits must be < 32")
    if address.version == 6 and bits > 127:
        raise PatternError("IPv6 mask bits must be < 128")
    return ipaddress.ip_network(f"{address}/{bits}", strict=False)


def _check_string_match(name: str, argument: Any) -> None:
    """``prefix`` / ``suffix`` (a string, or ``{"equals-ignore-case": s}``), ``equals-ignore-case``, ``wildcard``."""
    if isinstance(argument, dict) and name in ("prefix", "suffix"):
        if not argument:
            raise PatternError(f"{name.capitalize()} expression name not found")
        inner = next(iter(argument))
        if inner != "equals-ignore-case":
            raise PatternError(f"Unsupported {name} pattern: {inner}")
        if not isinstance(argument[inner], str):
            raise PatternError("equals-ignore-case match pattern must be a string")
        if len(argument) > 1:
            raise PatternError("Only one key allowed in match expression")
        return
    if not isinstance(argument, str):
        raise PatternError(f"{name} match pattern must be a string")
    if name == "wildcard":
        _wildcard_tokens(argument)


def _check_anything_but_set(name: str, inner: Any, legacy: bool) -> None:
    """``anything-but`` wrapping ``prefix``, ``suffix``, ``equals-ignore-case`` or ``wildcard``."""
    if not isinstance(inner, (list, str)) and not _is_number(inner):
        raise PatternError("Value of anything-but must be an array or single string/number value.")
    if legacy and name in ("prefix", "suffix") and not isinstance(inner, str):
        raise PatternError("prefix/suffix match pattern must be a string")
    for value in inner if isinstance(inner, list) else [inner]:
        if not isinstance(value, str):
            raise PatternError(
                "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
                if name == "equals-ignore-case"
                else "wildcard match pattern must be a string"
                if name == "wildcard"
                else "prefix/suffix match pattern must be a string"
            )
        if name in ("prefix", "suffix") and not value:
            raise PatternError("Null prefix/suffix not allowed")
        if name == "wildcard":
            _wildcard_tokens(value)


def _check_anything_but(argument: Any, legacy: bool) -> None:
    """``{"anything-but": ...}``: a string, a number, a list of one or the other, or a wrapped match."""
    if isinstance(argument, dict):
        if not argument:
            raise PatternError("Anything-But expression name not found")
        name = next(iter(argument))
        allowed = ANYTHING_BUT_TYPES - {"wildcard"} if legacy else ANYTHING_BUT_TYPES
        if name not in allowed:
            raise PatternError(f"Unsupported anything-but pattern: {name}")
        _check_anything_but_set(name, argument[name], legacy)
        if len(argument) > 1:
            raise PatternError("Too many elements in numeric expression")  # event-ruler's wording
        return
    if not isinstance(argument, (list, str)) and not _is_number(argument):
        raise PatternError("Value of anything-but must be an array or single string/number value.")
    values = argument if isinstance(argument, list) else [argument]
    if any(not isinstance(v, str) and not _is_number(v) for v in values):
        raise PatternError("Inside anything but list, start|null|boolean is not supported.")
    for value in values:
        if _is_number(value) and not _comparable(value):
            raise PatternError(f"Cannot compare number : {_number_text(value)}")
    kinds = {isinstance(v, str) for v in values}
    if len(kinds) != 1:
        raise PatternError(
            "Inside anything but list, either all values are number or string, mixed type is not supported"
        )


def _check_match(match: dict[str, Any], legacy: bool) -> None:
    """One ``{"<match type>": argument}`` object of a field's list."""
    if not match:
        raise PatternError("Match expression name not found")
    name, argument = next(iter(match.items()))
    if name not in MATCH_TYPES:
        raise PatternError(f"Unrecognized match type {name}")
    if name == "exists":
        if not isinstance(argument, bool):
            raise PatternError("exists match pattern must be either true or false.")
    elif name == "numeric":
        _check_numeric(argument)
    elif name == "anything-but":
        _check_anything_but(argument, legacy)
    elif name == "cidr":
        _cidr_network(argument)
    else:
        _check_string_match(name, argument)
    if len(match) > 1:
        # event-ruler reads the first key, then expects the object to close
        raise PatternError(
            "Too many elements in numeric expression"
            if name in ("numeric", "anything-but")
            else "Only one key allowed in match expression"
        )


def _check_values(values: list[Any], legacy: bool) -> None:
    if not values:
        raise PatternError("Empty arrays are not allowed")
    for item in values:
        if isinstance(item, dict):
            _check_match(item, legacy)
        elif isinstance(item, list):
            raise PatternError("Match value must be String, number, true, false, or null")


def _check_object(pattern: dict[str, Any], legacy: bool, inside_or: bool) -> None:
    """A pattern object: each field an object or a list of values, ``$or`` an array of two or more objects."""
    if not pattern:
        raise PatternError("Empty objects are not allowed")
    for key, value in pattern.items():
        if key == "$or" and not legacy:
            if not isinstance(value, list):
                raise PatternError("It must be an Array followed with $or.")
            if not all(isinstance(branch, dict) for branch in value):
                raise PatternError("Only JSON object is allowed in array of $or relationship.")
            for branch in value:
                _check_object(branch, legacy, inside_or=True)
            if len(value) < 2:
                raise PatternError("There must have at least 2 Objects in $or relationship.")
            continue
        if inside_or and key in RESERVED_IN_OR:
            raise PatternError(f"{key} is Ruler reserved fieldName which cannot be used inside $or.")
        if isinstance(value, dict):
            _check_object(value, legacy, inside_or)
        elif isinstance(value, list):
            _check_values(value, legacy)
        else:
            raise PatternError(f'"{key}" must be an object or an array')


def or_combinations(pattern: Mapping[str, Any]) -> int:
    """How many alternatives a pattern's ``$or`` expand to.

    Counted as event-ruler expands them (``JsonRuleCompiler.parseIntoOrRelationship``): each
    ``$or`` replaces every alternative built so far by one copy per branch, so sibling ``$or``
    (in nested objects) multiply and the branches of one ``$or`` add up. A pattern without
    ``$or`` is 1.
    """
    count = 1
    for key, value in pattern.items():
        if key == "$or" and isinstance(value, list):
            count *= sum(or_combinations(branch) for branch in value if isinstance(branch, dict))
        elif isinstance(value, dict):
            count *= or_combinations(value)
    return count


def _mentions_or(pattern: Any) -> bool:
    return isinstance(pattern, dict) and any(k == "$or" or _mentions_or(v) for k, v in pattern.items())


def _reading(pattern: Any) -> bool:
    """Check ``pattern``; True when ``$or`` means OR, False when it is an ordinary field name.

    event-ruler's ``Machine.addRule`` compiles with ``JsonRuleCompiler`` (``$or`` semantics) and,
    when that refuses the pattern, with ``RuleCompiler``, which knows no ``$or``; only when both
    refuse is the pattern refused, with the second one's reason.
    """
    if not isinstance(pattern, dict):
        raise PatternError("Filter is not an object")
    try:
        _check_object(pattern, legacy=False, inside_or=False)
    except PatternError:
        if not _mentions_or(pattern):
            raise
        _check_object(pattern, legacy=True, inside_or=False)
        return False
    combinations = or_combinations(pattern)
    if combinations > MAX_OR_COMBINATIONS:
        raise PatternError(
            f"The event pattern expands to {combinations} $or combinations; at most {MAX_OR_COMBINATIONS} are allowed"
        )
    return True


def check_pattern(pattern: Any) -> None:
    """Raise :class:`PatternError` unless EventBridge would accept ``pattern`` (parsed JSON)."""
    _reading(pattern)


def _loads(text: str | None) -> Any:
    try:
        return json.loads(text or "", parse_float=_Number)
    except ValueError:
        raise PatternError("Invalid JSON") from None


def parse_pattern(text: str | None) -> dict[str, Any]:
    """Parse and check a pattern as ``PutRule`` and ``TestEventPattern`` do."""
    pattern = _loads(text)
    check_pattern(pattern)
    return dict(pattern)


# --- matching -----------------------------------------------------------------------------------
Test = Callable[[Any], bool]


def _leaf_values(value: Any, out: list[Any]) -> list[Any]:
    """The leaf values of an event value: arrays flattened at any depth, objects left out."""
    if type(value) is list:
        for item in value:
            _leaf_values(item, out)
    elif type(value) is not dict:
        out.append(value)
    return out


def _object_candidates(value: Any, out: list[Any]) -> list[Any]:
    """The objects an object pattern is tried against: the object, or every object of an array at any depth."""
    if type(value) is dict:
        out.append(value)
    elif type(value) is list:
        for item in value:
            _object_candidates(item, out)
    return out


def _number_test(lower: Any, lower_open: bool, upper: Any, upper_open: bool) -> Test:
    def test(value: Any) -> bool:
        if type(value) not in _NUMBER_TYPES or not _comparable(value):
            return False
        if lower is not None and (value < lower or (lower_open and value == lower)):
            return False
        return upper is None or not (value > upper or (upper_open and value == upper))

    return test


def _numeric_test(argument: list[Any]) -> Test:
    operator, bound = argument[0], argument[1]
    if operator == "=":
        return _number_test(bound, False, bound, False)
    if operator in ("<", "<="):
        return _number_test(None, False, bound, operator == "<")
    upper = (argument[3], argument[2] == "<") if len(argument) == 4 else (None, False)
    return _number_test(bound, operator == ">", upper[0], upper[1])


def _wildcard_regex(text: str) -> re.Pattern[str]:
    tokens = _wildcard_tokens(text)
    return re.compile("".join(".*" if t is None else re.escape(t) for t in tokens), re.DOTALL)


def _string_test(name: str, argument: Any) -> Test:
    """A test on strings only: prefix, suffix (either one ignoring case), equals-ignore-case, wildcard."""
    if isinstance(argument, dict):  # {"prefix": {"equals-ignore-case": "..."}}, likewise suffix
        folded = argument["equals-ignore-case"].lower()
        if name == "prefix":
            return lambda v: type(v) is str and v.lower().startswith(folded)
        return lambda v: type(v) is str and v.lower().endswith(folded)
    if name == "prefix":
        return lambda v: type(v) is str and v.startswith(argument)
    if name == "suffix":
        return lambda v: type(v) is str and v.endswith(argument)
    if name == "equals-ignore-case":
        folded = argument.lower()
        return lambda v: type(v) is str and v.lower() == folded
    regex = _wildcard_regex(argument)
    return lambda v: type(v) is str and regex.fullmatch(v) is not None


def _cidr_test(argument: str) -> Test:
    network = _cidr_network(argument)

    def test(value: Any) -> bool:
        address = _ip_address(value) if type(value) is str else None
        return address is not None and address.version == network.version and address in network

    return test


def _anything_but_test(argument: Any) -> Test:
    """Matches any value but those named: values of another type always match."""
    if isinstance(argument, dict):
        name, inner = next(iter(argument.items()))
        excluded = [_string_test(name, v) for v in (inner if isinstance(inner, list) else [inner])]
        return lambda v: not any(test(v) for test in excluded)
    values = argument if isinstance(argument, list) else [argument]
    strings = frozenset(v for v in values if isinstance(v, str))
    numbers = frozenset(_exact_number(v) for v in values if _is_number(v))

    def test(value: Any) -> bool:
        kind = type(value)
        if kind is str:
            return value not in strings
        if kind in _NUMBER_TYPES:
            return _exact_number(value) not in numbers
        return True

    return test


def _match_test(match: dict[str, Any]) -> Test:
    name, argument = next(iter(match.items()))
    if name == "numeric":
        return _numeric_test(argument)
    if name == "anything-but":
        return _anything_but_test(argument)
    if name == "cidr":
        return _cidr_test(argument)
    return _string_test(name, argument)


class _Leaf:
    """A field's list of values, compiled: exact values in sets by JSON type, the rest as tests."""

    __slots__ = ("absent", "any_value", "bools", "ips", "null", "numbers", "positive", "strings", "tests")

    def __init__(self, values: list[Any]) -> None:
        self.strings = frozenset(v for v in values if isinstance(v, str))
        self.numbers = frozenset(_exact_number(v) for v in values if _is_number(v))
        self.bools = frozenset(v for v in values if isinstance(v, bool))
        self.null = None in values
        self.ips = tuple(a for a in map(_ip_address, self.strings) if a is not None)
        matches = [v for v in values if isinstance(v, dict)]
        self.absent = {"exists": False} in matches
        self.any_value = {"exists": True} in matches
        self.tests = tuple(_match_test(m) for m in matches if "exists" not in m)
        #: Whether a value must be present for this field to match (anything but a lone exists: false).
        self.positive = any(v != {"exists": False} for v in values)

    def matches(self, value: Any) -> bool:
        """Whether the event's value (or ``_MISSING``) matches."""
        if value is _MISSING:
            return self.absent
        kind = type(value)
        if kind is list:
            values = _leaf_values(value, [])
            return any(self._one(v) for v in values) if values else self.absent
        if kind is dict:
            return self.absent
        return self._one(value)

    def _one(self, value: Any) -> bool:
        kind = type(value)
        if kind is str:
            if value in self.strings:
                return True
            if self.ips and (address := _ip_address(value)) is not None and address in self.ips:
                return True
        elif kind is bool:
            if value in self.bools:
                return True
        elif kind in _NUMBER_TYPES:
            if _exact_number(value) in self.numbers:
                return True
        elif value is None and self.null:
            return True
        if self.any_value:
            return True
        return any(test(value) for test in self.tests)


class _Object:
    """A pattern object, compiled: its fields (leaves or nested objects) and its ``$or`` alternatives."""

    __slots__ = ("alternatives", "fields", "positive")

    def __init__(self, pattern: Mapping[str, Any], or_aware: bool) -> None:
        fields: list[tuple[str, _Leaf | _Object]] = []
        self.alternatives: tuple[_Object, ...] = ()
        for key, value in pattern.items():
            if key == "$or" and or_aware:
                self.alternatives = tuple(_Object(branch, or_aware) for branch in value)
            elif isinstance(value, dict):
                fields.append((key, _Object(value, or_aware)))
            else:
                fields.append((key, _Leaf(value)))
        self.fields = tuple(fields)
        #: Whether some field must be present: then an array's element must match it all by itself;
        #: a pattern of absences only must hold for every element (event-ruler counts a field as
        #: present when any element consistent with the fields matched so far has it).
        self.positive = any(node.positive for _, node in self.fields) or any(a.positive for a in self.alternatives)

    def matches(self, value: Any) -> bool:
        """Whether the event's value at this object's path (or ``_MISSING``) matches."""
        if type(value) is dict:
            return self.matches_object(value)
        candidates = _object_candidates(value, []) if type(value) is list else []
        if not candidates:
            return self.matches_object(_MISSING)
        if self.positive:
            return any(self.matches_object(c) for c in candidates)
        return all(self.matches_object(c) for c in candidates)

    def names(self) -> frozenset[str]:
        """The field names this object reads at its own level, its alternatives' included."""
        return frozenset(key for key, _ in self.fields).union(*(a.names() for a in self.alternatives))

    def matches_object(self, event: Any) -> bool:
        """Whether one event object (or ``_MISSING``) matches every field and one alternative."""
        for key, node in self.fields:
            value = event.get(key, _MISSING) if event is not _MISSING else _MISSING
            if not node.matches(value):
                return False
        return not self.alternatives or any(a.matches_object(event) for a in self.alternatives)


class CompiledPattern:
    """A checked pattern, ready to match events many times over."""

    __slots__ = ("_root", "top_fields")

    def __init__(self, pattern: Mapping[str, Any]) -> None:
        """Check ``pattern`` (PatternError if EventBridge refuses it) and compile it."""
        or_aware = _reading(pattern)
        self._root = _Object(pattern, or_aware)
        #: The event's top-level fields the pattern reads (in any ``$or`` branch too).
        self.top_fields = self._root.names()

    def matches(self, event: Mapping[str, Any]) -> bool:
        """Whether ``event`` (parsed JSON) matches."""
        return self._root.matches_object(event)


@lru_cache(maxsize=4096)
def compile_pattern(text: str) -> CompiledPattern:
    """The compiled pattern of a pattern's JSON text (cached: routing compiles each rule's pattern once)."""
    return CompiledPattern(_loads(text))


def matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Whether EventBridge would match ``event`` against ``pattern`` (both parsed JSON).

    Raises :class:`PatternError` when EventBridge would refuse the pattern.
    """
    return compile_pattern(json.dumps(pattern)).matches(event)


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
