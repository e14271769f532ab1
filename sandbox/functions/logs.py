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
        #: Each log group's stream (one per function: one execution environment), by group.
        self._streams: dict[str, str] = {}
        #: The streams created on the endpoint since its state was last reset.
        self._created: set[str] = set()
        self._lock = threading.Lock()

    def forget_streams(self, *, names: bool = False) -> None:
        """Create each stream again on the next write (the endpoint's state was reset).

        The names stay (the functions' execution environments live on) unless ``names``: a new
        sandbox's functions start new environments.
        """
        with self._lock:
            self._created.clear()
            if names:
                self._streams.clear()

    def stream_name(self, group: str) -> str:
        """The stream ``group``'s lines go to: a name in Lambda's dated form, chosen on first use."""
        with self._lock:
            return self._stream_name(group)

    def _stream_name(self, group: str) -> str:
        stream = self._streams.get(group)
        if stream is None:
            stream = self._streams[group] = new_stream_name()
        return stream

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
            stream = self._stream_name(group)
            try:
                if stream not in self._created:
                    backend.create_log_stream(group, stream)
                    self._created.add(stream)
                now = int(time.time() * 1000)
                backend.put_log_events(group, stream, [{"timestamp": now, "message": line} for line in lines])
            except Exception:  # the group may not exist (a function without one): keep the line visible
                self.console.write("\n".join(lines) + "\n")


def new_stream_name() -> str:
    """A stream name as Lambda gives its execution environments: ``2026/12/02/[$LATEST]<32 hex digits>``."""
    return f"{time.strftime('%Y/%m/%d', time.gmtime())}/[$LATEST]{uuid.uuid4().hex}"


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
    _ROUTER.forget_streams(names=True)
    sys.stdout = _ROUTER
    return _ROUTER


def router() -> LogRouter | None:
    """The process's router, once a sandbox has installed it."""
    return _ROUTER


def stream_name(group: str) -> str:
    """The stream the function logging to ``group`` writes to (a fresh name before any sandbox ran)."""
    return _ROUTER.stream_name(group) if _ROUTER is not None else new_stream_name()


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
