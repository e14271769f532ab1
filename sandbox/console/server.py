"""The console's HTTP server: the page, its JSON API, and the checks every request passes first.

Bound to 127.0.0.1 only. Every request must name the console itself in ``Host``
(``127.0.0.1:<port>`` or ``localhost:<port>``), which defeats DNS rebinding (a page of another site
whose name was re-pointed at 127.0.0.1 sends its own name); a request with an ``Origin`` must come
from the console's own origin, and one that a browser marks ``Sec-Fetch-Site: cross-site`` is refused,
so no page open in the same browser can read the API or post to it. State changes only through POST,
with a JSON body (``Content-Type: application/json``, which a cross-site form cannot send without a
CORS preflight, and the console answers no preflight). Every answer is JSON except the page itself;
bad input gets a JSON 4xx, a failure of the console a JSON 500.

The API (``curl`` lines in the README):

- ``GET /api/overview`` — version (it grows with every change), orders newest first, faults on,
  alarms, dead-letter counts: what the page polls;
- ``GET /api/orders``, ``GET /api/orders/<id>`` — the orders, one order's timeline;
- ``GET /api/architecture``, ``GET /api/alarms``, ``GET /api/dead-letters``;
- ``GET /api/unattributed`` — the last reports that name no order (an event without ``detail.id``);
- ``GET /api/faults`` — the faults on, and what each kind can target;
- ``POST /api/faults`` ``{"kind": "lambda"|"put_events"|"start_execution", "target": name,
  "attempts": N | "seconds": S}`` — turn a fault on (201);
- ``POST /api/faults/<id>/clear``, ``POST /api/faults/clear`` — turn one fault, or all, off;
- ``POST /api/dead-letters/<queue>/redrive`` — deliver a dead-letter queue's messages again.
"""

from __future__ import annotations

import json
import logging
import re
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar, Protocol
from urllib.parse import urlsplit

from sandbox.api.gateway import ApiServer
from sandbox.aws.emulation import Emulation
from sandbox.console import views
from sandbox.console.faults import KINDS, FaultBoard, FaultError
from sandbox.console.recorder import Recorder
from sandbox.delivery.contracts import ContractLog
from sandbox.delivery.rules import Dispatcher
from sandbox.delivery.stream import TableStreams
from sandbox.delivery.stream_mapping import StreamMappings
from sandbox.functions.runtime import FunctionRuntime
from sandbox.program.evaluation import Program

log = logging.getLogger("sandbox.console")
STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/static/style.css": ("style.css", "text/css; charset=utf-8"),
}
#: The largest request body the console reads (its requests are a few dozen bytes).
MAX_BODY_BYTES = 16 * 1024
READ_TIMEOUT_SECONDS = 10.0
FAULT_FIELDS = frozenset({"kind", "target", "attempts", "seconds"})
Answer = tuple[int, dict[str, str], bytes]


class ObservedSandbox(Protocol):
    """What the console reads of the running sandbox (``sandbox.runtime.Sandbox``, one layer up)."""

    program: Program
    delay_scale: float
    functions: FunctionRuntime
    dispatcher: Dispatcher
    contracts: ContractLog
    streams: TableStreams
    mappings: StreamMappings
    _emulation: Emulation | None
    _api: ApiServer | None


class ServedConsole(Protocol):
    """What the server reads of its console (``sandbox.console.console.Console``, which serves it)."""

    sandbox: ObservedSandbox
    recorder: Recorder
    faults: FaultBoard
    fault_choices: dict[str, list[str]]


