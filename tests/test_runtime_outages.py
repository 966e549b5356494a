"""runtime under outages, on SQLite: judge events that could not be recorded while the
database was unavailable are tried again until recorded (the embedded queue would drop
them); a resend of lost jobs that fails reaches the queue and stays due for the relay; a
verdict whose pass-on keeps failing is given up after REPORT_TRIES passes, outages aside."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import exc as sa
from sqlalchemy import select, update

from codebattle import runtime
from codebattle.battles import live
from codebattle.db import outage
from codebattle.db.session import Database
from codebattle.judge.jobs import Event
from codebattle.models import Submission
from codebattle.storage import LocalBlobStore
from codebattle.submissions import recording
from codebattle.submissions import service as submissions
from codebattle.submissions.models import DONE
from codebattle.submissions.recording import Recorded
from tests.rooms.test_results_once import judged, running_room
from tests.support.factories import make_problem_version, make_user
from tests.support.services import FakeServices
from tests.support.site import settings_for


def locked() -> sa.OperationalError:
    """What SQLite raises when it gives up waiting for a write lock (an outage)."""
    return sa.OperationalError("UPDATE", {}, sqlite3.OperationalError("database is locked"))


class FakeQueue:
    """Keeps the handlers `start` gets; with `lost`, calls on_lost as in-process queues do
    and keeps what it raised."""

    def __init__(self, lost: bool = False) -> None:
        self.lost = lost
        self.on_event: Callable[[list[Event]], Awaitable[None]] | None = None
        self.on_lost: Callable[[], Awaitable[None]] | None = None
        self.lost_error: BaseException | None = None

    async def start(self, on_event: Callable[[list[Event]], Awaitable[None]], on_lost: Any) -> None:
        self.on_event, self.on_lost = on_event, on_lost
        if self.lost:
            try:
                await on_lost()
            except Exception as exc:
                self.lost_error = exc


class Services(FakeServices):
    def __init__(self, db: Database, tmp_path: Path, queue: FakeQueue) -> None:
        super().__init__(db, settings_for(tmp_path))
        self.queue = queue
        self.blobs = LocalBlobStore(tmp_path / "blobs")


@pytest.fixture
def loops(monkeypatch: pytest.MonkeyPatch) -> dict[str, Callable[[], Awaitable[Any]]]:
    """The steps runtime.start gives live.every, by name (never run on their own)."""
    steps: dict[str, Callable[[], Awaitable[Any]]] = {}

    def every(
        seconds: float, step: Callable[[], Awaitable[Any]], what: str
    ) -> Coroutine[Any, Any, None]:
        steps[what] = step

        async def idle() -> None:
            return None

        return idle()

    monkeypatch.setattr(live, "every", every)
    return steps


async def practice_submission(db: Database, blobs: LocalBlobStore) -> int:
    async with db.session() as session:
        version = await make_problem_version(session, blobs)
        user = await make_user(session, "alice")
        target = submissions.Target(
            version.problem_id, version.id, version.package_key, version.time_limit,
            version.test_count,
        )  # fmt: skip
        submission, _job = await submissions.create(
            session, blobs, user, None, "python", "print(1)\n", max_code_bytes=65536,
            target=target,
        )  # fmt: skip
        await session.commit()
        return submission.id


def done(submission_id: int) -> Event:
    result = {"verdict": "AC", "compile_output": "", "message": "", "tests_total": 1,
              "judge_time": 0.1, "tests": [{"name": "1", "verdict": "AC", "time": 0.01,
                                            "memory": 1024, "sample": True}]}  # fmt: skip
    return {"submission": submission_id, "type": "done", "result": result}  # type: ignore[typeddict-item]


async def status_of(db: Database, submission_id: int) -> str:
    async with db.reading() as session:
        found = await session.scalar(
            select(Submission.status).where(Submission.id == submission_id)
        )
        return str(found)


async def test_events_are_recorded_once_the_database_answers(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loops: Any
) -> None:
    db = Database(sqlite_url)
    try:
        queue = FakeQueue()
        services: Any = Services(db, tmp_path, queue)
        submission_id = await practice_submission(db, services.blobs)
        real, calls, reported = recording.record_batch, [], []

        async def flaky(session: Any, events: list[Event]) -> Any:
            calls.append(len(events))
            if len(calls) <= 2:
                raise locked()
            return await real(session, events)

        monkeypatch.setattr(recording, "record_batch", flaky)
        monkeypatch.setattr(runtime, "RECORD_RETRY_SECONDS", (0.01, 0.02))
        monkeypatch.setattr(outage, "report", lambda exc, where: reported.append(where))
        await runtime.start(services, loops=False)
        assert queue.on_event is not None
        await queue.on_event([done(submission_id)])  # returns once recorded
        assert len(calls) == 3 and reported == ["recording judge events"] * 2
        assert await status_of(db, submission_id) == DONE
    finally:
        await db.dispose()


async def test_other_recording_errors_are_raised(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loops: Any
) -> None:
    db = Database(sqlite_url)
    try:
        queue = FakeQueue()
        calls = []

        async def broken(session: Any, events: list[Event]) -> Any:
            calls.append(events)
            raise ValueError("a bug")

        monkeypatch.setattr(recording, "record_batch", broken)
        await runtime.start(Services(db, tmp_path, queue), loops=False)  # type: ignore[arg-type]
        assert queue.on_event is not None
        with pytest.raises(ValueError):
            await queue.on_event([done(1)])
        assert len(calls) == 1
    finally:
        await db.dispose()


async def test_a_failed_resend_reaches_the_queue_which_tries_again(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loops: Any
) -> None:
    """on_lost only marks the jobs due; when that fails, the queue that called it owns the
    retry (Redis keeps the loss pending, an in-process queue calls it again): the relay does
    not resend by itself, so a loss is never resent twice."""
    db = Database(sqlite_url)
    try:
        resends: list[int] = []

        async def resend(services: Any) -> None:
            resends.append(1)
            if len(resends) == 1:
                raise ConnectionRefusedError("the database is down")

        async def relay(services: Any) -> int:
            return 0

        monkeypatch.setattr(runtime, "resend_unfinished", resend)
        monkeypatch.setattr(runtime, "relay", relay)
        queue = FakeQueue(lost=True)
        await runtime.start(Services(db, tmp_path, queue), loops=False)  # type: ignore[arg-type]
        assert isinstance(queue.lost_error, ConnectionRefusedError)  # the queue tries again
        await loops["outbox relay"]()
        assert len(resends) == 1  # the relay leaves the loss to the queue
        assert queue.on_lost is not None
        await queue.on_lost()  # the queue's retry
        assert len(resends) == 2
    finally:
        await db.dispose()


async def aged_room_verdict(db: Database, tmp_path: Path) -> Recorded:
    """A room's verdict recorded, never passed on, old enough for the reporting loop."""
    blobs = LocalBlobStore(tmp_path / "blobs")
    room_id, player = await running_room(db, blobs)
    recorded = await judged(db, blobs, room_id, player, "AC")
    async with db.session() as session:
        old = datetime.now(UTC) - timedelta(seconds=runtime.REPORT_SETTLE_SECONDS + 1)
        await session.execute(
            update(Submission)
            .where(Submission.id == recorded.submission_id)
            .values(finished_at=old)
        )
        await session.commit()
    return recorded


