"""How many messages reach the ops topic for each alarm state change, for every alarm the program declares.

Two paths can notify: the alarm's own actions (CloudWatch runs the action list of the state the
alarm enters, and only when its state changes) and rules on the account's default bus, where
CloudWatch puts a "CloudWatch Alarm State Change" event for every change of every alarm of the
account. Both are modelled here from AWS's documentation, independently of the components: the
event is written out in the shape of AWS's sample, and the rules' patterns (read from the
evaluated program) are matched with EventBridge semantics by the project's matcher
(``sandbox.delivery.event_patterns``, the one the sandbox routes with).

Required: a fresh deploy (``INSUFFICIENT_DATA -> OK``) sends nothing; entering ALARM sends one
message; ``ALARM -> OK`` sends one; another stack's alarms send nothing to this stack's topic.

Missing data is modelled too, per ``treatMissingData`` value as CloudWatch documents it
("Configuring how CloudWatch alarms treat missing data"): ``notBreaching`` counts a missing point
as within the threshold, ``breaching`` as breaching it, ``ignore`` keeps the current state, and
``missing`` goes INSUFFICIENT_DATA when every point of the evaluation range is missing. A
dead-letter queue's depth is a level, not a count: SQS stops publishing a queue's metrics once it
has been idle for about six hours (SQS Developer Guide, "Available CloudWatch metrics": a queue is
active, and reported, for up to six hours after it was last accessed), messages or not, so an idle
queue still holding messages must not read as recovered.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from program_testkit import EVENT_RULE, EVENT_TARGET, RECOVERY_RULE, one

from sandbox.delivery.event_patterns import compile_pattern
from sandbox.program.evaluation import DeclaredResource, Program

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"

OK, IN_ALARM, NO_DATA = "OK", "ALARM", "INSUFFICIENT_DATA"
#: A new alarm starts INSUFFICIENT_DATA and its first evaluation sets its state (PutMetricAlarm):
#: OK with ``treatMissingData: notBreaching`` and no data, or with a first point within the threshold.
FRESH_DEPLOY = (NO_DATA, OK)
#: Messages to the stack's own topic per (previous, new) state of one of its alarms.
EXPECTED_MESSAGES = {
    FRESH_DEPLOY: 0,
    (OK, IN_ALARM): 1,
    (NO_DATA, IN_ALARM): 1,
    (IN_ALARM, OK): 1,
    (OK, NO_DATA): 0,
    (IN_ALARM, NO_DATA): 0,
}
#: Which action list CloudWatch runs when an alarm enters a state (MetricAlarm API reference:
#: "The actions to execute when this alarm transitions to the <STATE> state from any other state").
ACTIONS_ON_ENTERING = {IN_ALARM: "alarmActions", OK: "okActions", NO_DATA: "insufficientDataActions"}
#: Named filters EventBridge accepts in a pattern; moto treats any other name as match-all.
KNOWN_OPERATORS = frozenset(
    {"exists", "prefix", "suffix", "anything-but", "numeric", "equals-ignore-case", "cidr", "wildcard"}
)
ENVELOPE_FIELDS = frozenset(
    {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
)


# --- the model ---------------------------------------------------------------------------------

#: The state one evaluation gives an alarm whose every point in the evaluation range is missing,
#: per ``treatMissingData`` ("Configuring how CloudWatch alarms treat missing data"; ``None``:
#: "the current alarm state is maintained"). Omitted, the treatment is ``missing``.
MISSING_DATA_STATE: dict[str, str | None] = {
    "notBreaching": OK,
    "breaching": IN_ALARM,
    "ignore": None,
    "missing": NO_DATA,
}
#: Metrics that are levels (a depth, reported while the queue is active) rather than counts of events.
LEVEL_METRICS = {("AWS/SQS", "ApproximateNumberOfMessagesVisible")}


def evaluated_state(alarm: DeclaredResource, current: str, point: float | None) -> str:
    """The state one evaluation gives a 1-of-1 ``GreaterThanThreshold`` alarm, for one point or none."""
    assert (alarm["evaluationPeriods"], alarm["comparisonOperator"]) == (1, "GreaterThanThreshold")
    if point is not None:
        return IN_ALARM if point > alarm["threshold"] else OK
    return MISSING_DATA_STATE[alarm.get("treatMissingData") or "missing"] or current


def messages_over(topic: str, programs: list[Program], alarm: DeclaredResource, points: list[float | None]) -> int:
    """Messages ``topic`` receives while a new alarm evaluates ``points``, one per period."""
    state, sent = NO_DATA, 0
    for point in points:
        new = evaluated_state(alarm, state, point)
        sent += messages_to(topic, programs, alarm, state, new)
        state = new
    return sent


def _is_level(alarm: DeclaredResource) -> bool:
    return (alarm["namespace"], alarm["metricName"]) in LEVEL_METRICS


def alarm_action_messages(alarm: DeclaredResource, previous: str, new: str) -> list[str]:
    """Topics the alarm's own actions publish to on ``previous -> new`` (nothing without a change)."""
    if previous == new or alarm.get("actionsEnabled") is False:
        return []
    return list(alarm.get(ACTIONS_ON_ENTERING[new]) or [])


