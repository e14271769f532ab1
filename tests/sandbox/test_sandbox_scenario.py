"""The original design's validation steps, verbatim, against the sandbox."""

from __future__ import annotations

import json

from sandbox_testkit import catch_all_events, executions, get_order, post_order, table_items

from handlers import contract
from sandbox.runtime import Sandbox


def test_the_original_curl_scenario_end_to_end(sandbox: Sandbox) -> None:
    # GIVEN the dev stack running offline
    # WHEN the original's two orders are posted with curl's form content type
    created = post_order(sandbox, 101, 100)
    cancelled = post_order(sandbox, 102, 600)
    assert created.status == 201, created.body
    assert cancelled.status == 201, cancelled.body
    assert sandbox.wait_idle(30)

    # THEN order 101 is completed and 102 cancelled, through the API ...
    assert get_order(sandbox, 101).body["status"] == contract.ORDER_COMPLETED
    assert get_order(sandbox, 102).body["status"] == contract.ORDER_CANCELLED
    # ... and in the table, through the AWS endpoint
    statuses = {int(item["id"]["N"]): item["status"]["S"] for item in table_items(sandbox)}
    assert statuses == {101: contract.ORDER_COMPLETED, 102: contract.ORDER_CANCELLED}

    # one payment execution per order, each succeeded and putting its outcome on this bus
    runs = executions(sandbox)
    assert len(runs) == 2
    assert {run["status"] for run in runs} == {"SUCCEEDED"}
    sfn = sandbox.client("stepfunctions")
    orders = []
    for run in runs:
        described = sfn.describe_execution(executionArn=run["executionArn"])
        orders.append(json.loads(described["input"])["detail"]["id"])
        # the putEvents task's result: one entry accepted by the bus
        entries = json.loads(described["output"])["Entries"]
        assert len(entries) == 1 and entries[0].get("EventId"), entries
        history = [e["type"] for e in sfn.get_execution_history(executionArn=run["executionArn"])["events"]]
        assert history[0] == "ExecutionStarted" and history[-1] == "ExecutionSucceeded"
        assert "TaskSucceeded" in history
    assert sorted(orders) == [101, 102]

    # three catch-all entries per order, with the expected detail-types
    seen = sorted((e["detail"]["id"], e["detail-type"]) for e in catch_all_events(sandbox))
    assert seen == sorted(
        [
            (101, contract.ORDER_CREATED),
            (101, contract.PAYMENT_SUCCEEDED),
            (101, contract.ORDER_COMPLETED),
            (102, contract.ORDER_CREATED),
            (102, contract.PAYMENT_FAILED),
            (102, contract.ORDER_CANCELLED),
        ]
    )

    # three notifications per order, readable, in the outbox file too
    subjects = sorted(mail["subject"] for mail in sandbox.outbox)
    assert subjects == sorted(
        [
            "Order 101 created: amount 100.00",
            "Payment for order 101 succeeded",
            "Order 101 completed",
            "Order 102 created: amount 600.00",
            "Payment for order 102 failed",
            "Order 102 cancelled",
        ]
    )
    outbox_lines = (sandbox.state_dir / "outbox.jsonl").read_text().splitlines()
    assert len(outbox_lines) == 6
    assert {json.loads(line)["attributes"]["source"] for line in outbox_lines} == {
        contract.ORDER_SERVICE,
        contract.PAYMENT_SERVICE,
    }


def test_outputs_have_the_stack_keys_and_point_at_the_local_api(sandbox: Sandbox) -> None:
    # GIVEN a running sandbox
    # WHEN its outputs file is read
    outputs = json.loads((sandbox.state_dir / "outputs.json").read_text())
    # THEN it has the keys `pulumi stack output` has, with api_url pointing at the local API
    assert set(sandbox.program.outputs) == set(outputs)
    assert outputs["api_url"] == sandbox.api_url
    assert outputs["api_url"].startswith("http://127.0.0.1:")
    assert outputs["event_bus_name"] == "eda-demo-dev"
    # and every named resource exists on the AWS endpoint
    sandbox.client("events").describe_event_bus(Name=outputs["event_bus_name"])
    sandbox.client("dynamodb").describe_table(TableName=outputs["orders_table_name"])
    sandbox.client("stepfunctions").describe_state_machine(stateMachineArn=outputs["payment_state_machine_arn"])
    sandbox.client("sns").get_topic_attributes(TopicArn=outputs["notification_topic_arn"])
    # and the functions are listed with the environment the program gives them
    for declared in sandbox.program.of_type("aws:lambda/function:Function"):
        listed = sandbox.client("lambda").get_function_configuration(FunctionName=declared["name"])
        assert listed["Environment"]["Variables"] == declared["environment"]["variables"]
        assert listed["Handler"] == declared["handler"]
    groups = sandbox.client("logs").describe_log_groups(logGroupNamePrefix=outputs["catch_all_log_group_name"])
    assert [g["logGroupName"] for g in groups["logGroups"]] == [outputs["catch_all_log_group_name"]]


def test_the_endpoint_has_the_programs_rules_with_retry_policies_and_dead_letter_queues(sandbox: Sandbox) -> None:
    # GIVEN the program's four rules on its bus
    events = sandbox.client("events")
    bus = sandbox.outputs["event_bus_name"]
    declared = {
        r["name"]: json.loads(r["eventPattern"])
        for r in sandbox.program.find("aws:cloudwatch/eventRule:EventRule", eventBusName=bus)
    }
    assert len(declared) == 4
    # WHEN the endpoint is asked for the bus's rules and targets
    rules = [r for r in events.list_rules(EventBusName=bus)["Rules"] if not r["Name"].startswith("Events-Archive")]
    # THEN they are exactly the declared ones, each target with its retry policy and DLQ
    assert {r["Name"]: json.loads(r["EventPattern"]) for r in rules} == declared
    for rule in rules:
        targets = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus)["Targets"]
        assert len(targets) == 1
        assert targets[0]["RetryPolicy"]["MaximumRetryAttempts"] > 0
        assert targets[0]["DeadLetterConfig"]["Arn"].startswith("arn:aws:sqs:")


def test_function_logs_land_in_their_own_log_groups(sandbox: Sandbox) -> None:
    # GIVEN an order
    assert post_order(sandbox, 7, 10).status == 201
    assert sandbox.wait_idle(30)
    # WHEN the create-order function's log group is read through the endpoint
    group = sandbox.functions.by_name(
        next(f.name for f in sandbox.functions.functions.values() if f.handler.endswith("create_order.handler"))
    ).log_group
    lines = [json.loads(e["message"]) for e in sandbox.client("logs").filter_log_events(logGroupName=group)["events"]]
    # THEN it holds the structured log line about order 7, and not another function's lines
    assert any(line.get("order_id") == 7 for line in lines), lines
    own = [line for line in lines if not str(line.get("type", "")).startswith("platform.")]
    assert own and all(line.get("service") == contract.ORDER_SERVICE for line in own)
    # AND, as Lambda writes them, one platform start and one report per invocation (one here)
    platform = [(line["type"], line["record"]["requestId"]) for line in lines if line not in own]
    assert [kind for kind, _ in platform] == ["platform.start", "platform.report"]
    assert len({request_id for _, request_id in platform}) == 1
