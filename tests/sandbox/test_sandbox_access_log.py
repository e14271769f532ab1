"""The stage's access log: one JSON line per request, in the program's format, with ``-`` for what a request lacks."""

from __future__ import annotations

import json

import pytest
from sandbox_testkit import http, post_order

from components.order_service import ACCESS_LOG_FORMAT
from sandbox.api.access_log import AccessLog
from sandbox.api.gateway_responses import GatewayError, RequestContext, TemplateError
from sandbox.runtime import Sandbox

STAGE = {"accessLogSettings": {"destinationArn": "arn:aws:logs:us-east-1:1:log-group:/aws/vendedlogs/api:*"}}


def _access_log(fmt: str) -> AccessLog | None:
    return AccessLog.of_stage({"accessLogSettings": {**STAGE["accessLogSettings"], "format": fmt}}, {})


def test_a_request_without_an_error_logs_dashes_for_the_error_variables() -> None:
    # GIVEN the program's access log format
    access_log = _access_log(ACCESS_LOG_FORMAT)
    assert access_log is not None and access_log.log_group == "/aws/vendedlogs/api"
    request = RequestContext("req-1", http_method="POST", resource_path="/order", source_ip="10.0.0.1")
    # WHEN a request answered 201 is logged
    line = json.loads(access_log.line(request, 201, b'{"id": 1}', None))
    # THEN every variable has its value, and those without one are "-"
    assert line["requestId"] == "req-1"
    assert (line["httpMethod"], line["resourcePath"], line["ip"]) == ("POST", "/order", "10.0.0.1")
    assert (line["status"], line["responseLength"]) == ("201", "9")
    assert line["errorType"] == "-"


def test_a_refused_bodys_line_is_json_naming_the_error_type_without_the_validators_text() -> None:
    # GIVEN the program's access log format, and a body the validator refused with a detail full of
    # double quotes and backslashes (a property name is quoted back in it)
    access_log = _access_log(ACCESS_LOG_FORMAT)
    assert access_log is not None
    detail = '[object instance has properties which are not allowed by the schema: ["a\\"b"]]'
    error = GatewayError("BAD_REQUEST_BODY", "Invalid request body", validation_error=detail)
    # WHEN it is logged
    line = access_log.line(RequestContext("req-2", http_method="POST", resource_path="/order"), 400, b"{}", error)
    # THEN the line is JSON: the status and the error type, under the request id; the detail is not in it
    assert json.loads(line) | {"requestTime": "-"} == {
        "requestId": "req-2",
        "ip": "-",
        "requestTime": "-",
        "httpMethod": "POST",
        "resourcePath": "/order",
        "status": "400",
        "responseLength": "2",
        "errorType": "BAD_REQUEST_BODY",
    }
    assert "schema" not in line


def test_the_validators_detail_is_substituted_unescaped_as_api_gateway_does() -> None:
    # GIVEN a format that quotes the validator's detail (which is why the program's format leaves it out)
    access_log = _access_log('{"status": "$context.status", "validation": "$context.error.validationErrorString"}')
    assert access_log is not None
    error = GatewayError("BAD_REQUEST_BODY", "Invalid request body", validation_error='[missing (["amount"])]')
    # WHEN a refused body is logged
    line = access_log.line(RequestContext("req-3"), 400, b"{}", error)
    # THEN the message is substituted unescaped, as API Gateway does, so such a line is not JSON
    assert line == '{"status": "400", "validation": "[missing (["amount"])]"}'
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_a_format_with_a_variable_the_sandbox_does_not_model_is_refused_at_start() -> None:
    with pytest.raises(TemplateError, match=r"access log format uses \$context.wafResponseCode"):
        _access_log('{"waf": "$context.wafResponseCode"}')
    assert AccessLog.of_stage({}, {}) is None


def test_each_request_writes_one_line_to_the_stages_access_log_group(sandbox: Sandbox) -> None:
    # GIVEN a running sandbox
    # WHEN an order is accepted, one is refused, and an undeclared path is asked for
    created = post_order(sandbox, 21, 10)
    refused = http("POST", f"{sandbox.api_url}/order", '{"id": 22}', content_type="application/json")
    missing = http("GET", f"{sandbox.api_url}/nowhere")
    # THEN the stage's access log group holds one line per request, in order, with its status
    assert (created.status, refused.status, missing.status) == (201, 400, 403)
    (stage,) = sandbox.program.of_type("aws:apigateway/stage:Stage")
    group = stage["accessLogSettings"]["destinationArn"].split(":log-group:")[1]
    messages = [e["message"] for e in sandbox.client("logs").filter_log_events(logGroupName=group)["events"]]
    lines = [json.loads(m) for m in messages]
    assert [(line["status"], line["errorType"]) for line in lines] == [
        ("201", "-"),
        ("400", "BAD_REQUEST_BODY"),
        ("403", "MISSING_AUTHENTICATION_TOKEN"),
    ]
    assert lines[1]["requestId"] == refused.body["requestId"]


def test_a_refused_bodys_detail_is_in_the_stages_execution_log_under_its_request_id(sandbox: Sandbox) -> None:
    # GIVEN a running sandbox of a stage logging its execution at ERROR
    (settings,) = sandbox.program.of_type("aws:apigateway/methodSettings:MethodSettings")
    assert settings["settings"]["loggingLevel"] == "ERROR"
    (api,) = sandbox.program.of_type("aws:apigateway/restApi:RestApi")
    group = f"API-Gateway-Execution-Logs_{api.id}/api"
    # WHEN an order is accepted and one is refused
    post_order(sandbox, 23, 10)
    refused = http("POST", f"{sandbox.api_url}/order", '{"id": 24}', content_type="application/json")
    # THEN the execution log group, which the program declares, holds the validator's line for the
    # refused one only, as API Gateway words it, under the request id its answer carries
    events = sandbox.client("logs").filter_log_events(logGroupName=group)["events"]
    assert [e["message"] for e in events] == [
        f"({refused.body['requestId']}) Request body does not match model schema for content type "
        'application/json: [object has missing required properties (["amount"])]'
    ]
