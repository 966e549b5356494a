"""The season-end job (rewards/season_end.py) on SQLite and PostgreSQL: a season over is
archived once (placement players left out, ranked by display, games, then id) and never
recomputed; its tier points are granted once per player even when the job runs twice,
concurrently, or after a crash midway; rewarded_at marks it done."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from codebattle.db.session import Database
from codebattle.progress import earning, points, seasons
from codebattle.progress.models import PointTransaction, Season, SeasonRating, SeasonStanding
from codebattle.progress.seasons import SeasonRules
from codebattle.progress.tiers import by_code
from codebattle.rewards import season_end
from tests.support.factories import make_user

RULES = SeasonRules(days=7, reset_keep=0.5, placement_games=3, timezone="Asia/Seoul")
T0 = datetime(2026, 3, 4, 20, 30, tzinfo=UTC)
# name -> (display, games): carol and dave tie on display, dave played more; eve is placing
PLAYERS = {
    "ann": (2150, 12),
    "bob": (1350, 5),
    "carol": (1520, 4),
    "dave": (1520, 9),
    "eve": (2500, 2),
}


async def _setup(db: Database) -> tuple[Season, dict[str, int]]:
    async with db.session() as session:
        season = await seasons.current(session, T0, RULES)
        ids = {}
        for name, (display, games) in PLAYERS.items():
            user = await make_user(session, name)
            ids[name] = user.id
            session.add(
                SeasonRating(
                    season_id=season.id,
                    user_id=user.id,
                    mu=25.0,
                    sigma=5.0,
                    display=display,
                    games=games,
                    languages={"python": games},
                )  # fmt: skip
            )
        await session.commit()
        return season, ids


async def _table(db: Database, season_id: int) -> list[tuple[int, int, int, str]]:
    async with db.reading() as session:
        rows = await session.scalars(
            select(SeasonStanding)
            .where(SeasonStanding.season_id == season_id)
            .order_by(SeasonStanding.rank)
        )
        return [(r.rank, r.user_id, r.display, r.tier) for r in rows]


async def _grants(db: Database) -> list[str]:
    async with db.reading() as session:
        return sorted(
            await session.scalars(
                select(PointTransaction.key).where(PointTransaction.reason == "season")
            )
        )


async def test_a_season_over_is_archived_once_and_rewarded_once(db: Database) -> None:
    season, ids = await _setup(db)
    assert await season_end.run_once(db, RULES, T0 + timedelta(days=3)) == 0  # not over
    assert await _table(db, season.id) == []
    just_over = season.ends_at + timedelta(minutes=1)  # games of its last minutes settle
    assert await season_end.run_once(db, RULES, just_over) == 0
    after = season.ends_at + season_end.SETTLE_GRACE
    assert await season_end.run_once(db, RULES, after) == 1
    table = await _table(db, season.id)
    assert table == [
        (1, ids["ann"], 2150, "grandmaster"),
        (2, ids["dave"], 1520, "expert"),
        (3, ids["carol"], 1520, "expert"),
        (4, ids["bob"], 1350, "specialist"),
    ]  # eve (placement) left out
    async with db.reading() as session:
        done = await session.get(Season, season.id)
        assert done is not None and done.archived_at == after and done.rewarded_at == after
        assert (await seasons.current(session, after, RULES)).number == 2  # the next began
        balances = {n: await points.balance(session, ids[n]) for n in ids}
    tiers = {"ann": "grandmaster", "dave": "expert", "carol": "expert", "bob": "specialist"}
    due = {n: getattr(by_code(t), "season_points", -1) for n, t in tiers.items()}
    assert balances == {**due, "eve": 0}
    # later changes leave the table as it is; a second run grants nothing
    async with db.session() as session:
        row = await session.get(SeasonRating, (season.id, ids["bob"]))
        assert row is not None
        row.display, row.games = 3000, 40
        await session.commit()
    assert await season_end.run_once(db, RULES, after + timedelta(hours=1)) == 0
    assert await season_end.archive(db, season.id, RULES, after) is False
    assert await _table(db, season.id) == table
    assert len(await _grants(db)) == 4


async def test_rewards_are_granted_once_after_a_crash_midway_and_by_racing_runs(
    db: Database,
) -> None:
    season, ids = await _setup(db)
    after = season.ends_at + season_end.SETTLE_GRACE
    assert await season_end.archive(db, season.id, RULES, after) is True
    async with db.session() as session:  # the run that crashed had granted ann's only
        await earning.grant(
            session, ids["ann"], key=f"season:1:{ids['ann']}", reason="season", amount=1000,
            now=after,
        )  # fmt: skip
        await session.commit()
    runs = await asyncio.gather(*(season_end.run_once(db, RULES, after) for _ in range(2)))
    assert sum(runs) >= 1
    keys = await _grants(db)
    assert keys == sorted(f"season:1:{ids[n]}" for n in ("ann", "bob", "carol", "dave"))
    async with db.reading() as session:
        assert await points.balance(session, ids["ann"]) == 1000
        count = await session.scalar(
            select(func.count()).select_from(SeasonStanding)
            .where(SeasonStanding.season_id == season.id)
        )  # fmt: skip
        assert count == 4
        done = await session.get(Season, season.id)
        assert done is not None and done.rewarded_at is not None


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_banned_player_is_left_out_of_the_final_table(db: Database) -> None:
    season, ids = await _setup(db)
    async with db.session() as session:
        from codebattle.accounts.models import User

        user = await session.get(User, ids["ann"])
        assert user is not None
        user.banned_at = T0
        await session.commit()
    await season_end.run_once(db, RULES, season.ends_at + season_end.SETTLE_GRACE)
    assert [line[1] for line in await _table(db, season.id)] == [
        ids["dave"], ids["carol"], ids["bob"],
    ]  # fmt: skip
