"""The stage's access log: one line per request, in the format the program declares, as API Gateway writes it.

API Gateway substitutes each ``$context`` variable of the stage's ``accessLogSettings.format`` and
writes the line to the destination log group; a variable with no value for the request is
written as ``-`` ("Set up CloudWatch logging for REST APIs in API Gateway":
https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html). The sandbox
renders the same variables it renders for gateway responses, plus the ones known only once the
request is answered; a format using any other variable is refused at start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.api.gateway_responses import (
    CONTEXT_VARIABLES,
    GatewayError,
    RequestContext,
    check_template,
    context_variables,
    render_template,
)

#: Variables known once the request is answered, on top of those of gateway responses.
ANSWER_VARIABLES = frozenset({"status", "responseLength", "integrationErrorMessage"})
ACCESS_LOG_VARIABLES = CONTEXT_VARIABLES | ANSWER_VARIABLES
WHAT = "access log format"


@dataclass(frozen=True)
class AccessLog:
    """Where the stage writes its access log, and in which format."""

    log_group: str
    format: str
    stage_variables: dict[str, str]

    @classmethod
    def of_stage(cls, stage: Any, stage_variables: dict[str, str]) -> AccessLog | None:
        """The stage's access log settings (None without any); raises TemplateError for a format it cannot render."""
        settings = (stage.get("accessLogSettings") if stage is not None else None) or {}
        destination, fmt = settings.get("destinationArn"), settings.get("format")
        if not destination or not fmt:
            return None
        check_template(fmt, stage_variables, ACCESS_LOG_VARIABLES, WHAT)
        group = str(destination).split(":log-group:", 1)[-1].removesuffix(":*")
        return cls(group, str(fmt), stage_variables)

    def line(self, request: RequestContext, status: int, body: bytes, error: GatewayError | None) -> str:
        """The line API Gateway writes for ``request``, answered with ``status`` and ``body``."""
        values = context_variables(error or GatewayError("", ""), request)
        if error is None:
            values.update(dict.fromkeys((name for name in values if name.startswith("error.")), ""))
        values.update(
            # The sandbox does not model the integration's own error message: written as "-".
            {"status": str(status), "responseLength": str(len(body)), "integrationErrorMessage": ""}
        )
        present = {name: value if value != "" else "-" for name, value in values.items()}
        return render_template(self.format, present, self.stage_variables, ACCESS_LOG_VARIABLES)
