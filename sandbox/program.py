"""Evaluate the Pulumi program under the SDK's mock engine and return what it declares.

This is the only way the sandbox and the wiring tests learn about the system: nothing about
rules, targets, patterns, environment or definitions is written twice. The mocks play the part
of the AWS provider: they return the physical names and ARNs the resources would get, in the
account and region moto uses, so that the sandbox can create them under exactly those names.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import runpy
import sys
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import resource as pulumi_resource
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.proto import source_pb2

from components import naming

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROJECT = "eda-demo"
ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
_EVALUATION_LOCK = threading.Lock()


def _short_hash(*parts: str, length: int = 7) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def load_stack_config(stack: str, project_dir: Path = PROJECT_DIR) -> dict[str, str]:
    """What the Pulumi CLI would pass the program: ``Pulumi.yaml`` defaults, then ``Pulumi.<stack>.yaml``."""
    project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text()) or {}
    config: dict[str, str] = {}
    for key, spec in (project.get("config") or {}).items():
        full = key if ":" in key else f"{PROJECT}:{key}"
        value = spec.get("value", spec.get("default")) if isinstance(spec, dict) else spec
        if value is not None:
            config[full] = _config_string(value)
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    if stack_file.exists():
        stack_doc = yaml.safe_load(stack_file.read_text()) or {}
        for key, value in (stack_doc.get("config") or {}).items():
            config[key if ":" in key else f"{PROJECT}:{key}"] = _config_string(value)
    return config


def _config_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


@dataclass
class DeclaredResource:
    """One resource as the program declared it, with the state the mock provider returned."""

    urn: str
    type: str
    name: str
    id: str
    #: The inputs as the program resolved them, plus what the provider computed (``arn``, ...).
    state: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        """Resolved state (inputs plus provider-computed attributes)."""
        return self.state[key]

    def get(self, key: str, default: Any = None) -> Any:
        """Resolved state value or ``default``."""
        return self.state.get(key, default)


@dataclass
class Program:
    """Everything one evaluation of the program declared."""

    stack: str
    region: str
    account_id: str
    config: dict[str, str]
    resources: list[DeclaredResource]
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[DeclaredResource]:
        """Resources of one Pulumi type token, e.g. ``aws:cloudwatch/eventRule:EventRule``."""
        return [r for r in self.resources if r.type == type_]

    def named(self, logical_name: str) -> DeclaredResource:
        """The resource with this logical name."""
        matches = [r for r in self.resources if r.name == logical_name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources named {logical_name!r}")
        return matches[0]

    def find(self, type_: str, **state: Any) -> Iterator[DeclaredResource]:
        """Resources of ``type_`` whose state has all the given values."""
        for res in self.of_type(type_):
            if all(res.get(k) == v for k, v in state.items()):
                yield res

    def by_arn(self, arn: str) -> DeclaredResource:
        """The resource whose ``arn`` is ``arn``."""
        for res in self.resources:
            if res.get("arn") == arn:
                return res
        raise KeyError(f"no declared resource has ARN {arn}")


class PhysicalNameError(ValueError):
    """AWS would refuse a resource the program declares: its name, or a per-account quota."""


LOG_RESOURCE_POLICY = "aws:cloudwatch/logResourcePolicy:LogResourcePolicy"
#: CloudWatch Logs PutResourcePolicy: "a maximum of 10 policies without resourceARN and one per
#: LogGroup resourceARN"; policies support only these actions, for AWS service principals.
ACCOUNT_LOG_RESOURCE_POLICIES_PER_REGION = 10
LOG_RESOURCE_POLICY_ACTIONS = frozenset({"logs:CreateLogStream", "logs:PutLogEvents"})
#: The provider's documented maximum for ``policy_document``.
LOG_RESOURCE_POLICY_MAX_LENGTH = 5120


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


class ProviderMocks(pulumi.runtime.Mocks):
    """Plays the AWS provider: physical names, ARNs, URLs and IDs as AWS would return them.

    As strict as AWS about names: every physical name (explicit, or Pulumi's auto-name: logical
    name, ``-``, 7 hex characters) is checked against the rule of its service
    (:data:`components.naming.NAMED_TYPES`), and a name AWS would refuse raises
    :class:`PhysicalNameError` naming the resource, the name and the rule. The hex part of an
    auto-name depends on stack and region (real ones are random), so two stacks, or one stack in
    two regions, never share an account-global name such as an IAM role's.
    """

    def __init__(self, stack: str, region: str, account_id: str = ACCOUNT_ID) -> None:
        """Mocks for one stack in one region and account."""
        self.stack = stack
        self.region = region
        self.account_id = account_id
        self._log_groups: set[str] = set()
        self._resource_scoped_policies: set[str] = set()
        self._account_scoped_policies: set[str] = set()

    def _hash(self, *parts: str, length: int = 7) -> str:
        """Stands for AWS's and Pulumi's randomness: stable per stack, region and resource."""
        return _short_hash(self.stack, self.region, *parts, length=length)

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # pyrefly: ignore[bad-override]
        """Data sources the program reads."""
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": self.account_id,
                "arn": f"arn:aws:iam::{self.account_id}:user/sandbox",
                "userId": "SANDBOX",
                "id": self.account_id,
            }
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
        raise NotImplementedError(f"sandbox mocks do not implement data source {args.token}")

    def _physical_name(self, args: pulumi.runtime.MockResourceArgs) -> str | None:
        """The name AWS would get for this resource (given, or auto-named), checked against its rule."""
        named = naming.NAMED_TYPES.get(args.typ)
        if named is None:
            return None
        value = args.inputs.get(named.property)
        if value is None:
            if not named.auto_named:
                return None
            value = f"{args.name}-{self._hash(args.name)}"
        problem = named.rule.problem(str(value))
        if problem is not None:
            raise PhysicalNameError(
                f"{args.typ} {args.name!r}: AWS refuses the {named.rule.what} {value!r}: it {problem}"
            )
        return str(value)

    def _log_resource_policy(self, logical: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """PutResourcePolicy as CloudWatch Logs checks it: scope, quota, actions, principals, resources."""

        def refuse(why: str) -> PhysicalNameError:
            return PhysicalNameError(f"{LOG_RESOURCE_POLICY} {logical!r}: CloudWatch Logs refuses it: {why}")

        policy_name, resource_arn = inputs.get("policyName"), inputs.get("resourceArn")
        if (policy_name is None) == (resource_arn is None):
            raise refuse("exactly one of policyName (account-scoped) or resourceArn (resource-scoped) must be set")
        document_text = str(inputs.get("policyDocument", ""))
        if not 1 <= len(document_text) <= LOG_RESOURCE_POLICY_MAX_LENGTH:
            raise refuse(f"the policy document has {len(document_text)} characters, 1 to 5120 accepted")
        statements = _as_list(json.loads(document_text).get("Statement", []))
        for statement in statements:
            actions = set(_as_list(statement.get("Action", [])))
            if not actions <= LOG_RESOURCE_POLICY_ACTIONS:
                raise refuse(f"only {sorted(LOG_RESOURCE_POLICY_ACTIONS)} are supported, got {sorted(actions)}")
            if set(statement.get("Principal", {})) != {"Service"}:
                raise refuse(f"only AWS service principals are supported, got {statement.get('Principal')}")
        if resource_arn is None:
            self._account_scoped_policies.add(str(policy_name))
            if len(self._account_scoped_policies) > ACCOUNT_LOG_RESOURCE_POLICIES_PER_REGION:
                raise refuse(f"LimitExceededException: more than {ACCOUNT_LOG_RESOURCE_POLICIES_PER_REGION} policies")
            return str(policy_name), {"policyScope": "ACCOUNT"}
        arn = str(resource_arn)
        if arn not in self._log_groups:
            raise refuse(f"resourceArn {arn!r} is not the ARN of a log group of this account and region")
        if arn in self._resource_scoped_policies:
            raise refuse(f"log group {arn!r} already has a resource policy (one per log group)")
        self._resource_scoped_policies.add(arn)
        for statement in statements:
            outside = [r for r in _as_list(statement.get("Resource", [])) if r != arn and not r.startswith(f"{arn}:")]
            if outside:
                raise refuse(f"a policy attached to {arn!r} may only name that log group and its streams: {outside}")
        return arn, {"policyScope": "RESOURCE", "revisionId": self._hash(logical, "revision", length=12)}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        """Return the ID and state AWS would give this resource (refusing names AWS would refuse)."""
        inputs = dict(args.inputs)
        physical = self._physical_name(args)
        name = physical or inputs.get("name") or f"{args.name}-{self._hash(args.name)}"
        region, acct = self.region, self.account_id
        state: dict[str, Any] = {**inputs}
        typ = args.typ
        rid = name
        if typ == "aws:cloudwatch/eventBus:EventBus":
            state.update(name=name, arn=f"arn:aws:events:{region}:{acct}:event-bus/{name}")
        elif typ == "aws:cloudwatch/eventRule:EventRule":
            bus = inputs.get("eventBusName", "default")
            path = f"rule/{name}" if bus == "default" else f"rule/{bus}/{name}"
            state.update(name=name, arn=f"arn:aws:events:{region}:{acct}:{path}")
            rid = f"{bus}|{name}"
        elif typ == "aws:cloudwatch/eventTarget:EventTarget":
            state.update(targetId=inputs.get("targetId") or self._hash(args.name, length=12))
            rid = f"{inputs.get('eventBusName')}-{inputs.get('rule')}-{state['targetId']}"
        elif typ == "aws:cloudwatch/eventArchive:EventArchive":
            state.update(name=name, arn=f"arn:aws:events:{region}:{acct}:archive/{name}")
        elif typ == "aws:cloudwatch/logGroup:LogGroup":
            arn = f"arn:aws:logs:{region}:{acct}:log-group:{name}"
            self._log_groups.add(arn)
            state.update(name=name, arn=arn)
        elif typ == LOG_RESOURCE_POLICY:
            rid, scope = self._log_resource_policy(args.name, inputs)
            state.update(scope)
        elif typ == "aws:sqs/queue:Queue":
            url = f"https://sqs.{region}.amazonaws.com/{acct}/{name}"
            state.update(name=name, arn=f"arn:aws:sqs:{region}:{acct}:{name}", url=url)
            rid = url
        elif typ == "aws:sns/topic:Topic":
            arn = f"arn:aws:sns:{region}:{acct}:{name}"
            state.update(name=name, arn=arn)
            rid = arn
        elif typ == "aws:sns/topicSubscription:TopicSubscription":
            rid = f"{inputs.get('topic')}:{self._hash(args.name)}"
            state.update(arn=rid, pendingConfirmation=inputs.get("protocol") == "email")
        elif typ == "aws:iam/role:Role":
            state.update(name=name, arn=f"arn:aws:iam::{acct}:role/{name}", uniqueId=_short_hash(name, length=21))
        elif typ == "aws:iam/rolePolicy:RolePolicy":
            state.update(name=name)
            rid = f"{inputs.get('role')}:{name}"
        elif typ == "aws:lambda/function:Function":
            arn = f"arn:aws:lambda:{region}:{acct}:function:{name}"
            state.update(
                name=name,
                arn=arn,
                qualifiedArn=f"{arn}:$LATEST",
                invokeArn=f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations",
                version="$LATEST",
            )
        elif typ == "aws:dynamodb/table:Table":
            state.update(name=name, arn=f"arn:aws:dynamodb:{region}:{acct}:table/{name}")
        elif typ == "aws:sfn/stateMachine:StateMachine":
            arn = f"arn:aws:states:{region}:{acct}:stateMachine:{name}"
            state.update(name=name, arn=arn)
            rid = arn
        elif typ == "aws:apigateway/restApi:RestApi":
            rid = self._hash(args.name, length=10)
            state.update(
                name=name,
                rootResourceId=_short_hash(rid, "root", length=10),
                executionArn=f"arn:aws:execute-api:{region}:{acct}:{rid}",
                arn=f"arn:aws:apigateway:{region}::/restapis/{rid}",
            )
        elif typ == "aws:apigateway/resource:Resource":
            rid = self._hash(args.name, length=10)
        elif typ == "aws:apigateway/stage:Stage":
            api, stage = inputs.get("restApi"), inputs.get("stageName")
            state.update(
                invokeUrl=f"https://{api}.execute-api.{region}.amazonaws.com/{stage}",
                executionArn=f"arn:aws:execute-api:{region}:{acct}:{api}/{stage}",
                arn=f"arn:aws:apigateway:{region}::/restapis/{api}/stages/{stage}",
            )
            rid = f"ags-{api}-{stage}"
        elif typ == "aws:apigateway/apiKey:ApiKey":
            rid = self._hash(args.name, length=10)
            state.update(name=name, value=inputs.get("value") or f"sandbox-{self._hash(args.name, length=20)}")
        elif typ == "aws:kms/key:Key":
            key_id = f"{self._hash(args.name, length=8)}-0000-4000-8000-000000000000"
            state.update(keyId=key_id, arn=f"arn:aws:kms:{region}:{acct}:key/{key_id}")
            rid = key_id
        elif typ == "aws:cloudwatch/metricAlarm:MetricAlarm":
            state.update(name=name, arn=f"arn:aws:cloudwatch:{region}:{acct}:alarm:{name}")
        elif typ == "aws:cloudwatch/dashboard:Dashboard":
            dash = str(inputs.get("dashboardName", name))
            # Dashboards are account-global: their ARN has no region.
            state.update(dashboardArn=f"arn:aws:cloudwatch::{acct}:dashboard/{dash}")
            rid = dash
        elif typ.startswith("aws:"):
            rid = f"{args.name}-{self._hash(args.name)}"
        return rid, state


@contextlib.contextmanager
def _no_source_positions() -> Generator[None, None, None]:
    """Skip the SDK's per-resource stack walk while the program runs under mocks."""
    original = pulumi_resource._get_stack_trace
    pulumi_resource._get_stack_trace = source_pb2.StackTrace
    try:
        yield
    finally:
        pulumi_resource._get_stack_trace = original


