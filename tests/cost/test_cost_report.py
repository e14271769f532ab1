"""The report renders priced bills as a console table, CSV, an SVG chart and the README section."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET

import pytest
from cost_testkit import make_usage

from cost.prices import PRICES_AS_OF, prices_for
from cost.pricing import Report, price, without_email
from cost.report import (
    BEGIN,
    CSV_COLUMNS,
    END,
    RECOMMENDATION,
    console_table,
    csv_text,
    readme_section,
    replace_section,
    svg_chart,
)
from cost.usage import Assumptions

MILLION = 1_000_000
SVG = "{http://www.w3.org/2000/svg}"


def priced(workflow_type: str, orders: int = MILLION, email: bool = True) -> Report:
    """The hand-built order under ``workflow_type``, priced in us-east-1."""
    usage = make_usage(workflow_type=workflow_type)
    return price(usage if email else without_email(usage), prices_for("us-east-1"), Assumptions(), orders)


@pytest.fixture(scope="module")
def standard() -> Report:
    """The default configuration's bill."""
    return priced("STANDARD")


@pytest.fixture(scope="module")
def express() -> Report:
    """The same stack with the EXPRESS workflow."""
    return priced("EXPRESS")


def test_the_console_table_shows_both_workflow_types_side_by_side(standard: Report, express: Report) -> None:
    # WHEN the stack's report and the other workflow type's are rendered for the console
    text = console_table(standard, express)
    # THEN both are named, the stack's first, with a total line carrying both totals
    assert text.index("STANDARD (this stack)") < text.index("EXPRESS")
    total = next(row for row in text.splitlines() if row.startswith("total"))
    assert "$" + f"{standard.total:,.2f}" in total and "$" + f"{express.total:,.2f}" in total
    # AND a row only one type has shows a dash for the other
    transitions = next(row for row in text.splitlines() if "STANDARD transitions" in row)
    assert transitions.split()[-3:] == ["-", "-", "-"]
    # AND byte-priced rows show bytes per order, not billionths of a GB (the kit's 9 KB of logs)
    logs = next(row for row in text.splitlines() if row.startswith("CloudWatch Logs"))
    assert "9,216 B" in logs
    # AND the price with its unit, the assumptions, the date and the sources follow
    assert "$3.50 / 1M requests" in text
    assert "--express-duration-ms" in text and "--lambda-duration-ms" in text
    assert f"Prices as of {PRICES_AS_OF}" in text
    assert "https://aws.amazon.com/step-functions/pricing/" in text


def test_reports_of_different_runs_are_not_shown_together(standard: Report) -> None:
    # GIVEN reports for different numbers of orders  WHEN shown together  THEN refused
    with pytest.raises(ValueError, match="orders"):
        console_table(standard, priced("EXPRESS", orders=10))


def test_the_csv_has_a_header_and_one_row_per_line_item_per_workflow_type(standard: Report, express: Report) -> None:
    # WHEN both reports are written as CSV
    rows = list(csv.DictReader(io.StringIO(csv_text([standard, express]))))
    # THEN the header is the documented one and each line item is one row, tagged with its type
    assert next(csv.reader(io.StringIO(csv_text([standard])))) == list(CSV_COLUMNS)
    assert len(rows) == len(standard.items) + len(express.items)
    assert [row["item"] for row in rows if row["workflow_type"] == "EXPRESS"] == [line.item for line in express.items]
    assert sum(float(row["cost_usd"]) for row in rows if row["workflow_type"] == "STANDARD") == pytest.approx(
        standard.total, abs=1e-4
    )


def test_the_svg_chart_is_xml_with_one_bar_per_service_that_costs_something(standard: Report, express: Report) -> None:
    # WHEN the chart of both reports is drawn
    root = ET.fromstring(svg_chart([standard, express]))
    bars = [rect for rect in root.iter(f"{SVG}rect") if rect.get("class") == "bar"]
    # THEN it parses, and for each workflow type there is one bar per service with a non-zero cost
    for report in (standard, express):
        drawn = [bar.get("data-service") for bar in bars if bar.get("data-workflow") == report.workflow_type]
        assert sorted(drawn) == sorted(service for service, cost in report.by_service().items() if cost > 0)
    # AND the legend gives each total
    texts = " ".join(text.text or "" for text in root.iter(f"{SVG}text"))
    assert f"STANDARD: total ${standard.total:,.2f}" in texts
    assert f"EXPRESS: total ${express.total:,.2f}" in texts


def test_a_service_that_costs_nothing_has_no_bar() -> None:
    # GIVEN a report where email is off and nothing is published: SNS costs nothing
    usage = make_usage(sns_publish_chunks=0.0, email_deliveries=0.0)
    report = price(usage, prices_for("us-east-1"), Assumptions(), MILLION)
    # WHEN charted  THEN SNS has no bar
    root = ET.fromstring(svg_chart([report]))
    assert "SNS" not in {rect.get("data-service") for rect in root.iter(f"{SVG}rect")}


def test_the_readme_section_gives_both_types_with_and_without_email() -> None:
    # GIVEN the four bills of a million orders
    reports = {(kind, email): priced(kind, email=email) for kind in ("STANDARD", "EXPRESS") for email in (True, False)}
    # WHEN the README section is generated
    section = readme_section(
        reports["STANDARD", True], reports["EXPRESS", True], reports["STANDARD", False], reports["EXPRESS", False]
    )
    # THEN its summary table has each total, the assumptions, the date and the recommendation
    standard_row = next(row for row in section.splitlines() if row.startswith("| STANDARD (default)"))
    express_row = next(row for row in section.splitlines() if row.startswith("| EXPRESS"))
    for report, row in (
        (reports["STANDARD", True], standard_row),
        (reports["STANDARD", False], standard_row),
        (reports["EXPRESS", True], express_row),
        (reports["EXPRESS", False], express_row),
    ):
        assert f"${report.total:,.2f}" in row
    assert reports["STANDARD", False].total < reports["STANDARD", True].total
    assert "--include-free-tier" in section and PRICES_AS_OF in section
    assert section.rstrip().endswith(RECOMMENDATION)


def test_the_recommendation_carries_no_figure_that_could_go_stale() -> None:
    # GIVEN the hand-written recommendation  THEN it holds no digit (numbers live in the generated table)
    assert re.search(r"\d", RECOMMENDATION) is None


def test_the_section_replaces_only_the_text_between_its_markers() -> None:
    # GIVEN a README with stale text between the markers
    readme = f"intro\n{BEGIN}\nold numbers\n{END}\nrest\n"
    # WHEN the section is written into it  THEN only the marked text changes, and again changes nothing
    updated = replace_section(readme, "new numbers\n")
    assert updated == f"intro\n{BEGIN}\nnew numbers\n{END}\nrest\n"
    assert replace_section(updated, "new numbers\n") == updated
    # AND a README without the markers, or with one only, is refused rather than left stale
    for broken in ("no markers here", f"intro\n{BEGIN}\nno end", f"{END}\nthen {BEGIN}\n"):
        with pytest.raises(ValueError, match="markers"):
            replace_section(broken, "new numbers\n")
