"""Backward compatibility of the event contracts against the last agreed snapshot.

A consumer written against one version of an event must keep accepting what producers send under
the same version. :func:`breaking_changes` lists what a new schema of an event takes away from its
old one (a field removed or renamed, a field newly required, a type, enum value or bound narrowed,
``multipleOf`` added or changed, ``additionalProperties`` closed); an added optional field is not
one. :func:`problems` compares every current contract with ``snapshot.json`` and reports the
breaking changes made without a ``version`` bump, and the events removed.

``python -m event_schemas.compatibility`` prints the problems (exit status 1 if any);
``python -m event_schemas.compatibility --write-snapshot`` records the current contracts as agreed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from event_schemas import SNAPSHOT_PATH, EventSchema, load

WRITE_SNAPSHOT_COMMAND = ".venv/bin/python -m event_schemas.compatibility --write-snapshot"

#: Lower bounds: a larger new value narrows what is accepted.
_LOWER_BOUNDS = ("minimum", "minLength", "minItems", "minProperties")
#: Upper bounds: a smaller new value narrows what is accepted.
_UPPER_BOUNDS = ("maximum", "maxLength", "maxItems", "maxProperties")
#: Draft-04 boolean modifiers of ``minimum``/``maximum``: turning one on narrows.
_EXCLUSIVE = ("exclusiveMinimum", "exclusiveMaximum")
_ALL_TYPES = ("array", "boolean", "integer", "null", "number", "object", "string")


def _types(node: Mapping[str, Any]) -> set[str] | None:
    """The types a node allows (``None``: any)."""
    value = node.get("type")
    if value is None:
        return None
    return {value} if isinstance(value, str) else set(value)


def _where(path: str) -> str:
    return path or "the event"


def _bounds(old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> list[str]:
    changes = []
    for key in _LOWER_BOUNDS:
        if key in new and (key not in old or new[key] > old[key]):
            changes.append(f"{_where(path)}: {key} tightened from {old.get(key)} to {new[key]}")
    for key in _UPPER_BOUNDS:
        if key in new and (key not in old or new[key] < old[key]):
            changes.append(f"{_where(path)}: {key} tightened from {old.get(key)} to {new[key]}")
    for key in _EXCLUSIVE:
        if new.get(key) is True and old.get(key) is not True:
            changes.append(f"{_where(path)}: {key} turned on")
    if "multipleOf" in new and new.get("multipleOf") != old.get("multipleOf"):
        changes.append(f"{_where(path)}: multipleOf {'added' if 'multipleOf' not in old else 'changed'}")
    if "pattern" in new and new.get("pattern") != old.get("pattern"):
        changes.append(f"{_where(path)}: pattern {'added' if 'pattern' not in old else 'changed'}")
    return changes


def _narrowing(old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> list[str]:
    """What ``new`` refuses at ``path`` that ``old`` accepted."""
    changes: list[str] = []
    old_types, new_types = _types(old), _types(new)
    lost = set(_ALL_TYPES if old_types is None else old_types) - set(_ALL_TYPES if new_types is None else new_types)
    # "number" covers "integer": a number narrowed to integer is caught, integer widened to number is not.
    if new_types is not None and "number" in new_types:
        lost.discard("integer")
    if lost:
        changes.append(f"{_where(path)}: type {', '.join(sorted(lost))} removed")
    if "enum" in new:
        removed = [v for v in old.get("enum", []) if v not in new["enum"]] if "enum" in old else None
        if removed is None:
            changes.append(f"{_where(path)}: enum added")
        elif removed:
            changes.append(f"{_where(path)}: enum value(s) {', '.join(map(json.dumps, removed))} removed")
    changes += _bounds(old, new, path)
    if new.get("additionalProperties") is False and old.get("additionalProperties") is not False:
        changes.append(f"{_where(path)}: additionalProperties closed")
    old_properties, new_properties = old.get("properties", {}), new.get("properties", {})
    for field, old_field in old_properties.items():
        child = f"{path}.{field}" if path else field
        if field not in new_properties:
            changes.append(f"{child}: field removed (or renamed)")
        else:
            changes += _narrowing(old_field, new_properties[field], child)
    for field in sorted(set(new.get("required", [])) - set(old.get("required", []))):
        child = f"{path}.{field}" if path else field
        changes.append(f"{child}: field newly required")
    if isinstance(old.get("items"), Mapping) and isinstance(new.get("items"), Mapping):
        changes += _narrowing(old["items"], new["items"], f"{path}[]")
    elif "items" in new and "items" not in old:
        changes.append(f"{_where(path)}: items constrained")
    return changes


def breaking_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What a consumer of ``old`` would see broken by ``new`` (two schemas of one event), one line each."""
    return _narrowing(old, new, "")


def snapshot_of(contracts: Mapping[tuple[str, str], EventSchema]) -> dict[str, dict[str, Any]]:
    """The snapshot recording ``contracts``: by ``<source>@<detail-type>``, each version and schema."""
    return {
        f"{source}@{detail_type}": {"version": contract.version, "schema": contract.schema}
        for (source, detail_type), contract in sorted(contracts.items())
    }


def problems(snapshot: Mapping[str, Mapping[str, Any]], current: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Breaking changes made without a version bump, and removed events, from ``snapshot`` to ``current``."""
    found = []
    for key, agreed in snapshot.items():
        now = current.get(key)
        if now is None:
            found.append(f"{key}: event removed (consumers still expect it)")
            continue
        if now["version"] < agreed["version"]:
            found.append(f"{key}: version went down from {agreed['version']} to {now['version']}")
            continue
        changes = breaking_changes(agreed["schema"], now["schema"])
        if changes and now["version"] == agreed["version"]:
            found += [f"{key} v{now['version']}: {change}" for change in changes]
    return found


def read_snapshot(path: Path = SNAPSHOT_PATH) -> dict[str, dict[str, Any]]:
    """The last agreed snapshot."""
    return dict(json.loads(path.read_text(encoding="utf-8")))


def write_snapshot(path: Path = SNAPSHOT_PATH) -> None:
    """Record the current contracts as agreed."""
    path.write_text(json.dumps(snapshot_of(load()), indent=2, sort_keys=True) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    """``--write-snapshot`` records the contracts; otherwise print the problems, exit 1 if any."""
    if argv == ["--write-snapshot"]:
        write_snapshot()
        print(f"wrote {SNAPSHOT_PATH}")
        return 0
    found = problems(read_snapshot(), snapshot_of(load()))
    for problem in found:
        print(problem)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
