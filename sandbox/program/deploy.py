"""Create what the program declares on the embedded AWS endpoint, under the same names.

Each creation is the AWS API call the provider would make (through boto3, against the local
endpoint), so ``aws --endpoint-url`` sees the same tables, buses, rules, targets, queues, topics,
log groups and state machine a deployed stack has. :data:`CREATORS` holds one creator per
resource type, in creation order; :data:`NOT_DEPLOYED` names every other type the program
declares with the reason the endpoint needs nothing for it. A declared type in neither is listed
loudly (a WARNING naming the types and counts) rather than skipped in silence.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pulumi
from botocore.client import BaseClient
from moto.dynamodb.models import dynamodb_backends
from moto.kms.models import kms_backends

from sandbox.program.evaluation import DeclaredResource, Program

log = logging.getLogger("sandbox.deploy")
#: What a DynamoDB stream's ARN contains (``table/<name>/stream/<label>``).
#: What a stream's ARN has between its table's ARN and its label (``.../stream/<label>``).
STREAM_ARN_SEPARATOR = "/stream/"


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


class NotEmulatedError(ValueError):
    """The program declares something the sandbox cannot reproduce faithfully: refused, not approximated."""


@dataclass
class Deployment:
    """One deploy in progress: the endpoint's clients and what earlier creators learned."""

    program: Program
    endpoint_url: str
    _clients: dict[str, Any] = field(default_factory=dict)
    #: Declared queue URL (the provider's) -> the endpoint's URL for the same queue.
    queue_urls: dict[str, str] = field(default_factory=dict)

    def aws(self, service: str) -> Any:
        """The endpoint's client for ``service`` (one per deploy)."""
        if service not in self._clients:
            self._clients[service] = client(service, self.endpoint_url, self.program.region)
        return self._clients[service]


# --- SQS and SNS ------------------------------------------------------------------------------
def _queue(d: Deployment, queue: DeclaredResource) -> None:
    attributes = {"SqsManagedSseEnabled": str(bool(queue.get("sqsManagedSseEnabled"))).lower()}
    if queue.get("messageRetentionSeconds"):
        attributes["MessageRetentionPeriod"] = str(int(queue["messageRetentionSeconds"]))
    url = d.aws("sqs").create_queue(QueueName=queue["name"], Attributes=attributes)["QueueUrl"]
    d.queue_urls[queue["url"]] = url


def _queue_policy(d: Deployment, policy: DeclaredResource) -> None:
    d.aws("sqs").set_queue_attributes(
        QueueUrl=d.queue_urls[policy["queueUrl"]], Attributes={"Policy": policy["policy"]}
    )


def _topic(d: Deployment, topic: DeclaredResource) -> None:
    attributes = {"KmsMasterKeyId": topic["kmsMasterKeyId"]} if topic.get("kmsMasterKeyId") else {}
    d.aws("sns").create_topic(Name=topic["name"], Attributes=attributes)


def _topic_policy(d: Deployment, policy: DeclaredResource) -> None:
    d.aws("sns").set_topic_attributes(TopicArn=policy["arn"], AttributeName="Policy", AttributeValue=policy["policy"])


def _subscription(d: Deployment, subscription: DeclaredResource) -> None:
    d.aws("sns").subscribe(
        TopicArn=subscription["topic"], Protocol=subscription["protocol"], Endpoint=subscription["endpoint"]
    )


# --- CloudWatch Logs --------------------------------------------------------------------------
def _log_group(d: Deployment, group: DeclaredResource) -> None:
    d.aws("logs").create_log_group(logGroupName=group["name"])
    if group.get("retentionInDays"):
        d.aws("logs").put_retention_policy(logGroupName=group["name"], retentionInDays=int(group["retentionInDays"]))


def _log_resource_policy(d: Deployment, policy: DeclaredResource) -> None:
    scope = (
        {"resourceArn": policy["resourceArn"]} if policy.get("resourceArn") else {"policyName": policy["policyName"]}
    )
    d.aws("logs").put_resource_policy(policyDocument=policy["policyDocument"], **scope)


