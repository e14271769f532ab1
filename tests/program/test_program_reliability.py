"""Production defaults of the declared program: each control, on each resource it applies to.

Retries and dead-letter queues on every EventBridge target, failure destinations on the
asynchronously invoked functions, a publish step that retries and fails loudly, logs and traces
everywhere, an alarm on every failure path, a dashboard, a validated and throttled API, and
data that is recoverable but not protected from ``pulumi destroy`` unless asked.

Everything here reads ``sandbox.program.evaluation.evaluate`` results (plain data): no Outputs involved.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from handlers import contract
from sandbox.api.gateway_responses import GatewayError, RequestContext, context_variables, render_template
from sandbox.program.evaluation import DeclaredResource, Program

PROJECT_DIR = Path(__file__).resolve().parents[2]
ORDER_SCHEMA = PROJECT_DIR / "handlers" / "order_schema.json"

TARGET = "aws:cloudwatch/eventTarget:EventTarget"
RULE = "aws:cloudwatch/eventRule:EventRule"
QUEUE = "aws:sqs/queue:Queue"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
FUNCTION = "aws:lambda/function:Function"
INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
KMS_KEY = "aws:kms/key:Key"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
TABLE = "aws:dynamodb/table:Table"
ARCHIVE = "aws:cloudwatch/eventArchive:EventArchive"
BUS = "aws:cloudwatch/eventBus:EventBus"

ASYNC_HANDLERS = ("handlers.update_order.handler", "handlers.notification.handler")
SYNC_HANDLERS = ("handlers.create_order.handler", "handlers.get_order.handler")

# --- helpers ---------------------------------------------------------------------------------


def _targets(program: Program) -> list[DeclaredResource]:
    targets = program.of_type(TARGET)
    assert len(targets) == 5, "four rules on the bus and the alarm-recovery rule on the default bus, one target each"
    return targets


def _rule_of(program: Program, target: DeclaredResource) -> DeclaredResource:
    (rule,) = program.find(RULE, name=target["rule"], eventBusName=target["eventBusName"])
    return rule


def _queue_policy_document(program: Program, queue: DeclaredResource) -> dict[str, Any]:
    (policy,) = program.find(QUEUE_POLICY, queueUrl=queue["url"])
    return json.loads(policy["policy"])


def _function(program: Program, handler: str) -> DeclaredResource:
    (function,) = program.find(FUNCTION, handler=handler)
    return function


def _alarms(program: Program, namespace: str, metric: str, **dimensions: str) -> list[DeclaredResource]:
    return [
        alarm
        for alarm in program.find(ALARM, namespace=namespace, metricName=metric)
        if all(alarm["dimensions"].get(k) == v for k, v in dimensions.items())
    ]


def _definition(program: Program) -> dict[str, Any]:
    (machine,) = program.of_type(STATE_MACHINE)
    return json.loads(machine["definition"])


def _dashboard_metrics(program: Program) -> list[list[Any]]:
    (dashboard,) = program.of_type(DASHBOARD)
    body = json.loads(dashboard["dashboardBody"])
    return [row for widget in body["widgets"] for row in widget["properties"]["metrics"]]


@pytest.fixture(scope="module")
def ops_topic_arn(dev_program: Program) -> str:
    """The alarm topic every alarm must notify."""
    return dev_program.outputs["ops_topic_arn"]


# --- EventBridge targets: retries, dead-letter queues, queue policies -------------------------


def test_every_target_retries_with_a_bounded_policy(dev_program: Program) -> None:
    """EventBridge retries each target a bounded number of times within a bounded age."""
    for target in _targets(dev_program):
        policy = target["retryPolicy"]
        assert 0 < policy["maximumRetryAttempts"] <= 185, target.name
        assert 60 <= policy["maximumEventAgeInSeconds"] <= 86400, target.name


def test_every_target_has_its_own_encrypted_dead_letter_queue(dev_program: Program) -> None:
    """Undeliverable events are parked, encrypted, in a queue of that target only."""
    queue_arns = []
    for target in _targets(dev_program):
        queue = dev_program.by_arn(target["deadLetterConfig"]["arn"])
        assert queue.type == QUEUE, target.name
        assert queue["sqsManagedSseEnabled"] is True, target.name
        assert queue["messageRetentionSeconds"] == 14 * 24 * 3600, "keep failures as long as SQS allows"
        queue_arns.append(queue["arn"])
    assert len(set(queue_arns)) == len(queue_arns)


def test_only_the_targets_rule_may_send_to_its_dead_letter_queue(dev_program: Program) -> None:
    """Queue policy: events.amazonaws.com, sqs:SendMessage, aws:SourceArn == this target's rule ARN."""
    for target in _targets(dev_program):
        queue = dev_program.by_arn(target["deadLetterConfig"]["arn"])
        rule = _rule_of(dev_program, target)
        (statement,) = _queue_policy_document(dev_program, queue)["Statement"]
        assert statement["Effect"] == "Allow"
        assert statement["Principal"] == {"Service": "events.amazonaws.com"}
        assert statement["Action"] in (["sqs:SendMessage"], "sqs:SendMessage")
        assert statement["Resource"] in ([queue["arn"]], queue["arn"])
        (operator,) = statement["Condition"]
        assert operator in ("ArnEquals", "StringEquals")
        assert statement["Condition"][operator] == {"aws:SourceArn": rule["arn"]}, target.name


