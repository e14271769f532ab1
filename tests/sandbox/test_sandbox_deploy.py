"""What the sandbox creates on its endpoint, read from the program: every type accounted for, tables as declared."""

from __future__ import annotations

import io
import logging
import zipfile
from pathlib import Path
from typing import Any

import pulumi
import pytest

from sandbox.program.deploy import CREATORS, NotEmulatedError, archive_zip, deploy, not_deployed_reason, table_request
from sandbox.program.evaluation import DeclaredResource, Program

ORDERS_TABLE: dict[str, Any] = {
    "name": "orders",
    "attributes": [{"name": "id", "type": "N"}],
    "hashKey": "id",
    "billingMode": "PAY_PER_REQUEST",
}


def test_every_type_the_program_declares_is_created_or_has_a_reason(dev_program: Program) -> None:
    # GIVEN the dev stack as declared
    # WHEN each declared type is looked up
    unaccounted = {
        r.type for r in dev_program.resources if r.type not in CREATORS and not not_deployed_reason(r.type, dev_program)
    }
    # THEN none is left without a creator or a reason
    assert unaccounted == set()


def test_a_type_the_sandbox_does_not_know_is_listed_at_warning(caplog: pytest.LogCaptureFixture) -> None:
    # GIVEN a program declaring two resources of a type the sandbox neither creates nor explains
    unknown = [
        DeclaredResource(urn=f"urn:{i}", type="aws:s3/bucketV2:BucketV2", name=f"b{i}", id=f"b{i}", state={})
        for i in range(2)
    ]
    program = Program(stack="dev", region="us-east-1", account_id="1", config={}, resources=unknown)
    # WHEN it is deployed (nothing to create, so no endpoint is called)
    with caplog.at_level(logging.WARNING, logger="sandbox.deploy"):
        deploy(program, "http://127.0.0.1:9")
    # THEN the type and its count are logged as not emulated
    assert [r.getMessage() for r in caplog.records] == [
        "not emulated by the sandbox (nothing is created for them): aws:s3/bucketV2:BucketV2 x2"
    ]


def test_a_table_keeps_its_range_key_and_indexes() -> None:
    # GIVEN a table with a range key and a global secondary index
    table = {
        **ORDERS_TABLE,
        "rangeKey": "at",
        "attributes": [{"name": "id", "type": "N"}, {"name": "at", "type": "S"}, {"name": "state", "type": "S"}],
        "globalSecondaryIndexes": [{"name": "by-state", "hashKey": "state", "projectionType": "ALL"}],
    }
    # WHEN its CreateTable request is built
    request = table_request(table)
    # THEN both keys and the index are in it
    assert request["KeySchema"] == [
        {"AttributeName": "id", "KeyType": "HASH"},
        {"AttributeName": "at", "KeyType": "RANGE"},
    ]
    assert request["GlobalSecondaryIndexes"] == [
        {
            "IndexName": "by-state",
            "KeySchema": [{"AttributeName": "state", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }
    ]


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"localSecondaryIndexes": [{"name": "x", "rangeKey": "id"}]}, "does not emulate"),
        ({"ttl": {"attributeName": "expiresAt", "enabled": True}}, "does not emulate"),
        ({"attributes": [{"name": "id", "type": "N"}, {"name": "unused", "type": "S"}]}, "refuses attribute"),
        ({"rangeKey": "at"}, "refuses attribute"),
    ],
    ids=["local index", "ttl", "unused attribute", "undefined range key"],
)
def test_a_table_the_sandbox_would_render_differently_is_refused(change: dict[str, Any], refusal: str) -> None:
    # GIVEN a table declaring what the sandbox would drop, or what DynamoDB refuses
    # WHEN its request is built
    # THEN it is refused, saying why
    with pytest.raises(NotEmulatedError, match=refusal):
        table_request({**ORDERS_TABLE, **change})


def test_function_code_is_zipped_from_the_declared_archive_only(tmp_path: Path) -> None:
    # GIVEN an archive of one file asset and one string asset
    source = tmp_path / "handler.py"
    source.write_text("def handler(event, context): ...\n")
    archive = pulumi.AssetArchive(
        {"pkg/handler.py": pulumi.FileAsset(str(source)), "pkg/x.txt": pulumi.StringAsset("x")}
    )
    # WHEN it is zipped, and an archive of another kind too
    with zipfile.ZipFile(io.BytesIO(archive_zip(archive))) as zipped:
        members = {name: zipped.read(name).decode() for name in zipped.namelist()}
    # THEN exactly the declared members are there; a file archive is refused
    assert members == {"pkg/handler.py": source.read_text(), "pkg/x.txt": "x"}
    with pytest.raises(NotEmulatedError):
        archive_zip(pulumi.FileArchive(str(tmp_path)))
