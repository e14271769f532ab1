"""What a function receives in the sandbox, held against references the project did not write.

- the REST proxy event against Powertools' ``APIGatewayProxyEventModel`` (pydantic) and the keys of
  the developer guide's "Input format of a Lambda function for proxy integration";
- the context object against the interface of the Python runtime's ``LambdaContext``
  (aws-lambda-python-runtime-interface-client, ``awslambdaric/lambda_context.py``);
- the environment against Lambda's "Defined runtime environment variables", read at call time,
  per function while several run at once, and the process's own environment untouched.
"""

from __future__ import annotations

import http.client
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventModel

from sandbox.api.proxy_event import RequestHeaders, request_time
from sandbox.functions import environment
from sandbox.functions.runtime import DeclaredFunction, LambdaContext
from sandbox.program.evaluation import PROJECT_DIR, Program
from sandbox.runtime import Sandbox

#: ``requestContext.identity`` keys of the developer guide's example event, plus the API key's two.
AWS_IDENTITY_KEYS = {
    "cognitoIdentityPoolId",
    "accountId",
    "cognitoIdentityId",
    "caller",
    "sourceIp",
    "principalOrgId",
    "accessKey",
    "cognitoAuthenticationType",
    "cognitoAuthenticationProvider",
    "userArn",
    "userAgent",
    "user",
    "apiKey",
    "apiKeyId",
    "clientCert",
}
#: The attributes and methods of awslambdaric's ``LambdaContext``.
RUNTIME_CONTEXT_ATTRIBUTES = {
    "aws_request_id": str,
    "log_group_name": str,
    "log_stream_name": str,
    "function_name": str,
    "memory_limit_in_mb": str,
    "function_version": str,
    "invoked_function_arn": str,
    "tenant_id": type(None),
    "client_context": type(None),
}
RUNTIME_CONTEXT_METHODS = {"get_remaining_time_in_millis", "log", "w3c"}
STREAM_NAME = re.compile(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}")


def _function(sandbox: Sandbox, handler: str) -> DeclaredFunction:
    return next(fn for fn in sandbox.functions.functions.values() if fn.handler == handler)


@contextmanager
def _probe(fn: DeclaredFunction, probe: Callable[[dict[str, Any], Any], Any]) -> Iterator[None]:
    """Run ``probe`` as ``fn``'s handler (its module stays loaded, as after a cold start)."""
    entry = fn._entry
    fn._entry = probe
    try:
        yield
    finally:
        fn._entry = entry


def _raw_request(sandbox: Sandbox, path: str, headers: list[tuple[str, str]]) -> int:
    """A GET with exactly these header lines (names in their case, repeats kept)."""
    host, port = sandbox.api_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest("GET", path, skip_accept_encoding=True)
    for name, value in headers:
        connection.putheader(name, value)
    connection.endheaders()
    status = connection.getresponse().status
    connection.close()
    return status


# --- the proxy event --------------------------------------------------------------------------


