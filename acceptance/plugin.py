"""The pytest plugin of ``make verify``: the target and what it should hold, and one line per check.

Each check names itself (its docstring's first line) and the command a user can run by hand to
see the same thing (``check.rerun(...)``); against the sandbox, a check that reads the sandbox's
equivalent of something only AWS produces says so (``check.sandbox_reads(...)``). The line (one per
check: outcome, title, the reason of a failure, then ``$`` and the command) goes to the console as
each check ends; pytest's own JUnit XML carries the same names and commands as
test properties.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

import pytest

from acceptance.inventory import Inventory, discover
from acceptance.support import Answer, eventually, http
from acceptance.target import Target
from components.settings import StackSettings, load_settings
from handlers import contract
from sandbox.program.evaluation import Program


@dataclass
class Check:
    """What one check tells the user besides pass or fail."""

    node: pytest.Item

    def rerun(self, command: str) -> None:
        """The command that shows a user what this check read."""
        self.node.user_properties.append(("rerun", command))

    def sandbox_reads(self, what: str) -> None:
        """Against the sandbox: the record read instead of one only AWS produces."""
        self.node.user_properties.append(("sandbox", what))

    def note(self, what: str) -> None:
        """What the user should know of this check's result, on any target."""
        self.node.user_properties.append(("note", what))


@dataclass
class Scenario:
    """The original scenario's two orders, as this run placed them and last read them."""

    completes: int
    cancels: int
    amounts: dict[int, float]
    placed: dict[int, Answer] = field(default_factory=dict)
    final: dict[int, Answer] = field(default_factory=dict)

    @property
    def expected_status(self) -> dict[int, str]:
        """Order id -> the status it must end in."""
        return {self.completes: contract.ORDER_COMPLETED, self.cancels: contract.ORDER_CANCELLED}


def scenario_amounts(threshold: float) -> tuple[float, float]:
    """The original's amounts (100 completes, 600 is cancelled), moved to fit the stack's fraud threshold."""
    return min(100.0, threshold), max(600.0, threshold + 100.0)


def _status(answer: Answer) -> str | None:
    return answer.json.get("status") if isinstance(answer.json, dict) else None


def play_scenario(target: Target, settings: StackSettings) -> Scenario:
    """POST both orders, then read them until each has a final status or the deadline passes."""
    ok_amount, fraud_amount = scenario_amounts(float(settings.fraud_threshold))
    completes, cancels = target.ids
    scenario = Scenario(completes, cancels, {completes: ok_amount, cancels: fraud_amount})
    for order_id, amount in scenario.amounts.items():
        body = f'{{"id":{order_id},"amount":{amount:g}}}'.encode()
        scenario.placed[order_id] = http("POST", f"{target.api_url}/order", body)
    deadline = time.monotonic() + target.deadline_seconds
    for order_id in scenario.amounts:
        scenario.final[order_id] = eventually(
            lambda order_id=order_id: http("GET", f"{target.api_url}/order/{order_id}"),
            lambda answer: _status(answer) in contract.FINAL_ORDER_STATUSES,
            deadline,
        )
    return scenario


def expected_program(config: pytest.Config) -> Program:
    """The program the running suite checks against (for checks parametrized by what it declares)."""
    for plugin in config.pluginmanager.get_plugins():
        if isinstance(plugin, VerifyPlugin):
            return plugin._expected
    raise RuntimeError("the acceptance suite runs through `make verify` (python -m acceptance)")


class VerifyPlugin:
    """Fixtures of the checks and the console report, for one target."""

    def __init__(self, target: Target, expected: Program, out: TextIO | None = None) -> None:
        """Check ``target`` against ``expected`` (the program evaluated for the target's stack)."""
        self._target = target
        self._expected = expected
        self.out = out or sys.stdout
        self.counts: dict[str, int] = {"PASS": 0, "FAIL": 0}

    # --- fixtures -------------------------------------------------------------------------------
    @pytest.fixture(scope="session")
    def target(self) -> Target:
        """The stack or sandbox under check."""
        return self._target

    @pytest.fixture(scope="session")
    def expected(self) -> Program:
        """What the program declares for the target's stack (evaluated under Pulumi's mocks)."""
        return self._expected

    @pytest.fixture(scope="session")
    def settings(self) -> StackSettings:
        """The stack's settings, as the program reads them from its config."""
        program = self._expected
        return load_settings(lambda key: program.config.get(program.config_key(key)))

    @pytest.fixture(scope="session")
    def inventory(self) -> Inventory:
        """The target's deployed resources, found once."""
        return discover(self._target)

    @pytest.fixture(scope="session")
    def scenario(self, settings: StackSettings) -> Scenario:
        """The original scenario, played once per run before the checks that read what it left."""
        return play_scenario(self._target, settings)

    @pytest.fixture
    def check(self, request: pytest.FixtureRequest) -> Iterator[Check]:
        """The check being run: its title, and where it records its command."""
        node = request.node
        title = (getattr(node, "function", None).__doc__ or node.name).strip().splitlines()[0]
        if getattr(node, "callspec", None) is not None:
            title = f"{title} [{node.callspec.id}]"
        node.user_properties.append(("check", title))
        yield Check(node)

    # --- the report -----------------------------------------------------------------------------
    def _line(self, outcome: str, properties: dict[str, Any], nodeid: str, reason: str = "") -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1
        text = f"{outcome}  {properties.get('check', nodeid)}"
        if properties.get("sandbox"):
            text += f" (sandbox: {properties['sandbox']})"
        if properties.get("note"):
            text += f" ({properties['note']})"
        if reason:
            text += f": {reason}"
        if properties.get("rerun"):
            text += f"   $ {properties['rerun']}"
        self.out.write(text + "\n")
        self.out.flush()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """One line per check, as it ends (a failing fixture fails its check)."""
        properties = dict(report.user_properties)
        if report.when == "call" or (report.when == "setup" and not report.passed):
            if report.passed:
                self._line("PASS", properties, report.nodeid)
            elif report.skipped:
                self._line("SKIP", properties, report.nodeid, "skipped: every check must run")
            else:
                crash = getattr(report.longrepr, "reprcrash", None)
                reason = crash.message if crash is not None else str(report.longrepr)
                self._line("FAIL", properties, report.nodeid, " ".join(reason.split())[:2000])

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """A check module that cannot even be collected is a failure too."""
        if report.failed:
            self._line("FAIL", {}, report.nodeid, f"could not be collected: {str(report.longrepr)[-500:]}")
