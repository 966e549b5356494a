"""Recording what the judge says about submissions.

Recording is idempotent, so a redelivered job (its worker died) or a repeated event changes
nothing twice: a test result is keyed by (submission, index) and the final verdict is only
written while the submission is not yet done. Its status only moves forward: queued, then
compiling ("started"), then running ("compiled", or a test, which a worker sends only after
compiling), then done; a late or repeated event never takes it back. The transaction that
records a verdict deletes the job's outbox entry (submissions/outbox.py).

A verdict of a submission made in a match or room is then passed on to that game, which
takes it once: under the game's row lock it asks `taken_before`, and `mark_reported` in the
same transaction (or `refused`, for good). A verdict recorded but never taken (the process
died in between) is found by `unreported` and passed on again (runtime.report_verdicts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.judge import disclosure
from codebattle.judge.jobs import Event, FinalResult, TestData
from codebattle.judge.verdicts import Verdict
from codebattle.submissions.models import (
    COMPILING,
    DONE,
    QUEUED,
    RUNNING,
    OutboxEntry,
    Submission,
    SubmissionTest,
)
from codebattle.submissions.service import made_at, shown_test, tests_of, to_json

# A submission's status changed (started compiling, compiled), a test judged, the end.
Change = Literal["status", "test", "done"]


async def record(session: AsyncSession, event: Event) -> Recorded | None:
    """Apply one judge event; see `record_batch`."""
    return (await record_batch(session, [event]))[0]


@dataclass(frozen=True)
class Recorded:
    """What one judge event changed for a submission.

    The first fields say whose it is and where it counts: they route the change to the
    match or room and are never sent to a browser (`submissions/messages.py` builds, field
    by field, what is). The rest is the change: its kind and the new status, the test as
    players see it ("test"), or the submission as recorded ("done")."""

    submission_id: int
    user_id: int
    version_id: int
    match_id: int | None
    room_id: int | None
    made_at: float  # when the submission was made, seconds since the epoch
    change: Change
    status: str
    test: dict[str, Any] | None = None
    final: dict[str, Any] | None = None
    verdict: str | None = None  # "done" only
    tests_passed: int = 0  # "done" only


async def record_batch(session: AsyncSession, events: list[Event]) -> list[Recorded | None]:
    """Apply judge events in one transaction, in a few statements whatever their number
    (under load, events arrive in batches). For each event what it changed, or None if it
    changed nothing (a duplicate, or an event for a submission already done)."""
    ids = sorted({int(e["submission"]) for e in events})
    # Row locks in id order: concurrent recorders (API instances) cannot deadlock.
    found = await session.scalars(
        select(Submission).where(Submission.id.in_(ids)).order_by(Submission.id).with_for_update()
    )
    submissions = {s.id: s for s in found}
    tests: dict[tuple[int, int], dict[str, Any]] = {}
    finished: list[tuple[Submission, FinalResult]] = []
    changes: list[_Change | None] = []
    for event in events:
        submission = submissions.get(int(event["submission"]))
        change = None
        if submission is not None and submission.status != DONE:
            change = _apply(submission, event, tests, finished)
        changes.append(change)
    if tests:
        await _upsert_tests(session, list(tests.values()))
    for submission, result in finished:
        _finish(submission, result, await tests_of(session, submission.id))
    if finished:  # judged: their jobs are not sent again
        await session.execute(
            delete(OutboxEntry).where(OutboxEntry.submission_id.in_([s.id for s, _ in finished]))
        )
    await session.commit()
    return [None if change is None else await _recorded(session, *change) for change in changes]


# One applied event: its submission, the kind of change, the status it left (the
# submission's status may move on later in the same batch), the test as players see it.
_Change = tuple[Submission, Change, str, dict[str, Any] | None]


def _apply(
    submission: Submission,
    event: Event,
    tests: dict[tuple[int, int], dict[str, Any]],
    finished: list[tuple[Submission, FinalResult]],
) -> _Change | None:
    """Apply one event to its submission (not done yet): the kind of change and the status
    after it, with the test as players see it for a test event."""
    if event["type"] == "started":
        if submission.status == QUEUED:
            submission.status = COMPILING
        return submission, "status", submission.status, None
    if event["type"] == "compiled":
        submission.status = RUNNING
        return submission, "status", RUNNING, None
    if event["type"] == "test":
        row = _test_row(submission.id, event["index"], event["test"])
        tests[(submission.id, row["index"])] = row  # a repeat in the batch overwrites
        submission.status = RUNNING
        return submission, "test", RUNNING, shown_test(row)
    if event["type"] == "done":
        submission.status = DONE  # later events for it in this batch change nothing
        # The final event lists every test: the result is complete even if some test
        # events were recorded elsewhere (another instance) or not yet.
        for index, data in enumerate(event["result"].get("tests", ())):
            tests[(submission.id, index)] = _test_row(submission.id, index, data)
        finished.append((submission, event["result"]))
        return submission, "done", DONE, None
    return None


async def _recorded(
    session: AsyncSession,
    submission: Submission,
    change: Change,
    status: str,
    test: dict[str, Any] | None,
) -> Recorded:
    done = change == "done"
    return Recorded(
        submission_id=submission.id,
        user_id=submission.user_id,
        version_id=submission.problem_version_id,
        match_id=submission.match_id,
        room_id=submission.room_id,
        made_at=made_at(submission),
        change=change,
        status=status,
        test=test,
        final=await to_json(session, submission) if done else None,
        verdict=submission.verdict if done else None,
        tests_passed=submission.tests_passed if done else 0,
    )


def verdict_named(value: object) -> int | None:
    """The submission a game's "result" names, if it names one (an int; True is not 1)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


