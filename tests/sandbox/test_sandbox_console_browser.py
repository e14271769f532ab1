"""The console in a real browser: headless Chromium (Debian's package) driven by Playwright.

One browser and the process's one sandbox; one test, so that the browser starts once even when
the suite runs on several workers. The page is watched
as a user watches it: it must update by itself (it polls the console) while orders are posted to
the API as ``curl`` posts them. After the original scenario it writes the README's screenshot
(``docs/console.png``).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sandbox_testkit import post_order

from sandbox.delivery.stream_mapping import declared_mappings
from sandbox.program.evaluation import PROJECT_DIR
from sandbox.runtime import Sandbox
from tests.conftest import CHROMIUM

pytestmark = pytest.mark.browser
#: How long the page may take to show a change (it polls every 400 ms; orders take a few hundred ms).
SHOWN_WITHIN_MS = 15_000
SCREENSHOT = PROJECT_DIR / "docs" / "console.png"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, for the whole module (a missing browser fails: CI must have it)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"the browser tests need Chromium at {CHROMIUM}: apt-get install chromium (.ci/run does in CI)")
    # Playwright's driver is a Node program: its compile cache makes every start after the first faster.
    os.environ.setdefault("NODE_COMPILE_CACHE", str(PROJECT_DIR / ".venv" / ".node-compile-cache"))
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, sandbox: Sandbox) -> Iterator[Page]:
    """The console's page, loaded and live, in a fresh browser context."""
    assert sandbox.console is not None
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    opened = context.new_page()
    opened.set_default_timeout(SHOWN_WITHIN_MS)
    opened.goto(sandbox.console.url)
    expect(opened.locator("#live")).to_have_class("on")
    yield opened
    context.close()


def payment_choice(sandbox: Sandbox) -> dict[str, Any]:
    """The payment workflow's fraud check, as the program renders it: what it chooses above and below the threshold."""
    (machine,) = sandbox.program.of_type("aws:sfn/stateMachine:StateMachine")
    return json.loads(machine["definition"])["States"]["isFraud"]


def test_the_console_shows_the_original_scenario_then_a_fault_its_retries_its_dead_letter_and_a_redrive(
    page: Page, sandbox: Sandbox
) -> None:
    """One user's session, in one browser: the two parts share its start-up (a few seconds)."""
    original_scenario(page, sandbox)
    fault_then_redrive(page, sandbox)
    outbox_fault_then_redrive(page, sandbox)


def original_scenario(page: Page, sandbox: Sandbox) -> None:
    # GIVEN the console's page, open
    # WHEN the original two orders are posted to the API
    assert post_order(sandbox, 101, 100).status == 201
    assert post_order(sandbox, 102, 600).status == 201
    # THEN the list shows both, newest first, reaching their final status without a reload
    expect(page.locator('#orders li[data-order="101"] .status')).to_have_text("OrderCompleted")
    expect(page.locator('#orders li[data-order="102"] .status')).to_have_text("OrderCancelled")
    expect(page.locator("#orders li")).to_have_text([r"order 102OrderCancelled", r"order 101OrderCompleted"])
    # AND 102's timeline has its events, the rules they matched, and the execution's decision
    timeline = page.locator("#timeline")
    expect(page.locator("#timeline-title")).to_contain_text("Order 102")
    expect(timeline).to_contain_text("PaymentFailed from payment-service put on the bus")
    expect(timeline).to_contain_text("OrderCancelled from order-service put on the bus")
    execution = timeline.locator('li[data-kind="execution"]')
    expect(execution).to_contain_text("SUCCEEDED")
    fraud_check = payment_choice(sandbox)
    expect(execution).to_contain_text(f"isFraud (Choice, chose {fraud_check['Choices'][0]['Next']})")
    # AND 101's, once chosen, the other way, with its rules and item versions (chosen while a poll
    # is in flight, whose answer changes nothing: the click's refresh still happens after it)
    page.evaluate("""() => { refresh(); document.querySelector('#orders li[data-order="101"]').click(); }""")
    expect(page.locator("#timeline-title")).to_contain_text("Order 101")
    expect(timeline).to_contain_text("OrderCompleted from order-service put on the bus")
    expect(timeline.locator('li[data-kind="event"]').first).to_contain_text("payment-service-filtering-orders-rule")
    expect(execution).to_contain_text(f"isFraud (Choice, chose {fraud_check['Default']})")
    expect(timeline.locator('li[data-kind="item"]')).to_have_count(2)
    expect(timeline.locator('li[data-kind="email"]')).to_have_count(3)
    # AND the order's change went through the outbox: its stream record, the publisher's batch
    expect(timeline.locator('li[data-kind="stream"]').first).to_contain_text("INSERT record")
    expect(timeline.locator('li[data-kind="batch"]').first).to_contain_text("processed (attempt 1)")
    # AND the architecture draws the program with what flowed on each edge, the outbox's too
    expect(page.locator('#architecture path[data-to="payments-workflow"]')).to_have_class(re.compile(r"\bbusy\b"))
    expect(page.locator('#architecture path[data-from="stream:orders-table"]')).to_have_class(re.compile(r"\bbusy\b"))
    # (the README's screenshot: the console after the original scenario)
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)


