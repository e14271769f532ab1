"""Create what the program declares on the embedded AWS endpoint, under the same names.

Each creation is the AWS API call the provider would make (through boto3, against the local
endpoint), so ``aws --endpoint-url`` sees the same tables, buses, rules, targets, queues, topics,
log groups and state machine a deployed stack has.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3
from botocore.client import BaseClient

from components.lambda_function import HANDLERS_DIR
from sandbox.program import DeclaredResource, Program


def client(service: str, endpoint_url: str, region: str) -> BaseClient:
    """A boto3 client for the local endpoint with dummy credentials."""
    # The boto3 stubs overload ``client`` per literal service name; here the service is a parameter.
    return boto3.client(  # pyrefly: ignore[no-matching-overload]
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="sandbox",
        aws_secret_access_key="sandbox",
    )


def _target_request(target: DeclaredResource) -> dict[str, Any]:
    request: dict[str, Any] = {"Id": target["targetId"], "Arn": target["arn"]}
    if target.get("roleArn"):
        request["RoleArn"] = target["roleArn"]
    retry = target.get("retryPolicy")
    if retry:
        request["RetryPolicy"] = {
            "MaximumRetryAttempts": int(retry["maximumRetryAttempts"]),
            "MaximumEventAgeInSeconds": int(retry["maximumEventAgeInSeconds"]),
        }
    dead_letter = target.get("deadLetterConfig")
    if dead_letter:
        request["DeadLetterConfig"] = {"Arn": dead_letter["arn"]}
    return request


def _handlers_zip() -> bytes:
    """The ``handlers`` package as the program ships it (what ``lambda get-function`` returns)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(HANDLERS_DIR.iterdir()):
            if path.suffix in (".py", ".json"):
                archive.write(path, f"handlers/{path.name}")
    return buffer.getvalue()


