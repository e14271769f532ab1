"""The reads ``make verify`` makes of the sandbox's AWS endpoint, answered from the program's declarations.

Alarms, the dashboard and the KMS key are created in moto; the REST API, its stages, the schema
registry, the Powertools layer and ``ValidateStateMachineDefinition`` are answered from what the
program declares (``sandbox/aws/readonly_services.py``). One shared sandbox: these tests only read.
"""

from __future__ import annotations

import json

import botocore.exceptions
import pytest

from sandbox.aws.readonly_services import validate_definition
from sandbox.runtime import Sandbox


def test_alarms_dashboard_and_key_exist_as_declared(module_sandbox: Sandbox) -> None:
    program = module_sandbox.program
    declared = {a["name"]: a for a in program.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    # WHEN the alarms are described through the endpoint
    cloudwatch = module_sandbox.client("cloudwatch")
    alarms = cloudwatch.describe_alarms(AlarmNamePrefix=f"{program.outputs['event_bus_name']}/")["MetricAlarms"]
    # THEN every declared alarm, with its metric, dimensions and actions, and no OK actions
    assert {a["AlarmName"] for a in alarms} == set(declared)
    for alarm in alarms:
        spec = declared[alarm["AlarmName"]]
        assert (alarm["Namespace"], alarm["MetricName"]) == (spec["namespace"], spec["metricName"])
        assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == spec["dimensions"]
        assert alarm["AlarmActions"] == spec["alarmActions"] and alarm["OKActions"] == []
    # AND DescribeAlarms applies the prefix and the state together, as CloudWatch does
    one = alarms[0]["AlarmName"]
    cloudwatch.set_alarm_state(AlarmName=one, StateValue="ALARM", StateReason="test")
    try:
        prefix = f"{program.outputs['event_bus_name']}/"
        firing = cloudwatch.describe_alarms(AlarmNamePrefix=prefix, StateValue="ALARM")["MetricAlarms"]
        assert [a["AlarmName"] for a in firing] == [one]
    finally:
        cloudwatch.set_alarm_state(AlarmName=one, StateValue="OK", StateReason="test done")
    # AND the dashboard with its declared body, and the ops topic's key under the id the topic names
    dashboard = cloudwatch.get_dashboard(DashboardName=program.outputs["dashboard_name"])
    (declared_dashboard,) = program.of_type("aws:cloudwatch/dashboard:Dashboard")
    assert json.loads(dashboard["DashboardBody"]) == json.loads(declared_dashboard["dashboardBody"])
    topic = module_sandbox.client("sns").get_topic_attributes(TopicArn=program.outputs["ops_topic_arn"])
    key_id = topic["Attributes"]["KmsMasterKeyId"]
    kms = module_sandbox.client("kms")
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    (declared_key,) = program.of_type("aws:kms/key:Key")
    assert json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]) == json.loads(
        declared_key["policy"]
    )


def test_the_rest_api_and_its_stages_are_read_as_declared(module_sandbox: Sandbox) -> None:
    (api,) = module_sandbox.program.of_type("aws:apigateway/restApi:RestApi")
    (stage,) = module_sandbox.program.of_type("aws:apigateway/stage:Stage")
    apigateway = module_sandbox.client("apigateway")
    # WHEN the API and its stages are read
    assert [a["id"] for a in apigateway.get_rest_apis()["items"]] == [api.id]
    assert apigateway.get_rest_api(restApiId=api.id)["name"] == api["name"]
    (served,) = apigateway.get_stages(restApiId=api.id)["item"]
    # THEN the declared stage, access-log destination and throttling
    assert served["stageName"] == stage["stageName"] and served["tracingEnabled"] is True
    assert served["accessLogSettings"]["destinationArn"] == stage["accessLogSettings"]["destinationArn"]
    assert served["methodSettings"]["*/*"]["throttlingBurstLimit"] == 100
    # AND an unknown API is a NotFoundException, a write a 501
    with pytest.raises(apigateway.exceptions.NotFoundException):
        apigateway.get_stages(restApiId="nope")
    with pytest.raises(botocore.exceptions.ClientError, match="NotImplemented"):
        apigateway.delete_rest_api(restApiId=api.id)


