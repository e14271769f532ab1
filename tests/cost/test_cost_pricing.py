"""Pricing is a pure function of usage, prices, assumptions and orders, checked on hand-computed bills."""

from __future__ import annotations

import dataclasses

import pytest
from cost_testkit import make_usage

from cost import prices
from cost.prices import PRICES, SOURCES, PriceError, Rate, RegionPrices, prices_for
from cost.pricing import LineItem, Report, check_orders, express_gb_seconds, price, xray_sampled_fraction
from cost.usage import Assumptions

MILLION = 1_000_000
US_EAST_1 = prices_for("us-east-1")


def line(report: Report, service: str, item: str) -> LineItem:
    """The report's row for ``item`` of ``service``."""
    found = [row for row in report.items if row.key == (service, item)]
    assert len(found) == 1, f"{service} {item}: {[row.key for row in report.items]}"
    return found[0]


def test_each_row_is_units_per_order_times_orders_times_the_list_price() -> None:
    # GIVEN one order's usage in us-east-1, the default assumptions (100 ms per invocation)
    # WHEN a million orders are priced
    report = price(make_usage(), US_EAST_1, Assumptions(), MILLION)
    # THEN each row is what a hand computes: 1,000,000 x 1 request x $3.50/M = $3.50
    assert line(report, prices.API_GATEWAY, "REST requests").cost == pytest.approx(3.50)
    # 5 invocations x $0.20/M = $1.00; 5 x 0.1 s x 0.25 GB = 0.125 GB-s x 1M x $0.0000133334 = $1.666675
    assert line(report, prices.LAMBDA, "requests").cost == pytest.approx(1.00)
    assert line(report, prices.LAMBDA, "duration (arm64)").units_per_order == pytest.approx(0.125)
    assert line(report, prices.LAMBDA, "duration (arm64)").cost == pytest.approx(1.666675)
    # 3 events x $1/M = $3; 3 KB x 1M = 3,072,000,000 bytes = 2.861 GB (2**30) x $0.10
    assert line(report, prices.EVENTBRIDGE, "custom events").cost == pytest.approx(3.00)
    assert line(report, prices.EVENTBRIDGE, "archive").cost == pytest.approx(3_072_000_000 / 2**30 * 0.10)
    # 5 transitions x 1M = 5,000,000 x $0.025 per 1,000 = $125
    assert line(report, prices.STEP_FUNCTIONS, "STANDARD transitions").cost == pytest.approx(125.00)
    # 2 WRU x $0.625/M, 0.5 RRU x $0.125/M (the on-demand prices after the November 2024 cut)
    assert line(report, prices.DYNAMODB, "writes").cost == pytest.approx(1.25)
    assert line(report, prices.DYNAMODB, "reads").cost == pytest.approx(0.0625)
    # 3 publishes x $0.50/M; 3 emails x $2.00 per 100,000 = $60
    assert line(report, prices.SNS, "publishes").cost == pytest.approx(1.50)
    assert line(report, prices.SNS, "email deliveries").cost == pytest.approx(60.00)
    # 9 KB of logs x 1M = 9,216,000,000 bytes = 8.583 GB x $0.50
    assert line(report, prices.CLOUDWATCH_LOGS, "ingestion").cost == pytest.approx(9_216_000_000 / 2**30 * 0.50)
    # a million orders in 30 days is 0.39 a second: every order traced, 1M x $5/M
    assert line(report, prices.XRAY, "traces").cost == pytest.approx(5.00)
    # 3 publishes x 1 KMS request x $0.03 per 10,000 = $9
    assert line(report, prices.KMS, "requests").cost == pytest.approx(9.00)
    # fixed: 20 alarms x $0.10, 1 dashboard x $3, 1 key x $1
    assert line(report, prices.CLOUDWATCH, "alarms").cost == pytest.approx(2.00)
    assert line(report, prices.CLOUDWATCH, "dashboards").cost == pytest.approx(3.00)
    assert line(report, prices.KMS, "customer managed keys").cost == pytest.approx(1.00)
    # AND the total is the sum of the rows, the shares add up to one
    assert report.total == pytest.approx(sum(row.cost for row in report.items))
    assert sum(row.share for row in report.items) == pytest.approx(1.0)


def test_standard_bills_transitions_per_thousand_and_express_requests_and_duration() -> None:
    # GIVEN the same order under each workflow type
    standard = price(make_usage(), US_EAST_1, Assumptions(), MILLION)
    express = price(make_usage(workflow_type="EXPRESS"), US_EAST_1, Assumptions(), MILLION)
    workflow = prices.STEP_FUNCTIONS
    # THEN STANDARD has one Step Functions row, transitions priced per 1,000
    assert [row.item for row in standard.items if row.service == workflow] == ["STANDARD transitions"]
    assert line(standard, workflow, "STANDARD transitions").rate.per == 1000
    # AND EXPRESS has requests ($1/M) and duration: 1M x 0.1 s x 64 MB (0.0625 GB) x $0.00001667
    assert [row.item for row in express.items if row.service == workflow] == ["EXPRESS requests", "EXPRESS duration"]
    assert line(express, workflow, "EXPRESS requests").cost == pytest.approx(1.00)
    assert line(express, workflow, "EXPRESS duration").cost == pytest.approx(MILLION * 0.1 * 0.0625 * 0.00001667)
    # AND every other row is the same in both
    others = {row.key: row.cost for row in standard.items if row.service != workflow}
    assert others == {row.key: row.cost for row in express.items if row.service != workflow}


