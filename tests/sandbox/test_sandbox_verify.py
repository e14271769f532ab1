"""``make verify`` against the sandbox: every check runs and passes, each family of checks can fail, bad targets exit 2.

The suite (``acceptance/``) runs in-process against the shared sandbox, with the program evaluated
once (``dev_program``) as what the sandbox must hold. Each control test breaks one thing the way a
deployed stack can drift (a rule's pattern put by hand, a message left in a dead-letter queue, a
workflow definition replaced, a log group's retention changed, a payment never applied) or starts
a broken program variant (an error template that renders invalid JSON), and runs only the checks
of that family: they must fail, naming what broke. The sandbox's reset puts it back afterwards.
"""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sandbox_testkit import SandboxPool, table_items

from acceptance.__main__ import main
from acceptance.check_1_scenario import express_outcomes
from acceptance.check_2_rules import CONTRACTS, readme_receivers
from acceptance.run import run
from acceptance.target import RESERVED_IDS, TargetError, order_ids, outputs_of_file, sandbox_target
from components import order_service
from sandbox.catalog import README_PATH, representative_event
from sandbox.catalog import receivers as catalog_receivers
from sandbox.program.evaluation import PROJECT_DIR, Program, evaluate
from sandbox.runtime import Sandbox

#: The scenario's polling deadline in the control tests that make it fail (the sandbox completes in milliseconds).
SHORT_DEADLINE = 0.3


def _verify(
    sandbox: Sandbox, expected: Program, tmp_path: Path, select: tuple[str, ...] = (), deadline: float | None = None
) -> tuple[int, list[str], ET.Element]:
    target = sandbox_target(sandbox.state_dir)
    if deadline is not None:
        target.deadline_seconds = deadline
    out = io.StringIO()
    junit = tmp_path / "junit.xml"
    status = run(target, expected, junit=junit, select=select, out=out)
    return status, out.getvalue().splitlines(), ET.parse(junit).getroot()


def _results(lines: list[str]) -> list[str]:
    return [line for line in lines if line.split("  ", 1)[0] in ("PASS", "FAIL", "SKIP")]


def test_make_verify_passes_against_the_sandbox_with_every_check_run(
    sandbox: Sandbox, dev_program: Program, tmp_path: Path
) -> None:
    # GIVEN the running sandbox of the program WHEN the whole suite runs against it
    status, lines, junit = _verify(sandbox, dev_program, tmp_path)
    results = _results(lines)
    # THEN every check passed, none skipped, each with the command that shows it by hand
    assert status == 0, "\n".join(lines)
    assert results and all(line.startswith("PASS  ") for line in results)
    suite = junit.find("testsuite") if junit.tag == "testsuites" else junit
    assert suite is not None
    assert (int(suite.get("tests", 0)), int(suite.get("skipped", 0)), int(suite.get("failures", 0))) == (
        len(results),
        0,
        0,
    )
    assert all("rerun" in {p.get("name") for p in case.iter("property")} for case in suite.iter("testcase"))
    # AND it said which reserved ids it used, and the orders it created are those two alone
    ids = sorted(int(item["id"]["N"]) for item in table_items(sandbox))
    assert len(ids) == 2 and all(i in RESERVED_IDS for i in ids)
    assert f"ids {ids[0]} and {ids[1]}" in lines[1]
    # AND what only AWS records is said to be read from the sandbox's own record
    assert any("(sandbox: alarms are never evaluated offline" in line for line in results)
    assert any("(sandbox: this stack does not own the registry" in line for line in results)
    # AND the outbox's mapping was checked against the program, as list-event-source-mappings shows it
    assert any(line.startswith("PASS  The outbox's mapping has the program's") for line in results)


def _fail_update_order(sandbox: Sandbox) -> None:
    name = next(fn.name for fn in sandbox.functions.functions.values() if fn.handler == "handlers.update_order.handler")

    def refuse(event: Any) -> None:
        raise RuntimeError("update-order refused by the control test")

    sandbox.functions.faults[name] = refuse


