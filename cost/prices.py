"""AWS list prices (USD) of what one order consumes, per region, dated and cited.

Every price is the first tier of its service's public price list (the tier a demo or a young
production system is in), on-demand, without savings plans or private pricing. Each :class:`Rate`
says whether a stored copy of a public page confirmed its number for that region
(``confirmed=False`` otherwise, with a note): an unconfirmed rate is a best knowledge value to
check against the page in :data:`SOURCES` before quoting it.

Not priced here, on purpose: data transfer out (a JSON answer per request is small and the first
100 GB a month to the internet are free), CloudWatch Logs storage (depends on retention and
volume; ingestion is the dominant log cost), the EventBridge archive's storage (its stored volume
depends on the retention and on how long the stack has run, which one order does not bound),
DynamoDB storage and point-in-time recovery (per GB-month of table size, not per order), SQS
(dead-letter queues receive nothing when all goes well) and the schema registry (no discovery).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

#: When the table was compiled from the pages in :data:`SOURCES` (stored copies read that day).
PRICES_AS_OF = "2026-11-27"

# --- Services, spelled once: the price table's keys, the report's rows, the chart's bars.
API_GATEWAY = "API Gateway"
LAMBDA = "Lambda"
EVENTBRIDGE = "EventBridge"
STEP_FUNCTIONS = "Step Functions"
DYNAMODB = "DynamoDB"
SNS = "SNS"
CLOUDWATCH_LOGS = "CloudWatch Logs"
XRAY = "X-Ray"
KMS = "KMS"
CLOUDWATCH = "CloudWatch"
WAF = "AWS WAF"

#: The AWS pricing page of each service (the reference for every number below).
SOURCES: dict[str, str] = {
    API_GATEWAY: "https://aws.amazon.com/api-gateway/pricing/",
    LAMBDA: "https://aws.amazon.com/lambda/pricing/",
    EVENTBRIDGE: "https://aws.amazon.com/eventbridge/pricing/",
    STEP_FUNCTIONS: "https://aws.amazon.com/step-functions/pricing/",
    DYNAMODB: "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    SNS: "https://aws.amazon.com/sns/pricing/",
    CLOUDWATCH_LOGS: "https://aws.amazon.com/cloudwatch/pricing/",
    XRAY: "https://aws.amazon.com/xray/pricing/",
    KMS: "https://aws.amazon.com/kms/pricing/",
    CLOUDWATCH: "https://aws.amazon.com/cloudwatch/pricing/",
    WAF: "https://aws.amazon.com/waf/pricing/",
}

#: Bytes in the GB that the byte-metered items (log ingestion, archive processing) are priced per.
#: AWS's pricing pages say "GB" without defining it; AWS bills data in binary gigabytes
#: (2**30 bytes), which is what this table assumes.
BYTES_PER_GB = 2**30

MILLION = 1_000_000


class PriceError(ValueError):
    """A region has no prices in this table; the message names it and the priced regions."""


@dataclass(frozen=True)
class Rate:
    """One list price: ``usd`` per ``per`` units of ``unit`` (e.g. $3.50 per 1,000,000 requests)."""

    usd: float
    per: float
    unit: str
    #: A stored copy of a public page gave this number for this region.
    confirmed: bool = True
    #: Where the number comes from, or why it is not confirmed.
    note: str = ""

    @property
    def per_unit(self) -> float:
        """USD per single unit."""
        return self.usd / self.per

    def label(self) -> str:
        """The price as a reader writes it: ``$3.50 / 1M requests``."""
        return f"{usd_exact(self.usd)} / {_count(self.per)}{self.unit}"


def usd_exact(value: float) -> str:
    """A list price with every significant digit it has and at least cents: ``$0.0000133334``."""
    text = f"{value:.10f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"


def _count(per: float) -> str:
    if per == 1:
        return ""
    for size, suffix in ((MILLION, "M"), (1000, "K")):
        if per >= size and per % size == 0:
            return f"{per / size:g}{suffix} "
    return f"{per:g} "


@dataclass(frozen=True)
class RegionPrices:
    """The list prices of one region, one :class:`Rate` per billed dimension."""

    region: str
    #: REST API calls, first 333 million a month.
    api_requests: Rate
    lambda_requests: Rate
    #: Duration per GB-second, first tier (6 billion GB-s x86_64, 7.5 billion arm64 a month).
    lambda_duration_arm64: Rate
    lambda_duration_x86_64: Rate
    #: Custom events published, per 64 KB chunk.
    events: Rate
    #: Events the archive processes (stores), per GB.
    archive_processing: Rate
    #: STANDARD workflows: state transitions.
    standard_transitions: Rate
    #: EXPRESS workflows: executions started, and duration per GB-second (first 1,000 GB-hours).
    express_requests: Rate
    express_duration: Rate
    #: On-demand (pay per request) throughput, Standard table class.
    dynamodb_writes: Rate
    dynamodb_reads: Rate
    #: Standard topic publishes, per 64 KB chunk; email deliveries.
    sns_publishes: Rate
    sns_email: Rate
    #: Log ingestion, standard class (vended logs' first tier is the same in these regions).
    log_ingestion: Rate
    xray_traces: Rate
    kms_requests: Rate
    kms_key_month: Rate
    #: Standard-resolution alarm (per metric), custom dashboard.
    alarm_month: Rate
    dashboard_month: Rate
    #: AWS WAF (with ``apiWaf``): a web ACL and each rule or rule group in it per month, and the
    #: requests the ACL inspects (allowed and blocked alike).
    waf_web_acl_month: Rate
    waf_rule_month: Rate
    waf_requests: Rate

    def unconfirmed(self) -> list[str]:
        """``region: dimension = price (note)`` of every rate no stored page confirmed."""
        lines = []
        for spec in fields(self):
            rate = getattr(self, spec.name)
            if isinstance(rate, Rate) and not rate.confirmed:
                lines.append(f"{self.region} {spec.name} = {rate.label()} ({rate.note})")
        return lines


@dataclass(frozen=True)
class FreeAllowance:
    """Units AWS's free tier gives a month for one billed dimension, and its conditions."""

    units: float
    note: str = ""


