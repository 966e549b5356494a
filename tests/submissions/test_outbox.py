"""The judge outbox (submissions/outbox.py, decision 0023): an entry is due only after the
saver's grace, the saver's send marks it sent, a refused job stays due and a relay sends it
later, a claim leases what it takes (two relays at once send each job once), a lost queue
makes every unfinished job due again, a recorded verdict ends the entry, and a job that can
never be judged (its code is gone) is not sent forever. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from codebattle.db.session import Database
from codebattle.judge.jobs import Event, FinalResult, Job
from codebattle.models import Submission, User
from codebattle.storage import LocalBlobStore
from codebattle.submissions import outbox, recording, service
from codebattle.submissions.models import DONE, OutboxEntry
from tests.support.factories import MAX_CODE_BYTES, STARTER, make_problem_version, make_user

CODE = "print(sum(map(int, input().split())))\n"
GRACE = timedelta(seconds=outbox.GRACE_SECONDS)
LEASE = timedelta(seconds=outbox.LEASE_SECONDS)
TICK = timedelta(milliseconds=1)


class Queue:
    """A judge queue that keeps what it is sent, or refuses while `down`."""

    def __init__(self, down: bool = False) -> None:
        self.down = down
        self.jobs: list[Job] = []

    async def enqueue(self, job: Job) -> None:
        await asyncio.sleep(0)  # let another relay run in between, as a network call would
        if self.down:
            raise ConnectionError("the queue is down")
        self.jobs.append(job)

    def sent(self) -> list[int]:
        return [job["submission"] for job in self.jobs]


@pytest.fixture
def blobs(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


@pytest.fixture
async def user_id(db: Database, blobs: LocalBlobStore) -> int:
    async with db.session() as session:
        await make_problem_version(session, blobs)
        user = await make_user(session)
        await session.commit()
        return user.id


async def save(
    db: Database, blobs: LocalBlobStore, user_id: int, now: datetime, code: str = CODE
) -> tuple[Job, datetime]:
    """A submission saved with its outbox entry at `now`, as `submit` saves it: its job and
    the entry's due_at."""
    async with db.session() as session:
        user = await session.get(User, user_id)
        assert user is not None
        submission, job = await service.create(
            session, blobs, user, STARTER, "python", code, max_code_bytes=MAX_CODE_BYTES
        )
        due_at = outbox.add(session, submission.id, now)
        await session.commit()
    return job, due_at


async def overdue(db: Database, blobs: LocalBlobStore, user_id: int, code: str = CODE) -> int:
    """A submission whose saver died before sending its job: its entry is due now."""
    job, _due_at = await save(db, blobs, user_id, datetime.now(UTC) - GRACE - TICK, code)
    return job["submission"]


async def entry(db: Database, submission_id: int) -> OutboxEntry | None:
    async with db.reading() as session:
        return await session.get(OutboxEntry, submission_id)


async def claim(db: Database, now: datetime) -> list[int]:
    async with db.session() as session:
        return await outbox.claim(session, now)


async def test_a_new_entry_is_due_only_after_the_grace(
    db: Database, blobs: LocalBlobStore, user_id: int
) -> None:
    now = datetime.now(UTC)
    job, due_at = await save(db, blobs, user_id, now)
    assert due_at == now + GRACE
    assert await claim(db, now + GRACE - TICK) == []  # the saver is still sending it
    assert await claim(db, now + GRACE) == [job["submission"]]


async def test_the_savers_send_marks_it_sent(
    db: Database, blobs: LocalBlobStore, user_id: int
) -> None:
    now = datetime.now(UTC)
    job, due_at = await save(db, blobs, user_id, now)
    queue = Queue()
    assert await outbox.send(db, queue, job, due_at)
    assert queue.jobs == [job]
    found = await entry(db, job["submission"])
    assert found is not None and found.due_at is None and found.sends == 1
    assert await claim(db, now + LEASE * 10) == []  # the queue owns it now
    assert await outbox.relay(db, blobs, queue) == 0 and queue.jobs == [job]


