"""BusDrain: on ``pulumi destroy``, wait until the bus lists no rule before the bus is deleted.

Deleting an archive deletes its managed rule (``Events-Archive-<archive>``) on the bus, but the
rule can stay listed for a moment, and ``DeleteEventBus`` then fails with "EventBus can't be
deleted since it has rules"; the AWS provider does not retry it. ``BusDrain`` sits between the
bus and everything on it: it depends on the bus, and the archive and every rule on the bus
depend on it. Pulumi deletes dependents first, so on destroy the rules and the archive go, then
the drain (whose ``delete`` polls ``ListRules`` on the bus until no rule is left, or a bounded
time has passed), then the bus. Creating, updating or refreshing a drain touches nothing in AWS
and never replaces anything.

The drain is a ``pulumi.dynamic`` resource: the SDK pickles its provider (with dill) into the
stack's state, by reference to this module and class, and the Pulumi CLI's dynamic-provider host
imports them from the project directory to run ``delete``. Keep this module's path and the
provider's name stable: the state of deployed stacks names them. ``delete`` uses boto3 with the
default credential chain (the environment the CLI runs in) in the bus's own region; if it cannot
list the rules it stops waiting and lets the bus deletion report what is wrong. It never fails.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import pulumi
from pulumi import dynamic

from components import naming

#: How long destroy waits for the bus to list no rule before it lets the bus deletion try anyway.
TIMEOUT_SECONDS: Final = 120.0
#: Time between two ``ListRules`` calls.
POLL_SECONDS: Final = 2.0
#: ``ListRules`` is eventually consistent: the bus counts as drained after this many empty answers in a row.
SETTLE_POLLS: Final = 2
#: Where the SDK keeps the pickled provider in a dynamic resource's inputs and state.
PROVIDER_KEY: Final = "__provider"
#: The inputs a drain keeps in its state (what ``delete`` receives).
INPUT_KEYS: Final = ("bus_name", "region", "timeout_seconds", "poll_seconds")


@dataclass(frozen=True)
class DrainOutcome:
    """How waiting for an empty bus ended."""

    drained: bool
    #: Rules still listed by the last poll (empty when drained).
    remaining: tuple[str, ...]
    polls: int


def wait_until_no_rules(
    list_rules: Callable[[], list[str]],
    *,
    timeout_seconds: float,
    poll_seconds: float,
    settle_polls: int = SETTLE_POLLS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> DrainOutcome:
    """Call ``list_rules`` until it lists no rule ``settle_polls`` times in a row, or time runs out.

    Never sleeps past ``timeout_seconds`` (no poll starts after the deadline), and always polls at
    least once. ``list_rules`` errors propagate.
    """
    if timeout_seconds < 0 or poll_seconds <= 0 or settle_polls < 1:
        raise ValueError("timeout_seconds >= 0, poll_seconds > 0 and settle_polls >= 1 are required")
    deadline = clock() + timeout_seconds
    empty_in_a_row = 0
    polls = 0
    while True:
        remaining = tuple(list_rules())
        polls += 1
        empty_in_a_row = 0 if remaining else empty_in_a_row + 1
        if empty_in_a_row >= settle_polls:
            return DrainOutcome(drained=True, remaining=(), polls=polls)
        if clock() + poll_seconds > deadline:
            return DrainOutcome(drained=not remaining, remaining=remaining, polls=polls)
        sleep(poll_seconds)


def region_of_arn(arn: str) -> str:
    """The region field of an ARN (``arn:partition:service:region:account:resource``)."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn" or not parts[3]:
        raise ValueError(f"not a regional ARN: {arn!r}")
    return parts[3]


def rule_names(client: Any, bus_name: str) -> list[str]:
    """Every rule the bus lists (all pages); none when the bus is already gone."""
    names: list[str] = []
    try:
        for page in client.get_paginator("list_rules").paginate(EventBusName=bus_name):
            names.extend(rule["Name"] for rule in page.get("Rules", []))
    except client.exceptions.ResourceNotFoundException:
        return []
    return names