# --- asynchronously invoked functions ---------------------------------------------------------


@pytest.mark.parametrize("handler", ASYNC_HANDLERS)
def test_async_function_sends_failures_to_its_rules_dead_letter_queue(dev_program: Program, handler: str) -> None:
    """After Lambda's own retries, a failed event goes to the DLQ of the rule invoking the function."""
    function = _function(dev_program, handler)
    (target,) = dev_program.find(TARGET, arn=function["arn"])
    (config,) = dev_program.find(INVOKE_CONFIG, functionName=function["name"])
    destination = config["destinationConfig"]["onFailure"]["destination"]
    assert destination == target["deadLetterConfig"]["arn"]
    assert 0 <= config["maximumRetryAttempts"] <= 2
    assert config["maximumEventAgeInSeconds"] > 0


@pytest.mark.parametrize("handler", SYNC_HANDLERS)
def test_api_functions_have_no_async_config(dev_program: Program, handler: str) -> None:
    """API Gateway invokes synchronously: the caller sees the error, no failure destination."""
    function = _function(dev_program, handler)
    assert list(dev_program.find(INVOKE_CONFIG, functionName=function["name"])) == []


def test_async_configs_exist_only_for_async_functions(dev_program: Program) -> None:
    """Exactly two event-invoke configs: update-order and notification."""
    names = {c["functionName"] for c in dev_program.of_type(INVOKE_CONFIG)}
    assert names == {_function(dev_program, h)["name"] for h in ASYNC_HANDLERS}


# --- payment state machine --------------------------------------------------------------------


def test_publish_step_retries_with_backoff_then_fails_loudly(dev_program: Program) -> None:
    """A rejected PutEvents entry is retried with backoff; what is left ends in a Fail state."""
    states = _definition(dev_program)["States"]
    publish = states["Notify EventBus"]
    assert publish["Resource"] == "arn:aws:states:::events:putEvents"
    (retry,) = [r for r in publish["Retry"] if "EventBridge.FailedEntry" in r["ErrorEquals"]]
    assert retry["IntervalSeconds"] >= 1
    assert retry["BackoffRate"] > 1
    assert retry["MaxAttempts"] >= 2
    (catch,) = publish["Catch"]
    assert catch["ErrorEquals"] == ["States.ALL"]
    assert states[catch["Next"]]["Type"] == "Fail"


def test_state_machine_logs_to_a_vended_log_group_and_traces(dev_program: Program) -> None:
    """Logging to ``<group arn>:*`` under /aws/vendedlogs (Step Functions' requirement), X-Ray on."""
    (machine,) = dev_program.of_type(STATE_MACHINE)
    logging = machine["loggingConfiguration"]
    destination = logging["logDestination"]
    assert destination.endswith(":*")
    group = dev_program.by_arn(destination.removesuffix(":*"))
    assert group.type == LOG_GROUP
    assert group["name"].startswith("/aws/vendedlogs/")
    assert logging["level"] in ("ERROR", "ALL")
    assert logging["includeExecutionData"] is True
    assert machine["tracingConfiguration"] == {"enabled": True}


