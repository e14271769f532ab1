"""A REST API as plain data: what its stage serves, and the fingerprint that redeploys it.

A stage serves the deployment snapshot it was created from: a change to a route, a model, the
validator or a gateway response reaches clients only through a new deployment, and Pulumi makes
one only when ``Deployment.triggers`` change. :class:`RestApiSpec` is the one description both
sides read: :func:`build_rest_api` creates the resources from it and :func:`api_fingerprint`
hashes it, so nothing can be served without also being part of the trigger.

Everything here except :func:`build_rest_api` and :func:`resolved` is pure.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class ModelSpec:
    """A request model: a draft-04 JSON schema under a name."""

    label: str
    name: str
    content_type: str
    schema: str


@dataclass(frozen=True)
class ValidatorSpec:
    """A request validator: which parts of a request it checks."""

    label: str
    name: str
    validate_body: bool
    validate_parameters: bool


@dataclass(frozen=True)
class GatewayResponseSpec:
    """How API Gateway words one of its own errors (``BAD_REQUEST_BODY``, ``DEFAULT_4XX``...)."""

    response_type: str
    templates: Mapping[str, str]
    #: ``None``: the type's own status code (403 for ``MISSING_AUTHENTICATION_TOKEN``...).
    status_code: str | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``bad-request-body`` for ``BAD_REQUEST_BODY``."""
        return self.response_type.lower().replace("_", "-")


@dataclass(frozen=True)
class IntegrationSpec:
    """Where a method's requests go; ``uri`` is an Output until :func:`resolved`."""

    type: str
    http_method: str
    uri: pulumi.Input[str]


@dataclass(frozen=True)
class MethodSpec:
    """One HTTP method on one resource path, with its checks and its integration."""

    label: str
    #: Path parts under the root: ``("order", "{id}")`` is ``/order/{id}``.
    path: tuple[str, ...]
    http_method: str
    authorization: str
    api_key_required: bool
    integration: IntegrationSpec
    #: Content type (or ``$default``) to model name.
    request_models: Mapping[str, str] = field(default_factory=dict)
    #: ``method.request.path.id`` to whether it is required.
    request_parameters: Mapping[str, bool] = field(default_factory=dict)
    #: Name of one of the API's validators, or ``None``.
    validator: str | None = None


@dataclass(frozen=True)
class RestApiSpec:
    """Everything a deployment of a REST API snapshots."""

    models: Sequence[ModelSpec]
    validators: Sequence[ValidatorSpec]
    gateway_responses: Sequence[GatewayResponseSpec]
    methods: Sequence[MethodSpec]

    def __post_init__(self) -> None:
        """Refuse references that would fail on AWS: an unknown model or validator, a duplicate route."""
        models = {m.name for m in self.models}
        validators = {v.name for v in self.validators}
        routes = [(m.path, m.http_method) for m in self.methods]
        if len(set(routes)) != len(routes):
            raise ValueError(f"RestApiSpec.methods: a route is declared twice in {routes}")
        for method in self.methods:
            unknown = set(method.request_models.values()) - models
            if unknown:
                raise ValueError(f"RestApiSpec.methods[{method.label}]: unknown model(s) {sorted(unknown)}")
            if method.validator is not None and method.validator not in validators:
                raise ValueError(f"RestApiSpec.methods[{method.label}]: unknown validator {method.validator!r}")

    @property
    def resource_paths(self) -> list[tuple[str, ...]]:
        """Every resource below the root the methods need, parents before children."""
        paths = {m.path[:depth] for m in self.methods for depth in range(1, len(m.path) + 1)}
        return sorted(paths, key=lambda p: (len(p), p))


