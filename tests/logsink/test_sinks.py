"""One suite for every log sink: the table (SQLite and PostgreSQL) and OpenSearch, the
latter through the real opensearch-py client against tests/support/fake_opensearch.py (a
loopback server speaking the OpenSearch HTTP calls the sink makes: no OpenSearch server
installs here). Records go through the writer, as the app's do."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from codebattle.db.session import Database
from codebattle.integrations.opensearch import opensearch_client
from codebattle.logsink import (
    APPEALS,
    INDICES,
    PASTE_EVENTS,
    SUBMISSION_LOG,
    LogWriter,
    OpenSearchSink,
    Outcome,
    Record,
    Sink,
    TableSink,
    make_sink,
)
from codebattle.services import Services
from tests.support.fake_gptzero import Recorded
from tests.support.fake_opensearch import FakeOpenSearch
from tests.support.site import settings_for


class Flaky:
    """The table's stand-in for an outage: its first `failures` writes raise, as a
    database that refuses connections does; OpenSearch's outages are the fake's 503s."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.failures = 0

    async def start(self) -> None:
        await self.sink.start()

    async def write_batch(self, records: list[Record]) -> Outcome:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database unavailable")
        return await self.sink.write_batch(records)

    async def search(self, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        return await self.sink.search(*args, **kwargs)

    async def count(self, *args: Any, **kwargs: Any) -> int:
        return await self.sink.count(*args, **kwargs)

    async def refresh(self, index: str) -> None:
        await self.sink.refresh(index)

    async def close(self) -> None:
        await self.sink.close()


@dataclass
class Backend:
    name: str
    sink: Sink
    fake: FakeOpenSearch | None = None
    flaky: Flaky | None = None

    def outage(self, requests: int) -> None:
        """The next `requests` writes fail."""
        if self.fake is not None:
            self.fake.fail(requests, 503)
        else:
            assert self.flaky is not None
            self.flaky.failures += requests

    def writer(self, **overrides: Any) -> LogWriter:
        options: dict[str, Any] = {
            "capacity": 100,
            "batch": 10,
            "tries": 3,
            "backoff": 0.01,
            "max_backoff": 0.02,
        }
        options.update(overrides)
        return LogWriter(self.sink, **options)

    async def written(self, writer: LogWriter) -> None:
        await writer.flush()
        for index in INDICES:
            await self.sink.refresh(index)


@pytest.fixture
def fake_opensearch() -> Iterator[FakeOpenSearch]:
    with FakeOpenSearch() as fake:
        yield fake


@pytest.fixture(params=["sqlite", "postgresql", "opensearch"])
def target(request: pytest.FixtureRequest) -> str | FakeOpenSearch:
    """Where the records go: a migrated database's URL, or the fake OpenSearch."""
    if request.param == "opensearch":
        return request.getfixturevalue("fake_opensearch")  # type: ignore[no-any-return]
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url"))


@pytest.fixture
async def backend(target: str | FakeOpenSearch, tmp_path: Path) -> AsyncIterator[Backend]:
    if isinstance(target, FakeOpenSearch):
        settings = settings_for(
            tmp_path, OPENSEARCH_URL=target.url, OPENSEARCH_API_KEY=target.api_key
        )
        db = Database(settings.database_url)  # not used: the sink is chosen from the settings
        sink = make_sink(settings, db)
        assert isinstance(sink, OpenSearchSink)
        yield Backend("opensearch", sink, fake=target)
        await sink.close()
        await db.dispose()
        return
    db = Database(target)
    flaky = Flaky(TableSink(db))
    yield Backend(db.engine.dialect.name, flaky, flaky=flaky)
    await db.dispose()


def authorization(request: Recorded) -> str | None:
    return {k.lower(): v for k, v in request.headers.items()}.get("authorization")


def at(second: int) -> str:
    return f"2026-12-07T13:00:{second:02d}+00:00"


async def test_write_search_count(backend: Backend) -> None:
    writer = backend.writer(batch=3)
    for n in range(7):
        body = {"at": at(n), "user_id": n % 2, "language": "python" if n < 4 else "cpp"}
        writer.emit(SUBMISSION_LOG, f"s{n}", {**body, "accepted": n == 6, "code_bytes": 10 * n})
    writer.emit(PASTE_EVENTS, "p1", {"at": at(1), "user_id": 1, "chars": 120})
    await backend.written(writer)
    assert writer.counters() == {"written": 8, "dropped": 0, "pending": 0}

    newest = await writer.search(SUBMISSION_LOG, {})
    assert [b["code_bytes"] for b in newest] == [60, 50, 40, 30, 20, 10, 0]
    oldest = await writer.search(SUBMISSION_LOG, {}, limit=2, sort="at")
    assert [b["code_bytes"] for b in oldest] == [0, 10]
    ones = await writer.search(SUBMISSION_LOG, {"user_id": 1, "language": "python"})
    assert [b["code_bytes"] for b in ones] == [30, 10]
    assert [b["code_bytes"] for b in await writer.search(SUBMISSION_LOG, {"accepted": True})] == [
        60
    ]
    assert await writer.count(SUBMISSION_LOG, {}) == 7
    assert await writer.count(SUBMISSION_LOG, {"language": "cpp"}) == 3
    assert await writer.count(SUBMISSION_LOG, {"code_bytes": [0, 20, 999]}) == 2
    assert await writer.count(PASTE_EVENTS, {"user_id": 1}) == 1
    assert await writer.count(APPEALS, {}) == 0  # never written to: nothing, not an error
    assert await writer.search(APPEALS, {"user_id": 1}) == []
    await writer.stop()


async def test_times_are_kept_as_iso_utc(backend: Backend) -> None:
    """`at` as the callers give it (epoch seconds from `time.time()`, datetimes, ISO
    strings in any offset) is kept in one form, so every store orders records alike."""
    seoul = timezone(timedelta(hours=9))
    base = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)
    writer = backend.writer()
    writer.emit(SUBMISSION_LOG, "epoch", {"at": base.timestamp() + 1.5, "made_at": base})
    writer.emit(SUBMISSION_LOG, "seoul", {"at": (base + timedelta(seconds=3)).astimezone(seoul)})
    writer.emit(SUBMISSION_LOG, "text", {"at": "2026-12-07T22:00:02+09:00"})
    writer.emit(SUBMISSION_LOG, "naive", {"at": datetime(2026, 12, 7, 13, 0, 4)})
    writer.emit(SUBMISSION_LOG, "bad", {"at": "yesterday"})  # refused, counted
    await backend.written(writer)
    assert writer.counters() == {"written": 4, "dropped": 1, "pending": 0}
    bodies = await writer.search(SUBMISSION_LOG, {}, sort="at")
    assert [b["at"] for b in bodies] == [
        "2026-12-07T13:00:01.500000+00:00",
        "2026-12-07T13:00:02+00:00",
        "2026-12-07T13:00:03+00:00",
        "2026-12-07T13:00:04+00:00",
    ]
    assert bodies[0]["made_at"] == "2026-12-07T13:00:00+00:00"
    await writer.stop()