# --- alarms -----------------------------------------------------------------------------------


def _assert_alarmed(
    alarms: list[DeclaredResource], ops_topic_arn: str, what: str, missing_data: str = "notBreaching"
) -> None:
    assert len(alarms) == 1, f"{len(alarms)} alarms for {what}"
    (alarm,) = alarms
    assert alarm["alarmActions"] == [ops_topic_arn], what
    # Fires on the first occurrence; no data is quiet for a count and keeps the state for a level.
    assert alarm["threshold"] == 0
    assert alarm["comparisonOperator"] == "GreaterThanThreshold"
    assert alarm["treatMissingData"] == missing_data


def test_every_dead_letter_queue_is_alarmed(dev_program: Program, ops_topic_arn: str) -> None:
    """A message in any DLQ pages ops."""
    for target in _targets(dev_program):
        queue = dev_program.by_arn(target["deadLetterConfig"]["arn"])
        alarms = _alarms(dev_program, "AWS/SQS", "ApproximateNumberOfMessagesVisible", QueueName=queue["name"])
        _assert_alarmed(alarms, ops_topic_arn, queue.name, missing_data="ignore")


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_errors_and_throttles_are_alarmed(dev_program: Program, ops_topic_arn: str, metric: str) -> None:
    """Every function, both failure metrics."""
    functions = dev_program.of_type(FUNCTION)
    assert len(functions) == 5
    for function in functions:
        alarms = _alarms(dev_program, "AWS/Lambda", metric, FunctionName=function["name"])
        _assert_alarmed(alarms, ops_topic_arn, f"{function.name} {metric}")


def test_failed_payment_executions_are_alarmed(dev_program: Program, ops_topic_arn: str) -> None:
    """Including the named failure when an outcome could not be published."""
    (machine,) = dev_program.of_type(STATE_MACHINE)
    alarms = _alarms(dev_program, "AWS/States", "ExecutionsFailed", StateMachineArn=machine["arn"])
    _assert_alarmed(alarms, ops_topic_arn, "ExecutionsFailed")


def test_every_rules_failed_invocations_are_alarmed(dev_program: Program, ops_topic_arn: str) -> None:
    """EventBridge giving up on a target (after retries) pages ops, per rule."""
    bus_name = dev_program.outputs["event_bus_name"]
    rules = dev_program.of_type(RULE)
    assert sorted(r["eventBusName"] for r in rules) == ["default", *[bus_name] * 4]
    for rule in rules:
        alarms = _alarms(dev_program, "AWS/Events", "FailedInvocations", RuleName=rule["name"])
        _assert_alarmed(alarms, ops_topic_arn, rule.name)
        # Rules of a custom bus publish their metrics with the bus as a dimension; rules of the
        # default bus with the rule name alone (EventBridge user guide, "EventBridge metrics").
        expected = {"RuleName": rule["name"]}
        if rule["eventBusName"] != "default":
            expected["EventBusName"] = bus_name
        assert alarms[0]["dimensions"] == expected, rule.name


def test_every_alarm_notifies_ops_and_nothing_else(dev_program: Program, ops_topic_arn: str) -> None:
    """5 DLQs + 5 rules + 5 functions x 2 + 2 state machine + the outbox's 2 = 24 alarms, all on the ops topic."""
    alarms = dev_program.of_type(ALARM)
    assert len(alarms) == 24
    assert all(a["alarmActions"] == [ops_topic_arn] for a in alarms)
    # Only on entering ALARM: OK actions would also fire on every new alarm's first evaluation.
    assert [a.name for a in alarms if a.get("okActions") or a.get("insufficientDataActions")] == []


# --- topics and subscriptions -----------------------------------------------------------------