# --- DynamoDB ---------------------------------------------------------------------------------
#: Table properties :func:`table_request` turns into the CreateTable call.
TABLE_PROPERTIES = frozenset(
    {
        "name",
        "arn",
        "attributes",
        "hashKey",
        "rangeKey",
        "globalSecondaryIndexes",
        "billingMode",
        "serverSideEncryption",
        "deletionProtectionEnabled",
        "pointInTimeRecovery",
        "streamEnabled",
        "streamViewType",
        "streamArn",
        "streamLabel",
    }
)
#: Table properties that change nothing the endpoint shows or does.
TABLE_PROPERTIES_WITHOUT_EFFECT = frozenset({"tags", "tagsAll"})


def _key_schema(hash_key: str, range_key: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return schema


def _index_request(index: dict[str, Any]) -> dict[str, Any]:
    projection: dict[str, Any] = {"ProjectionType": index.get("projectionType", "ALL")}
    if index.get("nonKeyAttributes"):
        projection["NonKeyAttributes"] = list(index["nonKeyAttributes"])
    return {
        "IndexName": index["name"],
        "KeySchema": _key_schema(index["hashKey"], index.get("rangeKey")),
        "Projection": projection,
    }


def table_request(table: dict[str, Any]) -> dict[str, Any]:
    """The CreateTable request for a declared table (its resolved state), every key and index included.

    Refuses (:class:`NotEmulatedError`) a property it would otherwise drop, and, as DynamoDB does,
    attribute definitions that are not exactly the attributes the keys and indexes use
    ("Number of attributes in KeySchema does not exactly match number of attributes defined in
    AttributeDefinitions").
    """
    unknown = set(table) - TABLE_PROPERTIES - TABLE_PROPERTIES_WITHOUT_EFFECT
    if unknown:
        raise NotEmulatedError(f"table {table.get('name')}: the sandbox does not emulate {sorted(unknown)}")
    indexes = [_index_request(i) for i in table.get("globalSecondaryIndexes") or []]
    key_schema = _key_schema(table["hashKey"], table.get("rangeKey"))
    used = {k["AttributeName"] for k in key_schema} | {
        k["AttributeName"] for index in indexes for k in index["KeySchema"]
    }
    defined = {a["name"] for a in table["attributes"]}
    if used != defined:
        raise NotEmulatedError(
            f"table {table.get('name')}: DynamoDB refuses attribute definitions {sorted(defined)} "
            f"for keys and indexes on {sorted(used)}"
        )
    request: dict[str, Any] = {
        "TableName": table["name"],
        "AttributeDefinitions": [{"AttributeName": a["name"], "AttributeType": a["type"]} for a in table["attributes"]],
        "KeySchema": key_schema,
        "BillingMode": table.get("billingMode", "PAY_PER_REQUEST"),
        "SSESpecification": {"Enabled": bool((table.get("serverSideEncryption") or {}).get("enabled"))},
        "DeletionProtectionEnabled": bool(table.get("deletionProtectionEnabled")),
    }
    if indexes:
        request["GlobalSecondaryIndexes"] = indexes
    if table.get("streamEnabled"):
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table["streamViewType"]}
    return request


def adopt_stream_label(account_id: str, region: str, table_name: str, stream_arn: str) -> None:
    """Give a moto table's stream the label the program's provider state names (``streamArn``).

    DynamoDB labels a stream with the time it was enabled, and the provider reads that back; the
    sandbox creates the stream under the label the program was evaluated with, so the mapping's
    ``EventSourceArn`` and the publisher's policy name the stream the endpoint serves.
    """
    table = dynamodb_backends[account_id][region].get_table(table_name)
    table.latest_stream_label = stream_arn.rsplit(STREAM_ARN_SEPARATOR, 1)[1]


def _table(d: Deployment, table: DeclaredResource) -> None:
    d.aws("dynamodb").create_table(**table_request(table.state))
    if table.get("streamArn"):
        adopt_stream_label(d.program.account_id, d.program.region, table["name"], table["streamArn"])
    if (table.get("pointInTimeRecovery") or {}).get("enabled"):
        d.aws("dynamodb").update_continuous_backups(
            TableName=table["name"], PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )


# --- IAM and Step Functions -------------------------------------------------------------------
def _role(d: Deployment, role: DeclaredResource) -> None:
    d.aws("iam").create_role(RoleName=role["name"], AssumeRolePolicyDocument=role["assumeRolePolicy"])