def state_change_event(alarm: DeclaredResource, previous: str, new: str) -> dict[str, Any]:
    """The event CloudWatch puts on the default bus, in the shape of AWS's single-metric sample."""
    _, _, _, region, account, _ = alarm["arn"].split(":", 5)
    return {
        "version": "0",
        "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": account,
        "time": "2019-10-02T17:04:40Z",
        "region": region,
        "resources": [alarm["arn"]],
        "detail": {
            "alarmName": alarm["name"],
            "configuration": {
                "description": alarm.get("alarmDescription", ""),
                "metrics": [
                    {
                        "id": "30b6c6b2-a864-43a2-4877-c09a1afc3b87",
                        "metricStat": {
                            "metric": {
                                "dimensions": alarm["dimensions"],
                                "name": alarm["metricName"],
                                "namespace": alarm["namespace"],
                            },
                            "period": alarm["period"],
                            "stat": alarm["statistic"],
                        },
                        "returnData": True,
                    }
                ],
            },
            "previousState": {
                "reason": "Threshold Crossed",
                "timestamp": "2019-10-01T13:56:40.987+0000",
                "value": previous,
            },
            "state": {"reason": "Threshold Crossed", "timestamp": "2019-10-02T17:04:40.985+0000", "value": new},
        },
    }


def default_bus_deliveries(programs: list[Program], event: dict[str, Any]) -> list[str]:
    """Target ARNs of every default-bus rule, of every stack of the account, matching ``event``."""
    delivered: list[str] = []
    for program in programs:
        for rule in program.find(EVENT_RULE, eventBusName="default"):
            if compile_pattern(rule["eventPattern"]).matches(event):
                delivered += [t["arn"] for t in program.find(EVENT_TARGET, rule=rule["name"], eventBusName="default")]
    return delivered


def messages_to(topic: str, programs: list[Program], alarm: DeclaredResource, previous: str, new: str) -> int:
    """Messages ``topic`` receives when ``alarm`` goes ``previous -> new``, by either path."""
    if previous == new:
        return 0
    direct = alarm_action_messages(alarm, previous, new)
    routed = default_bus_deliveries(programs, state_change_event(alarm, previous, new))
    return direct.count(topic) + routed.count(topic)


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dev(configured_program: Program) -> Program:
    """The dev stack with an alarm email (the configuration that sent one email per alarm)."""
    program = configured_program
    assert program.config["eda-demo:alarmEmail"] == "ops@example.com"
    return program


@pytest.fixture(scope="module")
def alice(alice_program: Program) -> Program:
    """Another developer's stack in the same account and region (its email setting changes nothing here)."""
    return alice_program


def _alarms(program: Program) -> list[DeclaredResource]:
    alarms = program.of_type(ALARM)
    assert len(alarms) == 24
    return alarms


# --- the requirement ---------------------------------------------------------------------------


@pytest.mark.parametrize(("previous", "new"), list(EXPECTED_MESSAGES), ids=lambda s: str(s))
def test_each_alarm_of_the_stack_sends_its_topic_the_expected_number_of_messages(
    dev: Program, alice: Program, previous: str, new: str
) -> None:
    # GIVEN every alarm the dev stack declares, its ops topic, and both stacks' default-bus rules
    topic = dev.outputs["ops_topic_arn"]
    # WHEN each alarm goes previous -> new
    counts = {alarm.name: messages_to(topic, [dev, alice], alarm, previous, new) for alarm in _alarms(dev)}
    # THEN the topic gets the expected number of messages for every alarm: none on a fresh
    # deploy, one on entering ALARM, one on recovering
    assert counts == {name: EXPECTED_MESSAGES[(previous, new)] for name in counts}


