"""The sandbox's AWS endpoint: moto's server, answering as AWS would or saying plainly that it cannot.

moto serves the services the program's resources live in (see :data:`SERVED_BACKENDS`). A request
the endpoint cannot answer faithfully gets an AWS-style error naming the operation, never a
Docker message, an HTML page or a hang:

- a service outside that list (S3, ...): the program has no resources of those kinds here, so an
  empty answer would mislead (API Gateway's and EventBridge Schemas' reads of the declared
  resources are answered by :mod:`sandbox.aws.readonly_services`, through the server's ``intercept``);
- an operation moto does not implement, or a path it does not route;
- anything the sandbox refuses on purpose (:class:`NotEmulated`), such as running Lambda code
  that is not one of the program's functions.

Those answer HTTP 501 with the error code ``NotImplemented`` in the protocol the client speaks
(JSON, XML or CBOR), which no SDK retries. A failure of the sandbox itself is a 500
``InternalFailure``, as AWS reports its own faults.
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any
from urllib.parse import parse_qs, urlencode
from xml.sax.saxutils import escape

import botocore.session
from botocore.exceptions import UnknownServiceError
from botocore.model import ServiceModel
from flask import Flask
from flask import request as flask_request
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Response

from sandbox.aws import in_process

log = logging.getLogger("sandbox.endpoint")

#: moto backends the endpoint serves: the services the program's resources live in, plus STS
#: (who am I) and moto's own API. Every other service answers :class:`NotEmulated`.
SERVED_BACKENDS = frozenset(
    {"awslambda", "cloudwatch", "dynamodb", "events", "iam", "kms", "logs", "sns", "sqs", "stepfunctions", "sts"}
    | {"moto_api", "moto_api._internal"}
)
NOT_EMULATED_CODE = "NotImplemented"
NOT_EMULATED_STATUS = 501
#: Signing names whose botocore model has another name.
_MODEL_NAMES = {"states": "stepfunctions", "monitoring": "cloudwatch", "email": "ses", "execute-api": "apigateway"}


class NotEmulated(Exception):  # noqa: N818 (named after what the client is told, like AWS's errors)
    """The sandbox does not emulate this request; ``reason`` says what it does instead."""

    def __init__(self, reason: str) -> None:
        """A refusal explained by ``reason`` (the operation is named from the request)."""
        super().__init__(reason)
        self.reason = reason


# --- naming the operation a request calls ------------------------------------------------------
@cache
def _service_model(signing_name: str) -> ServiceModel | None:
    session = botocore.session.get_session()
    try:
        return session.get_service_model(_MODEL_NAMES.get(signing_name, signing_name))
    except UnknownServiceError:
        return None


def signing_name(environ: dict[str, Any]) -> str | None:
    """The service a SigV4-signed request is for (``lambda``, ``states``, ...), from its credential scope."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = re.search(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request", auth)
    return match.group(1) if match else None


@cache
def _rest_routes(model: ServiceModel) -> tuple[tuple[str, re.Pattern[str], tuple[str, ...], int, str], ...]:
    """``(method, path regex, required query keys, specificity, operation)`` for a REST protocol."""
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        path, _, query = http.get("requestUri", "/").partition("?")
        pattern = ""
        literal = 0
        for piece in re.split(r"(\{[^}]+\})", path):
            if piece.startswith("{"):
                pattern += ".+" if piece.endswith("+}") else "[^/]+"
            else:
                pattern += re.escape(piece)
                literal += len(piece)
        # ``x-id`` only names the operation in the model; SDKs do not always send it.
        keys = tuple(key for part in query.split("&") if part and (key := part.split("=")[0]) != "x-id")
        routes.append((http.get("method", "POST"), re.compile(pattern + "/?"), keys, literal, name))
    return tuple(routes)


def operation_name(environ: dict[str, Any], body: bytes) -> tuple[str, str | None]:
    """``(service, operation)`` a request calls, as the client's SDK names them (operation if known)."""
    service = signing_name(environ) or "unknown service"
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return service, target.rsplit(".", 1)[-1]
    path = environ.get("PATH_INFO", "/")
    if _speaks_cbor(environ):
        return service, path.rstrip("/").rsplit("/", 1)[-1]
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query:
        return service, query["Action"][0]
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
        if action:
            return service, action[0]
    model = _service_model(service)
    if model is None or model.metadata.get("protocol") not in ("rest-json", "rest-xml"):
        return service, None
    method = environ.get("REQUEST_METHOD", "GET")
    matches = sorted(
        ((specificity, len(keys)), name)
        for verb, pattern, keys, specificity, name in _rest_routes(model)
        if verb == method and pattern.fullmatch(path) and all(key in query for key in keys)
    )
    if not matches or (len(matches) > 1 and matches[-1][0] == matches[-2][0]):
        return service, None  # no route, or two equally specific ones: name none rather than guess
    return service, matches[-1][1]


# --- rendering an error as the client's protocol expects it --------------------------------------
def _speaks_cbor(environ: dict[str, Any]) -> bool:
    return "cbor" in environ.get("HTTP_SMITHY_PROTOCOL", "") or "cbor" in environ.get("CONTENT_TYPE", "")


def _speaks_xml(environ: dict[str, Any]) -> bool:
    if environ.get("HTTP_X_AMZ_TARGET") or "json" in environ.get("CONTENT_TYPE", ""):
        return False
    model = _service_model(signing_name(environ) or "")
    if model is not None:
        return model.metadata.get("protocol") in ("query", "ec2", "rest-xml")
    return environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded")