def _role_policy(d: Deployment, policy: DeclaredResource) -> None:
    roles_by_id = {r.id: r["name"] for r in d.program.of_type("aws:iam/role:Role")}
    d.aws("iam").put_role_policy(
        RoleName=roles_by_id.get(policy["role"], policy["role"]),
        PolicyName=policy.name,
        PolicyDocument=policy["policy"],
    )


def _state_machine(d: Deployment, machine: DeclaredResource) -> None:
    logging_config = machine.get("loggingConfiguration") or {}
    destination = logging_config.get("logDestination")
    d.aws("stepfunctions").create_state_machine(
        name=machine["name"],
        definition=machine["definition"],
        roleArn=machine["roleArn"],
        type=machine.get("type", "STANDARD"),
        loggingConfiguration={
            "level": logging_config.get("level", "OFF"),
            "includeExecutionData": bool(logging_config.get("includeExecutionData")),
            "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": destination}}] if destination else [],
        },
        tracingConfiguration={"enabled": bool((machine.get("tracingConfiguration") or {}).get("enabled"))},
    )


# --- Lambda -----------------------------------------------------------------------------------
def archive_zip(archive: Any) -> bytes:
    """The zip of a declared ``pulumi.AssetArchive``: exactly its files, under their archive names.

    The program's ``code`` input reaches the mocks as the archive object itself; file and string
    assets are read as the CLI would read them. Any other asset or archive kind is refused.
    """
    if not isinstance(archive, pulumi.AssetArchive):
        raise NotEmulatedError(f"the sandbox reads function code from an AssetArchive, got {type(archive).__name__}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, asset in sorted(archive.assets.items()):
            if isinstance(asset, pulumi.FileAsset):
                zipped.write(Path(asset.path), name)
            elif isinstance(asset, pulumi.StringAsset):
                zipped.writestr(name, asset.text)
            else:
                raise NotEmulatedError(f"archive member {name}: the sandbox does not read {type(asset).__name__}")
    return buffer.getvalue()


def _function(d: Deployment, fn: DeclaredResource) -> None:
    # The code is listed, not run here: the sandbox runs the same files in-process.
    d.aws("lambda").create_function(
        FunctionName=fn["name"],
        Runtime=fn["runtime"],
        Role=fn["role"],
        Handler=fn["handler"],
        Code={"ZipFile": archive_zip(fn["code"])},
        Description=fn.get("description", ""),
        Timeout=int(fn.get("timeout", 3)),
        MemorySize=int(fn.get("memorySize", 128)),
        Architectures=list(fn.get("architectures") or ["x86_64"]),
        Environment={"Variables": dict((fn.get("environment") or {}).get("variables") or {})},
        TracingConfig={"Mode": (fn.get("tracingConfig") or {}).get("mode", "PassThrough")},
    )


def _permission(d: Deployment, permission: DeclaredResource) -> None:
    d.aws("lambda").add_permission(
        FunctionName=permission["function"],
        StatementId=permission.name,
        Action=permission["action"],
        Principal=permission["principal"],
        SourceArn=permission["sourceArn"],
    )


def _event_invoke_config(d: Deployment, config: DeclaredResource) -> None:
    on_failure = ((config.get("destinationConfig") or {}).get("onFailure") or {}).get("destination")
    d.aws("lambda").put_function_event_invoke_config(
        FunctionName=config["functionName"],
        MaximumRetryAttempts=int(config["maximumRetryAttempts"]),
        MaximumEventAgeInSeconds=int(config["maximumEventAgeInSeconds"]),
        DestinationConfig={"OnFailure": {"Destination": on_failure}} if on_failure else {},
    )


def _event_source_mapping(d: Deployment, mapping: DeclaredResource) -> None:
    """Stored by moto as declared; :mod:`sandbox.delivery.stream_mapping` runs it (DynamoDB streams only)."""
    if STREAM_ARN_SEPARATOR not in mapping["eventSourceArn"]:
        raise NotEmulatedError(f"event source mapping {mapping.name}: the sandbox runs DynamoDB stream sources only")
    request: dict[str, Any] = {
        "EventSourceArn": mapping["eventSourceArn"],
        "FunctionName": mapping["functionName"],
        "StartingPosition": mapping["startingPosition"],
        "BatchSize": int(mapping.get("batchSize", 100)),
        "BisectBatchOnFunctionError": bool(mapping.get("bisectBatchOnFunctionError")),
        "MaximumRetryAttempts": int(mapping.get("maximumRetryAttempts", -1)),
        "MaximumRecordAgeInSeconds": int(mapping.get("maximumRecordAgeInSeconds", -1)),
        "FunctionResponseTypes": list(mapping.get("functionResponseTypes") or []),
        "FilterCriteria": {
            "Filters": [{"Pattern": f["pattern"]} for f in (mapping.get("filterCriteria") or {}).get("filters", [])]
        },
    }
    on_failure = ((mapping.get("destinationConfig") or {}).get("onFailure") or {}).get("destinationArn")
    if on_failure:
        request["DestinationConfig"] = {"OnFailure": {"Destination": on_failure}}
    d.aws("lambda").create_event_source_mapping(**request)


# --- EventBridge ------------------------------------------------------------------------------
def _bus(d: Deployment, bus: DeclaredResource) -> None:
    d.aws("events").create_event_bus(Name=bus["name"])


def _archive(d: Deployment, archive: DeclaredResource) -> None:
    d.aws("events").create_archive(
        ArchiveName=archive["name"],
        EventSourceArn=archive["eventSourceArn"],
        RetentionDays=int(archive.get("retentionDays", 0)),
    )


def _rule(d: Deployment, rule: DeclaredResource) -> None:
    d.aws("events").put_rule(
        Name=rule["name"],
        EventBusName=rule["eventBusName"],
        EventPattern=rule["eventPattern"],
        Description=rule.get("description", ""),
        State="ENABLED",
    )


def target_request(target: DeclaredResource) -> dict[str, Any]:
    """The PutTargets entry of a declared rule target."""
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


def _target(d: Deployment, target: DeclaredResource) -> None:
    response = d.aws("events").put_targets(
        Rule=target["rule"], EventBusName=target["eventBusName"], Targets=[target_request(target)]
    )
    if response.get("FailedEntryCount"):
        raise RuntimeError(f"could not create target {target.name}: {json.dumps(response['FailedEntries'])}")


# --- CloudWatch and KMS (Operations) ------------------------------------------------------------
def _metric_alarm(d: Deployment, alarm: DeclaredResource) -> None:
    # Created as declared; never evaluated here (the sandbox emits no metrics): its state stays
    # moto's initial one.
    request: dict[str, Any] = {
        "AlarmName": alarm["name"],
        "AlarmDescription": alarm.get("alarmDescription", ""),
        "ActionsEnabled": bool(alarm.get("actionsEnabled", True)),
        "AlarmActions": list(alarm.get("alarmActions") or []),
        "OKActions": list(alarm.get("okActions") or []),
        "InsufficientDataActions": list(alarm.get("insufficientDataActions") or []),
        "MetricName": alarm["metricName"],
        "Namespace": alarm["namespace"],
        "Statistic": alarm["statistic"],
        "Dimensions": [{"Name": k, "Value": str(v)} for k, v in sorted((alarm.get("dimensions") or {}).items())],
        "Period": int(alarm["period"]),
        "EvaluationPeriods": int(alarm["evaluationPeriods"]),
        "Threshold": float(alarm["threshold"]),
        "ComparisonOperator": alarm["comparisonOperator"],
        "TreatMissingData": alarm.get("treatMissingData", "missing"),
    }
    d.aws("cloudwatch").put_metric_alarm(**request)


def _dashboard(d: Deployment, dashboard: DeclaredResource) -> None:
    d.aws("cloudwatch").put_dashboard(
        DashboardName=dashboard["dashboardName"], DashboardBody=dashboard["dashboardBody"]
    )


def _kms_key(d: Deployment, key: DeclaredResource) -> None:
    created = d.aws("kms").create_key(Policy=key["policy"], Description=key.get("description", ""))["KeyMetadata"]
    if key.get("enableKeyRotation"):
        d.aws("kms").enable_key_rotation(KeyId=created["KeyId"])
    # KMS picks a key's id; the program's topic names the one the provider reported, so the key
    # takes that id here (moto keeps keys by id; its API has no other way to set one).
    backend = kms_backends[d.program.account_id][d.program.region]
    moved = backend.keys.pop(created["KeyId"])
    moved.id, moved.arn = key["keyId"], key["arn"]
    backend.keys[key["keyId"]] = moved


Creator = Callable[[Deployment, DeclaredResource], None]

#: One creator per emulated resource type, in the order they are created (what refers to
#: something comes after it: policies after queues and topics, targets after rules and functions).
CREATORS: dict[str, Creator] = {
    "aws:sqs/queue:Queue": _queue,
    "aws:sqs/queuePolicy:QueuePolicy": _queue_policy,
    "aws:sns/topic:Topic": _topic,
    "aws:sns/topicPolicy:TopicPolicy": _topic_policy,
    "aws:sns/topicSubscription:TopicSubscription": _subscription,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": _log_resource_policy,
    "aws:dynamodb/table:Table": _table,
    "aws:iam/role:Role": _role,
    "aws:iam/rolePolicy:RolePolicy": _role_policy,
    "aws:sfn/stateMachine:StateMachine": _state_machine,
    "aws:lambda/function:Function": _function,
    "aws:lambda/permission:Permission": _permission,
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": _event_invoke_config,
    "aws:lambda/eventSourceMapping:EventSourceMapping": _event_source_mapping,
    "aws:cloudwatch/eventBus:EventBus": _bus,
    "aws:cloudwatch/eventArchive:EventArchive": _archive,
    "aws:cloudwatch/eventRule:EventRule": _rule,
    "aws:cloudwatch/eventTarget:EventTarget": _target,
    "aws:kms/key:Key": _kms_key,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _metric_alarm,
    "aws:cloudwatch/dashboard:Dashboard": _dashboard,
}

_SERVED_BY_API = "served elsewhere: sandbox/api/ serves the REST API from these declarations"
#: Every other type the program may declare, with why the endpoint needs nothing for it.
NOT_DEPLOYED: dict[str, str] = {
    **{
        f"aws:apigateway/{kind}": _SERVED_BY_API
        for kind in (
            "restApi:RestApi",
            "resource:Resource",
            "method:Method",
            "integration:Integration",
            "response:Response",
            "model:Model",
            "requestValidator:RequestValidator",
            "deployment:Deployment",
            "stage:Stage",
            "methodSettings:MethodSettings",
            "apiKey:ApiKey",
            "usagePlan:UsagePlan",
            "usagePlanKey:UsagePlanKey",
        )
    },
    "aws:apigateway/account:Account": "not emulated, on purpose: an account-wide setting; the local API logs itself",
    "aws:schemas/registry:Registry": "served elsewhere: sandbox/aws/readonly_services.py answers its reads",
    "aws:schemas/schema:Schema": "served elsewhere: sandbox/aws/readonly_services.py answers its reads",
    "aws:wafv2/webAcl:WebAcl": "not emulated: moto's WAFv2 does not run rules; the local API has no WAF in front",
    "aws:wafv2/webAclAssociation:WebAclAssociation": "not emulated: the local API has no WAF in front",
    #: ``{project}`` stands for the project's name, the dynamic resource's module.
    "pulumi-python:dynamic/{project}:BusDrain": "not emulated, on purpose: it acts on destroy; the sandbox has none",
}


def _is_component(type_: str, program: Program) -> bool:
    """Component resources only group children; they declare nothing to AWS."""
    return type_.startswith(f"{program.project}:components:") or type_ == "pulumi:pulumi:Stack"


def not_deployed_reason(type_: str, program: Program) -> str | None:
    """Why the endpoint needs nothing for a declared type (``None``: it is created, or unknown)."""
    if _is_component(type_, program):
        return "a component: it only groups its children"
    reasons = {key.format(project=program.project): why for key, why in NOT_DEPLOYED.items()}
    return reasons.get(type_)


def unhandled_types(program: Program) -> Counter[str]:
    """Declared resource types the sandbox neither creates nor lists as needing nothing, with counts."""
    return Counter(
        r.type for r in program.resources if r.type not in CREATORS and not_deployed_reason(r.type, program) is None
    )


def deploy(program: Program, endpoint_url: str) -> None:
    """Create every resource of ``program`` the sandbox emulates on the endpoint.

    A declared type the sandbox does not know is logged at WARNING with its count: what it would
    do on AWS does not happen here.
    """
    missing = unhandled_types(program)
    if missing:
        listed = ", ".join(f"{type_} x{count}" for type_, count in sorted(missing.items()))
        log.warning("not emulated by the sandbox (nothing is created for them): %s", listed)
    deployment = Deployment(program, endpoint_url)
    for type_, create in CREATORS.items():
        for resource in program.of_type(type_):
            create(deployment, resource)
