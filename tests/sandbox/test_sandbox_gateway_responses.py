"""Gateway responses rendered as API Gateway renders them: the program's are JSON for any message.

API Gateway substitutes ``$context.error.messageString`` already quoted and
``$context.error.validationErrorString`` raw, so a template can be valid JSON offline under a
naive renderer and invalid on AWS. These tests render the program's own templates the AWS way
with realistic messages, and prove the renderer refuses what AWS would break.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from sandbox.api.gateway import declared_gateway_responses
from sandbox.api.gateway_responses import (
    AWS_DEFAULT_TEMPLATE,
    DeclaredResponse,
    GatewayError,
    RequestContext,
    TemplateError,
    check_response,
    context_variables,
    render_response,
    render_template,
    select_response,
)
from sandbox.program.evaluation import Program

REQUEST = RequestContext(request_id="0b5e8d7c-1111-4222-8333-444455556666", stage="api", http_method="POST")
# What API Gateway's validator says about bodies this API refuses: double quotes included.
VALIDATION_DETAILS = [
    '[object has missing required properties (["amount"])]',
    '[object instance has properties which are not allowed by the schema: ["coupon"]]',
    '[instance type (string) does not match any allowed primitive type (allowed: ["number"])]',
    "[numeric instance is greater than the required maximum (maximum: 1000000000, found: 1E+30)]",
    '[ECMA 262 regex "^[a-z]+$" does not match input string "a\\"b\\\\c\nd"]',
]
# Every error the sandbox answers itself, worded as API Gateway words it.
REALISTIC_ERRORS = [
    GatewayError("MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token"),
    GatewayError("INVALID_API_KEY", "Forbidden"),
    GatewayError("REQUEST_TOO_LARGE", "Request Too Long"),
    GatewayError("DEFAULT_4XX", "Bad Request", 400),
    GatewayError("DEFAULT_4XX", "Request Header Fields Too Large", 431),
    GatewayError("INTEGRATION_FAILURE", "Internal server error", 502),
    GatewayError("DEFAULT_5XX", "Internal server error"),
    *(GatewayError("BAD_REQUEST_BODY", "Invalid request body", validation_error=d) for d in VALIDATION_DETAILS),
]
OLD_TEMPLATE = '{"error": "$context.error.messageString"}'


def _render(template: str, error: GatewayError) -> str:
    return render_template(template, context_variables(error, REQUEST))


def _as_error_json(body: str | bytes) -> dict[str, Any]:
    document = json.loads(body)
    assert isinstance(document, dict) and isinstance(document.get("error"), str), document
    return document


@pytest.mark.parametrize("error", REALISTIC_ERRORS, ids=lambda e: f"{e.response_type}-{e.status_code}")
def test_every_declared_gateway_response_is_json_with_an_error_on_aws(
    dev_program: Program, error: GatewayError
) -> None:
    # GIVEN every gateway response the program declares
    responses = declared_gateway_responses(dev_program)
    assert set(responses) == {"BAD_REQUEST_BODY", "DEFAULT_4XX", "DEFAULT_5XX"}
    for declared in responses.values():
        # WHEN its template is rendered the AWS way for a realistic error
        body = _render(declared.templates["application/json"], error)
        # THEN it is a JSON object whose "error" is the message, whatever the message holds
        assert _as_error_json(body)["error"] == error.message
    # AND the answer the API would send for that error is such a body, with the error's status
    status, headers, data = render_response(responses, error, REQUEST)
    assert (status, headers["Content-Type"]) == (error.status_code, "application/json")
    assert _as_error_json(data)["error"] == error.message


@pytest.mark.parametrize(
    "template",
    [OLD_TEMPLATE, '{"error": "invalid request body: $context.error.validationErrorString"}'],
    ids=["quoted messageString", "quoted validationErrorString"],
)
def test_a_template_that_aws_renders_invalid_is_invalid_offline_too(template: str) -> None:
    # GIVEN a template that wraps an AWS-substituted string in quotes of its own
    errors = [GatewayError("DEFAULT_4XX", "Bad Request", 400), *REALISTIC_ERRORS[-len(VALIDATION_DETAILS) :]]
    # WHEN it is rendered for realistic errors the way API Gateway renders it
    bodies = [_render(template, e) for e in errors]
    # THEN at least one answer is not JSON, offline as on AWS
    invalid = []
    for body in bodies:
        try:
            _as_error_json(body)
        except json.JSONDecodeError:
            invalid.append(body)
    assert invalid, bodies


def test_aws_substitutes_each_error_variable_its_own_way() -> None:
    # GIVEN an error with a validation detail holding double quotes
    error = GatewayError("BAD_REQUEST_BODY", "Invalid request body", validation_error='[x (["a"])]')
    # WHEN each variable is rendered on its own
    rendered = {
        name: _render(f"$context.{name}", error)
        for name in ("error.message", "error.messageString", "error.responseType", "error.validationErrorString")
    }
    # THEN messageString is a quoted JSON string; the others are bare, validationErrorString unescaped
    assert rendered == {
        "error.message": "Invalid request body",
        "error.messageString": '"Invalid request body"',
        "error.responseType": "BAD_REQUEST_BODY",
        "error.validationErrorString": '[x (["a"])]',
    }


def test_the_longest_variable_name_wins_and_the_rest_of_the_template_is_kept() -> None:
    # GIVEN a template using message and messageString side by side, next to punctuation
    template = '{"a":$context.error.messageString,"b":"$context.error.message.","c":"$context.requestId"}'
    # WHEN rendered
    body = _render(template, GatewayError("DEFAULT_4XX", "Forbidden", 403))
    # THEN each reference got its own value and nothing else changed
    assert json.loads(body) == {"a": "Forbidden", "b": "Forbidden.", "c": REQUEST.request_id}


@pytest.mark.parametrize(
    "template",
    [
        '{"error": "$context.error.nope"}',
        '{"error": "$context.authorizer.claims.sub"}',
        '{"error": "$stageVariables.missing"}',
        '{"error": "${context.requestId}"}',
        '{"error": "$input.params(\'x\')"}',
        '{"error": "$util.escapeJavaScript($context.error.message)"}',
    ],
)
def test_a_variable_the_sandbox_cannot_render_the_aws_way_is_refused(template: str) -> None:
    # GIVEN a template using something the sandbox does not model
    # WHEN it is checked or rendered  THEN it is refused instead of being rendered some other way
    with pytest.raises(TemplateError):
        _render(template, GatewayError("DEFAULT_4XX", "Forbidden", 403))
    with pytest.raises(TemplateError):
        check_response(DeclaredResponse("DEFAULT_4XX", {"application/json": template}), {})


def test_stage_variables_render_when_the_stage_declares_them() -> None:
    # GIVEN a stage variable  WHEN a template uses it  THEN its value is substituted bare
    body = render_template('{"error": "$stageVariables.team"}', {}, {"team": "orders"})
    assert json.loads(body) == {"error": "orders"}


def _responses(*declared: DeclaredResponse) -> dict[str, DeclaredResponse]:
    return {d.response_type: d for d in declared}


FOUR = DeclaredResponse("DEFAULT_4XX", {"application/json": '{"error": $context.error.messageString, "k": 4}'})
FIVE = DeclaredResponse("DEFAULT_5XX", {"application/json": '{"error": $context.error.messageString, "k": 5}'})
BODY = DeclaredResponse("BAD_REQUEST_BODY", {"application/json": '{"error": "body"}'}, status_code="422")


@pytest.mark.parametrize(
    ("error", "status", "kind"),
    [
        (GatewayError("BAD_REQUEST_BODY", "Invalid request body"), 422, "BAD_REQUEST_BODY"),
        (GatewayError("MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token"), 403, "DEFAULT_4XX"),
        (GatewayError("REQUEST_TOO_LARGE", "Request Too Long"), 413, "DEFAULT_4XX"),
        (GatewayError("INTEGRATION_FAILURE", "Internal server error", 502), 502, "DEFAULT_5XX"),
        (GatewayError("DEFAULT_5XX", "Internal server error"), 500, "DEFAULT_5XX"),
    ],
)
def test_a_type_without_its_own_response_falls_back_to_default_4xx_or_5xx(
    error: GatewayError, status: int, kind: str
) -> None:
    # GIVEN an API customising DEFAULT_4XX, DEFAULT_5XX and BAD_REQUEST_BODY (with status 422)
    # WHEN an error is answered
    chosen_status, chosen = select_response(_responses(FOUR, FIVE, BODY), error)
    # THEN its own response is used if declared, else the default of its status class, and a
    # declared status code replaces the type's own
    assert (chosen_status, chosen.response_type) == (status, kind)


def test_without_any_customisation_the_aws_default_answers() -> None:
    # GIVEN an API that customises nothing  WHEN an error is answered  THEN AWS's default template answers
    status, response = select_response({}, GatewayError("MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token"))
    assert (status, response.templates["application/json"]) == (403, AWS_DEFAULT_TEMPLATE)
    assert json.loads(render_response({}, GatewayError("INVALID_API_KEY", "Forbidden"), REQUEST)[2]) == {
        "message": "Forbidden"
    }


def test_static_header_parameters_become_headers() -> None:
    # GIVEN DEFAULT_4XX mapping a static CORS header
    cors = DeclaredResponse(
        "DEFAULT_4XX",
        {"application/json": AWS_DEFAULT_TEMPLATE},
        parameters={"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"},
    )
    check_response(cors, {})
    # WHEN a 4xx is answered  THEN the header is there, unquoted
    _, headers, _ = render_response(_responses(cors), GatewayError("INVALID_API_KEY", "Forbidden"), REQUEST)
    assert headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    "declared",
    [
        DeclaredResponse("DEFAULT_4XX", {"text/html": "<p>$context.error.message</p>"}),
        DeclaredResponse(
            "DEFAULT_4XX",
            {"application/json": AWS_DEFAULT_TEMPLATE},
            parameters={"gatewayresponse.header.X-Trace": "method.request.header.X-Trace"},
        ),
        DeclaredResponse("DEFAULT_4XX", {"application/json": AWS_DEFAULT_TEMPLATE}, status_code="4xx"),
    ],
    ids=["no JSON template", "mapped header", "bad status"],
)
def test_a_response_the_sandbox_does_not_model_is_refused_at_start(declared: DeclaredResponse) -> None:
    # GIVEN a gateway response the sandbox would have to answer differently from AWS
    # WHEN it is checked  THEN it is refused
    with pytest.raises(TemplateError):
        check_response(declared, {})