def test_a_stack_that_does_not_own_the_registry_is_served_none(module_sandbox: Sandbox) -> None:
    # GIVEN the dev stack, which declares no registry (manageSchemaRegistry is off: another stack owns it)
    assert module_sandbox.program.of_type("aws:schemas/registry:Registry") == []
    schemas = module_sandbox.client("schemas")
    # WHEN the account's registry is read THEN it is not found, as on an account whose owner has not
    # deployed (an owner's registry is served: tests/sandbox/test_sandbox_verify.py)
    with pytest.raises(schemas.exceptions.NotFoundException):
        schemas.list_schemas(RegistryName="eda-demo")


def test_the_declared_layer_and_logging_config_are_read_from_each_function(module_sandbox: Sandbox) -> None:
    lambda_ = module_sandbox.client("lambda")
    for fn in module_sandbox.program.of_type("aws:lambda/function:Function"):
        # WHEN a function's configuration is read
        config = lambda_.get_function_configuration(FunctionName=fn["name"])
        # THEN its declared layers and log group, and each layer answers GetLayerVersionByArn
        assert [layer["Arn"] for layer in config["Layers"]] == fn["layers"]
        assert config["LoggingConfig"]["LogGroup"] == fn["loggingConfig"]["logGroup"]
        for arn in fn["layers"]:
            assert lambda_.get_layer_version_by_arn(Arn=arn)["LayerVersionArn"] == arn
    # AND a layer the program does not declare is not found
    with pytest.raises(lambda_.exceptions.ResourceNotFoundException):
        lambda_.get_layer_version_by_arn(Arn="arn:aws:lambda:us-east-1:017000801446:layer:Other:1")


def test_validate_state_machine_definition_refuses_what_aws_refuses(module_sandbox: Sandbox) -> None:
    sfn = module_sandbox.client("stepfunctions")
    machine = sfn.describe_state_machine(stateMachineArn=module_sandbox.outputs["payment_state_machine_arn"])
    # GIVEN the program's definition WHEN validated through the endpoint THEN OK
    answer = sfn.validate_state_machine_definition(definition=machine["definition"], type=machine["type"])
    assert (answer["result"], answer["diagnostics"]) == ("OK", [])
    # GIVEN definitions AWS refuses (an unknown state type, a Next naming no state, StartAt naming none)
    broken = [
        {"StartAt": "A", "States": {"A": {"Type": "Bogus", "End": True}}},
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}},
        {"StartAt": "X", "States": {"A": {"Type": "Pass", "End": True}}},
    ]
    for definition in broken:
        # WHEN validated THEN FAIL with an ERROR diagnostic
        result = validate_definition(json.dumps(definition))
        assert result["result"] == "FAIL" and result["diagnostics"][0]["severity"] == "ERROR"


def test_event_source_mappings_are_listed_by_function_name_or_arn(module_sandbox: Sandbox) -> None:
    # GIVEN the outbox's mapping, and its function's name and ARN
    lambda_ = module_sandbox.client("lambda")
    (mapping,) = lambda_.list_event_source_mappings()["EventSourceMappings"]
    arn = mapping["FunctionArn"]
    name = arn.rpartition(":function:")[2]
    # WHEN they are listed by every form of FunctionName Lambda accepts
    forms = [name, arn, f"{arn}:$LATEST", arn.split(":", 4)[4]]
    found = {form: lambda_.list_event_source_mappings(FunctionName=form)["EventSourceMappings"] for form in forms}
    # THEN each finds the one mapping, and another function's name finds none
    assert {form: [m["UUID"] for m in ms] for form, ms in found.items()} == {form: [mapping["UUID"]] for form in forms}
    assert lambda_.list_event_source_mappings(FunctionName="someone-else")["EventSourceMappings"] == []
