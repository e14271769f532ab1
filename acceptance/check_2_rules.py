"""The deployed rules: each one the program declares, with exactly its pattern, targets, retries and dead-letter queue.

Then every contract's representative event goes through ``TestEventPattern`` against every rule
on the stack's bus, and the rules it matches must be the ones the README's event catalog lists.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

import pytest

from acceptance.inventory import DeployedRule, Inventory, arn_name, logical
from acceptance.plugin import Check, expected_program
from acceptance.target import PROJECT, Target
from event_schemas import EventSchema, load
from sandbox.catalog import BEGIN, END, README_PATH, representative_event
from sandbox.program.evaluation import DeclaredResource, Program

RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
CONTRACTS = load()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One check per rule the program declares and per contract."""
    if "rule_name" in metafunc.fixturenames:
        metafunc.parametrize("rule_name", sorted(r.name for r in expected_program(metafunc.config).of_type(RULE)))
    if "contract" in metafunc.fixturenames:
        contracts = sorted(CONTRACTS.values(), key=lambda c: c.detail_type)
        metafunc.parametrize("contract", contracts, ids=[c.detail_type for c in contracts])


def _bus_of(expected: Program, target: Target, declared: DeclaredResource) -> str:
    """The deployed bus of a declared rule: the stack's bus, or another by name (``default``)."""
    declared_bus = declared.get("eventBusName") or "default"
    return str(target.outputs["event_bus_name"]) if declared_bus == expected.outputs["event_bus_name"] else declared_bus


def _deployed(inventory: Inventory, rule_name: str) -> DeployedRule:
    deployed = inventory.rule(rule_name)
    assert deployed is not None, f"no deployed rule is named {rule_name}-<suffix>: {[r.name for r in inventory.rules]}"
    return deployed


def check_the_rule_has_exactly_the_programs_pattern(
    rule_name: str, target: Target, expected: Program, inventory: Inventory, check: Check
) -> None:
    """The rule exists on its bus, enabled, with exactly the program's event pattern."""
    declared = expected.named(rule_name)
    bus = _bus_of(expected, target, declared)
    deployed = inventory.rule(rule_name)
    check.rerun(
        f"aws events describe-rule --event-bus-name {bus} --name {deployed.name if deployed else rule_name + '-…'}"
    )
    deployed = _deployed(inventory, rule_name)
    assert deployed.bus == bus, f"on bus {deployed.bus}, declared on {bus}"
    assert deployed.state == "ENABLED"
    # The program evaluates under the mocks' account; a pattern naming ARNs names the stack's.
    pattern = str(declared["eventPattern"]).replace(f":{expected.account_id}:", f":{target.account_id}:")
    assert json.loads(deployed.pattern) == json.loads(pattern), f"deployed {deployed.pattern} != declared {pattern}"


def _target_view(arn: str, retry: dict[str, Any] | None, dead_letter: str | None, role: bool) -> dict[str, Any]:
    """What must agree between a declared and a deployed target: kinds and logical names, retries, DLQ, role."""
    return {
        "kind": arn.split(":")[2],
        "name": logical(arn_name(arn)),
        "retry": retry,
        "dead_letter_queue": logical(arn_name(dead_letter)) if dead_letter else None,
        "role": role,
    }


def check_the_rule_has_the_programs_targets_retries_and_dead_letter_queue(
    rule_name: str, target: Target, expected: Program, inventory: Inventory, check: Check
) -> None:
    """The rule's targets are the program's, each with its retry policy, dead-letter queue and role."""
    declared = expected.named(rule_name)
    deployed = inventory.rule(rule_name)
    bus = _bus_of(expected, target, declared)
    check.rerun(
        f"aws events list-targets-by-rule --event-bus-name {bus} "
        f"--rule {deployed.name if deployed else rule_name + '-…'}"
    )
    deployed = _deployed(inventory, rule_name)
    wanted = []
    for t in expected.find(TARGET, rule=declared["name"]):
        retry = t.get("retryPolicy") or None
        if retry:
            retry = {
                "MaximumRetryAttempts": int(retry["maximumRetryAttempts"]),
                "MaximumEventAgeInSeconds": int(retry["maximumEventAgeInSeconds"]),
            }
        wanted.append(
            _target_view(t["arn"], retry, (t.get("deadLetterConfig") or {}).get("arn"), bool(t.get("roleArn")))
        )
    got = [
        _target_view(
            t["Arn"], t.get("RetryPolicy"), (t.get("DeadLetterConfig") or {}).get("Arn"), bool(t.get("RoleArn"))
        )
        for t in deployed.targets
    ]
    key = lambda view: json.dumps(view, sort_keys=True)  # noqa: E731
    assert sorted(got, key=key) == sorted(wanted, key=key)
    for t in deployed.targets:
        queue = (t.get("DeadLetterConfig") or {}).get("Arn")
        assert queue is None or queue in inventory.dead_letter_queues, f"dead-letter queue {queue} not found"


def readme_receivers(readme: str) -> dict[str, list[str]]:
    """The README's event catalog: detail-type -> the rules (logical names) that receive it."""
    table = readme.split(BEGIN, 1)[1].split(END, 1)[0]
    receivers = {}
    for row in table.splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) >= 6 and cells[0].startswith("`") and cells[0] != "event":
            receivers[cells[0].strip("`")] = sorted(re.findall(r"`([^`]+)` →", cells[-1]))
    return receivers


def check_every_contract_reaches_exactly_the_rules_the_readme_lists(
    contract: EventSchema, target: Target, inventory: Inventory, check: Check
) -> None:
    """TestEventPattern: the contract's representative event matches exactly the rules of the README's catalog."""
    event = {**representative_event(contract), "account": target.account_id, "region": target.region}
    bus = str(target.outputs["event_bus_name"])
    check.rerun(
        f"for r in $(aws events list-rules --event-bus-name {bus} --query 'Rules[].Name' --output text); do "
        f'echo $r $(aws events test-event-pattern --event-pattern "$(aws events describe-rule --event-bus-name {bus} '
        f'--name $r --query EventPattern --output text)" --event {shlex.quote(json.dumps(event))}); done'
    )
    events = target.client("events")
    matched = sorted(
        logical(rule.name)
        for rule in inventory.rules
        if rule.bus == bus and events.test_event_pattern(EventPattern=rule.pattern, Event=json.dumps(event))["Result"]
    )
    assert matched == readme_receivers(README_PATH.read_text())[contract.detail_type]


def check_the_bus_has_no_rule_the_program_does_not_declare(
    target: Target, expected: Program, inventory: Inventory, check: Check
) -> None:
    """The stack's bus holds the program's rules and no other (the archive's managed rule aside)."""
    bus = str(target.outputs["event_bus_name"])
    check.rerun(f"aws events list-rules --event-bus-name {bus} --query 'Rules[].[Name,ManagedBy]'")
    declared = {r.name for r in expected.of_type(RULE) if r.get("eventBusName") == expected.outputs["event_bus_name"]}
    deployed = {logical(r.name) for r in inventory.rules if r.bus == bus}
    assert deployed == declared, f"extra: {sorted(deployed - declared)}, missing: {sorted(declared - deployed)}"
    assert bus.startswith(f"{PROJECT}-")
