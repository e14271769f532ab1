"""The rest: the registry holds every contract, the Powertools layer exists, every log group keeps its retention."""

from __future__ import annotations

import json

from acceptance.inventory import Inventory, logical
from acceptance.plugin import Check
from acceptance.target import Target
from components.settings import StackSettings
from sandbox.program.evaluation import Program

REGISTRY = "aws:schemas/registry:Registry"
SCHEMA = "aws:schemas/schema:Schema"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def check_the_registry_holds_every_schema(target: Target, expected: Program, check: Check) -> None:
    """list-schemas and describe-schema: every contract, as the program publishes it, and no other."""
    (registry,) = expected.of_type(REGISTRY)
    check.rerun(f"aws schemas list-schemas --registry-name {registry['name']}")
    schemas = target.client("schemas")
    listed = {s["SchemaName"] for s in schemas.list_schemas(RegistryName=registry["name"])["Schemas"]}
    declared = {s["name"]: s for s in expected.of_type(SCHEMA)}
    assert listed == set(declared), (
        f"missing: {sorted(set(declared) - listed)}, extra: {sorted(listed - set(declared))}"
    )
    for name, schema in declared.items():
        described = schemas.describe_schema(RegistryName=registry["name"], SchemaName=name)
        assert described["Type"] == schema["type"], f"{name}: type {described['Type']}"
        assert json.loads(described["Content"]) == json.loads(schema["content"]), f"{name}: content differs"


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
