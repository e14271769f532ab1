"""The sandbox: this program, deployed on an in-process AWS endpoint, with its API served locally."""

from __future__ import annotations

import json
import logging
import os
import sysconfig
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moto.core.config import default_user_config
from moto.dynamodb.models import dynamodb_backends
from moto.events.models import events_backends
from moto.logs.models import logs_backends
from moto.moto_api._internal import moto_api_backend
from moto.sns.models import SNSBackend
from moto.sqs.models import sqs_backends
from moto.stepfunctions.models import stepfunctions_backends
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

from sandbox import shell
from sandbox.api.gateway import ApiServer, api_url_outputs
from sandbox.aws import moto_speedups
from sandbox.aws.emulation import Emulation
from sandbox.aws.endpoint import EndpointServer
from sandbox.aws.readonly_services import ReadOnlyServices
from sandbox.aws.snapshot import BackendSnapshot
from sandbox.console import DEFAULT_ORDERS
from sandbox.console.console import Console
from sandbox.delivery.contracts import VIOLATIONS_FILE, ContractLog
from sandbox.delivery.rules import Dispatcher
from sandbox.delivery.stream import TableStreams
from sandbox.delivery.stream_mapping import StreamMappings
from sandbox.functions import environment as function_environment
from sandbox.functions import logs as function_logs
from sandbox.functions.runtime import FunctionRuntime, logger_name
from sandbox.ports import HOST, check_ports
from sandbox.program.deploy import client, deploy
from sandbox.program.evaluation import PROJECT_DIR, Program, email_config_keys

log = logging.getLogger("sandbox")
_ACTIVE_LOCK = threading.Lock()


#: What orders, deliveries and users change: put back as deployed between uses of one running sandbox.
_STATEFUL_BACKENDS: tuple[Any, ...] = (
    dynamodb_backends,
    sqs_backends,
    logs_backends,
    events_backends,
    stepfunctions_backends,
    stepfunctions_parser_backends,
)


def email_recipients(backend: SNSBackend, topic_arn: str | None) -> list[str]:
    """The email addresses subscribed to ``topic_arn``: each gets one email per publish."""
    return [
        sub.endpoint
        for sub in backend.subscriptions.values()
        if sub.topic.arn == topic_arn and sub.protocol in ("email", "email-json")
    ]


class SandboxBusyError(RuntimeError):
    """The sandbox still has work in flight, so it cannot be reset to a clean state."""


