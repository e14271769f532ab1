"""Rendering of priced reports (pure): a console table, CSV, an SVG chart, and the README section.

Every function takes :class:`~cost.pricing.Report` values and returns text; none reads or writes
files. The README's "What it costs" section lives between :data:`BEGIN` and :data:`END`;
:func:`replace_section` swaps it, as ``sandbox.catalog`` does for the event catalog.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from cost.prices import BYTES_PER_GB
from cost.pricing import LineItem, Report

BEGIN = "<!-- cost:begin -->"
END = "<!-- cost:end -->"

#: The README's recommendation, written once by hand: it weighs what the numbers above it show
#: (regenerated) against what EXPRESS gives up, and carries no figure that could go stale.
RECOMMENDATION = (
    "**Which workflow type.** STANDARD is the default because its execution history is the best "
    "debugging tool this system has: every payment decision can be looked up by execution, with its "
    "input, output and each step, in the console or through the API, at no cost beyond the transitions. "
    "At production volumes, though, STANDARD's price per state transition makes the payment workflow one "
    "of the largest lines of the bill, while EXPRESS runs the same short workflow for a small fraction of "
    "that, even after paying to ingest its log. What EXPRESS gives up: it has no execution history API, so "
    "its log group (at level ALL) is its only record, and it pays for that record as log ingestion; "
    "its executions are at-least-once, so a payment outcome can be published twice, which the design "
    "absorbs (update-order only moves an order out of CREATED, so a second outcome writes nothing and the "
    "order's outcome, which comes from the table's stream, goes out once; the customer may still get the "
    "payment's email twice); and an execution may "
    "last five minutes at most, well above this workflow's own timeout. Recommendation: keep STANDARD for "
    "development stacks and low volumes, where the free tier and the history are worth more than the "
    "difference; set `paymentWorkflowType: EXPRESS` on production stacks once on-call engineers read the "
    "execution log instead of the console's execution view. Email notifications, another of the largest "
    "lines, are a demo feature: a production system would notify customers through its own channel."
)


def usd(value: float) -> str:
    """Money for a reader: ``$1,234.56``, or four decimals below a cent (``$0.0035``), ``$0.00`` for zero."""
    if value == 0:
        return "$0.00"
    if abs(value) < 0.01:
        return f"${value:.4f}"
    return f"${value:,.2f}"


def _quantity(line: LineItem) -> str:
    if line.fixed:
        return f"{line.monthly_units:g} fixed"
    if line.rate.unit.startswith("GB "):  # bytes read better than billionths of a GB
        return f"{line.units_per_order * BYTES_PER_GB:,.0f} B"
    return f"{line.units_per_order:.4g}"


def _share(value: float) -> str:
    return f"{value:.1%}"


def _same_run(reports: Sequence[Report]) -> None:
    """Reports shown together must price the same stack, region and number of orders."""
    if not reports:
        raise ValueError("no report to render")
    first = reports[0]
    for other in reports[1:]:
        if (other.stack, other.region, other.orders) != (first.stack, first.region, first.orders):
            raise ValueError(
                "reports shown together must share stack, region and orders, got "
                f"{first.stack}/{first.region}/{first.orders} and {other.stack}/{other.region}/{other.orders}"
            )


def _keys(reports: Sequence[Report]) -> list[tuple[str, str]]:
    """Every line's ``(service, item)``: the first report's order, others' lines after their predecessor."""
    keys: list[tuple[str, str]] = []
    for report in reports:
        previous: tuple[str, str] | None = None
        for line in report.items:
            if line.key not in keys:
                keys.insert(keys.index(previous) + 1 if previous is not None else 0, line.key)
            previous = line.key
    return keys


SEPARATOR = "  "


