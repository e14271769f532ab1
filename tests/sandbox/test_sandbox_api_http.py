"""The local API over raw sockets: every request gets a status line and a JSON answer, as on AWS.

One ``ApiServer`` over the dev program serves the whole module on an ephemeral port. Its
functions are a stand-in that answers like a Lambda proxy integration: what is under test is
everything API Gateway does before and around the integration (framing, routing, validation,
gateway responses), and a stand-in keeps a few hundred requests to a second or two.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import string
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.api.gateway import LAMBDA_SYNC_PAYLOAD_BYTES, ApiServer
from sandbox.api.http_front import MAX_PAYLOAD_BYTES
from sandbox.functions import logs as sandbox_logs
from sandbox.program.evaluation import Program

SOCKET_TIMEOUT = 5.0
_STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3}) [^\r\n]*")


class EchoFunctions:
    """Answers every invocation as a function would: 201 with a JSON body; records the events."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def invoke(self, arn: str, event: dict[str, Any]) -> dict[str, Any]:
        self.events.append(event)
        return {"statusCode": 201, "headers": {"Content-Type": "application/json"}, "body": json.dumps({"ok": arn})}


@dataclass
class Server:
    api: ApiServer
    functions: EchoFunctions

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.api.httpd.server_address[:2]
        return str(host), int(port)


@pytest.fixture(scope="module")
def server(dev_program: Program) -> Iterator[Server]:
    """The dev program's API on a free port, for the whole module."""
    functions = EchoFunctions()
    api = ApiServer(dev_program, functions, "127.0.0.1", 0)
    thread = threading.Thread(target=api.serve_forever, daemon=True)
    thread.start()
    yield Server(api, functions)
    api.shutdown()
    thread.join(5)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def exchange(server: Server, raw: bytes) -> bytes:
    """Send ``raw``, close our side, and return everything the server sends until it closes."""
    with socket.create_connection(server.address, timeout=SOCKET_TIMEOUT) as conn:
        conn.sendall(raw)
        conn.shutdown(socket.SHUT_WR)
        received = bytearray()
        while chunk := conn.recv(65536):  # a hang raises TimeoutError and fails the test
            received += chunk
    return bytes(received)


def first_answer(data: bytes, head: bool = False) -> Answer:
    """The first final (non-1xx) response in ``data``.

    After a HEAD request the body is absent, unless the server could not read the request as a
    HEAD (a malformed request line), in which case the refusal has its body.
    """
    while True:
        head_end = data.find(b"\r\n\r\n")
        assert head_end >= 0, f"no complete response in {data[:300]!r}"
        lines = data[:head_end].split(b"\r\n")
        match = _STATUS_LINE.fullmatch(lines[0])
        assert match, f"no status line in {data[:300]!r}"
        headers = {k.decode().lower(): v.decode().strip() for k, v in (line.split(b":", 1) for line in lines[1:])}
        status = int(match.group(1))
        rest = data[head_end + 4 :]
        if status >= 200:
            break
        data = rest
    if head and (not rest or rest.startswith(b"HTTP/1.")):
        return Answer(status, headers, b"")
    length = int(headers.get("content-length", "0"))
    assert len(rest) >= length, f"truncated body in {data[:300]!r}"
    return Answer(status, headers, rest[:length])


