"""The event contracts on AWS: one schema registry per account and region, owned by one stack.

EventBridge Schemas allows 10 registries per account and region by default, so a registry per
stack would fail the eleventh stack's first ``pulumi up``; the stack with
``manageSchemaRegistry: true`` publishes the registry ``eda-demo`` with one JSONSchemaDraft4
schema per event, and every other stack declares none (``test_program_shared_account.py`` counts
them across an account).
"""

from __future__ import annotations

import json

import event_schemas
from components import naming
from components.event_contracts import schema_description
from sandbox.program.evaluation import Program

REGISTRY = "aws:schemas/registry:Registry"
SCHEMA = "aws:schemas/schema:Schema"
COMPONENT = "eda-demo:components:EventContracts"


def test_a_default_stack_publishes_no_registry_and_no_schema(dev_program: Program, alice_program: Program) -> None:
    # GIVEN two developer stacks with the defaults
    # WHEN their schema registries and schemas are read
    # THEN neither declares any: they take nothing of the account's 10 registries
    for program in (dev_program, alice_program):
        assert program.of_type(REGISTRY) == []
        assert program.of_type(SCHEMA) == []


def test_the_owner_stack_has_the_one_registry_named_for_the_project(owner_program: Program) -> None:
    # GIVEN the stack that owns the registry of its account and region
    # WHEN its schema registry is read
    (registry,) = owner_program.of_type(REGISTRY)
    # THEN it is named for the project, valid for EventBridge Schemas, in the component
    assert registry["name"] == "eda-demo" == naming.schema_registry_name()
    assert naming.SCHEMA_REGISTRY.problem(registry["name"]) is None
    assert f"{COMPONENT}${REGISTRY}" in registry.urn


def test_the_registry_holds_exactly_one_draft4_schema_per_event(owner_program: Program) -> None:
    # GIVEN the contracts and the schemas the owner stack declares
    contracts = event_schemas.load()
    (registry,) = owner_program.of_type(REGISTRY)
    schemas = owner_program.of_type(SCHEMA)
    # WHEN the schemas are keyed by their name
    by_name = {s["name"]: s for s in schemas}
    # THEN there is one per contract, named <source>@<detail-type>, in the registry, typed
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
