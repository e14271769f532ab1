"""The bus drain: destroy deletes every rule and the archive, waits for an empty bus, then deletes the bus.

The waiting is a pure function of a ``list_rules`` callable, a clock and a sleep (tested with
fakes: no real sleeping); ``ListRules`` is driven through botocore's Stubber; the stack's ``aws:``
config is read by a pure function and the session it gives is run against moto (two accounts, a
role assumed from one into the other); the dependency edges that give Pulumi its deletion order
are read from the mock monitor's registrations.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import dill
import pytest
from botocore.exceptions import ProfileNotFound
from botocore.stub import Stubber
from moto import mock_aws
from program_testkit import EVENT_RULE, Evaluation, RecordingMonitor
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.dynamic.dynamic import serialize_provider

from components import bus_drain
from components.bus_drain import (
    AssumeRole,
    AwsSettings,
    BusDrainProvider,
    DrainOutcome,
    WrongAccountError,
    aws_settings,
    check_caller_account,
    drain,
    region_of_arn,
    rule_names,
    session_for,
    wait_until_no_rules,
)
from sandbox.program.evaluation import Program

DRAIN = "pulumi-python:dynamic/eda-demo:BusDrain"
ARCHIVE = "aws:cloudwatch/eventArchive:EventArchive"
BUS = "aws:cloudwatch/eventBus:EventBus"


class FakeTime:
    """A clock that only moves when slept on, recording every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _listing(answers: list[list[str]]) -> tuple[Callable[[], list[str]], list[int]]:
    """``list_rules`` answering ``answers`` in turn (the last one forever), and its call count."""
    calls = [0]
    feed: Iterator[list[str]] = iter(answers)
    last: list[str] = []

    def list_rules() -> list[str]:
        nonlocal last
        calls[0] += 1
        last = next(feed, last)
        return list(last)

    return list_rules, calls


# --- waiting for an empty bus ------------------------------------------------------------------


def test_waits_until_the_managed_rule_is_gone_then_settles() -> None:
    # GIVEN a bus still listing the archive's managed rule for three polls
    fake = FakeTime()
    list_rules, calls = _listing([["Events-Archive-x"]] * 3 + [[]])
    # WHEN the drain waits (2 s between polls, 120 s at most)
    outcome = wait_until_no_rules(list_rules, timeout_seconds=120, poll_seconds=2, clock=fake.clock, sleep=fake.sleep)
    # THEN it returns drained after two empty answers in a row: 3 + 2 polls, 4 sleeps of 2 s
    assert outcome == DrainOutcome(drained=True, remaining=(), polls=5)
    assert calls[0] == 5
    assert fake.sleeps == [2, 2, 2, 2]


def test_an_empty_answer_followed_by_a_rule_does_not_count_as_drained() -> None:
    # GIVEN an eventually consistent listing: empty once, then the rule again, then empty
    fake = FakeTime()
    list_rules, _ = _listing([[], ["Events-Archive-x"], [], []])
    # WHEN the drain waits
    outcome = wait_until_no_rules(list_rules, timeout_seconds=120, poll_seconds=2, clock=fake.clock, sleep=fake.sleep)
    # THEN only the two consecutive empty answers at the end end the wait
    assert outcome == DrainOutcome(drained=True, remaining=(), polls=4)


def test_gives_up_at_the_deadline_and_reports_what_is_left() -> None:
    # GIVEN a bus that keeps a rule forever (e.g. one created outside the stack)
    fake = FakeTime()
    list_rules, calls = _listing([["someone-elses-rule"]])
    # WHEN the drain waits at most 10 s, polling every 3 s
    outcome = wait_until_no_rules(list_rules, timeout_seconds=10, poll_seconds=3, clock=fake.clock, sleep=fake.sleep)
    # THEN it stops without sleeping past the deadline and names the rule still there
    assert outcome == DrainOutcome(drained=False, remaining=("someone-elses-rule",), polls=4)
    assert calls[0] == 4
    assert sum(fake.sleeps) == 9 <= 10


