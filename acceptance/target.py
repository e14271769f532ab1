"""What ``make verify`` checks, resolved and refused before any check runs.

A target is a deployed stack (``pulumi stack output --json --stack NAME``, or an outputs JSON file,
with the caller's AWS credentials and region) or the running sandbox (its ``.sandbox/outputs.json``
and the AWS endpoint its ``.sandbox/env`` names). Anything that would make the checks meaningless
(no stack, no Pulumi CLI, no credentials, a region or account other than the stack's, a sandbox
that is not running) is a :class:`TargetError`: one line, exit status 2, and nothing created.

The only thing the suite changes is two orders, whose ids come from :data:`RESERVED_IDS`, a range
no user order should use, and differ on every run (:func:`order_ids`).
"""

from __future__ import annotations

import functools
import json
import os
import re
import shlex
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import botocore.exceptions

PROJECT = "eda-demo"
#: Order ids the acceptance suite uses, and nothing else should: the top of the ids the API accepts.
RESERVED_IDS = range(9_000_000_000_000_000, 9_007_199_254_740_991 + 1)
#: Outputs the checks start from (``__main__.py`` exports them).
REQUIRED_OUTPUTS = (
    "api_url",
    "event_bus_name",
    "orders_table_name",
    "payment_state_machine_arn",
    "notification_topic_arn",
    "catch_all_log_group_name",
    "ops_topic_arn",
    "dashboard_name",
)
#: How long the scenario may take to complete: AWS's deliveries take seconds, the sandbox's milliseconds.
AWS_DEADLINE_SECONDS = 60.0
SANDBOX_DEADLINE_SECONDS = 10.0
_SANDBOX_CREDENTIALS = {"aws_access_key_id": "sandbox", "aws_secret_access_key": "sandbox"}


@functools.cache
def _session(region: str, credentials: tuple[tuple[str, str], ...]) -> boto3.session.Session:
    """One session per region and credentials: its loader parses each service model once per process."""
    keys = dict(credentials)
    return boto3.session.Session(
        region_name=region,
        aws_access_key_id=keys.get("aws_access_key_id"),
        aws_secret_access_key=keys.get("aws_secret_access_key"),
    )


@functools.cache
def _client(service: str, region: str, endpoint_url: str | None, credentials: tuple[tuple[str, str], ...]) -> Any:
    config = botocore.config.Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5)
    return _session(region, credentials).client(  # pyrefly: ignore[no-matching-overload]
        service, endpoint_url=endpoint_url, config=config
    )


class TargetError(Exception):
    """The suite cannot check this target; the message is the one line the user sees."""


def order_ids(now_ns: int | None = None) -> tuple[int, int]:
    """Two ids of :data:`RESERVED_IDS`, distinct from every earlier run's (two per millisecond of the clock)."""
    millis = (time.time_ns() if now_ns is None else now_ns) // 1_000_000
    first = RESERVED_IDS.start + 2 * millis
    if first + 1 not in RESERVED_IDS:
        raise TargetError("the clock is past the reserved order-id range (see acceptance/target.py)")
    return first, first + 1


