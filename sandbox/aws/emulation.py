"""Where moto's answers differ from AWS's for calls users make, make them AWS's.

Each patch below is one AWS behaviour (checked against the AWS documentation named in it), and
:meth:`Emulation.uninstall` gives moto its own code back:

- **Lambda Invoke** runs the program's own function in-process (moto would start Docker):
  ``RequestResponse`` answers its payload or ``FunctionError: Unhandled`` with the runtime's error
  payload, ``Event`` answers 202 and invokes through the :class:`Dispatcher` with the function's
  async retries and on-failure destination, ``DryRun`` answers 204, ``LogType=Tail`` adds the log
  tail. Any other path to a container (functions the program does not declare, ``InvokeAsync``,
  SNS triggers, event source mappings the program does not declare) is :class:`NotEmulated`, and
  so is changing the code, configuration or existence of a declared function, which the sandbox
  would not honour. The program's own mappings are stored by moto and run by
  :mod:`sandbox.delivery.stream_mapping`.
- **Step Functions ListExecutions** of an EXPRESS state machine is refused with
  ``StateMachineTypeNotSupported``, as AWS refuses it (an EXPRESS workflow keeps no execution
  history: its log group is its record), and every execution writes the history events of its
  state machine's logging level to its log group (:mod:`sandbox.aws.workflow_logs`).
- **Step Functions StartExecution** without a name names the execution with a UUID, as AWS does
  (moto's server names every such execution ``None``, so the second one fails); a Choice rule
  whose path is absent fails the execution with ``States.Runtime`` (:mod:`sandbox.aws.choice_paths`).
- **EventBridge**: one matcher, the project's own (:mod:`sandbox.delivery.event_patterns`, derived from the
  EventBridge user guide and aws/event-ruler), replaces moto's: it routes every event to the
  rules of its bus (``EventPattern.matches_event``), answers ``TestEventPattern`` and checks the
  pattern of ``PutRule``; a rule without a pattern (a schedule) receives no events.
  ``StartReplay`` replays only the archived events of its time window, to its ``FilterArns``
  rules if given, through the same delivery as every other event.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from moto.awslambda.models import LambdaBackend, LambdaFunction
from moto.core.exceptions import JsonRESTError
from moto.core.utils import unix_time
from moto.events.exceptions import InvalidEventPatternException, ValidationException
from moto.events.models import Archive, EventPattern, Replay, ReplayState, events_backends
from moto.events.responses import EventsHandler
from moto.events.utils import EventMessageType
from moto.stepfunctions.models import StepFunctionBackend
from moto.stepfunctions.parser.asl.component.state.choice.comparison.comparison_variable import ComparisonVariable
from moto.stepfunctions.parser.backend.execution import Execution
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from sandbox.aws import choice_paths, workflow_logs
from sandbox.aws.endpoint import NotEmulated
from sandbox.delivery.event_patterns import PatternError, compile_pattern, parse_pattern, parse_test_event
from sandbox.delivery.rules import Dispatcher
from sandbox.functions import invocation
from sandbox.functions.runtime import DeclaredFunction, FunctionRuntime

INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")
#: Largest request payload Lambda accepts: 6 MB synchronous, 1 MB asynchronous (since October 2025:
#: https://aws.amazon.com/blogs/compute/more-room-to-build-serverless-services-now-support-payloads-up-to-1-mb).
PAYLOAD_LIMITS = {"RequestResponse": 6 * 2**20, "DryRun": 6 * 2**20, "Event": 2**20}
#: LambdaBackend methods that would change a declared function behind the sandbox's back.
_FUNCTION_CHANGES = (
    "update_function_code",
    "update_function_configuration",
    "delete_function",
    "put_function_event_invoke_config",
    "update_function_event_invoke_config",
    "delete_function_event_invoke_config",
)
_NO_CONTAINER = (
    "the sandbox runs only the program's own functions, in-process (through Invoke, rule targets and the "
    "API); running any other Lambda code needs a container runtime, which the sandbox does not have"
)


def function_name_of(reference: str) -> str:
    """The function a ``FunctionName`` names: a name, an ARN, a partial ARN, or one with a version or alias.

    Lambda's API reference ("FunctionName ... Function name, Function ARN, Version or Alias ARN,
    Partial ARN") accepts each form wherever it takes a function.
    """
    return reference.rpartition("function:")[2].split(":", 1)[0]


def _mappings_by_name_or_arn(original: Callable[..., Any]) -> Callable[..., Any]:
    """``ListEventSourceMappings`` filtered by ``FunctionName`` in any form Lambda accepts.

    moto compares the filter with the name the mapping was created with, as a string, so the
    function's ARN found nothing.
    """

    def list_event_source_mappings(backend: LambdaBackend, event_source_arn: str, function_name: str) -> Any:
        mappings = original(backend, event_source_arn, "")
        if not function_name:
            return mappings
        wanted = function_name_of(function_name)
        return [m for m in mappings if function_name_of(m.function_name) == wanted]

    return list_event_source_mappings


class LambdaRequestError(JsonRESTError):
    """A client error of the Lambda API (HTTP 400)."""

    code = 400


def _epoch(value: Any) -> float:
    """Seconds since the epoch of an event time or replay bound (a number or an ISO-8601 string)."""
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, datetime):
        return value.timestamp()
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def _as_matched(event: EventMessageType) -> dict[str, Any]:
    """The event EventBridge matches: ``time`` as the ISO-8601 text targets receive, without moto's bookkeeping.

    moto holds ``time`` as epoch seconds until delivery and adds ``ingestion-time``.
    """
    matched = {key: value for key, value in event.items() if key != "ingestion-time"}
    stamp = matched.get("time")
    if isinstance(stamp, (int, float)) and not isinstance(stamp, bool):
        matched["time"] = datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return matched


def _matches_event(pattern: EventPattern, event: EventMessageType) -> bool:
    """What moto's ``EventPattern.matches_event`` answers here: the project's matcher, compiled once per text."""
    raw = pattern.dump()
    if not raw:
        return False
    compiled = compile_pattern(raw)
    # Only a pattern on time or ingestion-time sees a difference: spare every other rule the copy.
    if compiled.top_fields.isdisjoint(("time", "ingestion-time")):
        return compiled.matches(event)
    return compiled.matches(_as_matched(event))


class ExecutionObserver(Protocol):
    """What the emulation tells an observer (the console's recorder): defined here, as it reads it."""

    def execution_started(self, machine: str, execution_arn: str, execution_input: Any) -> None:
        """An execution of ``machine`` started."""


class Emulation:
    """The sandbox's corrections to moto, installed while a sandbox runs."""

    #: The console's recorder while it runs: told of every execution started.
    observer: ExecutionObserver | None = None

    def __init__(
        self, functions: FunctionRuntime, dispatcher: Dispatcher, on_trace: Callable[[str], None] | None = None
    ) -> None:
        """Corrections that run ``functions`` and deliver through ``dispatcher``."""
        self.functions = functions
        self.dispatcher = dispatcher
        self.on_trace = on_trace or (lambda line: None)
        #: Set once the program is deployed: from then on its functions are what it declares.
        self.functions_fixed = False
        self._originals: list[tuple[type, str, Any]] = []

    def _patch(self, owner: type, name: str, replacement: Callable[..., Any]) -> None:
        self._originals.append((owner, name, owner.__dict__[name]))
        setattr(owner, name, replacement)

    def install(self) -> None:
        """Apply every correction (undone by :meth:`uninstall`)."""
        self._patch(LambdaBackend, "invoke", self._lambda_invoke())
        self._patch(LambdaFunction, "invoke", self._no_container())
        self._patch(
            LambdaBackend,
            "create_event_source_mapping",
            self._declared_event_source_mappings(LambdaBackend.create_event_source_mapping),
        )
        self._patch(
            LambdaBackend,
            "list_event_source_mappings",
            _mappings_by_name_or_arn(LambdaBackend.list_event_source_mappings),
        )
        for name in _FUNCTION_CHANGES:
            self._patch(LambdaBackend, name, self._declared_functions_fixed(getattr(LambdaBackend, name)))
        self._patch(StepFunctionsParserBackend, "start_execution", self._named_executions())
        self._patch(StepFunctionBackend, "list_executions", _standard_executions_only())
        self._patch(Execution, "__init__", workflow_logs.logged_executions())
        self._patch(ComparisonVariable, "_eval_body", choice_paths.fail_on_missing_variable)
        self._patch(EventsHandler, "put_rule", self._checked_put_rule())
        self._patch(EventsHandler, "test_event_pattern", self._test_event_pattern())
        self._patch(EventPattern, "matches_event", _matches_event)
        self._patch(Replay, "replay_events", self._replay_events())

    def uninstall(self) -> None:
        """Give moto its own behaviour back."""
        while self._originals:
            owner, name, original = self._originals.pop()
            setattr(owner, name, original)

    # --- Lambda -------------------------------------------------------------------------------
    def declared(self, fn: LambdaFunction) -> DeclaredFunction | None:
        """The program's function behind moto's ``fn``, if it is one."""
        try:
            return self.functions.by_name(fn.function_name)
        except KeyError:
            return None

    def _lambda_invoke(self) -> Callable[..., bytes]:
        emulation = self

        def invoke(
            backend: LambdaBackend,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: dict[str, str],
        ) -> bytes:
            fn = backend.get_function(function_name, qualifier)  # ResourceNotFoundException, as AWS
            declared = emulation.declared(fn)
            if declared is None:
                raise NotEmulated(f"function {fn.function_name} is not one of the program's functions: {_NO_CONTAINER}")
            invocation_type = headers.get("X-Amz-Invocation-Type") or "RequestResponse"
            if invocation_type not in INVOCATION_TYPES:
                raise LambdaRequestError(
                    "InvalidParameterValueException",
                    f"1 validation error detected: Value '{invocation_type}' at 'invocationType' failed to "
                    f"satisfy constraint: Member must satisfy enum value set: [{', '.join(INVOCATION_TYPES)}]",
                )
            raw = body.decode() if isinstance(body, bytes) else (body or "")
            if len(raw.encode()) > PAYLOAD_LIMITS[invocation_type]:
                too_large = LambdaRequestError(
                    "RequestEntityTooLargeException",
                    f"Request must be smaller than {PAYLOAD_LIMITS[invocation_type]} bytes for the Invoke operation",
                )
                too_large.code = 413
                raise too_large
            try:
                event = json.loads(raw) if raw.strip() else {}
            except ValueError as error:
                raise LambdaRequestError(
                    "InvalidRequestContentException",
                    f"Could not parse request body into json: Could not parse payload into json: {error}",
                ) from None
            response_headers["X-Amz-Executed-Version"] = str(fn.version)
            if invocation_type == "DryRun":
                return b""
            if invocation_type == "Event":
                emulation.dispatcher.invoke_async(declared.arn, event)
                emulation.on_trace(f"Invoke (Event) -> λ {declared.name}")
                return b""
            result = invocation.invoke(emulation.functions, declared.arn, event)
            if result.function_error:
                response_headers["X-Amz-Function-Error"] = result.function_error
            if (headers.get("X-Amz-Log-Type") or "None") == "Tail":
                response_headers["X-Amz-Log-Result"] = result.log_result()
            response_headers["Content-Length"] = str(len(result.payload))
            return result.payload

        return invoke

    @staticmethod
    def _no_container() -> Callable[..., Any]:
        def invoke(fn: LambdaFunction, *args: Any, **kwargs: Any) -> Any:
            raise NotEmulated(f"invoking function {fn.function_name} this way: {_NO_CONTAINER}")

        return invoke

    def _declared_event_source_mappings(self, original: Callable[..., Any]) -> Callable[..., Any]:
        emulation = self

        def create_event_source_mapping(backend: LambdaBackend, spec: dict[str, Any]) -> Any:
            # The program's own mappings are created at deploy (moto stores them, the sandbox's
            # sandbox.delivery.stream_mapping runs them); any other needs Lambda's pollers and a container.
            if not emulation.functions_fixed:
                return original(backend, spec)
            raise NotEmulated(
                "event source mappings other than the program's own need Lambda's pollers and a container "
                "runtime, which the sandbox does not run; declare the mapping in the program and restart"
            )

        return create_event_source_mapping

    def _declared_functions_fixed(self, original: Callable[..., Any]) -> Callable[..., Any]:
        emulation = self

        def change(backend: LambdaBackend, function_name: str, *args: Any, **kwargs: Any) -> Any:
            if emulation.functions_fixed:
                fn = backend.get_function(function_name)
                if emulation.declared(fn) is not None:
                    raise NotEmulated(
                        f"changing function {fn.function_name}: the sandbox runs the program's functions with "
                        "the code, environment and settings the program declares; change the program and "
                        "restart the sandbox"
                    )
            return original(backend, function_name, *args, **kwargs)

        return change

    # --- Step Functions -------------------------------------------------------------------------
    def _named_executions(self) -> Callable[..., Any]:
        original = StepFunctionsParserBackend.start_execution
        emulation = self

        def start_execution(
            backend: StepFunctionsParserBackend,
            state_machine_arn: str,
            name: str | None = None,
            execution_input: str | None = None,
            trace_header: str | None = None,
        ) -> Any:
            # StartExecution: "If you don't provide a name for the execution, Step Functions
            # automatically generates a universally unique identifier (UUID) as the execution name."
            if name:
                backend._validate_name(name)
            else:
                name = str(uuid.uuid4())
            started = original(backend, state_machine_arn, name, execution_input, trace_header)  # pyrefly: ignore[bad-argument-type]
            if emulation.observer is not None:
                machine = state_machine_arn.split(":")[-1]
                emulation.observer.execution_started(machine, started.exec_arn, execution_input)
            return started

        return start_execution

    # --- EventBridge ----------------------------------------------------------------------------
    @staticmethod
    def _checked_put_rule() -> Callable[..., Any]:
        original = EventsHandler.put_rule

        def put_rule(response: EventsHandler) -> Any:
            pattern = response._get_param("EventPattern")
            if pattern is not None:
                try:
                    parse_pattern(pattern)
                except PatternError as error:
                    raise InvalidEventPatternException(str(error)) from None
            return original(response)

        return put_rule

    @staticmethod
    def _test_event_pattern() -> Callable[..., str]:
        def test_event_pattern(response: EventsHandler) -> str:
            try:
                pattern = compile_pattern(response._get_param("EventPattern") or "")
            except PatternError as error:
                raise InvalidEventPatternException(str(error)) from None
            event = parse_test_event(response._get_param("Event"))
            if event is None:
                raise ValidationException("Parameter Event is not valid.")
            return json.dumps({"Result": pattern.matches(event)})

        return test_event_pattern

    def _replay_events(self) -> Callable[[Replay, Archive], None]:
        emulation = self

        def replay_events(replay: Replay, archive: Archive) -> None:
            # StartReplay replays the archived events whose time lies in [EventStartTime,
            # EventEndTime] to the destination bus's rules (only Destination.FilterArns if given);
            # replayed events carry "replay-name", which keeps them out of the archive again.
            backend = events_backends[replay.account_id][replay.region]
            bus = backend.describe_event_bus(replay.destination["Arn"].split("/")[-1])
            start, end = _epoch(replay.event_start_time), _epoch(replay.event_end_time)
            only = set(replay.destination.get("FilterArns") or [])
            replay.state = ReplayState.RUNNING
            replayed = 0
            for event in list(archive.events):
                if not start <= _epoch(event["time"]) <= end:
                    continue
                replayed += 1
                again = dict(event, id=str(uuid.uuid4()), **{"replay-name": replay.name})
                for rule in list(bus.rules.values()):
                    if not only or rule.arn in only:
                        rule.send_to_targets(copy.deepcopy(again))  # pyrefly: ignore[bad-argument-type]
            replay.state = ReplayState.COMPLETED
            replay.end_time = unix_time()
            emulation.on_trace(f"replay {replay.name}: {replayed} archived events sent to {bus.name} again")

        return replay_events


class StateMachineTypeNotSupportedError(JsonRESTError):
    """Step Functions' refusal of an operation the state machine's type does not support (HTTP 400)."""

    code = 400

    def __init__(self) -> None:
        """The error ListExecutions answers for an EXPRESS state machine."""
        super().__init__(
            "StateMachineTypeNotSupported", "This operation is not supported by this type of state machine"
        )


def _standard_executions_only() -> Callable[..., Any]:
    """ListExecutions, refused for an EXPRESS state machine as AWS refuses it.

    The Step Functions API reference lists ``StateMachineTypeNotSupported`` ("State machine type is
    not supported", HTTP 400) among ListExecutions' errors and says the action "is not supported by
    EXPRESS state machines"; the message is the one AWS answers with.
    """
    original = StepFunctionBackend.list_executions

    def list_executions(backend: StepFunctionBackend, state_machine_arn: str, *args: Any, **kwargs: Any) -> Any:
        if backend.describe_state_machine(state_machine_arn).type == "EXPRESS":
            raise StateMachineTypeNotSupportedError()
        return original(backend, state_machine_arn, *args, **kwargs)

    return list_executions
