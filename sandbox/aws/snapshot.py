"""The state of moto's backends right after a deploy, kept to put them back in a few milliseconds.

:meth:`Sandbox.reset <sandbox.runtime.Sandbox.reset>` brings the services that orders change
(tables, queues, log groups, executions, the bus) back to the state right after ``start``. Resetting
each backend and deploying those resources again through the endpoint took ~45 API calls and about
0.4 s; a test suite that shares one sandbox resets it dozens of times. A snapshot is taken once,
after the deploy, and each reset restores a fresh copy of it into the same backend objects (so
every reference to a backend stays valid), which is the same state by construction.

Copying moto's objects needs two exceptions to a plain ``copy.deepcopy``:

- **synchronisation objects** (an SQS queue's ``Condition``, locks): a copy gets a new, free one of
  the same type; nobody can be waiting on a snapshot;
- **objects of other services** (the Lambda event source mapping a DynamoDB table lists): shared,
  not copied, since they belong to a backend that the reset leaves alone, and a copy would be a
  second, diverging object with the same ARN.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from moto.core.base_backend import BaseBackend

#: Types a copy replaces with a new instance instead of copying, and how one is made.
_SYNC_TYPES: dict[type, Callable[[], Any]] = {
    type(threading.Lock()): threading.Lock,
    type(threading.RLock()): threading.RLock,
    threading.Condition: threading.Condition,
    threading.Event: threading.Event,
    threading.Semaphore: threading.Semaphore,
}


def _service(obj: object) -> str | None:
    """The moto service package an object's type comes from (``moto.sqs.models`` -> ``sqs``)."""
    parts = type(obj).__module__.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "moto" else None


def _children(obj: Any) -> Iterator[Any]:
    if isinstance(obj, dict):
        yield from obj.keys()
        yield from obj.values()
    elif isinstance(obj, (list, tuple, set, frozenset)):
        yield from obj
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        yield from vars(obj).values()


def _memo(root: Any, owner: str | None) -> dict[int, Any]:
    """A deepcopy memo: fresh synchronisation objects, and other services' objects kept as they are.

    A backend (this one or another) referenced from inside is kept too: it is the live object.
    """
    memo: dict[int, Any] = {}
    seen: set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        make = _SYNC_TYPES.get(type(obj))
        if make is not None:
            memo[id(obj)] = make()
            continue
        if isinstance(obj, BaseBackend):
            memo[id(obj)] = obj
            continue
        service = _service(obj)
        if service is not None and owner is not None and service not in (owner, "core", "utilities"):
            memo[id(obj)] = obj
            continue
        stack.extend(_children(obj))
    return memo


def fresh_copy(state: dict[str, Any], owner: str | None) -> dict[str, Any]:
    """A deep copy of a backend's ``__dict__`` whose objects nothing else holds (see the module doc)."""
    return copy.deepcopy(state, _memo(state, owner))


class BackendSnapshot:
    """The ``__dict__`` of every regional backend of some moto services, as it is when taken."""

    def __init__(self, services: Iterable[Any]) -> None:
        """Snapshot every account's and region's backend of each of ``services`` (moto ``BackendDict``s)."""
        self._services = tuple(services)
        self._states: dict[int, tuple[Any, dict[str, Any]]] = {}
        for backend in self._backends():
            owner = _service(backend)
            self._states[id(backend)] = (backend, fresh_copy(vars(backend), owner))

    def _backends(self) -> Iterator[Any]:
        for service in self._services:
            for regional in list(service.values()):
                yield from list(regional.values())

    def restore(self) -> None:
        """Put every snapshotted backend back as it was; a backend made since is reset (it was empty)."""
        for backend in self._backends():
            taken = self._states.get(id(backend))
            if taken is None or taken[0] is not backend:
                backend.reset()
                continue
            state = fresh_copy(taken[1], _service(backend))
            vars(backend).clear()
            vars(backend).update(state)
