"""Two developers' stacks in one account and region never collide, and each uses its own bus."""

from __future__ import annotations

import json
from typing import Any

from program_testkit import EVENT_BUS, FUNCTION, STATE_MACHINE, one

from sandbox.program.evaluation import Program

DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
NAME_KEYS = ("name", "dashboardName")


def _physical_names(program: Program) -> dict[str, str]:
    """Physical name -> resource logical name, for every named resource in the account's namespaces.

    API Gateway models, validators and stages are skipped: their names are scoped to their own
    REST API (a ``restApi`` input), which differs per stack; so are schemas, to their registry
    (a ``registryName`` input).
    """
    names: dict[str, str] = {}
    for res in program.resources:
        if "restApi" in res.state or "registryName" in res.state:
            continue
        for key in NAME_KEYS:
            value: Any = res.get(key)
            if isinstance(value, str):
                names[value] = f"{res.name}.{key}"
        log_group = (res.get("loggingConfig") or {}).get("logGroup")
        if log_group:
            names[log_group] = f"{res.name}.loggingConfig.logGroup"
    return names


def _arns(program: Program) -> dict[str, str]:
    return {res["arn"]: res.name for res in program.resources if isinstance(res.get("arn"), str)}


def test_no_physical_name_is_shared_between_two_stacks(dev_program: Program, alice_program: Program) -> None:
    # GIVEN the dev and alice stacks of the same project
    dev, alice = _physical_names(dev_program), _physical_names(alice_program)
    # WHEN their physical names are compared
    shared = set(dev) & set(alice)
    # THEN none is shared (bus, log groups and dashboard names carry the stack, the rest is auto-named)
    assert len(dev) >= 20
    assert "/aws/events/eda-demo-dev-catch-all" in dev
    assert {name: dev[name] for name in shared} == {}


def test_no_arn_is_shared_between_two_stacks(dev_program: Program, alice_program: Program) -> None:
    # GIVEN the ARNs of both stacks
    dev, alice = _arns(dev_program), _arns(alice_program)
    # WHEN they are compared
    shared = set(dev) & set(alice)
    # THEN no resource of one stack is a resource of the other
    assert len(dev) >= 30
    assert {arn: dev[arn] for arn in shared} == {}


def test_bus_name_carries_the_stack(dev_program: Program, alice_program: Program) -> None:
    # GIVEN each stack's one bus
    for program in (dev_program, alice_program):
        bus = one(program.of_type(EVENT_BUS))
        # WHEN its name is read
        # THEN it names the stack
        assert program.stack in bus["name"]
        assert bus["name"] == f"eda-demo-{program.stack}"


def test_dashboard_name_carries_the_stack_and_the_region(dev_program: Program, alice_program: Program) -> None:
    # GIVEN each stack's one dashboard (CloudWatch dashboards are account-global, not regional)
    for program in (dev_program, alice_program):
        dashboard = one(program.of_type(DASHBOARD))
        # WHEN its name is read
        # THEN it names the stack and the region, so the same stack in another region has its own
        assert dashboard["dashboardName"] == f"eda-demo-{program.stack}-{program.region}"
        assert program.outputs["dashboard_name"] == dashboard["dashboardName"]


def test_state_machine_puts_on_its_own_stack_bus(dev_program: Program, alice_program: Program) -> None:
    for program in (dev_program, alice_program):
        # GIVEN each stack's payment state machine
        definition = json.loads(one(program.of_type(STATE_MACHINE))["definition"])
        bus_name = one(program.of_type(EVENT_BUS))["name"]
        # WHEN the bus of every putEvents entry of its definition is read
        entries = [
            entry
            for state in definition["States"].values()
            if state.get("Resource") == "arn:aws:states:::events:putEvents"
            for entry in state["Parameters"]["Entries"]
        ]
        # THEN every entry goes to the stack's own bus, never the seed's hard-coded "eda-demo"
        assert entries
        assert {e["EventBusName"] for e in entries} == {bus_name}
        assert "eda-demo" not in {e["EventBusName"] for e in entries}


def test_functions_publish_on_their_own_stack_bus(dev_program: Program, alice_program: Program) -> None:
    for program in (dev_program, alice_program):
        # GIVEN the functions of each stack that publish events
        bus_name = one(program.of_type(EVENT_BUS))["name"]
        publishers = [f for f in program.of_type(FUNCTION) if "EVENT_BUS_NAME" in f["environment"]["variables"]]
        # WHEN their bus variable is read
        # THEN the outbox's publisher alone publishes order events, on the stack's bus
        assert sorted(f["handler"] for f in publishers) == ["handlers.publish_order_events.handler"]
        assert {f["environment"]["variables"]["EVENT_BUS_NAME"] for f in publishers} == {bus_name}


def test_the_components_project_name_is_pulumi_yamls() -> None:
    # GIVEN the project name every physical name starts with WHEN compared with Pulumi.yaml's name
    # THEN they are the same (a renamed project renames its resources, its bus drain type included)
    from components import naming
    from sandbox.program.evaluation import project_name

    assert project_name() == naming.PROJECT
