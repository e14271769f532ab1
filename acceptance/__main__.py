"""``make verify``: ``python -m acceptance [--stack NAME | --outputs FILE | --sandbox DIR]``.

Exit status: 0 every check passed, 1 a check failed, 2 the target cannot be checked (the one line
printed says why; nothing was created).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from acceptance.target import TargetError, aws_target, outputs_of_file, outputs_of_stack, sandbox_target

PROJECT_DIR = Path(__file__).resolve().parent.parent


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    """The command line (the Makefile passes STACK, OUTPUTS, or neither for the sandbox)."""
    parser = argparse.ArgumentParser(prog="make verify", description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--stack", help="a deployed stack: reads `pulumi stack output --json --stack NAME`")
    where.add_argument("--outputs", type=Path, help="a deployed stack's outputs JSON (pulumi stack output --json)")
    where.add_argument("--sandbox", type=Path, default=PROJECT_DIR / ".sandbox", help="a running sandbox's state dir")
    parser.add_argument("--junit", type=Path, help="where the JUnit XML goes (default: .verify/junit-<stack>.xml)")
    parser.add_argument("--deadline", type=float, help="seconds the scenario may take (AWS 60, sandbox 10)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Resolve the target (exit 2 with one line if it cannot be checked), then run every check."""
    args = parse_arguments(argv)
    try:
        if args.stack is not None:
            target = aws_target(outputs_of_stack(args.stack), args.stack)
        elif args.outputs is not None:
            target = aws_target(outputs_of_file(args.outputs))
        else:
            target = sandbox_target(args.sandbox)
    except TargetError as error:
        print(f"make verify: {error}", file=sys.stderr)
        return 2
    if args.deadline is not None:
        target.deadline_seconds = args.deadline
    from acceptance.run import run  # pytest, the program and its mocks: only once there is a target

    junit = args.junit or PROJECT_DIR / ".verify" / f"junit-{target.stack}.xml"
    return run(target, junit=junit)


if __name__ == "__main__":
    sys.exit(main())
