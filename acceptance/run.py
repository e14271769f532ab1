"""Run the checks against a resolved target: the console lines, JUnit XML, pytest's exit status."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import TextIO

import pytest

from acceptance.plugin import VerifyPlugin
from acceptance.target import RESERVED_IDS, Target
from sandbox.program.evaluation import Program, evaluate

SUITE_DIR = Path(__file__).resolve().parent


def expected_program(target: Target) -> Program:
    """The program as it declares the target's stack (its config files, in the target's region)."""
    return evaluate(target.stack, overrides={"aws:region": target.region})


@contextlib.contextmanager
def _plugin_autoload_disabled() -> Generator[None]:
    saved = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = saved


def header(target: Target) -> list[str]:
    """What the run says before any check: the target and the orders it will create."""
    first, second = target.ids
    lines = [
        f"make verify: {target.describe()}",
        f"It creates two orders, ids {first} and {second}, and changes nothing else; every run takes new ids "
        f"from the reserved range {RESERVED_IDS.start}-{RESERVED_IDS.stop - 1} (acceptance/target.py).",
    ]
    if target.sandbox:
        lines.append("Commands below talk to the sandbox once `. .sandbox/env` is sourced.")
    return lines


def run(
    target: Target,
    expected: Program | None = None,
    *,
    junit: Path | None = None,
    select: Sequence[str] = (),
    out: TextIO | None = None,
) -> int:
    """Every check (or the ``select``ed files / node ids of ``acceptance/``) against ``target``: pytest's status."""
    stream = out or sys.stdout
    for line in header(target):
        stream.write(line + "\n")
    plugin = VerifyPlugin(target, expected or expected_program(target), stream)
    paths = [str(SUITE_DIR / name) for name in select] or [str(SUITE_DIR)]
    args = [
        *paths,
        "-p", "no:terminal", "-p", "no:cacheprovider",
        # Both collect the heap at the end of a run (seconds, in a process holding the sandbox).
        "-p", "no:unraisableexception", "-p", "no:threadexception",
        "-s", "--rootdir", str(SUITE_DIR.parent), "-c", str(SUITE_DIR / "pytest.ini"),
    ]  # fmt: skip
    if junit is not None:
        junit.parent.mkdir(parents=True, exist_ok=True)
        args += [f"--junitxml={junit}", "-o", "junit_suite_name=make-verify", "-o", "junit_family=xunit1"]
    # The suite needs no installed pytest plugin: not loading them saves a second per run.
    with _plugin_autoload_disabled():
        status = int(pytest.main(args, plugins=[plugin]))
    counts = plugin.counts
    stream.write(
        f"{counts['PASS']} passed, {counts['FAIL']} failed"
        + (f"; JUnit XML in {junit}" if junit is not None else "")
        + "\n"
    )
    return status