class HttpError(Exception):
    """A request the console refuses: answered with ``status`` and ``{"error": message}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def refusal(method: str, headers: dict[str, str], port: int) -> HttpError | None:
    """Why the console refuses a request before routing it (``None``: it may be served). Pure.

    ``headers`` have lower-case names.
    """
    own = {f"127.0.0.1:{port}", f"localhost:{port}"}
    host = headers.get("host")
    if host is None:
        return HttpError(400, "a Host header is required")
    if host.lower() not in own:
        return HttpError(403, f"Host {host!r} is not this console: use http://127.0.0.1:{port}")
    origin = headers.get("origin")
    if origin is not None and origin.lower() not in {f"http://{h}" for h in own}:
        return HttpError(403, f"Origin {origin!r} may not use this console")
    if headers.get("sec-fetch-site", "").lower() == "cross-site":
        return HttpError(403, "cross-site requests may not use this console")
    if method not in ("GET", "POST"):
        return HttpError(405, f"{method} is not served: read with GET, change with POST")
    if method == "POST" and headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return HttpError(415, "POST a JSON body with Content-Type: application/json")
    return None


def json_body(body: bytes) -> dict[str, Any]:
    """A POST body: empty (``{}``) or one JSON object (else 400)."""
    if not body.strip():
        return {}
    try:
        parsed = json.loads(body)
    except ValueError:
        raise HttpError(400, "the body is not JSON") from None
    if not isinstance(parsed, dict):
        raise HttpError(400, "the body must be a JSON object")
    return parsed


def _json(status: int, value: Any) -> Answer:
    data = json.dumps(value, default=str).encode()
    return status, {"Content-Type": "application/json", "Cache-Control": "no-store"}, data


class ConsoleServer:
    """The console's HTTP server (see the module docstring)."""

    def __init__(self, console: ServedConsole, host: str, port: int) -> None:
        """Bind ``host:port``, the sandbox's loopback address (raises OSError when the port is taken)."""
        self.console = console
        self.host = host
        handler = type("Handler", (ConsoleRequestHandler,), {"server_app": self})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]

    @property
    def url(self) -> str:
        """The page's address."""
        return f"http://{self.host}:{self.port}"

    def serve_forever(self) -> None:
        """Serve until :meth:`shutdown`."""
        self.httpd.serve_forever(poll_interval=0.1)

    def shutdown(self) -> None:
        """Stop serving and close the socket."""
        self.httpd.shutdown()
        self.httpd.server_close()

    def answer(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        """The answer to one request (never raises)."""
        try:
            refused = refusal(method, headers, self.port)
            if refused is not None:
                raise refused
            path = urlsplit(target).path
            return self._get(path) if method == "GET" else self._post(path, json_body(body))
        except HttpError as error:
            return _json(error.status, {"error": str(error)})
        except Exception:
            log.exception("the console failed to answer %s %s", method, target)
            return _json(500, {"error": "the console failed; see the sandbox's log"})

    def _get(self, path: str) -> Answer:
        console = self.console
        program, recorder = console.sandbox.program, console.recorder
        if path in STATIC_FILES:
            name, content_type = STATIC_FILES[path]
            return 200, {"Content-Type": content_type, "Cache-Control": "no-store"}, (STATIC_DIR / name).read_bytes()
        simple = {
            "/api/overview": self.overview,
            "/api/orders": recorder.orders,
            "/api/architecture": lambda: views.architecture(program, recorder),
            "/api/alarms": lambda: views.alarms(program, recorder),
            "/api/dead-letters": lambda: views.dead_letter_queues(program),
            "/api/faults": self.faults,
            "/api/unattributed": lambda: [entry.as_json() for entry in recorder.unattributed()],
        }
        if path in simple:
            return _json(200, simple[path]())
        match = re.fullmatch(r"/api/orders/([^/]+)", path)
        if match:
            view = views.order_view(program, recorder, match.group(1))
            if view is None:
                raise HttpError(404, f"the console keeps no trace of order {match.group(1)!r}")
            return _json(200, view)
        if self._post_route(path):
            raise HttpError(405, f"{path} changes state: use POST")
        raise HttpError(404, f"no such page or API: {path}")

    @staticmethod
    def _post_route(path: str) -> bool:
        return bool(re.fullmatch(r"/api/(faults(/\d+)?(/clear)?|dead-letters/[^/]+/redrive)", path))

    def _post(self, path: str, body: dict[str, Any]) -> Answer:
        faults = self.console.faults
        if path == "/api/faults":
            unknown = set(body) - FAULT_FIELDS
            if unknown:
                raise HttpError(400, f"unknown fields {sorted(unknown)}: a fault has {sorted(FAULT_FIELDS)}")
            try:
                fault = faults.add(body.get("kind"), body.get("target"), body.get("attempts"), body.get("seconds"))
            except FaultError as error:
                raise HttpError(400, str(error)) from None
            return _json(201, fault.as_json(faults.clock()))
        if path == "/api/faults/clear":
            return _json(200, {"cleared": faults.clear()})
        match = re.fullmatch(r"/api/faults/(\d+)/clear", path)
        if match:
            cleared = faults.clear(int(match.group(1)))
            if not cleared:
                raise HttpError(404, f"no fault {match.group(1)} is on")
            return _json(200, {"cleared": cleared})
        match = re.fullmatch(r"/api/dead-letters/([^/]+)/redrive", path)
        if match:
            return _json(200, {"redriven": self._redrive(match.group(1))})
        if self._get_route(path):
            raise HttpError(405, f"{path}: not a POST endpoint, read it with GET")
        raise HttpError(404, f"no such API: {path}")

    @staticmethod
    def _get_route(path: str) -> bool:
        return path in STATIC_FILES or bool(
            re.fullmatch(r"/api/(overview|orders(/[^/]+)?|architecture|alarms|dead-letters|faults|unattributed)", path)
        )

    def _redrive(self, queue: str) -> int:
        try:
            sandbox = self.console.sandbox
            stream = views.StreamRedrive(sandbox.program, sandbox.functions, sandbox.delay_scale)
            return views.redrive(sandbox.program, sandbox.dispatcher, queue, stream)
        except KeyError:
            raise HttpError(404, f"{queue!r} is not one of the program's dead-letter queues") from None
        except ValueError as error:
            raise HttpError(409, str(error)) from None

    def faults(self) -> dict[str, Any]:
        """The faults on, and what each kind can target."""
        return {"faults": self.console.faults.active(), "kinds": list(KINDS), "targets": self.console.fault_choices}

    def overview(self) -> dict[str, Any]:
        """What the page polls: the version first, so a change made while this is built shows next time."""
        console = self.console
        program, recorder = console.sandbox.program, console.recorder
        version = recorder.version
        queues = views.dead_letter_queues(program)
        return {
            "version": version,
            "stack": program.stack,
            "orders": recorder.orders(),
            "faults": console.faults.active(),
            "alarms": [a for a in views.alarms(program, recorder) if a["state"] == "ALARM"],
            "dead_letters": {q["label"]: q["count"] for q in queues},
        }


class ConsoleRequestHandler(BaseHTTPRequestHandler):
    """One connection: a bounded read, then the server's answer."""

    protocol_version = "HTTP/1.1"
    timeout = READ_TIMEOUT_SECONDS
    server_app: ClassVar[ConsoleServer]

    def setup(self) -> None:
        """No Nagle delay between the head and the body of an answer."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            body = self._body(headers)
            answer = self.server_app.answer(self.command, self.path, headers, body)
        except HttpError as error:
            self.close_connection = True
            answer = _json(error.status, {"error": str(error)})
        status, out_headers, data = answer
        self.send_response(status)
        for key, value in out_headers.items():
            self.send_header(key, value)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self, headers: dict[str, str]) -> bytes:
        if "transfer-encoding" in headers:
            raise HttpError(411, "send a Content-Length, not a chunked body")
        length = headers.get("content-length", "0").strip()
        if not length.isdigit():
            raise HttpError(400, "Content-Length is not a number")
        if int(length) > MAX_BODY_BYTES:
            raise HttpError(413, f"the body may have at most {MAX_BODY_BYTES} bytes")
        return self.rfile.read(int(length)) if int(length) else b""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed HTTP: a JSON answer too."""
        self.close_connection = True
        data = json.dumps({"error": message or "bad request"}).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Requests go to the debug log, not to stderr."""
        log.debug("%s " + format, self.address_string(), *args)

    def __getattr__(self, name: str) -> Any:
        """Every method goes to :meth:`_serve`, which refuses what the console does not serve."""
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)
