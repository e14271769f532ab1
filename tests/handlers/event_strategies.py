"""Hypothesis strategies for whole events, generated from the event contracts (``event_schemas``).

Leaves (``enum``, ``integer``, ``number`` with ``multipleOf``...) come from
``hypothesis_jsonschema.from_schema``. Objects are composed here from ``properties`` and
``required``: the object generator of hypothesis-jsonschema 0.23.1 (its newest release) calls
``many.more()``, which hypothesis 6.170 no longer has, so ``from_schema`` of an object fails with
``AttributeError``. A schema keyword this composer does not understand raises instead of being
ignored, and every drawn event is checked with the project's own validator (``problems``), so what
the tests receive is exactly what the contract allows.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from event_schemas import EventSchema, load
from event_schemas.validate import problems

#: The keywords an object schema may use here; anything else (patternProperties, dependencies...) is refused.
_OBJECT_KEYWORDS = frozenset(
    {"$schema", "title", "description", "version", "type", "required", "properties", "additionalProperties"}
)


def _value(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values ``schema`` allows: composed for objects, hypothesis-jsonschema for leaves."""
    if schema.get("type") != "object":
        return from_schema(schema)
    unknown = set(schema) - _OBJECT_KEYWORDS
    if unknown or not isinstance(schema.get("additionalProperties", True), bool):
        raise NotImplementedError(f"event strategy cannot generate object keywords {sorted(unknown)}")
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    return st.fixed_dictionaries(
        {name: _value(sub) for name, sub in properties.items() if name in required},
        optional={name: _value(sub) for name, sub in properties.items() if name not in required},
    )


def events_of(schema: EventSchema) -> st.SearchStrategy[dict[str, Any]]:
    """Whole events (source, detail-type, detail) that ``schema`` allows."""
    # hypothesis-jsonschema draws multipleOf 0.01 as k * 0.01 in floats (64696932.300000004 for
    # k = 6469693230); the validator reads numbers as their decimal text, so those are not allowed.
    return _value(schema.schema).filter(lambda event: problems(event) == [])


def all_events(source: str | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Events of every contract (or of one source's contracts)."""
    schemas = [schema for key, schema in sorted(load().items()) if source is None or key[0] == source]
    return st.one_of([events_of(schema) for schema in schemas])
