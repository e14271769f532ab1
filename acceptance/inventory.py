"""What a stack has deployed, found through AWS's APIs from its outputs (nothing listed by hand).

The stack's alarms (``eda-demo-<stack>/...``, one family per watched resource, see
``components/operations.py``) name every dead-letter queue, rule and function Operations watches,
so whatever a service adds (a pipe and its dead-letter queue, say) is found here too. The rules on
the stack's bus, their targets, the functions' on-failure destinations, the log groups the
functions, state machines, catch-all rule and API stages write to, and the REST API come from
the resources themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from acceptance.target import Target
from components import alarms, naming

#: Pulumi's auto-names end with ``-`` and 7 hex characters.
_AUTO_NAME = re.compile(r"-[0-9a-f]{7}$")


def logical(name: str) -> str:
    """The program's logical name of an auto-named resource (``cw-catch-all-rule-31f2877`` -> ``cw-catch-all-rule``)."""
    return _AUTO_NAME.sub("", name)


def arn_name(arn: str) -> str:
    """The resource name at the end of an ARN (``...:function:name``, ``...:log-group:name:*``, ``.../name``)."""
    if ":log-group:" in arn:
        return arn.split(":log-group:", 1)[1].removesuffix(":*")
    return re.split(r"[:/]", arn)[-1]


@dataclass
class DeployedRule:
    """A rule as EventBridge describes it, with its targets."""

    name: str
    bus: str
    pattern: str
    state: str
    targets: list[dict[str, Any]]


@dataclass
class Inventory:
    """Everything the checks read, found once per run."""

    rules: list[DeployedRule] = field(default_factory=list)
    alarms: list[dict[str, Any]] = field(default_factory=list)
    #: Queue ARN -> URL, for every dead-letter queue and on-failure destination.
    dead_letter_queues: dict[str, str] = field(default_factory=dict)
    #: Function name -> its configuration.
    functions: dict[str, dict[str, Any]] = field(default_factory=dict)
    state_machines: dict[str, dict[str, Any]] = field(default_factory=dict)
    log_groups: set[str] = field(default_factory=set)
    #: Every event source mapping of the stack's functions, as ``list-event-source-mappings`` shows it.
    event_source_mappings: list[dict[str, Any]] = field(default_factory=list)
    rest_api_id: str | None = None
    stages: list[dict[str, Any]] = field(default_factory=list)

    def rule(self, logical_name: str) -> DeployedRule | None:
        """The deployed rule of a logical name, if any."""
        found = [r for r in self.rules if logical(r.name) == logical_name]
        return found[0] if found else None


def _pages(call: Any, key: str, token: str = "NextToken", answer: str = "", **kwargs: Any) -> Iterator[Any]:
    """Every item of a paged list; ``answer`` names the next page's token in a response when it differs."""
    answer = answer or token
    while True:
        page = call(**kwargs)
        yield from page.get(key, [])
        if not page.get(answer):
            return
        kwargs[token] = page[answer]


def _dimension(alarm: dict[str, Any], name: str) -> str | None:
    return next((d["Value"] for d in alarm.get("Dimensions", []) if d["Name"] == name), None)


def _rules(target: Target, alarms: list[dict[str, Any]]) -> list[DeployedRule]:
    events = target.client("events")
    bus = str(target.outputs["event_bus_name"])
    names = {(bus, r["Name"]) for r in _pages(events.list_rules, "Rules", EventBusName=bus) if not r.get("ManagedBy")}
    for alarm in alarms:  # rules on other buses (the default bus's recovery rule) are named by their alarms
        rule_name = _dimension(alarm, "RuleName")
        if rule_name is not None and alarm.get("Namespace") == "AWS/Events":
            names.add((_dimension(alarm, "EventBusName") or "default", rule_name))
    rules = []
    for bus_name, name in sorted(names):
        described = events.describe_rule(Name=name, EventBusName=bus_name)
        targets = list(_pages(events.list_targets_by_rule, "Targets", Rule=name, EventBusName=bus_name))
        rules.append(DeployedRule(name, bus_name, described.get("EventPattern", ""), described["State"], targets))
    return rules


