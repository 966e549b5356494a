"""The queue between the app and its log sink. `emit` is what requests call: it copies the
record into a bounded in-memory queue and returns, whatever the sink's state, so a slow or
absent OpenSearch never holds a request. A task started on the first `emit` writes the queue
in batches, retries a failing batch with backoff, and after LOG_SINK_TRIES gives it up,
counting it in `dropped`: logs are worth less than the service. One warning per outage, one
line when it ends, never one per record."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from datetime import UTC, date, datetime
from typing import Any

import structlog

from codebattle.logsink.sink import (
    INDICES,
    MAX_DOC_ID,
    Filters,
    Record,
    Sink,
    Sort,
)

log = structlog.get_logger(__name__)

FLUSH_SECONDS = 5.0  # `stop` waits this long for the queue to be written, then drops the rest
BACKOFF_SECONDS = 0.5  # first retry's wait, doubled each time up to MAX_BACKOFF_SECONDS
MAX_BACKOFF_SECONDS = 30.0


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _power_of_ten(n: int) -> bool:
    while n >= 10 and n % 10 == 0:
        n //= 10
    return n == 1


def _at(value: Any) -> str:
    """When a record happened, as ISO 8601 in UTC: from a datetime, epoch seconds
    (`time.time()`) or an ISO 8601 string (naive: UTC), now when missing. One form, so that
    the table sorts its JSON by it as text, and OpenSearch's `date` reads it (it would take
    a bare number for milliseconds)."""
    if value is None:
        moment = datetime.now(UTC)
    elif isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        moment = datetime.fromtimestamp(value, UTC)
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value)
    else:
        raise ValueError(f"`at` is not a time: {type(value).__name__}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


class LogWriter:
    def __init__(
        self,
        sink: Sink,
        *,
        capacity: int,
        batch: int,
        tries: int,
        backoff: float = BACKOFF_SECONDS,
        max_backoff: float = MAX_BACKOFF_SECONDS,
    ) -> None:
        self.sink = sink
        self.capacity = capacity
        self.batch = batch
        self.tries = tries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.written = 0  # records the sink took
        self.dropped = 0  # records lost: queue full, tries spent, refused, or left at stop
        self._queue: deque[Record] = deque()
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._started = False  # the sink's `start` succeeded
        self._closing = False
        self._in_flight: list[Record] = []  # out of the queue, not yet written nor dropped
        self._outage = False  # a warning was logged; the next success logs the recovery
        self._full = False  # the queue overflowed: warned once, until it has drained
        self._refused = 0  # records refused at `emit` (bad index, id or body)

    @property
    def pending(self) -> int:
        return len(self._queue)

    def counters(self) -> dict[str, int]:
        """For ops: what was written, dropped, and is waiting."""
        return {"written": self.written, "dropped": self.dropped, "pending": self.pending}

    def emit(self, index: str, doc_id: str, body: dict[str, Any]) -> None:
        """Queue a record; never blocks, never raises. The body is copied as JSON (dates as
        ISO 8601 strings) now, so a later change by the caller does not reach the log and a
        body that cannot be written is refused here rather than spoiling a batch. Its `at`
        (a datetime, epoch seconds or ISO 8601; now when missing) is kept as ISO 8601 UTC."""
        try:
            if self._closing:
                raise RuntimeError("log sink stopped")
            if index not in INDICES or not doc_id or len(doc_id) > MAX_DOC_ID:
                raise ValueError(f"bad log record {index!r}/{doc_id!r}")
            if len(self._queue) >= self.capacity:
                self.dropped += 1
                if not self._full:
                    self._full = True
                    log.warning("log_sink_queue_full", capacity=self.capacity)
                return
            copied = json.loads(json.dumps(body, default=_json_default))
            if not isinstance(copied, dict):
                raise ValueError("a log record's body is a JSON object")
            copied["at"] = _at(body.get("at"))
            self._queue.append(Record(index, doc_id, copied))
            self._ensure_running()
        except Exception as error:  # noqa: BLE001 - a log line never fails its caller
            self.dropped += 1
            self._refused += 1
            if _power_of_ten(self._refused):  # a caller's bug, not a flood of lines
                log.warning(
                    "log_sink_record_refused", index=index, error=repr(error), total=self._refused
                )

    def _ensure_running(self) -> None:
        """Start the writer task in the running loop, or wake it. A task left in another
        loop (one `asyncio.run` after another, in the CLI) is replaced, not woken."""
        if self._closing:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a synchronous caller): written by a later emit or by `stop`
        task = self._task
        if task is not None and not task.done() and task.get_loop() is loop:
            if self._wake is not None:
                self._wake.set()
            return
        self._wake = asyncio.Event()
        self._task = loop.create_task(self._run(), name="log-sink-writer")

    async def _run(self) -> None:
        assert self._wake is not None
        try:
            while True:
                if not self._queue:
                    if self._full:
                        self._full = False
                        log.info("log_sink_queue_drained", dropped=self.dropped)
                    if self._closing:
                        return
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                size = min(self.batch, len(self._queue))
                self._in_flight = [self._queue.popleft() for _ in range(size)]
                await self._deliver()
        finally:
            self.dropped += len(self._in_flight)  # cancelled mid-batch (`stop` out of time)
            self._in_flight = []

    async def _deliver(self) -> None:
        """Write the batch in flight, retrying what failed with backoff; after `tries`
        attempts what is left is dropped and counted."""
        for attempt in range(1, self.tries + 1):
            try:
                if not self._started:
                    await self.sink.start()
                    self._started = True
                outcome = await self.sink.write_batch(self._in_flight)
            except Exception as error:  # noqa: BLE001 - the store's failures are all alike here
                self._failed(error)
            else:
                self.written += len(self._in_flight) - len(outcome.retry) - outcome.rejected
                self.dropped += outcome.rejected  # the sink logged which, and why
                self._in_flight = outcome.retry
                if not self._in_flight:
                    self._recovered()
                    return
                self._failed(None, items=len(outcome.retry))
            if attempt < self.tries:
                delay = min(self.backoff * 2 ** (attempt - 1), self.max_backoff)
                await asyncio.sleep(delay)
        self.dropped += len(self._in_flight)
        log.warning("log_sink_batch_dropped", count=len(self._in_flight), tries=self.tries)
        self._in_flight = []

    def _failed(self, error: Exception | None, items: int = 0) -> None:
        if not self._outage:
            self._outage = True
            log.warning(
                "log_sink_unavailable",
                sink=type(self.sink).__name__,
                error=repr(error) if error is not None else None,
                items_refused=items or None,
            )

    def _recovered(self) -> None:
        if self._outage:
            self._outage = False
            log.info("log_sink_recovered", sink=type(self.sink).__name__)

    async def flush(self, timeout: float = FLUSH_SECONDS) -> None:
        """Wait (at most `timeout`) until what is queued now is written or dropped."""
        self._ensure_running()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (self._queue or self._in_flight) and loop.time() < deadline:
            await asyncio.sleep(0.01)

    async def stop(self, timeout: float = FLUSH_SECONDS) -> None:
        """Write what is queued within `timeout`, then drop (and count) the rest, and close
        the sink. Records emitted after this are counted as dropped."""
        if self._queue:
            self._ensure_running()
        self._closing = True
        task = self._task
        if task is not None and not task.done() and task.get_loop() is asyncio.get_running_loop():
            assert self._wake is not None
            self._wake.set()
            done, _ = await asyncio.wait({task}, timeout=timeout)
            if not done:
                task.cancel()
                # Bounded too: a client that swallows a cancellation must not hold a shutdown.
                await asyncio.wait({task}, timeout=1.0)
        if self._queue:
            self.dropped += len(self._queue)
            log.warning("log_sink_stopped_with_records", dropped=len(self._queue))
            self._queue.clear()
        with contextlib.suppress(Exception):
            await self.sink.close()

    async def search(
        self, index: str, filters: Filters, limit: int = 50, sort: Sort = "-at"
    ) -> list[dict[str, Any]]:
        """Read from the sink (what is still queued is not seen yet)."""
        return await self.sink.search(index, filters, limit, sort)

    async def count(self, index: str, filters: Filters) -> int:
        return await self.sink.count(index, filters)
