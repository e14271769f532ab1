"""Lambda's event source mappings on DynamoDB streams, as the program declares them.

Each mapping reads the records :mod:`sandbox.delivery.stream` hands it, shard by shard, and invokes its
function the way Lambda does (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html):

- **order**: one batch at a time per shard; a shard does not move on until its batch succeeded,
  was bisected, or was given up, so the records of one item arrive in order, at least once;
- **filter**: ``FilterCriteria`` patterns, EventBridge pattern semantics on the record's JSON
  (``eventName``, ``dynamodb.NewImage`` with typed values); a record no pattern matches is
  dropped before batching and counts as processed
  (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html);
- **batches** of at most ``BatchSize`` records, the event ``{"Records": [...]}``, each record with
  the stream's ``eventSourceARN``;
- **partial batch responses** (``ReportBatchItemFailures``): the lowest reported sequence number
  is the checkpoint; what precedes it is done, the rest is retried. An empty or unknown
  ``itemIdentifier`` fails the whole batch
  (https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html);
- **errors**: ``BisectBatchOnFunctionError`` halves a failed batch ("splitting a batch does not
  count towards the retry quota"); otherwise the batch is retried up to
  ``MaximumRetryAttempts`` times, and a record older than ``MaximumRecordAgeInSeconds`` is not
  retried; then the batch's description (``DDBStreamBatchInfo``: shard, first and last sequence
  numbers, the stream, not the records) goes to the on-failure destination and the shard moves on
  (https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html).

Lambda does not document its back-off between retries of a stream batch; the sandbox waits
1 s, 2 s, 4 s, ... scaled by ``delay_scale`` like every other retry.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from moto.sqs.models import sqs_backends

from sandbox.delivery.event_patterns import matches
from sandbox.delivery.rules import FIRST_RETRY_SECONDS, Scheduler
from sandbox.delivery.stream import ChangeRecord
from sandbox.functions import invocation
from sandbox.functions.runtime import FunctionRuntime
from sandbox.program.evaluation import Program

log = logging.getLogger("sandbox.delivery.stream_mapping")
MAPPING_TYPE = "aws:lambda/eventSourceMapping:EventSourceMapping"
#: Lambda's defaults: -1 means "until the record expires" (24 hours on a DynamoDB stream).
STREAM_RETENTION_SECONDS = 24 * 3600


@dataclass(frozen=True)
class DeclaredMapping:
    """One event source mapping on a DynamoDB stream, as the program declares it."""

    uuid: str
    function_arn: str
    stream_arn: str
    batch_size: int
    filters: tuple[dict[str, Any], ...]
    maximum_retry_attempts: int
    maximum_record_age_seconds: int
    bisect: bool
    report_batch_item_failures: bool
    on_failure_arn: str | None


def declared_mappings(program: Program) -> list[DeclaredMapping]:
    """The program's mappings on DynamoDB streams (other sources are refused at deploy)."""
    mappings = []
    for res in program.of_type(MAPPING_TYPE):
        retries = int(res.get("maximumRetryAttempts", -1))
        age = int(res.get("maximumRecordAgeInSeconds", -1))
        on_failure = ((res.get("destinationConfig") or {}).get("onFailure") or {}).get("destinationArn")
        mappings.append(
            DeclaredMapping(
                uuid=res["uuid"],
                function_arn=res["functionArn"],
                stream_arn=res["eventSourceArn"],
                batch_size=int(res.get("batchSize", 100)),
                filters=tuple(json.loads(f["pattern"]) for f in (res.get("filterCriteria") or {}).get("filters", [])),
                maximum_retry_attempts=10**9 if retries < 0 else retries,
                maximum_record_age_seconds=STREAM_RETENTION_SECONDS if age < 0 else age,
                bisect=bool(res.get("bisectBatchOnFunctionError")),
                report_batch_item_failures="ReportBatchItemFailures" in (res.get("functionResponseTypes") or []),
                on_failure_arn=on_failure,
            )
        )
    return mappings


def passes_filters(filters: tuple[dict[str, Any], ...], record: dict[str, Any]) -> bool:
    """Whether Lambda hands ``record`` on: no filter, or at least one pattern matches it."""
    return not filters or any(matches(pattern, record) for pattern in filters)


def checkpoint(response: Any, batch: list[ChangeRecord]) -> int | None:
    """How many records of ``batch`` a partial batch response says are done (``None``: all failed).

    The lowest reported sequence number is where Lambda resumes; an empty, missing or unknown
    ``itemIdentifier`` makes the whole batch a failure.
    """
    failures = response.get("batchItemFailures") if isinstance(response, dict) else None
    if not failures:
        return len(batch)
    numbers = [r.record["dynamodb"]["SequenceNumber"] for r in batch]
    indexes = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in numbers:
            return None
        indexes.append(numbers.index(identifier))
    return min(indexes)