def test_express_duration_is_billed_in_100_ms_steps_and_64_mb_chunks() -> None:
    # GIVEN 101 ms at 65 MB  WHEN billed  THEN 200 ms at 128 MB: 0.2 s x 0.125 GB
    assert express_gb_seconds(Assumptions(express_duration_ms=101, express_memory_mb=65)) == pytest.approx(0.025)
    # AND exact steps are not rounded up
    assert express_gb_seconds(Assumptions(express_duration_ms=100, express_memory_mb=64)) == pytest.approx(0.00625)


def test_the_free_tier_is_subtracted_only_when_asked_and_never_below_zero() -> None:
    # GIVEN the same order priced without and with the free tier
    without = price(make_usage(), US_EAST_1, Assumptions(), MILLION)
    free = price(make_usage(), US_EAST_1, Assumptions(include_free_tier=True), MILLION)
    # THEN without it every unit is billed
    assert all(row.billed_units == row.monthly_units for row in without.items)
    # AND with it: API Gateway's 1M calls cover the 1M requests; Lambda bills 5M - 1M requests
    assert line(free, prices.API_GATEWAY, "REST requests").cost == 0
    assert line(free, prices.LAMBDA, "requests").cost == pytest.approx(0.80)
    # 125,000 GB-s is inside the 400,000 free; 5,000,000 - 4,000 transitions are billed
    assert line(free, prices.LAMBDA, "duration (arm64)").cost == 0
    assert line(free, prices.STEP_FUNCTIONS, "STANDARD transitions").cost == pytest.approx(4_996_000 * 0.025 / 1000)
    # 20 alarms less 10 free; 1 dashboard of 3 free is 0, not negative
    assert line(free, prices.CLOUDWATCH, "alarms").billed_units == 10
    assert line(free, prices.CLOUDWATCH, "dashboards").billed_units == 0
    # DynamoDB on-demand and EventBridge custom events have no free tier
    assert line(free, prices.DYNAMODB, "writes").cost == line(without, prices.DYNAMODB, "writes").cost
    assert (
        line(free, prices.EVENTBRIDGE, "custom events").cost == line(without, prices.EVENTBRIDGE, "custom events").cost
    )
    assert all(row.billed_units >= 0 for row in free.items)


def test_the_lambda_free_gb_seconds_are_shared_by_both_architectures() -> None:
    # GIVEN 0.3 GB-s of arm64 and 0.3 GB-s of x86_64 per order (1.2 s at 256 MB each), a million orders
    functions = (
        dataclasses.replace(make_usage().functions[0], invocations_per_order=12.0),
        dataclasses.replace(make_usage().functions[0], name="x", architecture="x86_64", invocations_per_order=12.0),
    )
    report = price(make_usage(functions=functions), US_EAST_1, Assumptions(include_free_tier=True), MILLION)
    # THEN the 400,000 free GB-s go to the first 300,000 arm64 and 100,000 of the x86_64 ones
    assert line(report, prices.LAMBDA, "duration (arm64)").billed_units == pytest.approx(0)
    assert line(report, prices.LAMBDA, "duration (x86_64)").billed_units == pytest.approx(200_000)


@pytest.mark.parametrize(("rate", "fraction"), [(0.5, 1.0), (1.0, 1.0), (20.0, 1 / 20 + 0.05 * 19 / 20)])
def test_xray_traces_the_first_request_each_second_then_five_percent(rate: float, fraction: float) -> None:
    # GIVEN a steady rate of orders  WHEN X-Ray's default rule samples them  THEN this fraction is traced
    assert xray_sampled_fraction(rate) == pytest.approx(fraction)


def test_the_assumed_order_rate_sets_the_traces_per_order() -> None:
    # GIVEN 20 orders a second  WHEN priced  THEN 0.0975 traces per order
    report = price(make_usage(), US_EAST_1, Assumptions(orders_per_second=20), MILLION)
    assert line(report, prices.XRAY, "traces").units_per_order == pytest.approx(0.0975)


def test_fixed_monthly_items_do_not_scale_with_orders() -> None:
    # GIVEN one order and a million  WHEN priced  THEN alarms, dashboards and keys cost the same
    small, large = (price(make_usage(), US_EAST_1, Assumptions(), orders) for orders in (1, MILLION))
    fixed = {row.key: row.cost for row in small.items if row.fixed}
    assert fixed == {row.key: row.cost for row in large.items if row.fixed}
    assert set(fixed) == {
        (prices.CLOUDWATCH, "alarms"),
        (prices.CLOUDWATCH, "dashboards"),
        (prices.KMS, "customer managed keys"),
    }


