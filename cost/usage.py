"""What one order consumes, as the meter counts it in the sandbox: the interface between metering and pricing.

The meter (``cost.meter``) runs a batch of orders through the sandbox and fills a :class:`Usage`
from what happened there; pricing (``cost.pricing``) turns a :class:`Usage` into money with a
price table (``cost.prices``) and the :class:`Assumptions` the user may change. Every per-order
figure is an average over the metered batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FunctionUsage:
    """One Lambda function: its configuration and how often one order invokes it."""

    name: str
    memory_mb: int
    #: ``arm64`` or ``x86_64`` (they are priced differently).
    architecture: str
    invocations_per_order: float


@dataclass(frozen=True)
class Usage:
    """Billable units per order of one stack configuration, and the stack's fixed monthly items."""

    stack: str
    region: str
    #: ``STANDARD`` or ``EXPRESS``.
    workflow_type: str
    #: Orders in the metered batch (the per-order figures are averages over it).
    orders_metered: int
    #: API Gateway REST API requests.
    api_requests: float
    functions: tuple[FunctionUsage, ...]
    #: EventBridge PutEvents entries, in billed 64 KB chunks (custom events on the stack's bus).
    event_chunks: float
    #: Bytes of events the bus's archive stored.
    archived_bytes: float
    #: Step Functions executions started (EXPRESS bills these as requests).
    workflow_executions: float
    #: Step Functions state transitions (STANDARD bills these), counted from execution histories.
    workflow_transitions: float
    #: DynamoDB on-demand write and read request units.
    dynamodb_write_units: float
    dynamodb_read_units: float
    #: SNS publishes, in billed 64 KB chunks.
    sns_publish_chunks: float
    #: SNS email deliveries.
    email_deliveries: float
    #: CloudWatch Logs bytes ingested, per log group name.
    log_bytes: dict[str, float] = field(default_factory=dict)
    #: Records the orders table's stream got, and the batches of them its event source mapping read
    #: and handed to a function (one ``GetRecords`` each): free when Lambda reads them.
    stream_records: float = 0.0
    stream_read_requests: float = 0.0
    #: Fixed monthly items of the stack.
    alarms: int = 0
    dashboards: int = 0
    kms_keys: int = 0
    #: Web ACLs in front of the API (``apiWaf``), the rules in them, and the requests they inspect
    #: per order (every API request, when there is an ACL).
    web_acls: int = 0
    web_acl_rules: int = 0
    waf_requests: float = 0.0


@dataclass(frozen=True)
class Assumptions:
    """What the sandbox cannot measure offline: stated in every report, each a command-line option."""

    #: Billed duration of one Lambda invocation (ms; Lambda bills per 1 ms).
    lambda_duration_ms: float = 100.0
    #: Billed duration of one EXPRESS execution (ms; billed in 100 ms increments).
    express_duration_ms: float = 100.0
    #: Memory billed for one EXPRESS execution (MB; billed in 64 MB chunks).
    express_memory_mb: int = 64
    #: Orders per second, steady: X-Ray's default rule traces the first request each second and
    #: 5% of the others. ``None``: the month's orders spread evenly over 30 days.
    orders_per_second: float | None = None
    #: KMS requests per SNS publish to a topic encrypted with a KMS key (an upper bound: SNS may
    #: reuse a data key across publishes).
    kms_requests_per_publish: float = 1.0
    #: Count AWS's monthly free tiers.
    include_free_tier: bool = False
