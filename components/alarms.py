"""Alarm names, and what tells ops that an alarm recovered: pure functions, testable without Pulumi.

Why alarms have no OK actions: CloudWatch sets every new alarm to ``INSUFFICIENT_DATA`` and runs
the actions of whatever state its first evaluation gives it (PutMetricAlarm), so OK actions make
every fresh deploy (or replaced alarm) send one "OK" message per alarm. Alarms therefore notify
only on entering ``ALARM``; the one transition worth a second message, ``ALARM -> OK``, is
reported by a rule on the account's default bus, where CloudWatch puts a "CloudWatch Alarm State
Change" event for every state change of every alarm.

That rule recognises this stack's alarms by ARN prefix: every alarm is named
``<stack prefix>/<alarm>``. Pulumi stack names cannot contain ``/``, so the prefix of stack
``dev`` (``eda-demo-dev/``) is never a prefix of stack ``dev-2``'s alarms (``eda-demo-dev-2/``).
Listing the alarm ARNs instead would outgrow EventBridge's default 2,048-character event-pattern
quota at about twenty alarms, which this stack already has.
"""

from __future__ import annotations

from typing import Any, Final

from handlers import contract

#: How an alarm on a count of events (errors, throttles, failed invocations or executions) reads a
#: period without data: nothing happened, which is OK. AWS publishes these metrics only when the
#: event happens, so without this a quiet function's alarm would sit in INSUFFICIENT_DATA.
COUNT_MISSING_DATA: Final = "notBreaching"
#: How an alarm on a level (a dead-letter queue's depth) reads a period without data: it keeps its
#: state. SQS stops reporting a queue idle for about six hours even while it holds messages, so
#: ``notBreaching`` would turn an ALARM into OK and the recovery rule would tell ops "Recovered"
#: about a queue still full ("Configuring how CloudWatch alarms treat missing data": ``ignore``,
#: "the current alarm state is maintained"). A new alarm stays INSUFFICIENT_DATA until the first
#: point, which keeps a fresh deploy silent.
LEVEL_MISSING_DATA: Final = "ignore"

#: Separates the stack prefix from the alarm's own name; no stack prefix can contain it.
SEPARATOR: Final = "/"
#: The longest alarm label after the separator (rule and function names make the labels).
LABEL_MAX_LENGTH: Final = 96

#: What the recovery message reads from the event (EventBridge input transformer ``InputPathsMap``).
RECOVERY_INPUT_PATHS: Final[dict[str, str]] = {
    "alarm": "$.detail.alarmName",
    "time": "$.time",
    "account": "$.account",
    "region": "$.region",
}
#: The recovery message, as plain text (a template that is not a JSON object is sent as text,
#: ``<instance> is in state <status>`` in the InputTransformer API reference). Every value it
#: pastes is free of quotes and angle brackets: alarm names are ours, the rest are AWS formats.
RECOVERY_INPUT_TEMPLATE: Final = (
    "Recovered: CloudWatch alarm <alarm> went from ALARM back to OK at <time> (account <account>, <region>)."
)


def _checked_prefix(stack_prefix: str) -> str:
    if not stack_prefix or SEPARATOR in stack_prefix:
        raise ValueError(f"alarm stack prefix must be non-empty and contain no {SEPARATOR!r}: {stack_prefix!r}")
    return stack_prefix


def alarm_name(stack_prefix: str, alarm: str) -> str:
    """``<stack prefix>/<alarm>``: the physical name of one alarm of a stack."""
    if not alarm or len(alarm) > LABEL_MAX_LENGTH:
        raise ValueError(f"alarm label must have 1 to {LABEL_MAX_LENGTH} characters, got {alarm!r}")
    return f"{_checked_prefix(stack_prefix)}{SEPARATOR}{alarm}"


def alarm_arn_prefix(region: str, account_id: str, stack_prefix: str, partition: str) -> str:
    """The ARN prefix every alarm of the stack has, and no alarm of another stack has."""
    if not region or not account_id:
        raise ValueError(f"alarm ARN prefix needs a region and an account, got {region!r} and {account_id!r}")
    return f"arn:{partition}:cloudwatch:{region}:{account_id}:alarm:{_checked_prefix(stack_prefix)}{SEPARATOR}"


def recovered_pattern(region: str, account_id: str, stack_prefix: str, partition: str) -> dict[str, Any]:
    """Event pattern of the rule reporting this stack's alarms going ``ALARM -> OK``."""
    return contract.alarm_recovered_pattern(alarm_arn_prefix(region, account_id, stack_prefix, partition))
