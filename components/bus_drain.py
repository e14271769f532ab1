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
provider's name stable: the state of deployed stacks names them.

``delete`` calls AWS as the stack's ``aws`` provider does: the SDK hands the provider the stack's
config (``configure``), and :func:`aws_settings` reads the ``aws:`` keys the provider would use
(region, profile, shared credentials file, static keys, the chain of roles to assume), from
which :func:`session_for` builds the boto3 session. Without any, it is boto3's default chain, as
for the provider. Before trusting an answer it checks whose credentials those are: a bus that is
"not found" in another account says nothing about this one, so a caller whose account is not the
bus's (``sts:GetCallerIdentity`` against the recorded bus ARN) stops the destroy with
:class:`WrongAccountError` instead of reporting the bus drained. Any other failure to list the
rules only stops the waiting, and the bus deletion reports what is wrong.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping
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
INPUT_KEYS: Final = ("bus_name", "bus_arn", "region", "timeout_seconds", "poll_seconds")
#: ``RoleSessionName`` when an ``aws:assumeRoles`` entry names none.
DEFAULT_SESSION_NAME: Final = "eda-demo-bus-drain"


class WrongAccountError(RuntimeError):
    """The credentials the drain would use belong to another account than the bus's."""


@dataclass(frozen=True)
class AssumeRole:
    """One entry of ``aws:assumeRoles`` (or the older ``aws:assumeRole``), as STS AssumeRole takes it."""

    role_arn: str
    session_name: str = DEFAULT_SESSION_NAME
    external_id: str | None = None
    duration_seconds: int | None = None
    policy: str | None = None


@dataclass(frozen=True)
class AwsSettings:
    """The ``aws:`` config keys that decide which account and region a call reaches."""

    region: str | None = None
    profile: str | None = None
    shared_credentials_file: str | None = None
    access_key: str | None = None
    secret_key: str | None = None
    token: str | None = None
    assume_roles: tuple[AssumeRole, ...] = ()


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
    bus_arn: str | None = None,
    session: Any = None,
    timeout_seconds: float = TIMEOUT_SECONDS,
    poll_seconds: float = POLL_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> DrainOutcome | None:
    """Wait for ``bus_name`` to list no rule; ``None`` when the rules could not be listed at all.

    With ``bus_arn`` (recorded since the drain keeps it) the caller's account is checked first,
    and :class:`WrongAccountError` propagates: a destroy with the wrong account's credentials stops
    loudly. ``session`` defaults to boto3's default chain.
    """
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError as error:  # the program's requirements.txt installs boto3
        print(f"bus drain: boto3 is not installed, not waiting for {bus_name}: {error}", file=sys.stderr)
        return None
    try:
        session = session or boto3.Session(region_name=region)
        if bus_arn is None:
            print(
                f"bus drain: no bus ARN recorded for {bus_name} (run `pulumi up` once): account not checked",
                file=sys.stderr,
            )
        else:
            check_caller_account(bus_arn, session.client("sts", region_name=region).get_caller_identity()["Account"])
        client = session.client("events", region_name=region)
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


def _parsed(value: Any) -> Any:
    """A config value as the engine may pass it: a JSON string (``pulumi config set --path``) or a value."""
    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        return json.loads(value)
    return value


def _duration_seconds(raw: Any) -> int | None:
    """``aws:assumeRoles[].duration`` is a Go duration (``1h``, ``15m``, ``900s``); STS takes seconds."""
    if raw in (None, ""):
        return None
    text = str(raw).strip()
    units = {"h": 3600, "m": 60, "s": 1}
    if text[-1:] in units and text[:-1].isdigit():
        return int(text[:-1]) * units[text[-1]]
    raise ValueError(f"aws:assumeRoles duration {raw!r}: the bus drain reads durations like 1h, 15m or 900s")


def _assume_role(entry: Mapping[str, Any]) -> AssumeRole:
    if not entry.get("roleArn"):
        raise ValueError(f"aws:assumeRoles entry without a roleArn: {dict(entry)!r}")
    return AssumeRole(
        role_arn=str(entry["roleArn"]),
        session_name=str(entry.get("sessionName") or DEFAULT_SESSION_NAME),
        external_id=entry.get("externalId") or None,
        duration_seconds=_duration_seconds(entry.get("duration")),
        policy=entry.get("policy") or None,
    )


def aws_settings(get: Callable[[str], Any]) -> AwsSettings:
    """The stack's ``aws:`` config (``get("aws:region")`` -> value or None), as the bus drain uses it (pure).

    Roles are assumed in order, each with the credentials of the one before (``aws:assumeRoles``;
    a single ``aws:assumeRole`` object is the older spelling). One shared credentials file is
    read; several, which the provider searches in turn, are refused rather than half-honoured.
    """
    roles = _parsed(get("aws:assumeRoles")) or []
    single = _parsed(get("aws:assumeRole"))
    if single:
        roles = [*roles, single]
    files = _parsed(get("aws:sharedCredentialsFiles")) or []
    files = [files] if isinstance(files, str) else list(files)
    if len(files) > 1:
        raise ValueError(f"aws:sharedCredentialsFiles lists {len(files)} files; the bus drain reads one: {files}")
    return AwsSettings(
        region=get("aws:region") or None,
        profile=get("aws:profile") or None,
        shared_credentials_file=files[0] if files else None,
        access_key=get("aws:accessKey") or None,
        secret_key=get("aws:secretKey") or None,
        token=get("aws:token") or None,
        assume_roles=tuple(_assume_role(role) for role in roles),
    )


