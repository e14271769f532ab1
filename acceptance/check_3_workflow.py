"""The payment state machine: the program's definition, accepted by ``ValidateStateMachineDefinition``."""

from __future__ import annotations

import json

from acceptance.inventory import Inventory
from acceptance.plugin import Check
from acceptance.target import Target
from sandbox.program.evaluation import Program


def check_the_state_machine_definition_validates(target: Target, inventory: Inventory, check: Check) -> None:
    """validate-state-machine-definition answers OK, with no diagnostic, for the deployed definition."""
    arn = str(target.outputs["payment_state_machine_arn"])
    check.rerun(
        "aws stepfunctions validate-state-machine-definition --definition "
        f'"$(aws stepfunctions describe-state-machine --state-machine-arn {arn} --query definition --output text)"'
    )
    if target.sandbox:
        check.sandbox_reads("moto's ASL parser and static analyser, plus StartAt/Next references, not AWS's validator")
    machine = inventory.state_machines[arn]
    answer = target.client("stepfunctions").validate_state_machine_definition(
        definition=machine["definition"], type=machine["type"]
    )
    diagnostics = [f"{d['code']}: {d['message']}" for d in answer.get("diagnostics", [])]
    assert (answer["result"], diagnostics) == ("OK", []), f"{answer['result']}: {diagnostics}"


def check_the_deployed_definition_is_the_programs(
    target: Target, expected: Program, inventory: Inventory, check: Check
) -> None:
    """The deployed definition is the one the program renders for this stack (bus, threshold, retries)."""
    arn = str(target.outputs["payment_state_machine_arn"])
    check.rerun(f"aws stepfunctions describe-state-machine --state-machine-arn {arn} --query '[type,definition]'")
    (declared,) = expected.of_type("aws:sfn/stateMachine:StateMachine")
    machine = inventory.state_machines[arn]
    assert machine["type"] == declared.get("type", "STANDARD")
    assert json.loads(machine["definition"]) == json.loads(declared["definition"])
