"""The README's event catalog is generated from the contracts and the evaluated program, and current."""

from __future__ import annotations

import pytest

from event_schemas import load
from event_schemas.validate import problems
from handlers import contract
from sandbox.catalog import (
    BEGIN,
    END,
    README_PATH,
    catalog_table,
    producers,
    representative_event,
    with_catalog,
)
from sandbox.program.evaluation import Program

REGENERATE = ".venv/bin/python -m sandbox.catalog --write-readme"


def test_the_readme_catalog_is_current(dev_program: Program) -> None:
    # GIVEN the README as committed
    readme = README_PATH.read_text(encoding="utf-8")
    # WHEN its catalog is regenerated in memory from the contracts and the dev stack
    regenerated = with_catalog(readme, catalog_table(dev_program, load()))
    # THEN nothing changes (else: regenerate it)
    assert regenerated == readme, f"README.md's event catalog is stale: run {REGENERATE}"


def test_every_representative_event_satisfies_its_contract() -> None:
    # GIVEN each contract  WHEN its representative event is built  THEN the contract accepts it
    for schema in load().values():
        assert problems(representative_event(schema)) == [], schema.detail_type


def test_producers_are_derived_from_who_may_put_events_on_the_bus(dev_program: Program) -> None:
    # GIVEN the dev stack  WHEN the producers are derived from its roles, functions and state machine
    found = producers(dev_program)
    # THEN order-service events come from the outbox's publisher alone, payment-service ones from
    # the payment workflow, and nothing else publishes (create-order, update-order, get-order and
    # notification may not: the first two write the table, whose stream the publisher reads)
    assert found == {
        contract.ORDER_SERVICE: ["orders-outbox-publish-order-events-fn"],
        contract.PAYMENT_SERVICE: ["payments-workflow"],
    }


def test_the_catalog_replaces_only_the_text_between_its_markers() -> None:
    # GIVEN a README with stale text between the markers
    readme = f"intro\n{BEGIN}\nold table\n{END}\nrest\n"
    # WHEN the catalog is written into it  THEN only the marked text changes
    assert with_catalog(readme, "| new |\n") == f"intro\n{BEGIN}\n| new |\n{END}\nrest\n"
    # AND a README without markers is refused rather than left stale
    with pytest.raises(ValueError, match="markers"):
        with_catalog("no markers here", "| new |\n")
