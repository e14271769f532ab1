"""API Gateway's own answers (gateway responses), rendered exactly as API Gateway renders them.

A gateway response template is not Velocity: API Gateway only substitutes ``$context.*`` and
``$stageVariables.*`` references in it, and it substitutes them as follows (AWS API Gateway
developer guide, "Gateway responses" and the ``$context`` variable reference):

- ``$context.error.message``: the bare message (``Missing Authentication Token``);
- ``$context.error.messageString``: the same message already quoted as a JSON string
  (``"Missing Authentication Token"``, quotes included); AWS's own default template is
  ``{"message":$context.error.messageString}``, unquoted;
- ``$context.error.responseType``: the bare type (``MISSING_AUTHENTICATION_TOKEN``);
- ``$context.error.validationErrorString``: the request validator's detail as it wrote it,
  neither quoted nor escaped. Its messages carry double quotes (``object has missing required
  properties (["amount"])``), so no template that embeds it is JSON for every request;
- every other ``$context`` variable: its bare value.

The sandbox models a fixed set of variables (:data:`CONTEXT_VARIABLES`); a template that uses any
other is refused when the API server starts (:func:`check_response`), so nothing the sandbox
cannot render the AWS way ever reaches a client. Everything here is pure.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

#: Status each response type answers with unless its gateway response sets one (AWS's table of
#: gateway response types; ``DEFAULT_4XX`` and ``DEFAULT_5XX`` have none of their own).
DEFAULT_STATUS: Mapping[str, int] = {
    "ACCESS_DENIED": 403,
    "API_CONFIGURATION_ERROR": 500,
    "AUTHORIZER_CONFIGURATION_ERROR": 500,
    "AUTHORIZER_FAILURE": 500,
    "BAD_REQUEST_PARAMETERS": 400,
    "BAD_REQUEST_BODY": 400,
    "EXPIRED_TOKEN": 403,
    "INTEGRATION_FAILURE": 504,
    "INTEGRATION_TIMEOUT": 504,
    "INVALID_API_KEY": 403,
    "INVALID_SIGNATURE": 403,
    "MISSING_AUTHENTICATION_TOKEN": 403,
    "QUOTA_EXCEEDED": 429,
    "REQUEST_TOO_LARGE": 413,
    "RESOURCE_NOT_FOUND": 404,
    "THROTTLED": 429,
    "UNAUTHORIZED": 401,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "WAF_FILTERED": 403,
}
DEFAULT_TYPES = ("DEFAULT_4XX", "DEFAULT_5XX")
#: What API Gateway answers when the API customises neither the type nor its DEFAULT_4XX/5XX.
AWS_DEFAULT_TEMPLATE = '{"message":$context.error.messageString}'
JSON = "application/json"

#: ``$context`` variables the sandbox renders (names without ``context.``).
CONTEXT_VARIABLES = frozenset(
    {
        "error.message",
        "error.messageString",
        "error.responseType",
        "error.validationErrorString",
        "requestId",
        "extendedRequestId",
        "apiId",
        "accountId",
        "stage",
        "resourcePath",
        "httpMethod",
        "path",
        "protocol",
        "domainName",
        "requestTime",
        "requestTimeEpoch",
        "identity.sourceIp",
        "identity.userAgent",
    }
)
_REFERENCE = re.compile(r"\$(context|stageVariables)((?:\.[A-Za-z0-9_]+)+)")
# Forms API Gateway does not substitute in gateway responses (or the sandbox does not model):
# formal ``${...}`` references and the mapping-template-only ``$input`` / ``$util`` / ``$method``.
_UNSUPPORTED = re.compile(r"\$(\{|input\b|util\b|method\b)")


class TemplateError(ValueError):
    """A gateway response the sandbox cannot render the way API Gateway would."""


@dataclass(frozen=True)
class GatewayError:
    """One error API Gateway answers itself."""

    response_type: str
    message: str
    #: The status API Gateway uses when no gateway response sets one (``None``: the type's own).
    status: int | None = None
    validation_error: str = ""

    @property
    def status_code(self) -> int:
        """The status before any gateway response customises it."""
        if self.status is not None:
            return self.status
        if self.response_type == "DEFAULT_5XX":
            return 500
        return DEFAULT_STATUS.get(self.response_type, 400)


@dataclass(frozen=True)
class RequestContext:
    """The ``$context`` of the request being answered (empty strings: not known for this request)."""

    request_id: str
    api_id: str = ""
    account_id: str = ""
    stage: str = ""
    resource_path: str = ""
    http_method: str = ""
    path: str = ""
    protocol: str = "HTTP/1.1"
    domain_name: str = ""
    source_ip: str = ""
    user_agent: str = ""
    epoch_ms: int = field(default_factory=lambda: int(time.time() * 1000))


@dataclass(frozen=True)
class DeclaredResponse:
    """A gateway response as the program declares it."""

    response_type: str
    templates: Mapping[str, str]
    status_code: str | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)


def template_references(template: str) -> list[str]:
    """Every ``$context.x`` / ``$stageVariables.x`` reference, as ``context.x`` / ``stageVariables.x``."""
    return [f"{root}{rest}" for root, rest in _REFERENCE.findall(template)]


def check_template(
    template: str,
    stage_variables: Mapping[str, str],
    context_names: frozenset[str] = CONTEXT_VARIABLES,
    what: str = "gateway response template",
) -> None:
    """Raise :class:`TemplateError` if ``template`` uses anything :func:`render_template` cannot render."""
    unsupported = _UNSUPPORTED.search(template)
    if unsupported:
        raise TemplateError(f"{what} uses {unsupported.group(0)!r}: not substituted here")
    for ref in template_references(template):
        root, _, name = ref.partition(".")
        known = context_names if root == "context" else set(stage_variables)
        if name not in known:
            raise TemplateError(f"{what} uses ${ref}, which the sandbox does not model")


def context_variables(error: GatewayError, request: RequestContext) -> dict[str, str]:
    """The values API Gateway substitutes for each ``$context`` variable, quoting included."""
    return {
        "error.message": error.message,
        "error.messageString": json.dumps(error.message),
        "error.responseType": error.response_type,
        "error.validationErrorString": error.validation_error,
        "requestId": request.request_id,
        "extendedRequestId": request.request_id,
        "apiId": request.api_id,
        "accountId": request.account_id,
        "stage": request.stage,
        "resourcePath": request.resource_path,
        "httpMethod": request.http_method,
        "path": request.path,
        "protocol": request.protocol,
        "domainName": request.domain_name,
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(request.epoch_ms / 1000)),
        "requestTimeEpoch": str(request.epoch_ms),
        "identity.sourceIp": request.source_ip,
        "identity.userAgent": request.user_agent,
    }


def render_template(
    template: str,
    context: Mapping[str, str],
    stage_variables: Mapping[str, str] | None = None,
    context_names: frozenset[str] = CONTEXT_VARIABLES,
) -> str:
    """``template`` with every reference replaced by its value, as API Gateway substitutes it.

    ``context`` maps ``$context`` names (``error.messageString``) to the exact text to insert
    (see :func:`context_variables`). An unknown reference raises :class:`TemplateError`.
    """
    check_template(template, stage_variables or {}, context_names)
    variables = stage_variables or {}

    def substitute(match: re.Match[str]) -> str:
        root, name = match.group(1), match.group(2)[1:]
        values = context if root == "context" else variables
        if name not in values:
            raise TemplateError(f"no value for ${root}.{name}")
        return values[name]

    return _REFERENCE.sub(substitute, template)


def select_response(responses: Mapping[str, DeclaredResponse], error: GatewayError) -> tuple[int, DeclaredResponse]:
    """The gateway response API Gateway uses for ``error``, and the status it answers with.

    The type's own response if declared, else DEFAULT_5XX or DEFAULT_4XX (by the error's status),
    else AWS's default ``{"message":$context.error.messageString}``.
    """
    status = error.status_code
    declared = responses.get(error.response_type)
    if declared is None:
        fallback = responses.get("DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX")
        declared = fallback or DeclaredResponse(error.response_type, {JSON: AWS_DEFAULT_TEMPLATE})
    if declared.status_code:
        status = int(declared.status_code)
    return status, declared


def check_response(response: DeclaredResponse, stage_variables: Mapping[str, str]) -> None:
    """Raise :class:`TemplateError` if the sandbox cannot answer ``response`` the way API Gateway would."""
    if JSON not in response.templates:
        raise TemplateError(f"{response.response_type}: the sandbox renders application/json templates only")
    check_template(response.templates[JSON], stage_variables)
    if response.status_code is not None and not re.fullmatch(r"[1-5]\d\d", response.status_code):
        raise TemplateError(f"{response.response_type}: status code {response.status_code!r} is not [1-5]dd")
    for name, source in response.parameters.items():
        if not name.startswith("gatewayresponse.header."):
            raise TemplateError(f"{response.response_type}: unsupported response parameter {name!r}")
        if not (source.startswith("'") and source.endswith("'") and len(source) >= 2):
            raise TemplateError(f"{response.response_type}: the sandbox maps static ('...') header values only")


def render_response(
    responses: Mapping[str, DeclaredResponse],
    error: GatewayError,
    request: RequestContext,
    stage_variables: Mapping[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body API Gateway answers ``error`` with, given the API's gateway responses."""
    status, response = select_response(responses, error)
    body = render_template(response.templates[JSON], context_variables(error, request), stage_variables)
    headers = {"Content-Type": JSON}
    for name, source in response.parameters.items():
        headers[name.removeprefix("gatewayresponse.header.")] = source[1:-1]
    return status, headers, body.encode()
