"""DynamoDB Streams as DynamoDB writes them: one record per change of an item, in order per item.

moto keeps a stream per table but writes its records its own way, and hands them to Lambda
through Docker. :class:`TableStreams` replaces moto's ``StreamShard.add`` while a sandbox runs so
that every change becomes the record AWS documents ("DynamoDB Streams ... StreamRecord",
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_StreamRecord.html and
the Lambda event in https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html), where moto's
differs:

- ``eventVersion`` ``1.1`` (moto: ``1.0``); ``awsRegion`` the table's region (moto: always
  ``us-east-1``);
- ``dynamodb.ApproximateCreationDateTime`` in seconds since the epoch, a JSON number (moto: a
  Python datetime);
- ``dynamodb.SizeBytes`` the size of the keys and images (moto: the whole record's JSON);
- a write that changes nothing in the item writes no record ("If you perform a PutItem or
  UpdateItem operation that does not change any data in an item, DynamoDB Streams does not write
  a stream record for that operation",
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html); moto writes one;
- records are not handed to moto's Lambda (Docker): they go to the listeners (the sandbox's event
  source mappings, :mod:`sandbox.delivery.stream_mapping`) with the shard they belong to;
- conditional writes are atomic, as DynamoDB's are (moto's are not across threads).

Records of one item always land in the same shard, in the order of the writes; the shard is
chosen from the item's key (:func:`shard_of`), as DynamoDB assigns shards to key ranges. moto's
own ``GetRecords`` still reads the table's one moto shard, with the corrected records.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import StreamShard

from sandbox.program.deploy import STREAM_ARN_SEPARATOR

#: Logical shards per stream: records of different items are processed in parallel, up to this.
SHARDS = 4
#: moto's item writes, each made atomic (see :meth:`TableStreams.install`).
WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")


@dataclass(frozen=True)
class ChangeRecord:
    """One stream record, with the stream and logical shard it was written to."""

    stream_arn: str
    shard: int
    record: dict[str, Any]
    #: When it was written (``time.monotonic()``): its age, for ``MaximumRecordAgeInSeconds``.
    written: float


class _MotoRecord:
    """What moto's shard keeps: an object whose ``to_json`` is the record (its GetRecords reads it)."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.record = record

    def to_json(self) -> dict[str, Any]:
        return self.record


def shard_of(keys: dict[str, Any]) -> int:
    """The logical shard of an item: a stable function of its key, so its records stay in order."""
    digest = hashlib.sha256(json.dumps(keys, sort_keys=True).encode()).digest()
    return digest[0] % SHARDS


def stream_arn_of(table: Any) -> str:
    """The ARN of a moto table's latest stream."""
    return f"{table.table_arn}{STREAM_ARN_SEPARATOR}{table.latest_stream_label}"


def aws_record(table: Any, sequence: int, old: Any, new: Any) -> dict[str, Any]:
    """The stream record AWS writes for one change of ``table`` (moto items ``old`` -> ``new``)."""
    view = table.stream_specification["StreamViewType"]
    item = old if old is not None else new
    keys = {table.hash_key_attr: item.hash_key.to_json()}
    if table.range_key_attr is not None:
        keys[table.range_key_attr] = item.range_key.to_json()
    data: dict[str, Any] = {"Keys": keys}
    if view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES") and new is not None:
        data["NewImage"] = new.to_json()["Attributes"]
    if view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES") and old is not None:
        data["OldImage"] = old.to_json()["Attributes"]
    size = len(json.dumps(data, separators=(",", ":")))
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": "INSERT" if old is None else "REMOVE" if new is None else "MODIFY",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": table.region_name,
        "dynamodb": {
            "ApproximateCreationDateTime": int(time.time()),
            **data,
            "SequenceNumber": str(sequence),
            "SizeBytes": size,
            "StreamViewType": view,
        },
    }


class TableStreams:
    """Every change of every streamed table, as AWS records it, handed to the listeners."""

    def __init__(self) -> None:
        """No listener yet; nothing installed."""
        self.listeners: list[Callable[[ChangeRecord], None]] = []
        self._lock = threading.Lock()
        self._writes = threading.RLock()
        self._original: Any = None
        self._original_writes: dict[str, Any] = {}

    def install(self) -> None:
        """Replace moto's ``StreamShard.add`` and make its item writes atomic (undone by :meth:`uninstall`).

        A DynamoDB conditional write is atomic: two concurrent ``UpdateItem`` calls with the same
        condition cannot both succeed. moto checks the condition and writes without a lock, so
        two threads could both pass it (and write two stream records with the same old image); the
        sandbox serialises moto's writes, which also keeps each item's records in write order.
        """
        self._original = StreamShard.add
        streams = self

        def add(shard: StreamShard, old: Any, new: Any) -> None:
            streams.add(shard, old, new)

        StreamShard.add = add  # pyrefly: ignore[bad-assignment]
        for name in WRITES:
            self._original_writes[name] = original = getattr(DynamoDBBackend, name)
            setattr(DynamoDBBackend, name, self._atomic(original))

    def _atomic(self, original: Callable[..., Any]) -> Callable[..., Any]:
        lock = self._writes

        def write(backend: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
            with lock:
                return original(backend, *args, **kwargs)

        return write

    def uninstall(self) -> None:
        """Give moto its own ``add`` and writes back."""
        if self._original is not None:
            StreamShard.add = self._original
            self._original = None
        while self._original_writes:
            name, original = self._original_writes.popitem()
            setattr(DynamoDBBackend, name, original)

    def add(self, shard: StreamShard, old: Any, new: Any) -> None:
        """Record one change (none when nothing changed) and hand it to every listener."""
        if old is not None and new is not None and old.to_json() == new.to_json():
            return
        with self._lock:
            # moto's GetRecords reads its shard by position from its starting sequence number.
            sequence = shard.starting_sequence_number + len(shard.items)
            record = aws_record(shard.table, sequence, old, new)
            shard.items.append(_MotoRecord(record))  # pyrefly: ignore[bad-argument-type]
            change = ChangeRecord(
                stream_arn_of(shard.table), shard_of(record["dynamodb"]["Keys"]), record, time.monotonic()
            )
            # Handed on under the lock: each listener sees the records of a shard in stream order.
            for listener in self.listeners:
                listener(change)
