"""The stage's access log: one line per request, in the program's format, with ``-`` for what a request lacks."""

from __future__ import annotations

import json

import pytest
from sandbox_testkit import http, post_order

from components.order_service import ACCESS_LOG_FORMAT
from sandbox.access_log import AccessLog
from sandbox.gateway_responses import GatewayError, RequestContext, TemplateError
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
    assert line["integrationError"] == "-"


def test_a_refused_body_logs_the_validators_message_as_written() -> None:
    # GIVEN a body the validator refused
    access_log = _access_log('{"status": "$context.status", "validation": "$context.error.validationErrorString"}')
    assert access_log is not None
    error = GatewayError("BAD_REQUEST_BODY", "Invalid request body", validation_error='[missing (["amount"])]')
    # WHEN it is logged
    line = access_log.line(RequestContext("req-2"), 400, b"{}", error)
    # THEN the message is substituted unescaped, as API Gateway does (so this line is not JSON)
    assert line == '{"status": "400", "validation": "[missing (["amount"])]"}'


def test_a_format_with_a_variable_the_sandbox_does_not_model_is_refused_at_start() -> None:
    with pytest.raises(TemplateError, match=r"access log format uses \$context.wafResponseCode"):
        _access_log('{"waf": "$context.wafResponseCode"}')
    assert AccessLog.of_stage({}, {}) is None


def test_each_request_writes_one_line_to_the_stages_access_log_group(sandbox: Sandbox) -> None:
    # GIVEN a running sandbox
    # WHEN an order is accepted, one is refused, and an undeclared path is asked for
    created = post_order(sandbox, 21, 10)
    refused = http("POST", f"{sandbox.api_url}/order", '{"id": 22}')
    missing = http("GET", f"{sandbox.api_url}/nowhere")
    # THEN the stage's access log group holds one line per request, in order, with its status
    assert (created.status, refused.status, missing.status) == (201, 400, 403)
    (stage,) = sandbox.program.of_type("aws:apigateway/stage:Stage")
    group = stage["accessLogSettings"]["destinationArn"].split(":log-group:")[1]
    messages = [e["message"] for e in sandbox.client("logs").filter_log_events(logGroupName=group)["events"]]
    assert [json.loads(m)["status"] for m in (messages[0], messages[2])] == ["201", "403"]
    assert '"status": "400"' in messages[1] and refused.body["requestId"] in messages[1]
    assert len(messages) == 3