def test_a_fresh_deploy_with_an_alarm_email_sends_no_email(dev: Program, alice: Program) -> None:
    # GIVEN the dev stack with an email subscribed to its ops topic
    topic = dev.outputs["ops_topic_arn"]
    (subscription,) = dev.find("aws:sns/topicSubscription:TopicSubscription", topic=topic)
    assert subscription["protocol"] == "email"
    # WHEN all its alarms are created (INSUFFICIENT_DATA, then OK on their first evaluation)
    sent = sum(messages_to(topic, [dev, alice], alarm, *FRESH_DEPLOY) for alarm in _alarms(dev))
    # THEN the topic, hence the inbox, receives nothing
    assert sent == 0


@pytest.mark.parametrize(("previous", "new"), list(EXPECTED_MESSAGES), ids=lambda s: str(s))
def test_another_stacks_alarms_never_reach_this_stacks_topic(
    dev: Program, alice: Program, previous: str, new: str
) -> None:
    # GIVEN alice's alarms, in the same account and region as dev's, and dev's ops topic
    topic = dev.outputs["ops_topic_arn"]
    # WHEN each of alice's alarms goes previous -> new
    to_dev = {alarm.name: messages_to(topic, [dev, alice], alarm, previous, new) for alarm in _alarms(alice)}
    to_alice = {
        alarm.name: messages_to(alice.outputs["ops_topic_arn"], [dev, alice], alarm, previous, new)
        for alarm in _alarms(alice)
    }
    # THEN dev's topic receives nothing, while alice's receives what her own alarms send
    assert set(to_dev.values()) == {0}
    assert set(to_alice.values()) == {EXPECTED_MESSAGES[(previous, new)]}


def test_a_recovery_reaches_the_topic_through_the_default_bus_rule(dev: Program) -> None:
    # GIVEN one alarm of the stack, recovering
    alarm = _alarms(dev)[0]
    topic = dev.outputs["ops_topic_arn"]
    # WHEN both paths are followed separately
    direct = alarm_action_messages(alarm, IN_ALARM, OK)
    routed = default_bus_deliveries([dev], state_change_event(alarm, IN_ALARM, OK))
    # THEN the message comes from the recovery rule, not from OK actions
    assert direct == []
    assert routed == [topic]


#: Six and a half hours of one-minute periods: long enough for SQS to stop reporting an idle queue.
IDLE_PERIODS = 390


def test_level_alarms_ignore_missing_data_and_count_alarms_treat_it_as_not_breaching(dev: Program) -> None:
    # GIVEN every alarm of the stack
    alarms = _alarms(dev)
    # WHEN their missing-data treatment is read, by the kind of metric they watch
    levels = {a["treatMissingData"] for a in alarms if _is_level(a)}
    counts = {a["treatMissingData"] for a in alarms if not _is_level(a)}
    # THEN the six dead-letter queue depths (five rules, the outbox) keep their state without data, and the counts of
    # errors, throttles, failed invocations and executions read no data as none happened
    assert sum(1 for a in alarms if _is_level(a)) == 6
    assert (levels, counts) == ({"ignore"}, {"notBreaching"})


def test_an_idle_dead_letter_queue_still_holding_messages_stays_in_alarm_without_a_recovery(dev: Program) -> None:
    # GIVEN each dead-letter queue alarm, and a queue that receives two events, then sits idle
    # holding them until SQS stops reporting it
    topic = dev.outputs["ops_topic_arn"]
    timeline: list[float | None] = [0.0, 0.0, 2.0, 2.0, *([2.0] * 10), *([None] * IDLE_PERIODS)]
    for alarm in (a for a in _alarms(dev) if _is_level(a)):
        # WHEN the alarm evaluates that timeline
        state = NO_DATA
        for point in timeline:
            state = evaluated_state(alarm, state, point)
        # THEN it is still in ALARM at the end, and ops heard exactly once (no "Recovered")
        assert state == IN_ALARM, alarm.name
        assert messages_over(topic, [dev], alarm, timeline) == 1, alarm.name