async def test_writing_a_record_again_keeps_one(backend: Backend) -> None:
    writer = backend.writer(batch=2)
    body = {"at": at(5), "appeal_id": "a-1", "user_id": 7, "reason": "I typed it myself"}
    writer.emit(APPEALS, "a-1", body)
    writer.emit(APPEALS, "a-1", body)  # the same batch
    await backend.written(writer)
    writer.emit(APPEALS, "a-1", body)  # a later batch (a retried one that had landed)
    await backend.written(writer)
    assert await writer.count(APPEALS, {}) == 1
    assert await writer.search(APPEALS, {"appeal_id": "a-1"}) == [body]
    assert writer.dropped == 0
    await writer.stop()


async def test_retries_then_succeeds(backend: Backend) -> None:
    writer = backend.writer(tries=4)
    backend.outage(2)
    with capture_logs() as logs:
        for n in range(5):
            writer.emit(PASTE_EVENTS, f"p{n}", {"at": at(n), "user_id": 3})
        await backend.written(writer)
    assert writer.counters() == {"written": 5, "dropped": 0, "pending": 0}
    assert await writer.count(PASTE_EVENTS, {"user_id": 3}) == 5
    events = [entry["event"] for entry in logs]
    assert events.count("log_sink_unavailable") == 1  # one warning per outage
    assert events.count("log_sink_recovered") == 1
    await writer.stop()


