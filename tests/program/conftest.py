"""Fixtures of the Pulumi-side tests: fresh provider mocks for tests of single components."""

from __future__ import annotations

import pytest
from program_testkit import RecordingMonitor, install_mocks


@pytest.fixture
def component_monitor() -> RecordingMonitor:
    """Fresh mocks for the ``dev`` stack; the monitor records every resource and registered outputs."""
    return install_mocks("dev")
