"""The rest: the registry holds every contract, the Powertools layer exists, every log group keeps its retention."""

from __future__ import annotations

import json
from typing import Any

import event_schemas
from acceptance.inventory import Inventory, logical
from acceptance.plugin import Check
from acceptance.target import Target
from components import naming
from components.event_contracts import SCHEMA_TYPE, schema_content
from components.settings import StackSettings
from sandbox.program.evaluation import Program

REGISTRY = "aws:schemas/registry:Registry"
SCHEMA = "aws:schemas/schema:Schema"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def published_schemas() -> dict[str, tuple[str, dict[str, Any]]]:
    """Schema name -> (type, content) of every contract, as the owner stack publishes them (pure)."""
    return {
        naming.schema_name(c.source, c.detail_type): (SCHEMA_TYPE, json.loads(schema_content(c)))
        for c in event_schemas.load().values()
    }


def _registry_owner_note(target: Target, expected: Program, check: Check) -> bool:
    """Whether this stack owns the registry; if not, its line says where the registry comes from."""
    declared = {r["name"] for r in expected.of_type(REGISTRY)}
    if declared:
        assert declared == {naming.schema_registry_name()}, f"the program declares registries {sorted(declared)}"
        return True
    if target.sandbox:
        check.sandbox_reads(
            "this stack does not own the registry (manageSchemaRegistry is off), so the sandbox serves none; "
            "the check confirms none is served, and make test runs it against an owner variant"
        )
    else:
        check.note("the registry is owned by the account's stack with manageSchemaRegistry: true, not this one")
    return False


def check_the_registry_holds_every_schema(target: Target, expected: Program, check: Check) -> None:
    """list-schemas and describe-schema: the account's registry holds every contract, as published, and no other."""
    name = naming.schema_registry_name()
    check.rerun(
        f"aws schemas list-schemas --registry-name {name}; aws schemas describe-schema --registry-name {name} …"
    )
    owner = _registry_owner_note(target, expected, check)
    schemas = target.client("schemas")
    try:
        listed = {s["SchemaName"] for s in schemas.list_schemas(RegistryName=name)["Schemas"]}
    except schemas.exceptions.NotFoundException:
        if target.sandbox and not owner:
            return
        raise AssertionError(
            f"no registry {name} in {target.region}: "
            + (
                "this stack declares it"
                if owner
                else "its owner (the stack with manageSchemaRegistry: true) has not deployed it here"
            )
        ) from None
    assert owner or not target.sandbox, f"the sandbox serves registry {name}, which this program does not declare"
    wanted = published_schemas()
    assert listed == set(wanted), f"missing: {sorted(set(wanted) - listed)}, extra: {sorted(listed - set(wanted))}"
    declared = {s["name"]: (s["type"], json.loads(s["content"])) for s in expected.of_type(SCHEMA)}
    assert not owner or declared == wanted, "the program's schemas are not the contracts of event_schemas/events"
    for schema_name, (type_, content) in wanted.items():
        described = schemas.describe_schema(RegistryName=name, SchemaName=schema_name)
        assert described["Type"] == type_, f"{schema_name}: type {described['Type']}"
        assert json.loads(described["Content"]) == content, f"{schema_name}: content differs from its contract"


def check_the_powertools_layer_exists_in_the_region(
    target: Target, expected: Program, inventory: Inventory, check: Check
) -> None:
    """Every function uses the program's layers, and get-layer-version-by-arn answers for each in this region."""
    declared = sorted(
        {arn for fn in expected.of_type("aws:lambda/function:Function") for arn in fn.get("layers") or []}
    )
    check.rerun(" && ".join(f"aws lambda get-layer-version-by-arn --arn {arn}" for arn in declared))
    if target.sandbox:
        check.sandbox_reads("the program's declaration of the layer; AWS's published copy is not read offline")
    used = {layer["Arn"] for config in inventory.functions.values() for layer in config.get("Layers", [])}
    assert used == set(declared), f"functions use {sorted(used)}, the program declares {declared}"
    lambda_ = target.client("lambda")
    for arn in declared:
        assert lambda_.get_layer_version_by_arn(Arn=arn)["LayerVersionArn"] == arn
        assert f":{target.region}:" in arn, f"{arn} is not of region {target.region}"


def check_every_log_group_keeps_the_configured_retention(
    target: Target, expected: Program, inventory: Inventory, settings: StackSettings, check: Check
) -> None:
    """Every log group the stack writes (functions, workflow, catch-all, access log) keeps the configured retention."""
    groups = inventory.log_groups | {g["name"] for g in expected.of_type(LOG_GROUP)}
    prefix = f"/aws/vendedlogs/{target.outputs['event_bus_name']}"
    check.rerun(
        f"aws logs describe-log-groups --log-group-name-prefix {prefix} "
        "--query 'logGroups[].[logGroupName,retentionInDays]' (and /aws/lambda/…, /aws/events/…)"
    )
    logs = target.client("logs")
    wrong = {}
    for group in sorted(groups):
        found = [
            g for g in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] if g["logGroupName"] == group
        ]
        retention = found[0].get("retentionInDays") if found else "missing"
        if retention != settings.log_retention_days:
            wrong[group] = retention
    assert not wrong, f"expected {settings.log_retention_days} days: {wrong}"


def check_functions_and_the_workflow_trace_as_declared(
    target: Target, expected: Program, inventory: Inventory, check: Check
) -> None:
    """Every function and the payment workflow trace to X-Ray as the program declares (the setting, not traces)."""
    arn = str(target.outputs["payment_state_machine_arn"])
    check.rerun(
        "aws lambda get-function-configuration --function-name <name> --query TracingConfig; "
        f"aws stepfunctions describe-state-machine --state-machine-arn {arn} --query tracingConfiguration"
    )
    if target.sandbox:
        check.sandbox_reads("the tracing settings as created; no trace is recorded offline")
    declared = {
        logical(fn["name"]): (fn.get("tracingConfig") or {}).get("mode", "PassThrough")
        for fn in expected.of_type("aws:lambda/function:Function")
    }
    deployed = {
        logical(name): config.get("TracingConfig", {}).get("Mode") for name, config in inventory.functions.items()
    }
    assert deployed == declared
    (machine,) = expected.of_type("aws:sfn/stateMachine:StateMachine")
    wanted = bool((machine.get("tracingConfiguration") or {}).get("enabled"))
    assert bool((inventory.state_machines[arn].get("tracingConfiguration") or {}).get("enabled")) == wanted
