"""The event contracts of eda-demo: one JSON Schema (draft-04) per detail-type, read from one place.

``event_schemas/events/<DetailType>.json`` describes the whole EventBridge event of one
detail-type: its ``source`` and ``detail-type`` (each a one-value ``enum``, which binds the
detail-type to its source) and its ``detail``. Every schema carries a ``version`` (an integer,
raised on every breaking change; ``snapshot.json`` holds the versions and schemas last agreed).

A schema may take a field's rules from another schema file of the project with a
``{"$ref": "<path from the project root>#<JSON pointer>"}``, e.g. the order id from
``handlers/order_schema.json``; :func:`load` resolves those references, so every reader (the
program's schema registry, the sandbox, the tests) gets self-contained schemas and a rule is never
written twice.

Dependency-free on purpose (the program imports it); validating events needs ``jsonschema`` and
lives with its users.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
EVENTS_DIR = Path(__file__).resolve().parent / "events"
SNAPSHOT_PATH = Path(__file__).resolve().parent / "snapshot.json"
DRAFT_04 = "http://json-schema.org/draft-04/schema#"


class SchemaFileError(ValueError):
    """A schema file is not a usable event contract; the message names the file and the problem."""


@dataclass(frozen=True)
class EventSchema:
    """The contract of one detail-type."""

    detail_type: str
    source: str
    version: int
    #: The schema with every ``$ref`` resolved (what validators and the registry receive).
    schema: dict[str, Any]
    path: Path

    @property
    def detail(self) -> dict[str, Any]:
        """The schema of the event's ``detail``."""
        return dict(self.schema["properties"]["detail"])

    @property
    def key(self) -> tuple[str, str]:
        """``(source, detail-type)``, as events are told apart on the bus."""
        return self.source, self.detail_type


def _read_json(path: Path, referrer: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SchemaFileError(f"{referrer.name}: references {path}, which does not exist") from None
    except ValueError as error:
        raise SchemaFileError(f"{path.name}: not valid JSON: {error}") from None


def _resolve(node: Any, path: Path) -> Any:
    """``node`` with every project-file ``$ref`` replaced by what it points at."""
    if isinstance(node, list):
        return [_resolve(item, path) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        if set(node) != {"$ref"}:
            raise SchemaFileError(f"{path.name}: a $ref must stand alone, got {sorted(node)}")
        file_part, _, pointer = ref.partition("#")
        target = _read_json(PROJECT_DIR / file_part, path)
        for part in [p for p in pointer.split("/") if p]:
            if not isinstance(target, dict) or part not in target:
                raise SchemaFileError(f"{path.name}: $ref {ref!r} points at nothing")
            target = target[part]
        return _resolve(target, path)
    return {key: _resolve(value, path) for key, value in node.items()}


def _one_value(schema: dict[str, Any], field: str, path: Path) -> str:
    enum = schema.get("properties", {}).get(field, {}).get("enum")
    if not (isinstance(enum, list) and len(enum) == 1 and isinstance(enum[0], str)):
        raise SchemaFileError(f"{path.name}: properties.{field} must be an enum of exactly one string")
    return enum[0]


def read(path: Path) -> EventSchema:
    """Read and check one schema file (shape only: ``tests`` check it against the draft-04 metaschema)."""
    raw = _read_json(path, path)
    if not isinstance(raw, dict):
        raise SchemaFileError(f"{path.name}: a schema must be a JSON object")
    if raw.get("$schema") != DRAFT_04:
        raise SchemaFileError(f"{path.name}: $schema must be {DRAFT_04!r} (EventBridge's JSONSchemaDraft4)")
    version = raw.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise SchemaFileError(f"{path.name}: version must be a positive integer, got {version!r}")
    schema = _resolve(raw, path)
    detail_type = _one_value(schema, "detail-type", path)
    if detail_type != path.stem or schema.get("title") != path.stem:
        raise SchemaFileError(f"{path.name}: title and detail-type must both be {path.stem!r}")
    source = _one_value(schema, "source", path)
    if not isinstance(schema["properties"].get("detail"), dict):
        raise SchemaFileError(f"{path.name}: properties.detail must be a schema")
    return EventSchema(detail_type, source, version, schema, path)


@cache
def load(directory: Path = EVENTS_DIR) -> dict[tuple[str, str], EventSchema]:
    """Every event contract, by ``(source, detail-type)``."""
    schemas: dict[tuple[str, str], EventSchema] = {}
    for path in sorted(directory.glob("*.json")):
        schema = read(path)
        if schema.key in schemas:
            raise SchemaFileError(f"{path.name}: {schema.key} is already described by {schemas[schema.key].path.name}")
        schemas[schema.key] = schema
    return schemas


def schema_for(source: Any, detail_type: Any) -> EventSchema | None:
    """The contract of an event, or None for an event no schema describes."""
    return load().get((source, detail_type)) if isinstance(source, str) and isinstance(detail_type, str) else None
