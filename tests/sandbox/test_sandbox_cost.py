"""``make cost``'s meter in the sandbox: the units each kind of order consumes, counted from what happened.

Two sandboxes of the default config with an email subscription, STANDARD and EXPRESS (the README's
runs), each meter one order of each kind; the README's "What it costs" section must be what those
measurements price to.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from sandbox_testkit import SandboxPool

from cost.__main__ import README_BATCH, README_ORDERS, main, readme_programs, readme_reports
from cost.meter import ABOVE_THRESHOLD, BELOW_THRESHOLD, meter, mix, order_batches
from cost.prices import prices_for
from cost.pricing import price
from cost.report import BEGIN, END
from cost.usage import Assumptions, Usage
from sandbox.program.evaluation import PROJECT_DIR, Program

Metered = dict[str, Usage]


def _meter_kinds(pool: SandboxPool, program: Program) -> Metered:
    sandbox = pool.acquire(program)
    return {kind: meter(sandbox, batch) for kind, batch in order_batches(program, README_BATCH).items()}


@pytest.fixture(scope="module")
def programs() -> tuple[Program, Program]:
    """The README's two programs: the default config with an email subscription, STANDARD and EXPRESS."""
    return readme_programs()


@pytest.fixture(scope="module")
def standard(sandbox_pool: SandboxPool, programs: tuple[Program, Program]) -> Metered:
    """One order of each kind metered on the default config (STANDARD) with an email subscription."""
    return _meter_kinds(sandbox_pool, programs[0])


@pytest.fixture(scope="module")
def express(sandbox_pool: SandboxPool, programs: tuple[Program, Program], standard: Metered) -> Metered:
    """The same with ``paymentWorkflowType: EXPRESS`` (metered after STANDARD: one restart)."""
    return _meter_kinds(sandbox_pool, programs[1])


def _invocations(usage: Usage) -> dict[str, float]:
    return {fn.name.split("-fn-")[0]: fn.invocations_per_order for fn in usage.functions}


@pytest.mark.parametrize("kind", [BELOW_THRESHOLD, ABOVE_THRESHOLD])
def test_each_kind_of_order_consumes_the_units_its_choreography_implies(standard: Metered, kind: str) -> None:
    # GIVEN one order of this kind metered in the sandbox (STANDARD, email subscribed)
    usage = standard[kind]
    # THEN it took 1 API request; create-order once, update-order once, publish-order-events twice
    # (its stream's insert and the move to the final status), notification three times
    # (OrderCreated, the payment outcome, the order's final status); get-order never
    assert usage.orders_metered == 1
    assert usage.api_requests == 1
    assert _invocations(usage) == {
        "orders-create-order": 1,
        "orders-update-order": 1,
        "orders-outbox-publish-order-events": 2,
        "notifications-notification": 3,
        "orders-get-order": 0,
    }
    # AND 3 events of one 64 KB chunk each (OrderCreated, Payment*, Order*), all archived
    assert usage.event_chunks == 3
    assert 3 * 200 < usage.archived_bytes < 3 * 1024
    # AND one execution of 3 transitions: isFraud, Payment Succeeded/Failed, Notify EventBus
    assert (usage.workflow_executions, usage.workflow_transitions) == (1, 3)
    # AND 2 write units (the new order, its status update; both under 1 KB) and no read
    assert (usage.dynamodb_write_units, usage.dynamodb_read_units) == (2, 0)
    # AND the stream got the order's two changes, read in two batches (free)
    assert (usage.stream_records, usage.stream_read_requests) == (2, 2)
    # AND 3 publishes, each delivered to the one email subscription
    assert (usage.sns_publish_chunks, usage.email_deliveries) == (3, 3)
    # AND log bytes in each group that wrote: the four functions, the catch-all rule, the access
    # log; none in the STANDARD workflow's group (level ERROR, and nothing failed)
    groups = {group.rsplit("/", 1)[-1].removeprefix("eda-demo-dev-") for group in usage.log_bytes}
    assert groups == {"create-order", "update-order", "publish-order-events", "notification", "catch-all", "api-access"}
    # AND the stack's fixed items
    assert (usage.alarms, usage.dashboards, usage.kms_keys) == (24, 1, 1)


