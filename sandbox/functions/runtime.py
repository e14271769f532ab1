"""Run the real handler code in-process, each function with the environment the program gives it.

A function's module is loaded once, under a name of its own, at a cold start: that is when the
handlers read their configuration and build their boto3 clients. From then on, whenever a thread
imports or runs a function, ``os.environ`` is that function's environment as Lambda sets it (its
own variables, the variables Lambda defines, the local endpoint and dummy credentials), and only
that thread sees it (:mod:`sandbox.functions.environment`); so two functions never see each other's
variables, and the process environment is never changed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol

from aws_lambda_powertools import Metrics

from sandbox.functions import logs as function_logs
from sandbox.functions.environment import FunctionEnvironment
from sandbox.functions.logs import FunctionScope
from sandbox.functions.platform_log import error_line, error_payload, platform_end, platform_start
from sandbox.program.evaluation import PROJECT_DIR, Program

FUNCTION_TYPE = "aws:lambda/function:Function"
INVOKE_CONFIG_TYPE = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
_IMPORT_LOCK = threading.Lock()
#: Powertools keeps one metric set per process (``Metrics`` shares it across its instances). On
#: Lambda a process runs one invocation at a time; here the functions that publish metrics take
#: turns, so one run's flush never publishes another's metrics with its own, or empties them.
_METRICS_TURN = threading.RLock()
_GENERATIONS = itertools.count()
#: Lambda's default for asynchronous invocations without an event invoke config.
DEFAULT_ASYNC_RETRIES = 2
#: Lambda's default maximum age of an asynchronous event: it "retains events in a queue for up to
#: six hours" (AWS::Lambda::EventInvokeConfig).
DEFAULT_ASYNC_MAX_AGE_SECONDS = 6 * 3600


class CognitoIdentity:
    """The caller's Amazon Cognito identity: none for the invocations the sandbox makes."""

    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self) -> None:
        """No identity (what the runtime gives when the invocation carries none)."""
        self.cognito_identity_id: str | None = None
        self.cognito_identity_pool_id: str | None = None

    def __repr__(self) -> str:
        """As the runtime shows it."""
        return (
            f"CognitoIdentity([cognito_identity_id={self.cognito_identity_id},"
            f"cognito_identity_pool_id={self.cognito_identity_pool_id}])"
        )


class LambdaContext:
    """Lambda's context object, with the Python runtime's interface.

    The attributes and methods of ``awslambdaric.lambda_context.LambdaContext`` (the runtime
    interface client): ``memory_limit_in_mb`` is a string, read from the environment as the runtime
    does; ``client_context`` is ``None`` (only a mobile SDK's Invoke carries one); ``identity`` is a
    :class:`CognitoIdentity` with both ids ``None``; ``log()`` writes to the function's log.
    """

    def __init__(self, function: DeclaredFunction, request_id: str | None = None) -> None:
        """Context of one invocation of ``function`` (a new request id unless given)."""
        self.aws_request_id = request_id or str(uuid.uuid4())
        self.log_group_name = function.log_group
        self.log_stream_name = function_logs.stream_name(function.log_group)
        self.function_name = function.name
        self.memory_limit_in_mb = str(function.memory_mb)
        self.function_version = "$LATEST"
        self.invoked_function_arn = function.arn
        self.tenant_id: str | None = None
        self.client_context: Any = None
        self.identity = CognitoIdentity()
        self._deadline = time.monotonic() + function.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def w3c(self) -> dict[str, str]:
        """The W3C trace context the invocation's client context carried: none here."""
        return {}

    def log(self, msg: object) -> None:
        """Write ``msg`` to the function's log, as the runtime does (no newline added).

        Through the process's log router, as the runtime writes to its log sink rather than to
        whatever ``sys.stdout`` is now.
        """
        (function_logs.router() or sys.stdout).write(str(msg))

    def __repr__(self) -> str:
        """As the runtime shows it."""
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},log_group_name={self.log_group_name},"
            f"log_stream_name={self.log_stream_name},function_name={self.function_name},"
            f"memory_limit_in_mb={self.memory_limit_in_mb},function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},client_context=None,identity={self.identity},"
            f"tenant_id=None])"
        )


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
    #: The runtime identifier (``python3.12``): Lambda's ``AWS_EXECUTION_ENV`` names it.
    runtime: str
    #: ``Text`` or ``JSON``: the format of the lines Lambda itself writes (START, REPORT, errors).
    log_format: str = "Text"
    async_retries: int = DEFAULT_ASYNC_RETRIES
    #: An asynchronous event older than this is not retried: it goes to the on-failure destination.
    async_max_age_seconds: int = DEFAULT_ASYNC_MAX_AGE_SECONDS
    on_failure_arn: str | None = None
    #: Distinguishes loads of the same function by successive sandboxes of one process.
    generation: int = field(default_factory=lambda: next(_GENERATIONS))
    #: ``os.environ`` as the function sees it, kept from its cold start on (see :meth:`FunctionRuntime.environment`).
    variables: dict[str, str | None] = field(default_factory=dict, repr=False)
    _entry: Callable[[dict[str, Any], Any], Any] | None = field(default=None, repr=False)
    #: Whether its module holds a Powertools ``Metrics`` (see :data:`_METRICS_TURN`).
    _publishes_metrics: bool = field(default=False, repr=False)


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
            runtime=str(res["runtime"]),
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


