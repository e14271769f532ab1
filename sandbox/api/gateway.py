"""Serve the program's REST API locally, like ``sam local start-api``.

Routes, request validation, gateway responses and integrations are read from the program's API
Gateway resources (as one :class:`~components.rest_api.RestApiSpec`, the description the program
builds them from): a method's request validator checks the body against the model declared for
the request's content type (falling back to ``$default``, as API Gateway does), then the
integrated function runs in-process with an API Gateway proxy event and its response is returned
as is. Whatever API Gateway answers itself (no such route, a refused body, a missing key...) is
rendered from the program's gateway responses as API Gateway renders them
(:mod:`sandbox.api.gateway_responses`); the HTTP side is :mod:`sandbox.api.http_front`.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from http.server import ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

from jsonschema.protocols import Validator

from components.rest_api import (
    GatewayResponseSpec,
    IntegrationSpec,
    MethodSpec,
    ModelSpec,
    RestApiSpec,
    ValidatorSpec,
)
from sandbox.api.access_log import AccessLog
from sandbox.api.execution_log import ExecutionLog
from sandbox.api.gateway_responses import (
    DeclaredResponse,
    GatewayError,
    RequestContext,
    TemplateError,
    check_response,
    render_response,
)
from sandbox.api.http_front import Answer, handler_class
from sandbox.api.proxy_event import RequestHeaders, Resource, proxy_event
from sandbox.api.request_validation import body_problem, model_validator
from sandbox.functions import logs as function_logs
from sandbox.program.evaluation import Program

log = logging.getLogger("sandbox.api")
_NO_ROUTE = GatewayError("MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")
_INVOKE_ARN = re.compile(r"functions/(arn:aws[a-z-]*:lambda:[^/]+)/invocations$")
#: Lambda's limit on a synchronous invocation's request (6 MiB): API Gateway's 10 MB body limit is looser.
LAMBDA_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024
#: Lambda's default timeout, for a route whose function the program does not declare.
DEFAULT_FUNCTION_TIMEOUT_SECONDS = 3.0
#: The longest validation detail the log repeats (a body can hold a number of millions of digits).
_LOGGED_DETAIL = 2000


class FunctionTimeoutError(Exception):
    """The function ran longer than its configured timeout (Lambda ends the run)."""


class Invoker(Protocol):
    """Runs a function by ARN (the sandbox's ``FunctionRuntime``)."""

    def invoke(self, arn: str, event: dict[str, Any]) -> Any:
        """The function's result for ``event``."""
        ...


@dataclass
class Route:
    """One method of one resource path, as the program declares it."""

    method: str
    path: str
    pattern: re.Pattern[str]
    function_arn: str
    validate_body: bool
    validators: dict[str, Validator]
    #: ``NONE`` or ``AWS_IAM`` (the method's ``authorization``).
    authorization: str = "NONE"
    api_key_required: bool = False

    def validator_for(self, content_type: str) -> Validator | None:
        """The model API Gateway applies to this content type (``$default`` otherwise)."""
        media_type = content_type.split(";")[0].strip().lower()
        return self.validators.get(media_type) or self.validators.get("$default")


def _resource_paths(program: Program) -> Callable[[str], tuple[str, ...]]:
    """Resolves an API resource ID to its path parts under the root (refusing anything but a tree)."""
    roots = {api["rootResourceId"] for api in program.of_type("aws:apigateway/restApi:RestApi")}
    resources = {r.id: r for r in program.of_type("aws:apigateway/resource:Resource")}

    def path_of(resource_id: str, seen: tuple[str, ...] = ()) -> tuple[str, ...]:
        if resource_id in roots:
            return ()
        if resource_id not in resources or resource_id in seen:
            raise ValueError("API resources do not form a tree under the root")
        resource = resources[resource_id]
        return (*path_of(resource["parentId"], (*seen, resource_id)), resource["pathPart"])

    return path_of


def resource_ids(program: Program) -> dict[str, str]:
    """Each API resource's ID (``requestContext.resourceId``) by its path (``/order/{id}``)."""
    path_of = _resource_paths(program)
    ids = {"/" + "/".join(path_of(r.id)): r.id for r in program.of_type("aws:apigateway/resource:Resource")}
    for api in program.of_type("aws:apigateway/restApi:RestApi"):
        ids["/"] = api["rootResourceId"]
    return ids


def _declared_validators(program: Program) -> list[tuple[str, ValidatorSpec]]:
    """``(physical ID, spec)`` of every request validator."""
    return [
        (
            v.id,
            ValidatorSpec(
                label=v.name,
                name=v["name"],
                validate_body=bool(v.get("validateRequestBody")),
                validate_parameters=bool(v.get("validateRequestParameters")),
            ),
        )
        for v in program.of_type("aws:apigateway/requestValidator:RequestValidator")
    ]


def _declared_methods(program: Program, validator_names: Mapping[str, str]) -> list[MethodSpec]:
    """Every method with its path and integration."""
    path_of = _resource_paths(program)
    integrations = {
        (i["resourceId"], i["httpMethod"]): i for i in program.of_type("aws:apigateway/integration:Integration")
    }
    methods = []
    for m in program.of_type("aws:apigateway/method:Method"):
        integration = integrations[(m["resourceId"], m["httpMethod"])]
        methods.append(
            MethodSpec(
                label=m.name,
                path=path_of(m["resourceId"]),
                http_method=m["httpMethod"],
                authorization=m.get("authorization", "NONE"),
                api_key_required=bool(m.get("apiKeyRequired")),
                integration=IntegrationSpec(
                    integration.get("type", ""), integration.get("integrationHttpMethod", ""), integration["uri"]
                ),
                request_models=dict(m.get("requestModels") or {}),
                request_parameters=dict(m.get("requestParameters") or {}),
                validator=validator_names.get(m.get("requestValidatorId", "")),
            )
        )
    return methods


def declared_api(program: Program) -> RestApiSpec:
    """The program's REST API, read back from what it declared, as the spec it was built from."""
    validators = _declared_validators(program)
    return RestApiSpec(
        models=[
            ModelSpec(label=m.name, name=m["name"], content_type=m.get("contentType", ""), schema=m["schema"])
            for m in program.of_type("aws:apigateway/model:Model")
        ],
        validators=[spec for _, spec in validators],
        gateway_responses=[
            GatewayResponseSpec(
                response_type=r["responseType"],
                templates=dict(r.get("responseTemplates") or {}),
                status_code=r.get("statusCode") or None,
                parameters=dict(r.get("responseParameters") or {}),
            )
            for r in program.of_type("aws:apigateway/response:Response")
        ],
        methods=_declared_methods(program, {vid: spec.name for vid, spec in validators}),
    )


def api_url_outputs(program: Program) -> list[str]:
    """The program's outputs whose value is the invoke URL of a declared API stage (the sandbox serves it locally)."""
    invoke_urls = {stage.get("invokeUrl") for stage in program.of_type("aws:apigateway/stage:Stage")}
    return [name for name, value in program.outputs.items() if value in invoke_urls]


def routes_of(spec: RestApiSpec) -> list[Route]:
    """Every method of ``spec`` as a route the server matches requests against."""
    models = {m.name: model_validator(m.schema) for m in spec.models}
    validators = {v.name: v for v in spec.validators}
    routes = []
    for method in spec.methods:
        uri = str(method.integration.uri)
        match = _INVOKE_ARN.search(uri)
        if method.integration.type != "AWS_PROXY" or match is None:
            raise ValueError(f"the sandbox serves Lambda proxy integrations only, not {uri}")
        path = "/" + "/".join(method.path)
        regex = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$"
        validator = validators.get(method.validator) if method.validator else None
        routes.append(
            Route(
                method=method.http_method,
                path=path,
                pattern=re.compile(regex),
                function_arn=match.group(1),
                validate_body=bool(validator and validator.validate_body),
                authorization=method.authorization,
                api_key_required=method.api_key_required,
                validators={ct: models[name] for ct, name in method.request_models.items()},
            )
        )
    return routes


def declared_routes(program: Program) -> list[Route]:
    """Every method of the program's REST API, with its path, validation and integrated function."""
    return routes_of(declared_api(program))


def declared_gateway_responses(program: Program) -> dict[str, DeclaredResponse]:
    """The program's gateway responses by response type (``BAD_REQUEST_BODY``, ...)."""
    return {
        r.response_type: DeclaredResponse(r.response_type, r.templates, r.status_code, r.parameters)
        for r in declared_api(program).gateway_responses
    }


class RequestObserver(Protocol):
    """What the API tells an observer (the console's recorder) of each request: defined here, as it reads it."""

    def api_request(
        self, method: str, path: str, resource: str | None, status: int, body: bytes, answer: bytes, seconds: float
    ) -> None:
        """``resource``: the route's path, ``None`` when no route matched."""


class ApiServer:
    """A threaded HTTP server in front of the program's functions."""

    #: The console's recorder while it runs: told of every request and its answer.
    observer: RequestObserver | None = None

    def __init__(self, program: Program, functions: Invoker, host: str, port: int) -> None:
        """Bind ``host:port`` (raises OSError when the port is taken).

        Raises :class:`~sandbox.gateway_responses.TemplateError` if a gateway response uses
        anything the sandbox cannot render the way API Gateway would.
        """
        spec = declared_api(program)
        self.routes = routes_of(spec)
        #: Each function's timeout: Lambda ends a run that takes longer, and API Gateway answers 502.
        self.function_timeouts = {
            fn["arn"]: float(fn.get("timeout", 3)) for fn in program.of_type("aws:lambda/function:Function")
        }
        self.gateway_responses = declared_gateway_responses(program)
        stages = program.of_type("aws:apigateway/stage:Stage")
        self.stage = stages[0]["stageName"] if stages else ""
        self.stage_variables: dict[str, str] = dict((stages[0].get("variables") or {}) if stages else {})
        for response in self.gateway_responses.values():
            check_response(response, self.stage_variables)
        #: The stage's access log (None if it has none); what is being answered, per thread.
        self.access_log = AccessLog.of_stage(stages[0] if stages else None, self.stage_variables)
        self._answering = threading.local()
        apis = program.of_type("aws:apigateway/restApi:RestApi")
        self.api_id = apis[0].id if apis else ""
        #: The stage's execution log (None unless its method settings turn it on).
        self.execution_log = ExecutionLog.of_stage(program, self.api_id, self.stage)
        self.account_id = program.account_id
        #: The declared API keys' IDs by value.
        self.api_key_ids = {k["value"]: k.id for k in program.of_type("aws:apigateway/apiKey:ApiKey") if k.get("value")}
        self.api_keys = set(self.api_key_ids)
        self.resource_ids = resource_ids(program)
        self.deployment_id: str | None = stages[0].get("deployment") if stages else None
        self.functions = functions
        self.httpd = ThreadingHTTPServer((host, port), handler_class(self))
        self.httpd.daemon_threads = True

    @property
    def port(self) -> int:
        """The port the API listens on."""
        return self.httpd.server_address[1]

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
        self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes, client_ip: str = "127.0.0.1"
    ) -> Answer:
        """Answer one request as API Gateway would, and write its access log line.

        ``headers`` as the client sent them (a :class:`~sandbox.proxy_event.RequestHeaders`; any
        other mapping is taken as one value per name); every lookup ignores the names' case.
        """
        if not isinstance(headers, RequestHeaders):
            headers = RequestHeaders(headers.items())
        self._answering.request, self._answering.error = None, None
        started = time.monotonic()
        answer = self._route(method, raw_path, headers, body, client_ip)
        request: RequestContext | None = self._answering.request
        if self.observer is not None:
            resource = request.resource_path if request is not None else None
            seconds = time.monotonic() - started
            self.observer.api_request(method, raw_path, resource, answer[0], body, answer[2], seconds)
        if self.access_log is not None and request is not None:
            status, _, answer_body = answer
            line = self.access_log.line(request, status, answer_body, self._answering.error)
            function_logs.put_lines(self.access_log.log_group, [line])
        return answer

    def _route(self, method: str, raw_path: str, headers: RequestHeaders, body: bytes, client_ip: str) -> Answer:
        """Route one request: validate as API Gateway would, then invoke the function."""
        split = urlsplit(raw_path)
        path = split.path.rstrip("/") or "/"
        if self.stage and path.startswith(f"/{self.stage}/"):
            path = path[len(self.stage) + 1 :]
        request = self._answering.request = self._request_context(method, path, headers, client_ip)
        route_match = next(((r, m) for r in self.routes if r.method == method and (m := r.pattern.match(path))), None)
        if route_match is None:
            # API Gateway's answer to any method or path it does not have.
            return self._gateway_error(_NO_ROUTE, request)
        route, match = route_match
        request = self._answering.request = replace(request, resource_path=route.path)
        refusal = self._authorize(route, headers, request) or self._validate_body(route, path, headers, body, request)
        if refusal is not None:
            return refusal
        event = self._proxy_event(route, match.groupdict(), split, headers, body, request)
        return self._integrate(route, path, event, request)

    def _request_context(self, method: str, path: str, headers: Mapping[str, str], client_ip: str) -> RequestContext:
        """What API Gateway knows of a request before routing it."""
        return RequestContext(
            request_id=str(uuid.uuid4()),
            api_id=self.api_id,
            account_id=self.account_id,
            stage=self.stage,
            http_method=method,
            path=f"/{self.stage}{path}" if self.stage else path,
            domain_name=headers.get("host", ""),
            source_ip=client_ip,
            user_agent=headers.get("user-agent", ""),
        )

    def _validate_body(
        self, route: Route, path: str, headers: Mapping[str, str], body: bytes, request: RequestContext
    ) -> Answer | None:
        """The 400 BAD_REQUEST_BODY answer when the route's validator refuses the body, else ``None``."""
        if not route.validate_body:
            return None
        validator = route.validator_for(headers.get("content-type", ""))
        problem = body_problem(validator, body) if validator is not None else None
        if problem is None:
            return None
        log.warning(
            "%s %s refused (400 BAD_REQUEST_BODY, requestId %s): %s",
            request.http_method,
            path,
            request.request_id,
            problem[:_LOGGED_DETAIL],
        )
        if self.execution_log is not None:
            self.execution_log.refused_body(request, headers.get("content-type", ""), problem)
        refused = GatewayError("BAD_REQUEST_BODY", "Invalid request body", validation_error=problem)
        return self._gateway_error(refused, request)

    def _integrate(self, route: Route, path: str, event: dict[str, Any], request: RequestContext) -> Answer:
        """Invoke the route's function with the proxy event and answer as API Gateway does."""
        method = request.http_method
        size = len(json.dumps(event).encode())
        if size > LAMBDA_SYNC_PAYLOAD_BYTES:
            # Lambda refuses the invocation itself; API Gateway's execution log says why, the client
            # gets its generic 5xx.
            log.warning(
                "%s %s: Execution failed: %d byte payload is too large for the RequestResponse invocation type "
                "(limit %d bytes)",
                method,
                path,
                size,
                LAMBDA_SYNC_PAYLOAD_BYTES,
            )
            return self._gateway_error(GatewayError("DEFAULT_5XX", "Internal server error", 500), request)
        try:
            response = self._invoke_within_timeout(route.function_arn, event)
            return _proxy_answer(response)
        except Exception:
            # A function error, a timeout or a malformed proxy response: API Gateway answers 502.
            log.exception("%s %s: the function failed or answered something API Gateway would refuse", method, path)
            return self._gateway_error(GatewayError("INTEGRATION_FAILURE", "Internal server error", 502), request)

    def _invoke_within_timeout(self, arn: str, event: dict[str, Any]) -> Any:
        """The function's result, or :class:`FunctionTimeoutError` once its configured timeout passes.

        The handler cannot be stopped in-process: a timed-out run finishes on its daemon thread,
        as a Lambda sandbox would be torn down, while the client already has its answer.
        """
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["result"] = self.functions.invoke(arn, event)
            except BaseException as error:  # handed to the request thread below
                outcome["error"] = error

        worker = threading.Thread(target=run, name="sandbox-api-invoke", daemon=True)
        worker.start()
        timeout = self.function_timeouts.get(arn, DEFAULT_FUNCTION_TIMEOUT_SECONDS)
        worker.join(timeout)
        if worker.is_alive():
            raise FunctionTimeoutError(f"{arn}: Task timed out after {timeout:.2f} seconds")
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("result")

    def refuse(self, response_type: str, status: int, message: str) -> Answer:
        """API Gateway's answer to a request refused before routing (malformed HTTP, too large...)."""
        return self._gateway_error(GatewayError(response_type, message, status), RequestContext(str(uuid.uuid4())))

    def _authorize(self, route: Route, headers: Mapping[str, str], request: RequestContext) -> Answer | None:
        """API Gateway's checks before validation: an API key, or a SigV4-signed request.

        The key must be one the program declares; a signature is required but not verified
        (the sandbox has no IAM).
        """
        if route.api_key_required and headers.get("x-api-key") not in self.api_keys:
            return self._gateway_error(GatewayError("INVALID_API_KEY", "Forbidden"), request)
        if route.authorization == "AWS_IAM" and not headers.get("authorization", "").startswith("AWS4-HMAC-SHA256 "):
            return self._gateway_error(_NO_ROUTE, request)
        return None

    def _gateway_error(self, error: GatewayError, request: RequestContext) -> Answer:
        """API Gateway's own error, rendered from the program's gateway responses as AWS renders them."""
        self._answering.error = error
        try:
            return render_response(self.gateway_responses, error, request, self.stage_variables)
        except TemplateError:
            # Checked at start; a failure here is a bug of the sandbox, answered as API Gateway's 500.
            log.exception("gateway response %s could not be rendered", error.response_type)
            return render_response({}, GatewayError("DEFAULT_5XX", "Internal server error"), request)

    def _proxy_event(
        self,
        route: Route,
        params: dict[str, str],
        split: Any,
        headers: RequestHeaders,
        body: bytes,
        request: RequestContext,
    ) -> dict[str, Any]:
        key = headers.get("x-api-key") if route.api_key_required else None
        resource = Resource(
            path=route.path,
            resource_id=self.resource_ids.get(route.path, ""),
            deployment_id=self.deployment_id,
            api_key=(key, self.api_key_ids[key]) if key is not None and key in self.api_key_ids else None,
        )
        return proxy_event(
            resource,
            request,
            split,
            headers,
            body,
            path_parameters=params,
            stage_variables=self.stage_variables,
            port=self.port,
        )


def _proxy_answer(response: Any) -> Answer:
    """The HTTP answer of a Lambda proxy integration result; ``ValueError`` if API Gateway would refuse it."""
    if not isinstance(response, Mapping):
        raise ValueError(f"a proxy integration must return an object, not {type(response).__name__}")
    status = int(response.get("statusCode", 200))
    if not 200 <= status <= 599:
        raise ValueError(f"statusCode {status} is not a final HTTP status")
    out_headers = {str(k): str(v) for k, v in (response.get("headers") or {}).items()}
    payload = response.get("body") or ""
    if not isinstance(payload, str):
        raise ValueError("a proxy integration's body must be a string")
    data = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode()
    return status, out_headers, data