async def test_drops_after_the_bound_and_counts(backend: Backend) -> None:
    writer = backend.writer(tries=3, batch=5)
    backend.outage(6)  # two batches, three tries each: both given up
    with capture_logs() as logs:
        for n in range(10):
            writer.emit(SUBMISSION_LOG, f"s{n}", {"at": at(n), "user_id": 1})
        await backend.written(writer)
        assert writer.counters() == {"written": 0, "dropped": 10, "pending": 0}
        writer.emit(SUBMISSION_LOG, "after", {"at": at(30), "user_id": 1})  # the store is back
        await backend.written(writer)
    assert writer.counters() == {"written": 1, "dropped": 10, "pending": 0}
    assert await writer.count(SUBMISSION_LOG, {}) == 1
    events = [entry["event"] for entry in logs]
    assert events.count("log_sink_unavailable") == 1  # not one per record nor per try
    assert events.count("log_sink_batch_dropped") == 2
    assert events.count("log_sink_recovered") == 1
    await writer.stop()


async def test_emit_never_blocks_nor_raises(backend: Backend) -> None:
    writer = backend.writer(capacity=50, batch=10, tries=2, backoff=0.05)
    backend.outage(1000)  # the store is down for good
    started = time.perf_counter()
    for n in range(200):
        writer.emit(SUBMISSION_LOG, f"s{n}", {"at": at(n % 60), "n": n})
    writer.emit("no-such-index", "x", {})
    writer.emit(SUBMISSION_LOG, "x" * 65, {})  # longer than the table's doc_id
    writer.emit(SUBMISSION_LOG, "y", {"what": object()})  # not JSON: written as its str
    writer.emit(SUBMISSION_LOG, "z", ["not", "an", "object"])  # type: ignore[arg-type]
    assert time.perf_counter() - started < 0.5
    assert writer.pending == 50  # the bound
    assert writer.dropped == 150 + 4  # the queue is full: even the bad ones are counted
    await writer.stop(timeout=0.2)  # bounded, though the store never comes back
    assert time.perf_counter() - started < 3
    assert writer.written == 0
    assert writer.dropped == 204  # everything, counted
    writer.emit(SUBMISSION_LOG, "late", {})  # after stop: counted, not raised
    assert writer.dropped == 205


async def test_stop_flushes_what_is_queued(backend: Backend) -> None:
    writer = backend.writer(batch=4)
    for n in range(9):
        writer.emit(PASTE_EVENTS, f"p{n}", {"user_id": 2, "chars": n})  # `at` filled in
    sink = backend.sink
    await writer.stop()
    assert writer.counters() == {"written": 9, "dropped": 0, "pending": 0}
    if backend.fake is not None:  # the writer closed its client: read with a new one
        assert len(backend.fake.documents(PASTE_EVENTS)) == 9
        return
    bodies = await sink.search(PASTE_EVENTS, {"user_id": 2}, limit=100)
    assert len(bodies) == 9 and all(isinstance(b["at"], str) for b in bodies)


# OpenSearch only: what the table has no counterpart of.


