"""The sandbox's request validator: API Gateway's decimal numbers and words, for any number sent.

Pure: no server. Exact ``Fraction`` arithmetic is the oracle for ``multipleOf``; the bodies are
the ones that used to kill the server (``1e30``, ``1e400``) and their neighbours.
"""

from __future__ import annotations

import time
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.order_service import order_request_schema
from sandbox.api.request_validation import body_problem, is_multiple_of, model_validator

ORDER_MODEL = model_validator(order_request_schema())


@settings(max_examples=300)
@given(
    st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(lambda d: abs(d.adjusted()) < 60),
    st.sampled_from(["0.01", "0.5", "3", "0.003", "25", "1E+2", "7E-3"]),
)
def test_multiple_of_is_exact(value: Decimal, divisor: str) -> None:
    # GIVEN a decimal and a divisor
    # WHEN it is checked  THEN the answer is exact rational arithmetic's
    assert is_multiple_of(value, Decimal(divisor)) == ((Fraction(value) / Fraction(Decimal(divisor))).denominator == 1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1E+30", True),
        ("1E+400", True),
        ("-1E+26", True),
        ("1E+2", True),
        ("-0", True),
        ("12.34", True),
        ("12.345", False),
        ("1.000000000000000000000000000001", False),
        ("100000000000000000000000000000.01", True),
        ("1E-400", False),
        ("1.5E-400", False),
        ("1E+999999999", True),
        ("-3E+999999999", True),
        ("1E-999999999", False),
    ],
)
def test_multiple_of_a_cent_holds_at_any_magnitude_and_costs_nothing(value: str, expected: bool) -> None:
    # GIVEN a number with a huge, tiny or long exponent or coefficient
    started = time.monotonic()
    # WHEN it is checked against multipleOf 0.01  THEN the answer is exact, and immediate
    assert is_multiple_of(Decimal(value), Decimal("0.01")) is expected
    assert time.monotonic() - started < 0.5


AMOUNT_TOO_LARGE = "numeric instance is greater than the required maximum (maximum: 1000000000, found: {})"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ('{"id":1,"amount":1e30}', f"[{AMOUNT_TOO_LARGE.format('1E+30')}]"),
        ('{"id":108,"amount":1e400}', f"[{AMOUNT_TOO_LARGE.format('1E+400')}]"),
        ('{"id":1,"amount":1e999999999}', f"[{AMOUNT_TOO_LARGE.format('1E+999999999')}]"),
        (
            '{"id":1,"amount":-1e+26}',
            "[numeric instance is lower than the required minimum (minimum: 0, found: -1E+26)]",
        ),
        ('{"id":1,"amount":1E+2}', None),
        ('{"id":1,"amount":-0}', "[numeric instance is not strictly greater than the required minimum 0]"),
        ('{"id":-0,"amount":1}', "[numeric instance is lower than the required minimum (minimum: 1, found: 0)]"),
        (
            '{"id":1,"amount":1.000000000000000000000000000001}',
            "[remainder of division is not zero (1.000000000000000000000000000001 / 0.01)]",
        ),
        ('{"id":1,"amount":1e-400}', "[remainder of division is not zero (1E-400 / 0.01)]"),
        (
            '{"id":1E+2,"amount":1}',
            '[instance type (number) does not match any allowed primitive type (allowed: ["integer"])]',
        ),
        (
            '{"id":123456789012345678901234567890,"amount":1}',
            "[numeric instance is greater than the required maximum "
            "(maximum: 9007199254740991, found: 123456789012345678901234567890)]",
        ),
        ('{"id":1}', '[object has missing required properties (["amount"])]'),
        ("{}", '[object has missing required properties (["amount","id"])]'),
        (
            '{"id":1,"amount":1,"z":0,"coupon":"x"}',
            '[object instance has properties which are not allowed by the schema: ["coupon","z"]]',
        ),
        (
            '{"id":true,"amount":"1"}',
            '[instance type (string) does not match any allowed primitive type (allowed: ["number"]), '
            'instance type (boolean) does not match any allowed primitive type (allowed: ["integer"])]',
        ),
    ],
)
def test_a_body_is_judged_and_worded_as_api_gateway_does(body: str, detail: str | None) -> None:
    # GIVEN a POST /order body  WHEN the model checks it
    # THEN it passes, or fails with API Gateway's detail (its double quotes included)
    assert body_problem(ORDER_MODEL, body.encode()) == detail


@pytest.mark.parametrize(
    "body",
    [b"", b"id=1&amount=2", b"\xff\xfe", b'{"id":1,"amount":NaN}', b"[" * 100_000, b'{"id":' + b"9" * 5000 + b"}"],
    ids=["empty", "form", "not UTF-8", "NaN", "deeply nested", "5000-digit integer"],
)
def test_a_body_that_is_not_json_is_refused_not_raised(body: bytes) -> None:
    # GIVEN a body no JSON parser accepts (or Python's refuses)
    # WHEN the model checks it  THEN it is refused as invalid JSON, without an exception escaping
    problem = body_problem(ORDER_MODEL, body)
    assert problem is not None and problem.startswith("[Invalid JSON: ")