def deploy(program: Program, endpoint_url: str) -> None:
    """Create every resource of ``program`` the sandbox emulates on the endpoint."""
    region = program.region

    def aws(service: str) -> Any:
        return client(service, endpoint_url, region)

    sqs, sns, logs, events = aws("sqs"), aws("sns"), aws("logs"), aws("events")
    dynamodb, sfn, iam = aws("dynamodb"), aws("stepfunctions"), aws("iam")

    queue_urls: dict[str, str] = {}
    for queue in program.of_type("aws:sqs/queue:Queue"):
        attributes = {"SqsManagedSseEnabled": str(bool(queue.get("sqsManagedSseEnabled"))).lower()}
        if queue.get("messageRetentionSeconds"):
            attributes["MessageRetentionPeriod"] = str(int(queue["messageRetentionSeconds"]))
        url = sqs.create_queue(QueueName=queue["name"], Attributes=attributes)["QueueUrl"]
        queue_urls[queue["url"]] = url
    for policy in program.of_type("aws:sqs/queuePolicy:QueuePolicy"):
        sqs.set_queue_attributes(QueueUrl=queue_urls[policy["queueUrl"]], Attributes={"Policy": policy["policy"]})

    for topic in program.of_type("aws:sns/topic:Topic"):
        attributes = {"KmsMasterKeyId": topic["kmsMasterKeyId"]} if topic.get("kmsMasterKeyId") else {}
        sns.create_topic(Name=topic["name"], Attributes=attributes)
    for subscription in program.of_type("aws:sns/topicSubscription:TopicSubscription"):
        sns.subscribe(
            TopicArn=subscription["topic"], Protocol=subscription["protocol"], Endpoint=subscription["endpoint"]
        )

    for group in program.of_type("aws:cloudwatch/logGroup:LogGroup"):
        logs.create_log_group(logGroupName=group["name"])
        if group.get("retentionInDays"):
            logs.put_retention_policy(logGroupName=group["name"], retentionInDays=int(group["retentionInDays"]))
    for policy in program.of_type("aws:cloudwatch/logResourcePolicy:LogResourcePolicy"):
        scope = (
            {"resourceArn": policy["resourceArn"]}
            if policy.get("resourceArn")
            else {"policyName": policy["policyName"]}
        )
        logs.put_resource_policy(policyDocument=policy["policyDocument"], **scope)

    for table in program.of_type("aws:dynamodb/table:Table"):
        dynamodb.create_table(
            TableName=table["name"],
            AttributeDefinitions=[
                {"AttributeName": a["name"], "AttributeType": a["type"]} for a in table["attributes"]
            ],
            KeySchema=[{"AttributeName": table["hashKey"], "KeyType": "HASH"}],
            BillingMode=table.get("billingMode", "PAY_PER_REQUEST"),
            SSESpecification={"Enabled": bool((table.get("serverSideEncryption") or {}).get("enabled"))},
            DeletionProtectionEnabled=bool(table.get("deletionProtectionEnabled")),
        )
        if (table.get("pointInTimeRecovery") or {}).get("enabled"):
            dynamodb.update_continuous_backups(
                TableName=table["name"],
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )

    for role in program.of_type("aws:iam/role:Role"):
        iam.create_role(RoleName=role["name"], AssumeRolePolicyDocument=role["assumeRolePolicy"])
    roles_by_id = {r.id: r["name"] for r in program.of_type("aws:iam/role:Role")}
    for policy in program.of_type("aws:iam/rolePolicy:RolePolicy"):
        iam.put_role_policy(
            RoleName=roles_by_id.get(policy["role"], policy["role"]),
            PolicyName=policy.name,
            PolicyDocument=policy["policy"],
        )

    for machine in program.of_type("aws:sfn/stateMachine:StateMachine"):
        logging_config = machine.get("loggingConfiguration") or {}
        sfn.create_state_machine(
            name=machine["name"],
            definition=machine["definition"],
            roleArn=machine["roleArn"],
            type=machine.get("type", "STANDARD"),
            loggingConfiguration={
                "level": logging_config.get("level", "OFF"),
                "includeExecutionData": bool(logging_config.get("includeExecutionData")),
                "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": logging_config["logDestination"]}}]
                if logging_config.get("logDestination")
                else [],
            },
            tracingConfiguration={"enabled": bool((machine.get("tracingConfiguration") or {}).get("enabled"))},
        )

    lambda_ = aws("lambda")
    code = _handlers_zip()
    for fn in program.of_type("aws:lambda/function:Function"):
        # The code is listed, not run here: the sandbox runs the same files in-process.
        lambda_.create_function(
            FunctionName=fn["name"],
            Runtime=fn["runtime"],
            Role=fn["role"],
            Handler=fn["handler"],
            Code={"ZipFile": code},
            Description=fn.get("description", ""),
            Timeout=int(fn.get("timeout", 3)),
            MemorySize=int(fn.get("memorySize", 128)),
            Architectures=list(fn.get("architectures") or ["x86_64"]),
            Environment={"Variables": dict((fn.get("environment") or {}).get("variables") or {})},
            TracingConfig={"Mode": (fn.get("tracingConfig") or {}).get("mode", "PassThrough")},
        )
    for permission in program.of_type("aws:lambda/permission:Permission"):
        lambda_.add_permission(
            FunctionName=permission["function"],
            StatementId=permission.name,
            Action=permission["action"],
            Principal=permission["principal"],
            SourceArn=permission["sourceArn"],
        )
    for config in program.of_type("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"):
        on_failure = ((config.get("destinationConfig") or {}).get("onFailure") or {}).get("destination")
        lambda_.put_function_event_invoke_config(
            FunctionName=config["functionName"],
            MaximumRetryAttempts=int(config["maximumRetryAttempts"]),
            MaximumEventAgeInSeconds=int(config["maximumEventAgeInSeconds"]),
            DestinationConfig={"OnFailure": {"Destination": on_failure}} if on_failure else {},
        )

    for bus in program.of_type("aws:cloudwatch/eventBus:EventBus"):
        events.create_event_bus(Name=bus["name"])
    for archive in program.of_type("aws:cloudwatch/eventArchive:EventArchive"):
        events.create_archive(
            ArchiveName=archive["name"],
            EventSourceArn=archive["eventSourceArn"],
            RetentionDays=int(archive.get("retentionDays", 0)),
        )
    for rule in program.of_type("aws:cloudwatch/eventRule:EventRule"):
        events.put_rule(
            Name=rule["name"],
            EventBusName=rule["eventBusName"],
            EventPattern=rule["eventPattern"],
            Description=rule.get("description", ""),
            State="ENABLED",
        )
    for target in program.of_type("aws:cloudwatch/eventTarget:EventTarget"):
        response = events.put_targets(
            Rule=target["rule"], EventBusName=target["eventBusName"], Targets=[_target_request(target)]
        )
        if response.get("FailedEntryCount"):
            raise RuntimeError(f"could not create target {target.name}: {json.dumps(response['FailedEntries'])}")
