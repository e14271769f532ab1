"""Pure request validation for POST /order: body decoding, strict JSON parsing, schema check.

The schema lives in ``order_schema.json`` beside this module, shared with the API Gateway request
validator and the sandbox, so the rules are written once. The Lambda runtime has no jsonschema
package, so this module carries a small interpreter for exactly the draft-04 keywords that file
uses, with the semantics of ``jsonschema.Draft4Validator`` (the tests compare the two). A keyword
it does not know makes the import fail, so the schema cannot silently outgrow the interpreter.

No environment, no AWS: everything here is a function of its arguments.
"""

from __future__ import annotations

import base64
import binascii
import decimal
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, NoReturn

#: Largest accepted request body, in bytes after base64 decoding. A valid order is ~40 bytes.
MAX_BODY_BYTES: Final = 1024

SCHEMA_PATH: Final = Path(__file__).with_name("order_schema.json")

# Keywords that only annotate a schema; they never change what is accepted.
_ANNOTATIONS: Final = frozenset({"$schema", "title", "description"})
_CHECKED: Final = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
    }
)
_TYPES: Final = frozenset({"object", "integer", "number"})


class InvalidRequestError(Exception):
    """The client sent something this API does not accept; ``message`` says what, for a human."""

    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


@dataclass(frozen=True)
class OrderRequest:
    """A validated POST /order body."""

    id: int
    amount: Decimal


def _reject(message: str, status_code: int = 400) -> NoReturn:
    raise InvalidRequestError(message, status_code)


# --- Body decoding and strict JSON -------------------------------------------------------------


