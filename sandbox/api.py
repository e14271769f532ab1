"""Serve the program's REST API locally, like ``sam local start-api``.

Routes, request validation and integrations are read from the program's API Gateway resources:
a method's request validator checks the body against the model declared for the request's
content type (falling back to ``$default``, as API Gateway does), then the integrated function
runs in-process with an API Gateway proxy event and its response is returned as is.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jsonschema import Draft4Validator

from sandbox.functions import FunctionRuntime
from sandbox.program import Program

log = logging.getLogger("sandbox.api")
_INVOKE_ARN = re.compile(r"functions/(arn:aws:lambda:[^/]+)/invocations$")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


@dataclass
class Route:
    """One method of one resource path, as the program declares it."""

    method: str
    path: str
    pattern: re.Pattern[str]
    function_arn: str
    validate_body: bool
    validators: dict[str, Draft4Validator]
    #: ``NONE`` or ``AWS_IAM`` (the method's ``authorization``).
    authorization: str = "NONE"
    api_key_required: bool = False

    def validator_for(self, content_type: str) -> Draft4Validator | None:
        """The model API Gateway applies to this content type (``$default`` otherwise)."""
        media_type = content_type.split(";")[0].strip().lower()
        return self.validators.get(media_type) or self.validators.get("$default")


def declared_routes(program: Program) -> list[Route]:
    """Every method of the program's REST API, with its path, validation and integrated function."""
    apis = program.of_type("aws:apigateway/restApi:RestApi")
    paths: dict[str, str] = {api["rootResourceId"]: "" for api in apis}
    resources = program.of_type("aws:apigateway/resource:Resource")
    while len(paths) < len(resources) + len(apis):
        progressed = False
        for res in resources:
            if res.id not in paths and res["parentId"] in paths:
                paths[res.id] = f"{paths[res['parentId']]}/{res['pathPart']}"
                progressed = True
        if not progressed:
            raise ValueError("API resources do not form a tree under the root")
    models = {
        m["name"]: Draft4Validator(json.loads(m["schema"], parse_float=Decimal))
        for m in program.of_type("aws:apigateway/model:Model")
    }
    validators = {v.id: v for v in program.of_type("aws:apigateway/requestValidator:RequestValidator")}
    integrations = {
        (i["resourceId"], i["httpMethod"]): i for i in program.of_type("aws:apigateway/integration:Integration")
    }
    routes = []
    for method in program.of_type("aws:apigateway/method:Method"):
        path = paths[method["resourceId"]] or "/"
        integration = integrations[(method["resourceId"], method["httpMethod"])]
        match = _INVOKE_ARN.search(integration["uri"])
        if integration.get("type") != "AWS_PROXY" or match is None:
            raise ValueError(f"the sandbox serves Lambda proxy integrations only, not {integration['uri']}")
        validator = validators.get(method.get("requestValidatorId", ""))
        regex = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$"
        routes.append(
            Route(
                method=method["httpMethod"],
                path=path,
                pattern=re.compile(regex),
                function_arn=match.group(1),
                validate_body=bool(validator and validator.get("validateRequestBody")),
                authorization=method.get("authorization", "NONE"),
                api_key_required=bool(method.get("apiKeyRequired")),
                validators={ct: models[name] for ct, name in (method.get("requestModels") or {}).items()},
            )
        )
    return routes


def declared_gateway_responses(program: Program) -> dict[str, str]:
    """The program's gateway response templates by response type (``BAD_REQUEST_BODY``, ...)."""
    return {
        r["responseType"]: (r.get("responseTemplates") or {}).get("application/json", "")
        for r in program.of_type("aws:apigateway/response:Response")
    }


