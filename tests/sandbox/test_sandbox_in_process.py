"""The sandbox's own AWS calls, handed to the endpoint's application in-process: the same answers as over HTTP.

``sandbox.aws.in_process`` skips only the socket; these tests send the same calls both ways (to
``127.0.0.1``, which the process serves in-process, and to ``localhost``, the same server reached
over HTTP), compare what comes back, errors included, and check each call runs once.
"""

from __future__ import annotations

import io
import json
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

from sandbox.aws import in_process
from sandbox.runtime import Sandbox


def _http_url(sandbox: Sandbox) -> str:
    """The endpoint under another name, which the process does not serve in-process."""
    return sandbox.endpoint_url.replace("127.0.0.1", "localhost")


def _over_http(sandbox: Sandbox, service: str) -> Any:
    """A client whose requests botocore sends over the network, to the same server."""
    session = boto3.session.Session(
        aws_access_key_id="sandbox", aws_secret_access_key="sandbox", region_name=sandbox.program.region
    )
    return session.client(service, endpoint_url=_http_url(sandbox))  # pyrefly: ignore[no-matching-overload]


def _error(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    response = raised.value.response
    return {"code": response["Error"]["Code"], "message": response["Error"]["Message"],
            "status": response["ResponseMetadata"]["HTTPStatusCode"]}  # fmt: skip


def test_the_same_calls_get_the_same_answers_in_process_and_over_http(module_sandbox: Sandbox) -> None:
    # GIVEN the running sandbox's endpoint, reached in-process and over HTTP
    sandbox = module_sandbox
    # WHEN the same reads and the same refusals are asked both ways
    table = sandbox.outputs["orders_table_name"]
    answers, queue_urls = {}, {}
    for way, make in (("in-process", sandbox.client), ("http", lambda s: _over_http(sandbox, s))):
        dynamodb, sqs, s3 = make("dynamodb"), make("sqs"), make("s3")
        described = dynamodb.describe_table(TableName=table)["Table"]
        queue_urls[way] = sqs.list_queues()["QueueUrls"]
        answers[way] = {
            "table": {k: described[k] for k in ("TableName", "KeySchema", "StreamSpecification", "LatestStreamArn")},
            "queues": sorted(url.rsplit("/", 1)[1] for url in queue_urls[way]),
            "no such table": _error(dynamodb.describe_table, TableName="no-such-table"),
            "not served": _error(s3.list_buckets),
        }
    # THEN they are the same: a table, the queues, and AWS-style errors
    assert answers["in-process"] == answers["http"]
    assert answers["http"]["no such table"]["code"] == "ResourceNotFoundException"
    assert answers["http"]["not served"]["status"] == 501
    # AND each queue URL names the host the request was sent to, as over the network
    assert all(url.startswith(sandbox.endpoint_url + "/") for url in queue_urls["in-process"])
    assert all(url.startswith(_http_url(sandbox) + "/") for url in queue_urls["http"])


def test_each_call_runs_once_in_process_from_any_session_and_a_file_body_is_sent_whole(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the endpoint's application, counting the requests it gets in-process
    served = in_process._APPS[sandbox.endpoint_url]
    calls: list[str] = []

    def counting(environ: dict[str, Any], start_response: Any) -> Any:
        calls.append(environ["PATH_INFO"])
        return served(environ, start_response)

    monkeypatch.setitem(in_process._APPS, sandbox.endpoint_url, counting)
    queue = sandbox.program.of_type("aws:sqs/queue:Queue")[0]["name"]
    fresh_session = boto3.session.Session(aws_access_key_id="a", aws_secret_access_key="b", region_name="us-east-1")
    # WHEN one message is sent by a client of boto3's default session and one by a session made now
    clients = [
        boto3.client("sqs", endpoint_url=sandbox.endpoint_url, region_name="us-east-1"),
        fresh_session.client("sqs", endpoint_url=sandbox.endpoint_url),
    ]
    for sqs in clients:
        sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=queue)["QueueUrl"], MessageBody="once")
    # AND a function is invoked with a payload read from a file
    get_order = next(fn for fn in sandbox.functions.functions.values() if fn.handler == "handlers.get_order.handler")
    payload = io.BytesIO(json.dumps({"httpMethod": "GET", "pathParameters": {"id": "7"}}).encode())
    answer = sandbox.client("lambda").invoke(FunctionName=get_order.name, Payload=payload)
    # THEN each call reached the application once, in-process: two lookups and two sends, the
    # invocation, and the function's own read of the table (its client is the process's too)
    invocation = f"/2015-03-31/functions/{get_order.name}/invocations"
    assert calls == ["/", "/", "/", "/", invocation, "/"]
    # AND the queue holds exactly the two messages
    url = sandbox.client("sqs").get_queue_url(QueueName=queue)["QueueUrl"]
    attributes = sandbox.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "2"
    # AND the function got the whole payload: it answers for order 7, which does not exist
    assert answer["StatusCode"] == 200
    assert json.loads(json.load(answer["Payload"])["body"]) == {"error": "order 7 not found"}


def test_an_endpoint_no_longer_served_is_not_answered_in_process() -> None:
    # GIVEN an endpoint URL this process stopped serving (nothing listens there)
    url = "http://127.0.0.1:9"
    in_process.serve(url, lambda environ, start_response: [])
    in_process.stop_serving(url)
    client = boto3.client(  # pyrefly: ignore[no-matching-overload]
        "sqs",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"total_max_attempts": 1}),
    )
    # WHEN it is called
    # THEN botocore sent it over the network, and nothing answered
    with pytest.raises(EndpointConnectionError):
        client.list_queues()


def test_an_application_that_raises_answers_a_bare_500_as_the_http_server_does() -> None:
    # GIVEN an endpoint whose application raises (a failure of the sandbox itself, outside moto)
    url = "http://127.0.0.1:9"

    def failing(environ: dict[str, Any], start_response: Any) -> Any:
        raise RuntimeError("the sandbox broke")

    in_process.serve(url, failing)
    client = boto3.client(  # pyrefly: ignore[no-matching-overload]
        "sqs",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"total_max_attempts": 1}),
    )
    try:
        # WHEN it is called in-process
        with pytest.raises(ClientError) as raised:
            client.list_queues()
    finally:
        in_process.stop_serving(url)
    # THEN the caller gets what werkzeug's server sends then: HTTP 500, not the Python exception
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