def test_the_proxy_event_is_api_gateways(module_sandbox: Sandbox, dev_program: Program) -> None:
    # GIVEN get-order, whose events are captured
    get_order = _function(module_sandbox, "handlers.get_order.handler")
    events: list[dict[str, Any]] = []
    module_sandbox.functions.faults[get_order.name] = events.append
    sent = [
        ("User-Agent", "probe/1.0"),
        ("X-Custom-Case", "kept"),
        ("x-multi", "1"),
        ("X-Multi", "2"),
        ("X-Forwarded-For", "203.0.113.7"),
    ]
    before_ms = int(time.time() * 1000)
    # WHEN a client sends a request with its own header case, a repeated header and a proxy chain
    assert _raw_request(module_sandbox, "/order/7?x=1&x=2", sent) == 404
    (event,) = events
    # THEN Powertools' model accepts the event
    model = APIGatewayProxyEventModel.model_validate(event)
    context = event["requestContext"]
    assert model.requestContext.accountId == dev_program.account_id
    # AND the ids are the program's: API, resource of the route, deployment of the stage
    api = dev_program.of_type("aws:apigateway/restApi:RestApi")[0]
    resource = next(r for r in dev_program.of_type("aws:apigateway/resource:Resource") if r["pathPart"] == "{id}")
    stage = dev_program.of_type("aws:apigateway/stage:Stage")[0]
    assert (context["apiId"], context["resourceId"], context["deploymentId"]) == (
        api.id,
        resource.id,
        stage["deployment"],
    )
    assert (context["resourcePath"], context["stage"], context["protocol"]) == ("/order/{id}", "api", "HTTP/1.1")
    assert context["path"] == "/api/order/7" and event["path"] == "/order/7"
    # AND the time is the request's, in both of AWS's forms
    assert before_ms <= context["requestTimeEpoch"] <= int(time.time() * 1000)
    assert context["requestTime"] == request_time(context["requestTimeEpoch"])
    assert re.fullmatch(r"\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000", context["requestTime"])
    # AND identity has every key, the caller's address and agent, null for what no caller here has
    identity = context["identity"]
    assert set(identity) == AWS_IDENTITY_KEYS
    assert (identity["sourceIp"], identity["userAgent"]) == ("127.0.0.1", "probe/1.0")
    assert all(identity[key] is None for key in AWS_IDENTITY_KEYS - {"sourceIp", "userAgent"})
    # AND the headers keep the client's case and every value of the repeated one (the last in headers)
    assert event["headers"]["X-Custom-Case"] == "kept"
    assert event["multiValueHeaders"]["x-multi"] == ["1", "2"] and event["headers"]["x-multi"] == "2"
    assert not {"x-custom-case", "user-agent"} & set(event["headers"])
    # AND API Gateway's own headers are added, the client's chain extended with its address
    port = module_sandbox.api_url.rsplit(":", 1)[1]
    assert event["headers"]["X-Forwarded-For"] == "203.0.113.7, 127.0.0.1"
    assert (event["headers"]["X-Forwarded-Port"], event["headers"]["X-Forwarded-Proto"]) == (port, "http")
    assert event["headers"]["Host"] == f"127.0.0.1:{port}" == context["domainName"]
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", event["headers"]["X-Amzn-Trace-Id"])
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"]}
    assert event["queryStringParameters"] == {"x": "2"}


def test_request_headers_are_looked_up_in_any_case() -> None:
    # GIVEN headers as a client sent them
    headers = RequestHeaders([("Content-TYPE", "application/json"), ("X-Api-Key", "a"), ("x-api-key", "b")])
    # WHEN the sandbox's validation looks them up in lower case (and in any other)
    # THEN it finds them, the last value of a repeated one, as API Gateway's checks would
    assert headers.get("content-type") == headers["CONTENT-TYPE"] == "application/json"
    assert headers.get("x-api-key") == "b" and "X-API-KEY" in headers
    assert headers.get("authorization", "") == ""
    assert headers.grouped() == {"Content-TYPE": ["application/json"], "X-Api-Key": ["a", "b"]}


def test_request_time_is_written_as_api_gateway_writes_it() -> None:
    # GIVEN 2 December 2026, 13:49:02.5 UTC  WHEN written as requestTime  THEN AWS's form, English month
    assert request_time(1796219342500) == "02/Dec/2026:13:49:02 +0000"
    assert request_time(0) == "01/Jan/1970:00:00:00 +0000"


# --- the context object -----------------------------------------------------------------------


def test_the_context_has_the_python_runtimes_interface(module_sandbox: Sandbox) -> None:
    # GIVEN notification, whose handler is replaced by a probe that writes with context.log()
    notification = _function(module_sandbox, "handlers.notification.handler")
    seen: dict[str, Any] = {}

    def probe(event: dict[str, Any], context: Any) -> None:
        seen["context"] = context
        seen["remaining"] = context.get_remaining_time_in_millis()
        context.log("logged through the context\n")

    # WHEN it is invoked
    with _probe(notification, probe):
        module_sandbox.functions.invoke(notification.arn, {}, request_id="request-1")
    context: LambdaContext = seen["context"]
    # THEN the context has every attribute of the runtime's, with the runtime's types
    for name, kind in RUNTIME_CONTEXT_ATTRIBUTES.items():
        assert isinstance(getattr(context, name), kind), name
    assert all(callable(getattr(context, name)) for name in RUNTIME_CONTEXT_METHODS)
    assert (context.memory_limit_in_mb, context.function_version) == ("256", "$LATEST")
    assert context.identity.cognito_identity_id is None and context.identity.cognito_identity_pool_id is None
    assert context.w3c() == {} and 0 < seen["remaining"] <= 10_000
    assert context.aws_request_id == "request-1" and context.invoked_function_arn == notification.arn
    # AND its stream name is Lambda's dated form, the stream where context.log() wrote
    assert STREAM_NAME.fullmatch(context.log_stream_name)
    logs = module_sandbox.client("logs")
    found = logs.filter_log_events(logGroupName=notification.log_group, filterPattern='"logged through the context"')
    assert [e["logStreamName"] for e in found["events"]] == [context.log_stream_name]


