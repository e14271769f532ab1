"""The sandbox's own AWS calls reach its endpoint's application without a socket.

The deploy, the functions the sandbox runs and the tests all call the endpoint from the sandbox's
own process. Over HTTP each call went through urllib3 and ``http.client`` on one side and a server
thread, ``http.server`` and werkzeug's request parsing on the other: about half of the ~6 ms a
call took, for the same bytes. Here botocore's ``before-send`` event hands the signed request, as
it would go on the wire (method, path, query, headers, body), to the very WSGI application the
server runs, intercepts and error handling included, and parses the answer as it would have
parsed the server's. Only the socket is skipped: the request is the same, and so is everything
the endpoint does with it.

Calls from other processes (the AWS CLI after ``. .sandbox/env``, ``make verify`` run on its own,
the state machine's ``putEvents`` through ``MOTO_PORT``) still go over HTTP, as do calls to any
URL other than a running sandbox's endpoint (``localhost`` instead of ``127.0.0.1``, for one).
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders
from botocore.handlers import BUILTIN_HANDLERS
from werkzeug.exceptions import InternalServerError
from werkzeug.test import EnvironBuilder, run_wsgi_app

log = logging.getLogger("sandbox.endpoint")

WsgiApp = Callable[..., Any]

_LOCK = threading.Lock()
#: ``scheme://host:port`` of each endpoint served in this process -> its WSGI application.
_APPS: dict[str, WsgiApp] = {}


class _Body(io.BytesIO):
    """A response body botocore reads as it reads urllib3's (``stream()``)."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        chunk = self.read()
        while chunk:
            yield chunk
            chunk = self.read()


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _bytes(data: str | bytes | bytearray) -> bytes:
    return data.encode() if isinstance(data, str) else bytes(data)


def _body(request: AWSPreparedRequest) -> bytes:
    body = request.body
    if body is None:
        return b""
    if isinstance(body, (str, bytes, bytearray)):
        return _bytes(body)
    data = body.read()
    body.seek(0)  # a retry sends it again
    return _bytes(data)


def send(**kwargs: Any) -> AWSResponse | None:
    """The ``before-send`` handler: the answer of the in-process endpoint the request is for, else None."""
    request: AWSPreparedRequest = kwargs["request"]
    url = urlsplit(request.url)
    app = _APPS.get(f"{url.scheme}://{url.netloc}")
    if app is None:
        return None  # not a sandbox endpoint of this process: botocore sends it itself
    environ = EnvironBuilder(
        method=request.method,
        base_url=f"{url.scheme}://{url.netloc}",
        path=url.path or "/",
        query_string=url.query,
        headers=[(_text(k), _text(v)) for k, v in request.headers.items()],
        data=_body(request),
    ).get_environ()
    environ["REMOTE_ADDR"] = "127.0.0.1"
    try:
        status, headers, data = _run(app, environ)
    except Exception:
        # What the HTTP server does when the application raises: log it, answer a bare 500.
        log.exception("the sandbox's AWS endpoint failed on %s %s", request.method, request.url)
        status, headers, data = _run(InternalServerError(), environ)
    return AWSResponse(request.url, int(status.split(" ", 1)[0]), HTTPHeaders.from_pairs(headers), _Body(data))


def _run(app: WsgiApp, environ: dict[str, Any]) -> tuple[str, Any, bytes]:
    chunks, status, headers = run_wsgi_app(app, environ, buffered=True)
    try:
        return status, headers, b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def serve(endpoint_url: str, app: WsgiApp) -> None:
    """Answer this process's calls to ``endpoint_url`` with ``app`` (until :func:`stop_serving`)."""
    with _LOCK:
        _APPS[endpoint_url.rstrip("/")] = app


def stop_serving(endpoint_url: str) -> None:
    """Calls to ``endpoint_url`` go over the network again (nothing listens there any more)."""
    with _LOCK:
        _APPS.pop(endpoint_url.rstrip("/"), None)


def _register() -> None:
    """Every botocore session hands its requests to :func:`send` once (moto's mock registers alike).

    botocore gives a session the built-in handlers when it is made, and calls *every*
    ``before-send`` handler of a request, so a session gets it exactly once: from the built-ins
    for sessions made from now on (``mock_aws`` makes boto3's default session anew, for one), and
    explicitly for boto3's default session if it was made before this module was imported.
    """
    BUILTIN_HANDLERS.append(("before-send", send))
    if boto3.DEFAULT_SESSION is not None:
        # The stubs type event handlers as returning None; a ``before-send`` handler returns the response.
        boto3.DEFAULT_SESSION._session.register("before-send", send)  # pyrefly: ignore[bad-argument-type]


_register()
