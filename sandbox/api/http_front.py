"""HTTP/1.1 in front of the local API: every request gets a status line and a JSON answer.

API Gateway answers whatever reaches it: a request line it cannot parse, a ``Content-Length``
that is not a number, a method or path the API does not declare, a body over its 10 MB payload
limit. This handler does the same, reading at most that limit, and turns any failure of the
sandbox's own code into API Gateway's 500 (``DEFAULT_5XX``) with the traceback in the log, so no
request can end a connection unanswered or kill its thread. ``HEAD`` answers get status and
headers only, as HTTP requires.
"""

from __future__ import annotations

import logging
import re
import socket
import time
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar, Protocol

from sandbox.api.proxy_event import RequestHeaders

log = logging.getLogger("sandbox.api")

#: API Gateway's REST API payload quota: 10 MB (it answers 413 REQUEST_TOO_LARGE above it).
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
#: How long a client may take to send the rest of a request it started.
READ_TIMEOUT_SECONDS = 10.0
#: After refusing a request whose body was not read, how long to swallow what the client still sends.
_LINGER_SECONDS = 1.0
_MAX_REQUEST_LINE = 65536
_MAX_CHUNK_LINE = 1024
_MAX_TRAILER_LINES = 64
# RFC 9110 token characters: what a method may be made of.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FORBIDDEN_RESPONSE_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})

Answer = tuple[int, dict[str, str], bytes]


class Gateway(Protocol):
    """What the HTTP layer needs from the API: an answer to a request, and to a refusal."""

    def handle(self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes, client_ip: str) -> Answer:
        """Answer one well-formed request (``headers``: a :class:`RequestHeaders`, names in any case)."""
        ...

    def refuse(self, response_type: str, status: int, message: str) -> Answer:
        """API Gateway's own answer to a request refused before routing."""
        ...


class _RefusedError(Exception):
    """The request cannot be served; answer it with this gateway error and close."""

    def __init__(self, response_type: str, status: int, message: str) -> None:
        super().__init__(message)
        self.response_type, self.status, self.message = response_type, status, message


def _bad_request(message: str = "Bad Request") -> _RefusedError:
    return _RefusedError("DEFAULT_4XX", 400, message)


def _too_large() -> _RefusedError:
    # API Gateway's message for a payload over its quota.
    return _RefusedError("REQUEST_TOO_LARGE", 413, "Request Too Long")


def handler_class(gateway: Gateway, read_timeout: float = READ_TIMEOUT_SECONDS) -> type[GatewayRequestHandler]:
    """A request handler class serving ``gateway``."""

    class Handler(GatewayRequestHandler):
        pass

    Handler.gateway = gateway
    Handler.timeout = read_timeout
    return Handler


