"""EventContracts: the account's EventBridge schema registry, one schema per event the system emits.

The registry is one per account and region (``eda-demo``), declared only by the stack that owns it
(``manageSchemaRegistry``): EventBridge Schemas allows 10 registries per account and region and
100 schemas per registry by default, so a registry per stack would stop the eleventh stack, and
schema names cannot carry every stack name (the provider documents letters and ``.-_@`` only).
Every contract of ``event_schemas/events`` is published as a ``JSONSchemaDraft4`` schema named as
EventBridge schema discovery names its own (``<source>@<detail-type>``), so a team consuming an
event downloads its code bindings from the registry on AWS instead of copying field lists.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import naming
from event_schemas import EventSchema

#: EventBridge Schemas: a schema description has at most 256 characters.
DESCRIPTION_MAX_LENGTH = 256
SCHEMA_TYPE = "JSONSchemaDraft4"


def schema_description(contract: EventSchema) -> str:
    """``v<version>: <the schema's description>``, refused if the registry would refuse it."""
    text = f"v{contract.version}: {contract.schema.get('description', contract.detail_type)}"
    if len(text) > DESCRIPTION_MAX_LENGTH:
        raise ValueError(f"{contract.path.name}: the description has {len(text)} characters, at most 256 published")
    return text


def schema_content(contract: EventSchema) -> str:
    """The resolved schema as the registry stores it (JSON, keys sorted so the diff stays stable)."""
    return json.dumps(contract.schema, sort_keys=True)


@dataclass(frozen=True)
class EventContractsArgs:
    """The stack, and the contracts to publish (``event_schemas.load().values()``)."""

    stack: str
    contracts: Iterable[EventSchema]


class EventContracts(pulumi.ComponentResource):
    """The account's and region's schema registry, holding one schema per event contract."""

    registry_name: pulumi.Output[str]
    registry_arn: pulumi.Output[str]
    schema_arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: EventContractsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        """Declare the registry and its schemas."""
        super().__init__("eda-demo:components:EventContracts", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.registry = aws.schemas.Registry(
            f"{name}-registry",
            name=naming.schema_registry_name(),
            description=f"Event contracts of {naming.PROJECT}, published by stack {args.stack}",
            opts=child,
        )
        self.registry_name = self.registry.name
        self.registry_arn = self.registry.arn
        self.schema_arns = {}
        for contract in args.contracts:
            schema = aws.schemas.Schema(
                f"{name}-{contract.detail_type.lower()}",
                name=naming.schema_name(contract.source, contract.detail_type),
                registry_name=self.registry.name,
                type=SCHEMA_TYPE,
                content=schema_content(contract),
                description=schema_description(contract),
                opts=child,
            )
            self.schema_arns[contract.detail_type] = schema.arn
        self.register_outputs({"registry_name": self.registry_name, "registry_arn": self.registry_arn})
