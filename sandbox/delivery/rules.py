"""Deliver rule targets the way EventBridge and Lambda do: asynchronously, at least once.

Events are matched to rules by the project's matcher (:mod:`sandbox.delivery.event_patterns`, installed in
place of moto's by :mod:`sandbox.aws.emulation`); moto writes log-group, SQS and archive targets
itself; for Lambda and Step Functions targets (which moto cannot invoke) the rule hands the event
to :class:`Dispatcher`. Delivery honours each target's retry policy and dead-letter queue as the
program declares them; a Lambda target is then invoked asynchronously with Lambda's own retries
and its on-failure destination. Back-off delays are the real ones scaled down
(``delay_scale``) so a sandbox run takes seconds, not hours.
"""

from __future__ import annotations

import copy
import heapq
import itertools
import json
import logging
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from moto.events.models import EventsBackend, Rule
from moto.sqs.models import sqs_backends
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

from sandbox.delivery.contracts import ContractLog, event_of_entry
from sandbox.functions.runtime import FunctionRuntime

log = logging.getLogger("sandbox.delivery")
ARCHIVE_RULE_PREFIX = "Events-Archive-"
#: EventBridge's first retry comes after about a second and backs off exponentially.
FIRST_RETRY_SECONDS = 1.0
#: Lambda retries a failed asynchronous invocation after about one minute, then two.
LAMBDA_RETRY_SECONDS = 60.0
#: Target settings that replace the event with something else (EventBridge's PutTargets).
INPUT_SETTINGS = frozenset({"Input", "InputPath", "InputTransformer"})