def _cbor_text(text: str) -> bytes:
    data = text.encode()
    size = len(data)
    if size < 24:
        head = bytes([0x60 | size])
    elif size < 0x100:
        head = bytes([0x78, size])
    elif size < 0x10000:
        head = bytes([0x79]) + size.to_bytes(2, "big")
    else:
        head = bytes([0x7A]) + size.to_bytes(4, "big")
    return head + data


def error_response(environ: dict[str, Any], code: str, message: str, status: int) -> Response:
    """An AWS error response in the protocol of the request (JSON, XML or CBOR)."""
    request_id = str(uuid.uuid4())
    headers = {"x-amzn-RequestId": request_id, "x-amzn-ErrorType": code}
    if _speaks_cbor(environ):
        body = b"\xa2" + _cbor_text("__type") + _cbor_text(code) + _cbor_text("message") + _cbor_text(message)
        headers.update({"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"})
        return Response(body, status=status, headers=headers)
    if _speaks_xml(environ):
        xml = (
            "<ErrorResponse><Error><Type>Sender</Type>"
            f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        headers["Content-Type"] = "text/xml"
        return Response(xml, status=status, headers=headers)
    headers["Content-Type"] = "application/x-amz-json-1.1"
    return Response(json.dumps({"__type": code, "message": message}), status=status, headers=headers)


def not_emulated_response(environ: dict[str, Any], body: bytes, reason: str) -> Response:
    """The 501 ``NotImplemented`` answer, naming the service and operation of the request."""
    service, operation = operation_name(environ, body)
    service = _MODEL_NAMES.get(service, service)
    called = (
        f"{service} {operation}"
        if operation
        else f"{service} {environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"
    )
    return error_response(
        environ,
        NOT_EMULATED_CODE,
        f"The sandbox does not emulate {called}: {reason}",
        NOT_EMULATED_STATUS,
    )


# --- the WSGI application and its server ----------------------------------------------------------
def _handle(error: Exception) -> Any:
    """Flask error handler of every served backend: no HTML page, no bare 500 ever reaches a client."""
    environ = flask_request.environ
    # A form body (query protocol) may have been parsed already, which empties the raw data.
    body = flask_request.get_data(cache=True) or urlencode(flask_request.form).encode()
    if isinstance(error, NotEmulated):
        return not_emulated_response(environ, body, error.reason)
    if isinstance(error, NotImplementedError):
        detail = str(error)
        reason = "moto, the sandbox's AWS, does not implement it"
        if detail and "has not been implemented" not in detail:
            reason += f" ({detail})"
        return not_emulated_response(environ, body, reason)
    if isinstance(error, (NotFound, MethodNotAllowed)):
        return not_emulated_response(environ, body, "the sandbox's AWS does not implement this API")
    if isinstance(error, HTTPException):
        return error
    service, operation = operation_name(environ, body)
    log.exception("the sandbox's AWS failed on %s %s", service, operation)
    return error_response(
        environ, "InternalFailure", f"The sandbox failed on {service} {operation}: {error!r}", status=500
    )


def _refuse_service(backend: str) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        reason = (
            f"the sandbox creates only the program's DynamoDB, EventBridge, Lambda, Step Functions, SQS, "
            f"SNS, CloudWatch, CloudWatch Logs, KMS and IAM resources (and answers the reads of its REST API "
            f"and schema registry), so it does not serve {backend}"
        )
        response: Response = not_emulated_response(environ, body, reason)
        return response(environ, start_response)

    return app


@cache
def create_app(backend: str) -> Any:
    """The app serving ``backend``: moto's, with the sandbox's error handling, or a refusal.

    One per backend and process: an app holds only its routes (moto's state is in its backends),
    so a restarted endpoint serves the same apps instead of building their URL maps again.
    """
    if backend not in SERVED_BACKENDS:
        return _refuse_service(backend)
    app: Flask = create_backend_app(backend)  # pyrefly: ignore[bad-argument-type]
    app.register_error_handler(Exception, _handle)
    return app


#: Answers a request before moto does (``None``: moto answers); gets the WSGI environ and the body.
Intercept = Callable[[dict[str, Any], bytes], "Response | None"]


def _intercepting(app: Any, intercept: Intercept) -> Callable[..., Any]:
    """``app`` behind ``intercept``, the request body kept for whichever answers."""

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        response = intercept(environ, body)
        return app(environ, start_response) if response is None else response(environ, start_response)

    return serve


class EndpointServer:
    """The endpoint on ``host:port`` (0 picks a free port), served by daemon threads."""

    def __init__(self, host: str, port: int, intercept: Intercept | None = None) -> None:
        """Bind now (so a taken port fails here), serve on :meth:`start`; ``intercept`` answers first."""
        app: Any = DomainDispatcherApplication(create_app)
        if intercept is not None:
            app = _intercepting(app, intercept)
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="sandbox-aws", daemon=True)

    @property
    def port(self) -> int:
        """The port it listens on."""
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """``http://host:port``."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        """Serve until :meth:`stop`: other processes over HTTP, this one's botocore calls in-process."""
        self._thread.start()
        in_process.serve(self.url, self._server.app)

    def stop(self) -> None:
        """Stop serving and close the listening socket (the port is free again at once)."""
        in_process.stop_serving(self.url)
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()
