"""Helpers shared by the Pulumi-side tests: a recording mock monitor and policy-document readers."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.mocks import MockMonitor

import sandbox.program.evaluation as sandbox_program
from sandbox.program.evaluation import DeclaredResource, Program, ProviderMocks, project_name

PROJECT = project_name()
REGION = "us-east-1"

# The original design's four rule patterns, verbatim (the reference spec; never derived from code).
SEED_PATTERNS: dict[str, str] = {
    "cw-catch-all": '{"source":[{"exists":true}]}',
    "payment-service-filtering-orders": '{"source":["order-service"],"detail-type":["OrderCreated"]}',
    "order-service-filtering-payments": '{"source":["payment-service"]}',
    "notification-service": '{"source":["order-service","payment-service"]}',
}

#: The operations rule on the account's default bus that reports alarms going ALARM -> OK.
RECOVERY_RULE = "ops-alarm-recovered-rule"

EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
EVENT_BUS = "aws:cloudwatch/eventBus:EventBus"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
FUNCTION = "aws:lambda/function:Function"
PERMISSION = "aws:lambda/permission:Permission"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
TABLE = "aws:dynamodb/table:Table"
EVENT_SOURCE_MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
REST_API = "aws:apigateway/restApi:RestApi"
METHOD = "aws:apigateway/method:Method"


#: Every config key away from its default at once (apiAuth AWS_IAM is the other stack below).
CONFIGURED = {
    "eda-demo:alarmEmail": "ops@example.com",
    "eda-demo:notificationEmail": "customer@example.com",
    "eda-demo:protectData": "true",
    "eda-demo:logRetentionDays": "30",
    "eda-demo:archiveRetentionDays": "3650",
    "eda-demo:fraudThreshold": "250.5",
    "eda-demo:paymentWorkflowType": "EXPRESS",
    "eda-demo:powertoolsLayerArn": "arn:aws:lambda:us-east-1:111122223333:layer:my-powertools:3",
    "eda-demo:apiThrottleRate": "20",
    "eda-demo:apiThrottleBurst": "40",
    "eda-demo:apiAuth": "API_KEY",
}
#: The one stack of its account and region that owns what is shared there: API Gateway's account
#: setting and the EventBridge schema registry.
OWNS_ACCOUNT_SETTINGS = {"eda-demo:manageApiGatewayAccount": "true", "eda-demo:manageSchemaRegistry": "true"}
#: The dev stack's config in another region, with SigV4-signed callers.
SIGNED_IN_EU = {"aws:region": "eu-west-1", "eda-demo:apiAuth": "AWS_IAM"}


@dataclass
class Registration:
    """One ``RegisterResource`` call: the resource's inputs (serialised as the SDK sent them) and its edges."""

    urn: str
    type: str
    name: str
    inputs: Any
    parent: str
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    custom: bool


