"""What one order costs: a metered :class:`~cost.usage.Usage` times a region's list prices (pure).

:func:`price` turns the usage of one order into a monthly bill for ``orders`` orders, line by line:
what it counts, how many units one order uses, the price, the cost and its share of the total.
Fixed monthly items (alarms, dashboards, KMS keys) do not scale with orders. Free tiers are
subtracted only when :attr:`Assumptions.include_free_tier` is set, and never below zero.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

from components.settings import EXPRESS, STANDARD
from cost import prices as p
from cost.prices import FREE_TIER, PRICES_AS_OF, SOURCES, Rate, RegionPrices
from cost.usage import Assumptions, Usage

#: The month the report prices (and spreads orders over when no rate is assumed).
SECONDS_PER_MONTH = 30 * 24 * 3600
#: X-Ray's default sampling rule: the first request each second (reservoir), then 5% of the rest.
XRAY_RESERVOIR_PER_SECOND = 1.0
XRAY_FIXED_RATE = 0.05
#: Step Functions EXPRESS billing granularity.
EXPRESS_DURATION_INCREMENT_MS = 100
EXPRESS_MEMORY_CHUNK_MB = 64


@dataclass(frozen=True)
class LineItem:
    """One row of the bill."""

    service: str
    #: What is counted, e.g. ``requests`` or ``duration (arm64)``.
    item: str
    #: Units one order uses (0 for a fixed monthly item).
    units_per_order: float
    rate: Rate
    #: Units of the month before and after the free tier.
    monthly_units: float
    billed_units: float
    #: USD for the month.
    cost: float
    #: Fraction of the report's total (0 when the total is 0).
    share: float
    #: A fixed monthly item (alarms, dashboards, keys): it does not scale with orders.
    fixed: bool = False

    @property
    def key(self) -> tuple[str, str]:
        """``(service, item)``: the same line in two reports."""
        return (self.service, self.item)


@dataclass(frozen=True)
class Report:
    """The bill of one stack configuration for ``orders`` orders a month."""

    stack: str
    region: str
    workflow_type: str
    orders: int
    items: tuple[LineItem, ...]
    total: float
    #: Each assumption in force, and the option that changes it.
    assumptions: tuple[str, ...]
    #: Modelling choices no option changes (what is left out, units).
    notes: tuple[str, ...]
    prices_as_of: str
    sources: Mapping[str, str]
    #: Prices of this region no stored page confirmed.
    unconfirmed: tuple[str, ...]

    def by_service(self) -> dict[str, float]:
        """Cost per service, in the order the rows first name them."""
        costs: dict[str, float] = {}
        for line in self.items:
            costs[line.service] = costs.get(line.service, 0.0) + line.cost
        return costs


def check_orders(orders: object) -> int:
    """``orders`` as a positive integer (an ``int``, or a string of one such as ``"1000000"``).

    Anything else raises :class:`ValueError` naming ``ORDERS`` (the ``make cost`` variable).
    """
    value: int | None = None
    if isinstance(orders, int) and not isinstance(orders, bool):
        value = orders
    elif isinstance(orders, str) and orders.strip().isdigit():
        value = int(orders.strip())
    if value is None or value <= 0:
        raise ValueError(f"ORDERS must be a positive integer (orders a month, e.g. 1000000), got {orders!r}")
    return value


def orders_per_second(assumptions: Assumptions, orders: int) -> float:
    """The assumed steady order rate: the option's, else ``orders`` spread over a 30-day month."""
    if assumptions.orders_per_second is not None:
        return assumptions.orders_per_second
    return orders / SECONDS_PER_MONTH


def xray_sampled_fraction(rate: float) -> float:
    """Fraction of requests X-Ray's default rule traces at a steady ``rate`` requests per second.

    The first request of each second is traced, then 5% of the others:
    ``min(1, 1/r) + 0.05 * max(0, 1 - 1/r)``.
    """
    if rate <= 0:
        raise ValueError(f"the order rate must be positive, got {rate!r}")
    reservoir = XRAY_RESERVOIR_PER_SECOND / rate
    return min(1.0, reservoir) + XRAY_FIXED_RATE * max(0.0, 1.0 - reservoir)


def express_gb_seconds(assumptions: Assumptions) -> float:
    """GB-seconds billed for one EXPRESS execution: duration in 100 ms steps, memory in 64 MB chunks."""
    billed_ms = (
        math.ceil(assumptions.express_duration_ms / EXPRESS_DURATION_INCREMENT_MS) * EXPRESS_DURATION_INCREMENT_MS
    )
    billed_mb = math.ceil(assumptions.express_memory_mb / EXPRESS_MEMORY_CHUNK_MB) * EXPRESS_MEMORY_CHUNK_MB
    return billed_ms / 1000 * billed_mb / 1024