def drain(
    bus_name: str,
    region: str,
    *,
    timeout_seconds: float = TIMEOUT_SECONDS,
    poll_seconds: float = POLL_SECONDS,
    client: Any = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> DrainOutcome | None:
    """Wait for ``bus_name`` to list no rule; ``None`` when the rules could not be listed at all."""
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError as error:  # the program's requirements.txt installs boto3
        print(f"bus drain: boto3 is not installed, not waiting for {bus_name}: {error}", file=sys.stderr)
        return None
    try:
        if client is None:
            client = boto3.client("events", region_name=region)
        outcome = wait_until_no_rules(
            lambda: rule_names(client, bus_name),
            timeout_seconds=timeout_seconds,
            poll_seconds=poll_seconds,
            clock=clock,
            sleep=sleep,
        )
    except (BotoCoreError, ClientError) as error:
        print(f"bus drain: could not list the rules of {bus_name} in {region}: {error}", file=sys.stderr)
        return None
    if not outcome.drained:
        print(
            f"bus drain: {bus_name} still lists {list(outcome.remaining)} after {timeout_seconds:.0f} s; "
            "deleting it anyway (re-run `pulumi destroy` if that fails)",
            file=sys.stderr,
        )
    return outcome


def _inputs(props: dict[str, Any]) -> dict[str, Any]:
    return {key: props.get(key) for key in INPUT_KEYS}


class BusDrainProvider(dynamic.ResourceProvider):
    """CRUD of a drain: nothing happens in AWS except the wait in ``delete``."""

    #: The pickled provider is a reference to this class and captures no value, so it is stored
    #: in plain text (no secret: the stack's secrets provider is not needed to read it).
    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        """Record the inputs; nothing to create."""
        return dynamic.CreateResult(f"{props['bus_name']}@{props['region']}", _inputs(props))

    # Parameter names as the SDK's ResourceProvider spells them (keyword calls must keep working).
    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> dynamic.DiffResult:
        """An input change, or a changed provider, is an in-place update of the record, never a replacement.

        The state's ``__provider`` is what ``pulumi destroy`` unpickles to run ``delete``. If this
        module or class were ever renamed, a stale one would fail with ``ModuleNotFoundError``; an
        update writes the program's current provider into the state (the SDK's ``Update`` stores
        the new ``__provider``), so one ``pulumi up`` repairs it. A replacement would run the stale
        ``delete`` instead, so there is none.
        """
        changed = _inputs(_olds) != _inputs(_news) or _olds.get(PROVIDER_KEY) != _news.get(PROVIDER_KEY)
        return dynamic.DiffResult(changes=changed, replaces=[], stables=[], delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> dynamic.UpdateResult:
        """Record the new inputs; nothing to update."""
        return dynamic.UpdateResult(_inputs(_news))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Wait (bounded) until the bus lists no rule; never raise, so destroy goes on to the bus."""
        drain(
            _props["bus_name"],
            _props["region"],
            timeout_seconds=float(_props.get("timeout_seconds") or TIMEOUT_SECONDS),
            poll_seconds=float(_props.get("poll_seconds") or POLL_SECONDS),
        )


class BusDrain(dynamic.Resource, module=naming.PROJECT, name="BusDrain"):
    """Ordering point between a bus and what is on it (see the module docstring)."""

    bus_name: pulumi.Output[str]
    """The bus this drain waits on."""
    region: pulumi.Output[str]
    """The bus's region (where ``ListRules`` is called)."""

    def __init__(
        self,
        name: str,
        bus_name: pulumi.Input[str],
        region: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """A drain for ``bus_name`` in ``region``; make the archive and every rule on the bus depend on it."""
        super().__init__(
            BusDrainProvider(),
            name,
            {
                "bus_name": bus_name,
                "region": region,
                "timeout_seconds": TIMEOUT_SECONDS,
                "poll_seconds": POLL_SECONDS,
            },
            opts,
        )