def session_for(settings: AwsSettings, region: str, *, boto3_module: Any = None) -> Any:
    """A boto3 session in ``region`` with the credentials the stack's ``aws`` provider would use.

    A profile that does not exist raises here (botocore's ``ProfileNotFound``): the destroy stops
    rather than drain with someone else's credentials.
    """
    if boto3_module is None:
        import boto3 as boto3_module
    import botocore.session

    core = botocore.session.Session(profile=settings.profile)
    if settings.shared_credentials_file is not None:
        core.set_config_variable("credentials_file", settings.shared_credentials_file)
    if settings.access_key is not None and settings.secret_key is not None:
        core.set_credentials(settings.access_key, settings.secret_key, settings.token)
    session = boto3_module.Session(botocore_session=core, region_name=region)
    for role in settings.assume_roles:
        request: dict[str, Any] = {"RoleArn": role.role_arn, "RoleSessionName": role.session_name}
        optional = {"ExternalId": role.external_id, "DurationSeconds": role.duration_seconds, "Policy": role.policy}
        request.update({key: value for key, value in optional.items() if value is not None})
        credentials = session.client("sts", region_name=region).assume_role(**request)["Credentials"]
        session = boto3_module.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=region,
        )
    return session


def account_of_arn(arn: str) -> str:
    """The account field of an ARN."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn" or not parts[4]:
        raise ValueError(f"not an ARN with an account: {arn!r}")
    return parts[4]


def check_caller_account(bus_arn: str, caller_account: str) -> None:
    """Refuse to drain a bus of another account than the caller's: its "not found" would mean nothing."""
    bus_account = account_of_arn(bus_arn)
    if caller_account != bus_account:
        raise WrongAccountError(
            f"bus drain: the credentials in use are of account {caller_account}, but the bus {bus_arn} is in "
            f"account {bus_account}: ListRules there would answer 'not found' and the bus would wrongly read as "
            "drained. Set the stack's aws:profile / aws:assumeRoles (or the environment's credentials) to the "
            "bus's account and run `pulumi destroy` again."
        )


def _recorded(props: Mapping[str, Any], key: str, default: float) -> float:
    """A recorded bound, or its default when the state has none (a recorded 0 stays 0)."""
    value = props.get(key)
    return default if value is None else float(value)


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

    def configure(self, req: dynamic.ConfigureRequest) -> None:
        """Keep the stack's ``aws:`` config (the SDK calls this once, after unpickling the provider)."""
        self._aws = aws_settings(req.config.get)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Wait (bounded) until the bus lists no rule, as the stack's AWS identity, in the bus's region.

        Raises only when the credentials are of another account than the bus's (see :func:`drain`).
        """
        settings: AwsSettings = getattr(self, "_aws", None) or AwsSettings()
        # The bus's own region, recorded from its ARN; the stack's aws:region only if none was.
        region = _props.get("region") or settings.region
        if not region:
            raise ValueError(f"bus drain {_id}: no region recorded and no aws:region configured")
        drain(
            _props["bus_name"],
            region,
            bus_arn=_props.get("bus_arn"),
            session=session_for(settings, region),
            timeout_seconds=_recorded(_props, "timeout_seconds", TIMEOUT_SECONDS),
            poll_seconds=_recorded(_props, "poll_seconds", POLL_SECONDS),
        )


class BusDrain(dynamic.Resource, module=naming.PROJECT, name="BusDrain"):
    """Ordering point between a bus and what is on it (see the module docstring)."""

    bus_name: pulumi.Output[str]
    """The bus this drain waits on."""
    bus_arn: pulumi.Output[str]
    """The bus's ARN: its account is checked against the caller's before "not found" is trusted."""
    region: pulumi.Output[str]
    """The bus's region (where ``ListRules`` is called)."""

    def __init__(
        self,
        name: str,
        bus_name: pulumi.Input[str],
        bus_arn: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """A drain for the bus ``bus_name`` (ARN ``bus_arn``); make the archive and every rule on it depend on it."""
        super().__init__(
            BusDrainProvider(),
            name,
            {
                "bus_name": bus_name,
                "bus_arn": bus_arn,
                "region": pulumi.Output.from_input(bus_arn).apply(region_of_arn),
                "timeout_seconds": TIMEOUT_SECONDS,
                "poll_seconds": POLL_SECONDS,
            },
            opts,
        )
