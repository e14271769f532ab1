"""The production defaults of eda-demo as Pulumi policies: every stack, every resource, every service added later.

Each policy is a pulumi-policy ``ResourceValidationPolicy`` (one resource at a time) or
``StackValidationPolicy`` (relations between resources: a function and its role, log group and
on-failure destination; a stage and its method settings). Its validate function is what
``pulumi preview --policy-pack policy`` and ``pulumi up --policy-pack policy`` call; every message
names the resource and the fix. Relations are followed through Pulumi's property dependencies
(``PolicyResource.property_dependencies``), which the engine knows during a first preview, when
ARNs and names computed by AWS are not known yet.

Properties arrive as the engine holds them: the resource's inputs under their camelCase names
(``deadLetterConfig``, ``retentionInDays``). A value only AWS can compute raises
``UnknownValueError`` on access during a preview; the engine then reports that policy as not run
for that resource (an advisory diagnostic), and it runs on ``pulumi up``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from components.policies import RESOURCE_WILDCARD_ONLY_ACTIONS

#: How a validate function reports: ``report(message)`` for the resource analysed, ``report(message, urn)``
#: for one resource of a stack (pulumi-policy's ``ReportViolation``, whose ``urn`` is optional).
Report = Callable[..., None]

PACK_NAME = "eda-demo-production-defaults"
#: Every policy blocks a preview or update unless the pack's config says otherwise
#: (``pulumi preview --policy-pack policy --policy-pack-config <file>`` with ``{"<policy>": "advisory"}``).
ENFORCEMENT_LEVEL = EnforcementLevel.MANDATORY

EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
FUNCTION = "aws:lambda/function:Function"
INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
PERMISSION = "aws:lambda/permission:Permission"
QUEUE = "aws:sqs/queue:Queue"
TOPIC = "aws:sns/topic:Topic"
TABLE = "aws:dynamodb/table:Table"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
STAGE = "aws:apigateway/stage:Stage"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
#: Lambda keeps retrying a stream record until it expires (24 h) unless the mapping bounds it.
STREAM_RETENTION_SECONDS = 86_400
METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings"
#: Identity policies: the type and the property holding its document (a role's inline policies aside).
IDENTITY_POLICIES: dict[str, str] = {
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/policy:Policy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
}
ROLE = "aws:iam/role:Role"
#: Service principals that invoke a function asynchronously (Lambda's "Invoking Lambda functions
#: asynchronously": EventBridge, SNS, S3, CloudWatch Logs, ... queue the event and retry it).
ASYNC_INVOKERS = frozenset(
    {"events.amazonaws.com", "sns.amazonaws.com", "s3.amazonaws.com", "logs.amazonaws.com", "scheduler.amazonaws.com"}
)


def _label(resource_type: str, name: str) -> str:
    return f"{name} ({resource_type})"


# --- resource policies ------------------------------------------------------------------------------


def _rule_targets_retry_then_dead_letter(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != EVENT_TARGET:
        return
    rule = args.props.get("rule", "?")
    where = f"{_label(args.resource_type, args.name)}, target of rule {rule}"
    if not args.props.get("retryPolicy"):
        report(
            f"{where} has no retryPolicy. Fix: set retry_policy (maximum_retry_attempts, maximum_event_age_in_seconds)."
        )
    if not (args.props.get("deadLetterConfig") or {}).get("arn"):
        report(
            f"{where} has no dead-letter queue. Fix: subscribe it with EventBus.subscribe(), which gives the rule "
            "its own encrypted queue, or set dead_letter_config."
        )


def _queues_and_topics_encrypted(args: ResourceValidationArgs, report: Report) -> None:
    where = _label(args.resource_type, args.name)
    if args.resource_type == QUEUE and not (args.props.get("sqsManagedSseEnabled") or args.props.get("kmsMasterKeyId")):
        report(f"{where} is not encrypted at rest. Fix: set sqs_managed_sse_enabled=True or kms_master_key_id.")
    if args.resource_type == TOPIC and not args.props.get("kmsMasterKeyId"):
        report(f"{where} is not encrypted at rest. Fix: set kms_master_key_id (alias/aws/sns or a key of the stack).")


def _table_recoverable_and_encrypted(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != TABLE:
        return
    where = _label(args.resource_type, args.name)
    if not (args.props.get("pointInTimeRecovery") or {}).get("enabled"):
        report(f"{where} has no point-in-time recovery. Fix: point_in_time_recovery={{'enabled': True}}.")
    if not (args.props.get("serverSideEncryption") or {}).get("enabled"):
        report(f"{where} has no server-side encryption setting. Fix: server_side_encryption={{'enabled': True}}.")


def _functions_trace_actively(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type == FUNCTION and (args.props.get("tracingConfig") or {}).get("mode") != "Active":
        report(f"{_label(args.resource_type, args.name)} is not traced. Fix: tracing_config={{'mode': 'Active'}}.")


def _statements(document: Any) -> Iterator[Mapping[str, Any]]:
    parsed = json.loads(document) if isinstance(document, str) else document
    statements = (parsed or {}).get("Statement", [])
    yield from [statements] if isinstance(statements, dict) else statements


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _identity_documents(args: ResourceValidationArgs) -> Iterator[Any]:
    if args.resource_type in IDENTITY_POLICIES:
        yield args.props.get(IDENTITY_POLICIES[args.resource_type])
    elif args.resource_type == ROLE:
        for inline in args.props.get("inlinePolicies") or []:
            yield inline.get("policy")


def _allowing(args: ResourceValidationArgs) -> Iterator[Mapping[str, Any]]:
    for document in _identity_documents(args):
        if document:
            yield from (s for s in _statements(document) if s.get("Effect") == "Allow")


def _no_wildcard_actions(args: ResourceValidationArgs, report: Report) -> None:
    for stmt in _allowing(args):
        where = f"{_label(args.resource_type, args.name)}, statement {stmt.get('Sid', '(no Sid)')}"
        if "NotAction" in stmt:
            report(f"{where} allows NotAction (every other action). Fix: list the exact actions it needs.")
        for action in _as_list(stmt.get("Action", [])):
            if "*" in action:
                report(f"{where} allows the wildcard action {action!r}. Fix: list the exact actions it needs.")


def _resource_wildcard_only_where_required(args: ResourceValidationArgs, report: Report) -> None:
    for stmt in _allowing(args):
        if "*" not in _as_list(stmt.get("Resource", [])):
            continue
        wider = sorted(a for a in _as_list(stmt.get("Action", [])) if a not in RESOURCE_WILDCARD_ONLY_ACTIONS)
        if wider:
            report(
                f"{_label(args.resource_type, args.name)}, statement {stmt.get('Sid', '(no Sid)')} grants "
                f"{', '.join(wider)} on Resource '*'. Fix: name the exact ARNs; only "
                "components.policies.RESOURCE_WILDCARD_ONLY_ACTIONS may use '*'."
            )


def _stream_mappings_bounded(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != MAPPING or not args.props.get("startingPosition"):
        return  # a queue source (no starting position) is bounded by its queue's redrive policy
    where = _label(args.resource_type, args.name)
    retries, age = args.props.get("maximumRetryAttempts"), args.props.get("maximumRecordAgeInSeconds")
    if retries is None or retries < 0:
        report(f"{where} retries a failing batch until its records expire. Fix: maximum_retry_attempts >= 0.")
    if age is None or age < 0 or age >= STREAM_RETENTION_SECONDS:
        report(
            f"{where} gives a record up only when the stream drops it (24 h). "
            "Fix: maximum_record_age_in_seconds below 86400."
        )
    if not ((args.props.get("destinationConfig") or {}).get("onFailure") or {}).get("destinationArn"):
        report(f"{where} drops what it gives up. Fix: destination_config.on_failure to a queue of its own.")
    if "ReportBatchItemFailures" not in (args.props.get("functionResponseTypes") or []):
        report(
            f"{where} retries a whole batch for one bad record. "
            "Fix: function_response_types=['ReportBatchItemFailures']."
        )


def _alarms_have_no_ok_actions(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type == ALARM and args.props.get("okActions"):
        report(
            f"{_label(args.resource_type, args.name)} has OK actions: CloudWatch runs them on the alarm's first "
            "INSUFFICIENT_DATA -> OK, so every deploy pages. Fix: drop ok_actions (recoveries come from the "
            "Operations recovery rule)."
        )


def _log_groups_have_retention(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type == LOG_GROUP and not args.props.get("retentionInDays"):
        report(f"{_label(args.resource_type, args.name)} keeps logs for ever. Fix: set retention_in_days.")


# --- stack policies ---------------------------------------------------------------------------------


def _of_type(resources: Iterable[PolicyResource], resource_type: str) -> list[PolicyResource]:
    return [r for r in resources if r.resource_type == resource_type]


def _refers_to(resource: PolicyResource, prop: str, target: PolicyResource, *target_props: str) -> bool:
    """Whether ``resource.<prop>`` is ``target``: by Pulumi dependency, or by a value both declare."""
    if any(dep.urn == target.urn for dep in resource.property_dependencies.get(prop, [])):
        return True
    value = resource.props.get(prop)
    return value is not None and any(value == target.props.get(p) for p in target_props)


def _same_reference(one: PolicyResource, other: PolicyResource, prop: str) -> bool:
    """Whether two resources' ``prop`` name the same resource: the same dependency, or the same value."""
    ours = {dep.urn for dep in one.property_dependencies.get(prop, [])}
    if ours & {dep.urn for dep in other.property_dependencies.get(prop, [])}:
        return True
    return one.props.get(prop) is not None and one.props.get(prop) == other.props.get(prop)


