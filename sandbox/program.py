"""Evaluate the Pulumi program under the SDK's mock engine and return what it declares.

This is the only way the sandbox and the wiring tests learn about the system: nothing about
rules, targets, patterns, environment or definitions is written twice. The mocks play the part
of the AWS provider: they return the physical names and ARNs the resources would get, in the
account and region moto uses, so that the sandbox can create them under exactly those names.
"""

from __future__ import annotations

import hashlib
import json
import runpy
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.mocks import MockMonitor

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


class ProviderMocks(pulumi.runtime.Mocks):
    """Plays the AWS provider: physical names, ARNs, URLs and IDs as AWS would return them."""

    def __init__(self, stack: str, region: str, account_id: str = ACCOUNT_ID) -> None:
        """Mocks for one stack in one region and account."""
        self.stack = stack
        self.region = region
        self.account_id = account_id

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

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        """Return the ID and state AWS would give this resource."""
        inputs = dict(args.inputs)
        auto_name = f"{args.name}-{_short_hash(self.stack, args.name)}"
        name = inputs.get("name") or auto_name
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
            state.update(targetId=inputs.get("targetId") or _short_hash(self.stack, args.name, length=12))
            rid = f"{inputs.get('eventBusName')}-{inputs.get('rule')}-{state['targetId']}"
        elif typ == "aws:cloudwatch/eventArchive:EventArchive":
            state.update(name=name, arn=f"arn:aws:events:{region}:{acct}:archive/{name}")
        elif typ == "aws:cloudwatch/logGroup:LogGroup":
            state.update(name=name, arn=f"arn:aws:logs:{region}:{acct}:log-group:{name}")
        elif typ == "aws:sqs/queue:Queue":
            url = f"https://sqs.{region}.amazonaws.com/{acct}/{name}"
            state.update(name=name, arn=f"arn:aws:sqs:{region}:{acct}:{name}", url=url)
            rid = url
        elif typ == "aws:sns/topic:Topic":
            arn = f"arn:aws:sns:{region}:{acct}:{name}"
            state.update(name=name, arn=arn)
            rid = arn
        elif typ == "aws:sns/topicSubscription:TopicSubscription":
            rid = f"{inputs.get('topic')}:{_short_hash(self.stack, args.name)}"
            state.update(arn=rid, pendingConfirmation=inputs.get("protocol") == "email")
        elif typ == "aws:iam/role:Role":
            state.update(name=name, arn=f"arn:aws:iam::{acct}:role/{name}", uniqueId=_short_hash(name, length=21))
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
            rid = _short_hash(self.stack, args.name, length=10)
            state.update(
                name=name,
                rootResourceId=_short_hash(rid, "root", length=10),
                executionArn=f"arn:aws:execute-api:{region}:{acct}:{rid}",
                arn=f"arn:aws:apigateway:{region}::/restapis/{rid}",
            )
        elif typ == "aws:apigateway/resource:Resource":
            rid = _short_hash(self.stack, args.name, length=10)
        elif typ == "aws:apigateway/stage:Stage":
            api, stage = inputs.get("restApi"), inputs.get("stageName")
            state.update(
                invokeUrl=f"https://{api}.execute-api.{region}.amazonaws.com/{stage}",
                executionArn=f"arn:aws:execute-api:{region}:{acct}:{api}/{stage}",
                arn=f"arn:aws:apigateway:{region}::/restapis/{api}/stages/{stage}",
            )
            rid = f"ags-{api}-{stage}"
        elif typ == "aws:apigateway/apiKey:ApiKey":
            rid = _short_hash(self.stack, args.name, length=10)
            state.update(
                name=name, value=inputs.get("value") or f"sandbox-{_short_hash(self.stack, args.name, length=20)}"
            )
        elif typ == "aws:kms/key:Key":
            key_id = f"{_short_hash(self.stack, args.name, length=8)}-0000-4000-8000-000000000000"
            state.update(keyId=key_id, arn=f"arn:aws:kms:{region}:{acct}:key/{key_id}")
            rid = key_id
        elif typ == "aws:cloudwatch/metricAlarm:MetricAlarm":
            state.update(name=name, arn=f"arn:aws:cloudwatch:{region}:{acct}:alarm:{name}")
        elif typ == "aws:cloudwatch/dashboard:Dashboard":
            dash = inputs.get("dashboardName", name)
            state.update(dashboardArn=f"arn:aws:cloudwatch::{acct}:dashboard/{dash}")
            rid = dash
        elif typ.startswith("aws:"):
            rid = f"{args.name}-{_short_hash(self.stack, args.name)}"
        return rid, state


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
