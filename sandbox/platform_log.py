"""The lines Lambda itself writes around each invocation, in the function's log format.

``START``/``END``/``REPORT`` lines for Text; ``platform.start``/``platform.report`` records for JSON
("Configuring JSON and plain text log formats":
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-logformat.html). The
sandbox writes them to the function's log group on every invocation, as Lambda does, and
``lambda invoke --log-type Tail`` shows them around the function's output.
"""

from __future__ import annotations

import json
import math
import resource
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sandbox.functions import DeclaredFunction


def now_iso() -> str:
    """Now, as Lambda stamps its records (UTC, milliseconds)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _peak_memory_mb() -> int:
    # The functions share the sandbox's process: this is the process's peak, not one function's.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // (2**20 if sys.platform == "darwin" else 2**10)


def platform_start(fn: DeclaredFunction, request_id: str) -> str:
    """Lambda's first log line of an invocation."""
    if fn.log_format.upper() == "JSON":
        record = {"requestId": request_id, "version": "$LATEST"}
        return json.dumps({"time": now_iso(), "type": "platform.start", "record": record})
    return f"START RequestId: {request_id} Version: $LATEST"


def platform_end(fn: DeclaredFunction, request_id: str, duration_ms: float, status: str) -> list[str]:
    """Lambda's closing log lines (END and REPORT, or the JSON ``platform.report`` record)."""
    billed = max(1, math.ceil(duration_ms))
    used = min(_peak_memory_mb(), fn.memory_mb)
    if fn.log_format.upper() == "JSON":
        metrics = {
            "durationMs": round(duration_ms, 2),
            "billedDurationMs": billed,
            "memorySizeMB": fn.memory_mb,
            "maxMemoryUsedMB": used,
        }
        record = {"requestId": request_id, "metrics": metrics, "status": status}
        return [json.dumps({"time": now_iso(), "type": "platform.report", "record": record})]
    return [
        f"END RequestId: {request_id}",
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tBilled Duration: {billed} ms\t"
        f"Memory Size: {fn.memory_mb} MB\tMax Memory Used: {used} MB\t",
    ]
