"""Hand-built :class:`~cost.usage.Usage` values with round numbers, so expected costs are hand-computed."""

from __future__ import annotations

import dataclasses
from typing import Any

from cost.usage import FunctionUsage, Usage

#: One order of the hand-built usage: 1 API request, 5 Lambda invocations of 256 MB arm64 functions,
#: 3 events (3 KB archived), 5 STANDARD transitions, 2 write and 0.5 read units, 3 publishes and
#: 3 emails, 9 KB of logs; and 20 alarms, 1 dashboard, 1 key a month.
FUNCTIONS = (
    FunctionUsage("create-order", 256, "arm64", 1.0),
    FunctionUsage("update-order", 256, "arm64", 1.0),
    FunctionUsage("notification", 256, "arm64", 3.0),
)


def make_usage(**changes: Any) -> Usage:
    """The hand-built usage of one order in us-east-1, with ``changes`` applied."""
    usage = Usage(
        stack="dev",
        region="us-east-1",
        workflow_type="STANDARD",
        orders_metered=10,
        api_requests=1.0,
        functions=FUNCTIONS,
        event_chunks=3.0,
        archived_bytes=3 * 1024.0,
        workflow_executions=1.0,
        workflow_transitions=5.0,
        dynamodb_write_units=2.0,
        dynamodb_read_units=0.5,
        sns_publish_chunks=3.0,
        email_deliveries=3.0,
        log_bytes={"/aws/lambda/eda-demo-dev-create-order": 6 * 1024.0, "/aws/events/eda-demo-dev-catch-all": 3072.0},
        alarms=20,
        dashboards=1,
        kms_keys=1,
    )
    return dataclasses.replace(usage, **changes)
