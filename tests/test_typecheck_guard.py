"""``make typecheck`` still checks resource arguments against pulumi_aws's own types.

A type checker that cannot see pulumi_aws (a missing interpreter, an ``ignore-missing-imports`` or
``replace-imports-with-any`` that matches it, a silenced error kind) passes every program, so this
runs the project's pyrefly configuration on two calls pulumi would only refuse at ``pulumi up``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"

PROBE = '''"""Two resources declared with arguments their classes do not accept, and one declared right."""

import pulumi_aws as aws

aws.sqs.Queue("q", bogus_kw=1)
aws.cloudwatch.LogGroup("g", retention_in_days="fourteen")
aws.sqs.Queue("ok", visibility_timeout_seconds=30)
'''
UNKNOWN_KEYWORD_LINE, WRONG_TYPE_LINE = 5, 6


def test_the_type_check_refuses_an_unknown_keyword_and_a_wrongly_typed_resource_argument(tmp_path: Path) -> None:
    # GIVEN a module with an unknown keyword on a Queue and a string where LogGroup takes an int
    probe = tmp_path / "resources_probe.py"
    probe.write_text(PROBE)
    # WHEN pyrefly checks it with the configuration `make typecheck` uses
    result = subprocess.run(
        [sys.executable, "-m", "pyrefly", "check", "--config", str(PYPROJECT), "--output-format", "json", str(probe)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # THEN the check fails with exactly those two errors, each naming the offending argument
    assert result.returncode == 1, result.stderr
    errors = {error["line"]: error["description"] for error in json.loads(result.stdout)["errors"]}
    assert sorted(errors) == [UNKNOWN_KEYWORD_LINE, WRONG_TYPE_LINE], errors
    assert "pulumi_aws.sqs.queue.Queue" in errors[UNKNOWN_KEYWORD_LINE]
    assert "Unexpected keyword argument `bogus_kw`" in errors[UNKNOWN_KEYWORD_LINE]
    assert "pulumi_aws.cloudwatch.log_group.LogGroup" in errors[WRONG_TYPE_LINE]
    assert "not assignable to parameter `retention_in_days`" in errors[WRONG_TYPE_LINE]
