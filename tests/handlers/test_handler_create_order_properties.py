"""Property tests: create-order accepts exactly what the reference validator accepts, and nothing else.

The reference is ``jsonschema.Draft4Validator`` on ``handlers/order_schema.json``, with schema and
body parsed using ``parse_float=Decimal``. The parsing rules the API adds on top of JSON (body at
most 1024 bytes, UTF-8, no NaN/Infinity, no duplicate keys) are applied to the reference's input
too, since a JSON Schema cannot express them.

Two tests share the generators: the pure core (``validation.parse_order_request``) against the
reference, with 1,000 examples and no AWS at all; and a small sample through the whole handler
on moto, which proves the handler acts on that decision (stores and publishes exactly the
accepted orders, answers JSON 4xx with no side effect otherwise).
"""

from __future__ import annotations

import base64
import decimal
import json
from collections.abc import Callable
from decimal import Decimal
from types import ModuleType
from typing import Any

import jsonschema
import pytest
from handler_testkit import TABLE_NAME, FakeAws, LambdaContext, post_event
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers import validation

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")

SCHEMA = json.loads(validation.SCHEMA_PATH.read_text(), parse_float=Decimal)
REFERENCE = jsonschema.Draft4Validator(SCHEMA)
MAX_ID = 2**53 - 1


class _RefusedError(Exception):
    pass


def _refuse_constant(name: str) -> Any:
    raise _RefusedError(name)


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len({key for key, _ in pairs}) != len(pairs):
        raise _RefusedError("duplicate key")
    return dict(pairs)


def reference_accepts(raw: bytes) -> bool:
    """Whether the body bytes are a document the reference validator accepts."""
    if len(raw) > validation.MAX_BODY_BYTES:
        return False
    try:
        document = json.loads(
            raw.decode("utf-8"),
            parse_float=Decimal,
            parse_constant=_refuse_constant,
            object_pairs_hook=_refuse_duplicates,
        )
    except (ValueError, _RefusedError, RecursionError):
        return False
    try:
        return bool(REFERENCE.is_valid(document))
    except decimal.InvalidOperation:
        # multipleOf on a value so large that Decimal's 28 digits cannot divide it: far above
        # the schema's maximum, so invalid anyway.
        return False


# --- Body strategies ---------------------------------------------------------------------------

ids = st.one_of(
    st.integers(min_value=1, max_value=MAX_ID),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.sampled_from([0, 1, MAX_ID, MAX_ID + 1, 2**64]),
)
amounts = st.one_of(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10**9), places=2),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.decimals(min_value=Decimal("-10"), max_value=Decimal("10"), places=5),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [
            Decimal("0"),
            Decimal("0.00"),
            Decimal("0.001"),
            Decimal("1000000000"),
            Decimal("1000000000.00"),
            Decimal("1000000000.01"),
            Decimal("1E+2"),
            Decimal("1e-2"),
            Decimal("100.10"),
            Decimal("1E+400"),
        ]
    ),
)


def number_text(value: Any) -> str:
    """JSON text of a generated number (Decimal text may use exponents, which JSON allows)."""
    if isinstance(value, Decimal):
        text = str(value)
        return text if text[0] in "-0123456789" else "0"
    return json.dumps(value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=10,
)
field_values = st.one_of(
    ids.map(json.dumps),
    amounts.map(number_text),
    json_values.map(json.dumps),
    st.sampled_from(["true", "false", "null", '"100"', "NaN", "Infinity", "-Infinity", "1.0", "1e2"]),
)


# The strategies objects() draws from, built once: a strategy built anew for every draw is
# validated anew each time, which cost about a tenth of the run (same draws either way).
_id_values = st.one_of(ids.map(json.dumps), field_values)
_amount_values = st.one_of(amounts.map(number_text), field_values)
_extra_keys = st.sampled_from(["id", "amount", "foo", "ID", ""])
_paddings = st.sampled_from([0, 0, 0, 1, 1000])


