"""The README's sandbox steps, run as written in bash, on a fresh shell, against a running sandbox.

The only things the shell gets are what the README says: the sandbox's env file (sourced by the
block's first command) and the tools the project installs. No AWS variables, no ``.venv`` on
``PATH``, an empty home directory (no ``~/.aws``). Each command must exit 0 and print what its
``# → ...`` comment says.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

from sandbox.program.evaluation import PROJECT_DIR
from sandbox.runtime import Sandbox

MARKER = "@@readme-exit-status="


def readme_sandbox_commands(readme: str) -> list[tuple[str, str]]:
    """``(command, what its output must contain)`` for each line of the sandbox section's shell block."""
    section = readme.split("\n## The sandbox\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)
    block = next(b for b in blocks if ". .sandbox/env" in b)
    commands = []
    for line in block.splitlines():
        if line.strip():
            claim = line.split("# → ", 1)[1].strip() if "# → " in line else ""
            commands.append((line, claim))
    return commands


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_readme_block_is_parsed_with_its_claims() -> None:
    # GIVEN the README WHEN its sandbox block is parsed
    commands = readme_sandbox_commands((PROJECT_DIR / "README.md").read_text())
    # THEN it starts by sourcing the env file, keeps the original's curl steps and makes its claims
    assert commands[0][0] == ". .sandbox/env"
    lines = [command for command, _ in commands]
    assert any(line.startswith('curl -X POST $API/order -d \'{"id":101,"amount":100}\'') for line in lines)
    assert any(line.startswith('curl -X POST $API/order -d \'{"id":102,"amount":600}\'') for line in lines)
    claims = dict(commands)
    assert (
        claims[next(line for line in lines if line.startswith("curl $API/order/101"))] == '"status": "OrderCompleted"'
    )
    assert (
        claims[next(line for line in lines if line.startswith("curl $API/order/102"))] == '"status": "OrderCancelled"'
    )
    assert not any("jq" in line for line in lines)


def test_every_readme_command_runs_as_written_and_shows_what_it_says(
    start_sandbox: Callable[..., Sandbox], tmp_path: Path
) -> None:
    # GIVEN a running sandbox whose state dir stands for .sandbox, and a shell with nothing set up
    sandbox = start_sandbox()
    commands = readme_sandbox_commands((PROJECT_DIR / "README.md").read_text())
    state_dir = shlex.quote(str(sandbox.state_dir))
    script = "".join(
        f"{line.replace('.sandbox/', f'{state_dir}/')}\nprintf '\\n{MARKER}%s\\n' \"$?\"\n" for line, _ in commands
    )
    venv_bin = str(Path(os.environ.get("VIRTUAL_ENV", PROJECT_DIR / ".venv")) / "bin")
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p and not p.startswith(venv_bin))
    home = tmp_path / "home"
    home.mkdir()
    environment = {"PATH": path, "HOME": str(home), "LANG": "C.UTF-8"}
    # WHEN the block runs in bash, command after command
    finished = subprocess.run(
        ["bash", "--noprofile", "--norc"],
        input=script,
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        env=environment,
        timeout=120,
    )
    # THEN every command exits 0 and its output contains what the README says
    outputs = re.split(rf"\n?{re.escape(MARKER)}(\d+)\n", finished.stdout)
    results = list(zip(outputs[0::2], outputs[1::2], strict=False))
    assert len(results) == len(commands), finished.stderr
    for (command, claim), (output, status) in zip(commands, results, strict=True):
        assert status == "0", f"{command!r} exited {status}: {finished.stderr}"
        assert _squeezed(claim) in _squeezed(output), f"{command!r} did not show {claim!r}:\n{output[:2000]}"