def evaluate(
    stack: str = "dev",
    config: dict[str, str] | None = None,
    *,
    overrides: dict[str, str] | None = None,
    program: Callable[[], None] | None = None,
    project_dir: Path = PROJECT_DIR,
) -> Program:
    """Run the program under mocks and return every resource it declared and its outputs.

    ``config`` defaults to what the CLI would pass for ``stack`` (``Pulumi.yaml`` defaults and
    ``Pulumi.<stack>.yaml``); ``overrides`` are applied on top (``{"eda-demo:fraudThreshold":
    "100"}``). ``program`` replaces running ``__main__.py`` (tests of single components).
    """
    resolved = dict(load_stack_config(stack, project_dir) if config is None else config)
    resolved.update(overrides or {})
    region = resolved.get("aws:region", DEFAULT_REGION)
    with _EVALUATION_LOCK:
        if str(project_dir) not in sys.path:
            sys.path.insert(0, str(project_dir))
        mocks = ProviderMocks(stack, region)
        monitor = MockMonitor(mocks)
        pulumi_settings.ROOT.set(None)
        pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
        pulumi.runtime.set_all_config(resolved)
        exports: dict[str, Any] = {}

        @pulumi.runtime.test
        def run() -> pulumi.Output[Any]:
            if program is None:
                runpy.run_path(str(project_dir / "__main__.py"), run_name="__main__")
            else:
                program()
            root = pulumi.runtime.get_root_resource()
            outputs = getattr(root, "outputs", {}) or {}
            return pulumi.Output.all(**outputs).apply(exports.update)

        # Source positions (a stack walk per resource, a fifth of an evaluation) only serve the
        # CLI's diagnostics; the mock engine never reads them.
        with _no_source_positions():
            run()
        resources = []
        for urn, reg in monitor.get_registered_resources().items():
            type_path = urn.split("::")[2]
            resources.append(
                DeclaredResource(
                    urn=urn,
                    type=type_path.split("$")[-1],
                    name=urn.split("::")[-1],
                    id=reg.id,
                    state=dict(reg.state),
                )
            )
    return Program(
        stack=stack, region=region, account_id=ACCOUNT_ID, config=resolved, resources=resources, outputs=exports
    )
