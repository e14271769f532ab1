"""Send what each function prints to its own log group on the endpoint, as Lambda does.

The handlers log with Powertools (structured JSON on stdout) and emit metrics as EMF lines on
stdout. While the sandbox runs, ``sys.stdout`` is a router: a line written by a thread that is
running a function goes to that function's log group (``aws logs filter-log-events`` finds it);
anything else goes to the console.
"""

from __future__ import annotations

import io
import logging
import sys
import threading
import time
import uuid
from typing import Any, TextIO

from moto.logs.models import logs_backends

_current = threading.local()


def current_log_group() -> str | None:
    """The log group of the function this thread is running, if any."""
    return getattr(_current, "group", None)


class FunctionScope:
    """Marks this thread as running a function whose output goes to ``group`` (and ``tap``, if given)."""

    def __init__(self, group: str, tap: list[str] | None = None) -> None:
        """Scope for one invocation; ``tap`` also receives its output (for Lambda's log tail)."""
        self.group = group
        self.tap = tap

    def __enter__(self) -> None:
        """Route this thread's output to the function's group."""
        self.previous = (current_log_group(), getattr(_current, "tap", None))
        _current.group, _current.tap = self.group, self.tap

    def __exit__(self, *exc: object) -> None:
        """Restore the previous routing."""
        _current.group, _current.tap = self.previous


class LogRouter(io.TextIOBase):
    """A ``sys.stdout`` replacement writing function output to CloudWatch Logs (moto)."""

    def __init__(self, console: TextIO, account_id: str, region: str, echo: bool = False) -> None:
        """Route to moto's logs backend of ``account_id``/``region``; ``echo`` also prints."""
        self.console = console
        self.account_id = account_id
        self.region = region
        self.echo = echo
        self._streams: dict[str, str] = {}
        self._lock = threading.Lock()

    def forget_streams(self) -> None:
        """Open a new stream per log group on the next write (the endpoint's state was reset)."""
        with self._lock:
            self._streams.clear()

    def write(self, text: str) -> int:
        """Write ``text`` to the current function's log group, or to the console."""
        group = current_log_group()
        tap = getattr(_current, "tap", None)
        if tap is not None:
            tap.append(text)
        if group is None or self.echo:
            self.console.write(text)
        if group is not None:
            lines = [line for line in text.splitlines() if line.strip()]
            if lines:
                self._put(group, lines)
        return len(text)

    def flush(self) -> None:
        """Flush the console."""
        self.console.flush()

    def put(self, group: str, lines: list[str]) -> None:
        """Write ``lines`` to ``group`` directly (not through ``sys.stdout``: no tap sees them)."""
        if self.echo:
            self.console.write("\n".join(lines) + "\n")
        self._put(group, lines)

    def _put(self, group: str, lines: list[str]) -> None:
        backend: Any = logs_backends[self.account_id][self.region]
        with self._lock:
            stream = self._streams.get(group)
            try:
                if stream is None:
                    stream = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
                    backend.create_log_stream(group, stream)
                    self._streams[group] = stream
                now = int(time.time() * 1000)
                backend.put_log_events(group, stream, [{"timestamp": now, "message": line} for line in lines])
            except Exception:  # the group may not exist (a function without one): keep the line visible
                self.console.write("\n".join(lines) + "\n")


_ROUTER: LogRouter | None = None


def install(account_id: str, region: str, echo: bool = False) -> LogRouter:
    """Make ``sys.stdout`` the process's router (call :func:`uninstall` with the result to undo).

    One router serves the whole process: Powertools keeps the stream its logger was created
    with, so a later sandbox must find the same object there.
    """
    global _ROUTER
    console = sys.stdout.console if isinstance(sys.stdout, LogRouter) else sys.stdout
    if _ROUTER is None:
        _ROUTER = LogRouter(console, account_id, region, echo)
    _ROUTER.console, _ROUTER.account_id, _ROUTER.region, _ROUTER.echo = console, account_id, region, echo
    _ROUTER.forget_streams()
    sys.stdout = _ROUTER
    return _ROUTER


def router() -> LogRouter | None:
    """The process's router, once a sandbox has installed it."""
    return _ROUTER


def put_lines(group: str, lines: list[str]) -> None:
    """Write ``lines`` to the log group ``group`` through the process's router (none yet: dropped)."""
    if _ROUTER is not None:
        _ROUTER.put(group, lines)


def adopt_loggers(names: set[str], router: LogRouter) -> None:
    """Point the stream handlers of these (Powertools service) loggers at ``router``."""
    for name in names:
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is not router:
                handler.setStream(router)


def uninstall(router: LogRouter) -> None:
    """Put the console back (the router passes everything to the console from now on)."""
    if sys.stdout is router:
        sys.stdout = router.console
