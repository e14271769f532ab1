"""The event API Gateway gives a Lambda proxy integration of a REST API, built as API Gateway builds it.

The shape follows the API Gateway developer guide ("Input format of a Lambda function for proxy
integration") and AWS SAM's sample event (``sam local generate-event apigateway aws-proxy``);
Powertools' ``APIGatewayProxyEventModel`` validates it in the tests:

- header names keep the case the client sent; a repeated header keeps every value, in order, in
  ``multiValueHeaders``, and its last value in ``headers`` ("Support for multi-value headers");
- API Gateway adds ``X-Amzn-Trace-Id`` (unless the client sent one), ``X-Forwarded-For`` (the
  client's chain, then the caller's address), ``X-Forwarded-Port`` and ``X-Forwarded-Proto``. They
  say what the caller connected to: the local API's port over ``http`` (as ``sam local start-api``
  says), where AWS says ``443`` and ``https``. A regional endpoint adds no CloudFront headers;
- ``requestContext`` carries the account, API, resource and deployment ids, the stage, the
  protocol, ``requestTime`` (``02/Dec/2026:13:42:22 +0000``) and ``requestTimeEpoch`` (ms), and
  ``identity`` with all of its keys: the caller's address and user agent, the API key when the
  method requires one, ``null`` for what only Cognito, IAM or a client certificate would fill.

Everything here is pure.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, parse_qs

from sandbox.api.gateway_responses import RequestContext

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: ``identity`` keys API Gateway sends as ``null`` when no Cognito, IAM or mTLS caller is known.
_UNKNOWN_IDENTITY = (
    "cognitoIdentityPoolId",
    "accountId",
    "cognitoIdentityId",
    "caller",
    "principalOrgId",
    "accessKey",
    "cognitoAuthenticationType",
    "cognitoAuthenticationProvider",
    "userArn",
    "user",
    "clientCert",
)


class RequestHeaders(Mapping[str, str]):
    """A request's headers as the client sent them: names in their case, every value, in order.

    As a mapping it is case-insensitive (HTTP header names are) and gives a header's last value.
    """

    def __init__(self, fields: Iterable[tuple[str, str]]) -> None:
        """Headers from ``(name, value)`` pairs in the order received."""
        self.fields = list(fields)
        self._last = {name.lower(): value for name, value in self.fields}

    def __getitem__(self, name: str) -> str:
        """The last value of the header ``name`` (any case)."""
        return self._last[name.lower()]

    def __contains__(self, name: object) -> bool:
        """Whether the client sent ``name`` (any case)."""
        return isinstance(name, str) and name.lower() in self._last

    def __iter__(self) -> Iterator[str]:
        """Lower-case names."""
        return iter(self._last)

    def __len__(self) -> int:
        """How many distinct names."""
        return len(self._last)

    def grouped(self) -> dict[str, list[str]]:
        """Every value of each header, under the spelling the client first used for it."""
        spelled: dict[str, str] = {}
        grouped: dict[str, list[str]] = {}
        for name, value in self.fields:
            grouped.setdefault(spelled.setdefault(name.lower(), name), []).append(value)
        return grouped


def request_time(epoch_ms: int) -> str:
    """``requestTime`` as API Gateway writes it (``02/Dec/2026:13:42:22 +0000``), in any locale."""
    t = time.gmtime(epoch_ms / 1000)
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"


def trace_id(epoch_ms: int) -> str:
    """An X-Ray trace header as API Gateway starts one: ``Root=1-<8 hex: epoch s>-<24 hex>``."""
    return f"Root=1-{epoch_ms // 1000:08x}-{secrets.token_hex(12)}"


def forwarded_headers(headers: RequestHeaders, request: RequestContext, port: int) -> dict[str, list[str]]:
    """The client's headers with the ones API Gateway adds (see the module docstring)."""
    added = {"x-forwarded-for", "x-forwarded-port", "x-forwarded-proto"}
    grouped = {name: values for name, values in headers.grouped().items() if name.lower() not in added}
    chain = [value for name, value in headers.fields if name.lower() == "x-forwarded-for"]
    if "host" not in headers:
        grouped["Host"] = [request.domain_name]
    if "x-amzn-trace-id" not in headers:
        grouped["X-Amzn-Trace-Id"] = [trace_id(request.epoch_ms)]
    grouped["X-Forwarded-For"] = [", ".join([*chain, request.source_ip])]
    grouped["X-Forwarded-Port"] = [str(port)]
    grouped["X-Forwarded-Proto"] = ["http"]
    return grouped


@dataclass(frozen=True)
class Resource:
    """What API Gateway knows of the matched method: its resource, deployment and API key."""

    path: str
    resource_id: str
    deployment_id: str | None = None
    #: ``(key, key id)`` when the method requires an API key (checked before the event is built).
    api_key: tuple[str, str] | None = None


def proxy_event(
    resource: Resource,
    request: RequestContext,
    split: SplitResult,
    headers: RequestHeaders,
    body: bytes,
    *,
    path_parameters: Mapping[str, str],
    stage_variables: Mapping[str, str],
    port: int,
) -> dict[str, Any]:
    """The proxy integration's event for one request (``split``: its target, as sent)."""
    multi_headers = forwarded_headers(headers, request, port)
    multi_query = parse_qs(split.query) if split.query else None
    return {
        "resource": resource.path,
        "path": split.path,
        "httpMethod": request.http_method,
        "headers": {name: values[-1] for name, values in multi_headers.items()},
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} if multi_query else None,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": dict(path_parameters) or None,
        "stageVariables": dict(stage_variables) or None,
        "requestContext": _request_context(resource, request),
        "body": body.decode("utf-8", errors="replace") if body else None,
        "isBase64Encoded": False,
    }


def _request_context(resource: Resource, request: RequestContext) -> dict[str, Any]:
    api_key, api_key_id = resource.api_key or (None, None)
    return {
        "resourceId": resource.resource_id,
        "resourcePath": resource.path,
        "httpMethod": request.http_method,
        "extendedRequestId": request.request_id,
        "requestTime": request_time(request.epoch_ms),
        "path": request.path,
        "accountId": request.account_id,
        "protocol": request.protocol,
        "stage": request.stage,
        "domainPrefix": request.domain_name.split(":")[0].split(".")[0],
        "requestTimeEpoch": request.epoch_ms,
        "requestId": request.request_id,
        "identity": {
            **dict.fromkeys(_UNKNOWN_IDENTITY),
            "sourceIp": request.source_ip,
            "userAgent": request.user_agent or None,
            "apiKey": api_key,
            "apiKeyId": api_key_id,
        },
        "domainName": request.domain_name,
        "deploymentId": resource.deployment_id,
        "apiId": request.api_id,
    }
