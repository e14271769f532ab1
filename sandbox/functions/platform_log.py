"""The lines Lambda itself writes around each invocation, in the function's log format.

``START``/``END``/``REPORT`` lines for Text; ``platform.start``/``platform.report`` records for JSON
("Configuring JSON and plain text log formats":
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-logformat.html). The
sandbox writes them to the function's log group on every invocation, as Lambda does, and
``lambda invoke --log-type Tail`` shows them around the function's output. An unhandled error adds
the runtime's error record before the report.
"""

from __future__ import annotations

import json
import math
import resource
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

_SANDBOX_DIR = str(Path(__file__).resolve().parent.parent)


class FunctionConfig(Protocol):
    """What the records read of a function (a :class:`~sandbox.functions.runtime.DeclaredFunction`).

    A protocol, so this module needs nothing from the runtime that imports it.
    """

    #: ``Text`` or ``JSON`` (the function's ``loggingConfig.logFormat``).
    log_format: str
    memory_mb: int


def now_iso() -> str:
    """Now, as Lambda stamps its records (UTC, milliseconds)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _peak_memory_mb() -> int:
    # The functions share the sandbox's process: this is the process's peak, not one function's.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // (2**20 if sys.platform == "darwin" else 2**10)


def platform_start(fn: FunctionConfig, request_id: str) -> str:
    """Lambda's first log line of an invocation."""
    if fn.log_format.upper() == "JSON":
        record = {"requestId": request_id, "version": "$LATEST"}
        return json.dumps({"time": now_iso(), "type": "platform.start", "record": record})
    return f"START RequestId: {request_id} Version: $LATEST"


def platform_end(fn: FunctionConfig, request_id: str, duration_ms: float, status: str) -> list[str]:
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


def error_payload(error: BaseException, request_id: str) -> dict[str, Any]:
    """The Python runtime's payload for an unhandled exception (frames of the sandbox left out)."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if not f.filename.startswith(_SANDBOX_DIR)]
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames),
    }


def error_line(fn: FunctionConfig, payload: dict[str, Any]) -> str:
    """The record Lambda writes for an unhandled error, in the function's log format."""
    if fn.log_format.upper() == "JSON":
        return json.dumps(
            {"timestamp": now_iso(), "level": "ERROR", "message": payload, "requestId": payload["requestId"]}
        )
    trace = "".join(payload["stackTrace"])
    return f"[ERROR] {payload['errorType']}: {payload['errorMessage']}\nTraceback (most recent call last):\n{trace}"
