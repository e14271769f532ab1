"""One synchronous Lambda invocation, answered as Lambda answers ``Invoke`` (RequestResponse).

The function runs in-process (``FunctionRuntime``). What comes back is what Lambda returns:
the handler's result serialised as the Python runtime does (``Decimal`` as a number), or, when
the handler raised, timed out or returned something unserialisable, ``FunctionError: Unhandled``
with the runtime's error payload (``errorMessage``, ``errorType``, ``requestId``,
``stackTrace``). The invocation's log is what Lambda's ``LogType=Tail`` shows: the platform's
start and report records around the function's own output, in the function's log format
(``START``/``END``/``REPORT`` lines for Text; ``platform.start``/``platform.report`` records for JSON,
as "you can choose whether your function's system logs are sent ... in unstructured plain text or JSON
format": https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-logformat.html).
"""

from __future__ import annotations

import base64
import json
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sandbox.functions import DeclaredFunction, FunctionRuntime
from sandbox.platform_log import now_iso, platform_end, platform_start

#: Lambda returns at most the last 4 KB of the log in ``LogResult``.
LOG_TAIL_BYTES = 4096
_SANDBOX_DIR = str(Path(__file__).resolve().parent)


@dataclass
class Invocation:
    """What one invocation returned and printed."""

    request_id: str
    payload: bytes
    #: ``Unhandled`` when the function failed (Lambda's ``X-Amz-Function-Error``), else None.
    function_error: str | None
    log: str

    def log_result(self) -> str:
        """``LogResult``: the last 4 KB of the log, base64-encoded."""
        return base64.b64encode(self.log.encode()[-LOG_TAIL_BYTES:]).decode()


def _decimal_as_number(value: Any) -> Any:
    # What the Python runtime's marshaller does with the numbers DynamoDB hands back.
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def error_payload(error: BaseException, request_id: str) -> dict[str, Any]:
    """The Python runtime's payload for an unhandled exception (frames of the sandbox left out)."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if not f.filename.startswith(_SANDBOX_DIR)]
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames),
    }


def _error_line(fn: DeclaredFunction, payload: dict[str, Any]) -> str:
    if fn.log_format.upper() == "JSON":
        return json.dumps(
            {"timestamp": now_iso(), "level": "ERROR", "message": payload, "requestId": payload["requestId"]}
        )
    trace = "".join(payload["stackTrace"])
    return f"[ERROR] {payload['errorType']}: {payload['errorMessage']}\nTraceback (most recent call last):\n{trace}"


def invoke(runtime: FunctionRuntime, arn: str, event: Any) -> Invocation:
    """Invoke the function ``arn`` synchronously and report it as Lambda does; never raises for the function."""
    fn = runtime.functions[arn]
    request_id = str(uuid.uuid4())
    output: list[str] = []
    outcome: dict[str, Any] = {}

    def call() -> None:
        try:
            outcome["result"] = runtime.invoke(arn, event, request_id=request_id, tap=output)
        except Exception as error:  # the function's failure is the invocation's answer
            outcome["error"] = error

    started = time.monotonic()
    # The handler runs on a thread of its own so that the caller gets Lambda's timeout answer
    # when it runs too long (it cannot be stopped in-process: it finishes in the background).
    worker = threading.Thread(target=call, name=f"invoke-{fn.name}", daemon=True)
    worker.start()
    worker.join(fn.timeout_seconds)
    duration_ms = (time.monotonic() - started) * 1000
    printed = "".join(output)
    lines = [platform_start(fn, request_id)] + ([printed.rstrip("\n")] if printed.strip() else [])
    error_body: dict[str, Any] | None = None
    payload = b""
    status = "success"
    if worker.is_alive():
        status = "timeout"
        error_body = {
            "errorType": "Sandbox.Timedout",
            "errorMessage": f"RequestId: {request_id} Error: Task timed out after {fn.timeout_seconds:.2f} seconds",
        }
    elif "error" in outcome:
        status = "error"
        error_body = error_payload(outcome["error"], request_id)
        lines.append(_error_line(fn, error_body))
    else:
        try:
            payload = json.dumps(outcome.get("result"), default=_decimal_as_number).encode()
        except (TypeError, ValueError) as error:
            status = "error"
            error_body = {
                "errorMessage": f"Unable to marshal response: {error}",
                "errorType": "Runtime.MarshalError",
                "requestId": request_id,
                "stackTrace": [],
            }
    lines += platform_end(fn, request_id, duration_ms, status)
    log = "\n".join(lines) + "\n"
    if error_body is not None:
        return Invocation(request_id, json.dumps(error_body).encode(), "Unhandled", log)
    return Invocation(request_id, payload, None, log)
