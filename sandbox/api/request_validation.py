"""API Gateway's request-body validator: a draft-04 model check with its numbers and its words.

API Gateway validates a body against the method's model with a draft-04 JSON schema validator
that reads numbers as arbitrary-precision decimals: ``1e400`` is a number far above any maximum,
not an overflow, and ``multipleOf`` is exact (``1E+30`` is a multiple of ``0.01``). Its detail,
``$context.error.validationErrorString``, lists the validator's messages between brackets, worded
as that validator words them (``object has missing required properties (["amount"])``).

:func:`body_problem` does the same offline, with exact decimal arithmetic whose cost does not
grow with an exponent, so no number a client can send makes it fail or take long.
"""

from __future__ import annotations

import decimal
import json
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any, NoReturn

from jsonschema import Draft4Validator, ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import extend

_JSON_TYPES = {bool: "boolean", int: "integer", Decimal: "number", str: "string", list: "array", dict: "object"}


def is_multiple_of(value: int | Decimal, divisor: int | Decimal) -> bool:
    """Whether ``value / divisor`` is an integer, exactly, for any exponent (``1E+999999999``)."""
    v, d = Decimal(value), Decimal(divisor)
    if not (v.is_finite() and d.is_finite()) or d == 0:
        return False
    if v == 0:
        return True
    v_digits, v_exp = v.as_tuple().digits, int(v.as_tuple().exponent)
    d_digits, d_exp = d.as_tuple().digits, int(d.as_tuple().exponent)
    d_coefficient = int("".join(map(str, d_digits)))
    # value / divisor = (v_coefficient / d_coefficient) * 10 ** (v_exp - d_exp)
    shift = v_exp - d_exp
    if shift < 0 and -shift >= len(v_digits):
        return False  # a nonzero coefficient of n digits is not a multiple of 10 ** n
    with decimal.localcontext() as ctx:
        # Enough digits for the coefficient itself; never an exponent's worth of digits.
        ctx.prec = len(v_digits) + len(d_digits) + 2
        ctx.Emax, ctx.Emin = decimal.MAX_EMAX, decimal.MIN_EMIN
        ctx.traps[decimal.Inexact] = True
        coefficient = Decimal((0, v_digits, 0))
        if shift >= 0:
            remainder = int(coefficient % d_coefficient)
            return remainder * pow(10, shift, d_coefficient) % d_coefficient == 0
        return coefficient % Decimal((0, d_digits, -shift)) == 0


def _multiple_of(
    validator: Validator, divisor: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "number") and not is_multiple_of(instance, divisor):
        yield ValidationError(f"{instance} is not a multiple of {divisor}")


#: Draft-04 as API Gateway applies it: exact ``multipleOf`` at any magnitude.
ApiGatewayDraft4Validator = extend(Draft4Validator, {"multipleOf": _multiple_of})


def model_validator(schema_text: str) -> Validator:
    """A validator for one model's schema (numbers in the schema read as exact decimals)."""
    return ApiGatewayDraft4Validator(json.loads(schema_text, parse_float=Decimal))


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def body_problem(validator: Validator, body: bytes) -> str | None:
    """API Gateway's ``validationErrorString`` for ``body`` (``None``: the body passes the model)."""
    try:
        document = json.loads(body.decode("utf-8"), parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        # ValueError: not UTF-8, not JSON, NaN/Infinity, or an integer literal over Python's digit limit.
        return f"[Invalid JSON: {str(error)[:200]}]"
    try:
        errors = sorted(validator.iter_errors(document), key=lambda e: (list(e.absolute_path), str(e.validator)))
        messages = list(dict.fromkeys(_words(errors)))
    except RecursionError:
        return "[instance is nested too deeply]"
    return "[" + ", ".join(messages) + "]" if messages else None


def _number(value: Any) -> str:
    return str(value) if isinstance(value, int | Decimal) and not isinstance(value, bool) else json.dumps(value)


def _names(names: Iterable[str]) -> str:
    return json.dumps(sorted(names), separators=(",", ":"))


def _words(errors: Iterable[ValidationError]) -> Iterator[str]:
    """Each error worded as API Gateway's validator words it."""
    for e in errors:
        keyword, schema = e.validator, e.schema
        # jsonschema types the fields of an error as possibly unset; an error from iter_errors has them.
        instance: Any = e.instance
        expected: Any = e.validator_value
        if not isinstance(schema, Mapping):
            yield e.message
        elif keyword == "required":
            missing = [name for name in expected if name not in instance]
            yield f"object has missing required properties ({_names(missing)})"
        elif keyword == "additionalProperties":
            extra = set(instance) - set(schema.get("properties", {}))
            yield f"object instance has properties which are not allowed by the schema: {_names(extra)}"
        elif keyword == "type":
            allowed = [expected] if isinstance(expected, str) else list(expected)
            kind = "null" if instance is None else _JSON_TYPES.get(type(instance), "unknown")
            yield f"instance type ({kind}) does not match any allowed primitive type (allowed: {_names(allowed)})"
        elif keyword == "minimum":
            bound = schema["minimum"]
            if schema.get("exclusiveMinimum") and instance == bound:
                yield f"numeric instance is not strictly greater than the required minimum {_number(bound)}"
            else:
                yield (
                    "numeric instance is lower than the required minimum "
                    f"(minimum: {_number(bound)}, found: {_number(instance)})"
                )
        elif keyword == "maximum":
            bound = schema["maximum"]
            if schema.get("exclusiveMaximum") and instance == bound:
                yield f"numeric instance is not strictly lower than the required maximum {_number(bound)}"
            else:
                yield (
                    "numeric instance is greater than the required maximum "
                    f"(maximum: {_number(bound)}, found: {_number(instance)})"
                )
        elif keyword == "multipleOf":
            yield f"remainder of division is not zero ({_number(instance)} / {_number(e.validator_value)})"
        else:
            yield e.message
