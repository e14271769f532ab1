"""Every config key reaches the resource it configures; a bad value stops the program, naming the key."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from program_testkit import (
    CONFIGURED,
    FUNCTION,
    LOG_GROUP,
    METHOD,
    ROLE,
    STATE_MACHINE,
    SUBSCRIPTION,
    TABLE,
    Evaluation,
    one,
)

from components.settings import ConfigError, StackSettings, load_settings
from sandbox.program.evaluation import PROJECT_DIR, Program, evaluate, load_stack_config

KEY = "eda-demo:{}".format
API_ACCOUNT = "aws:apigateway/account:Account"
LAYER = "arn:aws:lambda:{region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:27"


def _threshold(program: Program) -> float:
    definition = json.loads(one(program.of_type(STATE_MACHINE))["definition"])
    (choice,) = definition["States"]["isFraud"]["Choices"]
    return choice["NumericGreaterThan"]


def test_fraud_threshold_reaches_the_choice_state(dev_program: Program, configured_program: Program) -> None:
    # GIVEN the default threshold and a stack that sets 250.5
    # WHEN the fraud check of each definition is read
    # THEN it compares the amount with that stack's threshold
    assert _threshold(dev_program) == 500
    assert _threshold(configured_program) == 250.5


def test_express_workflow_type_logs_everything(dev_program: Program, configured_program: Program) -> None:
    # GIVEN the default (STANDARD) stack and an EXPRESS one
    standard = one(dev_program.of_type(STATE_MACHINE))
    express = one(configured_program.of_type(STATE_MACHINE))
    # WHEN their type and log level are read
    # THEN EXPRESS (no execution history) logs ALL, STANDARD only errors
    assert (standard["type"], standard["loggingConfiguration"]["level"]) == ("STANDARD", "ERROR")
    assert (express["type"], express["loggingConfiguration"]["level"]) == ("EXPRESS", "ALL")


def test_log_retention_reaches_every_log_group(dev_program: Program, configured_program: Program) -> None:
    # GIVEN a stack keeping logs 30 days
    program = configured_program
    # WHEN every log group's retention is read
    retention = {g["name"]: g["retentionInDays"] for g in program.of_type(LOG_GROUP)}
    # THEN all nine groups (catch-all, 5 functions, API access and execution, workflow) keep 30 days
    assert len(retention) == 9
    assert set(retention.values()) == {30}
    assert {g["retentionInDays"] for g in dev_program.of_type(LOG_GROUP)} == {14}


def _email_subscriptions(program: Program, topic_arn: str) -> list[tuple[str, str]]:
    return [(s["protocol"], s["endpoint"]) for s in program.find(SUBSCRIPTION, topic=topic_arn)]


def test_no_email_subscription_is_left_pending_by_default(dev_program: Program) -> None:
    # GIVEN the dev stack (no address configured) WHEN its subscriptions are listed THEN there is none
    assert dev_program.of_type(SUBSCRIPTION) == []


def test_each_email_subscribes_its_own_topic_only(configured_program: Program) -> None:
    # GIVEN a stack with a notification email and an alarm email
    program = configured_program
    # WHEN the subscriptions of each topic are read
    # THEN each topic has exactly its own address
    assert _email_subscriptions(program, program.outputs["notification_topic_arn"]) == [
        ("email", "customer@example.com")
    ]
    assert _email_subscriptions(program, program.outputs["ops_topic_arn"]) == [("email", "ops@example.com")]
    assert len(program.of_type(SUBSCRIPTION)) == 2


def test_default_layer_is_the_regions_public_powertools_layer(dev_program: Program, signed_eu_program: Program) -> None:
    # GIVEN the dev stack (us-east-1) and the same stack in eu-west-1, no layer configured
    eu = signed_eu_program
    # WHEN the layers of every function are read
    # THEN each function has exactly the public arm64 python3.12 Powertools v3 layer of its region
    assert {tuple(f["layers"]) for f in dev_program.of_type(FUNCTION)} == {(LAYER.format(region="us-east-1"),)}
    assert {tuple(f["layers"]) for f in eu.of_type(FUNCTION)} == {(LAYER.format(region="eu-west-1"),)}
    assert len(eu.of_type(FUNCTION)) == 5


def test_configured_layer_reaches_all_five_functions(configured_program: Program) -> None:
    # GIVEN a stack with its own layer
    layer = CONFIGURED["eda-demo:powertoolsLayerArn"]
    program = configured_program
    # WHEN the layers of every function are read
    layers = [f["layers"] for f in program.of_type(FUNCTION)]
    # THEN all five use that layer only
    assert layers == [[layer]] * 5


def test_api_throttling_reaches_the_stage_settings(dev_program: Program, configured_program: Program) -> None:
    # GIVEN the default stack and one throttled to 20 rps, burst 40
    program = configured_program
    # WHEN the stage's method settings are read
    settings = one(program.of_type("aws:apigateway/methodSettings:MethodSettings"))
    default = one(dev_program.of_type("aws:apigateway/methodSettings:MethodSettings"))["settings"]
    # THEN every method of the stage is throttled with those values
    assert settings["methodPath"] == "*/*"
    assert (settings["settings"]["throttlingRateLimit"], settings["settings"]["throttlingBurstLimit"]) == (20, 40)
    assert (default["throttlingRateLimit"], default["throttlingBurstLimit"]) == (50, 100)


def _auth(program: Program) -> dict[str, tuple[str, bool]]:
    return {m["httpMethod"]: (m["authorization"], m.get("apiKeyRequired", False)) for m in program.of_type(METHOD)}


USAGE_PLAN = "aws:apigateway/usagePlan:UsagePlan"


def test_api_auth_none_is_public(dev_program: Program) -> None:
    # GIVEN the default stack
    # WHEN its methods are read
    # THEN both are public, as in the original, with no usage plan
    assert _auth(dev_program) == {"POST": ("NONE", False), "GET": ("NONE", False)}
    assert dev_program.of_type(USAGE_PLAN) == []


def test_api_auth_aws_iam_requires_signed_callers(signed_eu_program: Program) -> None:
    # GIVEN a stack with apiAuth AWS_IAM
    program = signed_eu_program
    # WHEN its methods are read
    # THEN both require SigV4, and no API key
    assert _auth(program) == {"POST": ("AWS_IAM", False), "GET": ("AWS_IAM", False)}
    assert program.of_type(USAGE_PLAN) == []


def test_api_auth_api_key_requires_a_key_of_a_usage_plan_on_this_stage(configured_program: Program) -> None:
    # GIVEN a stack with apiAuth API_KEY, throttled to 20 rps
    program = configured_program
    api = one(program.of_type("aws:apigateway/restApi:RestApi"))
    stage = one(program.of_type("aws:apigateway/stage:Stage"))
    # WHEN its methods, usage plan and key are read
    plan = one(program.of_type(USAGE_PLAN))
    key = one(program.of_type("aws:apigateway/apiKey:ApiKey"))
    plan_key = one(program.of_type("aws:apigateway/usagePlanKey:UsagePlanKey"))
    # THEN both methods require a key, the plan covers this API's stage, and the key is in the plan
    assert _auth(program) == {"POST": ("NONE", True), "GET": ("NONE", True)}
    assert plan["apiStages"] == [{"apiId": api.id, "stage": stage["stageName"]}]
    assert (plan["throttleSettings"]["rateLimit"], plan["throttleSettings"]["burstLimit"]) == (20, 40)
    assert (plan_key["keyId"], plan_key["usagePlanId"], plan_key["keyType"]) == (key.id, plan.id, "API_KEY")


def test_protect_data_protects_the_table_and_nothing_else(
    dev_evaluation: Evaluation, configured_evaluation: Evaluation
) -> None:
    # GIVEN the default stack and a protected one
    # WHEN the table's deletion protection and Pulumi's protect flags are read
    default_table = one(dev_evaluation.program.of_type(TABLE))
    protected_table = one(configured_evaluation.program.of_type(TABLE))
    # THEN a default stack destroys cleanly: no deletion protection, nothing protected
    assert default_table["deletionProtectionEnabled"] is False
    assert dev_evaluation.protected == set()
    # AND with protectData, DynamoDB and Pulumi both refuse to delete the table, and only it
    assert protected_table["deletionProtectionEnabled"] is True
    assert configured_evaluation.protected == {protected_table.name}


@pytest.mark.parametrize(("stack", "days"), [("dev_program", 7), ("configured_program", 3650)])
def test_archive_retention_reaches_the_archive(request: pytest.FixtureRequest, stack: str, days: int) -> None:
    # GIVEN a stack with archiveRetentionDays unset, or the longest accepted
    program: Program = request.getfixturevalue(stack)
    # WHEN the bus archive is read
    archive = one(program.of_type("aws:cloudwatch/eventArchive:EventArchive"))
    # THEN it keeps every event of this stack's bus (no pattern) that many days
    assert archive["retentionDays"] == days
    assert archive["eventSourceArn"] == one(program.of_type("aws:cloudwatch/eventBus:EventBus"))["arn"]
    assert not archive.get("eventPattern")


def test_api_gateway_account_setting_is_left_alone_unless_the_stack_owns_it(
    dev_program: Program, owner_evaluation: Evaluation
) -> None:
    # GIVEN a default stack, and the one stack of its account and region that owns the setting
    owner = owner_evaluation.program
    # WHEN their account-level API Gateway settings and API Gateway roles are looked up
    # THEN by default neither exists, so N stacks never repoint the one setting of the region
    assert dev_program.of_type(API_ACCOUNT) == []
    assert [r for r in dev_program.of_type(ROLE) if "apigateway.amazonaws.com" in r["assumeRolePolicy"]] == []
    # AND the owner's setting names a role of its own, the only extra role it has
    account = one(owner.of_type(API_ACCOUNT))
    role = owner.by_arn(account["cloudwatchRoleArn"])
    assert role.type == ROLE
    assert len(owner.of_type(ROLE)) == len(dev_program.of_type(ROLE)) + 1
    # AND both are kept on destroy (other stacks' APIs log through them), and nothing else is
    assert owner_evaluation.retained == {account.name, role.name, "orders-api-logging-policy"}


@pytest.mark.parametrize(
    ("key", "value", "accepted"),
    [
        ("fraudThreshold", "-1", "positive number"),
        ("fraudThreshold", "0", "positive number"),
        ("fraudThreshold", "abc", "positive number"),
        ("fraudThreshold", "nan", "positive number"),
        ("fraudThreshold", "inf", "positive number"),
        ("paymentWorkflowType", "FAST", "STANDARD, EXPRESS"),
        ("paymentWorkflowType", "express", "STANDARD, EXPRESS"),
        ("notificationEmail", "not-an-email", "email address"),
        ("alarmEmail", "ops@", "email address"),
        ("logRetentionDays", "13", "1, 3, 5, 7, 14, 30"),
        ("logRetentionDays", "forever", "integer"),
        ("apiAuth", "OPEN", "NONE, AWS_IAM, API_KEY"),
        ("protectData", "yes", "true or false"),
        ("apiThrottleRate", "0", "positive number"),
        ("apiThrottleBurst", "0", "integer from 1 to 5000"),
        ("archiveRetentionDays", "-1", "integer from 1 to 3650"),
        ("archiveRetentionDays", "3651", "integer from 1 to 3650"),
        ("archiveRetentionDays", "0", "never sends 0 on update"),
        ("powertoolsLayerArn", "my-layer", "layer version ARN"),
        ("powertoolsLayerArn", "arn:aws:lambda:eu-west-1:111122223333:layer:my-powertools:3", "region us-east-1"),
        ("manageApiGatewayAccount", "yes", "true or false"),
        ("manageSchemaRegistry", "1", "true or false"),
    ],
)
def test_bad_config_fails_naming_the_key_and_what_it_accepts(key: str, value: str, accepted: str) -> None:
    # GIVEN a stack with one bad config value
    # WHEN the program is evaluated
    with pytest.raises(ConfigError) as raised:
        evaluate("dev", overrides={KEY(key): value})
    # THEN it fails, naming the key, the bad value and what is accepted
    message = str(raised.value)
    assert KEY(key) in message
    assert repr(value) in message
    assert accepted in message


def test_pulumi_yaml_declares_the_python_defaults(tmp_path: Path) -> None:
    # GIVEN the defaults Pulumi.yaml declares, without any stack file
    (tmp_path / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    declared = load_stack_config("none", tmp_path)
    # WHEN they are parsed the way the program parses its config
    parsed = load_settings(lambda key: declared.get(KEY(key)))
    # THEN they are the Python defaults (components/settings.py), key for key
    assert parsed == StackSettings()
    # AND every key of StackSettings is declared (none left to the Python default silently)
    declared_keys = {key.removeprefix("eda-demo:") for key in declared if key.startswith("eda-demo:")}
    assert len(declared_keys) == len(dataclasses.fields(StackSettings))
