"""Physical names, for the few resources AWS needs to know by name.

Everything else is auto-named by Pulumi (logical name plus a random suffix), so two stacks of
this project never collide. Names built here always carry the project and the stack.
"""

from __future__ import annotations

PROJECT = "eda-demo"


def stack_prefix(stack: str) -> str:
    """``eda-demo-<stack>``: the prefix of every explicit physical name of a stack."""
    return f"{PROJECT}-{stack}"


def event_bus_name(stack: str) -> str:
    """The custom bus of a stack (readable in the console, unique per stack)."""
    return stack_prefix(stack)


def events_log_group_name(stack: str, purpose: str) -> str:
    """A log group EventBridge writes to; its resource policy covers ``/aws/events/*``."""
    return f"/aws/events/{stack_prefix(stack)}-{purpose}"


def lambda_log_group_name(stack: str, function: str) -> str:
    """The explicit log group of one function (its retention is ours, not 'never expire')."""
    return f"/aws/lambda/{stack_prefix(stack)}-{function}"


def vended_log_group_name(stack: str, source: str) -> str:
    """Log groups for vended logs (Step Functions, API access logs) under ``/aws/vendedlogs``."""
    return f"/aws/vendedlogs/{stack_prefix(stack)}-{source}"
