"""OrderService: the orders table, the REST API in front of it, and the payment-outcome consumer.

client ─POST /order─▶ API ─▶ create-order λ ─▶ table, bus (OrderCreated)
client ─GET /order/{id}─▶ API ─▶ get-order λ ─▶ table
bus {"source":["payment-service"]} ─▶ update-order λ ─▶ table, bus (OrderCompleted|Cancelled)
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
from components.event_bus import EventBus, Subscription
from components.lambda_function import HANDLERS_DIR, LambdaFunction, LambdaFunctionArgs
from components.rest_api import (
    GatewayResponseSpec,
    IntegrationSpec,
    MethodSpec,
    ModelSpec,
    RestApiSpec,
    ValidatorSpec,
    build_rest_api,
)
from components.roles import service_role
from handlers import contract

TYPE = "eda-demo:components:OrderService"
ORDER_SCHEMA_PATH: Path = HANDLERS_DIR / "order_schema.json"
STAGE_NAME = "api"
#: JSON access-log line per request (API Gateway's $context variables). Every variable here is
#: substituted without double quotes of its own, so each line is one JSON object; the request
#: validator's detail (``$context.error.validationErrorString``) carries unescaped double quotes
#: (``object has missing required properties (["amount"])``) and is left out for that reason.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "integrationError": "$context.integrationErrorMessage",
    }
)


#: API Gateway's own error answers, as ``{"error": "..."}`` like the handlers'.
#:
#: API Gateway substitutes ``$context.error.messageString`` already quoted (``"Invalid request
#: body"``, quotes included), so it stands unquoted here (AWS's own default template is
#: ``{"message":$context.error.messageString}``). ``$context.error.validationErrorString`` is
#: substituted as the validator wrote it, neither quoted nor escaped, and the validator's messages
#: carry double quotes (``object has missing required properties (["amount"])``) and, for some
#: keywords, the request's own text: no template that embeds it is JSON for every message. So a
#: refused body answers the fixed message plus the request id, under which the access log records
#: the request (its status and resource path; not the validator's detail, for the same reason).
GATEWAY_RESPONSE_TEMPLATES = {
    "BAD_REQUEST_BODY": '{"error": $context.error.messageString, "requestId": "$context.requestId"}',
    "DEFAULT_4XX": '{"error": $context.error.messageString}',
    "DEFAULT_5XX": '{"error": $context.error.messageString}',
}
#: The one request validator of the API: bodies against their model, required parameters present.
REQUEST_VALIDATOR = "validate-body"
ORDER_MODEL = "CreateOrderRequest"


def order_request_schema() -> str:
    """The ``POST /order`` body schema, shared by the API validator, the handler and the sandbox."""
    return ORDER_SCHEMA_PATH.read_text()


def order_api_spec(create_order_uri: pulumi.Input[str], get_order_uri: pulumi.Input[str], api_auth: str) -> RestApiSpec:
    """The orders API: ``POST /order`` (validated by the shared schema) and ``GET /order/{id}``."""
    authorization = "AWS_IAM" if api_auth == "AWS_IAM" else "NONE"
    api_key_required = api_auth == "API_KEY"
    return RestApiSpec(
        models=[
            ModelSpec(
                label="order-model",
                name=ORDER_MODEL,
                content_type="application/json",
                schema=order_request_schema(),
            )
        ],
        validators=[
            ValidatorSpec(label="body-validator", name=REQUEST_VALIDATOR, validate_body=True, validate_parameters=True)
        ],
        # Every error API Gateway answers itself is JSON of the same shape as the handlers' errors.
        gateway_responses=[
            GatewayResponseSpec(response_type, {"application/json": template})
            for response_type, template in GATEWAY_RESPONSE_TEMPLATES.items()
        ],
        methods=[
            MethodSpec(
                label="post-order",
                path=("order",),
                http_method="POST",
                authorization=authorization,
                api_key_required=api_key_required,
                integration=IntegrationSpec("AWS_PROXY", "POST", create_order_uri),
                # "$default" too: otherwise a body sent with another content type (curl -d sends a
                # form content type) is not validated at all.
                request_models={"application/json": ORDER_MODEL, "$default": ORDER_MODEL},
                validator=REQUEST_VALIDATOR,
            ),
            MethodSpec(
                label="get-order",
                path=("order", "{id}"),
                http_method="GET",
                authorization=authorization,
                api_key_required=api_key_required,
                integration=IntegrationSpec("AWS_PROXY", "POST", get_order_uri),
                request_parameters={"method.request.path.id": True},
                validator=REQUEST_VALIDATOR,
            ),
        ],
    )


@dataclass
class OrderServiceArgs:
    """Inputs of :class:`OrderService`."""

    stack: str
    bus: EventBus
    layer_arn: pulumi.Input[str]
    #: Account and region of the stack: the API Gateway logging role may write there only
    #: (with ``manage_api_gateway_account``). Required: an empty one would make a malformed ARN.
    account_id: pulumi.Input[str]
    region: pulumi.Input[str]
    log_retention_days: int = settings.DEFAULT_LOG_RETENTION_DAYS
    throttle_rate: float = settings.DEFAULT_API_THROTTLE_RATE
    throttle_burst: int = settings.DEFAULT_API_THROTTLE_BURST
    #: One of ``settings.API_AUTH_MODES``: ``NONE`` (public, as in the original), ``AWS_IAM`` or
    #: ``API_KEY`` (with a usage plan).
    api_auth: str = settings.DEFAULT_API_AUTH
    protect_data: bool = settings.DEFAULT_PROTECT_DATA
    #: Own API Gateway's account-level CloudWatch role setting: true in exactly one stack per account
    #: and region (the setting is shared, so two owners would overwrite each other on every update).
    manage_api_gateway_account: bool = settings.DEFAULT_MANAGE_API_GATEWAY_ACCOUNT

    def __post_init__(self) -> None:
        """Validate the API settings and the account and region, naming the field."""
        if self.api_auth not in settings.API_AUTH_MODES:
            raise ValueError(
                f"OrderServiceArgs.api_auth must be one of {', '.join(settings.API_AUTH_MODES)}, got {self.api_auth!r}"
            )
        if self.throttle_rate <= 0 or self.throttle_burst <= 0:
            raise ValueError("OrderServiceArgs.throttle_rate and throttle_burst must be positive")
        for field_name in ("account_id", "region"):
            if getattr(self, field_name) in ("", None):
                raise ValueError(f"OrderServiceArgs.{field_name} must be set (an empty one makes malformed ARNs)")


class OrderService(pulumi.ComponentResource):
    """Orders table, create/get/update functions and the ``/order`` REST API."""

    table_name: pulumi.Output[str]
    """Physical name of the orders table."""
    table_arn: pulumi.Output[str]
    """ARN of the orders table."""
    api_url: pulumi.Output[str]
    """Stage URL: ``$api_url/order`` is the endpoint."""

    def __init__(self, name: str, args: OrderServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        """Create the table, the three functions, the API and the payments subscription."""
        super().__init__(TYPE, name, None, opts)
        self.table = self._table(name, args)
        self._functions(name, args)
        self.payments: Subscription = self._subscribe_to_payments(name, args.bus)
        self._build_api(name, args)
        self.table_name = self.table.name
        self.table_arn = self.table.arn
        self.register_outputs({"table_name": self.table_name, "table_arn": self.table_arn, "api_url": self.api_url})

    def _table(self, name: str, args: OrderServiceArgs) -> aws.dynamodb.Table:
        """The orders table: on-demand, point-in-time recovery, encrypted, protected if asked."""
        return aws.dynamodb.Table(
            f"{name}-table",
            attributes=[aws.dynamodb.TableAttributeArgs(name="id", type="N")],
            hash_key="id",
            billing_mode="PAY_PER_REQUEST",
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
            deletion_protection_enabled=args.protect_data,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect_data),
        )

    def _function(
        self,
        name: str,
        args: OrderServiceArgs,
        short_name: str,
        description: str,
        environment: Mapping[str, pulumi.Input[str]],
        policy: Callable[[str], pulumi.Output[dict[str, Any]]],
    ) -> LambdaFunction:
        """One function of the service, running ``handlers.<short_name>.handler``."""
        return LambdaFunction(
            f"{name}-{short_name}",
            LambdaFunctionArgs(
                stack=args.stack,
                short_name=short_name,
                handler=f"handlers.{short_name.replace('-', '_')}.handler",
                description=description,
                service=contract.ORDER_SERVICE,
                environment=environment,
                policy=policy,
                layer_arn=args.layer_arn,
                watchlist=args.bus.watchlist,
                log_retention_days=args.log_retention_days,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _functions(self, name: str, args: OrderServiceArgs) -> None:
        """create-order, get-order and update-order, each with exactly the access it needs."""
        table, bus = self.table, args.bus
        table_env = {contract.ENV_ORDERS_TABLE: table.name}
        bus_env = {contract.ENV_EVENT_BUS: bus.bus_name}
        self.create_order = self._function(
            name,
            args,
            "create-order",
            "Validates and stores a new order, then publishes OrderCreated",
            {**table_env, **bus_env},
            lambda log_arn: pulumi.Output.all(table.arn, bus.bus_arn).apply(
                lambda arns: policies.create_order_policy(arns[0], arns[1], log_arn)
            ),
        )
        self.get_order = self._function(
            name,
            args,
            "get-order",
            "Returns one stored order",
            table_env,
            lambda log_arn: table.arn.apply(lambda arn: policies.get_order_policy(arn, log_arn)),
        )
        self.update_order = self._function(
            name,
            args,
            "update-order",
            "Applies a payment outcome to its order, then publishes OrderCompleted or OrderCancelled",
            {**table_env, **bus_env},
            lambda log_arn: pulumi.Output.all(table.arn, bus.bus_arn).apply(
                lambda arns: policies.update_order_policy(arns[0], arns[1], log_arn)
            ),
        )

    def _subscribe_to_payments(self, name: str, bus: EventBus) -> Subscription:
        """Payment outcomes to update-order, whose failures after Lambda's retries go to the rule's DLQ."""
        payments = bus.subscribe(
            "order-service-filtering-payments",
            contract.order_payments_pattern(),
            owner=self,
            target_arn=self.update_order.function_arn,
            description="Payment outcomes, to update-order",
        )
        self.update_order.allow_invoke(f"{name}-update-order-from-rule", "events.amazonaws.com", payments.rule.arn)
        self.update_order.send_failures_to(payments.dead_letter_queue)
        return payments

    def _build_api(self, name: str, args: OrderServiceArgs) -> None:
        """REST API from :func:`order_api_spec`, its stage, access logs, throttling and auth.

        Its resources are children of the service itself (no component in between), so their
        URNs stay those of a deployed stack.
        """
        self.api = aws.apigateway.RestApi(
            f"{name}-api",
            description="eda-demo orders API",
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(types="REGIONAL"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._build_routes(name, args)
        self._allow_api_invocations(name)
        self._build_stage(name, args)
        if args.api_auth == "API_KEY":
            self._build_usage_plan(name, args)
        self.api_url = self.stage.invoke_url

    def _build_routes(self, name: str, args: OrderServiceArgs) -> None:
        """Models, validator, gateway responses, routes and the deployment of :func:`order_api_spec`."""
        spec = order_api_spec(self.create_order.invoke_arn, self.get_order.invoke_arn, args.api_auth)
        built = build_rest_api(name, self.api, spec, pulumi.ResourceOptions(parent=self))
        self.order_model = built.models[ORDER_MODEL]
        self.body_validator = built.validators[REQUEST_VALIDATOR]
        self.gateway_responses = built.gateway_responses
        self.order_resource = built.resources[("order",)]
        self.order_id_resource = built.resources[("order", "{id}")]
        self.post_order = built.methods["post-order"]
        self.get_order_method = built.methods["get-order"]
        self.deployment = built.deployment

    def _allow_api_invocations(self, name: str) -> None:
        """Let this API invoke create-order and get-order, on their own route only."""
        self.create_order.allow_invoke(
            f"{name}-create-order-from-api",
            "apigateway.amazonaws.com",
            self.api.execution_arn.apply(lambda arn: f"{arn}/*/POST/order"),
        )
        self.get_order.allow_invoke(
            f"{name}-get-order-from-api",
            "apigateway.amazonaws.com",
            self.api.execution_arn.apply(lambda arn: f"{arn}/*/GET/order/*"),
        )

    def _build_stage(self, name: str, args: OrderServiceArgs) -> None:
        """The stage serving the deployment, with X-Ray, JSON access logs and throttling."""
        child = pulumi.ResourceOptions(parent=self)
        self.access_logs = aws.cloudwatch.LogGroup(
            f"{name}-api-access-logs",
            name=naming.vended_log_group_name(args.stack, "api-access"),
            retention_in_days=args.log_retention_days,
            opts=child,
        )
        stage_depends_on: list[pulumi.Resource] = []
        if args.manage_api_gateway_account:
            stage_depends_on.append(self._api_gateway_account(name, args))
        self.stage = aws.apigateway.Stage(
            f"{name}-stage",
            rest_api=self.api.id,
            deployment=self.deployment.id,
            stage_name=STAGE_NAME,
            xray_tracing_enabled=True,
            access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(
                destination_arn=self.access_logs.arn, format=ACCESS_LOG_FORMAT
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=stage_depends_on),
        )
        self.method_settings = aws.apigateway.MethodSettings(
            f"{name}-throttling",
            rest_api=self.api.id,
            stage_name=self.stage.stage_name,
            method_path="*/*",
            settings=aws.apigateway.MethodSettingsSettingsArgs(
                throttling_rate_limit=args.throttle_rate,
                throttling_burst_limit=args.throttle_burst,
                metrics_enabled=True,
            ),
            opts=child,
        )

    def _build_usage_plan(self, name: str, args: OrderServiceArgs) -> None:
        """With ``API_KEY`` auth: one key, in a usage plan throttled like the stage."""
        child = pulumi.ResourceOptions(parent=self)
        usage_plan = aws.apigateway.UsagePlan(
            f"{name}-usage-plan",
            api_stages=[aws.apigateway.UsagePlanApiStageArgs(api_id=self.api.id, stage=self.stage.stage_name)],
            throttle_settings=aws.apigateway.UsagePlanThrottleSettingsArgs(
                rate_limit=args.throttle_rate, burst_limit=args.throttle_burst
            ),
            opts=child,
        )
        self.api_key = aws.apigateway.ApiKey(f"{name}-api-key", opts=child)
        aws.apigateway.UsagePlanKey(
            f"{name}-usage-plan-key",
            key_id=self.api_key.id,
            key_type="API_KEY",
            usage_plan_id=usage_plan.id,
            opts=child,
        )

    def _api_gateway_account(self, name: str, args: OrderServiceArgs) -> aws.apigateway.Account:
        """API Gateway writes logs only once the account-and-region setting names a role it can assume.

        The setting is one per account and region, shared by every API there: exactly one stack per
        account and region owns it (``manageApiGatewayAccount: true``), every other stack leaves it
        alone, so no two stacks repoint it and a refresh finds no drift. The role and the setting are
        retained on destroy: deleting them would silently stop every other stack's API logs.
        """
        retained = pulumi.ResourceOptions(parent=self, retain_on_delete=True)
        role, policy = service_role(
            f"{name}-api-logging",
            "apigateway.amazonaws.com",
            "API Gateway (account-wide): writes API access and execution logs",
            pulumi.Output.all(args.region, args.account_id).apply(
                lambda v: policies.api_gateway_logging_policy(v[0], v[1])
            ),
            retained,
        )
        return aws.apigateway.Account(
            f"{name}-api-account",
            cloudwatch_role_arn=role.arn,
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True, depends_on=[policy]),
        )
