"""A match takes each verdict once, on SQLite and PostgreSQL: the same result passed on
again (a redelivered event, two API instances, the reporting loop) logs nothing new; a
verdict recorded but never passed on (the recorder died) is passed on by
runtime.report_verdicts and the match ends once, rated once; a verdict the match refuses is
not passed on forever."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from codebattle import runtime
from codebattle.battles import live
from codebattle.battles import service as battles
from codebattle.battles.models import MatchEvent
from codebattle.db.session import Database
from codebattle.judge.jobs import Event
from codebattle.models import RatingChange, Submission, User
from codebattle.storage import LocalBlobStore
from codebattle.submissions import recording
from codebattle.submissions import service as submissions
from codebattle.submissions.recording import Recorded
from tests.support.factories import GAME, make_match, make_problem_version, make_user
from tests.support.services import FakeServices
from tests.support.site import settings_for

TESTS = GAME.tests


@dataclass
class Duel:
    services: Any
    blobs: LocalBlobStore
    match_id: int
    alice: User
    bob: User


async def running_duel(db: Database, tmp_path: Path) -> Duel:
    """A rated duel between alice and bob, its countdown over (it runs)."""
    blobs = LocalBlobStore(tmp_path / "blobs")
    async with db.session() as session:
        version = await make_problem_version(session, blobs)
        alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
        row = await make_match(session, version, [alice, bob], now=time.time() - GAME.countdown)
        await session.commit()
        match_id = row.id
    async with db.session() as session:
        assert [e.type for e in await battles.apply(session, match_id, None)] == ["started"]
    services = FakeServices(db, settings_for(tmp_path))
    services.blobs = blobs
    return Duel(services, blobs, match_id, alice, bob)


async def settle(duel: Duel) -> None:
    """The fair-play pass, as the server runs it: the finished game is assessed and rated."""
    await runtime.fair_play_pass(duel.services)


async def submit(duel: Duel, user: User) -> int:
    """A submission in the duel, saved as `submit` saves it (the match logs `submitted`)."""
    place = live.match_place(duel.services, duel.match_id, user.id)
    assert place.before_judging is not None
    async with duel.services.db.session() as session:
        submission, _job = await submissions.create(
            session, duel.blobs, user, None, "python", "print(1)\n", max_code_bytes=65536,
            target=await place.target(session), match_id=duel.match_id,
        )  # fmt: skip
        await place.before_judging(session, submission.id, submissions.made_at(submission))
        await session.commit()
        return submission.id


def done(submission_id: int, passed: int) -> Event:
    tests = [
        {"name": f"secret/{i}", "verdict": "AC" if i < passed else "WA", "time": 0.01,
         "memory": 1024, "sample": False}
        for i in range(TESTS)
    ]  # fmt: skip
    verdict = "AC" if passed == TESTS else "WA"
    result = {"verdict": verdict, "compile_output": "", "message": "", "tests_total": TESTS,
              "judge_time": 0.1, "tests": tests}  # fmt: skip
    return {"submission": submission_id, "type": "done", "result": result}  # type: ignore[typeddict-item]


async def record(db: Database, submission_id: int, passed: int) -> Recorded:
    """The judge's verdict recorded (nothing passed on yet)."""
    async with db.session() as session:
        [recorded] = await recording.record_batch(session, [done(submission_id, passed)])
    assert recorded is not None and recorded.change == "done"
    return recorded


async def log_types(db: Database, match_id: int) -> list[str]:
    async with db.reading() as session:
        return [e.type for e in await battles.events_since(session, match_id, 0)]


async def results_of(db: Database, match_id: int, submission_id: int) -> list[MatchEvent]:
    async with db.reading() as session:
        return [
            e
            for e in await battles.events_since(session, match_id, 0)
            if e.type == "result" and e.data.get("submission") == submission_id
        ]


async def rating_rows(db: Database, match_id: int) -> dict[int, int]:
    async with db.reading() as session:
        rows = await session.execute(
            select(RatingChange.user_id, func.count())
            .where(RatingChange.match_id == match_id)
            .group_by(RatingChange.user_id)
        )
        return {int(user): int(count) for user, count in rows.all()}


async def reported_at(db: Database, submission_id: int) -> datetime | None:
    async with db.reading() as session:
        return await session.scalar(
            select(Submission.reported_at).where(Submission.id == submission_id)
        )


async def age(db: Database, submission_id: int, seconds: float) -> None:
    """Make a recorded verdict `seconds` old (the reporting loop leaves fresh ones alone)."""
    async with db.session() as session:
        await session.execute(
            update(Submission)
            .where(Submission.id == submission_id)
            .values(finished_at=datetime.now(UTC) - timedelta(seconds=seconds))
        )
        await session.commit()