class RecordingMonitor(MockMonitor):
    """The SDK's mock monitor, plus the resource options the engine would act on and registered outputs."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registered_outputs: dict[str, dict[str, Any]] = {}
        #: URN -> URNs of the resources it depends on (``depends_on`` and every resource whose
        #: output it takes as an input): what Pulumi orders creation and deletion by.
        self.dependencies: dict[str, set[str]] = {}
        #: Logical names of the resources Pulumi refuses to delete (``protect``).
        self.protected: set[str] = set()
        #: Logical names of the resources Pulumi leaves in the account on destroy (``retain_on_delete``).
        self.retained: set[str] = set()
        #: Every registration as the engine received it, in order (what a policy pack is shown).
        self.registrations: list[Registration] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        self.dependencies[response.urn] = set(request.dependencies)
        if request.protect:
            self.protected.add(request.name)
        if request.retainOnDelete:
            self.retained.add(request.name)
        self.registrations.append(
            Registration(
                urn=response.urn,
                type=request.type,
                name=request.name,
                inputs=request.object,
                parent=request.parent,
                dependencies=list(request.dependencies),
                property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
                custom=request.custom,
            )
        )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        self.registered_outputs[request.urn] = rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)


@dataclass(frozen=True)
class Evaluation:
    """A program as evaluated, with the monitor that recorded how it was registered."""

    program: Program
    monitor: RecordingMonitor

    @property
    def retained(self) -> set[str]:
        """Logical names of the resources Pulumi keeps on destroy."""
        return self.monitor.retained

    @property
    def protected(self) -> set[str]:
        """Logical names of the resources Pulumi refuses to delete."""
        return self.monitor.protected


def evaluate_recorded(stack: str = "dev", **kwargs: Any) -> Evaluation:
    """``sandbox.program.evaluation.evaluate`` with a :class:`RecordingMonitor`, returned with the program."""
    monitors: list[RecordingMonitor] = []

    def recording(mocks: pulumi.runtime.Mocks) -> RecordingMonitor:
        monitors.append(RecordingMonitor(mocks))
        return monitors[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sandbox_program, "MockMonitor", recording)
        program = sandbox_program.evaluate(stack, **kwargs)
    return Evaluation(program, monitors[-1])


def install_mocks(stack: str = "dev") -> RecordingMonitor:
    """Point the Pulumi runtime at fresh provider mocks (as ``sandbox.program.evaluation.evaluate`` does)."""
    mocks = ProviderMocks(stack, REGION)
    monitor = RecordingMonitor(mocks)
    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    return monitor


def one(resources: Iterable[DeclaredResource]) -> DeclaredResource:
    """The single element of ``resources`` (fails loudly on zero or several)."""
    found = list(resources)
    assert len(found) == 1, f"expected exactly one resource, got {[r.name for r in found]}"
    return found[0]


def as_list(value: Any) -> list[Any]:
    """IAM lets ``Action``/``Resource``/principals be a string or a list."""
    return list(value) if isinstance(value, list) else [value]


def allowed_pairs(policy: str | dict[str, Any]) -> set[tuple[str, str]]:
    """Every (action, resource) pair a policy document allows."""
    doc = json.loads(policy) if isinstance(policy, str) else policy
    pairs: set[tuple[str, str]] = set()
    for stmt in as_list(doc["Statement"]):
        assert stmt["Effect"] == "Allow", f"unexpected statement {stmt}"
        assert "NotAction" not in stmt and "NotResource" not in stmt, f"unexpected negation in {stmt}"
        pairs |= {(a, r) for a in as_list(stmt["Action"]) for r in as_list(stmt["Resource"])}
    return pairs


def trusted_services(assume_role_policy: str) -> set[str]:
    """Service principals a role's trust policy lets assume it."""
    doc = json.loads(assume_role_policy)
    services: set[str] = set()
    for stmt in as_list(doc["Statement"]):
        assert stmt["Effect"] == "Allow" and stmt["Action"] == "sts:AssumeRole", stmt
        assert set(stmt["Principal"]) == {"Service"}, stmt
        services |= set(as_list(stmt["Principal"]["Service"]))
    return services


def policies_of_role(program: Program, role: DeclaredResource) -> list[DeclaredResource]:
    """Inline policies attached to ``role`` (``RolePolicy.role`` is the role's id, i.e. its name)."""
    return [p for p in program.of_type(ROLE_POLICY) if p["role"] in (role.id, role["name"])]


def function_by_handler(program: Program, handler: str) -> DeclaredResource:
    """The one function running ``handler``."""
    return one(program.find(FUNCTION, handler=handler))


def function_log_group(program: Program, function: DeclaredResource) -> DeclaredResource:
    """The log group a function writes to (its ``loggingConfig.logGroup``)."""
    return one(program.find(LOG_GROUP, name=function["loggingConfig"]["logGroup"]))


def rule_named(program: Program, seed_name: str) -> DeclaredResource:
    """The rule the original design calls ``seed_name``."""
    return program.named(f"{seed_name}-rule")


def target_of(program: Program, rule: DeclaredResource) -> DeclaredResource:
    """The one target of ``rule``."""
    return one(program.find(EVENT_TARGET, rule=rule["name"]))