def test_ops_topic_is_encrypted_with_a_customer_key(dev_program: Program, ops_topic_arn: str) -> None:
    """CloudWatch can publish only to a topic under a key whose policy lets it: a customer key."""
    topic = dev_program.by_arn(ops_topic_arn)
    key = dev_program.by_arn(topic["kmsMasterKeyId"])
    assert key.type == KMS_KEY
    assert key["enableKeyRotation"] is True
    statements = json.loads(key["policy"])["Statement"]
    assert any(s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"} for s in statements)


def test_notification_topic_is_encrypted_with_the_sns_key(dev_program: Program) -> None:
    """Only the notification function publishes there: the AWS-managed SNS key is enough."""
    topic = dev_program.by_arn(dev_program.outputs["notification_topic_arn"])
    assert topic["kmsMasterKeyId"] == "alias/aws/sns"


# --- dashboard --------------------------------------------------------------------------------


def test_dashboard_shows_the_order_flow(dev_program: Program) -> None:
    """The three business metrics the handlers emit, in the contract's namespace."""
    rows = _dashboard_metrics(dev_program)
    for metric in (contract.METRIC_ORDERS_CREATED, contract.METRIC_ORDERS_COMPLETED, contract.METRIC_ORDERS_CANCELLED):
        assert any(row[:2] == [contract.METRICS_NAMESPACE, metric] for row in rows), metric


def test_dashboard_business_metrics_use_the_emitting_service_dimension(dev_program: Program) -> None:
    """Powertools adds ``service`` = POWERTOOLS_SERVICE_NAME: the widget must query that exact value."""
    rows = [row for row in _dashboard_metrics(dev_program) if row[0] == contract.METRICS_NAMESPACE]
    emitters = [_function(dev_program, h) for h in ("handlers.create_order.handler", "handlers.update_order.handler")]
    services = {f["environment"]["variables"]["POWERTOOLS_SERVICE_NAME"] for f in emitters}
    assert {tuple(row[2:4]) for row in rows} == {("service", s) for s in services}


def test_dashboard_shows_every_dead_letter_queue(dev_program: Program) -> None:
    """One depth line per DLQ."""
    rows = _dashboard_metrics(dev_program)
    for target in _targets(dev_program):
        queue = dev_program.by_arn(target["deadLetterConfig"]["arn"])
        assert ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue["name"]] in rows, queue.name


# --- Lambda functions -------------------------------------------------------------------------


def _runtime_version(runtime: str) -> tuple[int, ...]:
    assert runtime.startswith("python"), runtime
    return tuple(int(part) for part in runtime.removeprefix("python").split("."))


def test_every_function_has_the_production_defaults(dev_program: Program) -> None:
    """Tracing, arm64, a supported runtime, explicit timeout and memory, JSON logs in its own group."""
    functions = dev_program.of_type(FUNCTION)
    assert len(functions) == 5
    groups = set()
    for function in functions:
        assert function["tracingConfig"] == {"mode": "Active"}, function.name
        assert function["architectures"] == ["arm64"], function.name
        assert _runtime_version(function["runtime"]) >= (3, 12), function.name
        assert 0 < function["timeout"] <= 900, function.name
        assert 128 <= function["memorySize"] <= 10240, function.name
        logging = function["loggingConfig"]
        assert logging["logFormat"] == "JSON", function.name
        (group,) = dev_program.find(LOG_GROUP, name=logging["logGroup"])
        assert group["retentionInDays"] == 14, "Pulumi.yaml default"
        groups.add(group.name)
    assert len(groups) == len(functions), "each function logs to its own group"


# --- API --------------------------------------------------------------------------------------


def test_post_order_body_is_validated_against_the_shared_schema(dev_program: Program) -> None:
    """Validator on, both content types mapped to a model whose schema is handlers/order_schema.json."""
    (post,) = dev_program.find("aws:apigateway/method:Method", httpMethod="POST")
    validator = next(
        v
        for v in dev_program.of_type("aws:apigateway/requestValidator:RequestValidator")
        if v.id == post["requestValidatorId"]
    )
    assert validator["validateRequestBody"] is True
    models = post["requestModels"]
    assert set(models) == {"application/json", "$default"}
    for model_name in models.values():
        (model,) = dev_program.find("aws:apigateway/model:Model", name=model_name, restApi=post["restApi"])
        assert json.loads(model["schema"]) == json.loads(ORDER_SCHEMA.read_text())


def test_api_stage_access_logs_and_traces(dev_program: Program) -> None:
    """Access logs to a log group of the stack, X-Ray tracing on."""
    (stage,) = dev_program.of_type("aws:apigateway/stage:Stage")
    group = dev_program.by_arn(stage["accessLogSettings"]["destinationArn"])
    assert group.type == LOG_GROUP
    assert json.loads(stage["accessLogSettings"]["format"])["requestId"] == "$context.requestId"
    assert stage["xrayTracingEnabled"] is True