def test_under_not_breaching_the_idle_queue_would_have_read_as_recovered(dev: Program) -> None:
    # GIVEN a dead-letter queue alarm as declared before: notBreaching
    topic = dev.outputs["ops_topic_arn"]
    alarm = next(a for a in _alarms(dev) if _is_level(a))
    before = DeclaredResource(
        alarm.urn, alarm.type, alarm.name, alarm.id, {**alarm.state, "treatMissingData": "notBreaching"}
    )
    timeline: list[float | None] = [0.0, 2.0, *([2.0] * 10), *([None] * IDLE_PERIODS)]
    # WHEN it evaluates the same idle queue still holding messages
    # THEN it goes back to OK, and the recovery rule tells ops "Recovered": two messages
    assert evaluated_state(before, IN_ALARM, None) == OK
    assert messages_over(topic, [dev], before, timeline) == 2


def test_a_fresh_deploy_sends_nothing_whatever_the_treatment_and_an_emptied_queue_recovers(dev: Program) -> None:
    # GIVEN every alarm of the stack, freshly created over quiet metrics (no data, or zeros)
    topic = dev.outputs["ops_topic_arn"]
    for alarm in _alarms(dev):
        # WHEN it evaluates an hour without data, then zeros
        # THEN nothing is sent (ignore stays INSUFFICIENT_DATA, then goes silently OK)
        assert messages_over(topic, [dev], alarm, [None] * 60 + [0.0] * 5) == 0, alarm.name
        # AND a breach later sends one message, and its end (a zero, the queue redriven) one more
        assert messages_over(topic, [dev], alarm, [0.0, 3.0, 3.0, 0.0]) == 2, alarm.name


@pytest.mark.parametrize(
    ("treatment", "current", "expected"),
    [
        ("notBreaching", IN_ALARM, OK),
        ("breaching", OK, IN_ALARM),
        ("ignore", IN_ALARM, IN_ALARM),
        ("ignore", OK, OK),
        ("ignore", NO_DATA, NO_DATA),
        ("missing", IN_ALARM, NO_DATA),
        (None, OK, NO_DATA),
    ],
)
def test_the_missing_data_model_follows_cloudwatchs_table(
    dev: Program, treatment: str | None, current: str, expected: str
) -> None:
    # GIVEN an alarm of the stack with one treatment (None: omitted, CloudWatch's default "missing")
    alarm = _alarms(dev)[0]
    state = {k: v for k, v in alarm.state.items() if k != "treatMissingData"}
    if treatment is not None:
        state["treatMissingData"] = treatment
    subject = DeclaredResource(alarm.urn, alarm.type, alarm.name, alarm.id, state)
    # WHEN a period without data is evaluated  THEN the state is the documented one
    assert evaluated_state(subject, current, None) == expected
    # AND a point decides by the threshold whatever the treatment
    assert (evaluated_state(subject, current, 1.0), evaluated_state(subject, current, 0.0)) == (IN_ALARM, OK)


# --- the oracle can fail -----------------------------------------------------------------------


def test_the_model_counts_the_ok_actions_a_fresh_deploy_used_to_send(dev: Program) -> None:
    # GIVEN an alarm as the stack declared it before: OK actions to the ops topic
    topic = dev.outputs["ops_topic_arn"]
    alarm = _alarms(dev)[0]
    with_ok_actions = DeclaredResource(
        alarm.urn, alarm.type, alarm.name, alarm.id, {**alarm.state, "okActions": [topic]}
    )
    # WHEN it is created, and when it recovers
    # THEN the model sends one email on creation, and two on recovery (OK action and rule)
    assert messages_to(topic, [dev], with_ok_actions, *FRESH_DEPLOY) == 1
    assert messages_to(topic, [dev], with_ok_actions, IN_ALARM, OK) == 2


def test_a_prefix_without_the_separator_would_let_a_sibling_stack_in(dev: Program) -> None:
    # GIVEN the recovery rule's pattern, and an alarm of a stack whose name extends dev's
    rule = dev.named(RECOVERY_RULE)
    pattern = compile_pattern(rule["eventPattern"])
    sibling = _alarms(dev)[0]
    sibling_arn = sibling["arn"].replace(":alarm:eda-demo-dev/", ":alarm:eda-demo-dev-2/")
    state = {**sibling.state, "arn": sibling_arn, "name": sibling["name"].replace("eda-demo-dev/", "eda-demo-dev-2/")}
    event = state_change_event(DeclaredResource("urn", ALARM, "sibling", "id", state), IN_ALARM, OK)
    # WHEN its recovery is matched against dev's rule
    # THEN it does not match (the prefix ends with "/", which no stack name contains)...
    assert not pattern.matches(event)
    # ... and it would without the separator (the guard above is not vacuous)
    loose = json.loads(rule["eventPattern"])
    loose["resources"] = [{"prefix": loose["resources"][0]["prefix"].removesuffix("/")}]
    assert compile_pattern(json.dumps(loose)).matches(event)