# --- the environment --------------------------------------------------------------------------


def test_a_handler_reads_its_environment_at_call_time(module_sandbox: Sandbox, dev_program: Program) -> None:
    # GIVEN create-order, whose handler reads os.environ when it is called
    create_order = _function(module_sandbox, "handlers.create_order.handler")
    seen: dict[str, Any] = {}

    def probe(event: dict[str, Any], context: Any) -> None:
        seen.update(os.environ)
        seen["getenv"] = os.getenv("ORDERS_TABLE_NAME")
        seen["boto3 region"] = boto3.session.Session().region_name
        seen["stream"] = context.log_stream_name

    # WHEN it is invoked
    with _probe(create_order, probe):
        module_sandbox.functions.invoke(create_order.arn, {})
    # THEN it sees its own variables and the ones Lambda defines, through os.environ, getenv and boto3
    assert seen["getenv"] == seen["ORDERS_TABLE_NAME"] == module_sandbox.outputs["orders_table_name"]
    assert seen["boto3 region"] == seen["AWS_REGION"] == seen["AWS_DEFAULT_REGION"] == dev_program.region
    defined = {
        "AWS_LAMBDA_FUNCTION_NAME": create_order.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": create_order.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": seen["stream"],
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "LAMBDA_TASK_ROOT": str(PROJECT_DIR),
        "_HANDLER": "handlers.create_order.handler",
        "TZ": ":UTC",
    }
    assert {name: seen.get(name) for name in defined} == defined
    # AND the test's own thread, running no function, sees none of it
    assert "AWS_LAMBDA_FUNCTION_NAME" not in os.environ and os.getenv("ORDERS_TABLE_NAME") is None


def test_functions_running_at_once_each_see_only_their_own_environment(module_sandbox: Sandbox) -> None:
    # GIVEN two functions whose probes read their environment while both are running
    functions = [_function(module_sandbox, h) for h in ("handlers.notification.handler", "handlers.get_order.handler")]
    both_running = threading.Barrier(2, timeout=10)
    seen: dict[str, dict[str, str]] = {}

    def probe(event: dict[str, Any], context: Any) -> None:
        os.environ["WRITTEN_BY"] = context.function_name
        both_running.wait()
        seen[context.function_name] = dict(os.environ)
        both_running.wait()

    # WHEN they run at the same time, each writing a variable of its own too
    with _probe(functions[0], probe), _probe(functions[1], probe):
        threads = [threading.Thread(target=module_sandbox.functions.invoke, args=(fn.arn, {})) for fn in functions]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(15)
    # THEN each saw its own name, variables and writes, and nothing of the other's
    notification, get_order = (seen[fn.name] for fn in functions)
    assert notification["AWS_LAMBDA_FUNCTION_NAME"] == notification["WRITTEN_BY"] == functions[0].name
    assert get_order["AWS_LAMBDA_FUNCTION_NAME"] == get_order["WRITTEN_BY"] == functions[1].name
    assert "NOTIFICATION_TOPIC_ARN" in notification and "NOTIFICATION_TOPIC_ARN" not in get_order
    assert "ORDERS_TABLE_NAME" in get_order and "ORDERS_TABLE_NAME" not in notification
    # AND the process never saw the writes
    assert "WRITTEN_BY" not in os.environ
    for fn in functions:
        fn.variables.pop("WRITTEN_BY")  # the shared sandbox's functions as they were


def test_the_thread_aware_environ_behaves_as_os_environ_for_a_function() -> None:
    # GIVEN the thread-aware os.environ and a function's variables
    variables: dict[str, str | None] = {"OWN": "1"}
    environment.install()
    try:
        with environment.FunctionEnvironment(variables):
            # WHEN the function reads, writes and deletes
            assert os.environ["OWN"] == "1" and "PATH" in os.environ
            os.environ["NEW"] = "2"
            del os.environ["PATH"]
            with pytest.raises(KeyError):
                del os.environ["NOT_SET_ANYWHERE"]
            with pytest.raises(TypeError):
                os.environ["BAD"] = 3  # pyrefly: ignore[bad-assignment]
            seen = os.environ.copy()
        # THEN it saw its changes as os.environ would show them, and the process kept its own
        assert seen["NEW"] == "2" and "PATH" not in seen and len(seen) == len(list(seen))
        assert variables == {"OWN": "1", "NEW": "2", "PATH": None}
        assert "PATH" in os.environ and "NEW" not in os.environ and "OWN" not in os.environ
    finally:
        environment.uninstall()
    assert type(os.environ) is os._Environ
