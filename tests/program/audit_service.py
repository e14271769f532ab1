"""The README's worked example of adding a service: one file (this one) plus one line in ``__main__.py``.

``AuditService`` subscribes one function to every order-service event. It lists nothing for
Operations: its subscription and its function register themselves on the bus's watchlist.
:func:`program_with_audit` is the dev program with the one line added where the README says.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import pulumi

from components import policies, settings
from components.event_bus import EventBus, Subscription
from components.lambda_function import LambdaFunction, LambdaFunctionArgs
from handlers import contract
from sandbox.program.evaluation import Program
from tests.program.program_testkit import Evaluation, evaluate_recorded

TYPE = "eda-demo:components:AuditService"
#: The one line added to ``__main__.py``, before ``ops = Operations(`` (the README shows it verbatim).
ONE_LINE = (
    'AuditService("audit", AuditServiceArgs(stack=stack, bus=bus, layer_arn=layer_arn, '
    "log_retention_days=settings.log_retention_days))"
)
MAIN = Path(__file__).resolve().parents[2] / "__main__.py"
OPERATIONS_LINE = "ops = Operations("


def audit_pattern() -> dict[str, list[str]]:
    """Every event the order service puts on the bus."""
    return {"source": [contract.ORDER_SERVICE]}


@dataclass
class AuditServiceArgs:
    """Inputs of :class:`AuditService`."""

    stack: str
    bus: EventBus
    layer_arn: pulumi.Input[str]
    log_retention_days: int = settings.DEFAULT_LOG_RETENTION_DAYS


class AuditService(pulumi.ComponentResource):
    """One function logging every order event."""

    def __init__(self, name: str, args: AuditServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        """Create the audit function and subscribe it to the order service's events."""
        super().__init__(TYPE, name, None, opts)
        self.audit = LambdaFunction(
            f"{name}-audit",
            LambdaFunctionArgs(
                stack=args.stack,
                short_name="audit",
                handler="handlers.audit.handler",
                description="Logs every order event",
                service="audit-service",
                environment={},
                # Writes its own logs and traces, nothing else.
                policy=lambda log_arn: policies.document(*policies.function_logging_statements(log_arn)),
                layer_arn=args.layer_arn,
                watchlist=args.bus.watchlist,
                log_retention_days=args.log_retention_days,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.events: Subscription = args.bus.subscribe(
            "audit-service",
            audit_pattern(),
            owner=self,
            target_arn=self.audit.function_arn,
            description="Order events, to the audit function",
        )
        self.audit.allow_invoke(f"{name}-audit-from-rule", "events.amazonaws.com", self.events.rule.arn)
        self.audit.send_failures_to(self.events.dead_letter_queue)
        self.register_outputs({})


def main_source_with(line: str, before: str = OPERATIONS_LINE) -> str:
    """``__main__.py`` with ``line`` inserted where a developer adds a service (before ``before``)."""
    source = MAIN.read_text()
    if source.count(before) != 1:
        raise AssertionError(f"__main__.py must contain {before!r} exactly once")
    return source.replace(before, f"{line}\n{before}")


def program_with_audit() -> None:
    """The dev program plus the one line (a program callable for ``sandbox.program.evaluation.evaluate``)."""
    code = compile(main_source_with(ONE_LINE), str(MAIN), "exec")
    exec(code, {"__name__": "__main__", "AuditService": AuditService, "AuditServiceArgs": AuditServiceArgs})


@functools.cache
def audit_evaluation() -> Evaluation:
    """The dev stack with the one line and what Pulumi was told of each resource, evaluated once per process.

    The adding-a-service, policy-pack and sandbox tests all read this one evaluation.
    """
    return evaluate_recorded("dev", program=program_with_audit)


def audit_program() -> Program:
    """The program of :func:`audit_evaluation`."""
    return audit_evaluation().program