def _queues(target: Target, inventory: Inventory) -> None:
    sqs = target.client("sqs")
    arns = {t["DeadLetterConfig"]["Arn"] for r in inventory.rules for t in r.targets if t.get("DeadLetterConfig")}
    lambda_ = target.client("lambda")
    for name in inventory.functions:
        try:
            config = lambda_.get_function_event_invoke_config(FunctionName=name)
        except lambda_.exceptions.ResourceNotFoundException:
            continue
        destination = ((config.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination", "")
        if destination.startswith("arn:aws") and ":sqs:" in destination:
            arns.add(destination)
    for mapping in inventory.event_source_mappings:
        destination = ((mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination", "")
        if ":sqs:" in destination:
            arns.add(destination)
    for arn in sorted(arns):
        inventory.dead_letter_queues[arn] = sqs.get_queue_url(QueueName=arn_name(arn))["QueueUrl"]
    for alarm in inventory.alarms:
        queue = _dimension(alarm, "QueueName")
        if alarm.get("Namespace") == "AWS/SQS" and queue is not None:
            url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            inventory.dead_letter_queues[arn] = url


def _functions_and_machines(target: Target, inventory: Inventory) -> None:
    lambda_, sfn = target.client("lambda"), target.client("stepfunctions")
    names = {_dimension(a, "FunctionName") for a in inventory.alarms if a.get("Namespace") == "AWS/Lambda"}
    names |= {arn_name(t["Arn"]) for r in inventory.rules for t in r.targets if ":lambda:" in t["Arn"]}
    for name in sorted(n for n in names if n):
        inventory.functions[name] = lambda_.get_function_configuration(FunctionName=name)
    machines = {_dimension(a, "StateMachineArn") for a in inventory.alarms if a.get("Namespace") == "AWS/States"}
    machines |= {str(target.outputs["payment_state_machine_arn"])}
    for arn in sorted(m for m in machines if m):
        inventory.state_machines[arn] = sfn.describe_state_machine(stateMachineArn=arn)


def _event_source_mappings(target: Target, inventory: Inventory) -> None:
    """The mappings of every function found so far, their functions' configurations added."""
    lambda_ = target.client("lambda")
    for name in sorted(inventory.functions):
        found = _pages(
            lambda_.list_event_source_mappings, "EventSourceMappings", "Marker", "NextMarker", FunctionName=name
        )
        inventory.event_source_mappings += list(found)
    for mapping in inventory.event_source_mappings:
        name = arn_name(mapping["FunctionArn"])
        if name not in inventory.functions:
            inventory.functions[name] = lambda_.get_function_configuration(FunctionName=name)


def _rest_api(target: Target, inventory: Inventory) -> None:
    apigateway = target.client("apigateway")
    host = target.api_url.split("/")[2]
    if ".execute-api." in host:
        inventory.rest_api_id = host.split(".")[0]
    else:  # the sandbox serves the program's one REST API on a local port
        inventory.rest_api_id = apigateway.get_rest_apis()["items"][0]["id"]
    inventory.stages = apigateway.get_stages(restApiId=inventory.rest_api_id)["item"]


def _log_groups(inventory: Inventory) -> None:
    groups = {
        str(f.get("LoggingConfig", {}).get("LogGroup") or f"/aws/lambda/{n}") for n, f in inventory.functions.items()
    }
    for machine in inventory.state_machines.values():
        for destination in (machine.get("loggingConfiguration") or {}).get("destinations", []):
            groups.add(arn_name(destination["cloudWatchLogsLogGroup"]["logGroupArn"]))
    groups |= {arn_name(t["Arn"]) for r in inventory.rules for t in r.targets if ":log-group:" in t["Arn"]}
    for stage in inventory.stages:
        destination = (stage.get("accessLogSettings") or {}).get("destinationArn")
        if destination:
            groups.add(arn_name(destination))
    inventory.log_groups = groups


def discover(target: Target) -> Inventory:
    """The stack's deployed resources, found from its outputs and alarms."""
    inventory = Inventory()
    prefix = f"{naming.stack_prefix(target.stack)}{alarms.SEPARATOR}"
    cloudwatch = target.client("cloudwatch")
    inventory.alarms = list(_pages(cloudwatch.describe_alarms, "MetricAlarms", AlarmNamePrefix=prefix))
    inventory.rules = _rules(target, inventory.alarms)
    _functions_and_machines(target, inventory)
    _event_source_mappings(target, inventory)
    _queues(target, inventory)
    _rest_api(target, inventory)
    _log_groups(inventory)
    return inventory