class Sandbox:
    """Run the program offline: an AWS endpoint, its resources, its functions and its API.

    Use as a context manager. Ports 0 pick free ports (tests). Only one sandbox runs per
    process at a time: moto's backends are process-wide.
    """

    def __init__(
        self,
        program: Program,
        *,
        aws_port: int = 4566,
        api_port: int = 3000,
        state_dir: Path = PROJECT_DIR / ".sandbox",
        delay_scale: float = 0.01,
        on_trace: Callable[[str], None] | None = None,
        echo_function_logs: bool = False,
        drain_seconds: float = 2.0,
        console_port: int | None = None,
        console_orders: int = DEFAULT_ORDERS,
    ) -> None:
        """Prepare (but do not start) a sandbox of ``program`` (with its console on ``console_port`` unless None)."""
        self.program = program
        self.aws_port = aws_port
        self.api_port = api_port
        self.state_dir = state_dir
        self.delay_scale = delay_scale
        self.echo_function_logs = echo_function_logs
        self.drain_seconds = drain_seconds
        self._router: function_logs.LogRouter | None = None
        self.on_trace = on_trace or (lambda line: log.info("%s", line))
        self.outbox: list[dict[str, Any]] = []
        self._outbox_lock = threading.Lock()
        self._moto: EndpointServer | None = None
        self._readonly: ReadOnlyServices | None = None
        self._emulation: Emulation | None = None
        self._deployed: BackendSnapshot | None = None
        self._clients: dict[tuple[str, str], Any] = {}
        self._api: ApiServer | None = None
        self._api_thread: threading.Thread | None = None
        self._saved: dict[str, Any] = {}
        self.outputs: dict[str, Any] = {}
        #: Every event put on a bus breaking its contract, as ``contract-violations.jsonl`` lines.
        self.contracts = ContractLog(state_dir / VIOLATIONS_FILE)
        self.console_port, self.console_orders = console_port, console_orders
        #: The console (``sandbox.console``) while it runs, else None.
        self.console: Console | None = None
        #: What the outbox tells to set when a topic has no email subscription.
        self._email_keys = " or ".join(email_config_keys())

    # --- lifecycle ----------------------------------------------------------------------------
    def __enter__(self) -> Sandbox:
        """Start; stop on exit."""
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop."""
        self.stop()

    def start(self) -> None:
        """Start the endpoint, create the program's resources, load the functions, serve the API."""
        if not _ACTIVE_LOCK.acquire(blocking=False):
            raise RuntimeError("another sandbox is running in this process")
        try:
            self._start()
            if self.console_port is not None:
                self.console = Console(self, HOST, self.console_port, self.console_orders)
                self.console.start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        self._start_endpoint()
        # Each function's thread sees its function's environment, from its cold start on.
        function_environment.install()
        self.functions = FunctionRuntime(self.program, self.endpoint_url)
        self.dispatcher = Dispatcher(
            self.functions,
            self.program.account_id,
            self.program.region,
            delay_scale=self.delay_scale,
            on_trace=self._trace,
            describe_target=self._describe_target,
            contracts=self.contracts,
        )
        self.contracts.clear()
        self.dispatcher.install()
        # Every change of a streamed table becomes a stream record; the program's mappings read them.
        self.mappings = StreamMappings(self.program, self.functions, delay_scale=self.delay_scale, on_trace=self._trace)
        self.streams = TableStreams()
        self.streams.listeners.append(self.mappings.on_record)
        self.streams.install()
        self._emulation = Emulation(self.functions, self.dispatcher, self._trace)
        self._emulation.install()
        self._install_outbox()
        deploy(self.program, self.endpoint_url)
        self._deployed = BackendSnapshot(_STATEFUL_BACKENDS)
        self._emulation.functions_fixed = True
        # Functions print to their own log groups from their cold start on.
        self._router = function_logs.install(self.program.account_id, self.program.region, self.echo_function_logs)
        self.functions.load_all()
        function_logs.adopt_loggers({logger_name(fn) for fn in self.functions.functions.values()}, self._router)

        self._api = ApiServer(self.program, self.functions, HOST, self.api_port)
        self.api_url = self._api.url
        self._api_thread = threading.Thread(target=self._api.serve_forever, name="sandbox-api", daemon=True)
        self._api_thread.start()

        self._write_state()

    def _start_endpoint(self) -> None:
        """Serve moto on the AWS port, empty, with Step Functions executing definitions against it."""
        check_ports(self.api_port, self.aws_port, self.console_port)
        moto_speedups.apply()
        # The endpoint's request log would drown the event trace.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._readonly = ReadOnlyServices(self.program)
        self._readonly.install()
        self._moto = EndpointServer(HOST, self.aws_port, intercept=self._readonly.answer)
        self._moto.start()
        self.aws_port = self._moto.port
        self.endpoint_url = self._moto.url
        # State lives in memory and starts empty each run.
        moto_api_backend.reset()
        self._run_state_machines()

    def _write_state(self) -> None:
        """The state dir a shell reads: the outputs, an empty outbox and the env file."""
        # The outputs `pulumi stack output` shows, the API's URL pointing at the local API.
        self.outputs = {**self.program.outputs, **dict.fromkeys(api_url_outputs(self.program), self.api_url)}
        self._write_state_files()

    def _write_state_files(self) -> None:
        """The outputs, an empty outbox and the shell file, in the state directory."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        (self.state_dir / "outputs.json").write_text(json.dumps(self.outputs, indent=2) + "\n")
        (self.state_dir / "outbox.jsonl").write_text("")
        self.env_path.write_text(
            shell.env_file(
                bin_dir=Path(sysconfig.get_path("scripts")),
                region=self.program.region,
                endpoint_url=self.endpoint_url,
                api_url=self.api_url,
                outputs=self.outputs,
            )
        )

    def _run_state_machines(self) -> None:
        """Let moto's Step Functions execute definitions (it does only when asked to); its putEvents calls MOTO_PORT."""
        self._saved = {
            "stepfunctions": dict(default_user_config.get("stepfunctions", {})),
            "MOTO_PORT": os.environ.get("MOTO_PORT"),
        }
        default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
        os.environ["MOTO_PORT"] = str(self.aws_port)

    def _trace(self, line: str) -> None:
        """One trace line, to whoever listens now (:meth:`reset` may change the listener)."""
        self.on_trace(line)

    def reset(self, on_trace: Callable[[str], None] | None = None, idle_timeout: float = 10.0) -> None:
        """Back to the state right after :meth:`start`, without restarting the servers or the functions.

        For tests that share one running sandbox: what is in flight lands first; then every
        injected fault is removed, the services that hold what orders change (tables, queues, log
        groups, executions, the bus with its archive and rules) are put back in moto as the deploy
        left them (:class:`~sandbox.aws.snapshot.BackendSnapshot`), and the outbox,
        ``contract-violations.jsonl`` and the function log streams start empty. What no order
        changes (roles, functions, topics) stays.
        Raises :class:`SandboxBusyError` when work is still in flight after ``idle_timeout`` (a
        retry due later, an execution still running): then only a restart gives a clean state.
        """
        if self._emulation is None or self._router is None or self._deployed is None:
            raise RuntimeError("the sandbox is not running")
        if not self.wait_idle(idle_timeout):
            raise SandboxBusyError(f"deliveries or executions still in flight after {idle_timeout:.0f}s")
        self.on_trace = on_trace or self.on_trace
        self.functions.faults.clear()
        self.dispatcher.target_faults.clear()
        self.dispatcher.put_events_fault = None
        self.mappings.forget()
        self._deployed.restore()
        self._router.forget_streams()
        with self._outbox_lock:
            self.outbox.clear()
            (self.state_dir / "outbox.jsonl").write_text("")
        self.contracts.clear()
        if self.console is not None:
            self.console.reset()

    @property
    def env_path(self) -> Path:
        """The shell file that points the AWS CLI and SDKs at this sandbox (``. .sandbox/env``)."""
        return self.state_dir / shell.ENV_FILE

    def stop(self) -> None:
        """Stop serving, put moto back as it was, release the ports."""
        try:
            if self.console is not None:
                self.console.stop()
                self.console = None
            if self._api is not None:
                self._api.shutdown()
                self._api = None
            if getattr(self, "dispatcher", None) is not None:
                # Let what is in flight land while the endpoint is still up (bounded: a retry
                # due later is dropped, as the process ends).
                self.dispatcher.wait_idle(self.drain_seconds)
                self.dispatcher.uninstall()
            if getattr(self, "streams", None) is not None:
                self.streams.uninstall()
                self.mappings.shutdown()
            if self._readonly is not None:
                self._readonly.uninstall()
                self._readonly = None
            if self._emulation is not None:
                self._emulation.uninstall()
                self._emulation = None
            self._deployed = None
            self._uninstall_outbox()
            function_environment.uninstall()
            if self._router is not None:
                function_logs.uninstall(self._router)
                self._router = None
            if self._moto is not None:
                self._moto.stop()
                self._moto = None
            if self._saved:
                default_user_config["stepfunctions"] = self._saved["stepfunctions"]
                if self._saved["MOTO_PORT"] is None:
                    os.environ.pop("MOTO_PORT", None)
                else:
                    os.environ["MOTO_PORT"] = self._saved["MOTO_PORT"]
                self._saved = {}
        finally:
            if _ACTIVE_LOCK.locked():
                _ACTIVE_LOCK.release()

    def _describe_target(self, arn: str) -> str:
        """A target as a reader of the trace knows it: the kind and the program's logical name."""
        try:
            declared = self.program.by_arn(arn)
        except KeyError:
            return arn
        kind = {
            "aws:lambda/function:Function": "λ",
            "aws:sfn/stateMachine:StateMachine": "state machine",
            "aws:cloudwatch/logGroup:LogGroup": "log group",
            "aws:sqs/queue:Queue": "queue",
        }.get(declared.type, declared.type)
        return f"{kind} {declared.name}"

    # --- the notification outbox --------------------------------------------------------------
    def _install_outbox(self) -> None:
        original = SNSBackend.publish
        sandbox = self

        def publish(backend: SNSBackend, message: str, arn: str | None, *args: Any, **kwargs: Any) -> str:
            message_id = original(backend, message, arn, *args, **kwargs)
            sandbox._record_email(backend, arn, message, kwargs.get("subject"), kwargs.get("message_attributes"))
            return message_id

        self._original_publish: Any = original
        SNSBackend.publish = publish

    def _uninstall_outbox(self) -> None:
        original = getattr(self, "_original_publish", None)
        if original is not None:
            SNSBackend.publish = original
            self._original_publish = None

    def _record_email(
        self, backend: SNSBackend, arn: str | None, message: str, subject: str | None, attributes: Any
    ) -> None:
        recipients = email_recipients(backend, arn)
        entry = {
            "topic": arn,
            "to": recipients or [f"(no email subscription: set {self._email_keys})"],
            "subject": subject,
            "message": message,
            "attributes": {k: v.get("Value", v.get("StringValue")) for k, v in (attributes or {}).items()},
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        with self._outbox_lock:
            self.outbox.append(entry)
            with (self.state_dir / "outbox.jsonl").open("a") as out:
                out.write(json.dumps(entry) + "\n")
        self._trace(f"email: {subject or message}")
        if self.console is not None:
            self.console.recorder.email(arn, subject, message, entry["to"])

    # --- helpers for callers and tests ----------------------------------------------------------
    def client(self, service: str) -> Any:
        """A boto3 client for the sandbox's AWS endpoint (one per service: botocore clients are thread-safe)."""
        key = (service, self.endpoint_url)
        made = self._clients.get(key)
        if made is None:
            made = self._clients.setdefault(key, client(service, self.endpoint_url, self.program.region))
        return made

    @property
    def api_keys(self) -> set[str]:
        """API keys the program declares (empty unless ``apiAuth`` is ``API_KEY``)."""
        return self._api.api_keys if self._api is not None else set()

    def running_executions(self) -> int:
        """Payment executions still running."""
        backend = stepfunctions_parser_backends[self.program.account_id][self.program.region]
        running = 0
        for machine in backend.state_machines:
            for execution in machine.executions:
                status = getattr(execution, "exec_status", None)
                if status is None or getattr(status, "value", status) == "RUNNING":
                    running += 1
        return running

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no delivery or stream batch is pending and no execution runs (three looks in a row)."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while time.monotonic() < deadline:
            if self.dispatcher.pending == 0 and self.mappings.pending == 0 and self.running_executions() == 0:
                quiet += 1
                if quiet >= 3:
                    return True
            else:
                quiet = 0
            self.dispatcher.wait_idle(max(0.0, deadline - time.monotonic()))
            # An execution may be about to put an event: look again shortly.
            time.sleep(0.005)
        return False