async def taken_before(session: AsyncSession, submission_id: int | None) -> bool:
    """The opening of a game taking a verdict, under the game's row lock: whether the game
    took it before (a redelivery, another instance), and if so the transaction is rolled
    back, as nothing changes. False, and nothing done, when no verdict is named."""
    if submission_id is None or not await reported(session, submission_id):
        return False
    await session.rollback()
    return True


async def refused(session: AsyncSession, submission_id: int | None) -> None:
    """The game refused this verdict for good (made too late, the game over or gone): it is
    marked reported in the transaction at hand (or a new one) and committed, so nothing
    passes it on again. Without a verdict the transaction is rolled back."""
    if submission_id is None:
        await session.rollback()
        return
    await mark_reported(session, [submission_id], datetime.now(UTC))
    await session.commit()


async def reported(session: AsyncSession, submission_id: int) -> bool:
    """Whether a game already took this submission's verdict (read from the database, not
    the session's copy: another transaction may have set it)."""
    found = await session.scalar(
        select(Submission.reported_at).where(Submission.id == submission_id)
    )
    return found is not None


async def mark_reported(session: AsyncSession, submission_ids: list[int], now: datetime) -> None:
    """The game took (or refused for good) these verdicts: not passed on again. In the
    caller's transaction; a verdict already marked keeps its first time."""
    if submission_ids:
        await session.execute(
            update(Submission)
            .where(Submission.id.in_(submission_ids), Submission.reported_at.is_(None))
            .values(reported_at=now)
            .execution_options(synchronize_session=False)
        )


async def unreported(
    session: AsyncSession, now: datetime, *, settle_seconds: float, limit: int
) -> list[Recorded]:
    """Verdicts of submissions in matches and rooms recorded at least `settle_seconds` ago
    (the recorder passes them on itself first) that no game has taken yet, oldest first, as
    the recorder would have passed them on."""
    found = await session.scalars(
        select(Submission)
        .where(
            Submission.status == DONE,
            Submission.reported_at.is_(None),
            or_(Submission.match_id.is_not(None), Submission.room_id.is_not(None)),
            Submission.finished_at <= now - timedelta(seconds=settle_seconds),
        )
        .order_by(Submission.id)
        .limit(limit)
    )
    return [await _recorded(session, submission, "done", DONE, None) for submission in found]


def _test_row(submission_id: int, index: int, data: TestData | dict[str, Any]) -> dict[str, Any]:
    # Workers already send secret tests without their details; a worker of an older
    # version might not, so the rule is applied again before anything is stored.
    shown = disclosure.for_player(dict(data), index)
    return {
        "submission_id": submission_id,
        "index": index,
        "name": str(shown["name"])[:255],
        "verdict": str(shown["verdict"])[:4],
        "time": float(shown.get("time", 0.0)),
        "wall_time": float(shown.get("wall_time", 0.0)),
        "memory": int(shown.get("memory", 0)),
        "sample": bool(shown.get("sample", False)),
        "feedback": str(shown.get("feedback", ""))[:2048],
    }


async def _upsert_tests(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT (submission, index) DO UPDATE, executed for all the rows at
    once (one statement, compiled once and cached, whatever the number of rows)."""
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
    statement = insert(SubmissionTest)
    columns = ("name", "verdict", "time", "wall_time", "memory", "sample", "feedback")
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["submission_id", "index"],
            set_={c: statement.excluded[c] for c in columns},
        ),
        rows,
    )


def _finish(submission: Submission, result: FinalResult, tests: list[SubmissionTest]) -> None:
    submission.verdict = str(result["verdict"])[:4]
    submission.compile_output = str(result.get("compile_output", ""))[:16384]
    submission.run_output = str(result.get("run_output", ""))[:16384]
    submission.message = str(result.get("message", ""))[:1024]
    submission.tests_total = int(result.get("tests_total") or submission.tests_total)
    submission.tests_passed = sum(1 for t in tests if t.verdict == Verdict.AC)
    submission.max_time = float(result.get("time", max((t.time for t in tests), default=0.0)))
    submission.max_memory = int(result.get("memory", max((t.memory for t in tests), default=0)))
    submission.judge_time = float(result.get("judge_time", 0.0))
    submission.finished_at = datetime.now(UTC)
    if submission.match_id is None and submission.room_id is None:
        submission.reported_at = submission.finished_at  # no game waits for this verdict