def test_a_zero_timeout_polls_once() -> None:
    # GIVEN no time to wait  WHEN the drain runs  THEN it polls once and reports the answer
    fake = FakeTime()
    list_rules, calls = _listing([[]])
    outcome = wait_until_no_rules(list_rules, timeout_seconds=0, poll_seconds=2, clock=fake.clock, sleep=fake.sleep)
    assert outcome == DrainOutcome(drained=True, remaining=(), polls=1)
    assert (calls[0], fake.sleeps) == (1, [])


@pytest.mark.parametrize(("timeout_seconds", "poll_seconds"), [(-1, 2), (1, 0)])
def test_rejects_a_wait_that_could_not_end(timeout_seconds: float, poll_seconds: float) -> None:
    # GIVEN a negative timeout or a zero poll interval  WHEN waiting  THEN it is refused
    with pytest.raises(ValueError, match="poll_seconds > 0"):
        wait_until_no_rules(lambda: [], timeout_seconds=timeout_seconds, poll_seconds=poll_seconds)


def test_region_comes_from_the_bus_arn() -> None:
    # GIVEN a bus ARN  WHEN its region is read  THEN it is the ARN's region field; junk is refused
    assert region_of_arn("arn:aws:events:eu-west-1:123456789012:event-bus/eda-demo-dev") == "eu-west-1"
    with pytest.raises(ValueError, match="not a regional ARN"):
        region_of_arn("eda-demo-dev")


# --- ListRules, through botocore's stubber ----------------------------------------------------


def _stubbed_events() -> tuple[Any, Stubber]:
    client = boto3.client("events", region_name="eu-west-1", aws_access_key_id="test", aws_secret_access_key="test")
    return client, Stubber(client)


def test_rule_names_reads_every_page_of_the_bus() -> None:
    # GIVEN a bus listing two rules over two pages
    client, stub = _stubbed_events()
    stub.add_response("list_rules", {"Rules": [{"Name": "a"}], "NextToken": "t"}, {"EventBusName": "bus"})
    stub.add_response("list_rules", {"Rules": [{"Name": "b"}]}, {"EventBusName": "bus", "NextToken": "t"})
    # WHEN the drain lists them
    with stub:
        names = rule_names(client, "bus")
    # THEN both pages are read, on that bus
    assert names == ["a", "b"]
    stub.assert_no_pending_responses()


def test_a_bus_already_gone_has_no_rule_to_wait_for() -> None:
    # GIVEN a bus that no longer exists
    client, stub = _stubbed_events()
    stub.add_client_error("list_rules", "ResourceNotFoundException", "Event bus bus does not exist.")
    # WHEN the drain lists its rules  THEN there are none
    with stub:
        assert rule_names(client, "bus") == []


class FakeSession:
    """A boto3 session handing out the given clients (``sts``, ``events``) for the bus's region."""

    def __init__(self, **clients: Any) -> None:
        self.clients = clients
        self.regions: list[str] = []

    def client(self, service: str, region_name: str) -> Any:
        self.regions.append(region_name)
        return self.clients[service]


def _stubbed_sts(account: str) -> tuple[Any, Stubber]:
    sts = boto3.client("sts", region_name="eu-west-1", aws_access_key_id="test", aws_secret_access_key="test")
    stub = Stubber(sts)
    stub.add_response(
        "get_caller_identity", {"Account": account, "Arn": f"arn:aws:iam::{account}:user/u", "UserId": "U"}
    )
    return sts, stub


BUS_ARN = "arn:aws:events:eu-west-1:123456789012:event-bus/bus"


def test_drain_waits_on_the_given_bus_and_returns_when_it_is_empty() -> None:
    # GIVEN a bus listing the managed rule once, then nothing, and credentials of the bus's account
    client, stub = _stubbed_events()
    stub.add_response("list_rules", {"Rules": [{"Name": "Events-Archive-bus"}]}, {"EventBusName": "bus"})
    stub.add_response("list_rules", {"Rules": []}, {"EventBusName": "bus"})
    stub.add_response("list_rules", {"Rules": []}, {"EventBusName": "bus"})
    sts, sts_stub = _stubbed_sts("123456789012")
    session = FakeSession(events=client, sts=sts)
    fake = FakeTime()
    # WHEN the drain runs
    with stub, sts_stub:
        outcome = drain("bus", "eu-west-1", bus_arn=BUS_ARN, session=session, clock=fake.clock, sleep=fake.sleep)
    # THEN it is drained after three calls, all in the bus's region, the account checked first
    assert outcome == DrainOutcome(drained=True, remaining=(), polls=3)
    stub.assert_no_pending_responses()
    sts_stub.assert_no_pending_responses()
    assert set(session.regions) == {"eu-west-1"}


