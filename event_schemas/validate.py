"""Validate events against their contracts (needs ``jsonschema``: the sandbox and the tests use it)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from typing import Any

from jsonschema import Draft4Validator
from jsonschema.exceptions import SchemaError

from event_schemas import EventSchema, SchemaFileError, load, schema_for


def check_draft4(schema: EventSchema) -> None:
    """Raise :class:`SchemaFileError` naming the file when the schema is not valid draft-04."""
    try:
        Draft4Validator.check_schema(schema.schema)
    except SchemaError as error:
        raise SchemaFileError(f"{schema.path.name}: not a valid draft-04 schema: {error.message}") from None


@cache
def _validator(source: str, detail_type: str) -> Draft4Validator:
    schema = load()[(source, detail_type)]
    check_draft4(schema)
    return Draft4Validator(_decimal_numbers(schema.schema))


def _decimal_numbers(value: Any) -> Any:
    """Floats as the Decimals their JSON text means: ``multipleOf 0.01`` is exact, as with order_schema."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {k: _decimal_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimal_numbers(v) for v in value]
    return value


def problems(event: Mapping[str, Any]) -> list[str] | None:
    """What is wrong with ``event`` under its contract: [] when it conforms, None when no schema describes it."""
    source, detail_type = event.get("source"), event.get("detail-type")
    if schema_for(source, detail_type) is None:
        return None
    validator = _validator(str(source), str(detail_type))
    errors = sorted(validator.iter_errors(_decimal_numbers(dict(event))), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(event)'}: {e.message}" for e in errors]