async def test_a_refused_job_stays_due_and_a_relay_sends_it_later(
    db: Database, blobs: LocalBlobStore, user_id: int
) -> None:
    job, due_at = await save(db, blobs, user_id, datetime.now(UTC) - GRACE - TICK)
    queue = Queue(down=True)
    assert not await outbox.send(db, queue, job, due_at)
    found = await entry(db, job["submission"])
    assert found is not None and found.due_at == due_at and found.sends == 0
    assert await outbox.relay(db, blobs, queue) == 0  # still down: due again at once
    found = await entry(db, job["submission"])
    assert found is not None and found.due_at is not None
    assert found.due_at <= datetime.now(UTC) and found.sends == 0
    queue.down = False
    assert await outbox.relay(db, blobs, queue) == 1
    assert queue.jobs == [job]
    found = await entry(db, job["submission"])
    assert found is not None and found.due_at is None and found.sends == 1
    assert await outbox.relay(db, blobs, queue) == 0 and queue.jobs == [job]


async def test_a_claim_leases_what_it_takes(
    db: Database, blobs: LocalBlobStore, user_id: int
) -> None:
    ids = [await overdue(db, blobs, user_id) for _ in range(3)]
    now = datetime.now(UTC)
    assert await claim(db, now) == ids
    assert await claim(db, now) == []  # another relay right after gets nothing
    assert await claim(db, now + LEASE - TICK) == []
    assert await claim(db, now + LEASE) == ids  # the claimer died: others send them


async def test_two_relays_at_once_send_each_job_once(
    pg_url: str, blobs: LocalBlobStore, tmp_path: Path
) -> None:
    # Two API instances: two engines on one PostgreSQL database, more jobs than a batch.
    first, second = Database(pg_url), Database(pg_url)
    try:
        async with first.session() as session:
            await make_problem_version(session, blobs)
            user = await make_user(session)
            await session.commit()
        ids = [await overdue(first, blobs, user.id) for _ in range(outbox.BATCH + 30)]
        queues = Queue(), Queue()
        counts = await asyncio.gather(
            outbox.relay(first, blobs, queues[0]), outbox.relay(second, blobs, queues[1])
        )
        sent = queues[0].sent() + queues[1].sent()
        assert sorted(sent) == ids  # each exactly once
        assert sum(counts) == len(ids)
        assert await outbox.relay(first, blobs, queues[0]) == 0
    finally:
        await first.dispose()
        await second.dispose()


async def test_a_lost_queue_makes_every_unfinished_job_due(
    db: Database, blobs: LocalBlobStore, user_id: int
) -> None:
    now = datetime.now(UTC)
    job, due_at = await save(db, blobs, user_id, now)
    waiting, _due = await save(db, blobs, user_id, now)  # its saver is still in its grace
    queue = Queue()
    assert await outbox.send(db, queue, job, due_at)
    async with db.session() as session:
        assert await outbox.resend_unfinished(session, now) == 2
    assert await claim(db, now) == [job["submission"], waiting["submission"]]


async def test_a_send_racing_a_lost_queue_leaves_the_job_due(
    db: Database, blobs: LocalBlobStore, user_id: int
) -> None:
    """The queue takes the job, then loses everything it held (Redis without its data)
    before the saver marks the job sent: the job must stay due, not be parked as sent."""
    now = datetime.now(UTC)
    job, due_at = await save(db, blobs, user_id, now)

    class Losing(Queue):
        async def enqueue(self, job: Job) -> None:
            await super().enqueue(job)
            async with db.session() as session:  # the platform noticed the loss meanwhile
                await outbox.resend_unfinished(session, now)

    assert await outbox.send(db, Losing(), job, due_at)
    found = await entry(db, job["submission"])
    assert found is not None and found.due_at == now and found.sends == 0
    queue = Queue()
    assert await outbox.relay(db, blobs, queue) == 1 and queue.jobs == [job]