@pytest.fixture
async def opensearch(fake_opensearch: FakeOpenSearch, tmp_path: Path) -> AsyncIterator[Backend]:
    settings = settings_for(
        tmp_path, OPENSEARCH_URL=fake_opensearch.url, OPENSEARCH_API_KEY=fake_opensearch.api_key
    )
    sink = OpenSearchSink(opensearch_client(settings))
    yield Backend("opensearch", sink, fake=fake_opensearch)
    await sink.close()


async def test_templates_put_once_with_explicit_mappings(opensearch: Backend) -> None:
    fake = opensearch.fake
    assert fake is not None
    writer = opensearch.writer()
    writer.emit(SUBMISSION_LOG, "s1", {"at": at(1), "user_id": 4, "code_bytes": 12})
    writer.emit(APPEALS, "a1", {"at": at(2), "reason": "typed by hand", "tag": "x"})
    await opensearch.written(writer)
    writer.emit(SUBMISSION_LOG, "s2", {"at": at(3), "user_id": 4, "code_bytes": 13})
    await opensearch.written(writer)

    puts = [r.path for r in fake.requests if r.method == "PUT"]
    assert sorted(puts) == sorted(f"/_index_template/codebattle-{i}" for i in INDICES)
    templates = fake.templates
    submission = templates["codebattle-submission-log"]
    assert submission["index_patterns"][0] == SUBMISSION_LOG
    properties = submission["template"]["mappings"]["properties"]
    assert properties["at"] == {"type": "date"}
    assert properties["user_id"]["type"] == "keyword"
    assert properties["code_bytes"] == {"type": "integer"}
    appeals = templates["codebattle-appeals"]["template"]["mappings"]
    assert appeals["properties"]["decision_due"] == {"type": "date"}
    assert appeals["dynamic_templates"][0]["strings_as_keywords"]["mapping"]["type"] == "keyword"
    # The indices were created from them.
    assert fake.mappings(SUBMISSION_LOG)["properties"]["code_bytes"] == {"type": "integer"}
    # Bulk writes with the doc ids, and the API key on every request.
    bulks = [r for r in fake.requests if r.path.startswith("/_bulk")]
    assert len(bulks) == 2
    assert '"_id":"s1"' in bulks[0].body.replace(" ", "")
    assert all(authorization(r) == f"ApiKey {fake.api_key}" for r in fake.requests)
    await writer.stop()


async def test_a_key_that_may_not_put_templates_still_writes(opensearch: Backend) -> None:
    fake = opensearch.fake
    assert fake is not None
    fake.forbid("PUT /_index_template")
    fake.forbid("GET /")
    writer = opensearch.writer()
    with capture_logs() as logs:
        writer.emit(APPEALS, "a1", {"at": at(1), "user_id": 1})
        await opensearch.written(writer)
    assert writer.counters() == {"written": 1, "dropped": 0, "pending": 0}
    assert await writer.count(APPEALS, {"user_id": 1}) == 1
    assert fake.templates == {}
    assert [e["event"] for e in logs].count("log_sink_templates_not_put") == 1
    await writer.stop()


async def test_per_item_errors(opensearch: Backend) -> None:
    fake = opensearch.fake
    assert fake is not None
    writer = opensearch.writer(tries=3)
    writer.emit(SUBMISSION_LOG, "warm", {"at": at(0)})  # creates the index from its template
    await opensearch.written(writer)
    fake.fail_items(2, 429)  # too busy for the first two items: retried alone
    with capture_logs() as logs:
        writer.emit(SUBMISSION_LOG, "s1", {"at": at(1), "code_bytes": 1})
        writer.emit(SUBMISSION_LOG, "s2", {"at": at(2), "code_bytes": 2})
        writer.emit(SUBMISSION_LOG, "bad", {"at": at(3), "code_bytes": "many"})  # refused
        writer.emit(SUBMISSION_LOG, "s3", {"at": at(4), "code_bytes": 3})
        await opensearch.written(writer)
    assert writer.counters() == {"written": 4, "dropped": 1, "pending": 0}
    assert sorted(fake.documents(SUBMISSION_LOG)) == ["s1", "s2", "s3", "warm"]
    rejected = [e for e in logs if e["event"] == "log_sink_record_rejected"]
    assert [(e["doc_id"], e["status"]) for e in rejected] == [("bad", 400)]
    await writer.stop()