class ApiServer:
    """A threaded HTTP server in front of the program's functions."""

    def __init__(self, program: Program, functions: FunctionRuntime, host: str, port: int) -> None:
        """Bind ``host:port`` (raises OSError when the port is taken)."""
        self.routes = declared_routes(program)
        self.gateway_responses = declared_gateway_responses(program)
        self.api_keys = {k["value"] for k in program.of_type("aws:apigateway/apiKey:ApiKey") if k.get("value")}
        self.functions = functions
        stage = program.of_type("aws:apigateway/stage:Stage")
        self.stage = stage[0]["stageName"] if stage else ""
        self.httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self.httpd.daemon_threads = True

    @property
    def url(self) -> str:
        """Base URL (``$url/order`` is the order endpoint)."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def serve_forever(self) -> None:
        """Serve until :meth:`shutdown`."""
        self.httpd.serve_forever(poll_interval=0.1)

    def shutdown(self) -> None:
        """Stop serving and close the socket."""
        self.httpd.shutdown()
        self.httpd.server_close()

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Route one request: validate as API Gateway would, then invoke the function."""
        split = urlsplit(raw_path)
        path = split.path.rstrip("/") or "/"
        if self.stage and path.startswith(f"/{self.stage}/"):
            path = path[len(self.stage) + 1 :]
        route_match = next(((r, m) for r in self.routes if r.method == method and (m := r.pattern.match(path))), None)
        if route_match is None:
            # API Gateway's answer to any route it does not have.
            return self._gateway_error("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token")
        route, match = route_match
        refusal = self._authorize(route, headers)
        if refusal is not None:
            return refusal
        if route.validate_body:
            validator = route.validator_for(headers.get("content-type", ""))
            problem = _body_problem(validator, body) if validator is not None else None
            if problem is not None:
                return self._gateway_error("BAD_REQUEST_BODY", 400, "Invalid request body", problem)
        event = self._proxy_event(route, match.groupdict(), method, split.path, split.query, headers, body)
        try:
            response = self.functions.invoke(route.function_arn, event)
        except Exception:
            log.exception("%s %s: the function failed", method, path)
            return self._gateway_error("INTEGRATION_FAILURE", 502, "Internal server error")
        status = int(response.get("statusCode", 200))
        out_headers = {k: str(v) for k, v in (response.get("headers") or {}).items()}
        payload = response.get("body") or ""
        data = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode()
        return status, out_headers, data

    def _authorize(self, route: Route, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes] | None:
        """API Gateway's checks before validation: an API key, or a SigV4-signed request.

        The key must be one the program declares; a signature is required but not verified
        (the sandbox has no IAM).
        """
        if route.api_key_required and headers.get("x-api-key") not in self.api_keys:
            return self._gateway_error("INVALID_API_KEY", 403, "Forbidden")
        if route.authorization == "AWS_IAM" and not headers.get("authorization", "").startswith("AWS4-HMAC-SHA256 "):
            return self._gateway_error("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token")
        return None

    def _gateway_error(
        self, response_type: str, status: int, message: str, validation: str = ""
    ) -> tuple[int, dict[str, str], bytes]:
        """API Gateway's own error, rendered from the program's gateway response if it has one."""
        default = "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
        template = self.gateway_responses.get(response_type) or self.gateway_responses.get(default)
        if not template:
            return _json(status, {"message": message})
        body = template.replace("$context.error.validationErrorString", _json_fragment(validation)).replace(
            "$context.error.messageString", _json_fragment(message)
        )
        return status, {"Content-Type": "application/json"}, body.encode()

    def _proxy_event(
        self,
        route: Route,
        params: dict[str, str],
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
    ) -> dict[str, Any]:
        text = body.decode("utf-8", errors="replace") if body else None
        multi_query = parse_qs(query) if query else None
        return {
            "resource": route.path,
            "path": path,
            "httpMethod": method,
            "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} if multi_query else None,
            "multiValueQueryStringParameters": multi_query,
            "pathParameters": params or None,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": route.path,
                "httpMethod": method,
                "path": f"/{self.stage}{path}",
                "stage": self.stage,
                "requestId": str(uuid.uuid4()),
                "requestTimeEpoch": int(time.time() * 1000),
                "identity": {"sourceIp": "127.0.0.1"},
            },
            "body": text,
            "isBase64Encoded": False,
        }

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, out_headers, data = server.handle(self.command, self.path, headers, body)
                self.send_response(status)
                for key, value in out_headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("%s " + format, self.address_string(), *args)

        return Handler


def _body_problem(validator: Draft4Validator, body: bytes) -> str | None:
    """Why API Gateway would refuse this body (``None``: it passes the model)."""
    try:
        document = json.loads(body.decode("utf-8"), parse_float=Decimal, parse_constant=_reject_constant)
    except ValueError as error:
        return f"[Invalid JSON: {error}]"
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    return "[" + ", ".join(e.message for e in errors) + "]"


def _json_fragment(text: str) -> str:
    """``text`` escaped to sit inside a JSON string literal of a template."""
    return json.dumps(text)[1:-1]


def _json(status: int, payload: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()