#: AWS's monthly free tiers, keyed by :class:`RegionPrices` field name, counted only with
#: ``--include-free-tier``. Dimensions not listed have no free tier: EventBridge custom events,
#: Step Functions EXPRESS, DynamoDB on-demand (the free tier's 25 WCU/25 RCU are *provisioned*
#: capacity and do not apply to on-demand tables), KMS keys, the archive. Free tiers are per
#: account, not per stack: another stack or workload in the account uses them up too.
FREE_TIER: dict[str, FreeAllowance] = {
    # Lambda page / kodekloud, cloudchipr (stored): 1M requests and 400,000 GB-s a month, always free;
    # the GB-s are shared by both architectures.
    "lambda_requests": FreeAllowance(1_000_000),
    "lambda_duration": FreeAllowance(400_000, "shared by arm64 and x86_64"),
    # API Gateway page (stored): 1M REST calls a month, for new customers, for 12 months only.
    "api_requests": FreeAllowance(1_000_000, "first 12 months after sign-up only"),
    # Step Functions page (stored): 4,000 state transitions a month, indefinitely.
    "standard_transitions": FreeAllowance(4_000),
    # SNS page (not in a stored copy; best knowledge): 1M publishes and 1,000 email deliveries a month.
    "sns_publishes": FreeAllowance(1_000_000),
    "sns_email": FreeAllowance(1_000),
    # CloudWatch page (stored): 5 GB of log data (ingestion, archive storage, Insights scans together).
    "log_ingestion": FreeAllowance(5, "shared with log storage and Logs Insights scans"),
    # X-Ray page (stored, de and cn editions): 100,000 traces recorded a month, always free.
    "xray_traces": FreeAllowance(100_000),
    # KMS page (stored): 20,000 requests a month, across all regions.
    "kms_requests": FreeAllowance(20_000, "across all regions"),
    # CloudWatch page (stored): 10 standard-resolution alarm metrics and 3 custom dashboards.
    "alarm_month": FreeAllowance(10),
    "dashboard_month": FreeAllowance(3),
}

