"""Reads the sandbox's AWS endpoint answers from the program's declarations, where moto has nothing to serve.

The acceptance suite (``make verify``) reads a stack through AWS's public APIs; against the
sandbox, every one of those reads must be answered as AWS answers it, from what the program
declares, never made up:

- **API Gateway** ``GetRestApis``, ``GetRestApi``, ``GetStages``, ``GetStage``: the declared REST
  API and its stages (access-log settings, tracing, method settings). The API itself is served by
  the local API (:mod:`sandbox.api.gateway`); every other API Gateway operation answers 501.
- **EventBridge Schemas** ``ListSchemas``, ``DescribeSchema`` and ``DescribeRegistry``: the declared
  registries and schemas (moto has no ``schemas`` service). Every other operation answers 501.
- **Step Functions** ``ValidateStateMachineDefinition``: moto 5.2.5 does not route it. Answered by
  moto's own ASL parser and static analyser (the one that runs the definitions here) plus the
  reference checks AWS documents for ``InvalidDefinition`` (``StartAt``, ``Next`` and ``Default``
  name a state of their scope), as ``{"result": "OK" | "FAIL", "diagnostics": [...]}``
  (https://docs.aws.amazon.com/step-functions/latest/apireference/API_ValidateStateMachineDefinition.html).
  AWS's validator knows more rules (JSONPath and JSONata checks, quotas): a definition it refuses
  may pass here, which ``make verify`` against AWS catches.
- **CloudWatch** ``DescribeAlarms`` applies every filter it is given (``AlarmNamePrefix`` and
  ``StateValue`` together, as ``aws cloudwatch describe-alarms --alarm-name-prefix P --state-value
  ALARM``); moto 5.2.5 applies only the first of them, so every alarm of the prefix would be listed
  as if in ALARM (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html).
- **Lambda** ``GetLayerVersionByArn`` for the layers the program's functions declare (AWS's own
  Powertools layer, which the sandbox does not download: it runs the Powertools of ``.venv``),
  and the declared ``Layers`` and ``LoggingConfig`` in every function configuration (moto keeps
  neither). A layer the program does not declare answers ``ResourceNotFoundException``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote

from moto.awslambda.models import LambdaFunction
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult
from moto.stepfunctions.parser.asl.static_analyser.express_static_analyser import ExpressStaticAnalyser
from moto.stepfunctions.parser.asl.static_analyser.static_analyser import StaticAnalyser
from werkzeug.wrappers import Response

from sandbox.aws.endpoint import error_response, not_emulated_response, signing_name
from sandbox.program.evaluation import DeclaredResource, Program

REST_API = "aws:apigateway/restApi:RestApi"
STAGE = "aws:apigateway/stage:Stage"
METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings"
REGISTRY = "aws:schemas/registry:Registry"
SCHEMA = "aws:schemas/schema:Schema"
FUNCTION = "aws:lambda/function:Function"
#: Answered from the declarations alone: everything else of these services is 501.
READ_ONLY_SERVICES = ("apigateway", "schemas")
_READ_ONLY = "the sandbox serves only the reads of the program's declared resources for this service"
_LAYER_PATH = re.compile(r"/2018-10-31/layers/?")


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, headers={"Content-Type": "application/json"})


def _not_found(environ: dict[str, Any], code: str, message: str) -> Response:
    response = error_response(environ, code, message, 404)
    response.headers["Content-Type"] = "application/json"
    return response


# --- Step Functions: ValidateStateMachineDefinition ----------------------------------------
def _reference_problems(machine: dict[str, Any], where: str = "") -> Iterator[str]:
    """``StartAt``, every ``Next`` and ``Default`` naming a state of its own scope (branches, map processors)."""
    states = machine.get("States")
    if not isinstance(states, dict) or not states:
        yield f"{where or 'the definition'} has no States"
        return
    if machine.get("StartAt") not in states:
        yield f"StartAt {machine.get('StartAt')!r}{where} names no state"
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        targets = [state.get("Next"), state.get("Default")]
        targets += [rule.get("Next") for rule in state.get("Choices") or [] if isinstance(rule, dict)]
        targets += [catcher.get("Next") for catcher in state.get("Catch") or [] if isinstance(catcher, dict)]
        for target in targets:
            if target is not None and target not in states:
                yield f"state {name!r}{where}: Next {target!r} names no state"
        for index, branch in enumerate(state.get("Branches") or []):
            yield from _reference_problems(branch, f" (branch {index} of {name!r})")
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if isinstance(processor, dict):
            yield from _reference_problems(processor, f" (item processor of {name!r})")


def validate_definition(definition: str, machine_type: str = "STANDARD") -> dict[str, Any]:
    """The ValidateStateMachineDefinition answer for ``definition`` (pure)."""
    analyser = ExpressStaticAnalyser() if machine_type == "EXPRESS" else StaticAnalyser()  # pyrefly: ignore[direct-abstract-base-instantiation]
    diagnostics: list[dict[str, str]] = []
    try:
        analyser.analyse(definition)
        problems = list(_reference_problems(json.loads(definition)))
    except Exception as error:
        problems = [repr(error)]
    for problem in problems:
        diagnostics.append({"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "message": problem})
    return {"result": "FAIL" if diagnostics else "OK", "diagnostics": diagnostics, "truncated": False}


class ReadOnlyServices:
    """The reads above, answered for one program (``answer`` is the endpoint's intercept)."""

    def __init__(self, program: Program) -> None:
        """Answer from ``program``'s declarations."""
        self.program = program
        self._originals: list[tuple[type, str, Any]] = []

    # --- the endpoint's intercept ---------------------------------------------------------------
    def answer(self, environ: dict[str, Any], body: bytes) -> Response | None:
        """The answer to a request this module serves, or ``None`` to let moto answer it."""
        service = signing_name(environ)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if service == "states" and target.endswith(".ValidateStateMachineDefinition"):
            request = json.loads(body or b"{}")
            return _json(validate_definition(request.get("definition", ""), request.get("type", "STANDARD")))
        if service == "lambda" and _LAYER_PATH.fullmatch(environ.get("PATH_INFO", "")):
            query = parse_qs(environ.get("QUERY_STRING", ""))
            if query.get("find") == ["LayerVersion"]:
                return self._layer_version(environ, query.get("Arn", [""])[0])
        if service == "apigateway":
            return self._api_gateway(environ, body)
        if service == "schemas":
            return self._schemas(environ, body)
        return None

    # --- Lambda -------------------------------------------------------------------------------
    def declared_layers(self) -> list[str]:
        """Layer version ARNs the program's functions use."""
        return sorted({arn for fn in self.program.of_type(FUNCTION) for arn in fn.get("layers") or []})

    def _layer_version(self, environ: dict[str, Any], arn: str) -> Response:
        if arn not in self.declared_layers():
            return _not_found(environ, "ResourceNotFoundException", "The resource you requested does not exist.")
        layer_arn, _, version = arn.rpartition(":")
        users = [fn for fn in self.program.of_type(FUNCTION) if arn in (fn.get("layers") or [])]
        return _json(
            {
                "LayerArn": layer_arn,
                "LayerVersionArn": arn,
                "Version": int(version),
                "Description": "declared by the program; the sandbox runs the Powertools installed in .venv",
                "CompatibleRuntimes": sorted({fn["runtime"] for fn in users}),
                "CompatibleArchitectures": sorted({a for fn in users for a in fn.get("architectures") or []}),
                "Content": {"CodeSize": 0},
            }
        )

    def install(self) -> None:
        """Patch moto's function configurations and DescribeAlarms (undone by :meth:`uninstall`)."""
        self._originals.append((CloudWatchResponse, "describe_alarms", CloudWatchResponse.describe_alarms))
        CloudWatchResponse.describe_alarms = _describe_alarms_with_every_filter
        self._install_function_configuration()

    def _install_function_configuration(self) -> None:
        """Add the declared ``Layers`` and ``LoggingConfig`` to moto's function configurations."""
        by_name = {fn["name"]: fn for fn in self.program.of_type(FUNCTION)}
        original = LambdaFunction.get_configuration

        def get_configuration(fn: LambdaFunction, *args: Any, **kwargs: Any) -> dict[str, Any]:
            config = original(fn, *args, **kwargs)
            declared = by_name.get(fn.function_name)
            if declared is not None:
                config["Layers"] = [{"Arn": arn, "CodeSize": 0} for arn in declared.get("layers") or []]
                logging_config = declared.get("loggingConfig") or {}
                config["LoggingConfig"] = {
                    "LogFormat": logging_config.get("logFormat", "Text"),
                    "LogGroup": logging_config.get("logGroup") or f"/aws/lambda/{fn.function_name}",
                }
            return config

        self._originals.append((LambdaFunction, "get_configuration", original))
        LambdaFunction.get_configuration = get_configuration

    def uninstall(self) -> None:
        """Give moto its own function configurations back."""
        while self._originals:
            owner, name, original = self._originals.pop()
            setattr(owner, name, original)

    # --- API Gateway --------------------------------------------------------------------------
    def _rest_api(self, api: DeclaredResource) -> dict[str, Any]:
        types = (api.get("endpointConfiguration") or {}).get("types") or "EDGE"
        return {
            "id": api.id,
            "name": api["name"],
            "description": api.get("description", ""),
            "createdDate": _started(),
            "apiKeySource": api.get("apiKeySource", "HEADER"),
            "endpointConfiguration": {"types": [types] if isinstance(types, str) else list(types)},
            "rootResourceId": api.get("rootResourceId"),
        }

    def _stage(self, stage: DeclaredResource) -> dict[str, Any]:
        settings = {
            m["methodPath"]: m.get("settings") or {}
            for m in self.program.of_type(METHOD_SETTINGS)
            if m["restApi"] == stage["restApi"] and m["stageName"] == stage["stageName"]
        }
        access = stage.get("accessLogSettings") or {}
        answer: dict[str, Any] = {
            "stageName": stage["stageName"],
            "deploymentId": stage.get("deployment"),
            "tracingEnabled": bool(stage.get("xrayTracingEnabled")),
            "methodSettings": {path: _method_settings(s) for path, s in settings.items()},
            "createdDate": _started(),
            "lastUpdatedDate": _started(),
        }
        if access:
            answer["accessLogSettings"] = {
                "format": access.get("format"),
                "destinationArn": access.get("destinationArn"),
            }
        return answer

    def _api_gateway(self, environ: dict[str, Any], body: bytes) -> Response:
        if environ.get("REQUEST_METHOD") != "GET":
            return not_emulated_response(environ, body, _READ_ONLY)
        parts = [unquote(p) for p in environ.get("PATH_INFO", "").strip("/").split("/")]
        apis = {api.id: api for api in self.program.of_type(REST_API)}
        if parts == ["restapis"]:
            return _json({"item": [self._rest_api(api) for api in apis.values()]})
        if len(parts) < 2 or parts[0] != "restapis" or len(parts) > 4 or (len(parts) > 2 and parts[2] != "stages"):
            return not_emulated_response(environ, body, _READ_ONLY)
        if parts[1] not in apis:
            return _not_found(environ, "NotFoundException", "Invalid API identifier specified")
        stages = {s["stageName"]: s for s in self.program.of_type(STAGE) if s["restApi"] == parts[1]}
        if len(parts) == 2:
            return _json(self._rest_api(apis[parts[1]]))
        if len(parts) == 3:
            return _json({"item": [self._stage(stage) for stage in stages.values()]})
        if parts[3] not in stages:
            return _not_found(environ, "NotFoundException", "Invalid Stage identifier specified")
        return _json(self._stage(stages[parts[3]]))

    # --- EventBridge Schemas ------------------------------------------------------------------
    def _schemas(self, environ: dict[str, Any], body: bytes) -> Response:
        parts = [unquote(p) for p in environ.get("PATH_INFO", "").strip("/").split("/")]
        if environ.get("REQUEST_METHOD") != "GET" or len(parts) < 3 or parts[:2] != ["v1", "registries"]:
            return not_emulated_response(environ, body, _READ_ONLY)
        registries = {r["name"]: r for r in self.program.of_type(REGISTRY)}
        if parts[2] != "name" or len(parts) < 4:
            return not_emulated_response(environ, body, _READ_ONLY)
        registry = registries.get(parts[3])
        if registry is None:
            return _not_found(environ, "NotFoundException", f"Registry with name {parts[3]} does not exist.")
        schemas = {s["name"]: s for s in self.program.of_type(SCHEMA) if s["registryName"] == registry["name"]}
        if len(parts) == 4:
            return _json({"RegistryName": registry["name"], "Description": registry.get("description", "")})
        if parts[4:] == ["schemas"]:
            return _json({"Schemas": [_schema_summary(registry, s) for s in schemas.values()]})
        if len(parts) == 7 and parts[4:6] == ["schemas", "name"]:
            schema = schemas.get(parts[6])
            if schema is None:
                return _not_found(environ, "NotFoundException", f"Schema with name {parts[6]} does not exist.")
            return _json(_schema_description(registry, schema))
        return not_emulated_response(environ, body, _READ_ONLY)


def _describe_alarms_with_every_filter(self: CloudWatchResponse) -> ActionResult:
    """DescribeAlarms with all its filters applied together, each with moto's own semantics."""
    response = self
    backend = response.cloudwatch_backend
    alarms = list(backend.describe_alarms())
    filters = (
        ("ActionPrefix", backend.get_alarms_by_action_prefix),
        ("AlarmNamePrefix", backend.get_alarms_by_alarm_name_prefix),
        ("AlarmNames", backend.get_alarms_by_alarm_names),
        ("StateValue", backend.get_alarms_by_state_value),
    )
    for parameter, select in filters:
        value = response._get_param(parameter)
        if value:
            kept = {id(alarm) for alarm in select(value)}
            alarms = [alarm for alarm in alarms if id(alarm) in kept]
    return ActionResult(
        {
            "MetricAlarms": [a for a in alarms if a.rule is None],
            "CompositeAlarms": [a for a in alarms if a.rule is not None],
        }
    )


def _method_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """MethodSetting as GetStage answers it, from the provider's ``settings`` block."""
    return {
        "metricsEnabled": bool(settings.get("metricsEnabled")),
        "loggingLevel": settings.get("loggingLevel", "OFF"),
        "dataTraceEnabled": bool(settings.get("dataTraceEnabled")),
        "throttlingBurstLimit": int(settings.get("throttlingBurstLimit", -1)),
        "throttlingRateLimit": float(settings.get("throttlingRateLimit", -1)),
        "cachingEnabled": bool(settings.get("cachingEnabled")),
    }


def _started() -> float:
    """Creation dates: the time the sandbox answers (it deploys at start)."""
    return datetime.now(UTC).timestamp()


def _schema_arn(registry: DeclaredResource, schema: DeclaredResource) -> str:
    return schema.get("arn") or f"arn:aws:schemas:::schema/{registry['name']}/{schema['name']}"


def _schema_summary(registry: DeclaredResource, schema: DeclaredResource) -> dict[str, Any]:
    return {"SchemaName": schema["name"], "SchemaArn": _schema_arn(registry, schema), "VersionCount": 1}


def _schema_description(registry: DeclaredResource, schema: DeclaredResource) -> dict[str, Any]:
    return {
        "SchemaName": schema["name"],
        "SchemaArn": _schema_arn(registry, schema),
        "Type": schema["type"],
        "Content": schema["content"],
        "Description": schema.get("description", ""),
        "SchemaVersion": "1",
        "LastModified": datetime.now(UTC).isoformat(),
        "VersionCreatedDate": datetime.now(UTC).isoformat(),
    }