class RunObserver(Protocol):
    """What the runtime tells an observer (the console's recorder) of each run: defined here, as it reads it."""

    def function_run(self, function: str, event: Any, seconds: float, error: BaseException | None) -> None:
        """A function ran for ``seconds``; ``error`` is what it raised, if it did."""


class FunctionRuntime:
    """Loads and invokes the program's functions in this process."""

    #: The console's recorder while it runs: told of every run, its duration and its error.
    observer: RunObserver | None = None

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

        turn = _METRICS_TURN if fn._publishes_metrics else contextlib.nullcontext()
        try:
            with turn, FunctionScope(fn.log_group, tap), FunctionEnvironment(self.environment(fn)):
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
            module = self._load_module(fn, module_path)
            fn._publishes_metrics = any(isinstance(value, Metrics) for value in vars(module).values())
            fn._entry = getattr(module, attr)
        return fn._entry

    def _load_module(self, fn: DeclaredFunction, module_path: str) -> ModuleType:
        path = PROJECT_DIR.joinpath(*module_path.split(".")).with_suffix(".py")
        spec = importlib.util.spec_from_file_location(f"sandbox_fn_{fn.name.replace('-', '_')}", path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load handler {fn.handler} of {fn.name} from {path}")
        module = importlib.util.module_from_spec(spec)
        service = self.environment(fn).get("POWERTOOLS_SERVICE_NAME")
        real_get_logger = logging.getLogger

        def own_logger(name: str | None = None) -> logging.Logger:
            # In Lambda every function is a process of its own; here they share one, so the
            # Powertools logger of each function gets a logger of its own (its level, its stream).
            return real_get_logger(logger_name(fn) if name is not None and name == service else name)

        with _IMPORT_LOCK, FunctionScope(fn.log_group), FunctionEnvironment(self.environment(fn)):
            try:
                logging.getLogger = own_logger
                spec.loader.exec_module(module)
            finally:
                logging.getLogger = real_get_logger
        return module

    def environment(self, fn: DeclaredFunction) -> dict[str, str | None]:
        """``fn``'s environment, made at its first use and kept (what the function writes stays in it).

        The variables Lambda defines for every function ("Defined runtime environment
        variables"), with the sandbox's endpoint and dummy credentials for the execution role's
        keys, then the function's own variables. Not defined here: ``AWS_LAMBDA_RUNTIME_API`` and
        ``LAMBDA_RUNTIME_DIR`` (no runtime API or runtime directory runs here), ``AWS_SESSION_TOKEN``
        (dummy keys need none) and ``_X_AMZN_TRACE_ID`` (set per invocation on Lambda, while
        concurrent runs of one function share these variables here).
        """
        if not fn.variables:
            fn.variables.update(
                {
                    "AWS_ENDPOINT_URL": self.endpoint_url,
                    "AWS_ACCESS_KEY_ID": "sandbox",
                    "AWS_ACCESS_KEY": "sandbox",
                    "AWS_SECRET_ACCESS_KEY": "sandbox",
                    "AWS_DEFAULT_REGION": self.region,
                    "AWS_REGION": self.region,
                    "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.runtime}",
                    "AWS_LAMBDA_FUNCTION_NAME": fn.name,
                    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_mb),
                    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                    "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                    "AWS_LAMBDA_LOG_GROUP_NAME": fn.log_group,
                    "AWS_LAMBDA_LOG_STREAM_NAME": function_logs.stream_name(fn.log_group),
                    "LAMBDA_TASK_ROOT": str(PROJECT_DIR),
                    "_HANDLER": fn.handler,
                    "TZ": ":UTC",
                    "LANG": "en_US.UTF-8",
                    **fn.environment,
                }
            )
        return fn.variables


def logger_name(fn: DeclaredFunction) -> str:
    """The name of the logging logger a function's Powertools logger uses in the sandbox.

    Unique per load, since Powertools keeps the settings of a logger it has configured before.
    """
    return f"{fn.environment.get('POWERTOOLS_SERVICE_NAME', 'service_undefined')}@{fn.name}#{fn.generation}"