class GatewayRequestHandler(BaseHTTPRequestHandler):
    """One connection: requests read within bounds, every one answered (see the module docstring)."""

    protocol_version = "HTTP/1.1"
    gateway: ClassVar[Gateway]
    timeout: ClassVar[float] = READ_TIMEOUT_SECONDS

    def setup(self) -> None:
        """Per-connection state."""
        super().setup()
        # Status line and body go out as separate writes: without this, Nagle's algorithm holds
        # the body back until the client's delayed ACK of the head (~40 ms per answer).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._answered = False
        self._expect_continue = False

    def handle_one_request(self) -> None:
        """Read one request and answer it, whatever it is (see the module docstring)."""
        self._answered = False
        self._expect_continue = False
        self.close_connection = True
        # What a refusal before the request line is parsed is written and logged with.
        self.command, self.requestline, self.request_version = None, "", "HTTP/1.1"  # pyrefly: ignore[bad-assignment]
        try:
            request = self._read_request()
            if request is None:
                return  # the client closed, or went idle between requests: nothing to answer
            try:
                answer = self.gateway.handle(*request)
            except Exception:
                log.exception("%s %s: the sandbox failed to serve the request", self.command, self.path)
                raise _RefusedError("DEFAULT_5XX", 500, "Internal server error") from None
            self._write(*answer)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True
        except _RefusedError as refusal:
            self._answer_refusal(refusal)
        except Exception:
            log.exception("%s: the sandbox failed to read or answer a request", self.client_address[0])
            self._answer_refusal(_RefusedError("DEFAULT_5XX", 500, "Internal server error"))

    # --- reading ---------------------------------------------------------------------------
    def _read_request(self) -> tuple[str, str, RequestHeaders, bytes, str] | None:
        """Method, target, headers (as sent: case and repeats kept), body and client address; ``None``: no request."""
        try:
            line = self._read_request_line()
            if line is None:
                return None
            if len(line) > _MAX_REQUEST_LINE:
                raise _RefusedError("DEFAULT_4XX", 414, HTTPStatus(414).phrase)
            self.raw_requestline = line
            if not self.parse_request():
                if self._answered:
                    return None  # parse_request answered through send_error
                raise _bad_request()  # a request line of blanks only
            if self.request_version == "HTTP/0.9" or not _TOKEN.fullmatch(self.command or ""):
                raise _bad_request()
            if not self.path.startswith("/"):
                raise _bad_request()
            body = self._read_body()
        except TimeoutError:
            # A client that stopped sending in the middle of a request.
            raise _bad_request("Request Timeout") from None
        headers = RequestHeaders(self.headers.items())
        return self.command, self.path, headers, body, self.client_address[0]

    def _read_request_line(self) -> bytes | None:
        # RFC 9112 2.2: a server should ignore empty lines received before the request line.
        for _ in range(8):
            try:
                line = self.rfile.readline(_MAX_REQUEST_LINE + 1)
            except TimeoutError:
                return None  # an idle connection, not a request
            if not line:
                return None
            if line.strip(b"\r\n"):
                return line
        raise _bad_request()

    def _read_body(self) -> bytes:
        lengths = [v.strip() for value in self.headers.get_all("Content-Length") or [] for v in value.split(",")]
        encodings = self.headers.get_all("Transfer-Encoding") or []
        if encodings:
            if lengths or ",".join(encodings).strip().lower() != "chunked":
                raise _bad_request()
            self._continue()
            return self._read_chunked()
        if not lengths:
            return b""
        if len(set(lengths)) != 1 or not lengths[0].isascii() or not lengths[0].isdigit():
            raise _bad_request()
        digits = lengths[0].lstrip("0")
        if len(digits) > len(str(MAX_PAYLOAD_BYTES)) or int(digits or "0") > MAX_PAYLOAD_BYTES:
            raise _too_large()
        length = int(digits or "0")
        self._continue()
        body = self.rfile.read(length) if length else b""
        if len(body) != length:
            raise _bad_request()
        return body

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            line = self.rfile.readline(_MAX_CHUNK_LINE + 1)
            size_text = line.split(b";", 1)[0].strip()
            if not line.endswith(b"\n") or not re.fullmatch(rb"[0-9A-Fa-f]+", size_text):
                raise _bad_request()
            if len(size_text.lstrip(b"0")) > 8:
                raise _too_large()
            size = int(size_text, 16)
            if size == 0:
                for _ in range(_MAX_TRAILER_LINES):
                    trailer = self.rfile.readline(_MAX_CHUNK_LINE + 1)
                    if not trailer.endswith(b"\n"):
                        raise _bad_request()
                    if trailer in (b"\r\n", b"\n"):
                        return bytes(body)
                raise _bad_request()
            if len(body) + size > MAX_PAYLOAD_BYTES:
                raise _too_large()
            chunk = self.rfile.read(size)
            if len(chunk) != size or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise _bad_request()
            body += chunk

    def handle_expect_100(self) -> bool:
        """Send ``100 Continue`` only once the request is known to be acceptable (see :meth:`_continue`)."""
        self._expect_continue = True
        return True

    def _continue(self) -> None:
        if self._expect_continue:
            self._expect_continue = False
            self.send_response_only(100)
            self.end_headers()
            self.wfile.flush()

    # --- answering ---------------------------------------------------------------------------
    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed HTTP found by the standard parser: API Gateway's JSON answer, never an HTML page."""
        # The standard parser's own wording echoes the request; API Gateway's does not.
        if code not in (414, 431):
            code = 400  # a bad version, syntax or HTTP/0.9 line: malformed HTTP all the same
        self._answer_refusal(_RefusedError("DEFAULT_4XX", code, HTTPStatus(code).phrase))

    def _answer_refusal(self, refusal: _RefusedError, linger: bool = True) -> None:
        self.close_connection = True
        if self._answered:
            return
        try:
            status, headers, data = self.gateway.refuse(refusal.response_type, refusal.status, refusal.message)
        except Exception:
            log.exception("the sandbox failed to render a gateway response")
            status, headers, data = 500, {"Content-Type": "application/json"}, b'{"message": "Internal server error"}'
        try:
            self._write(status, headers, data)
            if linger:
                self._linger()
        except OSError:
            pass

    def _write(self, status: int, headers: dict[str, str], data: bytes) -> None:
        # Whatever version the client claimed, the answer has an HTTP/1.1 status line.
        if self.request_version not in ("HTTP/1.0", "HTTP/1.1"):
            self.request_version = "HTTP/1.1"
        self.send_response(status)
        for key, value in headers.items():
            if key.lower() in _FORBIDDEN_RESPONSE_HEADERS or not _header_safe(key, value):
                continue
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()
        self._answered = True

    def _linger(self) -> None:
        """Swallow what the client still sends, briefly, so closing does not reset the answer away."""
        self.connection.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + _LINGER_SECONDS
        self.connection.settimeout(0.1)
        while time.monotonic() < deadline:
            try:
                if not self.rfile.read1(65536):
                    return
            except (TimeoutError, OSError):
                return

    def log_message(self, format: str, *args: Any) -> None:
        """Requests go to the debug log, not to stderr."""
        log.debug("%s " + format, self.address_string(), *args)


def _header_safe(key: str, value: str) -> bool:
    text = f"{key}{value}"
    return bool(_TOKEN.fullmatch(key)) and "\r" not in text and "\n" not in text and _latin1(text)


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True