async def test_a_verdict_passed_on_twice_is_taken_once(db: Database, tmp_path: Path) -> None:
    duel = await running_duel(db, tmp_path)
    wrong = await submit(duel, duel.bob)
    recorded = await record(db, wrong, passed=10)
    assert await reported_at(db, wrong) is None  # recorded, no game told yet
    await live.on_judge_results(duel.services, [recorded])
    first = await reported_at(db, wrong)
    assert first is not None
    before = await log_types(db, duel.match_id)
    await live.on_judge_results(duel.services, [recorded])  # a redelivery
    assert await log_types(db, duel.match_id) == before  # no duplicate, nothing at all
    assert len(await results_of(db, duel.match_id, wrong)) == 1
    assert await reported_at(db, wrong) == first

    solved = await record(db, await submit(duel, duel.alice), passed=TESTS)
    for _ in range(2):
        await live.on_judge_results(duel.services, [solved])
    await settle(duel)
    types = await log_types(db, duel.match_id)
    assert types.count("result") == 2 and types.count("finished") == 1
    assert types.count("rated") == 1
    assert await rating_rows(db, duel.match_id) == {duel.alice.id: 1, duel.bob.id: 1}


async def test_a_verdict_never_passed_on_is_reported_by_the_loop(
    db: Database, tmp_path: Path
) -> None:
    duel = await running_duel(db, tmp_path)
    solution = await submit(duel, duel.alice)
    await record(db, solution, passed=TESTS)  # ... and the recorder died here
    # Fresh: the recorder passes it on itself first; the loop leaves it alone.
    assert await runtime.report_verdicts(duel.services) == 0
    await age(db, solution, runtime.REPORT_SETTLE_SECONDS + 1)
    assert await runtime.report_verdicts(duel.services) == 1
    await settle(duel)
    types = await log_types(db, duel.match_id)
    assert types.count("result") == types.count("finished") == types.count("rated") == 1
    assert await rating_rows(db, duel.match_id) == {duel.alice.id: 1, duel.bob.id: 1}
    async with db.reading() as session:
        found = await recording.unreported(session, datetime.now(UTC), settle_seconds=0, limit=10)
    assert found == []
    assert await runtime.report_verdicts(duel.services) == 0


async def test_a_verdict_the_match_refuses_is_not_passed_on_again(
    db: Database, tmp_path: Path
) -> None:
    duel = await running_duel(db, tmp_path)
    solution, late = await submit(duel, duel.alice), await submit(duel, duel.bob)
    await live.on_judge_results(duel.services, [await record(db, solution, passed=TESTS)])
    assert "finished" in await log_types(db, duel.match_id)
    # Bob's was made in time but the solve decided the game first: the match refuses it.
    refused = await record(db, late, passed=3)
    before = await log_types(db, duel.match_id)
    await live.on_judge_results(duel.services, [refused])
    assert await log_types(db, duel.match_id) == before
    assert await reported_at(db, late) is not None  # refused for good
    await age(db, late, runtime.REPORT_SETTLE_SECONDS + 1)
    assert await runtime.report_verdicts(duel.services) == 0


async def test_concurrent_pass_ons_take_a_verdict_once(pg_url: str, tmp_path: Path) -> None:
    db = Database(pg_url)
    try:
        duel = await running_duel(db, tmp_path)
        wrong, solution = await submit(duel, duel.bob), await submit(duel, duel.alice)
        rejected = await record(db, wrong, passed=5)
        solved = await record(db, solution, passed=TESTS)
        await age(db, solution, runtime.REPORT_SETTLE_SECONDS + 1)
        await age(db, wrong, runtime.REPORT_SETTLE_SECONDS + 1)
        # Two recorders (a redelivery, another instance) and the reporting loop at once.
        await asyncio.gather(
            live.on_judge_results(duel.services, [rejected, solved]),
            live.on_judge_results(duel.services, [rejected, solved]),
            live.on_judge_results(duel.services, [solved, rejected]),
            runtime.report_verdicts(duel.services),
        )
        await asyncio.gather(settle(duel), settle(duel))  # two instances' passes
        # Bob's was made first: the match waits for it if alice's comes first; either way
        # each verdict is logged once.
        assert len(await results_of(db, duel.match_id, wrong)) == 1
        assert len(await results_of(db, duel.match_id, solution)) == 1
        types = await log_types(db, duel.match_id)
        assert types.count("finished") == types.count("rated") == 1
        assert await rating_rows(db, duel.match_id) == {duel.alice.id: 1, duel.bob.id: 1}
        assert await reported_at(db, wrong) is not None
        assert await reported_at(db, solution) is not None
    finally:
        await db.dispose()