async def test_a_wrong_key_is_an_outage_and_never_shown(
    fake_opensearch: FakeOpenSearch, tmp_path: Path
) -> None:
    wrong = "wrong-key-that-must-not-leak-42"
    settings = settings_for(tmp_path, OPENSEARCH_URL=fake_opensearch.url, OPENSEARCH_API_KEY=wrong)
    client = opensearch_client(settings)
    writer = LogWriter(OpenSearchSink(client), capacity=10, batch=10, tries=2, backoff=0.01)
    with capture_logs() as logs:
        writer.emit(APPEALS, "a1", {"at": at(1)})
        await writer.flush()
        await writer.stop()
    assert writer.counters() == {"written": 0, "dropped": 1, "pending": 0}
    assert authorization(fake_opensearch.requests[0]) == f"ApiKey {wrong}"
    assert wrong not in repr(client) and wrong not in repr(logs)
    assert [e["event"] for e in logs].count("log_sink_unavailable") == 1


async def test_services_choose_the_sink_and_flush_it_on_stop(
    fake_opensearch: FakeOpenSearch, tmp_path: Path, sqlite_url: str
) -> None:
    database = sqlite_url.replace("+aiosqlite", "")
    table = Services.from_settings(settings_for(tmp_path / "a", DATABASE_URL=database))
    assert isinstance(table.logsink.sink, TableSink)
    table.logsink.emit(APPEALS, "a1", {"user_id": 1})
    await table.stop()
    assert table.logsink.written == 1

    remote = Services.from_settings(
        settings_for(
            tmp_path / "b",
            DATABASE_URL=database,
            OPENSEARCH_URL=fake_opensearch.url,
            OPENSEARCH_API_KEY=fake_opensearch.api_key,
        )
    )
    assert isinstance(remote.logsink.sink, OpenSearchSink)
    remote.logsink.emit(APPEALS, "a2", {"user_id": 1})
    await asyncio.sleep(0)
    await remote.stop()
    assert remote.logsink.counters() == {"written": 1, "dropped": 0, "pending": 0}
    assert list(fake_opensearch.documents(APPEALS)) == ["a2"]


class Memory:
    """A sink that keeps what it is given: for what does not depend on the store."""

    def __init__(self) -> None:
        self.records: list[Record] = []

    async def start(self) -> None:
        return None

    async def write_batch(self, records: list[Record]) -> Outcome:
        self.records.extend(records)
        return Outcome()

    async def search(self, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        return []

    async def count(self, *args: Any, **kwargs: Any) -> int:
        return len(self.records)

    async def refresh(self, index: str) -> None:
        return None

    async def close(self) -> None:
        return None


def test_a_writer_outlives_its_event_loop() -> None:
    """The CLI runs one `asyncio.run` after another with the same services: a record
    emitted in the second loop is written by a task of that loop, as is one emitted where
    no loop runs."""
    memory = Memory()
    writer = LogWriter(memory, capacity=10, batch=10, tries=1)

    async def first() -> None:
        writer.emit(APPEALS, "a1", {"n": 1})
        await writer.flush()

    async def second() -> None:
        writer.emit(APPEALS, "a2", {"n": 2})
        await writer.flush()

    asyncio.run(first())
    writer.emit(APPEALS, "a0", {"n": 0})  # no loop: queued
    asyncio.run(second())
    asyncio.run(writer.stop())
    assert [r.doc_id for r in memory.records] == ["a1", "a0", "a2"]
    assert writer.counters() == {"written": 3, "dropped": 0, "pending": 0}