def test_express_is_metered_from_its_own_run_and_priced_per_request(standard: Metered, express: Metered) -> None:
    # GIVEN the same orders metered on EXPRESS
    for kind in (BELOW_THRESHOLD, ABOVE_THRESHOLD):
        usage = express[kind]
        # THEN the choreography is the same, and the workflow now logs every step (level ALL)
        assert usage.workflow_type == "EXPRESS"
        assert (usage.event_chunks, usage.workflow_executions, usage.workflow_transitions) == (3, 1, 3)
        (workflow_group,) = [g for g in usage.log_bytes if g.endswith("payment-workflow")]
        assert usage.log_bytes[workflow_group] > 1000
    # WHEN both are priced
    prices = prices_for("us-east-1")
    reports = {
        kind: price(mix(list(metered.values())), prices, Assumptions(), 1_000_000)
        for kind, metered in (("STANDARD", standard), ("EXPRESS", express))
    }
    rows = {
        kind: {line.item for line in report.items if line.service == "Step Functions"}
        for kind, report in reports.items()
    }
    # THEN STANDARD pays per transition and EXPRESS per request and duration, much less
    assert rows["STANDARD"] == {"STANDARD transitions"}
    assert rows["EXPRESS"] == {"EXPRESS requests", "EXPRESS duration"}
    workflow = {kind: report.by_service()["Step Functions"] for kind, report in reports.items()}
    assert workflow["STANDARD"] == pytest.approx(3 * 1_000_000 / 1000 * 0.025)
    assert workflow["EXPRESS"] < workflow["STANDARD"] / 10


_AMOUNT = re.compile(r"\$([0-9][0-9,]*\.[0-9]{2})")


def test_the_readme_cost_section_is_what_the_meter_measures(standard: Metered, express: Metered) -> None:
    # GIVEN README.md's "What it costs" section
    readme = (PROJECT_DIR / "README.md").read_text()
    written = readme.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    # WHEN it is generated again from this run's measurements
    fresh = readme_reports(mix(list(standard.values())), mix(list(express.values())), Assumptions()).strip()
    # THEN the text is the same, and every amount within a cent or 0.5% (log lines carry timings)
    assert _AMOUNT.sub("$_", written) == _AMOUNT.sub("$_", fresh), "run `make cost-readme`"
    pairs = zip(_AMOUNT.findall(written), _AMOUNT.findall(fresh), strict=True)
    for old, new in ((float(a.replace(",", "")), float(b.replace(",", ""))) for a, b in pairs):
        assert abs(old - new) <= max(0.01, 0.005 * new), f"${old} in README.md, ${new} measured: run `make cost-readme`"
    assert f"Per {README_ORDERS:,} orders" in written


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--orders", "0"], "ORDERS must be a positive integer"),
        (["--orders", "1.5"], "ORDERS must be a positive integer"),
        (["--orders", "many"], "ORDERS must be a positive integer"),
        (["--stack", "dev", "--batch", "0"], "--batch must be a positive number"),
    ],
)
def test_bad_input_is_refused_naming_the_option(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    # WHEN make cost is run with a bad option
    code = main(argv)
    # THEN it exits 2 with a message naming it, before any sandbox starts
    assert code == 2
    assert message in capsys.readouterr().err


def test_a_stack_in_a_region_without_prices_is_refused_naming_the_region(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a stack whose region the price table does not hold
    monkeypatch.setattr("cost.__main__.evaluate", lambda stack, **_: SimpleNamespace(stack=stack, region="ap-south-2"))
    # WHEN make cost runs for it
    code = main(["--stack", "dev"])
    # THEN it exits 2 naming the region and the regions it knows, before any sandbox starts
    err = capsys.readouterr().err
    assert code == 2
    assert "ap-south-2" in err and "us-east-1" in err