def api_fingerprint(spec: RestApiSpec) -> str:
    """SHA-256 of everything ``spec`` makes the stage serve (labels, i.e. logical names, excluded).

    Raises ``TypeError`` if an integration URI is still an Output (see :func:`resolved`).
    """
    return hashlib.sha256(json.dumps(_served(spec), sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _served(spec: RestApiSpec) -> dict[str, Any]:
    def uri(method: MethodSpec) -> str:
        if not isinstance(method.integration.uri, str):
            raise TypeError(f"api_fingerprint: the integration URI of {method.label} is not resolved")
        return method.integration.uri

    return {
        "models": sorted(
            ({"name": m.name, "contentType": m.content_type, "schema": m.schema} for m in spec.models),
            key=lambda m: m["name"],
        ),
        "validators": sorted(
            ({"name": v.name, "body": v.validate_body, "parameters": v.validate_parameters} for v in spec.validators),
            key=lambda v: v["name"],
        ),
        "gatewayResponses": sorted(
            (
                {
                    "type": r.response_type,
                    "templates": dict(r.templates),
                    "status": r.status_code,
                    "parameters": dict(r.parameters),
                }
                for r in spec.gateway_responses
            ),
            key=lambda r: r["type"],
        ),
        "resources": [list(p) for p in spec.resource_paths],
        "methods": sorted(
            (
                {
                    "path": list(m.path),
                    "httpMethod": m.http_method,
                    "authorization": m.authorization,
                    "apiKeyRequired": m.api_key_required,
                    "requestModels": dict(m.request_models),
                    "requestParameters": dict(m.request_parameters),
                    "validator": m.validator,
                    "integration": {
                        "type": m.integration.type,
                        "httpMethod": m.integration.http_method,
                        "uri": uri(m),
                    },
                }
                for m in spec.methods
            ),
            key=lambda m: (m["path"], m["httpMethod"]),
        ),
    }


def resolved(spec: RestApiSpec) -> pulumi.Output[RestApiSpec]:
    """``spec`` once every integration URI is known."""
    return pulumi.Output.all(*[m.integration.uri for m in spec.methods]).apply(
        lambda uris: replace(
            spec,
            methods=[
                replace(m, integration=replace(m.integration, uri=uri))
                for m, uri in zip(spec.methods, uris, strict=True)
            ],
        )
    )


@dataclass
class BuiltRestApi:
    """The resources :func:`build_rest_api` created, by label."""

    models: dict[str, aws.apigateway.Model]
    validators: dict[str, aws.apigateway.RequestValidator]
    gateway_responses: list[aws.apigateway.Response]
    resources: dict[tuple[str, ...], aws.apigateway.Resource]
    methods: dict[str, aws.apigateway.Method]
    integrations: dict[str, aws.apigateway.Integration]
    deployment: aws.apigateway.Deployment


def _resource_label(path: tuple[str, ...]) -> str:
    """``("order", "{id}")`` → ``order-id``."""
    return "-".join(part.strip("{}+") for part in path)


def build_rest_api(
    name: str, api: aws.apigateway.RestApi, spec: RestApiSpec, opts: pulumi.ResourceOptions
) -> BuiltRestApi:
    """Create every resource of ``spec`` on ``api``, and a deployment triggered by its fingerprint.

    Children are named ``f"{name}-<label>"`` (``-model``, ``-validator`` labels are the spec's own),
    ``f"{name}-<resource path>-resource"``, ``f"{name}-<method label>"`` and
    ``f"{name}-<method label>-integration"``.
    """
    models = _build_models(name, api, spec, opts)
    validators = _build_validators(name, api, spec, opts)
    gateway_responses = _build_gateway_responses(name, api, spec, opts)
    resources = _build_resources(name, api, spec, opts)
    methods: dict[str, aws.apigateway.Method] = {}
    integrations: dict[str, aws.apigateway.Integration] = {}
    for m in spec.methods:
        methods[m.label] = _build_method(name, api, m, resources, models, validators, opts)
        integrations[m.label] = _build_integration(name, api, m, methods[m.label], opts)
    deployment = aws.apigateway.Deployment(
        f"{name}-deployment",
        rest_api=api.id,
        # The stage serves a snapshot: redeploy exactly when what it serves changes.
        triggers={"redeployment": resolved(spec).apply(api_fingerprint)},
        # Gateway responses are part of the snapshot too: a deployment made before them misses them.
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(depends_on=[*integrations.values(), *gateway_responses])
        ),
    )
    return BuiltRestApi(models, validators, gateway_responses, resources, methods, integrations, deployment)


def _build_models(
    name: str, api: aws.apigateway.RestApi, spec: RestApiSpec, opts: pulumi.ResourceOptions
) -> dict[str, aws.apigateway.Model]:
    """The request models of ``spec``, by model name."""
    return {
        m.name: aws.apigateway.Model(
            f"{name}-{m.label}",
            rest_api=api.id,
            name=m.name,
            content_type=m.content_type,
            schema=m.schema,
            opts=opts,
        )
        for m in spec.models
    }


def _build_validators(
    name: str, api: aws.apigateway.RestApi, spec: RestApiSpec, opts: pulumi.ResourceOptions
) -> dict[str, aws.apigateway.RequestValidator]:
    """The request validators of ``spec``, by validator name."""
    return {
        v.name: aws.apigateway.RequestValidator(
            f"{name}-{v.label}",
            rest_api=api.id,
            name=v.name,
            validate_request_body=v.validate_body,
            validate_request_parameters=v.validate_parameters,
            opts=opts,
        )
        for v in spec.validators
    }


def _build_gateway_responses(
    name: str, api: aws.apigateway.RestApi, spec: RestApiSpec, opts: pulumi.ResourceOptions
) -> list[aws.apigateway.Response]:
    """How API Gateway words its own errors on this API."""
    return [
        aws.apigateway.Response(
            f"{name}-{r.label}-response",
            rest_api_id=api.id,
            response_type=r.response_type,
            status_code=r.status_code,
            response_templates=dict(r.templates),
            response_parameters=dict(r.parameters) or None,
            opts=opts,
        )
        for r in spec.gateway_responses
    ]


def _build_resources(
    name: str, api: aws.apigateway.RestApi, spec: RestApiSpec, opts: pulumi.ResourceOptions
) -> dict[tuple[str, ...], aws.apigateway.Resource]:
    """Every resource path below the root, parents first, by path."""
    resources: dict[tuple[str, ...], aws.apigateway.Resource] = {}
    for path in spec.resource_paths:
        parent_id = resources[path[:-1]].id if len(path) > 1 else api.root_resource_id
        resources[path] = aws.apigateway.Resource(
            f"{name}-{_resource_label(path)}-resource",
            rest_api=api.id,
            parent_id=parent_id,
            path_part=path[-1],
            opts=opts,
        )
    return resources


def _build_method(
    name: str,
    api: aws.apigateway.RestApi,
    m: MethodSpec,
    resources: Mapping[tuple[str, ...], aws.apigateway.Resource],
    models: Mapping[str, aws.apigateway.Model],
    validators: Mapping[str, aws.apigateway.RequestValidator],
    opts: pulumi.ResourceOptions,
) -> aws.apigateway.Method:
    """One method with its auth, its validator and its request models and parameters."""
    return aws.apigateway.Method(
        f"{name}-{m.label}",
        rest_api=api.id,
        resource_id=resources[m.path].id if m.path else api.root_resource_id,
        http_method=m.http_method,
        authorization=m.authorization,
        api_key_required=m.api_key_required,
        request_validator_id=validators[m.validator].id if m.validator else None,
        request_models={ct: models[model].name for ct, model in m.request_models.items()} or None,
        request_parameters=dict(m.request_parameters) or None,
        opts=opts,
    )


def _build_integration(
    name: str,
    api: aws.apigateway.RestApi,
    m: MethodSpec,
    method: aws.apigateway.Method,
    opts: pulumi.ResourceOptions,
) -> aws.apigateway.Integration:
    """Where ``method``'s requests go."""
    return aws.apigateway.Integration(
        f"{name}-{m.label}-integration",
        rest_api=api.id,
        resource_id=method.resource_id,
        http_method=method.http_method,
        integration_http_method=m.integration.http_method,
        type=m.integration.type,
        uri=m.integration.uri,
        opts=opts,
    )
