"""Matches in the database, on SQLite and PostgreSQL: one transaction per event, an ordered
event log, deadlines enforced by the server, and exactly one winner under concurrency."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest
from sqlalchemy import select

from codebattle.accounts import service as accounts
from codebattle.battles import fsm
from codebattle.battles import service as battles
from codebattle.battles.models import MatchEvent
from codebattle.db.session import Database
from codebattle.errors import UserError
from codebattle.problems.importer import import_package
from codebattle.problems.models import Problem
from codebattle.progress import service as progress
from codebattle.storage import LocalBlobStore
from tests.support.hosts import PROBLEMS


async def new_match(db: Database, tmp_path: Path) -> tuple[int, int, int]:
    async with db.session() as session:
        await import_package(session, LocalBlobStore(tmp_path / "blobs"), PROBLEMS / "hello-battle")
        problem = await session.scalar(select(Problem).where(Problem.slug == "hello-battle"))
        assert problem is not None and problem.current_version_id is not None
        a = await accounts.sign_in_nickname(session, "alice", "en")
        b = await accounts.sign_in_nickname(session, "bob", "en")
        row = await battles.create(
            session, mode="ranked", problem_id=problem.id,
            problem_version_id=problem.current_version_id,
            settings=fsm.Settings(tests=22, duration=300, countdown=3, grace=20), rated=True,
        )  # fmt: skip
        await session.commit()
    async with db.session() as session:
        for kind, user, at in (("join", a.id, 0), ("join", b.id, 1), ("ready", a.id, 2),
                               ("ready", b.id, 3)):  # fmt: skip
            await battles.apply(session, row.id, {"type": kind, "user": user}, at)
    return row.id, a.id, b.id


async def test_a_game_is_an_ordered_log(db: Database, tmp_path: Path) -> None:
    match_id, a, b = await new_match(db, tmp_path)
    async with db.session() as session:
        assert await battles.due(session, 5.9) == []
        assert await battles.due(session, 6.0) == [match_id]  # the countdown ends
        started = await battles.apply(session, match_id, None, 6.0)
        assert [e.type for e in started] == ["started"]
        await battles.apply(session, match_id, {"type": "result", "user": b, "passed": 10}, 50)
        done = await battles.apply(session, match_id, {"type": "result", "user": a,
                                                       "passed": 22}, 60)  # fmt: skip
        assert [e.type for e in done] == ["result", "finished"]
        # Rated once fair play has assessed the game (or held on a high flag).
        assert await battles.pending_ratings(session) == [match_id]
        rated = await battles.settle_rating(session, match_id, hold=False, now=61.0)
        assert [e.type for e in rated] == ["rated"]
        assert await battles.settle_rating(session, match_id, hold=True, now=62.0) == []
        assert await battles.pending_ratings(session) == []
        log = await battles.events_since(session, match_id, 0)
        assert [e.seq for e in log] == list(range(1, len(log) + 1))  # no gaps, no repeats
        assert [e.type for e in await battles.events_since(session, match_id, log[-4].seq)] == [
            "result", "finished", "rated",
        ]  # fmt: skip
        assert log[-2].data == {"winner": a, "reason": "solved"}
        # The rating change, with its reason, as one more event.
        changes = {c["user"]: c for c in log[-1].data["changes"]}
        assert changes[a]["reason"] == "won" and changes[a]["delta"] > 0
        assert changes[b]["reason"] == "lost" and changes[b]["after"] < changes[a]["after"]
        assert (await progress.standings(session, [a]))[a].display == changes[a]["after"]
        with pytest.raises(fsm.IllegalEvent):
            await battles.apply(session, match_id, {"type": "give_up", "user": b}, 61)
        assert len(await battles.events_since(session, match_id, 0)) == len(log)  # unchanged


async def test_the_time_limit_is_enforced_without_any_client(db: Database, tmp_path: Path) -> None:
    match_id, a, b = await new_match(db, tmp_path)
    async with db.session() as session:
        await battles.apply(session, match_id, None, 6.0)
        await battles.apply(session, match_id, {"type": "result", "user": b, "passed": 3}, 100)
        assert await battles.due(session, 305.9) == []
        assert await battles.due(session, 306.0) == [match_id]
        happened = await battles.apply(session, match_id, None, 306.0)
        assert happened[-1].data == {"winner": b, "reason": "time"}
        held = await battles.settle_rating(session, match_id, hold=True, now=307.0)
        assert [e.type for e in held] == ["rating_held"]
        assert await battles.settle_rating(session, match_id, hold=False, now=308.0) == []
        assert await progress.history(session, a) == []  # nothing rated while held


async def test_simultaneous_final_results_make_exactly_one_winner(
    db: Database, tmp_path: Path
) -> None:
    match_id, a, b = await new_match(db, tmp_path)
    async with db.session() as session:
        await battles.apply(session, match_id, None, 6.0)

    async def finish(user: int) -> str:
        async with db.session() as session:
            try:
                await battles.apply(session, match_id, {"type": "result", "user": user,
                                                        "passed": 22}, 100.0)  # fmt: skip
            except fsm.IllegalEvent as exc:
                return exc.code
            return "won"

    outcomes = await asyncio.gather(finish(a), finish(b))
    assert sorted(outcomes) == ["match_not_running", "won"]
    async with db.session() as session:
        finished = list(
            await session.scalars(
                select(MatchEvent).where(
                    MatchEvent.match_id == match_id, MatchEvent.type == "finished"
                )  # fmt: skip
            )
        )
    assert len(finished) == 1
    winner = finished[0].data["winner"]
    assert winner == (a if outcomes[0] == "won" else b)


async def test_a_players_games_are_found_however_many_others_follow(
    db: Database, tmp_path: Path
) -> None:
    match_id, a, b = await new_match(db, tmp_path)
    async with db.session() as session:
        others = [await accounts.sign_in_nickname(session, f"p{i}", "en") for i in range(2)]
        version = await battles.pick_problem(session, random.Random(1))
        settings = battles.MatchSettings(duration=60, countdown=1, grace=5)
        for _ in range(120):  # later games of other players
            await battles.start(session, version, settings, mode="ranked", rated=True,
                                players=[(others[0].id, False), (others[1].id, False)])  # fmt: skip
        await session.commit()
        assert [m.id for m in await battles.recent_matches(session, user_id=a)] == [match_id]
        assert await battles.active_match_of(session, b) == match_id
        assert await battles.active_match_of(session, others[0].id) is not None


async def test_a_verdict_judged_after_the_deadline_still_decides(
    db: Database, tmp_path: Path
) -> None:
    match_id, a, b = await new_match(db, tmp_path)  # running from 6.0, ends at 306.0
    async with db.session() as session:
        await battles.apply(session, match_id, None, 6.0)
        await battles.match_target(session, match_id, a, now=305.9)
        with pytest.raises(UserError) as refused:  # the sweeper has not run: still refused
            await battles.match_target(session, match_id, a, now=306.0)
        assert (refused.value.status, refused.value.key) == (409, "match_not_running")
        await battles.apply(session, match_id, {"type": "result", "user": b, "passed": 21}, 50)
        made = {"type": "submitted", "user": a, "submission": 7, "made_at": 305.0}
        await battles.apply(session, match_id, made, 305.0)
        waiting = await battles.apply(session, match_id, None, 306.0)
        assert [e.type for e in waiting] == ["awaiting_verdicts"]
        assert await battles.due(session, 365.9) == []  # the bound is the next deadline
        assert await battles.due(session, 366.0) == [match_id]
        solved = {"type": "result", "user": a, "passed": 22, "submission": 7, "made_at": 305.0}
        done = await battles.apply(session, match_id, solved, 320.0)
        assert [e.type for e in done] == ["result", "finished"]
        assert done[1].data == {"winner": a, "reason": "solved"}
        assert await battles.due(session, 1000.0) == []