def test_drain_never_fails_when_it_cannot_list_the_rules(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN credentials that may not list rules
    client, stub = _stubbed_events()
    stub.add_client_error("list_rules", "AccessDeniedException", "not authorized to perform: events:ListRules")
    sts, sts_stub = _stubbed_sts("123456789012")
    # WHEN the drain runs
    with stub, sts_stub:
        outcome = drain(
            "bus", "eu-west-1", bus_arn=BUS_ARN, session=FakeSession(events=client, sts=sts), sleep=FakeTime().sleep
        )
    # THEN it stops waiting without raising (the bus deletion will report what is wrong) and says why
    assert outcome is None
    assert "could not list the rules of bus" in capsys.readouterr().err


# --- the dynamic provider ---------------------------------------------------------------------


def test_a_bus_not_found_in_another_account_stops_the_destroy_loudly() -> None:
    # GIVEN credentials of account 111122223333, where the bus of 123456789012 is "not found"
    client, stub = _stubbed_events()
    stub.add_client_error("list_rules", "ResourceNotFoundException", "Event bus bus does not exist.")
    sts, sts_stub = _stubbed_sts("111122223333")
    # WHEN the drain runs
    with stub, sts_stub, pytest.raises(WrongAccountError) as raised:
        drain("bus", "eu-west-1", bus_arn=BUS_ARN, session=FakeSession(events=client, sts=sts), sleep=FakeTime().sleep)
    # THEN it fails, naming both accounts and what to set, instead of reporting the bus drained
    assert "account 111122223333" in str(raised.value)
    assert "in account 123456789012" in str(raised.value)
    assert "aws:profile / aws:assumeRoles" in str(raised.value)


def test_the_caller_account_check_compares_the_arns_account() -> None:
    # GIVEN the bus's ARN  WHEN callers of its account and of another are checked
    # THEN its own account passes, another is refused, and an ARN without an account is junk
    check_caller_account(BUS_ARN, "123456789012")
    with pytest.raises(WrongAccountError, match="account 999999999999, but the bus"):
        check_caller_account(BUS_ARN, "999999999999")
    with pytest.raises(ValueError, match="not an ARN with an account"):
        check_caller_account("arn:aws:events:eu-west-1::event-bus/bus", "123456789012")


# --- the stack's aws: config --------------------------------------------------------------------


def test_the_aws_config_is_read_as_the_provider_reads_it() -> None:
    # GIVEN a stack's aws: config as the engine passes it (JSON strings for structured keys)
    config = {
        "aws:region": "eu-west-1",
        "aws:profile": "deployer",
        "aws:sharedCredentialsFiles": '["/home/me/.aws/credentials-work"]',
        "aws:assumeRoles": '[{"roleArn": "arn:aws:iam::111122223333:role/a", "externalId": "x", "duration": "15m"},'
        ' {"roleArn": "arn:aws:iam::444455556666:role/b", "sessionName": "me"}]',
        "eda-demo:fraudThreshold": "500",
    }
    # WHEN the drain reads it
    settings = aws_settings(config.get)
    # THEN it has the region, profile, file and the chain of roles in order, durations in seconds
    assert settings == AwsSettings(
        region="eu-west-1",
        profile="deployer",
        shared_credentials_file="/home/me/.aws/credentials-work",
        assume_roles=(
            AssumeRole("arn:aws:iam::111122223333:role/a", external_id="x", duration_seconds=900),
            AssumeRole("arn:aws:iam::444455556666:role/b", session_name="me"),
        ),
    )
    # AND the older single aws:assumeRole object, and already-parsed values, read the same way
    single = aws_settings({"aws:assumeRole": {"roleArn": "arn:aws:iam::111122223333:role/a"}}.get)
    assert single.assume_roles == (AssumeRole("arn:aws:iam::111122223333:role/a"),)
    # AND no aws: config is boto3's default chain
    assert aws_settings({}.get) == AwsSettings()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"aws:sharedCredentialsFiles": '["a", "b"]'}, "lists 2 files; the bus drain reads one"),
        ({"aws:assumeRoles": '[{"sessionName": "x"}]'}, "entry without a roleArn"),
        ({"aws:assumeRoles": '[{"roleArn": "r", "duration": "1d"}]'}, "durations like 1h, 15m or 900s"),
    ],
)
def test_aws_config_the_drain_cannot_honour_is_refused(config: dict[str, str], message: str) -> None:
    # GIVEN config the drain would only half honour  WHEN it is read  THEN it is refused, saying why
    with pytest.raises(ValueError, match=message):
        aws_settings(config.get)