async def test_a_recorded_verdict_ends_the_entry(
    db: Database, blobs: LocalBlobStore, user_id: int
) -> None:
    job, due_at = await save(db, blobs, user_id, datetime.now(UTC))
    assert await outbox.send(db, Queue(), job, due_at)
    number = job["submission"]
    started: list[Event] = [{"submission": number, "type": "started"}]
    async with db.session() as session:
        await recording.record_batch(session, started)
    assert await entry(db, number) is not None  # judging is not judged
    result: FinalResult = {
        "verdict": "AC", "compile_output": "", "message": "", "tests_total": 0,
        "judge_time": 0.1, "tests": [],
    }  # fmt: skip
    done: list[Event] = [{"submission": number, "type": "done", "result": result}]
    async with db.session() as session:
        await recording.record_batch(session, done)
    assert await entry(db, number) is None
    async with db.session() as session:
        assert await outbox.resend_unfinished(session, datetime.now(UTC)) == 0
        await recording.record_batch(session, done)  # the job judged twice: recorded once
        status = await session.scalar(select(Submission.status).where(Submission.id == number))
    assert status == DONE
    queue = Queue()
    assert await outbox.relay(db, blobs, queue) == 0 and queue.jobs == []


async def test_a_job_whose_code_is_gone_is_failed_not_sent_forever(
    db: Database, blobs: LocalBlobStore, user_id: int
) -> None:
    lost = await overdue(db, blobs, user_id, code="print('lost')\n")
    kept = await overdue(db, blobs, user_id)
    async with db.reading() as session:
        key = await session.scalar(select(Submission.code_key).where(Submission.id == lost))
    assert key is not None
    (blobs.root / key).unlink()
    queue = Queue()
    with capture_logs() as logs:
        assert await outbox.relay(db, blobs, queue) == 1
    assert queue.sent() == [kept]
    assert any(
        e["event"] == "a queued submission's code is missing" and e["submission"] == lost
        for e in logs
    )
    # Recorded as the judge's fault (an internal error, its message says so): its entry goes.
    assert await entry(db, lost) is None
    async with db.reading() as session:
        gone = await session.get(Submission, lost)
    assert gone is not None and (gone.status, gone.verdict) == (DONE, "IE")
    assert "not your fault" in gone.message
    assert await claim(db, datetime.now(UTC) + LEASE * 10) == []
    assert await outbox.relay(db, blobs, queue) == 0 and queue.sent() == [kept]


class CountingStore(LocalBlobStore):
    """Counts the code fetches in flight at once, and the database connections checked out
    meanwhile. Each fetch yields to the loop a few times, as a bucket's answer would."""

    def __init__(self, root: Path, db: Database) -> None:
        super().__init__(root)
        self.db = db
        self.in_flight = self.most = 0
        self.connections: list[int] = []

    async def aget(self, key: str) -> bytes:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        self.connections.append(self.db.engine.pool.checkedout())  # type: ignore[attr-defined]
        for _ in range(3):
            await asyncio.sleep(0)
        self.in_flight -= 1
        return await super().aget(key)


async def test_a_relay_fetches_the_code_at_once_holding_no_connection(
    db: Database, blobs: LocalBlobStore, user_id: int
) -> None:
    ids = [await overdue(db, blobs, user_id, f"print({i})\n") for i in range(12)]
    counting = CountingStore(blobs.root, db)
    queue = Queue()
    assert await outbox.relay(db, counting, queue) == len(ids)
    assert sorted(queue.sent()) == ids
    assert [job["code"] for job in sorted(queue.jobs, key=lambda j: j["submission"])] == [
        f"print({i})\n" for i in range(12)
    ]
    assert counting.most == len(ids)  # all at once, not one after another
    assert counting.connections == [0] * len(ids)  # the reading session was left first
