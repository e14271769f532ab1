"""``make sandbox``: deploy this Pulumi program onto an embedded AWS and run it until Ctrl-C.

The ports are checked first, before the program is evaluated or moto imported, so a port in
use is reported at once.
"""

from __future__ import annotations

import argparse
import faulthandler
import gc
import json
import logging
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from sandbox.console import DEFAULT_ORDERS as CONSOLE_ORDERS
from sandbox.console import DEFAULT_PORT as CONSOLE_PORT
from sandbox.ports import PortInUseError, check_ports

if TYPE_CHECKING:
    from sandbox.runtime import Sandbox

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    """The command line of ``make sandbox`` (the Makefile passes its variables through)."""
    parser = argparse.ArgumentParser(prog="make sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev", help="stack whose Pulumi.<stack>.yaml to use (default: dev)")
    parser.add_argument("--api-port", type=int, default=3000, help="port of the local API (default: 3000)")
    parser.add_argument("--aws-port", type=int, default=4566, help="port of the AWS endpoint (default: 4566)")
    parser.add_argument(
        "--console-port", type=int, default=CONSOLE_PORT, help=f"port of the console page (default: {CONSOLE_PORT})"
    )
    parser.add_argument(
        "--console-orders",
        type=_positive,
        default=CONSOLE_ORDERS,
        help=f"orders whose traces the console keeps, the newest (default: {CONSOLE_ORDERS})",
    )
    parser.add_argument("--no-console", action="store_true", help="run without the console")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=PROJECT_DIR / ".sandbox",
        help="where outputs.json, outbox.jsonl and env (source it for the AWS CLI) go",
    )
    parser.add_argument("--verbose", action="store_true", help="also print function logs and deliveries")
    return parser.parse_args(argv)


def _shown(path: Path) -> str:
    """``path`` as a user in the current directory types it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def start(args: argparse.Namespace) -> Sandbox:
    """Evaluate the stack's program and start its sandbox (raises ValueError for a refused config)."""
    from sandbox.program.evaluation import evaluate
    from sandbox.runtime import Sandbox

    program = evaluate(args.stack)
    console = sys.stdout  # the sandbox routes sys.stdout to function log groups once started

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
        console_port=None if args.no_console else args.console_port,
        console_orders=args.console_orders,
    )
    sandbox.start()
    return sandbox


def print_banner(sandbox: Sandbox, stack: str, seconds: float) -> None:
    """What a user needs next: the outputs, an API key if one is required, and commands to try."""
    from sandbox import shell

    program = sandbox.program
    print(f"{program.project} sandbox: stack {stack}, {len(program.resources)} resources, ready in {seconds:.1f}s")
    print(f"Outputs (also in {sandbox.state_dir / 'outputs.json'}):")
    print(json.dumps(sandbox.outputs, indent=2))
    keys = sorted(sandbox.api_keys)
    if keys:
        auth_key = program.config_key("apiAuth")
        print(f"The API requires a key ({auth_key} API_KEY): send 'x-api-key: {keys[0]}'")
    express = any(m.get("type") == "EXPRESS" for m in program.of_type("aws:sfn/stateMachine:StateMachine"))
    source, *rest = shell.try_commands(
        env_path=_shown(sandbox.env_path), api_url=sandbox.api_url, outputs=sandbox.outputs, express=express
    )
    if sandbox.console is not None:
        print(f"\nConsole: {sandbox.console.url}  (each order's journey, live; faults on demand)")
    print(
        f"\nAWS endpoint: {sandbox.endpoint_url} (the README lists what it serves)."
        "\nIn another shell, from this directory:\n"
        f"  {source}    # PATH with the AWS CLI, dummy credentials, AWS_ENDPOINT_URL, $API, the outputs\n"
        + "".join(f"  {command}\n" for command in rest)
        + f"Emails go to {_shown(sandbox.state_dir / 'outbox.jsonl')}; events breaking their contract are"
        f" marked and go to {_shown(sandbox.contracts.path)}. Ctrl-C stops.\n",
        flush=True,
    )


def serve_until_stopped() -> None:
    """Block until Ctrl-C (KeyboardInterrupt, left to the caller) or SIGTERM."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # `kill -USR1 <pid>` prints every thread's stack: what a stuck sandbox is waiting for.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    while not stop.wait(0.5):
        pass


def main(argv: list[str] | None = None) -> int:
    """Check the ports, start the sandbox, print what to try, serve until interrupted."""
    args = parse_arguments(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(name)s: %(message)s")
    started = time.monotonic()
    try:
        check_ports(args.api_port, args.aws_port, None if args.no_console else args.console_port)
        sandbox = start(args)
    except PortInUseError as error:
        print(f"sandbox: {error}", file=sys.stderr)
        return 2
    except ValueError as error:  # a config error names its key (or the stack)
        print(f"sandbox: the program refused stack {args.stack!r}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C while starting: what had started is stopped already
        print("sandbox: interrupted while starting", file=sys.stderr)
        return 130
    try:
        print_banner(sandbox, args.stack, time.monotonic() - started)
        serve_until_stopped()
    except KeyboardInterrupt:  # Ctrl-C, even while the banner is being printed
        pass
    finally:
        print("\nsandbox: stopping", flush=True)
        sandbox.stop()
    return 0


if __name__ == "__main__":
    code = main()
    # Exit without collecting the heap object by object (about half a second after Ctrl-C).
    gc.freeze()
    sys.exit(code)
