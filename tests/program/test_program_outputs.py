"""Stack outputs: exactly the documented keys, each the attribute of the right resource."""

from __future__ import annotations

from program_testkit import (
    EVENT_BUS,
    METHOD,
    REST_API,
    STATE_MACHINE,
    TABLE,
    function_by_handler,
    one,
    rule_named,
    target_of,
)

from sandbox.program.evaluation import Program

EXPECTED_KEYS = {
    "api_url",
    "event_bus_name",
    "orders_table_name",
    "payment_state_machine_arn",
    "payment_workflow_log_group_name",
    "notification_topic_arn",
    "catch_all_log_group_name",
    "ops_topic_arn",
    "dashboard_name",
}


def test_outputs_are_exactly_the_documented_keys(dev_program: Program) -> None:
    # GIVEN the dev stack
    # WHEN its outputs are listed
    # THEN they are exactly the documented ones
    assert set(dev_program.outputs) == EXPECTED_KEYS


def test_api_url_is_the_stage_url_and_order_is_the_post_route(dev_program: Program) -> None:
    # GIVEN the API, its stage and the POST method
    api = one(dev_program.of_type(REST_API))
    stage = one(dev_program.of_type("aws:apigateway/stage:Stage"))
    post = one(dev_program.find(METHOD, httpMethod="POST"))
    order = next(r for r in dev_program.of_type("aws:apigateway/resource:Resource") if r.id == post["resourceId"])
    # WHEN the api_url output is read
    url = dev_program.outputs["api_url"]
    # THEN it is the stage's invoke URL, ending with the stage "/api"
    assert url == stage["invokeUrl"]
    assert url.endswith("/api")
    assert url == f"https://{api.id}.execute-api.{dev_program.region}.amazonaws.com/api"
    # AND "$api_url/order" is the POST route: "order" directly under the API root
    assert order["pathPart"] == "order"
    assert order["parentId"] == api["rootResourceId"]
    assert stage["restApi"] == post["restApi"] == api.id


def test_each_output_is_the_right_resource_attribute(dev_program: Program) -> None:
    # GIVEN the resources each output is documented to expose
    outputs = dev_program.outputs
    catch_all = dev_program.by_arn(target_of(dev_program, rule_named(dev_program, "cw-catch-all"))["arn"])
    notification = function_by_handler(dev_program, "handlers.notification.handler")
    alarms = dev_program.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    # WHEN the outputs are compared with those resources
    # THEN each output is that resource's attribute
    assert outputs["event_bus_name"] == one(dev_program.of_type(EVENT_BUS))["name"]
    assert outputs["orders_table_name"] == one(dev_program.of_type(TABLE))["name"]
    assert outputs["payment_state_machine_arn"] == one(dev_program.of_type(STATE_MACHINE))["arn"]
    assert outputs["notification_topic_arn"] == notification["environment"]["variables"]["NOTIFICATION_TOPIC_ARN"]
    assert outputs["catch_all_log_group_name"] == catch_all["name"]
    destination = one(dev_program.of_type(STATE_MACHINE))["loggingConfiguration"]["logDestination"]
    assert destination.startswith(
        one(dev_program.find("aws:cloudwatch/logGroup:LogGroup", name=outputs["payment_workflow_log_group_name"]))[
            "arn"
        ]
    )
    assert alarms
    assert {a["alarmActions"][0] for a in alarms} == {outputs["ops_topic_arn"]}
    assert outputs["dashboard_name"] == one(dev_program.of_type("aws:cloudwatch/dashboard:Dashboard"))["dashboardName"]
    # AND the two topics are not mixed up
    assert outputs["ops_topic_arn"] != outputs["notification_topic_arn"]
