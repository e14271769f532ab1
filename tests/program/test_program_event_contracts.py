"""The event contracts on AWS: one schema registry per stack, one JSONSchemaDraft4 schema per event."""

from __future__ import annotations

import json

import event_schemas
from components import naming
from components.event_contracts import schema_description
from sandbox.program.evaluation import Program

REGISTRY = "aws:schemas/registry:Registry"
SCHEMA = "aws:schemas/schema:Schema"
COMPONENT = "eda-demo:components:EventContracts"


def test_each_stack_has_one_registry_with_a_valid_name_of_its_own(dev_program: Program, alice_program: Program) -> None:
    # GIVEN the dev and alice stacks as declared
    # WHEN their schema registries are read
    (dev,) = dev_program.of_type(REGISTRY)
    (alice,) = alice_program.of_type(REGISTRY)
    # THEN each stack has exactly one, named for its stack, valid for EventBridge Schemas, in the component
    assert (dev["name"], alice["name"]) == ("eda-demo-dev", "eda-demo-alice")
    assert naming.SCHEMA_REGISTRY.problem(dev["name"]) is None
    assert f"{COMPONENT}${REGISTRY}" in dev.urn


def test_the_registry_holds_exactly_one_draft4_schema_per_event(dev_program: Program) -> None:
    # GIVEN the contracts and the schemas the dev stack declares
    contracts = event_schemas.load()
    (registry,) = dev_program.of_type(REGISTRY)
    schemas = dev_program.of_type(SCHEMA)
    # WHEN the schemas are keyed by their name
    by_name = {s["name"]: s for s in schemas}
    # THEN there is one per contract, named <source>@<detail-type>, in the stack's registry, typed
    # JSONSchemaDraft4, holding exactly the resolved schema and its version in the description
    assert len(by_name) == len(schemas) == len(contracts)
    for (source, detail_type), contract in contracts.items():
        schema = by_name[f"{source}@{detail_type}"]
        assert schema["registryName"] == registry["name"]
        assert schema["type"] == "JSONSchemaDraft4"
        assert json.loads(schema["content"]) == contract.schema
        assert schema["description"] == schema_description(contract)
        assert schema["description"].startswith(f"v{contract.version}: ")
        assert f"{COMPONENT}${SCHEMA}" in schema.urn


def test_a_long_stack_gets_a_short_registry_name_that_still_tells_stacks_apart() -> None:
    # GIVEN two 100-character stacks that differ only in their last character
    first, second = "s" * 99 + "a", "s" * 99 + "b"
    # WHEN their registry names are built
    names = naming.schema_registry_name(first), naming.schema_registry_name(second)
    # THEN both fit EventBridge Schemas' 64 characters, keep the stack's head, and differ
    assert all(naming.SCHEMA_REGISTRY.problem(name) is None for name in names)
    assert all(len(name) == 64 and name.startswith("eda-demo-sss") for name in names)
    assert names[0] != names[1]
    # AND a stack that fits is not shortened
    assert naming.schema_registry_name("x" * 55) == "eda-demo-" + "x" * 55
    assert naming.schema_registry_name("x" * 56) != "eda-demo-" + "x" * 56
