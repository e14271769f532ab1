"""What the sandbox's parts report while the console runs, kept per order and bounded.

:class:`Recorder` is the observer the API, the dispatcher, the function runtime, the emulation and
the contract log call (each through one ``observer`` attribute that is ``None`` while the console is
off, so an unobserved sandbox pays one attribute test per call site). Each report becomes one
timeline :class:`Entry` of the order it concerns (the ``id`` the API request, the event's detail or
the table item names) and counts on the architecture's edges. Memory is bounded: the traces of the
last ``max_orders`` orders, at most :data:`MAX_ENTRIES` entries each, bodies cut to
:data:`MAX_TEXT` characters, and a short ring of reports that name no order.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import threading
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from sandbox.console.defaults import DEFAULT_ORDERS

#: Timeline entries kept per order (the oldest go first; the trace says how many went).
MAX_ENTRIES = 300
#: Characters of a request or answer body, message or error kept in an entry.
MAX_TEXT = 2000
#: Reports that name no order (an event without ``detail.id``, a request to an unknown path).
MAX_UNATTRIBUTED = 100
#: Distinct keys an edge counter keeps (event sources are the user's to choose).
MAX_COUNTER_KEYS = 500
#: Rules one put may match (EventBridge allows 300 per bus), and executions kept per order.
MAX_MATCHED = 300
MAX_EXECUTIONS = 20
#: The longest order id the console keys (longer ones name no order).
MAX_ID_DIGITS = 40
log = logging.getLogger("sandbox.console")
F = TypeVar("F", bound=Callable[..., None])


def never_raises(report: F) -> F:
    """A report that logs its own failure instead of raising it into the sandbox part that called it."""

    @functools.wraps(report)
    def safe(*args: Any, **kwargs: Any) -> None:
        try:
            report(*args, **kwargs)
        except Exception:
            log.exception("the console failed to record %s", report.__name__)

    return cast("F", safe)


def cut(text: Any, limit: int = MAX_TEXT) -> str:
    """``text`` as a string of at most ``limit`` characters (an ellipsis says it was cut)."""
    value = text if isinstance(text, str) else str(text)
    return value if len(value) <= limit else value[:limit] + f"… ({len(value) - limit} more characters)"


def order_key(value: Any) -> str | None:
    """The order an ``id`` names, as the console keys it (``None`` for anything that is not an id)."""
    if isinstance(value, bool) or value is None:
        return None
    text = str(value).strip() if isinstance(value, (int, str)) else ""
    # An id is a JSON integer: a few digits, never thousands (int() refuses past 4,300).
    if text.lstrip("-").isdigit() and len(text) <= MAX_ID_DIGITS:
        return str(int(text))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return None


def order_of_event(event: Any) -> str | None:
    """The order an event (or a Lambda on-failure record's payload) concerns: its ``detail.id``."""
    if not isinstance(event, Mapping):
        return None
    detail = event.get("detail")
    if isinstance(detail, str):
        try:
            detail = json.loads(detail)
        except ValueError:
            return None
    return order_key(detail.get("id")) if isinstance(detail, Mapping) else None


def order_of_record(record: Any) -> str | None:
    """The order a DynamoDB stream record concerns: its item's key (``{"id": {"N": "101"}}``)."""
    keys = record.get("dynamodb", {}).get("Keys") if isinstance(record, Mapping) else None
    if not isinstance(keys, Mapping):
        return None
    return next((order_key(v) for v in plain(dict(keys)).values() if order_key(v) is not None), None)


def orders_of_batch(records: Any) -> list[str]:
    """The orders a stream batch concerns, each once, in the batch's order."""
    found = [order_of_record(r) for r in records] if isinstance(records, list) else []
    return list(dict.fromkeys(o for o in found if o is not None))


def _sequences(records: list[dict[str, Any]]) -> str:
    numbers = [str(r.get("dynamodb", {}).get("SequenceNumber", "?")) for r in records]
    return numbers[0] if len(numbers) == 1 else f"{numbers[0]}..{numbers[-1]}"


def order_of_request(path: str, body: bytes) -> str | None:
    """The order an API request concerns: the body's ``id``, else the path's last segment."""
    try:
        parsed = json.loads(body) if body else None
    except ValueError:  # UnicodeDecodeError included
        parsed = None
    if isinstance(parsed, Mapping) and order_key(parsed.get("id")) is not None:
        return order_key(parsed.get("id"))
    return order_key(path.split("?")[0].rstrip("/").rsplit("/", 1)[-1])


def plain(value: Any) -> Any:
    """A DynamoDB-typed value (``{"N": "100"}``) as plain JSON (numbers stay DynamoDB's strings' numbers)."""
    if not isinstance(value, Mapping) or len(value) != 1:
        return {k: plain(v) for k, v in value.items()} if isinstance(value, Mapping) else value
    ((kind, inner),) = value.items()
    if kind == "N":
        number = float(inner)
        return int(number) if number.is_integer() and "." not in inner and "e" not in inner.lower() else number
    if kind == "M":
        return {k: plain(v) for k, v in inner.items()}
    if kind == "L":
        return [plain(v) for v in inner]
    if kind == "NULL":
        return None
    if kind in ("S", "BOOL", "B", "SS", "NS", "BS"):
        return inner
    return {kind: plain(inner)}


@dataclass
class Entry:
    """One step of an order's journey."""

    time: float
    kind: str
    title: str
    #: True: it worked; False: it failed (a retry or a dead letter may follow); None: neither.
    ok: bool | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The entry as the page reads it."""
        return {"time": self.time, "kind": self.kind, "title": self.title, "ok": self.ok, "detail": self.detail}


@dataclass
class OrderTrace:
    """Everything recorded about one order."""

    order: str
    first: float
    last: float
    status: str | None = None
    entries: deque[Entry] = field(default_factory=lambda: deque(maxlen=MAX_ENTRIES))
    dropped: int = 0
    #: Executions started for this order: their states are read from Step Functions when shown.
    executions: list[str] = field(default_factory=list)


class Recorder:
    """The console's observer: thread-safe, bounded, cheap per report (see the module docstring)."""

    def __init__(self, max_orders: int = DEFAULT_ORDERS, clock: Callable[[], float] = time.time) -> None:
        """A recorder keeping the traces of the last ``max_orders`` orders."""
        if max_orders < 1:
            raise ValueError(f"max_orders must be at least 1, got {max_orders}")
        self.max_orders = max_orders
        self.clock = clock
        #: What back-off delays are divided by in the sandbox (shown as AWS's delay and the sandbox's).
        self.delay_scale = 1.0
        self._lock = threading.Lock()
        self._orders: OrderedDict[str, OrderTrace] = OrderedDict()
        self._unattributed: deque[Entry] = deque(maxlen=MAX_UNATTRIBUTED)
        self._local = threading.local()
        #: Increases with every report: the page polls it to know when to fetch again.
        self.version = 0
        self.counts: Counter[tuple[str, ...]] = Counter()

    def clear(self) -> None:
        """Forget everything (the sandbox was reset)."""
        with self._lock:
            self._orders.clear()
            self._unattributed.clear()
            self.counts.clear()
            self.version += 1

    # --- storing --------------------------------------------------------------------------------
    def _add(self, order: str | None, entry: Entry, *counted: tuple[str, ...]) -> None:
        with self._lock:
            self.version += 1
            for key in counted:
                self._count(key)
            if order is None:
                self._unattributed.append(entry)
                return
            trace = self._trace(order, entry.time)
            if len(trace.entries) == trace.entries.maxlen:
                trace.dropped += 1
            trace.entries.append(entry)
            status = entry.detail.get("status") if entry.kind == "item" else None
            if isinstance(status, str):
                trace.status = status

    def _add_each(self, orders: list[str], entry: Entry, *counted: tuple[str, ...]) -> None:
        """One entry on each order's timeline (a stream batch may hold several), counted once."""
        self._add(orders[0] if orders else None, entry, *counted)
        for order in orders[1:]:
            self._add(order, entry)

    def _count(self, key: tuple[str, ...]) -> None:
        """Count ``key`` once, unless the counter is full of other keys (lock held)."""
        if key in self.counts or len(self.counts) < MAX_COUNTER_KEYS:
            self.counts[key] += 1

    def _trace(self, order: str, now: float) -> OrderTrace:
        """The order's trace, created (and the oldest forgotten past ``max_orders``) if new; lock held."""
        trace = self._orders.get(order)
        if trace is None:
            trace = self._orders[order] = OrderTrace(order, now, now)
            while len(self._orders) > self.max_orders:
                self._orders.popitem(last=False)
        trace.last = now
        return trace

    # --- reading ----------------------------------------------------------------------------------
    def orders(self) -> list[dict[str, Any]]:
        """Every kept order, newest first, with its status and its number of entries."""
        with self._lock:
            traces = list(self._orders.values())
        return [
            {"id": t.order, "status": t.status, "first": t.first, "last": t.last, "entries": len(t.entries)}
            for t in sorted(traces, key=lambda t: t.first, reverse=True)
        ]

    def trace(self, order: str) -> tuple[list[Entry], list[str], int, str | None] | None:
        """An order's entries in time order, its executions, how many entries went, its status."""
        with self._lock:
            trace = self._orders.get(order)
            if trace is None:
                return None
            return sorted(trace.entries, key=lambda e: e.time), list(trace.executions), trace.dropped, trace.status

    def unattributed(self) -> list[Entry]:
        """The last reports that named no order."""
        with self._lock:
            return list(self._unattributed)

    def count(self, *key: str) -> int:
        """How often ``key`` was counted."""
        with self._lock:
            return self.counts.get(key, 0)

    # --- what the sandbox's parts report ----------------------------------------------------------
    @never_raises
    def api_request(
        self, method: str, path: str, resource: str | None, status: int, body: bytes, answer: bytes, seconds: float
    ) -> None:
        """The local API answered a request (``resource``: the route's path, ``None`` if none matched)."""
        text = answer.decode("utf-8", errors="replace")
        entry = Entry(
            self.clock() - seconds,
            "api",
            f"{method} {path} → {status}",
            status < 400,
            {
                "request": cut(body.decode("utf-8", errors="replace")),
                "answer": cut(text),
                "ms": round(seconds * 1000, 1),
            },
        )
        self._add(order_of_request(path, body), entry, ("api", method, resource or "(no route)"))

    @never_raises
    def rule_matched(self, rule: str, targets: list[str]) -> None:
        """A rule of the bus matched the event being put on this thread."""
        matched = getattr(self._local, "matched", None)
        if matched is None:
            matched = self._local.matched = []
        if len(matched) < MAX_MATCHED:  # rules matched by a replay are never claimed by a put
            matched.append({"rule": rule, "targets": targets})
        with self._lock:
            self._count(("rule", rule))

    @never_raises
    def putting_event(self) -> None:
        """An entry is being put on this thread: its entry's time, before its deliveries start."""
        self._local.put_at = self.clock()

    @never_raises
    def event_put(self, entry: Mapping[str, Any], result: Mapping[str, Any]) -> None:
        """PutEvents answered one entry (``EventId``, or ``ErrorCode`` for a refused one).

        Timed when it was put (see :meth:`putting_event`): its routing, contract check and answer
        may finish after the deliveries they started, which must come after it in the timeline.
        """
        matched, self._local.matched = getattr(self._local, "matched", None) or [], []
        put_at, self._local.put_at = getattr(self._local, "put_at", None), None
        try:
            detail = json.loads(entry.get("Detail") or "null")
        except (TypeError, ValueError):
            detail = None
        source, detail_type = str(entry.get("Source")), str(entry.get("DetailType"))
        refused = result.get("ErrorCode")
        title = f"{detail_type} from {source}" + (f" refused: {refused}" if refused else " put on the bus")
        record = Entry(
            self.clock() if put_at is None else put_at,
            "event",
            title,
            not refused,
            {
                "bus": entry.get("EventBusName") or "default",
                "id": result.get("EventId"),
                "error": refused and cut(result.get("ErrorMessage", "")),
                "rules": matched,
                "detail": detail,
            },
        )
        bus = str(entry.get("EventBusName") or "default").rsplit("/", 1)[-1]
        outcome = "refused" if refused else "put"
        self._add(order_of_event({"detail": detail}), record, ("source", source, bus, outcome))

    @never_raises
    def contract_breach(self, event: Mapping[str, Any], kind: str, problems: list[str]) -> None:
        """An event put on a bus breaks its contract, or no contract describes it."""
        title = f"{event.get('detail-type')} breaks its contract" if kind == "violation" else "unknown event"
        record = Entry(self.clock(), "contract", title, False, {"problems": [cut(p, 500) for p in problems[:20]]})
        self._add(order_of_event(event), record)

    @never_raises
    def delivery_attempt(
        self,
        rule: str,
        target_arn: str,
        target: str,
        event: Mapping[str, Any],
        attempt: int,
        error: str | None,
        retry_in: float | None,
    ) -> None:
        """EventBridge tried to deliver an event to a target: delivered, or failed (retried in ``retry_in`` s)."""
        if error is None:
            title, outcome = f"{rule} → {target}: delivered (attempt {attempt + 1})", "ok"
        elif retry_in is not None:
            title = f"{rule} → {target}: attempt {attempt + 1} failed, retry in {self._delay(retry_in)}"
            outcome = "failed"
        else:
            title, outcome = f"{rule} → {target}: attempt {attempt + 1} failed, retries exhausted", "failed"
        detail = {"rule": rule, "target": target, "attempt": attempt + 1, "error": error and cut(error, 500)}
        record = Entry(self.clock(), "delivery", title, error is None, detail)
        self._add(order_of_event(event), record, ("target", rule, target_arn, outcome))

    @never_raises
    def dead_lettered(
        self, rule: str | None, target_arn: str, target: str, event: Any, queue: str, reason: str
    ) -> None:
        """An event went to a target's dead-letter queue, or (``rule`` None) a record to an on-failure destination."""
        detail = {"rule": rule, "target": target, "queue": queue, "reason": cut(reason, 500)}
        record = Entry(self.clock(), "dead-letter", f"{target} → dead-letter queue {queue}", False, detail)
        failed = ("dead-letter", rule, target_arn) if rule is not None else ("on-failure", target_arn)
        self._add(order_of_event(event), record, failed, ("dead-letter-queue", queue))

    @never_raises
    def function_run(self, function: str, event: Any, seconds: float, error: BaseException | None) -> None:
        """A function ran (from the API, a rule or Invoke): its duration, and its error if it raised."""
        title = f"λ {function} " + (f"raised {type(error).__name__}" if error else "ran")
        detail: dict[str, Any] = {"function": function, "ms": round(seconds * 1000, 1)}
        if error is not None:
            detail["error"] = cut(f"{type(error).__name__}: {error}", 500)
        record = Entry(self.clock() - seconds, "function", title, error is None, detail)
        counted = [("function", function)] + ([("function-error", function)] if error else [])
        if isinstance(event, Mapping) and isinstance(event.get("Records"), list):  # a stream batch
            self._add_each(orders_of_batch(event["Records"]), record, *counted)
            return
        order = order_of_event(event)
        if order is None and isinstance(event, Mapping) and "httpMethod" in event:
            order = order_of_request(str(event.get("path", "")), str(event.get("body") or "").encode())
        self._add(order, record, *counted)

    @never_raises
    def async_retry(self, function: str, event: Any, attempt: int, retry_in: float) -> None:
        """Lambda will retry a failed asynchronous invocation."""
        title = f"λ {function}: Lambda retries the event (retry {attempt + 1}) in {self._delay(retry_in)}"
        record = Entry(self.clock(), "retry", title, None, {"function": function, "retry": attempt + 1})
        self._add(order_of_event(event), record)

    @never_raises
    def execution_started(self, machine: str, execution_arn: str, execution_input: Any) -> None:
        """A state machine execution started (its states are read from Step Functions when shown)."""
        try:
            parsed = json.loads(execution_input) if isinstance(execution_input, str) else execution_input
        except ValueError:
            parsed = None
        order = order_of_event(parsed)
        record = Entry(self.clock(), "execution", f"execution of {machine} started", None, {"arn": execution_arn})
        self._add(order, record, ("execution", machine))
        if order is not None:
            with self._lock:
                trace = self._orders.get(order)
                if trace is not None and len(trace.executions) < MAX_EXECUTIONS:
                    trace.executions.append(execution_arn)

    @never_raises
    def item_written(self, table: str, key: Mapping[str, Any], item: Mapping[str, Any] | None) -> None:
        """A table item was written (``item``: its new version, DynamoDB-typed; ``None``: deleted)."""
        keys = plain(dict(key))
        order = next((order_key(v) for v in keys.values() if order_key(v) is not None), None)
        version = plain(dict(item)) if item is not None else None
        status = version.get("status") if isinstance(version, dict) else None
        title = f"{table}: item {'deleted' if item is None else 'written'}" + (f" (status {status})" if status else "")
        record = Entry(self.clock(), "item", title, None, {"table": table, "item": version, "status": status})
        self._add(order, record, ("table", table))

    @never_raises
    def email(self, topic: str | None, subject: str | None, message: str, to: list[str]) -> None:
        """A notification was published (and emailed to the topic's email subscriptions)."""
        record = Entry(
            self.clock(),
            "email",
            f"email: {subject or cut(message, 80)}",
            None,
            {"topic": topic, "to": to, "subject": subject, "message": cut(message)},
        )
        self._add(_order_named_in(f"{subject or ''} {message}"), record, ("email", str(topic)))

    @never_raises
    def stream_record(self, change: Any) -> None:
        """A table's stream recorded a change (a listener of ``sandbox.delivery.stream.TableStreams``)."""
        record = change.record
        data = record.get("dynamodb", {})
        image = plain(dict(data.get("NewImage") or {}))
        status = image.get("status") if isinstance(image, dict) else None
        table = str(change.stream_arn).split("/")[1] if "/" in str(change.stream_arn) else str(change.stream_arn)
        title = f"{table} stream: {record.get('eventName')} record {data.get('SequenceNumber')}"
        detail = {"sequence": data.get("SequenceNumber"), "event": record.get("eventName"), "new_status": status}
        self._add(order_of_record(record), Entry(self.clock(), "stream", title, None, detail), ("stream", table))

    @never_raises
    def stream_batch(
        self,
        function: str,
        records: list[dict[str, Any]],
        attempt: int,
        outcome: str,
        error: str | None,
        wait: float,
        processed: int,
    ) -> None:
        """The stream mapping invoked ``function`` with a batch: done, bisected, retried or exhausted."""
        batch = f"batch of {len(records)} (records {_sequences(records)})"
        titles = {
            "done": f"{function}: {batch} processed (attempt {attempt})",
            "bisected": f"{function}: {batch} failed, bisected into halves",
            "retry": f"{function}: {batch} failed (attempt {attempt}), retry in {self._delay(wait)}",
            "exhausted": f"{function}: {batch} failed (attempt {attempt}), retries exhausted",
        }
        detail: dict[str, Any] = {"function": function, "attempt": attempt, "outcome": outcome, "records": len(records)}
        detail["error"], detail["processed"] = error and cut(error, 500), processed
        entry = Entry(
            self.clock(), "batch", titles.get(outcome, f"{function}: {batch} {outcome}"), outcome == "done", detail
        )
        self._add_each(orders_of_batch(records), entry, ("mapping", function, "ok" if outcome == "done" else "failed"))
        with self._lock:
            for _ in range(min(processed, len(records))):
                self._count(("mapping-records", function))

    @never_raises
    def stream_given_up(
        self, function: str, records: list[dict[str, Any]], condition: str, attempts: int, queue: str | None
    ) -> None:
        """A stream batch was given up: its description went to the on-failure queue (or nowhere)."""
        where = f"on-failure queue {queue}" if queue else "dropped (no on-failure destination)"
        title = f"{function}: records {_sequences(records)} → {where} ({condition})"
        detail = {"function": function, "queue": queue, "reason": f"{condition} after {attempts} attempts"}
        counted = [("stream-failure", function)] + ([("dead-letter-queue", queue)] if queue else [])
        self._add_each(orders_of_batch(records), Entry(self.clock(), "dead-letter", title, False, detail), *counted)

    def _delay(self, sandbox_seconds: float) -> str:
        aws = sandbox_seconds / max(self.delay_scale, 1e-9)
        return f"{aws:g} s on AWS ({sandbox_seconds * 1000:.0f} ms here)"


def _order_named_in(text: str) -> str | None:
    """The order a notification names ("Order 101 created", "Payment for order 101 ..."): the number after 'order'."""
    words = text.replace(":", " ").split()
    for before, word in itertools.pairwise(words):
        if before.lower() == "order" and order_key(word) is not None:
            return order_key(word)
    return None
