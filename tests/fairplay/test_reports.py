"""Players' reports of an opponent (fairplay.reports.file_report), on SQLite and PostgreSQL:
a report of a finished game's human opponent is stored with its flag (source "report",
level "review", the reporter's words); only players may report, only after the game, never
the AI; the reason is one of the list and the words at most 1000 characters; one report per
reporter and game, also when two arrive at once; at most REPORTS_PER_DAY a day."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.battles import fsm
from codebattle.battles import service as battles
from codebattle.db.session import Database
from codebattle.errors import UserError
from codebattle.fairplay import reports
from codebattle.fairplay.models import Flag, PlayerReport
from codebattle.models import MatchRow, ProblemVersion, User
from codebattle.ratelimit import MemoryRateLimiter
from codebattle.storage import LocalBlobStore
from tests.support.factories import GAME, make_match, make_problem_version, make_user


async def _version(session: AsyncSession, tmp_path: Path) -> ProblemVersion:
    return await make_problem_version(session, LocalBlobStore(tmp_path / "blobs"))


async def _finished(session: AsyncSession, version: ProblemVersion, *players: User) -> int:
    match = await make_match(session, version, list(players))
    match.state = fsm.State.finished
    await session.commit()
    return match.id


async def _report(
    session: AsyncSession, reporter: User, match_id: int, reason: str = "copied",
    text: str | None = None, per_day: int = 10,
) -> reports.Filed:  # fmt: skip
    return await reports.file_report(
        session, None, reporter, match_id, reason, text, per_day=per_day
    )


async def test_a_report_is_stored_with_its_flag(db: Database, tmp_path: Path) -> None:
    async with db.session() as session:
        version = await _version(session, tmp_path)
        ann, bob = await make_user(session), await make_user(session)
        match_id = await _finished(session, version, ann, bob)
        filed = await _report(session, ann, match_id, "outside_help", "  He had a second\nscreen  ")
    async with db.session() as session:
        report = await session.get(PlayerReport, filed.report.id)
        assert report is not None
        assert (report.reporter_id, report.reported_id) == (ann.id, bob.id)
        assert report.match_id == match_id
        assert report.reason == "outside_help"
        assert report.text == "He had a second\nscreen"  # stripped, its line kept
        flag = await session.scalar(select(Flag).where(Flag.report_id == report.id))
        assert flag is not None
        assert flag.key == f"report:{report.id}"
        assert (flag.source, flag.level, flag.status) == ("report", "review", "open")
        assert (flag.user_id, flag.match_id) == (bob.id, match_id)
        assert flag.reasons[0]["signal"] == "reports"
        assert flag.reasons[0]["params"] == {"count": 1}
        assert 0 < flag.score < 0.4  # a report alone never reaches a review by risk score
        assert await reports.has_reported(session, ann.id, match_id)
        assert not await reports.has_reported(session, bob.id, match_id)


async def test_who_may_report_and_when(db: Database, tmp_path: Path) -> None:
    async with db.session() as session:
        version = await _version(session, tmp_path)
        ann = await make_user(session)
        bob = await make_user(session)
        eve = await make_user(session)
        match_id = await _finished(session, version, ann, bob)
        running = await make_match(session, version, [ann, bob])
        await session.commit()
        with pytest.raises(UserError) as outsider:
            await _report(session, eve, match_id)
        assert (outsider.value.status, outsider.value.key) == (403, "report_players_only")
        with pytest.raises(UserError) as early:
            await _report(session, ann, running.id)
        assert (early.value.status, early.value.key) == (409, "report_after_game")
        with pytest.raises(UserError) as unknown:
            await _report(session, ann, 999_999)
        assert unknown.value.status == 404
        # The AI opponent cannot be reported (it plays reference solutions, labelled).
        robot = await make_user(session)
        robot.is_ai = True
        ai_match = await battles.create(
            session, mode="ai", problem_id=version.problem_id, problem_version_id=version.id,
            settings=GAME, rated=False, players=[(ann.id, False), (robot.id, True)],
        )  # fmt: skip
        ai_match.state = fsm.State.finished
        await session.commit()
        with pytest.raises(UserError) as ai:
            await _report(session, ann, ai_match.id)
        assert (ai.value.status, ai.value.key) == (422, "report_ai_opponent")
        assert await session.scalar(select(func.count()).select_from(PlayerReport)) == 0


async def test_reason_and_words_are_checked(db: Database, tmp_path: Path) -> None:
    async with db.session() as session:
        version = await _version(session, tmp_path)
        ann, bob = await make_user(session), await make_user(session)
        match_id = await _finished(session, version, ann, bob)
        with pytest.raises(UserError) as bad_reason:
            await _report(session, ann, match_id, "cheating")
        assert (bad_reason.value.status, bad_reason.value.key) == (422, "report_reason_invalid")
        with pytest.raises(UserError) as long:
            await _report(session, ann, match_id, "other", "x" * 1001)
        assert (long.value.status, long.value.key) == (422, "report_text_too_long")
        # 1000 characters after stripping pass; control characters go.
        filed = await _report(session, ann, match_id, "other", " " + "y" * 999 + "\x00z\u202e ")
        assert filed.report.text == "y" * 999 + "z"
        again = await _report(session, bob, match_id, "abuse")  # the other player may too
        assert again.report.text == ""
        assert again.flag.user_id == ann.id


async def test_one_report_per_reporter_and_game(db: Database, tmp_path: Path) -> None:
    async with db.session() as session:
        version = await _version(session, tmp_path)
        ann, bob = await make_user(session), await make_user(session)
        match_id = await _finished(session, version, ann, bob)
        await _report(session, ann, match_id)
        with pytest.raises(UserError) as second:
            await _report(session, ann, match_id, "abuse")
        assert (second.value.status, second.value.key) == (409, "already_reported")


async def test_two_reports_at_once_store_one(db: Database, tmp_path: Path) -> None:
    async with db.session() as session:
        version = await _version(session, tmp_path)
        ann, bob = await make_user(session), await make_user(session)
        match_id = await _finished(session, version, ann, bob)

    async def one() -> str:
        async with db.session() as session:
            reporter = await session.get(User, ann.id)
            assert reporter is not None
            try:
                await _report(session, reporter, match_id)
            except UserError as error:
                return error.key
            return "stored"

    results = await asyncio.gather(*(one() for _ in range(4)))
    assert sorted(results) == ["already_reported"] * 3 + ["stored"]
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(PlayerReport)) == 1
        assert await session.scalar(select(func.count()).select_from(Flag)) == 1


async def test_reports_a_day_are_capped(db: Database, tmp_path: Path) -> None:
    async with db.session() as session:
        version = await _version(session, tmp_path)
        ann, bob = await make_user(session), await make_user(session)
        games = [await _finished(session, version, ann, bob) for _ in range(4)]
        now = datetime.now(UTC)
        # One report 25 hours ago no longer counts.
        await reports.file_report(
            session, None, ann, games[0], "copied", None, per_day=2, now=now - timedelta(hours=25)
        )
        await reports.file_report(
            session, None, ann, games[1], "copied", None, per_day=2, now=now - timedelta(hours=3)
        )
        await reports.file_report(session, None, ann, games[2], "copied", None, per_day=2, now=now)
        with pytest.raises(UserError) as capped:
            await reports.file_report(
                session, None, ann, games[3], "copied", None, per_day=2, now=now
            )
        assert (capped.value.status, capped.value.key) == (429, "reports_per_day")
        assert capped.value.params["hours"] == 21  # when the one of 3 hours ago ages out
        assert capped.value.headers["Retry-After"] == str(21 * 3600)
        # Bob's own reports are counted apart.
        await reports.file_report(session, None, bob, games[3], "abuse", None, per_day=2, now=now)


async def test_attempts_are_rate_limited(db: Database, tmp_path: Path) -> None:
    limiter = MemoryRateLimiter()
    async with db.session() as session:
        version = await _version(session, tmp_path)
        ann, bob = await make_user(session), await make_user(session)
        match_id = await _finished(session, version, ann, bob)
        for _ in range(2):
            with pytest.raises(UserError) as refused:
                await reports.file_report(session, limiter, ann, match_id, "bad", None, per_day=2)
            assert refused.value.key == "report_reason_invalid"
        with pytest.raises(UserError) as limited:
            await reports.file_report(session, limiter, ann, match_id, "copied", None, per_day=2)
        assert (limited.value.status, limited.value.key) == (429, "report_rate_limited")
        assert await session.scalar(select(func.count()).select_from(MatchRow)) == 1
