"""The sandbox's own AWS calls, handed to the endpoint's application in-process: the same answers as over HTTP.

``sandbox.aws.in_process`` skips only the socket; these tests send the same calls both ways (a
client of the default boto3 session goes in-process, one of another session over HTTP) and
compare what comes back, errors included, and check each call runs once.
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


def _over_http(sandbox: Sandbox, service: str) -> Any:
    """A client of its own boto3 session: botocore sends its requests over the network."""
    session = boto3.session.Session(
        aws_access_key_id="sandbox", aws_secret_access_key="sandbox", region_name=sandbox.program.region
    )
    return session.client(service, endpoint_url=sandbox.endpoint_url)  # pyrefly: ignore[no-matching-overload]


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
    answers = {}
    for way, make in (("in-process", sandbox.client), ("http", lambda s: _over_http(sandbox, s))):
        dynamodb, sqs, s3 = make("dynamodb"), make("sqs"), make("s3")
        described = dynamodb.describe_table(TableName=table)["Table"]
        answers[way] = {
            "table": {k: described[k] for k in ("TableName", "KeySchema", "StreamSpecification", "LatestStreamArn")},
            "queues": sorted(sqs.list_queues()["QueueUrls"]),
            "no such table": _error(dynamodb.describe_table, TableName="no-such-table"),
            "not served": _error(s3.list_buckets),
        }
    # THEN they are the same: a table, the queue URLs (the endpoint's own host), and AWS-style errors
    assert answers["in-process"] == answers["http"]
    assert answers["http"]["no such table"]["code"] == "ResourceNotFoundException"
    assert answers["http"]["not served"]["status"] == 501
    assert all(url.startswith(sandbox.endpoint_url) for url in answers["http"]["queues"])


def test_each_in_process_call_runs_once_and_a_file_body_is_sent_whole(sandbox: Sandbox) -> None:
    # GIVEN a queue and a function of the sandbox
    sqs = sandbox.client("sqs")
    url = sqs.get_queue_url(QueueName=sandbox.program.of_type("aws:sqs/queue:Queue")[0]["name"])["QueueUrl"]
    # WHEN one message is sent in-process, and a function is invoked with a payload read from a file
    sqs.send_message(QueueUrl=url, MessageBody="once")
    get_order = next(fn for fn in sandbox.functions.functions.values() if fn.handler == "handlers.get_order.handler")
    payload = io.BytesIO(json.dumps({"httpMethod": "GET", "pathParameters": {"id": "7"}}).encode())
    answer = sandbox.client("lambda").invoke(FunctionName=get_order.name, Payload=payload)
    # THEN the queue holds exactly one message (the request was not also sent over HTTP)
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "1"
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
