"""The sandbox from a shell: the file a user sources, and the commands ``make sandbox`` suggests.

``. .sandbox/env`` puts the project's ``.venv/bin`` (with the AWS CLI) first on ``PATH``, sets
dummy credentials, the region and ``AWS_ENDPOINT_URL`` (honoured by the AWS CLI and every SDK, so
a plain ``aws dynamodb scan`` reaches the sandbox), ``API`` (the local API) and one variable per
stack output (``ORDERS_TABLE_NAME``, ``PAYMENT_STATE_MACHINE_ARN``, ...), so no ``jq`` is needed.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ENV_FILE = "env"
#: Variables that would send the AWS CLI elsewhere or mix real credentials with the dummy ones.
_CLEARED = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")


def output_variable(key: str) -> str:
    """The shell variable of a stack output: ``orders_table_name`` -> ``ORDERS_TABLE_NAME``."""
    return key.upper()


def env_file(*, bin_dir: Path, region: str, endpoint_url: str, api_url: str, outputs: Mapping[str, Any]) -> str:
    """The text of the env file (POSIX shell)."""
    variables = {
        "AWS_ACCESS_KEY_ID": "sandbox",
        "AWS_SECRET_ACCESS_KEY": "sandbox",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_ENDPOINT_URL": endpoint_url,
        "API": api_url,
        **{output_variable(key): str(value) for key, value in sorted(outputs.items())},
    }
    lines = [
        "# Written by `make sandbox` for its current run. Source it: . .sandbox/env",
        "# Then `aws ...` (the AWS CLI of .venv) and every AWS SDK talk to the sandbox's AWS endpoint.",
        f'export PATH={shlex.quote(str(bin_dir))}:"$PATH"',
        f"unset {' '.join(_CLEARED)}",
        *(f"export {name}={shlex.quote(value)}" for name, value in variables.items()),
    ]
    return "\n".join(lines) + "\n"


def try_commands(*, env_path: str, api_url: str, outputs: Mapping[str, Any], express: bool = False) -> list[str]:
    """The commands ``make sandbox`` prints, names filled in (after sourcing ``env_path``).

    An ``express`` workflow has no execution list (ListExecutions is refused): its log group is shown.
    """
    if express:
        executions = "aws logs filter-log-events --log-group-name " + shlex.quote(
            str(outputs["payment_workflow_log_group_name"])
        )
    else:
        executions = "aws stepfunctions list-executions --state-machine-arn " + shlex.quote(
            str(outputs["payment_state_machine_arn"])
        )
    return [
        f". {shlex.quote(env_path)}",
        f'curl -X POST {api_url}/order -d \'{{"id":101,"amount":100}}\'',
        f"curl {api_url}/order/101",
        f"aws dynamodb scan --table-name {shlex.quote(str(outputs['orders_table_name']))}",
        executions,
        f"aws logs filter-log-events --log-group-name {shlex.quote(str(outputs['catch_all_log_group_name']))}",
    ]
