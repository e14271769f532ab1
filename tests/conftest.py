"""Shared fixtures: the program as declared for the ``dev`` and ``alice`` stacks."""

from __future__ import annotations

import pytest

from sandbox.program import Program, evaluate


@pytest.fixture(scope="session")
def dev_program() -> Program:
    """The program evaluated under mocks with the ``dev`` stack's config (Pulumi.yaml + Pulumi.dev.yaml)."""
    return evaluate("dev")


@pytest.fixture(scope="session")
def alice_program() -> Program:
    """A second developer's stack, with the same defaults."""
    return evaluate("alice")
