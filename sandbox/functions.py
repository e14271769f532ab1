"""Run the real handler code in-process, each function with the environment the program gives it.

A function's module is loaded once, under a name of its own, with the function's environment
(plus the local endpoint and dummy credentials) set while it imports: that is when the handlers
read their configuration and build their boto3 clients, as at a Lambda cold start. The global
environment is restored afterwards, so two functions never see each other's variables.
"""

from __future__ import annotations

import importlib.util
import itertools
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from sandbox import logs as function_logs
from sandbox.logs import FunctionScope
from sandbox.platform_log import error_line, error_payload, platform_end, platform_start
from sandbox.program import PROJECT_DIR, Program

if TYPE_CHECKING:
    from sandbox.console.recorder import Recorder

FUNCTION_TYPE = "aws:lambda/function:Function"
INVOKE_CONFIG_TYPE = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
_IMPORT_LOCK = threading.Lock()
_GENERATIONS = itertools.count()
#: Lambda's default for asynchronous invocations without an event invoke config.
DEFAULT_ASYNC_RETRIES = 2
#: Lambda's default maximum age of an asynchronous event: it "retains events in a queue for up to
#: six hours" (AWS::Lambda::EventInvokeConfig).
DEFAULT_ASYNC_MAX_AGE_SECONDS = 6 * 3600


class LambdaContext:
    """The attributes of Lambda's context object the handlers (and Powertools) read."""

    def __init__(self, function: DeclaredFunction, request_id: str | None = None) -> None:
        """Context of one invocation of ``function`` (a new request id unless given)."""
        self.function_name = function.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function.arn
        self.memory_limit_in_mb = function.memory_mb
        self.aws_request_id = request_id or str(uuid.uuid4())
        self.log_group_name = function.log_group
        self.log_stream_name = f"sandbox/{self.aws_request_id}"
        self._deadline = time.monotonic() + function.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class DeclaredFunction:
    """A Lambda function as the program declares it."""

    name: str
    arn: str
    handler: str
    environment: dict[str, str]
    timeout_seconds: int
    memory_mb: int
    log_group: str
    #: ``Text`` or ``JSON``: the format of the lines Lambda itself writes (START, REPORT, errors).
    log_format: str = "Text"
    async_retries: int = DEFAULT_ASYNC_RETRIES
    #: An asynchronous event older than this is not retried: it goes to the on-failure destination.
    async_max_age_seconds: int = DEFAULT_ASYNC_MAX_AGE_SECONDS
    on_failure_arn: str | None = None
    #: Distinguishes loads of the same function by successive sandboxes of one process.
    generation: int = field(default_factory=lambda: next(_GENERATIONS))
    _entry: Callable[[dict[str, Any], Any], Any] | None = field(default=None, repr=False)


def declared_functions(program: Program) -> dict[str, DeclaredFunction]:
    """Every function of the program by ARN, with its async retry count and failure destination."""
    functions: dict[str, DeclaredFunction] = {}
    for res in program.of_type(FUNCTION_TYPE):
        logging_config = res.get("loggingConfig") or {}
        functions[res["arn"]] = DeclaredFunction(
            name=res["name"],
            arn=res["arn"],
            handler=res["handler"],
            environment=dict((res.get("environment") or {}).get("variables") or {}),
            timeout_seconds=int(res.get("timeout", 3)),
            memory_mb=int(res.get("memorySize", 128)),
            log_group=logging_config.get("logGroup", f"/aws/lambda/{res['name']}"),
            log_format=logging_config.get("logFormat", "Text"),
        )
    by_name = {fn.name: fn for fn in functions.values()}
    for cfg in program.of_type(INVOKE_CONFIG_TYPE):
        fn = by_name[cfg["functionName"]]
        fn.async_retries = int(cfg.get("maximumRetryAttempts", DEFAULT_ASYNC_RETRIES))
        fn.async_max_age_seconds = int(cfg.get("maximumEventAgeInSeconds", DEFAULT_ASYNC_MAX_AGE_SECONDS))
        destination = ((cfg.get("destinationConfig") or {}).get("onFailure") or {}).get("destination")
        fn.on_failure_arn = destination
    return functions


