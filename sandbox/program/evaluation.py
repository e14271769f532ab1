"""Evaluate the Pulumi program under the SDK's mock engine and return what it declares.

This is the only way the sandbox and the wiring tests learn about the system: nothing about
rules, targets, patterns, environment or definitions is written twice. The mocks play the part
of the AWS provider: they return the physical names and ARNs the resources would get, in the
account and region moto uses, so that the sandbox can create them under exactly those names.
"""

from __future__ import annotations

import contextlib
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

from sandbox.program.mocks import ACCOUNT_ID, PhysicalNameError, ProviderMocks

__all__ = ["ACCOUNT_ID", "DeclaredResource", "PhysicalNameError", "Program", "ProviderMocks", "evaluate"]

PROJECT_DIR = Path(__file__).resolve().parents[2]
DEFAULT_REGION = "us-east-1"
_EVALUATION_LOCK = threading.Lock()


def project_name(project_dir: Path = PROJECT_DIR) -> str:
    """The project's name as ``Pulumi.yaml`` declares it (the namespace of its config keys)."""
    return str(_project_file(project_dir)["name"])


def email_config_keys(project_dir: Path = PROJECT_DIR) -> list[str]:
    """The project's config keys that subscribe an email address (``Pulumi.yaml``: "Email subscribed to ...")."""
    project = _project_file(project_dir)
    return [
        f"{project['name']}:{key}"
        for key, spec in (project.get("config") or {}).items()
        if isinstance(spec, dict) and str(spec.get("description", "")).startswith("Email subscribed to")
    ]


#: libyaml's safe loader where PyYAML was built with it (the same documents, parsed ~10x faster).
_YAML_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _yaml_file(path: Path) -> Any:
    return yaml.load(path.read_text(), Loader=_YAML_LOADER)  # a safe loader, libyaml or Python


def _project_file(project_dir: Path) -> dict[str, Any]:
    return _yaml_file(project_dir / "Pulumi.yaml") or {}


def load_stack_config(stack: str, project_dir: Path = PROJECT_DIR) -> dict[str, str]:
    """What the Pulumi CLI would pass the program: ``Pulumi.yaml`` defaults, then ``Pulumi.<stack>.yaml``."""
    project = _project_file(project_dir)
    name = str(project["name"])
    config: dict[str, str] = {}
    for key, spec in (project.get("config") or {}).items():
        full = key if ":" in key else f"{name}:{key}"
        value = spec.get("value", spec.get("default")) if isinstance(spec, dict) else spec
        if value is not None:
            config[full] = _config_string(value)
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    if stack_file.exists():
        stack_doc = _yaml_file(stack_file) or {}
        for key, value in (stack_doc.get("config") or {}).items():
            config[key if ":" in key else f"{name}:{key}"] = _config_string(value)
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
    #: The project's name (``Pulumi.yaml``): the namespace of its own config keys.
    project: str = field(default_factory=project_name)

    def config_key(self, key: str) -> str:
        """The full name of one of the project's own config keys: ``<project>:<key>``."""
        return f"{self.project}:{key}"

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


@contextlib.contextmanager
def _no_source_positions() -> Generator[None, None, None]:
    """Skip the SDK's per-resource stack walk while the program runs under mocks."""
    original = pulumi_resource._get_stack_trace
    pulumi_resource._get_stack_trace = source_pb2.StackTrace
    try:
        yield
    finally:
        pulumi_resource._get_stack_trace = original


def _declared_resources(monitor: MockMonitor) -> list[DeclaredResource]:
    """Every resource the monitor registered, with the state the mocks returned."""
    return [
        DeclaredResource(
            urn=urn,
            type=urn.split("::")[2].split("$")[-1],
            name=urn.split("::")[-1],
            id=reg.id,
            state=dict(reg.state),
        )
        for urn, reg in monitor.get_registered_resources().items()
    ]


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
    project = project_name(project_dir)
    region = resolved.get("aws:region", DEFAULT_REGION)
    with _EVALUATION_LOCK:
        if str(project_dir) not in sys.path:
            sys.path.insert(0, str(project_dir))
        mocks = ProviderMocks(stack, region)
        monitor = MockMonitor(mocks)
        pulumi_settings.ROOT.set(None)
        pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)
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
        resources = _declared_resources(monitor)
    return Program(
        stack=stack,
        region=region,
        account_id=ACCOUNT_ID,
        config=resolved,
        resources=resources,
        outputs=exports,
        project=project,
    )
