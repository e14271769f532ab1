"""Step Functions execution logs: each execution's history events in the state machine's log group.

A state machine whose logging configuration names a CloudWatch Logs group and a level writes the
history events of that level to it ("Logging in CloudWatch Logs", Step Functions developer guide),
one JSON object per event (``id``, ``type``, ``details``, ``previous_event_id``,
``event_timestamp``, ``execution_arn``, ``redrive_count``; ``details`` without input and output unless
``includeExecutionData``). For an EXPRESS workflow, which keeps no history, that is the only
record of its executions.

moto's engine has the logging session but starts every execution without one, and its session
would not reach moto's in-process logs backend (it expects a client): with
:func:`logged_executions` (a patch of :mod:`sandbox.aws.emulation`) each new execution gets a session
that writes to that backend.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from moto.logs.exceptions import ResourceNotFoundException
from moto.stepfunctions.parser.asl.eval.event.logging import (
    CloudWatchLoggingConfiguration,
    CloudWatchLoggingSession,
    HistoryLog,
)
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.parser.backend.execution import Execution

log = logging.getLogger("sandbox.workflow_logs")
_LOCK = threading.Lock()


class _BackendSession(CloudWatchLoggingSession):
    """A logging session writing straight to moto's logs backend."""

    def publish_history_log(self, history_log: HistoryLog) -> None:
        """Append one history event to the execution's stream (created on first use); never raises.

        A log that cannot be written is dropped (the group is gone, say): the execution runs on,
        as Step Functions' own logging never fails an execution.
        """
        group, stream = self.configuration.log_group_name, self.configuration.log_stream_name
        backend: Any = self._logs_client
        try:
            event = {"timestamp": int(time.time() * 1000), "message": to_json_str(aws_record(history_log))}
            with _LOCK:
                if stream not in backend.groups[group].streams:
                    backend.create_log_stream(group, stream)
                backend.put_log_events(group, stream, [event])
        except (KeyError, ResourceNotFoundException):
            log.debug("execution log of %s dropped: no log group %s", self.execution_arn, group)
        except Exception:
            log.exception("execution log of %s dropped", self.execution_arn)


def aws_record(history_log: HistoryLog) -> dict[str, Any]:
    """The record as Step Functions writes it: ``event_timestamp`` in epoch ms (a string), ``redrive_count``."""
    record: dict[str, Any] = dict(history_log)
    stamp = record.get("event_timestamp")
    moment = stamp if isinstance(stamp, datetime) else datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    record["event_timestamp"] = str(int(moment.timestamp() * 1000))
    record["redrive_count"] = "0"
    return record


def session_for(state_machine: Any, execution_arn: str) -> CloudWatchLoggingSession | None:
    """The logging session of a new execution of ``state_machine`` (``None``: it does not log)."""
    configuration = dict(getattr(state_machine, "loggingConfiguration", None) or {})
    configuration.setdefault("includeExecutionData", False)
    cloud_watch = CloudWatchLoggingConfiguration.from_logging_configuration(
        state_machine_arn=state_machine.arn,
        logging_configuration=configuration,  # pyrefly: ignore[bad-argument-type]
    )
    return None if cloud_watch is None else _BackendSession(execution_arn, cloud_watch)


def logged_executions() -> Callable[..., None]:
    """``Execution.__init__`` giving every new execution its state machine's logging session."""
    original = Execution.__init__

    def init(execution: Execution, *args: Any, **kwargs: Any) -> None:
        original(execution, *args, **kwargs)
        if execution._cloud_watch_logging_session is None:
            execution._cloud_watch_logging_session = session_for(execution.state_machine, execution.exec_arn)

    return init