@st.composite
def objects(draw: st.DrawFn) -> str:
    """JSON objects built as text, so duplicate keys and number spellings reach the handler."""
    members: list[tuple[str, str]] = []
    if draw(st.integers(0, 9)) > 0:
        members.append(("id", draw(_id_values)))
    if draw(st.integers(0, 9)) > 0:
        members.append(("amount", draw(_amount_values)))
    for _ in range(draw(st.integers(0, 2)) if draw(st.integers(0, 4)) == 0 else 0):
        members.append((draw(_extra_keys), draw(field_values)))
    members = draw(st.permutations(members))
    padding = " " * draw(_paddings)
    return "{" + padding + ", ".join(f"{json.dumps(k)}: {v}" for k, v in members) + "}"


valid_orders = st.builds(
    lambda order_id, amount: json.dumps({"id": order_id, "amount": "A"}).replace('"A"', str(amount)),
    st.integers(min_value=1, max_value=MAX_ID),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10**9), places=2),
)

bodies = st.one_of(
    valid_orders,
    objects(),
    objects(),
    objects(),
    json_values.map(json.dumps),
    st.text(max_size=50),
    st.binary(max_size=50).map(lambda b: b.decode("latin-1")),
)


@st.composite
def requests(draw: st.DrawFn) -> tuple[str | None, bool, bytes]:
    """(event body, isBase64Encoded, the bytes the client meant)."""
    text = draw(bodies)
    raw = text.encode("utf-8")
    if draw(st.integers(0, 5)) == 0:
        raw = draw(st.binary(max_size=60)) if draw(st.booleans()) else raw
        return base64.b64encode(raw).decode(), True, raw
    return text, False, raw


def test_pure_core_accepts_exactly_what_the_schema_accepts() -> None:
    # GIVEN the pure request parser and the reference validator, no AWS at all
    seen = {"accepted": 0, "rejected": 0}

    @settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(request=requests())
    def check(request: tuple[str | None, bool, bytes]) -> None:
        body, is_base64, raw = request
        expected = reference_accepts(raw)
        # WHEN the body is parsed as the handler parses it
        try:
            parsed = validation.parse_order_request(body, is_base64)
        except validation.InvalidRequestError as error:
            # THEN a refusal is exactly what the reference refuses, with a client status and a message
            seen["rejected"] += 1
            assert not expected, (raw, error.message)
            assert error.status_code in (400, 413) and error.message
            return
        # THEN an acceptance is exactly what the reference accepts, with the values sent
        seen["accepted"] += 1
        assert expected, raw
        document = json.loads(raw, parse_float=Decimal)
        assert (parsed.id, parsed.amount) == (document["id"], Decimal(document["amount"]))

    check()
    # The generators must exercise both sides, or the equivalence says little.
    assert seen["accepted"] > 100 and seen["rejected"] > 350, seen


def test_create_order_handler_acts_on_the_decision(
    load_handler: Callable[[str], ModuleType], aws: FakeAws, lambda_context: LambdaContext
) -> None:
    # GIVEN one moto world and one create-order module for the whole run, table reset after
    # each accepted order so every id is fresh
    create_order = load_handler("create_order")
    seen = {"accepted": 0, "rejected": 0}

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(request=st.one_of(requests(), valid_orders.map(lambda text: (text, False, text.encode()))))
    def check(request: tuple[str | None, bool, bytes]) -> None:
        body, is_base64, raw = request
        event = post_event(body)
        event["isBase64Encoded"] = is_base64

        # WHEN the body is posted
        response = create_order.handler(event, lambda_context)

        # THEN never a 5xx, and always a JSON body
        status = response["statusCode"]
        assert status < 500, response
        payload = json.loads(response["body"])
        # AND 2xx exactly for what the reference validator accepts
        expected = reference_accepts(raw)
        assert (200 <= status < 300) == expected, (raw, response)
        items = aws.items()
        published = aws.outbox_events()
        if expected:
            seen["accepted"] += 1
            assert status == 201
            assert [int(item["id"]["N"]) for item in items] == [payload["id"]]
            assert [detail["id"] for _, detail in published] == [payload["id"]]
            aws.dynamodb.delete_item(TableName=TABLE_NAME, Key={"id": items[0]["id"]})
            aws.stream_records()  # the clean-up's own record
        else:
            seen["rejected"] += 1
            # AND every 4xx carries an error, with nothing written (so nothing for the outbox)
            assert status in (400, 413)
            assert isinstance(payload["error"], str) and payload["error"]
            assert items == [] and published == []

    check()
    assert seen["accepted"] >= 10 and seen["rejected"] >= 10, seen