class Scheduler:
    """Daemon worker threads running tasks when they are due (a retry waits without holding a worker).

    Daemon threads, so a sandbox being stopped never waits for a retry that is hours away in
    real time, or for a handler still talking to an endpoint that is gone.
    """

    def __init__(self, workers: int, name: str) -> None:
        """Start ``workers`` threads."""
        self._due: list[tuple[float, int, Callable[[], None]]] = []
        self._cond = threading.Condition()
        self._sequence = itertools.count()
        self._stopped = False
        for index in range(workers):
            threading.Thread(target=self._work, name=f"{name}-{index}", daemon=True).start()

    def submit(self, task: Callable[[], None], delay: float = 0.0) -> None:
        """Run ``task`` on a worker, ``delay`` seconds from now."""
        with self._cond:
            heapq.heappush(self._due, (time.monotonic() + delay, next(self._sequence), task))
            self._cond.notify()

    def shutdown(self) -> None:
        """Drop what is not started; running tasks end on their own (their threads are daemons)."""
        with self._cond:
            self._stopped = True
            self._due.clear()
            self._cond.notify_all()

    def _work(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopped:
                        return
                    now = time.monotonic()
                    if self._due and self._due[0][0] <= now:
                        _, _, task = heapq.heappop(self._due)
                        break
                    self._cond.wait(self._due[0][0] - now if self._due else None)
            task()


class DeliveryError(Exception):
    """A target could not be reached (EventBridge retries this, then dead-letters)."""

    def __init__(self, code: str, message: str) -> None:
        """An error with EventBridge's error code."""
        super().__init__(message)
        self.code = code


@dataclass
class Delivery:
    """One event on its way to one target of one rule."""

    rule_arn: str
    rule_name: str
    target: dict[str, Any]
    event: dict[str, Any]
    first_attempt: float


def _delivered(event: dict[str, Any]) -> dict[str, Any]:
    """The event as a target receives it: without moto's bookkeeping field."""
    return {key: value for key, value in event.items() if key != "ingestion-time"}


def _iso_time(event: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(event)
    out.pop("ingestion-time", None)
    if isinstance(out.get("time"), (int, float)):
        out["time"] = datetime.fromtimestamp(out["time"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


def _detail_is_an_object(entry: dict[str, Any]) -> bool:
    """Whether a PutEvents entry's Detail is what EventBridge accepts: absent, or a JSON object."""
    detail = entry.get("Detail")
    if detail is None:
        return True  # a missing Detail is moto's (and EventBridge's) own InvalidArgument to give
    try:
        return isinstance(json.loads(detail), dict)
    except (TypeError, ValueError):
        return False


class DeliveryObserver(Protocol):
    """What the dispatcher tells an observer (the console's recorder): defined here, as it reads it."""

    def putting_event(self) -> None:
        """An entry is about to be routed on this thread: the moment it is put on the bus."""

    def event_put(self, entry: Mapping[str, Any], result: Mapping[str, Any]) -> None:
        """PutEvents answered one entry: its ``EventId``, or its ``ErrorCode``."""

    def rule_matched(self, rule: str, targets: list[str]) -> None:
        """A rule matched the event being put on this thread."""

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
        """One delivery attempt: delivered (``error`` None) or failed (retried in ``retry_in`` s, or not)."""

    def dead_lettered(
        self, rule: str | None, target_arn: str, target: str, event: Any, queue: str, reason: str
    ) -> None:
        """An event went to a dead-letter queue, or (``rule`` None) a record to an on-failure destination."""

    def async_retry(self, function: str, event: Any, attempt: int, retry_in: float) -> None:
        """Lambda will retry a failed asynchronous invocation in ``retry_in`` s."""


class Dispatcher:
    """Delivers events to Lambda and Step Functions targets, with retries and dead-letter queues."""

    #: The console's recorder while it runs: told of every event put, rule matched, attempt and dead letter.
    observer: DeliveryObserver | None = None

    def __init__(
        self,
        functions: FunctionRuntime,
        account_id: str,
        region: str,
        *,
        delay_scale: float = 0.01,
        workers: int = 8,
        on_trace: Callable[[str], None] | None = None,
        describe_target: Callable[[str], str] | None = None,
        contracts: ContractLog | None = None,
    ) -> None:
        """A dispatcher invoking ``functions``; ``delay_scale`` shrinks every back-off delay."""
        self.functions = functions
        self.account_id = account_id
        self.region = region
        self.delay_scale = delay_scale
        self.on_trace = on_trace or (lambda line: None)
        #: Names a target in trace lines (default: its ARN's last part).
        self.describe_target = describe_target or (lambda arn: arn.split(":")[-1])
        #: Checks every event put on a bus against its contract (None: no check).
        self.contracts = contracts
        self._workers = Scheduler(workers, "delivery")
        self._pending = 0
        self._cond = threading.Condition()
        self._local = threading.local()
        #: Test seam: ``{target ARN: callable(event) -> None}``, raising DeliveryError to refuse.
        self.target_faults: dict[str, Callable[[dict[str, Any]], None]] = {}
        #: Test seam: callable(entry) -> error code or None, consulted for every PutEvents entry.
        self.put_events_fault: Callable[[dict[str, Any]], str | None] | None = None
        self._original_send: Any = None
        self._original_put_events: Any = None

    # --- moto hooks ---------------------------------------------------------------------------
    def install(self) -> None:
        """Route moto's rule targets through this dispatcher (undone by :meth:`uninstall`)."""
        self._original_send = Rule.send_to_targets
        self._original_put_events = EventsBackend.put_events
        dispatcher = self

        def send_to_targets(rule: Rule, event: dict[str, Any], transform_input: bool = True) -> None:
            dispatcher._route(rule, event, transform_input)

        def put_events(backend: EventsBackend, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return dispatcher._put_events(backend, events)

        Rule.send_to_targets = send_to_targets  # pyrefly: ignore[bad-assignment]
        EventsBackend.put_events = put_events  # pyrefly: ignore[bad-assignment]

    def uninstall(self) -> None:
        """Give moto its own behaviour back and stop the workers."""
        if self._original_send is not None:
            Rule.send_to_targets = self._original_send
            EventsBackend.put_events = self._original_put_events
        self._workers.shutdown()

    def _put_events(self, backend: EventsBackend, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        accepted: list[dict[str, Any]] = []
        results: list[dict[str, Any] | None] = []
        for entry in events:
            code = self.put_events_fault(entry) if self.put_events_fault else None
            if code:
                refusal = {"ErrorCode": code, "ErrorMessage": "injected by the sandbox"}
                results.append(refusal)
                if self.observer is not None:
                    self.observer.event_put(entry, refusal)
                continue
            if not _detail_is_an_object(entry):
                # EventBridge takes only a JSON object as Detail (moto takes any JSON and warns).
                results.append({"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."})
                continue
            accepted.append(entry)
            results.append(None)
        entries: list[dict[str, Any]] = []
        for entry in accepted:
            self._local.matched = []
            if self.observer is not None:
                self.observer.putting_event()
            outcome = self._original_put_events(backend, [entry])[0]
            entries.append(outcome)
            if "EventId" in outcome:
                note = ""
                if self.contracts is not None:
                    event = event_of_entry(entry, outcome["EventId"], backend.account_id, backend.region_name)
                    note = self.contracts.record(event)
                self._trace(entry, self._local.matched, note)
            if self.observer is not None:
                self.observer.event_put(entry, outcome)
        it = iter(entries)
        return [r if r is not None else next(it) for r in results]

    def _trace(self, entry: dict[str, Any], targets: list[str], note: str = "") -> None:
        try:
            detail = json.loads(entry.get("Detail") or "{}")
        except ValueError:
            detail = {}
        order = detail.get("id", "?") if isinstance(detail, dict) else "?"
        receivers = ", ".join(targets) if targets else "no rule matched"
        self.on_trace(f"{entry.get('DetailType')} from {entry.get('Source')} (order {order}) -> {receivers}{note}")

    def _route(self, rule: Rule, event: dict[str, Any], transform_input: bool) -> None:
        # moto hands an event to every rule of the bus; EventBridge skips disabled ones.
        if rule.state == "DISABLED" or not rule.event_pattern.matches_event(event):  # pyrefly: ignore[bad-argument-type]
            return
        if not rule.name.startswith(ARCHIVE_RULE_PREFIX):
            getattr(self._local, "matched", []).extend(self.describe_target(t["Arn"]) for t in rule.targets)
            if self.observer is not None:
                self.observer.rule_matched(rule.name, [self.describe_target(t["Arn"]) for t in rule.targets])
        native: list[dict[str, Any]] = []
        ours: list[dict[str, Any]] = []
        for target in rule.targets:
            service = target["Arn"].split(":")[2]
            (ours if service in ("lambda", "states") else native).append(target)
        # A target with no input configuration receives the whole event, as EventBridge sends it
        # (replay-name and account included); moto would render it through its own template.
        configured = [t for t in native if set(t) & INPUT_SETTINGS]
        plain = [t for t in native if not set(t) & INPUT_SETTINGS]
        for targets, form, transform in ((configured, event, transform_input), (plain, _delivered(event), False)):
            if targets:
                shallow = copy.copy(rule)
                shallow.targets = targets
                self._original_send(shallow, form, transform)
        for target in ours:
            self.submit(Delivery(rule.arn, rule.name, target, _iso_time(event), time.monotonic()))

    # --- delivery -----------------------------------------------------------------------------
    def submit(self, delivery: Delivery, delay: float = 0.0) -> None:
        """Queue one delivery attempt after ``delay`` seconds."""
        with self._cond:
            self._pending += 1
        self._workers.submit(lambda: self._attempt(delivery, 0), delay)

    def _done(self) -> None:
        with self._cond:
            self._pending -= 1
            self._cond.notify_all()

    @property
    def pending(self) -> int:
        """Deliveries and invocations not finished yet (retries included)."""
        with self._cond:
            return self._pending

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is pending, or ``timeout`` seconds pass."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def _attempt(self, delivery: Delivery, attempt: int) -> None:
        try:
            policy = delivery.target.get("RetryPolicy") or {}
            max_retries = int(policy.get("MaximumRetryAttempts", 185))
            max_age = float(policy.get("MaximumEventAgeInSeconds", 86400))
            try:
                try:
                    self._deliver(delivery)
                except DeliveryError:
                    raise
                except Exception as unexpected:  # whatever else goes wrong is a failed delivery too
                    raise DeliveryError("InternalFailure", str(unexpected)) from unexpected
                self._observe_attempt(delivery, attempt, None, None)
                return
            except DeliveryError as error:
                age = (time.monotonic() - delivery.first_attempt) / max(self.delay_scale, 1e-9)
                if attempt < max_retries and age < max_age:
                    wait = FIRST_RETRY_SECONDS * (2**attempt) * self.delay_scale
                    self._observe_attempt(delivery, attempt, error, wait)
                    log.info("retrying %s for rule %s (%s)", delivery.target["Arn"], delivery.rule_name, error)
                    with self._cond:
                        self._pending += 1
                    self._workers.submit(lambda: self._attempt(delivery, attempt + 1), wait)
                    return
                self._observe_attempt(delivery, attempt, error, None)
                self._dead_letter(delivery, error.code, str(error))
        except Exception:  # a bug of the sandbox itself must not kill the worker silently
            log.exception("sandbox delivery failed")
        finally:
            self._done()

    def _observe_attempt(
        self, delivery: Delivery, attempt: int, error: DeliveryError | None, wait: float | None
    ) -> None:
        if self.observer is not None:
            arn = delivery.target["Arn"]
            failure = None if error is None else f"{error.code}: {error}"
            self.observer.delivery_attempt(
                delivery.rule_name, arn, self.describe_target(arn), delivery.event, attempt, failure, wait
            )

    def _deliver(self, delivery: Delivery) -> None:
        arn = delivery.target["Arn"]
        fault = self.target_faults.get(arn)
        if fault is not None:
            fault(delivery.event)
        service = arn.split(":")[2]
        if service == "lambda":
            if arn not in self.functions.functions:
                raise DeliveryError("ResourceNotFoundException", f"Function not found: {arn}")
            # Lambda accepted the asynchronous invocation: EventBridge's part is done.
            with self._cond:
                self._pending += 1
            accepted = time.monotonic()
            self._workers.submit(lambda: self._invoke_async(arn, delivery.event, 0, accepted))
        elif service == "states":
            backend = stepfunctions_parser_backends[self.account_id][self.region]
            try:
                backend.start_execution(arn, name=str(uuid.uuid4()), execution_input=json.dumps(delivery.event))
            except Exception as error:  # moto raises its own StateMachineDoesNotExist etc.
                raise DeliveryError(type(error).__name__, str(error)) from error
        else:
            raise DeliveryError("UnsupportedTarget", f"the sandbox cannot deliver to {arn}")

    def _dead_letter(self, delivery: Delivery, code: str, message: str) -> None:
        dlq = (delivery.target.get("DeadLetterConfig") or {}).get("Arn")
        if not dlq:
            log.error("event %s for %s dropped after retries: no dead-letter queue", delivery.event["id"], code)
            return
        attributes = {
            "RULE_ARN": delivery.rule_arn,
            "TARGET_ARN": delivery.target["Arn"],
            "ERROR_CODE": code,
            "ERROR_MESSAGE": message[:256],
        }
        self._send_to_queue(dlq, json.dumps(delivery.event), attributes)
        if self.observer is not None:
            arn = delivery.target["Arn"]
            reason = f"{code}: {message}"
            self.observer.dead_lettered(
                delivery.rule_name, arn, self.describe_target(arn), delivery.event, dlq.split(":")[-1], reason
            )
        self.on_trace(
            f"{delivery.event.get('detail-type')} (order {delivery.event.get('detail', {}).get('id', '?')}) "
            f"-> dead-letter queue of {delivery.rule_name}: {code}"
        )

    def _send_to_queue(self, queue_arn: str, body: str, attributes: dict[str, str]) -> None:
        name = queue_arn.split(":")[-1]
        backend = sqs_backends[self.account_id][self.region]
        backend.send_message(
            name,
            body,
            message_attributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        )

    # --- Lambda asynchronous invocation ----------------------------------------------------
    def invoke_async(self, arn: str, event: Any) -> None:
        """Queue an asynchronous invocation (``Invoke`` with ``InvocationType=Event``).

        The function's asynchronous retries, maximum event age and on-failure destination apply,
        as for a rule target.
        """
        with self._cond:
            self._pending += 1
        received = time.monotonic()
        self._workers.submit(lambda: self._invoke_async(arn, event, 0, received))

    def _invoke_async(
        self, arn: str, event: Any, attempt: int, received: float, last_error: Exception | None = None
    ) -> None:
        try:
            fn = self.functions.functions[arn]
            age = (time.monotonic() - received) / max(self.delay_scale, 1e-9)
            if last_error is not None and age > fn.async_max_age_seconds:
                # Lambda discards an event older than MaximumEventAgeInSeconds instead of retrying it.
                self._on_failure(fn.name, fn.arn, fn.on_failure_arn, event, last_error, attempt, "EventAgeExceeded")
                return
            try:
                self.functions.invoke(arn, event)
                return
            except Exception as error:
                if attempt < fn.async_retries:
                    log.warning("%s failed (%s); Lambda retries it", fn.name, error)
                    with self._cond:
                        self._pending += 1
                    wait = LAMBDA_RETRY_SECONDS * (attempt + 1) * self.delay_scale
                    if self.observer is not None:
                        self.observer.async_retry(fn.name, event, attempt, wait)
                    failed = error
                    self._workers.submit(lambda: self._invoke_async(arn, event, attempt + 1, received, failed), wait)
                    return
                self._on_failure(fn.name, fn.arn, fn.on_failure_arn, event, error, attempt + 1, "RetriesExhausted")
        except Exception:
            log.exception("sandbox invocation failed")
        finally:
            self._done()

    def _on_failure(
        self, name: str, arn: str, destination: str | None, event: Any, error: Exception, count: int, condition: str
    ) -> None:
        # An event from a rule is a dict; a payload of ``Invoke`` (Event) may be any JSON value.
        envelope: dict[str, Any] = event if isinstance(event, dict) else {}
        detail: dict[str, Any] = envelope["detail"] if isinstance(envelope.get("detail"), dict) else {}
        if destination is None:
            log.error(
                "%s failed %d times (%s); no on-failure destination: event %s lost",
                name,
                count,
                condition,
                envelope.get("id"),
            )
            return
        record = {
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": f"{arn}:$LATEST",
                "condition": condition,
                "approximateInvokeCount": count,
            },
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {
                "errorMessage": str(error),
                "errorType": type(error).__name__,
                "stackTrace": traceback.format_exception(error)[-3:],
            },
        }
        self._send_to_queue(destination, json.dumps(record, default=str), {})
        if self.observer is not None:
            reason = f"{condition} after {count} attempts: {error}"
            self.observer.dead_lettered(None, arn, f"λ {name}", event, destination.split(":")[-1], reason)
        self.on_trace(
            f"{envelope.get('detail-type', 'Invoke')} (order {detail.get('id', '?')}) "
            f"-> on-failure destination of {name} after {count} attempts ({condition}): {error}"
        )
