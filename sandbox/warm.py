"""Byte-compile what the sandbox and the tests load, once, right after ``make`` installs.

One order through a sandbox imports moto's services, the Step Functions interpreter and the
handlers, so Python compiles them at install time instead of in the first ``make test`` or
``make sandbox``. uv installs without compiling, and compiling every module of pulumi_aws would
take minutes; a run compiles only what it imports. Prints nothing; a failure here is a broken
install.
"""

from __future__ import annotations

import json
import tempfile
import urllib.request
from pathlib import Path

import hypothesis  # noqa: F401  (imported for its bytecode)
import jsonschema  # noqa: F401
import parliament  # noqa: F401
import pytest  # noqa: F401
import xdist  # noqa: F401

from sandbox.program import evaluate
from sandbox.runtime import Sandbox


def main() -> None:
    """Start the dev stack's sandbox on free ports, place one order, wait for it, stop."""
    with tempfile.TemporaryDirectory() as state_dir:
        sandbox = Sandbox(evaluate("dev"), aws_port=0, api_port=0, state_dir=Path(state_dir), on_trace=lambda _: None)
        with sandbox:
            body = json.dumps({"id": 1, "amount": 10}).encode()
            request = urllib.request.Request(f"{sandbox.api_url}/order", data=body, method="POST")
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
            sandbox.wait_idle(30)


if __name__ == "__main__":
    main()
