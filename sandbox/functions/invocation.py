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
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sandbox.functions.platform_log import error_payload, platform_end
from sandbox.functions.runtime import FunctionRuntime

#: Lambda returns at most the last 4 KB of the log in ``LogResult``.
LOG_TAIL_BYTES = 4096


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

    # The handler runs on a thread of its own so that the caller gets Lambda's timeout answer
    # when it runs too long (it cannot be stopped in-process: it finishes in the background).
    worker = threading.Thread(target=call, name=f"invoke-{fn.name}", daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(fn.timeout_seconds)
    # The runtime wrote Lambda's records (start, error, report) to the tap with the log group.
    printed = "".join(output)
    lines = [printed.rstrip("\n")] if printed.strip() else []
    error_body: dict[str, Any] | None = None
    payload = b""
    if worker.is_alive():
        error_body = {
            "errorType": "Sandbox.Timedout",
            "errorMessage": f"RequestId: {request_id} Error: Task timed out after {fn.timeout_seconds:.2f} seconds",
        }
        lines += platform_end(fn, request_id, (time.monotonic() - started) * 1000, "timeout")
    elif "error" in outcome:
        error_body = error_payload(outcome["error"], request_id)
    else:
        try:
            payload = json.dumps(outcome.get("result"), default=_decimal_as_number).encode()
        except (TypeError, ValueError) as error:
            error_body = {
                "errorMessage": f"Unable to marshal response: {error}",
                "errorType": "Runtime.MarshalError",
                "requestId": request_id,
                "stackTrace": [],
            }
    log = "\n".join(lines) + "\n"
    if error_body is not None:
        return Invocation(request_id, json.dumps(error_body).encode(), "Unhandled", log)
    return Invocation(request_id, payload, None, log)
