"""Fixtures of the sandbox tests: the process's one running sandbox of the program, reset between tests.

The helpers live in ``sandbox_testkit``; they are re-exported here for tests that import them from
this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sandbox_testkit import (
    TEST_DELAY_SCALE,
    Response,
    SandboxPool,
    catch_all_events,
    dead_letters,
    executions,
    get_order,
    http,
    post_order,
    table_items,
)

from sandbox.program.evaluation import Program
from sandbox.runtime import Sandbox

__all__ = [
    "TEST_DELAY_SCALE",
    "Response",
    "SandboxPool",
    "catch_all_events",
    "dead_letters",
    "executions",
    "get_order",
    "http",
    "post_order",
    "table_items",
]


@pytest.fixture(scope="session")
def sandbox_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxPool]:
    """The process's one running sandbox (see :class:`SandboxPool`), stopped at the end of the session."""
    pool = SandboxPool(tmp_path_factory.mktemp("sandbox"))
    yield pool
    pool.release()


@pytest.fixture
def own_sandbox_process(sandbox_pool: SandboxPool) -> None:
    """For a test that starts sandboxes itself: the shared one is stopped first."""
    sandbox_pool.release()


@pytest.fixture
def start_sandbox(sandbox_pool: SandboxPool, dev_program: Program) -> Callable[..., Sandbox]:
    """Start (or reuse, reset) a sandbox of a given program (default: the dev stack) on free ports."""

    def start(program: Program | None = None, **kwargs: Any) -> Sandbox:
        return sandbox_pool.acquire(program or dev_program, **kwargs)

    return start


@pytest.fixture(scope="module")
def module_sandbox(sandbox_pool: SandboxPool, dev_program: Program) -> Sandbox:
    """The dev stack reset once for a module whose tests leave nothing behind (or measure changes)."""
    return sandbox_pool.acquire(dev_program)


@pytest.fixture
def sandbox(start_sandbox: Callable[..., Sandbox]) -> Sandbox:
    """The dev stack, running, in the state right after its start."""
    return start_sandbox()


#: Modules run first: the CLI's scenario (a process of its own, the suite's longest test) would
#: otherwise be the last thing a worker runs while the other waits.
FIRST = ("test_sandbox_cli.py",)
#: Modules run last, in this order, each kept together: they start programs other than the dev stack
#: (or stop the pooled sandbox), so after the dev stack's tests each restarts the pool once and
#: nothing needs the dev stack back after them (a restart is ~2 s, a reset ~0.5 s).
LAST = (
    "test_sandbox_verify.py",  # its dev-stack tests first, its own variant last
    "test_sandbox_adding_a_service.py",
    "test_sandbox_cost.py",
    "test_sandbox_drift.py",
    "test_sandbox_environment_restored.py",
    "test_sandbox_restart.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the suite so the pooled sandbox restarts only when a test needs another program.

    A stable sort: every other test keeps its place; xdist's workers all sort alike.
    """

    def rank(item: pytest.Item) -> int:
        name = item.path.name
        if name in FIRST:
            return 0
        return 2 + LAST.index(name) if name in LAST else 1

    items.sort(key=rank)
