"""How long a new user waits: ``make sandbox`` and ``make test`` on a fresh clone (run by hand).

Clones the repository's committed HEAD into a temporary directory and, with nothing installed
there, times ``make sandbox`` until it prints "ready" (then stops it with Ctrl-C, as a user
would) or ``make test`` to its end. ``--cold`` also hides the pip and uv download caches, as on a
new machine. Needs only Python and make: run it with the system interpreter, e.g.
``python3 -m bench.fresh_clone --cold sandbox``. On a shared machine, repeat and compare runs
made at the same load (printed with each result).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"


def _default_sigint() -> None:
    # A shell's background job ignores SIGINT, and so would make: the "Ctrl-C" below must reach it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _sandbox_ready_seconds(clone: Path, env: dict[str, str], api_port: int, aws_port: int, timeout: float) -> float:
    """Seconds from ``make sandbox`` to its "ready" line; the sandbox is stopped with SIGINT."""
    started = time.monotonic()
    process = subprocess.Popen(
        ["make", "sandbox", f"API_PORT={api_port}", f"AWS_PORT={aws_port}"],
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=_default_sigint,
    )
    assert process.stdout is not None
    seen: list[str] = []
    try:
        for line in process.stdout:
            seen.append(line)
            if "ready in" in line:
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                break
        raise RuntimeError("make sandbox did not get ready:\n" + "".join(seen[-30:]))
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()


def _make_test_seconds(clone: Path, env: dict[str, str]) -> float:
    """Seconds ``make test`` takes, install included; raises if it fails."""
    started = time.monotonic()
    subprocess.run(["make", "test"], cwd=clone, env=env, check=True)
    return time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    """Clone, run the chosen target, print the wall time and the machine's load."""
    parser = argparse.ArgumentParser(prog="python3 -m bench.fresh_clone", description=__doc__)
    parser.add_argument("target", choices=["sandbox", "test"])
    parser.add_argument("--cold", action="store_true", help="no pip or uv download cache, as on a new machine")
    parser.add_argument("--api-port", type=int, default=3100)
    parser.add_argument("--aws-port", type=int, default=4600)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for 'ready'")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    if args.cold:
        env.update(UV_NO_CACHE="1", PIP_NO_CACHE_DIR="1")
    with tempfile.TemporaryDirectory(prefix="eda-demo-fresh-") as tmp:
        clone = Path(tmp) / "eda-demo"
        subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
        load_before = _load()
        if args.target == "sandbox":
            seconds = _sandbox_ready_seconds(clone, env, args.api_port, args.aws_port, args.timeout)
            what = "make sandbox ready"
        else:
            seconds = _make_test_seconds(clone, env)
            what = "make test done"
    cache = "cold" if args.cold else "warm"
    print(f"{what} after {seconds:.1f} s on a fresh clone ({cache} caches; load {load_before} -> {_load()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