def test_an_unknown_region_is_refused_naming_it_and_the_priced_regions() -> None:
    # GIVEN a region the table does not price  WHEN its prices are asked for  THEN the error names both
    with pytest.raises(PriceError) as refused:
        prices_for("xx-1")
    message = str(refused.value)
    assert "'xx-1'" in message
    assert "eu-west-1, us-east-1" in message
    assert "cost/prices.py" in message


@pytest.mark.parametrize("orders", [0, -1, 1.5, "abc", "1.5", "", True, None])
def test_orders_must_be_a_positive_integer(orders: object) -> None:
    # GIVEN a value that is not a positive integer  WHEN checked  THEN ValueError names ORDERS
    with pytest.raises(ValueError, match="ORDERS"):
        check_orders(orders)


def test_orders_may_be_an_int_or_a_string_of_one_and_price_checks_them() -> None:
    # GIVEN the ways make passes a count  THEN they are read as integers
    assert check_orders(1_000_000) == check_orders("1000000") == check_orders(" 1000000 ") == MILLION
    # AND price refuses a non-positive count naming ORDERS
    with pytest.raises(ValueError, match="ORDERS"):
        price(make_usage(), US_EAST_1, Assumptions(), 0)


def test_prices_of_another_region_do_not_price_a_stack() -> None:
    # GIVEN a stack in us-east-1  WHEN priced with eu-west-1's table  THEN it is refused
    with pytest.raises(ValueError, match="eu-west-1"):
        price(make_usage(), prices_for("eu-west-1"), Assumptions(), MILLION)


def test_every_assumption_says_it_is_one_and_names_its_option() -> None:
    # GIVEN an EXPRESS report (it has every assumption)
    report = price(make_usage(workflow_type="EXPRESS"), US_EAST_1, Assumptions(), MILLION)
    options = [
        "--lambda-duration-ms",
        "--express-duration-ms",
        "--express-memory-mb",
        "--orders-per-second",
        "--kms-requests-per-publish",
        "--include-free-tier",
    ]
    # THEN each line says it is an assumption, and each option appears in exactly one line
    assert all(text.startswith("Assumption:") for text in report.assumptions)
    for option in options:
        assert sum(option in text for text in report.assumptions) == 1, option
    # AND the report carries the table's date and a source for every service it bills
    assert report.prices_as_of == prices.PRICES_AS_OF
    assert {row.service for row in report.items} <= set(report.sources)


def test_the_price_table_prices_every_dimension_in_every_region() -> None:
    # GIVEN the table  THEN every region has every rate, positive, for a cited service
    for region, table in PRICES.items():
        assert table.region == region
        rates = [getattr(table, spec.name) for spec in dataclasses.fields(RegionPrices) if spec.name != "region"]
        assert all(isinstance(rate, Rate) for rate in rates)
        assert all(rate.usd > 0 and rate.per > 0 for rate in rates)
    assert set(SOURCES) >= {row.service for row in price(make_usage(), US_EAST_1, Assumptions(), 1).items}
    # AND DynamoDB on-demand in us-east-1 is the post-November-2024 price
    assert (US_EAST_1.dynamodb_writes.usd, US_EAST_1.dynamodb_reads.usd) == (0.625, 0.125)
    # AND a region's numbers no stored page confirmed are listed, not silent
    assert any("eu-west-1 dynamodb_writes" in text for text in prices_for("eu-west-1").unconfirmed())


def test_aws_waf_is_billed_only_for_a_stack_with_a_web_acl() -> None:
    # GIVEN a stack without a web ACL, and one with one ACL of 3 rules inspecting every API request
    without = price(make_usage(), US_EAST_1, Assumptions(), MILLION)
    guarded = price(make_usage(web_acls=1, web_acl_rules=3, waf_requests=1.0), US_EAST_1, Assumptions(), MILLION)
    # WHEN priced for a million orders
    # THEN the first has no AWS WAF line at all, nor its pricing page among the sources
    assert prices.WAF not in {row.service for row in without.items}
    assert prices.WAF not in without.sources
    # AND the second pays $5 for the ACL and $1 per rule a month, whatever the orders, plus $0.60 per
    # million requests inspected
    assert line(guarded, prices.WAF, "web ACLs").cost == pytest.approx(5.00)
    assert line(guarded, prices.WAF, "rules").cost == pytest.approx(3.00)
    assert line(guarded, prices.WAF, "requests").cost == pytest.approx(0.60)
    assert line(guarded, prices.WAF, "web ACLs").fixed and not line(guarded, prices.WAF, "requests").fixed
    assert guarded.total == pytest.approx(without.total + 8.60)
    assert guarded.sources[prices.WAF] == "https://aws.amazon.com/waf/pricing/"
    # AND the three rates are the same, and confirmed, in every priced region
    for table in PRICES.values():
        assert (table.waf_web_acl_month.usd, table.waf_rule_month.usd, table.waf_requests.usd) == (5.0, 1.0, 0.6)
        assert not any("waf" in text for text in table.unconfirmed())