@dataclass
class Target:
    """A resolved target: its outputs, where its AWS API is, and the orders this run may create."""

    mode: str  # "aws" or "sandbox"
    stack: str
    outputs: dict[str, Any]
    region: str
    account_id: str
    endpoint_url: str | None = None
    credentials: dict[str, str] = field(default_factory=dict)
    deadline_seconds: float = AWS_DEADLINE_SECONDS
    ids: tuple[int, int] = field(default_factory=order_ids)
    #: Epoch milliseconds at the start of the run: log lines and executions older than this are not this run's.
    started_ms: int = field(default_factory=lambda: time.time_ns() // 1_000_000)

    @property
    def sandbox(self) -> bool:
        """Whether the target is the sandbox (its checks of AWS-only records say what they read instead)."""
        return self.mode == "sandbox"

    @property
    def api_url(self) -> str:
        """The stage's invoke URL (the local API for the sandbox)."""
        return str(self.outputs["api_url"]).rstrip("/")

    def client(self, service: str) -> Any:
        """A boto3 client of the target's AWS (the caller's credentials, or the sandbox's endpoint)."""
        return _client(service, self.region, self.endpoint_url, tuple(sorted(self.credentials.items())))

    def describe(self) -> str:
        """One line naming the target."""
        if self.sandbox:
            return f"the sandbox (stack {self.stack}, AWS endpoint {self.endpoint_url}, API {self.api_url})"
        return f"stack {self.stack} (account {self.account_id}, region {self.region}, API {self.api_url})"


# --- outputs --------------------------------------------------------------------------------------
def _checked_outputs(outputs: Any, where: str) -> dict[str, Any]:
    if not isinstance(outputs, dict) or not outputs:
        raise TargetError(f"{where} holds no stack outputs: was `pulumi up` run for it?")
    missing = [key for key in REQUIRED_OUTPUTS if key not in outputs]
    if missing:
        raise TargetError(f"{where} lacks the outputs {', '.join(missing)}: is it a stack of this project?")
    return outputs


def stack_of(outputs: dict[str, Any]) -> str:
    """The stack name, from the bus name ``eda-demo-<stack>`` (``components/naming.py``)."""
    return str(outputs["event_bus_name"]).removeprefix(f"{PROJECT}-")


def outputs_of_stack(stack: str, pulumi: str = "pulumi") -> dict[str, Any]:
    """``pulumi stack output --json --stack NAME``, or a :class:`TargetError` saying why not."""
    command = [pulumi, "stack", "output", "--json", "--stack", stack]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    except FileNotFoundError:
        raise TargetError(
            f"the Pulumi CLI is not installed (no `{pulumi}` on PATH), so stack {stack!r} cannot be read: "
            "install it, or pass OUTPUTS=path/to/outputs.json"
        ) from None
    except subprocess.TimeoutExpired:
        raise TargetError(f"`{shlex.join(command)}` did not answer within 120 s") from None
    if done.returncode != 0:
        lines = [line.strip() for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit status {done.returncode}"
        raise TargetError(f"stack {stack!r} cannot be read (`{shlex.join(command)}`): {reason}")
    try:
        return _checked_outputs(json.loads(done.stdout), f"stack {stack!r}")
    except ValueError:
        raise TargetError(f"`{shlex.join(command)}` did not print JSON") from None


def outputs_of_file(path: Path) -> dict[str, Any]:
    """An outputs JSON file (``pulumi stack output --json > outputs.json``)."""
    try:
        return _checked_outputs(json.loads(path.read_text()), str(path))
    except FileNotFoundError:
        raise TargetError(f"no outputs file {path}") from None
    except ValueError:
        raise TargetError(f"{path} is not JSON (write it with `pulumi stack output --json > {path}`)") from None


def _arn_region_account(outputs: dict[str, Any]) -> tuple[str, str]:
    match = re.match(r"arn:aws[\w-]*:states:([^:]+):(\d{12}):", str(outputs["payment_state_machine_arn"]))
    if match is None:
        raise TargetError(
            f"payment_state_machine_arn is not a state machine ARN: {outputs['payment_state_machine_arn']}"
        )
    return match.group(1), match.group(2)


# --- a deployed stack -----------------------------------------------------------------------------
def aws_target(outputs: dict[str, Any], stack: str | None = None) -> Target:
    """The deployed stack of ``outputs``, checked against the caller's region, credentials and account.

    The region and credentials are checked locally first (no request is sent without them);
    then ``sts get-caller-identity`` must answer for the stack's account.
    """
    region, account = _arn_region_account(outputs)
    name = stack or stack_of(outputs)
    # boto3 reads AWS_DEFAULT_REGION and the profile; the AWS CLI also reads AWS_REGION.
    session = boto3.session.Session()
    session = boto3.session.Session(region_name=session.region_name or os.environ.get("AWS_REGION"))
    if session.region_name is None:
        raise TargetError(f"no AWS region is configured; stack {name!r} is in {region}: set AWS_REGION={region}")
    if session.region_name != region:
        raise TargetError(
            f"wrong region: stack {name!r} is in {region}, your AWS region is {session.region_name} "
            f"(set AWS_REGION={region})"
        )
    if session.get_credentials() is None:
        raise TargetError(
            "no AWS credentials: configure them (aws configure, AWS_PROFILE or AWS_ACCESS_KEY_ID) and run again"
        )
    try:
        caller = session.client("sts").get_caller_identity()["Account"]
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        raise TargetError(f"AWS did not accept your credentials (sts get-caller-identity): {error}") from None
    if caller != account:
        raise TargetError(f"wrong account: stack {name!r} is in account {account}, your credentials are of {caller}")
    # A fully qualified stack (``org/project/stack``, as CI names it) is the stack ``stack`` of this project.
    return Target("aws", name.rsplit("/", 1)[-1], outputs, region, account)


# --- the sandbox ----------------------------------------------------------------------------------
def _env_file(path: Path) -> dict[str, str]:
    variables = {}
    for line in path.read_text().splitlines():
        if line.startswith("export ") and "=" in line:
            name, _, value = line.removeprefix("export ").partition("=")
            words = shlex.split(value)
            variables[name] = words[0] if words else ""
    return variables


def sandbox_target(state_dir: Path) -> Target:
    """The running sandbox whose state lives in ``state_dir`` (``.sandbox``), or why it cannot be checked."""
    outputs_path, env_path = state_dir / "outputs.json", state_dir / "env"
    if not outputs_path.exists() or not env_path.exists():
        raise TargetError(
            f"no sandbox has run here ({outputs_path} is missing): start `make sandbox` in another shell, "
            "or check a deployed stack with STACK=name or OUTPUTS=path"
        )
    outputs = outputs_of_file(outputs_path)
    env = _env_file(env_path)
    region, account = _arn_region_account(outputs)
    target = Target(
        "sandbox",
        stack_of(outputs),
        outputs,
        env.get("AWS_REGION", region),
        account,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        credentials=dict(_SANDBOX_CREDENTIALS),
        deadline_seconds=SANDBOX_DEADLINE_SECONDS,
    )
    try:
        target.client("sts").get_caller_identity()
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
        raise TargetError(
            f"the sandbox's AWS endpoint {target.endpoint_url} does not answer: is `make sandbox` still running?"
        ) from None
    return target
