"""A hung test fails at the per-test limit (pytest-timeout) instead of holding the suite until CI's.

The control runs pytest on a test that sleeps, with the project's configuration and the limit
lowered to one second, so it takes about as long as pytest's start.
"""

from __future__ import annotations

import subprocess
import sys
import time
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"

HUNG = '''"""A test that never finishes by itself."""

import time


def test_hangs() -> None:
    time.sleep(60)
'''


def test_the_suite_has_a_per_test_limit() -> None:
    # GIVEN the project's pytest configuration  WHEN its timeout is read  THEN there is one, in seconds
    options = tomllib.loads(PYPROJECT.read_text())["tool"]["pytest"]["ini_options"]
    assert 0 < int(options["timeout"]) <= 120


def test_a_hung_test_fails_at_the_limit(tmp_path: Path) -> None:
    # GIVEN a test that sleeps for a minute
    (tmp_path / "test_hung.py").write_text(HUNG)
    started = time.monotonic()
    # WHEN pytest runs it with the project's configuration and a one-second limit
    # Without the plugins the probe does not need, pytest starts in about a second of CPU.
    unneeded = ["-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:hypothesispytest"]
    options = ["-c", str(PYPROJECT), "--rootdir", str(tmp_path), *unneeded, "-o", "timeout=1"]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *options, str(tmp_path / "test_hung.py")],
        capture_output=True,
        text=True,
        timeout=50,
    )
    # THEN it fails as timed out, long before the sleep would have ended
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Failed: Timeout (>1.0s) from pytest-timeout" in result.stdout
    assert "1 failed" in result.stdout
    assert time.monotonic() - started < 40
