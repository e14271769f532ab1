"""What the checks share: HTTP to the API, polling to a deadline, a log group's lines since the run began."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from acceptance.target import Target

T = TypeVar("T")


@dataclass
class Answer:
    """An HTTP answer: status, raw body, and the body as JSON (``None`` if it is not JSON)."""

    status: int
    raw: bytes
    json: Any
    is_json: bool


def http(method: str, url: str, body: bytes | None = None, timeout: float = 30.0) -> Answer:
    """One request as curl's ``-d`` sends it (form content type), answered whatever its status."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw, status = response.read(), response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    try:
        return Answer(status, raw, json.loads(raw), True)
    except ValueError:
        return Answer(status, raw, None, False)


def eventually(probe: Callable[[], T], done: Callable[[T], bool], deadline: float, pause: float = 0.05) -> T:
    """Call ``probe`` until ``done`` holds for its answer or ``deadline`` (monotonic) passes; the last answer."""
    while True:
        answer = probe()
        now = time.monotonic()
        if done(answer) or now >= deadline:
            return answer
        time.sleep(min(pause, deadline - now))  # never past the deadline: one last probe at it
        pause = min(pause * 2, 2.0)


def log_messages(target: Target, group: str) -> list[str]:
    """Every message written to ``group`` since the run started."""
    logs = target.client("logs")
    kwargs: dict[str, Any] = {"logGroupName": group, "startTime": target.started_ms - 1000}
    messages: list[str] = []
    while True:
        page = logs.filter_log_events(**kwargs)
        messages.extend(event["message"] for event in page.get("events", []))
        if not page.get("nextToken"):
            return messages
        kwargs["nextToken"] = page["nextToken"]


def json_lines(messages: list[str]) -> list[dict[str, Any]]:
    """The messages that are JSON objects, parsed (Lambda's JSON log lines, EventBridge events)."""
    parsed = []
    for message in messages:
        try:
            value = json.loads(message)
        except ValueError:
            continue
        if isinstance(value, dict):
            parsed.append(value)
    return parsed
