"""The deployment trigger is a fingerprint of everything the stage serves, and of nothing else.

A REST API stage serves the deployment it was created from; Pulumi redeploys only when
``Deployment.triggers`` change. The per-input tests run on the pure ``api_fingerprint`` of the
orders API's spec; one test proves the program's Deployment carries exactly that fingerprint of
what the program declared (read back from the declared resources, not from the spec).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from program_testkit import one

from components.order_service import GATEWAY_RESPONSE_TEMPLATES, order_api_spec
from components.rest_api import GatewayResponseSpec, RestApiSpec, api_fingerprint
from sandbox.api.gateway import declared_api
from sandbox.program.evaluation import Program, evaluate

CREATE_URI = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:c/invocations"
)
GET_URI = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:g/invocations"
)
DEPLOYMENT = "aws:apigateway/deployment:Deployment"


def _spec(api_auth: str = "NONE") -> RestApiSpec:
    return order_api_spec(CREATE_URI, GET_URI, api_auth)


def _method(spec: RestApiSpec, label: str, **changes: object) -> RestApiSpec:
    methods = [dataclasses.replace(m, **changes) if m.label == label else m for m in spec.methods]  # type: ignore[arg-type]
    return dataclasses.replace(spec, methods=methods)


def _integration(spec: RestApiSpec, label: str, **changes: object) -> RestApiSpec:
    (method,) = [m for m in spec.methods if m.label == label]
    return _method(spec, label, integration=dataclasses.replace(method.integration, **changes))  # type: ignore[arg-type]


def _response(spec: RestApiSpec, kind: str, **changes: object) -> RestApiSpec:
    responses = [
        dataclasses.replace(r, **changes) if r.response_type == kind else r  # type: ignore[arg-type]
        for r in spec.gateway_responses
    ]
    return dataclasses.replace(spec, gateway_responses=responses)


def _model(spec: RestApiSpec, **changes: object) -> RestApiSpec:
    return dataclasses.replace(spec, models=[dataclasses.replace(m, **changes) for m in spec.models])  # type: ignore[arg-type]


def _validator(spec: RestApiSpec, **changes: object) -> RestApiSpec:
    return dataclasses.replace(spec, validators=[dataclasses.replace(v, **changes) for v in spec.validators])  # type: ignore[arg-type]


def _renamed_model(spec: RestApiSpec) -> RestApiSpec:
    models = {ct: "OrderRequest" for m in spec.methods for ct in m.request_models}
    return dataclasses.replace(
        spec,
        models=[dataclasses.replace(m, name="OrderRequest") for m in spec.models],
        methods=[dataclasses.replace(m, request_models=models) if m.request_models else m for m in spec.methods],
    )


def _renamed_validator(spec: RestApiSpec) -> RestApiSpec:
    return dataclasses.replace(
        spec,
        validators=[dataclasses.replace(v, name="checks") for v in spec.validators],
        methods=[dataclasses.replace(m, validator="checks") for m in spec.methods],
    )


def _renamed_resource(spec: RestApiSpec) -> RestApiSpec:
    return dataclasses.replace(
        spec, methods=[dataclasses.replace(m, path=("orders", *m.path[1:])) for m in spec.methods]
    )


def _added_method(spec: RestApiSpec) -> RestApiSpec:
    (get,) = [m for m in spec.methods if m.label == "get-order"]
    extra = dataclasses.replace(get, label="delete-order", http_method="DELETE")
    return dataclasses.replace(spec, methods=[*spec.methods, extra])


def _added_response(spec: RestApiSpec) -> RestApiSpec:
    extra = GatewayResponseSpec("REQUEST_TOO_LARGE", {"application/json": '{"error": $context.error.messageString}'})
    return dataclasses.replace(spec, gateway_responses=[*spec.gateway_responses, extra])


# Every input that changes what the stage serves, each changed on its own.
CHANGES: dict[str, Callable[[RestApiSpec], RestApiSpec]] = {
    "gateway response template": lambda s: _response(
        s, "DEFAULT_4XX", templates={"application/json": '{"message": $context.error.messageString}'}
    ),
    "gateway response template content type": lambda s: _response(
        s, "DEFAULT_4XX", templates={"text/plain": GATEWAY_RESPONSE_TEMPLATES["DEFAULT_4XX"]}
    ),
    "gateway response type": lambda s: _response(s, "DEFAULT_5XX", response_type="INTEGRATION_FAILURE"),
    "gateway response status": lambda s: _response(s, "DEFAULT_4XX", status_code="404"),
    "gateway response parameters": lambda s: _response(
        s, "DEFAULT_4XX", parameters={"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"}
    ),
    "gateway response added": _added_response,
    "validator checks bodies": lambda s: _validator(s, validate_body=False),
    "validator checks parameters": lambda s: _validator(s, validate_parameters=False),
    "validator name": _renamed_validator,
    "model schema": lambda s: _model(s, schema='{"type": "object"}'),
    "model content type": lambda s: _model(s, content_type="application/vnd.order+json"),
    "model name": _renamed_model,
    "method verb": lambda s: _method(s, "get-order", http_method="HEAD"),
    "method authorization": lambda s: _method(s, "post-order", authorization="AWS_IAM"),
    "method api key": lambda s: _method(s, "post-order", api_key_required=True),
    "method request models": lambda s: _method(
        s, "post-order", request_models={"application/json": "CreateOrderRequest"}
    ),
    "method request parameters": lambda s: _method(
        s, "get-order", request_parameters={"method.request.path.id": False}
    ),
    "method validator": lambda s: _method(s, "post-order", validator=None),
    "method added": _added_method,
    "integration type": lambda s: _integration(s, "post-order", type="AWS"),
    "integration http method": lambda s: _integration(s, "get-order", http_method="GET"),
    "integration uri": lambda s: _integration(s, "get-order", uri=CREATE_URI),
    "resource path part": _renamed_resource,
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_changing_what_the_stage_serves_changes_the_fingerprint(change: Callable[[RestApiSpec], RestApiSpec]) -> None:
    # GIVEN the orders API and the same API with one input changed
    before, after = _spec(), change(_spec())
    assert after != before
    # WHEN both are fingerprinted
    # THEN the fingerprints differ: the change triggers a new deployment
    assert api_fingerprint(after) != api_fingerprint(before)


@pytest.mark.parametrize("api_auth", ["AWS_IAM", "API_KEY"])
def test_each_auth_mode_is_its_own_deployment(api_auth: str) -> None:
    # GIVEN the public API and the same API under another auth mode
    # WHEN both are fingerprinted  THEN they differ
    assert api_fingerprint(_spec(api_auth)) != api_fingerprint(_spec("NONE"))


def test_names_and_declaration_order_do_not_change_the_fingerprint() -> None:
    # GIVEN the orders API with its logical names changed and every list reversed
    spec = _spec()
    relabelled = dataclasses.replace(
        spec,
        models=[dataclasses.replace(m, label="m") for m in spec.models],
        validators=[dataclasses.replace(v, label="v") for v in spec.validators],
        methods=[dataclasses.replace(m, label=f"x-{m.label}") for m in reversed(spec.methods)],
        gateway_responses=list(reversed(spec.gateway_responses)),
    )
    # WHEN both are fingerprinted
    # THEN nothing the stage serves changed, so neither did the fingerprint
    assert api_fingerprint(relabelled) == api_fingerprint(spec)


def test_an_unresolved_uri_cannot_be_fingerprinted() -> None:
    # GIVEN a spec whose integration URI is not a string yet
    spec = _integration(_spec(), "post-order", uri=object())
    # WHEN it is fingerprinted  THEN that is refused rather than hashed as something else
    with pytest.raises(TypeError, match="post-order"):
        api_fingerprint(spec)


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (lambda s: _method(s, "post-order", request_models={"application/json": "Nope"}), "unknown model"),
        (lambda s: _method(s, "post-order", validator="nope"), "unknown validator"),
        (lambda s: _method(s, "get-order", path=("order",), http_method="POST"), "declared twice"),
    ],
)
def test_a_spec_that_aws_would_refuse_is_refused(break_it: Callable[[RestApiSpec], RestApiSpec], message: str) -> None:
    # GIVEN a reference AWS would reject  WHEN the spec is built  THEN it is refused, naming the method
    with pytest.raises(ValueError, match=message):
        break_it(_spec())


def test_the_deployment_trigger_is_the_fingerprint_of_what_the_program_declares(dev_program: Program) -> None:
    # GIVEN the dev stack's API, read back from the resources the program declared
    declared = declared_api(dev_program)
    # WHEN the Deployment's trigger is read
    trigger = one(dev_program.of_type(DEPLOYMENT))["triggers"]["redeployment"]
    # THEN it is the fingerprint of exactly that: nothing served is left out of it
    assert trigger == api_fingerprint(declared)
    # AND what was declared is what the program describes
    assert {(m.path, m.http_method) for m in declared.methods} == {(("order",), "POST"), (("order", "{id}"), "GET")}
    assert {r.response_type: dict(r.templates) for r in declared.gateway_responses} == {
        t: {"application/json": v} for t, v in GATEWAY_RESPONSE_TEMPLATES.items()
    }


def test_two_evaluations_of_the_same_program_give_the_same_trigger(dev_program: Program) -> None:
    # GIVEN the dev stack evaluated once more
    again = evaluate("dev")
    # WHEN both Deployments' triggers are read
    # THEN they are equal: an unchanged program never redeploys
    triggers = [one(p.of_type(DEPLOYMENT))["triggers"]["redeployment"] for p in (dev_program, again)]
    assert triggers[0] == triggers[1]
