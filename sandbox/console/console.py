"""The console of one running sandbox: its recorder wired into the sandbox's parts, its faults, its server.

:class:`Console` sets the ``observer`` of the API, the dispatcher, the stream mappings, the
function runtime, the emulation and the contract log to its
:class:`~sandbox.console.recorder.Recorder`, listens to the tables' streams, taps the table
writes (every item version of every table, whoever writes it: a handler, a pipe, the AWS CLI), and
serves the page. :meth:`Console.stop` undoes all of it, so a sandbox without a console runs exactly
the code it ran before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

from sandbox.console.defaults import DEFAULT_ORDERS, DEFAULT_PORT
from sandbox.console.faults import FaultBoard
from sandbox.console.recorder import Recorder
from sandbox.console.server import ConsoleServer, ObservedSandbox
from sandbox.program.evaluation import Program

#: What each fault kind targets: the resource type, and the attribute the sandbox's seam knows it by.
FAULT_TARGET_TYPES = {
    "lambda": ("aws:lambda/function:Function", "name"),
    "put_events": ("aws:cloudwatch/eventBus:EventBus", "name"),
    "start_execution": ("aws:sfn/stateMachine:StateMachine", "arn"),
}


def fault_targets(program: Program) -> dict[str, dict[str, str]]:
    """What each fault kind can target, by logical and physical name, mapped to what its seam knows."""
    targets: dict[str, dict[str, str]] = {}
    for kind, (type_, key) in FAULT_TARGET_TYPES.items():
        names = targets[kind] = {}
        for res in program.of_type(type_):
            names[res.name] = names[res["name"]] = res[key]
    return targets


def fault_choices(program: Program) -> dict[str, list[str]]:
    """The names the page offers per fault kind: the program's logical names (``*``: any bus)."""
    choices = {kind: sorted(r.name for r in program.of_type(type_)) for kind, (type_, _) in FAULT_TARGET_TYPES.items()}
    choices["put_events"].insert(0, "*")
    return choices


class _TableTap:
    """Reports every table write to the recorder: ``Table.put_item``/``delete_item`` and ``UpdateItem``."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self._originals: list[tuple[type, str, Any]] = []
        self._updating = threading.local()

    def install(self) -> None:
        tap = self
        put, delete, update = Table.put_item, Table.delete_item, DynamoDBBackend.update_item

        def put_item(table: Table, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
            item = put(table, item_attrs, *args, **kwargs)
            if not getattr(tap._updating, "active", False):  # UpdateItem reports its final version itself
                tap.report(table, item_attrs, item)
            return item

        def delete_item(table: Table, *args: Any, **kwargs: Any) -> Any:
            item = delete(table, *args, **kwargs)
            if item is not None:
                tap.recorder.item_written(table.name, _key_of(table, item.to_json()["Attributes"]), None)
            return item

        def update_item(backend: DynamoDBBackend, table_name: str, key: dict[str, Any], *args: Any, **kw: Any) -> Any:
            tap._updating.active = True
            try:
                item = update(backend, table_name, key, *args, **kw)
            finally:
                tap._updating.active = False
            tap.recorder.item_written(table_name, key, item.to_json()["Attributes"])
            return item

        self._patch(Table, "put_item", put_item)
        self._patch(Table, "delete_item", delete_item)
        self._patch(DynamoDBBackend, "update_item", update_item)

    def report(self, table: Table, item_attrs: dict[str, Any], item: Any) -> None:
        attributes = item.to_json()["Attributes"] if item is not None else item_attrs
        self.recorder.item_written(table.name, _key_of(table, attributes), attributes)

    def _patch(self, owner: type, name: str, replacement: Callable[..., Any]) -> None:
        self._originals.append((owner, name, owner.__dict__[name]))
        setattr(owner, name, replacement)

    def uninstall(self) -> None:
        while self._originals:
            owner, name, original = self._originals.pop()
            setattr(owner, name, original)


def _key_of(table: Table, attributes: dict[str, Any]) -> dict[str, Any]:
    names = [table.hash_key_attr, *([table.range_key_attr] if table.range_key_attr else [])]
    return {name: attributes[name] for name in names if name in attributes}


class Console:
    """The console of ``sandbox`` on ``host:port`` (0: any free port), keeping the last ``max_orders`` orders."""

    def __init__(
        self, sandbox: ObservedSandbox, host: str, port: int = DEFAULT_PORT, max_orders: int = DEFAULT_ORDERS
    ) -> None:
        """Prepare the console (nothing is wired or served before :meth:`start`)."""
        self.sandbox = sandbox
        self.recorder = Recorder(max_orders)
        self.recorder.delay_scale = sandbox.delay_scale
        self.faults = FaultBoard(sandbox.functions, sandbox.dispatcher, fault_targets(sandbox.program))
        self.fault_choices = fault_choices(sandbox.program)
        self.faults.on_change = self._changed
        self._tap = _TableTap(self.recorder)
        self.server = ConsoleServer(self, host, port)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The page's address."""
        return self.server.url

    def _changed(self) -> None:
        with self.recorder._lock:
            self.recorder.version += 1

    def _observed(self) -> list[Any]:
        sandbox = self.sandbox
        parts = [
            sandbox.functions,
            sandbox.dispatcher,
            sandbox.mappings,
            sandbox.contracts,
            sandbox._emulation,
            sandbox._api,
        ]
        return [part for part in parts if part is not None]

    def wire(self) -> None:
        """Make the sandbox's parts report to the recorder (and tap the table writes)."""
        for part in self._observed():
            part.observer = self.recorder
        self.sandbox.streams.listeners.append(self.recorder.stream_record)
        self._tap.install()

    def unwire(self) -> None:
        """The sandbox's parts run unobserved again, exactly as without a console."""
        self._tap.uninstall()
        if self.recorder.stream_record in self.sandbox.streams.listeners:
            self.sandbox.streams.listeners.remove(self.recorder.stream_record)
        for part in self._observed():
            part.observer = None

    def start(self) -> None:
        """Wire the recorder in and serve the page."""
        self.wire()
        self._thread = threading.Thread(target=self.server.serve_forever, name="sandbox-console", daemon=True)
        self._thread.start()

    def reset(self) -> None:
        """Forget every trace and turn every fault off (the sandbox was reset)."""
        self.faults.clear()
        self.recorder.clear()

    def stop(self) -> None:
        """Stop serving and unwire (the sandbox's parts run unobserved again)."""
        self.server.shutdown()
        self.unwire()