def decode_body(body: str | None, is_base64_encoded: bool) -> bytes:
    """Return the raw request bytes, bounded by ``MAX_BODY_BYTES``.

    API Gateway hands the body over as text, base64-encoded when it treats the content as binary.
    """
    if body is None or body == "":
        _reject("request body is required: a JSON object with 'id' and 'amount'")
    if is_base64_encoded:
        # Reject oversized input before decoding it: base64 is 4/3 the size of what it encodes.
        if len(body) > (MAX_BODY_BYTES // 3 + 1) * 4:
            _reject(f"request body must be at most {MAX_BODY_BYTES} bytes", 413)
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            _reject("request body is marked base64-encoded but is not valid base64")
    else:
        if len(body) > MAX_BODY_BYTES:
            _reject(f"request body must be at most {MAX_BODY_BYTES} bytes", 413)
        try:
            raw = body.encode("utf-8")
        except UnicodeEncodeError:
            # Lone surrogates cannot come from a real HTTP body, but must not crash the handler.
            _reject("request body is not valid UTF-8")
    if len(raw) > MAX_BODY_BYTES:
        _reject(f"request body must be at most {MAX_BODY_BYTES} bytes", 413)
    return raw


def _reject_constant(name: str) -> NoReturn:
    # NaN and Infinity are not JSON; Python's parser accepts them unless told otherwise.
    _reject(f"request body is not valid JSON: {name} is not allowed")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A repeated key is ambiguous (which amount did the client mean?), so it is refused.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            _reject(f"request body repeats the field {key!r}")
        result[key] = value
    return result


def parse_json(raw: bytes) -> Any:
    """Parse ``raw`` as one strict JSON document.

    Numbers with a fraction or exponent become ``Decimal`` so amounts stay exact; NaN/Infinity and
    duplicate keys are refused.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        _reject("request body is not valid UTF-8")
    try:
        return json.loads(
            text,
            parse_float=Decimal,
            parse_constant=_reject_constant,
            object_pairs_hook=_no_duplicate_keys,
        )
    except ValueError as e:
        # JSONDecodeError, and the int-digits limit of huge integer literals, are both ValueError.
        _reject(f"request body is not valid JSON: {e}")
    except RecursionError:
        _reject("request body is not valid JSON: nested too deeply")


# --- The schema interpreter --------------------------------------------------------------------


def _load_schema(path: Path) -> dict[str, Any]:
    # parse_float=Decimal makes multipleOf 0.01 exact, as in the reference validator's tests.
    schema = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    _check_supported(schema, "#")
    return dict(schema)


def _check_supported(schema: Any, where: str) -> None:
    """Fail loudly if ``schema`` uses anything this interpreter cannot enforce."""
    if not isinstance(schema, dict):
        raise ValueError(f"{SCHEMA_PATH.name} {where}: a schema must be an object")
    unknown = set(schema) - _ANNOTATIONS - _CHECKED
    if unknown:
        raise ValueError(f"{SCHEMA_PATH.name} {where}: unsupported keyword(s) {sorted(unknown)}")
    if "type" in schema and schema["type"] not in _TYPES:
        raise ValueError(f"{SCHEMA_PATH.name} {where}: unsupported type {schema['type']!r}")
    if "additionalProperties" in schema and schema["additionalProperties"] is not False:
        raise ValueError(f"{SCHEMA_PATH.name} {where}: only additionalProperties false is supported")
    for name, sub in schema.get("properties", {}).items():
        _check_supported(sub, f"{where}/properties/{name}")


ORDER_SCHEMA: Final = _load_schema(SCHEMA_PATH)


def _is_type(instance: Any, type_name: str) -> bool:
    # bool is a subclass of int in Python but never a JSON number; draft-04 "integer" means an
    # integer literal (jsonschema's draft-04 checker does not accept 1.0 or 1e2 as an integer).
    if isinstance(instance, bool):
        return False
    if type_name == "object":
        return isinstance(instance, dict)
    if type_name == "integer":
        return isinstance(instance, int)
    return isinstance(instance, int | Decimal)


def _is_multiple(instance: int | Decimal, step: int | Decimal) -> bool:
    # Exact decimal arithmetic; a quotient too large for the context is simply "not a multiple"
    # (such values are far above any maximum this schema sets).
    with decimal.localcontext() as ctx:
        ctx.traps[decimal.InvalidOperation] = True
        try:
            return Decimal(instance) % Decimal(step) == 0
        except decimal.InvalidOperation:
            return False


_TYPE_WORDS: Final = {"object": "a JSON object", "integer": "an integer", "number": "a number"}


def _validate(instance: Any, schema: Mapping[str, Any], name: str) -> None:
    """Raise ``InvalidRequestError`` naming ``name`` at the first keyword of ``schema`` that fails."""
    type_name = schema.get("type")
    if type_name is not None and not _is_type(instance, type_name):
        _reject(f"{name} must be {_TYPE_WORDS[type_name]}")

    if isinstance(instance, dict):
        for field in schema.get("required", []):
            if field not in instance:
                _reject(f"missing field {field!r}")
        properties = schema.get("properties", {})
        if schema.get("additionalProperties", True) is False:
            for field in instance:
                if field not in properties:
                    _reject(f"unknown field {field!r}")
        for field, sub in properties.items():
            if field in instance:
                _validate(instance[field], sub, field)

    if _is_type(instance, "number"):
        if "minimum" in schema:
            minimum = schema["minimum"]
            if schema.get("exclusiveMinimum", False):
                if instance <= minimum:
                    _reject(f"{name} must be greater than {minimum}")
            elif instance < minimum:
                _reject(f"{name} must be at least {minimum}")
        if "maximum" in schema:
            maximum = schema["maximum"]
            if schema.get("exclusiveMaximum", False):
                if instance >= maximum:
                    _reject(f"{name} must be less than {maximum}")
            elif instance > maximum:
                _reject(f"{name} must be at most {maximum}")
        if "multipleOf" in schema and not _is_multiple(instance, schema["multipleOf"]):
            _reject(_multiple_message(name, Decimal(schema["multipleOf"])))


def _multiple_message(name: str, step: Decimal) -> str:
    # A step of 0.01 reads better to a client as a number of decimals than as a multiple.
    exponent = step.as_tuple().exponent
    if isinstance(exponent, int) and exponent < 0 and step == Decimal(1).scaleb(exponent):
        places = {1: "one", 2: "two", 3: "three"}.get(-exponent, str(-exponent))
        return f"{name} must have at most {places} decimals"
    return f"{name} must be a multiple of {step}"


def validate_order(document: Any) -> OrderRequest:
    """Check a parsed body against the order schema and return the typed request."""
    _validate(document, ORDER_SCHEMA, "request body")
    return OrderRequest(id=document["id"], amount=Decimal(document["amount"]))


def parse_order_request(body: str | None, is_base64_encoded: bool) -> OrderRequest:
    """Turn an API Gateway body into a validated order request, or raise ``InvalidRequestError``."""
    return validate_order(parse_json(decode_body(body, is_base64_encoded)))


def check_order_id(value: Any, name: str = "order id") -> int:
    """Return ``value`` if it is a valid order id under the request schema, else raise."""
    _validate(value, ORDER_SCHEMA["properties"]["id"], name)
    return int(value)


def parse_order_id(text: str | None) -> int:
    """Parse an order id from a URL path segment, with the same bounds as the request schema."""
    # Only plain decimal digits: int() would also accept "+5", " 5", "5_000" and non-ASCII digits.
    if text is None or not text.isascii() or not text.isdigit() or len(text) > 16:
        _reject("order id must be a positive integer")
    return check_order_id(int(text))
