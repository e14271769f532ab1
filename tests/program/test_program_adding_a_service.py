"""Adding a service is one file plus one line: Operations watches it without being told.

The example service (:mod:`tests.program.audit_service`) lists nothing for Operations; these tests
prove under mocks that its rule, target, dead-letter queue, alarms and dashboard tiles appear, and
that a service created after Operations fails loudly instead of going unwatched.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from components import EventBus, EventBusArgs, Operations, OperationsArgs
from sandbox.program.evaluation import PROJECT_DIR, Program, evaluate
from tests.program.audit_service import ONE_LINE, AuditService, AuditServiceArgs, audit_pattern
from tests.program.audit_service import audit_program as evaluated_audit_program

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ACCOUNT = "123456789012"
STATE_MACHINE = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:payments"
LAYER = "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:27"


@pytest.fixture(scope="module")
def audit_program() -> Program:
    """The dev stack with the example service's one line (the evaluation the policy-pack tests read too)."""
    return evaluated_audit_program()


def _alarm(program: Program, logical_name: str) -> dict[str, Any]:
    return program.named(logical_name).state


def test_the_example_service_gets_its_rule_target_and_dead_letter_queue(audit_program: Program) -> None:
    # GIVEN the dev program plus the one line  WHEN it is evaluated
    rule = audit_program.named("audit-service-rule")
    target = audit_program.named("audit-service-target")
    queue = audit_program.named("audit-service-dlq")
    function = audit_program.named("audit-audit-fn")
    # THEN the rule on the stack's bus matches the order service's events
    assert json.loads(rule["eventPattern"]) == audit_pattern()
    assert rule["eventBusName"] == audit_program.outputs["event_bus_name"]
    # AND its target is the audit function, dead-lettering to the rule's own queue
    assert target["arn"] == function["arn"]
    assert target["deadLetterConfig"]["arn"] == queue["arn"]
    assert function["handler"] == "handlers.audit.handler"


def test_operations_alarms_on_the_example_service_without_being_told(audit_program: Program) -> None:
    # GIVEN the dev program plus the one line (Operations' arguments unchanged)
    # WHEN its alarms are read
    queue = audit_program.named("audit-service-dlq")
    rule = audit_program.named("audit-service-rule")
    function = audit_program.named("audit-audit-fn")
    dlq = _alarm(audit_program, "ops-audit-service-dlq-not-empty")
    failed = _alarm(audit_program, "ops-audit-service-failed-invocations")
    errors = _alarm(audit_program, "ops-audit-errors")
    throttles = _alarm(audit_program, "ops-audit-throttles")
    # THEN the rule's dead-letter queue and failed deliveries alarm ...
    assert dlq["metricName"] == "ApproximateNumberOfMessagesVisible"
    assert dlq["dimensions"] == {"QueueName": queue["name"]}
    assert failed["metricName"] == "FailedInvocations"
    assert failed["dimensions"] == {"RuleName": rule["name"], "EventBusName": audit_program.outputs["event_bus_name"]}
    # ... and so do the function's errors and throttles, all to the ops topic
    assert (errors["metricName"], errors["dimensions"]) == ("Errors", {"FunctionName": function["name"]})
    assert (throttles["metricName"], throttles["dimensions"]) == ("Throttles", {"FunctionName": function["name"]})
    topic = audit_program.outputs["ops_topic_arn"]
    assert all(a["alarmActions"] == [topic] for a in (dlq, failed, errors, throttles))


def test_the_dashboard_shows_the_example_service(audit_program: Program) -> None:
    # GIVEN the dev program plus the one line  WHEN the dashboard is read
    body = json.loads(audit_program.named("ops-dashboard")["dashboardBody"])
    metrics = [tuple(m) for widget in body["widgets"] for m in widget["properties"]["metrics"]]
    # THEN the audit function's errors and its dead-letter queue's depth are on it
    function = audit_program.named("audit-audit-fn")["name"]
    queue = audit_program.named("audit-service-dlq")["name"]
    assert ("AWS/Lambda", "Errors", "FunctionName", function) in metrics
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue) in metrics


def test_the_example_adds_only_its_own_resources(audit_program: Program, dev_program: Program) -> None:
    # GIVEN the dev program with and without the one line
    # WHEN their logical names are compared
    added = {r.name for r in audit_program.resources} - {r.name for r in dev_program.resources}
    removed = {r.name for r in dev_program.resources} - {r.name for r in audit_program.resources}
    # THEN nothing of the dev stack changed name, and the example added its resources and their alarms only
    assert removed == set()
    assert {n for n in added if not n.startswith(("audit", "ops-audit"))} == set()
    assert len([r for r in audit_program.of_type(ALARM) if r.name.startswith("ops-audit")]) == 4


def test_a_service_created_after_operations_fails_loudly() -> None:
    # GIVEN a program that creates the example service after Operations instead of before
    def late() -> None:
        bus = EventBus("bus", EventBusArgs(stack="dev"))
        Operations(
            "ops",
            OperationsArgs(
                stack="dev",
                bus=bus,
                state_machine_arn=STATE_MACHINE,
                account_id=ACCOUNT,
                region="us-east-1",
                partition="aws",
            ),
        )
        AuditService("audit", AuditServiceArgs(stack="dev", bus=bus, layer_arn=LAYER))

    # WHEN it is evaluated  THEN it stops, naming what would go unwatched and why
    with pytest.raises(Exception, match="function 'audit' was created after Operations 'ops' read the watchlist"):
        evaluate("dev", program=late)


def test_the_readme_shows_the_one_line_the_tests_add() -> None:
    # GIVEN the README's "Adding a service"  WHEN it is read
    readme = (PROJECT_DIR / "README.md").read_text()
    section = readme[readme.index("## Adding a service") :]
    # THEN it shows, verbatim, the line these tests add to __main__.py
    assert ONE_LINE in section