async def reported_at(db: Database, submission_id: int) -> datetime | None:
    async with db.reading() as session:
        return await session.scalar(
            select(Submission.reported_at).where(Submission.id == submission_id)
        )


async def test_a_verdict_that_keeps_failing_is_given_up(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(sqlite_url)
    try:
        services: Any = FakeServices(db, settings_for(tmp_path))
        recorded = await aged_room_verdict(db, tmp_path)

        async def broken(services: Any, results: list[Recorded]) -> None:
            raise RuntimeError("a bug in passing on")

        monkeypatch.setattr(live, "on_judge_results", broken)
        failures: dict[int, int] = {}
        for _ in range(runtime.REPORT_TRIES - 1):
            assert await runtime.report_verdicts(services, failures) == 1
        assert await reported_at(db, recorded.submission_id) is None
        assert await runtime.report_verdicts(services, failures) == 1
        assert await reported_at(db, recorded.submission_id) is not None  # given up
        assert failures == {}
        assert await runtime.report_verdicts(services, failures) == 0
    finally:
        await db.dispose()


async def test_outages_do_not_count_as_failures(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(sqlite_url)
    try:
        services: Any = FakeServices(db, settings_for(tmp_path))
        recorded = await aged_room_verdict(db, tmp_path)
        reported: list[str] = []

        async def down(services: Any, results: list[Recorded]) -> None:
            raise locked()

        monkeypatch.setattr(live, "on_judge_results", down)
        monkeypatch.setattr(outage, "report", lambda exc, where: reported.append(where))
        failures: dict[int, int] = {}
        for _ in range(runtime.REPORT_TRIES + 1):
            assert await runtime.report_verdicts(services, failures) == 1
        assert failures == {} and await reported_at(db, recorded.submission_id) is None
        assert reported == ["reporting verdicts"] * (runtime.REPORT_TRIES + 1)
        monkeypatch.undo()
        assert await runtime.report_verdicts(services, {}) == 1  # back: taken
        assert await reported_at(db, recorded.submission_id) is not None
    finally:
        await db.dispose()


async def test_the_first_report_reports_an_outage(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loops: Any
) -> None:
    reported: list[str] = []

    async def down(services: Any, failures: Any = None) -> int:
        raise locked()

    monkeypatch.setattr(runtime, "report_verdicts", down)
    monkeypatch.setattr(outage, "report", lambda exc, where: reported.append(where))
    await runtime._reporting(None)  # type: ignore[arg-type]
    assert reported == ["reporting verdicts"]
