"""``make cost``: meter orders in the sandbox for a stack and both workflow types, price them, report.

The stack's config runs in a sandbox, then the same config with the other ``paymentWorkflowType``;
each meters the same batch of orders (alternately below and above the fraud threshold). The report
prices both side by side on the console, and writes ``cost-<stack>.csv`` and ``cost-<stack>.svg``
under the state directory. ``--readme`` rewrites README.md's "What it costs" section instead, from
the default ``dev`` config with and without email notifications.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from components.settings import EXPRESS, STANDARD
from cost.meter import meter, mix, order_batches, workflow_type
from cost.prices import prices_for
from cost.pricing import check_orders, price, without_email
from cost.report import console_table, csv_text, readme_section, replace_section, svg_chart
from cost.usage import Assumptions, Usage
from sandbox.program.evaluation import PROJECT_DIR, Program, evaluate, project_name
from sandbox.runtime import Sandbox

#: The address the README's runs subscribe, so that email deliveries are metered.
README_EMAIL = "orders@example.com"
README_ORDERS = 1_000_000
#: The README's runs meter one order of each kind (the test that keeps the section current does too).
README_BATCH = 1
#: Orders metered per kind of order (payment succeeded, payment failed) and workflow type.
DEFAULT_BATCH = 5


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line (``make cost`` passes STACK and ORDERS)."""
    defaults = Assumptions()
    parser = argparse.ArgumentParser(prog="make cost", description=__doc__)
    parser.add_argument("--stack", default="dev", help="the stack whose config is priced (default: dev)")
    parser.add_argument("--orders", default=str(README_ORDERS), help="ORDERS: orders a month (default: 1000000)")
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="orders metered per kind and workflow type")
    parser.add_argument("--state-dir", type=Path, default=PROJECT_DIR / ".sandbox", help="where CSV and SVG go")
    parser.add_argument("--lambda-duration-ms", type=float, default=defaults.lambda_duration_ms)
    parser.add_argument("--express-duration-ms", type=float, default=defaults.express_duration_ms)
    parser.add_argument("--express-memory-mb", type=int, default=defaults.express_memory_mb)
    parser.add_argument("--orders-per-second", type=float, default=defaults.orders_per_second)
    parser.add_argument("--kms-requests-per-publish", type=float, default=defaults.kms_requests_per_publish)
    parser.add_argument("--include-free-tier", action="store_true", help="subtract AWS's monthly free tiers")
    parser.add_argument(
        "--readme", action="store_true", help="rewrite README.md's 'What it costs' section (default assumptions)"
    )
    return parser.parse_args(argv)


def assumptions_of(args: argparse.Namespace) -> Assumptions:
    """The assumptions the options set."""
    return Assumptions(
        lambda_duration_ms=args.lambda_duration_ms,
        express_duration_ms=args.express_duration_ms,
        express_memory_mb=args.express_memory_mb,
        orders_per_second=args.orders_per_second,
        kms_requests_per_publish=args.kms_requests_per_publish,
        include_free_tier=args.include_free_tier,
    )


def with_workflow_type(stack: str, kind: str, **overrides: str) -> Program:
    """The stack's program with ``paymentWorkflowType: kind`` (and other config ``overrides`` by key)."""
    project = project_name()
    config = {f"{project}:{key}": value for key, value in {**overrides, "paymentWorkflowType": kind}.items()}
    return evaluate(stack, overrides=config)


def metered(program: Program, per_kind: int, state_dir: Path) -> Usage:
    """Start a sandbox of ``program`` on free ports, meter ``per_kind`` orders of each kind, stop it.

    The result is an order drawn evenly from both kinds (payment succeeded, payment failed).
    """
    with Sandbox(program, aws_port=0, api_port=0, state_dir=state_dir, on_trace=lambda _: None) as sandbox:
        return mix([meter(sandbox, batch) for batch in order_batches(program, per_kind).values()])


def readme_reports(standard: Usage, express: Usage, assumptions: Assumptions) -> str:
    """The README section from metered usage of the default config (with email) in both workflow types."""
    prices = prices_for(standard.region)
    reports = [price(usage, prices, assumptions, README_ORDERS) for usage in (standard, express)]
    bare = [price(without_email(usage), prices, assumptions, README_ORDERS) for usage in (standard, express)]
    return readme_section(reports[0], reports[1], bare[0], bare[1])


def readme_programs() -> tuple[Program, Program]:
    """The default ``dev`` config with an email subscription, in STANDARD and in EXPRESS."""
    return (
        with_workflow_type("dev", STANDARD, notificationEmail=README_EMAIL),
        with_workflow_type("dev", EXPRESS, notificationEmail=README_EMAIL),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``make cost``; 2 on bad input (naming the option), 0 otherwise."""
    args = parse_arguments(argv)
    try:
        orders = check_orders(args.orders)
        if args.batch < 1:
            raise ValueError(f"--batch must be a positive number of orders per kind, got {args.batch}")
        assumptions = assumptions_of(args)
        if args.readme:
            return _write_readme(README_BATCH)
        program = evaluate(args.stack)
        prices = prices_for(program.region)
        other = with_workflow_type(args.stack, EXPRESS if workflow_type(program) == STANDARD else STANDARD)
    except ValueError as error:  # ConfigError and PriceError are ValueErrors too
        print(f"make cost: {error}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        reports = [price(metered(p, args.batch, Path(scratch)), prices, assumptions, orders) for p in (program, other)]
    print(console_table(reports[0], reports[1]))
    args.state_dir.mkdir(parents=True, exist_ok=True)
    csv_path, svg_path = (args.state_dir / f"cost-{args.stack}.{ext}" for ext in ("csv", "svg"))
    csv_path.write_text(csv_text(reports))
    svg_path.write_text(svg_chart(reports))
    print(f"\nwritten: {csv_path}, {svg_path}")
    return 0


def _write_readme(batch: int) -> int:
    """README.md's section, at the default assumptions (the options price the console report only)."""
    standard_program, express_program = readme_programs()
    with tempfile.TemporaryDirectory() as scratch:
        standard, express = (metered(p, batch, Path(scratch)) for p in (standard_program, express_program))
    section = readme_reports(standard, express, Assumptions())
    readme = PROJECT_DIR / "README.md"
    readme.write_text(replace_section(readme.read_text(), section))
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