_NOT_STORED = "no stored page gave this region's number; best knowledge, verify on the pricing page"

# us-east-1 (US East, N. Virginia): the region most pages quote.
_US_EAST_1 = RegionPrices(
    region="us-east-1",
    # AWS whitepaper "Best Practices for Designing Amazon API Gateway Private APIs", Cost optimization,
    # table 4 (stored): REST, first 333 million requests a month, $3.50 per million.
    api_requests=Rate(3.50, MILLION, "requests", note="AWS whitepaper table 4, REST first 333M"),
    # cloudchipr.com Lambda pricing guide and a lambda cost note (stored), both quoting the us-east-1 page.
    lambda_requests=Rate(0.20, MILLION, "requests", note="third-party pages quoting the Lambda page"),
    lambda_duration_arm64=Rate(0.0000133334, 1, "GB-s", note="cloudchipr.com, first 7.5B GB-s"),
    lambda_duration_x86_64=Rate(0.0000166667, 1, "GB-s", note="cloudchipr.com, first 6B GB-s"),
    # EventBridge page (stored): each 64 KB chunk is one event; awsfundamentals.com and
    # factualminds.com (stored): custom events $1.00 per million.
    events=Rate(1.00, MILLION, "64 KB events", note="awsfundamentals.com, factualminds.com"),
    # Best knowledge of the EventBridge page ("archive processing $0.10 per GB"); the one stored page
    # that mentions it (factualminds.com) writes "$0.10/GB-month", which mixes it up with storage.
    archive_processing=Rate(0.10, 1, "GB archived", confirmed=False, note="best knowledge; one page says per GB-month"),
    # Step Functions page (stored): $0.025 per 1,000 state transitions in us-east-1, us-west-2, eu-west-1.
    standard_transitions=Rate(0.025, 1000, "transitions", note="Step Functions page, region table"),
    # wring.co Step Functions guide (stored): $1.00 per million requests, $0.00001667 per GB-s;
    # Step Functions page (stored): duration rounded up to 100 ms, memory billed in 64 MB chunks.
    express_requests=Rate(1.00, MILLION, "requests", note="wring.co"),
    express_duration=Rate(0.00001667, 1, "GB-s", note="wring.co, first 1,000 GB-hours"),
    # airbyte.com (stored): after the 50% on-demand cut of 1 November 2024 (jusdb.com, stored),
    # $0.625 per million write and $0.125 per million read request units in US East.
    dynamodb_writes=Rate(0.625, MILLION, "write request units", note="airbyte.com, after the Nov 2024 cut"),
    dynamodb_reads=Rate(0.125, MILLION, "read request units", note="airbyte.com, after the Nov 2024 cut"),
    # factualminds.com SNS guide and knowledgehills.com (stored): $0.50 per million publishes,
    # $2.00 per 100,000 email deliveries.
    sns_publishes=Rate(0.50, MILLION, "64 KB publishes", note="factualminds.com, knowledgehills.com"),
    sns_email=Rate(2.00, 100_000, "email deliveries", note="factualminds.com, knowledgehills.com"),
    # coralogix.com and factualminds.com CloudWatch guides (stored): ingestion $0.50 per GB.
    log_ingestion=Rate(0.50, 1, "GB ingested", note="coralogix.com, factualminds.com"),
    # X-Ray page, de and cn editions (stored): $5 per million traces recorded ($0.000005 each).
    xray_traces=Rate(5.00, MILLION, "traces recorded", note="X-Ray page (de)"),
    # KMS page (stored): $1 a month per key; wring.co (stored): $0.03 per 10,000 requests.
    kms_requests=Rate(0.03, 10_000, "requests", note="wring.co"),
    kms_key_month=Rate(1.00, 1, "key-month", note="KMS page"),
    # CloudWatch: coralogix.com (stored) gives $3 per dashboard a month; the $0.10 per standard alarm
    # metric a month is best knowledge (no stored excerpt showed it).
    alarm_month=Rate(0.10, 1, "alarm-month", confirmed=False, note=_NOT_STORED),
    dashboard_month=Rate(3.00, 1, "dashboard-month", note="coralogix.com"),
    # c3x.dev "AWS WAF cost explained" (stored): $5 a month per web ACL, $1 a month per rule or
    # managed rule group, $0.60 per million requests inspected; AWS's own baseline managed groups
    # (common, known bad inputs) carry no fee of their own. The AWS Networking & Content Delivery
    # blog "Cost-effective ways for securing your web applications using AWS WAF" (stored): the
    # same prices in every region, monthly fees prorated hourly.
    waf_web_acl_month=Rate(5.00, 1, "web-ACL-month", note="c3x.dev; AWS blog: same in every region"),
    waf_rule_month=Rate(1.00, 1, "rule-month", note="c3x.dev; AWS blog: same in every region"),
    waf_requests=Rate(0.60, MILLION, "requests inspected", note="c3x.dev; AWS blog: same in every region"),
)