@dataclass
class _Shard:
    """The records of one shard a mapping has not finished, and how its current batch fares."""

    mapping: DeclaredMapping
    records: deque[ChangeRecord] = field(default_factory=deque)
    busy: bool = False
    attempts: int = 0
    #: The batch size while bisecting (``None``: the mapping's own).
    limit: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class BatchObserver(Protocol):
    """What the mappings tell an observer (the console's recorder): defined here, as it reads it."""

    def stream_batch(
        self,
        function: str,
        records: list[dict[str, Any]],
        attempt: int,
        outcome: str,
        error: str | None,
        wait: float,
        processed: int,
    ) -> None:
        """One invocation with a batch, and what came of it.

        ``outcome``: ``done``, ``bisected``, ``retry`` (in ``wait`` s) or ``exhausted``; ``attempt``
        counts from 1; ``error``: the function's error, or what its partial batch response said;
        ``processed``: the records at the head of the batch that are done (the checkpoint moved past them).
        """

    def stream_given_up(
        self, function: str, records: list[dict[str, Any]], condition: str, attempts: int, queue: str | None
    ) -> None:
        """A batch's description went to the on-failure ``queue`` (``None``: none declared, dropped)."""


class StreamMappings:
    """Runs every declared mapping: takes records from the streams, invokes, retries, gives up."""

    #: The console's recorder while it runs: told of every batch invoked and every batch given up.
    observer: BatchObserver | None = None

    def __init__(
        self,
        program: Program,
        functions: FunctionRuntime,
        *,
        delay_scale: float = 0.01,
        on_trace: Callable[[str], None] | None = None,
        workers: int = 4,
    ) -> None:
        """The mappings of ``program``, invoking ``functions``; back-off delays shrink by ``delay_scale``."""
        self.mappings = declared_mappings(program)
        self.functions = functions
        self.account_id, self.region = program.account_id, program.region
        self.delay_scale = delay_scale
        self.on_trace = on_trace or (lambda line: None)
        self._shards: dict[tuple[str, int], _Shard] = {}
        self._workers = Scheduler(workers, "stream")
        self._pending = 0
        self._cond = threading.Condition()
        #: What the mappings read since the last :meth:`forget`: records, and the batches that
        #: invoked a function (a ``GetRecords`` each; the filter's drops invoke nothing).
        self.records_read = 0
        self.batches_invoked = 0

    def on_record(self, change: ChangeRecord) -> None:
        """A listener of :class:`sandbox.delivery.stream.TableStreams`: queue the record on its shard."""
        for mapping in self.mappings:
            if mapping.stream_arn != change.stream_arn:
                continue
            shard = self._shards.setdefault((mapping.uuid, change.shard), _Shard(mapping))
            with shard.lock:
                self.records_read += 1
                shard.records.append(change)
                if shard.busy:
                    continue
                shard.busy = True
            self._schedule(shard, 0.0)

    @property
    def pending(self) -> int:
        """Shards with records still to process (a retry waiting included)."""
        with self._cond:
            return self._pending

    def forget(self) -> None:
        """Drop every shard and the records not processed yet (the tables they came from were reset).

        A shard holds the mapping it was made with: dropping it makes the next record start a shard
        of the mappings as they are now, as a fresh start would.
        """
        for shard in self._shards.values():
            with shard.lock:
                shard.records.clear()
        self._shards.clear()
        self.records_read = self.batches_invoked = 0

    def shutdown(self) -> None:
        """Stop the workers (what is not started is dropped)."""
        self._workers.shutdown()

    def _schedule(self, shard: _Shard, delay: float) -> None:
        with self._cond:
            self._pending += 1
        self._workers.submit(lambda: self._run(shard), delay)

    def _run(self, shard: _Shard) -> None:
        """Process batches of one shard until it is empty or a retry has to wait."""
        try:
            while True:
                batch = self._next_batch(shard)
                if not batch:
                    return
                wait = self._process(shard, batch)
                if wait is not None:
                    self._schedule(shard, wait)
                    return
        except Exception:  # a bug of the sandbox itself must not kill the worker silently
            log.exception("sandbox stream mapping failed")
            with shard.lock:
                shard.busy = False
        finally:
            with self._cond:
                self._pending -= 1
                self._cond.notify_all()

    def _next_batch(self, shard: _Shard) -> list[ChangeRecord]:
        """The records Lambda hands over next (filtered-out ones are dropped); marks the shard idle if none."""
        mapping = shard.mapping
        with shard.lock:
            while shard.records and not passes_filters(mapping.filters, shard.records[0].record):
                shard.records.popleft()
            batch: list[ChangeRecord] = []
            for change in shard.records:
                if len(batch) >= (shard.limit or mapping.batch_size):
                    break
                if passes_filters(mapping.filters, change.record):
                    batch.append(change)
            if not batch:
                shard.busy = False
            return batch

    def _age(self, change: ChangeRecord) -> float:
        """A record's age in the sandbox's time (real seconds scaled back up)."""
        return (time.monotonic() - change.written) / max(self.delay_scale, 1e-9)

    def _process(self, shard: _Shard, batch: list[ChangeRecord]) -> float | None:
        """Invoke with ``batch``; the delay before the shard's retry, or ``None`` to go on at once."""
        mapping = shard.mapping
        expired = [c for c in batch if self._age(c) > mapping.maximum_record_age_seconds]
        if expired:
            # Records are in order, oldest first: the expired ones are the head of the batch.
            self._give_up(shard, batch[: len(expired)], "RecordAgeExceeded")
            return None
        event = {"Records": [{**c.record, "eventSourceARN": c.stream_arn} for c in batch]}
        self.batches_invoked += 1
        result = invocation.invoke(self.functions, mapping.function_arn, event)
        error = None if result.function_error is None else _error_message(result.payload)
        done: int | None = 0
        if result.function_error is None:
            response = json.loads(result.payload or b"null")
            done = checkpoint(response, batch) if mapping.report_batch_item_failures else len(batch)
            if done is not None and done > 0:
                self._done(shard, batch[done - 1])
            if done == len(batch):
                self._observe(shard, batch, "done", None, 0.0, done)
                shard.attempts, shard.limit = 0, None
                return None
            failed = batch if done is None else batch[done:]
            error = "partial batch response: " + ("whole batch failed" if done is None else f"{done} done")
        elif mapping.bisect and len(batch) > 1:
            self._observe(shard, batch, "bisected", error, 0.0, 0)
            shard.limit = len(batch) // 2  # splitting does not count against the retry quota
            return 0.0
        else:
            failed = batch
        shard.attempts += 1
        if shard.attempts > mapping.maximum_retry_attempts:
            self._observe(shard, batch, "exhausted", error, 0.0, done or 0)
            self._give_up(shard, failed, "RetryAttemptsExhausted")
            return None
        wait = FIRST_RETRY_SECONDS * 2 ** (shard.attempts - 1) * self.delay_scale
        self._observe(shard, batch, "retry", error, wait, done or 0)
        return wait

    def _observe(
        self, shard: _Shard, batch: list[ChangeRecord], outcome: str, error: str | None, wait: float, done: int
    ) -> None:
        if self.observer is not None:
            name = self.functions.functions[shard.mapping.function_arn].name
            attempt = shard.attempts + (0 if outcome in ("retry", "exhausted") else 1)
            self.observer.stream_batch(name, [c.record for c in batch], attempt, outcome, error, wait, done)

    def _done(self, shard: _Shard, last: ChangeRecord) -> None:
        """The shard's checkpoint moves past ``last`` (and the filtered-out records before it)."""
        with shard.lock:
            while shard.records:
                if shard.records.popleft() is last:
                    return

    def _give_up(self, shard: _Shard, failed: list[ChangeRecord], condition: str) -> None:
        """Send the batch's description to the on-failure destination; the shard moves on."""
        mapping, attempts = shard.mapping, shard.attempts
        self._done(shard, failed[-1])
        shard.attempts, shard.limit = 0, None
        name = self.functions.functions[mapping.function_arn].name
        numbers = [c.record["dynamodb"]["SequenceNumber"] for c in failed]
        if self.observer is not None:
            queue = mapping.on_failure_arn.split(":")[-1] if mapping.on_failure_arn else None
            self.observer.stream_given_up(name, [c.record for c in failed], condition, attempts, queue)
        if mapping.on_failure_arn is None:
            log.error(
                "%s: stream records %s..%s dropped (%s): no on-failure destination",
                name,
                numbers[0],
                numbers[-1],
                condition,
            )
            return
        sqs_backends[self.account_id][self.region].send_message(
            mapping.on_failure_arn.split(":")[-1], json.dumps(self.failure_record(mapping, failed, condition, attempts))
        )
        self.on_trace(
            f"{len(failed)} stream record(s) {numbers[0]}..{numbers[-1]} -> on-failure destination of {name} "
            f"after {attempts} attempts ({condition})"
        )

    def failure_record(
        self, mapping: DeclaredMapping, failed: list[ChangeRecord], condition: str, attempts: int
    ) -> dict[str, Any]:
        """What Lambda sends the on-failure destination of a stream mapping: the batch, described."""

        def arrival(change: ChangeRecord) -> str:
            seconds = change.record["dynamodb"]["ApproximateCreationDateTime"]
            return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

        return {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": mapping.function_arn,
                "condition": condition,
                "approximateInvokeCount": attempts,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "DDBStreamBatchInfo": {
                "shardId": f"shardId-{failed[0].shard:020d}-{mapping.uuid[:8]}",
                "startSequenceNumber": failed[0].record["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": failed[-1].record["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": arrival(failed[0]),
                "approximateArrivalOfLastRecord": arrival(failed[-1]),
                "batchSize": len(failed),
                "streamArn": mapping.stream_arn,
            },
        }


def _error_message(payload: bytes) -> str:
    """The function's error as its error payload names it (``errorType: errorMessage``)."""
    try:
        body = json.loads(payload or b"null")
    except ValueError:
        return "function error"
    if not isinstance(body, dict):
        return "function error"
    return f"{body.get('errorType', 'Error')}: {body.get('errorMessage', '')}"
