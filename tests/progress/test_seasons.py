"""Seasons (progress/seasons.py) on SQLite and PostgreSQL: consecutive seasons from local
midnight that roll over by themselves (made once when two ask together), a season rating
that starts from a soft reset of the all-time rating and moves with every all-time change
(games, voids, restorations: exactly), per-language counts, placement."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from codebattle.db.session import Database
from codebattle.problems.models import ProblemVersion
from codebattle.progress import seasons
from codebattle.progress import service as progress
from codebattle.progress.models import PlayerRating, Season, SeasonRating
from codebattle.progress.ratings import Rating
from codebattle.progress.seasons import SeasonRules, soft_reset
from codebattle.storage import LocalBlobStore
from codebattle.submissions.models import Submission
from tests.support.factories import make_match, make_submission, make_user

RULES = SeasonRules(days=7, reset_keep=0.5, placement_games=3, timezone="Asia/Seoul")
T0 = datetime(2026, 3, 4, 20, 30, tzinfo=UTC)  # 2026-03-05 05:30 in Seoul
START = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)  # 2026-03-05 00:00 in Seoul


async def _season(db: Database, now: datetime) -> Season:
    async with db.session() as session:
        found = await seasons.current(session, now, RULES)
        await session.commit()
        return found


async def _game(
    db: Database, version: ProblemVersion, winner: int, loser: int, at: datetime
) -> int:
    async with db.session() as session:
        match_id = (await make_match(session, version, [winner, loser], now=at.timestamp())).id
        await progress.rate_game(
            session, match_id, {winner: 1, loser: 2}, {winner: "won", loser: "lost"},
            at.timestamp(), season=RULES,
        )  # fmt: skip
        await session.commit()
        return match_id


async def _reverse(db: Database, match_id: int, at: datetime, *, undo: bool) -> None:
    async with db.session() as session:
        do = progress.void_game if undo else progress.restore_game
        await do(session, match_id, at.timestamp(), season=RULES)
        await session.commit()


async def _row(db: Database, number: int, user_id: int) -> SeasonRating | None:
    async with db.reading() as session:
        season = await seasons.by_number(session, number)
        assert season is not None
        return await session.get(SeasonRating, (season.id, user_id))


async def _all_time(db: Database, user_id: int) -> Rating:
    async with db.reading() as session:
        row = await session.get(PlayerRating, user_id)
        assert row is not None
        return Rating(row.mu, row.sigma)


async def _players(db: Database, *names: str, rated_games: int = 0) -> list[int]:
    async with db.session() as session:
        users = [await make_user(session, n, rated_games=rated_games) for n in names]
        await session.commit()
        return [u.id for u in users]


async def test_seasons_start_at_local_midnight_and_roll_over_by_themselves(db: Database) -> None:
    first = await _season(db, T0)
    assert (first.number, first.starts_at, first.ends_at) == (1, START, START + timedelta(days=7))
    assert (await _season(db, T0 + timedelta(days=3))).number == 1
    second = await _season(db, first.ends_at)  # the first instant of the next one
    assert (second.number, second.starts_at) == (2, first.ends_at)
    later = await _season(db, first.ends_at + timedelta(days=22))  # three seasons on
    assert later.number == 5 and later.starts_at == START + timedelta(days=28)
    async with db.reading() as session:
        rows = list(await session.scalars(select(Season).order_by(Season.number)))
    assert [s.number for s in rows] == [1, 2, 3, 4, 5]
    assert all(a.ends_at == b.starts_at for a, b in zip(rows, rows[1:], strict=False))
    assert (await _season(db, START - timedelta(days=30))).number == 1  # before: the first


async def test_two_asking_at_once_make_one_season(db: Database) -> None:
    made = await asyncio.gather(*(_season(db, T0) for _ in range(4)))
    assert {s.id for s in made} == {made[0].id} and made[0].number == 1
    async with db.reading() as session:
        assert len(list(await session.scalars(select(Season)))) == 1


async def test_a_season_rating_starts_from_a_soft_reset_and_moves_with_the_all_time_one(
    db: Database, version: ProblemVersion
) -> None:
    veteran, fresh = await _players(db, "veteran", "fresh")
    async with db.session() as session:  # an established all-time rating
        session.add(PlayerRating(user_id=veteran, mu=34.0, sigma=4.0, display=1880, games=40))
        await session.commit()
    before = Rating(34.0, 4.0)
    await _game(db, version, veteran, fresh, T0)
    after = await _all_time(db, veteran)
    row = await _row(db, 1, veteran)
    assert row is not None and row.games == 1
    reset = soft_reset(before, 0.5)
    assert reset.mu == pytest.approx(25 + 9 * 0.5) and reset.sigma == pytest.approx(
        4 + (25 / 3 - 4) * 0.5
    )
    assert row.mu == pytest.approx(reset.mu + (after.mu - before.mu), abs=1e-12)
    assert row.sigma == pytest.approx(reset.sigma + (after.sigma - before.sigma), abs=1e-12)
    assert row.display < after.display  # pulled towards a new player's
    new = await _row(db, 1, fresh)  # a new player's reset is their own rating
    assert new is not None
    assert (new.mu, new.sigma) == pytest.approx(tuple(vars(await _all_time(db, fresh)).values()))
    # a second game moves both by the same amount
    await _game(db, version, fresh, veteran, T0 + timedelta(hours=1))
    again, now = await _row(db, 1, veteran), await _all_time(db, veteran)
    assert again is not None and again.games == 2
    assert again.mu - row.mu == pytest.approx(now.mu - after.mu, abs=1e-12)
    assert again.sigma - row.sigma == pytest.approx(now.sigma - after.sigma, abs=1e-12)


async def test_void_and_restore_move_the_season_rating_exactly(
    db: Database, version: ProblemVersion
) -> None:
    ann, bob = await _players(db, "ann", "bob")  # a history from their first game
    await _game(db, version, ann, bob, T0)
    game = await _game(db, version, ann, bob, T0 + timedelta(hours=1))
    kept = await _row(db, 1, ann)
    assert kept is not None
    held = (kept.mu, kept.sigma, kept.display, kept.games)
    all_before = await _all_time(db, ann)
    await _reverse(db, game, T0 + timedelta(hours=2), undo=True)
    voided, all_voided = await _row(db, 1, ann), await _all_time(db, ann)
    assert voided is not None and voided.games == 1
    assert voided.mu - held[0] == pytest.approx(all_voided.mu - all_before.mu, abs=1e-12)
    assert voided.sigma - held[1] == pytest.approx(all_voided.sigma - all_before.sigma, abs=1e-12)
    assert voided.mu < held[0]
    await _reverse(db, game, T0 + timedelta(hours=3), undo=False)
    back = await _row(db, 1, ann)
    assert back is not None and (back.mu, back.sigma, back.display, back.games) == held  # ==


async def test_a_void_of_last_seasons_game_moves_this_seasons_rating_not_its_games(
    db: Database, version: ProblemVersion
) -> None:
    ann, bob = await _players(db, "ann", "bob", rated_games=10)
    old = await _game(db, version, ann, bob, T0)
    next_week = T0 + timedelta(days=7)
    await _game(db, version, ann, bob, next_week)
    two = await _row(db, 2, ann)
    assert two is not None and two.games == 1
    all_before = await _all_time(db, ann)
    await _reverse(db, old, next_week + timedelta(hours=1), undo=True)
    moved, all_after = await _row(db, 2, ann), await _all_time(db, ann)
    assert moved is not None and moved.games == 1
    assert moved.mu - two.mu == pytest.approx(all_after.mu - all_before.mu, abs=1e-12)
    first = await _row(db, 1, ann)
    assert first is not None and first.games == 1  # last season's row is left as it was


async def test_languages_are_counted_and_placement_lasts_three_games(
    db: Database, version: ProblemVersion, tmp_path: Path
) -> None:
    ann, bob = await _players(db, "ann", "bob")
    blobs = LocalBlobStore(tmp_path / "blobs")
    for hour in range(3):
        at = T0 + timedelta(hours=hour)
        async with db.session() as session:
            match_id = (await make_match(session, version, [ann, bob], now=at.timestamp())).id
            await session.commit()
            for uid, lang in ((ann, "cpp"), (bob, "python")):
                user = await make_user_by_id(session, uid)
                sub = await make_submission(session, blobs, user, language=lang)
                (await session.get(Submission, sub.id)).match_id = match_id  # type: ignore[union-attr]
                await session.commit()
            await progress.rate_game(
                session, match_id, {ann: 1, bob: 2}, {ann: "won", bob: "lost"},
                at.timestamp(), season=RULES,
            )  # fmt: skip
            await session.commit()
        row = await _row(db, 1, ann)
        assert row is not None and row.languages == {"cpp": hour + 1}
        assert seasons.placement(row.games, RULES) is (hour < 2)
    bob_row = await _row(db, 1, bob)
    assert bob_row is not None and bob_row.languages == {"python": 3}


async def make_user_by_id(session, uid):  # type: ignore[no-untyped-def]
    from codebattle.accounts.models import User

    return await session.get(User, uid)
