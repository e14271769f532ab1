"""Shared fixtures: the program as declared for the ``dev`` and ``alice`` stacks.

``evaluate`` runs ``__main__.py`` inside ``@pulumi.runtime.test`` and returns every resource
with its inputs already resolved, so whole-graph tests on these fixtures assert on plain data.
Tests that build components themselves (``tests/program/test_program_components.py``,
``test_program_operations_components.py``) either are decorated with ``@pulumi.runtime.test`` and
assert on Outputs, or build them through a decorated inner program run to completion (``_build``)
and assert on the plain values it registered.
"""

from __future__ import annotations

import gc
import os

import pytest
from hypothesis import settings

from sandbox.program.evaluation import Program, evaluate

# Locally, property tests explore new examples each run; in CI (CI=true) they replay a fixed
# sequence, so a landing is never decided by the luck of a draw.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# The suite allocates millions of short-lived objects (Pulumi Outputs, botocore requests, moto
# models) on top of a heap of ~1,800 imported modules. At Python's default thresholds the cyclic
# collector ran about 5,000 times per worker and took 5-8 s of each worker's run; at these it runs
# about 50 times for 2-3 s, at the cost of ~100 MB more peak memory.
gc.set_threshold(50_000, 20, 100)


@pytest.fixture(scope="session")
def dev_program() -> Program:
    """The program evaluated under mocks with the ``dev`` stack's config (Pulumi.yaml + Pulumi.dev.yaml)."""
    return evaluate("dev")


@pytest.fixture(scope="session")
def alice_program() -> Program:
    """A second developer's stack, with the same defaults."""
    return evaluate("alice")


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Freeze the heap, so the interpreter's collection at exit skips it.

    A run holds the program's resources, moto's models and ~1,800 imported modules; collecting
    them at exit took each process about half a second, most of the wait for the workers to stop.
    """
    gc.freeze()


#: The browser the console's browser tests drive (Debian's chromium package; `.ci/run` installs it in CI).
CHROMIUM = "/usr/bin/chromium"
_NO_CHROMIUM = f"browser tests not run: they need Chromium at {CHROMIUM} (Debian/Ubuntu: sudo apt-get install chromium)"


def pytest_configure(config: pytest.Config) -> None:
    """The ``browser`` marker: a test that drives Chromium through Playwright."""
    config.addinivalue_line("markers", "browser: drives Chromium (/usr/bin/chromium) through Playwright")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without Chromium, outside CI, the browser tests are left out (and the summary says so in one line).

    In CI (``CI=true``) they run regardless, so a missing browser fails them.
    """
    if os.path.exists(CHROMIUM) or os.environ.get("CI"):
        return
    left_out = [item for item in items if item.get_closest_marker("browser")]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not item.get_closest_marker("browser")]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The one line that says the browser tests did not run, and how to get them."""
    if not os.path.exists(CHROMIUM) and not os.environ.get("CI"):
        terminalreporter.write_line(_NO_CHROMIUM, yellow=True)