#: Rates the stored pages give for every region alike (the AWS WAF blog above).
_SAME_IN_EVERY_REGION = ("waf_web_acl_month", "waf_rule_month", "waf_requests")


def _unconfirmed(rate: Rate, usd: float | None = None) -> Rate:
    """``rate`` for another region, marked unconfirmed (at ``usd`` when that region's differs)."""
    return Rate(rate.usd if usd is None else usd, rate.per, rate.unit, confirmed=False, note=_NOT_STORED)


def _same_as_us_east_1(region: str, confirmed: tuple[str, ...], **different: float) -> RegionPrices:
    """A region whose prices are us-east-1's except ``different`` (USD), confirmed only for ``confirmed``."""
    rates: dict[str, Rate] = {}
    for spec in fields(_US_EAST_1):
        rate = getattr(_US_EAST_1, spec.name)
        if not isinstance(rate, Rate):
            continue
        if spec.name in confirmed:
            rates[spec.name] = rate
        else:
            rates[spec.name] = _unconfirmed(rate, different.get(spec.name))
    return RegionPrices(region=region, **rates)


# eu-west-1 (Europe, Ireland). Only the STANDARD transition price is in a stored page (the Step
# Functions region table). The others are best knowledge of the AWS pages: most serverless prices are
# the same as us-east-1 here; DynamoDB on-demand is $0.7063 / $0.1413 per million (half the pre-cut
# $1.4135 / $0.283) and CloudWatch Logs ingestion $0.57 per GB.
_EU_WEST_1 = _same_as_us_east_1(
    "eu-west-1",
    confirmed=("standard_transitions", *_SAME_IN_EVERY_REGION),
    dynamodb_writes=0.7063,
    dynamodb_reads=0.1413,
    log_ingestion=0.57,
)

# us-west-2 (US West, Oregon): the same prices as us-east-1 as far as known; only the STANDARD
# transition price is in a stored page.
_US_WEST_2 = _same_as_us_east_1("us-west-2", confirmed=("standard_transitions", *_SAME_IN_EVERY_REGION))

PRICES: dict[str, RegionPrices] = {p.region: p for p in (_EU_WEST_1, _US_EAST_1, _US_WEST_2)}


def prices_for(region: str) -> RegionPrices:
    """The price table of ``region``, or :class:`PriceError` naming it and the priced regions."""
    try:
        return PRICES[region]
    except KeyError:
        known = ", ".join(sorted(PRICES))
        raise PriceError(
            f"region {region!r} is not in the price table (cost/prices.py has: {known}): "
            "set a stack with a priced region or add its prices"
        ) from None