# --- data -------------------------------------------------------------------------------------


def test_orders_table_is_recoverable_and_encrypted(dev_program: Program) -> None:
    """Point-in-time recovery and server-side encryption on; deletion protection off by default."""
    (table,) = dev_program.of_type(TABLE)
    assert table["pointInTimeRecovery"] == {"enabled": True}
    assert table["serverSideEncryption"]["enabled"] is True
    assert table["deletionProtectionEnabled"] is False


def test_api_gateways_own_errors_are_json_like_the_handlers(dev_program: Program) -> None:
    """Validation failures and every other gateway error answer ``{"error": ...}``, as the handlers do."""
    # GIVEN the program's gateway responses
    responses = {
        r["responseType"]: r["responseTemplates"]["application/json"]
        for r in dev_program.of_type("aws:apigateway/response:Response")
    }
    # WHEN each is rendered the way API Gateway renders it (messageString arrives already quoted)
    request = RequestContext(request_id="c0ffee00-0000-4000-8000-000000000000")
    rendered = {
        kind: json.loads(render_template(template, context_variables(GatewayError(kind, "Forbidden"), request)))
        for kind, template in responses.items()
    }
    # THEN a refused body and every other 4xx/5xx is JSON with an "error" key
    assert set(responses) == {"BAD_REQUEST_BODY", "DEFAULT_4XX", "DEFAULT_5XX"}
    assert {kind: body["error"] for kind, body in rendered.items()} == dict.fromkeys(responses, "Forbidden")
    # AND a refused body names its request, under which the access log records the validator's detail
    assert rendered["BAD_REQUEST_BODY"]["requestId"] == request.request_id
    (api,) = dev_program.of_type("aws:apigateway/restApi:RestApi")
    assert {r["restApiId"] for r in dev_program.of_type("aws:apigateway/response:Response")} == {api.id}


# --- The outbox: the orders table's stream to the bus -------------------------------------------
def test_the_outbox_mapping_bounds_retries_and_age_and_parks_what_fails_in_a_watched_queue(
    dev_program: Program, ops_topic_arn: str
) -> None:
    """Nothing lost in the publisher: bounded retries, an age below the stream's 24 h, a queue, an alarm."""
    # GIVEN the orders table and the one event source mapping of the stack
    (table,) = dev_program.of_type("aws:dynamodb/table:Table")
    (mapping,) = dev_program.of_type("aws:lambda/eventSourceMapping:EventSourceMapping")
    # WHEN the mapping's settings are read
    queue = dev_program.by_arn(mapping["destinationConfig"]["onFailure"]["destinationArn"])
    publisher = dev_program.by_arn(mapping["functionName"])
    # THEN it reads that table's stream of both images from its oldest record, retries a batch
    # a bounded number of times within an hour, bisects it and takes partial batch responses
    assert (table["streamEnabled"], table["streamViewType"]) == (True, "NEW_AND_OLD_IMAGES")
    assert mapping["eventSourceArn"] == table["streamArn"]
    assert mapping["startingPosition"] == "TRIM_HORIZON"
    assert 0 <= mapping["maximumRetryAttempts"] <= 10
    assert 60 <= mapping["maximumRecordAgeInSeconds"] < 24 * 3600
    assert mapping["bisectBatchOnFunctionError"] is True
    assert mapping["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert publisher["handler"] == "handlers.publish_order_events.handler"
    # AND what still fails is parked in an encrypted queue of its own, which alarms the ops topic
    assert queue.type == QUEUE and queue["sqsManagedSseEnabled"] is True
    alarms = _alarms(dev_program, "AWS/SQS", "ApproximateNumberOfMessagesVisible", QueueName=queue["name"])
    _assert_alarmed(alarms, ops_topic_arn, queue.name, missing_data="ignore")
    alarms = _alarms(dev_program, "AWS/Lambda", "DestinationDeliveryFailures", FunctionName=publisher["name"])
    _assert_alarmed(alarms, ops_topic_arn, f"{publisher.name} DestinationDeliveryFailures")