def _async_functions_have_failure_destination(args: StackValidationArgs, report: Report) -> None:
    configs = _of_type(args.resources, INVOKE_CONFIG)
    for permission in _of_type(args.resources, PERMISSION):
        if permission.props.get("principal") not in ASYNC_INVOKERS:
            continue
        for function in _of_type(args.resources, FUNCTION):
            if not _refers_to(permission, "function", function, "name"):
                continue
            destinations = [
                c
                for c in configs
                if _refers_to(c, "functionName", function, "name")
                and ((c.props.get("destinationConfig") or {}).get("onFailure") or {}).get("destination")
            ]
            if not destinations:
                report(
                    f"{_label(FUNCTION, function.name)} is invoked asynchronously by "
                    f"{permission.props['principal']} and has no on-failure destination: a failed event is dropped "
                    "after Lambda's retries. Fix: build it with LambdaFunction(on_failure=...) or add a "
                    "FunctionEventInvokeConfig with destination_config.on_failure.",
                    function.urn,
                )


def _functions_have_own_role(args: StackValidationArgs, report: Report) -> None:
    roles = _of_type(args.resources, ROLE)
    functions = _of_type(args.resources, FUNCTION)
    for role in roles:
        users = sorted(f.name for f in functions if _refers_to(f, "role", role, "arn"))
        if len(users) > 1:
            report(
                f"{_label(ROLE, role.name)} is the role of {len(users)} functions ({', '.join(users)}). "
                "Fix: one role per function (LambdaFunction builds one).",
                role.urn,
            )