def request(
    server: Server, method: str, path: str, body: bytes | str = b"", headers: dict[str, str] | None = None
) -> Answer:
    payload = body.encode() if isinstance(body, str) else body
    lines = [f"{method} {path} HTTP/1.1", "Host: localhost", f"Content-Length: {len(payload)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + payload
    return first_answer(exchange(server, raw), head=method == "HEAD")


def assert_json_error(answer: Answer, status: int) -> dict[str, Any]:
    assert answer.status == status, answer
    assert answer.headers["content-type"] == "application/json"
    document = answer.json()
    assert isinstance(document, dict) and isinstance(document["error"], str), document
    return document


# --- what API Gateway answers itself --------------------------------------------------------------


def test_an_unknown_path_is_a_json_403(server: Server) -> None:
    # GIVEN the dev API  WHEN a path it does not declare is requested
    answer = request(server, "GET", "/orders")
    # THEN API Gateway's MISSING_AUTHENTICATION_TOKEN answer comes back, as JSON with an error
    assert assert_json_error(answer, 403) == {"error": "Missing Authentication Token"}


def test_a_bad_body_is_a_json_400_naming_the_request(server: Server) -> None:
    # GIVEN the dev API  WHEN a body its model refuses is posted
    answer = request(server, "POST", "/order", '{"id": 1}', {"Content-Type": "application/json"})
    # THEN the BAD_REQUEST_BODY answer is JSON with an error and the request id
    document = assert_json_error(answer, 400)
    assert document["error"] == "Invalid request body"
    assert re.fullmatch(r"[0-9a-f-]{36}", document["requestId"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("TRACE", "/order"),
        ("OPTIONS", "/order"),
        ("PUT", "/order"),
        ("DELETE", "/order/1"),
        ("POST", "/order/1"),
        ("GET", "/order"),
        ("PROPFIND", "/order/1"),
        ("get", "/order/1"),
        ("GET", "/api/order/1/x"),
    ],
)
def test_a_method_or_path_the_api_does_not_declare_is_a_json_403(server: Server, method: str, path: str) -> None:
    # GIVEN the dev API (POST /order, GET /order/{id})
    # WHEN another method or path is requested
    # THEN API Gateway's answer comes back: 403 with the MISSING_AUTHENTICATION_TOKEN body
    assert assert_json_error(request(server, method, path), 403) == {"error": "Missing Authentication Token"}


def test_head_gets_the_status_and_headers_without_a_body(server: Server) -> None:
    # GIVEN the dev API, which declares no HEAD method
    # WHEN HEAD is requested, twice on one connection
    raw = b"HEAD /order/1 HTTP/1.1\r\nHost: x\r\n\r\n" * 2
    data = exchange(server, raw)
    # THEN each answer is the 403 status and headers, with the length of the body it does not send
    answer = first_answer(data, head=True)
    assert (answer.status, answer.body) == (403, b"")
    assert int(answer.headers["content-length"]) == len(b'{"error": "Missing Authentication Token"}')
    assert data.count(b"HTTP/1.1 403 ") == 2
    assert data.endswith(b"\r\n\r\n")


MALFORMED = {
    "garbage request line": b"garbage\r\n\r\n",
    "control bytes": b"\x00\x01\x02\r\n\r\n",
    "HTTP/0.9 request": b"GET /order/1\r\n\r\n",
    "unknown HTTP version": b"GET /order/1 HTTP/2.0\r\n\r\n",
    "bad version token": b"GET /order/1 HTTQ/1.1\r\n\r\n",
    "method with a separator": b"GE(T /order/1 HTTP/1.1\r\n\r\n",
    "target without a slash": b"GET order/1 HTTP/1.1\r\n\r\n",
    "non-numeric Content-Length": b"POST /order HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
    "negative Content-Length": b"POST /order HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
    "signed Content-Length": b"POST /order HTTP/1.1\r\nContent-Length: +5\r\n\r\n12345",
    "conflicting Content-Lengths": b"POST /order HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n12345",
    "Content-Length and chunked": b"POST /order HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
    "unknown transfer coding": b"POST /order HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
    "bad chunk size": b"POST /order HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    "body shorter than its length": b"POST /order HTTP/1.1\r\nContent-Length: 50\r\n\r\n{}",
}


@pytest.mark.parametrize("raw", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_http_is_a_json_400(server: Server, raw: bytes) -> None:
    # GIVEN the dev API  WHEN a request is malformed HTTP
    answer = first_answer(exchange(server, raw))
    # THEN it gets a status line and API Gateway's JSON 400, and the connection closes
    assert assert_json_error(answer, 400) == {"error": "Bad Request"}
    assert answer.headers["connection"] == "close"


def test_a_body_over_the_payload_limit_is_a_json_413_without_being_read(server: Server) -> None:
    # GIVEN the dev API  WHEN a request announces one byte over API Gateway's 10 MB, then sends little
    raw = f"POST /order HTTP/1.1\r\nContent-Length: {MAX_PAYLOAD_BYTES + 1}\r\n\r\n".encode() + b"{"
    answer = first_answer(exchange(server, raw))
    # THEN the REQUEST_TOO_LARGE answer comes back at once, as JSON
    assert assert_json_error(answer, 413) == {"error": "Request Too Long"}


def test_a_chunked_body_over_the_payload_limit_is_a_json_413(server: Server) -> None:
    # GIVEN the dev API  WHEN a chunked body announces a chunk past the limit
    raw = f"POST /order HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n{MAX_PAYLOAD_BYTES + 1:x}\r\n".encode()
    # THEN it is refused with 413 before the chunk is read
    assert assert_json_error(first_answer(exchange(server, raw)), 413) == {"error": "Request Too Long"}


def test_a_body_at_the_payload_limit_is_read_and_validated(server: Server) -> None:
    # GIVEN a body of exactly API Gateway's limit
    body = b" " * (MAX_PAYLOAD_BYTES - 2) + b"{}"
    # WHEN it is posted  THEN it is read and reaches the validator (which refuses it: no id, no amount)
    answer = request(server, "POST", "/order", body, {"Content-Type": "application/json"})
    assert assert_json_error(answer, 400)["error"] == "Invalid request body"


def test_a_chunked_body_is_reassembled(server: Server) -> None:
    # GIVEN a valid order sent in two chunks
    raw = (
        b"POST /order HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'9\r\n{"id":71,\r\nd\r\n"amount":10}\r\n0\r\n\r\n'
    )
    # WHEN it is posted  THEN the function receives the whole body
    answer = first_answer(exchange(server, raw))
    assert answer.status == 201
    assert json.loads(server.functions.events[-1]["body"]) == {"id": 71, "amount": 10}


@pytest.mark.parametrize(
    ("amount", "status"),
    [
        ("1e30", 400),
        ("1e400", 400),
        ("-1e+26", 400),
        ("1E+2", 201),
        ("-0", 400),
        ("1.000000000000000000000000000001", 400),
        ("100000000.000000000000000000000", 201),
        ("1e-400", 400),
        ("1e999999999", 400),
    ],
)
def test_any_number_gets_the_validators_answer(server: Server, amount: str, status: int) -> None:
    # GIVEN the order model (amount > 0, <= 1e9, a multiple of 0.01)
    # WHEN an order with this amount is posted
    body = f'{{"id":108,"amount":{amount}}}'
    answer = request(server, "POST", "/order", body, {"Content-Type": "application/json"})
    # THEN the validator refuses it with API Gateway's JSON 400, or the function answers
    assert answer.status == status, answer
    assert isinstance(answer.json(), dict)


def test_two_requests_on_one_connection_are_both_answered(server: Server) -> None:
    # GIVEN a keep-alive connection  WHEN two requests are sent on it
    raw = b"GET /orders HTTP/1.1\r\nHost: x\r\n\r\nGET /order/5 HTTP/1.1\r\nHost: x\r\n\r\n"
    data = exchange(server, raw)
    # THEN both are answered, in order
    assert [int(s) for s in re.findall(rb"HTTP/1\.1 (\d{3}) ", data)] == [403, 201]


def test_a_failure_of_the_sandbox_itself_is_a_json_500_and_a_logged_traceback(
    server: Server, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN the sandbox's own request handling fails unexpectedly
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("injected failure")

    monkeypatch.setattr("sandbox.api.gateway.body_problem", broken)
    # WHEN a request reaches that code
    with caplog.at_level(logging.ERROR, logger="sandbox.api"):
        answer = request(server, "POST", "/order", '{"id":1,"amount":1}', {"Content-Type": "application/json"})
    # THEN API Gateway's DEFAULT_5XX answer comes back as JSON
    assert assert_json_error(answer, 500) == {"error": "Internal server error"}
    # AND the traceback is in the log
    failures = [r for r in caplog.records if r.exc_info and r.exc_info[1] and "injected failure" in str(r.exc_info[1])]
    assert failures, [r.getMessage() for r in caplog.records]
    # AND the server goes on serving
    monkeypatch.undo()
    assert request(server, "GET", "/orders").status == 403


def test_a_function_answer_api_gateway_would_refuse_is_a_json_502(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a function that answers something that is not a proxy response
    monkeypatch.setattr(server.functions, "invoke", lambda arn, event: {"statusCode": 42})
    # WHEN it is invoked  THEN API Gateway's 502 comes back, as the DEFAULT_5XX JSON
    assert assert_json_error(request(server, "GET", "/order/1"), 502) == {"error": "Internal server error"}


def test_a_function_running_past_its_timeout_is_a_json_502_at_the_timeout(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a function configured with a 0.2 s timeout whose handler takes 5 s
    arn = next(r.function_arn for r in server.api.routes if r.method == "GET")
    release = threading.Event()
    monkeypatch.setitem(server.api.function_timeouts, arn, 0.2)
    monkeypatch.setattr(server.functions, "invoke", lambda arn, event: release.wait(5))
    try:
        # WHEN it is invoked through the API
        started = time.monotonic()
        answer = request(server, "GET", "/order/1")
        # THEN Lambda's timeout ends the run: API Gateway's 502, long before the handler returns
        assert assert_json_error(answer, 502) == {"error": "Internal server error"}
        assert time.monotonic() - started < 3
    finally:
        release.set()


def test_a_request_over_lambdas_synchronous_payload_limit_is_a_json_500_and_never_invoked(server: Server) -> None:
    # GIVEN a body API Gateway accepts (under 10 MB) whose proxy event exceeds Lambda's 6 MiB
    body = b"x" * (LAMBDA_SYNC_PAYLOAD_BYTES + 1)
    invoked = len(server.functions.events)
    # WHEN it is sent to a route without a body model
    answer = request(server, "GET", "/order/1", body)
    # THEN API Gateway's generic 5xx, and the function never ran
    assert assert_json_error(answer, 500) == {"error": "Internal server error"}
    assert len(server.functions.events) == invoked


# --- anything at all ------------------------------------------------------------------------------

_TOKEN_CHARS = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"
METHODS = st.sampled_from(["GET", "POST", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE", "PATCH", "CONNECT"]) | st.text(
    _TOKEN_CHARS + "()<> @", min_size=1, max_size=8
)
PATHS = st.sampled_from(
    [
        *("/order", "/order/", "/order/1", "/order/abc", "/api/order", "/api/order/7", "/", "/orders", "*"),
        *("//order", "/order/%ff", "/order?x=1&x=2", "http://h/order", "/order/1#f", "/order/\u00e9", "/order/a b"),
    ]
) | st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n"), max_size=30)
NUMBERS = (
    st.sampled_from(["1e30", "1e400", "-1e+26", "1E+2", "-0", "-0.0", "0.01", "100", "1e-400", "1e999999999"])
    | st.sampled_from(["123456789012345678901234567890", "1.23456789012345678901234567890", "NaN", "-Infinity"])
    | st.builds(lambda m, e: f"{m}e{e}", st.integers(-(10**30), 10**30), st.integers(-(10**9), 10**9))
    | st.decimals(allow_nan=False, allow_infinity=False).map(str)
    | st.integers().map(str)
)
BODIES = (
    st.builds(lambda i, a: f'{{"id":{i},"amount":{a}}}', NUMBERS, NUMBERS)
    | st.builds(lambda i, a, k: f'{{"id":{i},"amount":{a},"{k}":1}}', NUMBERS, NUMBERS, st.text(max_size=5))
    | st.text(max_size=40)
)
HEADERS = st.dictionaries(
    st.text(_TOKEN_CHARS, min_size=1, max_size=12),
    st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=20),
    max_size=4,
)
CONTENT_TYPES = st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain", "", "a/b; x=1"])
FRAMINGS = st.sampled_from(["exact", "exact", "none", "chunked", "short"]) | st.sampled_from(
    ["abc", "-1", "1e3", " ", "+5", "0x10", "99999999999999999999", "5, 6"]
)


def _framed(body: bytes, framing: str) -> tuple[list[str], bytes]:
    if framing == "exact":
        return [f"Content-Length: {len(body)}"], body
    if framing == "none":
        return [], b""
    if framing == "chunked":
        chunk = f"{len(body):x}\r\n".encode() + body + b"\r\n" if body else b""
        return ["Transfer-Encoding: chunked"], chunk + b"0\r\n\r\n"
    if framing == "short":
        return [f"Content-Length: {len(body) + 5}"], body
    return [f"Content-Length: {framing}"], body


def _assert_answered(data: bytes, head: bool) -> None:
    """A status line, no failure of the sandbox itself, and a JSON body (none for a HEAD it understood)."""
    answer = first_answer(data, head=head)
    assert answer.status != 500, "the sandbox's own code failed (see the logged traceback)"
    if head and not answer.body:
        return
    document = answer.json()
    if answer.status >= 400:
        assert isinstance(document, dict) and isinstance(document["error"], str), document


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=METHODS,
    path=PATHS,
    headers=HEADERS,
    content_type=CONTENT_TYPES,
    body=BODIES,
    framing=FRAMINGS,
)
def test_any_request_gets_a_status_line_and_a_json_body(
    server: Server, method: str, path: str, headers: dict[str, str], content_type: str, body: str, framing: str
) -> None:
    # GIVEN any method, target, headers, body and framing, numbers of any size included
    framing_headers, payload = _framed(body.encode(), framing)
    lines = [f"{method} {path} HTTP/1.1", "Host: localhost", f"Content-Type: {content_type}", *framing_headers]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    raw = "\r\n".join(lines).encode("utf-8") + b"\r\n\r\n" + payload
    # WHEN it is sent over a socket
    data = exchange(server, raw)
    # THEN it is answered: a status line and a JSON body
    _assert_answered(data, head=method == "HEAD")


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=1, max_size=300).filter(lambda raw: raw.strip(b"\r\n")))
def test_any_bytes_get_a_status_line_and_a_json_body(server: Server, raw: bytes) -> None:
    # GIVEN any bytes at all  WHEN they are sent as a request
    data = exchange(server, raw)
    # THEN they are answered with a status line and a JSON body
    _assert_answered(data, head=raw.lstrip(b"\r\n").startswith(b"HEAD "))


#: Bodies whose refusal detail quotes the client's own text back (a property name, a string value).
HOSTILE_BODIES = BODIES | st.builds(
    lambda key, value: json.dumps({"id": value, "amount": 1, key: "\\\"'"}),
    st.text(max_size=8),
    st.text(max_size=8) | st.integers(),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(method=METHODS, path=PATHS, headers=HEADERS, content_type=CONTENT_TYPES, body=HOSTILE_BODIES)
def test_every_access_log_line_the_stage_writes_is_json(
    server: Server, method: str, path: str, headers: dict[str, str], content_type: str, body: str
) -> None:
    # GIVEN any method, target, headers and body, bodies the validator refuses with quotes included
    lines = [f"{method} {path} HTTP/1.1", "Host: localhost", f"Content-Type: {content_type}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    payload = body.encode()
    raw = "\r\n".join([*lines, f"Content-Length: {len(payload)}"]).encode("utf-8") + b"\r\n\r\n" + payload
    written: list[tuple[str, list[str]]] = []
    # WHEN it is sent, and the stage writes its access log
    with mock.patch.object(sandbox_logs, "put_lines", lambda group, new: written.append((group, new))):
        exchange(server, raw)
    # THEN every line written to the access log is one JSON object (the execution log, which takes
    # the validator's detail of a refused body, is plain text as on AWS)
    assert server.api.access_log is not None and server.api.execution_log is not None
    groups = {server.api.access_log.log_group, server.api.execution_log.log_group}
    assert {group for group, _ in written} <= groups
    for line in (line for group, new in written if group == server.api.access_log.log_group for line in new):
        assert isinstance(json.loads(line), dict), line