def lambda_gb_seconds(usage: Usage, assumptions: Assumptions) -> dict[str, float]:
    """GB-seconds one order uses per architecture: invocations x assumed duration x memory."""
    seconds = assumptions.lambda_duration_ms / 1000
    by_architecture: dict[str, float] = {}
    for function in usage.functions:
        gb_s = function.invocations_per_order * seconds * function.memory_mb / 1024
        by_architecture[function.architecture] = by_architecture.get(function.architecture, 0.0) + gb_s
    return by_architecture


def without_email(usage: Usage) -> Usage:
    """``usage`` of the same stack with no email subscription (the topic is still published to)."""
    return dataclasses.replace(usage, email_deliveries=0.0)


@dataclass(frozen=True)
class _Row:
    service: str
    item: str
    units_per_order: float
    rate: Rate
    #: Key of the free allowance in ``FREE_TIER``.
    free_key: str | None
    fixed_units: float | None = None


def _rows(usage: Usage, prices: RegionPrices, assumptions: Assumptions, orders: int) -> list[_Row]:
    rows = [
        _Row(p.API_GATEWAY, "REST requests", usage.api_requests, prices.api_requests, "api_requests"),
        _Row(
            p.LAMBDA,
            "requests",
            sum(f.invocations_per_order for f in usage.functions),
            prices.lambda_requests,
            "lambda_requests",
        ),
    ]
    durations = {"arm64": prices.lambda_duration_arm64, "x86_64": prices.lambda_duration_x86_64}
    for architecture, gb_s in lambda_gb_seconds(usage, assumptions).items():
        if architecture not in durations:
            raise p.PriceError(f"Lambda architecture {architecture!r} has no price (priced: arm64, x86_64)")
        rows.append(_Row(p.LAMBDA, f"duration ({architecture})", gb_s, durations[architecture], "lambda_duration"))
    rows += [
        _Row(p.EVENTBRIDGE, "custom events", usage.event_chunks, prices.events, None),
        _Row(p.EVENTBRIDGE, "archive", usage.archived_bytes / p.BYTES_PER_GB, prices.archive_processing, None),
    ]
    if usage.workflow_type == EXPRESS:
        rows += [
            _Row(p.STEP_FUNCTIONS, "EXPRESS requests", usage.workflow_executions, prices.express_requests, None),
            _Row(
                p.STEP_FUNCTIONS,
                "EXPRESS duration",
                usage.workflow_executions * express_gb_seconds(assumptions),
                prices.express_duration,
                None,
            ),
        ]
    elif usage.workflow_type == STANDARD:
        rows.append(
            _Row(
                p.STEP_FUNCTIONS,
                "STANDARD transitions",
                usage.workflow_transitions,
                prices.standard_transitions,
                "standard_transitions",
            )
        )
    else:
        raise ValueError(f"workflow_type must be STANDARD or EXPRESS, got {usage.workflow_type!r}")
    traces = xray_sampled_fraction(orders_per_second(assumptions, orders))
    rows += [
        _Row(p.DYNAMODB, "writes", usage.dynamodb_write_units, prices.dynamodb_writes, None),
        _Row(p.DYNAMODB, "reads", usage.dynamodb_read_units, prices.dynamodb_reads, None),
        _Row(p.SNS, "publishes", usage.sns_publish_chunks, prices.sns_publishes, "sns_publishes"),
        _Row(p.SNS, "email deliveries", usage.email_deliveries, prices.sns_email, "sns_email"),
        _Row(
            p.CLOUDWATCH_LOGS,
            "ingestion",
            sum(usage.log_bytes.values()) / p.BYTES_PER_GB,
            prices.log_ingestion,
            "log_ingestion",
        ),
        _Row(p.XRAY, "traces", traces, prices.xray_traces, "xray_traces"),
        _Row(
            p.KMS,
            "requests",
            usage.sns_publish_chunks * assumptions.kms_requests_per_publish,
            prices.kms_requests,
            "kms_requests",
        ),
        _Row(p.CLOUDWATCH, "alarms", 0.0, prices.alarm_month, "alarm_month", fixed_units=usage.alarms),
        _Row(p.CLOUDWATCH, "dashboards", 0.0, prices.dashboard_month, "dashboard_month", fixed_units=usage.dashboards),
        _Row(p.KMS, "customer managed keys", 0.0, prices.kms_key_month, None, fixed_units=usage.kms_keys),
    ]
    return rows + _waf_rows(usage, prices)


def _waf_rows(usage: Usage, prices: RegionPrices) -> list[_Row]:
    """AWS WAF's lines: only a stack that turns ``apiWaf`` on (declares a web ACL) pays for it."""
    if not usage.web_acls:
        return []
    return [
        _Row(p.WAF, "web ACLs", 0.0, prices.waf_web_acl_month, None, fixed_units=usage.web_acls),
        _Row(p.WAF, "rules", 0.0, prices.waf_rule_month, None, fixed_units=usage.web_acl_rules),
        _Row(p.WAF, "requests", usage.waf_requests, prices.waf_requests, None),
    ]


