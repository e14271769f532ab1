"""Operations: every dead-letter queue is empty; the alarms exist, without OK actions, none in ALARM; the dashboard.

What Operations watches is found from the deployed alarms and rules (``acceptance/inventory.py``).
"""

from __future__ import annotations

from acceptance.inventory import Inventory, arn_name, logical
from acceptance.plugin import Check
from acceptance.target import Target
from components import alarms, naming
from sandbox.program.evaluation import Program

QUEUE = "aws:sqs/queue:Queue"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
DEPTH = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed")


def _alarm_prefix(target: Target) -> str:
    return f"{naming.stack_prefix(target.stack)}{alarms.SEPARATOR}"


def check_every_dead_letter_queue_exists_and_is_empty(
    target: Target, expected: Program, inventory: Inventory, check: Check
) -> None:
    """Every dead-letter queue (of rules, functions and whatever else the alarms watch) exists and holds nothing."""
    urls = " ".join(sorted(inventory.dead_letter_queues.values()))
    check.rerun(
        f"for q in {urls}; do aws sqs get-queue-attributes --queue-url $q --attribute-names {' '.join(DEPTH)}; done"
    )
    declared = {q.name for q in expected.of_type(QUEUE)}
    found = {logical(arn_name(arn)) for arn in inventory.dead_letter_queues}
    assert declared <= found, f"dead-letter queues not found: {sorted(declared - found)}"
    sqs = target.client("sqs")
    holding = {}
    for arn, url in sorted(inventory.dead_letter_queues.items()):
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(DEPTH))["Attributes"]
        depth = sum(int(attributes.get(name, 0)) for name in DEPTH)
        if depth:
            holding[arn_name(arn)] = depth
    assert not holding, f"messages in dead-letter queues: {holding}"


def check_the_alarms_are_the_programs_and_have_no_ok_actions(
    target: Target, expected: Program, inventory: Inventory, check: Check
) -> None:
    """Every alarm the program declares exists, no other under the stack's prefix, and none has OK actions."""
    check.rerun(
        f"aws cloudwatch describe-alarms --alarm-name-prefix {_alarm_prefix(target)} "
        "--query 'MetricAlarms[].[AlarmName,StateValue,length(OKActions)]'"
    )
    declared = {a["name"] for a in expected.of_type(ALARM)}
    deployed = {a["AlarmName"] for a in inventory.alarms}
    assert deployed == declared, f"missing: {sorted(declared - deployed)}, extra: {sorted(deployed - declared)}"
    with_ok = sorted(a["AlarmName"] for a in inventory.alarms if a.get("OKActions"))
    assert not with_ok, f"alarms with OK actions (a fresh deploy would message): {with_ok}"


def check_no_alarm_is_in_alarm(target: Target, inventory: Inventory, check: Check) -> None:
    """No alarm of the stack is in ALARM."""
    check.rerun(
        f"aws cloudwatch describe-alarms --alarm-name-prefix {_alarm_prefix(target)} "
        "--state-value ALARM --query 'MetricAlarms[].[AlarmName,StateReason]'"
    )
    if target.sandbox:
        check.sandbox_reads("alarms are never evaluated offline (no metrics): the state each was created or set with")
    firing = [alarm for alarm in inventory.alarms if alarm["StateValue"] == "ALARM"]
    assert not firing, f"in ALARM: {[(a['AlarmName'], a.get('StateReason')) for a in firing]}"


def check_the_dashboard_exists(target: Target, expected: Program, check: Check) -> None:
    """The dashboard exists, with the program's widgets."""
    name = str(target.outputs["dashboard_name"])
    check.rerun(f"aws cloudwatch get-dashboard --dashboard-name {name}")
    import json

    body = json.loads(target.client("cloudwatch").get_dashboard(DashboardName=name)["DashboardBody"])
    (declared,) = expected.of_type("aws:cloudwatch/dashboard:Dashboard")
    titles = [w.get("properties", {}).get("title") for w in body.get("widgets", [])]
    assert titles == [w.get("properties", {}).get("title") for w in json.loads(declared["dashboardBody"])["widgets"]]