def _functions_have_own_log_group(args: StackValidationArgs, report: Report) -> None:
    groups = {g.props.get("name"): g for g in _of_type(args.resources, LOG_GROUP)}
    claimed: dict[str, list[str]] = {}
    for function in _of_type(args.resources, FUNCTION):
        where = _label(FUNCTION, function.name)
        name = (function.props.get("loggingConfig") or {}).get("logGroup")
        if not name:
            report(
                f"{where} logs to Lambda's default group, which Lambda creates with no retention. "
                "Fix: logging_config.log_group = a LogGroup of its own (LambdaFunction does this).",
                function.urn,
            )
        elif name not in groups:
            report(
                f"{where} logs to {name}, which the stack does not declare. Fix: declare that LogGroup.", function.urn
            )
        elif not groups[name].props.get("retentionInDays"):
            report(f"{where} logs to {name}, which has no retention. Fix: set retention_in_days.", function.urn)
        if name:
            claimed.setdefault(name, []).append(function.name)
    for name, users in sorted(claimed.items()):
        if len(users) > 1:
            report(f"Log group {name} is shared by {', '.join(sorted(users))}. Fix: one log group per function.")


def _api_stage_throttled_and_logged(args: StackValidationArgs, report: Report) -> None:
    settings = _of_type(args.resources, METHOD_SETTINGS)
    for stage in _of_type(args.resources, STAGE):
        where = _label(STAGE, stage.name)
        logs = stage.props.get("accessLogSettings") or {}
        if not (logs.get("destinationArn") and logs.get("format")):
            report(f"{where} writes no access log. Fix: access_log_settings (destination_arn, format).", stage.urn)
        throttled = [
            s
            for s in settings
            if any(dep.urn == stage.urn for dep in s.dependencies)
            or (s.props.get("stageName") == stage.props.get("stageName") and _same_reference(s, stage, "restApi"))
        ]
        if not any(
            (s.props.get("settings") or {}).get("throttlingRateLimit")
            and (s.props.get("settings") or {}).get("throttlingBurstLimit")
            for s in throttled
        ):
            report(
                f"{where} is not throttled. Fix: a MethodSettings on '*/*' with throttling_rate_limit and "
                "throttling_burst_limit.",
                stage.urn,
            )


