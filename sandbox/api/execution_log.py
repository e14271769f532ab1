"""The stage's execution log: what API Gateway itself writes about a request, at the stage's logging level.

With execution logging on (method settings ``loggingLevel`` ``ERROR`` or ``INFO`` for ``*/*``), API
Gateway writes to the log group ``API-Gateway-Execution-Logs_{rest-api-id}/{stage-name}``, one
event per line, each prefixed with the request id in parentheses ("Set up CloudWatch logging for
REST APIs in API Gateway":
https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html). For a body the
request validator refuses, the line reads ``Request body does not match model schema for content
type application/json: [object has missing required properties (["amount"])]``, the validator's
detail (``$context.error.validationErrorString``) as written, unescaped: the one place that detail
is kept, since no JSON access-log line can carry it.

The sandbox writes that line for a refused body, and nothing for other requests: what else AWS
writes at ``ERROR`` (and everything ``INFO`` adds) is not modelled (docs/aws-fidelity.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from components import naming
from sandbox.api.gateway_responses import RequestContext
from sandbox.functions import logs as function_logs
from sandbox.program.evaluation import Program

#: Levels at which API Gateway writes error lines (``OFF`` or unset: none).
LOGGING_LEVELS = ("ERROR", "INFO")
METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings"


@dataclass(frozen=True)
class ExecutionLog:
    """Where a stage's execution log goes (only when its method settings turn it on)."""

    log_group: str

    @classmethod
    def of_stage(cls, program: Program, api_id: str, stage: str) -> ExecutionLog | None:
        """The execution log of ``stage`` if its ``*/*`` method settings log at ERROR or INFO, else None."""
        for settings in program.of_type(METHOD_SETTINGS):
            level = (settings.get("settings") or {}).get("loggingLevel")
            if settings.get("methodPath") == "*/*" and settings.get("stageName") == stage and level in LOGGING_LEVELS:
                return cls(naming.api_execution_log_group_name(api_id, stage))
        return None

    def refused_body(self, request: RequestContext, content_type: str, detail: str) -> None:
        """Write the validator's line for a refused body, under the request's id."""
        media_type = content_type.split(";")[0].strip().lower() or "application/json"
        words = f"Request body does not match model schema for content type {media_type}: {detail}"
        function_logs.put_lines(self.log_group, [f"({request.request_id}) {words}"])
