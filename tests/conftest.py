"""Shared fixtures: the program as declared for the ``dev`` and ``alice`` stacks.

``evaluate`` runs ``__main__.py`` inside ``@pulumi.runtime.test`` and returns every resource
with its inputs already resolved, so whole-graph tests on these fixtures assert on plain data.
Tests that build components themselves (``tests/program/test_program_components.py``,
``test_program_operations_components.py``) either are decorated with ``@pulumi.runtime.test`` and
assert on Outputs, or build them through a decorated inner program run to completion (``_build``)
and assert on the plain values it registered.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from sandbox.program import Program, evaluate

# Locally, property tests explore new examples each run; in CI (CI=true) they replay a fixed
# sequence, so a landing is never decided by the luck of a draw.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def dev_program() -> Program:
    """The program evaluated under mocks with the ``dev`` stack's config (Pulumi.yaml + Pulumi.dev.yaml)."""
    return evaluate("dev")


@pytest.fixture(scope="session")
def alice_program() -> Program:
    """A second developer's stack, with the same defaults."""
    return evaluate("alice")
