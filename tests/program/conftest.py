"""Fixtures of the Pulumi-side tests: fresh mocks for single components, and the stack variants.

Every whole-program test reads one of a few variants, each evaluated once per session with what
the engine was told about each resource (dependencies, protect, retain on delete).
"""

from __future__ import annotations

import pytest
from program_testkit import (
    CONFIGURED,
    OWNS_ACCOUNT_SETTINGS,
    SIGNED_IN_EU,
    Evaluation,
    RecordingMonitor,
    evaluate_recorded,
    install_mocks,
)

from sandbox.program.evaluation import Program
from tests.program import audit_service


@pytest.fixture
def component_monitor() -> RecordingMonitor:
    """Fresh mocks for the ``dev`` stack; the monitor records every resource and registered outputs."""
    return install_mocks("dev")


@pytest.fixture(scope="session")
def dev_evaluation() -> Evaluation:
    """The dev stack with its defaults, and what Pulumi was told about each resource (protect, retain, ...)."""
    return evaluate_recorded("dev")


@pytest.fixture(scope="session")
def owner_evaluation() -> Evaluation:
    """The dev stack as the one stack of its account and region owning what is shared there."""
    return evaluate_recorded("dev", overrides=OWNS_ACCOUNT_SETTINGS)


@pytest.fixture(scope="session")
def owner_program(owner_evaluation: Evaluation) -> Program:
    """Every resource the program can declare in a default stack, the account's shared ones included."""
    return owner_evaluation.program


@pytest.fixture(scope="session")
def configured_evaluation() -> Evaluation:
    """The dev stack with every config key set away from its default (:data:`CONFIGURED`)."""
    return evaluate_recorded("dev", overrides=CONFIGURED)


@pytest.fixture(scope="session")
def configured_program(configured_evaluation: Evaluation) -> Program:
    """The program of :func:`configured_evaluation`."""
    return configured_evaluation.program


@pytest.fixture(scope="session")
def signed_eu_evaluation() -> Evaluation:
    """The dev stack in eu-west-1 with ``apiAuth: AWS_IAM`` (:data:`SIGNED_IN_EU`)."""
    return evaluate_recorded("dev", overrides=SIGNED_IN_EU)


@pytest.fixture(scope="session")
def signed_eu_program(signed_eu_evaluation: Evaluation) -> Program:
    """The program of :func:`signed_eu_evaluation`."""
    return signed_eu_evaluation.program


@pytest.fixture(scope="session")
def audit_evaluation() -> Evaluation:
    """The dev stack plus the README's example service (one evaluation per process, see :mod:`audit_service`)."""
    return audit_service.audit_evaluation()


@pytest.fixture(scope="session")
def dev_program(dev_evaluation: Evaluation) -> Program:
    """The dev stack's program, read from :func:`dev_evaluation` (one evaluation of the dev stack, not two).

    Overrides the suite-wide fixture of the same name for the Pulumi-side tests: recording what the
    engine was told changes nothing in the program.
    """
    return dev_evaluation.program
