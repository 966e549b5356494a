"""The judge outbox: a submission's job is recorded in the transaction that saves it, so no
crash between "saved" and "queued" can lose it (decision 0023).

An entry lives from the submission's commit to the transaction that records its verdict
(recording.py deletes it). Its `due_at` says when a relay should (re)send the job:
- a new entry is due GRACE_SECONDS after the commit: the process that saved it sends the
  job at once itself (`send`), and a relay takes over only if that process died (or the
  queue refused the job) before the queue took it;
- once the queue took it, `due_at` is NULL: the queue owns it (Redis redelivers a job whose
  worker died; an in-process queue's jobs are sent again when the process starts);
- when the queue may have lost what it held (Redis restarted without its data, a new
  process), `resend_unfinished` makes every entry due now.

Sending is at-least-once: a relay claims entries for LEASE_SECONDS before it sends them (so
two relays do not send the same job at once), and a job sent twice is judged twice and
recorded once (recording is idempotent). A sender marks an entry sent only if its `due_at`
is still the one it saw: had the queue meanwhile lost its jobs (`resend_unfinished` made the
entry due), the job it just sent may be among the lost, so the entry stays due.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.db.session import Database
from codebattle.integrations import tracing
from codebattle.judge.jobs import Job, failed
from codebattle.judge.queue import JobQueue
from codebattle.problems.models import ProblemVersion
from codebattle.storage import BlobStore
from codebattle.submissions import recording
from codebattle.submissions.models import DONE, OutboxEntry, Submission
from codebattle.submissions.service import job_for

log = structlog.get_logger(__name__)
GRACE_SECONDS = 5.0  # the saving process sends the job itself within this
LEASE_SECONDS = 30.0  # a relay that claimed entries and died: others send them after this
# The saver's own send waits no longer than this for the queue (a request must not hang on
# an unresponsive Redis); the relay sends the job after GRACE_SECONDS if the queue missed it.
SEND_SECONDS = 5.0
BATCH = 100
CODE_LOST = "the submitted code was lost before judging; it was not your fault: submit again"


def add(session: AsyncSession, submission_id: int, now: datetime) -> datetime:
    """Record the job of a submission being saved (in the same transaction); return its
    `due_at`, which the saver hands to `send`."""
    due_at = now + timedelta(seconds=GRACE_SECONDS)
    session.add(OutboxEntry(submission_id=submission_id, due_at=due_at, sends=0, created_at=now))
    return due_at


async def claim(session: AsyncSession, now: datetime, limit: int = BATCH) -> list[int]:
    """The due entries, leased to the caller for LEASE_SECONDS; committed. Other relays skip
    entries a relay holds (PostgreSQL: SKIP LOCKED; SQLite: one writer at a time)."""
    query = (
        select(OutboxEntry.submission_id)
        .where(OutboxEntry.due_at <= now)
        .order_by(OutboxEntry.submission_id)
        .limit(limit)
    )
    claimed = list(await session.scalars(query.with_for_update(skip_locked=True)))
    if claimed:
        await session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.submission_id.in_(claimed))
            .values(due_at=now + timedelta(seconds=LEASE_SECONDS))
        )
    await session.commit()
    return claimed


async def jobs_of(db: Database, blobs: BlobStore, ids: list[int]) -> tuple[list[Job], list[int]]:
    """The jobs of these submissions that are not done yet, in id order, and the ids of
    those whose code is missing from blob storage (nothing can judge them; logged). The rows
    are read and the session left first: the code is then fetched all at once (the store
    bounds how many at a time), holding no database connection while the bucket answers."""
    async with db.reading() as session:
        rows = (
            await session.execute(
                select(Submission, ProblemVersion)
                .join(ProblemVersion, Submission.problem_version_id == ProblemVersion.id)
                .where(Submission.id.in_(ids), Submission.status != DONE)
                .order_by(Submission.id)
            )
        ).all()
    fetched = await asyncio.gather(
        *(blobs.aget(submission.code_key) for submission, _ in rows), return_exceptions=True
    )
    found, lost = [], []
    for (submission, version), code in zip(rows, fetched, strict=True):
        if isinstance(code, KeyError):
            log.error("a queued submission's code is missing", submission=submission.id)
            lost.append(submission.id)
        elif isinstance(code, BaseException):  # the bucket is away: the entries stay leased
            raise code
        else:
            text = code.decode()
            found.append(job_for(submission, version.package_key, version.time_limit, text))
    return found, lost


async def sent(session: AsyncSession, ids: list[int], due_at: datetime) -> None:
    """The queue took these jobs: no relay sends them again unless the queue loses them.
    Only entries still due at `due_at` (the sender's grace or lease) change: one made due
    since (`resend_unfinished`) stays due, as the queue may have lost this very send."""
    if ids:
        await session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.submission_id.in_(ids), OutboxEntry.due_at == due_at)
            .values(due_at=None, sends=OutboxEntry.sends + 1)
        )
    await session.commit()


async def counts(session: AsyncSession) -> tuple[int, int, datetime | None]:
    """How many entries are due or leased (to be sent); how many were sent and wait for
    their verdict (the queue should hold them), and when the oldest of those was saved."""
    waiting = await session.scalar(
        select(func.count()).select_from(OutboxEntry).where(OutboxEntry.due_at.is_not(None))
    )
    sent_count, oldest = (
        await session.execute(
            select(func.count(), func.min(OutboxEntry.created_at)).where(
                OutboxEntry.due_at.is_(None)
            )
        )
    ).one()
    if oldest is not None and oldest.tzinfo is None:  # SQLite's aggregate is a naive string
        oldest = datetime.fromisoformat(str(oldest)).replace(tzinfo=UTC)
    return int(waiting or 0), int(sent_count or 0), oldest


async def resend_unfinished(session: AsyncSession, now: datetime) -> int:
    """Every job not yet judged is due now (the queue lost what it held); how many."""
    # Rows locked in id order first, as recording deletes them (in id order): a whole-table
    # UPDATE takes them in physical order and could deadlock with a recorder on PostgreSQL.
    ids = select(OutboxEntry.submission_id).order_by(OutboxEntry.submission_id).with_for_update()
    result = await session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.submission_id.in_(ids.scalar_subquery()))
        .values(due_at=now)
    )
    await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


async def send(db: Database, queue: JobQueue, job: Job, due_at: datetime) -> bool:
    """Send the job of a submission just saved (its entry due at `due_at`, as `add` said):
    whether the queue took it. If not, a relay sends it once the entry is due. Never raises:
    the submission is saved whatever happens here."""
    try:
        async with asyncio.timeout(SEND_SECONDS):
            await queue.enqueue(traced(job))
    except Exception as exc:
        log.warning("the judge queue refused a job; a relay sends it later", error=repr(exc))
        return False
    try:
        async with db.session() as session:
            await sent(session, [job["submission"]], due_at)
    except Exception as exc:  # the database went away: a relay sends it again (at least once)
        log.warning("a sent job could not be marked sent", error=repr(exc))
    return True


def traced(job: Job) -> Job:
    """The job with the sender's trace context (integrations/tracing.py): the saver's send
    runs in the submitting request, so the worker's judging joins its trace. A relay's send
    has none to give (the request is long gone): that job's trace is its own."""
    headers = tracing.carrier()
    return {**job, "trace": headers} if headers else job


async def relay(db: Database, blobs: BlobStore, queue: JobQueue) -> int:
    """Send the due jobs to the queue; how many were sent. A job the queue refuses (Redis
    unreachable) stays due: a later pass sends it."""
    total = 0
    while True:
        now = datetime.now(UTC)
        leased = now + timedelta(seconds=LEASE_SECONDS)
        async with db.session() as session:
            claimed = await claim(session, now)
        if not claimed:
            return total
        jobs, lost = await jobs_of(db, blobs, claimed)
        if lost:  # recorded as the judge's fault (which deletes their entries), not queued
            async with db.session() as session:
                await recording.record_batch(session, [failed(i, CODE_LOST) for i in lost])
        taken: list[int] = []
        refused = False
        for job in jobs:
            try:
                async with asyncio.timeout(SEND_SECONDS):  # a Redis that hangs, not refuses
                    await queue.enqueue(job)
            except Exception as exc:  # the queue is down: these stay due
                log.warning("the judge queue refused a job; it stays due", error=repr(exc))
                refused = True
                break
            taken.append(job["submission"])
        refused_ids = {job["submission"] for job in jobs} - set(taken)
        async with db.session() as session:
            # Taken or done meanwhile: not sent again. Those the queue refused are due
            # again now.
            await sent(session, [i for i in claimed if i not in refused_ids], leased)
            if refused_ids:
                await session.execute(
                    update(OutboxEntry)
                    .where(OutboxEntry.submission_id.in_(refused_ids))
                    .values(due_at=now)
                )
                await session.commit()
        total += len(taken)
        if refused or len(claimed) < BATCH:
            return total