def _resource_policy(name: str, description: str, validate: Callable[..., None]) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(name=name, description=description, validate=validate)


def _stack_policy(name: str, description: str, validate: Callable[..., None]) -> StackValidationPolicy:
    return StackValidationPolicy(name=name, description=description, validate=validate)


#: The pack, in the order the README lists it. Names are what ``--policy-pack-config`` keys on.
POLICIES: list[Policy] = [
    _resource_policy(
        "rule-targets-retry-then-dead-letter",
        "Every EventBridge rule target has a retry policy and a dead-letter queue.",
        _rule_targets_retry_then_dead_letter,
    ),
    _stack_policy(
        "async-functions-have-failure-destination",
        "Every asynchronously invoked function has an on-failure destination.",
        _async_functions_have_failure_destination,
    ),
    _resource_policy(
        "queues-and-topics-encrypted",
        "Every SQS queue and SNS topic is encrypted at rest.",
        _queues_and_topics_encrypted,
    ),
    _resource_policy(
        "table-recoverable-and-encrypted",
        "Every DynamoDB table has point-in-time recovery and server-side encryption.",
        _table_recoverable_and_encrypted,
    ),
    _stack_policy(
        "functions-have-own-role",
        "Every function has an IAM role of its own.",
        _functions_have_own_role,
    ),
    _stack_policy(
        "functions-have-own-log-group",
        "Every function logs to a log group of its own, with a retention.",
        _functions_have_own_log_group,
    ),
    _resource_policy(
        "stream-mappings-bounded-with-failure-destination",
        "Every stream event source mapping bounds its retries and record age, reports partial batches and parks "
        "what it gives up.",
        _stream_mappings_bounded,
    ),
    _resource_policy(
        "functions-trace-actively",
        "Every function has X-Ray active tracing.",
        _functions_trace_actively,
    ),
    _resource_policy(
        "iam-no-wildcard-actions",
        "No IAM statement allows a wildcard action.",
        _no_wildcard_actions,
    ),
    _resource_policy(
        "iam-resource-wildcard-only-where-required",
        "Resource '*' only for the actions AWS accepts nothing narrower for.",
        _resource_wildcard_only_where_required,
    ),
    _resource_policy(
        "alarms-have-no-ok-actions",
        "Every CloudWatch alarm has no OK actions.",
        _alarms_have_no_ok_actions,
    ),
    _resource_policy(
        "log-groups-have-retention",
        "Every log group has a retention.",
        _log_groups_have_retention,
    ),
    _stack_policy(
        "api-stage-throttled-and-logged",
        "Every API Gateway stage is throttled and writes access logs.",
        _api_stage_throttled_and_logged,
    ),
]
