"""A room counts each judged submission once, on SQLite and PostgreSQL: a rejected result
passed on twice (a redelivered event, two API instances) is one attempt with its penalty
once, an accepted one twice is one solve, and a verdict recorded but never passed on is
counted by runtime.report_verdicts, once."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from codebattle import runtime
from codebattle.battles import live
from codebattle.db.session import Database
from codebattle.errors import UserError
from codebattle.judge.jobs import Event
from codebattle.models import Room, Submission, User
from codebattle.realtime.pubsub import MemoryPubSub
from codebattle.rooms import service as rooms
from codebattle.rooms.fsm import PENALTY_PER_REJECTION
from codebattle.rooms.models import RoomMember
from codebattle.storage import LocalBlobStore
from codebattle.submissions import recording
from codebattle.submissions import service as submissions
from codebattle.submissions.recording import Recorded
from tests.support.factories import make_problem_version, make_room, make_user
from tests.support.site import settings_for


class FakeServices:
    """What passing verdicts on uses: the database, settings and an in-process pub/sub."""

    def __init__(self, db: Database, tmp_path: Path) -> None:
        self.db = db
        self.settings = settings_for(tmp_path)
        self.pubsub = MemoryPubSub()


async def running_room(db: Database, blobs: LocalBlobStore) -> tuple[int, User]:
    """A started room with one member; its id and the member."""
    async with db.session() as session:
        await make_problem_version(session, blobs)
        host, player = await make_user(session, "host"), await make_user(session, "player")
        room = await make_room(session, host)
        room_id = room.id
        await rooms.change(session, room_id, player, "join")
        await rooms.change(session, room_id, host, "start")
        return room_id, player


async def judged(
    db: Database, blobs: LocalBlobStore, room_id: int, player: User, verdict: str
) -> Recorded:
    """A member's submission in the room, its verdict recorded (nothing passed on yet)."""
    async with db.session() as session:
        target = await rooms.room_target(session, room_id, player.id, "hello-battle")
        submission, _job = await submissions.create(
            session, blobs, player, None, "python", "print(1)\n", max_code_bytes=65536,
            target=target, room_id=room_id,
        )  # fmt: skip
        await session.commit()
        submission_id = submission.id
    passed = target.test_count if verdict == "AC" else 0
    tests = [
        {"name": f"secret/{i}", "verdict": "AC" if i < passed else verdict, "time": 0.01,
         "memory": 1024, "sample": False}
        for i in range(target.test_count)
    ]  # fmt: skip
    result = {"verdict": verdict, "compile_output": "", "message": "",
              "tests_total": target.test_count, "judge_time": 0.1, "tests": tests}  # fmt: skip
    event: Any = {"submission": submission_id, "type": "done", "result": result}
    events: list[Event] = [event]
    async with db.session() as session:
        [recorded] = await recording.record_batch(session, events)
    assert recorded is not None and recorded.room_id == room_id
    return recorded


async def standing(db: Database, room_id: int, player: User) -> tuple[int, float, dict[str, Any]]:
    async with db.reading() as session:
        member = await session.get(RoomMember, (room_id, player.id))
        assert member is not None
        return member.solved, member.penalty, member.board


async def log_types(db: Database, room_id: int) -> list[str]:
    async with db.reading() as session:
        return [e.type for e in await rooms.events_since(session, room_id, 0)]


async def test_a_rejection_twice_is_one_attempt(db: Database, tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    services: Any = FakeServices(db, tmp_path)
    room_id, player = await running_room(db, blobs)
    rejected = await judged(db, blobs, room_id, player, "WA")
    await live.on_judge_results(services, [rejected])
    await live.on_judge_results(services, [rejected])  # a redelivery
    await asyncio.gather(*(live.on_judge_results(services, [rejected]) for _ in range(3)))
    assert (await log_types(db, room_id)).count("attempt") == 1
    [status] = (await standing(db, room_id, player))[2].values()
    assert status["rejected"] == 1

    accepted = await judged(db, blobs, room_id, player, "AC")
    for _ in range(2):
        await live.on_judge_results(services, [accepted])
    solved, penalty, board = await standing(db, room_id, player)
    assert (await log_types(db, room_id)).count("solved") == 1
    assert solved == 1 and [s["rejected"] for s in board.values()] == [1]
    # The penalty carries the one rejection once (plus the minutes to the solve).
    assert PENALTY_PER_REJECTION <= penalty < 2 * PENALTY_PER_REJECTION


async def test_a_result_never_passed_on_is_counted_by_the_loop(
    db: Database, tmp_path: Path
) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    services: Any = FakeServices(db, tmp_path)
    room_id, player = await running_room(db, blobs)
    accepted = await judged(db, blobs, room_id, player, "AC")  # ... and the recorder died
    async with db.session() as session:
        old = datetime.now(UTC) - timedelta(seconds=runtime.REPORT_SETTLE_SECONDS + 1)
        await session.execute(
            update(Submission)
            .where(Submission.id == accepted.submission_id)
            .values(finished_at=old)
        )
        await session.commit()
    assert await runtime.report_verdicts(services) == 1
    assert await runtime.report_verdicts(services) == 0
    await live.on_judge_results(services, [accepted])  # the redelivered event, late
    assert (await log_types(db, room_id)).count("solved") == 1
    assert (await standing(db, room_id, player))[0] == 1
    async with db.reading() as session:
        room = await session.get(Room, room_id)
        assert room is not None
        [row] = [r for r in await rooms.leaderboard(session, room) if r["user"] == player.id]
    assert row["solved"] == 1


async def test_a_result_naming_no_submission_marks_none(db: Database, tmp_path: Path) -> None:
    """Only an int names a submission (as for matches): True is not submission 1."""
    blobs = LocalBlobStore(tmp_path / "blobs")
    room_id, player = await running_room(db, blobs)
    accepted = await judged(db, blobs, room_id, player, "AC")
    assert accepted.submission_id == 1
    for room in (room_id, room_id + 1000):  # the room, and one that does not exist
        async with db.session() as session:
            with pytest.raises(UserError) if room != room_id else contextlib.nullcontext():
                await rooms.change(
                    session, room, None, "result", user_id=player.id,
                    version_id=accepted.version_id, verdict="WA", submitted_at=accepted.made_at,
                    submission_id=True,
                )  # fmt: skip
    async with db.reading() as session:
        reported = await session.scalar(
            select(Submission.reported_at).where(Submission.id == accepted.submission_id)
        )
    assert reported is None