def _narrow_a_rule(sandbox: Sandbox) -> None:
    events = sandbox.client("events")
    bus = sandbox.outputs["event_bus_name"]
    (rule,) = [r for r in events.list_rules(EventBusName=bus)["Rules"] if r["Name"].startswith("notification-service")]
    events.put_rule(Name=rule["Name"], EventBusName=bus, EventPattern=json.dumps({"source": ["payment-service"]}))


def _replace_the_definition(sandbox: Sandbox) -> None:
    broken = {"StartAt": "Decide", "States": {"Decide": {"Type": "Pass", "Next": "Nowhere"}}}
    sandbox.client("stepfunctions").update_state_machine(
        stateMachineArn=sandbox.outputs["payment_state_machine_arn"], definition=json.dumps(broken)
    )


def _outbox_mapping(sandbox: Sandbox) -> dict[str, Any]:
    (mapping,) = sandbox.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    return mapping


def _leave_dead_letters_and_raise_an_alarm(sandbox: Sandbox) -> Callable[[], None]:
    sqs = sandbox.client("sqs")
    (url,) = [u for u in sqs.list_queues()["QueueUrls"] if "/cw-catch-all-dlq" in u]
    sqs.send_message(QueueUrl=url, MessageBody="{}")
    # the outbox's on-failure queue, as Lambda leaves a failed batch's record there
    outbox_queue = _outbox_mapping(sandbox)["DestinationConfig"]["OnFailure"]["Destination"]
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=outbox_queue.split(":")[-1])["QueueUrl"], MessageBody="{}")
    cloudwatch = sandbox.client("cloudwatch")
    alarm = f"{sandbox.outputs['event_bus_name']}/ops-get-order-errors"
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="control test")
    # CloudWatch is not reset with the sandbox: the alarm is put back by hand.
    return lambda: cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="control test done")


def _stop_retrying_the_outbox(sandbox: Sandbox) -> Callable[[], None]:
    lambda_, mapping = sandbox.client("lambda"), _outbox_mapping(sandbox)
    lambda_.update_event_source_mapping(UUID=mapping["UUID"], MaximumRetryAttempts=0)
    # Lambda's mappings are not reset with the sandbox: the setting is put back by hand.
    return lambda: lambda_.update_event_source_mapping(
        UUID=mapping["UUID"], MaximumRetryAttempts=mapping["MaximumRetryAttempts"]
    )


def _shorten_a_retention(sandbox: Sandbox) -> None:
    sandbox.client("logs").put_retention_policy(logGroupName="/aws/lambda/eda-demo-dev-notification", retentionInDays=1)


#: family -> (what breaks it, returning how to undo what a reset does not, the check file, what failing lines name)
BREAKAGES: dict[str, tuple[Callable[[Sandbox], Callable[[], None] | None], str, list[str]]] = {
    "scenario": (_fail_update_order, "check_1_scenario.py", ["over it is cancelled", "three events"]),
    "rules": (
        _narrow_a_rule,
        "check_2_rules.py",
        ["program's event pattern. [notification-service-rule]", "README's catalog. [OrderCreated]"],
    ),
    "workflow": (_replace_the_definition, "check_3_workflow.py", ["names no state", "program renders"]),
    "operations": (
        _leave_dead_letters_and_raise_an_alarm,
        "check_5_operations.py",
        ["cw-catch-all-dlq", "outbox-dlq", "No alarm of the stack is in ALARM", "ops-get-order-errors"],
    ),
    "outbox": (_stop_retrying_the_outbox, "check_7_outbox.py", ["'MaximumRetryAttempts': 0"]),
    "resources": (_shorten_a_retention, "check_6_resources.py", ["/aws/lambda/eda-demo-dev-notification': 1"]),
}


def test_each_family_of_checks_fails_when_its_part_of_the_stack_breaks(
    sandbox: Sandbox, dev_program: Program, tmp_path: Path
) -> None:
    # GIVEN the running sandbox with one part broken per family (one run for all: each breakage
    # touches only what its family reads)
    undo = [breaks(sandbox) for breaks, _, _ in BREAKAGES.values()]
    # WHEN those families of checks run
    try:
        checks = tuple(sorted({checks for _, checks, _ in BREAKAGES.values()}))
        status, lines, _ = _verify(sandbox, dev_program, tmp_path, select=checks, deadline=SHORT_DEADLINE)
    finally:
        for step in undo:
            if step is not None:
                step()
    failed = [line for line in _results(lines) if line.startswith("FAIL  ")]
    # THEN the run fails, and for each family the failing lines name what broke
    assert status == 1, "\n".join(lines)
    for family, (_, _, named) in BREAKAGES.items():
        for words in named:
            assert any(words in line for line in failed), f"{family}: no failing line names {words!r}:\n" + "\n".join(
                failed
            )