def _pad(rows: list[list[str]], right: set[int]) -> tuple[list[str], list[int]]:
    """Rows as aligned text, and the width of each column."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    text = [
        SEPARATOR.join(cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(row))
        for row in rows
    ]
    return [line.rstrip() for line in text], widths


def _dedupe(lines: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(lines))


def console_table(primary: Report, other: Report) -> str:
    """Plain text: ``primary`` (the stack's config) and ``other`` (its other workflow type) side by side.

    Columns: service, item, price, then units per order, cost and share for each report; a total
    line; then the assumptions, notes, unconfirmed prices and the price table's date and sources.
    """
    reports = [primary, other]
    _same_run(reports)
    lines_by_report = [{line.key: line for line in report.items} for report in reports]
    cost_header = f"cost/{primary.orders:,}"
    rows = [["service", "item", "price"] + ["units/order", cost_header, "share"] * 2]
    for key in _keys(reports):
        found = [by_key.get(key) for by_key in lines_by_report]
        rate = next(line.rate for line in found if line is not None)
        row = [key[0], key[1], rate.label()]
        for line in found:
            row += ["-", "-", "-"] if line is None else [_quantity(line), usd(line.cost), _share(line.share)]
        rows.append(row)
    rows.append(["total", "", ""] + [cell for report in reports for cell in ("", usd(report.total), "100.0%")])
    table, widths = _pad(rows, right={3, 4, 5, 6, 7, 8})
    rule = "-" * max(len(line) for line in table)
    # Each report's name starts above its first column.
    groups = ""
    for index, report in enumerate(reports):
        start = sum(widths[: 3 + 3 * index]) + len(SEPARATOR) * (3 + 3 * index)
        groups = groups.ljust(start) + report.workflow_type + (" (this stack)" if index == 0 else "")
    out = [
        f"What {primary.orders:,} orders a month cost: stack {primary.stack} in {primary.region}, "
        f"AWS list prices as of {primary.prices_as_of}",
        "",
        groups,
        table[0],
        rule,
        *table[1:-1],
        rule,
        table[-1],
        "",
        *_dedupe([*primary.assumptions, *other.assumptions]),
        "",
        *(f"Note: {note}" for note in primary.notes),
    ]
    if primary.unconfirmed:
        out += ["", "Prices no stored page confirmed (check them on the pricing page):"]
        out += [f"  {line}" for line in primary.unconfirmed]
    out += ["", f"Prices as of {primary.prices_as_of}, from:"]
    out += [f"  {service}: {url}" for service, url in primary.sources.items()]
    return "\n".join(out) + "\n"


CSV_COLUMNS = (
    "workflow_type",
    "stack",
    "region",
    "orders",
    "service",
    "item",
    "units_per_order",
    "price_usd",
    "price_per",
    "price_unit",
    "monthly_units",
    "billed_units",
    "cost_usd",
    "share",
    "fixed",
)


def csv_text(reports: Sequence[Report]) -> str:
    """CSV: a header, then one row per line item of each report (a column names its workflow type)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for report in reports:
        for line in report.items:
            writer.writerow(
                [
                    report.workflow_type,
                    report.stack,
                    report.region,
                    report.orders,
                    line.service,
                    line.item,
                    f"{line.units_per_order:.10g}",
                    f"{line.rate.usd:.10g}",
                    f"{line.rate.per:g}",
                    line.rate.unit,
                    f"{line.monthly_units:.10g}",
                    f"{line.billed_units:.10g}",
                    f"{line.cost:.6f}",
                    f"{line.share:.6f}",
                    "true" if line.fixed else "false",
                ]
            )
    return buffer.getvalue()


#: One colour per report in the chart, in the order the reports are given.
CHART_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")


def svg_chart(reports: Sequence[Report]) -> str:
    """An SVG bar chart of each service's cost, one bar per report, grouped by service.

    A service whose cost is zero in a report has no bar for it; services are ordered by their
    largest cost. The legend gives each report's total.
    """
    _same_run(reports)
    if len(reports) > len(CHART_COLOURS):
        raise ValueError(f"the chart shows at most {len(CHART_COLOURS)} reports, got {len(reports)}")
    costs = [report.by_service() for report in reports]
    services = {service for by_service in costs for service, cost in by_service.items() if cost > 0}
    ordered = sorted(services, key=lambda s: (-max(c.get(s, 0.0) for c in costs), s))
    largest = max((c.get(s, 0.0) for c in costs for s in ordered), default=0.0)
    label_width, bar_width, value_width = 150, 440, 90
    bar_height, group_gap, top = 14, 10, 76
    group_height = bar_height * len(reports) + group_gap
    width = label_width + bar_width + value_width + 20
    height = top + group_height * len(ordered) + 20
    first = reports[0]
    title = f"Cost of {first.orders:,} orders a month by service"
    subtitle = f"stack {first.stack} in {first.region}, AWS list prices as of {first.prices_as_of}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(f'{title}: {subtitle}')}</title>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="10" y="20" font-size="14" font-weight="bold">{escape(title)}</text>',
        f'<text x="10" y="38">{escape(subtitle)}</text>',
    ]
    for index, report in enumerate(reports):
        x = 10 + index * 220
        parts.append(f'<rect x="{x}" y="48" width="12" height="12" fill="{CHART_COLOURS[index]}"/>')
        parts.append(
            f'<text x="{x + 18}" y="59">{escape(report.workflow_type)}: total {escape(usd(report.total))}</text>'
        )
    for row, service in enumerate(ordered):
        y0 = top + row * group_height
        parts.append(
            f'<text x="{label_width - 8}" y="{y0 + bar_height * len(reports) / 2 + 4:g}" '
            f'text-anchor="end">{escape(service)}</text>'
        )
        for index, report in enumerate(reports):
            cost = costs[index].get(service, 0.0)
            if cost <= 0:
                continue
            y = y0 + index * bar_height
            length = max(1.0, bar_width * cost / largest) if largest else 1.0
            parts.append(
                f'<rect class="bar" data-service={quoteattr(service)} data-workflow={quoteattr(report.workflow_type)} '
                f'x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height - 2}" '
                f'fill="{CHART_COLOURS[index]}"><title>{escape(f"{service}, {report.workflow_type}: {usd(cost)}")}'
                "</title></rect>"
            )
            parts.append(
                f'<text x="{label_width + length + 4:.1f}" y="{y + bar_height - 3}">{escape(usd(cost))}</text>'
            )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def readme_section(
    standard: Report, express: Report, standard_without_email: Report, express_without_email: Report
) -> str:
    """Markdown for README.md's "What it costs" section (the text between :data:`BEGIN` and :data:`END`).

    The four reports price the same stack and number of orders (a million, for the README): the
    default STANDARD workflow and EXPRESS, each with and without email notifications. The section
    ends with :data:`RECOMMENDATION`.
    """
    reports = [standard, express, standard_without_email, express_without_email]
    _same_run(reports)
    orders = standard.orders
    out = [
        f"Per {orders:,} orders a month, metered in the sandbox on stack `{standard.stack}` and priced at "
        f"{standard.region} list prices as of {standard.prices_as_of}:",
        "",
        "| payment workflow | with email notifications | without email |",
        "| --- | ---: | ---: |",
        f"| STANDARD (default) | {usd(standard.total)} | {usd(standard_without_email.total)} |",
        f"| EXPRESS | {usd(express.total)} | {usd(express_without_email.total)} |",
        "",
        "By service, with email notifications:",
        "",
        "| service | STANDARD | EXPRESS |",
        "| --- | ---: | ---: |",
    ]
    by_service = [standard.by_service(), express.by_service()]
    for service in dict.fromkeys([*by_service[0], *by_service[1]]):
        out.append(f"| {service} | {usd(by_service[0].get(service, 0.0))} | {usd(by_service[1].get(service, 0.0))} |")
    out += [f"| **total** | **{usd(standard.total)}** | **{usd(express.total)}** |", ""]
    out += [f"- {line}" for line in _dedupe([*standard.assumptions, *express.assumptions])]
    out += [f"- {note}" for note in standard.notes]
    if standard.unconfirmed:
        out.append(
            "- Not confirmed against a copy of the pricing page (best knowledge): "
            + "; ".join(f"`{line}`" for line in standard.unconfirmed)
            + "."
        )
    sources = ", ".join(f"[{service}]({url})" for service, url in standard.sources.items())
    out += [f"- Prices as of {standard.prices_as_of}: {sources}.", "", RECOMMENDATION, ""]
    return "\n".join(out)


def replace_section(readme_text: str, section: str) -> str:
    """``readme_text`` with the text between :data:`BEGIN` and :data:`END` replaced by ``section``.

    Raises :class:`ValueError` when either marker is missing or they are out of order, rather than
    leaving a stale section.
    """
    head, found_begin, rest = readme_text.partition(BEGIN)
    _, found_end, tail = rest.partition(END)
    if not (found_begin and found_end):
        raise ValueError(f"README.md must hold the markers {BEGIN!r} and then {END!r} around the cost section")
    body = section if section.endswith("\n") else section + "\n"
    return f"{head}{BEGIN}\n{body}{END}{tail}"
