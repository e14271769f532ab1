"""The outbox: the orders table's stream feeds the publisher through the event source mapping the program declares.

The scenario (``check_1_scenario.py``) shows the events it publishes arrive; this family shows the
mapping is deployed with the program's settings, reading from the table's current stream. Its
on-failure queue is among the dead-letter queues ``check_5_operations.py`` finds empty, and the
publisher's log group among those ``check_6_resources.py`` checks for retention.
"""

from __future__ import annotations

import json
from typing import Any

from acceptance.inventory import Inventory, arn_name
from acceptance.plugin import Check
from acceptance.target import Target
from sandbox.program.evaluation import DeclaredResource, Program

MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"


def declared_settings(mapping: DeclaredResource) -> dict[str, Any]:
    """What ``list-event-source-mappings`` must show of a declared mapping (pure; AWS's names and defaults)."""
    on_failure = ((mapping.get("destinationConfig") or {}).get("onFailure") or {}).get("destinationArn")
    return {
        "State": "Enabled" if mapping.get("enabled", True) else "Disabled",
        "Function": arn_name(str(mapping["functionName"])),
        "StartingPosition": mapping.get("startingPosition"),
        "BatchSize": int(mapping.get("batchSize", 100)),
        "MaximumBatchingWindowInSeconds": int(mapping.get("maximumBatchingWindowInSeconds", 0)),
        "MaximumRetryAttempts": int(mapping.get("maximumRetryAttempts", -1)),
        "MaximumRecordAgeInSeconds": int(mapping.get("maximumRecordAgeInSeconds", -1)),
        "BisectBatchOnFunctionError": bool(mapping.get("bisectBatchOnFunctionError")),
        "FunctionResponseTypes": sorted(mapping.get("functionResponseTypes") or []),
        "Filters": [json.loads(f["pattern"]) for f in (mapping.get("filterCriteria") or {}).get("filters", [])],
        "OnFailure": on_failure,
    }


def deployed_settings(mapping: dict[str, Any]) -> dict[str, Any]:
    """The same fields of a mapping as ``list-event-source-mappings`` answers it (pure)."""
    return {
        "State": mapping.get("State"),
        "Function": arn_name(mapping["FunctionArn"]),
        "StartingPosition": mapping.get("StartingPosition"),
        "BatchSize": mapping.get("BatchSize"),
        "MaximumBatchingWindowInSeconds": mapping.get("MaximumBatchingWindowInSeconds") or 0,
        "MaximumRetryAttempts": mapping.get("MaximumRetryAttempts"),
        "MaximumRecordAgeInSeconds": mapping.get("MaximumRecordAgeInSeconds"),
        "BisectBatchOnFunctionError": bool(mapping.get("BisectBatchOnFunctionError")),
        "FunctionResponseTypes": sorted(mapping.get("FunctionResponseTypes") or []),
        "Filters": [json.loads(f["Pattern"]) for f in (mapping.get("FilterCriteria") or {}).get("Filters", [])],
        "OnFailure": ((mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination"),
    }


def check_the_outbox_mapping_has_the_programs_settings(
    target: Target, expected: Program, inventory: Inventory, check: Check
) -> None:
    """The outbox's mapping has the program's batch, retries, age, bisect, responses, filter, on-failure queue."""
    declared = [declared_settings(m) for m in expected.of_type(MAPPING)]
    functions = sorted({d["Function"] for d in declared})
    check.rerun(
        " && ".join(f"aws lambda list-event-source-mappings --function-name {name}" for name in functions)
        + " --query 'EventSourceMappings[].[State,BatchSize,MaximumRetryAttempts,MaximumRecordAgeInSeconds,"
        "BisectBatchOnFunctionError,FunctionResponseTypes,FilterCriteria,DestinationConfig]'"
    )
    deployed = [deployed_settings(m) for m in inventory.event_source_mappings]
    assert declared, "the program declares no event source mapping"
    key = lambda s: json.dumps(s, sort_keys=True)  # noqa: E731
    assert sorted(deployed, key=key) == sorted(declared, key=key), (
        f"deployed {deployed}, the program declares {declared}"
    )


def check_the_outbox_reads_the_orders_tables_stream(target: Target, inventory: Inventory, check: Check) -> None:
    """The mapping reads the orders table's current stream (describe-table's LatestStreamArn)."""
    table = str(target.outputs["orders_table_name"])
    check.rerun(f"aws dynamodb describe-table --table-name {table} --query Table.LatestStreamArn")
    stream = target.client("dynamodb").describe_table(TableName=table)["Table"].get("LatestStreamArn")
    assert stream, f"table {table} has no stream"
    sources = [m["EventSourceArn"] for m in inventory.event_source_mappings]
    assert stream in sources, f"no mapping reads {stream}: the mappings read {sources}"