def test_a_profile_from_a_shared_credentials_file_is_the_sessions_identity(tmp_path: Any) -> None:
    # GIVEN a credentials file with a "deployer" profile
    credentials = tmp_path / "credentials"
    credentials.write_text("[deployer]\naws_access_key_id = AKIADEPLOYER\naws_secret_access_key = s\n")
    # WHEN the drain's session is built from that profile and file
    session = session_for(AwsSettings(profile="deployer", shared_credentials_file=str(credentials)), "eu-west-1")
    # THEN its credentials are the profile's, in the bus's region; a missing profile stops loudly
    assert (session.get_credentials().access_key, session.region_name) == ("AKIADEPLOYER", "eu-west-1")
    with pytest.raises(ProfileNotFound):
        session_for(AwsSettings(profile="nobody", shared_credentials_file=str(credentials)), "eu-west-1")


DEPLOY_ACCOUNT, OTHER_ACCOUNT = "111122223333", "123456789012"


@pytest.fixture
def two_accounts(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Moto with ambient credentials of account 123456789012 and a bus of 111122223333 holding a rule."""
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(key, raising=False)
    with mock_aws():
        role = f"arn:aws:iam::{DEPLOY_ACCOUNT}:role/deployer"
        deployer = session_for(AwsSettings(assume_roles=(AssumeRole(role),)), "eu-west-1")
        assert deployer.client("sts").get_caller_identity()["Account"] == DEPLOY_ACCOUNT
        events = deployer.client("events")
        bus_arn = events.create_event_bus(Name="eda-demo-dev")["EventBusArn"]
        events.put_rule(Name="left-behind", EventBusName="eda-demo-dev", EventPattern='{"source": ["x"]}')
        yield bus_arn


def _configured(config: dict[str, Any]) -> BusDrainProvider:
    provider = BusDrainProvider()
    provider.configure(ConfigureRequest(Config(raw_config=config, project_name="eda-demo")))
    return provider


def test_with_the_stacks_assumed_role_the_drain_sees_the_bus_in_its_account(
    two_accounts: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a drain configured with the stack's aws:assumeRoles into the bus's account
    provider = _configured(
        {"aws:region": "eu-west-1", "aws:assumeRoles": [{"roleArn": f"arn:aws:iam::{DEPLOY_ACCOUNT}:role/deployer"}]}
    )
    props = {
        "bus_name": "eda-demo-dev",
        "bus_arn": two_accounts,
        "region": "eu-west-1",
        "timeout_seconds": 0.0,
        "poll_seconds": 1.0,
    }
    # WHEN it deletes (no time to wait)
    provider.delete("id", props)
    # THEN it listed the bus in its account: the rule still on it is named, not "not found"
    assert "eda-demo-dev still lists ['left-behind']" in capsys.readouterr().err


def test_without_the_stacks_aws_config_the_drain_refuses_the_other_accounts_not_found(two_accounts: str) -> None:
    # GIVEN a drain whose stack config names no role: boto3's ambient credentials, of another account
    provider = _configured({"aws:region": "eu-west-1"})
    props = {
        "bus_name": "eda-demo-dev",
        "bus_arn": two_accounts,
        "region": "eu-west-1",
        "timeout_seconds": 0.0,
        "poll_seconds": 1.0,
    }
    # WHEN it deletes  THEN it fails loudly, naming both accounts, instead of reading "not found" as drained
    with pytest.raises(
        WrongAccountError, match=f"account {OTHER_ACCOUNT}, but the bus .* is in account {DEPLOY_ACCOUNT}"
    ):
        provider.delete("id", props)


PROPS = {
    "bus_name": "eda-demo-dev",
    "bus_arn": "arn:aws:events:us-east-1:123456789012:event-bus/eda-demo-dev",
    "region": "us-east-1",
    "timeout_seconds": 120.0,
    "poll_seconds": 2.0,
}


def test_create_and_update_touch_nothing_and_record_the_inputs() -> None:
    # GIVEN the provider  WHEN a drain is created and updated
    provider = BusDrainProvider()
    created = provider.create({**PROPS, "__provider": "opaque"})
    updated = provider.update(created.id, PROPS, {**PROPS, "region": "eu-west-1"})
    # THEN only the inputs are recorded (no AWS call happens: no client exists here)
    assert (created.id, created.outs) == ("eda-demo-dev@us-east-1", PROPS)
    assert updated.outs == {**PROPS, "region": "eu-west-1"}


@pytest.mark.parametrize(
    ("change", "changes"),
    [
        ({}, False),
        ({"bus_name": "eda-demo-other"}, True),
        ({"__provider": "re-pickled"}, True),
        ({"bus_name": "eda-demo-other", "__provider": "re-pickled"}, True),
    ],
)
def test_diff_never_replaces_anything(change: dict[str, str], changes: bool) -> None:
    # GIVEN a recorded drain and new inputs, the same or different (its provider included)
    # WHEN the provider diffs them
    diff = BusDrainProvider().diff("id", {**PROPS, "__provider": "old"}, {**PROPS, "__provider": "old", **change})
    # THEN a change is an in-place update at most, never a replacement
    assert diff.changes is changes
    assert (diff.replaces, diff.delete_before_replace) == ([], False)


def test_a_changed_provider_is_an_update_that_repairs_the_state(dev_evaluation: Evaluation) -> None:
    # GIVEN a deployed drain whose state holds a provider pickled from a module path that no
    # longer exists (the module renamed), and the program's provider as pickled today
    (declared,) = dev_evaluation.program.of_type(DRAIN)
    current = declared["__provider"]
    stale = base64.b64encode(base64.b64decode(current).replace(b"components.bus_drain", b"components.old_drain"))
    olds = {**_props_of(declared), "__provider": stale.decode()}
    news = {**_props_of(declared), "__provider": current}
    # WHEN `pulumi up` diffs them (every input unchanged)
    diff = BusDrainProvider().diff(declared.id, olds, news)
    # THEN it is a change, so the update writes the current provider into the state before any
    # destroy needs to load it, and never a replacement (a replacement would run the stale delete)
    assert diff.changes is True
    assert (diff.replaces, diff.delete_before_replace) == ([], False)
    with pytest.raises(ModuleNotFoundError):
        dill.loads(base64.b64decode(stale))


def _props_of(declared: Any) -> dict[str, Any]:
    return {key: declared[key] for key in bus_drain.INPUT_KEYS}


def test_delete_waits_with_the_recorded_bus_region_and_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a recorded drain, and the drain function observed
    seen: list[tuple[Any, ...]] = []
    monkeypatch.setattr(bus_drain, "drain", lambda bus, region, **kw: seen.append((bus, region, kw)))
    # WHEN the provider deletes it
    BusDrainProvider().delete("id", {**PROPS, "timeout_seconds": 30.0})
    # THEN it waits on that bus, in that region, checking that ARN's account, within the recorded bounds
    ((bus, region, kw),) = seen
    session = kw.pop("session")
    assert (bus, region, kw) == (
        "eda-demo-dev",
        "us-east-1",
        {"bus_arn": PROPS["bus_arn"], "timeout_seconds": 30.0, "poll_seconds": 2.0},
    )
    assert session.region_name == "us-east-1"


def test_delete_falls_back_to_the_stacks_region_only_when_none_was_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a drain configured with aws:region eu-west-1, and the drain function observed
    seen: list[str] = []
    monkeypatch.setattr(bus_drain, "drain", lambda bus, region, **kw: seen.append(region))
    provider = _configured({"aws:region": "eu-west-1"})
    # WHEN it deletes a record with its region, then one without
    provider.delete("id", PROPS)
    provider.delete("id", {**PROPS, "region": None})
    # THEN the recorded region wins, and the stack's is used only for the second
    assert seen == ["us-east-1", "eu-west-1"]
    with pytest.raises(ValueError, match="no region recorded and no aws:region"):
        BusDrainProvider().delete("id", {**PROPS, "region": None})


def test_the_provider_is_pickled_by_reference_to_this_module() -> None:
    # GIVEN the provider as the SDK serialises it into the stack's state (dill)
    pickled = base64.b64decode(serialize_provider(BusDrainProvider()))
    # WHEN it is read back as the CLI's dynamic-provider host does
    provider = dill.loads(pickled)
    # THEN it is a BusDrainProvider found by module and class name (the host imports them from
    # the project directory), carrying no captured state
    assert isinstance(provider, BusDrainProvider)
    assert b"components.bus_drain" in pickled and b"BusDrainProvider" in pickled
    assert len(pickled) < 100
    assert vars(provider) == {}


# --- deletion order, from the mock monitor's registrations ------------------------------------


@pytest.fixture(scope="module")
def recorded(dev_evaluation: Evaluation) -> tuple[Program, RecordingMonitor]:
    """The dev stack, with every resource's dependencies as registered."""
    return dev_evaluation.program, dev_evaluation.monitor


def test_the_drain_is_declared_under_mocks_with_its_pickled_provider(
    recorded: tuple[Program, RecordingMonitor],
) -> None:
    # GIVEN the program evaluated under mocks (the SDK pickles the provider there too)
    program, _ = recorded
    # WHEN the drain is read
    (declared,) = program.of_type(DRAIN)
    serialized = declared["__provider"]
    # THEN it waits on the stack's bus in the stack's region, with a provider that loads, stored
    # in plain text (it captures no value, so it need not be a secret)
    (bus,) = program.of_type(BUS)
    assert (declared["bus_name"], declared["bus_arn"], declared["region"]) == (
        "eda-demo-dev",
        bus["arn"],
        program.region,
    )
    assert isinstance(serialized, str)
    assert isinstance(dill.loads(base64.b64decode(serialized)), BusDrainProvider)


def test_the_archive_and_every_rule_on_the_bus_depend_on_the_drain_and_nothing_else_does(
    recorded: tuple[Program, RecordingMonitor],
) -> None:
    # GIVEN the registered dependencies of the dev stack
    program, monitor = recorded
    (drain_urn,) = [r.urn for r in program.of_type(DRAIN)]
    (bus,) = program.of_type(BUS)
    on_bus = {r.name for r in program.find(EVENT_RULE, eventBusName=bus["name"])}
    (archive,) = program.of_type(ARCHIVE)
    # WHEN the resources depending on the drain are listed
    dependents = {urn.split("::")[-1] for urn, deps in monitor.dependencies.items() if drain_urn in deps}
    # THEN they are exactly the archive and the four rules on the bus (deleted before it), and
    # not the rule on the default bus
    assert len(on_bus) == 4
    assert dependents == on_bus | {archive.name}
    assert "ops-alarm-recovered-rule" not in dependents


def test_the_drain_depends_on_the_bus_alone(recorded: tuple[Program, RecordingMonitor]) -> None:
    # GIVEN the drain's registered dependencies
    program, monitor = recorded
    (drain_resource,) = program.of_type(DRAIN)
    (bus,) = program.of_type(BUS)
    # WHEN they are read
    # THEN the drain is deleted before the bus, and depends on nothing deleted after it
    assert monitor.dependencies[drain_resource.urn] == {bus.urn}