# --- the rule itself ---------------------------------------------------------------------------


def test_recovery_rule_is_on_the_default_bus_and_targets_the_ops_topic_with_the_defaults(dev: Program) -> None:
    # GIVEN the recovery rule
    rule = dev.named(RECOVERY_RULE)
    # WHEN its target is read
    target = one(dev.find(EVENT_TARGET, rule=rule["name"]))
    # THEN rule and target name the default bus, and the target is the ops topic, retried then
    # dead-lettered like every other target
    assert (rule["eventBusName"], target["eventBusName"]) == ("default", "default")
    assert target["arn"] == dev.outputs["ops_topic_arn"]
    assert target["retryPolicy"] == {"maximumRetryAttempts": 8, "maximumEventAgeInSeconds": 3600}
    assert dev.by_arn(target["deadLetterConfig"]["arn"]).type == "aws:sqs/queue:Queue"
    # AND it has no role: SNS targets use the topic policy, and a RoleArn can break delivery to a
    # KMS-encrypted topic (EventBridge user guide, "Using resource-based policies")
    assert target.get("roleArn") is None


def test_recovery_pattern_names_no_alarm_and_uses_only_known_operators(dev: Program) -> None:
    # GIVEN the recovery rule's pattern
    raw = dev.named(RECOVERY_RULE)["eventPattern"]
    pattern = json.loads(raw)
    # WHEN its size, fields and operators are read
    operators = {key for value in pattern["resources"] for key in value}
    # THEN it stays far below EventBridge's default 2,048-character pattern quota whatever the
    # number of alarms (it lists none), filters only envelope fields, and uses only "prefix"
    assert len(raw) < 400
    assert not any(alarm["name"] in raw for alarm in _alarms(dev))
    assert set(pattern) <= ENVELOPE_FIELDS
    assert operators == {"prefix"} <= KNOWN_OPERATORS
    assert pattern == {
        "source": ["aws.cloudwatch"],
        "detail-type": ["CloudWatch Alarm State Change"],
        "resources": [{"prefix": f"arn:aws:cloudwatch:us-east-1:{dev.account_id}:alarm:eda-demo-dev/"}],
        "detail": {"previousState": {"value": ["ALARM"]}, "state": {"value": ["OK"]}},
    }


def test_every_alarm_name_carries_the_stack_prefix_and_separator(dev: Program, alice: Program) -> None:
    for program in (dev, alice):
        # GIVEN every alarm of a stack
        # WHEN its physical name and ARN are read
        # THEN both start with the stack's prefix and the separator, and the name is unique
        names = [a["name"] for a in _alarms(program)]
        assert all(n.startswith(f"eda-demo-{program.stack}/") for n in names)
        assert all(a["arn"].endswith(f":alarm:{a['name']}") for a in _alarms(program))
        assert len(set(names)) == len(names)


def _render(template: str, paths: dict[str, str], event: Any) -> str:
    """What an EventBridge input transformer sends for a text template (dotted JSON paths only)."""
    for key, path in paths.items():
        value: Any = event
        for part in path.removeprefix("$.").split("."):
            value = value[part]
        template = template.replace(f"<{key}>", str(value))
    return template


def test_the_recovery_message_is_a_readable_sentence_naming_the_alarm(dev: Program) -> None:
    # GIVEN the recovery target's input transformer and a real recovery event of one alarm
    target = one(dev.find(EVENT_TARGET, rule=dev.named(RECOVERY_RULE)["name"]))
    transformer = target["inputTransformer"]
    alarm = _alarms(dev)[0]
    # WHEN the message is rendered
    message = _render(transformer["inputTemplate"], transformer["inputPaths"], state_change_event(alarm, IN_ALARM, OK))
    # THEN every placeholder is defined and used, variable names are ones EventBridge accepts,
    # and the text names the alarm, the transition, the account and the region
    placeholders = set(re.findall(r"<([^<>]+)>", transformer["inputTemplate"]))
    assert placeholders == set(transformer["inputPaths"])
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", key) for key in placeholders)
    assert "<" not in message and ">" not in message
    assert message == (
        f"Recovered: CloudWatch alarm {alarm['name']} went from ALARM back to OK at 2019-10-02T17:04:40Z "
        f"(account {dev.account_id}, us-east-1)."
    )