# --- targets that cannot be checked: exit 2, one line, nothing created -------------------------------
def _exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("make verify: ") and not captured.out, captured
    return lines[0]


def test_a_missing_pulumi_cli_or_stack_exits_2_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN no pulumi on PATH WHEN a stack is asked for THEN exit 2 naming the missing CLI
    monkeypatch.setenv("PATH", str(tmp_path))
    assert "Pulumi CLI is not installed" in _exit_2(["--stack", "nope"], capsys)
    # GIVEN a pulumi that knows no such stack (as the CLI answers) THEN exit 2 with its reason
    fake = tmp_path / "pulumi"
    fake.write_text("#!/bin/sh\necho \"error: no stack named 'nope' found\" >&2\nexit 255\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    assert "no stack named 'nope' found" in _exit_2(["--stack", "nope"], capsys)


def _outputs_file(program: Program, tmp_path: Path) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(program.outputs))
    return path


def _no_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, region: str) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_REGION", region)


def test_no_credentials_or_a_wrong_region_exit_2_before_any_request(
    dev_program: Program, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = _outputs_file(dev_program, tmp_path)
    # GIVEN the stack's region and no credentials anywhere WHEN verified THEN exit 2 naming the problem
    _no_aws_environment(monkeypatch, tmp_path, "us-east-1")
    assert "no AWS credentials" in _exit_2(["--outputs", str(outputs)], capsys)
    # GIVEN another region (credentials or not) THEN exit 2 naming both regions
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert "wrong region: stack 'dev' is in us-east-1, your AWS region is eu-west-1" in _exit_2(
        ["--outputs", str(outputs)], capsys
    )
    # GIVEN no sandbox has run in a directory THEN exit 2 saying how to start one
    assert "start `make sandbox`" in _exit_2(["--sandbox", str(tmp_path / "nothing")], capsys)


def test_make_verify_with_a_made_up_stack_exits_2(tmp_path: Path) -> None:
    # GIVEN a shell where no pulumi CLI is installed (only the interpreter's and make's directories)
    path = os.pathsep.join(sorted({str(Path(sys.executable).parent), "/usr/bin", "/bin"}))
    env = {"PATH": path, "HOME": str(tmp_path)}
    # WHEN `make verify STACK=nope` runs
    done = subprocess.run(
        ["make", "-s", "--no-print-directory", "verify", "STACK=nope"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # THEN it exits 2 with one line of its own naming the problem (make adds its own "Error 2")
    ours = [line for line in done.stderr.splitlines() if line.startswith("make verify:")]
    assert done.returncode == 2 and len(ours) == 1, done.stderr
    assert "stack 'nope'" in ours[0] and not done.stdout


# --- a program variant (last: it restarts the shared sandbox) --------------------------------------
#: The variant's config: the stack that owns the account's schema registry, with an EXPRESS workflow.
OWNER_EXPRESS = {"eda-demo:manageSchemaRegistry": "true", "eda-demo:paymentWorkflowType": "EXPRESS"}


@pytest.fixture(scope="module")
def owner_variant(sandbox_pool: SandboxPool) -> Sandbox:
    """One sandbox for three things the dev stack does not have: the registry, EXPRESS, and a broken template.

    The stack owns the registry (so the sandbox serves it), runs its workflow as EXPRESS (so the
    suite reads its executions from the workflow's log group), and its DEFAULT_4XX template quotes
    messageString (so its 403 and 413 bodies are not JSON).
    """
    templates = {**order_service.GATEWAY_RESPONSE_TEMPLATES, "DEFAULT_4XX": '{"error": "$context.error.messageString"}'}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(order_service, "GATEWAY_RESPONSE_TEMPLATES", templates)
        program = evaluate("dev", overrides=OWNER_EXPRESS)
    return sandbox_pool.acquire(program)


def test_an_owner_express_variant_passes_the_registry_and_scenario_and_fails_on_its_error_template(
    owner_variant: Sandbox, tmp_path: Path
) -> None:
    # GIVEN the variant's sandbox WHEN the scenario, the API error checks and the registry check run
    registry = "check_6_resources.py::check_the_registry_holds_every_schema"
    checks = ("check_1_scenario.py", "check_4_api_errors.py", registry)
    status, lines, _ = _verify(owner_variant, owner_variant.program, tmp_path, select=checks)
    results = _results(lines)
    failed = [line for line in results if line.startswith("FAIL  ")]
    # THEN the 403 check fails on a body that is not JSON, and the 400 one (its own template) passes
    assert status == 1
    assert any("answers 403" in line and "not a JSON error" in line for line in failed), "\n".join(lines)
    assert any(line.startswith("PASS  A body the request validator refuses") for line in lines)
    # AND the EXPRESS executions were read from the workflow's log group, and the served registry
    # held every contract as published
    (executions,) = [line for line in results if "payment workflow ran once per order" in line]
    assert executions.startswith("PASS  ") and "aws logs filter-log-events" in executions, executions
    (schemas,) = [line for line in results if "account's registry holds every contract" in line]
    assert schemas.startswith("PASS  ") and "(sandbox:" not in schemas, schemas
    assert all(line.startswith("PASS  ") for line in results if line not in failed and "answers 4" not in line)


# --- pure parts -------------------------------------------------------------------------------------
def test_order_ids_are_reserved_and_new_on_every_run() -> None:
    # GIVEN two runs a millisecond apart WHEN each takes its ids
    first, second = order_ids(1_796_000_000_000_000_000), order_ids(1_796_000_000_001_000_000)
    # THEN each pair is two ids of the reserved range, and no id is shared
    assert all(i in RESERVED_IDS for i in (*first, *second))
    assert len({*first, *second}) == 4
    # AND a clock past the range is refused rather than wrapping into user ids
    with pytest.raises(TargetError, match="reserved order-id range"):
        order_ids(10**25)


def test_the_readme_catalog_is_read_as_the_catalog_generator_wrote_it(dev_program: Program) -> None:
    # GIVEN the README as committed WHEN its catalog is read
    receivers = readme_receivers(README_PATH.read_text())
    # THEN every contract is there, with the rules the generator derives from the program
    for contract in CONTRACTS.values():
        assert receivers[contract.detail_type] == sorted(
            rule for rule, _ in catalog_receivers(dev_program, representative_event(contract))
        )


@pytest.mark.parametrize(
    ("content", "reason"),
    [("{}", "holds no stack outputs"), ('{"api_url": "x"}', "lacks the outputs event_bus_name"), ("{", "is not JSON")],
)
def test_an_outputs_file_that_is_not_a_stacks_is_refused(tmp_path: Path, content: str, reason: str) -> None:
    # GIVEN an outputs file that is empty, of another project, or not JSON WHEN read THEN refused, naming why
    path = tmp_path / "outputs.json"
    path.write_text(content)
    with pytest.raises(TargetError, match=reason):
        outputs_of_file(path)


def test_an_express_workflows_log_records_give_each_orders_outcome() -> None:
    # GIVEN log records as Step Functions writes them at level ALL with execution data: a start
    # record holding the input, an ending record naming only the execution
    started = {"type": "ExecutionStarted", "execution_arn": "arn:x:1", "details": {"input": '{"detail": {"id": 7}}'}}
    other = {"type": "ExecutionStarted", "execution_arn": "arn:x:2", "details": {"input": '{"detail": {"id": 8}}'}}
    records = [
        started,
        other,
        {"type": "PassStateEntered", "execution_arn": "arn:x:1", "details": {}},
        {"type": "ExecutionSucceeded", "execution_arn": "arn:x:1", "details": {"output": "{}"}},
        {"type": "ExecutionFailed", "execution_arn": "arn:x:2", "details": {"error": "PaymentOutcomeNotPublished"}},
    ]
    # WHEN read THEN each order has the ending of its own execution, and an order not in the run none
    assert express_outcomes(records, {7, 8, 9}) == {7: ["SUCCEEDED"], 8: ["FAILED"], 9: []}
