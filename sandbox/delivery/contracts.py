"""The event contracts, enforced live: every event put on a bus is checked against its schema.

Whoever puts it (a handler, the state machine's ``putEvents`` task, a user with
``aws events put-events`` or boto3), :class:`ContractLog` checks the event as EventBridge builds
it from the PutEvents entry, against ``event_schemas/events``. A breach is marked on the event's
trace line and appended as one JSON line to ``contract-violations.jsonl`` in the state dir; the
event is delivered all the same, as EventBridge would: PutEvents imposes no schema on ``Detail``
beyond "a valid JSON object", and the schema registry only describes events (AWS suggests
"client-side validation using a JSON Schema validator before publishing events", announcement
of JSON Schema support in the EventBridge schema registry, 2020-09-29).

Each line of the file: ``time`` (when the event was put, UTC), ``kind`` (``"violation"`` for an
event its schema refuses, ``"unknown"`` for one no schema describes), ``source``,
``detail-type``, ``id`` (the event id PutEvents answered) and ``problems`` (what the validator
says, one string each; for an unknown event, the one sentence saying so).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from event_schemas.validate import problems

log = logging.getLogger("sandbox.contracts")
#: The file, in the sandbox's state dir.
VIOLATIONS_FILE = "contract-violations.jsonl"
VIOLATION = "violation"
UNKNOWN = "unknown"


def event_of_entry(entry: Mapping[str, Any], event_id: str, account: str, region: str) -> dict[str, Any]:
    """The event EventBridge builds from a PutEvents entry (``Detail`` parsed; None when it is not JSON)."""
    try:
        detail = json.loads(entry.get("Detail") or "null")
    except (TypeError, ValueError):
        detail = None
    return {
        "version": "0",
        "id": event_id,
        "detail-type": entry.get("DetailType"),
        "source": entry.get("Source"),
        "account": account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": list(entry.get("Resources") or []),
        "detail": detail,
    }


def check(event: Mapping[str, Any]) -> tuple[str, list[str]] | None:
    """``(kind, problems)`` for an event that breaks the contracts, None for one that keeps them."""
    found = problems(event)
    if found is None:
        return UNKNOWN, [f"no schema describes detail-type {event.get('detail-type')!r} from {event.get('source')!r}"]
    return (VIOLATION, found) if found else None


def mark(kind: str, found: list[str]) -> str:
    """The note a trace line ends with: ``  [contract violation: …]`` or ``  [unknown event: …]``."""
    label = "contract violation" if kind == VIOLATION else "unknown event"
    return f"  [{label}: {'; '.join(found)}]"


class BreachObserver(Protocol):
    """What the contract log tells an observer (the console's recorder): defined here, as it reads it."""

    def contract_breach(self, event: Mapping[str, Any], kind: str, problems: list[str]) -> None:
        """An event breaks its contract (``kind`` ``violation``), or no contract describes it."""


class ContractLog:
    """Checks events and appends the breaches to ``contract-violations.jsonl`` (thread-safe)."""

    #: The console's recorder while it runs: told of every breach.
    observer: BreachObserver | None = None

    def __init__(self, path: Path) -> None:
        """A log writing to ``path`` (created empty by :meth:`clear`)."""
        self.path = path
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Start the file empty (at start, and on every reset)."""
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text("")

    def record(self, event: Mapping[str, Any]) -> str:
        """Check ``event``; record a breach; return the trace line's mark ("" when the event conforms).

        A failure of the check itself is logged and never stops the event (nor the PutEvents call).
        """
        try:
            breach = check(event)
        except Exception:
            log.exception("checking event %s against its contract failed", event.get("id"))
            return "  [contract not checked: the sandbox failed, see its log]"
        if breach is None:
            return ""
        kind, found = breach
        if self.observer is not None:
            self.observer.contract_breach(event, kind, found)
        line = {
            "time": event.get("time"),
            "kind": kind,
            "source": event.get("source"),
            "detail-type": event.get("detail-type"),
            "id": event.get("id"),
            "problems": found,
        }
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(line, default=str) + "\n")
        return mark(kind, found)

    def entries(self) -> list[dict[str, Any]]:
        """What the file holds, one dict per line."""
        with self._lock:
            text = self.path.read_text(encoding="utf-8") if self.path.exists() else ""
        return [json.loads(line) for line in text.splitlines() if line.strip()]
