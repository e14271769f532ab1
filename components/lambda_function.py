"""LambdaFunction: one function with its own role, its own log group, tracing and layer.

Every function of the system is built here so the production defaults are set once: one role
per function with an exact inline policy, an explicit log group with the stack's retention,
structured JSON logs, X-Ray active tracing, arm64, python3.12, and the Powertools layer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components import naming, policies, settings
from components.roles import service_role
from components.watchlist import Watchlist
from handlers import contract

TYPE = "eda-demo:components:LambdaFunction"
HANDLERS_DIR = Path(__file__).resolve().parent.parent / "handlers"
RUNTIME = "python3.12"
ARCHITECTURE = "arm64"
#: The handlers make at most three AWS calls each; 10 s leaves room for SDK retries.
TIMEOUT_SECONDS = 10
#: 256 MB: boto3 + Powertools cold-start in well under a second at this size (CPU scales with memory).
MEMORY_MB = 256
#: Lambda's own retries of a failed asynchronous invocation (its maximum) before the failure queue.
ASYNC_RETRY_ATTEMPTS = 2
#: Powertools log level of every function.
LOG_LEVEL = "INFO"


def handlers_archive() -> pulumi.AssetArchive:
    """The ``handlers`` package as shipped to every function (source and schema files only)."""
    files = sorted(p for p in HANDLERS_DIR.iterdir() if p.suffix in (".py", ".json"))
    return pulumi.AssetArchive({f"handlers/{p.name}": pulumi.FileAsset(str(p)) for p in files})


@dataclass
class LambdaFunctionArgs:
    """Inputs of :class:`LambdaFunction`."""

    stack: str
    #: The function's short name, e.g. ``create-order``; names the log group and its alarms.
    short_name: str
    #: ``handlers.<module>.handler``.
    handler: str
    description: str
    service: str
    environment: Mapping[str, pulumi.Input[str]]
    #: Builds the inline policy from the function's own log group ARN (the rest is closed over).
    policy: Callable[[str], pulumi.Output[dict[str, Any]] | dict[str, Any]]
    layer_arn: pulumi.Input[str]
    #: Where the function registers itself for Operations' error and throttle alarms.
    watchlist: Watchlist
    log_retention_days: int = settings.DEFAULT_LOG_RETENTION_DAYS

    def __post_init__(self) -> None:
        """Validate the handler path, naming the field."""
        module = self.handler.rsplit(".", 1)[0]
        if not self.handler.startswith("handlers.") or not (HANDLERS_DIR / f"{module.split('.', 1)[1]}.py").is_file():
            raise ValueError(f"LambdaFunctionArgs.handler {self.handler!r} is not a module of handlers/")


class LambdaFunction(pulumi.ComponentResource):
    """A function, its role and policy, its log group and (if async) its failure destination."""

    function_name: pulumi.Output[str]
    """Physical name of the function."""
    function_arn: pulumi.Output[str]
    """ARN of the function."""
    invoke_arn: pulumi.Output[str]
    """ARN API Gateway integrations call."""
    log_group_name: pulumi.Output[str]
    """The function's own log group."""

    def __init__(self, name: str, args: LambdaFunctionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        """Create role, policy, log group and function, and add the function to the watchlist."""
        super().__init__(TYPE, name, None, opts)
        self._name = name
        self.short_name = args.short_name
        child = pulumi.ResourceOptions(parent=self)

        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=naming.lambda_log_group_name(args.stack, args.short_name),
            retention_in_days=args.log_retention_days,
            opts=child,
        )
        self.role, self.role_policy = service_role(
            name,
            "lambda.amazonaws.com",
            f"Runs {args.short_name} ({args.stack}) only",
            self.log_group.arn.apply(args.policy),
            child,
        )
        self.function = aws.lambda_.Function(
            f"{name}-fn",
            description=args.description,
            role=self.role.arn,
            runtime=RUNTIME,
            architectures=[ARCHITECTURE],
            handler=args.handler,
            code=handlers_archive(),
            timeout=TIMEOUT_SECONDS,
            memory_size=MEMORY_MB,
            layers=[args.layer_arn],
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=self.log_group.name),
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables={
                    contract.ENV_POWERTOOLS_SERVICE_NAME: args.service,
                    contract.ENV_POWERTOOLS_METRICS_NAMESPACE: contract.METRICS_NAMESPACE,
                    contract.ENV_POWERTOOLS_LOG_LEVEL: LOG_LEVEL,
                    **args.environment,
                }
            ),
            # The policy must exist before the first invocation can succeed.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.role_policy, self.log_group]),
        )
        self.function_name = self.function.name
        self.function_arn = self.function.arn
        self.invoke_arn = self.function.invoke_arn
        self.log_group_name = self.log_group.name
        self.register_outputs(
            {
                "function_name": self.function_name,
                "function_arn": self.function_arn,
                "invoke_arn": self.invoke_arn,
                "log_group_name": self.log_group_name,
            }
        )
        args.watchlist.add_function(self)

    def send_failures_to(self, queue: aws.sqs.Queue, retry_attempts: int = ASYNC_RETRY_ATTEMPTS) -> None:
        """For an asynchronously invoked function: after Lambda's retries, park the event in ``queue``."""
        self.failure_policy = aws.iam.RolePolicy(
            f"{self._name}-on-failure-policy",
            role=self.role.id,
            policy=queue.arn.apply(lambda arn: json.dumps(policies.failure_destination_policy(arn))),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.event_invoke_config = aws.lambda_.FunctionEventInvokeConfig(
            f"{self._name}-async",
            function_name=self.function.name,
            maximum_retry_attempts=retry_attempts,
            maximum_event_age_in_seconds=3600,
            destination_config=aws.lambda_.FunctionEventInvokeConfigDestinationConfigArgs(
                on_failure=aws.lambda_.FunctionEventInvokeConfigDestinationConfigOnFailureArgs(destination=queue.arn)
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.failure_policy]),
        )

    def allow_invoke(self, name: str, principal: str, source_arn: pulumi.Input[str]) -> aws.lambda_.Permission:
        """Let one service principal invoke this function, from one source ARN only."""
        return aws.lambda_.Permission(
            name,
            action="lambda:InvokeFunction",
            function=self.function.name,
            principal=principal,
            source_arn=source_arn,
            opts=pulumi.ResourceOptions(parent=self),
        )
