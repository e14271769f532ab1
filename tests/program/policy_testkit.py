"""Run the policy pack the way the Pulumi CLI does, over what the mock engine registered.

``pulumi preview --policy-pack policy`` starts the pack (``policy/__main__.py``: a ``PolicyPack``
serving pulumi-policy's analyzer over gRPC) and sends it one ``Analyze`` request per resource and
one ``AnalyzeStack`` request with all of them. :func:`analyze` builds the same analyzer from the
same arguments the pack passes to ``PolicyPack`` and sends it the same requests, built from each
``RegisterResource`` call the program made (its inputs as the SDK serialised them, its parent and
its dependencies): the pack's own validate functions run through pulumi-policy's own types. Only
the gRPC transport is left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format, struct_pb2
from program_testkit import Registration
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer

from policy.production_defaults import ENFORCEMENT_LEVEL, PACK_NAME, POLICIES

_LEVELS = {
    proto.ADVISORY: EnforcementLevel.ADVISORY,
    proto.MANDATORY: EnforcementLevel.MANDATORY,
    proto.DISABLED: EnforcementLevel.DISABLED,
    proto.REMEDIATE: EnforcementLevel.REMEDIATE,
}
_WIRE_LEVELS = {level: wire for wire, level in _LEVELS.items()}
POLICY_NAMES = [p.name for p in POLICIES]


@dataclass(frozen=True)
class Violation:
    """One diagnostic the pack reported: the policy, its enforcement level, the message and the resource."""

    policy: str
    level: EnforcementLevel
    message: str
    urn: str


def analyzer(levels: dict[str, EnforcementLevel] | None = None) -> _PolicyAnalyzerServicer:
    """The pack's analyzer, as ``PolicyPack`` builds it, configured as ``--policy-pack-config`` would."""
    servicer = _PolicyAnalyzerServicer(PACK_NAME, "1.0.0", POLICIES, ENFORCEMENT_LEVEL)
    if levels:
        config = {name: proto.PolicyConfig(enforcementLevel=_WIRE_LEVELS[level]) for name, level in levels.items()}
        servicer.Configure(proto.ConfigureAnalyzerRequest(policyConfig=config), None)
    return servicer


def analyze(
    registrations: Iterable[Registration], levels: dict[str, EnforcementLevel] | None = None
) -> list[Violation]:
    """Every violation the pack reports for these resources (per resource, then for the stack)."""
    servicer = analyzer(levels)
    resources = [r for r in registrations if r.custom]
    diagnostics = []
    for r in resources:
        request = proto.AnalyzeRequest(type=r.type, properties=r.inputs, urn=r.urn, name=r.name)
        diagnostics.extend(servicer.Analyze(request, None).diagnostics)
    stack = proto.AnalyzeStackRequest(
        resources=[
            proto.AnalyzerResource(
                type=r.type,
                properties=r.inputs,
                urn=r.urn,
                name=r.name,
                parent=r.parent,
                dependencies=r.dependencies,
                propertyDependencies={
                    k: proto.AnalyzerPropertyDependencies(urns=v) for k, v in r.property_dependencies.items()
                },
            )
            for r in resources
        ]
    )
    diagnostics.extend(servicer.AnalyzeStack(stack, None).diagnostics)
    return [Violation(d.policyName, _LEVELS[d.enforcementLevel], d.message, d.urn) for d in diagnostics]


def resource(
    type_: str, name: str, props: dict[str, Any], property_dependencies: dict[str, list[str]] | None = None
) -> Registration:
    """A hand-made registration (the controls' minimal resources), with a URN in the engine's form."""
    inputs = json_format.ParseDict(props, struct_pb2.Struct())
    urn = f"urn:pulumi:dev::eda-demo::{type_}::{name}"
    return Registration(urn, type_, name, inputs, "", [], property_dependencies or {}, True)


def urn_of(type_: str, name: str) -> str:
    """The URN :func:`resource` gives a resource of this type and name."""
    return f"urn:pulumi:dev::eda-demo::{type_}::{name}"


def without(registration: Registration, *keys: str) -> Registration:
    """The same registration with some inputs removed (a control: the program minus one setting)."""
    props = json_format.MessageToDict(registration.inputs, preserving_proto_field_name=True)
    for key in keys:
        props.pop(key, None)
    inputs = json_format.ParseDict(props, struct_pb2.Struct())
    return Registration(
        registration.urn,
        registration.type,
        registration.name,
        inputs,
        registration.parent,
        registration.dependencies,
        {k: v for k, v in registration.property_dependencies.items() if k not in keys},
        registration.custom,
    )
