"""Faults a user injects from the console: for N attempts or for a time, off when the sandbox starts.

Three kinds, each at the sandbox seam where AWS itself would fail:

- ``lambda``: the named function raises before its handler runs, however it is invoked (a rule
  target, ``Invoke``, the API), so Lambda's asynchronous retries and on-failure destination follow;
- ``put_events``: the bus refuses PutEvents entries (``InternalFailure``, as EventBridge answers per
  entry), whoever puts them (a handler, the state machine, a pipe, a user);
- ``start_execution``: EventBridge's StartExecution call to the state machine fails
  (``ExecutionLimitExceeded``), so the rule target's retry policy and dead-letter queue follow.

A fault counts each failure it causes; one given ``attempts`` goes off after that many, one given
``seconds`` after that time. :class:`FaultBoard` installs itself in the sandbox's seams
(``functions.faults``, ``dispatcher.put_events_fault``, ``dispatcher.target_faults``) and takes
itself out again when its last fault ends.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.delivery.rules import DeliveryError

KINDS = ("lambda", "put_events", "start_execution")
#: The longest a fault may last, and the most attempts it may fail: an hour, a million.
MAX_SECONDS = 3600.0
MAX_ATTEMPTS = 1_000_000
#: Faults on at once (each one a seam entry; a page cannot pile up more).
MAX_FAULTS = 50
PUT_EVENTS_ERROR = "InternalFailure"
START_EXECUTION_ERROR = "ExecutionLimitExceeded"


class FaultError(ValueError):
    """A fault request the console refuses (answered 400 with this message)."""


class InjectedFaultError(RuntimeError):
    """What a function under a ``lambda`` fault raises."""


@dataclass
class Fault:
    """One fault: what fails, for how long, and how often it failed so far."""

    id: int
    kind: str
    #: The physical name of the function, the bus or the state machine (its ARN for a state machine).
    target: str
    label: str
    attempts: int | None
    until: float | None
    failures: int = 0

    def active(self, now: float) -> bool:
        """Whether the fault still fails what it targets."""
        if self.attempts is not None and self.failures >= self.attempts:
            return False
        return self.until is None or now < self.until

    def as_json(self, now: float) -> dict[str, Any]:
        """The fault as the console shows it."""
        return {
            "id": self.id,
            "kind": self.kind,
            "target": self.label,
            "failures": self.failures,
            "attempts_left": None if self.attempts is None else max(0, self.attempts - self.failures),
            "seconds_left": None if self.until is None else round(max(0.0, self.until - now), 1),
        }


def fault_limits(attempts: Any, seconds: Any) -> tuple[int | None, float | None]:
    """``(attempts, seconds)`` of a fault request: exactly one of them, in bounds (else :class:`FaultError`)."""
    if (attempts is None) == (seconds is None):
        raise FaultError("give exactly one of 'attempts' (a count) or 'seconds' (a duration)")
    if attempts is not None:
        if isinstance(attempts, bool) or not isinstance(attempts, int) or not 1 <= attempts <= MAX_ATTEMPTS:
            raise FaultError(f"'attempts' must be an integer from 1 to {MAX_ATTEMPTS}")
        return attempts, None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 < seconds <= MAX_SECONDS:
        raise FaultError(f"'seconds' must be a number above 0 and at most {MAX_SECONDS:g}")
    return None, float(seconds)


class FaultBoard:
    """The faults on now, wired into one sandbox's seams (see the module docstring)."""

    def __init__(self, functions: Any, dispatcher: Any, targets: dict[str, dict[str, str]]) -> None:
        """Faults on ``functions`` (a FunctionRuntime) and ``dispatcher``; ``targets``: kind -> {name: physical}."""
        self.functions = functions
        self.dispatcher = dispatcher
        #: What each kind can target: every accepted name (logical or physical) -> the physical one.
        self.targets = targets
        self._faults: dict[int, Fault] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.clock: Callable[[], float] = time.monotonic
        #: Called after any change (a fault on, off, or failing once): the console's version bump.
        self.on_change: Callable[[], None] = lambda: None

    def add(self, kind: Any, target: Any, attempts: Any = None, seconds: Any = None) -> Fault:
        """Turn one fault on (:class:`FaultError` for a request that names nothing the program has)."""
        if kind not in KINDS:
            raise FaultError(f"'kind' must be one of {', '.join(KINDS)}")
        names = self.targets.get(kind, {})
        if kind == "put_events" and target is None:
            target = "*"
        if not isinstance(target, str) or (target not in names and target != "*"):
            raise FaultError(f"'target' for {kind} must be one of {', '.join(sorted(names)) or '(none)'}")
        limit, duration = fault_limits(attempts, seconds)
        with self._lock:
            if len(self._faults) >= MAX_FAULTS:
                raise FaultError(f"at most {MAX_FAULTS} faults at once: clear some first")
            now = self.clock()
            fault = Fault(
                next(self._ids),
                kind,
                names.get(target, "*"),
                target,
                limit,
                None if duration is None else now + duration,
            )
            self._faults[fault.id] = fault
            self._wire(fault)
        self.on_change()
        return fault

    def _wire(self, fault: Fault) -> None:
        """Put the fault's check into its seam (lock held)."""
        if fault.kind == "lambda":
            self.functions.faults[fault.target] = self._function_check(fault.target)
        elif fault.kind == "put_events":
            self.dispatcher.put_events_fault = self._put_events_check
        else:
            self.dispatcher.target_faults[fault.target] = self._start_check(fault.target)

    def _unwire_idle(self) -> None:
        """Take the checks out of seams no active fault needs any more (lock held)."""
        now = self.clock()
        for fault_id, fault in list(self._faults.items()):
            if not fault.active(now):
                del self._faults[fault_id]
        live = {(f.kind, f.target) for f in self._faults.values()}
        for name in [n for n in self.functions.faults if ("lambda", n) not in live]:
            if _ours(self.functions.faults[name]):
                del self.functions.faults[name]
        ours = self.dispatcher.put_events_fault == self._put_events_check
        if ours and not any(kind == "put_events" for kind, _ in live):
            self.dispatcher.put_events_fault = None
        for arn in [a for a in self.dispatcher.target_faults if ("start_execution", a) not in live]:
            if _ours(self.dispatcher.target_faults[arn]):
                del self.dispatcher.target_faults[arn]

    def _fire(self, kind: str, target: str, also_any: bool = False) -> Fault | None:
        """The active fault on ``target`` that fails this attempt (counted), if any."""
        with self._lock:
            now = self.clock()
            fault = next(
                (
                    f
                    for f in self._faults.values()
                    if f.kind == kind and (f.target == target or (also_any and f.target == "*")) and f.active(now)
                ),
                None,
            )
            if fault is not None:
                fault.failures += 1
            self._unwire_idle()
        if fault is not None:
            self.on_change()
        return fault

    def _function_check(self, name: str) -> Callable[[Any], None]:
        def check(event: Any) -> None:
            fault = self._fire("lambda", name)
            if fault is not None:
                raise InjectedFaultError(f"injected by the sandbox console (fault {fault.id}): {name} raises")

        check.console_fault = True  # pyrefly: ignore[missing-attribute]
        return check

    def _put_events_check(self, entry: dict[str, Any]) -> str | None:
        bus = str(entry.get("EventBusName") or "default").rsplit("/", 1)[-1]
        return PUT_EVENTS_ERROR if self._fire("put_events", bus, also_any=True) is not None else None

    def _start_check(self, arn: str) -> Callable[[Any], None]:
        def check(event: Any) -> None:
            fault = self._fire("start_execution", arn)
            if fault is not None:
                raise DeliveryError(
                    START_EXECUTION_ERROR, f"injected by the sandbox console (fault {fault.id}): StartExecution refused"
                )

        check.console_fault = True  # pyrefly: ignore[missing-attribute]
        return check

    def clear(self, fault_id: int | None = None) -> int:
        """Turn one fault off (or all of them); how many were turned off."""
        with self._lock:
            ids = list(self._faults) if fault_id is None else [fault_id] if fault_id in self._faults else []
            for each in ids:
                self._faults[each].until = self.clock() - 1
            self._unwire_idle()
        self.on_change()
        return len(ids)

    def active(self) -> list[dict[str, Any]]:
        """The faults on now."""
        with self._lock:
            self._unwire_idle()
            now = self.clock()
            return [f.as_json(now) for f in self._faults.values()]


def _ours(check: Any) -> bool:
    return bool(getattr(check, "console_fault", False))
