"""The bus drain: destroy deletes every rule and the archive, waits for an empty bus, then deletes the bus.

The waiting is a pure function of a ``list_rules`` callable, a clock and a sleep (tested with
fakes: no real sleeping); ``ListRules`` is driven through botocore's Stubber; the dependency
edges that give Pulumi its deletion order are read from the mock monitor's registrations.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import dill
import pytest
from botocore.stub import Stubber
from program_testkit import EVENT_RULE, Evaluation, RecordingMonitor
from pulumi.dynamic.dynamic import serialize_provider

from components import bus_drain
from components.bus_drain import BusDrainProvider, DrainOutcome, drain, region_of_arn, rule_names, wait_until_no_rules
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


def test_drain_waits_on_the_given_bus_and_returns_when_it_is_empty() -> None:
    # GIVEN a bus listing the managed rule once, then nothing
    client, stub = _stubbed_events()
    stub.add_response("list_rules", {"Rules": [{"Name": "Events-Archive-bus"}]}, {"EventBusName": "bus"})
    stub.add_response("list_rules", {"Rules": []}, {"EventBusName": "bus"})
    stub.add_response("list_rules", {"Rules": []}, {"EventBusName": "bus"})
    fake = FakeTime()
    # WHEN the drain runs
    with stub:
        outcome = drain("bus", "eu-west-1", client=client, clock=fake.clock, sleep=fake.sleep)
    # THEN it is drained after three calls
    assert outcome == DrainOutcome(drained=True, remaining=(), polls=3)
    stub.assert_no_pending_responses()


def test_drain_never_fails_when_it_cannot_list_the_rules(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN credentials that may not list rules
    client, stub = _stubbed_events()
    stub.add_client_error("list_rules", "AccessDeniedException", "not authorized to perform: events:ListRules")
    # WHEN the drain runs
    with stub:
        outcome = drain("bus", "eu-west-1", client=client, clock=FakeTime().clock, sleep=FakeTime().sleep)
    # THEN it stops waiting without raising (the bus deletion will report what is wrong) and says why
    assert outcome is None
    assert "could not list the rules of bus" in capsys.readouterr().err


# --- the dynamic provider ---------------------------------------------------------------------


PROPS = {"bus_name": "eda-demo-dev", "region": "us-east-1", "timeout_seconds": 120.0, "poll_seconds": 2.0}


def test_create_and_update_touch_nothing_and_record_the_inputs() -> None:
    # GIVEN the provider  WHEN a drain is created and updated
    provider = BusDrainProvider()
    created = provider.create({**PROPS, "__provider": "opaque"})
    updated = provider.update(created.id, PROPS, {**PROPS, "region": "eu-west-1"})
    # THEN only the inputs are recorded (no AWS call happens: no client exists here)
    assert (created.id, created.outs) == ("eda-demo-dev@us-east-1", PROPS)
    assert updated.outs == {**PROPS, "region": "eu-west-1"}


@pytest.mark.parametrize(("change", "changes"), [({}, False), ({"bus_name": "eda-demo-other"}, True)])
def test_diff_never_replaces_anything(change: dict[str, str], changes: bool) -> None:
    # GIVEN a recorded drain and new inputs, the same or different
    # WHEN the provider diffs them
    diff = BusDrainProvider().diff("id", {**PROPS, "__provider": "old"}, {**PROPS, **change, "__provider": "new"})
    # THEN a change is an in-place update at most, never a replacement (a re-pickled provider is no change)
    assert diff.changes is changes
    assert (diff.replaces, diff.delete_before_replace) == ([], False)


def test_delete_waits_with_the_recorded_bus_region_and_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a recorded drain, and the drain function observed
    seen: list[tuple[Any, ...]] = []
    monkeypatch.setattr(bus_drain, "drain", lambda bus, region, **kw: seen.append((bus, region, kw)))
    # WHEN the provider deletes it
    BusDrainProvider().delete("id", {**PROPS, "timeout_seconds": 30.0})
    # THEN it waits on that bus, in that region, within the recorded bounds
    assert seen == [("eda-demo-dev", "us-east-1", {"timeout_seconds": 30.0, "poll_seconds": 2.0})]


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
    assert (declared["bus_name"], declared["region"]) == ("eda-demo-dev", program.region)
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