class FunctionRuntime:
    """Loads and invokes the program's functions in this process."""

    #: The console's recorder while it runs: told of every run, its duration and its error.
    observer: Recorder | None = None

    def __init__(self, program: Program, endpoint_url: str) -> None:
        """Functions of ``program``, whose AWS calls go to ``endpoint_url``."""
        self.functions = declared_functions(program)
        self.region = program.region
        self.endpoint_url = endpoint_url
        #: Test seam: ``{function name: callable(event) -> None}`` run before the handler.
        self.faults: dict[str, Callable[[dict[str, Any]], None]] = {}

    def load_all(self) -> None:
        """Cold-start every function now, so no import happens while requests are served."""
        for fn in self.functions.values():
            self._entry(fn)

    def by_name(self, name: str) -> DeclaredFunction:
        """The function with this physical name."""
        for fn in self.functions.values():
            if fn.name == name:
                return fn
        raise KeyError(name)

    def invoke(self, arn: str, event: Any, *, request_id: str | None = None, tap: list[str] | None = None) -> Any:
        """Invoke one function synchronously with ``event``; exceptions propagate (a function error).

        Lambda's own records (start, the error of a failed run, report) go to the function's log
        group around its output; ``tap`` receives all of it, as ``LogType=Tail`` shows it.
        """
        fn = self.functions[arn]
        entry = self._entry(fn)
        request_id = request_id or str(uuid.uuid4())

        def record(lines: list[str]) -> None:
            function_logs.put_lines(fn.log_group, lines)
            if tap is not None:
                tap.extend(f"{line}\n" for line in lines)

        record([platform_start(fn, request_id)])
        started = time.monotonic()

        def report(status: str) -> None:
            duration_ms = (time.monotonic() - started) * 1000
            if duration_ms > fn.timeout_seconds * 1000:
                # Lambda ended this run at its timeout (here it could only finish in the background).
                status, duration_ms = "timeout", fn.timeout_seconds * 1000.0
            record(platform_end(fn, request_id, duration_ms, status))

        try:
            with FunctionScope(fn.log_group, tap):
                fault = self.faults.get(fn.name)
                if fault is not None:
                    fault(event)
                result = entry(event, LambdaContext(fn, request_id))
        except Exception as error:
            if time.monotonic() - started <= fn.timeout_seconds:
                record([error_line(fn, error_payload(error, request_id))])
            report("error")
            if self.observer is not None:
                self.observer.function_run(fn.name, event, time.monotonic() - started, error)
            raise
        report("success")
        if self.observer is not None:
            self.observer.function_run(fn.name, event, time.monotonic() - started, None)
        return result

    def _entry(self, fn: DeclaredFunction) -> Callable[[dict[str, Any], Any], Any]:
        if fn._entry is None:
            module_path, attr = fn.handler.rsplit(".", 1)
            fn._entry = getattr(self._load_module(fn, module_path), attr)
        return fn._entry

    def _load_module(self, fn: DeclaredFunction, module_path: str) -> ModuleType:
        path = PROJECT_DIR.joinpath(*module_path.split(".")).with_suffix(".py")
        spec = importlib.util.spec_from_file_location(f"sandbox_fn_{fn.name.replace('-', '_')}", path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load handler {fn.handler} of {fn.name} from {path}")
        module = importlib.util.module_from_spec(spec)
        environment = {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "sandbox",
            "AWS_SECRET_ACCESS_KEY": "sandbox",
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_LAMBDA_FUNCTION_NAME": fn.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": fn.log_group,
            **fn.environment,
        }
        service = environment.get("POWERTOOLS_SERVICE_NAME")
        real_get_logger = logging.getLogger

        def own_logger(name: str | None = None) -> logging.Logger:
            # In Lambda every function is a process of its own; here they share one, so the
            # Powertools logger of each function gets a logger of its own (its level, its stream).
            return real_get_logger(logger_name(fn) if name is not None and name == service else name)

        with _IMPORT_LOCK, FunctionScope(fn.log_group):
            saved = dict(os.environ)
            try:
                os.environ.update(environment)
                logging.getLogger = own_logger
                spec.loader.exec_module(module)
            finally:
                logging.getLogger = real_get_logger
                os.environ.clear()
                os.environ.update(saved)
        return module


def logger_name(fn: DeclaredFunction) -> str:
    """The name of the logging logger a function's Powertools logger uses in the sandbox.

    Unique per load, since Powertools keeps the settings of a logger it has configured before.
    """
    return f"{fn.environment.get('POWERTOOLS_SERVICE_NAME', 'service_undefined')}@{fn.name}#{fn.generation}"
