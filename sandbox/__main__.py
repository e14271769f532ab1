"""``make sandbox``: deploy this Pulumi program onto an embedded AWS and run it until Ctrl-C."""

from __future__ import annotations

import argparse
import faulthandler
import json
import logging
import signal
import sys
import threading
import time
from pathlib import Path

from sandbox import shell
from sandbox.program import PROJECT_DIR, evaluate
from sandbox.runtime import PortInUseError, Sandbox


def _shown(path: Path) -> str:
    """``path`` as a user in the current directory types it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, start the sandbox, print its outputs, serve until interrupted."""
    parser = argparse.ArgumentParser(prog="make sandbox", description=__doc__)
    parser.add_argument("--stack", default="dev", help="stack whose Pulumi.<stack>.yaml to use (default: dev)")
    parser.add_argument("--api-port", type=int, default=3000, help="port of the local API (default: 3000)")
    parser.add_argument("--aws-port", type=int, default=4566, help="port of the AWS endpoint (default: 4566)")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=PROJECT_DIR / ".sandbox",
        help="where outputs.json, outbox.jsonl and env (source it for the AWS CLI) go",
    )
    parser.add_argument("--verbose", action="store_true", help="also print function logs and deliveries")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(name)s: %(message)s")

    started = time.monotonic()
    try:
        program = evaluate(args.stack)
    except ValueError as error:  # a config error names its key
        print(f"sandbox: the program refused stack {args.stack!r}: {error}", file=sys.stderr)
        return 2

    console = sys.stdout

    def trace(line: str) -> None:
        console.write(f"  {time.strftime('%H:%M:%S')}  {line}\n")
        console.flush()

    sandbox = Sandbox(
        program,
        aws_port=args.aws_port,
        api_port=args.api_port,
        state_dir=args.state_dir,
        on_trace=trace,
        echo_function_logs=args.verbose,
    )
    try:
        sandbox.start()
    except PortInUseError as error:
        print(f"sandbox: {error}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # `kill -USR1 <pid>` prints every thread's stack: what a stuck sandbox is waiting for.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    try:
        print(
            f"eda-demo sandbox: stack {args.stack}, {len(program.resources)} resources, "
            f"ready in {time.monotonic() - started:.1f}s"
        )
        print(f"Outputs (also in {sandbox.state_dir / 'outputs.json'}):")
        print(json.dumps(sandbox.outputs, indent=2))
        keys = sorted(sandbox.api_keys)
        if keys:
            print(f"The API requires a key (eda-demo:apiAuth API_KEY): send 'x-api-key: {keys[0]}'")
        commands = shell.try_commands(
            env_path=_shown(sandbox.env_path), api_url=sandbox.api_url, outputs=sandbox.outputs
        )
        source, *rest = commands
        print(
            f"\nAWS endpoint: {sandbox.endpoint_url} (the README lists what it serves)."
            "\nIn another shell, from this directory:\n"
            f"  {source}    # PATH with the AWS CLI, dummy credentials, AWS_ENDPOINT_URL, $API, the outputs\n"
            + "".join(f"  {command}\n" for command in rest)
            + f"Emails go to {_shown(sandbox.state_dir / 'outbox.jsonl')}. Ctrl-C stops.\n",
            flush=True,
        )
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        print("\nsandbox: stopping", flush=True)
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
