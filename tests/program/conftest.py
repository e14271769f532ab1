"""Fixtures of the Pulumi-side tests: fresh provider mocks, and the stack that owns API Gateway's setting."""

from __future__ import annotations

import pytest
from program_testkit import Evaluation, RecordingMonitor, RetainRecordingMonitor, evaluate_recorded, install_mocks

import sandbox.program as sandbox_program
from sandbox.program import Program, evaluate

OWNS_API_GATEWAY_ACCOUNT = {"eda-demo:manageApiGatewayAccount": "true"}


@pytest.fixture
def component_monitor() -> RecordingMonitor:
    """Fresh mocks for the ``dev`` stack; the monitor records every resource and registered outputs."""
    return install_mocks("dev")


@pytest.fixture(scope="session")
def owner_evaluation() -> Evaluation:
    """The dev stack as the one stack of its account and region that owns API Gateway's account setting."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sandbox_program, "MockMonitor", RetainRecordingMonitor)
        RetainRecordingMonitor.retained = set()
        program = evaluate("dev", overrides=OWNS_API_GATEWAY_ACCOUNT)
        return Evaluation(program, frozenset(RetainRecordingMonitor.retained))


@pytest.fixture(scope="session")
def owner_program(owner_evaluation: Evaluation) -> Program:
    """Every resource the program can declare in a default stack, API Gateway's account setting included."""
    return owner_evaluation.program


@pytest.fixture(scope="session")
def recorded_dev_with_alarm_email() -> tuple[Program, RecordingMonitor]:
    """The ``dev`` stack with ``alarmEmail`` set, and the monitor that recorded every registration."""
    return evaluate_recorded("dev", overrides={"eda-demo:alarmEmail": "ops@example.com"})
