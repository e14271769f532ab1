"""Fixtures of the Pulumi-side tests: fresh provider mocks for tests of single components."""

from __future__ import annotations

import pytest
from program_testkit import RecordingMonitor, evaluate_recorded, install_mocks

from sandbox.program import Program


@pytest.fixture
def component_monitor() -> RecordingMonitor:
    """Fresh mocks for the ``dev`` stack; the monitor records every resource and registered outputs."""
    return install_mocks("dev")


@pytest.fixture(scope="session")
def recorded_dev_with_alarm_email() -> tuple[Program, RecordingMonitor]:
    """The ``dev`` stack with ``alarmEmail`` set, and the monitor that recorded every registration."""
    return evaluate_recorded("dev", overrides={"eda-demo:alarmEmail": "ops@example.com"})
