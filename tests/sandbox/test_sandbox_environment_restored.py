"""The process environment after a sandbox stops is as before it started.

A module of its own: it stops the shared sandbox.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sandbox_testkit import SandboxPool

from sandbox.functions import environment
from sandbox.program.evaluation import Program
from sandbox.runtime import Sandbox


def test_the_process_environment_is_unchanged_after_the_sandbox_stops(
    sandbox_pool: SandboxPool, dev_program: Program, tmp_path: Path
) -> None:
    # GIVEN no sandbox running, and the process environment as it is
    sandbox_pool.release()
    before = dict(os.environ)
    assert type(os.environ) is os._Environ
    # WHEN a sandbox starts, one of its functions writes and deletes variables, and it stops
    sandbox = Sandbox(dev_program, aws_port=0, api_port=0, state_dir=tmp_path, delay_scale=0.001)
    with sandbox:
        fn = next(fn for fn in sandbox.functions.functions.values() if fn.handler == "handlers.get_order.handler")

        def probe(event: dict[str, Any], context: Any) -> None:
            os.environ["WRITTEN_BY"] = context.function_name
            os.environ.pop("PATH")

        fn._entry = probe  # the function's module stays loaded; the sandbox is stopped right after
        sandbox.functions.invoke(fn.arn, {})
        assert type(os.environ) is environment.ThreadAwareEnviron
        assert fn.variables["WRITTEN_BY"] == fn.name and fn.variables["PATH"] is None
    # THEN os.environ is the standard library's again, with the same variables
    assert type(os.environ) is os._Environ
    assert dict(os.environ) == before