def fault_then_redrive(page: Page, sandbox: Sandbox) -> None:
    # GIVEN update-order made to raise for its next 3 attempts, from the page's form
    page.select_option("#fault-kind", "lambda")
    page.select_option("#fault-target", "orders-update-order-fn")
    page.fill("#fault-amount", "3")
    page.select_option("#fault-unit", "attempts")
    page.click("#fault-add")
    expect(page.locator("#faults li.fault")).to_contain_text("lambda orders-update-order-fn: failed 0, 3 attempts left")
    expect(page.locator("#faults-on")).to_have_text("1 fault on")
    # WHEN an order is placed, and chosen in the list
    assert post_order(sandbox, 103, 100).status == 201
    page.click('#orders li[data-order="103"]')
    # THEN its timeline shows the three failed runs, Lambda's two retries, then the dead letter
    timeline = page.locator("#timeline")
    expect(timeline.locator('li[data-kind="dead-letter"]')).to_contain_text("order-service-filtering-payments-dlq")
    expect(timeline.locator('li[data-kind="retry"]')).to_have_count(2)
    expect(timeline.locator("li.failed", has_text="raised InjectedFaultError")).to_have_count(3)
    # AND the fault went off after its 3 attempts; the queue holds the event; the alarms are named
    expect(page.locator("#faults")).to_have_text("No fault on.")
    expect(page.locator("#faults-on")).to_be_hidden()
    queue = page.locator('#dlq li[data-queue="order-service-filtering-payments-dlq"]')
    expect(queue.locator(".count")).to_have_text("1")
    expect(queue).to_contain_text("order 103 PaymentSucceeded")
    expect(page.locator("#alarms")).to_contain_text("eda-demo-dev/ops-update-order-errors")
    expect(page.locator("#alarms")).to_contain_text("eda-demo-dev/ops-order-service-filtering-payments-dlq-not-empty")
    expect(page.locator('#orders li[data-order="103"] .status')).to_have_text("OrderCreated")
    # WHEN the queue is redriven from the page
    queue.locator("button.redrive").click()
    # THEN the order completes and the queue is empty
    expect(page.locator('#orders li[data-order="103"] .status')).to_have_text("OrderCompleted")
    expect(queue.locator(".count")).to_have_text("0")
    expect(page.locator("#alarms")).not_to_contain_text("dlq-not-empty")


def outbox_fault_then_redrive(page: Page, sandbox: Sandbox) -> None:
    # GIVEN PutEvents refused for every attempt the outbox's stream mapping makes, from the page's form
    (mapping,) = declared_mappings(sandbox.program)
    attempts = 1 + mapping.maximum_retry_attempts
    page.select_option("#fault-kind", "put_events")
    page.select_option("#fault-target", "*")
    page.fill("#fault-amount", str(attempts))
    page.select_option("#fault-unit", "attempts")
    page.click("#fault-add")
    expect(page.locator("#faults-on")).to_have_text("1 fault on")
    # WHEN an order is placed, and chosen in the list
    assert post_order(sandbox, 104, 100).status == 201
    page.click('#orders li[data-order="104"]')
    # THEN its timeline shows the publisher's batch failing, the mapping's retries, then the on-failure queue
    timeline = page.locator("#timeline")
    queue_name = str(mapping.on_failure_arn).split(":")[-1]
    expect(timeline.locator('li[data-kind="dead-letter"]')).to_contain_text(f"on-failure queue {queue_name}")
    expect(timeline.locator('li[data-kind="batch"].failed')).to_have_count(attempts)
    expect(timeline.locator('li[data-kind="batch"]').last).to_contain_text("retries exhausted")
    # AND the outbox's queue holds the batch's description, and its alarm is named
    label = sandbox.program.by_arn(str(mapping.on_failure_arn)).name
    queue = page.locator(f'#dlq li[data-queue="{label}"]')
    expect(queue.locator(".count")).to_have_text("1")
    expect(queue).to_contain_text("DDBStreamBatchInfo")
    expect(page.locator("#alarms")).to_contain_text("outbox")
    expect(page.locator('#orders li[data-order="104"] .status')).to_have_text("OrderCreated")
    # WHEN the queue is redriven from the page (the fault went off after its attempts)
    expect(page.locator("#faults-on")).to_be_hidden()
    queue.locator("button.redrive").click()
    # THEN the publisher publishes the records the stream still holds: the order completes, the queue is empty
    expect(page.locator('#orders li[data-order="104"] .status')).to_have_text("OrderCompleted")
    expect(queue.locator(".count")).to_have_text("0")
