"""The endpoint's refusals name the operation and parse as AWS errors in every protocol SDKs speak."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore.parsers import create_parser

from sandbox.aws.endpoint import NOT_EMULATED_CODE, error_response, not_emulated_response, operation_name


def _environ(service: str, method: str = "POST", path: str = "/", **extra: str) -> dict[str, Any]:
    auth = f"AWS4-HMAC-SHA256 Credential=sandbox/20240101/us-east-1/{service}/aws4_request, SignedHeaders=host"
    return {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "HTTP_AUTHORIZATION": auth, **extra}


#: (service model, signing name, request environ extras, body, expected operation)
REQUESTS = [
    ("events", "events", {"HTTP_X_AMZ_TARGET": "AWSEvents.ListEndpoints"}, b"{}", "ListEndpoints"),
    (
        "sns",
        "sns",
        {"CONTENT_TYPE": "application/x-www-form-urlencoded"},
        b"Action=GetDataProtectionPolicy&Version=2010-03-31",
        "GetDataProtectionPolicy",
    ),
    (
        "lambda",
        "lambda",
        {"PATH_INFO": "/2021-11-15/functions/fn/response-streaming-invocations"},
        b"{}",
        "InvokeWithResponseStream",
    ),
    (
        "cloudwatch",
        "monitoring",
        {
            "PATH_INFO": "/service/GraniteServiceVersion20100801/operation/DescribeAlarms",
            "HTTP_SMITHY_PROTOCOL": "rpc-v2-cbor",
        },
        b"",
        "DescribeAlarms",
    ),
]


@pytest.mark.parametrize(("model", "signing", "extra", "body", "operation"), REQUESTS, ids=[r[0] for r in REQUESTS])
def test_a_refusal_names_the_operation_and_parses_as_the_clients_error(
    model: str, signing: str, extra: dict[str, str], body: bytes, operation: str
) -> None:
    # GIVEN a request as the SDK sends it for this service's protocol
    environ = _environ(signing, **extra)
    # WHEN the endpoint names it and refuses it
    assert operation_name(environ, body) == (signing, operation)
    response = not_emulated_response(environ, body, "a reason")
    # THEN botocore's parser for that protocol reads a NotImplemented error naming the operation
    service_model = botocore.session.get_session().get_service_model(model)
    protocol = service_model.metadata["protocol"]
    parsed = create_parser(protocol).parse(
        {"status_code": response.status_code, "headers": dict(response.headers), "body": response.get_data()},
        service_model.operation_model(operation).output_shape,
    )
    assert response.status_code == 501
    assert parsed["Error"]["Code"] == NOT_EMULATED_CODE
    assert parsed["Error"]["Message"].startswith(f"The sandbox does not emulate {model} {operation}: a reason")


def test_an_ambiguous_or_unknown_path_names_no_operation_rather_than_a_wrong_one() -> None:
    # GIVEN S3's "GET /" (ListBuckets or ListDirectoryBuckets) and a path no API has
    ambiguous = _environ("s3", method="GET", path="/")
    unknown = _environ("lambda", method="GET", path="/nowhere")
    # WHEN named THEN no operation is guessed, and the refusal shows the method and path instead
    assert operation_name(ambiguous, b"") == ("s3", None)
    assert operation_name(unknown, b"") == ("lambda", None)
    response = not_emulated_response(unknown, b"", "a reason")
    assert b"does not emulate lambda GET /nowhere" in response.get_data()


def test_an_internal_failure_is_a_500_the_client_reads() -> None:
    # GIVEN a JSON-protocol request WHEN the sandbox reports its own failure
    environ = _environ("dynamodb", HTTP_X_AMZ_TARGET="DynamoDB_20120810.Scan")
    response = error_response(environ, "InternalFailure", "boom", 500)
    # THEN a 500 with AWS's code, as AWS reports its own faults
    parsed = create_parser("json").parse(
        {"status_code": 500, "headers": dict(response.headers), "body": response.get_data()}, None
    )
    assert response.status_code == 500
    assert (parsed["Error"]["Code"], parsed["Error"]["Message"]) == ("InternalFailure", "boom")