def _assumptions(usage: Usage, assumptions: Assumptions, orders: int) -> tuple[str, ...]:
    rate = orders_per_second(assumptions, orders)
    spread = "" if assumptions.orders_per_second is not None else f" ({orders:,} orders spread over 30 days)"
    lines = [
        f"Assumption: each Lambda invocation is billed {assumptions.lambda_duration_ms:g} ms "
        "(the sandbox does not time AWS's runtime; change with --lambda-duration-ms).",
    ]
    if usage.workflow_type == EXPRESS:
        lines += [
            f"Assumption: each EXPRESS execution runs {assumptions.express_duration_ms:g} ms, billed in "
            f"{EXPRESS_DURATION_INCREMENT_MS} ms increments (change with --express-duration-ms).",
            f"Assumption: each EXPRESS execution uses {assumptions.express_memory_mb} MB, billed in "
            f"{EXPRESS_MEMORY_CHUNK_MB} MB chunks (change with --express-memory-mb).",
        ]
    lines += [
        f"Assumption: a steady {rate:.3g} orders per second{spread}, so X-Ray's default rule (the first "
        f"request each second, then 5%) traces {xray_sampled_fraction(rate):.1%} of orders, one trace "
        "per order (change with --orders-per-second).",
        f"Assumption: {assumptions.kms_requests_per_publish:g} KMS request per SNS publish to the "
        "encrypted topics, an upper bound: SNS may reuse a data key (change with --kms-requests-per-publish).",
        "Assumption: AWS's monthly free tiers are "
        + (
            "counted, as if this stack were the account's only workload; API Gateway's lasts the first "
            "12 months only (leave out --include-free-tier not to count them)."
            if assumptions.include_free_tier
            else "not counted (count them with --include-free-tier)."
        ),
    ]
    return tuple(lines)


NOTES = (
    "Prices are each service's first tier, on-demand, without savings plans, in USD.",
    f"GB means {p.BYTES_PER_GB:,} bytes (2**30) for log ingestion and the archive.",
    "Left out: data transfer, log and archive storage (they depend on retention, not on one order), "
    "DynamoDB storage and backups, and the dead-letter queues (empty when all goes well).",
)


#: "You are not charged for GetRecords API calls invoked by AWS Lambda as part of DynamoDB triggers"
#: (https://aws.amazon.com/dynamodb/pricing/on-demand/, "DynamoDB Streams").
STREAM_READS_FREE = (
    "free: Lambda's event source mapping reads the stream, and GetRecords calls Lambda makes are not charged"
)


def stream_notes(usage: Usage) -> tuple[str, ...]:
    """What the outbox's stream reads cost: nothing, said with the units measured."""
    if not usage.stream_records:
        return ()
    return (
        f"DynamoDB Streams: {usage.stream_records:g} stream records per order, handed to publish-order-events in "
        f"{usage.stream_read_requests:g} batches (its Lambda requests above, after the mapping's filter): "
        f"{STREAM_READS_FREE}.",
    )


def price(usage: Usage, prices: RegionPrices, assumptions: Assumptions, orders: int) -> Report:
    """The monthly bill of ``orders`` orders of ``usage``'s configuration at ``prices``.

    Every row is ``units per order x orders`` (or the stack's count for fixed items), less the
    free tier when it is counted, times the unit price. ``orders`` must be a positive integer.
    """
    orders = check_orders(orders)
    if prices.region != usage.region:
        raise ValueError(f"prices of {prices.region} cannot price a stack in {usage.region}")
    free_left = {key: allowance.units for key, allowance in FREE_TIER.items()}
    priced: list[tuple[_Row, float, float, float]] = []
    for row in _rows(usage, prices, assumptions, orders):
        monthly = row.fixed_units if row.fixed_units is not None else row.units_per_order * orders
        billed = monthly
        if assumptions.include_free_tier and row.free_key is not None:
            free = free_left.get(row.free_key, 0.0)
            used = min(free, monthly)
            free_left[row.free_key] = free - used
            billed = monthly - used
        priced.append((row, monthly, billed, billed * row.rate.per_unit))
    total = sum(cost for *_, cost in priced)
    items = tuple(
        LineItem(
            service=row.service,
            item=row.item,
            units_per_order=row.units_per_order,
            rate=row.rate,
            monthly_units=monthly,
            billed_units=billed,
            cost=cost,
            share=cost / total if total else 0.0,
            fixed=row.fixed_units is not None,
        )
        for row, monthly, billed, cost in priced
    )
    return Report(
        stack=usage.stack,
        region=usage.region,
        workflow_type=usage.workflow_type,
        orders=orders,
        items=items,
        total=total,
        assumptions=_assumptions(usage, assumptions, orders),
        notes=(*NOTES, *stream_notes(usage)),
        prices_as_of=PRICES_AS_OF,
        # The pages of the services this bill has lines of.
        sources={service: url for service, url in SOURCES.items() if any(i.service == service for i in items)},
        unconfirmed=tuple(prices.unconfirmed()),
    )
